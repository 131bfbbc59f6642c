//! The SQL is the same on both backends (`$n` placeholders, portable types); this macro writes
//! it once and compiles it against each pool, so the two can never drift apart.

pub mod postgres;
pub mod sqlite;

const CREDENTIAL_COLUMNS: &str = "id, kind, owner_id, subject, scope, granted_scope, sealed, access_expires_at, refresh_at, status, last_error, failures, created_at, updated_at";

const OUTBOX_COLUMNS: &str = "id, idempotency_key, request_hash, status, server_id, ticket_number, message_id, draft, attempts, next_attempt_at, lease_until, sent_server_id, result, created_at, updated_at, sent_at";

const OBJECT_COLUMNS: &str = "id, kind, name, spec, sealed, enabled, is_primary, oauth_app_id, service_account_id, outgoing_server_id, created_at, updated_at";

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

macro_rules! sql_store {
    ($store:ident, $db:ty, $name:literal) => {
        impl $store {
            fn object_row(row: &<$db as sqlx::Database>::Row) -> Result<$crate::ObjectRow, $crate::StoreError> {
                use sqlx::Row;
                let id = |col: &str| -> Result<Option<mailgate_domain::Id>, $crate::StoreError> {
                    let text: Option<String> = row.try_get(col)?;
                    text.map(|t| $crate::backend::parse_id(col, &t)).transpose()
                };
                let kind: String = row.try_get("kind")?;
                Ok($crate::ObjectRow {
                    id: id("id")?.ok_or_else(|| $crate::StoreError::Corrupt("id is null".into()))?,
                    kind: $crate::ObjectKind::parse(&kind).ok_or_else(|| $crate::StoreError::Corrupt(format!("unknown kind `{kind}`")))?,
                    name: row.try_get("name")?,
                    spec: row.try_get("spec")?,
                    sealed: row.try_get("sealed")?,
                    enabled: row.try_get("enabled")?,
                    is_primary: row.try_get("is_primary")?,
                    links: $crate::Link {
                        oauth_app_id: id("oauth_app_id")?,
                        service_account_id: id("service_account_id")?,
                        outgoing_server_id: id("outgoing_server_id")?,
                    },
                    created_at_ms: row.try_get("created_at")?,
                    updated_at_ms: row.try_get("updated_at")?,
                })
            }

            fn token_row(row: &<$db as sqlx::Database>::Row) -> Result<$crate::AdminTokenRow, $crate::StoreError> {
                use sqlx::Row;
                let id: String = row.try_get("id")?;
                Ok($crate::AdminTokenRow {
                    id: $crate::backend::parse_id("id", &id)?,
                    name: row.try_get("name")?,
                    token_hash: row.try_get("token_hash")?,
                    created_at_ms: row.try_get("created_at")?,
                    last_used_at_ms: row.try_get("last_used_at")?,
                })
            }

            fn credential_row(row: &<$db as sqlx::Database>::Row) -> Result<$crate::CredentialRow, $crate::StoreError> {
                use sqlx::Row;
                let id: String = row.try_get("id")?;
                let owner: String = row.try_get("owner_id")?;
                let kind: String = row.try_get("kind")?;
                Ok($crate::CredentialRow {
                    id: $crate::backend::parse_id("id", &id)?,
                    kind: $crate::CredentialKind::parse(&kind).ok_or_else(|| $crate::StoreError::Corrupt(format!("unknown credential kind `{kind}`")))?,
                    owner_id: $crate::backend::parse_id("owner_id", &owner)?,
                    subject: row.try_get("subject")?,
                    scope: row.try_get("scope")?,
                    granted_scope: row.try_get("granted_scope")?,
                    sealed: row.try_get("sealed")?,
                    access_expires_at_ms: row.try_get("access_expires_at")?,
                    refresh_at_ms: row.try_get("refresh_at")?,
                    status: row.try_get("status")?,
                    last_error: row.try_get("last_error")?,
                    failures: row.try_get("failures")?,
                    created_at_ms: row.try_get("created_at")?,
                    updated_at_ms: row.try_get("updated_at")?,
                })
            }

            fn state_row(row: &<$db as sqlx::Database>::Row) -> Result<$crate::OAuthStateRow, $crate::StoreError> {
                use sqlx::Row;
                let server: String = row.try_get("server_id")?;
                Ok($crate::OAuthStateRow {
                    state_hash: row.try_get("state_hash")?,
                    server_id: $crate::backend::parse_id("server_id", &server)?,
                    sealed_verifier: row.try_get("sealed_verifier")?,
                    created_at_ms: row.try_get("created_at")?,
                    expires_at_ms: row.try_get("expires_at")?,
                    used_at_ms: row.try_get("used_at")?,
                })
            }

            fn ticket_row(row: &<$db as sqlx::Database>::Row) -> Result<$crate::TicketRow, $crate::StoreError> {
                use sqlx::Row;
                let id: String = row.try_get("id")?;
                let server: Option<String> = row.try_get("incoming_server_id")?;
                Ok($crate::TicketRow {
                    number: row.try_get("number")?,
                    id: $crate::backend::parse_id("id", &id)?,
                    subject: row.try_get("subject")?,
                    requester: row.try_get("requester")?,
                    requester_name: row.try_get("requester_name")?,
                    incoming_server_id: server.map(|s| $crate::backend::parse_id("incoming_server_id", &s)).transpose()?,
                    group: row.try_get("grp")?,
                    category: row.try_get("category")?,
                    status: row.try_get("status")?,
                    created_at_ms: row.try_get("created_at")?,
                    updated_at_ms: row.try_get("updated_at")?,
                })
            }

            fn message_row(row: &<$db as sqlx::Database>::Row) -> Result<$crate::MessageRow, $crate::StoreError> {
                use sqlx::Row;
                let id: String = row.try_get("id")?;
                let server: Option<String> = row.try_get("incoming_server_id")?;
                Ok($crate::MessageRow {
                    id: $crate::backend::parse_id("id", &id)?,
                    ticket_number: row.try_get("ticket_number")?,
                    direction: row.try_get("direction")?,
                    kind: row.try_get("kind")?,
                    message_id: row.try_get("message_id")?,
                    from_address: row.try_get("from_address")?,
                    from_name: row.try_get("from_name")?,
                    recipients: row.try_get("recipients")?,
                    subject: row.try_get("subject")?,
                    body_text: row.try_get("body_text")?,
                    body_html: row.try_get("body_html")?,
                    problems: row.try_get("problems")?,
                    reply_to: row.try_get("reply_to")?,
                    in_reply_to: row.try_get("in_reply_to")?,
                    references: row.try_get("reference_ids")?,
                    bulk: row.try_get("bulk")?,
                    raw: Vec::new(),
                    incoming_server_id: server.map(|s| $crate::backend::parse_id("incoming_server_id", &s)).transpose()?,
                    created_at_ms: row.try_get("created_at")?,
                    attachments: Vec::new(),
                })
            }

            fn outbox_row(row: &<$db as sqlx::Database>::Row) -> Result<$crate::OutboxRow, $crate::StoreError> {
                use sqlx::Row;
                let id: String = row.try_get("id")?;
                let server: Option<String> = row.try_get("server_id")?;
                let sent: Option<String> = row.try_get("sent_server_id")?;
                Ok($crate::OutboxRow {
                    id: $crate::backend::parse_id("id", &id)?,
                    idempotency_key: row.try_get("idempotency_key")?,
                    request_hash: row.try_get("request_hash")?,
                    status: row.try_get("status")?,
                    server_id: server.map(|s| $crate::backend::parse_id("server_id", &s)).transpose()?,
                    ticket_number: row.try_get("ticket_number")?,
                    message_id: row.try_get("message_id")?,
                    draft: row.try_get("draft")?,
                    attempts: row.try_get("attempts")?,
                    next_attempt_at_ms: row.try_get("next_attempt_at")?,
                    lease_until_ms: row.try_get("lease_until")?,
                    sent_server_id: sent.map(|s| $crate::backend::parse_id("sent_server_id", &s)).transpose()?,
                    result: row.try_get("result")?,
                    created_at_ms: row.try_get("created_at")?,
                    updated_at_ms: row.try_get("updated_at")?,
                    sent_at_ms: row.try_get("sent_at")?,
                })
            }

            fn attachment_row(row: &<$db as sqlx::Database>::Row, with_content: bool) -> Result<$crate::AttachmentRow, $crate::StoreError> {
                use sqlx::Row;
                let id: String = row.try_get("id")?;
                let message: String = row.try_get("message_id")?;
                Ok($crate::AttachmentRow {
                    id: $crate::backend::parse_id("id", &id)?,
                    message_id: $crate::backend::parse_id("message_id", &message)?,
                    position: row.try_get("position")?,
                    filename: row.try_get("filename")?,
                    content_type: row.try_get("content_type")?,
                    size: row.try_get("size")?,
                    inline: row.try_get("inline")?,
                    content_id: row.try_get("content_id")?,
                    content: if with_content { row.try_get("content")? } else { Vec::new() },
                    in_raw: $crate::backend::raw_part(row.try_get("raw_offset")?, row.try_get("raw_length")?, row.try_get("raw_encoding")?)?,
                })
            }

            /// The ticket an incoming message belongs to: the one holding the first of the
            /// Message-IDs it names (in the order given: the caller puts the best evidence first;
            /// any stored message counts, in or out), else the tag. One statement for all the ids
            /// (a reply can name a hundred).
            async fn find_thread(tx: &mut sqlx::Transaction<'_, $db>, import: &$crate::MessageImport) -> Result<Option<i64>, $crate::StoreError> {
                let ids = &import.thread_message_ids;
                if !ids.is_empty() {
                    let placeholders: Vec<String> = (1..=ids.len()).map(|i| format!("${i}")).collect();
                    let sql = format!(
                        "SELECT message_id, ticket_number FROM ticket_messages WHERE message_id IN ({}) ORDER BY created_at, seq",
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
                    return Self::tagged_ticket(tx, tag, import).await;
                }
                Ok(None)
            }

            /// The ticket a subject's tag names, if the sender may thread into it: a participant
            /// (the requester, an address that wrote to it, or one it was sent to) or mail from
            /// the mailbox the ticket was opened through; anyone with `thread_tag_from_anyone`.
            async fn tagged_ticket(tx: &mut sqlx::Transaction<'_, $db>, tag: i64, import: &$crate::MessageImport) -> Result<Option<i64>, $crate::StoreError> {
                let sender = import.message.from_address.as_deref().unwrap_or_default().trim().to_lowercase();
                // Recipients are a JSON object of address lists: the address as a JSON string.
                let quoted = if sender.is_empty() {
                    String::new()
                } else {
                    format!("%\"{}\"%", sender.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_"))
                };
                let server = import.message.incoming_server_id.map(|id| id.to_string());
                Ok(sqlx::query_scalar(
                    "SELECT t.number FROM tickets t WHERE t.number = $1 AND ($2 OR t.incoming_server_id = $3 OR lower(t.requester) = $4 \
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
            async fn import_all(
                &self,
                requests: &[$crate::ImportRequest],
                event: &$crate::EventFor<'_>,
                now_ms: i64,
            ) -> Result<Vec<$crate::ImportOutcome>, (Option<usize>, $crate::StoreError)> {
                let whole = |e: sqlx::Error| (None, $crate::StoreError::from(e));
                let mut tx = self.pool.begin().await.map_err(whole)?;
                let mut outcomes = Vec::with_capacity(requests.len());
                // The last position read per mailbox, written once at the end.
                let mut progress: Vec<(mailgate_domain::Id, (i64, i64))> = Vec::new();
                for (i, request) in requests.iter().enumerate() {
                    let outcome = Self::import_one(&mut tx, request, now_ms).await.map_err(|e| (Some(i), e))?;
                    if let Some(e) = event(i, &outcome) {
                        sqlx::query("INSERT INTO events (kind, subject_id, data, created_at) VALUES ($1, $2, $3, $4)")
                            .bind(&e.kind)
                            .bind(&e.subject_id)
                            .bind(&e.data)
                            .bind(now_ms)
                            .execute(&mut *tx)
                            .await
                            .map_err(|e| (Some(i), e.into()))?;
                    }
                    let source = request.source();
                    if let Some((validity, uid)) = source.progress {
                        match progress.iter_mut().find(|(server, _)| *server == source.server_id) {
                            // Same rule as the statement below: a lower UID of the same validity never moves it back.
                            Some((_, (v, u))) if *v == validity && *u > uid => {}
                            Some((_, last)) => *last = (validity, uid),
                            None => progress.push((source.server_id, (validity, uid))),
                        }
                    }
                    outcomes.push(outcome);
                }
                for (server, (validity, uid)) in progress {
                    sqlx::query(
                        "INSERT INTO mailbox_progress (server_id, uid_validity, last_uid, updated_at) VALUES ($1, $2, $3, $4) \
                         ON CONFLICT (server_id) DO UPDATE SET last_uid = CASE WHEN mailbox_progress.uid_validity = excluded.uid_validity \
                         AND mailbox_progress.last_uid > excluded.last_uid THEN mailbox_progress.last_uid ELSE excluded.last_uid END, \
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
            async fn import_one(
                tx: &mut sqlx::Transaction<'_, $db>,
                request: &$crate::ImportRequest,
                now_ms: i64,
            ) -> Result<$crate::ImportOutcome, $crate::StoreError> {
                let source = request.source();
                let (outcome, message_id) = match request {
                    $crate::ImportRequest::Skip { outcome, .. } => (outcome.as_str(), None),
                    $crate::ImportRequest::Import { import, .. } => ("imported", Some(import.message.id.to_string())),
                };
                let claimed = sqlx::query(
                    "INSERT INTO mailbox_sources (source_key, server_id, outcome, ticket_message_id, created_at) VALUES ($1, $2, $3, $4, $5) \
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
                    _ if claimed.rows_affected() == 0 => return Ok($crate::ImportOutcome::AlreadySeen),
                    $crate::ImportRequest::Skip { .. } => return Ok($crate::ImportOutcome::Skipped),
                    $crate::ImportRequest::Import { import, .. } => import,
                };
                let message = &import.message;
                let set_outcome = |outcome: &str| {
                    sqlx::query("UPDATE mailbox_sources SET outcome = $1, ticket_message_id = NULL WHERE source_key = $2")
                        .bind(outcome.to_owned())
                        .bind(&source.key)
                };
                let mut problems = std::borrow::Cow::Borrowed(&message.problems);
                if let Some(message_id) = &message.message_id {
                    let earlier: Vec<(i64, Option<String>)> = sqlx::query_as(
                        "SELECT ticket_number, content_digest FROM ticket_messages WHERE message_id = $1 AND direction = 'in' ORDER BY created_at",
                    )
                    .bind(message_id)
                    .fetch_all(&mut **tx)
                    .await?;
                    // The same message: the same id and the same content. A row stored before
                    // digests were kept (NULL) counts as the same, so that an upgrade never
                    // imports a message twice; so does a request without a digest.
                    let same = earlier.iter().find(|(_, digest)| match (digest, &import.content_digest) {
                        (Some(earlier), Some(this)) => earlier == this,
                        _ => true,
                    });
                    if let Some((ticket_number, _)) = same {
                        set_outcome("duplicate").execute(&mut **tx).await?;
                        return Ok($crate::ImportOutcome::Duplicate { ticket_number: *ticket_number });
                    }
                    // Another message under an id seen before (a broken mailer, or a sender who
                    // learnt the id): kept, and flagged.
                    if let Some((ticket_number, _)) = earlier.first() {
                        problems = std::borrow::Cow::Owned($crate::backend::with_problem(
                            &message.problems,
                            &format!("message_id_reused: an earlier message with this Message-ID and other content is in ticket {ticket_number}"),
                        ));
                    }
                }
                let existing = Self::find_thread(tx, import).await?;
                if let (None, Some(outcome)) = (existing, &import.only_if_threaded) {
                    set_outcome(outcome).execute(&mut **tx).await?;
                    return Ok($crate::ImportOutcome::Skipped);
                }
                let (ticket_number, new_ticket) = match existing {
                    Some(number) => {
                        sqlx::query("UPDATE tickets SET updated_at = $1 WHERE number = $2").bind(now_ms).bind(number).execute(&mut **tx).await?;
                        (number, false)
                    }
                    None => {
                        let t = &import.new_ticket;
                        let number: i64 = sqlx::query_scalar(
                            "INSERT INTO tickets (id, subject, requester, requester_name, incoming_server_id, grp, category, status, created_at, updated_at) \
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
                sqlx::query(
                    "INSERT INTO ticket_messages (id, ticket_number, seq, direction, kind, message_id, from_address, from_name, recipients, subject, body_text, body_html, problems, raw, incoming_server_id, created_at, content_digest, reply_to, in_reply_to, reference_ids, bulk) \
                     VALUES ($1, $2, (SELECT COALESCE(MAX(seq), 0) + 1 FROM ticket_messages WHERE ticket_number = $2), $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20)",
                )
                .bind(message.id.to_string())
                .bind(ticket_number)
                .bind(&message.direction)
                .bind(&message.kind)
                .bind(&message.message_id)
                .bind(&message.from_address)
                .bind(&message.from_name)
                .bind(&message.recipients)
                .bind(&message.subject)
                .bind(&message.body_text)
                .bind(&message.body_html)
                .bind(problems.as_str())
                .bind(&message.raw)
                .bind(source.server_id.to_string())
                .bind(now_ms)
                .bind(&import.content_digest)
                .bind(&message.reply_to)
                .bind(&message.in_reply_to)
                .bind(&message.references)
                .bind(message.bulk)
                .execute(&mut **tx)
                .await?;
                for a in &message.attachments {
                    // Kept as a range of the raw message when it can be read back from there.
                    let content: &[u8] = if a.in_raw.is_some() { &[] } else { &a.content };
                    sqlx::query(
                        "INSERT INTO attachments (id, message_id, position, filename, content_type, size, inline, content_id, content, raw_offset, raw_length, raw_encoding) \
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
                Ok($crate::ImportOutcome::Imported { ticket_number, message_id: message.id, new_ticket })
            }

            /// Only one object of a kind is primary: clear the flag on the others first.
            async fn clear_other_primaries(
                tx: &mut sqlx::Transaction<'_, $db>,
                row: &$crate::ObjectRow,
            ) -> Result<(), $crate::StoreError> {
                if row.is_primary {
                    sqlx::query("UPDATE config_objects SET is_primary = FALSE, updated_at = $1 WHERE kind = $2 AND is_primary AND id <> $3")
                        .bind(row.updated_at_ms)
                        .bind(row.kind.as_str())
                        .bind(row.id.to_string())
                        .execute(&mut **tx)
                        .await?;
                }
                Ok(())
            }
        }

        #[async_trait::async_trait]
        impl $crate::Store for $store {
            fn backend_name(&self) -> &'static str {
                $name
            }

            async fn ping(&self) -> Result<(), $crate::StoreError> {
                sqlx::query("SELECT 1").execute(&self.pool).await?;
                Ok(())
            }

            async fn probe_write(&self, now_ms: i64) -> Result<(), $crate::StoreError> {
                self.check_free_space()?;
                sqlx::query("INSERT INTO meta (key, value) VALUES ('health_probe', $1) ON CONFLICT (key) DO UPDATE SET value = excluded.value")
                    .bind(now_ms.to_string())
                    .execute(&self.pool)
                    .await?;
                Ok(())
            }

            async fn durability(&self, connections: u32) -> Result<Vec<String>, $crate::StoreError> {
                self.durability_levels(connections).await
            }

            async fn get_meta(&self, key: &str) -> Result<Option<String>, $crate::StoreError> {
                Ok(sqlx::query_scalar("SELECT value FROM meta WHERE key = $1").bind(key).fetch_optional(&self.pool).await?)
            }

            async fn put_meta_if_absent(&self, key: &str, value: &str) -> Result<String, $crate::StoreError> {
                sqlx::query("INSERT INTO meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING")
                    .bind(key)
                    .bind(value)
                    .execute(&self.pool)
                    .await?;
                Ok(sqlx::query_scalar("SELECT value FROM meta WHERE key = $1").bind(key).fetch_one(&self.pool).await?)
            }

            async fn insert_admin_token(&self, token: &$crate::AdminTokenRow) -> Result<(), $crate::StoreError> {
                sqlx::query("INSERT INTO admin_tokens (id, name, token_hash, created_at, last_used_at) VALUES ($1, $2, $3, $4, $5)")
                    .bind(token.id.to_string())
                    .bind(&token.name)
                    .bind(&token.token_hash)
                    .bind(token.created_at_ms)
                    .bind(token.last_used_at_ms)
                    .execute(&self.pool)
                    .await?;
                Ok(())
            }

            async fn use_admin_token(&self, token_hash: &[u8], now_ms: i64) -> Result<Option<$crate::AdminTokenRow>, $crate::StoreError> {
                let row = sqlx::query("UPDATE admin_tokens SET last_used_at = $1 WHERE token_hash = $2 RETURNING id, name, token_hash, created_at, last_used_at")
                    .bind(now_ms)
                    .bind(token_hash)
                    .fetch_optional(&self.pool)
                    .await?;
                row.as_ref().map(Self::token_row).transpose()
            }

            async fn find_admin_token(&self, token_hash: &[u8]) -> Result<Option<$crate::AdminTokenRow>, $crate::StoreError> {
                let row = sqlx::query("SELECT id, name, token_hash, created_at, last_used_at FROM admin_tokens WHERE token_hash = $1")
                    .bind(token_hash)
                    .fetch_optional(&self.pool)
                    .await?;
                row.as_ref().map(Self::token_row).transpose()
            }

            async fn list_admin_tokens(&self) -> Result<Vec<$crate::AdminTokenRow>, $crate::StoreError> {
                let rows = sqlx::query("SELECT id, name, token_hash, created_at, last_used_at FROM admin_tokens ORDER BY created_at, id")
                    .fetch_all(&self.pool)
                    .await?;
                rows.iter().map(Self::token_row).collect()
            }

            async fn delete_admin_token(&self, id: mailgate_domain::Id) -> Result<bool, $crate::StoreError> {
                let done = sqlx::query("DELETE FROM admin_tokens WHERE id = $1").bind(id.to_string()).execute(&self.pool).await?;
                Ok(done.rows_affected() > 0)
            }

            async fn insert_object(&self, row: &$crate::ObjectRow) -> Result<(), $crate::StoreError> {
                let mut tx = self.pool.begin().await?;
                Self::clear_other_primaries(&mut tx, row).await?;
                sqlx::query(
                    "INSERT INTO config_objects (id, kind, name, spec, sealed, enabled, is_primary, oauth_app_id, service_account_id, outgoing_server_id, created_at, updated_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
                )
                .bind(row.id.to_string())
                .bind(row.kind.as_str())
                .bind(&row.name)
                .bind(&row.spec)
                .bind(&row.sealed)
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

            async fn update_object(&self, row: &$crate::ObjectRow) -> Result<(), $crate::StoreError> {
                let mut tx = self.pool.begin().await?;
                Self::clear_other_primaries(&mut tx, row).await?;
                let done = sqlx::query(
                    "UPDATE config_objects SET name = $1, spec = $2, sealed = $3, enabled = $4, is_primary = $5, oauth_app_id = $6, \
                     service_account_id = $7, outgoing_server_id = $8, updated_at = $9 WHERE id = $10 AND kind = $11",
                )
                .bind(&row.name)
                .bind(&row.spec)
                .bind(&row.sealed)
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
                    return Err($crate::StoreError::NotFound);
                }
                tx.commit().await?;
                Ok(())
            }

            async fn get_object(&self, kind: $crate::ObjectKind, id: mailgate_domain::Id) -> Result<Option<$crate::ObjectRow>, $crate::StoreError> {
                let sql = const_format!("SELECT {} FROM config_objects WHERE kind = $1 AND id = $2");
                let row = sqlx::query(sql).bind(kind.as_str()).bind(id.to_string()).fetch_optional(&self.pool).await?;
                row.as_ref().map(Self::object_row).transpose()
            }

            async fn find_object_by_name(&self, kind: $crate::ObjectKind, name: &str) -> Result<Option<$crate::ObjectRow>, $crate::StoreError> {
                let sql = const_format!("SELECT {} FROM config_objects WHERE kind = $1 AND name = $2");
                let row = sqlx::query(sql).bind(kind.as_str()).bind(name).fetch_optional(&self.pool).await?;
                row.as_ref().map(Self::object_row).transpose()
            }

            async fn list_objects(&self, kind: $crate::ObjectKind) -> Result<Vec<$crate::ObjectRow>, $crate::StoreError> {
                let sql = const_format!("SELECT {} FROM config_objects WHERE kind = $1 ORDER BY created_at, id");
                let rows = sqlx::query(sql).bind(kind.as_str()).fetch_all(&self.pool).await?;
                rows.iter().map(Self::object_row).collect()
            }

            async fn objects_linking_to(&self, id: mailgate_domain::Id) -> Result<Vec<$crate::ObjectRow>, $crate::StoreError> {
                let sql = const_format!(
                    "SELECT {} FROM config_objects WHERE oauth_app_id = $1 OR service_account_id = $1 OR outgoing_server_id = $1 ORDER BY created_at, id"
                );
                let rows = sqlx::query(sql).bind(id.to_string()).fetch_all(&self.pool).await?;
                rows.iter().map(Self::object_row).collect()
            }

            async fn delete_object(&self, kind: $crate::ObjectKind, id: mailgate_domain::Id) -> Result<bool, $crate::StoreError> {
                let users = self.objects_linking_to(id).await?;
                if !users.is_empty() {
                    return Err($crate::StoreError::InUse(users.iter().map(|u| u.id).collect()));
                }
                let done = sqlx::query("DELETE FROM config_objects WHERE kind = $1 AND id = $2")
                    .bind(kind.as_str())
                    .bind(id.to_string())
                    .execute(&self.pool)
                    .await
                    .map_err(|e| match $crate::StoreError::from(e) {
                        // A link was added between the check and the delete.
                        $crate::StoreError::MissingLink => $crate::StoreError::InUse(Vec::new()),
                        other => other,
                    })?;
                Ok(done.rows_affected() > 0)
            }

            async fn upsert_credential(&self, row: &$crate::CredentialRow) -> Result<$crate::CredentialRow, $crate::StoreError> {
                let sql = credential_sql!(
                    "INSERT INTO credentials ({}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) \
                     ON CONFLICT (kind, owner_id, subject, scope) DO UPDATE SET granted_scope = excluded.granted_scope, sealed = excluded.sealed, \
                     access_expires_at = excluded.access_expires_at, refresh_at = excluded.refresh_at, status = excluded.status, \
                     last_error = excluded.last_error, failures = excluded.failures, updated_at = excluded.updated_at RETURNING {}"
                );
                let stored = sqlx::query(sql)
                    .bind(row.id.to_string())
                    .bind(row.kind.as_str())
                    .bind(row.owner_id.to_string())
                    .bind(&row.subject)
                    .bind(&row.scope)
                    .bind(&row.granted_scope)
                    .bind(&row.sealed)
                    .bind(row.access_expires_at_ms)
                    .bind(row.refresh_at_ms)
                    .bind(&row.status)
                    .bind(&row.last_error)
                    .bind(row.failures)
                    .bind(row.created_at_ms)
                    .bind(row.updated_at_ms)
                    .fetch_one(&self.pool)
                    .await?;
                Self::credential_row(&stored)
            }

            async fn find_credential(&self, kind: $crate::CredentialKind, owner_id: mailgate_domain::Id, subject: &str, scope: &str) -> Result<Option<$crate::CredentialRow>, $crate::StoreError> {
                let sql = credential_sql!("SELECT {} FROM credentials WHERE kind = $1 AND owner_id = $2 AND subject = $3 AND scope = $4");
                let row = sqlx::query(sql).bind(kind.as_str()).bind(owner_id.to_string()).bind(subject).bind(scope).fetch_optional(&self.pool).await?;
                row.as_ref().map(Self::credential_row).transpose()
            }

            async fn get_credential(&self, id: mailgate_domain::Id) -> Result<Option<$crate::CredentialRow>, $crate::StoreError> {
                let sql = credential_sql!("SELECT {} FROM credentials WHERE id = $1");
                let row = sqlx::query(sql).bind(id.to_string()).fetch_optional(&self.pool).await?;
                row.as_ref().map(Self::credential_row).transpose()
            }

            async fn update_credential(&self, row: &$crate::CredentialRow) -> Result<(), $crate::StoreError> {
                let done = sqlx::query(
                    "UPDATE credentials SET granted_scope = $1, sealed = $2, access_expires_at = $3, refresh_at = $4, status = $5, \
                     last_error = $6, failures = $7, updated_at = $8 WHERE id = $9",
                )
                .bind(&row.granted_scope)
                .bind(&row.sealed)
                .bind(row.access_expires_at_ms)
                .bind(row.refresh_at_ms)
                .bind(&row.status)
                .bind(&row.last_error)
                .bind(row.failures)
                .bind(row.updated_at_ms)
                .bind(row.id.to_string())
                .execute(&self.pool)
                .await?;
                if done.rows_affected() == 0 {
                    return Err($crate::StoreError::NotFound);
                }
                Ok(())
            }

            async fn list_credentials(&self) -> Result<Vec<$crate::CredentialRow>, $crate::StoreError> {
                let sql = credential_sql!("SELECT {} FROM credentials ORDER BY created_at, id");
                let rows = sqlx::query(sql).fetch_all(&self.pool).await?;
                rows.iter().map(Self::credential_row).collect()
            }

            async fn credentials_due(&self, now_ms: i64) -> Result<Vec<$crate::CredentialRow>, $crate::StoreError> {
                let sql = credential_sql!("SELECT {} FROM credentials WHERE status = 'connected' AND refresh_at IS NOT NULL AND refresh_at <= $1 ORDER BY refresh_at, id");
                let rows = sqlx::query(sql).bind(now_ms).fetch_all(&self.pool).await?;
                rows.iter().map(Self::credential_row).collect()
            }

            async fn insert_oauth_state(&self, row: &$crate::OAuthStateRow) -> Result<(), $crate::StoreError> {
                sqlx::query("INSERT INTO oauth_states (state_hash, server_id, sealed_verifier, created_at, expires_at, used_at) VALUES ($1, $2, $3, $4, $5, $6)")
                    .bind(&row.state_hash)
                    .bind(row.server_id.to_string())
                    .bind(&row.sealed_verifier)
                    .bind(row.created_at_ms)
                    .bind(row.expires_at_ms)
                    .bind(row.used_at_ms)
                    .execute(&self.pool)
                    .await?;
                // States are short-lived: forget the ones that expired a day ago.
                sqlx::query("DELETE FROM oauth_states WHERE expires_at < $1").bind(row.created_at_ms - 86_400_000).execute(&self.pool).await?;
                Ok(())
            }

            async fn find_oauth_state(&self, state_hash: &[u8]) -> Result<Option<$crate::OAuthStateRow>, $crate::StoreError> {
                let row = sqlx::query("SELECT state_hash, server_id, sealed_verifier, created_at, expires_at, used_at FROM oauth_states WHERE state_hash = $1")
                    .bind(state_hash)
                    .fetch_optional(&self.pool)
                    .await?;
                row.as_ref().map(Self::state_row).transpose()
            }

            async fn take_oauth_state(&self, state_hash: &[u8], now_ms: i64) -> Result<$crate::StateUse, $crate::StoreError> {
                let taken = sqlx::query(
                    "UPDATE oauth_states SET used_at = $1 WHERE state_hash = $2 AND used_at IS NULL AND expires_at > $1 \
                     RETURNING state_hash, server_id, sealed_verifier, created_at, expires_at, used_at",
                )
                .bind(now_ms)
                .bind(state_hash)
                .fetch_optional(&self.pool)
                .await?;
                if let Some(row) = taken {
                    return Ok($crate::StateUse::Taken(Self::state_row(&row)?));
                }
                let row = sqlx::query("SELECT state_hash, server_id, sealed_verifier, created_at, expires_at, used_at FROM oauth_states WHERE state_hash = $1")
                    .bind(state_hash)
                    .fetch_optional(&self.pool)
                    .await?;
                Ok(match row.as_ref().map(Self::state_row).transpose()? {
                    None => $crate::StateUse::Unknown,
                    Some(r) if r.used_at_ms.is_some() => $crate::StateUse::AlreadyUsed,
                    Some(_) => $crate::StateUse::Expired,
                })
            }

            async fn import_batch(
                &self,
                requests: &[$crate::ImportRequest],
                event: &$crate::EventFor<'_>,
                now_ms: i64,
            ) -> $crate::ImportedBatch {
                let mut end = requests.len();
                let mut failed = None;
                loop {
                    match self.import_all(&requests[..end], event, now_ms).await {
                        Ok(outcomes) => {
                            self.wrote();
                            return $crate::ImportedBatch { outcomes, failed };
                        }
                        // Rolled back: the requests before the failing one go in again without it
                        // (each round is shorter, so this ends).
                        Err((Some(at), error)) if at > 0 && at < end => {
                            failed = Some(error);
                            end = at;
                        }
                        Err((_, error)) => return $crate::ImportedBatch { outcomes: Vec::new(), failed: Some(error) },
                    }
                }
            }

            async fn mailbox_progress(&self, server_id: mailgate_domain::Id) -> Result<Option<(i64, i64)>, $crate::StoreError> {
                use sqlx::Row;
                let row = sqlx::query("SELECT uid_validity, last_uid FROM mailbox_progress WHERE server_id = $1").bind(server_id.to_string()).fetch_optional(&self.pool).await?;
                row.map(|r| Ok((r.try_get("uid_validity")?, r.try_get("last_uid")?))).transpose()
            }

            async fn source_outcome(&self, source_key: &str) -> Result<Option<String>, $crate::StoreError> {
                Ok(sqlx::query_scalar("SELECT outcome FROM mailbox_sources WHERE source_key = $1").bind(source_key).fetch_optional(&self.pool).await?)
            }

            async fn sources_to_act_on(&self, source_keys: &[String]) -> Result<Vec<String>, $crate::StoreError> {
                let mut found = Vec::new();
                for chunk in source_keys.chunks(200) {
                    let marks: Vec<String> = (1..=chunk.len()).map(|i| format!("${i}")).collect();
                    let sql = format!(
                        "SELECT source_key FROM mailbox_sources WHERE outcome IN ('imported', 'duplicate') AND source_key IN ({})",
                        marks.join(", ")
                    );
                    // Only numbered placeholders are formatted in; the keys are bound.
                    let mut query = sqlx::query_scalar::<_, String>(sqlx::AssertSqlSafe(sql));
                    for key in chunk {
                        query = query.bind(key);
                    }
                    found.extend(query.fetch_all(&self.pool).await?);
                }
                Ok(found)
            }

            async fn list_tickets(&self, query: &$crate::TicketQuery) -> Result<Vec<$crate::TicketRow>, $crate::StoreError> {
                let like = |t: &str| format!("%{}%", t.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_"));
                // `$4` is the folded text, `$7` the text as typed: SQLite's LOWER folds ASCII only,
                // so a non-ASCII word still matches when typed in the same case.
                let folded = query.text.as_deref().map(|t| like(&t.to_lowercase()));
                let typed = query.text.as_deref().map(like);
                let rows = sqlx::query(
                    "SELECT number, id, subject, requester, requester_name, incoming_server_id, grp, category, status, created_at, updated_at FROM tickets \
                     WHERE ($1 IS NULL OR status = $1) AND ($2 IS NULL OR grp = $2) AND ($3 IS NULL OR category = $3) \
                     AND ($4 IS NULL OR LOWER(subject) LIKE $4 ESCAPE '\\' OR subject LIKE $7 ESCAPE '\\' \
                          OR LOWER(requester) LIKE $4 ESCAPE '\\' OR LOWER(requester_name) LIKE $4 ESCAPE '\\' OR requester_name LIKE $7 ESCAPE '\\' \
                          OR EXISTS (SELECT 1 FROM ticket_messages m WHERE m.ticket_number = tickets.number \
                                     AND (LOWER(m.body_text) LIKE $4 ESCAPE '\\' OR m.body_text LIKE $7 ESCAPE '\\'))) \
                     AND ($5 IS NULL OR number < $5) \
                     ORDER BY number DESC LIMIT $6",
                )
                .bind(&query.status)
                .bind(&query.group)
                .bind(&query.category)
                .bind(&folded)
                .bind(query.before)
                .bind(query.limit.clamp(1, 500))
                .bind(&typed)
                .fetch_all(&self.pool)
                .await?;
                rows.iter().map(Self::ticket_row).collect()
            }

            async fn get_ticket(&self, number: i64) -> Result<Option<$crate::TicketRow>, $crate::StoreError> {
                let row = sqlx::query("SELECT number, id, subject, requester, requester_name, incoming_server_id, grp, category, status, created_at, updated_at FROM tickets WHERE number = $1")
                    .bind(number)
                    .fetch_optional(&self.pool)
                    .await?;
                row.as_ref().map(Self::ticket_row).transpose()
            }

            async fn ticket_messages(&self, number: i64) -> Result<Vec<$crate::MessageRow>, $crate::StoreError> {
                let rows = sqlx::query(
                    "SELECT id, ticket_number, direction, kind, message_id, from_address, from_name, recipients, subject, body_text, body_html, problems, reply_to, in_reply_to, reference_ids, bulk, incoming_server_id, created_at \
                     FROM ticket_messages WHERE ticket_number = $1 ORDER BY seq",
                )
                .bind(number)
                .fetch_all(&self.pool)
                .await?;
                let mut messages: Vec<$crate::MessageRow> = rows.iter().map(Self::message_row).collect::<Result<_, _>>()?;
                for m in &mut messages {
                    let rows = sqlx::query(
                        "SELECT id, message_id, position, filename, content_type, size, inline, content_id, raw_offset, raw_length, raw_encoding \
                         FROM attachments WHERE message_id = $1 ORDER BY position",
                    )
                        .bind(m.id.to_string())
                        .fetch_all(&self.pool)
                        .await?;
                    m.attachments = rows.iter().map(|r| Self::attachment_row(r, false)).collect::<Result<_, _>>()?;
                }
                Ok(messages)
            }

            async fn attachment(&self, id: mailgate_domain::Id) -> Result<Option<$crate::AttachmentRow>, $crate::StoreError> {
                use sqlx::Row;
                // A range of the raw message is cut out by the database (offsets fit in 32 bits:
                // messages are at most 1 GiB).
                let row = sqlx::query(
                    "SELECT a.id, a.message_id, a.position, a.filename, a.content_type, a.size, a.inline, a.content_id, a.content, a.raw_offset, a.raw_length, a.raw_encoding, \
                     CASE WHEN a.raw_offset IS NULL THEN NULL ELSE substr(m.raw, CAST(a.raw_offset AS INTEGER) + 1, CAST(a.raw_length AS INTEGER)) END AS raw_part \
                     FROM attachments a JOIN ticket_messages m ON m.id = a.message_id WHERE a.id = $1",
                )
                .bind(id.to_string())
                .fetch_optional(&self.pool)
                .await?;
                let Some(row) = row else { return Ok(None) };
                let mut attachment = Self::attachment_row(&row, true)?;
                if let Some(part) = &attachment.in_raw {
                    attachment.content = $crate::backend::read_raw_part(part, row.try_get("raw_part")?, attachment.size)?;
                }
                Ok(Some(attachment))
            }

            async fn count_messages(&self) -> Result<i64, $crate::StoreError> {
                Ok(sqlx::query_scalar("SELECT COUNT(*) FROM ticket_messages").fetch_one(&self.pool).await?)
            }

            async fn message_raw(&self, id: mailgate_domain::Id) -> Result<Option<Vec<u8>>, $crate::StoreError> {
                Ok(sqlx::query_scalar("SELECT raw FROM ticket_messages WHERE id = $1")
                    .bind(id.to_string())
                    .fetch_optional(&self.pool)
                    .await?)
            }

            async fn insert_event(&self, kind: &str, subject_id: Option<&str>, data: &str, now_ms: i64) -> Result<i64, $crate::StoreError> {
                let id: i64 = sqlx::query_scalar("INSERT INTO events (kind, subject_id, data, created_at) VALUES ($1, $2, $3, $4) RETURNING id")
                    .bind(kind)
                    .bind(subject_id)
                    .bind(data)
                    .bind(now_ms)
                    .fetch_one(&self.pool)
                    .await?;
                Ok(id)
            }

            async fn list_events(&self, after_id: i64, limit: i64) -> Result<Vec<$crate::EventRow>, $crate::StoreError> {
                use sqlx::Row;
                let rows = sqlx::query("SELECT id, kind, subject_id, data, created_at FROM events WHERE id > $1 ORDER BY id LIMIT $2")
                    .bind(after_id)
                    .bind(limit)
                    .fetch_all(&self.pool)
                    .await?;
                rows.iter()
                    .map(|r| {
                        Ok($crate::EventRow {
                            id: r.try_get("id")?,
                            kind: r.try_get("kind")?,
                            subject_id: r.try_get("subject_id")?,
                            data: r.try_get("data")?,
                            created_at_ms: r.try_get("created_at")?,
                        })
                    })
                    .collect()
            }

            async fn enqueue_outgoing(&self, row: &$crate::OutboxRow) -> Result<Option<$crate::OutboxRow>, $crate::StoreError> {
                let mut tx = self.pool.begin().await?;
                let inserted = sqlx::query(
                    "INSERT INTO outbox (id, idempotency_key, request_hash, status, server_id, ticket_number, message_id, draft, attempts, next_attempt_at, created_at, updated_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 0, $9, $10, $10) ON CONFLICT (idempotency_key) DO NOTHING",
                )
                .bind(row.id.to_string())
                .bind(&row.idempotency_key)
                .bind(&row.request_hash)
                .bind(&row.status)
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
                let earlier = sqlx::query($crate::backend::with_columns!("SELECT {} FROM outbox WHERE idempotency_key = $1", OUTBOX_COLUMNS))
                    .bind(&row.idempotency_key)
                    .fetch_one(&mut *tx)
                    .await?;
                tx.commit().await?;
                Self::outbox_row(&earlier).map(Some)
            }

            async fn get_outgoing(&self, id: mailgate_domain::Id) -> Result<Option<$crate::OutboxRow>, $crate::StoreError> {
                let row = sqlx::query($crate::backend::with_columns!("SELECT {} FROM outbox WHERE id = $1", OUTBOX_COLUMNS))
                    .bind(id.to_string())
                    .fetch_optional(&self.pool)
                    .await?;
                row.as_ref().map(Self::outbox_row).transpose()
            }

            async fn outgoing_attempts(&self, id: mailgate_domain::Id) -> Result<Vec<$crate::AttemptRow>, $crate::StoreError> {
                use sqlx::Row;
                let rows = sqlx::query("SELECT round, server_id, server_name, outcome, detail, started_at, finished_at FROM outbox_attempts WHERE outbox_id = $1 ORDER BY seq")
                    .bind(id.to_string())
                    .fetch_all(&self.pool)
                    .await?;
                rows.iter()
                    .map(|r| {
                        let server: Option<String> = r.try_get("server_id")?;
                        Ok($crate::AttemptRow {
                            round: r.try_get("round")?,
                            server_id: server.map(|s| $crate::backend::parse_id("server_id", &s)).transpose()?,
                            server_name: r.try_get("server_name")?,
                            outcome: r.try_get("outcome")?,
                            detail: r.try_get("detail")?,
                            started_at_ms: r.try_get("started_at")?,
                            finished_at_ms: r.try_get("finished_at")?,
                        })
                    })
                    .collect()
            }

            async fn list_outgoing(&self, query: &$crate::OutboxQuery) -> Result<Vec<$crate::OutboxRow>, $crate::StoreError> {
                let rows = sqlx::query($crate::backend::with_columns!(
                    "SELECT {} FROM outbox WHERE ($1 IS NULL OR status = $1) AND ($2 IS NULL OR ticket_number = $2) \
                     AND ($3 IS NULL OR created_at < (SELECT created_at FROM outbox WHERE id = $3) \
                          OR (created_at = (SELECT created_at FROM outbox WHERE id = $3) AND id < $3)) \
                     ORDER BY created_at DESC, id DESC LIMIT $4",
                    OUTBOX_COLUMNS
                ))
                .bind(&query.status)
                .bind(query.ticket_number)
                .bind(query.before.map(|i| i.to_string()))
                .bind(query.limit.clamp(1, 500))
                .fetch_all(&self.pool)
                .await?;
                rows.iter().map(Self::outbox_row).collect()
            }

            async fn claim_outgoing(&self, now_ms: i64, lease_ms: i64, limit: i64) -> Result<Vec<$crate::OutboxRow>, $crate::StoreError> {
                // The outer condition is checked again on each row once it is locked, so two
                // concurrent claims (PostgreSQL) never both take a message.
                let rows = sqlx::query($crate::backend::with_columns!(
                    "UPDATE outbox SET status = 'sending', lease_until = $2, attempts = attempts + 1, updated_at = $1 \
                     WHERE id IN (SELECT id FROM outbox WHERE (status = 'queued' AND next_attempt_at <= $1) OR (status = 'sending' AND lease_until < $1) \
                                  ORDER BY next_attempt_at, created_at LIMIT $3) \
                     AND ((status = 'queued' AND next_attempt_at <= $1) OR (status = 'sending' AND lease_until < $1)) \
                     RETURNING {}",
                    OUTBOX_COLUMNS
                ))
                .bind(now_ms)
                .bind(now_ms.saturating_add(lease_ms))
                .bind(limit)
                .fetch_all(&self.pool)
                .await?;
                let mut claimed: Vec<$crate::OutboxRow> = rows.iter().map(Self::outbox_row).collect::<Result<_, _>>()?;
                claimed.sort_by(|a, b| (a.created_at_ms, a.id.to_string()).cmp(&(b.created_at_ms, b.id.to_string())));
                Ok(claimed)
            }

            async fn requeue_in_flight(&self, now_ms: i64) -> Result<u64, $crate::StoreError> {
                let done = sqlx::query("UPDATE outbox SET status = 'queued', lease_until = NULL, next_attempt_at = $1, updated_at = $1 WHERE status = 'sending'")
                    .bind(now_ms)
                    .execute(&self.pool)
                    .await?;
                Ok(done.rows_affected())
            }

            async fn finish_outgoing(&self, finish: &$crate::OutboxFinish, now_ms: i64) -> Result<bool, $crate::StoreError> {
                let mut tx = self.pool.begin().await?;
                let sent_at = (finish.status == "sent").then_some(now_ms);
                let updated = sqlx::query(
                    "UPDATE outbox SET status = $2, next_attempt_at = $3, lease_until = NULL, sent_server_id = COALESCE($4, sent_server_id), \
                     result = $5, updated_at = $6, sent_at = COALESCE($7, sent_at) WHERE id = $1 AND status = 'sending'",
                )
                .bind(finish.id.to_string())
                .bind(&finish.status)
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
                        "INSERT INTO outbox_attempts (outbox_id, seq, round, server_id, server_name, outcome, detail, started_at, finished_at) \
                         VALUES ($1, (SELECT COALESCE(MAX(seq), 0) + 1 FROM outbox_attempts WHERE outbox_id = $1), $2, $3, $4, $5, $6, $7, $8)",
                    )
                    .bind(finish.id.to_string())
                    .bind(a.round)
                    .bind(a.server_id.map(|i| i.to_string()))
                    .bind(&a.server_name)
                    .bind(&a.outcome)
                    .bind(&a.detail)
                    .bind(a.started_at_ms)
                    .bind(a.finished_at_ms)
                    .execute(&mut *tx)
                    .await?;
                }
                if let Some((kind, data)) = &finish.event {
                    sqlx::query("INSERT INTO events (kind, subject_id, data, created_at) VALUES ($1, $2, $3, $4)")
                        .bind(kind)
                        .bind(finish.id.to_string())
                        .bind(data)
                        .bind(now_ms)
                        .execute(&mut *tx)
                        .await?;
                }
                if let Some(message) = &finish.ticket_message {
                    sqlx::query(
                        "INSERT INTO ticket_messages (id, ticket_number, seq, direction, kind, message_id, from_address, from_name, recipients, subject, body_text, body_html, problems, raw, incoming_server_id, created_at, reply_to, in_reply_to, reference_ids) \
                         VALUES ($1, $2, (SELECT COALESCE(MAX(seq), 0) + 1 FROM ticket_messages WHERE ticket_number = $2), 'out', $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)",
                    )
                    .bind(message.id.to_string())
                    .bind(message.ticket_number)
                    .bind(&message.kind)
                    .bind(&message.message_id)
                    .bind(&message.from_address)
                    .bind(&message.from_name)
                    .bind(&message.recipients)
                    .bind(&message.subject)
                    .bind(&message.body_text)
                    .bind(&message.body_html)
                    .bind(&message.problems)
                    .bind(&message.raw)
                    .bind(message.incoming_server_id.map(|i| i.to_string()))
                    .bind(now_ms)
                    .bind(&message.reply_to)
                    .bind(&message.in_reply_to)
                    .bind(&message.references)
                    .execute(&mut *tx)
                    .await?;
                    sqlx::query("UPDATE tickets SET updated_at = $1 WHERE number = $2").bind(now_ms).bind(message.ticket_number).execute(&mut *tx).await?;
                }
                tx.commit().await?;
                Ok(true)
            }

            async fn hasten_outgoing(&self, scope: &$crate::OutboxRetry, now_ms: i64) -> Result<Vec<mailgate_domain::Id>, $crate::StoreError> {
                use sqlx::Row;
                const SCOPE: &str = "($2 IS NULL OR id = $2) AND ($3 IS NULL OR server_id = $3 OR ($4 AND server_id IS NULL))";
                static QUEUED: std::sync::OnceLock<String> = std::sync::OnceLock::new();
                static FAILED: std::sync::OnceLock<String> = std::sync::OnceLock::new();
                let queued = QUEUED.get_or_init(|| format!(
                    "UPDATE outbox SET next_attempt_at = CASE WHEN next_attempt_at > $1 THEN $1 ELSE next_attempt_at END, updated_at = $1 \
                     WHERE status = 'queued' AND {SCOPE} RETURNING id"));
                let failed = FAILED.get_or_init(|| format!(
                    "UPDATE outbox SET status = 'queued', attempts = 0, next_attempt_at = $1, updated_at = $1 \
                     WHERE status = 'failed' AND {SCOPE} RETURNING id"));
                let mut tx = self.pool.begin().await?;
                let mut ids = Vec::new();
                let statements = if scope.failed { &[queued, failed][..] } else { &[queued][..] };
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
                        ids.push($crate::backend::parse_id("id", &id)?);
                    }
                }
                tx.commit().await?;
                Ok(ids)
            }
        }
    };
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
pub(crate) use sql_store;
pub(crate) use with_columns;
