//! The pipeline's rules on mail that went through Postfix and Dovecot: the Return-Path and
//! headers the stack writes are what classification sees.

use super::watch::{imap_session, oauth_server};
use mailgate_core::receive::watch;
use mailgate_testkit::spawn_app_on_world as spawn_app;
use serde_json::{Value, json};
use std::time::{Duration, Instant};

fn message(from: &str, to: &str, subject: &str, headers: &str, body: &str) -> (String, String) {
    let id = format!("{}@customer.example", uuid::Uuid::new_v4());
    let raw = format!(
        "From: {from}\r\nTo: {to}\r\nSubject: {subject}\r\nMessage-ID: <{id}>\r\n{headers}\r\n{body}\r\n"
    );
    (id, raw)
}

/// An IMAP session over everything now in the mailbox, until `done` holds for the API's view.
async fn session_until(
    app: &mailgate_testkit::TestApp,
    server_id: &str,
    done: impl Fn(&[Value], &[Value]) -> bool,
) -> (Vec<Value>, Vec<Value>) {
    let (stop, session) = imap_session(app, server_id).await;
    let deadline = Instant::now() + Duration::from_secs(20);
    let seen = loop {
        let tickets = app.get("/api/v1/tickets").await.body;
        let events = app.get("/api/v1/events").await.body;
        let tickets = tickets.as_array().cloned().unwrap_or_default();
        let events = events.as_array().cloned().unwrap_or_default();
        if done(&tickets, &events) {
            break (tickets, events);
        }
        assert!(Instant::now() < deadline, "{tickets:?}\n{events:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    stop.send(true).unwrap();
    assert_eq!(session.await.unwrap().unwrap(), watch::Ended::Stopped);
    seen
}

/// Through Dovecot: a tagged reply and a bounce (empty Return-Path, a delivery report naming
/// the ticket's message) join the ticket; an out-of-office answering nothing and mail the
/// Ignore filter names open no ticket; each is a `message.ignored` event with its reason.
#[tokio::test]
async fn replies_bounces_auto_replies_and_filters_through_the_stack() {
    let app = spawn_app().await;
    let (mailbox, server) = oauth_server(
        &app,
        json!({"after_import": "leave", "filter": {"type": "ignore", "keywords": ["newsletter"]}}),
    )
    .await;
    let id = server["id"].as_str().unwrap();
    let world = app.world();
    let (original_id, original) = message(
        "Ann <ann@customer.example>",
        &mailbox,
        "Broken screen",
        "",
        "Please help.",
    );
    world
        .deliver("ann@customer.example", &mailbox, &original)
        .await;
    world.read_inbox(&mailbox, 1, Duration::from_secs(10)).await;
    let (tickets, _) = session_until(&app, id, |t, _| t.len() == 1).await;
    let number = tickets[0]["number"].as_i64().unwrap();

    let (_, out_of_office) = message(
        "Bob <bob@customer.example>",
        &mailbox,
        "Automatic reply: Hello",
        "Auto-Submitted: auto-replied\r\n",
        "I am away.",
    );
    world
        .deliver("bob@customer.example", &mailbox, &out_of_office)
        .await;
    let (_, newsletter) = message(
        "news@vendor.example",
        &mailbox,
        "Our monthly NEWSLETTER",
        "",
        "Offers.",
    );
    world
        .deliver("news@vendor.example", &mailbox, &newsletter)
        .await;
    let bounce = format!(
        "From: Mail Delivery System <MAILER-DAEMON@mx.customer.example>\r\nTo: {mailbox}\r\n\
         Subject: Undelivered Mail Returned to Sender\r\nMessage-ID: <bounce-{}@mx.customer.example>\r\n\
         MIME-Version: 1.0\r\nContent-Type: multipart/report; report-type=delivery-status; boundary=\"B\"\r\n\r\n\
         --B\r\nContent-Type: text/plain\r\n\r\nDelivery failed.\r\n\
         --B\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.customer.example\r\n\r\n\
         Final-Recipient: rfc822; gone@customer.example\r\nAction: failed\r\nStatus: 5.1.1\r\n\r\n\
         --B\r\nContent-Type: text/rfc822-headers\r\n\r\nMessage-ID: <{original_id}>\r\nSubject: Broken screen\r\n\r\n--B--\r\n",
        uuid::Uuid::new_v4()
    );
    world.deliver("", &mailbox, &bounce).await;
    let (_, reply) = message(
        "Ann <ann@customer.example>",
        &mailbox,
        &format!("Re: [#{number}] Broken screen"),
        "",
        "Still broken.",
    );
    world
        .deliver("ann@customer.example", &mailbox, &reply)
        .await;
    world.read_inbox(&mailbox, 5, Duration::from_secs(10)).await;

    // Everything is in the folder before the session starts: one batch, one commit.
    let ticket_path = format!("/api/v1/tickets/{number}");
    let (tickets, events) = session_until(&app, id, |_, events| {
        events
            .iter()
            .any(|e| e["data"]["from"] == "news@vendor.example")
    })
    .await;
    assert_eq!(tickets.len(), 1, "no other ticket: {tickets:?}");
    let ticket = app.get(&ticket_path).await.body;
    let kinds: Vec<(&str, &str)> = ticket["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| (m["kind"].as_str().unwrap(), m["subject"].as_str().unwrap()))
        .collect();
    let reply_subject = format!("Re: [#{number}] Broken screen");
    assert_eq!(
        kinds,
        [
            ("normal", "Broken screen"),
            ("bounce", "Undelivered Mail Returned to Sender"),
            ("normal", reply_subject.as_str()),
        ]
    );
    let mut ignored: Vec<(&str, &str)> = events
        .iter()
        .filter(|e| e["kind"] == "message.ignored")
        .map(|e| {
            (
                e["data"]["from"].as_str().unwrap(),
                e["data"]["reason"].as_str().unwrap(),
            )
        })
        .collect();
    ignored.sort();
    assert_eq!(
        ignored,
        [
            (
                "bob@customer.example",
                "an auto_reply that answers no ticket"
            ),
            ("news@vendor.example", "the server's ignore filter"),
        ]
    );
}
