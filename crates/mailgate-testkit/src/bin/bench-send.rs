//! Send benchmark (a command, not a test): `cargo run --release -p mailgate-testkit --bin bench-send`
//! (as root: it starts Dovecot + Postfix). Options: `--messages N` (1000).
//!
//! N small messages to the local Postfix submission port (587, STARTTLS, XOAUTH2 with the
//! emulator's tokens), three ways in the same run:
//! 1. the baseline: a naive client that opens one connection per message (TCP, STARTTLS, EHLO,
//!    AUTH, one transaction, QUIT), one message after the other;
//! 2. mailgate's outbox worker with its defaults (`send.concurrency` 8 rounds at once over at
//!    most `send.connections_per_server` 3 pooled connections);
//! 3. mailgate limited to one round at a time over one connection, to show what reuse alone
//!    gives.
//!
//! The messages are queued first (the enqueue rate is printed too); the clock runs from the
//! worker's start to the last message recorded as sent.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use mailgate_domain::server::Security;
use mailgate_proto::dial::Endpoint;
use mailgate_proto::sasl::Credentials;
use mailgate_proto::smtp::{self, Envelope, SmtpOptions};
use mailgate_store::OutboxQuery;
use mailgate_testkit::{TestApp, TestConfig, spawn_app_with, world};
use serde_json::json;
use std::time::{Duration, Instant};

fn arg(name: &str, default: usize) -> usize {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn text(n: usize) -> String {
    format!(
        "Hello,\n\nyour licence key is {n:08}. Keep this message.\n\nRegards,\nThe licensing server\n"
    )
}

/// One connection per message, one message after the other.
async fn naive(sender: &str, recipient: &str, messages: usize) -> Duration {
    let w = world();
    let ep = Endpoint::new("127.0.0.1", w.stack.submission_port, Security::Starttls);
    let token = w.mint_token(sender);
    let started = Instant::now();
    for n in 0..messages {
        let mut client = smtp::connect(
            &ep,
            w.stack.tls_client_config(),
            SmtpOptions::new(Duration::from_secs(30), "bench.example"),
        )
        .await
        .unwrap();
        client
            .authenticate(&Credentials::XOAuth2 {
                user: sender.to_owned(),
                token: token.clone().into(),
            })
            .await
            .unwrap();
        let raw = format!(
            "From: {sender}\r\nTo: {recipient}\r\nSubject: Naive {n}\r\nMessage-ID: <naive-{n}-{}@bench.example>\r\n\r\n{}",
            uuid::Uuid::new_v4().simple(),
            text(n).replace('\n', "\r\n")
        );
        client
            .send(&Envelope::new(sender, [recipient]), raw.as_bytes())
            .await
            .unwrap();
        client.quit().await.unwrap();
    }
    started.elapsed()
}

/// An app whose outgoing server is the stack's submission port for a fresh, consented mailbox.
async fn app_with_sender(concurrency: usize, connections: usize) -> TestApp {
    let ca = world().stack.ca_pem.display().to_string();
    let app = spawn_app_with(
        TestConfig::default()
            .set("tls.extra_ca_file", ca)
            .set("send.concurrency", concurrency)
            .set("send.connections_per_server", connections),
    )
    .await;
    let oauth = app.google_oauth_app().await;
    let sender = world().fresh_user("bench-sender");
    let body = json!({"name": "Bench SMTP", "email": sender, "protocol": "smtp", "host": "127.0.0.1",
                      "port": world().stack.submission_port, "security": "starttls", "auth": "oauth",
                      "oauth_app_id": oauth["id"], "primary": true});
    app.authorized_server("outgoing", body, &sender).await;
    app
}

async fn pending(app: &TestApp, status: &str) -> bool {
    !app.core
        .store
        .list_outgoing(&OutboxQuery {
            status: mailgate_domain::outbox::OutboxStatus::parse(status),
            limit: 1,
            ..Default::default()
        })
        .await
        .unwrap()
        .is_empty()
}

/// Queues the messages, then runs the outbox worker until every one is sent.
async fn through_mailgate(app: &TestApp, recipient: &str, messages: usize) -> (Duration, Duration) {
    let queued = Instant::now();
    for n in 0..messages {
        let answer = app
            .post(
                "/api/v1/messages",
                json!({"to": [recipient], "subject": format!("Outbox {n}"), "text": text(n)}),
            )
            .await;
        assert_eq!(answer.status, 202, "{}", answer.body);
    }
    let queued = queued.elapsed();
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let started = Instant::now();
    let worker = tokio::spawn(mailgate_core::send::run(app.core.clone(), stopped));
    while pending(app, "queued").await || pending(app, "sending").await {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let took = started.elapsed();
    stop.send(true).unwrap();
    worker.await.unwrap();
    for status in ["failed", "blocked"] {
        assert!(!pending(app, status).await, "some messages are {status}");
    }
    (queued, took)
}

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    mailgate_testkit::init();
    let messages = arg("--messages", 1000);
    let w = tokio::task::spawn_blocking(world).await.unwrap();
    let rate = |d: Duration| messages as f64 / d.as_secs_f64();

    let recipient = w.fresh_user("bench-naive-to");
    let baseline = naive(&w.fresh_user("bench-naive"), &recipient, messages).await;
    println!(
        "naive client, one connection per message: {baseline:.2?} = {:.0} msg/s (baseline)",
        rate(baseline)
    );

    let app = app_with_sender(8, 3).await;
    let (queued, took) = through_mailgate(&app, &w.fresh_user("bench-to"), messages).await;
    println!(
        "mailgate outbox, defaults (8 rounds at once, up to 3 pooled connections): {took:.2?} = {:.0} msg/s = {:.1}x the baseline (queued through the API at {:.0} msg/s)",
        rate(took),
        baseline.as_secs_f64() / took.as_secs_f64(),
        rate(queued)
    );

    let app = app_with_sender(1, 1).await;
    let (_, took) = through_mailgate(&app, &w.fresh_user("bench-to-1"), messages).await;
    println!(
        "mailgate outbox, one round at a time over one reused connection: {took:.2?} = {:.0} msg/s = {:.1}x the baseline",
        rate(took),
        baseline.as_secs_f64() / took.as_secs_f64()
    );
}
