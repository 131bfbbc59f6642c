//! IMAP client against Dovecot: OAuth and password logins over implicit TLS and STARTTLS, a
//! revoked token's diagnosis, the mailbox operations a watcher uses on delivered mail, and IDLE.

use mailgate_proto::ProtoError;
use mailgate_proto::dial::{Endpoint, MailStream, Security};
use mailgate_proto::error::ProviderKind;
use mailgate_proto::imap::{self, IdleOutcome, ImapSession};
use mailgate_proto::sasl::Credentials;
use mailgate_proto::tls::client_config;
use mailgate_testkit::World;
use mailgate_testkit::eventually;
use mailgate_testkit::mailstack::ALICE;
use mailgate_testkit::world;
use secrecy::SecretString;
use std::sync::Arc;
use std::time::{Duration, Instant};

const TIMEOUT: Duration = Duration::from_secs(10);
const MAX: usize = 1 << 20;

fn tls(w: &World) -> Arc<rustls::ClientConfig> {
    client_config(Some(&w.stack.ca_pem), &[]).unwrap()
}

fn port(w: &World, security: Security) -> u16 {
    match security {
        Security::Ssl => w.stack.imaps_port,
        _ => w.stack.imap_port,
    }
}

fn xoauth2(user: &str, token: &str) -> Credentials {
    Credentials::XOAuth2 {
        user: user.to_owned(),
        token: SecretString::from(token),
    }
}

async fn login(w: &World, security: Security, creds: &Credentials) -> ImapSession<MailStream> {
    let ep = Endpoint::new("127.0.0.1", port(w, security), security);
    let client = imap::connect(&ep, tls(w), TIMEOUT).await.unwrap();
    client
        .login(creds)
        .await
        .unwrap_or_else(|e| panic!("{security:?} {:?}: {e}", creds.mechanism()))
}

/// A fresh user's INBOX, selected over IMAPS with XOAUTH2.
async fn inbox(w: &World, user: &str) -> ImapSession<MailStream> {
    let mut s = login(w, Security::Ssl, &xoauth2(user, &w.mint_token(user))).await;
    s.select("INBOX").await.unwrap();
    s
}

/// A message in the shape `World::deliver` stores exactly (it adds the final CRLF).
fn message(user: &str, n: u32) -> String {
    format!(
        "From: sender@example.net\r\nTo: {user}\r\nSubject: imap {n}\r\nMessage-ID: <imap-{n}-{user}>\r\nDate: Sun, 22 Nov 2026 04:00:00 +0000\r\n\r\nbody {n}\r\n.leading dot\r\nlast line"
    )
}

/// Waits until the selected folder holds at least `count` UIDs above `after`.
async fn wait_for(s: &mut ImapSession<MailStream>, after: u32, count: usize) -> Vec<u32> {
    let what = format!("{count} UIDs above {after}");
    eventually(&what, Duration::from_secs(10), async || {
        let uids = s.uids_since(after).await.unwrap();
        (uids.len() >= count).then_some(uids)
    })
    .await
}

#[tokio::test]
async fn imap_xoauth2_and_oauthbearer_log_in_over_ssl_and_starttls() {
    let w = world();
    let user = w.fresh_user("imap-oauth");
    let token = w.mint_token(&user);
    for security in [Security::Ssl, Security::Starttls] {
        for creds in [
            xoauth2(&user, &token),
            Credentials::OAuthBearer {
                user: user.clone(),
                token: SecretString::from(token.as_str()),
                host: "127.0.0.1".into(),
                port: port(w, security),
            },
        ] {
            let mut s = login(w, security, &creds).await;
            assert!(s.supports_idle());
            assert!(s.capabilities().has("MOVE"), "{:?}", s.capabilities());
            assert_eq!(s.select("INBOX").await.unwrap().exists, 0);
            s.logout().await.unwrap();
        }
    }
}

#[tokio::test]
async fn imap_password_login_with_alice() {
    let w = world();
    let creds = Credentials::Plain {
        user: ALICE.0.into(),
        password: SecretString::from(ALICE.1),
    };
    for security in [Security::Ssl, Security::Starttls] {
        let mut s = login(w, security, &creds).await;
        assert!(s.select("INBOX").await.unwrap().uid_validity > 0);
        s.logout().await.unwrap();
    }
    let wrong = Credentials::Plain {
        user: ALICE.0.into(),
        password: SecretString::from("wrong-password"),
    };
    let ep = Endpoint::new("127.0.0.1", w.stack.imaps_port, Security::Ssl);
    let client = imap::connect(&ep, tls(w), TIMEOUT).await.unwrap();
    let e = client.login(&wrong).await.unwrap_err();
    assert!(e.is_auth() && e.is_permanent(), "{e}");
    assert_eq!(e.diagnosis(ProviderKind::Generic).code, "auth_failed");
    assert!(!format!("{e:?}").contains("wrong-password"));
}

#[tokio::test]
async fn imap_revoked_token_is_diagnosed_as_rejected_with_the_401_challenge() {
    let w = world();
    let user = w.fresh_user("imap-revoked");
    let token = w.mint_token(&user);
    assert!(w.emulator.control().revoke(&token));
    for security in [Security::Ssl, Security::Starttls] {
        let ep = Endpoint::new("127.0.0.1", port(w, security), security);
        let client = imap::connect(&ep, tls(w), TIMEOUT).await.unwrap();
        let e = client.login(&xoauth2(&user, &token)).await.unwrap_err();
        assert!(e.is_auth(), "{e}");
        assert_eq!(e.sasl_status().as_deref(), Some("401"), "{e:?}");
        assert_eq!(
            e.server_reply(),
            Some("NO [AUTHENTICATIONFAILED] Authentication failed.")
        );
        let d = e.diagnosis(ProviderKind::Google);
        assert_eq!(d.code, "access_token_rejected", "{d}");
        assert!(!format!("{e:?}{e}").contains(&token));
    }
}

#[tokio::test]
async fn imap_select_list_fetch_flag_move_and_delete_delivered_mail() {
    let w = world();
    let user = w.fresh_user("imap-flow");
    let mut s = inbox(w, &user).await;
    let first = s.select("INBOX").await.unwrap();
    assert!(first.uid_validity > 0);
    assert_eq!(first.exists, 0);
    for n in 1..=3 {
        w.deliver("sender@example.net", &user, &message(&user, n))
            .await;
    }
    let uids = wait_for(&mut s, 0, 3).await;
    assert_eq!(uids.len(), 3);
    assert!(uids.windows(2).all(|p| p[0] < p[1]), "{uids:?}");

    for (i, uid) in uids.iter().enumerate() {
        let raw = s.fetch(*uid, MAX).await.unwrap();
        let original = format!("{}\r\n", message(&user, i as u32 + 1));
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
    // Over the cap: refused, and the session goes on.
    let e = s.fetch(uids[0], 20).await.unwrap_err();
    assert!(
        matches!(
            e,
            ProtoError::TooLarge {
                size: Some(_),
                max: 20,
                ..
            }
        ),
        "{e}"
    );
    let last = *uids.last().unwrap();
    // `n:*` past the last UID: Dovecot answers the last message; the client filters it.
    assert!(s.uids_since(last).await.unwrap().is_empty());
    let e = s.fetch(last + 100, MAX).await.unwrap_err();
    assert!(matches!(e, ProtoError::NoSuchMessage { .. }), "{e}");

    s.mark_seen(&[uids[0]]).await.unwrap();
    s.move_to(&[uids[0]], "Archive").await.unwrap();
    assert_eq!(s.uids_since(0).await.unwrap(), &uids[1..]);
    s.delete(&[uids[1]]).await.unwrap();
    assert_eq!(s.uids_since(0).await.unwrap(), &uids[2..]);

    let archive = s.select("Archive").await.unwrap();
    assert_eq!(archive.exists, 1);
    let moved = s.uids_since(0).await.unwrap();
    let raw = s.fetch(moved[0], MAX).await.unwrap();
    assert!(raw.ends_with(format!("{}\r\n", message(&user, 1)).as_bytes()));
    let e = s.select("No Such Folder").await.unwrap_err();
    assert_eq!(
        e.diagnosis(ProviderKind::Generic).code,
        "mailbox_not_accessible"
    );
    assert!(e.server_reply().unwrap().starts_with("NO"), "{e}");
    // UIDVALIDITY is stable for a folder.
    assert_eq!(
        s.select("INBOX").await.unwrap().uid_validity,
        first.uid_validity
    );
    s.logout().await.unwrap();
}

#[tokio::test]
async fn imap_idle_wakes_up_on_delivery_and_times_out_when_nothing_comes() {
    let w = world();
    let user = w.fresh_user("imap-idle");
    let s = inbox(w, &user).await;

    let started = Instant::now();
    let (s, outcome) = s.idle(Duration::from_secs(1)).await.unwrap();
    assert_eq!(outcome, IdleOutcome::Timeout);
    let waited = started.elapsed();
    assert!(
        waited >= Duration::from_millis(900) && waited < Duration::from_secs(3),
        "{waited:?}"
    );

    let started = Instant::now();
    let deliver = async {
        tokio::time::sleep(Duration::from_millis(300)).await;
        w.deliver("sender@example.net", &user, &message(&user, 1))
            .await;
    };
    let (idle, ()) = tokio::join!(s.idle(Duration::from_secs(20)), deliver);
    let (mut s, outcome) = idle.unwrap();
    let waited = started.elapsed();
    assert_eq!(outcome, IdleOutcome::NewData);
    assert!(waited < Duration::from_secs(5), "{waited:?}");
    assert_eq!(s.uids_since(0).await.unwrap().len(), 1);
    s.logout().await.unwrap();
}
