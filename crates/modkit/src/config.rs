//! modprobe's configuration: the `modprobe.d` directories and files
//! (`modprobe.d(5)`), the module directory's `modules.softdep` and
//! `modules.weakdep`, and module options and blacklists on the kernel
//! command line — read as libkmod 34 reads them.
//!
//! Files: every `*.conf` in each configuration directory (kmod's
//! [`DEFAULT_CONFIG_PATHS`] unless paths are given), in the order of their
//! names (bytewise); a name seen in an earlier directory hides the files of
//! that name in later ones. `modules.softdep` and `modules.weakdep` of the
//! module directory take part in that ordering under their own names. A
//! path that is a file is read as one file. Lines ending in `\` continue on
//! the next line; a `\` before any other character is dropped.
//!
//! Directives (words separated by spaces or tabs; `-` in module names is
//! read as `_`, except inside `[...]`):
//! `alias PATTERN MODULE`, `options MODULE OPTIONS...`, `install MODULE
//! COMMAND...`, `remove MODULE COMMAND...`, `blacklist MODULE`, `softdep
//! MODULE [pre: NAMES...] [post: NAMES...]`, `weakdep MODULE NAMES...`.
//! A malformed line is reported and skipped, never fatal.
//!
//! The kernel command line adds `MODULE.PARAM[=VALUE]` as options of
//! MODULE (after every file's) and `modprobe.blacklist=A,B` as blacklist
//! entries.

use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

use crate::compat::cstr::until_nul;
use crate::compat::ctype::isspace;
use crate::kmod::{logical_lines, ConfDirWords, ConfFiles, Level, Logger};

pub mod lookup;
pub use lookup::ConfigLookup;

/// The configuration paths kmod 34 (Debian's build) reads by default, in
/// precedence order.
pub const DEFAULT_CONFIG_PATHS: &[&str] = &[
    "/etc/modprobe.d",
    "/run/modprobe.d",
    "/usr/local/lib/modprobe.d",
    "/usr/lib/modprobe.d",
    "/lib/modprobe.d",
];

/// Where the kernel command line is read from.
pub const KERNEL_CMDLINE_PATH: &str = "/proc/cmdline";

/// kmod reads at most this many bytes of the kernel command line, minus
/// one (`KCMD_LINE_SIZE`).
const KCMD_LINE_SIZE: usize = 4096;

/// How libkmod lists `modprobe.d` directories, in its words.
pub const MODPROBE_D_WORDS: ConfDirWords = ConfDirWords {
    list_func: "conf_files_list",
    filter_func: "conf_files_filter_out",
    unreadable_dir: (b"opendir(", b")"),
    report_not_conf: false,
    unstatable_separator: b"/",
    rejoin_file_path: false,
};

/// An `alias PATTERN MODULE` line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Alias {
    /// The `fnmatch(3)` pattern matched against what the user asked for.
    pub pattern: Vec<u8>,
    /// The module (or further name) it stands for.
    pub modname: Vec<u8>,
}

/// A module name with a text: `options`, `install` or `remove` lines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModuleText {
    /// The module name (a pattern for `install` and `remove`).
    pub modname: Vec<u8>,
    /// The options or the shell command.
    pub text: Vec<u8>,
}

/// A `softdep MODULE pre: ... post: ...` line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Softdep {
    /// The module name pattern.
    pub modname: Vec<u8>,
    /// Names to load before the module.
    pub pre: Vec<Vec<u8>>,
    /// Names to load after the module.
    pub post: Vec<Vec<u8>>,
}

/// A `weakdep MODULE NAMES...` line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Weakdep {
    /// The module name pattern.
    pub modname: Vec<u8>,
    /// Modules the module may use.
    pub weak: Vec<Vec<u8>>,
}

/// Everything read from the configuration, each list in file order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ModprobeConfig {
    /// `alias` lines.
    pub aliases: Vec<Alias>,
    /// `blacklist` lines and `modprobe.blacklist=` entries.
    pub blacklists: Vec<Vec<u8>>,
    /// `options` lines, then the kernel command line's module options.
    pub options: Vec<ModuleText>,
    /// `install` lines.
    pub install_commands: Vec<ModuleText>,
    /// `remove` lines.
    pub remove_commands: Vec<ModuleText>,
    /// `softdep` lines.
    pub softdeps: Vec<Softdep>,
    /// `weakdep` lines.
    pub weakdeps: Vec<Weakdep>,
}

/// kmod's `underscores()`: `-` becomes `_` outside `[...]`; `None` for a
/// stray `]` or an unterminated `[`.
pub fn underscores(s: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(s.len());
    let mut i = 0;
    while i < s.len() {
        match s[i] {
            b'-' => out.push(b'_'),
            b']' => return None,
            b'[' => {
                let end = s[i..].iter().position(|&b| b == b']')? + i;
                out.extend_from_slice(&s[i..=end]);
                i = end;
            }
            c => out.push(c),
        }
        i += 1;
    }
    Some(out)
}

/// A line split as `strtok_r` does it: words separated by spaces or tabs,
/// with the rest of the line after the separator that ended a word
/// available (what `strtok_r(NULL, "\0", ...)` returns).
struct Tokens<'a> {
    line: &'a [u8],
    pos: usize,
}

impl<'a> Tokens<'a> {
    fn new(line: &'a [u8]) -> Tokens<'a> {
        Tokens {
            line: until_nul(line),
            pos: 0,
        }
    }

    fn word(&mut self) -> Option<&'a [u8]> {
        let sep = |b: &u8| *b == b' ' || *b == b'\t';
        while self.pos < self.line.len() && sep(&self.line[self.pos]) {
            self.pos += 1;
        }
        if self.pos >= self.line.len() {
            return None;
        }
        let start = self.pos;
        while self.pos < self.line.len() && !sep(&self.line[self.pos]) {
            self.pos += 1;
        }
        let word = &self.line[start..self.pos];
        if self.pos < self.line.len() {
            self.pos += 1; // the separator is consumed with the word
        }
        Some(word)
    }

    /// The rest of the line, `None` when empty.
    fn rest(&mut self) -> Option<&'a [u8]> {
        let rest = &self.line[self.pos..];
        self.pos = self.line.len();
        (!rest.is_empty()).then_some(rest)
    }
}

impl ModprobeConfig {
    /// Reads the configuration as `kmod_new` does: the module directory's
    /// `modules.softdep` and `modules.weakdep`, the `*.conf` files of
    /// `paths` ([`DEFAULT_CONFIG_PATHS`] when `None`), then the kernel
    /// command line `kernel_cmdline` (the contents of `/proc/cmdline`;
    /// `None` when it cannot be read). Problems are reported through `log`
    /// in kmod's words and never stop the reading.
    pub fn load(
        moddir: &Path,
        paths: Option<&[Vec<u8>]>,
        kernel_cmdline: Option<&[u8]>,
        log: &dyn Logger,
    ) -> ModprobeConfig {
        let dir = moddir.as_os_str().as_bytes();
        let mut files = ConfFiles::new();
        for name in [&b"modules.softdep"[..], b"modules.weakdep"] {
            files.insert([dir, b"/", name].concat(), name.to_vec());
        }
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
        for p in paths {
            files.add_path(p, &MODPROBE_D_WORDS, log);
        }
        let mut cfg = ModprobeConfig::default();
        for f in files.iter() {
            if let Ok(data) = std::fs::read(Path::new(OsStr::from_bytes(&f.path))) {
                cfg.parse(&f.path, &data, log);
            }
        }
        if let Some(cmdline) = kernel_cmdline {
            cfg.parse_kernel_cmdline(cmdline, log);
        }
        cfg
    }

    /// Parses one file's contents (`filename` is used in messages).
    pub fn parse(&mut self, filename: &[u8], data: &[u8], log: &dyn Logger) {
        for (line, linenum) in logical_lines(data) {
            if line.first().is_none_or(|&c| c == 0 || c == b'#') {
                continue;
            }
            let mut t = Tokens::new(&line);
            let Some(cmd) = t.word() else { continue };
            let ok = match cmd {
                b"alias" => {
                    let alias = t.word().and_then(underscores);
                    let modname = t.word().and_then(underscores);
                    match (alias, modname) {
                        (Some(pattern), Some(modname)) => {
                            self.aliases.push(Alias { pattern, modname });
                            true
                        }
                        _ => false,
                    }
                }
                b"blacklist" => match t.word().and_then(underscores) {
                    Some(m) => {
                        self.blacklists.push(m);
                        true
                    }
                    None => false,
                },
                b"options" | b"install" | b"remove" | b"softdep" | b"weakdep" => {
                    let modname = t.word().and_then(underscores);
                    let rest = t.rest();
                    match (modname, rest) {
                        (Some(modname), Some(rest)) => {
                            self.add(cmd, modname, rest);
                            true
                        }
                        _ => false,
                    }
                }
                b"include" | b"config" => {
                    let msg = [
                        filename,
                        b": command ",
                        cmd,
                        b" is deprecated and not parsed anymore\n",
                    ]
                    .concat();
                    log.log(Level::Err, "kmod_config_parse", &msg);
                    true
                }
                _ => false,
            };
            if !ok {
                let msg = [
                    filename,
                    b" line ",
                    linenum.to_string().as_bytes(),
                    b": ignoring bad line starting with '",
                    cmd,
                    b"'\n",
                ]
                .concat();
                log.log(Level::Err, "kmod_config_parse", &msg);
            }
        }
    }

    fn add(&mut self, cmd: &[u8], modname: Vec<u8>, rest: &[u8]) {
        let words = || {
            rest.split(|&b| isspace(b))
                .filter(|w| !w.is_empty())
                .map(<[u8]>::to_vec)
        };
        match cmd {
            b"options" => {
                let text = rest
                    .iter()
                    .map(|&b| if b == b'\t' { b' ' } else { b })
                    .collect();
                self.options.push(ModuleText { modname, text });
            }
            b"install" => self.install_commands.push(ModuleText {
                modname,
                text: rest.to_vec(),
            }),
            b"remove" => self.remove_commands.push(ModuleText {
                modname,
                text: rest.to_vec(),
            }),
            b"softdep" => {
                let (mut pre, mut post) = (Vec::new(), Vec::new());
                let mut mode = 0;
                for w in words() {
                    match w.as_slice() {
                        b"pre:" => mode = 1,
                        b"post:" => mode = 2,
                        _ if mode == 1 => pre.push(w),
                        _ if mode == 2 => post.push(w),
                        _ => {}
                    }
                }
                self.softdeps.push(Softdep { modname, pre, post });
            }
            _ => self.weakdeps.push(Weakdep {
                modname,
                weak: words().collect(),
            }),
        }
    }

    /// Adds the module options and blacklist entries of a kernel command
    /// line (`MODULE.PARAM[=VALUE]`, `modprobe.blacklist=A,B`), parsed as
    /// libkmod does: quotes may enclose a value, or a whole option as some
    /// boot loaders write it (`"mod.param=a b"` becomes `param="a b"`);
    /// anything else malformed is skipped.
    pub fn parse_kernel_cmdline(&mut self, cmdline: &[u8], log: &dyn Logger) {
        for (modname, param) in kernel_cmdline_options(cmdline) {
            if modname == b"modprobe" && param.starts_with(b"blacklist=") {
                for name in param[10..].split(|&b| b == b',') {
                    self.blacklists.push(name.to_vec());
                }
                continue;
            }
            match underscores(&modname) {
                Some(modname) => self.options.push(ModuleText {
                    modname,
                    text: param
                        .iter()
                        .map(|&b| if b == b'\t' { b' ' } else { b })
                        .collect(),
                }),
                None => {
                    let msg = [
                        &b"Ignoring bad option on kernel command line while parsing module name: '"
                            [..],
                        &modname,
                        b"'\n",
                    ]
                    .concat();
                    log.log(Level::Err, "kcmdline_parse_result", &msg);
                }
            }
        }
    }

    /// `true` when `name` is blacklisted.
    pub fn is_blacklisted(&self, name: &[u8]) -> bool {
        self.blacklists.iter().any(|b| b == name)
    }

    /// The configuration part of `modprobe -c`: blacklists, install and
    /// remove commands, aliases, options, softdeps and weakdeps, one line
    /// each, in that order.
    pub fn show(&self) -> Vec<u8> {
        let mut out = Vec::new();
        let mut line = |kind: &[u8], key: &[u8], value: Option<&[u8]>| {
            out.extend_from_slice(kind);
            out.push(b' ');
            out.extend_from_slice(key);
            if let Some(v) = value {
                out.push(b' ');
                out.extend_from_slice(v);
            }
            out.push(b'\n');
        };
        for b in &self.blacklists {
            line(b"blacklist", b, None);
        }
        for c in &self.install_commands {
            line(b"install", &c.modname, Some(&c.text));
        }
        for c in &self.remove_commands {
            line(b"remove", &c.modname, Some(&c.text));
        }
        for a in &self.aliases {
            line(b"alias", &a.pattern, Some(&a.modname));
        }
        for o in &self.options {
            line(b"options", &o.modname, Some(&o.text));
        }
        for s in &self.softdeps {
            // kmod prints "pre: a b" and "post: c" back to back, without a
            // space between them.
            let mut v = Vec::new();
            if !s.pre.is_empty() {
                v.extend_from_slice(b"pre: ");
                v.extend_from_slice(&s.pre.join(&b' '));
            }
            if !s.post.is_empty() {
                v.extend_from_slice(b"post: ");
                v.extend_from_slice(&s.post.join(&b' '));
            }
            line(b"softdep", &s.modname, Some(&v));
        }
        for w in &self.weakdeps {
            line(b"weakdep", &w.modname, Some(&w.weak.join(&b' ')));
        }
        out
    }
}

/// Reads the kernel command line as libkmod does (at most 4095 bytes of
/// `/proc/cmdline`); `None` when it cannot be read.
pub fn read_kernel_cmdline() -> Option<Vec<u8>> {
    use std::io::Read;
    let file = std::fs::File::open(KERNEL_CMDLINE_PATH).ok()?;
    let mut data = Vec::new();
    file.take(KCMD_LINE_SIZE as u64 - 1)
        .read_to_end(&mut data)
        .ok()?;
    Some(data)
}

/// The `MODULE.PARAM[=VALUE]` options of a kernel command line as
/// `(MODULE, PARAM[=VALUE])`, found by libkmod's state machine.
pub fn kernel_cmdline_options(cmdline: &[u8]) -> Vec<(Vec<u8>, Vec<u8>)> {
    #[derive(PartialEq, Clone, Copy)]
    enum S {
        Ignore,
        Modname,
        Param,
        Value,
    }
    let mut buf: Vec<u8> = cmdline.to_vec();
    if let Some(n) = buf.iter().position(|&b| b == 0) {
        buf.truncate(n);
    }
    buf.push(0);
    let mut out = Vec::new();
    let mut state = S::Modname;
    let mut quoted = false;
    let mut quote_start: Option<usize> = None;
    let (mut modname, mut param, mut value) = (0usize, 0usize, None::<usize>);
    let cstr = |buf: &[u8], at: usize| -> Vec<u8> {
        let end = buf[at..]
            .iter()
            .position(|&b| b == 0)
            .map_or(buf.len(), |n| at + n);
        buf[at..end].to_vec()
    };
    let mut p = 0;
    while p < buf.len() {
        let c = buf[p];
        let mut complete = false;
        match c {
            b'"' => {
                quoted = !quoted;
                if quoted && state == S::Modname && p == modname {
                    quote_start = Some(p);
                    modname = p + 1;
                } else if state != S::Value {
                    state = S::Ignore;
                }
            }
            0 | b' ' | b'\n' | b'\t' | 0x0b | 0x0c | b'\r' => {
                if quoted && state == S::Value {
                } else if quoted {
                    state = S::Ignore;
                } else if state == S::Value || state == S::Param {
                    buf[p] = 0;
                    complete = true;
                } else {
                    modname = p + 1;
                    state = S::Modname;
                    quote_start = None;
                }
            }
            b'.' => {
                if state == S::Modname {
                    buf[p] = 0;
                    param = p + 1;
                    state = S::Param;
                } else if state == S::Param {
                    state = S::Ignore;
                }
            }
            b'=' => {
                if state == S::Param {
                    value = Some(p + 1);
                    state = S::Value;
                } else if state == S::Modname {
                    state = S::Ignore;
                }
            }
            _ => {}
        }
        if complete {
            let (mut m, mut pa) = (modname, param);
            if let (Some(q), Some(v)) = (quote_start, value) {
                if q < m && v > m {
                    // re-quote what the boot loader unquoted:
                    // "mod.param=a b" -> mod\0param="a b"
                    buf.copy_within(m..v, q);
                    m -= 1;
                    pa -= 1;
                    buf[v - 1] = b'"';
                }
            }
            out.push((cstr(&buf, m), cstr(&buf, pa)));
            modname = p + 1;
            state = S::Modname;
            quote_start = None;
        }
        if c == 0 {
            break;
        }
        p += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts(s: &str) -> Vec<(String, String)> {
        kernel_cmdline_options(s.as_bytes())
            .into_iter()
            .map(|(a, b)| (String::from_utf8(a).unwrap(), String::from_utf8(b).unwrap()))
            .collect()
    }

    #[test]
    fn kernel_cmdline_like_libkmod() {
        assert_eq!(
            opts("quiet foo.bar=1 x.y a=b.c=d modprobe.blacklist=a,b\n"),
            vec![
                ("foo".into(), "bar=1".into()),
                ("x".into(), "y".into()),
                ("modprobe".into(), "blacklist=a,b".into()),
            ]
        );
        assert_eq!(
            opts("m.p=\"a b\" \"parport.dyndbg=file x +mpf\" z"),
            vec![
                ("m".into(), "p=\"a b\"".into()),
                ("parport".into(), "dyndbg=\"file x +mpf\"".into()),
            ]
        );
        assert_eq!(opts("a.b.c=1 x\"y.z=1"), vec![]);
    }

    #[test]
    fn underscores_keep_ranges() {
        assert_eq!(underscores(b"a-b[0-9]-c").unwrap(), b"a_b[0-9]_c");
        assert!(underscores(b"a]").is_none());
        assert!(underscores(b"a[0-").is_none());
    }

    #[test]
    fn directives_and_bad_lines() {
        let mut cfg = ModprobeConfig::default();
        let msgs = std::cell::RefCell::new(Vec::new());
        let text = b"alias a-b c-d\noptions m\tx=1\t y=2\nsoftdep s pre: a b post: c\n\
                     weakdep w p q\ninstall i-x /bin/true $CMDLINE_OPTS\noptions m\n\
                     bogus line\n  # indented\ninclude x\nblacklist q-r\n";
        let log = |l: Level, _: &str, m: &[u8]| msgs.borrow_mut().push((l, m.to_vec()));
        cfg.parse(b"f.conf", text, &log);
        let msgs = msgs.into_inner();
        assert_eq!(cfg.aliases[0].pattern, b"a_b");
        assert_eq!(cfg.aliases[0].modname, b"c_d");
        assert_eq!(cfg.options[0].text, b"x=1  y=2");
        assert_eq!(cfg.install_commands[0].modname, b"i_x");
        assert_eq!(cfg.blacklists, vec![b"q_r".to_vec()]);
        let shown = String::from_utf8(cfg.show()).unwrap();
        assert!(shown.contains("softdep s pre: a bpost: c\n"), "{shown}");
        assert!(shown.contains("weakdep w p q\n"));
        let msgs: Vec<String> = msgs
            .iter()
            .map(|(_, m)| String::from_utf8_lossy(m).into_owned())
            .collect();
        assert_eq!(
            msgs,
            vec![
                "f.conf line 6: ignoring bad line starting with 'options'\n",
                "f.conf line 7: ignoring bad line starting with 'bogus'\n",
                "f.conf line 8: ignoring bad line starting with '#'\n",
                "f.conf: command include is deprecated and not parsed anymore\n",
            ]
        );
    }
}
