//! Raw bytes to [`ParsedMessage`]: total, with what was malformed listed as problems.

use std::borrow::Cow;
use std::collections::HashSet;

use mail_parser::{HeaderName, Message, MessagePart, MimeHeaders, PartType};

use super::address::{self, AddressList};
use super::charset::{
    decode_cp1252, decode_utf32, is_known_label, is_utf8_label, transcode_headers, utf8_or_cp1252,
    utf32_order,
};
use super::compose::MAX_SUBJECT_CHARS;
use super::encoded_words::decode_header_text;
use super::mime::{parse_mime, raw_headers, strip_id, transfer_decoded};
use super::problem::Problem;
use super::text::{clean_body, clean_line, html_to_text};
use super::{ParsedAddress, ParsedMessage, attachments, defects, dsn, msgids};

/// More problems than this are summed up in one line: a garbage message could list hundreds.
const MAX_PROBLEMS: usize = 20;
/// Charset labels are quoted in problems; a hostile one can be long.
const MAX_LABEL_CHARS: usize = 40;
/// Distinct multipart boundaries checked for their closing delimiter.
const MAX_BOUNDARY_SCANS: usize = 32;

/// Parses one message. Never panics, never fails: malformed mail is kept (the caller stores the
/// raw bytes and flags it), and what was wrong is in [`ParsedMessage::problems`].
pub fn parse(raw: &[u8]) -> ParsedMessage {
    let (deduplicated, mut problems) = defects::header_pass(raw);
    let (buffer, eight_bit) = transcode_headers(&deduplicated);
    problems.extend(eight_bit);
    let message = match parse_mime(&buffer) {
        Ok(Some(message)) => message,
        Ok(None) => return headerless(raw, Problem::NoHeaders, problems),
        Err(failed) => return headerless(raw, failed, problems),
    };
    let mut parsed = ParsedMessage::default();
    read_headers(&message, &mut parsed, &mut problems);
    let body_ids = body_parts(&message);
    read_bodies(&buffer, &message, &body_ids, &mut parsed, &mut problems);
    parsed.attachments = attachments::collect(raw, &buffer, &message, &body_ids);
    // What classifying needs of the MIME structure, read now rather than parsed again.
    parsed.headers = raw_headers(&message);
    parsed.report = dsn::from_report(&message);
    parsed.returned_message_id = dsn::original_message_id(&message);
    structure_problems(&buffer, &message, &mut problems);
    defects::body_problems(&buffer, &message, &mut problems);
    parsed.problems = summarise(problems);
    parsed
}

/// No header could be read: all there is, is text.
fn headerless(raw: &[u8], first: Problem, mut rest: Vec<Problem>) -> ParsedMessage {
    // Text read as headers has lines without a colon: that is what "no headers" says.
    rest.retain(|p| !matches!(p, Problem::LineWithoutColon(_)));
    rest.insert(0, first);
    ParsedMessage {
        text: clean_body(&utf8_or_cp1252(raw)),
        problems: summarise(rest),
        ..ParsedMessage::default()
    }
}

fn read_headers(message: &Message<'_>, parsed: &mut ParsedMessage, problems: &mut Vec<Problem>) {
    let has = |name: HeaderName<'_>| {
        let root = message.parts.first();
        root.is_some_and(|p| p.headers.iter().any(|h| h.name == name))
    };

    parsed.message_id = message.message_id().and_then(strip_id);
    parsed.in_reply_to = ids(message, HeaderName::InReplyTo);
    parsed.references = ids(message, HeaderName::References);
    // What is stored is cut to what a header line may hold (as for the subjects mailgate
    // sends); the raw message keeps it all.
    parsed.subject = first_value(message, "Subject")
        .map(|raw| {
            let (subject, found) = decode_header_text(&raw);
            problems.extend(found);
            clean_line(&subject)
                .chars()
                .take(MAX_SUBJECT_CHARS)
                .collect()
        })
        .unwrap_or_default();

    read_addresses(message, parsed, problems);

    let date = message.date().filter(|d| d.is_valid());
    parsed.date = date.and_then(|d| chrono::DateTime::from_timestamp(d.to_timestamp(), 0));
    if parsed.date.is_none() {
        problems.push(if has(HeaderName::Date) {
            Problem::BadDate
        } else {
            Problem::NoDate
        });
    }
}

/// Message IDs of In-Reply-To or References, `<>` stripped, in header order, read from the
/// raw values of every such field (see `msgids`: mail-parser misses the forms clients send).
/// A second field is read too rather than flagged: more ids are only more evidence.
fn ids(message: &Message<'_>, name: HeaderName<'_>) -> Vec<String> {
    let Some(root) = message.parts.first() else {
        return Vec::new();
    };
    let raw = message.raw_message.as_ref();
    let values: Vec<Cow<'_, str>> = root
        .headers
        .iter()
        .filter(|h| h.name == name)
        .filter_map(|h| raw.get(h.offset_start as usize..h.offset_end as usize))
        .map(String::from_utf8_lossy)
        .collect();
    msgids::message_ids(values.iter().map(AsRef::as_ref))
}

/// The headers the sender's address is looked for in, in order (the first that has one).
const SENDER_HEADERS: [&str; 4] = ["From", "Sender", "Reply-To", "Return-Path"];
/// What a problem quotes of a header value: it can be long.
const MAX_QUOTED_CHARS: usize = 80;

/// From (with its fallbacks), Reply-To, To and Cc, read by [`address::read`] from the raw
/// values of their first occurrences (RFC 5322 allows one each).
fn read_addresses(message: &Message<'_>, parsed: &mut ParsedMessage, problems: &mut Vec<Problem>) {
    let from_value = first_value(message, "From");
    let lists = SENDER_HEADERS.map(|name| match name {
        "From" => from_value.as_deref().map(address::read),
        _ => first_value(message, name).map(|v| address::read(&v)),
    });
    let [from, sender, reply_to, _] = &lists;
    // The name given with From's address, or, when it has none, what was written instead.
    let from_name = from
        .as_ref()
        .and_then(|list| match list.addressed().next() {
            Some((_, name)) => name,
            None => list.entries.iter().find_map(|e| e.name.as_deref()),
        })
        .and_then(decode_name);
    match from {
        None => problems.push(Problem::NoFrom),
        Some(list) => {
            let addresses = list.addressed().count();
            if addresses == 0 {
                // Something was written there, but no address: quoted, to see what.
                problems.push(match from_value.as_deref() {
                    Some(text) if !list.defects.is_empty() => {
                        Problem::FromNotAnAddress(quoted(text))
                    }
                    _ => Problem::FromWithoutAddress,
                });
            } else if !list.defects.is_empty() {
                let defects: Vec<String> = list.defects.iter().map(ToString::to_string).collect();
                problems.push(Problem::FromMalformed(defects.join(", ")));
            }
            if addresses > 1 && sender.is_none() {
                problems.push(Problem::SeveralFrom(addresses));
            }
        }
    }
    let taken = lists.iter().zip(SENDER_HEADERS).find_map(|(list, header)| {
        let (address, name) = list.as_ref()?.addressed().next()?;
        Some((header, address, name))
    });
    parsed.from = taken.map(|(header, address, name)| {
        if header != "From" {
            problems.push(Problem::SenderTakenFrom(header));
        }
        ParsedAddress {
            address: address.to_owned(),
            name: from_name.clone().or_else(|| name.and_then(decode_name)),
        }
    });
    if parsed.from.is_none() {
        problems.push(Problem::NoSenderAddress);
    }
    parsed.from_name = parsed.from.as_ref().map_or(from_name, |m| m.name.clone());
    parsed.reply_to = mailboxes(reply_to.as_ref());
    parsed.to = mailboxes(
        first_value(message, "To")
            .map(|v| address::read(&v))
            .as_ref(),
    );
    parsed.cc = mailboxes(
        first_value(message, "Cc")
            .map(|v| address::read(&v))
            .as_ref(),
    );
}

/// The raw value of the first top-level header field with this name, unfolded (line breaks
/// removed, the white space after them kept, as RFC 5322 section 2.2.3 unfolds).
fn first_value(message: &Message<'_>, name: &str) -> Option<String> {
    let root = message.parts.first()?;
    let header = root
        .headers
        .iter()
        .find(|h| h.name.as_str().eq_ignore_ascii_case(name))?;
    let raw = message
        .raw_message
        .get(header.offset_start as usize..header.offset_end as usize)?;
    Some(String::from_utf8_lossy(raw).replace(['\r', '\n'], ""))
}

fn mailboxes(list: Option<&AddressList>) -> Vec<ParsedAddress> {
    list.into_iter()
        .flat_map(AddressList::addressed)
        .map(|(address, name)| ParsedAddress {
            address: address.to_owned(),
            name: name.and_then(decode_name),
        })
        .collect()
}

/// A display name with its RFC 2047 encoded words decoded (`encoded_words`), on one line;
/// `None` when empty.
fn decode_name(name: &str) -> Option<String> {
    // The reader has taken the quotes off; what is left may hold encoded words, decoded
    // together when adjacent (a problem in a name is not worth a line of its own).
    let (decoded, _) = decode_header_text(name);
    let decoded = clean_line(&decoded);
    (!decoded.is_empty()).then_some(decoded)
}

/// Header text quoted in a problem: on one line, cut.
fn quoted(text: &str) -> String {
    clean_line(text).chars().take(MAX_QUOTED_CHARS).collect()
}

/// The parts read as the text body: mail-parser's, or, when it found none, the text parts it
/// set aside as attachments only because they are damaged (the one text part of a multipart
/// that is never closed): a truncated message still shows what it says.
fn body_parts(message: &Message<'_>) -> Vec<u32> {
    if !message.text_body.is_empty() || !message.html_body.is_empty() {
        return message.text_body.clone();
    }
    let stray = |id: &&u32| {
        message.parts.get(**id as usize).is_some_and(|part| {
            matches!(part.body, PartType::Text(_) | PartType::Html(_))
                && part.is_encoding_problem
                && part.attachment_name().is_none()
                && !part
                    .content_disposition()
                    .is_some_and(|d| d.is_attachment())
        })
    };
    message.attachments.iter().filter(stray).copied().collect()
}

fn read_bodies(
    buffer: &[u8],
    message: &Message<'_>,
    body_ids: &[u32],
    parsed: &mut ParsedMessage,
    problems: &mut Vec<Problem>,
) {
    let mut texts = Vec::new();
    for &id in body_ids {
        let Some(part) = message.parts.get(id as usize) else {
            continue;
        };
        match &part.body {
            PartType::Text(t) => {
                texts.push(checked_text(buffer, part, id, t, problems).into_owned())
            }
            PartType::Html(h) => {
                texts.push(html_to_text(&checked_text(buffer, part, id, h, problems)))
            }
            _ => {}
        }
    }
    parsed.text = clean_body(&texts.join("\n"));

    let mut htmls = Vec::new();
    for &id in &message.html_body {
        let Some(part) = message.parts.get(id as usize) else {
            continue;
        };
        if let PartType::Html(h) = &part.body {
            // Reported twice when also read as text: `summarise` keeps one.
            htmls.push(checked_text(buffer, part, id, h, problems).replace('\0', ""));
        }
    }
    parsed.html = (!htmls.is_empty()).then(|| htmls.join("\n"));
}

/// The text of a part as mail-parser decoded it, unless it was read as UTF-8 and was not: then
/// read again as windows-1252 (see `charset`), with the problem noted.
fn checked_text<'t>(
    buffer: &[u8],
    part: &MessagePart<'_>,
    id: u32,
    decoded: &'t str,
    problems: &mut Vec<Problem>,
) -> Cow<'t, str> {
    let label = part.content_type().and_then(|ct| ct.attribute("charset"));
    if let Some(order) = label.and_then(utf32_order) {
        return match transfer_decoded(buffer, part) {
            Some(bytes) => match decode_utf32(&bytes, order) {
                Some(text) => Cow::Owned(text),
                None => {
                    let label = label.unwrap_or_default().chars().take(MAX_LABEL_CHARS);
                    problems.push(Problem::NotUtf8 {
                        part: id as usize,
                        label: label.collect(),
                    });
                    Cow::Owned(decode_cp1252(&bytes))
                }
            },
            None => Cow::Borrowed(decoded),
        };
    }
    match label {
        Some(l) if !is_known_label(l) => {
            problems.push(Problem::UnknownCharset(
                l.chars().take(MAX_LABEL_CHARS).collect(),
            ));
        }
        Some(l) if !is_utf8_label(l) => return Cow::Borrowed(decoded),
        _ => {}
    }
    if !decoded.contains('\u{fffd}') {
        return Cow::Borrowed(decoded);
    }
    match transfer_decoded(buffer, part) {
        Some(bytes) if std::str::from_utf8(&bytes).is_err() => {
            let label = label.map_or("UTF-8".to_owned(), |l| {
                l.chars().take(MAX_LABEL_CHARS).collect()
            });
            problems.push(Problem::NotUtf8 {
                part: id as usize,
                label,
            });
            Cow::Owned(decode_cp1252(&bytes))
        }
        _ => Cow::Borrowed(decoded),
    }
}

/// Damage to the MIME structure: parts mail-parser had to recover, multiparts never closed.
fn structure_problems(buffer: &[u8], message: &Message<'_>, problems: &mut Vec<Problem>) {
    // Each distinct boundary costs a scan of the message; a hostile one may have thousands.
    let mut boundaries_checked = HashSet::new();
    for (i, part) in message.parts.iter().enumerate() {
        // A message of headers only is flagged by mail-parser, but is no damage.
        let headers_only = i == 0 && part.contents().is_empty();
        if part.is_encoding_problem && !headers_only {
            problems.push(Problem::BadPart(i));
        }
        let Some(ct) = part.content_type() else {
            continue;
        };
        if !ct.ctype().eq_ignore_ascii_case("multipart") {
            continue;
        }
        let Some(boundary) = ct.attribute("boundary") else {
            problems.push(Problem::NoBoundary);
            continue;
        };
        if boundaries_checked.len() >= MAX_BOUNDARY_SCANS || !boundaries_checked.insert(boundary) {
            continue;
        }
        let closing = format!("--{boundary}--");
        let rest = buffer.get(part.offset_body as usize..).unwrap_or_default();
        if !contains(rest, closing.as_bytes()) {
            let shown = boundary.chars().take(MAX_LABEL_CHARS).collect();
            problems.push(Problem::UnclosedMultipart(shown));
        }
    }
}

/// Linear in the haystack whatever the needle (a boundary may be long and self-similar, like
/// a run of dashes, which made a naive search cost size x boundary per scan).
fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    memchr::memmem::find(haystack, needle).is_some()
}

/// Distinct problems, in the order found, as sentences.
fn summarise(problems: Vec<Problem>) -> Vec<String> {
    let mut seen = HashSet::new();
    let mut out: Vec<String> = Vec::new();
    let mut more = 0usize;
    for p in problems.iter().map(ToString::to_string) {
        if !seen.insert(p.clone()) {
            continue;
        }
        if out.len() < MAX_PROBLEMS {
            out.push(p);
        } else {
            more += 1;
        }
    }
    if more > 0 {
        out.push(format!("... and {more} more problems"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contains_known_answers() {
        let dashes = vec![b'-'; 1 << 20];
        let mut closing = b"--".to_vec();
        closing.extend(std::iter::repeat_n(b'-', 198));
        closing.extend_from_slice(b"x--");
        assert!(!contains(&dashes, &closing));
        let mut closed = dashes.clone();
        closed.extend_from_slice(&closing);
        assert!(contains(&closed, &closing));
        assert!(contains(b"abc", b""));
        assert!(!contains(b"", b"a"));
    }
}
