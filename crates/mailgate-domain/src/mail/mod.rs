//! Processing of one incoming message, with no I/O: parse the raw bytes, tell auto-replies,
//! bounces and loops from mail a person wrote, and find the ticket a reply belongs to.
//!
//! Everything here is total: malformed mail never fails and never panics. What was wrong with
//! a message is listed in [`ParsedMessage::problems`]; the caller keeps the raw bytes and flags
//! it (PRODUCT.md: "malformed mail never stops a mailbox").
//!
//! - [`parse`] turns raw bytes into a [`ParsedMessage`] (mail-parser 0.11 does the MIME work;
//!   charset fallbacks, HTML-to-text and attachment names are ours).
//! - [`classify`] says whether a message is [`Kind::Normal`], an auto-reply, a bounce or a loop;
//!   [`bulk`] whether it is list or bulk mail.
//! - [`thread_hint`] says which ticket a reply belongs to; [`tagged_subject`] writes the tag.
//! - [`compose`] is the other direction: an outgoing draft, validated, rendered to bytes.

pub mod address;
mod attachments;
mod bulk;
mod charset;
mod classify;
pub mod compose;
mod defects;
mod dsn;
mod encoded_words;
mod mime;
mod msgids;
mod out_of_office;
mod parse;
mod problem;
mod raw_part;
mod safe_html;
mod text;
mod thread;

#[cfg(test)]
mod tests;

use serde::{Deserialize, Serialize};

pub use attachments::sanitize_filename;
pub use bulk::bulk;
pub use classify::classify;
pub use parse::parse;
pub use raw_part::{PartEncoding, RawPart};
pub use safe_html::safe_html;
pub use text::html_to_text;
pub use thread::{
    base_subject, new_message_id, subject_tag, tagged_subject, thread_hint, ticket_tag,
};

/// One address of a received message's header (From and its fallbacks, Reply-To, To, Cc), as
/// read from it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ParsedAddress {
    /// The address as written, with its domain lower-cased (the local part is kept: it may be
    /// case-sensitive at the receiving server).
    pub address: String,
    /// The display name, decoded (RFC 2047); `None` when absent or empty.
    pub name: Option<String>,
}

/// A file carried by a message.
#[derive(Clone, PartialEq, Eq)]
pub struct Attachment {
    /// Safe to use as a file name: no path, no control or bidi-override characters, at most
    /// 200 characters and 255 bytes, never empty (`attachment-N.ext`), never `.` or `..`.
    /// Not made unique: two attachments may share a name (the storage layer's job).
    pub filename: String,
    /// `type/subtype`, lower-cased; text types keep their `charset` parameter, because
    /// [`Attachment::content`] holds the bytes as sent, not converted to UTF-8.
    pub content_type: String,
    /// The bytes after transfer decoding (base64, quoted-printable), exactly as sent.
    pub content: Vec<u8>,
    /// Shown in the body (an image of an HTML message) rather than offered as a download.
    pub inline: bool,
    /// The Content-ID without `<>`, which `cid:` URLs of the HTML body refer to.
    pub content_id: Option<String>,
    /// Where [`Attachment::content`] stands in the raw message, when reading it back from
    /// there gives it exactly (checked while parsing): a store may keep that instead of a
    /// copy. `None` when it cannot be had that way (quoted-printable, a text part converted,
    /// headers rewritten).
    pub in_raw: Option<RawPart>,
}

// Hand-written so that a 10 MB attachment does not flood a log line.
impl std::fmt::Debug for Attachment {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Attachment")
            .field("filename", &self.filename)
            .field("content_type", &self.content_type)
            .field("content", &format_args!("<{} bytes>", self.content.len()))
            .field("inline", &self.inline)
            .field("content_id", &self.content_id)
            .field("in_raw", &self.in_raw)
            .finish()
    }
}

/// What mailgate needs of an incoming message.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ParsedMessage {
    /// Without `<>`.
    pub message_id: Option<String>,
    /// Without `<>`, in header order.
    pub in_reply_to: Vec<String>,
    /// Without `<>`, in header order (oldest first).
    pub references: Vec<String>,
    /// The sender's address, a valid addr-spec: From's first, or when From has none, the first
    /// of Sender, Reply-To and Return-Path (a problem says which); `None` when no header has
    /// one. Its name is [`ParsedMessage::from_name`].
    pub from: Option<ParsedAddress>,
    /// The sender's display name, decoded: From's (also when From has no address, as
    /// `From: MAILER-DAEMON`), otherwise the one given with the fallback address.
    pub from_name: Option<String>,
    pub reply_to: Vec<ParsedAddress>,
    pub to: Vec<ParsedAddress>,
    pub cc: Vec<ParsedAddress>,
    /// Decoded, on one line, trimmed; empty when absent.
    pub subject: String,
    pub date: Option<chrono::DateTime<chrono::Utc>>,
    /// The plain-text body, with `\n` line ends; derived from the HTML body (tags stripped,
    /// entities decoded, block elements as line breaks) when the message has only HTML.
    pub text: String,
    /// The HTML body as sent (decoded to UTF-8), when there is one.
    pub html: Option<String>,
    pub attachments: Vec<Attachment>,
    /// What was malformed, one sentence each ("no From header", "undecodable charset x-foo
    /// (read as UTF-8)", ...); empty when the message is clean.
    pub problems: Vec<String>,
    /// The top-level header fields as (name, value), values unfolded and trimmed, in order:
    /// what [`classify`] reads (X-Loop, Auto-Submitted, Precedence, List-Id...), kept so that
    /// classifying needs no second parse of the raw message.
    pub headers: Vec<(String, String)>,
    /// What a delivery report (multipart/report) says, read while parsing: a bounce, a delay
    /// notice or a read receipt; `None` when the message is no report.
    pub report: Option<Kind>,
    /// The Message-ID (without `<>`) of a message returned inside this one, in a
    /// message/rfc822 or text/rfc822-headers part: what a bounce is about.
    pub returned_message_id: Option<String>,
}

/// What kind of message arrived, which decides whether it may open or update a ticket.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Kind {
    /// Written by a person: open a ticket or append to one.
    Normal,
    /// Generated by software (out-of-office, vacation, delay notice, read receipt, abuse
    /// report, challenge-response): never answered, or two auto-responders would talk
    /// forever. Mailing-list and bulk mail is not this: see [`bulk`].
    AutoReply { reason: String },
    /// A delivery failure report about mail we sent.
    Bounce {
        /// The Message-ID (without `<>`) of the mail that could not be delivered.
        original_message_id: Option<String>,
        /// The address that failed.
        recipient: Option<String>,
        reason: String,
    },
    /// Our own mail came back to us.
    Loop { reason: String },
}

/// Who "we" are, to recognise our own mail.
#[derive(Debug, Clone, Copy)]
pub struct Ours<'a> {
    /// Our Message-IDs end with `@{message_id_domain}`.
    pub message_id_domain: &'a str,
    /// The value of the X-Loop header we put on everything we send.
    pub loop_marker: &'a str,
    /// Our mailbox addresses.
    pub addresses: &'a [String],
}

/// Which existing ticket a message belongs to, by evidence order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "by", content = "value", rename_all = "snake_case")]
pub enum ThreadHint {
    /// The Message-IDs named by In-Reply-To and References (without `<>`), ours first, each
    /// group most specific first: In-Reply-To, then References from the newest to the oldest.
    MessageIds(Vec<String>),
    /// The ticket number of the tag in the subject (`[#123]`).
    Tag(u64),
    None,
}

/// The texts keyword filters look at: the subject and the plain-text body.
pub fn filter_text(parsed: &ParsedMessage) -> [&str; 2] {
    [&parsed.subject, &parsed.text]
}
