//! Loading and unloading modules in the running kernel, as libkmod does it
//! for `insmod` and `rmmod`.
//!
//! [`insert_module`] hands the open file to `finit_module(2)` when the
//! kernel can read it as is (uncompressed, or compressed the way the kernel
//! decompresses, per `/sys/module/compression`), and otherwise decompresses
//! in user space and calls `init_module(2)`. [`remove_module`] calls
//! `delete_module(2)` without waiting. Errors are the kernel's errno values.

use std::ffi::OsString;
use std::io::Read;
use std::path::Path;

use crate::compression::{self, Compression};
use crate::error::{errno, Errno};
use crate::sys;

/// Forcing flags for loading (`insmod -f`, `modprobe --force-*`).
#[derive(Clone, Copy, Debug, Default)]
pub struct Force {
    /// Ignore the vermagic string.
    pub vermagic: bool,
    /// Ignore symbol version CRCs.
    pub modversions: bool,
}

/// The compression the kernel decompresses itself (`/sys/module/compression`:
/// `xz`, `zstd`, `gzip`); `None` when the file is absent or says otherwise.
pub fn kernel_compression() -> Compression {
    match std::fs::read_to_string("/sys/module/compression").as_deref() {
        Ok("xz\n") => Compression::Xz,
        Ok("zstd\n") => Compression::Zstd,
        Ok("gzip\n") => Compression::Gzip,
        _ => Compression::None,
    }
}

/// Joins `name=value` arguments into the kernel's parameter string as kmod
/// does: arguments separated by spaces, a value that holds a space and does
/// not start with a quote put in double quotes.
pub fn options_from_args(args: &[OsString]) -> Vec<u8> {
    let mut out = Vec::new();
    for (i, arg) in args.iter().enumerate() {
        if i > 0 {
            out.push(b' ');
        }
        let a = arg.as_encoded_bytes();
        match a.iter().position(|&b| b == b'=') {
            Some(eq) => {
                let value = &a[eq + 1..];
                let quoted = value.first().is_some_and(|&c| c == b'"' || c == b'\'');
                if !quoted && value.contains(&b' ') {
                    out.extend_from_slice(&a[..=eq]);
                    out.push(b'"');
                    out.extend_from_slice(value);
                    out.push(b'"');
                } else {
                    out.extend_from_slice(a);
                }
            }
            None => out.extend_from_slice(a),
        }
    }
    out
}

/// Loads the module file at `path` with parameter string `params`.
///
/// Returns the errno of the failing step: opening the file, reading its
/// magic (`EINVAL` for a file shorter than 6 bytes, as kmod), decompressing,
/// or the kernel's answer (`EEXIST` already loaded, `ENOEXEC` bad format,
/// `ENOENT` unknown symbol, `EINVAL` bad parameters...).
pub fn insert_module(path: &Path, params: &[u8], force: Force) -> Result<(), Errno> {
    let mut file = std::fs::File::open(path).map_err(|e| e.raw_os_error().unwrap_or(errno::EIO))?;
    let mut magic = [0u8; 6];
    file.read_exact(&mut magic).map_err(|_| errno::EINVAL)?;
    let compression = Compression::detect(&magic);
    let mut flags = 0;
    if force.vermagic {
        flags |= sys::MODULE_INIT_IGNORE_VERMAGIC;
    }
    if force.modversions {
        flags |= sys::MODULE_INIT_IGNORE_MODVERSIONS;
    }
    if compression == Compression::None || compression == kernel_compression() {
        if compression != Compression::None {
            flags |= sys::MODULE_INIT_COMPRESSED_FILE;
        }
        match sys::finit_module(&file, params, flags) {
            Err(errno::ENOSYS) => {}
            other => return other,
        }
    }
    let raw = std::fs::read(path).map_err(|e| e.raw_os_error().unwrap_or(errno::EIO))?;
    let image = compression::decompress(&raw).map_err(|e| e.errno())?;
    sys::init_module(&image, params)
}

/// Unloads module `name` without waiting for it to become unused;
/// `force` adds `O_TRUNC` (`rmmod -f`).
pub fn remove_module(name: &str, force: bool) -> Result<(), Errno> {
    let mut flags = sys::O_NONBLOCK;
    if force {
        flags |= sys::O_TRUNC;
    }
    sys::delete_module(name, flags)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts(a: &[&str]) -> String {
        let v: Vec<OsString> = a.iter().map(OsString::from).collect();
        String::from_utf8(options_from_args(&v)).unwrap()
    }

    #[test]
    fn options_are_joined_and_quoted_like_kmod() {
        assert_eq!(opts(&[]), "");
        assert_eq!(opts(&["a=1", "b"]), "a=1 b");
        assert_eq!(opts(&["s=hello world"]), "s=\"hello world\"");
        assert_eq!(opts(&["s=\"hello world\""]), "s=\"hello world\"");
        assert_eq!(opts(&["s='x y'", "n=1,2"]), "s='x y' n=1,2");
    }

    #[test]
    fn short_and_missing_files() {
        let dir = std::env::temp_dir().join(format!("modkit-kernel-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let short = dir.join("short.ko");
        std::fs::write(&short, b"abc").unwrap();
        assert_eq!(
            insert_module(&short, b"", Force::default()),
            Err(errno::EINVAL)
        );
        assert_eq!(
            insert_module(&dir.join("none.ko"), b"", Force::default()),
            Err(errno::ENOENT)
        );
        let _ = std::fs::remove_dir_all(&dir);
    }
}
