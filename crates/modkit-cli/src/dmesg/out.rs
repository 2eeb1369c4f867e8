//! dmesg's standard output: glibc's stdio buffering and error behaviour,
//! and the pager of `-H`.
//!
//! util-linux writes with `fputs`/`putchar` (errors ignored) and, for
//! message text, `fwrite` (errors fatal: `write failed`); at exit,
//! `close_stdout` reports any error as `write error`. glibc fully buffers
//! a non-terminal in blocks of `st_blksize`, line-buffers a terminal (and
//! the pager pipe, and everything in follow mode), and drops the buffered
//! bytes when a write fails. Writing to a closed pipe kills the C tool
//! with `SIGPIPE`; so it does here.

use std::io::{IsTerminal, Write};
use std::os::unix::fs::MetadataExt;
use std::process::{Child, ChildStdin, Command, Stdio};

use modkit::sys;

/// `EPIPE`.
const EPIPE: i32 = 32;

enum Target {
    Stdout(std::io::Stdout),
    Pager(ChildStdin),
}

/// The buffered standard output.
pub struct Out {
    /// Bytes not yet written.
    pub buf: Vec<u8>,
    block: usize,
    line_buffered: bool,
    /// glibc's error indicator (`ferror`).
    error: bool,
    target: Target,
    pager: Option<Child>,
}

impl Out {
    /// Standard output, buffered as glibc buffers it.
    pub fn new() -> Out {
        let stdout = std::io::stdout();
        let line_buffered = stdout.is_terminal();
        let block = std::fs::metadata("/dev/stdout")
            .map(|m| m.blksize() as usize)
            .ok()
            .filter(|&b| b > 0 && b <= 1 << 20)
            .unwrap_or(4096);
        Out {
            buf: Vec::with_capacity(block * 2 + 16384),
            block,
            line_buffered,
            error: false,
            target: Target::Stdout(stdout),
            pager: None,
        }
    }

    /// `setlinebuf(stdout)`.
    pub fn set_line_buffered(&mut self) {
        self.line_buffered = true;
    }

    fn write_all(&mut self, upto: usize) -> Result<(), i32> {
        let r = match &mut self.target {
            Target::Stdout(s) => {
                let mut lock = s.lock();
                lock.write_all(&self.buf[..upto]).and_then(|_| lock.flush())
            }
            Target::Pager(p) => p.write_all(&self.buf[..upto]),
        };
        match r {
            Ok(()) => {
                self.buf.drain(..upto);
                Ok(())
            }
            Err(e) => {
                let errno = e.raw_os_error().unwrap_or(5);
                if errno == EPIPE {
                    sys::die_of_sigpipe();
                }
                // glibc resets the buffer after a failed write: the
                // bytes are lost.
                self.buf.clear();
                self.error = true;
                Err(errno)
            }
        }
    }

    /// Call after appending bytes to [`Out::buf`] from offset `start`:
    /// writes out what glibc would have written by now. `Err(errno)` when
    /// that write failed (what `fwrite` would report).
    #[inline]
    pub fn commit(&mut self, start: usize) -> Result<(), i32> {
        if self.line_buffered {
            if let Some(nl) = self.buf[start..].iter().rposition(|&b| b == b'\n') {
                return self.write_all(start + nl + 1);
            }
            if self.buf.len() > self.block {
                let n = self.buf.len();
                return self.write_all(n);
            }
            Ok(())
        } else if self.buf.len() > self.block {
            let n = self.buf.len();
            self.write_all(n - n % self.block)
        } else {
            Ok(())
        }
    }

    /// `fwrite`: appends and reports a failed write.
    #[inline]
    pub fn write(&mut self, data: &[u8]) -> Result<(), i32> {
        let start = self.buf.len();
        self.buf.extend_from_slice(data);
        self.commit(start)
    }

    /// `fputs`/`putchar`: appends; errors only set the error indicator.
    #[inline]
    pub fn put(&mut self, data: &[u8]) {
        let _ = self.write(data);
    }

    /// `fflush(stdout)`.
    pub fn flush(&mut self) -> Result<(), i32> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let n = self.buf.len();
        self.write_all(n)
    }

    /// util-linux's `close_stdout` at exit: flushes, waits for the pager,
    /// and returns the message to print (`write error...`), if any.
    pub fn close(&mut self) -> Option<String> {
        let msg = if self.error {
            Some("write error".to_string())
        } else {
            self.flush()
                .err()
                .map(|e| format!("write error: {}", modkit::error::strerror(e)))
        };
        self.finish_pager();
        msg
    }

    /// Starts `$PAGER` (default `less`) when standard output is a
    /// terminal, as util-linux's `pager_redirect`; output then goes to it,
    /// line-buffered.
    pub fn start_pager(&mut self) {
        if !std::io::stdout().is_terminal() || self.pager.is_some() {
            return;
        }
        let pager = match std::env::var_os("PAGER") {
            None => "less".into(),
            Some(p) if p.is_empty() || p == "cat" => return,
            Some(p) => p,
        };
        if !has_command(pager.as_encoded_bytes()) {
            return;
        }
        let mut cmd = Command::new("sh");
        cmd.arg("-c").arg(&pager).stdin(Stdio::piped());
        if std::env::var_os("LESS").is_none() {
            cmd.env("LESS", "FRSX");
        }
        let _ = self.flush();
        let Ok(mut child) = cmd.spawn() else {
            return;
        };
        let Some(stdin) = child.stdin.take() else {
            return;
        };
        self.target = Target::Pager(stdin);
        self.line_buffered = true;
        self.pager = Some(child);
    }

    fn finish_pager(&mut self) {
        if let Some(mut child) = self.pager.take() {
            // Closing our end signals EOF to the pager.
            self.target = Target::Stdout(std::io::stdout());
            sys::ignore_terminal_signals();
            let _ = child.wait();
        }
    }
}

/// util-linux's `has_command`: the first word of `cmd` is an executable
/// path, or is found executable in `$PATH`.
fn has_command(cmd: &[u8]) -> bool {
    use std::os::unix::ffi::OsStrExt;
    let Some(word) = cmd.split(|&b| b == b' ').find(|w| !w.is_empty()) else {
        return false;
    };
    let executable = |p: &std::path::Path| {
        std::fs::metadata(p)
            .map(|m| m.permissions().mode() & 0o111 != 0)
            .unwrap_or(false)
    };
    use std::os::unix::fs::PermissionsExt;
    if word[0] == b'/' {
        return executable(std::path::Path::new(std::ffi::OsStr::from_bytes(word)));
    }
    let Some(path) = std::env::var_os("PATH") else {
        return false;
    };
    path.as_encoded_bytes()
        .split(|&b| b == b':')
        .filter(|d| !d.is_empty())
        .any(|d| {
            executable(
                &std::path::Path::new(std::ffi::OsStr::from_bytes(d))
                    .join(std::ffi::OsStr::from_bytes(word)),
            )
        })
}
