//! The modules the running kernel has loaded, as `/proc/modules` and
//! `/sys/module/NAME/*` show them.
//!
//! All reads go through a [`KernelState`] rooted at `/` (or at another
//! directory holding `proc/` and `sys/`, for tests and for inspecting a
//! mounted system). Each accessor mirrors the libkmod function that tools
//! rely on, with the same fallbacks and the same errno on failure.

use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::{OsStrExt, OsStringExt};
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
    pub fn sys_module_dir(&self, name: impl AsRef<OsStr>) -> PathBuf {
        self.path("/sys/module").join(name.as_ref())
    }

    /// Names of the loaded modules, in `/proc/modules` order (newest first),
    /// normalised as kmod normalises them. A missing `/proc/modules` (a
    /// kernel without module support) is an error with its errno.
    pub fn loaded_modules(&self) -> Result<Vec<String>> {
        Ok(self
            .loaded_module_entries()?
            .into_iter()
            .flatten()
            .map(|n| string_lossy(n.into_vec()))
            .collect())
    }

    /// The entries of `/proc/modules` exactly as libkmod's
    /// `kmod_module_new_from_loaded` takes them, for tools whose output
    /// must match kmod's even when the file is not what a kernel writes:
    /// each line is read in pieces of at most 4,095 bytes (its `fgets` into
    /// a 4 KiB buffer), the name is the first word of the first piece
    /// (`strtok` on space and tab: leading blanks skipped, a name with
    /// nothing after it keeps its newline), cut at a NUL byte and
    /// normalised; `None` for a piece with no word, which kmod reports as
    /// a module named `(null)`. After the name the rest of the line is
    /// skipped, judged by the last piece's C-string length: a piece whose
    /// NUL comes before its newline also swallows the next line, as in
    /// kmod.
    pub fn loaded_module_entries(&self) -> Result<Vec<Option<OsString>>> {
        let path = self.proc_modules_path();
        let text = std::fs::read(&path).map_err(|e| Error::io(e, path.display()))?;
        Ok(kmod_entries(&text)
            .into_iter()
            .map(|line| first_word(line).map(|w| OsString::from_vec(modname_normalize(w))))
            .collect())
    }

    /// The module's size in bytes: `/sys/module/NAME/coresize`, falling
    /// back to `/proc/modules` on kernels without it. `ENOENT` when the
    /// module is not loaded.
    pub fn size(&self, name: impl AsRef<OsStr>) -> Result<i64> {
        let name = name.as_ref();
        let dir = self.sys_module_dir(name);
        std::fs::metadata(&dir).map_err(|e| Error::io(e, dir.display()))?;
        let coresize = dir.join("coresize");
        if let Ok(text) = std::fs::read(&coresize) {
            return parse_long(&text).ok_or_else(|| {
                Error::invalid(format!("failed to read coresize from {}", dir.display()))
            });
        }
        let path = self.proc_modules_path();
        let text = std::fs::read(&path).map_err(|e| Error::io(e, path.display()))?;
        // kmod compares the line's first word as it is (not normalised) and
        // counts the entries it reads (see `loaded_module_entries`)
        for (lineno, line) in kmod_entries(&text).into_iter().enumerate() {
            let mut words = line
                .split(|&b| b == b' ' || b == b'\t')
                .filter(|w| !w.is_empty());
            if words.next() != Some(name.as_bytes()) {
                continue;
            }
            let invalid = || {
                Error::invalid(format!(
                    "invalid line format at /proc/modules:{}",
                    lineno + 1
                ))
            };
            let word = words.next().ok_or_else(invalid)?;
            let p = crate::compat::strtol::strtol(word, 10);
            return if p.end != 0 && p.end == word.len() {
                Ok(p.value)
            } else {
                Err(invalid())
            };
        }
        Err(Error::new(
            errno::ENOENT,
            format!("{}: not in /proc/modules", name.to_string_lossy()),
        ))
    }

    /// The module's reference count (`/sys/module/NAME/refcnt`).
    pub fn refcnt(&self, name: impl AsRef<OsStr>) -> Result<i32> {
        let path = self.sys_module_dir(name).join("refcnt");
        let text = std::fs::read(&path).map_err(|e| Error::io(e, path.display()))?;
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
    pub fn holders(&self, name: impl AsRef<OsStr>) -> Result<Vec<String>> {
        Ok(self
            .holder_names(name)?
            .into_iter()
            .map(|n| string_lossy(n.into_vec()))
            .collect())
    }

    /// [`holders`](Self::holders) with the names as the file system has
    /// them (normalised, not necessarily UTF-8).
    pub fn holder_names(&self, name: impl AsRef<OsStr>) -> Result<Vec<OsString>> {
        let path = self.sys_module_dir(name).join("holders");
        let rd = std::fs::read_dir(&path).map_err(|e| {
            let n = errno_of(&e);
            // kmod names the path from its PATH_MAX buffer: at most 4,095
            // bytes of it (a name longer than a path can be)
            let shown = &path.as_os_str().as_bytes()[..path.as_os_str().len().min(4095)];
            Error::new(
                n,
                format!(
                    "could not open '{}': {}",
                    String::from_utf8_lossy(shown),
                    crate::error::strerror(n)
                ),
            )
        })?;
        let mut out = Vec::new();
        for entry in rd {
            let entry = entry.map_err(|e| Error::io(e, path.display()))?;
            out.push(OsString::from_vec(modname_normalize(
                entry.file_name().as_bytes(),
            )));
        }
        Ok(out)
    }

    /// The module's init state; `Coming` when its sysfs directory exists
    /// without `initstate` yet, as kmod decides.
    pub fn initstate(&self, name: impl AsRef<OsStr>) -> Result<InitState> {
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
    pub fn taint(&self, name: impl AsRef<OsStr>) -> String {
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
fn parse_long(s: &[u8]) -> Option<i64> {
    let p = crate::compat::strtol::strtol(s, 10);
    let next = s.get(p.end)?;
    (p.end != 0 && matches!(next, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')).then_some(p.value)
}

/// kmod's reading of `/proc/modules` (see
/// [`KernelState::loaded_module_entries`]): the first piece of each entry,
/// cut at its first NUL byte.
fn kmod_entries(text: &[u8]) -> Vec<&[u8]> {
    // glibc's fgets into a 4096-byte buffer: up to 4,095 bytes, through
    // the first newline
    const PIECE: usize = 4095;
    let mut pos = 0;
    let mut next_piece = || -> Option<&[u8]> {
        let rest = text.get(pos..).filter(|r| !r.is_empty())?;
        let most = rest.len().min(PIECE);
        let end = rest[..most]
            .iter()
            .position(|&b| b == b'\n')
            .map_or(most, |i| i + 1);
        pos += end;
        let piece = &rest[..end];
        Some(&piece[..piece.iter().position(|&b| b == 0).unwrap_or(end)])
    };
    let mut entries = Vec::new();
    while let Some(line) = next_piece() {
        entries.push(line);
        let mut last = line;
        while last.last().is_some_and(|&b| b != b'\n') {
            match next_piece() {
                Some(p) => last = p,
                None => break,
            }
        }
    }
    entries
}

/// `strtok(line, " \t")`: the first word, `None` when there is none.
fn first_word(line: &[u8]) -> Option<&[u8]> {
    line.split(|&b| b == b' ' || b == b'\t')
        .find(|w| !w.is_empty())
}

#[cfg(test)]
mod tests {

    #[test]
    fn proc_modules_read_as_kmod_reads_it() {
        let names = |t: &[u8]| -> Vec<Option<String>> {
            kmod_entries(t)
                .into_iter()
                .map(|l| first_word(l).map(|w| string_lossy(modname_normalize(w))))
                .collect()
        };
        let s = |v: &str| Some(v.to_string());
        assert_eq!(
            names(b"a 1 0 - Live 0x0\nb-c 2 0 - Live 0x0\n"),
            [s("a"), s("b_c")]
        );
        // no word after the name: the newline stays; a blank line is a name
        assert_eq!(names(b"a\n\n  b\tx"), [s("a\n"), s("\n"), s("b")]);
        // only blanks: no name at all
        assert_eq!(names(b"  \t"), [None]);
        // a NUL before the newline: the next line is skipped
        assert_eq!(names(b"a\0x 1\nb 2\nc 3\n"), [s("a"), s("c")]);
        // a long line is one entry; its name is cut at 4,095 bytes
        let long = format!("{} 1\nz 1\n", "m".repeat(10_000));
        assert_eq!(names(long.as_bytes()), [s(&"m".repeat(4095)), s("z")]);
        // a name after 4,095 blanks is in the second piece: none
        let late = format!("{}late 1\nz 1\n", " ".repeat(4095));
        assert_eq!(names(late.as_bytes()), [None, s("z")]);
        assert!(names(b"").is_empty());
    }
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
        assert_eq!(parse_long(b"12\n"), Some(12));
        assert_eq!(parse_long(b"-3 "), Some(-3));
        assert_eq!(parse_long(b"12"), None);
        assert_eq!(parse_long(b"x\n"), None);
    }
}
