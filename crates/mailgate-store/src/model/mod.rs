//! Rows as the store hands them out: plain data, no sqlx types.

mod outbox;

use mailgate_domain::Id;
pub use outbox::{AttemptRow, OutboxFinish, OutboxQuery, OutboxRetry, OutboxRow};

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
#[derive(Clone, PartialEq, Eq)]
pub struct ObjectRow {
    pub id: Id,
    pub kind: ObjectKind,
    pub name: String,
    pub spec: String,
    pub sealed: Option<Vec<u8>>,
    pub enabled: bool,
    pub is_primary: bool,
    pub links: Link,
    pub created_at_ms: i64,
    pub updated_at_ms: i64,
}

impl std::fmt::Debug for ObjectRow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ObjectRow")
            .field("id", &self.id)
            .field("kind", &self.kind)
            .field("name", &self.name)
            .field("spec", &self.spec)
            .field(
                "sealed",
                &self
                    .sealed
                    .as_ref()
                    .map(|s| format!("[{} sealed bytes]", s.len())),
            )
            .field("enabled", &self.enabled)
            .field("is_primary", &self.is_primary)
            .field("links", &self.links)
            .finish_non_exhaustive()
    }
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
#[derive(Clone, PartialEq, Eq)]
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
    pub sealed: Option<Vec<u8>>,
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

impl std::fmt::Debug for CredentialRow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CredentialRow")
            .field("id", &self.id)
            .field("kind", &self.kind)
            .field("owner_id", &self.owner_id)
            .field("subject", &self.subject)
            .field("status", &self.status)
            .field(
                "sealed",
                &self
                    .sealed
                    .as_ref()
                    .map(|s| format!("[{} sealed bytes]", s.len())),
            )
            .field("access_expires_at_ms", &self.access_expires_at_ms)
            .finish_non_exhaustive()
    }
}

/// A consent in flight.
#[derive(Clone, PartialEq, Eq)]
pub struct OAuthStateRow {
    pub state_hash: Vec<u8>,
    pub server_id: Id,
    pub sealed_verifier: Vec<u8>,
    pub created_at_ms: i64,
    pub expires_at_ms: i64,
    pub used_at_ms: Option<i64>,
}

impl std::fmt::Debug for OAuthStateRow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OAuthStateRow")
            .field("server_id", &self.server_id)
            .field("expires_at_ms", &self.expires_at_ms)
            .field("used_at_ms", &self.used_at_ms)
            .finish_non_exhaustive()
    }
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

/// A ticket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TicketRow {
    pub number: i64,
    pub id: Id,
    pub subject: String,
    pub requester: String,
    pub requester_name: Option<String>,
    pub incoming_server_id: Option<Id>,
    pub group: Option<String>,
    pub category: Option<String>,
    pub status: String,
    pub created_at_ms: i64,
    pub updated_at_ms: i64,
}

/// A ticket to open when an incoming message threads into none.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewTicket {
    pub id: Id,
    pub subject: String,
    pub requester: String,
    pub requester_name: Option<String>,
    pub group: Option<String>,
    pub category: Option<String>,
}

/// A message of a ticket (in or out), with its attachments (content only when asked for).
#[derive(Clone, PartialEq, Eq)]
pub struct MessageRow {
    pub id: Id,
    pub ticket_number: i64,
    /// `in` or `out`.
    pub direction: String,
    /// `normal`, `auto_reply`, `bounce`, ...
    pub kind: String,
    pub message_id: Option<String>,
    pub from_address: Option<String>,
    pub from_name: Option<String>,
    /// JSON: `{"to": [...], "cc": [...]}`.
    pub recipients: String,
    pub subject: String,
    pub body_text: String,
    pub body_html: Option<String>,
    /// JSON list of what was malformed.
    pub problems: String,
    /// JSON list of the Reply-To addresses (where the sender asked replies to go).
    pub reply_to: String,
    /// JSON list of the Message-IDs (without `<>`) of In-Reply-To.
    pub in_reply_to: String,
    /// JSON list of the Message-IDs (without `<>`) of References, oldest first.
    pub references: String,
    /// List or bulk mail (`Precedence: bulk`, `List-Id`, ...).
    pub bulk: bool,
    pub raw: Vec<u8>,
    pub incoming_server_id: Option<Id>,
    pub created_at_ms: i64,
    pub attachments: Vec<AttachmentRow>,
}

impl std::fmt::Debug for MessageRow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MessageRow")
            .field("id", &self.id)
            .field("ticket_number", &self.ticket_number)
            .field("kind", &self.kind)
            .field("message_id", &self.message_id)
            .field("raw_bytes", &self.raw.len())
            .field("attachments", &self.attachments.len())
            .finish_non_exhaustive()
    }
}

#[derive(Clone, PartialEq, Eq)]
pub struct AttachmentRow {
    pub id: Id,
    pub message_id: Id,
    pub position: i64,
    pub filename: String,
    pub content_type: String,
    pub size: i64,
    pub inline: bool,
    pub content_id: Option<String>,
    /// Empty unless read with its content.
    pub content: Vec<u8>,
    /// Where the content stands in the message's raw bytes. On import, when set, only that is
    /// stored (not `content`): reading the attachment decodes it from the raw message.
    pub in_raw: Option<mailgate_domain::mail::RawPart>,
}

impl std::fmt::Debug for AttachmentRow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AttachmentRow")
            .field("id", &self.id)
            .field("filename", &self.filename)
            .field("size", &self.size)
            .finish_non_exhaustive()
    }
}

/// Where a message read from a mailbox came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MailSource {
    pub server_id: Id,
    /// `"{server}:{uidvalidity}:{uid}"` (IMAP) or `"{server}:uidl:{uidl}"` (POP3): a message is
    /// handled once per source, whatever becomes of it.
    pub key: String,
    /// IMAP: `(uid_validity, uid)`, recorded as read with the message.
    pub progress: Option<(i64, i64)>,
}

/// One message read from a mailbox and what to do with it. Either way its source is recorded,
/// in the transaction that imports it (see [`crate::Store::import_batch`]).
#[derive(Debug, Clone)]
pub enum ImportRequest {
    /// Recorded as read and not imported; `outcome` says why (`loop`, `ignored`, `too_large`).
    Skip { source: MailSource, outcome: String },
    /// Imported into the ticket it threads into, or a new one.
    Import {
        source: MailSource,
        import: Box<MessageImport>,
    },
}

impl ImportRequest {
    pub fn source(&self) -> &MailSource {
        match self {
            ImportRequest::Skip { source, .. } | ImportRequest::Import { source, .. } => source,
        }
    }
}

/// A message to import, and how to find or open its ticket.
#[derive(Debug, Clone)]
pub struct MessageImport {
    /// The Message-IDs the message refers to (ours and others'), best evidence first: the
    /// first one stored in a ticket decides.
    pub thread_message_ids: Vec<String>,
    /// The ticket number tagged in the subject. It threads the message only when the sender
    /// (`message.from_address`) is a participant of that ticket (its requester, or an address
    /// that wrote to it or was written to from it) or the ticket was opened through the same
    /// mailbox (`message.incoming_server_id`), unless `thread_tag_from_anyone`: numbers are
    /// sequential, and anyone could otherwise add a message to any ticket.
    pub thread_tag: Option<i64>,
    /// `[receive] thread_by_tag = "any"`: the tag threads whoever sends it (the old rule).
    pub thread_tag_from_anyone: bool,
    /// Import only into an existing ticket (auto-replies, bounces); otherwise record the source
    /// with this outcome and skip it.
    pub only_if_threaded: Option<String>,
    /// The ticket to open when it threads into none.
    pub new_ticket: NewTicket,
    /// SHA-256 (hex) of the message's raw From, Date and Subject values and its body: with the
    /// Message-ID, what makes it the same message as an earlier one (a re-delivery with another
    /// Received header, or to two watched mailboxes). `None`: the Message-ID alone decides.
    pub content_digest: Option<String>,
    /// The message (attachments with their content); its `ticket_number` is decided here.
    pub message: MessageRow,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ImportOutcome {
    Imported {
        ticket_number: i64,
        message_id: Id,
        new_ticket: bool,
    },
    /// The same message came in before (the same Message-ID and content digest; another
    /// mailbox, a re-delivery, earlier in the same batch): not imported again. A different
    /// message with a Message-ID seen before is imported, with a `message_id_reused` problem.
    Duplicate { ticket_number: i64 },
    /// This source was handled before (a retry after a crash between commit and ack).
    AlreadySeen,
    /// Recorded as read and not imported: [`ImportRequest::Skip`], or an auto-reply or bounce
    /// that threads into no ticket.
    Skipped,
}

/// An event written in the transaction of the import it reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewEvent {
    pub kind: String,
    pub subject_id: Option<String>,
    /// JSON.
    pub data: String,
}

/// The event an outcome leads to, asked with the index of its request in the batch.
pub type EventFor<'a> = dyn Fn(usize, &ImportOutcome) -> Option<NewEvent> + Send + Sync + 'a;

/// What became of a batch (see [`crate::Store::import_batch`]).
#[derive(Debug)]
pub struct ImportedBatch {
    /// The outcome of every request committed, in order: all of them unless `failed`.
    pub outcomes: Vec<ImportOutcome>,
    /// Why the request at index `outcomes.len()` could not be imported (or, with no outcomes,
    /// why nothing could be committed). Nothing of it or of the requests after it was
    /// committed, their progress included: the mailbox offers them again.
    pub failed: Option<crate::StoreError>,
}

/// A ticket search.
#[derive(Debug, Clone, Default)]
pub struct TicketQuery {
    pub status: Option<String>,
    pub group: Option<String>,
    pub category: Option<String>,
    /// Matched against the subject, the requester (address and name) and the text of every
    /// message; case-insensitively (on SQLite, for ASCII letters only).
    pub text: Option<String>,
    /// Tickets with a number below this (newest first paging).
    pub before: Option<i64>,
    pub limit: i64,
}
