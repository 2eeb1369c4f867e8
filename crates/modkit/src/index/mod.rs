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
//! [`Index::search_wildcard`] treats stored keys as `fnmatch(3)` patterns
//! ([`crate::compat::fnmatch`]) and walks the trie the way libkmod does,
//! collecting results ordered by
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
//! node as absent, this reader returns an `EINVAL` [`crate::Error`]: every offset and
//! string is bounds-checked, a child range not within `0..128` or reversed is
//! rejected, and whole-subtree walks reject a node reached twice (which a
//! trie written by depmod never contains), so cycles cannot loop. Nothing
//! here panics or recurses.
//!
//! # Rooms
//!
//! - `read` — [`Index`]: the mmap-style reader, exact and wildcard lookups,
//!   the dump.
//! - `write` — [`IndexBuilder`]: depmod's trie and its exact bytes;
//!   [`check_index_string`].
//!
//! This file holds what both share: the format's constants and
//! [`IndexValue`].

mod read;
mod write;

pub use read::Index;
pub use write::{check_index_string, IndexBuilder};

/// The magic number at the start of every kmod index (`BOOTFAST`, sort of).
pub const INDEX_MAGIC: u32 = 0xB007_F457;
/// The only major version of the format that libkmod accepts.
pub const INDEX_VERSION_MAJOR: u32 = 0x0002;
/// The version depmod writes (major 2, minor 1).
pub const INDEX_VERSION: u32 = 0x0002_0001;

/// Node reference flag: the node has a prefix.
const NODE_PREFIX: u32 = 0x8000_0000;
/// Node reference flag: the node has values.
const NODE_VALUES: u32 = 0x4000_0000;
/// Node reference flag: the node has children.
const NODE_CHILDS: u32 = 0x2000_0000;
/// The file offset part of a node reference.
const NODE_MASK: u32 = 0x0FFF_FFFF;
/// Child characters (and every key and value byte) are below this.
const CHILD_MAX: u8 = 128;
/// Magic, version and root reference.
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

/// Bytes as text, U+FFFD for what is not UTF-8.
fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}
