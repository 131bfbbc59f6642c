//! Known answers: the error bodies of Google's "Resolve errors" guide for the Gmail API (and
//! the newer google.rpc shape Gmail answers today), classified, quoted and diagnosed; the
//! Retry-After forms; the JSON-versus-upload threshold; the answers' field names.

use super::*;
use reqwest::header::{HeaderMap, HeaderValue};

const BAD_REQUEST: &str = r#"{"error":{"code":400,"errors":[{"domain":"global","location":"orderBy","locationType":"parameter","message":"Sorting is not supported for queries with fullText terms. Results are always in descending relevance order.","reason":"badRequest"}],"message":"Sorting is not supported for queries with fullText terms. Results are always in descending relevance order."}}"#;
const INVALID_CREDENTIALS: &str = r#"{"error":{"errors":[{"domain":"global","reason":"authError","message":"Invalid Credentials","locationType":"header","location":"Authorization"}],"code":401,"message":"Invalid Credentials"}}"#;
const UNAUTHENTICATED: &str = r#"{"error":{"code":401,"message":"Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential. See https://developers.google.com/identity/sign-in/web/devconsole-project.","errors":[{"message":"Invalid Credentials","domain":"global","reason":"authError","location":"Authorization","locationType":"header"}],"status":"UNAUTHENTICATED"}}"#;
const DAILY_LIMIT: &str = r#"{"error":{"errors":[{"domain":"usageLimits","reason":"dailyLimitExceeded","message":"Daily Limit Exceeded"}],"code":403,"message":"Daily Limit Exceeded"}}"#;
const USER_RATE: &str = r#"{"error":{"errors":[{"domain":"usageLimits","reason":"userRateLimitExceeded","message":"User Rate Limit Exceeded"}],"code":403,"message":"User Rate Limit Exceeded"}}"#;
const RATE: &str = r#"{"error":{"errors":[{"domain":"usageLimits","message":"Rate Limit Exceeded","reason":"rateLimitExceeded"}],"code":403,"message":"Rate Limit Exceeded"}}"#;
const DOMAIN_POLICY: &str = r#"{"error":{"errors":[{"domain":"global","reason":"domainPolicy","message":"The domain administrators have disabled Gmail apps."}],"code":403,"message":"The domain administrators have disabled Gmail apps."}}"#;
const SCOPES: &str = r#"{"error":{"code":403,"message":"Request had insufficient authentication scopes.","errors":[{"message":"Insufficient Permission","domain":"global","reason":"insufficientPermissions"}],"status":"PERMISSION_DENIED","details":[{"@type":"type.googleapis.com/google.rpc.ErrorInfo","reason":"ACCESS_TOKEN_SCOPE_INSUFFICIENT","domain":"googleapis.com","metadata":{"method":"caribou.api.proto.MailboxService.SendMessage","service":"gmail.googleapis.com"}}]}}"#;
const DISABLED: &str = r#"{"error":{"code":403,"message":"Gmail API has not been used in project 123456789012 before or it is disabled. Enable it by visiting https://console.developers.google.com/apis/api/gmail.googleapis.com/overview?project=123456789012 then retry.","errors":[{"message":"Gmail API has not been used in project 123456789012 before or it is disabled.","domain":"usageLimits","reason":"accessNotConfigured","extendedHelp":"https://console.developers.google.com"}],"status":"PERMISSION_DENIED"}}"#;
const NOT_FOUND: &str = r#"{"error":{"errors":[{"domain":"global","reason":"notFound","message":"Not Found"}],"code":404,"message":"Not Found"}}"#;
const TOO_MANY: &str = r#"{"error":{"errors":[{"domain":"usageLimits","reason":"rateLimitExceeded","message":"Rate Limit Exceeded"}],"code":429,"message":"Rate Limit Exceeded"}}"#;
const BACKEND: &str = r#"{"error":{"errors":[{"domain":"global","reason":"backendError","message":"Backend Error"}],"code":500,"message":"Backend Error"}}"#;
const OAUTH_STYLE: &str = r#"{"error":"invalid_token","error_description":"Invalid Credentials"}"#;
const PROXY_PAGE: &str = "<html><body>\n<h1>502 Bad Gateway</h1>\n</body></html>";

/// transient, permanent, auth.
type Class = (bool, bool, bool);
const TRANSIENT: Class = (true, false, false);
const PERMANENT: Class = (false, true, false);
const AUTH: Class = (false, true, true);

#[rustfmt::skip]
const CASES: &[(u16, &str, Class, &str, &str)] = &[
    (400, BAD_REQUEST, PERMANENT, "400 badRequest: Sorting is not supported for queries with fullText terms.", "gmail_api_invalid_request"),
    (401, INVALID_CREDENTIALS, AUTH, "401 authError: Invalid Credentials", "access_token_rejected"),
    (401, UNAUTHENTICATED, AUTH, "401 UNAUTHENTICATED authError: Request had invalid authentication credentials.", "access_token_rejected"),
    (401, OAUTH_STYLE, AUTH, "401 invalid_token: Invalid Credentials", "access_token_rejected"),
    (403, DAILY_LIMIT, TRANSIENT, "403 dailyLimitExceeded: Daily Limit Exceeded", "daily_quota_exceeded"),
    (403, USER_RATE, TRANSIENT, "403 userRateLimitExceeded: User Rate Limit Exceeded", "rate_limited"),
    (403, RATE, TRANSIENT, "403 rateLimitExceeded: Rate Limit Exceeded", "rate_limited"),
    (403, DOMAIN_POLICY, PERMANENT, "403 domainPolicy: The domain administrators have disabled Gmail apps.", "gmail_api_forbidden"),
    (403, SCOPES, PERMANENT, "403 PERMISSION_DENIED insufficientPermissions: Request had insufficient authentication scopes.", "token_scope_insufficient"),
    (403, DISABLED, PERMANENT, "403 PERMISSION_DENIED accessNotConfigured: Gmail API has not been used in project 123456789012", "gmail_api_disabled"),
    (404, NOT_FOUND, PERMANENT, "404 notFound: Not Found", "gmail_api_error"),
    (413, "", PERMANENT, "413", "message_too_large"),
    (429, TOO_MANY, TRANSIENT, "429 rateLimitExceeded: Rate Limit Exceeded", "rate_limited"),
    (500, BACKEND, TRANSIENT, "500 backendError: Backend Error", "service_unavailable"),
    (502, PROXY_PAGE, TRANSIENT, "502: <html><body> <h1>502 Bad Gateway</h1> </body></html>", "service_unavailable"),
    (503, "", TRANSIENT, "503", "service_unavailable"),
];

#[test]
fn google_error_answers_known_answers() {
    for (status, body, class, reply, code) in CASES {
        let e = GmailError::from_response(*status, &HeaderMap::new(), body.as_bytes());
        let got = (e.is_transient(), e.is_permanent(), e.is_auth());
        assert_eq!(got, *class, "{status} {body}");
        let said = e.server_reply().unwrap();
        assert!(
            said.starts_with(reply),
            "{said:?} should start with {reply:?}"
        );
        assert!(e.to_string().contains(reply), "{e}");
        let d = e.diagnosis();
        assert_eq!(d.code, *code, "{status} {body}: {d}");
        assert!(!d.hint.is_empty());
        assert_eq!(
            (e.status(), e.retry_after(), e.is_timeout()),
            (Some(*status), None, false)
        );
    }
}

#[test]
fn the_scope_error_names_the_scope_to_add() {
    let d = GmailError::from_response(403, &HeaderMap::new(), SCOPES.as_bytes()).diagnosis();
    assert!(
        d.hint
            .contains("https://www.googleapis.com/auth/gmail.send"),
        "{d}"
    );
    assert!(
        d.message.contains("insufficient authentication scopes"),
        "{d}"
    );
}

#[test]
fn google_errors_parse_whatever_parts_are_there() {
    let g = GoogleError::parse(SCOPES.as_bytes());
    assert_eq!(g.status.as_deref(), Some("PERMISSION_DENIED"));
    assert_eq!(
        g.reasons,
        ["insufficientPermissions", "ACCESS_TOKEN_SCOPE_INSUFFICIENT"]
    );
    assert!(g.has_reason(&["access_token_scope_insufficient"]));
    for junk in [
        "",
        "null",
        "[]",
        "{\"error\":42}",
        PROXY_PAGE,
        "{\"error\":{\"errors\":7}}",
    ] {
        let g = GoogleError::parse(junk.as_bytes());
        assert!(g.status.is_none() && g.message.is_none(), "{junk}");
        assert!(g.reasons.is_empty(), "{junk}");
    }
}

fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
    let mut h = HeaderMap::new();
    for (name, value) in pairs {
        h.insert(*name, HeaderValue::from_str(value).unwrap());
    }
    h
}

#[test]
fn retry_after_known_answers() {
    const DATE: &str = "Sun, 22 Nov 2026 04:00:00 GMT";
    let google = |at: &str| {
        format!(
            r#"{{"error":{{"code":429,"message":"User-rate limit exceeded.  Retry after {at}","errors":[{{"reason":"rateLimitExceeded"}}],"status":"RESOURCE_EXHAUSTED"}}}}"#
        )
    };
    let in_90s = google("2026-11-22T04:01:30.000Z");
    type Case<'a> = (Vec<(&'static str, &'a str)>, String, Option<u64>);
    let cases: Vec<Case<'_>> = vec![
        (vec![("retry-after", "120")], String::new(), Some(120)),
        (vec![("retry-after", " 0 ")], String::new(), Some(0)),
        (
            vec![
                ("retry-after", "Sun, 22 Nov 2026 04:05:00 GMT"),
                ("date", DATE),
            ],
            String::new(),
            Some(300),
        ),
        (
            vec![
                ("retry-after", "Sun, 22 Nov 2026 03:00:00 GMT"),
                ("date", DATE),
            ],
            String::new(),
            Some(0),
        ),
        (
            vec![("retry-after", "Sun, 22 Nov 2026 04:05:00 GMT")],
            String::new(),
            None,
        ),
        (vec![("retry-after", "soon")], String::new(), None),
        (vec![("date", DATE)], in_90s.clone(), Some(90)),
        (vec![], in_90s, None),
        (vec![("date", DATE)], google("a while"), None),
        (
            vec![("date", DATE), ("retry-after", "7")],
            google("2026-11-22T05:00:00Z"),
            Some(7),
        ),
    ];
    for (pairs, body, want) in cases {
        let e = GmailError::from_response(429, &headers(&pairs), body.as_bytes());
        assert_eq!(
            e.retry_after(),
            want.map(Duration::from_secs),
            "{pairs:?} {body}"
        );
    }
}

#[test]
fn small_messages_go_as_json_large_ones_through_the_upload() {
    assert!(!uses_upload(1));
    assert!(!uses_upload(3_000_000));
    // 3,749,991 bytes make 4,999,988 of base64 plus `{"raw":""}`.
    assert!(!uses_upload(3_749_991));
    assert!(uses_upload(3_749_994));
    assert!(uses_upload(MAX_MESSAGE_BYTES));
    assert_eq!(MAX_MESSAGE_BYTES, 36_700_160);
}

#[test]
fn refusals_before_any_request_are_diagnosed() {
    let big = GmailError::TooLarge {
        size: MAX_MESSAGE_BYTES + 1,
        max: MAX_MESSAGE_BYTES,
    };
    let d = big.diagnosis();
    assert_eq!(
        (d.code.as_str(), big.is_permanent()),
        ("message_too_large", true)
    );
    assert!(
        d.message.contains("did not send") && !d.message.contains("HTTP"),
        "{d}"
    );

    let garbled = GmailError::BadAnswer {
        status: 200,
        detail: "expected value".into(),
    };
    assert!(garbled.is_permanent(), "a resend could deliver twice");
    assert!(garbled.diagnosis().hint.contains("Sent folder"));

    let url = GmailError::BadBaseUrl {
        url: "gmail".into(),
        detail: "relative URL without a base".into(),
    };
    assert_eq!(url.diagnosis().code, "gmail_api_invalid_request");
    assert!(
        url.diagnosis()
            .hint
            .contains("https://gmail.googleapis.com")
    );
}

#[test]
fn answers_read_google_names_and_store_snake_case() {
    let sent: GmailSent =
        serde_json::from_str(r#"{"id":"18c","threadId":"18b","labelIds":["SENT"]}"#).unwrap();
    assert_eq!(sent.thread_id.as_deref(), Some("18b"));
    assert_eq!(sent.label_ids, ["SENT"]);
    let json = serde_json::to_value(&sent).unwrap();
    assert_eq!(json["thread_id"], "18b");
    assert_eq!(serde_json::from_value::<GmailSent>(json).unwrap(), sent);
    let bare: GmailSent = serde_json::from_str(r#"{"id":"1"}"#).unwrap();
    assert!(bare.thread_id.is_none() && bare.label_ids.is_empty());

    let profile: GmailProfile = serde_json::from_str(
        r#"{"emailAddress":"a@example.com","messagesTotal":5,"threadsTotal":3,"historyId":"1007"}"#,
    )
    .unwrap();
    assert_eq!(profile.email_address, "a@example.com");
    assert_eq!(
        (profile.messages_total, profile.threads_total),
        (Some(5), Some(3))
    );
    assert_eq!(profile.history_id.as_deref(), Some("1007"));
}
