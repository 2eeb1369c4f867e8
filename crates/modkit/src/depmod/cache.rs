//! modkit's depmod metadata cache: what was read from each module file,
//! keyed by the file's path, size, mtime, inode and device, so that a
//! re-run only reads modules that changed (what DKMS does: one module
//! replaced, `depmod -a`).
//!
//! Where it lives: [`default_path`] (`/var/cache/modkit/depmod/VERSION`,
//! under the root's or the output root's `var/cache` with `-b`/`-o`), or
//! the file `depmod --modkit-cache=FILE` names; `depmod --no-cache` uses
//! none.
//!
//! The file is `MKDC`, a format version, the entries, and a 64-bit
//! checksum of all that precedes it (a multiply-rotate hash over 64-bit
//! words). A missing, truncated, corrupt or other-version file loads as an
//! empty cache (the run then reads every module, and the outputs are the
//! same); saving writes a temporary file and renames it into place.

use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use super::ModuleFacts;
use crate::elf::{DependencySymbol, Symbol, SymbolBind};
use crate::error::Errno;

const MAGIC: &[u8; 4] = b"MKDC";
/// Version 2: word-at-a-time checksum (version 1 used byte-wise FNV-1a).
const VERSION: u32 = 2;

/// Where the cache lives under a root directory: `var/cache/modkit/depmod`.
pub const DEFAULT_DIR: &str = "var/cache/modkit/depmod";

/// The default cache file of kernel `kversion`:
/// `BASE/var/cache/modkit/depmod/KVERSION`, where BASE is the output root
/// (`-o`) when given, else the root (`-b`, `/` by default) — the cache
/// follows the indexes being written, so depmod writes only under the
/// tree it was told to write, the cache of an image going into the
/// image's own `/var/cache`.
///
/// `None` (no cache) when `BASE/var/cache` is not a directory: depmod
/// never creates `var/cache` itself (a bare staging tree given to `-b`
/// gets nothing but its indexes), only the `modkit/depmod` below it; and
/// when the version is empty or holds a `/`.
pub fn default_path(root: &[u8], out_root: Option<&[u8]>, kversion: &[u8]) -> Option<PathBuf> {
    if kversion.is_empty() || kversion.contains(&b'/') || kversion == b"." || kversion == b".." {
        return None;
    }
    let base = out_root.unwrap_or(root);
    let base = if base.is_empty() { &b"/"[..] } else { base };
    let base = Path::new(std::ffi::OsStr::from_bytes(base));
    if !base.join("var/cache").is_dir() {
        return None;
    }
    Some(
        base.join(DEFAULT_DIR)
            .join(std::ffi::OsStr::from_bytes(kversion)),
    )
}

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
    entries: foldhash::HashMap<CacheKey, ModuleFacts>,
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

    /// Drops the entries whose path `keep` rejects (modules deleted since
    /// the cache was written).
    pub fn retain_paths(&mut self, keep: impl Fn(&Path) -> bool) {
        self.entries
            .retain(|k, _| keep(Path::new(std::ffi::OsStr::from_bytes(&k.path))));
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

    /// The facts of an unchanged file, taken out of the cache (no copy).
    pub fn take(&mut self, key: &CacheKey) -> Option<ModuleFacts> {
        self.entries.remove(key)
    }

    /// Writes a cache holding exactly `entries` to `path`, atomically, as
    /// [`MetadataCache::save`] would write a cache of them (without
    /// building one).
    pub fn save_entries(path: &Path, entries: &[(&CacheKey, &ModuleFacts)]) -> std::io::Result<()> {
        crate::fsutil::write_atomic(path, &encode(entries.to_vec()))
    }

    fn encode(&self) -> Vec<u8> {
        encode(self.entries.iter().collect())
    }
}

/// The file's bytes for these entries (later duplicates of a key win, as
/// inserting them into a cache would).
fn encode(mut entries: Vec<(&CacheKey, &ModuleFacts)>) -> Vec<u8> {
    entries.sort_by(|a, b| a.0.path.cmp(&b.0.path));
    entries.dedup_by(|later, earlier| {
        if later.0 == earlier.0 {
            *earlier = *later;
            true
        } else {
            false
        }
    });
    {
        let mut w = Vec::with_capacity(entries.len() * 4096);
        w.extend_from_slice(MAGIC);
        put_u32(&mut w, VERSION);
        put_u64(&mut w, entries.len() as u64);
        for (k, f) in entries {
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
        let sum = checksum(&w);
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

/// The file's checksum: a multiply-rotate hash over 64-bit little-endian
/// words (the tail byte by byte), seeded with the length, finished with an
/// avalanche. Any change confined to one word is always detected (each step
/// is a bijection of the state), and the rotation keeps flips of high bits
/// from cancelling out across words. About ten times faster than byte-wise
/// FNV-1a, which dominated loading. It detects accidental corruption; it is
/// not meant to resist forgery (the cache is the user's own file).
fn checksum(data: &[u8]) -> u64 {
    const K: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut h = 0xcbf2_9ce4_8422_2325 ^ (data.len() as u64);
    let mut words = data.chunks_exact(8);
    for w in &mut words {
        let w = u64::from_le_bytes([w[0], w[1], w[2], w[3], w[4], w[5], w[6], w[7]]);
        h = (h ^ w).wrapping_mul(K).rotate_left(29);
    }
    for &b in words.remainder() {
        h = (h ^ u64::from(b)).wrapping_mul(K).rotate_left(29);
    }
    h ^= h >> 33;
    h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
    h ^ (h >> 33)
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
    /// A counted list of items, each at least `min` bytes; the vector is
    /// allocated once (the count was checked against the remaining data).
    fn list<T>(
        &mut self,
        min: usize,
        mut item: impl FnMut(&mut Self) -> Option<T>,
    ) -> Option<Vec<T>> {
        let n = self.count(min)?;
        let mut out = Vec::with_capacity(n);
        for _ in 0..n {
            out.push(item(self)?);
        }
        Some(out)
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
    if checksum(body) != u64::from_le_bytes(sum.try_into().ok()?) {
        return None;
    }
    let mut r = Reader { data: body, pos: 0 };
    if r.take(4)? != MAGIC || r.u32()? != VERSION {
        return None;
    }
    let n = r.count(48)?;
    let mut entries = foldhash::HashMap::with_capacity_and_hasher(n, Default::default());
    for _ in 0..n {
        let path = r.bytes()?.to_vec();
        let size = r.u64()?;
        let mtime_ns = i128::from_le_bytes(r.take(16)?.try_into().ok()?);
        let ino = r.u64()?;
        let dev = r.u64()?;
        let symbols = r.result(|r| {
            r.list(16, |r| {
                Some(Symbol {
                    crc: r.u64()?,
                    name: r.string()?,
                })
            })
        })?;
        let modinfo = r.result(|r| r.list(8, |r| Some(r.bytes()?.to_vec())))?;
        let dependency_symbols = r.result(|r| {
            r.list(17, |r| {
                let crc = r.u64()?;
                let bind = bind_of(r.u8()?)?;
                Some(DependencySymbol {
                    crc,
                    bind,
                    name: r.string()?,
                })
            })
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

    /// The default place follows `-o`, else `-b`, and exists only where
    /// the base already has `var/cache`.
    #[test]
    fn default_place() {
        let dir = std::env::temp_dir().join(format!("modkit-cache-place-{}", std::process::id()));
        let (root, out) = (dir.join("root"), dir.join("out"));
        std::fs::create_dir_all(root.join("var/cache")).unwrap();
        std::fs::create_dir_all(&out).unwrap();
        let b = |p: &Path| p.as_os_str().as_bytes().to_vec();
        assert_eq!(
            default_path(&b(&root), None, b"6.12.1"),
            Some(root.join("var/cache/modkit/depmod/6.12.1"))
        );
        // -o without var/cache: none, even though the root has one
        assert_eq!(default_path(&b(&root), Some(&b(&out)), b"6.12.1"), None);
        std::fs::create_dir_all(out.join("var/cache")).unwrap();
        assert_eq!(
            default_path(&b(&root), Some(&b(&out)), b"6.12.1"),
            Some(out.join("var/cache/modkit/depmod/6.12.1"))
        );
        for bad in [&b""[..], b"..", b".", b"a/b"] {
            assert_eq!(default_path(&b(&root), None, bad), None);
        }
        assert_eq!(default_path(&b(&dir), None, b"6.12.1"), None);
        std::fs::remove_dir_all(&dir).unwrap();
    }

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
            for bit in 0..8 {
                let mut b = bytes.clone();
                b[i] ^= 1 << bit;
                assert!(decode(&b).is_none(), "flip of bit {bit} at {i}");
            }
        }
        // The same bit flipped in two places (the pattern a plain
        // multiplicative hash would miss for the top bit).
        for i in (7..bytes.len()).step_by(8) {
            for j in [7, 15, i + 8, bytes.len() - 1] {
                if j <= i || j >= bytes.len() {
                    continue;
                }
                let mut b = bytes.clone();
                b[i] ^= 0x80;
                b[j] ^= 0x80;
                assert!(decode(&b).is_none(), "flips at {i} and {j}");
            }
        }
        // A version 1 file (or any other version) is ignored.
        let mut b = bytes.clone();
        b[4..8].copy_from_slice(&1u32.to_le_bytes());
        let n = b.len() - 8;
        let sum = checksum(&b[..n]);
        b[n..].copy_from_slice(&sum.to_le_bytes());
        assert!(decode(&b).is_none(), "other version");
    }

    #[test]
    fn retain_paths_drops_rejected_entries() {
        let mut c = sample();
        c.retain_paths(|p| p != Path::new("/m/b.ko.xz"));
        assert_eq!(c.len(), 1);
        assert!(c.entries.keys().all(|k| k.path == b"/m/a.ko"));
        c.retain_paths(|_| false);
        assert!(c.is_empty());
    }

    #[test]
    fn save_replaces_by_rename_and_leaves_nothing_behind() {
        use std::os::unix::fs::MetadataExt;
        let dir = std::env::temp_dir().join(format!("modkit-cache-atomic-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join("cache");
        sample().save(&p).unwrap();
        let first = std::fs::metadata(&p).unwrap().ino();
        // A reader holding the old file keeps seeing all of it.
        let old = std::fs::File::open(&p).unwrap();
        MetadataCache::default().save(&p).unwrap();
        assert_ne!(
            std::fs::metadata(&p).unwrap().ino(),
            first,
            "renamed, not rewritten"
        );
        assert_eq!(
            old.metadata().unwrap().len(),
            sample().encode().len() as u64
        );
        assert!(MetadataCache::load(&p).is_empty());
        let names: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, ["cache"], "no temporary file left");
        // Saving where no temporary file can be made fails and keeps the
        // old cache.
        sample().save(&p).unwrap();
        assert!(sample().save(&dir.join("missing/cache")).is_err());
        assert!(same(&sample(), &MetadataCache::load(&p)));
        let _ = std::fs::remove_dir_all(&dir);
    }

    /// A cache the size of trixie's 6.12 tree (4,230 modules, about 3 KB
    /// each; the real one is 11 MB): round trip, and the
    /// load and save times (printed; checked only against a generous bound,
    /// as debug builds are slow).
    #[test]
    fn large_cache_round_trip_and_timing() {
        let mut c = MetadataCache::default();
        for i in 0..4230u64 {
            let key = CacheKey {
                path: format!("/lib/modules/6.12/kernel/drivers/x/mod{i}.ko.xz").into_bytes(),
                size: 10_000 + i,
                mtime_ns: 1_700_000_000_000_000_000 + i128::from(i),
                ino: i,
                dev: 2049,
            };
            let facts = ModuleFacts {
                symbols: Ok((0..5)
                    .map(|j| Symbol {
                        crc: i * 31 + j,
                        name: format!("mod{i}_exported_function_{j}"),
                    })
                    .collect()),
                modinfo: Ok((0..15)
                    .map(|j| format!("alias=pci:v0000{j:04X}d*sv*sd*bc*sc*i* mod{i}").into_bytes())
                    .collect()),
                dependency_symbols: Ok((0..50)
                    .map(|j| DependencySymbol {
                        crc: j,
                        bind: SymbolBind::Undef,
                        name: format!("kernel_symbol_number_{j}"),
                    })
                    .collect()),
                load_log: None,
            };
            c.insert(key, facts);
        }
        let dir = std::env::temp_dir().join(format!("modkit-cache-large-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join("cache");
        let t = std::time::Instant::now();
        c.save(&p).unwrap();
        let saved = t.elapsed();
        let t = std::time::Instant::now();
        let d = MetadataCache::load(&p);
        let loaded = t.elapsed();
        let size = std::fs::metadata(&p).unwrap().len();
        eprintln!("4230 entries, {size} bytes: save {saved:.2?}, load {loaded:.2?}");
        assert!(same(&c, &d));
        assert!(loaded < std::time::Duration::from_secs(5));
        let _ = std::fs::remove_dir_all(&dir);
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
