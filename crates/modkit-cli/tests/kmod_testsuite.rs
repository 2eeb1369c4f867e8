//! kmod 34.2's own test suite with modkit's tools in place of kmod's
//! (`scripts/kmod-testsuite.sh`: Debian trixie's kmod source, built as
//! Debian builds it, its test modules built against bookworm's headers):
//! every sub-test must end with modkit as it ends with kmod — passed, or
//! failed as the suite expects with the same output.

mod common;

use common::*;
use std::process::Command;

#[test]
fn kmods_own_test_suite_passes_with_modkits_tools() {
    if !runs(Tier::Reference) {
        return;
    }
    let out = Command::new(modkit_testkit::repo_root().join("scripts/kmod-testsuite.sh"))
        .env("MODKIT_BIN", modkit())
        .output()
        .expect("run scripts/kmod-testsuite.sh");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "kmod's test suite with modkit's tools:\n{stdout}\n--- stderr ---\n{stderr}"
    );
    let summary = stdout.lines().last().unwrap_or_default();
    assert!(summary.contains("sub-tests"), "no summary: {stdout}");
    eprintln!("{summary}");
}
