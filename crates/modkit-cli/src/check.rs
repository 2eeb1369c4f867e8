//! `check`: whether the kernel would load a module file, and why not, before
//! loading it: vermagic, symbol CRCs, unresolved symbols (and who provides
//! each), GPL-only symbols, namespaces, signature requirements, built-in,
//! already loaded, blacklisted, and the taint loading it would cause.
//!
//! ```text
//! $ modkit check ./hello.ko
//! hello: error vermagic: version magic '6.1.0-57-amd64 SMP preempt mod_unload modversions ' should be ...
//! hello: info taint: loading it taints the kernel: O (out-of-tree), E (unsigned)
//! hello: refused
//! ```
//!
//! One finding per line, then `loads` or `refused`; exit 0 when every
//! module loads, 1 otherwise. The work is [`modkit::verdict`].

use std::ffi::OsString;
use std::path::PathBuf;

use modkit::verdict::{check, FactsSource, KernelFacts, Severity};

use crate::compat::getopt::{HasArg, LongOpt};
use crate::toolargs::{emit, fail, parse, Parsed};

pub(crate) const SHORT_OPTS: &str = "k:b:s:qjhV";
pub(crate) const LONG_OPTS: &[LongOpt] = &[
    LongOpt::new("set-version", HasArg::Required, 'k' as i32),
    LongOpt::new("basedir", HasArg::Required, 'b' as i32),
    LongOpt::new("symvers", HasArg::Required, 's' as i32),
    LongOpt::new("quiet", HasArg::No, 'q' as i32),
    LongOpt::new("json", HasArg::No, 'j' as i32),
    LongOpt::new("help", HasArg::No, 'h' as i32),
    LongOpt::new("version", HasArg::No, 'V' as i32),
];

fn help(prog: &str) -> String {
    format!(
        "Usage:\n {prog} [options] MODULE...\n\n\
         The kernel's verdict on module files before loading them, one finding per line\n\
         (MODULE: SEVERITY KIND: DETAIL), then MODULE: loads|refused. MODULE is a file or a\n\
         module of the target's tree. Exit 0 when all would load, 1 otherwise.\n\n\
         Options:\n\
         \x20-k, --set-version VER  check against kernel VER (default: the running kernel, with\n\
         \x20                       its loaded modules, sig_enforce and lockdown)\n\
         \x20-b, --basedir DIR      the module tree lives under DIR/lib/modules (and DIR/boot)\n\
         \x20-s, --symvers FILE     the kernel's Module.symvers (default MODDIR/build/Module.symvers)\n\
         \x20-q, --quiet            print only errors\n\
         \x20-j, --json             print JSON\n\
         \x20-h, --help             display this help\n\
         \x20-V, --version          display version\n"
    )
}

/// Entry point: `argv[0]` is the program name.
pub fn main(args: Vec<OsString>) -> u8 {
    let prog = crate::toolargs::prog_name(&args, "check");
    let (opts, operands) = match parse(args, SHORT_OPTS, LONG_OPTS, &prog, &help(&prog)) {
        Parsed::Run(o, r) => (o, r),
        Parsed::Exit(code) => return code,
    };
    let mut src = FactsSource::default();
    let mut quiet = false;
    let mut json = false;
    for (val, arg) in opts {
        let arg = arg.unwrap_or_default();
        match u8::try_from(val).unwrap_or(0) {
            b'k' => src.release = Some(arg.to_string_lossy().into_owned()),
            b'b' => src.root = Some(PathBuf::from(arg)),
            b's' => src.symvers = Some(PathBuf::from(arg)),
            b'q' => quiet = true,
            b'j' => json = true,
            _ => return 1,
        }
    }
    if operands.is_empty() {
        return fail(&prog, "missing MODULE (see --help)");
    }
    let running_release = modkit::resolve::kernel_release().ok();
    src.running = src.root.is_none() && (src.release.is_none() || src.release == running_release);
    let facts = match KernelFacts::gather(&src) {
        Ok(f) => f,
        Err(e) => return fail(&prog, e.detail()),
    };
    let mut status = 0;
    let mut text = String::new();
    let mut rows = Vec::new();
    for op in &operands {
        let given = op.to_string_lossy();
        let Some(path) = crate::symbols::module_path(&facts, &given) else {
            return fail(
                &prog,
                &format!(
                    "{given}: no such module in {}",
                    facts.moddir.dirname().display()
                ),
            );
        };
        let verdict = match check(&path, &facts) {
            Ok(v) => v,
            Err(e) => {
                crate::compat::stdio::stderr(&format!(
                    "{prog}: {}: {}\n",
                    path.display(),
                    e.strerror()
                ));
                status = 1;
                continue;
            }
        };
        if !verdict.loads() {
            status = 1;
        }
        if json {
            rows.push(serde_json::json!({
                "module": verdict.module,
                "path": path.to_string_lossy(),
                "kernel": facts.release,
                "loads": verdict.loads(),
                "taint": verdict.taint,
                "findings": verdict.findings.iter().map(|f| serde_json::json!({
                    "kind": f.kind, "severity": f.severity.as_str(), "detail": f.detail,
                })).collect::<Vec<_>>(),
            }));
            continue;
        }
        for f in &verdict.findings {
            if quiet && f.severity != Severity::Error {
                continue;
            }
            text.push_str(&format!(
                "{}: {} {}: {}\n",
                verdict.module,
                f.severity.as_str(),
                f.kind,
                f.detail
            ));
        }
        if !quiet {
            let word = if verdict.loads() { "loads" } else { "refused" };
            text.push_str(&format!("{}: {word}\n", verdict.module));
        }
    }
    if facts.symvers.is_none() && !quiet {
        crate::compat::stdio::stderr(&format!(
            "{prog}: no Module.symvers for {}: CRCs of the core kernel not checked (give one with -s)\n",
            facts.release
        ));
    }
    if json {
        text = serde_json::to_string_pretty(&serde_json::Value::Array(rows)).unwrap_or_default();
        text.push('\n');
    }
    emit(&prog, &text, status)
}
