//! Raw line-based protocol connections (plain, implicit TLS, STARTTLS) for the tests.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use crate::mailstack::MailStack;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncWrite, AsyncWriteExt, BufReader, ReadBuf};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;

const READ_TIMEOUT: Duration = Duration::from_secs(10);

pub fn b64(data: &str) -> String {
    STANDARD.encode(data)
}

pub fn unb64(data: &str) -> String {
    String::from_utf8(STANDARD.decode(data.trim()).expect("base64")).expect("utf-8")
}

/// The SASL XOAUTH2 initial response, base64-encoded.
pub fn xoauth2(user: &str, token: &str) -> String {
    b64(&format!("user={user}\x01auth=Bearer {token}\x01\x01"))
}

enum Io {
    Plain(TcpStream),
    Tls(Box<TlsStream<TcpStream>>),
}

pub struct Conn {
    io: BufReader<Io>,
}

impl Conn {
    pub async fn plain(port: u16) -> Conn {
        let tcp = TcpStream::connect(MailStack::addr(port))
            .await
            .unwrap_or_else(|e| panic!("connect to port {port}: {e}"));
        Conn {
            io: BufReader::new(Io::Plain(tcp)),
        }
    }

    pub async fn tls(stack: &MailStack, port: u16) -> Conn {
        let tcp = Self::plain(port).await.into_tcp();
        Conn {
            io: BufReader::new(Io::Tls(Box::new(handshake(stack, tcp).await))),
        }
    }

    /// Upgrades after the server accepted STARTTLS/STLS.
    pub async fn starttls(self, stack: &MailStack) -> Conn {
        assert!(
            self.io.buffer().is_empty(),
            "bytes after the STARTTLS reply"
        );
        let tcp = self.into_tcp();
        Conn {
            io: BufReader::new(Io::Tls(Box::new(handshake(stack, tcp).await))),
        }
    }

    fn into_tcp(self) -> TcpStream {
        match self.io.into_inner() {
            Io::Plain(tcp) => tcp,
            Io::Tls(_) => panic!("already TLS"),
        }
    }

    pub async fn send(&mut self, line: &str) {
        let io = self.io.get_mut();
        io.write_all(format!("{line}\r\n").as_bytes())
            .await
            .expect("write");
        io.flush().await.expect("flush");
    }

    /// Writes `bytes` exactly as they are, then CRLF: an IMAP literal whose content may be
    /// any bytes (8-bit charsets, bare CRs), unlike [`Conn::send`]'s text.
    pub async fn send_bytes(&mut self, bytes: &[u8]) {
        let io = self.io.get_mut();
        io.write_all(bytes).await.expect("write");
        io.write_all(b"\r\n").await.expect("write");
        io.flush().await.expect("flush");
    }

    /// One line without its CRLF; panics on EOF or after 10 s.
    pub async fn line(&mut self) -> String {
        let mut line = String::new();
        let read = tokio::time::timeout(READ_TIMEOUT, self.io.read_line(&mut line))
            .await
            .expect("server answered within 10 s")
            .expect("read");
        assert!(read > 0, "connection closed by the server");
        line.trim_end_matches(['\r', '\n']).to_owned()
    }

    /// Lines up to and including the first one for which `last` is true.
    pub async fn lines_until(&mut self, last: impl Fn(&str) -> bool) -> Vec<String> {
        let mut lines = Vec::new();
        loop {
            let line = self.line().await;
            let done = last(&line);
            lines.push(line);
            if done {
                return lines;
            }
        }
    }

    /// Sends an IMAP command with `tag`; returns every line up to the tagged reply.
    pub async fn imap(&mut self, tag: &str, command: &str) -> Vec<String> {
        self.send(&format!("{tag} {command}")).await;
        self.imap_reply(tag).await
    }

    pub async fn imap_reply(&mut self, tag: &str) -> Vec<String> {
        let prefix = format!("{tag} ");
        self.lines_until(|l| l.starts_with(&prefix)).await
    }

    /// A complete (possibly multi-line) SMTP reply.
    pub async fn smtp_reply(&mut self) -> Vec<String> {
        self.lines_until(|l| l.len() < 4 || l.as_bytes()[3] == b' ')
            .await
    }

    pub async fn smtp(&mut self, command: &str) -> Vec<String> {
        self.send(command).await;
        self.smtp_reply().await
    }
}

async fn handshake(stack: &MailStack, tcp: TcpStream) -> TlsStream<TcpStream> {
    TlsConnector::from(stack.tls_client_config())
        .connect(stack.tls_server_name(), tcp)
        .await
        .expect("TLS handshake with the test CA")
}

impl AsyncRead for Io {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Io::Plain(s) => Pin::new(s).poll_read(cx, buf),
            Io::Tls(s) => Pin::new(s.as_mut()).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for Io {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Io::Plain(s) => Pin::new(s).poll_write(cx, buf),
            Io::Tls(s) => Pin::new(s.as_mut()).poll_write(cx, buf),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Io::Plain(s) => Pin::new(s).poll_flush(cx),
            Io::Tls(s) => Pin::new(s.as_mut()).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Io::Plain(s) => Pin::new(s).poll_shutdown(cx),
            Io::Tls(s) => Pin::new(s.as_mut()).poll_shutdown(cx),
        }
    }
}
