//! `kprobe`: kprobes and kretprobes on the running kernel through tracefs's
//! dynamic events — set, listed, counted, traced and removed from the
//! shell, with nothing left behind. A modkit tool of its own; the work is
//! done by [`modkit::tracefs`].
//!
//! ```text
//! $ modkit kprobe check do_sys_openat2
//! $ modkit kprobe do_sys_openat2 dfd=%di:s32 path=+0(%si):ustring -n 5
//! $ modkit kprobe add -r --group mine do_sys_openat2 'fd=$retval:s32'
//! ```
//!
//! Subcommands: `add`, `list`, `del`, `enable`, `disable`, `stats`,
//! `blacklist`, `check`, `trace`; with none (`modkit kprobe SYMBOL
//! [FETCHARG...]`), the one-shot form: add, trace, remove (also on
//! Ctrl-C and SIGTERM). Every failure is one line on stderr and exit
//! status 1; nothing this tool enabled stays enabled when it fails.

mod trace;

use std::ffi::OsString;
use std::path::PathBuf;

use modkit::kallsyms::SymbolTable;
use modkit::tracefs::check::{check_symbol, SymbolCheck, Verdict};
use modkit::tracefs::format::ProbeDefinition;
use modkit::tracefs::spec::{ProbeKind, ProbePoint, ProbeSpec, DEFAULT_GROUP};
use modkit::tracefs::{Tracefs, TracefsError};
use serde_json::json;

use crate::compat::getopt::{Getopt, HasArg, LongOpt};
use crate::compat::stdio::{self, Stdout};

const OPT_MAXACTIVE: i32 = 256;
const OPT_TRACEFS: i32 = 257;
const OPT_DEBUGFS: i32 = 258;
const OPT_TEXT_PIPE: i32 = 259;
pub(crate) const SHORT_OPTS: &str = "rg:jan:d:p:P:b:ehV";
pub(crate) const LONG_OPTS: &[LongOpt] = &[
    LongOpt::new("ret", HasArg::No, 'r' as i32),
    LongOpt::new("maxactive", HasArg::Required, OPT_MAXACTIVE),
    LongOpt::new("group", HasArg::Required, 'g' as i32),
    LongOpt::new("json", HasArg::No, 'j' as i32),
    LongOpt::new("all", HasArg::No, 'a' as i32),
    LongOpt::new("count", HasArg::Required, 'n' as i32),
    LongOpt::new("duration", HasArg::Required, 'd' as i32),
    LongOpt::new("probe", HasArg::Required, 'p' as i32),
    LongOpt::new("ret-probe", HasArg::Required, 'P' as i32),
    LongOpt::new("enable", HasArg::No, 'e' as i32),
    LongOpt::new("tracefs", HasArg::Required, OPT_TRACEFS),
    LongOpt::new("debugfs", HasArg::Required, OPT_DEBUGFS),
    LongOpt::new("text-pipe", HasArg::No, OPT_TEXT_PIPE),
    LongOpt::new("buffer-size", HasArg::Required, 'b' as i32),
    LongOpt::new("help", HasArg::No, 'h' as i32),
    LongOpt::new("version", HasArg::No, 'V' as i32),
];

/// The commands, as the first operand.
pub(crate) const SUBCOMMANDS: &[&str] = &[
    "add",
    "list",
    "del",
    "enable",
    "disable",
    "stats",
    "blacklist",
    "check",
    "trace",
];

fn help() -> String {
    "Usage:\n\
     \x20modkit kprobe add [-r] [--maxactive N] [-g G] [-e] [NAME=]PLACE [FETCHARG...]\n\
     \x20modkit kprobe list [-g G] [--json]\n\
     \x20modkit kprobe del [-g G] NAME... | --all\n\
     \x20modkit kprobe enable|disable [-g G] NAME... | --all\n\
     \x20modkit kprobe stats [-g G] [--json] [NAME...]\n\
     \x20modkit kprobe blacklist [--json] [SYMBOL...]\n\
     \x20modkit kprobe check [--json] PLACE\n\
     \x20modkit kprobe trace [-g G] [NAME...] [-p 'PLACE ARGS']... [-P 'PLACE ARGS']... [-n N] [-d S] [-b KB] [--json]\n\
     \x20modkit kprobe [-r] [NAME=]PLACE [FETCHARG...] [-n N] [-d S] [--json]\n\n\
     Kprobes (-r: kretprobes) through tracefs's kprobe_events, in group 'modkit'\n\
     unless -g says otherwise. PLACE is SYMBOL[+OFFSET], MODULE:SYMBOL or 0xADDRESS.\n\
     FETCHARG is [NAME=]FETCH[:TYPE]: FETCH %REG, $argN, $retval, $comm, $stack,\n\
     $stackN, @ADDR, @SYM[+|-OFF], +|-[u]OFF(FETCH), \\IMM, or a BTF parameter name\n\
     (name, name->field) on Linux 6.5+; TYPE u8..u64, s8..s64, x8..x64, char,\n\
     string, ustring, symbol, symstr, b<WIDTH>@<OFFSET>/<SIZE>, TYPE[N].\n\
     A FETCHARG starting with '-' goes after '--'.\n\n\
     The last form adds the probe, traces it and removes it again on exit,\n\
     Ctrl-C or SIGTERM; trace -p/-P does the same for several probes.\n\n\
     Options:\n\
     \x20-r, --ret             a kretprobe (on return)\n\
     \x20    --maxactive N     kretprobe instances that may wait at once\n\
     \x20-g, --group G         the event group (default modkit)\n\
     \x20-e, --enable          add: enable the probe at once\n\
     \x20-a, --all             del/enable/disable: every event of the group\n\
     \x20-j, --json            list, stats, blacklist, check: JSON; trace: JSON lines\n\
     \x20-n, --count N         trace: stop after N events\n\
     \x20-d, --duration S      trace: stop after S seconds\n\
     \x20-p, --probe SPEC      trace: add the kprobe 'PLACE FETCHARG...' for the trace\n\
     \x20-P, --ret-probe SPEC  trace: the same, a kretprobe\n\
     \x20-b, --buffer-size KB  trace: per-CPU ring buffer of KB while tracing\n\
     \x20    --text-pipe       trace: read the kernel's text trace_pipe, not the\n\
     \x20                      binary per-CPU buffers (slower)\n\
     \x20    --tracefs DIR     tracefs at DIR (default: found)\n\
     \x20    --debugfs DIR     debugfs at DIR (default: found)\n\
     \x20-h, --help            display this help\n\
     \x20-V, --version         display version\n"
        .to_string()
}

/// The parsed command line.
#[derive(Default)]
pub(crate) struct Options {
    ret: bool,
    maxactive: Option<u32>,
    group: Option<String>,
    json: bool,
    all: bool,
    count: Option<u64>,
    duration: Option<f64>,
    probes: Vec<(bool, String)>,
    enable: bool,
    tracefs: Option<PathBuf>,
    debugfs: Option<PathBuf>,
    text_pipe: bool,
    buffer_kb: Option<u64>,
}

impl Options {
    fn group(&self) -> &str {
        self.group.as_deref().unwrap_or(DEFAULT_GROUP)
    }

    fn kind(&self) -> ProbeKind {
        if self.ret {
            ProbeKind::Return {
                maxactive: self.maxactive,
            }
        } else {
            ProbeKind::Entry
        }
    }
}

/// A failure: the line to print (without `modkit kprobe: `).
pub(crate) struct Failure(pub String);

impl From<TracefsError> for Failure {
    fn from(e: TracefsError) -> Self {
        Failure(e.to_string())
    }
}

type Outcome = Result<u8, Failure>;

fn fail(msg: impl Into<String>) -> Failure {
    Failure(msg.into())
}

/// Entry point: `argv[0]` is the program name.
pub fn main(args: Vec<OsString>) -> u8 {
    let mut o = Options::default();
    // for -V: the name it was run by, as modkit's other tools say it
    let prog = crate::toolargs::prog_name(&args, "kprobe");
    let version_name = prog.strip_prefix("modkit ").unwrap_or(&prog).to_string();
    let mut opts = Getopt::new(args, SHORT_OPTS, LONG_OPTS);
    let usage = |msg: &str| {
        stdio::stderr(&format!(
            "modkit kprobe: {msg}\nTry 'modkit kprobe --help' for more information.\n"
        ));
        1
    };
    for opt in opts.by_ref() {
        let opt = match opt {
            Ok(o) => o,
            Err(e) => {
                e.report();
                stdio::stderr("Try 'modkit kprobe --help' for more information.\n");
                return 1;
            }
        };
        let arg = opt
            .arg
            .map(|a| a.to_string_lossy().into_owned())
            .unwrap_or_default();
        match opt.val {
            v if v == 'r' as i32 => o.ret = true,
            OPT_MAXACTIVE => match arg.parse() {
                Ok(n) => {
                    o.maxactive = Some(n);
                    o.ret = true;
                }
                Err(_) => return usage(&format!("--maxactive: '{arg}' is not a number")),
            },
            v if v == 'g' as i32 => o.group = Some(arg),
            v if v == 'j' as i32 => o.json = true,
            v if v == 'a' as i32 => o.all = true,
            v if v == 'e' as i32 => o.enable = true,
            v if v == 'n' as i32 => match arg.parse() {
                Ok(n) => o.count = Some(n),
                Err(_) => return usage(&format!("--count: '{arg}' is not a number")),
            },
            v if v == 'd' as i32 => match arg.parse::<f64>() {
                Ok(s) if s.is_finite() && s >= 0.0 => o.duration = Some(s),
                _ => return usage(&format!("--duration: '{arg}' is not a number of seconds")),
            },
            v if v == 'p' as i32 => o.probes.push((false, arg)),
            v if v == 'P' as i32 => o.probes.push((true, arg)),
            OPT_TRACEFS => o.tracefs = Some(PathBuf::from(arg)),
            OPT_DEBUGFS => o.debugfs = Some(PathBuf::from(arg)),
            OPT_TEXT_PIPE => o.text_pipe = true,
            v if v == 'b' as i32 => match arg.parse::<u64>() {
                Ok(n) if n > 0 => o.buffer_kb = Some(n),
                _ => return usage(&format!("--buffer-size: '{arg}' is not a size in KiB")),
            },
            v if v == 'h' as i32 => {
                let mut out = Stdout::new();
                out.write(help().as_bytes());
                return u8::from(out.close().is_err());
            }
            v if v == 'V' as i32 => {
                let mut out = Stdout::new();
                out.write(
                    format!("{version_name} from modkit {}\n", crate::version::VERSION).as_bytes(),
                );
                return u8::from(out.close().is_err());
            }
            _ => return 1,
        }
    }
    let mut operands: Vec<String> = Vec::new();
    for a in opts.remaining() {
        match a.into_string() {
            Ok(s) => operands.push(s),
            Err(a) => return usage(&format!("'{}' is not valid UTF-8", a.to_string_lossy())),
        }
    }
    if operands.is_empty() && o.probes.is_empty() {
        return usage("a subcommand or a probe is needed");
    }
    let (sub, rest) = match operands.first().map(String::as_str) {
        Some(s) if SUBCOMMANDS.contains(&s) => (s.to_string(), operands[1..].to_vec()),
        _ => ("oneshot".to_string(), operands),
    };
    let result = match sub.as_str() {
        "add" => add(&o, &rest),
        "list" => list(&o),
        "del" => delete(&o, &rest),
        "enable" => set_enabled(&o, &rest, true),
        "disable" => set_enabled(&o, &rest, false),
        "stats" => stats(&o, &rest),
        "blacklist" => blacklist(&o, &rest),
        "check" => check(&o, &rest),
        "trace" => trace::trace(&o, &rest),
        _ => trace::oneshot(&o, &rest),
    };
    match result {
        Ok(code) => code,
        Err(Failure(msg)) => {
            stdio::stderr(&format!("modkit kprobe: {msg}\n"));
            1
        }
    }
}

/// The tracefs to use: `--tracefs` or the running kernel's.
pub(crate) fn tracefs(o: &Options) -> Result<Tracefs, Failure> {
    Ok(match &o.tracefs {
        Some(dir) => Tracefs::at(dir, o.debugfs.clone())?,
        None => {
            let t = Tracefs::find()?;
            match &o.debugfs {
                Some(d) => Tracefs::at(t.root(), Some(d.clone()))?,
                None => t,
            }
        }
    })
}

/// Builds a probe from `[NAME=]PLACE` and fetch arguments.
pub(crate) fn build_spec(
    t: &Tracefs,
    kind: ProbeKind,
    group: &str,
    place: &str,
    args: &[String],
) -> Result<ProbeSpec, Failure> {
    let bad = |e: modkit::tracefs::spec::SpecError| fail(format!("bad probe: {e}"));
    let (name, place) = match place.split_once('=') {
        Some((n, p)) => (Some(n), p),
        None => (None, place),
    };
    let mut spec = ProbeSpec::new(kind, place)
        .map_err(bad)?
        .group(group)
        .map_err(bad)?;
    if let Some(n) = name {
        spec = spec.event(n).map_err(bad)?;
    }
    let features = t.features();
    for a in args {
        spec = spec.arg(a, features).map_err(bad)?;
    }
    Ok(spec)
}

/// What the kernel's tables say about a probe's symbol (nothing for an
/// address, or when kallsyms can't be read).
pub(crate) fn diagnose(t: &Tracefs, point: &ProbePoint) -> Option<SymbolCheck> {
    let ProbePoint::Symbol { module, name, .. } = point else {
        return None;
    };
    let table = SymbolTable::running().ok()?;
    let blacklist = t.blacklist().unwrap_or_default();
    Some(check_symbol(
        &table,
        module.as_deref(),
        name,
        &blacklist,
        t.in_filter_functions(name),
    ))
}

/// Adds a probe; on the kernel's refusal, the message joins its words with
/// what kallsyms and the blacklist say.
pub(crate) fn add_spec(t: &Tracefs, spec: &ProbeSpec) -> Result<(), Failure> {
    match t.add_probe(spec) {
        Ok(()) => Ok(()),
        Err(e @ TracefsError::Rejected { .. }) => {
            let problem = diagnose(t, &spec.point).and_then(|c| c.problem());
            Err(match problem {
                Some(p) => fail(format!("{p} ({e})")),
                None => fail(e.to_string()),
            })
        }
        Err(TracefsError::EventExists { name, definition }) => Err(fail(format!(
            "event {name} already exists ({definition}): remove it with 'modkit kprobe del {name}' or pick another name (NAME=PLACE)"
        ))),
        Err(e) => Err(e.into()),
    }
}

fn add(o: &Options, rest: &[String]) -> Outcome {
    let Some((place, args)) = rest.split_first() else {
        return Err(fail(
            "add: a place to probe is needed (SYMBOL, MODULE:SYMBOL or 0xADDRESS)",
        ));
    };
    let t = tracefs(o)?;
    let spec = build_spec(&t, o.kind(), o.group(), place, args)?;
    add_spec(&t, &spec)?;
    if o.enable {
        if let Err(e) = t.set_enabled(&spec.group, &spec.event, true) {
            let _ = t.remove_probe(&spec.group, &spec.event);
            return Err(e.into());
        }
    }
    print(&format!("{}\n", spec.full_name()))
}

pub(crate) fn print(text: &str) -> Outcome {
    let mut out = Stdout::new();
    out.write(text.as_bytes());
    match out.close() {
        Ok(()) => Ok(0),
        Err(_) => Err(fail("write error")),
    }
}

fn json_text(v: &serde_json::Value) -> String {
    format!("{}\n", serde_json::to_string_pretty(v).unwrap_or_default())
}

fn kprobes(t: &Tracefs, o: &Options) -> Result<Vec<ProbeDefinition>, Failure> {
    Ok(t.probe_events()?
        .into_iter()
        .filter(|p| p.is_kprobe() && o.group.as_deref().is_none_or(|g| p.group == g))
        .collect())
}

fn list(o: &Options) -> Outcome {
    let t = tracefs(o)?;
    let probes = kprobes(&t, o)?;
    let mut rows = Vec::new();
    for p in &probes {
        let enabled = t.is_enabled(&p.group, &p.event).unwrap_or(false);
        rows.push((p, enabled));
    }
    if o.json {
        let v: Vec<serde_json::Value> = rows
            .iter()
            .map(|(p, enabled)| {
                json!({
                    "group": p.group,
                    "event": p.event,
                    "type": if p.kind == 'r' { "kretprobe" } else { "kprobe" },
                    "maxactive": p.maxactive,
                    "place": p.location,
                    "args": p.args,
                    "enabled": enabled,
                })
            })
            .collect();
        return print(&json_text(&serde_json::Value::Array(v)));
    }
    let mut s = String::new();
    for (p, enabled) in rows {
        let kind = if p.kind == 'r' { "kretprobe" } else { "kprobe" };
        let state = if enabled { "enabled" } else { "disabled" };
        s.push_str(&format!(
            "{:<32} {:<9} {:<8} {}",
            p.full_name(),
            kind,
            state,
            p.location
        ));
        for a in &p.args {
            s.push(' ');
            s.push_str(a);
        }
        s.push('\n');
    }
    print(&s)
}

/// `GROUP/EVENT` or `EVENT` (in the group of `-g`, default modkit).
pub(crate) fn split_name(o: &Options, name: &str) -> (String, String) {
    match name.split_once('/') {
        Some((g, e)) => (g.to_string(), e.to_string()),
        None => (o.group().to_string(), name.to_string()),
    }
}

fn targets(
    o: &Options,
    t: &Tracefs,
    names: &[String],
    what: &str,
) -> Result<Vec<(String, String)>, Failure> {
    if o.all {
        if !names.is_empty() {
            return Err(fail(format!("{what}: --all or names, not both")));
        }
        return Ok(t
            .probe_events()?
            .into_iter()
            .filter(|p| p.is_kprobe() && p.group == o.group())
            .map(|p| (p.group, p.event))
            .collect());
    }
    if names.is_empty() {
        return Err(fail(format!("{what}: event names or --all needed")));
    }
    let mut out = Vec::new();
    for n in names {
        let (g, e) = split_name(o, n);
        if t.probe(&g, &e)?.is_none() {
            return Err(fail(format!(
                "{what}: no kprobe event {g}/{e} (see 'modkit kprobe list')"
            )));
        }
        out.push((g, e));
    }
    Ok(out)
}

fn delete(o: &Options, names: &[String]) -> Outcome {
    let t = tracefs(o)?;
    for (g, e) in targets(o, &t, names, "del")? {
        t.remove_probe(&g, &e)?;
    }
    Ok(0)
}

fn set_enabled(o: &Options, names: &[String], on: bool) -> Outcome {
    let t = tracefs(o)?;
    let what = if on { "enable" } else { "disable" };
    let targets = targets(o, &t, names, what)?;
    let mut done: Vec<&(String, String)> = Vec::new();
    for target in &targets {
        let was = t.is_enabled(&target.0, &target.1)?;
        if let Err(e) = t.set_enabled(&target.0, &target.1, on) {
            // Enabling stops at the first failure with nothing of it left on.
            if on {
                for (g, ev) in done {
                    let _ = t.set_enabled(g, ev, false);
                }
            }
            return Err(e.into());
        }
        if on && !was {
            done.push(target);
        }
    }
    Ok(0)
}

fn stats(o: &Options, names: &[String]) -> Outcome {
    let t = tracefs(o)?;
    let stats: Vec<_> = t
        .probe_stats()?
        .into_iter()
        .filter(|(p, _)| o.group.as_deref().is_none_or(|g| p.group == g))
        .collect();
    let wanted: Vec<(String, String)> = names.iter().map(|n| split_name(o, n)).collect();
    for (g, e) in &wanted {
        if !stats.iter().any(|(p, _)| &p.group == g && &p.event == e) {
            return Err(fail(format!("stats: no kprobe event {g}/{e}")));
        }
    }
    let rows: Vec<(String, u64, u64)> = stats
        .iter()
        .filter(|(p, _)| {
            wanted.is_empty() || wanted.iter().any(|(g, e)| *g == p.group && *e == p.event)
        })
        .map(|(p, e)| (p.full_name(), e.hits, e.misses))
        .collect();
    if o.json {
        let v: Vec<serde_json::Value> = rows
            .iter()
            .map(|(n, h, m)| json!({"event": n, "hits": h, "misses": m}))
            .collect();
        return print(&json_text(&serde_json::Value::Array(v)));
    }
    let mut s = format!("{:<32} {:>15} {:>15}\n", "EVENT", "HITS", "MISSES");
    for (n, h, m) in rows {
        s.push_str(&format!("{n:<32} {h:>15} {m:>15}\n"));
    }
    print(&s)
}

fn blacklist(o: &Options, symbols: &[String]) -> Outcome {
    let t = tracefs(o)?;
    let list = t.blacklist()?;
    let table = if symbols.is_empty() {
        None
    } else {
        SymbolTable::running().ok()
    };
    let mut shown = Vec::new();
    let mut missing = Vec::new();
    if symbols.is_empty() {
        shown = list.iter().collect();
    }
    for s in symbols {
        let addrs: Vec<u64> = table
            .as_ref()
            .map(|t| {
                t.named(s)
                    .filter(|x| x.is_text())
                    .map(|x| x.address)
                    .collect()
            })
            .unwrap_or_default();
        let hits: Vec<_> = list
            .iter()
            .filter(|b| b.symbol == *s || addrs.iter().any(|&a| b.contains(a)))
            .collect();
        if hits.is_empty() {
            missing.push(s.clone());
        }
        shown.extend(hits);
    }
    let mut text = if o.json {
        let v: Vec<serde_json::Value> = shown
            .iter()
            .map(|b| {
                json!({"start": format!("0x{:x}", b.start), "end": format!("0x{:x}", b.end),
                       "symbol": b.symbol, "module": b.module})
            })
            .collect();
        json_text(&serde_json::Value::Array(v))
    } else {
        let mut s = String::new();
        for b in &shown {
            s.push_str(&format!("0x{:016x}-0x{:016x} {}", b.start, b.end, b.symbol));
            if let Some(m) = &b.module {
                s.push_str(&format!(" [{m}]"));
            }
            s.push('\n');
        }
        s
    };
    if !o.json {
        for m in &missing {
            text.push_str(&format!("{m}: not blacklisted\n"));
        }
    }
    print(&text)?;
    Ok(u8::from(!missing.is_empty()))
}

fn check(o: &Options, rest: &[String]) -> Outcome {
    let [place] = rest else {
        return Err(fail("check: one SYMBOL (or MODULE:SYMBOL) is needed"));
    };
    let t = tracefs(o)?;
    let point = ProbePoint::parse(place).map_err(|e| fail(format!("check: {e}")))?;
    if let ProbePoint::Address(_) = point {
        return Err(fail("check: give a symbol, not an address"));
    }
    let Some(c) = diagnose(&t, &point) else {
        return Err(fail("check: cannot read /proc/kallsyms"));
    };
    let addr = |s: &modkit::kallsyms::Symbol| match &s.module {
        Some(m) => format!("0x{:x} {} [{m}]", s.address, s.name),
        None => format!("0x{:x} {}", s.address, s.name),
    };
    let text = if o.json {
        json_text(&json!({
            "symbol": place,
            "verdict": c.verdict.name(),
            "addresses": c.matches.iter().map(addr).collect::<Vec<_>>(),
            "blacklisted": c.blacklisted.iter().map(|b| format!("0x{:x}-0x{:x} {}", b.start, b.end, b.symbol)).collect::<Vec<_>>(),
            "ftrace": c.ftrace,
            "renamed_copies": c.renamed.iter().map(addr).collect::<Vec<_>>(),
            "near_names": c.near,
            "problem": c.problem(),
        }))
    } else {
        let list = |v: Vec<String>| {
            if v.is_empty() {
                "none".to_string()
            } else {
                v.join(", ")
            }
        };
        format!(
            "symbol:          {place}\n\
             addresses:       {}\n\
             blacklisted:     {}\n\
             ftrace:          {}\n\
             renamed copies:  {}\n\
             verdict:         {}\n",
            list(c.matches.iter().map(addr).collect()),
            list(
                c.blacklisted
                    .iter()
                    .map(|b| format!("0x{:x}-0x{:x} {}", b.start, b.end, b.symbol))
                    .collect()
            ),
            match c.ftrace {
                Some(true) => "yes (in available_filter_functions: the probe uses ftrace)",
                Some(false) =>
                    "no (not in available_filter_functions: the probe uses a breakpoint)",
                None => "unknown",
            },
            list(c.renamed.iter().map(addr).collect()),
            c.verdict.name(),
        )
    };
    print(&text)?;
    if let Some(p) = c.problem() {
        stdio::stderr(&format!("modkit kprobe: {p}\n"));
    }
    Ok(u8::from(c.verdict != Verdict::Probeable))
}
