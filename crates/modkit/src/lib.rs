//! modkit: the Linux loadable-module facility and the kernel log, from user space.
//!
//! The library behind the `modkit` multi-call binary, usable on its own by
//! initramfs builders and other tools. One module per concept:
//!
//! - [`cnum`] — C's `strtol`/`strtoul`, for numbers read as the C tools read them.
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
//! - [`depmod`] — generating a module directory's indexes, as kmod's depmod.
//! - [`fsutil`] — replacing files atomically (temporary file and rename).
//! - [`kernel`] — loading and unloading modules (`insmod`, `rmmod`).
//! - [`sys`] — the one module with `unsafe`: the module system calls, `syslog(2)`,
//!   `mmap(2)` of index files and the few other calls the standard library lacks.
//! - [`loaded`] — the running kernel's modules (`/proc/modules`, `/sys/module`).
//! - [`kmsg`] — the kernel log: `/dev/kmsg` records, `syslog(2)`, level and facility names.
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

pub mod builtin;
pub mod cnum;
pub mod compat;
pub mod compression;
pub mod config;
pub mod depmod;
pub mod elf;
pub mod error;
pub mod fsutil;
pub mod index;
pub mod kernel;
pub mod kmsg;
pub mod loaded;
pub mod module;
pub mod probe;
pub mod resolve;
pub mod signature;
pub mod sys;

pub use error::{Error, Result};
