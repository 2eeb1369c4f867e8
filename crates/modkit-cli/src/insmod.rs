//! `insmod`: load one module file with parameters, as kmod 34's insmod.

use std::ffi::{OsStr, OsString};
use std::path::Path;

use modkit::error::{errno, strerror};
use modkit::kernel::{self, Force};
use modkit::resolve::FoundModule;

use crate::compat::getopt::LongOpt;
use crate::log::{prio, Log};
use crate::simpleopts::{self, SimpleOpts};

pub(crate) const SHORT_OPTS: &str = "fsvVh";
/// kmod's common long options, all of them.
pub(crate) const LONG_OPTS: &[LongOpt] = &simpleopts::COMMON_LONG_OPTS;

/// kmod's wording for the kernel's answers to a module load.
pub fn load_strerror(e: i32) -> &'static str {
    match e {
        errno::ENOEXEC => "Invalid module format",
        errno::ENOENT => "Unknown symbol in module",
        3 => "Module has wrong symbol version", // ESRCH
        errno::EINVAL => "Invalid parameters",
        other => strerror(other),
    }
}

fn help(prog: &str) -> String {
    format!(
        "Usage:\n\t{prog} [options] filename [module options]\n\
         Options:\n\
         \t-f, --force       load even with a wrong vermagic or symbol versions (dangerous)\n\
         \t-s, --syslog      send messages to syslog instead of stderr\n\
         \t-v, --verbose     print more messages\n\
         \t-V, --version     show the version\n\
         \t-h, --help        show this help\n"
    )
}

/// Entry point: `argv[0]` is the program name.
pub fn main(args: Vec<OsString>) -> u8 {
    let parsed = match simpleopts::parse(args, SHORT_OPTS, LONG_OPTS, help) {
        Ok(p) => p,
        Err(status) => return status,
    };
    let SimpleOpts {
        force,
        verbose,
        operands,
        mut log,
        ..
    } = parsed;
    let force = Force {
        vermagic: force,
        modversions: force,
    };
    let Some(filename) = operands.first() else {
        log.error("missing filename.\n");
        return 1;
    };
    if filename == "-" {
        log.error("this tool does not support loading from stdin!\n");
        return 1;
    }
    let params = kernel::options_from_args(&operands[1..]);
    log.setup_library_log(verbose);
    let status = insert(&log, filename, &params, force);
    log.release_library_context();
    status
}

/// Loads `filename` with kmod's messages; the exit status.
fn insert(log: &Log, filename: &OsStr, params: &[u8], force: Force) -> u8 {
    let shown = filename.to_string_lossy();
    if let Err(e) = FoundModule::from_path(Path::new(filename)) {
        log.error(&format!(
            "could not load module {shown}: {}\n",
            strerror(e.errno())
        ));
        return 1;
    }
    match kernel::insert_module(Path::new(filename), params, force) {
        Ok(()) => 0,
        Err(e) => {
            if let Some(msg) = &e.logged {
                log.error(&format!("{msg}\n"));
            }
            let abs = modkit::resolve::absolute_from_cwd(Path::new(filename))
                .map(|p| p.display().to_string())
                .unwrap_or_else(|_| shown.to_string());
            log.log(
                prio::INFO,
                &format!("Failed to insert module '{abs}': {}\n", strerror(e.errno)),
            );
            log.error(&format!(
                "could not insert module {shown}: {}\n",
                load_strerror(e.errno)
            ));
            1
        }
    }
}
