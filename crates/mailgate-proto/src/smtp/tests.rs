//! The SMTP client against scripted servers: EHLO, the transaction with and without
//! PIPELINING, refusals, the SASL dances, STARTTLS, and faults.

use super::*;
use crate::sasl::Credentials;
use crate::testing::{FakeTls, Step, expect, scripted, send, tls_config};
use mailgate_domain::troubleshoot::ProviderKind;
use secrecy::{ExposeSecret, SecretString};
use std::sync::atomic::Ordering;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader, DuplexStream};
use tokio::task::JoinHandle;

const TIMEOUT: Duration = Duration::from_secs(30);
const GREETING: &str = "220 mail.example.test ESMTP Postfix (Debian/GNU)\r\n";
const EHLO: &str = "250-mail.example.test\r\n250-PIPELINING\r\n250-SIZE 10240000\r\n250-ETRN\r\n250-AUTH PLAIN LOGIN XOAUTH2 OAUTHBEARER\r\n250-AUTH=PLAIN LOGIN\r\n250-ENHANCEDSTATUSCODES\r\n250-8BITMIME\r\n250-DSN\r\n250 SMTPUTF8\r\n";
/// No PIPELINING, no SIZE, no SMTPUTF8; only LOGIN for passwords.
const EHLO_PLAIN: &str = "250-mail.example.test\r\n250-AUTH LOGIN XOAUTH2\r\n250 8BITMIME\r\n";
const JSON_401: &str = r#"{"status":"401","schemes":"bearer","scope":"https://mail.google.com/"}"#;

fn options() -> SmtpOptions {
    SmtpOptions::new(TIMEOUT, "client.example.test")
}

fn xoauth2(token: &str) -> Credentials {
    Credentials::XOAuth2 {
        user: "alice@example.test".into(),
        token: SecretString::from(token),
    }
}

fn password(user: &str, password: &str) -> Credentials {
    Credentials::Plain {
        user: user.into(),
        password: SecretString::from(password),
    }
}

fn ir(creds: &Credentials) -> String {
    creds.initial_response_base64().expose_secret().to_owned()
}

fn b64(text: &str) -> String {
    base64::Engine::encode(&base64::engine::general_purpose::STANDARD, text)
}

fn envelope(recipients: &[&str]) -> Envelope {
    Envelope::new("alice@example.test", recipients.iter().copied())
}

const MESSAGE: &[u8] = b"Subject: hi\r\n\r\nhello\r\n";

/// The message's lines as the scripted server sees them after DATA, up to the final dot.
fn data_steps() -> Vec<Step> {
    vec![
        expect("Subject: hi"),
        expect(""),
        expect("hello"),
        expect("."),
    ]
}

/// The pipelined group of a transaction to `recipients` (MAIL, a RCPT each, DATA), answered
/// with `replies`.
fn group(recipients: &[&str], replies: &str) -> Vec<Step> {
    let mut steps = vec![expect("MAIL FROM:*")];
    steps.extend(recipients.iter().map(|r| expect(&format!("RCPT TO:<{r}>"))));
    steps.extend([expect("DATA"), send(replies)]);
    steps
}

/// Without PIPELINING: `mail` and the RCPT to [`BOB`] accepted, then DATA answered with `data`.
fn one_by_one(mail: &str, data: &str) -> Vec<Step> {
    vec![
        expect(mail),
        send("250 Ok\r\n"),
        expect("RCPT TO:<bob@example.test>"),
        send("250 Ok\r\n"),
        expect("DATA"),
        send(data),
    ]
}

/// MAIL, the one RCPT and DATA accepted.
const ACCEPTED: &str = "250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n354 go\r\n";
const BOB: &str = "bob@example.test";

/// Sends [`MESSAGE`] to `recipients`, which must fail.
async fn send_fails(c: &mut SmtpClient<DuplexStream>, recipients: &[&str]) -> ProtoError {
    c.send(&envelope(recipients), MESSAGE).await.unwrap_err()
}

/// The error of a greeting on a server playing `steps`.
async fn greet_fails(steps: Vec<Step>) -> ProtoError {
    let (stream, _server) = scripted(steps);
    SmtpClient::greet(stream, "h", 25, options())
        .await
        .unwrap_err()
}

/// A client after the greeting and an EHLO answered with `ehlo`, on a scripted server.
async fn client_with(
    ehlo: &str,
    after: Vec<Step>,
) -> (SmtpClient<DuplexStream>, JoinHandle<Vec<String>>) {
    let mut steps = vec![
        send(GREETING),
        expect("EHLO client.example.test"),
        send(ehlo),
    ];
    steps.extend(after);
    let (stream, server) = scripted(steps);
    let c = SmtpClient::greet(stream, "smtp.example.test", 587, options())
        .await
        .unwrap();
    (c, server)
}

async fn client(after: Vec<Step>) -> (SmtpClient<DuplexStream>, JoinHandle<Vec<String>>) {
    client_with(EHLO, after).await
}

#[tokio::test]
async fn a_multi_line_ehlo_is_read_into_capabilities() {
    let (c, _server) = client(vec![]).await;
    assert_eq!(c.greeting().code, 220);
    assert_eq!(c.capabilities()[0], "PIPELINING");
    assert_eq!(c.capabilities().len(), 9);
    assert!(c.has_capability("pipelining") && !c.has_capability("STARTTLS"));
    assert!(!c.has_capability("SIZ"));
    assert_eq!(
        c.auth_mechanisms(),
        ["PLAIN", "LOGIN", "XOAUTH2", "OAUTHBEARER"]
    );
    assert_eq!(c.max_size(), Some(10_240_000));
    assert!(c.is_usable() && !c.is_authenticated());

    let (c, _server) = client_with("250-h\r\n250-SIZE 0\r\n250 auth=login\r\n", vec![]).await;
    assert_eq!(c.max_size(), None);
    assert_eq!(c.auth_mechanisms(), ["LOGIN"]);
    let (c, _server) = client_with("250 h\r\n", vec![]).await;
    assert!(c.capabilities().is_empty() && c.max_size().is_none());
}

#[tokio::test]
async fn helo_is_the_fallback_when_ehlo_is_refused() {
    let (stream, server) = scripted(vec![
        send("220 old.example.test SMTP\r\n"),
        expect("EHLO client.example.test"),
        send("502 5.5.2 Error: command not recognized\r\n"),
        expect("HELO client.example.test"),
        send("250 old.example.test\r\n"),
        expect("QUIT"),
        send("221 2.0.0 Bye\r\n"),
    ]);
    let c = SmtpClient::greet(stream, "h", 25, options()).await.unwrap();
    assert!(c.capabilities().is_empty());
    c.quit().await.unwrap();
    server.await.unwrap();
}

#[tokio::test]
async fn bad_ehlo_names_are_refused_before_connecting() {
    for name in ["", "a b", "x\r\nMAIL FROM:<evil>", "é.example"] {
        let (stream, _server) = scripted(vec![Step::Stall]);
        let options = SmtpOptions::new(TIMEOUT, name);
        let e = SmtpClient::greet(stream, "h", 25, options)
            .await
            .unwrap_err();
        assert!(matches!(e, ProtoError::InvalidInput(_)), "{name:?}: {e}");
    }
}

/// Without PIPELINING the client sent MAIL and would wait forever; paused time turns that
/// into a timeout, so a regression fails instead of hanging.
#[tokio::test(start_paused = true)]
async fn pipelining_sends_mail_every_rcpt_and_data_before_reading_a_reply() {
    let creds = xoauth2("ya29.token");
    let mut steps = vec![
        expect(&format!("AUTH XOAUTH2 {}", ir(&creds))),
        send("235 2.7.0 Authentication successful\r\n"),
        expect("MAIL FROM:<alice@example.test> SIZE=22"),
        expect("RCPT TO:<bob@example.test>"),
        expect("RCPT TO:<carol@example.test>"),
        expect("DATA"),
        send(
            "250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n250 2.1.5 Ok\r\n354 End data with <CR><LF>.<CR><LF>\r\n",
        ),
    ];
    steps.extend(data_steps());
    steps.extend([
        send("250 2.0.0 Ok: queued as 4F1D2\r\n"),
        expect("RSET"),
        send("250 2.0.0 Ok\r\n"),
        expect("NOOP"),
        send("250 2.0.0 Ok\r\n"),
        expect("QUIT"),
        send("221 2.0.0 Bye\r\n"),
    ]);
    let (mut c, server) = client(steps).await;
    c.authenticate(&creds).await.unwrap();
    assert!(c.is_authenticated());
    let d = c
        .send(
            &envelope(&["bob@example.test", "carol@example.test"]),
            MESSAGE,
        )
        .await
        .unwrap();
    assert_eq!(d.accepted, ["bob@example.test", "carol@example.test"]);
    assert!(d.rejected.is_empty());
    assert_eq!(d.reply.code, 250);
    assert_eq!(d.reply.enhanced.as_deref(), Some("2.0.0"));
    assert_eq!(d.reply.text, "Ok: queued as 4F1D2");
    c.reset().await.unwrap();
    c.noop().await.unwrap();
    c.quit().await.unwrap();
    server.await.unwrap();
}

#[tokio::test]
async fn without_pipelining_each_command_waits_for_its_reply() {
    let mut steps = one_by_one("MAIL FROM:<> BODY=8BITMIME", "354 go ahead\r\n");
    steps.extend([
        expect("Subject: caf\u{e9}"),
        expect("."),
        send("250 Ok: queued\r\n"),
        expect("NOOP"),
        send("250 Ok\r\n"),
    ]);
    let (mut c, server) = client_with(EHLO_PLAIN, steps).await;
    let bounce = Envelope::new("", ["bob@example.test"]);
    let d = c
        .send(&bounce, "Subject: caf\u{e9}".as_bytes())
        .await
        .unwrap();
    assert_eq!(d.accepted, ["bob@example.test"]);
    assert_eq!(d.reply.enhanced, None);
    c.noop().await.unwrap();
    server.await.unwrap();
}

#[tokio::test]
async fn refused_recipients_are_reported_and_the_others_get_the_message() {
    let recipients = [BOB, "nobody@example.test", "later@example.test"];
    let replies = "250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n550-5.1.1 <nobody@example.test>: Recipient address rejected:\r\n550 5.1.1 User unknown\r\n450 4.2.2 Mailbox full\r\n354 go\r\n";
    let steps = [
        group(&recipients, replies),
        data_steps(),
        vec![send("250 2.0.0 Ok: queued as X\r\n")],
    ];
    let (mut c, server) = client(steps.concat()).await;
    let d = c.send(&envelope(&recipients), MESSAGE).await.unwrap();
    assert_eq!(d.accepted, ["bob@example.test"]);
    let refused = |list: &[(String, SmtpReply)]| -> Vec<(String, u16, Option<String>)> {
        list.iter()
            .map(|(a, r)| (a.clone(), r.code, r.enhanced.clone()))
            .collect()
    };
    assert_eq!(
        refused(&d.rejected),
        [("nobody@example.test".into(), 550, Some("5.1.1".into()))]
    );
    assert_eq!(
        refused(&d.deferred),
        [("later@example.test".into(), 450, Some("4.2.2".into()))]
    );
    assert_eq!(
        d.rejected[0].1.text,
        "<nobody@example.test>: Recipient address rejected:\nUser unknown"
    );
    server.await.unwrap();
    let json = serde_json::to_value(&d).unwrap();
    assert_eq!(json["rejected"][0][1]["code"], 550);
    assert_eq!(json["deferred"][0][1]["code"], 450);
}

#[tokio::test]
async fn all_recipients_refused_resets_and_reports_the_first_passing_refusal() {
    let steps = [
        group(
            &["nobody@example.test", "gone@example.test"],
            "250 2.1.0 Ok\r\n550 5.1.1 <nobody@example.test>: User unknown\r\n450 4.1.1 try later\r\n554 5.5.1 Error: no valid recipients\r\n",
        ),
        vec![expect("RSET"), send("250 2.0.0 Ok\r\n")],
        // A server that says 354 anyway gets an empty message, then RSET.
        group(
            &["nobody@example.test"],
            "250 Ok\r\n550 5.1.1 unknown\r\n354 go\r\n",
        ),
        vec![
            expect("."),
            send("554 5.5.1 no valid recipients\r\n"),
            expect("RSET"),
            send("250 Ok\r\n"),
            expect("NOOP"),
            send("250 Ok\r\n"),
        ],
    ];
    let (mut c, server) = client(steps.concat()).await;
    // A 4xx among the refusals: worth a retry, which may reach that recipient.
    let e = send_fails(&mut c, &["nobody@example.test", "gone@example.test"]).await;
    assert!(
        matches!(&e, ProtoError::Rejected { command, .. } if command == "RCPT TO:<gone@example.test>"),
        "{e}"
    );
    assert_eq!(e.server_reply(), Some("450 4.1.1 try later"));
    assert!(e.is_transient());
    assert_eq!(
        e.diagnosis(ProviderKind::Generic).code,
        "service_unavailable"
    );
    assert!(c.is_usable());
    let e = send_fails(&mut c, &["nobody@example.test"]).await;
    assert!(e.is_permanent(), "{e}");
    c.noop().await.unwrap();
    server.await.unwrap();
}

#[tokio::test]
async fn refusals_of_mail_data_and_the_end_of_data_name_the_command_and_keep_the_session() {
    let alice = "MAIL FROM:<alice@example.test>";
    let steps = [
        vec![
            expect("MAIL FROM:<ceo@example.org>"),
            send(
                "553 5.7.1 <ceo@example.org>: Sender address rejected: not owned by user alice\r\n",
            ),
            expect("RSET"),
            send("250 Ok\r\n"),
        ],
        one_by_one(alice, "451 4.3.0 Error: queue file write error\r\n"),
        vec![expect("RSET"), send("250 Ok\r\n")],
        one_by_one(alice, "354 go\r\n"),
        data_steps(),
        vec![
            send("554 5.7.1 Message rejected as spam\r\n"),
            expect("NOOP"),
            send("250 Ok\r\n"),
        ],
    ];
    let (mut c, server) = client_with(EHLO_PLAIN, steps.concat()).await;
    let from_ceo = Envelope::new("ceo@example.org", ["bob@example.test"]);
    let e = c.send(&from_ceo, MESSAGE).await.unwrap_err();
    assert!(
        e.to_string().contains("refused MAIL FROM: 553 5.7.1"),
        "{e}"
    );
    assert!(e.is_permanent());
    let e = send_fails(&mut c, &[BOB]).await;
    assert!(e.to_string().contains("refused DATA: 451 4.3.0"), "{e}");
    assert!(e.is_transient());
    let e = send_fails(&mut c, &[BOB]).await;
    assert!(e.to_string().contains("refused the end of DATA"), "{e}");
    assert!(e.is_permanent());
    assert!(c.is_usable());
    c.noop().await.unwrap();
    server.await.unwrap();
}

/// A server that answers EHLO, MAIL, RCPT and DATA, and returns the exact bytes that came
/// after `354`, the final `.` line included.
async fn raw_data_server(server: DuplexStream) -> Vec<u8> {
    let mut server = BufReader::new(server);
    let mut line = Vec::new();
    server
        .get_mut()
        .write_all(GREETING.as_bytes())
        .await
        .unwrap();
    for answer in [
        "250 mail.example.test\r\n",
        "250 Ok\r\n",
        "250 Ok\r\n",
        "354 go\r\n",
    ] {
        line.clear();
        server.read_until(b'\n', &mut line).await.unwrap();
        server.get_mut().write_all(answer.as_bytes()).await.unwrap();
    }
    let mut data = Vec::new();
    loop {
        line.clear();
        assert!(server.read_until(b'\n', &mut line).await.unwrap() > 0);
        data.extend_from_slice(&line);
        if line == b".\r\n" {
            break;
        }
    }
    server.get_mut().write_all(b"250 Ok\r\n").await.unwrap();
    data
}

#[tokio::test]
async fn the_body_is_dot_stuffed_with_crlf_line_ends_byte_for_byte() {
    let cases: &[(&[u8], &[u8])] = &[
        (
            b"Subject: dots\n\n.leading dot\n.\nbare\rcr\r\nlast",
            b"Subject: dots\r\n\r\n..leading dot\r\n..\r\nbare\r\ncr\r\nlast\r\n.\r\n",
        ),
        (
            b"x\r\n.\r\nMAIL FROM:<evil@example.test>\r\n",
            b"x\r\n..\r\nMAIL FROM:<evil@example.test>\r\n.\r\n",
        ),
        (b"", b".\r\n"),
    ];
    for (message, wire) in cases {
        let (stream, server) = tokio::io::duplex(1 << 16);
        let server = tokio::spawn(raw_data_server(server));
        let mut c = SmtpClient::greet(stream, "h", 25, options()).await.unwrap();
        c.send(&envelope(&["bob@example.test"]), message)
            .await
            .unwrap();
        assert_eq!(
            String::from_utf8_lossy(&server.await.unwrap()),
            String::from_utf8_lossy(wire)
        );
    }

    // A large message arrives whole, in several writes.
    let line = [b'x'; 76];
    let big: Vec<u8> = (0..20_000)
        .flat_map(|_| [&line[..], b"\n"].concat())
        .collect();
    let (stream, server) = tokio::io::duplex(1 << 16);
    let server = tokio::spawn(raw_data_server(server));
    let mut c = SmtpClient::greet(stream, "h", 25, options()).await.unwrap();
    c.send(&envelope(&["bob@example.test"]), &big)
        .await
        .unwrap();
    let data = server.await.unwrap();
    assert_eq!(data.len(), 20_000 * 78 + 3);
}

#[tokio::test]
async fn a_message_over_the_advertised_size_is_refused_before_sending() {
    let (mut c, server) = client_with(
        "250-mail.example.test\r\n250 SIZE 100\r\n",
        vec![expect("NOOP"), send("250 Ok\r\n")],
    )
    .await;
    let big = vec![b'x'; 99];
    // 99 bytes and the added CRLF: 101 on the wire.
    let e = c
        .send(&envelope(&["bob@example.test"]), &big)
        .await
        .unwrap_err();
    assert!(
        matches!(
            e,
            ProtoError::TooLarge {
                size: Some(101),
                max: 100,
                ..
            }
        ),
        "{e}"
    );
    assert_eq!(e.diagnosis(ProviderKind::Generic).code, "message_too_large");
    assert!(c.is_usable());
    c.noop().await.unwrap();
    server.await.unwrap();
}

#[tokio::test]
async fn addresses_that_could_inject_commands_are_refused() {
    let (mut c, server) = client(vec![expect("NOOP"), send("250 Ok\r\n")]).await;
    for env in [
        envelope(&["bob@example.test>\r\nRSET"]),
        envelope(&["bob@example.test> NOTIFY=NEVER"]),
        envelope(&["<bob@example.test"]),
        envelope(&["bob@example.test\n"]),
        envelope(&[""]),
        envelope(&[]),
        Envelope::new("alice@example.test\rDATA", ["bob@example.test"]),
    ] {
        let e = c.send(&env, MESSAGE).await.unwrap_err();
        assert!(matches!(e, ProtoError::InvalidInput(_)), "{env:?}: {e}");
    }
    c.noop().await.unwrap();
    server.await.unwrap();
}

#[tokio::test]
async fn non_ascii_addresses_need_smtputf8() {
    let steps = vec![
        expect("MAIL FROM:<alice@example.test> SIZE=16 BODY=8BITMIME SMTPUTF8"),
        expect("RCPT TO:<j\u{f6}rg@example.test>"),
        expect("DATA"),
        send("250 Ok\r\n250 Ok\r\n354 go\r\n"),
        expect("Subject: gr\u{fc}n"),
        expect("."),
        send("250 Ok\r\n"),
    ];
    let (mut c, server) = client(steps).await;
    c.send(
        &envelope(&["j\u{f6}rg@example.test"]),
        "Subject: gr\u{fc}n".as_bytes(),
    )
    .await
    .unwrap();
    server.await.unwrap();

    let (mut c, _server) = client_with(EHLO_PLAIN, vec![Step::Stall]).await;
    let e = send_fails(&mut c, &["j\u{f6}rg@example.test"]).await;
    assert!(
        matches!(&e, ProtoError::InvalidInput(m) if m.contains("SMTPUTF8")),
        "{e}"
    );
    assert!(c.is_usable());
}

#[tokio::test]
async fn xoauth2_failure_keeps_the_challenge_json_and_answers_with_an_empty_line() {
    let creds = xoauth2("ya29.revoked-token");
    let (mut c, server) = client(vec![
        expect(&format!("AUTH XOAUTH2 {}", ir(&creds))),
        send(format!("334 {}\r\n", b64(JSON_401))),
        expect(""),
        // A server that echoes the token must not get it into the error.
        send("535-5.7.8 Username and Password not accepted.\r\n535 5.7.8 ya29.revoked-token\r\n"),
        expect("NOOP"),
        send("250 Ok\r\n"),
    ])
    .await;
    let e = c.authenticate(&creds).await.unwrap_err();
    assert!(e.is_auth(), "{e}");
    assert_eq!(e.sasl_challenge(), Some(JSON_401));
    assert_eq!(e.sasl_status().as_deref(), Some("401"));
    assert!(e.server_reply().unwrap().starts_with("535 5.7.8 Username"));
    assert_eq!(
        e.diagnosis(ProviderKind::Google).code,
        "access_token_rejected"
    );
    assert!(e.is_transient());
    assert!(!format!("{e:?}{e}").contains("revoked-token"), "{e:?}");
    assert!(!c.is_authenticated());
    c.noop().await.unwrap();
    server.await.unwrap();
}

#[tokio::test]
async fn oauthbearer_logs_in_and_its_failure_is_answered_with_0x01() {
    let bearer = |token: &str| Credentials::OAuthBearer {
        user: "alice@example.test".into(),
        token: SecretString::from(token),
        host: "smtp.example.test".into(),
        port: 587,
    };
    let good = bearer("good");
    let bad = bearer("bad-token");
    let (mut c, server) = client(vec![
        expect(&format!("AUTH OAUTHBEARER {}", ir(&bad))),
        send(format!("334 {}\r\n", b64(r#"{"status":"invalid_token"}"#))),
        expect("AQ=="),
        send("535 5.7.8 Authentication failed\r\n"),
        expect(&format!("AUTH OAUTHBEARER {}", ir(&good))),
        send("235 2.7.0 Authentication successful\r\n"),
    ])
    .await;
    let e = c.authenticate(&bad).await.unwrap_err();
    assert_eq!(e.sasl_challenge(), Some(r#"{"status":"invalid_token"}"#));
    assert_eq!(
        e.diagnosis(ProviderKind::Generic).code,
        "access_token_rejected"
    );
    c.authenticate(&good).await.unwrap();
    server.await.unwrap();
}

#[tokio::test]
async fn an_access_token_goes_over_oauthbearer_when_the_server_offers_only_that() {
    let bearer = Credentials::OAuthBearer {
        user: "alice@example.test".into(),
        token: SecretString::from("good"),
        host: "smtp.example.test".into(),
        port: 587,
    };
    let (mut c, server) = client_with(
        "250-mail.example.test\r\n250 AUTH PLAIN OAUTHBEARER\r\n",
        vec![
            expect(&format!("AUTH OAUTHBEARER {}", ir(&bearer))),
            send("235 2.7.0 Authentication successful\r\n"),
        ],
    )
    .await;
    c.authenticate(&xoauth2("good")).await.unwrap();
    server.await.unwrap();
}

#[tokio::test]
async fn a_long_token_goes_after_the_empty_challenge_as_rfc_4954_requires() {
    let creds = xoauth2(&"t".repeat(600));
    let (mut c, server) = client(vec![
        expect("AUTH XOAUTH2"),
        send("334 \r\n"),
        expect(&ir(&creds)),
        send("235 2.7.0 Authentication successful\r\n"),
    ])
    .await;
    c.authenticate(&creds).await.unwrap();
    server.await.unwrap();
}

#[tokio::test]
async fn passwords_use_plain_when_offered_else_login() {
    let creds = password("alice@example.test", "alice-password");
    let (mut c, server) = client(vec![
        expect(&format!("AUTH PLAIN {}", ir(&creds))),
        send("235 2.7.0 Authentication successful\r\n"),
    ])
    .await;
    c.authenticate(&creds).await.unwrap();
    server.await.unwrap();

    let wrong = password("alice@example.test", "wrong-password");
    let (mut c, server) = client_with(
        EHLO_PLAIN,
        vec![
            expect("AUTH LOGIN"),
            send("334 VXNlcm5hbWU6\r\n"),
            expect(&b64("alice@example.test")),
            send("334 UGFzc3dvcmQ6\r\n"),
            expect(&b64("alice-password")),
            send("235 2.7.0 Authentication successful\r\n"),
        ],
    )
    .await;
    c.authenticate(&creds).await.unwrap();
    server.await.unwrap();

    let (mut c, server) = client_with(
        EHLO_PLAIN,
        vec![
            expect("AUTH LOGIN"),
            send("334 VXNlcm5hbWU6\r\n"),
            expect(&b64("alice@example.test")),
            send("334 UGFzc3dvcmQ6\r\n"),
            expect(&b64("wrong-password")),
            send(format!(
                "535 5.7.8 Error: authentication failed: {}\r\n",
                b64("wrong-password")
            )),
        ],
    )
    .await;
    let e = c.authenticate(&wrong).await.unwrap_err();
    assert!(e.is_auth() && !e.is_transient(), "{e}");
    assert_eq!(e.diagnosis(ProviderKind::Generic).code, "auth_failed");
    let shown = format!("{e:?}{e}");
    assert!(!shown.contains("wrong-password") && !shown.contains(&b64("wrong-password")));
    server.await.unwrap();
}

#[tokio::test]
async fn auth_refusals_follow_the_reply_code_and_mechanisms_must_be_offered() {
    let creds = password("alice@example.test", "pw-secret");
    let (mut c, _server) = client(vec![
        expect("AUTH PLAIN *"),
        send("454 4.7.0 Temporary authentication failure\r\n"),
        expect("AUTH PLAIN *"),
        send("534-5.7.9 Application-specific password required.\r\n534 5.7.9 Learn more\r\n"),
    ])
    .await;
    let e = c.authenticate(&creds).await.unwrap_err();
    assert!(e.is_auth() && e.is_transient(), "{e}");
    let e = c.authenticate(&creds).await.unwrap_err();
    assert_eq!(
        e.diagnosis(ProviderKind::Google).code,
        "app_password_required"
    );

    let (mut c, _server) = client_with(EHLO_PLAIN, vec![Step::Stall]).await;
    let bearer = Credentials::OAuthBearer {
        user: "a".into(),
        token: SecretString::from("t"),
        host: "h".into(),
        port: 1,
    };
    let e = c.authenticate(&bearer).await.unwrap_err();
    assert!(
        matches!(&e, ProtoError::NotOffered { what, .. } if what == "AUTH OAUTHBEARER"),
        "{e}"
    );
    assert_eq!(
        e.diagnosis(ProviderKind::Generic).code,
        "auth_mechanism_unsupported"
    );
    let (mut c, _server) = client_with("250 h\r\n", vec![Step::Stall]).await;
    let e = c.authenticate(&creds).await.unwrap_err();
    assert!(e.to_string().contains("does not offer AUTH at all"), "{e}");
    assert_eq!(
        e.diagnosis(ProviderKind::Generic).code,
        "auth_mechanism_unsupported"
    );
    assert!(c.is_usable());
}

#[tokio::test]
async fn starttls_upgrades_then_says_ehlo_again() {
    let (stream, server) = scripted(vec![
        send(GREETING),
        expect("EHLO client.example.test"),
        send("250-mail.example.test\r\n250-PIPELINING\r\n250 STARTTLS\r\n"),
        expect("STARTTLS"),
        send("220 2.0.0 Ready to start TLS\r\n"),
        expect("EHLO client.example.test"),
        send(EHLO),
    ]);
    let (stream, upgraded) = FakeTls::new(stream);
    let c = SmtpClient::greet(stream, "h", 587, options())
        .await
        .unwrap();
    assert!(c.auth_mechanisms().is_empty());
    let c = c.starttls(tls_config()).await.unwrap();
    assert!(upgraded.load(Ordering::SeqCst));
    assert!(c.auth_mechanisms().contains(&"XOAUTH2".to_owned()));
    assert!(!c.has_capability("STARTTLS"));
    server.await.unwrap();
}

#[tokio::test]
async fn starttls_is_refused_when_not_offered_or_when_bytes_come_before_the_handshake() {
    let (stream, _server) = scripted(vec![
        send(GREETING),
        expect("EHLO client.example.test"),
        send(EHLO),
        Step::Stall,
    ]);
    let (stream, upgraded) = FakeTls::new(stream);
    let c = SmtpClient::greet(stream, "h", 587, options())
        .await
        .unwrap();
    let e = c.starttls(tls_config()).await.unwrap_err();
    assert!(
        matches!(&e, ProtoError::NotOffered { what, .. } if what == "STARTTLS"),
        "{e}"
    );
    assert_eq!(
        e.diagnosis(ProviderKind::Generic).code,
        "tls_handshake_failed"
    );
    assert!(e.is_permanent());

    let (stream, _server) = scripted(vec![
        send(GREETING),
        expect("EHLO client.example.test"),
        send("250-h\r\n250 STARTTLS\r\n"),
        expect("STARTTLS"),
        send("220 Ready\r\n250 injected\r\n"),
        Step::Stall,
    ]);
    let (stream, upgraded_too) = FakeTls::new(stream);
    let c = SmtpClient::greet(stream, "h", 587, options())
        .await
        .unwrap();
    let e = c.starttls(tls_config()).await.unwrap_err();
    assert!(e.to_string().contains("injected"), "{e}");
    assert!(!upgraded.load(Ordering::SeqCst) && !upgraded_too.load(Ordering::SeqCst));
}

#[tokio::test]
async fn a_connection_dropped_before_the_end_of_data_reply_is_closed_and_unusable() {
    let steps = [
        group(&[BOB], ACCEPTED),
        data_steps(),
        vec![send("25"), Step::Close],
    ];
    let (mut c, _server) = client(steps.concat()).await;
    let e = send_fails(&mut c, &[BOB]).await;
    assert!(matches!(e, ProtoError::Closed { .. }), "{e}");
    assert!(e.is_transient());
    assert!(!c.is_usable());
    assert!(matches!(c.noop().await, Err(ProtoError::Unusable)));
}

#[tokio::test]
async fn a_421_is_transient_and_leaves_the_client_unusable() {
    let closing = "250 Ok\r\n421 4.4.2 mail.example.test Error: timeout exceeded\r\n";
    let steps = [group(&[BOB], closing), vec![Step::Close]];
    let (mut c, _server) = client(steps.concat()).await;
    let e = send_fails(&mut c, &[BOB]).await;
    assert!(matches!(e, ProtoError::Rejected { .. }), "{e}");
    assert!(e.is_transient());
    assert!(!c.is_usable());
    assert!(matches!(c.noop().await, Err(ProtoError::Unusable)));

    let e = greet_fails(vec![send("421 4.3.2 Service shutting down\r\n")]).await;
    assert!(e.is_transient(), "{e}");
}

#[tokio::test]
async fn garbage_and_over_long_replies_are_protocol_errors() {
    let e = greet_fails(vec![send("+OK POP3 ready\r\n")]).await;
    assert!(matches!(e, ProtoError::Protocol { .. }), "{e}");
    assert_eq!(e.server_reply(), Some("+OK POP3 ready"));
    assert_eq!(e.diagnosis(ProviderKind::Generic).code, "connection_closed");

    let e = greet_fails(vec![send("554 5.7.1 No SMTP service here\r\n")]).await;
    assert!(
        matches!(e, ProtoError::Rejected { .. }) && e.is_permanent(),
        "{e}"
    );

    let e = greet_fails(vec![send(vec![b'2'; 20_000]), Step::Stall]).await;
    assert!(e.to_string().contains("longer than"), "{e}");

    let endless = "250-x\r\n".repeat(20_000);
    let e = greet_fails(vec![
        send(GREETING),
        expect("EHLO *"),
        send(endless),
        Step::Stall,
    ])
    .await;
    assert!(e.to_string().contains("a reply longer than"), "{e}");

    let (mut c, _server) = client(vec![expect("NOOP"), send("354 what?\r\n")]).await;
    let e = c.noop().await.unwrap_err();
    assert!(matches!(e, ProtoError::Protocol { .. }), "{e}");
    assert!(!c.is_usable());
}

#[tokio::test]
async fn bare_lf_servers_need_the_named_tolerance() {
    let e = greet_fails(vec![send("220 ready\n")]).await;
    assert!(e.to_string().contains("bare_lf"), "{e}");

    let (stream, server) = scripted(vec![
        send("220 ready\n"),
        expect("EHLO client.example.test"),
        send("250-h\n250 SIZE 1000\n"),
        expect("NOOP"),
        send("250 Ok\n"),
    ]);
    let mut options = options();
    options.tolerances.bare_lf = true;
    let mut c = SmtpClient::greet(stream, "h", 25, options).await.unwrap();
    assert_eq!(c.max_size(), Some(1000));
    c.noop().await.unwrap();
    server.await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn a_silent_server_times_out_on_the_greeting_and_after_the_data() {
    let started = tokio::time::Instant::now();
    let e = greet_fails(vec![Step::Stall]).await;
    assert!(e.is_timeout() && e.is_transient(), "{e}");
    assert!(e.to_string().contains("the greeting"), "{e}");
    assert_eq!(started.elapsed(), TIMEOUT);

    let steps = [group(&[BOB], ACCEPTED), data_steps(), vec![Step::Stall]];
    let (mut c, _server) = client(steps.concat()).await;
    let e = send_fails(&mut c, &[BOB]).await;
    assert!(e.is_timeout(), "{e}");
    assert!(e.to_string().contains("the end of DATA"), "{e}");
    assert_eq!(
        e.diagnosis(ProviderKind::Generic).code,
        "connection_timeout"
    );
    assert!(matches!(c.noop().await, Err(ProtoError::Unusable)));
}

#[tokio::test(start_paused = true)]
async fn a_command_cancelled_half_way_leaves_the_client_unusable() {
    let (mut c, _server) = client(vec![expect("NOOP"), Step::Stall]).await;
    let cancelled = tokio::time::timeout(Duration::from_secs(1), c.noop()).await;
    assert!(cancelled.is_err());
    assert!(!c.is_usable());
    assert!(matches!(c.noop().await, Err(ProtoError::Unusable)));
}

#[tokio::test]
async fn debug_never_shows_credentials() {
    let creds = xoauth2("ya29.debug-secret");
    let (mut c, _server) = client(vec![expect("AUTH XOAUTH2 *"), send("235 2.7.0 Ok\r\n")]).await;
    c.authenticate(&creds).await.unwrap();
    let shown = format!("{c:?}");
    assert!(shown.contains("authenticated: true"), "{shown}");
    assert!(!shown.contains("debug-secret"), "{shown}");
}

/// Random server answers never panic the client (a fuzz target run on every test run).
#[tokio::test]
async fn random_answers_never_panic() {
    let mut seed = 0xd1b5_4a32_d192_ed03u64;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let alphabet: &[u8] = b"25034- .\r\n1 abc\xff";
    for _ in 0..300 {
        let len = (next() % 60) as usize;
        let noise: Vec<u8> = (0..len)
            .map(|_| alphabet[(next() % alphabet.len() as u64) as usize])
            .collect();
        let (stream, _server) = scripted(vec![
            send(GREETING),
            expect("EHLO *"),
            send(EHLO),
            Step::Expect("*".into()),
            Step::Send(noise),
            Step::Close,
        ]);
        let options = SmtpOptions::new(Duration::from_secs(5), "c");
        let mut c = SmtpClient::greet(stream, "h", 25, options).await.unwrap();
        let _ = match next() % 3 {
            0 => c
                .send(&envelope(&["b@example.test"]), MESSAGE)
                .await
                .map(drop),
            1 => c.authenticate(&xoauth2("t")).await,
            _ => c.noop().await,
        };
    }
}

/// The outbox worker spawns these futures on a multi-threaded runtime: they must be `Send`.
#[test]
fn client_futures_are_send() {
    fn assert_send<F: std::future::Future + Send>(_: F) {}
    async fn everything(ep: Endpoint, tls: Arc<rustls::ClientConfig>, creds: Credentials) {
        let mut c = connect(&ep, tls, options()).await.unwrap();
        c.authenticate(&creds).await.unwrap();
        c.send(&envelope(&["b@example.test"]), MESSAGE)
            .await
            .unwrap();
        c.reset().await.unwrap();
        c.noop().await.unwrap();
        c.quit().await.unwrap();
    }
    assert_send(everything(
        Endpoint::new("h", 587, Security::Starttls),
        tls_config(),
        xoauth2("t"),
    ));
}

/// A stream that keeps what each `poll_write` was given: one entry per write the client made.
struct Recording {
    inner: DuplexStream,
    writes: Arc<std::sync::Mutex<Vec<String>>>,
}

impl tokio::io::AsyncRead for Recording {
    fn poll_read(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl tokio::io::AsyncWrite for Recording {
    fn poll_write(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &[u8],
    ) -> std::task::Poll<std::io::Result<usize>> {
        let written = std::pin::Pin::new(&mut self.inner).poll_write(cx, buf);
        if let std::task::Poll::Ready(Ok(n)) = &written {
            let text = String::from_utf8_lossy(&buf[..*n]).into_owned();
            self.writes.lock().unwrap().push(text);
        }
        written
    }

    fn poll_flush(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

#[tokio::test]
async fn each_command_group_goes_out_in_one_write_with_its_line_ends() {
    // A line end written apart (one TLS record, one segment) leaves the server waiting for it,
    // and its answer then waits behind Nagle's algorithm for our delayed ACK.
    let mut steps = vec![
        send(GREETING),
        expect("EHLO client.example.test"),
        send(EHLO),
    ];
    steps.extend(group(
        &[BOB, "carol@example.test"],
        "250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n250 2.1.5 Ok\r\n354 go\r\n",
    ));
    steps.extend(data_steps());
    steps.extend([
        send("250 2.0.0 Ok: queued\r\n"),
        expect("NOOP"),
        send("250 Ok\r\n"),
    ]);
    let (inner, server) = scripted(steps);
    let writes = Arc::new(std::sync::Mutex::new(Vec::new()));
    let stream = Recording {
        inner,
        writes: writes.clone(),
    };
    let mut c = SmtpClient::greet(stream, "smtp.example.test", 587, options())
        .await
        .unwrap();
    c.send(&envelope(&[BOB, "carol@example.test"]), MESSAGE)
        .await
        .unwrap();
    c.noop().await.unwrap();
    server.await.unwrap();
    assert_eq!(
        *writes.lock().unwrap(),
        [
            "EHLO client.example.test\r\n",
            "MAIL FROM:<alice@example.test> SIZE=22\r\nRCPT TO:<bob@example.test>\r\nRCPT TO:<carol@example.test>\r\nDATA\r\n",
            "Subject: hi\r\n\r\nhello\r\n.\r\n",
            "NOOP\r\n",
        ]
    );
}
