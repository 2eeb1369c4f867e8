//! Parsers for the text files of tracefs and debugfs that describe probes:
//! `kprobe_events`/`dynamic_events` lines, `kprobe_profile`, debugfs's
//! `kprobes/blacklist` and `kprobes/list`, and tracefs's `error_log`.
//! Each takes the file's text and returns what it says; a line it does not
//! understand is an error naming it (or, for `kprobes/list`, kept as text),
//! never a panic.

use std::fmt;

/// A line of a probe file that is not in the kernel's format.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FormatError {
    /// Which file.
    pub file: &'static str,
    /// The line (1-based).
    pub line: usize,
    /// Its text.
    pub text: String,
}

impl fmt::Display for FormatError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} line {}: unexpected format: '{}'",
            self.file, self.line, self.text
        )
    }
}

impl std::error::Error for FormatError {}

fn lines(text: &str) -> impl Iterator<Item = (usize, &str)> {
    text.lines()
        .enumerate()
        .map(|(i, l)| (i + 1, l))
        .filter(|(_, l)| !l.trim().is_empty())
}

/// A probe as `kprobe_events` (or `dynamic_events`) lists it:
/// `p:GROUP/EVENT SYM[+OFF] NAME=ARG...`, `r[MAXACTIVE]:...`, or another
/// dynamic event type (`f`, `t`, `e`, `s`, `u`...).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProbeDefinition {
    /// The type letter: `p` kprobe, `r` kretprobe, others for other
    /// dynamic events.
    pub kind: char,
    /// `MAXACTIVE` of `rN:`.
    pub maxactive: Option<u32>,
    /// The group.
    pub group: String,
    /// The event name.
    pub event: String,
    /// Where: `SYM`, `SYM+OFF`, `MOD:SYM`, or `0xADDR`.
    pub location: String,
    /// `NAME=FETCH[:TYPE]` as the kernel prints them.
    pub args: Vec<String>,
}

impl ProbeDefinition {
    /// Whether this is a kprobe or a kretprobe.
    pub fn is_kprobe(&self) -> bool {
        matches!(self.kind, 'p' | 'r')
    }

    /// `GROUP/EVENT`.
    pub fn full_name(&self) -> String {
        format!("{}/{}", self.group, self.event)
    }
}

/// Parses `kprobe_events` or `dynamic_events`.
pub fn parse_probe_events(text: &str) -> Result<Vec<ProbeDefinition>, FormatError> {
    let mut out = Vec::new();
    for (n, line) in lines(text) {
        let bad = || FormatError {
            file: "kprobe_events",
            line: n,
            text: line.to_string(),
        };
        let mut words = line.split(' ').filter(|w| !w.is_empty());
        let head = words.next().ok_or_else(bad)?;
        let (prefix, name) = head.split_once(':').ok_or_else(bad)?;
        let mut chars = prefix.chars();
        let kind = chars.next().ok_or_else(bad)?;
        let rest = chars.as_str();
        let maxactive = if rest.is_empty() {
            None
        } else {
            Some(rest.parse().map_err(|_| bad())?)
        };
        let (group, event) = name.split_once('/').ok_or_else(bad)?;
        let location = words.next().unwrap_or("").to_string();
        out.push(ProbeDefinition {
            kind,
            maxactive,
            group: group.to_string(),
            event: event.to_string(),
            location,
            args: words.map(str::to_string).collect(),
        });
    }
    Ok(out)
}

/// A line of `kprobe_profile`: an event's hits and misses.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProfileEntry {
    /// The event name (the kernel prints it without its group).
    pub event: String,
    /// Times the probe fired.
    pub hits: u64,
    /// Times it could not run (a kretprobe out of instances, a recursion).
    pub misses: u64,
}

/// Parses `kprobe_profile` (`  EVENT  HITS  MISSES` per line).
pub fn parse_profile(text: &str) -> Result<Vec<ProfileEntry>, FormatError> {
    let mut out = Vec::new();
    for (n, line) in lines(text) {
        let w: Vec<&str> = line.split_whitespace().collect();
        let parsed = match w.as_slice() {
            [event, hits, misses] => match (hits.parse(), misses.parse()) {
                (Ok(hits), Ok(misses)) => Some(ProfileEntry {
                    event: event.to_string(),
                    hits,
                    misses,
                }),
                _ => None,
            },
            _ => None,
        };
        out.push(parsed.ok_or_else(|| FormatError {
            file: "kprobe_profile",
            line: n,
            text: line.to_string(),
        })?);
    }
    Ok(out)
}

/// An entry of debugfs's `kprobes/blacklist`: a range no kprobe may touch.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BlacklistEntry {
    /// First address (zero when the kernel hides addresses).
    pub start: u64,
    /// End address (exclusive).
    pub end: u64,
    /// The symbol at the start.
    pub symbol: String,
    /// Its module, for a module's range.
    pub module: Option<String>,
}

impl BlacklistEntry {
    /// Whether `address` falls in the range (never, with hidden addresses).
    pub fn contains(&self, address: u64) -> bool {
        self.start != 0 && (self.start..self.end).contains(&address)
    }
}

/// Parses `kprobes/blacklist` (`0xSTART-0xEND\tSYMBOL [MODULE]`).
pub fn parse_blacklist(text: &str) -> Result<Vec<BlacklistEntry>, FormatError> {
    let mut out = Vec::new();
    for (n, line) in lines(text) {
        let bad = || FormatError {
            file: "kprobes/blacklist",
            line: n,
            text: line.to_string(),
        };
        let (range, rest) = line.split_once(['\t', ' ']).ok_or_else(bad)?;
        let (start, end) = range.split_once('-').ok_or_else(bad)?;
        let hex = |s: &str| {
            s.strip_prefix("0x")
                .and_then(|h| u64::from_str_radix(h, 16).ok())
        };
        let (start, end) = (hex(start).ok_or_else(bad)?, hex(end).ok_or_else(bad)?);
        let mut w = rest.split_whitespace();
        let symbol = w.next().ok_or_else(bad)?.to_string();
        let module = w
            .next()
            .and_then(|m| m.strip_prefix('[')?.strip_suffix(']'))
            .map(str::to_string);
        out.push(BlacklistEntry {
            start,
            end,
            symbol,
            module,
        });
    }
    Ok(out)
}

/// A line of debugfs's `kprobes/list`: a registered kprobe (from any
/// source: tracefs, modules, BPF).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RegisteredProbe {
    /// Its address (zero when hidden).
    pub address: u64,
    /// `k` kprobe, `r` kretprobe, `f` fprobe...
    pub kind: char,
    /// `SYMBOL+0xOFF` as printed.
    pub location: String,
    /// The module, if any.
    pub module: Option<String>,
    /// Bracketed flags: `GONE`, `DISABLED`, `OPTIMIZED`, `FTRACE`.
    pub flags: Vec<String>,
}

/// Parses `kprobes/list` (`ADDR  TYPE  SYM+0xOFF  [MOD] [FLAGS]...`).
pub fn parse_kprobes_list(text: &str) -> Result<Vec<RegisteredProbe>, FormatError> {
    let mut out = Vec::new();
    for (n, line) in lines(text) {
        let bad = || FormatError {
            file: "kprobes/list",
            line: n,
            text: line.to_string(),
        };
        let mut w = line.split_whitespace();
        let address = w
            .next()
            .and_then(|a| u64::from_str_radix(a, 16).ok())
            .ok_or_else(bad)?;
        let kind = w.next().and_then(|k| k.chars().next()).ok_or_else(bad)?;
        let location = w.next().ok_or_else(bad)?.to_string();
        let mut module = None;
        let mut flags = Vec::new();
        for word in w {
            if word.starts_with('[') {
                for f in word.split(']').filter(|f| !f.is_empty()) {
                    flags.push(f.trim_start_matches('[').to_string());
                }
            } else {
                module = Some(word.to_string());
            }
        }
        out.push(RegisteredProbe {
            address,
            kind,
            location,
            module,
            flags,
        });
    }
    Ok(out)
}

/// An entry of tracefs's `error_log`: the kernel's own words on a refused
/// command.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ErrorLogEntry {
    /// The timestamp as printed (`[  12.345678]`'s inside).
    pub timestamp: String,
    /// Where, `trace_kprobe`.
    pub location: String,
    /// The message, e.g. `Failed to find symbol`.
    pub message: String,
    /// The command the kernel refused.
    pub command: String,
    /// The caret's column in the command, if shown.
    pub position: Option<usize>,
}

impl ErrorLogEntry {
    /// The timestamp in microseconds, for ordering.
    pub fn micros(&self) -> Option<u64> {
        let (s, us) = self.timestamp.trim().split_once('.')?;
        Some(s.parse::<u64>().ok()? * 1_000_000 + us.parse::<u64>().ok()?)
    }

    /// The refused part of the command (the word under the caret; `None`
    /// when the caret is past the end).
    pub fn culprit(&self) -> Option<&str> {
        let p = self.position?;
        let word = self.command.get(p..)?.split(' ').next()?;
        (!word.is_empty()).then_some(word)
    }
}

/// Parses `error_log`: per entry `[ TIME] LOC: error: MESSAGE`, then
/// `  Command: CMD`, then a caret line.
pub fn parse_error_log(text: &str) -> Vec<ErrorLogEntry> {
    const CMD: &str = "  Command: ";
    let mut out: Vec<ErrorLogEntry> = Vec::new();
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix('[') {
            let Some((ts, msg)) = rest.split_once(']') else {
                continue;
            };
            let msg = msg.trim_start();
            let (location, message) = match msg.split_once(": error: ") {
                Some((l, m)) => (l.to_string(), m.to_string()),
                None => (String::new(), msg.to_string()),
            };
            out.push(ErrorLogEntry {
                timestamp: ts.trim().to_string(),
                location,
                message,
                command: String::new(),
                position: None,
            });
        } else if let Some(cmd) = line.strip_prefix(CMD) {
            if let Some(e) = out.last_mut() {
                e.command = cmd.to_string();
            }
        } else if line.trim_end().ends_with('^') && line.trim_start() == "^" {
            if let Some(e) = out.last_mut() {
                e.position = line.len().checked_sub(CMD.len() + 1);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn probe_events() {
        let t = "p:modkit/kp mk_kptarget:mk_kptarget_fn value=%di:s32 tag=+0(%dx):string\n\
                 r16:modkit/krp mk_kptarget_fn ret=$retval:s64\n\
                 p:kprobes/x 0xffffffff81000000\n";
        let p = parse_probe_events(t).unwrap();
        assert_eq!(p.len(), 3);
        assert_eq!(p[0].kind, 'p');
        assert_eq!(p[0].full_name(), "modkit/kp");
        assert_eq!(p[0].location, "mk_kptarget:mk_kptarget_fn");
        assert_eq!(p[0].args, ["value=%di:s32", "tag=+0(%dx):string"]);
        assert_eq!(p[1].maxactive, Some(16));
        assert_eq!(p[2].args.len(), 0);
        assert!(parse_probe_events("p modkit\n").is_err());
        assert!(parse_probe_events("rX:a/b f\n").is_err());
        assert!(parse_probe_events("").unwrap().is_empty());
    }

    #[test]
    fn profile() {
        let t =
            "  kp                                                         5               0\n  \
                 krp                                                        5               2\n";
        let p = parse_profile(t).unwrap();
        assert_eq!(
            p[1],
            ProfileEntry {
                event: "krp".into(),
                hits: 5,
                misses: 2
            }
        );
        assert!(parse_profile("  kp x 0\n").is_err());
    }

    #[test]
    fn blacklist() {
        let t = "0xffffffff81001000-0xffffffff81001040\tdo_int3\n\
                 0xffffffffc0001000-0xffffffffc0001010\tfoo [mymod]\n\
                 0x0000000000000000-0x0000000000000000\thidden\n";
        let b = parse_blacklist(t).unwrap();
        assert_eq!(b[0].symbol, "do_int3");
        assert!(b[0].contains(0xffffffff81001000) && !b[0].contains(0xffffffff81001040));
        assert_eq!(b[1].module.as_deref(), Some("mymod"));
        assert!(!b[2].contains(0));
        assert!(parse_blacklist("zz-0x1\tx\n").is_err());
    }

    #[test]
    fn kprobes_list() {
        let t = "ffffffffc0a1b000  k  mk_kptarget_fn+0x0  mk_kptarget [FTRACE]\n\
                 ffffffff81234560  r  __x64_sys_sync+0x0    [DISABLED][FTRACE]\n\
                 0000000000000000  k  vfs_read+0x4    [OPTIMIZED]\n";
        let l = parse_kprobes_list(t).unwrap();
        assert_eq!(l[0].module.as_deref(), Some("mk_kptarget"));
        assert_eq!(l[0].flags, ["FTRACE"]);
        assert_eq!(l[1].kind, 'r');
        assert_eq!(l[1].flags, ["DISABLED", "FTRACE"]);
        assert_eq!(l[1].module, None);
        assert_eq!(l[2].location, "vfs_read+0x4");
    }

    #[test]
    fn error_log() {
        // Recorded on Debian's 6.1.0-57 (vm/guest/kprobe.sh's first run).
        let t = "[    5.849910] trace_kprobe: error: Invalid probed address or symbol\n\
                 \x20 Command: p:modkit/bad nosuchsymbol_xyz\n\
                 \x20                       ^\n\
                 [   13.000001] trace_kprobe: error: Argument type or name is different from existing probe\n\
                 \x20 Command: p:modkit/kp mk_kptarget_fn\n\
                 \x20                                     ^\n";
        let e = parse_error_log(t);
        assert_eq!(e.len(), 2);
        assert_eq!(e[0].message, "Invalid probed address or symbol");
        assert_eq!(e[0].location, "trace_kprobe");
        assert_eq!(e[0].culprit(), Some("nosuchsymbol_xyz"));
        assert_eq!(e[1].micros(), Some(13_000_001));
        assert_eq!(e[1].culprit(), None);
    }
}
