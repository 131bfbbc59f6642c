//! The pipeline's rules on mail that went through Postfix and Dovecot: the Return-Path and
//! headers the stack writes are what classification sees.

use super::watch::{imap_session, oauth_server};
use mailgate_core::receive::connect;
use mailgate_testkit::eventually;
use mailgate_testkit::spawn_app_on_world as spawn_app;
use serde_json::{Value, json};
use std::time::Duration;

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
    let seen = eventually(
        "the tickets and events the test waits for",
        Duration::from_secs(20),
        async || {
            let tickets = app.get("/api/v1/tickets").await.body;
            let events = app.get("/api/v1/events").await.body;
            let tickets = tickets.as_array().cloned().unwrap_or_default();
            let events = events.as_array().cloned().unwrap_or_default();
            done(&tickets, &events).then_some((tickets, events))
        },
    )
    .await;
    stop.send(true).unwrap();
    assert_eq!(session.await.unwrap().unwrap(), connect::Ended::Stopped);
    seen
}

/// A server (`body` added to its fields) whose mailbox has one message from Ann, imported:
/// the mailbox, the server, the message's Message-ID and its ticket's number.
async fn ann_opens_a_ticket(
    app: &mailgate_testkit::TestApp,
    body: Value,
) -> (String, Value, String, i64) {
    let (mailbox, server) = oauth_server(app, body).await;
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
    let id = server["id"].as_str().unwrap();
    let (tickets, _) = session_until(app, id, |t, _| t.len() == 1).await;
    let number = tickets[0]["number"].as_i64().unwrap();
    (mailbox, server, original_id, number)
}

/// Through Dovecot: a tagged reply and a bounce (empty Return-Path, a delivery report naming
/// the ticket's message) join the ticket; an out-of-office answering nothing and mail the
/// Ignore filter names open no ticket; each is a `message.ignored` event with its reason.
#[tokio::test]
async fn replies_bounces_auto_replies_and_filters_through_the_stack() {
    let app = spawn_app().await;
    let (mailbox, server, original_id, number) = ann_opens_a_ticket(
        &app,
        json!({"after_import": "leave", "filter": {"type": "ignore", "keywords": ["newsletter"]}}),
    )
    .await;
    let id = server["id"].as_str().unwrap();
    let world = app.world();

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

/// `message.ignored` events as (from, reason, rule).
fn ignored(events: &[Value]) -> Vec<(String, String, String)> {
    let mut ignored: Vec<_> = events
        .iter()
        .filter(|e| e["kind"] == "message.ignored")
        .map(|e| {
            let text = |k: &str| e["data"][k].as_str().unwrap_or_default().to_owned();
            (text("from"), text("reason"), text("rule"))
        })
        .collect();
    ignored.sort();
    ignored
}

/// Through Dovecot, with the server's default `bulk_mail: ignore`: an out-of-office known only
/// by its German subject (a real sender, no Auto-Submitted), an ARF feedback report and list
/// mail answering nothing open no ticket, and each event names the rule; list mail that
/// answers a ticket joins it, flagged bulk.
#[tokio::test]
async fn automatic_and_list_mail_opens_no_ticket_and_the_event_names_the_rule() {
    let app = spawn_app().await;
    let (mailbox, server, _, number) =
        ann_opens_a_ticket(&app, json!({"after_import": "leave"})).await;
    assert_eq!(server["bulk_mail"], "ignore");
    let id = server["id"].as_str().unwrap();
    let world = app.world();

    let (_, out_of_office) = message(
        "Kim <kim@customer.example>",
        &mailbox,
        "Abwesenheitsnotiz: Broken screen",
        "",
        "Ich bin bis Montag nicht im Büro.",
    );
    world
        .deliver("kim@customer.example", &mailbox, &out_of_office)
        .await;
    let arf = format!(
        "From: abuse@isp.example\r\nTo: {mailbox}\r\nSubject: Abuse report\r\n\
         Message-ID: <arf-{}@isp.example>\r\nMIME-Version: 1.0\r\n\
         Content-Type: multipart/report; report-type=feedback-report; boundary=\"F\"\r\n\r\n\
         --F\r\nContent-Type: text/plain\r\n\r\nA complaint about mail from you.\r\n\
         --F\r\nContent-Type: message/feedback-report\r\n\r\nFeedback-Type: abuse\r\nUser-Agent: Reporter/1.0\r\nVersion: 1\r\n\r\n\
         --F\r\nContent-Type: text/rfc822-headers\r\n\r\nSubject: Broken screen\r\n\r\n--F--\r\n",
        uuid::Uuid::new_v4()
    );
    world.deliver("abuse@isp.example", &mailbox, &arf).await;
    let list_headers = "List-Id: Announcements <announce.lists.example>\r\nPrecedence: list\r\n";
    let (_, digest) = message(
        "news@lists.example",
        &mailbox,
        "[announce] Weekly digest",
        list_headers,
        "Nothing happened.",
    );
    world.deliver("news@lists.example", &mailbox, &digest).await;
    let (_, list_reply) = message(
        "Ann <ann@customer.example>",
        &mailbox,
        &format!("Re: [#{number}] Broken screen"),
        "List-Id: Customers <customers.lists.example>\r\n",
        "Sent through our list.",
    );
    world
        .deliver("ann@customer.example", &mailbox, &list_reply)
        .await;
    world.read_inbox(&mailbox, 5, Duration::from_secs(10)).await;

    let (tickets, events) = session_until(&app, id, |_, events| {
        ignored(events).len() == 3 && events.iter().any(|e| e["kind"] == "ticket.message_added")
    })
    .await;
    assert_eq!(tickets.len(), 1, "no other ticket: {tickets:?}");
    let bulk_reason = "bulk mail that answers no ticket (the server's bulk_mail is ignore)";
    let auto_reason = "an auto_reply that answers no ticket";
    let own = |s: &str| s.to_owned();
    assert_eq!(
        ignored(&events),
        [
            (
                own("abuse@isp.example"),
                own(auto_reason),
                own("ARF feedback report")
            ),
            (
                own("kim@customer.example"),
                own(auto_reason),
                own("subject: Abwesenheitsnotiz (out-of-office, German)")
            ),
            (
                own("news@lists.example"),
                own(bulk_reason),
                own("Precedence: list")
            ),
        ]
    );
    let added = events
        .iter()
        .find(|e| e["kind"] == "ticket.message_added")
        .unwrap();
    assert_eq!(
        added["data"]["rule"], "List-Id: Customers <customers.lists.example>",
        "{added}"
    );
    let created = events
        .iter()
        .find(|e| e["kind"] == "ticket.created")
        .unwrap();
    assert!(created["data"].get("rule").is_none(), "{created}");
    let ticket = app.get(&format!("/api/v1/tickets/{number}")).await.body;
    let bulk: Vec<(&str, bool)> = ticket["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| (m["kind"].as_str().unwrap(), m["bulk"].as_bool().unwrap()))
        .collect();
    assert_eq!(bulk, [("normal", false), ("normal", true)]);
}

/// `bulk_mail: create_tickets`: list mail opens a ticket like a person's, flagged bulk, and
/// the event names the rule; a value that is neither choice is a field error.
#[tokio::test]
async fn bulk_mail_create_tickets_opens_tickets_flagged_bulk() {
    let app = spawn_app().await;
    let (mailbox, server) = oauth_server(
        &app,
        json!({"after_import": "leave", "bulk_mail": "create_tickets"}),
    )
    .await;
    assert_eq!(server["bulk_mail"], "create_tickets");
    let id = server["id"].as_str().unwrap();
    let refused = app
        .patch(
            &format!("/api/v1/incoming-servers/{id}"),
            json!({"bulk_mail": "tickets"}),
        )
        .await;
    assert_eq!(refused.status, 400, "{}", refused.body);
    assert!(
        refused.body.to_string().contains("bulk_mail"),
        "{}",
        refused.body
    );

    let world = app.world();
    let (_, digest) = message(
        "news@lists.example",
        &mailbox,
        "[announce] Weekly digest",
        "List-Unsubscribe: <mailto:leave@lists.example>\r\n",
        "Nothing happened.",
    );
    world.deliver("news@lists.example", &mailbox, &digest).await;
    world.read_inbox(&mailbox, 1, Duration::from_secs(10)).await;
    let (tickets, events) = session_until(&app, id, |t, _| t.len() == 1).await;
    let number = tickets[0]["number"].as_i64().unwrap();
    let ticket = app.get(&format!("/api/v1/tickets/{number}")).await.body;
    assert_eq!(ticket["messages"][0]["bulk"], true, "{ticket}");
    assert_eq!(ticket["messages"][0]["kind"], "normal");
    let created = events
        .iter()
        .find(|e| e["kind"] == "ticket.created")
        .unwrap();
    assert_eq!(created["data"]["rule"], "List-Unsubscribe", "{created}");
}
