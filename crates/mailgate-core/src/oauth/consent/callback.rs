//! The end of a consent: the provider sends the browser back with a code (or an error); the
//! state is taken, the code traded for tokens, the account checked, the grant stored. The page
//! the browser lands on and the `consent.failed` event are the edges where a failure becomes
//! its diagnosis.

use super::account::signed_in_account;
use super::error::ConsentError;
use super::start::open_verifier;
use super::target::{ConsentTarget, target_of};
use crate::Core;
use crate::events;
use crate::oauth::{scopes, sha256, token_client};
use crate::tokens::{self, CredentialKey};
use mailgate_domain::ExposeSecret;
use mailgate_domain::troubleshoot::{self, Diagnosis, Grant, ProviderKind};
use mailgate_store::{CredentialKind, OAuthStateRow, StateUse};

/// What the provider sent back to `/oauth/callback`.
#[derive(Debug, Default, serde::Deserialize)]
pub struct CallbackParams {
    pub code: Option<String>,
    pub state: Option<String>,
    pub error: Option<String>,
    pub error_description: Option<String>,
}

/// How a consent ended, for the page the browser lands on.
#[derive(Debug)]
pub enum CallbackOutcome {
    Connected {
        server_name: String,
        mailbox: String,
        granted_scope: String,
    },
    Failed {
        server_name: Option<String>,
        diagnosis: Diagnosis,
    },
}

pub async fn callback(core: &Core, params: CallbackParams) -> CallbackOutcome {
    match callback_inner(core, params).await {
        Ok((target, granted_scope)) => CallbackOutcome::Connected {
            server_name: target.server_name,
            mailbox: target.mailbox,
            granted_scope,
        },
        Err((server_name, diagnosis)) => CallbackOutcome::Failed {
            server_name,
            // Hints about the redirect URI name the exact one to register.
            diagnosis: diagnosis.with_redirect_uri(&core.settings.redirect_uri()),
        },
    }
}

/// The consent's server and granted scope, or why it failed (with the server's name once known),
/// as the page tells it: each failure's diagnosis is built once, here.
async fn callback_inner(
    core: &Core,
    params: CallbackParams,
) -> Result<(ConsentTarget, String), (Option<String>, Diagnosis)> {
    let failed = |name: Option<String>, e: ConsentError| (name, e.diagnosis());
    let Some(state) = params.state.as_deref().filter(|s| !s.is_empty()) else {
        return Err(failed(None, ConsentError::state(StateUse::Unknown)));
    };
    let row = match core
        .store
        .take_oauth_state(&sha256(state), core.clock.now_ms())
        .await
    {
        Ok(StateUse::Taken(row)) => row,
        Ok(other) => return Err(failed(None, ConsentError::state(other))),
        Err(e) => return Err(failed(None, ConsentError::internal(e))),
    };
    let target = target_of(core, row.server_id)
        .await
        .map_err(|e| failed(None, e))?;
    let name = Some(target.server_name.clone());
    let provider = ProviderKind::from(target.app.provider);
    if let Some(error) = params.error.as_deref() {
        let diagnosis =
            troubleshoot::authorization_error(provider, error, params.error_description.as_deref());
        consent_failed(core, &target, &diagnosis).await;
        return Err((name, diagnosis));
    }
    let Some(code) = params.code.as_deref().filter(|c| !c.is_empty()) else {
        return Err((
            name,
            troubleshoot::authorization_error(
                provider,
                "invalid_request",
                Some("the provider sent neither a code nor an error"),
            ),
        ));
    };
    match finish(core, &target, &row, code).await {
        Ok(granted_scope) => Ok((target, granted_scope)),
        Err(error) => {
            let diagnosis = error.diagnosis();
            consent_failed(core, &target, &diagnosis).await;
            Err((name, diagnosis))
        }
    }
}

async fn consent_failed(core: &Core, target: &ConsentTarget, diagnosis: &Diagnosis) {
    events::record(
        core,
        crate::events::EventKind::ConsentFailed,
        Some(&target.server_id.to_string()),
        serde_json::json!({"server": target.server_name, "diagnosis": diagnosis}),
    )
    .await;
}

/// Trades the code, checks the account, stores the grant. Returns the granted scope.
async fn finish(
    core: &Core,
    target: &ConsentTarget,
    row: &OAuthStateRow,
    code: &str,
) -> Result<String, ConsentError> {
    let verifier = open_verifier(core, row).map_err(ConsentError::internal)?;
    let provider = ProviderKind::from(target.app.provider);
    let redirect_uri = core.settings.redirect_uri();
    let secret = target
        .app_secrets
        .get("client_secret")
        .map(|s| s.expose_secret().to_owned())
        .unwrap_or_default();
    let mut form = vec![
        ("grant_type", "authorization_code"),
        ("code", code),
        ("redirect_uri", redirect_uri.as_str()),
        ("client_id", target.app.client_id.as_str()),
        ("code_verifier", verifier.as_str()),
    ];
    if !secret.is_empty() {
        form.push(("client_secret", secret.as_str()));
    }
    let answer = token_client::request(
        &core.http,
        provider,
        &target.app.token_url,
        Grant::AuthorizationCode,
        &form,
    )
    .await?;
    let key = CredentialKey {
        kind: CredentialKind::OAuthGrant,
        owner_id: target.app_id,
        subject: target.mailbox.to_lowercase(),
        scope: String::new(),
    };
    let account = signed_in_account(core, &target.app, &answer).await?;
    if !account.email.eq_ignore_ascii_case(&target.mailbox) {
        return Err(ConsentError::Refused(troubleshoot::account_mismatch(
            &target.mailbox,
            &account.email,
        )));
    }
    if account.verified == Some(false) {
        let refused = troubleshoot::email_unverified(provider, &account.email);
        return Err(refuse(core, &key, refused).await);
    }
    let granted = answer
        .scope
        .clone()
        .unwrap_or_else(|| target.app.scopes.join(" "));
    if let Some(refused) = scope_refused(target, &granted) {
        return Err(refuse(core, &key, refused).await);
    }
    let Some(refresh) = answer.refresh_token.as_ref() else {
        return Err(ConsentError::NoRefreshToken);
    };
    tokens::store_grant(core, &key, refresh, &answer, &granted)
        .await
        .map_err(ConsentError::internal)?;
    // The mailbox waiting for this grant starts reading now.
    core.mailbox_wake.poke();
    events::record(
        core,
        crate::events::EventKind::CredentialConnected,
        Some(&target.server_id.to_string()),
        serde_json::json!({"server": target.server_name, "mailbox": target.mailbox, "scope": granted}),
    )
    .await;
    Ok(granted)
}

/// The diagnosis when `granted` (the provider's `scope`, or the scopes asked for when it sent
/// none, as RFC 6749 allows for an unchanged grant) lacks what the server's protocol needs.
fn scope_refused(target: &ConsentTarget, granted: &str) -> Option<Diagnosis> {
    let needed = scopes::needed(target.app.provider, target.mail_use, &target.app.scopes);
    let missing = scopes::missing(&needed, granted);
    let first = missing.first()?;
    let needed = match first.as_slice() {
        [one] => one.clone(),
        several => format!("any of {}", several.join(", ")),
    };
    Some(troubleshoot::scope_not_granted(
        ProviderKind::from(target.app.provider),
        &needed,
        granted,
    ))
}

/// Keeps the reason a consent was refused on the credential (the server stays
/// `authorization_required` with it in `last_error`), and returns it for the page.
async fn refuse(core: &Core, key: &CredentialKey, diagnosis: Diagnosis) -> ConsentError {
    if let Err(e) = tokens::record_refused_consent(core, key, &diagnosis).await {
        tracing::error!(error = %e, "could not record a refused consent");
    }
    ConsentError::Refused(diagnosis)
}
