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

pub mod entry;
pub mod output;
pub mod remote;
