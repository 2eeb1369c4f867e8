//! Probes and hooks: the kprobes registered in the kernel
//! (`/sys/kernel/debug/kprobes/list`), the dynamic trace events made
//! through tracefs (`dynamic_events`), and the functions ftrace has
//! attached to (`enabled_functions`, `touched_functions` since 6.4).

use std::path::PathBuf;

use super::modules::Facts;
use super::{unreadable, Finding, Severity, Sources};

/// A line of `kprobes/list`: `ADDRESS  TYPE  SYMBOL+0xOFF  [MODULE] [FLAGS]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Kprobe {
    /// The whole line.
    pub line: String,
    /// `k` (kprobe) or `r` (kretprobe).
    pub kind: String,
    /// Where it is: `symbol+0xOFF`, or the address when no symbol covers it.
    pub target: String,
    /// The module the probed address is in, when not the core kernel.
    pub module: Option<String>,
}

/// Parses a `kprobes/list` line (`None` for a line of another shape).
pub fn parse_kprobe_line(line: &str) -> Option<Kprobe> {
    let mut fields = line.split_whitespace();
    let _address = fields.next()?;
    let kind = fields.next()?.to_string();
    let target = fields.next()?.to_string();
    let module = fields
        .next()
        .filter(|f| !f.starts_with('['))
        .map(String::from);
    Some(Kprobe {
        line: line.trim_end().to_string(),
        kind,
        target,
        module,
    })
}

/// What the hook checks read (`None`: could not be read).
#[derive(Clone, Debug, Default)]
pub struct Hooks {
    /// `kprobes/list`.
    pub kprobes: Option<Vec<Kprobe>>,
    /// `dynamic_events` (or `kprobe_events` where the kernel lacks it).
    pub dynamic_events: Option<Vec<String>>,
    /// `enabled_functions`.
    pub enabled_functions: Option<Vec<String>>,
    /// `touched_functions`; `None` also when the kernel predates it.
    pub touched_functions: Option<Vec<String>>,
    tracefs: Option<PathBuf>,
}

impl Hooks {
    /// Whether a kprobe is one a dynamic event made (`p:... SYMBOL[+OFF]`
    /// with the same place).
    ///
    /// The kernel moves a probe at a function's first byte past an x86
    /// `endbr64` (4 bytes) when the kernel is built with IBT (6.12: the
    /// list shows `vfs_read+0x4` for the event's `vfs_read`), so an offset
    /// 4 bytes beyond the event's matches too.
    pub fn from_dynamic_event(&self, probe: &Kprobe) -> bool {
        let Some((sym, off)) = split_target(&probe.target) else {
            return false;
        };
        self.dynamic_events
            .iter()
            .flatten()
            .filter_map(|e| event_target(e))
            .filter_map(|t| split_target(&t).map(|(s, o)| (s.to_string(), o)))
            .any(|(s, o)| s == sym && (off == o || off == o + 4))
    }
}

/// The place a kprobe event probes, as `kprobes/list` writes it
/// (`do_sys_open+0x0`); `None` for other events (uprobes, eprobes...) and
/// raw addresses.
fn event_target(event: &str) -> Option<String> {
    let mut fields = event.split_whitespace();
    let head = fields.next()?;
    if !(head.starts_with("p:") || head.starts_with('r')) {
        return None;
    }
    let place = fields.next()?;
    let place = place.rsplit_once(':').map_or(place, |(_, s)| s);
    let (sym, off) = match place.split_once('+') {
        Some((s, o)) => {
            let off = match o.strip_prefix("0x") {
                Some(h) => u64::from_str_radix(h, 16).ok()?,
                None => o.parse().ok()?,
            };
            (s, off)
        }
        None => (place, 0),
    };
    if sym.starts_with("0x") || sym.is_empty() {
        return None;
    }
    Some(format!("{sym}+{off:#x}"))
}

/// `vfs_read+0x4` as (`vfs_read`, 4).
fn split_target(target: &str) -> Option<(&str, u64)> {
    let (sym, off) = target.split_once("+0x")?;
    Some((sym, u64::from_str_radix(off, 16).ok()?))
}

fn read_lines(path: &std::path::Path) -> std::io::Result<Vec<String>> {
    Ok(std::fs::read_to_string(path)?
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .map(String::from)
        .collect())
}

/// Reads the probes and hooks, a finding for each source that cannot be read.
pub fn read(sources: &Sources, findings: &mut Vec<Finding>) -> Hooks {
    let mut hooks = Hooks::default();
    let list = sources.path("sys/kernel/debug/kprobes/list");
    match read_lines(&list) {
        Ok(lines) => {
            hooks.kprobes = Some(lines.iter().filter_map(|l| parse_kprobe_line(l)).collect())
        }
        Err(e) => findings.push(unreadable(sources, "the registered kprobes", &list, &e)),
    }
    let tracefs = [
        sources.path("sys/kernel/tracing"),
        sources.path("sys/kernel/debug/tracing"),
    ]
    .into_iter()
    .find(|d| d.join("available_events").exists() || d.join("dynamic_events").exists());
    let Some(tracefs) = tracefs else {
        let d = sources.path("sys/kernel/tracing");
        findings.push(unreadable(
            sources,
            "dynamic events and ftrace hooks",
            &d,
            &std::io::Error::from_raw_os_error(crate::error::errno::ENOENT),
        ));
        return hooks;
    };
    let events = tracefs.join("dynamic_events");
    let events = if events.exists() {
        events
    } else {
        tracefs.join("kprobe_events")
    };
    match read_lines(&events) {
        Ok(l) => hooks.dynamic_events = Some(l),
        Err(e) => findings.push(unreadable(sources, "the dynamic trace events", &events, &e)),
    }
    let enabled = tracefs.join("enabled_functions");
    match read_lines(&enabled) {
        Ok(l) => hooks.enabled_functions = Some(l),
        Err(e) => findings.push(unreadable(
            sources,
            "the functions ftrace hooks",
            &enabled,
            &e,
        )),
    }
    let touched = tracefs.join("touched_functions");
    match read_lines(&touched) {
        Ok(l) => hooks.touched_functions = Some(l),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => findings.push(
            Finding::new(
                Severity::Info,
                "hook.touched-functions",
                touched.display().to_string(),
                "the kernel has no touched_functions (before 6.4): functions hooked earlier and released are not known",
            ),
        ),
        Err(e) => findings.push(unreadable(sources, "the functions ftrace touched", &touched, &e)),
    }
    hooks.tracefs = Some(tracefs);
    hooks
}

/// Turns the probes and hooks into findings.
pub fn check(_facts: &Facts, hooks: &Hooks, findings: &mut Vec<Finding>) {
    for p in hooks.kprobes.iter().flatten() {
        let kind = if p.kind == "r" { "kretprobe" } else { "kprobe" };
        let f = if hooks.from_dynamic_event(p) {
            Finding::new(
                Severity::Notice,
                "hook.kprobe",
                &p.target,
                format!("a {kind} on {} made through tracefs", p.target),
            )
        } else {
            Finding::new(
                Severity::Warning,
                "hook.kprobe",
                &p.target,
                format!(
                    "a {kind} on {} registered by kernel code (a module, BPF or perf), not a tracefs event",
                    p.target
                ),
            )
        };
        findings.push(f.with(format!("kprobes/list: {}", p.line)));
    }
    for e in hooks.dynamic_events.iter().flatten() {
        let name = e.split_whitespace().next().unwrap_or(e);
        findings.push(
            Finding::new(
                Severity::Notice,
                "hook.dynamic-event",
                name,
                format!("dynamic trace event {name}"),
            )
            .with(format!("dynamic_events: {e}")),
        );
    }
    let dir = hooks
        .tracefs
        .as_ref()
        .map(|d| d.display().to_string())
        .unwrap_or_default();
    if let Some(lines) = hooks.enabled_functions.as_ref().filter(|l| !l.is_empty()) {
        let mut f = Finding::new(
            Severity::Notice,
            "hook.ftrace",
            "enabled_functions",
            format!("ftrace has {} function(s) hooked now", lines.len()),
        );
        for l in lines.iter().take(20) {
            f = f.with(format!("{dir}/enabled_functions: {l}"));
        }
        findings.push(f);
    }
    if let Some(lines) = hooks.touched_functions.as_ref().filter(|l| !l.is_empty()) {
        let mut f = Finding::new(
            Severity::Info,
            "hook.touched-functions",
            "touched_functions",
            format!(
                "ftrace has hooked {} function(s) since boot (touched_functions)",
                lines.len()
            ),
        );
        for l in lines.iter().take(20) {
            f = f.with(format!("{dir}/touched_functions: {l}"));
        }
        findings.push(f);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_kprobe_lines_and_event_targets() {
        let p = parse_kprobe_line("ffffffff8135a3e0  k  __x64_sys_sync+0x0    [FTRACE]").unwrap();
        assert_eq!(
            (p.kind.as_str(), p.target.as_str(), p.module),
            ("k", "__x64_sys_sync+0x0", None)
        );
        let p = parse_kprobe_line("ffffffffc0a01000  r  mk_fn+0x4  mk_mod [DISABLED]").unwrap();
        assert_eq!(p.module.as_deref(), Some("mk_mod"));
        assert_eq!(
            event_target("p:kprobes/a __x64_sys_sync").as_deref(),
            Some("__x64_sys_sync+0x0")
        );
        assert_eq!(
            event_target("r16:kprobes/b mk_mod:mk_fn+4 $retval").as_deref(),
            Some("mk_fn+0x4")
        );
        assert_eq!(
            event_target("p:kprobes/c vfs_read+0x10").as_deref(),
            Some("vfs_read+0x10")
        );
        assert_eq!(event_target("u:uprobes/x /bin/sh:0x100"), None);
        assert_eq!(event_target("p:kprobes/d 0xffffffff81000000"), None);
    }
}
