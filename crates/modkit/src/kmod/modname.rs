//! Module names, as kmod's `shared/util.c` makes them: from a name given
//! by the user or found in an index ([`modname_normalize`]) and from a
//! module file's path ([`path_to_modname`]).
//!
//! Names are bytes, as in kmod: a name is a C string, so it ends at its
//! first NUL. [`string_lossy`] gives the text of a name for the parts of
//! the library that keep names as `String`.

use super::PATH_MAX;
use crate::compat::cstr::until_nul;

/// kmod's `modname_normalize`: the bytes up to the first `.`, NUL or the
/// end, every `-` turned into `_`, at most 4095 bytes (kmod's buffer is
/// `PATH_MAX`).
///
/// Never fails: `snd-hda-intel.ko.xz` gives `snd_hda_intel`, an empty name
/// or `.ko` gives an empty name. Unlike alias normalisation there is no
/// special handling of `[...]`; kmod has none either.
pub fn modname_normalize(name: &[u8]) -> Vec<u8> {
    name.iter()
        .take(PATH_MAX - 1)
        .take_while(|&&c| c != b'.' && c != 0)
        .map(|&c| if c == b'-' { b'_' } else { c })
        .collect()
}

/// kmod's `path_to_modname`: the path as a C string (up to its first
/// NUL), its part after the last `/` (glibc's `basename`), normalised by
/// [`modname_normalize`].
///
/// `None` when that part is empty (an empty path or one ending with `/`),
/// where kmod fails with `ENOENT`.
pub fn path_to_modname(path: &[u8]) -> Option<Vec<u8>> {
    let path = until_nul(path);
    let base = match path.iter().rposition(|&b| b == b'/') {
        Some(s) => &path[s + 1..],
        None => path,
    };
    (!base.is_empty()).then(|| modname_normalize(base))
}

/// The text of a name: invalid UTF-8 replaced with U+FFFD (valid UTF-8
/// is kept without copying).
pub fn string_lossy(bytes: Vec<u8>) -> String {
    match String::from_utf8(bytes) {
        Ok(s) => s,
        Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_like_kmod() {
        assert_eq!(modname_normalize(b"snd-hda-intel.ko.xz"), b"snd_hda_intel");
        assert_eq!(modname_normalize(b"a-b[1-2]-c"), b"a_b[1_2]_c");
        assert_eq!(modname_normalize(b""), b"");
        assert_eq!(modname_normalize(b".ko"), b"");
        assert_eq!(modname_normalize("x".repeat(5000).as_bytes()).len(), 4095);
        assert_eq!(
            path_to_modname(b"/lib/modules/x/kernel/drivers/net/dummy.ko").as_deref(),
            Some(&b"dummy"[..])
        );
        assert_eq!(
            path_to_modname(b"snd-hda-intel.ko.zst").as_deref(),
            Some(&b"snd_hda_intel"[..])
        );
        assert_eq!(path_to_modname(b"/a.b/c-d").as_deref(), Some(&b"c_d"[..]));
        assert_eq!(path_to_modname(b"/a/b/"), None);
        assert_eq!(path_to_modname(b""), None);
        assert_eq!(path_to_modname(b"./x-y.ko").as_deref(), Some(&b"x_y"[..]));
    }

    #[test]
    fn names_stop_at_dot_or_nul() {
        assert_eq!(modname_normalize(b"snd-hda-intel.ko.xz"), b"snd_hda_intel");
        assert_eq!(modname_normalize(b"a-b[1-2]-c"), b"a_b[1_2]_c");
        assert_eq!(modname_normalize(b"a-b\0c-d"), b"a_b");
        assert_eq!(modname_normalize(b".ko"), b"");
        assert_eq!(modname_normalize(&[b'x'; 5000]).len(), 4095);
    }

    #[test]
    fn paths_are_c_strings() {
        assert_eq!(path_to_modname(b"/x/snd-hda.ko.xz").unwrap(), b"snd_hda");
        assert!(path_to_modname(b"/x/").is_none());
        assert!(path_to_modname(b"").is_none());
        // kmod sees "/x/" and fails, whatever follows the NUL
        assert!(path_to_modname(b"/x/\0y/z.ko").is_none());
        assert_eq!(path_to_modname(b"/x/a-b.ko\0.c").unwrap(), b"a_b");
        assert_eq!(string_lossy(b"a\xffb".to_vec()), "a\u{fffd}b");
    }
}
