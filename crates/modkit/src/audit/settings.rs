//! The settings that decide what modules may do: `module.sig_enforce`,
//! lockdown, `modules_disabled`, `kptr_restrict`, `dmesg_restrict`,
//! `kexec_load_disabled`, and module parameters that users other than root
//! may write.

use std::os::unix::fs::MetadataExt;

use super::{unreadable, Finding, Severity, Sources};

/// A setting read as text, and what its value means.
struct Setting {
    check: &'static str,
    subject: &'static str,
    path: &'static str,
    /// (the value is weak?, words for the value)
    judge: fn(&str) -> (bool, String),
}

const SETTINGS: &[Setting] = &[
    Setting {
        check: "setting.sig-enforce",
        subject: "module.sig_enforce",
        path: "sys/module/module/parameters/sig_enforce",
        judge: |v| match v {
            "Y" => (false, "only modules signed with a trusted key load".into()),
            _ => (
                true,
                "unsigned modules load (the kernel only taints itself with E)".into(),
            ),
        },
    },
    Setting {
        check: "setting.lockdown",
        subject: "lockdown",
        path: "sys/kernel/security/lockdown",
        judge: |v| {
            let mode = v
                .split_whitespace()
                .find(|w| w.starts_with('['))
                .map(|w| w.trim_matches(['[', ']']).to_string())
                .unwrap_or_else(|| v.to_string());
            if mode == "none" {
                (true, "lockdown is off: root may change the running kernel (kprobes, /dev/mem, unsigned kexec)".into())
            } else {
                (false, format!("lockdown is {mode}"))
            }
        },
    },
    Setting {
        check: "setting.modules-disabled",
        subject: "kernel.modules_disabled",
        path: "proc/sys/kernel/modules_disabled",
        judge: |v| match v {
            "1" => (
                false,
                "no more modules can be loaded or removed until reboot".into(),
            ),
            _ => (true, "modules can still be loaded".into()),
        },
    },
    Setting {
        check: "setting.kptr-restrict",
        subject: "kernel.kptr_restrict",
        path: "proc/sys/kernel/kptr_restrict",
        judge: |v| {
            match v {
            "0" => (true, "kernel addresses are shown to every user who may read them (kallsyms needs CAP_SYSLOG)".into()),
            "1" => (false, "kernel addresses only for CAP_SYSLOG".into()),
            _ => (false, "kernel addresses hidden from everyone".into()),
        }
        },
    },
    Setting {
        check: "setting.dmesg-restrict",
        subject: "kernel.dmesg_restrict",
        path: "proc/sys/kernel/dmesg_restrict",
        judge: |v| match v {
            "0" => (true, "every user may read the kernel log".into()),
            _ => (false, "only CAP_SYSLOG may read the kernel log".into()),
        },
    },
    Setting {
        check: "setting.kexec-load-disabled",
        subject: "kernel.kexec_load_disabled",
        path: "proc/sys/kernel/kexec_load_disabled",
        judge: |v| match v {
            "1" => (false, "kexec_load is disabled until reboot".into()),
            _ => (true, "root may kexec another kernel".into()),
        },
    },
];

/// Checks the settings and the module parameters' modes.
pub fn check(sources: &Sources, findings: &mut Vec<Finding>) {
    for s in SETTINGS {
        let path = sources.path(s.path);
        let value = match std::fs::read_to_string(&path) {
            Ok(v) => v.trim().to_string(),
            Err(e)
                if e.kind() == std::io::ErrorKind::NotFound
                    && s.subject == "module.sig_enforce" =>
            {
                findings.push(
                    Finding::new(
                        Severity::Notice,
                        s.check,
                        s.subject,
                        "the kernel does not check module signatures (no CONFIG_MODULE_SIG)",
                    )
                    .with(format!("{}: missing", path.display())),
                );
                continue;
            }
            Err(e) => {
                findings.push(unreadable(sources, s.subject, &path, &e));
                continue;
            }
        };
        let (weak, words) = (s.judge)(&value);
        findings.push(
            Finding::new(
                if weak {
                    Severity::Notice
                } else {
                    Severity::Info
                },
                s.check,
                s.subject,
                format!("{} = {value}: {words}", s.subject),
            )
            .with(format!("{}: {value}", path.display())),
        );
    }
    writable_parameters(sources, findings);
}

/// A finding for each module parameter a user other than root may write
/// (group or other write permission, or an owner other than root).
fn writable_parameters(sources: &Sources, findings: &mut Vec<Finding>) {
    let dir = sources.path("sys/module");
    let Ok(rd) = std::fs::read_dir(&dir) else {
        return; // the module checks said so already
    };
    let mut modules: Vec<String> = rd
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    modules.sort();
    for m in modules {
        let pdir = dir.join(&m).join("parameters");
        let Ok(rd) = std::fs::read_dir(&pdir) else {
            continue;
        };
        let mut params: Vec<_> = rd.filter_map(|e| e.ok()).collect();
        params.sort_by_key(|e| e.file_name());
        for p in params {
            let Ok(meta) = p.metadata() else {
                continue;
            };
            let mode = meta.mode() & 0o7777;
            if mode & 0o022 == 0 && (meta.uid() == 0 || mode & 0o200 == 0) {
                continue;
            }
            let name = p.file_name().to_string_lossy().into_owned();
            findings.push(
                Finding::new(
                    Severity::Warning,
                    "setting.param-writable",
                    format!("{m}.{name}"),
                    format!("module parameter {m}.{name} may be written by users other than root"),
                )
                .with(format!(
                    "{}: mode {mode:04o}, owner uid {}, gid {}",
                    p.path().display(),
                    meta.uid(),
                    meta.gid()
                )),
            );
        }
    }
}
