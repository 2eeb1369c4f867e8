//! `modkit taint VALUE` against the kernel's own decoder,
//! `tools/debugging/kernel-chktaint` from Debian's linux-source-6.12
//! (fetched once into the cache by `scripts/chktaint.sh`): the same flags
//! (`#BIT` lines) and the same raw string (letter when set, `G`/space when
//! clear) for every single bit, all bits set, and a few hundred random
//! values, some with bits the 6.12 script does not know (it ignores them;
//! modkit names bit 19 `J` and shows higher bits as numbers). Also: the
//! table agrees with `vm/run`'s.

mod common;

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::process::Command;

use common::*;
use modkit_testkit::{repo_root, Rng};

/// The bits kernel-chktaint 6.12 knows (0..=18).
const CHKTAINT_BITS: u32 = 19;

fn chktaint() -> PathBuf {
    let out = Command::new(repo_root().join("scripts/chktaint.sh"))
        .output()
        .expect("run scripts/chktaint.sh");
    assert!(
        out.status.success(),
        "scripts/chktaint.sh failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let path = String::from_utf8_lossy(&out.stdout)
        .lines()
        .last()
        .unwrap_or_default()
        .to_string();
    PathBuf::from(path)
}

/// kernel-chktaint's decoding: the bits of its `(#N)` lines and its raw
/// string (`None` for "Kernel not Tainted").
fn theirs(script: &PathBuf, value: u64) -> (BTreeSet<u32>, Option<String>) {
    let out = Command::new("bash")
        .arg(script)
        .arg(value.to_string())
        .output()
        .expect("run kernel-chktaint");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let bits = text
        .lines()
        .filter_map(|l| {
            let l = l.trim_end();
            let n = l.strip_suffix(')')?.rsplit_once("(#")?.1;
            n.parse().ok()
        })
        .collect();
    let raw = text
        .lines()
        .find_map(|l| l.strip_prefix("Raw taint value as int/string: "))
        .map(|r| {
            let (_, s) = r.split_once("/'").expect("raw string");
            s.strip_suffix('\'').expect("raw string end").to_string()
        });
    if raw.is_none() {
        assert!(text.contains("Kernel not Tainted"), "{value}: {text}");
    }
    (bits, raw)
}

/// modkit's decoding of the same value: bits, raw string, unknown bits.
fn ours(value: u64) -> (BTreeSet<u32>, String, Vec<u64>) {
    let out = run_modkit("taint", ["--json", &value.to_string()]);
    assert!(out.status.success(), "modkit taint {value} failed");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(v["value"].as_u64(), Some(value));
    let bits = v["flags"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["bit"].as_u64().unwrap() as u32)
        .collect();
    let ks = v["kernel_string"].as_str().unwrap().to_string();
    let unknown = v["unknown_bits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b.as_u64().unwrap())
        .collect();
    (bits, ks, unknown)
}

fn check(script: &PathBuf, value: u64) -> Option<String> {
    let (their_bits, their_raw) = theirs(script, value);
    let (our_bits, kernel_string, unknown) = ours(value);
    let known: BTreeSet<u32> = our_bits
        .iter()
        .copied()
        .filter(|&b| b < CHKTAINT_BITS)
        .collect();
    if known != their_bits {
        return Some(format!(
            "{value}: bits {known:?}, kernel-chktaint {their_bits:?}"
        ));
    }
    let expect_unknown: Vec<u64> = (20..64).filter(|b| value >> b & 1 == 1).collect();
    if unknown != expect_unknown {
        return Some(format!(
            "{value}: unknown bits {unknown:?}, want {expect_unknown:?}"
        ));
    }
    match their_raw {
        None if value == 0 => {
            (kernel_string != "Not tainted").then(|| format!("0: kernel string {kernel_string:?}"))
        }
        None => Some(format!("{value}: kernel-chktaint says not tainted")),
        Some(raw) => {
            let flags = kernel_string.strip_prefix("Tainted: ")?;
            let (head, tail) = flags.split_at(CHKTAINT_BITS as usize);
            let j = if value >> 19 & 1 == 1 { "J" } else { " " };
            (head != raw || tail != j).then(|| {
                format!("{value}: string {flags:?}, kernel-chktaint {raw:?} (+ bit 19 {j:?})")
            })
        }
    }
}

#[test]
fn taint_agrees_with_kernel_chktaint() {
    if !runs(Tier::Reference) {
        return;
    }
    let script = chktaint();
    let mut values: Vec<u64> = vec![0, (1 << CHKTAINT_BITS) - 1, (1 << 20) - 1];
    values.extend((0..CHKTAINT_BITS + 1).map(|b| 1u64 << b));
    values.extend([1 << 40, 1 << 62 | 1, (1 << 62) - 1]);
    let mut rng = Rng(0x7a17_2026);
    for i in 0..300 {
        let v = rng.next_u64();
        // most within the script's bits; some with higher bits (expr's
        // signed 64-bit arithmetic: below 2^63)
        values.push(if i % 4 == 0 {
            v >> 2
        } else {
            v & ((1 << CHKTAINT_BITS) - 1)
        });
    }
    let failures = parallel_failures(&values, |&v| check(&script, v));
    assert_no_failures("taint vs kernel-chktaint", &failures);
}

/// `vm/run`'s Python table (its transcript decoder) says the same as the
/// library: letter and words for each bit.
#[test]
fn vm_run_table_agrees() {
    let text = std::fs::read_to_string(repo_root().join("vm/run")).unwrap();
    let start = text.find("TAINT_FLAGS = [").expect("vm/run's TAINT_FLAGS");
    let end = start + text[start..].find("\n]").unwrap();
    let rows: Vec<(String, String)> = text[start..end]
        .lines()
        .filter_map(|l| {
            let l = l.trim().strip_prefix("(\"")?;
            let (letter, rest) = l.split_once("\", \"")?;
            let meaning = rest.strip_suffix("\"),")?;
            Some((letter.to_string(), meaning.to_string()))
        })
        .collect();
    let ours: Vec<(String, String)> = modkit::taint::FLAGS
        .iter()
        .map(|f| (f.letter.to_string(), f.meaning.to_string()))
        .collect();
    assert_eq!(rows, ours);
}
