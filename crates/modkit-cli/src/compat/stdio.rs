//! Standard output buffered, and failing, the way glibc's stdio does; and
//! unbuffered standard error.
//!
//! The reference tools print through glibc's `stdout`. What that means,
//! and what [`Stdout`] reproduces:
//!
//! - a terminal is line-buffered: each write goes out up to its last
//!   newline (or all of it once more than a block is pending);
//! - anything else (a pipe, a file, `/dev/full`) is fully buffered in
//!   blocks of the file's `st_blksize`: nothing goes out until more than a
//!   block is pending, then whole blocks do (`_IO_new_file_xsputn`);
//!   `setlinebuf` switches to line buffering (dmesg in follow mode, and
//!   when its output goes to a pager);
//! - a failed write drops the buffered bytes and sets the stream's error
//!   indicator (`ferror`); `fwrite` reports it, `printf`/`fputs` callers
//!   ignore it; at exit, util-linux's `close_stdout` prints `write error`
//!   (with `strerror` when the final flush is what failed) and exits 1;
//!   kmod's tools say nothing and exit 0, where modkit's say
//!   `ERROR: could not write to standard output` and exit 1
//!   ([`take_failed_write`]);
//! - a write to a closed pipe kills a C program with `SIGPIPE` (kmod's
//!   tools and dmesg alike: none handles it; `modprobe -c | head -1` ends
//!   with status 141); the Rust runtime ignores that signal, so [`Stdout`]
//!   asks for the death explicitly when a write fails with `EPIPE`.
//!
//! Where the block boundaries fall decides how stdout and stderr interleave
//! under `2>&1`, and which bytes are lost on `ENOSPC` — so the conformance
//! tests see them. Rust's `std::io::Stdout` is a `LineWriter` on any
//! file, and the buffering crates (`std::io::BufWriter` and kin) neither
//! size their blocks by `st_blksize` nor drop bytes on failure as glibc
//! does; hence this file.

use std::io::{self, IsTerminal, Write};
use std::os::unix::fs::MetadataExt;
use std::sync::atomic::{AtomicI32, Ordering};

use modkit::error::Errno;

/// `EPIPE`.
const EPIPE: Errno = 32;
/// `EIO`, for a failed write without an errno.
const EIO: Errno = 5;

/// The errno of the process's first failed write to standard output
/// (0: none), for [`take_failed_write`].
static FAILED_WRITE: AtomicI32 = AtomicI32::new(0);

/// The errno of the first write to standard output that failed since the
/// last call, if one did (and forgets it): for the kmod tools, which say
/// nothing themselves (kmod's tools do not check their writes), so that
/// the dispatcher can report it.
pub fn take_failed_write() -> Option<Errno> {
    match FAILED_WRITE.swap(0, Ordering::Relaxed) {
        0 => None,
        e => Some(e),
    }
}

/// Why [`Stdout::close`] failed, in util-linux's `close_stdout` terms.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CloseError {
    /// An earlier write failed (the error indicator was set): `write
    /// error`.
    Earlier,
    /// The final flush failed with this errno: `write error: <strerror>`.
    Flush(Errno),
}

/// Buffered standard output with glibc's flushing and error rules.
pub struct Stdout {
    buf: Vec<u8>,
    block: usize,
    line_buffered: bool,
    /// glibc's error indicator (`ferror`).
    error: bool,
    /// Whether a write to a closed pipe kills the process with `SIGPIPE`,
    /// as it kills a C program that does not handle the signal (always,
    /// but in this file's tests).
    die_of_sigpipe: bool,
    /// Where the bytes go: standard output, or a pager's pipe.
    target: Box<dyn Write>,
}

impl Default for Stdout {
    fn default() -> Stdout {
        Stdout::new()
    }
}

impl Stdout {
    /// Standard output, buffered as glibc would buffer it.
    pub fn new() -> Stdout {
        let line_buffered = io::stdout().is_terminal();
        let block = std::fs::metadata("/dev/stdout")
            .map(|m| m.blksize() as usize)
            .ok()
            .filter(|&b| b > 0 && b <= 1 << 20)
            .unwrap_or(4096);
        Stdout {
            buf: Vec::with_capacity(block * 2),
            block,
            line_buffered,
            error: false,
            die_of_sigpipe: true,
            target: raw_stdout(),
        }
    }

    /// `setlinebuf(stdout)`.
    pub fn set_line_buffered(&mut self) {
        self.line_buffered = true;
    }

    /// Sends what follows to `target` (a pager's pipe), line-buffered, after
    /// flushing what is pending to the current one. Returns the previous
    /// target.
    pub fn redirect(&mut self, target: Box<dyn Write>) -> Box<dyn Write> {
        let _ = self.flush();
        self.line_buffered = true;
        std::mem::replace(&mut self.target, target)
    }

    /// `printf`/`fputs`/`putchar`: appends; a failed write only sets the
    /// error indicator.
    #[inline]
    pub fn write(&mut self, data: &[u8]) {
        let _ = self.fwrite(data);
    }

    /// `fwrite`: appends, and reports a write that failed now with its
    /// errno.
    #[inline]
    pub fn fwrite(&mut self, data: &[u8]) -> Result<(), Errno> {
        self.fwrite_with(|buf| buf.extend_from_slice(data))
    }

    /// `fwrite` of what `fill` appends to the buffer (to format straight
    /// into it).
    #[inline]
    pub fn fwrite_with(&mut self, fill: impl FnOnce(&mut Vec<u8>)) -> Result<(), Errno> {
        let start = self.buf.len();
        fill(&mut self.buf);
        self.commit(start)
    }

    /// Writes out what glibc would have written by now, the bytes from
    /// `start` on being the new ones.
    fn commit(&mut self, start: usize) -> Result<(), Errno> {
        let n = self.buf.len();
        if self.line_buffered {
            if let Some(nl) = self.buf[start..].iter().rposition(|&b| b == b'\n') {
                return self.write_out(start + nl + 1);
            }
            if n > self.block {
                return self.write_out(n);
            }
            Ok(())
        } else if n > self.block {
            self.write_out(n - n % self.block)
        } else {
            Ok(())
        }
    }

    fn write_out(&mut self, upto: usize) -> Result<(), Errno> {
        let target = &mut self.target;
        let result = target
            .write_all(&self.buf[..upto])
            .and_then(|()| target.flush());
        match result {
            Ok(()) => {
                self.buf.drain(..upto);
                Ok(())
            }
            Err(e) => {
                let errno = e.raw_os_error().unwrap_or(EIO);
                if errno == EPIPE && self.die_of_sigpipe {
                    modkit::process::die_of_sigpipe();
                }
                // glibc resets the buffer after a failed write: the bytes
                // are lost.
                self.buf.clear();
                self.error = true;
                let _ =
                    FAILED_WRITE.compare_exchange(0, errno, Ordering::Relaxed, Ordering::Relaxed);
                Err(errno)
            }
        }
    }

    /// `fflush(stdout)`.
    pub fn flush(&mut self) -> Result<(), Errno> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let n = self.buf.len();
        self.write_out(n)
    }

    /// What happens to stdout at exit (util-linux's `close_stdout`): an
    /// error if any write failed (what is still buffered is then dropped)
    /// or if the final flush fails.
    pub fn close(&mut self) -> Result<(), CloseError> {
        if self.error {
            self.buf.clear();
            return Err(CloseError::Earlier);
        }
        self.flush().map_err(CloseError::Flush)
    }
}

impl Drop for Stdout {
    /// glibc flushes `stdout` at `exit()` (unless a write already failed:
    /// the tools report that instead).
    fn drop(&mut self) {
        if !self.error {
            let _ = self.flush();
        }
    }
}

/// File descriptor 1 without the Rust runtime's `LineWriter` in front
/// (which splits each block at its last newline: two `write(2)`s where
/// glibc makes one); the runtime's stdout when descriptor 1 is closed
/// (its write errors are then the runtime's, as before).
fn raw_stdout() -> Box<dyn Write> {
    use std::os::fd::AsFd;
    match io::stdout().as_fd().try_clone_to_owned() {
        Ok(fd) => Box::new(std::fs::File::from(fd)),
        Err(_) => Box::new(io::stdout()),
    }
}

/// Prints a whole text (a help or version text) through [`Stdout`] and
/// closes it: `false` when that failed (`/dev/full`), for the caller to
/// exit 1 as modkit does for any lost output; a closed pipe kills the
/// process with `SIGPIPE` as it kills kmod. (`print!` would panic.)
pub fn print_all(text: &str) -> bool {
    let mut out = Stdout::new();
    out.write(text.as_bytes());
    out.close().is_ok()
}

/// Writes one message to standard error, unbuffered, as `fprintf(stderr)`.
pub fn stderr(msg: &str) {
    stderr_bytes(msg.as_bytes());
}

/// Writes raw bytes to standard error, unbuffered (for messages that
/// carry user-given, possibly non-UTF-8 arguments).
pub fn stderr_bytes(msg: &[u8]) {
    let _ = io::stderr().lock().write_all(msg);
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::RefCell;
    use std::rc::Rc;

    /// A target that records each write, or fails with an errno.
    #[derive(Clone, Default)]
    struct Sink {
        writes: Rc<RefCell<Vec<Vec<u8>>>>,
        fail: Option<Errno>,
    }

    impl Write for Sink {
        fn write(&mut self, data: &[u8]) -> io::Result<usize> {
            if let Some(e) = self.fail {
                return Err(io::Error::from_raw_os_error(e));
            }
            self.writes.borrow_mut().push(data.to_vec());
            Ok(data.len())
        }

        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    fn stdout(block: usize, line_buffered: bool, sink: &Sink) -> Stdout {
        Stdout {
            buf: Vec::new(),
            block,
            line_buffered,
            error: false,
            die_of_sigpipe: false,
            target: Box::new(sink.clone()),
        }
    }

    #[test]
    fn full_buffering_writes_whole_blocks_once_more_than_one_is_pending() {
        let sink = Sink::default();
        let mut out = stdout(4, false, &sink);
        out.write(b"abcd");
        assert!(sink.writes.borrow().is_empty(), "a full block waits");
        out.write(b"efghij\n");
        assert_eq!(*sink.writes.borrow(), [b"abcdefgh".to_vec()]);
        assert_eq!(out.close(), Ok(()));
        assert_eq!(sink.writes.borrow()[1], b"ij\n");
    }

    #[test]
    fn line_buffering_writes_up_to_the_last_newline() {
        let sink = Sink::default();
        let mut out = stdout(4096, true, &sink);
        out.write(b"one\ntw");
        out.write(b"o");
        assert_eq!(*sink.writes.borrow(), [b"one\n".to_vec()]);
        out.write(b"\nthree\nfo");
        assert_eq!(sink.writes.borrow()[1], b"two\nthree\n");
        drop(out);
        assert_eq!(sink.writes.borrow()[2], b"fo", "flushed at exit");
    }

    #[test]
    fn failures_drop_the_bytes_and_are_reported_as_glibc_does() {
        let sink = Sink {
            fail: Some(28),
            ..Sink::default()
        };
        // fwrite reports the write that failed; printf-style writes only
        // set the error indicator, which close reports.
        let mut out = stdout(4, false, &sink);
        assert_eq!(out.fwrite(b"abc"), Ok(()));
        assert_eq!(out.fwrite(b"de"), Err(28));
        assert!(out.buf.is_empty());
        assert_eq!(out.close(), Err(CloseError::Earlier));
        // A failure at the final flush carries its errno.
        let mut out = stdout(4096, false, &sink);
        out.write(b"abc");
        assert_eq!(out.close(), Err(CloseError::Flush(28)));
    }
}
