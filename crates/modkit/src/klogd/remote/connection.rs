//! One connection to a syslog destination: a datagram socket (UDP, Unix)
//! or a byte stream (TCP, TLS over TCP, Unix stream) that knows how much of
//! what it wrote the other side has received.

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream, ToSocketAddrs, UdpSocket};
use std::os::unix::net::{UnixDatagram, UnixStream};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use rustls::pki_types::ServerName;
use rustls::{ClientConfig, ClientConnection};

use crate::sys;

/// How long a connect (and a TLS handshake) may block the daemon.
pub(super) const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);

/// Bytes produced but not yet written that make [`Stream::feed`] wait.
const OUT_HIGH_WATER: usize = 256 * 1024;

/// A datagram destination: one message per `send`.
pub(super) enum Datagram {
    Udp(UdpSocket),
    Unix(UnixDatagram),
}

impl Datagram {
    pub(super) fn udp(host: &str, port: u16) -> io::Result<Datagram> {
        let addr = resolve(host, port)?;
        let local: SocketAddr = if addr.is_ipv4() {
            "0.0.0.0:0".parse().expect("valid")
        } else {
            "[::]:0".parse().expect("valid")
        };
        let socket = UdpSocket::bind(local)?;
        socket.connect(addr)?;
        socket.set_nonblocking(true)?;
        Ok(Datagram::Udp(socket))
    }

    pub(super) fn unix(path: &Path) -> io::Result<Datagram> {
        let socket = UnixDatagram::unbound()?;
        socket.connect(path)?;
        socket.set_nonblocking(true)?;
        Ok(Datagram::Unix(socket))
    }

    /// Sends one message. `WouldBlock` (the receiver's queue is full) means
    /// "not sent, try again later"; other errors mean the destination is gone.
    pub(super) fn send(&self, message: &[u8]) -> io::Result<()> {
        let n = match self {
            Datagram::Udp(s) => s.send(message)?,
            Datagram::Unix(s) => s.send(message)?,
        };
        if n == message.len() {
            Ok(())
        } else {
            Err(io::Error::other("datagram truncated"))
        }
    }
}

enum Socket {
    Tcp(TcpStream),
    Unix(UnixStream),
}

impl Socket {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Socket::Tcp(s) => s.read(buf),
            Socket::Unix(s) => s.read(buf),
        }
    }

    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Socket::Tcp(s) => s.write(buf),
            Socket::Unix(s) => s.write(buf),
        }
    }
}

/// Counts what a TLS handshake writes into the socket.
struct Counting<'a> {
    socket: &'a mut Socket,
    written: u64,
}

impl Read for Counting<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.socket.read(buf)
    }
}

impl Write for Counting<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.socket.write(buf)?;
        self.written += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// A byte-stream destination. Every byte written into the socket has an
/// offset (counted from the connection's first byte, TLS handshake
/// included); [`Stream::acknowledged`] says up to which offset the other
/// side has received the stream.
pub(super) struct Stream {
    socket: Socket,
    tls: Option<ClientConnection>,
    /// Bytes produced (framed messages, or TLS records) not yet written.
    out: Vec<u8>,
    out_pos: usize,
    /// Offset just past the last byte produced.
    produced: u64,
    /// Offset just past the last byte written into the socket.
    sent: u64,
    /// TCP: `tcpi_bytes_acked` when the connection was established (the
    /// counter may include the SYN: the difference is what counts).
    ack_base: Option<u64>,
    /// Highest offset known received.
    acked: u64,
    /// The peer closed its side (EOF) or the connection failed.
    closed: bool,
}

impl Stream {
    pub(super) fn tcp(
        host: &str,
        port: u16,
        tls: Option<&Arc<ClientConfig>>,
    ) -> io::Result<Stream> {
        let addr = resolve(host, port)?;
        let tcp = TcpStream::connect_timeout(&addr, CONNECT_TIMEOUT)?;
        tcp.set_nodelay(true)?;
        let ack_base = sys::tcp_bytes_acked(&tcp)
            .map_err(io::Error::from_raw_os_error)?
            .ok_or_else(|| io::Error::other("the kernel's TCP_INFO has no tcpi_bytes_acked"))?;
        let mut stream = Stream::new(Socket::Tcp(tcp), Some(ack_base));
        if let Some(config) = tls {
            stream.handshake(host, config)?;
        }
        if let Socket::Tcp(s) = &stream.socket {
            s.set_nonblocking(true)?;
        }
        Ok(stream)
    }

    pub(super) fn unix(path: &Path) -> io::Result<Stream> {
        let socket = UnixStream::connect(path)?;
        socket.set_nonblocking(true)?;
        Ok(Stream::new(Socket::Unix(socket), None))
    }

    fn new(socket: Socket, ack_base: Option<u64>) -> Stream {
        Stream {
            socket,
            tls: None,
            out: Vec::new(),
            out_pos: 0,
            produced: 0,
            sent: 0,
            ack_base,
            acked: 0,
            closed: false,
        }
    }

    /// RFC 5425: the client starts TLS right after connecting; blocking,
    /// bounded by [`CONNECT_TIMEOUT`] per read or write.
    fn handshake(&mut self, host: &str, config: &Arc<ClientConfig>) -> io::Result<()> {
        let name = ServerName::try_from(host.to_string())
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, format!("'{host}': {e}")))?;
        let mut tls = ClientConnection::new(Arc::clone(config), name).map_err(io::Error::other)?;
        if let Socket::Tcp(s) = &self.socket {
            s.set_read_timeout(Some(CONNECT_TIMEOUT))?;
            s.set_write_timeout(Some(CONNECT_TIMEOUT))?;
        }
        let mut counting = Counting {
            socket: &mut self.socket,
            written: 0,
        };
        while tls.is_handshaking() {
            tls.complete_io(&mut counting)?;
        }
        let written = counting.written;
        self.produced = written;
        self.sent = written;
        if let Socket::Tcp(s) = &self.socket {
            s.set_read_timeout(None)?;
            s.set_write_timeout(None)?;
        }
        self.tls = Some(tls);
        Ok(())
    }

    /// Whether [`Stream::feed`] would rather wait (much produced, unwritten).
    pub(super) fn is_backed_up(&self) -> bool {
        self.out.len() - self.out_pos >= OUT_HIGH_WATER
    }

    /// Queues one framed message; returns the offset just past its last
    /// byte (for TLS: past the last record holding it).
    pub(super) fn feed(&mut self, framed: &[u8]) -> io::Result<u64> {
        if self.out_pos == self.out.len() || self.out_pos >= OUT_HIGH_WATER {
            self.out.drain(..self.out_pos);
            self.out_pos = 0;
        }
        match &mut self.tls {
            None => {
                self.out.extend_from_slice(framed);
                self.produced += framed.len() as u64;
            }
            Some(tls) => {
                let mut rest = framed;
                while !rest.is_empty() {
                    let n = tls.writer().write(rest)?;
                    rest = &rest[n..];
                    while tls.wants_write() {
                        let before = self.out.len();
                        tls.write_tls(&mut self.out)?;
                        self.produced += (self.out.len() - before) as u64;
                    }
                    if n == 0 && !rest.is_empty() {
                        return Err(io::Error::other("TLS connection refuses data"));
                    }
                }
            }
        }
        Ok(self.produced)
    }

    /// Writes what it can without blocking. An error means the connection
    /// is broken.
    pub(super) fn write_out(&mut self) -> io::Result<()> {
        while self.out_pos < self.out.len() {
            match self.socket.write(&self.out[self.out_pos..]) {
                Ok(0) => return Err(io::Error::new(io::ErrorKind::WriteZero, "wrote nothing")),
                Ok(n) => {
                    self.out_pos += n;
                    self.sent += n as u64;
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(()),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    /// Reads what the other side sent (syslog collectors send nothing but
    /// TLS records: session tickets, alerts); notices the end of the stream.
    /// An error or the end means the connection is over.
    pub(super) fn read_in(&mut self) -> io::Result<()> {
        let mut buf = [0u8; 4096];
        loop {
            match self.socket.read(&mut buf) {
                Ok(0) => {
                    self.closed = true;
                    return Err(io::Error::new(
                        io::ErrorKind::UnexpectedEof,
                        "the collector closed the connection",
                    ));
                }
                Ok(n) => {
                    if let Some(tls) = &mut self.tls {
                        let mut data = &buf[..n];
                        while !data.is_empty() {
                            tls.read_tls(&mut data)?;
                            let state = tls.process_new_packets().map_err(io::Error::other)?;
                            if state.peer_has_closed() {
                                self.closed = true;
                                return Err(io::Error::new(
                                    io::ErrorKind::UnexpectedEof,
                                    "the collector ended the TLS session",
                                ));
                            }
                            // Application data from a collector: read and ignored.
                            let mut sink = [0u8; 4096];
                            while let Ok(k) = tls.reader().read(&mut sink) {
                                if k == 0 {
                                    break;
                                }
                            }
                        }
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(()),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    self.closed = true;
                    return Err(e);
                }
            }
        }
    }

    /// The offset up to which the other side has received the stream:
    ///
    /// - TCP (and TLS): what the peer's TCP acknowledged (`tcpi_bytes_acked`),
    ///   valid even after the connection broke;
    /// - Unix stream: everything written once the reader has consumed it all
    ///   (`SIOCOUTQ` is 0 and the reader is still there), else what was
    ///   known before.
    pub(super) fn acknowledged(&mut self) -> u64 {
        match &self.socket {
            Socket::Tcp(s) => {
                if let (Ok(Some(now)), Some(base)) = (sys::tcp_bytes_acked(s), self.ack_base) {
                    self.acked = self.acked.max(now.saturating_sub(base).min(self.sent));
                }
            }
            Socket::Unix(s) => {
                if !self.closed && sys::socket_outq(s) == Ok(0) && unix_peer_alive(s) {
                    self.acked = self.sent;
                }
            }
        }
        self.acked
    }

    /// Whether everything produced has been acknowledged.
    pub(super) fn all_acknowledged(&mut self) -> bool {
        self.acknowledged() >= self.produced
    }
}

/// A Unix stream's reader is still there: a read (of nothing a syslog
/// daemon would send) finds no end of stream.
fn unix_peer_alive(mut s: &UnixStream) -> bool {
    let mut byte = [0u8; 1];
    match s.read(&mut byte) {
        Ok(0) => false,
        Ok(_) => true,
        Err(e) => e.kind() == io::ErrorKind::WouldBlock,
    }
}

fn resolve(host: &str, port: u16) -> io::Result<SocketAddr> {
    (host, port)
        .to_socket_addrs()?
        .next()
        .ok_or_else(|| io::Error::new(io::ErrorKind::NotFound, format!("{host}: no address")))
}
