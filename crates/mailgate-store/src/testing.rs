//! Questions only tests and benchmarks ask the database (feature `testing`): they are not part
//! of the [`Store`] seam, which holds what the service does. Bring [`TestQueries`] into scope
//! and ask any store [`crate::open`] returned: `store.count_messages().await`.

use crate::backend::{postgres::PostgresStore, sqlite::SqliteStore};
use crate::{Store, StoreError};
use async_trait::async_trait;
use std::any::Any;

#[async_trait]
pub trait TestQueries {
    /// How many ticket messages (in and out) the database holds, in one statement: cheap
    /// enough to poll every few milliseconds while a batch is being imported.
    async fn count_messages(&self) -> Result<i64, StoreError>;
}

#[async_trait]
impl TestQueries for dyn Store {
    async fn count_messages(&self) -> Result<i64, StoreError> {
        let store: &dyn Any = self;
        if let Some(sqlite) = store.downcast_ref::<SqliteStore>() {
            return sqlite.count_messages().await;
        }
        if let Some(postgres) = store.downcast_ref::<PostgresStore>() {
            return postgres.count_messages().await;
        }
        Err(StoreError::Config(
            "count_messages asks a store opened by mailgate_store::open; this one is another \
             implementation of Store"
                .to_owned(),
        ))
    }
}
