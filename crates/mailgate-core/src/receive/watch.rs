//! Watching one mailbox: connect, authenticate (a fresh access token, or the password), import
//! what is new, run the after-import action once the import is committed, then wait (IMAP IDLE,
//! or polling) and go again. Each mailbox runs in its own task: a slow, broken or unauthorised
//! mailbox never delays another.

use super::batch;
use super::pipeline::{self, Mailbox};
use crate::Core;
use crate::events;
use crate::objects::{IncomingServers, Objects};
use mailgate_domain::Id;
use mailgate_domain::incoming::{AfterImport, IncomingProtocol};
use mailgate_domain::troubleshoot::{Diagnosis, ProviderKind};
use mailgate_proto::dial::Endpoint;
use mailgate_proto::error::ProtoError;
use mailgate_proto::sasl::Credentials;
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
    #[error("{}", .0.message)]
    Credential(Diagnosis),
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
        match self {
            WatchError::Credential(d) => d.clone(),
            WatchError::Proto(e) => e.diagnosis(ProviderKind::Generic),
            WatchError::Store(e) => Diagnosis {
                code: "internal",
                message: e.to_string(),
                hint: "check the database".into(),
                severity: mailgate_domain::troubleshoot::Severity::Transient,
            },
            WatchError::Internal(m) => Diagnosis {
                code: "internal",
                message: m.clone(),
                hint: "this is a bug in mailgate; the mailbox is read again after a pause".into(),
                severity: mailgate_domain::troubleshoot::Severity::Transient,
            },
            WatchError::Config(m) => Diagnosis {
                code: "internal",
                message: m.clone(),
                hint: "check the server's configuration".into(),
                severity: mailgate_domain::troubleshoot::Severity::Permanent,
            },
        }
    }

    pub fn is_auth(&self) -> bool {
        match self {
            WatchError::Credential(_) => true,
            WatchError::Proto(e) => e.is_auth(),
            _ => false,
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
    })
}

/// What to log in with, and when that stops working (OAuth tokens).
pub(super) async fn credentials(
    core: &Core,
    mailbox: &Mailbox,
) -> Result<(Credentials, Option<i64>), WatchError> {
    let login = crate::login::login::<IncomingServers>(
        core,
        mailbox.server_id,
        &mailbox.spec.auth,
        mailbox.spec.email.as_str(),
        false,
    )
    .await
    .map_err(|d| {
        if mailgate_domain::troubleshoot::setup::is_server_misconfigured(&d) {
            WatchError::Config(d.message)
        } else {
            WatchError::Credential(d)
        }
    })?
    .ok_or_else(|| WatchError::Config("a mailbox cannot be read without authentication".into()))?;
    Ok((login.credentials, login.expires_at_ms))
}

pub(super) fn endpoint(mailbox: &Mailbox) -> Endpoint {
    Endpoint::new(
        mailbox.spec.host.clone(),
        mailbox.spec.port,
        mailbox.spec.security,
    )
    .with_proxy(mailbox.spec.proxy.clone())
}

pub(super) fn tls(core: &Core) -> Result<std::sync::Arc<rustls::ClientConfig>, WatchError> {
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
    let (creds, token_expires) = credentials(core, mailbox).await?;
    let client = imap::connect(&endpoint(mailbox), tls(core)?, IO_TIMEOUT).await?;
    let mut session = client.login(&creds).await?;
    let folder = session.select(&mailbox.spec.folder).await?;
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
        if let Some(expires) = token_expires {
            let left = expires - core.clock.now_ms() - TOKEN_MARGIN_MS;
            if left <= 0 {
                let _ = session.logout().await;
                return Ok(Ended::Again);
            }
            wait = wait.min(Duration::from_millis(left as u64));
        }
        tokio::select! {
            idled = session.idle(wait) => { session = idled?.0; }
            _ = stop.changed() => return Ok(Ended::Stopped),
        }
    }
}

/// One POP3 pass: import every message whose UIDL was not seen, in batches, delete when asked
/// (after the batch is committed; a message seen before is deleted too, unless it was too large
/// to store), QUIT (which is when the server deletes).
pub async fn pop3_session(
    core: &Arc<Core>,
    mailbox: &Mailbox,
    stop: &watch::Receiver<bool>,
) -> Result<Ended, WatchError> {
    let (creds, _) = credentials(core, mailbox).await?;
    let mut client = pop3::connect(&endpoint(mailbox), tls(core)?, IO_TIMEOUT).await?;
    client.login(&creds).await?;
    let delete = mailbox.spec.after_import == AfterImport::Delete;
    let mailbox = Arc::new(mailbox.clone());
    let domain: Arc<str> = pipeline::message_id_domain(core).into();
    let (mut pending, mut pending_bytes) = (Vec::new(), 0);
    let mut due = Vec::new();
    for (number, uidl) in client.uidl().await? {
        if stopped(stop) {
            break;
        }
        let key = format!("{}:uidl:{uidl}", mailbox.server_id);
        match core.store.source_outcome(&key).await?.as_deref() {
            None => {}
            // Never stored: deleting it would lose it. It stays for the admin to fetch.
            Some("too_large") => continue,
            Some(_) => {
                due.push(number);
                continue;
            }
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

/// Runs one mailbox until `stop`: sessions back to back, with backoff after errors (5 s doubling
/// to 5 min), an event when authentication fails, polling for POP3 every `poll`.
pub async fn watch_mailbox(
    core: std::sync::Arc<Core>,
    server_id: Id,
    poll: Duration,
    mut stop: watch::Receiver<bool>,
) {
    let mut backoff = Duration::from_secs(5);
    let mut reported_auth = false;
    while !stopped(&stop) {
        let mailbox = match load_mailbox(&core, server_id).await {
            Ok(m) => m,
            Err(e) => {
                tracing::warn!(server = %server_id, error = %e, "cannot load the mailbox's configuration");
                return;
            }
        };
        let result = match mailbox.spec.protocol {
            IncomingProtocol::Imap => imap_session(&core, &mailbox, &mut stop).await,
            IncomingProtocol::Pop3 => pop3_session(&core, &mailbox, &stop).await,
        };
        let pause = match result {
            Ok(Ended::Stopped) => return,
            Ok(Ended::Again) => {
                backoff = Duration::from_secs(5);
                reported_auth = false;
                if mailbox.spec.protocol == IncomingProtocol::Pop3 {
                    poll
                } else {
                    Duration::ZERO
                }
            }
            Err(e) => {
                let diagnosis = e.diagnosis();
                tracing::warn!(server = %mailbox.name, code = diagnosis.code, error = %e, "mailbox session failed; retrying in {backoff:?}");
                metrics::counter!("mailgate_mailbox_errors_total", "code" => diagnosis.code)
                    .increment(1);
                if e.is_auth() && !reported_auth {
                    reported_auth = true;
                    events::record(&core, events::kind::SERVER_AUTH_FAILED, Some(&server_id.to_string()), serde_json::json!({"server": mailbox.name, "mailbox": mailbox.spec.email, "diagnosis": diagnosis})).await;
                }
                let pause = backoff;
                backoff = (backoff * 2).min(Duration::from_secs(300));
                pause
            }
        };
        tokio::select! {
            _ = tokio::time::sleep(pause) => {}
            _ = stop.changed() => return,
        }
    }
}
