//! util-linux's colour support as dmesg uses it: the `--color` modes, the
//! terminal check (terminfo's `colors`), and the `terminal-colors.d`
//! configuration (`dmesg.disable`, `dmesg.enable`, `dmesg.scheme` and
//! their `@TERM` variants, in `$XDG_CONFIG_HOME` or `~/.config`, else
//! `/etc`).

use std::io::IsTerminal;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

/// `--color` modes (util-linux's `UL_COLORMODE_*`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// `auto`: colours when standard output is a colour terminal.
    Auto,
    /// `never`.
    Never,
    /// `always`.
    Always,
    /// Not given: like `auto`, unless `NO_COLOR` or terminal-colors.d
    /// disables it.
    Undef,
}

/// `colormode_from_string`.
pub fn mode_from_str(s: &[u8]) -> Option<Mode> {
    if s.is_empty() {
        return None;
    }
    [
        (&b"auto"[..], Mode::Auto),
        (b"never", Mode::Never),
        (b"always", Mode::Always),
    ]
    .into_iter()
    .find(|(n, _)| n.eq_ignore_ascii_case(s))
    .map(|(_, m)| m)
}

/// dmesg's colour ids with their scheme names and default sequences.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Id {
    Subsys,
    Time,
    Timebreak,
    Alert,
    Crit,
    Err,
    Warn,
    Segfault,
}

impl Id {
    fn scheme(self) -> (&'static str, &'static str) {
        match self {
            Id::Subsys => ("subsys", "\x1b[33m"),
            Id::Time => ("time", "\x1b[32m"),
            Id::Timebreak => ("timebreak", "\x1b[32m\x1b[1m"),
            Id::Alert => ("alert", "\x1b[7m\x1b[31m"),
            Id::Crit => ("crit", "\x1b[1m\x1b[31m"),
            Id::Err => ("err", "\x1b[31m"),
            Id::Warn => ("warn", "\x1b[1m"),
            Id::Segfault => ("segfault", "\x1b[2m\x1b[31m"),
        }
    }
}

/// The reset sequence.
pub const RESET: &[u8] = b"\x1b[0m";

const COLORFILE_DISABLE: usize = 0;
const COLORFILE_ENABLE: usize = 1;
const COLORFILE_SCHEME: usize = 2;

/// The colour state (util-linux's `ul_color_ctl`).
#[derive(Debug, Default)]
pub struct Colors {
    /// Whether colours are written at all.
    pub on: bool,
    configured: bool,
    /// Result of reading terminal-colors.d (0 = something matched).
    config_rc: i32,
    scores: [i32; 3],
    scheme_file: Option<PathBuf>,
    schemes_read: bool,
    /// Sequences by scheme name, sorted.
    schemes: Vec<(Vec<u8>, Vec<u8>)>,
    /// The sequences resolved for each id (cached).
    cache: [Option<Vec<u8>>; 8],
}

impl Colors {
    /// `colors_init(mode, "dmesg")`.
    pub fn init(mode: Mode) -> Colors {
        let mut cc = Colors::default();
        let tty = std::io::stdout().is_terminal();
        let mut mode = if mode != Mode::Always && !tty {
            Mode::Never
        } else {
            mode
        };
        let mut ready: Option<bool> = None;
        if mode == Mode::Undef && std::env::var_os("NO_COLOR").is_none() {
            let r = terminal_is_ready();
            ready = Some(r);
            if r {
                cc.read_configuration();
                mode = if cc.config_rc != 0 {
                    Mode::Auto
                } else if cc.scores[COLORFILE_DISABLE] > cc.scores[COLORFILE_ENABLE] {
                    Mode::Never
                } else {
                    Mode::Auto
                };
            }
        }
        cc.on = match mode {
            Mode::Auto => ready.unwrap_or_else(terminal_is_ready),
            Mode::Always => true,
            Mode::Never | Mode::Undef => false,
        };
        cc
    }

    fn read_configuration(&mut self) {
        let term = std::env::var_os("TERM").map(|t| t.as_bytes().to_vec());
        let home = match std::env::var_os("XDG_CONFIG_HOME") {
            Some(x) => Some(Path::new(&x).join("terminal-colors.d")),
            None => std::env::var_os("HOME")
                .map(|h| Path::new(&h).join(".config").join("terminal-colors.d")),
        };
        let mut rc = -2; // -ENOENT
        if let Some(dir) = home {
            rc = self.readdir(&dir, term.as_deref());
        }
        if rc == -1 || rc == -13 || rc == -2 {
            rc = self.readdir(Path::new("/etc/terminal-colors.d"), term.as_deref());
        }
        self.config_rc = rc;
        self.configured = true;
    }

    /// `colors_readdir`: scores the files of one directory.
    fn readdir(&mut self, dir: &Path, term: Option<&[u8]>) -> i32 {
        let rd = match std::fs::read_dir(dir) {
            Ok(rd) => rd,
            Err(e) => return -e.raw_os_error().unwrap_or(2),
        };
        let mut rc = -2;
        let mut sfile: Option<Vec<u8>> = None;
        for entry in rd.flatten() {
            let name = entry.file_name();
            let name = name.as_bytes();
            if name.first() == Some(&b'.') {
                continue;
            }
            if let Ok(ft) = entry.file_type() {
                if !ft.is_file() && !ft.is_symlink() {
                    continue;
                }
            }
            let Some((ty, tk_name, tk_term)) = filename_to_tokens(name) else {
                continue;
            };
            let mut score = 1;
            if tk_name.is_some() {
                score += 20;
            }
            if tk_term.is_some() {
                score += 10;
            }
            if score < self.scores[ty] {
                continue;
            }
            if let Some(n) = tk_name {
                if !n.is_empty() && n != b"dmesg" {
                    continue;
                }
            }
            if let Some(t) = tk_term {
                if !t.is_empty() && term.is_none_or(|term| term.is_empty() || term != t) {
                    continue;
                }
            }
            self.scores[ty] = score;
            rc = 0;
            if ty == COLORFILE_SCHEME {
                sfile = Some(name.to_vec());
            }
        }
        if let Some(f) = sfile {
            self.scheme_file = Some(dir.join(std::ffi::OsStr::from_bytes(&f)));
        }
        rc
    }

    /// `colors_read_schemes`; returns util-linux's rc (0 = fine).
    fn read_schemes(&mut self) -> i32 {
        let mut rc = 0;
        if !self.configured {
            self.read_configuration();
            rc = self.config_rc;
        }
        self.schemes_read = true;
        if rc != 0 {
            return rc;
        }
        let Some(path) = self.scheme_file.clone() else {
            return 0;
        };
        let data = match std::fs::read(&path) {
            Ok(d) => d,
            Err(e) => return -e.raw_os_error().unwrap_or(2),
        };
        let mut rc = 0;
        for line in data.split_inclusive(|&b| b == b'\n') {
            let skip = line
                .iter()
                .take_while(|&&b| b == b' ' || b == b'\t')
                .count();
            let p = &line[skip..];
            if p.is_empty() || p[0] == b'#' || p[0] == b'\n' {
                continue;
            }
            // sscanf("%128[^ ] %128[^\n ]")
            let cn_len = p.iter().take_while(|&&b| b != b' ').count().min(128);
            let cn = &p[..cn_len];
            let mut r = &p[cn_len..];
            while let Some(&c) = r.first() {
                if c.is_ascii_whitespace() || c == 0x0b {
                    r = &r[1..];
                } else {
                    break;
                }
            }
            let seq_len = r
                .iter()
                .take_while(|&&b| b != b'\n' && b != b' ')
                .count()
                .min(128);
            if cn.is_empty() || seq_len == 0 {
                continue;
            }
            match color_sequence(&r[..seq_len]) {
                Some(seq) => self.schemes.push((cn.to_vec(), seq)),
                None => {
                    rc = -22;
                    break;
                }
            }
        }
        self.schemes.sort_by(|a, b| a.0.cmp(&b.0));
        rc
    }

    /// `color_scheme_enable(name, default)`: the sequence to write, if any.
    pub fn sequence(&mut self, id: Id) -> Option<&[u8]> {
        if !self.on {
            return None;
        }
        let i = id as usize;
        let (name, dflt) = id.scheme();
        if self.cache[i].is_none() {
            // util-linux reads the schemes at the first use; if that
            // fails, that use gets the default, later ones what was read.
            if !self.schemes_read && self.read_schemes() != 0 {
                return Some(dflt.as_bytes());
            }
            self.cache[i] = Some(
                self.lookup(name)
                    .unwrap_or_else(|| dflt.as_bytes().to_vec()),
            );
        }
        self.cache[i].as_deref()
    }

    fn lookup(&self, name: &str) -> Option<Vec<u8>> {
        self.schemes
            .binary_search_by(|(n, _)| n.as_slice().cmp(name.as_bytes()))
            .ok()
            .map(|i| self.schemes[i].1.clone())
    }
}

/// `filename_to_tokens`: (type, utility name, terminal name).
#[allow(clippy::type_complexity)]
fn filename_to_tokens(s: &[u8]) -> Option<(usize, Option<&[u8]>, Option<&[u8]>)> {
    if s.is_empty() || s[0] == b'.' || s.len() > 4096 {
        return None;
    }
    let type_start = s.iter().rposition(|&b| b == b'.').map_or(0, |d| d + 1);
    let ty = match &s[type_start..] {
        b"disable" => COLORFILE_DISABLE,
        b"enable" => COLORFILE_ENABLE,
        b"scheme" => COLORFILE_SCHEME,
        _ => return None,
    };
    if type_start == 0 {
        return Some((ty, None, None));
    }
    let at = s.iter().position(|&b| b == b'@');
    let mut term = None;
    if let Some(a) = at {
        let ts = a + 1;
        term = Some(
            s.get(ts..type_start.saturating_sub(1).max(ts))
                .unwrap_or(&[]),
        );
        if a == 0 {
            return Some((ty, None, term));
        }
    }
    let p = at.map_or(type_start, |a| a + 1);
    let name = &s[..p.saturating_sub(1)];
    Some((ty, Some(name), term))
}

/// `color_get_sequence`: a colour name (`red`) or an escape body
/// (`1;31`, with `\e`-style escapes) as the sequence to write.
fn color_sequence(s: &[u8]) -> Option<Vec<u8>> {
    const NAMES: &[(&str, &str)] = &[
        ("black", "\x1b[30m"),
        ("blink", "\x1b[5m"),
        ("blue", "\x1b[34m"),
        ("bold", "\x1b[1m"),
        ("brown", "\x1b[33m"),
        ("cyan", "\x1b[36m"),
        ("darkgray", "\x1b[1;30m"),
        ("gray", "\x1b[37m"),
        ("green", "\x1b[32m"),
        ("halfbright", "\x1b[2m"),
        ("lightblue", "\x1b[1;34m"),
        ("lightcyan", "\x1b[1;36m"),
        ("lightgray", "\x1b[37m"),
        ("lightgreen", "\x1b[1;32m"),
        ("lightmagenta", "\x1b[1;35m"),
        ("lightred", "\x1b[1;31m"),
        ("magenta", "\x1b[35m"),
        ("red", "\x1b[31m"),
        ("reset", "\x1b[0m"),
        ("reverse", "\x1b[7m"),
        ("white", "\x1b[1;37m"),
        ("yellow", "\x1b[1;33m"),
    ];
    if s.first() != Some(&b'\\')
        && !s.contains(&b';')
        && s.first().is_some_and(u8::is_ascii_alphabetic)
    {
        return NAMES
            .iter()
            .find(|(n, _)| n.as_bytes() == s)
            .map(|(_, q)| q.as_bytes().to_vec());
    }
    let mut raw = b"\x1b[".to_vec();
    raw.extend_from_slice(s);
    raw.push(b'm');
    let mut out = Vec::with_capacity(raw.len());
    let mut i = 0;
    while i < raw.len() {
        if raw[i] != b'\\' {
            out.push(raw[i]);
            i += 1;
            continue;
        }
        let next = raw.get(i + 1).copied().unwrap_or(0);
        match next {
            b'a' => out.push(0x07),
            b'b' => out.push(0x08),
            b'e' => out.push(0x1b),
            b'f' => out.push(0x0c),
            b'n' => out.push(b'\n'),
            b'r' => out.push(b'\r'),
            b't' => out.push(b'\t'),
            b'v' => out.push(0x0b),
            b'\\' => out.push(b'\\'),
            b'_' => out.push(b' '),
            b'#' => out.push(b'#'),
            b'?' => out.push(b'?'),
            0 => {
                out.push(b'\\');
                break;
            }
            c => {
                out.push(b'\\');
                out.push(c);
            }
        }
        i += 2;
    }
    Some(out)
}

/// ncurses' `setupterm` + `tigetnum("colors") > 1` for `$TERM`.
fn terminal_is_ready() -> bool {
    let Some(term) = std::env::var_os("TERM").filter(|t| !t.is_empty()) else {
        return false;
    };
    let term = term.as_bytes();
    if term.contains(&b'/') {
        return false;
    }
    let mut dirs: Vec<PathBuf> = Vec::new();
    if let Some(t) = std::env::var_os("TERMINFO") {
        dirs.push(PathBuf::from(t));
    }
    if let Some(h) = std::env::var_os("HOME") {
        dirs.push(Path::new(&h).join(".terminfo"));
    }
    let system = ["/etc/terminfo", "/lib/terminfo", "/usr/share/terminfo"];
    if let Some(list) = std::env::var_os("TERMINFO_DIRS") {
        // Its empty entries stand for the compiled-in list.
        for d in list.as_bytes().split(|&b| b == b':') {
            if d.is_empty() {
                dirs.extend(system.iter().map(PathBuf::from));
            } else {
                dirs.push(PathBuf::from(std::ffi::OsStr::from_bytes(d)));
            }
        }
    } else {
        dirs.extend(system.iter().map(PathBuf::from));
    }
    let name = std::ffi::OsStr::from_bytes(term);
    for dir in dirs {
        let first = term[0];
        for sub in [
            PathBuf::from(std::ffi::OsStr::from_bytes(&[first])),
            PathBuf::from(format!("{first:02x}")),
        ] {
            if let Ok(data) = std::fs::read(dir.join(&sub).join(name)) {
                return terminfo_colors(&data).is_some_and(|n| n > 1);
            }
        }
    }
    false
}

/// The `colors` number of a compiled terminfo entry.
fn terminfo_colors(d: &[u8]) -> Option<i64> {
    let short = |i: usize| -> Option<i64> {
        let b = d.get(i..i + 2)?;
        Some(i64::from(i16::from_le_bytes([b[0], b[1]])))
    };
    let magic = short(0)?;
    let wide = match magic {
        0o432 => false,
        0o1036 => true,
        _ => return None,
    };
    let names = usize::try_from(short(2)?).ok()?;
    let bools = usize::try_from(short(4)?).ok()?;
    let nums = usize::try_from(short(6)?).ok()?;
    const COLORS: usize = 13;
    if nums <= COLORS {
        return None;
    }
    let mut at = 12 + names + bools;
    if at % 2 == 1 {
        at += 1;
    }
    if wide {
        let b = d.get(at + COLORS * 4..at + COLORS * 4 + 4)?;
        Some(i64::from(i32::from_le_bytes([b[0], b[1], b[2], b[3]])))
    } else {
        short(at + COLORS * 2)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens() {
        assert_eq!(filename_to_tokens(b"disable"), Some((0, None, None)));
        assert_eq!(
            filename_to_tokens(b"dmesg.scheme"),
            Some((2, Some(&b"dmesg"[..]), None))
        );
        assert_eq!(
            filename_to_tokens(b"dmesg@xterm.enable"),
            Some((1, Some(&b"dmesg"[..]), Some(&b"xterm"[..])))
        );
        assert_eq!(
            filename_to_tokens(b"@xterm.disable"),
            Some((0, None, Some(&b"xterm"[..])))
        );
        assert_eq!(filename_to_tokens(b"dmesg.txt"), None);
    }

    #[test]
    fn sequences() {
        assert_eq!(color_sequence(b"red").unwrap(), b"\x1b[31m");
        assert_eq!(color_sequence(b"1;31").unwrap(), b"\x1b[1;31m");
        assert_eq!(color_sequence(b"\\e[5m\\_").unwrap(), b"\x1b[\x1b[5m m");
        assert!(color_sequence(b"nosuchcolor").is_none());
        assert_eq!(mode_from_str(b"ALWAYS"), Some(Mode::Always));
        assert_eq!(mode_from_str(b""), None);
    }

    #[test]
    fn terminfo_when_present() {
        if let Ok(d) = std::fs::read("/usr/share/terminfo/x/xterm-256color")
            .or_else(|_| std::fs::read("/lib/terminfo/x/xterm-256color"))
        {
            assert_eq!(terminfo_colors(&d), Some(256));
        }
        if let Ok(d) = std::fs::read("/lib/terminfo/d/dumb") {
            assert!(terminfo_colors(&d).is_none_or(|n| n <= 1));
        }
    }
}
