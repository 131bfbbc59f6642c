//! Plain data at the bottom of the crate: the values tests hand to `Control` (and, as
//! JSON, to the `/admin/*` endpoints), the counters they read back, and Google's fixed numbers.
//! `state`, `control` and `routes` all use these; this file uses nothing of the crate.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Default project number of registered clients, shown in `accessNotConfigured` messages.
pub const DEFAULT_PROJECT_NUMBER: u64 = 123_456_789_012;

/// Access tokens live an hour; Google reports one second less.
pub const ACCESS_TOKEN_LIFETIME_SECS: i64 = 3599;

/// Refresh tokens of an app in "Testing" die 7 days after consent.
pub const TESTING_REFRESH_LIFETIME_SECS: i64 = 7 * 24 * 3600;

/// Google's "Publishing status" of an OAuth consent screen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PublishingStatus {
    /// Only listed test users may consent, and their refresh tokens die after 7 days.
    Testing,
    #[default]
    Production,
}

/// An OAuth client ("Web application" credentials in the Cloud console).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ClientRegistration {
    pub client_id: String,
    pub client_secret: String,
    /// Matched exactly (scheme, host, port, path, trailing slash), as Google does.
    pub redirect_uris: Vec<String>,
    #[serde(default)]
    pub publishing_status: PublishingStatus,
    /// Who may consent while the app is in `Testing`.
    #[serde(default)]
    pub test_users: Vec<String>,
    /// Whether the Gmail API is enabled in the client's project.
    #[serde(default = "yes")]
    pub gmail_api_enabled: bool,
    /// Not Google: issue a new refresh token on every refresh and kill the old one (Microsoft
    /// does this), to test that mailgate stores the refresh token it gets back.
    #[serde(default)]
    pub rotate_refresh_tokens: bool,
    #[serde(default = "default_project_number")]
    pub project_number: u64,
    /// Not Google: how long this client's access tokens live, in seconds (Google's 3599 when
    /// absent), to test renewal under very short-lived tokens.
    #[serde(default)]
    pub access_token_lifetime_secs: Option<i64>,
}

fn yes() -> bool {
    true
}

fn default_project_number() -> u64 {
    DEFAULT_PROJECT_NUMBER
}

impl ClientRegistration {
    /// A production client with the Gmail API enabled.
    pub fn new(
        client_id: impl Into<String>,
        client_secret: impl Into<String>,
        redirect_uris: impl IntoIterator<Item = impl Into<String>>,
    ) -> Self {
        Self {
            client_id: client_id.into(),
            client_secret: client_secret.into(),
            redirect_uris: redirect_uris.into_iter().map(Into::into).collect(),
            publishing_status: PublishingStatus::Production,
            test_users: Vec::new(),
            gmail_api_enabled: true,
            rotate_refresh_tokens: false,
            project_number: DEFAULT_PROJECT_NUMBER,
            access_token_lifetime_secs: None,
        }
    }

    /// Access tokens of this client live `secs` seconds.
    pub fn access_token_lifetime_secs(mut self, secs: i64) -> Self {
        self.access_token_lifetime_secs = Some(secs);
        self
    }

    /// The lifetime of this client's access tokens, in seconds.
    pub fn access_token_lifetime(&self) -> i64 {
        self.access_token_lifetime_secs
            .unwrap_or(ACCESS_TOKEN_LIFETIME_SECS)
    }

    /// Puts the app in `Testing` with these test users.
    pub fn testing(mut self, test_users: impl IntoIterator<Item = impl Into<String>>) -> Self {
        self.publishing_status = PublishingStatus::Testing;
        self.test_users = test_users.into_iter().map(Into::into).collect();
        self
    }

    pub fn gmail_api_enabled(mut self, enabled: bool) -> Self {
        self.gmail_api_enabled = enabled;
        self
    }

    pub fn rotate_refresh_tokens(mut self, rotate: bool) -> Self {
        self.rotate_refresh_tokens = rotate;
        self
    }

    pub fn project_number(mut self, project_number: u64) -> Self {
        self.project_number = project_number;
        self
    }
}

/// A service account. Give its private key (PKCS#8 PEM, as in the JSON key file) or only its
/// public key (PKCS#1 or SubjectPublicKeyInfo DER, base64).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ServiceAccountRegistration {
    pub client_email: String,
    /// The numeric "Unique ID" that domain-wide delegation is granted to.
    pub client_id: String,
    #[serde(default)]
    pub private_key_pem: Option<String>,
    #[serde(default)]
    pub public_key_der_b64: Option<String>,
    #[serde(default = "default_project_number")]
    pub project_number: u64,
    #[serde(default = "yes")]
    pub gmail_api_enabled: bool,
}

impl ServiceAccountRegistration {
    pub fn with_private_key(
        client_email: impl Into<String>,
        client_id: impl Into<String>,
        private_key_pem: impl Into<String>,
    ) -> Self {
        Self {
            client_email: client_email.into(),
            client_id: client_id.into(),
            private_key_pem: Some(private_key_pem.into()),
            public_key_der_b64: None,
            project_number: DEFAULT_PROJECT_NUMBER,
            gmail_api_enabled: true,
        }
    }
}

/// Domain-wide delegation as entered in the Workspace admin console: one client ID, an exact
/// scope list. A new grant for the same client ID replaces the old one; an empty list removes it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DelegationGrant {
    pub client_id: String,
    pub scopes: Vec<String>,
}

/// Mints an access token directly, skipping every flow.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MintAccessToken {
    pub email: String,
    /// Seconds from now; negative = already expired.
    #[serde(default = "default_expires_in")]
    pub expires_in: i64,
    /// Space-separated; defaults to `https://mail.google.com/`.
    #[serde(default)]
    pub scope: Option<String>,
    /// The token text; random (`ya29.` style) when absent.
    #[serde(default)]
    pub token: Option<String>,
    /// Shown as `aud`/`azp`; a stand-in client ID when absent.
    #[serde(default)]
    pub client_id: Option<String>,
}

fn default_expires_in() -> i64 {
    3600
}

impl MintAccessToken {
    /// A one-hour `https://mail.google.com/` token for `email`.
    pub fn for_email(email: impl Into<String>) -> Self {
        Self {
            email: email.into(),
            expires_in: default_expires_in(),
            scope: None,
            token: None,
            client_id: None,
        }
    }
}

/// What `Control::mint_access_token` returns (and `POST /admin/tokens` answers).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MintedAccessToken {
    pub access_token: String,
    pub email: String,
    pub scope: String,
    pub client_id: String,
    /// Seconds since the epoch, by the emulator clock.
    pub expires_at: i64,
}

/// Mints a refresh token directly, as if `email` had consented.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MintRefreshToken {
    pub email: String,
    /// The client allowed to use it; `None` lets any registered client use it.
    #[serde(default)]
    pub client_id: Option<String>,
    #[serde(default)]
    pub refresh_token: Option<String>,
    /// Space-separated; defaults to `https://mail.google.com/`.
    #[serde(default)]
    pub scope: Option<String>,
}

impl MintRefreshToken {
    pub fn new(email: impl Into<String>, client_id: impl Into<String>) -> Self {
        Self {
            email: email.into(),
            client_id: Some(client_id.into()),
            refresh_token: None,
            scope: None,
        }
    }
}

/// What the (scripted) user answers on the consent screen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Decision {
    Allow,
    Deny,
}

/// An injected failure: every request answers `status` (0 = normal service) after waiting
/// `delay_ms` (a delay above the caller's timeout simulates a timeout).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Outage {
    #[serde(default)]
    pub status: u16,
    #[serde(default)]
    pub delay_ms: u64,
}

impl Outage {
    pub const NONE: Self = Self {
        status: 0,
        delay_ms: 0,
    };

    pub fn status(status: u16) -> Self {
        Self {
            status,
            delay_ms: 0,
        }
    }

    pub fn delay_ms(delay_ms: u64) -> Self {
        Self {
            status: 0,
            delay_ms,
        }
    }
}

/// A per-user Gmail API limit: at most `max_requests` requests per `per_seconds` window (by the
/// emulator clock); beyond it, 429 `rateLimitExceeded`. `max_requests = 0` refuses everything.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct RateLimit {
    pub max_requests: u32,
    pub per_seconds: u64,
}

/// Requests seen, failed ones included (a request refused by an injected outage counts too).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counters {
    pub token_requests: u64,
    /// Key: the client ID the request named (form, Basic auth, or the service account's ID for
    /// `jwt-bearer`), `"<none>"` when it named none.
    pub token_requests_by_client: BTreeMap<String, u64>,
    /// Key: the `grant_type` as sent.
    pub token_requests_by_grant: BTreeMap<String, u64>,
    pub authorization_requests: u64,
    pub tokeninfo_calls: u64,
    pub userinfo_calls: u64,
    pub revoke_calls: u64,
    pub gmail_requests: u64,
    /// Messages accepted by `messages.send` (both endpoints).
    pub sends: u64,
}
