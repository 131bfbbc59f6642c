//! Routes: one module per resource; the four configuration resources share one shape.

pub mod doctor;
pub mod events;
pub mod health;
pub mod incoming_servers;
pub mod messages;
pub mod oauth;
pub mod outgoing_servers;
mod resources;
pub mod tickets;

pub use resources::api_router;

use crate::error::ApiError;
use axum::extract::{FromRequest, Request};
use axum::http::{StatusCode, header};

/// The largest JSON body of most routes (axum's default).
pub const BODY_MAX_BYTES: usize = 2 * 1024 * 1024;
/// The largest JSON body of the routes that take a message (`POST /api/v1/messages`,
/// `POST /api/v1/tickets/{n}/reply`): 40 MiB, room for the 25 MiB of content a message may
/// have ([`MAX_CONTENT_BYTES`](mailgate_domain::mail::compose::MAX_CONTENT_BYTES)) once in
/// base64 (a third larger) and JSON.
pub const MESSAGE_BODY_MAX_BYTES: usize = 40 * 1024 * 1024;

/// A JSON request body of at most `MAX` bytes, refused in the error contract when missing,
/// too large (413 naming the limit), of the wrong type or malformed.
pub struct JsonBody<const MAX: usize = BODY_MAX_BYTES>(pub serde_json::Value);

/// The 413 for a body over `max` bytes.
fn too_large(max: usize) -> ApiError {
    let mib = max / (1024 * 1024);
    ApiError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        "body_too_large",
        format!("the request body is larger than this route accepts ({mib} MiB, {max} bytes)"),
    )
    .hint(if max >= MESSAGE_BODY_MAX_BYTES {
        "a message's text and attachments may come to 25 MiB (before base64); send larger files as links"
    } else {
        "send a smaller body"
    })
}

impl<S: Send + Sync, const MAX: usize> FromRequest<S> for JsonBody<MAX> {
    type Rejection = ApiError;

    async fn from_request(req: Request, _state: &S) -> Result<Self, ApiError> {
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
        let declared = req
            .headers()
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        if declared.is_some_and(|n| n > MAX as u64) {
            return Err(too_large(MAX));
        }
        let bytes = read_at_most(req, MAX).await?;
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

/// The body, refused once it passes `max` bytes. (Read here rather than through `Bytes`, whose
/// limit is axum's 2 MB default, and whose error does not name the limit.)
async fn read_at_most(req: Request, max: usize) -> Result<Vec<u8>, ApiError> {
    use axum::body::HttpBody as _;
    let mut body = req.into_body();
    let mut bytes = Vec::new();
    while let Some(frame) =
        std::future::poll_fn(|cx| std::pin::Pin::new(&mut body).poll_frame(cx)).await
    {
        let frame = frame.map_err(|e| {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                "unreadable_body",
                format!("the request body could not be read: {e}"),
            )
        })?;
        if let Ok(data) = frame.into_data() {
            if bytes.len() + data.len() > max {
                return Err(too_large(max));
            }
            bytes.extend_from_slice(&data);
        }
    }
    Ok(bytes)
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
