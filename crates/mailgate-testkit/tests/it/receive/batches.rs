//! A mailbox read in several batches against Dovecot.

use super::watch::{imap_session, mail, oauth_server};
use mailgate_core::receive::connect;
use mailgate_store::testing::TestQueries as _;
use mailgate_testkit::eventually;
use mailgate_testkit::spawn_app_on_world as spawn_app;
use serde_json::json;
use std::time::Duration;

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
    eventually("all imported", Duration::from_secs(30), async || {
        (app.core.store.count_messages().await.unwrap() as usize >= MESSAGES).then_some(())
    })
    .await;
    // The last batch's action follows its commit.
    eventually("the mailbox emptied", Duration::from_secs(10), async || {
        let inbox = world.read_inbox(&mailbox, 0, Duration::ZERO).await;
        inbox.is_empty().then_some(())
    })
    .await;
    stop.send(true).unwrap();
    assert_eq!(session.await.unwrap().unwrap(), connect::Ended::Stopped);
    assert_eq!(
        app.core.store.count_messages().await.unwrap() as usize,
        MESSAGES,
        "nothing doubled"
    );
}

/// Imported mail still in the folder (its batch's action was cut short, or the action was
/// changed since) gets the action when the next session starts; ignored mail stays, and
/// nothing is imported twice.
#[tokio::test]
async fn the_next_session_finishes_the_action_on_imported_mail_and_leaves_ignored_mail() {
    let app = spawn_app().await;
    let (mailbox, server) = oauth_server(
        &app,
        json!({"after_import": "leave", "filter": {"type": "ignore", "keywords": ["newsletter"]}}),
    )
    .await;
    let id = server["id"].as_str().unwrap();
    let world = app.world();
    for subject in ["First", "Second", "Our newsletter", "Third"] {
        world
            .deliver("customer@example.com", &mailbox, &mail(&mailbox, subject))
            .await;
    }
    world.read_inbox(&mailbox, 4, Duration::from_secs(10)).await;
    let (stop, session) = imap_session(&app, id).await;
    eventually("all imported", Duration::from_secs(15), async || {
        (app.core.store.count_messages().await.unwrap() >= 3).then_some(())
    })
    .await;
    stop.send(true).unwrap();
    assert_eq!(session.await.unwrap().unwrap(), connect::Ended::Stopped);
    assert_eq!(
        world.read_inbox(&mailbox, 0, Duration::ZERO).await.len(),
        4,
        "left in place"
    );

    let patched = app
        .patch(
            &format!("/api/v1/incoming-servers/{id}"),
            json!({"after_import": "delete"}),
        )
        .await;
    assert_eq!(patched.status, 200, "{}", patched.body);
    let (stop, session) = imap_session(&app, id).await;
    let left = eventually(
        "at most one message left in the mailbox",
        Duration::from_secs(15),
        async || {
            let inbox = world.read_inbox(&mailbox, 0, Duration::ZERO).await;
            (inbox.len() <= 1).then_some(inbox)
        },
    )
    .await;
    stop.send(true).unwrap();
    assert_eq!(session.await.unwrap().unwrap(), connect::Ended::Stopped);
    assert_eq!(left.len(), 1);
    assert!(left[0].contains("Our newsletter"), "the ignored one stays");
    assert_eq!(
        app.core.store.count_messages().await.unwrap(),
        3,
        "nothing imported twice"
    );
}
