//! The outbox: queue a message, follow its delivery, reply to a ticket.

use super::JsonBody;
use crate::error::{ApiError, ErrorBody};
use crate::extract::{Path, Query};
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use mailgate_core::send::{self, OutboxDetail, OutboxView, Queued};

/// The `Idempotency-Key` header, when given.
fn idempotency_key(headers: &HeaderMap) -> Result<Option<&str>, ApiError> {
    headers
        .get("idempotency-key")
        .map(|v| {
            v.to_str().map_err(|_| {
                ApiError::new(
                    StatusCode::BAD_REQUEST,
                    "invalid_header",
                    "the Idempotency-Key header is not printable ASCII",
                )
                .hint("use e.g. a UUID or your own record's id")
            })
        })
        .transpose()
}

/// 202 with the queued message and its location; a replay of an idempotent request says so.
fn accepted(queued: Queued) -> Response {
    let location = format!("/api/v1/messages/{}", queued.message.id);
    let mut response = (StatusCode::ACCEPTED, Json(queued.message)).into_response();
    if let Ok(value) = HeaderValue::from_str(&location) {
        response.headers_mut().insert(header::LOCATION, value);
    }
    if !queued.created {
        response.headers_mut().insert(
            header::HeaderName::from_static("idempotent-replayed"),
            HeaderValue::from_static("true"),
        );
    }
    response
}

/// Queues a message. It is stored before the answer, then sent by the outbox worker: through
/// `server_id` (or the primary), falling back to the primary when that server is unavailable.
/// Follow it with `GET /api/v1/messages/{id}`. Repeating a request with the same
/// `Idempotency-Key` header (or `idempotency_key` field) queues nothing new and answers the
/// first message again.
#[utoipa::path(post, path = "/messages", operation_id = "create_message", tag = "messages", security(("admin_token" = [])),
    request_body(content = mailgate_domain::mail::compose::DraftInput, description = "The message, plus optional `server_id` and `idempotency_key`"),
    responses((status = 202, body = OutboxView), (status = 400, body = ErrorBody), (status = 413, body = ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    headers: HeaderMap,
    JsonBody(body): JsonBody<{ super::MESSAGE_BODY_MAX_BYTES }>,
) -> Result<Response, ApiError> {
    let key = idempotency_key(&headers)?;
    Ok(accepted(send::submit(&state.core, body, key).await?))
}

#[derive(serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct MessagesQuery {
    /// `queued`, `sending`, `sent`, `failed` or `blocked`.
    status: Option<String>,
    /// Replies to this ticket.
    ticket: Option<i64>,
    /// Messages queued before this one (the next page after the last id you saw).
    before: Option<String>,
    /// At most this many (1 to 500, default 50).
    limit: Option<i64>,
}

/// Queued and sent messages, newest first.
#[utoipa::path(get, path = "/messages", operation_id = "list_messages", tag = "messages", params(MessagesQuery), security(("admin_token" = [])),
    responses((status = 200, body = Vec<OutboxView>), (status = 400, body = ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    Query(q): Query<MessagesQuery>,
) -> Result<Json<Vec<OutboxView>>, ApiError> {
    use mailgate_domain::outbox::OutboxStatus;
    let status = match q.status.as_deref() {
        None => None,
        Some(text) => Some(OutboxStatus::parse(text).ok_or_else(|| {
            let all: Vec<&str> = OutboxStatus::ALL.iter().map(|s| s.as_str()).collect();
            ApiError::new(
                StatusCode::BAD_REQUEST,
                "invalid_query",
                format!("`status` is `{text}`"),
            )
            .hint(format!("use one of {}", all.join(", ")))
        })?),
    };
    let before = q
        .before
        .as_deref()
        .map(|b| mailgate_domain::Id::parse("before", b))
        .transpose()
        .map_err(|e| {
            ApiError::new(StatusCode::BAD_REQUEST, "invalid_query", e.message)
                .hint("give the id of a message from the previous page")
        })?;
    let query = mailgate_store::OutboxQuery {
        status,
        ticket_number: q.ticket,
        before,
        limit: q.limit.unwrap_or(50),
    };
    Ok(Json(send::list(&state.core, &query).await?))
}

/// One message: status, attempts, the latest outcome and every server's answer (the route).
#[utoipa::path(get, path = "/messages/{id}", operation_id = "get_message", tag = "messages", params(("id" = String, Path)), security(("admin_token" = [])),
    responses((status = 200, body = OutboxDetail), (status = 404, body = ErrorBody)))]
pub async fn get(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<OutboxDetail>, ApiError> {
    Ok(Json(send::get(&state.core, &id).await?))
}

/// Replies to a ticket: to the customer's Reply-To (of the latest message written by a person
/// that has one), else the requester, unless `to`/`cc`/`bcc` are given; the subject (by
/// default `Re:` the ticket's) carries the ticket tag; In-Reply-To, References and Reply-To are
/// set so the customer's answer comes back into this ticket. Sent through the outgoing server
/// of the ticket's mailbox unless `server_id` is given.
#[utoipa::path(post, path = "/tickets/{number}/reply", operation_id = "reply_to_ticket", tag = "tickets", params(("number" = i64, Path)), security(("admin_token" = [])),
    request_body(content = mailgate_domain::mail::compose::DraftInput, description = "The reply (`text` and/or `html`; `to` defaults to the customer's Reply-To, else the requester), plus optional `server_id` and `idempotency_key`"),
    responses((status = 202, body = OutboxView), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody), (status = 413, body = ErrorBody)))]
pub async fn reply(
    State(state): State<AppState>,
    Path(number): Path<String>,
    headers: HeaderMap,
    JsonBody(body): JsonBody<{ super::MESSAGE_BODY_MAX_BYTES }>,
) -> Result<Response, ApiError> {
    let key = idempotency_key(&headers)?;
    let n: i64 = number.trim_start_matches('#').parse().map_err(|_| {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("no ticket has the number {number}"),
        )
        .hint("list tickets with GET /api/v1/tickets")
    })?;
    Ok(accepted(send::reply(&state.core, n, body, key).await?))
}

/// A retry refused: the message is not queued or failed (409), or unknown (404).
fn retry_error(e: send::retry::RetryError) -> ApiError {
    let hint = e.hint();
    match e {
        send::retry::RetryError::NotRetryable { .. } => {
            ApiError::new(StatusCode::CONFLICT, "not_retryable", e.to_string()).hint(hint)
        }
        send::retry::RetryError::Service(inner) => inner.into(),
    }
}

/// Retry now: a queued message becomes due at once (its attempts kept, so `send.max_attempts`
/// still bounds it); a failed one is queued again with its attempts reset. The outbox worker
/// starts its round now. A message that is sending, sent or blocked answers 409.
#[utoipa::path(post, path = "/outbox/{id}/retry", tag = "messages", params(("id" = String, Path)), security(("admin_token" = [])),
    responses((status = 200, body = send::retry::Retried), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn retry(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<send::retry::Retried>, ApiError> {
    Ok(Json(
        send::retry::one(&state.core, &id)
            .await
            .map_err(retry_error)?,
    ))
}

#[derive(serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RetryQuery {
    /// Only messages asked to go through this outgoing server (and, when it is the primary,
    /// those that named no server).
    server: Option<String>,
    /// Failed messages too: queued again with their attempts reset (default false).
    failed: Option<bool>,
}

/// Retry now, for every queued message (or those of one outgoing server): they become due at
/// once and the outbox worker starts their rounds now. Answers how many were hastened.
#[utoipa::path(post, path = "/outbox/retry", tag = "messages", params(RetryQuery), security(("admin_token" = [])),
    responses((status = 200, body = send::retry::Retried), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn retry_all(
    State(state): State<AppState>,
    Query(q): Query<RetryQuery>,
) -> Result<Json<send::retry::Retried>, ApiError> {
    let retried = send::retry::all(&state.core, q.server.as_deref(), q.failed.unwrap_or(false))
        .await
        .map_err(retry_error)?;
    Ok(Json(retried))
}
