//! The two syslog message formats klogd writes.
//!
//! **RFC 5424** (UDP, TCP, TLS):
//!
//! ```text
//! <PRI>1 TIMESTAMP HOSTNAME kernel - MSGID [kmsg@32473 seq="…" …] BOM MSG
//! ```
//!
//! - PRI = facility × 8 + level.
//! - TIMESTAMP: `realtime_us` in UTC with microseconds
//!   (`2026-12-02T04:27:55.123456Z`), or `-` when the wall-clock time is
//!   unknown.
//! - HOSTNAME: [`RemoteSpec::hostname`](super::RemoteSpec) or this machine's
//!   name, printable US-ASCII only (others become `_`), at most 255.
//! - APP-NAME `kernel`; PROCID `-`; MSGID says where the record came from:
//!   `kmsg` (the running kernel), `pstore` (a previous boot), `klogd`
//!   (klogd's own notes: missed, suppressed).
//! - STRUCTURED-DATA: one element with the SD-ID `kmsg@32473` (32473 is the
//!   private enterprise number RFC 5612 reserves for documentation: klogd
//!   has no number of its own) and the parameters `seq`, `level`,
//!   `facility`, `mono` (seconds since boot, `123.456789`), `caller` when
//!   known, each dictionary property under its own name (`SUBSYSTEM`,
//!   `DEVICE`; characters a PARAM-NAME cannot hold become `_`, cut at 32),
//!   and for pstore records `origin="pstore"`, `pstore_kind`, `pstore_file`.
//!   Values escape `"`, `\` and `]` with a backslash (RFC 5424 §6.3.3);
//!   bytes that are not UTF-8 are written `\xHH` (as `/dev/kmsg` does).
//! - MSG: valid UTF-8 is sent with the BOM (RFC 5424 §6.4); otherwise each
//!   invalid byte is written `\xHH` and the BOM is left out (the message is
//!   then ASCII-safe text, not claimed UTF-8). Trailing newlines are cut.
//!
//! **The local format** (`/dev/log`, datagram and stream):
//!
//! ```text
//! <PRI>Mmm dd hh:mm:ss kernel: MSG
//! ```
//!
//! the format of glibc's `syslog(3)`, the one every local syslog daemon
//! parses (journald's `/dev/log` reads nothing else; rsyslog's imuxsock and
//! syslog-ng's `unix-dgram()` take it by default), with the time in the
//! local zone (`TZ` as glibc reads it). Structured data has no place in it:
//! the local daemon stamps the host, and seq/dictionary stay with the file
//! and remote outputs. Non-UTF-8 bytes are written `\xHH`.

use crate::compat::tz::{gmtime, TimeZone};
use crate::klogd::entry::{Entry, Origin};

/// The SD-ID of klogd's structured-data element.
pub const SD_ID: &str = "kmsg@32473";

/// Which format a destination gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// RFC 5424 with structured data.
    Rfc5424,
    /// `<PRI>Mmm dd hh:mm:ss kernel: MSG` for `/dev/log`.
    Local,
}

/// What a formatter needs besides the entry.
#[derive(Debug, Clone)]
pub struct Formatter {
    format: Format,
    hostname: String,
    zone: Option<TimeZone>,
}

impl Formatter {
    /// A formatter; `hostname` is used as given after replacing what RFC
    /// 5424 does not allow (empty: `-`). The local format reads the time
    /// zone once, here.
    pub fn new(format: Format, hostname: &str) -> Formatter {
        let mut host: String = hostname
            .chars()
            .take(255)
            .map(|c| if ('!'..='~').contains(&c) { c } else { '_' })
            .collect();
        if host.is_empty() {
            host.push('-');
        }
        let zone = (format == Format::Local).then(TimeZone::from_env);
        Formatter {
            format,
            hostname: host,
            zone,
        }
    }

    /// The message for `entry`, unframed.
    pub fn message(&self, entry: &Entry) -> Vec<u8> {
        match self.format {
            Format::Rfc5424 => self.rfc5424(entry),
            Format::Local => self.local(entry),
        }
    }

    fn rfc5424(&self, e: &Entry) -> Vec<u8> {
        let mut out = Vec::with_capacity(160 + e.message.len());
        let msgid = match e.origin {
            Origin::Live => "kmsg",
            Origin::Pstore { .. } => "pstore",
            Origin::Klogd => "klogd",
        };
        out.extend_from_slice(
            format!(
                "<{}>1 {} {} kernel - {msgid} [{SD_ID}",
                pri(e),
                e.realtime_us
                    .map(rfc3339_utc)
                    .unwrap_or_else(|| "-".to_string()),
                self.hostname
            )
            .as_bytes(),
        );
        param(&mut out, "seq", e.seq.to_string().as_bytes());
        param(&mut out, "level", e.level.to_string().as_bytes());
        param(&mut out, "facility", e.facility.to_string().as_bytes());
        let mono = format!(
            "{}.{:06}",
            e.monotonic_us / 1_000_000,
            e.monotonic_us % 1_000_000
        );
        param(&mut out, "mono", mono.as_bytes());
        if let Some(caller) = &e.caller {
            param(&mut out, "caller", caller.as_bytes());
        }
        for (key, value) in &e.dict {
            param(&mut out, &param_name(key), value);
        }
        if let Origin::Pstore { kind, file } = &e.origin {
            param(&mut out, "origin", b"pstore");
            param(&mut out, "pstore_kind", kind.as_bytes());
            param(&mut out, "pstore_file", file.as_bytes());
        }
        out.extend_from_slice(b"]");
        let msg = trim_newlines(&e.message);
        if msg.is_empty() {
            return out;
        }
        out.push(b' ');
        match std::str::from_utf8(msg) {
            Ok(text) => {
                out.extend_from_slice("\u{feff}".as_bytes());
                out.extend_from_slice(text.as_bytes());
            }
            Err(_) => escape_invalid(&mut out, msg, false),
        }
        out
    }

    fn local(&self, e: &Entry) -> Vec<u8> {
        let mut out = Vec::with_capacity(40 + e.message.len());
        out.extend_from_slice(format!("<{}>", pri(e)).as_bytes());
        if let (Some(us), Some(zone)) = (e.realtime_us, &self.zone) {
            let tm = zone.localtime(us.div_euclid(1_000_000));
            const MONTHS: [&str; 12] = [
                "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
            ];
            out.extend_from_slice(
                format!(
                    "{} {:2} {:02}:{:02}:{:02} ",
                    MONTHS[tm.mon.clamp(0, 11) as usize],
                    tm.mday,
                    tm.hour,
                    tm.min,
                    tm.sec
                )
                .as_bytes(),
            );
        }
        out.extend_from_slice(b"kernel: ");
        escape_invalid(&mut out, trim_newlines(&e.message), false);
        out
    }
}

fn pri(e: &Entry) -> u32 {
    u32::from(e.facility.min(23)) * 8 + u32::from(e.level.min(7))
}

fn trim_newlines(msg: &[u8]) -> &[u8] {
    let mut end = msg.len();
    while end > 0 && msg[end - 1] == b'\n' {
        end -= 1;
    }
    &msg[..end]
}

/// `2026-12-02T04:27:55.123456Z`.
fn rfc3339_utc(us: i64) -> String {
    let tm = gmtime(us.div_euclid(1_000_000));
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:06}Z",
        tm.year + 1900,
        tm.mon + 1,
        tm.mday,
        tm.hour,
        tm.min,
        tm.sec,
        us.rem_euclid(1_000_000)
    )
}

/// A PARAM-NAME: 1 to 32 printable US-ASCII characters but `=`, space, `]`, `"`.
fn param_name(key: &str) -> String {
    let name: String = key
        .chars()
        .take(32)
        .map(|c| match c {
            '=' | ' ' | ']' | '"' => '_',
            c if ('!'..='~').contains(&c) => c,
            _ => '_',
        })
        .collect();
    if name.is_empty() {
        "_".to_string()
    } else {
        name
    }
}

fn param(out: &mut Vec<u8>, name: &str, value: &[u8]) {
    out.push(b' ');
    out.extend_from_slice(name.as_bytes());
    out.extend_from_slice(b"=\"");
    escape_invalid(out, value, true);
    out.push(b'"');
}

/// Copies `bytes`, writing each byte that is not part of valid UTF-8 as
/// `\xHH`; in a PARAM-VALUE (`sd`) also escapes `"`, `\` and `]`.
fn escape_invalid(out: &mut Vec<u8>, mut bytes: &[u8], sd: bool) {
    let copy = |out: &mut Vec<u8>, text: &str| {
        if !sd {
            out.extend_from_slice(text.as_bytes());
            return;
        }
        for b in text.bytes() {
            if matches!(b, b'"' | b'\\' | b']') {
                out.push(b'\\');
            }
            out.push(b);
        }
    };
    loop {
        match std::str::from_utf8(bytes) {
            Ok(text) => {
                copy(out, text);
                return;
            }
            Err(err) => {
                let (good, rest) = bytes.split_at(err.valid_up_to());
                // SAFETY-free: valid_up_to() marks a valid UTF-8 prefix.
                copy(out, std::str::from_utf8(good).unwrap_or_default());
                let bad = err.error_len().unwrap_or(rest.len()).max(1);
                for b in &rest[..bad] {
                    out.extend_from_slice(format!("\\x{b:02x}").as_bytes());
                }
                bytes = &rest[bad..];
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(message: &[u8]) -> Entry {
        Entry {
            seq: 42,
            level: 3,
            facility: 0,
            monotonic_us: 5_000_123,
            realtime_us: Some(1_764_650_875_123_456),
            caller: Some("T7".into()),
            message: message.to_vec(),
            dict: vec![
                ("SUBSYSTEM".into(), b"pci".to_vec()),
                ("DEVICE".into(), b"+pci:0000:00:01.0".to_vec()),
            ],
            origin: Origin::Live,
        }
    }

    #[test]
    fn rfc5424_fields_and_structured_data() {
        let f = Formatter::new(Format::Rfc5424, "box");
        let got = f.message(&entry(b"hello\n"));
        assert_eq!(
            String::from_utf8(got).unwrap(),
            "<3>1 2025-12-02T04:47:55.123456Z box kernel - kmsg [kmsg@32473 seq=\"42\" level=\"3\" \
             facility=\"0\" mono=\"5.000123\" caller=\"T7\" SUBSYSTEM=\"pci\" \
             DEVICE=\"+pci:0000:00:01.0\"] \u{feff}hello"
        );
    }

    #[test]
    fn rfc5424_escapes_values_and_invalid_utf8() {
        let f = Formatter::new(Format::Rfc5424, "a b");
        let mut e = entry(b"bad \xff byte");
        e.facility = 3;
        e.level = 7;
        e.realtime_us = None;
        e.caller = None;
        e.dict = vec![("K Y".into(), b"q\"b\\s]\xfe".to_vec())];
        e.origin = Origin::Pstore {
            kind: "dmesg".into(),
            file: "dmesg-ramoops-0".into(),
        };
        let got = f.message(&e);
        assert_eq!(
            got,
            b"<31>1 - a_b kernel - pstore [kmsg@32473 seq=\"42\" level=\"7\" facility=\"3\" \
              mono=\"5.000123\" K_Y=\"q\\\"b\\\\s\\]\\xfe\" origin=\"pstore\" \
              pstore_kind=\"dmesg\" pstore_file=\"dmesg-ramoops-0\"] bad \\xff byte"
                .to_vec()
        );
    }

    #[test]
    fn local_format_is_syslog3() {
        let mut f = Formatter::new(Format::Local, "ignored");
        f.zone = Some(TimeZone::utc());
        let got = f.message(&entry(b"hello"));
        assert_eq!(got, b"<3>Dec  2 04:47:55 kernel: hello".to_vec());
        let mut e = entry(b"x");
        e.realtime_us = None;
        assert_eq!(f.message(&e), b"<3>kernel: x".to_vec());
    }
}
