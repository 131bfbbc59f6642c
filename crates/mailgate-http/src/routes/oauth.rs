//! The browser's side of the consent flow: `/oauth/start` sends it to the provider, which
//! sends it back to `/oauth/callback`. The admin API starts the flow per server
//! (`incoming_servers.rs`, `outgoing_servers.rs`).

use crate::extract::Query;
use crate::pages;
use crate::state::AppState;
use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use mailgate_core::oauth::consent::{self, CallbackOutcome, CallbackParams};

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
