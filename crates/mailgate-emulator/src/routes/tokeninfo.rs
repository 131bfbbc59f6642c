//! Token inspection and revocation: tokeninfo (what Dovecot's oauth2 passdb calls on every IMAP,
//! POP3 and SMTP login), userinfo, RFC 7662 introspection, and `/revoke`.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::discovery::hosted_domain;
use super::oauth_error::{OAuthError, ok_json, text};
use super::outage;
use super::params::{self, Params};
use crate::scopes;
use crate::state::{AccessToken, Shared};

/// `GET|POST /tokeninfo?access_token=T`. Every value is a string, as Google sends them. Any
/// unusable token is 400: Dovecot reads 4xx as "invalid token" and anything else (including a
/// 200 with a negative `expires_in`) as an internal error.
pub async fn tokeninfo(
    State(shared): State<Arc<Shared>>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    shared.lock().counters.tokeninfo_calls += 1;
    if let Err(failure) = outage::oauth_gate(&shared).await {
        return failure;
    }
    let params = Params::from_query(query.as_deref()).merged(Params::from_body(&headers, &body));
    // Some clients send the token as a bearer header instead of the parameter.
    let bearer = params::bearer_token(&headers);
    let Some(token) = params.get("access_token").or(bearer.as_deref()) else {
        return OAuthError::invalid_request(
            "either access_token, id_token, or token_handle required",
        )
        .into_response();
    };
    let now = shared.clock.now();
    let Some(access) = shared.lock().valid_access(token, now).cloned() else {
        return OAuthError::invalid_token().into_response();
    };
    // Deviation: Google includes `email` only for tokens with the email scope; Dovecot's passdb
    // needs it for every token, so it is always there.
    ok_json(json!({
        "azp": access.client_id,
        "aud": access.client_id,
        "sub": access.sub,
        "scope": scopes::join(&access.scopes),
        "exp": access.expires_at.to_string(),
        "expires_in": (access.expires_at - now).to_string(),
        "email": access.email,
        "email_verified": "true",
        "access_type": if access.offline { "offline" } else { "online" },
        "active": "true",
    }))
}

/// `GET /oauth2/v3/userinfo` with a bearer token (or `access_token` in the query).
pub async fn userinfo(
    State(shared): State<Arc<Shared>>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    shared.lock().counters.userinfo_calls += 1;
    if let Err(failure) = outage::oauth_gate(&shared).await {
        return failure;
    }
    let token = params::bearer_token(&headers).or_else(|| {
        Params::from_query(query.as_deref())
            .get("access_token")
            .map(str::to_owned)
    });
    let now = shared.clock.now();
    let access = token.and_then(|t| shared.lock().valid_access(&t, now).cloned());
    match access {
        Some(access) => {
            let verified = !shared.lock().unverified_emails.contains(&access.email);
            ok_json(userinfo_body(&access, verified))
        }
        None => {
            let mut response = OAuthError::new(
                StatusCode::UNAUTHORIZED,
                "invalid_request",
                text::INVALID_CREDENTIALS,
            )
            .into_response();
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static(
                    "Bearer realm=\"https://accounts.google.com/\", error=\"invalid_token\"",
                ),
            );
            response
        }
    }
}

/// As Google: `email` and `email_verified` only when the token has the email scope.
fn userinfo_body(access: &AccessToken, verified: bool) -> serde_json::Value {
    let mut body = json!({"sub": access.sub});
    let has_email_scope = access
        .scopes
        .iter()
        .any(|s| s == scopes::USERINFO_EMAIL || s == "email");
    if has_email_scope {
        body["email"] = json!(access.email);
        body["email_verified"] = json!(verified);
        if let Some(hd) = hosted_domain(&access.email) {
            body["hd"] = json!(hd);
        }
    }
    body
}

/// `POST /introspect` (RFC 7662), for Dovecot's `introspection_mode = post`.
pub async fn introspect(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    shared.lock().counters.tokeninfo_calls += 1;
    if let Err(failure) = outage::oauth_gate(&shared).await {
        return failure;
    }
    let params = Params::from_body(&headers, &body);
    let now = shared.clock.now();
    let access = params
        .get("token")
        .and_then(|t| shared.lock().valid_access(t, now).cloned());
    match access {
        Some(a) => ok_json(json!({
            "active": true,
            "scope": scopes::join(&a.scopes),
            "client_id": a.client_id,
            "username": a.email,
            "email": a.email,
            "sub": a.sub,
            "exp": a.expires_at,
            "iat": a.issued_at,
            "token_type": "Bearer",
        })),
        None => ok_json(json!({"active": false})),
    }
}

/// `POST /revoke?token=T` (or `token` in the form body). Revoking an access token also revokes
/// its refresh token, and the other way round.
pub async fn revoke(
    State(shared): State<Arc<Shared>>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    shared.lock().counters.revoke_calls += 1;
    if let Err(failure) = outage::oauth_gate(&shared).await {
        return failure;
    }
    let params = Params::from_query(query.as_deref()).merged(Params::from_body(&headers, &body));
    let Some(token) = params.get("token") else {
        return OAuthError::invalid_request("Missing required Parameter: token").into_response();
    };
    let now = shared.clock.now();
    if shared.lock().revoke_grant(token, now) {
        ok_json(json!({}))
    } else {
        OAuthError::new(
            StatusCode::BAD_REQUEST,
            "invalid_token",
            text::REVOKE_INVALID,
        )
        .into_response()
    }
}
