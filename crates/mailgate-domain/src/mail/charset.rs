//! Charset tolerances: what we do with bytes that are not what their labels say.
//!
//! Each tolerance is reported as a problem, never applied silently (STYLE.md habit 11):
//! - header fields with raw 8-bit bytes that are not UTF-8 (RFC 6532 allows UTF-8 only) are
//!   read as windows-1252, the charset such mail almost always comes from;
//! - text bodies labelled UTF-8, unlabelled or labelled with an unknown charset whose bytes are
//!   not UTF-8 are read as windows-1252 too, rather than as replacement characters.

use std::borrow::Cow;

use super::problem::Problem;

/// windows-1252 bytes 0x80..=0x9F; the rest of the range is ISO-8859-1, i.e. the code point.
/// The five unassigned bytes map to their C1 control, as the WHATWG encoding standard does.
const CP1252_HIGH: [char; 32] = [
    '\u{20AC}', '\u{0081}', '\u{201A}', '\u{0192}', '\u{201E}', '\u{2026}', '\u{2020}', '\u{2021}',
    '\u{02C6}', '\u{2030}', '\u{0160}', '\u{2039}', '\u{0152}', '\u{008D}', '\u{017D}', '\u{008F}',
    '\u{0090}', '\u{2018}', '\u{2019}', '\u{201C}', '\u{201D}', '\u{2022}', '\u{2013}', '\u{2014}',
    '\u{02DC}', '\u{2122}', '\u{0161}', '\u{203A}', '\u{0153}', '\u{009D}', '\u{017E}', '\u{0178}',
];

/// Decodes windows-1252 (which never fails: every byte is a character).
pub(crate) fn decode_cp1252(bytes: &[u8]) -> String {
    bytes
        .iter()
        .map(|&b| match b {
            0x80..=0x9F => CP1252_HIGH[usize::from(b - 0x80)],
            _ => char::from(b),
        })
        .collect()
}

/// UTF-8 as is, otherwise windows-1252.
pub(crate) fn utf8_or_cp1252(bytes: &[u8]) -> Cow<'_, str> {
    match std::str::from_utf8(bytes) {
        Ok(s) => Cow::Borrowed(s),
        Err(_) => Cow::Owned(decode_cp1252(bytes)),
    }
}

/// Labels of UTF-8 (mail-parser has no decoder for them: it reads such text as UTF-8 itself).
pub(crate) fn is_utf8_label(label: &str) -> bool {
    let l = label
        .trim()
        .trim_matches('"')
        .to_ascii_lowercase()
        .replace('_', "-");
    matches!(
        l.as_str(),
        "utf-8"
            | "utf8"
            | "unicode-1-1-utf-8"
            | "unicode11utf8"
            | "unicode20utf8"
            | "x-unicode20utf8"
    )
}

/// Whether a charset label is known: mail-parser decodes it, or we do (UTF-32).
pub(crate) fn is_known_label(label: &str) -> bool {
    is_utf8_label(label)
        || utf32_order(label).is_some()
        || mail_parser::decoders::charsets::map::charset_decoder(label.trim().as_bytes()).is_some()
}

/// Byte orders of UTF-32.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Utf32 {
    /// `UTF-32`: the byte order mark says, big-endian without one (as the Unicode standard
    /// has it), little-endian when only that reads.
    Either,
    Little,
    Big,
}

/// The byte order a UTF-32 label names; `None` for other charsets (mail-parser has no UTF-32
/// decoder: it would read such text as garbage).
pub(crate) fn utf32_order(label: &str) -> Option<Utf32> {
    let l = label
        .trim()
        .trim_matches('"')
        .to_ascii_lowercase()
        .replace('_', "-");
    match l.as_str() {
        "utf-32" | "utf32" | "ucs-4" | "ucs4" | "iso-10646-ucs-4" => Some(Utf32::Either),
        "utf-32le" | "utf32le" => Some(Utf32::Little),
        "utf-32be" | "utf32be" => Some(Utf32::Big),
        _ => None,
    }
}

/// Decodes UTF-32 (a leading byte order mark dropped); `None` when the bytes are not UTF-32.
pub(crate) fn decode_utf32(bytes: &[u8], order: Utf32) -> Option<String> {
    const LE_BOM: &[u8] = &[0xff, 0xfe, 0, 0];
    const BE_BOM: &[u8] = &[0, 0, 0xfe, 0xff];
    let read = |bytes: &[u8], little: bool| -> Option<String> {
        if !bytes.len().is_multiple_of(4) {
            return None;
        }
        let unit = |c: &[u8]| {
            let c = [c[0], c[1], c[2], c[3]];
            char::from_u32(if little {
                u32::from_le_bytes(c)
            } else {
                u32::from_be_bytes(c)
            })
        };
        bytes.chunks_exact(4).map(unit).collect()
    };
    match order {
        Utf32::Little => read(bytes.strip_prefix(LE_BOM).unwrap_or(bytes), true),
        Utf32::Big => read(bytes.strip_prefix(BE_BOM).unwrap_or(bytes), false),
        Utf32::Either => match (bytes.strip_prefix(LE_BOM), bytes.strip_prefix(BE_BOM)) {
            (Some(rest), _) => read(rest, true),
            (_, Some(rest)) => read(rest, false),
            _ => read(bytes, false).or_else(|| read(bytes, true)),
        },
    }
}

/// The length of the header section of `raw`, up to and including the empty line that ends it
/// (all of `raw` when there is no empty line).
pub(crate) fn header_section_len(raw: &[u8]) -> usize {
    let mut pos = 0;
    for line in raw.split_inclusive(|&b| b == b'\n') {
        pos += line.len();
        if line == b"\n" || line == b"\r\n" {
            return pos;
        }
    }
    raw.len()
}

/// Rewrites the top-level header fields that carry raw 8-bit bytes which are not UTF-8 into
/// UTF-8 (read as windows-1252), so that mail-parser decodes them instead of replacing every
/// such byte with U+FFFD. The body is left untouched. Borrowed when nothing needed rewriting.
pub(crate) fn transcode_headers(raw: &[u8]) -> (Cow<'_, [u8]>, Vec<Problem>) {
    let header_len = header_section_len(raw);
    let (head, body) = raw.split_at(header_len);
    if std::str::from_utf8(head).is_ok() {
        return (Cow::Borrowed(raw), Vec::new());
    }
    let mut problems = Vec::new();
    let mut out = Vec::with_capacity(raw.len() + raw.len() / 8);
    for field in header_fields(head) {
        if std::str::from_utf8(field).is_ok() {
            out.extend_from_slice(field);
        } else {
            problems.push(Problem::EightBitHeader(field_name(field)));
            out.extend_from_slice(decode_cp1252(field).as_bytes());
        }
    }
    out.extend_from_slice(body);
    (Cow::Owned(out), problems)
}

/// Header fields (a line and its folded continuation lines), each with its line ends.
pub(crate) fn header_fields(head: &[u8]) -> impl Iterator<Item = &[u8]> {
    let mut rest = head;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        let mut end = 0;
        for line in rest.split_inclusive(|&b| b == b'\n') {
            let continues = end > 0 && matches!(line.first(), Some(b' ' | b'\t'));
            if end > 0 && !continues {
                break;
            }
            end += line.len();
        }
        let (field, tail) = rest.split_at(end);
        rest = tail;
        Some(field)
    })
}

/// The name of a header field when it looks like one, for the problem sentence.
fn field_name(field: &[u8]) -> Option<String> {
    let colon = field.iter().position(|&b| b == b':')?;
    let name = &field[..colon];
    let is_token = !name.is_empty()
        && name.len() <= 76
        && name.iter().all(|b| b.is_ascii_graphic() && *b != b':');
    is_token.then(|| String::from_utf8_lossy(name).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cp1252_known_answers() {
        let cases: &[(&[u8], &str)] = &[
            (b"plain", "plain"),
            (b"\x80 \x93q\x94 \x96 \x85", "€ “q” – …"),
            (b"Gr\xfc\xdfe", "Grüße"),
            (b"\x81\x8d\x8f\x90\x9d", "\u{81}\u{8d}\u{8f}\u{90}\u{9d}"),
            (b"\xff\xa0", "ÿ\u{a0}"),
        ];
        for (bytes, want) in cases {
            assert_eq!(decode_cp1252(bytes), *want, "{bytes:?}");
        }
    }

    #[test]
    fn only_non_utf8_header_fields_are_rewritten() {
        let raw =
            b"Subject: caf\xc3\xa9\nFrom: J\xfcrgen <j@x.de>\nX-Folded: a\n b\xe9\n\nbody \xfc";
        let (out, problems) = transcode_headers(raw);
        assert_eq!(
            out.as_ref(),
            "Subject: café\nFrom: Jürgen <j@x.de>\nX-Folded: a\n bé\n\nbody "
                .as_bytes()
                .iter()
                .chain(b"\xfc")
                .copied()
                .collect::<Vec<_>>()
                .as_slice()
        );
        assert_eq!(
            problems,
            [
                Problem::EightBitHeader(Some("From".into())),
                Problem::EightBitHeader(Some("X-Folded".into()))
            ]
        );
        let clean = b"Subject: ok\n\n\xff";
        assert!(matches!(transcode_headers(clean).0, Cow::Borrowed(_)));
    }

    #[test]
    fn utf32_known_answers() {
        let be: Vec<u8> = "Kö€😀"
            .chars()
            .flat_map(|c| u32::from(c).to_be_bytes())
            .collect();
        let le: Vec<u8> = "Kö€😀"
            .chars()
            .flat_map(|c| u32::from(c).to_le_bytes())
            .collect();
        let with_bom = |bom: &[u8], text: &[u8]| [bom, text].concat();
        let cases: &[(&[u8], Utf32, Option<&str>)] = &[
            (&be, Utf32::Big, Some("Kö€😀")),
            (&le, Utf32::Little, Some("Kö€😀")),
            (&be, Utf32::Either, Some("Kö€😀")),
            (&le, Utf32::Either, Some("Kö€😀")),
            (
                &with_bom(&[0xff, 0xfe, 0, 0], &le),
                Utf32::Either,
                Some("Kö€😀"),
            ),
            (
                &with_bom(&[0, 0, 0xfe, 0xff], &be),
                Utf32::Either,
                Some("Kö€😀"),
            ),
            (&be[..5], Utf32::Big, None),
            (&[0, 0x11, 0, 0], Utf32::Big, None),
            (b"", Utf32::Either, Some("")),
        ];
        for (bytes, order, want) in cases {
            assert_eq!(
                decode_utf32(bytes, *order).as_deref(),
                *want,
                "{bytes:?} {order:?}"
            );
        }
        assert_eq!(utf32_order("UTF-32LE"), Some(Utf32::Little));
        assert_eq!(utf32_order("\"utf_32\""), Some(Utf32::Either));
        assert_eq!(utf32_order("utf-16"), None);
    }

    #[test]
    fn labels() {
        assert!(is_utf8_label("UTF-8") && is_utf8_label("\"utf8\"") && !is_utf8_label("latin1"));
        assert!(is_known_label("ISO-8859-1") && is_known_label("windows-1252"));
        assert!(!is_known_label("x-unknown-charset"));
        assert!(is_known_label("UTF-32") && is_known_label("utf-32be"));
    }
}
