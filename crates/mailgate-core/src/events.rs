//! Events: what happened, kept in order in the store (webhooks deliver them later) and logged.

use crate::Core;
pub use mailgate_domain::EventKind;
use serde::Serialize;

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct EventView {
    pub id: i64,
    pub kind: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subject_id: Option<String>,
    #[schema(value_type = Object)]
    pub data: serde_json::Value,
    pub created_at: String,
}

/// Records an event. A failure to record is logged, never returned: an event must not undo the
/// work it reports.
pub async fn record(
    core: &Core,
    kind: EventKind,
    subject_id: Option<&str>,
    data: serde_json::Value,
) {
    // The data names people and quotes mail (addresses, subjects): debug only.
    let id = subject_id.unwrap_or_default();
    tracing::info!(event = kind.as_str(), subject_id = id, "event");
    tracing::debug!(event = kind.as_str(), subject_id = id, data = %data, "event data");
    if let Err(e) = core
        .store
        .insert_event(kind, subject_id, &data.to_string(), core.clock.now_ms())
        .await
    {
        tracing::error!(event = kind.as_str(), error = %e, "could not record an event");
    }
}

pub async fn list(
    core: &Core,
    after: i64,
    limit: i64,
) -> Result<Vec<EventView>, mailgate_store::StoreError> {
    let rows = core.store.list_events(after, limit.clamp(1, 1000)).await?;
    Ok(rows
        .into_iter()
        .map(|r| EventView {
            id: r.id,
            kind: r.kind,
            subject_id: r.subject_id,
            data: serde_json::from_str(&r.data).unwrap_or(serde_json::Value::Null),
            created_at: crate::clock::rfc3339(r.created_at_ms),
        })
        .collect())
}
