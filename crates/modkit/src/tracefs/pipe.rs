//! The trace line format of `trace_pipe` and `trace`, and a reader of
//! `trace_pipe`.
//!
//! The kernel prints an event as
//! `COMM-PID [CPU] FLAGS TIMESTAMP: EVENT: BODY`, where COMM is right-aligned
//! in 16 columns (and may hold spaces and dashes: the PID is after the
//! last dash), ` (TGID)` follows the PID with the `record-tgid` option,
//! FLAGS (`d..3.`, irqs-off, need-resched, hard/soft irq, preempt depth,
//! and on newer kernels a migrate-disable column) is absent without the
//! `irq-info` option, and TIMESTAMP is `SECONDS.MICROS` (a counter with
//! other trace clocks). A kprobe's BODY is `(SYM+0xOFF/0xSIZE) ARGS`, a
//! kretprobe's `(CALLER+0xOFF/0xSIZE <- SYM) ARGS`; ARGS are `NAME=VALUE`
//! separated by spaces, a string value in double quotes (spaces and all,
//! unescaped), an array in braces. When the ring buffer overflowed, a line
//! `CPU:N [LOST M EVENTS]` stands for what was dropped.

use std::fs::File;
use std::io::{self, Read};
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

/// Where a probe fired, from the body's parenthesis.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ProbeSite<'a> {
    /// A kprobe: `(SYM+0xOFF/0xSIZE)`.
    Entry {
        /// The probed place as `%pS` prints it.
        at: &'a str,
    },
    /// A kretprobe: `(CALLER <- SYM)`: returning from `from` to `to`.
    Return {
        /// The caller the function returned to.
        to: &'a str,
        /// The function that returned.
        from: &'a str,
    },
}

/// One event line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TraceEvent<'a> {
    /// The task's command name (`<...>` when the kernel no longer knew it).
    pub comm: &'a str,
    /// Its thread id.
    pub pid: u32,
    /// Its thread-group id, with the `record-tgid` option (`None` too when
    /// printed as dashes).
    pub tgid: Option<u32>,
    /// The CPU.
    pub cpu: u32,
    /// The irq-info column (`d..3.`), when printed.
    pub flags: Option<&'a str>,
    /// The timestamp as printed (`1234.567890`).
    pub timestamp: &'a str,
    /// The event name.
    pub event: &'a str,
    /// For a probe event, where it fired.
    pub site: Option<ProbeSite<'a>>,
    /// The named values, in order.
    pub args: Vec<(&'a str, &'a str)>,
    /// The body as printed, everything after `EVENT: `.
    pub body: &'a str,
}

impl<'a> TraceEvent<'a> {
    /// The value of the argument named `name`.
    pub fn arg(&self, name: &str) -> Option<&'a str> {
        self.args.iter().find(|(n, _)| *n == name).map(|(_, v)| *v)
    }

    /// The timestamp in seconds, if it is `SECONDS.FRACTION`.
    pub fn seconds(&self) -> Option<f64> {
        self.timestamp.parse().ok()
    }
}

/// A line of `trace_pipe`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TraceLine<'a> {
    /// An event.
    Event(TraceEvent<'a>),
    /// `CPU:N [LOST M EVENTS]`: the ring buffer dropped M events.
    Lost {
        /// The CPU whose buffer overflowed.
        cpu: u32,
        /// How many events were dropped.
        count: u64,
    },
    /// Anything else (a comment line of `trace`, a format this parser does
    /// not know), as text.
    Other(&'a str),
}

/// Parses one line (without its newline). Never fails: what is not an
/// event or a lost-events line is [`TraceLine::Other`].
pub fn parse_line(line: &str) -> TraceLine<'_> {
    parse_lost(line)
        .or_else(|| parse_event(line).map(TraceLine::Event))
        .unwrap_or(TraceLine::Other(line))
}

fn parse_lost(line: &str) -> Option<TraceLine<'_>> {
    let rest = line.trim().strip_prefix("CPU:")?;
    let (cpu, rest) = rest.split_once(' ')?;
    let count = rest.strip_prefix("[LOST ")?.strip_suffix(" EVENTS]")?;
    Some(TraceLine::Lost {
        cpu: cpu.parse().ok()?,
        count: count.parse().ok()?,
    })
}

fn parse_event(line: &str) -> Option<TraceEvent<'_>> {
    // The CPU column: the first " [DIGITS]" after a "COMM-PID[ (TGID)]".
    let mut from = 0;
    loop {
        let open = from + line[from..].find(" [")?;
        let close = open + 2 + line[open + 2..].find(']')?;
        let digits = &line[open + 2..close];
        from = open + 2;
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            continue;
        }
        let Some((comm, pid, tgid)) = parse_task(&line[..open]) else {
            continue;
        };
        let cpu = digits.parse().ok()?;
        return parse_after_cpu(&line[close + 1..], comm, pid, tgid, cpu);
    }
}

fn parse_task(head: &str) -> Option<(&str, u32, Option<u32>)> {
    let mut head = head.trim_end();
    let mut tgid = None;
    if let Some(inner) = head.strip_suffix(')') {
        let open = inner.rfind('(')?;
        let t = inner[open + 1..].trim();
        tgid = if t.bytes().all(|b| b == b'-') {
            None
        } else {
            Some(t.parse().ok()?)
        };
        head = inner[..open].trim_end();
    }
    let (comm, pid) = head.rsplit_once('-')?;
    let pid = pid.parse().ok()?;
    Some((comm.trim_start(), pid, tgid))
}

fn is_flags(word: &str) -> bool {
    (4..=6).contains(&word.len())
        && word.bytes().all(|b| {
            b.is_ascii_alphanumeric() || matches!(b, b'.' | b'X' | b'!' | b'+' | b'#' | b'*')
        })
        && !word.ends_with(':')
}

fn parse_after_cpu<'a>(
    rest: &'a str,
    comm: &'a str,
    pid: u32,
    tgid: Option<u32>,
    cpu: u32,
) -> Option<TraceEvent<'a>> {
    let rest = rest.trim_start();
    let (first, after_first) = rest.split_once(' ')?;
    let (flags, rest) = if first.ends_with(':') {
        (None, rest)
    } else if is_flags(first) {
        (Some(first), after_first.trim_start())
    } else {
        return None;
    };
    let (timestamp, rest) = rest.split_once(": ")?;
    if timestamp.is_empty() || !timestamp.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
        return None;
    }
    let (event, body) = match rest.split_once(": ") {
        Some((e, b)) if !e.contains(' ') => (e, b),
        _ => (rest.strip_suffix(':').unwrap_or(rest), ""),
    };
    if event.is_empty() || event.contains(' ') {
        return None;
    }
    let (site, args_text) = parse_site(body);
    Some(TraceEvent {
        comm,
        pid,
        tgid,
        cpu,
        flags,
        timestamp,
        event,
        site,
        args: parse_args(args_text),
        body,
    })
}

fn parse_site(body: &str) -> (Option<ProbeSite<'_>>, &str) {
    let Some(inner) = body.strip_prefix('(') else {
        return (None, body);
    };
    let Some(close) = inner.find(')') else {
        return (None, body);
    };
    let site = &inner[..close];
    let rest = inner[close + 1..].trim_start();
    let site = match site.split_once(" <- ") {
        Some((to, from)) => ProbeSite::Return { to, from },
        None => ProbeSite::Entry { at: site },
    };
    (Some(site), rest)
}

/// Whether `s` starts with ` NAME=` (the next argument).
fn next_arg_follows(s: &str) -> bool {
    let Some(s) = s.strip_prefix(' ') else {
        return false;
    };
    let Some(eq) = s.find('=') else {
        return false;
    };
    let name = &s[..eq];
    !name.is_empty() && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

/// Splits `NAME=VALUE NAME="A STRING" NAME={1,2}` into pairs. A quoted
/// value runs to the quote that ends the line or comes before the next
/// ` NAME=`; a braced one to its closing brace. Text that is not
/// `NAME=VALUE` ends the list.
pub fn parse_args(text: &str) -> Vec<(&str, &str)> {
    let mut out = Vec::new();
    let mut rest = text.trim_start();
    while !rest.is_empty() {
        let Some(eq) = rest.find('=') else { break };
        let name = &rest[..eq];
        if name.is_empty() || name.contains(' ') {
            break;
        }
        let value_text = &rest[eq + 1..];
        let end = if let Some(q) = value_text.strip_prefix('"') {
            // The closing quote: the last '"' before the next ` NAME=`.
            let mut end = None;
            for (i, _) in q.match_indices('"') {
                let after = &q[i + 1..];
                if after.is_empty() || next_arg_follows(after) {
                    end = Some(i + 2);
                    break;
                }
            }
            end.unwrap_or(value_text.len())
        } else if value_text.starts_with('{') {
            value_text.find('}').map_or(value_text.len(), |i| i + 1)
        } else {
            value_text.find(' ').unwrap_or(value_text.len())
        };
        let mut value = &value_text[..end];
        if value.len() >= 2 && value.starts_with('"') && value.ends_with('"') {
            value = &value[1..value.len() - 1];
        }
        out.push((name, value));
        rest = value_text[end..].trim_start();
    }
    out
}

/// `trace_pipe` opened for reading without blocking: [`TracePipe::read_lines`]
/// returns what is there and an empty list when nothing is, so the caller
/// can watch the clock and its signals between reads. Reading consumes the
/// events (as `cat trace_pipe` does).
pub struct TracePipe {
    file: File,
    pending: Vec<u8>,
    buf: Vec<u8>,
}

impl TracePipe {
    /// Opens `path` (tracefs's `trace_pipe`, or a per-CPU one).
    pub fn open(path: &Path) -> io::Result<TracePipe> {
        let file = std::fs::OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_NONBLOCK)
            .open(path)?;
        Ok(TracePipe {
            file,
            pending: Vec::new(),
            buf: vec![0; 1 << 16],
        })
    }

    /// The complete lines available now (without newlines; bytes that are
    /// not UTF-8 replaced). Waits up to `idle` when nothing is available,
    /// then returns an empty list.
    pub fn read_lines(&mut self, idle: std::time::Duration) -> io::Result<Vec<String>> {
        let text = self.read_text(idle)?;
        Ok(text.lines().map(str::to_string).collect())
    }

    /// The complete lines available now as one text, each with its
    /// newline (bytes that are not UTF-8 replaced): the cheap form of
    /// [`TracePipe::read_lines`] for a reader that keeps up with a fast
    /// probe. Waits up to `idle` when nothing is available, then returns an
    /// empty text.
    pub fn read_text(&mut self, idle: std::time::Duration) -> io::Result<String> {
        let mut got_any = false;
        loop {
            match self.file.read(&mut self.buf) {
                Ok(0) => break,
                Ok(n) => {
                    self.pending.extend_from_slice(&self.buf[..n]);
                    got_any = true;
                    // The kernel gives at most a page per read: go on while
                    // there is more, up to a batch of about 64 KiB.
                    if self.pending.len() >= self.buf.len() {
                        break;
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => break,
                Err(e) => return Err(e),
            }
        }
        if !got_any {
            std::thread::sleep(idle);
            return Ok(String::new());
        }
        let Some(last_nl) = self.pending.iter().rposition(|&b| b == b'\n') else {
            return Ok(String::new());
        };
        let rest = self.pending.split_off(last_nl + 1);
        let done = std::mem::replace(&mut self.pending, rest);
        Ok(match String::from_utf8(done) {
            Ok(s) => s,
            Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(line: &str) -> TraceEvent<'_> {
        match parse_line(line) {
            TraceLine::Event(e) => e,
            other => panic!("not an event: {other:?}"),
        }
    }

    #[test]
    fn kprobe_with_irq_flags_and_string() {
        let e = event(
            "              sh-87      [000] ..... 12.345678: kp: (mk_kptarget_fn+0x0/0x30 [mk_kptarget]) value=7 idx=0x0 tag=\"modkit probe arg\"",
        );
        assert_eq!(e.comm, "sh");
        assert_eq!(e.pid, 87);
        assert_eq!(e.cpu, 0);
        assert_eq!(e.flags, Some("....."));
        assert_eq!(e.timestamp, "12.345678");
        assert_eq!(e.event, "kp");
        assert_eq!(
            e.site,
            Some(ProbeSite::Entry {
                at: "mk_kptarget_fn+0x0/0x30 [mk_kptarget]"
            })
        );
        assert_eq!(e.arg("value"), Some("7"));
        assert_eq!(e.arg("tag"), Some("modkit probe arg"));
    }

    #[test]
    fn kretprobe_without_flags_with_tgid_and_odd_comm() {
        let e = event(
            " kworker/0:1-H a-b-12 (   10) [003] 99.000001: krp: (param_attr_store+0x8d/0x100 <- mk_kptarget_fn) ret=70",
        );
        assert_eq!(e.comm, "kworker/0:1-H a-b");
        assert_eq!(e.pid, 12);
        assert_eq!(e.tgid, Some(10));
        assert_eq!(e.cpu, 3);
        assert_eq!(e.flags, None);
        assert_eq!(
            e.site,
            Some(ProbeSite::Return {
                to: "param_attr_store+0x8d/0x100",
                from: "mk_kptarget_fn"
            })
        );
        assert_eq!(e.args, [("ret", "70")]);
        assert_eq!(e.seconds(), Some(99.000001));
    }

    #[test]
    fn args_of_every_shape() {
        let a = parse_args("s=\"a \"quoted\" word\" n=-1 arr={0x1,0x2} f=(fault) e=\"\" t=\"x\"");
        let v = a;
        assert_eq!(
            v,
            [
                ("s", "a \"quoted\" word"),
                ("n", "-1"),
                ("arr", "{0x1,0x2}"),
                ("f", "(fault)"),
                ("e", ""),
                ("t", "x"),
            ]
        );
        assert!(parse_args("").is_empty());
        assert!(parse_args("no equals here").is_empty());
    }

    #[test]
    fn lost_and_other_lines() {
        assert_eq!(
            parse_line("CPU:1 [LOST 1234 EVENTS]"),
            TraceLine::Lost {
                cpu: 1,
                count: 1234
            }
        );
        assert!(matches!(parse_line("# tracer: nop"), TraceLine::Other(_)));
        assert!(matches!(parse_line(""), TraceLine::Other(_)));
        assert!(matches!(parse_line("x-1 [0] y"), TraceLine::Other(_)));
        // The tgid column printed as dashes.
        let e = event("  <...>-5 (-------) [001] d..1. 1.5: ev: ");
        assert_eq!((e.comm, e.tgid, e.event), ("<...>", None, "ev"));
    }

    #[test]
    fn pipe_reads_whole_lines() {
        let dir = std::env::temp_dir().join(format!("modkit-pipe-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join("trace_pipe");
        std::fs::write(&p, "a-1 [000] 1.0: e: x=1\npartial").unwrap();
        let mut pipe = TracePipe::open(&p).unwrap();
        let lines = pipe.read_lines(std::time::Duration::ZERO).unwrap();
        assert_eq!(lines, ["a-1 [000] 1.0: e: x=1"]);
        assert!(pipe
            .read_lines(std::time::Duration::ZERO)
            .unwrap()
            .is_empty());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    /// Lines recorded from `trace` and `trace_pipe` on Debian's 6.1.0-57
    /// and 6.12.95 kernels (the first runs of vm/guest/kprobe.sh), with
    /// the irq-info column, without it (`noirq-info`), and with
    /// `record-tgid`.
    const RECORDED: &[&str] = &[
        "              sh-92      [000] .....    18.952675: ka: (mk_kptarget_fn+0x0/0x30 [mk_kptarget]) arg1=0x7 arg2=0x0 arg3=\"sh\"",
        "              sh-92      [000] .N...    18.958115: kp: (mk_kptarget_fn+0x0/0x30 [mk_kptarget]) value=7 idx=0x0 tag=\"modkit probe arg\"",
        "              sh-92      [000] .N...    18.958474: krp: (mk_kptarget_call+0x5a/0xfd0 [mk_kptarget] <- mk_kptarget_fn) ret=70",
        "              sh-92      [000]     18.958744: kp: (mk_kptarget_fn+0x0/0x30 [mk_kptarget]) value=7 idx=0x2 tag=\"modkit probe arg\"",
        "              sh-92      (-------) [000] .N...    18.958747: krp: (mk_kptarget_call+0x5a/0xfd0 [mk_kptarget] <- mk_kptarget_fn) ret=72",
        "           <...>-145     [000] .....    29.800463: arr: (mk_kptarget_fn+0x4/0x40 [mk_kptarget]) a={109,111,100,107} b=1 s=0xffffffffc05b40be s2=0xffffcd15005f3da0 sy=0xfffef789 c='m' u=0x6f6d",
        "              sh-145     [000] .....    29.802590: krp: (mk_kptarget_call+0x5e/0xfa0 [mk_kptarget] <- mk_kptarget_fn) ret=71",
    ];

    #[test]
    fn recorded_lines() {
        let e: Vec<TraceEvent> = RECORDED.iter().map(|l| event(l)).collect();
        assert_eq!(e[0].arg("arg3"), Some("sh"));
        assert_eq!(e[1].flags, Some(".N..."));
        assert_eq!(e[1].timestamp, "18.958115");
        assert_eq!(e[2].arg("ret"), Some("70"));
        assert!(matches!(&e[2].site, Some(ProbeSite::Return { to, from })
            if *to == "mk_kptarget_call+0x5a/0xfd0 [mk_kptarget]" && *from == "mk_kptarget_fn"));
        assert_eq!((e[3].flags, e[3].arg("idx")), (None, Some("0x2")));
        assert_eq!((e[4].tgid, e[4].pid, e[4].comm), (None, 92, "sh"));
        assert_eq!(e[5].comm, "<...>");
        assert_eq!(e[5].arg("a"), Some("{109,111,100,107}"));
        assert_eq!(e[5].arg("c"), Some("'m'"));
        assert_eq!(e[5].args.len(), 7);
        assert_eq!(e[6].pid, 145);
    }

    #[test]
    fn fuzzed_lines_never_panic() {
        // Mutations of the recorded lines: bytes replaced, cut, repeated,
        // separators moved; the parser must return, and an event it finds
        // must come from the text.
        let mut rng = modkit_testkit::Rng(0x6b70_726f_6265);
        let mut next = move || rng.next_u64();
        const ALPHABET: &[u8] = b" -[]():=\"{}<.,0123456789abcdefxN";
        for round in 0..20_000 {
            let base = RECORDED[round % RECORDED.len()].as_bytes();
            let mut b = base.to_vec();
            for _ in 0..(next() % 6 + 1) {
                if b.is_empty() {
                    break;
                }
                let i = (next() as usize) % b.len();
                match next() % 4 {
                    0 => b[i] = ALPHABET[(next() as usize) % ALPHABET.len()],
                    1 => b.truncate(i),
                    2 => {
                        b.remove(i);
                    }
                    _ => b.insert(i, ALPHABET[(next() as usize) % ALPHABET.len()]),
                }
            }
            let line = String::from_utf8_lossy(&b);
            if let TraceLine::Event(e) = parse_line(&line) {
                assert!(line.contains(e.event), "{line}");
                assert!(line.contains(e.timestamp), "{line}");
            }
            let _ = parse_args(&line);
        }
    }
}
