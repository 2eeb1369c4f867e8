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
    dmesg_with(tz, log, "-T")
}

fn dmesg_with(tz: &Path, log: &Path, option: &str) -> Output {
    Command::new(env!("CARGO_BIN_EXE_modkit"))
        .args(["dmesg", option, "-F"])
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

/// Issue 17: counts that read as negative in a signed 32-bit field
/// (0x80000000 and up) in either header, through every time format that
/// converts to local time (ctime, iso, reltime): UTC, exit 0, no error;
/// and the whole run stays small (no allocation sized by a count).
#[test]
fn dmesg_time_formats_with_negative_tzif_counts_print_in_utc() {
    let dir =
        Scratch(std::env::temp_dir().join(format!("modkit-hostile-tz-neg-{}", std::process::id())));
    let _ = std::fs::remove_dir_all(&dir.0);
    std::fs::create_dir_all(&dir.0).unwrap();
    let log = dir.0.join("log");
    std::fs::write(&log, "<6>[    1.000000] hello\n").unwrap();
    let utc = Path::new("UTC0");
    for (n, count) in [0x8000_0000u32, 0xFFFF_FFFE, 0x7FFF_FFFF]
        .into_iter()
        .enumerate()
    {
        for field in 0..6 {
            let mut counts = [0, 0, 0, 0, 1, 4];
            counts[field] = count;
            let mut f = header(b'2', counts);
            f.extend_from_slice(&[0, 0, 0, 0, 0, 0, b'U', b'T', b'C', 0]);
            let bogus = dir.0.join(format!("bogus-{n}-{field}"));
            std::fs::write(&bogus, &f).unwrap();
            for option in [
                "--time-format=ctime",
                "--time-format=iso",
                "--time-format=reltime",
            ] {
                let mut runs = (
                    dmesg_with(&bogus, &log, option),
                    dmesg_with(utc, &log, option),
                );
                if runs.0.stdout != runs.1.stdout {
                    runs = (
                        dmesg_with(&bogus, &log, option),
                        dmesg_with(utc, &log, option),
                    );
                }
                let (ours, reference) = runs;
                let stderr = String::from_utf8_lossy(&ours.stderr);
                assert!(
                    ours.status.success(),
                    "{count:#x} {field} {option}: {stderr}"
                );
                assert!(stderr.is_empty(), "{count:#x} {field} {option}: {stderr}");
                // The boot time is read from two clocks per run: iso's
                // microseconds may differ by one between the two runs.
                let strip = |o: &[u8]| {
                    let t = String::from_utf8_lossy(o).into_owned();
                    match t.find(',') {
                        Some(at) if option.ends_with("iso") => {
                            format!("{}{}", &t[..at], &t[(at + 7).min(t.len())..])
                        }
                        _ => t,
                    }
                };
                assert_eq!(
                    strip(&ours.stdout),
                    strip(&reference.stdout),
                    "{count:#x} {field} {option}"
                );
            }
        }
    }
}
