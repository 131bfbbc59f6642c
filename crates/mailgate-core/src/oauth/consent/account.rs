//! Who signed in: the account a consent was given by, as the provider says.

use super::error::ConsentError;
use crate::Core;
use crate::oauth::{TokenResponse, token_client};
use mailgate_domain::ExposeSecret;
use mailgate_domain::oauth_app::OAuthAppSpec;

/// Who signed in, as the provider says.
pub(super) struct SignedIn {
    pub(super) email: String,
    /// `email_verified`, when the provider says (Microsoft's ID tokens do not).
    pub(super) verified: Option<bool>,
}

/// The account that consented: the `email` of the ID token (received straight from the token
/// endpoint over verified TLS, which OpenID Connect accepts in place of checking its signature),
/// else the userinfo endpoint.
pub(super) async fn signed_in_account(
    core: &Core,
    app: &OAuthAppSpec,
    answer: &TokenResponse,
) -> Result<SignedIn, ConsentError> {
    if let Some(account) = answer.id_token.as_deref().and_then(id_token_account) {
        return Ok(account);
    }
    if let Some(url) = &app.userinfo_url {
        let response = core
            .http
            .get(url)
            .bearer_auth(answer.access_token.expose_secret())
            .send()
            .await
            .map_err(|e| token_client::transport(&e, url))?;
        if response.status().is_success() {
            let body: serde_json::Value = response.json().await.unwrap_or_default();
            if let Some(email) = body.get("email").and_then(|e| e.as_str()) {
                return Ok(SignedIn {
                    email: email.to_owned(),
                    verified: email_verified(&body),
                });
            }
        }
    }
    Err(ConsentError::AccountUnknown)
}

fn id_token_account(id_token: &str) -> Option<SignedIn> {
    use base64::Engine;
    let payload = id_token.split('.').nth(1)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .ok()?;
    let claims: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
    let email = claims
        .get("email")
        .and_then(|e| e.as_str())
        .or_else(|| claims.get("preferred_username").and_then(|e| e.as_str()))?;
    Some(SignedIn {
        email: email.to_owned(),
        verified: email_verified(&claims),
    })
}

/// `email_verified` as a boolean, or as the string some providers send (Google's tokeninfo).
fn email_verified(claims: &serde_json::Value) -> Option<bool> {
    match claims.get("email_verified")? {
        serde_json::Value::Bool(b) => Some(*b),
        serde_json::Value::String(s) => s.parse().ok(),
        _ => None,
    }
}
