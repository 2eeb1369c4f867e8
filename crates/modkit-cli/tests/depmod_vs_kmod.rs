//! `modkit depmod` against kmod 34.2's depmod: the 11 output files
//! byte-identical (`cmp`), and the same stdout, stderr and exit code, on
//! Debian's bookworm 6.1 (plain `.ko`), bookworm-backports 6.12 and trixie
//! 6.12 (`.ko.xz`) trees, and on modified copies of them: a `depmod.d` using
//! every directive, modules in `updates/` and `extra/` overriding in-tree
//! ones, a deleted module, explicit module lists, `-e` with
//! `Module.symvers` or `System.map`.
//!
//! Needs the reference tools, trees and headers: `scripts/refs.sh` (run by
//! the tests themselves).

mod common;

use common::*;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// modkit's depmod (`ours`) or kmod's.
fn depmod_command(ours: bool) -> Command {
    if ours {
        let mut c = Command::new(modkit());
        c.arg("depmod");
        c
    } else {
        Command::new(ref_tool("depmod"))
    }
}

/// Runs one depmod with `args` (before which `-o OUT` is inserted).
fn run_depmod(ours: bool, out: &Path, args: &[OsString]) -> Output {
    depmod_command(ours)
        .arg("-o")
        .arg(out)
        .args(args)
        .env("LC_ALL", "C")
        .output()
        .expect("run depmod")
}

/// Runs both depmods with the same arguments and compares everything they
/// print and every file they write under `OUT/lib/modules/VERSION`.
fn depmod_differences(name: &str, version: &str, args: &[OsString]) -> Vec<String> {
    let scratch = scratch_dir(&format!("depmod-{name}"));
    let (a, b) = (scratch.join("modkit"), scratch.join("kmod"));
    let ours = run_depmod(true, &a, args);
    let theirs = run_depmod(false, &b, args);
    let shown: Vec<String> = args
        .iter()
        .map(|s| s.to_string_lossy().into_owned())
        .collect();
    let what = format!("[{name}] depmod {}", shown.join(" "));
    let mut diffs = output_differences(&what, &ours, &theirs);
    let fa = read_tree_files(&a.join("lib/modules").join(version));
    let fb = read_tree_files(&b.join("lib/modules").join(version));
    let dry_run = args.iter().any(|a| a == "-n");
    if theirs.status.success() && !dry_run && !fb.contains_key("modules.dep") {
        diffs.push(format!(
            "{what}: kmod wrote no modules.dep: the comparison would be vacuous"
        ));
    }
    let names_a: Vec<&String> = fa.keys().collect();
    let names_b: Vec<&String> = fb.keys().collect();
    if names_a != names_b {
        diffs.push(format!(
            "{what}: files written differ: modkit {names_a:?} vs kmod {names_b:?}"
        ));
    }
    for (file, bytes) in &fb {
        if let Some(mine) = fa.get(file) {
            if mine != bytes {
                diffs.push(format!(
                    "{what}: {file} differs\n{}",
                    first_difference(mine, bytes)
                ));
            }
        }
    }
    diffs
}

fn os(args: &[&str]) -> Vec<OsString> {
    args.iter().map(OsString::from).collect()
}

fn base_args(tree: &Tree) -> Vec<OsString> {
    vec!["-b".into(), tree.root.clone().into_os_string()]
}

fn whole_tree_matches(name: &str) {
    if !runs(Tier::Reference) {
        return;
    }
    let tree = Tree::get(name);
    let mut diffs = Vec::new();
    let mut args = base_args(&tree);
    args.push(tree.version.clone().into());
    diffs.extend(depmod_differences(name, &tree.version, &args));
    let mut args = base_args(&tree);
    args.extend(os(&["-n", &tree.version]));
    diffs.extend(depmod_differences(
        &format!("{name}-n"),
        &tree.version,
        &args,
    ));
    let mut args = base_args(&tree);
    args.extend(os(&["-a", "-e", "-F"]));
    args.push(
        tree.root
            .join(format!("boot/System.map-{}", tree.version))
            .into_os_string(),
    );
    args.push(tree.version.clone().into());
    diffs.extend(depmod_differences(
        &format!("{name}-sysmap"),
        &tree.version,
        &args,
    ));
    let symvers = cache_dir().join(format!("trees/{name}-headers/Module.symvers"));
    let mut args = base_args(&tree);
    args.extend(os(&["-e", "-E"]));
    args.push(symvers.into_os_string());
    args.push(tree.version.clone().into());
    diffs.extend(depmod_differences(
        &format!("{name}-symvers"),
        &tree.version,
        &args,
    ));
    assert_no_failures(&format!("depmod on {name}"), &diffs);
}

#[test]
fn bookworm_6_1_tree_matches_kmod() {
    whole_tree_matches("6.1");
}

#[test]
fn trixie_6_12_tree_matches_kmod() {
    whole_tree_matches("6.12");
}

#[test]
fn bookworm_backports_6_12_tree_matches_kmod() {
    whole_tree_matches("6.12-bpo");
}

fn module_path(tree: &Tree, rel: &str) -> PathBuf {
    tree.moddir().join(rel)
}

/// A copy of the 6.1 tree with modules added to `updates/` and `extra/`
/// (one overriding an in-tree module), a deleted module, a truncated
/// module, and a `depmod.d` that uses every directive.
#[test]
fn modified_tree_and_every_config_directive_match_kmod() {
    if !runs(Tier::Reference) {
        return;
    }
    let orig = Tree::get("6.1");
    let scratch = scratch_dir("depmod-modified");
    let tree = copy_tree(&orig, &scratch.join("root"));
    let md = tree.moddir();
    // updates/: a newer dummy.ko overrides kernel/drivers/net/dummy.ko
    std::fs::create_dir_all(md.join("updates")).unwrap();
    std::fs::copy(
        module_path(&orig, "kernel/drivers/net/dummy.ko"),
        md.join("updates/dummy.ko"),
    )
    .unwrap();
    // extra/: another copy of a module, and a module under a new name
    std::fs::create_dir_all(md.join("extra/sub")).unwrap();
    std::fs::copy(
        module_path(&orig, "kernel/fs/btrfs/btrfs.ko"),
        md.join("extra/btrfs.ko"),
    )
    .unwrap();
    std::fs::copy(
        module_path(&orig, "kernel/lib/crc7.ko"),
        md.join("extra/sub/crc7.ko"),
    )
    .unwrap();
    // a deleted in-tree module that others depend on
    std::fs::remove_file(md.join("kernel/lib/raid6/raid6_pq.ko")).unwrap();
    // a truncated module
    let xor = std::fs::read(module_path(&orig, "kernel/crypto/xor.ko")).unwrap();
    std::fs::remove_file(md.join("kernel/crypto/xor.ko")).unwrap();
    std::fs::write(md.join("kernel/crypto/xor.ko"), &xor[..xor.len() / 3]).unwrap();

    let mut diffs = Vec::new();
    let mut args = base_args(&tree);
    args.push(tree.version.clone().into());
    diffs.extend(depmod_differences("modified-default", &tree.version, &args));

    let conf = scratch.join("depmod.d");
    std::fs::create_dir_all(&conf).unwrap();
    std::fs::write(
        conf.join("00-search.conf"),
        "# comment\nsearch extra updates built-in\nsearch external\n\noverride crc7 * extra/sub\noverride dummy 6.1.* kernel\n",
    )
    .unwrap();
    std::fs::write(
        conf.join("10-other.conf"),
        format!(
            "external * {}\nexclude kernel/sound\nbogus directive here\noverride onlytwo words\nsearch\n",
            scratch.join("ext").display()
        ),
    )
    .unwrap();
    std::fs::write(conf.join("ignored.txt"), "search nonsense\n").unwrap();
    std::fs::create_dir_all(scratch.join("ext")).unwrap();
    std::fs::copy(
        module_path(&orig, "kernel/drivers/net/veth.ko"),
        scratch.join("ext/veth.ko"),
    )
    .unwrap();
    let mut args = base_args(&tree);
    args.extend([
        OsString::from("-C"),
        conf.clone().into_os_string(),
        tree.version.clone().into(),
    ]);
    diffs.extend(depmod_differences(
        "modified-config-dir",
        &tree.version,
        &args,
    ));
    let mut args = base_args(&tree);
    args.extend([
        OsString::from("-C"),
        conf.join("00-search.conf").into_os_string(),
        tree.version.clone().into(),
    ]);
    diffs.extend(depmod_differences(
        "modified-config-file",
        &tree.version,
        &args,
    ));

    // explicit module list (relative to the tree, as kmod takes them)
    let mut args = base_args(&tree);
    args.push(tree.version.clone().into());
    for m in [
        "kernel/fs/btrfs/btrfs.ko",
        "kernel/lib/libcrc32c.ko",
        "kernel/drivers/net/dummy.ko",
        "updates/dummy.ko",
    ] {
        args.push(md.join(m).into_os_string());
    }
    diffs.extend(depmod_differences("modified-list", &tree.version, &args));

    // verbose, warnings, prefix
    let mut args = base_args(&tree);
    args.extend(os(&["-v", "-w", "-P", "_", &tree.version]));
    diffs.extend(depmod_differences("modified-verbose", &tree.version, &args));

    // -vv: kmod's library messages too (addresses masked)
    let mut args = base_args(&tree);
    args.extend(os(&["-vv", &tree.version]));
    diffs.extend(depmod_differences("modified-vv", &tree.version, &args));

    assert_no_failures("depmod on a modified 6.1 tree", &diffs);
}

/// `-e -E` with a Module.symvers that lacks symbols and has wrong CRCs:
/// the unresolved-symbol and CRC-mismatch warnings must match.
#[test]
fn symbol_warnings_match_kmod() {
    if !runs(Tier::Reference) {
        return;
    }
    let tree = Tree::get("6.1");
    let scratch = scratch_dir("depmod-symvers");
    let symvers =
        std::fs::read_to_string(cache_dir().join("trees/6.1-headers/Module.symvers")).unwrap();
    let mut edited = String::new();
    for (i, line) in symvers.lines().enumerate() {
        match i % 50 {
            0 => continue, // drop: unresolved symbols
            1 => {
                // wrong CRC
                let rest = line.split_once('\t').map(|x| x.1).unwrap_or("");
                edited.push_str(&format!("0x12345678\t{rest}\n"));
            }
            _ => {
                edited.push_str(line);
                edited.push('\n');
            }
        }
    }
    let path = scratch.join("Module.symvers");
    std::fs::write(&path, edited).unwrap();
    let mut args = base_args(&tree);
    args.extend([
        OsString::from("-e"),
        OsString::from("-E"),
        path.into_os_string(),
        tree.version.clone().into(),
    ]);
    let diffs = depmod_differences("symvers-edited", &tree.version, &args);
    assert_no_failures("depmod -e -E with an edited Module.symvers", &diffs);
}

#[test]
fn bad_options_and_arguments_match_kmod() {
    if !runs(Tier::Reference) {
        return;
    }
    let tree = Tree::get("6.1");
    let root = tree.root.to_string_lossy().into_owned();
    let cases: Vec<Vec<String>> = vec![
        vec!["--bogus".into()],
        vec!["-Z".into()],
        vec!["-b".into()],
        vec!["-b".into(), root.clone(), "not-a-version".into()],
        vec!["-b".into(), root.clone(), "9.9.9".into()],
        vec!["-b".into(), "/nonexistent".into(), tree.version.clone()],
        vec![
            "-b".into(),
            root.clone(),
            "-E".into(),
            "/nonexistent/Module.symvers".into(),
            "-e".into(),
            tree.version.clone(),
        ],
        vec![
            "-b".into(),
            root.clone(),
            "-F".into(),
            "/nonexistent/System.map".into(),
            "-e".into(),
            tree.version.clone(),
        ],
        vec![
            "-b".into(),
            root.clone(),
            "-C".into(),
            "/nonexistent/depmod.d".into(),
            tree.version.clone(),
        ],
        vec![
            "-b".into(),
            root.clone(),
            tree.version.clone(),
            "/nonexistent/x.ko".into(),
        ],
    ];
    let mut diffs = Vec::new();
    for (i, c) in cases.iter().enumerate() {
        let args: Vec<OsString> = c.iter().map(OsString::from).collect();
        diffs.extend(depmod_differences(
            &format!("bad-{i}"),
            &tree.version,
            &args,
        ));
    }
    assert_no_failures("depmod bad input", &diffs);
}

/// `-A`: nothing is written when modules.dep is newer than every module;
/// everything is when a module is newer.
#[test]
fn quick_mode_matches_kmod() {
    if !runs(Tier::Reference) {
        return;
    }
    let orig = Tree::get("6.1");
    let scratch = scratch_dir("depmod-quick");
    let tree = copy_tree(&orig, &scratch.join("root"));
    let md = tree.moddir();
    // The copy's modules.dep (from the cache) is newer than its modules.
    for ours in [true, false] {
        let mut cmd = depmod_command(ours);
        let dep = md.join("modules.dep");
        let before = std::fs::metadata(&dep).unwrap().modified().unwrap();
        let out = cmd
            .arg("-A")
            .arg("-b")
            .arg(&tree.root)
            .arg(&tree.version)
            .output()
            .unwrap();
        assert!(out.status.success(), "depmod -A (modkit: {ours}) failed");
        let after = std::fs::metadata(&dep).unwrap().modified().unwrap();
        assert_eq!(
            before, after,
            "depmod -A (modkit: {ours}) rewrote an up-to-date modules.dep"
        );
    }
    // A newer module: both rewrite, with identical results.
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let dummy = md.join("kernel/drivers/net/dummy.ko");
    let bytes = std::fs::read(&dummy).unwrap();
    std::fs::remove_file(&dummy).unwrap();
    std::fs::write(&dummy, bytes).unwrap();
    let mut args = base_args(&tree);
    args.extend(os(&["-A", &tree.version]));
    let diffs = depmod_differences("quick-stale", &tree.version, &args);
    assert_no_failures("depmod -A with a newer module", &diffs);
}

/// `--modkit-cache`: cold, warm, after a module changed, after a module was
/// deleted, and with a corrupt cache file, modkit's outputs stay
/// byte-identical to kmod's for the same tree.
#[test]
fn metadata_cache_keeps_outputs_identical() {
    if !runs(Tier::Reference) {
        return;
    }
    let orig = Tree::get("6.1");
    let scratch = scratch_dir("depmod-cache");
    let tree = copy_tree(&orig, &scratch.join("root"));
    let md = tree.moddir();
    let cache = scratch.join("modkit.cache");
    let compare_run = |what: &str| -> Vec<String> {
        let (a, b) = (scratch.join("out-modkit"), scratch.join("out-kmod"));
        let _ = std::fs::remove_dir_all(&a);
        let _ = std::fs::remove_dir_all(&b);
        let mut args = vec![OsString::from(format!(
            "--modkit-cache={}",
            cache.display()
        ))];
        args.extend(base_args(&tree));
        args.push(tree.version.clone().into());
        let ours = run_depmod(true, &a, &args);
        let theirs = run_depmod(false, &b, &args[1..]);
        let mut diffs = Vec::new();
        if ours.status.code() != theirs.status.code() || ours.stderr != theirs.stderr {
            diffs.push(format!(
                "[{what}] status/stderr differ: {:?} {} vs {:?} {}",
                ours.status.code(),
                String::from_utf8_lossy(&ours.stderr),
                theirs.status.code(),
                String::from_utf8_lossy(&theirs.stderr)
            ));
        }
        let fa = read_tree_files(&a.join("lib/modules").join(&tree.version));
        let fb = read_tree_files(&b.join("lib/modules").join(&tree.version));
        if fa != fb || !fb.contains_key("modules.dep") {
            diffs.push(format!("[{what}] outputs differ from kmod's"));
        }
        diffs
    };
    let mut diffs = compare_run("cold");
    assert!(cache.exists(), "the cache file was not written");
    diffs.extend(compare_run("warm"));
    // a changed module: a different module's bytes under dummy's name
    let dummy = md.join("kernel/drivers/net/dummy.ko");
    std::fs::remove_file(&dummy).unwrap();
    std::fs::copy(md.join("kernel/drivers/net/veth.ko"), &dummy).unwrap();
    diffs.extend(compare_run("changed"));
    std::fs::remove_file(md.join("kernel/lib/raid6/raid6_pq.ko")).unwrap();
    diffs.extend(compare_run("deleted"));
    let mut bytes = std::fs::read(&cache).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0xff;
    std::fs::write(&cache, &bytes).unwrap();
    diffs.extend(compare_run("corrupt cache"));
    std::fs::write(&cache, &bytes[..100]).unwrap();
    diffs.extend(compare_run("truncated cache"));
    // -n writes nothing but standard output: not the cache either, neither
    // a new one nor an update of a stale one.
    let dry_run = |cache: &std::path::Path| {
        let mut args = vec![OsString::from(format!(
            "--modkit-cache={}",
            cache.display()
        ))];
        args.extend(["-n", "-b"].map(OsString::from));
        args.push(tree.root.clone().into());
        args.push(tree.version.clone().into());
        let out = run_modkit("depmod", &args);
        assert!(
            out.status.success() && out.stdout.len() > 1000,
            "depmod -n: {:?}",
            out.status
        );
    };
    let fresh = scratch.join("never-written.cache");
    dry_run(&fresh);
    assert!(!fresh.exists(), "depmod -n wrote a new cache file");
    std::fs::remove_file(md.join("kernel/drivers/net/dummy.ko")).unwrap();
    let before = std::fs::read(&cache).unwrap();
    dry_run(&cache);
    assert_eq!(
        std::fs::read(&cache).unwrap(),
        before,
        "depmod -n rewrote the cache"
    );
    assert_no_failures("depmod --modkit-cache", &diffs);
}

/// The default metadata cache (`OUT/var/cache/modkit/depmod/VERSION` when
/// `OUT/var/cache` exists), on a copy of the trixie 6.12 tree: after one
/// module is replaced, `depmod -a` reads that module again and takes every
/// other from the cache — a module overwritten in place behind the
/// cache's back (same size, inode and mtime) is not read — and its 11
/// outputs are byte-identical to kmod's on the changed tree. Without
/// `var/cache` no cache is written; an unwritable cache place, or a corrupt
/// cache, changes nothing in what depmod prints or writes.
#[test]
fn default_cache_rereads_only_the_changed_module() {
    if !runs(Tier::Reference) {
        return;
    }
    let orig = Tree::get("6.12");
    let scratch = scratch_dir("depmod-default-cache");
    let tree = copy_tree(&orig, &scratch.join("root"));
    let md = tree.moddir();
    let version = tree.version.clone();
    let args = {
        let mut a = base_args(&tree);
        a.push(version.clone().into());
        a
    };
    let outputs = |out: &Path| read_tree_files(&out.join("lib/modules").join(&version));
    let ours_out = scratch.join("out-modkit");
    std::fs::create_dir_all(ours_out.join("var/cache")).unwrap();
    let cache = ours_out.join("var/cache/modkit/depmod").join(&version);
    let kmod_run = |tag: &str| {
        let out = scratch.join(format!("out-kmod-{tag}"));
        let r = run_depmod(false, &out, &args);
        assert!(r.status.success(), "kmod depmod failed: {r:?}");
        (r, outputs(&out))
    };
    let ours_run = |extra: &[&str]| {
        let mut a: Vec<OsString> = extra.iter().map(OsString::from).collect();
        a.extend(args.iter().cloned());
        let started = std::time::Instant::now();
        let r = run_depmod(true, &ours_out, &a);
        (r, outputs(&ours_out), started.elapsed())
    };
    type Files = std::collections::BTreeMap<String, Vec<u8>>;
    let same = |what: &str, ours: &(Output, Files, std::time::Duration), kmod: &(Output, Files)| {
        let (o, fo, _) = ours;
        let (k, fk) = kmod;
        assert_eq!(o.status.code(), k.status.code(), "{what}: exit status");
        assert_eq!(
            String::from_utf8_lossy(&o.stderr),
            String::from_utf8_lossy(&k.stderr),
            "{what}: stderr"
        );
        assert_eq!(fo.len(), 11, "{what}: not the 11 outputs");
        let differing: Vec<&String> = fo
            .iter()
            .filter(|(name, bytes)| fk.get(*name) != Some(*bytes))
            .map(|(name, _)| name)
            .collect();
        assert!(
            differing.is_empty() && fo.len() == fk.len(),
            "{what}: outputs differ from kmod's: {differing:?}"
        );
    };
    // The module to overwrite behind the cache's back gets its own inode
    // first (the copy's files are hard links to the shared tree).
    let hidden = md.join("kernel/drivers/net/dummy.ko.xz");
    let bytes = std::fs::read(&hidden).unwrap();
    std::fs::remove_file(&hidden).unwrap();
    std::fs::write(&hidden, &bytes).unwrap();

    let cold = ours_run(&[]);
    same("cold", &cold, &kmod_run("cold"));
    assert!(cache.is_file(), "no cache at {}", cache.display());

    // One module replaced (another module's bytes under its name, a new
    // inode): what DKMS does.
    let changed = md.join("kernel/drivers/net/veth.ko.xz");
    std::fs::remove_file(&changed).unwrap();
    std::fs::copy(md.join("kernel/drivers/net/macvlan.ko.xz"), &changed).unwrap();
    let kmod_changed = kmod_run("changed");
    // dummy's bytes zeroed in place, its size and mtime kept: read again,
    // it would be "not an ELF module" and change the outputs.
    let mtime = std::fs::metadata(&hidden).unwrap().modified().unwrap();
    {
        use std::io::Write;
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .open(&hidden)
            .unwrap();
        f.write_all(&vec![0u8; bytes.len()]).unwrap();
        f.set_modified(mtime).unwrap();
    }
    let warm = ours_run(&[]);
    same("warm, one module changed", &warm, &kmod_changed);
    // The zeroed module does change the outputs when it is read: the check
    // above could fail.
    let uncached = ours_run(&["--no-cache"]);
    let (_, files, _) = &uncached;
    assert_ne!(
        files, &kmod_changed.1,
        "--no-cache read the zeroed module and still matched: the test proves nothing"
    );
    eprintln!(
        "depmod -a after one module changed: modkit {:?} with the default cache, {:?} cold",
        warm.2, cold.2
    );
    // dummy back as it was (a new mtime: read again on the next run)
    std::fs::write(&hidden, &bytes).unwrap();

    // A corrupt cache is ignored and rewritten.
    let mut c = std::fs::read(&cache).unwrap();
    let mid = c.len() / 2;
    c[mid] ^= 0x55;
    std::fs::write(&cache, &c).unwrap();
    let kmod_now = kmod_run("restored");
    same("corrupt cache", &ours_run(&[]), &kmod_now);
    assert_ne!(
        std::fs::read(&cache).unwrap(),
        c,
        "the corrupt cache was not rewritten"
    );
    same("after the rewrite", &ours_run(&[]), &kmod_now);

    // An unwritable cache place: silently no cache.
    std::fs::remove_dir_all(ours_out.join("var/cache/modkit")).unwrap();
    std::fs::write(ours_out.join("var/cache/modkit"), b"not a directory").unwrap();
    same("unwritable cache place", &ours_run(&[]), &kmod_now);

    // No var/cache under the output root: nothing but the indexes written.
    let bare = scratch.join("out-bare");
    let r = run_depmod(true, &bare, &args);
    assert!(r.status.success());
    let top: Vec<String> = std::fs::read_dir(&bare)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(
        top,
        ["lib"],
        "depmod wrote outside lib/ of a bare output root"
    );
}
