//! Watching one mailbox: connect, authenticate (a fresh access token, or the password), import
//! what is new, run the after-import action once the import is committed, then wait (IMAP IDLE,
//! or polling) and go again. Each mailbox runs in its own task: a slow, broken or unauthorised
//! mailbox never delays another.

use super::batch;
use super::pipeline::{self, Mailbox};
use crate::Core;
use crate::events;
use crate::login::Login;
use crate::objects::{IncomingServers, Objects};
use crate::token_error::TokenError;
use crate::tokens;
use mailgate_domain::Id;
use mailgate_domain::incoming::{AfterImport, ImportFrom, IncomingProtocol};
use mailgate_domain::troubleshoot::{Code, Diagnosis, ProviderKind};
use mailgate_proto::dial::{Endpoint, MailStream};
use mailgate_proto::error::ProtoError;
use mailgate_proto::imap::{Capabilities, ImapSession};
use mailgate_proto::{imap, pop3};
use mailgate_store::{MailSource, StoreError};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;

/// Network operations give up after this long.
const IO_TIMEOUT: Duration = Duration::from_secs(60);
/// IMAP IDLE is renewed before the 29 minutes servers allow.
const IDLE_MAX: Duration = Duration::from_secs(25 * 60);
/// An OAuth session reconnects with a fresh token when its token has less than this left.
const TOKEN_MARGIN_MS: i64 = 5 * 60_000;
/// When no fresher token can be had (the provider is down), the session goes on with the one it
/// has and asks again after this long.
const TOKEN_RETRY: Duration = Duration::from_secs(60);
/// An IMAP session that ends by itself (its token nears its end) is not followed by the next
/// within this long of its start; failed sessions back off instead ([`BACKOFF_FIRST`]).
const RECONNECT_FLOOR: Duration = Duration::from_secs(30);

/// How a session ended without an error.
#[derive(Debug, PartialEq, Eq)]
pub enum Ended {
    /// Asked to stop.
    Stopped,
    /// Time to connect again (token renewal, POP3 poll).
    Again,
}

#[derive(Debug, thiserror::Error)]
pub enum WatchError {
    /// The provider refused the credential (a revoked or missing grant, a wrong client...).
    #[error("{}", .0.message)]
    Credential(Diagnosis),
    /// No token could be had for now (the token endpoint or the database failed): retried
    /// after a pause, never reported as an authentication failure.
    #[error("{}", .0.message)]
    TokenUnavailable(Diagnosis),
    #[error(transparent)]
    Proto(#[from] ProtoError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("{0}")]
    Config(String),
    /// A task of the mailbox's pipeline failed (a bug): the session is retried.
    #[error("{0}")]
    Internal(String),
}

impl WatchError {
    pub fn diagnosis(&self) -> Diagnosis {
        self.diagnosis_for(ProviderKind::Generic)
    }

    /// The diagnosis, with the fixes of `provider` for what the mail server said.
    pub fn diagnosis_for(&self, provider: ProviderKind) -> Diagnosis {
        match self {
            WatchError::Credential(d) | WatchError::TokenUnavailable(d) => d.clone(),
            WatchError::Proto(e) => e.diagnosis(provider),
            WatchError::Store(e) => {
                Diagnosis::new(Code::Internal, e.to_string(), "check the database")
            }
            WatchError::Internal(m) => Diagnosis::new(
                Code::Internal,
                m.clone(),
                "this is a bug in mailgate; the mailbox is read again after a pause",
            ),
            // The server's configuration cannot be used: the catalog's code for it (this was
            // `internal` with a permanent severity, which gave one code two meanings).
            WatchError::Config(m) => Diagnosis::new(
                Code::ServerMisconfigured,
                m.clone(),
                "check the server's configuration",
            ),
        }
    }

    /// The provider or the mail server refused the credential: worth a `server.auth_failed`
    /// event. A token endpoint or a database that failed for now is not.
    pub fn is_auth(&self) -> bool {
        match self {
            WatchError::Credential(_) => true,
            WatchError::Proto(e) => e.is_auth(),
            _ => false,
        }
    }

    /// A login that could not be prepared: sorted into a configuration problem, a refusal by
    /// the provider (a dead or missing grant, a client or a delegation it refuses), or a token
    /// that cannot be had for now: the database or the token endpoint failed, a network or TLS
    /// failure included (the provider refused nothing).
    pub fn from_login(e: TokenError) -> Self {
        match e {
            TokenError::Misconfigured(d) => WatchError::Config(d.message),
            TokenError::Unavailable(d) => WatchError::TokenUnavailable(d),
            TokenError::Refused(d) => WatchError::Credential(d),
        }
    }
}

/// Loads the mailbox's current configuration.
pub async fn load_mailbox(core: &Core, server_id: Id) -> Result<Mailbox, WatchError> {
    let (row, spec, _) = Objects::<IncomingServers>::load(core, server_id)
        .await
        .map_err(|e| WatchError::Config(e.to_string()))?;
    Ok(Mailbox {
        server_id,
        name: row.name,
        spec,
        thread_by_tag: core.settings.receive_thread_by_tag,
    })
}

/// The mailbox's login: its password, or an access token of its credential.
pub(crate) async fn mailbox_login(core: &Core, mailbox: &Mailbox) -> Result<Login, WatchError> {
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
async fn replace_refused_token(
    core: &Core,
    mailbox: &Mailbox,
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
            return Err(WatchError::from_login(TokenError::classify(why)));
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
    mailbox: &Mailbox,
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
    mailbox: &Mailbox,
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
async fn renewal(core: &Core, login: &Login) -> Option<Duration> {
    let (Some(key), Some(expires)) = (&login.key, login.expires_at_ms) else {
        return None;
    };
    match tokens::access_token_lasting(core, key, TOKEN_MARGIN_MS).await {
        Ok(fresh) if fresh.expires_at_ms > expires => None,
        Ok(_) => Some(TOKEN_RETRY),
        // A refusal (the grant is dead): the next session's login reports it.
        Err(d) if matches!(TokenError::classify(d.clone()), TokenError::Refused(_)) => None,
        // The provider or the way to it fails for now, or the configuration does (the next
        // login would fail the same way, with the same cached token): go on.
        Err(d) => {
            tracing::warn!(code = d.code.as_str(), error = %d.message, "cannot renew the access token yet; the session goes on with the current one");
            tracing::debug!(user = login.credentials.user(), "access token not renewed");
            Some(TOKEN_RETRY)
        }
    }
}

pub(crate) fn endpoint(mailbox: &Mailbox) -> Endpoint {
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

fn stopped(stop: &watch::Receiver<bool>) -> bool {
    *stop.borrow()
}

/// One IMAP session: import what is new, then IDLE (or poll) until new mail, a stop, or the
/// token nearing its end. Returns how it ended.
pub async fn imap_session(
    core: &Arc<Core>,
    mailbox: &Mailbox,
    stop: &mut watch::Receiver<bool>,
) -> Result<Ended, WatchError> {
    imap_pass(core, mailbox, stop, &mut false).await
}

/// [`imap_session`], setting `connected` once the folder is open.
async fn imap_pass(
    core: &Arc<Core>,
    mailbox: &Mailbox,
    stop: &mut watch::Receiver<bool>,
    connected: &mut bool,
) -> Result<Ended, WatchError> {
    let mut login = mailbox_login(core, mailbox).await?;
    let tls = tls(core)?;
    let client = imap::connect(&endpoint(mailbox), tls.clone(), IO_TIMEOUT).await?;
    let mut session = match client.login(&login.credentials).await {
        Ok(session) => session,
        Err(refused) => imap_login_again(core, mailbox, &mut login, refused, tls).await?,
    };
    let folder = session.select(&mailbox.spec.folder).await?;
    *connected = true;
    let mailbox = &without_unsafe_removal(core, mailbox, &session).await;
    // Shared with the blocking threads that prepare batches.
    batch::imap_catch_up(core, mailbox, &mut session, folder.uid_validity).await?;
    let mailbox = Arc::new(mailbox.clone());
    loop {
        batch::imap_import_new(core, &mailbox, &mut session, folder.uid_validity, stop).await?;
        if stopped(stop) {
            let _ = session.logout().await;
            return Ok(Ended::Stopped);
        }
        let mut wait = IDLE_MAX;
        if let Some(expires) = login.expires_at_ms {
            let left = expires - core.clock.now_ms() - TOKEN_MARGIN_MS;
            if left > 0 {
                wait = wait.min(Duration::from_millis(left as u64));
            } else if let Some(retry) = renewal(core, &login).await {
                wait = wait.min(retry);
            } else {
                let _ = session.logout().await;
                return Ok(Ended::Again);
            }
        }
        tokio::select! {
            idled = session.idle(wait) => { session = idled?.0; }
            _ = stop.changed() => return Ok(Ended::Stopped),
        }
    }
}

/// The after-import action a server can run: a delete, or a move without MOVE, that only a
/// plain EXPUNGE could finish (no UIDPLUS) would also remove the mail other clients flagged
/// \\Deleted, so it becomes `Leave`: the mail stays in place (and is acted on once the server
/// offers UIDPLUS, or the action is changed).
pub fn possible_action(action: AfterImport, caps: &Capabilities) -> AfterImport {
    match action {
        AfterImport::Delete if !caps.removes_only_ours(false) => AfterImport::Leave,
        AfterImport::Move if !caps.removes_only_ours(true) => AfterImport::Leave,
        other => other,
    }
}

/// The mailbox with the action [`possible_action`] allows on this session's server; a refused
/// one is logged and raises `server.after_import_refused` with the diagnosis.
async fn without_unsafe_removal(
    core: &Core,
    mailbox: &Mailbox,
    session: &ImapSession<MailStream>,
) -> Mailbox {
    let mut mailbox = mailbox.clone();
    let wanted = mailbox.spec.after_import;
    if possible_action(wanted, session.capabilities()) == wanted {
        return mailbox;
    }
    mailbox.spec.after_import = AfterImport::Leave;
    let Err(e) = session.removes_only_ours(wanted == AfterImport::Move) else {
        return mailbox;
    };
    let diagnosis = e.diagnosis(ProviderKind::Generic);
    tracing::warn!(server = %mailbox.name, error = %e, "the after-import action is refused on this server; mail is left in place");
    events::record(
        core,
        events::kind::SERVER_AFTER_IMPORT_REFUSED,
        Some(&mailbox.server_id.to_string()),
        serde_json::json!({"server": mailbox.name, "mailbox": mailbox.spec.email, "after_import": wanted, "diagnosis": diagnosis}),
    )
    .await;
    mailbox
}

/// One POP3 pass: import every message whose UIDL was not seen, in batches, delete when asked
/// (after the batch is committed; a message imported by an earlier pass too, never one that was
/// not stored), QUIT (which is when the server deletes).
pub async fn pop3_session(
    core: &Arc<Core>,
    mailbox: &Mailbox,
    stop: &watch::Receiver<bool>,
) -> Result<Ended, WatchError> {
    pop3_pass(core, mailbox, stop, &mut false).await
}

/// [`pop3_session`], setting `connected` once logged in.
async fn pop3_pass(
    core: &Arc<Core>,
    mailbox: &Mailbox,
    stop: &watch::Receiver<bool>,
    connected: &mut bool,
) -> Result<Ended, WatchError> {
    let mut login = mailbox_login(core, mailbox).await?;
    let tls = tls(core)?;
    let mut client = pop3::connect(&endpoint(mailbox), tls.clone(), IO_TIMEOUT).await?;
    if let Err(refused) = client.login(&login.credentials).await {
        client = pop3_login_again(core, mailbox, &mut login, refused, tls).await?;
    }
    *connected = true;
    let delete = mailbox.spec.after_import == AfterImport::Delete;
    let mailbox = Arc::new(mailbox.clone());
    let domain: Arc<str> = pipeline::message_id_domain(core).into();
    let (mut pending, mut pending_bytes) = (Vec::new(), 0);
    let mut due = Vec::new();
    let listed = client.uidl().await?;
    let first = core
        .store
        .mailbox_progress(mailbox.server_id)
        .await?
        .is_none();
    if first && mailbox.spec.import_from != ImportFrom::All {
        // The first connection under `now` (POP3 has no other choice): what is there now is
        // recorded as left, so that it is never imported, nor deleted below.
        let left = listed
            .iter()
            .map(|(_, uidl)| MailSource {
                server_id: mailbox.server_id,
                key: format!("{}:uidl:{uidl}", mailbox.server_id),
                progress: None,
            })
            .collect();
        let done = batch::FirstImportDone {
            progress: (0, 0),
            imported: 0,
            left_before: 0,
        };
        let marker = format!("{}:0:first_sync", mailbox.server_id);
        batch::record_left(core, left, Some((mailbox.as_ref(), marker, done))).await?;
    }
    for (number, uidl) in listed {
        if stopped(stop) {
            break;
        }
        let key = format!("{}:uidl:{uidl}", mailbox.server_id);
        match core.store.source_outcome(&key).await?.as_deref() {
            None => {}
            // In a ticket: the after-import action applies, as with IMAP.
            Some("imported" | "duplicate") => {
                due.push(number);
                continue;
            }
            // Not stored (ignored, a loop, an unthreaded auto-reply, too large): deleting it
            // would lose it, so it stays on the server as it would in an IMAP folder.
            Some(_) => continue,
        }
        let body = client
            .retr(number, core.settings.receive_max_message_bytes)
            .await;
        // A failed read leaves the client unusable (one too large too: the rest of it is
        // unread), so what was read so far is imported at once, the too-large one recorded as
        // skipped; any other failure then ends the pass with its error.
        let last = body.is_err();
        pending_bytes += body.as_ref().map_or(0, Vec::len);
        let source = MailSource {
            server_id: mailbox.server_id,
            key,
            progress: None,
        };
        pending.push(batch::Fetched {
            id: number,
            source,
            body,
        });
        if last
            || pending.len() >= batch::BATCH_MESSAGES
            || pending_bytes as u64 >= batch::BATCH_BYTES
        {
            pending_bytes = 0;
            flush(core, &mailbox, &domain, &mut pending, &mut due).await?;
        }
    }
    flush(core, &mailbox, &domain, &mut pending, &mut due).await?;
    if delete {
        for number in due {
            client.dele(number).await?;
        }
    }
    client.quit().await?;
    Ok(if stopped(stop) {
        Ended::Stopped
    } else {
        Ended::Again
    })
}

/// Imports the messages read so far, adding the ones now due for deletion to `due`.
async fn flush(
    core: &Arc<Core>,
    mailbox: &Arc<Mailbox>,
    domain: &Arc<str>,
    pending: &mut Vec<batch::Fetched>,
    due: &mut Vec<u32>,
) -> Result<(), WatchError> {
    if pending.is_empty() {
        return Ok(());
    }
    let prepared = batch::prepare(mailbox, domain, std::mem::take(pending)).await?;
    let (imported, error) = batch::import(core.clone(), mailbox.server_id, prepared).await;
    due.extend(imported);
    error.map_or(Ok(()), Err)
}

/// The first pause after a failed session; it doubles with each failure that follows, up to
/// [`BACKOFF_MAX`], and starts again once a session connects.
const BACKOFF_FIRST: Duration = Duration::from_secs(2);
const BACKOFF_MAX: Duration = Duration::from_secs(300);

/// Runs one mailbox until `stop`: sessions back to back, the first at once; after a failed
/// session a pause (see [`BACKOFF_FIRST`]) that a change of servers or credentials cuts short
/// ([`crate::receive::supervisor::Wake::poke`]); an event when authentication fails; polling
/// for POP3 every `poll`.
pub async fn watch_mailbox(
    core: std::sync::Arc<Core>,
    server_id: Id,
    poll: Duration,
    mut stop: watch::Receiver<bool>,
) {
    let mut backoff = BACKOFF_FIRST;
    let mut reported_auth = false;
    let mut retries = core.mailbox_wake.retries();
    let mut cut_short = false;
    while !stopped(&stop) {
        let mailbox = match load_mailbox(&core, server_id).await {
            Ok(m) => m,
            Err(e) => {
                tracing::warn!(server = %server_id, error = %e, "cannot load the mailbox's configuration");
                return;
            }
        };
        let started = tokio::time::Instant::now();
        let mut connected = false;
        let result = match mailbox.spec.protocol {
            IncomingProtocol::Imap => imap_pass(&core, &mailbox, &mut stop, &mut connected).await,
            IncomingProtocol::Pop3 => pop3_pass(&core, &mailbox, &stop, &mut connected).await,
        };
        if connected {
            backoff = BACKOFF_FIRST;
            reported_auth = false;
        }
        let pause = match result {
            Ok(Ended::Stopped) => return,
            Ok(Ended::Again) => {
                if mailbox.spec.protocol == IncomingProtocol::Pop3 {
                    poll
                } else {
                    RECONNECT_FLOOR.saturating_sub(started.elapsed())
                }
            }
            Err(e) => {
                let provider = crate::oauth::provider::of_server(
                    &core,
                    &mailbox.spec.auth,
                    &mailbox.spec.host,
                )
                .await;
                let diagnosis = e.diagnosis_for(provider);
                tracing::warn!(server = %mailbox.server_id, code = diagnosis.code.as_str(), error = %e, "mailbox session failed; retrying in {backoff:?}");
                metrics::counter!("mailgate_mailbox_errors_total", "code" => diagnosis.code.as_str())
                    .increment(1);
                if e.is_auth() && !reported_auth {
                    reported_auth = true;
                    events::record(&core, events::kind::SERVER_AUTH_FAILED, Some(&server_id.to_string()), serde_json::json!({"server": mailbox.name, "mailbox": mailbox.spec.email, "diagnosis": diagnosis})).await;
                }
                let pause = backoff;
                backoff = (backoff * 2).min(BACKOFF_MAX);
                // A change since the watcher last tried (a consent just completed) may be what
                // it lacked: try again at once. Not twice in a row, so that a session whose own
                // token renewal pokes cannot loop without pause.
                let retry = async {
                    if cut_short {
                        std::future::pending::<()>().await;
                    }
                    let _ = retries.changed().await;
                };
                cut_short = tokio::select! {
                    _ = tokio::time::sleep(pause) => false,
                    _ = retry => true,
                    _ = stop.changed() => return,
                };
                continue;
            }
        };
        tokio::select! {
            _ = tokio::time::sleep(pause) => {}
            _ = stop.changed() => return,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mailgate_domain::troubleshoot::{Severity, TransportFailure, lookup, transport_error};
    use mailgate_proto::error::MailProtocol;

    /// A delete needs UID EXPUNGE; a move MOVE or UID EXPUNGE; otherwise the mail stays.
    #[test]
    fn removal_needs_uidplus_or_move_else_the_mail_stays() {
        use AfterImport::*;
        let caps = |words: &str| Capabilities::from_words(words.split(' '));
        let cases = [
            ("IMAP4REV1", Delete, Leave),
            ("IMAP4REV1", Move, Leave),
            ("IMAP4REV1 MOVE", Delete, Leave),
            ("IMAP4REV1 MOVE", Move, Move),
            ("IMAP4REV1 UIDPLUS", Delete, Delete),
            ("IMAP4REV1 UIDPLUS", Move, Move),
            ("IMAP4REV1", MarkSeen, MarkSeen),
            ("IMAP4REV1", Leave, Leave),
        ];
        for (words, wanted, possible) in cases {
            assert_eq!(
                possible_action(wanted, &caps(words)),
                possible,
                "{words} {wanted:?}"
            );
        }
    }

    fn coded(code: &'static str) -> Diagnosis {
        let entry = lookup(code).unwrap_or_else(|| panic!("{code} is in the catalog"));
        Diagnosis {
            code: entry.code,
            message: format!("{code} happened"),
            hint: "do something".into(),
            severity: entry.severity,
        }
    }

    #[test]
    fn only_a_refusal_of_the_credential_is_an_authentication_failure() {
        // Refused by the provider: a dead grant, a missing consent, a client it refuses.
        let refusals = [
            coded("oauth_grant_revoked"),
            coded("oauth_client_unauthorized"),
            coded("delegation_not_granted"),
            tokens::authorization_required(),
        ];
        for d in refusals {
            let code = d.code.as_str();
            let e = WatchError::from_login(TokenError::classify(d));
            assert!(
                matches!(e, WatchError::Credential(_)) && e.is_auth(),
                "{code}: {e:?}"
            );
        }
        // No token for now: the database or the token endpoint failed.
        let unreachable = [
            // What tokens.rs answers when the database fails.
            Diagnosis {
                code: Code::Internal,
                message: "mailgate could not read or write its token store".into(),
                hint: "check the database".into(),
                severity: Severity::Transient,
            },
            coded("service_unavailable"),
            transport_error(TransportFailure::Refused {
                host: "oauth2.googleapis.com".into(),
                port: 443,
            }),
            transport_error(TransportFailure::Dns {
                host: "oauth2.googleapis.com".into(),
            }),
            transport_error(TransportFailure::TlsUnknownIssuer {
                host: "oauth2.googleapis.com".into(),
            }),
        ];
        for d in unreachable {
            let code = d.code.as_str();
            let e = WatchError::from_login(TokenError::classify(d));
            assert!(
                matches!(e, WatchError::TokenUnavailable(_)) && !e.is_auth(),
                "{code}: {e:?}"
            );
            assert_eq!(e.diagnosis().code, code);
        }
        let e = WatchError::from_login(TokenError::classify(crate::login::config(
            "no password is stored",
        )));
        assert!(matches!(e, WatchError::Config(_)) && !e.is_auth(), "{e:?}");
        // The mail server's refusal.
        let refused = WatchError::Proto(ProtoError::Auth {
            protocol: MailProtocol::Imap,
            mechanism: "XOAUTH2",
            reply: "NO [AUTHENTICATIONFAILED] Invalid credentials".into(),
            challenge: None,
        });
        assert!(refused.is_auth());
    }
}
