//! Routes: one module per resource; the four configuration resources share one shape.

pub mod doctor;
pub mod events;
pub mod health;
pub mod messages;
pub mod oauth;
mod resources;
pub mod tickets;

pub use resources::api_router;

use crate::error::ApiError;
use axum::extract::{FromRequest, Request};
use axum::http::{StatusCode, header};

/// A JSON request body, refused in the error contract when missing, of the wrong type or malformed.
pub struct JsonBody(pub serde_json::Value);

impl<S: Send + Sync> FromRequest<S> for JsonBody {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let content_type = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        if let Some(ct) = &content_type
            && !ct.to_ascii_lowercase().starts_with("application/json")
        {
            return Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                format!("the body is `{ct}`, not JSON"),
            )
            .hint("send the body as JSON with `Content-Type: application/json`"));
        }
        let bytes = bytes::Bytes::from_request(req, state).await.map_err(|e| {
            ApiError::new(StatusCode::BAD_REQUEST, "unreadable_body", e.body_text())
        })?;
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                "body_required",
                "the request has no body",
            )
            .hint("send a JSON object; the API documentation is at /api/openapi.json"));
        }
        serde_json::from_slice(&bytes).map(JsonBody).map_err(|e| {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                "malformed_json",
                format!("the body is not valid JSON: {e}"),
            )
            .hint("check quotes, commas and braces around the position given")
        })
    }
}

pub async fn not_found() -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, "not_found", "no such route")
        .hint("the routes are listed in /api/openapi.json")
}

pub async fn method_not_allowed() -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        "this route does not take that method",
    )
    .hint("the routes and their methods are listed in /api/openapi.json")
}
