//! Finding the module files: the module directory's tree and the
//! `external` directories walked as kmod does (`build` and `source` and
//! `exclude`d names skipped), the module of a name chosen by `override`
//! and `search` priorities, or the files given on the command line.

use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::MetadataExt;

use super::config::Search;
use super::{at_call_failed, cat, os, serr, Depmod, Mod, KMOD_EXTS, R};
use crate::error::{errno, errno_of, Errno};
use crate::kmod::path_to_modname;

pub(super) fn has_kmod_ext(name: &[u8]) -> bool {
    KMOD_EXTS
        .iter()
        .any(|e| name.len() > e.len() && name.ends_with(e))
}

impl Depmod<'_> {
    pub(super) fn add_explicit(&mut self, path: &[u8]) -> R<()> {
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
    pub(super) fn module_add(&mut self, path: Vec<u8>, modname: Vec<u8>) -> Result<(), Errno> {
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

    pub(super) fn module_del(&mut self, modname: &[u8]) {
        if let Some(m) = self.by_name.remove(modname) {
            if let Some(u) = &m.uncrelpath {
                self.uncrel.remove(u);
            }
        }
    }

    /// kmod's `depmod_module_is_higher_priority`: whether the module
    /// already found beats the one at `newpath`.
    pub(super) fn is_higher_priority(
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
                Search::BuiltIn => bprio = i,
                Search::External => {
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
                Search::Path(p) => {
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

    pub(super) fn search(&mut self) -> Result<(), Errno> {
        let top = self.dirname.clone();
        self.search_path(&top)?;
        let externals = self.cfg.externals.clone();
        for ext in externals {
            let _ = self.search_path(&ext);
        }
        Ok(())
    }

    pub(super) fn search_path(&mut self, path: &[u8]) -> Result<(), Errno> {
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

    pub(super) fn exclude(&self, name: &[u8]) -> bool {
        name == b"."
            || name == b".."
            || name == b"build"
            || name == b"source"
            || self.cfg.excludes.iter().any(|e| e == name)
    }

    pub(super) fn search_dir(&mut self, entries: std::fs::ReadDir, path: &mut Vec<u8>, fd: usize) {
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
                        let msg = at_call_failed(b"fstatat", fd, name, b"", &e);
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
                        let msg = at_call_failed(b"openat", fd, name, b", O_RDONLY", &e);
                        self.log.err(&msg);
                    }
                }
            } else if let Err(e) = self.search_file(baselen, name.len(), path) {
                let msg = cat(&[b"failed ", path, b": ", serr(e), b"\n"]);
                self.log.err(&msg);
            }
        }
    }

    pub(super) fn search_file(
        &mut self,
        baselen: usize,
        namelen: usize,
        path: &[u8],
    ) -> Result<(), Errno> {
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
}
