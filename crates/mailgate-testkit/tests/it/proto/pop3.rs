//! POP3 client against Dovecot: OAuth and password logins over implicit TLS and STLS, a revoked
//! token's diagnosis, and STAT / UIDL / RETR / DELE / QUIT round trips on delivered mail.

use mailgate_proto::ProtoError;
use mailgate_proto::dial::{Endpoint, MailStream, Security};
use mailgate_proto::error::ProviderKind;
use mailgate_proto::pop3::{self, Pop3Client};
use mailgate_proto::sasl::Credentials;
use mailgate_proto::tls::client_config;
use mailgate_testkit::World;
use mailgate_testkit::eventually;
use mailgate_testkit::mailstack::ALICE;
use mailgate_testkit::world;
use secrecy::SecretString;
use std::sync::Arc;
use std::time::Duration;

const TIMEOUT: Duration = Duration::from_secs(10);
const MAX: usize = 1 << 20;

fn tls(w: &World) -> Arc<rustls::ClientConfig> {
    client_config(Some(&w.stack.ca_pem), &[]).unwrap()
}

fn endpoint(port: u16, security: Security) -> Endpoint {
    Endpoint::new("127.0.0.1", port, security)
}

async fn connect(w: &World, security: Security) -> Pop3Client<MailStream> {
    let port = match security {
        Security::Ssl => w.stack.pop3s_port,
        _ => w.stack.pop3_port,
    };
    pop3::connect(&endpoint(port, security), tls(w), TIMEOUT)
        .await
        .unwrap()
}

fn xoauth2(user: &str, token: &str) -> Credentials {
    Credentials::XOAuth2 {
        user: user.to_owned(),
        token: SecretString::from(token),
    }
}

/// A message in the shape `World::deliver` stores exactly: CRLF line ends, no final line end
/// (delivery adds it), a dot-stuffed line and a lone dot in the body.
fn message(user: &str, n: u32) -> String {
    format!(
        "From: sender@example.net\r\nTo: {user}\r\nSubject: pop3 {n}\r\nMessage-ID: <pop3-{n}-{user}>\r\nDate: Sun, 22 Nov 2026 04:00:00 +0000\r\n\r\nline one\r\n.leading dot\r\n.\r\nlast line {n}"
    )
}

/// Logs in as `user` and waits until the mailbox holds `count` messages.
async fn session_with(w: &World, user: &str, count: u32) -> Pop3Client<MailStream> {
    let what = format!("{count} messages in the mailbox of {user}");
    eventually(&what, Duration::from_secs(10), async || {
        let mut c = connect(w, Security::Ssl).await;
        c.login(&xoauth2(user, &w.mint_token(user))).await.unwrap();
        if c.stat().await.unwrap().count >= count {
            return Some(c);
        }
        c.quit().await.unwrap();
        None
    })
    .await
}

#[tokio::test]
async fn pop3_xoauth2_and_oauthbearer_log_in_over_ssl_and_stls() {
    let w = world();
    let user = w.fresh_user("pop3-oauth");
    let token = w.mint_token(&user);
    for security in [Security::Ssl, Security::Starttls] {
        let port = match security {
            Security::Ssl => w.stack.pop3s_port,
            _ => w.stack.pop3_port,
        };
        for creds in [
            xoauth2(&user, &token),
            Credentials::OAuthBearer {
                user: user.clone(),
                token: SecretString::from(token.as_str()),
                host: "127.0.0.1".into(),
                port,
            },
        ] {
            let mut c = connect(w, security).await;
            let offered = c.sasl_mechanisms().unwrap();
            assert!(offered.iter().any(|m| m == "XOAUTH2"), "{offered:?}");
            c.login(&creds)
                .await
                .unwrap_or_else(|e| panic!("{security:?} {:?}: {e}", creds.mechanism()));
            assert_eq!(c.stat().await.unwrap().count, 0);
            c.quit().await.unwrap();
        }
    }
}

#[tokio::test]
async fn pop3_password_logins_with_sasl_plain_and_user_pass() {
    let w = world();
    let creds = Credentials::Plain {
        user: ALICE.0.into(),
        password: SecretString::from(ALICE.1),
    };
    let mut c = connect(w, Security::Ssl).await;
    c.login(&creds).await.unwrap();
    c.stat().await.unwrap();
    c.quit().await.unwrap();

    let mut c = connect(w, Security::Starttls).await;
    c.user_pass(&creds).await.unwrap();
    c.quit().await.unwrap();

    // SASL LOGIN, what a server without PLAIN gets.
    let mut c = connect(w, Security::Ssl).await;
    c.authenticate_with(&creds, mailgate_proto::sasl::Mechanism::Login)
        .await
        .unwrap();
    c.stat().await.unwrap();
    c.quit().await.unwrap();

    let wrong = Credentials::Plain {
        user: ALICE.0.into(),
        password: SecretString::from("wrong-password"),
    };
    let mut c = connect(w, Security::Ssl).await;
    let e = c.login(&wrong).await.unwrap_err();
    assert!(e.is_auth() && e.is_permanent(), "{e}");
    assert!(!format!("{e:?}").contains("wrong-password"));
}

#[tokio::test]
async fn pop3_revoked_token_is_diagnosed_as_rejected_with_the_401_challenge() {
    let w = world();
    let user = w.fresh_user("pop3-revoked");
    let token = w.mint_token(&user);
    assert!(w.emulator.control().revoke(&token));
    let mut c = connect(w, Security::Ssl).await;
    let e = c.login(&xoauth2(&user, &token)).await.unwrap_err();
    assert!(e.is_auth(), "{e}");
    assert_eq!(e.sasl_status().as_deref(), Some("401"), "{e:?}");
    assert!(e.server_reply().unwrap().starts_with("-ERR"), "{e:?}");
    let d = e.diagnosis(ProviderKind::Google);
    assert_eq!(d.code, "access_token_rejected", "{d}");
    assert!(e.is_transient());
    // The failed login ended cleanly: the connection is still usable.
    c.quit().await.unwrap();
}

#[tokio::test]
async fn pop3_stat_uidl_retr_dele_quit_round_trip_and_stable_uidls() {
    let w = world();
    let user = w.fresh_user("pop3-flow");
    for n in 1..=2 {
        w.deliver("sender@example.net", &user, &message(&user, n))
            .await;
    }
    let mut c = session_with(w, &user, 2).await;
    let stat = c.stat().await.unwrap();
    assert_eq!(stat.count, 2);
    let uidl = c.uidl().await.unwrap();
    assert_eq!(uidl.iter().map(|(n, _)| *n).collect::<Vec<_>>(), [1, 2]);
    let list = c.list().await.unwrap();
    assert_eq!(list.iter().map(|(_, size)| size).sum::<u64>(), stat.size);
    for (n, size) in &list {
        let raw = c.retr(*n, MAX).await.unwrap();
        assert_eq!(raw.len() as u64, *size);
        let original = format!("{}\r\n", message(&user, *n));
        assert!(
            raw.ends_with(original.as_bytes()),
            "{}",
            String::from_utf8_lossy(&raw)
        );
        assert!(
            raw.starts_with(b"Return-Path:"),
            "{}",
            String::from_utf8_lossy(&raw)
        );
    }
    // A cap under the size fails without touching the mailbox.
    let e = c.retr(1, 10).await.unwrap_err();
    assert!(matches!(e, ProtoError::TooLarge { .. }), "{e}");
    drop(c);

    let mut c = session_with(w, &user, 2).await;
    assert_eq!(
        c.uidl().await.unwrap(),
        uidl,
        "UIDL changed between sessions"
    );
    c.dele(1).await.unwrap();
    c.quit().await.unwrap();

    let mut c = session_with(w, &user, 1).await;
    assert_eq!(c.stat().await.unwrap().count, 1);
    assert_eq!(c.uidl().await.unwrap(), [(1, uidl[1].1.clone())]);
    let e = c.retr(2, MAX).await.unwrap_err();
    assert!(matches!(e, ProtoError::NoSuchMessage { .. }), "{e}");
    c.quit().await.unwrap();
}

#[tokio::test]
async fn pop3_untrusted_certificate_is_named() {
    let w = world();
    let e = pop3::connect(
        &endpoint(w.stack.pop3s_port, Security::Ssl),
        client_config(None, &[]).unwrap(),
        TIMEOUT,
    )
    .await
    .unwrap_err();
    assert_eq!(
        e.diagnosis(ProviderKind::Google).code,
        "tls_untrusted_certificate",
        "{e}"
    );
}
