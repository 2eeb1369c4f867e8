//! modkit's depmod metadata cache (`depmod --modkit-cache=FILE`): what was
//! read from each module file, keyed by the file's path, size, mtime, inode
//! and device, so that a re-run only reads modules that changed.
//!
//! The file is `MKDC`, a format version, the entries, and a 64-bit FNV-1a
//! checksum of all that precedes it. A missing, truncated, corrupt or
//! other-version file loads as an empty cache (the run then reads every
//! module, and the outputs are the same); saving writes a temporary file
//! and renames it into place.

use std::collections::HashMap;
use std::os::unix::fs::MetadataExt;
use std::path::Path;

use super::ModuleFacts;
use crate::elf::{DependencySymbol, Symbol, SymbolBind};
use crate::error::Errno;

const MAGIC: &[u8; 4] = b"MKDC";
const VERSION: u32 = 1;

/// What identifies a module file's contents without reading it.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct CacheKey {
    /// The path as depmod found it.
    pub path: Vec<u8>,
    /// Size in bytes.
    pub size: u64,
    /// Modification time, nanoseconds since the epoch.
    pub mtime_ns: i128,
    /// Inode number.
    pub ino: u64,
    /// Device number.
    pub dev: u64,
}

impl CacheKey {
    /// The key of the file at `path` now (following symlinks, as depmod
    /// reads them); `None` if it cannot be stat'ed.
    pub fn of(path: &Path) -> Option<CacheKey> {
        let m = std::fs::metadata(path).ok()?;
        Some(CacheKey {
            path: path.as_os_str().as_encoded_bytes().to_vec(),
            size: m.size(),
            mtime_ns: i128::from(m.mtime()) * 1_000_000_000 + i128::from(m.mtime_nsec()),
            ino: m.ino(),
            dev: m.dev(),
        })
    }
}

/// The cache: module facts by key.
#[derive(Default, Debug)]
pub struct MetadataCache {
    entries: HashMap<CacheKey, ModuleFacts>,
}

impl MetadataCache {
    /// Loads `path`; anything but a valid cache file gives an empty cache.
    pub fn load(path: &Path) -> MetadataCache {
        std::fs::read(path)
            .ok()
            .and_then(|d| decode(&d))
            .unwrap_or_default()
    }

    /// The facts of an unchanged file, if cached.
    pub fn get(&self, key: &CacheKey) -> Option<&ModuleFacts> {
        self.entries.get(key)
    }

    /// Adds or replaces an entry.
    pub fn insert(&mut self, key: CacheKey, facts: ModuleFacts) {
        self.entries.insert(key, facts);
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// `true` when there are no entries.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Writes the cache to `path` atomically (temporary file + rename).
    pub fn save(&self, path: &Path) -> std::io::Result<()> {
        crate::fsutil::write_atomic(path, &self.encode())
    }

    fn encode(&self) -> Vec<u8> {
        let mut w = Vec::with_capacity(self.entries.len() * 4096);
        w.extend_from_slice(MAGIC);
        put_u32(&mut w, VERSION);
        put_u64(&mut w, self.entries.len() as u64);
        let mut keys: Vec<&CacheKey> = self.entries.keys().collect();
        keys.sort_by(|a, b| a.path.cmp(&b.path));
        for k in keys {
            let f = &self.entries[k];
            put_bytes(&mut w, &k.path);
            put_u64(&mut w, k.size);
            w.extend_from_slice(&k.mtime_ns.to_le_bytes());
            put_u64(&mut w, k.ino);
            put_u64(&mut w, k.dev);
            put_result(&mut w, &f.symbols, |w, list| {
                put_u64(w, list.len() as u64);
                for s in list {
                    put_u64(w, s.crc);
                    put_bytes(w, s.name.as_bytes());
                }
            });
            put_result(&mut w, &f.modinfo, |w, list| {
                put_u64(w, list.len() as u64);
                for s in list {
                    put_bytes(w, s);
                }
            });
            put_result(&mut w, &f.dependency_symbols, |w, list| {
                put_u64(w, list.len() as u64);
                for s in list {
                    put_u64(w, s.crc);
                    w.push(bind_code(s.bind));
                    put_bytes(w, s.name.as_bytes());
                }
            });
            match &f.load_log {
                Some(l) => {
                    w.push(1);
                    put_bytes(&mut w, l.as_bytes());
                }
                None => w.push(0),
            }
        }
        let sum = fnv1a(&w);
        put_u64(&mut w, sum);
        w
    }
}

fn put_u32(w: &mut Vec<u8>, v: u32) {
    w.extend_from_slice(&v.to_le_bytes());
}
fn put_u64(w: &mut Vec<u8>, v: u64) {
    w.extend_from_slice(&v.to_le_bytes());
}
fn put_bytes(w: &mut Vec<u8>, b: &[u8]) {
    put_u64(w, b.len() as u64);
    w.extend_from_slice(b);
}
fn put_result<T>(w: &mut Vec<u8>, r: &Result<T, Errno>, ok: impl FnOnce(&mut Vec<u8>, &T)) {
    match r {
        Ok(v) => {
            w.push(0);
            ok(w, v);
        }
        Err(e) => {
            w.push(1);
            put_u32(w, *e as u32);
        }
    }
}

fn bind_code(b: SymbolBind) -> u8 {
    match b {
        SymbolBind::None => 0,
        SymbolBind::Local => 1,
        SymbolBind::Global => 2,
        SymbolBind::Weak => 3,
        SymbolBind::Undef => 4,
    }
}

fn bind_of(c: u8) -> Option<SymbolBind> {
    Some(match c {
        0 => SymbolBind::None,
        1 => SymbolBind::Local,
        2 => SymbolBind::Global,
        3 => SymbolBind::Weak,
        4 => SymbolBind::Undef,
        _ => return None,
    })
}

fn fnv1a(data: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in data {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

/// A bounds-checked reader over the cache bytes.
struct Reader<'a> {
    data: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let end = self.pos.checked_add(n)?;
        let s = self.data.get(self.pos..end)?;
        self.pos = end;
        Some(s)
    }
    fn u8(&mut self) -> Option<u8> {
        Some(self.take(1)?[0])
    }
    fn u32(&mut self) -> Option<u32> {
        Some(u32::from_le_bytes(self.take(4)?.try_into().ok()?))
    }
    fn u64(&mut self) -> Option<u64> {
        Some(u64::from_le_bytes(self.take(8)?.try_into().ok()?))
    }
    fn bytes(&mut self) -> Option<&'a [u8]> {
        let n = usize::try_from(self.u64()?).ok()?;
        self.take(n)
    }
    fn string(&mut self) -> Option<String> {
        String::from_utf8(self.bytes()?.to_vec()).ok()
    }
    /// A count of items, each at least `min` bytes: rejects counts the
    /// remaining data cannot hold (no huge allocations from corrupt input).
    fn count(&mut self, min: usize) -> Option<usize> {
        let n = usize::try_from(self.u64()?).ok()?;
        (n.checked_mul(min)? <= self.data.len() - self.pos).then_some(n)
    }
    fn result<T>(&mut self, ok: impl FnOnce(&mut Self) -> Option<T>) -> Option<Result<T, Errno>> {
        match self.u8()? {
            0 => Some(Ok(ok(self)?)),
            1 => Some(Err(self.u32()? as Errno)),
            _ => None,
        }
    }
}

fn decode(data: &[u8]) -> Option<MetadataCache> {
    let body_len = data.len().checked_sub(8)?;
    let (body, sum) = data.split_at(body_len);
    if fnv1a(body) != u64::from_le_bytes(sum.try_into().ok()?) {
        return None;
    }
    let mut r = Reader { data: body, pos: 0 };
    if r.take(4)? != MAGIC || r.u32()? != VERSION {
        return None;
    }
    let n = r.count(48)?;
    let mut entries = HashMap::with_capacity(n);
    for _ in 0..n {
        let path = r.bytes()?.to_vec();
        let size = r.u64()?;
        let mtime_ns = i128::from_le_bytes(r.take(16)?.try_into().ok()?);
        let ino = r.u64()?;
        let dev = r.u64()?;
        let symbols = r.result(|r| {
            let n = r.count(16)?;
            (0..n)
                .map(|_| {
                    Some(Symbol {
                        crc: r.u64()?,
                        name: r.string()?,
                    })
                })
                .collect::<Option<Vec<_>>>()
        })?;
        let modinfo = r.result(|r| {
            let n = r.count(8)?;
            (0..n)
                .map(|_| Some(r.bytes()?.to_vec()))
                .collect::<Option<Vec<_>>>()
        })?;
        let dependency_symbols = r.result(|r| {
            let n = r.count(17)?;
            (0..n)
                .map(|_| {
                    let crc = r.u64()?;
                    let bind = bind_of(r.u8()?)?;
                    Some(DependencySymbol {
                        crc,
                        bind,
                        name: r.string()?,
                    })
                })
                .collect::<Option<Vec<_>>>()
        })?;
        let load_log = match r.u8()? {
            0 => None,
            1 => Some(r.string()?),
            _ => return None,
        };
        let key = CacheKey {
            path,
            size,
            mtime_ns,
            ino,
            dev,
        };
        entries.insert(
            key,
            ModuleFacts {
                symbols,
                modinfo,
                dependency_symbols,
                load_log,
            },
        );
    }
    (r.pos == body.len()).then_some(MetadataCache { entries })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> MetadataCache {
        let mut c = MetadataCache::default();
        let key = |p: &str, size| CacheKey {
            path: p.into(),
            size,
            mtime_ns: -5,
            ino: 7,
            dev: 9,
        };
        c.insert(
            key("/m/a.ko", 10),
            ModuleFacts {
                symbols: Ok(vec![Symbol {
                    crc: 0xdead_beef,
                    name: "a_sym".into(),
                }]),
                modinfo: Ok(vec![b"alias=x".to_vec(), b"depends=".to_vec()]),
                dependency_symbols: Ok(vec![DependencySymbol {
                    crc: 1,
                    bind: SymbolBind::Weak,
                    name: "b".into(),
                }]),
                load_log: None,
            },
        );
        c.insert(
            key("/m/b.ko.xz", 11),
            ModuleFacts {
                symbols: Err(22),
                modinfo: Err(61),
                dependency_symbols: Err(22),
                load_log: Some("xz: File is corrupt".into()),
            },
        );
        c
    }

    fn same(a: &MetadataCache, b: &MetadataCache) -> bool {
        a.entries.len() == b.entries.len()
            && a.entries.iter().all(|(k, v)| {
                b.entries
                    .get(k)
                    .is_some_and(|w| format!("{v:?}") == format!("{w:?}"))
            })
    }

    #[test]
    fn round_trip() {
        let c = sample();
        let d = decode(&c.encode()).expect("decodes");
        assert!(same(&c, &d));
    }

    #[test]
    fn every_key_field_must_match() {
        let c = sample();
        let k = CacheKey {
            path: b"/m/a.ko".to_vec(),
            size: 10,
            mtime_ns: -5,
            ino: 7,
            dev: 9,
        };
        assert!(c.get(&k).is_some());
        for changed in [
            CacheKey {
                size: 11,
                ..k.clone()
            },
            CacheKey {
                mtime_ns: -4,
                ..k.clone()
            },
            CacheKey {
                ino: 8,
                ..k.clone()
            },
            CacheKey {
                dev: 1,
                ..k.clone()
            },
            CacheKey {
                path: b"/m/c.ko".to_vec(),
                ..k.clone()
            },
        ] {
            assert!(c.get(&changed).is_none(), "{changed:?}");
        }
    }

    #[test]
    fn truncated_or_flipped_files_load_empty() {
        let bytes = sample().encode();
        for cut in 0..bytes.len() {
            assert!(decode(&bytes[..cut]).is_none(), "cut at {cut}");
        }
        for i in 0..bytes.len() {
            let mut b = bytes.clone();
            b[i] ^= 0x40;
            assert!(decode(&b).is_none(), "flip at {i}");
        }
    }

    #[test]
    fn save_and_load_through_a_file() {
        let dir = std::env::temp_dir().join(format!("modkit-cache-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join("cache");
        sample().save(&p).unwrap();
        assert!(same(&sample(), &MetadataCache::load(&p)));
        std::fs::write(&p, b"garbage").unwrap();
        assert!(MetadataCache::load(&p).is_empty());
        assert!(MetadataCache::load(&dir.join("missing")).is_empty());
        let _ = std::fs::remove_dir_all(&dir);
    }
}
