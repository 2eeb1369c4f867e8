//! Times of kernel log records: the boot time that turns a record's
//! monotonic timestamp into wall-clock time, and the time spent suspended.
//! Local time conversion (`localtime`/`mktime` as glibc computes them) is
//! C-library behaviour and lives in [`crate::compat::tz`].

use crate::error::{Error, Result};
use crate::sys::{self, Clock};

/// Microseconds per second.
pub const USEC_PER_SEC: i64 = 1_000_000;

/// A `struct timeval`: seconds and microseconds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct Timeval {
    /// Seconds.
    pub sec: i64,
    /// Microseconds (0..1_000_000 when normalised).
    pub usec: i64,
}

impl Timeval {
    /// The time in microseconds.
    pub fn as_usec(self) -> i64 {
        self.sec.wrapping_mul(USEC_PER_SEC).wrapping_add(self.usec)
    }
}

/// The wall-clock time at boot, as util-linux computes it: the current
/// real time minus `CLOCK_BOOTTIME`, both truncated to microseconds.
pub fn boot_time() -> Result<Timeval> {
    let to_err = |e| Error::new(e, "clock_gettime");
    let (now_s, now_ns) = sys::clock_gettime(Clock::Realtime).map_err(to_err)?;
    let (up_s, up_ns) = sys::clock_gettime(Clock::Boottime).map_err(to_err)?;
    let mut sec = now_s - up_s;
    let mut usec = now_ns / 1000 - up_ns / 1000;
    if usec < 0 {
        sec -= 1;
        usec += USEC_PER_SEC;
    }
    Ok(Timeval { sec, usec })
}

/// Time spent suspended, in microseconds: `CLOCK_BOOTTIME` minus
/// `CLOCK_MONOTONIC` (0 if either clock is unavailable).
pub fn suspended_time() -> u64 {
    let usec = |(s, ns): (i64, i64)| {
        (s as u64)
            .wrapping_mul(1_000_000)
            .wrapping_add(ns as u64 / 1000)
    };
    match (
        sys::clock_gettime(Clock::Boottime),
        sys::clock_gettime(Clock::Monotonic),
    ) {
        (Ok(b), Ok(m)) => usec(b).wrapping_sub(usec(m)),
        _ => 0,
    }
}
