//! The seam to mail-parser: running it safely, reading headers and exact part bytes, and the
//! problems we report about a message.

use std::borrow::Cow;
use std::panic::{AssertUnwindSafe, catch_unwind};

use mail_parser::decoders::base64::base64_decode;
use mail_parser::decoders::quoted_printable::quoted_printable_decode;
use mail_parser::{Encoding, Message, MessageParser, MessagePart, PartType};

use super::problem::Problem;

/// Runs mail-parser. `Err` when it panicked: it is fuzzed upstream, but its debug assertions
/// and index arithmetic are not ours to trust with a mailbox that must never stop.
pub(crate) fn parse_mime(buffer: &[u8]) -> Result<Option<Message<'_>>, Problem> {
    catch_unwind(AssertUnwindSafe(|| MessageParser::default().parse(buffer)))
        .map_err(|_| Problem::ParserFailed)
}

/// The top-level header fields as (name, value), values unfolded and trimmed, in order.
pub(crate) fn raw_headers(message: &Message<'_>) -> Vec<(String, String)> {
    let Some(root) = message.parts.first() else {
        return Vec::new();
    };
    let raw = message.raw_message.as_ref();
    root.headers
        .iter()
        .map(|h| {
            let value = raw
                .get(h.offset_start as usize..h.offset_end as usize)
                .map(|v| unfold(&String::from_utf8_lossy(v)))
                .unwrap_or_default();
            (h.name.as_str().to_owned(), value)
        })
        .collect()
}

/// The values of every field with this (case-insensitive) name.
pub(crate) fn header_values<'h>(
    headers: &'h [(String, String)],
    name: &'h str,
) -> impl Iterator<Item = &'h str> + 'h {
    headers
        .iter()
        .filter(move |(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

/// The value of the first field with this (case-insensitive) name.
pub(crate) fn header_value<'h>(headers: &'h [(String, String)], name: &str) -> Option<&'h str> {
    headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

/// Joins folded lines and trims: "a\r\n  b" -> "a b".
pub(crate) fn unfold(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for (i, line) in value.split('\n').enumerate() {
        let line = line.trim_end_matches('\r');
        if i == 0 {
            out.push_str(line.trim_end());
        } else if !line.trim().is_empty() {
            out.push(' ');
            out.push_str(line.trim());
        }
    }
    out.trim().to_owned()
}

/// The body of a part after transfer decoding, before any charset conversion: the bytes as
/// sent. mail-parser keeps text parts only converted to UTF-8, so those are decoded again from
/// the raw message; `None` when that is impossible (the caller falls back to mail-parser's).
pub(crate) fn transfer_decoded<'b>(
    buffer: &'b [u8],
    part: &MessagePart<'_>,
) -> Option<Cow<'b, [u8]>> {
    let raw = buffer.get(part.offset_body as usize..part.offset_end as usize)?;
    match part.encoding {
        Encoding::None => Some(Cow::Borrowed(raw)),
        Encoding::Base64 => base64_decode(raw).map(Cow::Owned),
        Encoding::QuotedPrintable => quoted_printable_decode(raw).map(Cow::Owned),
    }
}

/// The bytes of a part as an attachment, and whether they are exactly as sent (`false` when a
/// text part could only be had converted to UTF-8).
pub(crate) fn part_bytes(buffer: &[u8], part: &MessagePart<'_>) -> (Vec<u8>, bool) {
    match &part.body {
        PartType::Binary(b) | PartType::InlineBinary(b) => (b.to_vec(), true),
        PartType::Text(_) | PartType::Html(_) | PartType::Message(_) => {
            match transfer_decoded(buffer, part) {
                Some(bytes) => (bytes.into_owned(), true),
                None => (part.contents().to_vec(), false),
            }
        }
        PartType::Multipart(_) => (Vec::new(), true),
    }
}

/// A message ID without `<>`; `None` when empty or not one token (a `<`, `>`, space or
/// control character inside).
pub(crate) fn strip_id(id: &str) -> Option<String> {
    let id = id
        .trim()
        .trim_start_matches('<')
        .trim_end_matches('>')
        .trim();
    let bad = |c: char| c.is_whitespace() || c.is_control() || c == '<' || c == '>';
    (!id.is_empty() && !id.contains(bad)).then(|| id.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unfold_known_answers() {
        for (input, want) in [
            ("a", "a"),
            (" a \r\n\tb\r\n", "a b"),
            ("smtp; 550 x\n    rejected: y", "smtp; 550 x rejected: y"),
            ("", ""),
        ] {
            assert_eq!(unfold(input), want, "{input:?}");
        }
    }

    #[test]
    fn strip_id_known_answers() {
        assert_eq!(strip_id(" <a@b> ").as_deref(), Some("a@b"));
        assert_eq!(strip_id("a@b").as_deref(), Some("a@b"));
        assert_eq!(strip_id("<>"), None);
        assert_eq!(strip_id("<a b@c>"), None);
        assert_eq!(strip_id("<a<b@c>"), None);
    }
}
