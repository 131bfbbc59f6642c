//! Rows as the store hands them out: plain data, no sqlx types.

use mailgate_domain::Id;

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
