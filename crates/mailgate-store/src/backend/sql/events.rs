//! The event log.

use super::db::{Db, Pool};
use crate::StoreError;
use mailgate_domain::EventKind;
use sqlx::FromRow;

/// Appends an event, on its own (`&Pool`) or in the transaction of what it reports.
pub(super) async fn insert_event<'e>(
    db: impl sqlx::Executor<'e, Database = Db>,
    kind: EventKind,
    subject_id: Option<&str>,
    data: &str,
    now_ms: i64,
) -> Result<i64, StoreError> {
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO events (kind, subject_id, data, created_at) \
                                      VALUES ($1, $2, $3, $4) RETURNING id",
    )
    .bind(kind.as_str())
    .bind(subject_id)
    .bind(data)
    .bind(now_ms)
    .fetch_one(db)
    .await?;
    Ok(id)
}

pub(super) async fn list_events(
    pool: &Pool,
    after_id: i64,
    limit: i64,
) -> Result<Vec<crate::EventRow>, StoreError> {
    let rows = sqlx::query(
        "SELECT id, kind, subject_id, data, created_at FROM events WHERE id > \
                            $1 ORDER BY id LIMIT $2",
    )
    .bind(after_id)
    .bind(limit)
    .fetch_all(pool)
    .await?;
    rows.iter()
        .map(|row| {
            let r = EventRecord::from_row(row)?;
            Ok(crate::EventRow {
                id: r.id,
                kind: r.kind,
                subject_id: r.subject_id,
                data: r.data,
                created_at_ms: r.created_at,
            })
        })
        .collect()
}

/// An `events` row as stored.
#[derive(sqlx::FromRow)]
struct EventRecord {
    id: i64,
    kind: String,
    subject_id: Option<String>,
    data: String,
    created_at: i64,
}
