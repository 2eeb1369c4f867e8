//! One `/dev/kmsg` record, as the kernel formats it (see the kernel's
//! `Documentation/ABI/testing/dev-kmsg`):
//!
//! ```text
//! 6,339,5140900,-,caller=T1;NET: Registered protocol family 10\n
//!  SUBSYSTEM=net\n
//!  DEVICE=+net:lo\n
//! ```
//!
//! A prefix of comma-separated fields (priority, sequence number,
//! timestamp in microseconds, flags, then optional fields such as
//! `caller=`), a `;`, the message up to the first newline, then
//! dictionary lines each starting with a space. Non-printable bytes of the
//! message and dictionary, and backslashes, are escaped as `\xNN`.

use crate::error::{Error, Result};

use super::{facility_of, level_of, FACILITIES, LEVELS};

/// A parsed record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Record {
    /// The syslog priority value: facility << 3 | level.
    pub prio: u32,
    /// The record's sequence number.
    pub seq: u64,
    /// Time since boot in microseconds (`CLOCK_BOOTTIME` on recent kernels,
    /// monotonic before 5.x).
    pub ts_usec: u64,
    /// The flags field: `-`, or `c` (continued) / `+` (continuation) on
    /// old kernels.
    pub flags: Vec<u8>,
    /// Further prefix fields, such as `caller=T123`, in order.
    pub fields: Vec<Vec<u8>>,
    /// The message text, unescaped.
    pub message: Vec<u8>,
    /// The dictionary (`SUBSYSTEM=`, `DEVICE=`...), unescaped, in order.
    pub dict: Vec<(Vec<u8>, Vec<u8>)>,
}

fn number(field: &[u8], what: &str) -> Result<u64> {
    if field.is_empty() || !field.iter().all(u8::is_ascii_digit) {
        return Err(Error::invalid(format!(
            "kmsg record: bad {what} field '{}'",
            String::from_utf8_lossy(field)
        )));
    }
    std::str::from_utf8(field)
        .ok()
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| Error::invalid(format!("kmsg record: {what} out of range")))
}

impl Record {
    /// Parses one record as `read(2)` returns it from `/dev/kmsg` (with or
    /// without its final newline).
    pub fn parse(raw: &[u8]) -> Result<Record> {
        let semi = raw
            .iter()
            .position(|&b| b == b';')
            .ok_or_else(|| Error::invalid("kmsg record: no ';' after the prefix"))?;
        let prefix = &raw[..semi];
        if prefix.contains(&b'\n') {
            return Err(Error::invalid("kmsg record: newline in the prefix"));
        }
        let mut fields = prefix.split(|&b| b == b',');
        let prio = number(fields.next().unwrap_or_default(), "priority")?;
        let prio = u32::try_from(prio)
            .map_err(|_| Error::invalid("kmsg record: priority out of range"))?;
        let seq = number(fields.next().unwrap_or_default(), "sequence")?;
        let ts_usec = number(fields.next().unwrap_or_default(), "timestamp")?;
        let flags = fields.next().unwrap_or_default().to_vec();
        let rest_fields = fields.map(<[u8]>::to_vec).collect();

        let body = &raw[semi + 1..];
        let mut lines = body.split(|&b| b == b'\n');
        let message = unescape(lines.next().unwrap_or_default());
        let mut dict = Vec::new();
        for line in lines {
            if line.is_empty() {
                continue;
            }
            let Some(entry) = line.strip_prefix(b" ") else {
                return Err(Error::invalid(
                    "kmsg record: dictionary line without a leading space",
                ));
            };
            let (key, value) = match entry.iter().position(|&b| b == b'=') {
                Some(eq) => (&entry[..eq], &entry[eq + 1..]),
                None => (entry, &b""[..]),
            };
            dict.push((unescape(key), unescape(value)));
        }
        Ok(Record {
            prio,
            seq,
            ts_usec,
            flags,
            fields: rest_fields,
            message,
            dict,
        })
    }

    /// The level, 0 (emerg) to 7 (debug).
    pub fn level(&self) -> u32 {
        level_of(self.prio)
    }

    /// The facility (0 = kern, 1 = user...).
    pub fn facility(&self) -> u32 {
        facility_of(self.prio)
    }

    /// The level's name (`"info"`).
    pub fn level_name(&self) -> &'static str {
        LEVELS[self.level() as usize].name
    }

    /// The facility's name, if it is one of the 24 named facilities.
    pub fn facility_name(&self) -> Option<&'static str> {
        FACILITIES.get(self.facility() as usize).map(|f| f.name)
    }

    /// The `caller=` field (`T123` for a task, `C1` for a CPU), when the
    /// kernel has `CONFIG_PRINTK_CALLER`.
    pub fn caller(&self) -> Option<&[u8]> {
        self.fields.iter().find_map(|f| f.strip_prefix(b"caller="))
    }

    /// The value of a dictionary key (`SUBSYSTEM`, `DEVICE`).
    pub fn dict_value(&self, key: &[u8]) -> Option<&[u8]> {
        self.dict
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_slice())
    }

    /// Seconds and microseconds since boot.
    pub fn timestamp(&self) -> (u64, u32) {
        (self.ts_usec / 1_000_000, (self.ts_usec % 1_000_000) as u32)
    }
}

fn hex(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

/// Decodes the kernel's `\xNN` escapes; anything else (including a
/// backslash not followed by `x` and two hex digits) is kept as is.
pub fn unescape(s: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(s.len());
    let mut i = 0;
    while i < s.len() {
        if s[i] == b'\\' && s.get(i + 1) == Some(&b'x') {
            if let (Some(h), Some(l)) = (
                s.get(i + 2).copied().and_then(hex),
                s.get(i + 3).copied().and_then(hex),
            ) {
                out.push(h << 4 | l);
                i += 4;
                continue;
            }
        }
        out.push(s[i]);
        i += 1;
    }
    out
}

/// Escapes bytes as the kernel does for `/dev/kmsg`: control characters
/// (tab and newline included), bytes from 0x7f up, and the backslash
/// become `\xNN`.
pub fn escape(s: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(s.len());
    for &b in s {
        if !(0x20..0x7f).contains(&b) || b == b'\\' {
            out.extend_from_slice(format!("\\x{b:02x}").as_bytes());
        } else {
            out.push(b);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn full_record() {
        let raw = b"6,339,5140900,-,caller=T1;NET: Registered \\x5c family\\x0a10\n SUBSYSTEM=net\n DEVICE=+net:lo\n";
        let r = Record::parse(raw).unwrap();
        assert_eq!((r.prio, r.seq, r.ts_usec), (6, 339, 5_140_900));
        assert_eq!(r.flags, b"-");
        assert_eq!(r.caller(), Some(&b"T1"[..]));
        assert_eq!(r.message, b"NET: Registered \\ family\n10");
        assert_eq!(r.dict_value(b"SUBSYSTEM"), Some(&b"net"[..]));
        assert_eq!(r.dict_value(b"DEVICE"), Some(&b"+net:lo"[..]));
        assert_eq!(r.timestamp(), (5, 140_900));
        assert_eq!((r.level_name(), r.facility_name()), ("info", Some("kern")));
    }

    #[test]
    fn facility_and_level() {
        let r = Record::parse(b"30,1,2,-;x\n").unwrap();
        assert_eq!((r.facility(), r.level()), (3, 6));
        assert_eq!(r.facility_name(), Some("daemon"));
        let r = Record::parse(b"199,1,2,-;x").unwrap();
        assert_eq!((r.facility(), r.facility_name()), (24, None));
    }

    #[test]
    fn minimal_and_empty() {
        let r = Record::parse(b"0,0,0;").unwrap();
        assert!(r.flags.is_empty() && r.message.is_empty() && r.dict.is_empty());
        let r = Record::parse(b"5,7,8,c;\n").unwrap();
        assert_eq!(r.flags, b"c");
    }

    #[test]
    fn malformed() {
        for bad in [
            &b"6,1,2,-"[..],
            b"x,1,2,-;m",
            b"6,,2,-;m",
            b"6,1,-2,-;m",
            b"6,1\n,2;m",
            b"6,1,2,-;m\nKEY=no space",
            b"99999999999,1,2,-;m",
            b"6,1,99999999999999999999,-;m",
        ] {
            assert!(
                Record::parse(bad).is_err(),
                "{:?}",
                String::from_utf8_lossy(bad)
            );
        }
    }

    #[test]
    fn escapes() {
        assert_eq!(unescape(b"a\\x41\\x4a\\x4"), b"aAJ\\x4");
        assert_eq!(unescape(b"\\xzz\\\\x41"), b"\\xzz\\A");
        assert_eq!(unescape(b"\\xC3\\xA9"), "é".as_bytes());
        assert_eq!(escape(b"a\\b\x01\xff\tc"), b"a\\x5cb\\x01\\xff\\x09c");
        let s: Vec<u8> = (0..=255).collect();
        assert_eq!(unescape(&escape(&s)), s);
    }
}
