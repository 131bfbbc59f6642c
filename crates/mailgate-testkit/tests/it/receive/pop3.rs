//! POP3 mailboxes against Dovecot: a password login, `keep`, and what `delete` leaves.

use super::watch::{app_taking_at_most, huge, mail, oauth_server};
use mailgate_core::receive::{connect, pop3};
use mailgate_store::testing::TestQueries as _;
use mailgate_testkit::eventually;
use mailgate_testkit::spawn_app_on_world as spawn_app;
use serde_json::json;
use std::time::Duration;

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
            json!({"name": "Bob", "email": bob, "protocol": "pop3", "import_from": "all", "host": "127.0.0.1", "port": stack.pop3s_port,
                   "security": "ssl", "auth": "basic", "password": password, "after_import": "keep"}),
        )
        .await;
    assert_eq!(server.status, 201, "{}", server.body);
    let subject = format!("Kept {}", uuid::Uuid::new_v4());
    app.world()
        .deliver("customer@example.com", bob, &mail(bob, &subject))
        .await;
    eventually(
        "the message delivered",
        Duration::from_secs(10),
        async || {
            let inbox = app.world().read_inbox(bob, 0, Duration::ZERO).await;
            inbox.iter().any(|m| m.contains(&subject)).then_some(())
        },
    )
    .await;
    let mb = connect::load_mailbox(
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
            pop3::pop3_session(&app.core, &mb, &stopped).await.unwrap(),
            connect::Ended::Again
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

/// With `delete`, imported mail is deleted after the commit, on this pass or the next; mail not
/// stored (too large, ignored by the filter) is never deleted, however many passes see it.
#[tokio::test]
async fn delete_never_removes_mail_that_was_not_stored() {
    let app = app_taking_at_most(4096).await;
    let stack = &app.world().stack;
    let (mailbox, server) = oauth_server(
        &app,
        json!({"protocol": "pop3", "port": stack.pop3s_port, "after_import": "delete",
               "filter": {"type": "ignore", "keywords": ["newsletter"]}}),
    )
    .await;
    let world = app.world();
    world
        .deliver(
            "customer@example.com",
            &mailbox,
            &mail(&mailbox, "Our newsletter"),
        )
        .await;
    let big = huge(&mailbox);
    world
        .deliver("customer@example.com", &mailbox, &mail(&mailbox, "Small"))
        .await;
    world.deliver("customer@example.com", &mailbox, &big).await;
    world.read_inbox(&mailbox, 3, Duration::from_secs(10)).await;
    let mb = connect::load_mailbox(&app.core, server["id"].as_str().unwrap().parse().unwrap())
        .await
        .unwrap();
    let (_stop, stopped) = tokio::sync::watch::channel(false);
    // The first pass ends at the big one: a POP3 connection cannot skip the rest of a RETR,
    // so what was read before it is imported and the pass stops there (nothing deleted yet).
    let first = pop3::pop3_session(&app.core, &mb, &stopped).await;
    assert_eq!(
        app.core.store.count_messages().await.unwrap(),
        1,
        "{first:?}"
    );
    for pass in 2..=3 {
        let ended = pop3::pop3_session(&app.core, &mb, &stopped).await;
        assert_eq!(ended.unwrap(), connect::Ended::Again, "pass {pass}");
    }
    assert_eq!(app.core.store.count_messages().await.unwrap(), 1);
    let left = world.read_inbox(&mailbox, 0, Duration::ZERO).await;
    assert_eq!(left.len(), 2, "only the small one is deleted");
    assert!(left.iter().any(|m| m.contains("Subject: Huge")));
    assert!(left.iter().any(|m| m.contains("Subject: Our newsletter")));
}
