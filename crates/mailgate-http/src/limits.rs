//! Limits every request meets before its route, answered in the error contract: the URI's
//! length (414), the headers' count and size (431) and the time to complete (408).
//! (hyper keeps its own, higher limits: past 64 KiB of URI or 1,000 headers it answers an
//! empty 414/431 itself, before any of this runs.)

use crate::error::ApiError;
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::time::Duration;

/// The longest URI answered (path and query).
pub const MAX_URI_BYTES: usize = 8 * 1024;
/// The most headers a request may have.
pub const MAX_HEADERS: usize = 100;
/// The most bytes of header names and values a request may have.
pub const MAX_HEADER_BYTES: usize = 64 * 1024;

pub async fn sizes(request: Request, next: Next) -> Response {
    let uri = request
        .uri()
        .path_and_query()
        .map_or(0, |pq| pq.as_str().len());
    if uri > MAX_URI_BYTES {
        return ApiError::new(
            StatusCode::URI_TOO_LONG,
            "uri_too_long",
            format!("the URI has {uri} bytes; the most answered is {MAX_URI_BYTES}"),
        )
        .hint("shorten the query; list in pages with `limit` and `before`")
        .into_response();
    }
    let headers = request.headers();
    let bytes: usize = headers
        .iter()
        .map(|(name, value)| name.as_str().len() + value.len())
        .sum();
    if headers.len() > MAX_HEADERS || bytes > MAX_HEADER_BYTES {
        return ApiError::new(
            StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            "headers_too_large",
            format!(
                "the request has {} headers of {bytes} bytes; the most answered are {MAX_HEADERS} headers of {MAX_HEADER_BYTES} bytes",
                headers.len()
            ),
        )
        .hint("send fewer or smaller headers (large cookies are the usual cause)")
        .into_response();
    }
    next.run(request).await
}

/// Answers 408 when a request (reading its body included) takes longer than the limit.
pub async fn timeout(State(limit): State<Duration>, request: Request, next: Next) -> Response {
    match tokio::time::timeout(limit, next.run(request)).await {
        Ok(response) => response,
        Err(_) => ApiError::new(
            StatusCode::REQUEST_TIMEOUT,
            "request_timeout",
            format!("the request did not complete within {} s", limit.as_secs()),
        )
        .hint("send the body faster, or raise server.request_timeout_secs")
        .into_response(),
    }
}
