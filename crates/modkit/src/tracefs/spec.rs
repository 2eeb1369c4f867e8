//! Probe definitions as `kprobe_events` takes them, built and checked
//! before the kernel sees them.
//!
//! The line is `p[:GROUP/EVENT] [MOD:]SYM[+OFF]|ADDR [FETCHARG...]` for a
//! kprobe and `r[MAXACTIVE][:GROUP/EVENT] [MOD:]SYM[+0] [FETCHARG...]` for
//! a kretprobe (Documentation/trace/kprobetrace.rst). A fetch argument is
//! `[NAME=]FETCH[:TYPE]`, where FETCH is a register (`%di`), `@ADDR`,
//! `@SYM[+|-OFF]`, `$stackN`, `$stack`, `$retval`, `$comm`, `$argN`, an
//! immediate (`\123`, `\"text"`), a dereference `+|-[u]OFF(FETCH)`, or,
//! on kernels with BTF argument names (6.5+, `CONFIG_PROBE_EVENTS_BTF_ARGS`),
//! a parameter name with `->`/`.` fields or `$arg*`; TYPE is
//! `u8..u64`, `s8..s64`, `x8..x64`, `char`, `string`, `ustring`, `symbol`,
//! `symstr`, a bitfield `b<WIDTH>@<OFFSET>/<SIZE>`, each optionally an
//! array `[N]`.
//!
//! [`ProbeSpec::command`] gives the line to write; every part is checked
//! first, so that a typo is a message naming it rather than the kernel's
//! bare `EINVAL`.

use std::fmt;

/// The x86-64 register names the kernel's fetch arguments accept (`%NAME`),
/// as `regs_query_register_offset` knows them.
pub const REGISTERS: &[&str] = &[
    "r15", "r14", "r13", "r12", "bp", "bx", "r11", "r10", "r9", "r8", "ax", "cx", "dx", "si", "di",
    "orig_ax", "ip", "cs", "flags", "sp", "ss",
];

/// The longest event or group name the kernel takes (`MAX_EVENT_NAME_LEN` − 1).
pub const MAX_NAME_LEN: usize = 63;

/// The longest fetch array the kernel takes (`MAX_ARRAY_LEN`).
pub const MAX_ARRAY_LEN: u32 = 64;

/// What the running kernel's probe syntax offers beyond the basics, read
/// from tracefs's `README` ([`super::Tracefs::features`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Features {
    /// BTF argument names (`filename`, `file->f_flags`, `$arg*`).
    pub btf_args: bool,
    /// `$argN` (function arguments by position).
    pub arg_n: bool,
}

/// A bad probe definition: what is wrong, in words naming the part.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SpecError(pub String);

impl fmt::Display for SpecError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for SpecError {}

fn err<T>(msg: impl Into<String>) -> Result<T, SpecError> {
    Err(SpecError(msg.into()))
}

/// Where a probe goes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ProbePoint {
    /// A symbol, optionally in one module, at an offset from its start.
    Symbol {
        /// `MOD` of `MOD:SYM`.
        module: Option<String>,
        /// The symbol's name.
        name: String,
        /// Bytes from its start.
        offset: u64,
    },
    /// An absolute kernel address.
    Address(u64),
}

impl ProbePoint {
    /// Parses `[MOD:]SYM[+OFF]` or `0xADDR`. A symbol is what kallsyms may
    /// hold: letters, digits, `_`, `.` and `$`.
    pub fn parse(text: &str) -> Result<ProbePoint, SpecError> {
        if let Some(hex) = text.strip_prefix("0x").or_else(|| text.strip_prefix("0X")) {
            return match u64::from_str_radix(hex, 16) {
                Ok(a) => Ok(ProbePoint::Address(a)),
                Err(_) => err(format!("'{text}' is not a hexadecimal address")),
            };
        }
        let (module, rest) = match text.split_once(':') {
            Some((m, r)) => {
                if !is_ident(m) {
                    return err(format!("'{m}' is not a module name (in '{text}')"));
                }
                (Some(m.to_string()), r)
            }
            None => (None, text),
        };
        let (name, offset) = match rest.split_once('+') {
            Some((n, o)) => match parse_number(o) {
                Some(o) => (n, o),
                None => return err(format!("'{o}' is not an offset (in '{text}')")),
            },
            None => (rest, 0),
        };
        if !is_symbol(name) {
            return err(format!("'{name}' is not a symbol name"));
        }
        Ok(ProbePoint::Symbol {
            module,
            name: name.to_string(),
            offset,
        })
    }

    /// The symbol's name, if the point is one.
    pub fn symbol(&self) -> Option<&str> {
        match self {
            ProbePoint::Symbol { name, .. } => Some(name),
            ProbePoint::Address(_) => None,
        }
    }
}

impl fmt::Display for ProbePoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ProbePoint::Address(a) => write!(f, "0x{a:x}"),
            ProbePoint::Symbol {
                module,
                name,
                offset,
            } => {
                if let Some(m) = module {
                    write!(f, "{m}:")?;
                }
                f.write_str(name)?;
                if *offset != 0 {
                    write!(f, "+{offset}")?;
                }
                Ok(())
            }
        }
    }
}

/// A kprobe (on entry or at an offset) or a kretprobe (on return).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProbeKind {
    /// `p`: a kprobe.
    Entry,
    /// `r[MAXACTIVE]`: a kretprobe; `maxactive` is how many instances may
    /// wait for a return at once (the kernel picks when `None`).
    Return {
        /// `MAXACTIVE`.
        maxactive: Option<u32>,
    },
}

/// One checked fetch argument, `[NAME=]FETCH[:TYPE]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FetchArg {
    /// `NAME`, if given.
    pub name: Option<String>,
    /// `FETCH`.
    pub fetch: String,
    /// `TYPE`, if given.
    pub kind: Option<String>,
}

impl FetchArg {
    /// Parses and checks a fetch argument for a probe of `kind` on a kernel
    /// with `features`.
    pub fn parse(text: &str, kind: ProbeKind, features: Features) -> Result<FetchArg, SpecError> {
        let (name, rest) = match text.split_once('=') {
            Some((n, r)) if !n.contains(['(', '\\', '"']) => {
                if !is_ident(n) {
                    return err(format!(
                        "argument name '{n}' in '{text}': use letters, digits and _"
                    ));
                }
                (Some(n.to_string()), r)
            }
            _ => (None, text),
        };
        // The type follows the last ':' outside quotes and parentheses.
        let (fetch, ty) = split_type(rest);
        if fetch.is_empty() {
            return err(format!("'{text}': nothing to fetch"));
        }
        check_fetch(fetch, kind, features).map_err(|e| SpecError(format!("'{text}': {}", e.0)))?;
        if let Some(ty) = ty {
            check_type(ty).map_err(|e| SpecError(format!("'{text}': {}", e.0)))?;
            if matches!(base_type(ty), "string" | "ustring" | "symstr")
                && !(fetch.starts_with('+')
                    || fetch.starts_with('-')
                    || fetch.starts_with('@')
                    || fetch.starts_with("\\\"")
                    || fetch == "$comm"
                    || features.btf_args)
            {
                return err(format!(
                    "'{text}': a :{ty} is read from memory: dereference the pointer, e.g. +0({fetch}):{ty}"
                ));
            }
        }
        Ok(FetchArg {
            name,
            fetch: fetch.to_string(),
            kind: ty.map(str::to_string),
        })
    }
}

impl fmt::Display for FetchArg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(n) = &self.name {
            write!(f, "{n}=")?;
        }
        f.write_str(&self.fetch)?;
        if let Some(t) = &self.kind {
            write!(f, ":{t}")?;
        }
        Ok(())
    }
}

fn split_type(text: &str) -> (&str, Option<&str>) {
    let mut depth = 0i32;
    let mut quoted = false;
    let mut at = None;
    for (i, c) in text.char_indices() {
        match c {
            '"' => quoted = !quoted,
            '(' if !quoted => depth += 1,
            ')' if !quoted => depth -= 1,
            ':' if !quoted && depth == 0 => at = Some(i),
            _ => {}
        }
    }
    match at {
        Some(i) => (&text[..i], Some(&text[i + 1..])),
        None => (text, None),
    }
}

fn base_type(ty: &str) -> &str {
    ty.split('[').next().unwrap_or(ty)
}

fn check_type(ty: &str) -> Result<(), SpecError> {
    let (base, array) = match ty.split_once('[') {
        Some((b, rest)) => {
            let Some(n) = rest.strip_suffix(']') else {
                return err(format!("type '{ty}': an array is TYPE[N]"));
            };
            match n.parse::<u32>() {
                Ok(n) if (1..=MAX_ARRAY_LEN).contains(&n) => {}
                _ => {
                    return err(format!(
                        "type '{ty}': the array length must be 1..{MAX_ARRAY_LEN}"
                    ))
                }
            }
            (b, true)
        }
        None => (ty, false),
    };
    match base {
        "u8" | "u16" | "u32" | "u64" | "s8" | "s16" | "s32" | "s64" | "x8" | "x16" | "x32"
        | "x64" | "char" | "symbol" => Ok(()),
        "string" | "ustring" | "symstr" if !array => Ok(()),
        "string" | "ustring" | "symstr" => Ok(()),
        b if b.starts_with('b') => check_bitfield(b),
        _ => err(format!(
            "unknown type '{ty}': use u8..u64, s8..s64, x8..x64, char, string, ustring, symbol, symstr or b<WIDTH>@<OFFSET>/<SIZE>"
        )),
    }
}

fn check_bitfield(b: &str) -> Result<(), SpecError> {
    let bad = || {
        err(format!(
            "bitfield '{b}': the form is b<WIDTH>@<OFFSET>/<CONTAINER BITS: 8, 16, 32 or 64>"
        ))
    };
    let Some((width, rest)) = b[1..].split_once('@') else {
        return bad();
    };
    let Some((offset, size)) = rest.split_once('/') else {
        return bad();
    };
    let (Ok(width), Ok(offset), Ok(size)) = (
        width.parse::<u32>(),
        offset.parse::<u32>(),
        size.parse::<u32>(),
    ) else {
        return bad();
    };
    if !matches!(size, 8 | 16 | 32 | 64) || width == 0 || width + offset > size {
        return bad();
    }
    Ok(())
}

fn check_fetch(fetch: &str, kind: ProbeKind, features: Features) -> Result<(), SpecError> {
    if let Some(reg) = fetch.strip_prefix('%') {
        if REGISTERS.contains(&reg) {
            return Ok(());
        }
        let hint = match reg.strip_prefix('r').or_else(|| reg.strip_prefix('e')) {
            Some(short) if REGISTERS.contains(&short) => format!(" (the kernel names it %{short})"),
            _ => String::new(),
        };
        return err(format!("unknown register %{reg}{hint}"));
    }
    if let Some(at) = fetch.strip_prefix('@') {
        if parse_number(at).is_some() {
            return Ok(());
        }
        let sym = at.split(['+', '-']).next().unwrap_or(at);
        let off = &at[sym.len()..];
        if is_symbol(sym) && (off.is_empty() || parse_number(&off[1..]).is_some()) {
            return Ok(());
        }
        return err("@ takes an address or SYMBOL[+|-OFFSET]");
    }
    if let Some(var) = fetch.strip_prefix('$') {
        let (head, fields) = match var.find("->").or_else(|| var.find('.')) {
            Some(i) => (&var[..i], Some(&var[i..])),
            None => (var, None),
        };
        if let Some(f) = fields {
            if !features.btf_args {
                return err(format!(
                    "fields ({f}) need BTF argument names (Linux 6.5+ with CONFIG_PROBE_EVENTS_BTF_ARGS)"
                ));
            }
        }
        return match head {
            "comm" | "COMM" | "stack" => Ok(()),
            "retval" => match kind {
                ProbeKind::Return { .. } => Ok(()),
                ProbeKind::Entry => err("$retval is only for a return probe (add -r)"),
            },
            "arg*" if features.btf_args => Ok(()),
            "arg*" => {
                err("$arg* needs BTF argument names (Linux 6.5+ with CONFIG_PROBE_EVENTS_BTF_ARGS)")
            }
            h if h.starts_with("stack") && h[5..].parse::<u32>().is_ok() => Ok(()),
            h if h.starts_with("arg") => match h[3..].parse::<u32>() {
                Ok(n) if n >= 1 => Ok(()),
                _ => err(format!("${h}: arguments count from $arg1")),
            },
            _ => err(format!(
                "unknown variable ${head}: use $argN, $retval, $comm, $stack or $stackN"
            )),
        };
    }
    if let Some(imm) = fetch.strip_prefix('\\') {
        if imm.starts_with('"') && imm.len() >= 2 && imm.ends_with('"') {
            return Ok(());
        }
        if parse_signed(imm).is_some() {
            return Ok(());
        }
        return err("an immediate is \\NUMBER or \\\"TEXT\"");
    }
    if fetch.starts_with('+') || fetch.starts_with('-') {
        let body = &fetch[1..];
        let body = body.strip_prefix('u').unwrap_or(body);
        let Some(open) = body.find('(') else {
            return err("a dereference is +|-OFFSET(FETCHARG)");
        };
        if parse_number(&body[..open]).is_none() || !body.ends_with(')') {
            return err("a dereference is +|-OFFSET(FETCHARG)");
        }
        let inner = &body[open + 1..body.len() - 1];
        return check_fetch(inner, kind, features);
    }
    // A BTF name: IDENT(->IDENT|.IDENT)*
    let parts_ok = fetch.split("->").flat_map(|p| p.split('.')).all(is_ident);
    if parts_ok {
        if features.btf_args {
            return Ok(());
        }
        return err(format!(
            "'{fetch}' is a parameter name: this kernel has no BTF argument names (Linux 6.5+ with CONFIG_PROBE_EVENTS_BTF_ARGS); use $argN or a register"
        ));
    }
    err(format!(
        "'{fetch}' is not a fetch argument (%REG, @ADDR, @SYM, $argN, $retval, $comm, $stack, +OFF(FETCH), \\IMM)"
    ))
}

/// A complete probe definition: what [`super::Tracefs::add_probe`] writes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProbeSpec {
    /// Kprobe or kretprobe.
    pub kind: ProbeKind,
    /// The event's group (`modkit` unless set).
    pub group: String,
    /// The event's name.
    pub event: String,
    /// Where it goes.
    pub point: ProbePoint,
    /// What it records.
    pub args: Vec<FetchArg>,
}

/// The group modkit puts its events in unless told otherwise.
pub const DEFAULT_GROUP: &str = "modkit";

impl ProbeSpec {
    /// A probe of `kind` at `point` (`[MOD:]SYM[+OFF]` or `0xADDR`), in
    /// group `modkit`, named as the kernel would name it (`p_SYM_OFF`,
    /// `r_SYM_OFF`, anything but letters, digits and `_` made `_`).
    pub fn new(kind: ProbeKind, point: &str) -> Result<ProbeSpec, SpecError> {
        let point = ProbePoint::parse(point)?;
        if let (ProbeKind::Return { .. }, ProbePoint::Symbol { offset, .. }) = (kind, &point) {
            if *offset != 0 {
                return err("a return probe goes on a function's entry: no +OFFSET");
            }
        }
        let prefix = match kind {
            ProbeKind::Entry => 'p',
            ProbeKind::Return { .. } => 'r',
        };
        let event = match &point {
            ProbePoint::Symbol { name, offset, .. } => {
                sanitize(&format!("{prefix}_{name}_{offset}"))
            }
            ProbePoint::Address(a) => format!("{prefix}_0x{a:x}"),
        };
        Ok(ProbeSpec {
            kind,
            group: DEFAULT_GROUP.to_string(),
            event,
            point,
            args: Vec::new(),
        })
    }

    /// Sets the group; it must be a name (letters, digits, `_`).
    pub fn group(mut self, group: &str) -> Result<ProbeSpec, SpecError> {
        check_name("group", group)?;
        self.group = group.to_string();
        Ok(self)
    }

    /// Sets the event name; it must be a name (letters, digits, `_`).
    pub fn event(mut self, event: &str) -> Result<ProbeSpec, SpecError> {
        check_name("event", event)?;
        self.event = event.to_string();
        Ok(self)
    }

    /// Adds a fetch argument, checked for this kind of probe and kernel.
    pub fn arg(mut self, text: &str, features: Features) -> Result<ProbeSpec, SpecError> {
        let arg = FetchArg::parse(text, self.kind, features)?;
        if let Some(n) = &arg.name {
            if self.args.iter().any(|a| a.name.as_ref() == Some(n)) {
                return err(format!("two arguments are named '{n}'"));
            }
        }
        self.args.push(arg);
        Ok(self)
    }

    /// `GROUP/EVENT`.
    pub fn full_name(&self) -> String {
        format!("{}/{}", self.group, self.event)
    }

    /// The line to append to `kprobe_events` (no newline).
    pub fn command(&self) -> String {
        let mut s = match self.kind {
            ProbeKind::Entry => "p".to_string(),
            ProbeKind::Return { maxactive: None } => "r".to_string(),
            ProbeKind::Return { maxactive: Some(n) } => format!("r{n}"),
        };
        s.push_str(&format!(":{}/{} {}", self.group, self.event, self.point));
        for a in &self.args {
            s.push(' ');
            s.push_str(&a.to_string());
        }
        s
    }
}

/// The line removing `GROUP/EVENT` from `kprobe_events`.
pub fn remove_command(group: &str, event: &str) -> String {
    format!("-:{group}/{event}")
}

fn check_name(what: &str, name: &str) -> Result<(), SpecError> {
    if !is_ident(name) {
        return err(format!(
            "{what} name '{name}': use letters, digits and _, not starting with a digit"
        ));
    }
    if name.len() > MAX_NAME_LEN {
        return err(format!(
            "{what} name '{name}' is longer than {MAX_NAME_LEN} characters"
        ));
    }
    Ok(())
}

/// The kernel's own event-name cleaning: every byte but letters, digits
/// and `_` becomes `_`.
pub fn sanitize(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// A C identifier.
pub fn is_ident(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

fn is_symbol(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_' || c == '.')
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '$'))
}

/// Parses a decimal or `0x` hexadecimal number.
pub fn parse_number(s: &str) -> Option<u64> {
    match s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        Some(h) if !h.is_empty() => u64::from_str_radix(h, 16).ok(),
        Some(_) => None,
        None if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) => s.parse().ok(),
        None => None,
    }
}

fn parse_signed(s: &str) -> Option<i128> {
    match s.strip_prefix('-') {
        Some(r) => parse_number(r).map(|n| -(n as i128)),
        None => parse_number(s).map(i128::from),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BASIC: Features = Features {
        btf_args: false,
        arg_n: true,
    };
    const BTF: Features = Features {
        btf_args: true,
        arg_n: true,
    };

    #[test]
    fn commands_for_kprobes_and_kretprobes() {
        let s = ProbeSpec::new(ProbeKind::Entry, "do_sys_open")
            .unwrap()
            .arg("dfd=%di:s32", BASIC)
            .unwrap()
            .arg("name=+0(%si):string", BASIC)
            .unwrap()
            .arg("$comm", BASIC)
            .unwrap();
        assert_eq!(
            s.command(),
            "p:modkit/p_do_sys_open_0 do_sys_open dfd=%di:s32 name=+0(%si):string $comm"
        );
        let r = ProbeSpec::new(ProbeKind::Return { maxactive: Some(8) }, "mk:foo.isra.0")
            .unwrap()
            .event("ret")
            .unwrap()
            .group("g1")
            .unwrap()
            .arg("rv=$retval:x64", BASIC)
            .unwrap();
        assert_eq!(r.command(), "r8:g1/ret mk:foo.isra.0 rv=$retval:x64");
        let a = ProbeSpec::new(ProbeKind::Entry, "0xffffffff81000000").unwrap();
        assert_eq!(
            a.command(),
            "p:modkit/p_0xffffffff81000000 0xffffffff81000000"
        );
        assert_eq!(
            ProbeSpec::new(ProbeKind::Entry, "vfs_read+16")
                .unwrap()
                .event,
            "p_vfs_read_16"
        );
        assert_eq!(remove_command("modkit", "x"), "-:modkit/x");
    }

    #[test]
    fn every_fetch_form_is_accepted() {
        let ret = ProbeKind::Return { maxactive: None };
        for a in [
            "%ax",
            "%orig_ax",
            "x=%di:u8",
            "@0xffffffff81000000",
            "@jiffies",
            "@jiffies+8:u64",
            "@sym-4",
            "$stack",
            "$stack3",
            "$comm",
            "$arg1",
            "$arg6:x32",
            "+0(%di):string",
            "+8(+0(%di)):u32",
            "-8(%sp):s64",
            "+u0(%di):ustring",
            "\\123",
            "\\-4",
            "\\\"txt\"",
            "v=%di:b4@2/32",
            "a=+0(%dx):u8[4]",
            "c=+0(%dx):char",
            "s=%ip:symbol",
            "s=+0(%di):symstr",
            "n=%di:x16[2]",
        ] {
            FetchArg::parse(a, ProbeKind::Entry, BASIC).unwrap_or_else(|e| panic!("{a}: {e}"));
        }
        FetchArg::parse("$retval:s64", ret, BASIC).unwrap();
        for a in [
            "filename",
            "file->f_flags",
            "$arg*",
            "x=p->a.b:u32",
            "$retval->f",
        ] {
            FetchArg::parse(a, ret, BTF).unwrap_or_else(|e| panic!("{a}: {e}"));
        }
    }

    #[test]
    fn bad_fetch_args_say_what_is_wrong() {
        let e = |a: &str, k: ProbeKind, f: Features| FetchArg::parse(a, k, f).unwrap_err().0;
        let p = ProbeKind::Entry;
        assert!(e("%rdi", p, BASIC).contains("the kernel names it %di"));
        assert!(e("$retval", p, BASIC).contains("only for a return probe"));
        assert!(e("$arg0", p, BASIC).contains("count from $arg1"));
        assert!(e("$foo", p, BASIC).contains("unknown variable $foo"));
        assert!(e("filename", p, BASIC).contains("no BTF argument names"));
        assert!(e("$arg*", p, BASIC).contains("needs BTF"));
        assert!(e("x=%di:u7", p, BASIC).contains("unknown type 'u7'"));
        assert!(e("x=%di:b9@0/8", p, BASIC).contains("bitfield"));
        assert!(e("x=%di:u8[65]", p, BASIC).contains("1..64"));
        assert!(e("x=%di:string", p, BASIC).contains("+0(%di):string"));
        assert!(e("1x=%di", p, BASIC).contains("argument name"));
        assert!(e("+z(%di)", p, BASIC).contains("dereference"));
        assert!(e("+0(%rxx)", p, BASIC).contains("unknown register"));
        assert!(e("what?", p, BASIC).contains("not a fetch argument"));
        let dup = ProbeSpec::new(p, "f").unwrap().arg("a=%di", BASIC).unwrap();
        assert!(dup
            .arg("a=%si", BASIC)
            .unwrap_err()
            .0
            .contains("two arguments"));
    }

    #[test]
    fn bad_points_and_names() {
        assert!(ProbeSpec::new(ProbeKind::Return { maxactive: None }, "f+4").is_err());
        assert!(ProbeSpec::new(ProbeKind::Entry, "f+x").is_err());
        assert!(ProbeSpec::new(ProbeKind::Entry, "0xzz").is_err());
        assert!(ProbeSpec::new(ProbeKind::Entry, "a b").is_err());
        assert!(ProbeSpec::new(ProbeKind::Entry, "f")
            .unwrap()
            .event("a-b")
            .is_err());
        let long = "x".repeat(64);
        assert!(ProbeSpec::new(ProbeKind::Entry, "f")
            .unwrap()
            .group(&long)
            .is_err());
        assert_eq!(
            ProbePoint::parse("mod:sym+0x10").unwrap(),
            ProbePoint::Symbol {
                module: Some("mod".into()),
                name: "sym".into(),
                offset: 16
            }
        );
    }
}
