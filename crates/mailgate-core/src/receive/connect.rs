//! What every mailbox session starts with: the mailbox's configuration, its login (a fresh
//! access token, or the password; a refused access token replaced once), the endpoint and the
//! TLS setup; and how a session ends. Test Connection uses the same steps.

use super::error::WatchError;
use super::pipeline::WatchedMailbox;
use crate::Core;
use crate::login::Login;
use crate::objects::{IncomingServers, Objects};
use crate::token_error::TokenError;
use crate::tokens;
use mailgate_domain::Id;
use mailgate_proto::dial::{Endpoint, MailStream};
use mailgate_proto::error::ProtoError;
use mailgate_proto::{imap, pop3};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;

/// Network operations give up after this long.
pub(super) const IO_TIMEOUT: Duration = Duration::from_secs(60);
/// An OAuth session reconnects with a fresh token when its token has less than this left.
pub(super) const TOKEN_MARGIN_MS: i64 = 5 * 60_000;
/// When no fresher token can be had (the provider is down), the session goes on with the one it
/// has and asks again after this long.
pub(super) const TOKEN_RETRY: Duration = Duration::from_secs(60);

/// How a session ended without an error.
#[derive(Debug, PartialEq, Eq)]
pub enum Ended {
    /// Asked to stop.
    Stopped,
    /// Time to connect again (token renewal, POP3 poll).
    Again,
}

/// Loads the mailbox's current configuration.
pub async fn load_mailbox(core: &Core, server_id: Id) -> Result<WatchedMailbox, WatchError> {
    let (row, spec, _) = Objects::<IncomingServers>::load(core, server_id)
        .await
        .map_err(|e| WatchError::Config(e.to_string()))?;
    Ok(WatchedMailbox {
        server_id,
        name: row.name,
        spec,
        thread_by_tag: core.settings.receive_thread_by_tag,
    })
}

/// The mailbox's login: its password, or an access token of its credential.
pub(crate) async fn mailbox_login(
    core: &Core,
    mailbox: &WatchedMailbox,
) -> Result<Login, WatchError> {
    crate::login::login::<IncomingServers>(
        core,
        mailbox.server_id,
        &mailbox.spec.auth,
        mailbox.spec.email.as_str(),
        false,
    )
    .await
    .map_err(WatchError::from_login)?
    .ok_or_else(|| WatchError::Config("a mailbox cannot be read without authentication".into()))
}

/// After the server refused `refused`'s login: when it was an access token (revoked, or the
/// provider forgot it), replaces it once so that the caller can try once more, as the send side
/// does; anything else is the error as it is. Only a second refusal is an authentication failure.
pub(super) async fn replace_refused_token(
    core: &Core,
    mailbox: &WatchedMailbox,
    login: &mut Login,
    refused: ProtoError,
) -> Result<(), WatchError> {
    let (Some(key), Some(token)) = (&login.key, login.credentials.oauth_token()) else {
        return Err(refused.into());
    };
    if !refused.is_auth() {
        return Err(refused.into());
    }
    tracing::info!(server = %mailbox.server_id, error = %refused, "the server refused the access token; asking the provider for a new one");
    tracing::debug!(server = %mailbox.server_id, user = login.credentials.user(), "refused login");
    let fresh = match tokens::replace_rejected(core, key, token).await {
        Ok(fresh) => fresh,
        Err(why) => {
            let provider =
                crate::oauth::provider::of_server(core, &mailbox.spec.auth, &mailbox.spec.host)
                    .await;
            let why = why.after_refused_token(&refused.diagnosis(provider));
            return Err(WatchError::from_login(why));
        }
    };
    login.expires_at_ms = Some(fresh.expires_at_ms);
    login.credentials = login.credentials.clone().with_token(fresh.token);
    Ok(())
}

/// After the server refused the first IMAP login (`refused`): a new access token when that was
/// one, and one more login on a new connection.
pub(crate) async fn imap_login_again(
    core: &Core,
    mailbox: &WatchedMailbox,
    login: &mut Login,
    refused: ProtoError,
    tls: Arc<rustls::ClientConfig>,
) -> Result<imap::ImapSession<MailStream>, WatchError> {
    replace_refused_token(core, mailbox, login, refused).await?;
    let client = imap::connect(&endpoint(mailbox), tls, IO_TIMEOUT).await?;
    Ok(client.login(&login.credentials).await?)
}

/// [`imap_login_again`] for POP3.
pub(crate) async fn pop3_login_again(
    core: &Core,
    mailbox: &WatchedMailbox,
    login: &mut Login,
    refused: ProtoError,
    tls: Arc<rustls::ClientConfig>,
) -> Result<pop3::Pop3Client<MailStream>, WatchError> {
    replace_refused_token(core, mailbox, login, refused).await?;
    let mut client = pop3::connect(&endpoint(mailbox), tls, IO_TIMEOUT).await?;
    client.login(&login.credentials).await?;
    Ok(client)
}

/// What an OAuth session does when its token nears its end: `None` to reconnect (a token that
/// lasts is ready for the next session, or the grant is dead and the next session says so), or
/// how long to go on with the current token before asking again (the provider is failing for
/// now: reconnecting would only bring the same token back).
pub(super) async fn renewal(core: &Core, login: &Login) -> Option<Duration> {
    let (Some(key), Some(expires)) = (&login.key, login.expires_at_ms) else {
        return None;
    };
    match tokens::access_token_lasting(core, key, TOKEN_MARGIN_MS).await {
        Ok(fresh) if fresh.expires_at_ms > expires => None,
        Ok(_) => Some(TOKEN_RETRY),
        // A refusal (the grant is dead): the next session's login reports it.
        Err(TokenError::Refused(_)) => None,
        // The provider or the way to it fails for now, or the configuration does (the next
        // login would fail the same way, with the same cached token): go on.
        Err(e) => {
            let d = e.diagnosis();
            tracing::warn!(code = d.code.as_str(), error = %d.message, "cannot renew the access token yet; the session goes on with the current one");
            tracing::debug!(user = login.credentials.user(), "access token not renewed");
            Some(TOKEN_RETRY)
        }
    }
}

pub(crate) fn endpoint(mailbox: &WatchedMailbox) -> Endpoint {
    Endpoint::new(
        mailbox.spec.host.clone(),
        mailbox.spec.port,
        mailbox.spec.security,
    )
    .with_proxy(mailbox.spec.proxy.clone())
}

pub(crate) fn tls(core: &Core) -> Result<std::sync::Arc<rustls::ClientConfig>, WatchError> {
    mailgate_proto::tls::client_config(core.settings.tls_extra_ca_file.as_deref(), &[])
        .map_err(|e| WatchError::Config(e.to_string()))
}

/// Whether the session was asked to stop.
pub(super) fn stopped(stop: &watch::Receiver<bool>) -> bool {
    *stop.borrow()
}
