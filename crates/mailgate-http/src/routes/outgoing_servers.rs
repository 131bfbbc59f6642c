//! The routes of one outgoing server beyond create, read, update and delete (those are in
//! `resources.rs`, in the shape the four configuration resources share): start its OAuth
//! consent, and Test Connection.

use crate::error::{ApiError, ErrorBody};
use crate::extract::Path;
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use mailgate_core::oauth::consent::{self, AuthorizationStart, ServerKind};
use mailgate_core::test_connection::{self, TestReport};

/// Start the consent for an outgoing server: answers the provider URL to open as the mailbox.
#[utoipa::path(post, path = "/outgoing-servers/{id}/authorize", operation_id = "authorize_outgoing_server", tag = "outgoing-servers", params(("id" = String, Path)), security(("admin_token" = [])),
    responses((status = 200, body = AuthorizationStart), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn authorize(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<AuthorizationStart>, ApiError> {
    Ok(Json(
        consent::start(&state.core, ServerKind::Outgoing, &id).await?,
    ))
}

/// Test Connection: credential, connect with TLS, EHLO and authenticate (SMTP), or a profile
/// call (Gmail API), each step reported, the failing one with its fix. Nothing is sent.
#[utoipa::path(post, path = "/outgoing-servers/{id}/test", operation_id = "test_outgoing_server", tag = "outgoing-servers", params(("id" = String, Path)), security(("admin_token" = [])),
    responses((status = 200, body = TestReport), (status = 404, body = ErrorBody)))]
pub async fn test(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<TestReport>, ApiError> {
    Ok(Json(
        test_connection::outgoing::run(&state.core, &id).await?,
    ))
}
