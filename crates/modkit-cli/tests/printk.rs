//! `modkit printk` on a fake `/proc` (`--proc DIR`) and, read-only, on the
//! host's. Its effect on a real kernel (console output, dmesg -n
//! interplay) is tested in the VM (`vm/guest/dmesg.sh`, `vm_dmesg.rs`).
//! There is no reference tool: the expected texts are this tool's design.

mod common;

use common::*;
use std::path::Path;
use std::process::Output;

fn fake_proc(name: &str) -> ScratchDir {
    let dir = ScratchDir::new(&format!("printk-{name}"));
    let k = dir.join("sys/kernel");
    std::fs::create_dir_all(&k).unwrap();
    std::fs::write(k.join("printk"), "4\t4\t1\t7\n").unwrap();
    std::fs::write(k.join("printk_devkmsg"), "ratelimit\n").unwrap();
    std::fs::write(k.join("dmesg_restrict"), "1\n").unwrap();
    std::fs::write(k.join("kptr_restrict"), "0\n").unwrap();
    dir
}

fn printk(proc_dir: &Path, args: &[&str]) -> Output {
    let mut all = vec!["--proc", proc_dir.to_str().unwrap()];
    all.extend_from_slice(args);
    run_modkit("printk", all)
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn file(proc_dir: &Path, name: &str) -> String {
    std::fs::read_to_string(proc_dir.join("sys/kernel").join(name)).unwrap()
}

#[test]
fn shows_every_setting_with_level_names() {
    let p = fake_proc("show");
    let out = printk(&p, &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(
        text(&out.stdout),
        "console_loglevel          4 (warn)\n\
         default_message_loglevel  4 (warn)\n\
         minimum_console_loglevel  1 (alert)\n\
         default_console_loglevel  7 (debug)\n\
         printk_devkmsg            ratelimit\n\
         dmesg_restrict            1\n\
         kptr_restrict             0\n"
    );
    let out = printk(&p, &["console", "devkmsg"]);
    assert_eq!(
        text(&out.stdout),
        "console_loglevel          4 (warn)\nprintk_devkmsg            ratelimit\n"
    );
}

#[test]
fn sets_by_name_and_number_then_shows() {
    let p = fake_proc("set");
    let out = printk(
        &p,
        &[
            "console=debug",
            "default_message=NOTICE",
            "minimum-console=2",
            "devkmsg=on",
            "dmesg_restrict=0",
            "kptr_restrict=2",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), "");
    assert_eq!(file(&p, "printk"), "7 5 2 7\n");
    assert_eq!(file(&p, "printk_devkmsg"), "on\n");
    assert_eq!(file(&p, "dmesg_restrict"), "0\n");
    assert_eq!(file(&p, "kptr_restrict"), "2\n");
    let out = printk(&p, &["console=all", "console", "default_console"]);
    assert_eq!(
        text(&out.stdout),
        "console_loglevel          8 (all)\ndefault_console_loglevel  7 (debug)\n"
    );
}

#[test]
fn json_output() {
    let p = fake_proc("json");
    let out = printk(&p, &["--json"]);
    assert_eq!(out.status.code(), Some(0));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["console_loglevel"], 4);
    assert_eq!(v["minimum_console_loglevel"], 1);
    assert_eq!(v["printk_devkmsg"], "ratelimit");
    assert_eq!(v["kptr_restrict"], 0);
    assert_eq!(v.as_object().unwrap().len(), 7);
}

#[test]
fn bad_input_is_one_line_exit_1_and_changes_nothing() {
    let p = fake_proc("bad");
    for (args, want) in [
        (&["console=9", "nosuch=1"][..], "printk: unknown setting 'nosuch'\n"),
        (
            &["console=1", "default_message=8"][..],
            "printk: invalid value '8' for default_message_loglevel (expected a level: emerg..debug or 0..7)\n",
        ),
        (
            &["console=warning"][..],
            "printk: invalid value 'warning' for console_loglevel (expected a level: emerg..debug, all, or 0..15)\n",
        ),
        (
            &["devkmsg=yes"][..],
            "printk: invalid value 'yes' for printk_devkmsg (expected on, off or ratelimit)\n",
        ),
        (
            &["dmesg_restrict="][..],
            "printk: invalid value '' for dmesg_restrict (expected 0 or 1)\n",
        ),
        (&["=1"][..], "printk: unknown setting ''\n"),
    ] {
        let out = printk(&p, args);
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        assert_eq!(text(&out.stderr), want, "{args:?}");
        assert_eq!(text(&out.stdout), "");
        assert_eq!(file(&p, "printk"), "4\t4\t1\t7\n", "{args:?} wrote");
    }
    let out = printk(&p, &["--bogus"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        text(&out.stderr),
        "printk: unrecognized option '--bogus'\nTry 'printk --help' for more information.\n"
    );
    // A broken or missing file: one line naming it.
    std::fs::write(p.join("sys/kernel/printk"), "4 4\n").unwrap();
    let out = printk(&p, &["console"]);
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(
        err.starts_with("printk: ") && err.ends_with("got '4 4'\n") && err.lines().count() == 1,
        "{err}"
    );
    let missing = p.join("nowhere");
    let out = printk(&missing, &["console=3"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        text(&out.stderr),
        format!(
            "printk: {}/sys/kernel/printk: No such file or directory\n",
            missing.display()
        )
    );
}

/// Read-only on the host: the levels shown are the host's.
#[test]
fn shows_the_host_kernel_levels() {
    let raw = std::fs::read_to_string("/proc/sys/kernel/printk").unwrap();
    let fields: Vec<&str> = raw.split_whitespace().collect();
    let out = run_modkit(
        "printk",
        [
            "console",
            "default_message",
            "minimum_console",
            "default_console",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let shown: Vec<String> = text(&out.stdout)
        .lines()
        .map(|l| l.split_whitespace().nth(1).unwrap().to_string())
        .collect();
    assert_eq!(shown, fields);
}
