//! The library's error type.
//!
//! kmod reports failures as `errno` values and its tools print them with
//! `strerror(3)`. To print byte-identical messages, every [`Error`] carries the
//! errno that kmod would have produced, plus a human-readable detail for
//! library users. [`Error::strerror`] gives glibc's text for that errno.

use std::fmt;
use std::io;

/// An errno value as kmod would report it (positive, e.g. `ENOEXEC` = 8).
pub type Errno = i32;

/// Common errno values used by this crate (x86_64 Linux numbering).
pub mod errno {
    /// Operation not permitted.
    pub const EPERM: i32 = 1;
    /// No such file or directory.
    pub const ENOENT: i32 = 2;
    /// Input/output error.
    pub const EIO: i32 = 5;
    /// Exec format error: not an ELF module.
    pub const ENOEXEC: i32 = 8;
    /// Cannot allocate memory.
    pub const ENOMEM: i32 = 12;
    /// Permission denied.
    pub const EACCES: i32 = 13;
    /// File exists.
    pub const EEXIST: i32 = 17;
    /// Resource busy (a module in use).
    pub const EBUSY: i32 = 16;
    /// Try again (a module still in use, without waiting).
    pub const EAGAIN: i32 = 11;
    /// Not a directory.
    pub const ENOTDIR: i32 = 20;
    /// File too large: a compressed module that would decompress past
    /// [`crate::compression::MAX_DECOMPRESSED_SIZE`].
    pub const EFBIG: i32 = 27;
    /// Is a directory.
    pub const EISDIR: i32 = 21;
    /// Invalid argument: malformed or truncated data.
    pub const EINVAL: i32 = 22;
    /// File name too long.
    pub const ENAMETOOLONG: i32 = 36;
    /// Function not implemented.
    pub const ENOSYS: i32 = 38;
    /// No data available: a section or value is absent.
    pub const ENODATA: i32 = 61;
    /// Too many levels of symbolic links (here: a loop of softdeps).
    pub const ELOOP: i32 = 40;
    /// Bad message: corrupt compressed stream.
    pub const EBADMSG: i32 = 74;
    /// Operation not supported.
    pub const EOPNOTSUPP: i32 = 95;
}

/// An error from the modkit library: an errno (as kmod would report it) and
/// a description of what went wrong.
#[derive(Debug)]
pub struct Error {
    errno: Errno,
    detail: String,
}

/// Result alias for the library.
pub type Result<T> = std::result::Result<T, Error>;

impl Error {
    /// Creates an error with the given errno and detail text.
    pub fn new(errno: Errno, detail: impl Into<String>) -> Error {
        Error {
            errno,
            detail: detail.into(),
        }
    }

    /// `EINVAL`: the data is malformed or truncated.
    pub fn invalid(detail: impl Into<String>) -> Error {
        Error::new(errno::EINVAL, detail)
    }

    /// `ENOEXEC`: the data is not a kernel module (not ELF, wrong class...).
    pub fn not_module(detail: impl Into<String>) -> Error {
        Error::new(errno::ENOEXEC, detail)
    }

    /// `ENODATA`: a section or value that was asked for is absent.
    pub fn no_data(detail: impl Into<String>) -> Error {
        Error::new(errno::ENODATA, detail)
    }

    /// Wraps an I/O error, keeping its OS errno (or `EIO` when it has none).
    pub fn io(err: io::Error, context: impl fmt::Display) -> Error {
        let errno = errno_of(&err);
        Error::new(errno, format!("{context}: {}", strerror(errno)))
    }

    /// The errno kmod would report for this failure.
    pub fn errno(&self) -> Errno {
        self.errno
    }

    /// glibc's `strerror` text for [`Error::errno`], e.g. `"Exec format error"`.
    pub fn strerror(&self) -> &'static str {
        strerror(self.errno)
    }

    /// The detailed description.
    pub fn detail(&self) -> &str {
        &self.detail
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.detail.is_empty() {
            f.write_str(self.strerror())
        } else {
            f.write_str(&self.detail)
        }
    }
}

impl std::error::Error for Error {}

/// The errno of an I/O error, `EIO` when it carries none (as the C tools
/// see `errno` after a failed call).
pub fn errno_of(err: &io::Error) -> Errno {
    err.raw_os_error().unwrap_or(errno::EIO)
}

/// glibc's message for an errno value (as `strerror(3)` prints it in the C locale).
pub fn strerror(errno: Errno) -> &'static str {
    match errno {
        0 => "Success",
        1 => "Operation not permitted",
        2 => "No such file or directory",
        3 => "No such process",
        4 => "Interrupted system call",
        5 => "Input/output error",
        6 => "No such device or address",
        7 => "Argument list too long",
        8 => "Exec format error",
        9 => "Bad file descriptor",
        10 => "No child processes",
        11 => "Resource temporarily unavailable",
        12 => "Cannot allocate memory",
        13 => "Permission denied",
        14 => "Bad address",
        15 => "Block device required",
        16 => "Device or resource busy",
        17 => "File exists",
        18 => "Invalid cross-device link",
        19 => "No such device",
        20 => "Not a directory",
        21 => "Is a directory",
        22 => "Invalid argument",
        23 => "Too many open files in system",
        24 => "Too many open files",
        25 => "Inappropriate ioctl for device",
        26 => "Text file busy",
        27 => "File too large",
        28 => "No space left on device",
        29 => "Illegal seek",
        30 => "Read-only file system",
        31 => "Too many links",
        32 => "Broken pipe",
        33 => "Numerical argument out of domain",
        34 => "Numerical result out of range",
        35 => "Resource deadlock avoided",
        36 => "File name too long",
        37 => "No locks available",
        38 => "Function not implemented",
        39 => "Directory not empty",
        40 => "Too many levels of symbolic links",
        42 => "No message of desired type",
        43 => "Identifier removed",
        61 => "No data available",
        62 => "Timer expired",
        71 => "Protocol error",
        74 => "Bad message",
        75 => "Value too large for defined data type",
        84 => "Invalid or incomplete multibyte or wide character",
        95 => "Operation not supported",
        110 => "Connection timed out",
        122 => "Disk quota exceeded",
        125 => "Operation canceled",
        126 => "Required key not available",
        127 => "Key has expired",
        128 => "Key has been revoked",
        129 => "Key was rejected by service",
        _ => "Unknown error",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strerror_matches_glibc_for_kmod_errnos() {
        assert_eq!(strerror(errno::ENOEXEC), "Exec format error");
        assert_eq!(strerror(errno::EINVAL), "Invalid argument");
        assert_eq!(strerror(errno::ENOENT), "No such file or directory");
        assert_eq!(strerror(errno::ENODATA), "No data available");
    }

    #[test]
    fn io_errors_keep_their_errno() {
        let e = Error::io(io::Error::from_raw_os_error(13), "/x");
        assert_eq!(e.errno(), errno::EACCES);
        assert_eq!(e.strerror(), "Permission denied");
    }
}
