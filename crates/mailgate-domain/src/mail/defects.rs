//! Defects mail-parser reads past without a word, found on the bytes themselves: a singular
//! header field sent twice, a header section over [`MAX_HEADER_SECTION`], header lines without
//! a colon, bare CRs, invalid base64 and truncated or invalid quoted-printable bodies.
//!
//! Each is reported as a problem. Where a header field that RFC 5322 (section 3.6) and RFC 2045
//! allow once appears again, the FIRST is kept: the later ones are dropped from the buffer
//! mail-parser reads (which would take the last), never from the raw message, which is stored
//! as it came. Every check is one pass over the bytes it looks at.

use std::borrow::Cow;

use mail_parser::{HeaderName, Message, MessagePart, MimeHeaders, PartType};

use super::charset::{header_fields, header_section_len};
use super::problem::{Base64Defect, MAX_HEADER_SECTION, Problem};

/// The header fields that may appear at most once (RFC 5322 section 3.6 and RFC 2045), as
/// named in problems.
const SINGULAR: [&str; 14] = [
    "From",
    "Sender",
    "Reply-To",
    "To",
    "Cc",
    "Bcc",
    "Message-ID",
    "In-Reply-To",
    "References",
    "Subject",
    "Date",
    "MIME-Version",
    "Content-Type",
    "Content-Transfer-Encoding",
];

/// The pre-pass over the top-level header section of `raw`: its problems, and the bytes
/// mail-parser should read (borrowed when nothing was dropped).
pub(crate) fn header_pass(raw: &[u8]) -> (Cow<'_, [u8]>, Vec<Problem>) {
    let head_len = header_section_len(raw);
    let (head, body) = raw.split_at(head_len);
    let mut problems = Vec::new();
    if head_len > MAX_HEADER_SECTION {
        problems.push(Problem::HeaderSectionTooLarge(head_len));
    }
    if has_bare_cr(head) {
        problems.push(Problem::BareCr(None));
    }
    let mut seen = [0u32; SINGULAR.len()];
    let mut kept: Option<Vec<u8>> = None;
    let (mut start, mut line) = (0, 1);
    let mut colonless = false;
    for (i, field) in header_fields(head).enumerate() {
        let first_line = field.split(|&b| b == b'\n').next().unwrap_or_default();
        let duplicate = match first_line.iter().position(|&b| b == b':') {
            Some(colon) => singular(&first_line[..colon]).filter(|&s| {
                seen[s] = seen[s].saturating_add(1);
                seen[s] > 1
            }),
            None => {
                // The empty line ending the section, a blank line (where mail-parser ends the
                // section too) and an mbox `From ` line heading the message are no field.
                let blank = first_line.iter().all(u8::is_ascii_whitespace);
                let mbox = i == 0 && first_line.starts_with(b"From ");
                if !blank && !mbox && !colonless {
                    // The first is named; a garbage message would have thousands.
                    problems.push(Problem::LineWithoutColon(line));
                    colonless = true;
                }
                None
            }
        };
        match duplicate {
            Some(s) => {
                // Once per name: a hostile message may repeat one a million times.
                if seen[s] == 2 {
                    problems.push(Problem::DuplicateHeader(SINGULAR[s]));
                }
                kept.get_or_insert_with(|| head[..start].to_vec());
            }
            None => {
                if let Some(kept) = &mut kept {
                    kept.extend_from_slice(field);
                }
            }
        }
        start += field.len();
        line += memchr::memchr_iter(b'\n', field).count();
    }
    match kept {
        Some(mut kept) => {
            kept.extend_from_slice(body);
            (Cow::Owned(kept), problems)
        }
        None => (Cow::Borrowed(raw), problems),
    }
}

/// The index in [`SINGULAR`] of a field name (white space around it is obsolete syntax that
/// mail-parser accepts, so it is ignored here too).
fn singular(name: &[u8]) -> Option<usize> {
    let name = name.trim_ascii();
    SINGULAR
        .iter()
        .position(|s| s.as_bytes().eq_ignore_ascii_case(name))
}

/// Defects of the bodies of the parts mail-parser found in `buffer`: their transfer encoding,
/// and bare CRs where the bytes are text.
pub(crate) fn body_problems(buffer: &[u8], message: &Message<'_>, problems: &mut Vec<Problem>) {
    for (i, part) in message.parts.iter().enumerate() {
        // The top-level fields were deduplicated by `header_pass`; a part's are only flagged
        // (dropping them would move every later part in the buffer).
        for name in [HeaderName::ContentType, HeaderName::ContentTransferEncoding] {
            if part
                .headers
                .iter()
                .filter(|h| h.name == name)
                .nth(1)
                .is_some()
            {
                let name = if name == HeaderName::ContentType {
                    "Content-Type"
                } else {
                    "Content-Transfer-Encoding"
                };
                problems.push(Problem::DuplicatePartHeader { part: i, name });
            }
        }
        if matches!(part.body, PartType::Multipart(_)) {
            continue;
        }
        let Some(bytes) = buffer.get(part.offset_body as usize..part.offset_end as usize) else {
            continue;
        };
        // As declared: when decoding failed, mail-parser keeps the part unencoded.
        let encoding = part.content_transfer_encoding().map(str::trim);
        let is = |name: &str| encoding.is_some_and(|e| e.eq_ignore_ascii_case(name));
        if is("base64") {
            if let Some(defect) = base64_defect(bytes) {
                problems.push(Problem::InvalidBase64 { part: i, defect });
            }
        } else if is("quoted-printable") {
            match qp_defect(bytes) {
                Some(QpDefect::Truncated) => problems.push(Problem::TruncatedQuotedPrintable(i)),
                Some(QpDefect::Invalid) => problems.push(Problem::InvalidQuotedPrintable(i)),
                None => {}
            }
        } else if is("binary") || !is_line_text(part) {
            continue;
        }
        if has_bare_cr(bytes) {
            problems.push(Problem::BareCr(Some(i)));
        }
    }
}

/// Whether the unencoded bytes of a part are lines of an ASCII-compatible text, where a CR
/// must be followed by LF: not binary content, not a nested message (its own parse would
/// judge it), and not UTF-16 or UTF-32, whose CR is followed by a zero byte.
fn is_line_text(part: &MessagePart<'_>) -> bool {
    let text = matches!(part.body, PartType::Text(_) | PartType::Html(_));
    let wide = part
        .content_type()
        .and_then(|ct| ct.attribute("charset"))
        .is_some_and(|label| {
            let label = label.trim().trim_matches('"').to_ascii_lowercase();
            [
                "utf-16", "utf16", "utf-32", "utf32", "ucs-2", "ucs2", "ucs-4", "ucs4", "unicode",
            ]
            .iter()
            .any(|wide| label.starts_with(wide))
        });
    text && !wide
}

/// A CR not followed by LF.
fn has_bare_cr(bytes: &[u8]) -> bool {
    memchr::memchr_iter(b'\r', bytes).any(|at| bytes.get(at + 1) != Some(&b'\n'))
}

const OTHER: u8 = 0;
const DATA: u8 = 1;
const BLANK: u8 = 2;
const PAD: u8 = 3;

/// The class of each byte in MIME base64 (a table: attachments run to megabytes).
static BASE64_CLASS: [u8; 256] = {
    let mut table = [OTHER; 256];
    let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut i = 0;
    while i < alphabet.len() {
        table[alphabet[i] as usize] = DATA;
        i += 1;
    }
    table[b' ' as usize] = BLANK;
    table[b'\t' as usize] = BLANK;
    table[b'\r' as usize] = BLANK;
    table[b'\n' as usize] = BLANK;
    table[b'=' as usize] = PAD;
    table
};

/// What is wrong with MIME base64 (white space anywhere is allowed), `None` when valid.
pub(crate) fn base64_defect(bytes: &[u8]) -> Option<Base64Defect> {
    let (mut data, mut padding) = (0usize, 0usize);
    for &b in bytes {
        match BASE64_CLASS[usize::from(b)] {
            BLANK => {}
            DATA if padding > 0 => return Some(Base64Defect::Padding),
            DATA => data += 1,
            PAD => padding += 1,
            _ => return Some(Base64Defect::OutsideAlphabet),
        }
    }
    match (data % 4, padding) {
        (0, 0) => None,
        (2, 2) | (3, 1) => None,
        (_, 0) => Some(Base64Defect::Length),
        _ => Some(Base64Defect::Padding),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum QpDefect {
    /// `=` or `=X` at the very end of the part, or a soft line break with nothing after it.
    Truncated,
    /// `=` followed by neither two hex digits nor (white space and) a line break.
    Invalid,
}

/// What is wrong with quoted-printable (RFC 2045 section 6.7), `None` when valid. Lower-case
/// hex digits are accepted (the RFC asks decoders to), as is white space between a soft break's
/// `=` and its line end (transport padding).
pub(crate) fn qp_defect(bytes: &[u8]) -> Option<QpDefect> {
    let mut invalid = false;
    for at in memchr::memchr_iter(b'=', bytes) {
        let rest = &bytes[at + 1..];
        match rest {
            [a, b, ..] if a.is_ascii_hexdigit() && b.is_ascii_hexdigit() => continue,
            [a] if a.is_ascii_hexdigit() => return Some(QpDefect::Truncated),
            _ => {}
        }
        let padding = rest
            .iter()
            .take_while(|&&b| b == b' ' || b == b'\t')
            .count();
        let after = &rest[padding..];
        let line_break = match after {
            [b'\r', b'\n', ..] => 2,
            [b'\n', ..] => 1,
            [] => return Some(QpDefect::Truncated),
            _ => {
                invalid = true;
                continue;
            }
        };
        // A soft break ending the part: what followed it was cut off. (The line break that
        // ends a part inside a multipart belongs to the boundary, so it is not in `bytes`.)
        if after.len() == line_break {
            return Some(QpDefect::Truncated);
        }
    }
    invalid.then_some(QpDefect::Invalid)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_known_answers() {
        let cases: &[(&[u8], Option<Base64Defect>)] = &[
            (b"", None),
            (b"aGVsbG8gd29ybGQ=", None),
            (b"aGVs\r\nbG8g\r\nd29y bGQ=\r\n", None),
            (b"YQ==", None),
            (b"YWI=", None),
            (b"YWJj", None),
            (b"YQ=", Some(Base64Defect::Padding)),
            (b"YQ===", Some(Base64Defect::Padding)),
            (b"YWJj=", Some(Base64Defect::Padding)),
            (b"YQ==YQ==", Some(Base64Defect::Padding)),
            (b"YQ", Some(Base64Defect::Length)),
            (b"YWJjZ", Some(Base64Defect::Length)),
            (b"aGVs*bG8=", Some(Base64Defect::OutsideAlphabet)),
            (b"aGVs-bG8_", Some(Base64Defect::OutsideAlphabet)),
        ];
        for (bytes, want) in cases {
            assert_eq!(
                base64_defect(bytes),
                *want,
                "{:?}",
                String::from_utf8_lossy(bytes)
            );
        }
    }

    #[test]
    fn quoted_printable_known_answers() {
        let cases: &[(&[u8], Option<QpDefect>)] = &[
            (b"", None),
            (b"caf=C3=A9 =3d ok\r\n", None),
            (b"a long line=\r\nwrapped here\r\n", None),
            (b"soft break with padding=  \r\nnext", None),
            (b"lf only=\nnext\n", None),
            (b"ends here", None),
            (b"ends here=", Some(QpDefect::Truncated)),
            (b"ends here=C", Some(QpDefect::Truncated)),
            (b"ends here=\r\n", Some(QpDefect::Truncated)),
            (b"ends here= \r\n", Some(QpDefect::Truncated)),
            (b"soft break, then an empty line=\r\n\r\n", None),
            (b"a=ZZb\r\n", Some(QpDefect::Invalid)),
            (b"href=http://x\r\n", Some(QpDefect::Invalid)),
            (b"half=A\r\nnext", Some(QpDefect::Invalid)),
            (b"= x\r\n", Some(QpDefect::Invalid)),
        ];
        for (bytes, want) in cases {
            assert_eq!(
                qp_defect(bytes),
                *want,
                "{:?}",
                String::from_utf8_lossy(bytes)
            );
        }
    }

    #[test]
    fn the_first_of_a_duplicated_singular_field_is_kept() {
        let raw = b"Subject: first\r\nX-Any: 1\r\nsubject : second\r\n\tfolded\r\nX-Any: 2\r\nFrom: a@b.c\r\nSUBJECT: third\r\n\r\nbody\r\n";
        let (buffer, problems) = header_pass(raw);
        assert_eq!(
            buffer.as_ref(),
            b"Subject: first\r\nX-Any: 1\r\nX-Any: 2\r\nFrom: a@b.c\r\n\r\nbody\r\n"
        );
        assert_eq!(problems, [Problem::DuplicateHeader("Subject")]);
    }

    #[test]
    fn header_pass_known_answers() {
        let cases: &[(&[u8], &[Problem])] = &[
            (b"From: a@b.c\r\nSubject: x\r\n\r\nbody", &[]),
            (
                b"From a@b.c Mon Dec  7 10:00:00 2026\nFrom: a@b.c\n\nbody",
                &[],
            ),
            (b"From: a@b.c\r\nReceived: 1\r\nReceived: 2\r\n\r\n", &[]),
            (
                b"From: a@b.c\r\nnot a header\r\nTo: c@d.e\r\n\r\n",
                &[Problem::LineWithoutColon(2)],
            ),
            (
                b"Subject: a\r\n b\r\n c\r\nbroken\r\n\r\n",
                &[Problem::LineWithoutColon(4)],
            ),
            (b"Subject: a\rb\r\n\r\n", &[Problem::BareCr(None)]),
            (b"Subject: a\r\n\r\nbody\rbare", &[]),
        ];
        for (raw, want) in cases {
            let (buffer, problems) = header_pass(raw);
            assert_eq!(problems, *want, "{:?}", String::from_utf8_lossy(raw));
            assert!(matches!(buffer, Cow::Borrowed(_)));
        }
    }

    #[test]
    fn a_large_header_section_is_flagged_in_linear_time() {
        let mut raw = b"From: a@b.c\r\n".to_vec();
        for i in 0..40_000 {
            raw.extend_from_slice(format!("X-Filler-{i}: {}\r\n", "x".repeat(20)).as_bytes());
        }
        raw.extend_from_slice(b"Subject: hi\r\n\r\nbody\r\n");
        let (_, problems) = header_pass(&raw);
        assert!(matches!(problems[..], [Problem::HeaderSectionTooLarge(n)] if n > 1 << 20));
        let small = b"From: a@b.c\r\n\r\nbody";
        assert!(header_pass(small).1.is_empty());
    }
}
