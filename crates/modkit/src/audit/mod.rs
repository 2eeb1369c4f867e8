//! A report on what the loaded modules have done to the running kernel, and
//! on what may be hiding: each [`Finding`] has a [`Severity`], the check
//! that made it and the evidence read (file contents, kernel log lines).
//!
//! The checks, each in its own file:
//! - [`modules`]: modules that taint the kernel (unsigned, out-of-tree,
//!   proprietary, force-loaded, staging...) from their sysfs `taint`, the
//!   kernel log and `/proc/modules`; modules the running kernel's module
//!   tree does not have; hidden modules (in `/sys/module` with an
//!   `initstate`, in `/proc/kallsyms` or `kprobes/list` but not in
//!   `/proc/modules`, and the reverse); taint flags no loaded module explains.
//! - [`hooks`]: registered kprobes, dynamic trace events, functions ftrace
//!   has attached to.
//! - [`settings`]: `module.sig_enforce`, lockdown, `modules_disabled`,
//!   `kptr_restrict`, `dmesg_restrict`, `kexec_load_disabled`, module
//!   parameters non-root users may write.
//!
//! Everything is read under a [`Sources`] root (`/` for the live system, a
//! prepared tree in tests). What cannot be read (not root, debugfs not
//! mounted, a kernel without the feature) is itself a finding: the report
//! says the audit is incomplete there, it never skips in silence.
//!
//! ```no_run
//! let report = modkit::audit::run(&modkit::audit::Sources::live());
//! for f in &report.findings {
//!     println!("{} {}: {}", f.severity.name(), f.check, f.summary);
//! }
//! std::process::exit(report.exit_status());
//! ```

pub mod hooks;
pub mod modules;
pub mod settings;

use std::path::{Path, PathBuf};

use crate::loaded::KernelState;
use crate::taint::TaintReport;

/// How much a finding matters. Ordered: `Info < Notice < Warning < Alert`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    /// A fact about the system, nothing to do.
    Info,
    /// A hardening choice worth knowing (a distribution default such as
    /// lockdown off); does not need attention.
    Notice,
    /// Needs attention: a module that taints the kernel, a registered
    /// probe, a part of the audit that could not be done.
    Warning,
    /// A sign of tampering: a hidden module, a module without its sysfs
    /// entry.
    Alert,
}

impl Severity {
    /// Lower-case name: `info`, `notice`, `warning`, `alert`.
    pub fn name(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Notice => "notice",
            Severity::Warning => "warning",
            Severity::Alert => "alert",
        }
    }
}

/// One finding of the audit.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Finding {
    /// How much it matters.
    pub severity: Severity,
    /// The check that made it, a stable id such as `module.tainting`,
    /// `module.hidden`, `hook.kprobe`, `setting.lockdown`, `unreadable`.
    pub check: &'static str,
    /// What it is about (a module name, a setting, a file).
    pub subject: String,
    /// One line saying what was found.
    pub summary: String,
    /// What was read that shows it, one item per line.
    pub evidence: Vec<String>,
}

impl Finding {
    /// A finding with no evidence yet.
    pub fn new(
        severity: Severity,
        check: &'static str,
        subject: impl Into<String>,
        summary: impl Into<String>,
    ) -> Finding {
        Finding {
            severity,
            check,
            subject: subject.into(),
            summary: summary.into(),
            evidence: Vec::new(),
        }
    }

    /// The same finding with one more line of evidence.
    pub fn with(mut self, evidence: impl Into<String>) -> Finding {
        self.evidence.push(evidence.into());
        self
    }
}

/// Where the audit reads: the kernel's files under one root.
#[derive(Clone, Debug)]
pub struct Sources {
    /// The module state (`/proc/modules`, `/sys/module`).
    pub kernel: KernelState,
}

impl Sources {
    /// The running system.
    pub fn live() -> Sources {
        Sources::at("/")
    }

    /// A system whose `proc/`, `sys/`, `dev/kmsg` and `lib/modules/` are
    /// under `root`.
    pub fn at(root: impl Into<PathBuf>) -> Sources {
        Sources {
            kernel: KernelState::with_root(root),
        }
    }

    /// A path under the root (`"proc/kallsyms"`).
    pub fn path(&self, rel: &str) -> PathBuf {
        self.kernel.root().join(rel.trim_start_matches('/'))
    }

    /// The root.
    pub fn root(&self) -> &Path {
        self.kernel.root()
    }
}

/// The whole report.
#[derive(Clone, Debug)]
pub struct Report {
    /// Findings, the most severe first (stable within a severity).
    pub findings: Vec<Finding>,
    /// The kernel's taint decoded and matched with the modules, when
    /// `/proc/sys/kernel/tainted` could be read.
    pub taint: Option<TaintReport>,
}

impl Report {
    /// The most severe finding's severity (`Info` for none).
    pub fn worst(&self) -> Severity {
        self.findings
            .iter()
            .map(|f| f.severity)
            .max()
            .unwrap_or(Severity::Info)
    }

    /// `modkit audit`'s exit status: 0 when nothing needs attention (only
    /// info and notices), 1 when a warning does, 2 for an alert.
    pub fn exit_status(&self) -> i32 {
        match self.worst() {
            Severity::Info | Severity::Notice => 0,
            Severity::Warning => 1,
            Severity::Alert => 2,
        }
    }
}

/// The file systems the audit reads besides `/proc` and `/sys`, by mount
/// point under the root.
const MOUNTS: &[(&str, &str)] = &[
    ("proc", "procfs"),
    ("sys", "sysfs"),
    ("sys/kernel/debug", "debugfs"),
    ("sys/kernel/tracing", "tracefs"),
    ("sys/kernel/security", "securityfs"),
    ("dev", "devtmpfs"),
];

/// A failed read, as a finding. Permission denied, or a file system not
/// mounted (its mount point missing or empty), is a warning (`unreadable`:
/// the audit is incomplete there, and says how to complete it); a file
/// missing from a mounted file system is the kernel lacking the feature,
/// an info (`unavailable`).
pub(crate) fn unreadable(
    sources: &Sources,
    what: &str,
    path: &Path,
    err: &std::io::Error,
) -> Finding {
    let shown = path.display();
    let (severity, check, why) = match err.kind() {
        std::io::ErrorKind::PermissionDenied => (
            Severity::Warning,
            "unreadable",
            "permission denied (run as root)".to_string(),
        ),
        std::io::ErrorKind::NotFound => {
            let unmounted = MOUNTS.iter().rev().find(|(dir, _)| {
                let d = sources.path(dir);
                path.starts_with(&d)
                    && std::fs::read_dir(&d).map_or(true, |mut rd| rd.next().is_none())
            });
            match unmounted {
                Some((dir, fs)) => (
                    Severity::Warning,
                    "unreadable",
                    format!("{fs} is not mounted at {}", sources.path(dir).display()),
                ),
                None => (
                    Severity::Info,
                    "unavailable",
                    "not there: this kernel does not provide it".to_string(),
                ),
            }
        }
        _ => (Severity::Warning, "unreadable", err.to_string()),
    };
    Finding::new(
        severity,
        check,
        shown.to_string(),
        format!("cannot check {what}: {why}"),
    )
    .with(format!("{shown}: {err}"))
}

/// Runs every check against `sources`.
pub fn run(sources: &Sources) -> Report {
    let mut findings = Vec::new();
    let facts = modules::Facts::read(sources, &mut findings);
    let hooks = hooks::read(sources, &mut findings);
    let taint = modules::check(sources, &facts, &hooks, &mut findings);
    hooks::check(&facts, &hooks, &mut findings);
    settings::check(sources, &mut findings);
    // most severe first; the order of the checks within a severity
    findings.sort_by_key(|f| std::cmp::Reverse(f.severity));
    Report { findings, taint }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn write(root: &Path, rel: &str, text: &str) {
        let p = root.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }

    /// A fake system: mk_oot (out-of-tree, unsigned, listed), mk_gone (set
    /// P and was unloaded: only the log names it), mk_hide (in sysfs and
    /// kprobes/list, not in /proc/modules), a built-in module's directory,
    /// a group-writable parameter, a tracefs kprobe and a module's kprobe.
    fn fake_system() -> modkit_testkit::ScratchDir {
        let root = modkit_testkit::ScratchDir::new("audit");
        let r = root.path();
        write(r, "proc/modules",
            "mk_oot 16384 0 - Live 0xffffffffc0001000 (OE)\nfoo 12288 0 - Live 0xffffffffc0002000\n");
        write(
            r,
            "proc/sys/kernel/tainted",
            &(1 + 4096 + 8192 + 512).to_string(),
        );
        write(r, "proc/sys/kernel/osrelease", "6.1.0-test\n");
        for (k, v) in [
            ("modules_disabled", "0"),
            ("kptr_restrict", "1"),
            ("dmesg_restrict", "1"),
            ("kexec_load_disabled", "0"),
        ] {
            write(r, &format!("proc/sys/kernel/{k}"), &format!("{v}\n"));
        }
        write(
            r,
            "lib/modules/6.1.0-test/modules.dep",
            "kernel/fs/foo.ko.xz:\nextra/other.ko:\n",
        );
        for (m, taint) in [("mk_oot", "OE"), ("foo", ""), ("mk_hide", "OE")] {
            let d = format!("sys/module/{m}");
            write(r, &format!("{d}/initstate"), "live\n");
            write(r, &format!("{d}/refcnt"), "0\n");
            write(r, &format!("{d}/taint"), &format!("{taint}\n"));
            write(r, &format!("{d}/sections/.text"), "0xffffffffc0003000\n");
        }
        write(r, "sys/module/builtin_x/parameters/debug", "N\n");
        write(r, "sys/module/foo/parameters/knob", "1\n");
        std::fs::set_permissions(
            r.join("sys/module/foo/parameters/knob"),
            std::fs::Permissions::from_mode(0o664),
        )
        .unwrap();
        write(r, "sys/module/module/parameters/sig_enforce", "N\n");
        write(
            r,
            "sys/kernel/security/lockdown",
            "[none] integrity confidentiality\n",
        );
        write(r, "proc/kallsyms",
            concat!(
            "ffffffff81000000 T _stext\nffffffffc0001000 t mk_oot_init\t[mk_oot]\n",
            "ffffffffc0002000 t foo_fn\t[foo]\nffffffffc0571000 t ftrace_trampoline\t[__builtin__ftrace]\n",
            "ffffffffc0573000 t bpf_prog_6deef7357e7b4530\t[bpf]\n",
        ));
        write(r, "dev/kmsg", concat!(
            "4,500,2000000,-;mk_gone: module license 'Proprietary' taints kernel.\n",
            "4,501,3000000,-;mk_oot: loading out-of-tree module taints kernel.\n",
            "4,502,3000001,-;mk_oot: module verification failed: signature and/or required key missing - tainting kernel\n",
            " SUBSYSTEM=module\n",
        ));
        write(
            r,
            "sys/kernel/debug/kprobes/list",
            concat!(
                "ffffffff8135a3e0  k  __x64_sys_sync+0x0    [FTRACE]\n",
                "ffffffff81200004  k  vfs_read+0x4    [FTRACE]\n",
                "ffffffff81300008  k  vfs_write+0x8    [FTRACE]\n",
            ),
        );
        write(r, "sys/kernel/tracing/available_events", "");
        write(
            r,
            "sys/kernel/tracing/dynamic_events",
            "p:kprobes/rd vfs_read\np:kprobes/wr vfs_write+4\n",
        );
        write(
            r,
            "sys/kernel/tracing/enabled_functions",
            "__x64_sys_sync (1) R I   \tops: kprobe_ftrace_ops\n",
        );
        write(
            r,
            "sys/kernel/tracing/touched_functions",
            "__x64_sys_sync (1) R I\nvfs_read (1) R I\n",
        );
        root
    }

    fn find<'a>(r: &'a Report, check: &str, subject: &str) -> Option<&'a Finding> {
        r.findings
            .iter()
            .find(|f| f.check == check && f.subject == subject)
    }

    #[test]
    fn audits_a_fake_system() {
        let root = fake_system();
        let r = run(&Sources::at(root.path()));
        let all = format!("{:#?}", r.findings);
        assert_eq!(r.exit_status(), 2, "{all}");
        assert_eq!(r.findings[0].severity, Severity::Alert, "{all}");

        let hidden = find(&r, "module.hidden", "mk_hide").expect(&all);
        let ev = hidden.evidence.join("\n");
        assert!(
            ev.contains(
                "/sys/module/mk_hide: initstate=live, refcnt=0, sections/: 1 entries, taint=OE"
            ),
            "{ev}"
        );
        assert!(ev.contains("kprobes/list: ffffffff8135a3e0  k  __x64_sys_sync+0x0    [FTRACE] (not made through tracefs"), "{ev}");
        assert!(
            !ev.contains("vfs_read"),
            "the tracefs probe is not the module's: {ev}"
        );
        assert!(find(&r, "module.hidden", "builtin_x").is_none(), "{all}");
        assert!(find(&r, "module.hidden", "foo").is_none(), "{all}");
        assert!(
            !r.findings
                .iter()
                .any(|f| f.subject == "__builtin__ftrace" || f.subject == "bpf"),
            "{all}"
        );

        let oot = find(&r, "module.tainting", "mk_oot").expect(&all);
        assert_eq!(oot.severity, Severity::Warning);
        assert_eq!(
            oot.summary,
            "module mk_oot taints the kernel: out-of-tree, unsigned"
        );
        assert_eq!(
            oot.evidence.len(),
            4,
            "taint file, /proc/modules, two log lines: {:?}",
            oot.evidence
        );
        assert!(
            oot.evidence[2].starts_with("kernel log: [    3.000000] mk_oot: loading out-of-tree")
        );

        assert!(find(&r, "module.not-in-tree", "mk_oot").is_some(), "{all}");
        assert!(find(&r, "module.not-in-tree", "foo").is_none(), "{all}");

        let p = find(&r, "taint.unexplained", "P").expect(&all);
        assert!(
            p.evidence.iter().any(|e| e.contains(
                "mk_gone: module license 'Proprietary' taints kernel. (mk_gone no longer listed"
            )),
            "{:?}",
            p.evidence
        );
        assert!(find(&r, "taint.unexplained", "O").is_none(), "{all}");
        assert_eq!(
            find(&r, "taint.kernel", "W").unwrap().severity,
            Severity::Warning
        );

        let probes: Vec<(&str, Severity)> = r
            .findings
            .iter()
            .filter(|f| f.check == "hook.kprobe")
            .map(|f| (f.subject.as_str(), f.severity))
            .collect();
        assert!(
            probes.contains(&("__x64_sys_sync+0x0", Severity::Warning)),
            "{probes:?}"
        );
        // past endbr64 (IBT): the event's place + 4
        for p in ["vfs_read+0x4", "vfs_write+0x8"] {
            assert!(probes.contains(&(p, Severity::Notice)), "{probes:?}");
        }
        assert!(
            find(&r, "hook.dynamic-event", "p:kprobes/rd").is_some(),
            "{all}"
        );
        assert!(
            find(&r, "hook.ftrace", "enabled_functions").is_some(),
            "{all}"
        );
        assert!(find(&r, "hook.touched-functions", "touched_functions")
            .unwrap()
            .summary
            .contains("2 function"));

        assert_eq!(
            find(&r, "setting.sig-enforce", "module.sig_enforce")
                .unwrap()
                .severity,
            Severity::Notice
        );
        assert_eq!(
            find(&r, "setting.lockdown", "lockdown").unwrap().severity,
            Severity::Notice
        );
        assert_eq!(
            find(&r, "setting.kptr-restrict", "kernel.kptr_restrict")
                .unwrap()
                .severity,
            Severity::Info
        );
        assert_eq!(
            find(&r, "setting.dmesg-restrict", "kernel.dmesg_restrict")
                .unwrap()
                .severity,
            Severity::Info
        );
        assert_eq!(
            find(&r, "setting.param-writable", "foo.knob")
                .unwrap()
                .severity,
            Severity::Warning
        );
        assert!(
            find(&r, "setting.param-writable", "builtin_x.debug").is_none(),
            "{all}"
        );
        assert!(!r.findings.iter().any(|f| f.check == "unreadable"), "{all}");

        let t = r.taint.expect("taint report");
        assert_eq!(t.value.letters(), "PWOE");
    }

    #[test]
    fn the_reverse_a_listed_module_without_sysfs() {
        let root = fake_system();
        std::fs::remove_dir_all(root.join("sys/module/foo")).unwrap();
        let r = run(&Sources::at(root.path()));
        assert_eq!(
            find(&r, "module.no-sysfs", "foo").unwrap().severity,
            Severity::Alert
        );
    }

    #[test]
    fn a_clean_system_needs_no_attention() {
        let root = fake_system();
        let r0 = root.path();
        write(
            r0,
            "proc/modules",
            "foo 12288 0 - Live 0xffffffffc0002000\n",
        );
        write(r0, "proc/sys/kernel/tainted", "0\n");
        std::fs::remove_dir_all(r0.join("sys/module/mk_oot")).unwrap();
        std::fs::remove_dir_all(r0.join("sys/module/mk_hide")).unwrap();
        std::fs::set_permissions(
            r0.join("sys/module/foo/parameters/knob"),
            std::fs::Permissions::from_mode(0o644),
        )
        .unwrap();
        write(r0, "sys/kernel/debug/kprobes/list", "");
        write(r0, "proc/kallsyms", "ffffffffc0002000 t foo_fn\t[foo]\n");
        let r = run(&Sources::at(r0));
        assert_eq!(r.exit_status(), 0, "{:#?}", r.findings);
        assert!(r.worst() <= Severity::Notice);
    }

    #[test]
    fn what_cannot_be_read_is_reported() {
        let root = modkit_testkit::ScratchDir::new("audit-empty");
        let r = run(&Sources::at(root.path()));
        let unreadable: Vec<&str> = r
            .findings
            .iter()
            .filter(|f| f.check == "unreadable")
            .map(|f| f.summary.as_str())
            .collect();
        for what in [
            "the loaded modules",
            "the modules' sysfs entries",
            "the modules' symbols",
            "the kernel log",
            "the registered kprobes",
            "dynamic events and ftrace hooks",
            "the kernel's taint",
            "lockdown",
            "kernel.kptr_restrict",
        ] {
            assert!(
                unreadable.iter().any(|u| u.contains(what)),
                "{what} not reported: {unreadable:#?}"
            );
        }
        assert_eq!(r.exit_status(), 1);
        assert!(r.taint.is_none());
    }
}
