//! What every klogd destination implements.
//!
//! The daemon submits entries in sequence order. An output never blocks the
//! daemon for long: a destination that is down or slow keeps entries in a
//! bounded buffer (counting what it had to drop) and retries with backoff.
//! `poll` reports the highest sequence number the output has delivered; the
//! daemon persists that number (per output, keyed by [`Output::key`] and the
//! boot id) so that a restart resumes after it — nothing lost, nothing twice.

use std::io;
use std::time::Instant;

use super::entry::Entry;

/// A destination of kernel log records.
pub trait Output: Send {
    /// A stable name for this destination, used as the key of its persisted
    /// position: `file:/var/log/kern.log`, `tcp:collector:6514`, `unix-dgram:/dev/log`.
    fn key(&self) -> &str;

    /// Accepts one entry, in order. Returns quickly: buffering is the
    /// output's job. An error means the output cannot take entries at all
    /// (a misconfiguration), not that the destination is down.
    fn submit(&mut self, entry: &Entry) -> io::Result<()>;

    /// Does pending work (reconnect when due, write out buffered entries) and
    /// returns the highest sequence number known delivered, if any.
    fn poll(&mut self, now: Instant) -> io::Result<Option<u64>>;

    /// Whether entries were written out but are not yet known delivered
    /// (a stream destination waits for its peer's acknowledgement). The
    /// daemon then polls again soon, even when no record comes, so that the
    /// position it saves follows the acknowledgements closely: after a
    /// `kill -9` only what arrived after the saved position is sent again.
    fn awaiting_delivery(&self) -> bool {
        false
    }

    /// How many entries were dropped (buffer full) since the last call.
    fn take_dropped(&mut self) -> u64;

    /// Delivers what it can until `deadline` (at exit); returns the highest
    /// sequence number delivered.
    fn flush(&mut self, deadline: Instant) -> io::Result<Option<u64>>;

    /// Reopens files or reconnects (`SIGHUP`).
    fn reopen(&mut self) -> io::Result<()>;
}
