//! Messages of the kmod tools: `PROG: LEVEL: text` on stderr, or through
//! syslog(3) with `-s`/`--syslog`, filtered by a priority that `-v` and
//! `-q` move, as kmod's tools/log.c does.
//!
//! With `-s`, kmod calls `openlog(PROG, LOG_CONS, LOG_DAEMON)` and glibc's
//! `syslog(3)`; this logger sends the same datagrams to `/dev/log` and, like
//! glibc with `LOG_CONS`, writes `PROG: LEVEL: text\r\n` to `/dev/console`
//! when no syslog daemon takes them (never to stderr).

use std::cell::RefCell;
use std::io::Write;
use std::os::unix::net::UnixDatagram;

use modkit::compat::ctype::isspace;
use modkit::kmod::{Level, Logger};

/// syslog priorities, as in `<syslog.h>`.
pub mod prio {
    /// Emergency (what `-q` lowers the threshold to).
    pub const EMERG: i32 = 0;
    /// Fatal: the tool exits after printing.
    pub const CRIT: i32 = 2;
    /// Error.
    pub const ERR: i32 = 3;
    /// Warning.
    pub const WARNING: i32 = 4;
    /// Notice.
    pub const NOTICE: i32 = 5;
    /// Informational.
    pub const INFO: i32 = 6;
    /// Debug.
    pub const DEBUG: i32 = 7;
}

/// The kmod tools' logger.
pub struct Log {
    prog: String,
    /// Messages above this priority are dropped.
    pub priority: i32,
    /// `None`: stderr. `Some(None)`: syslog, not connected (yet).
    syslog: Option<RefCell<Option<UnixDatagram>>>,
    /// Exit on a `FATAL` message, as kmod's tools/log.c does (off for a
    /// library component that returns after one, see
    /// [`Log::return_after_fatal`]).
    exit_on_fatal: bool,
}

/// kmod's name for a priority in messages (`ERROR`, `WARNING`...).
pub fn prio_name(p: i32) -> String {
    match p {
        prio::CRIT => "FATAL".into(),
        prio::ERR => "ERROR".into(),
        prio::WARNING => "WARNING".into(),
        prio::NOTICE => "NOTICE".into(),
        prio::INFO => "INFO".into(),
        prio::DEBUG => "DEBUG".into(),
        other => format!("LOG-{other:03}"),
    }
}

impl Log {
    /// A logger for program `prog` printing up to `priority` on stderr.
    pub fn new(prog: &str, priority: i32) -> Log {
        Log {
            prog: prog.to_string(),
            priority,
            syslog: None,
            exit_on_fatal: true,
        }
    }

    /// Lets a `FATAL` message return instead of exiting: for depmod, whose
    /// library returns after one so that the tool exits after flushing
    /// standard output, as C's `exit()` flushes stdio.
    pub fn return_after_fatal(&mut self) {
        self.exit_on_fatal = false;
    }

    /// Sends messages to syslog (`/dev/log`, facility daemon) instead of
    /// stderr. As glibc does, the socket is connected when the first
    /// message is sent.
    pub fn use_syslog(&mut self) {
        self.syslog = Some(RefCell::new(None));
    }

    /// Prints `text` (which ends with a newline, as kmod's formats do) at
    /// priority `p`.
    pub fn log(&self, p: i32, text: &str) {
        self.log_bytes(p, text.as_bytes());
    }

    /// As [`Log::log`], for a text that may hold any bytes (paths).
    pub fn log_bytes(&self, p: i32, text: &[u8]) {
        if p > self.priority {
            return;
        }
        let name = prio_name(p);
        match &self.syslog {
            Some(conn) => syslog(
                conn,
                p,
                &format!("{}: ", self.prog),
                &[name.as_bytes(), b": ", text].concat(),
            ),
            None => {
                let line = [self.prog.as_bytes(), b": ", name.as_bytes(), b": ", text].concat();
                let _ = std::io::stderr().lock().write_all(&line);
            }
        }
        if p <= prio::CRIT && self.exit_on_fatal {
            std::process::exit(1);
        }
    }

    /// Sets the priority `-v` raised, as kmod's `log_setup_kmod_log` does
    /// once the library context exists; libkmod then reports its new log
    /// function at `LOG_INFO` (`custom logging function 0x... registered`).
    pub fn setup_library_log(&mut self, priority: i32) {
        self.priority = priority;
        let function: fn(&Log, i32, &str) = Log::log;
        self.log(
            prio::INFO,
            &format!(
                "custom logging function {:p} registered\n",
                function as *const ()
            ),
        );
    }

    /// What libkmod logs at `LOG_INFO` when the tool releases its context
    /// (`kmod_unref`): `context 0x... released`.
    pub fn release_library_context(&self) {
        self.log(
            prio::INFO,
            &format!("context {:p} released\n", self as *const Log),
        );
    }

    /// An error message.
    pub fn error(&self, text: &str) {
        self.log(prio::ERR, text);
    }
}

/// The library's messages through the tool's logger: `PROG: LEVEL: text`
/// (libkmod's function name is not printed).
impl Logger for Log {
    fn log(&self, level: Level, _func: &str, msg: &[u8]) {
        self.log_bytes(level as i32, msg);
    }
}

/// libkmod's own logger, in use while a library context is created (so
/// for problems in the `modprobe.d` configuration): see
/// [`libkmod_early_log`].
pub struct LibkmodEarlyLog;

impl Logger for LibkmodEarlyLog {
    fn log(&self, level: Level, func: &str, msg: &[u8]) {
        libkmod_early_log(level as i32, func, msg);
    }
}

/// libkmod's own logger: `libkmod: ERROR: function: message` on stderr,
/// at the priority of `KMOD_LOG` (`err`, `info`, `debug` or a number;
/// errors by default).
pub fn libkmod_early_log(level: i32, func: &str, msg: &[u8]) {
    let threshold =
        std::env::var_os("KMOD_LOG").map_or(prio::ERR, |v| kmod_log_priority(v.as_encoded_bytes()));
    if level > threshold {
        return;
    }
    let name = match level {
        0 => "EMERGENCY".to_string(),
        1 => "ALERT".to_string(),
        2 => "CRITICAL".to_string(),
        3 => "ERROR".to_string(),
        4 => "WARNING".to_string(),
        5 => "NOTICE".to_string(),
        6 => "INFO".to_string(),
        7 => "DEBUG".to_string(),
        other => format!("L:{other}"),
    };
    let line = [
        b"libkmod: ",
        name.as_bytes(),
        b": ",
        func.as_bytes(),
        b": ",
        msg,
    ]
    .concat();
    let _ = std::io::stderr().lock().write_all(&line);
}

/// libkmod's reading of `KMOD_LOG`: a number, or `err`, `info`, `debug`.
pub fn kmod_log_priority(s: &[u8]) -> i32 {
    let p = modkit::compat::strtol::strtol(s, 10);
    match s.get(p.end) {
        None => p.value as i32,
        Some(&c) if isspace(c) => p.value as i32,
        _ if s.starts_with(b"err") => prio::ERR,
        _ if s.starts_with(b"info") => prio::INFO,
        _ if s.starts_with(b"debug") => prio::DEBUG,
        _ => 0,
    }
}

/// glibc's `syslog(3)` for `openlog(tag, LOG_CONS, LOG_DAEMON)`: sends
/// `<PRI>TIMESTAMP TAG: MSG` (the message as given, newline included) to
/// `/dev/log`, connecting first if needed and reconnecting once if the
/// send fails; when it cannot be sent, writes `TAG: MSG\r\n` to
/// `/dev/console`.
fn syslog(conn: &RefCell<Option<UnixDatagram>>, p: i32, tag: &str, msg: &[u8]) {
    const LOG_DAEMON: i32 = 3 << 3;
    let head = format!("<{}>{} {tag}", LOG_DAEMON | p, syslog_timestamp());
    let datagram = [head.as_bytes(), msg].concat();
    let connect = || {
        let sock = UnixDatagram::unbound().ok()?;
        sock.connect("/dev/log").ok()?;
        Some(sock)
    };
    let mut conn = conn.borrow_mut();
    for _ in 0..2 {
        if conn.is_none() {
            *conn = connect();
        }
        match conn.as_ref().map(|s| s.send(&datagram)) {
            Some(Ok(_)) => return,
            Some(Err(_)) => *conn = None,
            None => break,
        }
    }
    if let Ok(mut console) = modkit::process::open_terminal_for_writing("/dev/console") {
        let _ = console.write_all(&[tag.as_bytes(), msg, b"\r\n"].concat());
    }
}

/// `Mmm dd hh:mm:ss` in UTC (the syslog daemon stamps received messages
/// with its own clock anyway).
fn syslog_timestamp() -> String {
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // civil-from-days (Howard Hinnant's algorithm)
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    format!(
        "{} {:>2} {:02}:{:02}:{:02}",
        MONTHS[(month - 1) as usize],
        day,
        rem / 3600,
        rem / 60 % 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_like_kmod() {
        assert_eq!(prio_name(prio::ERR), "ERROR");
        assert_eq!(prio_name(prio::CRIT), "FATAL");
        assert_eq!(prio_name(9), "LOG-009");
    }

    #[test]
    fn timestamp_shape() {
        let t = syslog_timestamp();
        assert_eq!(t.len(), 15, "{t}");
        assert_eq!(&t[9..10], ":");
    }
}
