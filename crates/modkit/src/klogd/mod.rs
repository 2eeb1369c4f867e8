//! The kernel log daemon's engine (`modkit klogd`): records from `/dev/kmsg`,
//! `syslog(2)` or pstore delivered to outputs exactly once.
//!
//! - [`entry`] — one record as klogd forwards it ([`entry::Entry`]).
//! - [`output`] — what every destination implements ([`output::Output`]): the
//!   daemon submits entries and persists, per output, the last sequence number
//!   the output reports delivered.
//! - [`remote`] — syslog destinations: the local socket (`/dev/log`, datagram
//!   or stream) and collectors over UDP, TCP (RFC 6587 octet counting) and TLS,
//!   in RFC 5424 with structured data.
//! - [`record`] — `/dev/kmsg` records decoded strictly (seq, dictionary).
//! - [`source`] — where records come from: `/dev/kmsg`, `syslog(2)`, a
//!   recorded file.
//! - [`file`] — the file output: one line per record, rotation, reopening.
//! - [`state`] — the boot id and the persisted position of each output.
//! - [`ratelimit`] — the flood limit and its "suppressed N" summaries.
//! - [`decode`] — raw addresses in oops and call traces named through
//!   `/proc/kallsyms` or a `System.map`.
//! - [`daemon`] — the engine that ties them: resume points, seq gaps
//!   ("missed N records"), batches, positions saved.

pub mod daemon;
pub mod decode;
pub mod entry;
pub mod file;
pub mod output;
pub mod ratelimit;
pub mod record;
pub mod remote;
pub mod source;
pub mod state;
