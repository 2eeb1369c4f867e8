//! Where each output is in the kernel log: the last sequence number it
//! delivered, persisted per output and keyed by the boot id, so that a
//! restarted klogd resumes after it (and a new boot starts from the
//! beginning of the ring buffer).
//!
//! One small file per output in the state directory,
//! `position.KEY` (the output's key with bytes other than `A-Za-z0-9._-`
//! written as `%XX`), holding `BOOT_ID SEQ\n` (`-` for no record yet). It
//! is replaced atomically ([`crate::fsutil::write_atomic`]: a temporary
//! file renamed over it): a reader, or a klogd killed at any moment, sees
//! the old position or the new one, never a mix.

use std::io;
use std::path::{Path, PathBuf};

/// The file the kernel keeps this boot's id in.
pub const BOOT_ID_PATH: &str = "/proc/sys/kernel/random/boot_id";

/// The running boot's id (`/proc/sys/kernel/random/boot_id`, trimmed).
pub fn boot_id() -> io::Result<String> {
    read_boot_id(BOOT_ID_PATH)
}

/// A boot id read from `path` (for tests: any file holding one line).
pub fn read_boot_id(path: impl AsRef<Path>) -> io::Result<String> {
    let text = std::fs::read_to_string(path)?;
    let id = text.trim();
    if id.is_empty() || id.contains(char::is_whitespace) {
        return Err(io::Error::new(io::ErrorKind::InvalidData, "no boot id"));
    }
    Ok(id.to_string())
}

/// A persisted position: the boot it belongs to and the last sequence
/// number delivered (`None`: nothing yet in that boot).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Position {
    /// The boot id.
    pub boot_id: String,
    /// The last sequence number delivered.
    pub seq: Option<u64>,
}

/// The positions of all outputs: a state directory.
#[derive(Debug, Clone)]
pub struct Positions {
    dir: PathBuf,
}

impl Positions {
    /// Positions kept in `dir` (created when missing, mode 0755).
    pub fn open(dir: impl Into<PathBuf>) -> io::Result<Positions> {
        let dir = dir.into();
        std::fs::create_dir_all(&dir)
            .map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", dir.display())))?;
        Ok(Positions { dir })
    }

    /// The file of an output's position.
    pub fn path(&self, key: &str) -> PathBuf {
        let mut name = String::from("position.");
        for b in key.bytes() {
            if b.is_ascii_alphanumeric() || b"._-".contains(&b) {
                name.push(b as char);
            } else {
                name.push_str(&format!("%{b:02X}"));
            }
        }
        self.dir.join(name)
    }

    /// An output's saved position; `None` when there is none or its file
    /// is unreadable or malformed (then everything is delivered again:
    /// duplicates rather than loss).
    pub fn load(&self, key: &str) -> Option<Position> {
        let text = std::fs::read_to_string(self.path(key)).ok()?;
        let mut words = text.split_whitespace();
        let boot_id = words.next()?.to_string();
        let seq = match words.next()? {
            "-" => None,
            n => Some(n.parse().ok()?),
        };
        if words.next().is_some() {
            return None;
        }
        Some(Position { boot_id, seq })
    }

    /// Saves an output's position atomically.
    pub fn save(&self, key: &str, pos: &Position) -> io::Result<()> {
        let seq = pos.seq.map_or("-".to_string(), |s| s.to_string());
        let path = self.path(key);
        crate::fsutil::write_atomic(&path, format!("{} {seq}\n", pos.boot_id).as_bytes())
            .map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", path.display())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_round_trip_and_keys_are_escaped() {
        let dir = modkit_testkit::ScratchDir::new("klogd-state");
        let p = Positions::open(dir.join("state")).unwrap();
        assert_eq!(p.load("file:/var/log/kern.log"), None);
        let pos = Position {
            boot_id: "b1".into(),
            seq: Some(42),
        };
        p.save("file:/var/log/kern.log", &pos).unwrap();
        assert_eq!(p.load("file:/var/log/kern.log"), Some(pos));
        assert!(p
            .path("file:/var/log/kern.log")
            .ends_with("position.file%3A%2Fvar%2Flog%2Fkern.log"));
        let none = Position {
            boot_id: "b2".into(),
            seq: None,
        };
        p.save("tcp:h:1", &none).unwrap();
        assert_eq!(p.load("tcp:h:1"), Some(none));
        std::fs::write(p.path("x"), "b1 notanumber\n").unwrap();
        assert_eq!(p.load("x"), None);
        assert!(read_boot_id(dir.join("missing")).is_err());
    }
}
