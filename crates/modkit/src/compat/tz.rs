//! Time zones as glibc's `tzset`, `localtime_r` and `mktime` compute
//! them, so that dmesg's dates (`-T`, `--time-format`) and its `--since` /
//! `--until` times match util-linux's to the byte.
//!
//! Time zones follow glibc's `tzset`: `TZ` unset means `/etc/localtime`;
//! `TZ=""` means UTC; otherwise `TZ` (without a leading `:`) names a file,
//! absolute or under `$TZDIR` (default `/usr/share/zoneinfo`), and when no
//! such file can be read it is parsed as a POSIX TZ string
//! (`EST5EDT,M3.2.0,M11.1.0`); a string that does not parse means UTC.
//! TZif files are read as glibc's `__tzfile_read` reads them (any non-zero
//! version byte selects the 64-bit data; the footer rule applies after the
//! last transition). Leap-second ("right/") zones are read without their
//! leap seconds.
//!
//! Why not `jiff` (considered, as issue 10 suggests; or `chrono-tz`,
//! `tz-rs`): they implement RFC 8536 and POSIX, not glibc. jiff's
//! `TimeZone::system()` answers an invalid `TZ` with `Etc/Unknown` (since
//! 0.2.14) where glibc takes UTC, and its POSIX parser rejects what glibc
//! reads leniently (an hour offset above 24 is clamped by glibc, a DST
//! name without rules takes the U.S. rules); on malformed TZif files the
//! crates fail where glibc does not (glibc takes any non-zero version byte
//! for version 2, ignores a footer it cannot parse, and drops the file's
//! last byte from the footer). `mktime`'s choice in a gap or an overlap
//! is glibc's own search, not a library's disambiguation. The code below
//! is what the dmesg conformance tests (two time zones) compare byte for
//! byte with util-linux, so it stays. Why not `libc::localtime_r`:
//! `tzset` is process-global state read from the environment, and a
//! library must hold several zones and test them without touching it.
//!
//! Budgets: a TZif file is read up to [`MAX_TZIF_BYTES`]; every count in
//! it is checked against the bytes left before anything is allocated, so
//! memory is bounded by the file's size; POSIX TZ strings are parsed in
//! one pass; `localtime` is a binary search, `mktime` a fixed number of
//! probes, both refusing years far outside C's `int`.

/// The most of a TZif file that is read (the largest zone in the tz
/// database is under 4 KiB).
pub const MAX_TZIF_BYTES: u64 = 16 << 20;

/// `tm.year` beyond which [`TimeZone::mktime`] refuses: C's `int` years
/// with a margin for out-of-range months and days, small enough that no
/// computation in seconds overflows.
const MAX_YEAR: i64 = 1 << 33;

/// A broken-down time, as C's `struct tm` (months from 0, years from 1900).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Tm {
    /// Seconds (0..60).
    pub sec: i32,
    /// Minutes (0..59).
    pub min: i32,
    /// Hours (0..23).
    pub hour: i32,
    /// Day of the month (1..31).
    pub mday: i32,
    /// Month (0..11).
    pub mon: i32,
    /// Years since 1900.
    pub year: i64,
    /// Day of the week (0 = Sunday).
    pub wday: i32,
    /// Day of the year (0..365).
    pub yday: i32,
    /// Daylight saving time: positive if in effect, 0 if not, negative if
    /// unknown (for [`TimeZone::mktime`]).
    pub isdst: i32,
    /// Offset from UTC in seconds, east positive (`tm_gmtoff`).
    pub gmtoff: i64,
}

/// Days since 1970-01-01 of a proleptic Gregorian date (month 1..12).
pub fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The date of a day number: (year, month 1..12, day 1..31).
pub fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// Whether a (full) year is a leap year.
pub fn is_leap(year: i64) -> bool {
    year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
}

/// Broken-down UTC time of `t` shifted by `off` seconds.
fn breakdown(t: i64, off: i64, isdst: bool) -> Tm {
    let local = t + off;
    let days = local.div_euclid(86_400);
    let secs = local.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    let yday = days - days_from_civil(y, 1, 1);
    Tm {
        sec: (secs % 60) as i32,
        min: (secs / 60 % 60) as i32,
        hour: (secs / 3600) as i32,
        mday: d as i32,
        mon: (m - 1) as i32,
        year: y - 1900,
        wday: (days + 4).rem_euclid(7) as i32,
        yday: yday as i32,
        isdst: i32::from(isdst),
        gmtoff: off,
    }
}

/// `gmtime`: broken-down UTC time.
pub fn gmtime(t: i64) -> Tm {
    breakdown(t, 0, false)
}

/// A local time type: offset east of UTC and whether it is DST.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct LocalType {
    off: i64,
    isdst: bool,
}

/// When a POSIX TZ rule changes: `Jn`, `n` or `Mm.w.d`, at `secs` local time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum RuleDate {
    /// `Jn`: day 1..365, February 29 never counted.
    Julian1(i64),
    /// `n`: day 0..365, February 29 counted.
    Julian0(i64),
    /// `Mm.w.d`: month, week (5 = last), weekday.
    Month(i64, i64, i64),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Rule {
    date: RuleDate,
    secs: i64,
}

/// A parsed POSIX TZ string.
#[derive(Clone, Debug, PartialEq, Eq)]
struct PosixTz {
    std: LocalType,
    /// DST type and its start and end rules.
    dst: Option<(LocalType, Rule, Rule)>,
}

impl PosixTz {
    fn utc() -> PosixTz {
        PosixTz {
            std: LocalType {
                off: 0,
                isdst: false,
            },
            dst: None,
        }
    }

    /// glibc's `compute_change`: when a rule fires in `year`, in UTC.
    fn change(rule: &Rule, year: i64, off: i64) -> i64 {
        let year_start = days_from_civil(year, 1, 1) * 86_400;
        let leap = is_leap(year);
        let day = match rule.date {
            RuleDate::Julian1(n) => n - 1 + i64::from(leap && n >= 60),
            RuleDate::Julian0(n) => n,
            RuleDate::Month(m, w, d) => {
                let cum =
                    |month: i64| days_from_civil(year, month, 1) - days_from_civil(year, 1, 1);
                let first = days_from_civil(year, m, 1);
                let dow = (first + 4).rem_euclid(7);
                let mut mday = d - dow;
                if mday < 0 {
                    mday += 7;
                }
                let month_len = if m == 12 { 31 } else { cum(m + 1) - cum(m) };
                for _ in 1..w {
                    if mday + 7 >= month_len {
                        break;
                    }
                    mday += 7;
                }
                cum(m) + mday
            }
        };
        year_start + day * 86_400 + rule.secs - off
    }

    fn local_type(&self, t: i64) -> LocalType {
        let Some((dst, start, end)) = &self.dst else {
            return self.std;
        };
        let year = civil_from_days(t.div_euclid(86_400)).0;
        let on = PosixTz::change(start, year, self.std.off);
        let off = PosixTz::change(end, year, dst.off);
        let isdst = if on > off {
            t < off || t >= on
        } else {
            t >= on && t < off
        };
        if isdst {
            *dst
        } else {
            self.std
        }
    }

    /// Parses a POSIX TZ string as glibc's `__tzset_parse_tz` does; `None`
    /// when not even the standard name and offset parse (glibc then uses
    /// UTC).
    fn parse(s: &[u8]) -> Option<PosixTz> {
        let mut p = s;
        parse_tzname(&mut p)?;
        let std_off = -parse_offset(&mut p)?;
        let std = LocalType {
            off: std_off,
            isdst: false,
        };
        let mut tz = PosixTz { std, dst: None };
        if p.is_empty() || parse_tzname(&mut p).is_none() {
            return Some(tz);
        }
        let dst_off = if !p.is_empty() && p[0] != b',' && p[0] != b';' {
            match parse_offset(&mut p) {
                Some(o) => -o,
                None => std_off + 3600,
            }
        } else {
            std_off + 3600
        };
        let (Some(start), Some(end)) = (parse_rule(&mut p, true), parse_rule(&mut p, false)) else {
            return Some(tz);
        };
        tz.dst = Some((
            LocalType {
                off: dst_off,
                isdst: true,
            },
            start,
            end,
        ));
        Some(tz)
    }
}

fn parse_tzname(p: &mut &[u8]) -> Option<()> {
    let alpha = p.iter().take_while(|c| c.is_ascii_alphabetic()).count();
    if alpha >= 3 {
        *p = &p[alpha..];
        return Some(());
    }
    if p.first() == Some(&b'<') {
        let inner = p[1..]
            .iter()
            .take_while(|&&c| c.is_ascii_alphanumeric() || c == b'+' || c == b'-')
            .count();
        if inner >= 3 && p.get(1 + inner) == Some(&b'>') {
            *p = &p[inner + 2..];
            return Some(());
        }
    }
    None
}

/// `[+-]hh[:mm[:ss]]` as seconds (positive west, as written).
fn parse_hms(p: &mut &[u8], max_hours: i64) -> Option<i64> {
    let mut sign = 1;
    if let Some(&c) = p.first() {
        if c == b'+' || c == b'-' {
            if c == b'-' {
                sign = -1;
            }
            *p = &p[1..];
        }
    }
    let mut parts = [0i64; 3];
    for (i, part) in parts.iter_mut().enumerate() {
        if i > 0 {
            if p.first() != Some(&b':') || !p.get(1).is_some_and(u8::is_ascii_digit) {
                break;
            }
            *p = &p[1..];
        }
        let n = p.iter().take_while(|c| c.is_ascii_digit()).count();
        if n == 0 {
            return None;
        }
        *part = std::str::from_utf8(&p[..n]).ok()?.parse().ok()?;
        *p = &p[n..];
    }
    let h = parts[0].min(max_hours);
    Some(sign * (h * 3600 + parts[1].min(59) * 60 + parts[2].min(59)))
}

fn parse_offset(p: &mut &[u8]) -> Option<i64> {
    match p.first() {
        Some(&c) if c == b'+' || c == b'-' || c.is_ascii_digit() => parse_hms(p, 24),
        _ => None,
    }
}

fn parse_rule(p: &mut &[u8], first: bool) -> Option<Rule> {
    if p.first() == Some(&b',') {
        *p = &p[1..];
    }
    let number = |p: &mut &[u8]| -> Option<i64> {
        let n = p.iter().take_while(|c| c.is_ascii_digit()).count();
        if n == 0 {
            return None;
        }
        let v = std::str::from_utf8(&p[..n]).ok()?.parse().ok()?;
        *p = &p[n..];
        Some(v)
    };
    let date = match p.first() {
        Some(b'J') => {
            *p = &p[1..];
            let n = number(p)?;
            if !(1..=365).contains(&n) {
                return None;
            }
            RuleDate::Julian1(n)
        }
        Some(c) if c.is_ascii_digit() => {
            let n = number(p)?;
            if n > 365 {
                return None;
            }
            RuleDate::Julian0(n)
        }
        Some(b'M') => {
            *p = &p[1..];
            let m = number(p)?;
            if p.first() != Some(&b'.') {
                return None;
            }
            *p = &p[1..];
            let w = number(p)?;
            if p.first() != Some(&b'.') {
                return None;
            }
            *p = &p[1..];
            let d = number(p)?;
            if !(1..=12).contains(&m) || !(1..=5).contains(&w) || d > 6 {
                return None;
            }
            RuleDate::Month(m, w, d)
        }
        None => {
            // The U.S. rules, glibc's default when a DST name has no rule.
            return Some(Rule {
                date: if first {
                    RuleDate::Month(3, 2, 0)
                } else {
                    RuleDate::Month(11, 1, 0)
                },
                secs: 7200,
            });
        }
        _ => return None,
    };
    let secs = if p.first() == Some(&b'/') {
        *p = &p[1..];
        parse_hms(p, 167)?
    } else {
        7200
    };
    Some(Rule { date, secs })
}

/// A time zone: TZif transitions and/or a POSIX TZ rule.
#[derive(Clone, Debug)]
pub struct TimeZone {
    transitions: Vec<i64>,
    /// Local type after each transition.
    type_idx: Vec<u8>,
    types: Vec<LocalType>,
    /// Rule for times after the last transition (the TZif footer), or the
    /// whole zone when not from a file.
    rule: Option<PosixTz>,
}

impl TimeZone {
    /// UTC.
    pub fn utc() -> TimeZone {
        TimeZone {
            transitions: Vec::new(),
            type_idx: Vec::new(),
            types: Vec::new(),
            rule: Some(PosixTz::utc()),
        }
    }

    /// The zone glibc's `tzset` selects from the `TZ` environment variable.
    pub fn from_env() -> TimeZone {
        let tz = std::env::var_os("TZ").map(|v| v.into_encoded_bytes());
        TimeZone::from_tz(tz.as_deref())
    }

    /// The zone for a given value of `TZ` (`None`: unset).
    pub fn from_tz(tz: Option<&[u8]>) -> TimeZone {
        let spec: &[u8] = match tz {
            None => b"/etc/localtime",
            Some(b"") => b"Universal",
            Some(v) => v.strip_prefix(b":").unwrap_or(v),
        };
        if let Some(zone) = TimeZone::from_file_spec(spec) {
            return zone;
        }
        match PosixTz::parse(spec) {
            Some(rule) => TimeZone {
                transitions: Vec::new(),
                type_idx: Vec::new(),
                types: Vec::new(),
                rule: Some(rule),
            },
            None => TimeZone::utc(),
        }
    }

    fn from_file_spec(spec: &[u8]) -> Option<TimeZone> {
        use std::io::Read;
        use std::os::unix::ffi::OsStrExt;
        if spec.is_empty() {
            return None;
        }
        let path = if spec[0] == b'/' {
            std::path::PathBuf::from(std::ffi::OsStr::from_bytes(spec))
        } else {
            // glibc refuses relative names that climb out of TZDIR.
            if spec.windows(3).any(|w| w == b"../") {
                return None;
            }
            let dir = std::env::var_os("TZDIR")
                .filter(|d| !d.is_empty())
                .unwrap_or_else(|| "/usr/share/zoneinfo".into());
            std::path::Path::new(&dir).join(std::ffi::OsStr::from_bytes(spec))
        };
        // A TZif file is a few kilobytes; a larger one (or a device such
        // as /dev/zero) is read no further than the budget.
        let mut data = Vec::new();
        std::fs::File::open(path)
            .ok()?
            .take(MAX_TZIF_BYTES)
            .read_to_end(&mut data)
            .ok()?;
        TimeZone::from_tzif(&data)
    }

    /// Reads a TZif file as glibc's `__tzfile_read` does: a non-zero
    /// version byte means the 64-bit data after the version 1 data is used,
    /// with the footer's POSIX TZ rule for times after the last transition;
    /// `None` where glibc gives up on the file (bad magic, counts that do
    /// not fit the file, a type index or DST flag out of range, fewer than
    /// two bytes after the 64-bit data), after
    /// which the `TZ` value is read as a POSIX TZ string. Every count is
    /// checked against the bytes left in the file before anything is
    /// allocated.
    pub fn from_tzif(data: &[u8]) -> Option<TimeZone> {
        /// A header's counts, in the file's order after the 20-byte magic
        /// and version: `isut`, `isstd`, `leap`, `time`, `type`, `char`.
        struct Header {
            isut: u64,
            isstd: u64,
            leap: u64,
            time: u64,
            types: u64,
            chars: u64,
        }
        impl Header {
            /// Bytes of data after the header, with `tsize`-byte times.
            fn data_len(&self, tsize: u64) -> u64 {
                // Counts are below 2^32, so no sum overflows 64 bits.
                self.time * (tsize + 1)
                    + self.types * 6
                    + self.chars
                    + self.leap * (tsize + 4)
                    + self.isstd
                    + self.isut
            }
        }
        let be32 = |at: usize| -> Option<u32> {
            let b = data.get(at..at.checked_add(4)?)?;
            Some(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
        };
        let header = |at: usize| -> Option<Header> {
            if data.get(at..at.checked_add(4)?)? != b"TZif" {
                return None;
            }
            let c = |i: usize| be32(at + 20 + 4 * i).map(u64::from);
            let h = Header {
                isut: c(0)?,
                isstd: c(1)?,
                leap: c(2)?,
                time: c(3)?,
                types: c(4)?,
                chars: c(5)?,
            };
            // glibc: more standard/UT indicators than types is bogus.
            (h.isstd <= h.types && h.isut <= h.types).then_some(h)
        };
        let h1 = header(0)?;
        let wide = *data.get(4)? != 0;
        let (h, at) = if wide {
            let at2 = usize::try_from(44 + h1.data_len(4)).ok()?;
            (header(at2)?, at2.checked_add(44)?)
        } else {
            (h1, 44)
        };
        let tsize: u64 = if wide { 8 } else { 4 };
        let left = data.len().checked_sub(at)?;
        if h.data_len(tsize) > left as u64 {
            return None;
        }
        // From here every count times its record size fits in the file.
        let (time, ntypes) = (h.time as usize, h.types as usize);
        let tsize = tsize as usize;
        let mut pos = at;
        let transitions: Vec<i64> = data[pos..pos + time * tsize]
            .chunks_exact(tsize)
            .map(|b| match *b {
                [a, b, c, d] => i64::from(i32::from_be_bytes([a, b, c, d])),
                _ => {
                    let mut w = [0u8; 8];
                    w.copy_from_slice(b);
                    i64::from_be_bytes(w)
                }
            })
            .collect();
        pos += time * tsize;
        let type_idx = data[pos..pos + time].to_vec();
        pos += time;
        let mut types = Vec::with_capacity(ntypes);
        for b in data[pos..pos + ntypes * 6].chunks_exact(6) {
            // glibc: a DST flag other than 0 or 1, or an abbreviation
            // index past the abbreviations, is bogus.
            if b[4] > 1 || u64::from(b[5]) > h.chars {
                return None;
            }
            types.push(LocalType {
                off: i64::from(i32::from_be_bytes([b[0], b[1], b[2], b[3]])),
                isdst: b[4] != 0,
            });
        }
        if types.is_empty() || type_idx.iter().any(|&i| usize::from(i) >= types.len()) {
            return None;
        }
        pos = at + h.data_len(tsize as u64) as usize;
        // The footer: glibc wants at least two bytes after the data, takes
        // those from after a newline up to the file's last byte (the
        // closing newline) as a C string, ignores it when empty or not
        // after a newline, and reads one that does not parse as UTC.
        let rule = match &data[pos..] {
            _ if !wide => None,
            [] | [_] => return None,
            [b'\n', footer @ .., _] => {
                let end = footer.iter().position(|&c| c == 0).unwrap_or(footer.len());
                let s = &footer[..end];
                if s.is_empty() {
                    None
                } else {
                    Some(PosixTz::parse(s).unwrap_or_else(PosixTz::utc))
                }
            }
            _ => None,
        };
        Some(TimeZone {
            transitions,
            type_idx,
            types,
            rule,
        })
    }

    fn local_type(&self, t: i64) -> LocalType {
        if self.types.is_empty() {
            return self.rule.as_ref().map_or(
                LocalType {
                    off: 0,
                    isdst: false,
                },
                |r| r.local_type(t),
            );
        }
        let n = self.transitions.len();
        if n == 0 || t < self.transitions[0] {
            return *self
                .types
                .iter()
                .find(|ty| !ty.isdst)
                .unwrap_or(&self.types[0]);
        }
        if t >= self.transitions[n - 1] {
            if let Some(rule) = &self.rule {
                return rule.local_type(t);
            }
            return self.types[usize::from(self.type_idx[n - 1])];
        }
        // At least 1: transitions[0] <= t (in a file whose transitions are
        // out of order, some type, as glibc answers some type).
        let i = self.transitions.partition_point(|&x| x <= t);
        self.types[usize::from(self.type_idx[i.saturating_sub(1)])]
    }

    /// `localtime_r`: the broken-down local time of `t` (seconds since
    /// the Epoch). Times whose year does not fit C's `int` give a zeroed
    /// `Tm` (see [`TimeZone::localtime_checked`]).
    pub fn localtime(&self, t: i64) -> Tm {
        self.localtime_checked(t).unwrap_or_default()
    }

    /// `localtime_r`, `None` where glibc fails with `EOVERFLOW` (the year
    /// does not fit an `int`).
    pub fn localtime_checked(&self, t: i64) -> Option<Tm> {
        // 2^31 years of 365.2425 days, with margin for the offset.
        const LIMIT: i64 = 67_767_976_233_316_800;
        if !(-LIMIT..=LIMIT).contains(&t) {
            return None;
        }
        let ty = self.local_type(t);
        let tm = breakdown(t, ty.off, ty.isdst);
        i32::try_from(tm.year).is_ok().then_some(tm)
    }

    /// `mktime`: the time of a broken-down local time (fields may be out
    /// of range and are normalised, as are the fields of `tm` on return).
    /// With `isdst < 0` the zone decides; in a spring-forward gap the
    /// daylight-saving side is chosen, as glibc does. `None` when glibc
    /// would return -1 (also for a year far outside C's `int`).
    pub fn mktime(&self, tm: &mut Tm) -> Option<i64> {
        // Far outside what a C `int` year holds: glibc's EOVERFLOW.
        if !(-MAX_YEAR..=MAX_YEAR).contains(&tm.year) {
            return None;
        }
        let year = tm.year + 1900 + i64::from(tm.mon).div_euclid(12);
        let mon = i64::from(tm.mon).rem_euclid(12);
        let days = days_from_civil(year, mon + 1, 1) + i64::from(tm.mday) - 1;
        let local =
            days * 86_400 + i64::from(tm.hour) * 3600 + i64::from(tm.min) * 60 + i64::from(tm.sec);
        let valid = |t: i64| {
            let ty = self.local_type(t);
            (t + ty.off == local).then_some((t, ty))
        };
        let t1 = local - self.local_type(local).off;
        let t2 = local - self.local_type(t1).off;
        let mut candidates: Vec<(i64, LocalType)> = Vec::new();
        for t in [t1, t2] {
            if let Some(c) = valid(t) {
                if !candidates.contains(&c) {
                    candidates.push(c);
                }
            }
        }
        // The other side of an overlap, for an explicit isdst.
        for probe in [local - 86_400 * 2, local + 86_400 * 2] {
            let off = self.local_type(probe - self.local_type(probe).off).off;
            if let Some(c) = valid(local - off) {
                if !candidates.contains(&c) {
                    candidates.push(c);
                }
            }
        }
        let chosen = if candidates.is_empty() {
            // A gap: glibc ends between t1 and t2 and takes the DST one.
            let (a, b) = (self.local_type(t1), self.local_type(t2));
            match (a.isdst, b.isdst) {
                (true, false) => t1,
                (false, true) => t2,
                _ => return None,
            }
        } else if tm.isdst >= 0 {
            let want = tm.isdst > 0;
            candidates
                .iter()
                .find(|(_, ty)| ty.isdst == want)
                .unwrap_or(&candidates[0])
                .0
        } else {
            candidates[0].0
        };
        *tm = self.localtime_checked(chosen)?;
        Some(chosen)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ny() -> TimeZone {
        TimeZone::from_tz(Some(b"EST5EDT,M3.2.0,M11.1.0"))
    }

    #[test]
    fn civil_round_trip() {
        for d in [-800_000, -1, 0, 1, 59, 365, 10_957, 20_000, 2_932_896] {
            let (y, m, dd) = civil_from_days(d);
            assert_eq!(days_from_civil(y, m, dd), d);
        }
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(days_from_civil(2000, 3, 1), 11_017);
    }

    #[test]
    fn utc_breakdown() {
        let tm = gmtime(1_234_567_890);
        assert_eq!(
            (tm.year, tm.mon, tm.mday, tm.hour, tm.min, tm.sec, tm.wday, tm.yday),
            (109, 1, 13, 23, 31, 30, 5, 43)
        );
        let tm = gmtime(-1);
        assert_eq!(
            (tm.year, tm.mon, tm.mday, tm.hour, tm.wday),
            (69, 11, 31, 23, 3)
        );
    }

    #[test]
    fn posix_rules_new_york() {
        let z = ny();
        // 2024-03-10 06:59:59Z is 01:59:59 EST; a second later 03:00 EDT.
        let t = 1_710_053_999;
        let a = z.localtime(t);
        let b = z.localtime(t + 1);
        assert_eq!((a.hour, a.min, a.isdst, a.gmtoff), (1, 59, 0, -18_000));
        assert_eq!((b.hour, b.min, b.isdst, b.gmtoff), (3, 0, 1, -14_400));
        // 2024-11-03 05:59:59Z is 01:59:59 EDT, then 01:00 EST.
        let t = 1_730_613_599;
        assert_eq!(z.localtime(t).isdst, 1);
        assert_eq!(z.localtime(t + 1).hour, 1);
        assert_eq!(z.localtime(t + 1).isdst, 0);
    }

    #[test]
    fn mktime_round_trips_and_normalises() {
        let z = ny();
        for t in [
            0,
            1_700_000_000,
            1_710_053_999,
            1_710_054_000,
            1_730_613_599,
        ] {
            let mut tm = z.localtime(t);
            tm.isdst = -1;
            let got = z.mktime(&mut tm).unwrap();
            assert!(got == t || z.localtime(got).hour == z.localtime(t).hour);
        }
        // March 0 is the last day of February.
        let mut tm = Tm {
            year: 124,
            mon: 2,
            mday: 0,
            hour: 12,
            isdst: -1,
            ..Tm::default()
        };
        z.mktime(&mut tm).unwrap();
        assert_eq!((tm.mon, tm.mday), (1, 29));
        // 02:30 on the spring-forward day becomes 03:30 EDT.
        let mut tm = Tm {
            year: 124,
            mon: 2,
            mday: 10,
            hour: 2,
            min: 30,
            isdst: -1,
            ..Tm::default()
        };
        let t = z.mktime(&mut tm).unwrap();
        assert_eq!((tm.hour, tm.min, tm.isdst), (3, 30, 1));
        assert_eq!(t, 1_710_055_800);
    }

    #[test]
    fn tz_strings() {
        let z = TimeZone::from_tz(Some(b"<+0330>-3:30"));
        assert_eq!(z.localtime(0).gmtoff, 12_600);
        let z = TimeZone::from_tz(Some(b"XYZ"));
        assert_eq!(z.localtime(0).gmtoff, 0);
        let z = TimeZone::from_tz(Some(b"AB-1"));
        assert_eq!(z.localtime(0).gmtoff, 0);
        let z = TimeZone::from_tz(Some(b"CET-1CEST,M3.5.0,M10.5.0/3"));
        assert_eq!(z.localtime(1_719_835_200).gmtoff, 7200); // July
        assert_eq!(z.localtime(1_704_110_400).gmtoff, 3600); // January
    }

    #[test]
    fn tzif_files_when_present() {
        let Ok(data) = std::fs::read("/usr/share/zoneinfo/America/New_York") else {
            return;
        };
        let z = TimeZone::from_tzif(&data).unwrap();
        for t in [0, 1_000_000_000, 1_710_054_000, 2_500_000_000] {
            let tm = z.localtime(t);
            assert_eq!(tm.gmtoff, ny().localtime(t).gmtoff, "t={t}");
        }
    }
}
