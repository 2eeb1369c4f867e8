//! The [`Output`] of every syslog destination: a bounded queue of formatted
//! messages in sequence order, a connection made and remade with
//! exponential backoff, and the bookkeeping of what was delivered.
//!
//! The queue holds, front to back, the messages written into the current
//! connection but not yet known received, then those not yet written. A
//! message leaves the queue only when it is delivered (see the module docs
//! of [`super`] for what that means per transport); when a connection breaks,
//! the messages written into it but not received are written again, in
//! order, into the next one.

use std::collections::VecDeque;
use std::io;
use std::sync::Arc;
use std::time::{Duration, Instant};

use rustls::ClientConfig;

use super::connection::{Datagram, Stream};
use super::format::{Format, Formatter};
use super::{RemoteSpec, Transport};
use crate::klogd::entry::Entry;
use crate::klogd::output::Output;

/// First wait before reconnecting after a failure.
pub(super) const BACKOFF_MIN: Duration = Duration::from_millis(200);
/// The longest wait between two connection attempts.
pub(super) const BACKOFF_MAX: Duration = Duration::from_secs(30);

/// How a message is framed on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Framing {
    /// One message per datagram.
    Datagram,
    /// RFC 6587 octet counting: `LEN SP MSG`.
    OctetCounting,
    /// The message, then a line feed (embedded line feeds written `\x0a`).
    LineFeed,
}

struct Pending {
    seq: u64,
    wire: Vec<u8>,
    /// Stream offset just past the message in the current connection, once written.
    end: Option<u64>,
}

enum Connection {
    Datagram(Datagram),
    Stream(Box<Stream>),
}

pub(super) struct Sender {
    key: String,
    transport: Transport,
    tls: Option<Arc<ClientConfig>>,
    formatter: Formatter,
    framing: Framing,
    buffer_bytes: usize,
    queue: VecDeque<Pending>,
    /// How many queue entries (from the front) are written into `connection`.
    written: usize,
    queued_bytes: usize,
    dropped: u64,
    delivered: Option<u64>,
    connection: Option<Connection>,
    backoff: Duration,
    next_attempt: Instant,
}

impl Sender {
    pub(super) fn new(spec: &RemoteSpec, tls: Option<Arc<ClientConfig>>, hostname: &str) -> Sender {
        let (key, format, framing) = match &spec.transport {
            Transport::UnixDatagram(p) => (
                format!("unix-dgram:{}", p.display()),
                Format::Local,
                Framing::Datagram,
            ),
            Transport::UnixStream(p) => (
                format!("unix-stream:{}", p.display()),
                Format::Local,
                Framing::LineFeed,
            ),
            Transport::Udp { host, port } => (
                format!("udp:{}", host_port(host, *port)),
                Format::Rfc5424,
                Framing::Datagram,
            ),
            Transport::Tcp { host, port } => (
                format!("tcp:{}", host_port(host, *port)),
                Format::Rfc5424,
                Framing::OctetCounting,
            ),
            Transport::Tls { host, port } => (
                format!("tls:{}", host_port(host, *port)),
                Format::Rfc5424,
                Framing::OctetCounting,
            ),
        };
        Sender {
            key,
            transport: spec.transport.clone(),
            tls,
            formatter: Formatter::new(format, hostname),
            framing,
            buffer_bytes: spec.buffer_bytes,
            queue: VecDeque::new(),
            written: 0,
            queued_bytes: 0,
            dropped: 0,
            delivered: None,
            connection: None,
            backoff: BACKOFF_MIN,
            next_attempt: Instant::now(),
        }
    }

    fn frame(&self, entry: &Entry) -> Vec<u8> {
        let message = self.formatter.message(entry);
        match self.framing {
            Framing::Datagram => message,
            Framing::OctetCounting => {
                let mut wire = format!("{} ", message.len()).into_bytes();
                wire.extend_from_slice(&message);
                wire
            }
            Framing::LineFeed => {
                let mut wire = Vec::with_capacity(message.len() + 1);
                for &b in &message {
                    if b == b'\n' {
                        wire.extend_from_slice(b"\\x0a");
                    } else {
                        wire.push(b);
                    }
                }
                wire.push(b'\n');
                wire
            }
        }
    }

    fn connect(&mut self, now: Instant) {
        if self.connection.is_some() || now < self.next_attempt {
            return;
        }
        let result = match &self.transport {
            Transport::UnixDatagram(p) => Datagram::unix(p).map(Connection::Datagram),
            Transport::Udp { host, port } => Datagram::udp(host, *port).map(Connection::Datagram),
            Transport::UnixStream(p) => Stream::unix(p).map(|s| Connection::Stream(Box::new(s))),
            Transport::Tcp { host, port } => {
                Stream::tcp(host, *port, None).map(|s| Connection::Stream(Box::new(s)))
            }
            Transport::Tls { host, port } => {
                Stream::tcp(host, *port, self.tls.as_ref()).map(|s| Connection::Stream(Box::new(s)))
            }
        };
        match result {
            Ok(c) => {
                self.connection = Some(c);
                self.written = 0;
                for p in &mut self.queue {
                    p.end = None;
                }
                self.backoff = BACKOFF_MIN;
            }
            Err(e) => self.failed(now, e),
        }
    }

    /// The connection is over: what it acknowledged counts, the rest is
    /// written again into the next one, after the backoff.
    fn failed(&mut self, now: Instant, _error: io::Error) {
        if let Some(Connection::Stream(s)) = &mut self.connection {
            let acked = s.acknowledged();
            self.retire(acked);
        }
        self.connection = None;
        self.written = 0;
        for p in &mut self.queue {
            p.end = None;
        }
        self.next_attempt = now + self.backoff;
        self.backoff = (self.backoff * 2).min(BACKOFF_MAX);
    }

    /// Removes the written messages that end at or before `acked`.
    fn retire(&mut self, acked: u64) {
        while self.written > 0 {
            let Some(front) = self.queue.front() else {
                break;
            };
            match front.end {
                Some(end) if end <= acked => {}
                _ => break,
            }
            let p = self.queue.pop_front().expect("front exists");
            self.queued_bytes -= p.wire.len();
            self.written -= 1;
            self.delivered = Some(p.seq);
        }
    }

    /// Writes queued messages into the connection, without blocking.
    fn pump(&mut self, now: Instant) {
        let result = match &mut self.connection {
            None => return,
            Some(Connection::Datagram(d)) => {
                let mut result = Ok(());
                while let Some(p) = self.queue.front() {
                    match d.send(&p.wire) {
                        Ok(()) => {
                            let p = self.queue.pop_front().expect("front exists");
                            self.queued_bytes -= p.wire.len();
                            self.delivered = Some(p.seq);
                        }
                        Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                        Err(e) => {
                            result = Err(e);
                            break;
                        }
                    }
                }
                result
            }
            Some(Connection::Stream(s)) => {
                let mut result = s.read_in().and_then(|()| s.write_out());
                while result.is_ok() && self.written < self.queue.len() && !s.is_backed_up() {
                    let p = &mut self.queue[self.written];
                    match s.feed(&p.wire) {
                        Ok(end) => {
                            p.end = Some(end);
                            self.written += 1;
                            result = s.write_out();
                        }
                        Err(e) => result = Err(e),
                    }
                }
                let acked = s.acknowledged();
                self.retire(acked);
                result
            }
        };
        if let Err(e) = result {
            self.failed(now, e);
        }
    }

    fn idle(&mut self) -> bool {
        if !self.queue.is_empty() {
            return false;
        }
        match &mut self.connection {
            Some(Connection::Stream(s)) => s.all_acknowledged(),
            _ => true,
        }
    }
}

impl Output for Sender {
    fn key(&self) -> &str {
        &self.key
    }

    fn submit(&mut self, entry: &Entry) -> io::Result<()> {
        let wire = self.frame(entry);
        if self.queued_bytes + wire.len() > self.buffer_bytes {
            self.dropped += 1;
            return Ok(());
        }
        self.queued_bytes += wire.len();
        self.queue.push_back(Pending {
            seq: entry.seq,
            wire,
            end: None,
        });
        if self.connection.is_some() {
            self.pump(Instant::now());
        }
        Ok(())
    }

    fn poll(&mut self, now: Instant) -> io::Result<Option<u64>> {
        self.connect(now);
        self.pump(now);
        Ok(self.delivered)
    }

    fn take_dropped(&mut self) -> u64 {
        std::mem::take(&mut self.dropped)
    }

    fn flush(&mut self, deadline: Instant) -> io::Result<Option<u64>> {
        loop {
            let now = Instant::now();
            self.poll(now)?;
            if self.idle() || now >= deadline {
                return Ok(self.delivered);
            }
            let wait = if self.connection.is_some() {
                Duration::from_millis(5)
            } else {
                self.next_attempt.saturating_duration_since(now)
            };
            std::thread::sleep(wait.min(deadline - now).max(Duration::from_millis(1)));
        }
    }

    fn reopen(&mut self) -> io::Result<()> {
        let now = Instant::now();
        if self.connection.is_some() {
            self.pump(now);
            self.failed(now, io::Error::other("reopened"));
        }
        self.backoff = BACKOFF_MIN;
        self.next_attempt = now;
        Ok(())
    }
}

fn host_port(host: &str, port: u16) -> String {
    if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    }
}
