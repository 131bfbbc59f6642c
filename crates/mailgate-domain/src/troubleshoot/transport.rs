//! Network and TLS failures before any protocol word is exchanged: DNS, refused or silent
//! ports, TLS handshakes, dropped connections and proxies.
//!
//! The caller classifies its I/O error into a [`TransportFailure`] (it knows its TLS library);
//! this module only says what each class means and how to fix it.

use super::Diagnosis;
use super::catalog::*;
use super::text::provider_words;

/// Whether `diagnosis` is about reaching a server (DNS, the port, the proxy, TLS), not about
/// anything the server answered: one of [`transport_error`]'s codes.
pub fn is_transport_failure(diagnosis: &Diagnosis) -> bool {
    matches!(
        diagnosis.code,
        Code::DnsLookupFailed
            | Code::ConnectionRefused
            | Code::ConnectionTimeout
            | Code::ConnectionClosed
            | Code::ProxyFailed
            | Code::TlsHandshakeFailed
            | Code::TlsUntrustedCertificate
            | Code::TlsNameMismatch
            | Code::TlsCertificateExpired
    )
}

/// A connection-level failure, classified by the code that dialled. `detail` and `what` are
/// free text from the caller's error chain; they are quoted after scrubbing, but must still
/// never contain credentials (a proxy URL with a password, for instance).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TransportFailure {
    Dns {
        host: String,
    },
    Refused {
        host: String,
        port: u16,
    },
    /// `what` names what was awaited: "the TCP connection", "the greeting", "an answer"...
    Timeout {
        host: String,
        port: u16,
        what: String,
    },
    Tls {
        host: String,
        detail: String,
    },
    TlsUnknownIssuer {
        host: String,
    },
    TlsNameMismatch {
        host: String,
    },
    /// Expired or not yet valid.
    TlsExpired {
        host: String,
    },
    Closed {
        host: String,
    },
    Proxy {
        detail: String,
    },
}

const PORTS: &str = "IMAP 993 with ssl or 143 with starttls, POP3 995 with ssl, SMTP 465 with ssl or 587 with starttls";
const HOSTS: &str =
    "imap.gmail.com, pop.gmail.com, smtp.gmail.com, outlook.office365.com, smtp.office365.com";

/// Diagnoses a connection-level failure.
pub fn transport_error(kind: TransportFailure) -> Diagnosis {
    match kind {
        TransportFailure::Dns { host } => {
            let host = name(&host);
            Diagnosis::new(
                DNS,
                format!("The host name {host} could not be resolved to an address."),
                format!(
                    "Check the spelling of the server's host (for example {HOSTS}) and that this machine resolves names (`getent hosts {host}`); behind a proxy that resolves names itself, use a socks5h:// proxy. mailgate retries meanwhile."
                ),
            )
        }
        TransportFailure::Refused { host, port } => {
            let host = name(&host);
            Diagnosis::new(
                REFUSED,
                format!("Nothing accepted the connection on {host} port {port}."),
                format!(
                    "Check the port against the security setting ({PORTS}) and that no firewall rejects outgoing connections to {host}:{port}; if this network only allows traffic through a proxy, set the server's proxy."
                ),
            )
        }
        TransportFailure::Timeout { host, port, what } => {
            let host = name(&host);
            let what = provider_words(&what);
            let what = if what.is_empty() {
                "an answer".to_owned()
            } else {
                what
            };
            Diagnosis::new(
                TIMEOUT,
                format!(
                    "No answer came in time from {host} port {port} while mailgate waited for {what}."
                ),
                format!(
                    "Check that the firewall allows outgoing connections to {host}:{port} (many networks block 465, 587, 993 or 995), set the server's proxy if this network needs one, and check that the security setting matches the port ({PORTS}). mailgate retries with backoff."
                ),
            )
        }
        TransportFailure::Tls { host, detail } => {
            let host = name(&host);
            let detail = provider_words(&detail);
            let message = if detail.is_empty() {
                format!("The TLS handshake with {host} failed.")
            } else {
                format!("The TLS handshake with {host} failed: {detail}.")
            };
            Diagnosis::new(
                TLS,
                message,
                "Match the security setting to the port: ssl for 993, 995 and 465, starttls for 143, 110 and 587 (ssl on a starttls port fails this way). If a firewall or antivirus inspects TLS, add its CA certificate to [tls] extra_ca_file.",
            )
        }
        TransportFailure::TlsUnknownIssuer { host } => {
            let host = name(&host);
            Diagnosis::new(
                TLS_UNKNOWN_ISSUER,
                format!(
                    "The certificate {host} presented is signed by an authority mailgate does not trust; on networks that inspect TLS, a proxy or antivirus replaces the provider's certificate with its own."
                ),
                format!(
                    "If your network inspects TLS, put its CA certificate (PEM) in [tls] extra_ca_file in mailgate's configuration and restart; otherwise check that {host} is really the provider's server. Certificate checks are never switched off."
                ),
            )
        }
        TransportFailure::TlsNameMismatch { host } => {
            let host = name(&host);
            Diagnosis::new(
                TLS_NAME_MISMATCH,
                format!("The certificate {host} presented is issued for another host name."),
                format!(
                    "Use the provider's own host name ({HOSTS}), not an IP address or an alias of your own; if a TLS-inspecting proxy sits in between, trust its CA with [tls] extra_ca_file."
                ),
            )
        }
        TransportFailure::TlsExpired { host } => {
            let host = name(&host);
            Diagnosis::new(
                TLS_EXPIRED,
                format!("The certificate {host} presented is expired or not yet valid."),
                "Check this machine's clock first (`timedatectl`, enable NTP): a wrong date makes valid certificates look expired. If the clock is right, the server or a TLS-inspecting proxy presents an outdated certificate: tell its operator.",
            )
        }
        TransportFailure::Closed { host } => {
            let host = name(&host);
            Diagnosis::new(
                CLOSED,
                format!("The connection to {host} was closed unexpectedly by the other side."),
                format!(
                    "Usually temporary: mailgate reconnects with backoff. If it happens on every attempt, check that the security setting matches the port ({PORTS}) and that the account is not at its connection limit (Gmail: 15 IMAP connections)."
                ),
            )
        }
        TransportFailure::Proxy { detail } => {
            let detail = provider_words(&detail);
            let message = if detail.is_empty() {
                "The proxy could not open the connection to the mail server.".to_owned()
            } else {
                format!("The proxy could not open the connection to the mail server: {detail}.")
            };
            Diagnosis::new(
                PROXY,
                message,
                "Check the server's proxy setting (socks5://host:port, socks5h://host:port or http://host:port), that the proxy runs and is reachable from mailgate, and that it allows connections to the mail server's port (HTTP proxies often allow CONNECT to 443 only).",
            )
        }
    }
}

/// A host as the caller gave it, safe to print; empty when unknown.
fn name(host: &str) -> String {
    let host = provider_words(host);
    if host.is_empty() {
        "the server".to_owned()
    } else {
        host
    }
}
