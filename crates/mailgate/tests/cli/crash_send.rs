//! Nothing lost when sending: `mailgate serve` is killed with SIGKILL while the outbox sends 200
//! queued messages through the real Postfix, then started again. Every message must arrive; a
//! message can arrive twice only if it was in flight when the process died (accepted by
//! Postfix, not yet recorded), so duplicates are at most the number sent at once
//! (`send.concurrency`).

use crate::process::{Served, create_token};
use mailgate_testkit::eventually;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

const MESSAGES: usize = 200;
const CONCURRENCY: usize = 4;

async fn sent(http: &reqwest::Client, base: &str, token: &str) -> usize {
    let listed: Value = http
        .get(format!("{base}/api/v1/messages?status=sent&limit=500"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    listed.as_array().map(Vec::len).unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread")]
async fn killed_while_sending_and_restarted_every_message_arrives() {
    mailgate_testkit::init();
    let world = mailgate_testkit::world();
    let (alice, password) = mailgate_testkit::mailstack::ALICE;
    let recipient = world.fresh_user("crash-send");

    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let ca = world.stack.ca_pem.display().to_string();
    let concurrency = CONCURRENCY.to_string();
    let env = [
        ("MAILGATE__TLS__EXTRA_CA_FILE", ca.as_str()),
        ("MAILGATE__SEND__CONCURRENCY", concurrency.as_str()),
        // Rounds that find the server disabled come back within two seconds.
        ("MAILGATE__SEND__RETRY_BASE_SECS", "1"),
        ("MAILGATE__SEND__RETRY_MAX_SECS", "2"),
    ];
    let served = Served::start_with(&data, &env).await;
    let token = create_token(&data);
    let http = reqwest::Client::new();
    // Disabled while the batch is queued, so that the kill lands in the middle of sending.
    let server: Value = http
        .post(format!("{}/api/v1/outgoing-servers", served.base))
        .bearer_auth(&token)
        .json(
            &json!({"name": "Alice", "email": alice, "protocol": "smtp", "host": "127.0.0.1",
                      "port": world.stack.submission_port, "security": "starttls", "auth": "basic",
                      "password": password, "primary": true, "enabled": false}),
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let server_id = server["id"].as_str().expect("server created").to_owned();
    for n in 0..MESSAGES {
        let queued = http
            .post(format!("{}/api/v1/messages", served.base))
            .bearer_auth(&token)
            .json(&json!({"to": [recipient], "subject": format!("Send {n}"), "text": format!("Message {n}.")}))
            .send()
            .await
            .unwrap();
        assert_eq!(queued.status(), 202);
    }
    let enabled = http
        .patch(format!(
            "{}/api/v1/outgoing-servers/{server_id}",
            served.base
        ))
        .bearer_auth(&token)
        .json(&json!({"enabled": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(enabled.status(), 200);

    // Polled 10 ms apart (not `eventually`'s 50 ms) so that the kill lands mid-sending.
    let deadline = Instant::now() + Duration::from_secs(120);
    let before_kill = loop {
        let n = sent(&http, &served.base, &token).await;
        if n >= 30 {
            break n;
        }
        assert!(
            Instant::now() < deadline,
            "sending did not start; log:\n{}",
            served.log_text()
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    };
    served.kill();
    assert!(
        before_kill < MESSAGES,
        "killed before the end (at {before_kill})"
    );

    let served = Served::start_with(&data, &env).await;
    // The log is printed if this times out (`Served`'s `Drop`).
    eventually(
        &format!("all {MESSAGES} sent after the restart"),
        Duration::from_secs(120),
        async || (sent(&http, &served.base, &token).await >= MESSAGES).then_some(()),
    )
    .await;

    eventually(
        "Postfix delivering them all",
        Duration::from_secs(60),
        async || (world.inbox_count(&recipient, None).await >= MESSAGES).then_some(()),
    )
    .await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let inbox = world
        .read_inbox(&recipient, MESSAGES, Duration::from_secs(10))
        .await;
    let mut copies: BTreeMap<String, usize> = BTreeMap::new();
    for raw in &inbox {
        let subject = raw
            .lines()
            .find_map(|l| l.strip_prefix("Subject: "))
            .unwrap_or_default()
            .to_owned();
        *copies.entry(subject).or_default() += 1;
    }
    assert_eq!(copies.len(), MESSAGES, "every message arrived: {copies:?}");
    let doubled = inbox.len() - MESSAGES;
    assert!(
        doubled <= CONCURRENCY,
        "{doubled} messages arrived twice; at most {CONCURRENCY} were in flight at the kill"
    );
    eprintln!(
        "killed after {before_kill} sends; all {MESSAGES} arrived after the restart, {doubled} twice"
    );
}
