//! Receive benchmark (a command, not a test): `cargo run --release -p mailgate-testkit --bin bench-receive`
//! (as root: it starts Dovecot + Postfix). Options: `--messages N` (2000), `--latency N` (100),
//! `--idle N` (mailboxes for the memory figure, 90: the test stack's Dovecot allows about 100
//! processes per service).
//!
//! 1. Import: N mixed messages (mostly small, some with large attachments) in one mailbox over
//!    IMAPS + XOAUTH2 into tickets, from the moment the server is configured (the API call, with
//!    the workers running as `serve` runs them) to the last ticket committed, next to the raw
//!    limit measured in the same run (one client streaming `UID FETCH 1:* BODY.PEEK[]` to
//!    nowhere) and a peer nobody here wrote fetching the same (Python's `imaplib`,
//!    `scripts/bench/imap_peer.py`).
//! 2. Latency from SMTP acceptance to the ticket, with the watcher in IDLE (p50, p99).
//! 3. Resident memory added per idle watched mailbox.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use mailgate_core::receive::supervisor;
use mailgate_store::testing::TestQueries as _;
use mailgate_testkit::peer::run_python;
use mailgate_testkit::samples::{fill, message};
use mailgate_testkit::wire::{Conn, xoauth2};
use mailgate_testkit::{TestApp, spawn_app_on_world, world};
use std::time::{Duration, Instant};

fn arg(name: &str, default: usize) -> usize {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// The raw limit: one IMAPS XOAUTH2 session streaming every message to nowhere.
async fn raw_fetch(user: &str) -> (Duration, usize) {
    let w = world();
    let mut imap = Conn::tls(&w.stack, w.stack.imaps_port).await;
    imap.line().await;
    imap.imap(
        "a1",
        &format!(
            "AUTHENTICATE XOAUTH2 {}",
            xoauth2(user, &w.mint_token(user))
        ),
    )
    .await;
    imap.imap("a2", "SELECT INBOX").await;
    let started = Instant::now();
    imap.send("a3 UID FETCH 1:* BODY.PEEK[]").await;
    let mut bytes = 0;
    loop {
        let line = imap.line().await;
        bytes += line.len() + 2;
        if line.starts_with("a3 ") {
            break;
        }
    }
    (started.elapsed(), bytes)
}

/// Python's imaplib fetching every message of `user`'s INBOX: the time and the messages.
fn imaplib(user: &str) -> (Duration, usize) {
    let answer = run_python("imap_peer.py", world().stack.imaps_port, user, &[]);
    (
        Duration::from_secs_f64(answer["seconds"].as_f64().unwrap()),
        answer["messages"].as_u64().unwrap() as usize,
    )
}

async fn connected_mailbox(
    app: &TestApp,
    oauth: &serde_json::Value,
    user: &str,
    after_import: &str,
) -> mailgate_domain::Id {
    let w = world();
    let server = app
        .post(
            "/api/v1/incoming-servers",
            serde_json::json!({"name": format!("Bench {user}"), "email": user, "protocol": "imap", "import_from": "all", "host": "127.0.0.1", "port": w.stack.imaps_port,
                               "security": "ssl", "auth": "oauth", "oauth_app_id": oauth["id"], "after_import": after_import}),
        )
        .await;
    let id = server.body["id"].as_str().unwrap().to_owned();
    let (status, _) = app.consent("incoming", &id, user, true).await;
    assert_eq!(status, 200);
    id.parse().unwrap()
}

fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    mailgate_testkit::init();
    let (messages, latency_samples, idle) = (
        arg("--messages", 2000),
        arg("--latency", 100),
        arg("--idle", 90),
    );
    let w = tokio::task::spawn_blocking(world).await.unwrap();
    let user = w.fresh_user("bench");
    let t = Instant::now();
    let bytes = fill(&user, messages).await;
    println!(
        "mailbox: {messages} messages, {:.1} MB, delivered in {:.1?}",
        bytes as f64 / 1e6,
        t.elapsed()
    );

    let (raw_time, raw_bytes) = raw_fetch(&user).await;
    let raw_mps = messages as f64 / raw_time.as_secs_f64();
    let raw_mbs = raw_bytes as f64 / 1e6 / raw_time.as_secs_f64();
    println!(
        "raw UID FETCH 1:* BODY.PEEK[]: {raw_time:.2?} = {raw_mps:.0} msg/s, {raw_mbs:.1} MB/s"
    );

    let peer_user = user.clone();
    let (peer_time, peer_messages) = tokio::task::spawn_blocking(move || imaplib(&peer_user))
        .await
        .unwrap();
    assert_eq!(peer_messages, messages, "imaplib fetched another count");
    println!(
        "Python imaplib, the same UID FETCH: {peer_time:.2?} = {:.0} msg/s",
        messages as f64 / peer_time.as_secs_f64()
    );

    // The supervisor as `serve` runs it (its safety-net look every minute, woken by changes).
    let app = spawn_app_on_world().await;
    let oauth = app.google_oauth_app().await;
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let receiving = tokio::spawn(supervisor::run(
        app.core.clone(),
        Duration::from_secs(60),
        app.core.settings.receive_poll_interval,
        stopped,
    ));
    let configured = Instant::now();
    connected_mailbox(&app, &oauth, &user, "leave").await;
    let mut first = None;
    loop {
        let have = app.core.store.count_messages().await.unwrap() as usize;
        if have > 0 && first.is_none() {
            first = Some(configured.elapsed());
        }
        if have >= messages {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let import = configured.elapsed();
    let first = first.unwrap_or(import);
    let mps = messages as f64 / import.as_secs_f64();
    let mbs = raw_bytes as f64 / 1e6 / import.as_secs_f64();
    let rest = match import.saturating_sub(first) {
        d if d < Duration::from_millis(10) => "all in one batch".to_owned(),
        d => format!(
            "then {:.0} msg/s",
            messages.saturating_sub(1) as f64 / d.as_secs_f64()
        ),
    };
    println!(
        "mailgate, configured (API call) to the last ticket committed: {import:.2?} = {mps:.0} msg/s, {mbs:.1} MB/s = {:.2} of the raw limit (goal: at least 0.6), {:.2} of imaplib; the first ticket after {first:.2?}, {rest}",
        raw_time.as_secs_f64() / import.as_secs_f64(),
        peer_time.as_secs_f64() / import.as_secs_f64(),
    );

    // Latency with the watcher in IDLE: from Postfix's 250 after DATA to the ticket in the store.
    let mut samples = Vec::new();
    for n in 0..latency_samples {
        let before = app.core.store.count_messages().await.unwrap();
        let m = message(&user, 1_000_000 + n * 50 + 3);
        world().deliver("customer@example.com", &user, &m).await;
        let accepted = Instant::now();
        while app.core.store.count_messages().await.unwrap() == before {
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        samples.push(accepted.elapsed());
    }
    samples.sort();
    let pct =
        |p: f64| samples[((samples.len() as f64 * p).ceil() as usize).clamp(1, samples.len()) - 1];
    println!(
        "SMTP acceptance to ticket over IDLE ({latency_samples} samples): p50 {:.0?}, p99 {:.0?} (goal: p99 under 1 s)",
        pct(0.50),
        pct(0.99)
    );
    stop.send(true).unwrap();
    let _ = receiving.await;

    // Memory: idle watched mailboxes (each in IDLE on its own connection).
    let mut ids = Vec::new();
    for _ in 0..idle {
        let u = w.fresh_user("idle");
        ids.push(connected_mailbox(&app, &oauth, &u, "leave").await);
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    let before = rss_kib();
    let (shutdown, stopped) = tokio::sync::watch::channel(false);
    let sup = tokio::spawn(supervisor::run(
        app.core.clone(),
        Duration::from_millis(500),
        Duration::from_secs(3600),
        stopped,
    ));
    tokio::time::sleep(Duration::from_secs(10)).await;
    let after = rss_kib();
    let per = (after.saturating_sub(before)) as f64 / (idle + 1) as f64;
    println!(
        "memory: {} idle watched mailboxes added {:.1} MiB resident ({per:.0} KiB each; 1,000 would be about {:.0} MiB; goal: under 100 MiB)",
        idle + 1,
        (after.saturating_sub(before)) as f64 / 1024.0,
        per * 1000.0 / 1024.0
    );
    shutdown.send(true).unwrap();
    let _ = sup.await;
}
