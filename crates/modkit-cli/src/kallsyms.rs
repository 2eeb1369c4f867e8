//! `kallsyms`: the kernel's symbols by name, glob or address.
//!
//! ```text
//! $ modkit kallsyms do_sys_open 'vfs_*' 0xffffffff812f4c13
//! ffffffff812f4b90 T do_sys_open
//! ...
//! ffffffff812f4c13 do_sys_open+0x83/0xd0
//! ```
//!
//! Names print as `/proc/kallsyms` lines (`ADDRESS TYPE NAME [MODULE]`);
//! addresses (`0x...` or 16 hex digits) as `%pS` prints them
//! (`name+0xOFF/0xSIZE [module]`). Reads `/proc/kallsyms` or, with `-m`, a
//! `System.map`. The library's [`modkit::kallsyms`] does the work.

use std::ffi::OsString;

use modkit::compat::fnmatch::fnmatch;
use modkit::kallsyms::{self, Symbol, SymbolTable, PROC_KALLSYMS};

use crate::compat::getopt::{HasArg, LongOpt};
use crate::toolargs::{emit, fail, parse, Parsed};

pub(crate) const SHORT_OPTS: &str = "m:t:M:jhV";
pub(crate) const LONG_OPTS: &[LongOpt] = &[
    LongOpt::new("map", HasArg::Required, 'm' as i32),
    LongOpt::new("type", HasArg::Required, 't' as i32),
    LongOpt::new("module", HasArg::Required, 'M' as i32),
    LongOpt::new("json", HasArg::No, 'j' as i32),
    LongOpt::new("help", HasArg::No, 'h' as i32),
    LongOpt::new("version", HasArg::No, 'V' as i32),
];

fn help(prog: &str) -> String {
    format!(
        "Usage:\n {prog} [options] [NAME|GLOB|ADDRESS...]\n\n\
         The kernel's symbols: by exact name, by glob (* ? [...]), or the symbol an\n\
         address is in, printed as %pS prints it (name+0xOFF/0xSIZE [module]).\n\
         Without operands every symbol (after the filters) is printed.\n\n\
         Options:\n\
         \x20-m, --map FILE       read FILE (a System.map) instead of /proc/kallsyms\n\
         \x20-t, --type LETTERS   only symbols of these nm type letters (e.g. Tt)\n\
         \x20-M, --module NAME    only symbols of this loaded module ('kernel' for the core)\n\
         \x20-j, --json           print JSON\n\
         \x20-h, --help           display this help\n\
         \x20-V, --version        display version\n"
    )
}

/// An operand that names an address: `0x` and hex digits, or exactly 16
/// hex digits (a `/proc/kallsyms` address column).
fn as_address(op: &str) -> Option<u64> {
    let hex = match op.strip_prefix("0x").or_else(|| op.strip_prefix("0X")) {
        Some(h) => h,
        None if op.len() == 16 => op,
        None => return None,
    };
    if hex.is_empty() || hex.len() > 16 {
        return None;
    }
    u64::from_str_radix(hex, 16).ok()
}

fn line(s: &Symbol) -> String {
    match &s.module {
        Some(m) => format!("{:016x} {} {}\t[{m}]\n", s.address, s.kind as char, s.name),
        None => format!("{:016x} {} {}\n", s.address, s.kind as char, s.name),
    }
}

fn json_symbol(s: &Symbol) -> serde_json::Value {
    serde_json::json!({
        "address": format!("{:#x}", s.address),
        "type": (s.kind as char).to_string(),
        "name": s.name,
        "module": s.module,
    })
}

/// Entry point: `argv[0]` is the program name.
pub fn main(args: Vec<OsString>) -> u8 {
    let prog = crate::toolargs::prog_name(&args, "kallsyms");
    let (opts, operands) = match parse(args, SHORT_OPTS, LONG_OPTS, &prog, &help(&prog)) {
        Parsed::Run(o, r) => (o, r),
        Parsed::Exit(code) => return code,
    };
    let mut map: Option<OsString> = None;
    let mut types: Option<String> = None;
    let mut module: Option<String> = None;
    let mut json = false;
    for (val, arg) in opts {
        let arg = arg.unwrap_or_default();
        match u8::try_from(val).unwrap_or(0) {
            b'm' => map = Some(arg),
            b't' => types = Some(arg.to_string_lossy().into_owned()),
            b'M' => module = Some(arg.to_string_lossy().into_owned()),
            b'j' => json = true,
            _ => return 1,
        }
    }
    let source = map.clone().unwrap_or_else(|| PROC_KALLSYMS.into());
    let keep = |s: &Symbol| {
        types
            .as_ref()
            .is_none_or(|t| t.as_bytes().contains(&s.kind))
            && module.as_ref().is_none_or(|m| match &s.module {
                Some(sm) => sm == m,
                None => m == "kernel" || m == "vmlinux",
            })
    };
    let hidden_note = |prog: &str| {
        format!(
            "{prog}: every address in {} reads as 0: the kernel hides them (kptr_restrict, or not root)\n",
            source.to_string_lossy()
        )
    };
    let read_error = |e: std::io::Error| {
        let e = modkit::Error::io(e, source.to_string_lossy());
        fail(
            &prog,
            &format!("{}: {}", source.to_string_lossy(), e.strerror()),
        )
    };
    // Names only: one streaming pass, the table never whole in memory.
    if !operands.is_empty()
        && operands
            .iter()
            .all(|o| as_address(&o.to_string_lossy()).is_none())
    {
        let patterns: Vec<kallsyms::NamePattern> = operands
            .iter()
            .map(|o| kallsyms::NamePattern::new(&o.to_string_lossy()))
            .collect();
        let scan = match std::fs::File::open(&source)
            .map_err(kallsyms::ScanError::Io)
            .and_then(|f| kallsyms::scan_names(f, &patterns))
        {
            Ok(scan) => scan,
            Err(kallsyms::ScanError::Io(e)) => return read_error(e),
            Err(kallsyms::ScanError::Parse(e)) => {
                return fail(&prog, &format!("{}: {e}", source.to_string_lossy()))
            }
        };
        let mut text = String::new();
        let mut rows = Vec::new();
        let mut status = 0;
        for (pattern, found) in patterns.iter().zip(scan.found) {
            let found: Vec<&Symbol> = found.iter().filter(|s| keep(s)).collect();
            for s in &found {
                if json {
                    rows.push(json_symbol(s));
                } else {
                    text.push_str(&line(s));
                }
            }
            if found.is_empty() {
                crate::compat::stdio::stderr(&format!(
                    "{prog}: {}: no such symbol\n",
                    pattern.text()
                ));
                status = 1;
            }
        }
        if scan.hides_addresses {
            crate::compat::stdio::stderr(&hidden_note(&prog));
        }
        if json {
            text =
                serde_json::to_string_pretty(&serde_json::Value::Array(rows)).unwrap_or_default();
            text.push('\n');
        }
        return emit(&prog, &text, status);
    }
    let data = match std::fs::read(&source) {
        Ok(d) => d,
        Err(e) => return read_error(e),
    };
    let bad_table =
        |e: kallsyms::ParseError| fail(&prog, &format!("{}: {e}", source.to_string_lossy()));
    let hidden = kallsyms::text_hides_addresses(&data);
    let mut text = String::new();
    let mut rows = Vec::new();
    let mut status = 0;
    if operands.is_empty() {
        let table = match SymbolTable::parse(&data) {
            Ok(t) => t,
            Err(e) => return bad_table(e),
        };
        for s in table.symbols().iter().filter(|s| keep(s)) {
            if json {
                rows.push(json_symbol(s));
            } else {
                text.push_str(&line(s));
            }
        }
    }
    for op in &operands {
        let op = op.to_string_lossy();
        if let Some(addr) = as_address(&op) {
            if hidden {
                crate::compat::stdio::stderr(&hidden_note(&prog));
                return 1;
            }
            match kallsyms::scan_lookup(&data, addr) {
                Err(e) => return bad_table(e),
                Ok(Some((symbol, offset, size))) => {
                    let loc = kallsyms::Location {
                        symbol: &symbol,
                        offset,
                        size,
                    };
                    if json {
                        rows.push(serde_json::json!({
                            "address": format!("{addr:#x}"),
                            "symbol": symbol.name,
                            "offset": format!("{offset:#x}"),
                            "size": size.map(|s| format!("{s:#x}")),
                            "module": symbol.module,
                            "location": loc.to_string(),
                        }));
                    } else {
                        text.push_str(&format!("{addr:016x} {loc}\n"));
                    }
                }
                Ok(None) => {
                    crate::compat::stdio::stderr(&format!("{prog}: {op}: below every symbol\n"));
                    status = 1;
                }
            }
            continue;
        }
        let glob = op.contains(['*', '?', '[']);
        let found = if glob {
            // The literal start of the pattern rules most names out cheaply.
            let literal = &op[..op.find(['*', '?', '[', '\\']).unwrap_or(op.len())];
            kallsyms::scan_named(&data, |name| {
                name.starts_with(literal.as_bytes()) && fnmatch(op.as_bytes(), name)
            })
        } else {
            kallsyms::scan_exact(&data, &op)
        };
        let found: Vec<Symbol> = match found {
            Ok(f) => f.into_iter().filter(|s| keep(s)).collect(),
            Err(e) => return bad_table(e),
        };
        for s in &found {
            if json {
                rows.push(json_symbol(s));
            } else {
                text.push_str(&line(s));
            }
        }
        if found.is_empty() {
            crate::compat::stdio::stderr(&format!("{prog}: {op}: no such symbol\n"));
            status = 1;
        }
    }
    if hidden
        && !operands
            .iter()
            .any(|o| as_address(&o.to_string_lossy()).is_some())
    {
        crate::compat::stdio::stderr(&hidden_note(&prog));
    }
    if json {
        text = serde_json::to_string_pretty(&serde_json::Value::Array(rows)).unwrap_or_default();
        text.push('\n');
    }
    emit(&prog, &text, status)
}
