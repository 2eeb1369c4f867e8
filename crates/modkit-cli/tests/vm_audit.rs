//! `modkit taint` and `modkit audit` on live kernels: boots Debian's 6.1
//! and 6.12 (bookworm-backports) kernels under QEMU (`vm/run`) with
//! `vm/guest/audit.sh`, which checks, on the same boot:
//!
//! - a clean boot: `taint` agrees with `/proc/sys/kernel/tainted`, `audit`
//!   needs no attention (exit 0) and lists only the notices of the Debian
//!   kernel's own settings ([`DEBIAN_NOTICES`], compared here);
//! - the unsigned out-of-tree test modules loaded: `taint` shows `O` and `E`
//!   and names them, `audit` flags them (exit 1) quoting their sysfs taint
//!   and the kernel log; with one taken out of `modules.dep`, `audit` says
//!   it is not in the running kernel's tree;
//! - unloaded: the taint stays and `audit` names the module from the log;
//! - `mk_hide` (testmodules/), which registers a kprobe and takes itself off
//!   the kernel's module list keeping its sysfs entry, as rootkits do:
//!   `audit` reports it hidden (exit 2) with its sysfs entry and the kprobe
//!   as evidence, a tracefs kprobe beside it being told apart.
//!
//! The VM tier (`modkit_testkit`): skipped with a line when QEMU or the
//! kernels are missing, unless `MODKIT_TEST_TIERS` requires it. A failure
//! prints the transcript.

use modkit_testkit::{runs, Tier};
use std::path::Path;
use std::process::Command;

/// The last check of `vm/guest/audit.sh`.
const LAST: &str = "PASS audit: hidden module reported with its kprobe; last check";

/// What `audit` notes on a clean boot of Debian's kernels: their default
/// settings (signatures checked but not enforced, lockdown off without
/// Secure Boot, module loading and kexec_load allowed, kptr_restrict 0);
/// notices, not warnings: exit status 0.
const DEBIAN_NOTICES: &str = "setting.sig-enforce setting.lockdown setting.modules-disabled \
                              setting.kptr-restrict setting.kexec-load-disabled";

fn boot(kernel: &str) {
    if !runs(Tier::Vm) {
        return;
    }
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let out = Command::new(repo.join("vm/run"))
        .args(["--kernel", kernel, "--timeout", "600", "--script"])
        .arg(repo.join("vm/guest/audit.sh"))
        .output()
        .expect("run vm/run");
    let transcript = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let failed: Vec<&str> = transcript
        .lines()
        .filter(|l| l.starts_with("FAIL "))
        .collect();
    let notices = transcript
        .lines()
        .find_map(|l| l.strip_prefix("NOTICES-CLEAN "))
        .map(|l| l.trim_end().to_string());
    let mut got: Vec<&str> = notices.as_deref().unwrap_or("").split(' ').collect();
    let mut want: Vec<&str> = DEBIAN_NOTICES.split_whitespace().collect();
    got.sort_unstable();
    want.sort_unstable();
    assert!(
        out.status.success()
            && transcript.contains("MODKIT-VM-EXIT=0")
            && failed.is_empty()
            && transcript.contains(LAST)
            && got == want,
        "VM audit test on {kernel} failed ({:?}; failed checks: {failed:?}; clean-boot notices \
         {got:?}, want {want:?}; last check {})\n--- guest transcript ---\n{transcript}\n\
         --- stderr ---\n{stderr}",
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
fn vm_audit_6_1() {
    boot("6.1");
}

#[test]
fn vm_audit_6_12_bpo() {
    boot("6.12-bpo");
}
