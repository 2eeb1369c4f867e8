//! Syslog destinations: the local socket and remote collectors.
//!
//! [`open`] turns a [`RemoteSpec`] into an [`Output`]. [`Output::submit`]
//! only formats and queues (no system call); [`Output::poll`] connects when
//! due, writes what is queued in as few writes as the socket takes, and
//! reports what was delivered: the daemon submits a batch, then polls, and
//! polls now and then while idle (acknowledgements and reconnects happen
//! there). Every destination
//! keeps the entries submitted to it in a queue bounded by
//! [`RemoteSpec::buffer_bytes`] (an entry that does not fit is dropped and
//! counted: [`Output::take_dropped`]), connects and reconnects with
//! exponential backoff (0.2 s doubling to 30 s, reset by a successful
//! connect; a connect or TLS handshake blocks for at most 3 s), and writes
//! the queue in order when the destination is back.
//!
//! Formats and framing ([`format`] has the details):
//!
//! | transport | format | framing |
//! |---|---|---|
//! | `unix:/dev/log` | `<PRI>Mmm dd hh:mm:ss kernel: MSG` (syslog(3)'s) | one message per datagram |
//! | `unix-stream:PATH` | the same | each message ended by a line feed |
//! | `udp://` | RFC 5424 with the `kmsg@32473` structured data | one message per datagram (RFC 5426) |
//! | `tcp://` | RFC 5424 | octet counting, `LEN SP MSG` (RFC 6587) |
//! | `tls://` | RFC 5424 | octet counting inside TLS (RFC 5425) |
//!
//! # What "delivered" means
//!
//! [`Output::poll`] returns the highest sequence number delivered; the
//! daemon persists it, so whatever is not delivered is sent again after a
//! restart. Per transport:
//!
//! - **TCP and TLS**: delivered = the collector machine's TCP has
//!   acknowledged every byte of the message (Linux's `tcpi_bytes_acked`,
//!   compared with the offset where the message ends in the stream, TLS
//!   records and handshake counted). A message written into a connection
//!   that then breaks (the collector died, the network went away) and that
//!   was not acknowledged stays queued and is written again, in order, into
//!   the next connection: nothing is lost between the two machines' TCP
//!   stacks and no message the peer acknowledged is sent twice. Not covered
//!   (no plain-TCP sender can know): a collector process killed after its
//!   kernel acknowledged data but before it read and stored it loses that
//!   data (RELP exists for that); a connection broken in the middle of a
//!   message the collector partly received may leave that partial message
//!   at the collector, and the whole message follows in the next connection.
//!   After klogd itself dies (`kill -9`, a crash), the records after the
//!   last position the daemon saved that the collector got anyway are sent
//!   again by the next klogd: those acknowledged after the save (the daemon
//!   polls within [`crate::klogd::daemon::ACK_POLL`] while
//!   [`Output::awaiting_delivery`], so the saved position follows the
//!   acknowledgements), and those the kernel still held in the socket's
//!   send queue and delivered after the process was gone. They are the
//!   same bytes as the first time (same `seq`): a collector can drop them.
//! - **Unix stream**: delivered = the local syslog daemon has read the
//!   bytes (the socket's send queue is empty while the reader is alive).
//! - **Unix datagram** (`/dev/log`): delivered = the datagram is in the
//!   syslog daemon's socket queue (a full queue makes the send wait; no
//!   listener makes it wait for one to appear).
//! - **UDP**: at most once, loss not detectable: delivered = handed to the
//!   local IP stack. When the collector is down, the ICMP "port unreachable"
//!   of one datagram makes the *next* send fail, so that next one is kept and
//!   sent after the backoff, but the one that drew the ICMP is lost; a
//!   collector on a host that sends no ICMP loses everything sent while it
//!   is down.
//!
//! TLS: the certificate of the collector is checked against
//! [`TlsSettings::ca_file`] (or the system's CAs in
//! `/etc/ssl/certs/ca-certificates.crt`) and the host name of the
//! destination; a client certificate is sent when `cert_file` and
//! `key_file` are set. TLS 1.2 and 1.3 (rustls with the ring provider).

use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::{ClientConfig, RootCertStore};

use super::output::Output;

pub mod format;

mod connection;
mod sender;

pub use sender::SyslogOutput;

/// A sensible default for [`RemoteSpec::buffer_bytes`]: 8 MiB, about
/// 40,000 typical kernel messages.
pub const DEFAULT_BUFFER_BYTES: usize = 8 << 20;

/// Debian's bundle of the system's certificate authorities.
pub const SYSTEM_CA_FILE: &str = "/etc/ssl/certs/ca-certificates.crt";

/// Transport of a syslog destination.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Transport {
    /// A local datagram socket (`/dev/log`).
    UnixDatagram(PathBuf),
    /// A local stream socket.
    UnixStream(PathBuf),
    /// UDP, one message per datagram (RFC 5426).
    Udp {
        /// Host name or address.
        host: String,
        /// Port.
        port: u16,
    },
    /// TCP with octet-counting framing (RFC 6587).
    Tcp {
        /// Host name or address.
        host: String,
        /// Port.
        port: u16,
    },
    /// TLS over TCP (RFC 5425).
    Tls {
        /// Host name or address (also the name checked in the certificate).
        host: String,
        /// Port.
        port: u16,
    },
}

/// TLS settings of a [`Transport::Tls`] destination.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TlsSettings {
    /// PEM file of the certificate authorities to trust (the system's when absent).
    pub ca_file: Option<PathBuf>,
    /// PEM client certificate and key, when the collector asks for one.
    pub cert_file: Option<PathBuf>,
    /// PEM private key of `cert_file`.
    pub key_file: Option<PathBuf>,
}

/// One destination as given on the command line or in the configuration:
/// `unix:/dev/log`, `unix-stream:/dev/log`, `udp://host:514`,
/// `tcp://host:514`, `tls://host:6514`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoteSpec {
    /// Where to.
    pub transport: Transport,
    /// TLS settings (used by [`Transport::Tls`] only).
    pub tls: TlsSettings,
    /// Bound of the buffer kept while the destination is down, in bytes.
    pub buffer_bytes: usize,
    /// HOSTNAME field of the messages (this machine's name when empty).
    pub hostname: String,
}

/// Parses a destination written as `unix:PATH`, `unix-stream:PATH`,
/// `udp://HOST:PORT`, `tcp://HOST:PORT` or `tls://HOST:PORT` (IPv6 hosts in
/// brackets). Default port: 514 for udp and tcp, 6514 for tls.
pub fn parse_destination(text: &str) -> Result<Transport, String> {
    if let Some(path) = text.strip_prefix("unix-stream:") {
        return non_empty_path(path).map(Transport::UnixStream);
    }
    if let Some(path) = text.strip_prefix("unix:") {
        return non_empty_path(path).map(Transport::UnixDatagram);
    }
    let (scheme, rest) = text.split_once("://").ok_or_else(|| {
        format!("'{text}': not a destination (unix:PATH, udp://, tcp:// or tls://HOST[:PORT])")
    })?;
    let default_port = match scheme {
        "udp" | "tcp" => 514,
        "tls" => 6514,
        _ => {
            return Err(format!(
                "'{text}': unknown transport '{scheme}' (udp, tcp, tls, unix)"
            ))
        }
    };
    let (host, port) =
        split_host_port(rest, default_port).map_err(|why| format!("'{text}': {why}"))?;
    Ok(match scheme {
        "udp" => Transport::Udp { host, port },
        "tcp" => Transport::Tcp { host, port },
        _ => Transport::Tls { host, port },
    })
}

fn non_empty_path(path: &str) -> Result<PathBuf, String> {
    if path.is_empty() {
        Err("a unix destination needs a socket path".to_string())
    } else {
        Ok(PathBuf::from(path))
    }
}

fn split_host_port(rest: &str, default_port: u16) -> Result<(String, u16), String> {
    let rest = rest.strip_suffix('/').unwrap_or(rest);
    let (host, port) = if let Some(bracketed) = rest.strip_prefix('[') {
        let (host, after) = bracketed
            .split_once(']')
            .ok_or("unclosed '[' in the host")?;
        match after {
            "" => (host, None),
            _ => (host, Some(after.strip_prefix(':').ok_or("junk after ']'")?)),
        }
    } else {
        match rest.rsplit_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (rest, None),
        }
    };
    if host.is_empty() {
        return Err("no host".to_string());
    }
    let port = match port {
        None => default_port,
        Some(p) => match p.parse::<u16>() {
            Ok(n) if n > 0 => n,
            _ => return Err(format!("bad port '{p}'")),
        },
    };
    Ok((host.to_string(), port))
}

impl RemoteSpec {
    /// A destination with the defaults: no TLS files (the system's CAs),
    /// [`DEFAULT_BUFFER_BYTES`], this machine's host name.
    pub fn new(transport: Transport) -> RemoteSpec {
        RemoteSpec {
            transport,
            tls: TlsSettings::default(),
            buffer_bytes: DEFAULT_BUFFER_BYTES,
            hostname: String::new(),
        }
    }
}

/// Opens a destination: checks what can be checked at once (the TLS files
/// are read and parsed here) and returns an [`Output`] that connects on its
/// first [`Output::poll`] and keeps reconnecting while the destination is
/// down. Errors: unreadable or invalid TLS files (the message names the
/// file); a destination that is merely unreachable is not an error.
pub fn open(spec: &RemoteSpec) -> io::Result<Box<dyn Output>> {
    Ok(Box::new(open_syslog(spec)?))
}

/// [`open`], returning the destination's own type: the same [`Output`],
/// plus its state ([`SyslogOutput::last_error`], whether it is connected,
/// how much it holds) for the daemon's log.
pub fn open_syslog(spec: &RemoteSpec) -> io::Result<SyslogOutput> {
    let tls = match &spec.transport {
        Transport::Tls { .. } => Some(tls_config(&spec.tls)?),
        _ => None,
    };
    let hostname = if spec.hostname.is_empty() {
        crate::sys::hostname()
            .map(|h| String::from_utf8_lossy(&h).into_owned())
            .unwrap_or_default()
    } else {
        spec.hostname.clone()
    };
    Ok(SyslogOutput::new(spec, tls, &hostname))
}

fn tls_config(settings: &TlsSettings) -> io::Result<Arc<ClientConfig>> {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};

    let bad = |path: &Path, why: String| {
        io::Error::new(
            io::ErrorKind::InvalidData,
            format!("{}: {why}", path.display()),
        )
    };
    let read_certs = |path: &Path| -> io::Result<Vec<CertificateDer<'static>>> {
        let data = std::fs::read(path)
            .map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", path.display())))?;
        let certs = CertificateDer::pem_slice_iter(&data)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| bad(path, e.to_string()))?;
        if certs.is_empty() {
            return Err(bad(path, "no PEM certificate".to_string()));
        }
        Ok(certs)
    };
    let ca_path = settings
        .ca_file
        .as_deref()
        .unwrap_or(Path::new(SYSTEM_CA_FILE));
    let mut roots = RootCertStore::empty();
    for cert in read_certs(ca_path)? {
        roots.add(cert).map_err(|e| bad(ca_path, e.to_string()))?;
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(io::Error::other)?
        .with_root_certificates(roots);
    let config = match (&settings.cert_file, &settings.key_file) {
        (Some(cert), Some(key)) => {
            let certs = read_certs(cert)?;
            let data = std::fs::read(key)
                .map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", key.display())))?;
            let key_der =
                PrivateKeyDer::from_pem_slice(&data).map_err(|e| bad(key, e.to_string()))?;
            builder
                .with_client_auth_cert(certs, key_der)
                .map_err(|e| bad(key, e.to_string()))?
        }
        (None, None) => builder.with_no_client_auth(),
        _ => {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "a TLS client certificate needs both cert_file and key_file",
            ))
        }
    };
    Ok(Arc::new(config))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn destinations_parse() {
        assert_eq!(
            parse_destination("tcp://127.0.0.1:1514").unwrap(),
            Transport::Tcp {
                host: "127.0.0.1".into(),
                port: 1514
            }
        );
        assert_eq!(
            parse_destination("tls://[::1]").unwrap(),
            Transport::Tls {
                host: "::1".into(),
                port: 6514
            }
        );
        assert_eq!(
            parse_destination("unix:/dev/log").unwrap(),
            Transport::UnixDatagram("/dev/log".into())
        );
        assert!(parse_destination("udp://host:0").is_err());
        assert!(parse_destination("ftp://host").is_err());
        assert!(parse_destination("unix:").is_err());
    }
}
