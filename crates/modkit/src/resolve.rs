//! Finding modules in a module directory (`/lib/modules/VERSION`) by name,
//! alias or symbol, the way libkmod does it for `modinfo` and `modprobe`.
//!
//! A [`ModuleDir`] stands for one module directory and reads its binary
//! indexes (`modules.dep.bin`, `modules.alias.bin`, `modules.symbols.bin`,
//! `modules.builtin.bin`, `modules.builtin.alias.bin`) on first use. Like
//! kmod, only the binary indexes are consulted; a missing or unreadable index
//! means "not found there", and the lookup goes on with the next source.

use std::borrow::Cow;
use std::ffi::OsString;
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use crate::builtin;
use crate::config::{ConfigLookup, ModprobeConfig};
use crate::error::{errno, Error, Result};
use crate::index::Index;
use crate::kmod::{modname_normalize, path_to_modname, string_lossy, Builtin, MODULE_DIRECTORY};
use crate::kmod::{Level, Logger};
use crate::module::{InfoEntry, Module};

/// The binary indexes a module directory holds, as written by depmod.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IndexKind {
    /// `modules.dep.bin`: module name → `path: dependency paths...`.
    Dep,
    /// `modules.alias.bin`: alias pattern → module name.
    Alias,
    /// `modules.symbols.bin`: `symbol:NAME` → module name.
    Symbols,
    /// `modules.builtin.alias.bin`: alias pattern → built-in module name.
    BuiltinAlias,
    /// `modules.builtin.bin`: built-in module name → (empty).
    Builtin,
}

impl IndexKind {
    const ALL: [IndexKind; 5] = [
        IndexKind::Dep,
        IndexKind::Alias,
        IndexKind::Symbols,
        IndexKind::BuiltinAlias,
        IndexKind::Builtin,
    ];

    /// The index file's name, e.g. `modules.dep.bin`.
    pub fn file_name(self) -> &'static str {
        match self {
            IndexKind::Dep => "modules.dep.bin",
            IndexKind::Alias => "modules.alias.bin",
            IndexKind::Symbols => "modules.symbols.bin",
            IndexKind::BuiltinAlias => "modules.builtin.alias.bin",
            IndexKind::Builtin => "modules.builtin.bin",
        }
    }

    fn slot(self) -> usize {
        IndexKind::ALL.iter().position(|k| *k == self).unwrap_or(0)
    }
}

/// A module found by a lookup: its name, the alias it was found through,
/// and (once resolved) its file.
#[derive(Clone, Debug)]
pub struct FoundModule {
    /// The module name (`-` already turned into `_` where kmod does so).
    pub name: String,
    /// The alias pattern or symbol the module was found through, if any.
    pub alias: Option<String>,
    pub(crate) path: Option<PathBuf>,
    pub(crate) dep_resolved: bool,
    builtin: Builtin,
    /// The dependency part of its `modules.dep` line (after the `:`),
    /// parsed when asked for ([`ModuleDir::dependency_paths`]).
    pub(crate) dependencies: String,
}

impl FoundModule {
    pub(crate) fn named(name: &str) -> FoundModule {
        FoundModule {
            name: name.to_string(),
            alias: None,
            path: None,
            dep_resolved: false,
            builtin: Builtin::Unknown,
            dependencies: String::new(),
        }
    }

    /// A module given by the path of its file (never built in), as
    /// `kmod_module_new_from_path` creates it: the name comes from the file
    /// name and the path is made absolute against the working directory.
    pub fn from_path(path: &Path) -> Result<FoundModule> {
        let abs = absolute_from_cwd(path)?;
        std::fs::metadata(&abs).map_err(|e| Error::io(e, path.display()))?;
        let name = path_to_modname(path.as_os_str().as_bytes())
            .map(string_lossy)
            .ok_or_else(|| {
                Error::new(errno::ENOENT, format!("{}: no module name", path.display()))
            })?;
        let mut m = FoundModule::named(&name);
        m.path = Some(abs);
        m.dep_resolved = false;
        m.builtin = Builtin::No;
        Ok(m)
    }

    /// The builtin state as known so far (see [`ModuleDir::is_builtin`]).
    pub fn builtin_state(&self) -> Builtin {
        self.builtin
    }
}

/// A module found by [`ModuleDir::lookup_each`], borrowed from the
/// indexes and the configuration where it can be (what a [`FoundModule`]
/// is made from, without copying for callers that keep only part of it).
#[derive(Clone, Debug)]
pub(crate) struct Found<'a> {
    /// The module name.
    pub(crate) name: Cow<'a, str>,
    /// The alias pattern or symbol the module was found through, if any.
    pub(crate) alias: Option<Cow<'a, str>>,
    /// Its `modules.dep` line (`path: dependencies...`) when the lookup
    /// read it there.
    pub(crate) depline: Option<Cow<'a, str>>,
    pub(crate) builtin: Builtin,
}

impl<'a> Found<'a> {
    fn named(name: Cow<'a, str>) -> Found<'a> {
        Found {
            name,
            alias: None,
            depline: None,
            builtin: Builtin::Unknown,
        }
    }
}

/// Text from an index or a configuration file: borrowed when it is UTF-8,
/// else with invalid sequences replaced by U+FFFD.
fn text_of(bytes: &[u8]) -> Cow<'_, str> {
    match std::str::from_utf8(bytes) {
        Ok(s) => Cow::Borrowed(s),
        Err(_) => Cow::Owned(String::from_utf8_lossy(bytes).into_owned()),
    }
}

/// kmod's module name of `name` ([`modname_normalize`]), borrowed when
/// normalising changes nothing.
pub(crate) fn normalized_name(name: &str) -> Cow<'_, str> {
    let b = name.as_bytes();
    if b.len() < crate::kmod::PATH_MAX && !b.iter().any(|&c| matches!(c, b'-' | b'.' | 0)) {
        return Cow::Borrowed(name);
    }
    Cow::Owned(string_lossy(modname_normalize(b)))
}

/// One module directory and its indexes, the equivalent of a `kmod_ctx`
/// without configuration.
///
/// `Send + Sync`: the indexes are opened once (whichever thread asks
/// first) and then only read, so one `ModuleDir` (in an `Arc`) can answer
/// lookups from many threads, unlike a `kmod_ctx`.
pub struct ModuleDir {
    dirname: PathBuf,
    indexes: [OnceLock<Option<Index>>; 5],
    config: ModprobeConfig,
    lookup: ConfigLookup,
}

impl ModuleDir {
    /// A module directory at `dirname`, made absolute against the current
    /// directory as kmod does (without resolving symlinks or `..`).
    pub fn new(dirname: &Path) -> Result<ModuleDir> {
        Ok(ModuleDir {
            dirname: absolute_from_cwd(dirname)?,
            indexes: Default::default(),
            config: ModprobeConfig::default(),
            lookup: ConfigLookup::default(),
        })
    }

    /// Makes [`ModuleDir::lookup`] consult `config` too (its `alias`
    /// lines first, its `install`/`remove` lines after the symbols), as
    /// libkmod's lookup does for `modinfo`.
    pub fn set_config(&mut self, config: ModprobeConfig) {
        self.lookup = ConfigLookup::new(&config);
        self.config = config;
    }

    /// The configuration lookups consult (empty unless set).
    pub fn config(&self) -> &ModprobeConfig {
        &self.config
    }

    /// The configuration's lists indexed by module field (answers to
    /// "which lines name this module" without scanning them).
    pub fn config_lookup(&self) -> &ConfigLookup {
        &self.lookup
    }

    /// The module directory the tools use for `-b ROOT` and `-k VERSION`:
    /// `ROOT/lib/modules/VERSION`, the running kernel's release standing in
    /// for a missing version, and `/lib/modules/$(uname -r)` when neither is
    /// given.
    pub fn for_kernel(root: Option<&Path>, version: Option<&str>) -> Result<ModuleDir> {
        let release = match version {
            Some(v) => v.to_string(),
            None => kernel_release()?,
        };
        let mut dir = OsString::new();
        if let Some(root) = root {
            dir.push(root.as_os_str());
        }
        dir.push(MODULE_DIRECTORY);
        dir.push("/");
        dir.push(&release);
        ModuleDir::new(Path::new(&dir))
    }

    /// The absolute module directory path.
    pub fn dirname(&self) -> &Path {
        &self.dirname
    }

    /// The index of the given kind, read on first use. `None` when the file
    /// is missing or is not a valid index (kmod then treats the index as
    /// absent).
    pub fn index(&self, kind: IndexKind) -> Option<&Index> {
        self.indexes[kind.slot()]
            .get_or_init(|| Index::open(self.dirname.join(kind.file_name())).ok())
            .as_ref()
    }

    /// Opens the indexes up front, as libkmod's `kmod_load_resources`
    /// (which modprobe calls before anything else) does: in its order
    /// (dep, alias, symbols, builtin.alias, builtin), stopping at the first
    /// that cannot be opened — except `modules.builtin.alias.bin`, which may
    /// fail. A file whose header is not an index's is reported through
    /// `log` at error level in libkmod's words; a missing one is not.
    /// Returns whether every index opened. Lookups work either way (an index
    /// not opened here is opened, or found missing, on first use), as they
    /// do in libkmod.
    pub fn load_resources(&self, log: &dyn Logger) -> bool {
        for kind in IndexKind::ALL {
            let slot = &self.indexes[kind.slot()];
            let opened = match slot.get() {
                Some(index) => index.is_some(),
                None => {
                    let result = Index::open(self.dirname.join(kind.file_name()));
                    if let Err(e) = &result {
                        if let Some(words) = Index::header_complaint(e) {
                            log.log(Level::Err, "index_mm_open", format!("{words}\n").as_bytes());
                        }
                    }
                    let ok = result.is_ok();
                    let _ = slot.set(result.ok());
                    ok
                }
            };
            if !opened && kind != IndexKind::BuiltinAlias {
                return false;
            }
        }
        true
    }

    /// The `modules.dep` line of module `name` (`path: deps...`), if any.
    pub fn search_moddep(&self, name: &str) -> Option<String> {
        self.index(IndexKind::Dep)?.lookup(name).ok().flatten()
    }

    /// `true` when `name` is listed in `modules.builtin.bin`.
    pub fn is_builtin_name(&self, name: &str) -> bool {
        self.index(IndexKind::Builtin)
            .and_then(|idx| idx.lookup(name).ok().flatten())
            .is_some()
    }

    /// Resolves a user-given string the way `kmod_module_new_from_lookup`
    /// does: `alias` lines of the configuration (see
    /// [`ModuleDir::set_config`]; `fnmatch` patterns), module names in
    /// `modules.dep.bin`, `symbol:` names in `modules.symbols.bin`,
    /// `install`/`remove` lines naming the module, alias patterns in
    /// `modules.alias.bin`, built-in names in `modules.builtin.bin`, then
    /// built-in aliases in `modules.builtin.alias.bin`; the first source with
    /// a match wins.
    ///
    /// An alias with unbalanced brackets is an `EINVAL` error.
    pub fn lookup(&self, given: &str) -> Result<Vec<FoundModule>> {
        let mut out = Vec::new();
        self.lookup_each(given, &mut |f| {
            let mut m = FoundModule::named(&f.name);
            m.alias = f.alias.map(Cow::into_owned);
            m.builtin = f.builtin;
            if let Some(line) = &f.depline {
                self.apply_depline(&mut m, line);
            }
            out.push(m);
        })?;
        Ok(out)
    }

    /// [`ModuleDir::lookup`], each module handed to `each` as found,
    /// borrowed from the indexes (nothing is handed over when the lookup
    /// fails).
    pub(crate) fn lookup_each<'a>(
        &'a self,
        given: &str,
        each: &mut dyn FnMut(Found<'a>),
    ) -> Result<()> {
        let alias = alias_normalize(given)?;
        let aliases = self.lookup.aliases(&self.config, alias.as_bytes());
        if !aliases.is_empty() {
            for a in aliases {
                let mut m = Found::named(text_of(&a.modname));
                m.alias = Some(text_of(&a.pattern));
                each(m);
            }
            return Ok(());
        }
        if let Some(m) = self.lookup_moddep(&alias) {
            each(m);
            return Ok(());
        }
        if alias.starts_with("symbol:") {
            let found = self.lookup_wild(IndexKind::Symbols, &alias, Builtin::Unknown)?;
            if !found.is_empty() {
                for m in found {
                    each(m);
                }
                return Ok(());
            }
        }
        if let Some(c) = [true, false].into_iter().find_map(|install| {
            self.lookup
                .command_named(&self.config, install, alias.as_bytes())
        }) {
            each(Found::named(text_of(&c.modname)));
            return Ok(());
        }
        let found = self.lookup_wild(IndexKind::Alias, &alias, Builtin::Unknown)?;
        if !found.is_empty() {
            for m in found {
                each(m);
            }
            return Ok(());
        }
        if let Some(m) = self.lookup_builtin(&alias) {
            each(m);
            return Ok(());
        }
        let found = self.lookup_wild(IndexKind::BuiltinAlias, &alias, Builtin::Yes)?;
        for m in found {
            each(m);
        }
        Ok(())
    }

    /// Resolves a module name only (`modinfo -m`): `modules.dep.bin`, then
    /// `modules.builtin.bin`, then `modules.builtin.alias.bin`.
    pub fn lookup_name(&self, name: &str) -> Result<Option<FoundModule>> {
        let name = string_lossy(modname_normalize(name.as_bytes()));
        let found = match self.lookup_moddep(&name) {
            Some(f) => Some(f),
            None => match self.lookup_builtin(&name) {
                Some(f) => Some(f),
                None => self
                    .lookup_wild(IndexKind::BuiltinAlias, &name, Builtin::Yes)?
                    .into_iter()
                    .next(),
            },
        };
        Ok(found.map(|f| {
            let mut m = FoundModule::named(&f.name);
            m.alias = f.alias.map(Cow::into_owned);
            m.builtin = f.builtin;
            if let Some(line) = &f.depline {
                self.apply_depline(&mut m, line);
            }
            m
        }))
    }

    /// The `modules.dep` line of module `name`, borrowed from the index
    /// (text: invalid UTF-8 replaced).
    pub(crate) fn moddep_line(&self, name: &str) -> Option<Cow<'_, str>> {
        let line = self
            .index(IndexKind::Dep)?
            .lookup_bytes(name.as_bytes())
            .ok()
            .flatten()?;
        Some(text_of(line))
    }

    fn lookup_moddep<'a>(&'a self, name: &str) -> Option<Found<'a>> {
        if name.contains(':') {
            return None;
        }
        let line = self.moddep_line(name)?;
        let mut m = Found::named(Cow::Owned(normalized_name(name).into_owned()));
        m.depline = Some(line);
        Some(m)
    }

    fn lookup_builtin(&self, name: &str) -> Option<Found<'static>> {
        if !self.is_builtin_name(name) {
            return None;
        }
        let mut m = Found::named(Cow::Owned(normalized_name(name).into_owned()));
        m.builtin = Builtin::Yes;
        Some(m)
    }

    fn lookup_wild(
        &self,
        kind: IndexKind,
        alias: &str,
        builtin: Builtin,
    ) -> Result<Vec<Found<'static>>> {
        let Some(index) = self.index(kind) else {
            return Ok(Vec::new());
        };
        let values = index.search_wildcard(alias)?;
        Ok(values
            .into_iter()
            .map(|v| {
                let mut m = Found::named(Cow::Owned(v.value));
                m.alias = Some(Cow::Owned(alias.to_string()));
                m.builtin = builtin;
                m
            })
            .collect())
    }

    fn apply_depline(&self, m: &mut FoundModule, line: &str) {
        m.dep_resolved = true;
        let Some((path, deps)) = line.split_once(':') else {
            return;
        };
        if m.path.is_none() {
            m.path = Some(self.join(path));
        }
        m.dependencies = deps.to_string();
    }

    /// The files of the module's dependencies, from its `modules.dep`
    /// line, joined to the module directory.
    pub(crate) fn dependency_paths(&self, m: &FoundModule) -> Vec<PathBuf> {
        m.dependencies
            .split([' ', '\t'])
            .filter(|s| !s.is_empty())
            .map(|p| self.join(p))
            .collect()
    }

    fn join(&self, path: &str) -> PathBuf {
        if path.starts_with('/') {
            PathBuf::from(path)
        } else {
            self.dirname.join(path)
        }
    }

    /// The module's file, resolved through `modules.dep.bin` when the lookup
    /// did not already give it. `None` for built-in modules and for names
    /// that `modules.dep` does not list.
    pub fn module_path(&self, m: &mut FoundModule) -> Option<PathBuf> {
        if m.path.is_none() && !m.dep_resolved {
            if let Some(line) = self.search_moddep(&m.name) {
                self.apply_depline(m, &line);
            } else {
                m.dep_resolved = true;
            }
        }
        m.path.clone()
    }

    /// The module's dependencies (paths from its `modules.dep` line).
    pub fn module_dependencies(&self, m: &mut FoundModule) -> Vec<PathBuf> {
        self.module_path(m);
        self.dependency_paths(m)
    }

    /// Whether the module is built in, deciding from `modules.builtin.bin`
    /// when the lookup did not tell.
    pub fn is_builtin(&self, m: &mut FoundModule) -> bool {
        if m.builtin == Builtin::Unknown {
            m.builtin = if self.is_builtin_name(&m.name) {
                Builtin::Yes
            } else {
                Builtin::No
            };
        }
        m.builtin == Builtin::Yes
    }

    /// The module's info entries as `kmod_module_get_info` returns them:
    /// from `modules.builtin.modinfo` for a built-in module, else from the
    /// module file's `.modinfo` section followed by its signature entries.
    ///
    /// Errors carry kmod's errno: `ENOENT` for a module without a file or a
    /// built-in module without the modinfo table, `ENOEXEC` for a file that
    /// is not an ELF module, `EINVAL` for a malformed one.
    pub fn module_info(&self, m: &mut FoundModule) -> Result<Vec<InfoEntry>> {
        if self.is_builtin(m) {
            return builtin::modinfo(&self.dirname, &m.name);
        }
        let Some(path) = self.module_path(m) else {
            return Err(Error::new(
                errno::ENOENT,
                format!("{}: no module file", m.name),
            ));
        };
        Module::open(&path)?.info()
    }
}

/// kmod's alias normalisation: `-` becomes `_` outside `[...]` ranges; an
/// unbalanced `[` or a stray `]` is an `EINVAL` error. Input longer than
/// kmod's `PATH_MAX - 1` bytes is cut there, as kmod cuts it.
pub fn alias_normalize(alias: &str) -> Result<Cow<'_, str>> {
    const LIMIT: usize = 4095;
    let bytes = alias.as_bytes();
    if bytes.len() <= LIMIT && !bytes.iter().any(|&c| matches!(c, b'-' | b'[' | b']')) {
        return Ok(Cow::Borrowed(alias));
    }
    let bytes = &bytes[..bytes.len().min(LIMIT)];
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'-' => out.push(b'_'),
            b']' => return Err(Error::invalid(format!("invalid alias: {alias}"))),
            b'[' => {
                while i < bytes.len() && bytes[i] != b']' {
                    out.push(bytes[i]);
                    i += 1;
                }
                if i >= bytes.len() {
                    return Err(Error::invalid(format!("invalid alias: {alias}")));
                }
                out.push(b']');
            }
            c => out.push(c),
        }
        i += 1;
    }
    Ok(Cow::Owned(String::from_utf8_lossy(&out).into_owned()))
}

/// The running kernel's release (`uname -r`), from `uname(2)` as kmod
/// asks for it: it needs no `/proc`, so it works in build roots and chroots.
pub fn kernel_release() -> Result<String> {
    let release = crate::sys::uname_release().map_err(|e| Error::new(e, "uname() failed"))?;
    Ok(String::from_utf8_lossy(&release).into_owned())
}

/// Makes `path` absolute the way kmod's `path_make_absolute_cwd` does: an
/// absolute path is kept as is; a relative one is appended to the current
/// directory as `get_current_dir_name(3)` reports it (`$PWD` when it names
/// the current directory, so symlinked working directories print as the
/// user sees them).
pub fn absolute_from_cwd(path: &Path) -> Result<PathBuf> {
    if path.is_absolute() {
        return Ok(path.to_path_buf());
    }
    let cwd = current_dir_name()?;
    let mut bytes = cwd.into_os_string().into_vec();
    bytes.push(b'/');
    bytes.extend_from_slice(path.as_os_str().as_encoded_bytes());
    Ok(PathBuf::from(OsString::from_vec(bytes)))
}

fn current_dir_name() -> Result<PathBuf> {
    if let Some(pwd) = std::env::var_os("PWD") {
        let pwd = PathBuf::from(pwd);
        if pwd.is_absolute() {
            if let (Ok(a), Ok(b)) = (std::fs::metadata(&pwd), std::fs::metadata(".")) {
                if a.dev() == b.dev() && a.ino() == b.ino() {
                    return Ok(pwd);
                }
            }
        }
    }
    std::env::current_dir().map_err(|e| Error::io(e, "getcwd"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alias_normalize_follows_kmod() {
        assert_eq!(alias_normalize("snd-hda-intel").unwrap(), "snd_hda_intel");
        assert_eq!(alias_normalize("pci:v[0-9]d-x").unwrap(), "pci:v[0-9]d_x");
        assert!(alias_normalize("a]b").is_err());
        assert!(alias_normalize("c[d").is_err());
    }

    #[test]
    fn relative_paths_are_joined_not_canonicalised() {
        let p = absolute_from_cwd(Path::new("a/../b.ko")).unwrap();
        assert!(p.is_absolute());
        assert!(p.to_string_lossy().ends_with("/a/../b.ko"));
        assert_eq!(
            absolute_from_cwd(Path::new("/x/./y")).unwrap(),
            PathBuf::from("/x/./y")
        );
    }
}
