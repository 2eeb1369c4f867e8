//! `modkit check` and `modkit symbols` on Debian's module trees with their
//! headers' `Module.symvers`, against the files themselves and kmod 34.2's
//! `modprobe --dump-modversions` (the reference reader of `__versions`):
//!
//! - every module of each tree checks clean against its own kernel, in one
//!   process; kmod's CRCs of a sample of them agree with `Module.symvers`
//!   (so "clean" is the right answer), and the time is printed beside
//!   kmod's per-module loop;
//! - a 6.1 module checked against 6.12 is refused with a vermagic finding
//!   and exactly the CRC findings kmod's CRCs and 6.12's `Module.symvers`
//!   imply;
//! - `symbols` lists every `Module.symvers` line and every
//!   `modules.symbols` alias as they say; `--needed-by` covers kmod's
//!   `__versions` list; `--users` agrees with kmod's lists.

mod common;

use common::*;
use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::time::Instant;

struct Symvers(HashMap<String, (String, String, String, String)>);

/// The test's own reading of `Module.symvers` (5-column form):
/// name → (crc, module basename, export type, namespace).
fn symvers(tree: &str) -> (PathBuf, Symvers) {
    let path = cache_dir()
        .join("trees")
        .join(format!("{tree}-headers/Module.symvers"));
    let text = std::fs::read_to_string(&path).unwrap();
    let mut map = HashMap::new();
    for line in text.lines() {
        let c: Vec<&str> = line.split('\t').collect();
        assert_eq!(c.len(), 5, "{line}");
        let module = c[2].rsplit('/').next().unwrap().replace('-', "_");
        map.insert(
            c[1].to_string(),
            (c[0].to_string(), module, c[3].to_string(), c[4].to_string()),
        );
    }
    (path, Symvers(map))
}

/// kmod's `--dump-modversions`: (crc as 0x%08x, symbol) per `__versions` entry.
fn kmod_versions(path: &std::path::Path) -> Vec<(String, String)> {
    let out = run_ref(
        "modprobe",
        [std::ffi::OsStr::new("--dump-modversions"), path.as_os_str()],
    );
    assert!(
        out.status.success(),
        "kmod --dump-modversions {}",
        path.display()
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| {
            let (crc, name) = l.split_once('\t').unwrap();
            (crc.to_string(), name.to_string())
        })
        .collect()
}

fn tree_args(tree: &Tree, symvers: &std::path::Path) -> Vec<String> {
    vec![
        "-b".into(),
        tree.root.to_string_lossy().into_owned(),
        "-k".into(),
        tree.version.clone(),
        "-s".into(),
        symvers.to_string_lossy().into_owned(),
    ]
}

fn whole_tree_checks_clean(name: &str) {
    if !runs(Tier::Reference) {
        return;
    }
    let tree = Tree::get(name);
    let (sv_path, sv) = symvers(name);
    let files = tree.module_files();
    let mut args = tree_args(&tree, &sv_path);
    args.push("-q".into());
    args.extend(files.iter().map(|f| f.to_string_lossy().into_owned()));
    let start = Instant::now();
    let out = run_modkit("check", &args);
    let ours = start.elapsed();
    assert!(
        out.status.success() && out.stdout.is_empty(),
        "{name}: modules refused by their own kernel:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    // The same answer from kmod's reading of __versions, on every 25th module.
    let start = Instant::now();
    let sample: Vec<&PathBuf> = files.iter().step_by(25).collect();
    let mut compared = 0;
    for f in &sample {
        for (crc, sym) in kmod_versions(f) {
            if let Some((theirs, ..)) = sv.0.get(&sym) {
                assert_eq!(&crc, theirs, "{}: {sym}", f.display());
                compared += 1;
            }
        }
    }
    let kmod = start.elapsed();
    assert!(compared > 1000, "only {compared} CRCs compared");
    eprintln!(
        "{name}: check of {} modules in one process: {:.2} s; kmod --dump-modversions loop over {} of them: {:.2} s (~{:.1} s for all)",
        files.len(),
        ours.as_secs_f64(),
        sample.len(),
        kmod.as_secs_f64(),
        kmod.as_secs_f64() * files.len() as f64 / sample.len() as f64
    );
    // Without -q every module says "loads", one line each at the end.
    let out = run_modkit("check", {
        let mut a = tree_args(&tree, &sv_path);
        a.extend(sample.iter().map(|f| f.to_string_lossy().into_owned()));
        a
    });
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        text.lines().filter(|l| l.ends_with(": loads")).count(),
        sample.len(),
        "{text}"
    );
}

#[test]
fn every_module_of_6_1_checks_clean_against_6_1() {
    whole_tree_checks_clean("6.1");
}

#[test]
fn every_module_of_6_12_checks_clean_against_6_12() {
    whole_tree_checks_clean("6.12-bpo");
}

#[test]
fn a_6_1_module_against_6_12_is_refused_for_vermagic_and_crcs() {
    if !runs(Tier::Reference) {
        return;
    }
    let old = Tree::get("6.1");
    let new = Tree::get("6.12-bpo");
    let (sv_path, sv) = symvers("6.12-bpo");
    let module = old.moddir().join("kernel/fs/fat/fat.ko");
    let out = run_modkit("check", {
        let mut a = tree_args(&new, &sv_path);
        a.push(module.to_string_lossy().into_owned());
        a
    });
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(
        text.lines().any(
            |l| l.starts_with("fat: warning vermagic: built for '6.1.0-")
                && l.contains(&new.version)
        ),
        "{text}"
    );
    // Exactly the symbols whose CRC kmod reads differs from 6.12's.
    let expected: HashSet<String> = kmod_versions(&module)
        .into_iter()
        .filter(|(crc, sym)| sv.0.get(sym).is_some_and(|(c, ..)| c != crc))
        .map(|(_, sym)| sym)
        .collect();
    let found: HashSet<String> = text
        .lines()
        .filter_map(|l| l.strip_prefix("fat: error crc: "))
        .map(|l| l.split(':').next().unwrap().to_string())
        .collect();
    assert!(expected.contains("module_layout"), "{expected:?}");
    assert_eq!(found, expected, "{text}");
    assert!(text.ends_with("fat: refused\n"), "{text}");
    // --json says the same.
    let out = run_modkit("check", {
        let mut a = tree_args(&new, &sv_path);
        a.extend(["--json".into(), module.to_string_lossy().into_owned()]);
        a
    });
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v[0]["loads"], false);
    let crcs = v[0]["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["kind"] == "crc" && f["severity"] == "error")
        .count();
    assert_eq!(crcs, expected.len());
}

fn symbols_agree(name: &str) {
    if !runs(Tier::Reference) {
        return;
    }
    let tree = Tree::get(name);
    let (sv_path, sv) = symvers(name);
    let out = run_modkit("symbols", tree_args(&tree, &sv_path));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    let mut listed: HashMap<&str, Vec<&str>> = HashMap::new();
    for l in text.lines() {
        let c: Vec<&str> = l.split('\t').collect();
        assert_eq!(c.len(), 5, "{l}");
        assert!(listed.insert(c[0], c).is_none(), "{l} listed twice");
    }
    for (sym, (crc, module, kind, ns)) in &sv.0 {
        let row = listed
            .get(sym.as_str())
            .unwrap_or_else(|| panic!("{sym} missing"));
        assert_eq!(
            (row[1], row[2], row[3], row[4]),
            (module.as_str(), crc.as_str(), kind.as_str(), ns.as_str()),
            "{sym}"
        );
    }
    let aliases = std::fs::read_to_string(tree.moddir().join("modules.symbols")).unwrap();
    let mut n = 0;
    for l in aliases.lines().filter(|l| l.starts_with("alias symbol:")) {
        let mut f = l.split_whitespace().skip(1);
        let sym = f.next().unwrap().strip_prefix("symbol:").unwrap();
        let module = f.next().unwrap();
        assert_eq!(listed.get(sym).map(|r| r[1]), Some(module), "{l}");
        n += 1;
    }
    assert!(n > 1000 && listed.len() >= sv.0.len());

    // --needed-by: every __versions entry kmod reads, with its provider.
    let module = tree.moddir().join("kernel/fs/fat/vfat.ko");
    let module = if module.exists() {
        module
    } else {
        tree.moddir().join("kernel/fs/fat/vfat.ko.xz")
    };
    let out = run_modkit("symbols", {
        let mut a = tree_args(&tree, &sv_path);
        a.extend(["--needed-by".into(), module.to_string_lossy().into_owned()]);
        a
    });
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    let rows: HashMap<&str, &str> = text
        .lines()
        .map(|l| {
            let mut c = l.split('\t');
            (c.next().unwrap(), c.next().unwrap())
        })
        .collect();
    for (_, sym) in kmod_versions(&module) {
        let want = sv.0.get(&sym).map(|e| e.1.as_str()).unwrap();
        assert_eq!(
            rows.get(sym.as_str()).copied(),
            Some(want),
            "vfat needs {sym}"
        );
    }
    assert_eq!(rows.get("fat_attach").copied(), Some("fat"));

    // --users of a symbol of fat: the modules depending on fat that list it.
    let out = run_modkit("symbols", {
        let mut a = tree_args(&tree, &sv_path);
        a.extend(["--users".into(), "fat_fill_super".into()]);
        a
    });
    let users: Vec<String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_string)
        .collect();
    let dep = std::fs::read_to_string(tree.moddir().join("modules.dep")).unwrap();
    let mut expected = Vec::new();
    for l in dep.lines() {
        let (m, deps) = l.split_once(':').unwrap();
        if !deps.contains("/fat.ko") {
            continue;
        }
        let path = tree.moddir().join(m);
        if kmod_versions(&path)
            .iter()
            .any(|(_, s)| s == "fat_fill_super")
        {
            let base = m.rsplit('/').next().unwrap();
            expected.push(base.split(".ko").next().unwrap().replace('-', "_"));
        }
    }
    expected.sort();
    assert!(!expected.is_empty());
    assert_eq!(users, expected);
}

#[test]
fn symbols_of_6_1_agree_with_module_symvers_and_modules_symbols() {
    symbols_agree("6.1");
}

#[test]
fn symbols_of_6_12_agree_with_module_symvers_and_modules_symbols() {
    symbols_agree("6.12-bpo");
}

#[test]
fn namespaced_and_gpl_only_exports_of_module_files() {
    if !runs(Tier::Reference) {
        return;
    }
    // Without Module.symvers the module files' own tables must say what
    // Module.symvers says: GPL-only and the namespace of idxd_bus's exports.
    let tree = Tree::get("6.1");
    let (_, sv) = symvers("6.1");
    let empty = ScratchDir::new("symvers-empty");
    let none = empty.join("Module.symvers");
    std::fs::write(&none, "").unwrap();
    let out = run_modkit("symbols", {
        let mut a = tree_args(&tree, &none);
        a.push("*idxd*".into());
        a
    });
    let text = String::from_utf8_lossy(&out.stdout);
    let mut n = 0;
    for l in text.lines() {
        let c: Vec<&str> = l.split('\t').collect();
        let (crc, module, kind, ns) = sv.0.get(c[0]).unwrap();
        assert_eq!(
            (c[1], c[2], c[3], c[4]),
            (module.as_str(), crc.as_str(), kind.as_str(), ns.as_str()),
            "{l}"
        );
        n += 1;
    }
    assert!(n >= 4, "{text}");
}

#[test]
fn array_parameter_capacities_are_the_kernel_configs() {
    if !runs(Tier::Reference) {
        return;
    }
    // snd-hda-intel's arrays hold SNDRV_CARDS = CONFIG_SND_MAX_CARDS elements.
    let tree = Tree::get("6.1");
    let config =
        std::fs::read_to_string(tree.root.join(format!("boot/config-{}", tree.version))).unwrap();
    let cards: u32 = config
        .lines()
        .find_map(|l| l.strip_prefix("CONFIG_SND_MAX_CARDS="))
        .unwrap()
        .parse()
        .unwrap();
    let path = tree.moddir().join("kernel/sound/pci/hda/snd-hda-intel.ko");
    let m = modkit::module::Module::open(&path).unwrap();
    let arrays: Vec<String> = m
        .info()
        .unwrap()
        .iter()
        .filter(|e| e.key_str() == "parmtype")
        .filter_map(|e| {
            let v = e.value_lossy();
            let (name, ty) = v.split_once(':')?;
            ty.starts_with("array of ").then(|| name.to_string())
        })
        .collect();
    assert!(arrays.len() >= 10, "{arrays:?}");
    let mut caps = m.elf().unwrap().param_array_capacities();
    caps.sort();
    let mut want: Vec<(String, u32)> = arrays.into_iter().map(|n| (n, cards)).collect();
    want.sort();
    assert_eq!(caps, want);
}
