//! The kernel's persistent store (`/sys/fs/pstore`): the records a previous
//! boot left behind — above all the last kernel messages before a panic or
//! an oops, which no log daemon could read in time — turned into klogd
//! [`Entry`] values, archived and removed, as `systemd-pstore` does.
//!
//! # Records
//!
//! Each file of the pstore file system is one record, named
//! `TYPE-BACKEND-ID` by the kernel: `dmesg-ramoops-0`, `console-ramoops-0`,
//! `pmsg-ramoops-0`, `dmesg-efi-…`. A record the kernel could not
//! decompress is named with `.enc.z` after it and holds the raw deflate
//! stream (pstore compresses dmesg records with deflate, no zlib header):
//! this module inflates it itself. A ramoops record with ECC ends with a
//! line `ECC: …` (kept as an entry of its own).
//!
//! A `dmesg` record is one part of a kernel log dump. It starts with the
//! header `REASON#COUNT PartN` (`Panic#1 Part1`, `Oops#2 Part3`); the lines
//! after it are in syslog form: `<PRI>[ SECONDS.MICROS] MESSAGE`, optionally
//! with a caller (`[    T123]`) after the time. Part 1 is the end of the
//! log, part 2 what came before it, and so on: entries are put back in the
//! order the kernel logged them (by COUNT, then by part, highest first).
//! `console` and `pmsg` records are plain text: one entry per line, the
//! time taken from a `[ SECONDS.MICROS]` prefix when there is one, level 6
//! (info), facility 0 (kern) for the console and 1 (user) for pmsg.
//!
//! Every entry has [`Origin::Pstore`] (the record's kind and file name),
//! `monotonic_us` from its line (the previous boot's clock; 0 when none),
//! and `realtime_us` estimated from the record's time (the file's mtime,
//! which the kernel sets to the time of the dump) less the distance between
//! the line and the record's last line. Sequence numbers count from 0 in
//! the order of the entries (pstore has none of its own).
//!
//! # Storage and removal (systemd-pstore's `Storage=` and `Unlink=`)
//!
//! - [`Storage::External`] (the default): the records are copied into
//!   `ARCHIVE_DIR/NAME/` — each file as the kernel gave it, plus
//!   `dmesg.txt` with the dmesg parts put back in order — written under a
//!   temporary name and renamed when complete (never a partial directory);
//!   NAME is the id of the boot that collected them (the records belong to
//!   the boot before it), with `.1`, `.2` … when it exists already.
//! - [`Storage::Journal`]: nothing is copied: the entries, forwarded by
//!   klogd, are the only record kept.
//! - [`Storage::None`]: nothing is read, copied or removed.
//!
//! With `unlink` (the default), a record is removed from pstore once it is
//! stored (for `External`: after the rename), which frees the backend for
//! the next crash. klogd reads a [`Collection`], forwards its entries, and
//! only then calls [`Collection::finish`]; [`collect`] does both at once.

use std::ffi::OsStr;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

use crate::klogd::entry::{Entry, Origin};

/// Where the kernel mounts pstore.
pub const PSTORE_DIR: &str = "/sys/fs/pstore";

/// Where [`Storage::External`] keeps the records.
pub const ARCHIVE_DIR: &str = "/var/lib/modkit/pstore";

/// What to do with the records (systemd-pstore's `Storage=`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Storage {
    /// Copy them into the archive directory.
    External,
    /// Keep no copy: the forwarded entries are the record.
    Journal,
    /// Leave pstore alone.
    None,
}

/// How to collect.
#[derive(Debug, Clone)]
pub struct Options {
    /// The pstore mount point ([`PSTORE_DIR`]).
    pub dir: PathBuf,
    /// The archive ([`ARCHIVE_DIR`]).
    pub archive_dir: PathBuf,
    /// What to keep.
    pub storage: Storage,
    /// Remove the records from pstore once stored (systemd's `Unlink=`).
    pub unlink: bool,
    /// Mount pstore on `dir` when nothing is mounted there (needs root).
    pub mount: bool,
    /// Whether `dir` must be a mounted pstore; `false` reads a plain
    /// directory of pstore records (a copy of another machine's, or a test's).
    pub require_mounted: bool,
    /// The archive's directory name; `None`: this boot's id
    /// (`/proc/sys/kernel/random/boot_id`).
    pub archive_name: Option<String>,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            dir: PathBuf::from(PSTORE_DIR),
            archive_dir: PathBuf::from(ARCHIVE_DIR),
            storage: Storage::External,
            unlink: true,
            mount: true,
            require_mounted: true,
            archive_name: None,
        }
    }
}

/// One pstore file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// The file name (`dmesg-ramoops-0`, `dmesg-efi-1.enc.z`).
    pub file: String,
    /// The record type (`dmesg`, `console`, `pmsg`, `ftrace`, `mce`...).
    pub kind: String,
    /// The backend (`ramoops`, `efi`, `blk`...).
    pub backend: String,
    /// Whether the kernel left it compressed (`.enc.z`).
    pub compressed: bool,
    /// The record's time (the file's mtime) in microseconds since the epoch.
    pub time_us: Option<i64>,
    /// The file's bytes as read.
    pub raw: Vec<u8>,
    /// The text: `raw`, inflated for a compressed record (`None` when that
    /// failed).
    pub text: Option<Vec<u8>>,
}

impl Record {
    /// Makes a record from a file name and its contents (`time_us`: the
    /// mtime). The name must be `TYPE-BACKEND-ID[.enc.z]`.
    pub fn new(file: &str, raw: Vec<u8>, time_us: Option<i64>) -> Option<Record> {
        let (base, compressed) = match file.strip_suffix(".enc.z") {
            Some(b) => (b, true),
            None => (file, false),
        };
        let mut parts = base.splitn(3, '-');
        let kind = parts.next().filter(|s| !s.is_empty())?;
        let backend = parts.next().filter(|s| !s.is_empty())?;
        parts.next()?;
        let text = if compressed {
            inflate(&raw)
        } else {
            Some(raw.clone())
        };
        Some(Record {
            file: file.to_string(),
            kind: kind.to_string(),
            backend: backend.to_string(),
            compressed,
            time_us,
            raw,
            text,
        })
    }

    /// `(COUNT, PART)` of a dmesg record's `REASON#COUNT PartN` header.
    pub fn dump_part(&self) -> Option<(u32, u32)> {
        let text = self.text.as_deref()?;
        let first = text.split(|&b| b == b'\n').next()?;
        let first = std::str::from_utf8(first).ok()?;
        let (_, rest) = first.split_once('#')?;
        let (count, part) = rest.split_once(" Part")?;
        Some((count.trim().parse().ok()?, part.trim().parse().ok()?))
    }
}

/// pstore's compression: a raw deflate stream (zlib's headers tried too).
fn inflate(raw: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    if flate2::read::DeflateDecoder::new(raw)
        .read_to_end(&mut out)
        .is_ok()
        && !out.is_empty()
    {
        return Some(out);
    }
    out.clear();
    if flate2::read::ZlibDecoder::new(raw)
        .read_to_end(&mut out)
        .is_ok()
        && !out.is_empty()
    {
        return Some(out);
    }
    None
}

/// The records read from pstore, not yet stored or removed.
#[derive(Debug)]
pub struct Collection {
    options: Options,
    /// The records, in the order their entries come.
    pub records: Vec<Record>,
    entries: Vec<Entry>,
}

/// What [`Collection::finish`] did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Finished {
    /// The archive directory written ([`Storage::External`] with records).
    pub archived: Option<PathBuf>,
    /// The pstore files removed.
    pub removed: Vec<String>,
}

impl Collection {
    /// Reads every record of `options.dir` (mounting pstore there first when
    /// allowed and needed). Files that are not records (no `TYPE-BACKEND-ID`
    /// name) are left alone. Errors: pstore not mounted (and not mountable),
    /// an unreadable directory or file.
    pub fn read(options: &Options) -> io::Result<Collection> {
        let mut collection = Collection {
            options: options.clone(),
            records: Vec::new(),
            entries: Vec::new(),
        };
        if options.storage == Storage::None {
            return Ok(collection);
        }
        if options.require_mounted {
            ensure_mounted(&options.dir, options.mount)?;
        }
        let mut records = Vec::new();
        for dirent in std::fs::read_dir(&options.dir)? {
            let dirent = dirent?;
            let name = dirent.file_name();
            let Some(name) = name.to_str() else { continue };
            let meta = dirent.metadata()?;
            if !meta.is_file() {
                continue;
            }
            let raw = std::fs::read(dirent.path())?;
            let time_us = meta
                .modified()
                .ok()
                .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
                .map(|d| d.as_micros() as i64);
            if let Some(record) = Record::new(name, raw, time_us) {
                records.push(record);
            }
        }
        order(&mut records);
        collection.entries = entries_of(&records);
        collection.records = records;
        Ok(collection)
    }

    /// The entries, in order, numbered from 0.
    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }

    /// Stores the records as `options.storage` says and removes them from
    /// pstore when `options.unlink`. On an error nothing is removed (an
    /// archive left half-written is removed too).
    pub fn finish(self) -> io::Result<Finished> {
        let mut done = Finished::default();
        if self.records.is_empty() || self.options.storage == Storage::None {
            return Ok(done);
        }
        if self.options.storage == Storage::External {
            done.archived = Some(archive(&self.options, &self.records)?);
        }
        if self.options.unlink {
            for r in &self.records {
                std::fs::remove_file(self.options.dir.join(&r.file)).map_err(|e| {
                    io::Error::new(
                        e.kind(),
                        format!("{}/{}: {e}", self.options.dir.display(), r.file),
                    )
                })?;
                done.removed.push(r.file.clone());
            }
        }
        Ok(done)
    }
}

/// Reads, stores and removes in one go; returns the entries and what was
/// done. (klogd proper reads, forwards, then finishes: see [`Collection`].)
pub fn collect(options: &Options) -> io::Result<(Vec<Entry>, Finished)> {
    let collection = Collection::read(options)?;
    let entries = collection.entries().to_vec();
    let finished = collection.finish()?;
    Ok((entries, finished))
}

/// Whether a pstore file system is mounted on `dir` (`/proc/self/mountinfo`).
pub fn is_mounted(dir: &Path) -> io::Result<bool> {
    let info = std::fs::read_to_string("/proc/self/mountinfo")?;
    let want = dir.to_string_lossy();
    Ok(info.lines().any(|line| {
        let fields: Vec<&str> = line.split(' ').collect();
        let Some(sep) = fields.iter().position(|&f| f == "-") else {
            return false;
        };
        fields.get(4).map(|m| unescape_mount(m)) == Some(want.to_string())
            && fields.get(sep + 1) == Some(&"pstore")
    }))
}

fn unescape_mount(field: &str) -> String {
    field
        .replace("\\040", " ")
        .replace("\\011", "\t")
        .replace("\\012", "\n")
        .replace("\\134", "\\")
}

/// Mounts pstore on `dir` unless it is mounted (`mount` false: only checks).
/// The error says what to do: `mount -t pstore pstore DIR` as root.
pub fn ensure_mounted(dir: &Path, mount: bool) -> io::Result<()> {
    if is_mounted(dir)? {
        return Ok(());
    }
    let hint = || {
        io::Error::new(
            io::ErrorKind::NotFound,
            format!(
                "{}: pstore is not mounted (as root: mount -t pstore pstore {})",
                dir.display(),
                dir.display()
            ),
        )
    };
    if !mount {
        return Err(hint());
    }
    crate::sys::mount_pstore(dir).map_err(|errno| {
        io::Error::new(
            io::Error::from_raw_os_error(errno).kind(),
            format!(
                "{}: cannot mount pstore: {} (as root: mount -t pstore pstore {})",
                dir.display(),
                io::Error::from_raw_os_error(errno),
                dir.display()
            ),
        )
    })
}

/// Puts the records in the order their entries come: dmesg dumps by count,
/// each dump's parts from the highest (oldest text) to part 1; then the
/// other records by name.
fn order(records: &mut [Record]) {
    records.sort_by(|a, b| {
        let key = |r: &Record| {
            let dmesg = r.kind == "dmesg";
            let (count, part) = r.dump_part().unwrap_or((u32::MAX, 0));
            (!dmesg, count, std::cmp::Reverse(part), r.file.clone())
        };
        key(a).cmp(&key(b))
    });
}

/// The entries of `records` (already in order), numbered from 0.
pub fn entries_of(records: &[Record]) -> Vec<Entry> {
    let mut entries = Vec::new();
    for r in records {
        let Some(text) = &r.text else { continue };
        let first = entries.len();
        let mut lines: Vec<&[u8]> = text.split(|&b| b == b'\n').collect();
        while lines.last().is_some_and(|l| l.is_empty()) {
            lines.pop();
        }
        let skip_header = usize::from(r.kind == "dmesg" && r.dump_part().is_some());
        for line in lines.into_iter().skip(skip_header) {
            let line = line.strip_suffix(b"\r").unwrap_or(line);
            if line.is_empty() {
                continue;
            }
            let mut e = parse_line(line, &r.kind);
            e.origin = Origin::Pstore {
                kind: r.kind.clone(),
                file: r.file.clone(),
            };
            entries.push(e);
        }
        // The wall-clock estimate: the record's time is that of its last line.
        if let Some(t) = r.time_us {
            let last_mono = entries[first..]
                .iter()
                .map(|e| e.monotonic_us)
                .max()
                .unwrap_or(0);
            for e in &mut entries[first..] {
                if e.monotonic_us > 0 || last_mono == 0 {
                    e.realtime_us = Some(t - (last_mono - e.monotonic_us) as i64);
                }
            }
        }
    }
    for (i, e) in entries.iter_mut().enumerate() {
        e.seq = i as u64;
    }
    entries
}

/// One line: `<PRI>` (dmesg), `[ SECONDS.MICROS]`, `[ CALLER]`, message.
fn parse_line(line: &[u8], kind: &str) -> Entry {
    let mut rest = line;
    let (mut level, mut facility) = (6u8, u8::from(kind == "pmsg"));
    if let Some(after) = rest.strip_prefix(b"<") {
        if let Some(end) = after.iter().position(|&b| b == b'>') {
            if let Some(pri) = std::str::from_utf8(&after[..end])
                .ok()
                .and_then(|s| s.parse::<u32>().ok())
            {
                level = (pri & 7) as u8;
                facility = (pri >> 3).min(255) as u8;
                rest = &after[end + 1..];
            }
        }
    }
    let mut monotonic_us = 0;
    if let Some((us, after)) = bracket_time(rest) {
        monotonic_us = us;
        rest = after;
    }
    let mut caller = None;
    if let Some(after) = rest.strip_prefix(b"[") {
        if let Some(end) = after.iter().position(|&b| b == b']') {
            let inner = String::from_utf8_lossy(&after[..end]).trim().to_string();
            let valid = inner.len() > 1
                && (inner.starts_with('T') || inner.starts_with('C'))
                && inner[1..].bytes().all(|b| b.is_ascii_digit());
            if valid {
                caller = Some(inner);
                rest = &after[end + 1..];
            }
        }
    }
    let rest = rest.strip_prefix(b" ").unwrap_or(rest);
    Entry {
        seq: 0,
        level,
        facility,
        monotonic_us,
        realtime_us: None,
        caller,
        message: rest.to_vec(),
        dict: Vec::new(),
        origin: Origin::Klogd,
    }
}

/// `[   12.345678]` → microseconds and what follows.
fn bracket_time(s: &[u8]) -> Option<(u64, &[u8])> {
    let after = s.strip_prefix(b"[")?;
    let end = after.iter().position(|&b| b == b']')?;
    let inner = std::str::from_utf8(&after[..end]).ok()?.trim();
    let (secs, frac) = inner.split_once('.')?;
    if frac.len() != 6 || !frac.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let secs: u64 = secs.parse().ok()?;
    let micros: u64 = frac.parse().ok()?;
    Some((secs * 1_000_000 + micros, &after[end + 1..]))
}

fn archive(options: &Options, records: &[Record]) -> io::Result<PathBuf> {
    let ctx =
        |what: &Path, e: io::Error| io::Error::new(e.kind(), format!("{}: {e}", what.display()));
    std::fs::create_dir_all(&options.archive_dir).map_err(|e| ctx(&options.archive_dir, e))?;
    let base = match &options.archive_name {
        Some(n) => n.clone(),
        None => std::fs::read_to_string("/proc/sys/kernel/random/boot_id")
            .map(|s| s.trim().to_string())
            .unwrap_or_else(|_| format!("{}", crate::fsutil::time_of_day().0)),
    };
    let mut name = base.clone();
    let mut n = 0;
    while options.archive_dir.join(&name).exists() {
        n += 1;
        name = format!("{base}.{n}");
    }
    let tmp = options
        .archive_dir
        .join(format!(".{name}.tmp-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&tmp);
    let result = (|| -> io::Result<PathBuf> {
        std::fs::create_dir(&tmp).map_err(|e| ctx(&tmp, e))?;
        let write = |file: &OsStr, bytes: &[u8]| -> io::Result<()> {
            let path = tmp.join(file);
            let mut f = std::fs::File::create(&path).map_err(|e| ctx(&path, e))?;
            f.write_all(bytes).map_err(|e| ctx(&path, e))?;
            f.sync_all().map_err(|e| ctx(&path, e))
        };
        let mut dmesg = Vec::new();
        for r in records {
            write(OsStr::new(&r.file), &r.raw)?;
            if r.kind == "dmesg" {
                if let Some(text) = &r.text {
                    dmesg.extend_from_slice(text);
                    if !text.ends_with(b"\n") {
                        dmesg.push(b'\n');
                    }
                }
            }
        }
        if !dmesg.is_empty() {
            write(OsStr::new("dmesg.txt"), &dmesg)?;
        }
        std::fs::File::open(&tmp)?.sync_all()?;
        let dest = options.archive_dir.join(&name);
        std::fs::rename(&tmp, &dest).map_err(|e| ctx(&dest, e))?;
        std::fs::File::open(&options.archive_dir)?.sync_all()?;
        Ok(dest)
    })();
    if result.is_err() {
        let _ = std::fs::remove_dir_all(&tmp);
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(file: &str, text: &str, time_us: Option<i64>) -> Record {
        Record::new(file, text.as_bytes().to_vec(), time_us).unwrap()
    }

    #[test]
    fn names() {
        let r = rec("dmesg-ramoops-3", "", None);
        assert_eq!(
            (r.kind.as_str(), r.backend.as_str(), r.compressed),
            ("dmesg", "ramoops", false)
        );
        assert!(Record::new("dmesg-ramoops", vec![], None).is_none());
        assert!(Record::new("lost+found", vec![], None).is_none());
        let z = Record::new("dmesg-efi-17.enc.z", b"not deflate".to_vec(), None).unwrap();
        assert!(z.compressed);
    }

    #[test]
    fn dmesg_parts_come_back_in_order() {
        // Part 1 is the end of the log, part 2 what came before.
        let p1 = rec(
            "dmesg-ramoops-0",
            "Panic#1 Part1\n<0>[   12.000100] Kernel panic - not syncing: mk_panic: test\n<4>[   12.000200][    T77] CPU: 0 PID: 77\n",
            Some(1_000_000_000_000_000),
        );
        let p2 = rec(
            "dmesg-ramoops-1",
            "Panic#1 Part2\n<6>[   11.500000] earlier\n",
            Some(1_000_000_000_000_000),
        );
        let pmsg = rec("pmsg-ramoops-0", "user text\n", None);
        let mut records = vec![pmsg, p1, p2];
        order(&mut records);
        let files: Vec<&str> = records.iter().map(|r| r.file.as_str()).collect();
        assert_eq!(
            files,
            ["dmesg-ramoops-1", "dmesg-ramoops-0", "pmsg-ramoops-0"]
        );
        let e = entries_of(&records);
        assert_eq!(e.len(), 4);
        assert_eq!(e[0].message, b"earlier");
        assert_eq!(
            (e[0].seq, e[0].level, e[0].monotonic_us),
            (0, 6, 11_500_000)
        );
        assert_eq!(e[1].message, b"Kernel panic - not syncing: mk_panic: test");
        assert_eq!(
            (e[1].level, e[1].facility, e[1].monotonic_us),
            (0, 0, 12_000_100)
        );
        assert_eq!(e[1].realtime_us, Some(1_000_000_000_000_000 - 100));
        assert_eq!(e[2].caller.as_deref(), Some("T77"));
        assert_eq!(e[2].message, b"CPU: 0 PID: 77");
        assert_eq!(
            e[1].origin,
            Origin::Pstore {
                kind: "dmesg".into(),
                file: "dmesg-ramoops-0".into()
            }
        );
        assert_eq!(
            (e[3].level, e[3].facility, e[3].message.as_slice()),
            (6, 1, &b"user text"[..])
        );
    }

    #[test]
    fn compressed_records_are_inflated() {
        let text = b"Oops#1 Part1\n<1>[    3.141592] BUG: unable to handle page fault\n";
        let mut enc =
            flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::default());
        enc.write_all(text).unwrap();
        let raw = enc.finish().unwrap();
        let r = Record::new("dmesg-ramoops-5.enc.z", raw, None).unwrap();
        assert_eq!(r.text.as_deref(), Some(&text[..]));
        let e = entries_of(&[r]);
        assert_eq!(e[0].message, b"BUG: unable to handle page fault");
        assert_eq!(e[0].level, 1);
    }

    #[test]
    fn hostile_lines_do_not_panic() {
        for text in [
            "<",
            "<9999999999999>",
            "[",
            "[ 1.2]",
            "<3>[abc.123456] x",
            "#1 Part",
            "Panic# Part\n<>",
            "\u{0}\n\n",
        ] {
            let r = rec("dmesg-ramoops-0", text, Some(5));
            let _ = entries_of(&[r]);
        }
    }

    #[test]
    fn archive_then_unlink() {
        let scratch = modkit_testkit::ScratchDir::new("pstore");
        let dir = scratch.path().join("pstore");
        std::fs::create_dir(&dir).unwrap();
        std::fs::write(
            dir.join("dmesg-ramoops-0"),
            "Panic#1 Part1\n<0>[    1.000000] Kernel panic - not syncing: x\n",
        )
        .unwrap();
        std::fs::write(
            dir.join("console-ramoops-0"),
            "[    0.900000] console line\n",
        )
        .unwrap();
        let records = Collection {
            options: Options {
                dir: dir.clone(),
                archive_dir: scratch.path().join("archive"),
                storage: Storage::External,
                unlink: true,
                mount: false,
                require_mounted: true,
                archive_name: Some("boot".into()),
            },
            records: vec![
                rec(
                    "dmesg-ramoops-0",
                    "Panic#1 Part1\n<0>[    1.000000] Kernel panic - not syncing: x\n",
                    None,
                ),
                rec("console-ramoops-0", "[    0.900000] console line\n", None),
            ],
            entries: Vec::new(),
        };
        let done = records.finish().unwrap();
        let archived = done.archived.unwrap();
        assert_eq!(archived, scratch.path().join("archive/boot"));
        assert!(std::fs::read_to_string(archived.join("dmesg.txt"))
            .unwrap()
            .contains("not syncing: x"));
        assert!(archived.join("console-ramoops-0").is_file());
        assert_eq!(done.removed, ["dmesg-ramoops-0", "console-ramoops-0"]);
        assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 0);
        // No temporary directory left behind.
        let names: Vec<_> = std::fs::read_dir(scratch.path().join("archive"))
            .unwrap()
            .map(|d| d.unwrap().file_name())
            .collect();
        assert_eq!(names, ["boot"]);
    }

    #[test]
    fn unmounted_dir_is_a_clear_error_and_none_reads_nothing() {
        let scratch = modkit_testkit::ScratchDir::new("pstore-unmounted");
        let options = Options {
            dir: scratch.path().to_path_buf(),
            mount: false,
            ..Options::default()
        };
        let err = Collection::read(&options).unwrap_err();
        assert!(
            err.to_string()
                .contains("pstore is not mounted (as root: mount -t pstore pstore"),
            "{err}"
        );
        let none = Collection::read(&Options {
            storage: Storage::None,
            ..options
        })
        .unwrap();
        assert!(none.entries().is_empty() && none.records.is_empty());
    }
}
