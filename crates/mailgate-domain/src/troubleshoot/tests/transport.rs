//! Known answers for network and TLS failures.

use super::super::*;
use super::{P, T, check};

fn host() -> String {
    "imap.gmail.com".to_owned()
}

fn cases() -> Vec<(
    TransportFailure,
    &'static str,
    Severity,
    &'static [&'static str],
)> {
    vec![
        (
            TransportFailure::Dns { host: host() },
            "dns_lookup_failed",
            T,
            &["getent hosts imap.gmail.com", "socks5h://"],
        ),
        (
            TransportFailure::Refused {
                host: host(),
                port: 993,
            },
            "connection_refused",
            T,
            &["993 with ssl", "587 with starttls", "firewall"],
        ),
        (
            TransportFailure::Timeout {
                host: host(),
                port: 993,
                what: "the greeting".into(),
            },
            "connection_timeout",
            T,
            &["firewall", "proxy"],
        ),
        (
            TransportFailure::Timeout {
                host: String::new(),
                port: 587,
                what: String::new(),
            },
            "connection_timeout",
            T,
            &["firewall"],
        ),
        (
            TransportFailure::Tls {
                host: host(),
                detail: "received corrupt message of type InvalidContentType".into(),
            },
            "tls_handshake_failed",
            P,
            &["starttls for 143, 110 and 587", "extra_ca_file"],
        ),
        (
            TransportFailure::Tls {
                host: host(),
                detail: String::new(),
            },
            "tls_handshake_failed",
            P,
            &["ssl"],
        ),
        (
            TransportFailure::TlsUnknownIssuer { host: host() },
            "tls_untrusted_certificate",
            P,
            &["[tls] extra_ca_file"],
        ),
        (
            TransportFailure::TlsNameMismatch {
                host: "10.0.0.1".into(),
            },
            "tls_name_mismatch",
            P,
            &["not an IP address"],
        ),
        (
            TransportFailure::TlsExpired { host: host() },
            "tls_certificate_expired",
            P,
            &["clock", "NTP"],
        ),
        (
            TransportFailure::Closed { host: host() },
            "connection_closed",
            T,
            &["reconnects"],
        ),
        (
            TransportFailure::Closed {
                host: String::new(),
            },
            "connection_closed",
            T,
            &["reconnects"],
        ),
        (
            TransportFailure::Proxy {
                detail: "SOCKS5 general failure".into(),
            },
            "proxy_failed",
            T,
            &["socks5://host:port", "CONNECT"],
        ),
        (
            TransportFailure::Proxy {
                detail: String::new(),
            },
            "proxy_failed",
            T,
            &["proxy"],
        ),
    ]
}

pub(super) fn produced() -> Vec<Diagnosis> {
    cases()
        .into_iter()
        .map(|(kind, ..)| transport_error(kind))
        .collect()
}

#[test]
fn transport_known_answers() {
    for (kind, code, severity, keys) in cases() {
        let input = format!("{kind:?}");
        check(&transport_error(kind), code, severity, keys, &input);
    }
}

#[test]
fn every_transport_failure_and_nothing_else_is_one() {
    for (kind, ..) in cases() {
        let d = transport_error(kind);
        assert!(is_transport_failure(&d), "{}", d.code);
    }
    for entry in CATALOG.iter().filter(|e| {
        !cases()
            .into_iter()
            .any(|(kind, ..)| transport_error(kind).code == e.code)
    }) {
        let d = Diagnosis::new(*entry, "x", "y");
        assert!(!is_transport_failure(&d), "{}", entry.code);
    }
}

#[test]
fn hosts_and_details_are_named() {
    let d = transport_error(TransportFailure::Timeout {
        host: host(),
        port: 993,
        what: "the greeting".into(),
    });
    assert_eq!(
        d.message,
        "No answer came in time from imap.gmail.com port 993 while mailgate waited for the greeting."
    );
    let d = transport_error(TransportFailure::Closed {
        host: String::new(),
    });
    assert_eq!(
        d.message,
        "The connection to the server was closed unexpectedly by the other side."
    );
}
