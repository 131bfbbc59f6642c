//! The in-memory side (one slot per credential; holding a slot's lock is what makes a refresh
//! single-flight) and the sealed form tokens take in the store.

use super::key::CredentialKey;
use crate::Core;
use crate::secrets::SecretError;
use mailgate_domain::SecretString;
use mailgate_store::CredentialRow;
use ring::rand::SecureRandom;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

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

pub(super) struct Cached {
    pub(super) token: SecretString,
    pub(super) expires_at_ms: i64,
}

impl Cached {
    pub(super) fn of(token: &AccessToken) -> Self {
        Self {
            token: token.token.clone(),
            expires_at_ms: token.expires_at_ms,
        }
    }

    pub(super) fn handed_out(&self) -> AccessToken {
        AccessToken {
            token: self.token.clone(),
            expires_at_ms: self.expires_at_ms,
        }
    }
}

type Slot = Arc<tokio::sync::Mutex<Option<Cached>>>;

/// The in-memory side: one slot per credential; holding a slot's lock is what makes a refresh
/// single-flight.
#[derive(Default)]
pub struct TokenManager {
    slots: Mutex<HashMap<CredentialKey, Slot>>,
}

impl TokenManager {
    pub(super) fn slot(&self, key: &CredentialKey) -> Slot {
        let mut slots = self.slots.lock().unwrap_or_else(|p| p.into_inner());
        slots.entry(key.clone()).or_default().clone()
    }
}

#[derive(Default, serde::Serialize, serde::Deserialize)]
pub(super) struct Sealed {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) refresh_token: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) access_token: Option<String>,
}

pub(super) fn seal(
    core: &Core,
    key: &CredentialKey,
    sealed: &Sealed,
) -> Result<Vec<u8>, SecretError> {
    let json = serde_json::to_vec(sealed).map_err(|_| SecretError::Open)?;
    core.cipher.seal(&key.aad(), &json)
}

pub(super) fn open(
    core: &Core,
    key: &CredentialKey,
    row: &CredentialRow,
) -> Result<Sealed, SecretError> {
    let Some(bytes) = &row.sealed else {
        return Ok(Sealed::default());
    };
    let plain = core.cipher.open(&key.aad(), bytes)?;
    serde_json::from_slice(&plain).map_err(|_| SecretError::Open)
}

/// When to renew a token that lives `lifetime_ms` from `now`: at 80% of its life, minus up to 5%
/// of jitter so that many credentials issued together do not all renew in the same second.
pub(super) fn refresh_at(now: i64, lifetime_ms: i64) -> i64 {
    let mut byte = [0u8; 1];
    let _ = ring::rand::SystemRandom::new().fill(&mut byte);
    let jitter = lifetime_ms / 20 * i64::from(byte[0]) / 255;
    now + lifetime_ms * 4 / 5 - jitter
}
