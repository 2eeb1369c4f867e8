//! Unit tests on synthetic inputs: kmod's hash order, dependency sort,
//! cycle reports, devname parsing, index priorities.

use std::cell::RefCell;
use std::os::unix::ffi::OsStrExt;

use super::deps::strtoull_hex;
use super::search::has_kmod_ext;
use super::*;
use crate::kmod::{fgets_chunks, kmod_hash, path_to_modname, sort_in_hash_order};

#[derive(Default)]
struct Recorder {
    logs: RefCell<Vec<(Level, String)>>,
}

impl Logger for Recorder {
    fn log(&self, level: Level, _func: &str, msg: &[u8]) {
        self.logs
            .borrow_mut()
            .push((level, String::from_utf8_lossy(msg).into_owned()));
    }
}

fn module(name: &str, deps: &[usize]) -> Mod {
    Mod {
        path: format!("/m/{name}.ko").into_bytes(),
        rel: Some(3),
        uncrelpath: None,
        baselen: 2,
        modname: name.as_bytes().to_vec(),
        sort_idx: 1,
        dep_sort_idx: i64::from(i32::MAX),
        idx: 0,
        users: 0,
        deps: deps.to_vec(),
        aliases: Vec::new(),
        softdeps: Vec::new(),
        weakdeps: Vec::new(),
        dep_syms: Vec::new(),
        visited: false,
    }
}

/// Runs the dependency sort on modules given as (name, direct deps).
fn sort(graph: &[(&str, &[usize])]) -> (bool, Vec<i64>, Vec<Vec<usize>>, Vec<String>) {
    let opts = Options::default();
    let rec = Recorder::default();
    let mut out = Vec::new();
    let mut d = Depmod {
        log: Log {
            logger: &rec,
            out: &mut out,
            verbose: DEFAULT_VERBOSE,
        },
        cfg: Config::default(),
        opts: &opts,
        dirname: b"/m".to_vec(),
        outdirname: Vec::new(),
        by_name: Default::default(),
        uncrel: Default::default(),
        mods: graph.iter().map(|(n, deps)| module(n, deps)).collect(),
        symbols: Default::default(),
        context: None,
        outputs: DepmodOutputs::default(),
    };
    for i in 0..d.mods.len() {
        d.mods[i].idx = i;
        for k in 0..d.mods[i].deps.len() {
            let t = d.mods[i].deps[k];
            d.mods[t].users += 1;
        }
    }
    let ok = d.calculate_dependencies().unwrap();
    let order = d.mods.iter().map(|m| m.dep_sort_idx).collect();
    let deps = d.mods.iter().map(|m| m.deps.clone()).collect();
    drop(d);
    let logs = rec.logs.into_inner().into_iter().map(|(_, m)| m).collect();
    (ok, order, deps, logs)
}

#[test]
fn kmod_hash_values() {
    // Reference values computed with kmod's hash_superfast.
    assert_eq!(kmod_hash(b""), 0);
    let a = kmod_hash(b"dummy");
    let b = kmod_hash(b"dummy");
    assert_eq!(a, b);
    assert_ne!(kmod_hash(b"abc"), kmod_hash(b"abd"));
    // Lengths 1..=4 take every tail path.
    let hs: Vec<u32> = ["a", "ab", "abc", "abcd", "abcde"]
        .iter()
        .map(|s| kmod_hash(s.as_bytes()))
        .collect();
    let mut uniq = hs.clone();
    uniq.dedup();
    assert_eq!(uniq.len(), hs.len());
}

#[test]
fn hash_order_is_bucket_then_bytes() {
    let mut names: Vec<Vec<u8>> = ["zeta", "alpha", "mid", "beta", "a", "b"]
        .iter()
        .map(|s| s.as_bytes().to_vec())
        .collect();
    sort_in_hash_order(&mut names, 4, |n| n);
    for w in names.windows(2) {
        let (x, y) = (kmod_hash(&w[0]) & 3, kmod_hash(&w[1]) & 3);
        assert!(x < y || (x == y && w[0] < w[1]));
    }
}

#[test]
fn topological_order_like_kmod() {
    // 0 -> 1 -> 2, 0 -> 2, 3 alone.
    let (ok, order, deps, logs) = sort(&[("a", &[2, 1]), ("b", &[2]), ("c", &[]), ("d", &[])]);
    assert!(ok);
    assert!(logs.is_empty());
    // Roots [a, d] are popped from the end: d first.
    assert_eq!(order, [1, 2, 3, 0]);
    // Direct dependencies sorted by their place in the order.
    assert_eq!(deps[0], [1, 2]);
}

#[test]
fn cycles_are_reported_like_kmod() {
    // a -> b -> c -> a, and d -> a.
    let (ok, _, _, logs) = sort(&[("a", &[1]), ("b", &[2]), ("c", &[0]), ("d", &[0])]);
    assert!(!ok);
    assert_eq!(
        logs,
        [
            "Cycle detected: a -> b -> c -> a\n",
            "Found 3 modules in dependency cycles!\n"
        ]
    );
    // A self-dependency.
    let (ok, _, _, logs) = sort(&[("x", &[0])]);
    assert!(!ok);
    assert_eq!(
        logs,
        [
            "Cycle detected: x -> x\n",
            "Found 1 modules in dependency cycles!\n"
        ]
    );
}

#[test]
fn devname_numbers_scan_like_sscanf() {
    assert_eq!(output::scan_u32(b"10-229"), Some((10, &b"-229"[..])));
    assert_eq!(output::scan_u32(b" +7"), Some((7, &b""[..])));
    assert_eq!(output::scan_u32(b"-1"), Some((u32::MAX, &b""[..])));
    assert_eq!(
        output::scan_u32(b"99999999999999999999"),
        Some((u32::MAX, &b""[..]))
    );
    assert_eq!(output::scan_u32(b"x"), None);
}

#[test]
fn alias_normalization() {
    assert_eq!(
        output::alias_normalize(b"pci:v-[0-9]-x").unwrap(),
        b"pci:v_[0-9]_x"
    );
    assert!(output::alias_normalize(b"a]").is_none());
    assert!(output::alias_normalize(b"a[b").is_none());
}

#[test]
fn trie_matches_reader() {
    let mut t = crate::index::IndexBuilder::new();
    assert!(t.insert("abc", "1", 5));
    assert!(t.insert("abd", "2", 1));
    assert!(t.insert("ab", "3", 0));
    assert!(!t.insert("abc", "1", 2));
    let idx = crate::index::Index::from_bytes(t.to_bytes()).unwrap();
    assert_eq!(idx.lookup("abd").unwrap().as_deref(), Some("2"));
    assert_eq!(idx.lookup("ab").unwrap().as_deref(), Some("3"));
    let all = idx.lookup_all("abc").unwrap();
    assert_eq!(all.iter().map(|v| v.priority).collect::<Vec<_>>(), [2, 5]);
}

#[test]
fn fgets_splits_like_c() {
    assert_eq!(fgets_chunks(b"ab\ncd", 10), [&b"ab\n"[..], b"cd"]);
    assert_eq!(fgets_chunks(b"abcdef\n", 4), [&b"abc"[..], b"def", b"\n"]);
    assert_eq!(fgets_chunks(b"a\0b\n", 10), [&b"a"[..]]);
}

#[test]
fn modnames() {
    assert_eq!(path_to_modname(b"/x/snd-hda.ko.xz").unwrap(), b"snd_hda");
    assert!(path_to_modname(b"/x/").is_none());
    assert!(has_kmod_ext(b"a.ko.zst"));
    assert!(!has_kmod_ext(b"a.ko.gz"));
    assert!(!has_kmod_ext(b".ko"));
}

#[test]
fn symvers_crcs_parse_like_strtoull() {
    assert_eq!(strtoull_hex(b"0x1234abcd"), Some(0x1234_abcd));
    assert_eq!(strtoull_hex(b"ff"), Some(0xff));
    assert_eq!(strtoull_hex(b"0x"), None);
    assert_eq!(strtoull_hex(b"zz"), None);
    assert_eq!(strtoull_hex(b"12g"), None);
    assert_eq!(strtoull_hex(b"-1"), Some(u64::MAX));
    assert_eq!(strtoull_hex(b"0x1ffffffffffffffff"), Some(u64::MAX));
}

#[test]
fn run_says_what_it_did() {
    let rec = Recorder::default();
    let mut out = Vec::new();
    // -A -n: nothing to do
    let opts = Options {
        quick: true,
        dry_run: true,
        kversion: b"1.0".to_vec(),
        ..Options::default()
    };
    let done = run(&opts, &rec, &mut out).unwrap();
    assert!(done.up_to_date && done.written.is_empty() && done.printed.is_empty());
    // a directory name over PATH_MAX: an ERROR, then status 1
    let opts = Options {
        kversion: vec![b'x'; PATH_MAX],
        ..Options::default()
    };
    assert_eq!(
        run(&opts, &rec, &mut out),
        Err(DepmodError::Failed(DepmodOutputs::default()))
    );
    let logs = rec.logs.take();
    assert_eq!(logs.len(), 1);
    assert_eq!(logs[0].0, Level::Err);
    assert!(logs[0].1.starts_with("Bad directory /lib/modules/xxx"));
    // -n over an empty module directory: the indexes go to `out`
    let root = std::env::temp_dir().join(format!("modkit-depmod-run-{}", std::process::id()));
    let moddir = root.join("lib/modules/1.0");
    std::fs::create_dir_all(&moddir).unwrap();
    let opts = Options {
        root: root.as_os_str().as_bytes().to_vec(),
        kversion: b"1.0".to_vec(),
        dry_run: true,
        config_paths: Some(Vec::new()),
        ..Options::default()
    };
    let done = run(&opts, &rec, &mut out);
    let _ = std::fs::remove_dir_all(&root);
    let done = done.unwrap();
    assert!(done.written.is_empty() && !done.up_to_date);
    assert_eq!(done.printed[..2], ["modules.dep", "modules.dep.bin"]);
    // no module: modules.dep is empty and, as in kmod, `-n` prints no
    // binary index; modules.alias comes first with its header
    assert!(
        out.starts_with(b"# Aliases extracted from modules themselves.\n"),
        "{}",
        String::from_utf8_lossy(&out)
    );
}
