//! A mailbox read in several batches against Dovecot.

use super::watch::{imap_session, mail, oauth_server};
use mailgate_core::receive::watch;
use mailgate_testkit::spawn_app_on_world as spawn_app;
use serde_json::json;
use std::time::{Duration, Instant};

/// More than one batch (200 messages each): every message imported once, and deleted from
/// the mailbox by the batch's action once the batch is committed.
#[tokio::test]
async fn a_mailbox_of_several_batches_is_imported_and_emptied_batch_by_batch() {
    const MESSAGES: usize = 230;
    let app = spawn_app().await;
    let (mailbox, server) = oauth_server(&app, json!({"after_import": "delete"})).await;
    let world = app.world();
    for n in 0..MESSAGES {
        world
            .deliver(
                "customer@example.com",
                &mailbox,
                &mail(&mailbox, &format!("Batch {n}")),
            )
            .await;
    }
    world
        .read_inbox(&mailbox, MESSAGES, Duration::from_secs(30))
        .await;
    let (stop, session) = imap_session(&app, server["id"].as_str().unwrap()).await;
    let deadline = Instant::now() + Duration::from_secs(30);
    while (app.core.store.count_messages().await.unwrap() as usize) < MESSAGES {
        assert!(Instant::now() < deadline, "not all imported");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // The last batch's action follows its commit.
    let deadline = Instant::now() + Duration::from_secs(10);
    while !world
        .read_inbox(&mailbox, 0, Duration::ZERO)
        .await
        .is_empty()
    {
        assert!(Instant::now() < deadline, "the mailbox was not emptied");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    stop.send(true).unwrap();
    assert_eq!(session.await.unwrap().unwrap(), watch::Ended::Stopped);
    assert_eq!(
        app.core.store.count_messages().await.unwrap() as usize,
        MESSAGES,
        "nothing doubled"
    );
}
