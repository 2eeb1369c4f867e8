//! POSIX extended regular expressions as glibc's
//! `regcomp(REG_EXTENDED | REG_NOSUB)` + `regexec` answer "does the pattern
//! match somewhere in the string": what depmod uses to match the kernel
//! version of `override` and `external` lines in `depmod.d`.
//!
//! Supported: alternation, groups, `* + ? {m} {m,} {m,n} {,n}`, `.` (any
//! byte but NUL), anchors `^ $` anywhere, bracket expressions (ranges,
//! negation, `[:class:]`, `[=c=]`, `[.c.]`), back-references `\1`-`\9`,
//! GNU's `\w \W \s \S \b \B \< \> \` \'`, and `\c` for a literal `c`.
//! Patterns glibc rejects (a repetition operator with nothing to repeat or
//! after an anchor, unbalanced `(`, bad intervals or ranges, a trailing
//! `\`, a reference to a group not yet closed or closed in an earlier
//! branch of the same alternation) fail to compile, and depmod then treats
//! the line as not matching. `tests/golden/ere/` holds glibc's
//! answers for 24,000 generated pattern/subject pairs and the C program that
//! produced them; a test compares this matcher with every one.
//!
//! Why not a crate: the `regex` crate has no back-references and finds
//! leftmost-first matches with its own syntax (`\d`, `(?i)`, Unicode
//! classes), rejecting or reading differently what glibc accepts; the
//! back-tracking crates follow Perl's syntax. Why not `libc::regcomp`: the
//! answer would depend on the host's C library and locale, and glibc itself
//! crashes on some inputs (below).
//!
//! Budgets. glibc's `regcomp` overflows its stack on 20,000 nested `(` and
//! on `(){32767}x`, and spends 5 s compiling `(){10000}x`; here a pattern
//! nested deeper than [`MAX_DEPTH`] (groups and stacked repetitions) or of
//! more than [`MAX_NODES`] atoms fails with [`RegexError::Espace`], glibc's
//! `REG_ESPACE` ("Memory exhausted"), and depmod treats it as any pattern
//! `regcomp` rejects. Matching without back-references runs over sets of
//! positions (each atom applied once per repetition to all positions at
//! once), so `(a*)*b` is linear in the subject instead of exponential; with
//! back-references a back-tracking search runs with a step and a depth
//! budget (the depth is one level per atom on the current path, so a
//! subject of more than some hundreds of bytes is over it), and `regexec`
//! fails with `REG_ESPACE` past them. The budgets keep the stack used under
//! 1 MiB in a debug build, well inside a test thread's 2 MiB.

use std::collections::HashMap;
use std::fmt;

use super::ctype;

/// How deep groups and stacked repetition operators may nest.
pub const MAX_DEPTH: u32 = 256;
/// How many atoms (characters, sets, groups, anchors, repetitions) a
/// pattern may hold.
pub const MAX_NODES: usize = 100_000;
/// Work allowed to one match over sets of positions: for each atom
/// applied, [`APPLY_COST`] plus the 64-position words of the set and the
/// positions in it.
const SET_WORK: u64 = 5_000_000;
/// What applying an atom costs beyond the size of its set: the sets made
/// and the answer kept for a repeated piece. It bounds how many atoms one
/// match applies (about 300,000), and so its time and the answers kept,
/// whatever the subject's length.
const APPLY_COST: u64 = 16;
/// Steps allowed to one back-tracking match.
const BACKTRACK_STEPS: u64 = 1_000_000;
/// How deep the back-tracking search may recurse (each level is an atom
/// matched on the current path).
const BACKTRACK_DEPTH: u32 = 768;

/// A compiled pattern.
#[derive(Debug, Clone)]
pub struct Regex {
    alt: Alt,
    /// Whether the pattern has back-references (matched by back-tracking).
    backrefs: bool,
}

/// Why `regcomp` or `regexec` failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RegexError {
    /// Not an extended regular expression glibc accepts (`REG_BADPAT`,
    /// `REG_EPAREN`, `REG_BADRPT`, ... in glibc's finer terms).
    Invalid,
    /// Over the budgets of the [module docs](self): glibc's `REG_ESPACE`.
    Espace,
}

impl fmt::Display for RegexError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            RegexError::Invalid => "Invalid regular expression",
            RegexError::Espace => "Memory exhausted",
        })
    }
}

impl std::error::Error for RegexError {}

type Alt = Vec<Vec<Piece>>;

#[derive(Debug, Clone)]
struct Piece {
    atom: Atom,
    min: u32,
    max: Option<u32>,
    /// Nesting of this piece's tree (1 for a plain atom).
    height: u32,
}

/// 256 bits: the bytes a bracket expression matches.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct ByteSet([u64; 4]);

impl ByteSet {
    fn of(f: impl Fn(u8) -> bool) -> ByteSet {
        let mut set = ByteSet::default();
        for b in 0..=255u8 {
            if f(b) {
                set.insert(b);
            }
        }
        set
    }

    fn insert(&mut self, b: u8) {
        self.0[usize::from(b >> 6)] |= 1 << (b & 63);
    }

    fn contains(&self, b: u8) -> bool {
        self.0[usize::from(b >> 6)] & (1 << (b & 63)) != 0
    }
}

#[derive(Debug, Clone)]
enum Atom {
    Byte(u8),
    Any,
    Set(ByteSet),
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

const DUP_MAX: u32 = 0x7fff;

fn is_word(b: u8) -> bool {
    ctype::isalnum(b) || b == b'_'
}

struct Parser<'a> {
    p: &'a [u8],
    i: usize,
    /// Groups opened so far.
    groups: usize,
    /// Groups 1 to 9 closed so far, as bits: a back-reference must name
    /// one of these.
    closed: u16,
    /// Atoms made so far.
    nodes: usize,
    backrefs: bool,
}

fn alt_height(alt: &Alt) -> u32 {
    alt.iter().flatten().map(|p| p.height).max().unwrap_or(0)
}

impl Parser<'_> {
    fn peek(&self) -> Option<u8> {
        self.p.get(self.i).copied()
    }

    fn count_node(&mut self) -> Result<(), RegexError> {
        self.nodes += 1;
        if self.nodes > MAX_NODES {
            return Err(RegexError::Espace);
        }
        Ok(())
    }

    fn alt(&mut self, depth: u32) -> Result<Alt, RegexError> {
        // As glibc's parse_reg_exp: each branch after the first sees only
        // the groups closed before the alternation, not those of the
        // branches before it; after it, all of them.
        let initial = self.closed;
        let mut alt = vec![self.concat(depth)?];
        while self.peek() == Some(b'|') {
            self.i += 1;
            let accumulated = self.closed;
            self.closed = initial;
            alt.push(self.concat(depth)?);
            self.closed |= accumulated;
        }
        Ok(alt)
    }

    fn concat(&mut self, depth: u32) -> Result<Vec<Piece>, RegexError> {
        let mut pieces: Vec<Piece> = Vec::new();
        let mut first = true;
        while let Some(c) = self.peek() {
            match c {
                b'|' => break,
                b')' if depth > 0 => break,
                b'*' | b'+' | b'?' | b'{' => {
                    let Some(last) = pieces.last() else {
                        return Err(RegexError::Invalid);
                    };
                    // Nothing to repeat, or an anchor: glibc's REG_BADRPT.
                    if first || last.atom.is_anchor() {
                        return Err(RegexError::Invalid);
                    }
                    let (min, max) = self.repetition()?;
                    self.count_node()?;
                    // Stacked operators apply to the repeated piece.
                    let Some(inner) = pieces.pop() else {
                        return Err(RegexError::Invalid);
                    };
                    let height = inner.height + 1;
                    if height > MAX_DEPTH {
                        return Err(RegexError::Espace);
                    }
                    pieces.push(Piece {
                        atom: Atom::Group(vec![vec![inner]], None),
                        min,
                        max,
                        height,
                    });
                    continue;
                }
                _ => {}
            }
            first = false;
            let atom = self.atom(depth)?;
            self.count_node()?;
            let height = match &atom {
                Atom::Group(alt, _) => alt_height(alt) + 1,
                _ => 1,
            };
            pieces.push(Piece {
                atom,
                min: 1,
                max: Some(1),
                height,
            });
        }
        Ok(pieces)
    }

    fn number(&mut self) -> Option<u32> {
        let start = self.i;
        let mut n: u32 = 0;
        while let Some(d) = self.peek().filter(|&c| ctype::isdigit(c)) {
            n = n.saturating_mul(10).saturating_add(u32::from(d - b'0'));
            self.i += 1;
        }
        (self.i > start).then_some(n)
    }

    fn repetition(&mut self) -> Result<(u32, Option<u32>), RegexError> {
        let c = self.peek().ok_or(RegexError::Invalid)?;
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
                    Some(min.ok_or(RegexError::Invalid)?)
                };
                if self.peek() != Some(b'}') {
                    return Err(RegexError::Invalid);
                }
                self.i += 1;
                let min = min.unwrap_or(0);
                if min > DUP_MAX || max.is_some_and(|m| m > DUP_MAX || m < min) {
                    return Err(RegexError::Invalid);
                }
                Ok((min, max))
            }
        }
    }

    fn atom(&mut self, depth: u32) -> Result<Atom, RegexError> {
        let c = self.peek().ok_or(RegexError::Invalid)?;
        self.i += 1;
        Ok(match c {
            b'(' => {
                if depth + 1 > MAX_DEPTH {
                    return Err(RegexError::Espace);
                }
                let n = self.groups + 1;
                self.groups = n;
                let alt = self.alt(depth + 1)?;
                if self.peek() != Some(b')') {
                    return Err(RegexError::Invalid);
                }
                self.i += 1;
                if n <= 9 {
                    self.closed |= 1 << n;
                }
                if alt_height(&alt) + 1 > MAX_DEPTH {
                    return Err(RegexError::Espace);
                }
                Atom::Group(alt, Some(n))
            }
            b'.' => Atom::Any,
            b'^' => Atom::Start,
            b'$' => Atom::End,
            b'[' => Atom::Set(self.bracket()?),
            b'\\' => {
                let e = self.peek().ok_or(RegexError::Invalid)?;
                self.i += 1;
                match e {
                    b'1'..=b'9' => {
                        let n = usize::from(e - b'0');
                        if self.closed & (1 << n) == 0 {
                            return Err(RegexError::Invalid);
                        }
                        self.backrefs = true;
                        Atom::BackRef(n)
                    }
                    b'w' | b'W' => Atom::Set(ByteSet::of(|b| is_word(b) == (e == b'w'))),
                    b's' | b'S' => Atom::Set(ByteSet::of(|b| ctype::isspace(b) == (e == b's'))),
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

    fn bracket(&mut self) -> Result<ByteSet, RegexError> {
        let mut set = ByteSet::default();
        let negate = self.peek() == Some(b'^');
        if negate {
            self.i += 1;
        }
        let mut first = true;
        loop {
            let c = self.peek().ok_or(RegexError::Invalid)?;
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
                            set.insert(b);
                        }
                    }
                    // A class cannot start a range.
                    if self.peek() == Some(b'-')
                        && self.p.get(self.i + 1).is_some_and(|&n| n != b']')
                    {
                        return Err(RegexError::Invalid);
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
                    Elem::Class(_) => return Err(RegexError::Invalid),
                };
                if hi < lo {
                    return Err(RegexError::Invalid);
                }
                for b in lo..=hi {
                    set.insert(b);
                }
            } else {
                set.insert(lo);
            }
        }
        if negate {
            for word in set.0.iter_mut() {
                *word = !*word;
            }
            // Bracket expressions never match NUL in regexec's strings.
            set.0[0] &= !1;
        }
        Ok(set)
    }

    fn bracket_element(&mut self) -> Result<Elem, RegexError> {
        let c = self.peek().ok_or(RegexError::Invalid)?;
        if c == b'[' {
            if let Some(&kind) = self.p.get(self.i + 1) {
                if matches!(kind, b':' | b'=' | b'.') {
                    let start = self.i + 2;
                    let end = self.p[start..]
                        .windows(2)
                        .position(|w| w[0] == kind && w[1] == b']')
                        .map(|n| start + n)
                        .ok_or(RegexError::Invalid)?;
                    let name = &self.p[start..end];
                    self.i = end + 2;
                    return match kind {
                        b':' => ctype::class(name)
                            .map(Elem::Class)
                            .ok_or(RegexError::Invalid),
                        _ if name.len() == 1 => Ok(Elem::Byte(name[0])),
                        _ => Err(RegexError::Invalid),
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

impl Regex {
    /// Compiles `pattern` as `regcomp(REG_EXTENDED)` would, or fails where
    /// it would fail; [`RegexError::Espace`] for a pattern over the
    /// budgets (see the [module docs](self)).
    pub fn new(pattern: &[u8]) -> Result<Regex, RegexError> {
        let mut p = Parser {
            p: pattern,
            i: 0,
            groups: 0,
            closed: 0,
            nodes: 0,
            backrefs: false,
        };
        // At the top level an unmatched ')' is an ordinary character: the
        // parser only stops at ')' inside a group.
        let alt = p.alt(0)?;
        Ok(Regex {
            alt,
            backrefs: p.backrefs,
        })
    }

    /// `regexec`: `Ok(true)` when the pattern matches somewhere in `s`,
    /// `Ok(false)` for `REG_NOMATCH`, [`RegexError::Espace`] when the
    /// search is over its budget. The string ends at its first NUL, as a C
    /// string does.
    pub fn exec(&self, s: &[u8]) -> Result<bool, RegexError> {
        let s = match s.iter().position(|&b| b == 0) {
            Some(n) => &s[..n],
            None => s,
        };
        if !self.backrefs {
            let mut m = SetMatcher {
                s,
                work: 0,
                words: (s.len() + 1).div_ceil(64) as u64,
                memo: HashMap::new(),
            };
            let all = Positions::all(s.len());
            return Ok(!m.alt(&self.alt, &all)?.is_empty());
        }
        let mut st = Backtrack {
            caps: vec![None; 10],
            steps: 0,
            depth: 0,
            exhausted: false,
        };
        for start in 0..=s.len() {
            if match_alt(&self.alt, s, start, &mut st, &mut |_, _| true) {
                return Ok(true);
            }
            if st.exhausted {
                return Err(RegexError::Espace);
            }
        }
        Ok(false)
    }

    /// Whether `regexec` returns 0: a search over budget is not a match,
    /// as depmod reads any non-zero return.
    pub fn is_match(&self, s: &[u8]) -> bool {
        self.exec(s) == Ok(true)
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

/// A set of positions 0..=len in the subject.
#[derive(Clone, PartialEq, Eq, Hash)]
struct Positions(Vec<u64>);

impl Positions {
    fn empty(len: usize) -> Positions {
        Positions(vec![0; (len + 1).div_ceil(64)])
    }

    fn all(len: usize) -> Positions {
        let mut p = Positions::empty(len);
        for i in 0..=len {
            p.insert(i);
        }
        p
    }

    fn insert(&mut self, i: usize) {
        self.0[i / 64] |= 1 << (i % 64);
    }

    fn is_empty(&self) -> bool {
        self.0.iter().all(|&w| w == 0)
    }

    fn len(&self) -> u64 {
        self.0.iter().map(|w| u64::from(w.count_ones())).sum()
    }

    fn union(&mut self, other: &Positions) {
        for (a, b) in self.0.iter_mut().zip(&other.0) {
            *a |= b;
        }
    }

    fn is_subset(&self, other: &Positions) -> bool {
        self.0.iter().zip(&other.0).all(|(a, b)| a & !b == 0)
    }

    fn iter(&self) -> impl Iterator<Item = usize> + '_ {
        self.0.iter().enumerate().flat_map(|(w, &bits)| {
            (0..64)
                .filter(move |b| bits & (1 << b) != 0)
                .map(move |b| w * 64 + b)
        })
    }
}

/// Matching without back-references: from a set of start positions, the
/// set of positions where an expression can end. Every path of a
/// back-tracking search is followed at once, so each atom is applied once
/// per repetition instead of once per path.
struct SetMatcher<'s> {
    s: &'s [u8],
    work: u64,
    /// Words in a [`Positions`].
    words: u64,
    /// The ends of each repeated piece (by address) from each set of starts
    /// met so far. Stacked operators (`a+++`, `(a*)+`) nest repetitions,
    /// and each level applies the one inside at least twice (once more to
    /// see that nothing is added), so without it the work doubles with
    /// every level: `^6\.1++++++++++++++++++*++++++++++++++` took 3.7 s
    /// (a finding of the long fuzz run). With it, each level meets the
    /// same few sets of starts and answers them once.
    memo: HashMap<(usize, Positions), Positions>,
}

impl SetMatcher<'_> {
    /// Charges applying an atom to `from`: [`APPLY_COST`], its words and
    /// its positions.
    fn charge(&mut self, from: &Positions) -> Result<(), RegexError> {
        self.work += APPLY_COST + self.words + from.len();
        if self.work > SET_WORK {
            return Err(RegexError::Espace);
        }
        Ok(())
    }

    fn alt(&mut self, alt: &Alt, from: &Positions) -> Result<Positions, RegexError> {
        let mut out = Positions::empty(self.s.len());
        for seq in alt {
            let mut cur = from.clone();
            for piece in seq {
                if cur.is_empty() {
                    break;
                }
                cur = self.piece(piece, &cur)?;
            }
            out.union(&cur);
        }
        Ok(out)
    }

    /// The ends of `piece` from the starts `from`; a repeated piece's
    /// are worked out once per set of starts (see `memo`).
    fn piece(&mut self, piece: &Piece, from: &Positions) -> Result<Positions, RegexError> {
        if piece.min == 1 && piece.max == Some(1) {
            return self.atom(&piece.atom, from);
        }
        let key = (std::ptr::from_ref(piece) as usize, from.clone());
        if let Some(known) = self.memo.get(&key) {
            return Ok(known.clone());
        }
        let out = self.repeat(piece, from)?;
        self.memo.insert(key, out.clone());
        Ok(out)
    }

    /// The union over k in min..=max of the ends after k iterations.
    /// Iterating stops early once an iteration adds nothing: if the ends
    /// after k+1 iterations are all already in the union, every later
    /// iteration's are too (an atom's ends from a union of starts are the
    /// union of its ends from each).
    fn repeat(&mut self, piece: &Piece, from: &Positions) -> Result<Positions, RegexError> {
        let mut cur = from.clone();
        for _ in 0..piece.min {
            let next = self.atom(&piece.atom, &cur)?;
            if next.is_empty() || next == cur {
                cur = next;
                break;
            }
            cur = next;
        }
        let mut out = cur.clone();
        let mut k = piece.min;
        while piece.max.is_none_or(|m| k < m) && !cur.is_empty() {
            let next = self.atom(&piece.atom, &cur)?;
            if next.is_subset(&out) {
                break;
            }
            out.union(&next);
            cur = next;
            k += 1;
        }
        Ok(out)
    }

    fn atom(&mut self, atom: &Atom, from: &Positions) -> Result<Positions, RegexError> {
        self.charge(from)?;
        let s = self.s;
        let n = s.len();
        let mut out = Positions::empty(n);
        let word_at = |p: usize| s.get(p).is_some_and(|&c| is_word(c));
        let word_before = |p: usize| p > 0 && is_word(s[p - 1]);
        let step = |out: &mut Positions, test: &dyn Fn(u8) -> bool| {
            for p in from.iter().filter(|&p| p < n && test(s[p])) {
                out.insert(p + 1);
            }
        };
        let keep = |out: &mut Positions, test: &dyn Fn(usize) -> bool| {
            for p in from.iter().filter(|&p| test(p)) {
                out.insert(p);
            }
        };
        match atom {
            Atom::Byte(b) => step(&mut out, &|c| c == *b),
            Atom::Any => step(&mut out, &|_| true),
            Atom::Set(set) => step(&mut out, &|c| set.contains(c)),
            Atom::Group(alt, _) => return self.alt(alt, from),
            // Patterns with back-references are matched by back-tracking.
            Atom::BackRef(_) => return Err(RegexError::Espace),
            Atom::Start | Atom::BufStart => keep(&mut out, &|p| p == 0),
            Atom::End | Atom::BufEnd => keep(&mut out, &|p| p == n),
            Atom::WordBoundary(yes) => keep(&mut out, &|p| (word_before(p) != word_at(p)) == *yes),
            Atom::WordStart => keep(&mut out, &|p| !word_before(p) && word_at(p)),
            Atom::WordEnd => keep(&mut out, &|p| word_before(p) && !word_at(p)),
        }
        Ok(out)
    }
}

/// What each capturing group matched so far: (start, end).
type Caps = Vec<Option<(usize, usize)>>;

/// The state of a back-tracking search: the captures on the current path
/// and the budget spent.
struct Backtrack {
    caps: Caps,
    steps: u64,
    depth: u32,
    exhausted: bool,
}

impl Backtrack {
    /// Takes one step one level deeper; false (and `exhausted`) past a
    /// budget.
    fn enter(&mut self) -> bool {
        self.steps += 1;
        self.depth += 1;
        if self.steps > BACKTRACK_STEPS || self.depth > BACKTRACK_DEPTH {
            self.exhausted = true;
        }
        !self.exhausted
    }
}

type Cont<'k> = dyn FnMut(usize, &mut Backtrack) -> bool + 'k;

fn match_alt(alt: &Alt, s: &[u8], pos: usize, st: &mut Backtrack, k: &mut Cont<'_>) -> bool {
    alt.iter().any(|seq| match_seq(seq, s, pos, st, k))
}

fn match_seq(seq: &[Piece], s: &[u8], pos: usize, st: &mut Backtrack, k: &mut Cont<'_>) -> bool {
    match seq.split_first() {
        None => k(pos, st),
        Some((piece, rest)) => match_piece(piece, 0, s, pos, st, &mut |p, st: &mut Backtrack| {
            match_seq(rest, s, p, st, k)
        }),
    }
}

fn match_piece(
    piece: &Piece,
    count: u32,
    s: &[u8],
    pos: usize,
    st: &mut Backtrack,
    k: &mut Cont<'_>,
) -> bool {
    if !st.enter() {
        return false;
    }
    let found = match_piece_inner(piece, count, s, pos, st, k);
    st.depth -= 1;
    found
}

fn match_piece_inner(
    piece: &Piece,
    count: u32,
    s: &[u8],
    pos: usize,
    st: &mut Backtrack,
    k: &mut Cont<'_>,
) -> bool {
    let can_more = piece.max.is_none_or(|m| count < m);
    if can_more {
        let progressed = match_atom(&piece.atom, s, pos, st, &mut |p, st: &mut Backtrack| {
            // An iteration that matched nothing cannot lead anywhere new.
            if p == pos && count >= piece.min {
                return false;
            }
            match_piece(piece, count + 1, s, p, st, k)
        });
        if progressed {
            return true;
        }
    }
    !st.exhausted && count >= piece.min && k(pos, st)
}

fn match_atom(atom: &Atom, s: &[u8], pos: usize, st: &mut Backtrack, k: &mut Cont<'_>) -> bool {
    let at = s.get(pos).copied();
    let before = pos.checked_sub(1).and_then(|p| s.get(p)).copied();
    let word_before = before.is_some_and(is_word);
    let word_after = at.is_some_and(is_word);
    match atom {
        Atom::Byte(b) => at == Some(*b) && k(pos + 1, st),
        Atom::Any => at.is_some() && k(pos + 1, st),
        Atom::Set(set) => at.is_some_and(|c| set.contains(c)) && k(pos + 1, st),
        Atom::Group(alt, None) => match_alt(alt, s, pos, st, k),
        Atom::Group(alt, Some(n)) => {
            let n = *n;
            match_alt(alt, s, pos, st, &mut |end, st: &mut Backtrack| {
                if n >= st.caps.len() {
                    st.caps.resize(n + 1, None);
                }
                let saved = st.caps[n];
                st.caps[n] = Some((pos, end));
                let r = k(end, st);
                st.caps[n] = saved;
                r
            })
        }
        Atom::BackRef(n) => match st.caps.get(*n).copied().flatten() {
            Some((a, b)) => {
                let text = &s[a..b];
                s[pos..].starts_with(text) && k(pos + text.len(), st)
            }
            None => false,
        },
        Atom::Start | Atom::BufStart => pos == 0 && k(pos, st),
        Atom::End | Atom::BufEnd => pos == s.len() && k(pos, st),
        Atom::WordBoundary(yes) => ((word_before != word_after) == *yes) && k(pos, st),
        Atom::WordStart => !word_before && word_after && k(pos, st),
        Atom::WordEnd => word_before && !word_after && k(pos, st),
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
        // After an alternation, the groups of all its branches are closed.
        assert_eq!(m("((a)|(b))\\3", "bb"), Some(true));
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
            "(.)|\\1",
            "a(b)|c(\\1)",
        ] {
            assert!(Regex::new(p.as_bytes()).is_err(), "{p}");
        }
    }

    /// Runs `f` on a thread with the default 2 MiB stack of a test thread:
    /// the budgets must keep the deepest accepted pattern inside it, also
    /// in a debug build.
    fn on_small_stack<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
        std::thread::Builder::new()
            .stack_size(2 << 20)
            .spawn(f)
            .unwrap()
            .join()
            .unwrap()
    }

    #[test]
    fn deep_nesting_is_espace() {
        on_small_stack(|| {
            let deep = |n: usize| format!("{}x{}", "(".repeat(n), ")".repeat(n));
            let ok = Regex::new(deep(MAX_DEPTH as usize - 1).as_bytes()).unwrap();
            assert!(ok.is_match(b"6.1x"));
            assert!(!ok.is_match(b"6.1"));
            for n in [MAX_DEPTH as usize + 1, 20_000] {
                assert_eq!(
                    Regex::new(deep(n).as_bytes()).err(),
                    Some(RegexError::Espace)
                );
            }
            // Unclosed: over budget before glibc would see the missing ')'.
            let open = "(".repeat(20_000);
            assert_eq!(Regex::new(open.as_bytes()).err(), Some(RegexError::Espace));
            // Stacked repetition operators nest too.
            let stars = format!("a{}", "*".repeat(20_000));
            assert_eq!(Regex::new(stars.as_bytes()).err(), Some(RegexError::Espace));
            let nested = format!("{}a{}", "(".repeat(200), ")*".repeat(200));
            assert_eq!(
                Regex::new(nested.as_bytes()).err(),
                Some(RegexError::Espace)
            );
            // With back-references the search's depth is bounded as well.
            let refs = format!("(a)\\1{}b", "(()*)".repeat(200));
            let re = Regex::new(refs.as_bytes()).unwrap();
            let _ = re.exec("a".repeat(5_000).as_bytes());
        });
    }

    #[test]
    fn huge_patterns_are_espace() {
        let long = "a".repeat(MAX_NODES + 1);
        assert_eq!(Regex::new(long.as_bytes()).err(), Some(RegexError::Espace));
        assert_eq!(RegexError::Espace.to_string(), "Memory exhausted");
    }

    #[test]
    fn repetition_is_fast() {
        let t = std::time::Instant::now();
        // glibc's regcomp overflows its stack here.
        let re = Regex::new(b"(){32767}x").unwrap();
        assert!(re.is_match(b"6.1x"));
        assert!(!re.is_match(b"6.1"));
        // Exponential for a plain back-tracking search.
        let re = Regex::new(b"(a*)*b").unwrap();
        assert_eq!(re.exec("a".repeat(10_000).as_bytes()), Ok(false));
        let mut s = "a".repeat(10_000);
        s.push('b');
        assert_eq!(re.exec(s.as_bytes()), Ok(true));
        let re = Regex::new(b"((a|aa){1,32767}){32767}c").unwrap();
        assert_eq!(
            re.exec("a".repeat(3_000).as_bytes()),
            Err(RegexError::Espace)
        );
        // 32767 iterations of at least one byte each: never on a short subject.
        assert_eq!(re.exec(b"aac"), Ok(false));
        let re = Regex::new(b"^((a|aa){1,32767}){0,32767}c$").unwrap();
        assert_eq!(re.exec(b"aaaaac"), Ok(true));
        // Stacked operators nest repetitions: 33 levels (the long fuzz
        // run's depmod.d finding: 3.7 s before each level's answers were
        // kept)
        let re = Regex::new(b"^6\\.1++++++++++++++++++*++++++++++++++").unwrap();
        assert_eq!(re.exec(b"6.1.0-50-amd64"), Ok(true));
        // (the `*` lets the 1 go: any 6. matches)
        assert_eq!(re.exec(b"6.2.0-50-amd64"), Ok(true));
        assert_eq!(re.exec(b"5.1.0-50-amd64"), Ok(false));
        let deep = format!("(a{})+b", "+".repeat(40));
        let re = Regex::new(deep.as_bytes()).unwrap();
        assert_eq!(re.exec("a".repeat(40).as_bytes()), Ok(false));
        let mut s = "a".repeat(40);
        s.push('b');
        assert_eq!(re.exec(s.as_bytes()), Ok(true));
        // deeper and longer: over the work budget, quickly
        let deep = format!("(a{})+b", "+".repeat(250));
        let re = Regex::new(deep.as_bytes()).unwrap();
        assert_eq!(
            re.exec("a".repeat(1000).as_bytes()),
            Err(RegexError::Espace)
        );
        // With a back-reference: bounded by the step budget.
        let re = Regex::new(b"(a*)*\\1b").unwrap();
        assert_eq!(re.exec("a".repeat(24).as_bytes()), Err(RegexError::Espace));
        assert!(!re.is_match("a".repeat(24).as_bytes()));
        assert_eq!(re.exec(b"aab"), Ok(true));
        // Each search above is cut off in well under a second.
        assert!(
            t.elapsed() < std::time::Duration::from_secs(10),
            "{:?}",
            t.elapsed()
        );
    }
}
