//! The VM test bed end to end: boots real Debian kernels (bookworm 6.1 with
//! plain `.ko`, bookworm-backports 6.12 with `.ko.xz`) under QEMU with an
//! initramfs holding the static modkit and the reference kmod 34.2 (see
//! `vm/run`, `vm/build-initramfs`), and runs a guest script:
//!
//! - `vm/guest/smoke.sh`, the bed's own smoke test: the right kernel, the
//!   mounts, the reference kmod and the module tree are there, and the C test
//!   modules of `testmodules/` behave as designed when loaded with the
//!   REFERENCE kmod: parameters of every type in `/sys/module`, printk levels
//!   and continuation lines in `/dev/kmsg`, the chain and the diamond with
//!   their refcounts and holders in `/proc/modules`, rmmod of a module held
//!   by an open device refused, a failing init, a wrong-vermagic module, a
//!   device-table alias and a probe, a kprobe and kretprobe counting sync(2)
//!   calls, compressed modules, the taint of unsigned modules; plus modkit's
//!   `modinfo` in the guest against kmod's;
//! - `vm/guest/live.sh`, which compares modkit's lsmod, modinfo and depmod
//!   with kmod's on the live kernel after loading and unloading real module
//!   chains;
//! - `vm/guest/load.sh`, which runs insmod and rmmod with modkit and with
//!   kmod from the same kernel state for success and each failure (missing
//!   file, not a module, unknown or bad parameter, already loaded, unknown
//!   symbol, not loaded, held, built-in, forced);
//! - `vm/guest/modprobe.sh`, which runs modprobe with modkit and with kmod
//!   from the same kernel state: by name, alias, configured alias and
//!   symbol, chains and softdeps, blacklists (configuration and kernel
//!   command line), install and remove commands, options from every source
//!   reaching `/sys/module`, removal with dependencies and holders, waiting,
//!   failures, and two modprobes of one module at once;
//! - `vm/guest/testmodules.sh` with the test modules (parameters of every
//!   type, chain and diamond, failing init, a module held by an open device,
//!   printk levels, wrong vermagic) through modkit's tools;
//! - `vm/guest/load-more.sh`, differential like `load.sh` (with the kernel's
//!   messages and the modules' taint compared too): insmod, rmmod and lsmod
//!   as an unprivileged user; `.ko.xz`/`.ko.zst` taking the kernel's route
//!   (`finit_module` on the file) or the user-space one (`init_module`) as
//!   kmod picks them, proven by an xz file only liblzma can read; `insmod
//!   -f` on both routes with a wrong vermagic, a wrong CRC, no vermagic and
//!   a signed module; `-v`/`-vvv`; `-s` with syslogd and without (console);
//!   `lsmod --json` against `/proc/modules` and sysfs with the diamond;
//! - `vm/guest/locked.sh` on kernels booted with `module.sig_enforce=1` or
//!   `lockdown=integrity`: unsigned, signed and forced loads on both routes.
//!
//! These tests are the VM tier (`modkit_testkit`): plain `cargo test` runs
//! them when QEMU and the kernels are already here and skips them, one
//! line each, otherwise. With the tier required (`MODKIT_TEST_TIERS=vm` or
//! `all`, as `scripts/test.sh` sets it), `vm/run` installs QEMU and fetches
//! kernels itself (`vm/setup.sh`), and the tests fail, never skip, when
//! that is impossible. A failure prints the whole guest transcript.

use modkit_testkit::{runs, Tier};
use std::path::Path;
use std::process::Command;

fn boot(kernel: &str, script: &str, must_pass: &str) {
    boot_with(kernel, script, "", must_pass);
}

/// Boots `kernel` with extra kernel command line `append`, runs guest
/// `script`; fails unless every check passed and `must_pass` was reached.
fn boot_with(kernel: &str, script: &str, append: &str, must_pass: &str) {
    if !runs(Tier::Vm) {
        return;
    }
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let out = Command::new(repo.join("vm/run"))
        .args([
            "--kernel",
            kernel,
            "--timeout",
            "600",
            "--append",
            append,
            "--script",
        ])
        .arg(repo.join("vm/guest").join(script))
        .output()
        .expect("run vm/run");
    let transcript = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let failed: Vec<&str> = transcript
        .lines()
        .filter(|l| l.starts_with("FAIL "))
        .collect();
    assert!(
        out.status.success()
            && transcript.contains("MODKIT-VM-EXIT=0")
            && failed.is_empty()
            && transcript.contains(must_pass),
        "VM test {script} on {kernel} failed ({:?}; failed checks: {failed:?}; \
         last check {must_pass:?} {})\n--- guest transcript ---\n{transcript}\n--- stderr ---\n{stderr}",
        out.status.code(),
        if transcript.contains(must_pass) { "reached" } else { "not reached" },
    );
    // vm/run's timing line (setup, boot, guest script), for --nocapture
    eprint!("{stderr}");
}

#[test]
fn vm_6_1_boots_and_loads_test_modules_with_reference_kmod() {
    boot("6.1", "smoke.sh", SMOKE_LAST);
}

#[test]
fn vm_6_12_bpo_boots_and_loads_test_modules_with_reference_kmod() {
    boot("6.12-bpo", "smoke.sh", SMOKE_LAST);
}

/// The last check of `vm/guest/smoke.sh` (reaching it means the script ran
/// to its end).
const SMOKE_LAST: &str = "PASS kernel tainted O and E, no oops";

#[test]
fn vm_6_1_lsmod_modinfo_depmod_match_kmod_on_a_live_kernel() {
    boot("6.1", "live.sh", "PASS lsmod after removal");
}

#[test]
fn vm_6_12_bpo_lsmod_modinfo_depmod_match_kmod_on_a_live_kernel() {
    boot("6.12-bpo", "live.sh", "PASS lsmod after removal");
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

/// The last check of `vm/guest/load-more.sh`.
const LOAD_MORE_LAST: &str = "PASS lsmod --json as a user = as root";

#[test]
fn vm_6_1_insmod_rmmod_lsmod_match_kmod_as_user_compressed_forced_verbose_syslog() {
    boot("6.1", "load-more.sh", LOAD_MORE_LAST);
}

#[test]
fn vm_6_12_bpo_insmod_rmmod_lsmod_match_kmod_as_user_compressed_forced_verbose_syslog() {
    boot("6.12-bpo", "load-more.sh", LOAD_MORE_LAST);
}

/// The last check of `vm/guest/locked.sh`.
const LOCKED_LAST: &str = "PASS unsigned module refused";

#[test]
fn vm_6_1_insmod_rmmod_match_kmod_with_module_sig_enforce() {
    boot_with("6.1", "locked.sh", "module.sig_enforce=1", LOCKED_LAST);
}

#[test]
fn vm_6_12_bpo_insmod_rmmod_match_kmod_with_module_sig_enforce() {
    boot_with("6.12-bpo", "locked.sh", "module.sig_enforce=1", LOCKED_LAST);
}

#[test]
fn vm_6_1_insmod_rmmod_match_kmod_locked_down() {
    boot_with("6.1", "locked.sh", "lockdown=integrity", LOCKED_LAST);
}

#[test]
fn vm_6_12_bpo_insmod_rmmod_match_kmod_locked_down() {
    boot_with("6.12-bpo", "locked.sh", "lockdown=integrity", LOCKED_LAST);
}

/// Kernel command line for `vm/guest/modprobe.sh`: module options and a
/// blacklist that modprobe must take from it.
const MODPROBE_APPEND: &str =
    "mk_params.p_ushort=7 mk_params.p_string=from_cmdline modprobe.blacklist=mk_held";

/// The last check of `vm/guest/modprobe.sh`.
const MODPROBE_LAST: &str = "PASS lsmod --tree=dot has an edge for each holder";

#[test]
fn vm_6_1_modprobe_matches_kmod_for_loading_and_removal() {
    boot_with("6.1", "modprobe.sh", MODPROBE_APPEND, MODPROBE_LAST);
}

#[test]
fn vm_6_12_bpo_modprobe_matches_kmod_for_loading_and_removal() {
    boot_with("6.12-bpo", "modprobe.sh", MODPROBE_APPEND, MODPROBE_LAST);
}
