//! `compat::fnmatch` against glibc's own `fnmatch(3)`: random patterns and
//! strings over the characters that mean something to it (`*?[]!^-\`,
//! classes, collating symbols, equivalence classes, bytes above 127) must
//! get the same answer from both.
//!
//! Builds `tests/glibc/fnmatch.c` with the system C compiler (the one
//! cargo links with) and runs it with the host's glibc and, when the
//! reference tools are cached (`scripts/refs.sh`), with the glibc the
//! reference kmod runs with.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use modkit::compat::fnmatch::fnmatch;
use modkit_testkit::Rng;

/// A scratch directory removed when dropped, also when a test fails.
struct Scratch(PathBuf);

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

const PATTERN_PIECES: &[&str] = &[
    "a",
    "b",
    "c",
    "-",
    "]",
    "[",
    "!",
    "^",
    "*",
    "?",
    "\\",
    ":",
    "=",
    ".",
    "/",
    "0",
    "Z",
    "[:alpha:]",
    "[:digit:]",
    "[:upper:]",
    "[:space:]",
    "[:foo:]",
    "[=a=]",
    "[.a.]",
    "[.-.]",
    "[.ab.]",
    "[!",
    "[^",
    "[]",
    "a-c",
    "[a-c]",
    "\u{e9}",
    "\\*",
    "**",
];
const STRING_PIECES: &[&str] = &[
    "a", "b", "c", "-", "]", "[", "!", "^", "*", "?", "\\", ":", "=", ".", "/", "0", "Z", " ",
    "\u{e9}", "A", "9",
];
/// Few pieces, so that matches are frequent.
const SMALL_PATTERN_PIECES: &[&str] = &["a", "b", "*", "?", "[", "]", "!", "-", "\\", "^"];
const SMALL_STRING_PIECES: &[&str] = &["a", "b", "[", "]", "-", "\\", "!"];

/// `count` pairs from each alphabet.
fn pairs(count: usize) -> Vec<(Vec<u8>, Vec<u8>)> {
    let mut rng = Rng(0x5eed_f00d_1234_5678);
    let mut out = Vec::with_capacity(2 * count);
    for (pattern_pieces, string_pieces) in [
        (PATTERN_PIECES, STRING_PIECES),
        (SMALL_PATTERN_PIECES, SMALL_STRING_PIECES),
    ] {
        for _ in 0..count {
            let mut p = Vec::new();
            for _ in 0..rng.below(10) {
                p.extend_from_slice(pattern_pieces[rng.below(pattern_pieces.len())].as_bytes());
            }
            let mut s = Vec::new();
            for _ in 0..rng.below(8) {
                s.extend_from_slice(string_pieces[rng.below(string_pieces.len())].as_bytes());
            }
            out.push((p, s));
        }
    }
    out
}

/// Runs the compiled reference with `input` on standard input; its output.
fn run(mut command: Command, input: &Path) -> Vec<u8> {
    let out = command
        .stdin(Stdio::from(std::fs::File::open(input).unwrap()))
        .stderr(Stdio::inherit())
        .output()
        .unwrap_or_else(|e| panic!("running the glibc fnmatch reference: {e}"));
    assert!(
        out.status.success(),
        "glibc fnmatch reference: {}",
        out.status
    );
    out.stdout
}

fn compare(which: &str, answers: &[u8], cases: &[(Vec<u8>, Vec<u8>)]) {
    assert_eq!(answers.len(), cases.len(), "{which}: one answer per pair");
    let mut differences = Vec::new();
    let mut matches = 0;
    for ((p, s), &glibc) in cases.iter().zip(answers) {
        let ours = fnmatch(p, s);
        matches += usize::from(ours);
        if ours != (glibc == b'1') {
            differences.push(format!(
                "pattern {:?} string {:?}: glibc {}, ours {ours}",
                String::from_utf8_lossy(p),
                String::from_utf8_lossy(s),
                glibc == b'1'
            ));
        }
    }
    assert!(
        differences.is_empty(),
        "{which}: {} differences, first: {:#?}",
        differences.len(),
        &differences[..differences.len().min(10)]
    );
    // Guard against a degenerate generator: both outcomes are exercised.
    assert!(
        matches > cases.len() / 100,
        "{which}: only {matches} matches"
    );
}

#[test]
fn fnmatch_matches_glibc_fnmatch() {
    let dir = Scratch(std::env::temp_dir().join(format!("modkit-fnmatch-{}", std::process::id())));
    std::fs::create_dir_all(&dir.0).unwrap();
    let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/glibc/fnmatch.c");
    let binary = dir.0.join("fnmatch-glibc");
    let cc = std::env::var("CC").unwrap_or_else(|_| "cc".to_string());
    let status = Command::new(&cc)
        .arg("-O2")
        .arg("-o")
        .arg(&binary)
        .arg(&source)
        .status()
        .unwrap_or_else(|e| panic!("{cc}: {e} (a C compiler is needed to build {source:?})"));
    assert!(status.success(), "{cc} {}: {status}", source.display());

    let cases = pairs(200_000);
    let input = dir.0.join("pairs");
    let mut file = std::io::BufWriter::new(std::fs::File::create(&input).unwrap());
    for (p, s) in &cases {
        file.write_all(p).unwrap();
        file.write_all(b"\0").unwrap();
        file.write_all(s).unwrap();
        file.write_all(b"\0").unwrap();
    }
    file.into_inner().unwrap().sync_all().unwrap();

    let host = run(Command::new(&binary), &input);
    compare("host glibc", &host, &cases);

    // The C library the reference kmod runs with (see scripts/refs.sh).
    let cache = std::env::var_os("MODKIT_CACHE")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(std::env::var_os("HOME").unwrap()).join(".cache/modkit"));
    let libs = cache.join("ref/root/usr/lib/x86_64-linux-gnu");
    let loader = libs.join("ld-linux-x86-64.so.2");
    if loader.exists() {
        let mut command = Command::new(&loader);
        command.arg("--library-path").arg(&libs).arg(&binary);
        let reference = run(command, &input);
        compare("reference glibc", &reference, &cases);
    } else {
        eprintln!(
            "fnmatch_vs_glibc: {} missing, compared with the host's glibc only (scripts/refs.sh fetches the reference)",
            loader.display()
        );
    }
}
