//! Answering "which configuration lines name this module" without reading
//! every line: the lists of a [`ModprobeConfig`] indexed once by the text
//! of their module field.
//!
//! kmod scans each list with `fnmatch` (or `strcmp`) per question; with a
//! few hundred `softdep` lines (a tree's `modules.softdep` is read as
//! configuration) and thousands of modules in one process, the scans were
//! most of the cost of resolving a module by name. Here a field without
//! `fnmatch` special characters (`*`, `?`, `[`, a backslash) can only
//! match itself, so it is found through a hash map; only the fields that
//! are real patterns are tried with [`fnmatch`], in file order. The
//! answers — which line, which lines and in what order — are the scans'.

use super::{Alias, ModprobeConfig, ModuleText, Softdep, Weakdep};
use crate::compat::cstr::until_nul;
use crate::compat::fnmatch::fnmatch;

/// One list's module fields, indexed.
#[derive(Debug, Clone, Default)]
struct Fields {
    /// Every field's exact text → the positions of the lines carrying it,
    /// ascending.
    by_text: foldhash::HashMap<Vec<u8>, Vec<usize>>,
    /// Positions of the fields that are patterns (or hold a NUL, where a C
    /// string would end), ascending.
    patterns: Vec<usize>,
}

fn is_pattern(field: &[u8]) -> bool {
    field
        .iter()
        .any(|&b| matches!(b, b'*' | b'?' | b'[' | b'\\' | 0))
}

impl Fields {
    fn new<'a>(fields: impl Iterator<Item = &'a [u8]>) -> Fields {
        let mut out = Fields::default();
        for (i, f) in fields.enumerate() {
            out.by_text.entry(f.to_vec()).or_default().push(i);
            if is_pattern(f) {
                out.patterns.push(i);
            }
        }
        out
    }

    /// Positions of the lines whose field, as an `fnmatch` pattern,
    /// matches `name`, ascending.
    fn matching<'c>(&self, name: &[u8], field: impl Fn(usize) -> &'c [u8]) -> Vec<usize> {
        let name = until_nul(name);
        let mut out: Vec<usize> = self
            .by_text
            .get(name)
            .map(|v| {
                v.iter()
                    .copied()
                    .filter(|&i| !is_pattern(field(i)))
                    .collect()
            })
            .unwrap_or_default();
        let literal = out.len();
        out.extend(
            self.patterns
                .iter()
                .copied()
                .filter(|&i| fnmatch(field(i), name)),
        );
        if literal > 0 && out.len() > literal {
            out.sort_unstable();
        }
        out
    }

    /// The first line whose field, as an `fnmatch` pattern, matches `name`.
    fn first_matching<'c>(&self, name: &[u8], field: impl Fn(usize) -> &'c [u8]) -> Option<usize> {
        let name = until_nul(name);
        let literal = self
            .by_text
            .get(name)
            .and_then(|v| v.iter().copied().find(|&i| !is_pattern(field(i))));
        let pattern = self
            .patterns
            .iter()
            .copied()
            .take_while(|&i| literal.is_none_or(|l| i < l))
            .find(|&i| fnmatch(field(i), name));
        pattern.or(literal)
    }

    /// Positions of the lines whose field is exactly `text`, ascending.
    fn equal(&self, text: &[u8]) -> &[usize] {
        self.by_text.get(text).map_or(&[], Vec::as_slice)
    }
}

/// A [`ModprobeConfig`]'s lists indexed by module field, for the questions
/// modprobe asks once per module. Built once ([`ConfigLookup::new`]) for
/// one configuration; asking it about another configuration gives
/// meaningless answers (or none).
#[derive(Debug, Clone, Default)]
pub struct ConfigLookup {
    aliases: Fields,
    blacklists: Fields,
    options: Fields,
    install: Fields,
    remove: Fields,
    softdeps: Fields,
    weakdeps: Fields,
}

impl ConfigLookup {
    /// Indexes `config`'s lists.
    pub fn new(config: &ModprobeConfig) -> ConfigLookup {
        ConfigLookup {
            aliases: Fields::new(config.aliases.iter().map(|a| a.pattern.as_slice())),
            blacklists: Fields::new(config.blacklists.iter().map(Vec::as_slice)),
            options: Fields::new(config.options.iter().map(|o| o.modname.as_slice())),
            install: Fields::new(config.install_commands.iter().map(|c| c.modname.as_slice())),
            remove: Fields::new(config.remove_commands.iter().map(|c| c.modname.as_slice())),
            softdeps: Fields::new(config.softdeps.iter().map(|s| s.modname.as_slice())),
            weakdeps: Fields::new(config.weakdeps.iter().map(|w| w.modname.as_slice())),
        }
    }

    /// Every `alias` line whose pattern matches `name`, in file order.
    pub fn aliases<'c>(&self, config: &'c ModprobeConfig, name: &[u8]) -> Vec<&'c Alias> {
        let list = &config.aliases;
        let field = |i: usize| list.get(i).map_or(&[][..], |a| a.pattern.as_slice());
        self.aliases
            .matching(name, field)
            .into_iter()
            .filter_map(|i| list.get(i))
            .collect()
    }

    /// Whether a `blacklist` line (or `modprobe.blacklist=` entry) names
    /// exactly `name`.
    pub fn is_blacklisted(&self, name: &[u8]) -> bool {
        !self.blacklists.equal(name).is_empty()
    }

    /// The `options` lines whose module field is exactly `name` or (when
    /// given) exactly `alias`, in file order.
    pub fn options<'c>(
        &self,
        config: &'c ModprobeConfig,
        name: &[u8],
        alias: Option<&[u8]>,
    ) -> Vec<&'c ModuleText> {
        let mut at: Vec<usize> = self.options.equal(name).to_vec();
        if let Some(alias) = alias.filter(|a| *a != name) {
            at.extend_from_slice(self.options.equal(alias));
            at.sort_unstable();
        }
        at.into_iter()
            .filter_map(|i| config.options.get(i))
            .collect()
    }

    /// The first `install` (`install` true) or `remove` line whose pattern
    /// matches `name`.
    pub fn command<'c>(
        &self,
        config: &'c ModprobeConfig,
        install: bool,
        name: &[u8],
    ) -> Option<&'c ModuleText> {
        let (fields, list) = self.commands(config, install);
        let field = |i: usize| list.get(i).map_or(&[][..], |c| c.modname.as_slice());
        fields.first_matching(name, field).and_then(|i| list.get(i))
    }

    /// The first `install` (`install` true) or `remove` line whose module
    /// field is exactly `name` (no pattern matching: how a lookup finds a
    /// module by its command).
    pub fn command_named<'c>(
        &self,
        config: &'c ModprobeConfig,
        install: bool,
        name: &[u8],
    ) -> Option<&'c ModuleText> {
        let (fields, list) = self.commands(config, install);
        fields.equal(name).first().and_then(|&i| list.get(i))
    }

    fn commands<'c>(
        &self,
        config: &'c ModprobeConfig,
        install: bool,
    ) -> (&Fields, &'c [ModuleText]) {
        if install {
            (&self.install, &config.install_commands)
        } else {
            (&self.remove, &config.remove_commands)
        }
    }

    /// The first `softdep` line whose pattern matches `name`.
    pub fn softdep<'c>(&self, config: &'c ModprobeConfig, name: &[u8]) -> Option<&'c Softdep> {
        self.softdep_position(config, name)
            .and_then(|i| config.softdeps.get(i))
    }

    /// The position in `config.softdeps` of [`ConfigLookup::softdep`]'s
    /// line.
    pub fn softdep_position(&self, config: &ModprobeConfig, name: &[u8]) -> Option<usize> {
        let list = &config.softdeps;
        let field = |i: usize| list.get(i).map_or(&[][..], |s| s.modname.as_slice());
        self.softdeps
            .first_matching(name, field)
            .filter(|&i| i < list.len())
    }

    /// The first `weakdep` line whose pattern matches `name`.
    pub fn weakdep<'c>(&self, config: &'c ModprobeConfig, name: &[u8]) -> Option<&'c Weakdep> {
        self.weakdep_position(config, name)
            .and_then(|i| config.weakdeps.get(i))
    }

    /// The position in `config.weakdeps` of [`ConfigLookup::weakdep`]'s
    /// line.
    pub fn weakdep_position(&self, config: &ModprobeConfig, name: &[u8]) -> Option<usize> {
        let list = &config.weakdeps;
        let field = |i: usize| list.get(i).map_or(&[][..], |w| w.modname.as_slice());
        self.weakdeps
            .first_matching(name, field)
            .filter(|&i| i < list.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kmod::Level;

    fn config(text: &str) -> ModprobeConfig {
        let mut c = ModprobeConfig::default();
        c.parse(
            b"t.conf",
            text.as_bytes(),
            &|_: Level, _: &str, _: &[u8]| {},
        );
        c
    }

    /// Every answer equals the plain scan's, over lines mixing literal
    /// fields, patterns, duplicates and escapes, for names that hit one,
    /// several or none.
    #[test]
    fn answers_are_the_scans() {
        let c = config(
            "alias snd-card-* snd_a\nalias snd-card-0 snd_b\nalias foo bar\nalias f?o baz\n\
             alias foo qux\nalias x\\* esc\n\
             softdep foo pre: a\nsoftdep f* pre: b\nsoftdep foo pre: c\nsoftdep bar post: d\n\
             weakdep b?r w1\nweakdep bar w2\n\
             install f* /bin/one\ninstall foo /bin/two\nremove foo /bin/three\n\
             options foo x=1\noptions bar y=2\noptions foo z=3\noptions f* no=1\n\
             blacklist foo\nblacklist f*\n",
        );
        let l = ConfigLookup::new(&c);
        let names: &[&[u8]] = &[
            b"foo",
            b"fxo",
            b"bar",
            b"snd-card-0",
            b"snd-card-1",
            b"x*",
            b"xy",
            b"f",
            b"",
            b"foo\0bar",
            b"f*",
        ];
        for &n in names {
            let scan: Vec<&Alias> = c
                .aliases
                .iter()
                .filter(|a| fnmatch(&a.pattern, n))
                .collect();
            assert_eq!(l.aliases(&c, n), scan, "{n:?}");
            let scan = c.softdeps.iter().find(|s| fnmatch(&s.modname, n));
            assert_eq!(l.softdep(&c, n), scan, "{n:?}");
            let scan = c.weakdeps.iter().find(|s| fnmatch(&s.modname, n));
            assert_eq!(l.weakdep(&c, n), scan, "{n:?}");
            for install in [true, false] {
                let list = if install {
                    &c.install_commands
                } else {
                    &c.remove_commands
                };
                let scan = list.iter().find(|s| fnmatch(&s.modname, n));
                assert_eq!(l.command(&c, install, n), scan, "{n:?}");
                let scan = list.iter().find(|s| s.modname == n);
                assert_eq!(l.command_named(&c, install, n), scan, "{n:?}");
            }
            assert_eq!(l.is_blacklisted(n), c.is_blacklisted(n), "{n:?}");
            for alias in [None, Some(&b"bar"[..]), Some(n)] {
                let scan: Vec<&ModuleText> = c
                    .options
                    .iter()
                    .filter(|o| o.modname == n || alias.is_some_and(|a| o.modname == a))
                    .collect();
                assert_eq!(l.options(&c, n, alias), scan, "{n:?} {alias:?}");
            }
        }
        // The cases above exercise several hits and the pattern/literal
        // interleaving, not only misses.
        assert_eq!(l.aliases(&c, b"foo").len(), 3);
        assert_eq!(
            l.softdep(&c, b"foo").map(|s| &s.pre[0][..]),
            Some(&b"a"[..])
        );
        assert_eq!(l.softdep(&c, b"fa").map(|s| &s.pre[0][..]), Some(&b"b"[..]));
        assert_eq!(
            l.command(&c, true, b"foo").map(|s| &s.text[..]),
            Some(&b"/bin/one"[..])
        );
    }
}
