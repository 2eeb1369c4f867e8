//! Differential tests of the index reader against real Debian module trees
//! and the indexes kmod's depmod generated for them.
//!
//! The reference tier (`modkit_testkit`): needs the cache of
//! `scripts/refs.sh`. Plain `cargo test` skips these tests, one line each,
//! when it is missing; with `MODKIT_TEST_TIERS` requiring the tier, they
//! fail instead.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use modkit::index::{Index, IndexValue};
use modkit_testkit::{runs, Tier};

const TREES: [&str; 3] = ["6.1", "6.12", "6.12-bpo"];

fn cache() -> PathBuf {
    modkit_testkit::cache_dir()
}

fn missing(what: &Path) -> ! {
    panic!(
        "{} is missing: run scripts/refs.sh to fetch the reference tools and module trees",
        what.display()
    )
}

struct Tree {
    root: PathBuf,
    version: String,
    dir: PathBuf,
}

fn tree(name: &str) -> Tree {
    let root = cache().join("trees").join(name);
    let version_file = root.join(".version");
    let version = match std::fs::read_to_string(&version_file) {
        Ok(v) => v.trim().to_string(),
        Err(_) => missing(&version_file),
    };
    let dir = root.join("lib/modules").join(&version);
    if !dir.join("modules.dep.bin").is_file() {
        missing(&dir.join("modules.dep.bin"));
    }
    Tree { root, version, dir }
}

fn modprobe() -> PathBuf {
    let p = cache().join("ref/bin/modprobe");
    if !p.is_file() {
        missing(&p);
    }
    p
}

fn open(t: &Tree, name: &str) -> Index {
    Index::open(t.dir.join(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn read_text(t: &Tree, name: &str) -> String {
    let p = t.dir.join(name);
    std::fs::read_to_string(&p).unwrap_or_else(|_| missing(&p))
}

fn dump(idx: &Index) -> Vec<(String, IndexValue)> {
    idx.iter().expect("iter")
}

/// kmod's modname_normalize applied to a path: basename up to the first
/// '.', dashes to underscores.
fn modname(path: &str) -> String {
    let base = path.rsplit('/').next().unwrap();
    base.split('.').next().unwrap().replace('-', "_")
}

/// kmod's alias_normalize: dashes to underscores outside `[...]`.
fn alias_normalize(alias: &str) -> String {
    let mut out = String::new();
    let mut in_bracket = false;
    for c in alias.chars() {
        match c {
            '[' => in_bracket = true,
            ']' => in_bracket = false,
            _ => {}
        }
        out.push(if c == '-' && !in_bracket { '_' } else { c });
    }
    out
}

fn sorted_pairs(d: &[(String, IndexValue)]) -> Vec<(String, String)> {
    let mut v: Vec<(String, String)> = d
        .iter()
        .map(|(k, v)| (k.clone(), v.value.clone()))
        .collect();
    v.sort();
    v
}

fn sorted(mut v: Vec<(String, String)>) -> Vec<(String, String)> {
    v.sort();
    v
}

/// Every key of a dump: `lookup` gives its first value, `lookup_all` all
/// of them in dump order.
fn check_lookups(name: &str, idx: &Index, d: &[(String, IndexValue)]) {
    let mut by_key: BTreeMap<&str, Vec<&IndexValue>> = BTreeMap::new();
    for (k, v) in d {
        by_key.entry(k).or_default().push(v);
    }
    for (k, vals) in &by_key {
        assert_eq!(
            idx.lookup(k).unwrap().as_deref(),
            Some(vals[0].value.as_str()),
            "{name}: lookup({k})"
        );
        let all = idx.lookup_all(k).unwrap();
        assert_eq!(
            all.iter().collect::<Vec<_>>(),
            *vals,
            "{name}: lookup_all({k})"
        );
    }
}

#[test]
fn dump_order_matches_modprobe_show_config() {
    if !runs(Tier::Reference) {
        return;
    }
    for name in TREES {
        let t = tree(name);
        let out = Command::new(modprobe())
            .args(["-C", "/dev/null", "-c", "-S", &t.version, "-d"])
            .arg(&t.root)
            .output()
            .expect("run reference modprobe");
        assert!(out.status.success(), "modprobe -c failed");
        let text = String::from_utf8(out.stdout).unwrap();
        let marker = "# End of configuration files. Dumping indexes now:\n\n";
        let at = text.find(marker).expect("index dump marker") + marker.len();
        let mut mine = String::new();
        for file in ["modules.alias.bin", "modules.symbols.bin"] {
            for (k, v) in dump(&open(&t, file)) {
                mine.push_str(&format!("alias {k} {}\n", v.value));
            }
        }
        assert!(mine.len() > 100_000, "{name}: suspiciously small dump");
        assert!(
            text[at..] == mine,
            "{name}: dump differs from `modprobe -c`"
        );
    }
}

#[test]
fn dep_bin_matches_modules_dep() {
    if !runs(Tier::Reference) {
        return;
    }
    for name in TREES {
        let t = tree(name);
        let idx = open(&t, "modules.dep.bin");
        let d = dump(&idx);
        let text: Vec<(String, String)> = read_text(&t, "modules.dep")
            .lines()
            .map(|l| (modname(l.split(':').next().unwrap()), l.to_string()))
            .collect();
        assert!(text.len() > 3000);
        assert_eq!(sorted_pairs(&d), sorted(text), "{name}: modules.dep.bin");
        check_lookups(name, &idx, &d);
        assert_eq!(idx.lookup("no_such_module_xyz").unwrap(), None);
    }
}

#[test]
fn alias_and_symbol_bins_match_text() {
    if !runs(Tier::Reference) {
        return;
    }
    for name in TREES {
        let t = tree(name);
        for (bin, txt, normalize) in [
            ("modules.alias.bin", "modules.alias", true),
            ("modules.symbols.bin", "modules.symbols", false),
        ] {
            let idx = open(&t, bin);
            let d = dump(&idx);
            let text: Vec<(String, String)> = read_text(&t, txt)
                .lines()
                .filter(|l| !l.starts_with('#') && !l.is_empty())
                .map(|l| {
                    let mut f = l.split(' ');
                    assert_eq!(f.next(), Some("alias"));
                    let key = f.next().unwrap();
                    let key = if normalize {
                        alias_normalize(key)
                    } else {
                        key.to_string()
                    };
                    (key, f.next().unwrap().to_string())
                })
                .collect();
            assert!(text.len() > 10_000);
            assert_eq!(sorted_pairs(&d), sorted(text), "{name}: {bin}");
            check_lookups(name, &idx, &d);
        }
    }
}

#[test]
fn builtin_bins_match_text() {
    if !runs(Tier::Reference) {
        return;
    }
    for name in TREES {
        let t = tree(name);
        let idx = open(&t, "modules.builtin.bin");
        let d = dump(&idx);
        let text: Vec<(String, String)> = read_text(&t, "modules.builtin")
            .lines()
            .map(|l| (modname(l), String::new()))
            .collect();
        assert!(text.len() > 100);
        assert_eq!(
            sorted_pairs(&d),
            sorted(text),
            "{name}: modules.builtin.bin"
        );
        check_lookups(name, &idx, &d);

        let idx = open(&t, "modules.builtin.alias.bin");
        let d = dump(&idx);
        let p = t.dir.join("modules.builtin.modinfo");
        let modinfo = std::fs::read(&p).unwrap_or_else(|_| missing(&p));
        let text: Vec<(String, String)> = modinfo
            .split(|&b| b == 0)
            .filter_map(|e| {
                let e = std::str::from_utf8(e).ok()?;
                let (module, rest) = e.split_once('.')?;
                let alias = rest.strip_prefix("alias=")?;
                Some((alias_normalize(alias), module.to_string()))
            })
            .collect();
        assert!(text.len() > 50);
        assert_eq!(
            sorted_pairs(&d),
            sorted(text),
            "{name}: modules.builtin.alias.bin"
        );
        check_lookups(name, &idx, &d);
    }
}

/// A concrete string a stored alias pattern matches: `*` empty, `?` one
/// character, a bracket its first member.
fn instantiate(pattern: &str) -> String {
    let mut out = String::new();
    let mut chars = pattern.chars();
    while let Some(c) = chars.next() {
        match c {
            '*' => {}
            '?' => out.push('Z'),
            '[' => {
                let mut first = None;
                for c in chars.by_ref() {
                    if c == ']' {
                        break;
                    }
                    first.get_or_insert(c);
                }
                out.extend(first);
            }
            c => out.push(c),
        }
    }
    out
}

fn modprobe_resolve(t: &Tree, alias: &str) -> Vec<String> {
    let out = Command::new(modprobe())
        .args(["-C", "/dev/null", "-S", &t.version, "-d"])
        .arg(&t.root)
        .args(["-R", alias])
        .output()
        .expect("run reference modprobe");
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect()
}

#[test]
fn wildcard_search_matches_modprobe_resolve() {
    if !runs(Tier::Reference) {
        return;
    }
    for name in TREES {
        let t = tree(name);
        let dep = open(&t, "modules.dep.bin");
        let builtin = open(&t, "modules.builtin.bin");
        let alias = open(&t, "modules.alias.bin");
        let balias = open(&t, "modules.builtin.alias.bin");
        let patterns = dump(&alias);
        // Every 40th alias pattern plus every builtin alias.
        let mut samples: Vec<(String, bool)> = patterns
            .iter()
            .step_by(40)
            .map(|(k, _)| (instantiate(k), false))
            .collect();
        samples.extend(
            dump(&balias)
                .into_iter()
                .map(|(k, _)| (instantiate(&k), true)),
        );
        let mut checked = 0;
        for (key, is_builtin_alias) in samples {
            // modprobe tries module names and symbols before aliases.
            if key.is_empty()
                || key.starts_with("symbol:")
                || dep.lookup(&key).unwrap().is_some()
                || builtin.lookup(&key).unwrap().is_some()
            {
                continue;
            }
            let mut mine = alias.search_wildcard(&key).unwrap();
            if mine.is_empty() {
                assert!(is_builtin_alias, "{name}: {key} matched nothing");
                mine = balias.search_wildcard(&key).unwrap();
            }
            let mine: Vec<String> = mine.into_iter().map(|v| v.value).collect();
            assert_eq!(mine, modprobe_resolve(&t, &key), "{name}: -R {key}");
            checked += 1;
        }
        assert!(checked > 500, "{name}: only {checked} aliases checked");
    }
}

#[test]
fn wildcard_search_speed() {
    if !runs(Tier::Reference) {
        return;
    }
    let t = tree("6.12");
    let started = Instant::now();
    let alias = open(&t, "modules.alias.bin");
    let opened = started.elapsed();
    let keys: Vec<String> = dump(&alias)
        .iter()
        .step_by(5)
        .map(|(k, _)| instantiate(k))
        .take(3000)
        .collect();
    let started = Instant::now();
    let mut hits = 0;
    for k in &keys {
        hits += alias.search_wildcard(k).unwrap().len();
    }
    let elapsed = started.elapsed();
    let started = Instant::now();
    let all = alias.iter().unwrap().len();
    let dumped = started.elapsed();
    eprintln!(
        "modules.alias.bin: open {opened:?}; {} wildcard searches in {elapsed:?} ({:?} each, {hits} results); full dump of {all} entries in {dumped:?}",
        keys.len(),
        elapsed / keys.len() as u32
    );
    assert!(hits >= keys.len());
}
