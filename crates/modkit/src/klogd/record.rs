//! `/dev/kmsg` records decoded into [`Entry`] values, strictly: unlike
//! [`crate::kmsg::record`] (which reproduces util-linux's parser, quirks
//! included, for `dmesg`), klogd needs the sequence number and the
//! dictionary, and refuses what is not a record rather than guessing.
//!
//! A record is `PRIO,SEQ,USEC,FLAGS[,FIELD...];MESSAGE\n` followed by
//! dictionary lines ` KEY=VALUE\n`; the message and values escape
//! non-printable bytes and backslashes as `\xNN`.

use super::entry::{Entry, Origin};

/// Why a record was refused: the record's bytes (cut to 200) and what is
/// wrong with them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Malformed {
    /// What is wrong.
    pub why: &'static str,
}

impl std::fmt::Display for Malformed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.why)
    }
}

fn bad(why: &'static str) -> Malformed {
    Malformed { why }
}

fn number(field: &[u8], why: &'static str) -> Result<u64, Malformed> {
    if field.is_empty() || field.len() > 20 || !field.iter().all(u8::is_ascii_digit) {
        return Err(bad(why));
    }
    std::str::from_utf8(field)
        .ok()
        .and_then(|s| s.parse().ok())
        .ok_or(bad(why))
}

/// Decodes `\xNN` escapes (other backslashes stay as they are).
pub fn unescape(text: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(text.len());
    let mut i = 0;
    while i < text.len() {
        let c = text[i];
        if c == b'\\' && text.get(i + 1) == Some(&b'x') {
            let hex = |b: Option<&u8>| b.and_then(|&b| (b as char).to_digit(16));
            if let (Some(h), Some(l)) = (hex(text.get(i + 2)), hex(text.get(i + 3))) {
                out.push((h * 16 + l) as u8);
                i += 4;
                continue;
            }
        }
        out.push(c);
        i += 1;
    }
    out
}

/// Parses one record as one `read(2)` of `/dev/kmsg` returns it (its
/// final newline optional). The priority must be a number below 1024
/// (facility up to 127), the sequence number and timestamp decimal numbers;
/// anything else is [`Malformed`]. Unknown optional fields are ignored.
pub fn parse(raw: &[u8]) -> Result<Entry, Malformed> {
    let raw = raw.strip_suffix(b"\n").unwrap_or(raw);
    let semi = memchr::memchr(b';', raw).ok_or(bad("no ';' after the prefix"))?;
    let (prefix, rest) = (&raw[..semi], &raw[semi + 1..]);
    let mut fields = prefix.split(|&b| b == b',');
    let prio = number(fields.next().unwrap_or_default(), "bad priority")?;
    if prio >= 1024 {
        return Err(bad("priority out of range"));
    }
    let seq = number(
        fields.next().ok_or(bad("no sequence number"))?,
        "bad sequence number",
    )?;
    let usec = number(fields.next().ok_or(bad("no timestamp"))?, "bad timestamp")?;
    let mut caller = None;
    for f in fields {
        if let Some(c) = f.strip_prefix(b"caller=") {
            caller = Some(String::from_utf8_lossy(c).into_owned());
        }
    }
    let mut lines = rest.split(|&b| b == b'\n');
    let message = unescape(lines.next().unwrap_or_default());
    let mut dict = Vec::new();
    for line in lines {
        let Some(kv) = line.strip_prefix(b" ") else {
            if line.is_empty() {
                continue;
            }
            return Err(bad("a dictionary line without its leading space"));
        };
        let eq = memchr::memchr(b'=', kv).unwrap_or(kv.len());
        let key = String::from_utf8_lossy(&kv[..eq]).into_owned();
        let value = kv.get(eq + 1..).map(unescape).unwrap_or_default();
        dict.push((key, value));
    }
    Ok(Entry {
        seq,
        level: (prio & 7) as u8,
        facility: (prio >> 3) as u8,
        monotonic_us: usec,
        realtime_us: None,
        caller,
        message,
        dict,
        origin: Origin::Live,
    })
}

/// Splits a stream of records as `cat /dev/kmsg` writes them (a record's
/// first line, then its dictionary lines, each starting with a space) into
/// records; returns the records and how many bytes they took. With
/// `at_end`, a last line without its newline is a record too; otherwise it
/// (and the record it starts) waits for more bytes.
pub fn split_stream(data: &[u8], at_end: bool) -> (Vec<&[u8]>, usize) {
    let mut records = Vec::new();
    let mut start = 0; // start of the current record
    let mut pos = 0; // start of the next line
    let mut consumed = 0;
    while pos < data.len() {
        let Some(nl) = memchr::memchr(b'\n', &data[pos..]) else {
            break;
        };
        let next = pos + nl + 1;
        // The line at `next` continues this record when it starts with a
        // space; a record is complete once a line that does not follows.
        match data.get(next) {
            Some(b' ') => {}
            Some(_) => {
                records.push(&data[start..next]);
                start = next;
                consumed = next;
            }
            None if at_end => {
                records.push(&data[start..next]);
                start = next;
                consumed = next;
            }
            None => {}
        }
        pos = next;
    }
    if at_end && start < data.len() {
        records.push(&data[start..]);
        consumed = data.len();
    }
    (records, consumed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn full_record() {
        let e = parse(
            b"12,339,5140900,-,caller=T1;NET: \\x5c a\\x09b\n SUBSYSTEM=net\n DEVICE=+net:lo\n",
        )
        .unwrap();
        assert_eq!(
            (e.seq, e.level, e.facility, e.monotonic_us),
            (339, 4, 1, 5140900)
        );
        assert_eq!(e.caller.as_deref(), Some("T1"));
        assert_eq!(e.message, b"NET: \\ a\tb");
        assert_eq!(
            e.dict,
            vec![
                ("SUBSYSTEM".to_string(), b"net".to_vec()),
                ("DEVICE".to_string(), b"+net:lo".to_vec())
            ]
        );
        let e = parse(b"6,1,2,c;").unwrap();
        assert_eq!(e.message, b"");
    }

    #[test]
    fn malformed_records_are_refused() {
        for raw in [
            &b""[..],
            b"garbage",
            b"x,1,2,-;m",
            b"6,,2,-;m",
            b"6,1;m",
            b"6,1,-3,-;m",
            b"1024,1,2,-;m",
            b"6,99999999999999999999999,2,-;m",
            b"6,1,2,-;m\nnot a dict line",
        ] {
            assert!(parse(raw).is_err(), "{raw:?}");
        }
    }

    #[test]
    fn streams_split_at_lines_without_a_leading_space() {
        let data = b"6,1,0,-;a\n K=V\n6,2,0,-;b\n6,3,0,-;c\n K=";
        let (r, n) = split_stream(data, false);
        assert_eq!(r, vec![&b"6,1,0,-;a\n K=V\n"[..], b"6,2,0,-;b\n"]);
        assert_eq!(n, 25);
        let (r, n) = split_stream(data, true);
        assert_eq!(r.len(), 3);
        assert_eq!(r[2], b"6,3,0,-;c\n K=");
        assert_eq!(n, data.len());
    }
}
