//! `depmod`: generate `modules.dep` and the other module indexes, as kmod
//! 34's depmod (same options, outputs, messages and exit codes). The work
//! is done by [`modkit::depmod`]; this file parses the command line and
//! prints.

use std::ffi::OsString;
use std::io;
use std::path::PathBuf;

use modkit::compat::ctype::isspace;
use modkit::depmod::{DepmodError, Options, DEFAULT_VERBOSE};
use modkit::kmod::MODULE_DIRECTORY;

use crate::compat::getopt::{Getopt, HasArg, LongOpt};
use crate::compat::stdio::{self, Stdout};
use crate::log::{prio, Log};

pub(crate) const SHORT_OPTS: &str = "aAb:m:o:C:E:F:evnP:wVh";
/// kmod's long options, then modkit's own. `--modkit-cache` has the same
/// `has_arg` and `val` as `--moduledir`, which comes first: getopt then
/// resolves the abbreviations `--mo`, `--mod` to `--moduledir` as kmod
/// does, without reporting an ambiguity; the full name (or `--modk...`)
/// selects the cache, told apart by its index.
pub(crate) const LONG_OPTS: &[LongOpt] = &[
    LongOpt::new("all", HasArg::No, 'a' as i32),
    LongOpt::new("quick", HasArg::No, 'A' as i32),
    LongOpt::new("basedir", HasArg::Required, 'b' as i32),
    LongOpt::new("moduledir", HasArg::Required, 'm' as i32),
    LongOpt::new("outdir", HasArg::Required, 'o' as i32),
    LongOpt::new("config", HasArg::Required, 'C' as i32),
    LongOpt::new("symvers", HasArg::Required, 'E' as i32),
    LongOpt::new("filesyms", HasArg::Required, 'F' as i32),
    LongOpt::new("errsyms", HasArg::No, 'e' as i32),
    LongOpt::new("verbose", HasArg::No, 'v' as i32),
    LongOpt::new("show", HasArg::No, 'n' as i32),
    LongOpt::new("dry-run", HasArg::No, 'n' as i32),
    LongOpt::new("symbol-prefix", HasArg::Required, 'P' as i32),
    LongOpt::new("warn", HasArg::No, 'w' as i32),
    LongOpt::new("version", HasArg::No, 'V' as i32),
    LongOpt::new("help", HasArg::No, 'h' as i32),
    LongOpt::new("modkit-cache", HasArg::Required, 'm' as i32),
];
const MODKIT_CACHE: usize = 16;

/// modkit's `--no-cache`, taken out of the arguments before getopt sees
/// them (full name only), so that kmod's answers to abbreviated and
/// unknown options (`--n`...) stay byte-identical.
const NO_CACHE_OPTION: &str = "--no-cache";
/// [`NO_CACHE_OPTION`] without its dashes (for the man page and completion
/// tests).
#[cfg(test)]
pub(crate) const NO_CACHE_OPTION_NAME: &str = "no-cache";

/// Removes every `--no-cache` before `--` that is not the argument of
/// another option; whether there was one.
fn take_no_cache_option(argv: &mut Vec<OsString>) -> bool {
    let takes_arg = |a: &[u8]| {
        matches!(a, b"-b" | b"-m" | b"-o" | b"-C" | b"-E" | b"-F" | b"-P")
            || (a.len() > 2
                && a.starts_with(b"--")
                && !a.contains(&b'=')
                && LONG_OPTS
                    .iter()
                    .filter(|o| o.has_arg == HasArg::Required)
                    .any(|o| format!("--{}", o.name).as_bytes().starts_with(a)))
    };
    let mut found = false;
    let mut i = 1;
    while i < argv.len() {
        let a = argv[i].as_encoded_bytes();
        if a == b"--" {
            break;
        }
        if a == NO_CACHE_OPTION.as_bytes() {
            argv.remove(i);
            found = true;
            continue;
        }
        i += if takes_arg(a) { 2 } else { 1 };
    }
    found
}

/// Which metadata cache a run uses.
enum CacheChoice {
    /// `modkit::depmod::cache::default_path` (when it gives one).
    Default,
    /// `--no-cache`.
    Off,
    /// `--modkit-cache=FILE`.
    File(PathBuf),
}

/// The library's standard output: the tool's, buffered like glibc's.
struct ToStdout<'a>(&'a mut Stdout);

impl io::Write for ToStdout<'_> {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        self.0.write(data);
        Ok(data.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        // a failed write shows when the tool flushes at exit
        let _ = self.0.flush();
        Ok(())
    }
}

fn help(prog: &str) -> String {
    format!(
        "Usage:\n\
         \t{prog} [options] [-a] [VERSION]\n\
         \t{prog} [options] VERSION MODULE_FILE...\n\
         \n\
         Writes modules.dep, modules.alias and the other module indexes (and\n\
         their binary forms) for kernel VERSION (by default the running one).\n\
         With no MODULE_FILE, every module of the module directory is read.\n\
         \n\
         Options:\n\
         \t-a, --all                 Read every module (the default)\n\
         \t-A, --quick               Do nothing if modules.dep is newer than every module\n\
         \t-e, --errsyms             Report symbols no module or the kernel provides\n\
         \t-n, --show, --dry-run     Print the indexes to standard output, write nothing\n\
         \t-P, --symbol-prefix=C     The architecture's symbol prefix character\n\
         \t-C, --config=PATH         Read depmod.d configuration from PATH (repeatable)\n\
         \t-v, --verbose             Print each dependency found\n\
         \t-w, --warn                Warn about duplicate index entries\n\
         \t-V, --version             Show the version\n\
         \t-h, --help                Show this help\n\
         \n\
         For building images:\n\
         \t-b, --basedir=DIR         Use DIR as the root (default: /)\n\
         \t-m, --moduledir=DIR       Module directory under the root (default: {MODULE_DIRECTORY})\n\
         \t-o, --outdir=DIR          Write under DIR instead of the root\n\
         \t-F, --filesyms=FILE       Take the kernel's symbols from System.map FILE\n\
         \t-E, --symvers=FILE        Take the kernel's symbols and versions from\n\
         \t                          Module.symvers FILE, and check versions\n\
         \n\
         modkit only:\n\
         \t    --modkit-cache=FILE   Keep what was read from each module in FILE and\n\
         \t                          reuse it while the module file is unchanged\n\
         \t                          (default: BASE/var/cache/modkit/depmod/VERSION\n\
         \t                          when BASE/var/cache exists; BASE: -o, else -b)\n\
         \t    --no-cache            Read every module, keep no cache\n"
    )
}

/// `sscanf(s, "%u.%u") == 2`: kmod's test for a kernel version.
fn is_version_number(s: &[u8]) -> bool {
    fn number(s: &[u8]) -> Option<&[u8]> {
        let mut i = 0;
        while i < s.len() && isspace(s[i]) {
            i += 1;
        }
        if i < s.len() && (s[i] == b'+' || s[i] == b'-') {
            i += 1;
        }
        let start = i;
        while i < s.len() && s[i].is_ascii_digit() {
            i += 1;
        }
        (i > start).then(|| &s[i..])
    }
    number(s)
        .and_then(|rest| rest.strip_prefix(b"."))
        .and_then(number)
        .is_some()
}

/// Entry point: `argv[0]` is the program name.
pub fn main(args: Vec<OsString>) -> u8 {
    let prog = crate::compat::getopt::program_name(&args[0]);
    // depmod's messages: `depmod: LEVEL: text` on standard error,
    // unbuffered; after a FATAL one the tool exits below, once standard
    // output is flushed.
    let mut log = Log::new(&prog, DEFAULT_VERBOSE);
    log.return_after_fatal();
    let mut out = Stdout::new();
    let status = run(args, &prog, &mut log, &mut out);
    if out.close().is_err() {
        return 1;
    }
    status
}

fn absolute(arg: &OsString) -> Option<Vec<u8>> {
    modkit::resolve::absolute_from_cwd(std::path::Path::new(arg))
        .ok()
        .map(|p| p.into_os_string().into_encoded_bytes())
}

fn run(args: Vec<OsString>, prog: &str, log: &mut Log, out: &mut Stdout) -> u8 {
    let mut opts = Options::default();
    let mut all = false;
    let mut config_paths: Vec<Vec<u8>> = Vec::new();
    let mut args = args;
    let mut cache = if take_no_cache_option(&mut args) {
        CacheChoice::Off
    } else {
        CacheChoice::Default
    };
    let mut getopt = Getopt::new(args, SHORT_OPTS, LONG_OPTS);
    for opt in getopt.by_ref() {
        let opt = match opt {
            Ok(opt) => opt,
            Err(e) => {
                e.report();
                return 1;
            }
        };
        let arg = opt.arg.unwrap_or_default();
        let bytes = arg.as_encoded_bytes().to_vec();
        match u8::try_from(opt.val).map(char::from).unwrap_or('\0') {
            'a' => all = true,
            'A' => opts.quick = true,
            'b' => match absolute(&arg) {
                Some(p) => opts.root = p,
                None => {
                    let msg = [b"invalid image path ", &bytes[..], b"\n"].concat();
                    log.log_bytes(prio::ERR, &msg);
                    return 1;
                }
            },
            'm' if opt.long_index == Some(MODKIT_CACHE) => cache = CacheChoice::File(arg.into()),
            'm' => opts.module_directory = bytes,
            'o' => match absolute(&arg) {
                Some(p) => opts.out_root = Some(p),
                None => {
                    let msg = [b"invalid output directory ", &bytes[..], b"\n"].concat();
                    log.log_bytes(prio::ERR, &msg);
                    return 1;
                }
            },
            'C' => config_paths.push(bytes),
            'E' => opts.symvers = Some(bytes),
            'F' => opts.system_map = Some(bytes),
            'e' => opts.print_unknown = true,
            'v' => opts.verbose += 1,
            'n' => opts.dry_run = true,
            'P' => {
                if bytes.len() != 1 {
                    log.log(prio::CRIT, "-P only takes a single char\n");
                    return 1;
                }
                opts.sym_prefix = bytes[0];
            }
            'w' => opts.warn_dups = true,
            'h' => {
                out.write(help(prog).as_bytes());
                return 0;
            }
            'V' => {
                out.write(crate::version::kmod_version().as_bytes());
                return 0;
            }
            _ => {
                let msg = format!(
                    "unexpected getopt_long() value '{}'.\n",
                    opt.val as u8 as char
                );
                log.log(prio::ERR, &msg);
                return 1;
            }
        }
    }
    let mut operands = getopt.remaining().into_iter();
    match operands.next() {
        Some(v) => {
            let v = v.into_encoded_bytes();
            if !is_version_number(&v) {
                let msg = [b"Bad version passed ", &v[..], b"\n"].concat();
                log.log_bytes(prio::ERR, &msg);
                return 1;
            }
            opts.kversion = v;
        }
        None => match modkit::resolve::kernel_release() {
            Ok(r) => opts.kversion = r.into_bytes(),
            Err(e) => {
                let msg = format!("uname() failed: {}\n", e.strerror());
                log.log(prio::CRIT, &msg);
                return 1;
            }
        },
    }
    opts.modules = operands.map(OsString::into_encoded_bytes).collect();
    opts.all = all || opts.modules.is_empty();
    if !config_paths.is_empty() {
        opts.config_paths = Some(config_paths);
    }
    match cache {
        CacheChoice::Default => {
            opts.cache = modkit::depmod::cache::default_path(
                &opts.root,
                opts.out_root.as_deref(),
                &opts.kversion,
            );
            opts.cache_is_default = true;
        }
        CacheChoice::Off => {}
        CacheChoice::File(path) => opts.cache = Some(path),
    }
    debug_assert!(opts.verbose >= DEFAULT_VERBOSE);
    log.priority = opts.verbose;
    match modkit::depmod::run(&opts, log, &mut ToStdout(out)) {
        Ok(_) => 0,
        Err(DepmodError::Failed(_) | DepmodError::Fatal(_)) => 1,
        Err(DepmodError::Assertion(msg)) => {
            // As glibc's failed assert(): the message, then SIGABRT
            // (standard output is not flushed).
            stdio::stderr_bytes(format!("{prog}: {msg}").as_bytes());
            std::process::abort();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_as_sscanf_sees_them() {
        for good in ["6.1.0-50-amd64", "6.1", " 6.+1", "1.2x", "-1.2"] {
            assert!(is_version_number(good.as_bytes()), "{good}");
        }
        for bad in ["6", "6.", "x6.1", "6..1", "", "6.x"] {
            assert!(!is_version_number(bad.as_bytes()), "{bad}");
        }
    }

    #[test]
    fn cache_option_does_not_shadow_moduledir_abbreviations() {
        let argv = |a: &[&str]| a.iter().map(OsString::from).collect::<Vec<_>>();
        for (args, index) in [
            (argv(&["depmod", "--mo=x"]), 3),
            (argv(&["depmod", "--mod", "x"]), 3),
            (argv(&["depmod", "--moduledir=x"]), 3),
            (argv(&["depmod", "--modkit-cache=x"]), MODKIT_CACHE),
            (argv(&["depmod", "--modk=x"]), MODKIT_CACHE),
        ] {
            let mut g = Getopt::new(args, SHORT_OPTS, LONG_OPTS);
            let opt = g.next().unwrap().unwrap();
            assert_eq!(opt.long_index, Some(index));
            assert_eq!(opt.arg.unwrap(), "x");
        }
        assert_eq!(LONG_OPTS[MODKIT_CACHE].name, "modkit-cache");
    }
}
