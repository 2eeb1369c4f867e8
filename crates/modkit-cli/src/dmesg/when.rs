//! Dates for dmesg: the C locale's `strftime` formats it prints, and
//! util-linux's `ul_parse_timestamp` for `--since`/`--until` (glibc's
//! `strptime` formats, relative times, `@epoch`).

use modkit::compat::ctype::isspace;
use modkit::compat::tz::{TimeZone, Tm};

const DAYS: [&str; 7] = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

fn two(out: &mut Vec<u8>, v: i32, pad: u8) {
    if (0..10).contains(&v) {
        out.push(pad);
        out.push(b'0' + v as u8);
    } else if (10..100).contains(&v) {
        out.push(b'0' + (v / 10) as u8);
        out.push(b'0' + (v % 10) as u8);
    } else {
        out.extend_from_slice(v.to_string().as_bytes());
    }
}

fn name<'a>(table: &'a [&'a str], i: i32) -> &'a str {
    usize::try_from(i)
        .ok()
        .and_then(|i| table.get(i))
        .copied()
        .unwrap_or("?")
}

/// `strftime("%a %b %e %H:%M:%S %Y")` in the C locale.
pub fn ctime(out: &mut Vec<u8>, tm: &Tm) {
    out.extend_from_slice(name(&DAYS, tm.wday).as_bytes());
    out.push(b' ');
    out.extend_from_slice(name(&MONTHS, tm.mon).as_bytes());
    out.push(b' ');
    two(out, tm.mday, b' ');
    out.push(b' ');
    two(out, tm.hour, b'0');
    out.push(b':');
    two(out, tm.min, b'0');
    out.push(b':');
    two(out, tm.sec, b'0');
    out.push(b' ');
    push_int(out, tm.year + 1900);
}

/// A decimal number, without allocating.
fn push_int(out: &mut Vec<u8>, v: i64) {
    let mut tmp = [0u8; 20];
    let mut i = tmp.len();
    let mut n = v.unsigned_abs();
    loop {
        i -= 1;
        tmp[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    if v < 0 {
        out.push(b'-');
    }
    out.extend_from_slice(&tmp[i..]);
}

/// `strftime("%b%e %H:%M")` in the C locale.
pub fn short_ctime(out: &mut Vec<u8>, tm: &Tm) {
    out.extend_from_slice(name(&MONTHS, tm.mon).as_bytes());
    two(out, tm.mday, b' ');
    out.push(b' ');
    two(out, tm.hour, b'0');
    out.push(b':');
    two(out, tm.min, b'0');
}

/// util-linux's ISO 8601 timestamp with microseconds and a comma:
/// `2024-01-02T03:04:05,123456+01:00`.
pub fn iso(out: &mut Vec<u8>, tm: &Tm, usec: u32) {
    let year = tm.year + 1900;
    let y = year.to_string();
    for _ in y.len()..4 {
        out.push(b' ');
    }
    out.extend_from_slice(y.as_bytes());
    out.push(b'-');
    two(out, tm.mon + 1, b'0');
    out.push(b'-');
    two(out, tm.mday, b'0');
    out.push(b'T');
    two(out, tm.hour, b'0');
    out.push(b':');
    two(out, tm.min, b'0');
    out.push(b':');
    two(out, tm.sec, b'0');
    out.push(b',');
    out.extend_from_slice(format!("{usec:06}").as_bytes());
    // glibc's tm_gmtoff; C's truncating division (so -00:30 prints as
    // +00:30, as util-linux does).
    let tmin = tm.gmtoff / 60;
    let zhour = tmin / 60;
    let zmin = (tmin % 60).abs();
    out.extend_from_slice(format!("{zhour:+03}:{zmin:02}").as_bytes());
}

const USEC_PER_SEC: u64 = 1_000_000;
const USEC_PER_MINUTE: u64 = 60 * USEC_PER_SEC;
const USEC_PER_HOUR: u64 = 60 * USEC_PER_MINUTE;
const USEC_PER_DAY: u64 = 24 * USEC_PER_HOUR;
const USEC_PER_WEEK: u64 = 7 * USEC_PER_DAY;
const USEC_PER_MONTH: u64 = 2_629_800 * USEC_PER_SEC;
const USEC_PER_YEAR: u64 = 31_557_600 * USEC_PER_SEC;

fn is_ws(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\n' | b'\r')
}

/// C's `strtoll(s, &end, 10)`: (value, bytes consumed, overflowed).
fn strtoll(s: &[u8]) -> (i64, usize, bool) {
    let p = modkit::compat::strtol::strtol(s, 10);
    (p.value, p.end, p.overflow)
}

/// util-linux's `parse_sec`: `5min 3s`, `1.5h`... in microseconds.
fn parse_sec(t: &[u8]) -> Option<u64> {
    const TABLE: &[(&str, u64)] = &[
        ("seconds", USEC_PER_SEC),
        ("second", USEC_PER_SEC),
        ("sec", USEC_PER_SEC),
        ("s", USEC_PER_SEC),
        ("minutes", USEC_PER_MINUTE),
        ("minute", USEC_PER_MINUTE),
        ("min", USEC_PER_MINUTE),
        ("months", USEC_PER_MONTH),
        ("month", USEC_PER_MONTH),
        ("msec", 1000),
        ("ms", 1000),
        ("m", USEC_PER_MINUTE),
        ("hours", USEC_PER_HOUR),
        ("hour", USEC_PER_HOUR),
        ("hr", USEC_PER_HOUR),
        ("h", USEC_PER_HOUR),
        ("days", USEC_PER_DAY),
        ("day", USEC_PER_DAY),
        ("d", USEC_PER_DAY),
        ("weeks", USEC_PER_WEEK),
        ("week", USEC_PER_WEEK),
        ("w", USEC_PER_WEEK),
        ("years", USEC_PER_YEAR),
        ("year", USEC_PER_YEAR),
        ("y", USEC_PER_YEAR),
        ("usec", 1),
        ("us", 1),
        ("", USEC_PER_SEC),
    ];
    let mut p = 0;
    let mut r: u64 = 0;
    let mut something = false;
    loop {
        while p < t.len() && is_ws(t[p]) {
            p += 1;
        }
        if p >= t.len() {
            return something.then_some(r);
        }
        let (l, used, over) = strtoll(&t[p..]);
        if over || l < 0 {
            return None;
        }
        let mut e = p + used;
        let mut z: i64 = 0;
        let mut n = 0;
        if t.get(e) == Some(&b'.') {
            let b = e + 1;
            let (zz, zused, zover) = strtoll(&t[b..]);
            if zover || zz < 0 || zused == 0 {
                return None;
            }
            z = zz;
            e = b + zused;
            n = zused;
        } else if used == 0 {
            return None;
        }
        while e < t.len() && is_ws(t[e]) {
            e += 1;
        }
        let (suffix, mult) = TABLE
            .iter()
            .find(|(s, _)| t[e..].starts_with(s.as_bytes()))?;
        let mut k = (z as u64).wrapping_mul(*mult);
        for _ in 0..n {
            k /= 10;
        }
        r = r
            .wrapping_add((l as u64).wrapping_mul(*mult))
            .wrapping_add(k);
        p = e + suffix.len();
        something = true;
    }
}

/// `.123456` or `,12` after a time: microseconds (at most six digits).
fn parse_subseconds(t: &[u8]) -> Option<u64> {
    if t.first() != Some(&b'.') && t.first() != Some(&b',') {
        return None;
    }
    let mut ret = 0;
    let mut factor = USEC_PER_SEC / 10;
    for &c in &t[1..] {
        if !c.is_ascii_digit() || factor < 1 {
            return None;
        }
        ret += u64::from(c - b'0') * factor;
        factor /= 10;
    }
    Some(ret)
}

/// glibc's `strptime` for the numeric conversions util-linux uses
/// (`%y %Y %m %d %H %M %S`, literal characters, white space). Returns the
/// bytes consumed.
fn strptime(s: &[u8], fmt: &[u8], tm: &mut Tm) -> Option<usize> {
    let mut rp = 0;
    let mut f = 0;
    let get = |rp: &mut usize, from: i64, to: i64, digits: usize| -> Option<i64> {
        while *rp < s.len() && isspace(s[*rp]) {
            *rp += 1;
        }
        if *rp >= s.len() || !s[*rp].is_ascii_digit() {
            return None;
        }
        let mut val: i64 = 0;
        let mut left = digits;
        loop {
            val = val * 10 + i64::from(s[*rp] - b'0');
            *rp += 1;
            left -= 1;
            if left == 0 || val * 10 > to || *rp >= s.len() || !s[*rp].is_ascii_digit() {
                break;
            }
        }
        (from..=to).contains(&val).then_some(val)
    };
    while f < fmt.len() {
        let c = fmt[f];
        if isspace(c) {
            while rp < s.len() && isspace(s[rp]) {
                rp += 1;
            }
            f += 1;
            continue;
        }
        if c != b'%' {
            if s.get(rp) != Some(&c) {
                return None;
            }
            rp += 1;
            f += 1;
            continue;
        }
        let conv = fmt[f + 1];
        f += 2;
        match conv {
            b'y' => {
                let v = get(&mut rp, 0, 99, 2)?;
                tm.year = if v >= 69 { v } else { v + 100 };
            }
            b'Y' => tm.year = get(&mut rp, 0, 9999, 4)? - 1900,
            b'm' => tm.mon = get(&mut rp, 1, 12, 2)? as i32 - 1,
            b'd' => tm.mday = get(&mut rp, 1, 31, 2)? as i32,
            b'H' => tm.hour = get(&mut rp, 0, 23, 2)? as i32,
            b'M' => tm.min = get(&mut rp, 0, 59, 2)? as i32,
            b'S' => tm.sec = get(&mut rp, 0, 61, 2)? as i32,
            _ => return None,
        }
    }
    Some(rp)
}

/// util-linux's `ul_parse_timestamp`: microseconds since the Epoch, or
/// `None` when the text is not a time ("invalid time value").
pub fn parse_timestamp(t: &[u8], tz: &TimeZone, now: i64) -> Option<u64> {
    const DAY_NAMES: &[(&str, i32)] = &[
        ("Sunday", 0),
        ("Sun", 0),
        ("Monday", 1),
        ("Mon", 1),
        ("Tuesday", 2),
        ("Tue", 2),
        ("Wednesday", 3),
        ("Wed", 3),
        ("Thursday", 4),
        ("Thu", 4),
        ("Friday", 5),
        ("Fri", 5),
        ("Saturday", 6),
        ("Sat", 6),
    ];
    let mut tm = tz.localtime(now);
    tm.isdst = -1;
    let mut plus = 0u64;
    let mut minus = 0u64;
    let mut ret = 0u64;
    let mut weekday = -1;

    let finish = |mut tm: Tm, ret: u64, plus: u64, minus: u64, weekday: i32| -> Option<u64> {
        let x = tz.mktime(&mut tm)?;
        if x == -1 {
            return None;
        }
        if weekday >= 0 && tm.wday != weekday {
            return None;
        }
        let ret = ret.wrapping_add((x as u64).wrapping_mul(USEC_PER_SEC));
        if minus > ret {
            return None;
        }
        let sum = ret.wrapping_add(plus);
        if sum < ret {
            return None;
        }
        Some(sum - minus)
    };

    match t {
        b"now" => return finish(tm, ret, plus, minus, weekday),
        b"today" | b"yesterday" | b"tomorrow" => {
            if t == b"yesterday" {
                tm.mday -= 1;
            } else if t == b"tomorrow" {
                tm.mday += 1;
            }
            tm.sec = 0;
            tm.min = 0;
            tm.hour = 0;
            return finish(tm, ret, plus, minus, weekday);
        }
        _ => {}
    }
    if let Some(rest) = t.strip_prefix(b"+") {
        plus = parse_sec(rest)?;
        return finish(tm, ret, plus, minus, weekday);
    }
    if let Some(rest) = t.strip_prefix(b"-") {
        minus = parse_sec(rest)?;
        return finish(tm, ret, plus, minus, weekday);
    }
    if let Some(rest) = t.strip_prefix(b"@") {
        // sscanf("%"SCNd64"%n"): optional space and sign, then digits.
        let (secs, used, over) = strtoll(rest);
        if used == 0 {
            return None;
        }
        if over {
            return None; // sscanf saturates; localtime then fails
        }
        tm = tz.localtime_checked(secs)?;
        let k = &rest[used..];
        if k.is_empty() {
            return finish(tm, ret, plus, minus, weekday);
        }
        ret = parse_subseconds(k)?;
        return finish(tm, ret, plus, minus, weekday);
    }
    if let Some(rest) = t.strip_suffix(b" ago") {
        minus = parse_sec(rest)?;
        return finish(tm, ret, plus, minus, weekday);
    }

    let mut t = t;
    for (name, nr) in DAY_NAMES {
        let n = name.len();
        if t.len() >= n && t[..n].eq_ignore_ascii_case(name.as_bytes()) && t.get(n) == Some(&b' ') {
            weekday = *nr;
            t = &t[n + 1..];
            break;
        }
    }

    // Formats with optional subseconds, then those without.
    let formats: &[(&[u8], bool, u8)] = &[
        (b"%y-%m-%d %H:%M:%S", true, 0),
        (b"%Y-%m-%d %H:%M:%S", true, 0),
        (b"%Y-%m-%dT%H:%M:%S", true, 0),
        (b"%y-%m-%d %H:%M", false, 1),
        (b"%Y-%m-%d %H:%M", false, 1),
        (b"%y-%m-%d", false, 2),
        (b"%Y-%m-%d", false, 2),
        (b"%H:%M:%S", true, 0),
        (b"%H:%M", false, 1),
        (b"%Y%m%d%H%M%S", true, 0),
    ];
    let copy = tm;
    for &(fmt, subsec, zero) in formats {
        let mut cand = copy;
        let Some(used) = strptime(t, fmt, &mut cand) else {
            continue;
        };
        let k = &t[used..];
        if k.is_empty() {
            if zero >= 1 {
                cand.sec = 0;
            }
            if zero >= 2 {
                cand.min = 0;
                cand.hour = 0;
            }
            return finish(cand, ret, plus, minus, weekday);
        }
        if subsec {
            if let Some(us) = parse_subseconds(k) {
                ret = us;
                return finish(cand, ret, plus, minus, weekday);
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats() {
        let tz = TimeZone::utc();
        let tm = tz.localtime(1_234_567_890);
        let mut v = Vec::new();
        ctime(&mut v, &tm);
        assert_eq!(v, b"Fri Feb 13 23:31:30 2009");
        v.clear();
        short_ctime(&mut v, &tz.localtime(1_230_800_000));
        assert_eq!(v, b"Jan 1 08:53");
        v.clear();
        iso(&mut v, &tm, 42);
        assert_eq!(v, b"2009-02-13T23:31:30,000042+00:00");
        let ny = TimeZone::from_tz(Some(b"EST5EDT,M3.2.0,M11.1.0"));
        v.clear();
        iso(&mut v, &ny.localtime(1_234_567_890), 0);
        assert_eq!(v, b"2009-02-13T18:31:30,000000-05:00");
    }

    #[test]
    fn relative_and_absolute() {
        let tz = TimeZone::utc();
        let now = 1_700_000_000;
        let s = |t: &str| parse_timestamp(t.as_bytes(), &tz, now);
        assert_eq!(s("now"), Some(now as u64 * 1_000_000));
        assert_eq!(s("-5min"), Some((now as u64 - 300) * 1_000_000));
        assert_eq!(s("+1h 30s"), Some((now as u64 + 3630) * 1_000_000));
        assert_eq!(s("1.5h ago"), Some((now as u64 - 5400) * 1_000_000));
        assert_eq!(s("@1234567890.5"), Some(1_234_567_890_500_000));
        assert_eq!(s("2009-02-13 23:31:30"), Some(1_234_567_890_000_000));
        assert_eq!(s("2009-02-13T23:31:30,25"), Some(1_234_567_890_250_000));
        assert_eq!(s("09-02-13 23:31"), Some(1_234_567_860_000_000));
        assert_eq!(s("20090213233130"), Some(1_234_567_890_000_000));
        assert_eq!(s("Fri 2009-02-13"), Some(1_234_483_200_000_000));
        assert_eq!(s("Sat 2009-02-13"), None);
        assert_eq!(s("today"), Some(1_699_920_000_000_000));
        assert_eq!(s("yesterday"), Some(1_699_833_600_000_000));
        assert_eq!(s("bogus"), None);
        assert_eq!(s(""), None);
        assert_eq!(s("-"), None);
        assert_eq!(s("2009-02-13 23:31:30.1234567"), None);
    }
}
