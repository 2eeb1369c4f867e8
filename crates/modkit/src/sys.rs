//! The only place in the library with `unsafe` code: thin wrappers over the
//! Linux system calls that the standard library does not offer —
//! `finit_module(2)`, `init_module(2)` and `delete_module(2)` for modules,
//! `uname(2)` for the kernel release; the locale's character classes
//! (`setlocale(LC_CTYPE)`, `nl_langinfo`, `iswprint`) for dmesg's escaping;
//! `syslog(2)` (`klogctl`), `lseek(SEEK_DATA)` and `clock_gettime(2)` for
//! the kernel log; the two signal dispositions `dmesg` needs; and a
//! read-only file mapping (`mmap(2)`) for the module indexes; `TCP_INFO`,
//! `SIOCOUTQ` and the host name for klogd's syslog destinations;
//! `mount(2)` of pstore.
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

/// `open(2)` flag: do not make the terminal opened the controlling one
/// (glibc's syslog(3) opens `/dev/console` with it).
pub const O_NOCTTY: i32 = libc::O_NOCTTY;

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

// glibc (and musl) export the two module calls that have long existed as
// functions, without declaring them in a header; kmod declares and calls
// them the same way. Calling the C library rather than `syscall(2)` matters
// beyond taste: LD_PRELOAD-based harnesses (kmod's own test suite) and
// tracing tools wrap these functions. `finit_module` has no such wrapper in
// glibc 2.36-2.41, so it stays a `syscall(2)`, as in kmod.
extern "C" {
    fn init_module(
        image: *const libc::c_void,
        len: libc::c_ulong,
        params: *const libc::c_char,
    ) -> libc::c_long;
    fn delete_module(name: *const libc::c_char, flags: libc::c_uint) -> libc::c_long;
}

/// Loads a module from memory: the C library's `init_module(image, len, params)`.
pub fn init_module_image(image: &[u8], params: &[u8]) -> Result<(), Errno> {
    let params = cstring(params)?;
    // SAFETY: `image` is a valid slice of `image.len()` bytes and `params`
    // a valid NUL-terminated string; both outlive the call, and the kernel
    // only reads them. The declaration above matches glibc's and musl's.
    let r = unsafe {
        init_module(
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

/// Unloads a module by name: the C library's `delete_module(name, flags)`.
pub fn delete_module_named(name: &str, flags: u32) -> Result<(), Errno> {
    let name = cstring(name.as_bytes())?;
    // SAFETY: `name` is a valid NUL-terminated string that outlives the
    // call. The declaration above matches glibc's and musl's.
    let r = unsafe { delete_module(name.as_ptr(), flags as libc::c_uint) };
    if r == 0 {
        Ok(())
    } else {
        Err(last_errno())
    }
}

/// The running kernel's release, `uname(2)`'s `release` field (what kmod
/// reads; unlike `/proc/sys/kernel/osrelease` it needs no `/proc`, as in a
/// build root or chroot).
pub fn uname_release() -> Result<Vec<u8>, Errno> {
    // SAFETY: `utsname` is plain old data; zeroed is a valid value.
    let mut uts: libc::utsname = unsafe { std::mem::zeroed() };
    // SAFETY: `uts` is a valid, writable utsname for the duration of the call.
    let r = unsafe { libc::uname(&mut uts) };
    if r != 0 {
        return Err(last_errno());
    }
    let release: Vec<u8> = uts
        .release
        .iter()
        .take_while(|&&c| c != 0)
        .map(|&c| c as u8)
        .collect();
    Ok(release)
}

// The C library's locale functions the libc crate does not declare on
// Linux (glibc and musl both export them; `wint_t` is `unsigned int` and
// `nl_item` an `int` on both).
extern "C" {
    fn nl_langinfo(item: libc::c_int) -> *const libc::c_char;
    fn iswprint(wc: libc::c_uint) -> libc::c_int;
    fn iswspace(wc: libc::c_uint) -> libc::c_int;
}

/// `nl_langinfo(CODESET)`'s item number (`_NL_ITEM(LC_CTYPE, 14)`).
const CODESET: libc::c_int = 14;

/// `setlocale(LC_CTYPE, "")`: the character classes and multibyte
/// encoding of the locale the environment names (`LC_ALL`, `LC_CTYPE`,
/// `LANG`), as a C tool's `setlocale(LC_ALL, "")` sets them; nothing else
/// of the process's locale changes. Returns whether the locale exists (if
/// not, the C locale stays). Process-global: call it once, early, from the
/// main thread.
pub fn set_ctype_locale_from_environment() -> bool {
    // SAFETY: the empty string is a valid NUL-terminated C string; the
    // returned pointer is only compared with null. Called before the tools
    // start threads (the C library's locale is process-global).
    let r = unsafe { libc::setlocale(libc::LC_CTYPE, c"".as_ptr()) };
    !r.is_null()
}

/// `nl_langinfo(CODESET)`: the encoding of the current `LC_CTYPE`
/// (`UTF-8`, `ANSI_X3.4-1968` for the C locale).
pub fn ctype_codeset() -> Vec<u8> {
    // SAFETY: nl_langinfo returns a pointer to a NUL-terminated string
    // owned by the C library, valid until the next setlocale; it is copied
    // out at once.
    unsafe {
        let p = nl_langinfo(CODESET);
        if p.is_null() {
            return Vec::new();
        }
        std::ffi::CStr::from_ptr(p).to_bytes().to_vec()
    }
}

/// `iswprint(c) || iswspace(c)` in the current `LC_CTYPE`.
pub fn wide_printable_or_space(c: u32) -> bool {
    // SAFETY: both functions take any wint_t value and only read the
    // locale's tables.
    unsafe { iswprint(c) != 0 || iswspace(c) != 0 }
}

/// `syslog(2)` (glibc's `klogctl`) for the actions that take a buffer:
/// `SYSLOG_ACTION_READ` (2), `READ_ALL` (3) and `READ_CLEAR` (4). Returns
/// the number of bytes the kernel stored in `buf`.
pub fn klogctl_read(action: i32, buf: &mut [u8]) -> Result<usize, Errno> {
    let len = libc::c_int::try_from(buf.len()).unwrap_or(libc::c_int::MAX);
    // SAFETY: `buf` is a valid, writable slice of at least `len` bytes for
    // the duration of the call; the kernel writes at most `len` bytes.
    let r = unsafe { libc::klogctl(action, buf.as_mut_ptr().cast::<libc::c_char>(), len) };
    if r < 0 {
        Err(last_errno())
    } else {
        Ok(r as usize)
    }
}

/// `syslog(2)` for the actions without a buffer (0, 1, 5 to 10); `arg` is
/// the `len` argument (the console level for action 8, otherwise 0).
/// Returns the kernel's result (a size for actions 9 and 10).
pub fn klogctl(action: i32, arg: i32) -> Result<i32, Errno> {
    // SAFETY: a NULL buffer is what these actions take; the kernel does not
    // dereference it for them (and fails with EINVAL for those that would).
    let r = unsafe { libc::klogctl(action, std::ptr::null_mut(), arg) };
    if r < 0 {
        Err(last_errno())
    } else {
        Ok(r)
    }
}

/// `lseek(fd, 0, SEEK_DATA)`: on `/dev/kmsg`, moves to the first record
/// after the last `SYSLOG_ACTION_CLEAR` (std's `Seek` has no `SEEK_DATA`).
pub fn seek_data(file: &impl AsRawFd) -> Result<u64, Errno> {
    // SAFETY: plain syscall on a borrowed, open descriptor; no memory is
    // passed.
    let r = unsafe { libc::lseek(file.as_raw_fd(), 0, libc::SEEK_DATA) };
    if r < 0 {
        Err(last_errno())
    } else {
        Ok(r as u64)
    }
}

/// The clocks of `clock_gettime(2)` that the kernel log needs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Clock {
    /// `CLOCK_REALTIME`: wall-clock time.
    Realtime,
    /// `CLOCK_MONOTONIC`: time since boot, without suspend.
    Monotonic,
    /// `CLOCK_BOOTTIME`: time since boot, suspend included (the clock of
    /// kernel log timestamps, which std does not expose).
    Boottime,
}

/// `clock_gettime(clock)` as `(seconds, nanoseconds)`.
pub fn clock_gettime(clock: Clock) -> Result<(i64, i64), Errno> {
    let id = match clock {
        Clock::Realtime => libc::CLOCK_REALTIME,
        Clock::Monotonic => libc::CLOCK_MONOTONIC,
        Clock::Boottime => libc::CLOCK_BOOTTIME,
    };
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec for the call.
    let r = unsafe { libc::clock_gettime(id, &mut ts) };
    if r == 0 {
        // time_t and long are i64 on 64-bit targets, narrower elsewhere.
        #[allow(clippy::useless_conversion)]
        Ok((i64::from(ts.tv_sec), i64::from(ts.tv_nsec)))
    } else {
        Err(last_errno())
    }
}

/// Ends the process the way a C program that did not handle `SIGPIPE`
/// ends on writing to a closed pipe: killed by the signal (the Rust runtime
/// ignores `SIGPIPE`, which turns it into `EPIPE` errors instead).
pub fn die_of_sigpipe() -> ! {
    // SAFETY: restoring the default disposition and raising the signal
    // touch no memory of ours; the default action ends the process.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
        libc::raise(libc::SIGPIPE);
    }
    std::process::exit(128 + libc::SIGPIPE)
}

/// `kill(2)`: sends `signal` to process `pid` (klogd's `-i`/`-I`, which
/// signal the running daemon named by its pid file).
pub fn kill(pid: i32, signal: i32) -> Result<(), Errno> {
    if pid <= 0 {
        // 0 and negative pids name process groups: never meant here.
        return Err(libc::ESRCH);
    }
    // SAFETY: a plain syscall with two integers; no memory is passed.
    let r = unsafe { libc::kill(pid, signal) };
    if r < 0 {
        Err(last_errno())
    } else {
        Ok(())
    }
}

/// Ignores `SIGINT`, `SIGQUIT`, `SIGHUP` and `SIGTERM`: while waiting for
/// a pager to exit, the terminal's signals are the pager's business (as
/// util-linux's pager code, which waits for the pager before dying).
pub fn ignore_terminal_signals() {
    for sig in [libc::SIGINT, libc::SIGQUIT, libc::SIGHUP, libc::SIGTERM] {
        // SAFETY: SIG_IGN installs no handler code; no memory is shared.
        unsafe {
            libc::signal(sig, libc::SIG_IGN);
        }
    }
}

/// A whole file mapped read-only into memory (`mmap(2)`, `MAP_PRIVATE`),
/// as libkmod maps its indexes: only the pages a lookup touches are read.
///
/// Like any file mapping, it assumes the file is not truncated while
/// mapped (a concurrent truncation would make reads past the new end fault,
/// as they would in kmod); index files are replaced by rename, never
/// truncated in place, by depmod (kmod's and modkit's).
pub struct FileMapping {
    ptr: *mut libc::c_void,
    len: usize,
}

// SAFETY: the mapping is read-only and owned; sharing `&[u8]` views of it
// between threads is as safe as sharing a `Vec<u8>`.
unsafe impl Send for FileMapping {}
// SAFETY: as above; no interior mutability.
unsafe impl Sync for FileMapping {}

impl FileMapping {
    /// Maps `file` (its current length; `EINVAL` for an empty file).
    pub fn new(file: &std::fs::File) -> Result<FileMapping, Errno> {
        let len = file
            .metadata()
            .map_err(|e| e.raw_os_error().unwrap_or(errno::EIO))?
            .len();
        let len = usize::try_from(len).map_err(|_| errno::ENOMEM)?;
        if len == 0 {
            return Err(errno::EINVAL);
        }
        // SAFETY: a fresh private read-only mapping of an open descriptor;
        // the kernel checks the arguments and the result is checked below.
        let ptr = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                len,
                libc::PROT_READ,
                libc::MAP_PRIVATE,
                file.as_raw_fd(),
                0,
            )
        };
        if ptr == libc::MAP_FAILED {
            return Err(last_errno());
        }
        Ok(FileMapping { ptr, len })
    }

    /// The mapped bytes.
    pub fn as_slice(&self) -> &[u8] {
        // SAFETY: `ptr` is a live mapping of `len` readable bytes until
        // `drop`, and the returned slice borrows `self`.
        unsafe { std::slice::from_raw_parts(self.ptr as *const u8, self.len) }
    }
}

impl Drop for FileMapping {
    fn drop(&mut self) {
        // SAFETY: unmapping exactly the mapping made in `new`, once.
        unsafe {
            libc::munmap(self.ptr, self.len);
        }
    }
}

/// How far the peer's TCP has acknowledged a connection's data:
/// `getsockopt(TCP_INFO)`'s `tcpi_bytes_acked` (RFC 4898
/// `tcpEStatsAppHCThruOctetsAcked`, Linux 4.1+). A counter in the socket
/// that only an acknowledgement moves: it stays valid after the connection
/// was reset (unlike `SIOCOUTQ`, which drops to zero when the kernel purges
/// the send queue). `None` when the kernel's `tcp_info` is too short to
/// hold the field. klogd's TCP and TLS outputs use it to learn which
/// written records the collector's machine has really received.
pub fn tcp_bytes_acked(socket: &impl AsRawFd) -> Result<Option<u64>, Errno> {
    // SAFETY: tcp_info is plain old data; all-zero is a valid value.
    let mut info: libc::tcp_info = unsafe { std::mem::zeroed() };
    let mut len = std::mem::size_of::<libc::tcp_info>() as libc::socklen_t;
    // SAFETY: `info` is a writable tcp_info and `len` its size; the kernel
    // writes at most `len` bytes and stores the length it wrote in `len`.
    let r = unsafe {
        libc::getsockopt(
            socket.as_raw_fd(),
            libc::IPPROTO_TCP,
            libc::TCP_INFO,
            (&mut info as *mut libc::tcp_info).cast::<libc::c_void>(),
            &mut len,
        )
    };
    if r < 0 {
        return Err(last_errno());
    }
    let end = std::mem::offset_of!(libc::tcp_info, tcpi_bytes_acked) + std::mem::size_of::<u64>();
    Ok(((len as usize) >= end).then_some(info.tcpi_bytes_acked))
}

/// `ioctl(SIOCOUTQ)`: on a Unix stream socket, the memory still charged to
/// the sender for data the reader has not consumed (0 once the peer has
/// read everything — or has closed, which frees it too: callers check the
/// peer is alive afterwards).
pub fn socket_outq(socket: &impl AsRawFd) -> Result<usize, Errno> {
    let mut queued: libc::c_int = 0;
    // SAFETY: SIOCOUTQ (= TIOCOUTQ) stores one int through the pointer,
    // which points to a live c_int.
    let r = unsafe { libc::ioctl(socket.as_raw_fd(), libc::TIOCOUTQ, &mut queued) };
    if r < 0 {
        Err(last_errno())
    } else {
        Ok(queued.max(0) as usize)
    }
}

/// The machine's host name (`gethostname(2)`, through `uname(2)`'s nodename).
pub fn hostname() -> Result<Vec<u8>, Errno> {
    // SAFETY: utsname is plain old data; all-zero is a valid value.
    let mut u: libc::utsname = unsafe { std::mem::zeroed() };
    // SAFETY: `u` is a writable utsname for the duration of the call.
    if unsafe { libc::uname(&mut u) } < 0 {
        return Err(last_errno());
    }
    let name: Vec<u8> = u
        .nodename
        .iter()
        .take_while(|&&c| c != 0)
        .map(|&c| c as u8)
        .collect();
    Ok(name)
}

/// `mount("pstore", dir, "pstore", 0, NULL)`: mounts the kernel's
/// persistent store on `dir` (root only; EBUSY when mounted already).
pub fn mount_pstore(dir: &std::path::Path) -> Result<(), Errno> {
    use std::os::unix::ffi::OsStrExt;
    let target = CString::new(dir.as_os_str().as_bytes()).map_err(|_| libc::EINVAL)?;
    let name = c"pstore";
    // SAFETY: every pointer is a NUL-terminated string that outlives the
    // call; the data argument may be NULL.
    let r = unsafe {
        libc::mount(
            name.as_ptr(),
            target.as_ptr(),
            name.as_ptr(),
            0,
            std::ptr::null(),
        )
    };
    if r < 0 {
        Err(last_errno())
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn boottime_is_not_behind_monotonic() {
        let mono = clock_gettime(Clock::Monotonic).unwrap();
        let boot = clock_gettime(Clock::Boottime).unwrap();
        assert!(boot >= mono);
        assert!(clock_gettime(Clock::Realtime).unwrap().0 > 1_600_000_000);
    }

    #[test]
    fn interior_nul_is_rejected_before_the_call() {
        assert_eq!(delete_module_named("a\0b", 0), Err(errno::EINVAL));
        assert_eq!(init_module_image(b"", b"x\0y"), Err(errno::EINVAL));
    }

    #[test]
    fn uname_release_is_the_kernel_release() {
        let release = uname_release().unwrap();
        let proc = std::fs::read("/proc/sys/kernel/osrelease").unwrap();
        assert_eq!(release, proc.strip_suffix(b"\n").unwrap());
    }

    #[test]
    fn hostname_is_the_kernels() {
        let proc = std::fs::read("/proc/sys/kernel/hostname").unwrap();
        assert_eq!(hostname().unwrap(), proc.strip_suffix(b"\n").unwrap());
    }
}
