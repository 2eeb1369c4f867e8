//! `depmod`: generating a module directory's dependency and alias indexes,
//! byte for byte as kmod 34's depmod does.
//!
//! [`run`] takes the parsed command line ([`Options`]) and does what
//! `depmod` does after option parsing: it finds the modules (the whole
//! tree, honouring `depmod.d` ([`config`]), or an explicit list), reads
//! each module's exported and needed symbols and its aliases, soft and
//! weak dependencies (in parallel, each file decompressed once), resolves
//! dependencies, orders modules as kmod does (`modules.order`, then kmod's
//! hash-table order), and writes the eleven outputs (`modules.dep`,
//! `modules.dep.bin`, `modules.alias`, `modules.alias.bin`,
//! `modules.softdep`, `modules.weakdep`, `modules.symbols`,
//! `modules.symbols.bin`, `modules.builtin.bin`,
//! `modules.builtin.alias.bin`, `modules.devname`), each through a
//! temporary file renamed into place ([`crate::fsutil`]), or all to
//! standard output with [`Options::dry_run`].
//!
//! Messages (warnings, errors) go to a [`Logger`], with kmod's wording and
//! in kmod's order; the caller prints the `depmod: ERROR: ` prefix.
//! Verbose output and `-n`'s indexes go to the standard output given.
//! [`run`] returns what it wrote, or why it stopped ([`DepmodError`]):
//! the exit status and kmod's `assert()` messages are the tool's business.
//!
//! The engine is in this file; the rest, by what it is about:
//! `facts` (what is read from each module file), `search` (finding
//! module files: `depmod.d` search order, overrides, externals,
//! excludes), `deps` (the kernel's symbols, symbol resolution,
//! `modules.order`, dependency order and cycles), `quick` (`-A`: whether
//! `modules.dep` is current), `output` (the eleven outputs), [`config`]
//! (`depmod.d`), [`cache`] (modkit's metadata cache).

pub mod cache;
pub mod config;
mod deps;
mod facts;
mod output;
mod quick;
mod search;

use std::ffi::OsStr;
use std::fmt;
use std::io::Write;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use crate::elf::DependencySymbol;
use crate::error::{errno_of, strerror, Errno};
use crate::kmod::{Level, Logger, MODULE_DIRECTORY, PATH_MAX};
use config::Config;
pub use facts::ModuleFacts;

/// kmod's default log priority (`LOG_WARNING`); each `-v` adds one.
pub const DEFAULT_VERBOSE: i32 = Level::Warning as i32;

/// depmod's command line, parsed.
#[derive(Debug, Clone)]
pub struct Options {
    /// `-b`: the root (already made absolute), empty for `/`.
    pub root: Vec<u8>,
    /// `-o`: the output root (absolute), `None` for the same as the root.
    pub out_root: Option<Vec<u8>>,
    /// `-m`: the module directory, `/lib/modules` by default.
    pub module_directory: Vec<u8>,
    /// The kernel version.
    pub kversion: Vec<u8>,
    /// `-C` paths in order; `None` for kmod's default directories.
    pub config_paths: Option<Vec<Vec<u8>>>,
    /// `-E`: a `Module.symvers` to check symbol versions against.
    pub symvers: Option<Vec<u8>>,
    /// `-F`: a `System.map` giving the kernel's symbols.
    pub system_map: Option<Vec<u8>>,
    /// `-e`: report unresolved symbols (and CRC mismatches with `-E`).
    pub print_unknown: bool,
    /// `-w`: warn on duplicate index entries.
    pub warn_dups: bool,
    /// `-P`: the architecture's symbol prefix, 0 for none.
    pub sym_prefix: u8,
    /// Log priority: [`DEFAULT_VERBOSE`] plus the number of `-v`.
    pub verbose: i32,
    /// `-n`: write everything to standard output.
    pub dry_run: bool,
    /// `-a`, or no module given: search the whole module directory.
    pub all: bool,
    /// `-A`: do nothing if `modules.dep` is newer than every module.
    pub quick: bool,
    /// Module files given on the command line (used without `all`).
    pub modules: Vec<Vec<u8>>,
    /// A metadata cache file to read and update (modkit only); see
    /// [`cache::default_path`] for the one the `depmod` tool uses unless
    /// told otherwise.
    pub cache: Option<PathBuf>,
    /// The cache is the default one, not asked for: its directory is made
    /// when missing, and failing to write it is only an info message
    /// (`-v`), not a warning.
    pub cache_is_default: bool,
    /// Threads for reading modules; 0 for one per core.
    pub threads: usize,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            root: Vec::new(),
            out_root: None,
            module_directory: MODULE_DIRECTORY.as_bytes().to_vec(),
            kversion: Vec::new(),
            config_paths: None,
            symvers: None,
            system_map: None,
            print_unknown: false,
            warn_dups: false,
            sym_prefix: 0,
            verbose: DEFAULT_VERBOSE,
            dry_run: false,
            all: false,
            quick: false,
            modules: Vec::new(),
            cache: None,
            cache_is_default: false,
            threads: 0,
        }
    }
}

/// What a depmod run did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DepmodOutputs {
    /// The index files renamed into place, in the order written (none
    /// with [`Options::dry_run`]).
    pub written: Vec<PathBuf>,
    /// With [`Options::dry_run`]: the indexes printed to standard output,
    /// in order.
    pub printed: Vec<&'static str>,
    /// With [`Options::quick`]: nothing was done, `modules.dep` being at
    /// least as new as every module (or `-n` was given too).
    pub up_to_date: bool,
}

/// Why depmod stopped; its messages have been logged already.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DepmodError {
    /// It gave up after an `ERROR` (a path too long, dependency cycles,
    /// an index that could not be written): kmod exits with status 1.
    /// What was written before.
    Failed(DepmodOutputs),
    /// It stopped at a `FATAL` message, where kmod exits on the spot
    /// (status 1). What was written before.
    Fatal(DepmodOutputs),
    /// kmod fails an `assert()` here and dies with `SIGABRT`; the text
    /// is glibc's message after the `depmod: ` prefix (with its newline).
    Assertion(&'static str),
}

impl fmt::Display for DepmodError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DepmodError::Failed(_) => f.write_str("depmod failed"),
            DepmodError::Fatal(_) => f.write_str("depmod stopped at a fatal error"),
            DepmodError::Assertion(msg) => write!(f, "{}", msg.trim_end()),
        }
    }
}

impl std::error::Error for DepmodError {}

/// Module file suffixes Debian trixie's kmod knows (built without zlib).
const KMOD_EXTS: &[&[u8]] = &[b".ko", b".ko.xz", b".ko.zst"];

/// Where the engine stops before the end.
#[derive(Debug)]
pub(crate) enum Fatal {
    /// A CRIT message was printed: depmod exits with a failure.
    Crit,
    /// kmod's `assert()` fails here (glibc's message).
    Assertion(&'static str),
}

type R<T> = Result<T, Fatal>;

pub(crate) fn cat(parts: &[&[u8]]) -> Vec<u8> {
    parts.concat()
}

fn os(b: &[u8]) -> &Path {
    Path::new(OsStr::from_bytes(b))
}

fn serr(e: Errno) -> &'static [u8] {
    strerror(e).as_bytes()
}

/// kmod's message for a failed `*at` call on a directory entry:
/// `CALL(FD, NAME[, FLAGS]): ERROR\n` (`flags` with its leading `, `).
fn at_call_failed(
    call: &[u8],
    fd: usize,
    name: &[u8],
    flags: &[u8],
    e: &std::io::Error,
) -> Vec<u8> {
    cat(&[
        call,
        b"(",
        fd.to_string().as_bytes(),
        b", ",
        name,
        flags,
        b"): ",
        serr(crate::error::errno_of(e)),
        b"\n",
    ])
}

/// Messages with kmod's filter and CRIT behaviour, and standard output.
pub(crate) struct Log<'a> {
    logger: &'a dyn Logger,
    out: &'a mut dyn Write,
    verbose: i32,
}

impl Log<'_> {
    pub(crate) fn log(&mut self, level: Level, msg: &[u8]) {
        if level as i32 <= self.verbose {
            self.logger.log(level, "", msg);
        }
    }

    pub(crate) fn err(&mut self, msg: &[u8]) {
        self.log(Level::Err, msg);
    }

    pub(crate) fn warn(&mut self, msg: &[u8]) {
        self.log(Level::Warning, msg);
    }

    pub(crate) fn crit(&mut self, msg: &[u8]) -> Fatal {
        self.log(Level::Crit, msg);
        Fatal::Crit
    }

    /// Bytes for standard output. Write errors are the caller's to find
    /// (as C's stdio reports them when the stream is closed).
    pub(crate) fn stdout(&mut self, data: &[u8]) {
        let _ = self.out.write_all(data);
    }

    /// A verbose line, flushed at once as kmod does.
    fn show(&mut self, msg: &[u8]) {
        if self.verbose > DEFAULT_VERBOSE {
            let _ = self.out.write_all(msg);
            let _ = self.out.flush();
        }
    }
}

/// A module found.
pub(crate) struct Mod {
    pub(crate) path: Vec<u8>,
    /// Offset of the path relative to the module directory, if inside it.
    rel: Option<usize>,
    uncrelpath: Option<Vec<u8>>,
    /// Offset of the last `/` in `path`.
    baselen: usize,
    pub(crate) modname: Vec<u8>,
    sort_idx: i64,
    pub(crate) dep_sort_idx: i64,
    pub(crate) idx: usize,
    users: u32,
    /// Direct dependencies (indexes into the module array).
    pub(crate) deps: Vec<usize>,
    pub(crate) aliases: Vec<Vec<u8>>,
    pub(crate) softdeps: Vec<Vec<u8>>,
    pub(crate) weakdeps: Vec<Vec<u8>>,
    dep_syms: Vec<DependencySymbol>,
    visited: bool,
}

impl Mod {
    /// kmod's `mod_get_compressed_path`: relative to the module directory
    /// when inside it, else absolute.
    pub(crate) fn out_path(&self) -> &[u8] {
        match self.rel {
            Some(o) => &self.path[o..],
            None => &self.path,
        }
    }
}

/// A symbol and the module exporting it (`None`: the kernel).
pub(crate) struct Sym {
    pub(crate) owner: Option<usize>,
    crc: u64,
}

pub(crate) struct Depmod<'a> {
    pub(crate) log: Log<'a>,
    cfg: Config,
    opts: &'a Options,
    pub(crate) dirname: Vec<u8>,
    outdirname: Vec<u8>,
    by_name: foldhash::HashMap<Vec<u8>, Mod>,
    uncrel: foldhash::HashSet<Vec<u8>>,
    pub(crate) mods: Vec<Mod>,
    pub(crate) symbols: foldhash::HashMap<Vec<u8>, Sym>,
    /// Set while kmod would hold a library context: its `-vv` messages
    /// name it by address ("registered" / "released"); modkit prints the
    /// address of its own state in the same places.
    context: Option<usize>,
    /// What was written so far.
    outputs: DepmodOutputs,
}

/// Runs depmod: messages go to `log`, verbose lines and `-n`'s indexes to
/// `stdout`. Returns what was written, or why it stopped.
pub fn run(
    opts: &Options,
    log: &dyn Logger,
    stdout: &mut dyn Write,
) -> Result<DepmodOutputs, DepmodError> {
    let mut d = Depmod {
        log: Log {
            logger: log,
            out: stdout,
            verbose: opts.verbose,
        },
        cfg: Config::default(),
        opts,
        dirname: Vec::new(),
        outdirname: Vec::new(),
        by_name: Default::default(),
        uncrel: Default::default(),
        mods: Vec::new(),
        symbols: Default::default(),
        context: None,
        outputs: DepmodOutputs::default(),
    };
    let finished = match d.run() {
        Ok(finished) => finished,
        // kmod's fatal messages exit on the spot
        Err(Fatal::Crit) => return Err(DepmodError::Fatal(d.outputs)),
        Err(Fatal::Assertion(msg)) => return Err(DepmodError::Assertion(msg)),
    };
    if let Some(addr) = d.context {
        d.log.log(
            Level::Info,
            format!("context {addr:#x} released\n").as_bytes(),
        );
    }
    match finished {
        true => Ok(d.outputs),
        false => Err(DepmodError::Failed(d.outputs)),
    }
}

impl<'a> Depmod<'a> {
    fn run(&mut self) -> R<bool> {
        let opts = self.opts;
        let mut moddir: &[u8] = &opts.module_directory;
        while let Some(rest) = moddir.strip_prefix(b"/") {
            moddir = rest;
        }
        let dirname = cat(&[&opts.root, b"/", moddir, b"/", &opts.kversion]);
        if dirname.len() >= PATH_MAX {
            let msg = cat(&[b"Bad directory ", &dirname, b": path too long\n"]);
            self.log.err(&msg);
            return Ok(false);
        }
        let out_root = opts.out_root.as_deref().unwrap_or(&opts.root);
        let outdirname = cat(&[out_root, b"/", moddir, b"/", &opts.kversion]);
        if outdirname.len() >= PATH_MAX {
            let msg = cat(&[b"Bad directory ", &outdirname, b": path too long\n"]);
            self.log.err(&msg);
            return Ok(false);
        }
        self.dirname = dirname;
        self.outdirname = outdirname;

        let mut all = opts.all || opts.modules.is_empty();
        if opts.quick {
            if opts.dry_run {
                self.outputs.up_to_date = true;
                return Ok(true);
            }
            if self.up_to_date() == 1 {
                self.outputs.up_to_date = true;
                return Ok(true);
            }
            all = true;
        }

        // kmod creates its library context here and logs, from -vv on,
        // the address of the logging function it installs.
        type RunFn =
            fn(&Options, &dyn Logger, &mut dyn Write) -> Result<DepmodOutputs, DepmodError>;
        let logger = run as RunFn as usize;
        let msg = format!("custom logging function {logger:#x} registered\n");
        self.log.log(Level::Info, msg.as_bytes());
        self.context = Some(self as *const Depmod<'a> as usize);

        if let Some(symvers) = &opts.symvers {
            if let Err(e) = self.load_symvers(symvers) {
                let msg = cat(&[b"could not load ", symvers, b": ", serr(e), b"\n"]);
                // kmod leaves without releasing the context on this path
                self.context = None;
                return Err(self.log.crit(&msg));
            }
        } else if let Some(map) = &opts.system_map {
            if let Err(e) = self.load_system_map(map) {
                let msg = cat(&[b"could not load ", map, b": ", serr(e), b"\n"]);
                self.context = None;
                return Err(self.log.crit(&msg));
            }
        } else if opts.print_unknown {
            self.log.warn(b"-e needs -E or -F\n");
        }
        let print_unknown =
            opts.print_unknown && (opts.symvers.is_some() || opts.system_map.is_some());

        if all {
            let kversion = opts.kversion.clone();
            let (logger, verbose) = (self.log.logger, self.log.verbose);
            let filtered = |l: Level, f: &str, m: &[u8]| {
                if l as i32 <= verbose {
                    logger.log(l, f, m);
                }
            };
            self.cfg = Config::load(opts.config_paths.as_deref(), &kversion, &filtered);
            if let Err(e) = self.search() {
                let msg = cat(&[b"could not search modules: ", serr(e), b"\n"]);
                return Err(self.log.crit(&msg));
            }
        } else {
            for path in &opts.modules {
                self.add_explicit(path)?;
            }
        }

        self.build_array()?;
        self.sort_by_order();
        self.load_modules();
        self.load_dependencies(print_unknown);
        if !self.calculate_dependencies()? {
            return Ok(false);
        }
        output::write_all(self)
    }

    /// kmod's `dfdopen(dirname, name)` for reading: the contents, or a
    /// warning and `None`. A read error after a successful open (a
    /// directory) gives `Some(Err)`.
    pub(crate) fn open_input(&mut self, name: &[u8]) -> Option<Result<Vec<u8>, Errno>> {
        let dir = self.dirname.clone();
        if let Err(e) = std::fs::File::open(os(&dir)) {
            let msg = cat(&[
                b"could not open directory ",
                &dir,
                b": ",
                serr(errno_of(&e)),
                b"\n",
            ]);
            self.log.warn(&msg);
            return None;
        }
        let full = cat(&[&dir, b"/", name]);
        match std::fs::File::open(os(&full)) {
            Ok(mut f) => {
                let mut data = Vec::new();
                Some(
                    std::io::Read::read_to_end(&mut f, &mut data)
                        .map(|_| data)
                        .map_err(|e| errno_of(&e)),
                )
            }
            Err(e) => {
                let msg = cat(&[
                    b"could not open ",
                    name,
                    b" at ",
                    &dir,
                    b": ",
                    serr(errno_of(&e)),
                    b"\n",
                ]);
                self.log.warn(&msg);
                None
            }
        }
    }
}

#[cfg(test)]
mod tests;
