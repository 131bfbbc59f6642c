//! Nothing lost, nothing doubled: `mailgate serve` is killed with SIGKILL in the middle of
//! importing 500 messages from a real Dovecot mailbox, then started again on the same data
//! directory. Every message must end up as exactly one ticket message.
//!
//! Messages are imported in batches (up to 200 per transaction, with the mailbox's progress),
//! fetched, prepared and imported side by side: the kill comes as soon as the first batch is
//! committed, while the next one is being imported, and the database read right after the kill
//! must hold part of the mailbox only.

use crate::process::{Served, run};
use mailgate_store::testing::TestQueries as _;
use mailgate_testkit::eventually;
use serde_json::{Value, json};
use std::time::{Duration, Instant};

const MESSAGES: usize = 500;

async fn imported(base: &str, token: &str) -> usize {
    let http = reqwest::Client::new();
    let tickets: Value = http
        .get(format!("{base}/api/v1/tickets?limit=500"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    tickets.as_array().map(Vec::len).unwrap_or(0)
}

/// The served instance's database, opened alongside it (SQLite in WAL mode allows that).
async fn store(data: &std::path::Path) -> std::sync::Arc<dyn mailgate_store::Store> {
    let url = mailgate_store::DatabaseUrl::sqlite_file(&data.join("mailgate.db"));
    mailgate_store::open(&url, &mailgate_store::StoreOptions::default())
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn killed_mid_import_and_restarted_every_message_is_imported_exactly_once() {
    mailgate_testkit::init();
    let world = mailgate_testkit::world();
    let (bob, password) = mailgate_testkit::mailstack::BOB;
    for n in 0..MESSAGES {
        let raw = format!(
            "From: customer{n}@example.com\r\nTo: {bob}\r\nSubject: Crash test {n}\r\nMessage-ID: <crash-{n}-{}@customer.example>\r\n\r\nMessage {n}.\r\n",
            uuid::Uuid::new_v4()
        );
        world
            .deliver(&format!("customer{n}@example.com"), bob, &raw)
            .await;
    }
    eventually(
        &format!("Postfix delivering the {MESSAGES} messages"),
        Duration::from_secs(60),
        async || (world.inbox_count(bob, Some(password)).await >= MESSAGES).then_some(()),
    )
    .await;

    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let ca = world.stack.ca_pem.display().to_string();
    let env = [("MAILGATE__TLS__EXTRA_CA_FILE", ca.as_str())];
    let served = Served::start_with(&data, &env).await;
    let out = run(&[
        "admin",
        "token",
        "create",
        "--data-dir",
        data.to_str().unwrap(),
    ]);
    let token = String::from_utf8(out.stdout).unwrap().trim().to_owned();
    let created: Value = reqwest::Client::new()
        .post(format!("{}/api/v1/incoming-servers", served.base))
        .bearer_auth(&token)
        .json(&json!({"name": "Bob", "email": bob, "protocol": "imap", "host": "127.0.0.1", "port": world.stack.imaps_port, "security": "ssl",
                      "auth": "basic", "password": password, "after_import": "leave", "import_from": "all"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(created["id"].is_string(), "{created}");

    // Kill it hard once the first batch is committed (watched in the database itself, a few
    // milliseconds apart: the HTTP API is too slow to catch a batch, and so is `eventually`).
    let db = store(&data).await;
    let deadline = Instant::now() + Duration::from_secs(60);
    let before_kill = loop {
        let n = db.count_messages().await.unwrap() as usize;
        if n > 0 {
            break n;
        }
        assert!(
            Instant::now() < deadline,
            "the import did not start; log:\n{}",
            served.log_text()
        );
        tokio::time::sleep(Duration::from_millis(2)).await;
    };
    served.kill();
    // What the dead process committed: the batches it had under way are not there.
    let at_kill = db.count_messages().await.unwrap() as usize;
    drop(db);
    assert!(
        before_kill <= at_kill && at_kill < MESSAGES,
        "killed before the end (saw {before_kill}, {at_kill} committed)"
    );

    let served = Served::start_with(&data, &env).await;
    // The log is printed if this times out (`Served`'s `Drop`).
    eventually(
        &format!("all {MESSAGES} imported after the restart"),
        Duration::from_secs(120),
        async || (imported(&served.base, &token).await >= MESSAGES).then_some(()),
    )
    .await;
    // Settle, then count every ticket message: exactly one per message, none doubled.
    tokio::time::sleep(Duration::from_secs(1)).await;
    let http = reqwest::Client::new();
    let tickets: Value = http
        .get(format!("{}/api/v1/tickets?limit=500", served.base))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let mut subjects = std::collections::BTreeSet::new();
    let mut messages = 0;
    for t in tickets.as_array().unwrap() {
        let detail: Value = http
            .get(format!("{}/api/v1/tickets/{}", served.base, t["number"]))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        for m in detail["messages"].as_array().unwrap() {
            messages += 1;
            subjects.insert(m["subject"].as_str().unwrap().to_owned());
        }
    }
    assert_eq!(messages, MESSAGES, "ticket messages (killed at {at_kill})");
    assert_eq!(subjects.len(), MESSAGES, "each message once");
    assert_eq!(
        world.inbox_count(bob, Some(password)).await,
        MESSAGES,
        "the mailbox is untouched (after_import: leave)"
    );
    eprintln!(
        "killed with {at_kill} imports committed; {MESSAGES} ticket messages after the restart, none doubled"
    );
}
