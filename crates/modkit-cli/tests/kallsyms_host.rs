//! `modkit kallsyms` on this machine's `/proc/kallsyms` against `grep` and
//! `sort` on the same file: exact names, globs, type and module filters,
//! and addresses inside functions named `name+0xOFF/0xSIZE` with the size
//! to the next higher address; hidden addresses said plainly; `param` on a
//! copy of a module's sysfs directory refusing read-only and bad values
//! without writing.

mod common;

use common::*;
use std::process::Command;

fn kallsyms() -> String {
    std::fs::read_to_string("/proc/kallsyms").expect("/proc/kallsyms")
}

fn grep(args: &[&str], file: &str) -> String {
    let out = Command::new("grep").args(args).arg(file).output().unwrap();
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn names_and_globs_agree_with_grep() {
    let table = kallsyms();
    // A few global functions and a name present several times.
    let mut names = vec!["_text", "do_sys_open", "vfs_read", "schedule"];
    names.retain(|n| table.contains(&format!(" {n}\n")));
    assert!(!names.is_empty());
    for name in names {
        let ours = run_modkit("kallsyms", [name]);
        let pattern = format!(" {name}(\t.*)?$");
        let want = grep(&["-E", &pattern], "/proc/kallsyms");
        assert_eq!(String::from_utf8_lossy(&ours.stdout), want, "{name}");
    }
    let ours = run_modkit("kallsyms", ["vfs_rea*", "-t", "Tt"]);
    let want = grep(&["-E", " [Tt] vfs_rea[^ \t]*(\t.*)?$"], "/proc/kallsyms");
    assert!(!want.is_empty());
    assert_eq!(String::from_utf8_lossy(&ours.stdout), want);
    let ours = run_modkit("kallsyms", ["--type", "D", "--module", "kernel"]);
    let want = grep(&["-E", "^[0-9a-f]+ D [^\t]*$"], "/proc/kallsyms");
    assert_eq!(String::from_utf8_lossy(&ours.stdout), want);
    let missing = run_modkit("kallsyms", ["no_such_symbol_anywhere"]);
    assert_eq!(missing.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&missing.stderr),
        "modkit kallsyms: no_such_symbol_anywhere: no such symbol\n"
    );
}

#[test]
fn addresses_resolve_like_percent_ps() {
    let table = kallsyms();
    if table.lines().all(|l| l.starts_with("0000000000000000")) {
        // Hidden here: the plain message, tested below with a copy.
        return;
    }
    // vfs_read's address by grep, the next higher core address by sort.
    let line = grep(&["-E", " T vfs_read$"], "/proc/kallsyms");
    let addr = u64::from_str_radix(line.split(' ').next().unwrap(), 16).unwrap();
    let sorted = Command::new("sh")
        .arg("-c")
        .arg("grep -v '\t' /proc/kallsyms | grep -v ' [aA] ' | cut -d' ' -f1 | sort -u")
        .output()
        .unwrap();
    let addrs: Vec<u64> = String::from_utf8_lossy(&sorted.stdout)
        .lines()
        .map(|a| u64::from_str_radix(a, 16).unwrap())
        .collect();
    let next = *addrs.iter().find(|&&a| a > addr).unwrap();
    for off in [0u64, 1, 0x10] {
        if addr + off >= next {
            continue;
        }
        let q = format!("{:#x}", addr + off);
        let out = run_modkit("kallsyms", [&q]);
        assert_eq!(
            String::from_utf8_lossy(&out.stdout),
            format!("{:016x} vfs_read+{off:#x}/{:#x}\n", addr + off, next - addr),
        );
    }
    let out = run_modkit("kallsyms", ["--json", &format!("{:#x}", addr + 3)]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v[0]["symbol"], "vfs_read");
    assert_eq!(v[0]["offset"], "0x3");
}

#[test]
fn hidden_addresses_are_said_plainly() {
    let dir = ScratchDir::new("kallsyms-hidden");
    let map = dir.join("kallsyms");
    std::fs::write(
        &map,
        "0000000000000000 T _text\n0000000000000000 t helper\t[mk]\n",
    )
    .unwrap();
    let m = map.to_string_lossy().into_owned();
    let out = run_modkit("kallsyms", ["-m", &m, "0xffffffff81000000"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        format!("modkit kallsyms: every address in {m} reads as 0: the kernel hides them (kptr_restrict, or not root)\n")
    );
    let out = run_modkit("kallsyms", ["-m", &m, "helper"]);
    assert!(out.status.success());
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "0000000000000000 t helper\t[mk]\n"
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("the kernel hides them"));
}

#[test]
fn param_refuses_read_only_and_bad_values_without_writing() {
    use std::os::unix::fs::PermissionsExt;
    let root = ScratchDir::new("param-sys");
    let dir = root.join("mk_params/parameters");
    std::fs::create_dir_all(&dir).unwrap();
    for (name, value, mode) in [
        ("p_int", "-42\n", 0o644),
        ("p_ushort", "3\n", 0o444),
        ("p_bool", "N\n", 0o644),
    ] {
        std::fs::write(dir.join(name), value).unwrap();
        std::fs::set_permissions(dir.join(name), std::fs::Permissions::from_mode(mode)).unwrap();
    }
    // Types come from a module file of a fake tree.
    let tree = root.join("tree/lib/modules/9.9.9");
    std::fs::create_dir_all(tree.join("extra")).unwrap();
    std::fs::write(
        tree.join("extra/mk_params.ko"),
        modkit_testkit::module_image(
            &[
                ("parmtype", "p_int:int"),
                ("parm", "p_int:an int"),
                ("parmtype", "p_ushort:ushort"),
                ("parmtype", "p_bool:bool"),
            ],
            &[],
            &[],
        ),
    )
    .unwrap();
    std::fs::write(tree.join("modules.dep"), "extra/mk_params.ko:\n").unwrap();
    let out = Command::new(modkit())
        .args(["depmod", "-b"])
        .arg(root.join("tree"))
        .arg("9.9.9")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let base = |extra: &[&str]| {
        let mut a: Vec<String> = vec![
            "--sys-module".into(),
            root.path().to_string_lossy().into_owned(),
            "-b".into(),
            root.join("tree").to_string_lossy().into_owned(),
            "-k".into(),
            "9.9.9".into(),
            "mk_params".into(),
        ];
        a.extend(extra.iter().map(|s| s.to_string()));
        a
    };
    let out = run_modkit("param", base(&[]));
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "mk_params.p_int\t-42\tint\t0644\tan int\nmk_params.p_ushort\t3\tushort\t0444\t\nmk_params.p_bool\tN\tbool\t0644\t\n"
    );
    for (args, msg) in [
        (&["p_int=7", "p_ushort=1"][..], "mk_params.p_ushort: read-only (mode 0444); nothing written"),
        (&["p_int=2147483648"][..], "mk_params.p_int: 2147483648 is out of range -2147483648..=2147483647; nothing written"),
        (&["p_bool=maybe"][..], "mk_params.p_bool: 'maybe' is not a bool (y, n, 1, 0, on, off, true, false); nothing written"),
        (&["nosuch=1"][..], "mk_params.nosuch: no such parameter; nothing written"),
    ] {
        let out = run_modkit("param", base(args));
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        assert_eq!(String::from_utf8_lossy(&out.stderr), format!("modkit param: {msg}\n"));
        assert_eq!(std::fs::read_to_string(dir.join("p_int")).unwrap(), "-42\n", "written despite {args:?}");
        assert_eq!(std::fs::read_to_string(dir.join("p_ushort")).unwrap(), "3\n");
    }
    let out = run_modkit("param", base(&["p_int=0x10", "p_bool=on"]));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(std::fs::read_to_string(dir.join("p_int")).unwrap(), "0x10");
    assert_eq!(std::fs::read_to_string(dir.join("p_bool")).unwrap(), "on");
}

#[test]
fn a_large_table_is_streamed_with_the_same_answers_as_grep() {
    // Over 16 MB (many read chunks; lines cross chunk boundaries): this
    // machine's table three times over, the copies as modules' symbols.
    let table = kallsyms();
    let mut big = table.clone();
    for m in ["mk_big_a", "mk_big_b"] {
        for line in table.lines().filter(|l| !l.contains('\t')) {
            big.push_str(&format!("{line}\t[{m}]\n"));
        }
    }
    let dir = ScratchDir::new("kallsyms-big");
    let file = dir.path().join("big");
    std::fs::write(&file, &big).unwrap();
    let file = file.to_str().unwrap();
    let ours = run_modkit(
        "kallsyms",
        ["-m", file, "vfs_read", "*_read_iter", "[sv]fs_?*"],
    );
    assert_eq!(ours.status.code(), Some(0));
    let mut want = grep(&["-E", " vfs_read(\t.*)?$"], file);
    want += &grep(&["-E", " [^ \t]*_read_iter(\t.*)?$"], file);
    want += &grep(&["-E", " [sv]fs_[^ \t]+(\t.*)?$"], file);
    assert_eq!(String::from_utf8_lossy(&ours.stdout), want);
    // One module's copy only.
    let ours = run_modkit("kallsyms", ["-m", file, "-M", "mk_big_b", "vfs_read"]);
    assert_eq!(
        String::from_utf8_lossy(&ours.stdout),
        grep(&["-E", " vfs_read\t\\[mk_big_b\\]$"], file)
    );
}

#[test]
fn streamed_scans_fail_plainly() {
    let dir = ScratchDir::new("kallsyms-bad");
    let file = dir.path().join("map");
    // A malformed line is an error only when it is the one asked for.
    std::fs::write(
        &file,
        "ffffffff81000000 T _text\nzz T broken\nffffffff81000010 T fine\n",
    )
    .unwrap();
    let file = file.to_str().unwrap();
    let ours = run_modkit("kallsyms", ["-m", file, "fine"]);
    assert_eq!(ours.status.code(), Some(0));
    assert_eq!(
        String::from_utf8_lossy(&ours.stdout),
        "ffffffff81000010 T fine\n"
    );
    let ours = run_modkit("kallsyms", ["-m", file, "fine", "broken"]);
    assert_eq!(ours.status.code(), Some(1));
    assert_eq!(ours.stdout, b"");
    assert_eq!(
        String::from_utf8_lossy(&ours.stderr),
        format!("modkit kallsyms: {file}: line 2: not a symbol table line (ADDRESS TYPE NAME [[MODULE]])\n")
    );
    let missing = dir.path().join("missing");
    let ours = run_modkit("kallsyms", ["-m", missing.to_str().unwrap(), "fine"]);
    assert_eq!(ours.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&ours.stderr),
        format!(
            "modkit kallsyms: {}: No such file or directory\n",
            missing.display()
        )
    );
}
