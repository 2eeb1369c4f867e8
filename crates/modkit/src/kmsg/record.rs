//! Kernel log records, parsed as util-linux 2.41's dmesg parses them, byte
//! for byte: the `/dev/kmsg` format and the `syslog(2)` text format.
//!
//! A `/dev/kmsg` record (see the kernel's
//! `Documentation/ABI/testing/dev-kmsg`) is a prefix of comma-separated
//! fields (priority, sequence number, timestamp in microseconds, flags,
//! then optional fields such as `caller=T1`), a `;`, the message up to the
//! first newline (non-printable bytes and backslashes escaped as `\xNN`),
//! then dictionary lines, each starting with a space:
//!
//! ```text
//! 6,339,5140900,-,caller=T1;NET: Registered protocol family 10\n
//!  SUBSYSTEM=net\n
//! ```
//!
//! The `syslog(2)` text is lines of `<prio>[seconds.micros] message`, with
//! `[  T123]` after the timestamp on kernels with `CONFIG_PRINTK_CALLER`;
//! a line that does not start with `<` continues the previous record.
//!
//! Well-formed records parse as anyone would expect. For malformed ones
//! (files given to `dmesg -K`/`-F` can hold anything) these parsers never
//! fail and never panic: they do what util-linux's C code does, because
//! `dmesg`'s output must match it on any input. So they read numbers as
//! `strtol` does (leading blanks, a sign), keep what they parsed before a
//! malformed field, work in a buffer that persists between records (a
//! `/dev/kmsg` record without a `;` reads on into the previous record's
//! bytes), and keep util-linux's off-by-one quirks (a record without its
//! final newline loses its last characters). The dictionary is not parsed:
//! dmesg prints none of it.

use crate::compat::ctype::isspace;
use crate::error::{Error, Result};

/// The size of the buffer `/dev/kmsg` records are parsed in (util-linux's
/// `BUFSIZ`): a record read from the device has at most one byte less (it
/// is NUL-terminated), one stored in a file at most this many.
pub const KMSG_BUFFER_SIZE: usize = 2048;

/// A parsed record: its fields, and where its message is in the buffer it
/// was parsed from (see [`Record::message`]).
#[derive(Clone, Copy, Debug)]
pub struct Record {
    /// Offset of the message in the buffer.
    pub message_start: usize,
    /// The message's length, after decoding its `\xNN` escapes.
    pub message_len: usize,
    /// The level, 0 (emerg) to 7 (debug); -1 when the priority was not
    /// parsed.
    pub level: i32,
    /// The facility (0 = kern, 1 = user... 24); -1 when the priority was
    /// not parsed or its facility is above 24.
    pub facility: i32,
    /// The timestamp's seconds since boot.
    pub sec: i64,
    /// The timestamp's microseconds (below a million for `/dev/kmsg`
    /// records; as written, and possibly more, in `syslog(2)` text).
    pub usec: i64,
    /// The caller id (`T1`), NUL-terminated. C's field has 20 bytes, but
    /// a malformed record can make util-linux copy more, over the rest of
    /// its record structure (40 bytes to its end), which it then prints.
    caller: [u8; 40],
}

impl Record {
    fn new() -> Record {
        Record {
            message_start: 0,
            message_len: 0,
            level: -1,
            facility: -1,
            sec: 0,
            usec: 0,
            caller: [0; 40],
        }
    }

    /// The caller id (`T123` for a task, `C1` for a CPU), empty when the
    /// record has none.
    pub fn caller(&self) -> &[u8] {
        let n = self.caller.iter().position(|&b| b == 0).unwrap_or(40);
        &self.caller[..n]
    }

    /// The level's name (`"info"`), when the priority was parsed.
    pub fn level_name(&self) -> Option<&'static str> {
        let level = usize::try_from(self.level).ok()?;
        super::LEVELS.get(level).map(|l| l.name)
    }

    /// The facility's name (`"kern"`), when the priority was parsed and
    /// names one of the 24 facilities.
    pub fn facility_name(&self) -> Option<&'static str> {
        let facility = usize::try_from(self.facility).ok()?;
        super::FACILITIES.get(facility).map(|f| f.name)
    }

    /// The message, in `buf`, the buffer the record was parsed from (cut
    /// at its end if `buf` is another, shorter one).
    pub fn message<'a>(&self, buf: &'a [u8]) -> &'a [u8] {
        let start = self.message_start.min(buf.len());
        let end = self.message_start.saturating_add(self.message_len);
        &buf[start..end.min(buf.len())]
    }
}

/// The buffer `/dev/kmsg` records are parsed in, which persists between
/// records as util-linux's does (see the module documentation).
#[derive(Clone, Debug)]
pub struct KmsgBuffer {
    buf: Vec<u8>,
}

impl Default for KmsgBuffer {
    fn default() -> KmsgBuffer {
        KmsgBuffer::new()
    }
}

impl KmsgBuffer {
    /// An empty buffer of [`KMSG_BUFFER_SIZE`] bytes.
    pub fn new() -> KmsgBuffer {
        KmsgBuffer {
            buf: vec![0; KMSG_BUFFER_SIZE],
        }
    }

    /// The buffer's bytes: where [`Record::message`] finds the message of
    /// the last record parsed.
    pub fn bytes(&self) -> &[u8] {
        &self.buf
    }

    /// Parses one record as one `read(2)` of `/dev/kmsg` returned it: it
    /// is copied to the buffer and NUL-terminated. `with_priority`: parse
    /// the priority into [`Record::level`] and [`Record::facility`] (dmesg
    /// does only when it filters, decodes or prints it; without, a
    /// malformed priority is skipped as a field). `Ok(None)` for an empty
    /// record; an error for one of [`KMSG_BUFFER_SIZE`] bytes or more.
    pub fn parse_read(&mut self, raw: &[u8], with_priority: bool) -> Result<Option<Record>> {
        if raw.len() >= KMSG_BUFFER_SIZE {
            return Err(too_large(raw.len()));
        }
        self.buf[..raw.len()].copy_from_slice(raw);
        self.buf[raw.len()] = 0;
        Ok(parse_kmsg(&mut self.buf, raw.len(), with_priority))
    }

    /// Parses one record of a file of NUL-separated records (`dmesg -K`):
    /// it is copied to the buffer without a terminator, so a record without
    /// a `;` reads on into what the previous record left. As
    /// [`KmsgBuffer::parse_read`] otherwise; a record may have
    /// [`KMSG_BUFFER_SIZE`] bytes.
    pub fn parse_stored(&mut self, raw: &[u8], with_priority: bool) -> Result<Option<Record>> {
        if raw.len() > KMSG_BUFFER_SIZE {
            return Err(too_large(raw.len()));
        }
        self.buf[..raw.len()].copy_from_slice(raw);
        Ok(parse_kmsg(&mut self.buf, raw.len(), with_priority))
    }
}

fn too_large(len: usize) -> Error {
    Error::invalid(format!(
        "kmsg record: {len} bytes, too large for the {KMSG_BUFFER_SIZE}-byte buffer"
    ))
}

/// The byte at `i`, 0 outside the buffer.
#[inline]
fn at(b: &[u8], i: isize) -> u8 {
    if i < 0 {
        0
    } else {
        b.get(i as usize).copied().unwrap_or(0)
    }
}

/// `strtol(s, &end, 10)` / `strtoumax`: (value, end, ERANGE). With no
/// digits, `end` is `s` and the value 0.
fn strto(b: &[u8], s: isize, signed: bool) -> (i64, u64, isize, bool) {
    let mut i = s;
    while isspace(at(b, i)) {
        i += 1;
    }
    let mut neg = false;
    if at(b, i) == b'+' || at(b, i) == b'-' {
        neg = at(b, i) == b'-';
        i += 1;
    }
    if !at(b, i).is_ascii_digit() {
        return (0, 0, s, false);
    }
    let mut mag: u64 = 0;
    let mut over = false;
    while at(b, i).is_ascii_digit() {
        match mag
            .checked_mul(10)
            .and_then(|m| m.checked_add(u64::from(at(b, i) - b'0')))
        {
            Some(m) => mag = m,
            None => over = true,
        }
        i += 1;
    }
    if signed {
        let limit = if neg { 1u64 << 63 } else { (1u64 << 63) - 1 };
        if over || mag > limit {
            let v = if neg { i64::MIN } else { i64::MAX };
            return (v, v as u64, i, true);
        }
        let v = if neg {
            (mag as i64).wrapping_neg()
        } else {
            mag as i64
        };
        (v, v as u64, i, false)
    } else {
        if over {
            return (-1, u64::MAX, i, true);
        }
        let v = if neg { mag.wrapping_neg() } else { mag };
        (v as i64, v, i, false)
    }
}

/// `skip_item`: past the first byte of `sep` (or NUL), at most to `end`.
#[inline]
fn skip_item(b: &[u8], begin: isize, end: isize, sep: &[u8]) -> isize {
    if begin >= end {
        return begin;
    }
    // Inside the buffer, as a slice scan; `end` is always within it.
    let (lo, hi) = (begin.max(0) as usize, (end as usize).min(b.len()));
    if begin >= 0 && lo < hi {
        let hay = &b[lo..hi];
        let hit = match *sep {
            [a] => hay.iter().position(|&c| c == a || c == 0),
            [a, z] => hay.iter().position(|&c| c == a || c == z || c == 0),
            _ => hay.iter().position(|&c| c == 0 || sep.contains(&c)),
        };
        return match hit {
            Some(i) => begin + i as isize + 1,
            None => hi as isize,
        };
    }
    let mut begin = begin;
    while begin < end {
        let c = at(b, begin);
        begin += 1;
        if c == 0 || sep.contains(&c) {
            break;
        }
    }
    begin
}

/// `parse_faclev`: the number at `s` as facility and level; returns the
/// position after the byte following the number, or `s` if none.
fn parse_faclev(b: &[u8], s: isize, rec: &mut Record) -> isize {
    let (num, _, end, err) = strto(b, s, true);
    if !err && end > s {
        let fac = ((num & 0x3f8) >> 3) as i32;
        let lev = (num & 7) as i32;
        rec.facility = if fac > 24 { -1 } else { fac };
        rec.level = lev;
        return end + 1;
    }
    s
}

/// `xstrncpy(caller, src, n)`.
fn copy_caller(b: &[u8], src: isize, n: usize, rec: &mut Record) {
    let mut len = 0usize;
    while at(b, src + len as isize) != 0 {
        len += 1;
        if len > 4096 {
            break;
        }
    }
    if len == 0 {
        return;
    }
    let len = len.min(n.wrapping_sub(1)).min(39);
    for i in 0..len {
        rec.caller[i] = at(b, src + i as isize);
    }
    rec.caller[len] = 0;
}

/// Where `strstr(s, "caller=")` would match before `strchr(s, ';')`
/// does (the test of `parse_callerid`), in one pass over the C string.
fn caller_before_semicolon(b: &[u8], s: isize) -> Option<isize> {
    if s < 0 {
        return None;
    }
    let hay = b.get(s as usize..).unwrap_or_default();
    let mut i = 0;
    while let Some(k) = hay[i..]
        .iter()
        .position(|&c| c == b'c' || c == b';' || c == 0)
    {
        let at = i + k;
        match hay[at] {
            b'c' if hay[at..].starts_with(b"caller=") => return Some(s + at as isize),
            b'c' => i = at + 1,
            _ => return None,
        }
    }
    None
}

/// `parse_callerid`.
fn parse_callerid(b: &[u8], p: isize, end: isize, rec: &mut Record) -> isize {
    if let Some(cid) = caller_before_semicolon(b, p) {
        // strchr(';') must find one too (after the match).
        let tail = b.get(cid as usize..).unwrap_or_default();
        let nul = tail.iter().position(|&c| c == 0).unwrap_or(tail.len());
        if tail[..nul].contains(&b';') {
            let next = cid + 7;
            let after = skip_item(b, next, end, b",;");
            let size = (after - next) as usize;
            if size < 20 {
                copy_caller(b, next, size, rec);
            } else {
                return p;
            }
            return after;
        }
    }
    p
}

#[inline]
fn is_xdigit(c: u8) -> bool {
    c.is_ascii_hexdigit()
}

#[inline]
fn from_hex(c: u8) -> u8 {
    if c.is_ascii_digit() {
        c - b'0'
    } else {
        (c | 0x20) - b'a' + 10
    }
}

/// `unhexmangle_to_buffer(s, s, len)` in place; returns the decoded
/// length plus one.
fn unhexmangle(b: &mut [u8], s: usize, len: usize) -> usize {
    let lim = len.wrapping_sub(1);
    let mut sz = 0usize;
    let mut r = s;
    let mut w = s;
    loop {
        // Plain bytes: while nothing was decoded yet, they stay in place.
        let stop = s.saturating_add(lim).min(b.len());
        if r >= stop {
            break;
        }
        let run = b[r..stop]
            .iter()
            .position(|&c| c == b'\\' || c == 0)
            .unwrap_or(stop - r);
        if w != r {
            b.copy_within(r..r + run, w);
        }
        r += run;
        w += run;
        sz += run;
        if r >= stop || b[r] == 0 {
            break;
        }
        // A backslash.
        if sz.wrapping_add(3) < lim
            && at(b, r as isize + 1) == b'x'
            && is_xdigit(at(b, r as isize + 2))
            && is_xdigit(at(b, r as isize + 3))
        {
            b[w] = from_hex(b[r + 2]) << 4 | from_hex(b[r + 3]);
            r += 4;
            sz += 4;
        } else {
            b[w] = b'\\';
            r += 1;
            sz += 1;
        }
        w += 1;
    }
    if w < b.len() {
        b[w] = 0;
    }
    w - s + 1
}

/// `parse_kmsg_record` on the persistent buffer `b` holding a record of
/// `sz` bytes at its start. `faclev`: whether the priority is parsed
/// (filters, decode, raw, colour or JSON).
fn parse_kmsg(b: &mut [u8], sz: usize, faclev: bool) -> Option<Record> {
    if sz == 0 || b.first().is_none_or(|&c| c == 0) {
        return None;
    }
    let end = sz as isize - 1;
    let mut rec = Record::new();
    let mut p: isize = 0;
    while p < end && isspace(at(b, p)) {
        p += 1;
    }
    // The first position before the buffer reads as something other
    // than ';' (it is the neighbouring memory in C).
    let last = |b: &[u8], p: isize| at(b, p) == 0 || (p > 0 && at(b, p - 1) == b';');

    'mesg: {
        p = if faclev {
            parse_faclev(b, p, &mut rec)
        } else {
            skip_item(b, p, end, b",")
        };
        if last(b, p) {
            break 'mesg;
        }
        p = skip_item(b, p, end, b",;");
        if last(b, p) {
            break 'mesg;
        }
        let (_, usec, e, err) = strto(b, p, false);
        if !err && (at(b, e) == b';' || at(b, e) == b',') {
            rec.usec = (usec % 1_000_000) as i64;
            rec.sec = (usec / 1_000_000) as i64;
            p = e + 1;
        }
        if last(b, p) {
            break 'mesg;
        }
        p = skip_item(b, p, end, b",;");
        p = parse_callerid(b, p, end, &mut rec);
    }

    let mesg = p;
    let mut q = skip_item(b, p, end, b"\n");
    if at(b, q) != 0 && at(b, q) != b'\n' {
        q -= 1;
    }
    let len = (q - mesg + 1) as usize;
    if mesg < 0 || mesg as usize >= b.len() {
        rec.message_start = b.len().min(mesg.max(0) as usize);
        rec.message_len = 0;
        return Some(rec);
    }
    rec.message_start = mesg as usize;
    rec.message_len = unhexmangle(b, mesg as usize, len) - 1;
    Some(rec)
}

/// The records of a `syslog(2)` text buffer, in order (an iterator).
#[derive(Clone, Debug)]
pub struct SyslogRecords<'a> {
    buf: &'a [u8],
    cursor: Cursor,
    with_priority: bool,
}

/// The records of `buf`, text as `syslog(2)` returns it (or a `dmesg -F`
/// file holds it); each [`Record::message`] is in `buf`. `with_priority`
/// as for [`KmsgBuffer::parse_read`]. A line starting with `<` begins a
/// record; a `<prio>`, `[seconds.micros]` or `[caller]` that does not
/// parse is kept as message text, and the fields parsed before it are kept.
pub fn syslog_records(buf: &[u8], with_priority: bool) -> SyslogRecords<'_> {
    SyslogRecords {
        buf,
        cursor: Cursor::new(buf.len()),
        with_priority,
    }
}

impl Iterator for SyslogRecords<'_> {
    type Item = Record;

    fn next(&mut self) -> Option<Record> {
        next_syslog(self.buf, &mut self.cursor, self.with_priority)
    }
}

/// Where the syslog-format parser is (`rec->next`, `rec->next_size`).
#[derive(Clone, Copy, Debug)]
struct Cursor {
    next: Option<usize>,
    next_size: usize,
}

impl Cursor {
    /// At the start of a buffer of `size` bytes.
    fn new(size: usize) -> Cursor {
        Cursor {
            next: Some(0),
            next_size: size,
        }
    }
}

/// `get_next_syslog_record`: the next record of `<prio>[ts] msg` text.
fn next_syslog(b: &[u8], cur: &mut Cursor, faclev: bool) -> Option<Record> {
    let next = cur.next? as isize;
    if cur.next_size == 0 {
        return None;
    }
    let mut rec = Record::new();
    let mut begin: Option<isize> = None;
    let mut i = 0usize;
    while i < cur.next_size {
        let p = next + i as isize;
        let mut end: Option<isize> = None;
        if begin.is_none() {
            begin = Some(p);
        }
        if i + 1 == cur.next_size {
            end = Some(p + 1);
            i += 1;
        } else if at(b, p) == b'\n' && at(b, p + 1) == b'<' {
            end = Some(p);
        }
        if let Some(bg) = begin {
            if at(b, bg) == 0 {
                begin = None;
            }
        }
        let (Some(mut bg), Some(end)) = (begin, end) else {
            i += 1;
            continue;
        };
        if end <= bg {
            i += 1;
            continue;
        }

        if at(b, bg) == b'<' {
            bg = if faclev {
                parse_faclev(b, bg + 1, &mut rec)
            } else {
                skip_item(b, bg, end, b">")
            };
        }
        if at(b, bg) == b'[' && (at(b, bg + 1) == b' ' || at(b, bg + 1).is_ascii_digit()) {
            bg = parse_syslog_timestamp(b, bg + 1, &mut rec);
            if bg < end && at(b, bg) == b' ' {
                bg += 1;
            }
        }
        let (mesg, size): (isize, isize);
        if at(b, bg) == b'[' && matches!(at(b, bg + 1), b' ' | b'T' | b'C') {
            let mut start = bg + 1;
            while start < end && at(b, start) == b' ' {
                start += 1;
            }
            bg = skip_item(b, bg, end, b"]");
            let id_size = bg - start;
            if (0..20).contains(&id_size) {
                copy_caller(b, start, id_size as usize, &mut rec);
            }
            if bg < end {
                mesg = bg + 1;
                size = end - bg - 1;
            } else {
                mesg = end;
                size = 0;
            }
        } else {
            mesg = bg;
            size = end - bg;
        }
        let mut size = size.max(0) as usize;
        if at(b, end) != b'\n' && at(b, end - 1) == b'\n' {
            size = size.saturating_sub(1);
        }
        rec.message_start = mesg.max(0) as usize;
        rec.message_len = size;

        let consumed = (end - next) as usize;
        cur.next_size = cur.next_size.saturating_sub(consumed);
        if cur.next_size > 0 {
            cur.next = Some(end as usize + 1);
            cur.next_size -= 1;
        } else {
            cur.next = None;
        }
        return Some(rec);
    }
    None
}

/// `parse_syslog_timestamp`: `seconds.micros]` at `s` (after the `[`);
/// returns past the `]`, or `s` when malformed (the fields parsed so far
/// are kept, as in C).
fn parse_syslog_timestamp(b: &[u8], s: isize, rec: &mut Record) -> isize {
    let (sec, _, mut end, mut err) = strto(b, s, true);
    rec.sec = sec;
    let mut str_ = s;
    if !err && at(b, end) == b'.' && at(b, end + 1) != 0 {
        str_ = end + 1;
        let (usec, _, e, er) = strto(b, str_, true);
        rec.usec = usec;
        end = e;
        err = er;
    }
    if err || end == str_ || at(b, end) != b']' {
        return s;
    }
    end + 1
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kmsg(rec: &[u8], faclev: bool) -> (Record, Vec<u8>) {
        let mut b = KmsgBuffer::new();
        let r = b.parse_read(rec, faclev).unwrap().unwrap();
        let m = r.message(b.bytes()).to_vec();
        (r, m)
    }

    /// (level, facility, sec, usec, message, caller) of each record.
    type Fields = (i32, i32, i64, i64, Vec<u8>, Vec<u8>);

    fn syslog(buf: &[u8], faclev: bool) -> Vec<Fields> {
        syslog_records(buf, faclev)
            .map(|r| {
                let m = r.message(buf).to_vec();
                (r.level, r.facility, r.sec, r.usec, m, r.caller().to_vec())
            })
            .collect()
    }

    #[test]
    fn kmsg_records() {
        let (r, m) = kmsg(b"6,1,2000003,-;hello \\x41\n SUBSYSTEM=x\n", true);
        assert_eq!((r.level, r.facility, r.sec, r.usec), (6, 0, 2, 3));
        assert_eq!(m, b"hello A");
        let (r, m) = kmsg(b"14,1,2,-,caller=T12;x\n", true);
        assert_eq!((r.facility, r.caller()), (1, &b"T12"[..]));
        assert_eq!(m, b"x");
        // No final newline: the last two characters are lost, as in C.
        let (_, m) = kmsg(b"6,1,2,-;hello", false);
        assert_eq!(m, b"hel");
        let (r, _) = kmsg(b"199,1,2,-;x\n", true);
        assert_eq!((r.facility, r.level), (24, 7));
        let (r, _) = kmsg(b"207,1,2,-;x\n", true);
        assert_eq!(r.facility, -1);
    }

    #[test]
    fn full_record() {
        let raw = b"6,339,5140900,-,caller=T1;NET: Registered \\x5c family\\x0a10\n SUBSYSTEM=net\n DEVICE=+net:lo\n";
        let (r, m) = kmsg(raw, true);
        assert_eq!((r.level, r.facility), (6, 0));
        assert_eq!(
            (r.level_name(), r.facility_name()),
            (Some("info"), Some("kern"))
        );
        assert_eq!((r.sec, r.usec), (5, 140_900));
        assert_eq!(r.caller(), b"T1");
        // The message ends at the first newline: the dictionary is not in it.
        assert_eq!(m, b"NET: Registered \\ family\n10");
    }

    #[test]
    fn facility_and_level() {
        let (r, _) = kmsg(b"30,1,2,-;x\n", true);
        assert_eq!((r.facility, r.level), (3, 6));
        assert_eq!(r.facility_name(), Some("daemon"));
        let (r, _) = kmsg(b"199,1,2,-;x\n", true);
        assert_eq!((r.facility, r.facility_name()), (24, None));
        // Without priority parsing, both stay unknown.
        let (r, m) = kmsg(b"30,1,2,-;x\n", false);
        assert_eq!((r.facility, r.level, &m[..]), (-1, -1, &b"x"[..]));
    }

    #[test]
    fn minimal_and_empty() {
        let (r, m) = kmsg(b"0,0,0;", true);
        assert_eq!((r.level, r.facility, r.sec, r.usec), (0, 0, 0, 0));
        assert!(m.is_empty() && r.caller().is_empty());
        let (_, m) = kmsg(b"5,7,8,c;\n", true);
        assert!(m.is_empty());
        let mut b = KmsgBuffer::new();
        assert!(b.parse_read(b"", true).unwrap().is_none());
    }

    #[test]
    fn malformed() {
        // Never an error, never a panic: what util-linux makes of them.
        let cases: [(&[u8], i32, i64, &[u8]); 6] = [
            // No ';': the message starts after the timestamp.
            (b"6,1,2,-", 6, 0, b"-"),
            // A priority that is not a number shifts the fields by one.
            (b"x,1,2,-;m\n", -1, 0, b"-;m"),
            (b"6,,2,-;m\n", 6, 0, b"m"),
            // strtoumax takes "-2" as 2^64 - 2 microseconds.
            (b"6,1,-2,-;m\n", 6, 18_446_744_073_709, b"m"),
            // A dictionary line without its space is not in the message.
            (b"6,1,2,-;m\nKEY=no space", 6, 0, b"m"),
            // An out-of-range timestamp is left unparsed: the message
            // starts at the flags.
            (b"6,1,99999999999999999999,-;m\n", 6, 0, b"-;m"),
        ];
        for (raw, level, sec, mesg) in cases {
            let (r, m) = kmsg(raw, true);
            assert_eq!(
                (r.level, r.sec, &m[..]),
                (level, sec, mesg),
                "{:?}",
                String::from_utf8_lossy(raw)
            );
        }
        // Records too large for the buffer are errors.
        let mut b = KmsgBuffer::new();
        let big = vec![b'x'; KMSG_BUFFER_SIZE];
        assert!(b.parse_read(&big, true).is_err());
        assert!(b.parse_stored(&big, true).is_ok());
        assert!(b.parse_stored(&[b'x'; KMSG_BUFFER_SIZE + 1], true).is_err());
    }

    #[test]
    fn escapes() {
        let (_, m) = kmsg(b"6,1,2,-;a\\x41\\x4a\\x4\n", false);
        assert_eq!(m, b"aAJ\\x4");
        let (_, m) = kmsg(b"6,1,2,-;\\xzz\\\\x41\n", false);
        assert_eq!(m, b"\\xzz\\A");
        let (_, m) = kmsg(b"6,1,2,-;\\xC3\\xA9\n", false);
        assert_eq!(m, "\u{e9}".as_bytes());
        // Every byte escaped as the kernel escapes it comes back.
        let mut raw = b"6,1,2,-;".to_vec();
        for c in 1..=255u8 {
            raw.extend_from_slice(format!("\\x{c:02x}").as_bytes());
        }
        raw.push(b'\n');
        let (_, m) = kmsg(&raw, false);
        assert_eq!(m, (1..=255u8).collect::<Vec<u8>>());
    }

    #[test]
    fn kmsg_quirks() {
        // util-linux looks for "caller=" before the first ';' anywhere
        // after the flags, message included.
        let (r, m) = kmsg(b"6,1,2,-;see caller=T9;rest\n", false);
        assert_eq!((r.caller(), &m[..]), (&b"T9"[..], &b"rest"[..]));
        let (r, m) = kmsg(b"6,1,2,-;no caller= here\n", false);
        assert_eq!((r.caller(), &m[..]), (&b""[..], &b"no caller= here"[..]));
        // A second optional field stays in the message.
        let (_, m) = kmsg(b"6,1,2,-,x;msg\n", false);
        assert_eq!(m, b"x;msg");
        // Escapes decode in place, up to the message's end only.
        let (_, m) = kmsg(b"6,1,2,-;a\\x41\\x0ab\\x4\n \\x41\n", false);
        assert_eq!(m, b"aA\nb\\x4");
        // Numbers as strtol reads them: spaces, signs.
        let (r, _) = kmsg(b"6,1, +2000001,-;x\n", false);
        assert_eq!((r.sec, r.usec), (2, 1));
        let (r, _) = kmsg(b" -5,1,2,-;x\n", true);
        // -5 & 0x3f8 is facility 127: out of range.
        assert_eq!((r.facility, r.level), (-1, 3));
    }

    #[test]
    fn stale_buffer_is_read_past_short_records() {
        // As in C, a record without ';' makes the parser read what a
        // previous (longer) record left in the buffer.
        let mut b = KmsgBuffer::new();
        b.parse_stored(b"6,1,2000000,-;first message\n", true)
            .unwrap();
        let r = b.parse_stored(b"3,9", true).unwrap().unwrap();
        // "3,9" + ",2000000,-;first message": 9 is read as the timestamp,
        // and the message runs to the NUL the first parse left.
        assert_eq!((r.level, r.sec, r.usec), (3, 0, 9));
        assert_eq!(r.message(b.bytes()), b"2000000,-;first message");
    }

    #[test]
    fn syslog_records_in_order() {
        let buf = b"<6>[    1.000002] one\n<3>[    2.5] two\nthree\n<4>[  3.000000] [  T7] four\n";
        let got = syslog(buf, true);
        assert_eq!(got.len(), 3);
        assert_eq!(got[0], (6, 0, 1, 2, b"one".to_vec(), vec![]));
        assert_eq!(got[1], (3, 0, 2, 5, b"two\nthree".to_vec(), vec![]));
        assert_eq!(got[2], (4, 0, 3, 0, b"four".to_vec(), b"T7".to_vec()));
    }

    #[test]
    fn full_line() {
        let got = syslog(b"<6>[    1.234567] [    T1] hello: world\n", true);
        assert_eq!(
            got,
            [(6, 0, 1, 234_567, b"hello: world".to_vec(), b"T1".to_vec())]
        );
    }

    #[test]
    fn partial_lines() {
        let got = syslog(b"plain text", true);
        assert_eq!(got, [(-1, -1, 0, 0, b"plain text".to_vec(), vec![])]);
        let got = syslog(b"<30>no time", true);
        assert_eq!(got, [(6, 3, 0, 0, b"no time".to_vec(), vec![])]);
        // Fields that do not parse stay in the message.
        let got = syslog(b"<x>[1.5] m", true);
        assert_eq!(got, [(-1, -1, 0, 0, b"x>[1.5] m".to_vec(), vec![])]);
        let got = syslog(b"[12345.000001] [T1x] m", true);
        assert_eq!(got, [(-1, -1, 12345, 1, b"m".to_vec(), b"T1x".to_vec())]);
    }

    #[test]
    fn iterate() {
        let got = syslog(b"<6>[0.000000] a\n<4>[1.000000] b\n", true);
        assert_eq!(got.len(), 2);
        assert_eq!((got[1].0, &got[1].4[..]), (4, &b"b"[..]));
        // Without priority parsing, `<prio>` is skipped.
        let got = syslog(b"<4>[1.000000] b\n", false);
        assert_eq!((got[0].0, &got[0].4[..]), (-1, &b"b"[..]));
    }
}
