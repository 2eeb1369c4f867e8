//! The user's locale's character classes, from the C library itself.
//!
//! util-linux's dmesg calls `setlocale(LC_ALL, "")` and then decides, per
//! multibyte character, `iswprint(wc) || iswspace(wc)`: printed as is, or
//! escaped byte by byte as `\xNN`. Which characters are printable is the
//! locale's data (`/usr/lib/locale`, a Unicode version per glibc release:
//! an unassigned code point such as U+05FA is escaped, a newly assigned one
//! is not), so no table here could agree with every machine; asking the C
//! library the dmesg beside it asks is the exact answer. This is the one
//! place the library uses the C library's locale, and it changes only
//! `LC_CTYPE` (the Rust code of modkit does not read it).

use std::sync::OnceLock;

use crate::sys;

/// The `LC_CTYPE` locale the environment names, loaded once per process.
#[derive(Clone, Copy, Debug)]
pub struct CtypeLocale {
    utf8: bool,
}

impl CtypeLocale {
    /// Loads the locale named by `LC_ALL`, `LC_CTYPE` or `LANG` (the first
    /// set) for character classes, as `setlocale(LC_CTYPE, "")` does; a
    /// locale that is not installed leaves the C locale. The first call
    /// sets the process's `LC_CTYPE`; later calls return the same answer.
    pub fn from_environment() -> CtypeLocale {
        static LOADED: OnceLock<CtypeLocale> = OnceLock::new();
        *LOADED.get_or_init(|| {
            sys::set_ctype_locale_from_environment();
            CtypeLocale {
                utf8: sys::ctype_codeset() == b"UTF-8",
            }
        })
    }

    /// Whether the locale's multibyte encoding is UTF-8.
    pub fn is_utf8(&self) -> bool {
        self.utf8
    }

    /// `iswprint(c) || iswspace(c)`: whether dmesg prints character `c`
    /// as is rather than escaping it.
    pub fn printable_or_space(&self, c: u32) -> bool {
        sys::wide_printable_or_space(c)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_c_library_classes_answer() {
        // Whatever the environment's locale, ASCII letters are printable
        // and NUL is not; in a UTF-8 locale, C1 controls are not either.
        let l = CtypeLocale::from_environment();
        assert!(l.printable_or_space(u32::from(b'A')));
        assert!(l.printable_or_space(u32::from(b' ')));
        assert!(!l.printable_or_space(0));
        if l.is_utf8() {
            assert!(!l.printable_or_space(0x85));
            assert!(l.printable_or_space(0xe9));
        }
    }
}
