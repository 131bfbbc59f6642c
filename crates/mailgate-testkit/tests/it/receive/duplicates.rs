//! Duplicates are decided on the Message-ID and the content: the same message delivered twice
//! is one ticket message, two different messages under one id are both kept.

use super::watch::{imap_session, oauth_server, until_tickets};
use mailgate_core::receive::connect;
use mailgate_store::testing::TestQueries as _;
use mailgate_testkit::spawn_app_on_world as spawn_app;
use serde_json::json;
use std::time::Duration;

fn message(mailbox: &str, id: &str, subject: &str, body: &str) -> String {
    format!(
        "From: Customer <customer@example.com>\r\nTo: {mailbox}\r\nDate: Mon, 7 Dec 2026 10:00:00 +0000\r\nSubject: {subject}\r\nMessage-ID: <{id}>\r\n\r\n{body}\r\n"
    )
}

#[tokio::test]
async fn a_message_id_reused_by_another_message_does_not_suppress_it() {
    let app = spawn_app().await;
    let (mailbox, server) = oauth_server(&app, json!({"after_import": "delete"})).await;
    let world = app.world();
    let id = format!("{}@customer.example", uuid::Uuid::new_v4());
    let first = message(&mailbox, &id, "Printer on fire", "It is burning.");
    // (a) The same message delivered twice: the second time through another relay (one more
    // Received header; Postfix adds its own to both).
    world
        .deliver("customer@example.com", &mailbox, &first)
        .await;
    let relayed = format!(
        "Received: from relay.customer.example by mx.customer.example; Mon, 7 Dec 2026 10:00:05 +0000\r\n{first}"
    );
    world
        .deliver("customer@example.com", &mailbox, &relayed)
        .await;
    // (b) Another message under the same Message-ID (a broken mailer, or a sender who learnt
    // the id).
    let other = message(&mailbox, &id, "Invoice 42", "Please pay.");
    world
        .deliver("customer@example.com", &mailbox, &other)
        .await;
    world.read_inbox(&mailbox, 3, Duration::from_secs(10)).await;

    let (stop, session) = imap_session(&app, server["id"].as_str().unwrap()).await;
    let messages = until_tickets(&app, 2, Duration::from_secs(15)).await;
    stop.send(true).unwrap();
    assert_eq!(session.await.unwrap().unwrap(), connect::Ended::Stopped);

    assert_eq!(
        app.core.store.count_messages().await.unwrap(),
        2,
        "one ticket message for the message delivered twice, one for the other: {messages:?}"
    );
    let subjects: Vec<&str> = messages
        .iter()
        .map(|m| m["subject"].as_str().unwrap())
        .collect();
    assert!(subjects.contains(&"Printer on fire"), "{subjects:?}");
    let reused = messages
        .iter()
        .find(|m| m["subject"] == "Invoice 42")
        .unwrap_or_else(|| panic!("the other message is kept: {messages:?}"));
    assert!(
        reused["problems"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p.as_str().unwrap().starts_with("message_id_reused: ")),
        "{reused}"
    );
    let original = messages
        .iter()
        .find(|m| m["subject"] == "Printer on fire")
        .unwrap();
    assert_eq!(original["problems"], json!([]), "{original}");
    assert_eq!(
        world.read_inbox(&mailbox, 0, Duration::ZERO).await.len(),
        0,
        "all three deleted from the server: each was stored (the repeat as a duplicate)"
    );
}
