//! Attachments: their exact bytes, a content type safe to serve, and a file name safe to
//! store (mail-parser hands names over as the sender wrote them: `../../etc/passwd`).

use mail_parser::{Encoding, Message, MessagePart, MimeHeaders, PartType};

use super::mime::{part_bytes, strip_id};
use super::{Attachment, PartEncoding, RawPart};

const MAX_CHARS: usize = 200;
const MAX_BYTES: usize = 255;
/// Extensions longer than this are not kept apart when a long name is shortened.
const MAX_EXTENSION_CHARS: usize = 16;

/// The attachments of a message, in MIME order, but for the parts read as its body. `buffer`
/// is what mail-parser read (`raw` with its headers perhaps rewritten).
pub(crate) fn collect(
    raw: &[u8],
    buffer: &[u8],
    message: &Message<'_>,
    body: &[u32],
) -> Vec<Attachment> {
    let parts = message.attachments.iter().filter(|id| !body.contains(id));
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

/// A file name that is safe to store and to offer for download on every system: the last path
/// component of `name`, without C0/C1 control characters, Unicode line and paragraph
/// separators, bidi controls, zero-width characters, Windows-reserved characters (`<>:"|?*`),
/// leading dots (hidden files, `..`) and trailing dots or spaces (which Windows strips);
/// Windows device names (`CON`, `nul.txt`, `COM¹.txt`, `conin$`, see [`is_windows_device`])
/// get a `_` prefix; at most 200 characters and 255 bytes, keeping the extension when
/// shortened. When nothing is left: `attachment-{number}.{extension for content_type}`.
pub fn sanitize_filename(name: &str, number: usize, content_type: &str) -> String {
    let last = name.rsplit(['/', '\\']).next().unwrap_or_default();
    let cleaned: String = last
        .chars()
        .filter(|&c| !c.is_control() && !is_invisible_format(c))
        .map(|c| if "<>:\"|?*".contains(c) { '_' } else { c })
        .collect();
    let dot_or_space = |c: char| c == '.' || c.is_whitespace();
    let trimmed = cleaned
        .trim_start_matches(dot_or_space)
        .trim_end_matches(dot_or_space);
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

/// Zero-width and bidi formatting characters (invisible, and used to disguise `exe` as
/// `pdf`), and the Unicode line and paragraph separators (a line break in a download dialog).
/// C0 and C1 controls are `char::is_control`.
fn is_invisible_format(c: char) -> bool {
    matches!(c, '\u{200B}'..='\u{200F}' | '\u{2028}'..='\u{202E}' | '\u{2060}'..='\u{2069}'
        | '\u{061C}' | '\u{FEFF}' | '\u{FFF9}'..='\u{FFFB}')
}

/// A name Windows opens as a device rather than a file (Microsoft, "Naming Files, Paths, and
/// Namespaces", and CreateFile's console names): `CON`, `PRN`, `AUX`, `NUL`, `COM0`-`COM9`,
/// `LPT0`-`LPT9`, the superscript forms `COM¹`-`COM³` and `LPT¹`-`LPT³`, `CONIN$` and
/// `CONOUT$`, in any case, alone or followed by an extension (`NUL.tar.gz` is `NUL`), with
/// the spaces before the extension that Windows strips (`CON .txt`). Called on names whose
/// trailing dots and spaces are already gone.
fn is_windows_device(name: &str) -> bool {
    let stem = name
        .split('.')
        .next()
        .unwrap_or_default()
        .trim_end_matches(' ');
    let upper = stem.to_ascii_uppercase();
    match upper.as_str() {
        "CON" | "PRN" | "AUX" | "NUL" | "CONIN$" | "CONOUT$" => true,
        _ => {
            let port = upper
                .strip_prefix("COM")
                .or_else(|| upper.strip_prefix("LPT"));
            let mut digit = port.unwrap_or_default().chars();
            matches!(
                (digit.next(), digit.next()),
                (Some('0'..='9' | '\u{B9}' | '\u{B2}' | '\u{B3}'), None)
            )
        }
    }
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
            // Windows reserved names: every form, with what Windows strips.
            ("COM¹.txt", "", "_COM¹.txt"),
            ("lpt³", "", "_lpt³"),
            ("Com².tar.gz", "", "_Com².tar.gz"),
            ("conin$", "", "_conin$"),
            ("CONOUT$.log", "", "_CONOUT$.log"),
            ("com0", "", "_com0"),
            ("LPT0.txt", "", "_LPT0.txt"),
            ("nul.", "", "_nul"),
            ("aux. . ", "", "_aux"),
            ("prn .txt", "", "_prn .txt"),
            ("CON\u{200B}.txt", "", "_CON.txt"),
            ("C:\\dir\\AUX.pdf", "", "_AUX.pdf"),
            ("com10.txt", "", "com10.txt"),
            ("com⁴.txt", "", "com⁴.txt"),
            ("lpt.txt", "", "lpt.txt"),
            ("conin.txt", "", "conin.txt"),
            ("xcon", "", "xcon"),
            // Separators, bidi and zero-width characters, C0/C1 controls.
            ("line\u{2028}sep\u{2029}.txt", "", "linesep.txt"),
            (
                "rtl\u{200F}\u{200E}\u{061C}\u{2066}\u{2069}.txt",
                "",
                "rtl.txt",
            ),
            ("zw\u{200C}\u{200D}\u{2060}\u{FEFF}.txt", "", "zw.txt"),
            ("c0\u{1}\u{1f}c1\u{80}\u{9f}.txt", "", "c0c1.txt"),
            ("name.txt\u{2028}", "", "name.txt"),
            ("dots.\u{200B}.", "", "dots"),
            (". .hidden", "", "hidden"),
            ("end. \u{A0}.", "", "end"),
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
