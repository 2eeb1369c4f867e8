//! `modkit kprobe` off a live kprobe-capable kernel: on this host (a kernel
//! without kprobe events) every subcommand fails with the one clear line
//! and exit status 1; on a fake tracefs (`--tracefs DIR`, a directory made
//! to look like one, with texts recorded from Debian's 6.1 and 6.12
//! kernels) `list`, `stats`, `blacklist`, `add`'s checks and `del` read
//! and write what they should. The probes themselves are tested on real
//! kernels in the VM (`vm/guest/kprobe.sh`, `vm_kprobe.rs`).

mod common;

use common::*;
use std::path::Path;
use std::process::Output;

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// What the host's kernel offers: its configuration, and a mounted tracefs.
fn host_has_kprobe_events() -> bool {
    Path::new("/sys/kernel/tracing/kprobe_events").exists()
        || Path::new("/sys/kernel/debug/tracing/kprobe_events").exists()
}

const SUBCOMMANDS: &[&[&str]] = &[
    &["list"],
    &["list", "--json"],
    &["add", "vfs_read"],
    &["add", "-r", "vfs_read", "$retval"],
    &["del", "--all"],
    &["del", "p_vfs_read_0"],
    &["enable", "--all"],
    &["disable", "p_vfs_read_0"],
    &["stats"],
    &["stats", "--json"],
    &["blacklist"],
    &["blacklist", "do_int3"],
    &["check", "vfs_read"],
    &["trace", "-n", "1"],
    &["trace", "-p", "vfs_read"],
    &["vfs_read", "%di", "-n", "1"],
];

#[test]
fn host_without_kprobe_events_every_subcommand_fails_with_the_reason() {
    if host_has_kprobe_events() {
        // A host with kprobe events: reading them must work instead.
        let out = run_modkit("kprobe", ["list"]);
        assert!(out.status.success(), "{}", text(&out.stderr));
        return;
    }
    for args in SUBCOMMANDS {
        let out = run_modkit("kprobe", args.iter());
        let err = text(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {err}");
        assert!(
            out.stdout.is_empty(),
            "{args:?}: stdout {:?}",
            text(&out.stdout)
        );
        assert_eq!(err.lines().count(), 1, "{args:?}: {err}");
        assert!(err.starts_with("modkit kprobe: "), "{args:?}: {err}");
        let known = [
            "this kernel has no kprobe events: it was built without CONFIG_KPROBE_EVENTS (",
            "tracefs is not mounted: mount it with 'mount -t tracefs nodev /sys/kernel/tracing'",
            "this kernel has no tracefs",
            "permission denied: kprobes need root",
        ];
        assert!(known.iter().any(|k| err.contains(k)), "{args:?}: {err}");
    }
}

/// A tracefs and debugfs made of plain files, with texts recorded on
/// Debian's 6.12 kernel.
fn fake_tracefs(name: &str, with_kprobe_events: bool) -> ScratchDir {
    let dir = ScratchDir::new(&format!("kprobe-{name}"));
    let t = dir.join("tracing");
    std::fs::create_dir_all(t.join("events/modkit/kp")).unwrap();
    std::fs::create_dir_all(t.join("events/modkit/krp")).unwrap();
    std::fs::create_dir_all(t.join("events/other/x")).unwrap();
    std::fs::create_dir_all(dir.join("debug/kprobes")).unwrap();
    std::fs::write(t.join("trace"), "").unwrap();
    if !with_kprobe_events {
        return dir;
    }
    std::fs::write(
        t.join("kprobe_events"),
        "p:modkit/kp mk_kptarget_fn value=%di:s32 idx=%si tag=+0(%dx):string\n\
         r10:modkit/krp mk_kptarget_fn ret=$retval:s64\n\
         p:other/x vfs_read\n",
    )
    .unwrap();
    std::fs::write(
        t.join("kprobe_profile"),
        "  kp                                                         3               0\n  \
         krp                                                        3               1\n  \
         x                                                          9               0\n",
    )
    .unwrap();
    std::fs::write(t.join("events/modkit/kp/enable"), "1\n").unwrap();
    std::fs::write(t.join("events/modkit/krp/enable"), "0\n").unwrap();
    std::fs::write(t.join("events/other/x/enable"), "0\n").unwrap();
    std::fs::write(
        t.join("README"),
        "\t fetcharg: (%<register>|$<efield>), @<address>, @<symbol>[+|-<offset>],\n\
         \t           $stack<index>, $stack, $retval, $comm, $arg<N>,\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("debug/kprobes/blacklist"),
        "0xffffffff8e009990-0xffffffff8e0099b0\tasm_exc_divide_error\n\
         0xffffffff8e032980-0xffffffff8e0329d0\tdo_int3\n\
         0xffffffffc0001000-0xffffffffc0001010\tmod_fn [mymod]\n",
    )
    .unwrap();
    dir
}

fn kprobe(dir: &Path, args: &[&str]) -> Output {
    let t = dir.join("tracing");
    let d = dir.join("debug");
    let mut all = vec![
        "--tracefs",
        t.to_str().unwrap(),
        "--debugfs",
        d.to_str().unwrap(),
    ];
    all.extend_from_slice(args);
    run_modkit("kprobe", all)
}

#[test]
fn fake_tracefs_without_kprobe_events() {
    let dir = fake_tracefs("none", false);
    let out = kprobe(&dir, &["list"]);
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(
        err.contains("has no kprobe events: it was built without CONFIG_KPROBE_EVENTS")
            && err.contains("kprobe_events is missing"),
        "{err}"
    );
}

#[test]
fn fake_tracefs_list_text_and_json() {
    let dir = fake_tracefs("list", true);
    let out = kprobe(&dir, &["list"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let s = text(&out.stdout);
    let lines: Vec<&str> = s.lines().collect();
    assert_eq!(lines.len(), 3, "{s}");
    assert!(lines[0].starts_with("modkit/kp "), "{s}");
    assert!(
        lines[0].contains(
            " kprobe    enabled  mk_kptarget_fn value=%di:s32 idx=%si tag=+0(%dx):string"
        ),
        "{s}"
    );
    assert!(
        lines[1].contains("kretprobe disabled mk_kptarget_fn ret=$retval:s64"),
        "{s}"
    );
    let out = kprobe(&dir, &["list", "--json", "-g", "modkit"]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v.as_array().unwrap().len(), 2);
    assert_eq!(v[1]["type"], "kretprobe");
    assert_eq!(v[1]["maxactive"], 10);
    assert_eq!(v[0]["enabled"], true);
    assert_eq!(v[0]["args"][2], "tag=+0(%dx):string");
}

#[test]
fn fake_tracefs_stats() {
    let dir = fake_tracefs("stats", true);
    let out = kprobe(&dir, &["stats", "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v.as_array().unwrap().len(), 3);
    assert_eq!(v[1]["event"], "modkit/krp");
    assert_eq!(
        (v[1]["hits"].as_u64(), v[1]["misses"].as_u64()),
        (Some(3), Some(1))
    );
    let out = kprobe(&dir, &["stats", "kp"]);
    assert_eq!(
        text(&out.stdout),
        format!(
            "{:<32} {:>15} {:>15}\n{:<32} {:>15} {:>15}\n",
            "EVENT", "HITS", "MISSES", "modkit/kp", 3, 0
        )
    );
    let out = kprobe(&dir, &["stats", "nope"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        text(&out.stderr),
        "modkit kprobe: stats: no kprobe event modkit/nope\n"
    );
}

#[test]
fn fake_tracefs_blacklist() {
    let dir = fake_tracefs("blacklist", true);
    let out = kprobe(&dir, &["blacklist"]);
    assert!(out.status.success());
    let s = text(&out.stdout);
    assert_eq!(s.lines().count(), 3);
    assert!(
        s.contains("0xffffffff8e032980-0xffffffff8e0329d0 do_int3\n"),
        "{s}"
    );
    assert!(s.contains("mod_fn [mymod]\n"), "{s}");
    let out = kprobe(&dir, &["blacklist", "do_int3", "not_there"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        text(&out.stdout),
        "0xffffffff8e032980-0xffffffff8e0329d0 do_int3\nnot_there: not blacklisted\n"
    );
    let out = kprobe(&dir, &["blacklist", "--json", "mod_fn"]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v[0]["module"], "mymod");
    assert_eq!(v[0]["start"], "0xffffffffc0001000");
}

#[test]
fn fake_tracefs_add_checks_before_writing() {
    let dir = fake_tracefs("add", true);
    let events = dir.join("tracing/kprobe_events");
    let before = std::fs::read(&events).unwrap();
    for (args, msg) in [
        (
            &["add", "kp=mk_kptarget_fn"][..],
            "event modkit/kp already exists (p:modkit/kp mk_kptarget_fn value=%di:s32",
        ),
        (
            &["add", "f", "%rdi"][..],
            "bad probe: '%rdi': unknown register %rdi (the kernel names it %di)",
        ),
        (
            &["add", "f", "$retval"][..],
            "$retval is only for a return probe (add -r)",
        ),
        (
            &["add", "f", "filename"][..],
            "this kernel has no BTF argument names",
        ),
        (
            &["add", "-r", "f+4"][..],
            "a return probe goes on a function's entry",
        ),
        (&["add", "bad-name=f"][..], "event name 'bad-name'"),
        (&["add"][..], "add: a place to probe is needed"),
        (&["del", "nope"][..], "del: no kprobe event modkit/nope"),
        (&["del", "x"][..], "del: no kprobe event modkit/x"),
        (&["enable"][..], "enable: event names or --all needed"),
        (
            &["trace", "-n", "1", "-g", "empty"][..],
            "trace: no kprobe events in group empty",
        ),
        (&["check"][..], "check: one SYMBOL"),
    ] {
        let out = kprobe(&dir, args);
        let err = text(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {err}");
        assert_eq!(err.lines().count(), 1, "{args:?}: {err}");
        assert!(err.contains(msg), "{args:?}: {err}");
    }
    assert_eq!(
        std::fs::read(&events).unwrap(),
        before,
        "nothing was written"
    );
    // A good probe is appended as the kernel's line, and its name printed.
    let out = kprobe(
        &dir,
        &[
            "add",
            "-r",
            "--maxactive",
            "4",
            "r1=mk_kptarget_fn",
            "rv=$retval:s64",
            "$comm",
        ],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), "modkit/r1\n");
    let after = String::from_utf8(std::fs::read(&events).unwrap()).unwrap();
    assert!(
        after.ends_with("\nr4:modkit/r1 mk_kptarget_fn rv=$retval:s64 $comm\n"),
        "{after}"
    );
}

/// A kp record (the format below): pid, probed address, value, idx, tag.
fn kp_record(pid: i32, ip: u64, value: i32, idx: u64, tag: &str) -> Vec<u8> {
    let mut r = vec![0u8; 32];
    r[0..2].copy_from_slice(&1561u16.to_le_bytes());
    r[4..8].copy_from_slice(&pid.to_le_bytes());
    r[8..16].copy_from_slice(&ip.to_le_bytes());
    r[16..20].copy_from_slice(&value.to_le_bytes());
    r[20..28].copy_from_slice(&idx.to_le_bytes());
    let loc = 32u32 | ((tag.len() as u32 + 1) << 16);
    r[28..32].copy_from_slice(&loc.to_le_bytes());
    r.extend_from_slice(tag.as_bytes());
    r.push(0);
    while !r.len().is_multiple_of(4) {
        r.push(0);
    }
    r
}

/// A ring-buffer page: time stamp, commit, events (small ones, with their
/// time deltas in ns).
fn page(ts: u64, events: &[(u32, Vec<u8>)]) -> Vec<u8> {
    let mut data = Vec::new();
    for (delta, rec) in events {
        data.extend_from_slice(&((rec.len() as u32 / 4) | delta << 5).to_le_bytes());
        data.extend_from_slice(rec);
    }
    let mut p = ts.to_le_bytes().to_vec();
    p.extend_from_slice(&(data.len() as u64).to_le_bytes());
    p.extend_from_slice(&data);
    p.resize(4096, 0);
    p
}

#[test]
fn fake_tracefs_trace_decodes_the_raw_per_cpu_buffers() {
    let dir = fake_tracefs("rawtrace", true);
    let t = dir.join("tracing");
    std::fs::write(
        t.join("events/modkit/kp/format"),
        "name: kp\nID: 1561\nformat:\n\
         \tfield:unsigned short common_type;\toffset:0;\tsize:2;\tsigned:0;\n\
         \tfield:unsigned char common_flags;\toffset:2;\tsize:1;\tsigned:0;\n\
         \tfield:unsigned char common_preempt_count;\toffset:3;\tsize:1;\tsigned:0;\n\
         \tfield:int common_pid;\toffset:4;\tsize:4;\tsigned:1;\n\n\
         \tfield:unsigned long __probe_ip;\toffset:8;\tsize:8;\tsigned:0;\n\
         \tfield:s32 value;\toffset:16;\tsize:4;\tsigned:1;\n\
         \tfield:u64 idx;\toffset:20;\tsize:8;\tsigned:0;\n\
         \tfield:__data_loc char[] tag;\toffset:28;\tsize:4;\tsigned:1;\n\n\
         print fmt: \"(%lx) value=%d idx=%Lu tag=\\\"%s\\\"\", REC->__probe_ip, REC->value, REC->idx, __get_str(tag)\n",
    )
    .unwrap();
    std::fs::write(
        t.join("trace_clock"),
        "[local] global counter uptime perf mono mono_raw boot x86-tsc\n",
    )
    .unwrap();
    std::fs::write(t.join("saved_cmdlines"), "4242 myproc\n").unwrap();
    // Two CPUs; cpu1's event is earlier than cpu0's second one.
    for (cpu, p) in [
        (
            0,
            page(
                5_000_000_000,
                &[
                    (3000, kp_record(4242, 0x10, -7, 3, "hello world")),
                    (10_000, kp_record(4242, 0x10, 8, 4, "x")),
                ],
            ),
        ),
        (
            1,
            page(5_000_005_000, &[(0, kp_record(77, 0x10, 1, 2, "y"))]),
        ),
    ] {
        let d = t.join(format!("per_cpu/cpu{cpu}"));
        std::fs::create_dir_all(&d).unwrap();
        std::fs::write(d.join("trace_pipe_raw"), p).unwrap();
    }
    let out = kprobe(&dir, &["trace", "kp", "-n", "3"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(
        text(&out.stdout),
        "5.000003 0 4242 myproc kp value=-7 idx=3 tag=\"hello world\"\n\
         5.000005 1 77 <...> kp value=1 idx=2 tag=y\n\
         5.000013 0 4242 myproc kp value=8 idx=4 tag=x\n"
    );
    assert!(
        text(&out.stderr).contains("3 events printed in"),
        "{}",
        text(&out.stderr)
    );
    // -b: the buffer size for the trace, put back (as its expanded size).
    std::fs::write(t.join("buffer_size_kb"), "7 (expanded: 1408)\n").unwrap();
    let out = kprobe(&dir, &["trace", "kp", "-n", "1", "-b", "65536"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(
        std::fs::read_to_string(t.join("buffer_size_kb")).unwrap(),
        "1408\n"
    );
    let out = kprobe(&dir, &["trace", "kp", "-n", "1", "-b", "0"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("--buffer-size: '0' is not a size in KiB"),
        "{}",
        text(&out.stderr)
    );
    let out = kprobe(&dir, &["trace", "kp", "-n", "1", "--json"]);
    assert_eq!(
        text(&out.stdout),
        "{\"time\":\"5.000003\",\"cpu\":0,\"pid\":4242,\"comm\":\"myproc\",\"event\":\"kp\",\"site\":{\"at\":\"0x10\"},\"args\":{\"value\":\"-7\",\"idx\":\"3\",\"tag\":\"hello world\"}}\n"
    );
}
