//! `modkit klogd` on live kernels: boots Debian's 6.1 and 6.12 kernels
//! under QEMU (`vm/run`) with `vm/guest/klogd.sh`, which checks klogd's
//! file against the kernel's own records (`/dev/kmsg` read raw):
//!
//! - one-shot reads through `/dev/kmsg` and `syslog(2)`; `-c`;
//! - the daemon while `mk_printk` prints at all eight levels: each record
//!   once, with its level, as the kernel has it;
//! - the ring buffer flooded past its size while the daemon is stopped:
//!   every record the kernel still has is in the file, and the "missed N"
//!   line's N is the seq gap;
//! - `mk_oops`: its raw-address call trace decoded to the names the
//!   kernel's `%pS` gives (the module's functions), a WARNING and an oops
//!   in a kernel thread written as the kernel wrote them, the daemon alive;
//! - SIGTERM, and a restart that writes nothing twice.
//!
//! The guest oopses on purpose (mk_oops), so `vm/run` ends with status 1
//! and "the kernel oopsed": the test requires exactly that, with the guest
//! script's own status 0.
//!
//! VM tier (`modkit_testkit`), as the other `vm_*` tests; a failure prints
//! the transcript.

use modkit_testkit::{runs, Tier};
use std::path::Path;
use std::process::Command;

/// The last check of `vm/guest/klogd.sh`.
const LAST: &str = "; last check";

fn boot(kernel: &str) {
    if !runs(Tier::Vm) {
        return;
    }
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let out = Command::new(repo.join("vm/run"))
        .args(["--kernel", kernel, "--timeout", "600", "--script"])
        .arg(repo.join("vm/guest/klogd.sh"))
        .output()
        .expect("run vm/run");
    let transcript = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let failed: Vec<&str> = transcript
        .lines()
        .filter(|l| l.starts_with("FAIL "))
        .collect();
    let last = transcript
        .lines()
        .any(|l| l.starts_with("PASS klogd: restart resumed") && l.ends_with(LAST));
    // mk_oops oopses on purpose: vm/run then exits 1 saying so, after the
    // guest script's own status 0. Anything else is a failure.
    let oopsed_as_planned = out.status.code() == Some(1)
        && stderr.contains("the kernel oopsed (tainted=")
        && !stderr.contains("the guest script exited with");
    assert!(
        oopsed_as_planned && transcript.contains("MODKIT-VM-EXIT=0") && failed.is_empty() && last,
        "VM klogd test on {kernel} failed ({:?}; failed checks: {failed:?}; last check {})\n\
         --- guest transcript ---\n{transcript}\n--- stderr ---\n{stderr}",
        out.status.code(),
        if last { "reached" } else { "not reached" },
    );
    eprint!("{stderr}");
}

#[test]
fn vm_klogd_6_1() {
    boot("6.1");
}

#[test]
fn vm_klogd_6_12_bpo() {
    boot("6.12-bpo");
}
