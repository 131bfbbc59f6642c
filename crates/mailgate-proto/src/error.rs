//! One error type for dialing, IMAP and POP3: each variant says what failed, carries the
//! server's own words when there are any, and answers the questions the callers decide on
//! (`is_transient`, `is_permanent`, `is_auth`, `is_timeout`) through the troubleshooting catalog,
//! so that a retry decision and the message an admin reads never disagree.
//!
//! Secrets never land here: server replies are scrubbed of the credential before they are
//! stored (see `Credentials::scrub`), and no variant holds a token or a password.

use mailgate_domain::troubleshoot::{
    Code, TransportFailure, auth_reply, sasl_failure, smtp_reply, transport_error,
};
pub use mailgate_domain::troubleshoot::{Diagnosis, MailProtocol, ProviderKind, Severity};
use std::io;

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

    /// What went wrong and how to fix it, through the troubleshooting catalog.
    pub fn diagnosis(&self, provider: ProviderKind) -> Diagnosis {
        match self {
            ProtoError::Dns { host, .. } => {
                transport_error(TransportFailure::Dns { host: host.clone() })
            }
            ProtoError::Connect { host, port, .. } => transport_error(TransportFailure::Refused {
                host: host.clone(),
                port: *port,
            }),
            ProtoError::Timeout { host, port, what } => {
                transport_error(TransportFailure::Timeout {
                    host: host.clone(),
                    port: *port,
                    what: what.clone(),
                })
            }
            ProtoError::Tls { host, cause } => transport_error(tls_failure(host, cause)),
            ProtoError::Proxy { detail, .. } => transport_error(TransportFailure::Proxy {
                detail: detail.clone(),
            }),
            ProtoError::Closed { host, .. } | ProtoError::Io { host, .. } => {
                transport_error(TransportFailure::Closed { host: host.clone() })
            }
            ProtoError::Auth {
                protocol,
                mechanism,
                reply,
                challenge,
            } => {
                if *mechanism == "XOAUTH2" || *mechanism == "OAUTHBEARER" {
                    sasl_failure(provider, *protocol, challenge.as_deref(), reply)
                } else {
                    auth_reply(*protocol, reply)
                }
            }
            ProtoError::Rejected {
                protocol,
                command,
                reply,
            } => {
                if *protocol == MailProtocol::Smtp {
                    return smtp_reply(command, reply);
                }
                let known = auth_reply(*protocol, reply);
                if known.code != "auth_failed" {
                    return known;
                }
                Diagnosis::new(
                    Code::MailboxNotAccessible,
                    format!(
                        "The {} server refused {command}: \"{}\".",
                        protocol.display_name(),
                        short(reply)
                    ),
                    "Check that the folder exists and that the account may read and change it (Gmail: the label is shown in IMAP); the server's words above say more.",
                )
            }
            ProtoError::NotOffered {
                protocol,
                host,
                what,
            } => {
                if what.contains("UID EXPUNGE") {
                    Diagnosis::new(
                        Code::MailboxNotAccessible,
                        format!(
                            "The {} server at {host} does not offer {what}. mailgate leaves the mail in place.",
                            protocol.display_name()
                        ),
                        "Set the server's after_import to mark_seen or leave (or move, if the server offers MOVE); or enable UIDPLUS on the server.",
                    )
                } else if what.contains("TLS") || what == "STLS" {
                    transport_error(TransportFailure::Tls {
                        host: host.clone(),
                        detail: format!(
                            "the {} server does not offer {what}",
                            protocol.display_name()
                        ),
                    })
                } else {
                    Diagnosis::new(
                        Code::AuthMechanismUnsupported,
                        format!(
                            "The {} server at {host} does not offer {what}.",
                            protocol.display_name()
                        ),
                        "Check the host and port: OAuth works with imap.gmail.com, pop.gmail.com, outlook.office365.com; use auth basic for a server without XOAUTH2 or OAUTHBEARER.",
                    )
                }
            }
            ProtoError::Protocol {
                protocol,
                host,
                detail,
                line,
            } => Diagnosis::new(
                // The connection is dropped after a reply mailgate cannot read; the catalog has
                // no closer code than "closed" (and its hint covers the usual cause: a port
                // that speaks another protocol or another security).
                Code::ConnectionClosed,
                format!(
                    "The {} server at {host} answered something mailgate does not understand ({detail}): \"{}\". mailgate closed the connection.",
                    protocol.display_name(),
                    short(line)
                ),
                "If it happens on every attempt, check that the port speaks this protocol and that the security setting matches it (IMAP 993 ssl or 143 starttls, POP3 995 ssl or 110 starttls). mailgate reconnects with backoff meanwhile.",
            ),
            ProtoError::OverLimit {
                protocol,
                host,
                what,
                size,
                limit,
            } => Diagnosis::new(
                Code::ConnectionClosed,
                format!(
                    "The {} server at {host} sent {size} {what}, more than the {limit} mailgate accepts. mailgate closed the connection without reading it.",
                    protocol.display_name()
                ),
                "A server sends this only when it is broken or hostile: check the host and port. For message bodies the limit follows receive.max_message_bytes. mailgate reconnects with backoff meanwhile.",
            ),
            ProtoError::TooLarge { id, size, max } => Diagnosis::new(
                Code::MessageTooLarge,
                format!(
                    "Message {id} is larger than the {max} bytes mailgate accepts{}.",
                    size.map(|s| format!(" ({s} bytes)")).unwrap_or_default()
                ),
                "Raise the server's maximum message size in mailgate if such messages must become tickets; otherwise the message is skipped.",
            ),
            ProtoError::NoSuchMessage { id } => Diagnosis::new(
                Code::ServiceUnavailable,
                format!(
                    "Message {id} disappeared while mailgate read it (another client moved or deleted it)."
                ),
                "Nothing to do: the next pass of the mailbox no longer lists it.",
            ),
            ProtoError::Unusable => Diagnosis::new(
                Code::ConnectionClosed,
                "The connection was dropped after an earlier failure or an interrupted command.",
                "Nothing to do: mailgate connects again.",
            ),
            ProtoError::InvalidInput(what) => Diagnosis::new(
                Code::MailboxNotAccessible,
                format!("mailgate cannot send this to the server: {what}."),
                "Fix the folder name in the server's settings (no line breaks).",
            ),
        }
    }
}

/// At most 200 characters of server text for sentences.
fn short(text: &str) -> String {
    text.chars().take(200).collect()
}

/// Classifies a TLS handshake error by the rustls error inside it.
fn tls_failure(host: &str, source: &io::Error) -> TransportFailure {
    use rustls::CertificateError as C;
    let host = host.to_owned();
    let rustls_error = source
        .get_ref()
        .and_then(|e| e.downcast_ref::<rustls::Error>());
    match rustls_error {
        Some(rustls::Error::InvalidCertificate(cert)) => match cert {
            C::UnknownIssuer | C::BadSignature => TransportFailure::TlsUnknownIssuer { host },
            C::NotValidForName | C::NotValidForNameContext { .. } => {
                TransportFailure::TlsNameMismatch { host }
            }
            C::Expired
            | C::ExpiredContext { .. }
            | C::NotValidYet
            | C::NotValidYetContext { .. } => TransportFailure::TlsExpired { host },
            other => TransportFailure::Tls {
                host,
                detail: format!("{other:?}"),
            },
        },
        Some(other) => TransportFailure::Tls {
            host,
            detail: other.to_string(),
        },
        None => TransportFailure::Tls {
            host,
            detail: source.to_string(),
        },
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

#[cfg(test)]
mod tests {
    use super::*;
    use mailgate_domain::troubleshoot::lookup;

    /// The error and its causes as a person reads them: each `source()` after a `: `.
    fn chain(e: &dyn std::error::Error) -> String {
        let mut out = e.to_string();
        let mut source = e.source();
        while let Some(cause) = source {
            out.push_str(": ");
            out.push_str(&cause.to_string());
            source = cause.source();
        }
        out
    }

    #[test]
    fn an_error_chain_names_each_cause_once() {
        let refused = || io::Error::new(io::ErrorKind::ConnectionRefused, "Connection refused");
        let errors: Vec<Box<dyn std::error::Error>> = vec![
            Box::new(ProtoError::Connect {
                host: "mail.example.com".into(),
                port: 993,
                cause: refused(),
            }),
            Box::new(ProtoError::Tls {
                host: "mail.example.com".into(),
                cause: refused(),
            }),
            Box::new(ProtoError::Io {
                host: "mail.example.com".into(),
                port: 993,
                cause: refused(),
            }),
            Box::new(crate::gmail::GmailError::Transport(ProtoError::Connect {
                host: "gmail.googleapis.com".into(),
                port: 443,
                cause: refused(),
            })),
            Box::new(crate::tls::TlsConfigError::Read {
                path: "/etc/ca.pem".into(),
                cause: refused(),
            }),
        ];
        for e in errors {
            let text = chain(e.as_ref());
            assert_eq!(text.matches("Connection refused").count(), 1, "{text}");
        }
    }

    fn peer() -> Peer {
        Peer::new("imap.example.test", 993, MailProtocol::Imap)
    }

    #[test]
    fn every_variant_produces_a_catalog_diagnosis_and_a_decision() {
        let auth = ProtoError::Auth {
            protocol: MailProtocol::Imap,
            mechanism: "XOAUTH2",
            reply: "NO [AUTHENTICATIONFAILED] Authentication failed.".into(),
            challenge: Some(r#"{"status":"401","schemes":"bearer","scope":"mail"}"#.into()),
        };
        let d = auth.diagnosis(ProviderKind::Google);
        assert_eq!(d.code, "access_token_rejected");
        assert!(auth.is_auth() && auth.is_transient() && !auth.is_timeout());
        assert_eq!(auth.sasl_status().as_deref(), Some("401"));

        let scope = ProtoError::Auth {
            protocol: MailProtocol::Pop3,
            mechanism: "XOAUTH2",
            reply: "-ERR [AUTH] Authentication failed.".into(),
            challenge: Some(
                r#"{"status":"400","schemes":"Bearer","scope":"https://mail.google.com/"}"#.into(),
            ),
        };
        assert_eq!(
            scope.diagnosis(ProviderKind::Google).code,
            "token_scope_insufficient"
        );
        assert!(scope.is_permanent());

        let temp = ProtoError::Auth {
            protocol: MailProtocol::Imap,
            mechanism: "XOAUTH2",
            reply: "NO [UNAVAILABLE] Temporary authentication failure.".into(),
            challenge: None,
        };
        assert!(temp.is_transient());

        let password = ProtoError::Auth {
            protocol: MailProtocol::Imap,
            mechanism: "PLAIN",
            reply: "NO [AUTHENTICATIONFAILED] Authentication failed.".into(),
            challenge: None,
        };
        assert_eq!(
            password.diagnosis(ProviderKind::Generic).code,
            "auth_failed"
        );

        let timeout = peer().io(
            "the greeting",
            io::Error::new(io::ErrorKind::TimedOut, "no data"),
        );
        assert!(timeout.is_timeout() && timeout.is_transient());
        assert_eq!(
            timeout.diagnosis(ProviderKind::Generic).code,
            "connection_timeout"
        );

        let closed = peer().io("an answer", io::ErrorKind::UnexpectedEof.into());
        assert_eq!(
            closed.diagnosis(ProviderKind::Generic).code,
            "connection_closed"
        );

        let garbage = peer().protocol_error("expected `* OK`", b"HTTP/1.1 400 Bad Request\r\n");
        assert!(garbage.to_string().contains("HTTP/1.1 400"), "{garbage}");
        assert!(garbage.server_reply().is_some());

        let stls = peer().not_offered("STARTTLS");
        assert_eq!(
            stls.diagnosis(ProviderKind::Generic).code,
            "tls_handshake_failed"
        );
        assert!(stls.is_permanent());
        let mech = peer().not_offered("AUTH=XOAUTH2");
        assert_eq!(
            mech.diagnosis(ProviderKind::Generic).code,
            "auth_mechanism_unsupported"
        );

        let big = ProtoError::TooLarge {
            id: "7".into(),
            size: Some(100),
            max: 10,
        };
        assert_eq!(
            big.diagnosis(ProviderKind::Generic).code,
            "message_too_large"
        );
        assert!(big.is_permanent());

        let busy = ProtoError::Rejected {
            protocol: MailProtocol::Pop3,
            command: "PASS".into(),
            reply: "-ERR [IN-USE] Mailbox is locked by another POP3 session.".into(),
        };
        assert_eq!(
            busy.diagnosis(ProviderKind::Generic).code,
            "pop_mailbox_in_use"
        );
        assert!(busy.is_transient());

        let missing = ProtoError::Rejected {
            protocol: MailProtocol::Imap,
            command: "SELECT Tickets".into(),
            reply: "NO [NONEXISTENT] Mailbox doesn't exist: Tickets".into(),
        };
        assert_eq!(
            missing.diagnosis(ProviderKind::Generic).code,
            "mailbox_not_accessible"
        );

        for e in [
            ProtoError::Unusable,
            ProtoError::NoSuchMessage { id: "1".into() },
            ProtoError::InvalidInput("x".into()),
        ] {
            // Every code used here exists in the catalog.
            let d = e.diagnosis(ProviderKind::Generic);
            assert!(lookup(d.code.as_str()).is_some(), "{}", d.code);
        }
    }

    #[test]
    fn tls_errors_are_classified_by_the_certificate_problem() {
        let wrap = |e: rustls::Error| io::Error::new(io::ErrorKind::InvalidData, e);
        let code = |e: rustls::Error| {
            ProtoError::Tls {
                host: "h".into(),
                cause: wrap(e),
            }
            .diagnosis(ProviderKind::Generic)
            .code
        };
        assert_eq!(
            code(rustls::Error::InvalidCertificate(
                rustls::CertificateError::UnknownIssuer
            )),
            "tls_untrusted_certificate"
        );
        assert_eq!(
            code(rustls::Error::InvalidCertificate(
                rustls::CertificateError::NotValidForName
            )),
            "tls_name_mismatch"
        );
        assert_eq!(
            code(rustls::Error::InvalidCertificate(
                rustls::CertificateError::Expired
            )),
            "tls_certificate_expired"
        );
        assert_eq!(
            code(rustls::Error::General("boom".into())),
            "tls_handshake_failed"
        );
    }
}
