//! The after-import action on an IMAP server (mark seen, move, delete): which one the server
//! can run safely, running it on a batch once the batch is committed, and finishing the
//! actions a crash or a dropped connection left undone.

use super::error::WatchError;
use super::numbering::{imap_key, last_read, numbering};
use super::pipeline::WatchedMailbox;
use crate::Core;
use crate::events;
use mailgate_domain::incoming::AfterImport;
use mailgate_domain::troubleshoot::ProviderKind;
use mailgate_proto::dial::MailStream;
use mailgate_proto::error::ProtoError;
use mailgate_proto::imap::{Capabilities, ImapSession};

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
pub(super) async fn without_unsafe_removal(
    core: &Core,
    mailbox: &WatchedMailbox,
    session: &ImapSession<MailStream>,
) -> WatchedMailbox {
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
        crate::events::EventKind::ServerAfterImportRefused,
        Some(&mailbox.server_id.to_string()),
        serde_json::json!({"server": mailbox.name, "mailbox": mailbox.spec.email, "after_import": wanted, "diagnosis": diagnosis}),
    )
    .await;
    mailbox
}

/// Runs the after-import action on messages already imported that still wait for it: a batch
/// committed whose action was cut short (a crash, a dropped connection), or mail imported
/// before the action was changed. Skipped messages (ignored, loops, too large) stay where they
/// are. Called once per session, before new mail is read.
pub async fn imap_catch_up(
    core: &Core,
    mailbox: &WatchedMailbox,
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
    for chunk in uids.chunks(super::batch::BATCH_MESSAGES) {
        act(session, mailbox, chunk).await?;
    }
    Ok(())
}

/// The mailbox's after-import action, on a batch's UIDs.
pub(super) async fn act(
    session: &mut ImapSession<MailStream>,
    mailbox: &WatchedMailbox,
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
}
