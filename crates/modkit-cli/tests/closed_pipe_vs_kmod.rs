//! Output into a pipe nobody reads (`modprobe -c | head -1` once `head`
//! has gone): kmod's tools and util-linux's dmesg do not handle `SIGPIPE`,
//! so the first write kills them with it (a shell shows status 141); the
//! Rust runtime ignores the signal, and modkit must put that back. Each
//! tool runs with its standard output on a pipe whose read end is already
//! closed (no race with a reader), beside the reference tool run the same
//! way: the same signal or exit status, the same standard error.

mod common;

use common::*;
use std::os::unix::process::ExitStatusExt;
use std::path::Path;
use std::process::{Command, Output, Stdio};

fn into_closed_pipe(program: &Path, args: &[&str]) -> Output {
    let (reader, writer) = std::io::pipe().expect("pipe");
    drop(reader);
    Command::new(program)
        .args(args)
        .env("LC_ALL", "C")
        .stdout(Stdio::from(writer))
        .stderr(Stdio::piped())
        .output()
        .expect("run")
}

fn ending(o: &Output) -> String {
    match (o.status.code(), o.status.signal()) {
        (Some(c), _) => format!("exit {c}"),
        (None, Some(s)) => format!("signal {s}"),
        _ => "?".into(),
    }
}

#[test]
fn tools_writing_to_a_closed_pipe_die_of_sigpipe_like_the_references() {
    if !runs(Tier::Reference) {
        return;
    }
    let tree = Tree::get("6.1");
    let root = tree.root.to_str().unwrap();
    let v = tree.version.as_str();
    let btrfs = tree.moddir().join("kernel/fs/btrfs/btrfs.ko");
    let btrfs = btrfs.to_str().unwrap();
    let cases: Vec<(&str, Vec<&str>)> = vec![
        ("modprobe", vec!["-d", root, "-S", v, "-c"]),
        (
            "modprobe",
            vec!["-d", root, "-S", v, "--show-depends", "btrfs"],
        ),
        (
            "modprobe",
            vec!["-d", root, "-S", v, "--dump-modversions", btrfs],
        ),
        (
            "modprobe",
            vec!["-d", root, "-S", v, "--show-exports", btrfs],
        ),
        ("modprobe", vec!["-d", root, "-S", v, "-R", "btrfs"]),
        ("depmod", vec!["-n", "-b", root, v]),
        ("modinfo", vec!["-b", root, "-k", v, "btrfs"]),
        ("modinfo", vec!["-F", "vermagic", btrfs]),
        ("lsmod", vec![]),
        ("dmesg", vec![]),
        ("dmesg", vec!["--json"]),
    ];
    let mut failures = Vec::new();
    let mut killed = 0;
    for (tool, args) in &cases {
        let theirs = into_closed_pipe(&ref_tool(tool), args);
        let mut ours_args = vec![*tool];
        ours_args.extend(args);
        let ours = into_closed_pipe(&modkit(), &ours_args);
        killed += usize::from(theirs.status.signal() == Some(13));
        if ending(&ours) != ending(&theirs) || ours.stderr != theirs.stderr {
            failures.push(format!(
                "{tool} {}: modkit {} {:?}, reference {} {:?}",
                args.join(" "),
                ending(&ours),
                String::from_utf8_lossy(&ours.stderr),
                ending(&theirs),
                String::from_utf8_lossy(&theirs.stderr),
            ));
        }
    }
    assert!(killed >= 9, "only {killed} reference runs died of SIGPIPE");
    assert_no_failures("closed pipe", &failures);
}
