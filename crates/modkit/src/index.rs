//! kmod's binary trie indexes: `modules.dep.bin`, `modules.alias.bin`,
//! `modules.symbols.bin`, `modules.builtin.bin`, `modules.builtin.alias.bin`.
//!
//! # File format (as written by depmod, read by libkmod)
//!
//! All integers are 32-bit big-endian. The file starts with a 12-byte header:
//! the magic `0xB007F457`, a version whose high 16 bits (the major version)
//! must be `2` (the low 16 bits, the minor version, are ignored), and the
//! offset of the root node.
//!
//! A node is referenced by a 32-bit word: the low 28 bits are the file offset
//! of the node, the high bits say which parts the node has:
//! `0x80000000` a prefix, `0x20000000` children, `0x40000000` values.
//! A masked offset of 0 means "no node" (used for holes in child arrays).
//! At the node's offset, in this order and each only when its flag is set:
//!
//! - the prefix: a NUL-terminated string (path compression of the trie);
//! - `first`, `last`: two bytes, the range of child characters (both below
//!   128, `first <= last`), then `last - first + 1` node references, one per
//!   character in that range;
//! - a value count, then that many `(priority, NUL-terminated value)` pairs.
//!
//! A key is the concatenation, from the root, of each node's prefix and the
//! character of the edge leading to the next node.
//!
//! # Behaviour this reader reproduces
//!
//! It follows libkmod's mmap reader (`index_mm_*`), the one `modprobe` uses:
//! [`Index::lookup`] returns the first stored value of the exact key,
//! [`Index::search_wildcard`] treats stored keys as `fnmatch(3)` patterns and
//! walks the trie the way libkmod does, collecting results ordered by
//! ascending priority (a value is inserted before earlier results of equal
//! priority, as libkmod's list insertion does), and [`Index::iter`] lists
//! every key/value in libkmod's dump order (a node's values, then its
//! children by ascending character).
//!
//! # Writing
//!
//! [`IndexBuilder`] builds the trie as depmod does and
//! [`IndexBuilder::to_bytes`] writes depmod's exact bytes: nodes in
//! pre-order (a node, then its children's subtrees by ascending character),
//! values of a key sorted by priority with equal priorities newest first.
//!
//! # Corrupt input
//!
//! Where libkmod reads out of bounds, loops forever or silently treats a bad
//! node as absent, this reader returns an `EINVAL` [`Error`]: every offset and
//! string is bounds-checked, a child range not within `0..128` or reversed is
//! rejected, and whole-subtree walks reject a node reached twice (which a
//! trie written by depmod never contains), so cycles cannot loop. Nothing
//! here panics or recurses.

use std::collections::HashSet;
use std::hash::{BuildHasherDefault, Hasher};
use std::path::Path;

use crate::error::{Error, Result};

/// The magic number at the start of every kmod index (`BOOTFAST`, sort of).
pub const INDEX_MAGIC: u32 = 0xB007_F457;
/// The only major version of the format that libkmod accepts.
pub const INDEX_VERSION_MAJOR: u32 = 0x0002;
/// The version depmod writes (major 2, minor 1).
pub const INDEX_VERSION: u32 = 0x0002_0001;

const NODE_PREFIX: u32 = 0x8000_0000;
const NODE_VALUES: u32 = 0x4000_0000;
const NODE_CHILDS: u32 = 0x2000_0000;
const NODE_MASK: u32 = 0x0FFF_FFFF;
const CHILD_MAX: u8 = 128;
const HEADER_LEN: usize = 12;

/// One value stored under a key, with its priority (lower sorts first in
/// wildcard results; depmod uses the module's position in `modules.order`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct IndexValue {
    /// The priority stored with the value.
    pub priority: u32,
    /// The value text. Bytes that are not UTF-8 are replaced with U+FFFD
    /// (values written by depmod are ASCII module names and paths).
    pub value: String,
}

/// A kmod binary index loaded into memory.
///
/// Only the 12-byte header is checked when opening; nodes are decoded and
/// bounds-checked lazily by each query.
#[derive(Debug, Clone)]
pub struct Index {
    data: IndexBytes,
    root: u32,
}

/// A decoded node: borrowed slices into the index data.
#[derive(Clone, Copy)]
struct Node<'a> {
    /// Masked file offset of the node (for cycle detection).
    offset: u32,
    prefix: &'a [u8],
    first: u8,
    last: u8,
    /// `4 * (last - first + 1)` bytes of child references (empty if none).
    children: &'a [u8],
    value_count: u32,
    /// Everything from the first value to the end of the file.
    values: &'a [u8],
}

impl Node<'_> {
    fn has_children(&self) -> bool {
        !self.children.is_empty()
    }
}

fn be32(data: &[u8], at: usize) -> Option<u32> {
    let b = data.get(at..at.checked_add(4)?)?;
    Some(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
}

/// The NUL-terminated string at the start of `data`, and the rest after
/// the NUL; `None` when no NUL is found.
fn cstr(data: &[u8]) -> Option<(&[u8], &[u8])> {
    let end = data.iter().position(|&b| b == 0)?;
    Some((&data[..end], &data[end + 1..]))
}

/// The part of `s` before its first NUL, as C sees a string.
fn until_nul(s: &[u8]) -> &[u8] {
    match s.iter().position(|&b| b == 0) {
        Some(end) => &s[..end],
        None => s,
    }
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Iterator over a node's `(priority, value)` pairs, bounds-checked.
struct Values<'a> {
    rest: &'a [u8],
    left: u32,
}

impl<'a> Iterator for Values<'a> {
    type Item = Result<(u32, &'a [u8])>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.left == 0 {
            return None;
        }
        self.left -= 1;
        let item = be32(self.rest, 0)
            .and_then(|prio| cstr(&self.rest[4..]).map(|(v, rest)| (prio, v, rest)));
        match item {
            Some((prio, value, rest)) => {
                self.rest = rest;
                Some(Ok((prio, value)))
            }
            None => {
                self.left = 0;
                Some(Err(Error::invalid("index: value runs past end of file")))
            }
        }
    }
}

/// Inserts like libkmod's `add_value`: before the first entry whose
/// priority is not lower, so equal priorities end up newest first.
fn add_value(out: &mut Vec<IndexValue>, priority: u32, value: &[u8]) {
    let at = out.partition_point(|v| v.priority < priority);
    out.insert(
        at,
        IndexValue {
            priority,
            value: text(value),
        },
    );
}

/// A cheap multiplicative hasher for node offsets (the visited sets are
/// hot in wildcard searches; SipHash's DoS resistance buys nothing here).
#[derive(Default)]
struct OffsetHasher(u64);

impl Hasher for OffsetHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        }
    }
    fn write_u32(&mut self, n: u32) {
        self.0 = u64::from(n).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }
}

type Visited = HashSet<u32, BuildHasherDefault<OffsetHasher>>;

/// Records a visit to a node during a subtree walk; a second visit means
/// the "trie" has a cycle or shared node.
fn visit(seen: &mut Visited, node: &Node<'_>) -> Result<()> {
    if seen.insert(node.offset) {
        Ok(())
    } else {
        Err(Error::invalid(format!(
            "index: node at offset {} reached twice (cycle)",
            node.offset
        )))
    }
}

/// An index's bytes: read into memory, or mapped from its file (only the
/// pages a lookup touches are then read, as with libkmod's mmap reader).
enum IndexBytes {
    Owned(Vec<u8>),
    Mapped(crate::sys::FileMapping),
}

impl Clone for IndexBytes {
    fn clone(&self) -> IndexBytes {
        IndexBytes::Owned(self.to_vec())
    }
}

impl std::fmt::Debug for IndexBytes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "IndexBytes({} bytes)", self.len())
    }
}

impl std::ops::Deref for IndexBytes {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        match self {
            IndexBytes::Owned(v) => v,
            IndexBytes::Mapped(m) => m.as_slice(),
        }
    }
}

impl Index {
    /// Maps an index file (or reads it into memory where it cannot be
    /// mapped) and checks its header.
    ///
    /// Errors: the I/O error (with its errno) if the file cannot be read,
    /// `EINVAL` if it is shorter than the header, has the wrong magic or a
    /// major version other than 2.
    pub fn open(path: impl AsRef<Path>) -> Result<Index> {
        let path = path.as_ref();
        let file = std::fs::File::open(path).map_err(|e| Error::io(e, path.display()))?;
        match crate::sys::FileMapping::new(&file) {
            Ok(map) => Index::checked(IndexBytes::Mapped(map)),
            Err(_) => {
                let mut data = Vec::new();
                std::io::Read::read_to_end(&mut &file, &mut data)
                    .map_err(|e| Error::io(e, path.display()))?;
                Index::from_bytes(data)
            }
        }
    }

    /// Takes an index already in memory and checks its header.
    ///
    /// Errors: `EINVAL` if `data` is shorter than the 12-byte header, the
    /// magic is not `0xB007F457` or the major version is not 2 (libkmod
    /// ignores the minor version, and so does this).
    pub fn from_bytes(data: Vec<u8>) -> Result<Index> {
        Index::checked(IndexBytes::Owned(data))
    }

    fn checked(data: IndexBytes) -> Result<Index> {
        if data.len() < HEADER_LEN {
            return Err(Error::invalid("index: file shorter than its header"));
        }
        let magic = be32(&data, 0).unwrap_or(0);
        if magic != INDEX_MAGIC {
            return Err(Error::invalid(format!(
                "index: magic check fail: {magic:x} instead of {INDEX_MAGIC:x}"
            )));
        }
        let version = be32(&data, 4).unwrap_or(0);
        if version >> 16 != INDEX_VERSION_MAJOR {
            return Err(Error::invalid(format!(
                "index: major version check fail: {} instead of {}",
                version >> 16,
                INDEX_VERSION_MAJOR
            )));
        }
        let root = be32(&data, 8).unwrap_or(0);
        Ok(Index { data, root })
    }

    /// The raw bytes of the index file.
    pub fn as_bytes(&self) -> &[u8] {
        &self.data
    }

    /// Decodes the node referenced by `reference` (offset plus flags).
    /// `Ok(None)` for a null reference (masked offset 0), as libkmod does;
    /// `EINVAL` when the node does not fit in the file or is malformed.
    fn node(&self, reference: u32) -> Result<Option<Node<'_>>> {
        let offset = reference & NODE_MASK;
        if offset == 0 {
            return Ok(None);
        }
        let start = offset as usize;
        if start >= self.data.len() {
            return Err(Error::invalid(format!(
                "index: node offset {offset} past end of file ({} bytes)",
                self.data.len()
            )));
        }
        let mut p = &self.data[start..];
        let mut node = Node {
            offset,
            prefix: &[],
            first: CHILD_MAX,
            last: 0,
            children: &[],
            value_count: 0,
            values: &[],
        };
        if reference & NODE_PREFIX != 0 {
            let (prefix, rest) = cstr(p).ok_or_else(|| {
                Error::invalid(format!("index: prefix of node {offset} runs past end"))
            })?;
            node.prefix = prefix;
            p = rest;
        }
        if reference & NODE_CHILDS != 0 {
            let (first, last) = match p {
                [f, l, ..] => (*f, *l),
                _ => {
                    return Err(Error::invalid(format!(
                        "index: children of node {offset} run past end"
                    )))
                }
            };
            if first > last || first >= CHILD_MAX || last >= CHILD_MAX {
                return Err(Error::invalid(format!(
                    "index: node {offset} has bad child range {first}..{last}"
                )));
            }
            let len = 4 * (usize::from(last - first) + 1);
            node.children = p.get(2..2 + len).ok_or_else(|| {
                Error::invalid(format!("index: children of node {offset} run past end"))
            })?;
            node.first = first;
            node.last = last;
            p = &p[2 + len..];
        }
        if reference & NODE_VALUES != 0 {
            node.value_count = be32(p, 0).ok_or_else(|| {
                Error::invalid(format!("index: values of node {offset} run past end"))
            })?;
            node.values = &p[4..];
        }
        Ok(Some(node))
    }

    fn root_node(&self) -> Result<Option<Node<'_>>> {
        // An index of nothing (depmod on an empty tree) has its root at the
        // very end of the file; libkmod then finds nothing, and so do we.
        if (self.root & NODE_MASK) as usize == self.data.len() && self.root & !NODE_MASK == 0 {
            return Ok(None);
        }
        self.node(self.root)
    }

    /// The child of `node` for character `ch`, if any.
    fn child(&self, node: &Node<'_>, ch: u8) -> Result<Option<Node<'_>>> {
        if !node.has_children() || ch < node.first || ch > node.last {
            return Ok(None);
        }
        let at = 4 * usize::from(ch - node.first);
        let reference = be32(node.children, at).unwrap_or(0);
        self.node(reference)
    }

    fn values<'a>(&self, node: &Node<'a>) -> Values<'a> {
        Values {
            rest: node.values,
            left: node.value_count,
        }
    }

    /// Walks down the trie along `key`; the node whose key is exactly `key`.
    fn find_exact(&self, key: &[u8]) -> Result<Option<Node<'_>>> {
        let mut node = self.root_node()?;
        let mut key = until_nul(key);
        while let Some(n) = node {
            if !key.starts_with(n.prefix) {
                return Ok(None);
            }
            key = &key[n.prefix.len()..];
            match key.split_first() {
                None => return Ok(Some(n)),
                Some((&ch, rest)) => {
                    node = self.child(&n, ch)?;
                    key = rest;
                }
            }
        }
        Ok(None)
    }

    /// The first stored value of the exact `key` (libkmod's `index_search`,
    /// used for `modules.dep.bin` and `modules.builtin.bin`): `None` when
    /// the key is absent or has no values. A key is cut at its first NUL,
    /// as a C string would be.
    ///
    /// Errors: `EINVAL` when a node on the way is corrupt.
    pub fn lookup(&self, key: &str) -> Result<Option<String>> {
        let Some(node) = self.find_exact(key.as_bytes())? else {
            return Ok(None);
        };
        match self.values(&node).next() {
            Some(v) => v.map(|(_, value)| Some(text(value))),
            None => Ok(None),
        }
    }

    /// All values of the exact `key`, in stored order (empty when the key
    /// is absent). No wildcard matching.
    ///
    /// Errors: `EINVAL` when a node on the way or a value is corrupt.
    pub fn lookup_all(&self, key: &str) -> Result<Vec<IndexValue>> {
        let Some(node) = self.find_exact(key.as_bytes())? else {
            return Ok(Vec::new());
        };
        self.values(&node)
            .map(|v| {
                v.map(|(priority, value)| IndexValue {
                    priority,
                    value: text(value),
                })
            })
            .collect()
    }

    /// Every value whose stored key, read as an `fnmatch(3)` pattern,
    /// matches `key` (libkmod's `index_searchwild`, used for
    /// `modules.alias.bin`, `modules.symbols.bin` and
    /// `modules.builtin.alias.bin`).
    ///
    /// The walk is libkmod's: descend along `key` while stored characters
    /// are literal; at a node whose prefix holds `*`, `?` or `[`, and at
    /// every `*`, `?` and `[` child on the way, match the rest of each
    /// stored key under it with [`fnmatch`] against the rest of `key`.
    /// Results are ordered by ascending priority; among equal priorities
    /// the later-found value comes first (libkmod's list insertion).
    ///
    /// Errors: `EINVAL` when a visited node or value is corrupt, or a
    /// subtree contains a cycle.
    pub fn search_wildcard(&self, key: &str) -> Result<Vec<IndexValue>> {
        let mut out = Vec::new();
        let mut buf = Vec::new();
        let mut key = until_nul(key.as_bytes());
        let mut node = self.root_node()?;
        while let Some(n) = node {
            for (j, &ch) in n.prefix.iter().enumerate() {
                if ch == b'*' || ch == b'?' || ch == b'[' {
                    // key[..j] matched the prefix so far, so j <= key.len().
                    self.wild_subtree(n, j, &mut buf, &key[j..], &mut out)?;
                    return Ok(out);
                }
                if key.get(j) != Some(&ch) {
                    return Ok(out);
                }
            }
            key = &key[n.prefix.len()..];
            for wild in [b'*', b'?', b'['] {
                if let Some(child) = self.child(&n, wild)? {
                    buf.push(wild);
                    self.wild_subtree(child, 0, &mut buf, key, &mut out)?;
                    buf.pop();
                }
            }
            match key.split_first() {
                None => {
                    for v in self.values(&n) {
                        let (priority, value) = v?;
                        add_value(&mut out, priority, value);
                    }
                    return Ok(out);
                }
                Some((&ch, rest)) => {
                    node = self.child(&n, ch)?;
                    key = rest;
                }
            }
        }
        Ok(out)
    }

    /// libkmod's `searchwild_all`: under `top` (whose prefix is taken from
    /// byte `skip` on), every node with values whose pattern (accumulated
    /// in `buf`) matches `subkey` contributes its values. Children are
    /// visited before a node's own values, by ascending character.
    /// Iterative, with a visited set against cycles.
    fn wild_subtree(
        &self,
        top: Node<'_>,
        skip: usize,
        buf: &mut Vec<u8>,
        subkey: &[u8],
        out: &mut Vec<IndexValue>,
    ) -> Result<()> {
        enum Step<'a> {
            Enter(Node<'a>, usize, Option<u8>),
            Leave(Node<'a>, usize),
        }
        let mut seen = Visited::default();
        let mut stack = vec![Step::Enter(top, skip, None)];
        while let Some(step) = stack.pop() {
            match step {
                Step::Enter(node, skip, edge) => {
                    visit(&mut seen, &node)?;
                    let base = buf.len();
                    buf.extend(edge);
                    buf.extend_from_slice(node.prefix.get(skip..).unwrap_or(&[]));
                    stack.push(Step::Leave(node, base));
                    if node.has_children() {
                        for ch in (node.first..=node.last).rev() {
                            if let Some(child) = self.child(&node, ch)? {
                                stack.push(Step::Enter(child, 0, Some(ch)));
                            }
                        }
                    }
                }
                Step::Leave(node, base) => {
                    if node.value_count > 0 && fnmatch(buf, subkey) {
                        for v in self.values(&node) {
                            let (priority, value) = v?;
                            add_value(out, priority, value);
                        }
                    }
                    buf.truncate(base);
                }
            }
        }
        Ok(())
    }

    /// Every key and value in the index, in libkmod's dump order (what
    /// `modprobe -c` prints for `modules.alias.bin`, minus the `alias `
    /// prefix): depth first, a node's values in stored order before its
    /// children, children by ascending character.
    ///
    /// Errors: `EINVAL` when any node or value is corrupt or the trie has a
    /// cycle or a node reachable twice.
    pub fn iter(&self) -> Result<Vec<(String, IndexValue)>> {
        let mut out = Vec::new();
        let Some(root) = self.root_node()? else {
            return Ok(out);
        };
        let mut seen = Visited::default();
        let mut key: Vec<u8> = Vec::new();
        // (node, length of the key before this node, edge character)
        let mut stack = vec![(root, 0usize, None::<u8>)];
        while let Some((node, base, edge)) = stack.pop() {
            visit(&mut seen, &node)?;
            key.truncate(base);
            key.extend(edge);
            key.extend_from_slice(node.prefix);
            for v in self.values(&node) {
                let (priority, value) = v?;
                out.push((
                    text(&key),
                    IndexValue {
                        priority,
                        value: text(value),
                    },
                ));
            }
            if node.has_children() {
                for ch in (node.first..=node.last).rev() {
                    if let Some(child) = self.child(&node, ch)? {
                        stack.push((child, key.len(), Some(ch)));
                    }
                }
            }
        }
        Ok(out)
    }
}

/// Longest character class name glibc accepts in `[[:name:]]`
/// (`CHARCLASS_NAME_MAX`).
const CLASS_NAME_MAX: usize = 2048;

/// Outcome of matching a pattern piece.
enum Fm {
    No,
    Yes,
    /// Matched up to a `*` at pattern index `p`, string index `n`.
    Star(usize, usize),
}

/// `fnmatch(pattern, s, 0)` as glibc implements it in the C locale (the
/// locale kmod's tools run in): `*` and `?` match any byte including `/`
/// and a leading `.`; `[...]` bracket expressions with `!` or `^`
/// negation, a leading `]` taken literally, ranges by byte value, the
/// classes `[:alpha:]` and friends (ASCII only), `[=c=]` and `[.c.]`;
/// a backslash escapes the next character, inside brackets too. An
/// unterminated `[` matches a literal `[`; a trailing backslash or an
/// unknown class name makes the match fail.
///
/// Both arguments are cut at their first NUL, as C strings. Matching takes
/// time proportional to `pattern.len() * s.len()` at worst; never panics.
pub fn fnmatch(pattern: &[u8], s: &[u8]) -> bool {
    matches!(
        fnmatch_from(until_nul(pattern), 0, until_nul(s), 0, false),
        Fm::Yes
    )
}

fn class_matches(name: &[u8], b: u8) -> Option<bool> {
    let ascii = b.is_ascii();
    Some(match name {
        b"alnum" => b.is_ascii_alphanumeric(),
        b"alpha" => b.is_ascii_alphabetic(),
        b"blank" => b == b' ' || b == b'\t',
        b"cntrl" => b.is_ascii_control(),
        b"digit" => b.is_ascii_digit(),
        b"graph" => b.is_ascii_graphic(),
        b"lower" => b.is_ascii_lowercase(),
        b"print" => ascii && (b.is_ascii_graphic() || b == b' '),
        b"punct" => b.is_ascii_punctuation(),
        b"space" => matches!(b, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r'),
        b"upper" => b.is_ascii_uppercase(),
        b"xdigit" => b.is_ascii_hexdigit(),
        _ => return None,
    })
}

/// The matcher proper. `p`/`n` index `pat`/`s`; reading past the end of
/// `pat` yields NUL, like the C string it stands for. With `stop_at_star`,
/// reaching a `*` reports [`Fm::Star`] instead of matching it (glibc
/// commits to the earliest match of each star-free segment; this keeps the
/// recursion one level deep).
fn fnmatch_from(pat: &[u8], mut p: usize, s: &[u8], mut n: usize, stop_at_star: bool) -> Fm {
    let at = |i: usize| pat.get(i).copied().unwrap_or(0);
    loop {
        let c = at(p);
        if c == 0 {
            break;
        }
        p += 1;
        match c {
            b'?' => {
                if n == s.len() {
                    return Fm::No;
                }
            }
            b'\\' => {
                let c = at(p);
                p += 1;
                if c == 0 || n == s.len() || s[n] != c {
                    return Fm::No;
                }
            }
            b'*' => {
                if stop_at_star {
                    return Fm::Star(p - 1, n);
                }
                let mut c = at(p);
                p += 1;
                while c == b'?' || c == b'*' {
                    if c == b'?' {
                        if n == s.len() {
                            return Fm::No;
                        }
                        n += 1;
                    }
                    c = at(p);
                    p += 1;
                }
                if c == 0 {
                    return Fm::Yes;
                }
                let seg = p - 1;
                // A literal (possibly escaped) must match where the segment
                // starts; a bracket is tried everywhere.
                let literal = match c {
                    b'[' => None,
                    b'\\' => Some(at(p)),
                    c => Some(c),
                };
                let mut found = Fm::No;
                while n < s.len() {
                    let here = match literal {
                        Some(l) => s[n] == l,
                        None => true,
                    };
                    if here {
                        match fnmatch_from(pat, seg, s, n, true) {
                            Fm::No => {}
                            hit => {
                                found = hit;
                                break;
                            }
                        }
                    }
                    n += 1;
                }
                match found {
                    Fm::Star(np, nn) => {
                        p = np;
                        n = nn;
                        continue;
                    }
                    other => return other,
                }
            }
            b'[' => match bracket(pat, p, s, n) {
                Bracket::No => return Fm::No,
                Bracket::Yes(np) => p = np,
                Bracket::Literal => {
                    // Unterminated: the '[' is an ordinary character.
                    if n == s.len() || s[n] != b'[' {
                        return Fm::No;
                    }
                }
            },
            c => {
                if n == s.len() || s[n] != c {
                    return Fm::No;
                }
            }
        }
        n += 1;
    }
    if n == s.len() {
        Fm::Yes
    } else {
        Fm::No
    }
}

enum Bracket {
    /// The byte does not match (or the expression is ill-formed).
    No,
    /// It matches; the pattern continues at this index.
    Yes(usize),
    /// The `[` is unterminated and stands for itself; the pattern
    /// continues right after it.
    Literal,
}

/// Matches `s[n]` against the bracket expression whose body starts at
/// `pat[p]` (just after the `[`), following glibc's parsing quirks.
fn bracket(pat: &[u8], mut p: usize, s: &[u8], n: usize) -> Bracket {
    let at = |i: usize| pat.get(i).copied().unwrap_or(0);
    if n == s.len() {
        return Bracket::No;
    }
    let fc = s[n];
    let negated = at(p) == b'!' || at(p) == b'^';
    if negated {
        p += 1;
    }
    let mut c = at(p);
    p += 1;
    let matched = 'scan: loop {
        // Each round handles one element that starts with `c` (p is past
        // it). `single` is set for an element that may start a range.
        let mut single: Option<u8> = None;
        let mut range_start: Option<u8> = None;
        if c == b'\\' {
            if at(p) == 0 {
                return Bracket::No;
            }
            single = Some(at(p));
            p += 1;
        } else if c == b'[' && at(p) == b':' {
            let start = p;
            let mut name = Vec::new();
            let mut is_class = true;
            loop {
                if name.len() == CLASS_NAME_MAX {
                    return Bracket::No;
                }
                p += 1;
                let cc = at(p);
                if cc == b':' && at(p + 1) == b']' {
                    p += 2;
                    break;
                }
                if !(b'a'..=b'y').contains(&cc) {
                    is_class = false;
                    break;
                }
                name.push(cc);
            }
            if is_class {
                match class_matches(&name, fc) {
                    None => return Bracket::No,
                    Some(true) => break 'scan true,
                    Some(false) => {}
                }
                c = at(p);
                p += 1;
            } else {
                p = start;
                single = Some(b'[');
            }
        } else if c == b'[' && at(p) == b'=' {
            let start = p;
            let eq = at(p + 1);
            if eq != 0 && at(p + 2) == b'=' && at(p + 3) == b']' {
                p += 4;
                if fc == eq {
                    break 'scan true;
                }
                c = at(p);
                p += 1;
            } else {
                p = start;
                single = Some(b'[');
            }
        } else if c == 0 {
            return Bracket::Literal;
        } else if c == b'[' && at(p) == b'.' {
            let start = p;
            loop {
                p += 1;
                let cc = at(p);
                if cc == b'.' && at(p + 1) == b']' {
                    p += 2;
                    break;
                }
                if cc == 0 {
                    return Bracket::No;
                }
            }
            if p - start != 4 {
                // Only one-character collating symbols exist in C.
                return Bracket::No;
            }
            let sym = at(start + 1);
            let is_range = at(p) == b'-' && at(p + 1) != 0;
            if !is_range && fc == sym {
                break 'scan true;
            }
            range_start = Some(sym);
            c = at(p);
            p += 1;
        } else {
            single = Some(c);
        }
        if let Some(ch) = single {
            let is_range = at(p) == b'-' && at(p + 1) != 0 && at(p + 1) != b']';
            if !is_range && ch == fc {
                break 'scan true;
            }
            range_start = Some(ch);
            c = at(p);
            p += 1;
        }
        if let Some(lo) = range_start {
            if c == b'-' && at(p) != b']' {
                let mut hi = at(p);
                p += 1;
                if hi == b'[' && at(p) == b'.' {
                    let start = p;
                    loop {
                        p += 1;
                        let cc = at(p);
                        if cc == b'.' && at(p + 1) == b']' {
                            p += 2;
                            break;
                        }
                        if cc == 0 {
                            return Bracket::No;
                        }
                    }
                    if p - start != 4 {
                        return Bracket::No;
                    }
                    hi = at(start + 1);
                } else {
                    if hi == b'\\' {
                        hi = at(p);
                        p += 1;
                    }
                    if hi == 0 {
                        return Bracket::No;
                    }
                }
                if lo <= fc && fc <= hi {
                    break 'scan true;
                }
                c = at(p);
                p += 1;
            }
        }
        if c == b']' {
            break 'scan false;
        }
    };
    if !matched {
        return if negated {
            Bracket::Yes(p)
        } else {
            Bracket::No
        };
    }
    // Skip the rest of a matched expression.
    loop {
        let c = at(p);
        p += 1;
        match c {
            b']' => break,
            0 => return Bracket::Literal,
            b'\\' => {
                if at(p) == 0 {
                    return Bracket::No;
                }
                p += 1;
            }
            b'[' if at(p) == b':' => {
                let start = p;
                let mut len = 0;
                loop {
                    p += 1;
                    len += 1;
                    if len == CLASS_NAME_MAX {
                        return Bracket::No;
                    }
                    if at(p) == b':' && at(p + 1) == b']' {
                        break;
                    }
                    if !(b'a'..=b'y').contains(&at(p)) {
                        p = start - 2;
                        break;
                    }
                }
                p += 2;
            }
            b'[' if at(p) == b'=' => {
                if at(p + 1) == 0 || at(p + 2) != b'=' || at(p + 3) != b']' {
                    return Bracket::No;
                }
                p += 4;
            }
            b'[' if at(p) == b'.' => {
                loop {
                    p += 1;
                    let cc = at(p);
                    if cc == 0 {
                        return Bracket::No;
                    }
                    if cc == b'.' && at(p + 1) == b']' {
                        break;
                    }
                }
                p += 2;
            }
            _ => {}
        }
    }
    if negated {
        Bracket::No
    } else {
        Bracket::Yes(p)
    }
}

// ---------------------------------------------------------------------------
// Writing indexes
// ---------------------------------------------------------------------------

/// A node of the trie under construction (arena entry of [`IndexBuilder`]).
#[derive(Debug, Clone, Default)]
struct BuildNode {
    /// Path-compressed part of the key below the incoming edge.
    prefix: Vec<u8>,
    /// `(character, arena index)`, sorted by character.
    children: Vec<(u8, u32)>,
    /// `(priority, value)` in the order they are written.
    values: Vec<(u32, Box<[u8]>)>,
}

impl BuildNode {
    fn child(&self, ch: u8) -> Option<usize> {
        self.children
            .binary_search_by_key(&ch, |&(c, _)| c)
            .ok()
            .map(|i| self.children[i].1 as usize)
    }

    /// Stores a value as depmod's value list does: before the first value
    /// whose priority is not lower (equal priorities: newest first). A value
    /// already present is stored again; the result says whether it was.
    fn add_value(&mut self, value: &[u8], priority: u32) -> bool {
        let duplicate = self.values.iter().any(|(_, v)| **v == *value);
        let at = self.values.partition_point(|&(p, _)| p < priority);
        self.values.insert(at, (priority, value.into()));
        duplicate
    }

    fn flags(&self) -> u32 {
        let mut flags = 0;
        if !self.prefix.is_empty() {
            flags |= NODE_PREFIX;
        }
        if !self.children.is_empty() {
            flags |= NODE_CHILDS;
        }
        if !self.values.is_empty() {
            flags |= NODE_VALUES;
        }
        flags
    }

    /// Bytes of this node alone in the file (32-bit, as depmod counts).
    fn size(&self) -> u32 {
        let mut size = 0u32;
        if !self.prefix.is_empty() {
            size = size.wrapping_add(self.prefix.len() as u32 + 1);
        }
        if let (Some(first), Some(last)) = (self.children.first(), self.children.last()) {
            size = size.wrapping_add(2 + 4 * (u32::from(last.0 - first.0) + 1));
        }
        if !self.values.is_empty() {
            size = size.wrapping_add(4);
            for (_, v) in &self.values {
                size = size.wrapping_add(4 + v.len() as u32 + 1);
            }
        }
        size
    }
}

/// The first byte of `s` (up to its first NUL) that depmod refuses in an
/// index key or value: anything outside 7-bit ASCII.
fn bad_byte(s: &[u8]) -> Option<u8> {
    until_nul(s).iter().copied().find(|&b| b >= CHILD_MAX)
}

/// Checks a key or value as depmod does before inserting it
/// (`index__checkstring`): only 7-bit ASCII is allowed (the string is read
/// up to its first NUL, as a C string). depmod treats a bad byte as a
/// critical error and exits with status 1 without writing the index.
///
/// Errors: `EINVAL` whose detail is depmod's message, `Module index: bad
/// character 'C'=0xNN - only 7-bit ASCII is supported:` followed by a
/// newline and the string (non-UTF-8 bytes replaced by U+FFFD here; depmod
/// prints them raw).
pub fn check_index_string(s: &[u8]) -> Result<()> {
    match bad_byte(s) {
        None => Ok(()),
        Some(b) => Err(Error::invalid(format!(
            "Module index: bad character '{}'=0x{b:x} - only 7-bit ASCII is supported:\n{}",
            text(&[b]),
            text(until_nul(s))
        ))),
    }
}

/// Builds a kmod index in memory and serialises it exactly as depmod's
/// `index_write` does, byte for byte.
///
/// The trie is the one depmod builds: the root never has a prefix; a key's
/// remainder below a new edge becomes the new node's prefix; a prefix is
/// split where a later key diverges from it (or ends inside it). Keys and
/// values are C strings: each is cut at its first NUL.
///
/// The file is laid out in pre-order: a node (prefix, child range and child
/// references, values), then its child subtrees one after the other by
/// ascending character, with no padding. The header's root reference is
/// offset 12 with the root's flags; an empty builder gives a 12-byte file
/// whose root reference is 12 with no flags.
///
/// Nothing recurses: nodes live in an arena and the walks use explicit
/// stacks, so keys of any length are fine.
#[derive(Debug, Clone)]
pub struct IndexBuilder {
    nodes: Vec<BuildNode>,
}

impl Default for IndexBuilder {
    fn default() -> Self {
        IndexBuilder::new()
    }
}

impl IndexBuilder {
    /// An empty index (depmod's `index_create`: a root without prefix).
    pub fn new() -> IndexBuilder {
        IndexBuilder {
            nodes: vec![BuildNode::default()],
        }
    }

    /// Adds `value` under `key` with `priority`, as depmod's `index_insert`.
    ///
    /// Returns `false` when the key already had this exact value (depmod's
    /// "duplicate", which it warns about with `-w`), `true` otherwise.
    /// Either way the value is stored: depmod keeps duplicates, and so
    /// does the file. Values of one key are kept sorted by ascending
    /// priority; a value goes before those of equal priority already
    /// present (so equal priorities read newest first).
    ///
    /// # Panics
    ///
    /// If `key` or `value` contains a byte outside 7-bit ASCII (before its
    /// first NUL), where depmod exits with a critical error. Use
    /// [`IndexBuilder::try_insert`] for strings that come from module files.
    pub fn insert(&mut self, key: &str, value: &str, priority: u32) -> bool {
        match self.try_insert(key, value, priority) {
            Ok(new) => new,
            Err(e) => panic!("{e}"),
        }
    }

    /// [`IndexBuilder::insert`] without the panic: a key or value outside
    /// 7-bit ASCII is refused (nothing is stored) with the error of
    /// [`check_index_string`]. The key is checked first, as depmod does.
    pub fn try_insert(&mut self, key: &str, value: &str, priority: u32) -> Result<bool> {
        check_index_string(key.as_bytes())?;
        check_index_string(value.as_bytes())?;
        let key = until_nul(key.as_bytes());
        let value = until_nul(value.as_bytes());
        Ok(!self.insert_bytes(key, value, priority))
    }

    /// The insertion proper; returns depmod's "duplicate" flag.
    fn insert_bytes(&mut self, key: &[u8], value: &[u8], priority: u32) -> bool {
        let mut node = 0usize;
        let mut i = 0usize;
        loop {
            // Make the node's prefix a prefix of key[i..], splitting it at
            // the first difference.
            let prefix = &self.nodes[node].prefix;
            let common = prefix
                .iter()
                .zip(&key[i..])
                .take_while(|(a, b)| a == b)
                .count();
            if common < prefix.len() {
                self.split(node, common);
            }
            i += common;
            let Some(&ch) = key.get(i) else {
                return self.nodes[node].add_value(value, priority);
            };
            match self.nodes[node].child(ch) {
                Some(child) => {
                    node = child;
                    i += 1;
                }
                None => {
                    let mut leaf = BuildNode {
                        prefix: key[i + 1..].to_vec(),
                        ..BuildNode::default()
                    };
                    leaf.add_value(value, priority);
                    let at = self.nodes.len() as u32;
                    self.nodes.push(leaf);
                    let children = &mut self.nodes[node].children;
                    let pos = children.partition_point(|&(c, _)| c < ch);
                    children.insert(pos, (ch, at));
                    return false;
                }
            }
        }
    }

    /// Splits `node` after `keep` bytes of its prefix: a new child, under
    /// the prefix's next character, takes the rest of the prefix, the
    /// children and the values.
    fn split(&mut self, node: usize, keep: usize) {
        let n = &mut self.nodes[node];
        let ch = n.prefix[keep];
        let lower = BuildNode {
            prefix: n.prefix[keep + 1..].to_vec(),
            children: std::mem::take(&mut n.children),
            values: std::mem::take(&mut n.values),
        };
        n.prefix.truncate(keep);
        let at = self.nodes.len() as u32;
        self.nodes[node].children.push((ch, at));
        self.nodes.push(lower);
    }

    /// `true` when nothing was inserted.
    pub fn is_empty(&self) -> bool {
        let root = &self.nodes[0];
        root.children.is_empty() && root.values.is_empty()
    }

    /// The index file, exactly as depmod's `index_write` writes it.
    ///
    /// Sizes and offsets are 32-bit as in depmod; offsets must fit in 28
    /// bits (256 MiB), which depmod does not check either.
    pub fn to_bytes(&self) -> Vec<u8> {
        let count = self.nodes.len();
        // Pre-order list of nodes (the file order), then subtree totals
        // computed from the leaves up by walking it backwards.
        let mut order = Vec::with_capacity(count);
        let mut stack = vec![0usize];
        while let Some(x) = stack.pop() {
            order.push(x);
            stack.extend(
                self.nodes[x]
                    .children
                    .iter()
                    .rev()
                    .map(|&(_, c)| c as usize),
            );
        }
        let mut size = vec![0u32; count];
        let mut total = vec![0u32; count];
        for &x in order.iter().rev() {
            let node = &self.nodes[x];
            size[x] = node.size();
            total[x] = node
                .children
                .iter()
                .fold(size[x], |t, &(_, c)| t.wrapping_add(total[c as usize]));
        }
        let mut out = Vec::with_capacity(HEADER_LEN + total[0] as usize);
        out.extend_from_slice(&INDEX_MAGIC.to_be_bytes());
        out.extend_from_slice(&INDEX_VERSION.to_be_bytes());
        out.extend_from_slice(&(HEADER_LEN as u32 | self.nodes[0].flags()).to_be_bytes());
        for &x in &order {
            let node = &self.nodes[x];
            let offset = out.len() as u32;
            if !node.prefix.is_empty() {
                out.extend_from_slice(&node.prefix);
                out.push(0);
            }
            if let (Some(&(first, _)), Some(&(last, _))) =
                (node.children.first(), node.children.last())
            {
                out.push(first);
                out.push(last);
                let mut next = offset.wrapping_add(size[x]);
                let mut children = node.children.iter().peekable();
                for ch in first..=last {
                    let mut word = 0u32;
                    if let Some(&&(c, child)) = children.peek() {
                        if c == ch {
                            children.next();
                            let child = child as usize;
                            word = next | self.nodes[child].flags();
                            next = next.wrapping_add(total[child]);
                        }
                    }
                    out.extend_from_slice(&word.to_be_bytes());
                }
            }
            if !node.values.is_empty() {
                out.extend_from_slice(&(node.values.len() as u32).to_be_bytes());
                for (priority, value) in &node.values {
                    out.extend_from_slice(&priority.to_be_bytes());
                    out.extend_from_slice(value);
                    out.push(0);
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A minimal test-only writer producing depmod's layout (children
    /// written before their parent, as depmod does).
    #[derive(Default)]
    struct TNode {
        prefix: Vec<u8>,
        children: std::collections::BTreeMap<u8, TNode>,
        values: Vec<(u32, Vec<u8>)>,
    }

    impl TNode {
        fn insert(&mut self, key: &[u8], value: &str, prio: u32) {
            // Uncompressed trie; compress() merges single-child chains.
            match key.split_first() {
                None => self.values.push((prio, value.as_bytes().to_vec())),
                Some((&c, rest)) => self
                    .children
                    .entry(c)
                    .or_default()
                    .insert(rest, value, prio),
            }
        }

        fn compress(&mut self) {
            while self.values.is_empty() && self.children.len() == 1 {
                let (c, child) = self.children.pop_first().unwrap();
                self.prefix.push(c);
                self.prefix.extend(child.prefix);
                self.children = child.children;
                self.values = child.values;
            }
            for child in self.children.values_mut() {
                child.compress();
            }
        }

        fn write(&self, out: &mut Vec<u8>) -> u32 {
            let refs: Vec<(u8, u32)> = self
                .children
                .iter()
                .map(|(&c, child)| (c, child.write(out)))
                .collect();
            let offset = out.len() as u32;
            let mut flags = 0;
            if !self.prefix.is_empty() {
                flags |= NODE_PREFIX;
                out.extend(&self.prefix);
                out.push(0);
            }
            if let (Some(first), Some(last)) = (refs.first(), refs.last()) {
                flags |= NODE_CHILDS;
                out.push(first.0);
                out.push(last.0);
                for c in first.0..=last.0 {
                    let r = refs.iter().find(|r| r.0 == c).map_or(0, |r| r.1);
                    out.extend(r.to_be_bytes());
                }
            }
            if !self.values.is_empty() {
                flags |= NODE_VALUES;
                out.extend((self.values.len() as u32).to_be_bytes());
                for (prio, v) in &self.values {
                    out.extend(prio.to_be_bytes());
                    out.extend(v);
                    out.push(0);
                }
            }
            offset | flags
        }
    }

    fn build(entries: &[(&str, &str, u32)]) -> Vec<u8> {
        let mut root = TNode::default();
        for (k, v, p) in entries {
            root.insert(k.as_bytes(), v, *p);
        }
        for child in root.children.values_mut() {
            child.compress();
        }
        let mut out = vec![0u8; 12];
        let root_ref = root.write(&mut out);
        out[0..4].copy_from_slice(&INDEX_MAGIC.to_be_bytes());
        out[4..8].copy_from_slice(&INDEX_VERSION.to_be_bytes());
        out[8..12].copy_from_slice(&root_ref.to_be_bytes());
        out
    }

    fn values(v: &[IndexValue]) -> Vec<(u32, &str)> {
        v.iter().map(|v| (v.priority, v.value.as_str())).collect()
    }

    #[test]
    fn exact_lookup_and_dump() {
        let idx = Index::from_bytes(build(&[
            ("ask", "v-ask", 0),
            ("ate", "v-ate", 0),
            ("on", "v-on", 0),
            ("once", "v-once", 0),
            ("one", "v-one1", 1),
            ("one", "v-one2", 2),
        ]))
        .unwrap();
        assert_eq!(idx.lookup("on").unwrap().as_deref(), Some("v-on"));
        assert_eq!(idx.lookup("one").unwrap().as_deref(), Some("v-one1"));
        assert_eq!(idx.lookup("o").unwrap(), None);
        assert_eq!(idx.lookup("onces").unwrap(), None);
        assert_eq!(idx.lookup("").unwrap(), None);
        assert_eq!(idx.lookup("a\u{e9}").unwrap(), None);
        assert_eq!(idx.lookup("on\0ce").unwrap().as_deref(), Some("v-on"));
        assert_eq!(
            values(&idx.lookup_all("one").unwrap()),
            [(1, "v-one1"), (2, "v-one2")]
        );
        assert!(idx.lookup_all("x").unwrap().is_empty());
        let dump: Vec<(String, String)> = idx
            .iter()
            .unwrap()
            .into_iter()
            .map(|(k, v)| (k, v.value))
            .collect();
        let expect = [
            ("ask", "v-ask"),
            ("ate", "v-ate"),
            ("on", "v-on"),
            ("once", "v-once"),
            ("one", "v-one1"),
            ("one", "v-one2"),
        ];
        assert_eq!(
            dump,
            expect
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect::<Vec<_>>()
        );
    }

    #[test]
    fn wildcard_search_order_and_semantics() {
        let idx = Index::from_bytes(build(&[
            ("pci:v00008086d*", "e1000e", 5),
            ("pci:v00008086d00001234*", "igb", 3),
            ("pci:v*d*", "generic", 9),
            ("pci:v0000808?d*", "q", 5),
            ("usb:v1234p[0-9]*", "usbdrv", 1),
            ("exact", "ex", 7),
            ("exact", "ex2", 7),
        ]))
        .unwrap();
        let r = idx.search_wildcard("pci:v00008086d00001234").unwrap();
        assert_eq!(
            values(&r),
            [(3, "igb"), (5, "e1000e"), (5, "q"), (9, "generic")]
        );
        assert_eq!(
            values(&idx.search_wildcard("usb:v1234p7abc").unwrap()),
            [(1, "usbdrv")]
        );
        assert!(idx.search_wildcard("usb:v1234pxabc").unwrap().is_empty());
        // Equal priorities: later stored value first, as libkmod's add_value.
        assert_eq!(
            values(&idx.search_wildcard("exact").unwrap()),
            [(7, "ex2"), (7, "ex")]
        );
        assert!(idx.search_wildcard("exac").unwrap().is_empty());
        assert!(idx.search_wildcard("").unwrap().is_empty());
    }

    #[test]
    fn empty_index_has_nothing() {
        let mut data = Vec::new();
        data.extend(INDEX_MAGIC.to_be_bytes());
        data.extend(INDEX_VERSION.to_be_bytes());
        data.extend(12u32.to_be_bytes());
        let idx = Index::from_bytes(data).unwrap();
        assert!(idx.iter().unwrap().is_empty());
        assert_eq!(idx.lookup("x").unwrap(), None);
        assert!(idx.search_wildcard("x").unwrap().is_empty());
    }

    fn header(root: u32) -> Vec<u8> {
        let mut d = Vec::new();
        d.extend(INDEX_MAGIC.to_be_bytes());
        d.extend(INDEX_VERSION.to_be_bytes());
        d.extend(root.to_be_bytes());
        d
    }

    #[test]
    fn bad_headers_are_einval() {
        for data in [
            vec![],
            vec![0xB0, 0x07, 0xF4],
            header(12)[..11].to_vec(),
            {
                let mut d = header(12);
                d[3] = 0x58;
                d
            },
            {
                let mut d = header(12);
                d[5] = 3;
                d
            },
        ] {
            let e = Index::from_bytes(data).unwrap_err();
            assert_eq!(e.errno(), crate::error::errno::EINVAL);
        }
        // Minor version is ignored.
        let mut d = header(12);
        d[7] = 9;
        assert!(Index::from_bytes(d).is_ok());
        let e = Index::open("/nonexistent/modules.dep.bin").unwrap_err();
        assert_eq!(e.errno(), crate::error::errno::ENOENT);
    }

    #[test]
    fn corrupt_nodes_are_errors_not_panics() {
        let good = build(&[("abc", "x", 1), ("abd", "y", 2), ("b*", "z", 3)]);
        let all = |idx: &Index| {
            (
                idx.iter().is_err(),
                idx.lookup("abc").is_err(),
                idx.search_wildcard("bxx").is_err(),
            )
        };
        // Root past the end.
        let mut d = good.clone();
        d[8..12].copy_from_slice(&(NODE_CHILDS | 0x0FF0_0000).to_be_bytes());
        assert_eq!(all(&Index::from_bytes(d).unwrap()), (true, true, true));
        // Every truncation of a valid file: errors or partial results, no
        // panic.
        for len in 12..good.len() {
            let idx = Index::from_bytes(good[..len].to_vec()).unwrap();
            let _ = all(&idx);
            assert!(idx.iter().is_err(), "truncated at {len}");
        }
        // Every single-byte corruption: no panic, no hang.
        for i in 12..good.len() {
            for b in [0u8, 0x7f, 0x80, 0xff, 1] {
                let mut d = good.clone();
                d[i] = b;
                let idx = Index::from_bytes(d).unwrap();
                let _ = all(&idx);
            }
        }
        // Reversed and out-of-range child ranges.
        for (first, last) in [(b'b', b'a'), (200, 201), (0x7f, 0x80)] {
            let mut d = header(12 | NODE_CHILDS);
            d.extend([first, last, 0, 0, 0, 0, 0, 0, 0, 0]);
            let idx = Index::from_bytes(d).unwrap();
            assert!(idx.iter().is_err());
        }
        // Value count larger than the data.
        let mut d = header(12 | NODE_VALUES);
        d.extend(0xFFFF_FFFFu32.to_be_bytes());
        d.extend(1u32.to_be_bytes());
        d.extend(b"v\0");
        let idx = Index::from_bytes(d).unwrap();
        assert!(idx.iter().is_err());
        assert!(idx.lookup_all("").is_err());
        // Prefix without NUL.
        let mut d = header(12 | NODE_PREFIX);
        d.extend(b"abc");
        assert!(Index::from_bytes(d).unwrap().iter().is_err());
    }

    #[test]
    fn cycles_are_detected() {
        // Root (offset 12): prefix "a", children 'a'..'b' both pointing at
        // the root itself.
        let me = 12 | NODE_PREFIX | NODE_CHILDS | NODE_VALUES;
        let mut d = header(me);
        d.extend(b"*\0");
        d.extend([b'*', b'+']);
        d.extend(me.to_be_bytes());
        d.extend(me.to_be_bytes());
        d.extend(1u32.to_be_bytes());
        d.extend(0u32.to_be_bytes());
        d.extend(b"v\0");
        let idx = Index::from_bytes(d).unwrap();
        assert!(idx.iter().is_err());
        assert!(idx.search_wildcard("anything").is_err());
        // Exact lookups consume one key byte per step, so they end.
        assert_eq!(idx.lookup("**+*").unwrap(), None);
        assert_eq!(idx.lookup("*").unwrap().as_deref(), Some("v"));
    }

    #[test]
    fn fnmatch_basics() {
        let yes: &[(&str, &str)] = &[
            ("", ""),
            ("*", ""),
            ("*", "abc/def"),
            ("*", ".hidden"),
            ("a*c", "abbbc"),
            ("a*c", "ac"),
            ("a?c", "a/c"),
            ("*b*d", "abcbd"),
            ("*?", "x"),
            ("**?*", "xy"),
            ("[abc]", "b"),
            ("[!abc]", "d"),
            ("[^abc]", "d"),
            ("[]]", "]"),
            ("[]a]", "a"),
            ("[!]]", "a"),
            ("[a-c]x", "bx"),
            ("[-a]", "-"),
            ("[a-]", "-"),
            ("[[:digit:]]*", "7up"),
            ("[[:alpha:][:digit:]]", "Q"),
            ("[[:upper:]]", "Q"),
            ("[\\]]", "]"),
            ("[a\\-z]", "-"),
            ("\\*", "*"),
            ("\\a", "a"),
            ("[", "["),
            ("a[", "a["),
            ("[ab", "[ab"),
            ("[[.a.]]", "a"),
            ("[[.a.]-c]", "b"),
            ("[[=a=]]", "a"),
            ("[[:alpha:]", "[:"),
            (
                "pci:v*d*sv*sd*bc02sc00i*",
                "pci:v00008086d000010D3sv00008086sd0000A01Fbc02sc00i00",
            ),
            (
                "usb:v*p*d*dc*dsc*dp*ic03isc01ip01in*",
                "usb:v046Dp4069d1200dc00dsc00dp00ic03isc01ip01in00",
            ),
        ];
        for (p, s) in yes {
            assert!(fnmatch(p.as_bytes(), s.as_bytes()), "{p:?} vs {s:?}");
        }
        let no: &[(&str, &str)] = &[
            ("", "a"),
            ("a", ""),
            ("?", ""),
            ("a*c", "abcd"),
            ("[abc]", "d"),
            ("[!abc]", "a"),
            ("[a-c]", "d"),
            ("[z-a]", "m"),
            ("[[:nosuch:]]", "a"),
            ("\\", "\\"),
            ("a\\", "a\\"),
            ("[\\", "["),
            ("[[:alpha:]]", "\u{e9}"),
            ("[[.ab.]]", "a"),
            ("*?", ""),
            ("[!a]", ""),
        ];
        for (p, s) in no {
            assert!(!fnmatch(p.as_bytes(), s.as_bytes()), "{p:?} vs {s:?}");
        }
    }

    #[test]
    fn fnmatch_is_not_exponential() {
        let pat = "*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*b";
        let s = "a".repeat(2000);
        assert!(!fnmatch(pat.as_bytes(), s.as_bytes()));
    }
}

#[cfg(test)]
mod builder_tests {
    use super::*;
    use std::collections::BTreeMap;

    fn pairs(v: &[IndexValue]) -> Vec<(u32, &str)> {
        v.iter().map(|v| (v.priority, v.value.as_str())).collect()
    }

    fn read(b: &IndexBuilder) -> Index {
        Index::from_bytes(b.to_bytes()).expect("header")
    }

    #[test]
    fn empty_index_is_just_the_header() {
        let b = IndexBuilder::new();
        assert!(b.is_empty());
        let bytes = b.to_bytes();
        let mut expect = Vec::new();
        expect.extend(INDEX_MAGIC.to_be_bytes());
        expect.extend(INDEX_VERSION.to_be_bytes());
        expect.extend(12u32.to_be_bytes());
        assert_eq!(bytes, expect);
        assert!(read(&b).iter().unwrap().is_empty());
    }

    #[test]
    fn exact_bytes_of_a_small_index() {
        let mut b = IndexBuilder::new();
        assert!(b.insert("ab", "x", 1));
        assert!(b.insert("ac", "y", 0));
        let mut e: Vec<u8> = Vec::new();
        e.extend(INDEX_MAGIC.to_be_bytes());
        e.extend(INDEX_VERSION.to_be_bytes());
        e.extend((12 | NODE_CHILDS).to_be_bytes());
        // root @12: children 'a'..'a'
        e.extend([b'a', b'a']);
        e.extend((18 | NODE_CHILDS).to_be_bytes());
        // "a" @18: no prefix (split), children 'b'..'c'
        e.extend([b'b', b'c']);
        e.extend((28 | NODE_VALUES).to_be_bytes());
        e.extend((38 | NODE_VALUES).to_be_bytes());
        // "ab" @28, "ac" @38
        e.extend(1u32.to_be_bytes());
        e.extend(1u32.to_be_bytes());
        e.extend(b"x\0");
        e.extend(1u32.to_be_bytes());
        e.extend(0u32.to_be_bytes());
        e.extend(b"y\0");
        assert_eq!(b.to_bytes(), e);
    }

    #[test]
    fn prefixes_holes_and_root_values() {
        let mut b = IndexBuilder::new();
        b.insert("abcdef", "1", 0);
        let one = b.to_bytes();
        // root @12 -> 'a' @18 with prefix "bcdef"
        assert_eq!(&one[8..12], &(12 | NODE_CHILDS).to_be_bytes());
        assert_eq!(
            &one[14..18],
            &(18 | NODE_PREFIX | NODE_VALUES).to_be_bytes()
        );
        assert_eq!(&one[18..24], b"bcdef\0");
        b.insert("abc", "2", 0); // ends inside a prefix
        b.insert("ab", "3", 0);
        b.insert("abz", "4", 0); // hole between 'd' and 'z'
        b.insert("", "root", 7);
        b.insert("z", "5", 0);
        let idx = read(&b);
        let all: Vec<(String, String)> = idx
            .iter()
            .unwrap()
            .into_iter()
            .map(|(k, v)| (k, v.value))
            .collect();
        let expect = [
            ("", "root"),
            ("ab", "3"),
            ("abc", "2"),
            ("abcdef", "1"),
            ("abz", "4"),
            ("z", "5"),
        ];
        assert_eq!(
            all,
            expect
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect::<Vec<_>>()
        );
        assert_eq!(idx.lookup("abcd").unwrap(), None);
        assert_eq!(idx.lookup("abc").unwrap().as_deref(), Some("2"));
        assert!(idx.as_bytes()[8] & 0x40 != 0, "root has values");
    }

    #[test]
    fn values_by_priority_newest_first_and_duplicates_kept() {
        let mut b = IndexBuilder::new();
        assert!(b.insert("k", "a", 5));
        assert!(b.insert("k", "b", 5));
        assert!(b.insert("k", "c", 1));
        assert!(!b.insert("k", "a", 5), "duplicate reported");
        assert!(!b.insert("k", "c", 9), "duplicate whatever the priority");
        assert!(b.insert("k2", "a", 5), "other key: not a duplicate");
        let idx = read(&b);
        assert_eq!(
            pairs(&idx.lookup_all("k").unwrap()),
            [(1, "c"), (5, "a"), (5, "b"), (5, "a"), (9, "c")]
        );
        assert_eq!(idx.lookup("k").unwrap().as_deref(), Some("c"));
    }

    #[test]
    fn strings_are_c_strings_and_7_bit() {
        let mut b = IndexBuilder::new();
        assert!(b.insert("ab\0cd", "v\0w", 0));
        assert!(!b.insert("ab", "v", 0));
        assert_eq!(
            pairs(&read(&b).lookup_all("ab").unwrap()),
            [(0, "v"), (0, "v")]
        );
        let before = b.to_bytes();
        let e = b.try_insert("caf\u{e9}", "x", 0).unwrap_err();
        assert_eq!(e.errno(), crate::error::errno::EINVAL);
        assert!(e.detail().starts_with(
            "Module index: bad character '\u{fffd}'=0xc3 - only 7-bit ASCII is supported:\ncaf"
        ));
        assert!(b.try_insert("x", "\u{7f}\u{80}", 0).is_err());
        // After a NUL nothing is looked at, as in C.
        assert!(b.try_insert("y\0\u{e9}", "v", 0).is_ok());
        assert!(check_index_string(b"ok\x7f").is_ok());
        assert!(check_index_string(b"\xff").is_err());
        b.insert("y", "v", 0);
        let mut c = IndexBuilder::new();
        c.insert("ab", "v", 0);
        c.insert("ab", "v", 0);
        c.insert("y", "v", 0);
        c.insert("y", "v", 0);
        assert_ne!(before, b.to_bytes());
        assert_eq!(b.to_bytes(), c.to_bytes(), "refused strings leave no trace");
    }

    #[test]
    #[should_panic(expected = "only 7-bit ASCII")]
    fn insert_panics_on_non_ascii() {
        IndexBuilder::new().insert("k", "\u{100}", 0);
    }

    #[test]
    fn deep_and_long_keys_do_not_recurse() {
        let mut b = IndexBuilder::new();
        let long = "x".repeat(200_000);
        b.insert(&long, "long", 0);
        // A chain of 3000 nested nodes: "a", "aa", "aaa", ...
        for n in 1..=3000 {
            b.insert(&"a".repeat(n), &n.to_string(), n as u32);
        }
        let idx = read(&b);
        assert_eq!(idx.lookup(&long).unwrap().as_deref(), Some("long"));
        assert_eq!(
            idx.lookup(&"a".repeat(2999)).unwrap().as_deref(),
            Some("2999")
        );
        assert_eq!(idx.iter().unwrap().len(), 3001);
    }

    /// A small deterministic generator (xorshift) for the model test.
    struct Rng(u64);
    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }
        fn string(&mut self, alphabet: &[u8], max: usize) -> String {
            let len = (self.next() % (max as u64 + 1)) as usize;
            (0..len)
                .map(|_| alphabet[(self.next() % alphabet.len() as u64) as usize] as char)
                .collect()
        }
    }

    #[test]
    fn round_trip_against_a_model() {
        let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
        for round in 0..20 {
            let mut b = IndexBuilder::new();
            // key -> values in depmod's list order
            let mut model: BTreeMap<String, Vec<(u32, String)>> = BTreeMap::new();
            let n = 1 + rng.next() % 400;
            for _ in 0..n {
                let key = rng.string(b"abc*?[]-_:", 8);
                let value = rng.string(b"xyz", 3);
                let prio = (rng.next() % 4) as u32;
                let list = model.entry(key.clone()).or_default();
                let dup = list.iter().any(|(_, v)| *v == value);
                let at = list.partition_point(|&(p, _)| p < prio);
                list.insert(at, (prio, value.clone()));
                assert_eq!(b.insert(&key, &value, prio), !dup, "round {round}");
            }
            let bytes = b.to_bytes();
            let idx = Index::from_bytes(bytes.clone()).unwrap();
            let got: Vec<(String, (u32, String))> = idx
                .iter()
                .unwrap()
                .into_iter()
                .map(|(k, v)| (k, (v.priority, v.value)))
                .collect();
            let want: Vec<(String, (u32, String))> = model
                .iter()
                .flat_map(|(k, vs)| vs.iter().map(move |v| (k.clone(), v.clone())))
                .collect();
            assert_eq!(got, want, "round {round}");
            for (k, vs) in &model {
                let got = idx.lookup_all(k).unwrap();
                let got: Vec<(u32, String)> =
                    got.into_iter().map(|v| (v.priority, v.value)).collect();
                assert_eq!(&got, vs);
            }
            // Insertion order of distinct keys does not change the bytes.
            let mut again = IndexBuilder::new();
            for (k, vs) in model.iter().rev() {
                for (p, v) in vs.iter().rev() {
                    again.insert(k, v, *p);
                }
            }
            assert_eq!(again.to_bytes(), bytes, "round {round}");
        }
    }
}
