//! Access tokens, refresh tokens and authorization codes: their records and their text. What
//! `State` does with them (store, look up, revoke, expire) is in `lifecycle.rs`.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ring::digest;
use serde_json::{Value, json};

/// A bearer token the emulator issued (or a test minted).
#[derive(Debug, Clone)]
pub struct AccessToken {
    pub email: String,
    /// Google's stable numeric user ID (`sub`); a service account's own tokens carry its
    /// client ID.
    pub sub: String,
    pub client_id: String,
    pub scopes: Vec<String>,
    pub issued_at: i64,
    pub expires_at: i64,
    pub revoked: bool,
    /// The refresh token it was minted from, so revoking one kills the other.
    pub refresh_token: Option<String>,
    /// tokeninfo's `access_type`: whether the grant came with a refresh token.
    pub offline: bool,
}

impl AccessToken {
    pub fn is_valid(&self, now: i64) -> bool {
        !self.revoked && self.expires_at > now
    }

    pub fn describe(&self, now: i64) -> Value {
        json!({
            "email": self.email, "client_id": self.client_id, "scope": self.scopes.join(" "),
            "expires_at": self.expires_at, "revoked": self.revoked, "valid": self.is_valid(now),
            "refresh_token": self.refresh_token,
        })
    }
}

#[derive(Debug, Clone)]
pub struct RefreshToken {
    pub email: String,
    /// `None` = minted through control for any client.
    pub client_id: Option<String>,
    pub scopes: Vec<String>,
    /// When the user consented: the 7-day life of a testing app's tokens counts from here, also
    /// across rotations.
    pub granted_at: i64,
    pub revoked: bool,
}

impl RefreshToken {
    pub fn describe(&self) -> Value {
        json!({
            "email": self.email, "client_id": self.client_id, "scope": self.scopes.join(" "),
            "granted_at": self.granted_at, "revoked": self.revoked,
        })
    }
}

/// An authorization code handed to the redirect URI.
#[derive(Debug, Clone)]
pub struct AuthCode {
    pub client_id: String,
    pub redirect_uri: String,
    pub email: String,
    /// Normalized (`email` -> `.../userinfo.email`).
    pub scopes: Vec<String>,
    /// (challenge, method) with method `S256` or `plain`.
    pub code_challenge: Option<(String, String)>,
    /// Whether the exchange returns a refresh token.
    pub issue_refresh_token: bool,
    pub nonce: Option<String>,
    pub expires_at: i64,
    pub used: bool,
}

/// Authorization codes live 10 minutes.
pub const CODE_LIFETIME_SECS: i64 = 600;

/// Google's numeric, stable per-account `sub`: here derived from the address, so it is the same
/// across emulator restarts.
pub fn subject_for(email: &str) -> String {
    let hash = digest::digest(&digest::SHA256, email.to_ascii_lowercase().as_bytes());
    let mut eight = [0u8; 8];
    eight.copy_from_slice(&hash.as_ref()[..8]);
    format!("1{:020}", u64::from_be_bytes(eight))
}

/// `n` random bytes, base64url. uuid v4 draws from the OS generator and cannot fail.
fn random_text(uuids: usize) -> String {
    let bytes: Vec<u8> = (0..uuids)
        .flat_map(|_| *uuid::Uuid::new_v4().as_bytes())
        .collect();
    URL_SAFE_NO_PAD.encode(bytes)
}

/// `ya29.` access tokens; service-account tokens look like `ya29.c.` ones.
pub fn new_access_token(service_account: bool) -> String {
    let prefix = if service_account {
        "ya29.c.c0"
    } else {
        "ya29.a0"
    };
    format!("{prefix}{}", random_text(4))
}

pub fn new_refresh_token() -> String {
    format!("1//0{}", random_text(3))
}

pub fn new_code() -> String {
    format!("4/0{}", random_text(3))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subjects_are_stable_numeric_and_case_insensitive() {
        let sub = subject_for("Alice@Example.test");
        assert_eq!(sub, subject_for("alice@example.test"));
        assert_eq!(sub.len(), 21);
        assert!(sub.chars().all(|c| c.is_ascii_digit()));
        assert_ne!(sub, subject_for("bob@example.test"));
    }

    #[test]
    fn token_texts_look_like_googles() {
        assert!(new_access_token(false).starts_with("ya29.a0"));
        assert!(new_access_token(true).starts_with("ya29.c."));
        assert!(new_refresh_token().starts_with("1//0"));
        assert!(new_code().starts_with("4/0"));
        assert_ne!(new_code(), new_code());
    }
}
