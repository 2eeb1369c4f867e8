//! Collects the previous boot's pstore records with `modkit::pstore` and
//! prints what it found, one line each — a test entry point for the VM
//! pstore test (vm/guest/pstore.sh runs it, built static, in the guest),
//! and a small demonstration of the library call klogd makes at start.
//!
//! ```text
//! pstore_collect [--dir DIR] [--archive DIR] [--name NAME]
//!                [--storage external|journal|none] [--keep] [--no-mount]
//! ```
//!
//! Prints `RECORD FILE KIND BACKEND BYTES`, then
//! `ENTRY SEQ LEVEL FACILITY MONO_US REALTIME_US|- KIND FILE MESSAGE`
//! (non-printable bytes as `\xHH`), then `ARCHIVED PATH` and `REMOVED FILE`.
//! Exit 1 with one line on stderr on failure.

use std::path::PathBuf;

use modkit::klogd::entry::Origin;
use modkit::pstore::{Collection, Options, Storage};

fn main() {
    if let Err(e) = run() {
        eprintln!("pstore_collect: {e}");
        std::process::exit(1);
    }
}

fn run() -> Result<(), String> {
    let mut options = Options::default();
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = |name: &str| args.next().ok_or(format!("{name} needs a value"));
        match arg.as_str() {
            "--dir" => options.dir = PathBuf::from(value("--dir")?),
            "--archive" => options.archive_dir = PathBuf::from(value("--archive")?),
            "--name" => options.archive_name = Some(value("--name")?),
            "--storage" => {
                options.storage = match value("--storage")?.as_str() {
                    "external" => Storage::External,
                    "journal" => Storage::Journal,
                    "none" => Storage::None,
                    other => return Err(format!("unknown storage '{other}'")),
                }
            }
            "--keep" => options.unlink = false,
            "--no-mount" => options.mount = false,
            other => return Err(format!("unknown argument '{other}'")),
        }
    }
    let collection = Collection::read(&options).map_err(|e| e.to_string())?;
    for r in &collection.records {
        println!(
            "RECORD {} {} {} {}",
            r.file,
            r.kind,
            r.backend,
            r.text.as_ref().map_or(0, |t| t.len())
        );
    }
    for e in collection.entries() {
        let (kind, file) = match &e.origin {
            Origin::Pstore { kind, file } => (kind.as_str(), file.as_str()),
            _ => ("?", "?"),
        };
        let mut message = String::new();
        for &b in &e.message {
            if (0x20..0x7f).contains(&b) {
                message.push(b as char);
            } else {
                message.push_str(&format!("\\x{b:02x}"));
            }
        }
        println!(
            "ENTRY {} {} {} {} {} {kind} {file} {message}",
            e.seq,
            e.level,
            e.facility,
            e.monotonic_us,
            e.realtime_us.map_or("-".to_string(), |t| t.to_string()),
        );
    }
    let done = collection.finish().map_err(|e| e.to_string())?;
    if let Some(path) = done.archived {
        println!("ARCHIVED {}", path.display());
    }
    for f in done.removed {
        println!("REMOVED {f}");
    }
    Ok(())
}
