//! A hostile-input corpus made by code, through the real binary: module
//! files truncated at every section boundary, sections out of range or
//! overlapping, counts that overflow, tables without terminators, a
//! signature length that lies, a decompression bomb in each format, an
//! index whose child offsets loop, 1 MB configuration lines, deeply nested
//! patterns and bytes that are not UTF-8 everywhere.
//!
//! Each run must end by itself with the reference's exit code and a clear
//! error (the last stderr line in the tool's own style, no panic, no
//! signal), within these bounds, enforced and measured:
//! - time: [`TIME_BOUND`] per run (a debug build on a shared machine);
//! - memory: the address space is capped with `prlimit --as` at
//!   [`AS_BOUND`] (bombs: [`BOMB_AS_BOUND`]: the 1 GiB decompression bound
//!   plus the input); the peak RSS is measured with `/usr/bin/time -f %M`
//!   where it is installed and checked against [`RSS_BOUND`] /
//!   [`BOMB_RSS_BOUND`].
//!
//! The offline tests check modkit alone. `*_vs_reference` (reference tier)
//! run kmod 34.2 / util-linux 2.41 on the same files and compare stdout
//! and exit codes; where the reference itself dies (kmod's modinfo aborts
//! on `idx < elf->header.section.count`, its depmod overflows the stack on
//! nested patterns) the case is counted and named, and modkit must still
//! end cleanly.

mod common;

use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use common::{modkit, ref_tool, runs, Tier};
use modkit_testkit::{module_image, ScratchDir};

/// The longest one run may take.
const TIME_BOUND: Duration = Duration::from_secs(30);
/// Address space of one run (`prlimit --as`), and its largest peak RSS.
const AS_BOUND: u64 = 1 << 30;
const RSS_BOUND_KB: u64 = 256 << 10;
/// The same for a decompression bomb: 1 GiB of output at most.
const BOMB_AS_BOUND: u64 = 3 << 30;
const BOMB_RSS_BOUND_KB: u64 = (1 << 20) + (256 << 10);

struct Run {
    out: Output,
    took: Duration,
    rss_kb: Option<u64>,
}

/// Runs `modkit TOOL ARGS` under `prlimit --as=AS`, measuring its peak RSS
/// with `/usr/bin/time` when there is one.
fn run(dir: &Path, tool: &str, args: &[&OsStr], as_bound: u64) -> Run {
    let time = Path::new("/usr/bin/time");
    let rss_file = dir.join(".rss");
    let _ = std::fs::remove_file(&rss_file);
    let mut cmd = Command::new("prlimit");
    cmd.arg(format!("--as={as_bound}")).arg("--");
    if time.exists() {
        cmd.arg(time).arg("-f").arg("%M").arg("-o").arg(&rss_file);
    }
    cmd.arg(modkit()).arg(tool).args(args).env("LC_ALL", "C");
    let start = Instant::now();
    let out = cmd.output().expect("run prlimit");
    let took = start.elapsed();
    // /usr/bin/time writes "Command exited with non-zero status N" first.
    let rss_kb = std::fs::read_to_string(&rss_file)
        .ok()
        .and_then(|s| s.lines().last().and_then(|l| l.trim().parse().ok()));
    Run { out, took, rss_kb }
}

/// Checks the bounds and that the run ended by itself without a panic,
/// with `code` (when given) and, on failure, a last stderr line starting
/// with `prefix`.
fn check(what: &str, r: &Run, code: Option<i32>, prefix: &str, rss_bound_kb: u64) {
    let stderr = String::from_utf8_lossy(&r.out.stderr);
    assert!(
        r.out.status.signal().is_none(),
        "{what}: killed by signal {:?}; stderr: {stderr}",
        r.out.status.signal()
    );
    assert!(
        !stderr.contains("panicked") && !stderr.contains("RUST_BACKTRACE"),
        "{what}: {stderr}"
    );
    assert!(r.took < TIME_BOUND, "{what}: took {:?}", r.took);
    if let Some(kb) = r.rss_kb {
        assert!(
            kb <= rss_bound_kb,
            "{what}: peak RSS {kb} kB > {rss_bound_kb} kB"
        );
    }
    if let Some(code) = code {
        assert_eq!(r.out.status.code(), Some(code), "{what}: {stderr}");
    }
    if !r.out.status.success() {
        let last = stderr.lines().last().unwrap_or("");
        assert!(
            last.starts_with(prefix),
            "{what}: last stderr line {last:?}"
        );
        assert!(stderr.lines().count() <= 3, "{what}: {stderr}");
    }
}

fn u16_at(d: &[u8], at: usize) -> usize {
    usize::from(u16::from_le_bytes([d[at], d[at + 1]]))
}

fn u64_at(d: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(d[at..at + 8].try_into().unwrap())
}

fn put_u64(d: &mut [u8], at: usize, v: u64) {
    d[at..at + 8].copy_from_slice(&v.to_le_bytes());
}

fn put_u16(d: &mut [u8], at: usize, v: u16) {
    d[at..at + 2].copy_from_slice(&v.to_le_bytes());
}

/// A module with every table modinfo and depmod read.
fn sample_module() -> Vec<u8> {
    module_image(
        &[
            ("license", "GPL"),
            ("description", "hostile"),
            ("parm", "debug:int"),
            ("alias", "pci:v00008086d*"),
            ("depends", ""),
            ("vermagic", "6.1.0 SMP mod_unload"),
        ],
        &["hostile_export"],
        &["printk", "kmalloc"],
    )
}

/// (offset of section header i, its sh_offset, its sh_size) for every
/// section of an ELF64 little-endian image.
fn sections(d: &[u8]) -> Vec<(usize, u64, u64)> {
    let shoff = u64_at(d, 0x28) as usize;
    let shentsize = u16_at(d, 0x3A);
    (0..u16_at(d, 0x3C))
        .map(|i| {
            let h = shoff + i * shentsize;
            (h, u64_at(d, h + 0x18), u64_at(d, h + 0x20))
        })
        .collect()
}

/// The hostile module files: every truncation at a section or header
/// boundary, and the header and table tamperings.
fn hostile_modules() -> Vec<(String, Vec<u8>)> {
    let m = sample_module();
    let secs = sections(&m);
    let mut cuts: Vec<usize> = vec![0, 4, 16, 63, 64];
    let shoff = u64_at(&m, 0x28) as usize;
    for &(h, off, size) in &secs {
        cuts.extend([h, h + 32, off as usize, (off + size) as usize]);
        cuts.push(((off + size) as usize).saturating_sub(1));
    }
    cuts.push(shoff);
    cuts.retain(|&c| c < m.len());
    cuts.sort();
    cuts.dedup();
    let mut out: Vec<(String, Vec<u8>)> = cuts
        .iter()
        .map(|&c| (format!("truncated-at-{c}"), m[..c].to_vec()))
        .collect();
    let mut tamper = |name: &str, f: &dyn Fn(&mut Vec<u8>)| {
        let mut d = m.clone();
        f(&mut d);
        out.push((name.to_string(), d));
    };
    tamper("shoff-huge", &|d| put_u64(d, 0x28, u64::MAX - 63));
    tamper("shoff-at-end", &|d| {
        let len = d.len() as u64;
        put_u64(d, 0x28, len - 8)
    });
    tamper("shnum-0xffff", &|d| put_u16(d, 0x3C, 0xFFFF));
    tamper("shentsize-1", &|d| put_u16(d, 0x3A, 1));
    tamper("shstrndx-out-of-range", &|d| put_u16(d, 0x3E, 0xFFFF));
    for (i, &(h, off, size)) in secs.iter().enumerate().skip(1) {
        let last = m.len() as u64;
        tamper(&format!("section-{i}-offset-past-end"), &|d| {
            put_u64(d, h + 0x18, last + 4096)
        });
        tamper(&format!("section-{i}-size-overflows"), &|d| {
            put_u64(d, h + 0x20, u64::MAX - off + 1)
        });
        tamper(&format!("section-{i}-overlaps-headers"), &|d| {
            put_u64(d, h + 0x18, 0);
            put_u64(d, h + 0x20, size.max(64));
        });
        // The table's last byte (its NUL terminator for string tables).
        if size > 0 {
            tamper(&format!("section-{i}-no-terminator"), &|d| {
                d[(off + size - 1) as usize] = b'x'
            });
        }
        // An entry size that makes the entry count overflow (symtab).
        tamper(&format!("section-{i}-entsize-0"), &|d| {
            put_u64(d, h + 0x38, 0)
        });
    }
    // A signature whose length lies (larger than the file; u32::MAX).
    for (name, len) in [("sig-len-past-file", 1u32 << 20), ("sig-len-max", u32::MAX)] {
        let mut d = m.clone();
        d.extend_from_slice(&[0x30, 0x82, 0xFF, 0xFF]);
        d.extend_from_slice(&[0, 0, 2, 0, 0, 0, 0]);
        d.extend_from_slice(&len.to_be_bytes());
        d.extend_from_slice(b"~Module signature appended~\n");
        out.push((name.to_string(), d));
    }
    // Bytes that are not UTF-8 in every .modinfo value.
    let mut bad = module_image(
        &[("license", "GPL"), ("description", "@@@@"), ("@@@@", "x")],
        &[],
        &[],
    );
    while let Some(at) = bad.windows(4).position(|w| w == b"@@@@") {
        bad[at..at + 4].copy_from_slice(b"\xff\xfe\x80\xc3");
    }
    out.push(("modinfo-not-utf8".into(), bad));
    out
}

fn write(dir: &Path, name: &[u8], data: &[u8]) -> PathBuf {
    let p = dir.join(OsStr::from_bytes(name));
    std::fs::write(&p, data).unwrap();
    p
}

#[test]
fn hostile_module_files_fail_cleanly_within_bounds() {
    let dir = ScratchDir::new("hostile-cli-modules");
    let mut worst = (Duration::ZERO, 0u64);
    let cases = hostile_modules();
    assert!(cases.len() > 60, "{}", cases.len());
    for (name, data) in &cases {
        let p = write(dir.path(), format!("{name}.ko").as_bytes(), data);
        for args in [
            vec![p.as_os_str()],
            vec![OsStr::new("-F"), OsStr::new("parm"), p.as_os_str()],
        ] {
            let r = run(dir.path(), "modinfo", &args, AS_BOUND);
            check(name, &r, None, "modinfo: ERROR: ", RSS_BOUND_KB);
            assert!(matches!(r.out.status.code(), Some(0 | 1)), "{name}");
            worst = (worst.0.max(r.took), worst.1.max(r.rss_kb.unwrap_or(0)));
        }
    }
    eprintln!(
        "{} hostile modules: slowest run {:?}, peak RSS {} kB",
        cases.len(),
        worst.0,
        worst.1
    );
}

/// Writes `n` concatenated copies of `chunk` (a compressed stream of
/// zeros) to make a bomb of `n` times its size.
fn bombs(dir: &Path) -> Vec<(PathBuf, &'static str)> {
    use std::io::Write;
    let zeros = vec![0u8; 64 << 20];
    let mut xz = liblzma::write::XzEncoder::new(Vec::new(), 0);
    xz.write_all(&zeros).unwrap();
    let xz = xz.finish().unwrap();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(&zeros).unwrap();
    let gz = gz.finish().unwrap();
    // 17 x 64 MiB = 1088 MiB: past the 1 GiB bound.
    let xz_bomb = xz.repeat(17);
    let gz_bomb = gz.repeat(17);
    // A zstd frame declaring 4 GiB (single segment, 8-byte size) with one
    // RLE block: refused before anything is allocated.
    let mut zst = vec![0x28, 0xB5, 0x2F, 0xFD, 0xE0];
    zst.extend_from_slice(&(4u64 << 30).to_le_bytes());
    zst.extend_from_slice(&[0x03, 0x00, 0x02, 0x00]);
    eprintln!(
        "bombs: xz {} bytes, gzip {} bytes, zstd {} bytes",
        xz_bomb.len(),
        gz_bomb.len(),
        zst.len()
    );
    vec![
        (write(dir, b"bomb.ko.xz", &xz_bomb), "xz"),
        (write(dir, b"bomb.ko.gz", &gz_bomb), "gzip"),
        (write(dir, b"bomb.ko.zst", &zst), "zstd"),
    ]
}

#[test]
fn decompression_bombs_stop_at_one_gib() {
    let dir = ScratchDir::new("hostile-cli-bombs");
    for (path, kind) in bombs(dir.path()) {
        let r = run(dir.path(), "modinfo", &[path.as_os_str()], BOMB_AS_BOUND);
        check(kind, &r, Some(1), "modinfo: ERROR: ", BOMB_RSS_BOUND_KB);
        let stderr = String::from_utf8_lossy(&r.out.stderr);
        assert!(stderr.ends_with(": File too large\n"), "{kind}: {stderr}");
        eprintln!("{kind} bomb: {:?}, peak RSS {:?} kB", r.took, r.rss_kb);
    }
}

/// An index file whose only node has a `*` child pointing back at itself
/// (libkmod's format: magic, version, root offset; a node flagged as
/// having children holds its first and last child characters and one
/// offset per child).
fn looping_index() -> Vec<u8> {
    const CHILDS: u32 = 0x2000_0000;
    let mut d = Vec::new();
    d.extend_from_slice(&0xB007_F457u32.to_be_bytes());
    d.extend_from_slice(&0x0002_0001u32.to_be_bytes());
    d.extend_from_slice(&(CHILDS | 12).to_be_bytes());
    d.extend_from_slice(b"**");
    d.extend_from_slice(&(CHILDS | 12).to_be_bytes());
    d
}

/// A tiny module tree under `root` for kernel `version`: one module, and
/// (when `index` is given) that file as each binary index.
fn tiny_tree(root: &Path, version: &str, index: Option<&[u8]>) -> PathBuf {
    let moddir = root.join("lib/modules").join(version);
    std::fs::create_dir_all(moddir.join("kernel")).unwrap();
    std::fs::write(moddir.join("kernel/hostile.ko"), sample_module()).unwrap();
    if let Some(index) = index {
        for name in ["alias", "dep", "symbols", "builtin", "builtin.alias"] {
            std::fs::write(moddir.join(format!("modules.{name}.bin")), index).unwrap();
        }
    }
    moddir
}

/// modprobe's lookups over a looping index, and `modprobe -c` with 1 MB
/// lines and bytes that are not UTF-8 in modprobe.d.
fn modprobe_cases(dir: &Path) -> Vec<(&'static str, Vec<std::ffi::OsString>)> {
    let root = dir.join("root");
    tiny_tree(&root, "6.1.0-hostile", Some(&looping_index()));
    let conf = dir.join("conf");
    std::fs::create_dir_all(&conf).unwrap();
    let mut big = b"alias big ".to_vec();
    big.extend(std::iter::repeat_n(b'y', 1 << 20));
    big.extend_from_slice(b"\noptions mod ");
    big.extend(std::iter::repeat_n(b'o', 1 << 20));
    big.extend_from_slice(b"=1\nsoftdep a pre: ");
    for i in 0..100_000 {
        big.extend_from_slice(format!("m{i} ").as_bytes());
    }
    big.extend_from_slice(b"\nalias \xff\xfe\x80 m\xc3\x28\nblacklist \xed\xa0\x80\n");
    std::fs::write(conf.join("hostile.conf"), big).unwrap();
    let os = |s: &Path| s.as_os_str().to_os_string();
    vec![
        (
            "modprobe -D over a looping index",
            vec![
                "-D".into(),
                "-d".into(),
                os(&root),
                "-S".into(),
                "6.1.0-hostile".into(),
                "anything".into(),
            ],
        ),
        (
            "modprobe -c with 1 MB lines and non-UTF-8",
            vec!["-c".into(), "-C".into(), os(&conf)],
        ),
    ]
}

#[test]
fn hostile_indexes_and_modprobe_d_end_cleanly() {
    let dir = ScratchDir::new("hostile-cli-modprobe");
    for (what, args) in modprobe_cases(dir.path()) {
        let args: Vec<&OsStr> = args.iter().map(|a| a.as_os_str()).collect();
        let r = run(dir.path(), "modprobe", &args, AS_BOUND);
        check(what, &r, None, "modprobe: ", RSS_BOUND_KB);
        eprintln!(
            "{what}: exit {:?} in {:?}, peak RSS {:?} kB",
            r.out.status.code(),
            r.took,
            r.rss_kb
        );
    }
}

/// depmod with deeply nested and huge-interval patterns, a 200,000-entry
/// `search` line and bytes that are not UTF-8: it finishes, writes its
/// files, and exits 0 (kmod's depmod crashes on the nesting).
#[test]
fn depmod_with_hostile_depmod_d_finishes() {
    let dir = ScratchDir::new("hostile-cli-depmod");
    let root = dir.path().join("root");
    let moddir = tiny_tree(&root, "6.1.0-hostile", None);
    let conf = dir.path().join("depmod.d");
    std::fs::create_dir_all(&conf).unwrap();
    let nested = format!("{}x{}", "(".repeat(100_000), ")".repeat(100_000));
    let search: String = (0..200_000).map(|i| format!(" d{i}")).collect();
    let text = format!(
        "override hostile {nested} extra\noverride hostile (){{32767}}x extra\n\
         external {} /ext\nsearch{search}\nexclude \u{fffd}\n",
        "(".repeat(100_000)
    );
    let mut bytes = text.into_bytes();
    bytes.extend_from_slice(b"override \xff\xfe 6 \x80\n");
    std::fs::write(conf.join("hostile.conf"), bytes).unwrap();
    let args = [
        OsStr::new("-b"),
        root.as_os_str(),
        OsStr::new("-C"),
        conf.as_os_str(),
        OsStr::new("6.1.0-hostile"),
    ];
    let r = run(dir.path(), "depmod", &args, AS_BOUND);
    check("depmod", &r, Some(0), "depmod: ", RSS_BOUND_KB);
    let dep = std::fs::read_to_string(moddir.join("modules.dep")).unwrap();
    assert_eq!(dep, "kernel/hostile.ko:\n");
    eprintln!("depmod: {:?}, peak RSS {:?} kB", r.took, r.rss_kb);
}

/// Hostile kernel log files for `dmesg -F` (syslog text) and `dmesg -K`
/// (/dev/kmsg records): a 1 MB record, records without `;`, numbers that
/// overflow, NUL and bytes that are not UTF-8.
fn hostile_logs(dir: &Path) -> Vec<(&'static str, PathBuf)> {
    let mut text =
        b"<6>[    1.000000] ok\n<99999999999999999999>[99999999999999999999.999999] big\n".to_vec();
    text.extend_from_slice(b"<4>[ 2.5] \xff\xfe\x80 not utf-8 \xc3\x28\n<");
    text.extend(std::iter::repeat_n(b'x', 1 << 20));
    text.extend_from_slice(b"\n<6>[-1.-1] neg\n\0\0<3>[1.0] after nul\n");
    let mut kmsg = b"6,1,1000000,-;ok\n".to_vec();
    kmsg.extend_from_slice(b"\x006,99999999999999999999,99999999999999999999,-;big\n");
    kmsg.extend_from_slice(
        b"\x00no semicolon at all\n\x004,3,2,c;\xff\xfe\x80 \xc3\x28\n SUBSYSTEM=\xff\n",
    );
    kmsg.extend_from_slice(b"\x006,4,3,-;");
    kmsg.extend(std::iter::repeat_n(b'k', 1 << 20));
    kmsg.extend_from_slice(b"\n\x00-1,-1,-1,-;neg\n");
    vec![
        ("-F", write(dir, b"syslog.txt", &text)),
        ("-K", write(dir, b"kmsg.bin", &kmsg)),
    ]
}

#[test]
fn dmesg_with_hostile_log_files_ends_cleanly() {
    let dir = ScratchDir::new("hostile-cli-dmesg");
    for (opt, file) in hostile_logs(dir.path()) {
        for extra in [&[][..], &["-x", "-T"][..], &["--json"][..]] {
            let mut args = vec![OsStr::new(opt), file.as_os_str()];
            args.extend(extra.iter().map(OsStr::new));
            let r = run(dir.path(), "dmesg", &args, AS_BOUND);
            check(
                &format!("dmesg {opt} {extra:?}"),
                &r,
                None,
                "dmesg: ",
                RSS_BOUND_KB,
            );
        }
    }
}

/// Runs the reference with a 5 s timeout (`timeout -s KILL`): its output,
/// or `None` when it died by a signal or hung (named in `died`).
fn reference(tool: &str, args: &[&OsStr], died: &mut Vec<String>, what: &str) -> Option<Output> {
    let out = Command::new("timeout")
        .args(["-s", "KILL", "5"])
        .arg(ref_tool(tool))
        .args(args)
        .env("LC_ALL", "C")
        .output()
        .expect("run the reference");
    let stderr = String::from_utf8_lossy(&out.stderr);
    if out.status.signal().is_some()
        || stderr.contains("Assertion")
        || out.status.code() == Some(137)
    {
        died.push(format!(
            "{what}: {}",
            stderr.lines().last().unwrap_or("killed")
        ));
        return None;
    }
    Some(out)
}

#[test]
fn hostile_inputs_vs_reference() {
    if !runs(Tier::Reference) {
        return;
    }
    let dir = ScratchDir::new("hostile-cli-vs-ref");
    let mut died = Vec::new();
    let mut diffs = Vec::new();
    let mut compared = 0;
    for (name, data) in hostile_modules() {
        let p = write(dir.path(), format!("{name}.ko").as_bytes(), &data);
        let args = [p.as_os_str()];
        let ours = run(dir.path(), "modinfo", &args, AS_BOUND).out;
        let Some(theirs) = reference("modinfo", &args, &mut died, &name) else {
            continue;
        };
        compared += 1;
        if ours.status.code() != theirs.status.code() || ours.stdout != theirs.stdout {
            diffs.push(format!(
                "modinfo {name}: exit {:?} vs {:?}\n{}",
                ours.status.code(),
                theirs.status.code(),
                common::first_difference(&ours.stdout, &theirs.stdout)
            ));
        }
    }
    for (what, args) in modprobe_cases(dir.path()) {
        let args: Vec<&OsStr> = args.iter().map(|a| a.as_os_str()).collect();
        let ours = run(dir.path(), "modprobe", &args, AS_BOUND).out;
        let Some(theirs) = reference("modprobe", &args, &mut died, what) else {
            continue;
        };
        compared += 1;
        diffs.extend(common::output_differences(what, &ours, &theirs));
    }
    for (opt, file) in hostile_logs(dir.path()) {
        let args = [OsStr::new(opt), file.as_os_str()];
        let ours = run(dir.path(), "dmesg", &args, AS_BOUND).out;
        let what = format!("dmesg {opt}");
        let Some(theirs) = reference("dmesg", &args, &mut died, &what) else {
            continue;
        };
        compared += 1;
        diffs.extend(common::output_differences(&what, &ours, &theirs));
    }
    eprintln!(
        "compared {compared} hostile inputs with the reference; the reference died on {}:\n{}",
        died.len(),
        died.join("\n")
    );
    assert!(compared > 40, "{compared}");
    common::assert_no_failures("hostile inputs", &diffs);
}

/// One seeded mutation: flip bits, set bytes to 0/0xff/random, overwrite a
/// 4- or 8-byte field with an extreme value, or truncate; most of them in
/// the first `hot` bytes (headers and tables).
fn mutate(rng: &mut modkit_testkit::Rng, data: &[u8], hot: usize) -> Vec<u8> {
    let mut d = data.to_vec();
    if d.is_empty() {
        return d;
    }
    for _ in 0..1 + rng.below(4) {
        let span = if rng.below(4) == 0 {
            d.len()
        } else {
            hot.min(d.len())
        };
        let at = rng.below(span);
        match rng.below(6) {
            0 => d[at] ^= 1 << rng.below(8),
            1 => d[at] = 0,
            2 => d[at] = 0xff,
            3 => d[at] = rng.next_u64() as u8,
            4 => {
                let v = [u64::MAX, 0x8000_0000, 0x7FFF_FFFF, 0][rng.below(4)];
                let w = if rng.below(2) == 0 { 4 } else { 8 };
                for (i, b) in v.to_le_bytes().iter().take(w).enumerate() {
                    if let Some(x) = d.get_mut(at + i) {
                        *x = *b;
                    }
                }
            }
            _ => d.truncate(at.max(1)),
        }
    }
    d
}

/// Differential fuzzing against the references, seeded and bounded: 600
/// mutated real modules through `modinfo` (kmod 34.2), 300 mutated
/// modprobe.d files through `modprobe -c` (kmod), 300 mutated kmsg files
/// through `dmesg -K` (util-linux 2.41): the same stdout and exit code,
/// or a documented reason, counted and named: the reference died (kmod's
/// assertion on section indexes, util-linux's "buffer overflow
/// detected"), or util-linux printed bytes from past a record that lacks
/// its terminator (its buffer is not cleared; modkit's is).
#[test]
fn seeded_mutations_vs_reference() {
    if !runs(Tier::Reference) {
        return;
    }
    let dir = ScratchDir::new("hostile-cli-differential");
    let tree = common::Tree::get("6.1");
    let mut modules: Vec<(u64, PathBuf)> = tree
        .module_files()
        .into_iter()
        .filter_map(|p| Some((std::fs::metadata(&p).ok()?.len(), p)))
        .filter(|(len, _)| *len < 64 << 10)
        .collect();
    modules.sort();
    let step = (modules.len() / 20).max(1);
    let seeds: Vec<Vec<u8>> = modules
        .iter()
        .step_by(step)
        .take(20)
        .map(|(_, p)| std::fs::read(p).unwrap())
        .collect();
    let mut rng = modkit_testkit::Rng(0x00d1_ff17);
    let mut cases: Vec<(String, &'static str, Vec<std::ffi::OsString>)> = Vec::new();
    for i in 0..600 {
        let m = mutate(&mut rng, &seeds[i % seeds.len()], 4096);
        let p = write(dir.path(), format!("m{i}.ko").as_bytes(), &m);
        cases.push((format!("modinfo m{i}.ko"), "modinfo", vec![p.into()]));
    }
    let conf_seed = b"alias pci:v00008086d* e1000e\noptions e1000e IntMode=1 \"x y\"\n\
        install a /bin/true\nremove a /bin/false\nsoftdep a pre: b post: c\nweakdep a d\n\
        blacklist evil\n# comment\nalias \\\n cont x\noptions a b=\"c d\" e\n";
    for i in 0..300 {
        let d = dir.path().join(format!("conf{i}"));
        std::fs::create_dir_all(&d).unwrap();
        std::fs::write(
            d.join("m.conf"),
            mutate(&mut rng, conf_seed, conf_seed.len()),
        )
        .unwrap();
        cases.push((
            format!("modprobe -c conf{i}"),
            "modprobe",
            vec!["-c".into(), "-C".into(), d.into()],
        ));
    }
    let kmsg_seed = b"6,1,1000000,-;ok\n SUBSYSTEM=pci\n DEVICE=+pci:0000:00:01.0\n\x00\
        4,2,2000000,c,caller=T12;warn \\x1b[1m\n\x0012,3,3000000,-;x\n\x006,4,4000000,+;cont\n";
    for i in 0..300 {
        let p = write(
            dir.path(),
            format!("k{i}").as_bytes(),
            &mutate(&mut rng, kmsg_seed, kmsg_seed.len()),
        );
        cases.push((
            format!("dmesg -K k{i}"),
            "dmesg",
            vec!["-K".into(), p.into()],
        ));
    }
    let died = std::sync::Mutex::new(Vec::new());
    let diffs = common::parallel_failures(&cases, |(what, tool, args)| {
        let args: Vec<&OsStr> = args.iter().map(|a| a.as_os_str()).collect();
        let ours = Command::new(modkit())
            .arg(tool)
            .args(&args)
            .env("LC_ALL", "C")
            .env("TZ", "UTC0")
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&ours.stderr);
        if ours.status.signal().is_some() || stderr.contains("panicked") {
            return Some(format!("{what}: modkit {:?}: {stderr}", ours.status));
        }
        let out = Command::new("timeout")
            .args(["-s", "KILL", "10"])
            .arg(ref_tool(tool))
            .args(&args)
            .env("LC_ALL", "C")
            .env("TZ", "UTC0")
            .output()
            .unwrap();
        let theirs_err = String::from_utf8_lossy(&out.stderr);
        if out.status.signal().is_some()
            || out.status.code() == Some(137)
            || theirs_err.contains("Assertion")
        {
            died.lock().unwrap().push(format!(
                "{what}: {}",
                theirs_err.lines().last().unwrap_or("killed")
            ));
            return None;
        }
        if ours.status.code() == out.status.code() && ours.stdout == out.stdout {
            return None;
        }
        // util-linux's dmesg -K copies each record into a buffer that is
        // not cleared: a record without its terminator is read on into
        // uninitialized bytes (which change with ASLR from run to run).
        // modkit's buffer starts zeroed: such a difference is the
        // reference's, and shows as a reference that disagrees with itself.
        if *tool == "dmesg" {
            let again = Command::new(ref_tool(tool))
                .args(&args)
                .env("LC_ALL", "C")
                .env("TZ", "UTC0")
                .output()
                .unwrap();
            // glibc fills fresh heap memory with this byte's complement.
            let third = Command::new(ref_tool(tool))
                .args(&args)
                .env("LC_ALL", "C")
                .env("TZ", "UTC0")
                .env("MALLOC_PERTURB_", "85")
                .output()
                .unwrap();
            // Or the stale bytes are the same each run (a byte of a
            // pointer): the reference's line is modkit's plus escaped
            // bytes (`\xHH`) read past the record.
            let ours_text = String::from_utf8_lossy(&ours.stdout).into_owned();
            let ref_text = String::from_utf8_lossy(&out.stdout).into_owned();
            let escapes_only = |rest: &str| {
                !rest.is_empty()
                    && rest.len().is_multiple_of(4)
                    && rest.as_bytes().chunks(4).all(|c| c.starts_with(b"\\x"))
            };
            let stale_tail = ours_text.lines().count() == ref_text.lines().count()
                && ours_text
                    .lines()
                    .zip(ref_text.lines())
                    .all(|(a, b)| a == b || b.strip_prefix(a).is_some_and(escapes_only));
            if stale_tail || again.stdout != out.stdout || third.stdout != out.stdout {
                died.lock().unwrap().push(format!(
                    "{what}: util-linux's output changes from run to run (uninitialized bytes)"
                ));
                return None;
            }
        }
        (ours.status.code() != out.status.code() || ours.stdout != out.stdout).then(|| {
            format!(
                "{what}: exit {:?} vs {:?}\n{}",
                ours.status.code(),
                out.status.code(),
                common::first_difference(&ours.stdout, &out.stdout)
            )
        })
    });
    let died = died.into_inner().unwrap();
    eprintln!(
        "{} mutated inputs: {} differences; the reference died, hung or printed bytes from \
         past a record on {}:\n{}",
        cases.len(),
        diffs.len(),
        died.len(),
        died.iter().take(10).cloned().collect::<Vec<_>>().join("\n")
    );
    common::assert_no_failures("seeded mutations", &diffs);
}
