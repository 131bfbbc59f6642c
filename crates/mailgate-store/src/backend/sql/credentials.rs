//! Credentials (sealed tokens and their state) and OAuth consents in flight.

use super::db::{Pool, Row};
use crate::StoreError;
use crate::backend::{parse_id, with_columns};
use sqlx::FromRow;

/// The columns of `credentials`, in the order of the INSERT's placeholders.
const CREDENTIAL_COLUMNS: &str = "\
    id, kind, owner_id, subject, scope, granted_scope, sealed, access_expires_at, \
    refresh_at, status, last_error, failures, created_at, updated_at";

/// A `credentials` row as stored.
#[derive(sqlx::FromRow)]
struct CredentialRecord {
    id: String,
    kind: String,
    owner_id: String,
    subject: String,
    scope: String,
    granted_scope: String,
    sealed: Option<Vec<u8>>,
    access_expires_at: Option<i64>,
    refresh_at: Option<i64>,
    status: String,
    last_error: Option<String>,
    failures: i64,
    created_at: i64,
    updated_at: i64,
}

pub(super) fn credential_row(row: &Row) -> Result<crate::CredentialRow, StoreError> {
    let r = CredentialRecord::from_row(row)?;
    let kind = &r.kind;
    Ok(crate::CredentialRow {
        id: parse_id("id", &r.id)?,
        kind: crate::CredentialKind::parse(kind)
            .ok_or_else(|| StoreError::Corrupt(format!("unknown credential kind `{kind}`")))?,
        owner_id: parse_id("owner_id", &r.owner_id)?,
        subject: r.subject,
        scope: r.scope,
        granted_scope: r.granted_scope,
        sealed: r.sealed.map(crate::Sealed::from),
        access_expires_at_ms: r.access_expires_at,
        refresh_at_ms: r.refresh_at,
        status: r.status,
        last_error: r.last_error,
        failures: r.failures,
        created_at_ms: r.created_at,
        updated_at_ms: r.updated_at,
    })
}

/// The columns of `oauth_states`, in the order of the INSERT's placeholders.
const STATE_COLUMNS: &str =
    "state_hash, server_id, sealed_verifier, created_at, expires_at, used_at";

/// An `oauth_states` row as stored.
#[derive(sqlx::FromRow)]
struct StateRecord {
    state_hash: Vec<u8>,
    server_id: String,
    sealed_verifier: Vec<u8>,
    created_at: i64,
    expires_at: i64,
    used_at: Option<i64>,
}

pub(super) fn state_row(row: &Row) -> Result<crate::OAuthStateRow, StoreError> {
    let r = StateRecord::from_row(row)?;
    Ok(crate::OAuthStateRow {
        state_hash: r.state_hash,
        server_id: parse_id("server_id", &r.server_id)?,
        sealed_verifier: r.sealed_verifier.into(),
        created_at_ms: r.created_at,
        expires_at_ms: r.expires_at,
        used_at_ms: r.used_at,
    })
}

pub(super) async fn upsert_credential(
    pool: &Pool,
    row: &crate::CredentialRow,
) -> Result<crate::CredentialRow, StoreError> {
    let sql = with_columns(
        "INSERT INTO credentials ({}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, \
         $13, $14) \
         ON CONFLICT (kind, owner_id, subject, scope) DO UPDATE SET granted_scope = \
         excluded.granted_scope, sealed = excluded.sealed, \
         access_expires_at = excluded.access_expires_at, refresh_at = excluded.refresh_at, \
         status = excluded.status, \
         last_error = excluded.last_error, failures = excluded.failures, updated_at = \
         excluded.updated_at RETURNING {}",
        CREDENTIAL_COLUMNS,
    );
    let stored = sqlx::query(sql)
        .bind(row.id.to_string())
        .bind(row.kind.as_str())
        .bind(row.owner_id.to_string())
        .bind(&row.subject)
        .bind(&row.scope)
        .bind(&row.granted_scope)
        .bind(row.sealed.as_deref())
        .bind(row.access_expires_at_ms)
        .bind(row.refresh_at_ms)
        .bind(&row.status)
        .bind(&row.last_error)
        .bind(row.failures)
        .bind(row.created_at_ms)
        .bind(row.updated_at_ms)
        .fetch_one(pool)
        .await?;
    credential_row(&stored)
}

pub(super) async fn find_credential(
    pool: &Pool,
    kind: crate::CredentialKind,
    owner_id: mailgate_domain::Id,
    subject: &str,
    scope: &str,
) -> Result<Option<crate::CredentialRow>, StoreError> {
    let sql = with_columns(
        "SELECT {} FROM credentials WHERE kind = $1 AND owner_id = $2 AND subject = $3 AND scope \
         = $4",
        CREDENTIAL_COLUMNS,
    );
    let row = sqlx::query(sql)
        .bind(kind.as_str())
        .bind(owner_id.to_string())
        .bind(subject)
        .bind(scope)
        .fetch_optional(pool)
        .await?;
    row.as_ref().map(credential_row).transpose()
}

pub(super) async fn get_credential(
    pool: &Pool,
    id: mailgate_domain::Id,
) -> Result<Option<crate::CredentialRow>, StoreError> {
    let sql = with_columns(
        "SELECT {} FROM credentials WHERE id = $1",
        CREDENTIAL_COLUMNS,
    );
    let row = sqlx::query(sql)
        .bind(id.to_string())
        .fetch_optional(pool)
        .await?;
    row.as_ref().map(credential_row).transpose()
}

pub(super) async fn update_credential(
    pool: &Pool,
    row: &crate::CredentialRow,
) -> Result<(), StoreError> {
    let done = sqlx::query(
        "UPDATE credentials SET granted_scope = $1, sealed = $2, access_expires_at = $3, \
         refresh_at = $4, status = $5, \
         last_error = $6, failures = $7, updated_at = $8 WHERE id = $9",
    )
    .bind(&row.granted_scope)
    .bind(row.sealed.as_deref())
    .bind(row.access_expires_at_ms)
    .bind(row.refresh_at_ms)
    .bind(&row.status)
    .bind(&row.last_error)
    .bind(row.failures)
    .bind(row.updated_at_ms)
    .bind(row.id.to_string())
    .execute(pool)
    .await?;
    if done.rows_affected() == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

pub(super) async fn list_credentials(pool: &Pool) -> Result<Vec<crate::CredentialRow>, StoreError> {
    let sql = with_columns(
        "SELECT {} FROM credentials ORDER BY created_at, id",
        CREDENTIAL_COLUMNS,
    );
    let rows = sqlx::query(sql).fetch_all(pool).await?;
    rows.iter().map(credential_row).collect()
}

pub(super) async fn credentials_due(
    pool: &Pool,
    now_ms: i64,
) -> Result<Vec<crate::CredentialRow>, StoreError> {
    let sql = with_columns(
        "SELECT {} FROM credentials WHERE status = 'connected' AND refresh_at IS NOT NULL AND \
         refresh_at <= $1 ORDER BY refresh_at, id",
        CREDENTIAL_COLUMNS,
    );
    let rows = sqlx::query(sql).bind(now_ms).fetch_all(pool).await?;
    rows.iter().map(credential_row).collect()
}

pub(super) async fn insert_oauth_state(
    pool: &Pool,
    row: &crate::OAuthStateRow,
) -> Result<(), StoreError> {
    sqlx::query(with_columns(
        "INSERT INTO oauth_states ({}) VALUES ($1, $2, $3, $4, $5, $6)",
        STATE_COLUMNS,
    ))
    .bind(&row.state_hash)
    .bind(row.server_id.to_string())
    .bind(&row.sealed_verifier[..])
    .bind(row.created_at_ms)
    .bind(row.expires_at_ms)
    .bind(row.used_at_ms)
    .execute(pool)
    .await?;
    // States are short-lived: forget the ones that expired a day ago.
    sqlx::query("DELETE FROM oauth_states WHERE expires_at < $1")
        .bind(row.created_at_ms - 86_400_000)
        .execute(pool)
        .await?;
    Ok(())
}

pub(super) async fn find_oauth_state(
    pool: &Pool,
    state_hash: &[u8],
) -> Result<Option<crate::OAuthStateRow>, StoreError> {
    let row = sqlx::query(with_columns(
        "SELECT {} FROM oauth_states WHERE state_hash = $1",
        STATE_COLUMNS,
    ))
    .bind(state_hash)
    .fetch_optional(pool)
    .await?;
    row.as_ref().map(state_row).transpose()
}

pub(super) async fn take_oauth_state(
    pool: &Pool,
    state_hash: &[u8],
    now_ms: i64,
) -> Result<crate::StateUse, StoreError> {
    let taken = sqlx::query(with_columns(
        "UPDATE oauth_states SET used_at = $1 WHERE state_hash = $2 AND used_at IS NULL AND \
         expires_at > $1 RETURNING {}",
        STATE_COLUMNS,
    ))
    .bind(now_ms)
    .bind(state_hash)
    .fetch_optional(pool)
    .await?;
    if let Some(row) = taken {
        return Ok(crate::StateUse::Taken(state_row(&row)?));
    }
    let row = sqlx::query(with_columns(
        "SELECT {} FROM oauth_states WHERE state_hash = $1",
        STATE_COLUMNS,
    ))
    .bind(state_hash)
    .fetch_optional(pool)
    .await?;
    Ok(match row.as_ref().map(state_row).transpose()? {
        None => crate::StateUse::Unknown,
        Some(r) if r.used_at_ms.is_some() => crate::StateUse::AlreadyUsed,
        Some(_) => crate::StateUse::Expired,
    })
}
