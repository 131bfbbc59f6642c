//! Drafts: each validation rule with the field it names, the header-injection guard in every
//! header-bound field, and rendering round trips through our own parser.

mod injection;
mod render;
mod rules;

use super::*;

/// A valid draft to vary: one recipient, a subject, a text body.
fn input() -> DraftInput {
    DraftInput {
        to: Some(vec!["Jane Doe <jane@example.net>".into()]),
        subject: Some("Printer".into()),
        text: Some("It prints blank pages.".into()),
        ..DraftInput::default()
    }
}

fn file(name: &str, content_type: Option<&str>, bytes: &[u8]) -> AttachmentInput {
    AttachmentInput {
        filename: Some(name.into()),
        content_type: content_type.map(Into::into),
        content_base64: Some(STANDARD.encode(bytes)),
        content_id: None,
    }
}

/// The errors of an input that must fail; each names a field and says how to fix it.
fn errors(input: DraftInput) -> Vec<FieldError> {
    let errors = input
        .parse()
        .expect_err("the draft must be refused")
        .into_vec();
    for e in &errors {
        assert!(
            e.hint.as_deref().is_some_and(|h| !h.is_empty()),
            "no hint: {e}"
        );
    }
    errors
}

/// The one error of an input that must fail for exactly one reason.
fn error(input: DraftInput) -> FieldError {
    let mut all = errors(input);
    assert_eq!(all.len(), 1, "{all:?}");
    all.remove(0)
}

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
