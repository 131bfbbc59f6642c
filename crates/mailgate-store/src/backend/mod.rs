//! The SQL is the same on both backends (`$n` placeholders, portable types): it is written once
//! in `sql/`, one file per aggregate, and compiled against each backend's pool (see `sql/mod.rs`),
//! so the two can never drift apart. `sqlite.rs` and `postgres.rs` hold what differs: opening,
//! pragmas and checks. [`open`] is the one place a URL picks one of them.

pub mod postgres;
pub mod sqlite;

use crate::store::{Store, StoreOptions};
use crate::{DatabaseUrl, StoreError};
use std::sync::Arc;

/// Opens the store the URL names (`sqlite:` or `postgres:`), creating a SQLite file when it is
/// missing, and applies that backend's migrations.
pub async fn open(url: &DatabaseUrl, options: &StoreOptions) -> Result<Arc<dyn Store>, StoreError> {
    match url.scheme() {
        "sqlite" => Ok(Arc::new(sqlite::SqliteStore::open(url, options).await?)),
        "postgres" | "postgresql" => {
            Ok(Arc::new(postgres::PostgresStore::open(url, options).await?))
        }
        other => Err(StoreError::Config(format!(
            "database.url has the scheme `{other}`; use sqlite://PATH (the default, in the data \
             directory) or postgres://USER@HOST/DB"
        ))),
    }
}

/// Where an attachment stands in its message's raw bytes, from the three `raw_` columns.
pub(crate) fn raw_part(
    offset: Option<i64>,
    length: Option<i64>,
    encoding: Option<String>,
) -> Result<Option<mailgate_domain::mail::RawPart>, crate::StoreError> {
    let (Some(offset), Some(length), Some(encoding)) = (offset, length, encoding) else {
        return Ok(None);
    };
    let corrupt =
        || crate::StoreError::Corrupt(format!("attachment range {offset}+{length} ({encoding})"));
    Ok(Some(mailgate_domain::mail::RawPart {
        offset: usize::try_from(offset).map_err(|_| corrupt())?,
        length: usize::try_from(length).map_err(|_| corrupt())?,
        encoding: mailgate_domain::mail::PartEncoding::parse(&encoding).ok_or_else(corrupt)?,
    }))
}

/// An attachment's bytes from its range of the raw message, checked against its size.
pub(crate) fn read_raw_part(
    part: &mailgate_domain::mail::RawPart,
    encoded: Option<Vec<u8>>,
    size: i64,
) -> Result<Vec<u8>, crate::StoreError> {
    let content = encoded.and_then(|e| part.encoding.decode(&e));
    match content {
        Some(c) if c.len() as i64 == size => Ok(c),
        _ => Err(crate::StoreError::Corrupt(format!(
            "the attachment at {}+{} of its message does not decode to its {size} bytes",
            part.offset, part.length
        ))),
    }
}

pub(crate) fn parse_id(column: &str, text: &str) -> Result<mailgate_domain::Id, crate::StoreError> {
    text.parse()
        .map_err(|_| crate::StoreError::Corrupt(format!("{column} `{text}` is not a UUID")))
}

/// A nullable id column.
pub(crate) fn parse_optional_id(
    column: &str,
    text: Option<String>,
) -> Result<Option<mailgate_domain::Id>, crate::StoreError> {
    text.map(|t| parse_id(column, &t)).transpose()
}

/// `problems` (a JSON array of strings) with `problem` appended. `problem` is plain text of
/// ours: no quote, backslash or control character to escape.
pub(crate) fn with_problem(problems: &str, problem: &str) -> String {
    debug_assert!(!problem.contains(['"', '\\']) && !problem.contains(char::is_control));
    match problems.trim().strip_suffix(']') {
        Some(head) if head.trim_end().ends_with('[') => format!("{head}\"{problem}\"]"),
        Some(head) => format!("{head},\"{problem}\"]"),
        None => format!("[\"{problem}\"]"),
    }
}

/// `sql` with every `{}` replaced by `columns`, a table's column list (a constant of `sql/`).
/// Only those constants are formatted in; values are bound.
pub(crate) fn with_columns(sql: &str, columns: &str) -> sqlx::AssertSqlSafe<String> {
    sqlx::AssertSqlSafe(sql.replace("{}", columns))
}
