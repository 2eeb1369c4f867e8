//! Where klogd reads records: `/dev/kmsg`, `syslog(2)`, or a recorded file
//! in `/dev/kmsg`'s format (tests and benchmarks).
//!
//! - `/dev/kmsg` gives each record its sequence number; `EPIPE` (records
//!   overwritten before they were read) is reported, and the seq gap that
//!   follows says how many.
//! - `syslog(2)` (`-s`) has no sequence numbers: the source numbers records
//!   itself from a starting number. `SYSLOG_ACTION_READ` consumes what it
//!   returns and skips what the kernel overwrote without saying so; the
//!   only sign of loss the interface gives is the unread size reaching the
//!   buffer size (`SYSLOG_ACTION_SIZE_UNREAD` = `SIZE_BUFFER`) before a
//!   read, which the source reports as [`SourceEvent::PossibleLoss`].
//! - A recorded file holds records as `cat /dev/kmsg` writes them (each
//!   record's line, then its dictionary lines starting with a space). Read
//!   to its end, or followed as it grows (as `tail -f`).

use std::collections::VecDeque;
use std::fs::File;
use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::entry::{Entry, Origin};
use super::record::{self, Malformed};
use crate::kmsg::reader::{Event, KmsgReader, Position};
use crate::kmsg::syslog;

/// What a source read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SourceEvent {
    /// A record.
    Record(Entry),
    /// Bytes that are not a record, and why.
    Malformed(Vec<u8>, Malformed),
    /// The kernel overwrote records before they were read (`EPIPE`); the
    /// next record's sequence number tells how many.
    Overwritten,
    /// `syslog(2)` only: the buffer was full before a read, records may
    /// have been lost (the interface cannot say how many).
    PossibleLoss,
    /// Nothing more (one-shot reading reached the end).
    End,
}

/// A source of kernel log records.
pub struct Source {
    kind: Kind,
    pending: VecDeque<SourceEvent>,
    boot_time_us: Option<i64>,
}

enum Kind {
    Kmsg(KmsgReader),
    File {
        file: File,
        data: Vec<u8>,
        follow: bool,
        stalled: bool,
        path: PathBuf,
    },
    Syslog {
        next_seq: u64,
        one_shot: bool,
        done: bool,
        buf: Vec<u8>,
    },
}

fn io_err(e: crate::Error) -> io::Error {
    io::Error::from_raw_os_error(e.errno())
}

impl Source {
    /// `/dev/kmsg` (or a device like it at `path`), from its oldest record;
    /// `follow`: wait for new records, else end at the last one.
    pub fn kmsg(path: impl AsRef<Path>, follow: bool) -> crate::Result<Source> {
        let mut reader = KmsgReader::open(path.as_ref(), follow)?;
        reader.seek(Position::First)?;
        Ok(Source {
            kind: Kind::Kmsg(reader),
            pending: VecDeque::new(),
            boot_time_us: crate::kmsg::time::boot_time().ok().map(|t| t.as_usec()),
        })
    }

    /// A recorded file of `/dev/kmsg` records, from its start; `follow`:
    /// wait for it to grow, else end at its end.
    pub fn recorded(path: impl AsRef<Path>, follow: bool) -> crate::Result<Source> {
        let path = path.as_ref();
        let file = File::open(path).map_err(|e| crate::Error::io(e, path.display()))?;
        Ok(Source {
            kind: Kind::File {
                file,
                data: Vec::new(),
                follow,
                stalled: false,
                path: path.to_path_buf(),
            },
            pending: VecDeque::new(),
            boot_time_us: None,
        })
    }

    /// `syslog(2)`: with `one_shot`, the whole buffer once
    /// (`SYSLOG_ACTION_READ_ALL`, nothing consumed); otherwise
    /// `SYSLOG_ACTION_READ`, which waits for records and consumes them.
    /// Records are numbered from `first_seq`.
    pub fn syslog(first_seq: u64, one_shot: bool) -> Source {
        Source {
            kind: Kind::Syslog {
                next_seq: first_seq,
                one_shot,
                done: false,
                buf: vec![0; 1 << 20],
            },
            pending: VecDeque::new(),
            boot_time_us: crate::kmsg::time::boot_time().ok().map(|t| t.as_usec()),
        }
    }

    /// The wall-clock time of the boot (microseconds since the epoch) that
    /// records are stamped with (`realtime_us` = it + `monotonic_us`),
    /// measured when the source was opened; `None` for a recorded file,
    /// whose records get no wall-clock time.
    pub fn boot_time_us(&self) -> Option<i64> {
        self.boot_time_us
    }

    /// Stamps records with `us` as the boot time instead of the measured
    /// one (a recorded file's records stay without a wall-clock time): a
    /// restarted klogd keeps the boot time its first start used
    /// ([`super::state::Positions::boot_time`]).
    pub fn set_boot_time_us(&mut self, us: i64) {
        if self.boot_time_us.is_some() {
            self.boot_time_us = Some(us);
        }
    }

    /// Whether records carry the kernel's own sequence numbers (so that a
    /// restart can resume by them).
    pub fn has_kernel_seq(&self) -> bool {
        !matches!(self.kind, Kind::Syslog { .. })
    }

    fn push_parsed(&mut self, raw: &[u8]) {
        let ev = match record::parse(raw) {
            Ok(mut e) => {
                e.realtime_us = self
                    .boot_time_us
                    .map(|b| b.saturating_add(e.monotonic_us as i64));
                SourceEvent::Record(e)
            }
            Err(m) => SourceEvent::Malformed(raw.to_vec(), m),
        };
        self.pending.push_back(ev);
    }

    /// The next event; blocks while following and nothing is there.
    pub fn read(&mut self) -> io::Result<SourceEvent> {
        loop {
            if let Some(ev) = self.pending.pop_front() {
                return Ok(ev);
            }
            match &mut self.kind {
                Kind::Kmsg(reader) => {
                    let raw = match reader.read().map_err(io_err)? {
                        Event::Record(r) => r.to_vec(),
                        Event::Overwritten => return Ok(SourceEvent::Overwritten),
                        Event::End => return Ok(SourceEvent::End),
                    };
                    self.push_parsed(&raw);
                }
                Kind::File {
                    file,
                    data,
                    follow,
                    stalled,
                    path,
                } => {
                    let old = data.len();
                    data.resize(old + (1 << 20), 0);
                    let n = loop {
                        match file.read(&mut data[old..]) {
                            Ok(n) => break n,
                            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                            Err(e) => {
                                data.truncate(old);
                                return Err(io::Error::new(
                                    e.kind(),
                                    format!("{}: {e}", path.display()),
                                ));
                            }
                        }
                    };
                    data.truncate(old + n);
                    let eof = n == 0;
                    let at_end = eof && (*stalled || !*follow);
                    let (records, used) = record::split_stream(data, at_end);
                    let records: Vec<Vec<u8>> = records.into_iter().map(<[u8]>::to_vec).collect();
                    data.drain(..used);
                    let (follow, was_stalled) = (*follow, *stalled);
                    *stalled = eof;
                    for r in &records {
                        self.push_parsed(r);
                    }
                    if eof && self.pending.is_empty() {
                        if !follow {
                            return Ok(SourceEvent::End);
                        }
                        if was_stalled {
                            std::thread::sleep(Duration::from_millis(50));
                        }
                    }
                }
                Kind::Syslog {
                    next_seq,
                    one_shot,
                    done,
                    buf,
                } => {
                    if *done {
                        return Ok(SourceEvent::End);
                    }
                    let n = if *one_shot {
                        *done = true;
                        syslog::read_into(syslog::ACTION_READ_ALL, buf).map_err(io_err)?
                    } else {
                        let full = matches!(
                            (syslog::unread_size(), syslog::buffer_size()),
                            (Ok(u), Ok(s)) if s > 0 && u >= s
                        );
                        if full {
                            self.pending.push_back(SourceEvent::PossibleLoss);
                        }
                        syslog::read_into(syslog::ACTION_READ, buf).map_err(io_err)?
                    };
                    let text = &buf[..n];
                    let mut seq = *next_seq;
                    let mut events = Vec::new();
                    for rec in crate::kmsg::record::syslog_records(text, true) {
                        let usec = rec.sec.max(0) as u64 * 1_000_000 + rec.usec.max(0) as u64;
                        let caller = rec.caller();
                        events.push(Entry {
                            seq,
                            level: rec.level.clamp(0, 7) as u8,
                            facility: rec.facility.max(0) as u8,
                            monotonic_us: usec,
                            realtime_us: None,
                            caller: (!caller.is_empty())
                                .then(|| String::from_utf8_lossy(caller).into_owned()),
                            message: rec.message(text).to_vec(),
                            dict: Vec::new(),
                            origin: Origin::Live,
                        });
                        seq += 1;
                    }
                    *next_seq = seq;
                    let boot = self.boot_time_us;
                    for mut e in events {
                        e.realtime_us = boot.map(|b| b.saturating_add(e.monotonic_us as i64));
                        self.pending.push_back(SourceEvent::Record(e));
                    }
                    if n == 0 && !*one_shot {
                        std::thread::sleep(Duration::from_millis(100));
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn events(src: &mut Source) -> Vec<SourceEvent> {
        let mut v = Vec::new();
        loop {
            let ev = src.read().unwrap();
            if ev == SourceEvent::End {
                return v;
            }
            v.push(ev);
        }
    }

    #[test]
    fn recorded_files_read_to_their_end() {
        let dir = modkit_testkit::ScratchDir::new("klogd-source");
        let p = dir.join("kmsg");
        std::fs::write(&p, b"6,1,10,-;one\n SUBSYSTEM=pci\njunk\n4,3,20,-;three").unwrap();
        let evs = events(&mut Source::recorded(&p, false).unwrap());
        assert_eq!(evs.len(), 3);
        let SourceEvent::Record(e) = &evs[0] else {
            panic!()
        };
        assert_eq!((e.seq, &e.message[..], e.dict.len()), (1, &b"one"[..], 1));
        assert!(matches!(&evs[1], SourceEvent::Malformed(raw, _) if raw == b"junk\n"));
        let SourceEvent::Record(e) = &evs[2] else {
            panic!()
        };
        assert_eq!((e.seq, e.level), (3, 4));
        assert!(Source::recorded(dir.join("missing"), false).is_err());
    }
}
