//! Raw line-based protocol connections (plain, implicit TLS, STARTTLS) for the tests.

use std::time::Duration;

use crate::mailstack::MailStack;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use mailgate_proto::dial::MailStream;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

const READ_TIMEOUT: Duration = Duration::from_secs(10);
/// Generous: the handshake used to have no bound at all.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(60);

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

pub struct Conn {
    io: BufReader<MailStream>,
}

impl Conn {
    pub async fn plain(port: u16) -> Conn {
        let tcp = TcpStream::connect(MailStack::addr(port))
            .await
            .unwrap_or_else(|e| panic!("connect to port {port}: {e}"));
        Conn {
            io: BufReader::new(MailStream::Plain(tcp)),
        }
    }

    pub async fn tls(stack: &MailStack, port: u16) -> Conn {
        Self::plain(port).await.starttls(stack).await
    }

    /// Upgrades after the server accepted STARTTLS/STLS.
    pub async fn starttls(self, stack: &MailStack) -> Conn {
        assert!(
            self.io.buffer().is_empty(),
            "bytes after the STARTTLS reply"
        );
        let stream = self.io.into_inner();
        let port = match &stream {
            MailStream::Plain(tcp) => tcp.peer_addr().expect("the server's address").port(),
            MailStream::Tls(_) => panic!("already TLS"),
        };
        let tls = stream
            .starttls(
                stack.tls_client_config(),
                &stack.tls_server_name().to_str(),
                port,
                HANDSHAKE_TIMEOUT,
            )
            .await
            .expect("TLS handshake with the test CA");
        Conn {
            io: BufReader::new(tls),
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
