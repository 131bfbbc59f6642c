//! The start of a consent: a single-use `state` (kept hashed) and a PKCE verifier (kept sealed),
//! and the provider's authorization URL.

use super::error::ConsentError;
use super::target::{ConsentTarget, ServerKind, target, target_of};
use crate::oauth::{pkce, random_token, sha256};
use crate::objects::ServiceError;
use crate::{Core, secrets::SecretError};
use mailgate_domain::troubleshoot::Diagnosis;
use mailgate_domain::{FieldError, FieldErrors};
use mailgate_store::{OAuthStateRow, StateUse};
use serde::Serialize;

/// How long a consent may take, from `start` to the callback.
pub const STATE_LIFETIME_MS: i64 = 10 * 60 * 1000;

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AuthorizationStart {
    /// Send the admin's browser here to sign in as the mailbox and consent.
    pub authorization_url: String,
    /// The same, through mailgate: redirects to `authorization_url` (a link to hand to the mailbox's owner).
    pub start_url: String,
    /// The redirect URI registered at the provider must be exactly this.
    pub redirect_uri: String,
    /// The account to sign in as.
    pub mailbox: String,
    pub expires_at: String,
}

fn verifier_aad(state_hash: &[u8]) -> String {
    let hex: String = state_hash.iter().map(|b| format!("{b:02x}")).collect();
    format!("oauth_states:{hex}")
}

/// Starts a consent for a server.
pub async fn start(
    core: &Core,
    kind: ServerKind,
    id: &str,
) -> Result<AuthorizationStart, ServiceError> {
    let target = target(core, kind, id).await?;
    let state = random_token()?;
    let verifier = random_token()?;
    let state_hash = sha256(&state);
    let now = core.clock.now_ms();
    let row = OAuthStateRow {
        sealed_verifier: core
            .cipher
            .seal(&verifier_aad(&state_hash), verifier.as_bytes())?
            .into(),
        state_hash,
        server_id: target.server_id,
        created_at_ms: now,
        expires_at_ms: now + STATE_LIFETIME_MS,
        used_at_ms: None,
    };
    core.store.insert_oauth_state(&row).await?;
    Ok(AuthorizationStart {
        authorization_url: authorization_url(core, &target, &state, &verifier)?,
        start_url: format!("{}/oauth/start?state={state}", core.settings.base_url),
        redirect_uri: core.settings.redirect_uri(),
        mailbox: target.mailbox,
        expires_at: crate::clock::rfc3339(row.expires_at_ms),
    })
}

fn authorization_url(
    core: &Core,
    target: &ConsentTarget,
    state: &str,
    verifier: &str,
) -> Result<String, ServiceError> {
    let mut url = url::Url::parse(&target.app.authorization_url).map_err(|e| {
        FieldErrors::from(FieldError::new(
            "authorization_url",
            format!("the OAuth app's authorization URL is not a URL: {e}"),
        ))
    })?;
    url.query_pairs_mut()
        .append_pair("response_type", "code")
        .append_pair("client_id", &target.app.client_id)
        .append_pair("redirect_uri", &core.settings.redirect_uri())
        .append_pair("scope", &target.app.scopes.join(" "))
        .append_pair("state", state)
        .append_pair("code_challenge", &pkce::challenge(verifier))
        .append_pair("code_challenge_method", "S256")
        // Offline access with a fresh consent: without both, a repeat consent returns no refresh token.
        .append_pair("access_type", "offline")
        .append_pair("prompt", "consent")
        .append_pair("login_hint", &target.mailbox);
    Ok(url.into())
}

/// The provider URL for a `start_url`, while its state is unused and fresh. The browser's page
/// reads the diagnosis when there is none.
pub async fn start_redirect(core: &Core, state: &str) -> Result<String, Diagnosis> {
    redirect(core, state).await.map_err(|e| e.diagnosis())
}

async fn redirect(core: &Core, state: &str) -> Result<String, ConsentError> {
    let hash = sha256(state);
    let row = core
        .store
        .find_oauth_state(&hash)
        .await
        .map_err(ConsentError::internal)?;
    let row = match row {
        None => return Err(ConsentError::state(StateUse::Unknown)),
        Some(r) if r.used_at_ms.is_some() => {
            return Err(ConsentError::state(StateUse::AlreadyUsed));
        }
        Some(r) if r.expires_at_ms <= core.clock.now_ms() => {
            return Err(ConsentError::state(StateUse::Expired));
        }
        Some(r) => r,
    };
    let verifier = open_verifier(core, &row).map_err(ConsentError::internal)?;
    let target = target_of(core, row.server_id).await?;
    authorization_url(core, &target, state, &verifier).map_err(|_| ConsentError::ServerGone)
}

pub(super) fn open_verifier(core: &Core, row: &OAuthStateRow) -> Result<String, SecretError> {
    let bytes = core
        .cipher
        .open(&verifier_aad(&row.state_hash), &row.sealed_verifier)?;
    String::from_utf8(bytes).map_err(|_| SecretError::Open)
}
