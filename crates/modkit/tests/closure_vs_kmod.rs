//! [`modkit::closure`] against kmod 34.2 on Debian's module trees (the
//! reference tier: `scripts/refs.sh`'s cache): for every module of the
//! bookworm 6.1 and trixie 6.12 trees, the closure (weakdeps aside) lists
//! what `modprobe -D` prints, in its order (kmod's repeats dropped); the
//! firmware a module declares is `modinfo -F firmware`'s list, and the
//! files found for it are the ones that exist; two threads sharing one
//! database give what one thread gives.

use std::path::PathBuf;
use std::process::Command;

use modkit::closure::{ModuleDb, NeededModule, Why};
use modkit::config::ModprobeConfig;
use modkit::kmod::Level;
use modkit_testkit::{runs, ScratchDir, Tier};

struct Tree {
    root: PathBuf,
    version: String,
    dir: PathBuf,
}

fn tree(name: &str) -> Tree {
    let root = modkit_testkit::cache_dir().join("trees").join(name);
    let version = std::fs::read_to_string(root.join(".version"))
        .unwrap_or_else(|_| panic!("tree {name} missing: run scripts/refs.sh trees"))
        .trim()
        .to_string();
    let dir = root.join("lib/modules").join(&version);
    Tree { root, version, dir }
}

fn ref_tool(name: &str) -> PathBuf {
    let p = modkit_testkit::cache_dir().join("ref/bin").join(name);
    assert!(
        p.is_file(),
        "{} missing: run scripts/refs.sh tools",
        p.display()
    );
    p
}

/// The database modprobe -d ROOT -S VERSION reads: the default
/// configuration directories, the tree's softdeps, this kernel's command
/// line.
fn db(t: &Tree, firmware_dirs: Vec<PathBuf>) -> ModuleDb {
    let quiet = |_: Level, _: &str, _: &[u8]| {};
    let cmdline = modkit::config::read_kernel_cmdline();
    let config = ModprobeConfig::load(&t.dir, None, cmdline.as_deref(), &quiet);
    let mut dir = modkit::resolve::ModuleDir::new(&t.dir).unwrap();
    dir.set_config(config);
    ModuleDb::from_module_dir(dir, firmware_dirs)
}

fn module_names(t: &Tree) -> Vec<String> {
    std::fs::read_to_string(t.dir.join("modules.dep"))
        .unwrap()
        .lines()
        .filter_map(|l| l.split(':').next())
        .map(|p| {
            let base = p.rsplit('/').next().unwrap_or(p);
            base.split(".ko").next().unwrap_or(base).to_string()
        })
        .collect()
}

/// `modprobe -D` lines as kmod prints them, for the closure's modules
/// (up to the first weakdep).
fn as_show_depends(modules: &[NeededModule]) -> Vec<String> {
    modules
        .iter()
        .take_while(|m| m.why != Why::Weakdep)
        .map(|m| {
            let mut opts = m.options.join(" ");
            // modprobe passes the command line's (here empty) extra
            // options to the module asked for, after a blank
            if m.why == Why::Requested && !opts.is_empty() {
                opts.push(' ');
            }
            match (&m.install, &m.path) {
                (Some(cmd), _) => format!("install {cmd} {opts}"),
                (None, Some(p)) => format!("insmod {} {opts}", p.display()),
                (None, None) => format!("builtin {}", m.name),
            }
        })
        .collect()
}

fn kmod_show_depends(t: &Tree, name: &str) -> Vec<String> {
    let out = Command::new(ref_tool("modprobe"))
        .arg("-d")
        .arg(&t.root)
        .arg("-S")
        .arg(&t.version)
        .arg("-D")
        .arg(name)
        .output()
        .unwrap();
    let mut seen = std::collections::HashSet::new();
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| seen.insert(l.to_string()))
        .map(str::to_string)
        .collect()
}

fn closure_matches_show_depends(name: &str) {
    if !runs(Tier::Reference) {
        return;
    }
    let t = tree(name);
    let db = db(&t, Vec::new());
    let names = module_names(&t);
    assert!(names.len() > 3000, "{name}: only {} modules", names.len());
    // kmod once per module, on two threads (4,000 processes).
    let chunks: Vec<&[String]> = names.chunks(names.len().div_ceil(2)).collect();
    let failures: Vec<String> = std::thread::scope(|s| {
        let handles: Vec<_> = chunks
            .iter()
            .map(|chunk| {
                let (t, db) = (&t, &db);
                s.spawn(move || {
                    let mut bad = Vec::new();
                    for m in *chunk {
                        let ours = as_show_depends(&db.closure_modules(&[m]).unwrap().modules);
                        let theirs = kmod_show_depends(t, m);
                        if ours != theirs {
                            bad.push(format!("{m}:\n  modkit {ours:?}\n  kmod   {theirs:?}"));
                        }
                    }
                    bad
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap())
            .collect()
    });
    assert!(
        failures.is_empty(),
        "{name}: {} of {} closures differ from modprobe -D, e.g.\n{}",
        failures.len(),
        names.len(),
        failures
            .iter()
            .take(5)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
}

#[test]
fn closure_matches_modprobe_show_depends_on_every_6_1_module() {
    closure_matches_show_depends("6.1");
}

#[test]
fn closure_matches_modprobe_show_depends_on_every_6_12_module() {
    closure_matches_show_depends("6.12");
}

/// Firmware: the declared names are `modinfo -F firmware`'s, in order; with
/// a firmware directory holding every other one of them (some under
/// `updates/`, some compressed), exactly those are found.
#[test]
fn firmware_agrees_with_modinfo() {
    if !runs(Tier::Reference) {
        return;
    }
    let t = tree("6.1");
    let scratch = ScratchDir::new("closure-firmware");
    let fw = scratch.path().join("lib/firmware");
    let dirs = modkit::closure::firmware_search_path(scratch.path(), &t.version);
    let db = db(&t, dirs);
    let mut checked = 0;
    let mut found_total = 0;
    for name in module_names(&t) {
        let out = Command::new(ref_tool("modinfo"))
            .arg("-b")
            .arg(&t.root)
            .arg("-k")
            .arg(&t.version)
            .args(["-F", "firmware"])
            .arg(&name)
            .output()
            .unwrap();
        let declared: Vec<String> = String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(str::to_string)
            .collect();
        if declared.is_empty() {
            continue;
        }
        for (i, f) in declared.iter().enumerate() {
            let file = match i % 4 {
                0 => fw.join(f),
                2 => fw.join("updates").join(format!("{f}.zst")),
                _ => continue,
            };
            std::fs::create_dir_all(file.parent().unwrap()).unwrap();
            std::fs::write(file, b"fw").unwrap();
        }
        // the kernel's order: uncompressed in every directory first
        // (updates/ before the top), then .zst
        let expect: Vec<Option<PathBuf>> = declared
            .iter()
            .map(|f| {
                [fw.join(f), fw.join("updates").join(format!("{f}.zst"))]
                    .into_iter()
                    .find(|p| p.is_file())
            })
            .collect();
        let closure = db.closure(&[&name]).unwrap();
        let m = closure
            .modules
            .iter()
            .find(|m| m.name == name.replace('-', "_"))
            .unwrap_or_else(|| panic!("{name} not in its own closure"));
        let names: Vec<&str> = m.firmware.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(names, declared, "{name}: firmware names");
        for (f, e) in m.firmware.iter().zip(&expect) {
            assert_eq!(&f.file, e, "{name}: {}", f.name);
            found_total += usize::from(e.is_some());
        }
        checked += 1;
        std::fs::remove_dir_all(&fw).ok();
        if checked == 60 {
            break;
        }
    }
    assert!(
        checked >= 60 && found_total > 60,
        "{checked} modules, {found_total} files"
    );
}

/// Two threads sharing one database answer what one thread answers.
#[test]
fn two_threads_answer_as_one() {
    if !runs(Tier::Reference) {
        return;
    }
    let t = tree("6.12");
    let db = db(&t, Vec::new());
    let names: Vec<String> = module_names(&t).into_iter().step_by(7).collect();
    let one: Vec<_> = names
        .iter()
        .map(|n| db.closure_modules(&[n]).unwrap())
        .collect();
    let aliases: Vec<String> = std::fs::read_to_string(t.dir.join("modules.alias"))
        .unwrap()
        .lines()
        .filter_map(|l| l.split_whitespace().nth(1))
        .step_by(11)
        .map(|a| a.replace(['*', '?'], ""))
        .collect();
    let aliases_one = db.lookup_aliases(&aliases);
    assert!(aliases_one.iter().filter(|v| !v.is_empty()).count() > 1000);
    let (half, rest) = names.split_at(names.len() / 2);
    let (two, aliases_two) = std::thread::scope(|s| {
        let a = s.spawn(|| {
            half.iter()
                .map(|n| db.closure_modules(&[n]).unwrap())
                .collect::<Vec<_>>()
        });
        let b = s.spawn(|| {
            let c: Vec<_> = rest
                .iter()
                .map(|n| db.closure_modules(&[n]).unwrap())
                .collect();
            (c, db.lookup_aliases(&aliases))
        });
        let mut two = a.join().unwrap();
        let (c, al) = b.join().unwrap();
        two.extend(c);
        (two, al)
    });
    assert_eq!(one, two);
    assert_eq!(aliases_one, aliases_two);
    assert!(one.iter().map(|c| c.modules.len()).sum::<usize>() > names.len());
}
