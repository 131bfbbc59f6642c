//! PostgreSQL: an external database for one node (several nodes on one database are not safe
//! yet: mailboxes have no leases).
//!
//! A commit is durable only if the server flushes it before answering: with
//! `synchronous_commit = off` the last commits can vanish after a server crash although mailgate
//! already deleted the mail on the provider's side or answered 202. Such a server is refused at
//! start unless `database.allow_async_commit` says the operator accepts that.

use crate::{DatabaseUrl, StoreError, StoreOptions};
use sqlx::Connection;
use sqlx::postgres::{PgConnectOptions, PgConnection, PgPoolOptions};
use std::str::FromStr;

pub struct PostgresStore {
    pool: sqlx::PgPool,
}

impl PostgresStore {
    pub async fn open(url: &DatabaseUrl, options: &StoreOptions) -> Result<Self, StoreError> {
        let connect = PgConnectOptions::from_str(url.expose()).map_err(|e| {
            StoreError::Config(format!("database.url `{url}` is not a PostgreSQL URL: {e}"))
        })?;
        // One direct connection first: the pool retries until its timeout and then reports only
        // "pool timed out", losing why (refused, unknown host, bad password).
        let address = match connect.get_socket() {
            Some(socket) => socket.display().to_string(),
            None => format!("{}:{}", connect.get_host(), connect.get_port()),
        };
        let mut first = PgConnection::connect_with(&connect)
            .await
            .map_err(|e| unreachable(&address, e))?;
        let commit: String = sqlx::query_scalar("SHOW synchronous_commit")
            .fetch_one(&mut first)
            .await?;
        let _ = first.close().await;
        check_synchronous_commit(&commit, options.allow_async_commit)?;
        let pool = PgPoolOptions::new()
            .max_connections(options.max_connections)
            .acquire_timeout(options.busy_timeout.max(std::time::Duration::from_secs(5)))
            .connect_with(connect)
            .await?;
        sqlx::migrate!("./migrations/postgres")
            .run(&pool)
            .await
            .map_err(StoreError::from)?;
        Ok(Self { pool })
    }

    /// PostgreSQL needs nothing after a write.
    fn wrote(&self) {}

    /// The server's disk is not visible from here: the heartbeat write reports `53100`.
    fn check_free_space(&self) -> Result<(), StoreError> {
        Ok(())
    }
}

/// A failed first connection: refused, unknown host, timed out or rejected login. Errors the
/// server answered with (bad password, unknown database) stay database errors with its words.
fn unreachable(address: &str, error: sqlx::Error) -> StoreError {
    let reason = match &error {
        sqlx::Error::Io(io) if io.kind() == std::io::ErrorKind::ConnectionRefused => {
            format!("connection refused to {address}")
        }
        sqlx::Error::Io(io) => format!("{address}: {io}"),
        sqlx::Error::Tls(tls) => format!("TLS with {address} failed: {tls}"),
        sqlx::Error::Database(_) => return StoreError::from(error),
        other => format!("{address}: {other}"),
    };
    StoreError::Unreachable {
        address: address.to_owned(),
        reason,
        source: crate::error::DriverError::new(error),
    }
}

/// `off` acknowledges commits before they are flushed: refused unless allowed. `local`,
/// `remote_write`, `on` and `remote_apply` all flush the local WAL first.
fn check_synchronous_commit(level: &str, allowed: bool) -> Result<(), StoreError> {
    if level != "off" {
        return Ok(());
    }
    if allowed {
        tracing::warn!(
            "PostgreSQL runs with synchronous_commit = off: commits mailgate acts on \
             (after-import deletes, 202 answers) can be lost if the database server crashes \
             (database.allow_async_commit = true)"
        );
        return Ok(());
    }
    Err(StoreError::Config(
        "the PostgreSQL server runs with synchronous_commit = off, so a commit can be lost after \
         mailgate has acted on it (deleted the mail at the provider, answered 202); set \
         synchronous_commit = on for mailgate's database (ALTER DATABASE <db> SET \
         synchronous_commit = on, or in postgresql.conf), or accept the risk with \
         database.allow_async_commit = true"
            .to_owned(),
    ))
}

// The shared SQL, compiled once per backend on purpose (see `sql/mod.rs`).
#[allow(clippy::duplicate_mod)]
#[path = "sql/mod.rs"]
mod sql;

const NAME: &str = "postgres";
type Db = sqlx::Postgres;
type Backend = PostgresStore;

/// The server's `synchronous_commit` as one connection sees it.
async fn durability_level(conn: &mut sqlx::PgConnection) -> Result<String, StoreError> {
    Ok(sqlx::query_scalar("SHOW synchronous_commit")
        .fetch_one(conn)
        .await?)
}
