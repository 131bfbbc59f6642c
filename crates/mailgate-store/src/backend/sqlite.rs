//! SQLite: the embedded default, in WAL mode with a busy timeout.
//!
//! Mail is mostly large blobs, so new databases get 64 KiB pages (SQLite's largest): a 2 MB
//! message is 32 pages to write instead of 500 (an existing database keeps its page size).
//! Copying the WAL back into the database (a checkpoint, with its two fsyncs) is done by a
//! background task on its own connection after imports, not by the committing writer; a
//! writer still checkpoints itself once the WAL passes [`WAL_SAFETY_NET_BYTES`], should that
//! task fall behind.

use super::{const_format, credential_sql, sql_store};
use crate::{DatabaseUrl, StoreError, StoreOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use std::str::FromStr;
use std::sync::Arc;
use tokio::sync::{Notify, watch};

/// The page size of new databases.
const PAGE_SIZE: u32 = 64 * 1024;
/// A writer checkpoints itself past this much WAL (SQLite's `wal_autocheckpoint`, in bytes).
pub const WAL_SAFETY_NET_BYTES: i64 = 64 * 1024 * 1024;

pub struct SqliteStore {
    pool: sqlx::SqlitePool,
    /// Wakes the checkpointer.
    checkpoint: Arc<Notify>,
    /// Dropped with the store: the checkpointer then stops.
    _stop_checkpointer: watch::Sender<()>,
}

impl SqliteStore {
    pub async fn open(url: &DatabaseUrl, options: &StoreOptions) -> Result<Self, StoreError> {
        let connect = SqliteConnectOptions::from_str(url.expose())
            .map_err(|e| {
                StoreError::Config(format!("database.url `{url}` is not a SQLite URL: {e}"))
            })?
            .create_if_missing(true)
            .page_size(PAGE_SIZE)
            .journal_mode(SqliteJournalMode::Wal)
            // WAL + NORMAL is durable across process crashes (the case we promise); only a power
            // loss can lose the last transactions.
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(options.busy_timeout)
            .foreign_keys(true);
        let pool = SqlitePoolOptions::new()
            .max_connections(options.max_connections)
            .after_connect(|conn, _| {
                Box::pin(async move {
                    // In pages, and an existing database keeps its own page size.
                    let page: i64 = sqlx::query_scalar("PRAGMA page_size")
                        .fetch_one(&mut *conn)
                        .await?;
                    let pages = WAL_SAFETY_NET_BYTES / page.max(512);
                    sqlx::query(sqlx::AssertSqlSafe(format!(
                        "PRAGMA wal_autocheckpoint = {pages}"
                    )))
                    .execute(&mut *conn)
                    .await?;
                    Ok(())
                })
            })
            .connect_with(connect)
            .await?;
        sqlx::migrate!("./migrations/sqlite")
            .run(&pool)
            .await
            .map_err(StoreError::Migrate)?;
        let checkpoint = Arc::new(Notify::new());
        let (stop, stopped) = watch::channel(());
        tokio::spawn(checkpointer(pool.clone(), checkpoint.clone(), stopped));
        Ok(Self {
            pool,
            checkpoint,
            _stop_checkpointer: stop,
        })
    }

    /// After a large write: the checkpointer copies the WAL into the database in the
    /// background. Wake-ups while it runs fold into one more run.
    fn wrote(&self) {
        self.checkpoint.notify_one();
    }
}

/// Runs PASSIVE checkpoints (they wait for no reader and block no writer) when woken, until
/// the store is dropped.
async fn checkpointer(pool: sqlx::SqlitePool, wake: Arc<Notify>, mut stop: watch::Receiver<()>) {
    loop {
        tokio::select! {
            _ = wake.notified() => {}
            _ = stop.changed() => return,
        }
        if let Err(e) = sqlx::query("PRAGMA wal_checkpoint(PASSIVE)")
            .execute(&pool)
            .await
        {
            // The next wake-up tries again; a writer checkpoints itself past the safety net.
            tracing::warn!(error = %e, "SQLite checkpoint failed");
        }
    }
}

sql_store!(SqliteStore, sqlx::Sqlite, "sqlite");
