//! Text as kmod's C code reads it: `fgets` chunks, logical lines joined
//! at a trailing `\`, C strings that end at their first NUL, and C's
//! `isspace`.

use crate::compat::cstr::until_nul;

/// Splits `data` as successive `fgets(buf, size)` calls would (`size` at
/// least 2), each chunk cut at its first NUL (as C string functions then
/// see it).
pub fn fgets_chunks(data: &[u8], size: usize) -> Vec<&[u8]> {
    let mut out = Vec::new();
    let mut rest = data;
    let room = size.saturating_sub(1).max(1);
    while !rest.is_empty() {
        let limit = rest.len().min(room);
        let end = match rest[..limit].iter().position(|&b| b == b'\n') {
            Some(n) => n + 1,
            None => limit,
        };
        let chunk = &rest[..end];
        rest = &rest[end..];
        out.push(until_nul(chunk));
    }
    out
}

/// Splits file contents into logical lines as kmod's `freadline_wrapped`:
/// `(line, physical line number of its end)`. A `\` before a newline
/// joins the lines; before any other byte it is dropped.
pub fn logical_lines(data: &[u8]) -> Vec<(Vec<u8>, u32)> {
    let mut out = Vec::new();
    let mut linenum: u32 = 0;
    let mut i = 0;
    loop {
        let mut buf = Vec::new();
        let mut n = 0;
        loop {
            let Some(&ch) = data.get(i) else {
                if buf.is_empty() {
                    return out;
                }
                n += 1;
                break;
            };
            i += 1;
            match ch {
                b'\n' => {
                    n += 1;
                    break;
                }
                b'\\' => match data.get(i) {
                    Some(b'\n') => {
                        i += 1;
                        n += 1;
                    }
                    None => {}
                    Some(&next) => {
                        i += 1;
                        buf.push(next);
                    }
                },
                _ => buf.push(ch),
            }
        }
        linenum += n;
        out.push((buf, linenum));
    }
}
