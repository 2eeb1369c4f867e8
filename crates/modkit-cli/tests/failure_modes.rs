//! Failures that must lose nothing: `depmod` killed with SIGKILL at
//! random points, on a full file system, on a read-only module directory,
//! with unreadable modules, several `depmod`s at once on one tree,
//! `modprobe` while `depmod` rewrites the indexes, and every tool writing
//! to `/dev/full`.
//!
//! depmod writes each index to a temporary file and renames it over the
//! old one (`fsutil::AtomicFile`), as kmod's depmod does: after any kill,
//! each index is byte for byte the old or the new version, never partial
//! or missing (a killed run may leave its temporary files, as kmod's
//! does). The full and read-only file systems need root and a private
//! mount namespace (`unshare -m`); unreadable files need a user that is
//! not root (`setpriv --reuid=65534`, util-linux); without them the test
//! says why and fails only when `MODKIT_TEST_TIERS` requires its tier.
//! The comparisons with kmod 34.2 and util-linux 2.41 are of the
//! reference tier.

mod common;

use std::collections::BTreeMap;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use common::{modkit, ref_tool, runs, skip, Tier};
use modkit_testkit::{module_image, Rng, ScratchDir};

const VERSION: &str = "6.1.0-failure";

/// The index files depmod writes.
const INDEXES: &[&str] = &[
    "modules.dep",
    "modules.dep.bin",
    "modules.alias",
    "modules.alias.bin",
    "modules.softdep",
    "modules.weakdep",
    "modules.symbols",
    "modules.symbols.bin",
    "modules.builtin.bin",
    "modules.builtin.alias.bin",
    "modules.devname",
];

/// A tree of `n` synthetic modules (each exporting a symbol the next one
/// needs, each with aliases), under `root`; returns the module directory.
fn tree(root: &Path, n: usize) -> PathBuf {
    let moddir = root.join("lib/modules").join(VERSION);
    std::fs::create_dir_all(moddir.join("kernel/drivers")).unwrap();
    for i in 0..n {
        let export = format!("mk_sym_{i}");
        let need = format!("mk_sym_{}", i.saturating_sub(1));
        let alias = format!("pci:v0000{i:04X}d*");
        let needs: Vec<&str> = if i > 0 { vec![&need] } else { vec![] };
        let m = module_image(&[("license", "GPL"), ("alias", &alias)], &[&export], &needs);
        std::fs::write(moddir.join(format!("kernel/drivers/mk{i}.ko")), m).unwrap();
    }
    moddir
}

fn depmod(root: &Path) -> Command {
    let mut c = Command::new(modkit());
    c.args(["depmod", "-b"])
        .arg(root)
        .arg(VERSION)
        .env("LC_ALL", "C");
    c
}

fn indexes(moddir: &Path) -> BTreeMap<&'static str, Option<Vec<u8>>> {
    INDEXES
        .iter()
        .map(|n| (*n, std::fs::read(moddir.join(n)).ok()))
        .collect()
}

fn ok(out: &Output) {
    assert!(
        out.status.success(),
        "{:?}: {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn depmod_killed_at_random_points_leaves_old_or_new_indexes() {
    let dir = ScratchDir::new("failure-sigkill");
    let root = dir.path().join("root");
    let moddir = tree(&root, 400);
    ok(&depmod(&root).output().unwrap());
    let old = indexes(&moddir);
    // The new version: one more module (new aliases, symbols, deps).
    let extra = module_image(
        &[("license", "GPL"), ("alias", "usb:vFFFFp*")],
        &["mk_extra"],
        &["mk_sym_3"],
    );
    std::fs::write(moddir.join("kernel/drivers/zz_extra.ko"), extra).unwrap();
    let start = Instant::now();
    ok(&depmod(&root).output().unwrap());
    let full = start.elapsed();
    let new = indexes(&moddir);
    assert_ne!(old["modules.dep"], new["modules.dep"]);
    let mut rng = Rng(0x5161_c111);
    let (mut old_seen, mut new_seen, mut mixed) = (0, 0, 0);
    let kills = 40;
    for k in 0..kills {
        // Put the old files back (as new files: the test's own renames).
        for (name, data) in &old {
            let p = moddir.join(name);
            match data {
                Some(d) => std::fs::write(&p, d).unwrap(),
                None => {
                    let _ = std::fs::remove_file(&p);
                }
            }
        }
        let mut child = depmod(&root).stderr(Stdio::null()).spawn().unwrap();
        let at = full.mul_f64(rng.below(1000) as f64 / 1000.0 * 1.2);
        std::thread::sleep(at);
        let _ = child.kill();
        let _ = child.wait();
        let now = indexes(&moddir);
        let mut versions = Vec::new();
        for name in INDEXES {
            let v = &now[name];
            assert!(v.is_some(), "kill {k} after {at:?}: {name} missing");
            if v == &old[name] && v == &new[name] {
                continue;
            }
            if v == &old[name] {
                versions.push("old");
            } else if v == &new[name] {
                versions.push("new");
            } else {
                panic!("kill {k} after {at:?}: {name} is neither the old nor the new version");
            }
        }
        if versions.iter().all(|v| *v == "old") {
            old_seen += 1;
        } else if versions.iter().all(|v| *v == "new") {
            new_seen += 1;
        } else {
            mixed += 1;
        }
        // Temporary files a kill left behind: removed before the next
        // round (kmod leaves them too).
        for e in std::fs::read_dir(&moddir).unwrap().flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            let kept = [
                "modules.order",
                "modules.builtin",
                "modules.builtin.modinfo",
            ];
            if name.starts_with("modules.")
                && !INDEXES.contains(&name.as_str())
                && !kept.contains(&name.as_str())
            {
                let _ = std::fs::remove_file(e.path());
            }
        }
    }
    eprintln!(
        "{kills} kills over a {full:?} run: all old {old_seen}, all new {new_seen}, some of each {mixed}"
    );
}

fn can_unshare() -> bool {
    Command::new("unshare")
        .args(["-m", "true"])
        .status()
        .is_ok_and(|s| s.success())
}

/// depmod on a full tmpfs (256 KiB; a filler file takes what the first
/// run left): a non-zero exit with depmod's error line, the old files in
/// place, no temporary file left. kmod's depmod is run the same way in
/// the reference tier: the same exit code.
#[test]
fn depmod_on_a_full_file_system_fails_and_keeps_the_old_files() {
    if !can_unshare() {
        skip(Tier::Offline, "unshare -m needs root (CAP_SYS_ADMIN)");
        return;
    }
    let dir = ScratchDir::new("failure-full");
    let script = r#"
        set -e
        d=$1; ko=$2; mk=$3; shift 3
        mount -t tmpfs -o size=256k tmpfs "$d"
        m="$d/lib/modules/6.1.0-failure"
        mkdir -p "$m/kernel"
        cp "$ko" "$m/kernel/a.ko"
        "$mk" depmod -b "$d" 6.1.0-failure 2>/dev/null
        for f in "$m"/modules.*; do cp "$f" "$f.orig"; done
        cp "$ko" "$m/kernel/b.ko"
        before=$(ls "$m")
        dd if=/dev/zero of="$d/filler" bs=4k 2>/dev/null || true
        set +e
        "$@" -b "$d" 6.1.0-failure
        echo "exit=$?"
        for f in "$m"/modules.*.orig; do cmp -s "$f" "${f%.orig}" || echo "CHANGED ${f%.orig}"; done
        [ "$before" = "$(ls "$m")" ] || echo "LEFT $(ls "$m" | tr '\n' ' ')"
    "#;
    let m = module_image(&[("license", "GPL"), ("alias", "pci:v*")], &["a_sym"], &[]);
    let module = dir.path().join("a.ko");
    std::fs::write(&module, m).unwrap();
    let mnt = dir.path().join("mnt");
    std::fs::create_dir_all(&mnt).unwrap();
    let run = |tool: &[&std::ffi::OsStr]| {
        Command::new("unshare")
            .args(["-m", "sh", "-c", script, "sh"])
            .arg(&mnt)
            .arg(&module)
            .arg(modkit())
            .args(tool)
            .env("LC_ALL", "C")
            .output()
            .expect("run unshare")
    };
    let ours = run(&[modkit().as_os_str(), "depmod".as_ref()]);
    let stdout = String::from_utf8_lossy(&ours.stdout);
    let stderr = String::from_utf8_lossy(&ours.stderr);
    assert!(
        stdout.contains("exit=") && !stdout.contains("exit=0"),
        "{stdout}{stderr}"
    );
    assert!(
        !stdout.contains("CHANGED") && !stdout.contains("LEFT"),
        "{stdout}{stderr}"
    );
    let last = stderr.lines().last().unwrap_or("");
    assert!(
        last.starts_with("depmod: ERROR: ") && last.contains("No space left on device"),
        "{stderr}"
    );
    eprintln!("modkit on a full tmpfs: {} / {last}", stdout.trim());
    if runs(Tier::Reference) {
        let theirs = run(&[ref_tool("depmod").as_os_str()]);
        let theirs_out = String::from_utf8_lossy(&theirs.stdout);
        let exit = |s: &str| {
            s.lines()
                .find(|l| l.starts_with("exit="))
                .map(str::to_owned)
        };
        assert_eq!(
            exit(&stdout),
            exit(&theirs_out),
            "{theirs_out}{}",
            String::from_utf8_lossy(&theirs.stderr)
        );
        eprintln!(
            "kmod on a full tmpfs: {} / {}",
            theirs_out.trim(),
            String::from_utf8_lossy(&theirs.stderr)
                .lines()
                .last()
                .unwrap_or("")
        );
    }
}

/// depmod on a read-only module directory (a read-only bind mount): an
/// error line for each index it cannot create (kmod goes on to the next
/// index; the exit code is kmod's), and nothing changes.
#[test]
fn depmod_on_a_read_only_module_directory_fails() {
    if !can_unshare() {
        skip(Tier::Offline, "unshare -m needs root (CAP_SYS_ADMIN)");
        return;
    }
    let dir = ScratchDir::new("failure-ro");
    let root = dir.path().join("root");
    let moddir = tree(&root, 3);
    ok(&depmod(&root).output().unwrap());
    let before = indexes(&moddir);
    std::fs::write(
        moddir.join("kernel/drivers/new.ko"),
        module_image(&[("license", "GPL")], &["n"], &[]),
    )
    .unwrap();
    let script = r#"mount --bind "$1" "$1" && mount -o remount,bind,ro "$1" && shift && exec "$@""#;
    let run = |program: &Path| {
        Command::new("unshare")
            .args(["-m", "sh", "-c", script, "sh"])
            .arg(&moddir)
            .arg(program)
            .args(if program == modkit() {
                vec!["depmod"]
            } else {
                vec![]
            })
            .arg("-b")
            .arg(&root)
            .arg(VERSION)
            .env("LC_ALL", "C")
            .output()
            .unwrap()
    };
    let ours = run(&modkit());
    let stderr = String::from_utf8_lossy(&ours.stderr);
    assert!(
        ours.status.signal().is_none() && !stderr.contains("panicked"),
        "{stderr}"
    );
    // One error line per index it could not create, in kmod's words.
    let refused = stderr
        .lines()
        .filter(|l| {
            l.starts_with("depmod: ERROR: openat(") && l.ends_with(": Read-only file system")
        })
        .count();
    assert_eq!(refused, INDEXES.len(), "{stderr}");
    assert_eq!(indexes(&moddir), before);
    if runs(Tier::Reference) {
        let theirs = run(&ref_tool("depmod"));
        assert_eq!(
            ours.status.code(),
            theirs.status.code(),
            "{}",
            String::from_utf8_lossy(&theirs.stderr)
        );
        assert_eq!(indexes(&moddir), before);
    }
    eprintln!(
        "read-only module directory: exit {:?}, {refused} indexes refused",
        ours.status.code()
    );
}

/// An unreadable module and an unreadable index, as a user that is not
/// root: depmod and modinfo report them as kmod does (reference tier:
/// same exit codes and stderr).
#[test]
fn unreadable_files_are_reported() {
    let setpriv = |args: &[&std::ffi::OsStr]| {
        Command::new("setpriv")
            .args(["--reuid=65534", "--regid=65534", "--clear-groups", "--"])
            .args(args)
            .env("LC_ALL", "C")
            .output()
            .unwrap()
    };
    if !setpriv(&["true".as_ref()]).status.success() {
        skip(Tier::Offline, "setpriv --reuid needs root");
        return;
    }
    // Under /tmp: the cache under /root is not reachable by nobody.
    let dir = ScratchDir::new_in(&std::env::temp_dir(), "failure-unreadable");
    let root = dir.path().join("root");
    let moddir = tree(&root, 3);
    for d in [
        dir.path(),
        &root,
        &root.join("lib"),
        &root.join("lib/modules"),
        &moddir,
        &moddir.join("kernel"),
        &moddir.join("kernel/drivers"),
    ] {
        std::fs::set_permissions(d, std::fs::Permissions::from_mode(0o777)).unwrap();
    }
    let secret = moddir.join("kernel/drivers/mk1.ko");
    std::fs::set_permissions(&secret, std::fs::Permissions::from_mode(0o000)).unwrap();
    let bin = modkit();
    let cases: Vec<(&str, Vec<std::ffi::OsString>)> = vec![
        ("modinfo", vec![secret.clone().into()]),
        (
            "depmod",
            vec!["-b".into(), root.clone().into(), VERSION.into()],
        ),
    ];
    for (tool, args) in &cases {
        let mut a: Vec<&std::ffi::OsStr> = vec![bin.as_os_str(), tool.as_ref()];
        a.extend(args.iter().map(|x| x.as_os_str()));
        let ours = setpriv(&a);
        let stderr = String::from_utf8_lossy(&ours.stderr);
        assert!(
            ours.status.signal().is_none() && !stderr.contains("panicked"),
            "{tool}: {stderr}"
        );
        assert!(stderr.contains("Permission denied"), "{tool}: {stderr}");
        if runs(Tier::Reference) {
            // The reference wrappers live under /root: copy nothing, run
            // kmod through its wrapper only when nobody can reach it.
            let r = ref_tool(tool);
            let mut a: Vec<&std::ffi::OsStr> = vec![r.as_os_str()];
            a.extend(args.iter().map(|x| x.as_os_str()));
            let theirs = setpriv(&a);
            let theirs_err = String::from_utf8_lossy(&theirs.stderr);
            if theirs_err.contains("Permission denied")
                && theirs_err.contains(&*r.to_string_lossy())
            {
                eprintln!(
                    "{tool}: the reference is not reachable as nobody; compared modkit alone"
                );
                continue;
            }
            assert_eq!(
                ours.status.code(),
                theirs.status.code(),
                "{tool}: {stderr} vs {theirs_err}"
            );
        }
    }
}

/// Four depmods at once on one tree, five times: every index is complete
/// and the same as a lone run's afterwards.
#[test]
fn concurrent_depmods_on_one_tree() {
    let dir = ScratchDir::new("failure-concurrent");
    let root = dir.path().join("root");
    let moddir = tree(&root, 200);
    ok(&depmod(&root).output().unwrap());
    let want = indexes(&moddir);
    for round in 0..5 {
        let children: Vec<_> = (0..4)
            .map(|_| depmod(&root).stderr(Stdio::piped()).spawn().unwrap())
            .collect();
        for c in children {
            let out = c.wait_with_output().unwrap();
            assert!(
                out.status.success(),
                "round {round}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        assert_eq!(indexes(&moddir), want, "round {round}");
    }
    let left: Vec<String> = std::fs::read_dir(&moddir)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("modules.") && !INDEXES.contains(&n.as_str()))
        .collect();
    assert!(left.is_empty(), "temporary files left: {left:?}");
}

/// modprobe -D (lookups through modules.dep.bin, modules.alias.bin and
/// modules.symbols.bin) while depmod rewrites the indexes over and over:
/// every answer is the same.
#[test]
fn modprobe_while_depmod_rewrites() {
    let dir = ScratchDir::new("failure-modprobe-depmod");
    let root = dir.path().join("root");
    tree(&root, 200);
    ok(&depmod(&root).output().unwrap());
    let lookup = |what: &str| {
        Command::new(modkit())
            .args(["modprobe", "-D", "-d"])
            .arg(&root)
            .args(["-S", VERSION, what])
            .env("LC_ALL", "C")
            .output()
            .unwrap()
    };
    let queries = ["mk150", "pci:v00000096d00001234", "symbol:mk_sym_42"];
    let want: Vec<Output> = queries.iter().map(|q| lookup(q)).collect();
    for (q, w) in queries.iter().zip(&want) {
        ok(w);
        assert!(
            String::from_utf8_lossy(&w.stdout).contains("insmod "),
            "{q}"
        );
    }
    let stop = std::sync::atomic::AtomicBool::new(false);
    let rewrites = std::sync::atomic::AtomicUsize::new(0);
    let mut answers = 0;
    std::thread::scope(|s| {
        s.spawn(|| {
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                ok(&depmod(&root).output().unwrap());
                rewrites.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            }
        });
        let end = Instant::now() + Duration::from_secs(8);
        while Instant::now() < end {
            for (q, w) in queries.iter().zip(&want) {
                let got = lookup(q);
                assert_eq!(
                    got.status.code(),
                    w.status.code(),
                    "{q}: {}",
                    String::from_utf8_lossy(&got.stderr)
                );
                assert_eq!(got.stdout, w.stdout, "{q}");
                answers += 1;
            }
        }
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
    });
    let rewrites = rewrites.into_inner();
    assert!(rewrites >= 2, "{rewrites}");
    eprintln!("{answers} modprobe answers during {rewrites} depmod rewrites, all the same");
}

fn to_dev_full(program: &Path, args: &[&str]) -> Output {
    let full = std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/full")
        .expect("/dev/full");
    Command::new(program)
        .args(args)
        .env("LC_ALL", "C")
        .stdout(Stdio::from(full))
        .stderr(Stdio::piped())
        .output()
        .expect("run")
}

/// Every tool printing to `/dev/full` fails with exit 1, never a panic or
/// a signal: dmesg says `write error`, as util-linux's does (the reference
/// tier compares exit code and stderr); the kmod tools say `ERROR: could
/// not write to standard output: No space left on device`. kmod 34.2
/// differs: it does not check its writes, says nothing and exits 0
/// (listed by the test).
#[test]
fn every_tool_writing_to_dev_full_fails() {
    let dir = ScratchDir::new("failure-dev-full");
    let root = dir.path().join("root");
    let moddir = tree(&root, 3);
    ok(&depmod(&root).output().unwrap());
    let log = dir.path().join("log");
    std::fs::write(&log, "<6>[    1.000000] hello\n".repeat(2000)).unwrap();
    let module = moddir.join("kernel/drivers/mk1.ko");
    let root_s = root.to_str().unwrap();
    let m = module.to_str().unwrap();
    let l = log.to_str().unwrap();
    let cases: Vec<(&str, Vec<&str>)> = vec![
        ("modinfo", vec![m]),
        ("modprobe", vec!["-c"]),
        ("modprobe", vec!["-D", "-d", root_s, "-S", VERSION, "mk2"]),
        ("depmod", vec!["-n", "-b", root_s, VERSION]),
        ("dmesg", vec!["-F", l]),
        ("dmesg", vec!["-F", l, "--json"]),
        ("modinfo", vec!["--help"]),
        ("depmod", vec!["--version"]),
    ];
    let mut kmod_differs = Vec::new();
    for (tool, args) in &cases {
        let mut full_args = vec![*tool];
        full_args.extend(args);
        let ours = to_dev_full(&modkit(), &full_args);
        let stderr = String::from_utf8_lossy(&ours.stderr);
        let what = format!("{tool} {}", args.join(" "));
        assert!(
            ours.status.signal().is_none() && !stderr.contains("panicked"),
            "{what}: {stderr}"
        );
        assert_eq!(
            ours.status.code(),
            Some(1),
            "{what}: exit 0 on /dev/full: {stderr}"
        );
        if *tool == "dmesg" {
            assert!(stderr.contains("dmesg: write error"), "{what}: {stderr}");
        } else {
            // the last line (depmod may warn first, as kmod's does)
            assert_eq!(
                stderr.lines().last(),
                Some(
                    format!("{tool}: ERROR: could not write to standard output: No space left on device")
                        .as_str()
                ),
                "{what}"
            );
        }
        if runs(Tier::Reference) {
            let theirs = to_dev_full(&ref_tool(tool), args);
            if *tool == "dmesg" {
                assert_eq!(ours.status.code(), theirs.status.code(), "{what}");
                assert_eq!(ours.stderr, theirs.stderr, "{what}");
            } else if theirs.status.code() != ours.status.code() {
                kmod_differs.push(format!("{what}: kmod exits {:?}", theirs.status.code()));
            }
        }
    }
    eprintln!("where kmod 34.2 differs: {}", kmod_differs.join("; "));
}
