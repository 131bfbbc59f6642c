//! One error type for dialing, IMAP and POP3: each variant says what failed, carries the
//! server's own words when there are any, and answers the questions the callers decide on
//! (`is_transient`, `is_permanent`, `is_auth`, `is_timeout`) through the troubleshooting catalog,
//! so that a retry decision and the message an admin reads never disagree.
//!
//! Secrets never land here: server replies are scrubbed of the credential before they are
//! stored (see `Credentials::scrub`), and no variant holds a token or a password.

pub use mailgate_domain::troubleshoot::{Diagnosis, MailProtocol, ProviderKind, Severity};
use std::io;

mod diagnosis;
#[cfg(test)]
mod tests;

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ProtoError {
    /// The host name did not resolve.
    #[error("cannot resolve {host}: {detail}")]
    Dns { host: String, detail: String },
    /// The TCP connection was refused or the network is unreachable.
    #[error("cannot connect to {host}:{port}: {cause}")]
    Connect {
        host: String,
        port: u16,
        /// Printed in the message, so not a `source()`: a chain would print it twice.
        cause: io::Error,
    },
    /// Nothing came in time; `what` names what was awaited.
    #[error("{host}:{port} did not answer in time while mailgate waited for {what}")]
    Timeout {
        host: String,
        port: u16,
        what: String,
    },
    /// The TLS handshake failed (certificate, protocol mismatch...).
    #[error("TLS with {host} failed: {cause}")]
    Tls {
        host: String,
        /// Printed in the message, so not a `source()`: a chain would print it twice.
        cause: io::Error,
    },
    /// The proxy refused or failed to open the tunnel.
    #[error("the proxy {proxy} could not open a tunnel to {host}:{port}: {detail}")]
    Proxy {
        proxy: String,
        host: String,
        port: u16,
        detail: String,
    },
    /// The server closed the connection.
    #[error("{host}:{port} closed the connection while mailgate waited for {what}")]
    Closed {
        host: String,
        port: u16,
        what: String,
    },
    /// Another I/O failure on an open connection (reset, broken pipe...).
    #[error("I/O error with {host}:{port}: {cause}")]
    Io {
        host: String,
        port: u16,
        /// Printed in the message, so not a `source()`: a chain would print it twice.
        cause: io::Error,
    },
    /// The server refused the login. `reply` is its final answer (`NO [AUTHENTICATIONFAILED]
    /// ...`, `-ERR [AUTH] ...`); `challenge` the decoded SASL failure challenge, if it sent one.
    #[error("{} login with {mechanism} refused: {reply}", .protocol.display_name())]
    Auth {
        protocol: MailProtocol,
        mechanism: &'static str,
        reply: String,
        challenge: Option<String>,
    },
    /// The server refused a command after login (`NO`, `BAD`, `-ERR`).
    #[error("the {} server refused {command}: {reply}", .protocol.display_name())]
    Rejected {
        protocol: MailProtocol,
        command: String,
        reply: String,
    },
    /// The server does not offer something mailgate needs (STARTTLS, a SASL mechanism).
    #[error("the {} server at {host} does not offer {what}", .protocol.display_name())]
    NotOffered {
        protocol: MailProtocol,
        host: String,
        what: String,
    },
    /// The server answered something that does not follow the protocol. `line` is what it sent
    /// (cut short); `detail` says what was expected, and names the tolerance switch that would
    /// accept it when there is one.
    #[error("the {} server at {host} answered something mailgate does not understand ({detail}): {line:?}", .protocol.display_name())]
    Protocol {
        protocol: MailProtocol,
        host: String,
        detail: String,
        line: String,
    },
    /// The server sent more than mailgate holds for one answer (a literal, the text of one
    /// response, a list of UIDs): a broken or hostile server. The bytes were not kept and the
    /// connection is not read further.
    #[error("the {} server at {host} sent {size} {what}, over the limit of {limit}", .protocol.display_name())]
    OverLimit {
        protocol: MailProtocol,
        host: String,
        what: String,
        size: u64,
        limit: u64,
    },
    /// A message is larger than the cap the caller set; `size` is the server's figure if known.
    #[error("message {id} is larger than the {max} bytes allowed{}", .size.map(|s| format!(" ({s} bytes)")).unwrap_or_default())]
    TooLarge {
        id: String,
        size: Option<u64>,
        max: u64,
    },
    /// The message is gone (another client deleted it meanwhile).
    #[error("message {id} no longer exists on the server")]
    NoSuchMessage { id: String },
    /// An earlier command failed half-way or was cancelled: the connection's state is unknown.
    #[error(
        "the connection can no longer be used after an earlier failure or an interrupted command; connect again"
    )]
    Unusable,
    /// The caller passed something that cannot be sent (a folder name with a line break...).
    #[error("invalid input: {0}")]
    InvalidInput(String),
}

impl ProtoError {
    /// Retry later, with backoff; nothing needs to change. For an auth error this includes a
    /// refused access token: refresh it and retry once (then see
    /// [`Diagnosis::after_fresh_token`]).
    pub fn is_transient(&self) -> bool {
        self.diagnosis(ProviderKind::Generic).severity == Severity::Transient
    }

    /// Retrying the same thing will fail the same way: a configuration, a certificate or a
    /// grant must change first (see [`Diagnosis::needs_reauthorization`]).
    pub fn is_permanent(&self) -> bool {
        !self.is_transient()
    }

    /// The server refused the credentials (or the token). A login answered with a response
    /// code that says the credentials were not judged (POP3 `[IN-USE]` and `[SYS/TEMP]`, IMAP
    /// `[UNAVAILABLE]`) is [`ProtoError::Rejected`] instead, as the clients report it.
    pub fn is_auth(&self) -> bool {
        matches!(self, ProtoError::Auth { .. })
    }

    pub fn is_timeout(&self) -> bool {
        matches!(self, ProtoError::Timeout { .. })
    }

    /// The server's own words, when the error comes from a reply.
    pub fn server_reply(&self) -> Option<&str> {
        match self {
            ProtoError::Auth { reply, .. } | ProtoError::Rejected { reply, .. } => Some(reply),
            ProtoError::Protocol { line, .. } => Some(line),
            _ => None,
        }
    }

    /// The decoded SASL failure challenge (JSON), when the server sent one.
    pub fn sasl_challenge(&self) -> Option<&str> {
        match self {
            ProtoError::Auth { challenge, .. } => challenge.as_deref(),
            _ => None,
        }
    }

    /// The `status` of the SASL failure challenge (`"401"`, `"400"`, `"invalid_token"`).
    pub fn sasl_status(&self) -> Option<String> {
        self.sasl_challenge()
            .and_then(crate::sasl::challenge_status)
    }
}

/// Where an I/O error happened, to turn it into a [`ProtoError`].
#[derive(Debug, Clone)]
pub(crate) struct Peer {
    pub host: String,
    pub port: u16,
    pub protocol: MailProtocol,
}

impl Peer {
    pub fn new(host: impl Into<String>, port: u16, protocol: MailProtocol) -> Self {
        Self {
            host: host.into(),
            port,
            protocol,
        }
    }

    /// An I/O error while waiting for `what` (`"the greeting"`, `"the answer to RETR"`).
    pub fn io(&self, what: &str, e: io::Error) -> ProtoError {
        match e.kind() {
            io::ErrorKind::TimedOut => ProtoError::Timeout {
                host: self.host.clone(),
                port: self.port,
                what: what.to_owned(),
            },
            io::ErrorKind::UnexpectedEof
            | io::ErrorKind::ConnectionReset
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::BrokenPipe => self.closed(what),
            _ => ProtoError::Io {
                host: self.host.clone(),
                port: self.port,
                cause: e,
            },
        }
    }

    pub fn closed(&self, what: &str) -> ProtoError {
        ProtoError::Closed {
            host: self.host.clone(),
            port: self.port,
            what: what.to_owned(),
        }
    }

    pub fn protocol_error(&self, detail: impl Into<String>, line: &[u8]) -> ProtoError {
        ProtoError::Protocol {
            protocol: self.protocol,
            host: self.host.clone(),
            detail: detail.into(),
            line: String::from_utf8_lossy(&line[..line.len().min(200)])
                .trim_end_matches(['\r', '\n'])
                .to_owned(),
        }
    }

    /// `size` of `what` (`"bytes in one literal"`, `"UIDs in one listing"`), over `limit`.
    pub fn over_limit(&self, what: impl Into<String>, size: u64, limit: u64) -> ProtoError {
        ProtoError::OverLimit {
            protocol: self.protocol,
            host: self.host.clone(),
            what: what.into(),
            size,
            limit,
        }
    }

    pub fn not_offered(&self, what: impl Into<String>) -> ProtoError {
        ProtoError::NotOffered {
            protocol: self.protocol,
            host: self.host.clone(),
            what: what.into(),
        }
    }
}
