//! Times [`modkit::closure::ModuleDb::closure_modules`] over a list of
//! names or aliases (one a line) from one thread and from N threads
//! sharing one database (the list split in N parts), best of 5, after one
//! untimed warm-up; what `scripts/bench-library.sh` runs.
//!
//! ```text
//! closure-bench ROOT VERSION LIST [THREADS...]
//! ```
//!
//! Prints one line per thread count: the threads, the wall time (ms), the
//! CPU time the threads used together (ms; from
//! `/proc/thread-self/schedstat`, 0 where it cannot be read) and how
//! many modules were found. On a machine with a core free per thread the
//! wall time falls with more threads while the CPU time stays; a busy
//! machine shows as wall time above CPU time / threads.

use std::path::Path;
use std::time::{Duration, Instant};

use modkit::closure::ModuleDb;
use modkit::config::ModprobeConfig;
use modkit::kmod::Level;

/// The CPU time this thread has used, in ns (the first field of
/// `/proc/thread-self/schedstat`); 0 when it cannot be read. The kernel
/// brings that figure up to date when the thread leaves the CPU (else at
/// the next tick, milliseconds late): yielding first makes it exact.
fn thread_cpu_ns() -> u64 {
    std::thread::yield_now();
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}

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
    // wall time, CPU time of all threads, modules found
    let run = |n: usize| -> (Duration, Duration, usize) {
        let part = names.len().div_ceil(n.max(1));
        let started = Instant::now();
        let (cpu, found) = std::thread::scope(|s| {
            let handles: Vec<_> = names
                .chunks(part.max(1))
                .map(|chunk| {
                    let db = &db;
                    s.spawn(move || {
                        let cpu = thread_cpu_ns();
                        let found = db.closure_modules(chunk).map_or(0, |c| c.modules.len());
                        (thread_cpu_ns().saturating_sub(cpu), found)
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().unwrap_or((0, 0)))
                .fold((0, 0), |(c, f), (tc, tf)| (c + tc, f + tf))
        });
        (started.elapsed(), Duration::from_nanos(cpu), found)
    };
    for n in threads {
        run(n);
        let (mut wall, mut cpu) = (Duration::MAX, Duration::MAX);
        let mut found = 0;
        for _ in 0..5 {
            let (w, c, f) = run(n);
            wall = wall.min(w);
            cpu = cpu.min(c);
            found = f;
        }
        println!(
            "{n} {:.3} {:.3} {found}",
            wall.as_secs_f64() * 1000.0,
            cpu.as_secs_f64() * 1000.0
        );
    }
}
