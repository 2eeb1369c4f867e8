//! Syslog destinations: the local socket and remote collectors (RFC 5424).
//!
//! Placeholder on `main` while the network outputs are being built: only
//! [`RemoteSpec`] and its parser exist; [`open`] refuses every destination.

use std::io;
use std::path::PathBuf;

use super::output::Output;

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

/// Opens a destination. (On `main` for now: always an error; the network
/// outputs replace this.)
pub fn open(spec: &RemoteSpec) -> io::Result<Box<dyn Output>> {
    Err(io::Error::new(
        io::ErrorKind::Unsupported,
        format!(
            "{:?}: syslog destinations are not built yet",
            spec.transport
        ),
    ))
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
