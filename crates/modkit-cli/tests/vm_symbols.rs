//! `modkit check`, `kallsyms`, `symbols` and `param` in a VM against the
//! kernel's own answers, on both kernels (`vm/guest/symbols.sh`):
//!
//! - mk_sym_user (testmodules/) as built and with one thing broken each by
//!   testmodules/mangle.py (a CRC changed, a symbol nobody exports, a
//!   proprietary licence using a GPL-only symbol, the namespace import
//!   removed), a wrong vermagic, a module of the other kernel, a module
//!   already loaded, a provider not loaded: `check`'s verdict and reason
//!   agree with what insmod then does and what the kernel logs; the taint
//!   letters agree with `/sys/module/M/taint`;
//! - booted with `module.sig_enforce=1`: an unsigned module refused by both,
//!   Debian's signed one loading;
//! - `kallsyms` finds mk_chain_c's exports with `[mk_chain_c]` as grep
//!   does, and names an address inside `mk_c_value` exactly as the kernel's
//!   `%pS` printed it;
//! - `param` sets a 0644 int and an array that mk_params prints when
//!   unloaded, refuses a 0444 one and an out-of-range value without
//!   writing, and accepts exactly the values the kernel accepts (36 cases).
//!
//! VM tier (see `vm_smoke.rs`).

use modkit_testkit::{runs, Tier};
use std::path::Path;
use std::process::Command;

fn boot(kernel: &str, append: &str, must_pass: &str) {
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
        .arg(repo.join("vm/guest/symbols.sh"))
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
        "VM symbols test on {kernel} {append} failed ({:?}; failed checks: {failed:?}; \
         last check {must_pass:?} {})\n--- guest transcript ---\n{transcript}\n--- stderr ---\n{stderr}",
        out.status.code(),
        if transcript.contains(must_pass) { "reached" } else { "not reached" },
    );
    eprint!("{stderr}");
}

const LAST: &str = "PASS symbols done";
const LAST_ENFORCED: &str = "PASS symbols sig_enforce done";

#[test]
fn vm_6_1_check_kallsyms_symbols_param_agree_with_the_kernel() {
    boot("6.1", "", LAST);
}

#[test]
fn vm_6_12_bpo_check_kallsyms_symbols_param_agree_with_the_kernel() {
    boot("6.12-bpo", "", LAST);
}

#[test]
fn vm_6_1_check_under_sig_enforce_agrees_with_the_kernel() {
    boot("6.1", "module.sig_enforce=1", LAST_ENFORCED);
}

#[test]
fn vm_6_12_bpo_check_under_sig_enforce_agrees_with_the_kernel() {
    boot("6.12-bpo", "module.sig_enforce=1", LAST_ENFORCED);
}
