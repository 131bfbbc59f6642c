//! SQLite only: the page size of new databases, checkpoints done by the background task
//! rather than by the writer, and rows written without the columns added later.

use crate::harness::{side_pool, sqlite_file};
use crate::tickets::{parts, request, server};
use std::time::{Duration, Instant};

#[tokio::test]
async fn new_databases_have_large_pages_and_imports_are_checkpointed_in_the_background() {
    let (store, path, _dir) = sqlite_file().await;
    let header = std::fs::read(&path).unwrap();
    // Bytes 16-17 of the header: the page size, 1 meaning 65536.
    assert_eq!(header[16..18], [0, 1], "64 KiB pages");
    let before = std::fs::metadata(&path).unwrap().len();

    // 8 MB: far below the writer's own checkpoint threshold (64 MB of WAL).
    let server = server(store.as_ref()).await;
    let batch: Vec<_> = (1..=4)
        .map(|uid| {
            let mut r = request(server, uid, &format!("{uid}@x"), "Big");
            parts(&mut r).message.raw = vec![b'x'; 2_000_000];
            r
        })
        .collect();
    let done = store.import_batch(&batch, &|_, _| None, 1).await;
    assert!(done.failed.is_none(), "{:?}", done.failed);

    let deadline = Instant::now() + Duration::from_secs(10);
    while std::fs::metadata(&path).unwrap().len() < before + 8_000_000 {
        assert!(
            Instant::now() < deadline,
            "the WAL was not copied into the database"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// A message row written without the reply-target columns (as by a version before them) reads
/// them as empty lists.
#[tokio::test]
async fn rows_without_reply_targets_read_as_empty_lists() {
    let (store, path, _dir) = sqlite_file().await;
    let server = server(store.as_ref()).await;
    let done = store
        .import_batch(&[request(server, 1, "a@x", "Old")], &|_, _| None, 1)
        .await;
    assert!(done.failed.is_none(), "{:?}", done.failed);
    let pool = side_pool(&path).await;
    sqlx::query(
        "INSERT INTO ticket_messages (id, ticket_number, seq, direction, kind, recipients, \
         subject, body_text, problems, raw, created_at) \
         VALUES ('00000000-0000-4000-8000-000000000001', 1, 2, 'in', 'normal', '{}', 'Old', '', \
         '[]', x'', 2)",
    )
    .execute(&pool)
    .await
    .unwrap();
    pool.close().await;
    let messages = store.ticket_messages(1).await.unwrap();
    let old = messages.last().unwrap();
    assert_eq!(
        (
            old.reply_to.as_str(),
            old.in_reply_to.as_str(),
            old.references.as_str()
        ),
        ("[]", "[]", "[]")
    );
}
