//! The header-injection guard: a line break or another control character is refused in every
//! field that ends up in a header, and the error names that field.

use super::*;

#[test]
fn line_breaks_and_controls_are_refused_in_every_header_bound_field() {
    for evil in [
        "\r\nBcc: evil@example.org",
        "\nX: y",
        "\r",
        "\u{0}",
        "\t",
        "\u{85}",
        "\u{2028}",
    ] {
        let addr = format!("jane@example.net{evil}");
        let text = format!("Jane{evil}");
        let attach = |f: fn(&mut AttachmentInput, String)| {
            let mut a = file("a.txt", None, b"x");
            f(&mut a, text.clone());
            Some(vec![a])
        };
        let cases: Vec<(&str, DraftInput)> = vec![
            (
                "to[0]",
                DraftInput {
                    to: Some(vec![addr.clone()]),
                    ..input()
                },
            ),
            (
                "to[0]",
                DraftInput {
                    to: Some(vec![format!("{text} <j@example.net>")]),
                    ..input()
                },
            ),
            (
                "cc[0]",
                DraftInput {
                    cc: Some(vec![addr.clone()]),
                    ..input()
                },
            ),
            (
                "bcc[0]",
                DraftInput {
                    bcc: Some(vec![addr.clone()]),
                    ..input()
                },
            ),
            (
                "subject",
                DraftInput {
                    subject: Some(text.clone()),
                    ..input()
                },
            ),
            (
                "reply_to",
                DraftInput {
                    reply_to: Some(addr.clone()),
                    ..input()
                },
            ),
            (
                "from_name",
                DraftInput {
                    from_name: Some(text.clone()),
                    ..input()
                },
            ),
            (
                "headers.X-A",
                DraftInput {
                    headers: Some([("X-A".into(), text.clone())].into()),
                    ..input()
                },
            ),
            (
                "attachments[0].filename",
                DraftInput {
                    attachments: attach(|a, t| a.filename = Some(t)),
                    ..input()
                },
            ),
            (
                "attachments[0].content_id",
                DraftInput {
                    attachments: attach(|a, t| a.content_id = Some(t)),
                    ..input()
                },
            ),
            (
                "attachments[0].content_type",
                DraftInput {
                    attachments: attach(|a, t| a.content_type = Some(t)),
                    ..input()
                },
            ),
        ];
        for (field, draft) in cases {
            let e = error(draft);
            assert_eq!(e.field, field, "{evil:?}");
        }
        let name = format!("X-A{evil}");
        let e = error(DraftInput {
            headers: Some([(name.clone(), "v".into())].into()),
            ..input()
        });
        assert_eq!(e.field, format!("headers.{}", name.escape_debug()));
        assert!(!e.field.contains(['\r', '\n']));
    }
}
