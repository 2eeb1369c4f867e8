//! What `modprobe` does with a module directory, its configuration and the
//! running kernel: resolving a name, alias or symbol to modules, listing
//! what loading one takes (dependencies, softdeps, install commands,
//! options), loading that list, and the facts removal needs (holders,
//! usage counts, remove commands).
//!
//! A [`Context`] is libkmod's `kmod_ctx` with its module pool: every module
//! is created once per name (or per name and alias), and the algorithms
//! follow libkmod 34 step by step so that the order of what is printed and
//! loaded, duplicates included, is kmod's:
//!
//! - lookup order: `alias` lines of the configuration (`fnmatch`),
//!   `modules.dep.bin`, `modules.symbols.bin` (for `symbol:` names),
//!   `install`/`remove` lines naming the module, `modules.alias.bin`,
//!   `modules.builtin.bin`, `modules.builtin.alias.bin`; the first source
//!   with a match wins;
//! - the probe list: for the module and each of its `modules.dep`
//!   dependencies (in kmod's order, last listed first), its softdeps' pre
//!   modules (recursively, each with its own dependencies), itself, then
//!   its softdeps' post modules.
//!
//! ```no_run
//! use modkit::config::{read_kernel_cmdline, ModprobeConfig};
//! use modkit::probe::{Context, ProbeFlags, ProbeAction};
//! let dir = std::path::Path::new("/lib/modules/6.12.0-amd64");
//! let cmdline = read_kernel_cmdline();
//! let config = ModprobeConfig::load(dir, None, cmdline.as_deref(), &modkit::kmod::quiet);
//! let mut ctx = Context::new(dir, config, std::rc::Rc::new(modkit::kmod::quiet))?;
//! for m in ctx.lookup("btrfs")? {
//!     let flags = ProbeFlags { dry_run: true, ignore_loaded: true, ..Default::default() };
//!     ctx.probe_insert(m, &flags, None, &mut |a| {
//!         if let ProbeAction::Insert { path, .. } = a { println!("{}", path.display()) }
//!     }).map_err(|e| modkit::Error::new(e, "probe"))?;
//! }
//! # Ok::<(), modkit::Error>(())
//! ```

use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::sync::Arc;

use crate::config::ModprobeConfig;
use crate::error::{errno, errno_of, strerror, Errno, Result};
use crate::kernel::{self, Force};
use crate::kmod::{path_to_modname, string_lossy, Builtin, Level, Logger};
use crate::loaded::{InitState, KernelState};
use crate::resolve::{absolute_from_cwd, normalized_name, ModuleDir};

/// A module of a [`Context`]'s pool.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ModuleId(usize);

struct Entry {
    /// Its name, shared with the pool's key.
    name: Rc<str>,
    alias: Option<String>,
    path: Option<PathBuf>,
    dep_init: bool,
    deps: Vec<ModuleId>,
    builtin: Builtin,
    visited: bool,
    required: bool,
    ignorecmd: bool,
    install_cmd: Option<Option<Vec<u8>>>,
    remove_cmd: Option<Option<Vec<u8>>>,
    options: Option<Option<Vec<u8>>>,
    /// The position of its `softdep` / `weakdep` line, once asked.
    softdep: Option<Option<usize>>,
    weakdep: Option<Option<usize>>,
}

/// How [`Context::probe_insert`] loads.
#[derive(Clone, Debug, Default)]
pub struct ProbeFlags {
    /// Ignore symbol version CRCs (`--force-modversion`, `-f`).
    pub force_modversion: bool,
    /// Ignore the vermagic string (`--force-vermagic`, `-f`).
    pub force_vermagic: bool,
    /// Do not run `install` commands (`-i`).
    pub ignore_command: bool,
    /// Load even what the kernel already has (`-D`).
    pub ignore_loaded: bool,
    /// Decide and report, but load nothing and run nothing (`-n`, `-D`).
    pub dry_run: bool,
    /// Fail with `EEXIST` when the module is already loaded
    /// (`--first-time`).
    pub fail_on_loaded: bool,
    /// Skip a blacklisted module (`-b`).
    pub apply_blacklist: bool,
    /// Skip a blacklisted module only when it was found through an alias
    /// (what `modprobe` always does).
    pub apply_blacklist_alias_only: bool,
    /// Also drop blacklisted dependencies and softdeps from the list.
    pub apply_blacklist_all: bool,
}

/// What [`Context::probe_insert`] does for each module of its list, for
/// `modprobe -v`/`-D` to print.
#[derive(Debug)]
pub enum ProbeAction<'a> {
    /// Runs an `install` command (options as `$CMDLINE_OPTS` gets them).
    Install {
        /// The module.
        name: &'a str,
        /// The command as configured.
        command: &'a [u8],
        /// The options.
        options: &'a [u8],
    },
    /// Loads a module file with options.
    Insert {
        /// The module.
        name: &'a str,
        /// Its file.
        path: &'a Path,
        /// The options.
        options: &'a [u8],
    },
    /// A built-in module: nothing to load.
    Builtin {
        /// The module.
        name: &'a str,
    },
    /// A module without a file that is not built in (it will fail to load).
    Missing {
        /// The module.
        name: &'a str,
    },
}

/// Why a module is in a probe list or a closure.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Why {
    /// It was asked for (by name, alias or symbol).
    Requested,
    /// A `modules.dep` dependency of the module before it that pulled it
    /// in.
    Dependency,
    /// A `softdep ... pre:` module (loaded before the module naming it).
    PreSoftdep,
    /// A `softdep ... post:` module (loaded after the module naming it).
    PostSoftdep,
    /// A `weakdep` module: not loaded by modprobe, but one the module may
    /// ask for at run time (initramfs builders include them).
    Weakdep,
}

impl Why {
    /// The word used in modkit's JSON outputs: `requested`, `dep`,
    /// `pre-softdep`, `post-softdep`, `weakdep`.
    pub fn as_str(self) -> &'static str {
        match self {
            Why::Requested => "requested",
            Why::Dependency => "dep",
            Why::PreSoftdep => "pre-softdep",
            Why::PostSoftdep => "post-softdep",
            Why::Weakdep => "weakdep",
        }
    }
}

/// How a probe ended without error.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProbeOutcome {
    /// Loaded (or already there, or a dry run).
    Done,
    /// Not loaded: blacklisted.
    Blacklisted,
}

/// A module directory, its configuration and the running kernel, with
/// libkmod's module pool.
pub struct Context {
    dir: Arc<ModuleDir>,
    pool: Pool,
}

/// Everything a [`Context`] keeps apart from its module directory: the
/// module pool and what was already answered. (Kept apart so that answers
/// borrowed from the directory's indexes go into the pool without being
/// copied first.)
struct Pool {
    kernel: KernelState,
    entries: Vec<Entry>,
    /// Module name (or `name\alias`) → module.
    by_key: foldhash::HashMap<Rc<str>, ModuleId>,
    /// Whether each module file asked about exists (the `stat` libkmod
    /// repeats for every dependency edge, done once per file here).
    exists: foldhash::HashMap<OsString, std::result::Result<(), Errno>>,
    /// Module files already turned into modules of the pool.
    /// (Keyed by the bytes: `Path`'s own hash walks its components.)
    path_ids: foldhash::HashMap<OsString, ModuleId>,
    /// Dependency paths as `modules.dep` writes them (relative to the
    /// module directory) already turned into modules: the same answer as
    /// [`Pool::module_from_path`] on the joined path, without joining.
    dep_ids: foldhash::HashMap<Box<str>, ModuleId>,
    /// The list the last [`Context::probe_insert`] walked, with reasons.
    last_plan: Vec<(ModuleId, Why)>,
    /// Lookups of softdep and weakdep names already answered (the same
    /// names are looked up for every module naming them): what
    /// [`Context::lookup`] gave, kept only when it had nothing left to do
    /// or report on a second call.
    lookups: foldhash::HashMap<String, Vec<ModuleId>>,
    /// The modules whose `visited` or `required` flag is set: what the
    /// next probe list clears (libkmod clears the flags of every module of
    /// the pool, which makes a batch quadratic).
    marked: Vec<ModuleId>,
    /// Scratch space: a dependency's path being joined, a pool key, a
    /// module's options being assembled.
    path_buf: Vec<u8>,
    key_buf: String,
    options_buf: Vec<u8>,
    log: Rc<dyn Logger>,
}

fn lossy(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// Appends `path` joined to `dir` to `buf`, as `Path::join` joins them (an
/// absolute `path` replaces `dir`).
fn join_into(buf: &mut Vec<u8>, dir: &Path, path: &str) {
    if !path.starts_with('/') {
        buf.extend_from_slice(dir.as_os_str().as_bytes());
        if buf.last().is_some_and(|&c| c != b'/') {
            buf.push(b'/');
        }
    }
    buf.extend_from_slice(path.as_bytes());
}

/// The words of `text` between blanks (spaces and tabs), as `strtok`
/// with `" \t"` splits a `modules.dep` line.
fn words(text: &str) -> impl Iterator<Item = &str> {
    let ends = memchr::memchr2_iter(b' ', b'\t', text.as_bytes()).chain([text.len()]);
    let mut start = 0;
    ends.filter_map(move |end| {
        // blanks are ASCII: both ends are character boundaries
        let word = text.get(start..end);
        start = end + 1;
        word.filter(|w| !w.is_empty())
    })
}

/// Which names of a configuration line [`Context::lookup_names`] resolves.
#[derive(Clone, Copy)]
enum DepNames {
    Pre(usize),
    Post(usize),
    Weak(usize),
}

impl DepNames {
    fn of(self, config: &ModprobeConfig) -> &[Vec<u8>] {
        let list = match self {
            DepNames::Pre(i) => config.softdeps.get(i).map(|s| &s.pre),
            DepNames::Post(i) => config.softdeps.get(i).map(|s| &s.post),
            DepNames::Weak(i) => config.weakdeps.get(i).map(|w| &w.weak),
        };
        list.map_or(&[], Vec::as_slice)
    }
}

impl Pool {
    fn new(log: Rc<dyn Logger>) -> Pool {
        Pool {
            kernel: KernelState::new(),
            entries: Vec::new(),
            by_key: Default::default(),
            exists: Default::default(),
            path_ids: Default::default(),
            dep_ids: Default::default(),
            last_plan: Vec::new(),
            lookups: Default::default(),
            marked: Vec::new(),
            path_buf: Vec::new(),
            key_buf: String::new(),
            options_buf: Vec::new(),
            log,
        }
    }

    fn err(&self, msg: &str) {
        self.log.log(Level::Err, "", msg.as_bytes());
    }

    fn e(&self, id: ModuleId) -> &Entry {
        &self.entries[id.0]
    }

    fn em(&mut self, id: ModuleId) -> &mut Entry {
        &mut self.entries[id.0]
    }

    /// The module of pool key `key`, created with `name` and `alias` when
    /// new (nothing is copied when it is already there).
    fn pooled(&mut self, key: &str, name: &str, alias: Option<&str>) -> ModuleId {
        if let Some(&id) = self.by_key.get(key) {
            return id;
        }
        let id = ModuleId(self.entries.len());
        let name: Rc<str> = Rc::from(name);
        let key = if alias.is_none() && *name == *key {
            Rc::clone(&name)
        } else {
            Rc::from(key)
        };
        self.entries.push(Entry {
            name,
            alias: alias.map(str::to_string),
            path: None,
            dep_init: false,
            deps: Vec::new(),
            builtin: Builtin::Unknown,
            visited: false,
            required: false,
            ignorecmd: false,
            install_cmd: None,
            remove_cmd: None,
            options: None,
            softdep: None,
            weakdep: None,
        });
        self.by_key.insert(key, id);
        id
    }

    fn module_from_name(&mut self, name: &str) -> ModuleId {
        let name = normalized_name(name);
        self.pooled(&name, &name, None)
    }

    fn module_from_alias(&mut self, alias: &str, name: &str) -> ModuleId {
        let mut key = std::mem::take(&mut self.key_buf);
        key.clear();
        key.push_str(name);
        key.push('\\');
        key.push_str(alias);
        let id = self.pooled(&key, name, Some(alias));
        self.key_buf = key;
        id
    }

    fn module_from_path(&mut self, path: &Path) -> std::result::Result<ModuleId, Errno> {
        self.module_from_file(path, true)
    }

    /// [`Pool::module_from_path`]; what it found about the file is kept
    /// for the next call with the same path only with `remember` (a
    /// dependency's file is remembered by its `modules.dep` text instead:
    /// [`Pool::set_depline`]) — the answers are the same either way.
    fn module_from_file(
        &mut self,
        path: &Path,
        remember: bool,
    ) -> std::result::Result<ModuleId, Errno> {
        if let Some(&id) = self.path_ids.get(path.as_os_str()) {
            // the same file again: the same answer (a module's path, once
            // set, never changes)
            self.em(id).builtin = Builtin::No;
            return Ok(id);
        }
        let abs = absolute_from_cwd(path).map_err(|e| e.errno())?;
        match self.exists.get(abs.as_os_str()) {
            Some(known) => (*known)?,
            None => {
                let known = std::fs::metadata(&abs).map(drop).map_err(|e| errno_of(&e));
                // a file that exists is known by the module it becomes
                // (unless asked for by another spelling of its path)
                if known.is_err() || (remember && abs.as_path() != path) {
                    self.exists.insert(abs.clone().into_os_string(), known);
                }
                known?;
            }
        }
        let name = path_to_modname(path.as_os_str().as_bytes())
            .map(string_lossy)
            .ok_or(errno::ENOENT)?;
        let id = self.pooled(&name, &name, None);
        match &self.e(id).path {
            None => self.em(id).path = Some(abs),
            Some(old) if *old == abs => {}
            Some(old) => {
                let msg = format!(
                    "kmod_module '{name}' already exists with different path: new-path='{}' old-path='{}'\n",
                    abs.display(),
                    old.display()
                );
                self.err(&msg);
                return Err(errno::EEXIST);
            }
        }
        self.em(id).builtin = Builtin::No;
        if remember {
            self.path_ids.insert(path.as_os_str().to_os_string(), id);
        }
        Ok(id)
    }

    /// Records a module's `modules.dep` line (`path: dependencies...`,
    /// relative to `dirname`), as libkmod's `kmod_module_parse_depline`:
    /// its file (unless it has one) and its dependencies in reverse order.
    /// A dependency file that cannot be found is reported and leaves the
    /// module's dependencies unset (tried again when next asked for).
    fn set_depline(&mut self, dirname: &Path, id: ModuleId, line: &str) {
        if self.e(id).dep_init {
            return;
        }
        let (path, deps) = match line.split_once(':') {
            Some((path, deps)) => (Some(path), deps),
            None => (None, ""),
        };
        self.em(id).dep_init = true;
        if let (None, Some(path)) = (&self.e(id).path, path) {
            let mut joined = Vec::with_capacity(dirname.as_os_str().len() + 1 + path.len());
            join_into(&mut joined, dirname, path);
            self.em(id).path = Some(PathBuf::from(OsString::from_vec(joined)));
        }
        let mut list = Vec::with_capacity(words(deps).count());
        let mut buf = std::mem::take(&mut self.path_buf);
        for dep in words(deps) {
            if let Some(&d) = self.dep_ids.get(dep) {
                self.em(d).builtin = Builtin::No;
                list.push(d);
                continue;
            }
            buf.clear();
            join_into(&mut buf, dirname, dep);
            let p = Path::new(OsStr::from_bytes(&buf));
            match self.module_from_file(p, false) {
                Ok(d) => {
                    self.dep_ids.insert(Box::from(dep), d);
                    list.push(d);
                }
                Err(e) => {
                    let msg = format!("ctx=(modkit) path={} error={}\n", p.display(), strerror(e));
                    self.err(&msg);
                    self.em(id).dep_init = false;
                    self.path_buf = buf;
                    return;
                }
            }
        }
        self.path_buf = buf;
        list.reverse();
        self.em(id).deps = list;
    }

    fn set_visited(&mut self, id: ModuleId) {
        let e = &mut self.entries[id.0];
        if !e.visited && !e.required {
            self.marked.push(id);
        }
        e.visited = true;
    }

    fn set_required(&mut self, id: ModuleId) {
        let e = &mut self.entries[id.0];
        if !e.visited && !e.required {
            self.marked.push(id);
        }
        e.required = true;
    }

    fn clear_marks(&mut self) {
        for id in self.marked.drain(..) {
            let e = &mut self.entries[id.0];
            e.visited = false;
            e.required = false;
        }
    }
}

impl Context {
    /// A context for module directory `moddir` (made absolute against the
    /// working directory) with configuration `config` (see
    /// [`ModprobeConfig::load`]). Problems found later (a dependency that
    /// cannot be found, an install command failing...) are reported
    /// through `log` in libkmod's words.
    pub fn new(moddir: &Path, config: ModprobeConfig, log: Rc<dyn Logger>) -> Result<Context> {
        let mut dir = ModuleDir::new(moddir)?;
        dir.set_config(config);
        Ok(Context::with_module_dir(Arc::new(dir), log))
    }

    /// A context over a module directory shared with other contexts
    /// (each thread its own context, one [`ModuleDir`] for all; its
    /// configuration is the one set on it). Nothing is read yet.
    pub fn with_module_dir(dir: Arc<ModuleDir>, log: Rc<dyn Logger>) -> Context {
        Context {
            dir,
            pool: Pool::new(log),
        }
    }

    /// Reads the kernel's module state under `root` instead of `/`
    /// (`root/sys/module/...`), for tests and foreign systems.
    pub fn set_kernel_state(&mut self, kernel: KernelState) {
        self.pool.kernel = kernel;
    }

    /// The module directory.
    pub fn dirname(&self) -> &Path {
        self.dir.dirname()
    }

    /// The configuration read.
    pub fn config(&self) -> &ModprobeConfig {
        self.dir.config()
    }

    /// The module directory's indexes.
    pub fn module_dir(&self) -> &ModuleDir {
        &self.dir
    }

    fn err(&mut self, msg: &str) {
        self.pool.err(msg);
    }

    fn e(&self, id: ModuleId) -> &Entry {
        self.pool.e(id)
    }

    fn em(&mut self, id: ModuleId) -> &mut Entry {
        self.pool.em(id)
    }

    /// The module's name.
    pub fn name(&self, id: ModuleId) -> &str {
        &self.e(id).name
    }

    /// The alias the module was found through, if any.
    pub fn alias(&self, id: ModuleId) -> Option<&str> {
        self.e(id).alias.as_deref()
    }

    /// The module named `name` (`-` read as `_`, cut at the first `.`).
    pub fn module_from_name(&mut self, name: &str) -> ModuleId {
        self.pool.module_from_name(name)
    }

    /// The module in file `path` (never built in). Its name comes from the
    /// file name; `EEXIST` when a module of that name already has another
    /// file, the stat error when the file is not there.
    pub fn module_from_path(&mut self, path: &Path) -> std::result::Result<ModuleId, Errno> {
        self.pool.module_from_path(path)
    }

    fn resolve_deps(&mut self, id: ModuleId) {
        if self.e(id).dep_init {
            return;
        }
        let (dir, pool) = (&*self.dir, &mut self.pool);
        if let Some(line) = dir.moddep_line(&pool.e(id).name) {
            // a line without a file (no `:`) leaves the module unresolved
            if line.contains(':') {
                pool.set_depline(dir.dirname(), id, &line);
            }
        }
    }

    /// The module's `modules.dep` dependencies, in kmod's order (the last
    /// one listed first).
    pub fn dependencies(&mut self, id: ModuleId) -> Vec<ModuleId> {
        self.resolve_deps(id);
        self.e(id).deps.clone()
    }

    /// The module's file: given, or from `modules.dep`. `None` for
    /// built-in modules and names `modules.dep` does not list.
    pub fn path(&mut self, id: ModuleId) -> Option<PathBuf> {
        self.path_ref(id).map(Path::to_path_buf)
    }

    fn path_ref(&mut self, id: ModuleId) -> Option<&Path> {
        if self.e(id).path.is_none() && !self.e(id).dep_init {
            self.resolve_deps(id);
        }
        self.e(id).path.as_deref()
    }

    /// Whether the module is built into the kernel (`modules.builtin.bin`).
    pub fn is_builtin(&mut self, id: ModuleId) -> bool {
        if self.e(id).builtin == Builtin::Unknown {
            let b = self.dir.is_builtin_name(&self.pool.e(id).name);
            self.em(id).builtin = if b { Builtin::Yes } else { Builtin::No };
        }
        self.e(id).builtin == Builtin::Yes
    }

    /// The module's state in the running kernel: built in, or
    /// `/sys/module/NAME/initstate` (`Coming` when the directory exists
    /// without it). The errno when the module is not loaded.
    pub fn initstate(&mut self, id: ModuleId) -> std::result::Result<InitState, Errno> {
        if self.is_builtin(id) {
            return Ok(InitState::Builtin);
        }
        let pool = &self.pool;
        match pool.kernel.initstate(&*pool.e(id).name) {
            Ok(s) => Ok(s),
            Err(e) => {
                if e.errno() == errno::EINVAL {
                    self.err(&format!("{}\n", e.detail()));
                }
                Err(e.errno())
            }
        }
    }

    /// `true` when the module is live or built in.
    pub fn is_in_kernel(&mut self, id: ModuleId) -> bool {
        matches!(
            self.initstate(id),
            Ok(InitState::Live) | Ok(InitState::Builtin)
        )
    }

    /// The module's usage count (`/sys/module/NAME/refcnt`), or the errno.
    pub fn refcnt(&mut self, id: ModuleId) -> std::result::Result<i32, Errno> {
        let pool = &self.pool;
        match pool.kernel.refcnt(&*pool.e(id).name) {
            Ok(n) => Ok(n),
            Err(e) => {
                if e.errno() == errno::EINVAL {
                    self.err(&format!("{}\n", e.detail()));
                }
                Err(e.errno())
            }
        }
    }

    /// The modules holding this one (`/sys/module/NAME/holders/`, in
    /// directory order); `None`, reported, when that cannot be read.
    pub fn holders(&mut self, id: ModuleId) -> Option<Vec<ModuleId>> {
        let pool = &self.pool;
        match pool.kernel.holders(&*pool.e(id).name) {
            Ok(names) => Some(names.iter().map(|n| self.module_from_name(n)).collect()),
            Err(e) => {
                self.err(&format!("{}\n", e.detail()));
                None
            }
        }
    }

    /// Resolves what the user asked for (a name, an alias, `symbol:NAME`)
    /// to modules of the pool, through [`ModuleDir::lookup`] with this
    /// context's configuration (libkmod's sources and order). Empty when
    /// nothing matches; `EINVAL` for an alias with unbalanced brackets.
    pub fn lookup(&mut self, given: &str) -> Result<Vec<ModuleId>> {
        self.lookup_kept(given, false)
    }

    /// [`Context::lookup`]; the answer is kept for the next time with
    /// `keep` (for the names of softdep and weakdep lines, asked for again
    /// by every module naming them; a second lookup of the same name
    /// finds the same modules anyway).
    fn lookup_kept(&mut self, given: &str, keep: bool) -> Result<Vec<ModuleId>> {
        if let Some(ids) = self.pool.lookups.get(given) {
            return Ok(ids.clone());
        }
        let (dir, pool) = (&*self.dir, &mut self.pool);
        let mut out = Vec::with_capacity(1);
        let mut settled = true;
        dir.lookup_each(given, &mut |f| {
            let id = match &f.alias {
                Some(alias) => pool.module_from_alias(alias, &f.name),
                None => pool.module_from_name(&f.name),
            };
            if f.builtin == Builtin::Yes {
                pool.em(id).builtin = Builtin::Yes;
            }
            if let Some(line) = &f.depline {
                if !pool.e(id).dep_init {
                    pool.set_depline(dir.dirname(), id, line);
                    // a dependency file missing: tried (and reported)
                    // again next time, as libkmod does
                    settled &= pool.e(id).dep_init;
                }
            }
            out.push(id);
        })?;
        if keep && settled {
            pool.lookups.insert(given.to_string(), out.clone());
        }
        Ok(out)
    }

    /// The options configured for the module (`options` lines naming it or
    /// the alias it was found through, then the kernel command line's),
    /// joined with spaces; `None` when there are none.
    pub fn options(&mut self, id: ModuleId) -> Option<Vec<u8>> {
        self.options_ref(id).map(<[u8]>::to_vec)
    }

    fn options_ref(&mut self, id: ModuleId) -> Option<&[u8]> {
        if self.e(id).options.is_none() {
            let e = self.pool.e(id);
            let mut opts: Option<Vec<u8>> = None;
            let lines = self.dir.config_lookup().options(
                self.dir.config(),
                e.name.as_bytes(),
                e.alias.as_deref().map(str::as_bytes),
            );
            for o in lines {
                if o.text.is_empty() {
                    continue;
                }
                match &mut opts {
                    Some(v) => {
                        v.push(b' ');
                        v.extend_from_slice(&o.text);
                    }
                    None => opts = Some(o.text.clone()),
                }
            }
            self.em(id).options = Some(opts);
        }
        self.e(id).options.as_ref().and_then(Option::as_deref)
    }

    /// The first `install` (or `remove`) line whose pattern matches the
    /// module name: its command.
    fn first_command(&self, id: ModuleId, install: bool) -> Option<Vec<u8>> {
        let name = self.e(id).name.as_bytes();
        self.dir
            .config_lookup()
            .command(self.dir.config(), install, name)
            .map(|c| c.text.clone())
    }

    /// The first `install` command whose pattern matches the module name.
    pub fn install_command(&mut self, id: ModuleId) -> Option<Vec<u8>> {
        self.install_command_ref(id).map(<[u8]>::to_vec)
    }

    fn install_command_ref(&mut self, id: ModuleId) -> Option<&[u8]> {
        if self.e(id).install_cmd.is_none() {
            let cmd = self.first_command(id, true);
            self.em(id).install_cmd = Some(cmd);
        }
        self.e(id).install_cmd.as_ref().and_then(Option::as_deref)
    }

    /// The first `remove` command whose pattern matches the module name.
    pub fn remove_command(&mut self, id: ModuleId) -> Option<Vec<u8>> {
        if self.e(id).remove_cmd.is_none() {
            let cmd = self.first_command(id, false);
            self.em(id).remove_cmd = Some(cmd);
        }
        self.e(id).remove_cmd.clone().flatten()
    }

    /// Resolves the names of a `softdep` or `weakdep` line by
    /// [`Context::lookup`], reporting those that fail.
    fn lookup_names(&mut self, names: DepNames) -> Vec<ModuleId> {
        let mut out = Vec::new();
        for i in 0..names.of(self.dir.config()).len() {
            let name = String::from_utf8_lossy(&names.of(self.dir.config())[i]);
            if let Some(ids) = self.pool.lookups.get(&*name) {
                out.extend_from_slice(ids);
                continue;
            }
            let name = name.into_owned();
            match self.lookup_kept(&name, true) {
                Ok(found) => out.extend(found),
                Err(_) => {
                    let msg = format!("failed to lookup dependency '{name}', continuing anyway.\n");
                    self.err(&msg);
                }
            }
        }
        out
    }

    /// The position of the first `softdep` line whose pattern matches the
    /// module's name (asked once per module).
    fn softdep_line(&mut self, id: ModuleId) -> Option<usize> {
        if let Some(known) = self.e(id).softdep {
            return known;
        }
        let name = self.pool.e(id).name.as_bytes();
        let line = self
            .dir
            .config_lookup()
            .softdep_position(self.dir.config(), name);
        self.em(id).softdep = Some(line);
        line
    }

    /// The module's softdeps (pre, post) from the first `softdep` line
    /// whose pattern matches its name, each name resolved by
    /// [`Context::lookup`].
    pub fn softdeps(&mut self, id: ModuleId) -> (Vec<ModuleId>, Vec<ModuleId>) {
        let Some(line) = self.softdep_line(id) else {
            return (Vec::new(), Vec::new());
        };
        let pre = self.lookup_names(DepNames::Pre(line));
        let post = self.lookup_names(DepNames::Post(line));
        (pre, post)
    }

    /// The module's weakdeps from the first `weakdep` line whose pattern
    /// matches its name, each resolved by [`Context::lookup`].
    pub fn weakdeps(&mut self, id: ModuleId) -> Vec<ModuleId> {
        let line = match self.e(id).weakdep {
            Some(known) => known,
            None => {
                let name = self.pool.e(id).name.as_bytes();
                let line = self
                    .dir
                    .config_lookup()
                    .weakdep_position(self.dir.config(), name);
                self.em(id).weakdep = Some(line);
                line
            }
        };
        match line {
            Some(line) => self.lookup_names(DepNames::Weak(line)),
            None => Vec::new(),
        }
    }

    fn fill_softdep(&mut self, id: ModuleId, why: Why, list: &mut Vec<(ModuleId, Why)>) {
        let (pre, post) = self.softdeps(id);
        for &m in &pre {
            self.probe_list_of(m, false, false, Why::PreSoftdep, list);
        }
        list.push((id, why));
        self.em(id).ignorecmd = !pre.is_empty() || !post.is_empty();
        for &m in &post {
            self.probe_list_of(m, false, false, Why::PostSoftdep, list);
        }
    }

    fn probe_list_of(
        &mut self,
        id: ModuleId,
        required: bool,
        ignorecmd: bool,
        why: Why,
        list: &mut Vec<(ModuleId, Why)>,
    ) {
        if self.e(id).visited {
            return;
        }
        self.pool.set_visited(id);
        let deps = self.dependencies(id);
        if required {
            self.pool.set_required(id);
            for &d in &deps {
                self.pool.set_required(d);
            }
        }
        for &d in &deps {
            self.fill_softdep(d, Why::Dependency, list);
        }
        if ignorecmd {
            list.push((id, why));
            self.em(id).ignorecmd = true;
        } else {
            self.fill_softdep(id, why, list);
        }
    }

    /// Everything loading the module takes, in loading order (kmod's probe
    /// list; a module may appear more than once, as in kmod).
    pub fn probe_list(&mut self, id: ModuleId, ignore_command: bool) -> Vec<ModuleId> {
        self.probe_list_why(id, ignore_command, Why::Requested)
            .into_iter()
            .map(|(m, _)| m)
            .collect()
    }

    /// [`Context::probe_list`], each module with why it is there: `why`
    /// for `id` itself; [`Why::Dependency`] for a `modules.dep`
    /// dependency of the module that pulled it in, [`Why::PreSoftdep`] /
    /// [`Why::PostSoftdep`] for a softdep's module (its own dependencies
    /// being dependencies again).
    pub fn probe_list_why(
        &mut self,
        id: ModuleId,
        ignore_command: bool,
        why: Why,
    ) -> Vec<(ModuleId, Why)> {
        let mut list = Vec::new();
        self.probe_list_into(id, ignore_command, why, &mut list);
        list
    }

    /// [`Context::probe_list_why`] into `list` (emptied first).
    fn probe_list_into(
        &mut self,
        id: ModuleId,
        ignore_command: bool,
        why: Why,
        list: &mut Vec<(ModuleId, Why)>,
    ) {
        self.pool.clear_marks();
        list.clear();
        self.probe_list_of(id, true, ignore_command, why, list);
    }

    /// The modules the last [`Context::probe_insert`] went through, in
    /// order, each with why it was there (the module itself
    /// [`Why::Requested`]): one per [`ProbeAction`] it reported, unless
    /// it stopped at an error. Empty when it loaded nothing (blacklisted,
    /// already loaded).
    pub fn last_probe_list(&self) -> &[(ModuleId, Why)] {
        &self.pool.last_plan
    }

    fn is_blacklisted(&self, id: ModuleId) -> bool {
        self.dir
            .config_lookup()
            .is_blacklisted(self.pool.e(id).name.as_bytes())
    }

    /// Loads the module with what it needs, as
    /// `kmod_module_probe_insert_module` does: nothing when it is already
    /// in the kernel (`EEXIST` with `fail_on_loaded`), nothing when it is
    /// blacklisted under the flags; otherwise each module of
    /// [`Context::probe_list`] in turn, by its install command or by
    /// loading its file with its configured options (plus
    /// `extra_options` for the module itself). `action` sees each step
    /// before it happens. Errors of softdeps and "already loaded" are
    /// ignored; the first other error ends the loading.
    pub fn probe_insert(
        &mut self,
        id: ModuleId,
        flags: &ProbeFlags,
        extra_options: Option<&[u8]>,
        action: &mut dyn FnMut(ProbeAction<'_>),
    ) -> std::result::Result<ProbeOutcome, Errno> {
        self.pool.last_plan.clear();
        if !flags.ignore_loaded && self.is_in_kernel(id) {
            return if flags.fail_on_loaded {
                Err(errno::EEXIST)
            } else {
                Ok(ProbeOutcome::Done)
            };
        }
        if self.is_blacklisted(id)
            && ((self.e(id).alias.is_some() && flags.apply_blacklist_alias_only)
                || flags.apply_blacklist_all
                || flags.apply_blacklist)
        {
            return Ok(ProbeOutcome::Blacklisted);
        }
        // the list goes where the last one was (its room reused)
        let mut plan = std::mem::take(&mut self.pool.last_plan);
        self.probe_list_into(id, flags.ignore_command, Why::Requested, &mut plan);
        if flags.apply_blacklist_all {
            plan.retain(|&(m, _)| !self.is_blacklisted(m));
            if plan.is_empty() {
                return Ok(ProbeOutcome::Blacklisted);
            }
        }
        self.pool.last_plan = plan;
        let mut result = Ok(());
        // (the steps below never change the list)
        for i in 0..self.pool.last_plan.len() {
            let m = self.pool.last_plan[i].0;
            let step = self.probe_one(m, id, flags, extra_options, action);
            if step == Err(errno::EEXIST) && m == id && flags.fail_on_loaded {
                result = step;
                break;
            }
            if step == Err(errno::EEXIST) || !self.e(m).required {
                result = Ok(());
            } else if step.is_err() {
                result = step;
                break;
            } else {
                result = step;
            }
        }
        result.map(|()| ProbeOutcome::Done)
    }

    fn probe_one(
        &mut self,
        m: ModuleId,
        top: ModuleId,
        flags: &ProbeFlags,
        extra_options: Option<&[u8]>,
        action: &mut dyn FnMut(ProbeAction<'_>),
    ) -> std::result::Result<(), Errno> {
        if !flags.ignore_loaded && self.is_in_kernel(m) {
            return Err(errno::EEXIST);
        }
        let mut options = std::mem::take(&mut self.pool.options_buf);
        options.clear();
        let extra = if m == top { extra_options } else { None };
        match (self.options_ref(m), extra) {
            (None, None) | (None, Some([])) => {}
            (Some(o), x) => {
                options.extend_from_slice(o);
                options.push(b' ');
                options.extend_from_slice(x.unwrap_or_default());
            }
            (None, Some(x)) => options.extend_from_slice(x),
        }
        let result = self.probe_one_with(m, flags, &options, action);
        self.pool.options_buf = options;
        result
    }

    fn probe_one_with(
        &mut self,
        m: ModuleId,
        flags: &ProbeFlags,
        options: &[u8],
        action: &mut dyn FnMut(ProbeAction<'_>),
    ) -> std::result::Result<(), Errno> {
        if self.install_command_ref(m).is_some() && !self.e(m).ignorecmd {
            let e = self.e(m);
            let command = e.install_cmd.as_ref().and_then(Option::as_deref);
            let command = command.unwrap_or_default();
            action(ProbeAction::Install {
                name: &e.name,
                command,
                options,
            });
            if flags.dry_run {
                return Ok(());
            }
            let (name, command) = (e.name.clone(), command.to_vec());
            return self.run_install(&name, &command, options);
        }
        if self.path_ref(m).is_none() {
            let builtin = self.is_builtin(m);
            let name = &self.e(m).name;
            if builtin {
                action(ProbeAction::Builtin { name });
            } else {
                action(ProbeAction::Missing { name });
            }
        } else if let Entry {
            name,
            path: Some(path),
            ..
        } = self.e(m)
        {
            action(ProbeAction::Insert {
                name,
                path,
                options,
            });
        }
        if flags.dry_run {
            return Ok(());
        }
        self.insert_module(m, flags, options)
    }

    fn run_install(
        &mut self,
        name: &str,
        command: &[u8],
        options: &[u8],
    ) -> std::result::Result<(), Errno> {
        let cmd = replace_all(command, b"$CMDLINE_OPTS", options);
        match run_shell(&cmd, name) {
            Ok(0) => Ok(()),
            Ok(code) => {
                let msg = format!(
                    "Error running install command '{}' for module {name}: retcode {code}\n",
                    lossy(&cmd)
                );
                self.err(&msg);
                Err(errno::EINVAL)
            }
            Err(e) => {
                let msg = format!(
                    "Could not run install command '{}' for module {name}: {}\n",
                    lossy(&cmd),
                    strerror(e)
                );
                self.err(&msg);
                Err(errno::EINVAL)
            }
        }
    }

    /// Loads the module's file with `options` (no dependencies, no
    /// configuration): `ENOENT`, reported, when it has no file.
    pub fn insert_module(
        &mut self,
        id: ModuleId,
        flags: &ProbeFlags,
        options: &[u8],
    ) -> std::result::Result<(), Errno> {
        let Some(path) = self.path(id) else {
            let msg = format!("could not find module by name='{}'\n", self.e(id).name);
            self.err(&msg);
            return Err(errno::ENOENT);
        };
        let force = Force {
            vermagic: flags.force_vermagic,
            modversions: flags.force_modversion,
        };
        kernel::insert_module(&path, options, force).map_err(|e| {
            if let Some(msg) = &e.logged {
                self.err(&format!("{msg}\n"));
            }
            let msg = format!(
                "Failed to insert module '{}': {}\n",
                path.display(),
                strerror(e.errno)
            );
            self.pool.log.log(Level::Info, "", msg.as_bytes());
            e.errno
        })
    }

    /// Unloads the module without waiting (`force`: even if in use);
    /// reports a failure unless `quiet`.
    pub fn remove_module(
        &mut self,
        id: ModuleId,
        force: bool,
        quiet: bool,
    ) -> std::result::Result<(), Errno> {
        let name = self.e(id).name.clone();
        kernel::remove_module(&name, force).inspect_err(|&e| {
            if !quiet {
                let msg = format!("could not remove '{name}': {}\n", strerror(e));
                self.err(&msg);
            }
        })
    }
}

/// Replaces every occurrence of `pat` in `s` with `with`.
pub fn replace_all(s: &[u8], pat: &[u8], with: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(s.len());
    let mut i = 0;
    while i < s.len() {
        if s[i..].starts_with(pat) {
            out.extend_from_slice(with);
            i += pat.len();
        } else {
            out.push(s[i]);
            i += 1;
        }
    }
    out
}

/// Runs `command` with `/bin/sh -c` as `system(3)` does, with
/// `MODPROBE_MODULE` set to `module`: the exit status (0 when the shell
/// was killed by a signal, as `WEXITSTATUS` reads it), or the errno of
/// starting it.
pub fn run_shell(command: &[u8], module: &str) -> std::result::Result<i32, Errno> {
    let status = std::process::Command::new("/bin/sh")
        .arg("-c")
        .arg(std::ffi::OsStr::from_bytes(command))
        .env("MODPROBE_MODULE", module)
        .status()
        .map_err(|e| errno_of(&e))?;
    Ok(status.code().unwrap_or(0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dependency_words_split_like_strtok() {
        fn split(t: &str) -> Vec<&str> {
            words(t).collect()
        }
        assert_eq!(split(" a.ko b.ko"), ["a.ko", "b.ko"]);
        assert_eq!(split("a.ko\t \tb.ko  "), ["a.ko", "b.ko"]);
        assert_eq!(split("kernel/x/é-ü.ko c"), ["kernel/x/é-ü.ko", "c"]);
        assert!(split("").is_empty());
        assert!(split(" \t ").is_empty());
    }

    #[test]
    fn joined_paths_are_path_join() {
        for (dir, rel) in [
            ("/lib/modules/6.1", "kernel/a.ko"),
            ("/lib/modules/6.1/", "kernel/a.ko"),
            ("/lib/modules/6.1", "/abs/b.ko"),
            ("/lib/modules/6.1", ""),
            ("", "kernel/a.ko"),
        ] {
            let mut buf = Vec::new();
            join_into(&mut buf, Path::new(dir), rel);
            assert_eq!(
                Path::new(OsStr::from_bytes(&buf)),
                Path::new(dir).join(rel),
                "{dir:?} + {rel:?}"
            );
            assert_eq!(
                OsStr::from_bytes(&buf),
                Path::new(dir).join(rel).as_os_str(),
                "{dir:?} + {rel:?} (bytes)"
            );
        }
    }
}
