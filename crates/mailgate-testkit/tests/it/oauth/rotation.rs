//! A provider that rotates the refresh token on every use and issues 5-second access tokens:
//! two minutes (on mailgate's clock) of imports and sends go through without a single
//! credential or server event.

use crate::send::{deliver, events, queue};
use mailgate_core::workers::refresh_once;
use mailgate_testkit::eventually;
use mailgate_testkit::spawn_app_on_world as spawn_app;
use serde_json::json;
use std::time::Duration;

#[tokio::test]
async fn rotated_refresh_tokens_and_five_second_access_tokens_raise_no_event() {
    let app = spawn_app().await;
    let oauth = app
        .google_oauth_app_with(|r| r.rotate_refresh_tokens(true).access_token_lifetime_secs(5))
        .await;
    let world = app.world();
    let mailbox = world.fresh_user("rotate");
    let incoming = app
        .authorized_server(
            "incoming",
            json!({"name": "Rotating inbox", "email": mailbox, "protocol": "imap", "host": "127.0.0.1",
                   "port": world.stack.imaps_port, "security": "ssl", "auth": "oauth", "oauth_app_id": oauth["id"],
                   // The first round's mail may arrive before the first connection.
                   "import_from": "all"}),
            &mailbox,
        )
        .await;
    // The same app and mailbox: the sender shares the inbox's grant, no second consent.
    let outgoing = app
        .post(
            "/api/v1/outgoing-servers",
            json!({"name": "Rotating sender", "email": mailbox, "protocol": "smtp", "host": "127.0.0.1",
                   "port": world.stack.submission_port, "security": "starttls", "auth": "oauth",
                   "oauth_app_id": oauth["id"], "primary": true}),
        )
        .await;
    assert_eq!(outgoing.status, 201, "{}", outgoing.body);
    let before = events(&app, "credential.connected").await.len();
    let watching = app.watch(&incoming["id"]);

    // Two minutes of mailgate's clock, in 5-second steps: every step outlives the access token.
    let rounds = 24;
    let mut queued = Vec::new();
    for round in 0..rounds {
        world
            .deliver(
                "customer@example.com",
                &mailbox,
                &format!(
                    "From: Customer <customer@example.com>\r\nTo: {mailbox}\r\nSubject: round {round}\r\nMessage-ID: <{}@customer.example>\r\n\r\nBody {round}.\r\n",
                    uuid::Uuid::new_v4()
                ),
            )
            .await;
        let to = world.fresh_user("rotate-to");
        let q = queue(
            &app,
            json!({"to": [to], "subject": format!("reply {round}"), "text": "hi"}),
        )
        .await;
        let sent = deliver(&app, &q["id"]).await;
        assert_eq!(sent["status"], "sent", "round {round}: {sent:#}");
        queued.push(q["id"].clone());
        refresh_once(&app.core).await.unwrap();
        app.clock.advance_secs(5);
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    eventually(
        "every delivered message imported",
        Duration::from_secs(30),
        async || (events(&app, "ticket.created").await.len() >= rounds).then_some(()),
    )
    .await;
    watching.stop().await;
    assert_eq!(
        events(&app, "ticket.created").await.len(),
        rounds,
        "every delivered message imported"
    );
    let all = app.get("/api/v1/events?limit=500").await.body;
    let problems: Vec<_> = all
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| {
            let kind = e["kind"].as_str().unwrap_or_default();
            (kind.starts_with("credential.") && kind != "credential.connected")
                || kind.starts_with("server.")
                || kind.starts_with("oauth.")
        })
        .collect();
    assert!(problems.is_empty(), "{problems:#?}");
    assert_eq!(events(&app, "credential.connected").await.len(), before);
    let shown = app
        .get(&format!(
            "/api/v1/incoming-servers/{}",
            incoming["id"].as_str().unwrap()
        ))
        .await
        .body;
    assert_eq!(shown["status"], "connected", "{shown:#}");
    assert!(
        super::token_requests(&app, &oauth) >= rounds as u64,
        "the short tokens were renewed"
    );
}
