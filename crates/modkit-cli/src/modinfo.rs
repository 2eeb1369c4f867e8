//! `modinfo`: show information about kernel modules, as kmod 34's modinfo.
//!
//! Arguments are module files (a path ending in a module suffix that names
//! a regular file), module names (`-m`), or anything `modprobe` would
//! resolve: names, aliases, `symbol:` names, built-in modules.

use std::collections::HashMap;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use modkit::error::strerror;
use modkit::kmod::MODULE_DIRECTORY;
use modkit::module::{InfoEntry, Module};
use modkit::resolve::{FoundModule, ModuleDir};

use crate::compat::getopt::{Getopt, HasArg, LongOpt};
use crate::compat::stdio::{self, Stdout};

pub(crate) const SHORT_OPTS: &str = "adlpn0mF:k:b:Vh";
pub(crate) const LONG_OPTS: &[LongOpt] = &[
    LongOpt::new("author", HasArg::No, 'a' as i32),
    LongOpt::new("description", HasArg::No, 'd' as i32),
    LongOpt::new("license", HasArg::No, 'l' as i32),
    LongOpt::new("parameters", HasArg::No, 'p' as i32),
    LongOpt::new("filename", HasArg::No, 'n' as i32),
    LongOpt::new("null", HasArg::No, '0' as i32),
    LongOpt::new("modname", HasArg::No, 'm' as i32),
    LongOpt::new("field", HasArg::Required, 'F' as i32),
    LongOpt::new("set-version", HasArg::Required, 'k' as i32),
    LongOpt::new("basedir", HasArg::Required, 'b' as i32),
    LongOpt::new("version", HasArg::No, 'V' as i32),
    LongOpt::new("help", HasArg::No, 'h' as i32),
];

/// modkit's `--json`, taken out of the arguments before getopt sees them
/// (full name only), so that kmod's messages for abbreviated and unknown
/// options stay byte-identical (as modprobe's `--format`).
const JSON_OPTION: &str = "--json";
/// [`JSON_OPTION`] without its dashes (for the man page and completion tests).
#[cfg(test)]
pub(crate) const JSON_OPTION_NAME: &str = "json";

/// Removes every `--json` before `--` that is not the argument of another
/// option; whether there was one.
fn take_json_option(argv: &mut Vec<OsString>) -> bool {
    let takes_arg = |a: &[u8]| {
        matches!(a, b"-F" | b"-k" | b"-b")
            || (a.len() > 2
                && a.starts_with(b"--")
                && !a.contains(&b'=')
                && ["--field", "--set-version", "--basedir"]
                    .iter()
                    .any(|o| o.as_bytes().starts_with(a)))
    };
    let mut found = false;
    let mut i = 1;
    while i < argv.len() {
        let a = argv[i].as_encoded_bytes();
        if a == b"--" {
            break;
        }
        if a == JSON_OPTION.as_bytes() {
            argv.remove(i);
            found = true;
            continue;
        }
        i += if takes_arg(a) { 2 } else { 1 };
    }
    found
}

/// Module file suffixes this build reads (kmod's list plus `.ko.gz`).
pub const MODULE_SUFFIXES: &[&str] = &[".ko", ".ko.gz", ".ko.xz", ".ko.zst"];

/// kmod's `PATH_MAX`, which bounds the module directory path.
const PATH_MAX: usize = 4096;

struct Modinfo {
    prog: String,
    field: Option<Vec<u8>>,
    separator: u8,
    out: Stdout,
    /// Info of module files read ahead in parallel, by path.
    prefetched: HashMap<PathBuf, modkit::Result<Vec<InfoEntry>>>,
    /// `--json`: the modules shown, printed as one array at the end.
    json: Option<Vec<serde_json::Value>>,
}

/// Entry point: `argv[0]` is the program name.
pub fn main(args: Vec<OsString>) -> u8 {
    let prog = crate::compat::getopt::program_name(&args[0]);
    let mut field: Option<Vec<u8>> = None;
    let mut separator = b'\n';
    let mut by_name = false;
    let mut kversion: Option<OsString> = None;
    let mut root: Option<OsString> = None;
    let mut args = args;
    let json = take_json_option(&mut args);

    let mut opts = Getopt::new(args, SHORT_OPTS, LONG_OPTS);
    for opt in opts.by_ref() {
        let opt = match opt {
            Ok(opt) => opt,
            Err(e) => {
                e.report();
                return 1;
            }
        };
        let arg = opt.arg;
        match u8::try_from(opt.val).map(char::from).unwrap_or('\0') {
            'a' => field = Some(b"author".to_vec()),
            'd' => field = Some(b"description".to_vec()),
            'l' => field = Some(b"license".to_vec()),
            'p' => field = Some(b"parm".to_vec()),
            'n' => field = Some(b"filename".to_vec()),
            '0' => separator = 0,
            'm' => by_name = true,
            'F' => field = arg.map(|a| a.into_encoded_bytes()),
            'k' => kversion = arg,
            'b' => root = arg,
            'h' => {
                return u8::from(!crate::compat::stdio::print_all(&help(&prog)));
            }
            'V' => {
                return u8::from(!crate::compat::stdio::print_all(
                    &crate::version::kmod_version(),
                ));
            }
            _ => return 1,
        }
    }
    let operands = opts.remaining();
    if json && (field.is_some() || separator == 0) {
        stdio::stderr(&format!(
            "{prog}: ERROR: --json shows every field: it cannot be combined with -a, -d, -l, -p, -n, -F or -0.\n"
        ));
        return 1;
    }
    if operands.is_empty() {
        stdio::stderr(&format!("{prog}: ERROR: missing module or filename.\n"));
        return 1;
    }

    let dir = if root.is_some() || kversion.is_some() {
        let release = match kversion {
            Some(k) => k,
            None => match modkit::resolve::kernel_release() {
                Ok(r) => OsString::from(r),
                Err(e) => {
                    stdio::stderr(&format!(
                        "{prog}: ERROR: uname() failed: {}\n",
                        e.strerror()
                    ));
                    return 1;
                }
            },
        };
        let root = root.unwrap_or_default();
        let mut path = root.clone();
        path.push(MODULE_DIRECTORY);
        path.push("/");
        path.push(&release);
        if path.len() >= PATH_MAX {
            stdio::stderr(&format!(
                "{prog}: ERROR: bad directory {}{MODULE_DIRECTORY}/{}: path too long\n",
                root.to_string_lossy(),
                release.to_string_lossy()
            ));
            return 1;
        }
        ModuleDir::new(Path::new(&path))
    } else {
        ModuleDir::for_kernel(None, None)
    };
    let mut dir = match dir {
        Ok(d) => d,
        Err(_) => {
            stdio::stderr(&format!("{prog}: ERROR: kmod_new() failed!\n"));
            return 1;
        }
    };
    // kmod's modinfo creates its library context with no configuration
    // paths: only the module directory's modules.softdep/weakdep and the
    // kernel command line are read (their problems reported by libkmod's
    // logger), never modprobe.d.
    dir.set_config(modkit::config::ModprobeConfig::load(
        dir.dirname(),
        Some(&[]),
        modkit::config::read_kernel_cmdline().as_deref(),
        &crate::log::LibkmodEarlyLog,
    ));

    let mut tool = Modinfo {
        prog,
        field,
        separator,
        out: Stdout::new(),
        prefetched: HashMap::new(),
        json: json.then(Vec::new),
    };
    tool.prefetch(&dir, &operands, by_name);
    let mut failed = false;
    for operand in &operands {
        let ok = if by_name {
            tool.by_name(&dir, operand)
        } else if is_module_filename(operand) {
            tool.by_path(&dir, operand)
        } else {
            tool.by_alias(&dir, operand)
        };
        failed |= !ok;
    }
    if let Some(items) = tool.json.take() {
        let mut text = serde_json::to_string_pretty(&items).unwrap_or_default();
        text.push('\n');
        tool.out.write(text.as_bytes());
    }
    if tool.out.close().is_err() {
        return 1;
    }
    u8::from(failed)
}

fn help(prog: &str) -> String {
    format!(
        "Usage:\n\
         \t{prog} [options] <modulename|filename> [args]\n\
         Options:\n\
         \t-a, --author                Show only the 'author' field\n\
         \t-d, --description           Show only the 'description' field\n\
         \t-l, --license               Show only the 'license' field\n\
         \t-p, --parameters            Show only the 'parm' fields\n\
         \t-n, --filename              Show only the module's file name\n\
         \t-0, --null                  End each value with \\0, not a newline\n\
         \t-m, --modname               Take arguments as module names, not aliases or files\n\
         \t-F, --field=FIELD           Show only the given FIELD\n\
         \t-k, --set-version=VERSION   Use kernel VERSION, not the running one\n\
         \t-b, --basedir=DIR           Look for {MODULE_DIRECTORY} under DIR\n\
         \t-V, --version               Show the version\n\
         \t-h, --help                  Show this help\n\
         \n\
         modkit only:\n\
         \t    --json                  Print every module's fields as JSON\n"
    )
}

/// kmod treats an argument as a file when it has a module suffix and names
/// a regular file (following symlinks).
fn is_module_filename(arg: &OsString) -> bool {
    let bytes = arg.as_encoded_bytes();
    let has_suffix = MODULE_SUFFIXES
        .iter()
        .any(|s| bytes.len() > s.len() && bytes.ends_with(s.as_bytes()));
    has_suffix && std::fs::metadata(arg).map(|m| m.is_file()).unwrap_or(false)
}

/// One `parm` line being assembled from `parm` and `parmtype` entries.
struct Param<'a> {
    name: &'a [u8],
    description: Option<&'a [u8]>,
    kind: Option<&'a [u8]>,
}

impl Modinfo {
    /// Reads the module files that the operands name, on all cores, so
    /// that decompression (most of modinfo's time on `.ko.xz` trees) runs
    /// in parallel. Printing stays sequential and in order; only files
    /// whose info will be printed are read.
    fn prefetch(&mut self, dir: &ModuleDir, operands: &[OsString], by_name: bool) {
        if self.field_is(b"filename") || operands.len() < 2 {
            return;
        }
        let mut paths: Vec<PathBuf> = Vec::new();
        for operand in operands {
            let found = if by_name {
                dir.lookup_name(&operand.to_string_lossy())
                    .ok()
                    .flatten()
                    .into_iter()
                    .collect()
            } else if is_module_filename(operand) {
                FoundModule::from_path(Path::new(operand))
                    .into_iter()
                    .collect()
            } else {
                dir.lookup(&operand.to_string_lossy()).unwrap_or_default()
            };
            for mut m in found {
                if let Some(p) = dir.module_path(&mut m) {
                    if !dir.is_builtin(&mut m) {
                        paths.push(p);
                    }
                }
            }
        }
        let threads = std::thread::available_parallelism()
            .map_or(1, |n| n.get())
            .min(paths.len());
        if threads < 2 {
            return;
        }
        let next = AtomicUsize::new(0);
        let results = Mutex::new(HashMap::new());
        std::thread::scope(|s| {
            for _ in 0..threads {
                s.spawn(|| loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(path) = paths.get(i) else { break };
                    let info = Module::open(path).and_then(|m| m.info());
                    if let Ok(mut r) = results.lock() {
                        r.insert(path.clone(), info);
                    }
                });
            }
        });
        self.prefetched = results.into_inner().unwrap_or_default();
    }

    /// "PROG: ERROR: {before}{operand}{after}" with the operand's bytes as
    /// given (not made valid UTF-8), as kmod prints them.
    fn operand_error(&self, before: &str, operand: &OsString, after: &str) {
        let mut msg = format!("{}: ERROR: {before}", self.prog).into_bytes();
        msg.extend_from_slice(operand.as_encoded_bytes());
        msg.extend_from_slice(after.as_bytes());
        msg.push(b'\n');
        stdio::stderr_bytes(&msg);
    }

    fn error(&self, msg: &str) {
        stdio::stderr(&format!("{}: ERROR: {msg}\n", self.prog));
    }

    fn by_path(&mut self, dir: &ModuleDir, arg: &OsString) -> bool {
        match FoundModule::from_path(Path::new(arg)) {
            Ok(mut m) => self.show(dir, &mut m),
            Err(_) => {
                self.operand_error("Module file ", arg, " not found.");
                false
            }
        }
    }

    fn by_name(&mut self, dir: &ModuleDir, arg: &OsString) -> bool {
        let name = arg.to_string_lossy();
        match dir.lookup_name(&name) {
            Ok(Some(mut m)) => self.show(dir, &mut m),
            _ => {
                self.operand_error("Module name ", arg, " not found.");
                false
            }
        }
    }

    fn by_alias(&mut self, dir: &ModuleDir, arg: &OsString) -> bool {
        let alias = arg.to_string_lossy();
        let found = match dir.lookup(&alias) {
            Ok(found) => found,
            Err(_) => {
                self.operand_error("Module alias ", arg, " not found.");
                return false;
            }
        };
        if found.is_empty() {
            self.operand_error("Module ", arg, " not found.");
            return false;
        }
        let mut ok = true;
        for mut m in found {
            ok &= self.show(dir, &mut m);
        }
        ok
    }

    fn field_is(&self, name: &[u8]) -> bool {
        self.field.as_deref() == Some(name)
    }

    fn line(&mut self, parts: &[&[u8]]) {
        for p in parts {
            self.out.write(p);
        }
        self.out.write(&[self.separator]);
    }

    /// Prints one module, as kmod's `modinfo_do`.
    fn show(&mut self, dir: &ModuleDir, m: &mut FoundModule) -> bool {
        let path = dir.module_path(m);
        let is_builtin = path.is_none();
        let filename: Vec<u8> = match &path {
            Some(p) => p.as_os_str().as_encoded_bytes().to_vec(),
            None => b"(builtin)".to_vec(),
        };
        if is_builtin && self.json.is_none() {
            if self.field.is_none() {
                let label = format!("{:<16}", "name:");
                self.line(&[label.as_bytes(), m.name.as_bytes()]);
            } else if self.field_is(b"name") {
                self.line(&[m.name.as_bytes()]);
            }
        }
        if self.field_is(b"filename") {
            self.line(&[&filename]);
            return true;
        }
        if self.field.is_none() && self.json.is_none() {
            let label = format!("{:<16}", "filename:");
            self.line(&[label.as_bytes(), &filename]);
        }

        let prefetched = match &path {
            Some(p) if !dir.is_builtin(m) => self.prefetched.remove(p),
            _ => None,
        };
        let info = match prefetched.unwrap_or_else(|| dir.module_info(m)) {
            Ok(info) => info,
            Err(e) if is_builtin && e.errno() == modkit::error::errno::ENOENT => return true,
            Err(e) => {
                if let Some(function) = modkit::compression::libkmod_log_function(&e) {
                    // libkmod's own log line, which kmod prints first.
                    stdio::stderr(&format!("libkmod: ERROR: {function}: {}\n", e.detail()));
                }
                self.error(&format!(
                    "could not get modinfo from '{}': {}",
                    m.name,
                    strerror(e.errno())
                ));
                return false;
            }
        };

        if self.json.is_some() {
            let item = self.json_item(m, path.as_deref(), &info);
            if let Some(items) = &mut self.json {
                items.push(item);
            }
            return true;
        }

        if self.field_is(b"parm") {
            let params = self.collect_params(&info);
            for p in params.iter().rev() {
                self.param_line(p, false);
            }
            return true;
        }

        let mut params: Vec<Param> = Vec::new();
        for entry in &info {
            if let Some(field) = &self.field {
                if entry.key == *field {
                    let value = entry.value.clone();
                    self.line(&[&value]);
                }
                continue;
            }
            if entry.key == b"parm" || entry.key == b"parmtype" {
                self.add_param(&mut params, entry);
                continue;
            }
            if self.separator == 0 {
                self.line(&[&entry.key, b"=", &entry.value]);
                continue;
            }
            let pad = 15usize.saturating_sub(entry.key.len());
            let spaces = vec![b' '; pad];
            self.line(&[&entry.key, b":", &spaces, &entry.value]);
        }
        if self.field.is_none() {
            for p in params.iter().rev() {
                self.param_line(p, true);
            }
        }
        true
    }

    /// One module as JSON: `name`, `filename` (null when built in),
    /// `builtin`, `fields` (every other key, its values in order),
    /// `signature` (the signature's fields, when signed) and `parameters`
    /// (name, type, description, as `modinfo -p` lists them).
    fn json_item(
        &self,
        m: &FoundModule,
        path: Option<&Path>,
        info: &[InfoEntry],
    ) -> serde_json::Value {
        use serde_json::{json, Map, Value};
        const SIGNATURE: [&str; 5] = ["sig_id", "signer", "sig_key", "sig_hashalgo", "signature"];
        let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
        let mut fields = Map::new();
        let mut signature = Map::new();
        for e in info {
            let key = text(&e.key);
            if key == "parm" || key == "parmtype" {
                continue;
            }
            if SIGNATURE.contains(&key.as_str()) {
                // the hex dump without the text layout's line breaks
                let value = text(&e.value).replace("\n\t\t", "");
                signature.insert(key, value.into());
                continue;
            }
            if let Value::Array(list) = fields.entry(key).or_insert_with(|| json!([])) {
                list.push(text(&e.value).into());
            }
        }
        let params: Vec<Value> = self
            .collect_params(info)
            .iter()
            .rev()
            .map(|p| {
                json!({
                    "name": text(p.name),
                    "type": p.kind.map(text),
                    "description": p.description.map(text),
                })
            })
            .collect();
        json!({
            "name": m.name,
            "filename": path.map(|p| p.to_string_lossy().into_owned()),
            "builtin": path.is_none(),
            "fields": fields,
            "signature": if signature.is_empty() { Value::Null } else { Value::Object(signature) },
            "parameters": params,
        })
    }

    fn collect_params<'a>(&self, info: &'a [InfoEntry]) -> Vec<Param<'a>> {
        let mut params = Vec::new();
        for entry in info {
            if entry.key == b"parm" || entry.key == b"parmtype" {
                self.add_param(&mut params, entry);
            }
        }
        params
    }

    /// Merges a `parm` (description) or `parmtype` (type) entry into the
    /// list by parameter name; the list keeps first-seen order and is
    /// printed newest first, as kmod prints it.
    fn add_param<'a>(&self, params: &mut Vec<Param<'a>>, entry: &'a InfoEntry) {
        let value = &entry.value[..];
        let Some(colon) = value.iter().position(|&b| b == b':') else {
            self.error(&format!(
                "Found invalid \"{}={}\": missing ':'",
                String::from_utf8_lossy(&entry.key),
                String::from_utf8_lossy(value)
            ));
            return;
        };
        let name = &value[..colon];
        let rest = &value[colon + 1..];
        let idx = match params.iter().position(|p| p.name == name) {
            Some(i) => i,
            None => {
                params.push(Param {
                    name,
                    description: None,
                    kind: None,
                });
                params.len() - 1
            }
        };
        if entry.key == b"parm" {
            params[idx].description = Some(rest);
        } else {
            params[idx].kind = Some(rest);
        }
    }

    fn param_line(&mut self, p: &Param, labelled: bool) {
        let label = if labelled {
            format!("{:<16}", "parm:")
        } else {
            String::new()
        };
        let label = label.as_bytes();
        match (p.description, p.kind) {
            (None, kind) => {
                let kind = kind.unwrap_or_default();
                if labelled {
                    self.line(&[label, p.name, b":", kind]);
                } else {
                    self.line(&[p.name, b": (", kind, b")"]);
                }
            }
            (Some(desc), Some(kind)) => self.line(&[label, p.name, b":", desc, b" (", kind, b")"]),
            (Some(desc), None) => self.line(&[label, p.name, b":", desc]),
        }
    }
}
