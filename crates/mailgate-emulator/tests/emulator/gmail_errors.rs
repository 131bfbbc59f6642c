//! Gmail API checks and errors: profile, project, scopes, userId, bad input, rate limit, outage.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use mailgate_emulator::{ClientRegistration, MintAccessToken, Outage, RateLimit};
use reqwest::{StatusCode, header};
use serde_json::json;

use crate::gmail_send::send_json;
use crate::helpers::*;

#[tokio::test]
async fn profile_counts_what_the_user_sent() {
    let app = TestApp::spawn().await;
    let token = app.mint("ben@example.test", MAIL_SCOPE);
    for _ in 0..2 {
        let raw = URL_SAFE_NO_PAD.encode("To: x@example.test\r\n\r\nhi");
        assert_eq!(
            send_json(&app, &token, "me", &raw).await.status(),
            StatusCode::OK
        );
    }
    let response = app
        .http
        .get(app.url("/gmail/v1/users/me/profile"))
        .bearer_auth(&token)
        .send()
        .await
        .expect("profile");
    let (status, body) = status_json(response).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["emailAddress"], "ben@example.test");
    assert_eq!(body["messagesTotal"], 2);
    assert_eq!(body["threadsTotal"], 2);
    assert!(
        body["historyId"]
            .as_str()
            .is_some_and(|h| h.parse::<u64>().is_ok())
    );
}

#[tokio::test]
async fn a_project_without_the_gmail_api_is_access_not_configured() {
    let app = TestApp::spawn().await;
    app.control().register_client(
        ClientRegistration::new("off.apps.googleusercontent.com", "s", [REDIRECT_URI])
            .gmail_api_enabled(false)
            .project_number(42),
    );
    let token = app
        .control()
        .mint_access_token(MintAccessToken {
            client_id: Some("off.apps.googleusercontent.com".to_owned()),
            ..MintAccessToken::for_email("cat@example.test")
        })
        .expect("mint")
        .access_token;
    let raw = URL_SAFE_NO_PAD.encode("To: x@example.test\r\n\r\nhi");
    let body = assert_gmail_error(
        send_json(&app, &token, "me", &raw).await,
        403,
        "PERMISSION_DENIED",
        "accessNotConfigured",
    )
    .await;
    let message = body["error"]["message"].as_str().expect("message");
    assert!(
        message.starts_with("Gmail API has not been used in project 42 before or it is disabled."),
        "{message}"
    );
}

#[tokio::test]
async fn scopes_tokens_and_user_ids_are_checked() {
    let app = TestApp::spawn().await;
    let raw = URL_SAFE_NO_PAD.encode("To: x@example.test\r\n\r\nhi");

    let readonly = app.mint(
        "dan@example.test",
        "https://www.googleapis.com/auth/gmail.readonly",
    );
    assert_gmail_error(
        send_json(&app, &readonly, "me", &raw).await,
        403,
        "PERMISSION_DENIED",
        "insufficientPermissions",
    )
    .await;

    let send_only = app.mint("dan@example.test", SEND_SCOPE);
    let profile = app
        .http
        .get(app.url("/gmail/v1/users/me/profile"))
        .bearer_auth(&send_only)
        .send()
        .await
        .expect("p");
    assert_gmail_error(profile, 403, "PERMISSION_DENIED", "insufficientPermissions").await;

    let invalid = send_json(&app, "ya29.not-a-token", "me", &raw).await;
    assert!(invalid.headers().contains_key(header::WWW_AUTHENTICATE));
    assert_gmail_error(invalid, 401, "UNAUTHENTICATED", "authError").await;

    let body = assert_gmail_error(
        send_json(&app, &send_only, "eve@example.test", &raw).await,
        403,
        "PERMISSION_DENIED",
        "forbidden",
    )
    .await;
    assert_eq!(
        body["error"]["message"],
        "Delegation denied for eve@example.test"
    );
    assert_eq!(
        send_json(&app, &send_only, "Dan@example.test", &raw)
            .await
            .status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn unparsable_raw_and_missing_recipients_are_invalid_argument() {
    let app = TestApp::spawn().await;
    let token = app.mint("fox@example.test", SEND_SCOPE);
    let bad = assert_gmail_error(
        send_json(&app, &token, "me", "%%%").await,
        400,
        "INVALID_ARGUMENT",
        "invalidArgument",
    )
    .await;
    assert!(
        bad["error"]["message"]
            .as_str()
            .is_some_and(|m| m.starts_with("Invalid value for ByteString"))
    );

    let no_rcpt = URL_SAFE_NO_PAD.encode("Subject: nobody\r\n\r\nhi");
    let body = assert_gmail_error(
        send_json(&app, &token, "me", &no_rcpt).await,
        400,
        "INVALID_ARGUMENT",
        "invalidArgument",
    )
    .await;
    assert_eq!(body["error"]["message"], "Recipient address required");

    let missing = app
        .http
        .post(app.url("/gmail/v1/users/me/messages/send"))
        .bearer_auth(&token)
        .json(&json!({}))
        .send()
        .await
        .expect("send");
    assert_gmail_error(missing, 400, "INVALID_ARGUMENT", "invalidArgument").await;
}

#[tokio::test]
async fn an_injected_rate_limit_answers_429_until_the_window_passes() {
    let app = TestApp::spawn().await;
    let token = app.mint("gil@example.test", SEND_SCOPE);
    let raw = URL_SAFE_NO_PAD.encode("To: x@example.test\r\n\r\nhi");
    app.control().set_gmail_rate_limit(
        "gil@example.test",
        Some(RateLimit {
            max_requests: 1,
            per_seconds: 60,
        }),
    );
    assert_eq!(
        send_json(&app, &token, "me", &raw).await.status(),
        StatusCode::OK
    );
    let body = assert_gmail_error(
        send_json(&app, &token, "me", &raw).await,
        429,
        "RESOURCE_EXHAUSTED",
        "rateLimitExceeded",
    )
    .await;
    assert!(
        body["error"]["message"]
            .as_str()
            .is_some_and(|m| m.starts_with("User-rate limit exceeded."))
    );
    app.control().advance_clock(60);
    assert_eq!(
        send_json(&app, &token, "me", &raw).await.status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn a_gmail_outage_answers_503() {
    let app = TestApp::spawn().await;
    let token = app.mint("ida@example.test", MAIL_SCOPE);
    app.control().set_gmail_outage(Outage::status(503));
    let profile = app
        .http
        .get(app.url("/gmail/v1/users/me/profile"))
        .bearer_auth(&token)
        .send()
        .await
        .expect("p");
    assert_gmail_error(profile, 503, "UNAVAILABLE", "backendError").await;
    // The OAuth side is unaffected.
    assert_eq!(app.tokeninfo(&token).await.status(), StatusCode::OK);
    app.control().set_gmail_outage(Outage::NONE);
    let profile = app
        .http
        .get(app.url("/gmail/v1/users/me/profile"))
        .bearer_auth(&token)
        .send()
        .await
        .expect("p");
    assert_eq!(profile.status(), StatusCode::OK);
}
