//! Access tokens, refresh tokens and authorization codes: their records, their text, and the
//! rules for revoking and expiring them.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ring::digest;
use serde_json::{Value, json};

use super::State;

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

impl State {
    /// Stores an access token under `token` (or a fresh one) and returns its text.
    pub fn insert_access(&mut self, token: Option<String>, record: AccessToken) -> String {
        let token = token.unwrap_or_else(|| new_access_token(false));
        self.access_tokens.insert(token.clone(), record);
        token
    }

    pub fn insert_refresh(&mut self, token: Option<String>, record: RefreshToken) -> String {
        let token = token.unwrap_or_else(new_refresh_token);
        self.refresh_tokens.insert(token.clone(), record);
        token
    }

    /// The token's record when it is neither expired nor revoked.
    pub fn valid_access(&self, token: &str, now: i64) -> Option<&AccessToken> {
        self.access_tokens.get(token).filter(|t| t.is_valid(now))
    }

    /// Revokes a refresh token and every access token minted from it.
    pub fn revoke_refresh(&mut self, token: &str) -> bool {
        let Some(record) = self.refresh_tokens.get_mut(token) else {
            return false;
        };
        let was_live = !record.revoked;
        record.revoked = true;
        if let Some(client_id) = record.client_id.clone() {
            self.offline_grants
                .remove(&(client_id, record.email.clone()));
        }
        for access in self.access_tokens.values_mut() {
            if access.refresh_token.as_deref() == Some(token) {
                access.revoked = true;
            }
        }
        was_live
    }

    /// Google's `/revoke`: an access token takes its whole grant with it (Google documents that
    /// revoking an access token also revokes the refresh token it belongs to); a refresh token
    /// takes its access tokens. False when the token is unknown, expired or already revoked.
    pub fn revoke_grant(&mut self, token: &str, now: i64) -> bool {
        if self.refresh_tokens.contains_key(token) {
            return self.revoke_refresh(token);
        }
        let Some(access) = self.access_tokens.get_mut(token) else {
            return false;
        };
        if !access.is_valid(now) {
            return false;
        }
        access.revoked = true;
        if let Some(parent) = access.refresh_token.clone() {
            self.revoke_refresh(&parent);
        }
        true
    }

    /// Control's revoke: exactly the named token (plus, for a refresh token, its access tokens),
    /// so tests can kill an access token and still refresh.
    pub fn revoke_exact(&mut self, token: &str) -> bool {
        if self.refresh_tokens.contains_key(token) {
            return self.revoke_refresh(token);
        }
        match self.access_tokens.get_mut(token) {
            Some(access) => {
                let was_live = !access.revoked;
                access.revoked = true;
                was_live
            }
            None => false,
        }
    }

    /// Expires every access token of `email` (and, with `refresh_tokens`, revokes its refresh
    /// tokens, as a password change does). Returns how many tokens changed.
    pub fn expire_tokens_of(&mut self, email: &str, refresh_tokens: bool, now: i64) -> usize {
        let mut changed = 0;
        for access in self.access_tokens.values_mut() {
            if access.email.eq_ignore_ascii_case(email) && access.is_valid(now) {
                access.expires_at = now;
                changed += 1;
            }
        }
        if refresh_tokens {
            let tokens: Vec<String> = self
                .refresh_tokens
                .iter()
                .filter(|(_, r)| r.email.eq_ignore_ascii_case(email) && !r.revoked)
                .map(|(t, _)| t.clone())
                .collect();
            for token in tokens {
                self.revoke_refresh(&token);
                changed += 1;
            }
        }
        changed
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn access(refresh: Option<&str>) -> AccessToken {
        AccessToken {
            email: "a@example.test".into(),
            sub: subject_for("a@example.test"),
            client_id: "c".into(),
            scopes: vec!["https://mail.google.com/".into()],
            issued_at: 0,
            expires_at: 100,
            revoked: false,
            refresh_token: refresh.map(Into::into),
            offline: refresh.is_some(),
        }
    }

    fn refresh() -> RefreshToken {
        RefreshToken {
            email: "a@example.test".into(),
            client_id: Some("c".into()),
            scopes: vec![],
            granted_at: 0,
            revoked: false,
        }
    }

    #[test]
    fn subjects_are_stable_numeric_and_case_insensitive() {
        let sub = subject_for("Alice@Example.test");
        assert_eq!(sub, subject_for("alice@example.test"));
        assert_eq!(sub.len(), 21);
        assert!(sub.chars().all(|c| c.is_ascii_digit()));
        assert_ne!(sub, subject_for("bob@example.test"));
    }

    #[test]
    fn revoking_an_access_token_takes_its_refresh_token_along() {
        let mut state = State::default();
        let rt = state.insert_refresh(None, refresh());
        let at = state.insert_access(None, access(Some(&rt)));
        let sibling = state.insert_access(None, access(Some(&rt)));
        assert!(state.revoke_grant(&at, 10));
        assert!(state.refresh_tokens[&rt].revoked);
        assert!(state.valid_access(&sibling, 10).is_none());
        assert!(!state.revoke_grant(&at, 10), "second revoke is refused");
    }

    #[test]
    fn exact_revoke_keeps_the_refresh_token() {
        let mut state = State::default();
        let rt = state.insert_refresh(None, refresh());
        let at = state.insert_access(None, access(Some(&rt)));
        assert!(state.revoke_exact(&at));
        assert!(!state.refresh_tokens[&rt].revoked);
    }

    #[test]
    fn expiring_a_user_kills_access_and_refresh_tokens() {
        let mut state = State::default();
        let rt = state.insert_refresh(None, refresh());
        let at = state.insert_access(Some("t".into()), access(None));
        assert_eq!(state.expire_tokens_of("A@example.test", true, 10), 2);
        assert!(state.valid_access(&at, 10).is_none());
        assert!(state.refresh_tokens[&rt].revoked);
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
