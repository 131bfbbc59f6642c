//! Outgoing mail: the message part of `POST /api/v1/messages` ([`DraftInput`]), validated into
//! a [`Draft`] that is safe to store and to render, and rendered to RFC 5322 bytes
//! ([`render`]) by mail-builder, which does the MIME structure and the encodings.
//!
//! The header-injection guard is [`DraftInput::parse`]: no value that ends up in a header
//! (subject, names, addresses, header names and values, file names, content ids) may hold a
//! line break or another control character, and extra headers may not replace the ones mailgate
//! writes itself. Rendering checks the structural rules again, because a draft read back from
//! storage did not come through `parse`.
//!
//! Choices: the subject must be given but may be empty (`""` sends a message without a
//! Subject; a missing field is more likely a client bug than a wish). Gmail's per-message
//! limits apply whatever the transport: 100 recipients, 25 MB of content. The content cap counts
//! attachments and bodies together, decoded, so that a parsed draft always fits the 35 MB Gmail
//! accepts once base64 has grown it by a third.

mod parts;
mod render;
#[cfg(test)]
mod tests;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::{EmailAddress, FieldError, FieldErrors};

pub use render::{Compose, render, render_for_gmail_api};

/// Gmail's limit of recipients per message, To, Cc and Bcc together.
pub const MAX_RECIPIENTS: usize = 100;
/// Gmail's limit of content per message (25 MB): attachments and bodies, decoded.
pub const MAX_CONTENT_BYTES: usize = 25 * 1024 * 1024;
/// A longer subject is a mistake (a body pasted into the field).
pub const MAX_SUBJECT_CHARS: usize = 998;

/// The message part of `POST /api/v1/messages`, as a request gives it.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DraftInput {
    /// Addresses, each `name@example.com`, `Name <name@example.com>` or `"Doe, J" <j@example.com>`.
    pub to: Option<Vec<String>>,
    pub cc: Option<Vec<String>>,
    /// Receive the message without being named in it.
    pub bcc: Option<Vec<String>>,
    /// Required; may be empty (`""`) for a message without a subject.
    pub subject: Option<String>,
    /// The plain-text body; `text`, `html` or both.
    pub text: Option<String>,
    pub html: Option<String>,
    /// Where replies go, when not to the server's own reply-to or address.
    pub reply_to: Option<String>,
    /// The sender name shown instead of the server's.
    pub from_name: Option<String>,
    /// Extra headers such as `X-Ticket-Id`; mailgate's own (From, To, Subject, Content-*, ...)
    /// cannot be replaced.
    pub headers: Option<BTreeMap<String, String>>,
    pub attachments: Option<Vec<AttachmentInput>>,
}

/// One file of a [`DraftInput`].
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AttachmentInput {
    pub filename: Option<String>,
    /// `type/subtype`; `application/octet-stream` when absent.
    pub content_type: Option<String>,
    /// The file's bytes, standard base64 (line breaks allowed).
    pub content_base64: Option<String>,
    /// Makes the file inline: the HTML body shows it with `<img src="cid:{content_id}">`.
    pub content_id: Option<String>,
}

/// One address of an outgoing message's header (To, Cc, Bcc, Reply-To, From), validated:
/// `Name <email>`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DraftAddress {
    pub name: Option<String>,
    pub email: EmailAddress,
}

/// A validated outgoing message, without sender, date or Message-ID (see [`Compose`]).
/// Stored as JSON in the outbox; attachments are base64 there.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Draft {
    pub to: Vec<DraftAddress>,
    pub cc: Vec<DraftAddress>,
    pub bcc: Vec<DraftAddress>,
    pub subject: String,
    pub text: Option<String>,
    pub html: Option<String>,
    pub reply_to: Option<DraftAddress>,
    pub from_name: Option<String>,
    /// Extra headers, in name order; never one of the structural ones.
    pub headers: Vec<(String, String)>,
    pub attachments: Vec<DraftAttachment>,
    /// The Message-ID (without `<>`) this message answers; set by ticket replies.
    pub in_reply_to: Option<String>,
    /// Message-IDs (without `<>`) of the thread, oldest first; set by ticket replies.
    pub references: Vec<String>,
}

/// A decoded file of a [`Draft`].
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DraftAttachment {
    /// Safe to show and store (see [`super::sanitize_filename`]).
    pub filename: String,
    /// `type/subtype`, lower case.
    pub content_type: String,
    #[serde(with = "base64_bytes")]
    pub content: Vec<u8>,
    /// Without `<>`; set for inline files.
    pub content_id: Option<String>,
}

// Hand-written so that a 10 MB file does not flood a log line.
impl std::fmt::Debug for DraftAttachment {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DraftAttachment")
            .field("filename", &self.filename)
            .field("content_type", &self.content_type)
            .field("content", &format_args!("<{} bytes>", self.content.len()))
            .field("content_id", &self.content_id)
            .finish()
    }
}

impl DraftAddress {
    /// Parses `name@example.com`, `<name@example.com>`, `Name <name@example.com>` or
    /// `"Doe, J" <j@example.com>` (quotes removed, `\"` and `\\` unescaped).
    pub fn parse(field: &str, text: &str) -> Result<Self, FieldError> {
        parts::one_line(field, text)?;
        let text = text.trim();
        let (name, address) = match text.strip_suffix('>').and_then(|t| t.rsplit_once('<')) {
            Some((name, address)) => (unquote(name.trim()), address),
            None => (String::new(), text),
        };
        let email = EmailAddress::parse(field, address).map_err(|e| FieldError {
            hint: Some(
                "write `Name <name@example.com>` or a plain address such as name@example.com"
                    .to_owned(),
            ),
            ..e
        })?;
        if name.chars().count() > 200 {
            return Err(
                FieldError::new(field, "the name is longer than 200 characters")
                    .with_hint("shorten the name before the address"),
            );
        }
        let name = (!name.is_empty()).then_some(name);
        Ok(Self { name, email })
    }
}

/// A display name without its quotes: `"Doe, \"J\""` is `Doe, "J"`.
fn unquote(name: &str) -> String {
    let Some(inner) = name.strip_prefix('"').and_then(|n| n.strip_suffix('"')) else {
        return name.to_owned();
    };
    let mut out = String::with_capacity(inner.len());
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        out.push(if c == '\\' {
            chars.next().unwrap_or(c)
        } else {
            c
        });
    }
    out.trim().to_owned()
}

impl DraftInput {
    /// Validates every field and reports every problem at once.
    pub fn parse(self) -> Result<Draft, FieldErrors> {
        let mut errors = FieldErrors::new();
        let given = [&self.to, &self.cc, &self.bcc]
            .iter()
            .map(|list| list.as_ref().map_or(0, Vec::len))
            .sum::<usize>();
        let to = mailboxes("to", self.to, &mut errors);
        let cc = mailboxes("cc", self.cc, &mut errors);
        let bcc = mailboxes("bcc", self.bcc, &mut errors);
        let subject = errors.collect(subject(self.subject)).unwrap_or_default();
        let text = body("text", self.text, &mut errors);
        let html = body("html", self.html, &mut errors);
        if text.is_none() && html.is_none() && !errors.errors().iter().any(is_body_error) {
            errors.push(
                FieldError::new("text", "the message has no body")
                    .with_hint("give `text`, `html` or both"),
            );
        }
        let reply_to = match self.reply_to.filter(|r| !r.trim().is_empty()) {
            Some(r) => errors.collect(DraftAddress::parse("reply_to", &r)),
            None => None,
        };
        let from_name = errors.collect(from_name(self.from_name)).flatten();
        let headers = parts::headers(self.headers.unwrap_or_default(), &mut errors);
        let attachments = parts::attachments(self.attachments.unwrap_or_default(), &mut errors);

        let draft = Draft {
            to,
            cc,
            bcc,
            subject,
            text,
            html,
            reply_to,
            from_name,
            headers,
            attachments,
            in_reply_to: None,
            references: Vec::new(),
        };
        let count = draft.recipients().len();
        if given == 0 {
            errors.push(
                FieldError::new("to", "the message has no recipient")
                    .with_hint("give at least one address in `to`, `cc` or `bcc`"),
            );
        } else if count > MAX_RECIPIENTS {
            errors.push(
                FieldError::new(
                    "to",
                    format!("{count} recipients in `to`, `cc` and `bcc` together; Gmail accepts at most {MAX_RECIPIENTS} per message"),
                )
                .with_hint("split the recipients over several messages"),
            );
        }
        errors.collect(draft.check_size());
        errors.finish(|| draft)
    }
}

impl Draft {
    /// Everyone the message goes to: To, Cc and Bcc, in that order, each address once
    /// (compared ignoring case).
    pub fn recipients(&self) -> Vec<&EmailAddress> {
        let mut seen = std::collections::HashSet::new();
        self.to
            .iter()
            .chain(&self.cc)
            .chain(&self.bcc)
            .map(|m| &m.email)
            .filter(|e| seen.insert(e.as_str().to_lowercase()))
            .collect()
    }

    /// Bodies and attachments, decoded, within [`MAX_CONTENT_BYTES`].
    fn check_size(&self) -> Result<(), FieldError> {
        let files: usize = self.attachments.iter().map(|a| a.content.len()).sum();
        let bodies = [&self.text, &self.html]
            .iter()
            .filter_map(|b| b.as_ref().map(String::len))
            .sum::<usize>();
        let total = files.saturating_add(bodies);
        if total <= MAX_CONTENT_BYTES {
            return Ok(());
        }
        let field = match (files > 0, self.html.is_some()) {
            (true, _) => "attachments",
            (false, true) => "html",
            (false, false) => "text",
        };
        Err(FieldError::new(
            field,
            format!("the message's attachments and text come to {total} bytes; Gmail accepts at most 25 MB ({MAX_CONTENT_BYTES} bytes) per message"),
        )
        .with_hint("send fewer or smaller files (share large ones as links), or split the message"))
    }
}

fn is_body_error(e: &FieldError) -> bool {
    e.field == "text" || e.field == "html"
}

fn mailboxes(
    field: &str,
    list: Option<Vec<String>>,
    errors: &mut FieldErrors,
) -> Vec<DraftAddress> {
    let list = list.unwrap_or_default();
    let parsed = list
        .iter()
        .enumerate()
        .map(|(i, text)| DraftAddress::parse(&format!("{field}[{i}]"), text));
    parsed.filter_map(|r| errors.collect(r)).collect()
}

fn subject(subject: Option<String>) -> Result<String, FieldError> {
    let Some(subject) = subject else {
        return Err(FieldError::new("subject", "the subject is missing")
            .with_hint("give a subject; an empty string `\"\"` sends the message without one"));
    };
    parts::one_line("subject", &subject)?;
    let subject = subject.trim();
    if subject.chars().count() > MAX_SUBJECT_CHARS {
        return Err(FieldError::new(
            "subject",
            format!("the subject is longer than {MAX_SUBJECT_CHARS} characters"),
        )
        .with_hint("shorten the subject and put the rest in the body"));
    }
    Ok(subject.to_owned())
}

/// A body, `None` when absent or blank. Any character is allowed: mail-builder encodes.
fn body(field: &str, body: Option<String>, errors: &mut FieldErrors) -> Option<String> {
    let body = body.filter(|b| !b.trim().is_empty())?;
    if body.contains('\0') {
        errors.push(
            FieldError::new(field, "the body contains a NUL character")
                .with_hint("remove the NUL characters (\\u0000) from the body"),
        );
        return None;
    }
    Some(body)
}

fn from_name(name: Option<String>) -> Result<Option<String>, FieldError> {
    let Some(name) = name else { return Ok(None) };
    parts::one_line("from_name", &name)?;
    crate::server::parse_label("from_name", Some(&name))
}

/// `Vec<u8>` as standard base64 in JSON.
mod base64_bytes {
    use base64::Engine as _;
    use base64::engine::general_purpose::STANDARD;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(bytes: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&STANDARD.encode(bytes))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        let text = String::deserialize(d)?;
        STANDARD.decode(text).map_err(serde::de::Error::custom)
    }
}
