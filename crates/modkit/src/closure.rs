//! What loading a set of modules takes, for initramfs builders and
//! udev-style workloads: many lookups in one process, from many threads.
//!
//! A [`ModuleDb`] is one module directory with its configuration, opened
//! once and shared (`Send + Sync`; put it in an `Arc` or borrow it from
//! scoped threads). [`ModuleDb::closure`] answers "which files does
//! loading these modules need": every module `modprobe` would load, in its
//! order, each with its file, its configured options and why it is there
//! (asked for, a dependency, a pre- or post-softdep, a weakdep), and the
//! firmware files each one declares that exist under the firmware search
//! path. [`ModuleDb::lookup_aliases`] resolves many modaliases at once.
//!
//! The order and the choices are `modprobe --show-depends`'s (kmod's probe
//! list: each dependency preceded by its pre-softdeps and followed by its
//! post-softdeps, a module found through an alias and blacklisted
//! skipped), because the answers come from the same code; a module that
//! appears more than once there appears once here, where it first does.
//! Weakdeps, which modprobe does not load, follow, each with what it needs.
//!
//! ```no_run
//! use modkit::closure::ModuleDb;
//! use modkit::config::ModprobeConfig;
//!
//! let db = ModuleDb::open(None, Some("6.12.48+deb13-amd64"), ModprobeConfig::default())?;
//! let closure = db.closure(&["ext4", "pci:v00008086d00001533sv*sd*bc*sc*i*"])?;
//! for m in &closure.modules {
//!     if let Some(path) = &m.path {
//!         println!("{} ({}) {}", m.name, m.why.as_str(), path.display());
//!     }
//!     for fw in m.firmware.iter().filter_map(|f| f.file.as_ref()) {
//!         println!("  firmware {}", fw.display());
//!     }
//! }
//! # Ok::<(), modkit::Error>(())
//! ```

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::sync::Arc;

use crate::config::ModprobeConfig;
use crate::error::Result;
use crate::kmod::{Level, Logger};
use crate::module::Module;
pub use crate::probe::Why;
use crate::probe::{Context, ModuleId, ProbeAction, ProbeFlags};
use crate::resolve::ModuleDir;

/// A module directory and its configuration, for many lookups from many
/// threads. Cheap to share: lookups take `&self`.
pub struct ModuleDb {
    dir: Arc<ModuleDir>,
    firmware_dirs: Vec<PathBuf>,
}

/// One module a [`Closure`] needs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NeededModule {
    /// The module's name.
    pub name: String,
    /// Its file (absolute); `None` for a built-in module.
    pub path: Option<PathBuf>,
    /// Built into the kernel: nothing to copy, nothing to load.
    pub builtin: bool,
    /// The `install` command modprobe would run instead of loading it.
    pub install: Option<String>,
    /// Its configured options (`options` lines, the kernel command line),
    /// one word each, quotes kept as written.
    pub options: Vec<String>,
    /// Why it is needed (see [`Why`]; for a dependency, a dependency of
    /// the module that pulled it in, which may be a softdep's).
    pub why: Why,
    /// The firmware it declares (`modinfo -F firmware`), in declaration
    /// order, each with the file found for it under the firmware search
    /// path (empty from [`ModuleDb::closure_modules`]).
    pub firmware: Vec<Firmware>,
}

/// A firmware name a module declares, and the file the kernel would load
/// for it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Firmware {
    /// The name as declared (`MODULE_FIRMWARE`), relative to the search
    /// path.
    pub name: String,
    /// The file found for it ([`find_firmware`]); `None` when none exists.
    pub file: Option<PathBuf>,
}

/// What loading some modules takes: [`ModuleDb::closure`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Closure {
    /// Every module needed, each once, in loading order (weakdeps last).
    pub modules: Vec<NeededModule>,
    /// What was asked for and resolved to nothing, and dependencies that
    /// have no file and are not built in, in the order met.
    pub not_found: Vec<String>,
}

impl Closure {
    /// The files to copy: each module file, then its firmware files, in
    /// order, without repeats.
    pub fn files(&self) -> Vec<&Path> {
        let mut seen = HashSet::new();
        let mut out = Vec::new();
        for m in &self.modules {
            for p in m
                .path
                .iter()
                .chain(m.firmware.iter().filter_map(|f| f.file.as_ref()))
            {
                if seen.insert(p.as_path()) {
                    out.push(p.as_path());
                }
            }
        }
        out
    }
}

/// The kernel's firmware search path for kernel `release` under `root`
/// (`fw_path` in `drivers/base/firmware_loader/main.c`):
/// `/lib/firmware/updates/RELEASE`, `/lib/firmware/updates`,
/// `/lib/firmware/RELEASE`, `/lib/firmware`.
pub fn firmware_search_path(root: &Path, release: &str) -> Vec<PathBuf> {
    let base = root.join("lib/firmware");
    vec![
        base.join("updates").join(release),
        base.join("updates"),
        base.join(release),
        base,
    ]
}

/// The file the kernel would load for firmware `name`: the first of the
/// search path holding `name`, else (a kernel built with compressed
/// firmware support) `name.zst`, else `name.xz`. `None` when none exists,
/// or when the name would leave the directory (`..`, absolute).
pub fn find_firmware(dirs: &[PathBuf], name: &str) -> Option<PathBuf> {
    let rel = Path::new(name);
    if name.is_empty()
        || rel.is_absolute()
        || rel
            .components()
            .any(|c| !matches!(c, std::path::Component::Normal(_)))
    {
        return None;
    }
    for suffix in ["", ".zst", ".xz"] {
        for d in dirs {
            let p = d.join(format!("{name}{suffix}"));
            if p.is_file() {
                return Some(p);
            }
        }
    }
    None
}

/// The firmware module file `path` declares (`modinfo -F firmware`), in
/// order, each with the file [`find_firmware`] finds for it in `dirs`. A
/// file that cannot be read declares nothing.
pub fn module_firmware(path: &Path, dirs: &[PathBuf]) -> Vec<Firmware> {
    let Ok(info) = Module::open(path).and_then(|m| m.info()) else {
        return Vec::new();
    };
    info.iter()
        .filter(|e| e.key_str() == "firmware")
        .map(|e| {
            let name = e.value_lossy().into_owned();
            let file = find_firmware(dirs, &name);
            Firmware { name, file }
        })
        .collect()
}

/// Splits an options string into words at blanks outside double quotes,
/// as the kernel's `next_arg` does (quotes are kept): the options as a
/// list.
pub fn option_words(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut word = String::new();
    let mut quoted = false;
    for c in text.chars() {
        if c == '"' {
            quoted = !quoted;
        }
        if !quoted && (c == ' ' || c == '\t' || c == '\n') {
            if !word.is_empty() {
                out.push(std::mem::take(&mut word));
            }
            continue;
        }
        word.push(c);
    }
    if !word.is_empty() {
        out.push(word);
    }
    out
}

/// A probe step, owned.
enum Step {
    Insert(String, PathBuf, Vec<u8>),
    Install(String, Vec<u8>, Vec<u8>),
    Builtin(String),
    Missing(String),
    /// A module already in the closure (nothing copied).
    Known,
}

/// The names of the modules a closure holds so far.
type Names = foldhash::HashSet<String>;

impl ModuleDb {
    /// The module directory `ROOT/lib/modules/VERSION` (`/` and the running
    /// kernel's release when not given) with `config` (see
    /// [`ModprobeConfig::load`]), and the kernel's firmware search path
    /// under the same root. Indexes are opened when first needed.
    ///
    /// Errors: only when the running kernel's release is needed and
    /// `uname` fails, or the working directory is needed and unreadable.
    pub fn open(
        root: Option<&Path>,
        version: Option<&str>,
        config: ModprobeConfig,
    ) -> Result<ModuleDb> {
        let release = match version {
            Some(v) => v.to_string(),
            None => crate::resolve::kernel_release()?,
        };
        let mut dir = ModuleDir::for_kernel(root, Some(&release))?;
        dir.set_config(config);
        let firmware_dirs = firmware_search_path(root.unwrap_or(Path::new("/")), &release);
        Ok(ModuleDb::from_module_dir(dir, firmware_dirs))
    }

    /// A database over `dir` (with the configuration set on it) looking
    /// for firmware in `firmware_dirs`, in order.
    pub fn from_module_dir(dir: ModuleDir, firmware_dirs: Vec<PathBuf>) -> ModuleDb {
        ModuleDb {
            dir: Arc::new(dir),
            firmware_dirs,
        }
    }

    /// The module directory.
    pub fn module_dir(&self) -> &ModuleDir {
        &self.dir
    }

    /// Where firmware is looked for.
    pub fn firmware_dirs(&self) -> &[PathBuf] {
        &self.firmware_dirs
    }

    /// The modules each of `aliases` (modaliases, names, `symbol:` names)
    /// resolves to, as `modprobe -R` finds them (configuration `alias`
    /// lines, `modules.dep`, symbols, `modules.alias`, built-ins): one list
    /// of names per alias, in order; empty for an alias that matches
    /// nothing or is malformed (unbalanced brackets).
    pub fn lookup_aliases<S: AsRef<str>>(&self, aliases: &[S]) -> Vec<Vec<String>> {
        aliases
            .iter()
            .map(|a| {
                self.dir
                    .lookup(a.as_ref())
                    .map(|found| found.into_iter().map(|m| m.name).collect())
                    .unwrap_or_default()
            })
            .collect()
    }

    /// Everything loading `names` (module names, aliases, `symbol:`
    /// names) takes; see the [module documentation](self) for the order.
    /// A name that resolves to nothing goes to [`Closure::not_found`].
    ///
    /// Errors: none from lookups (they are reported in the result); a
    /// module file that cannot be read for its firmware list contributes
    /// no firmware.
    pub fn closure<S: AsRef<str>>(&self, names: &[S]) -> Result<Closure> {
        let mut out = self.closure_modules(names)?;
        for m in &mut out.modules {
            if let Some(path) = &m.path {
                m.firmware = self.firmware_of(path);
            }
        }
        Ok(out)
    }

    /// [`ModuleDb::closure`] without the firmware (which means reading, and
    /// decompressing, every module file): only the indexes and the
    /// configuration are read.
    pub fn closure_modules<S: AsRef<str>>(&self, names: &[S]) -> Result<Closure> {
        let quiet: Rc<dyn Logger> = Rc::new(|_: Level, _: &str, _: &[u8]| {});
        let mut ctx = Context::with_module_dir(Arc::clone(&self.dir), quiet);
        let flags = ProbeFlags {
            ignore_loaded: true,
            dry_run: true,
            apply_blacklist_alias_only: true,
            ..ProbeFlags::default()
        };
        let mut out = Closure::default();
        let mut seen = Names::default();
        let mut order: Vec<ModuleId> = Vec::new();
        for given in names {
            let ids = ctx.lookup(given.as_ref()).unwrap_or_default();
            if ids.is_empty() {
                out.not_found.push(given.as_ref().to_string());
            }
            for id in ids {
                self.add_probe(
                    &mut ctx,
                    id,
                    Why::Requested,
                    &flags,
                    &mut seen,
                    &mut order,
                    &mut out,
                );
            }
        }
        // Weakdeps of everything so far (and of what they bring), each
        // with its own probe list.
        let mut i = 0;
        while i < order.len() {
            let id = order[i];
            i += 1;
            for w in ctx.weakdeps(id) {
                if !seen.contains(ctx.name(w)) {
                    self.add_probe(
                        &mut ctx,
                        w,
                        Why::Weakdep,
                        &flags,
                        &mut seen,
                        &mut order,
                        &mut out,
                    );
                }
            }
        }
        Ok(out)
    }

    /// The firmware module file `path` declares, with the files found.
    /// A file that cannot be read declares nothing.
    pub fn firmware_of(&self, path: &Path) -> Vec<Firmware> {
        module_firmware(path, &self.firmware_dirs)
    }

    /// Appends module `id`'s probe list (as `modprobe -D` walks it) to
    /// `out`, skipping modules already there.
    #[allow(clippy::too_many_arguments)]
    fn add_probe(
        &self,
        ctx: &mut Context,
        id: ModuleId,
        why: Why,
        flags: &ProbeFlags,
        seen: &mut Names,
        order: &mut Vec<ModuleId>,
        out: &mut Closure,
    ) {
        let mut steps = Vec::new();
        let known = &*seen;
        let _ = ctx.probe_insert(id, flags, None, &mut |a| {
            steps.push(match a {
                ProbeAction::Insert { name, .. }
                | ProbeAction::Install { name, .. }
                | ProbeAction::Builtin { name }
                    if known.contains(name) =>
                {
                    Step::Known
                }
                ProbeAction::Insert {
                    name,
                    path,
                    options,
                } => Step::Insert(name.to_string(), path.to_path_buf(), options.to_vec()),
                ProbeAction::Install {
                    name,
                    command,
                    options,
                } => Step::Install(name.to_string(), command.to_vec(), options.to_vec()),
                ProbeAction::Builtin { name } => Step::Builtin(name.to_string()),
                ProbeAction::Missing { name } => Step::Missing(name.to_string()),
            })
        });
        // one step per module of the list it walked (blacklisted: none)
        let reasons: Vec<(ModuleId, Why)> = ctx
            .last_probe_list()
            .iter()
            .map(|&(m, w)| {
                (
                    m,
                    if m == id && w == Why::Requested {
                        why
                    } else {
                        w
                    },
                )
            })
            .collect();
        for (step, (mid, why)) in steps.into_iter().zip(reasons) {
            let (name, path, builtin, install, options) = match step {
                Step::Insert(n, p, o) => (n, Some(p), false, None, o),
                Step::Install(n, c, o) => (n, None, false, Some(c), o),
                Step::Builtin(n) => (n, None, true, None, Vec::new()),
                Step::Missing(n) => {
                    if !out.not_found.contains(&n) {
                        out.not_found.push(n);
                    }
                    continue;
                }
                Step::Known => continue,
            };
            if !seen.insert(name.clone()) {
                continue;
            }
            order.push(mid);
            let path = match (path, &install) {
                (None, Some(_)) => ctx.path(mid),
                (p, _) => p,
            };
            out.modules.push(NeededModule {
                name,
                path,
                builtin,
                install: install.map(|c| String::from_utf8_lossy(&c).into_owned()),
                options: option_words(&String::from_utf8_lossy(&options)),
                why,
                firmware: Vec::new(),
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_database_is_send_and_sync() {
        fn check<T: Send + Sync>() {}
        check::<ModuleDb>();
        check::<ModuleDir>();
    }

    #[test]
    fn option_words_keep_quotes() {
        assert_eq!(
            option_words(" a=1  b=\"x y\"\tc "),
            ["a=1", "b=\"x y\"", "c"]
        );
        assert!(option_words("").is_empty());
    }

    #[test]
    fn firmware_names_stay_inside_the_search_path() {
        let dir = std::env::temp_dir().join(format!("modkit-fw-{}", std::process::id()));
        let (a, b) = (dir.join("a"), dir.join("b"));
        std::fs::create_dir_all(a.join("vendor")).unwrap();
        std::fs::create_dir_all(&b).unwrap();
        std::fs::write(b.join("x.bin"), b"1").unwrap();
        std::fs::write(a.join("vendor/y.bin.xz"), b"1").unwrap();
        std::fs::write(b.join("y.bin.zst"), b"1").unwrap();
        let dirs = vec![a.clone(), b.clone()];
        assert_eq!(find_firmware(&dirs, "x.bin"), Some(b.join("x.bin")));
        assert_eq!(
            find_firmware(&dirs, "vendor/y.bin"),
            Some(a.join("vendor/y.bin.xz"))
        );
        assert_eq!(find_firmware(&dirs, "y.bin"), Some(b.join("y.bin.zst")));
        assert_eq!(find_firmware(&dirs, "../b/x.bin"), None);
        assert_eq!(find_firmware(&dirs, "/etc/passwd"), None);
        assert_eq!(find_firmware(&dirs, "nothing"), None);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
