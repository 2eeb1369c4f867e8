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
//! Messages (warnings, errors, verbose output) go through a [`Reporter`],
//! with kmod's wording and in kmod's order; the caller adds the
//! `depmod: ERROR: ` prefix.

pub mod cache;
pub mod config;
mod output;

use std::collections::{HashMap, HashSet};
use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use crate::compression::{self, Compression};
use crate::elf::{DependencySymbol, Elf, Symbol, SymbolBind};
use crate::error::{errno, strerror, Errno};
use config::Config;

/// A message's priority (syslog numbering, as kmod's log).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Level {
    /// `FATAL`: depmod stops after printing it.
    Crit = 2,
    /// `ERROR`.
    Err = 3,
    /// `WARNING`.
    Warning = 4,
    /// `NOTICE`.
    Notice = 5,
    /// `INFO` (shown from `-vv` on).
    Info = 6,
    /// `DEBUG` (from `-vvv`).
    Debug = 7,
}

impl Level {
    /// The name kmod prints after the program name: `ERROR`...
    pub fn name(self) -> &'static str {
        match self {
            Level::Crit => "FATAL",
            Level::Err => "ERROR",
            Level::Warning => "WARNING",
            Level::Notice => "NOTICE",
            Level::Info => "INFO",
            Level::Debug => "DEBUG",
        }
    }
}

/// kmod's default log priority (`LOG_WARNING`); each `-v` adds one.
pub const DEFAULT_VERBOSE: i32 = Level::Warning as i32;

/// Where depmod's messages and standard output go.
pub trait Reporter {
    /// A message of `level` (its text ends with a newline); the caller
    /// prints it to standard error as `depmod: LEVEL: text`.
    fn log(&mut self, level: Level, msg: &[u8]);
    /// Bytes for standard output (buffered by the caller).
    fn stdout(&mut self, data: &[u8]);
    /// Flushes standard output (kmod flushes after each verbose line).
    fn flush_stdout(&mut self);
    /// kmod fails an `assert()` here and dies with `SIGABRT`: `msg` is
    /// glibc's line after the `depmod: ` prefix. The command-line tool
    /// prints it and aborts; by default [`run`] just fails.
    fn abort(&mut self, msg: &[u8]) {
        self.log(Level::Crit, msg);
    }
}

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
    /// A metadata cache file to read and update (modkit only).
    pub cache: Option<PathBuf>,
    /// Threads for reading modules; 0 for one per core.
    pub threads: usize,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            root: Vec::new(),
            out_root: None,
            module_directory: crate::resolve::MODULE_DIRECTORY.as_bytes().to_vec(),
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
            threads: 0,
        }
    }
}

/// kmod's `PATH_MAX`.
const PATH_MAX: usize = 4096;
/// Module file suffixes Debian trixie's kmod knows (built without zlib).
const KMOD_EXTS: &[&[u8]] = &[b".ko", b".ko.xz", b".ko.zst"];

/// A CRIT message was printed: depmod exits with a failure.
#[derive(Debug)]
pub(crate) struct Fatal;

type R<T> = Result<T, Fatal>;

pub(crate) fn cat(parts: &[&[u8]]) -> Vec<u8> {
    parts.concat()
}

fn os(b: &[u8]) -> &Path {
    Path::new(OsStr::from_bytes(b))
}

fn errno_of(e: &std::io::Error) -> Errno {
    e.raw_os_error().unwrap_or(errno::EIO)
}

fn serr(e: Errno) -> &'static [u8] {
    strerror(e).as_bytes()
}

/// Logging with kmod's filter and CRIT behaviour.
pub(crate) struct Log<'a> {
    rep: &'a mut dyn Reporter,
    verbose: i32,
}

impl Log<'_> {
    pub(crate) fn log(&mut self, level: Level, msg: &[u8]) {
        if level as i32 <= self.verbose {
            self.rep.log(level, msg);
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
        Fatal
    }

    fn show(&mut self, msg: &[u8]) {
        if self.verbose > DEFAULT_VERBOSE {
            self.rep.stdout(msg);
            self.rep.flush_stdout();
        }
    }
}

/// kmod's string hash (Paul Hsieh's SuperFastHash, as in kmod's
/// `shared/hash.c`, with C's signed `char` on x86).
pub fn kmod_hash(key: &[u8]) -> u32 {
    let len = key.len() as u32;
    let mut hash: u32 = len;
    let rem = key.len() & 3;
    let u16at = |k: &[u8], i: usize| u32::from(u16::from_le_bytes([k[i], k[i + 1]]));
    let sc = |b: u8| b as i8 as i32 as u32;
    let mut chunks = key.chunks_exact(4);
    for c in chunks.by_ref() {
        hash = hash.wrapping_add(u16at(c, 0));
        let tmp = (u16at(c, 2) << 11) ^ hash;
        hash = (hash << 16) ^ tmp;
        hash = hash.wrapping_add(hash >> 11);
    }
    let k = chunks.remainder();
    match rem {
        3 => {
            hash = hash.wrapping_add(u16at(k, 0));
            hash ^= hash << 16;
            hash ^= sc(k[2]) << 18;
            hash = hash.wrapping_add(hash >> 11);
        }
        2 => {
            hash = hash.wrapping_add(u16at(k, 0));
            hash ^= hash << 11;
            hash = hash.wrapping_add(hash >> 17);
        }
        1 => {
            hash = hash.wrapping_add(sc(k[0]));
            hash ^= hash << 10;
            hash = hash.wrapping_add(hash >> 1);
        }
        _ => {}
    }
    hash ^= hash << 3;
    hash = hash.wrapping_add(hash >> 5);
    hash ^= hash << 4;
    hash = hash.wrapping_add(hash >> 17);
    hash ^= hash << 25;
    hash = hash.wrapping_add(hash >> 6);
    hash
}

/// Sorts keys in the order kmod's hash table (with `buckets` buckets)
/// iterates them: by bucket, then bytewise within a bucket.
pub fn sort_in_hash_order<T>(items: &mut [T], buckets: u32, key: impl Fn(&T) -> &[u8]) {
    items.sort_by_cached_key(|t| {
        let k = key(t);
        (kmod_hash(k) & (buckets - 1), k.to_vec())
    });
}

/// kmod's `modname_normalize` on bytes: up to the first `.`, `-` as `_`.
pub fn modname_normalize(name: &[u8]) -> Vec<u8> {
    name.iter()
        .take(PATH_MAX - 1)
        .take_while(|&&c| c != b'.' && c != 0)
        .map(|&c| if c == b'-' { b'_' } else { c })
        .collect()
}

/// kmod's `path_to_modname`: the normalized base name; `None` if the path
/// ends with `/`.
pub fn path_to_modname(path: &[u8]) -> Option<Vec<u8>> {
    let base = match path.iter().rposition(|&b| b == b'/') {
        Some(s) => &path[s + 1..],
        None => path,
    };
    let base = match base.iter().position(|&b| b == 0) {
        Some(n) => &base[..n],
        None => base,
    };
    (!base.is_empty()).then(|| modname_normalize(base))
}

fn has_kmod_ext(name: &[u8]) -> bool {
    KMOD_EXTS
        .iter()
        .any(|e| name.len() > e.len() && name.ends_with(e))
}

/// Splits `data` as successive `fgets(buf, size)` calls would, each chunk
/// cut at its first NUL (as C string functions then see it).
pub(crate) fn fgets_chunks(data: &[u8], size: usize) -> Vec<&[u8]> {
    let mut out = Vec::new();
    let mut rest = data;
    while !rest.is_empty() {
        let limit = rest.len().min(size - 1);
        let end = match rest[..limit].iter().position(|&b| b == b'\n') {
            Some(n) => n + 1,
            None => limit,
        };
        let chunk = &rest[..end];
        rest = &rest[end..];
        let chunk = match chunk.iter().position(|&b| b == 0) {
            Some(n) => &chunk[..n],
            None => chunk,
        };
        out.push(chunk);
    }
    out
}

/// What depmod reads from one module file (each `Err` is an errno).
#[derive(Debug, Clone)]
pub struct ModuleFacts {
    /// Exported symbols (`kmod_module_get_symbols`).
    pub symbols: Result<Vec<Symbol>, Errno>,
    /// `.modinfo` strings (`key=value`).
    pub modinfo: Result<Vec<Vec<u8>>, Errno>,
    /// Needed symbols (`kmod_module_get_dependency_symbols`).
    pub dependency_symbols: Result<Vec<DependencySymbol>, Errno>,
    /// What libkmod logs (at `ERROR`) each time it fails to load the file,
    /// e.g. `xz: File is corrupt`.
    pub load_log: Option<String>,
}

impl ModuleFacts {
    fn failed(errno: Errno, load_log: Option<String>) -> ModuleFacts {
        ModuleFacts {
            symbols: Err(errno),
            modinfo: Err(errno),
            dependency_symbols: Err(errno),
            load_log,
        }
    }

    /// Reads a module file as libkmod reads it for depmod: opened and
    /// decompressed once (gzip is not supported by the reference kmod:
    /// `ENOSYS`), then the three lookups on the ELF image.
    pub fn read(path: &Path) -> ModuleFacts {
        let bytes = match std::fs::read(path) {
            Ok(b) => b,
            Err(e) => return ModuleFacts::failed(errno_of(&e), None),
        };
        ModuleFacts::from_bytes(bytes)
    }

    /// As [`ModuleFacts::read`], from the file's contents.
    pub fn from_bytes(bytes: Vec<u8>) -> ModuleFacts {
        if bytes.len() < 6 {
            return ModuleFacts::failed(errno::EINVAL, None);
        }
        let data = match compression::detect(&bytes) {
            Compression::None => bytes,
            Compression::Gzip => return ModuleFacts::failed(errno::ENOSYS, None),
            kind => match compression::decompress_as(kind, &bytes) {
                Ok(d) => d,
                Err(e) => {
                    let log = compression::libkmod_log_function(&e).map(|_| e.detail().to_string());
                    return ModuleFacts::failed(e.errno(), log);
                }
            },
        };
        let elf = match Elf::parse(&data) {
            Ok(elf) => elf,
            Err(e) => return ModuleFacts::failed(e.errno(), None),
        };
        ModuleFacts {
            symbols: elf.symbols().map_err(|e| e.errno()),
            modinfo: elf
                .modinfo_strings()
                .map(|v| v.into_iter().map(<[u8]>::to_vec).collect())
                .map_err(|e| e.errno()),
            dependency_symbols: elf.dependency_symbols().map_err(|e| e.errno()),
            load_log: None,
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
    by_name: HashMap<Vec<u8>, Mod>,
    uncrel: HashSet<Vec<u8>>,
    pub(crate) mods: Vec<Mod>,
    pub(crate) symbols: HashMap<Vec<u8>, Sym>,
    /// Set while kmod would hold a library context: its `-vv` messages
    /// name it by address ("registered" / "released"); modkit prints the
    /// address of its own state in the same places.
    context: Option<usize>,
}

/// Runs depmod; returns the exit status (0 or 1).
pub fn run(opts: &Options, rep: &mut dyn Reporter) -> u8 {
    let mut d = Depmod {
        log: Log {
            rep,
            verbose: opts.verbose,
        },
        cfg: Config::default(),
        opts,
        dirname: Vec::new(),
        outdirname: Vec::new(),
        by_name: HashMap::new(),
        uncrel: HashSet::new(),
        mods: Vec::new(),
        symbols: HashMap::new(),
        context: None,
    };
    let status = match d.run() {
        Ok(true) => 0,
        Ok(false) => 1,
        // kmod's fatal messages exit on the spot
        Err(Fatal) => return 1,
    };
    if let Some(addr) = d.context {
        d.log.log(
            Level::Info,
            format!("context {addr:#x} released\n").as_bytes(),
        );
    }
    status
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
                return Ok(true);
            }
            if self.up_to_date() == 1 {
                return Ok(true);
            }
            all = true;
        }

        // kmod creates its library context here and logs, from -vv on,
        // the address of the logging function it installs.
        let logger = run as fn(&Options, &mut dyn Reporter) -> u8 as usize;
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
            let log = &mut self.log;
            self.cfg = Config::load(
                opts.config_paths.as_deref(),
                &kversion,
                &mut |l: Level, m: &[u8]| log.log(l, m),
            );
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

    // ---- symbols from the kernel ------------------------------------

    fn symbol_add(&mut self, name: &[u8], prefix_skipped: bool, crc: u64, owner: Option<usize>) {
        let mut name = name;
        if !prefix_skipped && !name.is_empty() && name[0] == self.opts.sym_prefix {
            name = &name[1..];
        }
        self.symbols.insert(name.to_vec(), Sym { owner, crc });
    }

    fn symbol_find(&self, name: &[u8]) -> Option<&Sym> {
        let mut name = name;
        if let Some(rest) = name.strip_prefix(b".") {
            name = rest;
        }
        if !name.is_empty() && name[0] == self.opts.sym_prefix {
            name = &name[1..];
        }
        self.symbols.get(name)
    }

    fn add_fake_syms(&mut self) {
        self.symbol_add(b"__this_module", true, 0, None);
        self.symbol_add(b"_GLOBAL_OFFSET_TABLE_", true, 0, None);
        if self.symbol_find(b"TOC.").is_none() {
            self.symbol_add(b"TOC.", true, 0, None);
        }
    }

    fn load_symvers(&mut self, filename: &[u8]) -> Result<(), Errno> {
        let data = read_stream(filename)?;
        for (n, line) in fgets_chunks(&data, 10240).into_iter().enumerate() {
            let mut tok = line
                .split(|&b| b == b' ' || b == b'\t')
                .filter(|t| !t.is_empty());
            let (Some(ver), Some(sym), Some(wher)) = (tok.next(), tok.next(), tok.next()) else {
                continue;
            };
            if wher != b"vmlinux" {
                continue;
            }
            let Some(crc) = strtoull_hex(ver) else {
                let msg = cat(&[
                    filename,
                    b":",
                    (n + 1).to_string().as_bytes(),
                    b" Invalid symbol version ",
                    ver,
                    // kmod prints a stale errno here: that of an earlier
                    // failed look-up.
                    b": No such file or directory\n",
                ]);
                self.log.err(&msg);
                continue;
            };
            self.symbol_add(sym, false, crc, None);
        }
        self.add_fake_syms();
        Ok(())
    }

    fn load_system_map(&mut self, filename: &[u8]) -> Result<(), Errno> {
        let data = read_stream(filename)?;
        for (n, line) in fgets_chunks(&data, 10240).into_iter().enumerate() {
            let p = line.iter().position(|&b| b == b' ').and_then(|a| {
                line[a + 1..]
                    .iter()
                    .position(|&b| b == b' ')
                    .map(|b| a + 1 + b + 1)
            });
            let Some(p) = p else {
                let msg = cat(&[
                    filename,
                    b":",
                    (n + 1).to_string().as_bytes(),
                    b": invalid line: ",
                    line,
                    b"\n",
                ]);
                self.log.err(&msg);
                continue;
            };
            let mut s = &line[p..];
            if !s.is_empty() && s[0] == self.opts.sym_prefix {
                s = &s[1..];
            }
            let Some(name) = s.strip_prefix(b"__ksymtab_") else {
                continue;
            };
            let name = match name.iter().position(|&b| b == b'\n') {
                Some(nl) => &name[..nl],
                None => name,
            };
            self.symbol_add(name, true, 0, None);
        }
        self.add_fake_syms();
        Ok(())
    }

    // ---- finding modules --------------------------------------------

    fn add_explicit(&mut self, path: &[u8]) -> R<()> {
        if path.first() != Some(&b'/') {
            return Err(self.log.crit(&cat(&[path, b": not absolute path.\n"])));
        }
        if let Err(e) = std::fs::metadata(os(path)) {
            let msg = cat(&[
                b"could not create module ",
                path,
                b": ",
                serr(errno_of(&e)),
                b"\n",
            ]);
            return Err(self.log.crit(&msg));
        }
        let Some(modname) = path_to_modname(path) else {
            let msg = cat(&[
                b"could not create module ",
                path,
                b": ",
                serr(errno::ENOENT),
                b"\n",
            ]);
            return Err(self.log.crit(&msg));
        };
        if let Some(old) = self.by_name.get(&modname) {
            if old.path != path {
                // libkmod's module pool refuses a second path for a name.
                let msg = cat(&[
                    b"kmod_module '",
                    &modname,
                    b"' already exists with different path: new-path='",
                    path,
                    b"' old-path='",
                    &old.path,
                    b"'\n",
                ]);
                self.log.err(&msg);
                let msg = cat(&[
                    b"could not create module ",
                    path,
                    b": ",
                    serr(errno::EEXIST),
                    b"\n",
                ]);
                return Err(self.log.crit(&msg));
            }
        }
        if let Err(e) = self.module_add(path.to_vec(), modname) {
            let msg = cat(&[b"could not add module ", path, b": ", serr(e), b"\n"]);
            return Err(self.log.crit(&msg));
        }
        Ok(())
    }

    /// kmod's `depmod_module_add`.
    fn module_add(&mut self, path: Vec<u8>, modname: Vec<u8>) -> Result<(), Errno> {
        let dl = self.dirname.len();
        let lastslash = path.iter().rposition(|&b| b == b'/').unwrap_or(0);
        let rel =
            (path.starts_with(&self.dirname) && path.get(dl) == Some(&b'/')).then_some(dl + 1);
        if self.by_name.contains_key(&modname) {
            let msg = cat(&[
                b"hash_add_unique ",
                &modname,
                b": ",
                serr(errno::EEXIST),
                b"\n",
            ]);
            self.log.err(&msg);
            return Err(errno::EEXIST);
        }
        let uncrelpath = match rel {
            Some(r) => {
                let end = (lastslash + 1 + modname.len() + 3).min(path.len()).max(r);
                let u = path[r..end].to_vec();
                if self.uncrel.contains(&u) {
                    let msg = cat(&[b"hash_add_unique ", &u, b": ", serr(errno::EEXIST), b"\n"]);
                    self.log.err(&msg);
                    return Err(errno::EEXIST);
                }
                self.uncrel.insert(u.clone());
                Some(u)
            }
            None => None,
        };
        let m = Mod {
            path,
            rel,
            uncrelpath,
            baselen: lastslash,
            modname: modname.clone(),
            sort_idx: 1,
            dep_sort_idx: i64::from(i32::MAX),
            idx: 0,
            users: 0,
            deps: Vec::new(),
            aliases: Vec::new(),
            softdeps: Vec::new(),
            weakdeps: Vec::new(),
            dep_syms: Vec::new(),
            visited: false,
        };
        self.by_name.insert(modname, m);
        Ok(())
    }

    fn module_del(&mut self, modname: &[u8]) {
        if let Some(m) = self.by_name.remove(modname) {
            if let Some(u) = &m.uncrelpath {
                self.uncrel.remove(u);
            }
        }
    }

    /// kmod's `depmod_module_is_higher_priority`: whether the module
    /// already found beats the one at `newpath`.
    fn is_higher_priority(
        &self,
        old: &Mod,
        baselen: usize,
        modnamelen: usize,
        newpath: &[u8],
    ) -> bool {
        let cfg = &self.cfg;
        let dl = self.dirname.len();
        let newlen = baselen + modnamelen;
        let oldlen = old.baselen + old.modname.len() + 1;
        let oldpath = &old.path[..];
        let rel = |path: &'_ [u8], len: usize| -> Option<(usize, usize)> {
            path.starts_with(&self.dirname)
                .then(|| (dl + 1, len.wrapping_sub(dl + 1)))
        };
        let relnew = rel(newpath, newlen);
        let relold = rel(oldpath, oldlen);
        let eq_at = |path: &[u8], r: Option<(usize, usize)>, what: &[u8]| -> bool {
            match r {
                Some((off, rl)) if rl == what.len() => path.get(off..off + rl) == Some(what),
                _ => false,
            }
        };
        for ov in &cfg.overrides {
            if eq_at(newpath, relnew, ov) {
                return false;
            }
            if eq_at(oldpath, relold, ov) {
                return true;
            }
        }
        let under = |path: &[u8], r: Option<(usize, usize)>, dir: &[u8]| -> bool {
            match r {
                Some((off, rl)) if rl > dir.len() => {
                    path.get(off + dir.len()) == Some(&b'/')
                        && path.get(off..off + dir.len()) == Some(dir)
                }
                _ => false,
            }
        };
        let starts_with = |path: &[u8], pathlen: usize, prefix: &[u8]| -> bool {
            pathlen > prefix.len()
                && path.get(prefix.len()) == Some(&b'/')
                && path.starts_with(prefix)
        };
        let (mut bprio, mut oldprio, mut newprio) = (-1i64, -1i64, -1i64);
        let mut i: i64 = 0;
        for se in &cfg.searches {
            match se {
                config::Search::BuiltIn => bprio = i,
                config::Search::External => {
                    for ext in &cfg.externals {
                        if starts_with(newpath, newlen, ext) {
                            newprio = i;
                        }
                        if starts_with(oldpath, oldlen, ext) {
                            oldprio = i;
                        }
                        i += 1;
                    }
                }
                config::Search::Path(p) => {
                    if under(newpath, relnew, p) {
                        newprio = i;
                    } else if under(oldpath, relold, p) {
                        oldprio = i;
                    }
                }
            }
            i += 1;
        }
        if newprio < 0 {
            newprio = bprio;
        }
        if oldprio < 0 {
            oldprio = bprio;
        }
        newprio <= oldprio
    }

    fn search(&mut self) -> Result<(), Errno> {
        let top = self.dirname.clone();
        self.search_path(&top)?;
        let externals = self.cfg.externals.clone();
        for ext in externals {
            let _ = self.search_path(&ext);
        }
        Ok(())
    }

    fn search_path(&mut self, path: &[u8]) -> Result<(), Errno> {
        let entries = match std::fs::read_dir(os(path)) {
            Ok(e) => e,
            Err(e) => {
                let e = errno_of(&e);
                let msg = cat(&[b"could not open directory ", path, b": ", serr(e), b"\n"]);
                self.log.err(&msg);
                return Err(e);
            }
        };
        let mut buf = cat(&[path, b"/"]);
        self.search_dir(entries, &mut buf, 3);
        Ok(())
    }

    fn exclude(&self, name: &[u8]) -> bool {
        name == b"."
            || name == b".."
            || name == b"build"
            || name == b"source"
            || self.cfg.excludes.iter().any(|e| e == name)
    }

    fn search_dir(&mut self, entries: std::fs::ReadDir, path: &mut Vec<u8>, fd: usize) {
        let baselen = path.len();
        for entry in entries.flatten() {
            let name = entry.file_name();
            let name = name.as_bytes();
            if self.exclude(name) {
                continue;
            }
            path.truncate(baselen);
            path.extend_from_slice(name);
            let is_dir = match entry.file_type() {
                Ok(t) if t.is_file() => false,
                Ok(t) if t.is_dir() => true,
                _ => match std::fs::metadata(os(path)) {
                    Err(e) => {
                        let msg = cat(&[
                            b"fstatat(",
                            fd.to_string().as_bytes(),
                            b", ",
                            name,
                            b"): ",
                            serr(errno_of(&e)),
                            b"\n",
                        ]);
                        self.log.err(&msg);
                        continue;
                    }
                    Ok(m) if m.is_file() => false,
                    Ok(m) if m.is_dir() => true,
                    Ok(m) => {
                        let msg = cat(&[
                            b"unsupported file type ",
                            path,
                            b": ",
                            format!("{:o}", m.mode() & 0o170000).as_bytes(),
                            b"\n",
                        ]);
                        self.log.err(&msg);
                        continue;
                    }
                },
            };
            if is_dir {
                match std::fs::read_dir(os(path)) {
                    Ok(sub) => {
                        path.push(b'/');
                        self.search_dir(sub, path, fd + 1);
                    }
                    Err(e) => {
                        let msg = cat(&[
                            b"openat(",
                            fd.to_string().as_bytes(),
                            b", ",
                            name,
                            b", O_RDONLY): ",
                            serr(errno_of(&e)),
                            b"\n",
                        ]);
                        self.log.err(&msg);
                    }
                }
            } else if let Err(e) = self.search_file(baselen, name.len(), path) {
                let msg = cat(&[b"failed ", path, b": ", serr(e), b"\n"]);
                self.log.err(&msg);
            }
        }
    }

    fn search_file(&mut self, baselen: usize, namelen: usize, path: &[u8]) -> Result<(), Errno> {
        if !has_kmod_ext(&path[baselen..baselen + namelen]) {
            return Ok(());
        }
        let Some(modname) = path_to_modname(path) else {
            let msg = cat(&[b"could not get modname from path ", path, b"\n"]);
            self.log.err(&msg);
            return Err(errno::EINVAL);
        };
        if let Some(old) = self.by_name.get(&modname) {
            if self.is_higher_priority(old, baselen, modname.len(), path) {
                return Ok(());
            }
            self.module_del(&modname);
        }
        if let Err(e) = self.module_add(path.to_vec(), modname) {
            let msg = cat(&[b"could not add module ", path, b": ", serr(e), b"\n"]);
            self.log.err(&msg);
            return Err(e);
        }
        Ok(())
    }

    // ---- ordering ------------------------------------------------------

    fn build_array(&mut self) -> R<()> {
        let mut mods: Vec<Mod> = std::mem::take(&mut self.by_name).into_values().collect();
        sort_in_hash_order(&mut mods, 512, |m| &m.modname);
        for (i, m) in mods.iter_mut().enumerate() {
            m.idx = i;
        }
        self.mods = mods;
        if self.mods.len() >= usize::from(u16::MAX) {
            let msg = cat(&[b"could not build module array: ", serr(34), b"\n"]);
            return Err(self.log.crit(&msg));
        }
        Ok(())
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

    fn sort_by_order(&mut self) {
        let Some(data) = self.open_input(b"modules.order") else {
            return;
        };
        let data = data.unwrap_or_default();
        let by_uncrel: HashMap<&[u8], usize> = self
            .mods
            .iter()
            .enumerate()
            .filter_map(|(i, m)| m.uncrelpath.as_deref().map(|u| (u, i)))
            .collect();
        let mut assign: Vec<(usize, i64)> = Vec::new();
        let mut assigned = vec![false; self.mods.len()];
        let mut next = -(self.mods.len() as i64);
        let mut corrupted = None;
        for (n, line) in fgets_chunks(&data, PATH_MAX).into_iter().enumerate() {
            if line.is_empty() {
                continue;
            }
            let Some(line) = line.strip_suffix(b"\n") else {
                corrupted = Some(n + 1);
                break;
            };
            if let Some(&i) = by_uncrel.get(line) {
                if !assigned[i] {
                    assigned[i] = true;
                    assign.push((i, next));
                    next += 1;
                }
            }
        }
        for (i, s) in assign {
            self.mods[i].sort_idx = s;
        }
        if let Some(n) = corrupted {
            let msg = cat(&[
                &self.dirname,
                b"/modules.order:",
                n.to_string().as_bytes(),
                b" corrupted line misses '\\n'\n",
            ]);
            self.log.err(&msg);
            return;
        }
        if self.mods.len() > 1 {
            // glibc's qsort is a stable merge sort for arrays this size.
            self.mods.sort_by_key(|m| m.sort_idx);
            for (i, m) in self.mods.iter_mut().enumerate() {
                m.idx = i;
            }
        }
    }

    // ---- reading modules ----------------------------------------------

    /// Reads every module's facts, taking unchanged files from the
    /// metadata cache when one is given (and writing it back). Returns the
    /// facts and, if the cache could not be saved, why.
    fn read_all_facts(&self) -> (Vec<ModuleFacts>, Option<String>) {
        let all: Vec<&[u8]> = self.mods.iter().map(|m| &m.path[..]).collect();
        let Some(cache_path) = &self.opts.cache else {
            return (self.read_facts(&all), None);
        };
        let old = cache::MetadataCache::load(cache_path);
        let keys: Vec<Option<cache::CacheKey>> =
            all.iter().map(|p| cache::CacheKey::of(os(p))).collect();
        let mut facts: Vec<Option<ModuleFacts>> = keys
            .iter()
            .map(|k| k.as_ref().and_then(|k| old.get(k)).cloned())
            .collect();
        let missing: Vec<usize> = (0..all.len()).filter(|&i| facts[i].is_none()).collect();
        let unchanged = missing.is_empty() && old.len() == all.len();
        let read = self.read_facts(&missing.iter().map(|&i| all[i]).collect::<Vec<_>>());
        for (i, f) in missing.into_iter().zip(read) {
            facts[i] = Some(f);
        }
        let facts: Vec<ModuleFacts> = facts
            .into_iter()
            .zip(&all)
            .map(|(f, p)| f.unwrap_or_else(|| ModuleFacts::read(os(p))))
            .collect();
        if unchanged {
            // every module was a hit and none was removed: the file is current
            return (facts, None);
        }
        // The new cache holds exactly the modules of this run: entries of
        // deleted or changed files are dropped.
        let mut new = cache::MetadataCache::default();
        for (k, f) in keys.into_iter().zip(&facts) {
            if let Some(k) = k {
                new.insert(k, f.clone());
            }
        }
        let err = new
            .save(cache_path)
            .err()
            .map(|e| format!("could not write cache {}: {e}", cache_path.display()));
        (facts, err)
    }

    fn read_facts(&self, paths: &[&[u8]]) -> Vec<ModuleFacts> {
        let threads = match self.opts.threads {
            0 => std::thread::available_parallelism().map_or(1, |n| n.get()),
            n => n,
        }
        .min(paths.len())
        .max(1);
        if threads == 1 {
            return paths.iter().map(|p| ModuleFacts::read(os(p))).collect();
        }
        let next = AtomicUsize::new(0);
        let results: Mutex<Vec<Option<ModuleFacts>>> = Mutex::new(vec![None; paths.len()]);
        std::thread::scope(|s| {
            for _ in 0..threads {
                s.spawn(|| {
                    let mut local = Vec::new();
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some(p) = paths.get(i) else { break };
                        local.push((i, ModuleFacts::read(os(p))));
                        if local.len() >= 32 {
                            let mut r = results.lock().unwrap_or_else(|e| e.into_inner());
                            for (i, f) in local.drain(..) {
                                r[i] = Some(f);
                            }
                        }
                    }
                    let mut r = results.lock().unwrap_or_else(|e| e.into_inner());
                    for (i, f) in local {
                        r[i] = Some(f);
                    }
                });
            }
        });
        results
            .into_inner()
            .unwrap_or_else(|e| e.into_inner())
            .into_iter()
            .zip(paths)
            .map(|(f, p)| f.unwrap_or_else(|| ModuleFacts::read(os(p))))
            .collect()
    }

    fn load_modules(&mut self) {
        let (facts, cache_error) = self.read_all_facts();
        if let Some(e) = cache_error {
            self.log.warn(format!("{e}\n").as_bytes());
        }
        for (i, f) in facts.into_iter().enumerate() {
            let load_log = f.load_log.as_ref().map(|s| cat(&[s.as_bytes(), b"\n"]));
            if let Some(l) = &load_log {
                self.log.err(l);
            }
            match f.symbols {
                Ok(list) => {
                    for s in list {
                        self.symbol_add(s.name.as_bytes(), false, s.crc, Some(i));
                    }
                }
                Err(e) if e == errno::ENODATA => {}
                Err(e) => {
                    let msg = cat(&[
                        b"failed to load symbols from ",
                        &self.mods[i].path,
                        b": ",
                        serr(e),
                        b"\n",
                    ]);
                    self.log.err(&msg);
                }
            }
            if let Some(l) = &load_log {
                self.log.err(l);
            }
            let m = &mut self.mods[i];
            if let Ok(info) = f.modinfo {
                for s in info {
                    let (key, value) = match s.iter().position(|&b| b == b'=') {
                        Some(eq) => (&s[..eq], &s[eq + 1..]),
                        None => (&s[..], &b""[..]),
                    };
                    match key {
                        b"alias" => m.aliases.push(value.to_vec()),
                        b"softdep" => m.softdeps.push(value.to_vec()),
                        b"weakdep" => m.weakdeps.push(value.to_vec()),
                        _ => {}
                    }
                }
            }
            if let Some(l) = &load_log {
                self.log.err(l);
            }
            if let Ok(d) = f.dependency_symbols {
                self.mods[i].dep_syms = d;
            }
        }
    }

    fn load_dependencies(&mut self, print_unknown: bool) {
        let check_symvers = self.opts.symvers.is_some();
        for i in 0..self.mods.len() {
            let dep_syms = std::mem::take(&mut self.mods[i].dep_syms);
            for ds in &dep_syms {
                let name = ds.name.as_bytes();
                let is_weak = ds.bind == SymbolBind::Weak;
                let Some(sym) = self.symbol_find(name) else {
                    if print_unknown && !is_weak {
                        let msg =
                            cat(&[&self.mods[i].path, b" needs unknown symbol ", name, b"\n"]);
                        self.log.warn(&msg);
                    }
                    continue;
                };
                let (owner, crc) = (sym.owner, sym.crc);
                if check_symvers && crc != ds.crc && !is_weak && print_unknown {
                    let msg = cat(&[
                        &self.mods[i].path,
                        b" disagrees about version of symbol ",
                        name,
                        b"\n",
                    ]);
                    self.log.warn(&msg);
                }
                let Some(owner) = owner else { continue };
                if self.mods[i].deps.contains(&owner) {
                    continue;
                }
                self.mods[i].deps.push(owner);
                self.mods[owner].users += 1;
                if self.log.verbose > DEFAULT_VERBOSE {
                    let stored = self.stored_symbol_name(name);
                    let msg = cat(&[
                        &self.mods[i].path,
                        b" needs \"",
                        &stored,
                        b"\": ",
                        &self.mods[owner].path,
                        b"\n",
                    ]);
                    self.log.show(&msg);
                }
            }
        }
    }

    /// The name a needed symbol is stored under (after `.` and the prefix).
    fn stored_symbol_name(&self, name: &[u8]) -> Vec<u8> {
        let mut name = name;
        if let Some(rest) = name.strip_prefix(b".") {
            name = rest;
        }
        if !name.is_empty() && name[0] == self.opts.sym_prefix {
            name = &name[1..];
        }
        name.to_vec()
    }

    /// Topological sort (kmod's `depmod_calculate_dependencies`); reports
    /// cycles and returns `false` if there are any.
    fn calculate_dependencies(&mut self) -> R<bool> {
        let n = self.mods.len();
        let mut users: Vec<u32> = self.mods.iter().map(|m| m.users).collect();
        let mut roots: Vec<usize> = (0..n).filter(|&i| users[i] == 0).collect();
        let mut n_sorted = 0i64;
        while let Some(src) = roots.pop() {
            self.mods[src].dep_sort_idx = n_sorted;
            n_sorted += 1;
            for k in 0..self.mods[src].deps.len() {
                let dst = self.mods[src].deps[k];
                users[dst] -= 1;
                if users[dst] == 0 {
                    roots.push(dst);
                }
            }
        }
        if (n_sorted as usize) < n {
            self.report_cycles(&users)?;
            return Ok(false);
        }
        for i in 0..n {
            if self.mods[i].deps.len() > 1 {
                let mut deps = std::mem::take(&mut self.mods[i].deps);
                deps.sort_by_key(|&d| self.mods[d].dep_sort_idx);
                self.mods[i].deps = deps;
            }
        }
        Ok(true)
    }

    fn report_cycles(&mut self, users: &[u32]) -> R<()> {
        let mut roots: Vec<usize> = (0..self.mods.len()).filter(|&i| users[i] > 0).collect();
        let stack_size = roots.len();
        let mut loop_set: HashSet<Vec<u8>> = HashSet::new();
        while !roots.is_empty() {
            let root = roots.remove(0);
            self.report_cycles_from_root(root, &mut roots, stack_size, &mut loop_set)?;
        }
        let msg = format!("Found {} modules in dependency cycles!\n", loop_set.len());
        self.log.err(msg.as_bytes());
        Ok(())
    }

    fn report_cycles_from_root(
        &mut self,
        root: usize,
        roots: &mut Vec<usize>,
        stack_size: usize,
        loop_set: &mut HashSet<Vec<u8>>,
    ) -> R<()> {
        fn remove(roots: &mut Vec<usize>, m: usize) {
            if let Some(p) = roots.iter().position(|&r| r == m) {
                roots.remove(p);
            }
        }
        // Vertices: (module, parent vertex).
        let mut vertices: Vec<(usize, Option<usize>)> = vec![(root, None)];
        let mut stack = vec![0usize];
        let mut steps: u64 = 0;
        while let Some(v) = stack.pop() {
            steps += 1;
            let m = vertices[v].0;
            if self.mods[m].visited && m == root {
                let mut chain = Vec::new();
                let mut p = vertices[v].1;
                while let Some(pv) = p {
                    chain.push(vertices[pv].0);
                    loop_set.insert(self.mods[vertices[pv].0].modname.clone());
                    p = vertices[pv].1;
                }
                let mut buf = Vec::new();
                for &c in chain.iter().rev() {
                    buf.extend_from_slice(&self.mods[c].modname);
                    buf.extend_from_slice(b" -> ");
                    remove(roots, c);
                }
                buf.extend_from_slice(&self.mods[m].modname);
                let msg = cat(&[b"Cycle detected: ", &buf, b"\n"]);
                self.log.err(&msg);
                continue;
            }
            self.mods[m].visited = true;
            if self.mods[m].deps.is_empty() {
                remove(roots, m);
                continue;
            }
            for k in 0..self.mods[m].deps.len() {
                let dep = self.mods[m].deps[k];
                if stack.len() >= stack_size {
                    self.log.rep.abort(
                        b"../tools/depmod.c:1912: depmod_report_cycles_from_root: \
                          Assertion `is < stack_size' failed.\n",
                    );
                    return Err(Fatal);
                }
                if steps > 10_000_000 {
                    // A cycle reachable from the root but not through it:
                    // kmod walks it forever (until memory runs out).
                    return Err(self
                        .log
                        .crit(b"dependency cycles not through the reported module: giving up\n"));
                }
                vertices.push((dep, Some(v)));
                stack.push(vertices.len() - 1);
            }
        }
        Ok(())
    }

    // ---- -A -------------------------------------------------------------

    /// kmod's `depfile_up_to_date`: 1 if `modules.dep` is at least as new
    /// as every module, 0 if not, negative on errors.
    fn up_to_date(&mut self) -> i32 {
        let dirname = self.dirname.clone();
        let entries = match std::fs::read_dir(os(&dirname)) {
            Ok(e) => e,
            Err(e) => {
                let msg = cat(&[
                    b"could not open directory ",
                    &dirname,
                    b": ",
                    serr(errno_of(&e)),
                    b"\n",
                ]);
                self.log.err(&msg);
                return -1;
            }
        };
        let dep = cat(&[&dirname, b"/modules.dep"]);
        let mtime = match std::fs::metadata(os(&dep)) {
            Ok(m) => m.mtime(),
            Err(e) => {
                let msg = cat(&[
                    b"could not fstatat(",
                    &dirname,
                    b", modules.dep): ",
                    serr(errno_of(&e)),
                    b"\n",
                ]);
                self.log.err(&msg);
                return -1;
            }
        };
        // kmod walks with a fixed C buffer whose stale tail shows in one
        // message; it is reproduced as such.
        let mut path = vec![0u8; PATH_MAX + 1];
        let base = dirname.len().min(PATH_MAX - 1);
        path[..base].copy_from_slice(&dirname[..base]);
        path[base] = b'/';
        self.up_to_date_dir(entries, mtime, base + 1, &mut path, 3)
    }

    fn up_to_date_dir(
        &mut self,
        entries: std::fs::ReadDir,
        mtime: i64,
        baselen: usize,
        path: &mut [u8],
        fd: usize,
    ) -> i32 {
        fn cstr(b: &[u8]) -> &[u8] {
            match b.iter().position(|&c| c == 0) {
                Some(n) => &b[..n],
                None => b,
            }
        }
        let mut err = 1;
        for entry in entries.flatten() {
            let name = entry.file_name();
            let name = name.as_bytes();
            if name == b"build" || name == b"source" {
                continue;
            }
            let namelen = name.len();
            if baselen + namelen + 2 >= PATH_MAX {
                path[baselen] = 0;
                let msg = cat(&[b"path is too long ", cstr(path), name, b"\n"]);
                self.log.err(&msg);
                continue;
            }
            let full = cat(&[&path[..baselen], name]);
            let st = match std::fs::metadata(os(&full)) {
                Ok(m) => m,
                Err(e) => {
                    let msg = cat(&[
                        b"fstatat(",
                        fd.to_string().as_bytes(),
                        b", ",
                        name,
                        b"): ",
                        serr(errno_of(&e)),
                        b"\n",
                    ]);
                    self.log.err(&msg);
                    continue;
                }
            };
            if st.is_dir() {
                path[baselen..baselen + namelen].copy_from_slice(name);
                path[baselen + namelen] = 0;
                if baselen + namelen + 2 + 255 >= PATH_MAX {
                    let msg = cat(&[b"directory path is too long ", cstr(path), b"\n"]);
                    self.log.err(&msg);
                    continue;
                }
                let sub = match std::fs::read_dir(os(&full)) {
                    Ok(s) => s,
                    Err(e) => {
                        let msg = cat(&[
                            b"openat(",
                            fd.to_string().as_bytes(),
                            b", ",
                            name,
                            b", O_RDONLY): ",
                            serr(errno_of(&e)),
                            b"\n",
                        ]);
                        self.log.err(&msg);
                        continue;
                    }
                };
                path[baselen + namelen] = b'/';
                path[baselen + namelen + 1] = 0;
                err = self.up_to_date_dir(sub, mtime, baselen + namelen + 1, path, fd + 1);
            } else if st.is_file() {
                if !has_kmod_ext(name) {
                    continue;
                }
                path[baselen..baselen + namelen].copy_from_slice(name);
                path[baselen + namelen] = 0;
                err = i32::from(st.mtime() <= mtime);
            } else {
                let msg = cat(&[
                    b"unsupported file type ",
                    cstr(path),
                    b": ",
                    format!("{:o}", st.mode() & 0o170000).as_bytes(),
                    b"\n",
                ]);
                self.log.err(&msg);
                continue;
            }
            if err == 0 {
                break;
            }
        }
        err
    }
}

/// Reads a whole file as `fopen` + `fgets` would see it: open errors are
/// errors, read errors (a directory) give no data.
fn read_stream(path: &[u8]) -> Result<Vec<u8>, Errno> {
    let mut f = std::fs::File::open(os(path)).map_err(|e| errno_of(&e))?;
    let mut data = Vec::new();
    let _ = std::io::Read::read_to_end(&mut f, &mut data);
    Ok(data)
}

/// `strtoull(s, &end, 16)` where the whole token must be converted
/// (`*end == '\0'`), as depmod checks a `Module.symvers` CRC.
fn strtoull_hex(s: &[u8]) -> Option<u64> {
    let p = crate::compat::strtol::strtoul(s, 16);
    (p.end != 0 && p.end == s.len()).then_some(p.value)
}

#[cfg(test)]
mod tests;
