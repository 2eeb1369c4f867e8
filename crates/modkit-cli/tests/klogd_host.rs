//! `modkit klogd` on recorded kernel logs (`--kmsg-file`, the `/dev/kmsg`
//! format): every record delivered once and in order; a restart resumes
//! after the last record written; a klogd killed with SIGKILL again and
//! again while records arrive loses and duplicates nothing; seq gaps give
//! one "missed N" line with N the gap; floods give "suppressed N" lines;
//! malformed and hostile input is skipped and counted, never a crash;
//! raw addresses decoded through a symbol table; the daemon's signals
//! (SIGHUP reopens, -i signals it, SIGTERM stops it) and its option errors.

mod common;

use common::*;
use modkit_testkit::{Rng, ScratchDir};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A record as `/dev/kmsg` gives it.
fn record(seq: u64, level: u8, msg: &str) -> String {
    format!(
        "{level},{seq},{},-,caller=T1;{msg}\n SUBSYSTEM=test\n",
        seq * 10
    )
}

fn records(seqs: impl IntoIterator<Item = u64>) -> String {
    seqs.into_iter()
        .map(|s| record(s, (s % 8) as u8, &format!("message {s}")))
        .collect()
}

struct Setup {
    dir: ScratchDir,
}

impl Setup {
    fn new(name: &str) -> Setup {
        let dir = ScratchDir::new(name);
        std::fs::write(dir.join("boot_id"), "boot-one\n").unwrap();
        Setup { dir }
    }
    fn p(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }
    /// `modkit klogd ARGS --kmsg-file kmsg -f out.log` with the state here.
    fn args(&self, extra: &[&str]) -> Vec<String> {
        let mut v: Vec<String> = vec![
            "--kmsg-file".into(),
            self.p("kmsg").display().to_string(),
            "-f".into(),
            self.p("out.log").display().to_string(),
            "--state-dir".into(),
            self.p("state").display().to_string(),
            "--boot-id-file".into(),
            self.p("boot_id").display().to_string(),
            "--pid-file".into(),
            self.p("klogd.pid").display().to_string(),
            "--config".into(),
            "/dev/null".into(),
        ];
        v.extend(extra.iter().map(|s| s.to_string()));
        v
    }
    fn once(&self, extra: &[&str]) -> std::process::Output {
        let mut a = self.args(&["-o"]);
        a.extend(extra.iter().map(|s| s.to_string()));
        let out = run_modkit("klogd", &a);
        assert!(
            out.status.success(),
            "klogd {a:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        out
    }
    fn lines(&self) -> Vec<String> {
        std::fs::read_to_string(self.p("out.log"))
            .unwrap_or_default()
            .lines()
            .map(str::to_string)
            .collect()
    }
    fn daemon(&self, extra: &[&str]) -> Child {
        let mut a = vec!["klogd".to_string(), "-n".into()];
        a.extend(self.args(extra));
        Command::new(modkit())
            .args(&a)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    }
}

/// The seq of each record line (`SEQ kern.LEVEL ...`), klogd's own and
/// marker lines left out.
fn record_seqs(lines: &[String]) -> Vec<u64> {
    lines
        .iter()
        .filter(|l| l.contains(" kern."))
        .map(|l| l.split(' ').next().unwrap().parse().unwrap())
        .collect()
}

fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "timed out: {what}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn signal(child: &Child, sig: &str) {
    let st = Command::new("kill")
        .args([sig, &child.id().to_string()])
        .status()
        .unwrap();
    assert!(st.success());
}

#[test]
fn every_record_once_in_order_with_levels_and_facilities() {
    let s = Setup::new("klogd-once");
    let mut text = records(0..5000);
    text.push_str("14,5000,50000,-;user facility \\x5c and a tab\\x09here\n");
    text.push_str("191,5001,50010,-;local7 debug\\x0anewline\n");
    std::fs::write(s.p("kmsg"), text).unwrap();
    s.once(&["--rate-limit", "0"]);
    let lines = s.lines();
    assert_eq!(
        lines[0],
        "- syslog.notice [    0.000000] klogd: boot boot-one"
    );
    assert_eq!(record_seqs(&lines), (0..5000).collect::<Vec<_>>());
    assert_eq!(lines[1], "0 kern.emerg [    0.000000] message 0");
    assert_eq!(lines[8], "7 kern.debug [    0.000070] message 7");
    assert_eq!(lines[5000], "4999 kern.debug [    0.049990] message 4999");
    assert_eq!(
        lines[5001],
        "5000 user.info [    0.050000] user facility \\ and a tab\there"
    );
    assert_eq!(
        lines[5002],
        "5001 local7.debug [    0.050010] local7 debug\\x0anewline"
    );
    assert_eq!(lines.len(), 5003);
    let pos = std::fs::read_to_string(s.p("state").join(format!(
        "position.file%3A{}",
        s.p("out.log").display().to_string().replace('/', "%2F")
    )))
    .unwrap();
    assert_eq!(pos, "boot-one 5001\n");
}

#[test]
fn restarts_resume_and_a_new_boot_starts_over() {
    let s = Setup::new("klogd-resume");
    std::fs::write(s.p("kmsg"), records(0..100)).unwrap();
    s.once(&[]);
    s.once(&[]);
    assert_eq!(record_seqs(&s.lines()), (0..100).collect::<Vec<_>>());
    std::fs::write(s.p("kmsg"), records(0..250)).unwrap();
    s.once(&[]);
    assert_eq!(record_seqs(&s.lines()), (0..250).collect::<Vec<_>>());
    // The state says another boot: the log starts again after a marker.
    std::fs::write(s.p("boot_id"), "boot-two\n").unwrap();
    std::fs::write(s.p("kmsg"), records(0..10)).unwrap();
    s.once(&[]);
    let lines = s.lines();
    let marker = lines
        .iter()
        .position(|l| l == "- syslog.notice [    0.000000] klogd: boot boot-two")
        .expect("boot marker");
    assert_eq!(record_seqs(&lines[marker..]), (0..10).collect::<Vec<_>>());
    // The position file lost (state directory wiped): the file's own last
    // line says where it stands.
    std::fs::remove_dir_all(s.p("state")).unwrap();
    std::fs::write(s.p("boot_id"), "boot-two\n").unwrap();
    s.once(&[]);
    let after: Vec<u64> = record_seqs(&s.lines()[marker..]);
    // A lost state is a new start: it can only repeat, never lose.
    assert!(after.starts_with(&(0..10).collect::<Vec<_>>()));
}

#[test]
fn missed_records_are_one_line_with_the_gap() {
    let s = Setup::new("klogd-gap");
    // Seqs 0-9, then 10-46 overwritten, then 47-59; and the next run
    // starts with 60-99 overwritten.
    let mut text = records(0..10);
    text.push_str(&records(47..60));
    std::fs::write(s.p("kmsg"), &text).unwrap();
    s.once(&[]);
    text.push_str(&records(100..103));
    std::fs::write(s.p("kmsg"), &text).unwrap();
    s.once(&[]);
    let lines = s.lines();
    let missed: Vec<&String> = lines.iter().filter(|l| l.contains("missed")).collect();
    assert_eq!(
        missed,
        [
            "46 syslog.warn [    0.000470] klogd: missed 37 records (seq 10 to 46)",
            "99 syslog.warn [    0.001000] klogd: missed 40 records (seq 60 to 99)"
        ]
    );
    let want: Vec<u64> = (0..10).chain(47..60).chain(100..103).collect();
    assert_eq!(record_seqs(&lines), want);
    // A log that wrapped before klogd started: the records before the
    // oldest one still there are missed too.
    let s = Setup::new("klogd-gap-start");
    std::fs::write(s.p("kmsg"), records(5..8)).unwrap();
    s.once(&[]);
    assert_eq!(
        s.lines()[1],
        "4 syslog.warn [    0.000050] klogd: missed 5 records (seq 0 to 4)"
    );
}

#[test]
fn floods_are_rate_limited_with_summaries() {
    let s = Setup::new("klogd-flood");
    std::fs::write(s.p("kmsg"), records(0..1000)).unwrap();
    s.once(&["--rate-limit", "100/3600"]);
    let lines = s.lines();
    assert_eq!(record_seqs(&lines), (0..100).collect::<Vec<_>>());
    assert_eq!(
        lines.last().unwrap(),
        "999 syslog.notice [    0.009990] klogd: suppressed 900 records (seq 100 to 999): rate limit"
    );
    // The default limit passes 10000 records at once.
    let s = Setup::new("klogd-flood-default");
    std::fs::write(s.p("kmsg"), records(0..10001)).unwrap();
    s.once(&[]);
    let lines = s.lines();
    assert_eq!(record_seqs(&lines).len(), 10000);
    assert!(lines
        .last()
        .unwrap()
        .ends_with("klogd: suppressed 1 records (seq 10000 to 10000): rate limit"));
}

#[test]
fn malformed_and_hostile_records_are_skipped_and_counted() {
    let s = Setup::new("klogd-malformed");
    let mut text = records(0..3);
    text.push_str("no semicolon here\n6,x,0,-;bad seq\n9999,3,0,-;prio too big\n");
    text.push_str(&records(3..5));
    std::fs::write(s.p("kmsg"), &text).unwrap();
    let out = s.once(&["-d"]);
    let lines = s.lines();
    assert_eq!(record_seqs(&lines), (0..5).collect::<Vec<_>>());
    assert!(lines
        .contains(&"3 syslog.warn [    0.000030] klogd: skipped 3 malformed records".to_string()));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("3 malformed"), "{err}");
    // Run again: nothing repeated.
    s.once(&[]);
    assert_eq!(s.lines(), lines);
    // Random bytes, and records cut at random places: never a crash.
    let mut rng = Rng(14);
    for round in 0..20 {
        let s = Setup::new(&format!("klogd-hostile-{round}"));
        let mut bytes = records(0..50).into_bytes();
        for _ in 0..200 {
            let at = rng.below(bytes.len());
            bytes[at] = (rng.next_u64() & 0xff) as u8;
        }
        let cut = rng.below(bytes.len());
        bytes.truncate(cut);
        std::fs::write(s.p("kmsg"), &bytes).unwrap();
        let out = run_modkit("klogd", s.args(&["-o"]));
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            out.status.success() && !err.contains("panicked"),
            "round {round}: {err}"
        );
        // Whatever was delivered is in order, once.
        let seqs = record_seqs(&s.lines());
        assert!(
            seqs.windows(2).all(|w| w[0] < w[1]),
            "round {round}: {seqs:?}"
        );
    }
}

#[test]
fn killed_again_and_again_nothing_lost_or_duplicated() {
    let s = Setup::new("klogd-kill");
    std::fs::write(s.p("kmsg"), "").unwrap();
    let mut writer = std::fs::OpenOptions::new()
        .append(true)
        .open(s.p("kmsg"))
        .unwrap();
    let total = 20_000u64;
    let mut next = 0u64;
    let mut rng = Rng(9);
    let mut child = s.daemon(&["--rate-limit", "0", "--sync", "never"]);
    for _ in 0..8 {
        // Records arrive in bursts; klogd is killed at some point among them.
        for _ in 0..5 {
            let n = 200 + rng.below(600) as u64;
            let end = (next + n).min(total);
            writer.write_all(records(next..end).as_bytes()).unwrap();
            next = end;
            std::thread::sleep(Duration::from_millis(rng.below(30) as u64));
        }
        signal(&child, "-KILL");
        child.wait().unwrap();
        child = s.daemon(&["--rate-limit", "0", "--sync", "never"]);
    }
    writer.write_all(records(next..total).as_bytes()).unwrap();
    wait_until("every record written", || {
        record_seqs(&s.lines()).last() == Some(&(total - 1))
    });
    signal(&child, "-TERM");
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!s.p("klogd.pid").exists());
    let lines = s.lines();
    assert_eq!(record_seqs(&lines), (0..total).collect::<Vec<_>>());
    assert!(!lines.iter().any(|l| l.contains("missed")));
    assert_eq!(
        lines.iter().filter(|l| l.contains("klogd: boot")).count(),
        1
    );
}

#[test]
fn sighup_reopens_and_dash_i_signals_the_daemon() {
    let s = Setup::new("klogd-signals");
    std::fs::write(s.p("kmsg"), records(0..10)).unwrap();
    let child = s.daemon(&["-d", "--kallsyms", "/nonexistent"]);
    wait_until("pid file", || s.p("klogd.pid").exists());
    wait_until("first records", || record_seqs(&s.lines()).len() == 10);
    std::fs::rename(s.p("out.log"), s.p("out.log.old")).unwrap();
    signal(&child, "-HUP");
    std::thread::sleep(Duration::from_millis(500));
    let mut w = std::fs::OpenOptions::new()
        .append(true)
        .open(s.p("kmsg"))
        .unwrap();
    w.write_all(records(10..15).as_bytes()).unwrap();
    wait_until("records in the new file", || {
        record_seqs(&s.lines()) == (10..15).collect::<Vec<_>>()
    });
    // -i: SIGUSR1 to the daemon of the pid file; the daemon reads the
    // table again at the next trace line.
    let out = run_modkit("klogd", s.args(&["-i"]));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    w.write_all(record(15, 4, "Call Trace: [<ffffffff81000010>]").as_bytes())
        .unwrap();
    wait_until("record 15", || record_seqs(&s.lines()).last() == Some(&15));
    signal(&child, "-TERM");
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("symbols: /nonexistent"), "{err}");
    let old = std::fs::read_to_string(s.p("out.log.old")).unwrap();
    assert_eq!(old.lines().filter(|l| l.contains(" kern.")).count(), 10);
    // No daemon any more: -i fails with one line.
    let out = run_modkit("klogd", s.args(&["-I"]));
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.starts_with("modkit klogd: no daemon to signal: ") && err.lines().count() == 1,
        "{err}"
    );
}

#[test]
fn background_start_writes_the_pid_file() {
    let s = Setup::new("klogd-background");
    std::fs::write(s.p("kmsg"), records(0..3)).unwrap();
    let out = run_modkit("klogd", s.args(&[]));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let pid: i32 = std::fs::read_to_string(s.p("klogd.pid"))
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    wait_until("records", || record_seqs(&s.lines()).len() == 3);
    Command::new("kill").arg(pid.to_string()).status().unwrap();
    wait_until("pid file removed", || !s.p("klogd.pid").exists());
}

fn write_table(path: &Path) {
    std::fs::write(
        path,
        "ffffffff81000000 T _stext\n\
         ffffffff81000100 T do_one_initcall\n\
         ffffffff81000200 T kthread\n\
         ffffffffc0a01000 t mk_oops_fire\t[mk_oops]\n\
         ffffffffc0a01080 t mk_oops_set\t[mk_oops]\n",
    )
    .unwrap();
}

#[test]
fn raw_addresses_are_decoded_through_the_symbol_table() {
    let s = Setup::new("klogd-decode");
    write_table(&s.p("kallsyms"));
    let mut text = String::new();
    text.push_str(&record(0, 4, "Call Trace:"));
    text.push_str(&record(
        1,
        4,
        " [<ffffffffc0a01014>] ? [<ffffffff81000120>]",
    ));
    text.push_str(&record(2, 4, " do_one_initcall+0x46/0x1f0"));
    text.push_str(&record(3, 4, "RIP: 0010:0xffffffffc0a01090"));
    text.push_str(&record(4, 4, "---[ end trace 0000000000000000 ]---"));
    text.push_str(&record(5, 6, "value 0xffffffff81000120 not in a trace"));
    std::fs::write(s.p("kmsg"), &text).unwrap();
    let kallsyms = s.p("kallsyms").display().to_string();
    s.once(&["--kallsyms", &kallsyms, "-2"]);
    let lines = s.lines();
    assert_eq!(
        &lines[1..],
        [
            "0 kern.warn [    0.000000] Call Trace:",
            "1 kern.warn [    0.000010]  [<ffffffffc0a01014>] ? [<ffffffff81000120>]",
            "1 kern.warn [    0.000010]  [<ffffffffc0a01014>] mk_oops_fire+0x14/0x80 [mk_oops] ? [<ffffffff81000120>] do_one_initcall+0x20/0x100",
            "2 kern.warn [    0.000020]  do_one_initcall+0x46/0x1f0",
            "3 kern.warn [    0.000030] RIP: 0010:0xffffffffc0a01090",
            "3 kern.warn [    0.000030] RIP: 0010:0xffffffffc0a01090 mk_oops_set+0x10/0xf80 [mk_oops]",
            "4 kern.warn [    0.000040] ---[ end trace 0000000000000000 ]---",
            "5 kern.info [    0.000050] value 0xffffffff81000120 not in a trace",
        ]
    );
    // -x: as the kernel wrote them. -k: the core from a System.map.
    let s2 = Setup::new("klogd-decode-x");
    std::fs::write(s2.p("kmsg"), &text).unwrap();
    s2.once(&["-x", "--kallsyms", &kallsyms]);
    assert!(s2.lines()[2].ends_with("] ? [<ffffffff81000120>]"));
    let s3 = Setup::new("klogd-decode-map");
    std::fs::write(s3.p("kmsg"), &text).unwrap();
    std::fs::write(s3.p("System.map"), "ffffffff81000000 T map_start\n").unwrap();
    let map = s3.p("System.map").display().to_string();
    s3.once(&["-k", &map, "--kallsyms", &kallsyms, "-p"]);
    assert!(
        s3.lines()[2]
            .ends_with("mk_oops_fire+0x14/0x80 [mk_oops] ? [<ffffffff81000120>] map_start+0x120"),
        "{:?}",
        s3.lines()
    );
}

#[test]
fn configuration_file_and_rotation() {
    let s = Setup::new("klogd-config");
    std::fs::write(s.p("kmsg"), records(0..400)).unwrap();
    std::fs::write(
        s.p("klogd.conf"),
        format!(
            "# test\nfile = {}\nrotate-size = 4K\nrotate-count = 3\nrate-limit = 0\nsync = never\n",
            s.p("rot.log").display()
        ),
    )
    .unwrap();
    let conf = s.p("klogd.conf").display().to_string();
    let kmsg = s.p("kmsg").display().to_string();
    let state = s.p("state").display().to_string();
    let boot = s.p("boot_id").display().to_string();
    let out = run_modkit(
        "klogd",
        [
            "-o",
            "--config",
            &conf,
            "--kmsg-file",
            &kmsg,
            "--state-dir",
            &state,
            "--boot-id-file",
            &boot,
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut all = Vec::new();
    for name in ["rot.log.3", "rot.log.2", "rot.log.1", "rot.log"] {
        let t = std::fs::read_to_string(s.p(name)).unwrap();
        assert!(t.len() <= 4096 && t.ends_with('\n'), "{name}");
        all.extend(t.lines().map(str::to_string));
    }
    assert!(!s.p("rot.log.4").exists());
    let seqs = record_seqs(&all);
    // The newest records, in order, up to the last.
    assert_eq!(*seqs.last().unwrap(), 399);
    assert!(seqs.windows(2).all(|w| w[1] == w[0] + 1));
}

#[test]
fn option_and_configuration_errors_are_one_line() {
    let s = Setup::new("klogd-errors");
    std::fs::write(s.p("bad.conf"), "file = /x\nfrobnicate = 1\n").unwrap();
    let bad_conf = s.p("bad.conf").display().to_string();
    let cases: Vec<(Vec<String>, String)> = vec![
        (
            vec!["-c".into(), "0".into()],
            "modkit klogd: '0': the console level is a number from 1 to 8\n".into(),
        ),
        (
            vec!["--forward".into(), "ftp://x".into()],
            "modkit klogd: 'ftp://x': unknown transport 'ftp' (udp, tcp, tls, unix)\n".into(),
        ),
        (
            vec!["--rate-limit".into(), "lots".into()],
            "modkit klogd: 'lots': not BURST[/SECONDS]\n".into(),
        ),
        (
            vec!["--sync".into(), "always".into()],
            "modkit klogd: 'always': the sync mode is 'batch' or 'never'\n".into(),
        ),
        (
            vec!["--rotate-size".into(), "big".into()],
            "modkit klogd: 'big': not a size (bytes, or with K, M or G)\n".into(),
        ),
        (
            vec!["--config".into(), bad_conf.clone()],
            format!("modkit klogd: {bad_conf}:2: unknown key 'frobnicate'\n"),
        ),
        (
            vec!["extra".into()],
            "modkit klogd: unexpected operand 'extra'\n".into(),
        ),
        (
            vec![
                "-o".into(),
                "--config".into(),
                "/dev/null".into(),
                "--kmsg-file".into(),
                "/nonexistent/kmsg".into(),
                "-f".into(),
                s.p("o").display().to_string(),
                "--state-dir".into(),
                s.p("st").display().to_string(),
            ],
            "modkit klogd: /nonexistent/kmsg: No such file or directory\n".into(),
        ),
        (
            vec![
                "-o".into(),
                "--config".into(),
                "/dev/null".into(),
                "-f".into(),
                "/nonexistent/dir/log".into(),
                "--state-dir".into(),
                s.p("st").display().to_string(),
            ],
            "modkit klogd: /nonexistent/dir/log: No such file or directory (os error 2)\n".into(),
        ),
    ];
    for (args, want) in cases {
        let out = run_modkit("klogd", &args);
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        assert_eq!(String::from_utf8_lossy(&out.stderr), want, "{args:?}");
        assert!(out.stdout.is_empty());
    }
    let out = run_modkit("klogd", ["--frob"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "klogd: unrecognized option '--frob'\nTry 'modkit klogd --help' for more information.\n"
    );
    let out = run_modkit("klogd", ["-v"]);
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        format!("klogd from modkit {}\n", env!("CARGO_PKG_VERSION"))
    );
}

#[test]
fn pstore_records_go_first_then_are_archived_and_removed() {
    let s = Setup::new("klogd-pstore");
    std::fs::write(s.p("kmsg"), records(0..3)).unwrap();
    let pstore = s.p("pstore");
    std::fs::create_dir_all(&pstore).unwrap();
    std::fs::write(
        pstore.join("dmesg-ramoops-0"),
        "Panic#1 Part1\n<6>[    5.000000] mk_panic: about to panic\n<0>[    5.100000] Kernel panic - not syncing: mk_panic: test\n",
    )
    .unwrap();
    let archive = s.p("archive");
    let args = [
        "--pstore",
        "--pstore-dir",
        pstore.to_str().unwrap(),
        "--pstore-archive",
        archive.to_str().unwrap(),
    ];
    s.once(&args);
    let lines = s.lines();
    let panic_at = lines
        .iter()
        .position(|l| {
            l.contains("[pstore dmesg dmesg-ramoops-0] Kernel panic - not syncing: mk_panic: test")
        })
        .unwrap_or_else(|| panic!("{lines:#?}"));
    let first_live = lines.iter().position(|l| l.ends_with("message 0")).unwrap();
    assert!(panic_at < first_live, "{lines:#?}");
    assert!(
        lines[panic_at].starts_with("- kern.emerg "),
        "{}",
        lines[panic_at]
    );
    // The live records, once each, after the previous boot's.
    let live = |lines: &[String]| -> Vec<String> {
        lines
            .iter()
            .filter(|l| !l.starts_with("- "))
            .cloned()
            .collect()
    };
    assert_eq!(record_seqs(&live(&lines)), [0, 1, 2]);
    // Removed from pstore, kept in the archive.
    assert_eq!(std::fs::read_dir(&pstore).unwrap().count(), 0);
    let archived: Vec<_> = walk(&archive);
    assert!(
        archived.iter().any(|p| p.ends_with("dmesg-ramoops-0")),
        "{archived:?}"
    );
    // Again: nothing new from pstore, nothing twice.
    std::fs::write(s.p("kmsg"), records(0..4)).unwrap();
    s.once(&args);
    let again = s.lines();
    assert_eq!(
        again.iter().filter(|l| l.contains("[pstore ")).count(),
        2,
        "{again:#?}"
    );
    assert_eq!(record_seqs(&live(&again)), [0, 1, 2, 3]);
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

/// The frames (`LEN SP MSG`, RFC 6587 octet counting) of one connection.
fn frames(mut data: &[u8]) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    while !data.is_empty() {
        let sp = data.iter().position(|&b| b == b' ').expect("a length");
        let len: usize = std::str::from_utf8(&data[..sp]).unwrap().parse().unwrap();
        out.push(data[sp + 1..sp + 1 + len].to_vec());
        data = &data[sp + 1 + len..];
    }
    out
}

/// The RFC 5424 TIMESTAMP of a message (`<PRI>1 2026-12-02T07:50:54.123456Z
/// ...`) in microseconds since the epoch.
fn timestamp_us(message: &[u8]) -> i64 {
    let text = String::from_utf8_lossy(message);
    let ts = text.split(' ').nth(1).unwrap();
    let n = |r: std::ops::Range<usize>| -> i64 { ts[r].parse().unwrap() };
    let (y, m, d) = (n(0..4), n(5..7), n(8..10));
    // days since 1970-01-01 of a proleptic Gregorian date
    let (y, m) = if m <= 2 { (y - 1, m + 9) } else { (y, m - 3) };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * m + 2) / 5 + d - 1;
    let days = era * 146_097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719_468;
    let secs = days * 86_400 + n(11..13) * 3600 + n(14..16) * 60 + n(17..19);
    secs * 1_000_000 + n(20..26)
}

/// The live kernel log forwarded to a TCP sink by `klogd -o` with the
/// state in `state`: the messages, in order.
fn forward_live(state: &Path) -> Vec<Vec<u8>> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    // a sink that gives up after a minute rather than wait for ever
    listener.set_nonblocking(true).unwrap();
    let sink = std::thread::spawn(move || {
        let deadline = Instant::now() + Duration::from_secs(60);
        let mut c = loop {
            match listener.accept() {
                Ok((c, _)) => break c,
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                    assert!(Instant::now() < deadline, "klogd never connected");
                    std::thread::sleep(Duration::from_millis(20));
                }
                Err(e) => panic!("accept: {e}"),
            }
        };
        c.set_nonblocking(false).unwrap();
        c.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
        let mut data = Vec::new();
        std::io::Read::read_to_end(&mut c, &mut data).unwrap();
        data
    });
    let out = run_modkit(
        "klogd",
        [
            "-o",
            "-x",
            "--config",
            "/dev/null",
            "--rate-limit",
            "0",
            "--hostname",
            "h",
            "--forward",
            &format!("tcp://127.0.0.1:{port}"),
            "--state-dir",
            state.to_str().unwrap(),
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    frames(&sink.join().unwrap())
}

/// Records of the running kernel sent again (their position lost, as when
/// klogd is killed before it saves it) are byte for byte what was sent
/// first, TIMESTAMP included: the boot time records are stamped with is
/// kept in the state directory (`boot-time`) and used again in the same
/// boot while the clock agrees with it within a second.
///
/// Of the reference tier: it needs the host's loopback network, which the
/// offline tier takes away (`unshare -n`).
#[test]
fn live_records_sent_again_are_byte_identical() {
    if !runs(Tier::Reference) {
        return;
    }
    if std::fs::File::open("/dev/kmsg").is_err() {
        modkit_testkit::skip(Tier::Reference, "/dev/kmsg cannot be read here");
        return;
    }
    let s = Setup::new("klogd-live-again");
    let first = forward_live(&s.p("a"));
    assert!(!first.is_empty(), "the kernel log is empty");
    let saved = std::fs::read_to_string(s.p("a/boot-time")).unwrap();
    // Sent again from the start, as after a kill before any save.
    for e in std::fs::read_dir(s.p("a")).unwrap() {
        let p = e.unwrap().path();
        if p.file_name()
            .unwrap()
            .to_string_lossy()
            .starts_with("position.")
        {
            std::fs::remove_file(p).unwrap();
        }
    }
    std::thread::sleep(Duration::from_millis(20));
    let again = forward_live(&s.p("a"));
    assert!(again.len() >= first.len());
    for (a, b) in first.iter().zip(&again) {
        assert_eq!(
            String::from_utf8_lossy(a),
            String::from_utf8_lossy(b),
            "a record sent again differs"
        );
    }
    // The saved boot time is the one used: another state directory whose
    // saved boot time is 0.3 s later stamps every record 0.3 s later.
    let (id, us) = saved.trim_end().split_once(' ').unwrap();
    let later: i64 = us.parse::<i64>().unwrap() + 300_000;
    std::fs::create_dir(s.p("b")).unwrap();
    std::fs::write(s.p("b/boot-time"), format!("{id} {later}\n")).unwrap();
    let shifted = forward_live(&s.p("b"));
    for (a, b) in first.iter().zip(&shifted) {
        assert_eq!(timestamp_us(b) - timestamp_us(a), 300_000);
    }
}

/// A one-shot run whose collector cannot be reached delivers what it can
/// (the file), says what it did not deliver and exits 1; the records stay
/// after the collector's saved position, so a later run sends them.
#[test]
fn one_shot_with_an_unreachable_collector_fails_and_keeps_the_records() {
    let s = Setup::new("klogd-undelivered");
    std::fs::write(s.p("kmsg"), records(0..5)).unwrap();
    // a port nothing listens on: bound, then closed
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let dest = format!("tcp://127.0.0.1:{port}");
    let a = s.args(&["-o", "--forward", &dest]);
    let out = run_modkit("klogd", &a);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr
            .ends_with("records from the first to seq 4 not delivered; the next run sends them\n")
            && stderr.lines().count() == 1,
        "{stderr}"
    );
    // the file output got everything (after klogd's boot line)
    let lines = s.lines();
    assert_eq!(lines.len(), 6, "{lines:?}");
    assert!(lines[5].starts_with("4 kern.warn "), "{lines:?}");
}
