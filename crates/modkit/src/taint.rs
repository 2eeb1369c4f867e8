//! The kernel's taint flags: what `/proc/sys/kernel/tainted` and each
//! module's `/sys/module/NAME/taint` say, and which loaded module explains
//! which flag.
//!
//! The table is the kernel's (`taint_flags[]` in `kernel/panic.c`, bits
//! documented in `Documentation/admin-guide/tainted-kernels.rst`): bit 0 to
//! 18 as in 6.12, bit 19 (`J`, fwctl) since 6.15. Each flag has the letter
//! the kernel prints when it is set and the one it prints when it is clear
//! (`G` for bit 0, a space for the others), as in an oops's `Tainted:` line.
//! The flags a module can carry (`P F C O E K X T N`) appear in its sysfs
//! `taint` file; the others are events of the whole kernel (a warning, an
//! oops...) that no module explains.
//!
//! ```
//! use modkit::taint::Taint;
//! let t = Taint(4096 + 8192);
//! assert_eq!(t.letters(), "OE");
//! assert_eq!(t.kernel_string(), "Tainted: G           OE      ");
//! ```

use std::collections::BTreeMap;

use crate::error::{Error, Result};
use crate::loaded::KernelState;

/// One taint flag of the kernel's table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TaintFlag {
    /// Its bit in `/proc/sys/kernel/tainted`.
    pub bit: u32,
    /// The letter printed when the flag is set.
    pub letter: char,
    /// The character printed when it is clear (`G` for bit 0, else a space).
    pub clear: char,
    /// The kernel's name for it (`TAINT_` + this), e.g. `OOT_MODULE`.
    pub name: &'static str,
    /// What sets it, in a few words.
    pub meaning: &'static str,
    /// Whether a module can carry it (it then shows in the module's
    /// `/sys/module/NAME/taint` and in `/proc/modules`).
    pub per_module: bool,
}

const fn flag(
    bit: u32,
    letter: char,
    name: &'static str,
    meaning: &'static str,
    per_module: bool,
) -> TaintFlag {
    TaintFlag {
        bit,
        letter,
        clear: if bit == 0 { 'G' } else { ' ' },
        name,
        meaning,
        per_module,
    }
}

/// Every taint flag current kernels know, by bit (the same words as
/// `vm/run`'s table).
pub const FLAGS: [TaintFlag; 20] = [
    flag(
        0,
        'P',
        "PROPRIETARY_MODULE",
        "a proprietary module was loaded",
        true,
    ),
    flag(1, 'F', "FORCED_MODULE", "a module was force-loaded", true),
    flag(
        2,
        'S',
        "CPU_OUT_OF_SPEC",
        "the kernel runs on an out-of-specification system",
        false,
    ),
    flag(3, 'R', "FORCED_RMMOD", "a module was force-unloaded", false),
    flag(
        4,
        'M',
        "MACHINE_CHECK",
        "the processor reported a machine check",
        false,
    ),
    flag(
        5,
        'B',
        "BAD_PAGE",
        "a bad page was referenced or had unexpected flags",
        false,
    ),
    flag(6, 'U', "USER", "user space asked for the taint", false),
    flag(
        7,
        'D',
        "DIE",
        "the kernel died recently (an oops or BUG)",
        false,
    ),
    flag(
        8,
        'A',
        "OVERRIDDEN_ACPI_TABLE",
        "an ACPI table was overridden",
        false,
    ),
    flag(9, 'W', "WARN", "the kernel issued a warning", false),
    flag(10, 'C', "CRAP", "a staging driver was loaded", true),
    flag(
        11,
        'I',
        "FIRMWARE_WORKAROUND",
        "a workaround for a platform firmware bug is in use",
        false,
    ),
    flag(
        12,
        'O',
        "OOT_MODULE",
        "an externally-built (out-of-tree) module was loaded",
        true,
    ),
    flag(
        13,
        'E',
        "UNSIGNED_MODULE",
        "an unsigned module was loaded",
        true,
    ),
    flag(14, 'L', "SOFTLOCKUP", "a soft lockup occurred", false),
    flag(
        15,
        'K',
        "LIVEPATCH",
        "the kernel has been live-patched",
        true,
    ),
    flag(
        16,
        'X',
        "AUX",
        "an auxiliary (distribution-defined) taint",
        true,
    ),
    flag(
        17,
        'T',
        "RANDSTRUCT",
        "the kernel was built with the struct randomization plugin",
        true,
    ),
    flag(18, 'N', "TEST", "an in-kernel test was run", true),
    flag(
        19,
        'J',
        "FWCTL",
        "userspace used a mutating debug operation in fwctl",
        false,
    ),
];

/// The flag of a bit, `None` for a bit no kernel defines (yet).
pub fn flag_of_bit(bit: u32) -> Option<&'static TaintFlag> {
    FLAGS.get(bit as usize)
}

/// The flag a letter stands for when set (`O` → `OOT_MODULE`).
pub fn flag_of_letter(letter: char) -> Option<&'static TaintFlag> {
    FLAGS.iter().find(|f| f.letter == letter)
}

/// A taint value, as `/proc/sys/kernel/tainted` holds it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Taint(pub u64);

impl Taint {
    /// The bits set, lowest first.
    pub fn bits(self) -> impl Iterator<Item = u32> {
        (0..64).filter(move |b| self.0 >> b & 1 == 1)
    }

    /// The known flags set, by bit.
    pub fn flags(self) -> impl Iterator<Item = &'static TaintFlag> {
        self.bits().filter_map(flag_of_bit)
    }

    /// The set bits no flag of [`FLAGS`] names.
    pub fn unknown_bits(self) -> Vec<u32> {
        self.bits().filter(|&b| flag_of_bit(b).is_none()).collect()
    }

    /// The letters of the set flags, in bit order (`OE`); unknown bits are
    /// left out.
    pub fn letters(self) -> String {
        self.flags().map(|f| f.letter).collect()
    }

    /// What the kernel prints in an oops's first line: `Not tainted`, or
    /// `Tainted: ` and one character per flag of the table (its letter when
    /// set, `G` or a space when clear).
    pub fn kernel_string(self) -> String {
        if self.0 == 0 {
            return "Not tainted".to_string();
        }
        let mut s = String::from("Tainted: ");
        s.push_str(&self.flag_string());
        s
    }

    /// One character per flag of the table, as [`Taint::kernel_string`]
    /// prints after `Tainted: ` (and `kernel-chktaint` as its raw string).
    pub fn flag_string(self) -> String {
        FLAGS
            .iter()
            .map(|f| {
                if self.0 >> f.bit & 1 == 1 {
                    f.letter
                } else {
                    f.clear
                }
            })
            .collect()
    }

    /// Parses a value as the kernel prints it (decimal), or `0x`-prefixed
    /// hexadecimal; anything else (a sign, a letter, a value above 64 bits)
    /// is an error naming the text.
    pub fn parse(text: &str) -> Result<Taint> {
        let t = text.trim();
        let parsed = match t.strip_prefix("0x").or_else(|| t.strip_prefix("0X")) {
            Some(hex) if !hex.is_empty() && hex.bytes().all(|b| b.is_ascii_hexdigit()) => {
                u64::from_str_radix(hex, 16).ok()
            }
            Some(_) => None,
            None if !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit()) => t.parse().ok(),
            None => None,
        };
        parsed.map(Taint).ok_or_else(|| {
            Error::invalid(format!(
                "'{text}' is not a taint value (a non-negative integer below 2^64)"
            ))
        })
    }

    /// The flags of module taint letters (`OE`, a module's sysfs `taint`);
    /// letters that name no flag are returned apart.
    pub fn from_letters(letters: &str) -> (Taint, Vec<char>) {
        let mut value = 0u64;
        let mut unknown = Vec::new();
        for c in letters.chars().filter(|c| !c.is_whitespace()) {
            match flag_of_letter(c) {
                Some(f) => value |= 1 << f.bit,
                None => unknown.push(c),
            }
        }
        (Taint(value), unknown)
    }
}

/// Path of the running kernel's taint value, under a [`KernelState`]'s root.
pub const PROC_TAINTED: &str = "proc/sys/kernel/tainted";

/// Reads the kernel's taint value (`/proc/sys/kernel/tainted` under the
/// state's root).
pub fn read_kernel_taint(kernel: &KernelState) -> Result<Taint> {
    let path = kernel.root().join(PROC_TAINTED);
    let text = std::fs::read_to_string(&path).map_err(|e| Error::io(e, path.display()))?;
    Taint::parse(&text).map_err(|e| Error::invalid(format!("{}: {}", path.display(), e.detail())))
}

/// A loaded module's own taint.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ModuleTaint {
    /// The module's name.
    pub module: String,
    /// The flags of its `taint` file.
    pub taint: Taint,
    /// Letters of the file that name no flag.
    pub unknown_letters: Vec<char>,
}

/// One set flag of the kernel's value, with what explains it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FlagExplanation {
    /// The flag.
    pub flag: &'static TaintFlag,
    /// Loaded modules carrying it.
    pub modules: Vec<String>,
    /// Modules carrying it that `/sys/module` shows loaded but
    /// `/proc/modules` does not list (hidden: see [`unlisted_module_taints`]).
    pub unlisted_modules: Vec<String>,
}

impl FlagExplanation {
    /// A module flag that no loaded module carries (the module that set it
    /// was unloaded, or is hidden).
    pub fn unexplained(&self) -> bool {
        self.flag.per_module && self.modules.is_empty()
    }
}

/// The kernel's taint decoded and matched with the modules' own.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TaintReport {
    /// The value decoded.
    pub value: Taint,
    /// Each set known flag, by bit, with the loaded modules carrying it.
    pub flags: Vec<FlagExplanation>,
    /// Set bits no flag names.
    pub unknown_bits: Vec<u32>,
    /// Every loaded module whose `taint` file is not empty, in
    /// `/proc/modules` order.
    pub modules: Vec<ModuleTaint>,
    /// Tainted modules in `/sys/module` that `/proc/modules` does not list
    /// (empty unless [`TaintReport::with_unlisted`] was called).
    pub unlisted: Vec<ModuleTaint>,
}

impl TaintReport {
    /// Decodes `value` and matches it with the given module taints.
    pub fn new(value: Taint, modules: Vec<ModuleTaint>) -> TaintReport {
        let flags = value
            .flags()
            .map(|flag| FlagExplanation {
                flag,
                modules: modules
                    .iter()
                    .filter(|m| m.taint.0 >> flag.bit & 1 == 1)
                    .map(|m| m.module.clone())
                    .collect(),
                unlisted_modules: Vec::new(),
            })
            .collect();
        TaintReport {
            value,
            flags,
            unknown_bits: value.unknown_bits(),
            modules,
            unlisted: Vec::new(),
        }
    }

    /// The same report with the tainted modules `/proc/modules` does not
    /// list, matched with the flags too.
    pub fn with_unlisted(mut self, unlisted: Vec<ModuleTaint>) -> TaintReport {
        for f in &mut self.flags {
            f.unlisted_modules = unlisted
                .iter()
                .filter(|m| m.taint.0 >> f.flag.bit & 1 == 1)
                .map(|m| m.module.clone())
                .collect();
        }
        self.unlisted = unlisted;
        self
    }
}

/// The tainted modules whose `/sys/module/NAME` has an `initstate` (a
/// loaded module's) but that are not in `listed` (the names of
/// `/proc/modules`): a module that took itself off the kernel's module
/// list keeps its sysfs entry and its taint. Sorted by name.
pub fn unlisted_module_taints(kernel: &KernelState, listed: &[String]) -> Vec<ModuleTaint> {
    let dir = kernel.root().join("sys/module");
    let Ok(rd) = std::fs::read_dir(&dir) else {
        return Vec::new();
    };
    let mut names: Vec<String> = rd
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| !listed.contains(n) && dir.join(n).join("initstate").exists())
        .collect();
    names.sort();
    module_taints(kernel, &names)
}

/// The taint of every module in `names` (`/sys/module/NAME/taint`), those
/// with an empty file left out.
pub fn module_taints(kernel: &KernelState, names: &[String]) -> Vec<ModuleTaint> {
    names
        .iter()
        .filter_map(|name| {
            let letters = kernel.taint(name);
            if letters.is_empty() {
                return None;
            }
            let (taint, unknown_letters) = Taint::from_letters(&letters);
            Some(ModuleTaint {
                module: name.clone(),
                taint,
                unknown_letters,
            })
        })
        .collect()
}

/// Counts of modules per flag letter, for summaries (`O` → 2).
pub fn letter_counts(modules: &[ModuleTaint]) -> BTreeMap<char, usize> {
    let mut counts = BTreeMap::new();
    for m in modules {
        for f in m.taint.flags() {
            *counts.entry(f.letter).or_insert(0) += 1;
        }
    }
    counts
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_matches_the_kernel_bit_numbers() {
        for (i, f) in FLAGS.iter().enumerate() {
            assert_eq!(f.bit as usize, i);
        }
        let letters: String = FLAGS.iter().map(|f| f.letter).collect();
        assert_eq!(letters, "PFSRMBUDAWCIOELKXTNJ");
        let module: String = FLAGS
            .iter()
            .filter(|f| f.per_module)
            .map(|f| f.letter)
            .collect();
        // kernel/panic.c: the flags with module=true
        assert_eq!(module, "PFCOEKXTN");
    }

    #[test]
    fn strings_as_the_kernel_prints_them() {
        assert_eq!(Taint(0).kernel_string(), "Not tainted");
        assert_eq!(Taint(1).flag_string(), "P                   ");
        assert_eq!(Taint(512).flag_string(), "G        W          ");
        assert_eq!(Taint(4096 | 8192).letters(), "OE");
        assert_eq!(Taint(1 << 40 | 1).unknown_bits(), vec![40]);
        assert_eq!(Taint(1 << 40 | 1).letters(), "P");
    }

    #[test]
    fn parses_values() {
        assert_eq!(Taint::parse("12288\n").unwrap(), Taint(12288));
        assert_eq!(Taint::parse("0x3000").unwrap(), Taint(12288));
        assert_eq!(
            Taint::parse("18446744073709551615").unwrap(),
            Taint(u64::MAX)
        );
        for bad in ["", "-1", "12a", "0x", "18446744073709551616", "1 2"] {
            assert!(Taint::parse(bad).is_err(), "{bad:?}");
        }
        assert_eq!(Taint::from_letters("OE\n"), (Taint(12288), vec![]));
        assert_eq!(Taint::from_letters("OZ"), (Taint(4096), vec!['Z']));
    }

    #[test]
    fn report_names_modules_and_unexplained_flags() {
        let root = modkit_testkit::ScratchDir::new("taint");
        std::fs::create_dir_all(root.join("proc/sys/kernel")).unwrap();
        std::fs::write(root.join("proc/sys/kernel/tainted"), "13824\n").unwrap();
        for (m, t) in [("mk_a", "OE\n"), ("mk_b", "O\n"), ("clean", "\n")] {
            let d = root.join("sys/module").join(m);
            std::fs::create_dir_all(&d).unwrap();
            std::fs::write(d.join("taint"), t).unwrap();
        }
        let k = KernelState::with_root(root.path());
        let value = read_kernel_taint(&k).unwrap();
        assert_eq!(value.letters(), "WCOE");
        let names: Vec<String> = ["mk_a", "mk_b", "clean"].map(String::from).to_vec();
        let r = TaintReport::new(value, module_taints(&k, &names));
        assert_eq!(r.modules.len(), 2);
        let by: Vec<(char, Vec<String>, bool)> = r
            .flags
            .iter()
            .map(|f| (f.flag.letter, f.modules.clone(), f.unexplained()))
            .collect();
        assert_eq!(
            by,
            vec![
                ('W', vec![], false),
                ('C', vec![], true),
                ('O', vec!["mk_a".into(), "mk_b".into()], false),
                ('E', vec!["mk_a".into()], false),
            ]
        );
        // a module with a sysfs entry that /proc/modules would not list
        std::fs::create_dir_all(root.join("sys/module/rk")).unwrap();
        std::fs::write(root.join("sys/module/rk/initstate"), "live\n").unwrap();
        std::fs::write(root.join("sys/module/rk/taint"), "C\n").unwrap();
        std::fs::write(root.join("sys/module/mk_a/initstate"), "live\n").unwrap();
        let unlisted = unlisted_module_taints(&k, &names);
        assert_eq!(unlisted.len(), 1);
        let r = r.with_unlisted(unlisted);
        assert_eq!(r.flags[1].flag.letter, 'C');
        assert_eq!(r.flags[1].unlisted_modules, vec!["rk".to_string()]);
        assert!(
            r.flags[1].unexplained(),
            "a hidden module does not explain it"
        );
        assert!(r.flags[2].unlisted_modules.is_empty());
        std::fs::write(root.join("proc/sys/kernel/tainted"), "x\n").unwrap();
        assert!(read_kernel_taint(&k).is_err());
    }
}
