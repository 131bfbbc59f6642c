//! Property tests of the parsers that read what strangers send: mail (MIME, threading headers,
//! delivery reports, charsets, attachment names) and filter rules. Whatever the input, nothing
//! panics and the documented invariants hold. The cases are bounded so that `cargo test` stays
//! fast; `fuzz/` runs the same parsers for longer (see the README, "Fuzzing").

mod addresses;
mod checks;

use checks::{check_filename, check_filter, check_parsed, check_text};
use mailgate_domain::mail::{
    base_subject, html_to_text, sanitize_filename, subject_tag, tagged_subject,
};
use proptest::prelude::*;

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: 256,
        failure_persistence: None,
        // The same cases on every run: CI never fails by chance.
        rng_seed: proptest::test_runner::RngSeed::Fixed(13),
        ..ProptestConfig::default()
    }
}

/// Pieces of mail that lead a parser into its corners: header names it reads, MIME structure,
/// encodings, RFC 2047 words, delivery-report fields, broken line ends.
const MAIL_TOKENS: &[&str] = &[
    "\r\n",
    "\n",
    "\r\n\r\n",
    " ",
    "\t",
    ":",
    ";",
    "\"",
    "<",
    ">",
    "@",
    "=",
    "?",
    "From: ",
    "To: ",
    "Cc: ",
    "Reply-To: ",
    "Sender: ",
    "(",
    ")",
    ",",
    "\\",
    "[IPv6:2001:db8::1]",
    "Subject: ",
    "Date: ",
    "Message-ID: ",
    "In-Reply-To: ",
    "References: ",
    "Return-Path: ",
    "Auto-Submitted: auto-replied",
    "X-Loop: mailgate-support",
    "Precedence: bulk",
    "List-Id: <l.example.test>",
    "List-Id: <support.example.test>",
    "Abwesenheitsnotiz",
    "自動応答：",
    "X-POST-MessageClass: 9; Autoresponder",
    "multipart/report; report-type=feedback-report; boundary=b",
    "MIME-Version: 1.0",
    "Content-Type: ",
    "multipart/mixed; boundary=b",
    "multipart/alternative; boundary=\"b\"",
    "multipart/report; report-type=delivery-status; boundary=b",
    "message/delivery-status",
    "message/rfc822",
    "text/plain; charset=",
    "text/html",
    "utf-8",
    "iso-8859-1",
    "windows-1252",
    "x-unknown",
    "Content-Transfer-Encoding: ",
    "base64",
    "quoted-printable",
    "8bit",
    "Content-Disposition: attachment; filename=",
    "inline",
    "filename*=UTF-8''%E2%80%AE.exe",
    "Content-ID: <c@x>",
    "--b",
    "--b--",
    "=?utf-8?B?",
    "=?iso-8859-1?Q?",
    "?=",
    "=C3=A9",
    "=\r\n",
    "SGVsbG8=",
    "Final-Recipient: rfc822; ",
    "Action: failed",
    "Status: 5.1.1",
    "Diagnostic-Code: smtp; 550 no",
    "Original-Recipient: ",
    "Re: ",
    "AW: ",
    "Fwd: ",
    "[#",
    "]",
    "<p>",
    "<br>",
    "&amp;",
    "&#x",
    "\u{202e}",
    "é",
    "\u{0}",
    "\u{ff}",
    "support@example.test",
    "abc@mg.example.test",
];

/// What makes a file name unsafe somewhere: Windows device names in every form, the dots and
/// spaces Windows strips, separators, bidi and zero-width characters, controls, paths.
const FILENAME_TOKENS: &[&str] = &[
    "CON", "con", "PRN", "AUX", "NUL", "nUl", "COM", "com", "LPT", "lpt", "CONIN$", "conout$", "0",
    "1", "9", "\u{B9}", "\u{B2}", "\u{B3}", "\u{2074}", ".", "..", " ", ". ", ".txt", ".tar.gz",
    "\u{2028}", "\u{2029}", "\u{200E}", "\u{200F}", "\u{202A}", "\u{202E}", "\u{2066}", "\u{2069}",
    "\u{061C}", "\u{200B}", "\u{200C}", "\u{200D}", "\u{2060}", "\u{FEFF}", "\u{0}", "\u{1F}",
    "\u{7F}", "\u{85}", "\u{9F}", "\t", "\r\n", "/", "\\", ":", "?", "*", "\"", "<", ">", "|", "a",
    "é", "€", "\u{3000}", "\u{A0}",
];

/// Mail-like bytes: tokens, random bytes and random text, concatenated.
fn mail_bytes() -> impl Strategy<Value = Vec<u8>> {
    let piece = prop_oneof![
        4 => proptest::sample::select(MAIL_TOKENS).prop_map(|t| t.as_bytes().to_vec()),
        1 => proptest::collection::vec(any::<u8>(), 0..16),
        1 => "[a-zA-Z0-9 .,@<>=?_-]{0,16}".prop_map(String::into_bytes),
    ];
    proptest::collection::vec(piece, 0..64).prop_map(|pieces| pieces.concat())
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn parsing_mail_like_bytes_keeps_its_promises(raw in mail_bytes()) {
        check_parsed(&raw);
    }

    #[test]
    fn parsing_random_bytes_keeps_its_promises(raw in proptest::collection::vec(any::<u8>(), 0..512)) {
        check_parsed(&raw);
    }

    #[test]
    fn a_header_value_of_any_text_keeps_its_promises(
        name in proptest::sample::select(&["Subject", "From", "To", "Message-ID", "References",
            "In-Reply-To", "Content-Type", "Date", "Reply-To", "Return-Path", "Sender", "Cc"][..]),
        value in any::<String>(),
    ) {
        let raw = format!("{name}: {value}\r\nFrom: a@b.test\r\n\r\nbody\r\n");
        check_parsed(raw.as_bytes());
    }

    #[test]
    fn an_attachment_name_of_any_text_is_safe(
        name in any::<String>(),
        number in any::<usize>(),
        content_type in any::<String>(),
    ) {
        check_filename(&sanitize_filename(&name, number, &content_type), "sanitized");
    }

    #[test]
    fn an_attachment_name_of_hostile_pieces_is_safe(pieces in proptest::collection::vec(
        proptest::sample::select(FILENAME_TOKENS), 0..12)
    ) {
        let name = pieces.concat();
        check_filename(&sanitize_filename(&name, 1, ""), "sanitized");
    }

    #[test]
    fn an_attachment_name_from_a_message_is_safe(name in any::<String>()) {
        let name = name.replace(['"', '\r', '\n', '\\'], "");
        let raw = format!(
            "From: a@b.test\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n\
             Content-Type: application/octet-stream; name=\"{name}\"\r\n\
             Content-Disposition: attachment; filename=\"{name}\"\r\n\r\nxyz\r\n--b--\r\n"
        );
        check_parsed(raw.as_bytes());
    }

    #[test]
    fn html_like_text_converts(pieces in proptest::collection::vec(proptest::sample::select(&[
        "<", ">", "<p>", "</p>", "<br/>", "<script>", "</script>", "<style>", "<!--", "-->",
        "&amp;", "&#", "&#x", "1F600;", "&nbsp;", "&", ";", "<a href=\"x\">", "<li>", "<tr>",
        "\u{0}", "é", " ", "\n", "<pre>", "</pre>", "<![CDATA[", "]]>", "<td", "=",
    ][..]), 0..64)) {
        let _ = html_to_text(&pieces.concat());
    }

    #[test]
    fn a_tagged_subject_finds_its_ticket_again(subject in any::<String>(), number in any::<u64>()) {
        let tagged = tagged_subject(&subject, number, "#");
        prop_assert_eq!(subject_tag(&tagged, "#"), Some(number));
        prop_assert_eq!(tagged_subject(&tagged, number, "#"), tagged.clone());
        let _ = base_subject(&tagged, "#");
    }

    #[test]
    fn subjects_with_tags_and_prefixes_thread(pieces in proptest::collection::vec(
        proptest::sample::select(&["Re:", "RE: ", "AW: ", "Fwd:", "[#", "]", "12", "#",
            "99999999999999999999999", " ", "回复：", "x", "[", "#12]", "\u{0}"][..]), 0..16),
        prefix in proptest::sample::select(&["#", "", "T-", "[", "]"][..]),
    ) {
        let subject = pieces.concat();
        let _ = subject_tag(&subject, prefix);
        let _ = base_subject(&subject, prefix);
        let tagged = tagged_subject(&subject, 7, prefix);
        if !prefix.is_empty() && !prefix.contains(['[', ']']) {
            prop_assert_eq!(subject_tag(&tagged, prefix), Some(7));
        }
    }

    #[test]
    fn a_filter_of_any_entries_parses_or_names_its_fields(
        kind in proptest::option::of(proptest::sample::select(&["allow", "ignore"][..])),
        emails in proptest::collection::vec(any::<String>(), 0..4),
        domains in proptest::collection::vec(any::<String>(), 0..4),
        keywords in proptest::collection::vec(any::<String>(), 0..4),
    ) {
        let mut json = serde_json::json!({"emails": emails, "domains": domains, "keywords": keywords});
        if let Some(kind) = kind {
            json["type"] = kind.into();
        }
        check_filter(json.to_string().as_bytes());
    }

    #[test]
    fn a_filter_from_any_json_is_refused_or_parsed(json in any::<String>()) {
        check_filter(json.as_bytes());
    }

    #[test]
    fn any_text_as_name_html_subject_and_address(text in any::<String>()) {
        check_text(&text);
    }

    #[test]
    fn an_address_like_text_parses_or_is_refused(text in "[a-zA-Z0-9.@_+é-]{0,80}") {
        check_text(&text);
    }
}
