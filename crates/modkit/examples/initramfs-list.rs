//! Prints the files an initramfs needs for the given modules: each module
//! file the modules need (dependencies, softdeps and weakdeps, in loading
//! order) and the firmware files they declare that exist, one path a line.
//!
//! ```text
//! cargo run -p modkit --example initramfs-list -- [-b ROOT] [-k VERSION] [-v] NAME|ALIAS...
//! ```
//!
//! `-b ROOT` reads `ROOT/lib/modules/VERSION`, `ROOT/etc/modprobe.d`... and
//! `ROOT/lib/firmware`; `-k VERSION` defaults to the running kernel's;
//! `-v` prints, before each module file, `# NAME (WHY) OPTIONS` and names
//! the firmware that was not found.

use std::path::PathBuf;
use std::process::ExitCode;

use modkit::closure::ModuleDb;
use modkit::config::ModprobeConfig;

fn main() -> ExitCode {
    let mut root: Option<PathBuf> = None;
    let mut version: Option<String> = None;
    let mut verbose = false;
    let mut names = Vec::new();
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "-b" => root = args.next().map(PathBuf::from),
            "-k" => version = args.next(),
            "-v" => verbose = true,
            _ => names.push(a),
        }
    }
    if names.is_empty() {
        eprintln!("usage: initramfs-list [-b ROOT] [-k VERSION] [-v] NAME|ALIAS...");
        return ExitCode::from(2);
    }
    // The configuration modprobe would read (modprobe.d under the root,
    // and the tree's modules.softdep / modules.weakdep).
    let dir = match modkit::resolve::ModuleDir::for_kernel(root.as_deref(), version.as_deref()) {
        Ok(d) => d,
        Err(e) => {
            eprintln!("initramfs-list: {e}");
            return ExitCode::FAILURE;
        }
    };
    let config_dirs: Option<Vec<Vec<u8>>> = root.as_ref().map(|r| {
        [
            "etc/modprobe.d",
            "run/modprobe.d",
            "usr/local/lib/modprobe.d",
            "usr/lib/modprobe.d",
            "lib/modprobe.d",
        ]
        .iter()
        .map(|d| r.join(d).into_os_string().into_encoded_bytes())
        .collect()
    });
    let quiet = |_: modkit::kmod::Level, _: &str, _: &[u8]| {};
    // the running kernel's command line options only for the running system
    let cmdline = match root {
        None => modkit::config::read_kernel_cmdline(),
        Some(_) => None,
    };
    let config = ModprobeConfig::load(
        dir.dirname(),
        config_dirs.as_deref(),
        cmdline.as_deref(),
        &quiet,
    );
    let release = dir
        .dirname()
        .file_name()
        .map(|v| v.to_string_lossy().into_owned())
        .unwrap_or_default();
    let db = match ModuleDb::open(root.as_deref(), Some(&release), config) {
        Ok(db) => db,
        Err(e) => {
            eprintln!("initramfs-list: {e}");
            return ExitCode::FAILURE;
        }
    };
    let closure = match db.closure(&names) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("initramfs-list: {e}");
            return ExitCode::FAILURE;
        }
    };
    for m in &closure.modules {
        if verbose {
            let kind = if m.builtin { " builtin" } else { "" };
            println!(
                "# {} ({}){kind} {}",
                m.name,
                m.why.as_str(),
                m.options.join(" ")
            );
            for f in m.firmware.iter().filter(|f| f.file.is_none()) {
                println!("# firmware not found: {}", f.name);
            }
        }
        if let Some(p) = &m.path {
            println!("{}", p.display());
        }
        for f in m.firmware.iter().filter_map(|f| f.file.as_ref()) {
            println!("{}", f.display());
        }
    }
    for n in &closure.not_found {
        eprintln!("initramfs-list: {n}: not found");
    }
    if closure.not_found.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
