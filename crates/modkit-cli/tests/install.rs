//! `scripts/install.sh` into a DESTDIR: the file list, the tool links
//! (each runs as its tool), klogd's systemd unit running the installed
//! binary, every man page through `man --warnings -l`,
//! bash-completion loading the installed scripts by command name, the
//! refusal to replace files that are not modkit's (kmod's), a reinstall,
//! and `--uninstall` leaving nothing behind. Offline tier: needs sh, man
//! (man-db) and bash-completion, which `scripts/test.sh` installs.

mod common;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::*;

const PREFIX: &str = "/opt/modkit-test";

fn install(destdir: &Path, args: &[&str]) -> Output {
    Command::new(modkit_testkit::repo_root().join("scripts/install.sh"))
        .args(args)
        .env("DESTDIR", destdir)
        .env("PREFIX", PREFIX)
        .output()
        .unwrap()
}

fn install_ok(destdir: &Path, args: &[&str]) {
    let out = install(destdir, args);
    assert!(
        out.status.success(),
        "install.sh {args:?}: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Every file and link under `dir`, relative to it.
fn files(dir: &Path) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() && !p.is_symlink() {
                stack.push(p);
            } else {
                out.insert(p.strip_prefix(dir).unwrap().to_string_lossy().into_owned());
            }
        }
    }
    out
}

/// The commands of the tools `modkit --help` lists (a drop-in's name,
/// `modkit-TOOL` for modkit's own tools), with their man page's section.
fn tools() -> Vec<(String, String)> {
    let help = Command::new(modkit()).arg("--help").output().unwrap();
    let help = String::from_utf8(help.stdout).unwrap();
    let tools = help.split_once("\nTools (").unwrap().1;
    let (drop_ins, own) = tools.split_once("\nmodkit's own tools").unwrap();
    let man = Path::new(env!("CARGO_MANIFEST_DIR")).join("man");
    let names = |text: &str, prefix: &str| -> Vec<String> {
        text.lines()
            .skip(1)
            .filter(|l| l.starts_with("  "))
            .filter_map(|l| l.split_whitespace().next())
            .map(|t| format!("{prefix}{t}"))
            .collect()
    };
    let mut commands = names(drop_ins, "");
    commands.extend(names(own, "modkit-"));
    assert!(commands.contains(&"modkit-check".to_string()), "{help}");
    commands
        .into_iter()
        .map(|t| {
            let section = ["1", "8"]
                .into_iter()
                .find(|s| man.join(format!("{t}.{s}")).is_file())
                .unwrap_or_else(|| panic!("{t} has no man page"));
            (t, section.to_string())
        })
        .collect()
}

fn expected() -> BTreeSet<String> {
    let p = &PREFIX[1..];
    let mut v: BTreeSet<String> = [
        "bin/modkit",
        "share/bash-completion/completions/modkit",
        "share/fish/vendor_completions.d/modkit.fish",
        "share/zsh/site-functions/_modkit",
        "lib/systemd/system/modkit-klogd.service",
        "share/doc/modkit/LICENSE-MIT",
        "share/doc/modkit/LICENSE-APACHE",
        "share/modkit/install-manifest",
        "share/modkit/install-manifest.dirs",
    ]
    .iter()
    .map(|f| format!("{p}/{f}"))
    .collect();
    for (t, s) in tools() {
        v.insert(format!("{p}/bin/{t}"));
        v.insert(format!("{p}/share/man/man{s}/{t}.{s}"));
        v.insert(format!("{p}/share/bash-completion/completions/{t}"));
        v.insert(format!("{p}/share/fish/vendor_completions.d/{t}.fish"));
    }
    v
}

#[test]
fn installs_links_pages_completions_and_uninstalls_exactly() {
    let dest = ScratchDir::new("install");
    let bin = modkit();
    let bin = bin.to_str().unwrap();
    install_ok(&dest, &["--binary", bin]);
    assert_eq!(files(&dest), expected());
    let root = dest.join(&PREFIX[1..]);

    // each tool link points at modkit and runs as its tool
    for (t, _) in tools() {
        let link = root.join("bin").join(&t);
        assert_eq!(
            std::fs::read_link(&link).unwrap(),
            PathBuf::from("modkit"),
            "{t}"
        );
        // kmod's tools print kmod's version lines, dmesg util-linux's, and
        // modkit's own tools "TOOL from modkit VERSION"
        let kmod_tool = [
            "depmod", "insmod", "kmod", "lsmod", "modinfo", "modprobe", "rmmod",
        ]
        .contains(&t.as_str());
        let out = Command::new(&link)
            .arg(if kmod_tool { "--version" } else { "-V" })
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success(), "{t} --version: {text}");
        let expected = if t == "dmesg" {
            "util-linux".to_string()
        } else if kmod_tool {
            "kmod version".to_string()
        } else {
            format!("{t} from modkit ")
        };
        assert!(
            text.starts_with(&expected) || (t == "dmesg" && text.contains(&expected)),
            "{t}: {text}"
        );
    }

    // klogd's unit is dist/'s, its ExecStart naming the binary installed
    // under PREFIX
    let dist =
        std::fs::read_to_string(modkit_testkit::repo_root().join("dist/modkit-klogd.service"))
            .unwrap();
    let unit =
        std::fs::read_to_string(root.join("lib/systemd/system/modkit-klogd.service")).unwrap();
    let exec = format!("ExecStart={PREFIX}/bin/modkit klogd ");
    assert_eq!(
        unit.lines()
            .filter(|l| l.starts_with("ExecStart="))
            .collect::<Vec<_>>(),
        [dist
            .lines()
            .find(|l| l.starts_with("ExecStart="))
            .unwrap()
            .replace("ExecStart=/usr/local/bin/modkit klogd ", &exec)
            .as_str()],
        "{unit}"
    );
    assert!(unit.contains(&exec), "{unit}");
    assert_eq!(
        unit.lines()
            .filter(|l| !l.starts_with("ExecStart="))
            .collect::<Vec<_>>(),
        dist.lines()
            .filter(|l| !l.starts_with("ExecStart="))
            .collect::<Vec<_>>()
    );

    // every page renders, without a warning, with its NAME
    for (t, s) in tools() {
        let page = root.join(format!("share/man/man{s}/{t}.{s}"));
        let out = Command::new("man")
            .args(["--warnings", "-l"])
            .arg(&page)
            .env("MANPAGER", "cat")
            .env("MANWIDTH", "80")
            .output()
            .expect("man (man-db) is installed: scripts/test.sh installs it");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            out.status.success() && stderr.is_empty(),
            "man -l {}: {stderr}",
            page.display()
        );
        assert!(
            String::from_utf8_lossy(&out.stdout).contains(&format!("{t} - ")),
            "{t}"
        );
    }

    // bash-completion finds the installed scripts by command name, and
    // `modkit TOOL` completes as TOOL
    let bc = Path::new("/usr/share/bash-completion/bash_completion");
    assert!(
        bc.is_file(),
        "bash-completion is installed (scripts/test.sh installs it)"
    );
    let script = "source /usr/share/bash-completion/bash_completion\n\
                  __load_completion modprobe && complete -p modprobe\n\
                  __load_completion modkit\n\
                  COMP_WORDS=(modkit modprobe --show-d); COMP_CWORD=2; _modkit_modkit; echo \"${COMPREPLY[@]}\"\n\
                  COMP_WORDS=(modkit taint --js); COMP_CWORD=2; _modkit_modkit; echo \"${COMPREPLY[@]}\"\n\
                  __load_completion modkit-taint && complete -p modkit-taint";
    let out = Command::new("bash")
        .args(["-c", script])
        .env("XDG_DATA_DIRS", root.join("share"))
        .env("BASH_COMPLETION_USER_DIR", dest.join("nowhere"))
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "complete -F _modkit_modprobe modprobe\n--show-depends\n--json\ncomplete -F _modkit_taint modkit-taint\n",
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // a second install over the first is fine; uninstall leaves nothing
    install_ok(&dest, &["--binary", bin]);
    assert_eq!(files(&dest), expected());
    install_ok(&dest, &["--uninstall"]);
    assert_eq!(files(&dest), BTreeSet::new());
    assert_eq!(
        std::fs::read_dir(&*dest).unwrap().count(),
        0,
        "directories left behind"
    );
}

#[test]
fn does_not_replace_what_is_not_modkits() {
    let dest = ScratchDir::new("install-foreign");
    let bin = modkit();
    // kmod's lsmod where modkit's link would go
    let lsmod = dest.join(&PREFIX[1..]).join("bin/lsmod");
    std::fs::create_dir_all(lsmod.parent().unwrap()).unwrap();
    std::fs::write(&lsmod, "kmod's lsmod\n").unwrap();
    let out = install(&dest, &["--binary", bin.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        format!(
            "install.sh: {} exists and is not modkit's (kmod's?): not replacing it; choose another PREFIX, or --force\n",
            lsmod.display()
        )
    );
    // nothing was written
    assert_eq!(
        files(&dest),
        BTreeSet::from([format!("{}/bin/lsmod", &PREFIX[1..])])
    );
    assert_eq!(std::fs::read_to_string(&lsmod).unwrap(), "kmod's lsmod\n");

    // once it is gone, the install goes through; uninstall keeps a file
    // changed since
    std::fs::remove_file(&lsmod).unwrap();
    install_ok(&dest, &["--binary", bin.to_str().unwrap()]);
    let licence = dest.join(&PREFIX[1..]).join("share/doc/modkit/LICENSE-MIT");
    std::fs::write(&licence, "edited\n").unwrap();
    let out = install(&dest, &["--uninstall"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        format!("install.sh: {PREFIX}/share/doc/modkit/LICENSE-MIT has changed since it was installed: kept\n")
    );
    assert_eq!(
        files(&dest),
        BTreeSet::from([format!("{}/share/doc/modkit/LICENSE-MIT", &PREFIX[1..])])
    );
}
