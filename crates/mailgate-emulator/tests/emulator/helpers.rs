//! One emulator per test (port 0, nothing shared) and the HTTP steps most tests repeat.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use mailgate_emulator::{ClientRegistration, Control, Emulator, EmulatorConfig, RunningEmulator};
use reqwest::{Response, StatusCode, header};
use ring::digest;
use serde_json::Value;

pub const CLIENT_ID: &str = "test-client.apps.googleusercontent.com";
pub const CLIENT_SECRET: &str = "test-secret";
pub const REDIRECT_URI: &str = "http://127.0.0.1:9/oauth/callback";
pub const MAIL_SCOPE: &str = "https://mail.google.com/";
pub const SEND_SCOPE: &str = "https://www.googleapis.com/auth/gmail.send";

pub struct TestApp {
    pub emulator: RunningEmulator,
    pub http: reqwest::Client,
}

impl TestApp {
    /// An emulator with the default config and the standard test client registered.
    pub async fn spawn() -> Self {
        Self::spawn_with(EmulatorConfig::default()).await
    }

    pub async fn spawn_with(config: EmulatorConfig) -> Self {
        // reqwest is built without a default crypto provider; another test may have set it.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let emulator = Emulator::start(config).await.expect("emulator starts");
        emulator.control().register_client(client());
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("http client");
        Self { emulator, http }
    }

    pub fn control(&self) -> &Control {
        self.emulator.control()
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.emulator.base_url())
    }

    pub async fn post_token(&self, form: &[(&str, &str)]) -> Response {
        self.http
            .post(self.url("/token"))
            .form(form)
            .send()
            .await
            .expect("token request")
    }

    pub async fn refresh(&self, refresh_token: &str) -> Response {
        self.post_token(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token),
            ("client_id", CLIENT_ID),
            ("client_secret", CLIENT_SECRET),
        ])
        .await
    }

    pub async fn tokeninfo(&self, token: &str) -> Response {
        self.http
            .get(self.url("/tokeninfo"))
            .query(&[("access_token", token)])
            .send()
            .await
            .expect("tokeninfo request")
    }

    /// GET the authorization endpoint with the standard client and these extra parameters.
    pub async fn authorize(&self, extra: &[(&str, &str)]) -> Response {
        let mut query = vec![
            ("response_type", "code"),
            ("client_id", CLIENT_ID),
            ("redirect_uri", REDIRECT_URI),
            ("state", "st-123"),
            ("access_type", "offline"),
            ("prompt", "consent"),
        ];
        for (name, value) in extra {
            query.retain(|(n, _)| n != name);
            query.push((name, value));
        }
        self.http
            .get(self.url("/o/oauth2/v2/auth"))
            .query(&query)
            .send()
            .await
            .expect("authorization request")
    }

    /// Scripted consent: the redirect's query parameters after `email` allowed `scope`.
    pub async fn consent_code(
        &self,
        email: &str,
        scope: &str,
        challenge: &str,
    ) -> Vec<(String, String)> {
        self.control()
            .script_consent(email, mailgate_emulator::Decision::Allow);
        let response = self
            .authorize(&[
                ("scope", scope),
                ("code_challenge", challenge),
                ("code_challenge_method", "S256"),
            ])
            .await;
        redirect_params(&response)
    }

    /// Scripted consent + code exchange: the token response of `email` for `scope`.
    pub async fn tokens_for(&self, email: &str, scope: &str) -> Value {
        let (verifier, challenge) = pkce_pair();
        let params = self.consent_code(email, scope, &challenge).await;
        let code = param(&params, "code").expect("code in redirect");
        let response = self.exchange_code(&code, &verifier).await;
        assert_eq!(response.status(), StatusCode::OK);
        response.json().await.expect("token json")
    }

    pub async fn exchange_code(&self, code: &str, verifier: &str) -> Response {
        self.post_token(&[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", REDIRECT_URI),
            ("client_id", CLIENT_ID),
            ("client_secret", CLIENT_SECRET),
            ("code_verifier", verifier),
        ])
        .await
    }

    /// A one-hour token for `email` minted through control.
    pub fn mint(&self, email: &str, scope: &str) -> String {
        self.control()
            .mint_access_token(mailgate_emulator::MintAccessToken {
                scope: Some(scope.to_owned()),
                ..mailgate_emulator::MintAccessToken::for_email(email)
            })
            .expect("mint")
            .access_token
    }
}

pub fn client() -> ClientRegistration {
    ClientRegistration::new(CLIENT_ID, CLIENT_SECRET, [REDIRECT_URI])
}

/// A PKCE verifier and its S256 challenge.
pub fn pkce_pair() -> (String, String) {
    let verifier = format!("v{}", uuid::Uuid::new_v4().simple()).repeat(2);
    let challenge = URL_SAFE_NO_PAD.encode(digest::digest(&digest::SHA256, verifier.as_bytes()));
    (verifier, challenge)
}

/// The query parameters of a 302's Location.
pub fn redirect_params(response: &Response) -> Vec<(String, String)> {
    assert_eq!(response.status(), StatusCode::FOUND, "expected a redirect");
    let location = response
        .headers()
        .get(header::LOCATION)
        .and_then(|v| v.to_str().ok())
        .expect("Location header");
    assert!(
        location.starts_with(REDIRECT_URI),
        "redirects to the registered URI: {location}"
    );
    let url = url::Url::parse(location).expect("Location is a URL");
    url.query_pairs().into_owned().collect()
}

pub fn param(params: &[(String, String)], name: &str) -> Option<String> {
    params
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.clone())
}

/// Status and JSON body of a response.
pub async fn status_json(response: Response) -> (StatusCode, Value) {
    let status = response.status();
    let body = response.json().await.expect("JSON body");
    (status, body)
}

/// Asserts Google's OAuth error shape.
pub async fn assert_oauth_error(response: Response, status: u16, error: &str, description: &str) {
    let (got_status, body) = status_json(response).await;
    assert_eq!(got_status.as_u16(), status, "status of {body}");
    assert_eq!(body["error"], error, "error of {body}");
    assert_eq!(
        body["error_description"], description,
        "description of {body}"
    );
}

/// Asserts Google's API error shape and returns the body.
pub async fn assert_gmail_error(
    response: Response,
    code: u16,
    status: &str,
    reason: &str,
) -> Value {
    let (got_status, body) = status_json(response).await;
    assert_eq!(got_status.as_u16(), code, "status of {body}");
    let error = &body["error"];
    assert_eq!(error["code"], code, "{body}");
    assert_eq!(error["status"], status, "{body}");
    assert_eq!(error["errors"][0]["reason"], reason, "{body}");
    assert!(
        error["message"].as_str().is_some_and(|m| !m.is_empty()),
        "{body}"
    );
    assert!(error["errors"][0]["domain"].is_string(), "{body}");
    body
}
