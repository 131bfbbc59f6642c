//! The protocol clients driven against a scripted server whose answers may be anything: the
//! property tests (`tests/props`) and the fuzz targets (`fuzz/`) share these drivers.
//!
//! A script is a list of chunks. The server sends the first chunk at once (the greeting) and
//! the next one each time the client reads after writing something (its answer to what the
//! client sent), and then closes. No timers fire on their own: the runtime's clock is paused, so a
//! client waiting for more bytes than the script holds sees the end of the stream at once.

#![allow(dead_code)]

use mailgate_proto::imap::{ImapClient, ImapOptions};
use mailgate_proto::pop3::{Pop3Client, Pop3Options};
use mailgate_proto::sasl::{Credentials, challenge_status, decode_challenge};
use mailgate_proto::smtp::{Envelope, SmtpClient, SmtpOptions};
use secrecy::SecretString;
use std::collections::VecDeque;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// Between two chunks of a fuzz input (a line of its own in the seed files).
pub const SEPARATOR: &[u8] = b"~~~\n";

const TIMEOUT: Duration = Duration::from_secs(30);

/// A fuzz input cut into the chunks of a script at each [`SEPARATOR`].
pub fn chunks(data: &[u8]) -> Vec<Vec<u8>> {
    let mut chunks = Vec::new();
    let mut rest = data;
    while let Some(i) = rest.windows(SEPARATOR.len()).position(|w| w == SEPARATOR) {
        chunks.push(rest[..i].to_vec());
        rest = &rest[i + SEPARATOR.len()..];
    }
    chunks.push(rest.to_vec());
    chunks
}

/// The server's side of the connection, played from a script; what the client writes is
/// dropped.
#[derive(Debug)]
pub struct Scripted {
    chunks: VecDeque<Vec<u8>>,
    unread: Vec<u8>,
    pos: usize,
    /// The client wrote since the last chunk was released (true at first: the greeting).
    wrote: bool,
}

impl Scripted {
    pub fn new(chunks: Vec<Vec<u8>>) -> Self {
        Self {
            chunks: chunks.into(),
            unread: Vec::new(),
            pos: 0,
            wrote: true,
        }
    }
}

impl AsyncRead for Scripted {
    fn poll_read(
        mut self: Pin<&mut Self>,
        _: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = &mut *self;
        if this.pos == this.unread.len() && this.wrote {
            this.wrote = false;
            this.unread = this.chunks.pop_front().unwrap_or_default();
            this.pos = 0;
        }
        let rest = &this.unread[this.pos..];
        let n = rest.len().min(buf.remaining());
        buf.put_slice(&rest[..n]);
        this.pos += n;
        Poll::Ready(Ok(()))
    }
}

impl AsyncWrite for Scripted {
    fn poll_write(
        mut self: Pin<&mut Self>,
        _: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.wrote |= !buf.is_empty();
        Poll::Ready(Ok(buf.len()))
    }

    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

/// Runs `future` (which counts the steps that succeeded) on a current-thread runtime with paused time.
fn run<F: Future<Output = usize>>(future: F) -> usize {
    tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .start_paused(true)
        .build()
        .expect("a runtime")
        .block_on(future)
}

fn credentials(password: bool) -> Credentials {
    if password {
        Credentials::Plain {
            user: "alice@example.test".into(),
            password: SecretString::from("secret"),
        }
    } else {
        Credentials::XOAuth2 {
            user: "alice@example.test".into(),
            token: SecretString::from("ya29.token"),
        }
    }
}

/// Greeting, CAPABILITY, login (async-imap from there on), SELECT, SEARCH, FETCH, STORE, MOVE,
/// EXPUNGE, NOOP, IDLE and LOGOUT: every answer the IMAP client reads.
pub fn imap(script: Vec<Vec<u8>>, password: bool) -> usize {
    run(async {
        let mut done = 0;
        let stream = Scripted::new(script);
        let Ok(mut client) =
            ImapClient::greet(stream, "imap.example.test", 993, ImapOptions::new(TIMEOUT)).await
        else {
            return done;
        };
        done += 1;
        if client.capabilities().is_empty() {
            done += usize::from(client.capability().await.is_ok());
        }
        let Ok(mut s) = client.login(&credentials(password)).await else {
            return done;
        };
        done += 1;
        done += usize::from(s.refresh_capabilities().await.is_ok());
        done += usize::from(s.select("INBOX").await.is_ok());
        done += usize::from(s.uids_since(0).await.is_ok());
        done += usize::from(s.uids_up_to(100, true).await.is_ok());
        done += usize::from(s.sizes_since(0).await.is_ok());
        done += usize::from(s.fetch(5, 1000).await.is_ok());
        done += usize::from(s.fetch_many(&[5, 6, 7], 1000).await.is_ok());
        done += usize::from(s.mark_seen(&[5]).await.is_ok());
        done += usize::from(s.move_to(&[5], "Archive").await.is_ok());
        done += usize::from(s.delete(&[6]).await.is_ok());
        done += usize::from(s.noop().await.is_ok());
        let Ok((s, _)) = s.idle(Duration::from_secs(60)).await else {
            return done;
        };
        done += 1;
        done += usize::from(s.logout().await.is_ok());
        done
    })
}

/// Greeting, EHLO, AUTH, two transactions (PIPELINING or not), RSET, NOOP, EHLO and QUIT:
/// every reply the SMTP client reads.
pub fn smtp(script: Vec<Vec<u8>>, password: bool) -> usize {
    run(async {
        let mut done = 0;
        let stream = Scripted::new(script);
        let options = SmtpOptions::new(TIMEOUT, "client.example.test");
        let Ok(mut c) = SmtpClient::greet(stream, "smtp.example.test", 587, options).await else {
            return done;
        };
        done += 1;
        let _ = (
            c.auth_mechanisms(),
            c.max_size(),
            c.greeting().lines().count(),
        );
        done += usize::from(c.authenticate(&credentials(password)).await.is_ok());
        let envelope = Envelope::new(
            "alice@example.test",
            ["bob@example.test", "carol@example.test"],
        );
        done += usize::from(
            c.send(&envelope, b"Subject: hi\r\n\r\nhello\r\n.dot\r\n")
                .await
                .is_ok(),
        );
        done += usize::from(c.reset().await.is_ok());
        done += usize::from(
            c.send(&Envelope::new("", ["bob@example.test"]), b"x\r\n")
                .await
                .is_ok(),
        );
        done += usize::from(c.noop().await.is_ok());
        done += usize::from(c.ehlo_again().await.is_ok());
        done += usize::from(c.quit().await.is_ok());
        done
    })
}

/// Greeting, CAPA, login, STAT, UIDL, LIST, RETR, DELE, RSET, NOOP and QUIT: every answer the
/// POP3 client reads.
pub fn pop3(script: Vec<Vec<u8>>, password: bool) -> usize {
    run(async {
        let mut done = 0;
        let stream = Scripted::new(script);
        let options = Pop3Options::new(TIMEOUT);
        let Ok(mut c) = Pop3Client::greet(stream, "pop.example.test", 995, options).await else {
            return done;
        };
        done += 1;
        done += usize::from(c.capa().await.is_ok());
        let _ = c.sasl_mechanisms();
        done += usize::from(c.login(&credentials(password)).await.is_ok());
        done += usize::from(c.stat().await.is_ok());
        done += usize::from(c.uidl().await.is_ok());
        done += usize::from(c.list().await.is_ok());
        done += usize::from(c.list_one(2).await.is_ok());
        done += usize::from(c.retr(1, 1000).await.is_ok());
        done += usize::from(c.dele(1).await.is_ok());
        done += usize::from(c.rset().await.is_ok());
        done += usize::from(c.noop().await.is_ok());
        done += usize::from(c.quit().await.is_ok());
        done
    })
}

/// A SASL failure challenge as a server words it (base64 of JSON, or not).
pub fn sasl_challenge(text: &str) {
    if let Ok(decoded) = decode_challenge(text) {
        let _ = challenge_status(&decoded);
    }
    let _ = challenge_status(text);
}
