//! The multi-call front: `argv[0]` symlinks, `modkit TOOL`, `--help`,
//! `--version`; and kmod's way of printing relative module paths.

mod common;

use common::*;
use std::process::Command;

fn scratch(name: &str) -> ScratchDir {
    ScratchDir::new(name)
}

#[test]
fn symlink_named_after_a_tool_runs_that_tool() {
    let dir = scratch("dispatch");
    let link = dir.join("modinfo");
    std::os::unix::fs::symlink(modkit(), &link).unwrap();
    let out = Command::new(&link).arg("--bogus").output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    // getopt prints argv[0] as given, like glibc.
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        format!("{}: unrecognized option '--bogus'\n", link.display())
    );
    let out = Command::new(&link).output().unwrap();
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "modinfo: ERROR: missing module or filename.\n"
    );
}

/// modkit's own tools are installed as `modkit-TOOL` (their plain names
/// are too generic for a `bin` directory); a link of either name runs the
/// tool, and names itself as it was called.
#[test]
fn own_tools_answer_to_modkit_tool_links() {
    let dir = scratch("dispatch-own");
    let help = String::from_utf8(
        Command::new(modkit())
            .arg("--help")
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap();
    let (drop_ins, own) = help.split_once("\nmodkit's own tools").unwrap();
    assert!(drop_ins.contains("\n  modprobe ") && !drop_ins.contains("\n  taint "));
    assert!(own.contains("\n  taint ") && !own.contains("\n  modprobe "));
    let expected = Command::new(modkit())
        .args(["taint", "0x1001"])
        .output()
        .unwrap();
    assert!(expected.status.success());
    for name in ["modkit-taint", "taint"] {
        let link = dir.join(name);
        std::os::unix::fs::symlink(modkit(), &link).unwrap();
        let out = Command::new(&link).arg("0x1001").output().unwrap();
        assert_eq!(out.stdout, expected.stdout, "{name}");
        assert_eq!(out.status.code(), Some(0));
        let out = Command::new(&link).arg("-V").output().unwrap();
        assert!(
            String::from_utf8_lossy(&out.stdout).starts_with(&format!("{name} from modkit ")),
            "{name}"
        );
    }
    // a drop-in has no modkit- name
    let out = Command::new(modkit())
        .arg("modkit-modprobe")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr)
        .starts_with("modkit: unknown tool 'modkit-modprobe'\n"));
}

#[test]
fn help_version_and_unknown_tools() {
    let out = Command::new(modkit()).arg("--help").output().unwrap();
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("  modinfo "));
    let out = Command::new(modkit()).arg("--version").output().unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("modkit "));
    let out = Command::new(modkit()).arg("frobnicate").output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).starts_with("modkit: unknown tool 'frobnicate'\n"));
    let out = Command::new(modkit()).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let out = run_modkit("modinfo", ["-V"]);
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("kmod version 34.2\n"));
}

/// kmod makes relative paths absolute with `get_current_dir_name()`, which
/// prefers `$PWD` when it names the working directory (a symlink path stays
/// as the user typed it).
#[test]
fn relative_paths_through_symlinked_cwd_match_kmod() {
    if !runs(Tier::Reference) {
        return;
    }
    let tree = Tree::get("6.1");
    let dir = scratch("pwd");
    let link = dir.join("tree-link");
    std::os::unix::fs::symlink(tree.moddir(), &link).unwrap();
    for pwd in [Some(link.clone()), None] {
        let run = |mut c: Command| {
            c.current_dir(&link).args([
                "-F",
                "filename",
                "kernel/fs/btrfs/btrfs.ko",
                "./kernel/crypto/../crypto/xor.ko",
            ]);
            match &pwd {
                Some(p) => c.env("PWD", p),
                None => c.env_remove("PWD"),
            };
            c.output().unwrap()
        };
        let mut ours = Command::new(modkit());
        ours.arg("modinfo");
        let ours = run(ours);
        let theirs = run(Command::new(ref_tool("modinfo")));
        assert_eq!(ours.status.code(), theirs.status.code());
        assert_eq!(
            String::from_utf8_lossy(&ours.stdout),
            String::from_utf8_lossy(&theirs.stdout)
        );
        assert_eq!(ours.stderr, theirs.stderr);
    }
}
