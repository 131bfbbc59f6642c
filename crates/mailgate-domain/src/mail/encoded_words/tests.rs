use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use proptest::prelude::*;

use super::*;
use crate::mail::compose::MAX_SUBJECT_CHARS;
use crate::mail::parse;
use crate::mail::text::clean_line;

fn sentences(problems: &[Problem]) -> Vec<String> {
    problems.iter().map(ToString::to_string).collect()
}

/// Decodes unstructured text that must come out clean.
fn clean(raw: &str) -> String {
    let (text, problems) = decode_header_text(raw);
    assert_eq!(sentences(&problems), Vec::<String>::new(), "{raw:?}");
    text
}

#[test]
fn known_answers() {
    let cases: &[(&str, &str)] = &[
        ("plain text", "plain text"),
        ("", ""),
        ("=?utf-8?Q?caf=C3=A9?=", "café"),
        ("=?UTF-8?b?Q2Fmw6k=?=", "Café"),
        ("=?utf-8?q?caf=c3=a9_cr=C3=A8me?=", "café crème"),
        // A character split across two B words, and across two Q words.
        ("=?utf-8?B?Q2Fmww==?= =?utf-8?B?qQ==?=", "Café"),
        ("=?utf-8?Q?Caf=C3?= =?UTF-8?Q?=A9?=", "Café"),
        ("=?utf-8?Q?Caf=C3?=\r\n =?utf-8?B?qQ==?=", "Café"),
        ("=?utf-8?Q?Caf=C3?==?utf-8?Q?=A9?=", "Café"),
        // ISO-2022-JP: the escape in one word, the characters in the next two.
        (
            "=?ISO-2022-JP?B?GyRCRnw=?= =?ISO-2022-JP?B?S1w4bCRO?=\t=?ISO-2022-JP?B?JUYlOSVIGyhC?=",
            "日本語のテスト",
        ),
        // Mixed charsets: each run converted by its own, the space between them dropped.
        ("=?iso-8859-1?Q?Gr=FC=DFe?= =?utf-8?B?4oKs?=", "Grüße€"),
        ("=?koi8-r?B?8NLJ18XU?=", "Привет"),
        // Spaces around words next to text are text.
        ("Re: =?utf-8?Q?Caf=C3=A9?= is  open", "Re: Café is  open"),
        ("a =?utf-8?Q?x?=  =?utf-8?Q?y?= b", "a xy b"),
        ("=?utf-8?Q?a?= \"quoted\" =?utf-8?Q?b?=", "a \"quoted\" b"),
        // RFC 2231 language.
        ("=?utf-8*en-us?Q?Hello?= =?UTF-8*de?Q?_Welt?=", "Hello Welt"),
        // Folding line ends are taken out; the space of the continuation line stays text.
        ("Long\r\n subject", "Long subject"),
        // Not encoded words: left as written.
        ("=?utf-8?X?abc?=", "=?utf-8?X?abc?="),
        ("=?utf-8?Q?never closed", "=?utf-8?Q?never closed"),
        ("=??Q?abc?=", "=??Q?abc?="),
        ("2+2=? 4", "2+2=? 4"),
        ("=?utf-8?Q?broken =?utf-8?Q?ok?=", "=?utf-8?Q?broken ok"),
    ];
    for (raw, want) in cases {
        assert_eq!(clean(raw), *want, "{raw:?}");
    }
}

#[test]
fn invalid_base64_keeps_the_bytes_that_decode() {
    let cases: &[(&str, &str)] = &[
        // Unpadded: mail-parser dropped the last group.
        ("=?utf-8?B?SGVsbG8gV29ybGQ?=", "Hello World"),
        ("=?utf-8?B?SGVs*bG8=?=", "Hello"),
        ("=?utf-8?B?SGk=SGk=?=", "HiHi"),
        ("=?utf-8?B?Q2Fmw6k?=", "Café"),
        ("=?utf-8?B?Q2Fmw6k===?= x", "Café x"),
    ];
    for (raw, want) in cases {
        let (text, problems) = decode_header_text(raw);
        assert_eq!(text, *want, "{raw:?}");
        assert_eq!(
            sentences(&problems),
            ["invalid base64 in an encoded word (the bytes that decode are kept)"],
            "{raw:?}"
        );
    }
}

#[test]
fn other_tolerances_are_reported() {
    for raw in ["=?x-unknown?Q?caf=C3=A9?=", "=?x-unknown?Q?caf=E9?="] {
        let (text, problems) = decode_header_text(raw);
        assert_eq!(text, "café", "{raw:?}");
        assert_eq!(
            sentences(&problems),
            ["undecodable charset x-unknown in an encoded word (read as UTF-8 or windows-1252)"]
        );
    }

    let (text, problems) = decode_header_text("=?utf-8?Q?caf=E9_ok?=");
    assert_eq!(text, "caf\u{fffd} ok");
    assert_eq!(
        sentences(&problems),
        ["an encoded word is not valid utf-8 (undecodable bytes replaced)"]
    );

    let (text, problems) = decode_header_text("=?utf-8?Q?100=_=3D_=ZZ?=");
    assert_eq!(text, "100= = =ZZ");
    assert_eq!(
        sentences(&problems),
        ["invalid quoted-printable in an encoded word (kept as written)"]
    );

    // Labels mail-parser knows and the WHATWG set does not (UTF-7).
    assert_eq!(clean("=?utf-7?Q?Hi_+AKM-1?="), "Hi £1");
    for (_, problems) in [
        decode_header_text("=?x-unknown?Q?a?="),
        decode_header_text("=?utf-8?B?#?="),
    ] {
        assert!(sentences(&problems)[0].contains("encoded word"));
    }
}

#[test]
fn phrases_keep_or_decode_encoded_words_inside_quoted_strings() {
    // (raw, kept as the RFC says, decoded as Thunderbird, Python and mail-parser do)
    let cases: &[(&str, &str, &str)] = &[
        ("\"=?utf-8?Q?caf=C3=A9?=\"", "=?utf-8?Q?caf=C3=A9?=", "café"),
        (
            "\"Doe, \\\"J\\\" =?utf-8?Q?x?=\" =?utf-8?Q?Caf=C3=A9?=",
            "Doe, \"J\" =?utf-8?Q?x?= Café",
            "Doe, \"J\" x Café",
        ),
        ("=?utf-8?Q?J=C3=B6rg?= =?utf-8?Q?_M?=", "Jörg M", "Jörg M"),
        (
            "\"never closed =?utf-8?Q?x?=",
            "\"never closed x",
            "\"never closed x",
        ),
    ];
    for (raw, kept, decoded) in cases {
        for (quoted, want) in [(QuotedWords::Keep, kept), (QuotedWords::Decode, decoded)] {
            let (text, problems) = decode_phrase(raw, quoted);
            assert_eq!(
                (text.as_str(), problems.len()),
                (*want, 0),
                "{raw:?} {quoted:?}"
            );
        }
    }
}

#[test]
fn the_subject_of_a_message_is_decoded_whole() {
    let raw = "From: a@b.test\r\nDate: Mon, 09 Mar 2026 06:00:00 +0000\r\n\
        Subject: Re: =?utf-8?B?Q2Fmww==?=\r\n =?utf-8?B?qQ==?= =?utf-8?B?IG1hY2hpbmU?=\r\n\
        \r\nbody\r\n";
    let parsed = parse(raw.as_bytes());
    assert_eq!(parsed.subject, "Re: Café machine");
    assert_eq!(
        parsed.problems,
        ["invalid base64 in an encoded word (the bytes that decode are kept)"]
    );
}

/// How a correct encoder writes `bytes` as one encoded word.
fn encode_word(charset: &str, bytes: &[u8], b: bool) -> String {
    if b {
        return format!("=?{charset}?B?{}?=", STANDARD.encode(bytes));
    }
    let mut q = String::new();
    for &byte in bytes {
        match byte {
            b' ' => q.push('_'),
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'!' | b'*' | b'+' | b'-' | b'/' => {
                q.push(char::from(byte))
            }
            _ => q.push_str(&format!("={byte:02X}")),
        }
    }
    format!("=?{charset}?Q?{q}?=")
}

/// `text` as encoded words cut at arbitrary byte positions (through multibyte characters),
/// each B or Q, separated by whitespace or folds.
fn encoded(text: &str, cuts: &[usize], kinds: &[(bool, &str, &str)]) -> String {
    let bytes = text.as_bytes();
    let mut positions: Vec<usize> = cuts.iter().map(|c| c % (bytes.len() + 1)).collect();
    positions.extend([0, bytes.len()]);
    positions.sort_unstable();
    positions.dedup();
    let mut out = String::new();
    for (i, pair) in positions.windows(2).enumerate() {
        let (b, charset, separator) = kinds[i % kinds.len()];
        if i > 0 {
            out.push_str(separator);
        }
        out.push_str(&encode_word(charset, &bytes[pair[0]..pair[1]], b));
    }
    out
}

fn kinds() -> impl Strategy<Value = Vec<(bool, &'static str, &'static str)>> {
    let charset = proptest::sample::select(&["utf-8", "UTF-8", "Utf-8*en", "utf8"][..]);
    let separator = proptest::sample::select(&[" ", "\r\n ", "\t", "", "\n\t  "][..]);
    proptest::collection::vec((any::<bool>(), charset, separator), 1..6)
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 256,
        failure_persistence: None,
        rng_seed: proptest::test_runner::RngSeed::Fixed(20),
        ..ProptestConfig::default()
    })]

    #[test]
    fn any_subject_encoded_in_split_words_decodes_back(
        subject in any::<String>(),
        cuts in proptest::collection::vec(any::<usize>(), 0..12),
        kinds in kinds(),
    ) {
        let raw = encoded(&subject, &cuts, &kinds);
        let (text, problems) = decode_header_text(&raw);
        prop_assert_eq!(&text, &subject, "{}", raw);
        prop_assert!(problems.is_empty(), "{:?}", problems);

        // And through the parser, as the Subject of a message.
        let message = format!("From: a@b.test\r\nSubject: {raw}\r\n\r\nbody\r\n");
        let parsed = parse(message.as_bytes());
        let want: String = clean_line(&subject).chars().take(MAX_SUBJECT_CHARS).collect();
        prop_assert_eq!(parsed.subject, want, "{}", raw);
    }
}

/// A header of a megabyte of words never closed (or closed only at the very end) decodes in
/// one pass: looking for each word's `?=` from scratch made it quadratic (minutes).
#[test]
fn unclosed_words_cost_one_pass() {
    for end in ["", "?="] {
        let raw = format!("{}{end}", "=?a?Q?x ".repeat(1 << 17));
        let started = std::time::Instant::now();
        let (text, _) = decode_header_text(&raw);
        assert!(text.starts_with("=?a?Q?x =?a?Q?x "), "{end:?}");
        assert!(started.elapsed().as_secs() < 20, "{:?}", started.elapsed());
    }
    // The same for a display name of quotes never closed.
    let raw = "\"\\".repeat(1 << 17);
    let started = std::time::Instant::now();
    let (text, _) = decode_phrase(&raw, QuotedWords::Keep);
    assert_eq!(text, raw);
    assert!(started.elapsed().as_secs() < 20, "{:?}", started.elapsed());
}
