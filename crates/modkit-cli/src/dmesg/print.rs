//! One record on dmesg's output: the filters, the prefix (raw priority,
//! decoded facility and level, the time formats, the caller id), then the
//! message with non-printable bytes escaped and continuation lines
//! indented — util-linux's `print_record`.

use modkit::compat::tz::{TimeZone, Tm};
use modkit::kmsg::record::Record;
use modkit::kmsg::{FACILITIES, LEVELS};

use super::colors::{self, Id};
use super::options::{
    TF_CTIME, TF_CTIME_DELTA, TF_DELTA, TF_NONE, TF_RELTIME, TF_TIME, TF_TIME_DELTA,
};
use super::{when, Ctl, Fail};

/// What a record's prefix is made of, beside the times in `full_tsbuf`.
struct Prefix {
    /// `-x`'s `kern  :info  : `, or empty.
    decoded: &'static [u8],
    /// A `--reltime` line that starts a new minute (coloured apart).
    timebreak: bool,
    /// The priority is a known facility and level.
    valid: bool,
}

impl Ctl {
    /// The record's wall-clock time in microseconds since the epoch
    /// (boot time + time spent suspended + the timestamp).
    fn record_time(&self, rec: &Record) -> u64 {
        let tv = |s: i64, u: i64| (s as u64).wrapping_mul(1_000_000).wrapping_add(u as u64);
        tv(self.boot_time.sec, self.boot_time.usec)
            .wrapping_add(self.suspended)
            .wrapping_add(tv(rec.sec, rec.usec))
    }

    /// `accept_record`: the level, facility, `--since` and `--until`
    /// filters.
    fn accept_record(&self, rec: &Record) -> bool {
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

    /// The broken-down local time of a [`Ctl::record_time`].
    fn localtime(&self, t: u64) -> Tm {
        let secs = (t / 1_000_000) as i64;
        match &self.tz {
            Some(tz) => tz.localtime(secs),
            None => TimeZone::utc().localtime(secs),
        }
    }

    fn color_on(&mut self, id: Id) {
        if let Some(seq) = self.colors.sequence(id) {
            let seq = seq.to_vec();
            self.out.write(&seq);
        }
    }

    fn color_off(&mut self) {
        if self.colors.on {
            self.out.write(colors::RESET);
        }
    }

    /// `print_record`: one record of `b` (the buffer it was parsed
    /// from), unless the filters drop it.
    pub(super) fn print_record(&mut self, b: &[u8], rec: &Record) -> Result<(), Fail> {
        if !self.accept_record(rec) {
            self.lasttime = (rec.sec, rec.usec);
            return Ok(());
        }
        if rec.message_len == 0 {
            if !self.json {
                self.out.write(b"\n");
            }
            return Ok(());
        }
        let delta = self.record_count_delta(rec);
        if self.json {
            self.json_begin_record();
        }

        let valid = (0..8).contains(&rec.level) && (0..24).contains(&rec.facility);
        let mut prefix = Prefix {
            decoded: &[],
            timebreak: false,
            valid,
        };
        self.full_tsbuf.clear();
        if self.raw {
            self.raw_prefix(rec);
        } else {
            if !self.json && self.decode && valid {
                prefix.decoded = decode_prefix(rec.facility as usize, rec.level as usize);
            }
            prefix.timebreak = self.time_prefix(rec, delta);
            self.indent += prefix.decoded.len() as i32;
        }

        if self.force_prefix {
            self.print_lines(b, rec, &prefix)?;
        } else {
            self.print_prefix(rec, &prefix, true);
            let start = rec.message_start.min(b.len());
            let end = rec
                .message_start
                .saturating_add(rec.message_len)
                .min(b.len());
            let next = b.get(end).copied().unwrap_or(0);
            self.print_text(rec, &b[start..end], next)?;
        }

        if self.json {
            self.json_end_record();
        } else {
            self.out.write(b"\n");
        }
        Ok(())
    }

    /// `record_count_delta`: seconds since the previous record (0 for the
    /// first).
    fn record_count_delta(&mut self, rec: &Record) -> f64 {
        let mut delta = 0.0f64;
        if self.lasttime != (0, 0) {
            delta = (rec.sec.wrapping_sub(self.lasttime.0)) as f64
                + (rec.usec.wrapping_sub(self.lasttime.1)) as f64 / 1_000_000.0;
        }
        self.lasttime = (rec.sec, rec.usec);
        delta
    }

    /// `-r`: `<prio>[seconds.micros] `.
    fn raw_prefix(&mut self, rec: &Record) {
        let prio = (rec.facility << 3) | rec.level;
        self.full_tsbuf.push(b'<');
        self.full_tsbuf
            .extend_from_slice(prio.to_string().as_bytes());
        self.full_tsbuf.extend_from_slice(b">[");
        push_time(&mut self.full_tsbuf, rec.sec, rec.usec);
        self.full_tsbuf.extend_from_slice(b"] ");
        self.indent = self.full_tsbuf.len() as i32;
    }

    /// The times of the selected formats, in `full_tsbuf`, and the
    /// indent they make; whether a `--reltime` time break is among them.
    fn time_prefix(&mut self, rec: &Record, delta: f64) -> bool {
        let mut timebreak = false;
        let n = if self.nfmts > 0 { self.nfmts } else { 1 };
        for i in 0..n {
            self.tsbuf.clear();
            let fmt = self.fmts[i];
            timebreak |= self.format_time(fmt, rec, delta);
            if fmt != TF_NONE {
                // snprintf into 64 bytes: the length counts, the text is
                // cut.
                self.indent = self.tsbuf.len() as i32;
                self.tsbuf.truncate(63);
            }
            if self.is_time_fmt_set(TF_NONE) {
                break;
            }
            self.full_tsbuf.extend_from_slice(&self.tsbuf);
        }
        timebreak
    }

    /// One time format into `tsbuf`; whether it is a `--reltime` time
    /// break.
    fn format_time(&mut self, fmt: u8, rec: &Record, delta: f64) -> bool {
        let mut timebreak = false;
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
        timebreak
    }

    /// The prefix of a line (`full_output`): the decoded priority (or the
    /// JSON `pri`), the times, the caller id. `first`: the record's first
    /// line (`--reltime` prints the time on it only).
    fn print_prefix(&mut self, rec: &Record, prefix: &Prefix, first: bool) {
        if !prefix.decoded.is_empty() {
            self.out.write(prefix.decoded);
        } else if self.json && prefix.valid {
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
            self.print_times(prefix.timebreak, first);
        }
        let caller = rec.caller();
        if !caller.is_empty() {
            self.print_caller(caller);
        }
    }

    /// The times of `full_tsbuf` (coloured).
    fn print_times(&mut self, timebreak: bool, first: bool) {
        if self.color {
            self.color_on(if timebreak { Id::Timebreak } else { Id::Time });
        }
        if !self.is_time_fmt_set(TF_RELTIME) {
            if self.json {
                let ts = std::mem::take(&mut self.full_tsbuf);
                self.json_value_raw("time", &ts);
                self.full_tsbuf = ts;
            } else {
                self.out.write(&self.full_tsbuf);
            }
        } else if first {
            self.out.write(&self.full_tsbuf);
        } else {
            self.out.write(b"[  +0.000000] ");
        }
        if self.color {
            self.color_off();
        }
    }

    /// The caller id: `[    T1] ` (or JSON's `caller`).
    fn print_caller(&mut self, caller: &[u8]) {
        if self.json {
            self.json_value_s("caller", caller, usize::MAX);
            return;
        }
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
        self.out.write(&cid);
    }

    /// `-p`: each non-empty line of the message (up to a NUL) with its own
    /// prefix.
    fn print_lines(&mut self, b: &[u8], rec: &Record, prefix: &Prefix) -> Result<(), Fail> {
        self.print_prefix(rec, prefix, true);
        let text = &b[rec.message_start.min(b.len())..];
        let text = &text[..text.iter().position(|&c| c == 0).unwrap_or(text.len())];
        let lines = text.split(|&c| c == b'\n').filter(|l| !l.is_empty());
        for (i, line) in lines.enumerate() {
            if i > 0 {
                self.out.write(b"\n");
                self.print_prefix(rec, prefix, false);
            }
            self.print_text(rec, line, 0)?;
        }
        Ok(())
    }

    /// The message text (or a line of it): the subsystem prefix and the
    /// level coloured, or JSON's `msg`. `next` is the byte after `text` in
    /// C's buffer (whether a final newline is followed by more).
    fn print_text(&mut self, rec: &Record, text: &[u8], next: u8) -> Result<(), Fail> {
        let indent = self.indent;
        if self.json {
            self.json_value_s("msg", text, text.len());
            return Ok(());
        }
        if !self.color {
            return self.safe_fwrite(text, next, indent);
        }
        let mut line = text;
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
        Ok(())
    }

    /// `safe_fwrite`: non-printable bytes as `\xNN` (unless
    /// `--noescape`), `indent` spaces after each inner newline.
    pub(super) fn safe_fwrite(&mut self, data: &[u8], next: u8, indent: i32) -> Result<(), Fail> {
        let noesc = self.noesc;
        let utf8 = self.utf8;
        let n = data.len();
        self.out
            .fwrite_with(|buf| {
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
                    if !noesc {
                        if c == 0 {
                            hex = true;
                        } else if c >= 0x80 {
                            if utf8 {
                                match utf8_char(&data[i..]) {
                                    Some((cp, l)) => {
                                        len = l;
                                        hex =
                                            !modkit::compat::locale::CtypeLocale::from_environment(
                                            )
                                            .printable_or_space(cp);
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
            })
            .map_err(Fail::Write)
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
}
