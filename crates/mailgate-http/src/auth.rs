//! Every `/api/v1` route, and `/metrics` unless `server.metrics_public`, requires
//! `Authorization: Bearer <admin token>`; checked before routing decides anything else, so a
//! caller without a token learns nothing about the routes (not even a 404 or 405).

use crate::error::ApiError;
use crate::state::AppState;
use axum::extract::{Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

const HINT: &str = "create a token with `mailgate admin token create` and send it as `Authorization: Bearer <token>`";

/// Whether `path` needs an admin token.
fn protected(state: &AppState, path: &str) -> bool {
    path == "/api/v1"
        || path.starts_with("/api/v1/")
        || (path == "/metrics" && !state.core.settings.http.metrics_public)
}

pub async fn require_admin(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    if !protected(&state, request.uri().path()) {
        return next.run(request).await;
    }
    let presented = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .map(str::trim);
    let token = match presented {
        None => return unauthorized("this API needs an admin token"),
        Some(value) => match value.split_once(' ') {
            Some((scheme, token)) if scheme.eq_ignore_ascii_case("bearer") => token.trim(),
            _ => return unauthorized("the Authorization header is not `Bearer <token>`"),
        },
    };
    match mailgate_core::admin::authenticate(state.core.store.as_ref(), token).await {
        Ok(Some(_)) => next.run(request).await,
        Ok(None) => unauthorized("the admin token is not valid"),
        Err(e) => ApiError::internal(e).into_response(),
    }
}

fn unauthorized(message: &str) -> Response {
    let mut response = ApiError::new(StatusCode::UNAUTHORIZED, "unauthorized", message)
        .hint(HINT)
        .into_response();
    response.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        header::HeaderValue::from_static("Bearer"),
    );
    response
}
