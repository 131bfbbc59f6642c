//! Admin API tokens: random, shown once, kept only as a SHA-256 hash.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use mailgate_domain::Id;
use mailgate_store::{AdminTokenRow, Store, StoreError};
use ring::rand::{SecureRandom, SystemRandom};
use secrecy::SecretString;

const PREFIX: &str = "mgt_";

/// A token just created: the only moment its text exists outside the caller.
pub struct NewAdminToken {
    pub id: Id,
    pub token: SecretString,
}

fn hash(token: &str) -> Vec<u8> {
    ring::digest::digest(&ring::digest::SHA256, token.as_bytes())
        .as_ref()
        .to_vec()
}

pub async fn create_token(store: &dyn Store, name: &str) -> anyhow::Result<NewAdminToken> {
    let mut bytes = [0u8; 32];
    SystemRandom::new()
        .fill(&mut bytes)
        .map_err(|_| anyhow::anyhow!("the random number generator failed"))?;
    let token = format!("{PREFIX}{}", URL_SAFE_NO_PAD.encode(bytes));
    let row = AdminTokenRow {
        id: Id::new(),
        name: name.to_owned(),
        token_hash: hash(&token),
        created_at_ms: crate::now_ms(),
        last_used_at_ms: None,
    };
    store.insert_admin_token(&row).await?;
    Ok(NewAdminToken {
        id: row.id,
        token: token.into(),
    })
}

/// How stale a token's `last_used` may get before a request writes it again: every request
/// writing it would make each API call (and each wrong token) a database write.
const LAST_USED_EVERY_MS: i64 = 60_000;

/// The token's record when `presented` is a valid admin token. Looks it up read-only; records
/// the use at most once a minute per token.
pub async fn authenticate(
    store: &dyn Store,
    presented: &str,
) -> Result<Option<AdminTokenRow>, StoreError> {
    if !presented.starts_with(PREFIX) {
        return Ok(None);
    }
    let token_hash = hash(presented);
    let Some(row) = store.find_admin_token(&token_hash).await? else {
        return Ok(None);
    };
    let now = crate::now_ms();
    if row
        .last_used_at_ms
        .is_some_and(|used| now - used < LAST_USED_EVERY_MS)
    {
        return Ok(Some(row));
    }
    // Revoked between the two statements: not valid any more.
    store.use_admin_token(&token_hash, now).await
}

/// Revokes the token with id `id`; false when no token has it.
pub async fn revoke_token(store: &dyn Store, id: &str) -> Result<bool, StoreError> {
    match Id::parse("id", id) {
        Ok(id) => store.delete_admin_token(id).await,
        Err(_) => Ok(false),
    }
}
