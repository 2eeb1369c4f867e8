//! `param`: module parameters with their values, types, permissions and
//! descriptions; setting them with the value checked first.
//!
//! ```text
//! $ modkit param mk_params
//! mk_params.p_int    -42    int    0644    an int
//! ...
//! $ modkit param mk_params p_int=7 p_array=1,2
//! $ modkit param mk_params p_ushort=1
//! modkit param: mk_params.p_ushort: read-only (mode 0444); nothing written
//! ```
//!
//! Types come from the module file's `parmtype` (found through the running
//! kernel's `modules.dep`) or `modules.builtin.modinfo`; values and modes
//! from `/sys/module/MODULE/parameters/`. Every `NAME=VALUE` is checked
//! (writable, parses as its type as the kernel would parse it) before any
//! is written. The work is [`modkit::params`].

use std::ffi::OsString;
use std::path::PathBuf;

use modkit::module::Module;
use modkit::params::{check_set, module_params, write_value, Param};
use modkit::resolve::ModuleDir;

use crate::compat::getopt::{HasArg, LongOpt};
use crate::toolargs::{emit, fail, parse, Parsed};

const OPT_SYSFS: i32 = 256;
pub(crate) const SHORT_OPTS: &str = "b:k:jhV";
pub(crate) const LONG_OPTS: &[LongOpt] = &[
    LongOpt::new("basedir", HasArg::Required, 'b' as i32),
    LongOpt::new("set-version", HasArg::Required, 'k' as i32),
    LongOpt::new("sys-module", HasArg::Required, OPT_SYSFS),
    LongOpt::new("json", HasArg::No, 'j' as i32),
    LongOpt::new("help", HasArg::No, 'h' as i32),
    LongOpt::new("version", HasArg::No, 'V' as i32),
];

fn help(prog: &str) -> String {
    format!(
        "Usage:\n {prog} [options] [MODULE [NAME[=VALUE]...]]\n\n\
         Module parameters: MODULE.NAME VALUE TYPE MODE DESCRIPTION, tab-separated.\n\
         Without MODULE, every module in /sys/module with parameters. NAME shows one;\n\
         NAME=VALUE sets it, after checking every value against its type and permissions.\n\n\
         Options:\n\
         \x20-b, --basedir DIR      the module tree lives under DIR/lib/modules\n\
         \x20-k, --set-version VER  the kernel release whose tree gives the types\n\
         \x20    --sys-module DIR   read DIR instead of /sys/module\n\
         \x20-j, --json             print JSON\n\
         \x20-h, --help             display this help\n\
         \x20-V, --version          display version\n"
    )
}

/// What the module's file says of its parameters: its `.modinfo` pairs
/// (its file in the tree, else built in) and its arrays' capacities.
type Declared = (Vec<(String, String)>, Vec<(String, u32)>);

fn modinfo_of(moddir: Option<&ModuleDir>, module: &str) -> Declared {
    let Some(dir) = moddir else {
        return (Vec::new(), Vec::new());
    };
    let pairs = |entries: Vec<modkit::module::InfoEntry>| {
        entries
            .iter()
            .map(|e| (e.key_str().to_string(), e.value_lossy().to_string()))
            .collect()
    };
    if let Some(line) = dir.search_moddep(module) {
        let rel = line.split(':').next().unwrap_or_default();
        let path = if rel.starts_with('/') {
            PathBuf::from(rel)
        } else {
            dir.dirname().join(rel)
        };
        if let Ok(m) = Module::open(path) {
            if let Ok(info) = m.info() {
                let caps = m
                    .elf()
                    .map(|e| e.param_array_capacities())
                    .unwrap_or_default();
                return (pairs(info), caps);
            }
        }
    }
    let info = modkit::builtin::modinfo(dir.dirname(), module)
        .map(pairs)
        .unwrap_or_default();
    (info, Vec::new())
}

/// The module's parameters, with array capacities filled in.
fn params_of(sys_module: &std::path::Path, module: &str, declared: &Declared) -> Vec<Param> {
    let mut params = module_params(sys_module, module, &declared.0);
    for p in &mut params {
        p.capacity = declared
            .1
            .iter()
            .find(|(n, _)| *n == p.name)
            .map(|(_, c)| *c as usize);
    }
    params
}

fn row(p: &Param) -> String {
    format!(
        "{}.{}\t{}\t{}\t{}\t{}\n",
        p.module,
        p.name,
        p.value.as_deref().unwrap_or("-"),
        p.kind.as_ref().map_or("-".to_string(), |k| k.to_string()),
        p.mode.map_or("-".to_string(), |m| format!("{m:04o}")),
        p.description
    )
}

fn json_row(p: &Param) -> serde_json::Value {
    serde_json::json!({
        "module": p.module, "name": p.name, "value": p.value,
        "type": p.kind.as_ref().map(|k| k.to_string()),
        "mode": p.mode.map(|m| format!("{m:04o}")),
        "writable": p.writable(), "capacity": p.capacity, "description": p.description,
    })
}

/// Entry point: `argv[0]` is the program name.
pub fn main(args: Vec<OsString>) -> u8 {
    let prog = crate::toolargs::prog_name(&args, "param");
    let (opts, operands) = match parse(args, SHORT_OPTS, LONG_OPTS, &prog, &help(&prog)) {
        Parsed::Run(o, r) => (o, r),
        Parsed::Exit(code) => return code,
    };
    let mut root: Option<PathBuf> = None;
    let mut release: Option<String> = None;
    let mut sys_module = PathBuf::from("/sys/module");
    let mut json = false;
    for (val, arg) in opts {
        let arg = arg.unwrap_or_default();
        match val {
            OPT_SYSFS => sys_module = PathBuf::from(arg),
            v if v == 'b' as i32 => root = Some(PathBuf::from(arg)),
            v if v == 'k' as i32 => release = Some(arg.to_string_lossy().into_owned()),
            v if v == 'j' as i32 => json = true,
            _ => return 1,
        }
    }
    let moddir = ModuleDir::for_kernel(root.as_deref(), release.as_deref()).ok();
    let operands: Vec<String> = operands
        .iter()
        .map(|o| o.to_string_lossy().into_owned())
        .collect();
    let mut params: Vec<Param> = Vec::new();
    match operands.first() {
        None => {
            let mut names: Vec<String> = std::fs::read_dir(&sys_module)
                .map(|rd| {
                    rd.filter_map(|e| e.ok())
                        .map(|e| e.file_name().to_string_lossy().into_owned())
                        .collect()
                })
                .unwrap_or_default();
            if names.is_empty() {
                return fail(&prog, &format!("{}: no modules", sys_module.display()));
            }
            names.sort();
            for m in names {
                if !sys_module.join(&m).join("parameters").is_dir() {
                    continue;
                }
                let info = modinfo_of(moddir.as_ref(), &m);
                params.extend(params_of(&sys_module, &m, &info));
            }
        }
        Some(m) => {
            let m = m.replace('-', "_");
            let info = modinfo_of(moddir.as_ref(), &m);
            if !sys_module.join(&m).is_dir() && info.0.is_empty() {
                return fail(
                    &prog,
                    &format!("{m}: not loaded and not in the module tree"),
                );
            }
            let all = params_of(&sys_module, &m, &info);
            let mut sets: Vec<(Param, String)> = Vec::new();
            let mut shown: Vec<Param> = Vec::new();
            for op in &operands[1..] {
                let (name, value) = match op.split_once('=') {
                    Some((n, v)) => (n, Some(v)),
                    None => (op.as_str(), None),
                };
                let Some(p) = all.iter().find(|p| p.name == name) else {
                    return fail(
                        &prog,
                        &format!("{m}.{name}: no such parameter; nothing written"),
                    );
                };
                match value {
                    Some(v) => {
                        if let Err(why) = check_set(p, v) {
                            return fail(&prog, &format!("{m}.{name}: {why}; nothing written"));
                        }
                        sets.push((p.clone(), v.to_string()));
                    }
                    None => shown.push(p.clone()),
                }
            }
            for (p, v) in &sets {
                if let Err(e) = write_value(&sys_module, p, v) {
                    return fail(
                        &prog,
                        &format!("{m}.{}: the kernel refused '{v}': {}", p.name, e.strerror()),
                    );
                }
            }
            if !sets.is_empty() && shown.is_empty() {
                return 0;
            }
            params = if operands.len() > 1 {
                // Re-read what was shown, after any writes.
                let fresh = params_of(&sys_module, &m, &info);
                shown
                    .iter()
                    .filter_map(|s| fresh.iter().find(|p| p.name == s.name).cloned())
                    .collect()
            } else {
                all
            };
        }
    }
    let text = if json {
        let v: Vec<_> = params.iter().map(json_row).collect();
        let mut t = serde_json::to_string_pretty(&serde_json::Value::Array(v)).unwrap_or_default();
        t.push('\n');
        t
    } else {
        params.iter().map(row).collect()
    };
    emit(&prog, &text, 0)
}
