//! The completion scripts of `completions/` in their shells: each loads
//! (`-n`, then sourced), and a few completions are asked for and checked —
//! options, option values, module names of a module directory named with
//! `-d`/`-S` (a fixture tree), kernel versions, `kmod`'s commands, and
//! loaded modules for `rmmod` (a `/proc/modules` of our own, on a tmpfs
//! over `/proc` in a private mount namespace). bash and fish are asked
//! through their own completion machinery (`COMP_WORDS` + the completion
//! function; `complete -C`); zsh's needs a terminal, so its script is
//! loaded with compsys's `_arguments`/`compadd`/`_wanted` standing in, and
//! what the script hands them is checked. That the scripts know every
//! option, and nothing else, is checked in `src/docs/tests.rs`.
//!
//! Offline tier: needs bash, zsh and fish (`scripts/test.sh` installs
//! them); a missing shell skips, or fails when the tier is required.

use std::path::{Path, PathBuf};
use std::process::Command;

use modkit_testkit::{skip, ScratchDir, Tier};

fn completions() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("completions")
}

fn have(shell: &str) -> bool {
    if Command::new(shell).arg("-c").arg("true").output().is_ok() {
        return true;
    }
    skip(
        Tier::Offline,
        &format!("{shell} is not installed: apt-get install {shell} (scripts/test.sh does)"),
    );
    false
}

/// A module tree with two kernels: `ROOT/lib/modules/9.9-test` holds
/// modules, a built-in one, aliases (words and patterns).
fn tree() -> ScratchDir {
    let root = ScratchDir::new("completions-tree");
    let dir = root.join("lib/modules/9.9-test");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::create_dir_all(root.join("lib/modules/9.8-old")).unwrap();
    std::fs::write(
        dir.join("modules.dep"),
        "kernel/fs/ext4/ext4.ko.xz: kernel/lib/crc16.ko.xz\nkernel/lib/crc16.ko.xz:\nextra/exfat.ko:\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("modules.builtin"),
        "kernel/fs/exportfs/exportfs.ko\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("modules.alias"),
        "# Aliases extracted from modules themselves.\nalias fs-ext4 ext4\nalias pci:v*d* ext4\nalias ext3 ext4\n",
    )
    .unwrap();
    root
}

fn run(cmd: &mut Command) -> String {
    let out = cmd.output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && stderr.is_empty(),
        "{cmd:?}: {stderr}"
    );
    String::from_utf8(out.stdout).unwrap()
}

/// Each line's first tab-separated field (fish adds descriptions), sorted.
fn words(out: &str) -> Vec<String> {
    let mut v: Vec<String> = out
        .lines()
        .map(|l| l.split('\t').next().unwrap().to_string())
        .collect();
    v.sort();
    v
}

/// `command`'s completion (its file; modkit's own tools' are named
/// `modkit-TOOL`, their function `_modkit_TOOL`) of `line`.
fn bash_complete(command: &str, line: &[&str]) -> Vec<String> {
    let tool = command.trim_start_matches("modkit-");
    let script = format!(
        "source {}\nCOMP_WORDS=(\"$@\"); COMP_CWORD=$(($# - 1))\n_modkit_{tool}\nprintf '%s\\n' \"${{COMPREPLY[@]}}\"",
        completions().join("bash").join(command).display()
    );
    words(&run(Command::new("bash")
        .arg("-c")
        .arg(script)
        .arg("bash")
        .args(line)))
}

fn fish_complete(tool: &str, line: &str) -> Vec<String> {
    let script = format!(
        "source {}; complete -C{}",
        completions().join(format!("fish/{tool}.fish")).display(),
        fish_quote(line)
    );
    words(&run(Command::new("fish")
        .arg("--no-config")
        .arg("-c")
        .arg(script)))
}

fn fish_quote(s: &str) -> String {
    format!("'{}'", s.replace('\\', "\\\\").replace('\'', "\\'"))
}

/// `shell args...` with `/proc/modules` listing `loaded` (as root, in a
/// private mount namespace); `None` (after the skip line) if that cannot
/// be had here.
fn with_loaded(loaded: &[&str], shell: &str, args: &[&str]) -> Option<String> {
    let lines: String = loaded
        .iter()
        .map(|m| format!("{m} 16384 0 - Live 0x0\n"))
        .collect();
    // the real /proc stays reachable for /proc/self (bash's <(...) needs
    // /dev/fd, which is /proc/self/fd)
    let real = ScratchDir::new("completions-proc");
    let out = Command::new("unshare")
        .args(["-m", "--propagation", "private", "sh", "-c"])
        .arg(
            "mount -t proc proc \"$1\" && mount -t tmpfs none /proc && ln -s \"$1/self\" /proc/self && \
             printf %s \"$0\" > /proc/modules && shift && exec \"$@\"",
        )
        .arg(lines)
        .arg(real.to_str().unwrap())
        .arg(shell)
        .args(args)
        .output();
    match out {
        Ok(o) if o.status.success() => {
            let err = String::from_utf8_lossy(&o.stderr);
            assert!(err.is_empty(), "{shell}: {err}");
            Some(String::from_utf8(o.stdout).unwrap())
        }
        Ok(o) => {
            let err = String::from_utf8_lossy(&o.stderr);
            assert!(
                !err.contains("modkit"),
                "the completion failed, not the set-up: {err}"
            );
            skip(
                Tier::Offline,
                &format!("no private /proc here (needs root): {err}"),
            );
            None
        }
        Err(e) => {
            skip(Tier::Offline, &format!("unshare: {e}"));
            None
        }
    }
}

#[test]
fn every_script_loads_in_its_shell() {
    for (shell, dir) in [("bash", "bash"), ("fish", "fish")] {
        if !have(shell) {
            return;
        }
        for entry in std::fs::read_dir(completions().join(dir)).unwrap() {
            let path = entry.unwrap().path();
            run(Command::new(shell).arg("-n").arg(&path));
            // sourced: it registers the completion of its command
            let name = path.file_stem().unwrap().to_str().unwrap().to_string();
            let check = match shell {
                "bash" => format!("source {}; complete -p {name}", path.display()),
                _ => format!("source {}; complete -c {name} | head -1", path.display()),
            };
            let mut cmd = Command::new(shell);
            if shell == "fish" {
                cmd.arg("--no-config");
            }
            let out = run(cmd.arg("-c").arg(check));
            assert!(out.contains(&name), "{}: {out}", path.display());
        }
    }
    if !have("zsh") {
        return;
    }
    let zsh = completions().join("zsh/_modkit");
    run(Command::new("zsh").arg("-n").arg(&zsh));
    // through compinit, as a user's shell loads it: every tool is bound
    let home = ScratchDir::new("completions-zsh");
    let out = run(Command::new("zsh")
        .args(["-f", "-c"])
        .arg(format!(
            "fpath=({} $fpath); autoload -U compinit; compinit -u -d {}/zcompdump; \
             for t in modkit depmod dmesg insmod kmod lsmod modinfo modprobe modkit-printk modkit-check rmmod; do print $t=$_comps[$t]; done",
            zsh.parent().unwrap().display(),
            home.display()
        )));
    for line in out.lines() {
        assert!(line.ends_with("=_modkit"), "{out}");
    }
}

#[test]
fn bash_completes_options_values_modules_and_commands() {
    if !have("bash") {
        return;
    }
    let t = tree();
    let root = t.to_str().unwrap();
    assert_eq!(
        bash_complete(
            "modprobe",
            &["modprobe", "-d", root, "-S", "9.9-test", "ex"]
        ),
        ["exfat", "exportfs", "ext3", "ext4"]
    );
    // --dirname=ROOT --set-version=V: bash splits the words at '='
    assert_eq!(
        bash_complete(
            "modprobe",
            &[
                "modprobe",
                "--dirname",
                "=",
                root,
                "--set-version",
                "=",
                "9.9-test",
                "c"
            ]
        ),
        ["crc16"]
    );
    assert_eq!(
        bash_complete("modprobe", &["modprobe", "-d", root, "-S", ""]),
        ["9.8-old", "9.9-test"]
    );
    assert_eq!(
        bash_complete("modprobe", &["modprobe", "--format", "=", "j"]),
        ["json"]
    );
    assert_eq!(
        bash_complete("modprobe", &["modprobe", "--show-d"]),
        ["--show-depends"]
    );
    assert_eq!(
        bash_complete("modinfo", &["modinfo", "-b", root, "-k", "9.9-test", "cr"]),
        ["crc16"]
    );
    assert_eq!(
        bash_complete("depmod", &["depmod", "-b", root, "9.9"]),
        ["9.9-test"]
    );
    assert_eq!(bash_complete("kmod", &["kmod", "s"]), ["static-nodes"]);
    assert_eq!(
        bash_complete("kmod", &["kmod", "static-nodes", "--format", "=", "t"]),
        ["tmpfiles"]
    );
    assert_eq!(bash_complete("kmod", &["kmod", "list", "--j"]), ["--json"]);
    assert_eq!(
        bash_complete("dmesg", &["dmesg", "--level", "err,w"]),
        ["err,warn"]
    );
    assert_eq!(
        bash_complete("dmesg", &["dmesg", "--time-format", "i"]),
        ["iso"]
    );
    assert_eq!(
        bash_complete("modkit-printk", &["modkit-printk", "devk"]),
        ["devkmsg"]
    );
    let script = format!(
        "source {}; COMP_WORDS=(rmmod s); COMP_CWORD=1; _modkit_rmmod; printf '%s\\n' \"${{COMPREPLY[@]}}\"; \
         source {}; COMP_WORDS=(modprobe -r s); COMP_CWORD=2; _modkit_modprobe; printf '%s\\n' \"${{COMPREPLY[@]}}\"",
        completions().join("bash/rmmod").display(),
        completions().join("bash/modprobe").display()
    );
    if let Some(out) = with_loaded(&["snd", "sg", "loop"], "bash", &["-c", &script]) {
        assert_eq!(out, "snd\nsg\nsnd\nsg\n");
    }
}

#[test]
fn fish_completes_options_values_modules_and_commands() {
    if !have("fish") {
        return;
    }
    let t = tree();
    let root = t.to_str().unwrap();
    assert_eq!(
        fish_complete("modprobe", &format!("modprobe -d {root} -S 9.9-test ex")),
        ["exfat", "exportfs", "ext3", "ext4"]
    );
    assert_eq!(
        fish_complete(
            "modprobe",
            &format!("modprobe -d{root} --set-version=9.9-test cr")
        ),
        ["crc16"]
    );
    assert_eq!(
        fish_complete("modprobe", &format!("modprobe -d {root} -S ")),
        ["9.8-old", "9.9-test"]
    );
    assert_eq!(
        fish_complete("modprobe", "modprobe --format "),
        ["dot", "json"]
    );
    assert_eq!(
        fish_complete("modprobe", "modprobe --show-dep"),
        ["--show-depends"]
    );
    assert_eq!(
        fish_complete("modinfo", &format!("modinfo -b {root} -k 9.9-test cr")),
        ["crc16"]
    );
    assert_eq!(
        fish_complete("kmod", "kmod "),
        ["help", "list", "static-nodes"]
    );
    assert_eq!(
        fish_complete("kmod", "kmod static-nodes --format "),
        ["devname", "human", "tmpfiles"]
    );
    assert_eq!(
        fish_complete("dmesg", "dmesg --level=err,w"),
        ["--level=err,warn"]
    );
    // `modkit TOOL` completes as TOOL, modkit's own tools as modkit-TOOL
    let with_modkit = |tool: &str, lines: &[&str]| {
        let mut script = format!(
            "source {0}/modkit.fish; source {0}/{tool}.fish",
            completions().join("fish").display()
        );
        for l in lines {
            script.push_str(&format!("; complete -C{}", fish_quote(l)));
        }
        words(&run(Command::new("fish").args([
            "--no-config",
            "-c",
            &script,
        ])))
    };
    assert_eq!(
        with_modkit(
            "modprobe",
            &[
                "modkit mod",
                &format!("modkit modprobe -d {root} -S 9.9-test ext")
            ]
        ),
        ["ext3", "ext4", "modinfo", "modprobe"]
    );
    assert_eq!(
        with_modkit("modkit-taint", &["modkit-taint --js", "modkit taint --js"]),
        ["--json", "--json"]
    );
    let script = format!(
        "source {}; complete -C'rmmod s'",
        completions().join("fish/rmmod.fish").display()
    );
    if let Some(out) = with_loaded(
        &["snd", "sg", "loop"],
        "fish",
        &["--no-config", "-c", &script],
    ) {
        assert_eq!(words(&out), ["sg", "snd"]);
    }
}

#[test]
fn zsh_script_hands_compsys_the_options_and_module_names() {
    if !have("zsh") {
        return;
    }
    let t = tree();
    let root = t.to_str().unwrap();
    // compsys's functions as stand-ins that print what they are given
    let script = format!(
        "compadd() {{ [[ $1 == -a ]] && print -rl -- ${{(P)2}} }}\n\
         _wanted() {{ shift 3; \"$@\" }}\n\
         _arguments() {{ print -rl -- \"$@\" }}\n\
         compdef() {{ }}\n\
         source {}\n\
         service=modprobe words=(modprobe -d {root} -S 9.9-test ex) CURRENT=6; _modkit_modules | sort | tr '\\n' ' '; print\n\
         service=modinfo words=(modinfo --basedir={root} -k9.9-test '') CURRENT=4; _modkit_modules | sort | tr '\\n' ' '; print\n\
         service=depmod words=(depmod -b {root} '') CURRENT=4; _modkit_kernels | tr '\\n' ' '; print\n\
         service=modkit words=(modkit modprobe '') CURRENT=3; _modkit | grep -c -e '^\\*--show-depends\\[' -e '^\\*-S+\\[.*:kernel version:_modkit_kernels$' -e '^\\*--format=\\[.*:(json dot)$'\n\
         service=kmod words=(kmod '') CURRENT=2; _modkit | grep -x '1:command:(list static-nodes help)'\n",
        completions().join("zsh/_modkit").display()
    );
    let out = run(Command::new("zsh").args(["-f", "-c", &script]));
    assert_eq!(
        out,
        "crc16 exfat exportfs ext3 ext4 fs-ext4 \ncrc16 exfat exportfs ext3 ext4 fs-ext4 \n9.8-old 9.9-test \n3\n1:command:(list static-nodes help)\n",
        "{out}"
    );
}
