//! The token endpoint: client authentication and the authorization-code grant's failures.

use reqwest::StatusCode;

use crate::helpers::*;

#[tokio::test]
async fn an_unknown_client_or_a_wrong_secret_is_invalid_client() {
    let app = TestApp::spawn().await;
    let unknown = app
        .post_token(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", "1//x"),
            ("client_id", "nobody"),
            ("client_secret", "x"),
        ])
        .await;
    assert_oauth_error(
        unknown,
        401,
        "invalid_client",
        "The OAuth client was not found.",
    )
    .await;

    let wrong_secret = app
        .post_token(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", "1//x"),
            ("client_id", CLIENT_ID),
            ("client_secret", "wrong"),
        ])
        .await;
    assert_oauth_error(wrong_secret, 401, "invalid_client", "Unauthorized").await;

    let basic_wrong = app
        .http
        .post(app.url("/oauth2/v4/token"))
        .basic_auth(CLIENT_ID, Some("wrong"))
        .form(&[("grant_type", "refresh_token"), ("refresh_token", "1//x")])
        .send()
        .await
        .expect("token");
    assert_oauth_error(basic_wrong, 401, "invalid_client", "Unauthorized").await;
}

#[tokio::test]
async fn http_basic_client_authentication_works() {
    let app = TestApp::spawn().await;
    let (verifier, challenge) = pkce_pair();
    let params = app
        .consent_code("dave@example.test", MAIL_SCOPE, &challenge)
        .await;
    let response = app
        .http
        .post(app.url("/token"))
        .basic_auth(CLIENT_ID, Some(CLIENT_SECRET))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", &param(&params, "code").expect("code")),
            ("redirect_uri", REDIRECT_URI),
            ("code_verifier", &verifier),
        ])
        .send()
        .await
        .expect("token");
    assert_eq!(response.status(), StatusCode::OK);
}

#[tokio::test]
async fn a_pkce_mismatch_is_invalid_grant() {
    let app = TestApp::spawn().await;
    let (_, challenge) = pkce_pair();
    let (other_verifier, _) = pkce_pair();
    let params = app
        .consent_code("erin@example.test", MAIL_SCOPE, &challenge)
        .await;
    let response = app
        .exchange_code(&param(&params, "code").expect("code"), &other_verifier)
        .await;
    assert_oauth_error(response, 400, "invalid_grant", "Bad Request").await;
}

#[tokio::test]
async fn a_missing_verifier_is_named() {
    let app = TestApp::spawn().await;
    let (_, challenge) = pkce_pair();
    let params = app
        .consent_code("erin@example.test", MAIL_SCOPE, &challenge)
        .await;
    let response = app
        .post_token(&[
            ("grant_type", "authorization_code"),
            ("code", &param(&params, "code").expect("code")),
            ("redirect_uri", REDIRECT_URI),
            ("client_id", CLIENT_ID),
            ("client_secret", CLIENT_SECRET),
        ])
        .await;
    assert_oauth_error(response, 400, "invalid_grant", "Missing code verifier.").await;
}

#[tokio::test]
async fn a_code_works_once() {
    let app = TestApp::spawn().await;
    let (verifier, challenge) = pkce_pair();
    let params = app
        .consent_code("frank@example.test", MAIL_SCOPE, &challenge)
        .await;
    let code = param(&params, "code").expect("code");
    assert_eq!(
        app.exchange_code(&code, &verifier).await.status(),
        StatusCode::OK
    );
    let replay = app.exchange_code(&code, &verifier).await;
    assert_oauth_error(replay, 400, "invalid_grant", "Bad Request").await;
}

#[tokio::test]
async fn a_code_expires_after_ten_minutes() {
    let app = TestApp::spawn().await;
    let (verifier, challenge) = pkce_pair();
    let params = app
        .consent_code("gina@example.test", MAIL_SCOPE, &challenge)
        .await;
    app.control().advance_clock(601);
    let response = app
        .exchange_code(&param(&params, "code").expect("code"), &verifier)
        .await;
    assert_oauth_error(response, 400, "invalid_grant", "Bad Request").await;
}

#[tokio::test]
async fn another_redirect_uri_at_exchange_is_redirect_uri_mismatch() {
    let app = TestApp::spawn().await;
    let (verifier, challenge) = pkce_pair();
    let params = app
        .consent_code("hank@example.test", MAIL_SCOPE, &challenge)
        .await;
    let response = app
        .post_token(&[
            ("grant_type", "authorization_code"),
            ("code", &param(&params, "code").expect("code")),
            ("redirect_uri", "http://127.0.0.1:9/other"),
            ("client_id", CLIENT_ID),
            ("client_secret", CLIENT_SECRET),
            ("code_verifier", &verifier),
        ])
        .await;
    assert_oauth_error(response, 400, "redirect_uri_mismatch", "Bad Request").await;
}

#[tokio::test]
async fn grant_types_and_parameters_are_checked() {
    let app = TestApp::spawn().await;
    let unsupported = app
        .post_token(&[("grant_type", "password"), ("client_id", CLIENT_ID)])
        .await;
    assert_oauth_error(
        unsupported,
        400,
        "unsupported_grant_type",
        "Invalid grant_type: password",
    )
    .await;
    let missing = app.post_token(&[("client_id", CLIENT_ID)]).await;
    assert_oauth_error(
        missing,
        400,
        "unsupported_grant_type",
        "Invalid grant_type: ",
    )
    .await;
    let no_code = app
        .post_token(&[
            ("grant_type", "authorization_code"),
            ("client_id", CLIENT_ID),
            ("client_secret", CLIENT_SECRET),
        ])
        .await;
    assert_oauth_error(
        no_code,
        400,
        "invalid_request",
        "Missing required parameter: code",
    )
    .await;
    let no_client = app
        .post_token(&[("grant_type", "refresh_token"), ("refresh_token", "1//x")])
        .await;
    assert_oauth_error(
        no_client,
        400,
        "invalid_request",
        "Could not determine client ID from request.",
    )
    .await;
}
