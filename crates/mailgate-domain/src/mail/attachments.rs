//! Attachments: their exact bytes, a content type safe to serve, and a file name safe to
//! store (mail-parser hands names over as the sender wrote them: `../../etc/passwd`).

use mail_parser::{Encoding, Message, MessagePart, MimeHeaders, PartType};

use super::mime::{part_bytes, strip_id};
use super::{Attachment, PartEncoding, RawPart};

const MAX_CHARS: usize = 200;
const MAX_BYTES: usize = 255;
/// Extensions longer than this are not kept apart when a long name is shortened.
const MAX_EXTENSION_CHARS: usize = 16;

/// The attachments of a message, in MIME order. `buffer` is what mail-parser read (`raw`
/// with its headers perhaps rewritten).
pub(crate) fn collect(raw: &[u8], buffer: &[u8], message: &Message<'_>) -> Vec<Attachment> {
    let parts = message.attachments.iter();
    let parts = parts.filter_map(|&id| message.parts.get(id as usize));
    parts
        .filter(|part| !matches!(part.body, PartType::Multipart(_)))
        .enumerate()
        .map(|(i, part)| attachment(raw, buffer, part, i + 1))
        .collect()
}

fn attachment(raw: &[u8], buffer: &[u8], part: &MessagePart<'_>, number: usize) -> Attachment {
    let (content, exact) = part_bytes(buffer, part);
    let in_raw = in_raw(raw, buffer.len(), part, &content);
    let content_type = content_type(part, exact);
    let name = match (part.attachment_name(), &part.body) {
        (Some(name), _) => Some(name.to_owned()),
        (None, PartType::Message(nested)) => nested.subject().map(|s| format!("{s}.eml")),
        (None, _) => None,
    };
    let disposition_inline = part.content_disposition().is_some_and(|d| d.is_inline());
    Attachment {
        filename: sanitize_filename(name.as_deref().unwrap_or_default(), number, &content_type),
        content_type,
        content,
        inline: disposition_inline || matches!(part.body, PartType::InlineBinary(_)),
        content_id: part.content_id().and_then(strip_id),
        in_raw,
    }
}

/// Where `content` stands in `raw`, if decoding the part's bytes there gives it exactly. The
/// part's offsets are into mail-parser's buffer (`buffer_len` bytes), which differs from `raw`
/// in its top-level header section only: the body is the same bytes at the end of both, so an
/// offset in it moves by the difference in length. (The check still guards the rest.)
fn in_raw(
    raw: &[u8],
    buffer_len: usize,
    part: &MessagePart<'_>,
    content: &[u8],
) -> Option<RawPart> {
    let moved = |at: u32| (at as usize + raw.len()).checked_sub(buffer_len);
    let (offset, end) = (moved(part.offset_body)?, moved(part.offset_end)?);
    let encoded = raw.get(offset..end)?;
    let encoding = match part.encoding {
        Encoding::None => PartEncoding::Identity,
        Encoding::Base64 => PartEncoding::Base64,
        Encoding::QuotedPrintable => return None,
    };
    encoding.decodes_to(encoded, content).then_some(RawPart {
        offset,
        length: end - offset,
        encoding,
    })
}

/// `type/subtype` in lower case from the part's Content-Type, or from what the part holds
/// when that is missing or not made of token characters (it ends up in an HTTP header).
/// Text types keep their charset when the bytes are as sent; converted ones are UTF-8.
fn content_type(part: &MessagePart<'_>, exact: bool) -> String {
    let default = match part.body {
        PartType::Text(_) => "text/plain",
        PartType::Html(_) => "text/html",
        PartType::Message(_) => "message/rfc822",
        _ => "application/octet-stream",
    };
    let Some(ct) = part.content_type() else {
        return default.to_owned();
    };
    let ty = match ct.subtype() {
        Some(sub) if is_token(ct.ctype()) && is_token(sub) => {
            format!("{}/{}", ct.ctype(), sub).to_ascii_lowercase()
        }
        _ => return default.to_owned(),
    };
    if !ty.starts_with("text/") {
        return ty;
    }
    match ct.attribute("charset") {
        _ if !exact => format!("{ty}; charset=utf-8"),
        Some(cs) if is_token(cs) => format!("{ty}; charset={}", cs.to_ascii_lowercase()),
        _ => ty,
    }
}

fn is_token(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 127
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$&^_.+-".contains(&b))
}

/// A file name that is safe to store and to offer for download: the last path component of
/// `name`, without control, bidi-override or Windows-reserved characters, leading dots
/// (hidden files, `..`) and trailing dots or spaces; Windows device names get a `_` prefix;
/// at most 200 characters and 255 bytes, keeping the extension when shortened. When nothing
/// is left: `attachment-{number}.{extension for content_type}`.
pub fn sanitize_filename(name: &str, number: usize, content_type: &str) -> String {
    let last = name.rsplit(['/', '\\']).next().unwrap_or_default();
    let cleaned: String = last
        .chars()
        .filter(|&c| !c.is_control() && !is_invisible_format(c))
        .map(|c| if "<>:\"|?*".contains(c) { '_' } else { c })
        .collect();
    let trimmed = cleaned
        .trim()
        .trim_start_matches('.')
        .trim_end_matches(['.', ' '])
        .trim_start();
    if trimmed.is_empty() {
        return format!("attachment-{number}.{}", extension_for(content_type));
    }
    let name = if is_windows_device(trimmed) {
        format!("_{trimmed}")
    } else {
        trimmed.to_owned()
    };
    shorten(&name)
}

/// Zero-width and bidi formatting characters: invisible, and used to disguise `exe` as `pdf`.
fn is_invisible_format(c: char) -> bool {
    matches!(c, '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2060}'..='\u{2069}'
        | '\u{061C}' | '\u{FEFF}' | '\u{FFF9}'..='\u{FFFB}')
}

fn is_windows_device(name: &str) -> bool {
    let stem = name
        .split('.')
        .next()
        .unwrap_or_default()
        .trim_end()
        .to_ascii_uppercase();
    matches!(stem.as_str(), "CON" | "PRN" | "AUX" | "NUL")
        || (stem.len() == 4
            && (stem.starts_with("COM") || stem.starts_with("LPT"))
            && stem.as_bytes()[3].is_ascii_digit())
}

fn fits(s: &str) -> bool {
    s.chars().count() <= MAX_CHARS && s.len() <= MAX_BYTES
}

fn shorten(name: &str) -> String {
    if fits(name) {
        return name.to_owned();
    }
    let (stem, ext) = match name.rsplit_once('.') {
        Some((stem, ext))
            if !stem.is_empty()
                && !ext.is_empty()
                && ext.chars().count() <= MAX_EXTENSION_CHARS =>
        {
            (stem, format!(".{ext}"))
        }
        _ => (name, String::new()),
    };
    let mut out = String::new();
    for c in stem.chars() {
        out.push(c);
        if !fits(&format!("{out}{ext}")) {
            out.pop();
            break;
        }
    }
    let out = out.trim_end_matches(['.', ' ']);
    format!("{out}{ext}")
}

/// An extension for a name-less attachment, so that it opens with the right program.
fn extension_for(content_type: &str) -> &'static str {
    let ty = content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    match ty.as_str() {
        "text/plain"
        | "message/delivery-status"
        | "message/global-delivery-status"
        | "text/rfc822-headers"
        | "message/disposition-notification" => "txt",
        "text/html" => "html",
        "text/csv" => "csv",
        "text/calendar" => "ics",
        "message/rfc822" | "message/global" => "eml",
        "application/pdf" => "pdf",
        "application/zip" => "zip",
        "application/json" => "json",
        "application/xml" | "text/xml" => "xml",
        "application/msword" => "doc",
        "application/vnd.ms-excel" => "xls",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document" => "docx",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" => "xlsx",
        "application/vnd.openxmlformats-officedocument.presentationml.presentation" => "pptx",
        "image/png" => "png",
        "image/jpeg" | "image/jpg" => "jpg",
        "image/gif" => "gif",
        "image/webp" => "webp",
        "image/svg+xml" => "svg",
        _ => "bin",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sanitize_known_answers() {
        let long = "a".repeat(300);
        let long_ext = format!("{long}.pdf");
        let want_long_ext = format!("{}.pdf", "a".repeat(196));
        let wide = "€".repeat(150);
        let cases: &[(&str, &str, &str)] = &[
            ("report.pdf", "application/pdf", "report.pdf"),
            ("../../etc/passwd", "text/plain", "passwd"),
            ("..\\..\\windows\\win.ini", "text/plain", "win.ini"),
            ("C:\\Users\\me\\Desktop\\a b.doc", "", "a b.doc"),
            ("/", "application/pdf", "attachment-7.pdf"),
            ("..", "text/plain", "attachment-7.txt"),
            (".", "", "attachment-7.bin"),
            ("", "image/jpeg; name=x", "attachment-7.jpg"),
            ("...", "message/rfc822", "attachment-7.eml"),
            (".htaccess", "", "htaccess"),
            ("  spaced name.txt  ", "", "spaced name.txt"),
            ("trailing. . .", "", "trailing"),
            ("a\0b\r\nc\u{7f}\u{85}.txt", "", "abc.txt"),
            ("invoice\u{202E}fdp.exe", "", "invoicefdp.exe"),
            ("zero\u{200B}width.txt", "", "zerowidth.txt"),
            ("what?<>:\"|*.txt", "", "what_______.txt"),
            ("CON", "", "_CON"),
            ("com1.txt", "", "_com1.txt"),
            ("console.txt", "", "console.txt"),
            ("Übersicht März €.pdf", "", "Übersicht März €.pdf"),
            (&long_ext, "", &want_long_ext),
        ];
        for (name, ct, want) in cases {
            assert_eq!(sanitize_filename(name, 7, ct), *want, "{name:?}");
        }
        assert_eq!(sanitize_filename(&long, 1, "").chars().count(), 200);
        let wide = sanitize_filename(&wide, 1, "");
        assert!(
            wide.len() <= 255 && wide.chars().all(|c| c == '€'),
            "{wide}"
        );
    }
}
