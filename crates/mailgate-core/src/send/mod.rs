//! Sending: messages are queued in the outbox (`POST /api/v1/messages`, ticket replies), then
//! the outbox worker delivers them over SMTP or the Gmail API, falling back to the primary
//! server when the chosen one is unavailable, retrying passing failures with backoff.
//!
//! The draft is validated and stored when queued; the message is rendered for the server that
//! sends it (its address and sender name in From), with the Message-ID and Date fixed at
//! queueing so every attempt sends the same message.

pub(crate) mod channel;
pub(crate) mod deliver;
pub(crate) mod pool;
pub mod retry;
mod settled;
mod worker;

pub use pool::SmtpPools;
pub use worker::{Outbox, deliver_due, run};

use crate::Core;
use crate::objects::{Objects, OutgoingServers, ServiceError, parse_body, rfc3339};
use mailgate_domain::mail::compose::{Draft, DraftInput};
use mailgate_domain::{FieldError, FieldErrors, Id};
use mailgate_store::{AttemptRow, MessageRow, ObjectKind, OutboxQuery, OutboxRow};
use serde::Serialize;

/// A queued message as the API shows it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct OutboxView {
    pub id: String,
    /// `queued`, `sending`, `sent`, `failed` or `blocked`.
    pub status: String,
    /// The outgoing server asked for; absent for the primary.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub server_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ticket_number: Option<i64>,
    /// The Message-ID header, with its angle brackets.
    pub message_id: String,
    pub subject: String,
    pub to: Vec<String>,
    pub cc: Vec<String>,
    pub bcc: Vec<String>,
    /// Delivery rounds started.
    pub attempts: i64,
    /// While queued: when the next round starts.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_attempt_at: Option<String>,
    /// The server that sent it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sent_server_id: Option<String>,
    /// The latest outcome: who accepted it, or the error and its fix.
    #[schema(value_type = Object)]
    pub result: serde_json::Value,
    pub created_at: String,
    pub updated_at: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sent_at: Option<String>,
}

/// One server's answer in a delivery round.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AttemptView {
    pub round: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub server_id: Option<String>,
    pub server_name: String,
    /// `sent`, `transient`, `permanent`, `unavailable` or `blocked`.
    pub outcome: String,
    #[schema(value_type = Object)]
    pub detail: serde_json::Value,
    pub started_at: String,
    pub finished_at: String,
}

/// A queued message with every server answer so far (the route taken).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct OutboxDetail {
    #[serde(flatten)]
    pub message: OutboxView,
    pub answers: Vec<AttemptView>,
}

/// What queueing did.
#[derive(Debug)]
pub struct Queued {
    pub message: OutboxView,
    /// False when the idempotency key was used before: nothing new was queued.
    pub created: bool,
}

fn one(error: FieldError) -> FieldErrors {
    let mut errors = FieldErrors::new();
    errors.push(error);
    errors
}

/// The idempotency key names another message.
fn conflict(key: &str) -> ServiceError {
    ServiceError::Invalid(one(FieldError::new(
        "idempotency_key",
        format!("the idempotency key `{key}` was already used for a different message"),
    )
    .with_hint(
        "use a new key for a new message; repeat a key only to retry the same request",
    )))
}

/// The fields of a send request besides the draft.
struct Routing {
    server_id: Option<Id>,
    idempotency_key: Option<String>,
}

/// Takes `server_id` and `idempotency_key` out of a request body; the rest is the draft. The
/// hash identifies the request (`what` it asks, e.g. a reply to which ticket, and its body).
fn split_body(
    what: &str,
    body: serde_json::Value,
    header_key: Option<&str>,
) -> Result<(Routing, serde_json::Value, Vec<u8>), FieldErrors> {
    let mut digest = ring::digest::Context::new(&ring::digest::SHA256);
    digest.update(what.as_bytes());
    digest.update(b"\n");
    digest.update(body.to_string().as_bytes());
    let hash = digest.finish().as_ref().to_vec();
    let serde_json::Value::Object(mut map) = body else {
        return Err(one(
            FieldError::new("body", "the body is not a JSON object")
                .with_hint("send an object such as {\"to\": [\"a@example.com\"], \"subject\": \"Hi\", \"text\": \"...\"}"),
        ));
    };
    let mut errors = FieldErrors::new();
    let server_id =
        match map.remove("server_id") {
            None | Some(serde_json::Value::Null) => None,
            Some(serde_json::Value::String(s)) => errors.collect(Id::parse("server_id", &s)),
            Some(_) => {
                errors.push(FieldError::new("server_id", "expected a string").with_hint(
                    "give the id of an outgoing server, or leave it out for the primary",
                ));
                None
            }
        };
    let body_key = match map.remove("idempotency_key") {
        None | Some(serde_json::Value::Null) => None,
        Some(serde_json::Value::String(s)) => Some(s),
        Some(_) => {
            errors.push(
                FieldError::new("idempotency_key", "expected a string")
                    .with_hint("give a string unique to this message, e.g. your own record's id"),
            );
            None
        }
    };
    let idempotency_key = header_key.map(str::to_owned).or(body_key);
    if let Some(key) = &idempotency_key
        && (key.trim().is_empty() || key.len() > 255 || key.chars().any(char::is_control))
    {
        errors.push(
            FieldError::new(
                "idempotency_key",
                "the idempotency key must be 1 to 255 printable characters",
            )
            .with_hint("use e.g. a UUID or your own record's id"),
        );
    }
    errors.finish(|| ())?;
    Ok((
        Routing {
            server_id,
            idempotency_key,
        },
        serde_json::Value::Object(map),
        hash,
    ))
}

/// Checks that the server asked for is an outgoing server, or that a primary exists.
async fn check_route(core: &Core, server_id: Option<Id>) -> Result<(), ServiceError> {
    match server_id {
        Some(id) => {
            if core
                .store
                .get_object(ObjectKind::OutgoingServer, id)
                .await?
                .is_none()
            {
                return Err(one(FieldError::new(
                    "server_id",
                    format!("no outgoing server has the id {id}"),
                )
                .with_hint("list them with GET /api/v1/outgoing-servers"))
                .into());
            }
        }
        None => {
            let servers = core.store.list_objects(ObjectKind::OutgoingServer).await?;
            if !servers.iter().any(|s| s.is_primary) {
                return Err(one(FieldError::new(
                    "server_id",
                    "no server was named and no outgoing server is primary",
                )
                .with_hint("give `server_id`, or mark an outgoing server `\"primary\": true`"))
                .into());
            }
        }
    }
    Ok(())
}

/// Queues a message (`POST /api/v1/messages`). `header_key` is the `Idempotency-Key` header,
/// which wins over the body's `idempotency_key`.
pub async fn submit(
    core: &Core,
    body: serde_json::Value,
    header_key: Option<&str>,
) -> Result<Queued, ServiceError> {
    let (routing, draft_body, hash) = split_body("message", body, header_key)?;
    let draft = parse_body::<DraftInput>(draft_body)?.parse()?;
    check_route(core, routing.server_id).await?;
    enqueue(core, routing, draft, None, hash).await
}

async fn enqueue(
    core: &Core,
    routing: Routing,
    draft: Draft,
    ticket_number: Option<i64>,
    hash: Vec<u8>,
) -> Result<Queued, ServiceError> {
    let now = core.clock.now_ms();
    let domain = crate::receive::pipeline::message_id_domain(core);
    let message_id = mailgate_domain::mail::new_message_id(&domain)
        .trim_matches(['<', '>'])
        .to_owned();
    let row = OutboxRow {
        id: Id::new(),
        idempotency_key: routing.idempotency_key.clone(),
        request_hash: hash,
        status: "queued".into(),
        server_id: routing.server_id,
        ticket_number,
        message_id,
        draft: serde_json::to_string(&draft)
            .map_err(|e| ServiceError::Store(mailgate_store::StoreError::Corrupt(e.to_string())))?,
        attempts: 0,
        next_attempt_at_ms: now,
        lease_until_ms: None,
        sent_server_id: None,
        result: None,
        created_at_ms: now,
        updated_at_ms: now,
        sent_at_ms: None,
    };
    match core.store.enqueue_outgoing(&row).await? {
        None => {
            core.outbox_wake.notify_one();
            Ok(Queued {
                message: view(&row),
                created: true,
            })
        }
        Some(earlier) if earlier.request_hash == row.request_hash => Ok(Queued {
            message: view(&earlier),
            created: false,
        }),
        Some(_) => Err(conflict(routing.idempotency_key.as_deref().unwrap_or(""))),
    }
}

/// Replies to a ticket (`POST /api/v1/tickets/{n}/reply`), with the ticket's tag in the
/// subject, In-Reply-To and References naming the ticket's messages, and Reply-To the mailbox
/// the ticket came from, so the answer comes back into the same ticket. Sent through the
/// outgoing server of that mailbox unless `server_id` is given.
///
/// Who it goes to, unless the caller gives `to`, `cc` or `bcc` (then exactly those): the
/// Reply-To addresses of the latest incoming message of the ticket written by a person
/// (`normal`, not an auto-reply or bounce) that has a Reply-To, as the customer asked (web
/// forms and no-reply senders rely on it); otherwise the requester. A Reply-To naming the
/// ticket's own mailbox is ignored (it would send the reply back into the ticket), as is one
/// a draft refuses.
pub async fn reply(
    core: &Core,
    ticket_number: i64,
    body: serde_json::Value,
    header_key: Option<&str>,
) -> Result<Queued, ServiceError> {
    let not_found = || ServiceError::NotFound {
        what: "ticket",
        id: ticket_number.to_string(),
    };
    let ticket = core
        .store
        .get_ticket(ticket_number)
        .await?
        .ok_or_else(not_found)?;
    let (mut routing, draft_body, hash) = split_body(
        &format!("reply to ticket {ticket_number}"),
        body,
        header_key,
    )?;
    let mut input: DraftInput = parse_body(draft_body)?;
    let number = u64::try_from(ticket.number).unwrap_or_default();
    let prefix = crate::receive::pipeline::TAG_PREFIX;
    let messages = core.store.ticket_messages(ticket.number).await?;
    let mailbox = match ticket.incoming_server_id {
        Some(server_id) => Objects::<crate::objects::IncomingServers>::load(core, server_id)
            .await
            .ok(),
        None => None,
    };
    if input.to.is_none() && input.cc.is_none() && input.bcc.is_none() {
        let ours = mailbox
            .as_ref()
            .map(|(_, incoming, _)| incoming.email.as_str());
        input.to = Some(match asked_reply_to(&messages, ours) {
            Some(addresses) => addresses,
            None => vec![match &ticket.requester_name {
                Some(name) => format!(
                    "\"{}\" <{}>",
                    name.replace(['"', '\\'], ""),
                    ticket.requester
                ),
                None => ticket.requester.clone(),
            }],
        });
    }
    input.subject = Some(match input.subject.take() {
        // The caller's subject: too long is the caller's error, named `subject`.
        Some(given) => mailgate_domain::mail::tagged_subject(&given, number, prefix),
        // The ticket's, which came in by mail and may be longer than a header allows once
        // tagged: cut to fit rather than refuse a subject the caller never gave.
        None => {
            let tagged = mailgate_domain::mail::tagged_subject(
                &format!("Re: {}", ticket.subject),
                number,
                prefix,
            );
            tagged
                .chars()
                .take(mailgate_domain::mail::compose::MAX_SUBJECT_CHARS)
                .collect()
        }
    });
    let mut draft = input.parse()?;

    let ids: Vec<String> = messages
        .iter()
        .filter_map(|m| m.message_id.clone())
        .collect();
    draft.in_reply_to = messages
        .iter()
        .rev()
        .find(|m| m.direction == "in")
        .and_then(|m| m.message_id.clone())
        .or_else(|| ids.last().cloned());
    // The first message and the latest ones: enough to thread, short enough for any server.
    let mut references: Vec<String> = ids.iter().take(1).cloned().collect();
    let skip = ids.len().saturating_sub(9).max(1);
    references.extend(ids.iter().skip(skip).cloned());
    draft.references = references;

    if let Some((_, incoming, _)) = mailbox {
        if draft.reply_to.is_none() {
            draft.reply_to = Some(mailgate_domain::mail::compose::DraftAddress {
                name: None,
                email: incoming.email.clone(),
            });
        }
        if routing.server_id.is_none() {
            routing.server_id = incoming.outgoing_server_id;
        }
    }
    check_route(core, routing.server_id).await?;
    enqueue(core, routing, draft, Some(ticket.number), hash).await
}

/// The Reply-To addresses of the latest incoming message written by a person that has any
/// (other than `ours`, the ticket's mailbox, and only addresses a draft accepts); `None` when
/// no such message asked for one.
fn asked_reply_to(messages: &[MessageRow], ours: Option<&str>) -> Option<Vec<String>> {
    messages
        .iter()
        .rev()
        .filter(|m| m.direction == "in" && m.kind == "normal")
        .find_map(|m| {
            let addresses: Vec<String> = serde_json::from_str::<Vec<String>>(&m.reply_to)
                .unwrap_or_default()
                .into_iter()
                .filter(|a| !ours.is_some_and(|o| o.eq_ignore_ascii_case(a)))
                // One we could not send to would fail the reply on a field the caller never
                // gave: the requester is better.
                .filter(|a| mailgate_domain::mail::compose::DraftAddress::parse("to", a).is_ok())
                .collect();
            (!addresses.is_empty()).then_some(addresses)
        })
}

/// One queued message with the servers' answers.
pub async fn get(core: &Core, id: &str) -> Result<OutboxDetail, ServiceError> {
    let not_found = || ServiceError::NotFound {
        what: "message",
        id: id.to_owned(),
    };
    let parsed = Id::parse("id", id).map_err(|_| not_found())?;
    let row = core
        .store
        .get_outgoing(parsed)
        .await?
        .ok_or_else(not_found)?;
    let answers = core.store.outgoing_attempts(parsed).await?;
    Ok(OutboxDetail {
        message: view(&row),
        answers: answers.iter().map(attempt_view).collect(),
    })
}

/// Queued messages, newest first.
pub async fn list(core: &Core, query: &OutboxQuery) -> Result<Vec<OutboxView>, ServiceError> {
    Ok(core
        .store
        .list_outgoing(query)
        .await?
        .iter()
        .map(view)
        .collect())
}

fn json(text: Option<&str>) -> serde_json::Value {
    text.and_then(|t| serde_json::from_str(t).ok())
        .unwrap_or(serde_json::Value::Null)
}

fn view(row: &OutboxRow) -> OutboxView {
    let draft: Option<Draft> = serde_json::from_str(&row.draft).ok();
    let addresses = |pick: fn(&Draft) -> &Vec<mailgate_domain::mail::compose::DraftAddress>| {
        draft
            .as_ref()
            .map(|d| {
                pick(d)
                    .iter()
                    .map(|m| m.email.as_str().to_owned())
                    .collect()
            })
            .unwrap_or_default()
    };
    OutboxView {
        id: row.id.to_string(),
        status: row.status.clone(),
        server_id: row.server_id.map(|i| i.to_string()),
        ticket_number: row.ticket_number,
        message_id: format!("<{}>", row.message_id),
        subject: draft
            .as_ref()
            .map(|d| d.subject.clone())
            .unwrap_or_default(),
        to: addresses(|d| &d.to),
        cc: addresses(|d| &d.cc),
        bcc: addresses(|d| &d.bcc),
        attempts: row.attempts,
        next_attempt_at: (row.status == "queued").then(|| rfc3339(row.next_attempt_at_ms)),
        sent_server_id: row.sent_server_id.map(|i| i.to_string()),
        result: json(row.result.as_deref()),
        created_at: rfc3339(row.created_at_ms),
        updated_at: rfc3339(row.updated_at_ms),
        sent_at: row.sent_at_ms.map(rfc3339),
    }
}

fn attempt_view(a: &AttemptRow) -> AttemptView {
    AttemptView {
        round: a.round,
        server_id: a.server_id.map(|i| i.to_string()),
        server_name: a.server_name.clone(),
        outcome: a.outcome.clone(),
        detail: json(Some(&a.detail)),
        started_at: rfc3339(a.started_at_ms),
        finished_at: rfc3339(a.finished_at_ms),
    }
}

/// The outgoing servers a message may go through, in order: the one asked for (else the
/// primary), then the primary as the fallback.
pub(crate) async fn route(
    core: &Core,
    asked: Option<Id>,
) -> Result<Vec<deliver::RouteServer>, ServiceError> {
    let all = Objects::<OutgoingServers>::specs(core).await?;
    let primary = all.iter().find(|(row, _)| row.is_primary);
    let first = match asked {
        Some(id) => all.iter().find(|(row, _)| row.id == id).or(primary),
        None => primary,
    };
    let mut route = Vec::new();
    for (row, spec) in first.into_iter().chain(primary) {
        if !route.iter().any(|s: &deliver::RouteServer| s.id == row.id) {
            route.push(deliver::RouteServer {
                id: row.id,
                name: row.name.clone(),
                updated_at_ms: row.updated_at_ms,
                provider: deliver::provider_of(core, spec).await,
                spec: spec.clone(),
            });
        }
    }
    Ok(route)
}

#[cfg(test)]
mod tests {
    use super::asked_reply_to;
    use mailgate_store::MessageRow;

    /// A ticket message: direction, kind and its Reply-To (JSON).
    type Row<'a> = (&'a str, &'a str, &'a str);

    fn message(direction: &str, kind: &str, reply_to: &str) -> MessageRow {
        MessageRow {
            id: mailgate_domain::Id::new(),
            ticket_number: 1,
            direction: direction.into(),
            kind: kind.into(),
            message_id: None,
            from_address: None,
            from_name: None,
            recipients: "{}".into(),
            subject: String::new(),
            body_text: String::new(),
            body_html: None,
            problems: "[]".into(),
            reply_to: reply_to.into(),
            in_reply_to: "[]".into(),
            references: "[]".into(),
            bulk: false,
            raw: Vec::new(),
            incoming_server_id: None,
            created_at_ms: 0,
            attachments: Vec::new(),
        }
    }

    /// The latest message a person wrote that has a usable Reply-To decides; auto-replies, our
    /// own replies, our own mailbox and addresses a draft refuses do not.
    #[test]
    fn the_reply_to_asked_for() {
        let ours = Some("support@example.com");
        let cases: &[(&[Row<'_>], Option<&[&str]>)] = &[
            (&[("in", "normal", "[]")], None),
            (
                &[("in", "normal", r#"["a@example.org"]"#)],
                Some(&["a@example.org"]),
            ),
            (
                &[
                    ("in", "normal", r#"["a@example.org"]"#),
                    ("in", "normal", "[]"),
                    ("in", "auto_reply", r#"["noreply@example.org"]"#),
                    ("out", "normal", r#"["support@example.com"]"#),
                ],
                Some(&["a@example.org"]),
            ),
            (
                &[
                    ("in", "normal", r#"["a@example.org"]"#),
                    ("in", "normal", r#"["b@example.org","c@example.org"]"#),
                ],
                Some(&["b@example.org", "c@example.org"]),
            ),
            (&[("in", "normal", r#"["SUPPORT@example.com"]"#)], None),
            (&[("in", "normal", r#"["not an address"]"#)], None),
            (&[("in", "normal", "not json")], None),
        ];
        for (messages, want) in cases {
            let rows: Vec<MessageRow> = messages.iter().map(|(d, k, r)| message(d, k, r)).collect();
            let got = asked_reply_to(&rows, ours);
            let want = want.map(|w| w.iter().map(|a| a.to_string()).collect::<Vec<_>>());
            assert_eq!(got, want, "{messages:?}");
        }
    }
}
