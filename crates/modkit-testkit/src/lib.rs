//! What modkit's tests share: the three test tiers, and scratch directories
//! that remove themselves.
//!
//! # Tiers
//!
//! - [`Tier::Offline`]: unit tests and small fixtures made at test time.
//!   Needs nothing but the repository; always runs.
//! - [`Tier::Reference`]: differential tests against the reference tools
//!   (Debian trixie's kmod 34.2 and util-linux 2.41) on real Debian module
//!   trees, all kept in the cache that `scripts/refs.sh` fills
//!   (`$MODKIT_CACHE`, default `~/.cache/modkit`).
//! - [`Tier::Vm`]: real Debian kernels booted under QEMU by `vm/run`.
//!
//! A test of the reference or VM tier starts with
//!
//! ```no_run
//! use modkit_testkit::{runs, Tier};
//! if !runs(Tier::Reference) {
//!     return;
//! }
//! ```
//!
//! The environment variable `MODKIT_TEST_TIERS` decides what happens when
//! a tier cannot run:
//!
//! - unset or empty: a tier runs when what it needs is already on this
//!   machine (nothing is downloaded); otherwise each of its tests prints
//!   one line on stderr — `skipped TEST (reference tier): why; what to
//!   run` — and passes;
//! - `all`, or a comma-separated list of `offline`, `reference`, `vm`: the
//!   listed tiers must run. What they need is fetched (`scripts/refs.sh`;
//!   `vm/run` installs QEMU and fetches kernels itself) and a test FAILS
//!   when it cannot be; tiers not listed are skipped as not selected.
//!   `scripts/test.sh` runs the tiers one after another this way, so the
//!   full run never skips a test.
//!
//! The skip line is written to the process's stderr directly, not through
//! `eprintln!`, so that `cargo test` shows it although it captures the
//! output of passing tests.

#![warn(missing_docs)]

use std::ffi::OsStr;
use std::io::Write;
use std::ops::Deref;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::OnceLock;

/// The environment variable that selects and requires tiers.
pub const TIERS_VAR: &str = "MODKIT_TEST_TIERS";

/// The trees `scripts/refs.sh trees headers` makes: each with its
/// `NAME-headers` companion.
const TREES: [&str; 3] = ["6.1", "6.12", "6.12-bpo"];

/// The kernels the VM tests boot (`vm/run --kernel`).
const VM_KERNELS: [&str; 2] = ["6.1", "6.12-bpo"];

/// A group of tests by what they need besides the repository.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tier {
    /// Unit tests and fixtures made at test time: no cache, no network.
    Offline,
    /// The reference tools and Debian trees of `scripts/refs.sh`.
    Reference,
    /// QEMU and the kernels of `vm/setup.sh`.
    Vm,
}

impl Tier {
    /// Every tier, in the order `scripts/test.sh` runs them.
    pub const ALL: [Tier; 3] = [Tier::Offline, Tier::Reference, Tier::Vm];

    /// The tier's name in `MODKIT_TEST_TIERS` and in skip lines.
    pub fn name(self) -> &'static str {
        match self {
            Tier::Offline => "offline",
            Tier::Reference => "reference",
            Tier::Vm => "vm",
        }
    }

    /// What to run to make the tier's tests run here.
    fn remedy(self) -> &'static str {
        match self {
            Tier::Offline => "nothing to fetch",
            Tier::Reference => {
                "run scripts/refs.sh tools trees headers (downloads from Debian), or scripts/test.sh"
            }
            Tier::Vm => {
                "run MODKIT_TEST_TIERS=vm cargo test -p modkit-cli --test vm_smoke --test vm_dmesg \
                 (installs QEMU, fetches kernels), or scripts/test.sh"
            }
        }
    }
}

/// What `MODKIT_TEST_TIERS` asks of one tier.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Demand {
    /// Not set: run when what the tier needs is here, skip otherwise.
    IfPresent,
    /// Listed: fetch what it needs; a test fails when that is impossible.
    Required,
    /// Another tier was listed, not this one: skip.
    NotSelected,
}

/// A parsed `MODKIT_TEST_TIERS`: `None` when unset or empty, else which
/// tiers are listed (indexed like [`Tier::ALL`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Selection(Option<[bool; 3]>);

impl Selection {
    /// Parses a value of `MODKIT_TEST_TIERS`: empty, `all`, or tier names
    /// separated by commas. An unknown name is an error naming it.
    pub fn parse(value: Option<&str>) -> Result<Selection, String> {
        let Some(value) = value.map(str::trim).filter(|v| !v.is_empty()) else {
            return Ok(Selection(None));
        };
        let mut listed = [false; 3];
        for word in value.split(',').map(str::trim).filter(|w| !w.is_empty()) {
            if word == "all" {
                listed = [true; 3];
                continue;
            }
            match Tier::ALL.iter().position(|t| t.name() == word) {
                Some(i) => listed[i] = true,
                None => {
                    return Err(format!(
                    "{TIERS_VAR}: unknown tier '{word}' (expected offline, reference, vm or all)"
                ))
                }
            }
        }
        Ok(Selection(Some(listed)))
    }

    /// What this selection asks of `tier`. The offline tier is never
    /// "not selected": it needs nothing, so it always runs.
    pub fn demand(self, tier: Tier) -> Demand {
        let i = Tier::ALL.iter().position(|t| *t == tier).unwrap_or(0);
        match self.0 {
            None => Demand::IfPresent,
            Some(listed) if listed[i] => Demand::Required,
            Some(_) if tier == Tier::Offline => Demand::IfPresent,
            Some(_) => Demand::NotSelected,
        }
    }
}

/// The selection of this process's environment (read once). A bad value
/// fails the test that asks.
fn selection() -> Selection {
    static SELECTION: OnceLock<Result<Selection, String>> = OnceLock::new();
    let value = std::env::var(TIERS_VAR).ok();
    match SELECTION.get_or_init(|| Selection::parse(value.as_deref())) {
        Ok(s) => *s,
        Err(e) => panic!("{e}"),
    }
}

/// The value of `MODKIT_TEST_TIERS`, for messages.
fn selection_text() -> String {
    std::env::var(TIERS_VAR).unwrap_or_default()
}

/// Where `scripts/refs.sh` keeps its downloads: `$MODKIT_CACHE`, or
/// `~/.cache/modkit`.
pub fn cache_dir() -> PathBuf {
    if let Some(p) = std::env::var_os("MODKIT_CACHE").filter(|p| !p.is_empty()) {
        return PathBuf::from(p);
    }
    let home = std::env::var_os("HOME").expect("HOME is set");
    Path::new(&home).join(".cache/modkit")
}

/// The repository's top directory.
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Whether the tests of `tier` run in this process. When they don't, this
/// prints the skip line for the calling test and returns `false`; the
/// test then returns. Panics (failing the test) when `MODKIT_TEST_TIERS`
/// requires the tier and what it needs cannot be had.
pub fn runs(tier: Tier) -> bool {
    match selection().demand(tier) {
        Demand::Required => {
            if let Err(why) = prepare(tier) {
                panic!(
                    "the {} tier is required ({TIERS_VAR}={}) but {why}",
                    tier.name(),
                    selection_text()
                );
            }
            true
        }
        Demand::IfPresent => match present(tier) {
            Ok(()) => true,
            Err(why) => {
                print_skip(tier, &format!("{why}; {}", tier.remedy()));
                false
            }
        },
        Demand::NotSelected => {
            print_skip(
                tier,
                &format!("not selected by {TIERS_VAR}={}", selection_text()),
            );
            false
        }
    }
}

/// Panics unless what `tier` needs is here. For helpers that use it
/// (`Tree::get`, `ref_tool`): the test itself starts with [`runs`], so
/// this fails only in a test that forgot to.
pub fn need(tier: Tier) {
    let ready = match selection().demand(tier) {
        Demand::Required => prepare(tier),
        Demand::IfPresent => present(tier),
        Demand::NotSelected => Err(format!("it is not selected by {TIERS_VAR}")),
    };
    if let Err(why) = ready {
        panic!(
            "this test needs the {} tier without asking `runs(Tier::{tier:?})` first, and {why}",
            tier.name()
        );
    }
}

/// For a test of `tier` that finds at run time that this machine lacks
/// something it needs (root, a program): fails the test when the tier is
/// required, else prints the skip line with `reason`. The caller returns.
pub fn skip(tier: Tier, reason: &str) {
    if selection().demand(tier) == Demand::Required {
        panic!(
            "the {} tier is required ({TIERS_VAR}={}) but {reason}",
            tier.name(),
            selection_text()
        );
    }
    print_skip(tier, reason);
}

/// A one-line description of each tier: runs here, or why not.
pub fn summary() -> Vec<String> {
    Tier::ALL
        .iter()
        .map(|&tier| {
            let state = match (selection().demand(tier), present(tier)) {
                (Demand::NotSelected, _) => {
                    format!("skipped: not selected by {TIERS_VAR}={}", selection_text())
                }
                (Demand::Required, _) => {
                    format!("runs, required by {TIERS_VAR}={}", selection_text())
                }
                (_, Ok(())) => "runs".to_string(),
                (_, Err(why)) => format!("skipped: {why}; {}", tier.remedy()),
            };
            format!("{} tier: {state}", tier.name())
        })
        .collect()
}

/// The skip line, written around the test harness's output capture.
fn print_skip(tier: Tier, reason: &str) {
    let line = format!("skipped {} ({} tier): {reason}\n", test_name(), tier.name());
    let _ = std::io::stderr().lock().write_all(line.as_bytes());
}

/// `BINARY::TEST` of the calling test, as far as it can be known: the test
/// harness names each test's thread after it.
fn test_name() -> String {
    let binary = std::env::args_os()
        .next()
        .and_then(|a| {
            Path::new(&a)
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
        })
        .map(|n| match n.rsplit_once('-') {
            Some((stem, hash)) if hash.chars().all(|c| c.is_ascii_hexdigit()) => stem.to_string(),
            _ => n,
        })
        .unwrap_or_default();
    let thread = std::thread::current();
    match thread.name() {
        Some(name) if name != "main" => format!("{binary}::{name}"),
        _ => binary,
    }
}

/// Whether what `tier` needs is already here; `Err` says what is missing.
fn present(tier: Tier) -> Result<(), String> {
    match tier {
        Tier::Offline => Ok(()),
        Tier::Reference => reference_present(),
        Tier::Vm => {
            reference_present()?;
            if !on_path("qemu-system-x86_64") {
                return Err("QEMU is not installed (no qemu-system-x86_64 on PATH)".into());
            }
            for kernel in VM_KERNELS {
                let boot = cache_dir().join("trees").join(kernel).join("boot");
                let has_image = std::fs::read_dir(&boot)
                    .map(|rd| {
                        rd.flatten()
                            .any(|e| e.file_name().to_string_lossy().starts_with("vmlinuz-"))
                    })
                    .unwrap_or(false);
                if !has_image {
                    return Err(format!("no kernel image in {}", boot.display()));
                }
            }
            Ok(())
        }
    }
}

/// The markers `scripts/refs.sh` leaves when a part is complete.
fn reference_present() -> Result<(), String> {
    let cache = cache_dir();
    let mut markers = vec![PathBuf::from("ref/.done")];
    for tree in TREES {
        markers.push(Path::new("trees").join(tree).join(".done"));
        markers.push(Path::new("trees").join(format!("{tree}-headers/.done")));
    }
    for m in markers {
        if !cache.join(&m).is_file() {
            return Err(format!(
                "reference tools and trees not in {} (no {})",
                cache.display(),
                m.display()
            ));
        }
    }
    Ok(())
}

/// Fetches what a required `tier` needs (once per process); `Err` says
/// what could not be had.
fn prepare(tier: Tier) -> Result<(), String> {
    match tier {
        Tier::Offline => Ok(()),
        // vm/run installs QEMU and fetches the kernels itself, and fails
        // with the reason when it cannot.
        Tier::Vm => Ok(()),
        Tier::Reference => {
            static FETCHED: OnceLock<Result<(), String>> = OnceLock::new();
            FETCHED
                .get_or_init(|| {
                    let script = repo_root().join("scripts/refs.sh");
                    let status = Command::new(&script)
                        .args(["tools", "trees", "headers"])
                        .stdout(Stdio::null())
                        .status()
                        .map_err(|e| format!("{} cannot run: {e}", script.display()))?;
                    if !status.success() {
                        return Err(format!(
                            "scripts/refs.sh tools trees headers failed ({status}): \
                             the reference tools or trees are missing"
                        ));
                    }
                    reference_present()
                })
                .clone()
        }
    }
}

/// Whether `program` is an executable file in a directory of `PATH`.
fn on_path(program: &str) -> bool {
    use std::os::unix::fs::PermissionsExt;
    let Some(path) = std::env::var_os("PATH") else {
        return false;
    };
    std::env::split_paths(&path).any(|dir| {
        std::fs::metadata(dir.join(program))
            .map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
            .unwrap_or(false)
    })
}

/// Set (non-empty), scratch directories are kept for inspection.
pub const KEEP_VAR: &str = "MODKIT_KEEP_SCRATCH";

/// A new, empty directory that is removed, with everything in it, when
/// the value is dropped — also when the test fails, since a panic unwinds
/// through the test's locals — unless `MODKIT_KEEP_SCRATCH` is set. Reads
/// as a [`Path`].
#[derive(Debug)]
pub struct ScratchDir {
    path: PathBuf,
}

impl ScratchDir {
    /// `modkit-NAME-PID-N` in the system's temporary directory.
    pub fn new(name: &str) -> ScratchDir {
        ScratchDir::new_in(&std::env::temp_dir(), &format!("modkit-{name}"))
    }

    /// `PARENT/NAME-PID-N` (PARENT is created when missing; N counts the
    /// directories this process made, so equal names never collide).
    /// Panics when the directory cannot be made.
    pub fn new_in(parent: &Path, name: &str) -> ScratchDir {
        static COUNT: AtomicUsize = AtomicUsize::new(0);
        let n = COUNT.fetch_add(1, Ordering::Relaxed);
        sweep_dead(parent);
        let path = parent.join(format!("{name}-{}-{n}", std::process::id()));
        // Left by an earlier process with the same id that was killed.
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path)
            .unwrap_or_else(|e| panic!("cannot make scratch directory {}: {e}", path.display()));
        ScratchDir { path }
    }

    /// The directory.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// Removes, once per process and parent, the scratch directories of test
/// processes that are gone (killed before their `ScratchDir`s dropped):
/// entries named `...-PID` or `...-PID-N` whose process no longer exists —
/// every entry of a directory named `scratch` (the cache's, all ours), and
/// in any other parent only names starting with `modkit-`. Nothing is
/// swept while `MODKIT_KEEP_SCRATCH` is set.
fn sweep_dead(parent: &Path) {
    static SWEPT: std::sync::Mutex<Vec<PathBuf>> = std::sync::Mutex::new(Vec::new());
    if std::env::var_os(KEEP_VAR).is_some_and(|v| !v.is_empty()) {
        return;
    }
    {
        let mut swept = SWEPT.lock().unwrap_or_else(|e| e.into_inner());
        if swept.iter().any(|p| p == parent) {
            return;
        }
        swept.push(parent.to_path_buf());
    }
    let all_ours = parent.file_name().is_some_and(|n| n == "scratch");
    let Ok(entries) = std::fs::read_dir(parent) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        if !all_ours && !name.starts_with("modkit-") {
            continue;
        }
        if let Some(pid) = scratch_owner(name) {
            if pid != std::process::id() && !Path::new(&format!("/proc/{pid}")).exists() {
                let _ = std::fs::remove_dir_all(entry.path());
            }
        }
    }
}

/// The process id in a scratch directory's name (`NAME-PID-N` or the older
/// `NAME-PID`).
fn scratch_owner(name: &str) -> Option<u32> {
    let mut parts = name.rsplit('-');
    let last = parts.next()?;
    let before = parts.next()?;
    parts.next()?; // a NAME before the number(s)
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    match (digits(before), digits(last)) {
        (true, true) => before.parse().ok(),
        (false, true) => last.parse().ok(),
        _ => None,
    }
}

impl Drop for ScratchDir {
    fn drop(&mut self) {
        if std::env::var_os(KEEP_VAR).is_some_and(|v| !v.is_empty()) {
            let _ = writeln!(
                std::io::stderr().lock(),
                "kept scratch directory {} ({KEEP_VAR} is set)",
                self.path.display()
            );
            return;
        }
        if std::fs::remove_dir_all(&self.path).is_ok() || !self.path.exists() {
            return;
        }
        // A test may have left read-only directories: make them writable
        // and try again.
        make_writable(&self.path);
        if let Err(e) = std::fs::remove_dir_all(&self.path) {
            let _ = writeln!(
                std::io::stderr().lock(),
                "cannot remove scratch directory {}: {e}",
                self.path.display()
            );
        }
    }
}

fn make_writable(dir: &Path) {
    use std::os::unix::fs::PermissionsExt;
    let _ = std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700));
    if let Ok(rd) = std::fs::read_dir(dir) {
        for e in rd.flatten() {
            if e.file_type().is_ok_and(|t| t.is_dir()) {
                make_writable(&e.path());
            }
        }
    }
}

impl Deref for ScratchDir {
    type Target = Path;
    fn deref(&self) -> &Path {
        &self.path
    }
}

impl AsRef<Path> for ScratchDir {
    fn as_ref(&self) -> &Path {
        &self.path
    }
}

impl AsRef<OsStr> for ScratchDir {
    fn as_ref(&self) -> &OsStr {
        self.path.as_os_str()
    }
}

/// A minimal x86-64 kernel module file (ELF64, little-endian,
/// relocatable) for fixtures made at test time: `.modinfo` holding
/// `modinfo` (`key=value` strings, in order), `__ksymtab_strings` holding
/// the `exports`, and `.symtab`/`.strtab` with each of `needs` as an
/// undefined global symbol. What depmod, modinfo and modprobe read of a
/// module, nothing a kernel could load.
pub fn module_image(modinfo: &[(&str, &str)], exports: &[&str], needs: &[&str]) -> Vec<u8> {
    const SHT_PROGBITS: u32 = 1;
    const SHT_SYMTAB: u32 = 2;
    const SHT_STRTAB: u32 = 3;
    const SHF_ALLOC: u64 = 2;
    const STB_GLOBAL_NOTYPE: u8 = 0x10;
    let strings = |items: &mut dyn Iterator<Item = String>| {
        let mut out = Vec::new();
        for s in items {
            out.extend_from_slice(s.as_bytes());
            out.push(0);
        }
        out
    };
    let info = strings(&mut modinfo.iter().map(|(k, v)| format!("{k}={v}")));
    let ksymtab = strings(&mut exports.iter().map(|e| e.to_string()));
    let mut strtab = vec![0u8];
    let mut symtab = vec![0u8; 24]; // the null symbol
    for name in needs {
        let at = strtab.len() as u32;
        strtab.extend_from_slice(name.as_bytes());
        strtab.push(0);
        symtab.extend_from_slice(&at.to_le_bytes());
        symtab.push(STB_GLOBAL_NOTYPE);
        symtab.push(0);
        symtab.extend_from_slice(&0u16.to_le_bytes()); // SHN_UNDEF
        symtab.extend_from_slice(&[0u8; 16]); // value, size
    }
    /// One section header's fields and the section's bytes.
    struct Section {
        name: &'static str,
        kind: u32,
        flags: u64,
        link: u32,
        info: u32,
        entsize: u64,
        data: Vec<u8>,
    }
    let section = |name, kind, flags, data| Section {
        name,
        kind,
        flags,
        link: 0,
        info: 0,
        entsize: 0,
        data,
    };
    // Index 0 is SHN_UNDEF; .symtab links to .strtab (4); .shstrtab is last.
    let mut sections = vec![
        section(".modinfo", SHT_PROGBITS, SHF_ALLOC, info),
        section("__ksymtab_strings", SHT_PROGBITS, SHF_ALLOC, ksymtab),
        Section {
            link: 4,
            info: 1,
            entsize: 24,
            ..section(".symtab", SHT_SYMTAB, 0, symtab)
        },
        section(".strtab", SHT_STRTAB, 0, strtab),
    ];
    let mut shstrtab = vec![0u8];
    let mut names = Vec::new();
    for name in sections.iter().map(|s| s.name).chain([".shstrtab"]) {
        names.push(shstrtab.len() as u32);
        shstrtab.extend_from_slice(name.as_bytes());
        shstrtab.push(0);
    }
    sections.push(section(".shstrtab", SHT_STRTAB, 0, shstrtab));
    let mut out = vec![0u8; 64];
    let mut places = Vec::new();
    for s in &sections {
        out.resize(out.len().next_multiple_of(8), 0);
        places.push((out.len() as u64, s.data.len() as u64));
        out.extend_from_slice(&s.data);
    }
    out.resize(out.len().next_multiple_of(8), 0);
    let shoff = out.len() as u64;
    out.extend_from_slice(&[0u8; 64]); // the null section header
    for (i, s) in sections.iter().enumerate() {
        let (off, size) = places[i];
        out.extend_from_slice(&names[i].to_le_bytes());
        out.extend_from_slice(&s.kind.to_le_bytes());
        out.extend_from_slice(&s.flags.to_le_bytes());
        out.extend_from_slice(&0u64.to_le_bytes()); // address
        out.extend_from_slice(&off.to_le_bytes());
        out.extend_from_slice(&size.to_le_bytes());
        out.extend_from_slice(&s.link.to_le_bytes());
        out.extend_from_slice(&s.info.to_le_bytes());
        out.extend_from_slice(&8u64.to_le_bytes()); // alignment
        out.extend_from_slice(&s.entsize.to_le_bytes());
    }
    out[..7].copy_from_slice(b"\x7fELF\x02\x01\x01"); // 64-bit, LSB, version 1
    out[16..18].copy_from_slice(&1u16.to_le_bytes()); // ET_REL
    out[18..20].copy_from_slice(&62u16.to_le_bytes()); // EM_X86_64
    out[20..24].copy_from_slice(&1u32.to_le_bytes());
    out[40..48].copy_from_slice(&shoff.to_le_bytes());
    out[52..54].copy_from_slice(&64u16.to_le_bytes()); // e_ehsize
    out[58..60].copy_from_slice(&64u16.to_le_bytes()); // e_shentsize
    out[60..62].copy_from_slice(&(sections.len() as u16 + 1).to_le_bytes());
    out[62..64].copy_from_slice(&(sections.len() as u16).to_le_bytes()); // e_shstrndx
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn dead_processes_scratch_dirs_are_swept() {
        assert_eq!(scratch_owner("dmesg-kmsg-19713-0"), Some(19713));
        assert_eq!(scratch_owner("dmesg-colors-12220"), Some(12220));
        assert_eq!(scratch_owner("modkit-x-7-3"), Some(7));
        assert_eq!(scratch_owner("12-3"), None);
        assert_eq!(scratch_owner("name"), None);
        assert_eq!(scratch_owner("a-b-c"), None);
        let base = std::env::temp_dir().join(format!("modkit-sweep-test-{}", std::process::id()));
        let parent = base.join("scratch");
        // A pid above the kernel's limit (4194304) never runs.
        let dead = parent.join("old-test-4194305-0");
        std::fs::create_dir_all(dead.join("inner")).unwrap();
        let alive = parent.join(format!("live-test-{}-0", std::process::id()));
        std::fs::create_dir_all(&alive).unwrap();
        let other = parent.join("not-a-scratch-dir");
        std::fs::create_dir_all(&other).unwrap();
        let made = ScratchDir::new_in(&parent, "new");
        assert!(!dead.exists(), "a dead process's directory stayed");
        assert!(alive.exists() && other.exists() && made.path().exists());
        drop(made);
        std::fs::remove_dir_all(&base).unwrap();
    }

    #[test]
    fn selections() {
        let auto = Selection::parse(None).unwrap();
        assert_eq!(auto, Selection::parse(Some(" ")).unwrap());
        assert_eq!(auto.demand(Tier::Offline), Demand::IfPresent);
        assert_eq!(auto.demand(Tier::Reference), Demand::IfPresent);
        assert_eq!(auto.demand(Tier::Vm), Demand::IfPresent);
        let all = Selection::parse(Some("all")).unwrap();
        for t in Tier::ALL {
            assert_eq!(all.demand(t), Demand::Required);
        }
        let some = Selection::parse(Some("offline, vm")).unwrap();
        assert_eq!(some.demand(Tier::Offline), Demand::Required);
        assert_eq!(some.demand(Tier::Reference), Demand::NotSelected);
        assert_eq!(some.demand(Tier::Vm), Demand::Required);
        let offline = Selection::parse(Some("offline")).unwrap();
        assert_eq!(offline.demand(Tier::Reference), Demand::NotSelected);
        assert_eq!(offline.demand(Tier::Vm), Demand::NotSelected);
        let reference = Selection::parse(Some("reference")).unwrap();
        assert_eq!(reference.demand(Tier::Offline), Demand::IfPresent);
        assert_eq!(reference.demand(Tier::Reference), Demand::Required);
        assert_eq!(
            Selection::parse(Some("reference,vms")).unwrap_err(),
            "MODKIT_TEST_TIERS: unknown tier 'vms' (expected offline, reference, vm or all)"
        );
    }

    #[test]
    fn scratch_dirs_go_away_also_on_panic() {
        let kept = std::panic::catch_unwind(|| {
            let dir = ScratchDir::new("testkit");
            std::fs::create_dir_all(dir.join("a/b")).unwrap();
            std::fs::write(dir.join("a/b/f"), "x").unwrap();
            let read_only = <std::fs::Permissions as PermissionsExt>::from_mode(0o500);
            std::fs::set_permissions(dir.join("a"), read_only).unwrap();
            let path = dir.to_path_buf();
            std::panic::panic_any(path);
        })
        .unwrap_err();
        let path = kept.downcast::<PathBuf>().unwrap();
        assert!(path.starts_with(std::env::temp_dir()), "{path:?}");
        assert!(!path.exists(), "{} left behind", path.display());
        let a = ScratchDir::new("testkit");
        let b = ScratchDir::new("testkit");
        assert_ne!(a.path(), b.path());
        assert!(a.is_dir() && b.is_dir());
    }

    /// What this run of the tests covers (one line per tier, on stderr
    /// even when the harness captures output); fails when a required tier
    /// cannot be prepared.
    #[test]
    fn tiers_here() {
        let mut out = String::from("modkit test tiers:\n");
        for line in summary() {
            out.push_str("  ");
            out.push_str(&line);
            out.push('\n');
        }
        let _ = std::io::stderr().lock().write_all(out.as_bytes());
        for tier in Tier::ALL {
            if selection().demand(tier) == Demand::Required {
                if let Err(why) = prepare(tier) {
                    panic!("the {} tier is required but {why}", tier.name());
                }
            }
        }
    }
}

/// xorshift64*: a small deterministic generator for mutation and random
/// tests, so that a failure reproduces from its seed.
#[derive(Debug, Clone)]
pub struct Rng(pub u64);

impl Rng {
    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// A number below `n` (0 when `n` is 0).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n.max(1) as u64) as usize
    }
}
