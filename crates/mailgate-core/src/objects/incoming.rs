use super::{Resource, SecretMap, ViewContext, parse_body};
use crate::clock::rfc3339;
use mailgate_domain::incoming::{
    AfterImport, BulkMail, ImportFrom, IncomingProtocol, IncomingServerInput, IncomingServerSpec,
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
    /// Its OAuth grant or service account token works.
    Connected,
    /// Its grant died (revoked, expired, password changed): authorize it again.
    NeedsReauthorization,
    /// Its credential fails for a configuration reason (see `credential.last_error`).
    Failed,
    /// Everything needed to connect is configured (passwords; service accounts before first use).
    Ready,
}

/// The credential behind a server, as answers show it (never its tokens).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CredentialView {
    /// `oauth_grant` or `service_account`.
    pub kind: &'static str,
    /// The mailbox the tokens act for.
    pub account: String,
    /// `connected`, `needs_reauthorization` or `failed`.
    pub status: String,
    pub granted_scope: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub access_expires_at: Option<String>,
    /// The last failure: `{code, message, hint, severity}`.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub last_error: Option<serde_json::Value>,
}

/// The status of a server and its credential (from the credentials prefetched for the answer).
pub(crate) fn connection(
    credentials: &[mailgate_store::CredentialRow],
    enabled: bool,
    auth: &Auth,
    mailbox: &str,
    gmail_api: bool,
) -> (ServerStatus, Option<CredentialView>) {
    let key = crate::tokens::CredentialKey::for_server(auth, mailbox, gmail_api);
    let row = key.as_ref().and_then(|k| {
        credentials.iter().find(|c| {
            c.kind == k.kind
                && c.owner_id == k.owner_id
                && c.subject == k.subject
                && c.scope == k.scope
        })
    });
    let view = row.map(|c| CredentialView {
        kind: c.kind.as_str(),
        account: c.subject.clone(),
        status: c.status.clone(),
        granted_scope: c.granted_scope.clone(),
        access_expires_at: c.access_expires_at_ms.map(rfc3339),
        last_error: c
            .last_error
            .as_deref()
            .and_then(|e| serde_json::from_str(e).ok()),
    });
    let status = match (enabled, auth, row.map(|c| c.status.as_str())) {
        (false, _, _) => ServerStatus::Disabled,
        (true, _, Some(crate::tokens::CONNECTED)) => ServerStatus::Connected,
        (true, _, Some(crate::tokens::NEEDS_REAUTHORIZATION)) => ServerStatus::NeedsReauthorization,
        (true, _, Some(crate::tokens::AUTHORIZATION_REQUIRED)) => {
            ServerStatus::AuthorizationRequired
        }
        (true, _, Some(_)) => ServerStatus::Failed,
        (
            true,
            Auth::Oauth {
                oauth_app_id: Some(_),
                ..
            },
            None,
        ) => ServerStatus::AuthorizationRequired,
        (true, _, None) => ServerStatus::Ready,
    };
    (status, view)
}

/// An incoming server as the API shows it: the password is never returned.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct IncomingServerView {
    /// Set when the stored secrets of this object cannot be decrypted (another master key, or a
    /// damaged row): the object is listed, but cannot be used until they are entered again.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
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
    /// What the first connection imported of the mail already there: `now`, `unseen`, `all`
    /// or a day `YYYY-MM-DD`; `all` for servers stored before the choice existed.
    #[schema(value_type = String, example = "now")]
    pub import_from: ImportFrom,
    /// Bulk and list mail that answers no ticket: `ignore` (recorded as ignored) or
    /// `create_tickets`.
    pub bulk_mail: BulkMail,
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
    #[serde(skip_serializing_if = "Option::is_none")]
    pub credential: Option<CredentialView>,
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
    const SECRETS: &'static [&'static str] = &["password"];

    fn destination(spec: &IncomingServerSpec) -> super::endpoints::Destination {
        super::endpoints::password_destination(
            Some(&spec.host),
            Some(spec.port),
            spec.proxy.as_ref(),
            &spec.auth,
        )
    }

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

    /// The mailbox watchers follow before the answer: a new or changed server's watcher is
    /// (re)started with the settings just written, a disabled or deleted one's has stopped.
    async fn written(core: &crate::Core) {
        core.mailbox_wake.changed().await;
    }

    fn with_flags(spec: IncomingServerSpec, enabled: bool, primary: bool) -> IncomingServerSpec {
        IncomingServerSpec {
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
        spec: IncomingServerSpec,
        secrets: &SecretMap,
    ) -> IncomingServerView {
        let (auth, oauth_app_id, service_account_id, username) = auth_fields(&spec.auth);
        let (status, credential) = connection(
            ctx.credentials,
            spec.enabled,
            &spec.auth,
            spec.email.as_str(),
            false,
        );
        IncomingServerView {
            error: None,
            id: row.id.to_string(),
            status,
            credential,
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
            import_from: spec.import_from,
            bulk_mail: spec.bulk_mail,
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
