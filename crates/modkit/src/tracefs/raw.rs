//! The binary ring buffer: `per_cpu/cpuN/trace_pipe_raw` read a page at a
//! time and its kprobe events decoded, without the kernel formatting text.
//!
//! `trace_pipe` makes the kernel print every event as text; under a probe
//! hit 100,000 times a second that printing is where the time goes, and the
//! ring buffer overflows. The raw pipes hand over the buffer's own pages:
//! the kernel copies, user space decodes. Written here from the layouts
//! tracefs itself publishes (`events/header_page`, `events/GROUP/EVENT/format`)
//! and the ring buffer's event header (5 bits of type/length, 27 of time
//! delta), which the kernel's ABI keeps stable; nothing of libtraceevent's
//! code is used.
//!
//! A page: a 64-bit time stamp, a `commit` word (the bytes of events, with
//! flag bits 31 "events were lost before this page" and 30 "their count is
//! stored after the events"), then the events. An event: a 32-bit header
//! (`type_len` in the low 5 bits, `time_delta` in the high 27), then
//! - `type_len` 1..=28: that many 32-bit words of data;
//! - `type_len` 0: a 32-bit length (counting itself), then the data;
//! - 29 padding (`time_delta` 0: the rest of the page is empty; else a
//!   discarded event of the length that follows);
//! - 30 time extend, 31 absolute time stamp: a 32-bit word holding bits
//!   27 and up of the time.
//!
//! Values are rendered as the kernel's kprobe printing renders them (the
//! same text `trace_pipe` would have shown), from the event's `print fmt`.
//! [`RawPipes`] reads the pages, [`walk_page`] splits them into records,
//! [`ProbeDecoder`] turns a record into a [`ProbeHit`].

use std::fmt::Write as _;

use crate::kallsyms::SymbolTable;

/// One field of an event's `format` file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Field {
    /// Its name (`common_pid`, `__probe_ip`, an argument's name).
    pub name: String,
    /// Its C type as written (`int`, `u64`, `__data_loc char[]`).
    pub type_text: String,
    /// Elements, for an array field (`u32 arr[4]`).
    pub array: Option<usize>,
    /// Byte offset in the record.
    pub offset: usize,
    /// Size in bytes.
    pub size: usize,
    /// Whether the kernel says it is signed.
    pub signed: bool,
}

/// An event's `format` file: its id, fields and print format.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EventFormat {
    /// The event name.
    pub name: String,
    /// The id its records carry in `common_type`.
    pub id: u16,
    /// The fields, common ones first.
    pub fields: Vec<Field>,
    /// The print format's quoted string, unescaped.
    pub print_fmt: String,
}

/// A `format` file that is not in the kernel's layout.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RawFormatError(pub String);

impl std::fmt::Display for RawFormatError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for RawFormatError {}

fn bad(what: impl Into<String>) -> RawFormatError {
    RawFormatError(what.into())
}

impl EventFormat {
    /// Parses an event's `format` file.
    pub fn parse(text: &str) -> Result<EventFormat, RawFormatError> {
        let mut name = None;
        let mut id = None;
        let mut fields = Vec::new();
        let mut print_fmt = None;
        for line in text.lines() {
            let t = line.trim();
            if let Some(v) = t.strip_prefix("name:") {
                name = Some(v.trim().to_string());
            } else if let Some(v) = t.strip_prefix("ID:") {
                id = Some(
                    v.trim()
                        .parse::<u16>()
                        .map_err(|_| bad(format!("bad ID line: {t}")))?,
                );
            } else if t.starts_with("field:") {
                fields.push(parse_field(t).ok_or_else(|| bad(format!("bad field line: {t}")))?);
            } else if let Some(v) = t.strip_prefix("print fmt:") {
                print_fmt = Some(quoted_prefix(v.trim()).ok_or_else(|| bad("bad print fmt"))?);
            }
        }
        Ok(EventFormat {
            name: name.ok_or_else(|| bad("no name line"))?,
            id: id.ok_or_else(|| bad("no ID line"))?,
            fields,
            print_fmt: print_fmt.ok_or_else(|| bad("no print fmt line"))?,
        })
    }

    /// The field named `name`.
    pub fn field(&self, name: &str) -> Option<&Field> {
        self.fields.iter().find(|f| f.name == name)
    }
}

/// `field:TYPE NAME;\toffset:N;\tsize:N;\tsigned:N;`
fn parse_field(line: &str) -> Option<Field> {
    let mut parts = line.split(';').map(str::trim);
    let decl = parts.next()?.strip_prefix("field:")?.trim();
    let mut offset = None;
    let mut size = None;
    let mut signed = false;
    for p in parts {
        if let Some(v) = p.strip_prefix("offset:") {
            offset = v.parse().ok();
        } else if let Some(v) = p.strip_prefix("size:") {
            size = v.parse().ok();
        } else if let Some(v) = p.strip_prefix("signed:") {
            signed = v == "1";
        }
    }
    let split = decl.rfind([' ', '\t'])?;
    let (type_text, mut name) = (decl[..split].trim(), decl[split + 1..].trim());
    let mut array = None;
    if let Some(open) = name.find('[') {
        let count = name[open + 1..].strip_suffix(']')?;
        if !count.is_empty() {
            array = Some(count.parse().ok()?);
        }
        name = &name[..open];
    }
    if name.is_empty() {
        return None;
    }
    Some(Field {
        name: name.to_string(),
        type_text: type_text.to_string(),
        array,
        offset: offset?,
        size: size?,
        signed,
    })
}

/// The C string at the start of `text` (`"..."`), unescaped.
fn quoted_prefix(text: &str) -> Option<String> {
    let mut chars = text.strip_prefix('"')?.chars();
    let mut out = String::new();
    while let Some(c) = chars.next() {
        match c {
            '"' => return Some(out),
            '\\' => match chars.next()? {
                'n' => out.push('\n'),
                't' => out.push('\t'),
                other => out.push(other),
            },
            c => out.push(c),
        }
    }
    None
}

/// Where a page's parts are, from `events/header_page`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PageLayout {
    /// Offset of the page's 64-bit time stamp.
    pub timestamp: usize,
    /// Offset and size of the `commit` word.
    pub commit: (usize, usize),
    /// Offset of the first event.
    pub data: usize,
}

impl Default for PageLayout {
    /// The layout of every 64-bit kernel.
    fn default() -> Self {
        PageLayout {
            timestamp: 0,
            commit: (8, 8),
            data: 16,
        }
    }
}

impl PageLayout {
    /// Reads `events/header_page`'s text; the 64-bit default for what it
    /// does not say.
    pub fn parse(text: &str) -> PageLayout {
        let mut layout = PageLayout::default();
        for f in text
            .lines()
            .filter_map(|l| parse_field(l.trim().replace("field: ", "field:").as_str()))
        {
            match f.name.as_str() {
                "timestamp" => layout.timestamp = f.offset,
                "commit" => layout.commit = (f.offset, f.size),
                "data" => layout.data = f.offset,
                _ => {}
            }
        }
        layout
    }
}

/// What a page said besides its events.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PageInfo {
    /// Events the buffer overwrote before this page: `Some(n)` with the
    /// count when the kernel stored it, `Some(0)` when it only flagged
    /// the loss.
    pub lost: Option<u64>,
    /// Events in the page.
    pub events: usize,
}

const TYPE_PADDING: u32 = 29;
const TYPE_TIME_EXTEND: u32 = 30;
const TYPE_TIME_STAMP: u32 = 31;
const COMMIT_FLAGS: u32 = 3 << 30;
const MISSED_EVENTS: u32 = 1 << 31;
const MISSED_STORED: u32 = 1 << 30;

fn le(bytes: &[u8], at: usize, size: usize) -> Option<u64> {
    let b = bytes.get(at..at.checked_add(size)?)?;
    let mut v = 0u64;
    for (i, &x) in b.iter().enumerate().take(8) {
        v |= u64::from(x) << (8 * i);
    }
    Some(v)
}

/// Walks one page of `trace_pipe_raw`, calling `f(timestamp, record)` for
/// each event in order. A page that lies about its size, or an event
/// running past it, ends the walk at the last whole event; never a panic.
pub fn walk_page(layout: &PageLayout, page: &[u8], mut f: impl FnMut(u64, &[u8])) -> PageInfo {
    let mut info = PageInfo::default();
    let (Some(mut ts), Some(commit)) = (
        le(page, layout.timestamp, 8),
        le(page, layout.commit.0, layout.commit.1),
    ) else {
        return info;
    };
    // The flags are bits 31 and 30 of the low word; the kernel adds them
    // as negative ints, so on 64-bit kernels the high word reads as ones
    // (0xffffffffc0000fc0 for 0xfc0 bytes, lost events, count stored).
    let commit = commit as u32;
    let size = (commit & !COMMIT_FLAGS) as usize;
    let data = page.get(layout.data..).unwrap_or(&[]);
    let end = size.min(data.len());
    if commit & MISSED_EVENTS != 0 {
        info.lost = Some(if commit & MISSED_STORED != 0 {
            le(data, size, 8).unwrap_or(0)
        } else {
            0
        });
    }
    let mut at = 0usize;
    while at + 4 <= end {
        let Some(header) = le(data, at, 4) else { break };
        let header = header as u32;
        let type_len = header & 0x1f;
        let delta = u64::from(header >> 5);
        let word = || le(data, at + 4, 4);
        match type_len {
            TYPE_PADDING => {
                if delta == 0 {
                    break;
                }
                let Some(len) = word() else { break };
                ts = ts.wrapping_add(delta);
                at += 4 + len as usize;
            }
            TYPE_TIME_EXTEND => {
                let Some(high) = word() else { break };
                ts = ts.wrapping_add(high << 27 | delta);
                at += 8;
            }
            TYPE_TIME_STAMP => {
                let Some(high) = word() else { break };
                let abs = high << 27 | delta;
                // Kernels keep the top bits of absolute stamps in the page's.
                const LOW: u64 = (1 << 59) - 1;
                ts = if abs & !LOW == 0 {
                    (ts & !LOW) | abs
                } else {
                    abs
                };
                at += 8;
            }
            0 => {
                let Some(len) = word() else { break };
                let len = len as usize;
                let (start, stop) = (at + 8, (at + 4).saturating_add(len));
                if len < 4 || stop > end {
                    break;
                }
                ts = ts.wrapping_add(delta);
                f(ts, &data[start..stop]);
                info.events += 1;
                at = stop;
            }
            n => {
                let stop = at + 4 + 4 * n as usize;
                if stop > end {
                    break;
                }
                ts = ts.wrapping_add(delta);
                f(ts, &data[at + 4..stop]);
                info.events += 1;
                at = stop;
            }
        }
    }
    info
}

/// How one value is printed (the kernel's kprobe fetch types).
#[derive(Clone, Debug, PartialEq, Eq)]
enum Render {
    /// `%d`/`%u` and their `L`/`l`/`h` forms.
    Decimal { signed: bool },
    /// `0x%x` and its forms.
    Hex,
    /// `'%c'`.
    Char,
    /// `"%s"` from a `__data_loc` field: `(fault)` when empty.
    String,
    /// `%pS`.
    Symbol,
}

fn render_of(fmt: &str) -> Option<Render> {
    match fmt {
        "\"%s\"" => return Some(Render::String),
        "'%c'" => return Some(Render::Char),
        "%pS" => return Some(Render::Symbol),
        _ => {}
    }
    let hex = fmt.starts_with("0x");
    let conv = fmt
        .trim_start_matches("0x")
        .strip_prefix('%')?
        .trim_start_matches(['L', 'l', 'h']);
    Some(match conv {
        "x" if hex => Render::Hex,
        "d" if !hex => Render::Decimal { signed: true },
        "u" if !hex => Render::Decimal { signed: false },
        _ => return None,
    })
}

#[derive(Clone, Debug)]
struct Arg {
    name: String,
    offset: usize,
    size: usize,
    count: Option<usize>,
    render: Render,
}

/// Decodes the records of one kprobe or kretprobe event into the values
/// `trace_pipe` would have printed.
#[derive(Clone, Debug)]
pub struct ProbeDecoder {
    /// The event's id (`common_type`).
    pub id: u16,
    /// The event's name.
    pub event: String,
    ret: bool,
    pid: (usize, usize),
    ip: usize,
    ret_ip: usize,
    args: Vec<Arg>,
}

/// Where a decoded probe fired, as `trace_pipe` prints it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Site {
    /// A kprobe: the probed place, `%pS`.
    Entry(String),
    /// A kretprobe: `to` (the caller, with offset) and `from` (the
    /// function, without).
    Return {
        /// Where the function returned to.
        to: String,
        /// The function that returned.
        from: String,
    },
}

/// One decoded probe hit.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProbeHit {
    /// The task's thread id.
    pub pid: u32,
    /// Where it fired.
    pub site: Site,
    /// The named values as `trace_pipe` prints them (strings without their
    /// quotes).
    pub args: Vec<(String, String)>,
}

impl ProbeDecoder {
    /// A decoder for a kprobe event's format; an error for a format whose
    /// print format has a value form this decoder does not know (the caller
    /// then reads `trace_pipe` instead).
    pub fn new(format: &EventFormat) -> Result<ProbeDecoder, RawFormatError> {
        let fmt = format.print_fmt.as_str();
        let (ret, rest) = if let Some(r) = fmt.strip_prefix("(%lx <- %lx)") {
            (true, r)
        } else if let Some(r) = fmt.strip_prefix("(%lx)") {
            (false, r)
        } else {
            return Err(bad(format!("{}: not a kprobe print format", format.name)));
        };
        let offset_of = |name: &str| {
            format
                .field(name)
                .map(|f| f.offset)
                .ok_or_else(|| bad(format!("{}: no field {name}", format.name)))
        };
        let pid = format
            .field("common_pid")
            .map(|f| (f.offset, f.size))
            .ok_or_else(|| bad(format!("{}: no common_pid", format.name)))?;
        let (ip, ret_ip) = if ret {
            (offset_of("__probe_func")?, offset_of("__probe_ret_ip")?)
        } else {
            (offset_of("__probe_ip")?, 0)
        };
        let mut args = Vec::new();
        for item in rest.split(' ').filter(|s| !s.is_empty()) {
            let (name, value_fmt) = item
                .split_once('=')
                .ok_or_else(|| bad(format!("{}: print format item '{item}'", format.name)))?;
            let field = format
                .field(name)
                .ok_or_else(|| bad(format!("{}: no field {name}", format.name)))?;
            let element_fmt = match value_fmt.strip_prefix('{') {
                Some(inner) => inner
                    .strip_suffix('}')
                    .and_then(|i| i.split(',').next())
                    .ok_or_else(|| bad(format!("{}: array format {value_fmt}", format.name)))?,
                None => value_fmt,
            };
            let render = render_of(element_fmt)
                .ok_or_else(|| bad(format!("{}: value format {value_fmt}", format.name)))?;
            let count = if value_fmt.starts_with('{') {
                Some(field.array.unwrap_or(1).max(1))
            } else {
                None
            };
            let size = field.size / count.unwrap_or(1);
            if size == 0 || size > 8 {
                return Err(bad(format!(
                    "{}: field {name} of size {}",
                    format.name, field.size
                )));
            }
            args.push(Arg {
                name: name.to_string(),
                offset: field.offset,
                size,
                count,
                render,
            });
        }
        Ok(ProbeDecoder {
            id: format.id,
            event: format.name.clone(),
            ret,
            pid,
            ip,
            ret_ip,
            args,
        })
    }

    /// Whether this is a kretprobe.
    pub fn is_return(&self) -> bool {
        self.ret
    }

    /// Decodes a record (the event's data, `common_type` first); `None`
    /// for a record too short for its format. `symbol` names an address as
    /// `%pS` (`with_offset`) or as the bare function name.
    pub fn decode(
        &self,
        record: &[u8],
        symbol: &mut dyn FnMut(u64, bool) -> String,
    ) -> Option<ProbeHit> {
        let pid = le(record, self.pid.0, self.pid.1)? as u32;
        let ip = le(record, self.ip, 8)?;
        let site = if self.ret {
            let to = le(record, self.ret_ip, 8)?;
            Site::Return {
                to: symbol(to, true),
                from: symbol(ip, false),
            }
        } else {
            Site::Entry(symbol(ip, true))
        };
        let mut args = Vec::with_capacity(self.args.len());
        for a in &self.args {
            let mut text = String::new();
            match a.count {
                None => render_value(&mut text, a, record, a.offset, symbol)?,
                Some(n) => {
                    text.push('{');
                    for i in 0..n {
                        if i > 0 {
                            text.push(',');
                        }
                        render_value(&mut text, a, record, a.offset + i * a.size, symbol)?;
                    }
                    text.push('}');
                }
            }
            args.push((a.name.clone(), text));
        }
        Some(ProbeHit { pid, site, args })
    }
}

fn render_value(
    out: &mut String,
    a: &Arg,
    record: &[u8],
    at: usize,
    symbol: &mut dyn FnMut(u64, bool) -> String,
) -> Option<()> {
    let v = le(record, at, a.size)?;
    match a.render {
        Render::Decimal { signed: true } => {
            let shift = 64 - 8 * a.size as u32;
            let _ = write!(out, "{}", ((v << shift) as i64) >> shift);
        }
        Render::Decimal { signed: false } => {
            let _ = write!(out, "{v}");
        }
        Render::Hex => {
            let _ = write!(out, "0x{v:x}");
        }
        Render::Char => {
            let _ = write!(out, "'{}'", char::from(v as u8));
        }
        Render::Symbol => out.push_str(&symbol(v, true)),
        Render::String => {
            let (offset, len) = ((v & 0xffff) as usize, (v >> 16) as usize);
            if len == 0 {
                out.push_str("(fault)");
            } else {
                let bytes = record.get(offset..offset.checked_add(len)?)?;
                let bytes = bytes.split(|&b| b == 0).next().unwrap_or(&[]);
                out.push_str(&String::from_utf8_lossy(bytes));
            }
        }
    }
    Some(())
}

/// The id in a record's `common_type` (its first two bytes).
pub fn record_type(record: &[u8]) -> Option<u16> {
    le(record, 0, 2).map(|v| v as u16)
}

/// Names addresses as the kernel's trace output does: `%pS`
/// (`name+0xOFF/0xSIZE [module]`) with the offset, the bare name
/// without; `0x...` for an address no symbol covers, `0` for zero.
/// Answers are kept per address.
#[derive(Default)]
pub struct AddressNamer {
    table: Option<SymbolTable>,
    known: std::collections::HashMap<(u64, bool), String>,
}

impl AddressNamer {
    /// A namer over `table` (read when first needed from
    /// `/proc/kallsyms` when `None`).
    pub fn new(table: Option<SymbolTable>) -> AddressNamer {
        AddressNamer {
            table,
            known: std::collections::HashMap::new(),
        }
    }

    /// The name of `address`.
    pub fn name(&mut self, address: u64, with_offset: bool) -> String {
        if let Some(s) = self.known.get(&(address, with_offset)) {
            return s.clone();
        }
        if address == 0 {
            return "0".to_string();
        }
        let table = self
            .table
            .get_or_insert_with(|| SymbolTable::running().unwrap_or_default());
        let text = match table.lookup(address) {
            Some(loc) if with_offset => loc.to_string(),
            Some(loc) => loc.symbol.name.clone(),
            None => format!("0x{address:x}"),
        };
        self.known.insert((address, with_offset), text.clone());
        text
    }
}

/// A trace clock's time stamp as `trace_pipe` prints it: seconds and
/// microseconds (rounded) for a clock in nanoseconds, else the count.
pub fn format_timestamp(ts: u64, in_ns: bool) -> String {
    if in_ns {
        let us = ts.saturating_add(500) / 1000;
        format!("{}.{:06}", us / 1_000_000, us % 1_000_000)
    } else {
        ts.to_string()
    }
}

/// Whether the clock `trace_clock` selects (the one in brackets) counts
/// nanoseconds, as all but `counter`, `uptime` and `x86-tsc` do.
pub fn clock_in_ns(trace_clock: &str) -> bool {
    let chosen = trace_clock
        .split_whitespace()
        .find_map(|w| w.strip_prefix('[')?.strip_suffix(']'))
        .unwrap_or("local");
    !matches!(chosen, "counter" | "uptime" | "x86-tsc")
}

/// Every CPU's `trace_pipe_raw`, opened without blocking. Reading consumes
/// the events, as reading `trace_pipe` does.
pub struct RawPipes {
    pipes: Vec<(u32, std::fs::File)>,
    page: Vec<u8>,
}

impl RawPipes {
    /// Opens `ROOT/per_cpu/cpuN/trace_pipe_raw` of every CPU.
    pub fn open(root: &std::path::Path) -> std::io::Result<RawPipes> {
        use std::os::unix::fs::OpenOptionsExt;
        let mut pipes = Vec::new();
        for entry in std::fs::read_dir(root.join("per_cpu"))? {
            let entry = entry?;
            let name = entry.file_name();
            let Some(cpu) = name
                .to_str()
                .and_then(|n| n.strip_prefix("cpu"))
                .and_then(|n| n.parse::<u32>().ok())
            else {
                continue;
            };
            let file = std::fs::OpenOptions::new()
                .read(true)
                .custom_flags(libc::O_NONBLOCK)
                .open(entry.path().join("trace_pipe_raw"))?;
            pipes.push((cpu, file));
        }
        if pipes.is_empty() {
            return Err(std::io::Error::new(
                std::io::ErrorKind::NotFound,
                "no per_cpu/cpuN/trace_pipe_raw",
            ));
        }
        pipes.sort_by_key(|(cpu, _)| *cpu);
        // One read hands over one page, or one sub-buffer where the kernel
        // has larger ones (`buffer_subbuf_size_kb`, Linux 6.8+); a recorded
        // file is read the same way, a page at a time.
        let page_size = std::fs::read_to_string(root.join("buffer_subbuf_size_kb"))
            .ok()
            .and_then(|t| t.trim().parse::<usize>().ok())
            .filter(|&kb| (4..=1024).contains(&kb))
            .map_or(4096, |kb| kb * 1024);
        Ok(RawPipes {
            pipes,
            page: vec![0; page_size],
        })
    }

    /// Reads every page there is now, on every CPU, calling `f(cpu, page)`
    /// for each; returns how many pages were read.
    pub fn read_available(&mut self, mut f: impl FnMut(u32, &[u8])) -> std::io::Result<usize> {
        use std::io::Read;
        let mut pages = 0;
        for (cpu, file) in &mut self.pipes {
            loop {
                match file.read(&mut self.page) {
                    Ok(0) => break,
                    Ok(n) => {
                        pages += 1;
                        f(*cpu, &self.page[..n]);
                    }
                    Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => break,
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                    Err(e) => return Err(e),
                }
            }
        }
        Ok(pages)
    }
}

/// Task names as the trace output gives them: from tracefs's
/// `saved_cmdlines` (what the kernel recorded while tracing), `<idle>` for
/// pid 0 and `<...>` for a task it did not record.
pub struct TaskNames {
    path: std::path::PathBuf,
    known: std::collections::HashMap<u32, String>,
    reloaded: Option<std::time::Instant>,
}

impl TaskNames {
    /// Names from `ROOT/saved_cmdlines`, read when a pid is not known yet
    /// (at most every 50 ms).
    pub fn new(root: &std::path::Path) -> TaskNames {
        TaskNames {
            path: root.join("saved_cmdlines"),
            known: std::collections::HashMap::new(),
            reloaded: None,
        }
    }

    /// The name of task `pid`.
    pub fn name(&mut self, pid: u32) -> &str {
        if pid == 0 {
            return "<idle>";
        }
        if !self.known.contains_key(&pid)
            && self
                .reloaded
                .is_none_or(|t| t.elapsed() >= std::time::Duration::from_millis(50))
        {
            self.reloaded = Some(std::time::Instant::now());
            if let Ok(text) = std::fs::read_to_string(&self.path) {
                for line in text.lines() {
                    if let Some((p, comm)) = line.split_once(' ') {
                        if let Ok(p) = p.parse() {
                            self.known.insert(p, comm.to_string());
                        }
                    }
                }
            }
        }
        self.known.get(&pid).map_or("<...>", String::as_str)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FORMAT: &str = "name: kp
ID: 1561
format:
\tfield:unsigned short common_type;\toffset:0;\tsize:2;\tsigned:0;
\tfield:unsigned char common_flags;\toffset:2;\tsize:1;\tsigned:0;
\tfield:unsigned char common_preempt_count;\toffset:3;\tsize:1;\tsigned:0;
\tfield:int common_pid;\toffset:4;\tsize:4;\tsigned:1;

\tfield:unsigned long __probe_ip;\toffset:8;\tsize:8;\tsigned:0;
\tfield:s32 value;\toffset:16;\tsize:4;\tsigned:1;
\tfield:u64 idx;\toffset:20;\tsize:8;\tsigned:0;
\tfield:__data_loc char[] tag;\toffset:28;\tsize:4;\tsigned:1;
\tfield:u64 flags;\toffset:32;\tsize:8;\tsigned:0;
\tfield:u16 arr[3];\toffset:40;\tsize:6;\tsigned:0;
\tfield:u8 c;\toffset:46;\tsize:1;\tsigned:0;
\tfield:u64 where;\toffset:47;\tsize:8;\tsigned:0;

print fmt: \"(%lx) value=%d idx=%Lu tag=\\\"%s\\\" flags=0x%Lx arr={%u,%u,%u} c='%c' where=%pS\", REC->__probe_ip, REC->value, REC->idx, __get_str(tag), REC->flags
";

    fn record() -> Vec<u8> {
        let mut r = vec![0u8; 55];
        r[0..2].copy_from_slice(&1561u16.to_le_bytes());
        r[4..8].copy_from_slice(&4242i32.to_le_bytes());
        r[8..16].copy_from_slice(&0xffff_ffff_8100_1004u64.to_le_bytes());
        r[16..20].copy_from_slice(&(-7i32).to_le_bytes());
        r[20..28].copy_from_slice(&u64::MAX.to_le_bytes());
        r[32..40].copy_from_slice(&0xbeefu64.to_le_bytes());
        for (i, v) in [1u16, 2, 65535].iter().enumerate() {
            r[40 + 2 * i..42 + 2 * i].copy_from_slice(&v.to_le_bytes());
        }
        r[46] = b'z';
        r[47..55].copy_from_slice(&0xffff_ffff_8100_1104u64.to_le_bytes());
        let tag = b"hi there\0";
        let loc = (r.len() as u32) | (tag.len() as u32) << 16;
        r[28..32].copy_from_slice(&loc.to_le_bytes());
        r.extend_from_slice(tag);
        r
    }

    fn namer() -> AddressNamer {
        let table = SymbolTable::parse(
            b"ffffffff81001000 T do_thing\nffffffff81001100 T other\nffffffff81002000 T end\n",
        )
        .unwrap();
        AddressNamer::new(Some(table))
    }

    #[test]
    fn a_kprobe_record_decodes_as_trace_pipe_prints_it() {
        let f = EventFormat::parse(FORMAT).unwrap();
        assert_eq!(f.id, 1561);
        assert_eq!(f.field("arr").unwrap().array, Some(3));
        assert_eq!(f.field("tag").unwrap().type_text, "__data_loc char[]");
        let d = ProbeDecoder::new(&f).unwrap();
        let mut n = namer();
        let hit = d.decode(&record(), &mut |a, o| n.name(a, o)).unwrap();
        assert_eq!(hit.pid, 4242);
        assert_eq!(hit.site, Site::Entry("do_thing+0x4/0x100".into()));
        let args: Vec<(&str, &str)> = hit
            .args
            .iter()
            .map(|(a, b)| (a.as_str(), b.as_str()))
            .collect();
        assert_eq!(
            args,
            [
                ("value", "-7"),
                ("idx", "18446744073709551615"),
                ("tag", "hi there"),
                ("flags", "0xbeef"),
                ("arr", "{1,2,65535}"),
                ("c", "'z'"),
                ("where", "other+0x4/0xf00"),
            ]
        );
        // Too short a record: nothing, no panic.
        for len in 0..record().len() - 9 {
            let _ = d.decode(&record()[..len], &mut |a, o| n.name(a, o));
        }
        assert!(d
            .decode(&record()[..20], &mut |a, o| n.name(a, o))
            .is_none());
    }

    #[test]
    fn kretprobes_and_faulted_strings() {
        let fmt = "name: kr\nID: 7\nformat:\n\tfield:unsigned short common_type;\toffset:0;\tsize:2;\tsigned:0;\n\tfield:int common_pid;\toffset:4;\tsize:4;\tsigned:1;\n\tfield:unsigned long __probe_func;\toffset:8;\tsize:8;\tsigned:0;\n\tfield:unsigned long __probe_ret_ip;\toffset:16;\tsize:8;\tsigned:0;\n\tfield:u64 arg1;\toffset:24;\tsize:8;\tsigned:0;\n\tfield:__data_loc char[] s;\toffset:32;\tsize:4;\tsigned:1;\n\nprint fmt: \"(%lx <- %lx) arg1=0x%Lx s=\\\"%s\\\"\", REC->__probe_func, REC->__probe_ret_ip, REC->arg1, __get_str(s)\n";
        let d = ProbeDecoder::new(&EventFormat::parse(fmt).unwrap()).unwrap();
        assert!(d.is_return());
        let mut r = vec![0u8; 36];
        r[8..16].copy_from_slice(&0xffff_ffff_8100_1000u64.to_le_bytes());
        r[16..24].copy_from_slice(&0xffff_ffff_8100_1110u64.to_le_bytes());
        r[24..32].copy_from_slice(&0x10u64.to_le_bytes());
        r[32..36].copy_from_slice(&36u32.to_le_bytes()); // length 0: a fault
        let mut n = namer();
        let hit = d.decode(&r, &mut |a, o| n.name(a, o)).unwrap();
        assert_eq!(
            hit.site,
            Site::Return {
                to: "other+0x10/0xf00".into(),
                from: "do_thing".into()
            }
        );
        assert_eq!(hit.args[1], ("s".to_string(), "(fault)".to_string()));
        assert_eq!(n.name(0x10, true), "0x10");
        assert_eq!(n.name(0, true), "0");
    }

    #[test]
    fn unknown_value_forms_are_refused() {
        let f = FORMAT.replace("c='%c'", "c=%q");
        assert!(ProbeDecoder::new(&EventFormat::parse(&f).unwrap()).is_err());
        let f = FORMAT.replace("(%lx)", "%s");
        assert!(ProbeDecoder::new(&EventFormat::parse(&f).unwrap()).is_err());
        assert!(EventFormat::parse("name: x\n").is_err());
    }

    fn page(events: &[(u32, &[u8])], commit_flags: u64, missed: Option<u64>) -> Vec<u8> {
        let mut data = Vec::new();
        for (delta, rec) in events {
            if rec.len() <= 112 && rec.len() % 4 == 0 && !rec.is_empty() {
                data.extend_from_slice(&((rec.len() as u32 / 4) | delta << 5).to_le_bytes());
            } else {
                data.extend_from_slice(&(delta << 5).to_le_bytes());
                let padded = rec.len().div_ceil(4) * 4;
                data.extend_from_slice(&(padded as u32 + 4).to_le_bytes());
            }
            data.extend_from_slice(rec);
            while data.len() % 4 != 0 {
                data.push(0);
            }
        }
        let mut p = Vec::new();
        p.extend_from_slice(&1_000_000u64.to_le_bytes());
        p.extend_from_slice(&(data.len() as u64 | commit_flags).to_le_bytes());
        p.extend_from_slice(&data);
        if let Some(m) = missed {
            p.extend_from_slice(&m.to_le_bytes());
        }
        p.resize(4096, 0);
        p
    }

    #[test]
    fn pages_walk_with_their_time_and_losses() {
        let big = [7u8; 200];
        let mut extend = Vec::new();
        // A time extend of 2^27 + 5 ns, then a small event.
        let p = page(&[(3, b"abcd"), (10, &big)], 0, None);
        let mut seen = Vec::new();
        let info = walk_page(&PageLayout::default(), &p, |ts, r| seen.push((ts, r.len())));
        assert_eq!(seen, [(1_000_003, 4), (1_000_013, 200)]);
        assert_eq!(
            info,
            PageInfo {
                lost: None,
                events: 2
            }
        );
        extend.extend_from_slice(&(TYPE_TIME_EXTEND | 5 << 5).to_le_bytes());
        extend.extend_from_slice(&1u32.to_le_bytes());
        extend.extend_from_slice(&(1u32 | 1 << 5).to_le_bytes());
        extend.extend_from_slice(b"wxyz");
        let mut p = Vec::new();
        p.extend_from_slice(&100u64.to_le_bytes());
        // As a 6.1 kernel wrote it: the flags sign-extended into the high word.
        let commit = (extend.len() as u32 | MISSED_EVENTS | MISSED_STORED) as i32 as i64 as u64;
        assert_eq!(commit >> 32, 0xffff_ffff);
        p.extend_from_slice(&commit.to_le_bytes());
        p.extend_from_slice(&extend);
        p.extend_from_slice(&42u64.to_le_bytes());
        let mut seen = Vec::new();
        let info = walk_page(&PageLayout::default(), &p, |ts, r| {
            seen.push((ts, r.to_vec()))
        });
        assert_eq!(seen, [(100 + (1 << 27) + 5 + 1, b"wxyz".to_vec())]);
        assert_eq!(info.lost, Some(42));
        // Lies and truncation: no panic, whole events only.
        let p = page(&[(3, b"abcd"), (10, &big)], 0, None);
        for cut in 0..300 {
            let _ = walk_page(&PageLayout::default(), &p[..cut], |_, _| {});
        }
        let mut liar = p.clone();
        liar[8..16].copy_from_slice(&0x3fff_ffffu64.to_le_bytes());
        let info = walk_page(&PageLayout::default(), &liar, |_, _| {});
        assert_eq!(info.events, 2);
    }

    #[test]
    fn header_page_and_clock() {
        let text = "\tfield: u64 timestamp;\toffset:0;\tsize:8;\tsigned:0;\n\tfield: local_t commit;\toffset:8;\tsize:8;\tsigned:1;\n\tfield: int overwrite;\toffset:8;\tsize:1;\tsigned:1;\n\tfield: char data;\toffset:16;\tsize:4080;\tsigned:1;\n";
        assert_eq!(PageLayout::parse(text), PageLayout::default());
        assert_eq!(format_timestamp(1_234_567_890_499, true), "1234.567890");
        assert_eq!(format_timestamp(1_234_567_890_500, true), "1234.567891");
        assert_eq!(format_timestamp(77, false), "77");
        assert!(clock_in_ns(
            "[local] global counter uptime perf mono mono_raw boot x86-tsc\n"
        ));
        assert!(!clock_in_ns("local global [counter] uptime\n"));
    }
}
