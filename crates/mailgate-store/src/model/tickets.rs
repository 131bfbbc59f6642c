//! Tickets and their messages, as read back and as written.

use mailgate_domain::Id;

/// A ticket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TicketRow {
    pub number: i64,
    pub id: Id,
    pub subject: String,
    pub requester: String,
    pub requester_name: Option<String>,
    pub incoming_server_id: Option<Id>,
    pub group: Option<String>,
    pub category: Option<String>,
    pub status: String,
    pub created_at_ms: i64,
    pub updated_at_ms: i64,
}

/// A ticket to open when an incoming message threads into none.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewTicket {
    pub id: Id,
    pub subject: String,
    pub requester: String,
    pub requester_name: Option<String>,
    pub group: Option<String>,
    pub category: Option<String>,
}

/// A message of a ticket (in or out), with its attachments (content only when asked for).
#[derive(Clone, PartialEq, Eq)]
pub struct MessageRow {
    pub id: Id,
    pub ticket_number: i64,
    /// `in` or `out`.
    pub direction: String,
    /// `normal`, `auto_reply`, `bounce`, ...
    pub kind: String,
    pub message_id: Option<String>,
    pub from_address: Option<String>,
    pub from_name: Option<String>,
    /// JSON: `{"to": [...], "cc": [...]}`.
    pub recipients: String,
    pub subject: String,
    pub body_text: String,
    pub body_html: Option<String>,
    /// JSON list of what was malformed.
    pub problems: String,
    /// JSON list of the Reply-To addresses (where the sender asked replies to go).
    pub reply_to: String,
    /// JSON list of the Message-IDs (without `<>`) of In-Reply-To.
    pub in_reply_to: String,
    /// JSON list of the Message-IDs (without `<>`) of References, oldest first.
    pub references: String,
    /// List or bulk mail (`Precedence: bulk`, `List-Id`, ...).
    pub bulk: bool,
    pub raw: Vec<u8>,
    pub incoming_server_id: Option<Id>,
    pub created_at_ms: i64,
    pub attachments: Vec<AttachmentRow>,
}

impl std::fmt::Debug for MessageRow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MessageRow")
            .field("id", &self.id)
            .field("ticket_number", &self.ticket_number)
            .field("kind", &self.kind)
            .field("message_id", &self.message_id)
            .field("raw_bytes", &self.raw.len())
            .field("attachments", &self.attachments.len())
            .finish_non_exhaustive()
    }
}

#[derive(Clone, PartialEq, Eq)]
pub struct AttachmentRow {
    pub id: Id,
    pub message_id: Id,
    pub position: i64,
    pub filename: String,
    pub content_type: String,
    pub size: i64,
    pub inline: bool,
    pub content_id: Option<String>,
    /// Empty unless read with its content.
    pub content: Vec<u8>,
    /// Where the content stands in the message's raw bytes. On import, when set, only that is
    /// stored (not `content`): reading the attachment decodes it from the raw message.
    pub in_raw: Option<mailgate_domain::mail::RawPart>,
}

impl std::fmt::Debug for AttachmentRow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AttachmentRow")
            .field("id", &self.id)
            .field("filename", &self.filename)
            .field("size", &self.size)
            .finish_non_exhaustive()
    }
}

/// A ticket search.
#[derive(Debug, Clone, Default)]
pub struct TicketQuery {
    pub status: Option<String>,
    pub group: Option<String>,
    pub category: Option<String>,
    /// Matched against the subject, the requester (address and name) and the text of every
    /// message; case-insensitively (on SQLite, for ASCII letters only).
    pub text: Option<String>,
    /// Tickets with a number below this (newest first paging).
    pub before: Option<i64>,
    pub limit: i64,
}
