//! Tickets, their messages and attachments, as read back.

use super::db::{Pool, Row, Tx};
use crate::StoreError;
use crate::backend::{parse_id, parse_optional_id, with_columns};
use sqlx::FromRow;

/// The columns of `tickets` that make a [`crate::TicketRow`].
const TICKET_COLUMNS: &str = "\
    number, id, subject, requester, requester_name, incoming_server_id, grp, category, status, \
    created_at, updated_at";

/// A `tickets` row as stored.
#[derive(sqlx::FromRow)]
struct TicketRecord {
    number: i64,
    id: String,
    subject: String,
    requester: String,
    requester_name: Option<String>,
    incoming_server_id: Option<String>,
    grp: Option<String>,
    category: Option<String>,
    status: String,
    created_at: i64,
    updated_at: i64,
}

pub(super) fn ticket_row(row: &Row) -> Result<crate::TicketRow, StoreError> {
    let r = TicketRecord::from_row(row)?;
    Ok(crate::TicketRow {
        number: r.number,
        id: parse_id("id", &r.id)?,
        subject: r.subject,
        requester: r.requester,
        requester_name: r.requester_name,
        incoming_server_id: parse_optional_id("incoming_server_id", r.incoming_server_id)?,
        group: r.grp,
        category: r.category,
        status: r.status,
        created_at_ms: r.created_at,
        updated_at_ms: r.updated_at,
    })
}

/// A `ticket_messages` row as stored (without its raw bytes).
#[derive(sqlx::FromRow)]
struct MessageRecord {
    id: String,
    ticket_number: i64,
    direction: String,
    kind: String,
    message_id: Option<String>,
    from_address: Option<String>,
    from_name: Option<String>,
    recipients: String,
    subject: String,
    body_text: String,
    body_html: Option<String>,
    problems: String,
    reply_to: String,
    in_reply_to: String,
    reference_ids: String,
    bulk: bool,
    incoming_server_id: Option<String>,
    created_at: i64,
}

pub(super) fn message_row(row: &Row) -> Result<crate::MessageRow, StoreError> {
    let r = MessageRecord::from_row(row)?;
    Ok(crate::MessageRow {
        id: parse_id("id", &r.id)?,
        ticket_number: r.ticket_number,
        direction: r.direction,
        kind: r.kind,
        message_id: r.message_id,
        from_address: r.from_address,
        from_name: r.from_name,
        recipients: r.recipients,
        subject: r.subject,
        body_text: r.body_text,
        body_html: r.body_html,
        problems: r.problems,
        reply_to: r.reply_to,
        in_reply_to: r.in_reply_to,
        references: r.reference_ids,
        bulk: r.bulk,
        raw: Vec::new(),
        incoming_server_id: parse_optional_id("incoming_server_id", r.incoming_server_id)?,
        created_at_ms: r.created_at,
        attachments: Vec::new(),
    })
}

/// An `attachments` row as stored; `content` only when the query asks for it.
#[derive(sqlx::FromRow)]
struct AttachmentRecord {
    id: String,
    message_id: String,
    position: i64,
    filename: String,
    content_type: String,
    size: i64,
    inline: bool,
    content_id: Option<String>,
    #[sqlx(default)]
    content: Vec<u8>,
    raw_offset: Option<i64>,
    raw_length: Option<i64>,
    raw_encoding: Option<String>,
}

pub(super) fn attachment_row(row: &Row) -> Result<crate::AttachmentRow, StoreError> {
    let r = AttachmentRecord::from_row(row)?;
    Ok(crate::AttachmentRow {
        id: parse_id("id", &r.id)?,
        message_id: parse_id("message_id", &r.message_id)?,
        position: r.position,
        filename: r.filename,
        content_type: r.content_type,
        size: r.size,
        inline: r.inline,
        content_id: r.content_id,
        content: r.content,
        in_raw: crate::backend::raw_part(r.raw_offset, r.raw_length, r.raw_encoding)?,
    })
}

pub(super) async fn list_tickets(
    pool: &Pool,
    query: &crate::TicketQuery,
) -> Result<Vec<crate::TicketRow>, StoreError> {
    let like = |t: &str| {
        format!(
            "%{}%",
            t.replace('\\', "\\\\")
                .replace('%', "\\%")
                .replace('_', "\\_")
        )
    };
    // `$4` is the folded text, `$7` the text as typed: SQLite's LOWER folds ASCII only,
    // so a non-ASCII word still matches when typed in the same case.
    let folded = query.text.as_deref().map(|t| like(&t.to_lowercase()));
    let typed = query.text.as_deref().map(like);
    let rows = sqlx::query(with_columns(
        "SELECT {} FROM tickets \
         WHERE ($1 IS NULL OR status = $1) AND ($2 IS NULL OR grp = $2) AND ($3 IS NULL OR \
         category = $3) \
         AND ($4 IS NULL OR LOWER(subject) LIKE $4 ESCAPE '\\' OR subject LIKE $7 ESCAPE '\\' \
              OR LOWER(requester) LIKE $4 ESCAPE '\\' OR LOWER(requester_name) LIKE $4 ESCAPE \
              '\\' OR requester_name LIKE $7 ESCAPE '\\' \
              OR EXISTS (SELECT 1 FROM ticket_messages m WHERE m.ticket_number = tickets.number \
                         AND (LOWER(m.body_text) LIKE $4 ESCAPE '\\' OR m.body_text LIKE $7 \
                         ESCAPE '\\'))) \
         AND ($5 IS NULL OR number < $5) \
         ORDER BY number DESC LIMIT $6",
        TICKET_COLUMNS,
    ))
    .bind(&query.status)
    .bind(&query.group)
    .bind(&query.category)
    .bind(&folded)
    .bind(query.before)
    .bind(query.limit.clamp(1, 500))
    .bind(&typed)
    .fetch_all(pool)
    .await?;
    rows.iter().map(ticket_row).collect()
}

pub(super) async fn get_ticket(
    pool: &Pool,
    number: i64,
) -> Result<Option<crate::TicketRow>, StoreError> {
    let row = sqlx::query(with_columns(
        "SELECT {} FROM tickets WHERE number = $1",
        TICKET_COLUMNS,
    ))
    .bind(number)
    .fetch_optional(pool)
    .await?;
    row.as_ref().map(ticket_row).transpose()
}

pub(super) async fn ticket_messages(
    pool: &Pool,
    number: i64,
) -> Result<Vec<crate::MessageRow>, StoreError> {
    let rows = sqlx::query(
        "SELECT id, ticket_number, direction, kind, message_id, from_address, from_name, \
         recipients, subject, body_text, body_html, problems, reply_to, in_reply_to, \
         reference_ids, bulk, incoming_server_id, created_at \
         FROM ticket_messages WHERE ticket_number = $1 ORDER BY seq",
    )
    .bind(number)
    .fetch_all(pool)
    .await?;
    let mut messages: Vec<crate::MessageRow> =
        rows.iter().map(message_row).collect::<Result<_, _>>()?;
    for m in &mut messages {
        let rows = sqlx::query(
            "SELECT id, message_id, position, filename, content_type, size, inline, content_id, \
             raw_offset, raw_length, raw_encoding \
             FROM attachments WHERE message_id = $1 ORDER BY position",
        )
        .bind(m.id.to_string())
        .fetch_all(pool)
        .await?;
        m.attachments = rows.iter().map(attachment_row).collect::<Result<_, _>>()?;
    }
    Ok(messages)
}

pub(super) async fn attachment(
    pool: &Pool,
    id: mailgate_domain::Id,
) -> Result<Option<crate::AttachmentRow>, StoreError> {
    use sqlx::Row;
    // A range of the raw message is cut out by the database (offsets fit in 32 bits:
    // messages are at most 1 GiB).
    let row = sqlx::query(
        "SELECT a.id, a.message_id, a.position, a.filename, a.content_type, a.size, a.inline, \
         a.content_id, a.content, a.raw_offset, a.raw_length, a.raw_encoding, \
         CASE WHEN a.raw_offset IS NULL THEN NULL ELSE substr(m.raw, CAST(a.raw_offset AS \
         INTEGER) + 1, CAST(a.raw_length AS INTEGER)) END AS raw_part \
         FROM attachments a JOIN ticket_messages m ON m.id = a.message_id WHERE a.id = $1",
    )
    .bind(id.to_string())
    .fetch_optional(pool)
    .await?;
    let Some(row) = row else { return Ok(None) };
    let mut attachment = attachment_row(&row)?;
    if let Some(part) = &attachment.in_raw {
        attachment.content =
            crate::backend::read_raw_part(part, row.try_get("raw_part")?, attachment.size)?;
    }
    Ok(Some(attachment))
}

#[cfg(feature = "testing")]
pub(super) async fn count_messages(pool: &Pool) -> Result<i64, StoreError> {
    Ok(sqlx::query_scalar("SELECT COUNT(*) FROM ticket_messages")
        .fetch_one(pool)
        .await?)
}

pub(super) async fn message_raw(
    pool: &Pool,
    id: mailgate_domain::Id,
) -> Result<Option<Vec<u8>>, StoreError> {
    Ok(
        sqlx::query_scalar("SELECT raw FROM ticket_messages WHERE id = $1")
            .bind(id.to_string())
            .fetch_optional(pool)
            .await?,
    )
}

/// A ticket message as it is written: the row, and what its writer decided for it.
pub(super) struct NewMessage<'a> {
    /// Its direction, kind, headers, bodies, raw bytes and flags (not its attachments).
    pub(super) message: &'a crate::MessageRow,
    /// The ticket it joins: the one an import threaded it into, or the one a reply answers.
    pub(super) ticket_number: i64,
    /// The mailbox it came in through (none for a sent reply).
    pub(super) incoming_server_id: Option<mailgate_domain::Id>,
    /// What was malformed (JSON): an import may add to the message's own list.
    pub(super) problems: &'a str,
    /// An incoming message's content digest (see `MessageImport::content_digest`).
    pub(super) content_digest: Option<&'a str>,
}

/// Adds a message, in or out, to the end of its ticket. The one INSERT of `ticket_messages`:
/// imports and sent replies both write it here.
pub(super) async fn insert_ticket_message(
    tx: &mut Tx<'_>,
    new: &NewMessage<'_>,
    now_ms: i64,
) -> Result<(), StoreError> {
    let message = new.message;
    sqlx::query(
        "INSERT INTO ticket_messages (id, ticket_number, seq, direction, kind, message_id, \
         from_address, from_name, recipients, subject, body_text, body_html, problems, raw, \
         incoming_server_id, created_at, content_digest, reply_to, in_reply_to, reference_ids, \
         bulk) \
         VALUES ($1, $2, (SELECT COALESCE(MAX(seq), 0) + 1 FROM ticket_messages WHERE \
         ticket_number = $2), $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, \
         $17, $18, $19, $20)",
    )
    .bind(message.id.to_string())
    .bind(new.ticket_number)
    .bind(&message.direction)
    .bind(&message.kind)
    .bind(&message.message_id)
    .bind(&message.from_address)
    .bind(&message.from_name)
    .bind(&message.recipients)
    .bind(&message.subject)
    .bind(&message.body_text)
    .bind(&message.body_html)
    .bind(new.problems)
    .bind(&message.raw)
    .bind(new.incoming_server_id.map(|i| i.to_string()))
    .bind(now_ms)
    .bind(new.content_digest)
    .bind(&message.reply_to)
    .bind(&message.in_reply_to)
    .bind(&message.references)
    .bind(message.bulk)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Marks a ticket as changed now (a message joined it).
pub(super) async fn touch_ticket(
    tx: &mut Tx<'_>,
    number: i64,
    now_ms: i64,
) -> Result<(), StoreError> {
    sqlx::query("UPDATE tickets SET updated_at = $1 WHERE number = $2")
        .bind(now_ms)
        .bind(number)
        .execute(&mut **tx)
        .await?;
    Ok(())
}
