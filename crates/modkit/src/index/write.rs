//! Writing kmod indexes as depmod does: [`IndexBuilder`] builds depmod's
//! trie and [`IndexBuilder::to_bytes`] lays it out byte for byte as
//! `index_write`; [`check_index_string`] is depmod's 7-bit ASCII check.
//!
//! Nothing recurses: nodes live in an arena and the walks use explicit
//! stacks, so keys of any length are fine.

use super::text;
use super::{CHILD_MAX, HEADER_LEN, INDEX_MAGIC, INDEX_VERSION};
use super::{NODE_CHILDS, NODE_PREFIX, NODE_VALUES};
use crate::compat::cstr::until_nul;
use crate::error::{Error, Result};

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
    use crate::index::{Index, IndexValue};
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
