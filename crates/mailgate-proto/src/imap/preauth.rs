//! IMAP before login, in-house: the greeting, CAPABILITY and STARTTLS. Simple line answers
//! only (a literal before login is refused), read through the shared line reader so nothing is
//! read past the tagged answer to STARTTLS.

use super::options::{Capabilities, ImapOptions};
use crate::busy::Busy;
use crate::dial::{Timed, TlsUpgrade};
use crate::error::{Peer, ProtoError};
use crate::lines::{LineError, LineReader};
use crate::starttls;
use mailgate_domain::troubleshoot::MailProtocol;
use std::sync::Arc;
use tokio::io::{AsyncRead, AsyncWrite};

/// A connection before login: greeting read, capabilities known, TLS done if asked.
pub struct ImapClient<S> {
    pub(super) io: LineReader<Timed<S>>,
    pub(super) peer: Peer,
    pub(super) options: ImapOptions,
    pub(super) greeting: String,
    pub(super) capabilities: Capabilities,
    pub(super) next_tag: u32,
    pub(super) busy: Busy,
}

impl<S> std::fmt::Debug for ImapClient<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ImapClient")
            .field("host", &self.peer.host)
            .field("port", &self.peer.port)
            .field("capabilities", &self.capabilities)
            .finish_non_exhaustive()
    }
}

/// The longest line accepted before login.
const MAX_LINE: usize = 64 * 1024;
/// The most bytes of untagged lines kept before a tagged answer (before login the server has
/// nothing to say at length: a few capability lines).
const MAX_UNTAGGED: usize = 256 * 1024;

/// A tagged answer: `OK`, `NO` or `BAD` and the whole line (the server's words).
struct Tagged {
    ok: bool,
    words: String,
}

impl<S: AsyncRead + AsyncWrite + Unpin> ImapClient<S> {
    /// Reads the greeting on a connected stream. `host` and `port` name the server in errors
    /// and are the TLS name for STARTTLS. Capabilities in the greeting (`[CAPABILITY ...]`)
    /// are kept.
    pub async fn greet(
        stream: S,
        host: &str,
        port: u16,
        options: ImapOptions,
    ) -> Result<Self, ProtoError> {
        let mut client = Self {
            io: LineReader::new(Timed::new(stream, options.timeout)),
            peer: Peer::new(host, port, MailProtocol::Imap),
            options,
            greeting: String::new(),
            capabilities: Capabilities::default(),
            next_tag: 1,
            busy: Busy::starting(),
        };
        let line = client.line("the greeting").await?;
        let (status, text) = untagged_status(&line).ok_or_else(|| {
            client
                .peer
                .protocol_error("expected `* OK` as greeting", line.as_bytes())
        })?;
        match status.as_str() {
            "OK" => {}
            "BYE" | "NO" => {
                return Err(ProtoError::Rejected {
                    protocol: MailProtocol::Imap,
                    command: "the connection".into(),
                    reply: format!("{status} {text}"),
                });
            }
            _ => {
                return Err(client.peer.protocol_error(
                    "a greeting other than `* OK` (PREAUTH connections are not supported)",
                    line.as_bytes(),
                ));
            }
        }
        if let Some(caps) = capability_code(&text) {
            client.capabilities = Capabilities::from_words(caps.split_ascii_whitespace());
        }
        client.greeting = text;
        client.busy.end();
        Ok(client)
    }

    /// The greeting's text after `* OK`.
    pub fn greeting(&self) -> &str {
        &self.greeting
    }

    pub fn capabilities(&self) -> &Capabilities {
        &self.capabilities
    }

    /// Asks for the capabilities.
    pub async fn capability(&mut self) -> Result<&Capabilities, ProtoError> {
        self.busy.begin()?;
        let (untagged, tagged) = self.command("CAPABILITY").await?;
        if !tagged.ok {
            self.busy.end();
            return Err(rejected("CAPABILITY", tagged));
        }
        let mut words = Vec::new();
        for line in &untagged {
            if let Some(rest) = strip_word(line.strip_prefix("* ").unwrap_or(line), "CAPABILITY") {
                words.extend(rest.split_ascii_whitespace().map(str::to_owned));
            }
        }
        self.capabilities = Capabilities::from_words(words.iter().map(String::as_str));
        self.busy.end();
        Ok(&self.capabilities)
    }

    /// Sends `command` with the next tag; returns the untagged lines and the tagged answer.
    async fn command(&mut self, command: &str) -> Result<(Vec<String>, Tagged), ProtoError> {
        let tag = format!("m{}", self.next_tag);
        self.next_tag += 1;
        let what = format!("the answer to {command}");
        self.io
            .send(format!("{tag} {command}").as_bytes())
            .await
            .map_err(|e| self.peer.io(&what, e))?;
        let (mut untagged, mut untagged_bytes) = (Vec::new(), 0);
        loop {
            let line = self.line(&what).await?;
            if let Some(rest) = line.strip_prefix(&format!("{tag} ")) {
                let status = rest
                    .split(' ')
                    .next()
                    .unwrap_or_default()
                    .to_ascii_uppercase();
                return match status.as_str() {
                    "OK" | "NO" | "BAD" => Ok((
                        untagged,
                        Tagged {
                            ok: status == "OK",
                            words: rest.to_owned(),
                        },
                    )),
                    _ => Err(self
                        .peer
                        .protocol_error(format!("a tagged answer to {command}"), line.as_bytes())),
                };
            }
            if let Some((status, text)) = untagged_status(&line)
                && status == "BYE"
            {
                return Err(ProtoError::Rejected {
                    protocol: MailProtocol::Imap,
                    command: command.to_owned(),
                    reply: format!("BYE {text}"),
                });
            }
            if !line.starts_with("* ") {
                return Err(self
                    .peer
                    .protocol_error(format!("an answer to {command}"), line.as_bytes()));
            }
            untagged_bytes += line.len();
            if untagged_bytes > MAX_UNTAGGED {
                return Err(self.peer.over_limit(
                    format!("bytes of untagged lines in {what}, before login"),
                    untagged_bytes as u64,
                    MAX_UNTAGGED as u64,
                ));
            }
            untagged.push(line);
        }
    }

    /// One line, without its line end; literals are refused.
    async fn line(&mut self, what: &str) -> Result<String, ProtoError> {
        let tolerances = self.options.tolerances;
        let line = self
            .io
            .read_line(MAX_LINE, &tolerances)
            .await
            .map_err(|e| match e {
                LineError::Io(e) => self.peer.io(what, e),
                LineError::Eof { .. } => self.peer.closed(what),
                LineError::TooLong { start } => self.peer.protocol_error(
                    format!("a line longer than {MAX_LINE} bytes in {what}"),
                    &start,
                ),
                LineError::BareLf { line } => self.peer.protocol_error(
                    "a line ending in LF instead of CRLF (tolerance `bare_lf`)",
                    &line,
                ),
            })?;
        if line.ends_with(b"}") && line.contains(&b'{') {
            return Err(self
                .peer
                .protocol_error(format!("a literal in {what}, before login"), &line));
        }
        String::from_utf8(line).map_err(|e| {
            self.peer
                .protocol_error(format!("text that is not UTF-8 in {what}"), e.as_bytes())
        })
    }

    /// Hands the stream over (to async-imap or to TLS); bytes read ahead are an error.
    pub(super) fn into_stream(
        self,
    ) -> Result<(Timed<S>, Peer, ImapOptions, Capabilities), ProtoError> {
        let (timed, rest) = self.io.into_parts();
        if !rest.is_empty() {
            return Err(self
                .peer
                .protocol_error("data the client did not ask for, before login", &rest));
        }
        Ok((timed, self.peer, self.options, self.capabilities))
    }
}

impl<S: TlsUpgrade> ImapClient<S> {
    /// STARTTLS (RFC 3501 6.2.1): asks for TLS, runs the handshake, then asks for the
    /// capabilities again (the ones from before TLS are discarded, as the RFC requires).
    pub async fn starttls(mut self, tls: Arc<rustls::ClientConfig>) -> Result<Self, ProtoError> {
        if self.capabilities.is_empty() {
            self.capability().await?;
        }
        if !self.capabilities.has("STARTTLS") {
            return Err(self.peer.not_offered("STARTTLS"));
        }
        self.busy.begin()?;
        let (_, tagged) = self.command("STARTTLS").await?;
        if !tagged.ok {
            return Err(self.peer.not_offered("STARTTLS"));
        }
        let timeout = self.options.timeout;
        self.io =
            starttls::upgrade(self.io, &self.peer, tls, timeout, "the OK to STARTTLS").await?;
        self.capabilities = Capabilities::default();
        self.busy.end();
        self.capability().await?;
        Ok(self)
    }
}

fn rejected(command: &str, tagged: Tagged) -> ProtoError {
    ProtoError::Rejected {
        protocol: MailProtocol::Imap,
        command: command.to_owned(),
        reply: tagged.words,
    }
}

/// `* OK text` -> (`OK`, `text`); `None` for anything else.
fn untagged_status(line: &str) -> Option<(String, String)> {
    let rest = line.strip_prefix("* ")?;
    let (status, text) = rest.split_once(' ').unwrap_or((rest, ""));
    let status = status.to_ascii_uppercase();
    matches!(status.as_str(), "OK" | "NO" | "BAD" | "BYE" | "PREAUTH")
        .then(|| (status, text.to_owned()))
}

/// The words of a `[CAPABILITY ...]` response code at the start of a status text.
fn capability_code(text: &str) -> Option<&str> {
    let inner = text.strip_prefix('[')?;
    let end = inner.find(']')?;
    strip_word(&inner[..end], "CAPABILITY")
}

/// `word rest` -> `rest` when the first word is `word` (case-insensitive).
fn strip_word<'a>(text: &'a str, word: &str) -> Option<&'a str> {
    let (first, rest) = text.split_once(' ').unwrap_or((text, ""));
    first.eq_ignore_ascii_case(word).then_some(rest)
}
