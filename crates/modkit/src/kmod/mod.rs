//! The ground floor: kmod's shared conventions, as kmod keeps them in its
//! `shared/` directory, for every other module of the library to stand on.
//!
//! This module imports nothing of the library but [`crate::error`]:
//!
//! - [`Level`] and [`Logger`]: message priorities and the one logging
//!   interface every component takes (the shape of libkmod's log
//!   function);
//! - [`MODULE_DIRECTORY`] and [`Builtin`];
//! - [`modname`]: module names from names and paths
//!   ([`modname_normalize`], [`path_to_modname`]);
//! - [`hash`]: kmod's string hash and its hash-table order
//!   ([`kmod_hash`], [`sort_in_hash_order`]);
//! - [`lines`]: reading text as kmod's C reads it ([`fgets_chunks`],
//!   [`logical_lines`]), on the compat wing's C strings and ctype;
//! - [`conf_dir`]: listing a configuration directory's `*.conf` files
//!   ([`ConfFiles`]), with the messages of the tool that lists them.

pub mod conf_dir;
pub mod hash;
pub mod lines;
pub mod modname;

pub use conf_dir::{ConfDirWords, ConfFiles};
pub use hash::{kmod_hash, sort_in_hash_order};
pub use lines::{fgets_chunks, logical_lines};
pub use modname::{modname_normalize, path_to_modname, string_lossy};

/// Where kernel module directories live (kmod's `MODULE_DIRECTORY` on
/// Debian): `/lib/modules`.
pub const MODULE_DIRECTORY: &str = "/lib/modules";

/// kmod's `PATH_MAX`: the size of its path and name buffers.
pub const PATH_MAX: usize = 4096;

/// A message's priority (syslog numbering, as kmod's log).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Level {
    /// `FATAL`: the tool stops after printing it.
    Crit = 2,
    /// `ERROR`.
    Err = 3,
    /// `WARNING`.
    Warning = 4,
    /// `NOTICE`.
    Notice = 5,
    /// `INFO` (shown from `-vv` on).
    Info = 6,
    /// `DEBUG` (from `-vvv`).
    Debug = 7,
}

impl Level {
    /// The name kmod's tools print after the program name: `ERROR`...
    pub fn name(self) -> &'static str {
        match self {
            Level::Crit => "FATAL",
            Level::Err => "ERROR",
            Level::Warning => "WARNING",
            Level::Notice => "NOTICE",
            Level::Info => "INFO",
            Level::Debug => "DEBUG",
        }
    }
}

/// Where a component's messages go: the one logging interface of the
/// library (configuration readers, `depmod`, `modprobe`'s context).
///
/// It has the shape of libkmod's log function (`kmod_set_log_fn`): a
/// priority, the name of the libkmod function that reports where a logger
/// prints it (`""` for a tool's own messages and where no logger prints
/// it) and the text, which ends with its newline and may
/// hold any bytes (paths are printed as they are). A tool's logger prints
/// `PROG: LEVEL: text` and ignores `func`; libkmod's own early logger
/// prints `libkmod: LEVEL: func: text`. Filtering by priority is the
/// logger's business. Any `Fn(Level, &str, &[u8])` closure is a logger.
pub trait Logger {
    /// Reports `msg` at `level`, from libkmod function `func`.
    fn log(&self, level: Level, func: &str, msg: &[u8]);
}

impl<F: Fn(Level, &str, &[u8]) + ?Sized> Logger for F {
    fn log(&self, level: Level, func: &str, msg: &[u8]) {
        self(level, func, msg)
    }
}

/// A logger that drops every message.
pub fn quiet(_: Level, _: &str, _: &[u8]) {}

/// Whether a module is built into the kernel image.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Builtin {
    /// Not known yet: decided from `modules.builtin.bin` on demand.
    Unknown,
    /// Built in.
    Yes,
    /// A loadable module.
    No,
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::RefCell;

    #[test]
    fn level_names_like_kmod() {
        assert_eq!(Level::Crit.name(), "FATAL");
        assert_eq!(Level::Err.name(), "ERROR");
        assert_eq!(Level::Debug as i32, 7);
    }

    #[test]
    fn closures_are_loggers() {
        let seen = RefCell::new(Vec::new());
        let log =
            |l: Level, f: &str, m: &[u8]| seen.borrow_mut().push((l, f.to_string(), m.to_vec()));
        let dyn_log: &dyn Logger = &log;
        dyn_log.log(Level::Err, "fn", b"x\n");
        quiet(Level::Err, "", b"dropped\n");
        assert_eq!(
            seen.into_inner(),
            [(Level::Err, "fn".to_string(), b"x\n".to_vec())]
        );
    }
}
