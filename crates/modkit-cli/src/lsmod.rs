//! `lsmod`: list the loaded modules, as kmod 34's lsmod, plus `--json`.

use std::ffi::OsString;
use std::os::unix::ffi::OsStrExt;

use modkit::error::{errno, strerror};
use modkit::loaded::KernelState;

use crate::compat::getopt::{HasArg, LongOpt};
use crate::compat::stdio::Stdout;
use crate::log::Log;
use crate::simpleopts::{self, SimpleOpts};

const JSON: i32 = 256;
const TREE: i32 = 257;
pub(crate) const SHORT_OPTS: &str = "svVh";
/// kmod's long options (without `--force`, which lsmod lacks), then `--json`.
pub(crate) const LONG_OPTS: &[LongOpt] = &[
    simpleopts::COMMON_LONG_OPTS[1],
    simpleopts::COMMON_LONG_OPTS[2],
    simpleopts::COMMON_LONG_OPTS[3],
    simpleopts::COMMON_LONG_OPTS[4],
    LongOpt::new("json", HasArg::No, JSON),
    LongOpt::new("tree", HasArg::Optional, TREE),
];

/// Entry point: `argv[0]` is the program name.
pub fn main(args: Vec<OsString>) -> u8 {
    let prog = crate::compat::getopt::program_name(&args[0]);
    run(args, &prog, SHORT_OPTS)
}

/// `kmod list`: lsmod under kmod's name, its options read in order (the
/// `+` that `kmod`'s own getopt set stays in force, as in glibc).
pub fn kmod_list(args: Vec<OsString>) -> u8 {
    run(args, "kmod", KMOD_LIST_SHORT_OPTS)
}

/// lsmod's options for `kmod list`: in order, stopping at the first operand.
const KMOD_LIST_SHORT_OPTS: &str = "+svVh";

fn run(args: Vec<OsString>, prog: &str, short: &str) -> u8 {
    let parsed = match simpleopts::parse_as(args, prog, short, LONG_OPTS, help) {
        Ok(p) => p,
        Err(status) => return status,
    };
    let SimpleOpts {
        verbose,
        operands,
        mut log,
        extra,
        ..
    } = parsed;
    let json = extra.iter().any(|(v, _)| *v == JSON);
    let tree = extra
        .iter()
        .rev()
        .find(|(v, _)| *v == TREE)
        .map(|(_, a)| a.clone());
    if !operands.is_empty() {
        log.error("too many arguments provided.\n");
        return 1;
    }
    log.setup_library_log(verbose);
    let status = match tree {
        None => list(&log, &KernelState::new(), json),
        Some(format) => match format.as_deref().map(|f| f.as_encoded_bytes()) {
            None | Some(b"text") => print_tree(&log, &KernelState::new(), false),
            Some(b"dot") => print_tree(&log, &KernelState::new(), true),
            Some(other) => {
                log.error(&format!(
                    "unknown tree format '{}': use text or dot.\n",
                    String::from_utf8_lossy(other)
                ));
                1
            }
        },
    };
    log.release_library_context();
    status
}

/// `--tree`: each module that nothing holds, with the modules it uses
/// below it (a module used by several appears under each); `--tree=dot`:
/// the same as a Graphviz graph, an edge from each holder to what it uses.
fn print_tree(log: &Log, kernel: &KernelState, dot: bool) -> u8 {
    let names = match kernel.loaded_modules() {
        Ok(n) => n,
        Err(e) => {
            log.error(&format!(
                "could not get list of modules: {}\n",
                strerror(e.errno())
            ));
            return 1;
        }
    };
    let rows: Vec<TreeRow> = names
        .into_iter()
        .map(|n| {
            let r = read_row(log, kernel, n.into());
            let lossy = |n: OsString| n.to_string_lossy().into_owned();
            TreeRow {
                name: lossy(r.name),
                size: r.size,
                refcnt: r.refcnt,
                holders: r.holders.into_iter().map(lossy).collect(),
            }
        })
        .collect();
    let mut out = Stdout::new();
    if dot {
        out.write(b"digraph lsmod {\n\trankdir=LR;\n\tnode [shape=box];\n");
        for r in &rows {
            out.write(
                format!(
                    "\t\"{}\" [label=\"{}\\n{} bytes, used by {}\"];\n",
                    r.name, r.name, r.size, r.refcnt
                )
                .as_bytes(),
            );
        }
        for r in &rows {
            for h in &r.holders {
                out.write(format!("\t\"{h}\" -> \"{}\";\n", r.name).as_bytes());
            }
        }
        out.write(b"}\n");
    } else {
        let glyphs = if modkit::compat::locale::CtypeLocale::from_environment().is_utf8() {
            &UTF8_GLYPHS
        } else {
            &ASCII_GLYPHS
        };
        for r in rows.iter().filter(|r| r.holders.is_empty()) {
            out.write(format!("{}\n", r.name).as_bytes());
            tree_children(
                &rows,
                &r.name,
                "",
                &mut vec![r.name.clone()],
                glyphs,
                &mut out,
            );
        }
    }
    u8::from(out.close().is_err())
}

/// The tree's lines: box-drawing characters when the C library says the
/// locale is UTF-8, ASCII otherwise (as `tree` draws them).
struct Glyphs {
    branch: &'static str,
    last: &'static str,
    through: &'static str,
}

const UTF8_GLYPHS: Glyphs = Glyphs {
    branch: "├── ",
    last: "└── ",
    through: "│   ",
};

const ASCII_GLYPHS: Glyphs = Glyphs {
    branch: "|-- ",
    last: "`-- ",
    through: "|   ",
};

fn tree_children(
    rows: &[TreeRow],
    name: &str,
    prefix: &str,
    path: &mut Vec<String>,
    glyphs: &Glyphs,
    out: &mut Stdout,
) {
    let used: Vec<&TreeRow> = rows
        .iter()
        .filter(|r| r.holders.iter().any(|h| h == name))
        .collect();
    for (i, r) in used.iter().enumerate() {
        let last = i + 1 == used.len();
        let branch = if last { glyphs.last } else { glyphs.branch };
        out.write(format!("{prefix}{branch}{}\n", r.name).as_bytes());
        if path.contains(&r.name) {
            continue;
        }
        path.push(r.name.clone());
        let deeper = format!("{prefix}{}", if last { "    " } else { glyphs.through });
        tree_children(rows, &r.name, &deeper, path, glyphs, out);
        path.pop();
    }
}

fn help(prog: &str) -> String {
    format!(
        "Usage:\n\t{prog} [options]\n\
         Options:\n\
         \t-s, --syslog      send messages to syslog instead of stderr\n\
         \t-v, --verbose     print more messages\n\
         \t    --json        print the list as JSON (name, size, refcount, holders, state, taint)\n\
         \t    --tree[=dot]  print who uses whom as a tree (or a Graphviz graph)\n\
         \t-V, --version     show the version\n\
         \t-h, --help        show this help\n"
    )
}

/// A module in `--tree`: names as text.
struct TreeRow {
    name: String,
    size: i64,
    refcnt: i32,
    holders: Vec<String>,
}

/// One loaded module as lsmod shows it (names as the kernel gives them).
struct Row {
    name: OsString,
    size: i64,
    refcnt: i32,
    holders: Vec<OsString>,
}

fn read_row(log: &Log, kernel: &KernelState, name: OsString) -> Row {
    let size = match kernel.size(&name) {
        Ok(s) => s,
        Err(e) if e.errno() == errno::EINVAL => {
            log.error(&format!("{}\n", e.detail()));
            // kmod's reader zeroes the value before failing to parse it.
            if e.detail().starts_with("failed to read coresize") {
                0
            } else {
                -i64::from(errno::ENOENT)
            }
        }
        Err(e) => -i64::from(e.errno()),
    };
    let refcnt = match kernel.refcnt(&name) {
        Ok(r) => r,
        Err(e) => {
            if e.errno() == errno::EINVAL {
                log.error(&format!("{}\n", e.detail()));
            }
            -e.errno()
        }
    };
    let holders = kernel.holder_names(&name).unwrap_or_else(|e| {
        log.error(&format!("{}\n", e.detail()));
        Vec::new()
    });
    Row {
        name,
        size,
        refcnt,
        holders,
    }
}

fn list(log: &Log, kernel: &KernelState, json: bool) -> u8 {
    let names = match kernel.loaded_module_entries() {
        Ok(entries) => entries
            .into_iter()
            .filter_map(|name| {
                if name.is_none() {
                    // a line with no word: libkmod passes a null name on
                    log.error(&format!(
                        "could not get module from name '(null)': {}\n",
                        strerror(errno::ENOENT)
                    ));
                }
                name
            })
            .collect::<Vec<_>>(),
        Err(e) => {
            let path = kernel.proc_modules_path();
            log.error(&format!(
                "could not open {}: {}\n",
                path.display(),
                strerror(e.errno())
            ));
            log.error(&format!(
                "could not get list of modules: {}\n",
                strerror(e.errno())
            ));
            return 1;
        }
    };
    let mut out = Stdout::new();
    if json {
        let rows: Vec<serde_json::Value> = names
            .into_iter()
            .map(|name| {
                let state = kernel
                    .initstate(&name)
                    .map(|s| s.as_str())
                    .unwrap_or("unknown");
                let taint = kernel.taint(&name);
                let row = read_row(log, kernel, name);
                let lossy = |n: &OsString| n.to_string_lossy().into_owned();
                serde_json::json!({
                    "name": lossy(&row.name),
                    "size": row.size,
                    "refcount": row.refcnt,
                    "holders": row.holders.iter().map(lossy).collect::<Vec<_>>(),
                    "state": state,
                    "taint": taint,
                })
            })
            .collect();
        let text = serde_json::to_string_pretty(&serde_json::json!({ "modules": rows }))
            .unwrap_or_default();
        out.write(text.as_bytes());
        out.write(b"\n");
    } else {
        out.write(b"Module                  Size  Used by\n");
        for name in names {
            let row = read_row(log, kernel, name);
            // printf's "%-19s": bytes, padded by byte count
            let name = row.name.as_bytes();
            let mut line = name.to_vec();
            line.resize(name.len().max(19), b' ');
            line.extend_from_slice(format!(" {:>8}  {}", row.size, row.refcnt).as_bytes());
            for (i, h) in row.holders.iter().enumerate() {
                line.push(if i == 0 { b' ' } else { b',' });
                line.extend_from_slice(h.as_bytes());
            }
            line.push(b'\n');
            out.write(&line);
        }
    }
    if out.close().is_ok() {
        0
    } else {
        1
    }
}
