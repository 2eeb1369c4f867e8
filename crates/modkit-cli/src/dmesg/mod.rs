//! `dmesg`: print or control the kernel ring buffer, as util-linux 2.41's
//! dmesg, byte for byte: the same options (parsed by glibc's
//! `getopt_long` rules), output formats (`[    1.234567] msg`, `-r`, `-x`,
//! `-T`, `--time-format`, `-J`, colours), filters, error messages and exit
//! codes.
//!
//! Records come from `/dev/kmsg` (falling back to `syslog(2)` when it
//! cannot be read), from a `syslog(2)` text file (`-F`) or a file of
//! NUL-separated `/dev/kmsg` records (`-K`); the library's
//! [`modkit::kmsg::record`] parses them as util-linux does, quirks
//! included. The pieces:
//!
//! - `options` — the option table and what the options settle;
//! - `source` — where records come from, and reading them;
//! - `print` — one record's prefix (times, decoded priority, caller) and
//!   text;
//! - `json` — the `-J` writer (util-linux's `ul_jsonwrt`);
//! - `when` — dates (`-T`, `--time-format iso`) and `--since`/`--until`;
//! - `colors` — `--color` and terminal-colors.d;
//! - `pager` — the pager of `-H`.
//!
//! Standard output is [`crate::compat::stdio::Stdout`], dying of `SIGPIPE`
//! as the C tool does.

mod colors;
mod json;
pub(crate) mod options;
mod pager;
mod print;
mod source;
mod when;

use std::ffi::OsString;

use modkit::compat::tz::TimeZone;
use modkit::error::strerror;
use modkit::kmsg::syslog;
use modkit::kmsg::time::Timeval;

use crate::compat::stdio::{self, CloseError, Stdout};

use colors::Colors;
use json::Json;
use options::{TF_COUNT, TF_TIME};
use pager::Pager;

/// Where records come from (util-linux's `DMESG_METHOD_*`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Method {
    /// `/dev/kmsg`, or a `-K` file.
    Kmsg,
    /// `syslog(2)`.
    Syslog,
    /// A `-F` file of `syslog(2)` text.
    Mmap,
}

/// What dmesg was asked to do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Action {
    ReadAll,
    ReadClear,
    Clear,
    ConsoleOff,
    ConsoleOn,
    ConsoleLevel,
}

/// A fatal error: the message is printed, then the exit code returned.
struct Exit(u8);

/// util-linux's `struct dmesg_control`: the settings, and the state of
/// printing (times of the previous record, JSON writer, output).
struct Ctl {
    prog: String,
    levels: u32,
    facilities: u32,
    lasttime: (i64, i64),
    lasttm: (i32, i32, i32),
    boot_time: Timeval,
    suspended: u64,
    action: Action,
    method: Method,
    bufsize: usize,
    since: u64,
    until: u64,
    filename: Option<OsString>,
    fmts: [u8; 2 * TF_COUNT],
    nfmts: usize,
    follow: bool,
    end: bool,
    raw: bool,
    noesc: bool,
    fltr_lev: bool,
    fltr_fac: bool,
    decode: bool,
    pager: bool,
    color: bool,
    json: bool,
    force_prefix: bool,
    indent: i32,
    caller_id_size: i32,
    tz: Option<TimeZone>,
    out: Stdout,
    /// The pager of `-H`, while it runs.
    pager_process: Option<Pager>,
    colors: Colors,
    jw: Json,
    utf8: bool,
    /// Scratch space for a timestamp and the whole prefix.
    tsbuf: Vec<u8>,
    full_tsbuf: Vec<u8>,
}

/// Entry point: `argv[0]` is the program name.
pub fn main(args: Vec<OsString>) -> u8 {
    let prog = crate::compat::getopt::program_name(&args[0]);
    let mut ctl = Ctl {
        prog,
        levels: 0,
        facilities: 0,
        lasttime: (0, 0),
        lasttm: (0, 0, 0),
        boot_time: Timeval::default(),
        suspended: 0,
        action: Action::ReadAll,
        method: Method::Kmsg,
        bufsize: 0,
        since: 0,
        until: 0,
        filename: None,
        fmts: [0; 2 * TF_COUNT],
        nfmts: 0,
        follow: false,
        end: false,
        raw: false,
        noesc: false,
        fltr_lev: false,
        fltr_fac: false,
        decode: false,
        pager: false,
        color: false,
        json: false,
        force_prefix: false,
        indent: 0,
        caller_id_size: 0,
        tz: None,
        out: Stdout::new(),
        pager_process: None,
        colors: Colors::default(),
        jw: Json::default(),
        utf8: modkit::compat::locale::CtypeLocale::from_environment().is_utf8(),
        tsbuf: Vec::with_capacity(128),
        full_tsbuf: Vec::with_capacity(512),
    };
    ctl.fmts[0] = TF_TIME;
    match ctl.run(args) {
        Ok(()) => ctl.exit(0),
        Err(Exit(code)) => ctl.exit(code),
    }
}

impl Ctl {
    fn err_prefix(&self) -> String {
        format!("{}: ", self.prog)
    }

    /// `errx(EXIT_FAILURE, msg)`.
    fn errx(&mut self, msg: &str) -> Exit {
        stdio::stderr_bytes(format!("{}{msg}\n", self.err_prefix()).as_bytes());
        Exit(1)
    }

    /// `errx` with a message holding raw user bytes.
    fn errx_bytes(&mut self, msg: &[u8]) -> Exit {
        let mut line = self.err_prefix().into_bytes();
        line.extend_from_slice(msg);
        line.push(b'\n');
        stdio::stderr_bytes(&line);
        Exit(1)
    }

    /// `err(EXIT_FAILURE, msg)`: with `strerror(errno)`.
    fn err(&mut self, msg: &[u8], errno: i32) -> Exit {
        let mut m = msg.to_vec();
        m.extend_from_slice(b": ");
        m.extend_from_slice(strerror(errno).as_bytes());
        self.errx_bytes(&m)
    }

    fn try_help(&mut self) -> Exit {
        stdio::stderr(&format!(
            "Try '{} --help' for more information.\n",
            self.prog
        ));
        Exit(1)
    }

    /// What happens at `exit()`: `close_stdout`, then waiting for the
    /// pager.
    fn exit(&mut self, code: u8) -> u8 {
        let closed = self.out.close();
        if let Some(pager) = self.pager_process.take() {
            pager.wait(&mut self.out);
        }
        let msg = match closed {
            Ok(()) => return code,
            Err(CloseError::Earlier) => "write error".to_string(),
            Err(CloseError::Flush(e)) => format!("write error: {}", strerror(e)),
        };
        stdio::stderr(&format!("{}{msg}\n", self.err_prefix()));
        1
    }

    fn run(&mut self, args: Vec<OsString>) -> Result<(), Exit> {
        let Some(console_level) = self.parse_options(args)? else {
            return Ok(());
        };
        match self.action {
            Action::ReadAll | Action::ReadClear => self.read_and_print()?,
            Action::Clear => {
                if let Err(e) = syslog::clear() {
                    return Err(self.err(b"clear kernel buffer failed", e.errno()));
                }
            }
            Action::ConsoleOff | Action::ConsoleOn | Action::ConsoleLevel => {
                let result = match self.action {
                    Action::ConsoleOff => syslog::console_off(),
                    Action::ConsoleOn => syslog::console_on(),
                    _ => syslog::set_console_level(console_level as i32),
                };
                if let Err(e) = result {
                    return Err(self.err(b"klogctl failed", e.errno()));
                }
            }
        }
        Ok(())
    }
}

/// Why printing stopped.
enum Fail {
    /// A message write failed with this errno (`write failed`).
    Write(i32),
    /// A fatal error already reported.
    Exit(Exit),
}

impl From<i32> for Fail {
    fn from(e: i32) -> Fail {
        Fail::Write(e)
    }
}
