//! The server a consent is for, with its OAuth app.

use super::error::ConsentError;
use crate::Core;
use crate::oauth::scopes::MailUse;
use crate::objects::{
    IncomingServers, OAuthApps, Objects, OutgoingServers, SecretMap, ServiceError,
};
use mailgate_domain::incoming::IncomingProtocol;
use mailgate_domain::oauth_app::OAuthAppSpec;
use mailgate_domain::outgoing::OutgoingProtocol;
use mailgate_domain::server::Auth;
use mailgate_domain::{FieldError, FieldErrors, Id};
use mailgate_store::{ObjectKind, StoreError};

/// Which kind of server a consent is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServerKind {
    Incoming,
    Outgoing,
}

/// What a server needs for consent: its mailbox and its OAuth app.
pub struct ConsentTarget {
    pub server_id: Id,
    pub server_name: String,
    pub mailbox: String,
    pub app_id: Id,
    pub app: OAuthAppSpec,
    pub app_secrets: SecretMap,
    /// What the server does with the grant: it decides which granted scopes it needs.
    pub mail_use: MailUse,
}

/// Loads a server that uses an OAuth app, with the app.
pub async fn target(
    core: &Core,
    kind: ServerKind,
    id: &str,
) -> Result<ConsentTarget, ServiceError> {
    let parsed = Id::parse("id", id).map_err(|_| ServiceError::NotFound {
        what: what(kind),
        id: id.to_owned(),
    })?;
    let (name, mailbox, auth, mail_use) = match kind {
        ServerKind::Incoming => {
            let (_, spec, _) = Objects::<IncomingServers>::load(core, parsed).await?;
            let mail_use = match spec.protocol {
                IncomingProtocol::Imap => MailUse::Imap,
                IncomingProtocol::Pop3 => MailUse::Pop3,
            };
            (spec.name, spec.email.to_string(), spec.auth, mail_use)
        }
        ServerKind::Outgoing => {
            let (_, spec, _) = Objects::<OutgoingServers>::load(core, parsed).await?;
            let mail_use = match spec.protocol() {
                OutgoingProtocol::Smtp => MailUse::Smtp,
                OutgoingProtocol::GmailApi => MailUse::GmailApi,
            };
            (spec.name, spec.email.to_string(), spec.auth, mail_use)
        }
    };
    let Auth::Oauth {
        oauth_app_id: Some(app_id),
        ..
    } = auth
    else {
        return Err(FieldErrors::from(
            FieldError::new("auth", "this server does not sign in through an OAuth app")
                .with_hint("only servers with `auth: oauth` and an `oauth_app_id` need consent; service accounts and passwords work without it"),
        )
        .into());
    };
    let (_, app, app_secrets) = Objects::<OAuthApps>::load(core, app_id).await?;
    Ok(ConsentTarget {
        server_id: parsed,
        server_name: name,
        mailbox,
        app_id,
        app,
        app_secrets,
        mail_use,
    })
}

fn what(kind: ServerKind) -> &'static str {
    match kind {
        ServerKind::Incoming => "incoming server",
        ServerKind::Outgoing => "outgoing server",
    }
}

/// Which kind of server `id` is, if it still exists.
async fn server_kind(core: &Core, id: Id) -> Result<Option<ServerKind>, StoreError> {
    if core
        .store
        .get_object(ObjectKind::IncomingServer, id)
        .await?
        .is_some()
    {
        return Ok(Some(ServerKind::Incoming));
    }
    Ok(core
        .store
        .get_object(ObjectKind::OutgoingServer, id)
        .await?
        .map(|_| ServerKind::Outgoing))
}

/// The target of a consent whose state names `server_id`: gone when the server was deleted
/// or no longer signs in through an OAuth app.
pub(super) async fn target_of(core: &Core, server_id: Id) -> Result<ConsentTarget, ConsentError> {
    let kind = server_kind(core, server_id)
        .await
        .map_err(ConsentError::internal)?
        .ok_or(ConsentError::ServerGone)?;
    target(core, kind, &server_id.to_string())
        .await
        .map_err(|_| ConsentError::ServerGone)
}
