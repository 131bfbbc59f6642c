//! Failure injection, counters, the `/admin/*` HTTP twin, and the lifecycle.

use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use mailgate_emulator::{Emulator, EmulatorConfig, Outage};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::*;

#[tokio::test]
async fn an_oauth_outage_fails_token_and_tokeninfo_until_lifted() {
    let app = TestApp::spawn().await;
    let token = app.mint("amy@example.test", MAIL_SCOPE);
    let tokens = app.tokens_for("amy@example.test", MAIL_SCOPE).await;
    let refresh_token = tokens["refresh_token"].as_str().expect("refresh");

    app.control().set_oauth_outage(Outage::status(503));
    let (status, body) = status_json(app.refresh(refresh_token).await).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(body["error"].is_string());
    assert_eq!(
        app.tokeninfo(&token).await.status(),
        StatusCode::SERVICE_UNAVAILABLE
    );
    let userinfo = app
        .http
        .get(app.url("/userinfo"))
        .bearer_auth(&token)
        .send()
        .await
        .expect("u");
    assert_eq!(userinfo.status(), StatusCode::SERVICE_UNAVAILABLE);

    app.control().set_oauth_outage(Outage::status(500));
    assert_eq!(
        app.tokeninfo(&token).await.status(),
        StatusCode::INTERNAL_SERVER_ERROR
    );

    app.control().set_oauth_outage(Outage::NONE);
    assert_eq!(app.refresh(refresh_token).await.status(), StatusCode::OK);
    assert_eq!(app.tokeninfo(&token).await.status(), StatusCode::OK);
}

#[tokio::test]
async fn a_delay_longer_than_the_callers_timeout_is_a_timeout() {
    let app = TestApp::spawn().await;
    let token = app.mint("ben@example.test", MAIL_SCOPE);
    app.control().set_oauth_outage(Outage::delay_ms(5_000));
    let result = app
        .http
        .get(app.url("/tokeninfo"))
        .query(&[("access_token", token.as_str())])
        .timeout(Duration::from_millis(150))
        .send()
        .await;
    assert!(result.expect_err("times out").is_timeout());
}

#[tokio::test]
async fn counters_count_requests_by_client_and_grant() {
    let app = TestApp::spawn().await;
    let tokens = app.tokens_for("cy@example.test", MAIL_SCOPE).await;
    let refresh_token = tokens["refresh_token"].as_str().expect("refresh");
    app.refresh(refresh_token).await;
    app.post_token(&[
        ("grant_type", "refresh_token"),
        ("refresh_token", "x"),
        ("client_id", "stranger"),
    ])
    .await;
    let access = tokens["access_token"].as_str().expect("access");
    app.tokeninfo(access).await;
    app.tokeninfo("bogus").await;
    let raw = URL_SAFE_NO_PAD.encode("To: x@example.test\r\n\r\nhi");
    app.http
        .post(app.url("/gmail/v1/users/me/messages/send"))
        .bearer_auth(access)
        .json(&json!({"raw": raw}))
        .send()
        .await
        .expect("send");

    let counters = app.control().counters();
    assert_eq!(counters.token_requests, 3);
    assert_eq!(counters.token_requests_by_client[CLIENT_ID], 2);
    assert_eq!(counters.token_requests_by_client["stranger"], 1);
    assert_eq!(counters.token_requests_by_grant["authorization_code"], 1);
    assert_eq!(counters.token_requests_by_grant["refresh_token"], 2);
    assert_eq!(counters.tokeninfo_calls, 2);
    assert_eq!(counters.sends, 1);
    assert_eq!(counters.authorization_requests, 1);

    // The HTTP twin reads the same numbers.
    let (_, over_http) = status_json(
        app.http
            .get(app.url("/admin/counters"))
            .send()
            .await
            .expect("c"),
    )
    .await;
    assert_eq!(over_http["token_requests_by_grant"]["refresh_token"], 2);
    app.control().reset_counters();
    assert_eq!(app.control().counters().token_requests, 0);
}

async fn admin(app: &TestApp, path: &str, body: Value) -> (StatusCode, Value) {
    let response = app
        .http
        .post(app.url(path))
        .json(&body)
        .send()
        .await
        .expect("admin");
    status_json(response).await
}

#[tokio::test]
async fn the_admin_endpoints_mirror_control() {
    let app = TestApp::spawn().await;
    let (status, _) = admin(
        &app,
        "/admin/clients",
        json!({"client_id": "http-client", "client_secret": "s", "redirect_uris": [REDIRECT_URI], "publishing_status": "testing", "test_users": ["t@example.test"]}),
    )
    .await;
    assert_eq!(status, StatusCode::OK);

    let (status, minted) = admin(
        &app,
        "/admin/tokens",
        json!({"email": "alice@example.test", "token": "alice-valid-token"}),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(minted["access_token"], "alice-valid-token");
    assert_eq!(minted["expires_in"], 3600);
    assert_eq!(
        app.tokeninfo("alice-valid-token").await.status(),
        StatusCode::OK
    );

    let (_, expired) = admin(
        &app,
        "/admin/tokens",
        json!({"email": "alice@example.test", "expires_in": -1}),
    )
    .await;
    assert_eq!(
        app.tokeninfo(expired["access_token"].as_str().expect("t"))
            .await
            .status(),
        StatusCode::BAD_REQUEST
    );

    let (_, refresh) = admin(
        &app,
        "/admin/refresh_tokens",
        json!({"email": "bob@example.test", "refresh_token": "bob-refresh-token"}),
    )
    .await;
    assert_eq!(refresh["refresh_token"], "bob-refresh-token");
    assert_eq!(
        app.refresh("bob-refresh-token").await.status(),
        StatusCode::OK,
        "unbound: any client"
    );

    let (_, revoked) = admin(&app, "/admin/revoke", json!({"token": "alice-valid-token"})).await;
    assert_eq!(revoked["revoked"], true);
    assert_eq!(
        app.tokeninfo("alice-valid-token").await.status(),
        StatusCode::BAD_REQUEST
    );

    admin(&app, "/admin/fail", json!({"status": 503})).await;
    assert_eq!(
        app.tokeninfo("x").await.status(),
        StatusCode::SERVICE_UNAVAILABLE
    );
    admin(&app, "/admin/fail", json!({"status": 0})).await;
    assert_eq!(app.tokeninfo("x").await.status(), StatusCode::BAD_REQUEST);

    let before = app.control().now();
    let (_, clock) = admin(&app, "/admin/clock/advance", json!({"secs": 3600})).await;
    assert!(clock["now"].as_i64().expect("now") >= before + 3600);

    let (_, sa) = admin(
        &app,
        "/admin/service_accounts",
        json!({"client_email": "r@p.iam.gserviceaccount.com", "client_id": "1", "private_key_pem": mailgate_emulator::fixtures::SERVICE_ACCOUNT_KEY_PEM}),
    )
    .await;
    let key: Value =
        serde_json::from_str(sa["key_json"].as_str().expect("key_json")).expect("json");
    assert_eq!(key["token_uri"], app.url("/token"));

    let (status, error) = admin(&app, "/admin/tokens", json!({"email": "no-at-sign"})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(error["error"], "bad_request");
    let malformed = app
        .http
        .post(app.url("/admin/consent"))
        .body("{")
        .send()
        .await
        .expect("admin");
    let (status, error) = status_json(malformed).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(error["error"], "malformed_json");

    let (_, state) = status_json(
        app.http
            .get(app.url("/admin/state"))
            .send()
            .await
            .expect("state"),
    )
    .await;
    assert!(state["clients"]["http-client"].is_object());
    assert!(
        state["clients"]["http-client"]
            .get("client_secret")
            .is_none(),
        "secrets stay out"
    );
    let (status, health) = status_json(
        app.http
            .get(app.url("/healthz"))
            .send()
            .await
            .expect("healthz"),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(health["status"], "ok");
}

#[tokio::test]
async fn shutdown_stops_the_server() {
    let app = TestApp::spawn().await;
    let url = app.url("/healthz");
    let TestApp { emulator, http } = app;
    emulator.shutdown().await.expect("clean shutdown");
    assert!(
        http.get(&url).send().await.is_err(),
        "nothing listens any more"
    );
}

#[tokio::test]
async fn a_background_emulator_outlives_the_runtime_that_started_it() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let background = Emulator::start_in_background(EmulatorConfig::default()).expect("background");
    let control = background.control().clone();
    let token = control
        .mint_access_token(mailgate_emulator::MintAccessToken::for_email(
            "bg@example.test",
        ))
        .expect("mint")
        .access_token;
    let url = format!("{}/tokeninfo?access_token={token}", background.base_url());
    // A second, short-lived runtime on another thread talks to it.
    let status = std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("rt");
        runtime.block_on(async { reqwest::get(&url).await.expect("get").status() })
    })
    .join()
    .expect("thread");
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn the_discovery_document_points_at_the_emulator() {
    let app = TestApp::spawn().await;
    let (_, doc) = status_json(
        app.http
            .get(app.url("/.well-known/openid-configuration"))
            .send()
            .await
            .expect("d"),
    )
    .await;
    assert_eq!(doc["token_endpoint"], app.url("/token"));
    assert_eq!(doc["authorization_endpoint"], app.url("/o/oauth2/v2/auth"));
}
