//! The life of a token in [`State`]: stored, looked up, revoked (one token or a whole grant),
//! expired with its user.

use super::State;
use super::tokens::{AccessToken, RefreshToken, new_access_token, new_refresh_token};

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
    use crate::state::tokens::subject_for;

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
}
