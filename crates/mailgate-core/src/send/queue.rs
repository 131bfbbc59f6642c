//! Queueing a message (`POST /api/v1/messages`): the request's routing and idempotency key,
//! the draft validated, the Message-ID fixed, and the outbox worker woken.

use super::view::{OutboxView, view};
use crate::Core;
use crate::objects::{ServiceError, parse_body};
use mailgate_domain::mail::compose::{Draft, DraftInput};
use mailgate_domain::outbox::OutboxStatus;
use mailgate_domain::{FieldError, FieldErrors, Id};
use mailgate_store::{ObjectKind, OutboxRow};

/// What queueing did.
#[derive(Debug)]
pub struct Queued {
    pub message: OutboxView,
    /// False when the idempotency key was used before: nothing new was queued.
    pub created: bool,
}

pub(super) fn one(error: FieldError) -> FieldErrors {
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
pub(super) struct Routing {
    pub server_id: Option<Id>,
    pub idempotency_key: Option<String>,
}

/// Takes `server_id` and `idempotency_key` out of a request body; the rest is the draft. The
/// hash identifies the request (`what` it asks, e.g. a reply to which ticket, and its body).
pub(super) fn split_body(
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
pub(super) async fn check_route(core: &Core, server_id: Option<Id>) -> Result<(), ServiceError> {
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

pub(super) async fn enqueue(
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
        status: OutboxStatus::Queued,
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
