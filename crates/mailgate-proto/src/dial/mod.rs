//! Connecting to a mail server: TCP with a timeout, optionally through a proxy (SOCKS5,
//! SOCKS5h, HTTP CONNECT), then TLS for implicit-TLS ports. STARTTLS is not done here: the
//! protocol client upgrades the plain stream after its own STARTTLS / STLS command.

mod proxy;
mod stream;
mod timed;

pub use mailgate_domain::proxy::{ProxyKind, ProxyUrl};
pub use mailgate_domain::server::Security;
pub use stream::{MailStream, TlsUpgrade};
pub(crate) use timed::Timed;

use crate::error::ProtoError;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpStream;

/// Where a mail server is and how to reach it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    pub host: String,
    pub port: u16,
    pub security: Security,
    pub proxy: Option<ProxyUrl>,
}

impl Endpoint {
    /// A direct connection (no proxy).
    pub fn new(host: impl Into<String>, port: u16, security: Security) -> Self {
        Self {
            host: host.into(),
            port,
            security,
            proxy: None,
        }
    }

    pub fn with_proxy(mut self, proxy: Option<ProxyUrl>) -> Self {
        self.proxy = proxy;
        self
    }
}

/// Opens the connection. For [`Security::Ssl`] the TLS handshake is done (server name = the
/// host, a name or an IP address); for [`Security::Starttls`] and [`Security::None`] the stream
/// is plain. Every step (name lookup and TCP, proxy handshake, TLS) has `timeout`.
pub async fn connect(
    ep: &Endpoint,
    tls: Arc<rustls::ClientConfig>,
    timeout: Duration,
) -> Result<MailStream, ProtoError> {
    let tcp = connect_tcp(ep, timeout).await?;
    secure(tcp, ep, tls, timeout).await
}

/// The first half of [`connect`]: the TCP connection (through the proxy when the endpoint has
/// one), plain whatever the security. Test Connection reports it apart from the TLS handshake.
pub async fn connect_tcp(ep: &Endpoint, timeout: Duration) -> Result<MailStream, ProtoError> {
    let tcp = match &ep.proxy {
        None => tcp_connect(&ep.host, ep.port, timeout).await?,
        Some(proxy) => proxy::tunnel(proxy, &ep.host, ep.port, timeout).await?,
    };
    // Commands are small and answered one by one: do not wait to fill segments.
    let _ = tcp.set_nodelay(true);
    Ok(MailStream::Plain(tcp))
}

/// The second half of [`connect`]: for [`Security::Ssl`] the TLS handshake over the plain
/// stream of [`connect_tcp`]; the stream as it is for the other securities (STARTTLS is the
/// protocol client's business).
pub async fn secure(
    stream: MailStream,
    ep: &Endpoint,
    tls: Arc<rustls::ClientConfig>,
    timeout: Duration,
) -> Result<MailStream, ProtoError> {
    match ep.security {
        Security::Ssl => stream.starttls(tls, &ep.host, ep.port, timeout).await,
        Security::Starttls | Security::None => Ok(stream),
    }
}

/// `[::1]` -> `::1`, as URLs write IPv6 hosts.
fn bare(host: &str) -> &str {
    host.strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host)
}

/// The addresses of `host`, looked up within `timeout`.
async fn resolve_all(
    host: &str,
    port: u16,
    timeout: Duration,
) -> Result<Vec<SocketAddr>, ProtoError> {
    let dns = |detail: String| ProtoError::Dns {
        host: host.to_owned(),
        detail,
    };
    let found = tokio::time::timeout(timeout, tokio::net::lookup_host((bare(host), port)))
        .await
        .map_err(|_| ProtoError::Timeout {
            host: host.to_owned(),
            port,
            what: "the name lookup".into(),
        })?
        .map_err(|e| dns(e.to_string()))?
        .collect::<Vec<_>>();
    if found.is_empty() {
        return Err(dns("no address found".into()));
    }
    Ok(found)
}

pub(crate) async fn resolve(
    host: &str,
    port: u16,
    timeout: Duration,
) -> Result<SocketAddr, ProtoError> {
    Ok(resolve_all(host, port, timeout).await?[0])
}

/// TCP to the first address of `host` that accepts, all within `timeout`.
pub(crate) async fn tcp_connect(
    host: &str,
    port: u16,
    timeout: Duration,
) -> Result<TcpStream, ProtoError> {
    let deadline = tokio::time::Instant::now() + timeout;
    let addrs = resolve_all(host, port, timeout).await?;
    let mut last = None;
    for addr in addrs {
        match tokio::time::timeout_at(deadline, TcpStream::connect(addr)).await {
            Ok(Ok(tcp)) => return Ok(tcp),
            Ok(Err(e)) => last = Some(e),
            Err(_) => break,
        }
    }
    Err(match last {
        Some(source) => ProtoError::Connect {
            host: host.to_owned(),
            port,
            cause: source,
        },
        None => ProtoError::Timeout {
            host: host.to_owned(),
            port,
            what: "the TCP connection".into(),
        },
    })
}

#[cfg(test)]
mod tests;
