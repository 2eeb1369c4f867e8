//! The kernel's tracing file system: dynamic probe events from user space.
//!
//! [`Tracefs::find`] locates tracefs (`/sys/kernel/tracing`, the older
//! `/sys/kernel/debug/tracing`, or wherever `/proc/mounts` says) and
//! debugfs, and says precisely why not when it can't: not mounted (and how
//! to mount it), a kernel without it, not root. On it:
//!
//! - probes: [`Tracefs::probe_events`] lists `kprobe_events`,
//!   [`Tracefs::add_probe`] appends a [`ProbeSpec`] (refusing an existing
//!   name, and quoting the kernel's `error_log` when the kernel refuses),
//!   [`Tracefs::remove_probe`] disables and removes one;
//! - [`Tracefs::set_enabled`] / [`Tracefs::is_enabled`] per event;
//! - [`Tracefs::profile`] (`kprobe_profile`: hits and misses),
//!   [`Tracefs::blacklist`] and [`Tracefs::registered_probes`] (debugfs's
//!   `kprobes/blacklist` and `kprobes/list`), [`Tracefs::error_log`];
//! - [`Tracefs::open_pipe`]: `trace_pipe`, read with [`pipe::TracePipe`] and
//!   parsed with [`pipe::parse_line`].
//!
//! The formats are parsed in [`format`] and [`pipe`]; probe definitions are
//! built and checked in [`spec`]. Every function takes its root, so tests
//! run on a directory tree made to look like tracefs.
//!
//! ```no_run
//! use modkit::tracefs::{Tracefs, spec::{ProbeKind, ProbeSpec}};
//! let t = Tracefs::find()?;
//! let f = t.features();
//! let p = ProbeSpec::new(ProbeKind::Entry, "do_sys_openat2").unwrap()
//!     .arg("dfd=%di:s32", f).unwrap();
//! t.add_probe(&p)?;
//! t.set_enabled(&p.group, &p.event, true)?;
//! # Ok::<(), modkit::tracefs::TracefsError>(())
//! ```

pub mod check;
pub mod format;
pub mod pipe;
pub mod raw;
pub mod spec;

use std::fmt;
use std::fs::OpenOptions;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use format::{
    BlacklistEntry, ErrorLogEntry, FormatError, ProbeDefinition, ProfileEntry, RegisteredProbe,
};
use spec::{Features, ProbeSpec};

/// Where tracefs is mounted on current kernels.
pub const TRACEFS: &str = "/sys/kernel/tracing";
/// Where debugfs is mounted (and tracefs under it on older set-ups).
pub const DEBUGFS: &str = "/sys/kernel/debug";

/// Why a tracefs operation failed, in words a person can act on.
#[derive(Debug)]
pub enum TracefsError {
    /// The kernel has tracefs but it is not mounted anywhere.
    NotMounted,
    /// The kernel has no tracefs at all (`CONFIG_TRACING` unset).
    NoTracefs,
    /// The kernel has no kprobe events: tracefs has no `kprobe_events`, or
    /// the kernel's configuration says so.
    NoKprobeEvents {
        /// How we know (the missing file, or the configuration line).
        evidence: String,
    },
    /// Permission denied and not running as root.
    NotRoot {
        /// The file that could not be opened.
        path: PathBuf,
    },
    /// debugfs (for the blacklist and the list of kprobes) is not mounted.
    NoDebugfs,
    /// An event of that name already exists.
    EventExists {
        /// `GROUP/EVENT`.
        name: String,
        /// Its definition.
        definition: String,
    },
    /// No such event.
    NoSuchEvent {
        /// `GROUP/EVENT`.
        name: String,
    },
    /// The kernel refused a command written to a control file.
    Rejected {
        /// What was written.
        command: String,
        /// The error of the write.
        error: io::Error,
        /// What the kernel logged about it in `error_log`, if anything.
        log: Option<Box<ErrorLogEntry>>,
    },
    /// A file in an unexpected format.
    Format(FormatError),
    /// Another I/O error on a file.
    Io {
        /// The file.
        path: PathBuf,
        /// The error.
        error: io::Error,
    },
}

impl fmt::Display for TracefsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TracefsError::NotMounted => write!(
                f,
                "tracefs is not mounted: mount it with 'mount -t tracefs nodev {TRACEFS}'"
            ),
            TracefsError::NoTracefs => write!(
                f,
                "this kernel has no tracefs, so no kprobe events (it was built without CONFIG_TRACING and CONFIG_KPROBE_EVENTS)"
            ),
            TracefsError::NoKprobeEvents { evidence } => write!(
                f,
                "this kernel has no kprobe events: it was built without CONFIG_KPROBE_EVENTS ({evidence})"
            ),
            TracefsError::NotRoot { path } => write!(
                f,
                "{}: permission denied: kprobes need root (run as root, e.g. with sudo)",
                path.display()
            ),
            TracefsError::NoDebugfs => write!(
                f,
                "debugfs is not mounted: mount it with 'mount -t debugfs nodev {DEBUGFS}'"
            ),
            TracefsError::EventExists { name, definition } => write!(
                f,
                "event {name} already exists ({definition}): delete it first or pick another name"
            ),
            TracefsError::NoSuchEvent { name } => write!(f, "no event {name}"),
            TracefsError::Rejected {
                command,
                error,
                log,
            } => {
                write!(f, "the kernel refused '{command}': {}", describe(error))?;
                if let Some(l) = log {
                    write!(f, ": {}", l.message)?;
                    if let Some(c) = l.culprit() {
                        write!(f, " (at '{c}')")?;
                    }
                }
                Ok(())
            }
            TracefsError::Format(e) => write!(f, "{e}"),
            TracefsError::Io { path, error } => write!(f, "{}: {}", path.display(), describe(error)),
        }
    }
}

impl std::error::Error for TracefsError {}

/// An I/O error as `strerror` says it, without Rust's ` (os error N)`.
fn describe(error: &io::Error) -> String {
    let text = error.to_string();
    match text.rfind(" (os error ") {
        Some(i) if text.ends_with(')') => text[..i].to_string(),
        _ => text,
    }
}

impl From<FormatError> for TracefsError {
    fn from(e: FormatError) -> Self {
        TracefsError::Format(e)
    }
}

/// A result of tracefs operations.
pub type Result<T> = std::result::Result<T, TracefsError>;

/// The effective user id, from `/proc/self/status` (`None` if unreadable).
pub fn effective_uid() -> Option<u32> {
    let s = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = s.lines().find(|l| l.starts_with("Uid:"))?;
    line.split_whitespace().nth(2)?.parse().ok()
}

fn io_error(path: &Path, error: io::Error) -> TracefsError {
    if error.kind() == io::ErrorKind::PermissionDenied && effective_uid() != Some(0) {
        return TracefsError::NotRoot {
            path: path.to_path_buf(),
        };
    }
    TracefsError::Io {
        path: path.to_path_buf(),
        error,
    }
}

/// The running kernel's configuration (`/proc/config.gz`, else
/// `/boot/config-RELEASE`) and where it was read, if either is readable.
pub fn kernel_config() -> Option<(String, PathBuf)> {
    use std::io::Read;
    let gz = Path::new("/proc/config.gz");
    if let Ok(f) = std::fs::File::open(gz) {
        let mut text = String::new();
        if flate2::read::GzDecoder::new(f)
            .read_to_string(&mut text)
            .is_ok()
        {
            return Some((text, gz.to_path_buf()));
        }
    }
    let release = std::fs::read_to_string("/proc/sys/kernel/osrelease").ok()?;
    let p = PathBuf::from(format!("/boot/config-{}", release.trim()));
    Some((std::fs::read_to_string(&p).ok()?, p))
}

/// Why the kernel configuration says there are no kprobe events (the
/// line of `CONFIG_KPROBES` or `CONFIG_KPROBE_EVENTS` not set), if it does.
fn kprobe_events_configured_out() -> Option<String> {
    let (config, path) = kernel_config()?;
    config_lacks_kprobe_events(&config).map(|line| format!("{}: {line}", path.display()))
}

/// The line of a kernel configuration showing that kprobe events are not
/// built in, if one does.
pub fn config_lacks_kprobe_events(config: &str) -> Option<String> {
    for option in ["CONFIG_KPROBES", "CONFIG_KPROBE_EVENTS"] {
        let set = format!("{option}=y");
        if !config.lines().any(|l| l == set) {
            return Some(
                config
                    .lines()
                    .find(|l| *l == format!("# {option} is not set"))
                    .map_or_else(|| format!("no {set}"), str::to_string),
            );
        }
    }
    None
}

/// Mount points of file systems of type `fstype` in a `/proc/mounts` text.
pub fn mount_points(mounts: &str, fstype: &str) -> Vec<PathBuf> {
    mounts
        .lines()
        .filter_map(|l| {
            let mut w = l.split(' ');
            let (_dev, dir, ty) = (w.next()?, w.next()?, w.next()?);
            (ty == fstype).then(|| PathBuf::from(dir.replace("\\040", " ")))
        })
        .collect()
}

/// A tracefs mount (and the debugfs beside it, if any).
#[derive(Clone, Debug)]
pub struct Tracefs {
    root: PathBuf,
    debugfs: Option<PathBuf>,
}

impl Tracefs {
    /// Finds the running kernel's tracefs and checks that it has kprobe
    /// events. The errors say which of not mounted, no tracefs, no kprobe
    /// events or not root it is.
    pub fn find() -> Result<Tracefs> {
        let mounts = std::fs::read_to_string("/proc/mounts").unwrap_or_default();
        let mut candidates = vec![
            PathBuf::from(TRACEFS),
            PathBuf::from(DEBUGFS).join("tracing"),
        ];
        candidates.extend(mount_points(&mounts, "tracefs"));
        let debugfs = mount_points(&mounts, "debugfs")
            .into_iter()
            .next()
            .or_else(|| {
                Path::new(DEBUGFS)
                    .join("kprobes")
                    .exists()
                    .then(|| PathBuf::from(DEBUGFS))
            });
        for c in &candidates {
            match std::fs::metadata(c.join("trace")) {
                Ok(_) => {
                    let t = Tracefs {
                        root: c.clone(),
                        debugfs,
                    };
                    t.require_kprobes()?;
                    return Ok(t);
                }
                Err(e) if e.kind() == io::ErrorKind::PermissionDenied => {
                    return Err(io_error(&c.join("trace"), e))
                }
                Err(_) => {}
            }
        }
        if let Some(evidence) = kprobe_events_configured_out() {
            return Err(TracefsError::NoKprobeEvents { evidence });
        }
        let filesystems = std::fs::read_to_string("/proc/filesystems").unwrap_or_default();
        if filesystems
            .lines()
            .any(|l| l.split_whitespace().last() == Some("tracefs"))
        {
            Err(TracefsError::NotMounted)
        } else {
            Err(TracefsError::NoTracefs)
        }
    }

    /// A tracefs at `root` (and debugfs at `debugfs`), for tests and for
    /// unusual mounts; checks that it has `kprobe_events`.
    pub fn at(root: impl Into<PathBuf>, debugfs: Option<PathBuf>) -> Result<Tracefs> {
        let root = root.into();
        if !root.join("trace").exists() && !root.join("kprobe_events").exists() {
            return Err(TracefsError::NotMounted);
        }
        let t = Tracefs { root, debugfs };
        t.require_kprobes()?;
        Ok(t)
    }

    fn require_kprobes(&self) -> Result<()> {
        let p = self.root.join("kprobe_events");
        match std::fs::metadata(&p) {
            Ok(_) => Ok(()),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Err(TracefsError::NoKprobeEvents {
                evidence: format!("{} is missing", p.display()),
            }),
            Err(e) => Err(io_error(&p, e)),
        }
    }

    /// The tracefs directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The debugfs directory, if mounted.
    pub fn debugfs(&self) -> Option<&Path> {
        self.debugfs.as_deref()
    }

    fn read(&self, name: &str) -> Result<String> {
        let p = self.root.join(name);
        std::fs::read_to_string(&p).map_err(|e| io_error(&p, e))
    }

    fn read_debugfs(&self, name: &str) -> Result<String> {
        let d = self.debugfs.as_ref().ok_or(TracefsError::NoDebugfs)?;
        let p = d.join(name);
        std::fs::read_to_string(&p).map_err(|e| match e.kind() {
            io::ErrorKind::NotFound if !d.join("kprobes").exists() => TracefsError::NoDebugfs,
            _ => io_error(&p, e),
        })
    }

    /// What the kernel's probe syntax offers, from tracefs's `README`.
    pub fn features(&self) -> Features {
        let readme = self.read("README").unwrap_or_default();
        Features::from_readme(&readme)
    }

    /// The probes in `kprobe_events`.
    pub fn probe_events(&self) -> Result<Vec<ProbeDefinition>> {
        Ok(format::parse_probe_events(&self.read("kprobe_events")?)?)
    }

    /// The probe `group/event`, if defined.
    pub fn probe(&self, group: &str, event: &str) -> Result<Option<ProbeDefinition>> {
        Ok(self
            .probe_events()?
            .into_iter()
            .find(|p| p.group == group && p.event == event))
    }

    /// The entries of `error_log` (empty if the kernel has none).
    pub fn error_log(&self) -> Vec<ErrorLogEntry> {
        format::parse_error_log(&self.read("error_log").unwrap_or_default())
    }

    /// Writes `command` to the control file `name` (appending, never
    /// truncating). On a refusal, the new `error_log` entry, if any, is in
    /// the error.
    pub fn write_command(&self, name: &str, command: &str) -> Result<()> {
        let before = self.error_log().last().and_then(ErrorLogEntry::micros);
        let p = self.root.join(name);
        let mut f = OpenOptions::new()
            .append(true)
            .open(&p)
            .map_err(|e| io_error(&p, e))?;
        let line = format!("{command}\n");
        if let Err(error) = f.write_all(line.as_bytes()) {
            if error.kind() == io::ErrorKind::PermissionDenied && effective_uid() != Some(0) {
                return Err(io_error(&p, error));
            }
            let log = self
                .error_log()
                .pop()
                .filter(|l| l.micros() > before && command.starts_with(l.command.trim()))
                .map(Box::new);
            return Err(TracefsError::Rejected {
                command: command.to_string(),
                error,
                log,
            });
        }
        Ok(())
    }

    /// Defines a probe. An event of the same name is refused (the kernel
    /// would otherwise add a second probe to it).
    pub fn add_probe(&self, spec: &ProbeSpec) -> Result<()> {
        if let Some(p) = self.probe(&spec.group, &spec.event)? {
            let definition = self
                .read("kprobe_events")?
                .lines()
                .find(|l| {
                    l.split(' ')
                        .next()
                        .and_then(|h| h.split_once(':'))
                        .map(|h| h.1)
                        == Some(p.full_name().as_str())
                })
                .unwrap_or_default()
                .to_string();
            return Err(TracefsError::EventExists {
                name: p.full_name(),
                definition,
            });
        }
        self.write_command("kprobe_events", &spec.command())
    }

    /// Disables (if enabled) and removes the probe `group/event`.
    pub fn remove_probe(&self, group: &str, event: &str) -> Result<()> {
        if self.probe(group, event)?.is_none() {
            return Err(TracefsError::NoSuchEvent {
                name: format!("{group}/{event}"),
            });
        }
        if self.is_enabled(group, event)? {
            self.set_enabled(group, event, false)?;
        }
        self.write_command("kprobe_events", &spec::remove_command(group, event))
    }

    fn enable_path(&self, group: &str, event: &str) -> PathBuf {
        self.root
            .join("events")
            .join(group)
            .join(event)
            .join("enable")
    }

    /// Whether the event `group/event` is enabled.
    pub fn is_enabled(&self, group: &str, event: &str) -> Result<bool> {
        let p = self.enable_path(group, event);
        match std::fs::read_to_string(&p) {
            Ok(s) => Ok(s.trim() != "0"),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Err(TracefsError::NoSuchEvent {
                name: format!("{group}/{event}"),
            }),
            Err(e) => Err(io_error(&p, e)),
        }
    }

    /// Enables or disables the event `group/event`.
    pub fn set_enabled(&self, group: &str, event: &str, on: bool) -> Result<()> {
        let p = self.enable_path(group, event);
        if !p.exists() {
            return Err(TracefsError::NoSuchEvent {
                name: format!("{group}/{event}"),
            });
        }
        let rel = format!("events/{group}/{event}/enable");
        self.write_command(&rel, if on { "1" } else { "0" })
    }

    /// `kprobe_profile`: hits and misses per probe event.
    pub fn profile(&self) -> Result<Vec<ProfileEntry>> {
        Ok(format::parse_profile(&self.read("kprobe_profile")?)?)
    }

    /// Each kprobe and kretprobe with its line of `kprobe_profile`. The
    /// profile names events without their group; both files list the
    /// probes in the same order, so they are paired in order (checking the
    /// names), which tells apart same-named events of two groups.
    pub fn probe_stats(&self) -> Result<Vec<(ProbeDefinition, ProfileEntry)>> {
        let probes: Vec<ProbeDefinition> = self
            .probe_events()?
            .into_iter()
            .filter(ProbeDefinition::is_kprobe)
            .collect();
        let mut profile = self.profile()?.into_iter().peekable();
        let mut out = Vec::new();
        for p in probes {
            // A probe added or removed between the two reads: skip to the
            // next line of the same name.
            while profile.peek().is_some_and(|e| e.event != p.event) {
                profile.next();
            }
            if let Some(e) = profile.next() {
                out.push((p, e));
            }
        }
        Ok(out)
    }

    /// debugfs's `kprobes/blacklist`.
    pub fn blacklist(&self) -> Result<Vec<BlacklistEntry>> {
        Ok(format::parse_blacklist(
            &self.read_debugfs("kprobes/blacklist")?,
        )?)
    }

    /// debugfs's `kprobes/list`: every registered kprobe.
    pub fn registered_probes(&self) -> Result<Vec<RegisteredProbe>> {
        Ok(format::parse_kprobes_list(
            &self.read_debugfs("kprobes/list")?,
        )?)
    }

    /// Whether `symbol` is in `available_filter_functions` (`None` if the
    /// kernel has no function tracer).
    pub fn in_filter_functions(&self, symbol: &str) -> Option<bool> {
        let text = self.read("available_filter_functions").ok()?;
        Some(
            text.lines()
                .any(|l| l.split_whitespace().next() == Some(symbol)),
        )
    }

    /// Opens `trace_pipe` for reading without blocking.
    pub fn open_pipe(&self) -> Result<pipe::TracePipe> {
        let p = self.root.join("trace_pipe");
        pipe::TracePipe::open(&p).map_err(|e| io_error(&p, e))
    }
}

impl Features {
    /// What a tracefs `README` says the probe syntax offers.
    pub fn from_readme(readme: &str) -> Features {
        Features {
            btf_args: readme.contains("<argname>") || readme.contains("$arg*"),
            arg_n: readme.contains("$arg<N>"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use spec::ProbeKind;

    fn fake(with_kprobes: bool) -> (PathBuf, Tracefs) {
        let dir = std::env::temp_dir().join(format!(
            "modkit-tracefs-{}-{}",
            std::process::id(),
            with_kprobes
        ));
        let _ = std::fs::remove_dir_all(&dir);
        let t = dir.join("tracing");
        std::fs::create_dir_all(t.join("events/modkit/kp")).unwrap();
        std::fs::create_dir_all(dir.join("debug/kprobes")).unwrap();
        std::fs::write(t.join("trace"), "").unwrap();
        if with_kprobes {
            std::fs::write(
                t.join("kprobe_events"),
                "p:modkit/kp mk_kptarget_fn value=%di:s32\n",
            )
            .unwrap();
            std::fs::write(t.join("kprobe_profile"), "  kp      4       1\n").unwrap();
            std::fs::write(t.join("events/modkit/kp/enable"), "1\n").unwrap();
            std::fs::write(
                t.join("README"),
                "\t fetcharg: (%<register>|$<efield>), $arg<N>,\n\t\t<argname>[->field]\n",
            )
            .unwrap();
            std::fs::write(
                dir.join("debug/kprobes/blacklist"),
                "0xffffffff81000000-0xffffffff81000010\tdo_int3\n",
            )
            .unwrap();
        }
        let r = Tracefs::at(&t, Some(dir.join("debug")));
        match r {
            Ok(t) => (dir, t),
            Err(e) => {
                assert!(!with_kprobes, "{e}");
                assert!(e.to_string().contains("CONFIG_KPROBE_EVENTS"), "{e}");
                (
                    dir.clone(),
                    Tracefs {
                        root: t,
                        debugfs: None,
                    },
                )
            }
        }
    }

    #[test]
    fn fake_tracefs_lists_profiles_and_blacklists() {
        let (dir, t) = fake(true);
        assert_eq!(t.probe_events().unwrap()[0].full_name(), "modkit/kp");
        assert!(t.probe("modkit", "kp").unwrap().is_some());
        assert_eq!(t.profile().unwrap()[0].hits, 4);
        let stats = t.probe_stats().unwrap();
        assert_eq!(
            (stats[0].0.full_name(), stats[0].1.hits),
            ("modkit/kp".into(), 4)
        );
        assert!(t.is_enabled("modkit", "kp").unwrap());
        assert!(matches!(
            t.is_enabled("modkit", "nope"),
            Err(TracefsError::NoSuchEvent { .. })
        ));
        assert_eq!(t.blacklist().unwrap()[0].symbol, "do_int3");
        assert!(t.features().btf_args && t.features().arg_n);
        let spec = ProbeSpec::new(ProbeKind::Entry, "x")
            .unwrap()
            .event("kp")
            .unwrap();
        let e = t.add_probe(&spec).unwrap_err().to_string();
        assert!(
            e.contains("event modkit/kp already exists (p:modkit/kp mk_kptarget_fn"),
            "{e}"
        );
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn fake_tracefs_without_kprobe_events() {
        let (dir, _) = fake(false);
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn kernel_configuration() {
        assert_eq!(
            config_lacks_kprobe_events("# CONFIG_KPROBES is not set\nCONFIG_TRACING=y\n")
                .as_deref(),
            Some("# CONFIG_KPROBES is not set")
        );
        assert_eq!(
            config_lacks_kprobe_events("CONFIG_KPROBES=y\n").as_deref(),
            Some("no CONFIG_KPROBE_EVENTS=y")
        );
        assert_eq!(
            config_lacks_kprobe_events("CONFIG_KPROBES=y\nCONFIG_KPROBE_EVENTS=y\n"),
            None
        );
    }

    #[test]
    fn mounts() {
        let m = "tracefs /sys/kernel/tracing tracefs rw 0 0\nnone /mnt/my\\040dir tracefs rw 0 0\n\
                 debugfs /sys/kernel/debug debugfs rw 0 0\n";
        assert_eq!(
            mount_points(m, "tracefs"),
            [
                PathBuf::from("/sys/kernel/tracing"),
                PathBuf::from("/mnt/my dir")
            ]
        );
        assert_eq!(mount_points(m, "debugfs").len(), 1);
    }
}
