//! An in-memory index trie serialized exactly as kmod's depmod writes its
//! `.bin` indexes (see [`crate::index`] for the format).

/// A trie under construction.
pub struct Trie {
    nodes: Vec<Node>,
}

#[derive(Default)]
struct Node {
    prefix: Vec<u8>,
    /// (character, node index), sorted by character.
    children: Vec<(u8, u32)>,
    /// (priority, value), in kmod's list order.
    values: Vec<(u32, Vec<u8>)>,
}

impl Node {
    fn child(&self, c: u8) -> Option<u32> {
        self.children
            .binary_search_by_key(&c, |&(ch, _)| ch)
            .ok()
            .map(|i| self.children[i].1)
    }

    fn add_child(&mut self, c: u8, idx: u32) {
        let at = self.children.partition_point(|&(ch, _)| ch < c);
        self.children.insert(at, (c, idx));
    }

    /// kmod's `index_add_value`: reports a duplicate value, inserts before
    /// the first value whose priority is not lower.
    fn add_value(&mut self, value: &[u8], priority: u32) -> bool {
        let dup = self.values.iter().any(|(_, v)| v == value);
        let at = self.values.partition_point(|&(p, _)| p < priority);
        self.values.insert(at, (priority, value.to_vec()));
        dup
    }
}

impl Default for Trie {
    fn default() -> Self {
        Trie::new()
    }
}

impl Trie {
    /// An empty trie (a root node without prefix).
    pub fn new() -> Trie {
        Trie {
            nodes: vec![Node::default()],
        }
    }

    /// Inserts `value` under `key` with `priority`, as kmod's
    /// `index_insert`; returns whether the key already had this value.
    /// Keys and values must be 7-bit ASCII without NUL (the caller checks).
    pub fn insert(&mut self, key: &[u8], value: &[u8], priority: u32) -> bool {
        let mut node = 0usize;
        let mut i = 0usize;
        loop {
            let plen = self.nodes[node].prefix.len();
            let mut j = 0;
            while j < plen {
                let ch = self.nodes[node].prefix[j];
                if key.get(i + j) != Some(&ch) {
                    // Split: the node keeps prefix[..j], a new child gets
                    // the rest with the node's children and values.
                    let old = std::mem::take(&mut self.nodes[node]);
                    let child = Node {
                        prefix: old.prefix[j + 1..].to_vec(),
                        children: old.children,
                        values: old.values,
                    };
                    let cidx = self.nodes.len() as u32;
                    self.nodes.push(child);
                    let n = &mut self.nodes[node];
                    n.prefix = old.prefix[..j].to_vec();
                    n.children = vec![(ch, cidx)];
                    break;
                }
                j += 1;
            }
            i += j;
            let Some(&ch) = key.get(i) else {
                return self.nodes[node].add_value(value, priority);
            };
            match self.nodes[node].child(ch) {
                Some(c) => {
                    node = c as usize;
                    i += 1;
                }
                None => {
                    let mut child = Node {
                        prefix: key[i + 1..].to_vec(),
                        ..Node::default()
                    };
                    child.add_value(value, priority);
                    let cidx = self.nodes.len() as u32;
                    self.nodes.push(child);
                    self.nodes[node].add_child(ch, cidx);
                    return false;
                }
            }
        }
    }

    fn node_size(n: &Node) -> u32 {
        let mut size = 0usize;
        if let (Some(first), Some(last)) = (n.children.first(), n.children.last()) {
            size += 2 + 4 * (usize::from(last.0 - first.0) + 1);
        }
        if !n.prefix.is_empty() {
            size += n.prefix.len() + 1;
        }
        if !n.values.is_empty() {
            size += 4;
            for (_, v) in &n.values {
                size += 4 + v.len() + 1;
            }
        }
        size as u32
    }

    fn mask(n: &Node) -> u32 {
        let mut m = 0;
        if !n.children.is_empty() {
            m |= 0x2000_0000;
        }
        if !n.prefix.is_empty() {
            m |= 0x8000_0000;
        }
        if !n.values.is_empty() {
            m |= 0x4000_0000;
        }
        m
    }

    /// The index file, byte for byte as kmod's `index_write`.
    pub fn to_bytes(&self) -> Vec<u8> {
        // Sizes: node size and subtree total, children before parents.
        let n = self.nodes.len();
        let mut size = vec![0u32; n];
        let mut total = vec![0u32; n];
        let mut order = Vec::with_capacity(n);
        let mut stack = vec![0usize];
        while let Some(x) = stack.pop() {
            order.push(x);
            stack.extend(self.nodes[x].children.iter().map(|&(_, c)| c as usize));
        }
        for &x in order.iter().rev() {
            size[x] = Self::node_size(&self.nodes[x]);
            total[x] = size[x]
                + self.nodes[x]
                    .children
                    .iter()
                    .map(|&(_, c)| total[c as usize])
                    .sum::<u32>();
        }
        let mut out = Vec::with_capacity(12 + total[0] as usize);
        out.extend_from_slice(&0xB007_F457u32.to_be_bytes());
        out.extend_from_slice(&0x0002_0001u32.to_be_bytes());
        out.extend_from_slice(&(12 | Self::mask(&self.nodes[0])).to_be_bytes());
        // Pre-order: a node, then its children by character.
        let mut stack = vec![0usize];
        while let Some(x) = stack.pop() {
            let node = &self.nodes[x];
            let offset = out.len() as u32;
            if !node.prefix.is_empty() {
                out.extend_from_slice(&node.prefix);
                out.push(0);
            }
            if let (Some(first), Some(last)) = (node.children.first(), node.children.last()) {
                out.push(first.0);
                out.push(last.0);
                let mut next = offset + size[x];
                let mut it = node.children.iter().peekable();
                for c in first.0..=last.0 {
                    match it.peek() {
                        Some(&&(ch, idx)) if ch == c => {
                            it.next();
                            let word = next | Self::mask(&self.nodes[idx as usize]);
                            out.extend_from_slice(&word.to_be_bytes());
                            next += total[idx as usize];
                        }
                        _ => out.extend_from_slice(&0u32.to_be_bytes()),
                    }
                }
            }
            if !node.values.is_empty() {
                out.extend_from_slice(&(node.values.len() as u32).to_be_bytes());
                for (p, v) in &node.values {
                    out.extend_from_slice(&p.to_be_bytes());
                    out.extend_from_slice(v);
                    out.push(0);
                }
            }
            stack.extend(node.children.iter().rev().map(|&(_, c)| c as usize));
        }
        out
    }
}
