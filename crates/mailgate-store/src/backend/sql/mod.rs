//! The SQL both backends run, written once as ordinary code. Each backend module includes this
//! module (`#[path = "sql/mod.rs"] mod sql;`) with its own `Db` (the sqlx database), `Backend`
//! (its store type) and the few things that truly differ (`NAME`, `check_free_space`, `wrote`,
//! `durability_level`), so the same statements compile against each pool with concrete types.
//!
//! Why not one generic module over `sqlx::Database`: sqlx's encode and decode impls are per
//! backend (`&str`, `Option<T>`, ...), and a trait's `where` clauses are not implied where it is
//! used, so every generic function would repeat a dozen bounds. Compiling the module once per
//! backend keeps the code free of them, and rustfmt and clippy see every line.

mod credentials;
mod db;
mod events;
mod imports;
mod meta;
mod objects;
mod outbox;
mod tickets;
mod tokens;

use super::Backend;
use crate::store::Store;
use crate::{
    AdminTokenRow, AttachmentRow, AttemptRow, CredentialKind, CredentialRow, EventFor, EventRow,
    ImportRequest, ImportedBatch, MessageRow, OAuthStateRow, ObjectKind, ObjectRow, OutboxFinish,
    OutboxQuery, OutboxRetry, OutboxRow, StateUse, StoreError, TicketQuery, TicketRow,
};
use mailgate_domain::Id;

#[async_trait::async_trait]
impl Store for Backend {
    fn backend_name(&self) -> &'static str {
        super::NAME
    }

    async fn probe_write(&self, now_ms: i64) -> Result<(), StoreError> {
        self.check_free_space()?;
        meta::heartbeat(&self.pool, now_ms).await
    }

    async fn durability(&self, connections: u32) -> Result<Vec<String>, StoreError> {
        meta::durability_levels(&self.pool, connections).await
    }

    async fn import_batch(
        &self,
        requests: &[ImportRequest],
        event: &EventFor<'_>,
        now_ms: i64,
    ) -> ImportedBatch {
        let mut end = requests.len();
        let mut failed = None;
        loop {
            match imports::import_all(&self.pool, &requests[..end], event, now_ms).await {
                Ok(outcomes) => {
                    self.wrote();
                    return ImportedBatch { outcomes, failed };
                }
                // Rolled back: the requests before the failing one go in again without it
                // (each round is shorter, so this ends).
                Err((Some(at), error)) if at > 0 && at < end => {
                    failed = Some(error);
                    end = at;
                }
                Err((_, error)) => {
                    return ImportedBatch {
                        outcomes: Vec::new(),
                        failed: Some(error),
                    };
                }
            }
        }
    }

    async fn ping(&self) -> Result<(), StoreError> {
        meta::ping(&self.pool).await
    }

    async fn get_meta(&self, key: &str) -> Result<Option<String>, StoreError> {
        meta::get_meta(&self.pool, key).await
    }

    async fn put_meta_if_absent(&self, key: &str, value: &str) -> Result<String, StoreError> {
        meta::put_meta_if_absent(&self.pool, key, value).await
    }

    async fn insert_admin_token(&self, token: &AdminTokenRow) -> Result<(), StoreError> {
        tokens::insert_admin_token(&self.pool, token).await
    }

    async fn use_admin_token(
        &self,
        token_hash: &[u8],
        now_ms: i64,
    ) -> Result<Option<AdminTokenRow>, StoreError> {
        tokens::use_admin_token(&self.pool, token_hash, now_ms).await
    }

    async fn find_admin_token(
        &self,
        token_hash: &[u8],
    ) -> Result<Option<AdminTokenRow>, StoreError> {
        tokens::find_admin_token(&self.pool, token_hash).await
    }

    async fn list_admin_tokens(&self) -> Result<Vec<AdminTokenRow>, StoreError> {
        tokens::list_admin_tokens(&self.pool).await
    }

    async fn delete_admin_token(&self, id: Id) -> Result<bool, StoreError> {
        tokens::delete_admin_token(&self.pool, id).await
    }

    async fn insert_object(&self, row: &ObjectRow) -> Result<(), StoreError> {
        objects::insert_object(&self.pool, row).await
    }

    async fn update_object(&self, row: &ObjectRow) -> Result<(), StoreError> {
        objects::update_object(&self.pool, row).await
    }

    async fn get_object(&self, kind: ObjectKind, id: Id) -> Result<Option<ObjectRow>, StoreError> {
        objects::get_object(&self.pool, kind, id).await
    }

    async fn find_object_by_name(
        &self,
        kind: ObjectKind,
        name: &str,
    ) -> Result<Option<ObjectRow>, StoreError> {
        objects::find_object_by_name(&self.pool, kind, name).await
    }

    async fn list_objects(&self, kind: ObjectKind) -> Result<Vec<ObjectRow>, StoreError> {
        objects::list_objects(&self.pool, kind).await
    }

    async fn objects_linking_to(&self, id: Id) -> Result<Vec<ObjectRow>, StoreError> {
        objects::objects_linking_to(&self.pool, id).await
    }

    async fn delete_object(&self, kind: ObjectKind, id: Id) -> Result<bool, StoreError> {
        objects::delete_object(&self.pool, kind, id).await
    }

    async fn upsert_credential(&self, row: &CredentialRow) -> Result<CredentialRow, StoreError> {
        credentials::upsert_credential(&self.pool, row).await
    }

    async fn find_credential(
        &self,
        kind: CredentialKind,
        owner_id: Id,
        subject: &str,
        scope: &str,
    ) -> Result<Option<CredentialRow>, StoreError> {
        credentials::find_credential(&self.pool, kind, owner_id, subject, scope).await
    }

    async fn get_credential(&self, id: Id) -> Result<Option<CredentialRow>, StoreError> {
        credentials::get_credential(&self.pool, id).await
    }

    async fn update_credential(&self, row: &CredentialRow) -> Result<(), StoreError> {
        credentials::update_credential(&self.pool, row).await
    }

    async fn list_credentials(&self) -> Result<Vec<CredentialRow>, StoreError> {
        credentials::list_credentials(&self.pool).await
    }

    async fn credentials_due(&self, now_ms: i64) -> Result<Vec<CredentialRow>, StoreError> {
        credentials::credentials_due(&self.pool, now_ms).await
    }

    async fn insert_oauth_state(&self, row: &OAuthStateRow) -> Result<(), StoreError> {
        credentials::insert_oauth_state(&self.pool, row).await
    }

    async fn find_oauth_state(
        &self,
        state_hash: &[u8],
    ) -> Result<Option<OAuthStateRow>, StoreError> {
        credentials::find_oauth_state(&self.pool, state_hash).await
    }

    async fn take_oauth_state(
        &self,
        state_hash: &[u8],
        now_ms: i64,
    ) -> Result<StateUse, StoreError> {
        credentials::take_oauth_state(&self.pool, state_hash, now_ms).await
    }

    async fn mailbox_progress(&self, server_id: Id) -> Result<Option<(i64, i64)>, StoreError> {
        imports::mailbox_progress(&self.pool, server_id).await
    }

    async fn source_outcome(&self, source_key: &str) -> Result<Option<String>, StoreError> {
        imports::source_outcome(&self.pool, source_key).await
    }

    async fn sources_to_act_on(&self, source_keys: &[String]) -> Result<Vec<String>, StoreError> {
        imports::sources_to_act_on(&self.pool, source_keys).await
    }

    async fn list_tickets(&self, query: &TicketQuery) -> Result<Vec<TicketRow>, StoreError> {
        tickets::list_tickets(&self.pool, query).await
    }

    async fn get_ticket(&self, number: i64) -> Result<Option<TicketRow>, StoreError> {
        tickets::get_ticket(&self.pool, number).await
    }

    async fn ticket_messages(&self, number: i64) -> Result<Vec<MessageRow>, StoreError> {
        tickets::ticket_messages(&self.pool, number).await
    }

    async fn attachment(&self, id: Id) -> Result<Option<AttachmentRow>, StoreError> {
        tickets::attachment(&self.pool, id).await
    }

    async fn message_raw(&self, id: Id) -> Result<Option<Vec<u8>>, StoreError> {
        tickets::message_raw(&self.pool, id).await
    }

    async fn insert_event(
        &self,
        kind: mailgate_domain::EventKind,
        subject_id: Option<&str>,
        data: &str,
        now_ms: i64,
    ) -> Result<i64, StoreError> {
        events::insert_event(&self.pool, kind, subject_id, data, now_ms).await
    }

    async fn list_events(&self, after_id: i64, limit: i64) -> Result<Vec<EventRow>, StoreError> {
        events::list_events(&self.pool, after_id, limit).await
    }

    async fn enqueue_outgoing(&self, row: &OutboxRow) -> Result<Option<OutboxRow>, StoreError> {
        outbox::enqueue_outgoing(&self.pool, row).await
    }

    async fn get_outgoing(&self, id: Id) -> Result<Option<OutboxRow>, StoreError> {
        outbox::get_outgoing(&self.pool, id).await
    }

    async fn outgoing_attempts(&self, id: Id) -> Result<Vec<AttemptRow>, StoreError> {
        outbox::outgoing_attempts(&self.pool, id).await
    }

    async fn list_outgoing(&self, query: &OutboxQuery) -> Result<Vec<OutboxRow>, StoreError> {
        outbox::list_outgoing(&self.pool, query).await
    }

    async fn claim_outgoing(
        &self,
        now_ms: i64,
        lease_ms: i64,
        limit: i64,
    ) -> Result<Vec<OutboxRow>, StoreError> {
        outbox::claim_outgoing(&self.pool, now_ms, lease_ms, limit).await
    }

    async fn requeue_in_flight(&self, now_ms: i64) -> Result<u64, StoreError> {
        outbox::requeue_in_flight(&self.pool, now_ms).await
    }

    async fn finish_outgoing(
        &self,
        finish: &OutboxFinish,
        now_ms: i64,
    ) -> Result<bool, StoreError> {
        outbox::finish_outgoing(&self.pool, finish, now_ms).await
    }

    async fn hasten_outgoing(
        &self,
        scope: &OutboxRetry,
        now_ms: i64,
    ) -> Result<Vec<Id>, StoreError> {
        outbox::hasten_outgoing(&self.pool, scope, now_ms).await
    }
}

/// What only tests and benchmarks ask (see `crate::testing`): not part of the [`crate::Store`]
/// seam, which holds what the service does.
#[cfg(feature = "testing")]
impl Backend {
    pub(crate) async fn count_messages(&self) -> Result<i64, StoreError> {
        tickets::count_messages(&self.pool).await
    }
}
