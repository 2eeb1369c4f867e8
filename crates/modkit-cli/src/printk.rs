//! `printk`: show and set the kernel's printk controls by name — the four
//! log levels of `/proc/sys/kernel/printk`, `printk_devkmsg`,
//! `dmesg_restrict` and `kptr_restrict` — with level names. A modkit tool
//! of its own (no reference tool has it); the work is done by
//! [`modkit::kmsg::printk_control`].
//!
//! ```text
//! $ modkit printk
//! console_loglevel          4 (warn)
//! ...
//! $ modkit printk console=debug devkmsg=on
//! ```
//!
//! Operands `NAME=VALUE` set, bare `NAME`s show; with no operand every
//! setting is shown. All operands are checked before anything is written;
//! a bad one is a one-line error and exit status 1.

use std::ffi::OsString;

use modkit::kmsg::printk_control::{ProcSysKernel, Setting, Value};

use crate::compat::getopt::{Getopt, HasArg, LongOpt};
use crate::compat::stdio::{self, Stdout};

const OPT_PROC: i32 = 256;
pub(crate) const SHORT_OPTS: &str = "jhV";
pub(crate) const LONG_OPTS: &[LongOpt] = &[
    LongOpt::new("json", HasArg::No, 'j' as i32),
    LongOpt::new("proc", HasArg::Required, OPT_PROC),
    LongOpt::new("help", HasArg::No, 'h' as i32),
    LongOpt::new("version", HasArg::No, 'V' as i32),
];

fn help(prog: &str) -> String {
    format!(
        "Usage:\n {prog} [options] [NAME[=VALUE]...]\n\n\
         Show or set the kernel's printk controls in /proc/sys/kernel.\n\
         NAME=VALUE sets, NAME shows; without operands all are shown.\n\n\
         Names:\n\
         \x20console_loglevel (console)          messages more important than this level reach the console\n\
         \x20default_message_loglevel (default_message)\n\
         \x20                                    the level of a printk without one\n\
         \x20minimum_console_loglevel (minimum_console)\n\
         \x20                                    the lowest console level dmesg -n may set\n\
         \x20default_console_loglevel (default_console)\n\
         \x20                                    the console level at boot\n\
         \x20printk_devkmsg (devkmsg)            on, off or ratelimit: writes to /dev/kmsg\n\
         \x20dmesg_restrict                      0 or 1: reading the log needs CAP_SYSLOG\n\
         \x20kptr_restrict                       0, 1 or 2: hiding kernel pointers\n\n\
         Levels: emerg, alert, crit, err, warn, notice, info, debug or 0..7;\n\
         console levels also take all (8) and numbers up to 15.\n\n\
         Options:\n\
         \x20-j, --json        print the settings as a JSON object\n\
         \x20    --proc DIR    use DIR instead of /proc\n\
         \x20-h, --help        display this help\n\
         \x20-V, --version     display version\n"
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
    let mut proc_dir = OsString::from("/proc");
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
            OPT_PROC => proc_dir = opt.arg.unwrap_or_default(),
            v if v == 'j' as i32 => json = true,
            v if v == 'h' as i32 => {
                let mut out = Stdout::new();
                out.write(help(&prog).as_bytes());
                return u8::from(out.close().is_err());
            }
            v if v == 'V' as i32 => {
                let mut out = Stdout::new();
                out.write(format!("{prog} from modkit {}\n", crate::version::VERSION).as_bytes());
                return u8::from(out.close().is_err());
            }
            _ => return 1,
        }
    }
    let operands = opts.remaining();

    // Check every operand before touching the kernel.
    let mut sets: Vec<(Setting, Value)> = Vec::new();
    let mut shows: Vec<Setting> = Vec::new();
    for op in &operands {
        let Some(op) = op.to_str() else {
            return fail(&format!("unknown setting '{}'", op.to_string_lossy()));
        };
        let (name, value) = match op.split_once('=') {
            Some((n, v)) => (n, Some(v)),
            None => (op, None),
        };
        let Some(setting) = Setting::from_name(name) else {
            return fail(&format!("unknown setting '{name}'"));
        };
        match value {
            Some(v) => match setting.parse_value(v) {
                Ok(v) => sets.push((setting, v)),
                Err(e) => return fail(e.detail()),
            },
            None => shows.push(setting),
        }
    }
    if operands.is_empty() {
        shows = Setting::ALL.to_vec();
    }

    let sys = ProcSysKernel::at(std::path::Path::new(&proc_dir).join("sys/kernel"));
    if !sets.is_empty() {
        if let Err(e) = sys.write(&sets) {
            return fail(&e.to_string());
        }
    }
    if shows.is_empty() {
        return 0;
    }
    let mut values = Vec::with_capacity(shows.len());
    for s in shows {
        match sys.read(s) {
            Ok(v) => values.push((s, v)),
            Err(e) => return fail(&e.to_string()),
        }
    }
    let mut out = Stdout::new();
    if json {
        let mut map = serde_json::Map::new();
        for (s, v) in &values {
            let v = match v {
                Value::Level(n) | Value::Number(n) => serde_json::Value::from(*n),
                Value::Devkmsg(d) => serde_json::Value::from(d.name()),
            };
            map.insert(s.name().to_string(), v);
        }
        let text =
            serde_json::to_string_pretty(&serde_json::Value::Object(map)).unwrap_or_default();
        out.write(text.as_bytes());
        out.write(b"\n");
    } else {
        for (s, v) in &values {
            out.write(format!("{:<25} {}\n", s.name(), v.describe(*s)).as_bytes());
        }
    }
    if out.close().is_ok() {
        0
    } else {
        fail("write error")
    }
}
