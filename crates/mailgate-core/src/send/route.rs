//! The route of a message: the outgoing servers it may go through, in order, as a delivery
//! round uses them.

use crate::Core;
use crate::objects::{Objects, OutgoingServers, ServiceError};
use mailgate_domain::Id;
use mailgate_domain::outgoing::{OutgoingServerSpec, OutgoingTransport};
use mailgate_domain::troubleshoot::ProviderKind;

/// An outgoing server as a round uses it.
#[derive(Debug, Clone)]
pub(crate) struct RouteServer {
    pub id: Id,
    pub name: String,
    /// Changes whenever the server is edited (pooled connections are then rebuilt).
    pub updated_at_ms: i64,
    pub spec: OutgoingServerSpec,
    /// Whose fixes its failures are told with ([`provider_of`]).
    pub provider: ProviderKind,
}

/// Whose fixes a server's failures are told with: Google for the Gmail API, else the provider
/// of its OAuth app or of its host (see [`crate::probe::provider`]).
pub(crate) async fn provider_of(core: &Core, spec: &OutgoingServerSpec) -> ProviderKind {
    match &spec.transport {
        OutgoingTransport::Smtp { host, .. } => {
            crate::oauth::provider::of_server(core, &spec.auth, host).await
        }
        OutgoingTransport::GmailApi { .. } => ProviderKind::Google,
    }
}

/// The outgoing servers a message may go through, in order: the one asked for (else the
/// primary), then the primary as the fallback.
pub(crate) async fn route(
    core: &Core,
    asked: Option<Id>,
) -> Result<Vec<RouteServer>, ServiceError> {
    let all = Objects::<OutgoingServers>::specs(core).await?;
    let primary = all.iter().find(|(row, _)| row.is_primary);
    let first = match asked {
        Some(id) => all.iter().find(|(row, _)| row.id == id).or(primary),
        None => primary,
    };
    let mut route = Vec::new();
    for (row, spec) in first.into_iter().chain(primary) {
        if !route.iter().any(|s: &RouteServer| s.id == row.id) {
            route.push(RouteServer {
                id: row.id,
                name: row.name.clone(),
                updated_at_ms: row.updated_at_ms,
                provider: provider_of(core, spec).await,
                spec: spec.clone(),
            });
        }
    }
    Ok(route)
}
