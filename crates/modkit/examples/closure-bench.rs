//! Times [`modkit::closure::ModuleDb::closure_modules`] over a list of
//! names or aliases (one a line) from one thread and from N threads
//! sharing one database (the list split in N parts), best of 5, after one
//! untimed warm-up; what `scripts/bench-library.sh` runs.
//!
//! ```text
//! closure-bench ROOT VERSION LIST [THREADS...]
//! ```

use std::path::Path;
use std::time::{Duration, Instant};

use modkit::closure::ModuleDb;
use modkit::config::ModprobeConfig;
use modkit::kmod::Level;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() < 4 {
        eprintln!("usage: closure-bench ROOT VERSION LIST [THREADS...]");
        std::process::exit(2);
    }
    let (root, version) = (Path::new(&args[1]), args[2].as_str());
    let list = std::fs::read_to_string(&args[3]).expect("read the list");
    let names: Vec<&str> = list.lines().filter(|l| !l.is_empty()).collect();
    let threads: Vec<usize> = match args.get(4..) {
        Some(t) if !t.is_empty() => t.iter().map(|n| n.parse().expect("a number")).collect(),
        _ => vec![1, 2],
    };
    let quiet = |_: Level, _: &str, _: &[u8]| {};
    let moddir = root.join("lib/modules").join(version);
    let config = ModprobeConfig::load(&moddir, None, None, &quiet);
    let db = ModuleDb::open(Some(root), Some(version), config).expect("open");
    let run = |n: usize| -> (Duration, usize) {
        let part = names.len().div_ceil(n.max(1));
        let started = Instant::now();
        let found = std::thread::scope(|s| {
            let handles: Vec<_> = names
                .chunks(part.max(1))
                .map(|chunk| {
                    let db = &db;
                    s.spawn(move || db.closure_modules(chunk).map_or(0, |c| c.modules.len()))
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap_or(0)).sum()
        });
        (started.elapsed(), found)
    };
    for n in threads {
        run(n);
        let mut best = Duration::MAX;
        let mut found = 0;
        for _ in 0..5 {
            let (t, f) = run(n);
            best = best.min(t);
            found = f;
        }
        println!("{n} {:.3} {found}", best.as_secs_f64() * 1000.0);
    }
}
