//! One POP3 pass: the messages whose UIDL was not seen are imported in batches, then deleted
//! when asked, then QUIT.

use super::batch;
use super::connect::{Ended, IO_TIMEOUT, endpoint, mailbox_login, pop3_login_again, stopped, tls};
use super::error::WatchError;
use super::first_import::{FirstImportDone, record_left};
use super::pipeline::{self, WatchedMailbox};
use crate::Core;
use mailgate_domain::incoming::{AfterImport, ImportFrom};
use mailgate_proto::pop3;
use mailgate_store::MailSource;
use std::sync::Arc;
use tokio::sync::watch;

/// One POP3 pass: import every message whose UIDL was not seen, in batches, delete when asked
/// (after the batch is committed; a message imported by an earlier pass too, never one that was
/// not stored), QUIT (which is when the server deletes).
pub async fn pop3_session(
    core: &Arc<Core>,
    mailbox: &WatchedMailbox,
    stop: &watch::Receiver<bool>,
) -> Result<Ended, WatchError> {
    pop3_pass(core, mailbox, stop, &mut false).await
}

/// [`pop3_session`], setting `connected` once logged in.
pub(super) async fn pop3_pass(
    core: &Arc<Core>,
    mailbox: &WatchedMailbox,
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
        let done = FirstImportDone {
            progress: (0, 0),
            imported: 0,
            left_before: 0,
        };
        let marker = format!("{}:0:first_sync", mailbox.server_id);
        record_left(core, left, Some((mailbox.as_ref(), marker, done))).await?;
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
    mailbox: &Arc<WatchedMailbox>,
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
