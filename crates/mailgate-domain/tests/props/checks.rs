//! The checks the property tests (`tests/props`) and the fuzz targets (`fuzz/`) share: what
//! the mail parsers promise about their results, whatever the input.

#![allow(dead_code)]

use mailgate_domain::filter::FilterUse;
use mailgate_domain::mail::address::{is_addr_spec, read as read_addresses};
use mailgate_domain::mail::{
    Ours, ThreadHint, base_subject, bulk, classify, html_to_text, parse, sanitize_filename,
    subject_tag, tagged_subject, thread_hint,
};
use mailgate_domain::{Domain, EmailAddress, FilterInput};

const OUR_ADDRESSES: &[&str] = &["support@example.test"];

fn ours(addresses: &[String]) -> Ours<'_> {
    Ours {
        message_id_domain: "mg.example.test",
        loop_marker: "mailgate-support",
        addresses,
    }
}

/// What [`parse`] documents about its result; classifies and threads it too.
pub fn check_parsed(raw: &[u8]) {
    let addresses: Vec<String> = OUR_ADDRESSES.iter().map(|a| (*a).to_owned()).collect();
    let ours = ours(&addresses);
    let parsed = parse(raw);
    assert!(
        !parsed.subject.contains(['\r', '\n']),
        "{:?}",
        parsed.subject
    );
    assert_eq!(parsed.subject, parsed.subject.trim());
    assert!(!parsed.text.contains('\r'), "body with a CR");
    for id in parsed
        .message_id
        .iter()
        .chain(&parsed.in_reply_to)
        .chain(&parsed.references)
    {
        assert!(!id.starts_with('<') && !id.ends_with('>'), "{id:?}");
    }
    // Never a string that is not an address stored as one.
    for m in parsed
        .from
        .iter()
        .chain(&parsed.reply_to)
        .chain(&parsed.to)
        .chain(&parsed.cc)
    {
        assert!(is_addr_spec(&m.address), "{m:?}");
    }
    if let Some(from) = &parsed.from {
        assert_eq!(from.name, parsed.from_name);
    }
    for (n, a) in parsed.attachments.iter().enumerate() {
        check_filename(&a.filename, &format!("attachment {n}"));
        if let Some(part) = a.in_raw {
            assert_eq!(part.read(raw).as_deref(), Some(a.content.as_slice()));
        }
    }
    let _ = classify(&parsed, None, &ours);
    let _ = classify(&parsed, Some("<>"), &ours);
    let _ = classify(&parsed, Some(""), &ours);
    let _ = bulk(&parsed, &ours);
    if let ThreadHint::MessageIds(ids) = thread_hint(&parsed, &ours, "#") {
        assert!(!ids.is_empty());
        // Ours first, then the others.
        let ours = |id: &String| id.to_ascii_lowercase().ends_with("@mg.example.test");
        let mine = ids.iter().take_while(|id| ours(id)).count();
        assert!(!ids[mine..].iter().any(ours), "{ids:?}");
    }
}

/// What [`sanitize_filename`](mailgate_domain::mail::sanitize_filename) promises.
pub fn check_filename(name: &str, context: &str) {
    assert!(!name.is_empty(), "{context}: empty name");
    assert!(name != "." && name != "..", "{context}: {name:?}");
    assert!(!name.contains(['/', '\\']), "{context}: a path: {name:?}");
    assert!(
        !name.chars().any(char::is_control),
        "{context}: a control character: {name:?}"
    );
    assert!(
        !name.chars().any(|c| matches!(c,
            '\u{2028}' | '\u{2029}' // line and paragraph separators
            | '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}'
            | '\u{061C}' // bidi controls
            | '\u{200B}'..='\u{200D}' | '\u{2060}' | '\u{FEFF}' // zero-width
        )),
        "{context}: an invisible or bidi character: {name:?}"
    );
    assert!(
        !name.contains(['<', '>', ':', '"', '|', '?', '*']),
        "{context}: a character Windows refuses: {name:?}"
    );
    assert!(!name.starts_with('.'), "{context}: a hidden file: {name:?}");
    assert!(
        !name.ends_with(['.', ' ']),
        "{context}: a trailing dot or space, which Windows strips: {name:?}"
    );
    assert!(
        !is_windows_device(name),
        "{context}: a Windows device name: {name:?}"
    );
    assert!(name.chars().count() <= 200, "{context}: too long: {name:?}");
    assert!(name.len() <= 255, "{context}: too many bytes: {name:?}");
}

/// Whether Windows opens `name` as a device (Microsoft, "Naming Files, Paths, and
/// Namespaces"): the part before the first dot, without the trailing spaces Windows strips,
/// is a device name in any case. Written apart from the sanitizer, as its oracle.
pub fn is_windows_device(name: &str) -> bool {
    let stem = name
        .split('.')
        .next()
        .unwrap_or_default()
        .trim_end_matches(' ');
    let mut devices = vec!["CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$"]
        .into_iter()
        .map(str::to_owned)
        .collect::<Vec<_>>();
    for port in ["COM", "LPT"] {
        for digit in "0123456789\u{B9}\u{B2}\u{B3}".chars() {
            devices.push(format!("{port}{digit}"));
        }
    }
    devices.iter().any(|d| d.eq_ignore_ascii_case(stem))
}

/// Any text as an attachment name, an HTML body, a subject, an address list, an address and
/// a domain.
pub fn check_text(text: &str) {
    check_filename(&sanitize_filename(text, 1, text), "sanitized");
    assert!(!html_to_text(text).contains('\r'), "HTML to text with a CR");
    let tagged = tagged_subject(text, 42, "#");
    assert_eq!(subject_tag(&tagged, "#"), Some(42), "{tagged:?}");
    assert_eq!(tagged_subject(&tagged, 42, "#"), tagged, "not idempotent");
    let _ = (base_subject(text, "#"), subject_tag(text, "#"));
    for (address, _) in read_addresses(text).addressed() {
        assert!(is_addr_spec(address), "{address:?} read from {text:?}");
    }
    if let Ok(address) = EmailAddress::parse("email", text) {
        let again = EmailAddress::parse("email", address.as_str());
        assert_eq!(again.as_ref().ok(), Some(&address), "{address}");
        assert!(
            Domain::parse("domain", address.domain()).is_ok(),
            "{address}"
        );
    }
    if let Ok(domain) = Domain::parse("domain", text) {
        let again = Domain::parse("domain", domain.as_str()).map(|d| d.as_str().to_owned());
        assert_eq!(again.ok().as_deref(), Some(domain.as_str()));
    }
}

/// A filter as an API request gives it (JSON): refused with named fields, or parsed into one
/// that matches its own addresses.
pub fn check_filter(json: &[u8]) {
    let Ok(input) = serde_json::from_slice::<FilterInput>(json) else {
        return;
    };
    for usage in [FilterUse::Incoming, FilterUse::Outgoing] {
        match input.clone().parse(usage) {
            Ok(filter) => {
                for e in &filter.emails {
                    assert!(filter.matches(e.as_str(), &[]), "{e}");
                }
                let text = String::from_utf8_lossy(json);
                let _ = filter.passes(&text, &[&text]);
            }
            Err(errors) => {
                assert!(!errors.is_empty());
                for e in errors.errors() {
                    assert!(!e.field.is_empty() && e.hint.is_some(), "{e:?}");
                }
            }
        }
    }
}
