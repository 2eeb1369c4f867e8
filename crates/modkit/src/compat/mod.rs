//! The C-library wing: behaviour of glibc that modkit must reproduce
//! exactly, because the tools it replaces call glibc and their output,
//! exit codes and accepted inputs follow from it.
//!
//! Each file opens with the glibc behaviour it reproduces, why no crate or
//! libc call serves (a crate follows its own rules, not glibc's quirks; a
//! libc call would tie the library to the host's C library and, for time
//! zones, to process-global state), and its budgets: every input is
//! bounded in recursion depth and work, and an input over budget is a
//! clear error (as glibc's `REG_ESPACE` is), never a crash or a hang.
//!
//! - [`strtol`] — `strtol(3)`/`strtoul(3)` in the C locale.
//! - [`cstr`] — C strings in byte buffers (up to the first NUL).
//! - [`ctype`] — the C locale's `isspace`, `isdigit`, ... classes.
//! - [`ere`] — `regcomp(REG_EXTENDED)`/`regexec`: POSIX extended regular
//!   expressions with back-references, as depmod matches kernel versions.
//! - [`fnmatch`] — glibc's `fnmatch(3)` with the flags kmod passes (none),
//!   as modprobe.d and the indexes match module names and aliases.
//! - [`locale`] — the user's locale's character classes (`iswprint`), asked of
//!   the C library itself: the one exception, as the answer is the machine's
//!   locale data.
//! - [`tz`] — `tzset`, TZif files, POSIX `TZ` strings, `localtime`,
//!   `mktime`, as dmesg prints and parses dates.

pub mod cstr;
pub mod ctype;
pub mod ere;
pub mod fnmatch;
pub mod locale;
pub mod strtol;
pub mod tz;
