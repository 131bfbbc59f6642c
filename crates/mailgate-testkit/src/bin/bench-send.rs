//! Send benchmark (a command, not a test): `cargo run --release -p mailgate-testkit --bin bench-send`
//! (as root: it starts Dovecot + Postfix). Options: `--messages N` (1000).
//!
//! N small messages to the local Postfix submission port (587, STARTTLS, XOAUTH2 with the
//! emulator's tokens), in the same run, by clients nobody here wrote and by mailgate:
//! 1. Python's `smtplib` over one connection (`scripts/bench/smtp_peer.py`);
//! 2. `smtplib` with a new connection (TCP, STARTTLS, EHLO, AUTH, QUIT) per message;
//! 3. `smtplib` over as many connections as mailgate's defaults use (one thread each);
//! 4. mailgate's outbox worker with its defaults (`send.concurrency` 8 rounds at once over at
//!    most `send.connections_per_server` 3 pooled connections);
//! 5. mailgate limited to one round at a time over one connection.
//!
//! The messages are queued first (the enqueue rate is printed too); mailgate's clock runs from
//! the worker's start to the last message recorded as sent. The ratios compare mailgate with
//! `smtplib` over the same number of connections.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use mailgate_store::OutboxQuery;
use mailgate_testkit::peer::run_python;
use mailgate_testkit::{TestApp, TestConfig, spawn_app_with, world};
use serde_json::json;
use std::time::{Duration, Instant};

/// The connections mailgate's defaults use (`send.connections_per_server`).
const DEFAULT_CONNECTIONS: usize = 3;

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

/// Python's smtplib sending `messages` through `scripts/bench/smtp_peer.py` with `how`
/// (`--connections K` or `--per-message`); the time it took.
fn smtplib(messages: usize, how: &[&str]) -> Duration {
    let w = world();
    let (sender, to) = (
        w.fresh_user("bench-smtplib"),
        w.fresh_user("bench-smtplib-to"),
    );
    let count = messages.to_string();
    let mut args = vec!["--to", &to, "--messages", &count];
    args.extend(how);
    let answer = run_python("smtp_peer.py", w.stack.submission_port, &sender, &args);
    Duration::from_secs_f64(answer["seconds"].as_f64().unwrap())
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
    let ratio = |ours: Duration, theirs: Duration| theirs.as_secs_f64() / ours.as_secs_f64();

    let one = tokio::task::spawn_blocking(move || smtplib(messages, &["--connections", "1"]));
    let one = one.await.unwrap();
    println!(
        "smtplib, one connection: {one:.2?} = {:.0} msg/s",
        rate(one)
    );
    let each = tokio::task::spawn_blocking(move || smtplib(messages, &["--per-message"]));
    let each = each.await.unwrap();
    println!(
        "smtplib, a new connection (STARTTLS + AUTH) per message: {each:.2?} = {:.0} msg/s",
        rate(each)
    );
    let k = DEFAULT_CONNECTIONS.to_string();
    let many = tokio::task::spawn_blocking(move || smtplib(messages, &["--connections", &k]));
    let many = many.await.unwrap();
    println!(
        "smtplib, {DEFAULT_CONNECTIONS} connections: {many:.2?} = {:.0} msg/s",
        rate(many)
    );

    let app = app_with_sender(8, DEFAULT_CONNECTIONS).await;
    let (queued, took) = through_mailgate(&app, &w.fresh_user("bench-to"), messages).await;
    println!(
        "mailgate outbox, defaults (8 rounds at once, up to {DEFAULT_CONNECTIONS} pooled connections): {took:.2?} = {:.0} msg/s = {:.2} of smtplib over {DEFAULT_CONNECTIONS} connections (goal: at least 1), {:.2} of smtplib with a connection per message (queued through the API at {:.0} msg/s)",
        rate(took),
        ratio(took, many),
        ratio(took, each),
        rate(queued)
    );

    let app = app_with_sender(1, 1).await;
    let (_, took) = through_mailgate(&app, &w.fresh_user("bench-to-1"), messages).await;
    println!(
        "mailgate outbox, one round at a time over one reused connection: {took:.2?} = {:.0} msg/s = {:.2} of smtplib over one connection (goal: at least 0.8)",
        rate(took),
        ratio(took, one)
    );
}
