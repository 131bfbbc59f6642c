//! Injected outages: wait the configured delay, then fail with the configured status.

use std::time::Duration;

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use super::gmail_error::GmailError;
use super::oauth_error::OAuthError;
use crate::state::Shared;
use crate::types::Outage;

/// Applies the OAuth outage. `Err` carries the failure answer.
pub async fn oauth_gate(shared: &Shared) -> Result<(), Response> {
    let outage = shared.lock().oauth_outage;
    fail_oauth(outage).await
}

/// Applies the token endpoint outage of one client (see `Control::set_client_token_outage`).
pub async fn client_token_gate(shared: &Shared, client_id: Option<&str>) -> Result<(), Response> {
    let outage = client_id
        .and_then(|id| shared.lock().client_token_outages.get(id).copied())
        .unwrap_or(Outage::NONE);
    fail_oauth(outage).await
}

async fn fail_oauth(outage: Outage) -> Result<(), Response> {
    match wait(outage).await {
        None => Ok(()),
        Some(status) => {
            let error = match status {
                503 => OAuthError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "temporarily_unavailable",
                    "The service is currently unavailable.",
                ),
                _ => OAuthError::new(
                    StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
                    "internal_failure",
                    "Backend Error",
                ),
            };
            Err(error.into_response())
        }
    }
}

/// Applies the Gmail API outage.
pub async fn gmail_gate(shared: &Shared) -> Result<(), GmailError> {
    let outage = shared.lock().gmail_outage;
    match wait(outage).await {
        None => Ok(()),
        Some(status) => Err(GmailError::injected(status)),
    }
}

/// Sleeps the delay (outside the state lock) and returns the status to fail with, if any.
async fn wait(outage: Outage) -> Option<u16> {
    if outage.delay_ms > 0 {
        tokio::time::sleep(Duration::from_millis(outage.delay_ms)).await;
    }
    (outage.status != 0).then_some(outage.status)
}
