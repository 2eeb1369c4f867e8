//! `kmod`: the command kmod 34 installs besides its tool links —
//! `kmod list` (lsmod), `kmod static-nodes` (what systemd's
//! `kmod-static-nodes.service` runs at every boot), `kmod help`,
//! `kmod -V`.
//!
//! As in kmod, the command's own options are read in order (`+hV`: the
//! first operand is the command), and that order stays in force for the
//! command's options (glibc's getopt keeps its mode across calls): in
//! `kmod list x -v`, `-v` is an operand. The command gets `argv` shifted by
//! one and reads its options from where `kmod`'s getopt stopped, so after
//! `kmod -- list` getopt's messages name `--`. The tool links (`lsmod`...)
//! are not commands of `kmod`: `kmod lsmod` is an invalid command, as in
//! kmod.

use std::ffi::OsString;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

use modkit::error::{errno, strerror};
use modkit::kmod::MODULE_DIRECTORY;
use modkit::static_nodes::{self, Format, Line};

use crate::compat::getopt::{Getopt, HasArg, LongOpt};
use crate::compat::stdio::{self, Stdout};

pub(crate) const SHORT_OPTS: &str = "+hV";
pub(crate) const LONG_OPTS: &[LongOpt] = &[
    LongOpt::new("help", HasArg::No, 'h' as i32),
    LongOpt::new("version", HasArg::No, 'V' as i32),
];

/// `kmod static-nodes`' options (read in order, see the file's comment).
pub(crate) const STATIC_NODES_SHORT_OPTS: &str = "+o:f:h";
pub(crate) const STATIC_NODES_LONG_OPTS: &[LongOpt] = &[
    LongOpt::new("output", HasArg::Required, 'o' as i32),
    LongOpt::new("format", HasArg::Required, 'f' as i32),
    LongOpt::new("help", HasArg::No, 'h' as i32),
];

/// The commands, with what `kmod help` says of them.
const COMMANDS: &[(&str, &str)] = &[
    ("help", "print this help"),
    ("list", "list the loaded modules (as lsmod)"),
    (
        "static-nodes",
        "print the device nodes the running kernel's modules provide",
    ),
];

/// The tool links kmod answers to.
const LINKS: &[&str] = &["lsmod", "rmmod", "insmod", "modinfo", "modprobe", "depmod"];

fn help() -> String {
    let mut s = String::from(
        "kmod - kernel modules: list them, load and unload them, and more\n\
         Usage:\n\tkmod [options] command [command_options]\n\n\
         Options:\n\
         \t-V, --version     print the version\n\
         \t-h, --help        print this help\n\n\
         Commands:\n",
    );
    for (name, about) in COMMANDS {
        s.push_str(&format!("  {name:<12} {about}\n"));
    }
    s.push_str("\nkmod is also each of these tools when run through a link of that name:\n");
    for name in LINKS {
        s.push_str(&format!("  {name:<12} the {name} tool\n"));
    }
    s
}

fn print_stdout(text: &str) {
    let mut out = Stdout::new();
    out.write(text.as_bytes());
    let _ = out.close();
}

/// Entry point: `argv[0]` is `kmod`.
pub fn main(args: Vec<OsString>) -> u8 {
    let mut getopt = Getopt::new(args, SHORT_OPTS, LONG_OPTS);
    // Every option of kmod's own ends the run: help, version, or an error.
    if let Some(opt) = getopt.next() {
        match opt {
            Err(e) => {
                e.report();
                return 1;
            }
            Ok(o) if o.val == 'h' as i32 => {
                print_stdout(&help());
                return 0;
            }
            Ok(o) if o.val == 'V' as i32 => {
                print_stdout(&crate::version::kmod_version());
                return 0;
            }
            Ok(_) => return 1,
        }
    }
    let optind = getopt.optind();
    let args = getopt.args().to_vec();
    let Some(command) = args.get(optind) else {
        stdio::stderr("missing command\n");
        print_stdout(&help());
        return 1;
    };
    // The command sees argv shifted by one, and reads its options from
    // where kmod's getopt stopped: argv[0] is what followed "kmod".
    let mut sub = vec![args[1].clone()];
    sub.extend_from_slice(&args[optind + 1..]);
    match command.as_bytes() {
        b"help" => {
            print_stdout(&help());
            0
        }
        b"list" => crate::lsmod::kmod_list(sub),
        b"static-nodes" => static_nodes_main(sub),
        other => {
            stdio::stderr_bytes(&[b"invalid command '", other, b"'\n"].concat());
            print_stdout(&help());
            1
        }
    }
}

fn static_nodes_help() -> String {
    let mut s = String::from(
        "Usage:\n\tkmod static-nodes [options]\n\n\
         Prints the device nodes that the running kernel's modules provide\n\
         (its modules.devname), to be made before the modules are loaded.\n\n\
         Options:\n\
         \t-f, --format=FORMAT  the output format (see below)\n\
         \t-o, --output=FILE    write to FILE instead of standard output\n\
         \t-h, --help           print this help\n\n\
         Formats:\n",
    );
    for (f, about) in [
        (
            Format::Human,
            "(the default) for people to read; not for scripts",
        ),
        (Format::Tmpfiles, "tmpfiles.d(5) lines for systemd-tmpfiles"),
        (Format::Devname, "the modules.devname format"),
    ] {
        s.push_str(&format!("\t{:<12} {about}\n", f.name()));
    }
    s
}

fn static_nodes_main(args: Vec<OsString>) -> u8 {
    let mut output: Option<OsString> = None;
    let mut format = Format::Human;
    let mut getopt = Getopt::new(args, STATIC_NODES_SHORT_OPTS, STATIC_NODES_LONG_OPTS);
    for opt in getopt.by_ref() {
        let o = match opt {
            Ok(o) => o,
            Err(e) => {
                e.report();
                return 1;
            }
        };
        match u8::try_from(o.val).unwrap_or(0) {
            b'o' => output = o.arg,
            b'f' => {
                let name = o.arg.unwrap_or_default();
                match Format::from_name(name.as_bytes()) {
                    Some(f) => format = f,
                    None => {
                        stdio::stderr_bytes(
                            &[b"Unknown format: '", name.as_bytes(), b"'.\n"].concat(),
                        );
                        print_stdout(&static_nodes_help());
                        return 1;
                    }
                }
            }
            b'h' => {
                print_stdout(&static_nodes_help());
                return 0;
            }
            _ => return 1,
        }
    }
    // Operands are ignored, as kmod ignores them.
    let release = match modkit::resolve::kernel_release() {
        Ok(r) => r,
        Err(_) => {
            stdio::stderr("Error: uname failed!\n");
            return 1;
        }
    };
    let devname = format!("{MODULE_DIRECTORY}/{release}/modules.devname");
    let data = match std::fs::File::open(&devname) {
        Ok(mut f) => {
            // A read error ends the input as fgets's NULL does.
            let mut data = Vec::new();
            let _ = std::io::Read::read_to_end(&mut f, &mut data);
            data
        }
        Err(e) if e.raw_os_error() == Some(errno::ENOENT) => {
            stdio::stderr(&format!("Warning: {devname} not found - ignoring\n"));
            return 0;
        }
        Err(e) => {
            let msg = strerror(e.raw_os_error().unwrap_or(errno::EIO));
            stdio::stderr(&format!("Error: could not open {devname} - {msg}\n"));
            return 1;
        }
    };
    match output {
        None => {
            let mut out = Stdout::new();
            let status = write_nodes(&data, format, |bytes| out.write(bytes));
            let _ = out.close();
            status
        }
        Some(path) => {
            let path = Path::new(&path);
            let failed = |what: &[u8], why: &str, end: &[u8]| {
                stdio::stderr_bytes(
                    &[
                        what,
                        path.as_os_str().as_bytes(),
                        b" - ",
                        why.as_bytes(),
                        end,
                    ]
                    .concat(),
                );
                1
            };
            if let Err(why) = make_parents(path) {
                return failed(
                    b"Error: could not create parent directory for ",
                    why,
                    b".\n",
                );
            }
            let mut file = match Output::create(path) {
                Ok(f) => f,
                Err(e) => {
                    let why = strerror(e.raw_os_error().unwrap_or(errno::EIO));
                    return failed(b"Error: could not create ", why, b"\n");
                }
            };
            let status = write_nodes(&data, format, |b| file.write(b));
            if let Err(e) = file.finish() {
                let why = strerror(e.raw_os_error().unwrap_or(errno::EIO));
                return failed(b"Error: could not write ", why, b"\n");
            }
            status
        }
    }
}

/// Writes each node of `data` in `format` through `emit`; each invalid
/// line is reported on stderr as kmod reports it (and makes the status 1).
fn write_nodes(data: &[u8], format: Format, mut emit: impl FnMut(&[u8])) -> u8 {
    let mut status = 0;
    let mut buf = Vec::new();
    for line in static_nodes::lines(data) {
        match line {
            Line::Comment => {}
            Line::Node(node) => {
                buf.clear();
                format.write(&node, &mut buf);
                emit(&buf);
            }
            Line::Invalid(text) => {
                stdio::stderr_bytes(&[b"Error: invalid devname entry: ", text].concat());
                status = 1;
            }
        }
    }
    status
}

/// kmod's `mkdir_parents(path, 0755)`: each missing directory above `path`
/// made; a component that exists but is not a directory is `ENOTDIR`.
/// The error is `strerror`'s text.
fn make_parents(path: &Path) -> Result<(), &'static str> {
    use std::os::unix::fs::DirBuilderExt;
    let bytes = path.as_os_str().as_bytes();
    let Some(slash) = bytes.iter().rposition(|&b| b == b'/') else {
        return Ok(());
    };
    let parent = &bytes[..slash];
    let mut end = 0;
    while end < parent.len() {
        end += parent[end..]
            .iter()
            .skip(1)
            .position(|&b| b == b'/')
            .map_or(parent.len() - end, |p| p + 1);
        let dir = Path::new(std::ffi::OsStr::from_bytes(&parent[..end]));
        if dir.as_os_str().is_empty() {
            continue;
        }
        match std::fs::metadata(dir) {
            Ok(m) if m.is_dir() => continue,
            // kmod returns ENOTDIR but prints errno, which nothing set.
            Ok(_) => return Err(strerror(0)),
            Err(_) => {}
        }
        if let Err(e) = std::fs::DirBuilder::new().mode(0o755).create(dir) {
            if e.kind() != std::io::ErrorKind::AlreadyExists {
                return Err(strerror(e.raw_os_error().unwrap_or(errno::EIO)));
            }
        }
    }
    Ok(())
}

/// The output file: a regular file (or a new one) is replaced atomically,
/// so that a reader never sees half of it; anything else (`/dev/stdout`, a
/// FIFO, a directory: `EISDIR`) is opened and written as `fopen("w")`
/// would. Opened before anything is written, where kmod opens it, so its
/// errors come first.
enum Output {
    Atomic(modkit::fsutil::AtomicFile),
    Direct(std::fs::File),
}

impl Output {
    fn create(path: &Path) -> std::io::Result<Output> {
        match std::fs::metadata(path) {
            Ok(m) if !m.is_file() => std::fs::OpenOptions::new()
                .write(true)
                .truncate(true)
                .open(path)
                .map(Output::Direct),
            _ => modkit::fsutil::AtomicFile::create(path).map(Output::Atomic),
        }
    }

    /// Writes, ignoring errors as kmod's unchecked `fprintf` does (a write
    /// error shows when the file is finished).
    fn write(&mut self, bytes: &[u8]) {
        let _ = match self {
            Output::Atomic(f) => f.write_all(bytes),
            Output::Direct(f) => std::io::Write::write_all(f, bytes),
        };
    }

    fn finish(self) -> std::io::Result<()> {
        match self {
            Output::Atomic(f) => f.commit(),
            Output::Direct(_) => Ok(()),
        }
    }
}
