//! Requests to an OAuth2 token endpoint, every failure sorted into a [`TokenError`] (with the
//! catalog's diagnosis of it) where it is known.

use crate::token_error::TokenError;
use mailgate_domain::error_chain;
use mailgate_domain::troubleshoot::{
    self, Code, Diagnosis, Grant, ProviderKind, TokenRequest, TransportFailure,
};
use secrecy::SecretString;
use serde::Deserialize;

/// A successful token answer. Tokens are secrets: `Debug` hides them.
pub struct TokenResponse {
    pub access_token: SecretString,
    pub expires_in_secs: i64,
    pub refresh_token: Option<SecretString>,
    pub scope: Option<String>,
    pub id_token: Option<String>,
}

impl std::fmt::Debug for TokenResponse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenResponse")
            .field("expires_in_secs", &self.expires_in_secs)
            .field("has_refresh_token", &self.refresh_token.is_some())
            .field("scope", &self.scope)
            .finish_non_exhaustive()
    }
}

#[derive(Deserialize)]
struct Success {
    access_token: String,
    #[serde(default)]
    expires_in: Option<serde_json::Value>,
    refresh_token: Option<String>,
    scope: Option<String>,
    id_token: Option<String>,
}

#[derive(Deserialize)]
struct Failure {
    error: String,
    error_description: Option<String>,
    error_subtype: Option<String>,
}

/// POSTs a form to the token endpoint for `grant`. The grant labels the metrics and tells the
/// catalog what was refused: an `invalid_grant` to a refresh is a grant that ended, to a code
/// exchange a sign-in to start again.
pub async fn request(
    http: &reqwest::Client,
    provider: ProviderKind,
    token_url: &str,
    grant: Grant,
    form: &[(&str, &str)],
) -> Result<TokenResponse, TokenError> {
    let field = |name: &str| form.iter().find(|(k, _)| *k == name).map(|(_, v)| *v);
    // Public values only (never the code, the tokens, the secret or the assertion).
    let asked = TokenRequest {
        grant: Some(grant),
        client_id: field("client_id"),
        scopes: &[],
        redirect_uri: field("redirect_uri"),
    };
    let outcome = send(http, provider, token_url, &asked, form).await;
    let label = match &outcome {
        Ok(_) => "ok",
        Err(e) => e.diagnosis().code.as_str(),
    };
    let grant_label = match grant {
        Grant::AuthorizationCode => "authorization_code",
        Grant::RefreshToken => "refresh_token",
        Grant::JwtBearer => "jwt_bearer",
    };
    metrics::counter!("mailgate_token_requests_total", "grant" => grant_label, "outcome" => label)
        .increment(1);
    outcome
}

async fn send(
    http: &reqwest::Client,
    provider: ProviderKind,
    token_url: &str,
    asked: &TokenRequest<'_>,
    form: &[(&str, &str)],
) -> Result<TokenResponse, TokenError> {
    let response = http
        .post(token_url)
        .header("Accept", "application/json")
        .form(form)
        .send()
        .await
        .map_err(|e| transport(&e, token_url))?;
    let status = response.status().as_u16();
    let body = response
        .text()
        .await
        .map_err(|e| transport(&e, token_url))?;
    if (200..300).contains(&status) {
        let ok: Success = serde_json::from_str(&body)
            .map_err(|_| TokenError::Refused(unreadable(token_url, status)))?;
        let expires_in = match ok.expires_in {
            Some(serde_json::Value::Number(n)) => n.as_i64(),
            Some(serde_json::Value::String(s)) => s.parse().ok(),
            _ => None,
        }
        // A provider that says nothing gets the common one hour.
        .unwrap_or(3600);
        return Ok(TokenResponse {
            access_token: ok.access_token.into(),
            expires_in_secs: expires_in.max(0),
            refresh_token: ok
                .refresh_token
                .filter(|r| !r.is_empty())
                .map(SecretString::from),
            scope: ok.scope,
            id_token: ok.id_token,
        });
    }
    match serde_json::from_str::<Failure>(&body) {
        Ok(f) => {
            // Google puts `invalid_rapt` in `error_subtype`; the catalog reads descriptions.
            let description = match (f.error_description, f.error_subtype) {
                (Some(d), Some(sub)) if !d.contains(&sub) => Some(format!("{d} ({sub})")),
                (None, Some(sub)) => Some(sub),
                (d, _) => d,
            };
            // What the provider refused, or says is down for now: the catalog sorts it.
            Err(TokenError::classify(troubleshoot::token_request_error(
                asked,
                provider,
                status,
                &f.error,
                description.as_deref(),
            )))
        }
        Err(_) if status == 429 || status >= 500 => {
            Err(TokenError::classify(troubleshoot::token_request_error(
                asked,
                provider,
                status,
                "temporarily_unavailable",
                None,
            )))
        }
        // Not an OAuth2 answer: the token URL points elsewhere. Sorted as a refusal (someone
        // must fix it before it works), as the catalog's severity for the code says.
        Err(_) => Err(TokenError::Refused(unreadable(token_url, status))),
    }
}

pub(crate) fn unreadable(url: &str, status: u16) -> Diagnosis {
    Diagnosis::new(
        Code::TokenEndpointUnreadable,
        format!(
            "the token endpoint {url} answered HTTP {status} with a body that is not an OAuth2 answer"
        ),
        "check the OAuth app's token URL: it must be the provider's token endpoint (for Google https://oauth2.googleapis.com/token)",
    )
}

/// A connection-level failure (DNS, refused, TLS, timeouts) on the way to `url`: none for now,
/// the provider refused nothing.
pub fn transport(error: &reqwest::Error, url: &str) -> TokenError {
    TokenError::Unavailable(transport_diagnosis(error, url))
}

/// Connection-level failures in the catalog's terms.
fn transport_diagnosis(error: &reqwest::Error, url: &str) -> Diagnosis {
    let parsed = url::Url::parse(url).ok();
    let host = parsed
        .as_ref()
        .and_then(|u| u.host_str())
        .unwrap_or_default()
        .to_owned();
    let port = parsed
        .as_ref()
        .and_then(url::Url::port_or_known_default)
        .unwrap_or(443);
    let chain = error_chain(error);
    let lower = chain.to_ascii_lowercase();
    let failure = if error.is_timeout() {
        TransportFailure::Timeout {
            host,
            port,
            what: "an answer".into(),
        }
    } else if lower.contains("dns error")
        || lower.contains("failed to lookup")
        || lower.contains("name or service not known")
    {
        TransportFailure::Dns { host }
    } else if lower.contains("unknownissuer") || lower.contains("unknown issuer") {
        TransportFailure::TlsUnknownIssuer { host }
    } else if lower.contains("notvalidforname") || lower.contains("not valid for name") {
        TransportFailure::TlsNameMismatch { host }
    } else if lower.contains("expired") && lower.contains("certificate") {
        TransportFailure::TlsExpired { host }
    } else if lower.contains("certificate") || lower.contains("tls") || lower.contains("handshake")
    {
        TransportFailure::Tls {
            host,
            detail: chain,
        }
    } else if lower.contains("connection refused") {
        TransportFailure::Refused { host, port }
    } else {
        TransportFailure::Closed { host }
    };
    troubleshoot::transport_error(failure)
}
