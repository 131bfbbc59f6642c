//! A [`Draft`] to RFC 5322 bytes. mail-builder chooses each body's transfer encoding (7bit,
//! quoted-printable or base64, so the output is 7-bit and its lines stay under 998 bytes),
//! encodes non-ASCII names and subjects (RFC 2047) and file names (RFC 2231), and folds.

use std::borrow::Cow;

use chrono::{DateTime, Utc};
use mail_builder::MessageBuilder;
use mail_builder::headers::address::Address;
use mail_builder::headers::content_type::ContentType;
use mail_builder::headers::date::Date;
use mail_builder::headers::message_id::MessageId;
use mail_builder::headers::text::Text;
use mail_builder::mime::{BodyPart, MimePart};

use super::parts::{bare_id, content_type, is_field_name, is_structural};
use super::{Draft, DraftAddress, DraftAttachment};
use crate::mail::sanitize_filename;

/// What the sending side adds to a draft.
#[derive(Debug, Clone, Copy)]
pub struct Compose<'a> {
    /// The server's address and sender name; `draft.from_name` overrides the name.
    pub from: &'a DraftAddress,
    /// Reply-To when the draft has none (the server's setting).
    pub reply_to: Option<&'a DraftAddress>,
    /// `<id@domain>`, as [`crate::mail::new_message_id`] makes it.
    pub message_id: &'a str,
    pub date: DateTime<Utc>,
    /// The X-Loop value that tells our own mail when it comes back.
    pub loop_marker: &'a str,
}

/// The message as recipients see it: no Bcc header. For SMTP, where the envelope names the
/// Bcc recipients ([`Draft::recipients`]).
pub fn render(draft: &Draft, c: &Compose<'_>) -> Vec<u8> {
    build(draft, c, false)
}

/// The message for the Gmail API, which has no envelope: Gmail reads the recipients from To,
/// Cc and Bcc, and removes the Bcc header before delivering (the sender's Sent copy keeps it).
pub fn render_for_gmail_api(draft: &Draft, c: &Compose<'_>) -> Vec<u8> {
    build(draft, c, true)
}

fn build(draft: &Draft, c: &Compose<'_>, with_bcc: bool) -> Vec<u8> {
    let from_name = draft.from_name.as_deref().or(c.from.name.as_deref());
    let mut m = MessageBuilder::new().from(address(from_name, &c.from.email));
    if let Some(reply_to) = draft.reply_to.as_ref().or(c.reply_to) {
        m = m.reply_to(mailbox(reply_to));
    }
    for (name, list, show) in [
        ("To", &draft.to, true),
        ("Cc", &draft.cc, true),
        ("Bcc", &draft.bcc, with_bcc),
    ] {
        if show && !list.is_empty() {
            m = m.header(name, Address::new_list(list.iter().map(mailbox).collect()));
        }
    }
    if !draft.subject.trim().is_empty() {
        m = m.subject(Text::new(draft.subject.as_str()));
    }
    m = m.date(Date::new(c.date.timestamp()));
    // An id that is not one is left out rather than written broken (mail-builder then makes a
    // Message-ID of its own).
    if let Some(id) = bare_id(c.message_id) {
        m = m.message_id(id);
    }
    if let Some(id) = draft.in_reply_to.as_deref().and_then(bare_id) {
        m = m.in_reply_to(id);
    }
    let references: Vec<&str> = draft.references.iter().filter_map(|r| bare_id(r)).collect();
    if !references.is_empty() {
        m = m.references(MessageId::new_list(references.into_iter()));
    }
    m = m.header("X-Loop", Text::new(c.loop_marker));
    // Checked again: a stored draft did not necessarily come through `parse`.
    for (name, value) in &draft.headers {
        if is_field_name(name) && !is_structural(name) {
            m = m.header(name.as_str(), Text::new(value.as_str()));
        }
    }
    let mut out = Vec::new();
    m.body(body(draft)).serialize(&mut out);
    out
}

fn address<'x>(name: Option<&'x str>, email: &'x crate::EmailAddress) -> Address<'x> {
    let name = name.map(str::trim).filter(|n| !n.is_empty());
    Address::new_address(name, email.as_str())
}

fn mailbox(m: &DraftAddress) -> Address<'_> {
    address(m.name.as_deref(), &m.email)
}

/// text and html as multipart/alternative; inline files with the html in multipart/related;
/// the other files around it all in multipart/mixed. Inline files of a message without html
/// have nothing to show them and are attached like the others.
fn body(draft: &Draft) -> MimePart<'_> {
    let has_html = draft.html.is_some();
    let (inline, files): (Vec<_>, Vec<_>) = draft
        .attachments
        .iter()
        .enumerate()
        .partition(|(_, a)| has_html && a.content_id.is_some());
    let text = draft
        .text
        .as_deref()
        .map(|t| MimePart::new("text/plain", t));
    let html = draft.html.as_deref().map(|h| {
        let html = MimePart::new("text/html", h);
        if inline.is_empty() {
            return html;
        }
        let parts = std::iter::once(html).chain(inline.iter().map(|&(i, a)| file(i, a, true)));
        MimePart::new("multipart/related", parts.collect::<Vec<_>>())
    });
    let main = match (text, html) {
        (Some(text), Some(html)) => MimePart::new("multipart/alternative", vec![text, html]),
        (Some(one), None) | (None, Some(one)) => one,
        (None, None) => MimePart::new("text/plain", ""),
    };
    if files.is_empty() {
        return main;
    }
    let parts = std::iter::once(main).chain(files.iter().map(|&(i, a)| file(i, a, false)));
    MimePart::new("multipart/mixed", parts.collect::<Vec<_>>())
}

/// One file, shown in the html body when `inline`; its name, type and id are cleaned again
/// (see `build`).
fn file(i: usize, a: &DraftAttachment, inline: bool) -> MimePart<'_> {
    let ct =
        content_type(Some(&a.content_type)).unwrap_or_else(|_| "application/octet-stream".into());
    let name = sanitize_filename(&a.filename, i + 1, &ct);
    let content = BodyPart::Binary(Cow::Borrowed(a.content.as_slice()));
    let part = MimePart::new(ContentType::new(ct), content);
    match a.content_id.as_deref().and_then(bare_id) {
        Some(id) if inline => part
            .header(
                "Content-Disposition",
                ContentType::new("inline").attribute("filename", name),
            )
            .cid(id),
        Some(id) => part.attachment(name).cid(id),
        None => part.attachment(name),
    }
}
