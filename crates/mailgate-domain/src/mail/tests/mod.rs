//! Known-answer tables over `testdata/mail/*.eml` (written for these tests), classification
//! rules one header at a time, and never-panic runs over truncated, mutated and random input.

mod defects;
mod robustness;
mod rules;
mod samples;
mod senders;

use super::*;

/// Our side in every test: Message-IDs `...@helpdesk.example.com`, X-Loop
/// `support@example.com`, one mailbox `support@example.com`.
pub(super) const DOMAIN: &str = "helpdesk.example.com";
pub(super) const MARKER: &str = "support@example.com";

pub(super) fn our_addresses() -> Vec<String> {
    vec!["support@example.com".to_owned()]
}

pub(super) fn ours(addresses: &[String]) -> Ours<'_> {
    Ours {
        message_id_domain: DOMAIN,
        loop_marker: MARKER,
        addresses,
    }
}

macro_rules! sample {
    ($name:literal) => {
        (
            $name,
            include_bytes!(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/testdata/mail/",
                $name,
                ".eml"
            )) as &'static [u8],
        )
    };
}
pub(super) use sample;

/// Every sample, for the runs that want them all.
pub(super) const SAMPLES: &[(&str, &[u8])] = &[
    sample!("plain"),
    sample!("alternative"),
    sample!("html_only"),
    sample!("attachments"),
    sample!("latin1"),
    sample!("cp1252"),
    sample!("gmail_vacation"),
    sample!("outlook_oof"),
    sample!("mailing_list"),
    sample!("dsn_bounce"),
    sample!("dsn_headers_only"),
    sample!("mailer_daemon"),
    sample!("x_loop"),
    sample!("reply_thread"),
    sample!("reply_tag"),
    sample!("malformed_no_headers"),
    sample!("malformed_garbage"),
    sample!("malformed_truncated"),
    sample!("malformed_8bit_header"),
];

/// What must hold of any parse, however bad the input.
pub(super) fn assert_invariants(parsed: &ParsedMessage, context: &str) {
    for a in &parsed.attachments {
        let f = &a.filename;
        assert!(
            !f.is_empty() && f != "." && f != "..",
            "{context}: filename {f:?}"
        );
        assert!(!f.starts_with('.'), "{context}: hidden filename {f:?}");
        assert!(
            !f.contains(['/', '\\']),
            "{context}: path in filename {f:?}"
        );
        assert!(
            !f.chars().any(char::is_control),
            "{context}: control in filename {f:?}"
        );
        assert!(
            f.chars().count() <= 200 && f.len() <= 255,
            "{context}: long filename {f:?}"
        );
        assert!(
            !a.content_type.contains(['\r', '\n']),
            "{context}: {:?}",
            a.content_type
        );
    }
    assert!(
        !parsed.text.contains(['\0', '\r']),
        "{context}: text {:?}",
        parsed.text
    );
    assert!(
        !parsed.subject.chars().any(char::is_control),
        "{context}: subject"
    );
    assert!(
        parsed.html.as_deref().is_none_or(|h| !h.contains('\0')),
        "{context}: html"
    );
    assert!(
        parsed.problems.len() <= 21,
        "{context}: {} problems",
        parsed.problems.len()
    );
    let ids = parsed
        .message_id
        .iter()
        .chain(&parsed.in_reply_to)
        .chain(&parsed.references);
    for id in ids {
        assert!(
            !id.is_empty() && !id.contains(['<', '>', ' ']),
            "{context}: id {id:?}"
        );
    }
}
