//! Progress on a bad link: each batch is committed as soon as it is parsed, so a connection
//! that drops every few seconds still brings a large mailbox in, each message once.

use mailgate_core::receive::supervisor::Supervisor;
use mailgate_core::workers::step::Outcome;
use mailgate_store::testing::TestQueries as _;
use mailgate_testkit::mailstack::MailStack;
use mailgate_testkit::proxy::{Link, Proxy};
use mailgate_testkit::{eventually, samples, spawn_app_on_world as spawn_app};
use serde_json::json;
use std::time::{Duration, Instant};

/// 500 messages of the benchmark's mix (37 MB: batches of 5.7 to 8.4 MB) behind a link of
/// 6 MB/s that is cut 2 s after each connection opened: a batch is fetched in about 1.4 s, two
/// take more than the 2 s a connection lives.
#[tokio::test]
async fn a_link_cut_every_two_seconds_still_imports_a_large_mailbox_exactly_once() {
    const MESSAGES: usize = 500;
    let app = spawn_app().await;
    let world = app.world();
    let mailbox = world.fresh_user("badlink");
    samples::fill(&mailbox, MESSAGES).await;
    let proxy = Proxy::start(
        MailStack::addr(world.stack.imaps_port),
        Link {
            bytes_per_sec: 6_000_000,
            cut_after: Some(Duration::from_secs(2)),
        },
    )
    .await;
    let oauth = app.google_oauth_app().await;
    let started = Instant::now();
    app.authorized_server(
        "incoming",
        json!({"name": "Bad link", "email": mailbox, "host": "127.0.0.1", "auth": "oauth", "oauth_app_id": oauth["id"],
               "protocol": "imap", "import_from": "all", "port": proxy.port, "security": "ssl", "after_import": "leave"}),
        &mailbox,
    )
    .await;
    // The supervisor's step starts the new server's watcher.
    let mut supervisor = Supervisor::new(app.core.clone(), Duration::from_secs(3600));
    assert_eq!(supervisor.run_once().await.unwrap(), Outcome::DidWork(1));
    let stored = eventually(
        "all imported within 120 s",
        Duration::from_secs(120),
        async || {
            let stored = app.core.store.count_messages().await.unwrap();
            (stored >= MESSAGES as i64).then_some(stored)
        },
    )
    .await;
    eprintln!(
        "{stored} of {MESSAGES} imported in {:?} over {} connections",
        started.elapsed(),
        proxy.connections()
    );
    assert_eq!(stored, MESSAGES as i64, "not all imported within 120 s");
    assert!(proxy.connections() > 2, "the link was not cut");
    // Each message is one ticket of its own: none stored twice.
    let tickets = app.get("/api/v1/tickets?limit=500").await.body;
    let mut subjects: Vec<&str> = tickets
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|t| t["subject"].as_str())
        .collect();
    subjects.sort_unstable();
    subjects.dedup();
    assert_eq!(
        subjects.len(),
        MESSAGES,
        "{} distinct tickets",
        subjects.len()
    );
    supervisor.stop_all().await;
}
