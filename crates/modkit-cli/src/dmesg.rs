//! `dmesg`: print or control the kernel ring buffer, as util-linux 2.41's
//! dmesg, byte for byte: the same options (parsed by glibc's
//! `getopt_long` rules), output formats (`[    1.234567] msg`, `-r`, `-x`,
//! `-T`, `--time-format`, `-J`, colours), filters, error messages and exit
//! codes.
//!
//! Records come from `/dev/kmsg` (falling back to `syslog(2)` when it
//! cannot be read), from a `syslog(2)` text file (`-F`) or a file of
//! NUL-separated `/dev/kmsg` records (`-K`). The pieces:
//!
//! - `parse` — util-linux's record parsers, quirks included;
//! - `when` — dates (`-T`, `--time-format iso`) and `--since`/`--until`;
//! - `colors` — `--color` and terminal-colors.d;
//! - `out` — standard output with glibc's buffering and the pager (`-H`).

mod colors;
mod out;
mod parse;
mod when;

use std::ffi::OsString;
use std::os::unix::ffi::{OsStrExt, OsStringExt};

use modkit::compat::tz::{self, TimeZone};
use modkit::error::strerror;
use modkit::kmsg::reader::{Event, KmsgReader, Position};
use modkit::kmsg::syslog;
use modkit::kmsg::time::{self as ktime, Timeval};
use modkit::kmsg::{FACILITIES, LEVELS};

use crate::getopt::{Getopt, HasArg, LongOpt};
use crate::output;

use colors::{Colors, Id, Mode};
use out::Out;
use parse::Rec;

const OPT_TIME_FORMAT: i32 = 128;
const OPT_NOESC: i32 = 129;
const OPT_SINCE: i32 = 130;
const OPT_UNTIL: i32 = 131;

/// util-linux's `SYSLOG_DEFAULT_CALLER_ID_CHARS`: meant as the digits of
/// `SHRT_MAX`, it is `sizeof("0x7fff") - 1` (glibc defines the macro in
/// hexadecimal).
const SYSLOG_CALLER_ID_CHARS: i32 = 6;

const SHORT_OPTS: &str = "CcDdEeF:f:HhJK:kL::l:n:iPprSs:TtuVWwx";
const LONG_OPTS: &[LongOpt] = &[
    LongOpt::new("buffer-size", HasArg::Required, 's' as i32),
    LongOpt::new("clear", HasArg::No, 'C' as i32),
    LongOpt::new("color", HasArg::Optional, 'L' as i32),
    LongOpt::new("console-level", HasArg::Required, 'n' as i32),
    LongOpt::new("console-off", HasArg::No, 'D' as i32),
    LongOpt::new("console-on", HasArg::No, 'E' as i32),
    LongOpt::new("decode", HasArg::No, 'x' as i32),
    LongOpt::new("file", HasArg::Required, 'F' as i32),
    LongOpt::new("facility", HasArg::Required, 'f' as i32),
    LongOpt::new("follow", HasArg::No, 'w' as i32),
    LongOpt::new("follow-new", HasArg::No, 'W' as i32),
    LongOpt::new("human", HasArg::No, 'H' as i32),
    LongOpt::new("help", HasArg::No, 'h' as i32),
    LongOpt::new("json", HasArg::No, 'J' as i32),
    LongOpt::new("kernel", HasArg::No, 'k' as i32),
    LongOpt::new("kmsg-file", HasArg::Required, 'K' as i32),
    LongOpt::new("level", HasArg::Required, 'l' as i32),
    LongOpt::new("since", HasArg::Required, OPT_SINCE),
    LongOpt::new("syslog", HasArg::No, 'S' as i32),
    LongOpt::new("raw", HasArg::No, 'r' as i32),
    LongOpt::new("read-clear", HasArg::No, 'c' as i32),
    LongOpt::new("reltime", HasArg::No, 'e' as i32),
    LongOpt::new("show-delta", HasArg::No, 'd' as i32),
    LongOpt::new("ctime", HasArg::No, 'T' as i32),
    LongOpt::new("noescape", HasArg::No, OPT_NOESC),
    LongOpt::new("notime", HasArg::No, 't' as i32),
    LongOpt::new("nopager", HasArg::No, 'P' as i32),
    LongOpt::new("until", HasArg::Required, OPT_UNTIL),
    LongOpt::new("userspace", HasArg::No, 'u' as i32),
    LongOpt::new("version", HasArg::No, 'V' as i32),
    LongOpt::new("time-format", HasArg::Required, OPT_TIME_FORMAT),
    LongOpt::new("force-prefix", HasArg::No, 'p' as i32),
];

/// Groups of mutually exclusive options (each in ASCII order, groups
/// ordered by their first option), as util-linux checks them.
const EXCLUSIVE: &[&[u8]] = &[
    b"CDEcnr", b"FK", b"Hr", b"Lr", b"Sw", b"Tr", b"dr", b"er", b"rx", b"rt",
];

// Time formats (util-linux's DMESG_TIMEFTM_*).
const TF_NONE: u8 = 0;
const TF_CTIME: u8 = 1;
const TF_CTIME_DELTA: u8 = 2;
const TF_DELTA: u8 = 3;
const TF_RELTIME: u8 = 4;
const TF_TIME: u8 = 5;
const TF_TIME_DELTA: u8 = 6;
const TF_ISO8601: u8 = 7;
const TF_COUNT: usize = 8;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Method {
    Kmsg,
    Syslog,
    Mmap,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Action {
    ReadAll,
    ReadClear,
    Clear,
    ConsoleOff,
    ConsoleOn,
    ConsoleLevel,
}

/// util-linux's `ul_jsonwrt`.
#[derive(Debug, Default)]
struct Json {
    ready: bool,
    indent: usize,
    after_close: bool,
}

/// A fatal error: the message is printed, then the exit code returned.
struct Exit(u8);

struct Ctl {
    prog: String,
    levels: u32,
    facilities: u32,
    lasttime: (i64, i64),
    lasttm: (i32, i32, i32),
    boot_time: Timeval,
    suspended: u64,
    action: Action,
    method: Method,
    bufsize: usize,
    since: u64,
    until: u64,
    filename: Option<OsString>,
    fmts: [u8; 2 * TF_COUNT],
    nfmts: usize,
    follow: bool,
    end: bool,
    raw: bool,
    noesc: bool,
    fltr_lev: bool,
    fltr_fac: bool,
    decode: bool,
    pager: bool,
    color: bool,
    json: bool,
    force_prefix: bool,
    indent: i32,
    caller_id_size: i32,
    tz: Option<TimeZone>,
    out: Out,
    colors: Colors,
    jw: Json,
    utf8: bool,
    /// Scratch space for a timestamp and the whole prefix.
    tsbuf: Vec<u8>,
    full_tsbuf: Vec<u8>,
}

/// Entry point: `argv[0]` is the program name.
pub fn main(args: Vec<OsString>) -> u8 {
    let prog = crate::getopt::program_name(&args[0]);
    let mut ctl = Ctl {
        prog,
        levels: 0,
        facilities: 0,
        lasttime: (0, 0),
        lasttm: (0, 0, 0),
        boot_time: Timeval::default(),
        suspended: 0,
        action: Action::ReadAll,
        method: Method::Kmsg,
        bufsize: 0,
        since: 0,
        until: 0,
        filename: None,
        fmts: [0; 2 * TF_COUNT],
        nfmts: 0,
        follow: false,
        end: false,
        raw: false,
        noesc: false,
        fltr_lev: false,
        fltr_fac: false,
        decode: false,
        pager: false,
        color: false,
        json: false,
        force_prefix: false,
        indent: 0,
        caller_id_size: 0,
        tz: None,
        out: Out::new(),
        colors: Colors::default(),
        jw: Json::default(),
        utf8: locale_is_utf8(),
        tsbuf: Vec::with_capacity(128),
        full_tsbuf: Vec::with_capacity(512),
    };
    ctl.fmts[0] = TF_TIME;
    match ctl.run(args) {
        Ok(()) => ctl.exit(0),
        Err(Exit(code)) => ctl.exit(code),
    }
}

/// Whether `LC_ALL`/`LC_CTYPE`/`LANG` select an installed UTF-8 locale
/// (then valid multibyte characters are printed, not escaped).
fn locale_is_utf8() -> bool {
    let name = ["LC_ALL", "LC_CTYPE", "LANG"]
        .iter()
        .find_map(|v| std::env::var_os(v).filter(|s| !s.is_empty()));
    let Some(name) = name else {
        return false;
    };
    let name = name.as_bytes();
    let Some(dot) = name.iter().position(|&b| b == b'.') else {
        return false;
    };
    let codeset = &name[dot + 1..];
    let codeset = &codeset[..codeset
        .iter()
        .position(|&b| b == b'@')
        .unwrap_or(codeset.len())];
    let normalized: Vec<u8> = codeset
        .iter()
        .filter(|b| b.is_ascii_alphanumeric())
        .map(u8::to_ascii_lowercase)
        .collect();
    if normalized != b"utf8" {
        return false;
    }
    let lang = &name[..dot];
    if lang == b"C" || lang == b"POSIX" {
        return true;
    }
    // Installed as a directory, or in the locale archive.
    let mut dir = b"/usr/lib/locale/".to_vec();
    dir.extend_from_slice(lang);
    dir.extend_from_slice(b".utf8");
    if std::path::Path::new(std::ffi::OsStr::from_bytes(&dir)).is_dir() {
        return true;
    }
    let mut key = lang.to_vec();
    key.extend_from_slice(b".utf8");
    std::fs::read("/usr/lib/locale/locale-archive")
        .map(|a| {
            a.windows(key.len() + 1)
                .any(|w| w[..key.len()] == key[..] && w[key.len()] == 0)
        })
        .unwrap_or(false)
}

fn usage(prog: &str) -> String {
    let mut s = format!(
        "\nUsage:\n {prog} [options]\n\nDisplay or control the kernel ring buffer.\n\nOptions:\n"
    );
    s.push_str(
        " -C, --clear                 clear the kernel ring buffer\n\
         \x20-c, --read-clear            read and clear all messages\n\
         \x20-D, --console-off           disable printing messages to console\n\
         \x20-E, --console-on            enable printing messages to console\n\
         \x20-F, --file <file>           use the file instead of the kernel log buffer\n\
         \x20-K, --kmsg-file <file>      use the file in kmsg format\n\
         \x20-f, --facility <list>       restrict output to defined facilities\n\
         \x20-H, --human                 human readable output\n\
         \x20-J, --json                  use JSON output format\n\
         \x20-k, --kernel                display kernel messages\n\
         \x20-L, --color[=<when>]        colorize messages (auto, always or never)\n\
         \x20                              colors are enabled by default\n\
         \x20-l, --level <list>          restrict output to defined levels\n\
         \x20-n, --console-level <level> set level of messages printed to console\n\
         \x20-P, --nopager               do not pipe output into a pager\n\
         \x20-p, --force-prefix          force timestamp output on each line of multi-line messages\n\
         \x20-r, --raw                   print the raw message buffer\n\
         \x20    --noescape              don't escape unprintable character\n\
         \x20-S, --syslog                force to use syslog(2) rather than /dev/kmsg\n\
         \x20-s, --buffer-size <size>    buffer size to query the kernel ring buffer\n\
         \x20-u, --userspace             display userspace messages\n\
         \x20-w, --follow                wait for new messages\n\
         \x20-W, --follow-new            wait and print only new messages\n\
         \x20-x, --decode                decode facility and level to readable string\n\
         \x20-d, --show-delta            show time delta between printed messages\n\
         \x20-e, --reltime               show local time and time delta in readable format\n\
         \x20-T, --ctime                 show human-readable timestamp (may be inaccurate!)\n\
         \x20-t, --notime                don't show any timestamp with messages\n\
         \x20    --time-format <format>  show timestamp using the given format:\n\
         \x20                              [delta|reltime|ctime|notime|iso|raw]\n\
         Suspending/resume will make ctime and iso timestamps inaccurate.\n\
         \x20    --since <time>          display the lines since the specified time\n\
         \x20    --until <time>          display the lines until the specified time\n\
         \n\
         \x20-h, --help                  display this help\n\
         \x20-V, --version               display version\n\
         \nSupported log facilities:\n",
    );
    for f in FACILITIES {
        s.push_str(&format!(" {:>7} - {}\n", f.name, f.help));
    }
    s.push_str("\nSupported log levels (priorities):\n");
    for l in LEVELS {
        s.push_str(&format!(" {:>7} - {}\n", l.name, l.help));
    }
    s.push_str("\nFor more details see dmesg(1).\n");
    s
}

/// `max_threads_id_size`: the length of `/proc/sys/kernel/pid_max`'s
/// contents (newline included), the width of caller ids; 11 without it.
fn max_threads_id_size() -> i32 {
    use std::io::Read;
    let Ok(mut f) = std::fs::File::open("/proc/sys/kernel/pid_max") else {
        return 11;
    };
    let mut buf = [0u8; 20];
    match f.read(&mut buf) {
        Ok(n) => buf[..n].iter().position(|&b| b == 0).unwrap_or(n) as i32,
        Err(_) => 11,
    }
}

#[inline]
fn c_strtol_exact(s: &[u8]) -> Option<(i64, bool)> {
    // strtol(str, &end, 10) over the whole of `s` (which is followed by
    // ',' or the end in C): (value, ERANGE).
    let p = modkit::compat::strtol::strtol(s, 10);
    if p.overflow {
        return Some((0, true));
    }
    (p.end != 0 && p.end == s.len()).then_some((p.value, false))
}

impl Ctl {
    fn err_prefix(&self) -> String {
        format!("{}: ", self.prog)
    }

    /// `errx(EXIT_FAILURE, msg)`.
    fn errx(&mut self, msg: &str) -> Exit {
        output::stderr_bytes(format!("{}{msg}\n", self.err_prefix()).as_bytes());
        Exit(1)
    }

    /// `errx` with a message holding raw user bytes.
    fn errx_bytes(&mut self, msg: &[u8]) -> Exit {
        let mut line = self.err_prefix().into_bytes();
        line.extend_from_slice(msg);
        line.push(b'\n');
        output::stderr_bytes(&line);
        Exit(1)
    }

    /// `err(EXIT_FAILURE, msg)`: with `strerror(errno)`.
    fn err(&mut self, msg: &[u8], errno: i32) -> Exit {
        let mut m = msg.to_vec();
        m.extend_from_slice(b": ");
        m.extend_from_slice(strerror(errno).as_bytes());
        self.errx_bytes(&m)
    }

    fn try_help(&mut self) -> Exit {
        output::stderr(&format!(
            "Try '{} --help' for more information.\n",
            self.prog
        ));
        Exit(1)
    }

    /// What happens at `exit()`: `close_stdout`.
    fn exit(&mut self, code: u8) -> u8 {
        match self.out.close() {
            Some(msg) => {
                output::stderr(&format!("{}{msg}\n", self.err_prefix()));
                1
            }
            None => code,
        }
    }

    // --- time formats (util-linux's time_fmts array) ---

    fn reset_time_fmts(&mut self) {
        for f in &mut self.fmts[..TF_COUNT] {
            *f = TF_NONE;
        }
        self.fmts[0] = TF_TIME;
    }

    fn is_time_fmt_set(&self, f: u8) -> bool {
        if self.nfmts == 0 {
            return f == TF_TIME;
        }
        self.fmts[..self.nfmts].contains(&f)
    }

    fn include_time_fmt(&mut self, f: u8) {
        if self.nfmts > 0 && self.is_time_fmt_set(f) {
            return;
        }
        if self.nfmts < TF_COUNT {
            self.fmts[self.nfmts] = f;
            self.nfmts += 1;
        }
    }

    fn exclude_time_fmt(&mut self, f: u8) {
        let Some(idx) = self.fmts[..self.nfmts].iter().position(|&x| x == f) else {
            return;
        };
        for i in idx..self.nfmts - 1 {
            self.fmts[i] = self.fmts[i + 1];
        }
        self.nfmts -= 1;
        if self.nfmts == 0 {
            self.reset_time_fmts();
        }
    }

    // --- option parsing ---

    /// `parse_level(str, len)` (`range`: a list item, numbers 0..7) or
    /// for `-n` (numbers 1..8). `rest` is what C prints in errors: the
    /// item and everything after it.
    fn parse_level(&mut self, item: &[u8], rest: &[u8], range: bool) -> Result<u32, Exit> {
        let offset = i64::from(!range);
        if item.first().is_some_and(u8::is_ascii_digit) {
            match c_strtol_exact(item) {
                Some((v, false)) => {
                    let x = v - offset;
                    if (0..8).contains(&x) {
                        return Ok((x + offset) as u32);
                    }
                }
                Some((_, true)) => {
                    let mut m = b"failed to parse level '".to_vec();
                    m.extend_from_slice(rest);
                    m.push(b'\'');
                    return Err(self.err(&m, 34));
                }
                None => {}
            }
        } else if let Some(i) = LEVELS
            .iter()
            .position(|l| l.name.as_bytes().eq_ignore_ascii_case(item))
        {
            return Ok(i as u32 + offset as u32);
        }
        let mut m = b"unknown level '".to_vec();
        m.extend_from_slice(rest);
        m.push(b'\'');
        Err(self.errx_bytes(&m))
    }

    fn parse_facility(&mut self, item: &[u8], rest: &[u8]) -> Result<u32, Exit> {
        if item.first().is_some_and(u8::is_ascii_digit) {
            match c_strtol_exact(item) {
                Some((v, false)) if (0..24).contains(&v) => return Ok(v as u32),
                Some((_, true)) => {
                    let mut m = b"failed to parse facility '".to_vec();
                    m.extend_from_slice(rest);
                    m.push(b'\'');
                    return Err(self.err(&m, 34));
                }
                _ => {}
            }
        } else if let Some(i) = FACILITIES
            .iter()
            .position(|f| f.name.as_bytes().eq_ignore_ascii_case(item))
        {
            return Ok(i as u32);
        }
        let mut m = b"unknown facility '".to_vec();
        m.extend_from_slice(rest);
        m.push(b'\'');
        Err(self.errx_bytes(&m))
    }

    /// `string_to_bitarray`: a comma-separated list; `Ok(None)` is C's
    /// silent `return -1` (an empty item).
    fn parse_list(&mut self, list: &[u8], levels: bool) -> Result<Option<u32>, Exit> {
        let mut bits = 0u32;
        let mut begin: Option<usize> = None;
        let mut p = 0;
        while p < list.len() {
            if begin.is_none() {
                begin = Some(p);
            }
            let mut end = None;
            if list[p] == b',' {
                end = Some(p);
            }
            if p + 1 == list.len() {
                end = Some(p + 1);
            }
            let (Some(mut b), Some(mut e)) = (begin, end) else {
                p += 1;
                continue;
            };
            if e <= b {
                return Ok(None);
            }
            let (mut lower, mut higher) = (false, false);
            if levels {
                if list[e - 1] == b'+' {
                    e -= 1;
                    lower = true;
                } else if list[b] == b'+' {
                    b += 1;
                    higher = true;
                }
            }
            let rest = &list[b..];
            let item = &list[b..e];
            let bit = if levels {
                self.parse_level(item, rest, true)?
            } else {
                self.parse_facility(item, rest)?
            };
            bits |= 1 << bit;
            if lower {
                bits |= (1 << bit) - 1;
            } else if higher {
                for x in bit + 1..8 {
                    bits |= 1 << x;
                }
            }
            begin = None;
            p += 1;
        }
        Ok(Some(bits))
    }

    /// `err_exclusive_options`.
    fn check_exclusive(&mut self, c: i32, status: &mut [i32]) -> Result<(), Exit> {
        for (e, group) in EXCLUSIVE.iter().enumerate() {
            if i32::from(group[0]) > c {
                break;
            }
            for &op in group.iter() {
                if i32::from(op) > c {
                    break;
                }
                if i32::from(op) != c {
                    continue;
                }
                if status[e] == 0 {
                    status[e] = c;
                } else if status[e] != c {
                    let mut msg = format!("{}: mutually exclusive arguments:", self.prog);
                    for &o in group.iter() {
                        match LONG_OPTS.iter().find(|l| l.val == i32::from(o)) {
                            Some(l) => msg.push_str(&format!(" --{}", l.name)),
                            None => msg.push_str(&format!(" -{}", o as char)),
                        }
                    }
                    msg.push('\n');
                    output::stderr(&msg);
                    return Err(Exit(1));
                }
                break;
            }
        }
        Ok(())
    }

    fn run(&mut self, args: Vec<OsString>) -> Result<(), Exit> {
        let mut nopager = false;
        let mut console_level = 0;
        let mut delta = false;
        let mut colormode = Mode::Undef;
        let mut excl_status = [0i32; 10];

        let mut opts = Getopt::new(args, SHORT_OPTS, LONG_OPTS);
        for opt in opts.by_ref() {
            let opt = match opt {
                Ok(opt) => opt,
                Err(e) => {
                    e.report();
                    return Err(self.try_help());
                }
            };
            self.check_exclusive(opt.val, &mut excl_status)?;
            let has_arg = opt.arg.is_some();
            let arg = opt.arg.map(|a| a.into_encoded_bytes()).unwrap_or_default();
            let c = u8::try_from(opt.val).map(char::from).unwrap_or('\0');
            match opt.val {
                OPT_TIME_FORMAT => {
                    let f = match &arg[..] {
                        b"notime" => TF_NONE,
                        b"ctime" => TF_CTIME,
                        b"delta" => TF_DELTA,
                        b"reltime" => TF_RELTIME,
                        b"iso" => TF_ISO8601,
                        b"raw" => TF_TIME,
                        _ => {
                            let mut m = b"unknown time format: ".to_vec();
                            m.extend_from_slice(&arg);
                            return Err(self.errx_bytes(&m));
                        }
                    };
                    self.include_time_fmt(f);
                    continue;
                }
                OPT_NOESC => {
                    self.noesc = true;
                    continue;
                }
                OPT_SINCE | OPT_UNTIL => {
                    let tz = self.tz.get_or_insert_with(TimeZone::from_env);
                    let now = std::time::SystemTime::now()
                        .duration_since(std::time::UNIX_EPOCH)
                        .map(|d| d.as_secs() as i64)
                        .unwrap_or(0);
                    match when::parse_timestamp(&arg, tz, now) {
                        Some(v) if opt.val == OPT_SINCE => self.since = v,
                        Some(v) => self.until = v,
                        None => {
                            let mut m = b"invalid time value \"".to_vec();
                            m.extend_from_slice(&arg);
                            m.push(b'"');
                            return Err(self.errx_bytes(&m));
                        }
                    }
                    continue;
                }
                _ => {}
            }
            match c {
                'C' => self.action = Action::Clear,
                'c' => self.action = Action::ReadClear,
                'D' => self.action = Action::ConsoleOff,
                'd' => delta = true,
                'E' => self.action = Action::ConsoleOn,
                'e' => self.include_time_fmt(TF_RELTIME),
                'F' => {
                    self.filename = Some(OsString::from_vec(arg));
                    self.method = Method::Mmap;
                    self.caller_id_size = SYSLOG_CALLER_ID_CHARS;
                }
                'K' => {
                    self.filename = Some(OsString::from_vec(arg));
                    self.method = Method::Kmsg;
                    self.caller_id_size = max_threads_id_size();
                }
                'f' => {
                    self.fltr_fac = true;
                    match self.parse_list(&arg, false)? {
                        Some(bits) => self.facilities |= bits,
                        None => return Err(Exit(1)),
                    }
                }
                'H' => {
                    self.include_time_fmt(TF_RELTIME);
                    colormode = Mode::Auto;
                    self.pager = true;
                }
                'J' => self.json = true,
                'k' => {
                    self.fltr_fac = true;
                    self.facilities |= 1;
                }
                'L' => {
                    colormode = Mode::Auto;
                    if has_arg {
                        let p = arg.strip_prefix(b"=").unwrap_or(&arg);
                        match colors::mode_from_str(p) {
                            Some(m) => colormode = m,
                            None => {
                                let mut m = b"unsupported color mode: '".to_vec();
                                m.extend_from_slice(p);
                                m.push(b'\'');
                                return Err(self.errx_bytes(&m));
                            }
                        }
                    }
                }
                'l' => {
                    self.fltr_lev = true;
                    match self.parse_list(&arg, true)? {
                        Some(bits) => self.levels |= bits,
                        None => return Err(Exit(1)),
                    }
                }
                'n' => {
                    self.action = Action::ConsoleLevel;
                    console_level = self.parse_level(&arg, &arg, false)?;
                }
                'P' => nopager = true,
                'p' => self.force_prefix = true,
                'r' => self.raw = true,
                'S' => self.method = Method::Syslog,
                's' => {
                    self.bufsize = self.parse_bufsize(&arg)?;
                    if self.bufsize < 4096 {
                        self.bufsize = 4096;
                    }
                }
                'T' => self.include_time_fmt(TF_CTIME),
                't' => {
                    self.reset_time_fmts();
                    self.include_time_fmt(TF_NONE);
                }
                'u' => {
                    self.fltr_fac = true;
                    self.facilities |= 0x00ff_fffe;
                }
                'w' => self.follow = true,
                'W' => {
                    self.follow = true;
                    self.end = true;
                }
                'x' => self.decode = true,
                'h' => {
                    self.out.put(usage(&self.prog).as_bytes());
                    return Ok(());
                }
                'V' => {
                    self.out.put(
                        format!(
                            "{} from util-linux 2.41.5\nmodkit {}\n",
                            self.prog,
                            crate::VERSION
                        )
                        .as_bytes(),
                    );
                    return Ok(());
                }
                _ => return Err(self.try_help()),
            }
        }
        if !opts.remaining().is_empty() {
            output::stderr(&format!("{}bad usage\n", self.err_prefix()));
            return Err(self.try_help());
        }

        if self.json {
            self.reset_time_fmts();
            self.nfmts = 0;
            delta = false;
            self.force_prefix = false;
            self.raw = false;
            self.noesc = true;
            nopager = true;
        }

        if self.is_time_fmt_set(TF_RELTIME)
            || self.is_time_fmt_set(TF_CTIME)
            || self.is_time_fmt_set(TF_ISO8601)
            || self.since != 0
            || self.until != 0
        {
            match ktime::boot_time() {
                Ok(t) => {
                    self.boot_time = t;
                    self.suspended = ktime::suspended_time();
                }
                Err(_) => self.include_time_fmt(TF_NONE),
            }
            if self.tz.is_none() {
                self.tz = Some(TimeZone::from_env());
            }
        }

        if delta || self.is_time_fmt_set(TF_DELTA) {
            if self.is_time_fmt_set(TF_TIME) {
                if self.nfmts == 0 {
                    self.fmts[0] = TF_TIME_DELTA;
                    self.nfmts = 1;
                } else {
                    self.exclude_time_fmt(TF_DELTA);
                    if let Some(i) = self.fmts[..self.nfmts].iter().position(|&f| f == TF_TIME) {
                        self.fmts[i] = TF_TIME_DELTA;
                    }
                }
            } else if self.is_time_fmt_set(TF_CTIME) {
                self.exclude_time_fmt(TF_DELTA);
                if let Some(i) = self.fmts[..self.nfmts].iter().position(|&f| f == TF_CTIME) {
                    self.fmts[i] = TF_CTIME_DELTA;
                }
            } else {
                self.include_time_fmt(TF_DELTA);
            }
        }

        if !self.json {
            self.colors = Colors::init(colormode);
            self.color = self.colors.on;
        }
        if self.follow {
            nopager = true;
        }
        self.pager = !nopager && self.pager;

        match self.action {
            Action::ReadAll | Action::ReadClear => self.read_and_print()?,
            Action::Clear => {
                if let Err(e) = modkit::sys::klogctl(syslog::ACTION_CLEAR, 0) {
                    return Err(self.err(b"clear kernel buffer failed", e));
                }
            }
            Action::ConsoleOff | Action::ConsoleOn | Action::ConsoleLevel => {
                let (act, arg) = match self.action {
                    Action::ConsoleOff => (syslog::ACTION_CONSOLE_OFF, 0),
                    Action::ConsoleOn => (syslog::ACTION_CONSOLE_ON, 0),
                    _ => (syslog::ACTION_CONSOLE_LEVEL, console_level as i32),
                };
                if let Err(e) = modkit::sys::klogctl(act, arg) {
                    return Err(self.err(b"klogctl failed", e));
                }
            }
        }
        Ok(())
    }

    /// `strtou32_or_err(arg, "invalid buffer size argument")`.
    fn parse_bufsize(&mut self, arg: &[u8]) -> Result<usize, Exit> {
        let fail = |ctl: &mut Ctl, range: bool| {
            let mut m = b"invalid buffer size argument: '".to_vec();
            m.extend_from_slice(arg);
            m.push(b'\'');
            if range {
                ctl.err(&m, 34)
            } else {
                ctl.errx_bytes(&m)
            }
        };
        if arg.is_empty() {
            return Err(fail(self, false));
        }
        let mut i = 0;
        while i < arg.len() && matches!(arg[i], b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r') {
            i += 1;
        }
        let mut neg = false;
        if i < arg.len() && (arg[i] == b'+' || arg[i] == b'-') {
            neg = arg[i] == b'-';
            i += 1;
        }
        let start = i;
        let mut mag: u64 = 0;
        let mut over = false;
        while i < arg.len() && arg[i].is_ascii_digit() {
            match mag
                .checked_mul(10)
                .and_then(|m| m.checked_add(u64::from(arg[i] - b'0')))
            {
                Some(m) => mag = m,
                None => over = true,
            }
            i += 1;
        }
        // strtoimax < 0 means ERANGE (ignoring negative numbers).
        if neg && i > start && (mag > 0 || over) {
            return Err(fail(self, true));
        }
        if over {
            return Err(fail(self, true));
        }
        if i == start || i != arg.len() {
            return Err(fail(self, false));
        }
        if mag > u64::from(u32::MAX) {
            return Err(fail(self, true));
        }
        Ok(mag as usize)
    }

    // --- reading ---

    fn faclev_needed(&self) -> bool {
        self.fltr_lev || self.fltr_fac || self.decode || self.raw || self.color || self.json
    }

    fn read_and_print(&mut self) -> Result<(), Exit> {
        let mut kmsg: Option<(KmsgReader, Option<Vec<u8>>)> = None;
        if self.method == Method::Kmsg && self.filename.is_none() {
            match self.init_kmsg() {
                Some(k) => kmsg = Some(k),
                None => self.method = Method::Syslog,
            }
        }
        if self.raw && self.method != Method::Kmsg && (self.fltr_lev || self.fltr_fac) {
            return Err(self.errx(
                "--raw can be used together with --level or --facility only when reading messages from /dev/kmsg",
            ));
        }
        if self.force_prefix && self.method != Method::Kmsg {
            return Err(self.errx("only kmsg supports multi-line messages"));
        }
        if self.pager {
            self.out.start_pager();
        }
        let mut read_err = None;
        let result = match self.method {
            Method::Mmap => {
                let data = self.read_file()?;
                self.print_buffer(&data, true)
            }
            Method::Syslog => {
                if self.bufsize == 0 {
                    self.bufsize = syslog::buffer_size().unwrap_or(0);
                }
                let size = (self.bufsize > 0).then_some(self.bufsize);
                self.caller_id_size = SYSLOG_CALLER_ID_CHARS;
                match syslog::read_all(size, false) {
                    Ok(d) if d.is_empty() => Ok(()),
                    Ok(d) => self.print_buffer(&d, false),
                    Err(e) => {
                        read_err = Some(e.errno());
                        Ok(())
                    }
                }
            }
            Method::Kmsg => match kmsg {
                Some((reader, first)) => self.process_kmsg(reader, first),
                None => self.process_kmsg_file(),
            },
        };
        match result {
            Err(Fail::Write(e)) => return Err(self.write_failed(e)),
            Err(Fail::Exit(x)) => return Err(x),
            Ok(()) => {}
        }
        self.json_end();
        if let Some(e) = read_err {
            return Err(self.err(b"read kernel buffer failed", e));
        }
        if self.action == Action::ReadClear {
            if let Err(e) = modkit::sys::klogctl(syslog::ACTION_CLEAR, 0) {
                return Err(self.err(b"clear kernel buffer failed", e));
            }
        }
        Ok(())
    }

    fn write_failed(&mut self, errno: i32) -> Exit {
        self.err(b"write failed", errno)
    }

    fn json_end(&mut self) {
        if self.json && self.jw.ready {
            self.json_close(false);
            self.json_close(true);
        }
    }

    /// `init_kmsg`: open, seek, and read the first record; `None` makes
    /// dmesg fall back to `syslog(2)`.
    fn init_kmsg(&mut self) -> Option<(KmsgReader, Option<Vec<u8>>)> {
        if self.follow {
            self.out.set_line_buffered();
        }
        let mut r = KmsgReader::open_kmsg(self.follow).ok()?;
        r.set_buffer_size(2047);
        let _ = r.seek(if self.end {
            Position::End
        } else {
            Position::AfterClear
        });
        loop {
            match r.read() {
                Ok(Event::Record(rec)) => {
                    let first = rec.to_vec();
                    return Some((r, Some(first)));
                }
                Ok(Event::Overwritten) => continue,
                _ => return None,
            }
        }
    }

    fn process_kmsg(&mut self, mut r: KmsgReader, first: Option<Vec<u8>>) -> Result<(), Fail> {
        self.caller_id_size = max_threads_id_size();
        let mut buf = vec![0u8; 2048];
        let faclev = self.faclev_needed();
        if let Some(first) = first {
            self.kmsg_one(&mut buf, &first, faclev)?;
        }
        loop {
            match r.read() {
                Ok(Event::Record(rec)) => {
                    let n = rec.len();
                    buf[..n].copy_from_slice(rec);
                    buf[n] = 0;
                    if let Some(rec) = parse::parse_kmsg(&mut buf, n, faclev) {
                        self.print_record(&buf, &rec)?;
                    }
                }
                Ok(Event::Overwritten) => continue,
                _ => return Ok(()),
            }
        }
    }

    fn kmsg_one(&mut self, buf: &mut [u8], rec: &[u8], faclev: bool) -> Result<(), Fail> {
        let n = rec.len();
        buf[..n].copy_from_slice(rec);
        buf[n] = 0;
        if let Some(rec) = parse::parse_kmsg(buf, n, faclev) {
            self.print_record(buf, &rec)?;
        }
        Ok(())
    }

    /// `mmap_file_buffer`'s checks, then the whole file.
    fn read_file(&mut self) -> Result<Vec<u8>, Exit> {
        let name = self.filename.clone().unwrap_or_default();
        let nb = name.as_bytes().to_vec();
        let mut f = match std::fs::File::open(&name) {
            Ok(f) => f,
            Err(e) => {
                let mut m = b"cannot open ".to_vec();
                m.extend_from_slice(&nb);
                return Err(self.err(&m, e.raw_os_error().unwrap_or(5)));
            }
        };
        let meta = match f.metadata() {
            Ok(m) => m,
            Err(e) => {
                let mut m = b"stat of ".to_vec();
                m.extend_from_slice(&nb);
                m.extend_from_slice(b" failed");
                return Err(self.err(&m, e.raw_os_error().unwrap_or(5)));
            }
        };
        let mmap_fail = |ctl: &mut Ctl, errno: i32| {
            let mut m = b"cannot mmap: ".to_vec();
            m.extend_from_slice(&nb);
            ctl.err(&m, errno)
        };
        if meta.len() == 0 {
            return Err(mmap_fail(self, 22));
        }
        let ft = meta.file_type();
        if !ft.is_file() {
            return Err(mmap_fail(self, 19));
        }
        let mut data = Vec::with_capacity(meta.len() as usize);
        use std::io::Read;
        if let Err(e) = f.read_to_end(&mut data) {
            return Err(mmap_fail(self, e.raw_os_error().unwrap_or(5)));
        }
        // mmap maps st_size bytes: a file that grew is cut there.
        data.truncate(meta.len() as usize);
        Ok(data)
    }

    fn process_kmsg_file(&mut self) -> Result<(), Fail> {
        let data = self.read_file().map_err(Fail::Exit)?;
        let faclev = self.faclev_needed();
        let mut buf = vec![0u8; 2048];
        let mut pos = 0;
        let mut sz = data.len();
        while sz > 0 {
            let rest = &data[pos..pos + sz];
            let len = rest.iter().position(|&b| b == 0).unwrap_or(sz);
            if len > 2048 {
                return Err(Fail::Exit(self.errx("record too large")));
            }
            buf[..len].copy_from_slice(&rest[..len]);
            if let Some(rec) = parse::parse_kmsg(&mut buf, len, faclev) {
                self.print_record(&buf, &rec)?;
            }
            let step = if len < sz { len + 1 } else { len };
            sz -= step;
            pos += step;
        }
        Ok(())
    }

    /// `print_buffer`: a syslog(2) text buffer; `file`: it is mapped from
    /// a file (raw output in page-sized chunks).
    fn print_buffer(&mut self, data: &[u8], file: bool) -> Result<(), Fail> {
        if self.raw {
            let mut lastc = b'\n';
            if file {
                for chunk in data.chunks(4096) {
                    self.safe_fwrite(chunk, 0, 0)?;
                    lastc = chunk[chunk.len() - 1];
                }
            } else {
                self.safe_fwrite(data, 0, 0)?;
                lastc = data[data.len() - 1];
            }
            if lastc != b'\n' {
                self.out.put(b"\n");
            }
            return Ok(());
        }
        let faclev = self.faclev_needed();
        let mut cur = parse::Cursor::new(data.len());
        while let Some(rec) = parse::next_syslog(data, &mut cur, faclev) {
            self.print_record(data, &rec)?;
        }
        Ok(())
    }

    // --- printing ---

    fn record_time(&self, rec: &Rec) -> u64 {
        let tv = |s: i64, u: i64| (s as u64).wrapping_mul(1_000_000).wrapping_add(u as u64);
        tv(self.boot_time.sec, self.boot_time.usec)
            .wrapping_add(self.suspended)
            .wrapping_add(tv(rec.sec, rec.usec))
    }

    fn accept_record(&self, rec: &Rec) -> bool {
        let isset = |mask: u32, bit: i32| (0..32).contains(&bit) && mask >> bit & 1 == 1;
        if self.fltr_lev && (rec.facility < 0 || !isset(self.levels, rec.level)) {
            return false;
        }
        if self.fltr_fac && (rec.facility < 0 || !isset(self.facilities, rec.facility)) {
            return false;
        }
        if self.since != 0 && self.since >= self.record_time(rec) {
            return false;
        }
        if self.until != 0 && self.until <= self.record_time(rec) {
            return false;
        }
        true
    }

    fn localtime(&self, t: u64) -> tz::Tm {
        let secs = (t / 1_000_000) as i64;
        match &self.tz {
            Some(tz) => tz.localtime(secs),
            None => TimeZone::utc().localtime(secs),
        }
    }

    fn color_on(&mut self, id: Id) {
        if let Some(seq) = self.colors.sequence(id) {
            let seq = seq.to_vec();
            self.out.put(&seq);
        }
    }

    fn color_off(&mut self) {
        if self.colors.on {
            self.out.put(colors::RESET);
        }
    }

    fn print_record(&mut self, b: &[u8], rec: &Rec) -> Result<(), Fail> {
        if !self.accept_record(rec) {
            self.lasttime = (rec.sec, rec.usec);
            return Ok(());
        }
        if rec.mesg_size == 0 {
            if !self.json {
                self.out.put(b"\n");
            }
            return Ok(());
        }
        // record_count_delta
        let mut delta = 0.0f64;
        if self.lasttime != (0, 0) {
            delta = (rec.sec.wrapping_sub(self.lasttime.0)) as f64
                + (rec.usec.wrapping_sub(self.lasttime.1)) as f64 / 1_000_000.0;
        }
        self.lasttime = (rec.sec, rec.usec);

        if self.json {
            if !self.jw.ready {
                self.jw = Json {
                    ready: true,
                    indent: 0,
                    after_close: false,
                };
                self.json_open(None, b'{');
                self.json_open(Some("dmesg"), b'[');
            }
            self.json_open(None, b'{');
        }

        let valid = (0..8).contains(&rec.level) && (0..24).contains(&rec.facility);
        let mut fpbuf: &[u8] = &[];
        let mut timebreak = false;
        self.full_tsbuf.clear();
        if self.raw {
            let prio = (rec.facility << 3) | rec.level;
            self.full_tsbuf.push(b'<');
            self.full_tsbuf
                .extend_from_slice(prio.to_string().as_bytes());
            self.full_tsbuf.extend_from_slice(b">[");
            push_time(&mut self.full_tsbuf, rec.sec, rec.usec);
            self.full_tsbuf.extend_from_slice(b"] ");
            self.indent = self.full_tsbuf.len() as i32;
        } else {
            if !self.json && self.decode && valid {
                fpbuf = decode_prefix(rec.facility as usize, rec.level as usize);
            }
            let n = if self.nfmts > 0 { self.nfmts } else { 1 };
            for i in 0..n {
                self.tsbuf.clear();
                let fmt = self.fmts[i];
                match fmt {
                    TF_NONE => self.indent = 0,
                    TF_CTIME | TF_CTIME_DELTA => {
                        let tm = self.localtime(self.record_time(rec));
                        self.tsbuf.push(b'[');
                        when::ctime(&mut self.tsbuf, &tm);
                        if fmt == TF_CTIME_DELTA {
                            self.tsbuf
                                .extend_from_slice(format!(" <{delta:12.6}>").as_bytes());
                        }
                        self.tsbuf.extend_from_slice(b"] ");
                    }
                    TF_DELTA => {
                        self.tsbuf
                            .extend_from_slice(format!("[<{delta:12.6}>] ").as_bytes());
                    }
                    TF_RELTIME => {
                        let cur = self.localtime(self.record_time(rec));
                        if (cur.min, cur.hour, cur.yday) != self.lasttm {
                            timebreak = true;
                            self.tsbuf.push(b'[');
                            when::short_ctime(&mut self.tsbuf, &cur);
                            self.tsbuf.extend_from_slice(b"] ");
                        } else if delta < 10.0 {
                            self.tsbuf
                                .extend_from_slice(format!("[  {delta:+8.6}] ").as_bytes());
                        } else {
                            self.tsbuf
                                .extend_from_slice(format!("[ {delta:+9.6}] ").as_bytes());
                        }
                        self.lasttm = (cur.min, cur.hour, cur.yday);
                    }
                    TF_TIME => {
                        if self.json {
                            push_time(&mut self.tsbuf, rec.sec, rec.usec);
                        } else {
                            self.tsbuf.push(b'[');
                            push_time(&mut self.tsbuf, rec.sec, rec.usec);
                            self.tsbuf.extend_from_slice(b"] ");
                        }
                    }
                    TF_TIME_DELTA => {
                        self.tsbuf.push(b'[');
                        push_time(&mut self.tsbuf, rec.sec, rec.usec);
                        self.tsbuf
                            .extend_from_slice(format!(" <{delta:12.6}>] ").as_bytes());
                    }
                    _ => {
                        // TF_ISO8601
                        let t = self.record_time(rec);
                        let tm = self.localtime(t);
                        when::iso(&mut self.tsbuf, &tm, (t % 1_000_000) as u32);
                        self.tsbuf.push(b' ');
                    }
                }
                if fmt != TF_NONE {
                    // snprintf into 64 bytes: the length counts, the
                    // text is cut.
                    self.indent = self.tsbuf.len() as i32;
                    self.tsbuf.truncate(63);
                }
                if self.is_time_fmt_set(TF_NONE) {
                    break;
                }
                let ts = std::mem::take(&mut self.tsbuf);
                self.full_tsbuf.extend_from_slice(&ts);
                self.tsbuf = ts;
            }
            self.indent += fpbuf.len() as i32;
        }

        let reltime = self.is_time_fmt_set(TF_RELTIME);
        // The message lines: one pass, or one per line with -p.
        let mut lines: Option<Vec<Vec<u8>>> = None;
        let mut line_idx = 0usize;
        loop {
            // full_output:
            if !fpbuf.is_empty() {
                self.out.put(fpbuf);
            } else if self.json && valid {
                if self.decode {
                    let f = FACILITIES[rec.facility as usize].name;
                    let l = LEVELS[rec.level as usize].name;
                    self.json_value_s("fac", f.as_bytes(), usize::MAX);
                    self.json_value_s("pri", l.as_bytes(), usize::MAX);
                } else {
                    let prio = ((rec.facility << 3) | rec.level).to_string();
                    self.json_value_raw("pri", prio.as_bytes());
                }
            }
            if !self.full_tsbuf.is_empty() {
                if self.color {
                    self.color_on(if timebreak { Id::Timebreak } else { Id::Time });
                }
                if !reltime {
                    if self.json {
                        let ts = std::mem::take(&mut self.full_tsbuf);
                        self.json_value_raw("time", &ts);
                        self.full_tsbuf = ts;
                    } else {
                        let ts = std::mem::take(&mut self.full_tsbuf);
                        self.out.put(&ts);
                        self.full_tsbuf = ts;
                    }
                } else if lines.is_none() || line_idx == 0 {
                    let ts = std::mem::take(&mut self.full_tsbuf);
                    self.out.put(&ts);
                    self.full_tsbuf = ts;
                } else {
                    self.out.put(b"[  +0.000000] ");
                }
                if self.color {
                    self.color_off();
                }
            }
            let caller = rec.caller();
            if !caller.is_empty() {
                if self.json {
                    self.json_value_s("caller", caller, usize::MAX);
                } else {
                    // sprintf("[%*s] ", (char) caller_id_size, caller)
                    let width = self.caller_id_size as i8 as i32;
                    let pad = (width.unsigned_abs() as usize).saturating_sub(caller.len());
                    let mut cid = Vec::with_capacity(caller.len() + pad + 3);
                    cid.push(b'[');
                    if width >= 0 {
                        cid.extend(std::iter::repeat_n(b' ', pad));
                        cid.extend_from_slice(caller);
                    } else {
                        cid.extend_from_slice(caller);
                        cid.extend(std::iter::repeat_n(b' ', pad));
                    }
                    cid.extend_from_slice(b"] ");
                    self.indent += cid.len().min(23) as i32;
                    self.out.put(&cid);
                }
            }

            // The text of this pass: a slice of `b`, or a line of the copy.
            let (text, next): (&[u8], u8) = if self.force_prefix {
                if lines.is_none() {
                    let start = rec.mesg.min(b.len());
                    let copy = &b[start..];
                    let copy = &copy[..copy.iter().position(|&c| c == 0).unwrap_or(copy.len())];
                    let v: Vec<Vec<u8>> = copy
                        .split(|&c| c == b'\n')
                        .filter(|l| !l.is_empty())
                        .map(<[u8]>::to_vec)
                        .collect();
                    lines = Some(v);
                    line_idx = 0;
                    if lines.as_ref().is_some_and(Vec::is_empty) {
                        break;
                    }
                }
                let l = lines.as_ref().map(|v| &v[line_idx][..]).unwrap_or_default();
                (l, 0)
            } else {
                let start = rec.mesg.min(b.len());
                let end = (rec.mesg + rec.mesg_size).min(b.len());
                let next = b.get(end).copied().unwrap_or(0);
                (&b[start..end], next)
            };
            // Borrow juggling: copy the text when it lives in `lines`.
            let owned;
            let text: &[u8] = if self.force_prefix {
                owned = text.to_vec();
                &owned
            } else {
                text
            };

            if self.color {
                let mut line = text;
                let indent = self.indent;
                if let Some(d) = subsys_delimiter(line) {
                    self.color_on(Id::Subsys);
                    self.safe_fwrite(&line[..d], line[d], indent)?;
                    self.color_off();
                    line = &line[d..];
                }
                let id = match rec.level {
                    1 => Some(Id::Alert),
                    2 => Some(Id::Crit),
                    3 => Some(Id::Err),
                    4 => Some(Id::Warn),
                    _ => None,
                }
                .or_else(|| {
                    line.windows(11)
                        .any(|w| w == b"segfault at")
                        .then_some(Id::Segfault)
                });
                if let Some(id) = id {
                    self.color_on(id);
                }
                self.safe_fwrite(line, next, indent)?;
                if id.is_some() {
                    self.color_off();
                }
            } else if self.json {
                self.json_value_s("msg", text, text.len());
            } else {
                let indent = self.indent;
                self.safe_fwrite(text, next, indent)?;
            }

            if self.force_prefix {
                line_idx += 1;
                if lines.as_ref().is_some_and(|v| line_idx < v.len()) {
                    self.out.put(b"\n");
                    continue;
                }
            }
            break;
        }

        if self.json {
            self.json_close(true);
            if self.follow {
                let _ = self.out.flush();
            }
        } else {
            self.out.put(b"\n");
        }
        Ok(())
    }

    /// `safe_fwrite`: non-printable bytes as `\xNN` (unless
    /// `--noescape`), `indent` spaces after each inner newline.
    fn safe_fwrite(&mut self, data: &[u8], next: u8, indent: i32) -> Result<(), Fail> {
        let start = self.out.buf.len();
        let buf = &mut self.out.buf;
        let n = data.len();
        let mut i = 0;
        while i < n {
            // Runs of plain bytes go out at once.
            let run = data[i..]
                .iter()
                .position(|&c| CLASS[c as usize] != PLAIN)
                .unwrap_or(n - i);
            if run > 0 {
                buf.extend_from_slice(&data[i..i + run]);
                i += run;
                continue;
            }
            let c = data[i];
            let mut len = 1;
            let mut hex = false;
            if !self.noesc {
                if c == 0 {
                    hex = true;
                } else if c >= 0x80 {
                    if self.utf8 {
                        match utf8_char(&data[i..]) {
                            Some((cp, l)) => {
                                len = l;
                                hex = !wide_printable(cp);
                            }
                            None => hex = true,
                        }
                    } else {
                        hex = true;
                    }
                } else if CLASS[c as usize] == HEX {
                    hex = true;
                }
            }
            if hex {
                for &h in &data[i..i + len] {
                    buf.extend_from_slice(&[
                        b'\\',
                        b'x',
                        HEXDIGITS[(h >> 4) as usize],
                        HEXDIGITS[(h & 15) as usize],
                    ]);
                }
            } else if c == b'\n' {
                buf.push(b'\n');
                let after = if i + 1 < n { data[i + 1] } else { next };
                if after != 0 && indent != 0 {
                    buf.extend(std::iter::repeat_n(b' ', indent.unsigned_abs() as usize));
                }
            } else {
                buf.extend_from_slice(&data[i..i + len]);
            }
            i += len;
        }
        self.out.commit(start).map_err(Fail::Write)
    }

    // --- JSON (util-linux's ul_jsonwrt) ---

    fn json_indent(&mut self) {
        for _ in 0..self.jw.indent {
            self.out.put(b"   ");
        }
    }

    fn json_name(&mut self, name: Option<&str>) {
        match name {
            Some(n) => {
                if self.jw.after_close {
                    self.out.put(b",\n");
                }
                self.json_indent();
                let mut q = Vec::new();
                json_quote(&mut q, &n.to_ascii_lowercase().into_bytes(), usize::MAX);
                self.out.put(&q);
            }
            None => {
                if self.jw.after_close {
                    self.out.put(b",");
                } else {
                    self.json_indent();
                }
            }
        }
    }

    fn json_open(&mut self, name: Option<&str>, kind: u8) {
        self.json_name(name);
        let named = name.is_some();
        match kind {
            b'{' => {
                self.out.put(if named { b": {\n" } else { b"{\n" });
                self.jw.indent += 1;
            }
            b'[' => {
                self.out.put(if named { b": [\n" } else { b"[\n" });
                self.jw.indent += 1;
            }
            _ => self.out.put(if named { b": " } else { b" " }),
        }
        self.jw.after_close = false;
    }

    /// Closes an object (`true`) or an array.
    fn json_close(&mut self, object: bool) {
        self.jw.indent = self.jw.indent.saturating_sub(1);
        self.out.put(b"\n");
        self.json_indent();
        if object {
            self.out.put(b"}");
            if self.jw.indent == 0 {
                self.out.put(b"\n");
            }
        } else {
            self.out.put(b"]");
        }
        self.jw.after_close = true;
    }

    fn json_value_raw(&mut self, name: &str, data: &[u8]) {
        self.json_open(Some(name), b'v');
        if data.is_empty() {
            self.out.put(b"null");
        } else {
            self.out.put(data);
        }
        self.jw.after_close = true;
    }

    fn json_value_s(&mut self, name: &str, data: &[u8], size: usize) {
        self.json_open(Some(name), b'v');
        if data.first().is_some_and(|&c| c != 0) {
            let mut q = Vec::with_capacity(data.len() + 2);
            json_quote(&mut q, data, size);
            self.out.put(&q);
        } else {
            self.out.put(b"null");
        }
        self.jw.after_close = true;
    }
}

/// Why printing stopped.
enum Fail {
    /// A message write failed with this errno (`write failed`).
    Write(i32),
    /// A fatal error already reported.
    Exit(Exit),
}

impl From<i32> for Fail {
    fn from(e: i32) -> Fail {
        Fail::Write(e)
    }
}

const PLAIN: u8 = 0;
const HEX: u8 = 1;
const SPECIAL: u8 = 2;

/// Per byte in the C locale: printed as is, escaped, or looked at (NUL,
/// newline, bytes from 0x80 up).
const CLASS: [u8; 256] = {
    let mut t = [HEX; 256];
    let mut c = 0x20;
    while c < 0x7f {
        t[c] = PLAIN;
        c += 1;
    }
    t[b'\t' as usize] = PLAIN;
    t[0x0b] = PLAIN;
    t[0x0c] = PLAIN;
    t[b'\r' as usize] = PLAIN;
    t[b'\n' as usize] = SPECIAL;
    t[0] = SPECIAL;
    let mut c = 0x80;
    while c < 0x100 {
        t[c] = SPECIAL;
        c += 1;
    }
    t
};

const HEXDIGITS: &[u8; 16] = b"0123456789abcdef";

/// Decodes one UTF-8 character as glibc's `mbrtowc` accepts it.
fn utf8_char(s: &[u8]) -> Option<(u32, usize)> {
    let c0 = s[0];
    let (len, min, init) = match c0 {
        0xc2..=0xdf => (2, 0x80, u32::from(c0 & 0x1f)),
        0xe0..=0xef => (3, 0x800, u32::from(c0 & 0x0f)),
        0xf0..=0xf4 => (4, 0x10000, u32::from(c0 & 0x07)),
        _ => return None,
    };
    if s.len() < len {
        return None;
    }
    let mut cp = init;
    for &c in &s[1..len] {
        if c & 0xc0 != 0x80 {
            return None;
        }
        cp = cp << 6 | u32::from(c & 0x3f);
    }
    if cp < min || cp > 0x10ffff || (0xd800..0xe000).contains(&cp) {
        return None;
    }
    Some((cp, len))
}

/// `iswprint(c) || iswspace(c)` for a multibyte character (an
/// approximation of glibc's tables: C1 controls and noncharacters are not
/// printable).
fn wide_printable(cp: u32) -> bool {
    !((0x80..0xa0).contains(&cp) || cp & 0xfffe == 0xfffe || (0xfdd0..0xfdf0).contains(&cp))
}

/// `%-6s:%-6s: ` of a facility and a level (`kern  :info  : `).
fn decode_prefix(facility: usize, level: usize) -> &'static [u8] {
    static TABLE: std::sync::OnceLock<Vec<Vec<u8>>> = std::sync::OnceLock::new();
    let t = TABLE.get_or_init(|| {
        let mut t = Vec::with_capacity(FACILITIES.len() * LEVELS.len());
        for f in FACILITIES {
            for l in LEVELS {
                t.push(format!("{:<6}:{:<6}: ", f.name, l.name).into_bytes());
            }
        }
        t
    });
    &t[facility * LEVELS.len() + level]
}

/// `%5ld.%06ld`.
fn push_time(out: &mut Vec<u8>, sec: i64, usec: i64) {
    if (0..100_000).contains(&sec) && (0..1_000_000).contains(&usec) {
        let mut tmp = [b' '; 12];
        let mut s = sec as u32;
        let mut i = 5;
        loop {
            i -= 1;
            tmp[i] = b'0' + (s % 10) as u8;
            s /= 10;
            if s == 0 {
                break;
            }
        }
        tmp[5] = b'.';
        let mut u = usec as u32;
        for k in (6..12).rev() {
            tmp[k] = b'0' + (u % 10) as u8;
            u /= 10;
        }
        out.extend_from_slice(&tmp);
    } else {
        out.extend_from_slice(format!("{sec:5}.{usec:06}").as_bytes());
    }
}

/// `get_subsys_delimiter`: the offset after `prefix: ` when the message
/// starts with a subsystem prefix (a `:` followed by a blank and more).
fn subsys_delimiter(mesg: &[u8]) -> Option<usize> {
    let mut p = 0;
    let mut sz = mesg.len();
    while sz > 0 {
        // strnchr stops at a NUL.
        let d = mesg[p..p + sz]
            .iter()
            .position(|&c| c == b':' || c == 0)
            .filter(|&i| mesg[p + i] == b':')?
            + p;
        sz -= d - p + 1;
        if sz > 0 {
            if sz >= 2 && (mesg[d + 1] == b' ' || mesg[d + 1] == b'\t') {
                return Some(d + 2);
            }
            p = d + 1;
        }
    }
    None
}

/// util-linux's `fputs_quoted_case_json` (no case change), up to `size`
/// bytes or a NUL.
fn json_quote(out: &mut Vec<u8>, data: &[u8], size: usize) {
    out.push(b'"');
    for &c in data.iter().take(size) {
        if c == 0 {
            break;
        }
        match c {
            b'"' | b'\\' => {
                out.push(b'\\');
                out.push(c);
            }
            0x08 => out.extend_from_slice(b"\\b"),
            b'\t' => out.extend_from_slice(b"\\t"),
            b'\n' => out.extend_from_slice(b"\\n"),
            0x0c => out.extend_from_slice(b"\\f"),
            b'\r' => out.extend_from_slice(b"\\r"),
            c if c < 0x20 => out.extend_from_slice(format!("\\u00{c:02x}").as_bytes()),
            c => out.push(c),
        }
    }
    out.push(b'"');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_prefix() {
        let mut v = Vec::new();
        push_time(&mut v, 1, 234_567);
        push_time(&mut v, 123_456, 7);
        push_time(&mut v, -1, -5);
        assert_eq!(v, b"    1.234567123456.000007   -1.-00005");
    }

    #[test]
    fn subsys() {
        assert_eq!(subsys_delimiter(b"usb 1-1: new device"), Some(9));
        assert_eq!(subsys_delimiter(b"a:b: c"), Some(5));
        assert_eq!(subsys_delimiter(b"no colon"), None);
        assert_eq!(subsys_delimiter(b"end: "), None);
        assert_eq!(subsys_delimiter(b"x\0: y"), None);
    }

    #[test]
    fn json_strings() {
        let mut v = Vec::new();
        json_quote(&mut v, b"a\"b\\c\n\x01\xc3\xa9\0rest", usize::MAX);
        assert_eq!(v, b"\"a\\\"b\\\\c\\n\\u0001\xc3\xa9\"");
    }

    #[test]
    fn strtol_items() {
        assert_eq!(c_strtol_exact(b"3"), Some((3, false)));
        assert_eq!(c_strtol_exact(b"3x"), None);
        assert_eq!(c_strtol_exact(b"99999999999999999999"), Some((0, true)));
    }
}
