//! `modkit taint` and `modkit audit` as commands: their output, JSON and
//! exit statuses on prepared `/proc` + `/sys` trees (`--root`), bad usage,
//! and a run on this host (whose kernel has no module support, no debugfs
//! or tracefs mounted: the report must say so in words, not skip). The live
//! kernels are in `vm_audit.rs`, the decoding against the kernel's own
//! script in `taint_vs_chktaint.rs`.

mod common;

use common::*;
use std::path::Path;

fn write(root: &Path, rel: &str, text: &str) {
    let p = root.join(rel);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, text).unwrap();
}

/// mk_a and mk_b loaded (out-of-tree, unsigned; mk_b also proprietary),
/// the kernel tainted P, W, O, E.
fn tainted_tree() -> ScratchDir {
    let root = ScratchDir::new("taint-cli");
    let r = root.path();
    write(r, "proc/sys/kernel/tainted", "12801\n");
    write(
        r,
        "proc/modules",
        "mk_b 16384 0 - Live 0x0 (POE)\nmk_a 12288 0 - Live 0x0 (OE)\nclean 4096 0 - Live 0x0\n",
    );
    for (m, t) in [("mk_b", "POE"), ("mk_a", "OE"), ("clean", "")] {
        write(r, &format!("sys/module/{m}/taint"), &format!("{t}\n"));
        write(r, &format!("sys/module/{m}/initstate"), "live\n");
    }
    root
}

fn stdout(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn taint_names_the_modules_of_each_flag() {
    let root = tainted_tree();
    let out = run_modkit("taint", ["--root", root.path().to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0));
    let pad = " ".repeat(33);
    assert_eq!(
        stdout(&out),
        format!(
            "tainted: 12801 (0x3201) 'P        W  OE      '\n\
             \x20 P  bit 0   PROPRIETARY_MODULE  a proprietary module was loaded\n\
             {pad}modules: mk_b\n\
             \x20 W  bit 9   WARN                the kernel issued a warning\n\
             \x20 O  bit 12  OOT_MODULE          an externally-built (out-of-tree) module was loaded\n\
             {pad}modules: mk_b, mk_a\n\
             \x20 E  bit 13  UNSIGNED_MODULE     an unsigned module was loaded\n\
             {pad}modules: mk_b, mk_a\n\
             modules with taint:\n\
             \x20 mk_b  POE\n\
             \x20 mk_a  OE\n"
        )
    );
    let out = run_modkit("taint", ["--json", "--root", root.path().to_str().unwrap()]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["value"], 12801);
    assert_eq!(v["kernel_string"], "Tainted: P        W  OE      ");
    assert_eq!(v["flags"][2]["letter"], "O");
    assert_eq!(
        v["flags"][2]["modules"],
        serde_json::json!(["mk_b", "mk_a"])
    );
    assert_eq!(v["flags"][1]["per_module"], false);
    assert_eq!(
        v["modules"],
        serde_json::json!([{"name": "mk_b", "taint": "POE"}, {"name": "mk_a", "taint": "OE"}])
    );

    // a flag no loaded module carries
    write(root.path(), "sys/module/mk_b/taint", "OE\n");
    let out = run_modkit("taint", ["--root", root.path().to_str().unwrap()]);
    assert!(
        stdout(&out).contains(&format!(
            "  P  bit 0   PROPRIETARY_MODULE  a proprietary module was loaded\n{pad}no loaded module carries it (unloaded since, or hidden: see modkit audit)\n"
        )),
        "{}",
        stdout(&out)
    );
}

#[test]
fn taint_names_modules_proc_modules_does_not_list() {
    let root = tainted_tree();
    write(root.path(), "sys/module/mk_b/taint", "OE\n");
    write(root.path(), "sys/module/rk/initstate", "live\n");
    write(root.path(), "sys/module/rk/taint", "P\n");
    let out = run_modkit("taint", ["--root", root.path().to_str().unwrap()]);
    let pad = " ".repeat(33);
    let text = stdout(&out);
    assert!(
        text.contains(&format!(
            "  P  bit 0   PROPRIETARY_MODULE  a proprietary module was loaded\n\
             {pad}not listed in /proc/modules, only in /sys/module (hidden?): rk\n\
             \x20 W  bit 9 "
        )),
        "{text}"
    );
    assert!(
        text.ends_with(
            "modules with taint in /sys/module that /proc/modules does not list:\n  rk  P\n\
             modules with taint:\n  mk_b  OE\n  mk_a  OE\n"
        ),
        "{text}"
    );
    let out = run_modkit("taint", ["--json", "--root", root.path().to_str().unwrap()]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["flags"][0]["unlisted_modules"], serde_json::json!(["rk"]));
    assert_eq!(
        v["unlisted_modules"],
        serde_json::json!([{"name": "rk", "taint": "P"}])
    );
}

#[test]
fn taint_decodes_a_given_value_and_rejects_bad_ones() {
    let out = run_modkit("taint", ["0x40001"]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        stdout(&out),
        "tainted: 262145 (0x40001) 'P                 N '\n\
         \x20 P  bit 0   PROPRIETARY_MODULE  a proprietary module was loaded\n\
         \x20 N  bit 18  TEST                an in-kernel test was run\n"
    );
    let out = run_modkit("taint", [(1u64 << 45 | 1 << 19).to_string()]);
    assert_eq!(
        stdout(&out),
        "tainted: 35184372613120 (0x200000080000) 'G                  J'\n\
         \x20 J  bit 19  FWCTL  userspace used a mutating debug operation in fwctl\n\
         \x20 ?  bit 45  (a bit no known flag names)\n"
    );
    assert_eq!(
        stdout(&run_modkit("taint", ["0"])),
        "tainted: 0 (not tainted)\n"
    );
    for (args, err) in [
        (
            vec!["-1"],
            "taint: invalid option -- '1'\nTry 'taint --help' for more information.\n",
        ),
        (
            vec!["x1"],
            "taint: 'x1' is not a taint value (a non-negative integer below 2^64)\n",
        ),
        (
            vec!["--", "-1"],
            "taint: '-1' is not a taint value (a non-negative integer below 2^64)\n",
        ),
        (
            vec!["1", "2"],
            "taint: too many operands: one VALUE at most\n",
        ),
        (
            vec!["--bogus"],
            "taint: unrecognized option '--bogus'\nTry 'taint --help' for more information.\n",
        ),
    ] {
        let out = run_modkit("taint", &args);
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        assert_eq!(String::from_utf8_lossy(&out.stderr), err, "{args:?}");
        assert!(out.stdout.is_empty());
    }
    let empty = ScratchDir::new("taint-empty");
    let out = run_modkit("taint", ["--root", empty.path().to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        format!(
            "taint: {}/proc/sys/kernel/tainted: No such file or directory\n",
            empty.path().display()
        )
    );
}

#[test]
fn audit_exit_statuses_text_and_json() {
    let root = tainted_tree();
    let r = root.path().to_str().unwrap();
    // tainting modules, unreadable parts: warnings
    let out = run_modkit("audit", ["--root", r]);
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    let text = stdout(&out);
    assert!(
        text.starts_with("modkit audit of an unknown kernel: 0 alerts, "),
        "{text}"
    );
    assert!(text.contains(
        "WARNING  module.tainting          mk_b: module mk_b taints the kernel: proprietary, out-of-tree, unsigned\n\
         \x20          /sys/module/mk_b/taint: POE\n\
         \x20          /proc/modules: mk_b 16384 0 - Live 0x0 (POE)\n"
    ), "{text}");
    assert!(
        text.contains("cannot check the registered kprobes: debugfs is not mounted at "),
        "{text}"
    );
    assert!(
        text.ends_with("needs attention: see the warnings\n"),
        "{text}"
    );

    // a module in sysfs that /proc/modules does not list: an alert
    write(root.path(), "sys/module/rk/initstate", "live\n");
    write(root.path(), "sys/module/rk/refcnt", "0\n");
    let out = run_modkit("audit", ["--json", "--root", r]);
    assert_eq!(out.status.code(), Some(2));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["status"], 2);
    assert_eq!(v["counts"]["alert"], 1);
    assert_eq!(v["findings"][0]["check"], "module.hidden");
    assert_eq!(v["findings"][0]["subject"], "rk");
    assert_eq!(
        v["findings"][0]["evidence"],
        serde_json::json!([
            "/sys/module/rk: initstate=live, refcnt=0",
            "/proc/modules: no line for rk"
        ])
    );
    assert_eq!(v["taint"]["value"], 12801);

    for (args, err) in [
        (
            vec!["extra"],
            "audit: unexpected operand 'extra'\n".to_string(),
        ),
        (
            vec!["--root", "/nonexistent/x"],
            "audit: /nonexistent/x: not a directory\n".to_string(),
        ),
        (
            vec!["-x"],
            "audit: invalid option -- 'x'\nTry 'audit --help' for more information.\n".to_string(),
        ),
    ] {
        let out = run_modkit("audit", &args);
        assert_eq!(out.status.code(), Some(3), "{args:?}");
        assert_eq!(String::from_utf8_lossy(&out.stderr), err);
    }
}

/// This host: `taint` reads the real value; `audit` runs to the end and
/// says in words what it could not check.
#[test]
fn host_run_says_what_it_cannot_check() {
    let value = std::fs::read_to_string("/proc/sys/kernel/tainted").unwrap();
    let out = run_modkit("taint", ["--json"]);
    assert_eq!(out.status.code(), Some(0));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["value"].to_string(), value.trim());

    let out = run_modkit("audit", ["--json"]);
    let code = out.status.code().unwrap();
    assert!(
        (0..=2).contains(&code),
        "exit {code}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let findings = v["findings"].as_array().unwrap();
    let about = |path: &str| {
        findings
            .iter()
            .find(|f| f["subject"] == path)
            .map(|f| f["summary"].as_str().unwrap().to_string())
    };
    eprintln!(
        "modkit audit on this host (exit {code}):\n{}",
        stdout(&run_modkit("audit", Vec::<&str>::new()))
    );
    if !Path::new("/proc/modules").exists() {
        assert_eq!(
            about("/proc/modules").as_deref(),
            Some("this kernel has no loadable-module support (no /proc/modules): no module can be loaded, hidden or tainting; module checks not done")
        );
    }
    if !Path::new("/sys/kernel/debug/kprobes/list").exists() {
        let s = about("/sys/kernel/debug/kprobes/list").expect("kprobes/list not reported");
        assert!(
            s.starts_with("cannot check the registered kprobes: "),
            "{s}"
        );
    }
    if !Path::new("/sys/kernel/security/lockdown").exists() {
        assert!(
            about("/sys/kernel/security/lockdown").is_some(),
            "lockdown not reported"
        );
    }
    // every finding says something, with evidence for each failed read
    for f in findings {
        assert!(!f["summary"].as_str().unwrap().is_empty());
        if f["check"] == "unreadable" || f["check"] == "unavailable" {
            assert!(!f["evidence"].as_array().unwrap().is_empty(), "{f}");
        }
    }
}
