//! Module parameters: their types (`parmtype=NAME:TYPE` in `.modinfo`, or
//! `modules.builtin.modinfo` for built-ins), their values and permissions in
//! `/sys/module/MODULE/parameters/`, and whether a value would be accepted.
//!
//! [`ParamType::check`] applies the kernel's own parsing rules for each
//! standard type, so that a bad value is refused with a reason before the
//! kernel answers a bare `EINVAL`/`ERANGE`:
//!
//! - integers (`byte` `short` `ushort` `int` `uint` `long` `ulong` `ullong`
//!   `hexint`) as `kstrto*(value, 0)`: an optional `+` (and `-` for the
//!   signed types), then decimal, `0x` hex or `0` octal digits, at most one
//!   trailing newline, nothing else, and the value in the type's range;
//! - `bool`/`invbool` as `kstrtobool`: the first character `y Y 1 n N 0`
//!   (and `t T f F` since 6.1's kstrtobool), or `on`/`off` in any case;
//!   nothing else is looked at;
//! - `charp`: at most 1024 bytes (`param_set_charp`);
//! - `string` (`module_param_string`): its buffer size is not published, so
//!   any value is passed on;
//! - `array of T`: comma-separated elements, each checked as `T`, at most
//!   the array's capacity when it is known.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// The type of a parameter as `parmtype` names it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ParamType {
    /// `byte`: 0..=255.
    Byte,
    /// `short`: i16.
    Short,
    /// `ushort`: u16.
    UShort,
    /// `int`: i32.
    Int,
    /// `uint`: u32.
    UInt,
    /// `long`: i64 on 64-bit kernels.
    Long,
    /// `ulong`: u64 on 64-bit kernels.
    ULong,
    /// `ullong`: u64.
    ULLong,
    /// `hexint`: u32, shown in hex.
    HexInt,
    /// `bool`.
    Bool,
    /// `invbool`: a bool stored inverted.
    InvBool,
    /// `charp`: a string the kernel allocates (at most 1024 bytes).
    Charp,
    /// `string`: a fixed-size buffer (`module_param_string`).
    String,
    /// `array of T`.
    Array(Box<ParamType>),
    /// A type with its own parser (`module_param_cb`), named as the module
    /// names it; values are passed on unchecked.
    Custom(String),
}

/// The longest `charp` value the kernel takes (`param_set_charp`).
pub const CHARP_MAX: usize = 1024;

impl ParamType {
    /// The type `parmtype` names (`int`, `array of int`, ...).
    pub fn parse(name: &str) -> ParamType {
        if let Some(elem) = name.strip_prefix("array of ") {
            return ParamType::Array(Box::new(ParamType::parse(elem)));
        }
        match name {
            "byte" => ParamType::Byte,
            "short" => ParamType::Short,
            "ushort" => ParamType::UShort,
            "int" => ParamType::Int,
            "uint" => ParamType::UInt,
            "long" => ParamType::Long,
            "ulong" => ParamType::ULong,
            "ullong" => ParamType::ULLong,
            "hexint" => ParamType::HexInt,
            "bool" => ParamType::Bool,
            "invbool" => ParamType::InvBool,
            "charp" => ParamType::Charp,
            "string" => ParamType::String,
            other => ParamType::Custom(other.to_string()),
        }
    }

    /// The integer range of an integer type.
    pub fn range(&self) -> Option<(i128, i128)> {
        Some(match self {
            ParamType::Byte => (0, u8::MAX as i128),
            ParamType::Short => (i16::MIN as i128, i16::MAX as i128),
            ParamType::UShort => (0, u16::MAX as i128),
            ParamType::Int => (i32::MIN as i128, i32::MAX as i128),
            ParamType::UInt | ParamType::HexInt => (0, u32::MAX as i128),
            ParamType::Long => (i64::MIN as i128, i64::MAX as i128),
            ParamType::ULong | ParamType::ULLong => (0, u64::MAX as i128),
            _ => return None,
        })
    }

    /// Whether the value would be accepted, as the kernel parses this type;
    /// `capacity` is an array's number of elements when known. The error
    /// says why not.
    pub fn check(&self, value: &str, capacity: Option<usize>) -> std::result::Result<(), String> {
        match self {
            ParamType::Bool | ParamType::InvBool => {
                parse_bool(value).map(|_| ()).ok_or_else(|| {
                    format!("'{value}' is not a bool (y, n, 1, 0, on, off, true, false)")
                })
            }
            ParamType::Charp => {
                if value.len() > CHARP_MAX {
                    Err(format!(
                        "{} bytes is longer than a charp takes ({CHARP_MAX})",
                        value.len()
                    ))
                } else {
                    Ok(())
                }
            }
            ParamType::String | ParamType::Custom(_) => Ok(()),
            ParamType::Array(elem) => {
                let elements: Vec<&str> = value
                    .strip_suffix('\n')
                    .unwrap_or(value)
                    .split(',')
                    .collect();
                if let Some(cap) = capacity {
                    if elements.len() > cap {
                        return Err(format!(
                            "{} elements, the array holds at most {cap}",
                            elements.len()
                        ));
                    }
                }
                for (i, e) in elements.iter().enumerate() {
                    elem.check(e, None)
                        .map_err(|why| format!("element {}: {why}", i + 1))?;
                }
                Ok(())
            }
            int => {
                let (min, max) = int.range().unwrap_or((0, 0));
                let signed = min < 0;
                match parse_kernel_integer(value, signed) {
                    None => Err(format!(
                        "'{value}' is not {} integer",
                        if signed { "an" } else { "an unsigned" }
                    )),
                    Some(v) if v < min || v > max => {
                        Err(format!("{value} is out of range {min}..={max}"))
                    }
                    Some(_) => Ok(()),
                }
            }
        }
    }
}

impl std::fmt::Display for ParamType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let name = match self {
            ParamType::Byte => "byte",
            ParamType::Short => "short",
            ParamType::UShort => "ushort",
            ParamType::Int => "int",
            ParamType::UInt => "uint",
            ParamType::Long => "long",
            ParamType::ULong => "ulong",
            ParamType::ULLong => "ullong",
            ParamType::HexInt => "hexint",
            ParamType::Bool => "bool",
            ParamType::InvBool => "invbool",
            ParamType::Charp => "charp",
            ParamType::String => "string",
            ParamType::Array(e) => return write!(f, "array of {e}"),
            ParamType::Custom(n) => n,
        };
        f.write_str(name)
    }
}

/// `kstrtobool`: the value a bool parameter takes from this text, `None`
/// when the kernel refuses it. Only the first one or two characters count.
pub fn parse_bool(s: &str) -> Option<bool> {
    let b = s.as_bytes();
    match b.first()? {
        b'y' | b'Y' | b't' | b'T' | b'1' => Some(true),
        b'n' | b'N' | b'f' | b'F' | b'0' => Some(false),
        b'o' | b'O' => match b.get(1)? {
            b'n' | b'N' => Some(true),
            b'f' | b'F' => Some(false),
            _ => None,
        },
        _ => None,
    }
}

/// `kstrtoull`/`kstrtoll` with base 0: the number, `None` when the text is
/// not one (or does not fit 64 bits). `signed` allows a leading `-`.
pub fn parse_kernel_integer(s: &str, signed: bool) -> Option<i128> {
    let (negative, digits) = match s.strip_prefix('-') {
        Some(rest) if signed => (true, rest),
        Some(_) => return None,
        // kstrtoull skips one '+'; after a '-' none is allowed.
        None => (false, s.strip_prefix('+').unwrap_or(s)),
    };
    let digits = digits.strip_suffix('\n').unwrap_or(digits);
    let b = digits.as_bytes();
    let (radix, body) = if b.first() == Some(&b'0') {
        if matches!(b.get(1), Some(b'x' | b'X')) && b.get(2).is_some_and(|c| c.is_ascii_hexdigit())
        {
            (16, &digits[2..])
        } else {
            (8, digits)
        }
    } else {
        (10, digits)
    };
    if body.is_empty() || !body.chars().all(|c| c.is_digit(radix)) {
        return None;
    }
    let magnitude = u64::from_str_radix(body, radix).ok()? as i128;
    if negative {
        // kstrtoll: the magnitude may be at most 2^63.
        (magnitude <= 1i128 << 63).then_some(-magnitude)
    } else {
        Some(magnitude)
    }
}

/// One parameter of a module.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Param {
    /// The module's name.
    pub module: String,
    /// The parameter's name.
    pub name: String,
    /// Its type, when the module's `parmtype` says it.
    pub kind: Option<ParamType>,
    /// Its description (`parm=NAME:TEXT`), empty when none.
    pub description: String,
    /// The permission bits of its sysfs file; `None` when it has none (a
    /// parameter with permission 0, or a module not loaded).
    pub mode: Option<u32>,
    /// Its current value (the sysfs file without the newline), `None` when
    /// unreadable.
    pub value: Option<String>,
    /// For an array, how many elements it holds at most, when the module
    /// file told ([`crate::elf::Elf::param_array_capacities`]).
    pub capacity: Option<usize>,
}

impl Param {
    /// Whether root may write it (a sysfs file with some write bit).
    pub fn writable(&self) -> bool {
        self.mode.is_some_and(|m| m & 0o222 != 0)
    }
}

/// The `parm` and `parmtype` entries of `.modinfo` strings (`key=value`):
/// (name, type, description) per parameter, in first-seen order.
pub fn declared(modinfo: &[(String, String)]) -> Vec<(String, Option<ParamType>, String)> {
    let mut out: Vec<(String, Option<ParamType>, String)> = Vec::new();
    for (key, value) in modinfo {
        let is_type = match key.as_str() {
            "parmtype" => true,
            "parm" => false,
            _ => continue,
        };
        let Some((name, rest)) = value.split_once(':') else {
            continue;
        };
        let i = match out.iter().position(|p| p.0 == name) {
            Some(i) => i,
            None => {
                out.push((name.to_string(), None, String::new()));
                out.len() - 1
            }
        };
        if is_type {
            out[i].1 = Some(ParamType::parse(rest));
        } else {
            out[i].2 = rest.to_string();
        }
    }
    out
}

/// The sysfs directory of a loaded module's parameters.
pub fn parameters_dir(sys_module: &Path, module: &str) -> PathBuf {
    sys_module.join(module).join("parameters")
}

/// The parameters of `module`: those it declares (`modinfo`, possibly
/// empty) joined with those its sysfs directory shows (`sys_module` is
/// `/sys/module` or a copy), by name.
pub fn module_params(sys_module: &Path, module: &str, modinfo: &[(String, String)]) -> Vec<Param> {
    let mut out: Vec<Param> = declared(modinfo)
        .into_iter()
        .map(|(name, kind, description)| Param {
            module: module.to_string(),
            name,
            kind,
            description,
            mode: None,
            value: None,
            capacity: None,
        })
        .collect();
    let dir = parameters_dir(sys_module, module);
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .map(|rd| {
            rd.filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    for name in names {
        let path = dir.join(&name);
        let mode = std::fs::metadata(&path)
            .ok()
            .map(|m| m.permissions().mode() & 0o7777);
        let value = std::fs::read(&path).ok().map(|v| {
            let s = String::from_utf8_lossy(&v).into_owned();
            s.strip_suffix('\n').map(str::to_string).unwrap_or(s)
        });
        match out.iter_mut().find(|p| p.name == name) {
            Some(p) => {
                p.mode = mode;
                p.value = value;
            }
            None => out.push(Param {
                module: module.to_string(),
                name,
                kind: None,
                description: String::new(),
                mode,
                value,
                capacity: None,
            }),
        }
    }
    out
}

/// Why a value is not written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// The module has no such parameter in sysfs.
    NoSuchParameter,
    /// Its sysfs file has no write bit (mode given).
    ReadOnly(u32),
    /// The value does not parse as its type (the reason).
    BadValue(String),
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Refusal::NoSuchParameter => f.write_str("no such parameter in sysfs"),
            Refusal::ReadOnly(m) => write!(f, "read-only (mode {m:04o})"),
            Refusal::BadValue(why) => f.write_str(why),
        }
    }
}

/// Checks a new value for a parameter against its permissions and type
/// (and an array's capacity when known).
pub fn check_set(param: &Param, value: &str) -> std::result::Result<(), Refusal> {
    let Some(mode) = param.mode else {
        return Err(Refusal::NoSuchParameter);
    };
    if mode & 0o222 == 0 {
        return Err(Refusal::ReadOnly(mode));
    }
    if let Some(kind) = &param.kind {
        kind.check(value, param.capacity)
            .map_err(Refusal::BadValue)?;
    }
    Ok(())
}

/// Writes a checked value to the parameter's sysfs file (one `write(2)`,
/// as the kernel parses what one write brings). Errors carry the errno the
/// kernel answered.
pub fn write_value(sys_module: &Path, param: &Param, value: &str) -> Result<()> {
    let path = parameters_dir(sys_module, &param.module).join(&param.name);
    std::fs::write(&path, value.as_bytes()).map_err(|e| Error::io(e, path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers_as_kstrto_base_0() {
        let ok = |t: &str, v: &str| ParamType::parse(t).check(v, None).is_ok();
        // Decimal, hex, octal, signs, one trailing newline.
        assert!(ok("int", "42") && ok("int", "-42") && ok("int", "+42"));
        assert!(ok("int", "0x1f") && ok("int", "0X1F") && ok("int", "017"));
        assert!(ok("int", "7\n") && !ok("int", "7\n\n"));
        assert!(!ok("int", "") && !ok("int", "abc") && !ok("int", " 7") && !ok("int", "7 "));
        assert!(!ok("int", "08"), "0 starts octal");
        assert!(!ok("int", "0x"), "0x needs a hex digit");
        assert!(!ok("int", "-+1") && !ok("int", "--1") && !ok("int", "++1"));
        // Unsigned types refuse '-' outright, even -0.
        assert!(!ok("uint", "-0") && !ok("ulong", "-1") && ok("uint", "+0"));
        // Ranges.
        for (t, lo, hi, below, above) in [
            ("byte", "0", "255", "-1", "256"),
            ("short", "-32768", "32767", "-32769", "32768"),
            ("ushort", "0", "65535", "-1", "65536"),
            (
                "int",
                "-2147483648",
                "2147483647",
                "-2147483649",
                "2147483648",
            ),
            ("uint", "0", "4294967295", "-1", "4294967296"),
            ("hexint", "0", "0xffffffff", "-1", "0x100000000"),
            (
                "long",
                "-9223372036854775808",
                "9223372036854775807",
                "-9223372036854775809",
                "9223372036854775808",
            ),
            (
                "ulong",
                "0",
                "18446744073709551615",
                "-1",
                "18446744073709551616",
            ),
            (
                "ullong",
                "0",
                "0xffffffffffffffff",
                "-1",
                "0x10000000000000000",
            ),
        ] {
            assert!(ok(t, lo) && ok(t, hi), "{t} bounds");
            assert!(!ok(t, below) && !ok(t, above), "{t} beyond bounds");
        }
        assert_eq!(
            ParamType::Byte.check("256", None).unwrap_err(),
            "256 is out of range 0..=255"
        );
    }

    #[test]
    fn bools_as_kstrtobool() {
        for v in [
            "y", "Y", "1", "yes", "t", "True", "on", "ON", "1junk", "y\n",
        ] {
            assert_eq!(parse_bool(v), Some(true), "{v}");
        }
        for v in ["n", "N", "0", "no", "f", "false", "off", "oFF"] {
            assert_eq!(parse_bool(v), Some(false), "{v}");
        }
        for v in ["", "2", "o", "ox", "x", " y", "-1"] {
            assert_eq!(parse_bool(v), None, "{v}");
        }
        assert!(ParamType::InvBool.check("maybe", None).is_err());
    }

    #[test]
    fn charp_length_and_arrays() {
        assert!(ParamType::Charp.check(&"x".repeat(1024), None).is_ok());
        assert!(ParamType::Charp.check(&"x".repeat(1025), None).is_err());
        let arr = ParamType::parse("array of int");
        assert_eq!(arr.to_string(), "array of int");
        assert!(arr.check("1,2,3", Some(4)).is_ok());
        assert!(arr.check("1,2,3,4,5", Some(4)).is_err());
        assert_eq!(
            arr.check("1,x,3", None).unwrap_err(),
            "element 2: 'x' is not an integer"
        );
        assert!(arr.check("1,,3", None).is_err(), "an empty element");
        assert!(ParamType::parse("array of bool")
            .check("y,n,on", None)
            .is_ok());
        assert_eq!(ParamType::parse("mycb"), ParamType::Custom("mycb".into()));
    }

    #[test]
    fn declared_and_sysfs_joined() {
        let root = modkit_testkit::ScratchDir::new("params");
        let dir = root.join("mk/parameters");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("a"), "5\n").unwrap();
        std::fs::write(dir.join("ro"), "x\n").unwrap();
        std::fs::set_permissions(dir.join("a"), std::fs::Permissions::from_mode(0o644)).unwrap();
        std::fs::set_permissions(dir.join("ro"), std::fs::Permissions::from_mode(0o444)).unwrap();
        let info: Vec<(String, String)> = [
            ("parm", "a:the a"),
            ("parmtype", "a:int"),
            ("parmtype", "hidden:int"),
            ("license", "GPL"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let ps = module_params(root.path(), "mk", &info);
        let names: Vec<&str> = ps.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names, ["a", "hidden", "ro"]);
        assert_eq!(ps[0].value.as_deref(), Some("5"));
        assert_eq!(ps[0].description, "the a");
        assert_eq!(ps[0].mode, Some(0o644));
        assert!(ps[0].writable() && !ps[2].writable());
        assert_eq!(check_set(&ps[0], "7"), Ok(()));
        assert!(matches!(check_set(&ps[0], "x"), Err(Refusal::BadValue(_))));
        assert_eq!(check_set(&ps[1], "7"), Err(Refusal::NoSuchParameter));
        assert_eq!(check_set(&ps[2], "7"), Err(Refusal::ReadOnly(0o444)));
        write_value(root.path(), &ps[0], "7").unwrap();
        assert_eq!(std::fs::read_to_string(dir.join("a")).unwrap(), "7");
    }
}
