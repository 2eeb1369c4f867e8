//! Command-line option parsing exactly as glibc's `getopt_long` (glibc
//! 2.26 to 2.41), which kmod 34's tools and util-linux 2.41's dmesg call:
//! the C tools' behaviour, every quirk included, is the specification.
//!
//! What it reproduces: argument permutation (glibc's `exchange`, so the
//! operands come back in glibc's order and `optind` ends where glibc's
//! does), `--`, clusters (`-an`), attached and separate arguments,
//! optional arguments (`L::` only attached, `--color[=WHEN]` only with
//! `=`), unique abbreviations of long options, glibc's ambiguity rule
//! (candidates equal in `has_arg` and `val` are one option, so depmod's
//! `--mo` is `--moduledir`; otherwise `option '--s' is ambiguous;
//! possibilities: ...`), each error message byte for byte with `argv[0]`
//! as its prefix, `optopt`, the `+` and `-` optstring prefixes,
//! `POSIXLY_CORRECT`, the `:` prefix and `opterr` that silence errors, and
//! `getopt()` itself (no long table: `--x` is a cluster). Left out, because
//! no tool uses them: `getopt_long_only`, the `flag` pointer of
//! `struct option`, and the `-W foo` of a `W;` optstring.
//!
//! Checked against glibc by the goldens in `tests/golden/getopt/`: the C
//! program there runs each case through the real `getopt_long` with the
//! tools' own option tables, and `getopt/tests.rs` runs them here.
//!
//! Why no crate: clap, getopts, lexopt and pico-args each have their own
//! conventions (messages, no glibc abbreviation rule or permutation); the
//! `getopt-long` crate calls the C function. Why not the C function
//! through `libc`: the `libc` crate declares `getopt_long` and
//! `struct option` for Linux but not the globals it answers through
//! (`optarg`, `optind`, `optopt`, `opterr`); it permutes a `char **` of
//! NUL-terminated copies in place and keeps its position in hidden static
//! state that only `optind = 0` resets, so a parse is process-global and
//! every call `unsafe` (this crate forbids `unsafe`; the library, where
//! `sys.rs` holds it, knows nothing of command lines); it prints its
//! errors itself instead of returning them; and it would be whatever C
//! library the binary runs on, not the reference's: a musl build prints
//! `unrecognized option: z` where glibc prints `invalid option -- 'z'`.
//!
//! The messages are glibc's untranslated ones. kmod never calls
//! `setlocale`, so it prints them too; util-linux's dmesg does, so under a
//! locale whose libc translations are installed its getopt messages are
//! translated and modkit's are not.
//!
//! # Usage
//!
//! ```ignore
//! const LONG: &[LongOpt] = &[LongOpt::new("field", HasArg::Required, 'F' as i32)];
//! let mut opts = Getopt::new(argv, "F:h", LONG);
//! for opt in opts.by_ref() {
//!     match opt {
//!         Ok(opt) => { /* opt.val, opt.arg, opt.long_index */ }
//!         Err(e) => { e.report(); return 1; } // "ARGV0: message\n" as glibc
//!     }
//! }
//! let operands = opts.remaining(); // in glibc's permuted order
//! ```
//!
//! # Ordering
//!
//! As glibc: a leading `+` in the optstring (or `POSIXLY_CORRECT` in the
//! environment) stops at the first operand; a leading `-` returns operands
//! in order as [`Opt`]s with `val` [`NONOPTION`]; otherwise operands are
//! permuted after the options. kmod's tools use permuting optstrings, except
//! the top-level `kmod` command (`"+hV"`). util-linux's dmesg permutes.
//!
//! # Errors
//!
//! Where glibc prints `ARGV0: message` and returns `'?'` (or `':'`), the
//! iterator yields a [`GetoptError`] holding the message without the prefix
//! (and iteration may continue, as with glibc). Note that glibc prefixes
//! with `argv[0]` verbatim (`/usr/sbin/modinfo: invalid option -- 'z'`), not
//! with `program_invocation_short_name`; [`GetoptError::report`] does that.
//! An optstring starting with `:` (after any `+`/`-`) or [`Getopt::opterr`]
//! set to false makes errors silent ([`GetoptError::silent`]); with `:` a
//! missing argument is reported with code `':'` instead of `'?'`.

use std::ffi::{OsStr, OsString};
use std::fmt;
use std::io::Write;
use std::os::unix::ffi::{OsStrExt, OsStringExt};

/// Whether a long option takes an argument (`struct option`'s `has_arg`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HasArg {
    /// `no_argument`: `--name`; `--name=value` is an error.
    No,
    /// `required_argument`: `--name=value` or `--name value`.
    Required,
    /// `optional_argument`: `--name` or `--name=value` (never separate).
    Optional,
}

/// One entry of the long option table (`struct option` with a NULL `flag`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LongOpt {
    /// The name, without the leading `--`.
    pub name: &'static str,
    /// Whether it takes an argument.
    pub has_arg: HasArg,
    /// What is returned: a short option character as `i32`, or an id
    /// (util-linux uses ids from 128 = `CHAR_MAX + 1` up).
    pub val: i32,
}

impl LongOpt {
    /// A table entry.
    pub const fn new(name: &'static str, has_arg: HasArg, val: i32) -> Self {
        LongOpt { name, has_arg, val }
    }
}

/// The `val` of operands returned in order by a `-` optstring.
#[allow(dead_code)]
pub const NONOPTION: i32 = 1;

/// An option found (what `getopt_long` returns with `optarg`, `*longindex`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Opt {
    /// The option character, the long option's `val`, or [`NONOPTION`].
    pub val: i32,
    /// `optarg`: the argument, if any (may be empty: `--field=`).
    pub arg: Option<OsString>,
    /// Index in the long option table when given as a long option.
    pub long_index: Option<usize>,
}

/// Which error glibc reported.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorKind {
    /// `invalid option -- 'c'`
    InvalidOption,
    /// `option requires an argument -- 'c'`
    MissingShortArgument,
    /// `unrecognized option '--name'`
    UnrecognizedOption,
    /// `option '--na' is ambiguous; possibilities: '--name' '--nap'`
    AmbiguousOption,
    /// `option '--name' requires an argument`
    MissingLongArgument,
    /// `option '--name' doesn't allow an argument`
    UnexpectedArgument,
}

/// An error message as bytes (arguments need not be UTF-8); `Display`
/// replaces invalid UTF-8 lossily.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Message(Vec<u8>);

impl Message {
    /// The exact bytes glibc prints (without prefix and newline).
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }
}

impl fmt::Display for Message {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&String::from_utf8_lossy(&self.0))
    }
}

impl PartialEq<str> for Message {
    fn eq(&self, other: &str) -> bool {
        self.0 == other.as_bytes()
    }
}

impl PartialEq<&str> for Message {
    fn eq(&self, other: &&str) -> bool {
        self.0 == other.as_bytes()
    }
}

/// A parse error: glibc printed `argv[0]: message` (unless silent) and
/// returned `code`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GetoptError {
    /// What went wrong.
    pub kind: ErrorKind,
    /// What `getopt_long` returns: `b'?'`, or `b':'` for a missing argument
    /// when the optstring starts with `:`.
    pub code: u8,
    /// glibc's `optopt`: the option character (as a C `char`, so bytes
    /// from 0x80 up are negative), the long option's `val`, or 0 for
    /// unrecognized and ambiguous long options.
    pub optopt: i32,
    /// The message, without the `argv[0]: ` prefix and the newline.
    pub message: Message,
    /// True when glibc prints nothing (`opterr == 0`, or `:` optstring).
    pub silent: bool,
    /// `argv[0]`, glibc's prefix.
    argv0: OsString,
}

#[allow(dead_code)]
impl GetoptError {
    /// The line glibc prints, `argv[0]: message\n` (empty when silent).
    pub fn full_message(&self) -> Vec<u8> {
        if self.silent {
            return Vec::new();
        }
        let mut line = self.argv0.as_bytes().to_vec();
        line.extend_from_slice(b": ");
        line.extend_from_slice(self.message.as_bytes());
        line.push(b'\n');
        line
    }

    /// Print the message to stderr exactly as glibc does (nothing when
    /// silent).
    pub fn report(&self) {
        let line = self.full_message();
        if !line.is_empty() {
            let _ = std::io::stderr().lock().write_all(&line);
        }
    }
}

impl fmt::Display for GetoptError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.message.fmt(f)
    }
}

impl std::error::Error for GetoptError {}

/// `program_invocation_short_name`: what follows the last `/` of `argv[0]`.
pub fn program_name(argv0: &OsStr) -> String {
    let bytes = argv0.as_bytes();
    let base = match bytes.iter().rposition(|&b| b == b'/') {
        Some(slash) => &bytes[slash + 1..],
        None => bytes,
    };
    String::from_utf8_lossy(base).into_owned()
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Ordering {
    RequireOrder,
    Permute,
    ReturnInOrder,
}

/// glibc's `getopt_long` state over an owned `argv` (which it permutes).
#[derive(Debug)]
pub struct Getopt<'a> {
    argv: Vec<OsString>,
    /// The optstring without its leading `+`/`-` (as glibc's `optstring`
    /// after `_getopt_initialize`); may start with `:`.
    optstring: &'a [u8],
    /// The leading `+` or `-`, if any.
    mode: Option<u8>,
    longopts: Option<&'a [LongOpt]>,
    posixly_correct: bool,
    opterr: bool,
    optind: usize,
    /// `__nextchar`: (index in argv, byte offset) of the next short option
    /// character of a cluster; `None` for NULL.
    nextchar: Option<(usize, usize)>,
    first_nonopt: usize,
    last_nonopt: usize,
    done: bool,
}

impl<'a> Getopt<'a> {
    /// `getopt_long(argc, argv, optstring, longopts, &longindex)` over
    /// `args` (`argv` including `argv[0]`); `POSIXLY_CORRECT` is read from
    /// the environment. The optstring must be ASCII.
    pub fn new(args: Vec<OsString>, optstring: &'a str, longopts: &'a [LongOpt]) -> Self {
        // glibc's `-W foo` (for a `W;` optstring) is not implemented.
        debug_assert!(!optstring.contains("W;"));
        let mut g = Self::new_short(args, optstring);
        g.longopts = Some(longopts);
        g
    }

    /// `getopt(argc, argv, optstring)`: no long options at all, so `--name`
    /// is a cluster of short options starting with `-` (unlike an empty
    /// long option table, where it is an unrecognized option).
    pub fn new_short(args: Vec<OsString>, optstring: &'a str) -> Self {
        debug_assert!(optstring.is_ascii());
        let bytes = optstring.as_bytes();
        let (mode, optstring) = match bytes.first() {
            Some(&c @ (b'+' | b'-')) => (Some(c), &bytes[1..]),
            _ => (None, bytes),
        };
        Getopt {
            argv: args,
            optstring,
            mode,
            longopts: None,
            posixly_correct: std::env::var_os("POSIXLY_CORRECT").is_some(),
            opterr: true,
            optind: 1,
            nextchar: None,
            first_nonopt: 1,
            last_nonopt: 1,
            done: false,
        }
    }

    /// Override whether `POSIXLY_CORRECT` is set (before parsing).
    #[allow(dead_code)]
    pub fn posixly_correct(mut self, on: bool) -> Self {
        self.posixly_correct = on;
        self
    }

    /// glibc's global `opterr`: false makes every error silent.
    #[allow(dead_code)]
    pub fn opterr(mut self, on: bool) -> Self {
        self.opterr = on;
        self
    }

    /// glibc's `optind`: after the end of options, the index of the first
    /// operand in [`Getopt::args`].
    #[allow(dead_code)]
    pub fn optind(&self) -> usize {
        self.optind
    }

    /// `argv` as permuted so far.
    #[allow(dead_code)]
    pub fn args(&self) -> &[OsString] {
        &self.argv
    }

    /// The operands, `argv[optind..]`, once the iterator has ended.
    pub fn remaining(mut self) -> Vec<OsString> {
        let start = self.optind.min(self.argv.len());
        self.argv.split_off(start)
    }

    fn ordering(&self) -> Ordering {
        match self.mode {
            Some(b'-') => Ordering::ReturnInOrder,
            Some(_) => Ordering::RequireOrder,
            None if self.posixly_correct => Ordering::RequireOrder,
            None => Ordering::Permute,
        }
    }

    fn print_errors(&self) -> bool {
        self.opterr && self.optstring.first() != Some(&b':')
    }

    fn colon(&self) -> bool {
        self.optstring.first() == Some(&b':')
    }

    /// `NONOPTION_P` for `argv[optind]`.
    fn nonoption(&self) -> bool {
        let a = self.argv[self.optind].as_bytes();
        a.first() != Some(&b'-') || a.len() == 1
    }

    /// glibc's `exchange`: swap the skipped operands
    /// `[first_nonopt, last_nonopt)` with the options
    /// `[last_nonopt, optind)` that followed them.
    fn exchange(&mut self) {
        let (bottom, middle, top) = (self.first_nonopt, self.last_nonopt, self.optind);
        self.argv[bottom..top].rotate_left(middle - bottom);
        self.first_nonopt += self.optind - self.last_nonopt;
        self.last_nonopt = self.optind;
    }

    fn error(&self, kind: ErrorKind, code: u8, optopt: i32, message: Vec<u8>) -> GetoptError {
        GetoptError {
            kind,
            code,
            optopt,
            message: Message(message),
            silent: !self.print_errors(),
            argv0: self.argv[0].clone(),
        }
    }

    /// `_getopt_internal_r`; `None` for -1.
    fn step(&mut self) -> Option<Result<Opt, GetoptError>> {
        let argc = self.argv.len();
        if argc < 1 {
            return None;
        }
        let at_element_end = match self.nextchar {
            None => true,
            Some((i, off)) => off >= self.argv[i].len(),
        };
        if at_element_end {
            // Advance to the next argv element.
            self.last_nonopt = self.last_nonopt.min(self.optind);
            self.first_nonopt = self.first_nonopt.min(self.optind);
            if self.ordering() == Ordering::Permute {
                if self.first_nonopt != self.last_nonopt && self.last_nonopt != self.optind {
                    self.exchange();
                } else if self.last_nonopt != self.optind {
                    self.first_nonopt = self.optind;
                }
                while self.optind < argc && self.nonoption() {
                    self.optind += 1;
                }
                self.last_nonopt = self.optind;
            }
            if self.optind != argc && self.argv[self.optind].as_bytes() == b"--" {
                self.optind += 1;
                if self.first_nonopt != self.last_nonopt && self.last_nonopt != self.optind {
                    self.exchange();
                } else if self.first_nonopt == self.last_nonopt {
                    self.first_nonopt = self.optind;
                }
                self.last_nonopt = argc;
                self.optind = argc;
            }
            if self.optind == argc {
                if self.first_nonopt != self.last_nonopt {
                    self.optind = self.first_nonopt;
                }
                return None;
            }
            if self.nonoption() {
                if self.ordering() == Ordering::RequireOrder {
                    return None;
                }
                let arg = self.argv[self.optind].clone();
                self.optind += 1;
                return Some(Ok(Opt {
                    val: NONOPTION,
                    arg: Some(arg),
                    long_index: None,
                }));
            }
            if let Some(longopts) = self.longopts {
                if self.argv[self.optind].as_bytes()[1] == b'-' {
                    self.nextchar = Some((self.optind, 2));
                    return Some(self.long_option(longopts));
                }
            }
            self.nextchar = Some((self.optind, 1));
        }
        Some(self.short_option())
    }

    /// The next character of a short option cluster.
    fn short_option(&mut self) -> Result<Opt, GetoptError> {
        let (i, off) = self.nextchar.expect("short option without nextchar");
        let element = self.argv[i].as_bytes();
        let c = element[off];
        let rest = &element[off + 1..];
        let rest_empty = rest.is_empty();
        let rest = OsString::from_vec(rest.to_vec());
        self.nextchar = Some((i, off + 1));
        if rest_empty {
            self.optind += 1;
        }
        // The C char glibc stores in optopt (signed on x86).
        let optopt = c as i8 as i32;
        let spec = self.optstring.iter().position(|&b| b == c);
        let spec = match spec {
            Some(pos) if c != b':' && c != b';' && c != 0 => &self.optstring[pos + 1..],
            _ => {
                let mut msg = b"invalid option -- '".to_vec();
                msg.push(c);
                msg.push(b'\'');
                return Err(self.error(ErrorKind::InvalidOption, b'?', optopt, msg));
            }
        };
        let mut opt = Opt {
            val: c as i32,
            arg: None,
            long_index: None,
        };
        if spec.first() == Some(&b':') {
            if spec.get(1) == Some(&b':') {
                // Optional argument: only when attached.
                if !rest_empty {
                    opt.arg = Some(rest);
                    self.optind += 1;
                }
            } else if !rest_empty {
                opt.arg = Some(rest);
                self.optind += 1;
            } else if self.optind == self.argv.len() {
                self.nextchar = None;
                let mut msg = b"option requires an argument -- '".to_vec();
                msg.push(c);
                msg.push(b'\'');
                let code = if self.colon() { b':' } else { b'?' };
                return Err(self.error(ErrorKind::MissingShortArgument, code, optopt, msg));
            } else {
                opt.arg = Some(self.argv[self.optind].clone());
                self.optind += 1;
            }
            self.nextchar = None;
        }
        Ok(opt)
    }

    /// `process_long_option` for `--name[=value]` at `argv[optind]`.
    fn long_option(&mut self, longopts: &[LongOpt]) -> Result<Opt, GetoptError> {
        let element = self.argv[self.optind].as_bytes()[2..].to_vec();
        let name_end = element.iter().position(|&b| b == b'=');
        let key = &element[..name_end.unwrap_or(element.len())];

        let mut found = longopts
            .iter()
            .position(|o| o.name.as_bytes() == key)
            .map(|i| (i, &longopts[i]));
        if found.is_none() {
            // Abbreviations: ambiguous when a later candidate differs from
            // the first in has_arg or val; identical candidates are neither
            // ambiguous nor listed.
            let mut ambiguous: Vec<usize> = Vec::new();
            for (i, o) in longopts.iter().enumerate() {
                if !o.name.as_bytes().starts_with(key) {
                    continue;
                }
                match found {
                    None => found = Some((i, o)),
                    Some((first, p)) if p.has_arg != o.has_arg || p.val != o.val => {
                        if ambiguous.is_empty() {
                            ambiguous.push(first);
                        }
                        ambiguous.push(i);
                    }
                    Some(_) => {}
                }
            }
            if !ambiguous.is_empty() {
                let mut msg = b"option '--".to_vec();
                msg.extend_from_slice(&element);
                msg.extend_from_slice(b"' is ambiguous; possibilities:");
                for i in ambiguous {
                    msg.extend_from_slice(b" '--");
                    msg.extend_from_slice(longopts[i].name.as_bytes());
                    msg.push(b'\'');
                }
                self.nextchar = None;
                self.optind += 1;
                return Err(self.error(ErrorKind::AmbiguousOption, b'?', 0, msg));
            }
        }
        let Some((index, opt)) = found else {
            let mut msg = b"unrecognized option '--".to_vec();
            msg.extend_from_slice(&element);
            msg.push(b'\'');
            self.nextchar = None;
            self.optind += 1;
            return Err(self.error(ErrorKind::UnrecognizedOption, b'?', 0, msg));
        };

        self.optind += 1;
        self.nextchar = None;
        let mut arg = None;
        if let Some(eq) = name_end {
            if opt.has_arg == HasArg::No {
                let msg = format!("option '--{}' doesn't allow an argument", opt.name);
                return Err(self.error(ErrorKind::UnexpectedArgument, b'?', opt.val, msg.into()));
            }
            arg = Some(OsString::from_vec(element[eq + 1..].to_vec()));
        } else if opt.has_arg == HasArg::Required {
            if self.optind < self.argv.len() {
                arg = Some(self.argv[self.optind].clone());
                self.optind += 1;
            } else {
                let msg = format!("option '--{}' requires an argument", opt.name);
                let code = if self.colon() { b':' } else { b'?' };
                return Err(self.error(ErrorKind::MissingLongArgument, code, opt.val, msg.into()));
            }
        }
        Ok(Opt {
            val: opt.val,
            arg,
            long_index: Some(index),
        })
    }
}

impl Iterator for Getopt<'_> {
    type Item = Result<Opt, GetoptError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        let item = self.step();
        self.done = item.is_none();
        item
    }
}

impl std::iter::FusedIterator for Getopt<'_> {}

#[cfg(test)]
mod tests;
