//! `scripts/deb.sh`'s package in a throwaway root (`dpkg --root` over a
//! status file that holds only stand-ins for the libraries it depends
//! on): its control data and file list (nothing outside /usr/lib/modkit
//! but /usr/bin/modkit and its doc), `dpkg -i`, the installed binary and
//! links run, man finds the pages through PATH, `dpkg -P` leaves no file.
//! Offline tier (needs dpkg, which scripts/test.sh installs). The
//! reference tier installs it beside Debian's kmod 34.2 package (from the
//! reference cache) in one root: no shared file, and removing modkit
//! leaves every file of kmod's in place.

mod common;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use common::*;
use modkit_testkit::{cache_dir, runs, Tier};

fn run(cmd: &mut Command) -> String {
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{cmd:?}: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// Builds the package (with the test's binary, uncompressed: fast).
fn build(out: &Path) -> PathBuf {
    let deb = run(
        Command::new(modkit_testkit::repo_root().join("scripts/deb.sh"))
            .arg("--binary")
            .arg(modkit())
            .arg("--out")
            .arg(out)
            .env("DEB_COMPRESS", "none"),
    );
    PathBuf::from(deb.trim_end())
}

/// A root with an empty dpkg database but for installed stand-ins of
/// `packages`.
fn throwaway_root(name: &str, packages: &[&str]) -> ScratchDir {
    let root = ScratchDir::new(name);
    let admin = root.join("var/lib/dpkg");
    for d in ["info", "updates", "triggers"] {
        std::fs::create_dir_all(admin.join(d)).unwrap();
    }
    std::fs::write(admin.join("available"), "").unwrap();
    let mut status = String::new();
    for p in packages {
        status.push_str(&format!(
            "Package: {p}\nStatus: install ok installed\nPriority: optional\nArchitecture: amd64\n\
             Version: 9999\nMaintainer: test <test@localhost>\nDescription: stand-in\n\n"
        ));
        std::fs::write(admin.join(format!("info/{p}.list")), "").unwrap();
    }
    std::fs::write(admin.join("status"), status).unwrap();
    root
}

fn dpkg(root: &Path) -> Command {
    let mut c = Command::new("dpkg");
    c.arg(format!("--root={}", root.display()))
        .arg("--log=/dev/null");
    c
}

/// Every file and link under `root` but dpkg's own database.
fn files(root: &Path) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            let rel = p.strip_prefix(root).unwrap().to_string_lossy().into_owned();
            if rel.starts_with("var/lib/dpkg") {
                continue;
            }
            if p.is_dir() && !p.is_symlink() {
                stack.push(p);
            } else {
                out.insert(rel);
            }
        }
    }
    out
}

#[test]
fn package_installs_runs_and_removes_cleanly_in_a_throwaway_root() {
    let out = ScratchDir::new("deb-out");
    let deb = build(&out);
    let info = run(Command::new("dpkg-deb").arg("--field").arg(&deb));
    for field in [
        "Package: modkit\n",
        "Architecture: amd64\n",
        "Section: admin\n",
    ] {
        assert!(info.contains(field), "{info}");
    }
    assert!(info.contains("Depends: libgcc-s1, libc6 (>= 2."), "{info}");
    for f in ["Conflicts", "Replaces", "Provides", "Pre-Depends"] {
        assert!(!info.contains(&format!("{f}:")), "{info}");
    }
    let contents = run(Command::new("dpkg-deb").arg("--contents").arg(&deb));
    for line in contents.lines() {
        let path = line.split_whitespace().nth(5).unwrap();
        assert!(
            path.starts_with("./usr/lib/modkit/")
                || [
                    "./",
                    "./usr/",
                    "./usr/bin/",
                    "./usr/lib/",
                    "./usr/bin/modkit",
                    "./usr/share/",
                    "./usr/share/doc/",
                    "./usr/lib/systemd/",
                    "./usr/lib/systemd/system/",
                    "./usr/lib/systemd/system/modkit-klogd.service",
                    "./usr/share/man/",
                    "./usr/share/man/man8/",
                    "./usr/share/bash-completion/",
                    "./usr/share/bash-completion/completions/",
                    "./usr/share/fish/",
                    "./usr/share/fish/vendor_completions.d/",
                ]
                .contains(&path)
                || path.starts_with("./usr/share/doc/modkit/")
                // modkit's own tools, names no other package has
                || path.starts_with("./usr/bin/modkit-")
                || path.starts_with("./usr/share/man/man8/modkit-")
                || path.starts_with("./usr/share/bash-completion/completions/modkit-")
                || path.starts_with("./usr/share/fish/vendor_completions.d/modkit-"),
            "{path} is outside modkit's own directories"
        );
    }

    let root = throwaway_root("deb-root", &["libc6", "libgcc-s1"]);
    run(dpkg(&root).arg("-i").arg(&deb));
    let installed = files(&root);
    let help = String::from_utf8(
        Command::new(modkit())
            .arg("--help")
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap();
    let (drop_ins, own) = help
        .split_once("\nTools (")
        .unwrap()
        .1
        .split_once("\nmodkit's own tools")
        .unwrap();
    // the tool names of a section of the help
    fn names(text: &str) -> Vec<&str> {
        text.lines()
            .skip(1)
            .filter(|l| l.starts_with("  "))
            .filter_map(|l| l.split_whitespace().next())
            .collect()
    }
    let (drop_ins, own) = (names(drop_ins), names(own));
    assert!(drop_ins.contains(&"modprobe") && own.contains(&"check"));
    for t in &drop_ins {
        assert!(
            installed.contains(&format!("usr/lib/modkit/bin/{t}")),
            "{t}: {installed:?}"
        );
        let section = if *t == "dmesg" { 1 } else { 8 };
        assert!(
            installed.contains(&format!(
                "usr/lib/modkit/share/man/man{section}/{t}.{section}.gz"
            )),
            "{t}"
        );
    }
    // modkit's own tools: on PATH and in man's own directories
    for t in &own {
        for f in [
            format!("usr/lib/modkit/bin/modkit-{t}"),
            format!("usr/bin/modkit-{t}"),
            format!("usr/share/man/man8/modkit-{t}.8.gz"),
            format!("usr/share/bash-completion/completions/modkit-{t}"),
            format!("usr/share/fish/vendor_completions.d/modkit-{t}.fish"),
        ] {
            assert!(installed.contains(&f), "{f}: {installed:?}");
        }
        let out = run(Command::new(root.join(format!("usr/bin/modkit-{t}"))).arg("-V"));
        assert!(
            out.starts_with(&format!("modkit-{t} from modkit ")),
            "{out}"
        );
    }
    assert!(installed.contains("usr/share/doc/modkit/copyright"));
    // klogd's unit where systemd looks, naming the packaged binary
    let unit = std::fs::read_to_string(root.join("usr/lib/systemd/system/modkit-klogd.service"))
        .expect("the unit is installed");
    assert!(
        unit.contains("\nExecStart=/usr/lib/modkit/bin/modkit klogd "),
        "{unit}"
    );
    // the binary runs through /usr/bin/modkit and through a tool link
    let out = run(Command::new(root.join("usr/bin/modkit")).arg("--help"));
    assert_eq!(out, help);
    let out = run(Command::new(root.join("usr/lib/modkit/bin/kmod")).arg("--version"));
    assert!(out.starts_with("kmod version "), "{out}");
    // man finds the pages from PATH, as the package's description says
    let path = format!(
        "{}:/usr/bin:/bin",
        root.join("usr/lib/modkit/bin").display()
    );
    let out = run(Command::new("man")
        .args(["-w", "modprobe"])
        .env("PATH", &path)
        .env_remove("MANPATH"));
    assert_eq!(
        out.trim_end(),
        root.join("usr/lib/modkit/share/man/man8/modprobe.8.gz")
            .to_str()
            .unwrap()
    );

    run(dpkg(&root).args(["-P", "modkit"]));
    assert_eq!(files(&root), BTreeSet::new(), "files left after dpkg -P");
    let dirs: Vec<_> = std::fs::read_dir(&*root)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(dirs, ["var"], "directories left after dpkg -P");
}

#[test]
fn package_installs_beside_debians_kmod_and_leaves_it_whole() {
    if !runs(Tier::Reference) {
        return;
    }
    let kmod = std::fs::read_dir(cache_dir().join("debs"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| {
            p.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with("kmod_34.2-")
        })
        .expect("kmod 34.2's .deb in the reference cache (scripts/refs.sh tools)");
    let out = ScratchDir::new("deb-out-kmod");
    let deb = build(&out);
    let root = throwaway_root("deb-root-kmod", &["libc6", "libgcc-s1"]);
    // kmod installed as dpkg would leave it, without running its
    // maintainer scripts (they would need a system in the root): its
    // files unpacked, its file list and status in the database
    run(Command::new("dpkg-deb").arg("-x").arg(&kmod).arg(&*root));
    let list: String = run(Command::new("dpkg-deb").arg("--contents").arg(&kmod))
        .lines()
        .map(|l| {
            let p = l.split_whitespace().nth(5).unwrap().trim_start_matches('.');
            match p.trim_end_matches('/') {
                "" => "/.\n".to_string(),
                p => format!("{p}\n"),
            }
        })
        .collect();
    let admin = root.join("var/lib/dpkg");
    std::fs::write(admin.join("info/kmod.list"), list).unwrap();
    let control = run(Command::new("dpkg-deb").arg("--field").arg(&kmod));
    let mut status = std::fs::read_to_string(admin.join("status")).unwrap();
    status.push_str(&control.replacen(
        "Package: kmod\n",
        "Package: kmod\nStatus: install ok installed\n",
        1,
    ));
    status.push('\n');
    std::fs::write(admin.join("status"), status).unwrap();
    let kmod_files = files(&root);
    assert!(
        kmod_files.contains("usr/bin/kmod") || kmod_files.contains("bin/kmod"),
        "{kmod_files:?}"
    );
    // dpkg knows them as kmod's
    let some = kmod_files.iter().find(|f| f.ends_with("bin/kmod")).unwrap();
    let owner = run(dpkg(&root).arg("-S").arg(format!("/{some}")));
    assert!(owner.starts_with("kmod: "), "{owner}");
    // dpkg refuses to install a package that has a file of another's
    // (kmod's dependencies are missing from the root: not modkit's)
    run(dpkg(&root).args(["-i", "--force-depends"]).arg(&deb));
    let both = files(&root);
    assert!(both.is_superset(&kmod_files));
    run(dpkg(&root).args(["-P", "modkit"]));
    assert_eq!(
        files(&root),
        kmod_files,
        "removing modkit changed kmod's files"
    );
}
