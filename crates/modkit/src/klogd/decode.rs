//! Address decoding in oops, WARNING and call-trace lines.
//!
//! Kernels since 4.x print call traces already symbolized (`%pS`:
//! `do_one_initcall+0x46/0x1f0`), and those lines are kept as they are.
//! Raw addresses still appear: the `[<ffffffffc0a01234>]` form of older
//! kernels and of code that prints its own traces, `RIP: 0010:0x...` and
//! bare `0xffff...` words when the kernel could not name the address (for
//! example in a module loaded since). Each such address that the symbol
//! table names gets the name appended after it, as `%pS` prints it:
//!
//! ```text
//! [<ffffffffc0a01234>] mk_oops_fire+0x14/0x30 [mk_oops]
//! ```
//!
//! `[<...>]` is decoded in any line; `RIP:` words and bare `0x` words of
//! 16 hex digits in the kernel's half of the address space only in a trace
//! (from a line with `Call Trace:`, `RIP:`, `Oops`, `BUG:` or `WARNING:`
//! to `---[ end trace` or 64 lines on). A `[<...>]` already followed by a
//! name is left alone.
//!
//! The symbol table is `/proc/kallsyms`, or a `System.map` for the core
//! kernel with the module symbols of `/proc/kallsyms` (`-k`). It is read
//! at the first decode (or at start), and again when `/proc/modules`
//! changed since (a module came or went) or on [`Decoder::reload`].

use std::path::PathBuf;

use crate::kallsyms::{Symbol, SymbolTable};

/// Where the decoder's symbols come from.
#[derive(Debug, Clone)]
pub struct SymbolSources {
    /// `/proc/kallsyms` (for modules; for everything without a map).
    pub kallsyms: PathBuf,
    /// A `System.map` for the core kernel (`-k`).
    pub system_map: Option<PathBuf>,
    /// `/proc/modules`, watched for changes.
    pub modules: PathBuf,
}

impl Default for SymbolSources {
    fn default() -> SymbolSources {
        SymbolSources {
            kallsyms: PathBuf::from(crate::kallsyms::PROC_KALLSYMS),
            system_map: None,
            modules: PathBuf::from("/proc/modules"),
        }
    }
}

/// Decodes addresses in messages (see the module documentation).
#[derive(Debug)]
pub struct Decoder {
    sources: SymbolSources,
    table: Option<SymbolTable>,
    modules_seen: Option<Vec<u8>>,
    trace_lines_left: u32,
    /// Why the last load failed, for the daemon's debug output.
    pub last_error: Option<String>,
    /// How many times the table was loaded.
    pub loads: u64,
}

/// The searchers, built once (building one per message costs more than
/// the search).
struct Finders {
    starts: Vec<memchr::memmem::Finder<'static>>,
    end: memchr::memmem::Finder<'static>,
    bracket: memchr::memmem::Finder<'static>,
    hex: memchr::memmem::Finder<'static>,
}

fn finders() -> &'static Finders {
    static F: std::sync::OnceLock<Finders> = std::sync::OnceLock::new();
    F.get_or_init(|| Finders {
        starts: [&b"Call Trace:"[..], b"RIP:", b"Oops", b"BUG:", b"WARNING:"]
            .iter()
            .map(|p| memchr::memmem::Finder::new(*p))
            .collect(),
        end: memchr::memmem::Finder::new(b"---[ end trace"),
        bracket: memchr::memmem::Finder::new(b"[<"),
        hex: memchr::memmem::Finder::new(b"0x"),
    })
}

fn is_trace_start(msg: &[u8]) -> bool {
    finders().starts.iter().any(|f| f.find(msg).is_some())
}

fn hex_value(digits: &[u8]) -> Option<u64> {
    if digits.is_empty() || digits.len() > 16 {
        return None;
    }
    let mut v = 0u64;
    for &c in digits {
        v = v << 4 | u64::from((c as char).to_digit(16)?);
    }
    Some(v)
}

impl Decoder {
    /// A decoder over these sources; nothing is read yet.
    pub fn new(sources: SymbolSources) -> Decoder {
        Decoder {
            sources,
            table: None,
            modules_seen: None,
            trace_lines_left: 0,
            last_error: None,
            loads: 0,
        }
    }

    /// A decoder over a table given by the caller (tests); never reloads.
    pub fn with_table(table: SymbolTable) -> Decoder {
        let mut d = Decoder::new(SymbolSources::default());
        d.table = Some(table);
        d.modules_seen = Some(Vec::new());
        d.sources.modules = PathBuf::new();
        d
    }

    /// Forgets the table: the next decode reads it again (`-i`, `SIGUSR1`).
    pub fn reload(&mut self) {
        if !self.sources.modules.as_os_str().is_empty() {
            self.table = None;
        }
    }

    /// Reads the table now (at start, unless symbols are loaded on demand).
    pub fn load(&mut self) {
        let modules = std::fs::read(&self.sources.modules).ok();
        let table = match &self.sources.system_map {
            None => SymbolTable::read(&self.sources.kallsyms),
            Some(map) => SymbolTable::read(map).map(|core| {
                let mut symbols: Vec<Symbol> = core.symbols().to_vec();
                if let Ok(k) = SymbolTable::read(&self.sources.kallsyms) {
                    if !k.addresses_hidden() {
                        symbols.extend(k.symbols().iter().filter(|s| s.module.is_some()).cloned());
                    }
                }
                SymbolTable::from_symbols(symbols)
            }),
        };
        self.loads += 1;
        match table {
            Ok(t) => {
                self.table = Some(t);
                self.last_error = None;
            }
            Err(e) => {
                self.table = Some(SymbolTable::default());
                self.last_error = Some(e.to_string());
            }
        }
        self.modules_seen = modules;
    }

    fn table(&mut self) -> &SymbolTable {
        let stale = self.table.is_none()
            || (!self.sources.modules.as_os_str().is_empty()
                && std::fs::read(&self.sources.modules).ok() != self.modules_seen);
        if stale {
            self.load();
        }
        self.table.get_or_insert_with(SymbolTable::default)
    }

    /// The message with decoded addresses, or `None` when nothing in it
    /// was decoded (the message is then kept as it is).
    pub fn decode(&mut self, msg: &[u8]) -> Option<Vec<u8>> {
        let in_trace = if is_trace_start(msg) {
            self.trace_lines_left = 64;
            true
        } else if finders().end.find(msg).is_some() {
            self.trace_lines_left = 0;
            false
        } else if self.trace_lines_left > 0 {
            self.trace_lines_left -= 1;
            true
        } else {
            false
        };
        let has_bracket = finders().bracket.find(msg).is_some();
        let has_hex = in_trace && finders().hex.find(msg).is_some();
        if !has_bracket && !has_hex {
            return None;
        }
        // (end of the address word, address) pairs to name.
        let mut found: Vec<(usize, u64)> = Vec::new();
        let mut i = 0;
        while i < msg.len() {
            if msg[i..].starts_with(b"[<") {
                let start = i + 2;
                let len = msg[start..]
                    .iter()
                    .take_while(|c| c.is_ascii_hexdigit())
                    .count();
                let end = start + len;
                if msg[end..].starts_with(b">]") {
                    let after = &msg[end + 2..];
                    let named = after.starts_with(b" ")
                        && after[1..]
                            .iter()
                            .take_while(|&&c| c != b' ')
                            .any(|&c| c == b'+');
                    if let (Some(a), false) = (hex_value(&msg[start..end]), named) {
                        found.push((end + 2, a));
                    }
                    i = end + 2;
                    continue;
                }
            }
            if in_trace
                && msg[i..].starts_with(b"0x")
                && (i == 0 || !msg[i - 1].is_ascii_alphanumeric())
            {
                let start = i + 2;
                let len = msg[start..]
                    .iter()
                    .take_while(|c| c.is_ascii_hexdigit())
                    .count();
                let end = start + len;
                let word_ends = msg
                    .get(end)
                    .is_none_or(|c| !c.is_ascii_alphanumeric() && *c != b'+');
                if len == 16 && word_ends {
                    if let Some(a) = hex_value(&msg[start..end]).filter(|a| a >> 63 == 1) {
                        found.push((end, a));
                    }
                }
                i = end.max(i + 1);
                continue;
            }
            i += 1;
        }
        if found.is_empty() {
            return None;
        }
        let table = self.table();
        let mut out = Vec::with_capacity(msg.len() + 64 * found.len());
        let mut last = 0;
        let mut any = false;
        for (at, addr) in found {
            let Some(loc) = table.lookup(addr) else {
                continue;
            };
            out.extend_from_slice(&msg[last..at]);
            out.extend_from_slice(format!(" {loc}").as_bytes());
            last = at;
            any = true;
        }
        if !any {
            return None;
        }
        out.extend_from_slice(&msg[last..]);
        Some(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table() -> SymbolTable {
        SymbolTable::parse(
            b"ffffffff81000000 T _stext\n\
              ffffffff81000100 T do_one_initcall\n\
              ffffffff81000200 T other\n\
              ffffffffc0a01000 t mk_oops_fire\t[mk_oops]\n\
              ffffffffc0a01040 t mk_oops_set\t[mk_oops]\n",
        )
        .unwrap()
    }

    #[test]
    fn raw_addresses_are_named() {
        let mut d = Decoder::with_table(table());
        assert_eq!(
            d.decode(b" [<ffffffffc0a01014>] ? [<ffffffff81000105>]").unwrap(),
            b" [<ffffffffc0a01014>] mk_oops_fire+0x14/0x40 [mk_oops] ? [<ffffffff81000105>] do_one_initcall+0x5/0x100"
        );
        // Already named, unknown, or not an address: kept.
        assert_eq!(
            d.decode(b"[<ffffffff81000105>] do_one_initcall+0x5/0x100"),
            None
        );
        assert_eq!(d.decode(b"[<0000000000000010>]"), None);
        assert_eq!(d.decode(b"value 0xffffffff81000105 outside a trace"), None);
        // In a trace: RIP and bare words.
        assert_eq!(
            d.decode(b"RIP: 0010:0xffffffffc0a01044").unwrap(),
            b"RIP: 0010:0xffffffffc0a01044 mk_oops_set+0x4/0xfc0 [mk_oops]"
        );
        assert_eq!(
            d.decode(b" 0xffffffff81000201 and 0x1234").unwrap(),
            b" 0xffffffff81000201 other+0x1 and 0x1234"
        );
        assert_eq!(d.decode(b"---[ end trace 0000000000000000 ]---"), None);
        assert_eq!(d.decode(b" 0xffffffff81000201"), None);
    }

    #[test]
    fn system_map_and_reload_on_module_change() {
        let dir = modkit_testkit::ScratchDir::new("klogd-decode");
        std::fs::write(dir.join("map"), b"ffffffff81000000 T core_fn\n").unwrap();
        std::fs::write(
            dir.join("kallsyms"),
            b"ffffffff81000000 T hidden_by_map\nffffffffc0000000 t m_fn\t[m]\n",
        )
        .unwrap();
        std::fs::write(dir.join("modules"), b"m 1 0 - Live 0x0\n").unwrap();
        let mut d = Decoder::new(SymbolSources {
            kallsyms: dir.join("kallsyms"),
            system_map: Some(dir.join("map")),
            modules: dir.join("modules"),
        });
        assert_eq!(
            d.decode(b"[<ffffffff81000001>] [<ffffffffc0000002>]")
                .unwrap(),
            b"[<ffffffff81000001>] core_fn+0x1 [<ffffffffc0000002>] m_fn+0x2/0x1000 [m]"
        );
        assert_eq!(d.loads, 1);
        d.decode(b"[<ffffffff81000001>]").unwrap();
        assert_eq!(d.loads, 1);
        std::fs::write(dir.join("kallsyms"), b"ffffffffc0000000 t n_fn\t[n]\n").unwrap();
        std::fs::write(dir.join("modules"), b"n 1 0 - Live 0x0\n").unwrap();
        assert_eq!(
            d.decode(b"[<ffffffffc0000002>]").unwrap(),
            b"[<ffffffffc0000002>] n_fn+0x2/0x1000 [n]"
        );
        assert_eq!(d.loads, 2);
        // A missing table: nothing decoded, no error.
        let mut d = Decoder::new(SymbolSources {
            kallsyms: dir.join("none"),
            system_map: None,
            modules: dir.join("none"),
        });
        assert_eq!(d.decode(b"[<ffffffff81000001>]"), None);
        assert!(d.last_error.is_some());
    }
}
