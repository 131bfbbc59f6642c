//! SMTP client against Postfix (SASL by Dovecot, bearer tokens checked at the Google
//! emulator): XOAUTH2 and OAUTHBEARER on submission with STARTTLS and on implicit TLS, a
//! revoked token's challenge, password logins, recipients refused by the inbound port, and
//! messages read back over IMAP with their dots and line ends intact.

use mailgate_proto::ProtoError;
use mailgate_proto::dial::{Endpoint, MailStream, Security};
use mailgate_proto::error::ProviderKind;
use mailgate_proto::sasl::Credentials;
use mailgate_proto::smtp::{self, Delivery, Envelope, SmtpClient, SmtpOptions};
use mailgate_proto::tls::client_config;
use mailgate_testkit::World;
use mailgate_testkit::mailstack::ALICE;
use mailgate_testkit::world;
use secrecy::SecretString;
use std::time::Duration;

const TIMEOUT: Duration = Duration::from_secs(10);
const WAIT: Duration = Duration::from_secs(10);
const XOAUTH2_FAILURE: &str = r#"{"status":"401","schemes":"bearer","scope":"mail"}"#;

fn port(w: &World, security: Security) -> u16 {
    match security {
        Security::Ssl => w.stack.smtps_port,
        Security::Starttls => w.stack.submission_port,
        Security::None => w.stack.smtp_port,
    }
}

async fn connect(w: &World, security: Security) -> SmtpClient<MailStream> {
    let ep = Endpoint::new("127.0.0.1", port(w, security), security);
    let tls = client_config(Some(&w.stack.ca_pem), &[]).unwrap();
    smtp::connect(&ep, tls, SmtpOptions::new(TIMEOUT, "client.example.test"))
        .await
        .unwrap_or_else(|e| panic!("{security:?}: {e}"))
}

fn xoauth2(user: &str, token: &str) -> Credentials {
    Credentials::XOAuth2 {
        user: user.to_owned(),
        token: SecretString::from(token),
    }
}

/// A message with a dot-leading line, a lone dot and a bare LF: what must survive submission.
fn message(from: &str, to: &str, marker: &str) -> String {
    format!(
        "From: <{from}>\r\nTo: <{to}>\r\nSubject: smtp {marker}\r\nMessage-ID: <{marker}@example.test>\r\n\r\nline one\r\n.leading dot\r\n.\r\nbare lf\nlast line {marker}\r\n"
    )
}

/// Sends a new [`message`] from `from` to `recipients` (its To header names the first);
/// returns the message's marker and the outcome.
async fn send_new(
    c: &mut SmtpClient<MailStream>,
    from: &str,
    recipients: &[&str],
) -> (String, Result<Delivery, ProtoError>) {
    let marker = uuid();
    let raw = message(from, recipients[0], &marker);
    let envelope = Envelope::new(from, recipients.iter().copied());
    (marker, c.send(&envelope, raw.as_bytes()).await)
}

/// The one message in `user`'s INBOX whose Subject has `marker`.
async fn received(w: &World, user: &str, marker: &str, count: usize) -> String {
    let inbox = w.read_inbox(user, count, WAIT).await;
    assert_eq!(inbox.len(), count, "{inbox:?}");
    let found: Vec<&String> = inbox
        .iter()
        .filter(|m| m.contains(&format!("Subject: smtp {marker}")))
        .collect();
    assert_eq!(found.len(), 1, "{inbox:?}");
    found[0].clone()
}

fn assert_intact(raw: &str, marker: &str) {
    let body = format!("\r\n\r\nline one\r\n.leading dot\r\n.\r\nbare lf\r\nlast line {marker}");
    assert!(raw.contains(&body), "{raw}");
}

#[tokio::test]
async fn smtp_xoauth2_on_starttls_and_ssl_delivers_the_message_intact() {
    let w = world();
    for security in [Security::Starttls, Security::Ssl] {
        let sender = w.fresh_user("smtp-sender");
        let rcpt = w.fresh_user("smtp-rcpt");
        let mut c = connect(w, security).await;
        assert!(
            c.auth_mechanisms().iter().any(|m| m == "XOAUTH2"),
            "{:?}",
            c.capabilities()
        );
        assert_eq!(c.max_size(), Some(52_428_800));
        assert!(c.has_capability("PIPELINING"));
        c.authenticate(&xoauth2(&sender, &w.mint_token(&sender)))
            .await
            .unwrap_or_else(|e| panic!("{security:?}: {e}"));
        let (marker, d) = send_new(&mut c, &sender, &[&rcpt]).await;
        let d = d.unwrap();
        assert_eq!(d.accepted, [rcpt.as_str()]);
        assert!(d.rejected.is_empty());
        assert_eq!(d.reply.code, 250);
        assert_eq!(d.reply.enhanced.as_deref(), Some("2.0.0"));
        assert!(d.reply.text.contains("queued as"), "{}", d.reply);
        c.quit().await.unwrap();
        assert_intact(&received(w, &rcpt, &marker, 1).await, &marker);
    }
}

#[tokio::test]
async fn smtp_revoked_token_keeps_the_challenge_and_the_connection() {
    let w = world();
    let sender = w.fresh_user("smtp-revoked");
    let token = w.mint_token(&sender);
    assert!(w.emulator.control().revoke(&token));
    let mut c = connect(w, Security::Starttls).await;
    let e = c.authenticate(&xoauth2(&sender, &token)).await.unwrap_err();
    assert!(e.is_auth(), "{e}");
    assert_eq!(e.sasl_challenge(), Some(XOAUTH2_FAILURE), "{e:?}");
    assert_eq!(e.sasl_status().as_deref(), Some("401"));
    assert!(e.server_reply().unwrap().starts_with("535 5.7.8"), "{e:?}");
    assert_eq!(
        e.diagnosis(ProviderKind::Google).code,
        "access_token_rejected"
    );
    assert!(e.is_transient());
    assert!(!format!("{e:?}{e}").contains(&token));
    // The failed login ended cleanly: the connection still answers.
    assert!(c.is_usable());
    c.noop().await.unwrap();
    c.quit().await.unwrap();
}

#[tokio::test]
async fn smtp_oauthbearer_logs_in_and_sends() {
    let w = world();
    let sender = w.fresh_user("smtp-bearer");
    let rcpt = w.fresh_user("smtp-bearer-rcpt");
    let mut c = connect(w, Security::Ssl).await;
    let creds = Credentials::OAuthBearer {
        user: sender.clone(),
        token: SecretString::from(w.mint_token(&sender)),
        host: "127.0.0.1".into(),
        port: w.stack.smtps_port,
    };
    c.authenticate(&creds).await.unwrap();
    let (marker, d) = send_new(&mut c, &sender, &[&rcpt]).await;
    d.unwrap();
    c.quit().await.unwrap();
    assert_intact(&received(w, &rcpt, &marker, 1).await, &marker);
}

#[tokio::test]
async fn smtp_two_messages_over_one_connection_with_rset_and_noop() {
    let w = world();
    let rcpt = w.fresh_user("smtp-reuse");
    let mut c = connect(w, Security::Starttls).await;
    let alice = Credentials::Plain {
        user: ALICE.0.into(),
        password: SecretString::from(ALICE.1),
    };
    c.authenticate(&alice).await.unwrap();
    let mut markers = Vec::new();
    for _ in 0..2 {
        let (marker, d) = send_new(&mut c, ALICE.0, &[&rcpt]).await;
        d.unwrap();
        markers.push(marker);
        c.reset().await.unwrap();
        c.noop().await.unwrap();
        assert!(c.is_usable());
    }
    c.quit().await.unwrap();
    for marker in &markers {
        assert_intact(&received(w, &rcpt, marker, 2).await, marker);
    }

    // A wrong password, short (on the AUTH line) and long (after the empty 334).
    let mut c = connect(w, Security::Ssl).await;
    for password in ["wrong-password".to_owned(), "wrong-".repeat(100)] {
        let wrong = Credentials::Plain {
            user: ALICE.0.into(),
            password: SecretString::from(password.as_str()),
        };
        let e = c.authenticate(&wrong).await.unwrap_err();
        assert!(e.is_auth() && e.is_permanent(), "{e}");
        assert_eq!(e.diagnosis(ProviderKind::Generic).code, "auth_failed");
        assert!(!format!("{e:?}{e}").contains(&password));
    }
}

/// The inbound port takes mail for the stack's domain only: a recipient elsewhere is refused
/// (relaying denied) while the others still get the message.
#[tokio::test]
async fn smtp_refused_recipients_are_reported_and_the_connection_stays_usable() {
    let w = world();
    let rcpt = w.fresh_user("smtp-partial");
    let elsewhere = "someone@elsewhere.example";
    let mut c = connect(w, Security::None).await;
    let (marker, d) = send_new(&mut c, "sender@example.net", &[&rcpt, elsewhere]).await;
    let d = d.unwrap();
    assert_eq!(d.accepted, [rcpt.as_str()]);
    assert_eq!(d.rejected.len(), 1);
    let (address, reply) = &d.rejected[0];
    assert_eq!(address, elsewhere);
    assert_eq!(
        (reply.code, reply.enhanced.as_deref()),
        (554, Some("5.7.1"))
    );
    assert!(reply.text.contains("Relay access denied"), "{reply}");

    let (_, refused) = send_new(&mut c, "sender@example.net", &[elsewhere]).await;
    let e = refused.unwrap_err();
    assert!(
        matches!(&e, ProtoError::Rejected { command, .. } if command == "RCPT TO:<someone@elsewhere.example>"),
        "{e}"
    );
    assert!(e.is_permanent());
    assert_eq!(e.diagnosis(ProviderKind::Generic).code, "smtp_rejected");
    assert!(c.is_usable());
    c.noop().await.unwrap();
    c.quit().await.unwrap();
    assert_intact(&received(w, &rcpt, &marker, 1).await, &marker);
}

fn uuid() -> String {
    uuid::Uuid::new_v4().to_string()
}
