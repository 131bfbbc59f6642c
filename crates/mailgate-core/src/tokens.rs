//! Access tokens: cached in memory and sealed in the store, renewed *before* they expire by a
//! background task (at about 80% of their life, with jitter), one request per credential however
//! many callers wait (single flight). A rotated refresh token is stored with the new access token.
//! A dead grant marks its credential and raises an event; it never touches other credentials.

use crate::Core;
use crate::events;
use crate::oauth::TokenResponse;
use crate::objects::{OAuthApps, Objects};
use mailgate_domain::troubleshoot::{Code, Diagnosis, ProviderKind, Severity};
use mailgate_domain::{ExposeSecret, Id, SecretString};
use mailgate_store::{CredentialKind, CredentialRow, StoreError};
use ring::rand::SecureRandom;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// How long a credential that failed for a configuration reason waits before it is tried again.
const RETRY_FAILED_AFTER_MS: i64 = 60_000;

/// A token is handed out only while it has at least this long to live.
const MIN_REMAINING_MS: i64 = 60_000;

pub const CONNECTED: &str = "connected";
pub const NEEDS_REAUTHORIZATION: &str = "needs_reauthorization";
pub const FAILED: &str = "failed";
/// A consent was refused by mailgate (a permission not granted, an unverified address): no
/// tokens are kept, and the diagnosis waits in `last_error` for the next sign-in.
pub const AUTHORIZATION_REQUIRED: &str = "authorization_required";

/// What identifies a credential.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CredentialKey {
    pub kind: CredentialKind,
    /// The OAuth app or the service account.
    pub owner_id: Id,
    /// The mailbox, lower-cased.
    pub subject: String,
    /// Service accounts: the scope asked for; OAuth grants: empty.
    pub scope: String,
}

impl CredentialKey {
    /// Sealed tokens are bound to the key (not to the row id, which a new consent may keep).
    fn aad(&self) -> String {
        format!(
            "credentials:{}:{}:{}:{}",
            self.kind.as_str(),
            self.owner_id,
            self.subject,
            self.scope
        )
    }

    fn of(row: &CredentialRow) -> Self {
        Self {
            kind: row.kind,
            owner_id: row.owner_id,
            subject: row.subject.clone(),
            scope: row.scope.clone(),
        }
    }
}

/// An access token ready to use.
pub struct AccessToken {
    pub token: SecretString,
    pub expires_at_ms: i64,
}

impl std::fmt::Debug for AccessToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AccessToken")
            .field("expires_at_ms", &self.expires_at_ms)
            .finish_non_exhaustive()
    }
}

struct Cached {
    token: SecretString,
    expires_at_ms: i64,
}

type Slot = Arc<tokio::sync::Mutex<Option<Cached>>>;

/// The in-memory side: one slot per credential; holding a slot's lock is what makes a refresh
/// single-flight.
#[derive(Default)]
pub struct TokenManager {
    slots: Mutex<HashMap<CredentialKey, Slot>>,
}

impl TokenManager {
    fn slot(&self, key: &CredentialKey) -> Slot {
        let mut slots = self.slots.lock().unwrap_or_else(|p| p.into_inner());
        slots.entry(key.clone()).or_default().clone()
    }
}

#[derive(serde::Serialize, serde::Deserialize)]
struct Sealed {
    #[serde(skip_serializing_if = "Option::is_none")]
    refresh_token: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    access_token: Option<String>,
}

fn seal(
    core: &Core,
    key: &CredentialKey,
    sealed: &Sealed,
) -> Result<Vec<u8>, crate::secrets::SecretError> {
    let json = serde_json::to_vec(sealed).map_err(|_| crate::secrets::SecretError::Open)?;
    core.cipher.seal(&key.aad(), &json)
}

fn open(
    core: &Core,
    key: &CredentialKey,
    row: &CredentialRow,
) -> Result<Sealed, crate::secrets::SecretError> {
    let Some(bytes) = &row.sealed else {
        return Ok(Sealed {
            refresh_token: None,
            access_token: None,
        });
    };
    let plain = core.cipher.open(&key.aad(), bytes)?;
    serde_json::from_slice(&plain).map_err(|_| crate::secrets::SecretError::Open)
}

/// When to renew a token that lives `lifetime_ms` from `now`: at 80% of its life, minus up to 5%
/// of jitter so that many credentials issued together do not all renew in the same second.
fn refresh_at(now: i64, lifetime_ms: i64) -> i64 {
    let mut byte = [0u8; 1];
    let _ = ring::rand::SystemRandom::new().fill(&mut byte);
    let jitter = lifetime_ms / 20 * i64::from(byte[0]) / 255;
    now + lifetime_ms * 4 / 5 - jitter
}

/// Stores a grant just consented to (replacing an earlier one for the same app and mailbox).
pub async fn store_grant(
    core: &Core,
    key: &CredentialKey,
    refresh: &SecretString,
    answer: &TokenResponse,
    granted: &str,
) -> anyhow::Result<()> {
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

/// A usable access token for the credential: from memory, else from the store, else (only when
/// none is valid any more: the background refresher normally prevents that) from the provider.
pub async fn access_token(core: &Core, key: &CredentialKey) -> Result<AccessToken, Diagnosis> {
    access_token_lasting(core, key, MIN_REMAINING_MS).await
}

/// As [`access_token`], for a token that lives at least `min_remaining_ms` more (at least a
/// minute): one closer to its end is renewed now. A session that reconnects to change tokens
/// asks for this, so that it never reconnects with the token it is replacing.
pub async fn access_token_lasting(
    core: &Core,
    key: &CredentialKey,
    min_remaining_ms: i64,
) -> Result<AccessToken, Diagnosis> {
    let min_remaining_ms = min_remaining_ms.max(MIN_REMAINING_MS);
    let slot = core.tokens.slot(key);
    let mut cached = slot.lock().await;
    let now = core.clock.now_ms();
    if let Some(c) = cached
        .as_ref()
        .filter(|c| c.expires_at_ms - min_remaining_ms > now)
    {
        return Ok(AccessToken {
            token: c.token.clone(),
            expires_at_ms: c.expires_at_ms,
        });
    }
    let row = core
        .store
        .find_credential(key.kind, key.owner_id, &key.subject, &key.scope)
        .await
        .map_err(store_failure)?;
    if let Some(row) = &row {
        // A dead grant waits for a new consent. A credential that failed for a configuration
        // reason (wrong secret, delegation missing) is tried again when asked, at most once a
        // minute, so fixing the configuration is enough to bring it back.
        let retry_failed = row.status == FAILED && now - row.updated_at_ms >= RETRY_FAILED_AFTER_MS;
        if row.status != CONNECTED && !retry_failed {
            return Err(stored_diagnosis(&row.status, row.last_error.as_deref()));
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
            let token = SecretString::from(token);
            *cached = Some(Cached {
                token: token.clone(),
                expires_at_ms: expires,
            });
            return Ok(AccessToken {
                token,
                expires_at_ms: expires,
            });
        }
    } else if key.kind == CredentialKind::OAuthGrant {
        return Err(authorization_required());
    }
    renew_cached(core, key, row, &mut cached).await
}

/// Renews through the provider and keeps the answer in the slot (the caller holds its lock).
async fn renew_cached(
    core: &Core,
    key: &CredentialKey,
    row: Option<CredentialRow>,
    cached: &mut Option<Cached>,
) -> Result<AccessToken, Diagnosis> {
    match renew(core, key, row).await {
        Ok(fresh) => {
            *cached = Some(Cached {
                token: fresh.token.clone(),
                expires_at_ms: fresh.expires_at_ms,
            });
            Ok(fresh)
        }
        Err(d) => {
            forget_if_dead(cached, &d);
            Err(d)
        }
    }
}

/// A fresh access token after a server refused `rejected` before its expiry (revoked, or the
/// provider restarted): asks the provider for a new one, unless another caller already did.
pub async fn replace_rejected(
    core: &Core,
    key: &CredentialKey,
    rejected: &SecretString,
) -> Result<AccessToken, Diagnosis> {
    let slot = core.tokens.slot(key);
    let mut cached = slot.lock().await;
    if let Some(c) = cached.as_ref()
        && c.token.expose_secret() != rejected.expose_secret()
        && c.expires_at_ms - MIN_REMAINING_MS > core.clock.now_ms()
    {
        return Ok(AccessToken {
            token: c.token.clone(),
            expires_at_ms: c.expires_at_ms,
        });
    }
    *cached = None;
    let row = core
        .store
        .find_credential(key.kind, key.owner_id, &key.subject, &key.scope)
        .await
        .map_err(store_failure)?;
    if let Some(r) = &row
        && r.status != CONNECTED
    {
        return Err(stored_diagnosis(&r.status, r.last_error.as_deref()));
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
        match renew(core, &key, Some(current)).await {
            Ok(fresh) => {
                *cached = Some(Cached {
                    token: fresh.token.clone(),
                    expires_at_ms: fresh.expires_at_ms,
                });
                renewed += 1;
            }
            Err(d) => forget_if_dead(&mut cached, &d),
        }
    }
    Ok(renewed)
}

/// A grant the provider refused is not used again, even if its last access token has minutes
/// left: the provider revoked that one too, and callers must see the credential's state.
fn forget_if_dead(cached: &mut Option<Cached>, diagnosis: &Diagnosis) {
    if diagnosis.severity != Severity::Transient {
        *cached = None;
    }
}

/// Asks the provider for a new access token and records the outcome. The caller holds the slot.
async fn renew(
    core: &Core,
    key: &CredentialKey,
    row: Option<CredentialRow>,
) -> Result<AccessToken, Diagnosis> {
    let now = core.clock.now_ms();
    let sealed = match &row {
        Some(r) => {
            open(core, key, r).map_err(|e| store_failure(StoreError::Corrupt(e.to_string())))?
        }
        None => Sealed {
            refresh_token: None,
            access_token: None,
        },
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
    let was_failing = base.status != CONNECTED;
    match outcome {
        Ok(answer) => {
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
                sealed: Some(
                    seal(core, key, &sealed)
                        .map_err(|e| store_failure(StoreError::Corrupt(e.to_string())))?
                        .into(),
                ),
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
                .map_err(store_failure)?;
            if was_failing {
                // Watchers pausing after this credential's failure try again now.
                core.mailbox_wake.poke();
            }
            Ok(AccessToken {
                token: answer.access_token,
                expires_at_ms: now + lifetime,
            })
        }
        Err(diagnosis) => {
            record_failure(core, key, base, &diagnosis).await;
            Err(diagnosis)
        }
    }
}

async fn refresh_grant(
    core: &Core,
    key: &CredentialKey,
    refresh_token: Option<&str>,
) -> Result<TokenResponse, Diagnosis> {
    let Some(refresh_token) = refresh_token else {
        return Err(authorization_required());
    };
    let (_, app, secrets) = Objects::<OAuthApps>::load(core, key.owner_id)
        .await
        .map_err(|e| store_failure(StoreError::Corrupt(e.to_string())))?;
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
        mailgate_domain::troubleshoot::Grant::RefreshToken,
        &form,
    )
    .await
}

/// Transient: keep the token, retry later with backoff. Dead grant or broken configuration: mark
/// the credential, raise an event once.
async fn record_failure(
    core: &Core,
    key: &CredentialKey,
    row: CredentialRow,
    diagnosis: &Diagnosis,
) {
    let now = core.clock.now_ms();
    metrics::counter!("mailgate_token_failures_total", "cause" => diagnosis.code.as_str())
        .increment(1);
    let last_error = serde_json::to_string(diagnosis).ok();
    let updated = match diagnosis.severity {
        Severity::Transient => {
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
        }
        severity => {
            let status =
                if key.kind == CredentialKind::OAuthGrant && severity == Severity::Reauthorize {
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
                    events::kind::CREDENTIAL_NEEDS_REAUTHORIZATION
                } else {
                    events::kind::CREDENTIAL_FAILED
                };
                events::record(core, kind, Some(&updated.id.to_string()), serde_json::json!({"mailbox": key.subject, "owner_id": key.owner_id, "diagnosis": diagnosis})).await;
            }
            updated
        }
    };
    if let Err(e) = core.store.upsert_credential(&updated).await {
        tracing::error!(error = %e, "could not record a token failure");
    }
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

pub fn authorization_required() -> Diagnosis {
    Diagnosis::new(
        Code::AuthorizationRequired,
        "no account has signed in and consented for this mailbox yet",
        "authorize the server: POST /api/v1/{incoming,outgoing}-servers/{id}/authorize and open the URL as the mailbox",
    )
}

pub(crate) fn store_failure(e: StoreError) -> Diagnosis {
    tracing::error!(error = %e, "token store failure");
    Diagnosis::new(
        Code::Internal,
        "mailgate could not read or write its token store",
        "check the database; the server log has the details",
    )
}

pub const SCOPE_MAIL: &str = "https://mail.google.com/";
pub const SCOPE_GMAIL_SEND: &str = "https://www.googleapis.com/auth/gmail.send";

impl CredentialKey {
    /// The credential a server authenticates with: the grant of its OAuth app for its mailbox,
    /// or its service account acting as the mailbox with the scope its protocol needs. `None`
    /// for password or no authentication.
    pub fn for_server(
        auth: &mailgate_domain::server::Auth,
        mailbox: &str,
        gmail_api: bool,
    ) -> Option<Self> {
        use mailgate_domain::server::Auth;
        let subject = mailbox.to_lowercase();
        match auth {
            Auth::Oauth {
                oauth_app_id: Some(app),
                ..
            } => Some(Self {
                kind: CredentialKind::OAuthGrant,
                owner_id: *app,
                subject,
                scope: String::new(),
            }),
            Auth::Oauth {
                service_account_id: Some(account),
                ..
            } => {
                let scope = if gmail_api {
                    SCOPE_GMAIL_SEND
                } else {
                    SCOPE_MAIL
                };
                Some(Self {
                    kind: CredentialKind::ServiceAccount,
                    owner_id: *account,
                    subject,
                    scope: scope.to_owned(),
                })
            }
            _ => None,
        }
    }
}
