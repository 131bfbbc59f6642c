//! tokeninfo (Dovecot's check), userinfo, introspection and revocation.

use mailgate_emulator::MintAccessToken;
use reqwest::{StatusCode, header};

use crate::helpers::*;

#[tokio::test]
async fn an_expired_token_is_400_never_200_with_a_negative_expiry() {
    let app = TestApp::spawn().await;
    let expired = app
        .control()
        .mint_access_token(MintAccessToken {
            expires_in: -10,
            token: Some("alice-expired-token".to_owned()),
            ..MintAccessToken::for_email("alice@example.test")
        })
        .expect("mint");
    assert_eq!(expired.access_token, "alice-expired-token");
    assert_oauth_error(
        app.tokeninfo("alice-expired-token").await,
        400,
        "invalid_token",
        "Invalid Value",
    )
    .await;
    assert_oauth_error(
        app.tokeninfo("never-issued").await,
        400,
        "invalid_token",
        "Invalid Value",
    )
    .await;
}

#[tokio::test]
async fn a_token_expires_when_the_clock_passes_its_hour() {
    let app = TestApp::spawn().await;
    let token = app.mint("bob@example.test", MAIL_SCOPE);
    let (_, info) = status_json(app.tokeninfo(&token).await).await;
    assert_eq!(info["expires_in"], "3600");
    assert_eq!(info["scope"], MAIL_SCOPE);
    assert_eq!(info["access_type"], "online");
    app.control().advance_clock(3599);
    let (_, info) = status_json(app.tokeninfo(&token).await).await;
    assert_eq!(info["expires_in"], "1");
    app.control().advance_clock(1);
    assert_eq!(
        app.tokeninfo(&token).await.status(),
        StatusCode::BAD_REQUEST
    );
}

#[tokio::test]
async fn tokeninfo_answers_on_its_alias_and_to_a_form_post() {
    let app = TestApp::spawn().await;
    let token = app.mint("carl@example.test", MAIL_SCOPE);
    let posted = app
        .http
        .post(app.url("/oauth2/v3/tokeninfo"))
        .form(&[("access_token", token.as_str())])
        .send()
        .await
        .expect("tokeninfo");
    let (status, info) = status_json(posted).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(info["email"], "carl@example.test");
    let missing = app
        .http
        .get(app.url("/tokeninfo"))
        .send()
        .await
        .expect("tokeninfo");
    assert_eq!(status_json(missing).await.1["error"], "invalid_request");
}

#[tokio::test]
async fn userinfo_refuses_bad_tokens_and_shows_email_only_with_the_email_scope() {
    let app = TestApp::spawn().await;
    let bad = app
        .http
        .get(app.url("/userinfo"))
        .bearer_auth("nope")
        .send()
        .await
        .expect("userinfo");
    assert!(bad.headers().contains_key(header::WWW_AUTHENTICATE));
    assert_oauth_error(bad, 401, "invalid_request", "Invalid Credentials").await;

    let mail_only = app.mint("dora@example.test", MAIL_SCOPE);
    let (status, body) = status_json(
        app.http
            .get(app.url("/oauth2/v3/userinfo"))
            .bearer_auth(&mail_only)
            .send()
            .await
            .expect("u"),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert!(body["sub"].is_string());
    assert!(
        body.get("email").is_none(),
        "as Google: no email scope, no email: {body}"
    );

    let with_email = app.mint(
        "dora@example.test",
        "https://www.googleapis.com/auth/userinfo.email",
    );
    let (_, body) = status_json(
        app.http
            .get(app.url("/oauth2/v3/userinfo"))
            .bearer_auth(&with_email)
            .send()
            .await
            .expect("u"),
    )
    .await;
    assert_eq!(body["email"], "dora@example.test");
    assert_eq!(body["email_verified"], true);
}

#[tokio::test]
async fn revoking_an_unknown_or_revoked_token_is_invalid_token() {
    let app = TestApp::spawn().await;
    let token = app.mint("eve@example.test", MAIL_SCOPE);
    let revoke = |t: String| {
        let request = app.http.post(app.url("/revoke")).query(&[("token", t)]);
        async move { request.send().await.expect("revoke") }
    };
    assert_eq!(revoke(token.clone()).await.status(), StatusCode::OK);
    assert_oauth_error(
        app.tokeninfo(&token).await,
        400,
        "invalid_token",
        "Invalid Value",
    )
    .await;
    assert_oauth_error(
        revoke(token).await,
        400,
        "invalid_token",
        "Token expired or revoked",
    )
    .await;
    assert_oauth_error(
        revoke("unknown".to_owned()).await,
        400,
        "invalid_token",
        "Token expired or revoked",
    )
    .await;
}

#[tokio::test]
async fn introspection_follows_rfc_7662() {
    let app = TestApp::spawn().await;
    let token = app.mint("fay@example.test", MAIL_SCOPE);
    let introspect = |t: String| {
        let request = app.http.post(app.url("/introspect")).form(&[("token", t)]);
        async move { status_json(request.send().await.expect("introspect")).await }
    };
    let (status, body) = introspect(token.clone()).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["active"], true);
    assert_eq!(body["username"], "fay@example.test");
    app.control().revoke(&token);
    assert_eq!(
        introspect(token).await.1,
        serde_json::json!({"active": false})
    );
}

#[tokio::test]
async fn expiring_a_users_tokens_through_control() {
    let app = TestApp::spawn().await;
    let tokens = app.tokens_for("gus@example.test", MAIL_SCOPE).await;
    let other = app.mint("hal@example.test", MAIL_SCOPE);
    assert_eq!(app.control().expire_tokens("gus@example.test"), 2);
    assert_eq!(
        app.tokeninfo(tokens["access_token"].as_str().expect("a"))
            .await
            .status(),
        StatusCode::BAD_REQUEST
    );
    let refresh_token = tokens["refresh_token"].as_str().expect("r");
    assert_eq!(
        app.refresh(refresh_token).await.status(),
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        app.tokeninfo(&other).await.status(),
        StatusCode::OK,
        "other users keep theirs"
    );
}
