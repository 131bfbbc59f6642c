//! Known answers for Gmail API error bodies.

use super::super::*;
use super::{P, R, T, check};

const DISABLED: &str = r#"{"error":{"code":403,"message":"Gmail API has not been used in project 123456789012 before or it is disabled. Enable it by visiting https://console.developers.google.com/apis/api/gmail.googleapis.com/overview?project=123456789012 then retry.","errors":[{"message":"Gmail API has not been used in project 123456789012 before or it is disabled.","domain":"usageLimits","reason":"accessNotConfigured","extendedHelp":"https://console.developers.google.com"}],"status":"PERMISSION_DENIED"}}"#;

type Case = (
    u16,
    &'static str,
    &'static str,
    Severity,
    &'static [&'static str],
);

#[rustfmt::skip]
const CASES: &[Case] = &[
    (403, DISABLED, "gmail_api_disabled", P, &["APIs & Services > Library > Gmail API", "Enable"]),
    (403, r#"{"error":{"code":403,"message":"Access denied.","status":"PERMISSION_DENIED","details":[{"@type":"type.googleapis.com/google.rpc.ErrorInfo","reason":"SERVICE_DISABLED"}]}}"#, "gmail_api_disabled", P, &["Enable"]),
    (403, r#"{"error":{"code":403,"message":"Request had insufficient authentication scopes.","errors":[{"reason":"insufficientPermissions"}],"status":"PERMISSION_DENIED","details":[{"reason":"ACCESS_TOKEN_SCOPE_INSUFFICIENT"}]}}"#, "token_scope_insufficient", R, &["https://www.googleapis.com/auth/gmail.send", "Domain-wide delegation"]),
    (429, r#"{"error":{"code":429,"message":"Too many concurrent requests for user","errors":[{"reason":"rateLimitExceeded"}],"status":"RESOURCE_EXHAUSTED"}}"#, "rate_limited", T, &["backoff"]),
    (403, r#"{"error":{"code":403,"message":"User-rate limit exceeded.","errors":[{"reason":"userRateLimitExceeded"}]}}"#, "rate_limited", T, &["retries"]),
    (429, "", "rate_limited", T, &["backoff"]),
    (403, r#"{"error":{"code":403,"message":"Daily Limit Exceeded","errors":[{"reason":"dailyLimitExceeded"}]}}"#, "daily_quota_exceeded", T, &["Quotas"]),
    (429, r#"{"error":{"code":429,"message":"Daily user sending limit exceeded."}}"#, "sending_limit_exceeded", T, &["24 hours"]),
    (400, r#"{"error":{"code":400,"message":"Mail service not enabled","errors":[{"message":"Mail service not enabled","domain":"global","reason":"failedPrecondition"}],"status":"FAILED_PRECONDITION"}}"#, "gmail_service_not_enabled", P, &["Gmail > Service status", "Licenses"]),
    (400, r#"{"error":{"code":400,"message":"Precondition check failed.","errors":[{"reason":"failedPrecondition"}],"status":"FAILED_PRECONDITION"}}"#, "gmail_precondition_failed", P, &["Domain-wide delegation"]),
    (401, r#"{"error":{"code":401,"message":"Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential.","errors":[{"reason":"authError"}],"status":"UNAUTHENTICATED"}}"#, "access_token_rejected", T, &["refreshes the token"]),
    (401, r#"{"error":"invalid_token","error_description":"Invalid Credentials"}"#, "access_token_rejected", T, &["refreshes"]),
    (400, r#"{"error":{"code":400,"message":"Invalid To header","errors":[{"reason":"invalidArgument"}],"status":"INVALID_ARGUMENT"}}"#, "gmail_api_invalid_request", P, &["recipients and headers"]),
    (400, "<html>Bad Request</html>", "gmail_api_invalid_request", P, &["recipients"]),
    (500, r#"{"error":{"code":500,"message":"Backend Error","errors":[{"reason":"backendError"}]}}"#, "service_unavailable", T, &["retries"]),
    (503, "upstream connect error", "service_unavailable", T, &["retries"]),
    (403, r#"{"error":{"code":403,"message":"Delegation denied for support@example.com","errors":[{"reason":"forbidden"}]}}"#, "gmail_delegation_denied", P, &["Domain-wide delegation", "Grant access"]),
    (413, "", "message_too_large", P, &["25 MB"]),
    (403, r#"{"error":{"code":403,"message":"Forbidden","errors":[{"reason":"forbidden"}]}}"#, "gmail_api_forbidden", P, &["scopes"]),
    (404, r#"{"error":{"code":404,"message":"Requested entity was not found.","errors":[{"reason":"notFound"}],"status":"NOT_FOUND"}}"#, "gmail_api_error", P, &["Retry later"]),
];

pub(super) fn produced() -> Vec<Diagnosis> {
    CASES
        .iter()
        .map(|(status, body, ..)| gmail_api_error(*status, body))
        .collect()
}

#[test]
fn gmail_api_known_answers() {
    for (status, body, code, severity, keys) in CASES {
        let d = gmail_api_error(*status, body);
        check(&d, code, *severity, keys, body);
        assert!(
            d.message.contains(&format!("HTTP {status}")),
            "{}",
            d.message
        );
    }
}

#[test]
fn google_words_are_quoted() {
    let d = gmail_api_error(403, DISABLED);
    assert!(d.message.contains("project 123456789012"), "{}", d.message);
}

#[test]
fn a_grant_without_a_sending_scope_names_the_scope_to_add() {
    let d = gmail_send_scope_missing("https://www.googleapis.com/auth/gmail.readonly openid");
    assert_eq!(d.code, "token_scope_insufficient");
    assert!(d.message.contains("gmail.readonly"), "{}", d.message);
    assert!(
        d.hint
            .contains("https://www.googleapis.com/auth/gmail.send"),
        "{}",
        d.hint
    );
}
