//! The modules the running kernel has loaded, as `/proc/modules` and
//! `/sys/module/NAME/*` show them.
//!
//! All reads go through a [`KernelState`] rooted at `/` (or at another
//! directory holding `proc/` and `sys/`, for tests and for inspecting a
//! mounted system). Each accessor mirrors the libkmod function that tools
//! rely on, with the same fallbacks and the same errno on failure.

use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use crate::error::{errno, errno_of, Error, Result};
use crate::kmod::{modname_normalize, string_lossy};

/// A module's init state (`/sys/module/NAME/initstate`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InitState {
    /// Built into the kernel image.
    Builtin,
    /// Loaded and initialised.
    Live,
    /// Being loaded (its init function runs).
    Coming,
    /// Being unloaded.
    Going,
}

impl InitState {
    /// kmod's name for the state: `builtin`, `live`, `coming`, `going`.
    pub fn as_str(self) -> &'static str {
        match self {
            InitState::Builtin => "builtin",
            InitState::Live => "live",
            InitState::Coming => "coming",
            InitState::Going => "going",
        }
    }
}

/// Where the kernel's module state is read from.
#[derive(Clone, Debug)]
pub struct KernelState {
    root: PathBuf,
}

impl Default for KernelState {
    fn default() -> Self {
        KernelState::new()
    }
}

impl KernelState {
    /// The running system (`/proc`, `/sys`).
    pub fn new() -> KernelState {
        KernelState {
            root: PathBuf::from("/"),
        }
    }

    /// A system whose `proc/` and `sys/` live under `root`.
    pub fn with_root(root: impl Into<PathBuf>) -> KernelState {
        KernelState { root: root.into() }
    }

    /// The directory `proc/` and `sys/` are read under (`/` for the
    /// running system).
    pub fn root(&self) -> &Path {
        &self.root
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.root.join(rel.trim_start_matches('/'))
    }

    /// Path of `/proc/modules` under this root.
    pub fn proc_modules_path(&self) -> PathBuf {
        self.path("/proc/modules")
    }

    /// Path of `/sys/module/NAME` under this root.
    pub fn sys_module_dir(&self, name: &str) -> PathBuf {
        self.path("/sys/module").join(name)
    }

    /// Names of the loaded modules, in `/proc/modules` order (newest first),
    /// normalised as kmod normalises them. A missing `/proc/modules` (a
    /// kernel without module support) is an error with its errno.
    pub fn loaded_modules(&self) -> Result<Vec<String>> {
        let path = self.proc_modules_path();
        let text = std::fs::read(&path).map_err(|e| Error::io(e, path.display()))?;
        Ok(text
            .split(|&b| b == b'\n')
            .filter_map(|line| {
                let name = line
                    .split(|&b| b == b' ' || b == b'\t')
                    .find(|t| !t.is_empty())?;
                Some(string_lossy(modname_normalize(name)))
            })
            .collect())
    }

    /// The module's size in bytes: `/sys/module/NAME/coresize`, falling
    /// back to `/proc/modules` on kernels without it. `ENOENT` when the
    /// module is not loaded.
    pub fn size(&self, name: &str) -> Result<i64> {
        let dir = self.sys_module_dir(name);
        std::fs::metadata(&dir).map_err(|e| Error::io(e, dir.display()))?;
        let coresize = dir.join("coresize");
        if let Ok(text) = std::fs::read_to_string(&coresize) {
            return parse_long(&text).ok_or_else(|| {
                Error::invalid(format!("failed to read coresize from {}", dir.display()))
            });
        }
        let path = self.proc_modules_path();
        let text = std::fs::read_to_string(&path).map_err(|e| Error::io(e, path.display()))?;
        for (lineno, line) in text.lines().enumerate() {
            let mut fields = line.split([' ', '\t']).filter(|s| !s.is_empty());
            if fields.next() != Some(name) {
                continue;
            }
            return fields
                .next()
                .and_then(|s| s.parse::<i64>().ok())
                .ok_or_else(|| {
                    Error::invalid(format!(
                        "invalid line format at /proc/modules:{}",
                        lineno + 1
                    ))
                });
        }
        Err(Error::new(
            errno::ENOENT,
            format!("{name}: not in /proc/modules"),
        ))
    }

    /// The module's reference count (`/sys/module/NAME/refcnt`).
    pub fn refcnt(&self, name: &str) -> Result<i32> {
        let path = self.sys_module_dir(name).join("refcnt");
        let text = std::fs::read_to_string(&path).map_err(|e| Error::io(e, path.display()))?;
        parse_long(&text).map(|v| v as i32).ok_or_else(|| {
            Error::invalid(format!(
                "could not read integer from '{}': '{}'",
                path.display(),
                crate::error::strerror(errno::EINVAL)
            ))
        })
    }

    /// The modules holding this one (`/sys/module/NAME/holders/`), in
    /// directory order as kmod lists them.
    pub fn holders(&self, name: &str) -> Result<Vec<String>> {
        let path = self.sys_module_dir(name).join("holders");
        let rd = std::fs::read_dir(&path).map_err(|e| {
            let n = errno_of(&e);
            Error::new(
                n,
                format!(
                    "could not open '{}': {}",
                    path.display(),
                    crate::error::strerror(n)
                ),
            )
        })?;
        let mut out = Vec::new();
        for entry in rd {
            let entry = entry.map_err(|e| Error::io(e, path.display()))?;
            out.push(string_lossy(modname_normalize(
                entry.file_name().as_bytes(),
            )));
        }
        Ok(out)
    }

    /// The module's init state; `Coming` when its sysfs directory exists
    /// without `initstate` yet, as kmod decides.
    pub fn initstate(&self, name: &str) -> Result<InitState> {
        let dir = self.sys_module_dir(name);
        let path = dir.join("initstate");
        match std::fs::read_to_string(&path) {
            Ok(s) => match s.as_str() {
                "live\n" => Ok(InitState::Live),
                "coming\n" => Ok(InitState::Coming),
                "going\n" => Ok(InitState::Going),
                other => Err(Error::invalid(format!(
                    "unknown {}: '{}'",
                    path.display(),
                    other
                ))),
            },
            Err(e) => {
                if dir.is_dir() {
                    return Ok(InitState::Coming);
                }
                Err(Error::io(e, path.display()))
            }
        }
    }

    /// The module's taint flags (`/sys/module/NAME/taint`, e.g. `OE`),
    /// empty when untainted or unknown.
    pub fn taint(&self, name: &str) -> String {
        std::fs::read_to_string(self.sys_module_dir(name).join("taint"))
            .map(|s| s.trim_end().to_string())
            .unwrap_or_default()
    }

    /// `true` when the kernel exposes module state at all.
    pub fn has_module_support(&self) -> bool {
        Path::new(&self.proc_modules_path()).exists()
    }
}

/// `strtol(s, &end, 10)` followed by kmod's check that a space (e.g. the
/// newline) ends the number.
fn parse_long(s: &str) -> Option<i64> {
    let p = crate::compat::strtol::strtol(s.as_bytes(), 10);
    let next = s.as_bytes().get(p.end)?;
    (p.end != 0 && matches!(next, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')).then_some(p.value)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A fake `/proc` and `/sys`, removed when dropped.
    fn fake_system() -> modkit_testkit::ScratchDir {
        let root = modkit_testkit::ScratchDir::new("loaded");
        std::fs::create_dir_all(root.join("proc")).unwrap();
        std::fs::write(
            root.join("proc/modules"),
            "mk_b 16384 1 mk_a, Live 0xffffffffc0001000 (OE)\nmk_a 12288 0 - Live 0x0\nold 999 0 - Live 0x0\n",
        )
        .unwrap();
        for (m, size, refcnt) in [("mk_b", "16384\n", "1\n"), ("mk_a", "12288\n", "0\n")] {
            let d = root.join("sys/module").join(m);
            std::fs::create_dir_all(d.join("holders")).unwrap();
            std::fs::write(d.join("coresize"), size).unwrap();
            std::fs::write(d.join("refcnt"), refcnt).unwrap();
            std::fs::write(d.join("initstate"), "live\n").unwrap();
        }
        std::fs::create_dir_all(root.join("sys/module/mk_b/holders/mk_a")).unwrap();
        std::fs::create_dir_all(root.join("sys/module/old")).unwrap();
        std::fs::write(root.join("sys/module/mk_b/taint"), "OE\n").unwrap();
        root
    }

    #[test]
    fn reads_a_fake_system() {
        let root = fake_system();
        let k = KernelState::with_root(root.path());
        assert_eq!(k.loaded_modules().unwrap(), vec!["mk_b", "mk_a", "old"]);
        assert_eq!(k.size("mk_b").unwrap(), 16384);
        assert_eq!(k.size("old").unwrap(), 999, "falls back to /proc/modules");
        assert_eq!(k.size("gone").unwrap_err().errno(), errno::ENOENT);
        assert_eq!(k.refcnt("mk_b").unwrap(), 1);
        assert_eq!(k.holders("mk_b").unwrap(), vec!["mk_a"]);
        assert!(k.holders("mk_a").unwrap().is_empty());
        assert_eq!(k.initstate("mk_a").unwrap(), InitState::Live);
        assert_eq!(k.initstate("old").unwrap(), InitState::Coming);
        assert_eq!(k.taint("mk_b"), "OE");
        assert_eq!(k.taint("mk_a"), "");
    }

    #[test]
    fn no_module_support_is_an_error() {
        let k = KernelState::with_root("/nonexistent-root");
        assert_eq!(k.loaded_modules().unwrap_err().errno(), errno::ENOENT);
        assert!(!k.has_module_support());
    }

    #[test]
    fn parse_long_like_kmod() {
        assert_eq!(parse_long("12\n"), Some(12));
        assert_eq!(parse_long("-3 "), Some(-3));
        assert_eq!(parse_long("12"), None);
        assert_eq!(parse_long("x\n"), None);
    }
}
