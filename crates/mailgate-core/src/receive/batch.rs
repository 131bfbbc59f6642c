//! Batches of messages, shared by IMAP and POP3: cutting what is listed into batches of
//! bounded bytes and count, preparing a fetched batch on a blocking thread (parse and
//! classify), and importing it in one transaction. Each step is callable on its own; the IMAP
//! pass that chains them is [`super::imap::imap_import_new`], the POP3 one [`super::pop3::pop3_session`].

use super::error::WatchError;
use super::pipeline::{self, Prepared, WatchedMailbox};
use crate::Core;
use mailgate_proto::error::ProtoError;
use mailgate_store::{ImportOutcome, MailSource};
use std::collections::HashSet;
use std::sync::Arc;

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
    mailbox: &Arc<WatchedMailbox>,
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
}
