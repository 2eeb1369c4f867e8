//! Whether a kernel would load a module file, and why not: the checks
//! `load_module()` makes, answered before loading from what user space can
//! read about the target kernel ([`KernelFacts`]).
//!
//! [`check`] returns a [`Verdict`]: one [`Finding`] per problem or notable
//! fact, each with a kind, a [`Severity`] and a sentence. Errors are what
//! makes the kernel refuse the module:
//!
//! - `vermagic`: the kernel compares the module's `vermagic=` with its own,
//!   from the first space on when the module carries symbol versions
//!   (`__versions`) and whole otherwise; a differing release alone is a
//!   warning then (the CRCs decide). No vermagic at all loads only with
//!   `CONFIG_MODULE_FORCE_LOAD`, tainting `F`.
//! - `layout`: the size of the module's `struct module`
//!   (`.gnu.linkonce.this_module`) against the kernel's, which the kernel
//!   checks first.
//! - `crc`: every `__versions` CRC against the exporting kernel's or
//!   module's (`Module.symvers`, else the exporting module file).
//! - `unresolved`: a needed (not weak) symbol nobody exports, or (running
//!   kernel) one whose providing module is not loaded, naming it.
//! - `gpl-only`: a GPL-only symbol used by a module whose license is not
//!   GPL-compatible (the kernel then does not find it).
//! - `namespace`: a symbol of a namespace the module does not import.
//! - `signature`: no signature while `module.sig_enforce` or lockdown
//!   demands one.
//! - `builtin`, `loaded`: the name is built in or already loaded.
//! - `blacklist` (warning): modprobe.d blacklists it (aliases skip it).
//! - `taint` (info): the taint letters loading it would set.

use std::cell::RefCell;
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

use crate::config::ModprobeConfig;
use crate::elf::{ModuleExport, SymbolBind};
use crate::error::{Error, Result};
use crate::module::Module;
use crate::resolve::{IndexKind, ModuleDir};
use crate::symvers::Symvers;

/// How much a finding matters.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    /// The kernel would refuse the module.
    Error,
    /// It would load, but something deserves attention.
    Warning,
    /// A fact (the taint it causes, the signer...).
    Info,
}

impl Severity {
    /// `error`, `warning` or `info`.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Info => "info",
        }
    }
}

/// One thing found about the module.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Finding {
    /// What was checked: `layout`, `vermagic`, `crc`, `unresolved`, `gpl-only`,
    /// `namespace`, `signature`, `builtin`, `loaded`, `blacklist`, `taint`.
    pub kind: &'static str,
    /// How much it matters.
    pub severity: Severity,
    /// One sentence, naming the symbol, module or value concerned.
    pub detail: String,
}

/// The verdict on one module file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Verdict {
    /// The module's name (as compiled into it).
    pub module: String,
    /// The findings, errors first, then in check order.
    pub findings: Vec<Finding>,
    /// The taint letters loading it would set (`O`, `E`, `P`, `C`, `N`, `F`).
    pub taint: String,
}

impl Verdict {
    /// Whether the kernel would load it (no error finding).
    pub fn loads(&self) -> bool {
        !self.findings.iter().any(|f| f.severity == Severity::Error)
    }

    /// The findings of one kind.
    pub fn of_kind<'a>(&'a self, kind: &'a str) -> impl Iterator<Item = &'a Finding> + 'a {
        self.findings.iter().filter(move |f| f.kind == kind)
    }
}

/// Who exports a symbol, as far as the facts tell.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Provider {
    /// `vmlinux` or the module's name.
    pub module: String,
    /// The symbol's CRC, when known.
    pub crc: Option<u64>,
    /// GPL-only, when known.
    pub gpl_only: Option<bool>,
    /// Its namespace (empty when none or unknown).
    pub namespace: String,
}

/// What is known of the target kernel.
pub struct KernelFacts {
    /// Its release (`uname -r`).
    pub release: String,
    /// Its module directory.
    pub moddir: ModuleDir,
    /// Its vermagic (from a module of its tree), when found.
    pub vermagic: Option<String>,
    /// The size of its `struct module` (the `.gnu.linkonce.this_module`
    /// section of its tree's modules), when found.
    pub struct_module_size: Option<usize>,
    /// Its `Module.symvers`, when found.
    pub symvers: Option<Symvers>,
    /// The loaded modules, when the target is the running kernel.
    pub loaded: Option<HashSet<String>>,
    /// The modprobe.d configuration (for blacklists).
    pub config: ModprobeConfig,
    /// `module.sig_enforce` (running kernel) or `CONFIG_MODULE_SIG_FORCE`.
    pub sig_enforce: Option<bool>,
    /// The lockdown mode (`none`, `integrity`, `confidentiality`), running
    /// kernel only.
    pub lockdown: Option<String>,
    /// `CONFIG_*` options from the kernel's config file, when found.
    pub kconfig: HashMap<String, String>,
    /// Built-in module names (`modules.builtin`).
    pub builtin: HashSet<String>,
    /// The running kernel's exports as `/proc/kallsyms` shows them
    /// (`__ksymtab_NAME`): name → (module, GPL-only when the addresses tell).
    pub kallsyms_exports: HashMap<String, (String, Option<bool>)>,
    exports_cache: RefCell<HashMap<String, Option<Vec<ModuleExport>>>>,
}

/// Where [`KernelFacts::gather`] looks.
#[derive(Clone, Debug, Default)]
pub struct FactsSource {
    /// A root directory the module tree lives under (`-b`).
    pub root: Option<PathBuf>,
    /// The release; `None` for the running kernel.
    pub release: Option<String>,
    /// `Module.symvers`; `None` for `MODDIR/build/Module.symvers`.
    pub symvers: Option<PathBuf>,
    /// Read the running system's state (loaded modules, sig_enforce,
    /// lockdown). Set when the target is the running kernel.
    pub running: bool,
}

fn read_trim(path: &Path) -> Option<String> {
    std::fs::read_to_string(path)
        .ok()
        .map(|s| s.trim_end().to_string())
}

impl KernelFacts {
    /// Gathers the facts. Errors only when the module directory cannot be
    /// named or an explicitly given `Module.symvers` cannot be read; other
    /// missing facts are left `None` and the checks needing them skipped.
    pub fn gather(src: &FactsSource) -> Result<KernelFacts> {
        let moddir = ModuleDir::for_kernel(src.root.as_deref(), src.release.as_deref())?;
        let release = moddir
            .dirname()
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let symvers = match &src.symvers {
            Some(p) => Some(Symvers::read(p)?),
            None => Symvers::read(moddir.dirname().join("build/Module.symvers")).ok(),
        };
        let root = src.root.clone().unwrap_or_else(|| PathBuf::from("/"));
        let mut kconfig = HashMap::new();
        if let Ok(text) =
            std::fs::read_to_string(root.join("boot").join(format!("config-{release}")))
        {
            for line in text.lines() {
                if let Some((k, v)) = line.split_once('=') {
                    if k.starts_with("CONFIG_") {
                        kconfig.insert(k.to_string(), v.to_string());
                    }
                }
            }
        }
        let builtin = std::fs::read_to_string(moddir.dirname().join("modules.builtin"))
            .map(|t| {
                t.lines()
                    .filter_map(|l| crate::kmod::path_to_modname(l.as_bytes()))
                    .map(crate::kmod::string_lossy)
                    .collect()
            })
            .unwrap_or_default();
        let log = crate::kmod::quiet;
        let (loaded, sig_enforce, lockdown, config) = if src.running {
            let state = crate::loaded::KernelState::new();
            let loaded = state.loaded_modules().ok().map(|v| v.into_iter().collect());
            let enforce =
                read_trim(Path::new("/sys/module/module/parameters/sig_enforce")).map(|s| s == "Y");
            let lockdown = read_trim(Path::new("/sys/kernel/security/lockdown")).and_then(|s| {
                let start = s.find('[')?;
                let end = s[start..].find(']')?;
                Some(s[start + 1..start + end].to_string())
            });
            let cmdline = crate::config::read_kernel_cmdline();
            let config = ModprobeConfig::load(moddir.dirname(), None, cmdline.as_deref(), &log);
            (loaded, enforce, lockdown, config)
        } else {
            let enforce = kconfig
                .get("CONFIG_MODULE_SIG_FORCE")
                .map(|v| v == "y")
                .or(kconfig.contains_key("CONFIG_MODULE_SIG").then_some(false));
            let paths: Vec<Vec<u8>> = crate::config::DEFAULT_CONFIG_PATHS
                .iter()
                .map(|p| {
                    let mut v = root.as_os_str().as_encoded_bytes().to_vec();
                    v.extend_from_slice(p.as_bytes());
                    v
                })
                .collect();
            let config = ModprobeConfig::load(moddir.dirname(), Some(&paths), None, &log);
            (None, enforce, None, config)
        };
        let mut facts = KernelFacts {
            release,
            moddir,
            vermagic: None,
            struct_module_size: None,
            symvers,
            loaded,
            config,
            sig_enforce,
            lockdown,
            kconfig,
            builtin,
            kallsyms_exports: if src.running {
                kallsyms_exports()
            } else {
                HashMap::new()
            },
            exports_cache: RefCell::new(HashMap::new()),
        };
        if let Some((magic, size)) = facts.tree_vermagic() {
            facts.vermagic = Some(magic);
            facts.struct_module_size = size;
        }
        Ok(facts)
    }

    /// The vermagic of the tree's first module in `modules.dep` that has
    /// one, and the size of its `struct module`.
    fn tree_vermagic(&self) -> Option<(String, Option<usize>)> {
        let dep = std::fs::read_to_string(self.moddir.dirname().join("modules.dep")).ok()?;
        for line in dep.lines().take(20) {
            let rel = line.split(':').next()?;
            let path = if rel.starts_with('/') {
                PathBuf::from(rel)
            } else {
                self.moddir.dirname().join(rel)
            };
            let Ok(m) = Module::open(&path) else { continue };
            if let Some(v) = modinfo_value(&m, "vermagic") {
                let size = m
                    .elf()
                    .ok()
                    .and_then(|e| e.section(".gnu.linkonce.this_module").map(<[u8]>::len));
                return Some((v, size));
            }
        }
        None
    }

    fn kconfig_is(&self, key: &str) -> Option<bool> {
        if self.kconfig.is_empty() {
            return None;
        }
        Some(self.kconfig.get(key).is_some_and(|v| v == "y"))
    }

    /// The exports of a module of the tree, read from its file once.
    fn module_exports(&self, module: &str) -> Option<Vec<ModuleExport>> {
        if let Some(hit) = self.exports_cache.borrow().get(module) {
            return hit.clone();
        }
        let found = self.moddir.search_moddep(module).and_then(|line| {
            let rel = line.split(':').next()?.to_string();
            let path = if rel.starts_with('/') {
                PathBuf::from(rel)
            } else {
                self.moddir.dirname().join(rel)
            };
            let m = Module::open(path).ok()?;
            let exports = m.elf().ok()?.exports().ok()?;
            Some(exports)
        });
        self.exports_cache
            .borrow_mut()
            .insert(module.to_string(), found.clone());
        found
    }

    /// Who exports `symbol`: `Module.symvers` first, then the tree's
    /// `modules.symbols` and the named module's own export tables.
    pub fn provider(&self, symbol: &str) -> Option<Provider> {
        if let Some(e) = self.symvers.as_ref().and_then(|s| s.get(symbol)) {
            return Some(Provider {
                module: e.module.clone(),
                crc: e.crc,
                gpl_only: (!e.export_type.is_empty()).then(|| e.gpl_only()),
                namespace: e.namespace.clone(),
            });
        }
        let indexed = self
            .moddir
            .index(IndexKind::Symbols)
            .and_then(|index| index.lookup(&format!("symbol:{symbol}")).ok().flatten());
        let Some(module) = indexed else {
            let (module, gpl_only) = self.kallsyms_exports.get(symbol)?;
            return Some(Provider {
                module: module.clone(),
                crc: None,
                gpl_only: *gpl_only,
                namespace: String::new(),
            });
        };
        let export = self
            .module_exports(&module)
            .and_then(|list| list.into_iter().find(|e| e.name == symbol));
        Some(match export {
            Some(e) => Provider {
                module,
                crc: e.crc,
                gpl_only: Some(e.gpl_only),
                namespace: e.namespace,
            },
            None => Provider {
                module,
                crc: None,
                gpl_only: None,
                namespace: String::new(),
            },
        })
    }
}

/// The exports `/proc/kallsyms` names: its `__ksymtab_NAME` symbols, the
/// core's GPL-only ones told apart by the `__start___ksymtab_gpl` ..
/// `__stop___ksymtab_gpl` range (when addresses are visible). Empty when
/// the table cannot be read.
fn kallsyms_exports() -> HashMap<String, (String, Option<bool>)> {
    let Ok(table) = crate::kallsyms::SymbolTable::running() else {
        return HashMap::new();
    };
    let addr = |n: &str| table.named(n).next().map(|s| s.address);
    let gpl_range = match (addr("__start___ksymtab_gpl"), addr("__stop___ksymtab_gpl")) {
        (Some(a), Some(b)) if !table.addresses_hidden() => Some(a..b),
        _ => None,
    };
    let mut out = HashMap::new();
    for s in table.symbols() {
        let Some(name) = s.name.strip_prefix("__ksymtab_") else {
            continue;
        };
        let (module, gpl) = match &s.module {
            Some(m) => (m.clone(), None),
            None => (
                "vmlinux".to_string(),
                gpl_range.as_ref().map(|r| r.contains(&s.address)),
            ),
        };
        out.entry(name.to_string()).or_insert((module, gpl));
    }
    out
}

fn modinfo_value(m: &Module, key: &str) -> Option<String> {
    let elf = m.elf().ok()?;
    let strings = elf.modinfo_strings().ok()?;
    strings.iter().find_map(|s| {
        let s = String::from_utf8_lossy(s);
        s.strip_prefix(key)
            .and_then(|r| r.strip_prefix('='))
            .map(str::to_string)
    })
}

/// Whether the kernel counts a `MODULE_LICENSE` as GPL-compatible
/// (`license_is_gpl_compatible`).
pub fn license_is_gpl_compatible(license: &str) -> bool {
    matches!(
        license,
        "GPL"
            | "GPL v2"
            | "GPL and additional rights"
            | "Dual BSD/GPL"
            | "Dual MIT/GPL"
            | "Dual MPL/GPL"
    )
}

/// The vermagic part the kernel compares (`same_magic`): from the first
/// space when the module has symbol versions, whole otherwise.
fn compared_magic(magic: &str, has_crcs: bool) -> &str {
    if has_crcs {
        magic.find(' ').map_or("", |i| &magic[i..])
    } else {
        magic
    }
}

/// The kernel's verdict on a module file for the kernel `facts` describe.
/// Errors only when the file is not a readable module (its errno as kmod's).
pub fn check(path: &Path, facts: &KernelFacts) -> Result<Verdict> {
    let m = Module::open(path)?;
    check_module(&m, facts)
}

/// [`check`] for a module already read.
pub fn check_module(m: &Module, facts: &KernelFacts) -> Result<Verdict> {
    let elf = m.elf()?;
    let info: Vec<(String, String)> = elf
        .modinfo_strings()
        .unwrap_or_default()
        .iter()
        .map(|s| {
            let s = String::from_utf8_lossy(s);
            match s.split_once('=') {
                Some((k, v)) => (k.to_string(), v.to_string()),
                None => (s.to_string(), String::new()),
            }
        })
        .collect();
    let get = |k: &str| {
        info.iter()
            .find(|(key, _)| key == k)
            .map(|(_, v)| v.as_str())
    };
    let name = elf
        .this_module_name()
        .map(|n| String::from_utf8_lossy(n).into_owned())
        .unwrap_or_else(|| m.name().to_string());
    let mut findings = Vec::new();
    let mut taint = String::new();
    let mut push = |kind, severity, detail: String| {
        findings.push(Finding {
            kind,
            severity,
            detail,
        })
    };

    // Name: built in, already loaded.
    if facts.builtin.contains(&name) {
        push(
            "builtin",
            Severity::Error,
            format!("{name} is built into the {} kernel", facts.release),
        );
    }
    if facts.loaded.as_ref().is_some_and(|l| l.contains(&name)) {
        push(
            "loaded",
            Severity::Error,
            format!("{name} is already loaded (the kernel answers File exists)"),
        );
    }
    if facts.config.is_blacklisted(name.as_bytes()) {
        push(
            "blacklist",
            Severity::Warning,
            format!("{name} is blacklisted in modprobe.d: modprobe skips it when loading by alias"),
        );
    }

    // struct module: the kernel checks its size before anything else.
    let this_module = elf.section(".gnu.linkonce.this_module").map(<[u8]>::len);
    if let (Some(ours), Some(theirs)) = (this_module, facts.struct_module_size) {
        if ours != theirs {
            push(
                "layout",
                Severity::Error,
                format!(
                    "its struct module is {ours} bytes, the kernel's {theirs} (.gnu.linkonce.this_module section size must match the kernel's built struct module size)"
                ),
            );
        }
    }

    // vermagic.
    let versions = elf.versions().ok();
    let has_crcs = versions.is_some();
    match (get("vermagic"), facts.vermagic.as_deref()) {
        (None, _) => {
            if facts.kconfig_is("CONFIG_MODULE_FORCE_LOAD") == Some(false) {
                push(
                    "vermagic",
                    Severity::Error,
                    "no vermagic: the kernel refuses it (no CONFIG_MODULE_FORCE_LOAD)".into(),
                );
            } else {
                push(
                    "vermagic",
                    Severity::Warning,
                    "no vermagic: loads only with CONFIG_MODULE_FORCE_LOAD, tainting the kernel (F)"
                        .into(),
                );
                taint.push('F');
            }
        }
        (Some(ours), Some(theirs)) => {
            if compared_magic(ours, has_crcs) != compared_magic(theirs, has_crcs) {
                push(
                    "vermagic",
                    Severity::Error,
                    format!("version magic '{ours}' should be '{theirs}'"),
                );
            } else if ours != theirs {
                push(
                    "vermagic",
                    Severity::Warning,
                    format!(
                        "built for '{ours}', the kernel is '{theirs}': the release differs (the kernel checks symbol CRCs instead)"
                    ),
                );
            }
        }
        (Some(_), None) => push(
            "vermagic",
            Severity::Info,
            format!(
                "the vermagic of {} is unknown (no module in its tree)",
                facts.release
            ),
        ),
    }

    // Licence and module flags.
    let license = get("license");
    let gpl_ok = license.is_some_and(license_is_gpl_compatible);
    if !gpl_ok {
        taint.push('P');
    }
    if get("intree") != Some("Y") {
        taint.push('O');
    }
    if get("staging") == Some("Y") {
        taint.push('C');
    }
    if get("test") == Some("Y") {
        taint.push('N');
    }

    // Signature.
    let signed = m.signature().is_some();
    let lockdown = facts
        .lockdown
        .as_deref()
        .filter(|l| *l == "integrity" || *l == "confidentiality");
    if !signed {
        if facts.sig_enforce == Some(true) {
            push(
                "signature",
                Severity::Error,
                "unsigned, and module.sig_enforce requires a signature (Key was rejected by service)"
                    .into(),
            );
        } else if let Some(mode) = lockdown {
            push(
                "signature",
                Severity::Error,
                format!("unsigned, and lockdown ({mode}) requires a signature (Operation not permitted)"),
            );
        } else if facts.kconfig_is("CONFIG_MODULE_SIG") != Some(false) {
            taint.push('E');
        }
    } else if let Some(sig) = m.signature() {
        push(
            "signature",
            Severity::Info,
            format!(
                "signed by '{}' (whether the kernel trusts the key is decided when loading)",
                String::from_utf8_lossy(&sig.signer)
            ),
        );
    }

    // Symbols.
    let imports: Vec<&str> = info
        .iter()
        .filter(|(k, _)| k == "import_ns")
        .map(|(_, v)| v.as_str())
        .collect();
    let needed = elf.dependency_symbols().unwrap_or_default();
    let crc_of: HashMap<&str, u64> = versions
        .as_ref()
        .map(|v| v.iter().map(|e| (e.symbol.as_str(), e.crc)).collect())
        .unwrap_or_default();
    let mut seen = HashSet::new();
    for sym in &needed {
        if !seen.insert(sym.name.as_str()) {
            continue;
        }
        let provider = facts.provider(&sym.name);
        let Some(p) = provider else {
            if sym.bind != SymbolBind::Weak {
                push(
                    "unresolved",
                    Severity::Error,
                    format!("{}: nobody exports it (Unknown symbol)", sym.name),
                );
            }
            continue;
        };
        if let (Some(ours), Some(theirs)) = (crc_of.get(sym.name.as_str()), p.crc) {
            if *ours != theirs {
                push(
                    "crc",
                    Severity::Error,
                    format!(
                        "{}: the module was built against CRC {ours:#010x}, {} exports {theirs:#010x} (disagrees about version of symbol)",
                        sym.name, p.module
                    ),
                );
            }
        }
        if p.gpl_only == Some(true) && !gpl_ok {
            push(
                "gpl-only",
                Severity::Error,
                format!(
                    "{}: GPL-only symbol of {}, and license '{}' is not GPL-compatible",
                    sym.name,
                    p.module,
                    license.unwrap_or("(none)")
                ),
            );
        }
        if !p.namespace.is_empty() && !imports.contains(&p.namespace.as_str()) {
            push(
                "namespace",
                Severity::Error,
                format!(
                    "{}: in namespace {} of {}, which the module does not import (MODULE_IMPORT_NS)",
                    sym.name, p.namespace, p.module
                ),
            );
        }
        if p.module != "vmlinux" {
            if let Some(loaded) = &facts.loaded {
                if !loaded.contains(&p.module) && sym.bind != SymbolBind::Weak {
                    push(
                        "unresolved",
                        Severity::Error,
                        format!(
                            "{}: provided by {}, which is not loaded (Unknown symbol; modprobe would load it first)",
                            sym.name, p.module
                        ),
                    );
                }
            }
        }
    }

    if !taint.is_empty() {
        let words: Vec<&str> = taint
            .chars()
            .map(|c| match c {
                'P' => "P (proprietary license)",
                'O' => "O (out-of-tree)",
                'E' => "E (unsigned)",
                'C' => "C (staging)",
                'N' => "N (test module)",
                'F' => "F (forced)",
                _ => "?",
            })
            .collect();
        push(
            "taint",
            Severity::Info,
            format!("loading it taints the kernel: {}", words.join(", ")),
        );
    }
    findings.sort_by_key(|f| f.severity);
    Ok(Verdict {
        module: name,
        findings,
        taint,
    })
}

/// An error for a module that cannot be checked, in the tool's words.
pub fn unreadable(path: &Path, err: &Error) -> String {
    format!("{}: {}", path.display(), err.strerror())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn magic_compared_as_same_magic() {
        let a = "6.1.0-57-amd64 SMP preempt mod_unload modversions ";
        let b = "6.12.95+deb12-amd64 SMP preempt mod_unload modversions ";
        // With CRCs only the part from the first space counts.
        assert_eq!(compared_magic(a, true), compared_magic(b, true));
        assert_ne!(compared_magic(a, false), compared_magic(b, false));
        let smq = "6.1.0-57-amd64 SMQ preempt mod_unload modversions ";
        assert_ne!(compared_magic(a, true), compared_magic(smq, true));
        assert_eq!(compared_magic("nospace", true), "");
    }

    #[test]
    fn gpl_compatible_licenses_are_the_kernels() {
        for l in [
            "GPL",
            "GPL v2",
            "GPL and additional rights",
            "Dual BSD/GPL",
            "Dual MIT/GPL",
            "Dual MPL/GPL",
        ] {
            assert!(license_is_gpl_compatible(l), "{l}");
        }
        for l in ["Proprietary", "BSD", "gpl", "GPLv2", "MIT", ""] {
            assert!(!license_is_gpl_compatible(l), "{l}");
        }
    }
}
