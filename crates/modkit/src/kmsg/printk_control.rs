//! The printk controls of `/proc/sys/kernel`: the four console log levels
//! of `printk`, `printk_devkmsg`, `dmesg_restrict` and `kptr_restrict`,
//! read and written by name.
//!
//! `/proc/sys/kernel/printk` holds four numbers:
//!
//! | field | setting | meaning |
//! | --- | --- | --- |
//! | 1 | [`Setting::ConsoleLoglevel`] | messages more important than this level (a lower number) are printed on the console |
//! | 2 | [`Setting::DefaultMessageLoglevel`] | the level of a `printk` without one |
//! | 3 | [`Setting::MinimumConsoleLoglevel`] | the lowest value `syslog(2)` may set the console level to |
//! | 4 | [`Setting::DefaultConsoleLoglevel`] | the console level at boot |
//!
//! The kernel only takes the line as a whole (or its first fields), so
//! setting one field rewrites all four with the other three unchanged.
//! The directory is a parameter ([`ProcSysKernel::at`]) so that tests can
//! work on a fake tree.
//!
//! ```no_run
//! use modkit::kmsg::printk_control::{ProcSysKernel, Setting};
//! let sys = ProcSysKernel::new();
//! let level = sys.read(Setting::ConsoleLoglevel)?;
//! println!("console_loglevel {}", level.describe(Setting::ConsoleLoglevel));
//! let debug = Setting::ConsoleLoglevel.parse_value("all")?;
//! sys.write(&[(Setting::ConsoleLoglevel, debug)])?;
//! # Ok::<(), modkit::Error>(())
//! ```

use std::fmt;
use std::fs::OpenOptions;
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::kmsg::{level_by_name, LEVELS};

/// Where the kernel's sysctl files live.
pub const PROC_SYS_KERNEL: &str = "/proc/sys/kernel";

/// One of the controls, in the order `modkit printk` shows them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Setting {
    /// Field 1 of `printk`: the console threshold.
    ConsoleLoglevel,
    /// Field 2 of `printk`: the level of messages printed without one.
    DefaultMessageLoglevel,
    /// Field 3 of `printk`: the floor of `syslog(2)`'s console level.
    MinimumConsoleLoglevel,
    /// Field 4 of `printk`: the console threshold at boot.
    DefaultConsoleLoglevel,
    /// `printk_devkmsg`: whether user space may write to `/dev/kmsg`
    /// (`on`, `off`, `ratelimit`).
    PrintkDevkmsg,
    /// `dmesg_restrict`: 1 when reading the log needs `CAP_SYSLOG`.
    DmesgRestrict,
    /// `kptr_restrict`: how kernel pointers are hidden (0, 1 or 2).
    KptrRestrict,
}

impl Setting {
    /// Every setting, in display order.
    pub const ALL: [Setting; 7] = [
        Setting::ConsoleLoglevel,
        Setting::DefaultMessageLoglevel,
        Setting::MinimumConsoleLoglevel,
        Setting::DefaultConsoleLoglevel,
        Setting::PrintkDevkmsg,
        Setting::DmesgRestrict,
        Setting::KptrRestrict,
    ];

    /// The full name (`console_loglevel`, `printk_devkmsg`...): the
    /// kernel's name for the variable behind it.
    pub fn name(self) -> &'static str {
        match self {
            Setting::ConsoleLoglevel => "console_loglevel",
            Setting::DefaultMessageLoglevel => "default_message_loglevel",
            Setting::MinimumConsoleLoglevel => "minimum_console_loglevel",
            Setting::DefaultConsoleLoglevel => "default_console_loglevel",
            Setting::PrintkDevkmsg => "printk_devkmsg",
            Setting::DmesgRestrict => "dmesg_restrict",
            Setting::KptrRestrict => "kptr_restrict",
        }
    }

    /// The setting called `name`: a full name or a short one (`console`,
    /// `default_message`, `minimum_console`, `default_console`,
    /// `devkmsg`), with `-` accepted for `_`. `None` for anything else.
    pub fn from_name(name: &str) -> Option<Setting> {
        let name = name.replace('-', "_");
        let short = match name.as_str() {
            "console" => Some(Setting::ConsoleLoglevel),
            "default_message" => Some(Setting::DefaultMessageLoglevel),
            "minimum_console" => Some(Setting::MinimumConsoleLoglevel),
            "default_console" => Some(Setting::DefaultConsoleLoglevel),
            "devkmsg" => Some(Setting::PrintkDevkmsg),
            _ => None,
        };
        short.or_else(|| Setting::ALL.into_iter().find(|s| s.name() == name))
    }

    /// The file under `/proc/sys/kernel` that holds it.
    pub fn file(self) -> &'static str {
        match self {
            Setting::PrintkDevkmsg => "printk_devkmsg",
            Setting::DmesgRestrict => "dmesg_restrict",
            Setting::KptrRestrict => "kptr_restrict",
            _ => "printk",
        }
    }

    /// For the four log levels, their field in `printk` (0 to 3).
    pub fn printk_field(self) -> Option<usize> {
        match self {
            Setting::ConsoleLoglevel => Some(0),
            Setting::DefaultMessageLoglevel => Some(1),
            Setting::MinimumConsoleLoglevel => Some(2),
            Setting::DefaultConsoleLoglevel => Some(3),
            _ => None,
        }
    }

    /// Whether the value is a console threshold (messages with a level
    /// below it are printed), where 8 and up mean "every level".
    pub fn is_threshold(self) -> bool {
        matches!(
            self,
            Setting::ConsoleLoglevel
                | Setting::MinimumConsoleLoglevel
                | Setting::DefaultConsoleLoglevel
        )
    }

    /// What values it takes, for error messages.
    pub fn accepted(self) -> &'static str {
        match self {
            Setting::DefaultMessageLoglevel => "a level: emerg..debug or 0..7",
            Setting::ConsoleLoglevel
            | Setting::MinimumConsoleLoglevel
            | Setting::DefaultConsoleLoglevel => "a level: emerg..debug, all, or 0..15",
            Setting::PrintkDevkmsg => "on, off or ratelimit",
            Setting::DmesgRestrict => "0 or 1",
            Setting::KptrRestrict => "0, 1 or 2",
        }
    }

    /// Parses a value for this setting. Levels are names (`emerg` to
    /// `debug`, any case, as `dmesg -l` takes them) or decimal numbers;
    /// console thresholds also take `all` (8) and numbers up to 15; the
    /// default message level only 0 to 7 (the kernel keeps 3 bits of it).
    /// Anything else is an `EINVAL` error naming the value and the setting.
    pub fn parse_value(self, text: &str) -> Result<Value> {
        let bad = || {
            Error::invalid(format!(
                "invalid value '{text}' for {} (expected {})",
                self.name(),
                self.accepted()
            ))
        };
        let number = |max: u32| -> Option<u32> {
            if text.is_empty() || text.len() > 3 || !text.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            text.parse::<u32>().ok().filter(|&n| n <= max)
        };
        match self {
            Setting::PrintkDevkmsg => Devkmsg::from_name(text).map(Value::Devkmsg).ok_or_else(bad),
            Setting::DmesgRestrict => number(1).map(Value::Number).ok_or_else(bad),
            Setting::KptrRestrict => number(2).map(Value::Number).ok_or_else(bad),
            Setting::DefaultMessageLoglevel => number(7)
                .or_else(|| level_by_name(text.as_bytes()))
                .map(Value::Level)
                .ok_or_else(bad),
            _ => number(15)
                .or_else(|| level_by_name(text.as_bytes()))
                .or_else(|| text.eq_ignore_ascii_case("all").then_some(8))
                .map(Value::Level)
                .ok_or_else(bad),
        }
    }
}

impl fmt::Display for Setting {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The modes of `printk_devkmsg`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Devkmsg {
    /// Writes to `/dev/kmsg` are logged without limit.
    On,
    /// Writes to `/dev/kmsg` are dropped.
    Off,
    /// Writes are logged, rate-limited (the kernel's default).
    Ratelimit,
}

impl Devkmsg {
    /// The kernel's name (`on`, `off`, `ratelimit`).
    pub fn name(self) -> &'static str {
        match self {
            Devkmsg::On => "on",
            Devkmsg::Off => "off",
            Devkmsg::Ratelimit => "ratelimit",
        }
    }

    /// The mode with this name (exact, as the kernel compares it).
    pub fn from_name(name: &str) -> Option<Devkmsg> {
        match name {
            "on" => Some(Devkmsg::On),
            "off" => Some(Devkmsg::Off),
            "ratelimit" => Some(Devkmsg::Ratelimit),
            _ => None,
        }
    }
}

/// The value of a setting.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Value {
    /// A log level or console threshold (the kernel stores any `int`; one
    /// read from the kernel is kept as it is, even out of range).
    Level(u32),
    /// A mode of `printk_devkmsg`.
    Devkmsg(Devkmsg),
    /// A number (`dmesg_restrict`, `kptr_restrict`).
    Number(u32),
}

impl Value {
    /// The value as the kernel's file holds it (`4`, `ratelimit`).
    pub fn raw(self) -> String {
        match self {
            Value::Level(n) | Value::Number(n) => n.to_string(),
            Value::Devkmsg(d) => d.name().to_string(),
        }
    }

    /// The value for people: a level with its name (`4 (warn)`; a console
    /// threshold of 8 or more is `8 (all)`), others as [`Value::raw`].
    pub fn describe(self, setting: Setting) -> String {
        match self {
            Value::Level(n) => match LEVELS.get(n as usize) {
                Some(l) => format!("{n} ({})", l.name),
                None if setting.is_threshold() => format!("{n} (all)"),
                None => n.to_string(),
            },
            v => v.raw(),
        }
    }
}

/// The directory of the kernel's sysctl files (`/proc/sys/kernel`, or a
/// fake one).
#[derive(Clone, Debug)]
pub struct ProcSysKernel {
    dir: PathBuf,
}

impl Default for ProcSysKernel {
    fn default() -> Self {
        ProcSysKernel::new()
    }
}

impl ProcSysKernel {
    /// The running kernel's `/proc/sys/kernel`.
    pub fn new() -> ProcSysKernel {
        ProcSysKernel::at(PROC_SYS_KERNEL)
    }

    /// Another directory with the same files (tests, a chroot's `/proc`).
    pub fn at(dir: impl Into<PathBuf>) -> ProcSysKernel {
        ProcSysKernel { dir: dir.into() }
    }

    /// The directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn path(&self, file: &str) -> PathBuf {
        self.dir.join(file)
    }

    fn read_file(&self, file: &str) -> Result<String> {
        let path = self.path(file);
        let bytes = std::fs::read(&path).map_err(|e| Error::io(e, path.display()))?;
        String::from_utf8(bytes)
            .map_err(|_| Error::invalid(format!("{}: not text", path.display())))
    }

    fn write_file(&self, file: &str, text: &str) -> Result<()> {
        let path = self.path(file);
        // One write(2) of the whole line, as sysctl files want.
        OpenOptions::new()
            .write(true)
            .truncate(true)
            .open(&path)
            .and_then(|mut f| f.write_all(text.as_bytes()))
            .map_err(|e| Error::io(e, path.display()))
    }

    /// The four fields of `printk`. A file that does not hold four
    /// non-negative numbers is an `EINVAL` error.
    pub fn printk_levels(&self) -> Result<[u32; 4]> {
        let text = self.read_file("printk")?;
        let bad = || {
            Error::invalid(format!(
                "{}: expected four numbers, got '{}'",
                self.path("printk").display(),
                text.trim_end()
            ))
        };
        let mut fields = [0u32; 4];
        let mut words = text.split_ascii_whitespace();
        for f in &mut fields {
            *f = words.next().and_then(|w| w.parse().ok()).ok_or_else(bad)?;
        }
        if words.next().is_some() {
            return Err(bad());
        }
        Ok(fields)
    }

    /// Reads one setting. Files that are missing or unreadable are errors
    /// with the OS errno; contents that do not parse are `EINVAL` errors.
    pub fn read(&self, setting: Setting) -> Result<Value> {
        if let Some(i) = setting.printk_field() {
            return Ok(Value::Level(self.printk_levels()?[i]));
        }
        let text = self.read_file(setting.file())?;
        let word = text.trim_end_matches('\n');
        let parsed = match setting {
            Setting::PrintkDevkmsg => Devkmsg::from_name(word).map(Value::Devkmsg),
            _ => word.parse().ok().map(Value::Number),
        };
        parsed.ok_or_else(|| {
            Error::invalid(format!(
                "{}: unexpected contents '{word}'",
                self.path(setting.file()).display()
            ))
        })
    }

    /// Reads every setting, in [`Setting::ALL`] order; stops at the first
    /// error.
    pub fn read_all(&self) -> Result<Vec<(Setting, Value)>> {
        let levels = self.printk_levels()?;
        let mut all = Vec::with_capacity(Setting::ALL.len());
        for s in Setting::ALL {
            let v = match s.printk_field() {
                Some(i) => Value::Level(levels[i]),
                None => self.read(s)?,
            };
            all.push((s, v));
        }
        Ok(all)
    }

    /// Writes settings, in order (a later value for the same setting
    /// wins). The level fields are merged into one write of `printk` with
    /// the fields not given unchanged; a value of the wrong kind for its
    /// setting is an `EINVAL` error before anything is written. The
    /// kernel's refusal (`EPERM` without privileges, `EINVAL` for a
    /// locked `printk_devkmsg`) is returned with its errno.
    pub fn write(&self, settings: &[(Setting, Value)]) -> Result<()> {
        for &(s, v) in settings {
            let fits = match v {
                Value::Level(_) => s.printk_field().is_some(),
                Value::Devkmsg(_) => s == Setting::PrintkDevkmsg,
                Value::Number(_) => matches!(s, Setting::DmesgRestrict | Setting::KptrRestrict),
            };
            if !fits {
                return Err(Error::invalid(format!("{v:?} is not a value for {s}")));
            }
        }
        if settings.iter().any(|(s, _)| s.printk_field().is_some()) {
            let mut levels = self.printk_levels()?;
            for &(s, v) in settings {
                if let (Some(i), Value::Level(n)) = (s.printk_field(), v) {
                    levels[i] = n;
                }
            }
            let line = format!("{} {} {} {}\n", levels[0], levels[1], levels[2], levels[3]);
            self.write_file("printk", &line)?;
        }
        for s in [
            Setting::PrintkDevkmsg,
            Setting::DmesgRestrict,
            Setting::KptrRestrict,
        ] {
            if let Some(&(_, v)) = settings.iter().rev().find(|(t, _)| *t == s) {
                self.write_file(s.file(), &format!("{}\n", v.raw()))?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use modkit_testkit::ScratchDir;

    /// A fake `/proc/sys/kernel`, removed when the first value is dropped.
    fn fake(name: &str) -> (ScratchDir, ProcSysKernel) {
        let dir = ScratchDir::new(&format!("printk-{name}"));
        std::fs::write(dir.join("printk"), "4\t4\t1\t7\n").unwrap();
        std::fs::write(dir.join("printk_devkmsg"), "ratelimit\n").unwrap();
        std::fs::write(dir.join("dmesg_restrict"), "1\n").unwrap();
        std::fs::write(dir.join("kptr_restrict"), "0\n").unwrap();
        let sys = ProcSysKernel::at(dir.to_path_buf());
        (dir, sys)
    }

    #[test]
    fn reads_every_setting() {
        let (_dir, sys) = fake("read");
        let all = sys.read_all().unwrap();
        let shown: Vec<String> = all
            .iter()
            .map(|(s, v)| format!("{s}={}", v.describe(*s)))
            .collect();
        assert_eq!(
            shown,
            [
                "console_loglevel=4 (warn)",
                "default_message_loglevel=4 (warn)",
                "minimum_console_loglevel=1 (alert)",
                "default_console_loglevel=7 (debug)",
                "printk_devkmsg=ratelimit",
                "dmesg_restrict=1",
                "kptr_restrict=0",
            ]
        );
    }

    #[test]
    fn writes_merge_level_fields_and_keep_the_others() {
        let (_dir, sys) = fake("write");
        let console = Setting::ConsoleLoglevel.parse_value("all").unwrap();
        let minimum = Setting::MinimumConsoleLoglevel.parse_value("ERR").unwrap();
        let devkmsg = Setting::PrintkDevkmsg.parse_value("on").unwrap();
        sys.write(&[
            (Setting::ConsoleLoglevel, Value::Level(2)),
            (Setting::MinimumConsoleLoglevel, minimum),
            (Setting::PrintkDevkmsg, devkmsg),
            (Setting::ConsoleLoglevel, console),
        ])
        .unwrap();
        let read = |f: &str| std::fs::read_to_string(sys.dir().join(f)).unwrap();
        assert_eq!(read("printk"), "8 4 3 7\n");
        assert_eq!(read("printk_devkmsg"), "on\n");
        assert_eq!(read("dmesg_restrict"), "1\n");
        assert_eq!(
            sys.read(Setting::ConsoleLoglevel)
                .unwrap()
                .describe(Setting::ConsoleLoglevel),
            "8 (all)"
        );
    }

    #[test]
    fn bad_values_are_refused_before_writing() {
        for (s, v) in [
            (Setting::ConsoleLoglevel, "16"),
            (Setting::ConsoleLoglevel, "warning"),
            (Setting::ConsoleLoglevel, "-1"),
            (Setting::ConsoleLoglevel, ""),
            (Setting::ConsoleLoglevel, "0x4"),
            (Setting::DefaultMessageLoglevel, "8"),
            (Setting::DefaultMessageLoglevel, "all"),
            (Setting::PrintkDevkmsg, "ON"),
            (Setting::DmesgRestrict, "2"),
            (Setting::KptrRestrict, "3"),
            (Setting::KptrRestrict, "99999999999999999999"),
        ] {
            let e = s.parse_value(v).unwrap_err();
            assert_eq!(e.errno(), crate::error::errno::EINVAL, "{s}={v}");
            assert!(e.detail().contains(&format!("'{v}'")), "{}", e.detail());
        }
        assert_eq!(
            Setting::ConsoleLoglevel.parse_value("Debug").unwrap(),
            Value::Level(7)
        );
        assert_eq!(
            Setting::ConsoleLoglevel.parse_value("15").unwrap(),
            Value::Level(15)
        );
        let (_dir, sys) = fake("mismatch");
        let e = sys
            .write(&[
                (Setting::ConsoleLoglevel, Value::Level(5)),
                (Setting::DmesgRestrict, Value::Devkmsg(Devkmsg::On)),
            ])
            .unwrap_err();
        assert_eq!(e.errno(), crate::error::errno::EINVAL);
        assert_eq!(
            std::fs::read_to_string(sys.dir().join("printk")).unwrap(),
            "4\t4\t1\t7\n"
        );
    }

    #[test]
    fn names_and_aliases() {
        for s in Setting::ALL {
            assert_eq!(Setting::from_name(s.name()), Some(s));
        }
        assert_eq!(
            Setting::from_name("default-console"),
            Some(Setting::DefaultConsoleLoglevel)
        );
        assert_eq!(Setting::from_name("devkmsg"), Some(Setting::PrintkDevkmsg));
        assert_eq!(Setting::from_name("printk"), None);
        assert_eq!(Setting::from_name(""), None);
    }

    #[test]
    fn broken_files_are_errors_not_panics() {
        let (_dir, sys) = fake("broken");
        for text in ["", "4 4 1\n", "4 4 1 7 9\n", "a b c d\n", "-1 4 1 7\n"] {
            std::fs::write(sys.dir().join("printk"), text).unwrap();
            assert!(sys.printk_levels().is_err(), "{text:?}");
            assert!(sys.read_all().is_err());
        }
        std::fs::write(sys.dir().join("printk_devkmsg"), "maybe\n").unwrap();
        assert!(sys.read(Setting::PrintkDevkmsg).is_err());
        std::fs::write(sys.dir().join("kptr_restrict"), [0xff, b'\n']).unwrap();
        assert!(sys.read(Setting::KptrRestrict).is_err());
        let gone = ProcSysKernel::at(sys.dir().join("missing"));
        assert_eq!(
            gone.read(Setting::DmesgRestrict).unwrap_err().errno(),
            crate::error::errno::ENOENT
        );
    }
}
