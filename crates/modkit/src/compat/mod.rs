//! Emulations of C-library behaviour that kmod's and util-linux's output
//! depends on, each in its own file with why no crate or libc call serves.
//!
//! - [`fnmatch`] — glibc's `fnmatch(3)` with the flags kmod passes (none).

pub mod fnmatch;
