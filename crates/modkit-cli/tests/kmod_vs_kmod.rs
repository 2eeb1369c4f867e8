//! `modkit kmod` against kmod 34.2's `kmod`: `list`, `static-nodes` in
//! each format, to standard output and to a file (in directories still to
//! be made, over an existing file, into a directory), on the
//! `modules.devname` of each Debian tree and on one with every kind of bad
//! line; a missing `modules.devname`; the options of `kmod` and of its
//! commands, read in order as glibc's getopt keeps reading them.
//!
//! `static-nodes` reads `/lib/modules/$(uname -r)/modules.devname` and has
//! no option to look elsewhere, so each run happens in a private mount
//! namespace (`unshare -m`, root only) where an overlay on the directory
//! holding `/lib/modules` adds `modules.devname` for this machine's
//! release; the machine itself is not touched.
//!
//! Where kmod prints its help (`kmod`, `kmod bogus`, `-f bad`), standard
//! output is modkit's own words and is not compared; standard error and
//! the exit status are. `-V` (of every tool) is kmod's two lines, then
//! modkit's own.

mod common;

use common::*;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// Runs `program args...` with `devname` (or none) as the running
/// kernel's `modules.devname`.
fn with_devname(program: &Path, args: &[&str], devname: Option<&Path>, scratch: &Path) -> Output {
    let libdir = std::fs::canonicalize("/lib").unwrap();
    let (up, work) = (scratch.join("up"), scratch.join("work"));
    let _ = std::fs::remove_dir_all(&up);
    let _ = std::fs::remove_dir_all(&work);
    std::fs::create_dir_all(&up).unwrap();
    std::fs::create_dir_all(&work).unwrap();
    let script = "mount -t overlay overlay -o \"lowerdir=$1,upperdir=$2,workdir=$3\" \"$1\" \
                  && d=\"$1/modules/$(uname -r)\" && mkdir -p \"$d\" \
                  && { [ -z \"$4\" ] || cp \"$4\" \"$d/modules.devname\"; } \
                  && shift 4 && exec \"$@\"";
    Command::new("unshare")
        .args(["-m", "sh", "-c", script, "sh"])
        .arg(&libdir)
        .arg(&up)
        .arg(&work)
        .arg(devname.map(|p| p.as_os_str()).unwrap_or_default())
        .arg(program)
        .args(args)
        .env("LC_ALL", "C")
        .output()
        .expect("run unshare")
}

struct Case {
    args: Vec<String>,
    devname: Option<PathBuf>,
    /// kmod prints its help on stdout: compare stderr and status only.
    help_on_stdout: bool,
    /// `-o FILE`: compare the file too.
    output: Option<PathBuf>,
}

fn run_case(case: &Case, scratch: &Path) -> Vec<String> {
    let args: Vec<&str> = case.args.iter().map(String::as_str).collect();
    let clear = || {
        if let Some(o) = &case.output {
            let _ = std::fs::remove_file(o);
            let _ = std::fs::remove_dir_all(o.parent().unwrap().join("made"));
        }
    };
    let read = || case.output.as_ref().map(|o| std::fs::read(o).ok());
    clear();
    let theirs = with_devname(&ref_tool("kmod"), &args, case.devname.as_deref(), scratch);
    let their_file = read();
    clear();
    let mut ours_args = vec!["kmod"];
    ours_args.extend(&args);
    let ours = with_devname(&modkit(), &ours_args, case.devname.as_deref(), scratch);
    let our_file = read();
    clear();
    let what = format!(
        "kmod {} [{}]",
        args.join(" "),
        case.devname
            .as_ref()
            .map_or("no modules.devname".into(), |p| p.display().to_string())
    );
    let mut diffs = Vec::new();
    if case.help_on_stdout {
        if ours.status.code() != theirs.status.code() || ours.stderr != theirs.stderr {
            diffs.push(format!(
                "{what}: {:?} {:?} vs kmod {:?} {:?}",
                ours.status.code(),
                String::from_utf8_lossy(&ours.stderr),
                theirs.status.code(),
                String::from_utf8_lossy(&theirs.stderr)
            ));
        }
        if ours.stdout.is_empty() {
            diffs.push(format!("{what}: no help printed"));
        }
    } else {
        diffs.extend(output_differences(&what, &ours, &theirs));
    }
    if our_file != their_file {
        diffs.push(format!(
            "{what}: output file differs ({:?} vs kmod {:?} bytes)",
            our_file.as_ref().map(|f| f.as_ref().map(Vec::len)),
            their_file.as_ref().map(|f| f.as_ref().map(Vec::len)),
        ));
    }
    diffs
}

#[test]
fn kmod_command_matches_kmod() {
    if !runs(Tier::Reference) {
        return;
    }
    if !Command::new("unshare")
        .args(["-m", "true"])
        .status()
        .is_ok_and(|s| s.success())
    {
        skip(Tier::Reference, "unshare -m needs root (CAP_SYS_ADMIN)");
        return;
    }
    let scratch = scratch_dir("kmod-static-nodes");
    let s = scratch.path();
    let odd = s.join("odd.devname");
    let mut odd_bytes = b"# comment\nfuse fuse c10:229\nbad line\nvfio vfio/vfio c10:196\n\
        x y z1:2\nm deep/er/node b 7:8\n  sp  aced\tc 1:2\nneg n c-1:+2\nbig b c99999999999:4294967296\n\
        cut c c1 :2\nnul n\0c1:2\n"
        .to_vec();
    odd_bytes.extend(std::iter::repeat_n(b'x', 5000));
    odd_bytes.extend_from_slice(b" long c1:2\nlast l c3:4");
    std::fs::write(&odd, &odd_bytes).unwrap();
    let empty = s.join("empty.devname");
    std::fs::write(&empty, b"").unwrap();
    let dirs = s.join("a-directory");
    std::fs::create_dir_all(&dirs).unwrap();

    let mut devnames: Vec<PathBuf> = ["6.1", "6.12", "6.12-bpo"]
        .iter()
        .map(|t| Tree::get(t).moddir().join("modules.devname"))
        .collect();
    devnames.extend([odd.clone(), empty]);

    let out_file = s.join("out/static-nodes.conf");
    std::fs::create_dir_all(out_file.parent().unwrap()).unwrap();
    let deep = s.join("out/made/deeper/static-nodes.conf");
    let str_of = |p: &Path| p.to_str().unwrap().to_string();
    let mut cases = Vec::new();
    let case = |args: &[&str], devname: Option<&Path>, help: bool, output: Option<&Path>| Case {
        args: args.iter().map(|a| a.to_string()).collect(),
        devname: devname.map(Path::to_path_buf),
        help_on_stdout: help,
        output: output.map(Path::to_path_buf),
    };
    for d in &devnames {
        for f in [
            &[][..],
            &["-f", "human"],
            &["-f", "tmpfiles"],
            &["--format=devname"],
        ] {
            let mut args = vec!["static-nodes"];
            args.extend(f);
            cases.push(case(&args, Some(d), false, None));
            let o = str_of(&out_file);
            let mut with_o = args.clone();
            with_o.extend(["-o", &o]);
            cases.push(case(&with_o, Some(d), false, Some(&out_file)));
        }
    }
    let deep_s = str_of(&deep);
    let out_s = str_of(&out_file);
    let file_as_parent = format!("{}/x", str_of(&odd));
    let dir_s = str_of(&dirs);
    let odd_p = Some(odd.as_path());
    for (args, help, output) in [
        (
            vec!["static-nodes", "--output", &deep_s, "-f", "tmpfiles"],
            false,
            Some(deep.as_path()),
        ),
        (
            vec!["static-nodes", "--output=", "-f", "devname"],
            false,
            None,
        ),
        (vec!["static-nodes", "-o", &file_as_parent], false, None),
        (vec!["static-nodes", "-o", &dir_s], false, None),
        (vec!["static-nodes", "-f", "bad"], true, None),
        (vec!["static-nodes", "-f", "Human"], true, None),
        (vec!["static-nodes", "-f"], false, None),
        (vec!["static-nodes", "-x"], false, None),
        (vec!["static-nodes", "--bogus"], false, None),
        (vec!["static-nodes", "--form=tmpfiles"], false, None),
        (
            vec!["static-nodes", "operand", "-f", "tmpfiles"],
            false,
            None,
        ),
        (
            vec!["static-nodes", "-f", "tmpfiles", "operand"],
            false,
            None,
        ),
        (vec!["--", "static-nodes", "-f", "devname"], false, None),
        (vec!["--", "static-nodes", "--bogus"], false, None),
        (
            vec!["static-nodes", "-o", &out_s, "-o", &out_s],
            false,
            Some(out_file.as_path()),
        ),
        (vec!["list", "x", "--bogus"], false, None),
        (vec!["list", "--bogus"], false, None),
        (vec!["list", "--", "-v"], false, None),
        (vec!["list", "-x"], false, None),
        (vec!["-x"], false, None),
        (vec!["--bogus"], false, None),
        (vec!["--he"], true, None),
        (vec![], true, None),
        (vec!["bogus"], true, None),
        (vec!["lsmod"], true, None),
        (vec!["help"], true, None),
        (vec!["help", "extra", "-x"], true, None),
        (vec!["-h", "list"], true, None),
    ] {
        cases.push(case(&args, odd_p, help, output));
    }
    // No modules.devname at all: a warning, and no output file made.
    cases.push(case(&["static-nodes"], None, false, None));
    cases.push(case(
        &["static-nodes", "-o", &out_s],
        None,
        false,
        Some(out_file.as_path()),
    ));

    let failures: Vec<String> = cases.iter().flat_map(|c| run_case(c, s)).collect();
    assert!(cases.len() > 60);
    assert_no_failures("kmod", &failures);

    // -V of kmod and of every tool: kmod's two lines exactly (the feature
    // line included: scripts read it), then modkit's own.
    for tool in [
        "kmod", "modinfo", "modprobe", "depmod", "insmod", "rmmod", "lsmod",
    ] {
        let ours = run_modkit(tool, ["-V"]);
        let theirs = run_ref(tool, ["-V"]);
        let ours = String::from_utf8_lossy(&ours.stdout).into_owned();
        let theirs = String::from_utf8_lossy(&theirs.stdout).into_owned();
        assert_eq!(theirs.lines().count(), 2, "{tool} -V: {theirs}");
        assert!(
            ours.starts_with(&theirs),
            "{tool} -V: {ours:?} vs kmod {theirs:?}"
        );
        assert!(
            ours[theirs.len()..].starts_with("modkit "),
            "{tool} -V: {ours:?}"
        );
    }
}
