//! The POP3 client against scripted servers: known answers, the SASL dances, and faults.

use super::*;
use crate::sasl::Credentials;
use crate::testing::{FakeTls, Step, expect, scripted, send, tls_config};
use mailgate_domain::troubleshoot::ProviderKind;
use secrecy::SecretString;
use std::sync::atomic::Ordering;

const TIMEOUT: Duration = Duration::from_secs(30);
const GREETING: &str = "+OK Dovecot (Debian) ready.\r\n";
const CAPA: &str = "+OK\r\nCAPA\r\nTOP\r\nUIDL\r\nRESP-CODES\r\nPIPELINING\r\nAUTH-RESP-CODE\r\nUSER\r\nSASL PLAIN LOGIN XOAUTH2 OAUTHBEARER\r\n.\r\n";

fn options() -> Pop3Options {
    Pop3Options::new(TIMEOUT)
}

fn xoauth2(token: &str) -> Credentials {
    Credentials::XOAuth2 {
        user: "alice@example.test".into(),
        token: SecretString::from(token),
    }
}

fn ir(creds: &Credentials) -> String {
    use secrecy::ExposeSecret;
    creds.initial_response_base64().expose_secret().to_owned()
}

/// A client after greeting and CAPA on a scripted server.
async fn client(
    after_capa: Vec<Step>,
) -> (
    Pop3Client<tokio::io::DuplexStream>,
    tokio::task::JoinHandle<Vec<String>>,
) {
    let mut steps = vec![send(GREETING), expect("CAPA"), send(CAPA)];
    steps.extend(after_capa);
    let (stream, server) = scripted(steps);
    let mut c = Pop3Client::greet(stream, "pop.example.test", 995, options())
        .await
        .unwrap();
    c.capa().await.unwrap();
    (c, server)
}

#[tokio::test]
async fn a_whole_session_known_answers() {
    let creds = xoauth2("ya29.short");
    // On the wire: a line that starts with a dot is stuffed, a lone "." in the message is "..".
    let message_on_wire = "Subject: dots\r\n\r\n..leading dot\r\n..\r\nlast line\r\n.\r\n";
    let message = b"Subject: dots\r\n\r\n.leading dot\r\n.\r\nlast line\r\n";
    let (mut c, server) = client(vec![
        expect(&format!("AUTH XOAUTH2 {}", ir(&creds))),
        send("+OK Logged in.\r\n"),
        expect("STAT"),
        send("+OK 2 320\r\n"),
        expect("UIDL"),
        send("+OK\r\n1 000000015a0d9b2e\r\n2 000000025a0d9b2e\r\n.\r\n"),
        expect("LIST"),
        send("+OK 2 messages:\r\n1 120\r\n2 200\r\n.\r\n"),
        expect("RETR 1"),
        send(format!("+OK 120 octets\r\n{message_on_wire}")),
        expect("DELE 1"),
        send("+OK Marked to be deleted.\r\n"),
        expect("RSET"),
        send("+OK\r\n"),
        expect("NOOP"),
        send("+OK\r\n"),
        expect("QUIT"),
        send("+OK Logging out, messages deleted.\r\n"),
    ])
    .await;
    assert_eq!(c.greeting(), "Dovecot (Debian) ready.");
    assert!(c.has_capability("uidl"));
    assert_eq!(
        c.sasl_mechanisms().unwrap(),
        ["PLAIN", "LOGIN", "XOAUTH2", "OAUTHBEARER"]
    );
    c.login(&creds).await.unwrap();
    assert!(c.is_authenticated());
    assert_eq!(
        c.stat().await.unwrap(),
        commands::Stat {
            count: 2,
            size: 320
        }
    );
    assert_eq!(
        c.uidl().await.unwrap(),
        [
            (1, "000000015a0d9b2e".into()),
            (2, "000000025a0d9b2e".into())
        ]
    );
    assert_eq!(c.list().await.unwrap(), [(1, 120), (2, 200)]);
    assert_eq!(c.retr(1, 1000).await.unwrap(), message);
    c.dele(1).await.unwrap();
    c.rset().await.unwrap();
    c.noop().await.unwrap();
    c.quit().await.unwrap();
    server.await.unwrap();
}

#[tokio::test]
async fn xoauth2_failure_answers_the_challenge_with_an_empty_line_and_keeps_the_json() {
    let creds = xoauth2("ya29.revoked");
    let (mut c, server) = client(vec![
        expect(&format!("AUTH XOAUTH2 {}", ir(&creds))),
        send("+ eyJzdGF0dXMiOiI0MDEiLCJzY2hlbWVzIjoiYmVhcmVyIiwic2NvcGUiOiJtYWlsIn0=\r\n"),
        expect(""),
        send("-ERR [AUTH] Authentication failed.\r\n"),
        expect("QUIT"),
        send("+OK Logging out.\r\n"),
    ])
    .await;
    let e = c.login(&creds).await.unwrap_err();
    assert!(e.is_auth(), "{e}");
    assert_eq!(e.server_reply(), Some("-ERR [AUTH] Authentication failed."));
    assert_eq!(e.sasl_status().as_deref(), Some("401"));
    assert_eq!(
        e.diagnosis(ProviderKind::Google).code,
        "access_token_rejected"
    );
    assert!(e.is_transient());
    assert!(!format!("{e:?}{e}").contains("ya29.revoked"));
    // The exchange ended cleanly: the session is still usable.
    c.quit().await.unwrap();
    server.await.unwrap();
}

#[tokio::test]
async fn oauthbearer_failure_is_answered_with_0x01() {
    let creds = Credentials::OAuthBearer {
        user: "alice@example.test".into(),
        token: SecretString::from("bad"),
        host: "pop.example.test".into(),
        port: 995,
    };
    let (mut c, server) = client(vec![
        expect(&format!("AUTH OAUTHBEARER {}", ir(&creds))),
        send("+ eyJzdGF0dXMiOiJpbnZhbGlkX3Rva2VuIn0=\r\n"),
        expect("AQ=="),
        send("-ERR [AUTH] Authentication failed.\r\n"),
    ])
    .await;
    let e = c.login(&creds).await.unwrap_err();
    assert_eq!(e.sasl_challenge(), Some(r#"{"status":"invalid_token"}"#));
    assert_eq!(
        e.diagnosis(ProviderKind::Generic).code,
        "access_token_rejected"
    );
    server.await.unwrap();
}

#[tokio::test]
async fn a_long_token_waits_for_the_empty_challenge_as_rfc_5034_requires() {
    let creds = xoauth2(&"t".repeat(300));
    let (mut c, server) = client(vec![
        expect("AUTH XOAUTH2"),
        send("+ \r\n"),
        expect(&ir(&creds)),
        send("+OK Logged in.\r\n"),
    ])
    .await;
    c.login(&creds).await.unwrap();
    server.await.unwrap();
}

#[tokio::test]
async fn passwords_use_sasl_plain_when_offered_else_user_pass() {
    let creds = Credentials::Plain {
        user: "alice@example.test".into(),
        password: SecretString::from("alice-password"),
    };
    let (mut c, server) = client(vec![
        expect(&format!("AUTH PLAIN {}", ir(&creds))),
        send("+OK Logged in.\r\n"),
    ])
    .await;
    c.login(&creds).await.unwrap();
    server.await.unwrap();

    let (stream, server) = scripted(vec![
        send(GREETING),
        expect("CAPA"),
        send("+OK\r\nUSER\r\nUIDL\r\n.\r\n"),
        expect("USER alice@example.test"),
        send("+OK\r\n"),
        expect("PASS alice-password"),
        send("-ERR [AUTH] Authentication failed.\r\n"),
    ]);
    let mut c = Pop3Client::greet(stream, "h", 110, options())
        .await
        .unwrap();
    c.capa().await.unwrap();
    let e = c.login(&creds).await.unwrap_err();
    assert!(e.is_auth());
    assert_eq!(e.diagnosis(ProviderKind::Generic).code, "auth_failed");
    assert!(!format!("{e:?}{e}").contains("alice-password"));
    server.await.unwrap();
}

#[tokio::test]
async fn a_mechanism_the_server_does_not_list_is_not_tried() {
    let (stream, _server) = scripted(vec![
        send(GREETING),
        expect("CAPA"),
        send("+OK\r\nSASL PLAIN\r\n.\r\n"),
        Step::Stall,
    ]);
    let mut c = Pop3Client::greet(stream, "h", 110, options())
        .await
        .unwrap();
    c.capa().await.unwrap();
    let e = c.login(&xoauth2("t")).await.unwrap_err();
    assert!(matches!(e, ProtoError::NotOffered { .. }), "{e}");
    assert_eq!(
        e.diagnosis(ProviderKind::Generic).code,
        "auth_mechanism_unsupported"
    );
}

#[tokio::test]
async fn stls_upgrades_then_asks_for_the_capabilities_again() {
    let (stream, server) = scripted(vec![
        send(GREETING),
        expect("CAPA"),
        send("+OK\r\nSTLS\r\nUSER\r\n.\r\n"),
        expect("STLS"),
        send("+OK Begin TLS negotiation now.\r\n"),
        expect("CAPA"),
        send(CAPA),
    ]);
    let (stream, upgraded) = FakeTls::new(stream);
    let mut c = Pop3Client::greet(stream, "h", 110, options())
        .await
        .unwrap();
    c.capa().await.unwrap();
    let c = c.stls(tls_config()).await.unwrap();
    assert!(upgraded.load(Ordering::SeqCst));
    assert!(c.sasl_mechanisms().is_some());
    server.await.unwrap();
}

#[tokio::test]
async fn stls_refuses_bytes_sent_before_the_handshake_and_servers_without_it() {
    let (stream, _server) = scripted(vec![
        send(GREETING),
        expect("CAPA"),
        send("+OK\r\nSTLS\r\n.\r\n"),
        expect("STLS"),
        send("+OK Begin TLS\r\n+OK injected\r\n"),
        Step::Stall,
    ]);
    let (stream, upgraded) = FakeTls::new(stream);
    let mut c = Pop3Client::greet(stream, "h", 110, options())
        .await
        .unwrap();
    c.capa().await.unwrap();
    let e = c.stls(tls_config()).await.unwrap_err();
    assert!(e.to_string().contains("injected"), "{e}");
    assert!(!upgraded.load(Ordering::SeqCst));

    let (stream, _server) = scripted(vec![
        send(GREETING),
        expect("CAPA"),
        send("+OK\r\nUSER\r\n.\r\n"),
        Step::Stall,
    ]);
    let (stream, _) = FakeTls::new(stream);
    let mut c = Pop3Client::greet(stream, "h", 110, options())
        .await
        .unwrap();
    c.capa().await.unwrap();
    let e = c.stls(tls_config()).await.unwrap_err();
    assert_eq!(
        e.diagnosis(ProviderKind::Generic).code,
        "tls_handshake_failed"
    );
}

#[tokio::test]
async fn a_connection_dropped_mid_message_fails_and_the_client_refuses_more() {
    let (mut c, _server) = client(vec![
        expect("RETR 1"),
        send("+OK 500 octets\r\nSubject: cut\r\n\r\nhalf a li"),
        Step::Close,
    ])
    .await;
    let e = c.retr(1, 1 << 20).await.unwrap_err();
    assert!(matches!(e, ProtoError::Closed { .. }), "{e}");
    assert!(e.is_transient());
    assert!(matches!(c.stat().await, Err(ProtoError::Unusable)));
}

#[tokio::test]
async fn garbage_greetings_and_answers_are_protocol_errors() {
    let (stream, _server) = scripted(vec![send("* OK [CAPABILITY IMAP4rev1] ready\r\n")]);
    let e = Pop3Client::greet(stream, "h", 995, options())
        .await
        .unwrap_err();
    assert!(matches!(e, ProtoError::Protocol { .. }), "{e}");
    assert_eq!(e.server_reply(), Some("* OK [CAPABILITY IMAP4rev1] ready"));
    assert_eq!(e.diagnosis(ProviderKind::Generic).code, "connection_closed");

    let (mut c, _server) = client(vec![expect("UIDL"), send("+OK\r\n1 \x01bad\r\n.\r\n")]).await;
    let e = c.uidl().await.unwrap_err();
    assert!(e.to_string().contains("unique-id"), "{e}");

    let (stream, _server) = scripted(vec![send("-ERR [SYS/TEMP] Too busy, try later.\r\n")]);
    let e = Pop3Client::greet(stream, "h", 995, options())
        .await
        .unwrap_err();
    assert!(matches!(e, ProtoError::Rejected { .. }), "{e}");
    assert!(e.is_transient());
}

#[tokio::test(start_paused = true)]
async fn a_silent_server_times_out_on_the_greeting_and_mid_message() {
    let (stream, _server) = scripted(vec![Step::Stall]);
    let started = tokio::time::Instant::now();
    let e = Pop3Client::greet(stream, "h", 995, options())
        .await
        .unwrap_err();
    assert!(e.is_timeout(), "{e}");
    assert!(e.to_string().contains("the greeting"), "{e}");
    assert_eq!(started.elapsed(), TIMEOUT);

    let (mut c, _server) = client(vec![
        expect("RETR 1"),
        send("+OK\r\nSubject: slow\r\n"),
        Step::Stall,
    ])
    .await;
    let e = c.retr(1, 1 << 20).await.unwrap_err();
    assert!(e.is_timeout(), "{e}");
    assert_eq!(
        e.diagnosis(ProviderKind::Generic).code,
        "connection_timeout"
    );
    assert!(matches!(c.noop().await, Err(ProtoError::Unusable)));
}

#[tokio::test(start_paused = true)]
async fn a_command_cancelled_half_way_leaves_the_client_unusable() {
    let (mut c, _server) = client(vec![expect("STAT"), Step::Stall]).await;
    let cancelled = tokio::time::timeout(Duration::from_secs(1), c.stat()).await;
    assert!(cancelled.is_err());
    assert!(matches!(c.stat().await, Err(ProtoError::Unusable)));
}

#[tokio::test]
async fn oversized_messages_fail_at_the_cap_and_missing_ones_keep_the_session() {
    let body = "x".repeat(100);
    let (mut c, _server) = client(vec![
        expect("RETR 9"),
        send("-ERR There's no message 9.\r\n"),
        expect("RETR 1"),
        send(format!("+OK\r\n{body}\r\n{body}\r\n.\r\n")),
    ])
    .await;
    let e = c.retr(9, 150).await.unwrap_err();
    assert!(matches!(e, ProtoError::NoSuchMessage { .. }), "{e}");
    let e = c.retr(1, 150).await.unwrap_err();
    assert!(matches!(e, ProtoError::TooLarge { max: 150, .. }), "{e}");
    assert_eq!(e.diagnosis(ProviderKind::Generic).code, "message_too_large");
    assert!(matches!(c.noop().await, Err(ProtoError::Unusable)));

    // Exactly at the cap is fine: 100 + CRLF = 102 bytes.
    let (mut c, _server) = client(vec![
        expect("RETR 1"),
        send(format!("+OK\r\n{body}\r\n.\r\n")),
    ])
    .await;
    assert_eq!(c.retr(1, 102).await.unwrap().len(), 102);
}

#[tokio::test]
async fn bare_lf_servers_need_the_named_tolerance() {
    let (stream, _server) = scripted(vec![send("+OK ready\n")]);
    let e = Pop3Client::greet(stream, "h", 110, options())
        .await
        .unwrap_err();
    assert!(e.to_string().contains("bare_lf"), "{e}");

    let (stream, server) = scripted(vec![
        send("+OK ready\n"),
        expect("RETR 1"),
        send("+ok\nline one\n..dot\n.\n"),
    ]);
    let mut options = options();
    options.tolerances = Tolerances {
        bare_lf: true,
        lowercase_status: true,
        ..Tolerances::default()
    };
    let mut c = Pop3Client::greet(stream, "h", 110, options).await.unwrap();
    assert_eq!(c.retr(1, 1000).await.unwrap(), b"line one\n.dot\n");
    server.await.unwrap();
}

/// Random server answers never panic the client (a fuzz target run on every test run).
#[tokio::test]
async fn random_answers_never_panic() {
    let mut seed = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let alphabet: &[u8] = b"+OK-ERR .\r\n0123456789 abc\xff";
    for _ in 0..300 {
        let len = (next() % 60) as usize;
        let noise: Vec<u8> = (0..len)
            .map(|_| alphabet[(next() % alphabet.len() as u64) as usize])
            .collect();
        let (stream, _server) = scripted(vec![
            send(GREETING),
            Step::Expect("*".into()),
            Step::Send(noise),
            Step::Close,
        ]);
        let mut c = Pop3Client::greet(stream, "h", 110, Pop3Options::new(Duration::from_secs(5)))
            .await
            .unwrap();
        let _ = match next() % 3 {
            0 => c.uidl().await.map(drop),
            1 => c.retr(1, 1000).await.map(drop),
            _ => c.login(&xoauth2("t")).await,
        };
    }
}

/// The watchers spawn these futures on a multi-threaded runtime: they must be `Send`.
#[test]
fn client_futures_are_send() {
    fn assert_send<F: std::future::Future + Send>(_: F) {}
    async fn everything(ep: Endpoint, tls: Arc<rustls::ClientConfig>, creds: Credentials) {
        let mut c = connect(&ep, tls, TIMEOUT).await.unwrap();
        c.login(&creds).await.unwrap();
        c.stat().await.unwrap();
        c.uidl().await.unwrap();
        c.list().await.unwrap();
        c.retr(1, 10).await.unwrap();
        c.dele(1).await.unwrap();
        c.quit().await.unwrap();
    }
    assert_send(everything(
        Endpoint::new("h", 995, Security::Ssl),
        tls_config(),
        xoauth2("t"),
    ));
}

/// RFC 2449 / RFC 3206 response codes: a locked mailbox or a server failing for now did not
/// judge the credentials (no authentication failure, retried later); `[AUTH]` did.
#[tokio::test]
async fn login_response_codes_tell_a_refusal_from_a_busy_mailbox() {
    let password = Credentials::Plain {
        user: "alice".into(),
        password: SecretString::from("hunter22"),
    };
    let creds = xoauth2("ya29.good");
    let cases = [
        (
            "-ERR [IN-USE] Mailbox is locked by another POP3 session.",
            false,
            "pop_mailbox_in_use",
        ),
        (
            "-ERR [SYS/TEMP] Internal error occurred.",
            false,
            "service_unavailable",
        ),
        (
            "-ERR [in-use] lower-case codes too",
            false,
            "pop_mailbox_in_use",
        ),
        ("-ERR [AUTH] Authentication failed.", true, "auth_failed"),
        ("-ERR Authentication failed.", true, "auth_failed"),
    ];
    for (answer, refused, code) in cases {
        // SASL PLAIN.
        let (mut c, server) = client(vec![
            expect(&format!("AUTH PLAIN {}", ir(&password))),
            send(format!("{answer}\r\n")),
        ])
        .await;
        let e = c.login(&password).await.unwrap_err();
        assert_eq!(e.is_auth(), refused, "{answer}: {e:?}");
        assert_eq!(
            matches!(e, ProtoError::Auth { .. }),
            refused,
            "{answer}: {e:?}"
        );
        assert_eq!(e.is_transient(), !refused, "{answer}: {e:?}");
        assert_eq!(e.diagnosis(ProviderKind::Generic).code, code, "{answer}");
        assert_eq!(e.server_reply(), Some(answer));
        server.await.unwrap();

        // XOAUTH2, and USER / PASS on a server without SASL.
        let (mut c, server) = client(vec![
            expect(&format!("AUTH XOAUTH2 {}", ir(&creds))),
            send(format!("{answer}\r\n")),
        ])
        .await;
        let e = c.login(&creds).await.unwrap_err();
        assert_eq!(e.is_auth(), refused, "{answer}: {e:?}");
        server.await.unwrap();
        let (stream, server) = scripted(vec![
            send(GREETING),
            expect("USER alice"),
            send("+OK\r\n"),
            expect("PASS hunter22"),
            send(format!("{answer}\r\n")),
        ]);
        let mut c = Pop3Client::greet(stream, "h", 995, options())
            .await
            .unwrap();
        let e = c.login(&password).await.unwrap_err();
        assert_eq!(e.is_auth(), refused, "{answer}: {e:?}");
        assert!(!format!("{e:?}{e}").contains("hunter22"));
        server.await.unwrap();
    }
}

#[test]
fn response_codes_are_read_from_the_start_of_the_text() {
    use super::reply::response_code;
    assert_eq!(response_code("[IN-USE] locked").as_deref(), Some("IN-USE"));
    assert_eq!(
        response_code("[sys/temp] busy").as_deref(),
        Some("SYS/TEMP")
    );
    assert_eq!(response_code("[AUTH] no").as_deref(), Some("AUTH"));
    assert_eq!(response_code("no code [IN-USE]"), None);
    assert_eq!(response_code("[] empty"), None);
    assert_eq!(response_code("[not a code] x"), None);
    assert_eq!(response_code("[IN-USE unterminated"), None);
}

fn b64(text: &str) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(text)
}

/// A client after greeting and a CAPA of `capa` (its lines, without the status and the dot).
async fn client_with_capa(
    capa: &str,
    steps: Vec<Step>,
) -> (
    Pop3Client<tokio::io::DuplexStream>,
    tokio::task::JoinHandle<Vec<String>>,
) {
    let mut script = vec![
        send(GREETING),
        expect("CAPA"),
        send(format!("+OK\r\n{capa}.\r\n")),
    ];
    script.extend(steps);
    let (stream, server) = scripted(script);
    let mut c = Pop3Client::greet(stream, "pop.example.test", 995, options())
        .await
        .unwrap();
    c.capa().await.unwrap();
    (c, server)
}

#[tokio::test]
async fn auth_login_answers_user_then_password_when_plain_is_not_offered() {
    let creds = Credentials::Plain {
        user: "alice@example.test".into(),
        password: SecretString::from("alice-password"),
    };
    let exchange = |last: &str| {
        vec![
            expect("AUTH LOGIN"),
            send("+ VXNlcm5hbWU6\r\n"),
            expect(&b64("alice@example.test")),
            send("+ UGFzc3dvcmQ6\r\n"),
            expect(&b64("alice-password")),
            send(format!("{last}\r\n")),
        ]
    };
    let (mut c, server) =
        client_with_capa("USER\r\nSASL LOGIN\r\n", exchange("+OK Logged in.")).await;
    c.login(&creds).await.unwrap();
    assert!(c.is_authenticated());
    server.await.unwrap();

    let refused = format!(
        "-ERR [AUTH] Authentication failed: {}",
        b64("alice-password")
    );
    let (mut c, server) = client_with_capa("SASL LOGIN\r\n", exchange(&refused)).await;
    let e = c.login(&creds).await.unwrap_err();
    assert!(e.is_auth(), "{e}");
    assert!(e.to_string().contains("LOGIN"), "{e}");
    let shown = format!("{e:?}{e}");
    assert!(
        !shown.contains("alice-password") && !shown.contains(&b64("alice-password")),
        "{shown}"
    );
    server.await.unwrap();
}

#[tokio::test]
async fn an_access_token_goes_over_oauthbearer_when_the_server_offers_only_that() {
    let bearer = Credentials::OAuthBearer {
        user: "alice@example.test".into(),
        token: SecretString::from("ya29.ok"),
        host: "pop.example.test".into(),
        port: 995,
    };
    let (mut c, server) = client_with_capa(
        "SASL PLAIN OAUTHBEARER\r\n",
        vec![
            expect(&format!("AUTH OAUTHBEARER {}", ir(&bearer))),
            send("+OK Logged in.\r\n"),
        ],
    )
    .await;
    c.login(&xoauth2("ya29.ok")).await.unwrap();
    server.await.unwrap();
}
