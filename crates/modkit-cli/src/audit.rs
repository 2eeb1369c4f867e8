//! `audit`: one report on what the loaded modules have done to the running
//! kernel and what may be hiding — tainting modules, modules foreign to the
//! kernel's tree, hidden modules, taint no module explains, kprobes and
//! ftrace hooks, and the settings that govern modules. A modkit tool of its
//! own; the work is done by [`modkit::audit`].
//!
//! ```text
//! $ modkit audit
//! modkit audit of 6.12.95+deb12-amd64: 1 alert, 3 warnings, 4 notices, 4 info
//! ALERT    module.hidden        mk_hide: module mk_hide is in the kernel but /proc/modules does not list it
//!            /sys/module/mk_hide: initstate=live, refcnt=0, coresize=16384, sections/: 12 entries, taint=OE
//!            /proc/modules: no line for mk_hide
//! ...
//! ```
//!
//! Exit status: 0 nothing needs attention (only info and notices), 1 a
//! warning (a tainting module, a probe, a part of the audit that could not
//! be done), 2 an alert (a hidden module), 3 bad usage or a write error.

use std::ffi::OsString;
use std::path::PathBuf;

use modkit::audit::{self, Report, Severity, Sources};

use crate::compat::getopt::{Getopt, HasArg, LongOpt};
use crate::compat::stdio::{self, Stdout};

const OPT_ROOT: i32 = 256;
pub(crate) const SHORT_OPTS: &str = "jhV";
pub(crate) const LONG_OPTS: &[LongOpt] = &[
    LongOpt::new("json", HasArg::No, 'j' as i32),
    LongOpt::new("root", HasArg::Required, OPT_ROOT),
    LongOpt::new("help", HasArg::No, 'h' as i32),
    LongOpt::new("version", HasArg::No, 'V' as i32),
];

/// Exit status for bad usage and write errors.
const USAGE: u8 = 3;

fn help(prog: &str) -> String {
    format!(
        "Usage:\n {prog} [options]\n\n\
         Audit the running kernel's modules: modules that taint it (unsigned,\n\
         out-of-tree, proprietary, force-loaded, staging), modules not in its module\n\
         tree, hidden modules (in /sys/module, kallsyms or kprobes/list but not in\n\
         /proc/modules, and the reverse), taint no loaded module explains, kprobes,\n\
         dynamic events and ftrace hooks, and the settings that govern modules.\n\
         Each finding has a severity (alert, warning, notice, info) and its evidence;\n\
         what cannot be read (not root, debugfs not mounted) is a warning.\n\n\
         Options:\n\
         \x20-j, --json        print the report as JSON\n\
         \x20    --root DIR    read proc/, sys/, dev/kmsg and lib/modules/ under DIR\n\
         \x20-h, --help        display this help\n\
         \x20-V, --version     display version\n\n\
         Exit status: 0 nothing needs attention, 1 warnings, 2 alerts,\n\
         3 bad usage or a write error.\n"
    )
}

/// Entry point: `argv[0]` is the program name.
pub fn main(args: Vec<OsString>) -> u8 {
    let prog = crate::compat::getopt::program_name(&args[0]);
    let mut json = false;
    let mut root = PathBuf::from("/");
    let mut opts = Getopt::new(args, SHORT_OPTS, LONG_OPTS);
    for opt in opts.by_ref() {
        let opt = match opt {
            Ok(o) => o,
            Err(e) => {
                e.report();
                stdio::stderr(&format!("Try '{prog} --help' for more information.\n"));
                return USAGE;
            }
        };
        match opt.val {
            OPT_ROOT => root = PathBuf::from(opt.arg.unwrap_or_default()),
            v if v == 'j' as i32 => json = true,
            v if v == 'h' as i32 => return print(&help(&prog)).map_or(USAGE, |_| 0),
            v if v == 'V' as i32 => {
                return print(&format!("{prog} from modkit {}\n", crate::version::VERSION))
                    .map_or(USAGE, |_| 0)
            }
            _ => return USAGE,
        }
    }
    if let Some(op) = opts.remaining().first() {
        stdio::stderr(&format!(
            "{prog}: unexpected operand '{}'\n",
            op.to_string_lossy()
        ));
        return USAGE;
    }
    if !root.is_dir() {
        stdio::stderr(&format!("{prog}: {}: not a directory\n", root.display()));
        return USAGE;
    }
    let sources = Sources::at(&root);
    let report = audit::run(&sources);
    let release = std::fs::read_to_string(sources.path("proc/sys/kernel/osrelease"))
        .map(|s| s.trim().to_string())
        .unwrap_or_else(|_| "an unknown kernel".to_string());
    let text = if json {
        let mut s = serde_json::to_string_pretty(&to_json(&report, &release)).unwrap_or_default();
        s.push('\n');
        s
    } else {
        to_text(&report, &release)
    };
    if print(&text).is_err() {
        stdio::stderr(&format!("{prog}: write error\n"));
        return USAGE;
    }
    report.exit_status() as u8
}

fn print(text: &str) -> Result<(), ()> {
    let mut out = Stdout::new();
    out.write(text.as_bytes());
    out.close().map_err(|_| ())
}

fn count(r: &Report, s: Severity) -> usize {
    r.findings.iter().filter(|f| f.severity == s).count()
}

/// The report as text: a summary line, then each finding (severity, check,
/// subject: summary) with its evidence indented below.
fn to_text(r: &Report, release: &str) -> String {
    let plural = |n: usize, w: &str| format!("{n} {w}{}", if n == 1 { "" } else { "s" });
    let mut s = format!(
        "modkit audit of {release}: {}, {}, {}, {} info\n",
        plural(count(r, Severity::Alert), "alert"),
        plural(count(r, Severity::Warning), "warning"),
        plural(count(r, Severity::Notice), "notice"),
        count(r, Severity::Info),
    );
    for f in &r.findings {
        s.push_str(&format!(
            "{:<8} {:<24} {}: {}\n",
            f.severity.name().to_uppercase(),
            f.check,
            f.subject,
            f.summary
        ));
        for e in &f.evidence {
            s.push_str(&format!("           {e}\n"));
        }
    }
    s.push_str(match r.exit_status() {
        0 => "nothing needs attention\n",
        1 => "needs attention: see the warnings\n",
        _ => "needs attention now: see the alerts\n",
    });
    s
}

/// The report as JSON: `kernel`, `status` (the exit status), `counts`,
/// `findings` (severity, check, subject, summary, evidence) and `taint`
/// (as `modkit taint --json`, null when unreadable).
fn to_json(r: &Report, release: &str) -> serde_json::Value {
    let findings: Vec<serde_json::Value> = r
        .findings
        .iter()
        .map(|f| {
            serde_json::json!({
                "severity": f.severity.name(),
                "check": f.check,
                "subject": f.subject,
                "summary": f.summary,
                "evidence": f.evidence,
            })
        })
        .collect();
    serde_json::json!({
        "kernel": release,
        "status": r.exit_status(),
        "counts": {
            "alert": count(r, Severity::Alert),
            "warning": count(r, Severity::Warning),
            "notice": count(r, Severity::Notice),
            "info": count(r, Severity::Info),
        },
        "findings": findings,
        "taint": r.taint.as_ref().map(|t| crate::taint::to_json(t, true)),
    })
}
