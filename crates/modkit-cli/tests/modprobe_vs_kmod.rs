//! `modkit modprobe` against kmod 34.2's modprobe on Debian's real module
//! trees, without a kernel: with `-d ROOT -S VERSION`, `--show-depends`,
//! `--resolve-alias`, `--show-config`, `-r --show-depends`, `-n -v`,
//! `--dump-modversions` (every module file) and `--show-exports` (every
//! fifth) print the same bytes, the same messages and exit the same way,
//! for every module name, every alias pattern of `modules.alias` (expanded
//! to a string it matches), every built-in module and alias and every
//! exported symbol; with no
//! configuration, and with a `modprobe.d` using every directive (and bad
//! lines) and a kernel command line with module options and a blacklist,
//! put in place of `/proc/cmdline` with a private mount namespace.

mod common;

use common::*;
use std::ffi::OsString;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const BATCH: usize = 300;

/// A command line with an optional `/proc/cmdline` replacement: both tools
/// then run in a private mount namespace where it is bind-mounted.
fn command(program: &Path, args: &[OsString], cmdline: Option<&Path>) -> Output {
    let mut cmd = match cmdline {
        None => Command::new(program),
        Some(f) => {
            let mut c = Command::new("unshare");
            c.args(["-m", "--", "sh", "-c"])
                .arg("mount --bind \"$0\" /proc/cmdline && exec \"$@\"")
                .arg(f)
                .arg(program);
            c
        }
    };
    cmd.args(args);
    cmd.env("LC_ALL", "C")
        .env_remove("MODPROBE_OPTIONS")
        .env_remove("KMOD_LOG")
        .output()
        .expect("run modprobe")
}

fn compare_modprobe(args: &[OsString], cmdline: Option<&Path>) -> Option<String> {
    let ours = {
        let mut a = vec![OsString::from("modprobe")];
        a.extend(args.iter().cloned());
        command(&modkit(), &a, cmdline)
    };
    let theirs = command(&ref_tool("modprobe"), args, cmdline);
    let shown: Vec<String> = args
        .iter()
        .take(8)
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    let what = format!(
        "modprobe {}{}",
        shown.join(" "),
        if args.len() > 8 { " ..." } else { "" }
    );
    if theirs.status.signal() == Some(SIGSEGV) {
        return softdep_loop_difference(&what, &ours, &theirs);
    }
    output_differences(&what, &ours, &theirs).into_iter().next()
}

const SIGSEGV: i32 = 11;

/// kmod 34 removing a module on a loop of softdeps (`a` pre: `b`, `b`
/// post: `a`) recurses along it until its stack overflows (SIGSEGV).
/// modkit prints what kmod printed up to the loop, then one error line
/// naming it, and exits 1.
fn softdep_loop_difference(what: &str, ours: &Output, theirs: &Output) -> Option<String> {
    if ours.status.code() != Some(1) {
        return Some(format!(
            "{what}: kmod overflowed its stack, modkit exited with {:?} (not 1)",
            ours.status
        ));
    }
    if !theirs.stdout.starts_with(&ours.stdout) {
        return Some(format!(
            "{what}: kmod overflowed its stack; modkit's stdout is not what kmod printed up to there: {}",
            first_difference(&ours.stdout, &theirs.stdout)
        ));
    }
    let extra = ours.stderr.strip_prefix(&theirs.stderr[..]);
    let one_loop_line = extra.is_some_and(|e| {
        e.starts_with(b"modprobe: ERROR: softdep loop: ")
            && e.ends_with(b"\n")
            && e.iter().filter(|&&c| c == b'\n').count() == 1
    });
    if !one_loop_line {
        return Some(format!(
            "{what}: kmod overflowed its stack; modkit's stderr should be kmod's and one softdep loop line, it is:\n{}",
            String::from_utf8_lossy(&ours.stderr)
        ));
    }
    None
}

/// What to ask for in a tree: every module name (with `-` for `_`),
/// built-in module, alias pattern (expanded), built-in alias and symbol,
/// plus names that are not there or not valid.
fn operands(tree: &Tree) -> Vec<String> {
    let mut ops = lookup_operands(tree, (1, 1, 1));
    for bad in [
        "no_such_module",
        "symbol:no_such_symbol",
        "pci:v*",
        "a]b",
        "c[d",
        "fs-",
        "x:y",
    ] {
        ops.push(bad.to_string());
    }
    ops
}

fn base_args(tree: &Tree, extra: &[&str]) -> Vec<OsString> {
    let mut a = vec![
        OsString::from("-d"),
        tree.root.clone().into_os_string(),
        OsString::from("-S"),
        OsString::from(&tree.version),
    ];
    a.extend(extra.iter().map(OsString::from));
    a
}

fn batches(tree: &Tree, ops: &[String], modes: &[&[&str]], config: &[&str]) -> Vec<Vec<OsString>> {
    let mut jobs = Vec::new();
    for mode in modes {
        for batch in ops.chunks(BATCH) {
            let mut a = base_args(tree, config);
            a.extend(mode.iter().map(OsString::from));
            a.extend(batch.iter().map(OsString::from));
            jobs.push(a);
        }
    }
    jobs
}

const NO_CONFIG_MODES: &[&[&str]] = &[&["-a", "-D"], &["-a", "-R"]];

fn every_lookup_without_config(tree: &str) {
    if !runs(Tier::Reference) {
        return;
    }
    let tree = Tree::get(tree);
    let ops = operands(&tree);
    // one directory per tree: the tests of both trees run at once
    let empty = scratch_dir(&format!("modprobe-noconf-{}", tree.version));
    let conf = ["-C", empty.to_str().unwrap()];
    let mut jobs = batches(&tree, &ops, NO_CONFIG_MODES, &conf);
    jobs.push(base_args(&tree, &["-C", empty.to_str().unwrap(), "-c"]));
    let failures = parallel_failures(&jobs, |a| compare_modprobe(a, None));
    assert_no_failures(
        &format!(
            "modprobe lookups ({} operands) in {}",
            ops.len(),
            tree.version
        ),
        &failures,
    );
}

#[test]
fn every_name_alias_and_symbol_of_6_1_resolves_like_kmod() {
    every_lookup_without_config("6.1");
}

#[test]
fn every_name_alias_and_symbol_of_6_12_resolves_like_kmod() {
    every_lookup_without_config("6.12");
}

/// A configuration with every directive, precedence between directories,
/// a single file, and bad lines.
fn write_config(dir: &Path) -> Vec<String> {
    let d1 = dir.join("etc.d");
    let d2 = dir.join("lib.d");
    std::fs::create_dir_all(&d1).unwrap();
    std::fs::create_dir_all(d2.join("sub.conf")).unwrap();
    std::fs::write(
        d1.join("10-all.conf"),
        "# every directive\n\
         alias my-alias-* dummy\n\
         alias crc-alias crc32c-generic\n\
         alias net-pf-999 no-such-target\n\
         alias symbol:fake_sym loop\n\
         options dummy numdummies=3\n\
         options my_alias_x foo=bar\n\
         options btrfs\tcheck_int=1\t x=2\n\
         options loop max_loop=8 \\\n  max_part=2\n\
         install loop /bin/echo installing loop $CMDLINE_OPTS\n\
         install nf_* /bin/true\n\
         remove loop /bin/echo removing loop $CMDLINE_OPTS\n\
         blacklist pcspkr\n\
         blacklist dummy\n\
         softdep btrfs pre: loop xfs post: dummy\n\
         softdep dummy pre: btrfs\n\
         softdep ext4 pre: no-such-pre post: crc-alias\n\
         softdep xfs post: a]b\n\
         weakdep xfs crc32c-generic libcrc32c\n\
         bogus line here\n\
         options onlyname\n\
         alias onlyone\n\
         include /etc/other\n\
         \tblacklist tabbed\n",
    )
    .unwrap();
    // Same name in a later directory: hidden by the first.
    std::fs::write(d2.join("10-all.conf"), "blacklist hidden_by_first\n").unwrap();
    std::fs::write(
        d2.join("20-more.conf"),
        "options dummy numdummies=4\nalias my-alias-2 loop\n",
    )
    .unwrap();
    std::fs::write(d2.join("not-conf.txt"), "blacklist ignored_not_conf\n").unwrap();
    std::fs::write(d2.join(".hidden.conf"), "blacklist ignored_hidden\n").unwrap();
    let single = dir.join("single.conf");
    std::fs::write(&single, "options ext4 single=1\n").unwrap();
    vec![
        "-C".into(),
        d1.to_string_lossy().into_owned(),
        "-C".into(),
        d2.to_string_lossy().into_owned(),
        "-C".into(),
        single.to_string_lossy().into_owned(),
    ]
}

const KERNEL_CMDLINE: &str = "BOOT_IMAGE=/vmlinuz quiet modprobe.blacklist=pcspkr,,snd-pcsp \
    dummy.numdummies=5 btrfs.x=y \"ext4.dyndbg=file x +p\" bad]mod.x=1 loop.max_loop=\"16 2\" \
    foo.bar nf_tables.a.b=1 =x.y=1 -- init.arg=1\n";

fn every_lookup_with_config(tree: &str) {
    if !runs(Tier::Reference) {
        return;
    }
    let tree = Tree::get(tree);
    let mut ops = operands(&tree);
    ops.extend(
        [
            "my-alias-x",
            "my-alias-2",
            "crc-alias",
            "net-pf-999",
            "symbol:fake_sym",
            "onlyname",
        ]
        .map(String::from),
    );
    let dir = scratch_dir(&format!("modprobe-conf-{}", tree.version));
    let conf = write_config(&dir);
    let conf: Vec<&str> = conf.iter().map(String::as_str).collect();
    let cmdline = dir.join("cmdline");
    std::fs::write(&cmdline, KERNEL_CMDLINE).unwrap();
    // Everything with the configuration; the removal and dry-run modes on
    // a sample (they read the host's /sys/module, the same for both).
    let mut jobs = batches(&tree, &ops, &[&["-a", "-D"], &["-a", "-R"]], &conf);
    let sample: Vec<String> = ops.iter().step_by(13).cloned().collect();
    jobs.extend(batches(
        &tree,
        &sample,
        &[
            &["-a", "-r", "-D"],
            &["-a", "-n", "-v"],
            &["-a", "-D", "-i"],
            &["-a", "-D", "-b"],
        ],
        &conf,
    ));
    let mut show = base_args(&tree, &conf);
    show.push(OsString::from("-c"));
    jobs.push(show);
    for one in [
        &["-D", "dummy", "a=1", "b=x y"][..],
        &["-D", "my-alias-x", "z=1"],
        &["-D", "btrfs"],
        &["-D", "--first-time", "ext4"],
        &["-R", "-b", "dummy"],
        &["-D", "-b", "dummy"],
        &["-D", "-i", "loop"],
        &["-r", "-D", "loop"],
        &["-r", "-D", "-i", "loop"],
        // dummy pre: btrfs, btrfs post: dummy (kmod: SIGSEGV)
        &["-r", "-D", "dummy"],
        &["-D", "onlyname"],
        &["-D", "net-pf-999"],
    ] {
        let mut a = base_args(&tree, &conf);
        a.extend(one.iter().map(OsString::from));
        jobs.push(a);
    }
    let failures = parallel_failures(&jobs, |a| compare_modprobe(a, Some(&cmdline)));
    assert_no_failures(
        &format!(
            "modprobe with modprobe.d and a kernel command line in {}",
            tree.version
        ),
        &failures,
    );
}

#[test]
fn modprobe_d_and_kernel_cmdline_in_6_1_behave_like_kmod() {
    every_lookup_with_config("6.1");
}

#[test]
fn modprobe_d_and_kernel_cmdline_in_6_12_behave_like_kmod() {
    every_lookup_with_config("6.12");
}

#[test]
fn modversions_and_exports_of_module_files_match_kmod() {
    if !runs(Tier::Reference) {
        return;
    }
    let mut jobs = Vec::new();
    for t in ["6.1", "6.12"] {
        let tree = Tree::get(t);
        for (i, f) in tree.module_files().iter().enumerate() {
            jobs.push(vec![
                OsString::from("--dump-modversions"),
                f.clone().into_os_string(),
            ]);
            if i % 5 == 0 {
                jobs.push(vec![
                    OsString::from("--show-exports"),
                    f.clone().into_os_string(),
                ]);
            }
        }
    }
    let dir = scratch_dir("modprobe-files");
    let text = dir.join("text.ko");
    std::fs::write(&text, "not an ELF file\n").unwrap();
    let short = dir.join("short.ko");
    std::fs::write(&short, "\x7fEL").unwrap();
    for f in [
        text,
        short,
        dir.join("missing.ko"),
        PathBuf::from("relative-missing.ko"),
    ] {
        for opt in ["--dump-modversions", "--show-exports"] {
            jobs.push(vec![OsString::from(opt), f.clone().into_os_string()]);
        }
    }
    let failures = parallel_failures(&jobs, |a| compare_modprobe(a, None));
    assert_no_failures("modprobe --dump-modversions / --show-exports", &failures);
}

#[test]
fn options_and_bad_usage_match_kmod() {
    if !runs(Tier::Reference) {
        return;
    }
    let tree = Tree::get("6.1");
    let empty = scratch_dir("modprobe-opts");
    let e = empty.to_str().unwrap();
    let mut jobs: Vec<Vec<OsString>> = Vec::new();
    for args in [
        &[][..],
        &["-C", e],
        &["--bogus"],
        &["-x"],
        &["-w"],
        &["-w", "abc", "x"],
        &["-w", "", "x"],
        &["--wait=0x", "x"],
        &["--remove-dep", "-D", "x"],
        &["--sh", "x"],
        &["--show-d", "dummy"],
        &["--f", "x"],
        &["--resolve", "dummy"],
        &["-Rq", "nothing_here"],
        &["-q", "-D", "nothing_here"],
        &["-a", "-D", "nothing_here", "dummy"],
        &["-D", "dummy", "--", "-x=1"],
        &["-vD", "btrfs"],
        &["-vvD", "btrfs"],
        &["-vvv", "-R", "btrfs", "--", "x=1"],
        &["-vv", "-c"],
        &["-DR", "btrfs"],
        &["-D", "./relative.ko"],
        &["-D", "/abs/missing.ko"],
        &["-R", "-r", "dummy"],
        &["-D", "-a"],
        &["--dump-modversions"],
    ] {
        let mut a = base_args(&tree, &["-C", e]);
        a.extend(args.iter().map(OsString::from));
        jobs.push(a);
    }
    jobs.push(vec![OsString::from("--help-me")]);
    // the default configuration directories (this machine's /etc, /run,
    // /usr/local/lib, /usr/lib and /lib modprobe.d; /lib may be /usr/lib)
    for args in [&["-c"][..], &["-D", "bonding"], &["-R", "dummy"]] {
        let mut a = base_args(&tree, &[]);
        a.extend(args.iter().map(OsString::from));
        jobs.push(a);
    }
    let failures = parallel_failures(&jobs, |a| compare_modprobe(a, None));
    assert_no_failures("modprobe options", &failures);
}

#[test]
fn modprobe_options_environment_is_read_like_kmod() {
    if !runs(Tier::Reference) {
        return;
    }
    let tree = Tree::get("6.1");
    let empty = scratch_dir("modprobe-env");
    let mut failures = Vec::new();
    for env in ["-D", "-D -q", "\"-D\"", "-a  -R", "-C '' -D", "-x"] {
        let args = base_args(&tree, &["-C", empty.to_str().unwrap(), "btrfs", "dummy"]);
        let run = |prog: &Path, a: &[OsString]| {
            Command::new(prog)
                .args(a)
                .env("MODPROBE_OPTIONS", env)
                .env("LC_ALL", "C")
                .output()
                .unwrap()
        };
        let mut ours_args = vec![OsString::from("modprobe")];
        ours_args.extend(args.iter().cloned());
        let ours = run(&modkit(), &ours_args);
        let theirs = run(&ref_tool("modprobe"), &args);
        failures.extend(output_differences(
            &format!("MODPROBE_OPTIONS={env:?}"),
            &ours,
            &theirs,
        ));
    }
    assert_no_failures("MODPROBE_OPTIONS", &failures);
}

/// `-D --format=json` lists exactly what kmod's `-D` prints, in order;
/// `--format=dot` is a graph Graphviz renders.
#[test]
fn show_depends_json_and_dot_agree_with_kmod_text() {
    if !runs(Tier::Reference) {
        return;
    }
    let tree = Tree::get("6.12");
    let empty = scratch_dir("modprobe-json");
    let e = empty.to_str().unwrap();
    for module in [
        "btrfs",
        "ext4",
        "nf_tables",
        "snd_hda_intel",
        "dummy",
        "xfs",
    ] {
        let text = command(
            &ref_tool("modprobe"),
            &base_args(&tree, &["-C", e, "-D", module]),
            None,
        );
        assert!(text.status.success(), "kmod -D {module}");
        let mut a = vec![OsString::from("modprobe")];
        a.extend(base_args(&tree, &["-C", e, "-D", "--format=json", module]));
        let json = command(&modkit(), &a, None);
        assert!(json.status.success(), "modkit -D --format=json {module}");
        let v: serde_json::Value = serde_json::from_slice(&json.stdout).expect("valid JSON");
        let as_text: String = v
            .as_array()
            .expect("a JSON array")
            .iter()
            .filter_map(|a| {
                let opts = a["options_text"].as_str().unwrap_or("");
                match a["action"].as_str()? {
                    "insmod" => Some(format!("insmod {} {opts}\n", a["path"].as_str()?)),
                    "builtin" => Some(format!("builtin {}\n", a["module"].as_str()?)),
                    "install" => Some(format!("install {} {opts}\n", a["command"].as_str()?)),
                    _ => None,
                }
            })
            .collect();
        assert_eq!(as_text, String::from_utf8_lossy(&text.stdout), "{module}");

        let mut a = vec![OsString::from("modprobe")];
        a.extend(base_args(
            &tree,
            &["-C", e, "-D", "--format", "dot", module],
        ));
        let dot = command(&modkit(), &a, None);
        assert!(dot.status.success());
        let graph = String::from_utf8_lossy(&dot.stdout);
        assert!(graph.starts_with("digraph"), "{graph}");
        assert!(graph.contains(&format!("\"{module}\"")), "{graph}");
        let out = empty.join(format!("{module}.svg"));
        let mut render = Command::new("dot")
            .args(["-Tsvg", "-o"])
            .arg(&out)
            .stdin(std::process::Stdio::piped())
            .spawn()
            .expect("graphviz's dot (scripts/test.sh installs it)");
        use std::io::Write;
        render.stdin.take().unwrap().write_all(&dot.stdout).unwrap();
        assert!(render.wait().unwrap().success(), "dot rejected:\n{graph}");
        assert!(std::fs::metadata(&out).unwrap().len() > 100);
    }
}

/// Each index of a small real tree broken in turn (another file's magic, a
/// future major version, cut inside the header, empty): modprobe opens the
/// indexes up front as libkmod's `kmod_load_resources` does, so the same
/// "magic check fail" / "major version check fail" line comes first, and
/// the lookups that follow give kmod's answers.
#[test]
fn corrupt_indexes_are_reported_like_kmod() {
    if !runs(Tier::Reference) {
        return;
    }
    let tree = Tree::get("6.1");
    let dir = scratch_dir("corrupt-index");
    let moddir = dir.path().join("lib/modules").join(&tree.version);
    for rel in [
        "kernel/drivers/net/veth.ko",
        "kernel/drivers/net/dummy.ko",
        "kernel/crypto/crc32c_generic.ko",
        "kernel/lib/libcrc32c.ko",
    ] {
        let dest = moddir.join(rel);
        std::fs::create_dir_all(dest.parent().unwrap()).unwrap();
        std::fs::copy(tree.moddir().join(rel), &dest).unwrap();
    }
    for file in [
        "modules.order",
        "modules.builtin",
        "modules.builtin.modinfo",
    ] {
        std::fs::copy(tree.moddir().join(file), moddir.join(file)).unwrap();
    }
    let depmod = Command::new(ref_tool("depmod"))
        .arg("-b")
        .arg(dir.path())
        .arg(&tree.version)
        .output()
        .unwrap();
    assert!(depmod.status.success(), "depmod: {depmod:?}");
    let indexes = [
        "modules.dep.bin",
        "modules.alias.bin",
        "modules.symbols.bin",
        "modules.builtin.alias.bin",
        "modules.builtin.bin",
    ];
    let mut failures = Vec::new();
    let mut complaints = 0;
    for index in indexes {
        let path = moddir.join(index);
        let good = std::fs::read(&path).unwrap();
        let broken: [(&str, Vec<u8>); 4] = [
            ("magic", [b"XXXX", &good[4..]].concat()),
            ("version", [&good[..4], &[0, 3, 0, 1], &good[8..]].concat()),
            ("short", good[..5].to_vec()),
            ("empty", Vec::new()),
        ];
        for (how, bytes) in broken {
            std::fs::write(&path, &bytes).unwrap();
            for ops in [
                &["--show-depends", "veth"][..],
                &["--show-depends", "symbol:crc32c"],
                &["--show-depends", "rtnl-link-dummy"],
                &["--show-depends", "no-such-module"],
                &["-R", "crc32c"],
                &["-n", "-v", "-a", "dummy", "crc32c"],
            ] {
                let mut args: Vec<OsString> = vec!["-d".into(), dir.path().into()];
                args.extend(["-S", tree.version.as_str()].iter().map(OsString::from));
                args.extend(ops.iter().map(OsString::from));
                let theirs = command(&ref_tool("modprobe"), &args, None);
                complaints +=
                    usize::from(String::from_utf8_lossy(&theirs.stderr).contains("check fail"));
                if let Some(d) = compare_modprobe(&args, None) {
                    failures.push(format!("{index} ({how}): {d}"));
                }
            }
        }
        std::fs::write(&path, &good).unwrap();
    }
    // The cases must include kmod's complaint, or they prove nothing.
    assert!(complaints >= 12, "kmod complained only {complaints} times");
    assert_no_failures("corrupt indexes", &failures);
}

/// `-D --format=json` says why each module is there (which softdep), lists
/// weakdeps after the plan, gives options as a list, and each module's
/// firmware (`modinfo -F firmware`'s names, with the file found under the
/// tree's firmware directory or null).
#[test]
fn show_depends_json_has_reasons_weakdeps_options_and_firmware() {
    if !runs(Tier::Reference) {
        return;
    }
    let tree = Tree::get("6.12");
    let conf = scratch_dir("modprobe-json-why");
    let c = conf.path().join("x.conf");
    std::fs::write(
        &c,
        "softdep dummy pre: veth post: macvlan\nweakdep dummy ifb\n\
         options dummy numdummies=2 x=\"a b\"\n",
    )
    .unwrap();
    let c = c.to_str().unwrap();
    let mut a = vec![OsString::from("modprobe")];
    a.extend(base_args(&tree, &["-C", c, "-D", "--format=json", "dummy"]));
    let out = command(&modkit(), &a, None);
    assert!(out.status.success(), "{out:?}");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("valid JSON");
    let items = v.as_array().expect("an array");
    let why = |m: &str| {
        items
            .iter()
            .find(|a| a["module"] == m)
            .and_then(|a| a["why"].as_str())
            .unwrap_or_else(|| panic!("{m} missing from {v:#}"))
            .to_string()
    };
    assert_eq!(why("veth"), "pre-softdep");
    assert_eq!(why("dummy"), "requested");
    assert_eq!(why("macvlan"), "post-softdep");
    assert_eq!(why("ifb"), "weakdep");
    let last = items.last().unwrap();
    assert_eq!(last["action"], "weakdep", "weakdeps come after the plan");
    let dummy = items.iter().find(|a| a["module"] == "dummy").unwrap();
    assert_eq!(
        dummy["options"],
        serde_json::json!(["numdummies=2", "x=\"a b\""]),
        "{dummy:#}"
    );

    // firmware: a module declaring some, against kmod's modinfo
    let module = "e100";
    let mi = command(
        &ref_tool("modinfo"),
        &[
            "-b".into(),
            tree.root.clone().into_os_string(),
            "-k".into(),
            OsString::from(&tree.version),
            "-F".into(),
            "firmware".into(),
            module.into(),
        ],
        None,
    );
    let declared: Vec<String> = String::from_utf8_lossy(&mi.stdout)
        .lines()
        .map(str::to_string)
        .collect();
    assert!(!declared.is_empty(), "{module} declares no firmware");
    let mut a = vec![OsString::from("modprobe")];
    a.extend(base_args(&tree, &["-D", "--format=json", module]));
    let out = command(&modkit(), &a, None);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("valid JSON");
    let entry = v
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["module"] == module)
        .unwrap();
    let names: Vec<&str> = entry["firmware"]
        .as_array()
        .expect("a firmware list")
        .iter()
        .map(|f| f["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, declared);
    // the tree has no lib/firmware: nothing is found
    assert!(entry["firmware"]
        .as_array()
        .unwrap()
        .iter()
        .all(|f| f["file"].is_null()));
}

/// `--format=json|dot` shapes `-D`'s output; with any other action it is
/// refused before anything is done (it would otherwise be ignored while a
/// real load or removal went ahead). Offline: the directory is empty.
#[test]
fn format_without_show_depends_is_refused() {
    let dir = scratch_dir("format-without-d");
    let d = dir.path().to_str().unwrap();
    for args in [
        &["--format=json", "-d", d, "dummy"][..],
        &["--format", "dot", "-d", d, "-r", "dummy"],
        &["--format=json", "-d", d, "-c"],
        &["--format=dot", "-d", d, "-n", "-v", "dummy"],
    ] {
        let out = run_modkit("modprobe", args);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {out:?}");
        assert!(out.stdout.is_empty(), "{args:?}: {out:?}");
        assert_eq!(err.lines().count(), 1, "{args:?}: {err}");
        assert!(
            err.starts_with("modprobe: ERROR: --format=")
                && err.contains("only applies to --show-depends (-D)"),
            "{args:?}: {err}"
        );
    }
    // text is the default: accepted everywhere.
    let out = run_modkit(
        "modprobe",
        ["--format=text", "-d", d, "--show-depends", "dummy"],
    );
    assert!(
        !String::from_utf8_lossy(&out.stderr).contains("only applies"),
        "{out:?}"
    );
}
