//! Small filesystem helpers: replacing a file atomically the way depmod
//! does, with a temporary file in the same directory renamed into place.
//!
//! depmod never truncates an index in place: a reader (`modprobe` running
//! at the same time) sees either the old file or the complete new one. Each
//! output is written to `NAME.PID.USEC.SEC` (kmod's temporary name: the
//! process id and the time of day, microseconds first) created with
//! `O_CREAT | O_EXCL` and mode `0644` (less the umask), then renamed over
//! `NAME`.

use std::ffi::{OsStr, OsString};
use std::io::{self, Write};
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

/// The time of day as `(seconds, microseconds)`, like `gettimeofday(2)`.
pub fn time_of_day() -> (i64, i64) {
    match SystemTime::now().duration_since(UNIX_EPOCH) {
        Ok(d) => (d.as_secs() as i64, i64::from(d.subsec_micros())),
        Err(_) => (0, 0),
    }
}

/// kmod's temporary name for `name`: `NAME.PID.USEC.SEC`.
pub fn temp_name(name: &OsStr, pid: u32, (sec, usec): (i64, i64)) -> OsString {
    let mut s = name.as_bytes().to_vec();
    s.extend_from_slice(format!(".{pid}.{usec}.{sec}").as_bytes());
    OsString::from_vec(s)
}

/// Creates `dir/tmp` exclusively (`O_CREAT | O_EXCL | O_WRONLY`, mode
/// `0644` less the umask), as depmod creates its temporary files.
pub fn create_exclusive(dir: &Path, tmp: &OsStr) -> io::Result<std::fs::File> {
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o644)
        .open(dir.join(tmp))
}

/// Replaces `path` with `bytes` atomically: writes them to a temporary file
/// in the same directory (kmod's `NAME.PID.USEC.SEC`), then renames it over
/// `path`. On failure the temporary file is removed and `path` is left as
/// it was.
pub fn write_atomic(path: impl AsRef<Path>, bytes: &[u8]) -> io::Result<()> {
    let path = path.as_ref();
    let name = path
        .file_name()
        .ok_or_else(|| io::Error::from_raw_os_error(crate::error::errno::EISDIR))?;
    let dir: PathBuf = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let tmp = temp_name(name, std::process::id(), time_of_day());
    let mut file = create_exclusive(&dir, &tmp)?;
    let written = file.write_all(bytes).and_then(|_| file.flush());
    drop(file);
    let result = written.and_then(|_| std::fs::rename(dir.join(&tmp), path));
    if result.is_err() {
        let _ = std::fs::remove_file(dir.join(&tmp));
    }
    result
}

/// A file being replaced atomically: written under a temporary name in the
/// same directory (kmod's `NAME.PID.USEC.SEC`), renamed over the target by
/// [`AtomicFile::commit`]; dropped without a commit, the temporary file is
/// removed and the target left as it was. Creating it is where the errors
/// of opening the target show (a missing or unwritable directory).
#[derive(Debug)]
pub struct AtomicFile {
    file: Option<std::fs::File>,
    tmp: PathBuf,
    path: PathBuf,
}

impl AtomicFile {
    /// Starts replacing `path` (`ENOENT` for an empty path, `EISDIR` for
    /// one that ends in `/`).
    pub fn create(path: impl AsRef<Path>) -> io::Result<AtomicFile> {
        let path = path.as_ref();
        if path.as_os_str().is_empty() {
            return Err(io::Error::from_raw_os_error(crate::error::errno::ENOENT));
        }
        let name = path
            .file_name()
            .ok_or_else(|| io::Error::from_raw_os_error(crate::error::errno::EISDIR))?;
        let dir: PathBuf = match path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        let tmp = temp_name(name, std::process::id(), time_of_day());
        let file = create_exclusive(&dir, &tmp)?;
        Ok(AtomicFile {
            file: Some(file),
            tmp: dir.join(tmp),
            path: path.to_path_buf(),
        })
    }

    /// Writes all of `bytes`.
    pub fn write_all(&mut self, bytes: &[u8]) -> io::Result<()> {
        match &mut self.file {
            Some(f) => f.write_all(bytes),
            None => Ok(()),
        }
    }

    /// Puts the file in place of the target.
    pub fn commit(mut self) -> io::Result<()> {
        let file = self.file.take();
        let flushed = match file {
            Some(mut f) => f.flush(),
            None => Ok(()),
        };
        let result = flushed.and_then(|()| std::fs::rename(&self.tmp, &self.path));
        if result.is_ok() {
            self.tmp = PathBuf::new();
        }
        result
    }
}

impl Drop for AtomicFile {
    fn drop(&mut self) {
        if !self.tmp.as_os_str().is_empty() {
            let _ = std::fs::remove_file(&self.tmp);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn temp_names_follow_kmod() {
        let n = temp_name(OsStr::new("modules.dep"), 42, (1700000000, 7));
        assert_eq!(n, "modules.dep.42.7.1700000000");
    }

    #[test]
    fn atomic_files_commit_or_leave_nothing() {
        let dir = modkit_testkit::ScratchDir::new("fsutil-atomic");
        let p = dir.join("f");
        std::fs::write(&p, b"old").unwrap();
        let mut a = AtomicFile::create(&p).unwrap();
        a.write_all(b"new").unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), b"old");
        a.commit().unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), b"new");
        let mut b = AtomicFile::create(&p).unwrap();
        b.write_all(b"lost").unwrap();
        drop(b);
        assert_eq!(std::fs::read(&p).unwrap(), b"new");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
        let e = AtomicFile::create("").unwrap_err();
        assert_eq!(e.raw_os_error(), Some(crate::error::errno::ENOENT));
        let e = AtomicFile::create(dir.join("missing/f")).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::NotFound);
    }

    #[test]
    fn write_atomic_replaces_and_cleans_up() {
        let dir = modkit_testkit::ScratchDir::new("fsutil");
        let p = dir.join("f");
        write_atomic(&p, b"one").unwrap();
        write_atomic(&p, b"two").unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), b"two");
        assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 1);
        // A missing directory: an error, nothing left behind.
        assert!(write_atomic(dir.join("nope/f"), b"x").is_err());
    }
}
