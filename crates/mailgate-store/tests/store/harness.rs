use mailgate_store::{DatabaseUrl, Store, StoreOptions};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// A store and whatever must live as long as it (the SQLite file's directory).
pub struct TestStore {
    pub store: Arc<dyn Store>,
    _dir: Option<tempfile::TempDir>,
}

pub async fn sqlite() -> TestStore {
    let (store, _, dir) = sqlite_file().await;
    TestStore {
        store,
        _dir: Some(dir),
    }
}

/// A SQLite store in a fresh directory, with its database file's path (to look at from outside).
pub async fn sqlite_file() -> (Arc<dyn Store>, PathBuf, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("mailgate.db");
    let store = mailgate_store::open(&DatabaseUrl::sqlite_file(&path), &StoreOptions::default())
        .await
        .expect("open sqlite");
    (store, path, dir)
}

/// A connection of its own to a SQLite file, beside the store: to write what the store would not.
pub async fn side_pool(path: &Path) -> sqlx::SqlitePool {
    sqlx::SqlitePool::connect(&format!("sqlite://{}", path.display()))
        .await
        .expect("open the database file beside the store")
}

pub async fn postgres() -> TestStore {
    let url = postgres_database(&[]).await;
    let store = mailgate_store::open(&url, &StoreOptions::default())
        .await
        .expect("open postgres");
    TestStore { store, _dir: None }
}

/// A fresh, empty database on the test server, after `setup` statements run on the server
/// (`{db}` in them stands for the database's name).
pub async fn postgres_database(setup: &[&str]) -> DatabaseUrl {
    let Ok(server) = std::env::var("MAILGATE_TEST_POSTGRES_URL") else {
        panic!(
            "MAILGATE_TEST_POSTGRES_URL is not set: the storage suite runs on PostgreSQL too. \
             Run the tests with scripts/test.sh (it starts a throwaway PostgreSQL), or point the \
             variable at a server whose user may CREATE DATABASE, e.g. \
             postgres://postgres@127.0.0.1:5432/postgres"
        );
    };
    let name = format!("mailgate_test_{}", uuid::Uuid::new_v4().simple());
    let admin = sqlx::PgPool::connect(&server)
        .await
        .expect("connect to MAILGATE_TEST_POSTGRES_URL");
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&admin)
        .await
        .expect("create test database");
    for statement in setup {
        sqlx::query(sqlx::AssertSqlSafe(statement.replace("{db}", &name)))
            .execute(&admin)
            .await
            .expect("set up the test database");
    }
    admin.close().await;
    let mut url = url::Url::parse(&server).expect("MAILGATE_TEST_POSTGRES_URL is a URL");
    url.set_path(&name);
    DatabaseUrl::parse(url.as_str()).expect("database url")
}

/// Writes a test once and runs it against each backend.
#[macro_export]
macro_rules! store_test {
    ($name:ident, |$store:ident| $body:block) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            async fn run($store: std::sync::Arc<dyn mailgate_store::Store>) $body

            #[tokio::test]
            async fn sqlite() {
                let test = $crate::harness::sqlite().await;
                run(test.store.clone()).await;
            }

            #[tokio::test]
            async fn postgres() {
                let test = $crate::harness::postgres().await;
                run(test.store.clone()).await;
            }
        }
    };
}
