//! The `syslog(2)` interface to the kernel log (glibc's `klogctl`): the
//! fallback reader when `/dev/kmsg` is absent, clearing the log, and the
//! console controls.
//!
//! Reading returns text lines `<prio>[seconds.micros] message`;
//! [`super::record::syslog_records`] parses them.

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
