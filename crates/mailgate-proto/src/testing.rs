//! Scripted servers for the clients' unit tests: the server half of a `tokio::io::duplex`
//! plays a list of steps (send bytes, expect a line, stall, drop), and reports every line it
//! received, so a test can check both sides of the conversation.

use crate::dial::TlsUpgrade;
use crate::error::ProtoError;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncWrite, AsyncWriteExt, BufReader, DuplexStream};
use tokio::task::JoinHandle;

#[derive(Debug, Clone)]
pub enum Step {
    /// Write these bytes.
    Send(Vec<u8>),
    /// Read one line and check it (without its CRLF). A pattern ending in `*` matches a prefix;
    /// a line containing `{tag}` matches any tag word in that position.
    Expect(String),
    /// Hold the connection open and silent.
    Stall,
    /// Wait this long (in paused-time tests: virtual time), then go on.
    Wait(Duration),
    /// Close the connection.
    Close,
}

pub fn send(bytes: impl AsRef<[u8]>) -> Step {
    Step::Send(bytes.as_ref().to_vec())
}

pub fn expect(line: &str) -> Step {
    Step::Expect(line.to_owned())
}

/// A client stream and the task running `steps` on the other end. The task returns the lines
/// it received; it panics (failing the test at `await`) on a line that does not match.
pub fn scripted(steps: Vec<Step>) -> (DuplexStream, JoinHandle<Vec<String>>) {
    let (client, server) = tokio::io::duplex(1 << 20);
    (client, tokio::spawn(play(server, steps)))
}

async fn play(server: DuplexStream, steps: Vec<Step>) -> Vec<String> {
    let mut server = BufReader::new(server);
    let mut received = Vec::new();
    for step in steps {
        match step {
            Step::Send(bytes) => {
                if server.get_mut().write_all(&bytes).await.is_err() {
                    return received;
                }
            }
            Step::Expect(pattern) => {
                let mut line = String::new();
                let n = server.read_line(&mut line).await.unwrap_or(0);
                assert!(n > 0, "the client closed; expected `{pattern}`");
                let line = line
                    .trim_end_matches('\n')
                    .trim_end_matches('\r')
                    .to_owned();
                assert!(
                    matches(&pattern, &line),
                    "expected `{pattern}`, got `{line}`"
                );
                received.push(line);
            }
            Step::Stall => {
                tokio::time::sleep(Duration::from_secs(365 * 24 * 3600)).await;
            }
            Step::Wait(d) => tokio::time::sleep(d).await,
            Step::Close => return received,
        }
    }
    received
}

fn matches(pattern: &str, line: &str) -> bool {
    let (pattern, line) = match pattern.strip_prefix("{tag} ") {
        Some(rest) => match line.split_once(' ') {
            Some((_, line_rest)) => (rest, line_rest),
            None => return false,
        },
        None => (pattern, line),
    };
    match pattern.strip_suffix('*') {
        Some(prefix) => line.starts_with(prefix),
        None => line == pattern,
    }
}

/// A duplex stream whose TLS "upgrade" only records that it happened, to drive STARTTLS / STLS
/// command sequences without certificates.
#[derive(Debug)]
pub struct FakeTls {
    pub inner: DuplexStream,
    pub upgraded: Arc<AtomicBool>,
}

impl FakeTls {
    pub fn new(inner: DuplexStream) -> (Self, Arc<AtomicBool>) {
        let flag = Arc::new(AtomicBool::new(false));
        (
            Self {
                inner,
                upgraded: flag.clone(),
            },
            flag,
        )
    }
}

impl TlsUpgrade for FakeTls {
    async fn upgrade_tls(
        self,
        _tls: Arc<rustls::ClientConfig>,
        _host: &str,
        _port: u16,
        _timeout: Duration,
    ) -> Result<Self, ProtoError> {
        self.upgraded.store(true, Ordering::SeqCst);
        Ok(self)
    }
}

impl AsyncRead for FakeTls {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl AsyncWrite for FakeTls {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }
    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }
    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

pub fn tls_config() -> Arc<rustls::ClientConfig> {
    crate::tls::client_config(None, &[]).expect("a TLS config")
}
