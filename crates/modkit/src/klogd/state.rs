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
//!
//! Beside them, `boot-time` holds `BOOT_ID USEC`: the wall-clock time of
//! the boot that records are stamped with ([`Positions::boot_time`]), kept
//! so that a record a restarted klogd sends again carries the same
//! timestamp as the first time.

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

/// How far the boot time measured at a start may be from the one a klogd
/// of the same boot saved and still be taken as the same: the two clock
/// reads of a measurement differ by microseconds, NTP's slewing by at most
/// 0.5 ms per second; a larger difference is a step of the clock, and then
/// the new value is right.
pub const BOOT_TIME_SLACK_US: i64 = 1_000_000;

impl Positions {
    /// The boot time (microseconds since the epoch) to stamp this boot's
    /// records with: the one saved by an earlier klogd of the same boot
    /// when `measured_us` is within [`BOOT_TIME_SLACK_US`] of it (so
    /// records sent again after a restart are byte for byte what was sent
    /// first), else `measured_us`, saved for the next start. A file that
    /// cannot be read or written costs only that stability.
    pub fn boot_time(&self, boot_id: &str, measured_us: i64) -> i64 {
        let path = self.dir.join("boot-time");
        let saved = std::fs::read_to_string(&path).ok().and_then(|text| {
            let (id, us) = text.trim_end().split_once(' ')?;
            (id == boot_id).then(|| us.parse::<i64>().ok())?
        });
        match saved {
            Some(us) if us.abs_diff(measured_us) <= BOOT_TIME_SLACK_US as u64 => us,
            _ => {
                let _ = crate::fsutil::write_atomic(
                    &path,
                    format!("{boot_id} {measured_us}\n").as_bytes(),
                );
                measured_us
            }
        }
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
        // The boot time: kept within the slack in the same boot, replaced
        // after a clock step or in a new boot.
        assert_eq!(p.boot_time("b1", 1_000_000_000), 1_000_000_000);
        assert_eq!(p.boot_time("b1", 1_000_000_007), 1_000_000_000);
        assert_eq!(p.boot_time("b1", 999_000_000), 1_000_000_000);
        assert_eq!(p.boot_time("b1", 1_003_000_000), 1_003_000_000);
        assert_eq!(p.boot_time("b1", 1_003_000_050), 1_003_000_000);
        assert_eq!(p.boot_time("b2", 1_003_000_050), 1_003_000_050);
        assert_eq!(
            std::fs::read_to_string(dir.join("state/boot-time")).unwrap(),
            "b2 1003000050\n"
        );
        assert_eq!(p.load("x"), None);
        assert!(read_boot_id(dir.join("missing")).is_err());
    }
}
