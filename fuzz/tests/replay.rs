//! Replays every input of every fuzz target through its harness on a plain
//! toolchain (no libFuzzer, no sanitizer): the committed seeds
//! (`fuzz/seeds/TARGET/`), the crash regressions (`fuzz/regressions/TARGET/`,
//! each a file that once crashed a target), and, when present, the
//! generated and grown corpora (`$MODKIT_CACHE/fuzz/corpus/TARGET/`, made
//! by `scripts/fuzz.sh seeds` and `run`). A panic names the target and the
//! file. Run by `scripts/fuzz.sh replay` and by CI.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

fn files(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut out: Vec<PathBuf> = entries
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.is_file())
        .collect();
    out.sort();
    out
}

fn cache_corpus() -> Option<PathBuf> {
    let cache = match std::env::var_os("MODKIT_CACHE") {
        Some(c) => PathBuf::from(c),
        None => PathBuf::from(std::env::var_os("HOME")?).join(".cache/modkit"),
    };
    Some(cache.join("fuzz/corpus"))
}

/// The longest any one input may take, even in a debug build (libFuzzer's
/// own timeout in `fuzz.sh` is 10 s per input).
const PER_INPUT: Duration = Duration::from_secs(10);

#[test]
fn every_seed_regression_and_corpus_input_runs_clean() {
    let here = Path::new(env!("CARGO_MANIFEST_DIR"));
    let limit: usize = std::env::var("MODKIT_FUZZ_REPLAY_MAX")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(usize::MAX);
    let mut total = 0;
    let mut report = String::new();
    for (name, target) in modkit_fuzz::TARGETS {
        let mut dirs = vec![
            here.join("seeds").join(name),
            here.join("regressions").join(name),
        ];
        if let Some(c) = cache_corpus() {
            dirs.push(c.join(name));
        }
        let mut n = 0;
        for dir in dirs {
            for file in files(&dir).into_iter().take(limit) {
                // A running libFuzzer replaces corpus files by smaller
                // ones (-reduce_inputs): one may be gone by now.
                let Ok(data) = std::fs::read(&file) else {
                    continue;
                };
                let start = Instant::now();
                let run = std::panic::catch_unwind(|| target(&data));
                assert!(run.is_ok(), "{name}: {} panicked", file.display());
                let took = start.elapsed();
                assert!(took < PER_INPUT, "{name}: {} took {took:?}", file.display());
                n += 1;
            }
        }
        report.push_str(&format!("{name}: {n} inputs\n"));
        total += n;
    }
    eprint!("{report}");
    // The committed seeds alone hold inputs for every target.
    assert!(total >= modkit_fuzz::TARGETS.len(), "{report}");
    for (name, _) in modkit_fuzz::TARGETS {
        assert!(
            !files(&here.join("seeds").join(name)).is_empty(),
            "no committed seed for {name}"
        );
    }
}

/// A deterministic mutation pass over the committed seeds, on a plain
/// toolchain: what CI runs in place of libFuzzer's smoke pass when the
/// sanitizer build is not wanted (see `scripts/fuzz.sh`). Each target gets
/// `MODKIT_FUZZ_MUTATIONS` (default 2,000) mutants of its seeds: bit
/// flips, bytes set to 0, 0xff or random, truncation, duplication of a
/// slice, and splices of two seeds; fixed seed, so a failure reproduces.
#[test]
fn seeded_mutations_run_clean() {
    let here = Path::new(env!("CARGO_MANIFEST_DIR"));
    let per_target: usize = std::env::var("MODKIT_FUZZ_MUTATIONS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2_000);
    let mut rng = modkit_testkit::Rng(0x17_f022);
    let start = Instant::now();
    for (name, target) in modkit_fuzz::TARGETS {
        let seeds: Vec<Vec<u8>> = files(&here.join("seeds").join(name))
            .iter()
            .map(|f| std::fs::read(f).unwrap())
            .collect();
        assert!(!seeds.is_empty(), "no seed for {name}");
        for i in 0..per_target {
            let mut d = seeds[rng.below(seeds.len())].clone();
            for _ in 0..1 + rng.below(8) {
                if d.is_empty() {
                    d.push(rng.next_u64() as u8);
                }
                let at = rng.below(d.len());
                match rng.below(7) {
                    0 => d[at] ^= 1 << rng.below(8),
                    1 => d[at] = 0,
                    2 => d[at] = 0xff,
                    3 => d[at] = rng.next_u64() as u8,
                    4 => d.truncate(at),
                    5 => {
                        let end = (at + 1 + rng.below(64)).min(d.len());
                        let slice = d[at..end].to_vec();
                        d.splice(at..at, slice);
                    }
                    _ => {
                        let other = &seeds[rng.below(seeds.len())];
                        let from = rng.below(other.len().max(1));
                        d.truncate(at);
                        d.extend_from_slice(&other[from.min(other.len())..]);
                    }
                }
            }
            let one = Instant::now();
            let run = std::panic::catch_unwind(|| target(&d));
            if run.is_err() || one.elapsed() >= PER_INPUT {
                let dump = std::env::temp_dir().join(format!("modkit-fuzz-{name}-{i}"));
                std::fs::write(&dump, &d).unwrap();
                panic!(
                    "{name}: mutant {i} {} (took {:?}); input saved as {}",
                    if run.is_err() { "panicked" } else { "was slow" },
                    one.elapsed(),
                    dump.display()
                );
            }
        }
    }
    eprintln!(
        "{} mutants of each of {} targets in {:?}",
        per_target,
        modkit_fuzz::TARGETS.len(),
        start.elapsed()
    );
}
