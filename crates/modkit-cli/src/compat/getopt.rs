//! Command-line option parsing exactly as glibc's `getopt_long` (glibc
//! 2.26 to 2.41, which kmod's tools and util-linux's dmesg use).
//!
//! The C tools' behaviour, including every quirk, is the specification:
//! argument permutation, `--`, clustering, attached and separate arguments,
//! optional arguments, abbreviated long options, ambiguity detection and the
//! exact error messages. Only `getopt_long_only`, the `flag` pointer of
//! `struct option` and the `-W foo` convenience of a `W;` optstring are left
//! out: none of our tools uses them.
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
mod tests {
    use super::*;

    // The tables of kmod 34.2 modinfo, util-linux 2.41 dmesg, kmod's
    // top-level command, and a synthetic one for corner cases.
    const MODINFO: &[LongOpt] = &[
        LongOpt::new("author", HasArg::No, 'a' as i32),
        LongOpt::new("description", HasArg::No, 'd' as i32),
        LongOpt::new("license", HasArg::No, 'l' as i32),
        LongOpt::new("parameters", HasArg::No, 'p' as i32),
        LongOpt::new("filename", HasArg::No, 'n' as i32),
        LongOpt::new("null", HasArg::No, '0' as i32),
        LongOpt::new("modname", HasArg::No, 'm' as i32),
        LongOpt::new("field", HasArg::Required, 'F' as i32),
        LongOpt::new("set-version", HasArg::Required, 'k' as i32),
        LongOpt::new("basedir", HasArg::Required, 'b' as i32),
        LongOpt::new("version", HasArg::No, 'V' as i32),
        LongOpt::new("help", HasArg::No, 'h' as i32),
    ];
    const OPT_TIME_FORMAT: i32 = 128;
    const OPT_NOESC: i32 = 129;
    const OPT_SINCE: i32 = 130;
    const OPT_UNTIL: i32 = 131;
    const DMESG: &[LongOpt] = &[
        LongOpt::new("buffer-size", HasArg::Required, 's' as i32),
        LongOpt::new("clear", HasArg::No, 'C' as i32),
        LongOpt::new("color", HasArg::Optional, 'L' as i32),
        LongOpt::new("console-level", HasArg::Required, 'n' as i32),
        LongOpt::new("console-off", HasArg::No, 'D' as i32),
        LongOpt::new("console-on", HasArg::No, 'E' as i32),
        LongOpt::new("decode", HasArg::No, 'x' as i32),
        LongOpt::new("file", HasArg::Required, 'F' as i32),
        LongOpt::new("facility", HasArg::Required, 'f' as i32),
        LongOpt::new("follow", HasArg::No, 'w' as i32),
        LongOpt::new("follow-new", HasArg::No, 'W' as i32),
        LongOpt::new("human", HasArg::No, 'H' as i32),
        LongOpt::new("help", HasArg::No, 'h' as i32),
        LongOpt::new("json", HasArg::No, 'J' as i32),
        LongOpt::new("kernel", HasArg::No, 'k' as i32),
        LongOpt::new("kmsg-file", HasArg::Required, 'K' as i32),
        LongOpt::new("level", HasArg::Required, 'l' as i32),
        LongOpt::new("since", HasArg::Required, OPT_SINCE),
        LongOpt::new("syslog", HasArg::No, 'S' as i32),
        LongOpt::new("raw", HasArg::No, 'r' as i32),
        LongOpt::new("read-clear", HasArg::No, 'c' as i32),
        LongOpt::new("reltime", HasArg::No, 'e' as i32),
        LongOpt::new("show-delta", HasArg::No, 'd' as i32),
        LongOpt::new("ctime", HasArg::No, 'T' as i32),
        LongOpt::new("noescape", HasArg::No, OPT_NOESC),
        LongOpt::new("notime", HasArg::No, 't' as i32),
        LongOpt::new("nopager", HasArg::No, 'P' as i32),
        LongOpt::new("until", HasArg::Required, OPT_UNTIL),
        LongOpt::new("userspace", HasArg::No, 'u' as i32),
        LongOpt::new("version", HasArg::No, 'V' as i32),
        LongOpt::new("time-format", HasArg::Required, OPT_TIME_FORMAT),
        LongOpt::new("force-prefix", HasArg::No, 'p' as i32),
    ];
    const KMOD: &[LongOpt] = &[
        LongOpt::new("help", HasArg::No, 'h' as i32),
        LongOpt::new("version", HasArg::No, 'V' as i32),
    ];
    const CUSTOM: &[LongOpt] = &[
        LongOpt::new("verbose", HasArg::No, 'v' as i32),
        LongOpt::new("verbatim", HasArg::No, 'v' as i32),
        LongOpt::new("vex", HasArg::No, 'x' as i32),
        LongOpt::new("opt", HasArg::Optional, 'o' as i32),
        LongOpt::new("req", HasArg::Required, 'r' as i32),
        LongOpt::new("request", HasArg::Required, 'r' as i32),
        LongOpt::new("reqopt", HasArg::Optional, 'r' as i32),
        LongOpt::new("long-only", HasArg::No, 300),
    ];

    #[derive(Clone, Copy)]
    enum Table {
        Modinfo,
        Dmesg,
        Kmod,
        Custom,
        /// A table with no entries (non-NULL `longopts`).
        Empty,
        /// `longopts == NULL`, i.e. `getopt()`.
        NoLong,
    }

    struct Case {
        name: &'static str,
        table: Table,
        optstring: &'static str,
        posixly_correct: bool,
        opterr: bool,
        args: &'static [&'static [u8]],
        /// What the C harness printed with glibc 2.41 (identical with
        /// 2.36): glibc's stderr line for each error, then per call
        /// `ret=VAL arg=<optarg>|- idx=LONGINDEX|-1 optind=N [optopt=N]`,
        /// then `end optind=N rest=<operand>...`.
        expect: &'static [&'static [u8]],
    }

    /// Run a case, producing the same transcript as the C harness.
    fn transcript(case: &Case) -> Vec<Vec<u8>> {
        let args: Vec<OsString> = case
            .args
            .iter()
            .map(|a| OsString::from_vec(a.to_vec()))
            .collect();
        let mut g = match case.table {
            Table::Modinfo => Getopt::new(args, case.optstring, MODINFO),
            Table::Dmesg => Getopt::new(args, case.optstring, DMESG),
            Table::Kmod => Getopt::new(args, case.optstring, KMOD),
            Table::Custom => Getopt::new(args, case.optstring, CUSTOM),
            Table::Empty => Getopt::new(args, case.optstring, &[]),
            Table::NoLong => Getopt::new_short(args, case.optstring),
        }
        .posixly_correct(case.posixly_correct)
        .opterr(case.opterr);
        let mut lines = Vec::new();
        while let Some(item) = g.next() {
            let (val, arg, idx, optopt) = match item {
                Ok(opt) => (opt.val, opt.arg, opt.long_index, None),
                Err(e) => {
                    let line = e.full_message();
                    if !line.is_empty() {
                        lines.push(line[..line.len() - 1].to_vec());
                    }
                    (i32::from(e.code), None, None, Some(e.optopt))
                }
            };
            let mut line = format!("ret={val} arg=").into_bytes();
            match arg {
                Some(a) => {
                    line.push(b'<');
                    line.extend_from_slice(a.as_bytes());
                    line.push(b'>');
                }
                None => line.push(b'-'),
            }
            let idx = idx.map_or(-1, |i| i as i64);
            line.extend_from_slice(format!(" idx={idx} optind={}", g.optind()).as_bytes());
            if let Some(optopt) = optopt {
                line.extend_from_slice(format!(" optopt={optopt}").as_bytes());
            }
            lines.push(line);
        }
        let mut end = format!("end optind={} rest=", g.optind()).into_bytes();
        for a in &g.args()[g.optind()..] {
            end.push(b'<');
            end.extend_from_slice(a.as_bytes());
            end.push(b'>');
        }
        lines.push(end);
        lines
    }

    #[test]
    fn getopt_matches_glibc() {
        let mut failures = Vec::new();
        for case in CASES {
            let got = transcript(case);
            let want: Vec<Vec<u8>> = case.expect.iter().map(|l| l.to_vec()).collect();
            if got != want {
                let show = |v: &[Vec<u8>]| {
                    v.iter()
                        .map(|l| format!("    {}\n", String::from_utf8_lossy(l)))
                        .collect::<String>()
                };
                failures.push(format!(
                    "{}:\n  want:\n{}  got:\n{}",
                    case.name,
                    show(&want),
                    show(&got)
                ));
            }
        }
        assert!(failures.is_empty(), "{}", failures.join("\n"));
    }

    #[test]
    fn getopt_case_count() {
        assert!(CASES.len() >= 60);
        let mut names: Vec<_> = CASES.iter().map(|c| c.name).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), CASES.len(), "duplicate case names");
    }

    #[test]
    fn getopt_api() {
        let args = ["modinfo", "x", "--fie=vermagic", "-0", "y"].map(OsString::from);
        let mut g = Getopt::new(args.to_vec(), "adlpn0mF:k:b:Vh", MODINFO);
        assert_eq!(
            g.next(),
            Some(Ok(Opt {
                val: 'F' as i32,
                arg: Some("vermagic".into()),
                long_index: Some(7),
            }))
        );
        assert_eq!(
            g.by_ref().map(|o| o.unwrap().val).collect::<Vec<_>>(),
            ['0' as i32]
        );
        assert_eq!(g.next(), None);
        assert_eq!(g.remaining(), ["x", "y"].map(OsString::from));

        let args = ["/usr/sbin/modinfo", "--author=1"].map(OsString::from);
        let e = Getopt::new(args.to_vec(), "adlpn0mF:k:b:Vh", MODINFO)
            .next()
            .unwrap()
            .unwrap_err();
        assert_eq!(e.kind, ErrorKind::UnexpectedArgument);
        assert_eq!(e.message, "option '--author' doesn't allow an argument");
        assert_eq!(e.to_string(), "option '--author' doesn't allow an argument");
        assert_eq!(
            e.full_message(),
            b"/usr/sbin/modinfo: option '--author' doesn't allow an argument\n"
        );
    }

    #[test]
    fn getopt_program_name() {
        assert_eq!(program_name(OsStr::new("/usr/sbin/modinfo")), "modinfo");
        assert_eq!(program_name(OsStr::new("dmesg")), "dmesg");
        assert_eq!(program_name(OsStr::new("./x/")), "");
    }

    #[test]
    fn getopt_posixly_correct_env_default() {
        // Without an override, the environment decides.
        let g = Getopt::new(vec![OsString::from("p")], "a", &[]);
        assert_eq!(
            g.posixly_correct,
            std::env::var_os("POSIXLY_CORRECT").is_some()
        );
    }

    /// Generated from a C program calling glibc's getopt_long (see the
    /// `Case::expect` documentation), run through trixie's glibc 2.41.
    const CASES: &[Case] = &[
    Case {
        name: "mi_no_args",
        table: Table::Modinfo,
        optstring: "adlpn0mF:k:b:Vh",
        posixly_correct: false,
        opterr: true,
        args: &[b"prog"],
        expect: &[
            b"end optind=1 rest=",
        ],
    },
    Case {
        name: "mi_plain_operand",
        table: Table::Modinfo,
        optstring: "adlpn0mF:k:b:Vh",
        posixly_correct: false,
        opterr: true,
        args: &[b"prog", b"ext4"],
        expect: &[
            b"end optind=1 rest=<ext4>",
        ],
    },
    Case {
        name: "mi_cluster",
        table: Table::Modinfo,
        optstring: "adlpn0mF:k:b:Vh",
        posixly_correct: false,
        opterr: true,
        args: &[b"prog", b"-an", b"ext4"],
        expect: &[
            b"ret=97 arg=- idx=-1 optind=1",
            b"ret=110 arg=- idx=-1 optind=2",
            b"end optind=2 rest=<ext4>",
        ],
    },
    Case {
        name: "mi_cluster_attached_arg",
        table: Table::Modinfo,
        optstring: "adlpn0mF:k:b:Vh",
        posixly_correct: false,
        opterr: true,
        args: &[b"prog", b"-aFauthor", b"ext4"],
        expect: &[
            b"ret=97 arg=- idx=-1 optind=1",
            b"ret=70 arg=<author> idx=-1 optind=2",
            b"end optind=2 rest=<ext4>",
        ],
    },
    Case {
        name: "mi_short_attached_arg",
        table: Table::Modinfo,
        optstring: "adlpn0mF:k:b:Vh",
        posixly_correct: false,
        opterr: true,
        args: &[b"prog", b"-Fname", b"x"],
        expect: &[
            b"ret=70 arg=<name> idx=-1 optind=2",
            b"end optind=2 rest=<x>",
        ],
    },
    Case {
        name: "mi_short_separate_arg",
        table: Table::Modinfo,
        optstring: "adlpn0mF:k:b:Vh",
        posixly_correct: false,
        opterr: true,
        args: &[b"prog", b"-F", b"name", b"x"],
        expect: &[
            b"ret=70 arg=<name> idx=-1 optind=3",
            b"end optind=3 rest=<x>",
        ],
    },
    Case {
        name: "mi_short_arg_looks_like_option",
        table: Table::Modinfo,
        optstring: "adlpn0mF:k:b:Vh",
        posixly_correct: false,
        opterr: true,
        args: &[b"prog", b"-F", b"-a", b"x"],
        expect: &[
            b"ret=70 arg=<-a> idx=-1 optind=3",
            b"end optind=3 rest=<x>",
        ],
    },
    Case {
        name: "mi_short_arg_is_dashdash",
        table: Table::Modinfo,
        optstring: "adlpn0mF:k:b:Vh",
        posixly_correct: false,
        opterr: true,
        args: &[b"prog", b"-F", b"--", b"x"],
        expect: &[
            b"ret=70 arg=<--> idx=-1 optind=3",
            b"end optind=3 rest=<x>",
        ],
    },
    Case {
        name: "mi_short_arg_is_lone_dash",
        table: Table::Modinfo,
        optstring: "adlpn0mF:k:b:Vh",
        posixly_correct: false,
        opterr: true,
        args: &[b"prog", b"-F", b"-"],
        expect: &[
            b"ret=70 arg=<-> idx=-1 optind=3",
            b"end optind=3 rest=",
        ],
    },
    Case {
        name: "mi_short_arg_after_nonopt",
        table: Table::Modinfo,
        optstring: "adlpn0mF:k:b:Vh",
        posixly_correct: false,
        opterr: true,
        args: &[b"prog", b"x", b"-F", b"y", b"z"],
        expect: &[
            b"ret=70 arg=<y> idx=-1 optind=4",
            b"end optind=3 rest=<x><z>",
        ],
    },
    Case {
        name: "mi_short_missing_arg",
        table: Table::Modinfo,
        optstring: "adlpn0mF:k:b:Vh",
        posixly_correct: false,
        opterr: true,
        args: &[b"prog", b"-F"],
        expect: &[
            b"prog: option requires an argument -- 'F'",
            b"ret=63 arg=- idx=-1 optind=2 optopt=70",
            b"end optind=2 rest=",
        ],
    },
    Case {
        name: "mi_short_missing_arg_in_cluster",
        table: Table::Modinfo,
        optstring: "adlpn0mF:k:b:Vh",
        posixly_correct: false,
        opterr: true,
        args: &[b"prog", b"-aF"],
        expect: &[
            b"ret=97 arg=- idx=-1 optind=1",
            b"prog: option requires an argument -- 'F'",
            b"ret=63 arg=- idx=-1 optind=2 optopt=70",
            b"end optind=2 rest=",
        ],
    },
    Case {
        name: "mi_short_missing_arg_after_nonopt",
        table: Table::Modinfo,
        optstring: "adlpn0mF:k:b:Vh",
        posixly_correct: false,
        opterr: true,
        args: &[b"prog", b"x", b"-F"],
        expect: &[
            b"prog: option requires an argument -- 'F'",
            b"ret=63 arg=- idx=-1 optind=3 optopt=70",
            b"end optind=2 rest=<x>",
        ],
    },
    Case {
        name: "mi_short_invalid",
        table: Table::Modinfo,
        optstring: "adlpn0mF:k:b:Vh",
        posixly_correct: false,
        opterr: true,
        args: &[b"prog", b"-z"],
        expect: &[
            b"prog: invalid option -- 'z'",
            b"ret=63 arg=- idx=-1 optind=2 optopt=122",
            b"end optind=2 rest=",
        ],
    },
    Case {
        name: "mi_short_invalid_in_cluster",
        table: Table::Modinfo,
        optstring: "adlpn0mF:k:b:Vh",
        posixly_correct: false,
        opterr: true,
        args: &[b"prog", b"-azn", b"x"],
        expect: &[
            b"ret=97 arg=- idx=-1 optind=1",
            b"prog: invalid option -- 'z'",
            b"ret=63 arg=- idx=-1 optind=1 optopt=122",
            b"ret=110 arg=- idx=-1 optind=2",
            b"end optind=2 rest=<x>",
        ],
    },
    Case {
        name: "mi_short_invalid_colon",
        table: Table::Modinfo,
        optstring: "adlpn0mF:k:b:Vh",
        posixly_correct: false,
        opterr: true,
        args: &[b"prog", b"-:"],
        expect: &[
            b"prog: invalid option -- ':'",
            b"ret=63 arg=- idx=-1 optind=2 optopt=58",
            b"end optind=2 rest=",
        ],
    },
    Case {
        name: "mi_short_invalid_dash_in_cluster",
        table: Table::Modinfo,
        optstring: "adlpn0mF:k:b:Vh",
        posixly_correct: false,
        opterr: true,
        args: &[b"prog", b"-a-"],
        expect: &[
            b"ret=97 arg=- idx=-1 optind=1",
            b"prog: invalid option -- '-'",
            b"ret=63 arg=- idx=-1 optind=2 optopt=45",
            b"end optind=2 rest=",
        ],
    },
    Case {
        name: "mi_short_invalid_question",
        table: Table::Modinfo,
        optstring: "adlpn0mF:k:b:Vh",
        posixly_correct: false,
        opterr: true,
        args: &[b"prog", b"-?"],
        expect: &[
            b"prog: invalid option -- '?'",
            b"ret=63 arg=- idx=-1 optind=2 optopt=63",
            b"end optind=2 rest=",
        ],
    },
    Case {
        name: "mi_lone_dash_is_operand",
        table: Table::Modinfo,
        optstring: "adlpn0mF:k:b:Vh",
        posixly_correct: false,
        opterr: true,
        args: &[b"prog", b"-", b"-a"],
        expect: &[
            b"ret=97 arg=- idx=-1 optind=3",
            b"end optind=2 rest=<->",
        ],
    },
    Case {
        name: "mi_empty_string_is_operand",
        table: Table::Modinfo,
        optstring: "adlpn0mF:k:b:Vh",
        posixly_correct: false,
        opterr: true,
        args: &[b"prog", b"", b"-a"],
        expect: &[
            b"ret=97 arg=- idx=-1 optind=3",
            b"end optind=2 rest=<>",
        ],
    },
    Case {
        name: "mi_help_version",
        table: Table::Modinfo,
        optstring: "adlpn0mF:k:b:Vh",
        posixly_correct: false,
        opterr: true,
        args: &[b"prog", b"-h", b"-V", b"-0m"],
        expect: &[
            b"ret=104 arg=- idx=-1 optind=2",
            b"ret=86 arg=- idx=-1 optind=3",
            b"ret=48 arg=- idx=-1 optind=3",
            b"ret=109 arg=- idx=-1 optind=4",
            b"end optind=4 rest=",
        ],
    },
    Case {
        name: "mi_set_version_basedir",
        table: Table::Modinfo,
        optstring: "adlpn0mF:k:b:Vh",
        posixly_correct: false,
        opterr: true,
        args: &[b"prog", b"-k", b"6.1", b"--basedir=/tmp", b"x"],
        expect: &[
            b"ret=107 arg=<6.1> idx=-1 optind=3",
            b"ret=98 arg=</tmp> idx=9 optind=4",
            b"end optind=4 rest=<x>",
        ],
    },
    Case {
        name: "mi_permute",
        table: Table::Modinfo,
        optstring: "adlpn0mF:k:b:Vh",
        posixly_correct: false,
        opterr: true,
        args: &[b"prog", b"x", b"-a", b"y", b"-F", b"f", b"z"],
        expect: &[
            b"ret=97 arg=- idx=-1 optind=3",
            b"ret=70 arg=<f> idx=-1 optind=6",
            b"end optind=4 rest=<x><y><z>",
        ],
    },
    Case {
        name: "mi_permute_multi_dashdash",
        table: Table::Modinfo,
        optstring: "adlpn0mF:k:b:Vh",
        posixly_correct: false,
        opterr: true,
        args: &[b"prog", b"a", b"b", b"-n", b"c", b"--", b"-d", b"e"],
        expect: &[
            b"ret=110 arg=- idx=-1 optind=4",
            b"end optind=3 rest=<a><b><c><-d><e>",
        ],
    },
    Case {
        name: "mi_dashdash_first",
        table: Table::Modinfo,
        optstring: "adlpn0mF:k:b:Vh",
        posixly_correct: false,
        opterr: true,
        args: &[b"prog", b"--", b"-a"],
        expect: &[
            b"end optind=2 rest=<-a>",
        ],
    },
    Case {
        name: "mi_dashdash_last",
        table: Table::Modinfo,
        optstring: "adlpn0mF:k:b:Vh",
        posixly_correct: false,
        opterr: true,
        args: &[b"prog", b"-a", b"--"],
        expect: &[
            b"ret=97 arg=- idx=-1 optind=2",
            b"end optind=3 rest=",
        ],
    },
    Case {
        name: "mi_dashdash_after_nonopt",
        table: Table::Modinfo,
        optstring: "adlpn0mF:k:b:Vh",
        posixly_correct: false,
        opterr: true,
        args: &[b"prog", b"x", b"--", b"-a"],
        expect: &[
            b"end optind=2 rest=<x><-a>",
        ],
    },
    Case {
        name: "mi_dashdash_twice",
        table: Table::Modinfo,
        optstring: "adlpn0mF:k:b:Vh",
        posixly_correct: false,
        opterr: true,
        args: &[b"prog", b"x", b"-a", b"--", b"--", b"y"],
        expect: &[
            b"ret=97 arg=- idx=-1 optind=3",
            b"end optind=3 rest=<x><--><y>",
        ],
    },
    Case {
        name: "mi_lone_dash_and_dashdash",
        table: Table::Modinfo,
        optstring: "adlpn0mF:k:b:Vh",
        posixly_correct: false,
        opterr: true,
        args: &[b"prog", b"-", b"--", b"-"],
        expect: &[
            b"end optind=2 rest=<-><->",
        ],
    },
    Case {
        name: "mi_nonopts_between_opts",
        table: Table::Modinfo,
        optstring: "adlpn0mF:k:b:Vh",
        posixly_correct: false,
        opterr: true,
        args: &[b"prog", b"a", b"-l", b"b", b"c", b"-d", b"d", b"-p"],
        expect: &[
            b"ret=108 arg=- idx=-1 optind=3",
            b"ret=100 arg=- idx=-1 optind=6",
            b"ret=112 arg=- idx=-1 optind=8",
            b"end optind=4 rest=<a><b><c><d>",
        ],
    },
    Case {
        name: "mi_long_exact",
        table: Table::Modinfo,
        optstring: "adlpn0mF:k:b:Vh",
        posixly_correct: false,
        opterr: true,
        args: &[b"prog", b"--author", b"x"],
        expect: &[
            b"ret=97 arg=- idx=0 optind=2",
            b"end optind=2 rest=<x>",
        ],
    },
    Case {
        name: "mi_long_prefix",
        table: Table::Modinfo,
        optstring: "adlpn0mF:k:b:Vh",
        posixly_correct: false,
        opterr: true,
        args: &[b"prog", b"--auth", b"x"],
        expect: &[
            b"ret=97 arg=- idx=0 optind=2",
            b"end optind=2 rest=<x>",
        ],
    },
    Case {
        name: "mi_long_required_eq",
        table: Table::Modinfo,
        optstring: "adlpn0mF:k:b:Vh",
        posixly_correct: false,
        opterr: true,
        args: &[b"prog", b"--field=vermagic", b"x"],
        expect: &[
            b"ret=70 arg=<vermagic> idx=7 optind=2",
            b"end optind=2 rest=<x>",
        ],
    },
    Case {
        name: "mi_long_required_separate",
        table: Table::Modinfo,
        optstring: "adlpn0mF:k:b:Vh",
        posixly_correct: false,
        opterr: true,
        args: &[b"prog", b"--field", b"vermagic", b"x"],
        expect: &[
            b"ret=70 arg=<vermagic> idx=7 optind=3",
            b"end optind=3 rest=<x>",
        ],
    },
    Case {
        name: "mi_long_required_empty_eq",
        table: Table::Modinfo,
        optstring: "adlpn0mF:k:b:Vh",
        posixly_correct: false,
        opterr: true,
        args: &[b"prog", b"--field=", b"x"],
        expect: &[
            b"ret=70 arg=<> idx=7 optind=2",
            b"end optind=2 rest=<x>",
        ],
    },
    Case {
        name: "mi_long_required_value_with_eq",
        table: Table::Modinfo,
        optstring: "adlpn0mF:k:b:Vh",
        posixly_correct: false,
        opterr: true,
        args: &[b"prog", b"--field=a=b", b"x"],
        expect: &[
            b"ret=70 arg=<a=b> idx=7 optind=2",
            b"end optind=2 rest=<x>",
        ],
    },
    Case {
        name: "mi_long_required_missing",
        table: Table::Modinfo,
        optstring: "adlpn0mF:k:b:Vh",
        posixly_correct: false,
        opterr: true,
        args: &[b"prog", b"--field"],
        expect: &[
            b"prog: option '--field' requires an argument",
            b"ret=63 arg=- idx=-1 optind=2 optopt=70",
            b"end optind=2 rest=",
        ],
    },
    Case {
        name: "mi_long_prefix_required_missing",
        table: Table::Modinfo,
        optstring: "adlpn0mF:k:b:Vh",
        posixly_correct: false,
        opterr: true,
        args: &[b"prog", b"--fie"],
        expect: &[
            b"prog: option '--field' requires an argument",
            b"ret=63 arg=- idx=-1 optind=2 optopt=70",
            b"end optind=2 rest=",
        ],
    },
    Case {
        name: "mi_long_prefix_eq",
        table: Table::Modinfo,
        optstring: "adlpn0mF:k:b:Vh",
        posixly_correct: false,
        opterr: true,
        args: &[b"prog", b"--fie=x", b"f"],
        expect: &[
            b"ret=70 arg=<x> idx=7 optind=2",
            b"end optind=2 rest=<f>",
        ],
    },
    Case {
        name: "mi_long_required_takes_option",
        table: Table::Modinfo,
        optstring: "adlpn0mF:k:b:Vh",
        posixly_correct: false,
        opterr: true,
        args: &[b"prog", b"--field", b"--author"],
        expect: &[
            b"ret=70 arg=<--author> idx=7 optind=3",
            b"end optind=3 rest=",
        ],
    },
    Case {
        name: "mi_long_noarg_with_value",
        table: Table::Modinfo,
        optstring: "adlpn0mF:k:b:Vh",
        posixly_correct: false,
        opterr: true,
        args: &[b"prog", b"--author=x"],
        expect: &[
            b"prog: option '--author' doesn't allow an argument",
            b"ret=63 arg=- idx=-1 optind=2 optopt=97",
            b"end optind=2 rest=",
        ],
    },
    Case {
        name: "mi_long_prefix_noarg_with_value",
        table: Table::Modinfo,
        optstring: "adlpn0mF:k:b:Vh",
        posixly_correct: false,
        opterr: true,
        args: &[b"prog", b"--auth=x"],
        expect: &[
            b"prog: option '--author' doesn't allow an argument",
            b"ret=63 arg=- idx=-1 optind=2 optopt=97",
            b"end optind=2 rest=",
        ],
    },
    Case {
        name: "mi_long_noarg_empty_value",
        table: Table::Modinfo,
        optstring: "adlpn0mF:k:b:Vh",
        posixly_correct: false,
        opterr: true,
        args: &[b"prog", b"--author="],
        expect: &[
            b"prog: option '--author' doesn't allow an argument",
            b"ret=63 arg=- idx=-1 optind=2 optopt=97",
            b"end optind=2 rest=",
        ],
    },
    Case {
        name: "mi_long_unrecognized",
        table: Table::Modinfo,
        optstring: "adlpn0mF:k:b:Vh",
        posixly_correct: false,
        opterr: true,
        args: &[b"prog", b"--bogus"],
        expect: &[
            b"prog: unrecognized option '--bogus'",
            b"ret=63 arg=- idx=-1 optind=2 optopt=0",
            b"end optind=2 rest=",
        ],
    },
    Case {
        name: "mi_long_unrecognized_with_value",
        table: Table::Modinfo,
        optstring: "adlpn0mF:k:b:Vh",
        posixly_correct: false,
        opterr: true,
        args: &[b"prog", b"--bogus=1", b"x"],
        expect: &[
            b"prog: unrecognized option '--bogus=1'",
            b"ret=63 arg=- idx=-1 optind=2 optopt=0",
            b"end optind=2 rest=<x>",
        ],
    },
    Case {
        name: "mi_long_ambiguous",
        table: Table::Modinfo,
        optstring: "adlpn0mF:k:b:Vh",
        posixly_correct: false,
        opterr: true,
        args: &[b"prog", b"--f"],
        expect: &[
            b"prog: option '--f' is ambiguous; possibilities: '--filename' '--field'",
            b"ret=63 arg=- idx=-1 optind=2 optopt=0",
            b"end optind=2 rest=",
        ],
    },
    Case {
        name: "mi_long_ambiguous_with_value",
        table: Table::Modinfo,
        optstring: "adlpn0mF:k:b:Vh",
        posixly_correct: false,
        opterr: true,
        args: &[b"prog", b"--fi=x"],
        expect: &[
            b"prog: option '--fi=x' is ambiguous; possibilities: '--filename' '--field'",
            b"ret=63 arg=- idx=-1 optind=2 optopt=0",
            b"end optind=2 rest=",
        ],
    },
    Case {
        name: "mi_long_empty_name",
        table: Table::Modinfo,
        optstring: "adlpn0mF:k:b:Vh",
        posixly_correct: false,
        opterr: true,
        args: &[b"prog", b"--=x"],
        expect: &[
            b"prog: option '--=x' is ambiguous; possibilities: '--author' '--description' '--license' '--parameters' '--filename' '--null' '--modname' '--field' '--set-version' '--basedir' '--version' '--help'",
            b"ret=63 arg=- idx=-1 optind=2 optopt=0",
            b"end optind=2 rest=",
        ],
    },
    Case {
        name: "mi_long_triple_dash",
        table: Table::Modinfo,
        optstring: "adlpn0mF:k:b:Vh",
        posixly_correct: false,
        opterr: true,
        args: &[b"prog", b"---author"],
        expect: &[
            b"prog: unrecognized option '---author'",
            b"ret=63 arg=- idx=-1 optind=2 optopt=0",
            b"end optind=2 rest=",
        ],
    },
    Case {
        name: "mi_long_case_sensitive",
        table: Table::Modinfo,
        optstring: "adlpn0mF:k:b:Vh",
        posixly_correct: false,
        opterr: true,
        args: &[b"prog", b"--Author"],
        expect: &[
            b"prog: unrecognized option '--Author'",
            b"ret=63 arg=- idx=-1 optind=2 optopt=0",
            b"end optind=2 rest=",
        ],
    },
    Case {
        name: "mi_long_longer_than_name",
        table: Table::Modinfo,
        optstring: "adlpn0mF:k:b:Vh",
        posixly_correct: false,
        opterr: true,
        args: &[b"prog", b"--authors"],
        expect: &[
            b"prog: unrecognized option '--authors'",
            b"ret=63 arg=- idx=-1 optind=2 optopt=0",
            b"end optind=2 rest=",
        ],
    },
    Case {
        name: "mi_errors_then_continue",
        table: Table::Modinfo,
        optstring: "adlpn0mF:k:b:Vh",
        posixly_correct: false,
        opterr: true,
        args: &[b"prog", b"--bogus", b"-z", b"x", b"--author=1", b"-n"],
        expect: &[
            b"prog: unrecognized option '--bogus'",
            b"ret=63 arg=- idx=-1 optind=2 optopt=0",
            b"prog: invalid option -- 'z'",
            b"ret=63 arg=- idx=-1 optind=3 optopt=122",
            b"prog: option '--author' doesn't allow an argument",
            b"ret=63 arg=- idx=-1 optind=5 optopt=97",
            b"ret=110 arg=- idx=-1 optind=6",
            b"end optind=5 rest=<x>",
        ],
    },
    Case {
        name: "mi_argv0_full_path",
        table: Table::Modinfo,
        optstring: "adlpn0mF:k:b:Vh",
        posixly_correct: false,
        opterr: true,
        args: &[b"/usr/bin/modinfo", b"-z", b"--bogus"],
        expect: &[
            b"/usr/bin/modinfo: invalid option -- 'z'",
            b"ret=63 arg=- idx=-1 optind=2 optopt=122",
            b"/usr/bin/modinfo: unrecognized option '--bogus'",
            b"ret=63 arg=- idx=-1 optind=3 optopt=0",
            b"end optind=3 rest=",
        ],
    },
    Case {
        name: "mi_non_utf8_operand",
        table: Table::Modinfo,
        optstring: "adlpn0mF:k:b:Vh",
        posixly_correct: false,
        opterr: true,
        args: &[b"prog", b"\xff\xfe", b"-a"],
        expect: &[
            b"ret=97 arg=- idx=-1 optind=3",
            b"end optind=2 rest=<\xff\xfe>",
        ],
    },
    Case {
        name: "mi_non_utf8_short",
        table: Table::Modinfo,
        optstring: "adlpn0mF:k:b:Vh",
        posixly_correct: false,
        opterr: true,
        args: &[b"prog", b"-\xc3\xa9"],
        expect: &[
            b"prog: invalid option -- '\xc3'",
            b"ret=63 arg=- idx=-1 optind=1 optopt=-61",
            b"prog: invalid option -- '\xa9'",
            b"ret=63 arg=- idx=-1 optind=2 optopt=-87",
            b"end optind=2 rest=",
        ],
    },
    Case {
        name: "mi_non_utf8_long",
        table: Table::Modinfo,
        optstring: "adlpn0mF:k:b:Vh",
        posixly_correct: false,
        opterr: true,
        args: &[b"prog", b"--auth\xff"],
        expect: &[
            b"prog: unrecognized option '--auth\xff'",
            b"ret=63 arg=- idx=-1 optind=2 optopt=0",
            b"end optind=2 rest=",
        ],
    },
    Case {
        name: "mi_non_utf8_args",
        table: Table::Modinfo,
        optstring: "adlpn0mF:k:b:Vh",
        posixly_correct: false,
        opterr: true,
        args: &[b"prog", b"-F\xff", b"--field=\xfe", b"-k", b"\x80"],
        expect: &[
            b"ret=70 arg=<\xff> idx=-1 optind=2",
            b"ret=70 arg=<\xfe> idx=7 optind=3",
            b"ret=107 arg=<\x80> idx=-1 optind=5",
            b"end optind=5 rest=",
        ],
    },
    Case {
        name: "mi_posixly_correct_stops",
        table: Table::Modinfo,
        optstring: "adlpn0mF:k:b:Vh",
        posixly_correct: true,
        opterr: true,
        args: &[b"prog", b"x", b"-a"],
        expect: &[
            b"end optind=1 rest=<x><-a>",
        ],
    },
    Case {
        name: "mi_posixly_correct_opts_first",
        table: Table::Modinfo,
        optstring: "adlpn0mF:k:b:Vh",
        posixly_correct: true,
        opterr: true,
        args: &[b"prog", b"-a", b"x", b"-n"],
        expect: &[
            b"ret=97 arg=- idx=-1 optind=2",
            b"end optind=2 rest=<x><-n>",
        ],
    },
    Case {
        name: "mi_posixly_correct_dashdash",
        table: Table::Modinfo,
        optstring: "adlpn0mF:k:b:Vh",
        posixly_correct: true,
        opterr: true,
        args: &[b"prog", b"-a", b"--", b"-n"],
        expect: &[
            b"ret=97 arg=- idx=-1 optind=2",
            b"end optind=3 rest=<-n>",
        ],
    },
    Case {
        name: "mi_plus_require_order",
        table: Table::Modinfo,
        optstring: "+adlpn0mF:k:b:Vh",
        posixly_correct: false,
        opterr: true,
        args: &[b"prog", b"-a", b"x", b"-n"],
        expect: &[
            b"ret=97 arg=- idx=-1 optind=2",
            b"end optind=2 rest=<x><-n>",
        ],
    },
    Case {
        name: "mi_plus_dash_is_operand",
        table: Table::Modinfo,
        optstring: "+adlpn0mF:k:b:Vh",
        posixly_correct: false,
        opterr: true,
        args: &[b"prog", b"-", b"-a"],
        expect: &[
            b"end optind=1 rest=<-><-a>",
        ],
    },
    Case {
        name: "mi_minus_return_in_order",
        table: Table::Modinfo,
        optstring: "-adlpn0mF:k:b:Vh",
        posixly_correct: false,
        opterr: true,
        args: &[b"prog", b"x", b"-a", b"y", b"--", b"z", b"-n"],
        expect: &[
            b"ret=1 arg=<x> idx=-1 optind=2",
            b"ret=97 arg=- idx=-1 optind=3",
            b"ret=1 arg=<y> idx=-1 optind=4",
            b"end optind=5 rest=<z><-n>",
        ],
    },
    Case {
        name: "mi_minus_beats_posixly_correct",
        table: Table::Modinfo,
        optstring: "-adlpn0mF:k:b:Vh",
        posixly_correct: true,
        opterr: true,
        args: &[b"prog", b"x", b"-a"],
        expect: &[
            b"ret=1 arg=<x> idx=-1 optind=2",
            b"ret=97 arg=- idx=-1 optind=3",
            b"end optind=3 rest=",
        ],
    },
    Case {
        name: "mi_plus_invalid_plus",
        table: Table::Modinfo,
        optstring: "+adlpn0mF:k:b:Vh",
        posixly_correct: false,
        opterr: true,
        args: &[b"prog", b"-+"],
        expect: &[
            b"prog: invalid option -- '+'",
            b"ret=63 arg=- idx=-1 optind=2 optopt=43",
            b"end optind=2 rest=",
        ],
    },
    Case {
        name: "mi_colon_missing_short",
        table: Table::Modinfo,
        optstring: ":adlpn0mF:k:b:Vh",
        posixly_correct: false,
        opterr: true,
        args: &[b"prog", b"-F"],
        expect: &[
            b"ret=58 arg=- idx=-1 optind=2 optopt=70",
            b"end optind=2 rest=",
        ],
    },
    Case {
        name: "mi_colon_missing_long",
        table: Table::Modinfo,
        optstring: ":adlpn0mF:k:b:Vh",
        posixly_correct: false,
        opterr: true,
        args: &[b"prog", b"--field"],
        expect: &[
            b"ret=58 arg=- idx=-1 optind=2 optopt=70",
            b"end optind=2 rest=",
        ],
    },
    Case {
        name: "mi_colon_silent_errors",
        table: Table::Modinfo,
        optstring: ":adlpn0mF:k:b:Vh",
        posixly_correct: false,
        opterr: true,
        args: &[b"prog", b"-z", b"--bogus", b"--author=x", b"--f", b"-:"],
        expect: &[
            b"ret=63 arg=- idx=-1 optind=2 optopt=122",
            b"ret=63 arg=- idx=-1 optind=3 optopt=0",
            b"ret=63 arg=- idx=-1 optind=4 optopt=97",
            b"ret=63 arg=- idx=-1 optind=5 optopt=0",
            b"ret=63 arg=- idx=-1 optind=6 optopt=58",
            b"end optind=6 rest=",
        ],
    },
    Case {
        name: "mi_plus_colon_missing",
        table: Table::Modinfo,
        optstring: "+:adlpn0mF:k:b:Vh",
        posixly_correct: false,
        opterr: true,
        args: &[b"prog", b"-F"],
        expect: &[
            b"ret=58 arg=- idx=-1 optind=2 optopt=70",
            b"end optind=2 rest=",
        ],
    },
    Case {
        name: "mi_opterr0_missing",
        table: Table::Modinfo,
        optstring: "adlpn0mF:k:b:Vh",
        posixly_correct: false,
        opterr: false,
        args: &[b"prog", b"-F"],
        expect: &[
            b"ret=63 arg=- idx=-1 optind=2 optopt=70",
            b"end optind=2 rest=",
        ],
    },
    Case {
        name: "mi_opterr0_silent_errors",
        table: Table::Modinfo,
        optstring: "adlpn0mF:k:b:Vh",
        posixly_correct: false,
        opterr: false,
        args: &[b"prog", b"-z", b"--bogus", b"--auth=x", b"--f", b"--field"],
        expect: &[
            b"ret=63 arg=- idx=-1 optind=2 optopt=122",
            b"ret=63 arg=- idx=-1 optind=3 optopt=0",
            b"ret=63 arg=- idx=-1 optind=4 optopt=97",
            b"ret=63 arg=- idx=-1 optind=5 optopt=0",
            b"ret=63 arg=- idx=-1 optind=6 optopt=70",
            b"end optind=6 rest=",
        ],
    },
    Case {
        name: "dm_optional_short_none",
        table: Table::Dmesg,
        optstring: "CcDdEeF:f:HhJK:kL::l:n:iPprSs:TtuVWwx",
        posixly_correct: false,
        opterr: true,
        args: &[b"prog", b"-L"],
        expect: &[
            b"ret=76 arg=- idx=-1 optind=2",
            b"end optind=2 rest=",
        ],
    },
    Case {
        name: "dm_optional_short_attached",
        table: Table::Dmesg,
        optstring: "CcDdEeF:f:HhJK:kL::l:n:iPprSs:TtuVWwx",
        posixly_correct: false,
        opterr: true,
        args: &[b"prog", b"-Lalways"],
        expect: &[
            b"ret=76 arg=<always> idx=-1 optind=2",
            b"end optind=2 rest=",
        ],
    },
    Case {
        name: "dm_optional_short_separate",
        table: Table::Dmesg,
        optstring: "CcDdEeF:f:HhJK:kL::l:n:iPprSs:TtuVWwx",
        posixly_correct: false,
        opterr: true,
        args: &[b"prog", b"-L", b"always"],
        expect: &[
            b"ret=76 arg=- idx=-1 optind=2",
            b"end optind=2 rest=<always>",
        ],
    },
    Case {
        name: "dm_optional_long_none",
        table: Table::Dmesg,
        optstring: "CcDdEeF:f:HhJK:kL::l:n:iPprSs:TtuVWwx",
        posixly_correct: false,
        opterr: true,
        args: &[b"prog", b"--color"],
        expect: &[
            b"ret=76 arg=- idx=2 optind=2",
            b"end optind=2 rest=",
        ],
    },
    Case {
        name: "dm_optional_long_eq",
        table: Table::Dmesg,
        optstring: "CcDdEeF:f:HhJK:kL::l:n:iPprSs:TtuVWwx",
        posixly_correct: false,
        opterr: true,
        args: &[b"prog", b"--color=never"],
        expect: &[
            b"ret=76 arg=<never> idx=2 optind=2",
            b"end optind=2 rest=",
        ],
    },
    Case {
        name: "dm_optional_long_separate",
        table: Table::Dmesg,
        optstring: "CcDdEeF:f:HhJK:kL::l:n:iPprSs:TtuVWwx",
        posixly_correct: false,
        opterr: true,
        args: &[b"prog", b"--color", b"never"],
        expect: &[
            b"ret=76 arg=- idx=2 optind=2",
            b"end optind=2 rest=<never>",
        ],
    },
    Case {
        name: "dm_optional_long_empty",
        table: Table::Dmesg,
        optstring: "CcDdEeF:f:HhJK:kL::l:n:iPprSs:TtuVWwx",
        posixly_correct: false,
        opterr: true,
        args: &[b"prog", b"--color="],
        expect: &[
            b"ret=76 arg=<> idx=2 optind=2",
            b"end optind=2 rest=",
        ],
    },
    Case {
        name: "dm_optional_long_abbrev",
        table: Table::Dmesg,
        optstring: "CcDdEeF:f:HhJK:kL::l:n:iPprSs:TtuVWwx",
        posixly_correct: false,
        opterr: true,
        args: &[b"prog", b"--col=auto"],
        expect: &[
            b"ret=76 arg=<auto> idx=2 optind=2",
            b"end optind=2 rest=",
        ],
    },
    Case {
        name: "dm_ambiguous_co",
        table: Table::Dmesg,
        optstring: "CcDdEeF:f:HhJK:kL::l:n:iPprSs:TtuVWwx",
        posixly_correct: false,
        opterr: true,
        args: &[b"prog", b"--co"],
        expect: &[
            b"prog: option '--co' is ambiguous; possibilities: '--color' '--console-level' '--console-off' '--console-on'",
            b"ret=63 arg=- idx=-1 optind=2 optopt=0",
            b"end optind=2 rest=",
        ],
    },
    Case {
        name: "dm_ambiguous_console",
        table: Table::Dmesg,
        optstring: "CcDdEeF:f:HhJK:kL::l:n:iPprSs:TtuVWwx",
        posixly_correct: false,
        opterr: true,
        args: &[b"prog", b"--console"],
        expect: &[
            b"prog: option '--console' is ambiguous; possibilities: '--console-level' '--console-off' '--console-on'",
            b"ret=63 arg=- idx=-1 optind=2 optopt=0",
            b"end optind=2 rest=",
        ],
    },
    Case {
        name: "dm_console_abbrev",
        table: Table::Dmesg,
        optstring: "CcDdEeF:f:HhJK:kL::l:n:iPprSs:TtuVWwx",
        posixly_correct: false,
        opterr: true,
        args: &[b"prog", b"--console-of", b"--console-l=3"],
        expect: &[
            b"ret=68 arg=- idx=4 optind=2",
            b"ret=110 arg=<3> idx=3 optind=3",
            b"end optind=3 rest=",
        ],
    },
    Case {
        name: "dm_exact_beats_prefix",
        table: Table::Dmesg,
        optstring: "CcDdEeF:f:HhJK:kL::l:n:iPprSs:TtuVWwx",
        posixly_correct: false,
        opterr: true,
        args: &[b"prog", b"--follow"],
        expect: &[
            b"ret=119 arg=- idx=9 optind=2",
            b"end optind=2 rest=",
        ],
    },
    Case {
        name: "dm_ambiguous_foll",
        table: Table::Dmesg,
        optstring: "CcDdEeF:f:HhJK:kL::l:n:iPprSs:TtuVWwx",
        posixly_correct: false,
        opterr: true,
        args: &[b"prog", b"--foll"],
        expect: &[
            b"prog: option '--foll' is ambiguous; possibilities: '--follow' '--follow-new'",
            b"ret=63 arg=- idx=-1 optind=2 optopt=0",
            b"end optind=2 rest=",
        ],
    },
    Case {
        name: "dm_follow_new_abbrev",
        table: Table::Dmesg,
        optstring: "CcDdEeF:f:HhJK:kL::l:n:iPprSs:TtuVWwx",
        posixly_correct: false,
        opterr: true,
        args: &[b"prog", b"--follow-"],
        expect: &[
            b"ret=87 arg=- idx=10 optind=2",
            b"end optind=2 rest=",
        ],
    },
    Case {
        name: "dm_long_only_ids",
        table: Table::Dmesg,
        optstring: "CcDdEeF:f:HhJK:kL::l:n:iPprSs:TtuVWwx",
        posixly_correct: false,
        opterr: true,
        args: &[b"prog", b"--since=yesterday", b"--until", b"now", b"--noesc", b"--time-format", b"iso"],
        expect: &[
            b"ret=130 arg=<yesterday> idx=17 optind=2",
            b"ret=131 arg=<now> idx=27 optind=4",
            b"ret=129 arg=- idx=24 optind=5",
            b"ret=128 arg=<iso> idx=30 optind=7",
            b"end optind=7 rest=",
        ],
    },
    Case {
        name: "dm_t_prefix_missing_arg",
        table: Table::Dmesg,
        optstring: "CcDdEeF:f:HhJK:kL::l:n:iPprSs:TtuVWwx",
        posixly_correct: false,
        opterr: true,
        args: &[b"prog", b"--t"],
        expect: &[
            b"prog: option '--time-format' requires an argument",
            b"ret=63 arg=- idx=-1 optind=2 optopt=128",
            b"end optind=2 rest=",
        ],
    },
    Case {
        name: "dm_t_prefix_arg",
        table: Table::Dmesg,
        optstring: "CcDdEeF:f:HhJK:kL::l:n:iPprSs:TtuVWwx",
        posixly_correct: false,
        opterr: true,
        args: &[b"prog", b"--t", b"iso"],
        expect: &[
            b"ret=128 arg=<iso> idx=30 optind=3",
            b"end optind=3 rest=",
        ],
    },
    Case {
        name: "dm_ambiguous_no",
        table: Table::Dmesg,
        optstring: "CcDdEeF:f:HhJK:kL::l:n:iPprSs:TtuVWwx",
        posixly_correct: false,
        opterr: true,
        args: &[b"prog", b"--no"],
        expect: &[
            b"prog: option '--no' is ambiguous; possibilities: '--noescape' '--notime' '--nopager'",
            b"ret=63 arg=- idx=-1 optind=2 optopt=0",
            b"end optind=2 rest=",
        ],
    },
    Case {
        name: "dm_ambiguous_h",
        table: Table::Dmesg,
        optstring: "CcDdEeF:f:HhJK:kL::l:n:iPprSs:TtuVWwx",
        posixly_correct: false,
        opterr: true,
        args: &[b"prog", b"--h"],
        expect: &[
            b"prog: option '--h' is ambiguous; possibilities: '--human' '--help'",
            b"ret=63 arg=- idx=-1 optind=2 optopt=0",
            b"end optind=2 rest=",
        ],
    },
    Case {
        name: "dm_he_help",
        table: Table::Dmesg,
        optstring: "CcDdEeF:f:HhJK:kL::l:n:iPprSs:TtuVWwx",
        posixly_correct: false,
        opterr: true,
        args: &[b"prog", b"--he"],
        expect: &[
            b"ret=104 arg=- idx=12 optind=2",
            b"end optind=2 rest=",
        ],
    },
    Case {
        name: "dm_ambiguous_s",
        table: Table::Dmesg,
        optstring: "CcDdEeF:f:HhJK:kL::l:n:iPprSs:TtuVWwx",
        posixly_correct: false,
        opterr: true,
        args: &[b"prog", b"--s"],
        expect: &[
            b"prog: option '--s' is ambiguous; possibilities: '--since' '--syslog' '--show-delta'",
            b"ret=63 arg=- idx=-1 optind=2 optopt=0",
            b"end optind=2 rest=",
        ],
    },
    Case {
        name: "dm_ambiguous_k_with_value",
        table: Table::Dmesg,
        optstring: "CcDdEeF:f:HhJK:kL::l:n:iPprSs:TtuVWwx",
        posixly_correct: false,
        opterr: true,
        args: &[b"prog", b"--k=x"],
        expect: &[
            b"prog: option '--k=x' is ambiguous; possibilities: '--kernel' '--kmsg-file'",
            b"ret=63 arg=- idx=-1 optind=2 optopt=0",
            b"end optind=2 rest=",
        ],
    },
    Case {
        name: "dm_ambiguous_re",
        table: Table::Dmesg,
        optstring: "CcDdEeF:f:HhJK:kL::l:n:iPprSs:TtuVWwx",
        posixly_correct: false,
        opterr: true,
        args: &[b"prog", b"--re"],
        expect: &[
            b"prog: option '--re' is ambiguous; possibilities: '--read-clear' '--reltime'",
            b"ret=63 arg=- idx=-1 optind=2 optopt=0",
            b"end optind=2 rest=",
        ],
    },
    Case {
        name: "dm_ra_raw",
        table: Table::Dmesg,
        optstring: "CcDdEeF:f:HhJK:kL::l:n:iPprSs:TtuVWwx",
        posixly_correct: false,
        opterr: true,
        args: &[b"prog", b"--ra"],
        expect: &[
            b"ret=114 arg=- idx=19 optind=2",
            b"end optind=2 rest=",
        ],
    },
    Case {
        name: "dm_ambiguous_u",
        table: Table::Dmesg,
        optstring: "CcDdEeF:f:HhJK:kL::l:n:iPprSs:TtuVWwx",
        posixly_correct: false,
        opterr: true,
        args: &[b"prog", b"--u"],
        expect: &[
            b"prog: option '--u' is ambiguous; possibilities: '--until' '--userspace'",
            b"ret=63 arg=- idx=-1 optind=2 optopt=0",
            b"end optind=2 rest=",
        ],
    },
    Case {
        name: "dm_cluster",
        table: Table::Dmesg,
        optstring: "CcDdEeF:f:HhJK:kL::l:n:iPprSs:TtuVWwx",
        posixly_correct: false,
        opterr: true,
        args: &[b"prog", b"-Tx", b"-l", b"err,warn"],
        expect: &[
            b"ret=84 arg=- idx=-1 optind=1",
            b"ret=120 arg=- idx=-1 optind=2",
            b"ret=108 arg=<err,warn> idx=-1 optind=4",
            b"end optind=4 rest=",
        ],
    },
    Case {
        name: "dm_cluster_optional_attached",
        table: Table::Dmesg,
        optstring: "CcDdEeF:f:HhJK:kL::l:n:iPprSs:TtuVWwx",
        posixly_correct: false,
        opterr: true,
        args: &[b"prog", b"-TLalways"],
        expect: &[
            b"ret=84 arg=- idx=-1 optind=1",
            b"ret=76 arg=<always> idx=-1 optind=2",
            b"end optind=2 rest=",
        ],
    },
    Case {
        name: "dm_cluster_optional_last",
        table: Table::Dmesg,
        optstring: "CcDdEeF:f:HhJK:kL::l:n:iPprSs:TtuVWwx",
        posixly_correct: false,
        opterr: true,
        args: &[b"prog", b"-xL", b"x"],
        expect: &[
            b"ret=120 arg=- idx=-1 optind=1",
            b"ret=76 arg=- idx=-1 optind=2",
            b"end optind=2 rest=<x>",
        ],
    },
    Case {
        name: "dm_W_is_plain_option",
        table: Table::Dmesg,
        optstring: "CcDdEeF:f:HhJK:kL::l:n:iPprSs:TtuVWwx",
        posixly_correct: false,
        opterr: true,
        args: &[b"prog", b"-W", b"foo"],
        expect: &[
            b"ret=87 arg=- idx=-1 optind=2",
            b"end optind=2 rest=<foo>",
        ],
    },
    Case {
        name: "dm_i_short_only",
        table: Table::Dmesg,
        optstring: "CcDdEeF:f:HhJK:kL::l:n:iPprSs:TtuVWwx",
        posixly_correct: false,
        opterr: true,
        args: &[b"prog", b"-i", b"-P"],
        expect: &[
            b"ret=105 arg=- idx=-1 optind=2",
            b"ret=80 arg=- idx=-1 optind=3",
            b"end optind=3 rest=",
        ],
    },
    Case {
        name: "dm_required_short",
        table: Table::Dmesg,
        optstring: "CcDdEeF:f:HhJK:kL::l:n:iPprSs:TtuVWwx",
        posixly_correct: false,
        opterr: true,
        args: &[b"prog", b"-s", b"1024", b"-n1", b"-f", b"kern"],
        expect: &[
            b"ret=115 arg=<1024> idx=-1 optind=3",
            b"ret=110 arg=<1> idx=-1 optind=4",
            b"ret=102 arg=<kern> idx=-1 optind=6",
            b"end optind=6 rest=",
        ],
    },
    Case {
        name: "dm_invalid_short",
        table: Table::Dmesg,
        optstring: "CcDdEeF:f:HhJK:kL::l:n:iPprSs:TtuVWwx",
        posixly_correct: false,
        opterr: true,
        args: &[b"prog", b"-X"],
        expect: &[
            b"prog: invalid option -- 'X'",
            b"ret=63 arg=- idx=-1 optind=2 optopt=88",
            b"end optind=2 rest=",
        ],
    },
    Case {
        name: "dm_unrecognized_long",
        table: Table::Dmesg,
        optstring: "CcDdEeF:f:HhJK:kL::l:n:iPprSs:TtuVWwx",
        posixly_correct: false,
        opterr: true,
        args: &[b"prog", b"--bogus"],
        expect: &[
            b"prog: unrecognized option '--bogus'",
            b"ret=63 arg=- idx=-1 optind=2 optopt=0",
            b"end optind=2 rest=",
        ],
    },
    Case {
        name: "dm_unexpected_operand",
        table: Table::Dmesg,
        optstring: "CcDdEeF:f:HhJK:kL::l:n:iPprSs:TtuVWwx",
        posixly_correct: false,
        opterr: true,
        args: &[b"prog", b"foo", b"-k"],
        expect: &[
            b"ret=107 arg=- idx=-1 optind=3",
            b"end optind=2 rest=<foo>",
        ],
    },
    Case {
        name: "dm_file_prefix",
        table: Table::Dmesg,
        optstring: "CcDdEeF:f:HhJK:kL::l:n:iPprSs:TtuVWwx",
        posixly_correct: false,
        opterr: true,
        args: &[b"prog", b"--fil", b"/tmp/x"],
        expect: &[
            b"ret=70 arg=</tmp/x> idx=7 optind=3",
            b"end optind=3 rest=",
        ],
    },
    Case {
        name: "dm_ambiguous_fa_fi",
        table: Table::Dmesg,
        optstring: "CcDdEeF:f:HhJK:kL::l:n:iPprSs:TtuVWwx",
        posixly_correct: false,
        opterr: true,
        args: &[b"prog", b"--f"],
        expect: &[
            b"prog: option '--f' is ambiguous; possibilities: '--file' '--facility' '--follow' '--follow-new' '--force-prefix'",
            b"ret=63 arg=- idx=-1 optind=2 optopt=0",
            b"end optind=2 rest=",
        ],
    },
    Case {
        name: "kmod_stops_at_command",
        table: Table::Kmod,
        optstring: "+hV",
        posixly_correct: false,
        opterr: true,
        args: &[b"prog", b"list", b"-h"],
        expect: &[
            b"end optind=1 rest=<list><-h>",
        ],
    },
    Case {
        name: "kmod_option_then_command",
        table: Table::Kmod,
        optstring: "+hV",
        posixly_correct: false,
        opterr: true,
        args: &[b"prog", b"-V", b"list"],
        expect: &[
            b"ret=86 arg=- idx=-1 optind=2",
            b"end optind=2 rest=<list>",
        ],
    },
    Case {
        name: "kmod_unrecognized",
        table: Table::Kmod,
        optstring: "+hV",
        posixly_correct: false,
        opterr: true,
        args: &[b"prog", b"--foo", b"list"],
        expect: &[
            b"prog: unrecognized option '--foo'",
            b"ret=63 arg=- idx=-1 optind=2 optopt=0",
            b"end optind=2 rest=<list>",
        ],
    },
    Case {
        name: "kmod_ambiguous_none",
        table: Table::Kmod,
        optstring: "+hV",
        posixly_correct: false,
        opterr: true,
        args: &[b"prog", b"--v", b"--he"],
        expect: &[
            b"ret=86 arg=- idx=1 optind=2",
            b"ret=104 arg=- idx=0 optind=3",
            b"end optind=3 rest=",
        ],
    },
    Case {
        name: "cu_identical_candidates_not_ambiguous",
        table: Table::Custom,
        optstring: "vxo::r:",
        posixly_correct: false,
        opterr: true,
        args: &[b"prog", b"--verb"],
        expect: &[
            b"ret=118 arg=- idx=0 optind=2",
            b"end optind=2 rest=",
        ],
    },
    Case {
        name: "cu_ambiguous_skips_identical",
        table: Table::Custom,
        optstring: "vxo::r:",
        posixly_correct: false,
        opterr: true,
        args: &[b"prog", b"--ve"],
        expect: &[
            b"prog: option '--ve' is ambiguous; possibilities: '--verbose' '--vex'",
            b"ret=63 arg=- idx=-1 optind=2 optopt=0",
            b"end optind=2 rest=",
        ],
    },
    Case {
        name: "cu_exact_beats_longer",
        table: Table::Custom,
        optstring: "vxo::r:",
        posixly_correct: false,
        opterr: true,
        args: &[b"prog", b"--req", b"x"],
        expect: &[
            b"ret=114 arg=<x> idx=4 optind=3",
            b"end optind=3 rest=",
        ],
    },
    Case {
        name: "cu_ambiguous_has_arg_differs",
        table: Table::Custom,
        optstring: "vxo::r:",
        posixly_correct: false,
        opterr: true,
        args: &[b"prog", b"--re"],
        expect: &[
            b"prog: option '--re' is ambiguous; possibilities: '--req' '--reqopt'",
            b"ret=63 arg=- idx=-1 optind=2 optopt=0",
            b"end optind=2 rest=",
        ],
    },
    Case {
        name: "cu_unique_prefix",
        table: Table::Custom,
        optstring: "vxo::r:",
        posixly_correct: false,
        opterr: true,
        args: &[b"prog", b"--reque=x", b"--reqo"],
        expect: &[
            b"ret=114 arg=<x> idx=5 optind=2",
            b"ret=114 arg=- idx=6 optind=3",
            b"end optind=3 rest=",
        ],
    },
    Case {
        name: "cu_long_only_id",
        table: Table::Custom,
        optstring: "vxo::r:",
        posixly_correct: false,
        opterr: true,
        args: &[b"prog", b"--long"],
        expect: &[
            b"ret=300 arg=- idx=7 optind=2",
            b"end optind=2 rest=",
        ],
    },
    Case {
        name: "cu_optional_long",
        table: Table::Custom,
        optstring: "vxo::r:",
        posixly_correct: false,
        opterr: true,
        args: &[b"prog", b"--opt", b"--opt=", b"--opt=v", b"--o", b"w"],
        expect: &[
            b"ret=111 arg=- idx=3 optind=2",
            b"ret=111 arg=<> idx=3 optind=3",
            b"ret=111 arg=<v> idx=3 optind=4",
            b"ret=111 arg=- idx=3 optind=5",
            b"end optind=5 rest=<w>",
        ],
    },
    Case {
        name: "cu_optional_short",
        table: Table::Custom,
        optstring: "vxo::r:",
        posixly_correct: false,
        opterr: true,
        args: &[b"prog", b"-o", b"-ov", b"-vo", b"-vox"],
        expect: &[
            b"ret=111 arg=- idx=-1 optind=2",
            b"ret=111 arg=<v> idx=-1 optind=3",
            b"ret=118 arg=- idx=-1 optind=3",
            b"ret=111 arg=- idx=-1 optind=4",
            b"ret=118 arg=- idx=-1 optind=4",
            b"ret=111 arg=<x> idx=-1 optind=5",
            b"end optind=5 rest=",
        ],
    },
    Case {
        name: "empty_table_long_unrecognized",
        table: Table::Empty,
        optstring: "vxo::r:",
        posixly_correct: false,
        opterr: true,
        args: &[b"prog", b"--verbose", b"-v"],
        expect: &[
            b"prog: unrecognized option '--verbose'",
            b"ret=63 arg=- idx=-1 optind=2 optopt=0",
            b"ret=118 arg=- idx=-1 optind=3",
            b"end optind=3 rest=",
        ],
    },
    Case {
        name: "no_longopts_double_dash_is_short",
        table: Table::NoLong,
        optstring: "vxo::r:",
        posixly_correct: false,
        opterr: true,
        args: &[b"prog", b"--rv", b"-v"],
        expect: &[
            b"prog: invalid option -- '-'",
            b"ret=63 arg=- idx=-1 optind=1 optopt=45",
            b"ret=114 arg=<v> idx=-1 optind=2",
            b"ret=118 arg=- idx=-1 optind=3",
            b"end optind=3 rest=",
        ],
    },
    Case {
        name: "no_longopts_dashdash",
        table: Table::NoLong,
        optstring: "vxo::r:",
        posixly_correct: false,
        opterr: true,
        args: &[b"prog", b"x", b"--", b"-v"],
        expect: &[
            b"end optind=2 rest=<x><-v>",
        ],
    },
    ];
}
