//! The device nodes that modules provide before they are loaded:
//! `modules.devname`, read as `kmod static-nodes` reads it and written in its
//! three formats. systemd's `kmod-static-nodes.service` runs
//! `kmod static-nodes --format=tmpfiles --output=/run/tmpfiles.d/static-nodes.conf`
//! at every boot, so that opening `/dev/fuse` or `/dev/loop-control` loads
//! the module on demand.
//!
//! Each line of `modules.devname` is `MODULE DEVNAME TYPEMAJOR:MINOR`
//! (`fuse fuse c10:229`); lines starting with `#` are comments. kmod reads
//! the file with `fgets` into a `PATH_MAX` buffer (a longer line is read in
//! pieces, each a line of its own) and splits each line with
//! `sscanf("%s %s %c%u:%u")`: the two names end at white space, the type is
//! the next non-blank byte and must be `c` or `b`, and the numbers are read
//! as `strtoul` reads them (a sign is allowed, `-1` is 4294967295, blanks
//! may precede each number but not the colon). [`parse_line`] does the same.

use crate::compat::ctype::isspace;
use crate::compat::strtol::strtoul;
use crate::kmod::{fgets_chunks, PATH_MAX};

/// One device node of `modules.devname`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StaticNode {
    /// The module that provides it, e.g. `fuse`.
    pub module: Vec<u8>,
    /// The node's name under `/dev`, e.g. `fuse` or `vfio/vfio`.
    pub devname: Vec<u8>,
    /// `b'c'` (character device) or `b'b'` (block device).
    pub kind: u8,
    /// Major number.
    pub major: u32,
    /// Minor number.
    pub minor: u32,
}

/// A line of `modules.devname`: a node, a comment, or a line kmod rejects.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Line<'a> {
    /// `#...`: skipped.
    Comment,
    /// A valid entry.
    Node(StaticNode),
    /// Not `MODULE DEVNAME [cb]MAJOR:MINOR` (the line as read, for kmod's
    /// `Error: invalid devname entry: LINE` message).
    Invalid(&'a [u8]),
}

/// The output formats of `kmod static-nodes --format`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// `human` (the default): a description per node, for people.
    Human,
    /// `tmpfiles`: `tmpfiles.d(5)` lines for `systemd-tmpfiles`.
    Tmpfiles,
    /// `devname`: the `modules.devname` format again.
    Devname,
}

impl Format {
    /// Every format, in kmod's order.
    pub const ALL: [Format; 3] = [Format::Human, Format::Tmpfiles, Format::Devname];

    /// The format's name on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Format::Human => "human",
            Format::Tmpfiles => "tmpfiles",
            Format::Devname => "devname",
        }
    }

    /// The format named `name` (exactly), if any.
    pub fn from_name(name: &[u8]) -> Option<Format> {
        Format::ALL
            .into_iter()
            .find(|f| f.name().as_bytes() == name)
    }

    /// Appends `node` to `out` in this format (the tmpfiles format puts a
    /// directory line first for a node in a subdirectory of `/dev`).
    pub fn write(self, node: &StaticNode, out: &mut Vec<u8>) {
        let (m, d) = (&node.module[..], &node.devname[..]);
        let kind = node.kind as char;
        match self {
            Format::Human => {
                let kind = if node.kind == b'c' {
                    "character"
                } else {
                    "block"
                };
                out.extend_from_slice(b"Module: ");
                out.extend_from_slice(m);
                out.extend_from_slice(b"\n\tDevice node: /dev/");
                out.extend_from_slice(d);
                out.extend_from_slice(
                    format!(
                        "\n\t\tType: {kind} device\n\t\tMajor: {}\n\t\tMinor: {}\n",
                        node.major, node.minor
                    )
                    .as_bytes(),
                );
            }
            Format::Tmpfiles => {
                if let Some(slash) = d.iter().rposition(|&b| b == b'/') {
                    out.extend_from_slice(b"d /dev/");
                    out.extend_from_slice(&d[..slash]);
                    out.extend_from_slice(b" 0755 - - -\n");
                }
                out.extend_from_slice(format!("{kind}! /dev/").as_bytes());
                out.extend_from_slice(d);
                out.extend_from_slice(
                    format!(" 0600 - - - {}:{}\n", node.major, node.minor).as_bytes(),
                );
            }
            Format::Devname => {
                out.extend_from_slice(m);
                out.push(b' ');
                out.extend_from_slice(d);
                out.extend_from_slice(format!(" {kind}{}:{}\n", node.major, node.minor).as_bytes());
            }
        }
    }
}

/// The lines of a `modules.devname` file as kmod reads them (`fgets` into
/// a `PATH_MAX` buffer, each piece cut at its first NUL).
pub fn lines(data: &[u8]) -> impl Iterator<Item = Line<'_>> {
    fgets_chunks(data, PATH_MAX).into_iter().map(parse_line)
}

/// Reads one line (one `fgets` piece) as kmod does.
pub fn parse_line(line: &[u8]) -> Line<'_> {
    if line.first() == Some(&b'#') {
        return Line::Comment;
    }
    scan(line).map_or(Line::Invalid(line), Line::Node)
}

/// `sscanf(line, "%s %s %c%u:%u")` with all five fields, and a type of
/// `c` or `b`.
fn scan(line: &[u8]) -> Option<StaticNode> {
    let mut rest = line;
    let module = word(&mut rest)?;
    let devname = word(&mut rest)?;
    skip_space(&mut rest);
    let (&kind, after) = rest.split_first()?;
    rest = after;
    let major = number(&mut rest)?;
    rest = rest.strip_prefix(b":")?;
    let minor = number(&mut rest)?;
    if kind != b'c' && kind != b'b' {
        return None;
    }
    Some(StaticNode {
        module: module.to_vec(),
        devname: devname.to_vec(),
        kind,
        major,
        minor,
    })
}

fn skip_space(s: &mut &[u8]) {
    let n = s.iter().take_while(|&&b| isspace(b)).count();
    *s = &s[n..];
}

/// `%s`: blanks skipped, then bytes up to the next blank (at least one).
fn word<'a>(s: &mut &'a [u8]) -> Option<&'a [u8]> {
    skip_space(s);
    let n = s.iter().take_while(|&&b| !isspace(b)).count();
    if n == 0 {
        return None;
    }
    let (w, rest) = s.split_at(n);
    *s = rest;
    Some(w)
}

/// `%u`: blanks skipped, an optional sign, decimal digits, converted as
/// `strtoul` converts them and stored in an `unsigned int` (truncated).
fn number(s: &mut &[u8]) -> Option<u32> {
    skip_space(s);
    let sign = usize::from(matches!(s.first(), Some(b'+' | b'-')));
    let digits = s[sign..].iter().take_while(|b| b.is_ascii_digit()).count();
    if digits == 0 {
        return None;
    }
    let parsed = strtoul(&s[..sign + digits], 10);
    *s = &s[sign + digits..];
    Some(parsed.value as u32)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(line: &str) -> StaticNode {
        match parse_line(line.as_bytes()) {
            Line::Node(n) => n,
            other => panic!("{line:?}: {other:?}"),
        }
    }

    #[test]
    fn entries_as_sscanf_reads_them() {
        let n = node("fuse fuse c10:229\n");
        assert_eq!(
            (&n.module[..], &n.devname[..], n.kind, n.major, n.minor),
            (&b"fuse"[..], &b"fuse"[..], b'c', 10, 229)
        );
        assert_eq!(node("  a\tb  b 7: 8").minor, 8);
        assert_eq!(node("a b c 1:2").major, 1);
        assert_eq!(node("a b c-1:+2").major, 4294967295);
        assert_eq!(node("a b c4294967296:0").major, 0);
        assert_eq!(node("a b c99999999999999999999999:0").major, 4294967295);
        assert_eq!(node("a b c1:2 trailing words").minor, 2);
        for bad in [
            "a b x1:2",
            "a b c1 :2",
            "a b c:2",
            "a b c1:",
            "a b",
            "",
            "\n",
            "a b c1-2",
            "a b c-:1",
        ] {
            assert_eq!(
                parse_line(bad.as_bytes()),
                Line::Invalid(bad.as_bytes()),
                "{bad:?}"
            );
        }
        assert_eq!(parse_line(b"# comment"), Line::Comment);
        assert_eq!(
            parse_line(b" # not a comment c1:2"),
            Line::Invalid(b" # not a comment c1:2")
        );
    }

    #[test]
    fn the_three_formats() {
        let n = node("vfio vfio/vfio c10:196");
        let mut out = Vec::new();
        for f in Format::ALL {
            f.write(&n, &mut out);
        }
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "Module: vfio\n\tDevice node: /dev/vfio/vfio\n\t\tType: character device\n\t\tMajor: 10\n\t\tMinor: 196\n\
             d /dev/vfio 0755 - - -\nc! /dev/vfio/vfio 0600 - - - 10:196\n\
             vfio vfio/vfio c10:196\n"
        );
        assert_eq!(Format::from_name(b"tmpfiles"), Some(Format::Tmpfiles));
        assert_eq!(Format::from_name(b"Human"), None);
    }

    #[test]
    fn long_lines_are_read_in_pieces_and_nul_ends_a_piece() {
        let mut data = vec![b'x'; PATH_MAX + 10];
        data.extend_from_slice(b" y c1:2\nm d b3:4\0ignored\n");
        let lines: Vec<Line> = lines(&data).collect();
        assert_eq!(lines.len(), 3);
        assert!(matches!(lines[0], Line::Invalid(l) if l.len() == PATH_MAX - 1));
        assert!(matches!(&lines[1], Line::Node(n) if n.module.len() == 11));
        assert!(matches!(&lines[2], Line::Node(n) if n.kind == b'b' && n.minor == 4));
    }
}
