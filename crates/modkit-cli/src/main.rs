//! The `modkit` multi-call binary.
//!
//! Dispatches on the basename of `argv[0]` (so that `modinfo`, `insmod`...
//! symlinks to `modkit` work) or, when called as `modkit`, on the first
//! argument (`modkit modinfo ...`). Nothing but the table of tools and the
//! dispatch lives here; each tool has its own file.

#![forbid(unsafe_code)]

mod audit;
mod check;
mod compat;
mod depmod;
mod dmesg;
#[cfg(test)]
mod docs;
mod insmod;
mod kallsyms;
mod klogd;
mod kmod;
mod kprobe;
mod log;
mod lsmod;
mod modinfo;
mod modprobe;
mod param;
mod printk;
mod rmmod;
mod simpleopts;
mod symbols;
mod taint;
mod toolargs;
mod version;

use std::ffi::OsString;
use std::process::ExitCode;

use version::VERSION;

/// A tool of the multi-call binary.
struct Tool {
    /// Name as used for `modkit NAME` and for `argv[0]` symlinks.
    name: &'static str,
    /// The link it is installed as (`scripts/install.sh`), its man page and
    /// completions: the name itself for the drop-ins (kmod's tools, dmesg,
    /// klogd), `modkit-NAME` for modkit's own tools, whose plain names
    /// (`check`, `param`...) are too generic for `/usr/bin`. Both names
    /// work as `argv[0]`.
    command: &'static str,
    /// What it does, for `modkit --help`.
    about: &'static str,
    /// Entry point: receives `argv` with `argv[0]` set to the tool name
    /// (or the symlink's path); returns the exit status.
    run: fn(Vec<OsString>) -> u8,
}

const TOOLS: &[Tool] = &[
    Tool {
        name: "audit",
        command: "modkit-audit",
        about: "report tainting, foreign and hidden modules, probes and module settings (--json)",
        run: audit::main,
    },
    Tool {
        name: "check",
        command: "modkit-check",
        about:
            "the kernel's verdict on a module file before loading it (vermagic, CRCs, symbols...)",
        run: check::main,
    },
    Tool {
        name: "depmod",
        command: "depmod",
        about: "generate modules.dep and the module indexes (kmod compatible)",
        run: depmod::main,
    },
    Tool {
        name: "dmesg",
        command: "dmesg",
        about: "print or control the kernel ring buffer (util-linux compatible)",
        run: dmesg::main,
    },
    Tool {
        name: "insmod",
        command: "insmod",
        about: "load a module file into the kernel (kmod compatible)",
        run: insmod::main,
    },
    Tool {
        name: "kallsyms",
        command: "modkit-kallsyms",
        about: "the kernel's symbols by name, glob or address (%pS style)",
        run: kallsyms::main,
    },
    Tool {
        name: "klogd",
        command: "klogd",
        about: "the kernel log daemon: nothing lost, in order, to files and syslog collectors",
        run: klogd::main,
    },
    Tool {
        name: "kmod",
        command: "kmod",
        about: "kmod's own command: list, static-nodes, help (kmod compatible)",
        run: kmod::main,
    },
    Tool {
        name: "kprobe",
        command: "modkit-kprobe",
        about: "kprobes and kretprobes on the running kernel: add, list, count, trace, remove",
        run: kprobe::main,
    },
    Tool {
        name: "lsmod",
        command: "lsmod",
        about: "list the loaded kernel modules (kmod compatible; --json)",
        run: lsmod::main,
    },
    Tool {
        name: "modinfo",
        command: "modinfo",
        about: "show information about kernel modules (kmod compatible)",
        run: modinfo::main,
    },
    Tool {
        name: "modprobe",
        command: "modprobe",
        about:
            "load or remove modules with their dependencies (kmod compatible; -D --format=json|dot)",
        run: modprobe::main,
    },
    Tool {
        name: "param",
        command: "modkit-param",
        about: "show module parameters with types; set them checked before writing",
        run: param::main,
    },
    Tool {
        name: "printk",
        command: "modkit-printk",
        about: "show or set the console log levels and printk controls by name",
        run: printk::main,
    },
    Tool {
        name: "rmmod",
        command: "rmmod",
        about: "unload modules from the kernel (kmod compatible)",
        run: rmmod::main,
    },
    Tool {
        name: "symbols",
        command: "modkit-symbols",
        about: "the symbols a kernel exports to modules (Module.symvers, module tree)",
        run: symbols::main,
    },
    Tool {
        name: "taint",
        command: "modkit-taint",
        about: "decode the kernel's taint flags and name the modules behind them (--json)",
        run: taint::main,
    },
];

fn basename(arg0: &OsString) -> String {
    let bytes = arg0.as_encoded_bytes();
    let base = bytes.rsplit(|&b| b == b'/').next().unwrap_or(bytes);
    String::from_utf8_lossy(base).into_owned()
}

fn find_tool(name: &str) -> Option<&'static Tool> {
    TOOLS.iter().find(|t| t.name == name || t.command == name)
}

fn usage() -> String {
    let mut s = format!(
        "modkit {VERSION}: Linux kernel modules and the kernel log\n\n\
         Usage:\n\tmodkit TOOL [options] [args]\n\tCOMMAND [options] [args]   (through a link to modkit named COMMAND)\n\n\
         Options:\n\t-h, --help      show this help\n\t-V, --version   show the version\n\n"
    );
    for (own, heading) in [
        (false, "Tools (drop-ins for kmod, util-linux's dmesg and sysklogd's klogd; COMMAND is the tool's name):"),
        (true, "modkit's own tools (COMMAND is modkit-TOOL):"),
    ] {
        s.push_str(heading);
        s.push('\n');
        for t in TOOLS.iter().filter(|t| (t.command != t.name) == own) {
            s.push_str(&format!("  {:<12} {}\n", t.name, t.about));
        }
    }
    s
}

/// The tools that are kmod's: they do not report a failed write to
/// standard output themselves (kmod's do not check), so [`run`] does.
const KMOD_TOOLS: &[&str] = &[
    "depmod", "insmod", "kmod", "lsmod", "modinfo", "modprobe", "rmmod",
];

/// Runs a tool. Output lost to a failed write (a full disk, `/dev/full`)
/// makes a kmod tool say so in its own style and exit 1, where kmod 34.2
/// exits 0 without a word (the other tools report it themselves, dmesg as
/// util-linux does).
fn run(tool: &Tool, args: Vec<OsString>) -> ExitCode {
    let prog = compat::getopt::program_name(&args[0]);
    let status = (tool.run)(args);
    match compat::stdio::take_failed_write() {
        Some(errno) if KMOD_TOOLS.contains(&tool.name) => {
            compat::stdio::stderr(&format!(
                "{prog}: ERROR: could not write to standard output: {}\n",
                modkit::error::strerror(errno)
            ));
            ExitCode::from(status.max(1))
        }
        _ => ExitCode::from(status),
    }
}

fn main() -> ExitCode {
    let mut args: Vec<OsString> = std::env::args_os().collect();
    if args.is_empty() {
        args.push(OsString::from("modkit"));
    }
    let invoked = basename(&args[0]);
    if let Some(tool) = find_tool(&invoked) {
        return run(tool, args);
    }
    let Some(first) = args.get(1).map(|a| a.to_string_lossy().into_owned()) else {
        eprint!("modkit: missing tool name\n{}", usage());
        return ExitCode::from(1);
    };
    match first.as_str() {
        "-h" | "--help" | "help" => ExitCode::from(u8::from(!compat::stdio::print_all(&usage()))),
        "-V" | "--version" => ExitCode::from(u8::from(!compat::stdio::print_all(&format!(
            "modkit {VERSION}\n"
        )))),
        name => match find_tool(name) {
            Some(tool) => {
                args.remove(0);
                run(tool, args)
            }
            None => {
                eprint!("modkit: unknown tool '{name}'\n{}", usage());
                ExitCode::from(1)
            }
        },
    }
}
