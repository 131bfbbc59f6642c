//! Cross-cutting checks of the catalog; one known-answer table per area lives beside this file.
//!
//! Each area module exposes `produced()`, every diagnosis its table yields, so that the checks
//! here (codes listed, severities fixed, sentences complete) cover the whole catalog.

mod gmail;
mod oauth;
mod sasl;
mod setup;
mod transport;

use super::*;
use std::collections::{HashMap, HashSet};

pub(super) use Severity::{Permanent as P, Reauthorize as R, Transient as T};

/// Asserts one known answer: the code, the severity and the words the fix must contain.
pub(super) fn check(d: &Diagnosis, code: &str, severity: Severity, keys: &[&str], input: &str) {
    assert_eq!(d.code, code, "code for {input}: {d:#?}");
    assert_eq!(d.severity, severity, "severity for {input}");
    for key in keys {
        assert!(
            d.hint.contains(key),
            "hint for {input} lacks {key:?}: {}",
            d.hint
        );
    }
}

fn all_produced() -> Vec<Diagnosis> {
    [
        oauth::produced(),
        sasl::produced(),
        gmail::produced(),
        setup::produced(),
        transport::produced(),
    ]
    .concat()
}

fn is_snake_case(code: &str) -> bool {
    !code.is_empty()
        && code.starts_with(|c: char| c.is_ascii_lowercase())
        && !code.ends_with('_')
        && !code.contains("__")
        && code
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

#[test]
fn catalog_codes_are_snake_case_and_unique_per_meaning() {
    let mut codes = HashSet::new();
    let mut summaries = HashSet::new();
    for entry in CATALOG {
        assert!(
            is_snake_case(entry.code.as_str()),
            "{} is not snake_case",
            entry.code
        );
        assert!(codes.insert(entry.code), "{} listed twice", entry.code);
        assert!(
            summaries.insert(entry.summary),
            "two codes mean: {}",
            entry.summary
        );
        assert!(entry.summary.ends_with('.'), "{}", entry.code);
        assert_eq!(lookup(entry.code.as_str()), Some(entry));
    }
    assert_eq!(lookup("no_such_code"), None);
}

#[test]
fn every_code_has_one_catalog_entry_found_again_from_its_wire_form() {
    assert_eq!(Code::ALL.len(), CATALOG.len());
    for (code, entry) in Code::ALL.iter().zip(CATALOG) {
        assert_eq!(*code, entry.code);
        assert_eq!(code.entry(), *entry);
        assert_eq!(Code::parse(code.as_str()), Some(*code));
        assert_eq!(
            serde_json::to_value(code).unwrap(),
            serde_json::json!(code.as_str())
        );
        assert!(!entry.summary.is_empty(), "{code} has no summary");
    }
    assert_eq!(Code::parse("no_such_code"), None);
    // The codes the core crate raises are listed once, and only there.
    let core: HashSet<_> = RAISED_IN_CORE.iter().collect();
    assert_eq!(core.len(), RAISED_IN_CORE.len());
    for d in all_produced() {
        assert!(!core.contains(&d.code), "{} is raised here too", d.code);
    }
}

#[test]
fn every_code_is_produced_with_its_catalog_severity() {
    let produced = all_produced();
    let mut seen: HashMap<Code, Severity> = HashMap::new();
    for d in &produced {
        let entry =
            lookup(d.code.as_str()).unwrap_or_else(|| panic!("{} is not in CATALOG", d.code));
        assert_eq!(d.severity, entry.severity, "{}", d.code);
        // One code, one severity, whatever the input.
        assert_eq!(*seen.entry(d.code).or_insert(d.severity), d.severity);
    }
    let missing: Vec<_> = CATALOG
        .iter()
        .filter(|e| !seen.contains_key(&e.code) && !RAISED_IN_CORE.contains(&e.code))
        .map(|e| e.code)
        .collect();
    assert!(
        missing.is_empty(),
        "never produced by a known answer: {missing:?}"
    );
}

#[test]
fn messages_and_hints_are_complete_single_line_sentences() {
    for d in all_produced() {
        for (what, text) in [("message", &d.message), ("hint", &d.hint)] {
            let first = text.chars().next().unwrap_or(' ');
            assert!(
                first.is_uppercase(),
                "{} {what} starts oddly: {text}",
                d.code
            );
            assert!(
                text.ends_with('.'),
                "{} {what} does not end a sentence: {text}",
                d.code
            );
            assert!(
                !text.contains('\n') && !text.contains('\r'),
                "{} {what}",
                d.code
            );
            assert!(!text.contains(". ."), "{} {what}: {text}", d.code);
        }
    }
}

const GARBAGE: &[&str] = &[
    "",
    " ",
    "\u{0}\u{1}\u{7f}",
    "null",
    "[]",
    "{}",
    "{\"status\":",
    "{\"status\":null}",
    "{\"error\":{\"errors\":[1,\"x\",{\"reason\":5}],\"message\":7}}",
    "{\"error\":[]}",
    "AADSTS",
    "AADSTS99999999999999999999: overflow",
    "é\u{200b}漢字🙂",
    "NO",
    "-ERR",
    "535",
    "4",
];

#[test]
fn malformed_input_never_panics_and_stays_bounded() {
    let deep = "[".repeat(100_000);
    let huge = "x".repeat(1_000_000);
    let inputs: Vec<&str> = GARBAGE
        .iter()
        .copied()
        .chain([deep.as_str(), huge.as_str()])
        .collect();
    let providers = [
        ProviderKind::Google,
        ProviderKind::Microsoft,
        ProviderKind::Generic,
    ];
    let protocols = [MailProtocol::Imap, MailProtocol::Pop3, MailProtocol::Smtp];
    for input in &inputs {
        let mut out = vec![gmail_api_error(0, input), gmail_api_error(u16::MAX, input)];
        for status in [0, 200, 400, 401, 403, 429, 500, 599] {
            out.push(gmail_api_error(status, input));
        }
        for p in providers {
            out.push(token_endpoint_error(p, 400, input, Some(input)));
            out.push(token_endpoint_error(p, 503, input, None));
            out.push(authorization_error(p, input, Some(input)));
            out.push(xoauth2_challenge(p, input));
            for protocol in protocols {
                out.push(sasl_failure(p, protocol, Some(input), input));
            }
        }
        for protocol in protocols {
            out.push(auth_reply(protocol, input));
        }
        out.push(smtp_reply(input, input));
        out.push(account_mismatch(input, input));
        out.push(transport_error(TransportFailure::Tls {
            host: (*input).to_owned(),
            detail: (*input).to_owned(),
        }));
        for d in out {
            assert!(lookup(d.code.as_str()).is_some(), "{}", d.code);
            assert!(
                d.message.len() < 3_000 && d.hint.len() < 3_000,
                "{}",
                d.code
            );
            assert!(!d.message.contains('\n'), "{}", d.code);
        }
    }
}

#[test]
fn secrets_in_provider_text_are_not_repeated() {
    let leaky = "ya29.SECRETa0Af Bearer SECRETb refresh_token=1//SECRETc eyJSECRETd";
    let outputs = [
        token_endpoint_error(ProviderKind::Google, 400, "invalid_grant", Some(leaky)),
        token_endpoint_error(ProviderKind::Google, 400, leaky, None),
        authorization_error(ProviderKind::Microsoft, "access_denied", Some(leaky)),
        auth_reply(MailProtocol::Imap, leaky),
        gmail_api_error(400, &format!("{{\"error\":{{\"message\":\"{leaky}\"}}}}")),
        xoauth2_challenge(ProviderKind::Google, leaky),
        transport_error(TransportFailure::Proxy {
            detail: leaky.to_owned(),
        }),
    ];
    for d in outputs {
        assert!(
            !d.message.contains("SECRET") && !d.hint.contains("SECRET"),
            "{d:#?}"
        );
        assert!(d.message.contains("[redacted]"), "{d:#?}");
    }
}

#[test]
fn diagnosis_serializes_for_api_answers_and_displays_for_logs() {
    let d = token_endpoint_error(
        ProviderKind::Google,
        400,
        "invalid_grant",
        Some("Token has been expired or revoked."),
    );
    let json = serde_json::to_value(&d).unwrap();
    assert_eq!(json["code"], "oauth_grant_revoked");
    assert_eq!(json["severity"], "reauthorize");
    assert!(
        json["message"]
            .as_str()
            .unwrap()
            .contains("Token has been expired or revoked.")
    );
    assert!(d.needs_reauthorization() && !d.is_transient() && !d.is_permanent());
    let shown = d.to_string();
    assert!(shown.starts_with("oauth_grant_revoked: ") && shown.contains(" Fix: "));
}

#[test]
fn provider_kind_follows_the_oauth_app_provider() {
    use crate::oauth_app::Provider;
    assert_eq!(ProviderKind::from(Provider::Google), ProviderKind::Google);
    assert_eq!(
        ProviderKind::from(Provider::Microsoft),
        ProviderKind::Microsoft
    );
    assert_eq!(ProviderKind::from(Provider::Generic), ProviderKind::Generic);
}

#[test]
fn provider_kind_of_a_host() {
    for (host, kind) in [
        ("imap.gmail.com", ProviderKind::Google),
        ("SMTP.Gmail.com.", ProviderKind::Google),
        ("gmail.googleapis.com", ProviderKind::Google),
        ("outlook.office365.com", ProviderKind::Microsoft),
        ("smtp-mail.outlook.com", ProviderKind::Microsoft),
        ("notgmail.com", ProviderKind::Generic),
        ("127.0.0.1", ProviderKind::Generic),
        ("mail.example.com", ProviderKind::Generic),
    ] {
        assert_eq!(ProviderKind::of_host(host), kind, "{host}");
    }
}
