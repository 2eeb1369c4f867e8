//! The only place in the library with `unsafe` code: thin wrappers over the
//! Linux system calls that the standard library does not offer —
//! `finit_module(2)`, `init_module(2)` and `delete_module(2)`.
//!
//! Each wrapper takes safe Rust types, checks what the kernel needs (NUL
//! terminators) before the call, and returns the errno on failure.

#![allow(unsafe_code)]

use std::ffi::CString;
use std::os::fd::AsRawFd;

use crate::error::{errno, Errno};

/// `finit_module` flag: ignore the module's symbol versions (`-f`).
pub const MODULE_INIT_IGNORE_MODVERSIONS: u32 = 1;
/// `finit_module` flag: ignore the module's vermagic (`-f`).
pub const MODULE_INIT_IGNORE_VERMAGIC: u32 = 2;
/// `finit_module` flag: the file is compressed; the kernel decompresses it.
pub const MODULE_INIT_COMPRESSED_FILE: u32 = 4;

/// `delete_module` flag: do not wait for the module to become unused.
pub const O_NONBLOCK: u32 = libc::O_NONBLOCK as u32;
/// `delete_module` flag: force the removal (`rmmod -f`).
pub const O_TRUNC: u32 = libc::O_TRUNC as u32;

fn cstring(s: &[u8]) -> Result<CString, Errno> {
    CString::new(s).map_err(|_| errno::EINVAL)
}

fn last_errno() -> Errno {
    std::io::Error::last_os_error()
        .raw_os_error()
        .unwrap_or(errno::EIO)
}

/// Loads a module from an open file: `finit_module(fd, params, flags)`.
pub fn finit_module(file: &impl AsRawFd, params: &[u8], flags: u32) -> Result<(), Errno> {
    let params = cstring(params)?;
    // SAFETY: the fd is open for the duration of the call (borrowed), and
    // `params` is a valid NUL-terminated string that outlives the call.
    let r = unsafe {
        libc::syscall(
            libc::SYS_finit_module,
            file.as_raw_fd(),
            params.as_ptr(),
            flags as libc::c_uint,
        )
    };
    if r == 0 {
        Ok(())
    } else {
        Err(last_errno())
    }
}

/// Loads a module from memory: `init_module(image, len, params)`.
pub fn init_module(image: &[u8], params: &[u8]) -> Result<(), Errno> {
    let params = cstring(params)?;
    // SAFETY: `image` is a valid slice of `image.len()` bytes and `params`
    // a valid NUL-terminated string; both outlive the call, and the kernel
    // only reads them.
    let r = unsafe {
        libc::syscall(
            libc::SYS_init_module,
            image.as_ptr() as *const libc::c_void,
            image.len() as libc::c_ulong,
            params.as_ptr(),
        )
    };
    if r == 0 {
        Ok(())
    } else {
        Err(last_errno())
    }
}

/// Unloads a module by name: `delete_module(name, flags)`.
pub fn delete_module(name: &str, flags: u32) -> Result<(), Errno> {
    let name = cstring(name.as_bytes())?;
    // SAFETY: `name` is a valid NUL-terminated string that outlives the call.
    let r = unsafe {
        libc::syscall(
            libc::SYS_delete_module,
            name.as_ptr(),
            flags as libc::c_uint,
        )
    };
    if r == 0 {
        Ok(())
    } else {
        Err(last_errno())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interior_nul_is_rejected_before_the_call() {
        assert_eq!(delete_module("a\0b", 0), Err(errno::EINVAL));
        assert_eq!(init_module(b"", b"x\0y"), Err(errno::EINVAL));
    }
}
