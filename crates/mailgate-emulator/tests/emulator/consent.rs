//! The browser part of the flow: consent page, decisions, and the errors Google shows as pages.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use mailgate_emulator::{ClientRegistration, Decision};
use reqwest::{StatusCode, header};
use ring::signature::{RSA_PKCS1_2048_8192_SHA256, RsaPublicKeyComponents};
use serde_json::Value;

use crate::helpers::*;

/// The value of `<input ... name="{name}" value="...">` in the consent page.
fn input_value(html: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html.find(&marker).expect("input in page") + marker.len();
    let end = start + html[start..].find('"').expect("closing quote");
    html[start..end].to_owned()
}

#[tokio::test]
async fn full_consent_flow_through_the_page_to_tokens_tokeninfo_and_userinfo() {
    let app = TestApp::spawn().await;
    let (verifier, challenge) = pkce_pair();
    let scope = format!("openid email {MAIL_SCOPE}");
    let page = app
        .authorize(&[
            ("scope", &scope),
            ("code_challenge", &challenge),
            ("code_challenge_method", "S256"),
            ("login_hint", "alice@example.test"),
        ])
        .await;
    assert_eq!(page.status(), StatusCode::OK);
    assert!(
        page.headers()[header::CONTENT_TYPE]
            .to_str()
            .expect("ct")
            .starts_with("text/html")
    );
    let html = page.text().await.expect("page");
    assert!(html.contains("Sign in with Google"));
    assert!(html.contains(CLIENT_ID));
    assert_eq!(
        input_value(&html, "email"),
        "alice@example.test",
        "login_hint prefills the email"
    );
    let request_id = input_value(&html, "request_id");

    let decided = app
        .http
        .post(app.url("/o/oauth2/v2/auth/decision"))
        .form(&[
            ("request_id", request_id.as_str()),
            ("email", "Alice@Example.test"),
            ("decision", "allow"),
        ])
        .send()
        .await
        .expect("decision");
    let params = redirect_params(&decided);
    assert_eq!(param(&params, "state").as_deref(), Some("st-123"));
    assert_eq!(
        param(&params, "scope").as_deref(),
        Some("openid https://www.googleapis.com/auth/userinfo.email https://mail.google.com/"),
        "Google expands `email`"
    );
    let code = param(&params, "code").expect("code");
    assert!(code.starts_with("4/0"));

    let (status, tokens) = status_json(app.exchange_code(&code, &verifier).await).await;
    assert_eq!(status, StatusCode::OK, "{tokens}");
    let access = tokens["access_token"].as_str().expect("access_token");
    assert!(access.starts_with("ya29."));
    assert_eq!(tokens["expires_in"], 3599);
    assert_eq!(tokens["token_type"], "Bearer");
    assert_eq!(tokens["scope"], param(&params, "scope").expect("scope"));
    assert!(
        tokens["refresh_token"]
            .as_str()
            .expect("refresh_token")
            .starts_with("1//")
    );
    let id_token = tokens["id_token"].as_str().expect("id_token with openid");
    let claims = verify_id_token(&app, id_token).await;
    assert_eq!(claims["aud"], CLIENT_ID);
    assert_eq!(claims["email"], "alice@example.test");
    assert_eq!(claims["email_verified"], true);
    assert_eq!(claims["iss"], "https://accounts.google.com");

    let (status, info) = status_json(app.tokeninfo(access).await).await;
    assert_eq!(status, StatusCode::OK);
    for (key, value) in [
        ("azp", CLIENT_ID),
        ("aud", CLIENT_ID),
        ("email", "alice@example.test"),
        ("email_verified", "true"),
        ("access_type", "offline"),
        ("active", "true"),
        ("expires_in", "3599"),
    ] {
        assert_eq!(info[key], value, "tokeninfo {key}: {info}");
    }
    assert_eq!(info["sub"], claims["sub"]);
    assert!(
        info["exp"]
            .as_str()
            .is_some_and(|e| e.parse::<i64>().is_ok())
    );

    let userinfo = app
        .http
        .get(app.url("/oauth2/v3/userinfo"))
        .bearer_auth(access)
        .send()
        .await
        .expect("userinfo");
    let (status, user) = status_json(userinfo).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(user["sub"], claims["sub"]);
    assert_eq!(user["email"], "alice@example.test");
    assert_eq!(user["email_verified"], true);
}

/// Checks the id_token against `/oauth2/v3/certs` and returns its claims.
async fn verify_id_token(app: &TestApp, id_token: &str) -> Value {
    let (_, jwks) = status_json(
        app.http
            .get(app.url("/oauth2/v3/certs"))
            .send()
            .await
            .expect("certs"),
    )
    .await;
    let key = &jwks["keys"][0];
    let decode = |v: &Value| {
        URL_SAFE_NO_PAD
            .decode(v.as_str().expect("b64"))
            .expect("b64url")
    };
    let public = RsaPublicKeyComponents {
        n: decode(&key["n"]),
        e: decode(&key["e"]),
    };
    let (signing_input, signature) = id_token.rsplit_once('.').expect("jwt");
    public
        .verify(
            &RSA_PKCS1_2048_8192_SHA256,
            signing_input.as_bytes(),
            &URL_SAFE_NO_PAD.decode(signature).expect("sig"),
        )
        .expect("id_token signature verifies with the published key");
    let header: Value = serde_json::from_slice(
        &URL_SAFE_NO_PAD
            .decode(signing_input.split('.').next().expect("header"))
            .expect("b64"),
    )
    .expect("header json");
    assert_eq!(header["kid"], key["kid"]);
    let claims = signing_input.split('.').nth(1).expect("claims");
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(claims).expect("b64")).expect("claims json")
}

#[tokio::test]
async fn deny_redirects_with_access_denied() {
    let app = TestApp::spawn().await;
    let html = app
        .authorize(&[("scope", MAIL_SCOPE)])
        .await
        .text()
        .await
        .expect("page");
    let request_id = input_value(&html, "request_id");
    let response = app
        .http
        .post(app.url("/o/oauth2/v2/auth/decision"))
        .form(&[
            ("request_id", request_id.as_str()),
            ("email", ""),
            ("decision", "deny"),
        ])
        .send()
        .await
        .expect("decision");
    let params = redirect_params(&response);
    assert_eq!(
        params,
        [
            ("error".to_owned(), "access_denied".to_owned()),
            ("state".to_owned(), "st-123".to_owned())
        ]
    );

    // The request is used up.
    let again = app
        .http
        .post(app.url("/o/oauth2/v2/auth/decision"))
        .form(&[
            ("request_id", request_id.as_str()),
            ("email", "a@example.test"),
            ("decision", "allow"),
        ])
        .send()
        .await
        .expect("decision");
    assert_eq!(again.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn a_testing_app_refuses_users_who_are_not_test_users() {
    let app = TestApp::spawn().await;
    app.control()
        .register_client(client().testing(["tester@example.test"]));

    app.control()
        .script_consent("stranger@example.test", Decision::Allow);
    let params = redirect_params(&app.authorize(&[("scope", MAIL_SCOPE)]).await);
    assert_eq!(param(&params, "error").as_deref(), Some("access_denied"));
    assert!(
        param(&params, "error_description")
            .is_some_and(|d| d.contains("has not completed the Google verification process"))
    );
    assert_eq!(param(&params, "state").as_deref(), Some("st-123"));
    assert_eq!(param(&params, "code"), None);

    app.control()
        .script_consent("Tester@example.test", Decision::Allow);
    let params = redirect_params(&app.authorize(&[("scope", MAIL_SCOPE)]).await);
    assert!(param(&params, "code").is_some(), "test users may consent");
}

#[tokio::test]
async fn an_unregistered_redirect_uri_is_an_error_page_never_a_redirect() {
    let app = TestApp::spawn().await;
    // A trailing slash is already a different URI.
    let response = app
        .authorize(&[
            ("scope", MAIL_SCOPE),
            ("redirect_uri", "http://127.0.0.1:9/oauth/callback/"),
        ])
        .await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert!(response.headers().get(header::LOCATION).is_none());
    let html = response.text().await.expect("page");
    assert!(html.contains("Error 400: redirect_uri_mismatch"), "{html}");
}

#[tokio::test]
async fn an_unknown_scope_is_invalid_scope() {
    let app = TestApp::spawn().await;
    let response = app
        .authorize(&[(
            "scope",
            "https://mail.google.com/ https://www.googleapis.com/auth/drive",
        )])
        .await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let html = response.text().await.expect("page");
    assert!(html.contains("Error 400: invalid_scope"), "{html}");
    assert!(html.contains("https://www.googleapis.com/auth/drive"));
}

#[tokio::test]
async fn an_unknown_client_is_invalid_client() {
    let app = TestApp::spawn().await;
    let response = app
        .authorize(&[
            ("scope", MAIL_SCOPE),
            ("client_id", "nobody.apps.googleusercontent.com"),
        ])
        .await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert!(response.headers().get(header::LOCATION).is_none());
    assert!(
        response
            .text()
            .await
            .expect("page")
            .contains("Error 401: invalid_client")
    );
}

#[tokio::test]
async fn scripted_consent_answers_one_request_then_the_page_is_back() {
    let app = TestApp::spawn().await;
    app.control()
        .script_consent("bob@example.test", Decision::Deny);
    let params = redirect_params(&app.authorize(&[("scope", MAIL_SCOPE)]).await);
    assert_eq!(param(&params, "error").as_deref(), Some("access_denied"));
    let page = app.authorize(&[("scope", MAIL_SCOPE)]).await;
    assert_eq!(page.status(), StatusCode::OK, "the queue is empty again");
}

#[tokio::test]
async fn without_prompt_consent_a_second_grant_brings_no_refresh_token() {
    let app = TestApp::spawn().await;
    let first = app.tokens_for("carol@example.test", MAIL_SCOPE).await;
    assert!(first["refresh_token"].is_string());

    app.control()
        .script_consent("carol@example.test", Decision::Allow);
    let params = redirect_params(
        &app.authorize(&[("scope", MAIL_SCOPE), ("prompt", "select_account")])
            .await,
    );
    let response = app
        .post_token(&[
            ("grant_type", "authorization_code"),
            ("code", &param(&params, "code").expect("code")),
            ("redirect_uri", REDIRECT_URI),
            ("client_id", CLIENT_ID),
            ("client_secret", CLIENT_SECRET),
        ])
        .await;
    let (status, second) = status_json(response).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        second.get("refresh_token").is_none(),
        "Google only re-issues with prompt=consent: {second}"
    );
    assert!(
        second.get("id_token").is_none(),
        "no openid scope, no id_token"
    );
}

#[tokio::test]
async fn a_mistyped_email_keeps_the_user_on_the_page() {
    let app = TestApp::spawn().await;
    let html = app
        .authorize(&[("scope", MAIL_SCOPE)])
        .await
        .text()
        .await
        .expect("page");
    let request_id = input_value(&html, "request_id");
    let response = app
        .http
        .post(app.url("/o/oauth2/v2/auth/decision"))
        .form(&[
            ("request_id", request_id.as_str()),
            ("email", "not-an-email"),
            ("decision", "allow"),
        ])
        .send()
        .await
        .expect("decision");
    assert_eq!(response.status(), StatusCode::OK);
    assert!(
        response
            .text()
            .await
            .expect("page")
            .contains("Enter a valid email address.")
    );
}

#[tokio::test]
async fn a_client_registered_later_with_another_uri_is_matched_exactly() {
    let app = TestApp::spawn().await;
    app.control().register_client(ClientRegistration::new(
        "second.apps.googleusercontent.com",
        "s2",
        ["http://localhost:8025/oauth/callback"],
    ));
    let response = app
        .authorize(&[
            ("scope", MAIL_SCOPE),
            ("client_id", "second.apps.googleusercontent.com"),
            ("redirect_uri", REDIRECT_URI),
        ])
        .await;
    assert_eq!(
        response.status(),
        StatusCode::BAD_REQUEST,
        "another client's URI does not count"
    );
}
