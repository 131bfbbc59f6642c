//! An in-house POP3 client (RFC 1939, CAPA and STLS from RFC 2449 / RFC 2595, SASL AUTH from
//! RFC 5034), generic over the byte stream: greeting, CAPA, STLS, USER/PASS, AUTH XOAUTH2 /
//! OAUTHBEARER / PLAIN, STAT, UIDL, LIST, RETR with dot-unstuffing and a size cap, DELE, RSET,
//! NOOP, QUIT.
//!
//! Every read has the inactivity timeout of [`Pop3Options::timeout`]. A command that fails
//! half-way (timeout, dropped connection, garbage, a message over the cap) leaves the client
//! unusable: later calls fail with [`ProtoError::Unusable`] instead of reading the rest of an
//! old answer as the answer to a new command. So does a command future dropped before it ended.

mod auth;
mod commands;
mod reply;
#[cfg(test)]
mod tests;

pub use commands::Stat;

use crate::busy::Busy;
use crate::dial::{self, Endpoint, MailStream, Security, Timed, TlsUpgrade};
use crate::error::{Peer, ProtoError};
use crate::lines::{LineError, LineReader, Tolerances};
use crate::starttls;
use mailgate_domain::troubleshoot::MailProtocol;
use reply::Status;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite};

/// How the client treats the server.
#[derive(Debug, Clone)]
pub struct Pop3Options {
    /// Inactivity timeout of every read and write.
    pub timeout: Duration,
    pub tolerances: Tolerances,
    /// The largest UIDL or LIST answer accepted, in bytes (a mailbox of a million messages
    /// answers UIDL in about 30 MB).
    pub max_listing_bytes: usize,
}

impl Pop3Options {
    pub fn new(timeout: Duration) -> Self {
        Self {
            timeout,
            tolerances: Tolerances::default(),
            max_listing_bytes: 64 * 1024 * 1024,
        }
    }
}

/// The longest status line accepted (RFC 2449 says 512 octets; servers put long texts after
/// `-ERR`, so some room is left).
const MAX_STATUS_LINE: usize = 8 * 1024;

/// A POP3 connection, before or after login.
pub struct Pop3Client<S> {
    io: LineReader<Timed<S>>,
    peer: Peer,
    options: Pop3Options,
    greeting: String,
    capabilities: Vec<String>,
    authenticated: bool,
    busy: Busy,
}

impl<S> std::fmt::Debug for Pop3Client<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pop3Client")
            .field("host", &self.peer.host)
            .field("port", &self.peer.port)
            .field("authenticated", &self.authenticated)
            .field("usable", &!self.busy.is_set())
            .finish_non_exhaustive()
    }
}

/// Dials `ep`, reads the greeting and the capabilities, and for [`Security::Starttls`]
/// upgrades with STLS (then reads the capabilities again, as RFC 2595 requires).
pub async fn connect(
    ep: &Endpoint,
    tls: Arc<rustls::ClientConfig>,
    timeout: Duration,
) -> Result<Pop3Client<MailStream>, ProtoError> {
    connect_with(ep, tls, Pop3Options::new(timeout)).await
}

/// [`connect`] with options (tolerances, listing cap).
pub async fn connect_with(
    ep: &Endpoint,
    tls: Arc<rustls::ClientConfig>,
    options: Pop3Options,
) -> Result<Pop3Client<MailStream>, ProtoError> {
    let stream = dial::connect(ep, tls.clone(), options.timeout).await?;
    let mut client = Pop3Client::greet(stream, &ep.host, ep.port, options).await?;
    client.capa().await?;
    if ep.security == Security::Starttls {
        client = client.stls(tls).await?;
    }
    Ok(client)
}

impl<S: AsyncRead + AsyncWrite + Unpin> Pop3Client<S> {
    /// Reads the server's greeting on a connected stream. `host` and `port` only name the
    /// server in errors (and are the TLS name for STLS).
    pub async fn greet(
        stream: S,
        host: &str,
        port: u16,
        options: Pop3Options,
    ) -> Result<Self, ProtoError> {
        let mut client = Self {
            io: LineReader::new(Timed::new(stream, options.timeout)),
            peer: Peer::new(host, port, MailProtocol::Pop3),
            options,
            greeting: String::new(),
            capabilities: Vec::new(),
            authenticated: false,
            busy: Busy::starting(),
        };
        match client.status("the greeting").await? {
            Status::Ok(text) => client.greeting = text,
            Status::Err(text) => {
                return Err(ProtoError::Rejected {
                    protocol: MailProtocol::Pop3,
                    command: "the connection".into(),
                    reply: format!("-ERR {text}"),
                });
            }
            Status::Continue(text) => {
                return Err(client.unexpected("a greeting", &format!("+ {text}")));
            }
        }
        client.busy.end();
        Ok(client)
    }

    /// The greeting's text after `+OK`.
    pub fn greeting(&self) -> &str {
        &self.greeting
    }

    /// The CAPA lines from the last [`Pop3Client::capa`] (`USER`, `UIDL`, `SASL PLAIN XOAUTH2`,
    /// `STLS`...); empty when the server has no CAPA.
    pub fn capabilities(&self) -> &[String] {
        &self.capabilities
    }

    /// True when CAPA listed `name` (case-insensitive, first word of a line).
    pub fn has_capability(&self, name: &str) -> bool {
        self.capabilities.iter().any(|line| {
            line.split_ascii_whitespace()
                .next()
                .is_some_and(|w| w.eq_ignore_ascii_case(name))
        })
    }

    /// The SASL mechanisms CAPA listed, or `None` when it listed no `SASL` line.
    pub fn sasl_mechanisms(&self) -> Option<Vec<String>> {
        self.capabilities.iter().find_map(|line| {
            let mut words = line.split_ascii_whitespace();
            words
                .next()
                .filter(|w| w.eq_ignore_ascii_case("SASL"))
                .map(|_| words.map(str::to_ascii_uppercase).collect())
        })
    }

    pub fn is_authenticated(&self) -> bool {
        self.authenticated
    }

    /// Asks for the capabilities (RFC 2449). A server without CAPA answers `-ERR`: the list is
    /// then empty and the client assumes RFC 1939 commands only.
    pub async fn capa(&mut self) -> Result<&[String], ProtoError> {
        self.busy.begin()?;
        self.io
            .send(b"CAPA")
            .await
            .map_err(|e| self.peer.io("the answer to CAPA", e))?;
        let capabilities = match self.status("the answer to CAPA").await? {
            Status::Ok(_) => {
                let block = self
                    .multiline(self.options.max_listing_bytes, "the CAPA list", "CAPA")
                    .await?;
                String::from_utf8_lossy(&block)
                    .lines()
                    .map(|l| l.trim_end().to_owned())
                    .filter(|l| !l.is_empty())
                    .collect()
            }
            Status::Err(_) => Vec::new(),
            Status::Continue(text) => {
                return Err(self.unexpected("the answer to CAPA", &format!("+ {text}")));
            }
        };
        self.capabilities = capabilities;
        self.busy.end();
        Ok(&self.capabilities)
    }

    /// Reads a status line; `what` names it in errors.
    async fn status(&mut self, what: &str) -> Result<Status, ProtoError> {
        let tolerances = self.options.tolerances;
        let line = self
            .io
            .read_line(MAX_STATUS_LINE, &tolerances)
            .await
            .map_err(|e| self.line_error(what, e))?;
        reply::status(&line, &tolerances).map_err(|detail| self.peer.protocol_error(detail, &line))
    }

    /// Sends `command` and reads its status: `+OK` gives its text, `-ERR` a
    /// [`ProtoError::Rejected`] naming `name` (the command without secrets).
    async fn simple(&mut self, command: &str, name: &str) -> Result<String, ProtoError> {
        let what = format!("the answer to {name}");
        self.io
            .send(command.as_bytes())
            .await
            .map_err(|e| self.peer.io(&what, e))?;
        match self.status(&what).await? {
            Status::Ok(text) => Ok(text),
            Status::Err(text) => Err(ProtoError::Rejected {
                protocol: MailProtocol::Pop3,
                command: name.to_owned(),
                reply: format!("-ERR {text}"),
            }),
            Status::Continue(text) => Err(self.unexpected(&what, &format!("+ {text}"))),
        }
    }

    /// Reads a multi-line block up to its `.` line, dot-unstuffed, line ends kept. Fails with
    /// [`ProtoError::TooLarge`] past `max_bytes` (the rest stays unread: the client is then
    /// unusable).
    async fn multiline(
        &mut self,
        max_bytes: usize,
        what: &str,
        id: &str,
    ) -> Result<Vec<u8>, ProtoError> {
        let tolerances = self.options.tolerances;
        let mut out = Vec::new();
        let mut line = Vec::with_capacity(1024);
        loop {
            line.clear();
            // A line can be at most what is left of the budget, plus a stuffed dot and CRLF.
            let limit = max_bytes.saturating_sub(out.len()) + 3;
            match self.io.read_line_into(&mut line, limit, &tolerances).await {
                Ok(_) => {}
                Err(LineError::TooLong { .. }) => {
                    return Err(ProtoError::TooLarge {
                        id: id.to_owned(),
                        size: None,
                        max: max_bytes as u64,
                    });
                }
                Err(e) => return Err(self.line_error(what, e)),
            }
            if line == b".\r\n" || (tolerances.bare_lf && line == b".\n") {
                return Ok(out);
            }
            let content = line.strip_prefix(b".").unwrap_or(&line);
            if out.len() + content.len() > max_bytes {
                return Err(ProtoError::TooLarge {
                    id: id.to_owned(),
                    size: None,
                    max: max_bytes as u64,
                });
            }
            out.extend_from_slice(content);
        }
    }

    fn line_error(&self, what: &str, e: LineError) -> ProtoError {
        match e {
            LineError::Io(e) => self.peer.io(what, e),
            LineError::Eof { .. } => self.peer.closed(what),
            LineError::TooLong { start } => self
                .peer
                .protocol_error(format!("a line longer than allowed in {what}"), &start),
            LineError::BareLf { line } => self.peer.protocol_error(
                "a line ending in LF instead of CRLF (tolerance `bare_lf`)",
                &line,
            ),
        }
    }

    fn unexpected(&self, what: &str, line: &str) -> ProtoError {
        self.peer
            .protocol_error(format!("unexpected answer in {what}"), line.as_bytes())
    }
}

impl<S: TlsUpgrade> Pop3Client<S> {
    /// STLS (RFC 2595): asks for TLS, runs the handshake for the host given at [`greet`], then
    /// reads the capabilities again. Bytes the server sent after its `+OK` and before the
    /// handshake are refused (they would otherwise count as protected).
    ///
    /// [`greet`]: Pop3Client::greet
    pub async fn stls(mut self, tls: Arc<rustls::ClientConfig>) -> Result<Self, ProtoError> {
        if !self.capabilities.is_empty() && !self.has_capability("STLS") {
            return Err(self.peer.not_offered("STLS"));
        }
        self.busy.begin()?;
        match self.simple("STLS", "STLS").await {
            Ok(_) => {}
            Err(ProtoError::Rejected { .. }) => return Err(self.peer.not_offered("STLS")),
            Err(e) => return Err(e),
        }
        let timeout = self.options.timeout;
        self.io = starttls::upgrade(self.io, &self.peer, tls, timeout, "`+OK` to STLS").await?;
        self.busy.end();
        self.capa().await?;
        Ok(self)
    }
}
