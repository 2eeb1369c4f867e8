//! The kernel log: `/dev/kmsg` records, the `syslog(2)` interface, and the
//! names of log levels and facilities.
//!
//! - [`record`] — parsing records, `/dev/kmsg`'s
//!   (`prio,seq,ts_usec,flags[,...];message`) and `syslog(2)`'s
//!   (`<prio>[ts] message`), exactly as util-linux's dmesg does.
//! - [`reader`] — reading `/dev/kmsg`, one record per `read(2)`.
//! - [`syslog`] — the `syslog(2)` actions (read, clear, console control)
//!   and the `<prio>[ts] message` text they return.
//! - [`time`] — boot time and time spent suspended, for dating records (local
//!   time conversion is in [`crate::compat::tz`]).
//! - [`printk_control`] — the console log levels, `printk_devkmsg`,
//!   `dmesg_restrict` and `kptr_restrict` of `/proc/sys/kernel`.
//!
//! ```no_run
//! use modkit::kmsg::reader::{Event, KmsgReader, Position};
//! use modkit::kmsg::record::KmsgBuffer;
//! let mut log = KmsgReader::open_kmsg(false)?;
//! log.seek(Position::AfterClear)?;
//! let mut buf = KmsgBuffer::new();
//! while let Event::Record(raw) = log.read()? {
//!     let Some(rec) = buf.parse_read(raw, true)? else { continue };
//!     let level = rec.level_name().unwrap_or("?");
//!     println!("{level} {}", String::from_utf8_lossy(rec.message(buf.bytes())));
//! }
//! # Ok::<(), modkit::Error>(())
//! ```

pub mod printk_control;
pub mod reader;
pub mod record;
pub mod syslog;
pub mod time;

/// A level or facility name with its description (as `dmesg --help`
/// lists them).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Name {
    /// The name used on command lines (`err`, `kern`).
    pub name: &'static str,
    /// What it means.
    pub help: &'static str,
}

const fn n(name: &'static str, help: &'static str) -> Name {
    Name { name, help }
}

/// Log levels (priorities) 0 to 7, by number.
pub const LEVELS: [Name; 8] = [
    n("emerg", "system is unusable"),
    n("alert", "action must be taken immediately"),
    n("crit", "critical conditions"),
    n("err", "error conditions"),
    n("warn", "warning conditions"),
    n("notice", "normal but significant condition"),
    n("info", "informational"),
    n("debug", "debug-level messages"),
];

/// Facilities 0 to 23, by number.
pub const FACILITIES: [Name; 24] = [
    n("kern", "kernel messages"),
    n("user", "random user-level messages"),
    n("mail", "mail system"),
    n("daemon", "system daemons"),
    n("auth", "security/authorization messages"),
    n("syslog", "messages generated internally by syslogd"),
    n("lpr", "line printer subsystem"),
    n("news", "network news subsystem"),
    n("uucp", "UUCP subsystem"),
    n("cron", "clock daemon"),
    n("authpriv", "security/authorization messages (private)"),
    n("ftp", "FTP daemon"),
    n("res0", "reserved 0"),
    n("res1", "reserved 1"),
    n("res2", "reserved 2"),
    n("res3", "reserved 3"),
    n("local0", "local use 0"),
    n("local1", "local use 1"),
    n("local2", "local use 2"),
    n("local3", "local use 3"),
    n("local4", "local use 4"),
    n("local5", "local use 5"),
    n("local6", "local use 6"),
    n("local7", "local use 7"),
];

/// The level of a syslog priority value (`prio & 7`).
pub fn level_of(prio: u32) -> u32 {
    prio & 7
}

/// The facility of a syslog priority value (`prio >> 3`).
pub fn facility_of(prio: u32) -> u32 {
    prio >> 3
}

/// The level with this name, case-insensitively (`"ERR"` → 3).
pub fn level_by_name(name: &[u8]) -> Option<u32> {
    LEVELS
        .iter()
        .position(|l| l.name.as_bytes().eq_ignore_ascii_case(name))
        .map(|i| i as u32)
}

/// The facility with this name, case-insensitively (`"kern"` → 0).
pub fn facility_by_name(name: &[u8]) -> Option<u32> {
    FACILITIES
        .iter()
        .position(|f| f.name.as_bytes().eq_ignore_ascii_case(name))
        .map(|i| i as u32)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert_eq!(level_by_name(b"WARN"), Some(4));
        assert_eq!(level_by_name(b"warning"), None);
        assert_eq!(facility_by_name(b"local7"), Some(23));
        assert_eq!(facility_by_name(b"authpriv"), Some(10));
        assert_eq!(FACILITIES[12].name, "res0");
        assert_eq!((level_of(30), facility_of(30)), (6, 3));
    }
}
