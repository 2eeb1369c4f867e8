//! The option handling shared by kmod's small tools (insmod, rmmod, lsmod):
//! `-f`/`--force`, `-s`/`--syslog`, `-v`/`--verbose` (repeatable),
//! `-V`/`--version`, `-h`/`--help`, plus any tool-specific long options.

use std::ffi::OsString;

use crate::compat::getopt::{Getopt, HasArg, LongOpt};
use crate::log::{prio, Log};

/// The common long options; a tool's table starts with these.
pub const COMMON_LONG_OPTS: [LongOpt; 5] = [
    LongOpt::new("force", HasArg::No, 'f' as i32),
    LongOpt::new("syslog", HasArg::No, 's' as i32),
    LongOpt::new("verbose", HasArg::No, 'v' as i32),
    LongOpt::new("version", HasArg::No, 'V' as i32),
    LongOpt::new("help", HasArg::No, 'h' as i32),
];

/// What the command line asked for.
pub struct SimpleOpts {
    /// `-f` was given.
    pub force: bool,
    /// The log priority `-v` raised (from `LOG_ERR`).
    pub verbose: i32,
    /// Tool-specific options seen (their `val`s and arguments), in order.
    pub extra: Vec<(i32, Option<OsString>)>,
    /// Operands, in getopt's order.
    pub operands: Vec<OsString>,
    /// The logger: stderr or syslog (`-s`), at `LOG_WARNING` until the
    /// tool sets [`SimpleOpts::verbose`] as kmod does after its checks.
    pub log: Log,
}

/// Parses `args`. On `-h`, `-V` or a bad option, prints what kmod prints
/// and returns `Err(exit status)`. `help` gets the program name.
pub fn parse(
    args: Vec<OsString>,
    short: &str,
    long: &[LongOpt],
    help: impl Fn(&str) -> String,
) -> Result<SimpleOpts, u8> {
    let prog = crate::compat::getopt::program_name(&args[0]);
    parse_as(args, &prog, short, long, help)
}

/// [`parse`] for a tool run under another program's name (`kmod list`:
/// getopt's messages name `argv[0]`, the tool's own messages and help
/// name `prog`).
pub fn parse_as(
    args: Vec<OsString>,
    prog: &str,
    short: &str,
    long: &[LongOpt],
    help: impl Fn(&str) -> String,
) -> Result<SimpleOpts, u8> {
    let prog = prog.to_string();
    let (mut force, mut verbose, mut syslog, mut extra) = (false, prio::ERR, false, Vec::new());
    let mut opts = Getopt::new(args, short, long);
    for opt in opts.by_ref() {
        let opt = opt.map_err(|e| {
            e.report();
            1u8
        })?;
        match u8::try_from(opt.val).map(char::from).unwrap_or('\0') {
            'f' => force = true,
            's' => syslog = true,
            'v' => verbose += 1,
            'h' => {
                return Err(u8::from(!crate::compat::stdio::print_all(&help(&prog))));
            }
            'V' => {
                return Err(u8::from(!crate::compat::stdio::print_all(
                    &crate::version::kmod_version(),
                )));
            }
            _ if opt.val >= 256 => extra.push((opt.val, opt.arg)),
            _ => return Err(1),
        }
    }
    let mut log = Log::new(&prog, prio::WARNING);
    if syslog {
        log.use_syslog();
    }
    Ok(SimpleOpts {
        force,
        verbose,
        extra,
        operands: opts.remaining(),
        log,
    })
}
