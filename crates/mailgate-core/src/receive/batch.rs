//! Reading a mailbox in batches. An IMAP pass lists what is new with its sizes and cuts it
//! into batches of bounded bytes; then two stages run side by side: a batch is fetched (one
//! `UID FETCH` for all of it) while the one before is prepared on a blocking thread and
//! imported in one transaction as soon as it is prepared. A batch's after-import action (one
//! command for the batch) runs once its import is committed. At most two batches are in
//! memory.

use super::pipeline::{self, Mailbox, Prepared};
use super::watch::WatchError;
use crate::Core;
use mailgate_domain::incoming::{AfterImport, ImportFrom, IncomingServerSpec};
use mailgate_proto::dial::MailStream;
use mailgate_proto::error::ProtoError;
use mailgate_proto::imap::{ImapSession, Search};
use mailgate_store::{ImportOutcome, ImportRequest, MailSource, NewEvent};
use std::collections::HashSet;
use std::sync::Arc;
use tokio::sync::watch;

/// A batch holds at most this many bytes of messages (a larger message is a batch of its own)...
pub const BATCH_BYTES: u64 = 8 * 1024 * 1024;
/// ... and at most this many messages (one command line lists their UIDs).
pub const BATCH_MESSAGES: usize = 200;

/// A message as the server answered: its id in the session (IMAP UID, POP3 number), where it
/// comes from, and its bytes (or why there are none).
pub struct Fetched {
    pub id: u32,
    pub source: MailSource,
    pub body: Result<Vec<u8>, ProtoError>,
}

/// Cuts `(uid, size)` in order into batches of at most [`BATCH_BYTES`] (each message counted
/// at most at `max_message_bytes`, the most that is fetched of it) and [`BATCH_MESSAGES`].
pub fn plan(listed: &[(u32, u64)], max_message_bytes: usize) -> Vec<Vec<u32>> {
    let cap = max_message_bytes as u64 + 1;
    let mut batches: Vec<Vec<u32>> = Vec::new();
    let mut bytes = 0;
    for &(uid, size) in listed {
        let size = size.min(cap);
        match batches.last_mut() {
            Some(batch) if batch.len() < BATCH_MESSAGES && bytes + size <= BATCH_BYTES => {
                batch.push(uid);
                bytes += size;
            }
            _ => {
                batches.push(vec![uid]);
                bytes = size;
            }
        }
    }
    batches
}

/// A batch parsed and classified, ready to import.
pub struct PreparedBatch {
    ready: Vec<(u32, Prepared)>,
    /// What stopped the batch before its end (a message the server did not return): reported
    /// once the messages before it are imported.
    stopped_at: Option<ProtoError>,
}

/// Parses and classifies a fetched batch on a blocking thread (megabytes of MIME would hold
/// up the fetching otherwise).
pub async fn prepare(
    mailbox: &Arc<Mailbox>,
    domain: &Arc<str>,
    batch: Vec<Fetched>,
) -> Result<PreparedBatch, WatchError> {
    let (mailbox, domain) = (mailbox.clone(), domain.clone());
    let work = move || {
        let mut ready = Vec::with_capacity(batch.len());
        for Fetched { id, source, body } in batch {
            let prepared = match body {
                Ok(raw) => pipeline::prepare(&domain, &mailbox, source, raw),
                // Too large to import: recorded as read (with an event), the mailbox goes on.
                Err(ProtoError::TooLarge {
                    id: what,
                    size,
                    max,
                }) => {
                    let size = size.map_or_else(|| "more".into(), |s| format!("{s} bytes"));
                    let reason =
                        format!("{what} is larger ({size}) than receive.max_message_bytes ({max})");
                    pipeline::too_large(source, reason)
                }
                Err(e) => {
                    return PreparedBatch {
                        ready,
                        stopped_at: Some(e),
                    };
                }
            };
            ready.push((id, prepared));
        }
        PreparedBatch {
            ready,
            stopped_at: None,
        }
    };
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| WatchError::Internal(format!("preparing a batch of messages failed: {e}")))
}

/// Imports a prepared batch in one transaction. Returns the ids whose after-import action is
/// due, and the error that stopped the batch: a message the server did not return, or one the
/// store refused (the messages before it are committed; it and the rest are offered again by
/// the next pass). The action is due for a message stored now (in a ticket, or a duplicate of
/// one), and for one read before whose recorded outcome is such (a folder read again from the
/// start): never for one that was not stored (ignored, a loop, too large, an unthreaded
/// auto-reply), which stays on the server.
pub async fn import(
    core: Arc<Core>,
    server_id: mailgate_domain::Id,
    batch: PreparedBatch,
) -> (Vec<u32>, Option<WatchError>) {
    let (ids, prepared): (Vec<u32>, Vec<Prepared>) = batch.ready.into_iter().unzip();
    let keys: Vec<String> = prepared.iter().map(|p| p.source_key().to_owned()).collect();
    let done = pipeline::import(&core, server_id, prepared).await;
    let seen_before: Vec<String> = keys
        .iter()
        .zip(&done.outcomes)
        .filter(|(_, outcome)| matches!(outcome, ImportOutcome::AlreadySeen))
        .map(|(key, _)| key.clone())
        .collect();
    let (stored_before, lookup_error) = if seen_before.is_empty() {
        (HashSet::new(), None)
    } else {
        match core.store.sources_to_act_on(&seen_before).await {
            Ok(keys) => (keys.into_iter().collect(), None),
            Err(e) => (HashSet::new(), Some(WatchError::Store(e))),
        }
    };
    let due = ids
        .iter()
        .zip(&keys)
        .zip(&done.outcomes)
        .filter(|((_, key), outcome)| match outcome {
            ImportOutcome::Imported { .. } | ImportOutcome::Duplicate { .. } => true,
            ImportOutcome::AlreadySeen => stored_before.contains(*key),
            ImportOutcome::Skipped => false,
        })
        .map(|((id, _), _)| *id)
        .collect();
    let error = done
        .failed
        .map(WatchError::Store)
        .or(lookup_error)
        .or(batch.stopped_at.map(WatchError::Proto));
    (due, error)
}

/// Imports everything above the mailbox's progress, in batches, until done or `stop` (the
/// batch under way is finished first). Two stages run side by side: batch k+1 is fetched
/// while batch k is prepared and then committed at once, so that a connection that drops
/// loses at most the batch it was fetching; batch k's action follows its commit.
pub async fn imap_import_new(
    core: &Arc<Core>,
    mailbox: &Arc<Mailbox>,
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

/// The first pass over a folder (no progress in its numbering) under an `import_from` other
/// than `all`: the messages there chosen for import, how many were left, and the last UID there.
struct FirstImport {
    wanted: HashSet<u32>,
    left: usize,
    last: u32,
}

/// Chooses what the first pass imports of the mail already in the folder and records the rest
/// as `left` (read, never imported, never acted on), before anything is imported: a pass cut
/// short never imports what was left. `renumbered`: the server read this folder under another
/// numbering before (UIDVALIDITY changed, or the folder did); then `now` reads the unseen
/// messages (mail that arrived while the folder was renumbered; what was imported before comes
/// back as a duplicate) instead of leaving everything. `None` under `all`.
async fn first_import(
    core: &Core,
    mailbox: &Mailbox,
    session: &mut ImapSession<MailStream>,
    validity: i64,
    renumbered: bool,
) -> Result<Option<FirstImport>, WatchError> {
    let Some(search) = first_search(mailbox.spec.import_from, renumbered) else {
        return Ok(None);
    };
    let there = session.uids_since(0).await?;
    let wanted: HashSet<u32> = match search {
        Some(search) => session.uids_matching(search).await?.into_iter().collect(),
        None => HashSet::new(),
    };
    let left: Vec<MailSource> = there
        .iter()
        .filter(|uid| !wanted.contains(uid))
        .map(|&uid| MailSource {
            server_id: mailbox.server_id,
            key: imap_key(mailbox.server_id, validity, uid),
            progress: None,
        })
        .collect();
    let left = record_left(core, left, None).await?;
    Ok(Some(FirstImport {
        wanted: wanted
            .into_iter()
            .filter(|uid| there.binary_search(uid).is_ok())
            .collect(),
        left,
        last: there.last().copied().unwrap_or(0),
    }))
}

/// What a first pass looks for among the messages there: `None` under `all` (everything is
/// read), `Some(None)` under `now` (nothing; after a renumbering, the unseen ones).
fn first_search(import_from: ImportFrom, renumbered: bool) -> Option<Option<Search>> {
    match (import_from, renumbered) {
        (ImportFrom::All, _) => None,
        (ImportFrom::Now, false) => Some(None),
        (ImportFrom::Now | ImportFrom::Unseen, _) => Some(Some(Search::Unseen)),
        (ImportFrom::Since(day), _) => Some(Some(Search::ReceivedSince(day))),
    }
}

/// The first import of a mailbox: how it ends, and what the store keeps of it.
pub(super) struct FirstImportDone {
    /// Recorded as the mailbox's progress: IMAP `(numbering, last UID there)`, POP3 `(0, 0)`.
    pub progress: (i64, i64),
    pub imported: usize,
    /// Left before (IMAP: before the chosen messages were imported).
    pub left_before: usize,
}

/// Records `left` as read with the outcome `left`, in one transaction; with `done`, also the
/// mailbox's progress and the `mailbox.first_sync` event, so that the next pass is no first one.
/// Returns how many were left.
pub(super) async fn record_left(
    core: &Core,
    left: Vec<MailSource>,
    done: Option<(&Mailbox, String, FirstImportDone)>,
) -> Result<usize, WatchError> {
    let mut requests: Vec<ImportRequest> = left
        .into_iter()
        .map(|source| ImportRequest::Skip {
            source,
            outcome: "left".into(),
        })
        .collect();
    let count = requests.len();
    let event = done.as_ref().map(|(mailbox, marker, done)| {
        requests.push(ImportRequest::Skip {
            source: MailSource {
                server_id: mailbox.server_id,
                key: marker.clone(),
                progress: Some(done.progress),
            },
            outcome: "first_sync".into(),
        });
        (
            mailbox.server_id,
            mailbox.name.clone(),
            done.imported,
            done.left_before,
        )
    });
    if requests.is_empty() {
        return Ok(0);
    }
    let write_event = |i: usize, _: &ImportOutcome| {
        let (server_id, name, imported, before) = event.as_ref().filter(|_| i == count)?;
        let left = before + count;
        Some(NewEvent {
            kind: crate::events::kind::MAILBOX_FIRST_SYNC.into(),
            subject_id: Some(server_id.to_string()),
            data: serde_json::json!({"server": name, "server_id": server_id.to_string(), "imported": imported, "left": left}).to_string(),
        })
    };
    let batch = core
        .store
        .import_batch(&requests, &write_event, core.clock.now_ms())
        .await;
    if let Some(e) = batch.failed {
        return Err(WatchError::Store(e));
    }
    if let Some((server_id, _, imported, before)) = event {
        let left = before + count;
        tracing::info!(server = %server_id, imported, left, "first connection: imported {imported}, left {left} older messages");
    }
    Ok(count)
}

/// Ends an IMAP first import once the chosen messages are in: the progress at the last UID
/// that was there, and the event.
async fn finish_first_import(
    core: &Core,
    mailbox: &Mailbox,
    marker: String,
    progress: (i64, i64),
    imported: usize,
    left_before: usize,
) -> Result<(), WatchError> {
    let done = FirstImportDone {
        progress,
        imported,
        left_before,
    };
    record_left(core, Vec::new(), Some((mailbox, marker, done))).await?;
    Ok(())
}

/// Which numbering of UIDs a folder's progress belongs to. A UID names a message only within
/// one folder of one account with one UIDVALIDITY (RFC 9051 2.3.1.1), and another folder or
/// account may well use the same UIDVALIDITY (Dovecot derives it from the creation time).
/// So the recorded validity is the UIDVALIDITY (low 32 bits) with a 31-bit hash of host,
/// mailbox and folder above it: pointing the server at another folder starts afresh instead of
/// skipping that folder's UIDs up to the old folder's last one.
fn numbering(spec: &IncomingServerSpec, uid_validity: u32) -> i64 {
    // FNV-1a: stable across builds and platforms, unlike std's hasher.
    let mut hash: u32 = 0x811c_9dc5;
    let parts = [
        spec.host.to_ascii_lowercase(),
        spec.email.as_str().to_ascii_lowercase(),
        spec.folder.clone(),
    ];
    for byte in parts.join("\0").bytes() {
        hash = (hash ^ u32::from(byte)).wrapping_mul(0x0100_0193);
    }
    (i64::from(hash & 0x7fff_ffff) << 32) | i64::from(uid_validity)
}

/// The last UID read in the folder's current numbering, `None` when it was never read in it.
/// Progress recorded before numberings existed (the bare UIDVALIDITY) still counts, so that an
/// upgrade does not read every folder again.
fn last_read(
    progress: Option<(i64, i64)>,
    spec: &IncomingServerSpec,
    uid_validity: u32,
) -> Option<u32> {
    match progress {
        Some((v, last)) if v == numbering(spec, uid_validity) || v == i64::from(uid_validity) => {
            Some(u32::try_from(last).unwrap_or(0))
        }
        _ => None,
    }
}

/// Where an IMAP message comes from, as the store records it.
fn imap_key(server_id: mailgate_domain::Id, validity: i64, uid: u32) -> String {
    format!("{server_id}:{validity}:{uid}")
}

/// Runs the after-import action on messages already imported that still wait for it: a batch
/// committed whose action was cut short (a crash, a dropped connection), or mail imported
/// before the action was changed. Skipped messages (ignored, loops, too large) stay where they
/// are. Called once per session, before new mail is read.
pub async fn imap_catch_up(
    core: &Core,
    mailbox: &Mailbox,
    session: &mut ImapSession<MailStream>,
    validity: u32,
) -> Result<(), WatchError> {
    let unseen_only = match mailbox.spec.after_import {
        AfterImport::Leave | AfterImport::Keep => return Ok(()),
        AfterImport::MarkSeen => true,
        AfterImport::Move | AfterImport::Delete => false,
    };
    let progress = core.store.mailbox_progress(mailbox.server_id).await?;
    let Some(last) = last_read(progress, &mailbox.spec, validity) else {
        // Nothing read in this numbering yet.
        return Ok(());
    };
    let present = session.uids_up_to(last, unseen_only).await?;
    // Sources are recorded under the numbering, or under the bare UIDVALIDITY before 2026-12.
    let numberings = [numbering(&mailbox.spec, validity), i64::from(validity)];
    let uid_of: std::collections::HashMap<String, u32> = present
        .iter()
        .flat_map(|&uid| numberings.map(|n| (imap_key(mailbox.server_id, n, uid), uid)))
        .collect();
    let keys: Vec<String> = uid_of.keys().cloned().collect();
    let mut uids: Vec<u32> = core
        .store
        .sources_to_act_on(&keys)
        .await?
        .iter()
        .filter_map(|key| uid_of.get(key).copied())
        .collect();
    uids.sort_unstable();
    uids.dedup();
    if !uids.is_empty() {
        tracing::info!(
            server = %mailbox.server_id,
            messages = uids.len(),
            "finishing the after-import action of messages imported before"
        );
    }
    for chunk in uids.chunks(BATCH_MESSAGES) {
        act(session, mailbox, chunk).await?;
    }
    Ok(())
}

/// The mailbox's after-import action, on a batch's UIDs.
async fn act(
    session: &mut ImapSession<MailStream>,
    mailbox: &Mailbox,
    uids: &[u32],
) -> Result<(), ProtoError> {
    match mailbox.spec.after_import {
        AfterImport::MarkSeen => session.mark_seen(uids).await,
        AfterImport::Move => {
            let folder = mailbox.spec.move_to.as_deref().unwrap_or("Processed");
            session.move_to(uids, folder).await
        }
        AfterImport::Delete => session.delete(uids).await,
        AfterImport::Leave | AfterImport::Keep => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batches_are_bounded_by_bytes_and_count_and_keep_the_order() {
        let mb = 1024 * 1024;
        let listed = [(1, mb), (2, 3 * mb), (3, 5 * mb), (4, 20 * mb), (5, 10)];
        assert_eq!(
            plan(&listed, 50 * 1024 * 1024),
            [vec![1, 2], vec![3], vec![4], vec![5]]
        );
        // A message over the cap counts as what is fetched of it: the cap.
        assert_eq!(
            plan(&listed, 1024 * 1024),
            [vec![1, 2, 3, 4, 5]],
            "at most 1 MiB + 1 each"
        );
        let small: Vec<(u32, u64)> = (1..=450).map(|u| (u, 100)).collect();
        let sizes: Vec<usize> = plan(&small, mb as usize).iter().map(Vec::len).collect();
        assert_eq!(sizes, [200, 200, 50]);
        assert!(plan(&[], 10).is_empty());
    }

    #[test]
    fn a_renumbered_folder_is_never_read_from_scratch_under_now() {
        assert_eq!(first_search(ImportFrom::All, false), None);
        assert_eq!(first_search(ImportFrom::All, true), None);
        assert_eq!(first_search(ImportFrom::Now, false), Some(None));
        assert_eq!(
            first_search(ImportFrom::Now, true),
            Some(Some(Search::Unseen))
        );
        assert_eq!(
            first_search(ImportFrom::Unseen, false),
            Some(Some(Search::Unseen))
        );
        let day = chrono::NaiveDate::from_ymd_opt(2026, 1, 31).unwrap();
        assert_eq!(
            first_search(ImportFrom::Since(day), true),
            Some(Some(Search::ReceivedSince(day)))
        );
    }

    #[test]
    fn each_folder_and_account_has_its_own_numbering() {
        let spec: IncomingServerSpec = serde_json::from_value(serde_json::json!({
            "name": "Support", "email": "support@example.com", "protocol": "imap",
            "host": "imap.example.com", "port": 993, "security": "ssl", "auth": "basic",
            "username": "support@example.com", "folder": "INBOX", "after_import": "leave",
            "enabled": true, "primary": false
        }))
        .unwrap();
        let other_folder = IncomingServerSpec {
            folder: "Archive".into(),
            ..spec.clone()
        };
        let other_host = IncomingServerSpec {
            host: "imap.example.org".into(),
            ..spec.clone()
        };
        let n = numbering(&spec, 1_700_000_000);
        assert_eq!(n, numbering(&spec.clone(), 1_700_000_000), "stable");
        assert_eq!(n & 0xffff_ffff, 1_700_000_000, "the UIDVALIDITY is kept");
        assert!(n >= 0 && numbering(&spec, u32::MAX) >= 0);
        assert_ne!(n, numbering(&other_folder, 1_700_000_000));
        assert_ne!(n, numbering(&other_host, 1_700_000_000));
        assert_ne!(n, numbering(&spec, 1_700_000_001));

        assert_eq!(last_read(Some((n, 42)), &spec, 1_700_000_000), Some(42));
        assert_eq!(
            last_read(Some((1_700_000_000, 42)), &spec, 1_700_000_000),
            Some(42),
            "progress recorded before numberings"
        );
        assert_eq!(last_read(Some((n, 42)), &other_folder, 1_700_000_000), None);
        assert_eq!(last_read(Some((n, 42)), &spec, 1_700_000_001), None);
        assert_eq!(last_read(None, &spec, 1_700_000_000), None);
    }
}
