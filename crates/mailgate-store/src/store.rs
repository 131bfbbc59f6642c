//! The seam: everything the service keeps, named in domain terms, and the options either
//! backend opens with.

use crate::{
    AdminTokenRow, AttachmentRow, AttemptRow, CredentialKind, CredentialRow, EventFor, EventRow,
    ImportRequest, ImportedBatch, MessageRow, OAuthStateRow, ObjectKind, ObjectRow, OutboxFinish,
    OutboxQuery, OutboxRetry, OutboxRow, StateUse, StoreError, TicketQuery, TicketRow,
};
use async_trait::async_trait;
use mailgate_domain::Id;

/// Everything the service keeps, behind one seam. (`Any`: test support can reach the backend
/// behind it, see `testing`.)
#[async_trait]
pub trait Store: std::any::Any + Send + Sync {
    /// `sqlite` or `postgres`, for logs and health answers.
    fn backend_name(&self) -> &'static str;

    /// Checks that the database answers.
    async fn ping(&self) -> Result<(), StoreError>;

    /// Proves the store can write: records a heartbeat (one small committed row) and, on
    /// SQLite, checks that the database's file system has room for more than a small write
    /// ([`StoreError::Full`] when it has not, although a small write may still fit in the WAL).
    async fn probe_write(&self, now_ms: i64) -> Result<(), StoreError>;

    /// How commits reach the disk, as `connections` pooled connections report it (SQLite's
    /// `synchronous`: `full` expected; PostgreSQL's `synchronous_commit`).
    async fn durability(&self, connections: u32) -> Result<Vec<String>, StoreError>;

    async fn get_meta(&self, key: &str) -> Result<Option<String>, StoreError>;
    /// Stores `value` under `key` unless a value is there already; returns the value kept.
    async fn put_meta_if_absent(&self, key: &str, value: &str) -> Result<String, StoreError>;

    async fn insert_admin_token(&self, token: &AdminTokenRow) -> Result<(), StoreError>;
    /// Finds a token by its hash and records that it was used.
    async fn use_admin_token(
        &self,
        token_hash: &[u8],
        now_ms: i64,
    ) -> Result<Option<AdminTokenRow>, StoreError>;
    /// Finds a token by its hash, writing nothing.
    async fn find_admin_token(
        &self,
        token_hash: &[u8],
    ) -> Result<Option<AdminTokenRow>, StoreError>;
    async fn list_admin_tokens(&self) -> Result<Vec<AdminTokenRow>, StoreError>;
    async fn delete_admin_token(&self, id: Id) -> Result<bool, StoreError>;

    /// Inserts a configuration object. With `is_primary`, the previous primary of the same kind
    /// stops being primary, in the same transaction.
    async fn insert_object(&self, row: &ObjectRow) -> Result<(), StoreError>;
    /// Replaces a configuration object (same rules as insert); `NotFound` when it is gone.
    async fn update_object(&self, row: &ObjectRow) -> Result<(), StoreError>;
    async fn get_object(&self, kind: ObjectKind, id: Id) -> Result<Option<ObjectRow>, StoreError>;
    async fn find_object_by_name(
        &self,
        kind: ObjectKind,
        name: &str,
    ) -> Result<Option<ObjectRow>, StoreError>;
    /// Objects of one kind, oldest first.
    async fn list_objects(&self, kind: ObjectKind) -> Result<Vec<ObjectRow>, StoreError>;
    /// Objects that link to `id` (servers using an app, incoming servers replying through a
    /// server).
    async fn objects_linking_to(&self, id: Id) -> Result<Vec<ObjectRow>, StoreError>;
    /// Deletes an object; `InUse` when another object still links to it.
    async fn delete_object(&self, kind: ObjectKind, id: Id) -> Result<bool, StoreError>;

    /// Inserts a credential, or replaces the one with the same kind, owner, subject and scope
    /// (a new consent replaces the old grant). Returns the row as stored (its id is kept).
    async fn upsert_credential(&self, row: &CredentialRow) -> Result<CredentialRow, StoreError>;
    async fn find_credential(
        &self,
        kind: CredentialKind,
        owner_id: Id,
        subject: &str,
        scope: &str,
    ) -> Result<Option<CredentialRow>, StoreError>;
    async fn get_credential(&self, id: Id) -> Result<Option<CredentialRow>, StoreError>;
    /// Writes tokens and state of an existing credential.
    async fn update_credential(&self, row: &CredentialRow) -> Result<(), StoreError>;
    async fn list_credentials(&self) -> Result<Vec<CredentialRow>, StoreError>;
    /// Connected credentials whose access token is due for renewal at `now_ms`.
    async fn credentials_due(&self, now_ms: i64) -> Result<Vec<CredentialRow>, StoreError>;

    async fn insert_oauth_state(&self, row: &OAuthStateRow) -> Result<(), StoreError>;
    /// A state as stored, without using it (to redirect to the provider).
    async fn find_oauth_state(
        &self,
        state_hash: &[u8],
    ) -> Result<Option<OAuthStateRow>, StoreError>;
    /// Marks a state used, atomically: only one caller ever gets `Taken`.
    async fn take_oauth_state(
        &self,
        state_hash: &[u8],
        now_ms: i64,
    ) -> Result<StateUse, StoreError>;

    /// Records messages read from mailboxes and imports those not skipped into tickets, in one
    /// transaction with their sources, the mailboxes' progress (written once, at the end) and
    /// the event `event` gives for each outcome. Requests are handled in order, each seeing
    /// the ones before it: a Message-ID or source twice in a batch is imported once, a reply
    /// threads into a ticket opened earlier in the batch.
    ///
    /// When one request fails, the transaction is rolled back and the requests before it are
    /// imported again on their own: a bad message costs the batch nothing but itself and what
    /// comes after it, which stays unread (see [`ImportedBatch`]).
    async fn import_batch(
        &self,
        requests: &[ImportRequest],
        event: &EventFor<'_>,
        now_ms: i64,
    ) -> ImportedBatch;
    /// IMAP: `(uid_validity, last_uid)` read so far.
    async fn mailbox_progress(&self, server_id: Id) -> Result<Option<(i64, i64)>, StoreError>;
    /// What became of a source already handled (`imported`, `duplicate`, `ignored`, `loop`,
    /// `too_large`, `left` by a first import, ...), `None` when it was never read: POP3
    /// compares its UIDL list with this.
    async fn source_outcome(&self, source_key: &str) -> Result<Option<String>, StoreError>;
    /// Of `source_keys`, those whose message was imported or recognised as a duplicate: the
    /// ones a mailbox's after-import action applies to (skipped ones stay where they are).
    async fn sources_to_act_on(&self, source_keys: &[String]) -> Result<Vec<String>, StoreError>;
    async fn list_tickets(&self, query: &TicketQuery) -> Result<Vec<TicketRow>, StoreError>;
    async fn get_ticket(&self, number: i64) -> Result<Option<TicketRow>, StoreError>;
    /// A ticket's messages, oldest first, with attachment metadata (no content, no raw).
    async fn ticket_messages(&self, number: i64) -> Result<Vec<MessageRow>, StoreError>;
    /// One attachment with its content.
    async fn attachment(&self, id: Id) -> Result<Option<AttachmentRow>, StoreError>;
    /// A ticket message's raw bytes as received, `None` when there is no such message (tests
    /// compare them with what the mailbox held).
    async fn message_raw(&self, id: Id) -> Result<Option<Vec<u8>>, StoreError>;

    async fn insert_event(
        &self,
        kind: mailgate_domain::EventKind,
        subject_id: Option<&str>,
        data: &str,
        now_ms: i64,
    ) -> Result<i64, StoreError>;
    /// Events after `after_id`, oldest first.
    async fn list_events(&self, after_id: i64, limit: i64) -> Result<Vec<EventRow>, StoreError>;

    /// Queues a message. When its idempotency key was used before, nothing is written and the
    /// earlier message is returned instead.
    async fn enqueue_outgoing(&self, row: &OutboxRow) -> Result<Option<OutboxRow>, StoreError>;
    async fn get_outgoing(&self, id: Id) -> Result<Option<OutboxRow>, StoreError>;
    /// The servers' answers for a message, in the order they came.
    async fn outgoing_attempts(&self, id: Id) -> Result<Vec<AttemptRow>, StoreError>;
    /// Outbox messages, newest first.
    async fn list_outgoing(&self, query: &OutboxQuery) -> Result<Vec<OutboxRow>, StoreError>;
    /// Takes up to `limit` messages that are due (queued and due at `now_ms`, or sending with a
    /// lapsed lease): each becomes `sending`, leased until `now_ms + lease_ms`, one more
    /// attempt counted. A message is never handed to two callers while its lease holds.
    async fn claim_outgoing(
        &self,
        now_ms: i64,
        lease_ms: i64,
        limit: i64,
    ) -> Result<Vec<OutboxRow>, StoreError>;
    /// Puts every `sending` message back in the queue, due now (a restart after a crash: their
    /// worker is gone). Returns how many.
    async fn requeue_in_flight(&self, now_ms: i64) -> Result<u64, StoreError>;
    /// Ends a delivery round (see [`OutboxFinish`]). Returns false, and writes nothing, when
    /// the message is no longer `sending` (its lease lapsed and another round took it).
    async fn finish_outgoing(&self, finish: &OutboxFinish, now_ms: i64)
    -> Result<bool, StoreError>;
    /// "Retry now": makes the queued messages of `scope` due at `now_ms` (their attempts kept)
    /// and, with `scope.failed`, queues its failed messages again, due now, with their attempts
    /// reset (earlier answers are kept). Returns the ids of the messages it changed.
    async fn hasten_outgoing(
        &self,
        scope: &OutboxRetry,
        now_ms: i64,
    ) -> Result<Vec<Id>, StoreError>;
}

/// Options that apply to either backend.
#[derive(Debug, Clone)]
pub struct StoreOptions {
    pub max_connections: u32,
    pub busy_timeout: std::time::Duration,
    /// PostgreSQL: start although the server runs with `synchronous_commit = off`
    /// (`database.allow_async_commit`).
    pub allow_async_commit: bool,
}

impl Default for StoreOptions {
    fn default() -> Self {
        Self {
            max_connections: 10,
            busy_timeout: std::time::Duration::from_secs(5),
            allow_async_commit: false,
        }
    }
}
