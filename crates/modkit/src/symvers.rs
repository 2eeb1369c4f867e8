//! `Module.symvers`: the symbols a kernel build exports, as modpost writes
//! them beside the kernel (`/lib/modules/VERSION/build/Module.symvers`).
//!
//! One line per export, tab-separated:
//! `CRC SYMBOL MODULE EXPORT_TYPE NAMESPACE` (since 5.10), with the older
//! forms read too: `CRC SYMBOL NAMESPACE MODULE EXPORT_TYPE` (5.4 to 5.9,
//! recognised by the export type in the last column), `CRC SYMBOL MODULE
//! EXPORT_TYPE` (before 5.4) and `CRC SYMBOL MODULE` (before 2.6.30).
//! `MODULE` is `vmlinux` for the core kernel, otherwise the module's path
//! in the build tree without `.ko` (`drivers/dma/idxd/idxd_bus`).

use std::collections::HashMap;
use std::path::Path;

use crate::error::{Error, Result};

/// One exported symbol.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Export {
    /// The symbol name.
    pub name: String,
    /// Its CRC; `None` when the kernel was built without modversions (the
    /// file then says `0x00000000`).
    pub crc: Option<u64>,
    /// The providing module's name (`-` turned into `_`), `vmlinux` for the
    /// core kernel.
    pub module: String,
    /// How it was exported: `EXPORT_SYMBOL`, `EXPORT_SYMBOL_GPL`, ...
    /// (empty in the oldest format).
    pub export_type: String,
    /// Its namespace, empty when none.
    pub namespace: String,
}

impl Export {
    /// Whether only GPL-compatible modules may use it (`EXPORT_SYMBOL_GPL`).
    pub fn gpl_only(&self) -> bool {
        self.export_type == "EXPORT_SYMBOL_GPL"
    }

    /// Whether the core kernel provides it.
    pub fn is_core(&self) -> bool {
        self.module == "vmlinux"
    }
}

/// A parsed `Module.symvers`, in file order, indexed by name.
#[derive(Clone, Debug, Default)]
pub struct Symvers {
    exports: Vec<Export>,
    by_name: HashMap<String, usize>,
}

/// A line of `Module.symvers` that is none of its forms.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SymversError {
    /// Its number, from 1.
    pub line: usize,
    /// What is wrong with it.
    pub reason: &'static str,
}

impl std::fmt::Display for SymversError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "line {}: {}", self.line, self.reason)
    }
}

impl std::error::Error for SymversError {}

/// The module name a `Module.symvers` module column stands for:
/// `drivers/net/foo-bar` → `foo_bar`, `vmlinux` → `vmlinux`.
pub fn module_name_of(column: &str) -> String {
    let base = column.rsplit('/').next().unwrap_or(column);
    base.replace('-', "_")
}

fn parse_crc(s: &str) -> Option<u64> {
    let hex = s.strip_prefix("0x").or_else(|| s.strip_prefix("0X"))?;
    if hex.is_empty() || hex.len() > 16 {
        return None;
    }
    u64::from_str_radix(hex, 16).ok()
}

impl Symvers {
    /// Reads a file; errors name the file and, for bad content, the line.
    pub fn read(path: impl AsRef<Path>) -> Result<Symvers> {
        let path = path.as_ref();
        let data = std::fs::read(path).map_err(|e| Error::io(e, path.display()))?;
        Symvers::parse(&data).map_err(|e| Error::invalid(format!("{}: {e}", path.display())))
    }

    /// Parses the text. Empty lines are skipped; a later line for a name
    /// already seen replaces the earlier one in the index (as modpost keeps
    /// the last), both stay in [`Symvers::exports`].
    pub fn parse(data: &[u8]) -> std::result::Result<Symvers, SymversError> {
        let text = std::str::from_utf8(data).map_err(|e| SymversError {
            line: data[..e.valid_up_to()]
                .iter()
                .filter(|&&b| b == b'\n')
                .count()
                + 1,
            reason: "not UTF-8",
        })?;
        let mut out = Symvers::default();
        for (n, line) in text.lines().enumerate() {
            if line.is_empty() {
                continue;
            }
            let bad = |reason| SymversError {
                line: n + 1,
                reason,
            };
            let cols: Vec<&str> = line.split('\t').collect();
            let crc = parse_crc(cols[0]).ok_or(bad("the first column is not a 0x CRC"))?;
            let (name, module, export_type, namespace) = match cols.len() {
                3 => (cols[1], cols[2], "", ""),
                4 => (cols[1], cols[2], cols[3], ""),
                5 if cols[4].starts_with("EXPORT_") => (cols[1], cols[3], cols[4], cols[2]),
                5 => (cols[1], cols[2], cols[3], cols[4]),
                _ => return Err(bad("not 3 to 5 tab-separated columns")),
            };
            if name.is_empty() || module.is_empty() {
                return Err(bad("empty symbol or module column"));
            }
            if !export_type.is_empty() && !export_type.starts_with("EXPORT_") {
                return Err(bad("the export type is not EXPORT_*"));
            }
            out.by_name.insert(name.to_string(), out.exports.len());
            out.exports.push(Export {
                name: name.to_string(),
                crc: (crc != 0).then_some(crc),
                module: module_name_of(module),
                export_type: export_type.to_string(),
                namespace: namespace.to_string(),
            });
        }
        Ok(out)
    }

    /// Every line's export, in file order.
    pub fn exports(&self) -> &[Export] {
        &self.exports
    }

    /// The export of this name (the last line naming it).
    pub fn get(&self, name: &str) -> Option<&Export> {
        self.by_name.get(name).map(|&i| &self.exports[i])
    }

    /// Whether the kernel was built with modversions (some CRC is not 0).
    pub fn has_crcs(&self) -> bool {
        self.exports.iter().any(|e| e.crc.is_some())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_every_form() {
        let s = Symvers::parse(
            b"0x4c9d28b0\tphys_base\tvmlinux\tEXPORT_SYMBOL\t\n\
              0xef1ca884\t__idxd_driver_register\tdrivers/dma/idxd/idxd_bus\tEXPORT_SYMBOL_GPL\tIDXD\n\
              0x12345678\told_ns\tFOO\tdrivers/x/old-mod\tEXPORT_SYMBOL\n\
              0x00000000\tnocrc\tvmlinux\tEXPORT_SYMBOL_GPL\n\
              \n\
              0x1\tancient\tfs/ext2/ext2\n",
        )
        .unwrap();
        assert_eq!(s.exports().len(), 5);
        let e = s.get("__idxd_driver_register").unwrap();
        assert_eq!(e.crc, Some(0xef1ca884));
        assert_eq!(e.module, "idxd_bus");
        assert!(e.gpl_only() && !e.is_core());
        assert_eq!(e.namespace, "IDXD");
        let old = s.get("old_ns").unwrap();
        assert_eq!(
            (old.module.as_str(), old.namespace.as_str()),
            ("old_mod", "FOO")
        );
        assert!(!old.gpl_only());
        let p = s.get("phys_base").unwrap();
        assert!(p.is_core() && p.namespace.is_empty());
        assert_eq!(s.get("nocrc").unwrap().crc, None);
        assert_eq!(s.get("ancient").unwrap().export_type, "");
        assert!(s.has_crcs());
        assert!(s.get("missing").is_none());
    }

    #[test]
    fn bad_lines_are_named() {
        for (text, line) in [
            (&b"phys_base\tvmlinux\n"[..], 1),
            (b"0x1\ta\tvmlinux\tEXPORT_SYMBOL\t\n0x2\tb\n", 2),
            (b"0x1\ta\tvmlinux\tWHATEVER\n", 1),
            (b"0xZZ\ta\tvmlinux\tEXPORT_SYMBOL\n", 1),
            (b"0x1\t\tvmlinux\tEXPORT_SYMBOL\n", 1),
            (b"0x1\ta\tb\tc\td\te\tf\n", 1),
            (b"0x1\ta\tvmlinux\n0x2\t\xff\tvmlinux\n", 2),
        ] {
            assert_eq!(Symvers::parse(text).unwrap_err().line, line, "{text:?}");
        }
    }
}
