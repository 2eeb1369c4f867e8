//! The VM test bed end to end: boots real Debian kernels (bookworm 6.1 with
//! plain `.ko`, bookworm-backports 6.12 with `.ko.xz`) under QEMU with an
//! initramfs holding the static modkit and the reference kmod 34.2, and runs
//! `vm/guest/smoke.sh`, which compares modkit's lsmod, modinfo and depmod
//! with kmod's on the live kernel after loading and unloading real module
//! chains; and `vm/guest/load.sh`, which runs insmod and rmmod with modkit
//! and with kmod from the same kernel state for success and each failure
//! (missing file, not a module, unknown or bad parameter, already loaded,
//! unknown symbol, not loaded, held, built-in, forced); and
//! `vm/guest/testmodules.sh` with the C test modules of `testmodules/`
//! (parameters of every type, chain and diamond, failing init, a module held
//! by an open device, printk levels, wrong vermagic). `vm/run` installs QEMU and fetches kernels itself; a failure
//! prints the whole guest transcript.

use std::path::Path;
use std::process::Command;

fn boot(kernel: &str, script: &str, must_pass: &str) {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let out = Command::new(repo.join("vm/run"))
        .args(["--kernel", kernel, "--script"])
        .arg(repo.join("vm/guest").join(script))
        .output()
        .expect("run vm/run");
    let transcript = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && transcript.contains("MODKIT-VM-EXIT=0"),
        "VM test {script} on {kernel} failed ({:?})\n--- guest transcript ---\n{transcript}\n--- stderr ---\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(transcript.contains(must_pass), "{transcript}");
}

#[test]
fn vm_6_1_lsmod_modinfo_depmod_match_kmod_on_a_live_kernel() {
    boot("6.1", "smoke.sh", "PASS lsmod, btrfs closure loaded");
}

#[test]
fn vm_6_12_bpo_lsmod_modinfo_depmod_match_kmod_on_a_live_kernel() {
    boot("6.12-bpo", "smoke.sh", "PASS lsmod, btrfs closure loaded");
}

#[test]
fn vm_6_1_insmod_and_rmmod_match_kmod_for_success_and_each_failure() {
    boot("6.1", "load.sh", "PASS rmmod held by another module");
}

#[test]
fn vm_6_12_bpo_insmod_and_rmmod_match_kmod_for_success_and_each_failure() {
    boot("6.12-bpo", "load.sh", "PASS rmmod held by another module");
}

#[test]
fn vm_6_1_test_modules_parameters_chains_held_printk() {
    boot("6.1", "testmodules.sh", "PASS continuation lines joined");
}

#[test]
fn vm_6_12_bpo_test_modules_parameters_chains_held_printk() {
    boot(
        "6.12-bpo",
        "testmodules.sh",
        "PASS continuation lines joined",
    );
}
