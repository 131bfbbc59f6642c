//! Everything the emulator remembers, in memory behind one mutex.
//!
//! The mutex is a `std::sync::Mutex`: it is never held across an `.await` (handlers copy what
//! they need out, then sleep, deliver mail, ...), so a blocking lock is the simple right choice.

mod lifecycle;
mod tokens;

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::sync::{Mutex, MutexGuard};

use ring::signature::RsaKeyPair;
use serde::Serialize;

use crate::clock::Clock;
use crate::config::EmulatorConfig;
use crate::types::{
    ClientRegistration, Counters, DEFAULT_PROJECT_NUMBER, Decision, Outage, RateLimit,
};

pub use tokens::{
    AccessToken, AuthCode, CODE_LIFETIME_SECS, RefreshToken, new_access_token, new_code,
    new_refresh_token, subject_for,
};

/// What every handler and the control handle share.
pub struct Shared {
    pub config: EmulatorConfig,
    /// `http://127.0.0.1:PORT` or the configured public URL, without a trailing slash.
    pub base_url: String,
    pub clock: Clock,
    pub id_token_key: SigningKey,
    /// Where sent mail is delivered; starts as `config.smtp_relay`, and can be set once the
    /// mail stack (which needs this emulator's URL to start) knows its ports.
    smtp_relay: Mutex<Option<std::net::SocketAddr>>,
    state: Mutex<State>,
}

impl Shared {
    pub fn new(config: EmulatorConfig, base_url: String, id_token_key: SigningKey) -> Self {
        Self {
            smtp_relay: Mutex::new(config.smtp_relay),
            config,
            base_url,
            clock: Clock::new(),
            id_token_key,
            state: Mutex::new(State::default()),
        }
    }

    /// Locks the state. A handler that panicked mid-update cannot leave it half-written in a way
    /// that matters for an emulator, so a poisoned lock is simply taken over.
    pub fn lock(&self) -> MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    pub fn smtp_relay(&self) -> Option<std::net::SocketAddr> {
        *self
            .smtp_relay
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    pub fn set_smtp_relay(&self, relay: Option<std::net::SocketAddr>) {
        *self
            .smtp_relay
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = relay;
    }

    /// Token URLs a service-account assertion may name as `aud`.
    pub fn accepted_audiences(&self) -> Vec<String> {
        vec![
            format!("{}/token", self.base_url),
            format!("{}/oauth2/v4/token", self.base_url),
            "https://oauth2.googleapis.com/token".to_owned(),
            "https://www.googleapis.com/oauth2/v4/token".to_owned(),
            "https://accounts.google.com/o/oauth2/token".to_owned(),
        ]
    }
}

/// The emulator's own RSA key for `id_token`s.
pub struct SigningKey {
    pub key_pair: RsaKeyPair,
    pub kid: String,
}

/// A registered service account.
#[derive(Debug, Clone, Serialize)]
pub struct ServiceAccount {
    pub client_email: String,
    pub client_id: String,
    #[serde(skip)]
    pub public_der: Vec<u8>,
    pub key_id: String,
    pub project_number: u64,
    pub gmail_api_enabled: bool,
}

/// An authorization request waiting for the user's answer on the consent page.
#[derive(Debug, Clone)]
pub struct PendingAuth {
    pub client_id: String,
    pub redirect_uri: String,
    /// As requested (short names kept, for display).
    pub scopes: Vec<String>,
    pub state: Option<String>,
    pub login_hint: Option<String>,
    pub code_challenge: Option<(String, String)>,
    pub offline: bool,
    pub prompt_consent: bool,
    pub nonce: Option<String>,
    pub created_at: i64,
}

/// A message accepted by `messages.send`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SentMessage {
    pub id: String,
    pub thread_id: String,
    /// Envelope sender: the token's email.
    pub from: String,
    /// Recipients from To/Cc/Bcc as written in the message.
    pub header_recipients: Vec<String>,
    /// Envelope recipients after the catch-all redirect.
    pub envelope_recipients: Vec<String>,
    /// The message as delivered (Bcc removed, Message-ID/Date added when missing).
    pub raw: String,
    /// Whether the SMTP relay accepted it (false when no relay is configured).
    pub relayed: bool,
    pub sent_at: i64,
}

/// Progress of one user against an injected rate limit.
#[derive(Debug, Clone, Copy)]
pub struct RateLimitState {
    pub limit: RateLimit,
    pub window_start: i64,
    pub used: u32,
}

/// A consent answered ahead of time: who signs in, what they choose, and which of the requested
/// scopes they untick (Google's granular consent lets users untick each non-sign-in scope).
#[derive(Debug, Clone)]
pub struct ScriptedConsent {
    pub email: String,
    pub decision: Decision,
    pub declined: Vec<String>,
}

#[derive(Default)]
pub struct State {
    pub clients: HashMap<String, ClientRegistration>,
    /// Key: client_email.
    pub service_accounts: HashMap<String, ServiceAccount>,
    /// Key: service-account client ID; value: the exact delegated scope list.
    pub delegations: HashMap<String, Vec<String>>,
    /// Users outside the local domain that exist (for `sub` impersonation).
    pub users: HashSet<String>,
    pub access_tokens: HashMap<String, AccessToken>,
    pub refresh_tokens: HashMap<String, RefreshToken>,
    pub codes: HashMap<String, AuthCode>,
    pub pending: HashMap<String, PendingAuth>,
    /// (client_id, email) pairs that already received a refresh token through consent: without
    /// `prompt=consent` Google does not issue another one.
    pub offline_grants: HashSet<(String, String)>,
    pub scripted_consent: VecDeque<ScriptedConsent>,
    /// Accounts whose address Google has not verified: their ID token says
    /// `email_verified: false` (an account created with a non-Gmail address never confirmed).
    pub unverified_emails: HashSet<String>,
    /// Accounts under a Workspace session-control policy that demands re-authentication: their
    /// next refresh is refused with `invalid_grant` / `invalid_rapt`.
    pub reauth_required: HashSet<String>,
    /// Workspace users whose Gmail service is off (no licence): the Gmail API answers
    /// `400 failedPrecondition` "Mail service not enabled".
    pub gmail_service_off: HashSet<String>,
    pub oauth_outage: Outage,
    /// Outages of the token endpoint for one client only (key: client ID), so that a test can
    /// take its own client's provider down without touching the others.
    pub client_token_outages: HashMap<String, Outage>,
    pub gmail_outage: Outage,
    pub rate_limits: HashMap<String, RateLimitState>,
    pub counters: Counters,
    pub sent: Vec<SentMessage>,
    pub history_id: u64,
}

impl State {
    /// Project number and Gmail API switch of the project a client ID belongs to. Unknown
    /// client IDs (tokens minted through control) count as an enabled project.
    pub fn project_of(&self, client_id: &str) -> (u64, bool) {
        if let Some(client) = self.clients.get(client_id) {
            return (client.project_number, client.gmail_api_enabled);
        }
        self.service_accounts
            .values()
            .find(|sa| sa.client_id == client_id)
            .map_or((DEFAULT_PROJECT_NUMBER, true), |sa| {
                (sa.project_number, sa.gmail_api_enabled)
            })
    }

    pub fn count_token_request(&mut self, client_id: Option<&str>, grant_type: &str) {
        let counters = &mut self.counters;
        counters.token_requests += 1;
        *counters
            .token_requests_by_client
            .entry(client_id.unwrap_or("<none>").to_owned())
            .or_default() += 1;
        *counters
            .token_requests_by_grant
            .entry(grant_type.to_owned())
            .or_default() += 1;
    }

    /// A debugging snapshot for `GET /admin/state`. Secrets (client secrets, keys) are left out;
    /// token values are shown because tests mint and compare them.
    pub fn snapshot(&self, now: i64) -> serde_json::Value {
        let clients: BTreeMap<_, _> = self
            .clients
            .values()
            .map(|c| {
                let value = serde_json::json!({
                    "redirect_uris": c.redirect_uris,
                    "publishing_status": c.publishing_status,
                    "test_users": c.test_users,
                    "gmail_api_enabled": c.gmail_api_enabled,
                    "rotate_refresh_tokens": c.rotate_refresh_tokens,
                    "project_number": c.project_number,
                });
                (c.client_id.clone(), value)
            })
            .collect();
        let access: BTreeMap<_, _> = self
            .access_tokens
            .iter()
            .map(|(t, a)| (t.clone(), a.describe(now)))
            .collect();
        let refresh: BTreeMap<_, _> = self
            .refresh_tokens
            .iter()
            .map(|(t, r)| (t.clone(), r.describe()))
            .collect();
        serde_json::json!({
            "now": now,
            "clients": clients,
            "service_accounts": self.service_accounts.values().collect::<Vec<_>>(),
            "delegations": self.delegations,
            "users": self.users,
            "access_tokens": access,
            "refresh_tokens": refresh,
            "pending_authorizations": self.pending.len(),
            "unused_codes": self.codes.values().filter(|c| !c.used).count(),
            "scripted_consent": self.scripted_consent.len(),
            "oauth_outage": self.oauth_outage,
            "gmail_outage": self.gmail_outage,
            "counters": self.counters,
            "sent": self.sent.len(),
        })
    }
}
