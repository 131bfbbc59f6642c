//! Tunnels through a proxy: SOCKS5 (names resolved here), SOCKS5h (names resolved by the proxy),
//! both through tokio-socks, and HTTP CONNECT in-house.
//!
//! The HTTP proxy's answer is read one byte at a time up to the blank line that ends its head:
//! a buffered read would swallow the first bytes of the mail server's greeting, which servers
//! send right behind it (often in the same TCP segment).

use super::{resolve, tcp_connect};
use crate::error::ProtoError;
use mailgate_domain::proxy::{ProxyKind, ProxyUrl};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_socks::tcp::Socks5Stream;

/// The longest proxy answer head accepted.
const MAX_HEAD: usize = 8 * 1024;

/// A TCP stream to `host:port` through `proxy`.
pub(crate) async fn tunnel(
    proxy: &ProxyUrl,
    host: &str,
    port: u16,
    timeout: Duration,
) -> Result<TcpStream, ProtoError> {
    let failed = |detail: String| ProtoError::Proxy {
        proxy: proxy.to_string(),
        host: host.to_owned(),
        port,
        detail,
    };
    let tcp = tcp_connect(&proxy.host, proxy.port, timeout)
        .await
        .map_err(|e| failed(format!("cannot reach the proxy: {e}")))?;
    let handshake = async {
        match proxy.kind {
            ProxyKind::Socks5 => {
                let addr = resolve(host, port, timeout).await?;
                socks(tcp, (addr.ip(), port), &failed).await
            }
            ProxyKind::Socks5h => socks(tcp, (host, port), &failed).await,
            ProxyKind::Http => {
                let mut tcp = tcp;
                http_connect(&mut tcp, host, port)
                    .await
                    .map_err(|e| failed(e.to_string()))?;
                Ok(tcp)
            }
        }
    };
    tokio::time::timeout(timeout, handshake)
        .await
        .map_err(|_| failed("the proxy did not answer in time".into()))?
}

async fn socks<'t>(
    tcp: TcpStream,
    target: impl tokio_socks::IntoTargetAddr<'t>,
    failed: &impl Fn(String) -> ProtoError,
) -> Result<TcpStream, ProtoError> {
    Socks5Stream::connect_with_socket(tcp, target)
        .await
        .map(Socks5Stream::into_inner)
        .map_err(|e| failed(format!("SOCKS5: {e}")))
}

/// Why an HTTP CONNECT failed.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ConnectError {
    #[error("the proxy answered `{0}`")]
    Refused(String),
    #[error("the proxy's answer is not HTTP: `{0}`")]
    NotHttp(String),
    #[error("the proxy's answer head is longer than {MAX_HEAD} bytes")]
    TooLong,
    #[error("the proxy closed the connection before answering")]
    Closed,
    /// Printed in the message, so not a `source()` (a chain would print it twice).
    #[error("I/O error with the proxy: {0}")]
    Io(std::io::Error),
}

impl From<std::io::Error> for ConnectError {
    fn from(e: std::io::Error) -> Self {
        Self::Io(e)
    }
}

/// Sends `CONNECT host:port` and reads the answer head without reading past it.
pub(crate) async fn http_connect<S: AsyncRead + AsyncWrite + Unpin>(
    stream: &mut S,
    host: &str,
    port: u16,
) -> Result<(), ConnectError> {
    let authority = if host.contains(':') && !host.starts_with('[') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    };
    let request = format!("CONNECT {authority} HTTP/1.1\r\nHost: {authority}\r\n\r\n");
    stream.write_all(request.as_bytes()).await?;
    stream.flush().await?;
    let mut head = Vec::with_capacity(128);
    while !head.ends_with(b"\r\n\r\n") && !head.ends_with(b"\n\n") {
        if head.len() >= MAX_HEAD {
            return Err(ConnectError::TooLong);
        }
        let mut byte = [0u8; 1];
        if stream.read(&mut byte).await? == 0 {
            return Err(ConnectError::Closed);
        }
        head.push(byte[0]);
    }
    let head = String::from_utf8_lossy(&head);
    let status_line = head.lines().next().unwrap_or_default().trim().to_owned();
    let mut words = status_line.split_whitespace();
    let version = words.next().unwrap_or_default();
    let code = words.next().and_then(|c| c.parse::<u16>().ok());
    match code {
        _ if !version.starts_with("HTTP/") => Err(ConnectError::NotHttp(status_line)),
        Some(200..=299) => Ok(()),
        Some(_) => Err(ConnectError::Refused(status_line)),
        None => Err(ConnectError::NotHttp(status_line)),
    }
}
