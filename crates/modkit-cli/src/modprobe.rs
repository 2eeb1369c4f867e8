//! `modprobe`: load and unload modules with their dependencies, as kmod
//! 34's modprobe (same options, messages, output and exit codes). The
//! resolution, configuration and probe logic live in [`modkit::probe`] and
//! [`modkit::config`]; this file holds the command line, the removal
//! policy (softdeps, holders, usage counts, waiting) and the printing.
//!
//! Beyond kmod: `--show-depends --format=json|dot` prints what would be
//! loaded as JSON or as a Graphviz graph.

use std::cell::RefCell;
use std::ffi::OsString;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::rc::Rc;

use modkit::config::{read_kernel_cmdline, ModprobeConfig};
use modkit::error::{errno, strerror, Errno};
use modkit::kmod::{Logger, MODULE_DIRECTORY};
use modkit::loaded::InitState;
use modkit::module::Module;
use modkit::probe::{
    replace_all, run_shell, Context, ModuleId, ProbeAction, ProbeFlags, ProbeOutcome,
};
use modkit::resolve::{absolute_from_cwd, IndexKind};

use crate::compat::getopt::{Getopt, HasArg, LongOpt};
use crate::compat::stdio::{self, Stdout};
use crate::log::{prio, Log};

pub(crate) const SHORT_OPTS: &str = "arw:RibfDcnC:d:S:sqvVh";
pub(crate) const LONG_OPTS: &[LongOpt] = &[
    LongOpt::new("all", HasArg::No, 'a' as i32),
    LongOpt::new("remove", HasArg::No, 'r' as i32),
    LongOpt::new("remove-dependencies", HasArg::No, 5),
    LongOpt::new("remove-holders", HasArg::No, 5),
    LongOpt::new("wait", HasArg::Required, 'w' as i32),
    LongOpt::new("resolve-alias", HasArg::No, 'R' as i32),
    LongOpt::new("first-time", HasArg::No, 3),
    LongOpt::new("ignore-install", HasArg::No, 'i' as i32),
    LongOpt::new("ignore-remove", HasArg::No, 'i' as i32),
    LongOpt::new("use-blacklist", HasArg::No, 'b' as i32),
    LongOpt::new("force", HasArg::No, 'f' as i32),
    LongOpt::new("force-modversion", HasArg::No, 2),
    LongOpt::new("force-vermagic", HasArg::No, 1),
    LongOpt::new("show-depends", HasArg::No, 'D' as i32),
    LongOpt::new("showconfig", HasArg::No, 'c' as i32),
    LongOpt::new("show-config", HasArg::No, 'c' as i32),
    LongOpt::new("show-modversions", HasArg::No, 4),
    LongOpt::new("dump-modversions", HasArg::No, 4),
    LongOpt::new("show-exports", HasArg::No, 6),
    LongOpt::new("dry-run", HasArg::No, 'n' as i32),
    LongOpt::new("show", HasArg::No, 'n' as i32),
    LongOpt::new("config", HasArg::Required, 'C' as i32),
    LongOpt::new("dirname", HasArg::Required, 'd' as i32),
    LongOpt::new("set-version", HasArg::Required, 'S' as i32),
    LongOpt::new("syslog", HasArg::No, 's' as i32),
    LongOpt::new("quiet", HasArg::No, 'q' as i32),
    LongOpt::new("verbose", HasArg::No, 'v' as i32),
    LongOpt::new("version", HasArg::No, 'V' as i32),
    LongOpt::new("help", HasArg::No, 'h' as i32),
];

/// modkit's own option, taken out of the command line before getopt sees
/// it (and only when spelled in full) so that kmod's messages for
/// ambiguous abbreviations such as `--f` stay the same.
const FORMAT_OPTION: &str = "--format";
/// [`FORMAT_OPTION`] without its dashes (for the man page and completion tests).
#[cfg(test)]
pub(crate) const FORMAT_OPTION_NAME: &str = "format";

/// Removes `--format=F` / `--format F` (before any `--`, and not where it
/// is the argument of another option) and returns what was asked for.
fn take_format_option(argv: &mut Vec<OsString>) -> Result<Option<OsString>, String> {
    let takes_arg = |a: &[u8]| {
        matches!(a, b"-w" | b"-C" | b"-d" | b"-S")
            || (a.len() > 2
                && a.starts_with(b"--")
                && !a.contains(&b'=')
                && ["--wait", "--config", "--dirname", "--set-version"]
                    .iter()
                    .any(|o| o.as_bytes().starts_with(a)))
    };
    let mut format = None;
    let mut i = 1;
    while i < argv.len() {
        let a = argv[i].as_bytes();
        if a == b"--" {
            break;
        }
        if a == FORMAT_OPTION.as_bytes() {
            if i + 1 >= argv.len() {
                return Err(format!("option '{FORMAT_OPTION}' requires an argument"));
            }
            format = Some(argv.remove(i + 1));
            argv.remove(i);
            continue;
        }
        if let Some(v) = a.strip_prefix(b"--format=") {
            format = Some(OsString::from(std::ffi::OsStr::from_bytes(v)));
            argv.remove(i);
            continue;
        }
        i += if takes_arg(a) { 2 } else { 1 };
    }
    Ok(format)
}

/// `verbose` by default: warnings.
const DEFAULT_VERBOSE: i32 = prio::WARNING;

fn help(prog: &str) -> String {
    format!(
        "Usage:\n\
         \t{prog} [options] [-i] [-b] modulename [parameters...]\n\
         \t{prog} [options] -a [-i] [-b] modulename [modulename...]\n\
         \t{prog} [options] -r [-i] modulename\n\
         \t{prog} [options] -r -a [-i] modulename [modulename...]\n\
         \t{prog} [options] -c\n\
         \t{prog} [options] --dump-modversions filename\n\
         Loading and removing:\n\
         \t-a, --all                   Every operand is a module to load (or remove)\n\
         \t-r, --remove                Remove the modules and their unused dependencies\n\
         \t    --remove-holders        Also remove the modules that hold them (with -r)\n\
         \t    --remove-dependencies   Old name of --remove-holders\n\
         \t-w, --wait=MSEC             With -r, wait up to MSEC for the module to be unused\n\
         \t    --first-time            Fail if the module is already loaded (or not loaded)\n\
         \t-i, --ignore-install        Do not run install commands\n\
         \t-i, --ignore-remove         Do not run remove commands\n\
         \t-b, --use-blacklist         Apply the blacklist to the module names too\n\
         \t-f, --force                 Ignore version magic and symbol versions\n\
         \t    --force-modversion      Ignore symbol versions\n\
         \t    --force-vermagic        Ignore the version magic string\n\
         \n\
         Queries:\n\
         \t-R, --resolve-alias         Print the modules a name or alias resolves to\n\
         \t-D, --show-depends          Print what loading would do\n\
         \t    --format=json|dot       With -D: print it as JSON or as a Graphviz graph\n\
         \t-c, --showconfig            Print the configuration and the alias indexes\n\
         \t-c, --show-config           Same as --showconfig\n\
         \t    --show-modversions      Print a module file's symbol versions\n\
         \t    --dump-modversions      Same as --show-modversions\n\
         \t    --show-exports          Print a module file's exported symbols and versions\n\
         \n\
         General:\n\
         \t-n, --dry-run               Do nothing, print what would be done (with -v)\n\
         \t-n, --show                  Same as --dry-run\n\
         \t-C, --config=FILE           Read the configuration from FILE (repeatable)\n\
         \t-d, --dirname=DIR           Use DIR as the root of {MODULE_DIRECTORY}\n\
         \t-S, --set-version=VERSION   Use VERSION instead of the running kernel's\n\
         \t-s, --syslog                Send messages to syslog\n\
         \t-q, --quiet                 No messages\n\
         \t-v, --verbose               More messages (repeatable)\n\
         \t-V, --version               Show the version\n\
         \t-h, --help                  Show this help\n"
    )
}

/// The formats of `--show-depends` output.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Format {
    Text,
    Json,
    Dot,
}

/// Everything the command line set.
struct Opts {
    use_all: bool,
    remove: bool,
    remove_holders: bool,
    wait_msec: u64,
    first_time: bool,
    ignore_commands: bool,
    use_blacklist: bool,
    force: bool,
    force_modversion: bool,
    force_vermagic: bool,
    ignore_loaded: bool,
    dry_run: bool,
    do_show: bool,
    lookup_only: bool,
    show_config: bool,
    show_modversions: bool,
    show_exports: bool,
    config_paths: Vec<Vec<u8>>,
    root: Option<OsString>,
    kversion: Option<OsString>,
    syslog: bool,
    verbose: i32,
    format: Format,
}

/// The running tool: options, logger, output.
struct Modprobe {
    o: Opts,
    log: Rc<Log>,
    /// Priority of modprobe's own `LOG()` messages: fatal, or a warning
    /// with `-a`.
    log_priority: i32,
    out: Rc<RefCell<Stdout>>,
    ctx: Context,
    /// What `-D --format=json|dot` collects.
    shown: Vec<ShownAction>,
    /// The modules whose removal is under way, outermost first: a module
    /// met again on this chain is a loop of softdeps.
    removing: Vec<ModuleId>,
    /// Set once such a loop is found: the removal stops there.
    softdep_loop: bool,
}

struct ShownAction {
    kind: &'static str,
    name: String,
    path: Option<PathBuf>,
    options: Vec<u8>,
    command: Option<Vec<u8>>,
    /// Why the module is in the plan (`requested`, `dep`, `pre-softdep`,
    /// `post-softdep`, `weakdep`).
    why: &'static str,
}

/// kmod's `MODPROBE_OPTIONS` splitting: words separated by single spaces
/// (two spaces make an empty word); a quoted word loses its quotes, and
/// quotes inside a word are removed with what they enclose kept.
fn split_modprobe_options(env: &[u8]) -> Vec<Vec<u8>> {
    let mut buf = env.to_vec();
    let mut words = Vec::new();
    let mut start = 0usize;
    let mut quote: Option<usize> = None;
    let mut s = 0usize;
    while s < buf.len() {
        let c = buf[s];
        match quote {
            None => {
                if c == b' ' {
                    words.push(buf[start..s].to_vec());
                    start = s + 1;
                } else if c == b'"' || c == b'\'' {
                    quote = Some(s);
                }
            }
            Some(q) => {
                if c == buf[q] {
                    if q == start {
                        words.push(buf[start + 1..s].to_vec());
                        start = s + 1;
                    } else {
                        // drop both quote characters
                        buf.remove(s);
                        buf.remove(q);
                        s -= 2;
                    }
                    quote = None;
                }
            }
        }
        s += 1;
    }
    if start < s.min(buf.len()) {
        words.push(buf[start..].to_vec());
    }
    words
}

/// Appends a word to `MODPROBE_OPTIONS` for the commands modprobe runs.
fn modprobe_options_append(value: &[u8]) {
    let new = match std::env::var_os("MODPROBE_OPTIONS") {
        Some(old) => [old.as_bytes(), b" ", value].concat(),
        None => value.to_vec(),
    };
    std::env::set_var("MODPROBE_OPTIONS", std::ffi::OsStr::from_bytes(&new));
}

/// C `strtoul(s, &end, 0)` accepting only a fully consumed, non-empty `s`.
fn parse_c_ulong(s: &[u8]) -> Option<u64> {
    let p = modkit::compat::strtol::strtoul(s, 0);
    (!s.is_empty() && p.end == s.len()).then_some(p.value)
}

/// Entry point: `argv[0]` is the program name.
pub fn main(args: Vec<OsString>) -> u8 {
    let prog = crate::compat::getopt::program_name(&args[0]);
    let mut argv = vec![args[0].clone()];
    if let Some(env) = std::env::var_os("MODPROBE_OPTIONS") {
        argv.extend(
            split_modprobe_options(env.as_bytes())
                .into_iter()
                .map(|w| OsString::from(std::ffi::OsStr::from_bytes(&w))),
        );
    }
    argv.extend(args.into_iter().skip(1));
    let out = Rc::new(RefCell::new(Stdout::new()));
    let status = run(&prog, argv, &out);
    if out.borrow_mut().close().is_err() {
        return 1;
    }
    status
}

fn run(prog: &str, argv: Vec<OsString>, out: &Rc<RefCell<Stdout>>) -> u8 {
    let mut log = Log::new(prog, prio::WARNING);
    let mut o = Opts {
        use_all: false,
        remove: false,
        remove_holders: false,
        wait_msec: 0,
        first_time: false,
        ignore_commands: false,
        use_blacklist: false,
        force: false,
        force_modversion: false,
        force_vermagic: false,
        ignore_loaded: false,
        dry_run: false,
        do_show: false,
        lookup_only: false,
        show_config: false,
        show_modversions: false,
        show_exports: false,
        config_paths: Vec::new(),
        root: None,
        kversion: None,
        syslog: false,
        verbose: DEFAULT_VERBOSE,
        format: Format::Text,
    };
    let mut log_priority = prio::CRIT;
    let mut argv = argv;
    match take_format_option(&mut argv) {
        Ok(None) => {}
        Ok(Some(f)) => {
            o.format = match f.as_bytes() {
                b"text" => Format::Text,
                b"json" => Format::Json,
                b"dot" => Format::Dot,
                other => {
                    log.error(&format!(
                        "unknown format '{}': use text, json or dot.\n",
                        String::from_utf8_lossy(other)
                    ));
                    return 1;
                }
            }
        }
        Err(msg) => {
            stdio::stderr(&format!("{prog}: {msg}\n"));
            return 1;
        }
    }
    let mut getopt = Getopt::new(argv, SHORT_OPTS, LONG_OPTS);
    for opt in getopt.by_ref() {
        let opt = match opt {
            Ok(opt) => opt,
            Err(e) => {
                e.report();
                return 1;
            }
        };
        let arg = opt.arg.unwrap_or_default();
        match opt.val {
            1 => o.force_vermagic = true,
            2 => o.force_modversion = true,
            3 => o.first_time = true,
            4 => o.show_modversions = true,
            5 => o.remove_holders = true,
            6 => o.show_exports = true,
            v => match u8::try_from(v).map(char::from).unwrap_or('\0') {
                'a' => {
                    log_priority = prio::WARNING;
                    o.use_all = true;
                }
                'r' => o.remove = true,
                'w' => match parse_c_ulong(arg.as_bytes()) {
                    Some(ms) => o.wait_msec = ms,
                    None => {
                        log.error(&format!(
                            "unexpected wait value '{}'.\n",
                            arg.to_string_lossy()
                        ));
                        return 1;
                    }
                },
                'i' => o.ignore_commands = true,
                'b' => o.use_blacklist = true,
                'f' => o.force = true,
                'D' => {
                    o.ignore_loaded = true;
                    o.dry_run = true;
                    o.do_show = true;
                }
                'R' => o.lookup_only = true,
                'c' => o.show_config = true,
                'n' => o.dry_run = true,
                'C' => {
                    o.config_paths.push(arg.as_bytes().to_vec());
                    modprobe_options_append(b"-C");
                    modprobe_options_append(arg.as_bytes());
                }
                'd' => o.root = Some(arg),
                'S' => o.kversion = Some(arg),
                's' => {
                    modprobe_options_append(b"-s");
                    o.syslog = true;
                }
                'q' => {
                    modprobe_options_append(b"-q");
                    o.verbose = prio::EMERG;
                }
                'v' => {
                    modprobe_options_append(b"-v");
                    o.verbose += 1;
                }
                'V' => {
                    out.borrow_mut()
                        .write(crate::version::kmod_version().as_bytes());
                    return 0;
                }
                'h' => {
                    out.borrow_mut().write(help(prog).as_bytes());
                    return 0;
                }
                _ => {
                    log.error(&format!(
                        "unexpected getopt_long() value '{}'.\n",
                        v as u8 as char
                    ));
                    return 1;
                }
            },
        }
    }
    let args = getopt.remaining();
    if o.syslog || !stderr_usable() {
        log.use_syslog();
    }
    // modkit's --format shapes what -D shows; anywhere else it would be
    // silently ignored and the real action (a load!) taken: refuse.
    if o.format != Format::Text && !o.do_show {
        let name = if o.format == Format::Json {
            "json"
        } else {
            "dot"
        };
        log.error(&format!(
            "--format={name} only applies to --show-depends (-D); nothing was done.\n"
        ));
        return 1;
    }
    if !o.show_config && args.is_empty() {
        log.error("missing parameters. See -h.\n");
        return 1;
    }
    let dirname: PathBuf = if o.root.is_some() || o.kversion.is_some() {
        let kversion = match &o.kversion {
            Some(v) => v.clone(),
            None => match modkit::resolve::kernel_release() {
                Ok(r) => OsString::from(r),
                Err(e) => {
                    log.error(&format!("uname() failed: {}\n", e.strerror()));
                    return 1;
                }
            },
        };
        let mut d = o.root.clone().unwrap_or_default();
        d.push(MODULE_DIRECTORY);
        d.push("/");
        d.push(kversion);
        match absolute_from_cwd(Path::new(&d)) {
            Ok(p) => p,
            Err(_) => PathBuf::from(d),
        }
    } else {
        match modkit::resolve::kernel_release() {
            Ok(r) => Path::new(MODULE_DIRECTORY).join(r),
            Err(_) => {
                log.error("kmod_new() failed!\n");
                return 1;
            }
        }
    };
    // libkmod reports configuration problems before modprobe installs its
    // logger: as "libkmod: LEVEL: function: ...", at KMOD_LOG's priority.
    let config_paths = (!o.config_paths.is_empty()).then_some(o.config_paths.as_slice());
    let cmdline = read_kernel_cmdline();
    let config = ModprobeConfig::load(
        &dirname,
        config_paths,
        cmdline.as_deref(),
        &crate::log::LibkmodEarlyLog,
    );
    log.setup_library_log(o.verbose);
    let log = Rc::new(log);
    let ctx_log: Rc<dyn Logger> = Rc::clone(&log) as Rc<dyn Logger>;
    let ctx = match Context::new(&dirname, config, ctx_log) {
        Ok(c) => c,
        Err(_) => {
            log.error("kmod_new() failed!\n");
            return 1;
        }
    };
    ctx.module_dir().load_resources(&*log);
    let mut mp = Modprobe {
        o,
        log,
        log_priority,
        out: Rc::clone(out),
        ctx,
        shown: Vec::new(),
        removing: Vec::new(),
        softdep_loop: false,
    };
    let err = if mp.o.show_config {
        mp.show_config()
    } else if mp.o.show_modversions {
        mp.show_crcs(&args[0], false)
    } else if mp.o.show_exports {
        mp.show_crcs(&args[0], true)
    } else if mp.o.remove {
        mp.rmmod_all(&args)
    } else if mp.o.use_all {
        mp.insmod_all(&args)
    } else {
        let opts = modkit::kernel::options_from_args(&args[1..]);
        mp.insmod(&args[0], Some(&opts))
    };
    if mp.o.format != Format::Text && mp.o.do_show {
        mp.print_shown();
    }
    mp.log.release_library_context();
    // The module pool is not freed one module at a time at exit (after
    // a batch that is a few thousand allocations, for nothing).
    std::mem::forget(mp.ctx);
    u8::from(err.is_err())
}

/// kmod falls back to syslog when standard error is closed: `fstat(2)` on
/// descriptor 2 fails (here on a duplicate of it, which fails the same way
/// with `EBADF`; no `/proc` needed, as in a build root).
fn stderr_usable() -> bool {
    use std::os::fd::AsFd;
    std::io::stderr()
        .as_fd()
        .try_clone_to_owned()
        .map(std::fs::File::from)
        .and_then(|f| f.metadata())
        .is_ok()
}

type Res = std::result::Result<(), Errno>;

impl Modprobe {
    /// modprobe's `LOG()`: at its own priority (fatal unless `-a`); a
    /// printed fatal message ends the program, standard output flushed.
    fn fatal(&self, msg: &str) {
        if self.log_priority <= prio::CRIT && self.log_priority <= self.log.priority {
            let _ = self.out.borrow_mut().flush();
        }
        self.log.log(self.log_priority, msg);
    }

    fn err(&self, msg: &str) {
        self.log.error(msg);
    }

    /// modprobe's `SHOW()`: printed with `-D` or from `-v` on, flushed.
    fn show(&self, text: &str) {
        if !self.o.do_show && self.o.verbose <= DEFAULT_VERBOSE {
            return;
        }
        let mut out = self.out.borrow_mut();
        out.write(text.as_bytes());
        let _ = out.flush();
    }

    fn print(&self, data: &[u8]) {
        self.out.borrow_mut().write(data);
    }

    fn show_config(&mut self) -> Res {
        let text = self.ctx.config().show();
        self.print(&text);
        self.print(b"\n# End of configuration files. Dumping indexes now:\n\n");
        for kind in [IndexKind::Alias, IndexKind::Symbols] {
            let Some(index) = self.ctx.module_dir().index(kind) else {
                continue;
            };
            let Ok(entries) = index.iter() else { continue };
            let mut text = Vec::new();
            for (key, value) in entries {
                text.extend_from_slice(b"alias ");
                text.extend_from_slice(key.as_bytes());
                text.push(b' ');
                text.extend_from_slice(value.value.as_bytes());
                text.push(b'\n');
            }
            self.print(&text);
        }
        Ok(())
    }

    fn module_file(&mut self, filename: &OsString) -> std::result::Result<PathBuf, Errno> {
        match self.ctx.module_from_path(Path::new(filename)) {
            Ok(id) => Ok(self.ctx.path(id).unwrap_or_else(|| PathBuf::from(filename))),
            Err(e) => {
                self.fatal(&format!(
                    "Module {} not found.\n",
                    filename.to_string_lossy()
                ));
                Err(e)
            }
        }
    }

    /// `--dump-modversions` (the `__versions` table) or `--show-exports`
    /// (exported symbols): `0xCRC<TAB>symbol` lines of a module file.
    fn show_crcs(&mut self, filename: &OsString, exports: bool) -> Res {
        let path = self.module_file(filename)?;
        let list = Module::open(&path).and_then(|m| {
            Ok(if exports {
                m.symbols()?.into_iter().map(|s| (s.crc, s.name)).collect()
            } else {
                m.versions()?
                    .into_iter()
                    .map(|v| (v.crc, v.symbol))
                    .collect::<Vec<_>>()
            })
        });
        match list {
            Ok(list) => {
                let mut text = String::new();
                for (crc, name) in list {
                    text.push_str(&format!("0x{crc:08x}\t{name}\n"));
                }
                self.print(text.as_bytes());
                Ok(())
            }
            Err(e) => {
                let what = if exports { "symbols" } else { "modversions" };
                self.fatal(&format!(
                    "could not get {what} of {}: {}\n",
                    filename.to_string_lossy(),
                    strerror(e.errno())
                ));
                Err(e.errno())
            }
        }
    }

    fn probe_flags(&self) -> ProbeFlags {
        ProbeFlags {
            force_modversion: self.o.force_modversion || self.o.force,
            force_vermagic: self.o.force_vermagic || self.o.force,
            ignore_command: self.o.ignore_commands,
            ignore_loaded: self.o.ignore_loaded,
            dry_run: self.o.dry_run,
            fail_on_loaded: self.o.first_time,
            apply_blacklist: self.o.use_blacklist,
            apply_blacklist_alias_only: true,
            apply_blacklist_all: false,
        }
    }

    fn insmod_all(&mut self, args: &[OsString]) -> Res {
        let mut err = Ok(());
        for a in args {
            if let Err(e) = self.insmod(a, None) {
                err = Err(e);
            }
        }
        err
    }

    fn insmod(&mut self, given: &OsString, extra: Option<&[u8]>) -> Res {
        let bytes = given.as_bytes();
        let shown = given.to_string_lossy().into_owned();
        let list = if bytes.starts_with(b"/") || bytes.starts_with(b"./") {
            match self.ctx.module_from_path(Path::new(given)) {
                Ok(id) => vec![id],
                Err(e) => {
                    self.fatal(&format!(
                        "Failed to get module from path {shown}: {}\n",
                        strerror(e)
                    ));
                    return Err(errno::ENOENT);
                }
            }
        } else {
            match self.ctx.lookup(&shown) {
                Ok(l) if !l.is_empty() => l,
                _ => {
                    let dir = self.ctx.dirname().display().to_string();
                    self.fatal(&format!("Module {shown} not found in directory {dir}\n"));
                    return Err(errno::ENOENT);
                }
            }
        };
        let flags = self.probe_flags();
        let mut err = Ok(());
        for id in list {
            err = self.insmod_insert(id, &flags, extra);
        }
        err
    }

    fn insmod_insert(&mut self, id: ModuleId, flags: &ProbeFlags, extra: Option<&[u8]>) -> Res {
        if self.o.lookup_only {
            let line = format!("{}\n", self.ctx.name(id));
            self.print(line.as_bytes());
            return Ok(());
        }
        let show = self.o.do_show || self.o.verbose > DEFAULT_VERBOSE;
        let structured = self.o.format != Format::Text && self.o.do_show;
        let out = Rc::clone(&self.out);
        let mut shown = Vec::new();
        let result = self.ctx.probe_insert(id, flags, extra, &mut |action| {
            if structured {
                shown.push(ShownAction::of(&action));
                return;
            }
            if !show {
                return;
            }
            let parts: [&[u8]; 5] = match action {
                ProbeAction::Install {
                    command, options, ..
                } => [b"install ", command, b" ", options, b"\n"],
                ProbeAction::Insert { path, options, .. } => [
                    b"insmod ",
                    path.as_os_str().as_bytes(),
                    b" ",
                    options,
                    b"\n",
                ],
                ProbeAction::Builtin { name } => [b"builtin ", name.as_bytes(), b"\n", b"", b""],
                ProbeAction::Missing { .. } => return,
            };
            // one write per line, formatted straight into the buffer
            let _ = out.borrow_mut().fwrite_with(|buf| {
                for part in parts {
                    buf.extend_from_slice(part);
                }
            });
        });
        if structured {
            let reasons = self.ctx.last_probe_list().to_vec();
            for (a, (_, why)) in shown.iter_mut().zip(&reasons) {
                a.why = why.as_str();
            }
            // weakdeps: not loaded by modprobe, listed after the plan
            for &(m, _) in &reasons {
                for w in self.ctx.weakdeps(m) {
                    let name = self.ctx.name(w).to_string();
                    let known = shown.iter().chain(&self.shown).any(|a| a.name == name);
                    if !known {
                        let path = self.ctx.path(w);
                        shown.push(ShownAction {
                            kind: "weakdep",
                            name,
                            path,
                            options: self.ctx.options(w).unwrap_or_default(),
                            command: None,
                            why: "weakdep",
                        });
                    }
                }
            }
        }
        self.shown.extend(shown);
        match result {
            Ok(ProbeOutcome::Done | ProbeOutcome::Blacklisted) => Ok(()),
            Err(e) => {
                let name = self.ctx.name(id).to_string();
                let msg = match e {
                    errno::EEXIST => format!("could not insert '{name}': Module already in kernel\n"),
                    errno::ENOENT => format!(
                        "could not insert '{name}': Unknown symbol in module, or unknown parameter (see dmesg)\n"
                    ),
                    e => format!("could not insert '{name}': {}\n", strerror(e)),
                };
                self.err(&msg);
                Err(e)
            }
        }
    }

    fn rmmod_all(&mut self, args: &[OsString]) -> Res {
        let mut err = Ok(());
        for a in args {
            if let Err(e) = self.rmmod(a) {
                err = Err(e);
            }
            if self.softdep_loop {
                break;
            }
        }
        err
    }

    fn rmmod(&mut self, given: &OsString) -> Res {
        let shown = given.to_string_lossy().into_owned();
        let list = match self.ctx.lookup(&shown) {
            Ok(l) => l,
            Err(e) => return Err(e.errno()),
        };
        if list.is_empty() {
            self.fatal(&format!("Module {shown} not found.\n"));
            return Err(errno::ENOENT);
        }
        let mut err = Ok(());
        for id in list {
            err = self.rmmod_module(id, self.o.remove_holders, false);
            if err.is_err() {
                break;
            }
        }
        err
    }

    /// Removes modules in reverse order; stops at the first error when
    /// asked to.
    fn rmmod_list(&mut self, list: &[ModuleId], stop_on_errors: bool) -> Res {
        for &m in list.iter().rev() {
            let r = self.rmmod_module(m, false, true);
            if self.softdep_loop || (r.is_err() && stop_on_errors) {
                return r;
            }
        }
        Ok(())
    }

    /// Removes one module with its softdeps, holders and unused
    /// dependencies. A softdep loop (`a` pre: `b`, `b` post: `a`) is an
    /// error that ends the removal: kmod 34 recurses along it until its
    /// stack overflows (SIGSEGV), having printed what modkit prints up to
    /// the loop.
    fn rmmod_module(&mut self, id: ModuleId, remove_holders: bool, ignore_builtin: bool) -> Res {
        let name = self.ctx.name(id);
        if self.removing.iter().any(|&m| self.ctx.name(m) == name) {
            let mut chain: Vec<&str> = self.removing.iter().map(|&m| self.ctx.name(m)).collect();
            chain.push(self.ctx.name(id));
            self.err(&format!("softdep loop: {}\n", chain.join(" -> ")));
            self.softdep_loop = true;
            return Err(errno::ELOOP);
        }
        self.removing.push(id);
        let r = self.rmmod_one_module(id, remove_holders, ignore_builtin);
        self.removing.pop();
        r
    }

    fn rmmod_one_module(
        &mut self,
        id: ModuleId,
        remove_holders: bool,
        ignore_builtin: bool,
    ) -> Res {
        let name = self.ctx.name(id).to_string();
        let (mut pre, mut post, mut cmd) = (Vec::new(), Vec::new(), None);
        if !self.o.ignore_commands {
            (pre, post) = self.ctx.softdeps(id);
            cmd = self.ctx.remove_command(id);
        }
        if cmd.is_none() && !self.o.ignore_loaded {
            match self.ctx.initstate(id) {
                Err(_) => {
                    if self.o.first_time {
                        self.fatal(&format!("Module {name} is not in kernel.\n"));
                        return Err(errno::ENOENT);
                    }
                    return Ok(());
                }
                Ok(InitState::Builtin) => {
                    if ignore_builtin {
                        return Ok(());
                    }
                    self.fatal(&format!("Module {name} is builtin.\n"));
                    return Err(errno::ENOENT);
                }
                Ok(_) => {}
            }
        }
        // 1. post softdeps, 2. holders, 3. the module, 4. unused
        // dependencies, 5. pre softdeps
        let r = self.rmmod_list(&post, false);
        if self.softdep_loop {
            return r;
        }
        if remove_holders {
            if let Some(holders) = self.ctx.holders(id) {
                self.rmmod_list(&holders, true)?;
            }
        }
        if cmd.is_none() && !self.o.ignore_loaded && self.o.wait_msec == 0 {
            if let Ok(usage) = self.ctx.refcnt(id) {
                if usage > 0 {
                    self.fatal(&format!("Module {name} is in use.\n"));
                    return Err(errno::EBUSY);
                }
            }
        }
        match &cmd {
            None => self.remove_one(id)?,
            Some(c) => self.remove_command(id, c)?,
        }
        if cmd.is_none() {
            for dep in self.ctx.dependencies(id) {
                if self.ctx.refcnt(dep) == Ok(0) {
                    let _ = self.remove_one(dep);
                }
            }
        }
        let r = self.rmmod_list(&pre, false);
        if self.softdep_loop {
            return r;
        }
        Ok(())
    }

    fn remove_command(&mut self, id: ModuleId, command: &[u8]) -> Res {
        let name = self.ctx.name(id).to_string();
        let cmd = replace_all(command, b"$CMDLINE_OPTS", b"");
        self.show(&format!("remove {}\n", String::from_utf8_lossy(&cmd)));
        if self.o.dry_run {
            return Ok(());
        }
        match run_shell(&cmd, &name) {
            Ok(0) => Ok(()),
            r => {
                self.fatal(&format!("Error running remove command for {name}\n"));
                match r {
                    Ok(code) => Err(code),
                    Err(_) => Err(-1),
                }
            }
        }
    }

    /// Unloads one module (`rmmod_do_remove_module`), waiting with
    /// exponential backoff up to `--wait` while it is in use.
    fn remove_one(&mut self, id: ModuleId) -> Res {
        let name = self.ctx.name(id).to_string();
        self.show(&format!("rmmod {name}\n"));
        if self.o.dry_run {
            return Ok(());
        }
        let wait = self.o.wait_msec;
        let (mut t0, mut tend, mut interval) = (0u64, 0u64, 0u64);
        let mut err;
        loop {
            err = self.ctx.remove_module(id, self.o.force, wait > 0);
            match err {
                Err(errno::EEXIST) => {
                    if !self.o.first_time {
                        err = Ok(());
                    } else {
                        self.fatal(&format!("Module {name} is not in kernel.\n"));
                    }
                    break;
                }
                Err(errno::EAGAIN) if wait > 0 => {
                    if t0 == 0 {
                        t0 = now_msec();
                        tend = t0.saturating_add(wait);
                        interval = 1;
                    }
                    let until = backoff_until(tend, &mut interval);
                    sleep_until_msec(until);
                    err = Ok(());
                }
                _ => break,
            }
            if interval == 0 {
                break;
            }
        }
        if let Err(e) = err {
            if wait > 0 {
                self.err(&format!("could not remove '{name}': {}\n", strerror(e)));
            }
        }
        err
    }

    fn print_shown(&mut self) {
        let text = match self.o.format {
            Format::Json => self.shown_json(),
            Format::Dot => self.shown_dot(),
            Format::Text => return,
        };
        self.print(text.as_bytes());
    }

    fn shown_json(&self) -> String {
        // the kernel's firmware search path under the module directory's
        // root (DIR/lib/modules/VERSION -> DIR/lib/firmware...)
        let moddir = self.ctx.dirname();
        let release = moddir
            .file_name()
            .map(|v| v.to_string_lossy().into_owned())
            .unwrap_or_default();
        let root = moddir
            .ancestors()
            .nth(3)
            .unwrap_or(std::path::Path::new("/"));
        let firmware_dirs = modkit::closure::firmware_search_path(root, &release);
        let items: Vec<serde_json::Value> = self
            .shown
            .iter()
            .map(|a| {
                let mut m = serde_json::Map::new();
                m.insert("action".into(), a.kind.into());
                m.insert("module".into(), a.name.clone().into());
                if let Some(p) = &a.path {
                    m.insert("path".into(), p.to_string_lossy().into_owned().into());
                }
                if let Some(c) = &a.command {
                    m.insert(
                        "command".into(),
                        String::from_utf8_lossy(c).into_owned().into(),
                    );
                }
                let options = String::from_utf8_lossy(&a.options).into_owned();
                m.insert(
                    "options".into(),
                    modkit::closure::option_words(&options).into(),
                );
                m.insert("options_text".into(), options.into());
                m.insert("why".into(), a.why.into());
                if let Some(p) = &a.path {
                    let firmware: Vec<serde_json::Value> =
                        modkit::closure::module_firmware(p, &firmware_dirs)
                            .into_iter()
                            .map(|f| {
                                serde_json::json!({
                                    "name": f.name,
                                    "file": f.file.map(|p| p.to_string_lossy().into_owned()),
                                })
                            })
                            .collect();
                    m.insert("firmware".into(), firmware.into());
                }
                serde_json::Value::Object(m)
            })
            .collect();
        let mut s = serde_json::to_string_pretty(&items).unwrap_or_default();
        s.push('\n');
        s
    }

    fn shown_dot(&mut self) -> String {
        let mut s = String::from("digraph modprobe {\n\trankdir=LR;\n\tnode [shape=box];\n");
        let mut seen = std::collections::HashSet::new();
        let names: Vec<String> = self.shown.iter().map(|a| a.name.clone()).collect();
        for a in &self.shown {
            if !seen.insert(a.name.clone()) {
                continue;
            }
            let style = match a.kind {
                "builtin" => ", style=dashed",
                "install" => ", style=bold",
                _ => "",
            };
            s.push_str(&format!(
                "\t\"{}\" [label=\"{}\\n({})\"{style}];\n",
                a.name, a.name, a.kind
            ));
        }
        let mut edges = std::collections::BTreeSet::new();
        for name in &names {
            let id = self.ctx.module_from_name(name);
            for d in self.ctx.dependencies(id) {
                edges.insert(format!("\t\"{name}\" -> \"{}\";\n", self.ctx.name(d)));
            }
            let (pre, post) = self.ctx.softdeps(id);
            for p in pre {
                edges.insert(format!(
                    "\t\"{name}\" -> \"{}\" [style=dashed, label=\"pre\"];\n",
                    self.ctx.name(p)
                ));
            }
            for p in post {
                edges.insert(format!(
                    "\t\"{name}\" -> \"{}\" [style=dotted, label=\"post\"];\n",
                    self.ctx.name(p)
                ));
            }
        }
        for e in edges {
            s.push_str(&e);
        }
        s.push_str("}\n");
        s
    }
}

impl ShownAction {
    fn of(a: &ProbeAction<'_>) -> ShownAction {
        match *a {
            ProbeAction::Install {
                name,
                command,
                options,
            } => ShownAction {
                kind: "install",
                why: "requested",
                name: name.to_string(),
                path: None,
                options: options.to_vec(),
                command: Some(command.to_vec()),
            },
            ProbeAction::Insert {
                name,
                path,
                options,
            } => ShownAction {
                kind: "insmod",
                why: "requested",
                name: name.to_string(),
                path: Some(path.to_path_buf()),
                options: options.to_vec(),
                command: None,
            },
            ProbeAction::Builtin { name } => ShownAction {
                kind: "builtin",
                why: "requested",
                name: name.to_string(),
                path: None,
                options: Vec::new(),
                command: None,
            },
            ProbeAction::Missing { name } => ShownAction {
                kind: "missing",
                why: "requested",
                name: name.to_string(),
                path: None,
                options: Vec::new(),
                command: None,
            },
        }
    }
}

/// Milliseconds on a monotonic clock (never 0).
fn now_msec() -> u64 {
    static START: std::sync::OnceLock<std::time::Instant> = std::sync::OnceLock::new();
    let start = *START.get_or_init(std::time::Instant::now);
    1 + start.elapsed().as_millis() as u64
}

/// kmod's exponential backoff with a tail: the next wake-up time.
fn backoff_until(tend: u64, delta: &mut u64) -> u64 {
    let t = now_msec();
    if *delta == 0 {
        *delta = 1;
    } else {
        *delta <<= 1;
    }
    while *delta > 0 && t + *delta > tend {
        *delta >>= 1;
    }
    if *delta == 0 && tend > t {
        *delta = tend - t;
    }
    t + *delta
}

fn sleep_until_msec(until: u64) {
    let now = now_msec();
    if until > now {
        std::thread::sleep(std::time::Duration::from_millis(until - now));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(s: &str) -> Vec<String> {
        split_modprobe_options(s.as_bytes())
            .into_iter()
            .map(|w| String::from_utf8(w).unwrap())
            .collect()
    }

    #[test]
    fn modprobe_options_split_like_kmod() {
        assert_eq!(split("-v -q"), ["-v", "-q"]);
        assert_eq!(split("-v  -q "), ["-v", "", "-q"]);
        // a closing quote ends the word; the space after it makes an empty one
        assert_eq!(split("\"a b\" c"), ["a b", "", "c"]);
        assert_eq!(split("x\"a b\"y z"), ["xa by", "z"]);
        assert_eq!(split("'a'b"), ["a", "b"]);
    }

    #[test]
    fn wait_values_as_strtoul() {
        assert_eq!(parse_c_ulong(b"100"), Some(100));
        assert_eq!(parse_c_ulong(b"0x10"), Some(16));
        assert_eq!(parse_c_ulong(b"010"), Some(8));
        assert_eq!(parse_c_ulong(b" 5"), Some(5));
        assert_eq!(parse_c_ulong(b""), None);
        assert_eq!(parse_c_ulong(b"5x"), None);
        assert_eq!(parse_c_ulong(b"0x"), None);
        assert_eq!(parse_c_ulong(b"-1"), Some(u64::MAX));
    }

    #[test]
    fn backoff_never_passes_the_end() {
        let mut d = 0;
        let t = now_msec();
        let until = backoff_until(t + 100, &mut d);
        assert!(until <= t + 100 + 5);
    }
}
