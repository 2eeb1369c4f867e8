//! A kernel module file on disk: reading, decompressing, and what kmod
//! reports about it (`modinfo` entries, versions, symbols, signature).
//!
//! [`Module::open`] reads the whole file and decompresses it in memory (the
//! compression is detected from the magic bytes, like kmod, not from the
//! file name). The ELF image is parsed on demand by each accessor, so every
//! accessor reports the same errors kmod's corresponding `kmod_module_get_*`
//! call would, in the same order: opening/reading the file, then
//! decompression, then the ELF header, then the requested data.

use std::borrow::Cow;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use crate::compression::{self, Compression};
use crate::elf::{DependencySymbol, Elf, ModVersion, Symbol};
use crate::error::{Error, Result};
use crate::kmod::{path_to_modname, string_lossy};
use crate::signature::{self, SignatureInfo};

/// kmod reads this many bytes to detect the compression; shorter files are
/// rejected with `EINVAL`.
const MAGIC_READ: usize = 6;

/// One `modinfo` entry: a `key=value` string from `.modinfo`, or one of the
/// signature entries kmod appends.
///
/// Kept as bytes because kmod prints them byte for byte.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct InfoEntry {
    /// The key: the bytes before the first `=` (the whole string if none).
    pub key: Vec<u8>,
    /// The value: the bytes after the first `=` (empty if there is none).
    pub value: Vec<u8>,
}

impl InfoEntry {
    /// Creates an entry from raw key and value bytes.
    pub fn new(key: impl Into<Vec<u8>>, value: impl Into<Vec<u8>>) -> InfoEntry {
        InfoEntry {
            key: key.into(),
            value: value.into(),
        }
    }

    /// Splits a `.modinfo`-style `key=value` string at its first `=`, as
    /// kmod does; a string without `=` is all key, with an empty value.
    pub fn from_modinfo_string(s: &[u8]) -> InfoEntry {
        match s.iter().position(|&b| b == b'=') {
            Some(eq) => InfoEntry::new(&s[..eq], &s[eq + 1..]),
            None => InfoEntry::new(s, Vec::new()),
        }
    }

    /// The key as text; invalid UTF-8 is replaced with U+FFFD.
    pub fn key_str(&self) -> Cow<'_, str> {
        String::from_utf8_lossy(&self.key)
    }

    /// The value as text; invalid UTF-8 is replaced with U+FFFD.
    pub fn value_lossy(&self) -> Cow<'_, str> {
        String::from_utf8_lossy(&self.value)
    }
}

/// A module file, read and decompressed in memory.
#[derive(Clone)]
pub struct Module {
    path: PathBuf,
    name: String,
    compression: Compression,
    data: Vec<u8>,
}

impl std::fmt::Debug for Module {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Module")
            .field("path", &self.path)
            .field("name", &self.name)
            .field("compression", &self.compression)
            .field("size", &self.data.len())
            .finish()
    }
}

impl Module {
    /// Reads the module file at `path` and decompresses it in memory.
    ///
    /// Errors, as kmod reports them when it opens a module file: the OS
    /// errno if the file cannot be read (`ENOENT`, `EACCES`, `EISDIR`...);
    /// otherwise as [`Module::from_bytes`]. The ELF image is not validated
    /// here but by the accessors ([`Module::info`] and others).
    pub fn open(path: impl AsRef<Path>) -> Result<Module> {
        let path = path.as_ref();
        let bytes = std::fs::read(path).map_err(|e| Error::io(e, path.display()))?;
        Module::from_bytes(path, bytes)
    }

    /// Makes a module from the file contents `bytes`, read from `path`
    /// (used only for [`Module::path`] and [`Module::name`]).
    ///
    /// Errors: `EINVAL` if `bytes` is shorter than 6 bytes (kmod cannot read
    /// the compression magic then); decompression errors as documented in
    /// [`crate::compression`] (`EINVAL`, or `ENOMEM`).
    pub fn from_bytes(path: impl AsRef<Path>, bytes: Vec<u8>) -> Result<Module> {
        let path = path.as_ref().to_path_buf();
        if bytes.len() < MAGIC_READ {
            return Err(Error::invalid(format!(
                "{}: file too short to be a module",
                path.display()
            )));
        }
        let compression = Compression::detect(&bytes);
        let data = match compression {
            Compression::None => bytes,
            kind => compression::decompress_as(kind, &bytes)?,
        };
        let name = path_to_modname(path.as_os_str().as_bytes())
            .map(string_lossy)
            .unwrap_or_default();
        Ok(Module {
            path,
            name,
            compression,
            data,
        })
    }

    /// The path given to [`Module::open`] or [`Module::from_bytes`].
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The module name derived from the path ([`path_to_modname`]; bytes
    /// that are not UTF-8 replaced), e.g.
    /// `snd_hda_intel` for `.../snd-hda-intel.ko.xz`; empty if the path has
    /// no file name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// How the file was compressed.
    pub fn compression(&self) -> Compression {
        self.compression
    }

    /// The decompressed module image (ELF plus any appended signature).
    pub fn data(&self) -> &[u8] {
        &self.data
    }

    /// Consumes the module, returning the decompressed image.
    pub fn into_data(self) -> Vec<u8> {
        self.data
    }

    /// Parses the ELF image. Errors as [`Elf::parse`]: `ENOEXEC` if it is
    /// not ELF, `EINVAL` if the headers are inconsistent or truncated.
    pub fn elf(&self) -> Result<Elf<'_>> {
        Elf::parse(&self.data)
    }

    /// The `modinfo` entries, as kmod's `kmod_module_get_info`: each
    /// `.modinfo` string split at its first `=`, in file order, then, if the
    /// image carries an appended signature kmod reports, `sig_id`, `signer`,
    /// `sig_key` (hex), `sig_hashalgo` and `signature` (hex), in that order.
    ///
    /// Errors: those of [`Module::elf`]; `ENODATA` if there is no usable
    /// `.modinfo` section (modinfo then prints "No data available").
    pub fn info(&self) -> Result<Vec<InfoEntry>> {
        let elf = self.elf()?;
        let strings = elf.modinfo_strings()?;
        let mut entries: Vec<InfoEntry> = strings
            .into_iter()
            .map(InfoEntry::from_modinfo_string)
            .collect();
        if let Some(sig) = self.signature() {
            let hex = |bytes: &[u8]| {
                if bytes.is_empty() {
                    Vec::new()
                } else {
                    signature::format_hex(bytes).into_bytes()
                }
            };
            entries.push(InfoEntry::new("sig_id", sig.id_type.as_bytes()));
            entries.push(InfoEntry::new("signer", sig.signer.clone()));
            entries.push(InfoEntry::new("sig_key", hex(&sig.key_id)));
            entries.push(InfoEntry::new("sig_hashalgo", sig.hash_algo.as_bytes()));
            entries.push(InfoEntry::new("signature", hex(&sig.signature)));
        }
        Ok(entries)
    }

    /// The `__versions` entries ([`Elf::versions`]); errors as
    /// [`Module::elf`], then `ENODATA` without `__versions`, `EINVAL` if it
    /// is malformed.
    pub fn versions(&self) -> Result<Vec<ModVersion>> {
        self.elf()?.versions()
    }

    /// The exported symbols ([`Elf::symbols`]); errors as [`Module::elf`],
    /// then `ENODATA` if the module exports nothing.
    pub fn symbols(&self) -> Result<Vec<Symbol>> {
        self.elf()?.symbols()
    }

    /// The symbols the module needs ([`Elf::dependency_symbols`]); errors
    /// as [`Module::elf`], then `EINVAL` without a usable symbol table.
    pub fn dependency_symbols(&self) -> Result<Vec<DependencySymbol>> {
        self.elf()?.dependency_symbols()
    }

    /// The appended signature of the decompressed image, as kmod reads it
    /// (kmod looks for the trailer in the decompressed contents); `None` if
    /// there is none or kmod would not report it.
    pub fn signature(&self) -> Option<SignatureInfo> {
        signature::parse_appended(&self.data)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::elf::builder::Builder;
    use crate::error::errno;
    use std::io::Write;

    fn image() -> Vec<u8> {
        Builder::new(false, false)
            .section(
                ".modinfo",
                &b"license=GPL\0noequals\0desc=a=b\0\0depends=\0"[..],
            )
            .build()
    }

    fn entries(info: &[InfoEntry]) -> Vec<(&str, &str)> {
        info.iter()
            .map(|e| {
                (
                    std::str::from_utf8(&e.key).unwrap(),
                    std::str::from_utf8(&e.value).unwrap(),
                )
            })
            .collect()
    }

    #[test]
    fn info_splits_at_first_equals() {
        let m = Module::from_bytes("/tmp/my-mod.ko", image()).unwrap();
        assert_eq!(m.name(), "my_mod");
        assert_eq!(m.compression(), Compression::None);
        let info = m.info().unwrap();
        assert_eq!(
            entries(&info),
            [
                ("license", "GPL"),
                ("noequals", ""),
                ("desc", "a=b"),
                ("depends", "")
            ]
        );
        assert_eq!(info[0].key_str(), "license");
        assert_eq!(info[0].value_lossy(), "GPL");
        let e = InfoEntry::from_modinfo_string(b"k\xff=v\xfe");
        assert_eq!(e.key, b"k\xff");
        assert_eq!(e.value_lossy(), "v\u{FFFD}");
    }

    #[test]
    fn compressed_modules_are_decompressed() {
        let img = image();
        let mut xz = liblzma::write::XzEncoder::new(Vec::new(), 6);
        xz.write_all(&img).unwrap();
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(&img).unwrap();
        let zst = zstd::bulk::compress(&img, 3).unwrap();
        for (bytes, kind) in [
            (xz.finish().unwrap(), Compression::Xz),
            (gz.finish().unwrap(), Compression::Gzip),
            (zst, Compression::Zstd),
        ] {
            let m = Module::from_bytes("m.ko", bytes).unwrap();
            assert_eq!(m.compression(), kind);
            assert_eq!(m.data(), &img[..]);
            assert_eq!(m.info().unwrap().len(), 4);
        }
    }

    #[test]
    fn errors_carry_kmod_errno() {
        // Shorter than the 6 magic bytes kmod reads: EINVAL.
        let e = Module::from_bytes("x.ko", b"\x7fELF\x02".to_vec()).unwrap_err();
        assert_eq!(e.errno(), errno::EINVAL);
        // Not ELF: ENOEXEC, from every accessor.
        let m = Module::from_bytes("notmod.ko", b"hello world\n".to_vec()).unwrap();
        assert_eq!(m.info().unwrap_err().errno(), errno::ENOEXEC);
        assert_eq!(m.versions().unwrap_err().errno(), errno::ENOEXEC);
        assert_eq!(m.symbols().unwrap_err().errno(), errno::ENOEXEC);
        assert_eq!(m.dependency_symbols().unwrap_err().errno(), errno::ENOEXEC);
        assert!(m.signature().is_none());
        // Truncated ELF: EINVAL.
        let img = image();
        let m = Module::from_bytes("t.ko", img[..img.len() - 10].to_vec()).unwrap();
        assert_eq!(m.info().unwrap_err().errno(), errno::EINVAL);
        // No .modinfo: ENODATA.
        let img = Builder::new(false, false).section(".text", "x").build();
        let m = Module::from_bytes("t.ko", img).unwrap();
        assert_eq!(m.info().unwrap_err().errno(), errno::ENODATA);
        // Corrupt xz: EINVAL when opening.
        let e =
            Module::from_bytes("c.ko.xz", vec![0xFD, b'7', b'z', b'X', b'Z', 0, 1, 2]).unwrap_err();
        assert_eq!(e.errno(), errno::EINVAL);
        // Files.
        let e = Module::open("/nonexistent/dir/x.ko").unwrap_err();
        assert_eq!(e.errno(), errno::ENOENT);
        let e = Module::open(std::env::temp_dir()).unwrap_err();
        assert_eq!(e.errno(), errno::EISDIR);
    }
}
