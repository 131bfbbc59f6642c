//! The jwt-bearer grant: service accounts with and without domain-wide delegation.

use base64::Engine as _;
use mailgate_emulator::fixtures::{self, OTHER_KEY_PEM, SERVICE_ACCOUNT_KEY_PEM};
use mailgate_emulator::{DelegationGrant, ServiceAccountRegistration};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::*;

const SA_EMAIL: &str = "robot@test-project.iam.gserviceaccount.com";
const SA_ID: &str = "112233445566778899001";
const TIMEFRAME: &str = "Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe. Check your iat and exp values in the JWT claim.";

async fn app_with_service_account() -> TestApp {
    let app = TestApp::spawn().await;
    app.control()
        .register_service_account(ServiceAccountRegistration::with_private_key(
            SA_EMAIL,
            SA_ID,
            SERVICE_ACCOUNT_KEY_PEM,
        ))
        .expect("register");
    app
}

fn delegate(app: &TestApp, scopes: &[&str]) {
    app.control().grant_delegation(DelegationGrant {
        client_id: SA_ID.to_owned(),
        scopes: scopes.iter().map(|s| (*s).to_owned()).collect(),
    });
}

fn assertion(app: &TestApp, key: &str, sub: Option<&str>, scope: &str) -> String {
    let aud = app.url("/token");
    fixtures::service_account_assertion(key, SA_EMAIL, sub, scope, &aud, app.control().now())
}

async fn exchange(app: &TestApp, assertion: &str) -> reqwest::Response {
    app.post_token(&[
        ("grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer"),
        ("assertion", assertion),
    ])
    .await
}

#[tokio::test]
async fn with_delegation_the_account_gets_a_token_for_the_user() {
    let app = app_with_service_account().await;
    delegate(&app, &[MAIL_SCOPE, SEND_SCOPE]);
    let response = exchange(
        &app,
        &assertion(
            &app,
            SERVICE_ACCOUNT_KEY_PEM,
            Some("Quinn@example.test"),
            MAIL_SCOPE,
        ),
    )
    .await;
    let (status, body) = status_json(response).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["expires_in"], 3599);
    assert_eq!(body["token_type"], "Bearer");
    assert!(body.get("refresh_token").is_none());
    let access = body["access_token"].as_str().expect("access");
    assert!(access.starts_with("ya29.c."));

    let (_, info) = status_json(app.tokeninfo(access).await).await;
    assert_eq!(info["email"], "quinn@example.test");
    assert_eq!(info["scope"], MAIL_SCOPE);
    assert_eq!(info["aud"], SA_ID);
    assert_eq!(info["access_type"], "online");
}

#[tokio::test]
async fn without_delegation_or_for_an_undelegated_scope_it_is_unauthorized_client() {
    let app = app_with_service_account().await;
    let text = "Client is unauthorized to retrieve access tokens using this method, or client not authorized for any of the scopes requested.";
    let none = exchange(
        &app,
        &assertion(
            &app,
            SERVICE_ACCOUNT_KEY_PEM,
            Some("r@example.test"),
            MAIL_SCOPE,
        ),
    )
    .await;
    assert_oauth_error(none, 401, "unauthorized_client", text).await;

    delegate(&app, &[SEND_SCOPE]);
    let scope = format!("{SEND_SCOPE} {MAIL_SCOPE}");
    let partial = exchange(
        &app,
        &assertion(
            &app,
            SERVICE_ACCOUNT_KEY_PEM,
            Some("r@example.test"),
            &scope,
        ),
    )
    .await;
    assert_oauth_error(partial, 401, "unauthorized_client", text).await;
}

#[tokio::test]
async fn without_sub_the_token_is_the_accounts_own() {
    let app = app_with_service_account().await;
    let (status, body) = status_json(
        exchange(
            &app,
            &assertion(&app, SERVICE_ACCOUNT_KEY_PEM, None, SEND_SCOPE),
        )
        .await,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let (_, info) = status_json(
        app.tokeninfo(body["access_token"].as_str().expect("a"))
            .await,
    )
    .await;
    assert_eq!(info["email"], SA_EMAIL);
    assert_eq!(info["sub"], SA_ID);
}

#[tokio::test]
async fn a_signature_by_another_key_is_invalid_jwt_signature() {
    let app = app_with_service_account().await;
    delegate(&app, &[MAIL_SCOPE]);
    let forged = assertion(&app, OTHER_KEY_PEM, Some("s@example.test"), MAIL_SCOPE);
    assert_oauth_error(
        exchange(&app, &forged).await,
        400,
        "invalid_grant",
        "Invalid JWT Signature.",
    )
    .await;

    // Same key id as the real key, other key: still refused.
    let kid = fixtures::private_key_id(SERVICE_ACCOUNT_KEY_PEM).expect("kid");
    let now = app.control().now();
    let claims = json!({"iss": SA_EMAIL, "scope": MAIL_SCOPE, "aud": app.url("/token"), "iat": now, "exp": now + 3600});
    let spoofed = fixtures::sign_jwt(
        OTHER_KEY_PEM,
        &json!({"alg": "RS256", "typ": "JWT", "kid": kid}),
        &claims,
    );
    assert_oauth_error(
        exchange(&app, &spoofed).await,
        400,
        "invalid_grant",
        "Invalid JWT Signature.",
    )
    .await;
}

#[tokio::test]
async fn lifetimes_beyond_an_hour_or_outside_now_are_refused() {
    let app = app_with_service_account().await;
    let now = app.control().now();
    let sign = |iat: i64, exp: i64| {
        let claims = json!({"iss": SA_EMAIL, "scope": MAIL_SCOPE, "aud": "https://oauth2.googleapis.com/token", "iat": iat, "exp": exp});
        fixtures::sign_jwt(
            SERVICE_ACCOUNT_KEY_PEM,
            &json!({"alg": "RS256", "typ": "JWT"}),
            &claims,
        )
    };
    for (iat, exp) in [
        (now, now + 7200),
        (now + 3600, now + 7200),
        (now - 7200, now - 3600),
        (now, now),
    ] {
        assert_oauth_error(
            exchange(&app, &sign(iat, exp)).await,
            400,
            "invalid_grant",
            TIMEFRAME,
        )
        .await;
    }
    // Google's own token URL is an accepted audience too.
    assert_eq!(
        exchange(&app, &sign(now, now + 3600)).await.status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn unknown_accounts_users_audiences_and_scopes_are_refused() {
    let app = app_with_service_account().await;
    delegate(&app, &[MAIL_SCOPE]);
    let now = app.control().now();
    let sign = |claims: Value| {
        fixtures::sign_jwt(
            SERVICE_ACCOUNT_KEY_PEM,
            &json!({"alg": "RS256", "typ": "JWT"}),
            &claims,
        )
    };

    let unknown = sign(
        json!({"iss": "ghost@x.iam.gserviceaccount.com", "scope": MAIL_SCOPE, "aud": app.url("/token"), "iat": now, "exp": now + 60}),
    );
    assert_oauth_error(
        exchange(&app, &unknown).await,
        400,
        "invalid_grant",
        "Invalid grant: account not found",
    )
    .await;

    let outsider = assertion(
        &app,
        SERVICE_ACCOUNT_KEY_PEM,
        Some("someone@gmail.com"),
        MAIL_SCOPE,
    );
    assert_oauth_error(
        exchange(&app, &outsider).await,
        400,
        "invalid_request",
        "Invalid principal",
    )
    .await;
    app.control().add_user("someone@gmail.com");
    assert_eq!(
        exchange(&app, &outsider).await.status(),
        StatusCode::OK,
        "a registered user exists"
    );

    let no_scope =
        sign(json!({"iss": SA_EMAIL, "aud": app.url("/token"), "iat": now, "exp": now + 60}));
    assert_oauth_error(
        exchange(&app, &no_scope).await,
        400,
        "invalid_scope",
        "Invalid OAuth scope or ID token audience provided.",
    )
    .await;

    let wrong_aud = sign(
        json!({"iss": SA_EMAIL, "scope": MAIL_SCOPE, "aud": "https://example.test/token", "iat": now, "exp": now + 60}),
    );
    let (status, body) = status_json(exchange(&app, &wrong_aud).await).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"], "invalid_grant");
    assert!(
        body["error_description"]
            .as_str()
            .is_some_and(|d| d.starts_with("Invalid JWT: Failed audience check."))
    );

    let hs256 = fixtures::sign_jwt(
        SERVICE_ACCOUNT_KEY_PEM,
        &json!({"alg": "HS256"}),
        &json!({"iss": SA_EMAIL, "scope": MAIL_SCOPE, "aud": app.url("/token"), "iat": now, "exp": now + 60}),
    );
    assert_oauth_error(
        exchange(&app, &hs256).await,
        400,
        "invalid_grant",
        "Invalid JWT Signature.",
    )
    .await;
}

#[tokio::test]
async fn an_account_registered_by_public_key_verifies_and_the_key_file_points_here() {
    let app = TestApp::spawn().await;
    let key_json = app
        .control()
        .service_account_key_json(SERVICE_ACCOUNT_KEY_PEM, SA_EMAIL, SA_ID)
        .expect("key json");
    let key: Value = serde_json::from_str(&key_json).expect("json");
    assert_eq!(key["type"], "service_account");
    assert_eq!(key["token_uri"], app.url("/token"));
    assert_eq!(key["client_email"], SA_EMAIL);
    assert_eq!(key["client_id"], SA_ID);
    assert_eq!(
        key["private_key_id"],
        fixtures::private_key_id(SERVICE_ACCOUNT_KEY_PEM).expect("kid")
    );

    // Register the same account again by its public key only (PKCS#1 DER, base64).
    let pair =
        ring::signature::RsaKeyPair::from_pkcs8(&pem_der(SERVICE_ACCOUNT_KEY_PEM)).expect("pkcs8");
    let public_b64 = base64::engine::general_purpose::STANDARD.encode(pair.public().as_ref());
    app.control()
        .register_service_account(ServiceAccountRegistration {
            private_key_pem: None,
            public_key_der_b64: Some(public_b64),
            ..ServiceAccountRegistration::with_private_key(SA_EMAIL, SA_ID, "")
        })
        .expect("register by public key");
    let response = exchange(
        &app,
        &assertion(&app, SERVICE_ACCOUNT_KEY_PEM, None, MAIL_SCOPE),
    )
    .await;
    assert_eq!(response.status(), StatusCode::OK);
}

/// The DER inside a PKCS#8 PEM.
fn pem_der(pem: &str) -> Vec<u8> {
    let body: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    base64::engine::general_purpose::STANDARD
        .decode(body)
        .expect("pem base64")
}
