//! `taint`: the kernel's taint flag by flag, and which loaded module
//! explains which. A modkit tool of its own; the kernel's
//! `tools/debugging/kernel-chktaint` script decodes the same value (its
//! flags and raw string agree, which the tests check), the work is done by
//! [`modkit::taint`].
//!
//! ```text
//! $ modkit taint
//! tainted: 12288 (0x3000) 'G           OE      '
//!   O  bit 12  OOT_MODULE       an externally-built (out-of-tree) module was loaded
//!                               modules: mk_printk, mk_params
//!   E  bit 13  UNSIGNED_MODULE  an unsigned module was loaded
//!                               modules: mk_printk, mk_params
//! modules with taint:
//!   mk_printk  OE
//!   mk_params  OE
//! ```
//!
//! With a VALUE operand it decodes that number (decimal or 0x-hex) and reads
//! nothing. Exit status 0 when the value was decoded, 1 on a bad operand or
//! an unreadable `/proc/sys/kernel/tainted`.

use std::ffi::OsString;
use std::path::PathBuf;

use modkit::loaded::KernelState;
use modkit::taint::{self, Taint, TaintReport};

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

fn help(prog: &str) -> String {
    format!(
        "Usage:\n {prog} [options] [VALUE]\n\n\
         Decode the kernel's taint (/proc/sys/kernel/tainted) flag by flag, with\n\
         the loaded modules that carry each flag (/sys/module/*/taint); with VALUE\n\
         (decimal or 0x-hex), decode that number instead.\n\n\
         Options:\n\
         \x20-j, --json        print the report as JSON\n\
         \x20    --root DIR    read proc/ and sys/ under DIR instead of /\n\
         \x20-h, --help        display this help\n\
         \x20-V, --version     display version\n\n\
         Exit status: 0 decoded, 1 bad usage or the taint could not be read.\n"
    )
}

/// Entry point: `argv[0]` is the program name.
pub fn main(args: Vec<OsString>) -> u8 {
    let prog = crate::compat::getopt::program_name(&args[0]);
    let fail = |msg: &str| {
        stdio::stderr(&format!("{prog}: {msg}\n"));
        1
    };
    let mut json = false;
    let mut root = PathBuf::from("/");
    let mut opts = Getopt::new(args, SHORT_OPTS, LONG_OPTS);
    for opt in opts.by_ref() {
        let opt = match opt {
            Ok(o) => o,
            Err(e) => {
                e.report();
                stdio::stderr(&format!("Try '{prog} --help' for more information.\n"));
                return 1;
            }
        };
        match opt.val {
            OPT_ROOT => root = PathBuf::from(opt.arg.unwrap_or_default()),
            v if v == 'j' as i32 => json = true,
            v if v == 'h' as i32 => return print(&help(&prog)),
            v if v == 'V' as i32 => {
                return print(&format!("{prog} from modkit {}\n", crate::version::VERSION))
            }
            _ => return 1,
        }
    }
    let operands = opts.remaining();
    if operands.len() > 1 {
        return fail("too many operands: one VALUE at most");
    }
    let kernel = KernelState::with_root(root);
    let report = match operands.first() {
        Some(v) => match Taint::parse(&v.to_string_lossy()) {
            Ok(t) => TaintReport::new(t, Vec::new()),
            Err(e) => return fail(e.detail()),
        },
        None => {
            let value = match taint::read_kernel_taint(&kernel) {
                Ok(v) => v,
                Err(e) => return fail(&e.to_string()),
            };
            let names = kernel.loaded_modules().unwrap_or_default();
            TaintReport::new(value, taint::module_taints(&kernel, &names))
                .with_unlisted(taint::unlisted_module_taints(&kernel, &names))
        }
    };
    let live = operands.is_empty();
    let text = if json {
        let mut s = serde_json::to_string_pretty(&to_json(&report, live)).unwrap_or_default();
        s.push('\n');
        s
    } else {
        to_text(&report, live)
    };
    if print(&text) != 0 {
        return fail("write error");
    }
    0
}

fn print(text: &str) -> u8 {
    let mut out = Stdout::new();
    out.write(text.as_bytes());
    u8::from(out.close().is_err())
}

/// The report as text (see the module's example).
pub(crate) fn to_text(r: &TaintReport, live: bool) -> String {
    let v = r.value;
    if v.0 == 0 {
        return "tainted: 0 (not tainted)\n".to_string();
    }
    let mut s = format!("tainted: {} ({:#x}) '{}'\n", v.0, v.0, v.flag_string());
    let width = r.flags.iter().map(|f| f.flag.name.len()).max().unwrap_or(0);
    for f in &r.flags {
        let fl = f.flag;
        s.push_str(&format!(
            "  {}  bit {:<2}  {:<width$}  {}\n",
            fl.letter, fl.bit, fl.name, fl.meaning
        ));
        if !live || !fl.per_module {
            continue;
        }
        let indent = " ".repeat(15 + width);
        if !f.unlisted_modules.is_empty() {
            s.push_str(&format!(
                "{indent}not listed in /proc/modules, only in /sys/module (hidden?): {}\n",
                f.unlisted_modules.join(", ")
            ));
        }
        if f.modules.is_empty() {
            if f.unlisted_modules.is_empty() {
                s.push_str(&format!(
                    "{indent}no loaded module carries it (unloaded since, or hidden: see modkit audit)\n"
                ));
            }
        } else {
            s.push_str(&format!("{indent}modules: {}\n", f.modules.join(", ")));
        }
    }
    for b in &r.unknown_bits {
        s.push_str(&format!("  ?  bit {b:<2}  (a bit no known flag names)\n"));
    }
    if live && !r.unlisted.is_empty() {
        s.push_str("modules with taint in /sys/module that /proc/modules does not list:\n");
        let w = r.unlisted.iter().map(|m| m.module.len()).max().unwrap_or(0);
        for m in &r.unlisted {
            s.push_str(&format!("  {:<w$}  {}\n", m.module, m.taint.letters()));
        }
    }
    if live && !r.modules.is_empty() {
        s.push_str("modules with taint:\n");
        let w = r.modules.iter().map(|m| m.module.len()).max().unwrap_or(0);
        for m in &r.modules {
            let unknown: String = m.unknown_letters.iter().collect();
            s.push_str(&format!(
                "  {:<w$}  {}{}\n",
                m.module,
                m.taint.letters(),
                unknown
            ));
        }
    }
    s
}

/// The report as JSON: `value`, `kernel_string`, `flags` (bit, letter,
/// name, meaning, per_module, and with no VALUE operand `modules` and
/// `unlisted_modules`), `unknown_bits`, and with no VALUE operand `modules`
/// (name, taint) and `unlisted_modules` (the same for modules in
/// `/sys/module` that `/proc/modules` does not list).
pub(crate) fn to_json(r: &TaintReport, live: bool) -> serde_json::Value {
    let flags: Vec<serde_json::Value> = r
        .flags
        .iter()
        .map(|f| {
            let mut o = serde_json::json!({
                "bit": f.flag.bit,
                "letter": f.flag.letter.to_string(),
                "name": f.flag.name,
                "meaning": f.flag.meaning,
                "per_module": f.flag.per_module,
            });
            if live {
                o["modules"] = serde_json::json!(f.modules);
                o["unlisted_modules"] = serde_json::json!(f.unlisted_modules);
            }
            o
        })
        .collect();
    let mut o = serde_json::json!({
        "value": r.value.0,
        "kernel_string": r.value.kernel_string(),
        "flags": flags,
        "unknown_bits": r.unknown_bits,
    });
    if live {
        o["modules"] = r
            .modules
            .iter()
            .map(|m| {
                let unknown: String = m.unknown_letters.iter().collect();
                serde_json::json!({"name": m.module, "taint": format!("{}{unknown}", m.taint.letters())})
            })
            .collect();
        o["unlisted_modules"] = r
            .unlisted
            .iter()
            .map(|m| serde_json::json!({"name": m.module, "taint": m.taint.letters()}))
            .collect();
    }
    o
}
