//! Listing configuration directories (`modprobe.d`, `depmod.d`) as kmod
//! does: every `*.conf` file of each directory, ordered by file name
//! (bytewise), a name seen first hiding files of the same name listed
//! later; a path that is a file is listed as one file under its base name.
//!
//! libkmod (for `modprobe.d`) and depmod (for `depmod.d`) each have their
//! own copy of this in C, with different messages and one difference in
//! the path of a listed file: [`ConfDirWords`] holds what differs.

use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

use super::{Level, Logger};
use crate::error::{errno_of, strerror};

/// What a listing says, and how it names a file given as a path: the
/// words of the tool (or library) that lists.
#[derive(Clone, Copy, Debug)]
pub struct ConfDirWords {
    /// The libkmod function named with a message about a directory that
    /// cannot be opened (the [`Logger`]'s `func`; `""` for a tool).
    pub list_func: &'static str,
    /// The libkmod function named with a message about one entry.
    pub filter_func: &'static str,
    /// The text when a directory cannot be opened, before `: ERROR`:
    /// `(prefix, suffix)` around the path, e.g. `("opendir(", ")")`.
    pub unreadable_dir: (&'static [u8], &'static [u8]),
    /// Whether a file whose name does not end in `.conf` is reported (at
    /// `INFO`: `All cfg files need .conf: DIR/NAME`).
    pub report_not_conf: bool,
    /// The separator between the directory and the name in `Cannot stat
    /// directory entry: ` (depmod prints none).
    pub unstatable_separator: &'static [u8],
    /// Whether a file given as a path is read from its directory part and
    /// base name joined again (depmod: `DIRNAME/BASENAME`, where a path
    /// without `/` gives `/NAME`) rather than from the path as given.
    pub rejoin_file_path: bool,
}

/// A configuration file to read: its path and the name that orders it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfFile {
    /// Where to read it.
    pub path: Vec<u8>,
    /// Its name, which orders the list.
    pub name: Vec<u8>,
}

/// The files of configuration directories, ordered by name.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ConfFiles {
    files: Vec<ConfFile>,
}

fn os(path: &[u8]) -> &Path {
    Path::new(OsStr::from_bytes(path))
}

impl ConfFiles {
    /// An empty list.
    pub fn new() -> ConfFiles {
        ConfFiles::default()
    }

    /// Adds a file under `name`; a file of that name already listed wins.
    pub fn insert(&mut self, path: Vec<u8>, name: Vec<u8>) {
        match self
            .files
            .binary_search_by(|f| f.name.as_slice().cmp(&name))
        {
            Ok(_) => {}
            Err(at) => self.files.insert(at, ConfFile { path, name }),
        }
    }

    /// Adds the `*.conf` files of `path` (a directory, or a file listed
    /// under its base name). A path that does not exist is skipped
    /// silently; unreadable directories and unusable entries are reported
    /// through `log` in `words` and skipped.
    pub fn add_path(&mut self, path: &[u8], words: &ConfDirWords, log: &dyn Logger) {
        let Ok(meta) = std::fs::metadata(os(path)) else {
            return;
        };
        if !meta.is_dir() {
            let base = match path.iter().rposition(|&b| b == b'/') {
                Some(s) => &path[s + 1..],
                None => path,
            };
            let file = if words.rejoin_file_path {
                let dirlen = path.len().saturating_sub(base.len() + 1);
                [&path[..dirlen], b"/", base].concat()
            } else {
                path.to_vec()
            };
            self.insert(file, base.to_vec());
            return;
        }
        let entries = match std::fs::read_dir(os(path)) {
            Ok(e) => e,
            Err(e) => {
                let (before, after) = words.unreadable_dir;
                let err = strerror(errno_of(&e)).as_bytes();
                let msg = [before, path, after, b": ", err, b"\n"].concat();
                log.log(Level::Err, words.list_func, &msg);
                return;
            }
        };
        for entry in entries.flatten() {
            let name = entry.file_name();
            let name = name.as_bytes();
            if name.first() == Some(&b'.') {
                continue;
            }
            if name.len() < 6 || !name.ends_with(b".conf") {
                if words.report_not_conf {
                    let msg = [b"All cfg files need .conf: ", path, b"/", name, b"\n"].concat();
                    log.log(Level::Info, words.filter_func, &msg);
                }
                continue;
            }
            match std::fs::metadata(entry.path()) {
                Err(_) => {
                    let sep = words.unstatable_separator;
                    let msg = [b"Cannot stat directory entry: ", path, sep, name, b"\n"].concat();
                    log.log(Level::Err, words.filter_func, &msg);
                    continue;
                }
                Ok(m) if m.is_dir() => {
                    let msg = [
                        b"Directories inside directories are not supported: ",
                        path,
                        b"/",
                        name,
                        b"\n",
                    ]
                    .concat();
                    log.log(Level::Err, words.filter_func, &msg);
                    continue;
                }
                Ok(_) => {}
            }
            self.insert([path, b"/", name].concat(), name.to_vec());
        }
    }

    /// The files, in the order they are read.
    pub fn iter(&self) -> impl Iterator<Item = &ConfFile> {
        self.files.iter()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_name_wins_and_order_is_bytewise() {
        let mut f = ConfFiles::new();
        f.insert(b"/b/x.conf".to_vec(), b"x.conf".to_vec());
        f.insert(b"/a/a.conf".to_vec(), b"a.conf".to_vec());
        f.insert(b"/c/x.conf".to_vec(), b"x.conf".to_vec());
        let paths: Vec<&[u8]> = f.iter().map(|c| &c.path[..]).collect();
        assert_eq!(paths, [&b"/a/a.conf"[..], b"/b/x.conf"]);
    }
}
