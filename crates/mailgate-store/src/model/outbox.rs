//! Outbox rows: what to send, how far its delivery got, and how it is listed and retried.

use super::tickets::MessageRow;
use mailgate_domain::Id;
use mailgate_domain::outbox::{AttemptOutcome, OutboxStatus};

/// A message in the outbox: what to send (the draft, as JSON), and how far its delivery got.
#[derive(Clone, PartialEq, Eq)]
pub struct OutboxRow {
    pub id: Id,
    /// The client's key for a safe retry of the same request.
    pub idempotency_key: Option<String>,
    /// SHA-256 of the request, to tell a retry from another request that reuses the key.
    pub request_hash: Vec<u8>,
    pub status: OutboxStatus,
    /// The outgoing server asked for; `None` for the primary.
    pub server_id: Option<Id>,
    /// The ticket this is a reply to.
    pub ticket_number: Option<i64>,
    /// The Message-ID (without `<>`), fixed when queued so that every attempt sends the same.
    pub message_id: String,
    /// The validated draft, as JSON.
    pub draft: String,
    /// Delivery rounds started.
    pub attempts: i64,
    pub next_attempt_at_ms: i64,
    /// While `sending`: when the claim lapses (a worker that died let go of it).
    pub lease_until_ms: Option<i64>,
    /// The server that sent it.
    pub sent_server_id: Option<Id>,
    /// The latest outcome as JSON (accepted recipients, the error and its fix).
    pub result: Option<String>,
    pub created_at_ms: i64,
    pub updated_at_ms: i64,
    pub sent_at_ms: Option<i64>,
}

impl std::fmt::Debug for OutboxRow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OutboxRow")
            .field("id", &self.id)
            .field("status", &self.status)
            .field("server_id", &self.server_id)
            .field("ticket_number", &self.ticket_number)
            .field("message_id", &self.message_id)
            .field("draft_bytes", &self.draft.len())
            .field("attempts", &self.attempts)
            .field("next_attempt_at_ms", &self.next_attempt_at_ms)
            .finish_non_exhaustive()
    }
}

/// One server's answer during a delivery round.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttemptRow {
    /// The delivery round (the outbox row's `attempts` when it ran).
    pub round: i64,
    pub server_id: Option<Id>,
    pub server_name: String,
    pub outcome: AttemptOutcome,
    /// JSON: the server's words, the diagnosis, the recipients.
    pub detail: String,
    pub started_at_ms: i64,
    pub finished_at_ms: i64,
}

/// The end of a delivery round, written in one transaction: the row's new state, the answers
/// of the servers tried, the event, and (a sent ticket reply) the ticket message.
#[derive(Debug, Clone)]
pub struct OutboxFinish {
    pub id: Id,
    /// `Queued` (retry at `next_attempt_at_ms`), `Sent`, `Failed` or `Blocked`.
    pub status: OutboxStatus,
    pub next_attempt_at_ms: i64,
    pub sent_server_id: Option<Id>,
    pub result: Option<String>,
    pub attempts: Vec<AttemptRow>,
    /// `(kind, data as JSON)`.
    pub event: Option<(mailgate_domain::EventKind, String)>,
    pub ticket_message: Option<MessageRow>,
}

/// An outbox listing.
#[derive(Debug, Clone, Default)]
pub struct OutboxQuery {
    pub status: Option<OutboxStatus>,
    pub ticket_number: Option<i64>,
    /// Messages queued before this one (newest first paging).
    pub before: Option<Id>,
    pub limit: i64,
}

/// Which messages a "retry now" takes (`POST /api/v1/outbox/{id}/retry`, `.../retry`).
#[derive(Debug, Clone, Default)]
pub struct OutboxRetry {
    /// Only this message.
    pub id: Option<Id>,
    /// Only messages asked to go through this outgoing server...
    pub server_id: Option<Id>,
    /// ...and, with it, those that named no server (it is the primary).
    pub unnamed_too: bool,
    /// Failed messages too: queued again with their attempts reset.
    pub failed: bool,
}
