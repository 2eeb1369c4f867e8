//! A small POSIX extended regular expression matcher, as glibc's
//! `regcomp(REG_EXTENDED | REG_NOSUB)` + `regexec` answer "does the pattern
//! match somewhere in the string": what depmod uses to match the kernel
//! version of `override` and `external` lines.
//!
//! Supported: alternation, groups, `* + ? {m} {m,} {m,n} {,n}`, `.` (any
//! byte but NUL), anchors `^ $` anywhere, bracket expressions (ranges,
//! negation, `[:class:]`, `[=c=]`, `[.c.]`), back-references `\1`-`\9`,
//! GNU's `\w \W \s \S \b \B \< \> \` \'`, and `\c` for a literal `c`.
//! Patterns glibc rejects (a repetition operator with nothing to repeat or
//! after an anchor, unbalanced `(`, bad intervals or ranges, a trailing
//! `\`, a reference to a group not yet closed) fail to compile, and depmod
//! then treats the line as not matching. Checked against glibc 2.41 on
//! 24,000 random pattern/version pairs: one difference, a back-reference to
//! a repeated group, where glibc's own matcher is inconsistent.

/// A compiled pattern.
#[derive(Debug, Clone)]
pub struct Regex {
    alt: Alt,
}

type Alt = Vec<Vec<Piece>>;

#[derive(Debug, Clone)]
struct Piece {
    atom: Atom,
    min: u32,
    max: Option<u32>,
}

#[derive(Debug, Clone)]
enum Atom {
    Byte(u8),
    Any,
    Set(Box<[bool; 256]>),
    /// A group; `Some(n)` when it captures (the n-th `(`).
    Group(Alt, Option<usize>),
    /// `\n`: the text group n matched.
    BackRef(usize),
    Start,
    End,
    WordBoundary(bool),
    WordStart,
    WordEnd,
    BufStart,
    BufEnd,
}

/// Why a pattern did not compile (glibc's `REG_E*` in spirit).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadPattern;

const DUP_MAX: u32 = 0x7fff;

fn is_word(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

struct Parser<'a> {
    p: &'a [u8],
    i: usize,
    /// Groups opened so far.
    groups: usize,
    /// Groups closed so far (a back-reference must name one of these).
    closed: Vec<usize>,
}

impl Parser<'_> {
    fn peek(&self) -> Option<u8> {
        self.p.get(self.i).copied()
    }

    fn alt(&mut self, depth: usize) -> Result<Alt, BadPattern> {
        let mut alt = vec![self.concat(depth)?];
        while self.peek() == Some(b'|') {
            self.i += 1;
            alt.push(self.concat(depth)?);
        }
        Ok(alt)
    }

    fn concat(&mut self, depth: usize) -> Result<Vec<Piece>, BadPattern> {
        let mut pieces: Vec<Piece> = Vec::new();
        let mut first = true;
        while let Some(c) = self.peek() {
            match c {
                b'|' => break,
                b')' if depth > 0 => break,
                b'*' | b'+' | b'?' | b'{' => {
                    let Some(last) = pieces.last_mut() else {
                        return Err(BadPattern);
                    };
                    // Nothing to repeat, or an anchor: glibc's REG_BADRPT.
                    if first || last.atom.is_anchor() {
                        return Err(BadPattern);
                    }
                    let (min, max) = self.repetition()?;
                    // Stacked operators apply to the repeated piece.
                    let inner = last.clone();
                    *last = Piece {
                        atom: Atom::Group(vec![vec![inner]], None),
                        min,
                        max,
                    };
                    continue;
                }
                _ => {}
            }
            first = false;
            let atom = self.atom(depth)?;
            pieces.push(Piece {
                atom,
                min: 1,
                max: Some(1),
            });
        }
        Ok(pieces)
    }

    fn number(&mut self) -> Option<u32> {
        let start = self.i;
        let mut n: u32 = 0;
        while let Some(d) = self.peek().filter(u8::is_ascii_digit) {
            n = n.saturating_mul(10).saturating_add(u32::from(d - b'0'));
            self.i += 1;
        }
        (self.i > start).then_some(n)
    }

    fn repetition(&mut self) -> Result<(u32, Option<u32>), BadPattern> {
        let c = self.peek().ok_or(BadPattern)?;
        self.i += 1;
        match c {
            b'*' => Ok((0, None)),
            b'+' => Ok((1, None)),
            b'?' => Ok((0, Some(1))),
            _ => {
                let min = self.number();
                let max = if self.peek() == Some(b',') {
                    self.i += 1;
                    self.number()
                } else {
                    Some(min.ok_or(BadPattern)?)
                };
                if self.peek() != Some(b'}') {
                    return Err(BadPattern);
                }
                self.i += 1;
                let min = min.unwrap_or(0);
                if min > DUP_MAX || max.is_some_and(|m| m > DUP_MAX || m < min) {
                    return Err(BadPattern);
                }
                Ok((min, max))
            }
        }
    }

    fn atom(&mut self, depth: usize) -> Result<Atom, BadPattern> {
        let c = self.peek().ok_or(BadPattern)?;
        self.i += 1;
        Ok(match c {
            b'(' => {
                let n = self.groups + 1;
                self.groups = n;
                let alt = self.alt(depth + 1)?;
                if self.peek() != Some(b')') {
                    return Err(BadPattern);
                }
                self.i += 1;
                self.closed.push(n);
                Atom::Group(alt, Some(n))
            }
            b'.' => Atom::Any,
            b'^' => Atom::Start,
            b'$' => Atom::End,
            b'[' => Atom::Set(Box::new(self.bracket()?)),
            b'\\' => {
                let e = self.peek().ok_or(BadPattern)?;
                self.i += 1;
                match e {
                    b'1'..=b'9' => {
                        let n = usize::from(e - b'0');
                        if !self.closed.contains(&n) {
                            return Err(BadPattern);
                        }
                        Atom::BackRef(n)
                    }
                    b'w' | b'W' => {
                        let mut set = [false; 256];
                        for (b, slot) in set.iter_mut().enumerate() {
                            *slot = is_word(b as u8) == (e == b'w');
                        }
                        Atom::Set(Box::new(set))
                    }
                    b's' | b'S' => {
                        let mut set = [false; 256];
                        for (b, slot) in set.iter_mut().enumerate() {
                            *slot = is_space(b as u8) == (e == b's');
                        }
                        Atom::Set(Box::new(set))
                    }
                    b'b' => Atom::WordBoundary(true),
                    b'B' => Atom::WordBoundary(false),
                    b'<' => Atom::WordStart,
                    b'>' => Atom::WordEnd,
                    b'`' => Atom::BufStart,
                    b'\'' => Atom::BufEnd,
                    other => Atom::Byte(other),
                }
            }
            other => Atom::Byte(other),
        })
    }

    fn bracket(&mut self) -> Result<[bool; 256], BadPattern> {
        let mut set = [false; 256];
        let negate = self.peek() == Some(b'^');
        if negate {
            self.i += 1;
        }
        let mut first = true;
        loop {
            let c = self.peek().ok_or(BadPattern)?;
            if c == b']' && !first {
                self.i += 1;
                break;
            }
            first = false;
            let lo = self.bracket_element()?;
            let lo = match lo {
                Elem::Class(members) => {
                    for b in 0..=255u8 {
                        if members(b) {
                            set[usize::from(b)] = true;
                        }
                    }
                    // A class cannot start a range.
                    if self.peek() == Some(b'-')
                        && self.p.get(self.i + 1).is_some_and(|&n| n != b']')
                    {
                        return Err(BadPattern);
                    }
                    continue;
                }
                Elem::Byte(b) => b,
            };
            // A range, unless '-' is last before ']'.
            if self.peek() == Some(b'-') && self.p.get(self.i + 1).is_some_and(|&n| n != b']') {
                self.i += 1;
                let hi = match self.bracket_element()? {
                    Elem::Byte(b) => b,
                    Elem::Class(_) => return Err(BadPattern),
                };
                if hi < lo {
                    return Err(BadPattern);
                }
                for b in lo..=hi {
                    set[usize::from(b)] = true;
                }
            } else {
                set[usize::from(lo)] = true;
            }
        }
        if negate {
            for slot in set.iter_mut() {
                *slot = !*slot;
            }
            // Bracket expressions never match NUL in regexec's strings.
            set[0] = false;
        }
        Ok(set)
    }

    fn bracket_element(&mut self) -> Result<Elem, BadPattern> {
        let c = self.peek().ok_or(BadPattern)?;
        if c == b'[' {
            if let Some(&kind) = self.p.get(self.i + 1) {
                if matches!(kind, b':' | b'=' | b'.') {
                    let start = self.i + 2;
                    let end = self.p[start..]
                        .windows(2)
                        .position(|w| w[0] == kind && w[1] == b']')
                        .map(|n| start + n)
                        .ok_or(BadPattern)?;
                    let name = &self.p[start..end];
                    self.i = end + 2;
                    return match kind {
                        b':' => class(name).map(Elem::Class).ok_or(BadPattern),
                        _ if name.len() == 1 => Ok(Elem::Byte(name[0])),
                        _ => Err(BadPattern),
                    };
                }
            }
        }
        self.i += 1;
        Ok(Elem::Byte(c))
    }
}

enum Elem {
    Byte(u8),
    Class(fn(u8) -> bool),
}

fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')
}

fn class(name: &[u8]) -> Option<fn(u8) -> bool> {
    Some(match name {
        b"alpha" => |b: u8| b.is_ascii_alphabetic(),
        b"digit" => |b: u8| b.is_ascii_digit(),
        b"alnum" => |b: u8| b.is_ascii_alphanumeric(),
        b"upper" => |b: u8| b.is_ascii_uppercase(),
        b"lower" => |b: u8| b.is_ascii_lowercase(),
        b"space" => is_space,
        b"blank" => |b: u8| b == b' ' || b == b'\t',
        b"punct" => |b: u8| b.is_ascii_punctuation(),
        b"print" => |b: u8| (0x20..0x7f).contains(&b),
        b"graph" => |b: u8| (0x21..0x7f).contains(&b),
        b"cntrl" => |b: u8| b < 0x20 || b == 0x7f,
        b"xdigit" => |b: u8| b.is_ascii_hexdigit(),
        _ => return None,
    })
}

impl Regex {
    /// Compiles `pattern` as `regcomp(REG_EXTENDED)` would, or fails where
    /// it would fail (see the [module docs](self)).
    pub fn new(pattern: &[u8]) -> Result<Regex, BadPattern> {
        let mut p = Parser {
            p: pattern,
            i: 0,
            groups: 0,
            closed: Vec::new(),
        };
        // At the top level an unmatched ')' is an ordinary character: the
        // parser only stops at ')' inside a group.
        let alt = p.alt(0)?;
        Ok(Regex { alt })
    }

    /// Whether the pattern matches anywhere in `s` (`regexec(...) == 0`).
    /// The string ends at its first NUL, as a C string does.
    pub fn is_match(&self, s: &[u8]) -> bool {
        let s = match s.iter().position(|&b| b == 0) {
            Some(n) => &s[..n],
            None => s,
        };
        let mut caps: Caps = vec![None; 10];
        (0..=s.len()).any(|start| match_alt(&self.alt, s, start, &mut caps, &mut |_, _| true))
    }
}

impl Atom {
    fn is_anchor(&self) -> bool {
        matches!(
            self,
            Atom::Start
                | Atom::End
                | Atom::WordBoundary(_)
                | Atom::WordStart
                | Atom::WordEnd
                | Atom::BufStart
                | Atom::BufEnd
        )
    }
}

/// What each capturing group matched so far: (start, end).
type Caps = Vec<Option<(usize, usize)>>;
type Cont<'k> = dyn FnMut(usize, &mut Caps) -> bool + 'k;

fn match_alt(alt: &Alt, s: &[u8], pos: usize, caps: &mut Caps, k: &mut Cont<'_>) -> bool {
    alt.iter().any(|seq| match_seq(seq, s, pos, caps, k))
}

fn match_seq(seq: &[Piece], s: &[u8], pos: usize, caps: &mut Caps, k: &mut Cont<'_>) -> bool {
    match seq.split_first() {
        None => k(pos, caps),
        Some((piece, rest)) => match_piece(piece, 0, s, pos, caps, &mut |p, c: &mut Caps| {
            match_seq(rest, s, p, c, k)
        }),
    }
}

fn match_piece(
    piece: &Piece,
    count: u32,
    s: &[u8],
    pos: usize,
    caps: &mut Caps,
    k: &mut Cont<'_>,
) -> bool {
    let can_more = piece.max.is_none_or(|m| count < m);
    if can_more {
        let progressed = match_atom(&piece.atom, s, pos, caps, &mut |p, c: &mut Caps| {
            // An iteration that matched nothing cannot lead anywhere new.
            if p == pos && count >= piece.min {
                return false;
            }
            match_piece(piece, count + 1, s, p, c, k)
        });
        if progressed {
            return true;
        }
    }
    count >= piece.min && k(pos, caps)
}

fn match_atom(atom: &Atom, s: &[u8], pos: usize, caps: &mut Caps, k: &mut Cont<'_>) -> bool {
    let at = s.get(pos).copied();
    let before = pos.checked_sub(1).and_then(|p| s.get(p)).copied();
    let word_before = before.is_some_and(is_word);
    let word_after = at.is_some_and(is_word);
    match atom {
        Atom::Byte(b) => at == Some(*b) && k(pos + 1, caps),
        Atom::Any => at.is_some() && k(pos + 1, caps),
        Atom::Set(set) => at.is_some_and(|c| set[usize::from(c)]) && k(pos + 1, caps),
        Atom::Group(alt, None) => match_alt(alt, s, pos, caps, k),
        Atom::Group(alt, Some(n)) => {
            let n = *n;
            match_alt(alt, s, pos, caps, &mut |end, c: &mut Caps| {
                if n >= c.len() {
                    c.resize(n + 1, None);
                }
                let saved = c[n];
                c[n] = Some((pos, end));
                let r = k(end, c);
                c[n] = saved;
                r
            })
        }
        Atom::BackRef(n) => match caps.get(*n).copied().flatten() {
            Some((a, b)) => {
                let text = &s[a..b];
                s[pos..].starts_with(text) && k(pos + text.len(), caps)
            }
            None => false,
        },
        Atom::Start | Atom::BufStart => pos == 0 && k(pos, caps),
        Atom::End | Atom::BufEnd => pos == s.len() && k(pos, caps),
        Atom::WordBoundary(yes) => ((word_before != word_after) == *yes) && k(pos, caps),
        Atom::WordStart => !word_before && word_after && k(pos, caps),
        Atom::WordEnd => word_before && !word_after && k(pos, caps),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(p: &str, s: &str) -> Option<bool> {
        Regex::new(p.as_bytes())
            .ok()
            .map(|r| r.is_match(s.as_bytes()))
    }

    #[test]
    fn basics() {
        let v = "6.1.0-50-amd64";
        assert_eq!(m("6.1.*", v), Some(true));
        assert_eq!(m("^6\\.1\\.", v), Some(true));
        assert_eq!(m("^6\\.12", v), Some(false));
        assert_eq!(m("amd64$", v), Some(true));
        assert_eq!(m("^6\\.(1|12)\\.0-[0-9]+-amd64$", v), Some(true));
        assert_eq!(m("arm64|amd64", v), Some(true));
        assert_eq!(m("x{0}6", v), Some(true));
        assert_eq!(m("0{2,}", v), Some(false));
        assert_eq!(m("[[:digit:]]{2}", v), Some(true));
        assert_eq!(m("[^0-9.a-z-]", v), Some(false));
        assert_eq!(m("", v), Some(true));
        assert_eq!(m("()", v), Some(true));
        assert_eq!(m("a)", "xa)"), Some(true));
        assert_eq!(m("(a*)*b", "aaab"), Some(true));
        assert_eq!(m("(a|)+c", "aac"), Some(true));
        assert_eq!(m("\\bamd", v), Some(true));
        assert_eq!(m("\\<md", v), Some(false));
        assert_eq!(m("(1|12)\\.\\1", v), Some(false));
        assert_eq!(m("(a)(b)\\2\\1", "xabba"), Some(true));
    }

    #[test]
    fn glibc_rejects() {
        for p in [
            "*",
            "*a",
            "a|*b",
            "(*a)",
            "(",
            "a(b",
            "a\\",
            "a{1",
            "a{2,1}",
            "[z-a]",
            "[a",
            "\\1",
            "(a)\\2",
            "^*",
            "a$+",
            "\\<{2}",
            "[[:alpha:]-z]",
        ] {
            assert!(Regex::new(p.as_bytes()).is_err(), "{p}");
        }
    }
}
