//! The file output: one line per record, appended.
//!
//! ```text
//! 339 kern.info [    5.140900] NET: Registered protocol family 10
//! 1203 syslog.warn [   61.002311] klogd: missed 97 records (seq 1106 to 1202)
//! - syslog.notice [    0.000000] klogd: boot 5c1f0e36-0a4f-4c41-9d0e-2f8a1a2b3c4d
//! ```
//!
//! `SEQ FACILITY.LEVEL [SECONDS.MICROS] MESSAGE`: the kernel's sequence
//! number (`-` for a line that stands for no record: a boot marker, a
//! pstore record), the facility and level names (`kmsg::FACILITIES`,
//! `kmsg::LEVELS`; `pri<N>` beyond them), the time since boot as dmesg
//! prints it, then the message with control bytes other than tab written as
//! `\xNN` (so a record is always one line). Records from pstore carry
//! `[pstore KIND FILE]` before the message.
//!
//! Writes: what the daemon submitted between two polls is written with one
//! `write(2)` of whole lines, so a klogd killed at any moment leaves whole
//! lines; a partial last line (a full disk) is cut off when the file is
//! opened again. With [`SyncPolicy::Batch`] the file is `fsync`ed before
//! `poll` reports the batch delivered (so the persisted position never runs
//! ahead of what is on disk); with [`SyncPolicy::Never`] the kernel writes
//! it back when it likes (a killed klogd loses nothing, a power cut may).
//!
//! Rotation by size: before a line that would take the file past the
//! limit, `FILE.N-1` is renamed to `FILE.N` ... `FILE` to `FILE.1` and a new
//! `FILE` is started; `FILE.COUNT` is the oldest kept (a batch that spans
//! a rotation is written as one `write(2)` per file). `reopen` (`SIGHUP`)
//! closes and reopens `FILE`, for rotation done by others (logrotate).
//!
//! The file is its own record of what it holds: [`FileOutput::recovered`]
//! reads the sequence number of its last line (back to the last boot
//! marker), which the daemon uses when the persisted position is older
//! (klogd killed between the write and saving the position).

use std::fs::{File, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::time::Instant;

use super::entry::{Entry, Origin};
use super::output::Output;
use crate::kmsg::{FACILITIES, LEVELS};

/// When the file is `fsync`ed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SyncPolicy {
    /// Never: the kernel writes back when it likes.
    Never,
    /// After each batch, before the batch counts as delivered.
    Batch,
}

/// How the file output writes and rotates.
#[derive(Debug, Clone)]
pub struct FileSettings {
    /// Rotate before the file would grow past this many bytes (0: never).
    pub rotate_size: u64,
    /// Rotated files kept (`FILE.1` to `FILE.N`; 0 keeps none: the file
    /// starts again empty).
    pub rotate_count: u32,
    /// When to `fsync`.
    pub sync: SyncPolicy,
}

impl Default for FileSettings {
    fn default() -> FileSettings {
        FileSettings {
            rotate_size: 0,
            rotate_count: 5,
            sync: SyncPolicy::Batch,
        }
    }
}

/// The file output (see the module documentation).
#[derive(Debug)]
pub struct FileOutput {
    key: String,
    path: PathBuf,
    file: File,
    size: u64,
    settings: FileSettings,
    pending: Vec<u8>,
    pending_seq: Option<u64>,
    delivered: Option<u64>,
    recovered: Option<u64>,
}

/// The marker line's message prefix (after `] `).
const BOOT_MARKER: &[u8] = b"klogd: boot ";

fn open_append(path: &Path) -> io::Result<File> {
    OpenOptions::new()
        .append(true)
        .create(true)
        .mode(0o640)
        .open(path)
        .map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", path.display())))
}

/// The seq of the last record line of `data` (a file's tail), scanning back
/// to the last boot marker: `Ok(Some)` a seq, `Ok(None)` a marker came
/// first, `Err(())` neither was found.
fn last_seq(data: &[u8]) -> Result<Option<u64>, ()> {
    for line in data.split(|&b| b == b'\n').rev() {
        let Some(sp) = memchr::memchr(b' ', line) else {
            continue;
        };
        let first = &line[..sp];
        if first == b"-" {
            let is_marker = memchr::memmem::find(line, b"] ")
                .is_some_and(|i| line[i + 2..].starts_with(BOOT_MARKER));
            if is_marker {
                return Ok(None);
            }
            continue;
        }
        if let Some(n) = std::str::from_utf8(first).ok().and_then(|s| s.parse().ok()) {
            return Ok(Some(n));
        }
    }
    Err(())
}

/// The last 64 KiB of a file, after cutting a partial last line off it.
fn tail_of(path: &Path, cut_partial: bool) -> io::Result<Vec<u8>> {
    let mut f = match OpenOptions::new().read(true).write(cut_partial).open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e),
    };
    let len = f.metadata()?.len();
    let start = len.saturating_sub(65536);
    f.seek(SeekFrom::Start(start))?;
    let mut data = Vec::new();
    f.read_to_end(&mut data)?;
    if cut_partial && !data.is_empty() && !data.ends_with(b"\n") {
        let keep = data.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
        f.set_len(start + keep as u64)?;
        data.truncate(keep);
    }
    Ok(data)
}

impl FileOutput {
    /// Opens (creates, mode 0640) `path` for appending; a partial last line
    /// is cut off and the last record's seq read (see
    /// [`FileOutput::recovered`]).
    pub fn open(path: impl Into<PathBuf>, settings: FileSettings) -> io::Result<FileOutput> {
        let path = path.into();
        let mut tail = tail_of(&path, true)
            .map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", path.display())))?;
        let mut recovered = last_seq(&tail);
        if recovered.is_err() && tail.is_empty() {
            // Killed between a rotation and the write after it.
            let mut old = path.clone().into_os_string();
            old.push(".1");
            tail = tail_of(Path::new(&old), false).unwrap_or_default();
            recovered = last_seq(&tail);
        }
        let file = open_append(&path)?;
        let size = file.metadata()?.len();
        Ok(FileOutput {
            key: format!("file:{}", path.display()),
            path,
            file,
            size,
            settings,
            pending: Vec::with_capacity(1 << 16),
            pending_seq: None,
            delivered: None,
            recovered: recovered.ok().flatten(),
        })
    }

    /// The seq of the last record line the file held when opened (back to
    /// its last boot marker): what this output delivered before a restart,
    /// if the file is from this boot.
    pub fn recovered(&self) -> Option<u64> {
        self.recovered
    }

    /// Appends a boot marker (`- syslog.notice [0.000000] klogd: boot ID`)
    /// and syncs it: lines after it belong to that boot. The daemon writes
    /// one when the persisted position is of another boot.
    pub fn mark_boot(&mut self, boot_id: &str) -> io::Result<()> {
        let line = format!("- syslog.notice [    0.000000] klogd: boot {boot_id}\n");
        self.write_out(line.as_bytes())?;
        self.file.sync_data()?;
        self.recovered = None;
        Ok(())
    }

    fn write_out(&mut self, bytes: &[u8]) -> io::Result<()> {
        let limit = self.settings.rotate_size;
        let mut rest = bytes;
        while !rest.is_empty() {
            let room = if limit == 0 {
                u64::MAX
            } else {
                limit.saturating_sub(self.size)
            };
            let take = if rest.len() as u64 <= room {
                rest.len()
            } else {
                // The whole lines that fit; a line longer than the limit
                // goes alone into a file of its own.
                let fit = &rest[..room as usize];
                match fit.iter().rposition(|&b| b == b'\n') {
                    Some(i) => i + 1,
                    None if self.size > 0 => {
                        self.rotate()?;
                        continue;
                    }
                    None => memchr::memchr(b'\n', rest).map_or(rest.len(), |i| i + 1),
                }
            };
            self.file
                .write_all(&rest[..take])
                .map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", self.path.display())))?;
            self.size += take as u64;
            rest = &rest[take..];
            if !rest.is_empty() {
                self.rotate()?;
            }
        }
        Ok(())
    }

    fn numbered(&self, n: u32) -> PathBuf {
        let mut p = self.path.clone().into_os_string();
        p.push(format!(".{n}"));
        PathBuf::from(p)
    }

    fn rotate(&mut self) -> io::Result<()> {
        let count = self.settings.rotate_count;
        if count == 0 {
            self.file.set_len(0)?;
            self.size = 0;
            return Ok(());
        }
        for n in (1..count).rev() {
            let from = self.numbered(n);
            if from.exists() {
                std::fs::rename(&from, self.numbered(n + 1))?;
            }
        }
        std::fs::rename(&self.path, self.numbered(1))?;
        self.file = open_append(&self.path)?;
        self.size = 0;
        Ok(())
    }
}

/// Appends `msg` with control bytes (other than tab) as `\xNN`.
fn push_escaped(out: &mut Vec<u8>, msg: &[u8]) {
    for &b in msg {
        if (b < 0x20 && b != b'\t') || b == 0x7f {
            out.extend_from_slice(format!("\\x{b:02x}").as_bytes());
        } else {
            out.push(b);
        }
    }
}

/// One entry as a line of the file (see the module documentation).
pub fn format_line(out: &mut Vec<u8>, entry: &Entry) {
    use std::io::Write as _;
    let fac = FACILITIES.get(usize::from(entry.facility)).map(|f| f.name);
    let level = LEVELS[usize::from(entry.level & 7)].name;
    match &entry.origin {
        Origin::Pstore { .. } => out.extend_from_slice(b"- "),
        _ => {
            let _ = write!(out, "{} ", entry.seq);
        }
    }
    match fac {
        Some(f) => out.extend_from_slice(f.as_bytes()),
        None => {
            let _ = write!(
                out,
                "pri{}",
                u32::from(entry.facility) * 8 + u32::from(entry.level)
            );
        }
    }
    let _ = write!(
        out,
        ".{level} [{:5}.{:06}] ",
        entry.monotonic_us / 1_000_000,
        entry.monotonic_us % 1_000_000
    );
    if let Origin::Pstore { kind, file } = &entry.origin {
        let _ = write!(out, "[pstore {kind} {file}] ");
    }
    push_escaped(out, &entry.message);
    out.push(b'\n');
}

impl Output for FileOutput {
    fn key(&self) -> &str {
        &self.key
    }

    fn submit(&mut self, entry: &Entry) -> io::Result<()> {
        format_line(&mut self.pending, entry);
        if !matches!(entry.origin, Origin::Pstore { .. }) {
            self.pending_seq = Some(entry.seq);
        }
        Ok(())
    }

    fn poll(&mut self, _now: Instant) -> io::Result<Option<u64>> {
        if !self.pending.is_empty() {
            let batch = std::mem::take(&mut self.pending);
            let result = self.write_out(&batch);
            self.pending = batch;
            result?;
            self.pending.clear();
            if self.settings.sync == SyncPolicy::Batch {
                self.file.sync_data()?;
            }
            if self.pending_seq.is_some() {
                self.delivered = self.pending_seq;
            }
        }
        Ok(self.delivered)
    }

    fn take_dropped(&mut self) -> u64 {
        0
    }

    fn flush(&mut self, deadline: Instant) -> io::Result<Option<u64>> {
        self.poll(deadline)
    }

    fn reopen(&mut self) -> io::Result<()> {
        self.file = open_append(&self.path)?;
        self.size = self.file.metadata()?.len();
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(seq: u64, msg: &[u8]) -> Entry {
        Entry {
            seq,
            level: 4,
            facility: 0,
            monotonic_us: 12_345_678,
            realtime_us: None,
            caller: None,
            message: msg.to_vec(),
            dict: Vec::new(),
            origin: Origin::Live,
        }
    }

    #[test]
    fn lines_and_recovery() {
        let dir = modkit_testkit::ScratchDir::new("klogd-file");
        let p = dir.join("kern.log");
        let mut f = FileOutput::open(&p, FileSettings::default()).unwrap();
        assert_eq!(f.recovered(), None);
        f.mark_boot("B").unwrap();
        f.submit(&entry(7, b"a\nb\x7f\tc")).unwrap();
        f.submit(&entry(8, b"x")).unwrap();
        assert_eq!(f.poll(Instant::now()).unwrap(), Some(8));
        let text = std::fs::read_to_string(&p).unwrap();
        assert_eq!(
            text,
            "- syslog.notice [    0.000000] klogd: boot B\n\
             7 kern.warn [   12.345678] a\\x0ab\\x7f\tc\n\
             8 kern.warn [   12.345678] x\n"
        );
        drop(f);
        // A partial line is cut, the last seq recovered.
        std::fs::write(&p, format!("{text}9 kern.warn [  1.0] part")).unwrap();
        let mut f = FileOutput::open(&p, FileSettings::default()).unwrap();
        assert_eq!(f.recovered(), Some(8));
        assert_eq!(std::fs::read_to_string(&p).unwrap(), text);
        f.mark_boot("C").unwrap();
        drop(f);
        let f = FileOutput::open(&p, FileSettings::default()).unwrap();
        assert_eq!(f.recovered(), None);
    }

    #[test]
    fn rotation_keeps_count_files_of_whole_lines() {
        let dir = modkit_testkit::ScratchDir::new("klogd-rotate");
        let p = dir.join("k.log");
        let settings = FileSettings {
            rotate_size: 100,
            rotate_count: 2,
            sync: SyncPolicy::Never,
        };
        let mut f = FileOutput::open(&p, settings.clone()).unwrap();
        for seq in 0..20 {
            f.submit(&entry(seq, b"0123456789")).unwrap();
            f.poll(Instant::now()).unwrap();
        }
        for q in [p.clone(), dir.join("k.log.1"), dir.join("k.log.2")] {
            let t = std::fs::read_to_string(&q).unwrap();
            assert!(t.len() <= 100 && t.ends_with('\n'), "{q:?}: {t}");
        }
        assert!(!dir.join("k.log.3").exists());
        let last = std::fs::read_to_string(&p).unwrap();
        assert!(last.ends_with("19 kern.warn [   12.345678] 0123456789\n"));
        // Killed right after a rotation: the seq comes from FILE.1.
        std::fs::rename(&p, dir.join("k.log.1")).unwrap();
        let f = FileOutput::open(&p, settings).unwrap();
        assert_eq!(f.recovered(), Some(19));
    }
}
