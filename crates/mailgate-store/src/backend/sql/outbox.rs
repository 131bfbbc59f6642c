//! The outbox: queueing, claims with leases, delivery rounds and retries.

use super::db::{Pool, Row};
use super::{events, tickets};
use crate::StoreError;
use crate::backend::{parse_id, parse_optional_id, with_columns};
use mailgate_domain::outbox::{AttemptOutcome, OutboxStatus};
use sqlx::FromRow;

/// The columns of `outbox` that make an [`crate::OutboxRow`].
const OUTBOX_COLUMNS: &str = "\
    id, idempotency_key, request_hash, status, server_id, ticket_number, message_id, \
    draft, attempts, next_attempt_at, lease_until, sent_server_id, result, created_at, \
    updated_at, sent_at";

/// An `outbox` row as stored.
#[derive(sqlx::FromRow)]
struct OutboxRecord {
    id: String,
    idempotency_key: Option<String>,
    request_hash: Vec<u8>,
    status: String,
    server_id: Option<String>,
    ticket_number: Option<i64>,
    message_id: String,
    draft: String,
    attempts: i64,
    next_attempt_at: i64,
    lease_until: Option<i64>,
    sent_server_id: Option<String>,
    result: Option<String>,
    created_at: i64,
    updated_at: i64,
    sent_at: Option<i64>,
}

pub(super) fn outbox_row(row: &Row) -> Result<crate::OutboxRow, StoreError> {
    let r = OutboxRecord::from_row(row)?;
    Ok(crate::OutboxRow {
        id: parse_id("id", &r.id)?,
        idempotency_key: r.idempotency_key,
        request_hash: r.request_hash,
        status: OutboxStatus::parse(&r.status)
            .ok_or_else(|| StoreError::Corrupt(format!("unknown outbox status `{}`", r.status)))?,
        server_id: parse_optional_id("server_id", r.server_id)?,
        ticket_number: r.ticket_number,
        message_id: r.message_id,
        draft: r.draft,
        attempts: r.attempts,
        next_attempt_at_ms: r.next_attempt_at,
        lease_until_ms: r.lease_until,
        sent_server_id: parse_optional_id("sent_server_id", r.sent_server_id)?,
        result: r.result,
        created_at_ms: r.created_at,
        updated_at_ms: r.updated_at,
        sent_at_ms: r.sent_at,
    })
}

pub(super) async fn enqueue_outgoing(
    pool: &Pool,
    row: &crate::OutboxRow,
) -> Result<Option<crate::OutboxRow>, StoreError> {
    let mut tx = pool.begin().await?;
    let inserted = sqlx::query(
        "INSERT INTO outbox (id, idempotency_key, request_hash, status, server_id, \
         ticket_number, message_id, draft, attempts, next_attempt_at, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 0, $9, $10, $10) ON CONFLICT (idempotency_key) \
         DO NOTHING",
    )
    .bind(row.id.to_string())
    .bind(&row.idempotency_key)
    .bind(&row.request_hash)
    .bind(row.status.as_str())
    .bind(row.server_id.map(|i| i.to_string()))
    .bind(row.ticket_number)
    .bind(&row.message_id)
    .bind(&row.draft)
    .bind(row.next_attempt_at_ms)
    .bind(row.created_at_ms)
    .execute(&mut *tx)
    .await?;
    if inserted.rows_affected() == 1 {
        tx.commit().await?;
        return Ok(None);
    }
    let earlier = sqlx::query(with_columns(
        "SELECT {} FROM outbox WHERE idempotency_key = $1",
        OUTBOX_COLUMNS,
    ))
    .bind(&row.idempotency_key)
    .fetch_one(&mut *tx)
    .await?;
    tx.commit().await?;
    outbox_row(&earlier).map(Some)
}

pub(super) async fn get_outgoing(
    pool: &Pool,
    id: mailgate_domain::Id,
) -> Result<Option<crate::OutboxRow>, StoreError> {
    let row = sqlx::query(with_columns(
        "SELECT {} FROM outbox WHERE id = $1",
        OUTBOX_COLUMNS,
    ))
    .bind(id.to_string())
    .fetch_optional(pool)
    .await?;
    row.as_ref().map(outbox_row).transpose()
}

pub(super) async fn outgoing_attempts(
    pool: &Pool,
    id: mailgate_domain::Id,
) -> Result<Vec<crate::AttemptRow>, StoreError> {
    let rows = sqlx::query(
        "SELECT round, server_id, server_name, outcome, detail, started_at, \
                            finished_at FROM outbox_attempts WHERE outbox_id = $1 ORDER BY seq",
    )
    .bind(id.to_string())
    .fetch_all(pool)
    .await?;
    rows.iter()
        .map(|row| {
            let r = AttemptRecord::from_row(row)?;
            Ok(crate::AttemptRow {
                round: r.round,
                server_id: parse_optional_id("server_id", r.server_id)?,
                server_name: r.server_name,
                outcome: AttemptOutcome::parse(&r.outcome).ok_or_else(|| {
                    StoreError::Corrupt(format!("unknown attempt outcome `{}`", r.outcome))
                })?,
                detail: r.detail,
                started_at_ms: r.started_at,
                finished_at_ms: r.finished_at,
            })
        })
        .collect()
}

/// An `outbox_attempts` row as stored.
#[derive(sqlx::FromRow)]
struct AttemptRecord {
    round: i64,
    server_id: Option<String>,
    server_name: String,
    outcome: String,
    detail: String,
    started_at: i64,
    finished_at: i64,
}

pub(super) async fn list_outgoing(
    pool: &Pool,
    query: &crate::OutboxQuery,
) -> Result<Vec<crate::OutboxRow>, StoreError> {
    let rows = sqlx::query(with_columns(
        "SELECT {} FROM outbox WHERE ($1 IS NULL OR status = $1) AND ($2 IS NULL OR \
         ticket_number = $2) \
         AND ($3 IS NULL OR created_at < (SELECT created_at FROM outbox WHERE id = $3) \
              OR (created_at = (SELECT created_at FROM outbox WHERE id = $3) AND id < $3)) \
         ORDER BY created_at DESC, id DESC LIMIT $4",
        OUTBOX_COLUMNS,
    ))
    .bind(query.status.map(OutboxStatus::as_str))
    .bind(query.ticket_number)
    .bind(query.before.map(|i| i.to_string()))
    .bind(query.limit.clamp(1, 500))
    .fetch_all(pool)
    .await?;
    rows.iter().map(outbox_row).collect()
}

pub(super) async fn claim_outgoing(
    pool: &Pool,
    now_ms: i64,
    lease_ms: i64,
    limit: i64,
) -> Result<Vec<crate::OutboxRow>, StoreError> {
    // The outer condition is checked again on each row once it is locked, so two
    // concurrent claims (PostgreSQL) never both take a message.
    let rows = sqlx::query(with_columns(
        "UPDATE outbox SET status = 'sending', lease_until = $2, attempts = attempts + 1, \
         updated_at = $1 \
         WHERE id IN (SELECT id FROM outbox WHERE (status = 'queued' AND next_attempt_at <= $1) \
         OR (status = 'sending' AND lease_until < $1) \
                      ORDER BY next_attempt_at, created_at LIMIT $3) \
         AND ((status = 'queued' AND next_attempt_at <= $1) OR (status = 'sending' AND \
         lease_until < $1)) \
         RETURNING {}",
        OUTBOX_COLUMNS,
    ))
    .bind(now_ms)
    .bind(now_ms.saturating_add(lease_ms))
    .bind(limit)
    .fetch_all(pool)
    .await?;
    let mut claimed: Vec<crate::OutboxRow> =
        rows.iter().map(outbox_row).collect::<Result<_, _>>()?;
    claimed.sort_by(|a, b| {
        (a.created_at_ms, a.id.to_string()).cmp(&(b.created_at_ms, b.id.to_string()))
    });
    Ok(claimed)
}

pub(super) async fn requeue_in_flight(pool: &Pool, now_ms: i64) -> Result<u64, StoreError> {
    let done = sqlx::query(
        "UPDATE outbox SET status = 'queued', lease_until = NULL, \
                            next_attempt_at = $1, updated_at = $1 WHERE status = 'sending'",
    )
    .bind(now_ms)
    .execute(pool)
    .await?;
    Ok(done.rows_affected())
}

pub(super) async fn finish_outgoing(
    pool: &Pool,
    finish: &crate::OutboxFinish,
    now_ms: i64,
) -> Result<bool, StoreError> {
    let mut tx = pool.begin().await?;
    let sent_at = (finish.status == OutboxStatus::Sent).then_some(now_ms);
    let updated = sqlx::query(
        "UPDATE outbox SET status = $2, next_attempt_at = $3, lease_until = NULL, sent_server_id \
         = COALESCE($4, sent_server_id), \
         result = $5, updated_at = $6, sent_at = COALESCE($7, sent_at) WHERE id = $1 AND status \
         = 'sending'",
    )
    .bind(finish.id.to_string())
    .bind(finish.status.as_str())
    .bind(finish.next_attempt_at_ms)
    .bind(finish.sent_server_id.map(|i| i.to_string()))
    .bind(&finish.result)
    .bind(now_ms)
    .bind(sent_at)
    .execute(&mut *tx)
    .await?;
    if updated.rows_affected() == 0 {
        return Ok(false);
    }
    for a in &finish.attempts {
        sqlx::query(
            "INSERT INTO outbox_attempts (outbox_id, seq, round, server_id, server_name, \
             outcome, detail, started_at, finished_at) \
             VALUES ($1, (SELECT COALESCE(MAX(seq), 0) + 1 FROM outbox_attempts WHERE outbox_id \
             = $1), $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(finish.id.to_string())
        .bind(a.round)
        .bind(a.server_id.map(|i| i.to_string()))
        .bind(&a.server_name)
        .bind(a.outcome.as_str())
        .bind(&a.detail)
        .bind(a.started_at_ms)
        .bind(a.finished_at_ms)
        .execute(&mut *tx)
        .await?;
    }
    if let Some((kind, data)) = &finish.event {
        let subject = finish.id.to_string();
        events::insert_event(&mut *tx, *kind, Some(&subject), data, now_ms).await?;
    }
    if let Some(message) = &finish.ticket_message {
        let new_message = tickets::NewMessage {
            message,
            ticket_number: message.ticket_number,
            incoming_server_id: message.incoming_server_id,
            problems: &message.problems,
            content_digest: None,
        };
        tickets::insert_ticket_message(&mut tx, &new_message, now_ms).await?;
        tickets::touch_ticket(&mut tx, message.ticket_number, now_ms).await?;
    }
    tx.commit().await?;
    Ok(true)
}

pub(super) async fn hasten_outgoing(
    pool: &Pool,
    scope: &crate::OutboxRetry,
    now_ms: i64,
) -> Result<Vec<mailgate_domain::Id>, StoreError> {
    use sqlx::Row;
    const SCOPE: &str =
        "($2 IS NULL OR id = $2) AND ($3 IS NULL OR server_id = $3 OR ($4 AND server_id IS NULL))";
    static QUEUED: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    static FAILED: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    let queued = QUEUED.get_or_init(|| {
        format!(
            "UPDATE outbox SET next_attempt_at = CASE WHEN next_attempt_at > $1 THEN $1 ELSE \
         next_attempt_at END, updated_at = $1 \
         WHERE status = 'queued' AND {SCOPE} RETURNING id"
        )
    });
    let failed = FAILED.get_or_init(|| format!(
        "UPDATE outbox SET status = 'queued', attempts = 0, next_attempt_at = $1, updated_at = $1 \
         WHERE status = 'failed' AND {SCOPE} RETURNING id"));
    let mut tx = pool.begin().await?;
    let mut ids = Vec::new();
    let statements = if scope.failed {
        &[queued, failed][..]
    } else {
        &[queued][..]
    };
    for sql in statements {
        let rows = sqlx::query(sql.as_str())
            .bind(now_ms)
            .bind(scope.id.map(|i| i.to_string()))
            .bind(scope.server_id.map(|i| i.to_string()))
            .bind(scope.unnamed_too)
            .fetch_all(&mut *tx)
            .await?;
        for row in &rows {
            let id: String = row.try_get("id")?;
            ids.push(crate::backend::parse_id("id", &id)?);
        }
    }
    tx.commit().await?;
    Ok(ids)
}
