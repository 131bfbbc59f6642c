//! SQLite: the embedded default, in WAL mode with a busy timeout.
//!
//! Mail is mostly large blobs, so new databases get 64 KiB pages (SQLite's largest): a 2 MB
//! message is 32 pages to write instead of 500 (an existing database keeps its page size).
//! Copying the WAL back into the database (a checkpoint, with its two fsyncs) is done by a
//! background task on its own connection after imports, not by the committing writer; a
//! writer still checkpoints itself once the WAL passes [`WAL_SAFETY_NET_BYTES`], should that
//! task fall behind.
//!
//! Every commit is durable before it returns (`synchronous = FULL`, one fsync of the WAL per
//! transaction, on every pooled connection): mailgate acts on commits outside itself (deletes
//! imported mail at the provider, answers 202, ends an SMTP conversation), so a power loss must
//! not take back what was acknowledged. Imports commit once per batch and the outbox once per
//! claim and per result, which keeps that to one fsync per batch or round.
//!
//! The database and its `-wal`/`-shm` files hold mail and sealed secrets: they are created
//! 0600 whatever the umask (SQLite gives the `-wal` and `-shm` files the database file's mode),
//! and an existing database's modes are corrected at open.

use crate::{DatabaseUrl, StoreError, StoreOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use std::str::FromStr;
use std::sync::Arc;
use tokio::sync::{Notify, watch};

/// The page size of new databases.
const PAGE_SIZE: u32 = 64 * 1024;
/// A writer checkpoints itself past this much WAL (SQLite's `wal_autocheckpoint`, in bytes).
pub const WAL_SAFETY_NET_BYTES: i64 = 64 * 1024 * 1024;
/// Below this much free space on the database's file system the store reports itself full: a
/// small write may still fit where the WAL was already written, but a message would not.
pub const FULL_BELOW_BYTES: u64 = 1024 * 1024;

pub struct SqliteStore {
    pool: sqlx::SqlitePool,
    /// The directory of the database file (`None` in memory): its free space is checked.
    dir: Option<std::path::PathBuf>,
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
            // Set on each new connection of the pool (sqlx runs the options' pragmas at connect).
            .synchronous(SqliteSynchronous::Full)
            .busy_timeout(options.busy_timeout)
            .foreign_keys(true)
            // A statement's undo pages (its statement journal, dropped when the statement
            // ends, never read after a crash) stay in memory: SQLite spills them to a new file
            // in the temporary directory past 64 KiB, which is one page here, so each outbox
            // record and many other writes created, wrote and deleted a file of 128 KiB.
            // Nothing of the database's durability depends on it.
            .pragma("temp_store", "memory");
        make_private(connect.get_filename())?;
        let dir = database_dir(connect.get_filename());
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
            .map_err(StoreError::from)?;
        let checkpoint = Arc::new(Notify::new());
        let (stop, stopped) = watch::channel(());
        tokio::spawn(checkpointer(pool.clone(), checkpoint.clone(), stopped));
        Ok(Self {
            pool,
            dir,
            checkpoint,
            _stop_checkpointer: stop,
        })
    }

    fn check_free_space(&self) -> Result<(), StoreError> {
        let Some(dir) = &self.dir else {
            return Ok(());
        };
        match rustix::fs::statvfs(dir) {
            Ok(fs) if fs.f_bavail.saturating_mul(fs.f_frsize) < FULL_BELOW_BYTES => {
                Err(StoreError::Full(None))
            }
            Ok(_) => Ok(()),
            // Not knowing is not a reason to fail: the heartbeat write still proves the rest.
            Err(e) => {
                tracing::debug!(
                    error = %e,
                    dir = %dir.display(),
                    "cannot read the free space of the database's file system"
                );
                Ok(())
            }
        }
    }

    /// After a large write: the checkpointer copies the WAL into the database in the
    /// background. Wake-ups while it runs fold into one more run.
    fn wrote(&self) {
        self.checkpoint.notify_one();
    }
}

fn database_dir(path: &std::path::Path) -> Option<std::path::PathBuf> {
    let text = path.to_string_lossy();
    if text.is_empty() || text == ":memory:" || text.starts_with("file:") {
        return None;
    }
    let parent = path.parent()?;
    Some(if parent.as_os_str().is_empty() {
        std::path::PathBuf::from(".")
    } else {
        parent.to_owned()
    })
}

/// Creates the database file 0600 when it is missing (SQLite would create it 0644 less the
/// umask) and corrects the modes of an existing one and of its `-wal` and `-shm` files.
fn make_private(path: &std::path::Path) -> Result<(), StoreError> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
        if database_dir(path).is_none() {
            return Ok(());
        }
        let text = path.to_string_lossy();
        let fail = |what: &std::path::Path, e: std::io::Error| {
            StoreError::Config(format!(
                "cannot make the database file {} private (mode 0600): {e}; check the owner of \
                 the data directory (storage.data_dir)",
                what.display()
            ))
        };
        std::fs::OpenOptions::new()
            .append(true)
            .create(true)
            .mode(0o600)
            .open(path)
            .map_err(|e| fail(path, e))?;
        for suffix in ["", "-wal", "-shm"] {
            let file = std::path::PathBuf::from(format!("{text}{suffix}"));
            match std::fs::metadata(&file) {
                Ok(meta) if meta.permissions().mode() & 0o077 != 0 => {
                    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600))
                        .map_err(|e| fail(&file, e))?;
                    tracing::warn!(
                        file = %file.display(),
                        "the database file was readable by other users; its mode is now 0600"
                    );
                }
                _ => {}
            }
        }
    }
    Ok(())
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

// The shared SQL, compiled once per backend on purpose (see `sql/mod.rs`).
#[allow(clippy::duplicate_mod)]
#[path = "sql/mod.rs"]
mod sql;

const NAME: &str = "sqlite";
type Db = sqlx::Sqlite;
type Backend = SqliteStore;

/// `PRAGMA synchronous` as one connection sees it (`full` expected).
async fn durability_level(conn: &mut sqlx::SqliteConnection) -> Result<String, StoreError> {
    let level: i64 = sqlx::query_scalar("PRAGMA synchronous")
        .fetch_one(conn)
        .await?;
    Ok(match level {
        0 => "off",
        1 => "normal",
        2 => "full",
        3 => "extra",
        _ => "unknown",
    }
    .to_owned())
}
