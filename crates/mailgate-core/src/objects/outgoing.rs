use super::incoming::{
    CredentialView, ServerStatus, auth_fields, auth_links, connection, password_secret,
};
use super::{Resource, SecretMap, ViewContext, parse_body};
use crate::clock::rfc3339;
use mailgate_domain::outgoing::{
    OutgoingProtocol, OutgoingServerInput, OutgoingServerSpec, OutgoingTransport,
};
use mailgate_domain::server::{AuthKind, Security};
use mailgate_domain::{FieldErrors, Filter};
use mailgate_store::{Link, ObjectKind, ObjectRow};
use serde::Serialize;

/// An outgoing server as the API shows it: the password is never returned.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct OutgoingServerView {
    /// Set when the stored secrets of this object cannot be decrypted (another master key, or a
    /// damaged row): the object is listed, but cannot be used until they are entered again.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    pub id: String,
    pub name: String,
    pub email: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sender_name: Option<String>,
    pub protocol: OutgoingProtocol,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub port: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub security: Option<Security>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub api_base_url: Option<String>,
    pub auth: AuthKind,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub oauth_app_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub service_account_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    pub has_password: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reply_to: Option<String>,
    pub enabled: bool,
    pub primary: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub filter: Option<Filter>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub proxy: Option<String>,
    pub status: ServerStatus,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub credential: Option<CredentialView>,
    pub created_at: String,
    pub updated_at: String,
}

pub struct OutgoingServers;

impl Resource for OutgoingServers {
    type Spec = OutgoingServerSpec;
    type View = OutgoingServerView;
    const KIND: ObjectKind = ObjectKind::OutgoingServer;
    const WHAT: &'static str = "outgoing server";
    const SECRETS: &'static [&'static str] = &["password"];

    fn destination(spec: &OutgoingServerSpec) -> super::endpoints::Destination {
        let (host, port) = match &spec.transport {
            mailgate_domain::outgoing::OutgoingTransport::Smtp { host, port, .. } => {
                (Some(host.as_str()), Some(*port))
            }
            mailgate_domain::outgoing::OutgoingTransport::GmailApi { .. } => (None, None),
        };
        super::endpoints::password_destination(host, port, spec.proxy.as_ref(), &spec.auth)
    }

    fn parse(
        body: serde_json::Value,
        stored: &SecretMap,
    ) -> Result<(OutgoingServerSpec, SecretMap), FieldErrors> {
        let input: OutgoingServerInput = parse_body(body)?;
        let password = input.password.clone();
        let spec = input.parse(stored.contains_key("password"))?;
        Ok((spec, password_secret(password)))
    }

    fn name(spec: &OutgoingServerSpec) -> &str {
        &spec.name
    }

    fn links(spec: &OutgoingServerSpec) -> Link {
        auth_links(&spec.auth)
    }

    fn flags(spec: &OutgoingServerSpec) -> (bool, bool) {
        (spec.enabled, spec.primary)
    }

    fn with_flags(spec: OutgoingServerSpec, enabled: bool, primary: bool) -> OutgoingServerSpec {
        OutgoingServerSpec {
            enabled,
            primary,
            ..spec
        }
    }

    fn mark_broken(view: &mut Self::View, error: String) {
        view.error = Some(error);
    }

    fn view(
        ctx: &ViewContext<'_>,
        row: &ObjectRow,
        spec: OutgoingServerSpec,
        secrets: &SecretMap,
    ) -> OutgoingServerView {
        let (auth, oauth_app_id, service_account_id, username) = auth_fields(&spec.auth);
        let protocol = spec.protocol();
        let (status, credential) = connection(
            ctx.credentials,
            spec.enabled,
            &spec.auth,
            spec.email.as_str(),
            protocol == OutgoingProtocol::GmailApi,
        );
        let (host, port, security, api_base_url) = match spec.transport {
            OutgoingTransport::Smtp {
                host,
                port,
                security,
            } => (Some(host), Some(port), Some(security), None),
            OutgoingTransport::GmailApi { api_base_url } => (None, None, None, Some(api_base_url)),
        };
        OutgoingServerView {
            error: None,
            id: row.id.to_string(),
            status,
            credential,
            name: spec.name,
            email: spec.email.to_string(),
            sender_name: spec.sender_name,
            protocol,
            host,
            port,
            security,
            api_base_url,
            auth,
            oauth_app_id,
            service_account_id,
            username,
            has_password: secrets.contains_key("password"),
            reply_to: spec.reply_to.map(|r| r.to_string()),
            enabled: spec.enabled,
            primary: spec.primary,
            filter: spec.filter,
            proxy: spec.proxy.map(|p| p.to_string()),
            created_at: rfc3339(row.created_at_ms),
            updated_at: rfc3339(row.updated_at_ms),
        }
    }
}
