//! The record parsers of util-linux 2.41's dmesg, byte for byte.
//!
//! Well-formed records parse as the library's [`modkit::kmsg`] parsers
//! parse them; these exist because dmesg's output for malformed input
//! (files given with `-K`/`-F`) must match util-linux's too. So they work
//! as its C code does: on a buffer that persists between records (a
//! record without a `;` can make it read the previous record's bytes),
//! with `strtol` number syntax, and with its off-by-one quirks (a `-K`
//! record without a final newline loses its last character).

/// A parsed record: where its message is in the buffer, and its fields.
#[derive(Clone, Copy, Debug)]
pub struct Rec {
    /// Offset of the message in the buffer.
    pub mesg: usize,
    /// Its length.
    pub mesg_size: usize,
    /// Level 0..7, or -1.
    pub level: i32,
    /// Facility, or -1.
    pub facility: i32,
    /// Timestamp seconds.
    pub sec: i64,
    /// Timestamp microseconds (not necessarily below a million).
    pub usec: i64,
    /// The caller id (`T1`), NUL-terminated. C's field has 20 bytes, but
    /// a malformed record can make util-linux copy more, over the rest of
    /// its record structure (40 bytes to its end), which it then prints.
    pub caller: [u8; 40],
}

impl Rec {
    fn new() -> Rec {
        Rec {
            mesg: 0,
            mesg_size: 0,
            level: -1,
            facility: -1,
            sec: 0,
            usec: 0,
            caller: [0; 40],
        }
    }

    /// The caller id as a C string.
    pub fn caller(&self) -> &[u8] {
        let n = self.caller.iter().position(|&b| b == 0).unwrap_or(40);
        &self.caller[..n]
    }
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

#[inline]
fn c_isspace(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')
}

/// `strtol(s, &end, 10)` / `strtoumax`: (value, end, ERANGE). With no
/// digits, `end` is `s` and the value 0.
fn strto(b: &[u8], s: isize, signed: bool) -> (i64, u64, isize, bool) {
    let mut i = s;
    while c_isspace(at(b, i)) {
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
fn parse_faclev(b: &[u8], s: isize, rec: &mut Rec) -> isize {
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
fn copy_caller(b: &[u8], src: isize, n: usize, rec: &mut Rec) {
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
fn parse_callerid(b: &[u8], p: isize, end: isize, rec: &mut Rec) -> isize {
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
pub fn parse_kmsg(b: &mut [u8], sz: usize, faclev: bool) -> Option<Rec> {
    if sz == 0 || b[0] == 0 {
        return None;
    }
    let end = sz as isize - 1;
    let mut rec = Rec::new();
    let mut p: isize = 0;
    while p < end && c_isspace(at(b, p)) {
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
        rec.mesg = b.len().min(mesg.max(0) as usize);
        rec.mesg_size = 0;
        return Some(rec);
    }
    rec.mesg = mesg as usize;
    rec.mesg_size = unhexmangle(b, mesg as usize, len) - 1;
    Some(rec)
}

/// Where the syslog-format parser is (`rec->next`, `rec->next_size`).
#[derive(Clone, Copy, Debug)]
pub struct Cursor {
    next: Option<usize>,
    next_size: usize,
}

impl Cursor {
    /// At the start of a buffer of `size` bytes.
    pub fn new(size: usize) -> Cursor {
        Cursor {
            next: Some(0),
            next_size: size,
        }
    }
}

/// `get_next_syslog_record`: the next record of `<prio>[ts] msg` text.
pub fn next_syslog(b: &[u8], cur: &mut Cursor, faclev: bool) -> Option<Rec> {
    let next = cur.next? as isize;
    if cur.next_size == 0 {
        return None;
    }
    let mut rec = Rec::new();
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
        rec.mesg = mesg.max(0) as usize;
        rec.mesg_size = size;

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
fn parse_syslog_timestamp(b: &[u8], s: isize, rec: &mut Rec) -> isize {
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

    fn kmsg(rec: &[u8], faclev: bool) -> (Rec, Vec<u8>) {
        let mut b = vec![0u8; 2048];
        b[..rec.len()].copy_from_slice(rec);
        let r = parse_kmsg(&mut b, rec.len(), faclev).unwrap();
        let m = b[r.mesg..r.mesg + r.mesg_size].to_vec();
        (r, m)
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
        let mut b = vec![0u8; 2048];
        let first = b"6,1,2000000,-;first message\n";
        b[..first.len()].copy_from_slice(first);
        parse_kmsg(&mut b, first.len(), true).unwrap();
        let second = b"3,9";
        b[..second.len()].copy_from_slice(second);
        let r = parse_kmsg(&mut b, second.len(), true).unwrap();
        // "3,9" + ",2000000,-;first message": 9 is read as the timestamp,
        // and the message runs to the NUL the first parse left.
        assert_eq!((r.level, r.sec, r.usec), (3, 0, 9));
        assert_eq!(&b[r.mesg..r.mesg + r.mesg_size], b"2000000,-;first message");
    }

    #[test]
    fn syslog_records() {
        let buf = b"<6>[    1.000002] one\n<3>[    2.5] two\nthree\n<4>[  3.000000] [  T7] four\n";
        let mut c = Cursor::new(buf.len());
        let mut got = Vec::new();
        while let Some(r) = next_syslog(buf, &mut c, true) {
            got.push((
                r.level,
                r.sec,
                r.usec,
                buf[r.mesg..r.mesg + r.mesg_size].to_vec(),
                r.caller().to_vec(),
            ));
        }
        assert_eq!(got.len(), 3);
        assert_eq!(got[0], (6, 1, 2, b"one".to_vec(), vec![]));
        assert_eq!(got[1], (3, 2, 5, b"two\nthree".to_vec(), vec![]));
        assert_eq!(got[2], (4, 3, 0, b"four".to_vec(), b"T7".to_vec()));
    }
}
