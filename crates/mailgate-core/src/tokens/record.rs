//! What is written to a credential: a grant just consented to, a consent mailgate refused, grants
//! dropped, a failure to renew. The credential's `last_error` is where a person later reads why:
//! the one place here that turns an error into its diagnosis.

use super::cache::{Cached, Sealed, refresh_at, seal};
use super::key::CredentialKey;
use crate::Core;
use crate::events;
use crate::oauth::TokenResponse;
use crate::secrets::SecretError;
use crate::token_error::TokenError;
use mailgate_domain::troubleshoot::{Code, Diagnosis};
use mailgate_domain::{ExposeSecret, Id, SecretString};
use mailgate_store::{CredentialKind, CredentialRow, StoreError};

pub const CONNECTED: &str = "connected";
pub const NEEDS_REAUTHORIZATION: &str = "needs_reauthorization";
pub const FAILED: &str = "failed";
/// A consent was refused by mailgate (a permission not granted, an unverified address): no
/// tokens are kept, and the diagnosis waits in `last_error` for the next sign-in.
pub const AUTHORIZATION_REQUIRED: &str = "authorization_required";

/// Stores a grant just consented to (replacing an earlier one for the same app and mailbox).
pub async fn store_grant(
    core: &Core,
    key: &CredentialKey,
    refresh: &SecretString,
    answer: &TokenResponse,
    granted: &str,
) -> Result<(), SecretError> {
    let now = core.clock.now_ms();
    let lifetime = answer.expires_in_secs * 1000;
    let sealed = Sealed {
        refresh_token: Some(refresh.expose_secret().to_owned()),
        access_token: Some(answer.access_token.expose_secret().to_owned()),
    };
    let row = CredentialRow {
        id: Id::new(),
        kind: key.kind,
        owner_id: key.owner_id,
        subject: key.subject.clone(),
        scope: key.scope.clone(),
        granted_scope: granted.to_owned(),
        sealed: Some(seal(core, key, &sealed)?.into()),
        access_expires_at_ms: Some(now + lifetime),
        refresh_at_ms: Some(refresh_at(now, lifetime)),
        status: CONNECTED.into(),
        last_error: None,
        failures: 0,
        created_at_ms: now,
        updated_at_ms: now,
    };
    core.store.upsert_credential(&row).await?;
    // The new grant replaces whatever this node had cached.
    *core.tokens.slot(key).lock().await = Some(Cached {
        token: answer.access_token.clone(),
        expires_at_ms: now + lifetime,
    });
    Ok(())
}

/// Records a consent that mailgate refused (`diagnosis` says why) for the credential `key`, so
/// that the server shows `authorization_required` with the reason. A grant that works already
/// (an earlier consent) is left as it is; anything else is replaced, tokens dropped.
pub async fn record_refused_consent(
    core: &Core,
    key: &CredentialKey,
    diagnosis: &Diagnosis,
) -> Result<(), StoreError> {
    let existing = core
        .store
        .find_credential(key.kind, key.owner_id, &key.subject, &key.scope)
        .await?;
    if existing.as_ref().is_some_and(|r| r.status == CONNECTED) {
        return Ok(());
    }
    forget_grant(core, key, existing.as_ref(), diagnosis).await
}

/// Drops every grant of OAuth app `app_id` (its endpoints changed): the tokens are forgotten and
/// the credentials wait for a new consent with `diagnosis` as their last error.
pub async fn drop_grants_of(
    core: &Core,
    app_id: Id,
    diagnosis: &Diagnosis,
) -> Result<(), StoreError> {
    let grants: Vec<CredentialRow> = core
        .store
        .list_credentials()
        .await?
        .into_iter()
        .filter(|r| r.kind == CredentialKind::OAuthGrant && r.owner_id == app_id)
        .collect();
    for row in &grants {
        forget_grant(core, &CredentialKey::of(row), Some(row), diagnosis).await?;
    }
    Ok(())
}

/// Replaces the credential `key` (`existing`, when there is one) by one without tokens, waiting
/// for a consent, with `diagnosis` as its last error.
async fn forget_grant(
    core: &Core,
    key: &CredentialKey,
    existing: Option<&CredentialRow>,
    diagnosis: &Diagnosis,
) -> Result<(), StoreError> {
    let slot = core.tokens.slot(key);
    let mut cached = slot.lock().await;
    let now = core.clock.now_ms();
    let row = CredentialRow {
        id: existing.map_or_else(Id::new, |r| r.id),
        kind: key.kind,
        owner_id: key.owner_id,
        subject: key.subject.clone(),
        scope: key.scope.clone(),
        granted_scope: String::new(),
        sealed: None,
        access_expires_at_ms: None,
        refresh_at_ms: None,
        status: AUTHORIZATION_REQUIRED.into(),
        last_error: serde_json::to_string(diagnosis).ok(),
        failures: existing.map_or(0, |r| r.failures) + 1,
        created_at_ms: existing.map_or(now, |r| r.created_at_ms),
        updated_at_ms: now,
    };
    core.store.upsert_credential(&row).await?;
    *cached = None;
    Ok(())
}

/// Transient: keep the token, retry later with backoff. Dead grant or broken configuration: mark
/// the credential, raise an event once.
pub(super) async fn record_failure(
    core: &Core,
    key: &CredentialKey,
    row: CredentialRow,
    error: &TokenError,
) {
    let diagnosis = error.diagnosis();
    let now = core.clock.now_ms();
    metrics::counter!("mailgate_token_failures_total", "cause" => diagnosis.code.as_str())
        .increment(1);
    let last_error = serde_json::to_string(diagnosis).ok();
    let updated = if error.is_transient() {
        let failures = row.failures + 1;
        // 30 s, 1 min, 2 min, ... up to 15 min.
        let backoff = (30_000_i64 << (failures - 1).clamp(0, 5)).min(15 * 60_000);
        CredentialRow {
            refresh_at_ms: Some(now + backoff),
            last_error,
            failures,
            updated_at_ms: now,
            ..row
        }
    } else {
        let status = if key.kind == CredentialKind::OAuthGrant && error.needs_reauthorization() {
            NEEDS_REAUTHORIZATION
        } else {
            FAILED
        };
        let was = row.status.clone();
        let updated = CredentialRow {
            status: status.into(),
            last_error,
            failures: row.failures + 1,
            updated_at_ms: now,
            ..row
        };
        if was != status {
            let kind = if status == NEEDS_REAUTHORIZATION {
                crate::events::EventKind::CredentialNeedsReauthorization
            } else {
                crate::events::EventKind::CredentialFailed
            };
            events::record(core, kind, Some(&updated.id.to_string()), serde_json::json!({"mailbox": key.subject, "owner_id": key.owner_id, "diagnosis": diagnosis})).await;
        }
        updated
    };
    if let Err(e) = core.store.upsert_credential(&updated).await {
        tracing::error!(error = %e, "could not record a token failure");
    }
}

/// Why a credential that is not connected gives no token, as it was recorded.
pub(super) fn stored_error(row: &CredentialRow) -> TokenError {
    TokenError::classify(stored_diagnosis(&row.status, row.last_error.as_deref()))
}

/// The diagnosis a credential was marked with, as it was (its code found again in the catalog).
pub(crate) fn stored_diagnosis(status: &str, last_error: Option<&str>) -> Diagnosis {
    #[derive(serde::Deserialize)]
    struct Stored {
        code: String,
        message: String,
        hint: String,
    }
    // Without a recorded reason, the status says which code (and so which severity) it is.
    let fallback = match status {
        AUTHORIZATION_REQUIRED => Code::AuthorizationRequired,
        NEEDS_REAUTHORIZATION => Code::NeedsReauthorization,
        _ => Code::CredentialFailed,
    };
    let stored: Option<Stored> = last_error.and_then(|e| serde_json::from_str(e).ok());
    let Some(stored) = stored else {
        return Diagnosis::new(
            fallback,
            "the credential stopped working",
            "authorize the server again",
        );
    };
    let code = Code::parse(&stored.code).unwrap_or(fallback);
    Diagnosis::new(code, stored.message, stored.hint)
}

/// No account has consented for the mailbox yet.
pub fn authorization_required() -> Diagnosis {
    Diagnosis::new(
        Code::AuthorizationRequired,
        "no account has signed in and consented for this mailbox yet",
        "authorize the server: POST /api/v1/{incoming,outgoing}-servers/{id}/authorize and open the URL as the mailbox",
    )
}
