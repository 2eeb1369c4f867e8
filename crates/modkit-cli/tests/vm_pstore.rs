//! A panic's last words recovered from pstore on live kernels: boots
//! Debian's 6.1 and 6.12 kernels under QEMU (`vm/run --warm-reboot`) with
//! ramoops in RAM the kernel does not use (`mem=768M`, ramoops at
//! 0x30000000); `vm/guest/pstore.sh` panics the kernel with the test module
//! mk_panic on the first boot, and on the second (QEMU resets in the same
//! process, RAM kept) collects the records with the library
//! (`crates/modkit/examples/pstore_collect.rs`, built static here): the
//! "Kernel panic - not syncing: mk_panic: …" line is recovered with the
//! level and time of the kernel's own record file, archived under
//! /var/lib/modkit/pstore/BOOT_ID, and removed from pstore.
//!
//! VM tier (see vm_dmesg.rs): required by `MODKIT_TEST_TIERS=vm`, skipped
//! with one line otherwise.

use modkit_testkit::{runs, Tier};
use std::path::{Path, PathBuf};
use std::process::Command;

/// The last check of `vm/guest/pstore.sh`.
const LAST: &str = "PASS a second collection finds nothing and archives nothing";

/// Builds `pstore_collect` statically, as scripts/build-static.sh builds modkit.
fn collector(repo: &Path) -> PathBuf {
    let target = "x86_64-unknown-linux-gnu";
    let status = Command::new(env!("CARGO"))
        .current_dir(repo)
        .env("RUSTFLAGS", "-C target-feature=+crt-static")
        .args([
            "build",
            "--release",
            "-q",
            "--target",
            target,
            "-p",
            "modkit",
        ])
        .args(["--example", "pstore_collect"])
        .status()
        .expect("run cargo");
    assert!(
        status.success(),
        "building the static pstore_collect failed"
    );
    let dir = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo.join("target"));
    let bin = dir.join(target).join("release/examples/pstore_collect");
    let ldd = Command::new("ldd").arg(&bin).output().expect("run ldd");
    assert!(
        !String::from_utf8_lossy(&ldd.stdout).contains("=>"),
        "{} is dynamically linked",
        bin.display()
    );
    bin
}

fn boot(kernel: &str) {
    if !runs(Tier::Vm) {
        return;
    }
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let bin = collector(&repo);
    let out = Command::new(repo.join("vm/run"))
        .args(["--kernel", kernel, "--timeout", "600", "--warm-reboot"])
        .args(["--append", "mem=768M", "--add"])
        .arg(&bin)
        .arg("--script")
        .arg(repo.join("vm/guest/pstore.sh"))
        .output()
        .expect("run vm/run");
    let transcript = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let failed: Vec<&str> = transcript
        .lines()
        .filter(|l| l.starts_with("FAIL "))
        .collect();
    let boots = transcript.matches("MODKIT-VM-START").count();
    assert!(
        out.status.success()
            && transcript.contains("MODKIT-VM-EXIT=0")
            && failed.is_empty()
            && boots == 2
            && transcript.contains("INFO first boot")
            && transcript.contains(LAST),
        "VM pstore test on {kernel} failed ({:?}; {boots} boots; failed checks: {failed:?}; \
         last check {})\n--- guest transcript ---\n{transcript}\n--- stderr ---\n{stderr}",
        out.status.code(),
        if transcript.contains(LAST) {
            "reached"
        } else {
            "not reached"
        },
    );
    eprint!("{stderr}");
}

#[test]
fn vm_pstore_panic_recovered_6_1() {
    boot("6.1");
}

#[test]
fn vm_pstore_panic_recovered_6_12() {
    boot("6.12-bpo");
}
