//! The C locale's character classes, as glibc's `<ctype.h>` answers them
//! for the tools modkit replaces (which never call `setlocale` for
//! `LC_CTYPE`, or run in the C locale): `isspace`, `isdigit`, ... and the
//! `[:name:]` classes of bracket expressions in `regcomp` and `fnmatch`.
//!
//! Why not the standard library: `u8::is_ascii_whitespace` leaves out the
//! vertical tab (0x0b), which C's `isspace` includes; the other `is_ascii_*`
//! methods agree with the C locale and are used here, so that each class
//! is named once, under its C name. Why not `libc::isspace`: it answers
//! for the process's current locale, which a library must not depend on.
//!
//! Budgets: none needed; every function is a constant-time table test.

/// `isspace`: space, `\t`, `\n`, `\v`, `\f`, `\r`.
pub fn isspace(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')
}

/// `isblank`: space and `\t`.
pub fn isblank(c: u8) -> bool {
    c == b' ' || c == b'\t'
}

/// `isdigit`: `0`-`9`.
pub fn isdigit(c: u8) -> bool {
    c.is_ascii_digit()
}

/// `isxdigit`: `0`-`9`, `a`-`f`, `A`-`F`.
pub fn isxdigit(c: u8) -> bool {
    c.is_ascii_hexdigit()
}

/// `isalpha`: `a`-`z`, `A`-`Z`.
pub fn isalpha(c: u8) -> bool {
    c.is_ascii_alphabetic()
}

/// `isupper`: `A`-`Z`.
pub fn isupper(c: u8) -> bool {
    c.is_ascii_uppercase()
}

/// `islower`: `a`-`z`.
pub fn islower(c: u8) -> bool {
    c.is_ascii_lowercase()
}

/// `isalnum`: letters and digits.
pub fn isalnum(c: u8) -> bool {
    c.is_ascii_alphanumeric()
}

/// `ispunct`: printable, not a space, letter or digit.
pub fn ispunct(c: u8) -> bool {
    c.is_ascii_punctuation()
}

/// `isprint`: 0x20 to 0x7e.
pub fn isprint(c: u8) -> bool {
    (0x20..0x7f).contains(&c)
}

/// `isgraph`: 0x21 to 0x7e.
pub fn isgraph(c: u8) -> bool {
    (0x21..0x7f).contains(&c)
}

/// `iscntrl`: below 0x20, and 0x7f.
pub fn iscntrl(c: u8) -> bool {
    c < 0x20 || c == 0x7f
}

/// The class a bracket expression names with `[:name:]` (`alpha`,
/// `digit`, ...), as `wctype(name)` finds it in the C locale; `None` for
/// an unknown name (glibc's `REG_ECTYPE`; `fnmatch` then fails to match).
pub fn class(name: &[u8]) -> Option<fn(u8) -> bool> {
    Some(match name {
        b"alpha" => isalpha,
        b"digit" => isdigit,
        b"alnum" => isalnum,
        b"upper" => isupper,
        b"lower" => islower,
        b"space" => isspace,
        b"blank" => isblank,
        b"punct" => ispunct,
        b"print" => isprint,
        b"graph" => isgraph,
        b"cntrl" => iscntrl,
        b"xdigit" => isxdigit,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn c_locale_classes() {
        // The vertical tab is where Rust's ASCII whitespace and C differ.
        assert!(isspace(0x0b) && !0x0bu8.is_ascii_whitespace());
        assert!(!isspace(0xa0) && !isspace(0));
        assert!(isblank(b'\t') && !isblank(b'\n'));
        assert!(ispunct(b'_') && !ispunct(b' ') && !ispunct(b'a'));
        assert!(isprint(b' ') && !isgraph(b' ') && !isprint(0x7f));
        assert!(iscntrl(0x7f) && iscntrl(0) && !iscntrl(0x80));
        assert!(!isalpha(0xe9) && !isupper(0xc9));
        let count = |f: fn(u8) -> bool| (0..=255u8).filter(|&c| f(c)).count();
        // The C locale's class sizes.
        let sizes = [
            ("alpha", 52),
            ("digit", 10),
            ("alnum", 62),
            ("upper", 26),
            ("lower", 26),
            ("space", 6),
            ("blank", 2),
            ("punct", 32),
            ("print", 95),
            ("graph", 94),
            ("cntrl", 33),
            ("xdigit", 22),
        ];
        for (name, n) in sizes {
            let f = class(name.as_bytes()).unwrap();
            assert_eq!(count(f), n, "{name}");
        }
        assert!(class(b"word").is_none() && class(b"").is_none());
    }
}
