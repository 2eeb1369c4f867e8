//! `klogd`: the kernel log daemon. sysklogd's klogd options (`-c -d -f -i
//! -I -n -o -p -s -k -v -x -2`), long options and a small configuration
//! file for the rest; the work is done by [`modkit::klogd`].
//!
//! ```text
//! $ modkit klogd -o -f /tmp/kern.log --state-dir /tmp/klogd-state
//! $ head -2 /tmp/kern.log
//! - syslog.notice [    0.000000] klogd: boot 5c1f0e36-0a4f-4c41-9d0e-2f8a1a2b3c4d
//! 0 kern.notice [    0.000000] Linux version 6.1.0-57-amd64 ...
//! ```
//!
//! Exit status: 0 when the log was read and written (one shot, or a stop
//! signal), or a running daemon was signalled (`-i`, `-I`); 1 on bad usage,
//! a bad configuration, an output that cannot be opened or a read or write
//! error that ends the daemon.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use modkit::klogd::daemon::{self, Control, Engine, Settings};
use modkit::klogd::decode::{Decoder, SymbolSources};
use modkit::klogd::file::{FileOutput, FileSettings, SyncPolicy};
use modkit::klogd::output::Output;
use modkit::klogd::ratelimit::RateLimit;
use modkit::klogd::remote::{self, RemoteSpec, TlsSettings};
use modkit::klogd::source::Source;
use modkit::klogd::state::{self, Positions};

use crate::compat::getopt::{Getopt, HasArg, LongOpt};
use crate::compat::stdio::{self, Stdout};

const OPT_CONFIG: i32 = 256;
const OPT_FORWARD: i32 = 257;
const OPT_TLS_CA: i32 = 258;
const OPT_TLS_CERT: i32 = 259;
const OPT_TLS_KEY: i32 = 260;
const OPT_BUFFER_SIZE: i32 = 261;
const OPT_HOSTNAME: i32 = 262;
const OPT_STATE_DIR: i32 = 263;
const OPT_PID_FILE: i32 = 264;
const OPT_ROTATE_SIZE: i32 = 265;
const OPT_ROTATE_COUNT: i32 = 266;
const OPT_SYNC: i32 = 267;
const OPT_RATE_LIMIT: i32 = 268;
const OPT_KMSG_FILE: i32 = 269;
const OPT_BOOT_ID_FILE: i32 = 270;
const OPT_KALLSYMS: i32 = 271;
const OPT_PSTORE: i32 = 272;
const OPT_PSTORE_DIR: i32 = 273;
const OPT_PSTORE_ARCHIVE: i32 = 274;

pub(crate) const SHORT_OPTS: &str = "c:df:iInopsk:vx2hV";
pub(crate) const LONG_OPTS: &[LongOpt] = &[
    LongOpt::new("console-level", HasArg::Required, 'c' as i32),
    LongOpt::new("debug", HasArg::No, 'd' as i32),
    LongOpt::new("file", HasArg::Required, 'f' as i32),
    LongOpt::new("reload", HasArg::No, 'i' as i32),
    LongOpt::new("reload-all", HasArg::No, 'I' as i32),
    LongOpt::new("foreground", HasArg::No, 'n' as i32),
    LongOpt::new("one-shot", HasArg::No, 'o' as i32),
    LongOpt::new("on-demand", HasArg::No, 'p' as i32),
    LongOpt::new("syslog", HasArg::No, 's' as i32),
    LongOpt::new("system-map", HasArg::Required, 'k' as i32),
    LongOpt::new("no-translate", HasArg::No, 'x' as i32),
    LongOpt::new("twice", HasArg::No, '2' as i32),
    LongOpt::new("config", HasArg::Required, OPT_CONFIG),
    LongOpt::new("forward", HasArg::Required, OPT_FORWARD),
    LongOpt::new("tls-ca", HasArg::Required, OPT_TLS_CA),
    LongOpt::new("tls-cert", HasArg::Required, OPT_TLS_CERT),
    LongOpt::new("tls-key", HasArg::Required, OPT_TLS_KEY),
    LongOpt::new("buffer-size", HasArg::Required, OPT_BUFFER_SIZE),
    LongOpt::new("hostname", HasArg::Required, OPT_HOSTNAME),
    LongOpt::new("state-dir", HasArg::Required, OPT_STATE_DIR),
    LongOpt::new("pid-file", HasArg::Required, OPT_PID_FILE),
    LongOpt::new("rotate-size", HasArg::Required, OPT_ROTATE_SIZE),
    LongOpt::new("rotate-count", HasArg::Required, OPT_ROTATE_COUNT),
    LongOpt::new("sync", HasArg::Required, OPT_SYNC),
    LongOpt::new("rate-limit", HasArg::Required, OPT_RATE_LIMIT),
    LongOpt::new("kmsg-file", HasArg::Required, OPT_KMSG_FILE),
    LongOpt::new("boot-id-file", HasArg::Required, OPT_BOOT_ID_FILE),
    LongOpt::new("kallsyms", HasArg::Required, OPT_KALLSYMS),
    LongOpt::new("pstore", HasArg::No, OPT_PSTORE),
    LongOpt::new("pstore-dir", HasArg::Required, OPT_PSTORE_DIR),
    LongOpt::new("pstore-archive", HasArg::Required, OPT_PSTORE_ARCHIVE),
    LongOpt::new("help", HasArg::No, 'h' as i32),
    LongOpt::new("version", HasArg::No, 'V' as i32),
];

/// The configuration file read when `--config` is not given (if it exists).
pub(crate) const DEFAULT_CONFIG: &str = "/etc/modkit/klogd.conf";
const DEFAULT_STATE_DIR: &str = "/var/lib/modkit-klogd";
const DEFAULT_PID_FILE: &str = "/run/modkit-klogd.pid";
/// Where klogd forwards when no output is configured (as sysklogd's klogd).
const DEFAULT_FORWARD: &str = "unix:/dev/log";
const DEFAULT_BUFFER: usize = 1 << 20;

/// The settings that come from the configuration file or long options
/// (the command line wins; `--forward` replaces the file's list).
#[derive(Debug, Clone, Default)]
struct Config {
    file: Option<PathBuf>,
    forward: Vec<String>,
    tls: TlsSettings,
    buffer_size: Option<usize>,
    hostname: Option<String>,
    state_dir: Option<PathBuf>,
    pid_file: Option<PathBuf>,
    rotate_size: Option<u64>,
    rotate_count: Option<u32>,
    sync: Option<SyncPolicy>,
    rate_limit: Option<Option<RateLimit>>,
    console_level: Option<i32>,
    system_map: Option<PathBuf>,
    kmsg_file: Option<PathBuf>,
    pstore: Option<bool>,
    pstore_dir: Option<PathBuf>,
    pstore_archive: Option<PathBuf>,
}

#[derive(Debug, Default)]
struct Flags {
    debug: bool,
    signal: Option<i32>,
    foreground: bool,
    one_shot: bool,
    on_demand: bool,
    syslog: bool,
    no_translate: bool,
    twice: bool,
    config: Option<PathBuf>,
    boot_id_file: Option<PathBuf>,
    kallsyms: Option<PathBuf>,
}

fn help(prog: &str) -> String {
    format!(
        "Usage:\n {prog} [-c n] [-d] [-f fname] [-iI] [-n] [-o] [-p] [-s] [-k fname] [-v] [-x] [-2] [options]\n\n\
         Read the kernel log (/dev/kmsg, or syslog(2) with -s) and deliver every record, nothing lost, in order,\n\
         in order, to a file and to syslog destinations; oops addresses decoded.\n\n\
         Options:\n\
         \x20-c, --console-level N   set the console log level (1-8) at start\n\
         \x20-d, --debug             say what the daemon does on stderr\n\
         \x20-f, --file FILE         write the records to FILE\n\
         \x20-i, --reload            tell the running daemon to reload module symbols\n\
         \x20-I, --reload-all        tell the running daemon to reload all symbols\n\
         \x20-n, --foreground        do not go to the background\n\
         \x20-o, --one-shot          read what is in the log, write it, exit\n\
         \x20-p, --on-demand         load symbols when a record first needs them\n\
         \x20-s, --syslog            read with syslog(2) instead of /dev/kmsg\n\
         \x20-k, --system-map FILE   core kernel symbols from a System.map\n\
         \x20-x, --no-translate      do not decode addresses\n\
         \x20-2, --twice             write decoded records twice: raw, then decoded\n\
         \x20    --config FILE       configuration file (default {DEFAULT_CONFIG})\n\
         \x20    --forward DEST      also send to DEST: unix:PATH, unix-stream:PATH,\n\
         \x20                        udp://HOST[:PORT], tcp://HOST[:PORT], tls://HOST[:PORT]\n\
         \x20    --tls-ca FILE       certificate authorities for tls:// (PEM)\n\
         \x20    --tls-cert FILE     client certificate for tls:// (PEM)\n\
         \x20    --tls-key FILE      its private key (PEM)\n\
         \x20    --buffer-size SIZE  bytes kept per destination while it is down (default 1M)\n\
         \x20    --hostname NAME     HOSTNAME field of syslog messages\n\
         \x20    --state-dir DIR     where positions are kept (default {DEFAULT_STATE_DIR})\n\
         \x20    --pid-file FILE     the daemon's pid file (default {DEFAULT_PID_FILE})\n\
         \x20    --rotate-size SIZE  rotate the file before it grows past SIZE (0: never)\n\
         \x20    --rotate-count N    rotated files kept (default 5)\n\
         \x20    --sync MODE         fsync the file after each batch (batch) or never (never)\n\
         \x20    --rate-limit B[/S]  at most B records per S seconds (default 10000/5; 0: off)\n\
         \x20    --kmsg-file FILE    read records from FILE (/dev/kmsg format) instead\n\
         \x20    --boot-id-file FILE the boot id (default {})\n\
         \x20    --kallsyms FILE     the symbol table (default /proc/kallsyms)\n\
         \x20    --pstore            first forward the previous boot's records kept in pstore\n\
         \x20                        (a panic's last words), then archive and remove them\n\
         \x20    --pstore-dir DIR    the pstore records in DIR (default {}, mounted if needed)\n\
         \x20    --pstore-archive DIR  where pstore records are archived (default {})\n\
         \x20-h, --help              display this help\n\
         \x20-v, -V, --version       display version\n",
        state::BOOT_ID_PATH,
        modkit::pstore::PSTORE_DIR,
        modkit::pstore::ARCHIVE_DIR,
    )
}

fn print(text: &str) -> u8 {
    let mut out = Stdout::new();
    out.write(text.as_bytes());
    u8::from(out.close().is_err())
}

/// `123`, `64K`, `10M`, `1G` (powers of 1024).
fn parse_size(text: &str) -> Result<u64, String> {
    let t = text.trim();
    let (digits, mult) = match t.char_indices().last() {
        Some((i, 'K' | 'k')) => (&t[..i], 1u64 << 10),
        Some((i, 'M' | 'm')) => (&t[..i], 1 << 20),
        Some((i, 'G' | 'g')) => (&t[..i], 1 << 30),
        _ => (t, 1),
    };
    digits
        .parse::<u64>()
        .ok()
        .and_then(|n| n.checked_mul(mult))
        .ok_or_else(|| format!("'{text}': not a size (bytes, or with K, M or G)"))
}

fn parse_sync(text: &str) -> Result<SyncPolicy, String> {
    match text.trim() {
        "batch" => Ok(SyncPolicy::Batch),
        "never" => Ok(SyncPolicy::Never),
        _ => Err(format!("'{text}': the sync mode is 'batch' or 'never'")),
    }
}

fn parse_console_level(text: &str) -> Result<i32, String> {
    match text.trim().parse::<i32>() {
        Ok(n) if (1..=8).contains(&n) => Ok(n),
        _ => Err(format!(
            "'{text}': the console level is a number from 1 to 8"
        )),
    }
}

/// Applies one setting (`key`, as the long option is named) to `config`.
fn apply(config: &mut Config, key: &str, value: &str) -> Result<(), String> {
    let path = || PathBuf::from(value);
    match key {
        "file" => config.file = Some(path()),
        "forward" => {
            remote::parse_destination(value)?;
            config.forward.push(value.to_string());
        }
        "tls-ca" => config.tls.ca_file = Some(path()),
        "tls-cert" => config.tls.cert_file = Some(path()),
        "tls-key" => config.tls.key_file = Some(path()),
        "buffer-size" => {
            let n = parse_size(value)?;
            config.buffer_size =
                Some(usize::try_from(n).map_err(|_| format!("'{value}': too large"))?);
        }
        "hostname" => config.hostname = Some(value.to_string()),
        "state-dir" => config.state_dir = Some(path()),
        "pid-file" => config.pid_file = Some(path()),
        "rotate-size" => config.rotate_size = Some(parse_size(value)?),
        "rotate-count" => {
            config.rotate_count = Some(
                value
                    .trim()
                    .parse()
                    .map_err(|_| format!("'{value}': not a number of files"))?,
            )
        }
        "sync" => config.sync = Some(parse_sync(value)?),
        "rate-limit" => config.rate_limit = Some(RateLimit::parse(value)?),
        "console-level" => config.console_level = Some(parse_console_level(value)?),
        "system-map" => config.system_map = Some(path()),
        "kmsg-file" => config.kmsg_file = Some(path()),
        "pstore" => {
            config.pstore = Some(match value.trim() {
                "" | "yes" | "true" | "1" => true,
                "no" | "false" | "0" => false,
                _ => return Err(format!("'{value}': pstore is 'yes' or 'no'")),
            })
        }
        "pstore-dir" => config.pstore_dir = Some(path()),
        "pstore-archive" => config.pstore_archive = Some(path()),
        _ => return Err(format!("unknown key '{key}'")),
    }
    Ok(())
}

/// Reads a configuration file: `key = value` lines, `#` comments.
fn read_config(path: &Path, config: &mut Config) -> Result<(), String> {
    let text = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let text =
        String::from_utf8(text).map_err(|_| format!("{}: not UTF-8 text", path.display()))?;
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let Some((key, value)) = line.split_once('=') else {
            return Err(format!("{}:{}: not 'key = value'", path.display(), n + 1));
        };
        apply(config, key.trim(), value.trim())
            .map_err(|e| format!("{}:{}: {e}", path.display(), n + 1))?;
    }
    Ok(())
}

/// Entry point: `argv[0]` is the program name.
pub fn main(args: Vec<OsString>) -> u8 {
    let prog = crate::toolargs::prog_name(&args, "klogd");
    let fail = |msg: &str| {
        stdio::stderr(&format!("{prog}: {msg}\n"));
        1
    };
    let original: Vec<OsString> = args.clone();
    let mut flags = Flags::default();
    let mut cli = Config::default();
    let mut cli_forward = false;
    let mut opts = Getopt::new(args, SHORT_OPTS, LONG_OPTS);
    for opt in opts.by_ref() {
        let opt = match opt {
            Ok(o) => o,
            Err(e) => {
                e.report();
                stdio::stderr(&format!("Try '{prog} --help' for more information.\n"));
                return 1;
            }
        };
        let arg = opt
            .arg
            .map(|a| a.to_string_lossy().into_owned())
            .unwrap_or_default();
        let key = match opt.val {
            v if v == 'c' as i32 => "console-level",
            v if v == 'f' as i32 => "file",
            v if v == 'k' as i32 => "system-map",
            OPT_FORWARD => {
                cli_forward = true;
                "forward"
            }
            OPT_TLS_CA => "tls-ca",
            OPT_TLS_CERT => "tls-cert",
            OPT_TLS_KEY => "tls-key",
            OPT_BUFFER_SIZE => "buffer-size",
            OPT_HOSTNAME => "hostname",
            OPT_STATE_DIR => "state-dir",
            OPT_PID_FILE => "pid-file",
            OPT_ROTATE_SIZE => "rotate-size",
            OPT_ROTATE_COUNT => "rotate-count",
            OPT_SYNC => "sync",
            OPT_RATE_LIMIT => "rate-limit",
            OPT_KMSG_FILE => "kmsg-file",
            OPT_PSTORE => "pstore",
            OPT_PSTORE_DIR => "pstore-dir",
            OPT_PSTORE_ARCHIVE => "pstore-archive",
            OPT_CONFIG => {
                flags.config = Some(PathBuf::from(&arg));
                continue;
            }
            OPT_BOOT_ID_FILE => {
                flags.boot_id_file = Some(PathBuf::from(&arg));
                continue;
            }
            OPT_KALLSYMS => {
                flags.kallsyms = Some(PathBuf::from(&arg));
                continue;
            }
            v => {
                match u8::try_from(v).map(char::from).unwrap_or('?') {
                    'd' => flags.debug = true,
                    'i' => flags.signal = Some(10),
                    'I' => flags.signal = Some(12),
                    'n' => flags.foreground = true,
                    'o' => flags.one_shot = true,
                    'p' => flags.on_demand = true,
                    's' => flags.syslog = true,
                    'x' => flags.no_translate = true,
                    '2' => flags.twice = true,
                    'h' => return print(&help(&prog)),
                    'v' | 'V' => {
                        let tool = prog.strip_prefix("modkit ").unwrap_or(&prog);
                        return print(&format!("{tool} from modkit {}\n", crate::version::VERSION));
                    }
                    _ => return 1,
                }
                continue;
            }
        };
        if let Err(e) = apply(&mut cli, key, &arg) {
            return fail(&e);
        }
    }
    let operands = opts.remaining();
    if let Some(op) = operands.first() {
        return fail(&format!("unexpected operand '{}'", op.to_string_lossy()));
    }
    // The configuration file, then the command line over it.
    let mut config = Config::default();
    match &flags.config {
        Some(p) => {
            if let Err(e) = read_config(p, &mut config) {
                return fail(&e);
            }
        }
        None if Path::new(DEFAULT_CONFIG).exists() => {
            if let Err(e) = read_config(Path::new(DEFAULT_CONFIG), &mut config) {
                return fail(&e);
            }
        }
        None => {}
    }
    merge(&mut config, cli, cli_forward);
    let pid_file = config
        .pid_file
        .clone()
        .unwrap_or_else(|| PathBuf::from(DEFAULT_PID_FILE));
    if let Some(sig) = flags.signal {
        return match signal_daemon(&pid_file, sig) {
            Ok(()) => 0,
            Err(e) => fail(&e),
        };
    }
    if !flags.foreground && !flags.one_shot {
        return match background(&original, &pid_file) {
            Ok(()) => 0,
            Err(e) => fail(&e),
        };
    }
    match run(&flags, &config, &pid_file, &prog) {
        Ok(()) => 0,
        Err(e) => fail(&e),
    }
}

fn merge(config: &mut Config, cli: Config, cli_forward: bool) {
    macro_rules! over {
        ($($f:ident),*) => { $( if cli.$f.is_some() { config.$f = cli.$f; } )* };
    }
    over!(
        file,
        buffer_size,
        hostname,
        state_dir,
        pid_file,
        rotate_size,
        rotate_count,
        sync,
        rate_limit,
        console_level,
        system_map,
        kmsg_file,
        pstore,
        pstore_dir,
        pstore_archive
    );
    if cli.tls.ca_file.is_some() {
        config.tls.ca_file = cli.tls.ca_file;
    }
    if cli.tls.cert_file.is_some() {
        config.tls.cert_file = cli.tls.cert_file;
    }
    if cli.tls.key_file.is_some() {
        config.tls.key_file = cli.tls.key_file;
    }
    if cli_forward {
        config.forward = cli.forward;
    }
}

fn read_pid(pid_file: &Path) -> Result<i32, String> {
    let text = std::fs::read_to_string(pid_file)
        .map_err(|e| format!("no daemon to signal: {}: {e}", pid_file.display()))?;
    match text.trim().parse::<i32>() {
        Ok(p) if p > 0 => Ok(p),
        _ => Err(format!("{}: not a pid", pid_file.display())),
    }
}

/// `-i`/`-I`: `SIGUSR1`/`SIGUSR2` to the daemon of the pid file.
fn signal_daemon(pid_file: &Path, sig: i32) -> Result<(), String> {
    let pid = read_pid(pid_file)?;
    modkit::process::send_signal(pid, sig)
        .map_err(|e| format!("cannot signal process {pid} ({}): {e}", pid_file.display()))
}

/// Without `-n`: the daemon is this program again with `-n`, in a process
/// group of its own, its standard streams on `/dev/null`; this returns once
/// it has written its pid file (or fails if it exited first).
fn background(args: &[OsString], pid_file: &Path) -> Result<(), String> {
    let exe = std::env::current_exe().map_err(|e| format!("cannot find myself: {e}"))?;
    let mut cmd = Command::new(exe);
    // argv[0] decides the tool: keep the name it was called by.
    let name = crate::compat::getopt::program_name(&args[0]);
    if name == "klogd" {
        cmd.arg("klogd");
    }
    cmd.args(&args[1..]).arg("-n");
    use std::os::unix::process::CommandExt;
    cmd.process_group(0)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    let mut child = cmd
        .spawn()
        .map_err(|e| format!("cannot start the daemon: {e}"))?;
    let want = child.id() as i32;
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(10) {
        if read_pid(pid_file).ok() == Some(want) {
            return Ok(());
        }
        if let Ok(Some(status)) = child.try_wait() {
            return Err(format!(
                "the daemon exited at start ({status}); run it with -n to see why"
            ));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    Err(format!(
        "the daemon did not write {} within 10 seconds",
        pid_file.display()
    ))
}

fn run(flags: &Flags, config: &Config, pid_file: &Path, prog: &str) -> Result<(), String> {
    let debug = flags.debug;
    let say = |msg: &str| stdio::stderr(&format!("{prog}: {msg}\n"));
    let boot_path = flags
        .boot_id_file
        .clone()
        .unwrap_or_else(|| PathBuf::from(state::BOOT_ID_PATH));
    let boot_id = state::read_boot_id(&boot_path)
        .map_err(|e| format!("{}: cannot read the boot id: {e}", boot_path.display()))?;
    let kernel_seq = !flags.syslog;
    let positions = if kernel_seq {
        let dir = config
            .state_dir
            .clone()
            .unwrap_or_else(|| PathBuf::from(DEFAULT_STATE_DIR));
        Some(Positions::open(dir).map_err(|e| e.to_string())?)
    } else {
        None
    };
    let kernel_seq_source = kernel_seq;
    // The previous boot's records in pstore go first, through outputs of
    // their own that save no position (their numbers are not the kernel's
    // sequence); they are archived and removed only once delivered.
    if config.pstore == Some(true) && !flags.syslog {
        let opts = modkit::pstore::Options {
            dir: config
                .pstore_dir
                .clone()
                .unwrap_or_else(|| PathBuf::from(modkit::pstore::PSTORE_DIR)),
            archive_dir: config
                .pstore_archive
                .clone()
                .unwrap_or_else(|| PathBuf::from(modkit::pstore::ARCHIVE_DIR)),
            mount: config.pstore_dir.is_none(),
            require_mounted: config.pstore_dir.is_none(),
            archive_name: Some(boot_id.clone()),
            ..modkit::pstore::Options::default()
        };
        let collection = modkit::pstore::Collection::read(&opts)
            .map_err(|e| format!("pstore {}: {e}", opts.dir.display()))?;
        if !collection.entries().is_empty() {
            let (outputs, _) = open_outputs(config, None, &boot_id, false)?;
            let mut engine = Engine::new(
                outputs,
                Settings {
                    rate_limit: None,
                    decoder: None,
                    twice: false,
                    positions: None,
                    boot_id: boot_id.clone(),
                    kernel_seq: kernel_seq_source,
                },
            );
            for e in collection.entries() {
                engine.submit_extra(e).map_err(|e| e.to_string())?;
            }
            engine
                .finish(std::time::Instant::now() + std::time::Duration::from_secs(30))
                .map_err(|e| format!("pstore records not delivered, kept in pstore: {e}"))?;
            drop(engine);
            if debug {
                say(&format!(
                    "pstore: {} records of the previous boot forwarded",
                    collection.entries().len()
                ));
            }
        }
        collection
            .finish()
            .map_err(|e| format!("pstore: archiving: {e}"))?;
    }
    // Outputs, each with its resume point.
    let (outputs, numbering) = open_outputs(config, positions.as_ref(), &boot_id, true)?;
    if debug {
        for (o, after) in &outputs {
            say(&format!("{}: resuming after {after:?}", o.key()));
        }
    }
    // The console level, then the source.
    if let Some(level) = config.console_level {
        modkit::kmsg::syslog::set_console_level(level).map_err(|e| e.to_string())?;
    }
    let follow = !flags.one_shot;
    let mut source = if let Some(path) = &config.kmsg_file {
        Source::recorded(path, follow).map_err(|e| e.to_string())?
    } else if flags.syslog {
        Source::syslog(numbering, flags.one_shot)
    } else {
        Source::kmsg(modkit::kmsg::reader::KMSG_PATH, follow).map_err(|e| e.to_string())?
    };
    let kernel_seq = source.has_kernel_seq();
    // Records sent again after a restart carry the timestamps they had.
    if let (Some(p), Some(measured)) = (&positions, source.boot_time_us()) {
        source.set_boot_time_us(p.boot_time(&boot_id, measured));
    }
    let decoder = (!flags.no_translate).then(|| {
        let mut sources = SymbolSources {
            system_map: config.system_map.clone(),
            ..SymbolSources::default()
        };
        if let Some(k) = &flags.kallsyms {
            sources.kallsyms = k.clone();
        }
        let mut d = Decoder::new(sources);
        if !flags.on_demand {
            d.load();
            if let (true, Some(e)) = (debug, &d.last_error) {
                say(&format!("symbols: {e}"));
            }
        }
        d
    });
    let mut engine = Engine::new(
        outputs,
        Settings {
            rate_limit: config.rate_limit.unwrap_or(Some(RateLimit::default())),
            decoder,
            twice: flags.twice,
            positions,
            boot_id,
            kernel_seq,
        },
    );
    let control = Control::default();
    for (sig, flag) in [
        (signal_hook::consts::SIGTERM, &control.stop),
        (signal_hook::consts::SIGINT, &control.stop),
        (signal_hook::consts::SIGHUP, &control.reopen),
        (signal_hook::consts::SIGUSR1, &control.reload),
        (signal_hook::consts::SIGUSR2, &control.reload),
    ] {
        signal_hook::flag::register(sig, Arc::clone(flag))
            .map_err(|e| format!("cannot handle signal {sig}: {e}"))?;
    }
    let daemonized = !flags.one_shot;
    if daemonized {
        modkit::fsutil::write_atomic(pid_file, format!("{}\n", std::process::id()).as_bytes())
            .map_err(|e| format!("{}: {e}", pid_file.display()))?;
    }
    let mut debug_note = |m: &str| {
        if debug {
            say(m);
        }
    };
    let mut warn = |m: &str| say(m);
    let result = daemon::run(source, &mut engine, &control, &mut debug_note, &mut warn);
    if daemonized && read_pid(pid_file).ok() == Some(std::process::id() as i32) {
        let _ = std::fs::remove_file(pid_file);
    }
    if debug {
        let s = engine.stats;
        say(&format!(
            "{} records written, {} already delivered, {} missed, {} suppressed, {} malformed, {} decoded{}",
            s.records,
            s.already_delivered,
            s.missed,
            s.suppressed,
            s.malformed,
            s.decoded,
            if control.stop.load(Ordering::Relaxed) {
                " (stopped by a signal)"
            } else {
                ""
            }
        ));
    }
    result.map_err(|e| e.to_string())
}

/// The outputs the configuration names, each with its resume point (none
/// when not `resume`), and the number a `syslog(2)` source starts at.
#[allow(clippy::type_complexity)]
fn open_outputs(
    config: &Config,
    positions: Option<&Positions>,
    boot_id: &str,
    resume: bool,
) -> Result<(Vec<(Box<dyn Output>, Option<u64>)>, u64), String> {
    let mut outputs: Vec<(Box<dyn Output>, Option<u64>)> = Vec::new();
    let mut numbering = 0;
    if let Some(path) = &config.file {
        let mut settings = FileSettings::default();
        if let Some(s) = config.rotate_size {
            settings.rotate_size = s;
        }
        if let Some(c) = config.rotate_count {
            settings.rotate_count = c;
        }
        if let Some(s) = config.sync {
            settings.sync = s;
        }
        let mut out = FileOutput::open(path, settings).map_err(|e| e.to_string())?;
        numbering = out.recovered().map_or(0, |s| s + 1);
        let after = if resume {
            daemon::resume_file(&mut out, positions, boot_id).map_err(|e| e.to_string())?
        } else {
            None
        };
        outputs.push((Box::new(out), after));
    }
    let mut forward = config.forward.clone();
    if forward.is_empty() && config.file.is_none() {
        forward.push(DEFAULT_FORWARD.to_string());
    }
    for dest in &forward {
        let transport = remote::parse_destination(dest)?;
        let spec = RemoteSpec {
            transport,
            tls: config.tls.clone(),
            buffer_bytes: config.buffer_size.unwrap_or(DEFAULT_BUFFER),
            hostname: config.hostname.clone().unwrap_or_default(),
        };
        let out = remote::open(&spec).map_err(|e| format!("{dest}: {e}"))?;
        let after = if resume {
            daemon::resume_point(positions, out.key(), boot_id).map_err(|e| e.to_string())?
        } else {
            None
        };
        outputs.push((out, after));
    }
    Ok((outputs, numbering))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_and_config_lines() {
        assert_eq!(parse_size("64K"), Ok(65536));
        assert_eq!(parse_size("10M"), Ok(10 << 20));
        assert!(parse_size("ten").is_err());
        let dir = modkit_testkit::ScratchDir::new("klogd-conf");
        let p = dir.join("c");
        std::fs::write(
            &p,
            "# comment\nfile = /var/log/k.log\nforward = tcp://h:1514\nforward=udp://h\n\
             rate-limit = 100/2\nrotate-size = 1M\nsync = never\n",
        )
        .unwrap();
        let mut c = Config::default();
        read_config(&p, &mut c).unwrap();
        assert_eq!(c.forward, ["tcp://h:1514", "udp://h"]);
        assert_eq!(c.rotate_size, Some(1 << 20));
        assert_eq!(c.sync, Some(SyncPolicy::Never));
        std::fs::write(&p, "file /x\n").unwrap();
        assert_eq!(
            read_config(&p, &mut c).unwrap_err(),
            format!("{}:1: not 'key = value'", p.display())
        );
        std::fs::write(&p, "\nforward = ftp://x\n").unwrap();
        assert!(read_config(&p, &mut c)
            .unwrap_err()
            .contains(":2: 'ftp://x': unknown transport"));
    }
}
