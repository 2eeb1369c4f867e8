//! dmesg's `-J` output: util-linux's `ul_jsonwrt`, writing as it goes
//! (`{"dmesg": [ {...}, ... ]}`, three-space indents).

use super::Ctl;

/// util-linux's `ul_jsonwrt`.
#[derive(Debug, Default)]
pub(super) struct Json {
    ready: bool,
    indent: usize,
    after_close: bool,
}

impl Ctl {
    /// Opens a record's object, and the document before the first.
    pub(super) fn json_begin_record(&mut self) {
        if !self.jw.ready {
            self.jw = Json {
                ready: true,
                indent: 0,
                after_close: false,
            };
            self.json_open(None, b'{');
            self.json_open(Some("dmesg"), b'[');
        }
        self.json_open(None, b'{');
    }

    /// Closes a record's object (flushed in follow mode).
    pub(super) fn json_end_record(&mut self) {
        self.json_close(true);
        if self.follow {
            let _ = self.out.flush();
        }
    }

    /// Closes the document, if a record opened it.
    pub(super) fn json_end(&mut self) {
        if self.json && self.jw.ready {
            self.json_close(false);
            self.json_close(true);
        }
    }

    fn json_indent(&mut self) {
        for _ in 0..self.jw.indent {
            self.out.write(b"   ");
        }
    }

    fn json_name(&mut self, name: Option<&str>) {
        match name {
            Some(n) => {
                if self.jw.after_close {
                    self.out.write(b",\n");
                }
                self.json_indent();
                let mut q = Vec::new();
                json_quote(&mut q, &n.to_ascii_lowercase().into_bytes(), usize::MAX);
                self.out.write(&q);
            }
            None => {
                if self.jw.after_close {
                    self.out.write(b",");
                } else {
                    self.json_indent();
                }
            }
        }
    }

    fn json_open(&mut self, name: Option<&str>, kind: u8) {
        self.json_name(name);
        let named = name.is_some();
        match kind {
            b'{' => {
                self.out.write(if named { b": {\n" } else { b"{\n" });
                self.jw.indent += 1;
            }
            b'[' => {
                self.out.write(if named { b": [\n" } else { b"[\n" });
                self.jw.indent += 1;
            }
            _ => self.out.write(if named { b": " } else { b" " }),
        }
        self.jw.after_close = false;
    }

    /// Closes an object (`true`) or an array.
    fn json_close(&mut self, object: bool) {
        self.jw.indent = self.jw.indent.saturating_sub(1);
        self.out.write(b"\n");
        self.json_indent();
        if object {
            self.out.write(b"}");
            if self.jw.indent == 0 {
                self.out.write(b"\n");
            }
        } else {
            self.out.write(b"]");
        }
        self.jw.after_close = true;
    }

    /// `"name": data`, unquoted (`null` when empty).
    pub(super) fn json_value_raw(&mut self, name: &str, data: &[u8]) {
        self.json_open(Some(name), b'v');
        if data.is_empty() {
            self.out.write(b"null");
        } else {
            self.out.write(data);
        }
        self.jw.after_close = true;
    }

    /// `"name": "data"`, quoted, up to `size` bytes or a NUL (`null`
    /// when empty).
    pub(super) fn json_value_s(&mut self, name: &str, data: &[u8], size: usize) {
        self.json_open(Some(name), b'v');
        if data.first().is_some_and(|&c| c != 0) {
            let mut q = Vec::with_capacity(data.len() + 2);
            json_quote(&mut q, data, size);
            self.out.write(&q);
        } else {
            self.out.write(b"null");
        }
        self.jw.after_close = true;
    }
}

/// util-linux's `fputs_quoted_case_json` (no case change), up to `size`
/// bytes or a NUL.
fn json_quote(out: &mut Vec<u8>, data: &[u8], size: usize) {
    out.push(b'"');
    for &c in data.iter().take(size) {
        if c == 0 {
            break;
        }
        match c {
            b'"' | b'\\' => {
                out.push(b'\\');
                out.push(c);
            }
            0x08 => out.extend_from_slice(b"\\b"),
            b'\t' => out.extend_from_slice(b"\\t"),
            b'\n' => out.extend_from_slice(b"\\n"),
            0x0c => out.extend_from_slice(b"\\f"),
            b'\r' => out.extend_from_slice(b"\\r"),
            c if c < 0x20 => out.extend_from_slice(format!("\\u00{c:02x}").as_bytes()),
            c => out.push(c),
        }
    }
    out.push(b'"');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_strings() {
        let mut v = Vec::new();
        json_quote(&mut v, b"a\"b\\c\n\x01\xc3\xa9\0rest", usize::MAX);
        assert_eq!(v, b"\"a\\\"b\\\\c\\n\\u0001\xc3\xa9\"");
    }
}
