//! `modkit lsmod` against kmod 34.2's lsmod on this host, whose kernel has
//! no module support (no /proc/modules): errors, options and exit codes.
//! The listing itself is compared inside the VM test bed on real kernels.
//! (`-vvv` is left out: kmod then logs a function pointer's address.)

mod common;

use common::*;

#[test]
fn host_without_module_support_matches_kmod() {
    if !runs(Tier::Reference) {
        return;
    }
    assert!(
        !std::path::Path::new("/proc/modules").exists(),
        "this test expects a host kernel without module support"
    );
    let cases: &[&[&str]] = &[
        &[],
        &["-v"],
        &["-vv"],
        &["extra"],
        &["--bogus"],
        &["-x"],
        &["--verb"],
        &["--", "x"],
    ];
    let failures: Vec<String> = cases.iter().filter_map(|c| compare("lsmod", c)).collect();
    assert_no_failures("lsmod", &failures);
}
