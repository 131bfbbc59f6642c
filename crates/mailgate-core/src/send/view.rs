//! The outbox as the API shows it: a queued message, its status and latest result, and every
//! server's answer so far.

use crate::Core;
use crate::clock::rfc3339;
use crate::objects::ServiceError;
use mailgate_domain::Id;
use mailgate_domain::mail::compose::Draft;
use mailgate_domain::outbox::{AttemptOutcome, OutboxStatus};
use mailgate_store::{AttemptRow, OutboxQuery, OutboxRow};
use serde::Serialize;

/// A queued message as the API shows it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct OutboxView {
    pub id: String,
    /// `queued`, `sending`, `sent`, `failed` or `blocked`.
    #[schema(value_type = String)]
    pub status: OutboxStatus,
    /// The outgoing server asked for; absent for the primary.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub server_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ticket_number: Option<i64>,
    /// The Message-ID header, with its angle brackets.
    pub message_id: String,
    pub subject: String,
    pub to: Vec<String>,
    pub cc: Vec<String>,
    pub bcc: Vec<String>,
    /// Delivery rounds started.
    pub attempts: i64,
    /// While queued: when the next round starts.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_attempt_at: Option<String>,
    /// The server that sent it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sent_server_id: Option<String>,
    /// The latest outcome: who accepted it, or the error and its fix.
    #[schema(value_type = Object)]
    pub result: serde_json::Value,
    pub created_at: String,
    pub updated_at: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sent_at: Option<String>,
}

/// One server's answer in a delivery round.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AttemptView {
    pub round: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub server_id: Option<String>,
    pub server_name: String,
    /// `sent`, `transient`, `permanent`, `unavailable` or `blocked`.
    #[schema(value_type = String)]
    pub outcome: AttemptOutcome,
    #[schema(value_type = Object)]
    pub detail: serde_json::Value,
    pub started_at: String,
    pub finished_at: String,
}

/// A queued message with every server answer so far (the route taken).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct OutboxDetail {
    #[serde(flatten)]
    pub message: OutboxView,
    pub answers: Vec<AttemptView>,
}

/// One queued message with the servers' answers.
pub async fn get(core: &Core, id: &str) -> Result<OutboxDetail, ServiceError> {
    let not_found = || ServiceError::NotFound {
        what: "message",
        id: id.to_owned(),
    };
    let parsed = Id::parse("id", id).map_err(|_| not_found())?;
    let row = core
        .store
        .get_outgoing(parsed)
        .await?
        .ok_or_else(not_found)?;
    let answers = core.store.outgoing_attempts(parsed).await?;
    Ok(OutboxDetail {
        message: view(&row),
        answers: answers.iter().map(attempt_view).collect(),
    })
}

/// Queued messages, newest first.
pub async fn list(core: &Core, query: &OutboxQuery) -> Result<Vec<OutboxView>, ServiceError> {
    Ok(core
        .store
        .list_outgoing(query)
        .await?
        .iter()
        .map(view)
        .collect())
}

fn json(text: Option<&str>) -> serde_json::Value {
    text.and_then(|t| serde_json::from_str(t).ok())
        .unwrap_or(serde_json::Value::Null)
}

pub(super) fn view(row: &OutboxRow) -> OutboxView {
    let draft: Option<Draft> = serde_json::from_str(&row.draft).ok();
    let addresses = |pick: fn(&Draft) -> &Vec<mailgate_domain::mail::compose::DraftAddress>| {
        draft
            .as_ref()
            .map(|d| {
                pick(d)
                    .iter()
                    .map(|m| m.email.as_str().to_owned())
                    .collect()
            })
            .unwrap_or_default()
    };
    OutboxView {
        id: row.id.to_string(),
        status: row.status,
        server_id: row.server_id.map(|i| i.to_string()),
        ticket_number: row.ticket_number,
        message_id: format!("<{}>", row.message_id),
        subject: draft
            .as_ref()
            .map(|d| d.subject.clone())
            .unwrap_or_default(),
        to: addresses(|d| &d.to),
        cc: addresses(|d| &d.cc),
        bcc: addresses(|d| &d.bcc),
        attempts: row.attempts,
        next_attempt_at: (row.status == OutboxStatus::Queued)
            .then(|| rfc3339(row.next_attempt_at_ms)),
        sent_server_id: row.sent_server_id.map(|i| i.to_string()),
        result: json(row.result.as_deref()),
        created_at: rfc3339(row.created_at_ms),
        updated_at: rfc3339(row.updated_at_ms),
        sent_at: row.sent_at_ms.map(rfc3339),
    }
}

fn attempt_view(a: &AttemptRow) -> AttemptView {
    AttemptView {
        round: a.round,
        server_id: a.server_id.map(|i| i.to_string()),
        server_name: a.server_name.clone(),
        outcome: a.outcome,
        detail: json(Some(&a.detail)),
        started_at: rfc3339(a.started_at_ms),
        finished_at: rfc3339(a.finished_at_ms),
    }
}
