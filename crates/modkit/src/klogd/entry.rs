//! One kernel log record as klogd forwards it.

/// Where a record came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// Read from the running kernel (`/dev/kmsg` or `syslog(2)`).
    Live,
    /// Recovered from pstore: a record of a previous boot (for example the
    /// last words of a panic kept by ramoops).
    Pstore {
        /// The pstore record kind as its file name says (`dmesg`, `console`, `pmsg`...).
        kind: String,
        /// The pstore file name (`dmesg-ramoops-0`).
        file: String,
    },
    /// Written by klogd itself: "missed N records", "suppressed N", start and stop.
    Klogd,
}

/// One record: the fields of a `/dev/kmsg` record, decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// The kernel's sequence number (`/dev/kmsg`). Sources without one
    /// (`syslog(2)`, pstore) number their records themselves.
    pub seq: u64,
    /// Syslog level, 0 (emerg) to 7 (debug).
    pub level: u8,
    /// Syslog facility number (0 = kern).
    pub facility: u8,
    /// Time since boot, in microseconds, as the kernel stamped the record.
    pub monotonic_us: u64,
    /// Wall-clock time of the record, in microseconds since the Unix epoch
    /// (boot time plus `monotonic_us`), when known.
    pub realtime_us: Option<i64>,
    /// The caller id (`T123` for a task, `C2` for a CPU) when the kernel records it.
    pub caller: Option<String>,
    /// The message as the kernel gave it, unescaped (may be any bytes).
    pub message: Vec<u8>,
    /// Dictionary properties (`SUBSYSTEM=pci`, `DEVICE=+pci:0000:00:01.0`), in order.
    pub dict: Vec<(String, Vec<u8>)>,
    /// Where the record came from.
    pub origin: Origin,
}
