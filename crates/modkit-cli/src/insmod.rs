//! `insmod`: load one module file with parameters, as kmod 34's insmod.

use std::ffi::OsString;
use std::path::Path;

use modkit::error::{errno, strerror};
use modkit::kernel::{self, Force};
use modkit::resolve::FoundModule;

use crate::getopt::{Getopt, HasArg, LongOpt};
use crate::log::{prio, Log};

const SHORT_OPTS: &str = "fsvVh";
const LONG_OPTS: &[LongOpt] = &[
    LongOpt::new("force", HasArg::No, 'f' as i32),
    LongOpt::new("syslog", HasArg::No, 's' as i32),
    LongOpt::new("verbose", HasArg::No, 'v' as i32),
    LongOpt::new("version", HasArg::No, 'V' as i32),
    LongOpt::new("help", HasArg::No, 'h' as i32),
];

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

/// Entry point: `argv[0]` is the program name.
pub fn main(args: Vec<OsString>) -> u8 {
    let prog = crate::getopt::program_name(&args[0]);
    let mut force = Force::default();
    let mut verbose = prio::ERR;
    let mut syslog = false;
    let mut opts = Getopt::new(args, SHORT_OPTS, LONG_OPTS);
    for opt in opts.by_ref() {
        let opt = match opt {
            Ok(o) => o,
            Err(e) => {
                e.report();
                return 1;
            }
        };
        match u8::try_from(opt.val).map(char::from).unwrap_or('\0') {
            'f' => {
                force = Force {
                    vermagic: true,
                    modversions: true,
                }
            }
            's' => syslog = true,
            'v' => verbose += 1,
            'h' => {
                print!(
                    "Usage:\n\t{prog} [options] filename [module options]\n\
                     Options:\n\
                     \t-f, --force       load even with a wrong vermagic or symbol versions (dangerous)\n\
                     \t-s, --syslog      send messages to syslog instead of stderr\n\
                     \t-v, --verbose     print more messages\n\
                     \t-V, --version     show the version\n\
                     \t-h, --help        show this help\n"
                );
                return 0;
            }
            'V' => {
                print!("{}", crate::kmod_version());
                return 0;
            }
            _ => return 1,
        }
    }
    let mut log = Log::new(&prog, prio::WARNING);
    if syslog {
        log.use_syslog();
    }
    let operands = opts.remaining();
    let Some(filename) = operands.first() else {
        log.error("missing filename.\n");
        return 1;
    };
    if filename == "-" {
        log.error("this tool does not support loading from stdin!\n");
        return 1;
    }
    let params = kernel::options_from_args(&operands[1..]);
    log.priority = verbose;
    let shown = filename.to_string_lossy();
    if let Err(e) = FoundModule::from_path(Path::new(filename)) {
        log.error(&format!(
            "could not load module {shown}: {}\n",
            strerror(e.errno())
        ));
        return 1;
    }
    match kernel::insert_module(Path::new(filename), &params, force) {
        Ok(()) => 0,
        Err(e) => {
            let abs = modkit::resolve::absolute_from_cwd(Path::new(filename))
                .map(|p| p.display().to_string())
                .unwrap_or_else(|_| shown.to_string());
            log.log(
                prio::INFO,
                &format!("Failed to insert module '{abs}': {}\n", strerror(e)),
            );
            log.error(&format!(
                "could not insert module {shown}: {}\n",
                load_strerror(e)
            ));
            1
        }
    }
}
