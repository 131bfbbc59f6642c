//! The consent flow: the admin API starts it, the browser comes back to `/oauth/callback`.

use crate::error::{ApiError, ErrorBody};
use crate::extract::{Path, Query};
use crate::pages;
use crate::startup::AppState;
use axum::Json;
use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use mailgate_core::oauth::consent::{
    self, AuthorizationStart, CallbackOutcome, CallbackParams, ServerKind,
};

/// Start the consent for an incoming server: answers the provider URL to open as the mailbox.
#[utoipa::path(post, path = "/incoming-servers/{id}/authorize", operation_id = "authorize_incoming_server", tag = "incoming-servers", params(("id" = String, Path)), security(("admin_token" = [])),
    responses((status = 200, body = AuthorizationStart), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn authorize_incoming(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<AuthorizationStart>, ApiError> {
    Ok(Json(
        consent::start(&state.core, ServerKind::Incoming, &id).await?,
    ))
}

/// Start the consent for an outgoing server: answers the provider URL to open as the mailbox.
#[utoipa::path(post, path = "/outgoing-servers/{id}/authorize", operation_id = "authorize_outgoing_server", tag = "outgoing-servers", params(("id" = String, Path)), security(("admin_token" = [])),
    responses((status = 200, body = AuthorizationStart), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn authorize_outgoing(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<AuthorizationStart>, ApiError> {
    Ok(Json(
        consent::start(&state.core, ServerKind::Outgoing, &id).await?,
    ))
}

#[derive(serde::Deserialize)]
pub struct StartQuery {
    state: Option<String>,
}

/// `start_url`: redirects the browser to the provider while the state is fresh and unused.
pub async fn start(State(state): State<AppState>, Query(query): Query<StartQuery>) -> Response {
    match consent::start_redirect(&state.core, query.state.as_deref().unwrap_or_default()).await {
        Ok(url) => Redirect::to(&url).into_response(),
        Err(d) => pages::failed(None, &d),
    }
}

/// The redirect URI: the provider sends the browser back here with a code (or an error).
pub async fn callback(
    State(state): State<AppState>,
    Query(params): Query<CallbackParams>,
) -> Response {
    match consent::callback(&state.core, params).await {
        CallbackOutcome::Connected {
            server_name,
            mailbox,
            granted_scope,
        } => pages::connected(&server_name, &mailbox, &granted_scope),
        CallbackOutcome::Failed {
            server_name,
            diagnosis,
        } => {
            // A server's name may be a person's address: debug only.
            tracing::warn!(code = diagnosis.code.as_str(), "consent failed");
            tracing::debug!(
                server = server_name.as_deref().unwrap_or_default(),
                "consent failed"
            );
            pages::failed(server_name.as_deref(), &diagnosis)
        }
    }
}

/// Test Connection: credential, connect with TLS, authenticate, open the folder (IMAP) or STAT
/// (POP3), each step reported, the failing one with its fix.
#[utoipa::path(post, path = "/incoming-servers/{id}/test", operation_id = "test_incoming_server", tag = "incoming-servers", params(("id" = String, Path)), security(("admin_token" = [])),
    responses((status = 200, body = mailgate_core::receive::test_connection::TestReport), (status = 404, body = ErrorBody)))]
pub async fn test_incoming(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<mailgate_core::receive::test_connection::TestReport>, ApiError> {
    Ok(Json(
        mailgate_core::receive::test_connection::run(&state.core, &id).await?,
    ))
}
