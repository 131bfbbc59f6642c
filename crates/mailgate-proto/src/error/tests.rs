use super::*;
use mailgate_domain::troubleshoot::lookup;

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
        let text = mailgate_domain::error_chain(e.as_ref());
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
