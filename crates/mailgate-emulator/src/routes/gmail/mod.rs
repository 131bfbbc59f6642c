//! The Gmail API: who is calling (bearer token, project, scopes, userId, rate limit) and
//! `users.getProfile`. Sending lives in `send.rs`.

pub mod send;

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, SecondsFormat};
use serde_json::json;

use super::gmail_error::GmailError;
use super::outage;
use super::params;
use crate::scopes;
use crate::state::Shared;

/// The authenticated user of one Gmail API request.
#[derive(Debug, Clone)]
pub struct Caller {
    pub email: String,
}

/// Runs the checks every Gmail API request goes through, in Google's order: outage, token,
/// API enabled in the project, scope, userId, per-user rate limit.
pub async fn authorize(
    shared: &Shared,
    headers: &HeaderMap,
    user_id: &str,
    accepted_scopes: &[&str],
) -> Result<Caller, GmailError> {
    shared.lock().counters.gmail_requests += 1;
    outage::gmail_gate(shared).await?;
    let now = shared.clock.now();
    let token = params::bearer_token(headers).ok_or_else(GmailError::unauthenticated)?;
    let mut state = shared.lock();
    let access = state
        .valid_access(&token, now)
        .cloned()
        .ok_or_else(GmailError::unauthenticated)?;
    let (project_number, api_enabled) = state.project_of(&access.client_id);
    if !api_enabled {
        return Err(GmailError::access_not_configured(project_number));
    }
    if !scopes::any_of(&access.scopes, accepted_scopes) {
        return Err(GmailError::insufficient_permissions());
    }
    if user_id != "me" && !user_id.eq_ignore_ascii_case(&access.email) {
        return Err(GmailError::delegation_denied(user_id));
    }
    if state.gmail_service_off.contains(&access.email) {
        return Err(GmailError::mail_service_not_enabled());
    }
    if let Some(limit) = state
        .rate_limits
        .get_mut(&access.email.to_ascii_lowercase())
    {
        let window = i64::try_from(limit.limit.per_seconds)
            .unwrap_or(i64::MAX)
            .max(1);
        if now >= limit.window_start.saturating_add(window) {
            limit.window_start = now;
            limit.used = 0;
        }
        if limit.used >= limit.limit.max_requests {
            let retry_at = DateTime::from_timestamp(limit.window_start.saturating_add(window), 0)
                .map(|t| t.to_rfc3339_opts(SecondsFormat::Millis, true))
                .unwrap_or_default();
            return Err(GmailError::rate_limited(&retry_at));
        }
        limit.used += 1;
    }
    Ok(Caller {
        email: access.email,
    })
}

/// `GET /gmail/v1/users/{userId}/profile`.
pub async fn profile(
    State(shared): State<Arc<Shared>>,
    Path(user_id): Path<String>,
    headers: HeaderMap,
) -> Response {
    let caller = match authorize(&shared, &headers, &user_id, scopes::PROFILE_SCOPES).await {
        Ok(caller) => caller,
        Err(e) => return e.into_response(),
    };
    let state = shared.lock();
    let mine: Vec<_> = state
        .sent
        .iter()
        .filter(|m| m.from.eq_ignore_ascii_case(&caller.email))
        .collect();
    let mut threads: Vec<&str> = mine.iter().map(|m| m.thread_id.as_str()).collect();
    threads.sort_unstable();
    threads.dedup();
    Json(json!({
        "emailAddress": caller.email,
        "messagesTotal": mine.len(),
        "threadsTotal": threads.len(),
        // Gmail's historyId is a decimal string that grows with every change.
        "historyId": (1000 + state.history_id).to_string(),
    }))
    .into_response()
}
