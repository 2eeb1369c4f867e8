//! What depmod reads from each module file ([`ModuleFacts`]): exported
//! and needed symbols and the `.modinfo` strings, read in parallel (each
//! file decompressed once) or taken from the metadata cache, then added
//! to the engine's symbol table and module list.

use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use super::{cache, cat, os, serr, Depmod};
use crate::compression::{self, Compression};
use crate::elf::{DependencySymbol, Elf, Symbol};
use crate::error::{errno, errno_of, Errno};
use crate::kmod::Level;

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

impl Depmod<'_> {
    /// Reads every module's facts, taking unchanged files from the
    /// metadata cache when one is given (and writing it back, but with
    /// `-n`, which writes nothing). Returns the
    /// facts and, if the cache could not be saved, why.
    pub(super) fn read_all_facts(&self) -> (Vec<ModuleFacts>, Option<String>) {
        let all: Vec<&[u8]> = self.mods.iter().map(|m| &m.path[..]).collect();
        let Some(cache_path) = &self.opts.cache else {
            return (self.read_facts(&all), None);
        };
        let mut old = cache::MetadataCache::load(cache_path);
        let old_len = old.len();
        let keys: Vec<Option<cache::CacheKey>> =
            all.iter().map(|p| cache::CacheKey::of(os(p))).collect();
        let mut facts: Vec<Option<ModuleFacts>> = keys
            .iter()
            .map(|k| k.as_ref().and_then(|k| old.take(k)))
            .collect();
        drop(old);
        let missing: Vec<usize> = (0..all.len()).filter(|&i| facts[i].is_none()).collect();
        let unchanged = missing.is_empty() && old_len == all.len();
        let read = self.read_facts(&missing.iter().map(|&i| all[i]).collect::<Vec<_>>());
        for (i, f) in missing.into_iter().zip(read) {
            facts[i] = Some(f);
        }
        let facts: Vec<ModuleFacts> = facts
            .into_iter()
            .zip(&all)
            .map(|(f, p)| f.unwrap_or_else(|| ModuleFacts::read(os(p))))
            .collect();
        if unchanged || self.opts.dry_run {
            // every module was a hit and none was removed: the file is
            // current; or -n: nothing is written, the cache included
            return (facts, None);
        }
        // The new cache holds exactly the modules of this run: entries of
        // deleted or changed files are dropped.
        let entries: Vec<(&cache::CacheKey, &ModuleFacts)> = keys
            .iter()
            .zip(&facts)
            .filter_map(|(k, f)| k.as_ref().map(|k| (k, f)))
            .collect();
        if self.opts.cache_is_default {
            // the default place: made below an existing var/cache
            if let Some(dir) = cache_path.parent() {
                let _ = std::fs::create_dir_all(dir);
            }
        }
        let err = cache::MetadataCache::save_entries(cache_path, &entries)
            .err()
            .map(|e| format!("could not write cache {}: {e}", cache_path.display()));
        (facts, err)
    }

    pub(super) fn read_facts(&self, paths: &[&[u8]]) -> Vec<ModuleFacts> {
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

    pub(super) fn load_modules(&mut self) {
        let (facts, cache_error) = self.read_all_facts();
        if let Some(e) = cache_error {
            if self.opts.cache_is_default {
                self.log.log(Level::Notice, format!("{e}\n").as_bytes());
            } else {
                self.log.warn(format!("{e}\n").as_bytes());
            }
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
}
