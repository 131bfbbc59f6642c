//! The rules for the header-bound pieces of a draft: one-line values, extra headers and
//! attachments. Rendering reuses the checks on drafts read back from storage.

use std::collections::{BTreeMap, HashSet};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

use super::{AttachmentInput, DraftAttachment};
use crate::mail::sanitize_filename;
use crate::{FieldError, FieldErrors};

/// Headers mailgate writes itself, or that only servers write (trace and signature fields):
/// an extra header may not add a second one. `Content-*` and `Resent-*` are refused as
/// prefixes.
const STRUCTURAL: &[&str] = &[
    "from",
    "sender",
    "to",
    "cc",
    "bcc",
    "subject",
    "date",
    "message-id",
    "mime-version",
    "reply-to",
    "in-reply-to",
    "references",
    "x-loop",
    "return-path",
    "received",
    "dkim-signature",
    "domainkey-signature",
    "authentication-results",
    "received-spf",
    "delivered-to",
];
/// `ARC-Seal`, `ARC-Message-Signature`, `ARC-Authentication-Results`: a forged verdict of a
/// receiving server could make the recipients' filters trust the message.
const STRUCTURAL_PREFIXES: &[&str] = &["content-", "resent-", "arc-"];
/// So that `Name: ` and the value start on the first line.
const MAX_HEADER_NAME: usize = 76;
/// Unfoldable values (one long word) must stay under the 998-byte line limit.
const MAX_HEADER_VALUE: usize = 900;
const MAX_EXTRA_HEADERS: usize = 50;
/// Content-IDs and Message-IDs.
const MAX_ID: usize = 200;

/// Characters that would end a header line, or that have no business in one.
pub(crate) fn breaks_line(c: char) -> bool {
    c.is_control() || matches!(c, '\u{2028}' | '\u{2029}')
}

/// Refuses line breaks and control characters: the header-injection guard.
pub(super) fn one_line(field: &str, text: &str) -> Result<(), FieldError> {
    if text.chars().any(breaks_line) {
        return Err(FieldError::new(
            field,
            "line breaks and control characters are not allowed: they would start a new header",
        )
        .with_hint("write the value on one line, without control characters"));
    }
    Ok(())
}

/// RFC 5322 field name: printable US-ASCII except `:`, not too long for one line.
pub(super) fn is_field_name(name: &str) -> bool {
    (1..=MAX_HEADER_NAME).contains(&name.len())
        && name.bytes().all(|b| (33..=126).contains(&b) && b != b':')
}

/// Whether mailgate owns this header (see [`STRUCTURAL`]).
pub(super) fn is_structural(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    STRUCTURAL.contains(&lower.as_str()) || STRUCTURAL_PREFIXES.iter().any(|p| lower.starts_with(p))
}

const SERVER_ONLY: &str =
    "only mail servers write trace, signature and authentication results; remove it";

fn structural_hint(name: &str) -> &'static str {
    match name.to_ascii_lowercase().as_str() {
        "to" | "cc" | "bcc" => "give the recipients in the `to`, `cc` and `bcc` fields",
        "from" | "sender" => {
            "the server's address sends the message; set `from_name` to change the name shown"
        }
        "subject" => "give the subject in the `subject` field",
        "reply-to" => "give the address in the `reply_to` field",
        "in-reply-to" | "references" => {
            "mailgate sets these when the message replies to a ticket; remove the header"
        }
        "return-path"
        | "received"
        | "received-spf"
        | "delivered-to"
        | "dkim-signature"
        | "domainkey-signature"
        | "authentication-results" => SERVER_ONLY,
        n if n.starts_with("arc-") => SERVER_ONLY,
        _ => "mailgate writes this header itself; remove it",
    }
}

/// The extra headers, in name order.
pub(super) fn headers(
    input: BTreeMap<String, String>,
    errors: &mut FieldErrors,
) -> Vec<(String, String)> {
    if input.len() > MAX_EXTRA_HEADERS {
        errors.push(
            FieldError::new(
                "headers",
                format!(
                    "{} extra headers; at most {MAX_EXTRA_HEADERS} are allowed",
                    input.len()
                ),
            )
            .with_hint("keep only the headers the recipients' software needs"),
        );
        return Vec::new();
    }
    let checked = input.into_iter().map(|(name, value)| header(name, value));
    checked.filter_map(|r| errors.collect(r)).collect()
}

fn header(name: String, value: String) -> Result<(String, String), FieldError> {
    // The name lands in the field path: escaped, so a hostile one cannot break the answer.
    let field = format!("headers.{}", name.escape_debug());
    if !is_field_name(&name) {
        return Err(FieldError::new(&field, "not a header name").with_hint(format!(
            "use at most {MAX_HEADER_NAME} letters, digits and hyphens, such as X-Ticket-Id (no spaces, no `:`)"
        )));
    }
    if is_structural(&name) {
        return Err(
            FieldError::new(&field, format!("the {name} header cannot be set here"))
                .with_hint(structural_hint(&name)),
        );
    }
    one_line(&field, &value)?;
    let value = value.trim();
    if value.is_empty() {
        return Err(FieldError::new(&field, "the header has no value")
            .with_hint("give the header a value or leave it out"));
    }
    if value.chars().count() > MAX_HEADER_VALUE {
        return Err(FieldError::new(
            &field,
            format!("the value is longer than {MAX_HEADER_VALUE} characters"),
        )
        .with_hint("shorten the value"));
    }
    Ok((name, value.to_owned()))
}

/// The attachments, decoded. Content ids must be unique within the message.
pub(super) fn attachments(
    input: Vec<AttachmentInput>,
    errors: &mut FieldErrors,
) -> Vec<DraftAttachment> {
    let mut ids = HashSet::new();
    let mut out = Vec::with_capacity(input.len());
    for (i, a) in input.into_iter().enumerate() {
        let mut own = FieldErrors::new();
        let parsed = attachment(i, a, &mut own);
        if let Some(id) = parsed.as_ref().and_then(|p| p.content_id.as_deref())
            && !ids.insert(id.to_ascii_lowercase())
        {
            own.push(
                FieldError::new("content_id", "another attachment has the same content_id")
                    .with_hint("give each inline file its own content_id"),
            );
        }
        match parsed {
            Some(p) if own.is_empty() => out.push(p),
            _ => errors.extend_under(&format!("attachments[{i}]"), own),
        }
    }
    out
}

fn attachment(i: usize, a: AttachmentInput, errors: &mut FieldErrors) -> Option<DraftAttachment> {
    let content_type = errors.collect(content_type(a.content_type.as_deref()));
    let filename = errors.collect(filename(a.filename.as_deref()));
    let content = errors.collect(content(a.content_base64.as_deref()));
    let content_id = match a.content_id.as_deref() {
        Some(id) => errors.collect(content_id(id)).map(Some),
        None => Some(None),
    };
    let content_type = content_type?;
    Some(DraftAttachment {
        filename: sanitize_filename(&filename?, i + 1, &content_type),
        content_type,
        content: content?,
        content_id: content_id?,
    })
}

fn filename(name: Option<&str>) -> Result<String, FieldError> {
    let name = name.unwrap_or_default();
    one_line("filename", name)?;
    if name.trim().is_empty() {
        return Err(FieldError::new("filename", "a file name is required")
            .with_hint("give the name the recipient should see, such as invoice.pdf"));
    }
    Ok(name.trim().to_owned())
}

/// `type/subtype` made of RFC 2045 token characters, lower case; no parameters, no multipart
/// (mail-builder writes leaf parts only) and no message/* (which may not be base64-encoded).
pub(super) fn content_type(text: Option<&str>) -> Result<String, FieldError> {
    let text = text.map(str::trim).filter(|t| !t.is_empty());
    let Some(text) = text else {
        return Ok("application/octet-stream".to_owned());
    };
    let bad = |why: &str| {
        FieldError::new("content_type", format!("`{}` {why}", text.escape_debug()))
            .with_hint("give a media type such as application/pdf or image/png, without parameters")
    };
    let lower = text.to_ascii_lowercase();
    let shape_ok = lower
        .split_once('/')
        .is_some_and(|(t, s)| is_token(t) && is_token(s));
    if !shape_ok {
        return Err(bad("is not a media type of the form type/subtype"));
    }
    if lower.starts_with("multipart/") || lower.starts_with("message/") {
        return Err(
            bad("cannot be attached as a file").with_hint("attach it as application/octet-stream")
        );
    }
    Ok(lower)
}

fn is_token(s: &str) -> bool {
    (1..=127).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$&^_.+-".contains(&b))
}

fn content(base64: Option<&str>) -> Result<Vec<u8>, FieldError> {
    let Some(text) = base64 else {
        return Err(
            FieldError::new("content_base64", "the file's content is missing")
                .with_hint("give the file's bytes in standard base64"),
        );
    };
    // Encoders wrap lines at 76 characters (RFC 2045): whitespace is not part of the data.
    let compact: String = text.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    STANDARD.decode(compact).map_err(|e| {
        FieldError::new("content_base64", format!("not valid base64: {e}"))
            .with_hint("encode the file in standard base64 (A-Z, a-z, 0-9, + and /, padded with =)")
    })
}

/// A Content-ID or Message-ID without its `<>`: printable ASCII, no spaces or angle brackets.
pub(super) fn bare_id(text: &str) -> Option<&str> {
    let id = text.trim();
    let id = id
        .strip_prefix('<')
        .and_then(|i| i.strip_suffix('>'))
        .unwrap_or(id);
    let ok = (1..=MAX_ID).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_graphic() && b != b'<' && b != b'>');
    ok.then_some(id)
}

fn content_id(text: &str) -> Result<String, FieldError> {
    one_line("content_id", text)?;
    bare_id(text).map(str::to_owned).ok_or_else(|| {
        FieldError::new("content_id", format!("`{}` is not a content id", text.escape_debug()))
            .with_hint("use letters, digits and `.-_@` only, such as logo@example.com, and refer to it as cid:logo@example.com")
    })
}
