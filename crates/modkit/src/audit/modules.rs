//! The module checks: tainting modules, modules foreign to the running
//! kernel's tree, hidden modules, taint flags no loaded module explains.

use std::collections::{BTreeMap, BTreeSet};

use super::hooks::Hooks;
use super::{unreadable, Finding, Severity, Sources};
use crate::kallsyms::SymbolTable;
use crate::kmod::{modname_normalize, path_to_modname, string_lossy};
use crate::kmsg::reader::KmsgReader;
use crate::taint::{self, Taint, TaintReport};

/// A line of `/proc/modules`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProcModule {
    /// The module's name.
    pub name: String,
    /// The whole line, as evidence.
    pub line: String,
}

/// A directory of `/sys/module` that belongs to a loaded module (it has
/// `initstate`, `refcnt`, `coresize` or `sections/`, which built-in
/// modules' directories lack).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SysModule {
    /// The directory's name.
    pub name: String,
    /// What it shows: `initstate=live`, `refcnt=0`, `sections: 23`, `taint=OE`...
    pub attributes: Vec<String>,
    /// Its `taint` file's letters.
    pub taint: String,
}

/// A kernel log line that says a module tainted the kernel.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TaintLogLine {
    /// The module named at the start of the message.
    pub module: String,
    /// The flag letter the message stands for.
    pub letter: char,
    /// The line, `[seconds] message`.
    pub text: String,
}

/// What the module checks read. `None`: could not be read (a finding says
/// so).
#[derive(Clone, Debug, Default)]
pub struct Facts {
    /// `/proc/modules`.
    pub proc_modules: Option<Vec<ProcModule>>,
    /// The loaded modules' `/sys/module` directories.
    pub sysfs: Option<Vec<SysModule>>,
    /// The module names `/proc/kallsyms` shows (`[name]`).
    pub kallsyms_modules: Option<Vec<String>>,
    /// The kernel log lines about tainting modules.
    pub taint_log: Option<Vec<TaintLogLine>>,
    /// The running kernel's release (`/proc/sys/kernel/osrelease`).
    pub release: Option<String>,
    /// The module names of the running kernel's tree (`modules.dep`).
    pub tree: Option<BTreeSet<String>>,
}

/// The kernel log's messages when a module taints the kernel
/// (`kernel/module/main.c`): the text after `NAME: ` that starts them, and
/// the flag letter.
const TAINT_MESSAGES: &[(&str, char)] = &[
    ("loading out-of-tree module taints kernel.", 'O'),
    ("module verification failed: signature", 'E'),
    ("module license", 'P'),
    ("module uses symbols", 'P'),
    ("module is from the staging directory", 'C'),
    ("tainting kernel with TAINT_LIVEPATCH", 'K'),
    ("loading test module taints kernel.", 'N'),
];

/// The module and flag of a kernel log message, when it is one of the
/// tainting messages (`mk_x: loading out-of-tree module taints kernel.`,
/// `mk_x: bad vermagic: kernel tainted.` for a forced load).
pub fn parse_taint_message(message: &str) -> Option<(String, char)> {
    let (module, rest) = message.split_once(": ")?;
    if module.is_empty() || module.contains(' ') {
        return None;
    }
    let letter = TAINT_MESSAGES
        .iter()
        .find(|(start, letter)| {
            rest.starts_with(start) && (*letter != 'P' || rest.contains("taint"))
        })
        .map(|&(_, l)| l)
        .or_else(|| rest.ends_with(": kernel tainted.").then_some('F'))?;
    Some((module.to_string(), letter))
}

impl Facts {
    /// Reads everything, a finding for each source that cannot be read.
    pub fn read(sources: &Sources, findings: &mut Vec<Finding>) -> Facts {
        Facts {
            proc_modules: read_proc_modules(sources, findings),
            sysfs: read_sysfs(sources, findings),
            kallsyms_modules: read_kallsyms(sources, findings),
            taint_log: read_log(sources, findings),
            release: read_release(sources, findings),
            tree: None,
        }
        .with_tree(sources, findings)
    }

    fn with_tree(mut self, sources: &Sources, findings: &mut Vec<Finding>) -> Facts {
        let (Some(release), Some(_)) = (&self.release, &self.proc_modules) else {
            return self;
        };
        let path = sources.path(&format!("lib/modules/{release}/modules.dep"));
        match std::fs::read(&path) {
            Ok(data) => {
                let names = data
                    .split(|&b| b == b'\n')
                    .filter_map(|line| {
                        let colon = line.iter().position(|&b| b == b':')?;
                        path_to_modname(&line[..colon]).map(string_lossy)
                    })
                    .collect();
                self.tree = Some(names);
            }
            Err(e) => findings.push(unreadable(
                sources,
                "the running kernel's module tree",
                &path,
                &e,
            )),
        }
        self
    }

    /// The names `/proc/modules` lists.
    pub fn listed(&self) -> BTreeSet<String> {
        self.proc_modules
            .iter()
            .flatten()
            .map(|m| m.name.clone())
            .collect()
    }
}

fn read_proc_modules(sources: &Sources, findings: &mut Vec<Finding>) -> Option<Vec<ProcModule>> {
    let path = sources.kernel.proc_modules_path();
    match std::fs::read(&path) {
        Ok(data) => Some(
            data.split(|&b| b == b'\n')
                .filter_map(|line| {
                    let name = line.split(|&b| b == b' ').find(|t| !t.is_empty())?;
                    Some(ProcModule {
                        name: string_lossy(modname_normalize(name)),
                        line: String::from_utf8_lossy(line).into_owned(),
                    })
                })
                .collect(),
        ),
        Err(e) => {
            let mut f = unreadable(sources, "the loaded modules", &path, &e);
            if f.check == "unavailable" {
                f.summary = "this kernel has no loadable-module support (no /proc/modules): \
                             no module can be loaded, hidden or tainting; module checks not done"
                    .to_string();
            }
            findings.push(f);
            None
        }
    }
}

fn read_sysfs(sources: &Sources, findings: &mut Vec<Finding>) -> Option<Vec<SysModule>> {
    let dir = sources.path("sys/module");
    let rd = match std::fs::read_dir(&dir) {
        Ok(rd) => rd,
        Err(e) => {
            findings.push(unreadable(sources, "the modules' sysfs entries", &dir, &e));
            return None;
        }
    };
    let mut names: Vec<String> = rd
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    let mut out = Vec::new();
    for name in names {
        let d = dir.join(&name);
        let read = |f: &str| {
            std::fs::read_to_string(d.join(f))
                .ok()
                .map(|s| s.trim_end().to_string())
        };
        let mut attributes = Vec::new();
        for f in ["initstate", "refcnt", "coresize"] {
            if let Some(v) = read(f) {
                attributes.push(format!("{f}={v}"));
            }
        }
        if let Ok(rd) = std::fs::read_dir(d.join("sections")) {
            attributes.push(format!("sections/: {} entries", rd.count()));
        }
        if attributes.is_empty() {
            continue; // built into the kernel image
        }
        let taint = read("taint").unwrap_or_default();
        if !taint.is_empty() {
            attributes.push(format!("taint={taint}"));
        }
        out.push(SysModule {
            name,
            attributes,
            taint,
        });
    }
    Some(out)
}

fn read_kallsyms(sources: &Sources, findings: &mut Vec<Finding>) -> Option<Vec<String>> {
    let path = sources.path("proc/kallsyms");
    if let Err(e) = std::fs::metadata(&path) {
        findings.push(unreadable(sources, "the modules' symbols", &path, &e));
        return None;
    }
    match SymbolTable::read(&path) {
        Ok(t) => Some(
            t.modules()
                .into_iter()
                .filter(|m| !is_pseudo_module(m))
                .map(String::from)
                .collect(),
        ),
        Err(e) => {
            findings.push(
                Finding::new(
                    Severity::Warning,
                    "unreadable",
                    path.display().to_string(),
                    format!("cannot check the modules' symbols: {}", path.display()),
                )
                .with(e.to_string()),
            );
            None
        }
    }
}

/// The owners kallsyms shows in brackets that are not modules: ftrace's
/// and kprobes' trampolines (`[__builtin__ftrace]`, `[__builtin__kprobes]`),
/// BPF programs (`[bpf]`).
pub fn is_pseudo_module(name: &str) -> bool {
    name.starts_with("__builtin__") || name == "bpf"
}

fn read_log(sources: &Sources, findings: &mut Vec<Finding>) -> Option<Vec<TaintLogLine>> {
    let path = sources.path("dev/kmsg");
    let mut reader = match KmsgReader::open(&path, false) {
        Ok(r) => r,
        Err(e) => {
            let err = std::io::Error::from_raw_os_error(e.errno());
            findings.push(unreadable(sources, "the kernel log", &path, &err));
            return None;
        }
    };
    let mut data = Vec::new();
    loop {
        match reader.next_record() {
            Ok(Some(r)) => data.extend_from_slice(r),
            Ok(None) => break,
            Err(e) => {
                let err = std::io::Error::from_raw_os_error(e.errno());
                findings.push(unreadable(sources, "the kernel log", &path, &err));
                return None;
            }
        }
    }
    let mut out = Vec::new();
    for line in data.split(|&b| b == b'\n') {
        // "PRIO,SEQ,USEC,FLAGS;MESSAGE"; continuation lines start with a space
        if line.first() == Some(&b' ') {
            continue;
        }
        let Some(semi) = line.iter().position(|&b| b == b';') else {
            continue;
        };
        let header = String::from_utf8_lossy(&line[..semi]);
        let message = String::from_utf8_lossy(&line[semi + 1..]);
        let Some((module, letter)) = parse_taint_message(&message) else {
            continue;
        };
        let usec: u64 = header
            .split(',')
            .nth(2)
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        out.push(TaintLogLine {
            module,
            letter,
            text: format!("[{:5}.{:06}] {message}", usec / 1_000_000, usec % 1_000_000),
        });
    }
    Some(out)
}

fn read_release(sources: &Sources, findings: &mut Vec<Finding>) -> Option<String> {
    let path = sources.path("proc/sys/kernel/osrelease");
    match std::fs::read_to_string(&path) {
        Ok(s) => Some(s.trim().to_string()),
        Err(e) => {
            findings.push(unreadable(sources, "the kernel release", &path, &e));
            None
        }
    }
}

/// The words for a module's taint letters (`out-of-tree, unsigned`).
fn describe(letters: &str) -> String {
    letters
        .chars()
        .map(|c| match c {
            'P' => "proprietary".to_string(),
            'F' => "force-loaded".to_string(),
            'C' => "staging".to_string(),
            'O' => "out-of-tree".to_string(),
            'E' => "unsigned".to_string(),
            'K' => "live patch".to_string(),
            'N' => "in-kernel test".to_string(),
            'X' => "distribution taint (X)".to_string(),
            'T' => "struct randomization (T)".to_string(),
            other => format!("unknown taint '{other}'"),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// Runs the module checks; returns the taint report when the kernel's
/// taint could be read.
pub fn check(
    sources: &Sources,
    facts: &Facts,
    hooks: &Hooks,
    findings: &mut Vec<Finding>,
) -> Option<TaintReport> {
    let listed = facts.listed();
    let log = facts.taint_log.as_deref().unwrap_or(&[]);
    let sysfs: BTreeMap<&str, &SysModule> = facts
        .sysfs
        .iter()
        .flatten()
        .map(|m| (m.name.as_str(), m))
        .collect();

    // tainting modules
    for m in facts.proc_modules.iter().flatten() {
        let letters = sources.kernel.taint(&m.name);
        if letters.is_empty() {
            continue;
        }
        let (t, _) = Taint::from_letters(&letters);
        let mild = t.0 & !(1 << 16 | 1 << 17) == 0;
        let mut f = Finding::new(
            if mild {
                Severity::Notice
            } else {
                Severity::Warning
            },
            "module.tainting",
            &m.name,
            format!(
                "module {} taints the kernel: {}",
                m.name,
                describe(&letters)
            ),
        )
        .with(format!("/sys/module/{}/taint: {letters}", m.name))
        .with(format!("/proc/modules: {}", m.line));
        for l in log.iter().filter(|l| l.module == m.name) {
            f = f.with(format!("kernel log: {}", l.text));
        }
        findings.push(f);
    }

    // modules the running kernel's tree does not have
    if let (Some(tree), Some(release)) = (&facts.tree, &facts.release) {
        for m in facts.proc_modules.iter().flatten() {
            if tree.contains(&m.name) {
                continue;
            }
            findings.push(
                Finding::new(
                    Severity::Warning,
                    "module.not-in-tree",
                    &m.name,
                    format!(
                        "module {} is loaded but not in the module tree of the running kernel",
                        m.name
                    ),
                )
                .with(format!("/proc/modules: {}", m.line))
                .with(format!(
                    "/lib/modules/{release}/modules.dep: no {}.ko",
                    m.name
                )),
            );
        }
    }

    // hidden modules: seen elsewhere, not in /proc/modules
    if facts.proc_modules.is_some() {
        let mut seen: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for m in sysfs.values() {
            seen.entry(m.name.clone()).or_default().push(format!(
                "/sys/module/{}: {}",
                m.name,
                m.attributes.join(", ")
            ));
        }
        for name in facts.kallsyms_modules.iter().flatten() {
            seen.entry(name.clone())
                .or_default()
                .push(format!("/proc/kallsyms: symbols of [{name}]"));
        }
        for p in hooks.kprobes.iter().flatten() {
            if let Some(name) = &p.module {
                seen.entry(name.clone())
                    .or_default()
                    .push(format!("kprobes/list: {}", p.line));
            }
        }
        let foreign_probes: Vec<&str> = hooks
            .kprobes
            .iter()
            .flatten()
            .filter(|p| !hooks.from_dynamic_event(p))
            .map(|p| p.line.as_str())
            .collect();
        for (name, evidence) in seen {
            if listed.contains(&name) {
                continue;
            }
            let mut f = Finding::new(
                Severity::Alert,
                "module.hidden",
                &name,
                format!("module {name} is in the kernel but /proc/modules does not list it"),
            );
            f.evidence = evidence;
            f = f.with(format!("/proc/modules: no line for {name}"));
            for p in &foreign_probes {
                f = f.with(format!(
                    "kprobes/list: {p} (not made through tracefs; may be this module's)"
                ));
            }
            findings.push(f);
        }
        // ...and the reverse: listed, without its sysfs entry
        if facts.sysfs.is_some() {
            for m in facts.proc_modules.iter().flatten() {
                if sysfs.contains_key(m.name.as_str()) {
                    continue;
                }
                findings.push(
                    Finding::new(
                        Severity::Alert,
                        "module.no-sysfs",
                        &m.name,
                        format!(
                            "module {} is in /proc/modules but has no /sys/module entry",
                            m.name
                        ),
                    )
                    .with(format!("/proc/modules: {}", m.line))
                    .with(format!(
                        "/sys/module/{}: no initstate, refcnt or coresize",
                        m.name
                    )),
                );
            }
        }
    }

    // the kernel's taint, and the flags no loaded module explains
    let value = match taint::read_kernel_taint(&sources.kernel) {
        Ok(v) => v,
        Err(e) => {
            let path = sources.path(taint::PROC_TAINTED);
            findings.push(
                Finding::new(
                    Severity::Warning,
                    "unreadable",
                    path.display().to_string(),
                    format!("cannot check the kernel's taint: {}", path.display()),
                )
                .with(e.to_string()),
            );
            return None;
        }
    };
    let names: Vec<String> = facts
        .proc_modules
        .iter()
        .flatten()
        .map(|m| m.name.clone())
        .collect();
    let report = TaintReport::new(value, taint::module_taints(&sources.kernel, &names))
        .with_unlisted(taint::unlisted_module_taints(&sources.kernel, &names));
    for fl in &report.flags {
        let flag = fl.flag;
        if !flag.per_module {
            let severity = if flag.letter == 'T' || flag.letter == 'X' {
                Severity::Notice
            } else {
                Severity::Warning
            };
            findings.push(
                Finding::new(
                    severity,
                    "taint.kernel",
                    flag.letter.to_string(),
                    format!("the kernel is tainted {}: {}", flag.letter, flag.meaning),
                )
                .with(format!(
                    "/proc/sys/kernel/tainted: {} (bit {})",
                    value.0, flag.bit
                )),
            );
            continue;
        }
        if !fl.unexplained() {
            continue;
        }
        let mut f = Finding::new(
            Severity::Warning,
            "taint.unexplained",
            flag.letter.to_string(),
            format!(
                "taint {} ({}) is set but no listed module carries it",
                flag.letter, flag.meaning
            ),
        )
        .with(format!(
            "/proc/sys/kernel/tainted: {} (bit {})",
            value.0, flag.bit
        ));
        for m in sysfs.values() {
            if !listed.contains(&m.name) && m.taint.contains(flag.letter) {
                f = f.with(format!(
                    "/sys/module/{}/taint: {} (a module /proc/modules does not list)",
                    m.name, m.taint
                ));
            }
        }
        let lines: Vec<&TaintLogLine> = log.iter().filter(|l| l.letter == flag.letter).collect();
        for l in &lines {
            let state = if listed.contains(&l.module) {
                "listed"
            } else {
                "no longer listed: unloaded or hidden"
            };
            f = f.with(format!("kernel log: {} ({} {state})", l.text, l.module));
        }
        if lines.is_empty() && facts.taint_log.is_some() {
            f = f.with("kernel log: no line names the module (the log may have wrapped)");
        }
        findings.push(f);
    }
    for b in &report.unknown_bits {
        findings.push(
            Finding::new(
                Severity::Warning,
                "taint.kernel",
                format!("bit {b}"),
                format!("the kernel is tainted with bit {b}, which no known flag names"),
            )
            .with(format!("/proc/sys/kernel/tainted: {}", value.0)),
        );
    }
    Some(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn taint_messages_of_kernel_module_main_c() {
        for (msg, want) in [
            ("mk_x: loading out-of-tree module taints kernel.", Some('O')),
            (
                "mk_x: module verification failed: signature and/or required key missing - tainting kernel",
                Some('E'),
            ),
            ("mk_x: module license 'Proprietary' taints kernel.", Some('P')),
            ("mk_x: module license taints kernel.", Some('P')),
            (
                "mk_y: module uses symbols nvfoo from proprietary module mk_x, inheriting taint.",
                Some('P'),
            ),
            (
                "r8188eu: module is from the staging directory, the quality is unknown, you have been warned.",
                Some('C'),
            ),
            ("lp: tainting kernel with TAINT_LIVEPATCH", Some('K')),
            ("kunit_t: loading test module taints kernel.", Some('N')),
            ("mk_x: bad vermagic: kernel tainted.", Some('F')),
            ("mk_x: no symbol version for module_layout: kernel tainted.", Some('F')),
            ("mk_x: module license 'GPL' is fine", None),
            ("Disabling lock debugging due to kernel taint", None),
            ("two words: loading out-of-tree module taints kernel.", None),
        ] {
            assert_eq!(
                parse_taint_message(msg),
                want.map(|l| (msg.split(':').next().unwrap().to_string(), l)),
                "{msg}"
            );
        }
    }
}
