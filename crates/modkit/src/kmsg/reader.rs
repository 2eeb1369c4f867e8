//! Reading `/dev/kmsg`.
//!
//! Each `read(2)` returns exactly one record (or fails): the kernel keeps a
//! position per open file. The errors mean:
//!
//! - `EAGAIN`: no more records (non-blocking mode) — [`Event::End`];
//! - `EPIPE`: records were overwritten before they could be read (the ring
//!   buffer wrapped); the position moved to the oldest record still there,
//!   and reading can go on — [`Event::Overwritten`];
//! - `EINVAL`: the buffer is too small for the next record — an error.
//!
//! A new reader starts at the oldest record in the buffer; seek to
//! [`Position::AfterClear`] to skip what `SYSLOG_ACTION_CLEAR` cleared (as
//! `dmesg` does), or to [`Position::End`] to get only new records.

use std::fs::{File, OpenOptions};
use std::io::{ErrorKind, Read, Seek, SeekFrom};
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

use crate::error::{errno, Error, Result};
use crate::sys;

/// The kernel log device.
pub const KMSG_PATH: &str = "/dev/kmsg";

/// `O_NONBLOCK` (x86_64, aarch64 and most Linux architectures).
const O_NONBLOCK: i32 = 0o4000;
/// `EAGAIN`: nothing to read in non-blocking mode.
const EAGAIN: i32 = 11;
/// `EPIPE`: records overwritten.
const EPIPE: i32 = 32;

/// Room for the longest record the kernel formats (`CONSOLE_EXT_LOG_MAX`).
pub const DEFAULT_BUFFER_SIZE: usize = 8192;

/// Where to start reading.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Position {
    /// The oldest record still in the buffer (`SEEK_SET`).
    First,
    /// The first record after the last clear (`SEEK_DATA`).
    AfterClear,
    /// After the newest record: only records logged from now on
    /// (`SEEK_END`).
    End,
}

/// What a read returned.
#[derive(Debug, PartialEq, Eq)]
pub enum Event<'a> {
    /// One record, as the kernel formatted it (see [`super::record`]).
    Record(&'a [u8]),
    /// Records were lost (overwritten before being read); reading goes on
    /// from the oldest record still in the buffer.
    Overwritten,
    /// No more records for now (only in non-blocking mode).
    End,
}

/// A reader of `/dev/kmsg` (or of any device with its semantics).
#[derive(Debug)]
pub struct KmsgReader {
    file: File,
    buf: Vec<u8>,
    path: String,
}

impl KmsgReader {
    /// Opens `/dev/kmsg`; `follow` makes reads wait for new records
    /// instead of returning [`Event::End`].
    pub fn open_kmsg(follow: bool) -> Result<KmsgReader> {
        KmsgReader::open(KMSG_PATH, follow)
    }

    /// Opens a kmsg-like device.
    pub fn open(path: impl AsRef<Path>, follow: bool) -> Result<KmsgReader> {
        let path = path.as_ref();
        let mut options = OpenOptions::new();
        options.read(true);
        if !follow {
            options.custom_flags(O_NONBLOCK);
        }
        let file = options
            .open(path)
            .map_err(|e| Error::io(e, path.display()))?;
        Ok(KmsgReader {
            file,
            buf: vec![0; DEFAULT_BUFFER_SIZE],
            path: path.display().to_string(),
        })
    }

    /// Sets the read buffer size: a record that does not fit fails with
    /// `EINVAL` (util-linux's dmesg reads with 2047 bytes).
    pub fn set_buffer_size(&mut self, size: usize) {
        self.buf.resize(size.max(1), 0);
    }

    /// Moves to a position in the log.
    pub fn seek(&mut self, pos: Position) -> Result<()> {
        let r = match pos {
            Position::First => self.file.seek(SeekFrom::Start(0)).map(|_| ()),
            Position::End => self.file.seek(SeekFrom::End(0)).map(|_| ()),
            Position::AfterClear => sys::seek_data(&self.file)
                .map(|_| ())
                .map_err(std::io::Error::from_raw_os_error),
        };
        r.map_err(|e| Error::io(e, &self.path))
    }

    /// Reads the next record. `EINTR` is retried; `EINVAL` (record larger
    /// than the buffer) and other failures are errors.
    pub fn read(&mut self) -> Result<Event<'_>> {
        loop {
            match self.file.read(&mut self.buf) {
                Ok(0) => return Ok(Event::End),
                Ok(n) => return Ok(Event::Record(&self.buf[..n])),
                Err(e) => match e.raw_os_error() {
                    Some(EPIPE) => return Ok(Event::Overwritten),
                    Some(EAGAIN) => return Ok(Event::End),
                    _ if e.kind() == ErrorKind::Interrupted => continue,
                    Some(errno::EINVAL) => {
                        return Err(Error::new(
                            errno::EINVAL,
                            format!(
                                "{}: record larger than the {}-byte buffer",
                                self.path,
                                self.buf.len()
                            ),
                        ))
                    }
                    _ => return Err(Error::io(e, &self.path)),
                },
            }
        }
    }

    /// Reads the next record, retrying after [`Event::Overwritten`] as
    /// util-linux's dmesg does: `Ok(None)` at the end of the log.
    pub fn next_record(&mut self) -> Result<Option<&[u8]>> {
        loop {
            // Decide first, then borrow: the loop must not hold the
            // buffer across iterations.
            let n = match self.read()? {
                Event::Record(r) => r.len(),
                Event::Overwritten => continue,
                Event::End => return Ok(None),
            };
            return Ok(Some(&self.buf[..n]));
        }
    }

    /// The open file.
    pub fn file(&self) -> &File {
        &self.file
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kmsg::record::KMSG_BUFFER_SIZE;

    #[test]
    fn regular_files_read_as_one_record_per_read() {
        let dir = modkit_testkit::ScratchDir::new("kmsg");
        let p = dir.join("log");
        std::fs::write(&p, b"6,1,2,-;hello\n").unwrap();
        let mut r = KmsgReader::open(&p, false).unwrap();
        r.seek(Position::First).unwrap();
        assert_eq!(r.read().unwrap(), Event::Record(b"6,1,2,-;hello\n"));
        assert_eq!(r.read().unwrap(), Event::End);
        assert!(KmsgReader::open(dir.join("missing"), false).is_err());
    }

    #[test]
    fn host_kmsg_when_readable() {
        let Ok(mut r) = KmsgReader::open_kmsg(false) else {
            return;
        };
        if r.seek(Position::AfterClear).is_err() {
            return;
        }
        r.set_buffer_size(KMSG_BUFFER_SIZE - 1);
        let mut n = 0;
        let mut buf = super::super::record::KmsgBuffer::new();
        while let Ok(Some(raw)) = r.next_record() {
            let rec = buf.parse_read(raw, true).unwrap().unwrap();
            assert!((0..8).contains(&rec.level), "{raw:?}");
            n += 1;
            if n > 100_000 {
                break;
            }
        }
        r.seek(Position::End).unwrap();
        assert_eq!(r.read().unwrap(), Event::End);
    }
}
