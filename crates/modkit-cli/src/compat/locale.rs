//! Which character set the user's locale selects, as `setlocale(LC_ALL,
//! "")` followed by `nl_langinfo(CODESET)` would tell a C tool: the first
//! non-empty of `LC_ALL`, `LC_CTYPE`, `LANG` names the locale; it is UTF-8
//! when its codeset normalises to `utf8` and the locale exists (`C.UTF-8`
//! and `POSIX.UTF-8` always; others installed under `/usr/lib/locale` or in
//! its locale archive, else glibc falls back to the C locale). Read from the
//! environment rather than by calling `setlocale`, which would change the
//! whole process's behaviour (number formatting, messages) behind the
//! tools' backs.

use std::os::unix::ffi::OsStrExt;

/// Whether `LC_ALL`/`LC_CTYPE`/`LANG` select an installed UTF-8 locale
/// (then valid multibyte characters are printed, not escaped).
pub fn is_utf8() -> bool {
    let name = ["LC_ALL", "LC_CTYPE", "LANG"]
        .iter()
        .find_map(|v| std::env::var_os(v).filter(|s| !s.is_empty()));
    name.is_some_and(|n| names_utf8_locale(n.as_bytes()))
}

/// Whether locale `name` (e.g. `en_US.UTF-8@euro`) is an existing UTF-8 one.
fn names_utf8_locale(name: &[u8]) -> bool {
    let Some(dot) = name.iter().position(|&b| b == b'.') else {
        return false;
    };
    let codeset = &name[dot + 1..];
    let codeset = &codeset[..codeset
        .iter()
        .position(|&b| b == b'@')
        .unwrap_or(codeset.len())];
    let normalized: Vec<u8> = codeset
        .iter()
        .filter(|b| b.is_ascii_alphanumeric())
        .map(u8::to_ascii_lowercase)
        .collect();
    if normalized != b"utf8" {
        return false;
    }
    let lang = &name[..dot];
    if lang == b"C" || lang == b"POSIX" {
        return true;
    }
    // Installed as a directory, or in the locale archive.
    let mut dir = b"/usr/lib/locale/".to_vec();
    dir.extend_from_slice(lang);
    dir.extend_from_slice(b".utf8");
    if std::path::Path::new(std::ffi::OsStr::from_bytes(&dir)).is_dir() {
        return true;
    }
    let mut key = lang.to_vec();
    key.extend_from_slice(b".utf8");
    std::fs::read("/usr/lib/locale/locale-archive")
        .map(|a| {
            a.windows(key.len() + 1)
                .any(|w| w[..key.len()] == key[..] && w[key.len()] == 0)
        })
        .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utf8_locales_are_recognised_by_codeset_and_existence() {
        for name in ["C.UTF-8", "C.utf8", "POSIX.UTF-8", "C.utf-8@x"] {
            assert!(names_utf8_locale(name.as_bytes()), "{name}");
        }
        for name in ["C", "POSIX", "C.ISO-8859-1", "xx_NOWHERE.UTF-8", "", "."] {
            assert!(!names_utf8_locale(name.as_bytes()), "{name}");
        }
    }
}
