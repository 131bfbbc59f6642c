//! The refresh-token grant: normal refresh, rotation, revocation, and the 7-day life of a
//! testing app's tokens.

use mailgate_emulator::MintRefreshToken;
use reqwest::StatusCode;

use crate::helpers::*;

const EXPIRED: &str = "Token has been expired or revoked.";

#[tokio::test]
async fn a_refresh_gives_a_new_access_token_and_keeps_the_refresh_token() {
    let app = TestApp::spawn().await;
    let tokens = app.tokens_for("ivy@example.test", MAIL_SCOPE).await;
    let refresh_token = tokens["refresh_token"].as_str().expect("refresh");
    let (status, refreshed) = status_json(app.refresh(refresh_token).await).await;
    assert_eq!(status, StatusCode::OK);
    assert_ne!(refreshed["access_token"], tokens["access_token"]);
    assert_eq!(refreshed["expires_in"], 3599);
    assert_eq!(refreshed["scope"], MAIL_SCOPE);
    assert_eq!(refreshed["token_type"], "Bearer");
    assert!(
        refreshed.get("refresh_token").is_none(),
        "Google does not rotate: {refreshed}"
    );
    let access = refreshed["access_token"].as_str().expect("access");
    assert_eq!(app.tokeninfo(access).await.status(), StatusCode::OK);
    // The old access token stays valid until it expires.
    assert_eq!(
        app.tokeninfo(tokens["access_token"].as_str().expect("a"))
            .await
            .status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn a_rotating_client_gets_a_new_refresh_token_and_the_old_one_dies() {
    let app = TestApp::spawn().await;
    app.control()
        .register_client(client().rotate_refresh_tokens(true));
    let tokens = app.tokens_for("jack@example.test", MAIL_SCOPE).await;
    let first = tokens["refresh_token"]
        .as_str()
        .expect("refresh")
        .to_owned();

    let (status, rotated) = status_json(app.refresh(&first).await).await;
    assert_eq!(status, StatusCode::OK);
    let second = rotated["refresh_token"]
        .as_str()
        .expect("rotated refresh token")
        .to_owned();
    assert_ne!(first, second);

    assert_oauth_error(app.refresh(&first).await, 400, "invalid_grant", EXPIRED).await;
    assert_eq!(app.refresh(&second).await.status(), StatusCode::OK);
}

#[tokio::test]
async fn a_revoked_refresh_token_is_invalid_grant_and_takes_its_access_tokens() {
    let app = TestApp::spawn().await;
    let tokens = app.tokens_for("kate@example.test", MAIL_SCOPE).await;
    let refresh_token = tokens["refresh_token"].as_str().expect("refresh");
    let access = tokens["access_token"].as_str().expect("access");

    let revoked = app
        .http
        .post(app.url("/revoke"))
        .query(&[("token", refresh_token)])
        .send()
        .await
        .expect("revoke");
    assert_eq!(revoked.status(), StatusCode::OK);

    assert_oauth_error(
        app.refresh(refresh_token).await,
        400,
        "invalid_grant",
        EXPIRED,
    )
    .await;
    assert_oauth_error(
        app.tokeninfo(access).await,
        400,
        "invalid_token",
        "Invalid Value",
    )
    .await;
}

#[tokio::test]
async fn revoking_an_access_token_revokes_the_whole_grant_as_google_does() {
    let app = TestApp::spawn().await;
    let tokens = app.tokens_for("liam@example.test", MAIL_SCOPE).await;
    let revoked = app
        .http
        .post(app.url("/revoke"))
        .form(&[("token", tokens["access_token"].as_str().expect("access"))])
        .send()
        .await
        .expect("revoke");
    assert_eq!(revoked.status(), StatusCode::OK);
    let refresh_token = tokens["refresh_token"].as_str().expect("refresh");
    assert_oauth_error(
        app.refresh(refresh_token).await,
        400,
        "invalid_grant",
        EXPIRED,
    )
    .await;
}

#[tokio::test]
async fn a_testing_apps_refresh_token_dies_after_seven_days() {
    let app = TestApp::spawn().await;
    app.control()
        .register_client(client().testing(["mia@example.test"]));
    let tokens = app.tokens_for("mia@example.test", MAIL_SCOPE).await;
    let refresh_token = tokens["refresh_token"].as_str().expect("refresh");

    app.control().advance_clock(6 * 86_400);
    assert_eq!(
        app.refresh(refresh_token).await.status(),
        StatusCode::OK,
        "day 6: alive"
    );
    app.control().advance_clock(86_400);
    assert_oauth_error(
        app.refresh(refresh_token).await,
        400,
        "invalid_grant",
        EXPIRED,
    )
    .await;
}

#[tokio::test]
async fn a_production_apps_refresh_token_outlives_seven_days() {
    let app = TestApp::spawn().await;
    let tokens = app.tokens_for("noah@example.test", MAIL_SCOPE).await;
    app.control().advance_clock(30 * 86_400);
    let refresh_token = tokens["refresh_token"].as_str().expect("refresh");
    assert_eq!(app.refresh(refresh_token).await.status(), StatusCode::OK);
}

#[tokio::test]
async fn a_refresh_token_of_another_client_is_refused() {
    let app = TestApp::spawn().await;
    let minted = app
        .control()
        .mint_refresh_token(MintRefreshToken::new("olga@example.test", "other-client"))
        .expect("mint");
    assert_oauth_error(
        app.refresh(&minted).await,
        400,
        "unauthorized_client",
        "Unauthorized",
    )
    .await;
}

#[tokio::test]
async fn minted_refresh_tokens_work_and_can_be_named() {
    let app = TestApp::spawn().await;
    let mint = MintRefreshToken {
        refresh_token: Some("alice-refresh-token".to_owned()),
        ..MintRefreshToken::new("alice@example.test", CLIENT_ID)
    };
    assert_eq!(
        app.control().mint_refresh_token(mint).expect("mint"),
        "alice-refresh-token"
    );
    let (status, body) = status_json(app.refresh("alice-refresh-token").await).await;
    assert_eq!(status, StatusCode::OK);
    let (_, info) = status_json(
        app.tokeninfo(body["access_token"].as_str().expect("a"))
            .await,
    )
    .await;
    assert_eq!(info["email"], "alice@example.test");
    assert_eq!(info["access_type"], "offline");
}

#[tokio::test]
async fn a_narrower_scope_may_be_asked_for_on_refresh_but_not_a_wider_one() {
    let app = TestApp::spawn().await;
    let scope = format!("{MAIL_SCOPE} {SEND_SCOPE}");
    let tokens = app.tokens_for("pia@example.test", &scope).await;
    let refresh_token = tokens["refresh_token"].as_str().expect("refresh");
    let narrow = app
        .post_token(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token),
            ("client_id", CLIENT_ID),
            ("client_secret", CLIENT_SECRET),
            ("scope", SEND_SCOPE),
        ])
        .await;
    let (status, body) = status_json(narrow).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["scope"], SEND_SCOPE);
    let wide = app
        .post_token(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token),
            ("client_id", CLIENT_ID),
            ("client_secret", CLIENT_SECRET),
            ("scope", "https://www.googleapis.com/auth/gmail.readonly"),
        ])
        .await;
    assert_eq!(status_json(wide).await.1["error"], "invalid_scope");
}
