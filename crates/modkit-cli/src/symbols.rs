//! `symbols`: the exported symbols a kernel offers to modules, with CRC,
//! export type (GPL-only or not), namespace and the providing module.
//!
//! ```text
//! $ modkit symbols -k 6.1.0-57-amd64 'idxd_*'
//! idxd_driver_unregister    idxd_bus    0xcd751ba9    EXPORT_SYMBOL_GPL    IDXD
//! $ modkit symbols --needed-by mk_chain_b
//! $ modkit symbols --users dsa_bus_type
//! ```
//!
//! Sources, in order: `Module.symvers` (`MODDIR/build/Module.symvers`, or
//! `-s FILE`), then the tree's `modules.symbols` for what it lacks, each
//! such module's own export tables giving CRC, GPL-only and namespace.

use std::collections::HashSet;
use std::ffi::OsString;
use std::path::{Path, PathBuf};

use modkit::compat::fnmatch::fnmatch;
use modkit::elf::SymbolBind;
use modkit::module::Module;
use modkit::verdict::{FactsSource, KernelFacts, Provider};

use crate::compat::getopt::{HasArg, LongOpt};
use crate::toolargs::{emit, fail, parse, Parsed};

const OPT_NEEDED_BY: i32 = 256;
const OPT_USERS: i32 = 257;
pub(crate) const SHORT_OPTS: &str = "s:k:b:jhV";
pub(crate) const LONG_OPTS: &[LongOpt] = &[
    LongOpt::new("symvers", HasArg::Required, 's' as i32),
    LongOpt::new("set-version", HasArg::Required, 'k' as i32),
    LongOpt::new("basedir", HasArg::Required, 'b' as i32),
    LongOpt::new("needed-by", HasArg::Required, OPT_NEEDED_BY),
    LongOpt::new("users", HasArg::Required, OPT_USERS),
    LongOpt::new("json", HasArg::No, 'j' as i32),
    LongOpt::new("help", HasArg::No, 'h' as i32),
    LongOpt::new("version", HasArg::No, 'V' as i32),
];

fn help(prog: &str) -> String {
    format!(
        "Usage:\n {prog} [options] [PATTERN]\n\
         \x20{prog} [options] --needed-by MODULE\n\
         \x20{prog} [options] --users SYMBOL\n\n\
         The symbols a kernel exports to modules: NAME MODULE CRC EXPORT_TYPE NAMESPACE,\n\
         tab-separated (CRC '-' when unknown). PATTERN is a name or a glob.\n\n\
         Options:\n\
         \x20-s, --symvers FILE     read FILE as Module.symvers (default MODDIR/build/Module.symvers)\n\
         \x20-k, --set-version VER  the kernel release (default: the running one)\n\
         \x20-b, --basedir DIR      the module tree lives under DIR/lib/modules\n\
         \x20    --needed-by MODULE what MODULE (a file or a module of the tree) imports, and who provides each\n\
         \x20    --users SYMBOL     the modules of the tree that import SYMBOL\n\
         \x20-j, --json             print JSON\n\
         \x20-h, --help             display this help\n\
         \x20-V, --version          display version\n"
    )
}

struct Row {
    name: String,
    provider: Option<Provider>,
    export_type: String,
}

fn crc_text(crc: Option<u64>) -> String {
    crc.map_or("-".to_string(), |c| format!("{c:#010x}"))
}

fn row_text(r: &Row) -> String {
    match &r.provider {
        Some(p) => format!(
            "{}\t{}\t{}\t{}\t{}\n",
            r.name,
            p.module,
            crc_text(p.crc),
            r.export_type,
            p.namespace
        ),
        None => format!("{}\tnobody\t-\t-\t\n", r.name),
    }
}

fn row_json(r: &Row) -> serde_json::Value {
    match &r.provider {
        Some(p) => serde_json::json!({
            "name": r.name, "module": p.module, "crc": p.crc.map(|c| format!("{c:#010x}")),
            "export_type": r.export_type, "gpl_only": p.gpl_only, "namespace": p.namespace,
        }),
        None => serde_json::json!({ "name": r.name, "module": null }),
    }
}

fn export_type(p: &Provider) -> String {
    match p.gpl_only {
        Some(true) => "EXPORT_SYMBOL_GPL".into(),
        Some(false) => "EXPORT_SYMBOL".into(),
        None => "-".into(),
    }
}

/// A module operand: a path to a file, or a module name of the tree.
pub(crate) fn module_path(facts: &KernelFacts, given: &str) -> Option<PathBuf> {
    if given.contains('/') || given.contains(".ko") {
        return Some(PathBuf::from(given));
    }
    let name = given.replace('-', "_");
    let line = facts.moddir.search_moddep(&name)?;
    let rel = line.split(':').next()?;
    Some(if rel.starts_with('/') {
        PathBuf::from(rel)
    } else {
        facts.moddir.dirname().join(rel)
    })
}

/// Every module file of the tree (`modules.dep`), with its dependencies.
fn tree_modules(dir: &Path) -> Vec<(PathBuf, Vec<String>)> {
    let text = std::fs::read_to_string(dir.join("modules.dep")).unwrap_or_default();
    let abs = |rel: &str| {
        if rel.starts_with('/') {
            PathBuf::from(rel)
        } else {
            dir.join(rel)
        }
    };
    text.lines()
        .filter_map(|l| {
            let (m, deps) = l.split_once(':')?;
            Some((
                abs(m),
                deps.split_whitespace().map(str::to_string).collect(),
            ))
        })
        .collect()
}

/// Entry point: `argv[0]` is the program name.
pub fn main(args: Vec<OsString>) -> u8 {
    let prog = crate::toolargs::prog_name(&args, "symbols");
    let (opts, operands) = match parse(args, SHORT_OPTS, LONG_OPTS, &prog, &help(&prog)) {
        Parsed::Run(o, r) => (o, r),
        Parsed::Exit(code) => return code,
    };
    let mut src = FactsSource::default();
    let mut needed_by = None;
    let mut users = None;
    let mut json = false;
    for (val, arg) in opts {
        let arg = arg.unwrap_or_default();
        match val {
            OPT_NEEDED_BY => needed_by = Some(arg.to_string_lossy().into_owned()),
            OPT_USERS => users = Some(arg.to_string_lossy().into_owned()),
            v if v == 's' as i32 => src.symvers = Some(PathBuf::from(arg)),
            v if v == 'k' as i32 => src.release = Some(arg.to_string_lossy().into_owned()),
            v if v == 'b' as i32 => src.root = Some(PathBuf::from(arg)),
            v if v == 'j' as i32 => json = true,
            _ => return 1,
        }
    }
    if operands.len() > 1 {
        return fail(&prog, "at most one PATTERN");
    }
    let facts = match KernelFacts::gather(&src) {
        Ok(f) => f,
        Err(e) => return fail(&prog, e.detail()),
    };
    let mut rows: Vec<Row> = Vec::new();
    let mut text = String::new();
    let mut status = 0;

    if let Some(given) = needed_by {
        let Some(path) = module_path(&facts, &given) else {
            return fail(
                &prog,
                &format!(
                    "{given}: no such module in {}",
                    facts.moddir.dirname().display()
                ),
            );
        };
        let m = match Module::open(&path) {
            Ok(m) => m,
            Err(e) => return fail(&prog, &format!("{}: {}", path.display(), e.strerror())),
        };
        let needed = match m.dependency_symbols() {
            Ok(n) => n,
            Err(e) => return fail(&prog, &format!("{}: {}", path.display(), e.strerror())),
        };
        let mut seen = HashSet::new();
        for sym in needed {
            if !seen.insert(sym.name.clone()) {
                continue;
            }
            let provider = facts.provider(&sym.name);
            if provider.is_none() && sym.bind != SymbolBind::Weak {
                status = 1;
            }
            let export_type = provider.as_ref().map(export_type).unwrap_or_default();
            rows.push(Row {
                name: sym.name,
                provider,
                export_type,
            });
        }
    } else if let Some(symbol) = users {
        let provider = facts.provider(&symbol);
        let mut found = Vec::new();
        // Only modules depending on the provider can import a module's symbol.
        let provider_file = provider
            .as_ref()
            .filter(|p| p.module != "vmlinux")
            .and_then(|p| module_path(&facts, &p.module));
        for (path, deps) in tree_modules(facts.moddir.dirname()) {
            if let Some(pf) = &provider_file {
                if !deps
                    .iter()
                    .any(|d| facts.moddir.dirname().join(d) == *pf || Path::new(d) == pf)
                {
                    continue;
                }
            }
            let Ok(m) = Module::open(&path) else { continue };
            let Ok(needed) = m.dependency_symbols() else {
                continue;
            };
            if needed.iter().any(|s| s.name == symbol) {
                let name = m
                    .elf()
                    .ok()
                    .and_then(|e| {
                        e.this_module_name()
                            .map(|n| String::from_utf8_lossy(n).into_owned())
                    })
                    .unwrap_or_else(|| m.name().to_string());
                found.push(name);
            }
        }
        found.sort();
        if json {
            text = serde_json::to_string_pretty(&serde_json::json!({
                "symbol": symbol,
                "provider": provider.as_ref().map(|p| p.module.clone()),
                "users": found,
            }))
            .unwrap_or_default();
            text.push('\n');
        } else {
            for f in &found {
                text.push_str(f);
                text.push('\n');
            }
        }
        if provider.is_none() && found.is_empty() {
            return fail(&prog, &format!("{symbol}: no module exports or imports it"));
        }
        return emit(&prog, &text, 0);
    } else {
        let pattern = operands.first().map(|p| p.to_string_lossy().into_owned());
        let matches = |name: &str| match &pattern {
            None => true,
            Some(p) if p.contains(['*', '?', '[']) => fnmatch(p.as_bytes(), name.as_bytes()),
            Some(p) => p == name,
        };
        let mut seen = HashSet::new();
        if let Some(sv) = &facts.symvers {
            for e in sv.exports() {
                if matches(&e.name) && seen.insert(e.name.clone()) {
                    rows.push(Row {
                        name: e.name.clone(),
                        provider: facts.provider(&e.name),
                        export_type: e.export_type.clone(),
                    });
                }
            }
        }
        // modules.symbols: "alias symbol:NAME MODULE".
        let text_idx = std::fs::read_to_string(facts.moddir.dirname().join("modules.symbols"))
            .unwrap_or_default();
        for l in text_idx.lines() {
            let mut f = l.split_whitespace();
            let (Some("alias"), Some(sym)) = (f.next(), f.next()) else {
                continue;
            };
            let Some(name) = sym.strip_prefix("symbol:") else {
                continue;
            };
            if matches(name) && seen.insert(name.to_string()) {
                let provider = facts.provider(name);
                let export_type = provider.as_ref().map(export_type).unwrap_or_default();
                rows.push(Row {
                    name: name.to_string(),
                    provider,
                    export_type,
                });
            }
        }
        if facts.symvers.is_none() && text_idx.is_empty() {
            return fail(
                &prog,
                &format!(
                    "no Module.symvers and no modules.symbols for {} (give one with -s)",
                    facts.release
                ),
            );
        }
        if rows.is_empty() {
            if let Some(p) = &pattern {
                crate::compat::stdio::stderr(&format!("{prog}: {p}: no such exported symbol\n"));
                status = 1;
            }
        }
    }
    if json {
        let v: Vec<_> = rows.iter().map(row_json).collect();
        text = serde_json::to_string_pretty(&serde_json::Value::Array(v)).unwrap_or_default();
        text.push('\n');
    } else {
        for r in &rows {
            text.push_str(&row_text(r));
        }
    }
    emit(&prog, &text, status)
}
