//! Loading and unloading modules in the running kernel, as libkmod does it
//! for `insmod` and `rmmod`.
//!
//! [`insert_module`] hands the open file to `finit_module(2)` when the
//! kernel can read it as is (uncompressed, or compressed the way the kernel
//! decompresses, per `/sys/module/compression`), and otherwise decompresses
//! in user space and calls `init_module(2)`. [`remove_module`] calls
//! `delete_module(2)` without waiting. Errors are the kernel's errno values.

use std::ffi::OsString;
use std::path::Path;

use crate::compression::{self, Compression};
use crate::elf::Elf;
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

/// Why [`insert_module`] failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoadError {
    /// The errno of the failing step, or the kernel's answer.
    pub errno: Errno,
    /// What libkmod logs at `LOG_ERR` when it fails this way, without the
    /// tool's prefix and newline (`xz: File is corrupt`, `Failed to strip
    /// version information: No data available`); `None` when it logs
    /// nothing.
    pub logged: Option<String>,
}

impl LoadError {
    fn quiet(errno: Errno) -> LoadError {
        LoadError {
            errno,
            logged: None,
        }
    }
}

impl From<Errno> for LoadError {
    fn from(errno: Errno) -> LoadError {
        LoadError::quiet(errno)
    }
}

/// Loads the module file at `path` with parameter string `params`, the way
/// libkmod 34.2's `kmod_module_insert_module` does:
///
/// 1. when the file is uncompressed, or compressed the way the kernel
///    decompresses ([`kernel_compression`]), `finit_module(2)` on the open
///    file, with `MODULE_INIT_COMPRESSED_FILE` for a compressed one and the
///    `MODULE_INIT_IGNORE_*` flags for `force`;
/// 2. otherwise, or when the kernel lacks `finit_module` (`ENOSYS`), the
///    file is read (and decompressed) in user space and handed to
///    `init_module(2)`. That call has no flags: for `force`, the image is
///    first stripped of what the kernel checks ([`Elf::strip_for_force`]),
///    which needs a valid ELF image.
///
/// Errors carry the errno of the failing step: opening the file, reading
/// its magic (`EINVAL` for a file shorter than 6 bytes, as kmod),
/// decompressing, parsing the ELF image (`-f` on the second route),
/// stripping it (`ENODATA`: no vermagic to strip), or the kernel's answer
/// (`EEXIST` already loaded, `ENOEXEC` bad format, `ENOENT` unknown symbol,
/// `EINVAL` bad parameters, `EKEYREJECTED` unsigned under
/// `module.sig_enforce`, `EPERM` locked down...).
pub fn insert_module(path: &Path, params: &[u8], force: Force) -> Result<(), LoadError> {
    let file = std::fs::File::open(path).map_err(|e| e.raw_os_error().unwrap_or(errno::EIO))?;
    let magic = read_magic(&file)?;
    let compression = Compression::detect(&magic);
    if compression == Compression::None || compression == kernel_compression() {
        let mut flags = 0;
        if compression != Compression::None {
            flags |= sys::MODULE_INIT_COMPRESSED_FILE;
        }
        if force.vermagic {
            flags |= sys::MODULE_INIT_IGNORE_VERMAGIC;
        }
        if force.modversions {
            flags |= sys::MODULE_INIT_IGNORE_MODVERSIONS;
        }
        match sys::finit_module(&file, params, flags) {
            Err(errno::ENOSYS) => {}
            other => return other.map_err(LoadError::quiet),
        }
    }
    let raw = std::fs::read(path).map_err(|e| e.raw_os_error().unwrap_or(errno::EIO))?;
    let image = compression::decompress(&raw).map_err(|e| LoadError {
        errno: e.errno(),
        logged: compression::libkmod_log_function(&e).map(|_| e.detail().to_string()),
    })?;
    if !force.vermagic && !force.modversions {
        return sys::init_module_image(&image, params).map_err(LoadError::quiet);
    }
    let elf = Elf::parse(&image).map_err(|e| LoadError::quiet(e.errno()))?;
    let stripped = elf
        .strip_for_force(force.modversions, force.vermagic)
        .map_err(|e| LoadError {
            errno: e.errno(),
            logged: Some(format!(
                "Failed to strip version information: {}",
                e.strerror()
            )),
        })?;
    sys::init_module_image(&stripped, params).map_err(LoadError::quiet)
}

/// The first 6 bytes of a module file, read as libkmod reads them
/// (`pread` at offset 0 until 6 bytes or the end): a read error is its
/// errno (`EISDIR` for a directory, `EIO`...), a shorter file `EINVAL`.
fn read_magic(file: &std::fs::File) -> Result<[u8; 6], Errno> {
    use std::os::unix::fs::FileExt;
    let mut magic = [0u8; 6];
    let mut done = 0;
    while done < magic.len() {
        match file.read_at(&mut magic[done..], done as u64) {
            Ok(0) => return Err(errno::EINVAL),
            Ok(n) => done += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e.raw_os_error().unwrap_or(errno::EIO)),
        }
    }
    Ok(magic)
}

/// Unloads module `name` without waiting for it to become unused;
/// `force` adds `O_TRUNC` (`rmmod -f`).
pub fn remove_module(name: &str, force: bool) -> Result<(), Errno> {
    let mut flags = sys::O_NONBLOCK;
    if force {
        flags |= sys::O_TRUNC;
    }
    sys::delete_module_named(name, flags)
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
        let dir = modkit_testkit::ScratchDir::new("kernel");
        let short = dir.join("short.ko");
        std::fs::write(&short, b"abc").unwrap();
        assert_eq!(
            insert_module(&short, b"", Force::default()),
            Err(LoadError::quiet(errno::EINVAL))
        );
        assert_eq!(
            insert_module(&dir.join("none.ko"), b"", Force::default()),
            Err(LoadError::quiet(errno::ENOENT))
        );
    }

    /// `data` compressed in a format the running kernel does not decompress
    /// itself, so that [`insert_module`] takes the user-space route
    /// without calling `finit_module`.
    fn compressed_for_user_space(data: &[u8]) -> Vec<u8> {
        if kernel_compression() == Compression::Zstd {
            let mut enc = liblzma::write::XzEncoder::new(Vec::new(), 6);
            std::io::Write::write_all(&mut enc, data).unwrap();
            enc.finish().unwrap()
        } else {
            zstd::bulk::compress(data, 3).unwrap()
        }
    }

    #[test]
    fn user_space_route_failures_carry_libkmod_messages() {
        let dir = modkit_testkit::ScratchDir::new("kernel-us");
        let force = Force {
            vermagic: true,
            modversions: true,
        };

        // A truncated stream: the decompressor's message, as libkmod logs it.
        let packed = compressed_for_user_space(&[7u8; 4096]);
        let truncated = dir.join("truncated.ko.z");
        std::fs::write(&truncated, &packed[..packed.len() / 2]).unwrap();
        for f in [Force::default(), force] {
            let e = insert_module(&truncated, b"", f).unwrap_err();
            assert_eq!(e.errno, errno::EINVAL);
            let msg = e.logged.expect("libkmod logs decompression errors");
            assert!(
                msg.starts_with("xz: ") || msg.starts_with("zstd: "),
                "{msg}"
            );
        }

        // -f needs an ELF image to strip: not one, kmod_elf_new's errno,
        // nothing logged.
        let text = dir.join("text.ko.z");
        std::fs::write(&text, compressed_for_user_space(b"not a module at all\n")).unwrap();
        assert_eq!(
            insert_module(&text, b"", force),
            Err(LoadError::quiet(errno::ENOEXEC))
        );

        // An ELF image whose .modinfo has no vermagic: kmod_elf_strip fails.
        let img = crate::elf::builder::Builder::new(false, false)
            .section(".modinfo", &b"license=GPL\0name=x\0"[..])
            .build();
        let novermagic = dir.join("novermagic.ko.z");
        std::fs::write(&novermagic, compressed_for_user_space(&img)).unwrap();
        assert_eq!(
            insert_module(&novermagic, b"", force),
            Err(LoadError {
                errno: errno::ENODATA,
                logged: Some("Failed to strip version information: No data available".into()),
            })
        );
    }
}
