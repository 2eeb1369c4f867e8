//! depmod's configuration: the `depmod.d` directories and files
//! (`depmod.d(5)`), read as kmod 34's depmod reads them.
//!
//! Files: every `*.conf` in each configuration directory, in the order of
//! their names (bytewise); a file name seen in an earlier directory hides
//! files of the same name in later ones. A path given that is a file is
//! read as one file (its base name competing with the directories' files).
//! Lines are joined when they end with `\`; a `\` before any other
//! character is dropped. Directives (words separated by spaces or tabs):
//!
//! - `search DIR...` — subdirectories of the module directory, by priority
//!   (first listed wins); `built-in` stands for everything not listed,
//!   `external` for the `external` directories;
//! - `override MODULE KVERSION SUBDIR` — the module of that name in SUBDIR
//!   wins over any other (KVERSION: `*` or a POSIX extended regex searched
//!   in the kernel version);
//! - `external KVERSION DIR` — also look for modules in DIR (absolute);
//! - `exclude NAME...` — skip files and directories of that name.
//!
//! Every list is kept in kmod's order: the most recently added first.

use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

use super::Level;
use crate::compat::ere::Regex;
use crate::error::strerror;

/// The configuration directories kmod 34 (Debian's build) reads by
/// default, in precedence order.
pub const DEFAULT_CONFIG_PATHS: &[&str] = &[
    "/etc/depmod.d",
    "/run/depmod.d",
    "/usr/local/lib/depmod.d",
    "/usr/lib/depmod.d",
    "/lib/depmod.d",
];

/// One `search` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Search {
    /// A subdirectory of the module directory.
    Path(Vec<u8>),
    /// `built-in`: the kernel's own modules (anything not listed).
    BuiltIn,
    /// `external`: the directories of the `external` lines.
    External,
}

/// The parsed configuration; every list most recent first, as kmod keeps
/// them (a search entry's index in [`Config::searches`] is its priority,
/// higher winning).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Config {
    /// `search` entries; `updates` alone when no file has any.
    pub searches: Vec<Search>,
    /// `override`s as `SUBDIR/MODULE` (the module as written, no suffix).
    pub overrides: Vec<Vec<u8>>,
    /// `external` directories.
    pub externals: Vec<Vec<u8>>,
    /// `exclude` names.
    pub excludes: Vec<Vec<u8>>,
}

/// A logger: level and message (with its newline).
pub type LogFn<'a> = dyn FnMut(Level, &[u8]) + 'a;

fn cat(parts: &[&[u8]]) -> Vec<u8> {
    parts.concat()
}

fn errno_of(e: &std::io::Error) -> i32 {
    e.raw_os_error().unwrap_or(crate::error::errno::EIO)
}

/// A configuration file to read: its path and the name that orders it.
struct CfgFile {
    path: Vec<u8>,
    name: Vec<u8>,
}

fn insert_sorted(files: &mut Vec<CfgFile>, dir: &[u8], name: Option<&[u8]>) {
    let (dirpart, name) = match name {
        Some(n) => (dir.to_vec(), n.to_vec()),
        None => {
            let base = match dir.iter().rposition(|&b| b == b'/') {
                Some(s) => &dir[s + 1..],
                None => dir,
            };
            let dirlen = dir.len().saturating_sub(base.len() + 1);
            (dir[..dirlen].to_vec(), base.to_vec())
        }
    };
    let mut at = files.len();
    for (i, f) in files.iter().enumerate() {
        match name.as_slice().cmp(&f.name) {
            std::cmp::Ordering::Equal => return,
            std::cmp::Ordering::Less => {
                at = i;
                break;
            }
            std::cmp::Ordering::Greater => {}
        }
    }
    let path = cat(&[&dirpart, b"/", &name]);
    files.insert(at, CfgFile { path, name });
}

fn list_files(files: &mut Vec<CfgFile>, path: &[u8], log: &mut LogFn<'_>) {
    let p = Path::new(OsStr::from_bytes(path));
    let Ok(meta) = std::fs::metadata(p) else {
        return;
    };
    if !meta.is_dir() {
        insert_sorted(files, path, None);
        return;
    }
    let entries = match std::fs::read_dir(p) {
        Ok(e) => e,
        Err(e) => {
            let msg = cat(&[
                b"files list ",
                path,
                b": ",
                strerror(errno_of(&e)).as_bytes(),
                b"\n",
            ]);
            log(Level::Err, &msg);
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
            log(
                Level::Info,
                &cat(&[b"All cfg files need .conf: ", path, b"/", name, b"\n"]),
            );
            continue;
        }
        match std::fs::metadata(entry.path()) {
            Err(_) => {
                log(
                    Level::Err,
                    &cat(&[b"Cannot stat directory entry: ", path, name, b"\n"]),
                );
                continue;
            }
            Ok(m) if m.is_dir() => {
                log(
                    Level::Err,
                    &cat(&[
                        b"Directories inside directories are not supported: ",
                        path,
                        b"/",
                        name,
                        b"\n",
                    ]),
                );
                continue;
            }
            Ok(_) => {}
        }
        insert_sorted(files, path, Some(name));
    }
}

/// Splits file contents into logical lines as kmod's `freadline_wrapped`:
/// `(line, physical line number of its end)`.
pub fn logical_lines(data: &[u8]) -> Vec<(Vec<u8>, u32)> {
    let mut out = Vec::new();
    let mut linenum: u32 = 0;
    let mut i = 0;
    loop {
        let mut buf = Vec::new();
        let mut n = 0;
        loop {
            let Some(&ch) = data.get(i) else {
                if buf.is_empty() {
                    return out;
                }
                n += 1;
                break;
            };
            i += 1;
            match ch {
                b'\n' => {
                    n += 1;
                    break;
                }
                b'\\' => match data.get(i) {
                    Some(b'\n') => {
                        i += 1;
                        n += 1;
                    }
                    None => {}
                    Some(&next) => {
                        i += 1;
                        buf.push(next);
                    }
                },
                _ => buf.push(ch),
            }
        }
        linenum += n;
        out.push((buf, linenum));
    }
}

/// `strtok_r(line, "\t ")` words of a C string.
fn words(line: &[u8]) -> impl Iterator<Item = &[u8]> {
    let line = match line.iter().position(|&b| b == 0) {
        Some(n) => &line[..n],
        None => line,
    };
    line.split(|&b| b == b' ' || b == b'\t')
        .filter(|w| !w.is_empty())
}

/// Whether a `KVERSION` field matches the kernel version: `*`, or an
/// extended regular expression found in it (an invalid one never matches).
pub fn kernel_matches(pattern: &[u8], kversion: &[u8]) -> bool {
    if pattern == b"*" {
        return true;
    }
    Regex::new(pattern).is_ok_and(|re| re.is_match(kversion))
}

impl Config {
    /// Reads the configuration from `paths` (directories or files; kmod's
    /// [`DEFAULT_CONFIG_PATHS`] when `None`) for kernel `kversion`,
    /// reporting problems through `log` in kmod's words.
    pub fn load(paths: Option<&[Vec<u8>]>, kversion: &[u8], log: &mut LogFn<'_>) -> Config {
        let defaults: Vec<Vec<u8>>;
        let paths = match paths {
            Some(p) => p,
            None => {
                defaults = DEFAULT_CONFIG_PATHS
                    .iter()
                    .map(|s| s.as_bytes().to_vec())
                    .collect();
                &defaults
            }
        };
        let mut files = Vec::new();
        for p in paths {
            list_files(&mut files, p, log);
        }
        let mut cfg = Config::default();
        for f in &files {
            let path = Path::new(OsStr::from_bytes(&f.path));
            let data = match std::fs::File::open(path) {
                Ok(mut file) => {
                    let mut data = Vec::new();
                    let _ = std::io::Read::read_to_end(&mut file, &mut data);
                    data
                }
                Err(e) => {
                    let msg = cat(&[
                        b"file parse ",
                        &f.path,
                        b": ",
                        strerror(errno_of(&e)).as_bytes(),
                        b"\n",
                    ]);
                    log(Level::Err, &msg);
                    continue;
                }
            };
            cfg.parse(&f.path, &data, kversion, log);
        }
        if cfg.searches.is_empty() {
            cfg.searches.insert(0, Search::Path(b"updates".to_vec()));
        }
        cfg
    }

    /// Parses one file's contents (`filename` is used in messages).
    pub fn parse(&mut self, filename: &[u8], data: &[u8], kversion: &[u8], log: &mut LogFn<'_>) {
        for (line, linenum) in logical_lines(data) {
            if line.first().is_none_or(|&c| c == 0 || c == b'#') {
                continue;
            }
            let mut w = words(&line);
            let Some(cmd) = w.next() else { continue };
            let num = linenum.to_string();
            let at = |what: &[u8]| cat(&[filename, b":", num.as_bytes(), b": ", what]);
            match cmd {
                b"search" => {
                    for sp in w {
                        let s = match sp {
                            b"built-in" => Search::BuiltIn,
                            b"external" => Search::External,
                            p => Search::Path(p.to_vec()),
                        };
                        self.searches.insert(0, s);
                    }
                }
                b"override" => {
                    let (Some(modname), Some(version), Some(subdir)) =
                        (w.next(), w.next(), w.next())
                    else {
                        log(Level::Err, &bad_line(&at, cmd));
                        continue;
                    };
                    if !kernel_matches(version, kversion) {
                        let msg = at(&cat(&[b"override kernel did not match ", version, b"\n"]));
                        log(Level::Info, &msg);
                        continue;
                    }
                    self.overrides.insert(0, cat(&[subdir, b"/", modname]));
                }
                b"external" => {
                    let (Some(version), Some(dir)) = (w.next(), w.next()) else {
                        log(Level::Err, &bad_line(&at, cmd));
                        continue;
                    };
                    if !kernel_matches(version, kversion) {
                        let msg = at(&cat(&[
                            b"external directory did not match ",
                            version,
                            b"\n",
                        ]));
                        log(Level::Info, &msg);
                        continue;
                    }
                    self.externals.insert(0, dir.to_vec());
                }
                b"exclude" => {
                    for d in w {
                        self.excludes.insert(0, d.to_vec());
                    }
                }
                b"include" | b"make_map_files" => {
                    let msg = at(&cat(&[b"command ", cmd, b" not implemented yet\n"]));
                    log(Level::Info, &msg);
                }
                _ => log(Level::Err, &bad_line(&at, cmd)),
            }
        }
    }
}

fn bad_line(at: &dyn Fn(&[u8]) -> Vec<u8>, cmd: &[u8]) -> Vec<u8> {
    at(&cat(&[b"ignoring bad line starting with '", cmd, b"'\n"]))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str, kversion: &str) -> (Config, Vec<(Level, String)>) {
        let mut logs = Vec::new();
        let mut cfg = Config::default();
        cfg.parse(
            b"/x/a.conf",
            text.as_bytes(),
            kversion.as_bytes(),
            &mut |l: Level, m: &[u8]| logs.push((l, String::from_utf8_lossy(m).into_owned())),
        );
        (cfg, logs)
    }

    #[test]
    fn directives_and_order() {
        let (cfg, logs) = parse(
            "# c\n\nsearch extra updates built-in\nsearch external\n\
             override crc7 * extra/sub\noverride dummy ^6\\.1 kernel\n\
             override x ^5 k\nexternal * /opt/ext\nexclude a\tb\n",
            "6.1.0-50-amd64",
        );
        assert_eq!(
            cfg.searches,
            [
                Search::External,
                Search::BuiltIn,
                Search::Path(b"updates".to_vec()),
                Search::Path(b"extra".to_vec()),
            ]
        );
        assert_eq!(
            cfg.overrides,
            [b"kernel/dummy".to_vec(), b"extra/sub/crc7".to_vec()]
        );
        assert_eq!(cfg.externals, [b"/opt/ext".to_vec()]);
        assert_eq!(cfg.excludes, [b"b".to_vec(), b"a".to_vec()]);
        assert_eq!(
            logs,
            [(
                Level::Info,
                "/x/a.conf:7: override kernel did not match ^5\n".to_string()
            )]
        );
    }

    #[test]
    fn bad_lines_and_continuations() {
        let (cfg, logs) = parse(
            "bogus x\noverride a b\nexternal *\n  # indented\nsearch a \\\n b\\c\ninclude x\n",
            "6.1",
        );
        assert_eq!(
            cfg.searches,
            [Search::Path(b"bc".to_vec()), Search::Path(b"a".to_vec())]
        );
        let msgs: Vec<&str> = logs.iter().map(|(_, m)| m.as_str()).collect();
        assert_eq!(
            msgs,
            [
                "/x/a.conf:1: ignoring bad line starting with 'bogus'\n",
                "/x/a.conf:2: ignoring bad line starting with 'override'\n",
                "/x/a.conf:3: ignoring bad line starting with 'external'\n",
                "/x/a.conf:4: ignoring bad line starting with '#'\n",
                "/x/a.conf:7: command include not implemented yet\n",
            ]
        );
        assert_eq!(logs[4].0, Level::Info);
    }

    #[test]
    fn logical_lines_like_freadline_wrapped() {
        let l = logical_lines(b"a\\\nb\n\nc\\");
        assert_eq!(
            l,
            [(b"ab".to_vec(), 2), (Vec::new(), 3), (b"c".to_vec(), 4)]
        );
        assert!(logical_lines(b"").is_empty());
    }

    #[test]
    fn version_patterns() {
        assert!(kernel_matches(b"*", b"anything"));
        assert!(kernel_matches(b"6\\.1\\..*", b"6.1.0-50-amd64"));
        assert!(!kernel_matches(b"*amd64", b"6.1.0-50-amd64"));
        assert!(!kernel_matches(b"^6\\.12", b"6.1.0-50-amd64"));
    }
}
