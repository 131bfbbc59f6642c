//! PostgreSQL: a database server instead of a file, for one node (several nodes sharing one
//! database are not safe yet: nothing leases a mailbox to one node).

use super::{const_format, credential_sql, sql_store};
use crate::{DatabaseUrl, StoreError, StoreOptions};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use std::str::FromStr;

pub struct PostgresStore {
    pool: sqlx::PgPool,
}

impl PostgresStore {
    pub async fn open(url: &DatabaseUrl, options: &StoreOptions) -> Result<Self, StoreError> {
        let connect = PgConnectOptions::from_str(url.expose()).map_err(|e| {
            StoreError::Config(format!("database.url `{url}` is not a PostgreSQL URL: {e}"))
        })?;
        let pool = PgPoolOptions::new()
            .max_connections(options.max_connections)
            .acquire_timeout(options.busy_timeout.max(std::time::Duration::from_secs(5)))
            .connect_with(connect)
            .await?;
        sqlx::migrate!("./migrations/postgres")
            .run(&pool)
            .await
            .map_err(StoreError::Migrate)?;
        Ok(Self { pool })
    }

    /// PostgreSQL needs nothing after a write.
    fn wrote(&self) {}
}

sql_store!(PostgresStore, sqlx::Postgres, "postgres");
