//! `modules.builtin.modinfo`: the `.modinfo` strings of modules built into
//! the kernel image.
//!
//! The file is a sequence of NUL-terminated strings `modname.key=value`, the
//! strings of one module stored next to each other. Lookups follow kmod: the
//! run of strings for a module starts at its first string and ends at the
//! first string of another module.

use std::path::Path;

use crate::error::{errno, Error, Result};
use crate::module::InfoEntry;

/// The file name of the built-in modinfo table inside a module directory.
pub const MODULES_BUILTIN_MODINFO: &str = "modules.builtin.modinfo";

/// Returns the modinfo strings (`key=value`, without the `modname.` prefix)
/// of built-in module `modname`, read from `data` (the contents of
/// `modules.builtin.modinfo`).
///
/// An empty vector means the module has no strings. A string without a
/// `modname.` prefix (including an empty string) met before the module's
/// run ends is an `EINVAL` error, as kmod treats it.
pub fn modinfo_strings<'a>(data: &'a [u8], modname: &str) -> Result<Vec<&'a [u8]>> {
    let name = modname.as_bytes();
    let mut found = Vec::new();
    let mut rest = data;
    while !rest.is_empty() {
        // An unterminated final string counts as a whole string, as it does
        // for getdelim(3), which kmod reads the file with.
        let end = rest.iter().position(|&b| b == 0).unwrap_or(rest.len());
        let line = &rest[..end];
        rest = &rest[(end + 1).min(rest.len())..];
        if line.is_empty() {
            // getdelim returns a 1-byte string for a lone NUL: its first
            // byte is NUL, so it has no '.', which kmod rejects.
            return Err(Error::invalid(format!(
                "{MODULES_BUILTIN_MODINFO}: unexpected string without modname prefix"
            )));
        }
        let Some(dot) = line.iter().position(|&b| b == b'.') else {
            return Err(Error::invalid(format!(
                "{MODULES_BUILTIN_MODINFO}: unexpected string without modname prefix"
            )));
        };
        let matches = line.len() > name.len() && line.starts_with(name) && line[name.len()] == b'.';
        if !matches {
            if found.is_empty() {
                continue;
            }
            break;
        }
        found.push(&line[dot + 1..]);
    }
    Ok(found)
}

/// Reads `DIR/modules.builtin.modinfo` and returns the info entries of
/// built-in module `modname`, split at the first `=` as
/// [`crate::module::Module::info`] does.
///
/// A missing file is an `ENOENT` error (an old kernel without the table).
pub fn modinfo(dir: &Path, modname: &str) -> Result<Vec<InfoEntry>> {
    let path = dir.join(MODULES_BUILTIN_MODINFO);
    let data = std::fs::read(&path).map_err(|e| Error::io(e, path.display()))?;
    let strings = modinfo_strings(&data, modname)?;
    Ok(strings
        .into_iter()
        .map(InfoEntry::from_modinfo_string)
        .collect())
}

/// `true` when `err` means "no built-in modinfo table" (kmod then prints no
/// info lines for the module but does not fail).
pub fn is_missing_table(err: &Error) -> bool {
    err.errno() == errno::ENOENT
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_contiguous_run_only() {
        let data = b"a.x=1\0b.license=GPL\0b.alias=foo\0c.y=2\0b.late=3\0";
        let got = modinfo_strings(data, "b").unwrap();
        assert_eq!(got, vec![&b"license=GPL"[..], &b"alias=foo"[..]]);
    }

    #[test]
    fn prefix_must_end_at_dot() {
        let data = b"ab.x=1\0a.y=2\0";
        assert_eq!(modinfo_strings(data, "a").unwrap(), vec![&b"y=2"[..]]);
        assert!(modinfo_strings(data, "z").unwrap().is_empty());
    }

    #[test]
    fn string_without_dot_is_invalid() {
        let err = modinfo_strings(b"nodot\0", "a").unwrap_err();
        assert_eq!(err.errno(), errno::EINVAL);
    }

    #[test]
    fn unterminated_tail_is_a_string() {
        let data = b"a.x=1\0a.y";
        assert_eq!(
            modinfo_strings(data, "a").unwrap(),
            vec![&b"x=1"[..], &b"y"[..]]
        );
    }

    #[test]
    fn empty_string_before_run_end_is_invalid() {
        assert!(modinfo_strings(b"a.x=1\0\0", "a").is_err());
        assert_eq!(modinfo_strings(b"a.x=1\0b.y\0\0", "a").unwrap().len(), 1);
    }
}
