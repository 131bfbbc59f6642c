//! Mailboxes that sign in with a password (Dovecot's PLAIN/LOGIN users), over POP3.

use super::watch::mail;
use mailgate_core::receive::watch;
use mailgate_testkit::spawn_app_on_world as spawn_app;
use serde_json::json;
use std::time::{Duration, Instant};

/// POP3 over SSL with a password and `keep`: the message becomes a ticket once, stays on the
/// server, and the next session (UIDL already seen) imports nothing again.
#[tokio::test]
async fn pop3_with_a_password_imports_once_and_keeps_the_mail() {
    let app = spawn_app().await;
    let (bob, password) = mailgate_testkit::mailstack::BOB;
    let stack = &app.world().stack;
    let server = app
        .post(
            "/api/v1/incoming-servers",
            json!({"name": "Bob", "email": bob, "protocol": "pop3", "host": "127.0.0.1", "port": stack.pop3s_port,
                   "security": "ssl", "auth": "basic", "password": password, "after_import": "keep"}),
        )
        .await;
    assert_eq!(server.status, 201, "{}", server.body);
    let subject = format!("Kept {}", uuid::Uuid::new_v4());
    app.world()
        .deliver("customer@example.com", bob, &mail(bob, &subject))
        .await;
    let deadline = Instant::now() + Duration::from_secs(10);
    while !app
        .world()
        .read_inbox(bob, 0, Duration::ZERO)
        .await
        .iter()
        .any(|m| m.contains(&subject))
    {
        assert!(Instant::now() < deadline, "not delivered");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let mb = watch::load_mailbox(
        &app.core,
        server.body["id"].as_str().unwrap().parse().unwrap(),
    )
    .await
    .unwrap();
    let (_stop, stopped) = tokio::sync::watch::channel(false);
    let with_subject = || async {
        let q = subject.replace(' ', "%20");
        app.get(&format!("/api/v1/tickets?q={q}"))
            .await
            .body
            .as_array()
            .map_or(0, Vec::len)
    };
    for session in 1..=2 {
        assert_eq!(
            watch::pop3_session(&app.core, &mb, &stopped).await.unwrap(),
            watch::Ended::Again
        );
        assert_eq!(
            with_subject().await,
            1,
            "one ticket after session {session}"
        );
    }
    let inbox = app.world().read_inbox(bob, 0, Duration::ZERO).await;
    assert!(
        inbox.iter().any(|m| m.contains(&subject)),
        "kept on the server"
    );
}
