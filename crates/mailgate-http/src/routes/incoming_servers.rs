//! The routes of one incoming server beyond create, read, update and delete (those are in
//! `resources.rs`, in the shape the four configuration resources share): start its OAuth
//! consent, and Test Connection.

use crate::error::{ApiError, ErrorBody};
use crate::extract::Path;
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use mailgate_core::oauth::consent::{self, AuthorizationStart, ServerKind};
use mailgate_core::test_connection::{self, TestReport};

/// Start the consent for an incoming server: answers the provider URL to open as the mailbox.
#[utoipa::path(post, path = "/incoming-servers/{id}/authorize", operation_id = "authorize_incoming_server", tag = "incoming-servers", params(("id" = String, Path)), security(("admin_token" = [])),
    responses((status = 200, body = AuthorizationStart), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn authorize(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<AuthorizationStart>, ApiError> {
    Ok(Json(
        consent::start(&state.core, ServerKind::Incoming, &id).await?,
    ))
}

/// Test Connection: credential, connect with TLS, authenticate, open the folder (IMAP) or STAT
/// (POP3), each step reported, the failing one with its fix.
#[utoipa::path(post, path = "/incoming-servers/{id}/test", operation_id = "test_incoming_server", tag = "incoming-servers", params(("id" = String, Path)), security(("admin_token" = [])),
    responses((status = 200, body = TestReport), (status = 404, body = ErrorBody)))]
pub async fn test(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<TestReport>, ApiError> {
    Ok(Json(
        test_connection::incoming::run(&state.core, &id).await?,
    ))
}
