//! The kernel log on live kernels: boots Debian's 6.1 and 6.12 kernels
//! under QEMU (`vm/run`) with `vm/guest/dmesg.sh`, which runs modkit's
//! dmesg and util-linux 2.41's (`/ref/bin/dmesg` in the initramfs) from the
//! same kernel state and compares stdout, stderr, exit status and the
//! state left behind:
//!
//! - reading the boot log through `/dev/kmsg` and through `syslog(2)`
//!   (`-S`), with filters and formats; userspace records of several
//!   facilities (`-k`, `-u`, `-f`), multi-line and with bytes to escape;
//!   records larger than dmesg's read buffer; the fallback to `syslog(2)`
//!   when `/dev/kmsg` is missing or its first record does not fit;
//! - the controls `-n`, `--console-level`, `-D`, `-E` (the resulting
//!   `/proc/sys/kernel/printk` and what the console prints), `-c`, `-C`
//!   (the buffer is empty afterwards);
//! - follow mode (`-w`, `-W`) while the printk test module loads, and
//!   across a ring buffer overflow (both go on after the EPIPE gap);
//! - `dmesg_restrict=1` and `0` as an unprivileged user;
//! - `modkit printk`: its settings against `dmesg -n` and direct writes to
//!   `/proc/sys/kernel/printk`, `printk_devkmsg=off`, `kptr_restrict=2`.
//!
//! The console is only visible from here: the guest writes probe records
//! at each level after each control case (`CONSOLE-PROBE TAG`), and this
//! test checks that the serial console printed the same levels after
//! modkit's command (`TAG` = `cN-m`) as after util-linux's (`cN-r`).
//!
//! The booting tests are the VM tier (`modkit_testkit`): plain `cargo test`
//! runs them when QEMU and the kernels are already here and skips them, one
//! line each, otherwise. With the tier required (`MODKIT_TEST_TIERS=vm` or
//! `all`, as `scripts/test.sh` sets it), `vm/run` installs QEMU and fetches
//! the kernels itself, and the tests fail, never skip, when that is
//! impossible. A failure prints the transcript.

use modkit_testkit::{runs, Tier};
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::Command;

/// The last check of `vm/guest/dmesg.sh`.
const LAST: &str = "PASS printk bad value: exit 1, one line, nothing written";

fn boot(kernel: &str) {
    if !runs(Tier::Vm) {
        return;
    }
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let out = Command::new(repo.join("vm/run"))
        .args(["--kernel", kernel, "--timeout", "900", "--script"])
        .arg(repo.join("vm/guest/dmesg.sh"))
        .output()
        .expect("run vm/run");
    let transcript = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let failed: Vec<&str> = transcript
        .lines()
        .filter(|l| l.starts_with("FAIL "))
        .collect();
    let console = console_differences(&transcript);
    assert!(
        out.status.success()
            && transcript.contains("MODKIT-VM-EXIT=0")
            && failed.is_empty()
            && transcript.contains(LAST)
            && console.is_ok(),
        "VM dmesg test on {kernel} failed ({:?}; failed checks: {failed:?}; console: {console:?}; \
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

/// Compares the console levels printed after each probe of modkit's
/// command with those after util-linux's. `Err` lists the differences, or
/// says why the probes prove nothing (too few, all alike).
fn console_differences(transcript: &str) -> Result<usize, String> {
    let mut probes = BTreeSet::new();
    let mut shown: BTreeMap<String, BTreeSet<u8>> = BTreeMap::new();
    for line in transcript.lines() {
        if let Some(tag) = line.strip_prefix("CONSOLE-PROBE ") {
            probes.insert(tag.trim().to_string());
            continue;
        }
        let Some(i) = line.find("modkit-console ") else {
            continue;
        };
        let mut words = line[i + "modkit-console ".len()..].split_whitespace();
        if let (Some(tag), Some(level), None) = (words.next(), words.next(), words.next()) {
            if let Ok(level) = level.parse() {
                shown.entry(tag.to_string()).or_default().insert(level);
            }
        }
    }
    let mut differences = Vec::new();
    let mut cases = 0;
    let mut kinds = BTreeSet::new();
    for tag in &probes {
        let Some(case) = tag.strip_suffix("-m") else {
            continue;
        };
        let theirs_tag = format!("{case}-r");
        if !probes.contains(&theirs_tag) {
            differences.push(format!("{case}: no probe after util-linux's command"));
            continue;
        }
        cases += 1;
        let empty = BTreeSet::new();
        let ours = shown.get(tag).unwrap_or(&empty);
        let theirs = shown.get(&theirs_tag).unwrap_or(&empty);
        if ours != theirs {
            differences.push(format!(
                "{case}: console printed levels {ours:?} after modkit, {theirs:?} after util-linux"
            ));
        }
        kinds.insert(theirs.clone());
    }
    if !differences.is_empty() {
        return Err(differences.join("; "));
    }
    // The probes must see the console change: at least silent, emerg
    // only, and more.
    if cases < 20 || kinds.len() < 4 {
        return Err(format!(
            "only {cases} console cases with {} different outcomes",
            kinds.len()
        ));
    }
    Ok(cases)
}

#[test]
fn vm_6_1_dmesg_controls_follow_restrict_and_printk_match_util_linux() {
    boot("6.1");
}

#[test]
fn vm_6_12_bpo_dmesg_controls_follow_restrict_and_printk_match_util_linux() {
    boot("6.12-bpo");
}

#[test]
fn console_probe_parsing() {
    let t = "[    1.0] modkit-console c1-m 0\nCONSOLE-PROBE c1-m\n\
             [    1.1] modkit-console c1-r 0\nCONSOLE-PROBE c1-r\n\
             [    1.2] modkit-console c2-m 0\n[    1.3] modkit-console c2-m 1\nCONSOLE-PROBE c2-m\n\
             [    1.4] modkit-console c2-r 0\nCONSOLE-PROBE c2-r\n";
    let e = console_differences(t).unwrap_err();
    assert!(
        e.contains("c2: console printed levels {0, 1} after modkit, {0}"),
        "{e}"
    );
    assert!(!e.contains("c1:"), "{e}");
    let alike = "CONSOLE-PROBE c1-m\nCONSOLE-PROBE c1-r\n";
    assert!(console_differences(alike)
        .unwrap_err()
        .contains("only 1 console cases"));
}
