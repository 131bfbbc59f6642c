//! The byte stream the protocol clients run on once dialled: plain TCP (possibly through a
//! proxy tunnel) or TLS over it, with the STARTTLS upgrade from one to the other.

use crate::error::ProtoError;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;

/// A dialled connection: plain, or TLS (implicit, or after STARTTLS / STLS).
pub enum MailStream {
    Plain(TcpStream),
    Tls(Box<TlsStream<TcpStream>>),
}

impl std::fmt::Debug for MailStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let peer = |tcp: &TcpStream| tcp.peer_addr().map(|a| a.to_string()).unwrap_or_default();
        match self {
            MailStream::Plain(tcp) => write!(f, "MailStream::Plain({})", peer(tcp)),
            MailStream::Tls(tls) => write!(f, "MailStream::Tls({})", peer(tls.get_ref().0)),
        }
    }
}

impl MailStream {
    pub fn is_tls(&self) -> bool {
        matches!(self, MailStream::Tls(_))
    }

    /// Runs the TLS handshake over a plain stream (after the server accepted STARTTLS / STLS),
    /// verifying the certificate for `host`. Already-TLS streams are refused: TLS in TLS is a
    /// caller bug.
    pub async fn starttls(
        self,
        tls: Arc<rustls::ClientConfig>,
        host: &str,
        port: u16,
        timeout: Duration,
    ) -> Result<MailStream, ProtoError> {
        match self {
            MailStream::Plain(tcp) => Ok(MailStream::Tls(Box::new(
                handshake(tcp, tls, host, port, timeout).await?,
            ))),
            MailStream::Tls(_) => Err(ProtoError::InvalidInput(
                "STARTTLS on a connection that already uses TLS".into(),
            )),
        }
    }
}

/// The TLS handshake with `host` as the verified server name (a name or an IP address).
pub(crate) async fn handshake(
    tcp: TcpStream,
    tls: Arc<rustls::ClientConfig>,
    host: &str,
    port: u16,
    timeout: Duration,
) -> Result<TlsStream<TcpStream>, ProtoError> {
    let name =
        rustls_pki_types::ServerName::try_from(host.to_owned()).map_err(|e| ProtoError::Tls {
            host: host.to_owned(),
            cause: io::Error::new(io::ErrorKind::InvalidInput, e),
        })?;
    let connect = TlsConnector::from(tls).connect(name, tcp);
    match tokio::time::timeout(timeout, connect).await {
        Ok(Ok(stream)) => Ok(stream),
        Ok(Err(e)) if is_closed(&e) => Err(ProtoError::Tls {
            host: host.to_owned(),
            cause: io::Error::new(
                e.kind(),
                "the server closed the connection during the TLS handshake (does this port expect TLS from the first byte?)",
            ),
        }),
        Ok(Err(e)) => Err(ProtoError::Tls {
            host: host.to_owned(),
            cause: e,
        }),
        Err(_) => Err(ProtoError::Timeout {
            host: host.to_owned(),
            port,
            what: "the TLS handshake".into(),
        }),
    }
}

fn is_closed(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::UnexpectedEof | io::ErrorKind::ConnectionReset
    ) && e
        .get_ref()
        .and_then(|inner| inner.downcast_ref::<rustls::Error>())
        .is_none()
}

/// A stream a protocol client can upgrade to TLS after STARTTLS / STLS. [`MailStream`] is the
/// real one; tests implement it for in-memory streams to drive the command sequence.
pub trait TlsUpgrade: AsyncRead + AsyncWrite + Unpin + Send + Sized {
    fn upgrade_tls(
        self,
        tls: Arc<rustls::ClientConfig>,
        host: &str,
        port: u16,
        timeout: Duration,
    ) -> impl std::future::Future<Output = Result<Self, ProtoError>> + Send;
}

impl TlsUpgrade for MailStream {
    async fn upgrade_tls(
        self,
        tls: Arc<rustls::ClientConfig>,
        host: &str,
        port: u16,
        timeout: Duration,
    ) -> Result<Self, ProtoError> {
        self.starttls(tls, host, port, timeout).await
    }
}

impl AsyncRead for MailStream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        match self.get_mut() {
            MailStream::Plain(s) => Pin::new(s).poll_read(cx, buf),
            MailStream::Tls(s) => Pin::new(s.as_mut()).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for MailStream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            MailStream::Plain(s) => Pin::new(s).poll_write(cx, buf),
            MailStream::Tls(s) => Pin::new(s.as_mut()).poll_write(cx, buf),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            MailStream::Plain(s) => Pin::new(s).poll_flush(cx),
            MailStream::Tls(s) => Pin::new(s.as_mut()).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            MailStream::Plain(s) => Pin::new(s).poll_shutdown(cx),
            MailStream::Tls(s) => Pin::new(s.as_mut()).poll_shutdown(cx),
        }
    }
}
