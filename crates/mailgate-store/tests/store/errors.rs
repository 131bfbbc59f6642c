//! A store error printed with its causes names each cause once.

use mailgate_store::{DatabaseUrl, StoreOptions};

#[tokio::test]
async fn a_database_error_prints_its_cause_once() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("mailgate.db");
    let store = mailgate_store::open(&DatabaseUrl::sqlite_file(&path), &StoreOptions::default())
        .await
        .unwrap();
    // A hand-damaged database: the table the next read needs is gone.
    let other = sqlx::SqlitePool::connect(&format!("sqlite://{}", path.display()))
        .await
        .unwrap();
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
