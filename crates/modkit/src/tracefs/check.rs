//! Whether a kprobe can go on a symbol, and why not: the facts the kernel
//! will check, gathered before writing to `kprobe_events`.
//!
//! The kernel resolves `[MOD:]SYM` through kallsyms among code symbols;
//! refuses a name that several code symbols share (since 6.8 and in the
//! stable kernels it was backported to: "The symbol is not unique"),
//! refuses an address in a range of debugfs's `kprobes/blacklist`, and
//! knows no name the compiler renamed (`foo` when only `foo.isra.0`
//! exists). [`check_symbol`] reports each, with the compiler-renamed copies
//! and near names for a missing one; whether the function is in
//! `available_filter_functions` (a probe then uses ftrace, otherwise a
//! breakpoint) is informative only.

use crate::kallsyms::{Symbol, SymbolTable};

use super::format::BlacklistEntry;

/// What the kernel will do with a probe on the symbol.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// One code symbol, not blacklisted: the kernel should take the probe.
    Probeable,
    /// No code symbol of that name (in that module).
    Unknown,
    /// Several code symbols of that name: give an address or `MOD:SYM`.
    Ambiguous,
    /// The symbol's address is in a blacklisted range.
    Blacklisted,
    /// A symbol of that name exists but is not code.
    NotCode,
}

impl Verdict {
    /// A short word for the verdict (`probeable`, `unknown`...).
    pub fn name(self) -> &'static str {
        match self {
            Verdict::Probeable => "probeable",
            Verdict::Unknown => "unknown",
            Verdict::Ambiguous => "ambiguous",
            Verdict::Blacklisted => "blacklisted",
            Verdict::NotCode => "not-code",
        }
    }
}

/// The facts about one symbol.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SymbolCheck {
    /// The name asked about.
    pub symbol: String,
    /// The module asked for (`MOD:SYM`).
    pub module: Option<String>,
    /// The code symbols of that name (in that module).
    pub matches: Vec<Symbol>,
    /// Symbols of that name that are not code.
    pub other_kinds: Vec<Symbol>,
    /// The compiler-renamed copies (`SYM.isra.0`...).
    pub renamed: Vec<Symbol>,
    /// Code symbols with a close name (for a missing one), at most five.
    pub near: Vec<String>,
    /// The blacklisted ranges that hold a match.
    pub blacklisted: Vec<BlacklistEntry>,
    /// Whether the symbol is in `available_filter_functions` (`None`:
    /// unknown).
    pub ftrace: Option<bool>,
    /// The conclusion.
    pub verdict: Verdict,
}

impl SymbolCheck {
    /// One line saying what is wrong and what to do, for a verdict other
    /// than [`Verdict::Probeable`].
    pub fn problem(&self) -> Option<String> {
        let name = match &self.module {
            Some(m) => format!("{m}:{}", self.symbol),
            None => self.symbol.clone(),
        };
        Some(match self.verdict {
            Verdict::Probeable => return None,
            Verdict::Unknown => {
                let mut s = format!("{name}: no such function in the running kernel");
                if !self.renamed.is_empty() {
                    let r: Vec<String> = self.renamed.iter().map(describe).collect();
                    s.push_str(&format!(
                        "; the compiler renamed it: probe {} instead",
                        r.join(", ")
                    ));
                } else if !self.near.is_empty() {
                    s.push_str(&format!("; near names: {}", self.near.join(", ")));
                }
                s
            }
            Verdict::Ambiguous => {
                let a: Vec<String> = self.matches.iter().map(describe).collect();
                format!(
                    "{name}: {} functions have this name ({}): give the address (0x...) or MOD:SYMBOL",
                    self.matches.len(),
                    a.join(", ")
                )
            }
            Verdict::Blacklisted => {
                let r: Vec<String> = self
                    .blacklisted
                    .iter()
                    .map(|b| format!("0x{:x}-0x{:x} {}", b.start, b.end, b.symbol))
                    .collect();
                format!(
                    "{name}: kprobes may not be placed there (blacklisted: {})",
                    r.join(", ")
                )
            }
            Verdict::NotCode => {
                let k: Vec<String> = self
                    .other_kinds
                    .iter()
                    .map(|s| format!("type {}", s.kind as char))
                    .collect();
                format!("{name}: not a function ({})", k.join(", "))
            }
        })
    }
}

fn describe(s: &Symbol) -> String {
    match &s.module {
        Some(m) => format!("{} at 0x{:x} [{m}]", s.name, s.address),
        None => format!("{} at 0x{:x}", s.name, s.address),
    }
}

/// Checks `symbol` (in `module` if given) against the symbol table, the
/// blacklist and, if known, the names in `available_filter_functions`
/// (`ftrace`: whether it is there).
pub fn check_symbol(
    table: &SymbolTable,
    module: Option<&str>,
    symbol: &str,
    blacklist: &[BlacklistEntry],
    ftrace: Option<bool>,
) -> SymbolCheck {
    let in_scope = |s: &Symbol| module.is_none() || s.module.as_deref() == module;
    let (matches, other_kinds): (Vec<Symbol>, Vec<Symbol>) = table
        .named(symbol)
        .filter(|s| in_scope(s))
        .cloned()
        .partition(Symbol::is_text);
    let renamed: Vec<Symbol> = table
        .renamed_copies(symbol)
        .filter(|s| in_scope(s) && s.is_text() && !s.name.starts_with("__pfx_"))
        .cloned()
        .collect();
    let blacklisted: Vec<BlacklistEntry> = blacklist
        .iter()
        .filter(|b| matches.iter().any(|s| b.contains(s.address)))
        .cloned()
        .collect();
    let verdict = if matches.is_empty() {
        if other_kinds.is_empty() {
            Verdict::Unknown
        } else {
            Verdict::NotCode
        }
    } else if matches.len() > 1 {
        Verdict::Ambiguous
    } else if !blacklisted.is_empty() {
        Verdict::Blacklisted
    } else {
        Verdict::Probeable
    };
    let near = if verdict == Verdict::Unknown && renamed.is_empty() {
        near_names(table, symbol)
    } else {
        Vec::new()
    };
    SymbolCheck {
        symbol: symbol.to_string(),
        module: module.map(str::to_string),
        matches,
        other_kinds,
        renamed,
        near,
        blacklisted,
        ftrace,
        verdict,
    }
}

/// Up to five code symbols whose names are close to `name`: within an
/// edit distance of a quarter of its length (at least 1, at most 3), or
/// holding it whole; closest first.
pub fn near_names(table: &SymbolTable, name: &str) -> Vec<String> {
    let limit = (name.len() / 4).clamp(1, 3);
    let mut found: Vec<(usize, String)> = Vec::new();
    for s in table.symbols() {
        if !s.is_text() || s.name.starts_with("__pfx_") {
            continue;
        }
        let d = if s.name.len().abs_diff(name.len()) <= limit {
            edit_distance(&s.name, name, limit)
        } else {
            None
        };
        let d = d.or_else(|| (name.len() >= 4 && s.name.contains(name)).then_some(limit + 1));
        if let Some(d) = d {
            if !found.iter().any(|(_, n)| *n == s.name) {
                found.push((d, s.name.clone()));
            }
        }
    }
    found.sort();
    found.into_iter().take(5).map(|(_, n)| n).collect()
}

/// Levenshtein distance if at most `limit`.
fn edit_distance(a: &str, b: &str, limit: usize) -> Option<usize> {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = vec![0; b.len() + 1];
    for i in 1..=a.len() {
        cur[0] = i;
        let mut row_min = cur[0];
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            cur[j] = (prev[j] + 1).min(cur[j - 1] + 1).min(prev[j - 1] + cost);
            row_min = row_min.min(cur[j]);
        }
        if row_min > limit {
            return None;
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    (prev[b.len()] <= limit).then_some(prev[b.len()])
}

#[cfg(test)]
mod tests {
    use super::*;

    const TABLE: &str = "ffffffff81000000 T do_one\n\
        ffffffff81000100 t dup_fn\n\
        ffffffff81000200 t dup_fn\n\
        ffffffff81000300 t helper.isra.0\n\
        ffffffff81000400 T do_int3\n\
        ffffffff81000500 D some_data\n\
        ffffffffc0000000 t dup_fn\t[mymod]\n\
        ffffffffc0000100 t __pfx_helper.isra.0\t[mymod]\n";

    fn check(module: Option<&str>, name: &str) -> SymbolCheck {
        let t = SymbolTable::parse(TABLE.as_bytes()).unwrap();
        let bl = [BlacklistEntry {
            start: 0xffffffff81000400,
            end: 0xffffffff81000440,
            symbol: "do_int3".into(),
            module: None,
        }];
        check_symbol(&t, module, name, &bl, Some(true))
    }

    #[test]
    fn verdicts() {
        assert_eq!(check(None, "do_one").verdict, Verdict::Probeable);
        assert_eq!(check(None, "do_one").problem(), None);
        let a = check(None, "dup_fn");
        assert_eq!(a.verdict, Verdict::Ambiguous);
        let p = a.problem().unwrap();
        assert!(p.contains("3 functions have this name"), "{p}");
        assert!(p.contains("dup_fn at 0xffffffffc0000000 [mymod]"), "{p}");
        assert_eq!(check(Some("mymod"), "dup_fn").verdict, Verdict::Probeable);
        let b = check(None, "do_int3");
        assert_eq!(b.verdict, Verdict::Blacklisted);
        assert!(b
            .problem()
            .unwrap()
            .contains("blacklisted: 0xffffffff81000400-0xffffffff81000440 do_int3"));
        let r = check(None, "helper");
        assert_eq!(r.verdict, Verdict::Unknown);
        assert!(r
            .problem()
            .unwrap()
            .contains("probe helper.isra.0 at 0xffffffff81000300 instead"));
        let n = check(None, "do_onf");
        assert!(
            n.problem().unwrap().contains("near names: do_one"),
            "{:?}",
            n.problem()
        );
        assert_eq!(check(None, "some_data").verdict, Verdict::NotCode);
        assert_eq!(check(None, "helper.isra.0").verdict, Verdict::Probeable);
    }

    #[test]
    fn distances() {
        assert_eq!(edit_distance("kitten", "sitting", 3), Some(3));
        assert_eq!(edit_distance("kitten", "sitting", 2), None);
        assert_eq!(edit_distance("", "ab", 2), Some(2));
    }
}
