//! OpenID Connect bits: `id_token` signing, the JWKS with the emulator's public key, the discovery
//! document, and the readiness probe.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};

use crate::jwt;
use crate::keys;
use crate::scopes::KNOWN_SCOPES;
use crate::state::Shared;

/// Google's issuer, kept so that libraries checking `iss` accept the emulator's id_tokens.
pub const ISSUER: &str = "https://accounts.google.com";

/// An RS256 id_token signed with the emulator's key (verifiable through `/oauth2/v3/certs`).
/// `None` only if signing fails, which the caller treats as "no id_token".
pub fn id_token(
    shared: &Shared,
    client_id: &str,
    email: &str,
    sub: &str,
    nonce: Option<&str>,
    now: i64,
) -> Option<String> {
    let verified = !shared.lock().unverified_emails.contains(email);
    let mut claims = json!({
        "iss": ISSUER,
        "azp": client_id,
        "aud": client_id,
        "sub": sub,
        "email": email,
        "email_verified": verified,
        "iat": now,
        "exp": now + 3600,
    });
    if let (Some(nonce), Some(map)) = (nonce, claims.as_object_mut()) {
        map.insert("nonce".to_owned(), Value::from(nonce));
    }
    if let (Some(hd), Some(map)) = (hosted_domain(email), claims.as_object_mut()) {
        map.insert("hd".to_owned(), Value::from(hd));
    }
    let header = json!({"alg": "RS256", "kid": shared.id_token_key.kid, "typ": "JWT"});
    match jwt::sign_rs256(&shared.id_token_key.key_pair, &header, &claims) {
        Ok(token) => Some(token),
        Err(e) => {
            tracing::error!(error = %e, "could not sign an id_token");
            None
        }
    }
}

/// Workspace accounts carry their domain as `hd`; consumer accounts do not.
pub fn hosted_domain(email: &str) -> Option<&str> {
    let (_, domain) = email.rsplit_once('@')?;
    (!domain.eq_ignore_ascii_case("gmail.com") && !domain.eq_ignore_ascii_case("googlemail.com"))
        .then_some(domain)
}

pub async fn certs(State(shared): State<Arc<Shared>>) -> Response {
    let (n, e) = keys::public_components(&shared.id_token_key.key_pair);
    Json(json!({
        "keys": [{
            "kty": "RSA", "alg": "RS256", "use": "sig",
            "kid": shared.id_token_key.kid,
            "n": URL_SAFE_NO_PAD.encode(n),
            "e": URL_SAFE_NO_PAD.encode(e),
        }]
    }))
    .into_response()
}

pub async fn openid_configuration(State(shared): State<Arc<Shared>>) -> Response {
    let base = &shared.base_url;
    Json(json!({
        "issuer": ISSUER,
        "authorization_endpoint": format!("{base}/o/oauth2/v2/auth"),
        "token_endpoint": format!("{base}/token"),
        "userinfo_endpoint": format!("{base}/oauth2/v3/userinfo"),
        "revocation_endpoint": format!("{base}/revoke"),
        "jwks_uri": format!("{base}/oauth2/v3/certs"),
        "response_types_supported": ["code"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "scopes_supported": KNOWN_SCOPES,
        "token_endpoint_auth_methods_supported": ["client_secret_post", "client_secret_basic"],
        "code_challenge_methods_supported": ["plain", "S256"],
        "grant_types_supported": [
            "authorization_code", "refresh_token", "urn:ietf:params:oauth:grant-type:jwt-bearer"
        ],
    }))
    .into_response()
}

pub async fn healthz() -> Response {
    Json(json!({"status": "ok"})).into_response()
}
