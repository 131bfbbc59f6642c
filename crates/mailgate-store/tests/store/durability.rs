//! Nothing is acknowledged before it is on disk: SQLite fsyncs every commit on every pooled
//! connection, a PostgreSQL server that acknowledges commits before flushing them is refused,
//! and a refused connection says so.

use crate::harness;
use mailgate_store::{DatabaseUrl, StoreOptions};

#[tokio::test]
async fn every_sqlite_connection_commits_with_synchronous_full() {
    let test = harness::sqlite().await;
    let options = StoreOptions::default();
    let levels = test
        .store
        .durability(options.max_connections)
        .await
        .unwrap();
    assert_eq!(levels.len(), options.max_connections as usize);
    assert!(levels.iter().all(|l| l == "full"), "{levels:?}");
}

#[tokio::test]
async fn a_postgres_server_with_synchronous_commit_off_is_refused_unless_allowed() {
    let url =
        harness::postgres_database(&["ALTER DATABASE {db} SET synchronous_commit = off"]).await;
    let Err(refused) = mailgate_store::open(&url, &StoreOptions::default()).await else {
        panic!("a server with synchronous_commit = off was accepted");
    };
    let message = refused.to_string();
    assert!(message.contains("synchronous_commit = off"), "{message}");
    assert!(message.contains("database.allow_async_commit"), "{message}");

    let allowed = StoreOptions {
        allow_async_commit: true,
        ..StoreOptions::default()
    };
    let store = mailgate_store::open(&url, &allowed).await.unwrap();
    assert_eq!(store.durability(2).await.unwrap(), ["off", "off"]);
}

#[tokio::test]
async fn a_postgres_server_with_synchronous_commit_on_reports_it_on_every_connection() {
    let store = harness::postgres().await.store;
    assert_eq!(store.durability(3).await.unwrap(), ["on", "on", "on"]);
}

#[tokio::test]
async fn a_refused_postgres_connection_names_the_address_and_the_setting() {
    // A port that was free a moment ago: nothing listens there.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url =
        DatabaseUrl::parse(&format!("postgres://mailgate@127.0.0.1:{port}/mailgate")).unwrap();
    let Err(e) = mailgate_store::open(&url, &StoreOptions::default()).await else {
        panic!("connected to a closed port");
    };
    let message = e.to_string();
    assert!(
        message.contains(&format!("connection refused to 127.0.0.1:{port}")),
        "{message}"
    );
    assert!(message.contains("database.url"), "{message}");
    assert!(!message.contains("timed out"), "{message}");
}
