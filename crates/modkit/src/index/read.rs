//! Reading kmod indexes as libkmod's mmap reader does (`index_mm_*`):
//! [`Index::lookup`], [`Index::lookup_all`], [`Index::search_wildcard`] and
//! [`Index::iter`].
//!
//! Nodes are decoded lazily, one query at a time; every offset, child range
//! and string is bounds-checked before use and a corrupt node is an
//! `EINVAL` error. The walks use explicit stacks (nothing recurses) and
//! whole-subtree walks keep a visited set, so a cycle is an error, not a
//! hang.

use std::collections::HashSet;
use std::hash::{BuildHasherDefault, Hasher};
use std::path::Path;

use super::{text, IndexValue};
use super::{CHILD_MAX, HEADER_LEN, INDEX_MAGIC, INDEX_VERSION_MAJOR};
use super::{NODE_CHILDS, NODE_MASK, NODE_PREFIX, NODE_VALUES};
use crate::compat::cstr::until_nul;
use crate::compat::fnmatch::fnmatch;
use crate::error::{Error, Result};

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
    let end = memchr::memchr(0, data)?;
    Some((&data[..end], &data[end + 1..]))
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
    // in the order found; `in_libkmod_order` sorts them at the end (an
    // insertion into a sorted vector per value is quadratic: a hostile
    // index with 100,000 values took seconds)
    out.push(IndexValue {
        priority,
        value: text(value),
    });
}

/// libkmod's `add_value` order for values pushed in the order found: each
/// new value goes before the first one of equal or higher priority, which
/// is ascending priority, the later found first among equals.
fn in_libkmod_order(mut out: Vec<IndexValue>) -> Vec<IndexValue> {
    out.reverse();
    // stable: equal priorities keep the reversed order
    out.sort_by_key(|v| v.priority);
    out
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

/// Where in a key a pattern read so far can have stopped matching: the
/// set of key positions `j` such that the pattern matches `key[..j]`, as a
/// bit set, one per trie level (a stack, pushed and popped with the walk).
///
/// Exact for patterns made of literal bytes, `?` and `*` (glob semantics;
/// glibc's `fnmatch`, which never backtracks into an earlier `*`, accepts
/// a subset of what glob semantics accepts, so an empty set means no match
/// either way). Once a `[` or a backslash is read the set is no longer tracked
/// for the rest of that path ("unknown": anything may still match), so
/// bracket expressions and escapes are left wholly to [`fnmatch`].
struct Reach<'k> {
    key: &'k [u8],
    /// Words per level: positions `0..=key.len()`.
    words: usize,
    /// The levels' bit sets, `words` words each, the current one last.
    bits: Vec<u64>,
    /// Per level: whether the set is still tracked.
    exact: Vec<bool>,
}

impl<'k> Reach<'k> {
    fn new(key: &'k [u8]) -> Reach<'k> {
        let words = key.len() / 64 + 1;
        let mut bits = vec![0u64; words];
        bits[0] = 1;
        Reach {
            key,
            words,
            bits,
            exact: vec![true],
        }
    }

    /// Starts a new level, a copy of the current one.
    fn push(&mut self) {
        let at = self.bits.len() - self.words;
        self.bits.extend_from_within(at..);
        let exact = self.exact.last().copied().unwrap_or(false);
        self.exact.push(exact);
    }

    /// Drops the current level (back to its parent's set).
    fn pop(&mut self) {
        if self.exact.len() > 1 {
            self.bits.truncate(self.bits.len() - self.words);
            self.exact.pop();
        }
    }

    /// Reads one more pattern byte into the current level; `false` when
    /// the pattern can no longer match any prefix of the key (the
    /// subtree below cannot match).
    fn step(&mut self, c: u8) -> bool {
        let Some(exact) = self.exact.last_mut() else {
            return true;
        };
        if !*exact {
            return true;
        }
        if c == b'[' || c == b'\\' {
            *exact = false;
            return true;
        }
        let n = self.key.len();
        let at = self.bits.len() - self.words;
        let cur = &mut self.bits[at..];
        match c {
            b'*' => {
                let Some(first) = cur.iter().position(|&w| w != 0) else {
                    return false;
                };
                let low = cur[first].trailing_zeros();
                cur[first] |= !0u64 << low;
                for w in &mut cur[first + 1..] {
                    *w = !0;
                }
            }
            _ => {
                // Shift every position one on, keeping only those whose
                // byte the pattern byte matches.
                let mut carry = 0u64;
                for w in cur.iter_mut() {
                    let next = *w >> 63;
                    *w = (*w << 1) | carry;
                    carry = next;
                }
                if c != b'?' {
                    for (i, w) in cur.iter_mut().enumerate() {
                        let mut m = *w;
                        while m != 0 {
                            let bit = m.trailing_zeros() as usize;
                            m &= m - 1;
                            let pos = i * 64 + bit;
                            if self.key.get(pos - 1) != Some(&c) {
                                *w &= !(1u64 << bit);
                            }
                        }
                    }
                }
            }
        }
        // Positions past the end of the key do not exist.
        let last = n / 64;
        cur[last] &= if n % 64 == 63 {
            !0
        } else {
            (1u64 << (n % 64 + 1)) - 1
        };
        cur.iter().any(|&w| w != 0)
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

    /// The words libkmod logs at error level when it maps an index whose
    /// header is not one (`magic check fail: X instead of b007f457`,
    /// `major version check fail: N instead of 2`), for an error returned
    /// by [`Index::open`]; `None` for the failures it passes over silently
    /// (a missing file, one shorter than the header).
    pub fn header_complaint(err: &Error) -> Option<&str> {
        let detail = err.detail().strip_prefix("index: ")?;
        (detail.starts_with("magic check fail") || detail.starts_with("major version check fail"))
            .then_some(detail)
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
        Ok(self.lookup_bytes(key.as_bytes())?.map(text))
    }

    /// [`Index::lookup`] without copying: the first stored value of the
    /// exact `key`, borrowed from the index (bytes, as stored).
    ///
    /// Errors: `EINVAL` when a node on the way is corrupt.
    pub fn lookup_bytes(&self, key: &[u8]) -> Result<Option<&[u8]>> {
        let Some(node) = self.find_exact(key)? else {
            return Ok(None);
        };
        match self.values(&node).next() {
            Some(v) => v.map(|(_, value)| Some(value)),
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
        self.search_wildcard_pruned(key, true)
    }

    /// [`Index::search_wildcard`], with the subtree pruning of
    /// [`Index::wild_subtree`] on or off (off: libkmod's full walk, for
    /// the tests that check the two agree).
    fn search_wildcard_pruned(&self, key: &str, prune: bool) -> Result<Vec<IndexValue>> {
        self.search_wildcard_found(key, prune).map(in_libkmod_order)
    }

    /// The values of [`Index::search_wildcard_pruned`] in the order found.
    fn search_wildcard_found(&self, key: &str, prune: bool) -> Result<Vec<IndexValue>> {
        let mut out = Vec::new();
        let mut buf = Vec::new();
        let mut seen = Visited::default();
        let mut key = until_nul(key.as_bytes());
        let mut node = self.root_node()?;
        while let Some(n) = node {
            for (j, &ch) in n.prefix.iter().enumerate() {
                if ch == b'*' || ch == b'?' || ch == b'[' {
                    // key[..j] matched the prefix so far, so j <= key.len().
                    self.wild_subtree(n, j, &mut buf, &key[j..], (prune, &mut seen), &mut out)?;
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
                    self.wild_subtree(child, 0, &mut buf, key, (prune, &mut seen), &mut out)?;
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
    ///
    /// libkmod enumerates the whole subtree and calls `fnmatch` on every
    /// stored pattern in it; here the walk carries the set of `subkey`
    /// positions the pattern read so far can have matched (a [`Reach`]),
    /// and a subtree whose pattern prefix can match no prefix of `subkey`
    /// is not entered: no stored key under it can match. Which values are
    /// found, and in which order, is unchanged (the values of a node that
    /// is entered are still accepted by [`fnmatch`] itself).
    fn wild_subtree(
        &self,
        top: Node<'_>,
        skip: usize,
        buf: &mut Vec<u8>,
        subkey: &[u8],
        (prune, seen): (bool, &mut Visited),
        out: &mut Vec<IndexValue>,
    ) -> Result<()> {
        enum Step<'a> {
            Enter(Node<'a>, usize, Option<u8>),
            Leave(Node<'a>, usize, bool),
        }
        seen.clear();
        let mut reach = Reach::new(subkey);
        if !prune {
            reach.exact[0] = false;
        }
        for &c in buf.iter() {
            reach.step(c);
        }
        let mut stack = vec![Step::Enter(top, skip, None)];
        while let Some(step) = stack.pop() {
            match step {
                Step::Enter(node, skip, edge) => {
                    visit(seen, &node)?;
                    let base = buf.len();
                    reach.push();
                    buf.extend(edge);
                    buf.extend_from_slice(node.prefix.get(skip..).unwrap_or(&[]));
                    let mut alive = true;
                    for &c in &buf[base..] {
                        if !reach.step(c) {
                            alive = false;
                            break;
                        }
                    }
                    stack.push(Step::Leave(node, base, alive));
                    if alive && node.has_children() {
                        for ch in (node.first..=node.last).rev() {
                            if let Some(child) = self.child(&node, ch)? {
                                stack.push(Step::Enter(child, 0, Some(ch)));
                            }
                        }
                    }
                }
                Step::Leave(node, base, alive) => {
                    if alive && node.value_count > 0 && fnmatch(buf, subkey) {
                        for v in self.values(&node) {
                            let (priority, value) = v?;
                            add_value(out, priority, value);
                        }
                    }
                    buf.truncate(base);
                    reach.pop();
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::index::INDEX_VERSION;

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

    /// The pruned walk finds what libkmod's full walk finds, in the same
    /// order, over random patterns of literals, `?`, `*`, brackets and
    /// escapes and random keys.
    #[test]
    fn pruned_wildcard_walk_agrees_with_the_full_walk() {
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        let mut next = |n: usize| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed % n as u64) as usize
        };
        let alphabet = b"ab*?[]!-\\c";
        let mut hits = 0;
        for round in 0..200 {
            let mut entries = Vec::new();
            for i in 0..40 {
                let len = 1 + next(7);
                let key: String = (0..len)
                    .map(|_| char::from(alphabet[next(alphabet.len())]))
                    .collect();
                entries.push((key, format!("m{round}_{i}"), next(3) as u32));
            }
            let refs: Vec<(&str, &str, u32)> = entries
                .iter()
                .map(|(k, v, p)| (k.as_str(), v.as_str(), *p))
                .collect();
            let idx = Index::from_bytes(build(&refs)).unwrap();
            for _ in 0..30 {
                let len = next(8);
                let key: String = (0..len).map(|_| char::from(b"abc-!*"[next(6)])).collect();
                let full = idx.search_wildcard_pruned(&key, false).unwrap();
                let pruned = idx.search_wildcard_pruned(&key, true).unwrap();
                hits += full.len();
                assert_eq!(values(&pruned), values(&full), "key {key:?} in {entries:?}");
            }
        }
        assert!(hits > 5000, "too few matches to mean anything: {hits}");
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
}
