//! The VM test bed end to end: boots real Debian kernels (bookworm 6.1 with
//! plain `.ko`, bookworm-backports 6.12 with `.ko.xz`) under QEMU with an
//! initramfs holding the static modkit and the reference kmod 34.2, and runs
//! `vm/guest/smoke.sh`, which compares modkit's lsmod, modinfo and depmod
//! with kmod's on the live kernel after loading and unloading real module
//! chains. `vm/run` installs QEMU and fetches kernels itself; a failure
//! prints the whole guest transcript.

use std::path::Path;
use std::process::Command;

fn boot(kernel: &str) {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let out = Command::new(repo.join("vm/run"))
        .args(["--kernel", kernel, "--script"])
        .arg(repo.join("vm/guest/smoke.sh"))
        .output()
        .expect("run vm/run");
    let transcript = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && transcript.contains("MODKIT-VM-EXIT=0"),
        "VM smoke test on {kernel} failed ({:?})\n--- guest transcript ---\n{transcript}\n--- stderr ---\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        transcript.contains("PASS lsmod, btrfs closure loaded"),
        "{transcript}"
    );
}

#[test]
fn vm_6_1_lsmod_modinfo_depmod_match_kmod_on_a_live_kernel() {
    boot("6.1");
}

#[test]
fn vm_6_12_bpo_lsmod_modinfo_depmod_match_kmod_on_a_live_kernel() {
    boot("6.12-bpo");
}
