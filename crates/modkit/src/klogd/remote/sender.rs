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

/// A syslog destination (what [`super::open`] returns, boxed; [`super::open_syslog`]
/// returns it as is, for its state).
pub struct SyslogOutput {
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
    last_error: Option<String>,
}

impl SyslogOutput {
    pub(super) fn new(
        spec: &RemoteSpec,
        tls: Option<Arc<ClientConfig>>,
        hostname: &str,
    ) -> SyslogOutput {
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
        SyslogOutput {
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
            last_error: None,
        }
    }

    /// Why the last connection attempt failed or the last connection broke
    /// (`connection refused`, a TLS certificate error...); `None` while
    /// connected or before the first attempt. For the daemon's log.
    pub fn last_error(&self) -> Option<&str> {
        self.last_error.as_deref()
    }

    /// Whether a connection is up now.
    pub fn is_connected(&self) -> bool {
        self.connection.is_some()
    }

    /// Entries held: written but not known delivered, and not yet written.
    pub fn queued(&self) -> usize {
        self.queue.len()
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
                self.last_error = None;
            }
            Err(e) => self.failed(now, e),
        }
    }

    /// The connection is over: what it acknowledged counts, the rest is
    /// written again into the next one, after the backoff.
    fn failed(&mut self, now: Instant, error: io::Error) {
        if let Some(Connection::Stream(s)) = &mut self.connection {
            let acked = s.acknowledged();
            self.retire(acked);
        }
        self.connection = None;
        self.written = 0;
        for p in &mut self.queue {
            p.end = None;
        }
        self.last_error = Some(error.to_string());
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
                // Messages are produced in batches (up to the high-water
                // mark) and written with as few writes as the socket allows.
                let mut result = s.read_in().and_then(|()| s.write_out());
                while result.is_ok() && self.written < self.queue.len() && !s.is_backed_up() {
                    while self.written < self.queue.len() && !s.is_backed_up() {
                        let p = &mut self.queue[self.written];
                        match s.feed(&p.wire) {
                            Ok(end) => {
                                p.end = Some(end);
                                self.written += 1;
                            }
                            Err(e) => {
                                result = Err(e);
                                break;
                            }
                        }
                    }
                    if result.is_ok() {
                        result = s.write_out();
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

impl Output for SyslogOutput {
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
        // Written by the next poll, in one batch with the others.
        Ok(())
    }

    fn poll(&mut self, now: Instant) -> io::Result<Option<u64>> {
        self.connect(now);
        self.pump(now);
        Ok(self.delivered)
    }

    fn awaiting_delivery(&self) -> bool {
        // Connected and holding entries: written ones wait for their
        // acknowledgement, unwritten ones for room in the socket.
        self.connection.is_some() && !self.queue.is_empty()
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
        self.last_error = None;
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

#[cfg(test)]
mod tests {
    use std::io::Read;
    use std::os::unix::net::{UnixDatagram, UnixListener};
    use std::time::{Duration, Instant};

    use super::super::{open, open_syslog, RemoteSpec, TlsSettings, Transport};
    use crate::klogd::entry::{Entry, Origin};
    use crate::klogd::output::Output;

    fn entry(seq: u64) -> Entry {
        Entry {
            seq,
            level: 4,
            facility: 0,
            monotonic_us: seq,
            realtime_us: None,
            caller: None,
            message: format!("line {seq}\nsecond").into_bytes(),
            dict: Vec::new(),
            origin: Origin::Live,
        }
    }

    fn until(out: &mut dyn Output, seq: u64) -> Option<u64> {
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            let got = out.poll(Instant::now()).unwrap();
            if got >= Some(seq) || Instant::now() > deadline {
                return got;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    #[test]
    fn unix_datagram_waits_for_a_listener_then_delivers_in_order() {
        let scratch = modkit_testkit::ScratchDir::new("klogd-dgram");
        let path = scratch.path().join("log");
        let mut out = open_syslog(&RemoteSpec::new(Transport::UnixDatagram(path.clone()))).unwrap();
        assert_eq!(out.key(), format!("unix-dgram:{}", path.display()));
        for n in 1..=3 {
            out.submit(&entry(n)).unwrap();
        }
        assert_eq!(
            out.poll(Instant::now()).unwrap(),
            None,
            "no listener: nothing delivered"
        );
        assert!(!out.is_connected());
        assert_eq!(out.queued(), 3);
        let why = out.last_error().unwrap_or_default().to_string();
        assert!(why.contains("No such file"), "{why}");
        let socket = UnixDatagram::bind(&path).unwrap();
        assert_eq!(until(&mut out, 3), Some(3));
        assert!(out.is_connected() && out.last_error().is_none() && out.queued() == 0);
        let mut buf = [0u8; 256];
        for n in 1..=3 {
            let len = socket.recv(&mut buf).unwrap();
            assert_eq!(
                &buf[..len],
                format!("<4>kernel: line {n}\nsecond").as_bytes()
            );
        }
    }

    #[test]
    fn unix_stream_counts_only_what_the_reader_read() {
        let scratch = modkit_testkit::ScratchDir::new("klogd-stream");
        let path = scratch.path().join("log");
        let listener = UnixListener::bind(&path).unwrap();
        let mut out = open(&RemoteSpec::new(Transport::UnixStream(path.clone()))).unwrap();
        out.submit(&entry(1)).unwrap();
        out.submit(&entry(2)).unwrap();
        assert_eq!(
            out.poll(Instant::now()).unwrap(),
            None,
            "connected, written, unread"
        );
        let (mut reader, _) = listener.accept().unwrap();
        assert_eq!(out.poll(Instant::now()).unwrap(), None, "unread");
        let want = "<4>kernel: line 1\\x0asecond\n<4>kernel: line 2\\x0asecond\n";
        let mut got = vec![0u8; want.len()];
        reader.read_exact(&mut got).unwrap();
        assert_eq!(String::from_utf8(got).unwrap(), want);
        assert_eq!(until(out.as_mut(), 2), Some(2));
        // The reader goes away with an entry unread: it is written again
        // to the next reader.
        out.submit(&entry(3)).unwrap();
        out.poll(Instant::now()).unwrap();
        drop(reader);
        drop(listener);
        std::fs::remove_file(&path).unwrap();
        assert_eq!(out.poll(Instant::now()).unwrap(), Some(2));
        let listener = UnixListener::bind(&path).unwrap();
        out.reopen().unwrap();
        out.poll(Instant::now()).unwrap();
        let (mut reader, _) = listener.accept().unwrap();
        let want = "<4>kernel: line 3\\x0asecond\n";
        let mut got = vec![0u8; want.len()];
        reader.read_exact(&mut got).unwrap();
        assert_eq!(String::from_utf8(got).unwrap(), want);
        assert_eq!(until(out.as_mut(), 3), Some(3));
    }

    #[test]
    fn full_buffer_drops_and_counts() {
        let scratch = modkit_testkit::ScratchDir::new("klogd-drop");
        let mut spec = RemoteSpec::new(Transport::UnixDatagram(scratch.path().join("none")));
        spec.buffer_bytes = 3 * "<4>kernel: line 1\nsecond".len();
        let mut out = open(&spec).unwrap();
        for n in 1..=5 {
            out.submit(&entry(n)).unwrap();
        }
        assert_eq!(out.take_dropped(), 2);
        assert_eq!(out.take_dropped(), 0);
    }

    #[test]
    fn bad_tls_files_are_errors_naming_the_file() {
        let tls = |ca: &str| RemoteSpec {
            tls: TlsSettings {
                ca_file: Some(ca.into()),
                ..TlsSettings::default()
            },
            ..RemoteSpec::new(Transport::Tls {
                host: "localhost".into(),
                port: 6514,
            })
        };
        let err = open(&tls("/nonexistent/ca.pem")).err().unwrap();
        assert!(
            err.to_string().starts_with("/nonexistent/ca.pem: "),
            "{err}"
        );
        let scratch = modkit_testkit::ScratchDir::new("klogd-tls");
        let junk = scratch.path().join("junk.pem");
        std::fs::write(&junk, "not a certificate\n").unwrap();
        let err = open(&tls(junk.to_str().unwrap())).err().unwrap();
        assert!(err.to_string().contains("no PEM certificate"), "{err}");
    }
}
