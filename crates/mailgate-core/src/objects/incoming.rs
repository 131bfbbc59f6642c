use super::{Resource, SecretMap, parse_body, rfc3339};
use crate::Core;
use mailgate_domain::incoming::{
    AfterImport, IncomingProtocol, IncomingServerInput, IncomingServerSpec,
};
use mailgate_domain::server::{Auth, AuthKind, Security};
use mailgate_domain::{ExposeSecret, FieldErrors, Filter};
use mailgate_store::{Link, ObjectKind, ObjectRow};
use serde::Serialize;

/// Where a server stands, as lists and the CLI show it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ServerStatus {
    /// Switched off by an admin.
    Disabled,
    /// Uses an OAuth app, and no account has signed in and consented yet.
    AuthorizationRequired,
    /// Everything needed to connect is configured.
    Ready,
}

pub(crate) fn status(enabled: bool, auth: &Auth) -> ServerStatus {
    match (enabled, auth) {
        (false, _) => ServerStatus::Disabled,
        (
            true,
            Auth::Oauth {
                oauth_app_id: Some(_),
                ..
            },
        ) => ServerStatus::AuthorizationRequired,
        _ => ServerStatus::Ready,
    }
}

/// An incoming server as the API shows it: the password is never returned.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct IncomingServerView {
    pub id: String,
    pub name: String,
    pub email: String,
    pub protocol: IncomingProtocol,
    pub host: String,
    pub port: u16,
    pub security: Security,
    pub auth: AuthKind,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub oauth_app_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub service_account_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    pub has_password: bool,
    pub folder: String,
    pub after_import: AfterImport,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub move_to: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub category: Option<String>,
    pub enabled: bool,
    pub primary: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub outgoing_server_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub filter: Option<Filter>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub proxy: Option<String>,
    pub status: ServerStatus,
    pub created_at: String,
    pub updated_at: String,
}

pub struct IncomingServers;

pub(crate) fn password_secret(password: Option<mailgate_domain::SecretString>) -> SecretMap {
    password
        .filter(|p| !p.expose_secret().is_empty())
        .map(|p| ("password".to_owned(), p))
        .into_iter()
        .collect()
}

pub(crate) fn auth_links(auth: &Auth) -> Link {
    Link {
        oauth_app_id: auth.oauth_app_id(),
        service_account_id: auth.service_account_id(),
        outgoing_server_id: None,
    }
}

pub(crate) fn auth_fields(
    auth: &Auth,
) -> (AuthKind, Option<String>, Option<String>, Option<String>) {
    let username = match auth {
        Auth::Basic { username } => Some(username.clone()),
        _ => None,
    };
    (
        auth.kind(),
        auth.oauth_app_id().map(|i| i.to_string()),
        auth.service_account_id().map(|i| i.to_string()),
        username,
    )
}

impl Resource for IncomingServers {
    type Spec = IncomingServerSpec;
    type View = IncomingServerView;
    const KIND: ObjectKind = ObjectKind::IncomingServer;
    const WHAT: &'static str = "incoming server";

    fn parse(
        body: serde_json::Value,
        stored: &SecretMap,
    ) -> Result<(IncomingServerSpec, SecretMap), FieldErrors> {
        let input: IncomingServerInput = parse_body(body)?;
        let password = input.password.clone();
        let spec = input.parse(stored.contains_key("password"))?;
        Ok((spec, password_secret(password)))
    }

    fn name(spec: &IncomingServerSpec) -> &str {
        &spec.name
    }

    fn links(spec: &IncomingServerSpec) -> Link {
        Link {
            outgoing_server_id: spec.outgoing_server_id,
            ..auth_links(&spec.auth)
        }
    }

    fn flags(spec: &IncomingServerSpec) -> (bool, bool) {
        (spec.enabled, spec.primary)
    }

    fn with_flags(spec: IncomingServerSpec, enabled: bool, primary: bool) -> IncomingServerSpec {
        IncomingServerSpec {
            enabled,
            primary,
            ..spec
        }
    }

    fn view(
        _core: &Core,
        row: &ObjectRow,
        spec: IncomingServerSpec,
        secrets: &SecretMap,
    ) -> IncomingServerView {
        let (auth, oauth_app_id, service_account_id, username) = auth_fields(&spec.auth);
        IncomingServerView {
            id: row.id.to_string(),
            status: status(spec.enabled, &spec.auth),
            name: spec.name,
            email: spec.email.to_string(),
            protocol: spec.protocol,
            host: spec.host,
            port: spec.port,
            security: spec.security,
            auth,
            oauth_app_id,
            service_account_id,
            username,
            has_password: secrets.contains_key("password"),
            folder: spec.folder,
            after_import: spec.after_import,
            move_to: spec.move_to,
            group: spec.group,
            category: spec.category,
            enabled: spec.enabled,
            primary: spec.primary,
            outgoing_server_id: spec.outgoing_server_id.map(|i| i.to_string()),
            filter: spec.filter,
            proxy: spec.proxy.map(|p| p.to_string()),
            created_at: rfc3339(row.created_at_ms),
            updated_at: rfc3339(row.updated_at_ms),
        }
    }
}
