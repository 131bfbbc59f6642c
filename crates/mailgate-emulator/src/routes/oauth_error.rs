//! Errors of the OAuth JSON endpoints, in Google's shape:
//! `{"error": "<code>", "error_description": "<text>"}` with Google's status and wording.

use axum::Json;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OAuthError {
    pub status: StatusCode,
    pub error: &'static str,
    pub description: Option<String>,
    /// Google's `error_subtype` (e.g. `invalid_rapt`), shown beside `error` when present.
    pub subtype: Option<&'static str>,
}

/// Google's wording, in one place so tests and handlers agree.
pub mod text {
    pub const CLIENT_NOT_FOUND: &str = "The OAuth client was not found.";
    pub const UNAUTHORIZED: &str = "Unauthorized";
    pub const BAD_REQUEST: &str = "Bad Request";
    pub const EXPIRED_OR_REVOKED: &str = "Token has been expired or revoked.";
    pub const INVALID_JWT_SIGNATURE: &str = "Invalid JWT Signature.";
    pub const ACCOUNT_NOT_FOUND: &str = "Invalid grant: account not found";
    pub const JWT_TIMEFRAME: &str = "Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe. Check your iat and exp values in the JWT claim.";
    pub const UNAUTHORIZED_CLIENT: &str = "Client is unauthorized to retrieve access tokens using this method, or client not authorized for any of the scopes requested.";
    pub const INVALID_PRINCIPAL: &str = "Invalid principal";
    pub const INVALID_SA_SCOPE: &str = "Invalid OAuth scope or ID token audience provided.";
    pub const INVALID_VALUE: &str = "Invalid Value";
    pub const INVALID_CREDENTIALS: &str = "Invalid Credentials";
    pub const REVOKE_INVALID: &str = "Token expired or revoked";
    pub const MISSING_CODE_VERIFIER: &str = "Missing code verifier.";
    pub const NO_CLIENT_ID: &str = "Could not determine client ID from request.";
    pub const NO_CLIENT_SECRET: &str = "client_secret is missing.";
    pub const INVALID_RAPT: &str = "reauth related error (invalid_rapt)";
}

impl OAuthError {
    pub fn new(status: StatusCode, error: &'static str, description: impl Into<String>) -> Self {
        Self {
            status,
            error,
            description: Some(description.into()),
            subtype: None,
        }
    }

    /// A Workspace session-control policy wants the user to sign in again: Google refuses the
    /// refresh with `invalid_grant`, subtype `invalid_rapt`.
    pub fn reauth_required() -> Self {
        Self {
            subtype: Some("invalid_rapt"),
            ..Self::invalid_grant(text::INVALID_RAPT)
        }
    }

    pub fn invalid_request(description: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid_request", description)
    }

    pub fn missing(parameter: &str) -> Self {
        Self::invalid_request(format!("Missing required parameter: {parameter}"))
    }

    pub fn client_not_found() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            text::CLIENT_NOT_FOUND,
        )
    }

    pub fn wrong_client_secret() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            text::UNAUTHORIZED,
        )
    }

    pub fn invalid_grant(description: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid_grant", description)
    }

    pub fn unsupported_grant_type(grant_type: &str) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            format!("Invalid grant_type: {grant_type}"),
        )
    }

    pub fn invalid_scope(description: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid_scope", description)
    }

    /// Domain-wide delegation missing: Google answers 401 here.
    pub fn unauthorized_client() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized_client",
            text::UNAUTHORIZED_CLIENT,
        )
    }

    /// tokeninfo's answer for any unusable token.
    pub fn invalid_token() -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "invalid_token",
            text::INVALID_VALUE,
        )
    }
}

impl IntoResponse for OAuthError {
    fn into_response(self) -> Response {
        let mut body = match self.description {
            Some(description) => json!({"error": self.error, "error_description": description}),
            None => json!({"error": self.error}),
        };
        if let Some(subtype) = self.subtype {
            body["error_subtype"] = json!(subtype);
            body["error_uri"] = json!("https://support.google.com/a/answer/9368756");
        }
        (
            self.status,
            [(
                header::CACHE_CONTROL,
                "no-cache, no-store, max-age=0, must-revalidate",
            )],
            Json(body),
        )
            .into_response()
    }
}

/// A successful OAuth JSON answer; token responses must not be cached.
pub fn ok_json(body: serde_json::Value) -> Response {
    (
        StatusCode::OK,
        [(
            header::CACHE_CONTROL,
            "no-cache, no-store, max-age=0, must-revalidate",
        )],
        Json(body),
    )
        .into_response()
}
