//! The tools in a build root or chroot without `/proc`, where initramfs
//! builders and package scripts run `depmod` and `modinfo`: kmod asks the
//! kernel release of `uname(2)` and checks standard error with `fstat(2)`,
//! so it works there; modkit must too. Each command runs with `/proc`
//! unmounted in a private mount namespace (`unshare -m`, root only), beside
//! kmod 34.2 run the same way, on a module directory named by this
//! machine's `uname -r` holding real Debian modules.

mod common;

use common::*;
use std::ffi::OsStr;
use std::path::Path;
use std::process::{Command, Output};

/// Runs `program args...` with `/proc` unmounted (a private mount
/// namespace: the rest of the machine keeps it).
fn without_proc(program: &Path, args: &[&OsStr]) -> Output {
    Command::new("unshare")
        .args([
            "-m",
            "sh",
            "-c",
            "umount -l /proc && ! test -e /proc/self && exec \"$@\"",
            "sh",
        ])
        .arg(program)
        .args(args)
        .env("LC_ALL", "C")
        .output()
        .expect("run unshare")
}

fn both(tool: &str, args: &[&OsStr]) -> (Output, Output) {
    let modkit = common::modkit();
    let mut ours = vec![OsStr::new(tool)];
    ours.extend_from_slice(args);
    (
        without_proc(&modkit, &ours),
        without_proc(&ref_tool(tool), args),
    )
}

/// A root whose `lib/modules/$(uname -r)` holds `veth` and `dummy` (and
/// what they need) from Debian's 6.1 tree.
fn build_root(name: &str, release: &str) -> ScratchDir {
    let tree = Tree::get("6.1");
    let dir = scratch_dir(name);
    let moddir = dir.path().join("lib/modules").join(release);
    for rel in ["kernel/drivers/net/veth.ko", "kernel/drivers/net/dummy.ko"] {
        let dest = moddir.join(rel);
        std::fs::create_dir_all(dest.parent().unwrap()).unwrap();
        std::fs::copy(tree.moddir().join(rel), &dest).unwrap();
    }
    for file in [
        "modules.order",
        "modules.builtin",
        "modules.builtin.modinfo",
    ] {
        std::fs::copy(tree.moddir().join(file), moddir.join(file)).unwrap();
    }
    dir
}

#[test]
fn depmod_modinfo_and_modprobe_work_without_proc_like_kmod() {
    if !runs(Tier::Reference) {
        return;
    }
    let unshared = Command::new("unshare")
        .args(["-m", "true"])
        .status()
        .is_ok_and(|s| s.success());
    if !unshared {
        skip(Tier::Reference, "unshare -m needs root (CAP_SYS_ADMIN)");
        return;
    }
    let release = String::from_utf8(Command::new("uname").arg("-r").output().unwrap().stdout)
        .unwrap()
        .trim()
        .to_string();
    let ours = build_root("build-root-modkit", &release);
    let theirs = build_root("build-root-kmod", &release);

    // depmod -b ROOT with no version: the release comes from uname(2).
    let (o, t) = (
        without_proc(
            &common::modkit(),
            &["depmod".as_ref(), "-b".as_ref(), ours.path().as_os_str()],
        ),
        without_proc(
            &ref_tool("depmod"),
            &["-b".as_ref(), theirs.path().as_os_str()],
        ),
    );
    let mut failures = output_differences("depmod -b ROOT (no /proc)", &o, &t);
    assert!(
        t.status.success(),
        "kmod's depmod failed without /proc: {t:?}"
    );
    let sub = Path::new("lib/modules").join(&release);
    let (a, b) = (
        read_tree_files(&ours.path().join(&sub)),
        read_tree_files(&theirs.path().join(&sub)),
    );
    assert!(
        b.contains_key("modules.dep.bin"),
        "kmod wrote no index: {:?}",
        b.keys()
    );
    if a != b {
        let names: Vec<_> = a
            .keys()
            .chain(b.keys())
            .filter(|k| a.get(*k) != b.get(*k))
            .collect();
        failures.push(format!(
            "depmod -b ROOT (no /proc): files differ: {names:?}"
        ));
    }

    // modinfo and modprobe -d ROOT resolve in ROOT/lib/modules/$(uname -r).
    let root = theirs.path().as_os_str();
    for args in [
        &["-b".as_ref(), root, "veth".as_ref()][..],
        &[
            "-b".as_ref(),
            root,
            "-F".as_ref(),
            "depends".as_ref(),
            "dummy".as_ref(),
        ],
    ] {
        let (o, t) = both("modinfo", args);
        assert!(
            t.status.success(),
            "kmod's modinfo failed without /proc: {t:?}"
        );
        failures.extend(output_differences("modinfo -b ROOT (no /proc)", &o, &t));
    }
    for args in [
        &[
            "-d".as_ref(),
            root,
            "--show-depends".as_ref(),
            "veth".as_ref(),
        ][..],
        &[
            "-d".as_ref(),
            root,
            "-n".as_ref(),
            "-v".as_ref(),
            "no-such-module".as_ref(),
        ],
    ] {
        let (o, t) = both("modprobe", args);
        failures.extend(output_differences("modprobe -d ROOT (no /proc)", &o, &t));
    }
    assert_no_failures("tools without /proc", &failures);
}
