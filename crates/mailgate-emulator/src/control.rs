//! The in-process control handle. Every method has an `/admin/*` HTTP twin (routes/admin.rs) for
//! callers in another process, such as the demo.

use std::sync::Arc;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

use crate::clock::Clock;
use crate::fixtures;
use crate::keys::{self, KeyError};
use crate::scopes;
use crate::state::{
    AccessToken, RateLimitState, RefreshToken, ScriptedConsent, SentMessage, ServiceAccount,
    Shared, subject_for,
};
use crate::types::{
    ClientRegistration, Counters, Decision, DelegationGrant, MintAccessToken, MintRefreshToken,
    MintedAccessToken, Outage, RateLimit, ServiceAccountRegistration,
};

/// Client ID shown for tokens minted without one.
pub const MINTED_CLIENT_ID: &str = "emulator-minted.apps.googleusercontent.com";

#[derive(Debug, thiserror::Error)]
pub enum ControlError {
    #[error("invalid key: {0}")]
    Key(#[from] KeyError),
    #[error("{0}")]
    BadRequest(String),
}

/// Drives one emulator from the test: registrations, token minting, failure injection, clock,
/// counters. Cheap to clone; all clones drive the same emulator.
#[derive(Clone)]
pub struct Control {
    shared: Arc<Shared>,
}

impl std::fmt::Debug for Control {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Control")
            .field("base_url", &self.shared.base_url)
            .finish()
    }
}

impl Control {
    /// Where sent Gmail messages are delivered over SMTP (`None`: kept in memory only).
    pub fn set_smtp_relay(&self, relay: Option<std::net::SocketAddr>) {
        self.shared.set_smtp_relay(relay);
    }

    pub(crate) fn new(shared: Arc<Shared>) -> Self {
        Self { shared }
    }

    pub fn base_url(&self) -> &str {
        &self.shared.base_url
    }

    pub fn clock(&self) -> &Clock {
        &self.shared.clock
    }

    /// The emulator's "now", seconds since the epoch.
    pub fn now(&self) -> i64 {
        self.shared.clock.now()
    }

    /// Moves the emulator clock and returns the new "now".
    pub fn advance_clock(&self, secs: i64) -> i64 {
        self.shared.clock.advance(secs)
    }

    /// Registers (or replaces) an OAuth client.
    pub fn register_client(&self, client: ClientRegistration) {
        self.shared
            .lock()
            .clients
            .insert(client.client_id.clone(), client);
    }

    /// Registers (or replaces) a service account.
    pub fn register_service_account(
        &self,
        registration: ServiceAccountRegistration,
    ) -> Result<(), ControlError> {
        let public_der = match (
            &registration.private_key_pem,
            &registration.public_key_der_b64,
        ) {
            (Some(pem), _) => keys::public_der(&keys::key_pair_from_pem(pem)?),
            (None, Some(b64)) => {
                let der = STANDARD
                    .decode(b64.trim())
                    .map_err(|e| ControlError::BadRequest(format!("public_key_der_b64: {e}")))?;
                keys::normalize_public_der(&der)?
            }
            (None, None) => {
                return Err(ControlError::BadRequest(
                    "give private_key_pem or public_key_der_b64".to_owned(),
                ));
            }
        };
        let account = ServiceAccount {
            client_email: registration.client_email.clone(),
            client_id: registration.client_id,
            key_id: keys::key_id(&public_der),
            public_der,
            project_number: registration.project_number,
            gmail_api_enabled: registration.gmail_api_enabled,
        };
        self.shared
            .lock()
            .service_accounts
            .insert(registration.client_email, account);
        Ok(())
    }

    /// The Google JSON key file for a service account whose key is `key_pem`, with `token_uri`
    /// pointing at this emulator.
    pub fn service_account_key_json(
        &self,
        key_pem: &str,
        client_email: &str,
        client_id: &str,
    ) -> Result<String, ControlError> {
        Ok(fixtures::service_account_key_json(
            key_pem,
            client_email,
            client_id,
            &self.shared.base_url,
        )?)
    }

    /// Grants (or, with no scopes, removes) domain-wide delegation for a service-account client ID.
    pub fn grant_delegation(&self, grant: DelegationGrant) {
        let mut state = self.shared.lock();
        if grant.scopes.is_empty() {
            state.delegations.remove(&grant.client_id);
        } else {
            state.delegations.insert(grant.client_id, grant.scopes);
        }
    }

    /// Makes a user outside the local domain exist (service accounts may impersonate it).
    pub fn add_user(&self, email: &str) {
        self.shared.lock().users.insert(email.to_ascii_lowercase());
    }

    /// Creates an access token without any flow.
    pub fn mint_access_token(
        &self,
        mint: MintAccessToken,
    ) -> Result<MintedAccessToken, ControlError> {
        require_email(&mint.email)?;
        let now = self.now();
        let scopes = scopes::split(mint.scope.as_deref().unwrap_or(scopes::MAIL));
        let client_id = mint
            .client_id
            .unwrap_or_else(|| MINTED_CLIENT_ID.to_owned());
        let record = AccessToken {
            sub: subject_for(&mint.email),
            email: mint.email.clone(),
            client_id: client_id.clone(),
            scopes: scopes.clone(),
            issued_at: now,
            expires_at: now + mint.expires_in,
            revoked: false,
            refresh_token: None,
            offline: false,
        };
        let access_token = self.shared.lock().insert_access(mint.token, record);
        Ok(MintedAccessToken {
            access_token,
            email: mint.email,
            scope: scopes::join(&scopes),
            client_id,
            expires_at: now + mint.expires_in,
        })
    }

    /// Creates a refresh token as if the user had consented; returns its text.
    pub fn mint_refresh_token(&self, mint: MintRefreshToken) -> Result<String, ControlError> {
        require_email(&mint.email)?;
        let record = RefreshToken {
            email: mint.email,
            client_id: mint.client_id,
            scopes: scopes::split(mint.scope.as_deref().unwrap_or(scopes::MAIL)),
            granted_at: self.now(),
            revoked: false,
        };
        Ok(self
            .shared
            .lock()
            .insert_refresh(mint.refresh_token, record))
    }

    /// Revokes exactly this token (a refresh token also takes its access tokens). Unlike
    /// Google's `/revoke`, revoking an access token here leaves its refresh token alive.
    /// Returns whether the token was known and live.
    pub fn revoke(&self, token: &str) -> bool {
        self.shared.lock().revoke_exact(token)
    }

    /// Expires every access token and revokes every refresh token of `email` (what a password
    /// change does to Gmail-scoped tokens). Returns how many tokens changed.
    pub fn expire_tokens(&self, email: &str) -> usize {
        let now = self.now();
        self.shared.lock().expire_tokens_of(email, true, now)
    }

    /// Expires the access tokens of `email` only, so the next call needs a refresh.
    pub fn expire_access_tokens(&self, email: &str) -> usize {
        let now = self.now();
        self.shared.lock().expire_tokens_of(email, false, now)
    }

    /// Failure of every OAuth endpoint (token, tokeninfo, userinfo, introspect, revoke).
    pub fn set_oauth_outage(&self, outage: Outage) {
        self.shared.lock().oauth_outage = outage;
    }

    /// Failure of every Gmail API endpoint.
    pub fn set_gmail_outage(&self, outage: Outage) {
        self.shared.lock().gmail_outage = outage;
    }

    /// Limits (or, with `None`, frees) one user's Gmail API requests.
    pub fn set_gmail_rate_limit(&self, email: &str, limit: Option<RateLimit>) {
        let now = self.now();
        let mut state = self.shared.lock();
        let key = email.to_ascii_lowercase();
        match limit {
            Some(limit) => {
                let entry = RateLimitState {
                    limit,
                    window_start: now,
                    used: 0,
                };
                state.rate_limits.insert(key, entry);
            }
            None => {
                state.rate_limits.remove(&key);
            }
        }
    }

    /// The next authorization request (any client) skips the consent page and is answered as
    /// if `email` had chosen `decision`. Several calls queue up, one per request.
    pub fn script_consent(&self, email: &str, decision: Decision) {
        self.script_partial_consent(email, decision, &[]);
    }

    /// As [`Control::script_consent`], with the user unticking `declined` on Google's granular
    /// consent screen: the grant (and the token response's `scope`) lacks them. `openid`, `email`
    /// and `profile` cannot be unticked, as at Google.
    pub fn script_partial_consent(&self, email: &str, decision: Decision, declined: &[&str]) {
        self.shared
            .lock()
            .scripted_consent
            .push_back(ScriptedConsent {
                email: email.to_owned(),
                decision,
                declined: declined.iter().map(|s| (*s).to_owned()).collect(),
            });
    }

    /// Turns the Gmail service of `email` on or off, as a Workspace admin does (Apps > Google
    /// Workspace > Gmail, or by removing the licence): off, every Gmail API call for it answers
    /// `400 FAILED_PRECONDITION` "Mail service not enabled".
    pub fn set_gmail_service(&self, email: &str, enabled: bool) {
        let email = email.to_ascii_lowercase();
        let mut state = self.shared.lock();
        if enabled {
            state.gmail_service_off.remove(&email);
        } else {
            state.gmail_service_off.insert(email);
        }
    }

    /// Makes the token endpoint fail for `client_id` only, as [`Control::set_oauth_outage`] does
    /// for everyone; `Outage::NONE` ends it.
    pub fn set_client_token_outage(&self, client_id: &str, outage: Outage) {
        let mut state = self.shared.lock();
        if outage == Outage::NONE {
            state.client_token_outages.remove(client_id);
        } else {
            state
                .client_token_outages
                .insert(client_id.to_owned(), outage);
        }
    }

    /// Marks `email` as an address Google has not verified: its ID token carries
    /// `email_verified: false`.
    pub fn set_email_unverified(&self, email: &str) {
        self.shared
            .lock()
            .unverified_emails
            .insert(email.to_ascii_lowercase());
    }

    /// A Workspace session-control policy ("Require reauthentication") now applies to `email`:
    /// its refresh tokens are refused with `invalid_grant` and `error_subtype: invalid_rapt`
    /// until the user signs in again (a new consent clears it).
    pub fn require_reauthentication(&self, email: &str) {
        self.shared
            .lock()
            .reauth_required
            .insert(email.to_ascii_lowercase());
    }

    pub fn counters(&self) -> Counters {
        self.shared.lock().counters.clone()
    }

    pub fn reset_counters(&self) {
        self.shared.lock().counters = Counters::default();
    }

    /// Messages accepted by `messages.send`, oldest first.
    pub fn sent_messages(&self) -> Vec<SentMessage> {
        self.shared.lock().sent.clone()
    }

    /// A debugging snapshot (the body of `GET /admin/state`).
    pub fn state(&self) -> serde_json::Value {
        let now = self.now();
        self.shared.lock().snapshot(now)
    }
}

fn require_email(email: &str) -> Result<(), ControlError> {
    if email.contains('@') {
        Ok(())
    } else {
        Err(ControlError::BadRequest(format!(
            "not an email address: {email:?}"
        )))
    }
}
