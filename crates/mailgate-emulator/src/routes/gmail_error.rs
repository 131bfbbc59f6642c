//! Errors of the Gmail API, in Google's shape:
//! `{"error": {"code", "message", "errors": [{"message", "domain", "reason"}], "status"}}`.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GmailError {
    pub code: u16,
    pub message: String,
    /// The gRPC-style status (`PERMISSION_DENIED`, ...).
    pub status: &'static str,
    pub reason: &'static str,
    pub domain: &'static str,
    /// What `errors[0].message` says when it differs from the top-level message.
    pub detail: Option<String>,
}

impl GmailError {
    fn new(
        code: u16,
        status: &'static str,
        reason: &'static str,
        message: impl Into<String>,
    ) -> Self {
        Self {
            code,
            message: message.into(),
            status,
            reason,
            domain: "global",
            detail: None,
        }
    }

    pub fn unauthenticated() -> Self {
        let mut e = Self::new(
            401,
            "UNAUTHENTICATED",
            "authError",
            "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential. See https://developers.google.com/identity/sign-in/web/devconsole-project.",
        );
        e.detail = Some("Invalid Credentials".to_owned());
        e
    }

    pub fn access_not_configured(project_number: u64) -> Self {
        let mut e = Self::new(
            403,
            "PERMISSION_DENIED",
            "accessNotConfigured",
            format!(
                "Gmail API has not been used in project {project_number} before or it is disabled. Enable it by visiting https://console.developers.google.com/apis/api/gmail.googleapis.com/overview?project={project_number} then retry. If you enabled this API recently, wait a few minutes for the action to propagate to our systems and retry."
            ),
        );
        e.domain = "usageLimits";
        e
    }

    pub fn insufficient_permissions() -> Self {
        let mut e = Self::new(
            403,
            "PERMISSION_DENIED",
            "insufficientPermissions",
            "Request had insufficient authentication scopes.",
        );
        e.detail = Some("Insufficient Permission".to_owned());
        e
    }

    /// The userId names someone other than the token's user.
    pub fn delegation_denied(user_id: &str) -> Self {
        Self::new(
            403,
            "PERMISSION_DENIED",
            "forbidden",
            format!("Delegation denied for {user_id}"),
        )
    }

    /// The account has no Gmail (a Workspace user without the Gmail service or licence).
    pub fn mail_service_not_enabled() -> Self {
        Self::new(
            400,
            "FAILED_PRECONDITION",
            "failedPrecondition",
            "Mail service not enabled",
        )
    }

    pub fn invalid_argument(message: impl Into<String>) -> Self {
        Self::new(400, "INVALID_ARGUMENT", "invalidArgument", message)
    }

    pub fn bad_content(message: impl Into<String>) -> Self {
        Self::new(400, "INVALID_ARGUMENT", "badContent", message)
    }

    pub fn rate_limited(retry_after: &str) -> Self {
        let mut e = Self::new(
            429,
            "RESOURCE_EXHAUSTED",
            "rateLimitExceeded",
            format!("User-rate limit exceeded.  Retry after {retry_after}"),
        );
        e.domain = "usageLimits";
        e
    }

    pub fn unavailable() -> Self {
        Self::new(
            503,
            "UNAVAILABLE",
            "backendError",
            "The service is currently unavailable.",
        )
    }

    pub fn internal() -> Self {
        Self::new(
            500,
            "INTERNAL",
            "backendError",
            "Internal error encountered.",
        )
    }

    /// An injected failure with an arbitrary status.
    pub fn injected(status: u16) -> Self {
        match status {
            503 => Self::unavailable(),
            429 => Self::rate_limited("a while"),
            500 => Self::internal(),
            other => Self::new(other, "UNKNOWN", "backendError", "Injected failure."),
        }
    }
}

impl IntoResponse for GmailError {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let body = json!({
            "error": {
                "code": self.code,
                "message": self.message,
                "errors": [{
                    "message": self.detail.as_deref().unwrap_or(&self.message),
                    "domain": self.domain,
                    "reason": self.reason,
                }],
                "status": self.status,
            }
        });
        let mut response = (status, Json(body)).into_response();
        if self.code == 401 {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static(
                    "Bearer realm=\"https://accounts.google.com/\", error=\"invalid_token\"",
                ),
            );
        }
        response
    }
}
