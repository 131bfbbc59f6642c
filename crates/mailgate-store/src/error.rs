use mailgate_domain::Id;

/// What can go wrong in the store, in terms the services can act on.
///
/// A variant that wraps another error names it as its `source` and does not repeat it in its
/// own message: a chain printed with `{:#}` (anyhow) or walked with `source()` shows each cause
/// once.
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
    /// The disk (or the database's quota) is full: SQLite `SQLITE_FULL`, PostgreSQL `53100`.
    /// Nothing was written; the write can succeed once space is freed. Without a source when
    /// the free-space check of [`crate::Store::probe_write`] found it.
    #[error("the database's disk is full")]
    Full(#[source] Option<DriverError>),
    /// The database server refused the connection or could not be reached.
    #[error(
        "cannot connect to the database at {address} (database.url): {reason}; check that the \
         server runs and listens there"
    )]
    Unreachable {
        address: String,
        reason: String,
        #[source]
        source: DriverError,
    },
    #[error("database error")]
    Database(#[source] DriverError),
    #[error("migration failed")]
    Migrate(#[source] DriverError),
}

/// The database driver's own error, printed in its words. The driver's errors repeat their
/// cause in their message and again as their `source()` ("error returned from database: X"
/// then "X"): this prints the message, which holds the cause, and ends the chain there.
#[derive(Debug)]
pub struct DriverError(Box<dyn std::error::Error + Send + Sync>);

impl DriverError {
    pub(crate) fn new(e: impl std::error::Error + Send + Sync + 'static) -> Self {
        Self(Box::new(e))
    }
}

impl std::fmt::Display for DriverError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl std::error::Error for DriverError {}

impl From<sqlx::migrate::MigrateError> for StoreError {
    fn from(e: sqlx::migrate::MigrateError) -> Self {
        StoreError::Migrate(DriverError::new(e))
    }
}

impl StoreError {
    /// Whether this is a full disk: the write may succeed once space is freed.
    pub fn is_full(&self) -> bool {
        matches!(self, StoreError::Full(_))
    }
}

/// SQLite's primary result code for a full disk (`SQLITE_FULL`).
const SQLITE_FULL: i64 = 13;
/// PostgreSQL's SQLSTATE for a full disk (`disk_full`).
const PG_DISK_FULL: &str = "53100";

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        if let sqlx::Error::Database(db) = &e {
            if db.is_unique_violation() {
                return StoreError::Conflict(db.message().to_owned());
            }
            if db.is_foreign_key_violation() {
                return StoreError::MissingLink;
            }
            if is_disk_full(db.as_ref()) {
                return StoreError::Full(Some(DriverError::new(e)));
            }
        }
        StoreError::Database(DriverError::new(e))
    }
}

fn is_disk_full(db: &dyn sqlx::error::DatabaseError) -> bool {
    let Some(code) = db.code() else {
        return false;
    };
    if code == PG_DISK_FULL {
        return true;
    }
    // SQLite reports extended result codes: the primary code is the low byte.
    code.parse::<i64>().is_ok_and(|c| {
        c & 0xff == SQLITE_FULL && db.try_downcast_ref::<sqlx::sqlite::SqliteError>().is_some()
    })
}
