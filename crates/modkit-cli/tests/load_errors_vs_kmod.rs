//! `insmod`, `modprobe` and `rmmod` beside kmod 34.2 on files and names
//! that cannot be loaded or removed, on this machine's kernel (whatever it
//! answers, both tools get the same answer): a directory, a missing file,
//! an empty file, a file cut inside the magic, a character device, a file
//! that fails to read (`/proc/self/mem` at offset 0: `EIO`), a text file,
//! a real module; and `rmmod` of modules that are not loaded, with each
//! option. kmod reads a module file's first bytes with `pread` and reports
//! that call's errno; a file shorter than the magic is `EINVAL`.

mod common;

use common::*;
use std::ffi::OsString;

#[test]
fn unloadable_files_fail_like_kmod() {
    if !runs(Tier::Reference) {
        return;
    }
    let tree = Tree::get("6.1");
    let dir = scratch_dir("load-errors");
    let d = dir.path();
    std::fs::create_dir(d.join("dir.ko")).unwrap();
    std::fs::write(d.join("empty.ko"), b"").unwrap();
    std::fs::write(d.join("cut.ko"), b"\x7fELF\x02").unwrap();
    std::fs::write(d.join("text.ko"), b"not a module at all\n").unwrap();
    let dummy = tree.moddir().join("kernel/drivers/net/dummy.ko");
    std::fs::copy(&dummy, d.join("dummy.ko")).unwrap();
    let mut files: Vec<OsString> = [
        "dir.ko", "empty.ko", "cut.ko", "text.ko", "dummy.ko", "nope.ko",
    ]
    .iter()
    .map(|f| d.join(f).into_os_string())
    .collect();
    files.extend(["/dev/null", "/proc/self/mem"].map(OsString::from));

    let mut failures = Vec::new();
    for file in &files {
        for (tool, opts) in [
            ("insmod", &[][..]),
            ("insmod", &["-f"]),
            ("modprobe", &[]),
            ("modprobe", &["-f"]),
            ("modprobe", &["-n", "-v"]),
        ] {
            let mut args: Vec<OsString> = opts.iter().map(OsString::from).collect();
            args.push(file.clone());
            if let Some(d) = compare(tool, &args) {
                failures.push(d);
            }
        }
    }
    assert_no_failures("unloadable files", &failures);
}

#[test]
fn rmmod_of_modules_not_loaded_fails_like_kmod() {
    if !runs(Tier::Reference) {
        return;
    }
    let mut failures = Vec::new();
    for args in [
        &["dummy"][..],
        &["-f", "dummy"],
        &["-v", "no_such_module"],
        &["-s", "dummy"],
        &["/sys/module/zzz"],
        &["dummy.ko"],
        &["a", "b", "c"],
        &["-w", "dummy"],
        &[],
        &["--bogus"],
        // (not -h: the help is modkit's own words, not kmod's text)
    ] {
        if let Some(d) = compare("rmmod", args) {
            failures.push(d);
        }
    }
    assert_no_failures("rmmod", &failures);
}
