//! dmesg on two small log files written at test time: a syslog-format
//! text (`-F`) and a `/dev/kmsg` dump (`-K`: records separated by NUL
//! bytes, with a continuation field and a dictionary line), through the
//! filters and formats that do not depend on the clock or the time zone.
//!
//! Offline tier: modkit's output against the expected texts below.
//! Reference tier: util-linux 2.41's dmesg on the same files must give the
//! same bytes and exit code — and the texts below, which is where they come
//! from: when util-linux's and the text differ, that test prints
//! util-linux's.

mod common;

use common::*;
use std::path::Path;
use std::process::{Command, Output};

const SYSLOG: &str = "<6>[    1.000000] hello\n\
                      <3>[    2.500000] disk error\n\
                      <12>[    3.250000] user says hi\n\
                      <4>[    4.000000] warn: a\\x09b\n";

const KMSG: &[u8] = b"6,1,1000000,-;hello\n\0\
                      3,2,2500000,-;disk error\n SUBSYSTEM=block\n\0\
                      12,3,3250000,-;user says hi\n\0\
                      4,4,4000000,c;cont\n";

/// dmesg arguments (`SYSLOG` and `KMSG` replaced by the files' paths), the
/// expected stdout and stderr, and the exit code.
const CASES: &[(&[&str], &str, &str, i32)] = &[
    (
        &["-F", "SYSLOG"],
        "[    1.000000] hello\n\
         [    2.500000] disk error\n\
         [    3.250000] user says hi\n\
         [    4.000000] warn: a\\x09b\n",
        "",
        0,
    ),
    (
        &["-F", "SYSLOG", "-r"],
        "<6>[    1.000000] hello\n\
         <3>[    2.500000] disk error\n\
         <12>[    3.250000] user says hi\n\
         <4>[    4.000000] warn: a\\x09b\n",
        "",
        0,
    ),
    (
        &["-F", "SYSLOG", "-x"],
        "kern  :info  : [    1.000000] hello\n\
         kern  :err   : [    2.500000] disk error\n\
         user  :warn  : [    3.250000] user says hi\n\
         kern  :warn  : [    4.000000] warn: a\\x09b\n",
        "",
        0,
    ),
    (
        &["-F", "SYSLOG", "-l", "err,warn"],
        "[    2.500000] disk error\n\
         [    3.250000] user says hi\n\
         [    4.000000] warn: a\\x09b\n",
        "",
        0,
    ),
    (
        &["-F", "SYSLOG", "-t", "-k"],
        "hello\ndisk error\nwarn: a\\x09b\n",
        "",
        0,
    ),
    (
        &["-K", "KMSG", "-x"],
        "kern  :info  : [    1.000000] hello\n\
         kern  :err   : [    2.500000] disk error\n\
         user  :warn  : [    3.250000] user says hi\n\
         kern  :warn  : [    4.000000] cont\n",
        "",
        0,
    ),
    (
        &["-K", "KMSG", "--time-format", "raw", "-u"],
        "[    3.250000] user says hi\n",
        "",
        0,
    ),
    (
        &["-K", "KMSG", "-J", "-l", "err"],
        "{\n   \"dmesg\": [\n      {\n         \"pri\": 3,\n         \"time\":     2.500000,\n         \"msg\": \"disk error\"\n      }\n   ]\n}\n",
        "",
        0,
    ),
    (
        &["-F", "/nonexistent/log"],
        "",
        "dmesg: cannot open /nonexistent/log: No such file or directory\n",
        1,
    ),
];

/// The two files in `dir`.
fn write_files(dir: &Path) {
    std::fs::write(dir.join("syslog.txt"), SYSLOG).unwrap();
    std::fs::write(dir.join("log.kmsg"), KMSG).unwrap();
}

/// Runs modkit's dmesg (`ours`) or util-linux's with `args`.
fn run(ours: bool, dir: &Path, args: &[&str]) -> Output {
    let args: Vec<String> = args
        .iter()
        .map(|a| match *a {
            "SYSLOG" => dir.join("syslog.txt").to_string_lossy().into_owned(),
            "KMSG" => dir.join("log.kmsg").to_string_lossy().into_owned(),
            a => a.to_string(),
        })
        .collect();
    let mut cmd = if ours {
        let mut c = Command::new(modkit());
        c.arg("dmesg");
        c
    } else {
        Command::new(ref_tool("dmesg"))
    };
    cmd.args(&args)
        .env("LC_ALL", "C")
        .env("TZ", "UTC")
        .output()
        .unwrap()
}

/// Every difference between what `ours` (or util-linux) printed and the
/// expected texts.
fn against_expected(dir: &Path, ours: bool) -> Vec<String> {
    let who = if ours { "modkit" } else { "util-linux" };
    let mut failures = Vec::new();
    for (args, stdout, stderr, code) in CASES {
        let out = run(ours, dir, args);
        let got = (
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr),
        );
        if got.0 != *stdout || got.1 != *stderr || out.status.code() != Some(*code) {
            failures.push(format!(
                "{who} dmesg {args:?}: exit {:?}, stdout\n{}\nstderr\n{}\nexpected exit {code}, stdout\n{stdout}\nstderr\n{stderr}",
                out.status.code(),
                got.0,
                got.1
            ));
        }
    }
    failures
}

#[test]
fn filters_and_formats_of_generated_log_files() {
    let dir = ScratchDir::new("dmesg-fixtures");
    write_files(&dir);
    assert_no_failures("dmesg on generated files", &against_expected(&dir, true));
}

/// The same files and options with util-linux 2.41: the same bytes as
/// modkit, and the texts this file expects.
#[test]
fn generated_log_files_match_util_linux() {
    if !runs(Tier::Reference) {
        return;
    }
    let dir = ScratchDir::new("dmesg-fixtures-ref");
    write_files(&dir);
    let mut failures = against_expected(&dir, false);
    for (args, ..) in CASES {
        let (a, b) = (run(true, &dir, args), run(false, &dir, args));
        failures.extend(output_differences(&format!("dmesg {args:?}"), &a, &b));
    }
    assert_no_failures("dmesg on generated files against util-linux", &failures);
}
