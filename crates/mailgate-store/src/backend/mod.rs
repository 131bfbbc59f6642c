//! The SQL is the same on both backends (`$n` placeholders, portable types): it is written once
//! in `sql/`, one file per aggregate, and compiled against each backend's pool (see `sql/mod.rs`),
//! so the two can never drift apart. `sqlite.rs` and `postgres.rs` hold what differs: opening,
//! pragmas and checks.

pub mod postgres;
pub mod sqlite;

const CREDENTIAL_COLUMNS: &str = "id, kind, owner_id, subject, scope, granted_scope, sealed, \
                                  access_expires_at, refresh_at, status, last_error, failures, \
                                  created_at, updated_at";

const OUTBOX_COLUMNS: &str = "id, idempotency_key, request_hash, status, server_id, \
                              ticket_number, message_id, draft, attempts, next_attempt_at, \
                              lease_until, sent_server_id, result, created_at, updated_at, sent_at";

const OBJECT_COLUMNS: &str = "id, kind, name, spec, sealed, enabled, is_primary, oauth_app_id, \
                              service_account_id, outgoing_server_id, created_at, updated_at";

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

/// `SELECT {}` with the object columns filled in, as a `&'static str` (sqlx wants static SQL).
macro_rules! const_format {
    ($sql:literal) => {{
        static SQL: std::sync::OnceLock<String> = std::sync::OnceLock::new();
        SQL.get_or_init(|| format!($sql, $crate::backend::OBJECT_COLUMNS))
            .as_str()
    }};
}

/// SQL with a column list filled in (every `{}`), as a `&'static str`.
macro_rules! with_columns {
    ($sql:literal, $columns:ident) => {{
        static SQL: std::sync::OnceLock<String> = std::sync::OnceLock::new();
        SQL.get_or_init(|| $sql.replace("{}", $crate::backend::$columns))
            .as_str()
    }};
}

/// Credential SQL with the column list filled in (every `{}`).
macro_rules! credential_sql {
    ($sql:literal) => {
        $crate::backend::with_columns!($sql, CREDENTIAL_COLUMNS)
    };
}

pub(crate) use const_format;
pub(crate) use credential_sql;
pub(crate) use with_columns;
