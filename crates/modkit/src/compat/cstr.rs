//! C strings inside byte buffers: what `strlen` and the other string
//! functions of the C tools see of a buffer that may hold a NUL.
//!
//! Why not `std::ffi::CStr`: it requires the NUL (`from_bytes_until_nul`
//! fails without one), where a C tool reading a buffer sees all of it, and
//! returns a borrowed `CStr` where callers want bytes. No budget is needed:
//! one linear scan.

/// The bytes of `s` before its first NUL (all of `s` if it has none).
pub fn until_nul(s: &[u8]) -> &[u8] {
    match s.iter().position(|&b| b == 0) {
        Some(n) => &s[..n],
        None => s,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stops_at_the_first_nul() {
        assert_eq!(until_nul(b"ab\0cd\0"), b"ab");
        assert_eq!(until_nul(b"ab"), b"ab");
        assert_eq!(until_nul(b"\0"), b"");
        assert_eq!(until_nul(b""), b"");
    }
}
