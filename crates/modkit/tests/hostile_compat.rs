//! Robustness of the C-library wing (`modkit::compat`): hostile depmod.d
//! patterns, random extended regular expressions, and malformed TZif files
//! and TZ strings. Each input must give an answer or a clear error in
//! bounded time — never a panic, a stack overflow or a hang. Offline: no
//! reference tool or tree is needed.

use std::time::{Duration, Instant};

use modkit::compat::ere::{Regex, RegexError};
use modkit::compat::tz::{TimeZone, Tm};
use modkit::depmod::config::Config;
use modkit::kmod::Level;
use modkit_testkit::{Rng, ScratchDir};

/// The patterns of issue 10 in a depmod.d file: 20,000 nested `(` (closed
/// and unclosed) and `(){32767}x` overflowed the stack (glibc's own regcomp
/// crashes on both); `(a*)*b` took 2.3 s on 24 `a`s, doubling per byte.
/// Now each line is read in bounded time: over budget is a pattern regcomp
/// rejects, which depmod reports (at INFO) as not matching.
#[test]
fn depmod_d_hostile_patterns_are_bounded() {
    let dir = ScratchDir::new("hostile-depmod-d");
    let nested = format!("{}x{}", "(".repeat(20_000), ")".repeat(20_000));
    let open = "(".repeat(20_000);
    let conf = format!(
        "override deep {nested} extra\n\
         override open {open} extra\n\
         external (){{32767}}x /ext\n\
         override slow (a*)*b extra\n\
         override slowref (a*)*\\1b extra\n\
         override fine ^a+x$ updates\n"
    );
    std::fs::write(dir.path().join("hostile.conf"), conf).unwrap();
    let kversion = format!("{}x", "a".repeat(24));
    let start = Instant::now();
    let logs: std::cell::RefCell<Vec<(Level, String)>> = Default::default();
    let paths = [dir.path().as_os_str().as_encoded_bytes().to_vec()];
    let cfg = Config::load(
        Some(&paths),
        kversion.as_bytes(),
        &|l: Level, _f: &str, m: &[u8]| {
            logs.borrow_mut()
                .push((l, String::from_utf8_lossy(m).into_owned()))
        },
    );
    let logs = logs.into_inner();
    let elapsed = start.elapsed();
    assert!(elapsed < Duration::from_secs(10), "{elapsed:?}");
    // (){32767}x matches a version with an x; the well-formed override too.
    assert_eq!(cfg.externals, [b"/ext".to_vec()]);
    assert_eq!(cfg.overrides, [b"updates/fine".to_vec()]);
    let not_matched: Vec<&str> = logs
        .iter()
        .filter(|(l, m)| *l == Level::Info && m.contains(": override kernel did not match "))
        .map(|(_, m)| m.as_str())
        .collect();
    assert_eq!(not_matched.len(), 4, "{logs:?}");
    assert_eq!(logs.len(), 4, "{logs:?}");
    assert_eq!(
        Regex::new(nested.as_bytes()).err(),
        Some(RegexError::Espace)
    );
    assert_eq!(Regex::new(open.as_bytes()).err(), Some(RegexError::Espace));
}

/// Random patterns over ERE's metacharacters (with deep nesting and large
/// intervals) against random subjects: an answer or an error, bounded.
#[test]
fn random_extended_regexes_are_bounded() {
    let pieces: &[&str] = &[
        "(",
        ")",
        "|",
        "*",
        "+",
        "?",
        "{",
        "}",
        ",",
        "{32767}",
        "{1,32767}",
        "{,9}",
        "[",
        "]",
        "[^",
        "[:alpha:]",
        "[.",
        "[=",
        "^",
        "$",
        ".",
        "\\",
        "\\1",
        "\\2",
        "\\9",
        "\\b",
        "\\<",
        "\\w",
        "a",
        "b",
        "0",
        "-",
        "((((((((",
        "))))))))",
        "(a*)*",
        "(a|aa)*",
    ];
    let mut rng = Rng(0xe4e);
    let start = Instant::now();
    let mut compiled = 0;
    for _ in 0..20_000 {
        let pattern: String = (0..rng.below(16))
            .map(|_| pieces[rng.below(pieces.len())])
            .collect();
        let subject: Vec<u8> = (0..rng.below(40)).map(|_| b"ab0-x"[rng.below(5)]).collect();
        if let Ok(re) = Regex::new(pattern.as_bytes()) {
            compiled += 1;
            let _ = re.exec(&subject);
        }
    }
    assert!(compiled > 1000, "only {compiled} patterns compiled");
    let elapsed = start.elapsed();
    assert!(elapsed < Duration::from_secs(60), "{elapsed:?}");
}

/// One TZif header: version byte and the six counts (`isut`, `isstd`,
/// `leap`, `time`, `type`, `char`).
fn header(version: u8, counts: [u32; 6]) -> Vec<u8> {
    let mut h = b"TZif".to_vec();
    h.push(version);
    h.extend_from_slice(&[0; 15]);
    for c in counts {
        h.extend_from_slice(&c.to_be_bytes());
    }
    h
}

/// A zone like New York's in 2024 (EST, EDT from 2024-03-10 07:00Z to
/// 2024-11-03 06:00Z), with its POSIX rule as the footer.
fn new_york(version: u8, footer: &[u8]) -> Vec<u8> {
    let times: [i64; 2] = [1_710_054_000, 1_730_613_600];
    let body = |wide: bool| {
        let mut d = Vec::new();
        for t in times {
            if wide {
                d.extend_from_slice(&t.to_be_bytes());
            } else {
                d.extend_from_slice(&(t as i32).to_be_bytes());
            }
        }
        d.extend_from_slice(&[1, 0]);
        d.extend_from_slice(&(-18_000i32).to_be_bytes());
        d.extend_from_slice(&[0, 0]);
        d.extend_from_slice(&(-14_400i32).to_be_bytes());
        d.extend_from_slice(&[1, 4]);
        d.extend_from_slice(b"EST\0EDT\0");
        d
    };
    let counts = [0, 0, 0, 2, 2, 8];
    let mut f = header(version, counts);
    f.extend(body(false));
    if version != 0 {
        f.extend(header(version, counts));
        f.extend(body(true));
        f.extend_from_slice(footer);
    }
    f
}

const NY_FOOTER: &[u8] = b"\nEST5EDT,M3.2.0,M11.1.0\n";

/// Offsets at: before the first transition, in the 2024 summer, after the
/// last transition in winter and in the 2030 summer (from the footer).
fn offsets(z: &TimeZone) -> [i64; 4] {
    [0, 1_719_835_200, 1_735_732_800, 1_909_051_200].map(|t| z.localtime(t).gmtoff)
}

#[test]
fn tzif_reader_reads_what_glibc_reads() {
    let z = TimeZone::from_tzif(&new_york(b'2', NY_FOOTER)).unwrap();
    assert_eq!(offsets(&z), [-18_000, -14_400, -18_000, -14_400]);
    // Version 1: no footer, the last type stays.
    let z = TimeZone::from_tzif(&new_york(0, b"")).unwrap();
    assert_eq!(offsets(&z), [-18_000, -14_400, -18_000, -18_000]);
    // glibc takes any non-zero version byte for the 64-bit data.
    for v in [b'1', b'3', b'4', b'x', 0xff] {
        let z = TimeZone::from_tzif(&new_york(v, NY_FOOTER)).unwrap();
        assert_eq!(offsets(&z), [-18_000, -14_400, -18_000, -14_400], "{v}");
    }
    // An empty footer is ignored, and so is one without its newline: the
    // last type stays.
    for footer in [&b"\n\n"[..], b"EST5EDT,M3.2.0,M11.1.0\n"] {
        let z = TimeZone::from_tzif(&new_york(b'2', footer)).unwrap();
        assert_eq!(
            offsets(&z),
            [-18_000, -14_400, -18_000, -18_000],
            "{footer:?}"
        );
    }
    // A footer that does not parse means UTC after the last transition.
    let z = TimeZone::from_tzif(&new_york(b'2', b"\n<<<\n")).unwrap();
    assert_eq!(offsets(&z), [-18_000, -14_400, 0, 0]);
    // Fewer than two bytes after the 64-bit data: glibc refuses the file.
    for footer in [&b"\n"[..], b""] {
        assert!(TimeZone::from_tzif(&new_york(b'2', footer)).is_none());
    }
    // glibc drops the file's last byte from the footer, newline or not.
    let z = TimeZone::from_tzif(&new_york(b'2', b"\nEST5EDT,M3.2.0,M11.1.0x")).unwrap();
    assert_eq!(offsets(&z)[3], -14_400);
}

/// Issue 10's crash: a 108-byte TZif file whose count field is 0xFFFFFFFF
/// aborted `TZ=/that/file modkit dmesg -T` with "capacity overflow". Every
/// count of either header at 0xFFFFFFFF (or just past the data) is now a
/// file glibc would not read: the `TZ` value is then tried as a POSIX
/// string, and a path is not one, so the zone is UTC.
#[test]
fn tzif_huge_counts_are_rejected() {
    let dir = ScratchDir::new("hostile-tzif");
    let path = dir.path().join("bogus");
    let mut f = header(b'2', [0, 0, 0, 0, 1, 4]);
    f.extend_from_slice(&[0, 0, 0, 0, 0, 0, b'U', b'T', b'C', 0]);
    f.extend(header(b'2', [0, 0, 0, 0xFFFF_FFFF, 1, 4]));
    f.extend_from_slice(&[0, 0, 0, 0, 0, 0, b'U', b'T', b'C', 0]);
    assert_eq!(f.len(), 108);
    std::fs::write(&path, &f).unwrap();
    let start = Instant::now();
    assert!(TimeZone::from_tzif(&f).is_none());
    let z = TimeZone::from_tz(Some(path.as_os_str().as_encoded_bytes()));
    assert_eq!(offsets(&z), [0; 4]);
    // The same fields of a valid file, in its version 1 header (at 0) or
    // its version 2 header (after the 30 bytes of version 1 data).
    for header_at in [0, 1] {
        for field in 0..6 {
            for value in [0xFFFF_FFFF, 0x8000_0000, 0x7FFF_FFFF, 1000] {
                let mut g = new_york(b'2', NY_FOOTER);
                let at = if header_at == 0 { 20 } else { 44 + 30 + 20 } + 4 * field;
                g[at..at + 4].copy_from_slice(&u32::to_be_bytes(value));
                assert!(
                    TimeZone::from_tzif(&g).is_none(),
                    "{header_at} {field} {value}"
                );
            }
        }
    }
    assert!(start.elapsed() < Duration::from_secs(5));
}

/// Every truncation of a valid file, and thousands of mutations: no panic;
/// a file cut inside its data (or its footer's first two bytes) is
/// refused, one cut later in its footer is read.
#[test]
fn tzif_truncated_and_mutated_never_panic() {
    let full = new_york(b'2', NY_FOOTER);
    // The data and the two bytes of footer glibc requires.
    let needed = full.len() - NY_FOOTER.len() + 2;
    for len in 0..full.len() {
        let z = TimeZone::from_tzif(&full[..len]);
        assert_eq!(z.is_some(), len >= needed, "{len}");
        if let Some(z) = z {
            let _ = offsets(&z);
        }
    }
    let mut rng = Rng(0x7a1f);
    let start = Instant::now();
    for _ in 0..20_000 {
        let mut d = full.clone();
        for _ in 0..1 + rng.below(4) {
            let at = rng.below(d.len());
            d[at] = match rng.below(4) {
                0 => 0xff,
                1 => 0,
                2 => rng.next_u64() as u8,
                _ => d[at] ^ (1 << rng.below(8)),
            };
        }
        if rng.below(4) == 0 {
            d.truncate(rng.below(d.len()));
        }
        if let Some(z) = TimeZone::from_tzif(&d) {
            for t in [i64::MIN, -1, 0, 1_719_835_200, 4_102_444_800, i64::MAX] {
                let _ = z.localtime_checked(t);
            }
            let mut tm = z.localtime(1_719_835_200);
            let _ = z.mktime(&mut tm);
        }
    }
    assert!(start.elapsed() < Duration::from_secs(30));
}

/// Hostile `TZ` values and footers (long, over-range numbers, every
/// separator misplaced) and broken-down times far out of range.
#[test]
fn hostile_tz_strings_and_times_never_panic() {
    let long_digits = format!("EST{}", "9".repeat(100_000));
    let values: Vec<Vec<u8>> = [
        "EST5EDT",
        "EST5EDT,M3.2.0,M11.1.0",
        "EST+99:99:99EDT-99:99:99,M12.5.6/167:59:59,J365/-167",
        "EST99999999999999999999",
        "EST5EDT,M13.9.9,M0.0.0",
        "EST5EDT,J0,J366",
        "EST5EDT,366,0/99999999999999999999",
        "<A>5",
        "<ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+->-24:59:59<B>,M1.1.0,M1.1.0",
        ":",
        ":/",
        "../../../../etc/passwd",
        "/dev/null",
        "/",
        "\u{0}",
        long_digits.as_str(),
    ]
    .iter()
    .map(|s| s.as_bytes().to_vec())
    .collect();
    let extreme = [i32::MIN, -1, 0, 59, 1_000_000, i32::MAX];
    let start = Instant::now();
    for v in &values {
        let z = TimeZone::from_tz(Some(v));
        let footer = [b"\n", v.as_slice(), b"\n"].concat();
        let zf = TimeZone::from_tzif(&new_york(b'2', &footer)).unwrap();
        for z in [&z, &zf] {
            for t in [i64::MIN, -86_400, 0, 1_719_835_200, 1 << 40, i64::MAX] {
                let _ = z.localtime_checked(t);
            }
            for (i, &x) in extreme.iter().enumerate() {
                let mut tm = Tm {
                    year: [i64::MIN, -1900, 124, 1 << 33, 1 << 40, i64::MAX][i],
                    mon: x,
                    mday: x,
                    hour: x,
                    min: x,
                    sec: x,
                    isdst: x.signum(),
                    ..Tm::default()
                };
                let _ = z.mktime(&mut tm);
            }
        }
    }
    // An ordinary date still converts.
    let z = TimeZone::from_tz(Some(b"EST5EDT,M3.2.0,M11.1.0"));
    let mut tm = Tm {
        year: 124,
        mon: 6,
        mday: 1,
        hour: 8,
        isdst: -1,
        ..Tm::default()
    };
    assert_eq!(z.mktime(&mut tm), Some(1_719_835_200));
    assert!(start.elapsed() < Duration::from_secs(10));
}
