//! Gmail API errors: `{"error": {"code": 403, "message": "...", "status": "PERMISSION_DENIED",
//! "errors": [{"reason": "accessNotConfigured", ...}], "details": [{"reason": "SERVICE_DISABLED",
//! ...}]}}`. The `reason`s are the most precise signal, then the message, then the HTTP status.

use super::catalog::*;
use super::text::{has, has_any, head, provider_words};
use super::{Diagnosis, ProviderKind, advice, reply, sasl};
use serde_json::Value;

const DELEGATION_CONSOLE: &str = "Google Workspace Admin console > Security > Access and data control > API controls > Domain-wide delegation";

/// What a Gmail API error body says, whatever parts of it are present.
#[derive(Debug, Default)]
struct GoogleError {
    /// `errors[].reason`, `details[].reason`, `status`, or an OAuth-style `error` string.
    reasons: Vec<String>,
    message: String,
}

impl GoogleError {
    fn parse(body: &str) -> Self {
        let Ok(value) = serde_json::from_str::<Value>(body.trim()) else {
            return Self::default();
        };
        let mut out = Self::default();
        match value.get("error") {
            Some(Value::Object(error)) => {
                let mut push = |v: Option<&Value>| {
                    if let Some(Value::String(s)) = v {
                        out.reasons.push(s.clone());
                    }
                };
                push(error.get("status"));
                for list in ["errors", "details"] {
                    if let Some(Value::Array(items)) = error.get(list) {
                        items.iter().for_each(|item| push(item.get("reason")));
                    }
                }
                if let Some(Value::String(m)) = error.get("message") {
                    out.message = m.clone();
                }
            }
            // OAuth-style bodies, e.g. from a proxy or the token layer.
            Some(Value::String(error)) => {
                out.reasons.push(error.clone());
                if let Some(Value::String(d)) = value.get("error_description") {
                    out.message = d.clone();
                }
            }
            _ => {}
        }
        out
    }

    fn has_reason(&self, names: &[&str]) -> bool {
        self.reasons
            .iter()
            .any(|r| names.iter().any(|n| r.eq_ignore_ascii_case(n)))
    }
}

// Google's `reason`s (v1 `errors[]`) and their google.rpc equivalents (`status`, `details[]`).
const DISABLED: &[&str] = &["accessNotConfigured", "SERVICE_DISABLED"];
const SCOPE: &[&str] = &[
    "insufficientPermissions",
    "ACCESS_TOKEN_SCOPE_INSUFFICIENT",
    "insufficient_scope",
];
const PRECONDITION: &[&str] = &["failedPrecondition", "FAILED_PRECONDITION"];
const DAILY: &[&str] = &["dailyLimitExceeded", "quotaExceeded"];
const RATE: &[&str] = &[
    "rateLimitExceeded",
    "userRateLimitExceeded",
    "RESOURCE_EXHAUSTED",
    "RATE_LIMIT_EXCEEDED",
];
const UNAUTHENTICATED: &[&str] = &[
    "UNAUTHENTICATED",
    "authError",
    "invalid_token",
    "ACCESS_TOKEN_EXPIRED",
];
const SERVER: &[&str] = &["backendError", "internalError", "INTERNAL", "UNAVAILABLE"];
const INVALID: &[&str] = &[
    "invalidArgument",
    "INVALID_ARGUMENT",
    "badRequest",
    "invalid",
];
const FORBIDDEN: &[&str] = &["forbidden", "PERMISSION_DENIED"];

/// Diagnoses a Gmail API error from its HTTP status and body; a body that is not Google's JSON
/// is judged by the status alone. Reasons and message phrases come before the HTTP status,
/// because Google answers 403 for most of them.
pub fn gmail_api_error(http_status: u16, body: &str) -> Diagnosis {
    let e = GoogleError::parse(head(body));
    let said = if e.message.trim().is_empty() {
        format!("Google answered HTTP {http_status}.")
    } else {
        format!(
            "Google answered HTTP {http_status}: \"{}\".",
            provider_words(&e.message)
        )
    };
    let msg = e.message.as_str();
    let status = http_status;
    if e.has_reason(DISABLED) || has(msg, "has not been used in project") {
        api_disabled(&said)
    } else if e.has_reason(SCOPE)
        || has_any(
            msg,
            &[
                "insufficient authentication scopes",
                "insufficient permission",
            ],
        )
    {
        scope_insufficient(&said)
    } else if has(msg, "delegation denied") {
        delegation_denied(&said)
    } else if has(msg, "mail service not enabled") {
        service_not_enabled(&said)
    } else if e.has_reason(PRECONDITION) {
        precondition_failed(&said)
    } else if has_any(msg, &["sending limit", "sending quota"]) {
        reply::sending_limit(&said)
    } else if e.has_reason(DAILY) {
        daily_quota(&said)
    } else if status == 429 || e.has_reason(RATE) {
        advice::rate_limited(&said)
    } else if status == 401 || e.has_reason(UNAUTHENTICATED) {
        let d = sasl::token_rejected(ProviderKind::Google);
        Diagnosis {
            message: advice::with_said(&d.message, &said),
            ..d
        }
    } else if status >= 500 || e.has_reason(SERVER) {
        advice::unavailable(ProviderKind::Google, &said)
    } else if status == 413 {
        too_large(&said)
    } else if status == 400 || e.has_reason(INVALID) {
        invalid_request(&said)
    } else if status == 403 || e.has_reason(FORBIDDEN) {
        forbidden(&said)
    } else {
        unknown(&said)
    }
}

fn api_disabled(said: &str) -> Diagnosis {
    let message = advice::with_said(
        "The Gmail API is not enabled in the Google Cloud project that owns the OAuth client or service account.",
        said,
    );
    Diagnosis::new(
        GMAIL_API_DISABLED,
        message,
        "In Google Cloud Console, open the project named in Google's message, go to APIs & Services > Library > Gmail API and click Enable; wait a few minutes, then retry.",
    )
}

/// A Gmail API server whose grant holds no scope that may send (found by Test Connection from
/// the scopes the provider granted, before anything is sent).
pub fn gmail_send_scope_missing(granted: &str) -> Diagnosis {
    let granted = provider_words(granted);
    scope_insufficient(&format!(
        "The grant holds only the scopes \"{granted}\", none of which may send mail."
    ))
}

fn scope_insufficient(said: &str) -> Diagnosis {
    let message = advice::with_said(
        "The access token lacks the scope this Gmail API call needs.",
        said,
    );
    let hint = format!(
        "Add https://www.googleapis.com/auth/gmail.send (sending) or https://mail.google.com/ to the OAuth app's scopes and to Google Cloud Console > APIs & Services > OAuth consent screen > Data Access, then authorize the server again; for a service account, add the same scope in {DELEGATION_CONSOLE}."
    );
    Diagnosis::new(SCOPE_INSUFFICIENT, message, hint)
}

fn delegation_denied(said: &str) -> Diagnosis {
    let message = advice::with_said(
        "Gmail refused because the account the token belongs to may not act for the mailbox named in the request.",
        said,
    );
    let hint = format!(
        "Set the server's email to the account that authorized (mailgate then acts for itself); with a service account, grant domain-wide delegation in {DELEGATION_CONSOLE} so it can act for the mailbox. Gmail's own mailbox delegation (Settings > Accounts > Grant access) does not apply to the API."
    );
    Diagnosis::new(GMAIL_DELEGATION_DENIED, message, hint)
}

fn service_not_enabled(said: &str) -> Diagnosis {
    let message = advice::with_said(
        "The account has no Gmail mailbox: Gmail is off for its organisational unit, its licence has no Gmail, or it is a Google account without Gmail.",
        said,
    );
    Diagnosis::new(
        GMAIL_SERVICE_NOT_ENABLED,
        message,
        "Turn Gmail on for the user's organisational unit in Google Workspace Admin console > Apps > Google Workspace > Gmail > Service status, and check the licence in Directory > Users > (the user) > Licenses; or choose a mailbox that has Gmail.",
    )
}

fn precondition_failed(said: &str) -> Diagnosis {
    let message = advice::with_said(
        "Gmail refused the call on this account, usually because a service account called it as itself instead of acting for a Workspace user, or the mailbox is not set up yet.",
        said,
    );
    let hint = format!(
        "With a service account, set the server's email to the Workspace mailbox and grant domain-wide delegation in {DELEGATION_CONSOLE}; otherwise sign in to Gmail once in a browser as that user to finish setting up the mailbox."
    );
    Diagnosis::new(GMAIL_PRECONDITION, message, hint)
}

fn daily_quota(said: &str) -> Diagnosis {
    let message = advice::with_said("A daily Gmail API quota is used up.", said);
    Diagnosis::new(
        DAILY_QUOTA,
        message,
        "Wait for the quota to reset (within 24 hours; mailgate retries); check usage in Google Cloud Console > APIs & Services > Gmail API > Quotas & System Limits.",
    )
}

fn too_large(said: &str) -> Diagnosis {
    let message = advice::with_said("The message is larger than Gmail accepts.", said);
    Diagnosis::new(
        MESSAGE_TOO_LARGE,
        message,
        "Reduce the attachments below Gmail's limit (about 25 MB per message) or share large files as links, then send again.",
    )
}

fn invalid_request(said: &str) -> Diagnosis {
    let message = advice::with_said(
        "The Gmail API rejected the request as invalid; the message itself is usually at fault (a recipient address, a header or the encoding).",
        said,
    );
    Diagnosis::new(
        GMAIL_INVALID_REQUEST,
        message,
        "Check the message's recipients and headers for the problem Google names; the message stays failed in mailgate until it is corrected and queued again.",
    )
}

fn forbidden(said: &str) -> Diagnosis {
    let message = advice::with_said("The Gmail API refused the request.", said);
    Diagnosis::new(
        GMAIL_FORBIDDEN,
        message,
        "Check that the account may use Gmail and that the OAuth app's scopes cover the call, then authorize again; quote Google's words above when asking for help.",
    )
}

fn unknown(said: &str) -> Diagnosis {
    let message = advice::with_said(
        "The Gmail API failed for a reason mailgate does not recognise.",
        said,
    );
    Diagnosis::new(
        GMAIL_API_ERROR,
        message,
        "Retry later; if it persists, look Google's words above up in the Gmail API documentation (Resolve errors) and check the server's settings.",
    )
}
