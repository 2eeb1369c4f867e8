//! The option loop the newer modkit tools (kallsyms, symbols, check, param)
//! share: GNU getopt_long parsing, `-h`/`--help` and `-V`/`--version`
//! answered here, every other option handed back with its argument.

use std::ffi::OsString;

use crate::compat::getopt::{Getopt, LongOpt};
use crate::compat::stdio::{self, Stdout};

/// What the command line asked for.
pub(crate) enum Parsed {
    /// Options (value, argument) in order, then the operands.
    Run(Vec<(i32, Option<OsString>)>, Vec<OsString>),
    /// Help or version was printed, or the line was bad: exit with this.
    Exit(u8),
}

/// Parses `args`; `help` is the text `-h` prints.
pub(crate) fn parse(
    args: Vec<OsString>,
    short: &str,
    long: &[LongOpt],
    prog: &str,
    help: &str,
) -> Parsed {
    let mut opts = Getopt::new(args, short, long);
    let mut found = Vec::new();
    for opt in opts.by_ref() {
        let opt = match opt {
            Ok(o) => o,
            Err(e) => {
                e.report();
                stdio::stderr(&format!("Try '{prog} --help' for more information.\n"));
                return Parsed::Exit(1);
            }
        };
        if opt.val == 'h' as i32 || opt.val == 'V' as i32 {
            let mut out = Stdout::new();
            if opt.val == 'h' as i32 {
                out.write(help.as_bytes());
            } else {
                let tool = prog.strip_prefix("modkit ").unwrap_or(prog);
                out.write(format!("{tool} from modkit {}\n", crate::version::VERSION).as_bytes());
            }
            return Parsed::Exit(u8::from(out.close().is_err()));
        }
        found.push((opt.val, opt.arg));
    }
    Parsed::Run(found, opts.remaining())
}

/// Prints `modkit TOOL: msg` on stderr and returns exit status 1.
pub(crate) fn fail(prog: &str, msg: &str) -> u8 {
    stdio::stderr(&format!("{prog}: {msg}\n"));
    1
}

/// Writes `text` to stdout; 0, or 1 after a write error message.
pub(crate) fn emit(prog: &str, text: &str, status: u8) -> u8 {
    let mut out = Stdout::new();
    out.write(text.as_bytes());
    if out.close().is_ok() {
        status
    } else {
        fail(prog, "write error")
    }
}

/// The tool's name for messages: `modkit TOOL` when run as `modkit TOOL`.
pub(crate) fn prog_name(args: &[OsString], tool: &str) -> String {
    let p = crate::compat::getopt::program_name(&args[0]);
    if p == tool {
        format!("modkit {tool}")
    } else {
        p
    }
}
