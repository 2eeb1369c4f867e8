//! A tiny module tree made at test time: four module files written by
//! `modkit_testkit::module_image` (a dependency chain through exported
//! symbols, aliases, a parameter, a name with a dash), indexed by depmod,
//! then queried with modprobe `-D` and modinfo.
//!
//! Offline tier: modkit's outputs against the expected texts below.
//! Reference tier: the same commands run with kmod 34.2 on the same tree
//! must give the same bytes (every depmod output, stdout, stderr, exit
//! code) — and the texts below, which is where they come from: when kmod's
//! and the text differ, that test prints kmod's.

mod common;

use common::*;
use std::path::Path;
use std::process::{Command, Output};

/// The kernel version of the fixture tree.
const VERSION: &str = "1.0.0-fixture";

/// Module files: path under `kernel/`, `.modinfo`, exports, needed symbols.
type ModuleSpec = (
    &'static str,
    &'static [(&'static str, &'static str)],
    &'static [&'static str],
    &'static [&'static str],
);

const MODULES: &[ModuleSpec] = &[
    (
        "lib/mk_base.ko",
        &[
            ("license", "GPL"),
            ("description", "fixture: the bottom of the chain"),
            ("alias", "fixture-base-*"),
            ("vermagic", "1.0.0-fixture SMP mod_unload"),
        ],
        &["mk_base_fn", "mk_base_val"],
        &[],
    ),
    (
        "drivers/mk_mid.ko",
        &[
            ("license", "GPL"),
            ("alias", "pci:v0000F1F1d*sv*sd*bc*sc*i*"),
            ("depends", "mk_base"),
            ("vermagic", "1.0.0-fixture SMP mod_unload"),
        ],
        &["mk_mid_fn"],
        &["mk_base_fn"],
    ),
    (
        "drivers/mk_top.ko",
        &[
            ("license", "Dual MIT/GPL"),
            ("author", "modkit tests"),
            ("alias", "fixture-top"),
            ("parm", "debug:Debug level"),
            ("parmtype", "debug:int"),
            ("depends", "mk_mid,mk_base"),
            ("vermagic", "1.0.0-fixture SMP mod_unload"),
        ],
        &[],
        &["mk_mid_fn", "mk_base_val", "printk"],
    ),
    (
        "fs/mk-dash.ko",
        &[("license", "GPL"), ("alias", "fs-mkdash")],
        &[],
        &[],
    ),
];

/// The tree in `dir`: `dir/lib/modules/VERSION/kernel/...`, and
/// `modules.order` (without it, depmod's order would be the directory's).
fn write_tree(dir: &Path) {
    let moddir = dir.join("lib/modules").join(VERSION);
    let mut order = String::new();
    for (rel, info, exports, needs) in MODULES {
        let path = moddir.join("kernel").join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, modkit_testkit::module_image(info, exports, needs)).unwrap();
        order.push_str(&format!("kernel/{rel}\n"));
    }
    std::fs::write(moddir.join("modules.order"), order).unwrap();
}

/// The depmod outputs compared as text with the expected ones (symbols in
/// the order of kmod's hash table).
const DEPMOD_TEXT: &[(&str, &str)] = &[
    (
        "modules.dep",
        "kernel/lib/mk_base.ko:\n\
         kernel/drivers/mk_mid.ko: kernel/lib/mk_base.ko\n\
         kernel/drivers/mk_top.ko: kernel/drivers/mk_mid.ko kernel/lib/mk_base.ko\n\
         kernel/fs/mk-dash.ko:\n",
    ),
    (
        "modules.alias",
        "# Aliases extracted from modules themselves.\n\
         alias fixture-base-* mk_base\n\
         alias pci:v0000F1F1d*sv*sd*bc*sc*i* mk_mid\n\
         alias fixture-top mk_top\n\
         alias fs-mkdash mk_dash\n",
    ),
    (
        "modules.symbols",
        "# Aliases for symbols, used by symbol_request().\n\
         alias symbol:mk_base_fn mk_base\n\
         alias symbol:mk_mid_fn mk_mid\n\
         alias symbol:mk_base_val mk_base\n",
    ),
];

/// Queries of the indexed tree: tool and arguments (`ROOT` and `VERSION`
/// replaced), then the expected stdout and stderr (with `ROOT` for the
/// tree's directory) and exit code.
const QUERIES: &[(&[&str], &str, &str, i32)] = &[
    (
        &["modprobe", "-d", "ROOT", "-S", "VERSION", "-D", "mk_top"],
        "insmod ROOT/lib/modules/1.0.0-fixture/kernel/lib/mk_base.ko \n\
         insmod ROOT/lib/modules/1.0.0-fixture/kernel/drivers/mk_mid.ko \n\
         insmod ROOT/lib/modules/1.0.0-fixture/kernel/drivers/mk_top.ko \n",
        "",
        0,
    ),
    (
        &[
            "modprobe",
            "-d",
            "ROOT",
            "-S",
            "VERSION",
            "-D",
            "fixture-top",
        ],
        "insmod ROOT/lib/modules/1.0.0-fixture/kernel/lib/mk_base.ko \n\
         insmod ROOT/lib/modules/1.0.0-fixture/kernel/drivers/mk_mid.ko \n\
         insmod ROOT/lib/modules/1.0.0-fixture/kernel/drivers/mk_top.ko \n",
        "",
        0,
    ),
    (
        &[
            "modprobe",
            "-d",
            "ROOT",
            "-S",
            "VERSION",
            "-D",
            "pci:v0000F1F1d00000001sv00000000sd00000000bc02sc00i00",
        ],
        "insmod ROOT/lib/modules/1.0.0-fixture/kernel/lib/mk_base.ko \n\
         insmod ROOT/lib/modules/1.0.0-fixture/kernel/drivers/mk_mid.ko \n",
        "",
        0,
    ),
    (
        &[
            "modprobe",
            "-d",
            "ROOT",
            "-S",
            "VERSION",
            "-D",
            "symbol:mk_base_val",
        ],
        "insmod ROOT/lib/modules/1.0.0-fixture/kernel/lib/mk_base.ko \n",
        "",
        0,
    ),
    (
        &["modprobe", "-d", "ROOT", "-S", "VERSION", "-D", "mk-dash"],
        "insmod ROOT/lib/modules/1.0.0-fixture/kernel/fs/mk-dash.ko \n",
        "",
        0,
    ),
    (
        &["modprobe", "-d", "ROOT", "-S", "VERSION", "-D", "nosuch"],
        "",
        "modprobe: FATAL: Module nosuch not found in directory ROOT/lib/modules/1.0.0-fixture\n",
        1,
    ),
    (
        &["modinfo", "-b", "ROOT", "-k", "VERSION", "mk_top"],
        "filename:       ROOT/lib/modules/1.0.0-fixture/kernel/drivers/mk_top.ko\n\
         license:        Dual MIT/GPL\n\
         author:         modkit tests\n\
         alias:          fixture-top\n\
         depends:        mk_mid,mk_base\n\
         vermagic:       1.0.0-fixture SMP mod_unload\n\
         parm:           debug:Debug level (int)\n",
        "",
        0,
    ),
    (
        &[
            "modinfo",
            "-b",
            "ROOT",
            "-k",
            "VERSION",
            "-F",
            "alias",
            "fixture-base-x",
        ],
        "fixture-base-*\n",
        "",
        0,
    ),
    (
        &["modinfo", "-b", "ROOT", "-k", "VERSION", "mk_nothing"],
        "",
        "modinfo: ERROR: Module mk_nothing not found.\n",
        1,
    ),
];

/// Runs modkit's tool (`ours`) or kmod's with `args`, `ROOT` and `VERSION`
/// replaced.
fn run(ours: bool, root: &Path, args: &[&str]) -> Output {
    let root = root.to_str().unwrap();
    let (tool, rest) = args.split_first().unwrap();
    let rest: Vec<String> = rest
        .iter()
        .map(|a| a.replace("ROOT", root).replace("VERSION", VERSION))
        .collect();
    let mut cmd = if ours {
        let mut c = Command::new(modkit());
        c.arg(tool);
        c
    } else {
        Command::new(ref_tool(tool))
    };
    cmd.args(&rest).env("LC_ALL", "C").output().unwrap()
}

/// `out`'s streams with the tree's directory written `ROOT`.
fn texts(out: &Output, root: &Path) -> (String, String) {
    let root = root.to_str().unwrap();
    let t = |b: &[u8]| String::from_utf8_lossy(b).replace(root, "ROOT");
    (t(&out.stdout), t(&out.stderr))
}

/// Every difference between what `ours` gave and the expected texts.
fn against_expected(root: &Path, ours: bool) -> Vec<String> {
    let mut failures = Vec::new();
    let who = if ours { "modkit" } else { "kmod" };
    let depmod = run(ours, root, &["depmod", "-b", "ROOT", "VERSION"]);
    if !depmod.status.success() {
        failures.push(format!("{who} depmod: {depmod:?}"));
    }
    let moddir = root.join("lib/modules").join(VERSION);
    for (file, want) in DEPMOD_TEXT {
        let got = std::fs::read_to_string(moddir.join(file)).unwrap_or_default();
        if got != *want {
            failures.push(format!("{who}: {file} is\n{got}\nexpected\n{want}"));
        }
    }
    for (args, stdout, stderr, code) in QUERIES {
        let out = run(ours, root, args);
        let got = texts(&out, root);
        if got != (stdout.to_string(), stderr.to_string()) || out.status.code() != Some(*code) {
            failures.push(format!(
                "{who} {args:?}: exit {:?}, stdout\n{}\nstderr\n{}\nexpected exit {code}, stdout\n{stdout}\nstderr\n{stderr}",
                out.status.code(),
                got.0,
                got.1
            ));
        }
    }
    failures
}

#[test]
fn depmod_modprobe_and_modinfo_on_a_generated_tree() {
    let root = ScratchDir::new("fixture-tree");
    write_tree(&root);
    assert_no_failures("fixture tree", &against_expected(&root, true));
}

/// The same tree and commands with kmod 34.2: the same bytes as modkit
/// (every depmod output), and the texts this file expects.
#[test]
fn generated_tree_matches_kmod() {
    if !runs(Tier::Reference) {
        return;
    }
    let ours = ScratchDir::new("fixture-tree-modkit");
    let theirs = ScratchDir::new("fixture-tree-kmod");
    write_tree(&ours);
    write_tree(&theirs);
    let mut failures = against_expected(&theirs, false);
    failures.extend(against_expected(&ours, true));
    let files = |root: &Path| read_tree_files(&root.join("lib/modules").join(VERSION));
    let (a, b) = (files(&ours), files(&theirs));
    if a.keys().collect::<Vec<_>>() != b.keys().collect::<Vec<_>>() {
        failures.push(format!(
            "depmod wrote {:?} (modkit) vs {:?} (kmod)",
            a.keys(),
            b.keys()
        ));
    }
    for (name, bytes) in &a {
        if b.get(name) != Some(bytes) {
            failures.push(format!("depmod: {name} differs from kmod's"));
        }
    }
    for (args, ..) in QUERIES {
        let (x, y) = (run(true, &ours, args), run(false, &theirs, args));
        if texts(&x, &ours) != texts(&y, &theirs) || x.status.code() != y.status.code() {
            failures.push(format!("{args:?}: modkit {x:?}\nkmod {y:?}"));
        }
    }
    assert_no_failures("fixture tree against kmod", &failures);
}
