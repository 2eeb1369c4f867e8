//! `modkit lsmod` against kmod 34.2's lsmod on this host, whose kernel has
//! no module support (no /proc/modules): errors, options and exit codes.
//! The listing itself is compared inside the VM test bed on real kernels.
//! (`-vvv` is left out: kmod then logs a function pointer's address.)

mod common;

use common::*;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

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

/// One made-up kernel state: `/proc/modules` and `/sys/module/*`, written
/// under a scratch directory and mounted over `/proc` and `/sys` in a
/// private mount namespace for each run.
struct FakeKernel {
    dir: modkit_testkit::ScratchDir,
}

impl FakeKernel {
    fn new(what: &str, proc_modules: &[u8]) -> FakeKernel {
        let dir = scratch_dir(&format!("lsmod-{what}"));
        std::fs::create_dir_all(dir.join("proc")).unwrap();
        std::fs::create_dir_all(dir.join("sys/module")).unwrap();
        std::fs::write(dir.join("proc/modules"), proc_modules).unwrap();
        FakeKernel { dir }
    }

    /// `/sys/module/NAME/` with `refcnt` and `holders/`, as the kernel
    /// makes them for a loaded module.
    fn sys_module(&self, name: &[u8], refcnt: &[u8], holders: &[&[u8]]) -> &Self {
        let m = self.sys(name);
        std::fs::create_dir_all(m.join("holders")).unwrap();
        std::fs::write(m.join("refcnt"), refcnt).unwrap();
        for h in holders {
            std::fs::create_dir_all(m.join("holders").join(std::ffi::OsStr::from_bytes(h)))
                .unwrap();
        }
        self
    }

    fn sys(&self, name: &[u8]) -> PathBuf {
        self.dir
            .join("sys/module")
            .join(std::ffi::OsStr::from_bytes(name))
    }

    /// Runs `program args` with this state mounted over `/proc` and `/sys`.
    fn run(&self, program: &Path, args: &[&str]) -> Output {
        Command::new("unshare")
            .args(["-m", "sh", "-c"])
            .arg("mount --bind \"$1/proc\" /proc && mount --bind \"$1/sys\" /sys && shift && exec \"$@\"")
            .arg("sh")
            .arg(&*self.dir)
            .arg(program)
            .args(args)
            .env("LC_ALL", "C")
            .output()
            .expect("run unshare")
    }
}

/// Hostile `/proc/modules` and `/sys/module` contents (what a broken or
/// faked kernel interface, a container's bind mount or a captured system
/// could show): modkit's lsmod prints, and fails, as kmod's does, and ends
/// within bounds. Each state is mounted over `/proc` and `/sys` in a
/// private mount namespace (`unshare -m`, which needs root, as the
/// reference tier's VM half does).
#[test]
fn hostile_kernel_state_matches_kmod() {
    if !runs(Tier::Reference) {
        return;
    }
    let probe = Command::new("unshare")
        .args(["-m", "true"])
        .output()
        .expect("run unshare");
    assert!(
        probe.status.success(),
        "this test needs a private mount namespace (root): {}",
        String::from_utf8_lossy(&probe.stderr)
    );
    let live = |name: &str, size: &str, refs: &str, used: &str| {
        format!("{name} {size} {refs} {used} Live 0xffffffffc0000000\n")
    };
    let mut states: Vec<(&str, FakeKernel)> = Vec::new();
    let both = |k: FakeKernel| {
        k.sys_module(b"mk_a", b"1\n", &[b"mk_b"]);
        k.sys_module(b"mk_b", b"0\n", &[]);
        k
    };
    let normal = format!(
        "{}{}",
        live("mk_a", "16384", "1", "mk_b,"),
        live("mk_b", "8192", "0", "-")
    );
    states.push(("normal", both(FakeKernel::new("normal", normal.as_bytes()))));
    states.push(("empty", FakeKernel::new("empty", b"")));
    states.push((
        "no final newline",
        both(FakeKernel::new("nonl", normal.trim_end().as_bytes())),
    ));
    states.push((
        "name only",
        both(FakeKernel::new("nameonly", b"mk_a\nmk_b\n")),
    ));
    states.push((
        "blank lines",
        both(FakeKernel::new(
            "blank",
            format!("\n\n{normal}\n").as_bytes(),
        )),
    ));
    states.push((
        "sizes not numbers, negative, past 64 bits",
        both(FakeKernel::new(
            "sizes",
            format!(
                "{}{}{}",
                live("mk_a", "12abc", "1", "mk_b,"),
                live("mk_b", "-5", "0", "-"),
                live("mk_c", "99999999999999999999999", "0", "-")
            )
            .as_bytes(),
        )),
    ));
    let k = FakeKernel::new("refcnt", normal.as_bytes());
    k.sys_module(b"mk_a", b"lots\n", &[b"mk_b"]);
    k.sys_module(b"mk_b", b"99999999999999999999\n", &[]);
    states.push(("refcnt not a number, too large", k));
    let k = FakeKernel::new("emptyrefcnt", normal.as_bytes());
    k.sys_module(b"mk_a", b"", &[b"mk_b"]);
    k.sys_module(b"mk_b", b"-3\n", &[]);
    states.push(("refcnt empty, negative", k));
    states.push((
        "no /sys/module entries",
        FakeKernel::new("nosys", normal.as_bytes()),
    ));
    let k = FakeKernel::new("holdersfile", normal.as_bytes());
    std::fs::create_dir_all(k.sys(b"mk_a")).unwrap();
    std::fs::write(k.sys(b"mk_a").join("refcnt"), "1\n").unwrap();
    std::fs::write(k.sys(b"mk_a").join("holders"), "mk_b\n").unwrap();
    k.sys_module(b"mk_b", b"0\n", &[]);
    states.push(("holders is a file", k));
    let many_holders: Vec<Vec<u8>> = (0..3000)
        .map(|i| format!("holder_{i:04}").into_bytes())
        .collect();
    let refs: Vec<&[u8]> = many_holders.iter().map(|h| h.as_slice()).collect();
    let k = FakeKernel::new("manyholders", normal.as_bytes());
    k.sys_module(b"mk_a", b"3000\n", &refs);
    k.sys_module(b"mk_b", b"0\n", &[]);
    states.push(("3,000 holders", k));
    let mut bytes = b"mk_\xff\xfe 4096 0 - Live 0x0\n".to_vec();
    bytes.extend_from_slice(normal.as_bytes());
    let k = both(FakeKernel::new("nonutf8", &bytes));
    k.sys_module(b"mk_\xff\xfe", b"0\n", &[b"h\xff"]);
    states.push(("names not UTF-8", k));
    let mut bytes = b"mk_a\0junk 16384 1 mk_b, Live 0x0\n".to_vec();
    bytes.extend_from_slice(live("mk_b", "8192", "0", "-").as_bytes());
    states.push(("a NUL byte in a line", both(FakeKernel::new("nul", &bytes))));
    states.push((
        "the same module twice",
        both(FakeKernel::new(
            "twice",
            format!("{normal}{normal}").as_bytes(),
        )),
    ));
    for len in [4095usize, 4096, 4097, 1 << 20] {
        let name = "m".repeat(len);
        let text = format!("{}{normal}", live(&name, "1", "0", "-"));
        states.push((
            "a long name",
            both(FakeKernel::new(&format!("long{len}"), text.as_bytes())),
        ));
    }
    let mut text = String::new();
    for i in 0..20_000 {
        text.push_str(&live(&format!("mod_{i}"), "4096", "0", "-"));
    }
    states.push((
        "20,000 modules, no sysfs",
        FakeKernel::new("many", text.as_bytes()),
    ));

    let kmod = ref_tool("lsmod");
    let ours = modkit();
    let mut failures = Vec::new();
    for (what, state) in &states {
        for args in [&[][..], &["-v"][..]] {
            let t0 = std::time::Instant::now();
            let mine = state.run(&ours, &[&["lsmod"][..], args].concat());
            let took = t0.elapsed();
            let theirs = state.run(&kmod, args);
            let label = format!("lsmod {} on {what}", args.join(" "));
            failures.extend(output_differences(&label, &mine, &theirs));
            if mine.status.signal().is_some()
                || String::from_utf8_lossy(&mine.stderr).contains("panicked")
            {
                failures.push(format!("{label}: modkit died: {:?}", mine.status));
            }
            if took > std::time::Duration::from_secs(10) {
                failures.push(format!("{label}: took {took:?}"));
            }
        }
    }
    for f in &failures {
        eprintln!("{}", f.lines().next().unwrap_or_default());
    }
    assert_no_failures("lsmod on hostile kernel state", &failures);
}
