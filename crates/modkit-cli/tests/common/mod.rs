//! Shared helpers for tests that compare modkit with the reference tools
//! (Debian trixie's kmod 34.2 and util-linux 2.41) on real Debian module
//! trees. `scripts/refs.sh` downloads both into a cache outside the
//! repository. A test that uses them is of the reference tier and starts
//! with `if !runs(Tier::Reference) { return; }` (see `modkit_testkit`):
//! skipped with a line saying why when the cache is missing, failing when
//! `MODKIT_TEST_TIERS` requires the tier.

#![allow(dead_code)]

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

#[allow(unused_imports)]
pub use modkit_testkit::{cache_dir, runs, skip, ScratchDir, Tier};

/// Makes sure the reference tools and module trees are present (the test
/// asked [`runs`] first; with `MODKIT_TEST_TIERS` requiring the tier,
/// they were fetched with `scripts/refs.sh`).
pub fn ensure_refs() {
    modkit_testkit::need(Tier::Reference);
}

/// A reference tool wrapper, e.g. `ref_tool("modinfo")`.
pub fn ref_tool(name: &str) -> PathBuf {
    ensure_refs();
    let p = cache_dir().join("ref/bin").join(name);
    assert!(p.exists(), "reference tool {} missing", p.display());
    p
}

/// A cached Debian module tree: its root (for `-b`) and kernel version.
pub struct Tree {
    pub root: PathBuf,
    pub version: String,
}

impl Tree {
    /// `6.1` (bookworm, plain .ko), `6.12` (trixie, .ko.xz) or `6.12-bpo`.
    pub fn get(name: &str) -> Tree {
        ensure_refs();
        let root = cache_dir().join("trees").join(name);
        let version = std::fs::read_to_string(root.join(".version"))
            .unwrap_or_else(|_| panic!("tree {name} missing from {}", root.display()))
            .trim()
            .to_string();
        Tree { root, version }
    }

    /// `ROOT/lib/modules/VERSION`.
    pub fn moddir(&self) -> PathBuf {
        self.root.join("lib/modules").join(&self.version)
    }

    /// Every module file of the tree, sorted.
    pub fn module_files(&self) -> Vec<PathBuf> {
        let mut out = Vec::new();
        walk(&self.moddir().join("kernel"), &mut out);
        out.sort();
        assert!(
            out.len() > 1000,
            "tree {} looks incomplete",
            self.root.display()
        );
        out
    }
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("read module dir") {
        let entry = entry.unwrap();
        let path = entry.path();
        if entry.file_type().unwrap().is_dir() {
            walk(&path, out);
        } else if path.to_string_lossy().contains(".ko") {
            out.push(path);
        }
    }
}

/// The modkit binary under test.
pub fn modkit() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_modkit"))
}

/// Runs `modkit TOOL args...`.
pub fn run_modkit<I, S>(tool: &str, args: I) -> Output
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    Command::new(modkit())
        .arg(tool)
        .args(args)
        .env("LC_ALL", "C")
        .output()
        .expect("run modkit")
}

/// Runs the reference tool `tool` with `args`.
pub fn run_ref<I, S>(tool: &str, args: I) -> Output
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    Command::new(ref_tool(tool))
        .args(args)
        .env("LC_ALL", "C")
        .output()
        .expect("run reference tool")
}

/// Runs both with the same arguments and returns a description of the
/// first difference (stdout, stderr or exit status), or `None`.
pub fn compare(tool: &str, args: &[impl AsRef<OsStr>]) -> Option<String> {
    let ours = run_modkit(tool, args);
    let theirs = run_ref(tool, args);
    let shown: Vec<String> = args
        .iter()
        .take(6)
        .map(|a| a.as_ref().to_string_lossy().into_owned())
        .collect();
    let what = format!(
        "{tool} {}{}",
        shown.join(" "),
        if args.len() > 6 { " ..." } else { "" }
    );
    output_differences(&what, &ours, &theirs).into_iter().next()
}

/// Every difference between modkit's and the reference's runs: exit
/// status, stdout, stderr (addresses masked with [`mask_addresses`]:
/// libkmod's `-vv` messages name its context and logger by address).
pub fn output_differences(what: &str, ours: &Output, theirs: &Output) -> Vec<String> {
    let mut diffs = Vec::new();
    if ours.status.code() != theirs.status.code() {
        diffs.push(format!(
            "{what}: exit {:?} (modkit) vs {:?} (reference)\nmodkit stderr: {}\nreference stderr: {}",
            ours.status.code(),
            theirs.status.code(),
            String::from_utf8_lossy(&ours.stderr),
            String::from_utf8_lossy(&theirs.stderr)
        ));
    }
    let (ours_err, theirs_err) = (mask_addresses(&ours.stderr), mask_addresses(&theirs.stderr));
    for (name, a, b) in [
        ("stdout", &ours.stdout, &theirs.stdout),
        ("stderr", &ours_err, &theirs_err),
    ] {
        if a != b {
            diffs.push(format!(
                "{what}: {name} differs\n{}",
                first_difference(a, b)
            ));
        }
    }
    diffs
}

/// A readable excerpt around the first differing line.
pub fn first_difference(a: &[u8], b: &[u8]) -> String {
    let a = String::from_utf8_lossy(a);
    let b = String::from_utf8_lossy(b);
    let al: Vec<&str> = a.split('\n').collect();
    let bl: Vec<&str> = b.split('\n').collect();
    for i in 0..al.len().max(bl.len()) {
        let x = al.get(i).copied();
        let y = bl.get(i).copied();
        if x != y {
            let start = i.saturating_sub(3);
            let ctx = |v: &Vec<&str>| v[start.min(v.len())..(i + 3).min(v.len())].join("\n");
            return format!(
                "line {}:\n--- modkit:\n{}\n--- reference:\n{}",
                i + 1,
                ctx(&al),
                ctx(&bl)
            );
        }
    }
    "(same lines, different bytes)".into()
}

/// Runs `f` over `items` on all cores, collecting failures.
pub fn parallel_failures<T: Sync>(
    items: &[T],
    f: impl Fn(&T) -> Option<String> + Sync,
) -> Vec<String> {
    let threads = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(2)
        .max(2);
    let chunk = items.len().div_ceil(threads).max(1);
    std::thread::scope(|s| {
        let handles: Vec<_> = items
            .chunks(chunk)
            .map(|c| s.spawn(|| c.iter().filter_map(&f).collect::<Vec<_>>()))
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap())
            .collect()
    })
}

/// Fails the test with the first few failures.
pub fn assert_no_failures(what: &str, failures: &[String]) {
    if !failures.is_empty() {
        let shown: Vec<&String> = failures.iter().take(5).collect();
        panic!(
            "{what}: {} mismatches with the reference; first ones:\n{}",
            failures.len(),
            shown
                .iter()
                .map(|s| s.as_str())
                .collect::<Vec<_>>()
                .join("\n\n")
        );
    }
}

/// A fresh scratch directory inside the cache (same file system as the
/// trees, so trees can be copied with hard links), removed when dropped.
pub fn scratch_dir(name: &str) -> ScratchDir {
    ScratchDir::new_in(&cache_dir().join("scratch"), name)
}

/// A hard-linked copy of a tree (`cp -al`): cheap, and safe to modify by
/// replacing or deleting files (never by writing into them).
pub fn copy_tree(tree: &Tree, dest: &Path) -> Tree {
    let status = Command::new("cp")
        .arg("-al")
        .arg(&tree.root)
        .arg(dest)
        .status()
        .unwrap();
    assert!(status.success(), "cp -al failed");
    Tree {
        root: dest.to_path_buf(),
        version: tree.version.clone(),
    }
}

/// Every regular file under `dir` (relative path → bytes).
pub fn read_tree_files(dir: &Path) -> std::collections::BTreeMap<String, Vec<u8>> {
    let mut out = std::collections::BTreeMap::new();
    if let Ok(rd) = std::fs::read_dir(dir) {
        for e in rd.flatten() {
            let p = e.path();
            if e.file_type().unwrap().is_file() {
                out.insert(
                    e.file_name().to_string_lossy().into_owned(),
                    std::fs::read(&p).unwrap(),
                );
            }
        }
    }
    out
}

/// Turns an alias pattern into a string it matches.
pub fn expand_pattern(p: &str) -> String {
    let mut out = String::new();
    let mut chars = p.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '*' => {}
            '?' => out.push('0'),
            '[' => {
                let mut first = None;
                for d in chars.by_ref() {
                    if d == ']' {
                        break;
                    }
                    if first.is_none() {
                        first = Some(d);
                    }
                }
                out.push(first.unwrap_or('0'));
            }
            '\\' => {
                if let Some(d) = chars.next() {
                    out.push(d);
                }
            }
            c => out.push(c),
        }
    }
    out
}

/// Replaces every `0x` followed by hex digits with `0xADDR`.
pub fn mask_addresses(s: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(s.len());
    let mut i = 0;
    while i < s.len() {
        if s[i..].starts_with(b"0x") && s.get(i + 2).is_some_and(u8::is_ascii_hexdigit) {
            out.extend_from_slice(b"0xADDR");
            i += 2;
            while s.get(i).is_some_and(u8::is_ascii_hexdigit) {
                i += 1;
            }
        } else {
            out.push(s[i]);
            i += 1;
        }
    }
    out
}

/// What to look up in a tree: every module name (with `-` for `_`), every
/// built-in module, then every `step.0`-th alias pattern of
/// `modules.alias` and every `step.1`-th built-in alias (each expanded to a
/// string it matches), and every `step.2`-th exported symbol.
pub fn lookup_operands(tree: &Tree, step: (usize, usize, usize)) -> Vec<String> {
    let dir = tree.moddir();
    let read =
        |f: &str| std::fs::read_to_string(dir.join(f)).unwrap_or_else(|e| panic!("{f}: {e}"));
    let mut ops: Vec<String> = Vec::new();
    for line in read("modules.dep").lines() {
        let path = line.split(':').next().unwrap();
        let base = path.rsplit('/').next().unwrap();
        ops.push(base.split('.').next().unwrap().replace('_', "-"));
    }
    for line in read("modules.builtin").lines() {
        let base = line.rsplit('/').next().unwrap();
        ops.push(base.split('.').next().unwrap().to_string());
    }
    for line in read("modules.alias").lines().step_by(step.0) {
        if let Some((p, _)) = line.strip_prefix("alias ").and_then(|l| l.rsplit_once(' ')) {
            ops.push(expand_pattern(p));
        }
    }
    let builtin_info = std::fs::read(dir.join("modules.builtin.modinfo")).unwrap();
    for s in builtin_info.split(|&b| b == 0).step_by(step.1) {
        if let Some((_, pat)) = String::from_utf8_lossy(s).split_once(".alias=") {
            ops.push(expand_pattern(pat));
        }
    }
    for line in read("modules.symbols").lines().step_by(step.2) {
        if let Some(sym) = line
            .strip_prefix("alias ")
            .and_then(|l| l.split(' ').next())
        {
            ops.push(sym.to_string());
        }
    }
    ops
}
