//! Robustness: thousands of deterministic mutations of real module files
//! and indexes (bit flips, truncation, tampered length and offset fields)
//! go through every parser. Each must return a value or an error — never
//! panic, never hang.
//!
//! The tests that mutate real files use the cached Debian trees
//! (`scripts/refs.sh`): they are of the reference tier (`modkit_testkit`),
//! skipped with a line saying so by plain `cargo test` when the cache is
//! missing, failing when `MODKIT_TEST_TIERS` requires the tier. The
//! kernel command line test makes its own inputs and always runs.

use modkit::builtin;
use modkit::index::Index;
use modkit::module::Module;
use modkit::signature;
use modkit_testkit::{runs, Rng, ScratchDir, Tier};

fn tree_file(tree: &str, rel: &str) -> Vec<u8> {
    let root = modkit_testkit::cache_dir().join("trees").join(tree);
    let version = std::fs::read_to_string(root.join(".version"))
        .unwrap_or_else(|_| panic!("{} missing: run scripts/refs.sh", root.display()));
    let path = root.join("lib/modules").join(version.trim()).join(rel);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// One mutation of `data`: flip bytes, overwrite a 4- or 8-byte field with
/// an extreme value, or truncate.
fn mutate(rng: &mut Rng, data: &[u8], hot: usize) -> Vec<u8> {
    let mut d = data.to_vec();
    // Most mutations hit the first `hot` bytes (headers, tables).
    let pick = |rng: &mut Rng, len: usize| {
        if rng.below(4) == 0 {
            rng.below(len)
        } else {
            rng.below(hot.min(len))
        }
    };
    match rng.below(4) {
        0 => {
            for _ in 0..1 + rng.below(8) {
                let i = pick(rng, d.len());
                d[i] ^= 1 << rng.below(8);
            }
        }
        1 => {
            let i = pick(rng, d.len().saturating_sub(8));
            let v: [u8; 8] = match rng.below(4) {
                0 => [0xff; 8],
                1 => [0; 8],
                2 => (d.len() as u64 + rng.below(64) as u64).to_le_bytes(),
                _ => rng.next_u64().to_le_bytes(),
            };
            let w = if rng.below(2) == 0 { 4 } else { 8 };
            d[i..i + w].copy_from_slice(&v[..w]);
        }
        2 => d.truncate(rng.below(d.len())),
        _ => {
            // tamper near the end: signature trailer, last nodes
            let n = d.len();
            let i = n - 1 - rng.below(64.min(n));
            d[i] = rng.next_u64() as u8;
        }
    }
    d
}

fn exercise_module(bytes: Vec<u8>) {
    if let Ok(m) = Module::from_bytes("/x/mutant.ko", bytes) {
        let _ = m.info();
        let _ = m.versions();
        let _ = m.symbols();
        let _ = m.dependency_symbols();
        let _ = m.signature();
        let _ = signature::strip_signature(m.data());
        if let Ok(elf) = m.elf() {
            // insmod -f on the init_module route: same size, never a panic
            if let Ok(stripped) = elf.strip_for_force(true, true) {
                assert_eq!(stripped.len(), elf.data().len());
            }
        }
    }
}

#[test]
fn mutated_plain_modules_never_panic() {
    if !runs(Tier::Reference) {
        return;
    }
    for rel in [
        "kernel/drivers/net/dummy.ko",
        "kernel/crypto/xor.ko",
        "kernel/lib/crc7.ko",
    ] {
        let data = tree_file("6.1", rel);
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
        for _ in 0..3000 {
            exercise_module(mutate(&mut rng, &data, 4096));
        }
    }
}

#[test]
fn mutated_compressed_modules_never_panic() {
    if !runs(Tier::Reference) {
        return;
    }
    let data = tree_file("6.12", "kernel/drivers/net/dummy.ko.xz");
    let mut rng = Rng(0x1234_5678_9abc_def1);
    for _ in 0..400 {
        exercise_module(mutate(&mut rng, &data, 256));
    }
}

#[test]
fn mutated_signature_trailers_never_panic() {
    if !runs(Tier::Reference) {
        return;
    }
    let data = tree_file("6.1", "kernel/drivers/net/dummy.ko");
    let mut rng = Rng(42);
    let tail = 1024.min(data.len());
    for _ in 0..5000 {
        let mut d = data.clone();
        for _ in 0..1 + rng.below(4) {
            let i = d.len() - 1 - rng.below(tail);
            d[i] = rng.next_u64() as u8;
        }
        let _ = signature::parse_appended(&d);
        let _ = signature::strip_signature(&d);
    }
}

#[test]
fn mutated_indexes_never_panic() {
    if !runs(Tier::Reference) {
        return;
    }
    for file in ["modules.dep.bin", "modules.builtin.bin"] {
        let data = tree_file("6.1", file);
        let mut rng = Rng(7);
        for _ in 0..1500 {
            let d = mutate(&mut rng, &data, data.len());
            if let Ok(idx) = Index::from_bytes(d) {
                let _ = idx.lookup("btrfs");
                let _ = idx.lookup_all("dummy");
                let _ = idx.search_wildcard("pci:v00008086d00001234sv*");
                let _ = idx.iter();
            }
        }
    }
}

#[test]
fn mutated_builtin_modinfo_never_panics() {
    if !runs(Tier::Reference) {
        return;
    }
    let data = tree_file("6.1", "modules.builtin.modinfo");
    let data = &data[..data.len().min(64 * 1024)];
    let mut rng = Rng(99);
    for _ in 0..500 {
        let d = mutate(&mut rng, data, data.len());
        let _ = builtin::modinfo_strings(&d, "ext4");
        let _ = builtin::modinfo_strings(&d, "zzz");
    }
}

/// Mutated `modprobe.d` text (the tree's real `modules.softdep` plus a file
/// using every directive) through the configuration parser and `-c`'s
/// printer: never a panic.
#[test]
fn mutated_modprobe_config_never_panics() {
    if !runs(Tier::Reference) {
        return;
    }
    let mut data = tree_file("6.12", "modules.softdep");
    data.extend_from_slice(
        b"alias a-b[0-9] c\noptions m x=1\\\n y=2\ninstall i /bin/true $CMDLINE_OPTS\n\
          remove r /bin/true\nblacklist b\nsoftdep s pre: a post: b\nweakdep w x y\n\
          include x\n\tbad line\n",
    );
    let mut rng = Rng(1234);
    for _ in 0..3000 {
        let d = mutate(&mut rng, &data, data.len());
        let mut cfg = modkit::config::ModprobeConfig::default();
        cfg.parse(b"mutant.conf", &d, &modkit::kmod::quiet);
        let _ = cfg.show();
        let _ = cfg.is_blacklisted(b"b");
    }
}

/// Random and mutated kernel command lines (quotes, dots, equal signs,
/// bytes that are not UTF-8) through libkmod's state machine: never a
/// panic, and every option found has a module name and a parameter.
#[test]
fn hostile_kernel_command_lines_never_panic() {
    let base = b"BOOT_IMAGE=/vmlinuz quiet \"parport.dyndbg=file x +p\" m.p=\"a b\" modprobe.blacklist=a,,b a.b.c=1 x\"y.z=1 -- init.arg\n";
    let alphabet = b" \t\n.=\",-_ab\xff\0";
    let mut rng = Rng(4321);
    for i in 0..20_000 {
        let line: Vec<u8> = if i % 2 == 0 {
            mutate(&mut rng, base, base.len())
        } else {
            (0..rng.below(40))
                .map(|_| alphabet[rng.below(alphabet.len())])
                .collect()
        };
        for (module, param) in modkit::config::kernel_cmdline_options(&line) {
            assert!(!module.contains(&0) && !param.contains(&0));
        }
        let mut cfg = modkit::config::ModprobeConfig::default();
        cfg.parse_kernel_cmdline(&line, &modkit::kmod::quiet);
    }
}

/// A module directory whose indexes are mutated copies of a real tree's:
/// modprobe's lookups and probe lists (as `-D` computes them) never panic
/// nor loop.
#[test]
fn probe_over_mutated_indexes_never_panics() {
    use modkit::probe::{Context, ProbeFlags};
    if !runs(Tier::Reference) {
        return;
    }
    let dir = ScratchDir::new("hostile-probe");
    let files = [
        "modules.dep.bin",
        "modules.alias.bin",
        "modules.symbols.bin",
        "modules.builtin.bin",
    ];
    let originals: Vec<Vec<u8>> = files.iter().map(|f| tree_file("6.1", f)).collect();
    let flags = ProbeFlags {
        dry_run: true,
        ignore_loaded: true,
        ..Default::default()
    };
    let mut rng = Rng(777);
    for round in 0..200 {
        for (f, data) in files.iter().zip(&originals) {
            let d = if round % 4 == 0 {
                data.clone()
            } else {
                mutate(&mut rng, data, data.len())
            };
            std::fs::write(dir.join(f), d).unwrap();
        }
        let config = modkit::config::ModprobeConfig::default();
        let Ok(mut ctx) = Context::new(&dir, config, std::rc::Rc::new(modkit::kmod::quiet)) else {
            continue;
        };
        for name in [
            "btrfs",
            "pci:v00008086d000010D3sv*sd*bc*sc*i*",
            "symbol:crc32c",
            "ext4",
            "fs-xfs",
        ] {
            if let Ok(found) = ctx.lookup(name) {
                for m in found {
                    let _ = ctx.probe_insert(m, &flags, None, &mut |_| {});
                }
            }
        }
    }
}

/// A DER element: `tag`, definite length, `content`.
fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut v = vec![tag];
    let n = content.len();
    if n < 0x80 {
        v.push(n as u8);
    } else {
        let bytes: Vec<u8> = n
            .to_be_bytes()
            .into_iter()
            .skip_while(|&b| b == 0)
            .collect();
        v.push(0x80 | bytes.len() as u8);
        v.extend(bytes);
    }
    v.extend_from_slice(content);
    v
}

/// A signed module whose PKCS#7 blob is `blob` (`id_type` 2).
fn pkcs7_module(blob: &[u8]) -> Vec<u8> {
    let mut m = b"\x7fELF hostile".to_vec();
    m.extend_from_slice(blob);
    m.extend([0, 0, 2, 0, 0, 0, 0, 0]);
    m.extend((blob.len() as u32).to_be_bytes());
    m.extend_from_slice(signature::SIG_MAGIC);
    m
}

/// `levels` ContentInfos, each a signedData whose content is the next one
/// (indefinite lengths, so building it is linear), each with one signer.
fn nested_pkcs7(levels: usize) -> Vec<u8> {
    const SIGNED: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x02];
    const DATA: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x01];
    const SHA256: &[u8] = &[0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01];
    const RSA: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01];
    let cn = tlv(
        0x30,
        &[tlv(0x06, &[0x55, 0x04, 0x03]), tlv(0x0c, b"K")].concat(),
    );
    let issuer = tlv(0x30, &tlv(0x31, &cn));
    let signer = tlv(
        0x30,
        &[
            tlv(0x02, &[1]),
            tlv(0x30, &[issuer, tlv(0x02, &[7])].concat()),
            tlv(0x30, &tlv(0x06, SHA256)),
            tlv(0x30, &[tlv(0x06, RSA), tlv(0x05, &[])].concat()),
            tlv(0x04, &[0xAA; 8]),
        ]
        .concat(),
    );
    let mut open = vec![0x30, 0x80];
    open.extend(tlv(0x06, SIGNED));
    open.extend([0xa0, 0x80, 0x30, 0x80]);
    open.extend(tlv(0x02, &[1]));
    open.extend(tlv(0x31, &[]));
    let mut close = tlv(0x31, &signer);
    close.extend([0u8; 6]);
    let mut blob = open.repeat(levels);
    blob.extend(tlv(0x30, &tlv(0x06, DATA)));
    blob.extend(close.repeat(levels));
    blob
}

/// PKCS#7 nested far beyond OpenSSL's 30 levels (and constructed strings
/// beyond its 5): no signature, as kmod reports, in bounded time and
/// stack — never a stack overflow.
#[test]
fn hostile_pkcs7_nesting_is_refused() {
    let shallow = signature::parse_appended(&pkcs7_module(&nested_pkcs7(2))).expect("2 levels");
    assert_eq!(shallow.signer, b"K");
    assert_eq!(shallow.key_id, [7]);
    // OpenSSL's limit: 13 levels decode, 14 do not.
    assert!(signature::parse_appended(&pkcs7_module(&nested_pkcs7(13))).is_some());
    for levels in [14, 1000, 100_000] {
        let m = pkcs7_module(&nested_pkcs7(levels));
        assert_eq!(signature::parse_appended(&m), None, "{levels} levels");
        assert_eq!(signature::strip_signature(&m), b"\x7fELF hostile");
    }
    // 200,000 nested indefinite-length SEQUENCEs with and without their
    // end-of-contents markers, and as many constructed OCTET STRINGs.
    for (tag, closed) in [(0x30u8, true), (0x30, false), (0x24, true)] {
        let mut blob = [tag, 0x80].repeat(200_000);
        if closed {
            blob.extend([0u8, 0].repeat(200_000));
        }
        assert_eq!(signature::parse_appended(&pkcs7_module(&blob)), None);
    }
}

/// fnmatch over mutations of a real tree's alias patterns and the
/// modaliases they were written for, plus star-heavy patterns: never a
/// panic, and a naive backtracking matcher's exponential cases finish.
#[test]
fn hostile_fnmatch_patterns_finish() {
    use modkit::compat::fnmatch::fnmatch;
    // Pattern bombs: polynomial, not exponential, as glibc's.
    let start = std::time::Instant::now();
    let bomb = "*a".repeat(40) + "*b";
    assert!(!fnmatch(bomb.as_bytes(), "a".repeat(10_000).as_bytes()));
    let bomb = "*[a-z]?".repeat(40) + "*\\b";
    assert!(!fnmatch(bomb.as_bytes(), "a".repeat(10_000).as_bytes()));
    assert!(start.elapsed() < std::time::Duration::from_secs(60));
    // Mutations of a real tree's alias patterns.
    if !runs(Tier::Reference) {
        return;
    }
    let index = Index::from_bytes(tree_file("6.1", "modules.alias.bin")).unwrap();
    let patterns: Vec<Vec<u8>> = index
        .iter()
        .unwrap()
        .into_iter()
        .step_by(97)
        .map(|(k, _)| k.into_bytes())
        .filter(|k| k.len() >= 16) // what mutate() needs
        .collect();
    assert!(patterns.len() > 100);
    let mut rng = Rng(2024);
    let start = std::time::Instant::now();
    for p in &patterns {
        // The pattern's own text as the string: its literal parts match.
        let s: Vec<u8> = p
            .iter()
            .map(|&b| if b == b'*' { b'0' } else { b })
            .collect();
        for _ in 0..20 {
            let mp = mutate(&mut rng, p, p.len());
            let ms = mutate(&mut rng, &s, s.len());
            let _ = fnmatch(&mp, &ms);
            let _ = fnmatch(&mp, &s);
        }
    }
    assert!(start.elapsed() < std::time::Duration::from_secs(60));
}
