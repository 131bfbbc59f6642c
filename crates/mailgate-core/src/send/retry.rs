//! "Retry now": after an operator fixes a relay, queued mail goes out at once instead of
//! waiting out its backoff.
//!
//! A queued message becomes due now and keeps its attempts: they count the rounds it had, and
//! `send.max_attempts` still bounds them (a retry that fails again waits the backoff its count
//! implies). A failed message, retried by its id (or with `failed` for all), is queued again
//! with its attempts reset, so it gets `send.max_attempts` new rounds; its earlier answers stay
//! in its history. Sent, sending and blocked messages cannot be retried. The outbox worker is
//! woken so the rounds start now, not at its next look at the queue.

use crate::Core;
use crate::objects::ServiceError;
use mailgate_domain::Id;
use mailgate_domain::outbox::OutboxStatus;
use mailgate_store::{ObjectKind, OutboxRetry};
use serde::Serialize;

/// What a retry did.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Retried {
    /// How many messages are due now (queued ones hastened, failed ones queued again).
    pub hastened: usize,
    /// Their ids.
    pub ids: Vec<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum RetryError {
    /// The message is being sent, was sent, or was blocked by a filter.
    #[error("message {id} is `{status}`; only queued and failed messages can be retried")]
    NotRetryable { id: String, status: OutboxStatus },
    #[error(transparent)]
    Service(#[from] ServiceError),
}

impl RetryError {
    /// What to do instead, for the person who asked.
    pub fn hint(&self) -> String {
        match self {
            RetryError::NotRetryable {
                id,
                status: OutboxStatus::Sending,
            } => format!(
                "a delivery round is running now; follow it with GET /api/v1/messages/{id}"
            ),
            RetryError::NotRetryable { .. } => {
                "a sent or blocked message is not sent again; queue a new one with POST /api/v1/messages".into()
            }
            RetryError::Service(_) => String::new(),
        }
    }
}

/// Retries one message (`POST /api/v1/outbox/{id}/retry`): queued or failed.
pub async fn one(core: &Core, id: &str) -> Result<Retried, RetryError> {
    let not_found = || ServiceError::NotFound {
        what: "message",
        id: id.to_owned(),
    };
    let parsed = Id::parse("id", id).map_err(|_| not_found())?;
    let scope = OutboxRetry {
        id: Some(parsed),
        failed: true,
        ..OutboxRetry::default()
    };
    let retried = hasten(core, &scope).await?;
    if retried.hastened == 0 {
        let row = core
            .store
            .get_outgoing(parsed)
            .await
            .map_err(ServiceError::from)?
            .ok_or_else(not_found)?;
        return Err(RetryError::NotRetryable {
            id: id.to_owned(),
            status: row.status,
        });
    }
    Ok(retried)
}

/// Retries every queued message (`POST /api/v1/outbox/retry`), or those asked to go through
/// outgoing server `server` (with the messages that named none when it is the primary); with
/// `failed`, failed messages too.
pub async fn all(core: &Core, server: Option<&str>, failed: bool) -> Result<Retried, RetryError> {
    let mut scope = OutboxRetry {
        failed,
        ..OutboxRetry::default()
    };
    if let Some(server) = server {
        let not_found = || ServiceError::NotFound {
            what: "outgoing server",
            id: server.to_owned(),
        };
        let id = Id::parse("server", server).map_err(|_| not_found())?;
        let row = core
            .store
            .get_object(ObjectKind::OutgoingServer, id)
            .await
            .map_err(ServiceError::from)?
            .ok_or_else(not_found)?;
        scope.server_id = Some(id);
        scope.unnamed_too = row.is_primary;
    }
    hasten(core, &scope).await
}

async fn hasten(core: &Core, scope: &OutboxRetry) -> Result<Retried, RetryError> {
    let ids = core
        .store
        .hasten_outgoing(scope, core.clock.now_ms())
        .await
        .map_err(ServiceError::from)?;
    if !ids.is_empty() {
        core.outbox_wake.notify_one();
        tracing::info!(messages = ids.len(), "retry now: messages due at once");
    }
    Ok(Retried {
        hastened: ids.len(),
        ids: ids.iter().map(Id::to_string).collect(),
    })
}
