//! `/admin/*`: the HTTP twin of [`Control`], for callers in another process (the demo, shell
//! scripts). Bodies are JSON; errors are `{"error", "message"}` with status 400.

use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use crate::control::{Control, ControlError};
use crate::state::Shared;
use crate::types::{
    ClientRegistration, Decision, DelegationGrant, MintAccessToken, MintRefreshToken, Outage,
    RateLimit, ServiceAccountRegistration,
};

type AdminResult = Result<Response, AdminError>;

#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    #[error("malformed JSON body: {0}")]
    Json(#[from] serde_json::Error),
    #[error(transparent)]
    Control(#[from] ControlError),
}

impl IntoResponse for AdminError {
    fn into_response(self) -> Response {
        let code = match self {
            Self::Json(_) => "malformed_json",
            Self::Control(_) => "bad_request",
        };
        (
            StatusCode::BAD_REQUEST,
            Json(json!({"error": code, "message": self.to_string()})),
        )
            .into_response()
    }
}

fn parse<T: DeserializeOwned>(body: &[u8]) -> Result<T, AdminError> {
    Ok(serde_json::from_slice(body)?)
}

fn control(shared: Arc<Shared>) -> Control {
    Control::new(shared)
}

fn ok(value: Value) -> AdminResult {
    Ok(Json(value).into_response())
}

pub async fn register_client(State(shared): State<Arc<Shared>>, body: Bytes) -> AdminResult {
    let client: ClientRegistration = parse(&body)?;
    let client_id = client.client_id.clone();
    control(shared).register_client(client);
    ok(json!({"client_id": client_id}))
}

/// Answers with the Google JSON key file when a private key was given.
pub async fn register_service_account(
    State(shared): State<Arc<Shared>>,
    body: Bytes,
) -> AdminResult {
    let registration: ServiceAccountRegistration = parse(&body)?;
    let control = control(shared);
    let key_json = match &registration.private_key_pem {
        Some(pem) => Some(control.service_account_key_json(
            pem,
            &registration.client_email,
            &registration.client_id,
        )?),
        None => None,
    };
    let client_email = registration.client_email.clone();
    control.register_service_account(registration)?;
    ok(json!({"client_email": client_email, "key_json": key_json}))
}

pub async fn grant_delegation(State(shared): State<Arc<Shared>>, body: Bytes) -> AdminResult {
    let grant: DelegationGrant = parse(&body)?;
    control(shared).grant_delegation(grant);
    ok(json!({}))
}

#[derive(Debug, Deserialize)]
struct EmailBody {
    email: String,
    #[serde(default = "yes")]
    refresh_tokens: bool,
}

fn yes() -> bool {
    true
}

pub async fn add_user(State(shared): State<Arc<Shared>>, body: Bytes) -> AdminResult {
    let EmailBody { email, .. } = parse(&body)?;
    control(shared).add_user(&email);
    ok(json!({}))
}

pub async fn mint_access_token(State(shared): State<Arc<Shared>>, body: Bytes) -> AdminResult {
    let mint: MintAccessToken = parse(&body)?;
    let control = control(shared);
    let minted = control.mint_access_token(mint)?;
    let expires_in = minted.expires_at - control.now();
    let mut value = serde_json::to_value(&minted)?;
    value["expires_in"] = json!(expires_in);
    ok(value)
}

pub async fn mint_refresh_token(State(shared): State<Arc<Shared>>, body: Bytes) -> AdminResult {
    let mint: MintRefreshToken = parse(&body)?;
    let refresh_token = control(shared).mint_refresh_token(mint)?;
    ok(json!({"refresh_token": refresh_token}))
}

#[derive(Debug, Deserialize)]
struct TokenBody {
    token: String,
}

pub async fn revoke(State(shared): State<Arc<Shared>>, body: Bytes) -> AdminResult {
    let TokenBody { token } = parse(&body)?;
    ok(json!({"revoked": control(shared).revoke(&token)}))
}

/// `{"email", "refresh_tokens": true}`: with `refresh_tokens: false` only access tokens expire.
pub async fn expire(State(shared): State<Arc<Shared>>, body: Bytes) -> AdminResult {
    let EmailBody {
        email,
        refresh_tokens,
    } = parse(&body)?;
    let control = control(shared);
    let expired = if refresh_tokens {
        control.expire_tokens(&email)
    } else {
        control.expire_access_tokens(&email)
    };
    ok(json!({"expired": expired}))
}

pub async fn oauth_outage(State(shared): State<Arc<Shared>>, body: Bytes) -> AdminResult {
    let outage: Outage = parse(&body)?;
    control(shared).set_oauth_outage(outage);
    ok(json!(outage))
}

pub async fn gmail_outage(State(shared): State<Arc<Shared>>, body: Bytes) -> AdminResult {
    let outage: Outage = parse(&body)?;
    control(shared).set_gmail_outage(outage);
    ok(json!(outage))
}

#[derive(Debug, Deserialize)]
struct RateLimitBody {
    email: String,
    /// Absent or null: remove the limit.
    #[serde(default)]
    max_requests: Option<u32>,
    #[serde(default = "one")]
    per_seconds: u64,
}

fn one() -> u64 {
    1
}

pub async fn gmail_rate_limit(State(shared): State<Arc<Shared>>, body: Bytes) -> AdminResult {
    let request: RateLimitBody = parse(&body)?;
    let limit = request.max_requests.map(|max_requests| RateLimit {
        max_requests,
        per_seconds: request.per_seconds,
    });
    control(shared).set_gmail_rate_limit(&request.email, limit);
    ok(json!({}))
}

#[derive(Debug, Deserialize)]
struct ConsentBody {
    email: String,
    decision: Decision,
    /// Scopes the user unticks (granular consent).
    #[serde(default)]
    declined: Vec<String>,
}

pub async fn script_consent(State(shared): State<Arc<Shared>>, body: Bytes) -> AdminResult {
    let ConsentBody {
        email,
        decision,
        declined,
    } = parse(&body)?;
    let declined: Vec<&str> = declined.iter().map(String::as_str).collect();
    control(shared).script_partial_consent(&email, decision, &declined);
    ok(json!({}))
}

#[derive(Debug, Deserialize)]
struct AdvanceBody {
    secs: i64,
}

pub async fn advance_clock(State(shared): State<Arc<Shared>>, body: Bytes) -> AdminResult {
    let AdvanceBody { secs } = parse(&body)?;
    let control = control(shared);
    let now = control.advance_clock(secs);
    ok(json!({"now": now, "offset": control.clock().offset()}))
}

pub async fn clock(State(shared): State<Arc<Shared>>) -> AdminResult {
    ok(json!({"now": shared.clock.now(), "offset": shared.clock.offset()}))
}

pub async fn counters(State(shared): State<Arc<Shared>>) -> AdminResult {
    ok(serde_json::to_value(control(shared).counters())?)
}

pub async fn reset_counters(State(shared): State<Arc<Shared>>) -> AdminResult {
    control(shared).reset_counters();
    ok(json!({}))
}

pub async fn sent(State(shared): State<Arc<Shared>>) -> AdminResult {
    ok(serde_json::to_value(control(shared).sent_messages())?)
}

pub async fn state(State(shared): State<Arc<Shared>>) -> AdminResult {
    ok(control(shared).state())
}
