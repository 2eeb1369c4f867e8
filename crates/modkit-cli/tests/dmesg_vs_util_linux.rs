//! `modkit dmesg` against util-linux 2.41's dmesg (Debian trixie): the
//! host's `/dev/kmsg` and `syslog(2)` buffer read by both, generated `-K`
//! (kmsg) and `-F` (syslog text) files, option and write errors, colours,
//! follow mode. Output, errors and exit status must be identical.
//!
//! The live log can change between the two runs (a new kernel message), so
//! a live mismatch is retried. util-linux computes the boot time from the
//! clocks at each run, so ISO timestamps (microseconds) may differ between
//! two runs: by a microsecond of truncation, and by what the system clock
//! was slewed in between (4 µs seen on a loaded machine): those are
//! compared with a tolerance of 50 µs, far below any error of time zone,
//! format or boot time.
//!
//! Nothing here clears the log or changes console levels: `-C`, `-c`,
//! `-D`, `-E` and `-n` are only tested where they fail before acting. The
//! follow-mode test writes one user-facility record to `/dev/kmsg`.

mod common;

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::RwLock;

use common::{first_difference, modkit, ref_tool, runs, scratch_dir, skip, ScratchDir, Tier};

/// Live-log comparisons read under this lock; the test that writes to
/// `/dev/kmsg` takes it exclusively.
static LIVE: RwLock<()> = RwLock::new(());

const ZONES: &[&str] = &["UTC", "America/New_York"];

fn run(ours: bool, args: &[&OsStr], env: &[(&str, &OsStr)]) -> Output {
    let mut cmd = if ours {
        let mut c = Command::new(modkit());
        c.arg("dmesg");
        c
    } else {
        Command::new(ref_tool("dmesg"))
    };
    cmd.args(args)
        .env("LC_ALL", "C")
        .env("TZ", "UTC")
        .env_remove("XDG_CONFIG_HOME")
        .env_remove("NO_COLOR")
        .stdin(Stdio::null());
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().expect("run dmesg")
}

/// Days since the Epoch (proleptic Gregorian).
fn days(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * ((m + 9) % 12) + 2) / 5 + d - 1;
    era * 146_097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719_468
}

/// Replaces each `YYYY-MM-DDTHH:MM:SS,uuuuuu+hh:mm` by a marker, returning
/// the text and the timestamps in microseconds.
fn split_iso(s: &[u8]) -> (Vec<u8>, Vec<i64>) {
    const SHAPE: &[u8] = b"dddd-dd-ddTdd:dd:dd,dddddd?dd:dd";
    let fits = |w: &[u8]| {
        w.len() == SHAPE.len()
            && w.iter().zip(SHAPE).all(|(&c, &p)| match p {
                b'd' => c.is_ascii_digit(),
                b'?' => c == b'+' || c == b'-',
                _ => c == p,
            })
    };
    let num = |w: &[u8]| -> i64 { std::str::from_utf8(w).unwrap().parse().unwrap() };
    let mut text = Vec::new();
    let mut stamps = Vec::new();
    let mut i = 0;
    while i < s.len() {
        if i + SHAPE.len() <= s.len() && fits(&s[i..i + SHAPE.len()]) {
            let w = &s[i..i + SHAPE.len()];
            let secs = days(num(&w[0..4]), num(&w[5..7]), num(&w[8..10])) * 86_400
                + num(&w[11..13]) * 3600
                + num(&w[14..16]) * 60
                + num(&w[17..19]);
            stamps.push(secs * 1_000_000 + num(&w[20..26]));
            text.extend_from_slice(b"<ISO>");
            text.extend_from_slice(&w[26..]);
            i += SHAPE.len();
        } else {
            text.push(s[i]);
            i += 1;
        }
    }
    (text, stamps)
}

/// Equal, or equal but for ISO timestamps within 50 microseconds.
fn same_output(a: &[u8], b: &[u8]) -> bool {
    if a == b {
        return true;
    }
    let (ta, sa) = split_iso(a);
    let (tb, sb) = split_iso(b);
    ta == tb
        && !sa.is_empty()
        && sa.len() == sb.len()
        && sa.iter().zip(&sb).all(|(x, y)| (x - y).abs() <= 50)
}

fn describe(args: &[&OsStr], env: &[(&str, &OsStr)]) -> String {
    let env: Vec<String> = env
        .iter()
        .map(|(k, v)| format!("{k}={}", v.to_string_lossy()))
        .collect();
    let args: Vec<String> = args
        .iter()
        .map(|a| a.to_string_lossy().chars().take(60).collect())
        .collect();
    format!("{} dmesg {}", env.join(" "), args.join(" "))
}

/// Runs both; `None` if identical, else what differs.
fn diff_once(args: &[&OsStr], env: &[(&str, &OsStr)]) -> Option<String> {
    let ours = run(true, args, env);
    let theirs = run(false, args, env);
    let what = describe(args, env);
    if ours.status.code() != theirs.status.code()
        || ours.status.success() != theirs.status.success()
    {
        return Some(format!(
            "{what}: exit {:?} (modkit) vs {:?} (util-linux)\nmodkit stderr: {}\nutil-linux stderr: {}",
            ours.status,
            theirs.status,
            String::from_utf8_lossy(&ours.stderr),
            String::from_utf8_lossy(&theirs.stderr)
        ));
    }
    for (name, a, b) in [
        ("stdout", &ours.stdout, &theirs.stdout),
        ("stderr", &ours.stderr, &theirs.stderr),
    ] {
        if !same_output(a, b) {
            return Some(format!(
                "{what}: {name} differs\n{}",
                first_difference(a, b)
            ));
        }
    }
    None
}

/// Compares, retrying once (the live log may have changed in between).
fn check(args: &[&OsStr], env: &[(&str, &OsStr)]) -> Option<String> {
    diff_once(args, env).and_then(|_| diff_once(args, env))
}

fn os(v: &[&str]) -> Vec<&'static OsStr> {
    v.iter()
        .map(|s| OsStr::new(Box::leak(s.to_string().into_boxed_str())))
        .collect()
}

fn check_all(sets: &[&[&str]], extra: &[&str], envs: &[Vec<(&str, &OsStr)>]) -> Vec<String> {
    let mut failures = Vec::new();
    for env in envs {
        for set in sets {
            let mut args = os(extra);
            args.extend(os(set));
            if let Some(f) = check(&args, env) {
                failures.push(f);
            }
        }
    }
    failures
}

fn zone_envs() -> Vec<Vec<(&'static str, &'static OsStr)>> {
    ZONES.iter().map(|z| vec![("TZ", OsStr::new(*z))]).collect()
}

fn assert_none(what: &str, failures: Vec<String>) {
    common::assert_no_failures(what, &failures);
}

/// Option sets exercised on every source.
const FORMATS: &[&[&str]] = &[
    &[],
    &["-r"],
    &["-x"],
    &["-t"],
    &["-k"],
    &["-u"],
    &["-l", "err,warn"],
    &["-l", "warn+"],
    &["-l", "+notice"],
    &["-l", "3,7"],
    &["-f", "kern"],
    &["-f", "user,daemon,local7"],
    &["--time-format", "ctime"],
    &["--time-format", "notime"],
    &["--time-format", "delta"],
    &["--time-format", "reltime"],
    &["--time-format", "iso"],
    &["--time-format", "raw"],
    &["--time-format", "iso", "--time-format", "ctime", "-x"],
    &["-T"],
    &["-T", "-x"],
    &["-d"],
    &["-d", "-T"],
    &["-d", "-t"],
    &["-d", "--time-format", "iso"],
    &["-e"],
    &["-H"],
    &["-J"],
    &["-J", "-x"],
    &["-J", "-k", "-T"],
    &["-L=always"],
    &["--color=always", "-x", "-e"],
    &["--color=always", "-d"],
    &["-L", "-x"],
    &["--noescape"],
    &["--noescape", "-x"],
    &["-p"],
    &["-p", "-x", "-T"],
    &["-p", "-e", "-L=always"],
    &["-r", "-p"],
    &["-t", "-T"],
    &["-T", "-t"],
    &["-P", "-x"],
    &["--decode", "--kernel", "--ctime"],
    &["-d", "-e"],
    &["-T", "-e", "-d"],
    &["--time-format", "raw", "--time-format", "delta"],
    &["--time-format", "iso", "--time-format", "notime"],
    &["-J", "-r", "-p", "-d"],
    &["-H", "-J"],
];

#[test]
fn live_kmsg() {
    if !runs(Tier::Reference) {
        return;
    }
    let _g = LIVE.read().unwrap();
    assert_none("live /dev/kmsg", check_all(FORMATS, &[], &zone_envs()));
}

#[test]
fn live_since_until() {
    if !runs(Tier::Reference) {
        return;
    }
    let _g = LIVE.read().unwrap();
    let sets: &[&[&str]] = &[
        &["--since", "-1year"],
        &["--since", "-10min"],
        &["--until", "+1h"],
        &["--until", "1 week ago"],
        &["--since", "yesterday", "-T"],
        &["--since", "today"],
        &["--until", "tomorrow"],
        &["--since", "now"],
        &["--since", "@0"],
        &["--since", "@1700000000.5"],
        &["--since", "2020-01-01"],
        &["--since", "2020-01-01 12:00"],
        &[
            "--since",
            "2020-01-01 12:00:00.25",
            "--until",
            "2099-12-31T23:59:59",
        ],
        &["--until", "20200101120000"],
        &["--since", "00:00"],
        &["--since", "12:34:56"],
        &["--since", "Wed 2020-01-01"],
        &["--since", "Thu 2020-01-01"],
        &["--since", "1.5h ago", "-x"],
        &["--since", "-2d 3h", "-J"],
    ];
    assert_none("--since/--until", check_all(sets, &[], &zone_envs()));
}

#[test]
fn live_boot_relative_bounds() {
    if !runs(Tier::Reference) {
        return;
    }
    // Bounds that cut the live log in the middle: the boot time plus a
    // few seconds, as absolute local times.
    let _g = LIVE.read().unwrap();
    let uptime: f64 = std::fs::read_to_string("/proc/uptime")
        .unwrap()
        .split_whitespace()
        .next()
        .unwrap()
        .parse()
        .unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let boot = now - uptime as i64;
    let mut failures = Vec::new();
    for offset in [0, 1, 2, 30, 3600] {
        let at = format!("@{}", boot + offset);
        for set in [["--since", at.as_str()], ["--until", at.as_str()]] {
            failures.extend(check_all(&[&set], &[], &zone_envs()));
        }
    }
    assert_none("boot-relative bounds", failures);
}

#[test]
fn live_syslog_interface() {
    if !runs(Tier::Reference) {
        return;
    }
    let _g = LIVE.read().unwrap();
    let sets: &[&[&str]] = &[
        &["-S"],
        &["-S", "-x"],
        &["-S", "-r"],
        &["-S", "-J"],
        &["-S", "-T"],
        &["-S", "-k", "-d"],
        &["-S", "-L=always"],
        &["-S", "-s", "4096"],
        &["-S", "-s", "100"],
        &["-S", "-s", "20000", "-x"],
        &["-S", "--buffer-size=65536", "-t"],
        &["-S", "-r", "-k"],
        &["-S", "-p"],
        &["-s", "5000"],
        &["-S", "-W"],
    ];
    assert_none("-S", check_all(sets, &[], &[vec![]]));
}

// --- generated files ---

/// A `-K` file: every level of every facility (and facility 24), caller
/// ids, continuation lines, escapes, bytes from 0x80 up, empty and long
/// messages, and malformed records.
fn kmsg_file() -> Vec<u8> {
    let mut recs: Vec<Vec<u8>> = Vec::new();
    let msgs: &[&[u8]] = &[
        b"plain message",
        b"usb 1-1: new high-speed USB device",
        b"traps: a.out[1234] segfault at 0 ip 0000 sp 0000 error 4",
        b"a:b: c: d",
        b"tab\\x09here",
        b"multi\\x0aline\\x0amessage",
        b"escaped \\x5c backslash",
        b"bad \\xzz hex \\x4",
        b"utf8 caf\xc3\xa9 \\xc3\\xa9",
        // What the locale's classes decide (glibc's iswprint/iswspace): an
        // unassigned code point (U+05FA), a C1 control (U+0085), a
        // noncharacter (U+FFFE), private use (U+E000), an emoji and one of
        // Unicode 15 (U+1F600, U+1FAE8), spaces (U+2028, U+3000, U+00A0),
        // a combining accent, zero-width space, U+10FFFF; then invalid
        // sequences: a surrogate, an overlong NUL, a cut-off character.
        b"A\xd7\xbaB \xc2\x85 \xef\xbf\xbe \xee\x80\x80 \xf0\x9f\x98\x80 \xf0\x9f\xab\xa8",
        b"sp\xe2\x80\xa8\xe3\x80\x80\xc2\xa0 e\xcc\x81 \xe2\x80\x8b \xf4\x8f\xbf\xbf",
        b"bad \xed\xa0\x80 \xc0\x80 \xe2\x82",
        b"raw \x01\x7f\xff bytes",
        b"",
        b"\\x00nul first",
        b"nul \\x00 inside",
        b"colon:at end:",
        b"trailing \\x0a",
    ];
    let dicts: &[&[u8]] = &[
        b"",
        b"\n SUBSYSTEM=pci\n DEVICE=+pci:0000:00:00.0",
        b"\n K=V",
    ];
    let mut ts: u64 = 0;
    let mut seq = 0;
    for fac in 0..25u64 {
        for lev in 0..8u64 {
            ts += (fac * 8 + lev) * 123_457 % 3_000_000;
            let m = msgs[(seq * 7 + 3) % msgs.len()];
            let d = dicts[seq % dicts.len()];
            let mut r = format!("{},{seq},{ts},-;", fac * 8 + lev).into_bytes();
            r.extend_from_slice(m);
            r.extend_from_slice(d);
            r.push(b'\n');
            recs.push(r);
            seq += 1;
        }
    }
    let tail: &[&[u8]] = &[
        b"6,999,1000000,-,caller=T123;with a task caller\n",
        b"6,1000,1000001,-,caller=C1;with a cpu caller\n",
        b"6,1001,1000002,c;continued flag\n",
        b"6,1002,1000003;no flags\n",
        b"6,1003,99999999999999,-;huge timestamp\n",
        b"6,1004,5,-;no final newline",
        b" 7,1006,7,-;leading space\n",
        b"x,1007,8,-;bad priority\n",
        b"6,1008,-;missing timestamp\n",
        b"6;short prefix\n",
        b"1030,1009,9,-;large priority\n",
        b"-5,1010,10,-;negative priority\n",
        b"6,1012,12,-,x,y;two optional fields\n",
        b"\n",
        b"6,1013,13,-;\n",
        b"6,1014,14,-;usb 1-1: multi\\x0aline with: colon\\x0a  indented\n",
        b"3,1015,2000000,-;going backwards in time\n",
    ];
    recs.extend(tail.iter().map(|t| t.to_vec()));
    let mut long = b"6,1005,6,-;".to_vec();
    long.extend(std::iter::repeat_n(b'L', 1500));
    long.push(b'\n');
    recs.push(long);
    let mut escapes = b"6,1011,11,-;".to_vec();
    for _ in 0..300 {
        escapes.extend_from_slice(b"\\x41");
    }
    escapes.push(b'\n');
    recs.push(escapes);
    recs.join(&0u8)
}

/// A `-F` file: `<prio>[ts] msg` lines, caller ids, lines without prefix
/// or timestamp, malformed timestamps, empty lines, NUL bytes, a line
/// longer than a page, a continuation line, no final newline.
fn syslog_file() -> Vec<u8> {
    let msgs: &[&[u8]] = &[
        b"plain message",
        b"usb 1-1: new device",
        b"segfault at 0 ip",
        b"tab\there",
        b"back\\slash",
        b"utf8 caf\xc3\xa9",
        b"raw \x01\x7f\xff bytes",
        b"",
        b"x\x00y",
    ];
    let mut out = Vec::new();
    let mut ts: u64 = 0;
    let mut i = 0;
    for fac in 0..25u64 {
        for lev in 0..8u64 {
            ts += (fac * 8 + lev) * 98_765 % 3_000_000;
            out.extend_from_slice(
                format!(
                    "<{}>[{:5}.{:06}] ",
                    fac * 8 + lev,
                    ts / 1_000_000,
                    ts % 1_000_000
                )
                .as_bytes(),
            );
            out.extend_from_slice(msgs[i % msgs.len()]);
            out.push(b'\n');
            i += 1;
        }
    }
    let tail: &[&[u8]] = &[
        b"<6>[    1.000000] [  T123] with a caller\n",
        b"<6>[    1.000001] [    C1] cpu caller\n",
        b"no prefix at all\n",
        b"<6>no timestamp\n",
        b"<6>[1.5] short microseconds\n",
        b"<6>[ 12x] bad timestamp\n",
        b"<6>[-1.-5] negative\n",
        b"\n\n",
        b"<4>[    3.000000] continued\nsecond line\n",
        b"<x>[    4.000000] bad priority\n",
        b"<199>[    4.500000] facility 24\n",
    ];
    for t in tail {
        out.extend_from_slice(t);
    }
    out.extend_from_slice(b"<6>[    2.000000] ");
    out.extend(std::iter::repeat_n(b'L', 5000));
    out.push(b'\n');
    out.extend_from_slice(b"<3>[    5.000000] last line without newline");
    out
}

fn write_file(dir: &Path, name: &str, data: &[u8]) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, data).unwrap();
    p
}

#[test]
fn kmsg_files() {
    if !runs(Tier::Reference) {
        return;
    }
    let dir = scratch_dir("dmesg-kmsg");
    let f = write_file(&dir, "log.kmsg", &kmsg_file());
    let f = f.to_str().unwrap();
    let mut failures = check_all(FORMATS, &["-K", f], &zone_envs());
    let sets: &[&[&str]] = &[&["-u"], &["-f", "24"], &["-l", "emerg,alert+"], &["-w"]];
    failures.extend(check_all(sets, &["--kmsg-file", f], &[vec![]]));
    // Valid UTF-8 is printed as is in a UTF-8 locale.
    failures.extend(check_all(
        &[&[], &["-x"], &["-L=always"], &["--noescape"]],
        &["-K", f],
        &[vec![("LC_ALL", OsStr::new("C.UTF-8"))]],
    ));
    assert_none("-K files", failures);
}

#[test]
fn syslog_files() {
    if !runs(Tier::Reference) {
        return;
    }
    let dir = scratch_dir("dmesg-syslog");
    let f = write_file(&dir, "log.txt", &syslog_file());
    let f = f.to_str().unwrap();
    let sets: Vec<&[&str]> = FORMATS
        .iter()
        .copied()
        .filter(|s| !s.contains(&"-p"))
        .collect();
    let mut failures = check_all(&sets, &["-F", f], &zone_envs());
    let extra: &[&[&str]] = &[
        &["-p"],
        &["-r", "-l", "err"],
        &["-r", "-f", "kern"],
        &["--file", f, "-r"],
    ];
    failures.extend(check_all(extra, &["-F", f], &[vec![]]));
    failures.extend(check_all(
        &[&[], &["-r"], &["-x", "-L=always"]],
        &["-F", f],
        &[vec![("LC_ALL", OsStr::new("C.UTF-8"))]],
    ));
    assert_none("-F files", failures);
}

#[test]
fn odd_files() {
    if !runs(Tier::Reference) {
        return;
    }
    let dir = scratch_dir("dmesg-odd");
    let mut cases: Vec<(String, Vec<u8>)> = Vec::new();
    // A record of exactly 2048 bytes (the limit), one over, NULs only,
    // runs of NULs between records, a too-large record after output.
    let mut exact = b"6,1,1,-;".to_vec();
    exact.extend(std::iter::repeat_n(b'y', 2048 - 9));
    exact.push(b'\n');
    cases.push(("exact".into(), exact.clone()));
    let mut over = b"6,1,1,-;".to_vec();
    over.extend(std::iter::repeat_n(b'y', 2048 - 8));
    over.push(b'\n');
    cases.push(("over".into(), over.clone()));
    cases.push(("nuls".into(), b"\0\0\0".to_vec()));
    cases.push(("runs".into(), b"6,1,1,-;a\n\0\0\x006,2,2,-;b\n\0".to_vec()));
    let mut late = Vec::new();
    for i in 0..300 {
        late.extend_from_slice(format!("6,{i},{},-;line {i}\n\0", i * 1000).as_bytes());
    }
    late.extend_from_slice(&over);
    cases.push(("late-too-large".into(), late));
    cases.push(("text".into(), b"not a kmsg file\nat all\n".to_vec()));
    let mut failures = Vec::new();
    for (name, data) in &cases {
        let p = write_file(&dir, name, data);
        let p = p.to_str().unwrap();
        for opt in ["-K", "-F"] {
            failures.extend(check_all(
                &[&[], &["-x"], &["-r"], &["-J"]],
                &[opt, p],
                &[vec![]],
            ));
        }
    }
    assert_none("odd files", failures);
}

/// Malformed records after a 2048-byte first record, so that whatever
/// util-linux reads past a record's end is a previous record (not
/// uninitialised memory, which makes its output vary from run to run).
#[test]
fn malformed_kmsg_records() {
    if !runs(Tier::Reference) {
        return;
    }
    let dir = scratch_dir("dmesg-fuzz");
    let tokens: &[&[u8]] = &[
        b"6",
        b"14",
        b",",
        b";",
        b"-",
        b"\n",
        b" ",
        b"\\x41",
        b"\\x0a",
        b"\\x",
        b"caller=",
        b"T1",
        b"123",
        b"9999999999999999999999",
        b"<",
        b">",
        b"[",
        b"]",
        b".",
        b"abc",
        b": ",
        b"\t",
        b"\xff",
        b"\x01",
        b"+",
        b"-5",
        b"0",
    ];
    let opts: &[&[&str]] = &[
        &[],
        &["-x"],
        &["-r"],
        &["-J"],
        &["-L=always"],
        &["-p"],
        &["-t"],
        &["-d"],
        &["--noescape"],
        &["-l", "info"],
    ];
    let mut state: u64 = 0x2545_f491_4f6c_dd1d;
    let mut next = move |n: u64| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state % n
    };
    let mut failures = Vec::new();
    let mut skipped = 0;
    for case in 0..150 {
        let mut primer = b"6,0,0,-;".to_vec();
        primer.extend(std::iter::repeat_n(b'P', 2048 - 9));
        primer.push(b'\n');
        let mut recs = vec![primer];
        for _ in 0..1 + next(6) {
            let mut r = Vec::new();
            for _ in 0..next(12) {
                r.extend_from_slice(tokens[next(tokens.len() as u64) as usize]);
            }
            recs.push(r);
        }
        let p = write_file(&dir, &format!("case{case}"), &recs.join(&0u8));
        let set = opts[next(opts.len() as u64) as usize];
        let mut args = os(&["-K", p.to_str().unwrap()]);
        args.extend(os(set));
        if let Some(f) = diff_once(&args, &[]) {
            // Skip records on which util-linux itself is not deterministic
            // (reads beyond its buffers or aborts).
            let a = run(false, &args, &[]);
            let b = run(false, &args, &[]);
            if a.stdout != b.stdout || a.status.code().is_none() {
                skipped += 1;
                continue;
            }
            failures.push(f);
        }
    }
    assert!(skipped < 30, "too many non-deterministic cases: {skipped}");
    assert_none("malformed -K records", failures);
}

#[test]
fn option_errors() {
    if !runs(Tier::Reference) {
        return;
    }
    let sets: &[&[&str]] = &[
        &["-h"],
        &["--help"],
        &["-l", "foo"],
        &["-l", "err,foo,bar"],
        &["-l", "err,,warn"],
        &["-l", "err,"],
        &["-l", ""],
        &["-l", "3x"],
        &["-l", "99999999999999999999"],
        &["-l", "foo+"],
        &["-l", "+foo"],
        &["-l", "8"],
        &["-n", "foo"],
        &["-n", "0"],
        &["-n", "9"],
        &["-n", ""],
        &["-f", "foo"],
        &["-f", "24"],
        &["-f", "99999999999999999999"],
        &["--time-format", "foo"],
        &["--time-format", ""],
        &["-L", "foo"],
        &["--color=foo"],
        &["-L="],
        &["--color="],
        &["-s", "abc"],
        &["-s", "-5"],
        &["-s", "99999999999"],
        &["-s", ""],
        &["-s", "12 "],
        &["-c", "-r"],
        &["-C", "-D"],
        &["--clear", "--console-on"],
        &["-n", "3", "-c"],
        &["-F", "x", "-K", "y"],
        &["-H", "-r"],
        &["-x", "-r"],
        &["-r", "-x"],
        &["-S", "-w"],
        &["-t", "-r"],
        &["-T", "-r"],
        &["-d", "-r"],
        &["-e", "-r"],
        &["-L", "-r"],
        &["-i"],
        &["-Z"],
        &["--bogus"],
        &["--col"],
        &["--co"],
        &["--since", "foo"],
        &["--until", "2026-13-01"],
        &["--since", ""],
        &["--since", "+5x"],
        &["--since", "@"],
        &["--since", "12:34:56.1234567"],
        &["extra"],
        &["-x", "extra", "-k"],
        &["-F", "/nonexistent"],
        &["-K", "/nonexistent"],
        &["-F", "/"],
        &["-K", "/"],
        &["-F", "/dev/null"],
        &["-K", "/dev/null"],
        &["-F", "/proc/version"],
        &["--level"],
        &["-l"],
        &["--since"],
        &["-p", "-S"],
        &["-p", "-F", "/proc/self/status"],
        &["-r", "-S", "-k"],
    ];
    assert_none("option errors", check_all(sets, &[], &[vec![]]));
}

#[test]
fn version_first_line() {
    if !runs(Tier::Reference) {
        return;
    }
    let ours = run(true, &os(&["-V"]), &[]);
    let theirs = run(false, &os(&["-V"]), &[]);
    assert!(ours.status.success() && theirs.status.success());
    let first = |o: &Output| o.stdout.split(|&b| b == b'\n').next().unwrap().to_vec();
    assert_eq!(first(&ours), first(&theirs));
    assert!(String::from_utf8_lossy(&ours.stdout).contains("modkit "));
}

#[test]
fn write_errors() {
    if !runs(Tier::Reference) {
        return;
    }
    // glibc's buffering decides where the failure is noticed: "write
    // failed" from a message write, "write error" at exit.
    let _g = LIVE.read().unwrap();
    let dir = scratch_dir("dmesg-full");
    let f = write_file(&dir, "log.kmsg", &kmsg_file());
    let f = f.to_str().unwrap();
    let sets: &[&[&str]] = &[
        &[],
        &["-J"],
        &["-h"],
        &["-t"],
        &["-K", f],
        &["-K", f, "-x", "-T"],
        &["-K", f, "-J"],
    ];
    let mut failures = Vec::new();
    for set in sets {
        let args = os(set);
        let go = |ours: bool| {
            let mut cmd = if ours {
                let mut c = Command::new(modkit());
                c.arg("dmesg");
                c
            } else {
                Command::new(ref_tool("dmesg"))
            };
            cmd.args(&args)
                .env("LC_ALL", "C")
                .stdout(
                    std::fs::OpenOptions::new()
                        .write(true)
                        .open("/dev/full")
                        .unwrap(),
                )
                .output()
                .unwrap()
        };
        let (a, b) = (go(true), go(false));
        if a.status.code() != b.status.code() || a.stderr != b.stderr {
            failures.push(format!(
                "dmesg {set:?} > /dev/full: {:?} {:?} vs {:?} {:?}",
                a.status,
                String::from_utf8_lossy(&a.stderr),
                b.status,
                String::from_utf8_lossy(&b.stderr)
            ));
        }
    }
    assert_none("writing to /dev/full", failures);
}

#[test]
fn closed_pipe_kills_like_sigpipe() {
    use std::io::Read;
    use std::os::unix::process::ExitStatusExt;
    if !runs(Tier::Reference) {
        return;
    }
    let _g = LIVE.read().unwrap();
    let dir = scratch_dir("dmesg-pipe");
    let mut big = Vec::new();
    for i in 0..20_000 {
        big.extend_from_slice(format!("6,{i},{i},-;line {i}\n\0").as_bytes());
    }
    let f = write_file(&dir, "log.kmsg", &big);
    let status = |ours: bool| {
        let mut cmd = if ours {
            let mut c = Command::new(modkit());
            c.arg("dmesg");
            c
        } else {
            Command::new(ref_tool("dmesg"))
        };
        let mut child = cmd
            .arg("-K")
            .arg(&f)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut out = child.stdout.take().unwrap();
        let mut first = [0u8; 10];
        out.read_exact(&mut first).unwrap();
        drop(out);
        let o = child.wait_with_output().unwrap();
        (o.status.signal(), o.status.code(), o.stderr)
    };
    assert_eq!(status(true), status(false));
}

#[test]
fn color_schemes() {
    if !runs(Tier::Reference) {
        return;
    }
    let dir = scratch_dir("dmesg-colors");
    let f = write_file(&dir, "log.kmsg", &kmsg_file());
    let f = f.to_str().unwrap();
    let schemes: &[(&str, &[u8])] = &[
        (
            "custom",
            b"# comment\n  time lightblue\nsubsys 1;35\nerr \\e[4m\\_x\nwarn\n\nsegfault   red extra\n",
        ),
        ("broken", b"time blue\nbogus nosuchcolor\nerr green\n"),
    ];
    let mut envs = Vec::new();
    for (name, text) in schemes {
        let d = dir.join(name).join("terminal-colors.d");
        std::fs::create_dir_all(&d).unwrap();
        std::fs::write(d.join("dmesg.scheme"), text).unwrap();
        envs.push(vec![(
            "XDG_CONFIG_HOME",
            OsStr::new(Box::leak(
                dir.join(name).into_os_string().into_boxed_os_str(),
            )),
        )]);
    }
    let disabled = dir.join("disabled").join("terminal-colors.d");
    std::fs::create_dir_all(&disabled).unwrap();
    std::fs::write(disabled.join("dmesg.disable"), b"").unwrap();
    envs.push(vec![(
        "XDG_CONFIG_HOME",
        OsStr::new(Box::leak(
            dir.join("disabled").into_os_string().into_boxed_os_str(),
        )),
    )]);
    let sets: &[&[&str]] = &[
        &["-L=always"],
        &["-L=always", "-e"],
        &["--color=always", "-x"],
    ];
    assert_none("colour schemes", check_all(sets, &["-K", f], &envs));
}

#[test]
fn follow_mode() {
    use std::io::Write;
    if !runs(Tier::Reference) {
        return;
    }
    let _g = LIVE.write().unwrap();
    let sets: &[&[&str]] = &[
        &["-W"],
        &["-W", "-x", "-u"],
        &["--follow-new", "-J"],
        &["-w", "-t"],
    ];
    let mut failures = Vec::new();
    for (i, set) in sets.iter().enumerate() {
        let spawn = |ours: bool| {
            let mut cmd = if ours {
                let mut c = Command::new(modkit());
                c.arg("dmesg");
                c
            } else {
                Command::new(ref_tool("dmesg"))
            };
            cmd.args(*set)
                .env("LC_ALL", "C")
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        };
        let (mut a, mut b) = (spawn(true), spawn(false));
        std::thread::sleep(std::time::Duration::from_millis(300));
        let Ok(mut kmsg) = std::fs::OpenOptions::new().write(true).open("/dev/kmsg") else {
            let _ = (a.kill(), b.kill(), a.wait(), b.wait());
            skip(
                Tier::Reference,
                "/dev/kmsg not writable: follow mode not tested",
            );
            return;
        };
        kmsg.write_all(format!("<12>modkit dmesg follow test {i}\n").as_bytes())
            .unwrap();
        std::thread::sleep(std::time::Duration::from_millis(300));
        let _ = (a.kill(), b.kill());
        let (oa, ob) = (a.wait_with_output().unwrap(), b.wait_with_output().unwrap());
        let line = format!("modkit dmesg follow test {i}");
        if !String::from_utf8_lossy(&oa.stdout).contains(&line) {
            failures.push(format!("{set:?}: the new record was not printed"));
        }
        if oa.stdout != ob.stdout || oa.stderr != ob.stderr {
            failures.push(format!(
                "{set:?}: follow output differs\n{}",
                first_difference(&oa.stdout, &ob.stdout)
            ));
        }
    }
    assert_none("follow mode", failures);
}

/// Reading as an unprivileged user: with `dmesg_restrict` set, both fail
/// opening `/dev/kmsg`, fall back to `syslog(2)`, and fail the same way;
/// without, both read the log. (The reference and modkit are copied
/// where the user can run them.)
#[test]
fn unprivileged_read() {
    if !runs(Tier::Reference) {
        return;
    }
    let _g = LIVE.read().unwrap();
    let setpriv = ["/usr/bin/setpriv", "/bin/setpriv"]
        .into_iter()
        .find(|p| Path::new(p).exists());
    let Some(setpriv) = setpriv else {
        skip(
            Tier::Reference,
            "setpriv missing: unprivileged reading not tested",
        );
        return;
    };
    if !std::fs::read_to_string("/proc/self/status")
        .unwrap()
        .lines()
        .any(|l| l.starts_with("Uid:") && l.split_whitespace().nth(1) == Some("0"))
    {
        skip(Tier::Reference, "not root: unprivileged reading not tested");
        return;
    }
    use std::os::unix::fs::PermissionsExt;
    let dir = ScratchDir::new("dmesg-unpriv");
    let lib = common::cache_dir().join("ref/root/usr/lib/x86_64-linux-gnu");
    for f in ["ld-linux-x86-64.so.2", "libc.so.6", "libtinfo.so.6"] {
        std::fs::copy(lib.join(f), dir.join(f)).unwrap();
    }
    ref_tool("dmesg");
    std::fs::copy(
        common::cache_dir().join("ref/root/usr/bin/dmesg"),
        dir.join("dmesg"),
    )
    .unwrap();
    std::fs::copy(modkit(), dir.join("modkit")).unwrap();
    for e in std::fs::read_dir(&dir).unwrap() {
        let p = e.unwrap().path();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
    let go = |ours: bool, extra: &[&str]| {
        let mut cmd = Command::new(setpriv);
        cmd.args(["--reuid=65534", "--regid=65534", "--clear-groups"]);
        if ours {
            cmd.arg(dir.join("modkit")).arg("dmesg");
        } else {
            cmd.arg(dir.join("ld-linux-x86-64.so.2"))
                .arg("--library-path")
                .arg(&dir)
                .args(["--argv0", "dmesg"])
                .arg(dir.join("dmesg"));
        }
        cmd.args(extra)
            .env("LC_ALL", "C")
            .env("TZ", "UTC")
            .current_dir("/")
            .output()
            .unwrap()
    };
    let mut failures = Vec::new();
    for extra in [&[][..], &["-x"], &["-S"], &["-J"], &["-r"]] {
        // Retried once: the log may change between the runs.
        let mut last = None;
        for _ in 0..2 {
            let (a, b) = (go(true, extra), go(false, extra));
            if a.status.code() == b.status.code() && a.stdout == b.stdout && a.stderr == b.stderr {
                last = None;
                break;
            }
            last = Some(format!(
                "unprivileged dmesg {extra:?}: {:?} {} vs {:?} {}",
                a.status,
                String::from_utf8_lossy(&a.stderr),
                b.status,
                String::from_utf8_lossy(&b.stderr)
            ));
        }
        failures.extend(last);
    }
    assert_none("unprivileged reading", failures);
}
