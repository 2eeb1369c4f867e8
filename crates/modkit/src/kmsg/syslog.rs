//! The `syslog(2)` interface to the kernel log (glibc's `klogctl`): the
//! fallback reader when `/dev/kmsg` is absent, clearing the log, and the
//! console controls.
//!
//! Reading returns text lines `<prio>[seconds.micros] message`, with
//! `[  T123]` after the timestamp on kernels with `CONFIG_PRINTK_CALLER`;
//! each line of a multi-line message carries the prefix. [`parse_line`]
//! splits such a line.

use crate::error::{Errno, Error, Result};
use crate::sys;

/// `SYSLOG_ACTION_CLOSE`: a no-op.
pub const ACTION_CLOSE: i32 = 0;
/// `SYSLOG_ACTION_OPEN`: a no-op.
pub const ACTION_OPEN: i32 = 1;
/// `SYSLOG_ACTION_READ`: read and consume, waiting for messages.
pub const ACTION_READ: i32 = 2;
/// `SYSLOG_ACTION_READ_ALL`: read the whole buffer.
pub const ACTION_READ_ALL: i32 = 3;
/// `SYSLOG_ACTION_READ_CLEAR`: read the whole buffer, then clear it.
pub const ACTION_READ_CLEAR: i32 = 4;
/// `SYSLOG_ACTION_CLEAR`: clear the buffer.
pub const ACTION_CLEAR: i32 = 5;
/// `SYSLOG_ACTION_CONSOLE_OFF`: stop printing messages to the console.
pub const ACTION_CONSOLE_OFF: i32 = 6;
/// `SYSLOG_ACTION_CONSOLE_ON`: print messages to the console again.
pub const ACTION_CONSOLE_ON: i32 = 7;
/// `SYSLOG_ACTION_CONSOLE_LEVEL`: set the console log level (1 to 8).
pub const ACTION_CONSOLE_LEVEL: i32 = 8;
/// `SYSLOG_ACTION_SIZE_UNREAD`: bytes not yet read by `ACTION_READ`.
pub const ACTION_SIZE_UNREAD: i32 = 9;
/// `SYSLOG_ACTION_SIZE_BUFFER`: size of the kernel log buffer.
pub const ACTION_SIZE_BUFFER: i32 = 10;

fn fail(action: i32) -> impl Fn(Errno) -> Error {
    move |e| {
        Error::new(
            e,
            format!("syslog({action}): {}", crate::error::strerror(e)),
        )
    }
}

/// An action without a buffer (0, 1, 5 to 10); `arg` is the console level
/// for [`ACTION_CONSOLE_LEVEL`], otherwise 0. Returns the kernel's result.
pub fn action(action: i32, arg: i32) -> Result<i32> {
    sys::klogctl(action, arg).map_err(fail(action))
}

/// A reading action ([`ACTION_READ`], [`ACTION_READ_ALL`],
/// [`ACTION_READ_CLEAR`]) into `buf`; returns the bytes read.
pub fn read_into(action: i32, buf: &mut [u8]) -> Result<usize> {
    sys::klogctl_read(action, buf).map_err(fail(action))
}

/// Clears the kernel log buffer.
pub fn clear() -> Result<()> {
    action(ACTION_CLEAR, 0).map(|_| ())
}

/// Disables printing messages to the console.
pub fn console_off() -> Result<()> {
    action(ACTION_CONSOLE_OFF, 0).map(|_| ())
}

/// Re-enables printing messages to the console.
pub fn console_on() -> Result<()> {
    action(ACTION_CONSOLE_ON, 0).map(|_| ())
}

/// Sets the console log level: messages with a level below `level` (1 to
/// 8) are printed to the console.
pub fn set_console_level(level: i32) -> Result<()> {
    action(ACTION_CONSOLE_LEVEL, level).map(|_| ())
}

/// The size of the kernel log buffer.
pub fn buffer_size() -> Result<usize> {
    action(ACTION_SIZE_BUFFER, 0).map(|n| n.max(0) as usize)
}

/// Bytes available to [`ACTION_READ`].
pub fn unread_size() -> Result<usize> {
    action(ACTION_SIZE_UNREAD, 0).map(|n| n.max(0) as usize)
}

/// Reads the whole log with [`ACTION_READ_ALL`] (or [`ACTION_READ_CLEAR`]
/// when `clear`), as util-linux's dmesg does: with `size` (its `-s`), one
/// read of `size + 8` bytes, that is the newest `size + 8` bytes of the
/// log; without, reads of 16392 bytes and up (times four) until one does
/// not fill the buffer.
pub fn read_all(size: Option<usize>, clear: bool) -> Result<Vec<u8>> {
    let act = if clear {
        ACTION_READ_CLEAR
    } else {
        ACTION_READ_ALL
    };
    if let Some(size) = size {
        let mut buf = vec![0; size + 8];
        let n = read_into(act, &mut buf)?;
        buf.truncate(n);
        return Ok(buf);
    }
    let mut sz = 16392usize;
    loop {
        let mut buf = vec![0; sz];
        let n = read_into(act, &mut buf)?;
        if n != sz || sz > 1 << 28 {
            buf.truncate(n);
            return Ok(buf);
        }
        sz *= 4;
    }
}

/// One line of the `syslog(2)` text.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Line<'a> {
    /// The `<prio>` value, when present and numeric.
    pub prio: Option<u32>,
    /// The `[seconds.micros]` timestamp, when present.
    pub time: Option<(u64, u32)>,
    /// The caller (`T123`, `C1`) of a `[  T123]` field.
    pub caller: Option<&'a [u8]>,
    /// The message text.
    pub message: &'a [u8],
}

/// Splits a line `<prio>[ts] [caller] message` (each part optional).
pub fn parse_line(line: &[u8]) -> Line<'_> {
    let mut rest = line.strip_suffix(b"\n").unwrap_or(line);
    let mut out = Line {
        prio: None,
        time: None,
        caller: None,
        message: rest,
    };
    if let Some(r) = rest.strip_prefix(b"<") {
        if let Some(close) = r.iter().position(|&b| b == b'>') {
            let digits = &r[..close];
            if !digits.is_empty() && digits.iter().all(u8::is_ascii_digit) {
                out.prio = std::str::from_utf8(digits)
                    .ok()
                    .and_then(|s| s.parse().ok());
                rest = &r[close + 1..];
            }
        }
    }
    if let Some(r) = rest.strip_prefix(b"[") {
        if let Some(close) = r.iter().position(|&b| b == b']') {
            let ts = r[..close].trim_ascii_start();
            if let Some(dot) = ts.iter().position(|&b| b == b'.') {
                let (s, us) = (&ts[..dot], &ts[dot + 1..]);
                let num = |d: &[u8]| -> Option<u64> {
                    if d.is_empty() || !d.iter().all(u8::is_ascii_digit) {
                        return None;
                    }
                    std::str::from_utf8(d).ok()?.parse().ok()
                };
                if let (Some(s), Some(us)) = (num(s), num(us)) {
                    if us < 1_000_000 {
                        out.time = Some((s, us as u32));
                        rest = &r[close + 1..];
                        rest = rest.strip_prefix(b" ").unwrap_or(rest);
                    }
                }
            }
        }
    }
    if out.time.is_some() {
        if let Some(r) = rest.strip_prefix(b"[") {
            if let Some(close) = r.iter().position(|&b| b == b']') {
                let id = r[..close].trim_ascii_start();
                if matches!(id.first(), Some(b'T' | b'C'))
                    && id.len() > 1
                    && id[1..].iter().all(u8::is_ascii_digit)
                {
                    out.caller = Some(id);
                    rest = &r[close + 1..];
                    rest = rest.strip_prefix(b" ").unwrap_or(rest);
                }
            }
        }
    }
    out.message = rest;
    out
}

/// The lines of a `syslog(2)` buffer.
pub fn lines(buf: &[u8]) -> impl Iterator<Item = Line<'_>> {
    buf.split(|&b| b == b'\n')
        .filter(|l| !l.is_empty())
        .map(parse_line)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn full_line() {
        let l = parse_line(b"<6>[    1.234567] [    T1] hello: world\n");
        assert_eq!(l.prio, Some(6));
        assert_eq!(l.time, Some((1, 234_567)));
        assert_eq!(l.caller, Some(&b"T1"[..]));
        assert_eq!(l.message, b"hello: world");
    }

    #[test]
    fn partial_lines() {
        let l = parse_line(b"plain text");
        assert_eq!(
            (l.prio, l.time, l.message),
            (None, None, &b"plain text"[..])
        );
        let l = parse_line(b"<30>no time");
        assert_eq!((l.prio, l.message), (Some(30), &b"no time"[..]));
        let l = parse_line(b"<x>[1.5] m");
        assert_eq!((l.prio, l.time), (None, None));
        let l = parse_line(b"[12345.000001] [T1x] m");
        assert_eq!(
            (l.time, l.caller, l.message),
            (Some((12345, 1)), None, &b"[T1x] m"[..])
        );
    }

    #[test]
    fn iterate() {
        let v: Vec<_> = lines(b"<6>[0.000000] a\n<4>[1.000000] b\n").collect();
        assert_eq!(v.len(), 2);
        assert_eq!(v[1].prio, Some(4));
    }
}
