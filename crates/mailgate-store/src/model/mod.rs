//! Rows as the store hands them out: plain data, no sqlx types.

mod imports;
mod outbox;
mod sealed;
mod tickets;

pub use imports::{
    EventFor, ImportOutcome, ImportRequest, ImportedBatch, MailSource, MessageImport, NewEvent,
};
use mailgate_domain::Id;
pub use outbox::{AttemptRow, OutboxFinish, OutboxQuery, OutboxRetry, OutboxRow};
pub use sealed::Sealed;
pub use tickets::{AttachmentRow, MessageRow, NewTicket, TicketQuery, TicketRow};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ObjectKind {
    OAuthApp,
    ServiceAccount,
    IncomingServer,
    OutgoingServer,
}

impl ObjectKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ObjectKind::OAuthApp => "oauth_app",
            ObjectKind::ServiceAccount => "service_account",
            ObjectKind::IncomingServer => "incoming_server",
            ObjectKind::OutgoingServer => "outgoing_server",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        [
            Self::OAuthApp,
            Self::ServiceAccount,
            Self::IncomingServer,
            Self::OutgoingServer,
        ]
        .into_iter()
        .find(|k| k.as_str() == text)
    }
}

/// Links from one configuration object to others (foreign keys).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Link {
    pub oauth_app_id: Option<Id>,
    pub service_account_id: Option<Id>,
    pub outgoing_server_id: Option<Id>,
}

/// An OAuth app, service account or server. `spec` is the domain object as JSON; `sealed` its
/// encrypted secrets. `enabled` and `is_primary` are authoritative over what `spec` says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectRow {
    pub id: Id,
    pub kind: ObjectKind,
    pub name: String,
    pub spec: String,
    pub sealed: Option<Sealed>,
    pub enabled: bool,
    pub is_primary: bool,
    pub links: Link,
    pub created_at_ms: i64,
    pub updated_at_ms: i64,
}

/// An admin API token; only its hash is kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdminTokenRow {
    pub id: Id,
    pub name: String,
    pub token_hash: Vec<u8>,
    pub created_at_ms: i64,
    pub last_used_at_ms: Option<i64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CredentialKind {
    OAuthGrant,
    ServiceAccount,
}

impl CredentialKind {
    pub fn as_str(self) -> &'static str {
        match self {
            CredentialKind::OAuthGrant => "oauth_grant",
            CredentialKind::ServiceAccount => "service_account",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        [Self::OAuthGrant, Self::ServiceAccount]
            .into_iter()
            .find(|k| k.as_str() == text)
    }
}

/// A credential: tokens sealed in `sealed`, state in the other columns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CredentialRow {
    pub id: Id,
    pub kind: CredentialKind,
    /// The OAuth app or service account.
    pub owner_id: Id,
    /// The mailbox, lower-cased.
    pub subject: String,
    /// The scope asked for (service accounts); empty for OAuth grants.
    pub scope: String,
    /// What the provider granted, space-separated.
    pub granted_scope: String,
    pub sealed: Option<Sealed>,
    pub access_expires_at_ms: Option<i64>,
    /// When the background refresher should renew the access token.
    pub refresh_at_ms: Option<i64>,
    /// `connected`, `needs_reauthorization` or `failed`.
    pub status: String,
    /// The last failure's diagnosis, as JSON.
    pub last_error: Option<String>,
    /// Consecutive transient failures (for backoff).
    pub failures: i64,
    pub created_at_ms: i64,
    pub updated_at_ms: i64,
}

/// A consent in flight.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OAuthStateRow {
    pub state_hash: Vec<u8>,
    pub server_id: Id,
    pub sealed_verifier: Sealed,
    pub created_at_ms: i64,
    pub expires_at_ms: i64,
    pub used_at_ms: Option<i64>,
}

/// Why a consent `state` cannot be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StateUse {
    /// Taken now; it can never be taken again.
    Taken(OAuthStateRow),
    Unknown,
    Expired,
    AlreadyUsed,
}

/// Something that happened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventRow {
    pub id: i64,
    pub kind: String,
    pub subject_id: Option<String>,
    /// JSON.
    pub data: String,
    pub created_at_ms: i64,
}
