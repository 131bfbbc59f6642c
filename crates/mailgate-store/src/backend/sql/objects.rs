//! Configuration objects: OAuth apps, service accounts, incoming and outgoing servers.

use super::db::{Pool, Row, Tx};
use crate::StoreError;
use crate::backend::{parse_optional_id, with_columns};
use sqlx::FromRow;

/// The columns of `config_objects` that make an [`crate::ObjectRow`].
const OBJECT_COLUMNS: &str = "\
    id, kind, name, spec, sealed, enabled, is_primary, oauth_app_id, service_account_id, \
    outgoing_server_id, created_at, updated_at";

/// A `config_objects` row as stored.
#[derive(sqlx::FromRow)]
struct ObjectRecord {
    id: Option<String>,
    kind: String,
    name: String,
    spec: String,
    sealed: Option<Vec<u8>>,
    enabled: bool,
    is_primary: bool,
    oauth_app_id: Option<String>,
    service_account_id: Option<String>,
    outgoing_server_id: Option<String>,
    created_at: i64,
    updated_at: i64,
}

pub(super) fn object_row(row: &Row) -> Result<crate::ObjectRow, StoreError> {
    let r = ObjectRecord::from_row(row)?;
    let kind = &r.kind;
    Ok(crate::ObjectRow {
        id: parse_optional_id("id", r.id)?
            .ok_or_else(|| StoreError::Corrupt("id is null".into()))?,
        kind: crate::ObjectKind::parse(kind)
            .ok_or_else(|| StoreError::Corrupt(format!("unknown kind `{kind}`")))?,
        name: r.name,
        spec: r.spec,
        sealed: r.sealed.map(crate::Sealed::from),
        enabled: r.enabled,
        is_primary: r.is_primary,
        links: crate::Link {
            oauth_app_id: parse_optional_id("oauth_app_id", r.oauth_app_id)?,
            service_account_id: parse_optional_id("service_account_id", r.service_account_id)?,
            outgoing_server_id: parse_optional_id("outgoing_server_id", r.outgoing_server_id)?,
        },
        created_at_ms: r.created_at,
        updated_at_ms: r.updated_at,
    })
}

/// Only one object of a kind is primary: clear the flag on the others first.
pub(super) async fn clear_other_primaries(
    tx: &mut Tx<'_>,
    row: &crate::ObjectRow,
) -> Result<(), StoreError> {
    if row.is_primary {
        sqlx::query(
            "UPDATE config_objects SET is_primary = FALSE, updated_at = $1 WHERE kind = \
                     $2 AND is_primary AND id <> $3",
        )
        .bind(row.updated_at_ms)
        .bind(row.kind.as_str())
        .bind(row.id.to_string())
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

pub(super) async fn insert_object(pool: &Pool, row: &crate::ObjectRow) -> Result<(), StoreError> {
    let mut tx = pool.begin().await?;
    clear_other_primaries(&mut tx, row).await?;
    sqlx::query(
        "INSERT INTO config_objects (id, kind, name, spec, sealed, enabled, is_primary, \
         oauth_app_id, service_account_id, outgoing_server_id, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
    )
    .bind(row.id.to_string())
    .bind(row.kind.as_str())
    .bind(&row.name)
    .bind(&row.spec)
    .bind(row.sealed.as_deref())
    .bind(row.enabled)
    .bind(row.is_primary)
    .bind(row.links.oauth_app_id.map(|i| i.to_string()))
    .bind(row.links.service_account_id.map(|i| i.to_string()))
    .bind(row.links.outgoing_server_id.map(|i| i.to_string()))
    .bind(row.created_at_ms)
    .bind(row.updated_at_ms)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(())
}

pub(super) async fn update_object(pool: &Pool, row: &crate::ObjectRow) -> Result<(), StoreError> {
    let mut tx = pool.begin().await?;
    clear_other_primaries(&mut tx, row).await?;
    let done = sqlx::query(
        "UPDATE config_objects SET name = $1, spec = $2, sealed = $3, enabled = $4, is_primary = \
         $5, oauth_app_id = $6, \
         service_account_id = $7, outgoing_server_id = $8, updated_at = $9 WHERE id = $10 AND \
         kind = $11",
    )
    .bind(&row.name)
    .bind(&row.spec)
    .bind(row.sealed.as_deref())
    .bind(row.enabled)
    .bind(row.is_primary)
    .bind(row.links.oauth_app_id.map(|i| i.to_string()))
    .bind(row.links.service_account_id.map(|i| i.to_string()))
    .bind(row.links.outgoing_server_id.map(|i| i.to_string()))
    .bind(row.updated_at_ms)
    .bind(row.id.to_string())
    .bind(row.kind.as_str())
    .execute(&mut *tx)
    .await?;
    if done.rows_affected() == 0 {
        return Err(StoreError::NotFound);
    }
    tx.commit().await?;
    Ok(())
}

pub(super) async fn get_object(
    pool: &Pool,
    kind: crate::ObjectKind,
    id: mailgate_domain::Id,
) -> Result<Option<crate::ObjectRow>, StoreError> {
    let sql = with_columns(
        "SELECT {} FROM config_objects WHERE kind = $1 AND id = $2",
        OBJECT_COLUMNS,
    );
    let row = sqlx::query(sql)
        .bind(kind.as_str())
        .bind(id.to_string())
        .fetch_optional(pool)
        .await?;
    row.as_ref().map(object_row).transpose()
}

pub(super) async fn find_object_by_name(
    pool: &Pool,
    kind: crate::ObjectKind,
    name: &str,
) -> Result<Option<crate::ObjectRow>, StoreError> {
    let sql = with_columns(
        "SELECT {} FROM config_objects WHERE kind = $1 AND name = $2",
        OBJECT_COLUMNS,
    );
    let row = sqlx::query(sql)
        .bind(kind.as_str())
        .bind(name)
        .fetch_optional(pool)
        .await?;
    row.as_ref().map(object_row).transpose()
}

pub(super) async fn list_objects(
    pool: &Pool,
    kind: crate::ObjectKind,
) -> Result<Vec<crate::ObjectRow>, StoreError> {
    let sql = with_columns(
        "SELECT {} FROM config_objects WHERE kind = $1 ORDER BY created_at, id",
        OBJECT_COLUMNS,
    );
    let rows = sqlx::query(sql).bind(kind.as_str()).fetch_all(pool).await?;
    rows.iter().map(object_row).collect()
}

pub(super) async fn objects_linking_to(
    pool: &Pool,
    id: mailgate_domain::Id,
) -> Result<Vec<crate::ObjectRow>, StoreError> {
    let sql = with_columns(
        "SELECT {} FROM config_objects WHERE oauth_app_id = $1 OR service_account_id = $1 OR \
         outgoing_server_id = $1 ORDER BY created_at, id",
        OBJECT_COLUMNS,
    );
    let rows = sqlx::query(sql)
        .bind(id.to_string())
        .fetch_all(pool)
        .await?;
    rows.iter().map(object_row).collect()
}

pub(super) async fn delete_object(
    pool: &Pool,
    kind: crate::ObjectKind,
    id: mailgate_domain::Id,
) -> Result<bool, StoreError> {
    let users = objects_linking_to(pool, id).await?;
    if !users.is_empty() {
        return Err(StoreError::InUse(users.iter().map(|u| u.id).collect()));
    }
    let done = sqlx::query("DELETE FROM config_objects WHERE kind = $1 AND id = $2")
        .bind(kind.as_str())
        .bind(id.to_string())
        .execute(pool)
        .await
        .map_err(|e| match StoreError::from(e) {
            // A link was added between the check and the delete.
            StoreError::MissingLink => StoreError::InUse(Vec::new()),
            other => other,
        })?;
    Ok(done.rows_affected() > 0)
}
