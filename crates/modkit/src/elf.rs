//! The kernel-module ELF reader.
//!
//! [`Elf`] reads a relocatable kernel module (`.ko`) held in memory with the
//! semantics of libkmod 34.2's ELF reader: the same validation (and errno)
//! when opening, the same way of finding sections, and the same rules for
//! `.modinfo`, `__versions`, exported and needed symbols, including kmod's
//! fallbacks and its quirks on odd input. Every offset and size read from
//! the file is bounds-checked: hostile input gives an error or an empty or
//! partial result, never a panic, an out-of-bounds read or an endless loop.
//!
//! Errors opening ([`Elf::parse`]):
//!
//! - `ENOEXEC` ("Exec format error"): 16 bytes or fewer, or no `\x7fELF` magic;
//! - `EINVAL` ("Invalid argument"): ELF class not 32/64-bit, data encoding
//!   not little/big-endian, file not longer than the ELF header,
//!   `e_shentsize` not the section header size, section header table past
//!   the end of the file, `e_shstrndx` invalid (0 or not below `e_shnum`),
//!   section-name table past the end of the file, empty, not ending with a
//!   NUL, or whose own name is outside it.
//!
//! Nothing else is checked when opening (not `e_type`, `e_machine`, nor
//! `e_version`), exactly like kmod. Sections whose header is unusable (data
//! past the end of the file, name outside the section-name table) are simply
//! ignored when looking sections up: a module whose `.modinfo` has a bogus
//! offset behaves as if it had no `.modinfo` (`ENODATA`).

use crate::error::{Error, Result};

/// Size of the ELF identification bytes (`EI_NIDENT`).
const EI_NIDENT: usize = 16;
/// Index of the class byte in `e_ident`.
const EI_CLASS: usize = 4;
/// Index of the data-encoding byte in `e_ident`.
const EI_DATA: usize = 5;
const ELFCLASS32: u8 = 1;
const ELFCLASS64: u8 = 2;
const ELFDATA2LSB: u8 = 1;
const ELFDATA2MSB: u8 = 2;
const SHN_UNDEF: u16 = 0;
const SHN_ABS: u16 = 0xFFF1;
/// Section flag: the section is loaded into memory (the kernel only looks
/// at such sections).
const SHF_ALLOC: u64 = 0x2;
/// The `.modinfo` key whose string `insmod -f` blanks out.
const VERMAGIC_KEY: &[u8] = b"vermagic=";
const STB_WEAK: u8 = 2;
/// sparc's "global register" symbol type, not really undefined.
const STT_REGISTER: u8 = 13;
const EM_SPARC: u16 = 2;
const EM_SPARCV9: u16 = 43;
/// Size of one `__versions` entry (CRC plus NUL-padded name), 32 or 64-bit.
const MODVERSION_SIZE: usize = 64;
/// Prefix of the `.symtab` symbols carrying exported symbols' CRCs.
const CRC_PREFIX: &[u8] = b"__crc_";

/// The sections kmod looks up once when opening a module.
#[derive(Clone, Copy)]
enum Cached {
    KsymtabStrings = 0,
    Modinfo = 1,
    Strtab = 2,
    Symtab = 3,
    Versions = 4,
}

const CACHED_NAMES: [&[u8]; 5] = [
    b"__ksymtab_strings",
    b".modinfo",
    b".strtab",
    b".symtab",
    b"__versions",
];

/// A section's location in the file, already checked to lie within it.
#[derive(Clone, Copy, Debug, Default)]
struct Span {
    off: usize,
    size: usize,
}

/// Layout of the structures that differ between 32 and 64-bit files:
/// (offset, size) of each field used.
struct Layout {
    ehdr_size: usize,
    e_shoff: (usize, usize),
    e_shentsize: usize,
    e_shnum: usize,
    e_shstrndx: usize,
    shdr_size: usize,
    sh_name: usize,
    sh_flags: (usize, usize),
    sh_offset: (usize, usize),
    sh_size: (usize, usize),
    sym_size: usize,
    st_name: usize,
    st_info: usize,
    st_shndx: usize,
    st_value: (usize, usize),
    /// Size of the CRC in a `__versions` entry (the name takes the rest).
    modversion_crc: usize,
    /// Offset of `name` in `struct module` (`.gnu.linkonce.this_module`).
    module_name_offset: usize,
}

const LAYOUT32: Layout = Layout {
    ehdr_size: 52,
    e_shoff: (32, 4),
    e_shentsize: 46,
    e_shnum: 48,
    e_shstrndx: 50,
    shdr_size: 40,
    sh_name: 0,
    sh_flags: (8, 4),
    sh_offset: (16, 4),
    sh_size: (20, 4),
    sym_size: 16,
    st_name: 0,
    st_info: 12,
    st_shndx: 14,
    st_value: (4, 4),
    modversion_crc: 4,
    module_name_offset: 12,
};

const LAYOUT64: Layout = Layout {
    ehdr_size: 64,
    e_shoff: (40, 8),
    e_shentsize: 58,
    e_shnum: 60,
    e_shstrndx: 62,
    shdr_size: 64,
    sh_name: 0,
    sh_flags: (8, 8),
    sh_offset: (24, 8),
    sh_size: (32, 8),
    sym_size: 24,
    st_name: 0,
    st_info: 4,
    st_shndx: 6,
    st_value: (8, 8),
    modversion_crc: 8,
    module_name_offset: 24,
};

/// E_machine offset, the same in both classes.
const E_MACHINE: usize = 18;

/// One `__versions` entry: a symbol this module was built against and the
/// CRC of its prototype.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModVersion {
    /// The CRC (32 bits in 32-bit modules, 64 in 64-bit ones).
    pub crc: u64,
    /// The symbol name, with one leading `.` removed as kmod does (ppc64).
    /// Converted lossily if not UTF-8.
    pub symbol: String,
}

/// A symbol exported by the module.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Symbol {
    /// The symbol's CRC, 0 when the module has no CRCs, `u64::MAX` when the
    /// CRC's location is bogus (as kmod reports it: `(uint64_t)-1`).
    pub crc: u64,
    /// The symbol name (converted lossily if not UTF-8).
    pub name: String,
}

/// How a symbol is bound, as libkmod reports it (`enum kmod_symbol_bind`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SymbolBind {
    /// No or unknown binding (`'\0'`).
    None,
    /// `STB_LOCAL` (`'L'`).
    Local,
    /// `STB_GLOBAL` (`'G'`).
    Global,
    /// `STB_WEAK` (`'W'`).
    Weak,
    /// An undefined (needed) symbol (`'U'`).
    Undef,
}

impl SymbolBind {
    /// The character libkmod uses for this binding (`b'\0'` for `None`).
    pub fn as_char(self) -> u8 {
        match self {
            SymbolBind::None => 0,
            SymbolBind::Local => b'L',
            SymbolBind::Global => b'G',
            SymbolBind::Weak => b'W',
            SymbolBind::Undef => b'U',
        }
    }
}

/// A symbol the module needs from the kernel or other modules.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DependencySymbol {
    /// The CRC from `__versions`, 0 when not listed there.
    pub crc: u64,
    /// [`SymbolBind::Weak`] for weak references, else [`SymbolBind::Undef`].
    pub bind: SymbolBind,
    /// The symbol name (converted lossily if not UTF-8).
    pub name: String,
}

/// A symbol a module exports, with what the kernel checks when another
/// module uses it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModuleExport {
    /// The symbol name.
    pub name: String,
    /// Its CRC (`__kcrctab`), `None` in a module built without modversions.
    pub crc: Option<u64>,
    /// Exported with `EXPORT_SYMBOL_GPL` (only GPL-compatible modules may use it).
    pub gpl_only: bool,
    /// Its namespace (`EXPORT_SYMBOL_NS`), empty when none.
    pub namespace: String,
}

/// A kernel module's ELF image in memory; see the [module docs](self).
#[derive(Clone)]
pub struct Elf<'a> {
    data: &'a [u8],
    class32: bool,
    big_endian: bool,
    machine: u16,
    shoff: usize,
    shnum: u16,
    shstr: Span,
    cached: [Option<Span>; 5],
}

impl std::fmt::Debug for Elf<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Elf")
            .field("size", &self.data.len())
            .field("class32", &self.class32)
            .field("big_endian", &self.big_endian)
            .field("machine", &self.machine)
            .field("shnum", &self.shnum)
            .finish()
    }
}

/// Reads an unsigned integer of `size` bytes (at most 8) at `off`; 0 if it
/// does not fit in `data` (callers only read ranges they checked).
fn read_uint(data: &[u8], off: usize, size: usize, big_endian: bool) -> u64 {
    let Some(bytes) = off.checked_add(size).and_then(|end| data.get(off..end)) else {
        return 0;
    };
    let fold = |acc: u64, b: &u8| (acc << 8) | u64::from(*b);
    if big_endian {
        bytes.iter().fold(0, fold)
    } else {
        bytes.iter().rev().fold(0, fold)
    }
}

/// The NUL-terminated string at `off`, ending at the first NUL or at the end
/// of `data` (where kmod would read on into memory that, for a mapped file,
/// reads as zeros).
fn cstr_at(data: &[u8], off: usize) -> &[u8] {
    let rest = data.get(off..).unwrap_or(&[]);
    match rest.iter().position(|&b| b == 0) {
        Some(n) => &rest[..n],
        None => rest,
    }
}

/// `strnlen(s, max) == max`, i.e. no NUL in the first `max` bytes.
fn unterminated(s: &[u8], max: usize) -> bool {
    !s.iter().take(max).any(|&b| b == 0)
}

fn lossy(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

impl<'a> Elf<'a> {
    /// Parses and validates the ELF header, the section header table and the
    /// section-name table, as libkmod's `kmod_elf_new`.
    ///
    /// Errors: `ENOEXEC` if `data` is not ELF (16 bytes or fewer, or no
    /// magic), `EINVAL` for the inconsistencies listed in the
    /// [module docs](self). Sections' own contents are not validated here.
    pub fn parse(data: &'a [u8]) -> Result<Elf<'a>> {
        if data.len() <= EI_NIDENT || !data.starts_with(b"\x7fELF") {
            return Err(Error::not_module("not an ELF file"));
        }
        let class32 = match data[EI_CLASS] {
            ELFCLASS32 => true,
            ELFCLASS64 => false,
            c => return Err(Error::invalid(format!("unknown ELF class {c}"))),
        };
        let layout = if class32 { &LAYOUT32 } else { &LAYOUT64 };
        if data.len() <= layout.ehdr_size {
            return Err(Error::invalid("file too short for the ELF header"));
        }
        let big_endian = match data[EI_DATA] {
            ELFDATA2LSB => false,
            ELFDATA2MSB => true,
            d => return Err(Error::invalid(format!("unknown ELF data encoding {d}"))),
        };
        let rd = |off: usize, size: usize| read_uint(data, off, size, big_endian);
        let shoff = rd(layout.e_shoff.0, layout.e_shoff.1);
        let shnum = rd(layout.e_shnum, 2) as u16;
        let shentsize = rd(layout.e_shentsize, 2) as usize;
        let shstrndx = rd(layout.e_shstrndx, 2) as u16;
        let machine = rd(E_MACHINE, 2) as u16;
        if shentsize != layout.shdr_size {
            return Err(Error::invalid(format!(
                "unexpected section header size {shentsize}, expected {}",
                layout.shdr_size
            )));
        }
        let table = range(data, shoff, (layout.shdr_size * usize::from(shnum)) as u64)
            .ok_or_else(|| Error::invalid("section header table out of bounds"))?;
        let mut elf = Elf {
            data,
            class32,
            big_endian,
            machine,
            shoff: table.off,
            shnum,
            shstr: Span::default(),
            cached: [None; 5],
        };
        let (shstr, name_off) = elf
            .raw_section(shstrndx)
            .ok_or_else(|| Error::invalid("invalid section-name table"))?;
        // The table's own name must lie within it (kmod checks every name
        // against the table size, this one included).
        if name_off >= shstr.size as u64 {
            return Err(Error::invalid("invalid section-name table"));
        }
        if shstr.size == 0 || data[shstr.off + shstr.size - 1] != 0 {
            return Err(Error::invalid("section-name table does not end with a NUL"));
        }
        elf.shstr = shstr;
        elf.cache_sections();
        Ok(elf)
    }

    fn layout(&self) -> &'static Layout {
        if self.class32 {
            &LAYOUT32
        } else {
            &LAYOUT64
        }
    }

    fn uint(&self, off: usize, size: usize) -> u64 {
        read_uint(self.data, off, size, self.big_endian)
    }

    /// Location and name offset of section `idx`, if its header index is
    /// valid and its data lies within the file.
    fn raw_section(&self, idx: u16) -> Option<(Span, u64)> {
        if idx == SHN_UNDEF || idx >= self.shnum {
            return None;
        }
        let l = self.layout();
        // Within the table, which was checked to lie within the file.
        let hdr = self.shoff + usize::from(idx) * l.shdr_size;
        let size = self.uint(hdr + l.sh_size.0, l.sh_size.1);
        let off = self.uint(hdr + l.sh_offset.0, l.sh_offset.1);
        let name_off = self.uint(hdr + l.sh_name, 4);
        Some((range(self.data, off, size)?, name_off))
    }

    /// Section `idx` and its name, if usable (kmod's `elf_get_section_info`).
    fn section_info(&self, idx: u16) -> Option<(Span, &'a [u8])> {
        let (span, name_off) = self.raw_section(idx)?;
        if name_off >= self.shstr.size as u64 {
            return None;
        }
        // The table ends with a NUL, so the name ends within it.
        let table = &self.data[self.shstr.off..self.shstr.off + self.shstr.size];
        Some((span, cstr_at(table, name_off as usize)))
    }

    /// Records the first usable section of each name kmod caches. As in
    /// kmod, a section at file offset 0 counts as absent.
    fn cache_sections(&mut self) {
        let mut found = [false; 5];
        for idx in 1..self.shnum {
            if found.iter().all(|&f| f) {
                break;
            }
            let Some((span, name)) = self.section_info(idx) else {
                continue;
            };
            if let Some(which) = CACHED_NAMES.iter().position(|n| *n == name) {
                if !found[which] {
                    found[which] = true;
                    // Found, but recorded as absent if at offset 0.
                    self.cached[which] = Some(span).filter(|s| s.off != 0);
                }
            }
        }
    }

    fn cached(&self, which: Cached) -> Option<Span> {
        self.cached[which as usize]
    }

    fn bytes(&self, span: Span) -> &'a [u8] {
        &self.data[span.off..span.off + span.size]
    }

    /// The whole image.
    pub fn data(&self) -> &'a [u8] {
        self.data
    }

    /// Whether this is a 32-bit (`ELFCLASS32`) file.
    pub fn is_32bit(&self) -> bool {
        self.class32
    }

    /// Whether this is a big-endian (`ELFDATA2MSB`) file.
    pub fn is_big_endian(&self) -> bool {
        self.big_endian
    }

    /// `e_machine`, the target architecture.
    pub fn machine(&self) -> u16 {
        self.machine
    }

    /// `e_shnum`, the number of section headers.
    pub fn section_count(&self) -> u16 {
        self.shnum
    }

    /// The contents of the first usable section called `name` (searching
    /// from index 1, skipping sections whose data lies outside the file or
    /// whose name is outside the name table), like `kmod_elf_get_section`;
    /// `None` if there is none.
    pub fn section(&self, name: &str) -> Option<&'a [u8]> {
        (1..self.shnum).find_map(|idx| {
            let (span, n) = self.section_info(idx)?;
            (n == name.as_bytes()).then(|| self.bytes(span))
        })
    }

    /// The `.modinfo` strings (`key=value`), as kmod splits them.
    ///
    /// Leading NUL padding is skipped; if one byte or less is left the
    /// result is empty (so a lone unterminated 1-byte string is dropped, as
    /// in kmod); otherwise the strings are the non-empty runs between NULs,
    /// the last one included even if the section does not end with a NUL.
    ///
    /// Errors: `ENODATA` if there is no usable `.modinfo` section.
    pub fn modinfo_strings(&self) -> Result<Vec<&'a [u8]>> {
        let span = self
            .cached(Cached::Modinfo)
            .ok_or_else(|| Error::no_data("no .modinfo section"))?;
        let mut strings = self.bytes(span);
        while strings.len() > 1 && strings[0] == 0 {
            strings = &strings[1..];
        }
        if strings.len() <= 1 {
            return Ok(Vec::new());
        }
        Ok(strings
            .split(|&b| b == 0)
            .filter(|s| !s.is_empty())
            .collect())
    }

    /// The `__versions` entries, in order.
    ///
    /// Errors: `ENODATA` if there is no usable `__versions` section (module
    /// built without `CONFIG_MODVERSIONS`), `EINVAL` if its size is not a
    /// multiple of 64 bytes or a name fills its whole slot without a NUL.
    /// An empty section gives an empty list.
    pub fn versions(&self) -> Result<Vec<ModVersion>> {
        let span = self
            .cached(Cached::Versions)
            .ok_or_else(|| Error::no_data("no __versions section"))?;
        if span.size % MODVERSION_SIZE != 0 {
            return Err(Error::invalid("__versions size is not a multiple of 64"));
        }
        let crclen = self.layout().modversion_crc;
        self.bytes(span)
            .chunks_exact(MODVERSION_SIZE)
            .map(|entry| {
                let name = &entry[crclen..];
                if unterminated(name, name.len()) {
                    return Err(Error::invalid("__versions symbol name too long"));
                }
                let mut name = cstr_at(name, 0);
                if let Some(rest) = name.strip_prefix(b".") {
                    name = rest;
                }
                Ok(ModVersion {
                    crc: read_uint(entry, 0, crclen, self.big_endian),
                    symbol: lossy(name),
                })
            })
            .collect()
    }

    /// `.strtab` and `.symtab` if both are present and `.symtab` is a whole
    /// number of symbols: (strtab, symtab, symbol size).
    fn symbol_tables(&self) -> Option<(Span, Span, usize)> {
        let strtab = self.cached(Cached::Strtab)?;
        let symtab = self.cached(Cached::Symtab)?;
        let symlen = self.layout().sym_size;
        (symtab.size % symlen == 0).then_some((strtab, symtab, symlen))
    }

    /// (st_name, st_info, st_shndx, st_value) of symbol `i`.
    fn sym(&self, symtab: Span, i: usize) -> (u64, u8, u16, u64) {
        let l = self.layout();
        let at = symtab.off + i * l.sym_size;
        (
            self.uint(at + l.st_name, 4),
            self.uint(at + l.st_info, 1) as u8,
            self.uint(at + l.st_shndx, 2) as u16,
            self.uint(at + l.st_value.0, l.st_value.1),
        )
    }

    /// The symbols the module exports, as `kmod_elf_get_symbols` finds them.
    ///
    /// Primary source: `.symtab` symbols named `__crc_<name>`, with the CRC
    /// read from the section the symbol points into (`__kcrctab`), or the
    /// symbol value itself for absolute/undefined symbols; a CRC location
    /// outside its section gives `u64::MAX`, as in kmod. If `.strtab` or
    /// `.symtab` is missing, `.symtab` is not a whole number of entries, a
    /// symbol name lies outside `.strtab`, or there is no `__crc_` symbol at
    /// all (module built without modversions), kmod falls back to the names
    /// in `__ksymtab_strings`, with CRC 0.
    ///
    /// Errors (fallback only): `ENODATA` without a usable
    /// `__ksymtab_strings` (module exporting nothing), `EINVAL` if that
    /// section does not end with a NUL.
    pub fn symbols(&self) -> Result<Vec<Symbol>> {
        match self.crc_symbols() {
            Some(list) => Ok(list),
            None => self.ksymtab_strings(),
        }
    }

    fn crc_symbols(&self) -> Option<Vec<Symbol>> {
        let (strtab, symtab, symlen) = self.symbol_tables()?;
        let count = symtab.size / symlen;
        let mut found = Vec::new();
        for i in 1..count {
            let (name_off, _, shndx, value) = self.sym(symtab, i);
            if name_off >= strtab.size as u64 {
                return None;
            }
            let name = cstr_at(self.data, strtab.off + name_off as usize);
            if let Some(name) = name.strip_prefix(CRC_PREFIX) {
                found.push(Symbol {
                    crc: self.resolve_crc(value, shndx),
                    name: lossy(name),
                });
            }
        }
        (!found.is_empty()).then_some(found)
    }

    /// The CRC a `__crc_` symbol designates (kmod's `kmod_elf_resolve_crc`).
    fn resolve_crc(&self, value: u64, shndx: u16) -> u64 {
        if shndx == SHN_ABS || shndx == SHN_UNDEF {
            return value;
        }
        let Some((span, _)) = self.section_info(shndx) else {
            return u64::MAX;
        };
        if span.size < 4 || value > (span.size - 4) as u64 {
            return u64::MAX;
        }
        self.uint(span.off + value as usize, 4)
    }

    fn ksymtab_strings(&self) -> Result<Vec<Symbol>> {
        let span = self
            .cached(Cached::KsymtabStrings)
            .ok_or_else(|| Error::no_data("no __ksymtab_strings section"))?;
        let mut strings = self.bytes(span);
        while strings.len() > 1 && strings[0] == 0 {
            strings = &strings[1..];
        }
        if strings.len() <= 1 {
            return Ok(Vec::new());
        }
        if strings.last() != Some(&0) {
            return Err(Error::invalid("__ksymtab_strings does not end with a NUL"));
        }
        Ok(strings
            .split(|&b| b == 0)
            .filter(|s| !s.is_empty())
            .map(|s| Symbol {
                crc: 0,
                name: lossy(s),
            })
            .collect())
    }

    /// The symbols the module needs, as `kmod_elf_get_dependency_symbols`.
    ///
    /// First the undefined (`SHN_UNDEF`), non-empty-named `.symtab` symbols
    /// in table order (on sparc, global-register symbols excepted), with the
    /// CRC of the first `__versions` entry of the same name (0 if none), then
    /// the `__versions` entries no symbol matched (such as `module_layout`),
    /// with their raw names. A `__versions` section whose size is not a
    /// multiple of 64 is ignored.
    ///
    /// Errors: `EINVAL` if `.strtab` or `.symtab` is missing, `.symtab` is
    /// not a whole number of entries, an undefined symbol's name lies
    /// outside `.strtab`, or an unmatched `__versions` name has no NUL.
    pub fn dependency_symbols(&self) -> Result<Vec<DependencySymbol>> {
        let strtab = self
            .cached(Cached::Strtab)
            .ok_or_else(|| Error::invalid("no .strtab section"))?;
        let symtab = self
            .cached(Cached::Symtab)
            .ok_or_else(|| Error::invalid("no .symtab section"))?;
        let symlen = self.layout().sym_size;
        if symtab.size % symlen != 0 {
            return Err(Error::invalid(
                ".symtab size is not a whole number of symbols",
            ));
        }
        let versions: &[u8] = match self.cached(Cached::Versions) {
            Some(span) if span.size % MODVERSION_SIZE == 0 => self.bytes(span),
            _ => &[],
        };
        let crclen = self.layout().modversion_crc;
        let namelen = MODVERSION_SIZE - crclen;
        let entries: Vec<&[u8]> = versions.chunks_exact(MODVERSION_SIZE).collect();
        let mut visited = vec![false; entries.len()];
        // The first properly terminated entry of each name (what a linear
        // search from the start finds), looked up in constant time.
        let mut first_entry: std::collections::HashMap<&[u8], usize> =
            std::collections::HashMap::with_capacity(entries.len());
        for (k, entry) in entries.iter().enumerate() {
            let n = &entry[crclen..];
            if !unterminated(n, namelen) {
                first_entry.entry(cstr_at(n, 0)).or_insert(k);
            }
        }
        let registers = self.machine == EM_SPARC || self.machine == EM_SPARCV9;

        let mut list = Vec::new();
        for i in 1..symtab.size / symlen {
            let (name_off, info, shndx, _) = self.sym(symtab, i);
            if shndx != SHN_UNDEF || (registers && info & 0xF == STT_REGISTER) {
                continue;
            }
            if name_off >= strtab.size as u64 {
                return Err(Error::invalid("symbol name outside .strtab"));
            }
            let name = cstr_at(self.data, strtab.off + name_off as usize);
            if name.is_empty() {
                continue;
            }
            let found = first_entry.get(name).copied();
            let crc = match found {
                Some(k) => {
                    visited[k] = true;
                    read_uint(entries[k], 0, crclen, self.big_endian)
                }
                None => 0,
            };
            let bind = if info >> 4 == STB_WEAK {
                SymbolBind::Weak
            } else {
                SymbolBind::Undef
            };
            list.push(DependencySymbol {
                crc,
                bind,
                name: lossy(name),
            });
        }
        let unvisited: Vec<&[u8]> = entries
            .iter()
            .zip(&visited)
            .filter(|(_, v)| !**v)
            .map(|(e, _)| *e)
            .collect();
        if unvisited
            .iter()
            .any(|e| unterminated(&e[crclen..], namelen))
        {
            return Err(Error::invalid("__versions symbol name too long"));
        }
        list.extend(unvisited.iter().map(|e| DependencySymbol {
            crc: read_uint(e, 0, crclen, self.big_endian),
            bind: SymbolBind::Undef,
            name: lossy(cstr_at(&e[crclen..], 0)),
        }));
        Ok(list)
    }

    /// The module's exports with what the kernel knows of each: the
    /// `.symtab` symbols `__ksymtab_NAME` (local labels the export macros
    /// leave in every module built since 4.x), GPL-only when the label lies
    /// in `__ksymtab_gpl`; the CRC from the `__crc_NAME` symbol (`None`
    /// without modversions); the namespace from the `__kstrtabns_NAME`
    /// string in `__ksymtab_strings` (empty when none). In table order.
    ///
    /// Falls back to [`Elf::symbols`] (not GPL-only, no namespace) when the
    /// labels are missing (a stripped module). Errors: `ENODATA` when the
    /// module exports nothing.
    pub fn exports(&self) -> Result<Vec<ModuleExport>> {
        let labelled = self.export_labels();
        if labelled.is_empty() {
            return Ok(self
                .symbols()?
                .into_iter()
                .map(|s| ModuleExport {
                    crc: (s.crc != 0).then_some(s.crc),
                    name: s.name,
                    gpl_only: false,
                    namespace: String::new(),
                })
                .collect());
        }
        Ok(labelled)
    }

    fn export_labels(&self) -> Vec<ModuleExport> {
        let Some((strtab, symtab, symlen)) = self.symbol_tables() else {
            return Vec::new();
        };
        let strings = self.section_index(b"__ksymtab_strings");
        let gpl = self.section_index(b"__ksymtab_gpl");
        let mut out: Vec<ModuleExport> = Vec::new();
        let mut crcs = std::collections::HashMap::new();
        let mut namespaces = std::collections::HashMap::new();
        for i in 1..symtab.size / symlen {
            let (name_off, _, shndx, value) = self.sym(symtab, i);
            if name_off >= strtab.size as u64 {
                continue;
            }
            let name = cstr_at(self.data, strtab.off + name_off as usize);
            if let Some(n) = name.strip_prefix(b"__ksymtab_".as_slice()) {
                // `__ksymtab_strings` and friends are sections, not labels.
                if self
                    .section_info(shndx)
                    .is_some_and(|(_, sec)| sec == b"__ksymtab" || sec == b"__ksymtab_gpl")
                {
                    out.push(ModuleExport {
                        name: lossy(n),
                        crc: None,
                        gpl_only: gpl == Some(shndx),
                        namespace: String::new(),
                    });
                }
            } else if let Some(n) = name.strip_prefix(CRC_PREFIX) {
                crcs.insert(n.to_vec(), self.resolve_crc(value, shndx));
            } else if let Some(n) = name.strip_prefix(b"__kstrtabns_".as_slice()) {
                if strings == Some(shndx) {
                    if let Some((span, _)) = self.section_info(shndx) {
                        if (value as usize) < span.size {
                            let ns = cstr_at(self.bytes(span), value as usize);
                            namespaces.insert(n.to_vec(), lossy(ns));
                        }
                    }
                }
            }
        }
        for e in &mut out {
            e.crc = crcs.get(e.name.as_bytes()).copied();
            if let Some(ns) = namespaces.get(e.name.as_bytes()) {
                e.namespace = ns.clone();
            }
        }
        out
    }

    /// The capacity (`max`, the array's element count) of each array
    /// parameter (`module_param_array`), by parameter name, read from the
    /// `__param` table (`struct kernel_param`) through its relocations:
    /// entries whose `ops` is `param_array_ops`, their `name` string and
    /// their `struct kparam_array`'s first field. Only 64-bit
    /// little-endian x86-64 modules (RELA, 40-byte entries) are read;
    /// anything else, or anything out of bounds, gives no entry.
    pub fn param_array_capacities(&self) -> Vec<(String, u32)> {
        const EM_X86_64: u16 = 62;
        const PARAM_SIZE: usize = 40;
        const RELA_SIZE: usize = 24;
        if self.class32 || self.big_endian || self.machine != EM_X86_64 {
            return Vec::new();
        }
        let (Some(params), Some(rela)) =
            (self.section_index(b"__param"), self.section(".rela__param"))
        else {
            return Vec::new();
        };
        let Some((strtab, symtab, symlen)) = self.symbol_tables() else {
            return Vec::new();
        };
        let Some((pspan, _)) = self.section_info(params) else {
            return Vec::new();
        };
        let nsyms = symtab.size / symlen;
        // offset in __param -> (symbol index, addend)
        let mut relocs = std::collections::HashMap::new();
        for r in rela.chunks_exact(RELA_SIZE) {
            let off = read_uint(r, 0, 8, false);
            let info = read_uint(r, 8, 8, false);
            let addend = read_uint(r, 16, 8, false) as i64;
            relocs.insert(off, ((info >> 32) as usize, addend));
        }
        // The bytes a relocation at `off` points to (none for an undefined
        // symbol), with the symbol's name.
        let target = |off: usize| -> Option<(Option<&'a [u8]>, &'a [u8])> {
            let &(sym, addend) = relocs.get(&(off as u64))?;
            if sym == 0 || sym >= nsyms {
                return None;
            }
            let (name_off, _, shndx, value) = self.sym(symtab, sym);
            let name = if (name_off as usize) < strtab.size {
                cstr_at(self.data, strtab.off + name_off as usize)
            } else {
                &[]
            };
            let bytes = self.section_info(shndx).and_then(|(span, _)| {
                let at = usize::try_from((value as i64).checked_add(addend)?).ok()?;
                self.bytes(span).get(at..)
            });
            Some((bytes, name))
        };
        let mut out = Vec::new();
        for k in 0..pspan.size / PARAM_SIZE {
            let base = k * PARAM_SIZE;
            let Some((_, ops)) = target(base + 16) else {
                continue;
            };
            if ops != b"param_array_ops" {
                continue;
            }
            let (Some((Some(name), _)), Some((Some(arr), _))) = (target(base), target(base + 32))
            else {
                continue;
            };
            if arr.len() < 4 {
                continue;
            }
            let name = lossy(cstr_at(name, 0));
            // module_param_array names are "MODULE.NAME" only for built-ins.
            out.push((name, read_uint(arr, 0, 4, false) as u32));
        }
        out
    }

    /// The module name compiled into `struct module` in
    /// `.gnu.linkonce.this_module` (what the kernel calls the module), or
    /// `None` if the section is missing, too short, or the name has no NUL
    /// within `MODULE_NAME_LEN` (56 bytes on 64-bit, 60 on 32-bit).
    pub fn this_module_name(&self) -> Option<&'a [u8]> {
        let section = self.section(".gnu.linkonce.this_module")?;
        let l = self.layout();
        let name_len = MODVERSION_SIZE - l.modversion_crc;
        let field = section.get(l.module_name_offset..l.module_name_offset + name_len)?;
        let end = field.iter().position(|&b| b == 0)?;
        Some(&field[..end])
    }

    /// Index of the first usable section called `name`, as
    /// `kmod_elf_get_section` finds it.
    fn section_index(&self, name: &[u8]) -> Option<u16> {
        (1..self.shnum).find(|&idx| self.section_info(idx).is_some_and(|(_, n)| n == name))
    }

    /// A copy of the image with the version checks hidden from the kernel,
    /// as libkmod's `kmod_elf_strip` makes it for `insmod -f` when the module
    /// goes through `init_module(2)`, which has no flags to ask the kernel
    /// to ignore them:
    ///
    /// - `modversions`: the first usable `__versions` section loses
    ///   `SHF_ALLOC` in its header (the kernel only looks for allocated
    ///   sections, so it sees no symbol versions); nothing to do without one;
    /// - `vermagic`: the first `vermagic=...` string of `.modinfo` is
    ///   overwritten with NULs, found the way kmod scans (leading NULs
    ///   skipped, a string starting within the last 10 bytes of the section
    ///   not considered). Nothing to do without a usable `.modinfo` (or one
    ///   of at most one byte after its padding).
    ///
    /// The image keeps its size. Errors: `ENODATA` ("no vermagic found in
    /// .modinfo") when `vermagic` is asked for and `.modinfo` has none, as
    /// kmod fails then.
    pub fn strip_for_force(&self, modversions: bool, vermagic: bool) -> Result<Vec<u8>> {
        let mut out = self.data.to_vec();
        if modversions {
            if let Some(idx) = self.section_index(b"__versions") {
                let l = self.layout();
                // Within the section header table, checked when parsing.
                let at = self.shoff + usize::from(idx) * l.shdr_size + l.sh_flags.0;
                let flags = self.uint(at, l.sh_flags.1) & !SHF_ALLOC;
                write_uint(&mut out[at..at + l.sh_flags.1], flags, self.big_endian);
            }
        }
        if vermagic {
            if let Some((off, len)) = self.vermagic_string()? {
                out[off..off + len].fill(0);
            }
        }
        Ok(out)
    }

    /// Offset and length of the `.modinfo` string `insmod -f` blanks out
    /// (see [`Elf::strip_for_force`]); `None` when there is nothing to do.
    fn vermagic_string(&self) -> Result<Option<(usize, usize)>> {
        let Some(span) = self.cached(Cached::Modinfo) else {
            return Ok(None);
        };
        let mut start = span.off;
        let mut size = span.size;
        while size > 1 && self.data[start] == 0 {
            start += 1;
            size -= 1;
        }
        if size <= 1 {
            return Ok(None);
        }
        let mut i = 0;
        while i < size {
            let at = start + i;
            if self.data[at] == 0 || i + 1 >= size || i + VERMAGIC_KEY.len() >= size {
                i += 1;
                continue;
            }
            // kmod measures with strlen(), which may run past the section.
            let s = cstr_at(self.data, at);
            if s.starts_with(VERMAGIC_KEY) {
                return Ok(Some((at, s.len())));
            }
            i += s.len() + 1;
        }
        Err(Error::no_data("no vermagic found in .modinfo"))
    }
}

/// Writes `value` into `dst` (1 to 8 bytes) in the file's byte order.
fn write_uint(dst: &mut [u8], value: u64, big_endian: bool) {
    let n = dst.len();
    let bytes = value.to_le_bytes();
    for (i, b) in dst.iter_mut().enumerate() {
        *b = if big_endian {
            bytes[n - 1 - i]
        } else {
            bytes[i]
        };
    }
}

/// `offset..offset+size` as a [`Span`] if it lies within `data` (kmod's
/// `elf_range_valid`, overflow included).
fn range(data: &[u8], offset: u64, size: u64) -> Option<Span> {
    let end = offset.checked_add(size)?;
    if end > data.len() as u64 {
        return None;
    }
    Some(Span {
        off: offset as usize,
        size: size as usize,
    })
}

/// A tiny ELF writer for tests: header, sections, section-name table.
#[cfg(test)]
pub(crate) mod builder {
    /// One section to write; the overrides corrupt its header.
    #[derive(Clone, Default)]
    pub struct Sec {
        pub name: String,
        pub data: Vec<u8>,
        pub offset: Option<u64>,
        pub size: Option<u64>,
        pub name_off: Option<u32>,
        /// `sh_flags`; `SHF_WRITE | SHF_ALLOC` when not given.
        pub flags: Option<u64>,
    }

    /// An ELF image under construction.
    #[derive(Clone, Default)]
    pub struct Builder {
        pub class32: bool,
        pub be: bool,
        pub machine: u16,
        pub sections: Vec<Sec>,
        pub shentsize: Option<u16>,
        pub shnum: Option<u16>,
        pub shstrndx: Option<u16>,
        pub shoff: Option<u64>,
        pub shstrtab_unterminated: bool,
    }

    pub fn put(buf: &mut Vec<u8>, v: u64, size: usize, be: bool) {
        let bytes = v.to_be_bytes();
        let bytes = &bytes[8 - size..];
        if be {
            buf.extend_from_slice(bytes);
        } else {
            buf.extend(bytes.iter().rev());
        }
    }

    fn set(buf: &mut [u8], at: usize, v: u64, size: usize, be: bool) {
        let mut tmp = Vec::new();
        put(&mut tmp, v, size, be);
        buf[at..at + size].copy_from_slice(&tmp);
    }

    impl Builder {
        pub fn new(class32: bool, be: bool) -> Builder {
            Builder {
                class32,
                be,
                machine: 62,
                ..Builder::default()
            }
        }

        pub fn section(mut self, name: &str, data: impl Into<Vec<u8>>) -> Builder {
            self.sections.push(Sec {
                name: name.into(),
                data: data.into(),
                ..Sec::default()
            });
            self
        }

        pub fn with(mut self, sec: Sec) -> Builder {
            self.sections.push(sec);
            self
        }

        /// Index the next section added will get.
        pub fn next_index(&self) -> u16 {
            self.sections.len() as u16 + 1
        }

        /// A symbol table entry.
        pub fn sym(&self, name: u32, info: u8, shndx: u16, value: u64) -> Vec<u8> {
            let mut b = Vec::new();
            if self.class32 {
                put(&mut b, name.into(), 4, self.be);
                put(&mut b, value, 4, self.be);
                put(&mut b, 0, 4, self.be);
                b.push(info);
                b.push(0);
                put(&mut b, shndx.into(), 2, self.be);
            } else {
                put(&mut b, name.into(), 4, self.be);
                b.push(info);
                b.push(0);
                put(&mut b, shndx.into(), 2, self.be);
                put(&mut b, value, 8, self.be);
                put(&mut b, 0, 8, self.be);
            }
            b
        }

        /// A `__versions` entry.
        pub fn modversion(&self, crc: u64, name: &[u8]) -> Vec<u8> {
            let mut b = Vec::new();
            let crclen = if self.class32 { 4 } else { 8 };
            put(&mut b, crc, crclen, self.be);
            b.extend_from_slice(name);
            b.resize(64, 0);
            b
        }

        pub fn build(&self) -> Vec<u8> {
            let (ehdr, shdr) = if self.class32 { (52, 40) } else { (64, 64) };
            let mut out = vec![0u8; ehdr];
            out[..4].copy_from_slice(b"\x7fELF");
            out[4] = if self.class32 { 1 } else { 2 };
            out[5] = if self.be { 2 } else { 1 };
            out[6] = 1;
            // Section-name table.
            let mut shstrtab = vec![0u8];
            let mut name_offs = Vec::new();
            for s in &self.sections {
                name_offs.push(shstrtab.len() as u32);
                shstrtab.extend_from_slice(s.name.as_bytes());
                shstrtab.push(0);
            }
            let shstr_name = shstrtab.len() as u32;
            shstrtab.extend_from_slice(b".shstrtab\0");
            if self.shstrtab_unterminated {
                shstrtab.push(b'x');
            }
            let mut places = Vec::new();
            for s in self.sections.iter().map(|s| &s.data).chain([&shstrtab]) {
                while out.len() % 8 != 0 {
                    out.push(0);
                }
                places.push((out.len() as u64, s.len() as u64));
                out.extend_from_slice(s);
            }
            while out.len() % 8 != 0 {
                out.push(0);
            }
            let shoff = out.len() as u64;
            let count = self.sections.len() + 2;
            out.resize(out.len() + shdr, 0); // SHN_UNDEF
            for i in 0..count - 1 {
                let sec = self.sections.get(i);
                let (mut off, mut size) = places[i];
                let mut flags = 0x3;
                let mut name = if i < self.sections.len() {
                    name_offs[i]
                } else {
                    shstr_name
                };
                if let Some(sec) = sec {
                    off = sec.offset.unwrap_or(off);
                    size = sec.size.unwrap_or(size);
                    name = sec.name_off.unwrap_or(name);
                    flags = sec.flags.unwrap_or(flags);
                }
                let start = out.len();
                out.resize(start + shdr, 0);
                let h = &mut out[start..];
                set(h, 0, name.into(), 4, self.be);
                set(h, 4, 1, 4, self.be); // SHT_PROGBITS
                if self.class32 {
                    set(h, 8, flags, 4, self.be);
                    set(h, 16, off, 4, self.be);
                    set(h, 20, size, 4, self.be);
                } else {
                    set(h, 8, flags, 8, self.be);
                    set(h, 24, off, 8, self.be);
                    set(h, 32, size, 8, self.be);
                }
            }
            let be = self.be;
            set(&mut out, 16, 1, 2, be); // ET_REL
            set(&mut out, 18, self.machine.into(), 2, be);
            set(&mut out, 20, 1, 4, be);
            let shoff = self.shoff.unwrap_or(shoff);
            let shentsize = self.shentsize.unwrap_or(shdr as u16);
            let shnum = self.shnum.unwrap_or(count as u16);
            let shstrndx = self.shstrndx.unwrap_or(count as u16 - 1);
            if self.class32 {
                set(&mut out, 32, shoff, 4, be);
                set(&mut out, 40, ehdr as u64, 2, be);
                set(&mut out, 46, shentsize.into(), 2, be);
                set(&mut out, 48, shnum.into(), 2, be);
                set(&mut out, 50, shstrndx.into(), 2, be);
            } else {
                set(&mut out, 40, shoff, 8, be);
                set(&mut out, 52, ehdr as u64, 2, be);
                set(&mut out, 58, shentsize.into(), 2, be);
                set(&mut out, 60, shnum.into(), 2, be);
                set(&mut out, 62, shstrndx.into(), 2, be);
            }
            out
        }
    }
}

#[cfg(test)]
mod tests {
    use super::builder::{Builder, Sec};
    use super::*;
    use crate::error::errno;

    const ALL: [(bool, bool); 4] = [(false, false), (false, true), (true, false), (true, true)];

    fn errno_of<T: std::fmt::Debug>(r: Result<T>) -> i32 {
        r.unwrap_err().errno()
    }

    fn modinfo_of(data: &[u8]) -> Result<Vec<Vec<u8>>> {
        let b = Builder::new(false, false).section(".modinfo", data);
        let img = b.build();
        let elf = Elf::parse(&img)?;
        Ok(elf
            .modinfo_strings()?
            .into_iter()
            .map(<[u8]>::to_vec)
            .collect())
    }

    #[test]
    fn modinfo_strings_split_like_kmod() {
        let got = modinfo_of(b"\0\0license=GPL\0\0\0author=A B\0alias=x-y\0\0\0\0").unwrap();
        assert_eq!(got, [&b"license=GPL"[..], b"author=A B", b"alias=x-y"]);
        // Unterminated last string: kept.
        assert_eq!(modinfo_of(b"a=1\0b=2").unwrap(), [&b"a=1"[..], b"b=2"]);
        // One byte left after the padding: nothing, even if it is not NUL.
        assert!(modinfo_of(b"x").unwrap().is_empty());
        assert!(modinfo_of(b"\0\0\0x").unwrap().is_empty());
        assert!(modinfo_of(b"\0\0\0\0").unwrap().is_empty());
        assert!(modinfo_of(b"").unwrap().is_empty());
        assert_eq!(modinfo_of(b"xy").unwrap(), [&b"xy"[..]]);
    }

    #[test]
    fn modinfo_in_every_class_and_byte_order() {
        for (class32, be) in ALL {
            let img = Builder::new(class32, be)
                .section(".text", vec![0x90; 10])
                .section(".modinfo", &b"license=GPL\0name=dummy\0"[..])
                .build();
            let elf = Elf::parse(&img).unwrap();
            assert_eq!(elf.is_32bit(), class32);
            assert_eq!(elf.is_big_endian(), be);
            assert_eq!(elf.machine(), 62);
            assert_eq!(
                elf.modinfo_strings().unwrap(),
                [&b"license=GPL"[..], b"name=dummy"]
            );
            assert_eq!(elf.section(".text"), Some(&[0x90; 10][..]));
            assert_eq!(elf.section(".nope"), None);
        }
    }

    #[test]
    fn missing_or_unusable_modinfo_is_enodata() {
        let img = Builder::new(false, false).section(".text", "x").build();
        assert_eq!(
            errno_of(Elf::parse(&img).unwrap().modinfo_strings()),
            errno::ENODATA
        );

        // Bogus offset, size past the end of the file, name outside the
        // name table: the section is ignored.
        for sec in [
            Sec {
                offset: Some(1 << 40),
                ..Sec::default()
            },
            Sec {
                offset: Some(u64::MAX - 2),
                ..Sec::default()
            },
            Sec {
                size: Some(1 << 20),
                ..Sec::default()
            },
            Sec {
                name_off: Some(100_000),
                ..Sec::default()
            },
        ] {
            let sec = Sec {
                name: ".modinfo".into(),
                data: b"a=b\0".to_vec(),
                ..sec
            };
            let img = Builder::new(false, false).with(sec).build();
            let elf = Elf::parse(&img).unwrap();
            assert_eq!(errno_of(elf.modinfo_strings()), errno::ENODATA);
            assert_eq!(elf.section(".modinfo"), None);
        }
        // A section at offset 0 counts as found-but-absent and hides a
        // later one of the same name (kmod's cache).
        let hidden = Sec {
            name: ".modinfo".into(),
            offset: Some(0),
            size: Some(4),
            ..Sec::default()
        };
        let img = Builder::new(false, false)
            .with(hidden)
            .section(".modinfo", &b"a=b\0"[..])
            .build();
        let elf = Elf::parse(&img).unwrap();
        assert_eq!(errno_of(elf.modinfo_strings()), errno::ENODATA);
        // ... while the generic lookup returns the first usable one.
        assert_eq!(elf.section(".modinfo").map(<[u8]>::len), Some(4));
    }

    #[test]
    fn header_errors_match_kmod() {
        assert_eq!(
            errno_of(Elf::parse(b"hello world, not an ELF file")),
            errno::ENOEXEC
        );
        assert_eq!(errno_of(Elf::parse(b"")), errno::ENOEXEC);
        // 16 bytes or fewer: ENOEXEC even with the magic.
        assert_eq!(
            errno_of(Elf::parse(b"\x7fELF\x02\x01\x01\0\0\0\0\0\0\0\0\0")),
            errno::ENOEXEC
        );

        let good = Builder::new(false, false)
            .section(".modinfo", "a=b")
            .build();
        assert!(Elf::parse(&good).is_ok());
        // Truncated files.
        for cut in [17, 40, 64, 65, 100, good.len() - 1] {
            assert_eq!(
                errno_of(Elf::parse(&good[..cut])),
                errno::EINVAL,
                "cut at {cut}"
            );
        }
        let mut bad = good.clone();
        bad[4] = 3;
        assert_eq!(errno_of(Elf::parse(&bad)), errno::EINVAL);
        let mut bad = good.clone();
        bad[5] = 0;
        assert_eq!(errno_of(Elf::parse(&bad)), errno::EINVAL);
        // A 64-bit header claiming class 32 is parsed as 32-bit: garbage
        // but no panic.
        let mut bad = good.clone();
        bad[4] = 1;
        assert_eq!(errno_of(Elf::parse(&bad)), errno::EINVAL);

        let base = Builder::new(false, false).section(".modinfo", "a=b");
        let cases = [
            Builder {
                shentsize: Some(40),
                ..base.clone()
            },
            Builder {
                shnum: Some(0xFFFF),
                ..base.clone()
            },
            Builder {
                shnum: Some(0),
                ..base.clone()
            },
            Builder {
                shoff: Some(u64::MAX - 10),
                ..base.clone()
            },
            Builder {
                shstrndx: Some(0),
                ..base.clone()
            },
            Builder {
                shstrndx: Some(3),
                ..base.clone()
            },
            Builder {
                shstrndx: Some(0xFFFF),
                ..base.clone()
            },
            Builder {
                shstrtab_unterminated: true,
                ..base.clone()
            },
        ];
        for (i, b) in cases.iter().enumerate() {
            assert_eq!(errno_of(Elf::parse(&b.build())), errno::EINVAL, "case {i}");
        }
        // Section-name table with its own name outside it.
        let own = Sec {
            name: "t".into(),
            data: b"abc\0".to_vec(),
            name_off: Some(100),
            ..Sec::default()
        };
        let img = Builder {
            shstrndx: Some(1),
            ..Builder::new(false, false).with(own)
        }
        .build();
        assert_eq!(errno_of(Elf::parse(&img)), errno::EINVAL);
    }

    #[test]
    fn versions_all_layouts() {
        for (class32, be) in ALL {
            let b = Builder::new(class32, be);
            let mut v = b.modversion(0x1234_5678, b"module_layout");
            v.extend(b.modversion(0xDEAD_BEEF, b".ppc_sym"));
            v.extend(b.modversion(7, b""));
            let elf_img = b.section("__versions", v).build();
            let elf = Elf::parse(&elf_img).unwrap();
            let got = elf.versions().unwrap();
            assert_eq!(
                got,
                [
                    ModVersion {
                        crc: 0x1234_5678,
                        symbol: "module_layout".into()
                    },
                    ModVersion {
                        crc: 0xDEAD_BEEF,
                        symbol: "ppc_sym".into()
                    },
                    ModVersion {
                        crc: 7,
                        symbol: "".into()
                    },
                ]
            );
        }
        let b = Builder::new(false, false);
        // 64-bit CRCs are read whole.
        let v = b.modversion(0x1_0000_0002, b"x");
        let img = b.clone().section("__versions", v).build();
        assert_eq!(
            Elf::parse(&img).unwrap().versions().unwrap()[0].crc,
            0x1_0000_0002
        );
        // Errors.
        let img = b.clone().section(".modinfo", "a").build();
        assert_eq!(
            errno_of(Elf::parse(&img).unwrap().versions()),
            errno::ENODATA
        );
        let img = b.clone().section("__versions", vec![0; 65]).build();
        assert_eq!(
            errno_of(Elf::parse(&img).unwrap().versions()),
            errno::EINVAL
        );
        let img = b.clone().section("__versions", vec![b'a'; 64]).build();
        assert_eq!(
            errno_of(Elf::parse(&img).unwrap().versions()),
            errno::EINVAL
        );
        let img = b.clone().section("__versions", vec![]).build();
        assert!(Elf::parse(&img).unwrap().versions().unwrap().is_empty());
    }

    /// A module with .strtab/.symtab built from (name, info, shndx, value).
    fn with_symbols(b: Builder, syms: &[(&str, u8, u16, u64)]) -> Builder {
        let mut strtab = vec![0u8];
        let mut symtab = b.sym(0, 0, 0, 0);
        for &(name, info, shndx, value) in syms {
            let off = strtab.len() as u32;
            strtab.extend_from_slice(name.as_bytes());
            strtab.push(0);
            symtab.extend(b.sym(off, info, shndx, value));
        }
        b.section(".strtab", strtab).section(".symtab", symtab)
    }

    #[test]
    fn symbols_from_crc_symbols() {
        for (class32, be) in ALL {
            let b = Builder::new(class32, be);
            let kcrctab_idx = b.next_index();
            let mut kcrctab = Vec::new();
            super::builder::put(&mut kcrctab, 0xAABB_CCDD, 4, be);
            super::builder::put(&mut kcrctab, 0x1122_3344, 4, be);
            let b = b.section("__kcrctab", kcrctab);
            let b = with_symbols(
                b,
                &[
                    ("foo", 0x12, 1, 0),
                    ("__crc_foo", 0x10, kcrctab_idx, 0),
                    ("__crc_bar", 0x10, kcrctab_idx, 4),
                    ("__crc_abs", 0x10, SHN_ABS, 0x55),
                    ("__crc_far", 0x10, kcrctab_idx, 5),
                    ("__crc_nosec", 0x10, 999, 0),
                    ("__cr", 0x10, 0, 0),
                ],
            );
            let img = b.build();
            let got = Elf::parse(&img).unwrap().symbols().unwrap();
            let want = [
                ("foo", 0xAABB_CCDD),
                ("bar", 0x1122_3344),
                ("abs", 0x55),
                ("far", u64::MAX),
                ("nosec", u64::MAX),
            ];
            let got: Vec<(&str, u64)> = got.iter().map(|s| (s.name.as_str(), s.crc)).collect();
            assert_eq!(got, want);
        }
    }

    #[test]
    fn symbols_fallback_to_ksymtab_strings() {
        let b =
            Builder::new(false, false).section("__ksymtab_strings", &b"\0\0foo\0bar\0\0baz\0"[..]);
        // No symbol table at all; no __crc_ symbol; name outside .strtab.
        let plain = b.clone().build();
        let no_crc = with_symbols(b.clone(), &[("foo", 0x12, 1, 0)]).build();
        let mut bad_name = b.clone();
        let sym = bad_name.sym(1000, 0x10, 0, 0);
        let mut symtab = bad_name.sym(0, 0, 0, 0);
        symtab.extend(sym);
        bad_name = bad_name
            .section(".strtab", &b"\0__crc_x\0"[..])
            .section(".symtab", symtab);
        let odd_symtab = b
            .clone()
            .section(".strtab", "\0")
            .section(".symtab", vec![0; 25])
            .build();
        for img in [plain, no_crc, bad_name.build(), odd_symtab] {
            let got = Elf::parse(&img).unwrap().symbols().unwrap();
            let names: Vec<&str> = got.iter().map(|s| s.name.as_str()).collect();
            assert_eq!(names, ["foo", "bar", "baz"]);
            assert!(got.iter().all(|s| s.crc == 0));
        }
        let img = Builder::new(false, false)
            .section("__ksymtab_strings", "foo\0bar")
            .build();
        assert_eq!(errno_of(Elf::parse(&img).unwrap().symbols()), errno::EINVAL);
        let img = Builder::new(false, false)
            .section("__ksymtab_strings", "\0\0")
            .build();
        assert!(Elf::parse(&img).unwrap().symbols().unwrap().is_empty());
        let img = Builder::new(false, false).section(".text", "").build();
        assert_eq!(
            errno_of(Elf::parse(&img).unwrap().symbols()),
            errno::ENODATA
        );
    }

    #[test]
    fn dependency_symbols_like_kmod() {
        for (class32, be) in ALL {
            let b = Builder::new(class32, be);
            let mut v = b.modversion(1, b"module_layout");
            v.extend(b.modversion(2, b"printk"));
            v.extend(b.modversion(3, b"weakling"));
            v.extend(b.modversion(4, b"printk"));
            let b = b.section("__versions", v);
            let b = with_symbols(
                b,
                &[
                    ("local", 0x02, 1, 0),
                    ("printk", 0x10, 0, 0),
                    ("", 0x10, 0, 0),
                    ("weakling", 0x20, 0, 0),
                    ("unversioned", 0x10, 0, 0),
                ],
            );
            let img = b.build();
            let got = Elf::parse(&img).unwrap().dependency_symbols().unwrap();
            let got: Vec<(&str, u64, SymbolBind)> = got
                .iter()
                .map(|s| (s.name.as_str(), s.crc, s.bind))
                .collect();
            assert_eq!(
                got,
                [
                    ("printk", 2, SymbolBind::Undef),
                    ("weakling", 3, SymbolBind::Weak),
                    ("unversioned", 0, SymbolBind::Undef),
                    ("module_layout", 1, SymbolBind::Undef),
                    ("printk", 4, SymbolBind::Undef),
                ]
            );
        }
    }

    #[test]
    fn dependency_symbols_errors() {
        let b = Builder::new(false, false);
        let img = b.clone().section(".strtab", "\0").build();
        assert_eq!(
            errno_of(Elf::parse(&img).unwrap().dependency_symbols()),
            errno::EINVAL
        );
        let img = b.clone().section(".symtab", vec![0; 24]).build();
        assert_eq!(
            errno_of(Elf::parse(&img).unwrap().dependency_symbols()),
            errno::EINVAL
        );
        let img = b
            .clone()
            .section(".strtab", "\0")
            .section(".symtab", vec![0; 30])
            .build();
        assert_eq!(
            errno_of(Elf::parse(&img).unwrap().dependency_symbols()),
            errno::EINVAL
        );
        // Undefined symbol named outside .strtab.
        let mut symtab = b.sym(0, 0, 0, 0);
        symtab.extend(b.sym(50, 0x10, 0, 0));
        let img = b
            .clone()
            .section(".strtab", "\0")
            .section(".symtab", symtab)
            .build();
        assert_eq!(
            errno_of(Elf::parse(&img).unwrap().dependency_symbols()),
            errno::EINVAL
        );
        // Unmatched __versions name without NUL.
        let b2 = with_symbols(
            b.clone().section("__versions", vec![b'z'; 64]),
            &[("x", 0x10, 0, 0)],
        );
        assert_eq!(
            errno_of(Elf::parse(&b2.build()).unwrap().dependency_symbols()),
            errno::EINVAL
        );
        // Malformed __versions is ignored, not an error.
        let b3 = with_symbols(
            b.clone().section("__versions", vec![0; 63]),
            &[("x", 0x10, 0, 0)],
        );
        let got = Elf::parse(&b3.build())
            .unwrap()
            .dependency_symbols()
            .unwrap();
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].crc, 0);
        // Sparc register symbols are skipped only on sparc.
        for (machine, n) in [(EM_SPARCV9, 0), (62, 1)] {
            let mut b4 = with_symbols(b.clone(), &[("%g2", 0x1D, 0, 0)]);
            b4.machine = machine;
            assert_eq!(
                Elf::parse(&b4.build())
                    .unwrap()
                    .dependency_symbols()
                    .unwrap()
                    .len(),
                n
            );
        }
    }

    #[test]
    fn this_module_name_both_classes() {
        for (class32, be) in ALL {
            let mut s = vec![0u8; if class32 { 12 } else { 24 }];
            s.extend_from_slice(b"snd_dummy\0");
            s.resize(400, 0);
            let img = Builder::new(class32, be)
                .section(".gnu.linkonce.this_module", s)
                .build();
            assert_eq!(
                Elf::parse(&img).unwrap().this_module_name(),
                Some(&b"snd_dummy"[..])
            );
        }
        let img = Builder::new(false, false)
            .section(".gnu.linkonce.this_module", vec![b'a'; 100])
            .build();
        assert_eq!(Elf::parse(&img).unwrap().this_module_name(), None);
        let img = Builder::new(false, false)
            .section(".gnu.linkonce.this_module", "x")
            .build();
        assert_eq!(Elf::parse(&img).unwrap().this_module_name(), None);
    }

    /// Deterministic corruption of a full-featured module: every accessor
    /// must return (anything) without panicking.
    #[test]
    fn mutated_images_never_panic() {
        for (class32, be) in ALL {
            let b = Builder::new(class32, be);
            let mut v = b.modversion(1, b"module_layout");
            v.extend(b.modversion(2, b"printk"));
            let b = b
                .section(".modinfo", &b"license=GPL\0depends=\0"[..])
                .section("__versions", v)
                .section("__ksymtab_strings", &b"foo\0"[..])
                .section("__kcrctab", vec![1, 2, 3, 4])
                .section(".gnu.linkonce.this_module", vec![0; 64]);
            let b = with_symbols(b, &[("printk", 0x10, 0, 0), ("__crc_foo", 0x10, 4, 0)]);
            let img = b.build();
            let mut seed = 0x9E37_79B9_7F4A_7C15u64;
            let mut next = || {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                seed
            };
            for _ in 0..3000 {
                let mut m = img.clone();
                for _ in 0..1 + next() % 8 {
                    let at = (next() % m.len() as u64) as usize;
                    m[at] = match next() % 4 {
                        0 => 0,
                        1 => 0xFF,
                        _ => next() as u8,
                    };
                }
                if next() % 8 == 0 {
                    m.truncate((next() % m.len() as u64) as usize);
                }
                if let Ok(elf) = Elf::parse(&m) {
                    let _ = elf.modinfo_strings();
                    let _ = elf.versions();
                    let _ = elf.symbols();
                    let _ = elf.dependency_symbols();
                    let _ = elf.this_module_name();
                    let _ = elf.section(".modinfo");
                    if let Ok(out) = elf.strip_for_force(true, true) {
                        assert_eq!(out.len(), m.len());
                    }
                }
            }
        }
    }

    /// `sh_flags` of the first usable section called `name`.
    fn flags_of(elf: &Elf, name: &[u8]) -> u64 {
        let idx = elf.section_index(name).unwrap();
        let l = elf.layout();
        elf.uint(
            elf.shoff + usize::from(idx) * l.shdr_size + l.sh_flags.0,
            l.sh_flags.1,
        )
    }

    #[test]
    fn strip_for_force_hides_versions_and_vermagic_like_kmod() {
        for (class32, be) in ALL {
            let b = Builder::new(class32, be);
            let vers = [
                b.modversion(7, b"module_layout"),
                b.modversion(9, b"printk"),
            ]
            .concat();
            let img = b
                .clone()
                .section(
                    ".modinfo",
                    &b"\0\0license=GPL\0vermagic=6.1.0-50-amd64 SMP mod_unload\0name=x\0"[..],
                )
                .section("__versions", vers)
                .build();
            let elf = Elf::parse(&img).unwrap();
            let out = elf.strip_for_force(true, true).unwrap();
            assert_eq!(out.len(), img.len());
            let changed = img.iter().zip(&out).filter(|(a, b)| a != b).count();
            // The 38 bytes of the vermagic string, one byte of sh_flags.
            assert_eq!(changed, 38 + 1, "class32={class32} be={be}");
            let stripped = Elf::parse(&out).unwrap();
            assert_eq!(
                stripped.modinfo_strings().unwrap(),
                [&b"license=GPL"[..], b"name=x"]
            );
            assert_eq!(flags_of(&elf, b"__versions"), 0x3);
            assert_eq!(flags_of(&stripped, b"__versions"), 0x1);
            // The entries are still there: only the kernel stops seeing them.
            assert_eq!(stripped.versions().unwrap().len(), 2);

            // Each half on its own.
            let only_versions = Elf::parse(&elf.strip_for_force(true, false).unwrap())
                .unwrap()
                .modinfo_strings()
                .unwrap()
                .len();
            assert_eq!(only_versions, 3);
            let only_vermagic = elf.strip_for_force(false, true).unwrap();
            assert_eq!(
                flags_of(&Elf::parse(&only_vermagic).unwrap(), b"__versions"),
                0x3
            );
            assert_eq!(elf.strip_for_force(false, false).unwrap(), img);
        }
    }

    #[test]
    fn strip_for_force_without_vermagic_fails_with_enodata() {
        let b = Builder::new(false, false);
        // No vermagic at all; two that start too close to the section's
        // end for kmod's scan (within its last 10 bytes).
        for modinfo in [&b"license=GPL\0"[..], b"vermagic=", b"a=b\0vermagic="] {
            let img = b.clone().section(".modinfo", modinfo).build();
            let elf = Elf::parse(&img).unwrap();
            let err = elf.strip_for_force(true, true).unwrap_err();
            assert_eq!(err.errno(), errno::ENODATA, "{modinfo:?}");
            // Without -f's vermagic half, nothing is needed from .modinfo.
            assert_eq!(elf.strip_for_force(true, false).unwrap(), img);
        }
        // Just far enough from the end: found.
        let img = b
            .clone()
            .section(".modinfo", &b"a=b\0vermagic=\0"[..])
            .build();
        let out = Elf::parse(&img)
            .unwrap()
            .strip_for_force(false, true)
            .unwrap();
        assert_eq!(img.iter().zip(&out).filter(|(a, b)| a != b).count(), 9);
    }

    #[test]
    fn strip_for_force_with_nothing_to_strip_copies() {
        let b = Builder::new(false, true);
        // No .modinfo, no __versions; only padding in .modinfo.
        for img in [
            b.clone().section(".text", &b"code"[..]).build(),
            b.clone().section(".modinfo", &b"\0\0\0"[..]).build(),
            b.clone().section(".modinfo", &b"x"[..]).build(),
        ] {
            let elf = Elf::parse(&img).unwrap();
            assert_eq!(elf.strip_for_force(true, true).unwrap(), img);
        }
    }
}
