//! dmesg's command line: the option table, util-linux's checks of it, and
//! what the options settle (time formats, colours, pager) before anything
//! is read.

use std::ffi::OsString;
use std::os::unix::ffi::OsStringExt;

use modkit::compat::tz::TimeZone;
use modkit::kmsg::time as ktime;
use modkit::kmsg::{FACILITIES, LEVELS};

use crate::compat::getopt::{Getopt, HasArg, LongOpt};
use crate::compat::stdio;

use super::colors::{self, Colors, Mode};
use super::source::{max_threads_id_size, SYSLOG_CALLER_ID_CHARS};
use super::{when, Action, Ctl, Exit, Method};

const OPT_TIME_FORMAT: i32 = 128;
const OPT_NOESC: i32 = 129;
const OPT_SINCE: i32 = 130;
const OPT_UNTIL: i32 = 131;

/// dmesg's short options, as util-linux gives them to `getopt_long`.
pub(crate) const SHORT_OPTS: &str = "CcDdEeF:f:HhJK:kL::l:n:iPprSs:TtuVWwx";
/// dmesg's long options, as util-linux gives them to `getopt_long`.
pub(crate) const LONG_OPTS: &[LongOpt] = &[
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
pub(super) const TF_NONE: u8 = 0;
pub(super) const TF_CTIME: u8 = 1;
pub(super) const TF_CTIME_DELTA: u8 = 2;
pub(super) const TF_DELTA: u8 = 3;
pub(super) const TF_RELTIME: u8 = 4;
pub(super) const TF_TIME: u8 = 5;
pub(super) const TF_TIME_DELTA: u8 = 6;
pub(super) const TF_ISO8601: u8 = 7;
pub(super) const TF_COUNT: usize = 8;

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

/// What the option loop leaves for after it (util-linux's locals in
/// `main`).
struct Pending {
    nopager: bool,
    console_level: u32,
    delta: bool,
    colormode: Mode,
}

/// Whether option parsing goes on.
enum Flow {
    Continue,
    /// `--help` or `--version` was printed: nothing else to do.
    Done,
}

impl Ctl {
    // --- time formats (util-linux's time_fmts array) ---

    fn reset_time_fmts(&mut self) {
        for f in &mut self.fmts[..TF_COUNT] {
            *f = TF_NONE;
        }
        self.fmts[0] = TF_TIME;
    }

    pub(super) fn is_time_fmt_set(&self, f: u8) -> bool {
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
                    stdio::stderr(&msg);
                    return Err(Exit(1));
                }
                break;
            }
        }
        Ok(())
    }

    /// Parses the command line and settles the configuration; `Ok(None)`
    /// when `--help` or `--version` was printed, otherwise the level of
    /// `-n`.
    pub(super) fn parse_options(&mut self, args: Vec<OsString>) -> Result<Option<u32>, Exit> {
        let mut pending = Pending {
            nopager: false,
            console_level: 0,
            delta: false,
            colormode: Mode::Undef,
        };
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
            if let Flow::Done = self.apply_option(opt.val, has_arg, arg, &mut pending)? {
                return Ok(None);
            }
        }
        if !opts.remaining().is_empty() {
            stdio::stderr(&format!("{}bad usage\n", self.err_prefix()));
            return Err(self.try_help());
        }

        self.settle(pending.delta, pending.colormode, pending.nopager);
        Ok(Some(pending.console_level))
    }

    /// One option.
    fn apply_option(
        &mut self,
        val: i32,
        has_arg: bool,
        arg: Vec<u8>,
        pending: &mut Pending,
    ) -> Result<Flow, Exit> {
        let c = u8::try_from(val).map(char::from).unwrap_or('\0');
        match val {
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
                return Ok(Flow::Continue);
            }
            OPT_NOESC => {
                self.noesc = true;
                return Ok(Flow::Continue);
            }
            OPT_SINCE | OPT_UNTIL => {
                let tz = self.tz.get_or_insert_with(TimeZone::from_env);
                let now = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map(|d| d.as_secs() as i64)
                    .unwrap_or(0);
                match when::parse_timestamp(&arg, tz, now) {
                    Some(v) if val == OPT_SINCE => self.since = v,
                    Some(v) => self.until = v,
                    None => {
                        let mut m = b"invalid time value \"".to_vec();
                        m.extend_from_slice(&arg);
                        m.push(b'"');
                        return Err(self.errx_bytes(&m));
                    }
                }
                return Ok(Flow::Continue);
            }
            _ => {}
        }
        match c {
            'C' => self.action = Action::Clear,
            'c' => self.action = Action::ReadClear,
            'D' => self.action = Action::ConsoleOff,
            'd' => pending.delta = true,
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
                pending.colormode = Mode::Auto;
                self.pager = true;
            }
            'J' => self.json = true,
            'k' => {
                self.fltr_fac = true;
                self.facilities |= 1;
            }
            'L' => {
                pending.colormode = Mode::Auto;
                if has_arg {
                    let p = arg.strip_prefix(b"=").unwrap_or(&arg);
                    match colors::mode_from_str(p) {
                        Some(m) => pending.colormode = m,
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
                pending.console_level = self.parse_level(&arg, &arg, false)?;
            }
            'P' => pending.nopager = true,
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
                self.out.write(usage(&self.prog).as_bytes());
                return Ok(Flow::Done);
            }
            'V' => {
                self.out.write(
                    format!(
                        "{} from util-linux 2.41.5\nmodkit {}\n",
                        self.prog,
                        crate::version::VERSION
                    )
                    .as_bytes(),
                );
                return Ok(Flow::Done);
            }
            _ => return Err(self.try_help()),
        }
        Ok(Flow::Continue)
    }

    /// What util-linux does between the options and the work: JSON
    /// overrides, the boot time for dates, `--show-delta` folded into the
    /// time formats, colours and the pager.
    fn settle(&mut self, mut delta: bool, colormode: Mode, mut nopager: bool) {
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
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strtol_items() {
        assert_eq!(c_strtol_exact(b"3"), Some((3, false)));
        assert_eq!(c_strtol_exact(b"3x"), None);
        assert_eq!(c_strtol_exact(b"99999999999999999999"), Some((0, true)));
    }
}
