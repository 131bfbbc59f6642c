//! Every diagnosis the core crate builds itself, produced once, and found in the catalog with
//! its severity, a message and a hint. The domain crate's catalog tests cover the codes its
//! areas build; together they cover `Code::ALL`. A code cannot be built from a string: the only
//! way from text to a code is `Code::parse`, used where a stored diagnosis is read back.

use crate::oauth::consent::ConsentError;
use crate::oauth::{service_account, token_client};
use crate::receive::error::WatchError;
use crate::token_error::TokenError;
use crate::tokens;
use mailgate_domain::troubleshoot::{CATALOG, Code, Diagnosis, RAISED_IN_CORE, lookup};
use mailgate_store::{StateUse, StoreError};
use std::collections::BTreeSet;

/// Every error the token path builds itself (the provider's answers are read by the domain's
/// catalog, whose tests cover them).
fn built_token_errors() -> impl Iterator<Item = TokenError> {
    [
        TokenError::Refused(token_client::unreadable(
            "https://oauth2.example/token",
            200,
        )),
        service_account::bad_key("the key is not PEM"),
        TokenError::Refused(tokens::authorization_required()),
        TokenError::store(&StoreError::Corrupt("a row".into())),
    ]
    .into_iter()
}

/// What each path of the core crate that builds its own diagnosis can produce: every variant of
/// a consent's failure, every error the token path builds itself, and what a watcher reports.
fn produced() -> Vec<Diagnosis> {
    let consent = [
        ConsentError::internal("boom"),
        ConsentError::ServerGone,
        ConsentError::NoRefreshToken,
        ConsentError::AccountUnknown,
        ConsentError::state(StateUse::Expired),
        ConsentError::state(StateUse::AlreadyUsed),
        ConsentError::state(StateUse::Unknown),
        ConsentError::Token(TokenError::store(&StoreError::Corrupt("a row".into()))),
    ];
    let mut all: Vec<Diagnosis> = consent.iter().map(ConsentError::diagnosis).collect();
    all.extend(built_token_errors().map(TokenError::into_diagnosis));
    all.extend([
        tokens::stored_diagnosis("authorization_required", None),
        tokens::stored_diagnosis("needs_reauthorization", None),
        tokens::stored_diagnosis("failed", None),
        // A stored code the catalog no longer knows falls back to the status's code.
        tokens::stored_diagnosis(
            "needs_reauthorization",
            Some(r#"{"code":"retired_code","message":"m","hint":"h"}"#),
        ),
        WatchError::Store(StoreError::Corrupt("a row".into())).diagnosis(),
        WatchError::Internal("a bug".into()).diagnosis(),
        WatchError::Config("no password is stored".into()).diagnosis(),
    ]);
    all
}

/// The token path picks its variant where a failure is known; each pick agrees with what the
/// catalog's code and severity say (the one sorting `TokenError::classify` does), so a watcher or
/// the outbox decides the same whichever path the failure took.
#[test]
fn each_token_error_built_in_core_is_sorted_as_the_catalog_sorts_it() {
    for e in built_token_errors() {
        let sorted = TokenError::classify(e.diagnosis().clone());
        assert_eq!(
            std::mem::discriminant(&e),
            std::mem::discriminant(&sorted),
            "{e:?}"
        );
    }
}

#[test]
fn every_code_core_raises_is_in_the_catalog_with_a_message_and_a_hint() {
    let mut seen = BTreeSet::new();
    for d in produced() {
        let entry =
            lookup(d.code.as_str()).unwrap_or_else(|| panic!("{} is not in the catalog", d.code));
        assert_eq!(d.severity, entry.severity, "{}", d.code);
        assert!(!d.message.trim().is_empty(), "{} has no message", d.code);
        assert!(!d.hint.trim().is_empty(), "{} has no hint", d.code);
        seen.insert(d.code.as_str());
    }
    // Each code the catalog says core raises is produced above.
    for code in RAISED_IN_CORE {
        assert!(
            seen.contains(code.as_str()),
            "{code} is never produced here"
        );
    }
}

#[test]
fn every_code_has_a_catalog_line_with_a_summary() {
    assert_eq!(Code::ALL.len(), CATALOG.len());
    for code in Code::ALL {
        let entry = code.entry();
        assert_eq!(Code::parse(code.as_str()), Some(*code));
        assert!(entry.summary.ends_with('.'), "{code}: {}", entry.summary);
    }
}

/// No source file of the core crate writes a code as a string where a diagnosis is built: codes
/// are `Code` values, so the compiler already refuses `code: "..."`; this catches a code
/// compared or parsed as text (`code == "..."`, `matches!(code, "...")`, `lookup("...")`).
#[test]
fn no_code_is_compared_or_looked_up_as_text() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut offenders = Vec::new();
    let mut stack = vec![root];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).expect("src is readable") {
            let path = entry.expect("a directory entry").path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            if path.file_name().is_some_and(|n| n == "raised_codes.rs") {
                continue;
            }
            let text = std::fs::read_to_string(&path).expect("a source file");
            for (n, line) in text.lines().enumerate() {
                let l = line.replace(' ', "");
                if l.contains(".code==\"")
                    || l.contains("matches!(code,\"")
                    || l.contains("lookup(\"")
                    || l.contains("Code::parse(\"")
                    || l.contains("code:\"")
                {
                    offenders.push(format!("{}:{}: {line}", path.display(), n + 1));
                }
            }
        }
    }
    assert!(
        offenders.is_empty(),
        "codes as text:\n{}",
        offenders.join("\n")
    );
}
