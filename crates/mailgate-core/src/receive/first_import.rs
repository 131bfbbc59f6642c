//! The first pass over a mailbox under an `import_from` other than `all`: what was there is
//! chosen for import or recorded as left, and the end of the first import is recorded with its
//! `mailbox.first_sync` event.

use super::error::WatchError;
use super::numbering::imap_key;
use super::pipeline::WatchedMailbox;
use crate::Core;
use mailgate_domain::incoming::ImportFrom;
use mailgate_proto::dial::MailStream;
use mailgate_proto::imap::{ImapSession, Search};
use mailgate_store::{ImportOutcome, ImportRequest, MailSource, NewEvent};
use std::collections::HashSet;

/// The first pass over a folder (no progress in its numbering) under an `import_from` other
/// than `all`: the messages there chosen for import, how many were left, and the last UID there.
pub(super) struct FirstImport {
    pub wanted: HashSet<u32>,
    pub left: usize,
    pub last: u32,
}

/// Chooses what the first pass imports of the mail already in the folder and records the rest
/// as `left` (read, never imported, never acted on), before anything is imported: a pass cut
/// short never imports what was left. `renumbered`: the server read this folder under another
/// numbering before (UIDVALIDITY changed, or the folder did); then `now` reads the unseen
/// messages (mail that arrived while the folder was renumbered; what was imported before comes
/// back as a duplicate) instead of leaving everything. `None` under `all`.
pub(super) async fn first_import(
    core: &Core,
    mailbox: &WatchedMailbox,
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
    done: Option<(&WatchedMailbox, String, FirstImportDone)>,
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
            kind: crate::events::EventKind::MailboxFirstSync,
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
pub(super) async fn finish_first_import(
    core: &Core,
    mailbox: &WatchedMailbox,
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

#[cfg(test)]
mod tests {
    use super::*;

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
}
