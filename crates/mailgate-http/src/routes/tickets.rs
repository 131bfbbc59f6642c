//! Tickets and their attachments.

use crate::error::{ApiError, ErrorBody};
use crate::extract::{Path, Query};
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use mailgate_core::tickets::{TicketDetail, TicketView};

#[derive(serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TicketsQuery {
    /// `open`, ...
    status: Option<String>,
    group: Option<String>,
    category: Option<String>,
    /// Words in the subject or the requester's address.
    q: Option<String>,
    /// Tickets with a number below this (the next page after the last number you saw).
    before: Option<i64>,
    /// At most this many (1 to 500, default 50).
    limit: Option<i64>,
}

/// Tickets, newest first.
#[utoipa::path(get, path = "/tickets", operation_id = "list_tickets", tag = "tickets", params(TicketsQuery), security(("admin_token" = [])),
    responses((status = 200, body = Vec<TicketView>), (status = 400, body = ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    Query(q): Query<TicketsQuery>,
) -> Result<Json<Vec<TicketView>>, ApiError> {
    let query = mailgate_store::TicketQuery {
        status: q.status,
        group: q.group,
        category: q.category,
        text: q.q.filter(|t| !t.trim().is_empty()),
        before: q.before,
        limit: q.limit.unwrap_or(50),
    };
    Ok(Json(
        mailgate_core::tickets::list(&state.core, &query)
            .await
            .map_err(ApiError::internal)?,
    ))
}

/// One ticket with its messages (oldest first) and attachment links.
#[utoipa::path(get, path = "/tickets/{number}", operation_id = "get_ticket", tag = "tickets", params(("number" = i64, Path)), security(("admin_token" = [])),
    responses((status = 200, body = TicketDetail), (status = 404, body = ErrorBody)))]
pub async fn get(
    State(state): State<AppState>,
    Path(number): Path<String>,
) -> Result<Json<TicketDetail>, ApiError> {
    let not_found = || {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("no ticket has the number {number}"),
        )
        .hint("list tickets with GET /api/v1/tickets")
    };
    let n: i64 = number
        .trim_start_matches('#')
        .parse()
        .map_err(|_| not_found())?;
    mailgate_core::tickets::get(&state.core, n)
        .await
        .map_err(ApiError::internal)?
        .map(Json)
        .ok_or_else(not_found)
}

/// An attachment's content.
#[utoipa::path(get, path = "/attachments/{id}", operation_id = "get_attachment", tag = "tickets", params(("id" = String, Path)), security(("admin_token" = [])),
    responses((status = 200, description = "the attachment's bytes"), (status = 404, body = ErrorBody)))]
pub async fn attachment(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let not_found = || {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("no attachment has the id {id}"),
        )
        .hint("attachment links are in GET /api/v1/tickets/{number}")
    };
    let parsed = mailgate_domain::Id::parse("id", &id).map_err(|_| not_found())?;
    let a = state
        .core
        .store
        .attachment(parsed)
        .await
        .map_err(ApiError::internal)?
        .ok_or_else(not_found)?;
    // The name was sanitised on import; quotes and non-ASCII are still kept out of the header.
    let ascii: String = a
        .filename
        .chars()
        .map(|c| {
            if c.is_ascii_graphic() && c != '"' && c != '\\' || c == ' ' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let content_type = if a
        .content_type
        .chars()
        .all(|c| c.is_ascii_graphic() || c == ' ')
    {
        a.content_type
    } else {
        "application/octet-stream".into()
    };
    Ok((
        [
            (header::CONTENT_TYPE, content_type),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{ascii}\""),
            ),
            (
                header::HeaderName::from_static("x-content-type-options"),
                "nosniff".into(),
            ),
        ],
        a.content,
    )
        .into_response())
}
