//! `modkit dmesg` with a hostile time zone file: issue 10's crash (a
//! 108-byte TZif file whose transition count is 0xFFFFFFFF aborted
//! `TZ=/that/file modkit dmesg -T` with "capacity overflow"). glibc gives
//! up on such a file, then reads the `TZ` value as a POSIX string, which a
//! path is not, and uses UTC: so must modkit. Offline: reads a log file
//! (`-F`), not the kernel's.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// A scratch directory removed when dropped, also when the test fails.
struct Scratch(PathBuf);

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn header(version: u8, counts: [u32; 6]) -> Vec<u8> {
    let mut h = b"TZif".to_vec();
    h.push(version);
    h.extend_from_slice(&[0; 15]);
    for c in counts {
        h.extend_from_slice(&c.to_be_bytes());
    }
    h
}

fn dmesg_t(tz: &Path, log: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_modkit"))
        .args(["dmesg", "-T", "-F"])
        .arg(log)
        .env("LC_ALL", "C")
        .env("TZ", tz)
        .output()
        .expect("run modkit")
}

#[test]
fn dmesg_with_huge_tzif_counts_prints_in_utc() {
    let dir =
        Scratch(std::env::temp_dir().join(format!("modkit-hostile-tz-{}", std::process::id())));
    let _ = std::fs::remove_dir_all(&dir.0);
    std::fs::create_dir_all(&dir.0).unwrap();
    let mut f = header(b'2', [0, 0, 0, 0, 1, 4]);
    f.extend_from_slice(&[0, 0, 0, 0, 0, 0, b'U', b'T', b'C', 0]);
    f.extend(header(b'2', [0, 0, 0, 0xFFFF_FFFF, 1, 4]));
    f.extend_from_slice(&[0, 0, 0, 0, 0, 0, b'U', b'T', b'C', 0]);
    assert_eq!(f.len(), 108);
    let bogus = dir.0.join("bogus");
    std::fs::write(&bogus, &f).unwrap();
    let log = dir.0.join("log");
    std::fs::write(&log, "<6>[    1.000000] hello\n<4>[ 2.500000] world\n").unwrap();
    let utc = Path::new("UTC0");
    // The boot time is read twice; retry once if a second boundary falls
    // between the two runs.
    let mut runs = (dmesg_t(&bogus, &log), dmesg_t(utc, &log));
    if runs.0.stdout != runs.1.stdout {
        runs = (dmesg_t(&bogus, &log), dmesg_t(utc, &log));
    }
    let (ours, reference) = runs;
    let stderr = String::from_utf8_lossy(&ours.stderr);
    assert!(ours.status.success(), "{:?}: {stderr}", ours.status);
    assert!(stderr.is_empty(), "{stderr}");
    let text = String::from_utf8_lossy(&ours.stdout);
    assert!(
        text.lines().count() == 2 && text.contains("] hello\n"),
        "{text}"
    );
    assert_eq!(text, String::from_utf8_lossy(&reference.stdout));
}
