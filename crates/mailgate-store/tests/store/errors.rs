//! A store error printed with its causes names each cause once.

use crate::harness::{side_pool, sqlite_file};

#[tokio::test]
async fn a_database_error_prints_its_cause_once() {
    let (store, path, _dir) = sqlite_file().await;
    // A hand-damaged database: the table the next read needs is gone.
    let other = side_pool(&path).await;
    sqlx::query("DROP TABLE meta")
        .execute(&other)
        .await
        .unwrap();
    other.close().await;

    let error = store.get_meta("key_check").await.unwrap_err();
    let chain = format!("{:#}", anyhow::Error::new(error));
    assert_eq!(chain.matches("no such table: meta").count(), 1, "{chain}");
    assert!(chain.starts_with("database error: "), "{chain}");
}
