//! Messages read from mailboxes: sources, progress, threading and the import transaction.

use super::db::{Pool, Tx};
use super::{events, tickets};
use crate::StoreError;

/// The ticket an incoming message belongs to: the one holding the first of the
/// Message-IDs it names (in the order given: the caller puts the best evidence first;
/// any stored message counts, in or out), else the tag. One statement for all the ids
/// (a reply can name a hundred).
pub(super) async fn find_thread(
    tx: &mut Tx<'_>,
    import: &crate::MessageImport,
) -> Result<Option<i64>, StoreError> {
    let ids = &import.thread_message_ids;
    if !ids.is_empty() {
        let placeholders: Vec<String> = (1..=ids.len()).map(|i| format!("${i}")).collect();
        let sql = format!(
            "SELECT message_id, ticket_number FROM ticket_messages WHERE message_id IN ({}) \
             ORDER BY created_at, seq",
            placeholders.join(", ")
        );
        // Only placeholders are formatted in; the ids are bound.
        let mut query = sqlx::query_as::<_, (String, i64)>(sqlx::AssertSqlSafe(sql));
        for id in ids {
            query = query.bind(id);
        }
        // The earliest message stored under each id (rows come oldest first), then
        // the first id that has one.
        let mut earliest = std::collections::HashMap::new();
        for (id, number) in query.fetch_all(&mut **tx).await? {
            earliest.entry(id).or_insert(number);
        }
        if let Some(number) = ids.iter().find_map(|id| earliest.get(id)) {
            return Ok(Some(*number));
        }
    }
    if let Some(tag) = import.thread_tag {
        return tagged_ticket(tx, tag, import).await;
    }
    Ok(None)
}

/// The ticket a subject's tag names, if the sender may thread into it: a participant
/// (the requester, an address that wrote to it, or one it was sent to) or mail from
/// the mailbox the ticket was opened through; anyone with `thread_tag_from_anyone`.
pub(super) async fn tagged_ticket(
    tx: &mut Tx<'_>,
    tag: i64,
    import: &crate::MessageImport,
) -> Result<Option<i64>, StoreError> {
    let sender = import
        .message
        .from_address
        .as_deref()
        .unwrap_or_default()
        .trim()
        .to_lowercase();
    // Recipients are a JSON object of address lists: the address as a JSON string.
    let quoted = if sender.is_empty() {
        String::new()
    } else {
        format!(
            "%\"{}\"%",
            sender
                .replace('\\', "\\\\")
                .replace('%', "\\%")
                .replace('_', "\\_")
        )
    };
    let server = import.message.incoming_server_id.map(|id| id.to_string());
    Ok(sqlx::query_scalar(
        "SELECT t.number FROM tickets t WHERE t.number = $1 AND ($2 OR t.incoming_server_id = $3 \
         OR lower(t.requester) = $4 \
         OR EXISTS (SELECT 1 FROM ticket_messages m WHERE m.ticket_number = t.number \
         AND (lower(m.from_address) = $4 OR lower(m.recipients) LIKE $5 ESCAPE '\\')))",
    )
    .bind(tag)
    .bind(import.thread_tag_from_anyone)
    .bind(server)
    .bind(&sender)
    .bind(&quoted)
    .fetch_optional(&mut **tx)
    .await?)
}

/// One transaction for the whole batch; on failure, the index of the request that
/// failed (`None` when it was the transaction itself).
pub(super) async fn import_all(
    pool: &Pool,
    requests: &[crate::ImportRequest],
    event: &crate::EventFor<'_>,
    now_ms: i64,
) -> Result<Vec<crate::ImportOutcome>, (Option<usize>, StoreError)> {
    let whole = |e: sqlx::Error| (None, StoreError::from(e));
    let mut tx = pool.begin().await.map_err(whole)?;
    let mut outcomes = Vec::with_capacity(requests.len());
    // The last position read per mailbox, written once at the end.
    let mut progress: Vec<(mailgate_domain::Id, (i64, i64))> = Vec::new();
    for (i, request) in requests.iter().enumerate() {
        let outcome = import_one(&mut tx, request, now_ms)
            .await
            .map_err(|e| (Some(i), e))?;
        if let Some(e) = event(i, &outcome) {
            let subject = e.subject_id.as_deref();
            events::insert_event(&mut *tx, e.kind, subject, &e.data, now_ms)
                .await
                .map_err(|e| (Some(i), e))?;
        }
        let source = request.source();
        if let Some((validity, uid)) = source.progress {
            match progress
                .iter_mut()
                .find(|(server, _)| *server == source.server_id)
            {
                // Same rule as the statement below: a lower UID of the same validity never
                // moves it back.
                Some((_, (v, u))) if *v == validity && *u > uid => {}
                Some((_, last)) => *last = (validity, uid),
                None => progress.push((source.server_id, (validity, uid))),
            }
        }
        outcomes.push(outcome);
    }
    for (server, (validity, uid)) in progress {
        sqlx::query(
            "INSERT INTO mailbox_progress (server_id, uid_validity, last_uid, updated_at) VALUES \
             ($1, $2, $3, $4) \
             ON CONFLICT (server_id) DO UPDATE SET last_uid = CASE WHEN \
             mailbox_progress.uid_validity = excluded.uid_validity \
             AND mailbox_progress.last_uid > excluded.last_uid THEN mailbox_progress.last_uid \
             ELSE excluded.last_uid END, \
             uid_validity = excluded.uid_validity, updated_at = excluded.updated_at",
        )
        .bind(server.to_string())
        .bind(validity)
        .bind(uid)
        .bind(now_ms)
        .execute(&mut *tx)
        .await
        .map_err(whole)?;
    }
    tx.commit().await.map_err(whole)?;
    Ok(outcomes)
}

/// One request, inside the batch's transaction. The source is claimed first, as
/// imported by this message: the common case costs one statement, the rare ones
/// (duplicate, unthreaded) correct the outcome after.
pub(super) async fn import_one(
    tx: &mut Tx<'_>,
    request: &crate::ImportRequest,
    now_ms: i64,
) -> Result<crate::ImportOutcome, StoreError> {
    let source = request.source();
    let (outcome, message_id) = match request {
        crate::ImportRequest::Skip { outcome, .. } => (outcome.as_str(), None),
        crate::ImportRequest::Import { import, .. } => {
            ("imported", Some(import.message.id.to_string()))
        }
    };
    let claimed = sqlx::query(
        "INSERT INTO mailbox_sources (source_key, server_id, outcome, ticket_message_id, \
         created_at) VALUES ($1, $2, $3, $4, $5) \
         ON CONFLICT (source_key) DO NOTHING",
    )
    .bind(&source.key)
    .bind(source.server_id.to_string())
    .bind(outcome)
    .bind(message_id)
    .bind(now_ms)
    .execute(&mut **tx)
    .await?;
    let import = match request {
        _ if claimed.rows_affected() == 0 => return Ok(crate::ImportOutcome::AlreadySeen),
        crate::ImportRequest::Skip { .. } => return Ok(crate::ImportOutcome::Skipped),
        crate::ImportRequest::Import { import, .. } => import,
    };
    let message = &import.message;
    let set_outcome = |outcome: &str| {
        sqlx::query(
            "UPDATE mailbox_sources SET outcome = $1, ticket_message_id = NULL WHERE \
                     source_key = $2",
        )
        .bind(outcome.to_owned())
        .bind(&source.key)
    };
    let mut problems = std::borrow::Cow::Borrowed(&message.problems);
    if let Some(message_id) = &message.message_id {
        let earlier: Vec<(i64, Option<String>)> = sqlx::query_as(
            "SELECT ticket_number, content_digest FROM ticket_messages WHERE message_id = $1 AND \
             direction = 'in' ORDER BY created_at",
        )
        .bind(message_id)
        .fetch_all(&mut **tx)
        .await?;
        // The same message: the same id and the same content. A row stored before
        // digests were kept (NULL) counts as the same, so that an upgrade never
        // imports a message twice; so does a request without a digest.
        let same = earlier
            .iter()
            .find(|(_, digest)| match (digest, &import.content_digest) {
                (Some(earlier), Some(this)) => earlier == this,
                _ => true,
            });
        if let Some((ticket_number, _)) = same {
            set_outcome("duplicate").execute(&mut **tx).await?;
            return Ok(crate::ImportOutcome::Duplicate {
                ticket_number: *ticket_number,
            });
        }
        // Another message under an id seen before (a broken mailer, or a sender who
        // learnt the id): kept, and flagged.
        if let Some((ticket_number, _)) = earlier.first() {
            problems = std::borrow::Cow::Owned(crate::backend::with_problem(
                &message.problems,
                &format!(
                    "message_id_reused: an earlier message with this Message-ID and other \
                     content is in ticket {ticket_number}"
                ),
            ));
        }
    }
    let existing = find_thread(tx, import).await?;
    if let (None, Some(outcome)) = (existing, &import.only_if_threaded) {
        set_outcome(outcome).execute(&mut **tx).await?;
        return Ok(crate::ImportOutcome::Skipped);
    }
    let (ticket_number, new_ticket) = match existing {
        Some(number) => {
            tickets::touch_ticket(tx, number, now_ms).await?;
            (number, false)
        }
        None => {
            let t = &import.new_ticket;
            let number: i64 = sqlx::query_scalar(
                "INSERT INTO tickets (id, subject, requester, requester_name, \
                 incoming_server_id, grp, category, status, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, 'open', $8, $8) RETURNING number",
            )
            .bind(t.id.to_string())
            .bind(&t.subject)
            .bind(&t.requester)
            .bind(&t.requester_name)
            .bind(source.server_id.to_string())
            .bind(&t.group)
            .bind(&t.category)
            .bind(now_ms)
            .fetch_one(&mut **tx)
            .await?;
            (number, true)
        }
    };
    let new_message = tickets::NewMessage {
        message,
        ticket_number,
        incoming_server_id: Some(source.server_id),
        problems: problems.as_str(),
        content_digest: import.content_digest.as_deref(),
    };
    tickets::insert_ticket_message(tx, &new_message, now_ms).await?;
    for a in &message.attachments {
        // Kept as a range of the raw message when it can be read back from there.
        let content: &[u8] = if a.in_raw.is_some() { &[] } else { &a.content };
        sqlx::query(
            "INSERT INTO attachments (id, message_id, position, filename, content_type, size, \
             inline, content_id, content, raw_offset, raw_length, raw_encoding) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
        )
        .bind(a.id.to_string())
        .bind(message.id.to_string())
        .bind(a.position)
        .bind(&a.filename)
        .bind(&a.content_type)
        .bind(a.size)
        .bind(a.inline)
        .bind(&a.content_id)
        .bind(content)
        .bind(a.in_raw.map(|p| p.offset as i64))
        .bind(a.in_raw.map(|p| p.length as i64))
        .bind(a.in_raw.map(|p| p.encoding.as_str()))
        .execute(&mut **tx)
        .await?;
    }
    Ok(crate::ImportOutcome::Imported {
        ticket_number,
        message_id: message.id,
        new_ticket,
    })
}

pub(super) async fn mailbox_progress(
    pool: &Pool,
    server_id: mailgate_domain::Id,
) -> Result<Option<(i64, i64)>, StoreError> {
    Ok(
        sqlx::query_as("SELECT uid_validity, last_uid FROM mailbox_progress WHERE server_id = $1")
            .bind(server_id.to_string())
            .fetch_optional(pool)
            .await?,
    )
}

pub(super) async fn source_outcome(
    pool: &Pool,
    source_key: &str,
) -> Result<Option<String>, StoreError> {
    Ok(
        sqlx::query_scalar("SELECT outcome FROM mailbox_sources WHERE source_key = $1")
            .bind(source_key)
            .fetch_optional(pool)
            .await?,
    )
}

pub(super) async fn sources_to_act_on(
    pool: &Pool,
    source_keys: &[String],
) -> Result<Vec<String>, StoreError> {
    let mut found = Vec::new();
    for chunk in source_keys.chunks(200) {
        let marks: Vec<String> = (1..=chunk.len()).map(|i| format!("${i}")).collect();
        let sql = format!(
            "SELECT source_key FROM mailbox_sources WHERE outcome IN ('imported', 'duplicate') \
             AND source_key IN ({})",
            marks.join(", ")
        );
        // Only numbered placeholders are formatted in; the keys are bound.
        let mut query = sqlx::query_scalar::<_, String>(sqlx::AssertSqlSafe(sql));
        for key in chunk {
            query = query.bind(key);
        }
        found.extend(query.fetch_all(pool).await?);
    }
    Ok(found)
}
