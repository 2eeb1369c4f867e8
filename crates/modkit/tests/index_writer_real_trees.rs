//! The index writer against kmod: for each real Debian module tree, rebuild
//! `modules.dep.bin`, `modules.alias.bin`, `modules.symbols.bin`,
//! `modules.builtin.bin` and `modules.builtin.alias.bin` from the text files
//! kmod's depmod wrote next to them, inserting what depmod inserts, and
//! compare the bytes with depmod's own `.bin` files.
//!
//! What depmod 34.2 inserts (`output_*_bin` in `tools/depmod.c`):
//!
//! - `modules.dep.bin`: per module, key = module name, value = its
//!   `modules.dep` line (without the newline), priority = the module's
//!   index in depmod's sorted module array. `modules.dep` is written in that
//!   same order, so the priority is the line number (from 0).
//! - `modules.alias.bin`: per module in that order, per alias in modinfo
//!   order (the order of `modules.alias`), key = `alias_normalize(alias)`
//!   (dashes to underscores outside `[...]`; aliases with an unmatched
//!   bracket are skipped), value = module name, priority = the module's
//!   index (its line in `modules.dep`).
//! - `modules.symbols.bin`: per exported symbol with an owner, key =
//!   `symbol:NAME`, value = owner module name, priority = owner's index.
//!   Symbols are unique keys, so depmod's hash-table order does not matter.
//! - `modules.builtin.bin`: per `modules.builtin` line starting with a
//!   letter, key = `path_to_modname(line)`, value = `""`, priority 0.
//! - `modules.builtin.alias.bin`: per `MOD.alias=VALUE` string of
//!   `modules.builtin.modinfo`, key = `alias_normalize(VALUE)`, value =
//!   `MOD`, priority 0 (read with depmod's stream quirks, see
//!   [`builtin_aliases`]).
//!
//! The reference tier (`modkit_testkit`): needs the cache of
//! `scripts/refs.sh`. Plain `cargo test` skips the comparison, with a line
//! saying so, when it is missing; with `MODKIT_TEST_TIERS` requiring the
//! tier, it fails instead.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use modkit::index::IndexBuilder;
use modkit_testkit::{runs, Tier};

const TREES: [&str; 3] = ["6.1", "6.12", "6.12-bpo"];

/// PATH_MAX: depmod's buffers for names and aliases.
const PATH_MAX: usize = 4096;

fn cache() -> PathBuf {
    modkit_testkit::cache_dir()
}

fn missing(what: &Path) -> ! {
    panic!(
        "{} is missing: run scripts/refs.sh to fetch the reference tools and module trees",
        what.display()
    )
}

/// The module directory of a reference tree.
fn tree_dir(name: &str) -> PathBuf {
    let root = cache().join("trees").join(name);
    let version_file = root.join(".version");
    let version = match std::fs::read_to_string(&version_file) {
        Ok(v) => v.trim().to_string(),
        Err(_) => missing(&version_file),
    };
    root.join("lib/modules").join(version)
}

fn read(dir: &Path, name: &str) -> Vec<u8> {
    let p = dir.join(name);
    std::fs::read(&p).unwrap_or_else(|_| missing(&p))
}

fn read_text(dir: &Path, name: &str) -> String {
    String::from_utf8(read(dir, name)).unwrap_or_else(|_| panic!("{name}: not UTF-8"))
}

/// kmod's `modname_normalize`: up to the first `.` (at most PATH_MAX - 1
/// bytes), dashes to underscores.
fn modname_normalize(name: &str) -> String {
    name.bytes()
        .take(PATH_MAX - 1)
        .take_while(|&b| b != b'.')
        .map(|b| if b == b'-' { '_' } else { b as char })
        .collect()
}

/// kmod's `path_to_modname`: `modname_normalize` of the basename.
fn path_to_modname(path: &str) -> String {
    modname_normalize(path.rsplit('/').next().unwrap_or(path))
}

/// kmod's `alias_normalize`: dashes to underscores outside `[...]`; `None`
/// for an unmatched bracket (depmod skips the alias); cut at PATH_MAX - 1.
fn alias_normalize(alias: &str) -> Option<String> {
    let b = alias.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < PATH_MAX - 1 && i < b.len() {
        match b[i] {
            b'-' => out.push(b'_'),
            b']' => return None,
            b'[' => {
                while i < b.len() && b[i] != b']' {
                    out.push(b[i]);
                    i += 1;
                }
                if i == b.len() {
                    return None;
                }
                out.push(b']');
            }
            c => out.push(c),
        }
        i += 1;
    }
    Some(String::from_utf8(out).unwrap())
}

/// `modules.dep` lines with each module's name; the line number is the
/// module's index (its priority in the other indexes).
fn modules(dir: &Path) -> Vec<(String, String)> {
    read_text(dir, "modules.dep")
        .lines()
        .map(|l| {
            let path = l.split(':').next().unwrap();
            (path_to_modname(path), l.to_string())
        })
        .collect()
}

/// `(key, value)` of the `alias KEY VALUE` lines of a text index.
fn alias_lines(text: &str) -> impl Iterator<Item = (&str, &str)> {
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .map(|l| {
            let rest = l.strip_prefix("alias ").expect("alias line");
            rest.rsplit_once(' ').expect("alias KEY MODULE")
        })
}

fn dep_bin(mods: &[(String, String)]) -> IndexBuilder {
    let mut b = IndexBuilder::new();
    for (i, (name, line)) in mods.iter().enumerate() {
        b.try_insert(name, line, i as u32).unwrap();
    }
    b
}

fn alias_bin(text: &str, prio: &HashMap<&str, u32>) -> IndexBuilder {
    let mut b = IndexBuilder::new();
    for (alias, module) in alias_lines(text) {
        if let Some(alias) = alias_normalize(alias) {
            b.try_insert(&alias, module, prio[module]).unwrap();
        }
    }
    b
}

fn symbols_bin(text: &str, prio: &HashMap<&str, u32>) -> IndexBuilder {
    let mut b = IndexBuilder::new();
    for (symbol, module) in alias_lines(text) {
        assert!(symbol.starts_with("symbol:"));
        b.try_insert(symbol, module, prio[module]).unwrap();
    }
    b
}

fn builtin_bin(text: &str) -> IndexBuilder {
    let mut b = IndexBuilder::new();
    // depmod reads with fgets: each line keeps its newline, which
    // path_to_modname keeps too unless a '.' comes first.
    for line in text.split_inclusive('\n') {
        if !line.as_bytes()[0].is_ascii_alphabetic() {
            continue;
        }
        b.try_insert(&path_to_modname(line), "", 0).unwrap();
    }
    b
}

/// depmod's `flush_stream_to`: bytes up to `end`, a NUL or end of data;
/// the length read when stopped by `end`, else 0.
fn stream_to<'a>(data: &'a [u8], pos: &mut usize, end: u8) -> &'a [u8] {
    let start = *pos;
    while *pos < data.len() && data[*pos] != end && data[*pos] != 0 && *pos - start < PATH_MAX {
        *pos += 1;
    }
    let stop = data.get(*pos).copied();
    let got = &data[start..*pos];
    if *pos < data.len() {
        *pos += 1; // the terminator was consumed by fgetc
    }
    assert!(got.len() < PATH_MAX, "overlong builtin modinfo field");
    if stop == Some(end) {
        got
    } else {
        &[]
    }
}

/// The `(alias, module)` pairs depmod's `output_builtin_alias_bin` inserts,
/// reading `modules.builtin.modinfo` as it does: a module name up to `.`,
/// a key up to `=`, and for `alias` keys the value up to the NUL. A string
/// of another key is skipped up to its NUL, so a string without `=` makes
/// depmod skip the following string too; that quirk is reproduced.
fn builtin_aliases(data: &[u8]) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut pos = 0;
    while pos < data.len() {
        let module = stream_to(data, &mut pos, b'.');
        if module.is_empty() {
            continue;
        }
        let key = stream_to(data, &mut pos, b'=');
        if key != b"alias" {
            // flush_stream: to the next NUL (or end).
            while pos < data.len() && data[pos] != 0 {
                pos += 1;
            }
            pos = (pos + 1).min(data.len());
            continue;
        }
        let value = stream_to(data, &mut pos, 0);
        if value.is_empty() {
            continue;
        }
        let value = std::str::from_utf8(value).unwrap();
        if let Some(alias) = alias_normalize(value) {
            out.push((alias, String::from_utf8(module.to_vec()).unwrap()));
        }
    }
    out
}

fn builtin_alias_bin(data: &[u8]) -> IndexBuilder {
    let mut b = IndexBuilder::new();
    for (alias, module) in builtin_aliases(data) {
        b.try_insert(&alias, &module, 0).unwrap();
    }
    b
}

/// Byte comparison with a useful message (first difference) on failure.
fn assert_same(tree: &str, file: &str, mine: &[u8], kmod: &[u8]) {
    if mine == kmod {
        return;
    }
    let at = mine
        .iter()
        .zip(kmod)
        .position(|(a, b)| a != b)
        .unwrap_or(mine.len().min(kmod.len()));
    panic!(
        "{tree}: {file} differs from kmod's: {} bytes vs {}, first difference at byte {at}",
        mine.len(),
        kmod.len()
    );
}

#[test]
fn rebuilt_indexes_are_byte_identical_to_kmods() {
    if !runs(Tier::Reference) {
        return;
    }
    for name in TREES {
        let dir = tree_dir(name);
        let mods = modules(&dir);
        assert!(mods.len() > 3000, "{name}: too few modules");
        let prio: HashMap<&str, u32> = mods
            .iter()
            .enumerate()
            .map(|(i, (m, _))| (m.as_str(), i as u32))
            .collect();

        let dep = dep_bin(&mods).to_bytes();
        assert_same(
            name,
            "modules.dep.bin",
            &dep,
            &read(&dir, "modules.dep.bin"),
        );

        let alias_text = read_text(&dir, "modules.alias");
        let started = Instant::now();
        let builder = alias_bin(&alias_text, &prio);
        let built = started.elapsed();
        let alias = builder.to_bytes();
        let took = started.elapsed();
        eprintln!(
            "{name}: modules.alias.bin ({} lines, {} bytes): built in {built:.2?}, \
             serialised in {:.2?}",
            alias_lines(&alias_text).count(),
            alias.len(),
            took - built
        );
        assert_same(
            name,
            "modules.alias.bin",
            &alias,
            &read(&dir, "modules.alias.bin"),
        );

        let symbols_text = read_text(&dir, "modules.symbols");
        let symbols = symbols_bin(&symbols_text, &prio).to_bytes();
        assert_same(
            name,
            "modules.symbols.bin",
            &symbols,
            &read(&dir, "modules.symbols.bin"),
        );

        let builtin = builtin_bin(&read_text(&dir, "modules.builtin")).to_bytes();
        assert_same(
            name,
            "modules.builtin.bin",
            &builtin,
            &read(&dir, "modules.builtin.bin"),
        );

        let modinfo = read(&dir, "modules.builtin.modinfo");
        let pairs = builtin_aliases(&modinfo);
        assert!(pairs.len() > 50, "{name}: too few builtin aliases");
        let builtin_alias = builtin_alias_bin(&modinfo).to_bytes();
        assert_same(
            name,
            "modules.builtin.alias.bin",
            &builtin_alias,
            &read(&dir, "modules.builtin.alias.bin"),
        );
    }
}

#[test]
fn normalisers_follow_kmod() {
    assert_eq!(
        alias_normalize("a-b[0-9]c-d").as_deref(),
        Some("a_b[0-9]c_d")
    );
    assert_eq!(alias_normalize("a[0-9"), None);
    assert_eq!(alias_normalize("a]"), None);
    assert_eq!(path_to_modname("kernel/x/snd-hda.ko.xz"), "snd_hda");
    assert_eq!(path_to_modname("kernel/x/noext\n"), "noext\n");
    let data = b"m.alias=x-y\0m.key\0m.alias=skipped\0n.alias=z\0";
    assert_eq!(
        builtin_aliases(data),
        [
            ("x_y".to_string(), "m".to_string()),
            ("z".into(), "n".into())
        ]
    );
}
