//! What a C tool gets from its process's defaults and the tools here must
//! ask for: dying of `SIGPIPE`, leaving the terminal's signals to a pager,
//! opening a terminal without taking it as the controlling one, and
//! signalling another process (klogd's `-i`).
//!
//! The Rust runtime ignores `SIGPIPE` (writes to a closed pipe fail with
//! `EPIPE` instead), which a C program does not; these put the C
//! behaviour back where a tool's output must match it.

use std::fs::File;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

use crate::sys;

/// Ends the process the way a C program that did not handle `SIGPIPE`
/// ends on writing to a closed pipe: killed by the signal (its parent sees
/// signal 13, a shell status 141).
pub fn die_of_sigpipe() -> ! {
    sys::die_of_sigpipe()
}

/// Ignores `SIGINT`, `SIGQUIT`, `SIGHUP` and `SIGTERM` from now on: while
/// waiting for a pager to exit, the terminal's signals are the pager's
/// business (as util-linux's pager code, which waits for the pager before
/// dying).
pub fn ignore_terminal_signals() {
    sys::ignore_terminal_signals()
}

/// Sends a signal (`SIGUSR1` = 10, `SIGUSR2` = 12 on Linux) to the process
/// `pid` (above 0: process groups are refused with `ESRCH`). Errors are
/// `kill(2)`'s (`ESRCH`: no such process, `EPERM`).
pub fn send_signal(pid: i32, signal: i32) -> std::io::Result<()> {
    sys::kill(pid, signal).map_err(std::io::Error::from_raw_os_error)
}

/// Opens a terminal (`/dev/console`) for writing with `O_NOCTTY`, so that
/// a process without a controlling terminal does not acquire it, as
/// glibc's `syslog(3)` opens the console. Errors are `open(2)`'s.
pub fn open_terminal_for_writing(path: impl AsRef<Path>) -> std::io::Result<File> {
    std::fs::OpenOptions::new()
        .write(true)
        .custom_flags(sys::O_NOCTTY)
        .open(path)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn the_console_opens_for_writing_and_failures_are_open_errors() {
        let mut null = open_terminal_for_writing("/dev/null").unwrap();
        null.write_all(b"x").unwrap();
        let e = open_terminal_for_writing("/nonexistent/console").unwrap_err();
        assert_eq!(e.kind(), std::io::ErrorKind::NotFound);
    }
}
