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

use super::cat;
use crate::compat::cstr::until_nul;
use crate::compat::ere::Regex;
use crate::error::{errno_of, strerror};
use crate::kmod::{logical_lines, ConfDirWords, ConfFiles, Level, Logger};

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

/// How depmod lists `depmod.d` directories, in its words.
pub const DEPMOD_D_WORDS: ConfDirWords = ConfDirWords {
    list_func: "",
    filter_func: "",
    unreadable_dir: (b"files list ", b""),
    report_not_conf: true,
    unstatable_separator: b"",
    rejoin_file_path: true,
};

/// `strtok_r(line, "\t ")` words of a C string.
fn words(line: &[u8]) -> impl Iterator<Item = &[u8]> {
    until_nul(line)
        .split(|&b| b == b' ' || b == b'\t')
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
    pub fn load(paths: Option<&[Vec<u8>]>, kversion: &[u8], log: &dyn Logger) -> Config {
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
        let mut files = ConfFiles::new();
        for p in paths {
            files.add_path(p, &DEPMOD_D_WORDS, log);
        }
        let mut cfg = Config::default();
        for f in files.iter() {
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
                    log.log(Level::Err, "", &msg);
                    continue;
                }
            };
            cfg.parse_in_file_order(&f.path, &data, kversion, log);
        }
        cfg.reverse_lists();
        if cfg.searches.is_empty() {
            cfg.searches.push(Search::Path(b"updates".to_vec()));
        }
        cfg
    }

    /// Parses one file's contents (`filename` is used in messages), adding
    /// its entries before those already held (most recent first). Linear in
    /// the size of the lists and of the file.
    pub fn parse(&mut self, filename: &[u8], data: &[u8], kversion: &[u8], log: &dyn Logger) {
        self.reverse_lists();
        self.parse_in_file_order(filename, data, kversion, log);
        self.reverse_lists();
    }

    /// Turns every list between file order (oldest first, while reading)
    /// and kmod's order (most recent first). kmod prepends each entry to a
    /// linked list; prepending to a `Vec` would make a `search` line of
    /// 200,000 entries quadratic (over 10 s), so entries are appended and
    /// the lists turned once.
    fn reverse_lists(&mut self) {
        self.searches.reverse();
        self.overrides.reverse();
        self.externals.reverse();
        self.excludes.reverse();
    }

    /// [`Config::parse`] with every list in file order (oldest first).
    fn parse_in_file_order(
        &mut self,
        filename: &[u8],
        data: &[u8],
        kversion: &[u8],
        log: &dyn Logger,
    ) {
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
                        self.searches.push(s);
                    }
                }
                b"override" => {
                    let (Some(modname), Some(version), Some(subdir)) =
                        (w.next(), w.next(), w.next())
                    else {
                        log.log(Level::Err, "", &bad_line(&at, cmd));
                        continue;
                    };
                    if !kernel_matches(version, kversion) {
                        let msg = at(&cat(&[b"override kernel did not match ", version, b"\n"]));
                        log.log(Level::Info, "", &msg);
                        continue;
                    }
                    self.overrides.push(cat(&[subdir, b"/", modname]));
                }
                b"external" => {
                    let (Some(version), Some(dir)) = (w.next(), w.next()) else {
                        log.log(Level::Err, "", &bad_line(&at, cmd));
                        continue;
                    };
                    if !kernel_matches(version, kversion) {
                        let msg = at(&cat(&[
                            b"external directory did not match ",
                            version,
                            b"\n",
                        ]));
                        log.log(Level::Info, "", &msg);
                        continue;
                    }
                    self.externals.push(dir.to_vec());
                }
                b"exclude" => {
                    for d in w {
                        self.excludes.push(d.to_vec());
                    }
                }
                b"include" | b"make_map_files" => {
                    let msg = at(&cat(&[b"command ", cmd, b" not implemented yet\n"]));
                    log.log(Level::Info, "", &msg);
                }
                _ => log.log(Level::Err, "", &bad_line(&at, cmd)),
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
        let logs = std::cell::RefCell::new(Vec::new());
        let mut cfg = Config::default();
        cfg.parse(
            b"/x/a.conf",
            text.as_bytes(),
            kversion.as_bytes(),
            &|l: Level, _: &str, m: &[u8]| {
                logs.borrow_mut()
                    .push((l, String::from_utf8_lossy(m).into_owned()))
            },
        );
        (cfg, logs.into_inner())
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

    /// Issue 17: a `search` line of 200,000 entries took over 10 s (each
    /// entry was inserted at the front of a `Vec`); now linear. A second
    /// parse call keeps kmod's order across calls: the newer entries first.
    #[test]
    fn search_line_of_200000_entries_is_linear() {
        let n = 200_000;
        let line: String = (0..n).map(|i| format!(" d{i}")).collect();
        let start = std::time::Instant::now();
        let (mut cfg, logs) = parse(
            &format!(
                "search{line}
exclude{line}
"
            ),
            "6.1",
        );
        let elapsed = start.elapsed();
        assert!(logs.is_empty(), "{logs:?}");
        assert_eq!(cfg.searches.len(), n);
        assert_eq!(cfg.excludes.len(), n);
        assert_eq!(
            cfg.searches[0],
            Search::Path(format!("d{}", n - 1).into_bytes())
        );
        assert_eq!(cfg.searches[n - 1], Search::Path(b"d0".to_vec()));
        // Quadratic took 20 s of CPU in a debug build; linear takes well
        // under 1 s.
        assert!(elapsed < std::time::Duration::from_secs(5), "{elapsed:?}");
        cfg.parse(
            b"/x/b.conf",
            b"search late
exclude late
",
            b"6.1",
            &|_: Level, _: &str, _: &[u8]| {},
        );
        assert_eq!(cfg.searches[0], Search::Path(b"late".to_vec()));
        assert_eq!(cfg.searches[n], Search::Path(b"d0".to_vec()));
        assert_eq!(cfg.excludes[0], b"late".to_vec());
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
