//! `modkit kprobe` on live kernels: boots Debian's 6.1 and 6.12 kernels
//! under QEMU (`vm/run`) with `vm/guest/kprobe.sh`, which sets kprobes and
//! kretprobes on the test module's `mk_kptarget_fn` (called a known number
//! of times with known arguments through a sysfs parameter) and on the
//! sync(2) path, and checks against the kernel itself:
//!
//! - `stats` equals `kprobe_profile`, and the same probes written by hand
//!   to `kprobe_events` count the same hits;
//! - `trace` (JSON and text) shows the arguments and `$retval` passed, and
//!   its count equals the kernel's;
//! - `del` and the one-shot form (at its count, its duration, and killed
//!   with SIGINT, SIGTERM and SIGHUP) leave `kprobe_events`,
//!   `enabled_functions` and debugfs's `kprobes/list` byte for byte as
//!   before;
//! - for an unknown, a compiler-renamed (`.isra`/`.constprop`, found at run
//!   time), an ambiguous and a blacklisted symbol, `check` predicts what
//!   the kernel then does with a hand-written probe, and `add` says why
//!   with the kernel's own words; a non-root user is told root is needed;
//! - on 6.12, BTF argument names (`dfd`, `filename`, `how->flags`).
//!
//! The booting tests are the VM tier (`modkit_testkit`), as in
//! `vm_dmesg.rs`. A failure prints the transcript.

use modkit_testkit::{runs, Tier};
use std::path::Path;
use std::process::Command;

/// The last check of `vm/guest/kprobe.sh`.
const LAST: &str = "PASS kprobe: last check reached";

fn boot(kernel: &str) {
    if !runs(Tier::Vm) {
        return;
    }
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let out = Command::new(repo.join("vm/run"))
        .args(["--kernel", kernel, "--timeout", "900", "--script"])
        .arg(repo.join("vm/guest/kprobe.sh"))
        .output()
        .expect("run vm/run");
    let transcript = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let failed: Vec<&str> = transcript
        .lines()
        .filter(|l| l.starts_with("FAIL "))
        .collect();
    let passed = transcript
        .lines()
        .filter(|l| l.starts_with("PASS "))
        .count();
    assert!(
        out.status.success()
            && transcript.contains("MODKIT-VM-EXIT=0")
            && failed.is_empty()
            && transcript.contains(LAST)
            && passed >= 40,
        "VM kprobe test on {kernel} failed ({:?}; {passed} passed; failed checks: {failed:?}; last check {})\n\
         --- guest transcript ---\n{transcript}\n--- stderr ---\n{stderr}",
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
fn vm_6_1_kprobe_counts_traces_cleanup_and_refusals_match_the_kernel() {
    boot("6.1");
}

#[test]
fn vm_6_12_bpo_kprobe_counts_traces_cleanup_refusals_and_btf_names_match_the_kernel() {
    boot("6.12-bpo");
}
