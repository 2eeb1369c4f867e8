//! `rmmod`: unload modules by name or path, as kmod 34's rmmod.

use std::ffi::OsString;
use std::path::Path;

use modkit::error::strerror;
use modkit::kernel;
use modkit::kmod::{modname_normalize, string_lossy};
use modkit::loaded::KernelState;
use modkit::resolve::{FoundModule, ModuleDir};

use crate::compat::getopt::LongOpt;
use crate::log::Log;
use crate::simpleopts::{self, SimpleOpts};

pub(crate) const SHORT_OPTS: &str = "fsvVh";
/// kmod's common long options, all of them.
pub(crate) const LONG_OPTS: &[LongOpt] = &simpleopts::COMMON_LONG_OPTS;

fn help(prog: &str) -> String {
    format!(
        "Usage:\n\t{prog} [options] [list of modulenames]\n\
         Options:\n\
         \t-f, --force       unload even if in use (dangerous)\n\
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
    if operands.is_empty() {
        log.error("missing module name.\n");
        return 1;
    }
    log.setup_library_log(verbose);
    let status = remove(&log, &operands, force);
    log.release_library_context();
    status
}

/// Unloads each of `operands` with kmod's checks and messages; the exit
/// status.
fn remove(log: &Log, operands: &[OsString], force: bool) -> u8 {
    let dir = ModuleDir::for_kernel(None, None).ok();
    let kernel_state = KernelState::new();
    let mut failed = false;
    for arg in operands {
        let shown = arg.to_string_lossy();
        let name = if std::fs::metadata(arg).is_ok() {
            match FoundModule::from_path(Path::new(arg)) {
                Ok(m) => m.name,
                Err(e) => {
                    log.error(&format!(
                        "could not use module {shown}: {}\n",
                        strerror(e.errno())
                    ));
                    failed = true;
                    break;
                }
            }
        } else {
            string_lossy(modname_normalize(shown.as_bytes()))
        };
        if !force && !check_not_in_use(log, dir.as_ref(), &kernel_state, &name) {
            failed = true;
            continue;
        }
        if let Err(e) = kernel::remove_module(&name, force) {
            log.error(&format!("could not remove '{name}': {}\n", strerror(e)));
            log.error(&format!(
                "could not remove module {shown}: {}\n",
                strerror(e)
            ));
            failed = true;
        }
    }
    u8::from(failed)
}

/// kmod's checks before unloading, with its messages: built in, not
/// loaded, held by other modules, or in use.
fn check_not_in_use(log: &Log, dir: Option<&ModuleDir>, kernel: &KernelState, name: &str) -> bool {
    if dir.is_some_and(|d| d.is_builtin_name(name)) {
        log.error(&format!("Module {name} is builtin.\n"));
        return false;
    }
    if kernel.initstate(name).is_err() {
        log.error(&format!("Module {name} is not currently loaded\n"));
        return false;
    }
    match kernel.holders(name) {
        Ok(holders) if !holders.is_empty() => {
            // One message (Debian's kmod 34.2 prints the holders on the
            // same line, without repeating the prefix).
            let mut msg = format!("Module {name} is in use by:");
            for h in holders {
                msg.push(' ');
                msg.push_str(&h);
            }
            msg.push('\n');
            log.error(&msg);
            return false;
        }
        Ok(_) => {}
        Err(e) => log.error(&format!("{}\n", e.detail())),
    }
    match kernel.refcnt(name) {
        Ok(n) if n > 0 => {
            log.error(&format!("Module {name} is in use\n"));
            false
        }
        Ok(_) => true,
        Err(e) if e.errno() == modkit::error::errno::ENOENT => {
            log.error("Module unloading is not supported\n");
            false
        }
        Err(_) => false,
    }
}
