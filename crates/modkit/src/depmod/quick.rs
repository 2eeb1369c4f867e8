//! `-A` (`--quick`): whether `modules.dep` is at least as new as every
//! module file, walked as kmod's `depfile_up_to_date` walks the tree.

use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::MetadataExt;

use super::search::has_kmod_ext;
use super::{at_call_failed, cat, os, serr, Depmod};
use crate::compat::cstr::until_nul;
use crate::error::errno_of;
use crate::kmod::PATH_MAX;

impl Depmod<'_> {
    /// kmod's `depfile_up_to_date`: 1 if `modules.dep` is at least as new
    /// as every module, 0 if not, negative on errors.
    pub(super) fn up_to_date(&mut self) -> i32 {
        let dirname = self.dirname.clone();
        let entries = match std::fs::read_dir(os(&dirname)) {
            Ok(e) => e,
            Err(e) => {
                let msg = cat(&[
                    b"could not open directory ",
                    &dirname,
                    b": ",
                    serr(errno_of(&e)),
                    b"\n",
                ]);
                self.log.err(&msg);
                return -1;
            }
        };
        let dep = cat(&[&dirname, b"/modules.dep"]);
        let mtime = match std::fs::metadata(os(&dep)) {
            Ok(m) => m.mtime(),
            Err(e) => {
                let msg = cat(&[
                    b"could not fstatat(",
                    &dirname,
                    b", modules.dep): ",
                    serr(errno_of(&e)),
                    b"\n",
                ]);
                self.log.err(&msg);
                return -1;
            }
        };
        // kmod walks with a fixed C buffer whose stale tail shows in one
        // message; it is reproduced as such.
        let mut path = vec![0u8; PATH_MAX + 1];
        let base = dirname.len().min(PATH_MAX - 1);
        path[..base].copy_from_slice(&dirname[..base]);
        path[base] = b'/';
        self.up_to_date_dir(entries, mtime, base + 1, &mut path, 3)
    }

    pub(super) fn up_to_date_dir(
        &mut self,
        entries: std::fs::ReadDir,
        mtime: i64,
        baselen: usize,
        path: &mut [u8],
        fd: usize,
    ) -> i32 {
        let mut err = 1;
        for entry in entries.flatten() {
            let name = entry.file_name();
            let name = name.as_bytes();
            if name == b"build" || name == b"source" {
                continue;
            }
            let namelen = name.len();
            if baselen + namelen + 2 >= PATH_MAX {
                path[baselen] = 0;
                let msg = cat(&[b"path is too long ", until_nul(path), name, b"\n"]);
                self.log.err(&msg);
                continue;
            }
            let full = cat(&[&path[..baselen], name]);
            let st = match std::fs::metadata(os(&full)) {
                Ok(m) => m,
                Err(e) => {
                    let msg = at_call_failed(b"fstatat", fd, name, b"", &e);
                    self.log.err(&msg);
                    continue;
                }
            };
            if st.is_dir() {
                path[baselen..baselen + namelen].copy_from_slice(name);
                path[baselen + namelen] = 0;
                if baselen + namelen + 2 + 255 >= PATH_MAX {
                    let msg = cat(&[b"directory path is too long ", until_nul(path), b"\n"]);
                    self.log.err(&msg);
                    continue;
                }
                let sub = match std::fs::read_dir(os(&full)) {
                    Ok(s) => s,
                    Err(e) => {
                        let msg = at_call_failed(b"openat", fd, name, b", O_RDONLY", &e);
                        self.log.err(&msg);
                        continue;
                    }
                };
                path[baselen + namelen] = b'/';
                path[baselen + namelen + 1] = 0;
                err = self.up_to_date_dir(sub, mtime, baselen + namelen + 1, path, fd + 1);
            } else if st.is_file() {
                if !has_kmod_ext(name) {
                    continue;
                }
                path[baselen..baselen + namelen].copy_from_slice(name);
                path[baselen + namelen] = 0;
                err = i32::from(st.mtime() <= mtime);
            } else {
                let msg = cat(&[
                    b"unsupported file type ",
                    until_nul(path),
                    b": ",
                    format!("{:o}", st.mode() & 0o170000).as_bytes(),
                    b"\n",
                ]);
                self.log.err(&msg);
                continue;
            }
            if err == 0 {
                break;
            }
        }
        err
    }
}
