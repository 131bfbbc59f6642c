//! Handing out access tokens: from memory, else from the store, else from the provider, one
//! request per credential however many callers wait; and the background refresher's step.

use super::cache::{AccessToken, Cached, Sealed, open, refresh_at, seal};
use super::key::CredentialKey;
use super::record::{CONNECTED, FAILED, authorization_required, record_failure, stored_error};
use crate::Core;
use crate::oauth::TokenResponse;
use crate::objects::{OAuthApps, Objects};
use crate::token_error::TokenError;
use mailgate_domain::troubleshoot::{Grant, ProviderKind};
use mailgate_domain::{ExposeSecret, Id, SecretString};
use mailgate_store::{CredentialKind, CredentialRow, StoreError};

/// How long a credential that failed for a configuration reason waits before it is tried again.
const RETRY_FAILED_AFTER_MS: i64 = 60_000;

/// A token is handed out only while it has at least this long to live.
const MIN_REMAINING_MS: i64 = 60_000;

/// A usable access token for the credential: from memory, else from the store, else (only when
/// none is valid any more: the background refresher normally prevents that) from the provider.
pub async fn access_token(core: &Core, key: &CredentialKey) -> Result<AccessToken, TokenError> {
    access_token_lasting(core, key, MIN_REMAINING_MS).await
}

/// As [`access_token`], for a token that lives at least `min_remaining_ms` more (at least a
/// minute): one closer to its end is renewed now. A session that reconnects to change tokens
/// asks for this, so that it never reconnects with the token it is replacing.
pub async fn access_token_lasting(
    core: &Core,
    key: &CredentialKey,
    min_remaining_ms: i64,
) -> Result<AccessToken, TokenError> {
    let min_remaining_ms = min_remaining_ms.max(MIN_REMAINING_MS);
    let slot = core.tokens.slot(key);
    let mut cached = slot.lock().await;
    let now = core.clock.now_ms();
    if let Some(c) = cached
        .as_ref()
        .filter(|c| c.expires_at_ms - min_remaining_ms > now)
    {
        return Ok(c.handed_out());
    }
    let row = find(core, key).await?;
    if let Some(row) = &row {
        // A dead grant waits for a new consent. A credential that failed for a configuration
        // reason (wrong secret, delegation missing) is tried again when asked, at most once a
        // minute, so fixing the configuration is enough to bring it back.
        let retry_failed = row.status == FAILED && now - row.updated_at_ms >= RETRY_FAILED_AFTER_MS;
        if row.status != CONNECTED && !retry_failed {
            return Err(stored_error(row));
        }
        // Another node (or the refresher) may have renewed it already.
        if let (
            Some(expires),
            Ok(Sealed {
                access_token: Some(token),
                ..
            }),
        ) = (row.access_expires_at_ms, open(core, key, row))
            && expires - min_remaining_ms > now
        {
            let token = AccessToken {
                token: SecretString::from(token),
                expires_at_ms: expires,
            };
            *cached = Some(Cached::of(&token));
            return Ok(token);
        }
    } else if key.kind == CredentialKind::OAuthGrant {
        return Err(TokenError::Refused(authorization_required()));
    }
    renew_cached(core, key, row, &mut cached).await
}

/// Renews through the provider and keeps the answer in the slot (the caller holds its lock).
async fn renew_cached(
    core: &Core,
    key: &CredentialKey,
    row: Option<CredentialRow>,
    cached: &mut Option<Cached>,
) -> Result<AccessToken, TokenError> {
    let renewed = renew(core, key, row).await;
    keep(cached, &renewed);
    renewed
}

/// A fresh access token after a server refused `rejected` before its expiry (revoked, or the
/// provider restarted): asks the provider for a new one, unless another caller already did.
pub async fn replace_rejected(
    core: &Core,
    key: &CredentialKey,
    rejected: &SecretString,
) -> Result<AccessToken, TokenError> {
    let slot = core.tokens.slot(key);
    let mut cached = slot.lock().await;
    if let Some(c) = cached.as_ref()
        && c.token.expose_secret() != rejected.expose_secret()
        && c.expires_at_ms - MIN_REMAINING_MS > core.clock.now_ms()
    {
        return Ok(c.handed_out());
    }
    *cached = None;
    let row = find(core, key).await?;
    if let Some(r) = &row
        && r.status != CONNECTED
    {
        return Err(stored_error(r));
    }
    renew_cached(core, key, row, &mut cached).await
}

/// Renews every credential that is due (the background refresher's one step). Returns how many
/// were renewed.
pub async fn refresh_due(core: &Core) -> Result<usize, StoreError> {
    let due = core.store.credentials_due(core.clock.now_ms()).await?;
    let mut renewed = 0;
    for row in due {
        let key = CredentialKey::of(&row);
        let slot = core.tokens.slot(&key);
        let mut cached = slot.lock().await;
        // Someone may have renewed it while this step waited for the lock.
        let Some(current) = core.store.get_credential(row.id).await? else {
            continue;
        };
        if current.status != CONNECTED
            || current
                .refresh_at_ms
                .is_none_or(|at| at > core.clock.now_ms())
        {
            continue;
        }
        let fresh = renew(core, &key, Some(current)).await;
        keep(&mut cached, &fresh);
        renewed += usize::from(fresh.is_ok());
    }
    Ok(renewed)
}

/// Keeps a fresh token in the slot. A grant the provider refused is not used again, even if its
/// last access token has minutes left: the provider revoked that one too, and callers must see
/// the credential's state. A failure for now leaves the cached token to its callers.
fn keep(cached: &mut Option<Cached>, renewed: &Result<AccessToken, TokenError>) {
    match renewed {
        Ok(fresh) => *cached = Some(Cached::of(fresh)),
        Err(e) if !e.is_transient() => *cached = None,
        Err(_) => {}
    }
}

/// Asks the provider for a new access token and records the outcome. The caller holds the slot.
async fn renew(
    core: &Core,
    key: &CredentialKey,
    row: Option<CredentialRow>,
) -> Result<AccessToken, TokenError> {
    let now = core.clock.now_ms();
    let sealed = match &row {
        Some(r) => open(core, key, r).map_err(|e| corrupt(&e))?,
        None => Sealed::default(),
    };
    let outcome = match key.kind {
        CredentialKind::OAuthGrant => {
            refresh_grant(core, key, sealed.refresh_token.as_deref()).await
        }
        CredentialKind::ServiceAccount => {
            crate::oauth::service_account::fetch_token(core, key.owner_id, &key.subject, &key.scope)
                .await
        }
    };
    let base = row.unwrap_or_else(|| CredentialRow {
        id: Id::new(),
        kind: key.kind,
        owner_id: key.owner_id,
        subject: key.subject.clone(),
        scope: key.scope.clone(),
        granted_scope: key.scope.clone(),
        sealed: None,
        access_expires_at_ms: None,
        refresh_at_ms: None,
        status: CONNECTED.into(),
        last_error: None,
        failures: 0,
        created_at_ms: now,
        updated_at_ms: now,
    });
    let answer = match outcome {
        Ok(answer) => answer,
        Err(error) => {
            record_failure(core, key, base, &error).await;
            return Err(error);
        }
    };
    let was_failing = base.status != CONNECTED;
    let lifetime = answer.expires_in_secs * 1000;
    // Providers that rotate refresh tokens (Microsoft) send a new one each time: keep it.
    let refresh_token = answer
        .refresh_token
        .as_ref()
        .map(|r| r.expose_secret().to_owned())
        .or(sealed.refresh_token);
    let sealed = Sealed {
        refresh_token,
        access_token: Some(answer.access_token.expose_secret().to_owned()),
    };
    let row = CredentialRow {
        granted_scope: answer.scope.clone().unwrap_or(base.granted_scope.clone()),
        sealed: Some(seal(core, key, &sealed).map_err(|e| corrupt(&e))?.into()),
        access_expires_at_ms: Some(now + lifetime),
        refresh_at_ms: Some(refresh_at(now, lifetime)),
        status: CONNECTED.into(),
        last_error: None,
        failures: 0,
        updated_at_ms: now,
        ..base
    };
    core.store
        .upsert_credential(&row)
        .await
        .map_err(|e| TokenError::store(&e))?;
    if was_failing {
        // Watchers pausing after this credential's failure try again now.
        core.mailbox_wake.poke();
    }
    Ok(AccessToken {
        token: answer.access_token,
        expires_at_ms: now + lifetime,
    })
}

/// The credential's row, if there is one.
async fn find(core: &Core, key: &CredentialKey) -> Result<Option<CredentialRow>, TokenError> {
    core.store
        .find_credential(key.kind, key.owner_id, &key.subject, &key.scope)
        .await
        .map_err(|e| TokenError::store(&e))
}

/// Stored tokens or an OAuth app that cannot be read back: the store failed.
fn corrupt(e: &dyn std::fmt::Display) -> TokenError {
    TokenError::store(&StoreError::Corrupt(e.to_string()))
}

async fn refresh_grant(
    core: &Core,
    key: &CredentialKey,
    refresh_token: Option<&str>,
) -> Result<TokenResponse, TokenError> {
    let Some(refresh_token) = refresh_token else {
        return Err(TokenError::Refused(authorization_required()));
    };
    let (_, app, secrets) = Objects::<OAuthApps>::load(core, key.owner_id)
        .await
        .map_err(|e| corrupt(&e))?;
    let secret = secrets
        .get("client_secret")
        .map(|s| s.expose_secret().to_owned())
        .unwrap_or_default();
    let mut form = vec![
        ("grant_type", "refresh_token"),
        ("refresh_token", refresh_token),
        ("client_id", app.client_id.as_str()),
    ];
    if !secret.is_empty() {
        form.push(("client_secret", secret.as_str()));
    }
    crate::oauth::token_client::request(
        &core.http,
        ProviderKind::from(app.provider),
        &app.token_url,
        Grant::RefreshToken,
        &form,
    )
    .await
}
