//! The service-account grant (`urn:ietf:params:oauth:grant-type:jwt-bearer`): an RS256 assertion
//! signed with the account's key, optionally impersonating a Workspace user (`sub`) through
//! domain-wide delegation.

use serde_json::{Value, json};

use super::oauth_error::{OAuthError, text};
use super::params::Params;
use crate::jwt::DecodedJwt;
use crate::scopes;
use crate::state::{
    AccessToken, ServiceAccount, Shared, State as EmulatorState, new_access_token, subject_for,
};
use crate::types::ACCESS_TOKEN_LIFETIME_SECS;

/// Clock skew tolerated on `iat` and `exp`, in seconds.
const SKEW_SECS: i64 = 300;
const MAX_LIFETIME_SECS: i64 = 3600;

/// The client ID a jwt-bearer request is counted under: the service account's numeric ID when
/// the assertion names a registered account, else the `iss` as written.
pub fn client_id_for_counting(state: &EmulatorState, params: &Params) -> Option<String> {
    let jwt = DecodedJwt::parse(params.get("assertion")?).ok()?;
    let iss = jwt.claim_str("iss")?;
    Some(
        state
            .service_accounts
            .get(iss)
            .map_or_else(|| iss.to_owned(), |sa| sa.client_id.clone()),
    )
}

pub fn grant(shared: &Shared, params: &Params, now: i64) -> Result<Value, OAuthError> {
    let assertion = params
        .get("assertion")
        .ok_or_else(|| OAuthError::missing("assertion"))?;
    let jwt =
        DecodedJwt::parse(assertion).map_err(|_| OAuthError::invalid_grant(text::BAD_REQUEST))?;
    if jwt.header_str("alg") != Some("RS256") {
        return Err(OAuthError::invalid_grant(text::INVALID_JWT_SIGNATURE));
    }
    let mut state = shared.lock();
    let account = account_for(&state, &jwt)?;
    check_audience(shared, &jwt)?;
    check_timeframe(&jwt, now)?;

    let requested = scopes::split(jwt.claim_str("scope").unwrap_or_default());
    if requested.is_empty() || !scopes::unknown(&requested).is_empty() {
        return Err(OAuthError::invalid_scope(text::INVALID_SA_SCOPE));
    }
    let granted = scopes::normalize(&requested);

    let (email, sub) = match jwt.claim_str("sub").filter(|s| !s.is_empty()) {
        Some(user) => {
            check_delegation(&state, &account, &granted)?;
            let user = user.to_ascii_lowercase();
            if !user_exists(shared, &state, &user) {
                return Err(OAuthError::invalid_request(text::INVALID_PRINCIPAL));
            }
            let sub = subject_for(&user);
            (user, sub)
        }
        None => (account.client_email.clone(), account.client_id.clone()),
    };
    let access = state.insert_access(
        Some(new_access_token(true)),
        AccessToken {
            email,
            sub,
            client_id: account.client_id.clone(),
            scopes: granted,
            issued_at: now,
            expires_at: now + ACCESS_TOKEN_LIFETIME_SECS,
            revoked: false,
            refresh_token: None,
            offline: false,
        },
    );
    // Google's service-account answer has no scope and never a refresh token.
    Ok(json!({
        "access_token": access,
        "expires_in": ACCESS_TOKEN_LIFETIME_SECS,
        "token_type": "Bearer",
    }))
}

/// The registered account named by `iss`, whose key (and `kid`, when given) signed the assertion.
fn account_for(state: &EmulatorState, jwt: &DecodedJwt) -> Result<ServiceAccount, OAuthError> {
    let iss = jwt.claim_str("iss").unwrap_or_default();
    let account = state
        .service_accounts
        .get(iss)
        .ok_or_else(|| OAuthError::invalid_grant(text::ACCOUNT_NOT_FOUND))?;
    if jwt
        .header_str("kid")
        .is_some_and(|kid| kid != account.key_id)
    {
        return Err(OAuthError::invalid_grant(text::INVALID_JWT_SIGNATURE));
    }
    jwt.verify_rs256(&account.public_der)
        .map_err(|_| OAuthError::invalid_grant(text::INVALID_JWT_SIGNATURE))?;
    Ok(account.clone())
}

fn check_audience(shared: &Shared, jwt: &DecodedJwt) -> Result<(), OAuthError> {
    let aud = jwt.claim_str("aud").unwrap_or_default();
    if shared.accepted_audiences().iter().any(|a| a == aud) {
        return Ok(());
    }
    Err(OAuthError::invalid_grant(format!(
        "Invalid JWT: Failed audience check. The expected value was {}/token but got {aud}.",
        shared.base_url
    )))
}

/// `iat` and `exp` present, `exp` after `iat` by at most an hour, and "now" inside the window
/// give or take the skew.
fn check_timeframe(jwt: &DecodedJwt, now: i64) -> Result<(), OAuthError> {
    let ok = match (jwt.claim_i64("iat"), jwt.claim_i64("exp")) {
        (Some(iat), Some(exp)) => {
            exp > iat
                && exp - iat <= MAX_LIFETIME_SECS
                && iat <= now + SKEW_SECS
                && exp >= now - SKEW_SECS
        }
        _ => false,
    };
    if ok {
        Ok(())
    } else {
        Err(OAuthError::invalid_grant(text::JWT_TIMEFRAME))
    }
}

/// Every requested scope must be in the admin console entry for the account's client ID.
fn check_delegation(
    state: &EmulatorState,
    account: &ServiceAccount,
    granted: &[String],
) -> Result<(), OAuthError> {
    let delegated = state
        .delegations
        .get(&account.client_id)
        .map(|scopes| scopes::normalize(scopes))
        .unwrap_or_default();
    if granted.iter().all(|s| delegated.contains(s)) {
        Ok(())
    } else {
        Err(OAuthError::unauthorized_client())
    }
}

/// Users of the local (Workspace) domain exist, plus those added through control.
fn user_exists(shared: &Shared, state: &EmulatorState, email: &str) -> bool {
    let in_domain = email.rsplit_once('@').is_some_and(|(local, domain)| {
        !local.is_empty() && domain.eq_ignore_ascii_case(&shared.config.local_domain)
    });
    in_domain || state.users.contains(email)
}
