//! Rate limiting for floods: at most `burst` records per `interval`; the
//! rest are counted and summarised in one "suppressed N records" entry
//! when the interval ends (at the next record or tick after it) or at exit.
//!
//! Defaults ([`RateLimit::default`]): 10000 records per 5 seconds, about
//! what a console at 115200 baud shows in that time several times over;
//! `--rate-limit 0` turns limiting off. Entries klogd writes itself are
//! never limited.

use std::time::{Duration, Instant};

/// The limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimit {
    /// Records let through per interval.
    pub burst: u32,
    /// The interval.
    pub interval: Duration,
}

impl Default for RateLimit {
    fn default() -> RateLimit {
        RateLimit {
            burst: 10_000,
            interval: Duration::from_secs(5),
        }
    }
}

impl RateLimit {
    /// Parses `BURST[/SECONDS]` (`0` alone: no limit, `None`).
    pub fn parse(text: &str) -> Result<Option<RateLimit>, String> {
        let (burst, secs) = match text.split_once('/') {
            Some((b, s)) => (b, Some(s)),
            None => (text, None),
        };
        let burst: u32 = burst
            .trim()
            .parse()
            .map_err(|_| format!("'{text}': not BURST[/SECONDS]"))?;
        if burst == 0 {
            return Ok(None);
        }
        let interval = match secs {
            None => RateLimit::default().interval,
            Some(s) => match s.trim().parse::<u64>() {
                Ok(n) if n > 0 => Duration::from_secs(n),
                _ => {
                    return Err(format!(
                        "'{text}': the interval must be whole seconds above 0"
                    ))
                }
            },
        };
        Ok(Some(RateLimit { burst, interval }))
    }
}

/// Suppressed records not yet summarised.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Suppressed {
    /// How many.
    pub count: u64,
    /// The first one's seq.
    pub first: u64,
    /// The last one's seq.
    pub last: u64,
}

/// The limiter's state.
#[derive(Debug)]
pub struct Limiter {
    limit: RateLimit,
    window: Option<Instant>,
    passed: u32,
    suppressed: Option<Suppressed>,
}

impl Limiter {
    /// A limiter.
    pub fn new(limit: RateLimit) -> Limiter {
        Limiter {
            limit,
            window: None,
            passed: 0,
            suppressed: None,
        }
    }

    /// Ends the window if its interval is over: returns what it suppressed.
    pub fn tick(&mut self, now: Instant) -> Option<Suppressed> {
        match self.window {
            Some(start) if now.duration_since(start) >= self.limit.interval => {
                self.window = None;
                self.passed = 0;
                self.suppressed.take()
            }
            _ => None,
        }
    }

    /// Whether the record `seq` passes (`true`) or is suppressed.
    pub fn admit(&mut self, now: Instant, seq: u64) -> bool {
        if self.window.is_none() {
            self.window = Some(now);
        }
        if self.passed < self.limit.burst {
            self.passed += 1;
            return true;
        }
        let s = self.suppressed.get_or_insert(Suppressed {
            count: 0,
            first: seq,
            last: seq,
        });
        s.count += 1;
        s.last = seq;
        false
    }

    /// What is suppressed and not yet summarised (at exit).
    pub fn take(&mut self) -> Option<Suppressed> {
        self.suppressed.take()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bursts_pass_and_the_rest_is_counted() {
        let t0 = Instant::now();
        let mut l = Limiter::new(RateLimit {
            burst: 3,
            interval: Duration::from_secs(10),
        });
        let passed: Vec<bool> = (0..6).map(|s| l.admit(t0, s)).collect();
        assert_eq!(passed, [true, true, true, false, false, false]);
        assert_eq!(l.tick(t0 + Duration::from_secs(1)), None);
        let s = l.tick(t0 + Duration::from_secs(10)).unwrap();
        assert_eq!((s.count, s.first, s.last), (3, 3, 5));
        assert!(l.admit(t0 + Duration::from_secs(11), 6));
        assert_eq!(l.take(), None);
        assert_eq!(RateLimit::parse("0"), Ok(None));
        assert_eq!(
            RateLimit::parse("100/2").unwrap().unwrap().interval,
            Duration::from_secs(2)
        );
        assert!(RateLimit::parse("x").is_err());
        assert!(RateLimit::parse("5/0").is_err());
    }
}
