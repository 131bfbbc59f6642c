//! An in-house SMTP submission client (RFC 5321, EHLO extensions, STARTTLS from RFC 3207, AUTH
//! from RFC 4954), generic over the byte stream: greeting, EHLO (HELO when EHLO is refused),
//! STARTTLS, AUTH XOAUTH2 / OAUTHBEARER / PLAIN / LOGIN, MAIL / RCPT / DATA with PIPELINING,
//! SIZE, 8BITMIME and SMTPUTF8, RSET, NOOP, QUIT.
//!
//! Not lettre: it loses the XOAUTH2 failure challenge, has no OAUTHBEARER, fixes the
//! credentials when the transport is built, and its pool cannot dial through a proxy.
//!
//! Every read and write has the inactivity timeout of [`SmtpOptions::timeout`]. A command that
//! fails half-way (timeout, dropped connection, garbage), a `421` (the server is closing) and a
//! command future dropped before it ended leave the client unusable: later calls fail with
//! [`ProtoError::Unusable`]. A plain refusal (4xx, 5xx) does not: the client resets the
//! transaction and can send again.

mod auth;
mod data;
mod reply;
mod send;
#[cfg(test)]
mod tests;

pub use reply::SmtpReply;
pub use send::{Delivery, Envelope};

use crate::busy::Busy;
use crate::dial::{self, Endpoint, MailStream, Security, Timed, TlsUpgrade};
use crate::error::{Peer, ProtoError};
use crate::lines::{LineError, LineReader, Tolerances};
use crate::starttls;
use mailgate_domain::troubleshoot::MailProtocol;
use reply::ReplyBuilder;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite};

/// How the client treats the server.
#[derive(Debug, Clone)]
pub struct SmtpOptions {
    /// Inactivity timeout of every read and write.
    pub timeout: Duration,
    /// The name mailgate gives itself in EHLO / HELO (a host name or an address literal such
    /// as `[192.0.2.1]`).
    pub ehlo_name: String,
    pub tolerances: Tolerances,
}

impl SmtpOptions {
    pub fn new(timeout: Duration, ehlo_name: impl Into<String>) -> Self {
        Self {
            timeout,
            ehlo_name: ehlo_name.into(),
            tolerances: Tolerances::default(),
        }
    }
}

/// The longest reply line accepted (RFC 5321 says 512 octets; servers write longer texts).
const MAX_REPLY_LINE: usize = 8 * 1024;

/// An SMTP connection, before or after login.
pub struct SmtpClient<S> {
    io: LineReader<Timed<S>>,
    peer: Peer,
    options: SmtpOptions,
    greeting: SmtpReply,
    /// The EHLO reply's lines after the first; empty after HELO.
    capabilities: Vec<String>,
    authenticated: bool,
    busy: Busy,
    /// The server said 421 (it is closing), or the reset after a refusal failed: the client
    /// stays unusable even though the last error was a clean refusal.
    broken: bool,
    /// The last transaction's message went out (its end may have reached the server).
    message_sent: bool,
}

impl<S> std::fmt::Debug for SmtpClient<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmtpClient")
            .field("host", &self.peer.host)
            .field("port", &self.peer.port)
            .field("authenticated", &self.authenticated)
            .field("usable", &self.is_usable())
            .finish_non_exhaustive()
    }
}

/// Dials `ep` (proxy, implicit TLS), reads the greeting, says EHLO, and for
/// [`Security::Starttls`] upgrades with STARTTLS and says EHLO again. A server that does not
/// offer STARTTLS there is refused ([`ProtoError::NotOffered`]): nothing goes out in clear.
pub async fn connect(
    ep: &Endpoint,
    tls: Arc<rustls::ClientConfig>,
    options: SmtpOptions,
) -> Result<SmtpClient<MailStream>, ProtoError> {
    let stream = dial::connect(ep, tls.clone(), options.timeout).await?;
    let client = SmtpClient::greet(stream, &ep.host, ep.port, options).await?;
    match ep.security {
        Security::Starttls => client.starttls(tls).await,
        Security::Ssl | Security::None => Ok(client),
    }
}

impl<S> SmtpClient<S> {
    /// The greeting (`220 mail.example.test ESMTP ...`).
    pub fn greeting(&self) -> &SmtpReply {
        &self.greeting
    }

    /// The extensions the last EHLO listed (`PIPELINING`, `SIZE 35882577`, `AUTH PLAIN
    /// XOAUTH2`...); empty when the server only knows HELO.
    pub fn capabilities(&self) -> &[String] {
        &self.capabilities
    }

    /// True when EHLO listed `keyword` (case-insensitive, first word of a line).
    pub fn has_capability(&self, keyword: &str) -> bool {
        self.capability(keyword).is_some()
    }

    /// The SASL mechanisms EHLO listed, upper case. Reads `AUTH PLAIN LOGIN` and the old
    /// `AUTH=PLAIN LOGIN` form some servers still send beside it.
    pub fn auth_mechanisms(&self) -> Vec<String> {
        let mut mechanisms: Vec<String> = Vec::new();
        for line in &self.capabilities {
            let Some(rest) = strip_keyword(line, "AUTH").or_else(|| strip_keyword(line, "AUTH="))
            else {
                continue;
            };
            for m in rest.split_ascii_whitespace().map(str::to_ascii_uppercase) {
                if !mechanisms.contains(&m) {
                    mechanisms.push(m);
                }
            }
        }
        mechanisms
    }

    /// The largest message the server accepts (`SIZE n`), if it says; `SIZE 0` means no limit.
    pub fn max_size(&self) -> Option<u64> {
        self.capability("SIZE")?
            .trim()
            .parse()
            .ok()
            .filter(|&n| n > 0)
    }

    /// False after a command failed half-way or the server said 421: connect again.
    pub fn is_usable(&self) -> bool {
        !self.busy.is_set() && !self.broken
    }

    pub fn is_authenticated(&self) -> bool {
        self.authenticated
    }

    /// The parameters of the capability line `keyword`.
    fn capability(&self, keyword: &str) -> Option<&str> {
        self.capabilities
            .iter()
            .find_map(|line| strip_keyword(line, keyword))
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> SmtpClient<S> {
    /// Reads the server's greeting on a connected stream and says EHLO. `host` and `port` only
    /// name the server in errors (and are the TLS name for STARTTLS).
    pub async fn greet(
        stream: S,
        host: &str,
        port: u16,
        options: SmtpOptions,
    ) -> Result<Self, ProtoError> {
        check_ehlo_name(&options.ehlo_name)?;
        let mut client = Self {
            io: LineReader::new(Timed::new(stream, options.timeout)),
            peer: Peer::new(host, port, MailProtocol::Smtp),
            options,
            greeting: SmtpReply {
                code: 0,
                enhanced: None,
                text: String::new(),
            },
            capabilities: Vec::new(),
            authenticated: false,
            busy: Busy::starting(),
            broken: false,
            message_sent: false,
        };
        let greeting = client.read_reply("the greeting").await?;
        client.greeting = client.expect(greeting, 2, "the connection")?;
        client.ehlo().await?;
        client.busy.end();
        Ok(client)
    }

    /// `RSET`: abandons the current transaction.
    pub async fn reset(&mut self) -> Result<(), ProtoError> {
        self.run(async |c| c.command("RSET", "RSET", 2).await.map(drop))
            .await
    }

    /// `NOOP`: checks that the server still answers (before reusing a pooled connection).
    pub async fn noop(&mut self) -> Result<(), ProtoError> {
        self.run(async |c| c.command("NOOP", "NOOP", 2).await.map(drop))
            .await
    }

    /// `QUIT`: ends the session politely.
    pub async fn quit(mut self) -> Result<(), ProtoError> {
        self.run(async |c| c.command("QUIT", "QUIT", 2).await.map(drop))
            .await
    }

    /// `EHLO` again (after STARTTLS: the server forgot what it knew), reading the capabilities
    /// anew. A failure leaves the client unusable.
    pub async fn ehlo_again(&mut self) -> Result<(), ProtoError> {
        self.begin()?;
        self.ehlo().await?;
        self.busy.end();
        Ok(())
    }

    /// `EHLO`, or `HELO` when the server refuses EHLO with a 5xx (an RFC 821 server).
    async fn ehlo(&mut self) -> Result<(), ProtoError> {
        let name = self.options.ehlo_name.clone();
        let reply = self.exchange(&format!("EHLO {name}"), "EHLO").await?;
        if reply.is_permanent() {
            self.command(&format!("HELO {name}"), "HELO", 2).await?;
            self.capabilities.clear();
            return Ok(());
        }
        let reply = self.expect(reply, 2, "EHLO")?;
        self.capabilities = reply.lines().skip(1).map(str::to_owned).collect();
        Ok(())
    }

    /// Runs a command to completion; a refusal leaves the client usable, anything else that
    /// fails (a half-read answer, a timeout) keeps it marked busy.
    async fn run<T>(
        &mut self,
        op: impl AsyncFnOnce(&mut Self) -> Result<T, ProtoError>,
    ) -> Result<T, ProtoError> {
        self.begin()?;
        let result = op(self).await;
        self.busy.settle(&result, |e| {
            matches!(e, ProtoError::Rejected { .. } | ProtoError::Auth { .. })
        });
        result
    }

    /// Marks a command as running; fails when an earlier one did not finish or the server
    /// is closing.
    fn begin(&mut self) -> Result<(), ProtoError> {
        if self.broken {
            return Err(ProtoError::Unusable);
        }
        self.busy.begin()
    }

    /// Sends `line` and reads the reply, which must be of class `want` (2 or 3); `name` is
    /// the command without secrets, for errors.
    async fn command(
        &mut self,
        line: &str,
        name: &str,
        want: u16,
    ) -> Result<SmtpReply, ProtoError> {
        let reply = self.exchange(line, name).await?;
        self.expect(reply, want, name)
    }

    /// Sends `line` and reads the reply, whatever it is.
    async fn exchange(&mut self, line: &str, name: &str) -> Result<SmtpReply, ProtoError> {
        let what = format!("the answer to {name}");
        self.send_line(line, &what).await?;
        self.read_reply(&what).await
    }

    /// Sends a line (or lines joined with CRLF, for PIPELINING); `what` names the awaited
    /// answer in errors, which never quote the line (it may hold a secret).
    async fn send_line(&mut self, line: &str, what: &str) -> Result<(), ProtoError> {
        self.io
            .send(line.as_bytes())
            .await
            .map_err(|e| self.peer.io(what, e))
    }

    /// Reads one reply (all its lines); `what` names it in errors.
    async fn read_reply(&mut self, what: &str) -> Result<SmtpReply, ProtoError> {
        let tolerances = self.options.tolerances;
        let mut builder = ReplyBuilder::default();
        loop {
            let line = self
                .io
                .read_line(MAX_REPLY_LINE, &tolerances)
                .await
                .map_err(|e| self.line_error(what, e))?;
            match builder.push(&line) {
                Ok(Some(reply)) => return Ok(reply),
                Ok(None) => {}
                Err(detail) => {
                    return Err(self
                        .peer
                        .protocol_error(format!("{detail} in {what}"), &line));
                }
            }
        }
    }

    /// `reply` if its class is `want`; a 4xx / 5xx is [`ProtoError::Rejected`] naming
    /// `command` (and a 421 breaks the client: the server is closing the connection); any
    /// other code does not follow the protocol.
    fn expect(
        &mut self,
        reply: SmtpReply,
        want: u16,
        command: &str,
    ) -> Result<SmtpReply, ProtoError> {
        if reply.code / 100 == want {
            return Ok(reply);
        }
        if reply.is_transient() || reply.is_permanent() {
            return Err(self.refused(command, &reply));
        }
        Err(self.peer.protocol_error(
            format!("an unexpected reply to {command}"),
            reply.to_string().as_bytes(),
        ))
    }

    /// A refusal of `command`.
    fn refused(&mut self, command: &str, reply: &SmtpReply) -> ProtoError {
        if reply.code == 421 {
            self.broken = true;
        }
        ProtoError::Rejected {
            protocol: MailProtocol::Smtp,
            command: command.to_owned(),
            reply: reply.to_string(),
        }
    }

    fn line_error(&self, what: &str, e: LineError) -> ProtoError {
        match e {
            LineError::Io(e) => self.peer.io(what, e),
            LineError::Eof { .. } => self.peer.closed(what),
            LineError::TooLong { start } => self.peer.protocol_error(
                format!("a reply line longer than {MAX_REPLY_LINE} bytes in {what}"),
                &start,
            ),
            LineError::BareLf { line } => self.peer.protocol_error(
                format!(
                    "a reply line ending in LF instead of CRLF in {what} (tolerance `bare_lf`)"
                ),
                &line,
            ),
        }
    }
}

impl<S: TlsUpgrade> SmtpClient<S> {
    /// STARTTLS (RFC 3207): asks for TLS, runs the handshake for the host given at [`greet`],
    /// then says EHLO again (the server forgets what it knew). Refused when EHLO did not offer
    /// STARTTLS. Bytes the server sent after its `220` and before the handshake are refused
    /// (they would otherwise count as protected: CVE-2011-0411).
    ///
    /// [`greet`]: SmtpClient::greet
    pub async fn starttls(self, tls: Arc<rustls::ClientConfig>) -> Result<Self, ProtoError> {
        let mut client = self.starttls_without_ehlo(tls).await?;
        client.ehlo_again().await?;
        Ok(client)
    }

    /// [`SmtpClient::starttls`] without the EHLO that follows the handshake: the client knows
    /// no capabilities until [`SmtpClient::ehlo_again`]. Test Connection reports the two apart.
    pub async fn starttls_without_ehlo(
        mut self,
        tls: Arc<rustls::ClientConfig>,
    ) -> Result<Self, ProtoError> {
        if !self.has_capability("STARTTLS") {
            return Err(self.peer.not_offered("STARTTLS"));
        }
        self.begin()?;
        match self.command("STARTTLS", "STARTTLS", 2).await {
            Ok(_) => {}
            Err(ProtoError::Rejected { reply, .. }) if reply.starts_with('5') => {
                return Err(self.peer.not_offered("STARTTLS"));
            }
            Err(e) => return Err(e),
        }
        let timeout = self.options.timeout;
        self.io = starttls::upgrade(self.io, &self.peer, tls, timeout, "`220` to STARTTLS").await?;
        self.capabilities.clear();
        self.busy.end();
        Ok(self)
    }
}

/// The rest of `line` when its first word is `keyword` (case-insensitive). `AUTH=` matches
/// `AUTH=PLAIN LOGIN` and gives `PLAIN LOGIN`.
fn strip_keyword<'a>(line: &'a str, keyword: &str) -> Option<&'a str> {
    let head = line.get(..keyword.len())?;
    let rest = &line[keyword.len()..];
    let ends_word = keyword.ends_with('=') || rest.is_empty() || rest.starts_with(' ');
    (head.eq_ignore_ascii_case(keyword) && ends_word).then(|| rest.trim_start())
}

/// The EHLO name goes on the command line: a host name or an address literal, nothing that
/// could end the line or add a command.
fn check_ehlo_name(name: &str) -> Result<(), ProtoError> {
    let allowed = |b: u8| b.is_ascii_alphanumeric() || b"-._[]:".contains(&b);
    if name.is_empty() || name.len() > 255 || !name.bytes().all(allowed) {
        return Err(ProtoError::InvalidInput(format!(
            "the EHLO name {name:?} is not a host name or an address literal"
        )));
    }
    Ok(())
}
