//! What a [`ProtoError`] means to a person: the troubleshooting catalog's entry, with the
//! server's words and the fix.

use super::ProtoError;
use mailgate_domain::troubleshoot::{
    Code, Diagnosis, MailProtocol, ProviderKind, TransportFailure, auth_reply, sasl_failure,
    smtp_reply, transport_error,
};
use std::io;

impl ProtoError {
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
