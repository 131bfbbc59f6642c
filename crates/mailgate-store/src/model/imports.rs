//! Messages read from mailboxes: what to import, and what became of it.

use super::tickets::{MessageRow, NewTicket};
use mailgate_domain::Id;

/// Where a message read from a mailbox came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MailSource {
    pub server_id: Id,
    /// `"{server}:{uidvalidity}:{uid}"` (IMAP) or `"{server}:uidl:{uidl}"` (POP3): a message is
    /// handled once per source, whatever becomes of it.
    pub key: String,
    /// IMAP: `(uid_validity, uid)`, recorded as read with the message.
    pub progress: Option<(i64, i64)>,
}

/// One message read from a mailbox and what to do with it. Either way its source is recorded,
/// in the transaction that imports it (see [`crate::Store::import_batch`]).
#[derive(Debug, Clone)]
pub enum ImportRequest {
    /// Recorded as read and not imported; `outcome` says why (`loop`, `ignored`, `too_large`).
    Skip { source: MailSource, outcome: String },
    /// Imported into the ticket it threads into, or a new one.
    Import {
        source: MailSource,
        import: Box<MessageImport>,
    },
}

impl ImportRequest {
    pub fn source(&self) -> &MailSource {
        match self {
            ImportRequest::Skip { source, .. } | ImportRequest::Import { source, .. } => source,
        }
    }
}

/// A message to import, and how to find or open its ticket.
#[derive(Debug, Clone)]
pub struct MessageImport {
    /// The Message-IDs the message refers to (ours and others'), best evidence first: the
    /// first one stored in a ticket decides.
    pub thread_message_ids: Vec<String>,
    /// The ticket number tagged in the subject. It threads the message only when the sender
    /// (`message.from_address`) is a participant of that ticket (its requester, or an address
    /// that wrote to it or was written to from it) or the ticket was opened through the same
    /// mailbox (`message.incoming_server_id`), unless `thread_tag_from_anyone`: numbers are
    /// sequential, and anyone could otherwise add a message to any ticket.
    pub thread_tag: Option<i64>,
    /// `[receive] thread_by_tag = "any"`: the tag threads whoever sends it (the old rule).
    pub thread_tag_from_anyone: bool,
    /// Import only into an existing ticket (auto-replies, bounces); otherwise record the source
    /// with this outcome and skip it.
    pub only_if_threaded: Option<String>,
    /// The ticket to open when it threads into none.
    pub new_ticket: NewTicket,
    /// SHA-256 (hex) of the message's raw From, Date and Subject values and its body: with the
    /// Message-ID, what makes it the same message as an earlier one (a re-delivery with another
    /// Received header, or to two watched mailboxes). `None`: the Message-ID alone decides.
    pub content_digest: Option<String>,
    /// The message (attachments with their content); its `ticket_number` is decided here.
    pub message: MessageRow,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ImportOutcome {
    Imported {
        ticket_number: i64,
        message_id: Id,
        new_ticket: bool,
    },
    /// The same message came in before (the same Message-ID and content digest; another
    /// mailbox, a re-delivery, earlier in the same batch): not imported again. A different
    /// message with a Message-ID seen before is imported, with a `message_id_reused` problem.
    Duplicate { ticket_number: i64 },
    /// This source was handled before (a retry after a crash between commit and ack).
    AlreadySeen,
    /// Recorded as read and not imported: [`ImportRequest::Skip`], or an auto-reply or bounce
    /// that threads into no ticket.
    Skipped,
}

/// An event written in the transaction of the import it reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewEvent {
    pub kind: mailgate_domain::EventKind,
    pub subject_id: Option<String>,
    /// JSON.
    pub data: String,
}

/// The event an outcome leads to, asked with the index of its request in the batch.
pub type EventFor<'a> = dyn Fn(usize, &ImportOutcome) -> Option<NewEvent> + Send + Sync + 'a;

/// What became of a batch (see [`crate::Store::import_batch`]).
#[derive(Debug)]
pub struct ImportedBatch {
    /// The outcome of every request committed, in order: all of them unless `failed`.
    pub outcomes: Vec<ImportOutcome>,
    /// Why the request at index `outcomes.len()` could not be imported (or, with no outcomes,
    /// why nothing could be committed). Nothing of it or of the requests after it was
    /// committed, their progress included: the mailbox offers them again.
    pub failed: Option<crate::StoreError>,
}
