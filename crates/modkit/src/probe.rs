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

use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::sync::Arc;

use crate::config::ModprobeConfig;
use crate::error::{errno, errno_of, strerror, Errno, Result};
use crate::kernel::{self, Force};
use crate::kmod::{modname_normalize, path_to_modname, string_lossy, Builtin, Level, Logger};
use crate::loaded::{InitState, KernelState};
use crate::resolve::{absolute_from_cwd, ModuleDir};

/// A module of a [`Context`]'s pool.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ModuleId(usize);

struct Entry {
    name: String,
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
    kernel: KernelState,
    entries: Vec<Entry>,
    pool: foldhash::HashMap<String, ModuleId>,
    /// Whether each module file asked about exists (the `stat` libkmod
    /// repeats for every dependency edge, done once per file here).
    exists: foldhash::HashMap<std::ffi::OsString, std::result::Result<(), Errno>>,
    /// Module files already turned into modules of the pool.
    /// (Keyed by the bytes: `Path`'s own hash walks its components.)
    path_ids: foldhash::HashMap<std::ffi::OsString, ModuleId>,
    /// The list the last [`Context::probe_insert`] walked, with reasons.
    last_plan: Vec<(ModuleId, Why)>,
    /// Lookups already answered (the same softdep names are looked up for
    /// every module naming them): what [`Context::lookup`] gave, kept
    /// only when it had nothing left to do or report on a second call.
    lookups: foldhash::HashMap<String, Vec<ModuleId>>,
    log: Rc<dyn Logger>,
}

fn lossy(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
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
            kernel: KernelState::new(),
            entries: Vec::new(),
            pool: Default::default(),
            exists: Default::default(),
            path_ids: Default::default(),
            last_plan: Vec::new(),
            lookups: Default::default(),
            log,
        }
    }

    /// Reads the kernel's module state under `root` instead of `/`
    /// (`root/sys/module/...`), for tests and foreign systems.
    pub fn set_kernel_state(&mut self, kernel: KernelState) {
        self.kernel = kernel;
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
        self.log.log(Level::Err, "", msg.as_bytes());
    }

    fn e(&self, id: ModuleId) -> &Entry {
        &self.entries[id.0]
    }

    fn em(&mut self, id: ModuleId) -> &mut Entry {
        &mut self.entries[id.0]
    }

    /// The module's name.
    pub fn name(&self, id: ModuleId) -> &str {
        &self.e(id).name
    }

    /// The alias the module was found through, if any.
    pub fn alias(&self, id: ModuleId) -> Option<&str> {
        self.e(id).alias.as_deref()
    }

    fn pooled(&mut self, key: String, name: &str, alias: Option<&str>) -> ModuleId {
        if let Some(&id) = self.pool.get(&key) {
            return id;
        }
        let id = ModuleId(self.entries.len());
        self.entries.push(Entry {
            name: name.to_string(),
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
        });
        self.pool.insert(key, id);
        id
    }

    /// The module named `name` (`-` read as `_`, cut at the first `.`).
    pub fn module_from_name(&mut self, name: &str) -> ModuleId {
        let name = string_lossy(modname_normalize(name.as_bytes()));
        self.pooled(name.clone(), &name, None)
    }

    fn module_from_alias(&mut self, alias: &str, name: &str) -> ModuleId {
        self.pooled(format!("{name}\\{alias}"), name, Some(alias))
    }

    /// The module in file `path` (never built in). Its name comes from the
    /// file name; `EEXIST` when a module of that name already has another
    /// file, the stat error when the file is not there.
    pub fn module_from_path(&mut self, path: &Path) -> std::result::Result<ModuleId, Errno> {
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
                self.exists.insert(abs.clone().into_os_string(), known);
                known?;
            }
        }
        let name = path_to_modname(path.as_os_str().as_bytes())
            .map(string_lossy)
            .ok_or(errno::ENOENT)?;
        let id = self.pooled(name.clone(), &name, None);
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
        self.path_ids.insert(path.as_os_str().to_os_string(), id);
        Ok(id)
    }

    /// Records a module's `modules.dep` line (its file and dependency
    /// files, already joined to the module directory), as libkmod's
    /// `kmod_module_parse_depline`: dependencies in reverse order.
    fn set_depline(&mut self, id: ModuleId, path: Option<PathBuf>, deps: &[PathBuf]) {
        if self.e(id).dep_init {
            return;
        }
        self.em(id).dep_init = true;
        if self.e(id).path.is_none() {
            self.em(id).path = path;
        }
        let mut list = Vec::with_capacity(deps.len());
        for p in deps {
            match self.module_from_path(p) {
                Ok(d) => list.insert(0, d),
                Err(e) => {
                    let msg = format!("ctx=(modkit) path={} error={}\n", p.display(), strerror(e));
                    self.err(&msg);
                    self.em(id).dep_init = false;
                    return;
                }
            }
        }
        self.em(id).deps = list;
    }

    fn resolve_deps(&mut self, id: ModuleId) {
        if !self.e(id).dep_init {
            let mut found = crate::resolve::FoundModule::named(&self.e(id).name);
            if self.dir.module_path(&mut found).is_some() || !found.dependencies.trim().is_empty() {
                let deps = self.dir.dependency_paths(&found);
                self.set_depline(id, found.path, &deps);
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
        if self.e(id).path.is_none() && !self.e(id).dep_init {
            self.resolve_deps(id);
        }
        self.e(id).path.clone()
    }

    /// Whether the module is built into the kernel (`modules.builtin.bin`).
    pub fn is_builtin(&mut self, id: ModuleId) -> bool {
        if self.e(id).builtin == Builtin::Unknown {
            let b = self.dir.is_builtin_name(&self.e(id).name);
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
        let name = self.e(id).name.clone();
        match self.kernel.initstate(&name) {
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
        let name = self.e(id).name.clone();
        match self.kernel.refcnt(&name) {
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
        let name = self.e(id).name.clone();
        match self.kernel.holders(&name) {
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
        if let Some(ids) = self.lookups.get(given) {
            return Ok(ids.clone());
        }
        let found = self.dir.lookup(given)?;
        let mut out = Vec::with_capacity(found.len());
        let mut settled = true;
        for mut f in found {
            let id = match &f.alias {
                Some(alias) => self.module_from_alias(alias, &f.name),
                None => self.module_from_name(&f.name),
            };
            if f.builtin_state() == Builtin::Yes {
                self.em(id).builtin = Builtin::Yes;
            }
            match f.command.take() {
                Some((true, cmd)) => self.em(id).install_cmd = Some(Some(cmd)),
                Some((false, cmd)) => self.em(id).remove_cmd = Some(Some(cmd)),
                None => {}
            }
            if f.dep_resolved && !self.e(id).dep_init {
                let deps = self.dir.dependency_paths(&f);
                self.set_depline(id, f.path, &deps);
                // a dependency file missing: tried (and reported) again
                // next time, as libkmod does
                settled &= self.e(id).dep_init;
            }
            out.push(id);
        }
        if settled {
            self.lookups.insert(given.to_string(), out.clone());
        }
        Ok(out)
    }

    /// The options configured for the module (`options` lines naming it or
    /// the alias it was found through, then the kernel command line's),
    /// joined with spaces; `None` when there are none.
    pub fn options(&mut self, id: ModuleId) -> Option<Vec<u8>> {
        if let Some(o) = &self.e(id).options {
            return o.clone();
        }
        let e = self.e(id);
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
        self.em(id).options = Some(opts.clone());
        opts
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
        if self.e(id).install_cmd.is_none() {
            let cmd = self.first_command(id, true);
            self.em(id).install_cmd = Some(cmd);
        }
        self.e(id).install_cmd.clone().flatten()
    }

    /// The first `remove` command whose pattern matches the module name.
    pub fn remove_command(&mut self, id: ModuleId) -> Option<Vec<u8>> {
        if self.e(id).remove_cmd.is_none() {
            let cmd = self.first_command(id, false);
            self.em(id).remove_cmd = Some(cmd);
        }
        self.e(id).remove_cmd.clone().flatten()
    }

    fn lookup_names(&mut self, names: &[Vec<u8>]) -> Vec<ModuleId> {
        let mut out = Vec::new();
        for n in names {
            match self.lookup(&lossy(n)) {
                Ok(found) => out.extend(found),
                Err(_) => {
                    let msg = format!(
                        "failed to lookup dependency '{}', continuing anyway.\n",
                        lossy(n)
                    );
                    self.err(&msg);
                }
            }
        }
        out
    }

    /// The module's softdeps (pre, post) from the first `softdep` line
    /// whose pattern matches its name, each name resolved by
    /// [`Context::lookup`].
    pub fn softdeps(&mut self, id: ModuleId) -> (Vec<ModuleId>, Vec<ModuleId>) {
        let name = self.e(id).name.as_bytes();
        let Some(sd) = self
            .dir
            .config_lookup()
            .softdep(self.dir.config(), name)
            .cloned()
        else {
            return (Vec::new(), Vec::new());
        };
        let pre = self.lookup_names(&sd.pre);
        let post = self.lookup_names(&sd.post);
        (pre, post)
    }

    /// The module's weakdeps from the first `weakdep` line whose pattern
    /// matches its name, each resolved by [`Context::lookup`].
    pub fn weakdeps(&mut self, id: ModuleId) -> Vec<ModuleId> {
        let name = self.e(id).name.as_bytes();
        let Some(wd) = self
            .dir
            .config_lookup()
            .weakdep(self.dir.config(), name)
            .cloned()
        else {
            return Vec::new();
        };
        self.lookup_names(&wd.weak)
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
        self.em(id).visited = true;
        let deps = self.dependencies(id);
        if required {
            self.em(id).required = true;
            for &d in &deps {
                self.em(d).required = true;
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
        for e in &mut self.entries {
            e.visited = false;
            e.required = false;
        }
        let mut list = Vec::new();
        self.probe_list_of(id, true, ignore_command, why, &mut list);
        list
    }

    /// The modules the last [`Context::probe_insert`] went through, in
    /// order, each with why it was there (the module itself
    /// [`Why::Requested`]): one per [`ProbeAction`] it reported, unless
    /// it stopped at an error. Empty when it loaded nothing (blacklisted,
    /// already loaded).
    pub fn last_probe_list(&self) -> &[(ModuleId, Why)] {
        &self.last_plan
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
        self.last_plan.clear();
        if !flags.ignore_loaded && self.is_in_kernel(id) {
            return if flags.fail_on_loaded {
                Err(errno::EEXIST)
            } else {
                Ok(ProbeOutcome::Done)
            };
        }
        let name = self.e(id).name.clone();
        if self.dir.config_lookup().is_blacklisted(name.as_bytes())
            && ((self.e(id).alias.is_some() && flags.apply_blacklist_alias_only)
                || flags.apply_blacklist_all
                || flags.apply_blacklist)
        {
            return Ok(ProbeOutcome::Blacklisted);
        }
        let mut plan = self.probe_list_why(id, flags.ignore_command, Why::Requested);
        if flags.apply_blacklist_all {
            plan.retain(|&(m, _)| {
                !self
                    .dir
                    .config_lookup()
                    .is_blacklisted(self.entries[m.0].name.as_bytes())
            });
            if plan.is_empty() {
                return Ok(ProbeOutcome::Blacklisted);
            }
        }
        let list: Vec<ModuleId> = plan.iter().map(|&(m, _)| m).collect();
        self.last_plan = plan;
        let mut result = Ok(());
        for m in list {
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
        let moptions = self.options(m);
        let extra = if m == top { extra_options } else { None };
        let options: Vec<u8> = match (&moptions, extra) {
            (None, None) | (None, Some([])) => Vec::new(),
            (Some(o), x) => {
                let mut v = o.clone();
                v.push(b' ');
                v.extend_from_slice(x.unwrap_or_default());
                v
            }
            (None, Some(x)) => x.to_vec(),
        };
        let cmd = self.install_command(m);
        let name = self.e(m).name.clone();
        if let (Some(cmd), false) = (&cmd, self.e(m).ignorecmd) {
            action(ProbeAction::Install {
                name: &name,
                command: cmd,
                options: &options,
            });
            if flags.dry_run {
                return Ok(());
            }
            return self.run_install(&name, cmd, &options);
        }
        match self.path(m) {
            Some(path) => action(ProbeAction::Insert {
                name: &name,
                path: &path,
                options: &options,
            }),
            None => {
                if self.is_builtin(m) {
                    action(ProbeAction::Builtin { name: &name });
                } else {
                    action(ProbeAction::Missing { name: &name });
                }
            }
        }
        if flags.dry_run {
            return Ok(());
        }
        self.insert_module(m, flags, &options)
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
            self.log.log(Level::Info, "", msg.as_bytes());
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
