//! modkit: the Linux loadable-module facility and the kernel log, from user space.
//!
//! The library behind the `modkit` multi-call binary, usable on its own by
//! initramfs builders and other tools. One module per concept:
//!
//! - [`kmod`] — the ground floor, kmod's shared conventions: message levels and
//!   the one [`kmod::Logger`] every component takes, `MODULE_DIRECTORY`, module
//!   names from names and paths, kmod's hash order, logical lines, listing
//!   configuration directories. It imports nothing above it.
//! - [`compat`] — the C-library wing: glibc behaviour the tools must reproduce
//!   exactly (`strtol`, ctype, `fnmatch`, POSIX extended regular expressions, time
//!   zones),
//!   each with budgets so that hostile input is an error, never a crash.
//! - [`compression`] — detect and decompress `.ko.xz`, `.ko.zst`, `.ko.gz`.
//! - [`elf`] — the kernel-module ELF reader (`.modinfo`, `__versions`, symbols).
//! - [`signature`] — the appended module signature: its trailer, and the
//!   PKCS#7 message read with OpenSSL's BER rules and nesting budgets.
//! - [`module`] — a module file on disk: [`module::Module::open`] and its info.
//! - [`index`] — kmod's binary trie indexes (`modules.*.bin`): reading them
//!   as libkmod does, writing them byte for byte as depmod does.
//! - [`builtin`] — `modules.builtin.modinfo`.
//! - [`resolve`] — finding modules by name or alias in a module directory.
//! - [`config`] — modprobe.d configuration and the kernel command line.
//! - [`probe`] — what modprobe does: resolution with configuration, dependencies,
//!   softdeps, install commands, loading; facts for removal.
//! - [`closure`] — what loading modules takes, for initramfs builders and
//!   udev: a `Send + Sync` [`closure::ModuleDb`] answering from many
//!   threads, module closures with why each module is there and the
//!   firmware files they declare, batch alias lookups.
//! - [`depmod`] — generating a module directory's indexes, as kmod's depmod:
//!   [`depmod::run`] returns what it wrote ([`depmod::DepmodOutputs`]) or why
//!   it stopped; module facts, search order, dependencies and outputs in their
//!   own files.
//! - [`static_nodes`] — `modules.devname` as `kmod static-nodes` reads and
//!   prints it (human, tmpfiles, devname).
//! - [`fsutil`] — replacing files atomically (temporary file and rename).
//! - [`kernel`] — loading and unloading modules (`insmod`, `rmmod`).
//! - [`process`] — C process behaviour the tools need back: dying of `SIGPIPE`,
//!   leaving terminal signals to a pager, opening the console without taking it.
//! - [`kallsyms`] — the kernel's symbol table (`/proc/kallsyms`, `System.map`):
//!   symbols by name, compiler-renamed copies, addresses named as `%pS` names them.
//! - [`tracefs`] — the tracing file system: kprobe and kretprobe events defined,
//!   enabled, counted and removed from user space; the trace line parser.
//! - [`symvers`] — `Module.symvers`: a kernel build's exports with CRC,
//!   module, GPL-only and namespace.
//! - [`verdict`] — whether a kernel would load a module file, and why not
//!   (`modkit check`).
//! - [`params`] — module parameters: types, sysfs values and permissions,
//!   values checked as the kernel parses them.
//! - [`loaded`] — the running kernel's modules (`/proc/modules`, `/sys/module`).
//! - [`taint`] — the kernel's taint flags decoded, and which loaded module explains which.
//! - [`audit`] — a report on the live system: tainting and hidden modules, probes and
//!   hooks, security settings, each finding with a severity and its evidence.
//! - [`klogd`] — the kernel log daemon's engine: records delivered exactly once to
//!   files, the local syslog socket and remote collectors.
//! - [`pstore`] — the previous boot's last words (`/sys/fs/pstore`, ramoops): records
//!   read as klogd entries, archived and removed as systemd-pstore does.
//! - [`kmsg`] — the kernel log: reading `/dev/kmsg`, the `syslog(2)` actions, and the one
//!   record parser (`/dev/kmsg` and `syslog(2)` formats, exactly as util-linux's dmesg).
//!
//! The only `unsafe` code is in a private module of system-call wrappers (the
//! module calls, `syslog(2)`, `mmap(2)` of index files...); these modules are
//! its safe face.
//!
//! ```no_run
//! use modkit::module::Module;
//! let m = Module::open("/lib/modules/6.1.0-50-amd64/kernel/fs/btrfs/btrfs.ko")?;
//! for entry in m.info()? {
//!     println!("{}: {}", entry.key_str(), entry.value_lossy());
//! }
//! # Ok::<(), modkit::Error>(())
//! ```

#![deny(unsafe_code)]
#![warn(missing_docs)]

pub mod audit;
pub mod builtin;
pub mod closure;
pub mod compat;
pub mod compression;
pub mod config;
pub mod depmod;
pub mod elf;
pub mod error;
pub mod fsutil;
pub mod index;
pub mod kallsyms;
pub mod kernel;
pub mod klogd;
pub mod kmod;
pub mod kmsg;
pub mod loaded;
pub mod module;
pub mod params;
pub mod probe;
pub mod process;
pub mod pstore;
pub mod resolve;
pub mod signature;
pub mod static_nodes;
pub mod symvers;
mod sys;
pub mod taint;
pub mod tracefs;
pub mod verdict;

pub use error::{Error, Result};
