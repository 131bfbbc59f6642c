//! One IMAP session: log in, open the folder, finish the after-import actions left over, import
//! what is new, then IDLE (or poll) until new mail, a stop, or the token nearing its end.
//!
//! What is new is imported in batches ([`imap_import_new`]): the pass lists what is new with its
//! sizes and cuts it into batches of bounded bytes ([`super::batch::plan`]); then two stages run
//! side by side: a batch is fetched (one `UID FETCH` for all of it) while the one before is
//! prepared on a blocking thread and imported in one transaction as soon as it is prepared. A
//! batch's after-import action (one command for the batch) runs once its import is committed.
//! At most two batches are in memory.

use super::after_import::{act, imap_catch_up, without_unsafe_removal};
use super::batch::{Fetched, import, plan, prepare};
use super::connect::{
    Ended, IO_TIMEOUT, TOKEN_MARGIN_MS, endpoint, imap_login_again, mailbox_login, renewal,
    stopped, tls,
};
use super::error::WatchError;
use super::first_import::{finish_first_import, first_import};
use super::numbering::{imap_key, last_read, numbering};
use super::pipeline::{self, WatchedMailbox};
use crate::Core;
use mailgate_proto::dial::MailStream;
use mailgate_proto::error::ProtoError;
use mailgate_proto::imap::{self, ImapSession};
use mailgate_store::MailSource;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;

/// IMAP IDLE is renewed before the 29 minutes servers allow.
const IDLE_MAX: Duration = Duration::from_secs(25 * 60);

/// One IMAP session: import what is new, then IDLE (or poll) until new mail, a stop, or the
/// token nearing its end. Returns how it ended.
pub async fn imap_session(
    core: &Arc<Core>,
    mailbox: &WatchedMailbox,
    stop: &mut watch::Receiver<bool>,
) -> Result<Ended, WatchError> {
    imap_pass(core, mailbox, stop, &mut false).await
}

/// [`imap_session`], setting `connected` once the folder is open.
pub(super) async fn imap_pass(
    core: &Arc<Core>,
    mailbox: &WatchedMailbox,
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
    imap_catch_up(core, mailbox, &mut session, folder.uid_validity).await?;
    let mailbox = Arc::new(mailbox.clone());
    loop {
        imap_import_new(core, &mailbox, &mut session, folder.uid_validity, stop).await?;
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

/// Imports everything above the mailbox's progress, in batches, until done or `stop` (the
/// batch under way is finished first). Two stages run side by side: batch k+1 is fetched
/// while batch k is prepared and then committed at once, so that a connection that drops
/// loses at most the batch it was fetching; batch k's action follows its commit.
pub async fn imap_import_new(
    core: &Arc<Core>,
    mailbox: &Arc<WatchedMailbox>,
    session: &mut ImapSession<MailStream>,
    validity: u32,
    stop: &watch::Receiver<bool>,
) -> Result<(), WatchError> {
    let progress = core.store.mailbox_progress(mailbox.server_id).await?;
    let last = last_read(progress, &mailbox.spec, validity);
    let validity = numbering(&mailbox.spec, validity);
    // None: first sync, or the folder was renumbered or changed: what was there is read as
    // `import_from` says (the Message-ID with the content digest still catches what was
    // imported before).
    let first = match last {
        Some(_) => None,
        None => first_import(core, mailbox, session, validity, progress.is_some()).await?,
    };
    let max = core.settings.receive_max_message_bytes;
    let after = match &first {
        // Nothing old chosen: only what arrived since the listing.
        Some(first) if first.wanted.is_empty() => first.last,
        _ => last.unwrap_or(0),
    };
    let mut listed = session.sizes_since(after).await?;
    if let Some(first) = &first {
        // What was there and not chosen is recorded as left; what arrived since is new.
        listed.retain(|(uid, _)| *uid > first.last || first.wanted.contains(uid));
    }
    let mut batches = plan(&listed, max).into_iter();
    let domain: Arc<str> = pipeline::message_id_domain(core).into();
    let fetched_batch = |messages: Vec<(u32, Result<Vec<u8>, ProtoError>)>| {
        let fetched = |(uid, body)| Fetched {
            id: uid,
            source: MailSource {
                server_id: mailbox.server_id,
                key: imap_key(mailbox.server_id, validity, uid),
                progress: Some((validity, i64::from(uid))),
            },
            body,
        };
        messages.into_iter().map(fetched).collect::<Vec<_>>()
    };
    let mut fetched = None;
    loop {
        let next = if *stop.borrow() { None } else { batches.next() };
        if next.is_none() && fetched.is_none() {
            if let Some(first) = first.filter(|_| !*stop.borrow()) {
                let imported = first.wanted.len();
                let progress = (validity, i64::from(first.last));
                let marker = format!("{}:{validity}:first_sync", mailbox.server_id);
                finish_first_import(core, mailbox, marker, progress, imported, first.left).await?;
            }
            return Ok(());
        }
        let fetching = async {
            match &next {
                Some(uids) => Some(session.fetch_many(uids, max).await),
                None => None,
            }
        };
        let importing = async {
            let batch = fetched.take()?;
            Some(match prepare(mailbox, &domain, batch).await {
                Ok(batch) => import(core.clone(), mailbox.server_id, batch).await,
                Err(e) => (Vec::new(), Some(e)),
            })
        };
        // The commit does not wait for the fetch: a fetch cut short still leaves the batch
        // before it committed.
        let (got, imported) = tokio::join!(fetching, importing);
        let (due, import_error) = imported.unwrap_or_default();
        // The action runs only after the import is committed: a crash in between leaves the
        // messages in place, and the next pass finds them already seen.
        let acted = act(session, mailbox, &due).await;
        let got = got.transpose()?;
        if let Some(e) = import_error {
            return Err(e);
        }
        acted?;
        fetched = got.map(fetched_batch);
    }
}
