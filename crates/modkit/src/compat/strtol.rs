//! C's `strtol(3)` and `strtoul(3)` as glibc implements them in the C
//! locale, for the places where modkit must accept and reject numbers
//! exactly as the C tools do (kmod's sysfs readers and option values,
//! util-linux's time and level parsing, depmod's `Module.symvers`).
//!
//! Both skip leading white space (`isspace`), take an optional sign, and
//! read digits in `base` (2 to 36; 0 means: `0x` prefix for hex, a leading
//! `0` for octal, else decimal; base 16 also accepts a `0x` prefix). When no
//! digit is read, [`Parsed::end`] is 0, as C sets `endptr` to the start.
//! Out of range values are clamped as C clamps them, with
//! [`Parsed::overflow`] standing for `errno == ERANGE`.
//!
//! Why not `str::parse` or a crate: they reject what C accepts (leading
//! blanks, a trailing remainder, `0x` and octal prefixes, `-1` as an
//! unsigned number) and do not report where the number ended. Why not
//! `libc::strtol`: it needs a NUL-terminated copy, answers for the current
//! locale and reports overflow through the thread's `errno`.
//!
//! Budgets: one pass over the input, no allocation, no recursion.

/// The result of a conversion.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Parsed<T> {
    /// The value (clamped on overflow).
    pub value: T,
    /// How many bytes were used (0 when there was no number).
    pub end: usize,
    /// The value was out of range (`ERANGE`).
    pub overflow: bool,
}

/// Sign, magnitude (saturated at `u64::MAX`), end, and whether the
/// magnitude overflowed 64 bits.
fn scan(s: &[u8], base: u32) -> (bool, u64, usize, bool) {
    let mut i = 0;
    while i < s.len() && super::ctype::isspace(s[i]) {
        i += 1;
    }
    let neg = s.get(i) == Some(&b'-');
    if matches!(s.get(i), Some(b'+' | b'-')) {
        i += 1;
    }
    let hex_prefix = s.get(i) == Some(&b'0')
        && matches!(s.get(i + 1), Some(b'x' | b'X'))
        && s.get(i + 2).is_some_and(u8::is_ascii_hexdigit);
    let base = match base {
        0 if hex_prefix => {
            i += 2;
            16
        }
        0 if s.get(i) == Some(&b'0') => 8,
        0 => 10,
        16 if hex_prefix => {
            i += 2;
            16
        }
        b if (2..=36).contains(&b) => b,
        _ => return (false, 0, 0, false),
    };
    let start = i;
    let mut mag: u64 = 0;
    let mut overflow = false;
    while let Some(d) = s.get(i).and_then(|&c| (c as char).to_digit(base)) {
        match mag
            .checked_mul(u64::from(base))
            .and_then(|m| m.checked_add(u64::from(d)))
        {
            Some(m) => mag = m,
            None => {
                overflow = true;
                mag = u64::MAX;
            }
        }
        i += 1;
    }
    if i == start {
        return (false, 0, 0, false);
    }
    (neg, mag, i, overflow)
}

/// `strtoul(s, &end, base)`: a negative number wraps (`-1` is
/// `u64::MAX`), an overflow gives `u64::MAX`.
pub fn strtoul(s: &[u8], base: u32) -> Parsed<u64> {
    let (neg, mag, end, overflow) = scan(s, base);
    let value = if overflow {
        u64::MAX
    } else if neg {
        mag.wrapping_neg()
    } else {
        mag
    };
    Parsed {
        value,
        end,
        overflow,
    }
}

/// `strtol(s, &end, base)`: out of range values clamp to `i64::MIN` or
/// `i64::MAX`.
pub fn strtol(s: &[u8], base: u32) -> Parsed<i64> {
    let (neg, mag, end, overflow) = scan(s, base);
    let limit = if neg { 1u64 << 63 } else { i64::MAX as u64 };
    if overflow || mag > limit {
        return Parsed {
            value: if neg { i64::MIN } else { i64::MAX },
            end,
            overflow: true,
        };
    }
    let value = if neg {
        (mag as i64).wrapping_neg()
    } else {
        mag as i64
    };
    Parsed {
        value,
        end,
        overflow: false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn like_glibc() {
        assert_eq!(
            strtol(b" -12x", 10),
            Parsed {
                value: -12,
                end: 4,
                overflow: false
            }
        );
        assert_eq!(strtol(b"x", 10).end, 0);
        assert_eq!(strtol(b"-", 10).end, 0);
        assert_eq!(strtol(b"9223372036854775808", 10).value, i64::MAX);
        assert!(strtol(b"9223372036854775808", 10).overflow);
        assert_eq!(strtol(b"-9223372036854775808", 10).value, i64::MIN);
        assert!(!strtol(b"-9223372036854775808", 10).overflow);
        assert_eq!(strtoul(b"-1", 10).value, u64::MAX);
        assert_eq!(strtoul(b"0x1f", 0).value, 31);
        assert_eq!(strtoul(b"017", 0).value, 15);
        assert_eq!(
            strtoul(b"0x", 0),
            Parsed {
                value: 0,
                end: 1,
                overflow: false
            }
        );
        assert_eq!(strtoul(b"0xg", 16).end, 1);
        assert_eq!(strtoul(b"ff", 16).value, 255);
        assert!(strtoul(b"99999999999999999999", 10).overflow);
        assert_eq!(strtoul(b"1", 1).end, 0);
    }
}
