use mailgate_domain::Id;

/// What can go wrong in the store, in terms the services can act on.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("not found")]
    NotFound,
    /// A unique rule was broken (e.g. a name already taken).
    #[error("conflict: {0}")]
    Conflict(String),
    /// The object is still linked from these objects.
    #[error("still in use by {}", .0.iter().map(|i| i.to_string()).collect::<Vec<_>>().join(", "))]
    InUse(Vec<Id>),
    /// A link names an object that does not exist.
    #[error("a linked object does not exist")]
    MissingLink,
    /// Stored data the code cannot read (a bug or a hand-edited database).
    #[error("corrupt row: {0}")]
    Corrupt(String),
    #[error("{0}")]
    Config(String),
    #[error("database error: {0}")]
    Database(#[source] sqlx::Error),
    #[error("migration failed: {0}")]
    Migrate(#[source] sqlx::migrate::MigrateError),
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        if let sqlx::Error::Database(db) = &e {
            if db.is_unique_violation() {
                return StoreError::Conflict(db.message().to_owned());
            }
            if db.is_foreign_key_violation() {
                return StoreError::MissingLink;
            }
        }
        StoreError::Database(e)
    }
}
