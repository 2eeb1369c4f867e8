//! Standard output buffered the way glibc's stdio buffers it.
//!
//! The C tools print with `printf`: line-buffered when stdout is a terminal,
//! otherwise fully buffered in blocks of the file's `st_blksize`. Their
//! error messages go unbuffered to stderr. Reproducing that makes the
//! interleaving of stdout and stderr (e.g. under `2>&1`) the same as the
//! reference tools', not only each stream's bytes.

use std::io::{self, IsTerminal, Write};

/// Buffered standard output with glibc's flushing rules.
pub struct Stdout {
    buf: Vec<u8>,
    block: usize,
    line_buffered: bool,
    failed: bool,
}

impl Stdout {
    /// Standard output, buffered as glibc would buffer it.
    pub fn new() -> Stdout {
        let line_buffered = io::stdout().is_terminal();
        let block = std::fs::metadata("/dev/stdout")
            .map(|m| std::os::unix::fs::MetadataExt::blksize(&m) as usize)
            .ok()
            .filter(|&b| b > 0 && b <= 1 << 20)
            .unwrap_or(4096);
        Stdout {
            buf: Vec::with_capacity(block),
            block,
            line_buffered,
            failed: false,
        }
    }

    /// Appends bytes, writing out what glibc would have written by now.
    pub fn write(&mut self, data: &[u8]) {
        self.buf.extend_from_slice(data);
        if self.line_buffered {
            if let Some(nl) = data.iter().rposition(|&b| b == b'\n') {
                let upto = self.buf.len() - (data.len() - nl - 1);
                self.emit(upto);
            } else if self.buf.len() >= self.block {
                self.emit(self.buf.len());
            }
        } else if self.buf.len() >= self.block {
            let upto = self.buf.len() - self.buf.len() % self.block;
            self.emit(upto);
        }
    }

    fn emit(&mut self, upto: usize) {
        if !self.failed {
            let mut out = io::stdout().lock();
            if out
                .write_all(&self.buf[..upto])
                .and_then(|_| out.flush())
                .is_err()
            {
                self.failed = true;
            }
        }
        self.buf.drain(..upto);
    }

    /// Writes out everything buffered. Returns `false` if any write failed
    /// (e.g. a closed pipe).
    pub fn flush(&mut self) -> bool {
        let n = self.buf.len();
        self.emit(n);
        !self.failed
    }
}

impl Drop for Stdout {
    fn drop(&mut self) {
        self.flush();
    }
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
