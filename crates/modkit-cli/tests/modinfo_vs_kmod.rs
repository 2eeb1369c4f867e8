//! `modkit modinfo` against kmod 34.2's modinfo, byte for byte, on every
//! module of Debian's bookworm 6.1 (plain `.ko`) and trixie 6.12 (`.ko.xz`)
//! trees, and on name, alias, symbol and built-in lookups through `-b`/`-k`.
//!
//! Needs the reference tools and trees: `scripts/refs.sh` (run by the
//! tests themselves; needs apt and network on first use).

mod common;

use common::*;
use std::ffi::OsString;
use std::path::PathBuf;

/// Options compared on every module file of a tree.
const FULL_VARIANTS: &[&[&str]] = &[&[], &["-p"], &["-0"], &["-F", "signer"], &["-F", "depends"]];
/// Options compared on every 5th module file.
const SAMPLED_VARIANTS: &[&[&str]] = &[
    &["-F", "filename"],
    &["-F", "alias"],
    &["-F", "name"],
    &["-F", "vermagic"],
    &["-F", "sig_key"],
    &["-F", "parmtype"],
    &["-a"],
    &["-d"],
    &["-l"],
    &["-n"],
    &["-0", "-p"],
    &["--field=signature"],
];
const BATCH: usize = 60;

fn files_vs_kmod(tree: &str) {
    if !runs(Tier::Reference) {
        return;
    }
    let tree = Tree::get(tree);
    let files = tree.module_files();
    let mut jobs: Vec<Vec<OsString>> = Vec::new();
    for variant in FULL_VARIANTS {
        for batch in files.chunks(BATCH) {
            jobs.push(args(variant, batch));
        }
    }
    let sampled: Vec<PathBuf> = files.iter().step_by(5).cloned().collect();
    for variant in SAMPLED_VARIANTS {
        for batch in sampled.chunks(BATCH) {
            jobs.push(args(variant, batch));
        }
    }
    let failures = parallel_failures(&jobs, |a| compare("modinfo", a));
    assert_no_failures(
        &format!("modinfo on {} files of {}", files.len(), tree.version),
        &failures,
    );
}

fn args(opts: &[&str], files: &[PathBuf]) -> Vec<OsString> {
    opts.iter()
        .map(OsString::from)
        .chain(files.iter().map(|f| f.clone().into_os_string()))
        .collect()
}

#[test]
fn every_module_file_of_bookworm_6_1_matches_kmod() {
    files_vs_kmod("6.1");
}

#[test]
fn every_module_file_of_trixie_6_12_matches_kmod() {
    files_vs_kmod("6.12");
}

fn lookups_vs_kmod(tree: &str) {
    if !runs(Tier::Reference) {
        return;
    }
    let tree = Tree::get(tree);
    // Every module name and built-in; a sample of aliases, built-in
    // aliases and symbols.
    let mut operands = lookup_operands(&tree, (7, 3, 11));
    // Things that are not there or not valid.
    for bad in [
        "no_such_module",
        "symbol:no_such_symbol",
        "pci:v*",
        "a]b",
        "c[d",
        "fs-",
        "",
        "x:y",
    ] {
        operands.push(bad.to_string());
    }
    let base = vec![
        OsString::from("-b"),
        tree.root.clone().into_os_string(),
        OsString::from("-k"),
        OsString::from(&tree.version),
    ];
    let mut jobs: Vec<Vec<OsString>> = Vec::new();
    for batch in operands.chunks(BATCH) {
        let mut a = base.clone();
        a.extend(batch.iter().map(OsString::from));
        jobs.push(a.clone());
        let mut f = base.clone();
        f.extend(["-F", "filename"].map(OsString::from));
        f.extend(batch.iter().map(OsString::from));
        jobs.push(f);
    }
    // -m: names only, on a sample (aliases must then fail the same way).
    for batch in operands.iter().step_by(4).collect::<Vec<_>>().chunks(BATCH) {
        let mut a = base.clone();
        a.push(OsString::from("-m"));
        a.extend(batch.iter().map(OsString::from));
        jobs.push(a);
    }
    let failures = parallel_failures(&jobs, |a| compare("modinfo", a));
    assert_no_failures(
        &format!(
            "modinfo lookups ({} operands) in {}",
            operands.len(),
            tree.version
        ),
        &failures,
    );
}

#[test]
fn name_alias_symbol_and_builtin_lookups_in_6_1_match_kmod() {
    lookups_vs_kmod("6.1");
}

#[test]
fn name_alias_symbol_and_builtin_lookups_in_6_12_match_kmod() {
    lookups_vs_kmod("6.12");
}

#[test]
fn bad_input_and_options_match_kmod() {
    if !runs(Tier::Reference) {
        return;
    }
    let tree = Tree::get("6.1");
    let tmp = tempdir("bad-input");
    let real = tree.moddir().join("kernel/fs/btrfs/btrfs.ko");
    let data = std::fs::read(&real).unwrap();
    let write = |name: &str, bytes: &[u8]| {
        let p = tmp.join(name);
        std::fs::write(&p, bytes).unwrap();
        p.to_string_lossy().into_owned()
    };
    let notmod = write("notmod.ko", b"hello\n");
    let empty = write("empty.ko", b"");
    let trunc = write("trunc.ko", &data[..1000]);
    let trunc_half = write("half.ko", &data[..data.len() / 2]);
    let fakexz = write("fake.ko.xz", b"hello\n");
    let fakezst = write("fake.ko.zst", b"\x28\xb5\x2f\xfd garbage");
    std::fs::create_dir_all(tmp.join("dir.ko")).unwrap();
    let dir = tmp.join("dir.ko").to_string_lossy().into_owned();
    let root = tree.root.to_string_lossy().into_owned();
    let cases: Vec<Vec<String>> = vec![
        vec![],
        vec!["--bogus".into()],
        vec!["-z".into()],
        vec!["-F".into()],
        vec!["--field".into()],
        vec!["--author=x".into(), notmod.clone()],
        vec!["--fie=description".into(), trunc_half.clone()],
        vec![notmod.clone()],
        vec![empty.clone()],
        vec![trunc.clone()],
        vec![trunc_half.clone()],
        vec![fakexz.clone()],
        vec![fakezst.clone()],
        vec![dir.clone()],
        vec!["/nonexistent/x.ko".into()],
        vec![
            "-b".into(),
            root.clone(),
            "-k".into(),
            "9.9.9".into(),
            "btrfs".into(),
        ],
        vec![
            "-b".into(),
            root.clone(),
            "-k".into(),
            tree.version.clone(),
            "-m".into(),
            "btrfs".into(),
            "nosuch".into(),
        ],
        vec!["-k".into(), tree.version.clone(), "btrfs".into()],
        vec![
            "-0".into(),
            "-F".into(),
            "alias".into(),
            real.to_string_lossy().into_owned(),
        ],
        vec![
            "-an".into(),
            real.to_string_lossy().into_owned(),
            notmod.clone(),
        ],
        vec![
            real.to_string_lossy().into_owned(),
            "--".into(),
            "-F".into(),
        ],
    ];
    let failures: Vec<String> = cases.iter().filter_map(|c| compare("modinfo", c)).collect();
    assert_no_failures("modinfo bad input", &failures);
}

/// A fresh scratch directory for one test, removed when dropped.
fn tempdir(name: &str) -> ScratchDir {
    ScratchDir::new(&format!("modinfo-{name}"))
}

#[test]
fn non_utf8_operands_are_printed_as_given() {
    use std::os::unix::ffi::OsStringExt;
    if !runs(Tier::Reference) {
        return;
    }
    let tree = Tree::get("6.1");
    let odd = OsString::from_vec(b"\xff\xfe-mod".to_vec());
    for by_name in [false, true] {
        let mut args = vec![
            OsString::from("-b"),
            tree.root.clone().into_os_string(),
            OsString::from("-k"),
            OsString::from(&tree.version),
        ];
        if by_name {
            args.push(OsString::from("-m"));
        }
        args.push(odd.clone());
        if let Some(d) = compare("modinfo", &args) {
            panic!("{d}");
        }
    }
}

/// kmod's modinfo reads no `modprobe.d` (its library context has no
/// configuration paths) but does parse the kernel command line: with a
/// configuration in `/run/modprobe.d` (a default directory) and a kernel
/// command line with a bad option, both put in place in a private mount
/// namespace, modkit's modinfo must ignore the one and report the other
/// as kmod's does.
#[test]
fn modprobe_d_is_ignored_and_kernel_cmdline_read_like_kmod() {
    if !runs(Tier::Reference) {
        return;
    }
    let tree = Tree::get("6.1");
    let dir = tempdir("modprobe-d");
    let conf = dir.join("test.conf");
    std::fs::write(
        &conf,
        "alias my-alias dummy\nalias fs-x* btrfs\nalias two-* loop\nalias two-* dummy\n\
         install only_install /bin/true\nremove only_remove /bin/true\n\
         alias not-a-module no_such_target\nbogus line\noptions dummy\n",
    )
    .unwrap();
    let cmdline = dir.join("cmdline");
    std::fs::write(&cmdline, "quiet bad]mod.x=1 dummy.numdummies=2\n").unwrap();
    let mut failures = Vec::new();
    for operands in [
        &["my-alias"][..],
        &["my_alias", "fs-xyz", "two-x"],
        &["-F", "filename", "two-2", "dummy"],
        &["only_install"],
        &["only-remove", "not-a-module"],
        &["-m", "my-alias"],
    ] {
        let run = |prog: &std::path::Path, pre: &[&str]| {
            let out = std::process::Command::new("unshare")
                .args(["-m", "--", "sh", "-c"])
                .arg(
                    "mount -t tmpfs tmpfs /run && mkdir /run/modprobe.d && cp \"$0\" /run/modprobe.d/ \
                     && mount --bind \"$1\" /proc/cmdline && shift && exec \"$@\"",
                )
                .arg(&conf)
                .arg(&cmdline)
                .arg(prog)
                .args(pre)
                .arg("-b")
                .arg(&tree.root)
                .args(["-k", &tree.version])
                .args(operands)
                .env("LC_ALL", "C")
                .output()
                .expect("unshare");
            out
        };
        let ours = run(&modkit(), &["modinfo"]);
        let theirs = run(&ref_tool("modinfo"), &[]);
        failures.extend(output_differences(
            &format!("modinfo {operands:?}"),
            &ours,
            &theirs,
        ));
        assert!(
            String::from_utf8_lossy(&theirs.stderr).contains("kcmdline_parse_result"),
            "kmod did not see the kernel command line: the namespace setup failed"
        );
    }
    assert_no_failures("modinfo with modprobe.d", &failures);
}

/// `modinfo --json` (modkit only) against kmod's `modinfo -F KEY` and
/// `modinfo -p`: for every 40th module of the trixie 6.12 tree and a
/// built-in one, each field's values are kmod's lines for that field, in
/// order; the signature fields are kmod's (the hex dump without its line
/// breaks); the parameters, rendered as `-p` renders them, are kmod's `-p`
/// lines; and `--json` refuses to be combined with a field option.
#[test]
fn json_agrees_with_kmod_fields() {
    if !runs(Tier::Reference) {
        return;
    }
    let tree = Tree::get("6.12");
    let root = tree.root.to_str().unwrap().to_string();
    let base = ["-b", root.as_str(), "-k", tree.version.as_str()];
    let kmod = |extra: &[&str], module: &str| -> String {
        let mut a: Vec<&str> = base.to_vec();
        a.extend_from_slice(extra);
        a.push(module);
        let out = std::process::Command::new(ref_tool("modinfo"))
            .args(&a)
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let dep = std::fs::read_to_string(tree.moddir().join("modules.dep")).unwrap();
    let mut modules: Vec<String> = dep
        .lines()
        .step_by(40)
        .filter_map(|l| l.split(':').next())
        .map(|p| {
            let b = p.rsplit('/').next().unwrap();
            b.split(".ko").next().unwrap().to_string()
        })
        .collect();
    modules.push("ext4".into());
    let builtin = std::fs::read_to_string(tree.moddir().join("modules.builtin")).unwrap();
    let builtin = builtin
        .lines()
        .filter_map(|l| l.rsplit('/').next())
        .map(|b| b.trim_end_matches(".ko").to_string())
        .find(|b| !kmod(&["-F", "license"], b).is_empty())
        .expect("a built-in module with a license");
    modules.push(builtin.clone());
    let mut checked_fields = 0;
    let mut signed = 0;
    let mut with_params = 0;
    for m in &modules {
        let mut a: Vec<&str> = base.to_vec();
        a.extend(["--json", m.as_str()]);
        let out = run_modkit("modinfo", &a);
        assert!(out.status.success(), "{m}: {out:?}");
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
        let items = v.as_array().expect("an array");
        assert!(!items.is_empty(), "{m}");
        let item = &items[0];
        assert_eq!(item["builtin"].as_bool(), Some(*m == builtin), "{m}");
        for (key, values) in item["fields"].as_object().unwrap() {
            let mine: String = values
                .as_array()
                .unwrap()
                .iter()
                .map(|v| format!("{}\n", v.as_str().unwrap()))
                .collect();
            // kmod prints every module the name resolves to: compare the
            // first one's share only when there is one module
            if items.len() == 1 {
                assert_eq!(mine, kmod(&["-F", key], m), "{m}: field {key}");
                checked_fields += 1;
            }
        }
        if let Some(sig) = item["signature"].as_object() {
            for (key, value) in sig {
                let theirs = kmod(&["-F", key], m).replace("\n\t\t", "");
                assert_eq!(
                    format!("{}\n", value.as_str().unwrap()),
                    theirs,
                    "{m}: {key}"
                );
            }
            signed += 1;
        }
        let params: String = item["parameters"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| {
                let name = p["name"].as_str().unwrap();
                match (p["description"].as_str(), p["type"].as_str()) {
                    (None, t) => format!("{name}: ({})\n", t.unwrap_or("")),
                    (Some(d), Some(t)) => format!("{name}:{d} ({t})\n"),
                    (Some(d), None) => format!("{name}:{d}\n"),
                }
            })
            .collect();
        if items.len() == 1 {
            assert_eq!(params, kmod(&["-p"], m), "{m}: parameters");
            with_params += usize::from(!params.is_empty());
        }
    }
    assert!(
        checked_fields > 500 && signed > 50 && with_params > 10,
        "{checked_fields} fields, {signed} signed, {with_params} with parameters"
    );
    let out = run_modkit("modinfo", ["--json", "-F", "license", "dummy"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).starts_with("modinfo: ERROR: --json"));
}
