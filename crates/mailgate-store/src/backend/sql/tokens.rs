//! Admin API tokens (only their hashes).

use super::db::{Pool, Row};
use crate::StoreError;
use crate::backend::{parse_id, with_columns};
use sqlx::FromRow;

/// The columns of `admin_tokens`, in the order of the INSERT's placeholders.
const TOKEN_COLUMNS: &str = "id, name, token_hash, created_at, last_used_at";

/// An `admin_tokens` row as stored.
#[derive(sqlx::FromRow)]
struct TokenRecord {
    id: String,
    name: String,
    token_hash: Vec<u8>,
    created_at: i64,
    last_used_at: Option<i64>,
}

pub(super) fn token_row(row: &Row) -> Result<crate::AdminTokenRow, StoreError> {
    let r = TokenRecord::from_row(row)?;
    Ok(crate::AdminTokenRow {
        id: parse_id("id", &r.id)?,
        name: r.name,
        token_hash: r.token_hash,
        created_at_ms: r.created_at,
        last_used_at_ms: r.last_used_at,
    })
}

pub(super) async fn insert_admin_token(
    pool: &Pool,
    token: &crate::AdminTokenRow,
) -> Result<(), StoreError> {
    sqlx::query(with_columns(
        "INSERT INTO admin_tokens ({}) VALUES ($1, $2, $3, $4, $5)",
        TOKEN_COLUMNS,
    ))
    .bind(token.id.to_string())
    .bind(&token.name)
    .bind(&token.token_hash)
    .bind(token.created_at_ms)
    .bind(token.last_used_at_ms)
    .execute(pool)
    .await?;
    Ok(())
}

pub(super) async fn use_admin_token(
    pool: &Pool,
    token_hash: &[u8],
    now_ms: i64,
) -> Result<Option<crate::AdminTokenRow>, StoreError> {
    let row = sqlx::query(with_columns(
        "UPDATE admin_tokens SET last_used_at = $1 WHERE token_hash = $2 RETURNING {}",
        TOKEN_COLUMNS,
    ))
    .bind(now_ms)
    .bind(token_hash)
    .fetch_optional(pool)
    .await?;
    row.as_ref().map(token_row).transpose()
}

pub(super) async fn find_admin_token(
    pool: &Pool,
    token_hash: &[u8],
) -> Result<Option<crate::AdminTokenRow>, StoreError> {
    let row = sqlx::query(with_columns(
        "SELECT {} FROM admin_tokens WHERE token_hash = $1",
        TOKEN_COLUMNS,
    ))
    .bind(token_hash)
    .fetch_optional(pool)
    .await?;
    row.as_ref().map(token_row).transpose()
}

pub(super) async fn list_admin_tokens(
    pool: &Pool,
) -> Result<Vec<crate::AdminTokenRow>, StoreError> {
    let rows = sqlx::query(with_columns(
        "SELECT {} FROM admin_tokens ORDER BY created_at, id",
        TOKEN_COLUMNS,
    ))
    .fetch_all(pool)
    .await?;
    rows.iter().map(token_row).collect()
}

pub(super) async fn delete_admin_token(
    pool: &Pool,
    id: mailgate_domain::Id,
) -> Result<bool, StoreError> {
    let done = sqlx::query("DELETE FROM admin_tokens WHERE id = $1")
        .bind(id.to_string())
        .execute(pool)
        .await?;
    Ok(done.rows_affected() > 0)
}
