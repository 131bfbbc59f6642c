//! The supervisor follows changes at once (its safety-net poll is an hour here): a consent, a
//! new server, an edit, a disable; and settings changed by PATCH apply to the next message.

use super::watch::{mail, oauth_server, ticket_messages, until_tickets};
use mailgate_testkit::eventually;
use mailgate_testkit::{TestApp, TestConfig, on_world, spawn_app_with};
use serde_json::{Value, json};
use std::time::{Duration, Instant};

/// An app whose background workers run, as in production, with the supervisor's poll at an hour.
async fn spawn_app() -> TestApp {
    spawn_app_with(on_world(TestConfig::default().with_workers())).await
}

/// How many tickets hold a message with this subject (a single word).
async fn tickets_with(app: &TestApp, subject: &str) -> usize {
    app.get(&format!("/api/v1/tickets?q={subject}"))
        .await
        .body
        .as_array()
        .map_or(0, Vec::len)
}

/// Waits (bounded) until a ticket holds a message with this subject; `what` names the wait.
async fn until_ticket_with(app: &TestApp, subject: &str, within: Duration, what: &str) {
    eventually(what, within, async || {
        (tickets_with(app, subject).await > 0).then_some(())
    })
    .await
}

/// Delivers a message with `subject` to a password user of the stack and waits until it is in
/// the INBOX.
async fn deliver_to_password_user(app: &TestApp, user: (&str, &str), subject: &str) {
    let (address, password) = user;
    app.world()
        .deliver("customer@example.com", address, &mail(address, subject))
        .await;
    eventually(
        "the message delivered",
        Duration::from_secs(10),
        async || {
            let (mut imap, _) = app
                .world()
                .open_folder(address, Some(password), "INBOX")
                .await;
            let found = imap
                .imap("s1", &format!("UID SEARCH SUBJECT {subject}"))
                .await
                .iter()
                .any(|l| l.starts_with("* SEARCH ") && l.len() > "* SEARCH ".len());
            imap.imap("s2", "LOGOUT").await;
            found.then_some(())
        },
    )
    .await
}

/// PATCHes the incoming server, asserting the answer.
async fn patch(app: &TestApp, server: &Value, body: Value) {
    let id = server["id"].as_str().expect("an id");
    let answer = app
        .patch(&format!("/api/v1/incoming-servers/{id}"), body)
        .await;
    assert_eq!(answer.status, 200, "{}", answer.body);
}

/// Whether an event of this kind was recorded.
async fn has_event(app: &TestApp, kind: &str) -> bool {
    let events = app.get("/api/v1/events").await.body;
    events.as_array().unwrap().iter().any(|e| e["kind"] == kind)
}

/// A consented OAuth server whose watcher has read a first message ("Before") into a ticket.
async fn reading_server(app: &TestApp) -> (String, Value) {
    let (mailbox, server) = oauth_server(app, json!({"after_import": "leave"})).await;
    app.world()
        .deliver("customer@example.com", &mailbox, &mail(&mailbox, "Before"))
        .await;
    let read = until_tickets(app, 1, Duration::from_secs(10)).await;
    assert_eq!(read.len(), 1, "the first message was not read");
    (mailbox, server)
}

/// Issue 13: a freshly consented mailbox's first ticket appears without waiting for a poll
/// (an hour here) or a backoff.
#[tokio::test]
async fn a_mailbox_reads_its_mail_as_soon_as_its_consent_completes() {
    let app = spawn_app().await;
    let oauth = app.google_oauth_app().await;
    let world = app.world();
    let mailbox = world.fresh_user("consent");
    world
        .deliver("customer@example.com", &mailbox, &mail(&mailbox, "Waiting"))
        .await;
    world.read_inbox(&mailbox, 1, Duration::from_secs(10)).await;
    // Created first: its watcher starts, finds no grant, and pauses.
    let created = app
        .post("/api/v1/incoming-servers", json!({"name": "Consent", "email": mailbox, "host": "127.0.0.1", "auth": "oauth", "oauth_app_id": oauth["id"], "protocol": "imap", "import_from": "all", "port": world.stack.imaps_port, "security": "ssl"}))
        .await;
    assert_eq!(created.status, 201, "{}", created.body);
    let id = created.body["id"].as_str().unwrap();
    let (status, page) = app.consent("incoming", id, &mailbox, true).await;
    assert_eq!(status, 200, "{page}");
    let consented = Instant::now();
    let messages = until_tickets(&app, 1, Duration::from_secs(5)).await;
    assert_eq!(messages.len(), 1, "no ticket within 5 s of the consent");
    eprintln!("consent -> first ticket: {:?}", consented.elapsed());
}

/// A password server of Alice's mailbox (`password`), reading from the start and leaving the
/// mail there, after a message with `subject` was delivered to it.
async fn alice_server(app: &TestApp, subject: &str, password: &str) -> Value {
    let alice = mailgate_testkit::mailstack::ALICE;
    deliver_to_password_user(app, alice, subject).await;
    let created = app
        .post("/api/v1/incoming-servers", json!({"name": "Alice", "email": alice.0, "protocol": "imap", "import_from": "all", "host": "127.0.0.1", "port": app.world().stack.imaps_port, "security": "ssl", "auth": "basic", "password": password, "after_import": "leave"}))
        .await;
    assert_eq!(created.status, 201, "{}", created.body);
    created.body
}

/// Issue 13: a server created with a password starts reading at once.
#[tokio::test]
async fn a_server_created_with_a_password_starts_at_once() {
    let app = spawn_app().await;
    let subject = format!("Created-{}", uuid::Uuid::new_v4().simple());
    alice_server(&app, &subject, mailgate_testkit::mailstack::ALICE.1).await;
    until_ticket_with(
        &app,
        &subject,
        Duration::from_secs(5),
        "the new server's mail read",
    )
    .await;
}

/// Issue 13: an edited server's watcher restarts at once with the new settings (here the
/// password that was wrong).
#[tokio::test]
async fn an_edited_server_restarts_at_once() {
    let app = spawn_app().await;
    let subject = format!("Edited-{}", uuid::Uuid::new_v4().simple());
    let server = alice_server(&app, &subject, "wrong-password").await;
    // The wrong password is refused (an event says so) and the watcher pauses.
    eventually(
        "the wrong password reported",
        Duration::from_secs(10),
        async || has_event(&app, "server.auth_failed").await.then_some(()),
    )
    .await;
    let password = mailgate_testkit::mailstack::ALICE.1;
    patch(&app, &server, json!({"password": password})).await;
    until_ticket_with(
        &app,
        &subject,
        Duration::from_secs(5),
        "the edited server's mail read",
    )
    .await;
}

/// Issue 19: a filter set by PATCH applies to every message delivered after the answer.
#[tokio::test]
async fn a_filter_set_by_patch_applies_to_the_next_message() {
    let app = spawn_app().await;
    let (mailbox, server) = reading_server(&app).await;
    let filter = json!({"type": "ignore", "keywords": ["newsletter"]});
    patch(&app, &server, json!({ "filter": filter })).await;
    for subject in ["Our newsletter", "After"] {
        app.world()
            .deliver("customer@example.com", &mailbox, &mail(&mailbox, subject))
            .await;
    }
    let messages = until_tickets(&app, 2, Duration::from_secs(10)).await;
    let subjects: Vec<&str> = messages
        .iter()
        .filter_map(|m| m["subject"].as_str())
        .collect();
    assert!(subjects.contains(&"After"), "{subjects:?}");
    assert!(
        !subjects.contains(&"Our newsletter"),
        "the new filter was not applied: {subjects:?}"
    );
    assert!(has_event(&app, "message.ignored").await);
}

/// Issue 19: `enabled: false` stops the watcher before the answer: mail delivered after it is
/// not read, and no event is raised.
#[tokio::test]
async fn a_disabled_server_stops_reading_before_the_answer() {
    let app = spawn_app().await;
    let (mailbox, server) = reading_server(&app).await;
    patch(&app, &server, json!({"enabled": false})).await;
    let events = app.get("/api/v1/events").await.body;
    let world = app.world();
    world
        .deliver("customer@example.com", &mailbox, &mail(&mailbox, "After"))
        .await;
    world.read_inbox(&mailbox, 2, Duration::from_secs(10)).await;
    // A watcher in IDLE reads new mail within milliseconds: 3 s is ample.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let read = ticket_messages(&app).await;
    assert_eq!(read.len(), 1, "read after it was disabled");
    let now = app.get("/api/v1/events").await.body;
    assert_eq!(now, events, "an event after the answer");
}

/// Issue 19: a folder read again from its first UID under a numbering seen before (the server
/// pointed at another folder and back) applies the after-import action to the mail stored
/// from it only: the mail the filter ignored stays on the server.
#[tokio::test]
async fn mail_ignored_before_stays_when_its_folder_is_read_again() {
    let app = spawn_app().await;
    let (mailbox, server) = oauth_server(
        &app,
        json!({"after_import": "delete", "filter": {"type": "ignore", "keywords": ["newsletter"]}}),
    )
    .await;
    let world = app.world();
    // Another folder with one message in it.
    let (mut imap, _) = world.open_folder(&mailbox, None, "INBOX").await;
    imap.imap("c1", "CREATE Other").await;
    let other = mail(&mailbox, "Elsewhere");
    imap.send(&format!("c2 APPEND Other {{{}+}}", other.len()))
        .await;
    imap.send(&other).await;
    let appended = imap.imap_reply("c2").await;
    assert!(
        appended.last().is_some_and(|l| l.starts_with("c2 OK")),
        "{appended:?}"
    );
    imap.imap("c3", "LOGOUT").await;

    for subject in ["First", "Our newsletter"] {
        world
            .deliver("customer@example.com", &mailbox, &mail(&mailbox, subject))
            .await;
    }
    assert_eq!(
        until_tickets(&app, 1, Duration::from_secs(10)).await.len(),
        1
    );
    patch(&app, &server, json!({"folder": "Other"})).await;
    assert_eq!(
        until_tickets(&app, 2, Duration::from_secs(10)).await.len(),
        2
    );
    patch(&app, &server, json!({"folder": "INBOX"})).await;
    world
        .deliver("customer@example.com", &mailbox, &mail(&mailbox, "Third"))
        .await;
    assert_eq!(
        until_tickets(&app, 3, Duration::from_secs(10)).await.len(),
        3
    );
    // The newsletter was read again before "Third" came: once "Third" is deleted, the action
    // of both passes has run.
    let inbox = eventually("Third deleted", Duration::from_secs(10), async || {
        let inbox = world.read_inbox(&mailbox, 0, Duration::ZERO).await;
        (!inbox.iter().any(|m| m.contains("Subject: Third"))).then_some(inbox)
    })
    .await;
    assert_eq!(inbox.len(), 1, "{inbox:?}");
    assert!(inbox[0].contains("Subject: Our newsletter"), "{inbox:?}");
}
