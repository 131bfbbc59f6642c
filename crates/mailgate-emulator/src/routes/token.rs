//! `POST /token`: dispatch by grant type, client authentication, and the authorization-code and
//! refresh-token grants. The service-account grant lives in `jwt_bearer.rs`.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ring::digest;
use serde_json::{Value, json};

use super::discovery;
use super::jwt_bearer;
use super::oauth_error::{OAuthError, ok_json, text};
use super::outage;
use super::params::{self, Params};
use crate::scopes;
use crate::state::{
    AccessToken, RefreshToken, Shared, State as EmulatorState, new_refresh_token, subject_for,
};
use crate::types::{ClientRegistration, PublishingStatus, TESTING_REFRESH_LIFETIME_SECS};

const JWT_BEARER: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";

pub async fn token(State(shared): State<Arc<Shared>>, headers: HeaderMap, body: Bytes) -> Response {
    let params = Params::from_body(&headers, &body);
    let basic = params::basic_credentials(&headers);
    let grant_type = params.get("grant_type").unwrap_or_default().to_owned();
    let client_id = {
        let mut state = shared.lock();
        let client_id = match grant_type.as_str() {
            JWT_BEARER => jwt_bearer::client_id_for_counting(&state, &params),
            _ => basic
                .as_ref()
                .map(|(id, _)| id.clone())
                .or_else(|| params.get("client_id").map(str::to_owned)),
        };
        state.count_token_request(client_id.as_deref(), &grant_type);
        client_id
    };
    if let Err(failure) = outage::oauth_gate(&shared).await {
        return failure;
    }
    if let Err(failure) = outage::client_token_gate(&shared, client_id.as_deref()).await {
        return failure;
    }
    let now = shared.clock.now();
    let result = match grant_type.as_str() {
        "authorization_code" => authorization_code(&shared, &params, basic, now),
        "refresh_token" => refresh_token(&shared, &params, basic, now),
        JWT_BEARER => jwt_bearer::grant(&shared, &params, now),
        other => Err(OAuthError::unsupported_grant_type(other)),
    };
    match result {
        Ok(body) => ok_json(body),
        Err(error) => error.into_response(),
    }
}

/// Client authentication by HTTP Basic or by form fields (Basic wins when both are present).
fn authenticate_client(
    state: &EmulatorState,
    params: &Params,
    basic: Option<(String, String)>,
) -> Result<ClientRegistration, OAuthError> {
    let (client_id, secret) = match basic {
        Some((id, secret)) => (Some(id), Some(secret)),
        None => (
            params.get("client_id").map(str::to_owned),
            params.get("client_secret").map(str::to_owned),
        ),
    };
    let client_id = client_id.ok_or_else(|| OAuthError::invalid_request(text::NO_CLIENT_ID))?;
    let client = state
        .clients
        .get(&client_id)
        .ok_or_else(OAuthError::client_not_found)?;
    match secret {
        None => Err(OAuthError::invalid_request(text::NO_CLIENT_SECRET)),
        Some(secret) if secret != client.client_secret => Err(OAuthError::wrong_client_secret()),
        Some(_) => Ok(client.clone()),
    }
}

fn authorization_code(
    shared: &Shared,
    params: &Params,
    basic: Option<(String, String)>,
    now: i64,
) -> Result<Value, OAuthError> {
    let mut state = shared.lock();
    let client = authenticate_client(&state, params, basic)?;
    let code_text = params
        .get("code")
        .ok_or_else(|| OAuthError::missing("code"))?;
    let Some(code) = state.codes.get_mut(code_text) else {
        return Err(OAuthError::invalid_grant(text::BAD_REQUEST));
    };
    if code.used || code.expires_at <= now || code.client_id != client.client_id {
        return Err(OAuthError::invalid_grant(text::BAD_REQUEST));
    }
    // One presentation burns the code, whatever happens next.
    code.used = true;
    let code = code.clone();
    let redirect_uri = params
        .get("redirect_uri")
        .ok_or_else(|| OAuthError::missing("redirect_uri"))?;
    if redirect_uri != code.redirect_uri {
        // Google's wording here, not invalid_grant.
        return Err(OAuthError::new(
            axum::http::StatusCode::BAD_REQUEST,
            "redirect_uri_mismatch",
            text::BAD_REQUEST,
        ));
    }
    if let Some((challenge, method)) = &code.code_challenge {
        let verifier = params
            .get("code_verifier")
            .ok_or_else(|| OAuthError::invalid_grant(text::MISSING_CODE_VERIFIER))?;
        if !pkce_matches(verifier, challenge, method) {
            return Err(OAuthError::invalid_grant(text::BAD_REQUEST));
        }
    }

    let sub = subject_for(&code.email);
    let refresh = code.issue_refresh_token.then(|| {
        state
            .offline_grants
            .insert((client.client_id.clone(), code.email.clone()));
        let record = RefreshToken {
            email: code.email.clone(),
            client_id: Some(client.client_id.clone()),
            scopes: code.scopes.clone(),
            granted_at: now,
            revoked: false,
        };
        state.insert_refresh(None, record)
    });
    let access = state.insert_access(
        None,
        AccessToken {
            email: code.email.clone(),
            sub: sub.clone(),
            client_id: client.client_id.clone(),
            scopes: code.scopes.clone(),
            issued_at: now,
            expires_at: now + client.access_token_lifetime(),
            revoked: false,
            refresh_token: refresh.clone(),
            offline: refresh.is_some(),
        },
    );
    drop(state);
    let mut body = token_body(&access, &code.scopes, client.access_token_lifetime());
    if let Some(refresh) = refresh {
        body["refresh_token"] = Value::from(refresh);
    }
    if scopes::wants_id_token(&code.scopes) {
        let id_token = discovery::id_token(
            shared,
            &client.client_id,
            &code.email,
            &sub,
            code.nonce.as_deref(),
            now,
        );
        if let Some(id_token) = id_token {
            body["id_token"] = Value::from(id_token);
        }
    }
    Ok(body)
}

fn refresh_token(
    shared: &Shared,
    params: &Params,
    basic: Option<(String, String)>,
    now: i64,
) -> Result<Value, OAuthError> {
    let mut state = shared.lock();
    let client = authenticate_client(&state, params, basic)?;
    let token = params
        .get("refresh_token")
        .ok_or_else(|| OAuthError::missing("refresh_token"))?
        .to_owned();
    let record = match state.refresh_tokens.get(&token) {
        Some(record) if !record.revoked => record.clone(),
        _ => return Err(OAuthError::invalid_grant(text::EXPIRED_OR_REVOKED)),
    };
    if record
        .client_id
        .as_ref()
        .is_some_and(|id| *id != client.client_id)
    {
        return Err(OAuthError::new(
            axum::http::StatusCode::BAD_REQUEST,
            "unauthorized_client",
            text::UNAUTHORIZED,
        ));
    }
    if state.reauth_required.contains(&record.email) {
        return Err(OAuthError::reauth_required());
    }
    if client.publishing_status == PublishingStatus::Testing
        && now >= record.granted_at + TESTING_REFRESH_LIFETIME_SECS
    {
        state.revoke_refresh(&token);
        return Err(OAuthError::invalid_grant(text::EXPIRED_OR_REVOKED));
    }
    // An optional `scope` narrows the new access token to a subset of the grant.
    let granted = match params.get("scope") {
        None => record.scopes.clone(),
        Some(requested) => {
            let requested = scopes::normalize(&scopes::split(requested));
            let extra: Vec<&String> = requested
                .iter()
                .filter(|s| !record.scopes.contains(s))
                .collect();
            if !extra.is_empty() {
                let extra: Vec<&str> = extra.iter().map(|s| s.as_str()).collect();
                return Err(OAuthError::invalid_scope(format!(
                    "Some requested scopes were invalid. {{invalid=[{}]}}",
                    extra.join(", ")
                )));
            }
            requested
        }
    };
    let rotated = client.rotate_refresh_tokens.then(|| {
        let new_token = new_refresh_token();
        if let Some(old) = state.refresh_tokens.get_mut(&token) {
            old.revoked = true;
        }
        let mut successor = record.clone();
        successor.client_id = Some(client.client_id.clone());
        state.insert_refresh(Some(new_token), successor)
    });
    let parent = rotated.clone().unwrap_or_else(|| token.clone());
    let sub = subject_for(&record.email);
    let access = state.insert_access(
        None,
        AccessToken {
            email: record.email.clone(),
            sub: sub.clone(),
            client_id: client.client_id.clone(),
            scopes: granted.clone(),
            issued_at: now,
            expires_at: now + client.access_token_lifetime(),
            revoked: false,
            refresh_token: Some(parent),
            offline: true,
        },
    );
    drop(state);
    let mut body = token_body(&access, &granted, client.access_token_lifetime());
    if let Some(rotated) = rotated {
        body["refresh_token"] = Value::from(rotated);
    }
    if scopes::wants_id_token(&granted)
        && let Some(id_token) =
            discovery::id_token(shared, &client.client_id, &record.email, &sub, None, now)
    {
        body["id_token"] = Value::from(id_token);
    }
    Ok(body)
}

fn token_body(access_token: &str, granted: &[String], lifetime_secs: i64) -> Value {
    json!({
        "access_token": access_token,
        "expires_in": lifetime_secs,
        "scope": scopes::join(granted),
        "token_type": "Bearer",
    })
}

/// RFC 7636: S256 compares base64url(SHA-256(verifier)) with the challenge.
fn pkce_matches(verifier: &str, challenge: &str, method: &str) -> bool {
    match method {
        "S256" => {
            URL_SAFE_NO_PAD.encode(digest::digest(&digest::SHA256, verifier.as_bytes()))
                == challenge
        }
        _ => verifier == challenge,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pkce_s256_matches_the_rfc_7636_example() {
        let verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
        let challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
        assert!(pkce_matches(verifier, challenge, "S256"));
        assert!(!pkce_matches("other", challenge, "S256"));
        assert!(pkce_matches(challenge, challenge, "plain"));
    }
}
