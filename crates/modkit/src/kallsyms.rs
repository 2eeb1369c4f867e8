//! The kernel's symbol table as `/proc/kallsyms` and a `System.map` show it.
//!
//! Each line is `ADDRESS TYPE NAME`, and for a loaded module's symbols a tab
//! and `[MODULE]` after the name (`System.map` has no module column). The
//! type letter is `nm`'s: upper case is global, lower case local; `t`/`T`
//! text, `d`/`D` data, `r`/`R` read-only data, `b`/`B` bss, `w`/`W` weak,
//! `a`/`A` absolute, `u` unique.
//!
//! When `kptr_restrict` is set, or the reader is not root, the kernel prints
//! every address as zeros: [`SymbolTable::addresses_hidden`] says so, and
//! address lookups then find nothing rather than a wrong answer.
//!
//! Address lookup follows the kernel's own (`kallsyms_lookup`, which `%pS`
//! prints as `name+0xOFF/0xSIZE [module]`): the symbol with the highest
//! address not above the one asked, the first of several at the same address
//! in table order; its size runs to the next higher address of the same
//! owner (the core kernel or one module). Absolute symbols are not places in
//! code and are skipped.

use std::path::Path;

use crate::error::{Error, Result};

/// One symbol: a line of `/proc/kallsyms` or `System.map`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Symbol {
    /// Its address (zero when the kernel hides addresses).
    pub address: u64,
    /// The `nm` type letter (`T`, `t`, `D`, `r`, ...).
    pub kind: u8,
    /// The symbol's name, e.g. `do_sys_open` or `foo.isra.0`.
    pub name: String,
    /// The loaded module it belongs to (`[MODULE]`), `None` for the core kernel.
    pub module: Option<String>,
}

impl Symbol {
    /// Whether it is code (`t`, `T`, or a weak `w`/`W` symbol in text).
    pub fn is_text(&self) -> bool {
        matches!(self.kind, b't' | b'T' | b'w' | b'W')
    }

    /// Whether it is global (an upper-case type letter).
    pub fn is_global(&self) -> bool {
        self.kind.is_ascii_uppercase()
    }

    /// The name without the suffixes the compiler adds to copies it makes
    /// (`.isra.0`, `.constprop.0`, `.part.0`, `.cold`, `.llvm.123`...): see
    /// [`base_name`].
    pub fn base_name(&self) -> &str {
        base_name(&self.name)
    }
}

/// Where an address falls: a symbol, the offset into it and its size.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Location<'a> {
    /// The symbol the address is in.
    pub symbol: &'a Symbol,
    /// Bytes from the symbol's start.
    pub offset: u64,
    /// Bytes to the next symbol of the same owner; `None` for an owner's
    /// last symbol (the table does not say where it ends).
    pub size: Option<u64>,
}

impl std::fmt::Display for Location<'_> {
    /// As the kernel's `%pS`: `name+0xOFF/0xSIZE [module]` (`/0xSIZE` left
    /// out when the size is unknown).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}+{:#x}", self.symbol.name, self.offset)?;
        if let Some(size) = self.size {
            write!(f, "/{size:#x}")?;
        }
        if let Some(m) = &self.symbol.module {
            write!(f, " [{m}]")?;
        }
        Ok(())
    }
}

/// A parsed symbol table, indexed by address.
#[derive(Clone, Debug, Default)]
pub struct SymbolTable {
    symbols: Vec<Symbol>,
    /// Indices into `symbols` of the non-absolute ones, by (address, table
    /// order).
    by_address: Vec<u32>,
    hidden: bool,
}

/// The path of the running kernel's table.
pub const PROC_KALLSYMS: &str = "/proc/kallsyms";

impl SymbolTable {
    /// Reads and parses a table from a file (`/proc/kallsyms` or a `System.map`).
    pub fn read(path: impl AsRef<Path>) -> Result<SymbolTable> {
        let path = path.as_ref();
        let data = std::fs::read(path).map_err(|e| Error::io(e, path.display()))?;
        SymbolTable::parse(&data).map_err(|e| Error::invalid(format!("{}: {e}", path.display())))
    }

    /// Reads the running kernel's table, `/proc/kallsyms`.
    pub fn running() -> Result<SymbolTable> {
        SymbolTable::read(PROC_KALLSYMS)
    }

    /// Parses a table. Empty lines are skipped; anything else that is not
    /// `ADDRESS TYPE NAME [\t[MODULE]]` is an error naming the line.
    pub fn parse(data: &[u8]) -> std::result::Result<SymbolTable, ParseError> {
        let mut symbols = Vec::with_capacity(data.len() / 40);
        for (n, line) in data.split(|&b| b == b'\n').enumerate() {
            if line.is_empty() {
                continue;
            }
            let sym = parse_line(line).ok_or(ParseError { line: n + 1 })?;
            symbols.push(sym);
        }
        if symbols.len() > u32::MAX as usize {
            return Err(ParseError {
                line: symbols.len(),
            });
        }
        Ok(SymbolTable::from_symbols(symbols))
    }

    /// Builds a table from symbols in table order.
    pub fn from_symbols(symbols: Vec<Symbol>) -> SymbolTable {
        let hidden = !symbols.is_empty() && symbols.iter().all(|s| s.address == 0);
        let mut by_address: Vec<u32> = (0..symbols.len() as u32)
            .filter(|&i| !matches!(symbols[i as usize].kind, b'a' | b'A'))
            .collect();
        // Stable: symbols at one address keep table order.
        by_address.sort_by_key(|&i| symbols[i as usize].address);
        SymbolTable {
            symbols,
            by_address,
            hidden,
        }
    }

    /// Every symbol, in table order.
    pub fn symbols(&self) -> &[Symbol] {
        &self.symbols
    }

    /// Whether every address reads as zero: `kptr_restrict`, or a reader
    /// without `CAP_SYSLOG`, made the kernel hide them.
    pub fn addresses_hidden(&self) -> bool {
        self.hidden
    }

    /// The symbols with exactly this name (several for a name that is local
    /// to several files, or exported and also local to a module).
    pub fn named<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Symbol> + 'a {
        self.symbols.iter().filter(move |s| s.name == name)
    }

    /// The compiler-made copies of a function: symbols whose [`base_name`]
    /// is `name` but whose name is not (`name.isra.0`, `name.constprop.0`...).
    pub fn renamed_copies<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Symbol> + 'a {
        self.symbols
            .iter()
            .filter(move |s| s.name != name && s.base_name() == name)
    }

    /// The symbol an address is in, as the kernel's `%pS` would name it;
    /// `None` below the first symbol or when addresses are hidden.
    pub fn lookup(&self, address: u64) -> Option<Location<'_>> {
        if self.hidden {
            return None;
        }
        let sym = |i: u32| &self.symbols[i as usize];
        // The last symbol at or below the address...
        let after = self
            .by_address
            .partition_point(|&i| sym(i).address <= address);
        if after == 0 {
            return None;
        }
        let mut pos = after - 1;
        let start = sym(self.by_address[pos]).address;
        // ...the first of those at its address...
        while pos > 0 && sym(self.by_address[pos - 1]).address == start {
            pos -= 1;
        }
        let symbol = sym(self.by_address[pos]);
        // ...and the size up to the next higher address of the same owner
        // (for a module's last function, the end of its text).
        let mut next_text = false;
        let next = self.by_address[after..]
            .iter()
            .map(|&i| sym(i))
            .find(|s| s.module == symbol.module)
            .inspect(|s| next_text = s.is_text())
            .map(|s| s.address);
        let size = module_text_end(symbol, address, next, next_text).map(|end| end - start);
        Some(Location {
            symbol,
            offset: address - start,
            size,
        })
    }

    /// The loaded modules the table names, in table order, each once.
    pub fn modules(&self) -> Vec<&str> {
        let mut seen: Vec<&str> = Vec::new();
        for m in self.symbols.iter().filter_map(|s| s.module.as_deref()) {
            if seen.last() != Some(&m) && !seen.contains(&m) {
                seen.push(m);
            }
        }
        seen
    }
}

/// The name field of a table line (`ADDRESS TYPE NAME[\t[MODULE]]`),
/// found without parsing the rest; `None` for a line of another shape
/// (which the full parse then reports).
fn name_field(line: &[u8]) -> Option<&[u8]> {
    let sp = memchr::memchr(b' ', line)?;
    let rest = line.get(sp + 1..)?;
    let rest = match rest {
        [_, b' ', tail @ ..] => tail,
        _ => return None,
    };
    let end = memchr::memchr3(b'\t', b' ', b'\r', rest).unwrap_or(rest.len());
    Some(&rest[..end])
}

/// Where the symbol an address falls in ends, as the kernel sizes it: at
/// the next symbol of the same owner; but a module's functions live in
/// their own page-aligned text area, and the kernel ends the module's last
/// function at the end of that area, not at the module's next symbol (its
/// read-only data, pages above). The area's end is not in the table: it is
/// taken as the page boundary after the address asked, when no function
/// of the module follows.
fn module_text_end(
    symbol: &Symbol,
    address: u64,
    next: Option<u64>,
    next_is_text: bool,
) -> Option<u64> {
    const PAGE: u64 = 4096;
    if symbol.module.is_none() || !symbol.is_text() || (next.is_some() && next_is_text) {
        return next;
    }
    let page_end = (address.max(symbol.address) / PAGE + 1).checked_mul(PAGE)?;
    Some(next.map_or(page_end, |n| n.min(page_end)))
}

/// The lines of a text, by `memchr`.
fn lines_of(data: &[u8]) -> impl Iterator<Item = &[u8]> {
    let mut start = 0;
    std::iter::from_fn(move || {
        if start > data.len() {
            return None;
        }
        let end = memchr::memchr(b'\n', &data[start..]).map_or(data.len(), |i| start + i);
        let line = &data[start..end];
        start = end + 1;
        Some(line)
    })
}

/// The symbols whose name `wanted` accepts, read straight from a table's
/// text without building a [`SymbolTable`] (one pass, no allocation for
/// the other lines: what `modkit kallsyms NAME` needs). Lines are parsed in
/// full only when their name is wanted, so a malformed line elsewhere goes
/// unnoticed; a wanted one that is malformed is an error naming it.
pub fn scan_named(
    data: &[u8],
    mut wanted: impl FnMut(&[u8]) -> bool,
) -> std::result::Result<Vec<Symbol>, ParseError> {
    let mut out = Vec::new();
    for (n, line) in lines_of(data).enumerate() {
        let Some(name) = name_field(line) else {
            continue;
        };
        if wanted(name) {
            out.push(parse_line(line).ok_or(ParseError { line: n + 1 })?);
        }
    }
    Ok(out)
}

/// The symbols named exactly `name`, as [`scan_named`] finds them but
/// faster: only the lines where the name occurs as a substring are looked
/// at (`memmem`).
pub fn scan_exact(data: &[u8], name: &str) -> std::result::Result<Vec<Symbol>, ParseError> {
    let mut out = Vec::new();
    if name.is_empty() {
        return Ok(out);
    }
    let finder = memchr::memmem::Finder::new(name.as_bytes());
    let mut last_line_start = usize::MAX;
    for at in finder.find_iter(data) {
        let start = memchr::memrchr(b'\n', &data[..at]).map_or(0, |i| i + 1);
        if start == last_line_start {
            continue;
        }
        let end = memchr::memchr(b'\n', &data[at..]).map_or(data.len(), |i| at + i);
        let line = &data[start..end];
        if name_field(line) == Some(name.as_bytes()) {
            last_line_start = start;
            let n = memchr::memchr_iter(b'\n', &data[..start]).count();
            out.push(parse_line(line).ok_or(ParseError { line: n + 1 })?);
        }
    }
    Ok(out)
}

/// A name operand of a streaming scan ([`scan_names`]): an exact name, or
/// a glob (`fnmatch`, no flags) when it holds `*`, `?` or `[`.
#[derive(Clone, Debug)]
pub struct NamePattern {
    text: String,
    glob: bool,
    /// A run of the pattern that every matching name contains: the whole
    /// name, or a glob's longest literal run (`None`: a glob without one).
    needle: Option<memchr::memmem::Finder<'static>>,
}

impl NamePattern {
    /// A pattern from an operand.
    pub fn new(text: &str) -> NamePattern {
        let glob = text.contains(['*', '?', '[']);
        let needle = if glob {
            longest_literal_run(text.as_bytes())
        } else {
            Some(text.as_bytes())
        };
        NamePattern {
            text: text.to_string(),
            glob,
            needle: needle
                .filter(|n| !n.is_empty())
                .map(|n| memchr::memmem::Finder::new(n).into_owned()),
        }
    }

    /// The operand as given.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// Whether a symbol name matches.
    pub fn matches(&self, name: &[u8]) -> bool {
        if self.glob {
            crate::compat::fnmatch::fnmatch(self.text.as_bytes(), name)
        } else {
            name == self.text.as_bytes()
        }
    }
}

/// The longest run of a glob that matches only itself: outside brackets,
/// between metacharacters (a backslash ends a run too, to stay simple).
fn longest_literal_run(glob: &[u8]) -> Option<&[u8]> {
    let mut best: &[u8] = &[];
    let mut start = 0;
    let mut i = 0;
    while i < glob.len() {
        match glob[i] {
            b'*' | b'?' | b'\\' | b'[' => {
                if i - start > best.len() {
                    best = &glob[start..i];
                }
                if glob[i] == b'[' {
                    // Skip the bracket expression (`]` first is a member).
                    let mut j = i + 1;
                    if glob.get(j) == Some(&b'!') || glob.get(j) == Some(&b'^') {
                        j += 1;
                    }
                    if glob.get(j) == Some(&b']') {
                        j += 1;
                    }
                    match memchr::memchr(b']', &glob[j.min(glob.len())..]) {
                        Some(k) => i = j + k,
                        // An unclosed `[` is a literal to fnmatch; no run
                        // is certain past it.
                        None => return Some(best),
                    }
                } else if glob[i] == b'\\' {
                    i += 1;
                }
                start = i + 1;
            }
            _ => {}
        }
        i += 1;
    }
    if glob.len().saturating_sub(start) > best.len() {
        best = &glob[start.min(glob.len())..];
    }
    Some(best)
}

/// What [`scan_names`] found.
#[derive(Debug, Default)]
pub struct NameScan {
    /// For each pattern, in its order, the matching symbols in table order.
    pub found: Vec<Vec<Symbol>>,
    /// Whether the table hides its addresses (as [`text_hides_addresses`]).
    pub hides_addresses: bool,
}

/// Why a streaming scan stopped.
#[derive(Debug)]
pub enum ScanError {
    /// Reading the table failed.
    Io(std::io::Error),
    /// A wanted line is malformed.
    Parse(ParseError),
}

/// The symbols matching each pattern, read from `reader` in one pass and in
/// chunks of whole lines: the table is never held whole, which is what makes
/// `modkit kallsyms NAME` as quick as `grep` on `/proc/kallsyms`. Only the
/// lines holding a pattern's literal part are looked at; as in
/// [`scan_named`], a malformed line is an error only when it is wanted.
pub fn scan_names(
    reader: impl std::io::Read,
    patterns: &[NamePattern],
) -> std::result::Result<NameScan, ScanError> {
    scan_names_in_chunks(reader, patterns, 256 * 1024)
}

fn scan_names_in_chunks(
    reader: impl std::io::Read,
    patterns: &[NamePattern],
    chunk_size: usize,
) -> std::result::Result<NameScan, ScanError> {
    let mut found: Vec<Vec<Symbol>> = vec![Vec::new(); patterns.len()];
    let mut any_line = false;
    let mut nonzero_seen = false;
    let mut err = None;
    for_each_chunk(reader, chunk_size, |chunk, first_line| {
        if !nonzero_seen {
            for line in lines_of(chunk).filter(|l| !l.is_empty()) {
                any_line = true;
                if line.iter().take_while(|&&b| b != b' ').any(|&b| b != b'0') {
                    nonzero_seen = true;
                    break;
                }
            }
        }
        for (pattern, out) in patterns.iter().zip(found.iter_mut()) {
            if let Err(e) = scan_chunk(chunk, first_line, pattern, out) {
                err = Some(e);
                return false;
            }
        }
        true
    })
    .map_err(ScanError::Io)?;
    if let Some(e) = err {
        return Err(ScanError::Parse(e));
    }
    Ok(NameScan {
        found,
        hides_addresses: any_line && !nonzero_seen,
    })
}

/// One pattern over a chunk of whole lines whose first line has number
/// `first_line` (from 1).
fn scan_chunk(
    chunk: &[u8],
    first_line: usize,
    pattern: &NamePattern,
    out: &mut Vec<Symbol>,
) -> std::result::Result<(), ParseError> {
    let line_number = |start: usize| first_line + count_newlines(&chunk[..start]);
    let mut take = |line: &[u8], start: usize| -> std::result::Result<(), ParseError> {
        if name_field(line).is_some_and(|name| pattern.matches(name)) {
            out.push(parse_line(line).ok_or_else(|| ParseError {
                line: line_number(start),
            })?);
        }
        Ok(())
    };
    let Some(needle) = &pattern.needle else {
        let mut start = 0;
        for line in lines_of(chunk) {
            take(line, start)?;
            start += line.len() + 1;
        }
        return Ok(());
    };
    let mut next_unseen = 0;
    for at in needle.find_iter(chunk) {
        if at < next_unseen {
            continue; // another hit in a line already looked at
        }
        let start = memchr::memrchr(b'\n', &chunk[..at]).map_or(0, |i| i + 1);
        let end = memchr::memchr(b'\n', &chunk[at..]).map_or(chunk.len(), |i| at + i);
        next_unseen = end + 1;
        take(&chunk[start..end], start)?;
    }
    Ok(())
}

/// Newlines in a text, 64 bytes at a time (a form the compiler turns into
/// vector compares; the per-byte count was a third of a scan's time).
fn count_newlines(text: &[u8]) -> usize {
    let blocks = text.chunks_exact(64);
    let tail = blocks.remainder();
    let in_blocks: usize = blocks
        .map(|b| b.iter().map(|&c| u8::from(c == b'\n')).sum::<u8>() as usize)
        .sum();
    in_blocks + tail.iter().filter(|&&c| c == b'\n').count()
}

/// Reads `reader` to its end in chunks of whole lines (the last one may
/// lack its newline), handing each to `f` with the number of its first line;
/// `f` returns `false` to stop. One buffer, reused, of `chunk_size` bytes,
/// grown only for a longer line.
fn for_each_chunk(
    mut reader: impl std::io::Read,
    chunk_size: usize,
    mut f: impl FnMut(&[u8], usize) -> bool,
) -> std::io::Result<()> {
    let mut buf = vec![0u8; chunk_size.max(1)];
    let mut filled = 0;
    let mut line = 1;
    loop {
        if filled == buf.len() {
            buf.resize(buf.len() * 2, 0);
        }
        let n = match reader.read(&mut buf[filled..]) {
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if n == 0 {
            if filled > 0 {
                f(&buf[..filled], line);
            }
            return Ok(());
        }
        filled += n;
        let Some(last) = memchr::memrchr(b'\n', &buf[filled - n..filled]) else {
            continue;
        };
        let whole = filled - n + last + 1;
        if !f(&buf[..whole - 1], line) {
            return Ok(());
        }
        line += count_newlines(&buf[..whole]);
        buf.copy_within(whole..filled, 0);
        filled -= whole;
    }
}

/// Whether a table's text hides its addresses: every line's address is
/// zero (the kernel zeroes all of them or none; a visible table may still
/// start with absolute symbols at 0, such as `fixed_percpu_data`). Stops
/// at the first non-zero address.
pub fn text_hides_addresses(data: &[u8]) -> bool {
    let mut any = false;
    for line in lines_of(data).filter(|l| !l.is_empty()) {
        any = true;
        let addr = line.split(|&b| b == b' ').next().unwrap_or(&[]);
        if addr.iter().any(|&b| b != b'0') {
            return false;
        }
    }
    any
}

/// [`SymbolTable::lookup`] straight from a table's text, in two passes
/// without building the table: the symbol (owned), the offset and the
/// size, with the same rules. Errors name the first malformed line.
pub fn scan_lookup(
    data: &[u8],
    address: u64,
) -> std::result::Result<Option<(Symbol, u64, Option<u64>)>, ParseError> {
    // (address, type, module) of a line, the only fields the passes need.
    fn head(line: &[u8]) -> Option<(u64, u8, Option<&[u8]>)> {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        let sp = line.iter().position(|&b| b == b' ')?;
        let hex = &line[..sp];
        if hex.is_empty() || hex.len() > 16 {
            return None;
        }
        let mut addr = 0u64;
        for &c in hex {
            let d = (c as char).to_digit(16)?;
            addr = addr << 4 | u64::from(d);
        }
        let kind = *line.get(sp + 1)?;
        let module = line
            .iter()
            .rposition(|&b| b == b'\t')
            .map(|t| &line[t + 1..])
            .filter(|m| m.first() == Some(&b'['));
        Some((addr, kind, module))
    }
    let lines = || lines_of(data).enumerate().filter(|(_, l)| !l.is_empty());
    if text_hides_addresses(data) {
        return Ok(None);
    }
    let mut best: Option<(u64, usize)> = None;
    for (n, line) in lines() {
        let (addr, kind, _) = head(line).ok_or(ParseError { line: n + 1 })?;
        if matches!(kind, b'a' | b'A') || addr > address {
            continue;
        }
        // The highest address; the first line at it.
        if best.is_none_or(|(b, _)| addr > b) {
            best = Some((addr, n));
        }
    }
    let Some((start, at)) = best else {
        return Ok(None);
    };
    let line = lines_of(data).nth(at).unwrap_or(&[]);
    let symbol = parse_line(line).ok_or(ParseError { line: at + 1 })?;
    let owner = symbol.module.as_deref().map(str::as_bytes);
    let mut next: Option<(u64, bool)> = None;
    for (n, line) in lines() {
        let (addr, kind, module) = head(line).ok_or(ParseError { line: n + 1 })?;
        let module = module.map(|m| {
            m.strip_prefix(b"[")
                .unwrap_or(m)
                .strip_suffix(b"]")
                .unwrap_or(m)
        });
        if matches!(kind, b'a' | b'A') || addr <= start || module != owner {
            continue;
        }
        if next.is_none_or(|(x, _)| addr < x) {
            next = Some((addr, matches!(kind, b't' | b'T' | b'w' | b'W')));
        }
    }
    let next_text = next.is_some_and(|(_, text)| text);
    let end = module_text_end(&symbol, address, next.map(|(x, _)| x), next_text);
    Ok(Some((symbol, address - start, end.map(|x| x - start))))
}

/// A line of a symbol table that is not `ADDRESS TYPE NAME [\t[MODULE]]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ParseError {
    /// Its number, from 1.
    pub line: usize,
}

impl std::fmt::Display for ParseError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "line {}: not a symbol table line (ADDRESS TYPE NAME [[MODULE]])",
            self.line
        )
    }
}

impl std::error::Error for ParseError {}

impl std::fmt::Display for ScanError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ScanError::Io(e) => e.fmt(f),
            ScanError::Parse(e) => e.fmt(f),
        }
    }
}

impl std::error::Error for ScanError {}

fn parse_line(line: &[u8]) -> Option<Symbol> {
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    let mut fields = line
        .split(|&b| b == b' ' || b == b'\t')
        .filter(|f| !f.is_empty());
    let address = fields.next()?;
    if address.is_empty() || address.len() > 16 {
        return None;
    }
    let address = u64::from_str_radix(std::str::from_utf8(address).ok()?, 16).ok()?;
    let kind = match fields.next()? {
        [k] if k.is_ascii_alphabetic() || *k == b'?' => *k,
        _ => return None,
    };
    let name = String::from_utf8(fields.next()?.to_vec()).ok()?;
    let module = match fields.next() {
        None => None,
        Some(m) => {
            let inner = m.strip_prefix(b"[")?.strip_suffix(b"]")?;
            if inner.is_empty() {
                return None;
            }
            Some(String::from_utf8(inner.to_vec()).ok()?)
        }
    };
    if fields.next().is_some() {
        return None;
    }
    Some(Symbol {
        address,
        kind,
        name,
        module,
    })
}

/// A function's name without the suffixes the compiler gives the copies it
/// makes of it: `.isra.N`, `.constprop.N`, `.part.N`, `.cold`, `.cold.N`,
/// `.llvm.N`, `.lto_priv.N`, possibly several (`foo.constprop.0.isra.0`).
/// A name without such a suffix is returned whole.
pub fn base_name(name: &str) -> &str {
    const SUFFIXES: &[&str] = &["isra", "constprop", "part", "cold", "llvm", "lto_priv"];
    let mut end = name.len();
    // Walk the dot-separated components from the first suffix keyword on.
    let mut parts = name.split('.');
    let first = parts.next().unwrap_or("");
    let mut offset = first.len();
    let mut rest = parts.peekable();
    while let Some(part) = rest.next() {
        if SUFFIXES.contains(&part) {
            if end == name.len() {
                end = offset;
            }
            // An optional number follows the keyword.
            if rest
                .peek()
                .is_some_and(|n| n.bytes().all(|b| b.is_ascii_digit()))
            {
                offset += 1 + part.len();
                let n = rest.next().unwrap_or("");
                offset += 1 + n.len();
                continue;
            }
        } else if end != name.len() {
            // Something that is not a suffix after a suffix: not a copy.
            return name;
        }
        offset += 1 + part.len();
    }
    if end == 0 {
        name
    } else {
        &name[..end]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TABLE: &[u8] = b"\
ffffffff81000000 T _stext
ffffffff81000000 T _text
ffffffff81001000 T do_thing
ffffffff81001040 t do_thing.isra.0
ffffffff81001100 T other
0000000000000000 A fixed_percpu_data
ffffffffc0a00000 t helper\t[mk_chain_a]
ffffffffc0a00080 T mk_chain_a_value\t[mk_chain_a]
ffffffffc0b00000 t helper\t[mk_chain_b]
";

    #[test]
    fn parses_core_and_module_lines() {
        let t = SymbolTable::parse(TABLE).unwrap();
        assert_eq!(t.symbols().len(), 9);
        let s = &t.symbols()[6];
        assert_eq!(s.name, "helper");
        assert_eq!(s.kind, b't');
        assert_eq!(s.module.as_deref(), Some("mk_chain_a"));
        assert_eq!(t.modules(), vec!["mk_chain_a", "mk_chain_b"]);
        assert_eq!(t.named("helper").count(), 2);
        assert!(!t.addresses_hidden());
    }

    #[test]
    fn lookup_names_like_percent_ps() {
        let t = SymbolTable::parse(TABLE).unwrap();
        assert_eq!(
            t.lookup(0xffffffff81000004).unwrap().to_string(),
            "_stext+0x4/0x1000"
        );
        assert_eq!(
            t.lookup(0xffffffff81001010).unwrap().to_string(),
            "do_thing+0x10/0x40"
        );
        assert_eq!(
            t.lookup(0xffffffffc0a00010).unwrap().to_string(),
            "helper+0x10/0x80 [mk_chain_a]"
        );
        // A module's last function ends where the kernel ends it: at the end
        // of the module's page-aligned text (as %pS printed it on 6.1 and
        // 6.12 for mk_kptarget_call), even with another owner's symbols above.
        assert_eq!(
            t.lookup(0xffffffffc0a00084).unwrap().to_string(),
            "mk_chain_a_value+0x4/0xf80 [mk_chain_a]"
        );
        assert_eq!(
            t.lookup(0xffffffffc0a01084).unwrap().to_string(),
            "mk_chain_a_value+0x1004/0x1f80 [mk_chain_a]"
        );
        // The core's last symbol stops at the next core symbol only.
        assert_eq!(t.lookup(0xffffffff81001104).unwrap().size, None);
        assert!(t.lookup(0x1000).is_none());
    }

    #[test]
    fn hidden_addresses_are_said_and_never_looked_up() {
        let t =
            SymbolTable::parse(b"0000000000000000 T _text\n0000000000000000 t foo\t[m]\n").unwrap();
        assert!(t.addresses_hidden());
        assert!(t.lookup(0).is_none());
    }

    #[test]
    fn system_map_and_bad_lines() {
        let t =
            SymbolTable::parse(b"ffffffff81000000 T _text\r\n\nffffffff81000010 t x\n").unwrap();
        assert_eq!(t.symbols().len(), 2);
        for bad in [
            &b"ffffffff81000000 T\n"[..],
            b"zz T x\n",
            b"ffffffff81000000 TT x\n",
            b"ffffffff81000000 T x [m\n",
            b"ffffffff81000000 T x [m] extra\n",
            b"11ffffffff81000000 T x\n",
        ] {
            let e = SymbolTable::parse(bad).unwrap_err();
            assert_eq!(e.line, 1, "{:?}", String::from_utf8_lossy(bad));
        }
        assert_eq!(
            SymbolTable::parse(b"ffffffff81000000 T a\nbad\n")
                .unwrap_err()
                .line,
            2
        );
    }

    #[test]
    fn base_names_strip_compiler_suffixes() {
        for (name, base) in [
            ("foo", "foo"),
            ("foo.isra.0", "foo"),
            ("foo.constprop.0", "foo"),
            ("foo.constprop.0.isra.0", "foo"),
            ("foo.part.3", "foo"),
            ("foo.cold", "foo"),
            ("foo.cold.12", "foo"),
            ("foo.llvm.1234567", "foo"),
            ("foo.lto_priv.0", "foo"),
            ("__func__.1", "__func__.1"),
            ("foo.isra.0.bar", "foo.isra.0.bar"),
            (".isra.0", ".isra.0"),
            ("a.b", "a.b"),
        ] {
            assert_eq!(base_name(name), base, "{name}");
        }
        let t = SymbolTable::parse(TABLE).unwrap();
        let copies: Vec<_> = t.renamed_copies("do_thing").map(|s| &s.name).collect();
        assert_eq!(copies, ["do_thing.isra.0"]);
    }

    #[test]
    fn scans_agree_with_the_table() {
        let t = SymbolTable::parse(TABLE).unwrap();
        let named = scan_named(TABLE, |n| n == b"helper").unwrap();
        assert_eq!(named, t.named("helper").cloned().collect::<Vec<_>>());
        assert_eq!(scan_exact(TABLE, "helper").unwrap(), named);
        // A name inside another is not it.
        assert_eq!(scan_exact(TABLE, "do_thin").unwrap(), []);
        assert_eq!(scan_exact(TABLE, "do_thing").unwrap().len(), 1);
        assert_eq!(scan_exact(TABLE, "mk_chain_a").unwrap(), []);
        for addr in [
            0xffffffff81000004u64,
            0xffffffff81001010,
            0xffffffffc0a00010,
            0xffffffffc0a00084,
            0xffffffff81001104,
            0x1000,
        ] {
            let want = t.lookup(addr).map(|l| (l.symbol.clone(), l.offset, l.size));
            assert_eq!(scan_lookup(TABLE, addr).unwrap(), want, "{addr:#x}");
        }
        assert!(!text_hides_addresses(TABLE));
        // A visible table that starts with absolute symbols at 0 (as 6.x's do).
        assert!(!text_hides_addresses(
            b"0000000000000000 A fixed_percpu_data\nffffffff81000000 T _text\n"
        ));
        let hidden = b"0000000000000000 T _text\n0000000000000000 t foo\t[m]\n";
        assert!(text_hides_addresses(hidden));
        assert_eq!(scan_lookup(hidden, 5).unwrap(), None);
        assert_eq!(
            scan_lookup(b"ffffffff81000000 T a\nbad\n", 1)
                .unwrap_err()
                .line,
            2
        );
    }

    #[test]
    fn streaming_scans_agree_with_the_in_memory_ones_at_every_chunk_size() {
        let patterns: Vec<NamePattern> = [
            "helper",
            "do_thing",
            "do_thin",
            "*_chain_*",
            "do_thing.*",
            "*",
            "[dh]*",
            "_t?xt",
        ]
        .iter()
        .map(|p| NamePattern::new(p))
        .collect();
        let mut with_bad_line = TABLE.to_vec();
        with_bad_line.extend_from_slice(b"zzzz T fields\nffffffff81002000 T tail");
        for size in [1, 2, 7, 40, 4096] {
            let scan = scan_names_in_chunks(TABLE, &patterns, size).unwrap();
            for (p, got) in patterns.iter().zip(&scan.found) {
                let want = scan_named(TABLE, |n| p.matches(n)).unwrap();
                assert_eq!(got, &want, "{} at {size}", p.text());
            }
            assert!(!scan.hides_addresses);
            // A malformed line is an error only when wanted, with its number.
            let tail = [NamePattern::new("tail")];
            let scan = scan_names_in_chunks(&with_bad_line[..], &tail, size).unwrap();
            assert_eq!(scan.found[0][0].address, 0xffffffff81002000);
            let fields = [NamePattern::new("fields")];
            match scan_names_in_chunks(&with_bad_line[..], &fields, size) {
                Err(ScanError::Parse(e)) => {
                    assert_eq!(e.line, TABLE.split(|&b| b == b'\n').count())
                }
                other => panic!("{other:?}"),
            }
        }
        let hidden = b"0000000000000000 T _text\n0000000000000000 t foo\t[m]\n";
        assert!(scan_names(&hidden[..], &[]).unwrap().hides_addresses);
        assert!(!scan_names(&b""[..], &[]).unwrap().hides_addresses);
    }

    #[test]
    fn literal_runs_of_globs() {
        assert_eq!(longest_literal_run(b"vfs_*"), Some(&b"vfs_"[..]));
        assert_eq!(
            longest_literal_run(b"*_read_iter"),
            Some(&b"_read_iter"[..])
        );
        assert_eq!(longest_literal_run(b"a[bc]defg*h"), Some(&b"defg"[..]));
        assert_eq!(longest_literal_run(b"x[]y]zz"), Some(&b"zz"[..]));
        assert_eq!(longest_literal_run(b"ab\\*cd"), Some(&b"ab"[..]));
        assert_eq!(longest_literal_run(b"*"), Some(&b""[..]));
        assert_eq!(longest_literal_run(b"ab[cd"), Some(&b"ab"[..]));
    }

    #[test]
    fn reads_this_machines_table_when_there_is_one() {
        // /proc/kallsyms exists on every Linux; whatever it holds must parse.
        if let Ok(data) = std::fs::read(PROC_KALLSYMS) {
            let t = SymbolTable::parse(&data).unwrap();
            assert!(!t.symbols().is_empty());
        }
    }
}
