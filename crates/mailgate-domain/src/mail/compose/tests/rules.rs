//! Validation: one rule at a time.

use super::*;

#[test]
fn mailboxes_known_answers() {
    let cases: &[(&str, Option<&str>, &str)] = &[
        ("jane@example.net", None, "jane@example.net"),
        ("  <jane@Example.NET> ", None, "jane@example.net"),
        (
            "Jane Doe <jane@example.net>",
            Some("Jane Doe"),
            "jane@example.net",
        ),
        (
            "\"Doe, J\" <j@example.net>",
            Some("Doe, J"),
            "j@example.net",
        ),
        (
            r#""Q \"x\" \\ y" <q@example.net>"#,
            Some(r#"Q "x" \ y"#),
            "q@example.net",
        ),
        (
            "Zoë Ünïcode <z@example.net>",
            Some("Zoë Ünïcode"),
            "z@example.net",
        ),
        ("\"\" <e@example.net>", None, "e@example.net"),
        ("a<b <ab@example.net>", Some("a<b"), "ab@example.net"),
    ];
    for (text, name, email) in cases {
        let m = DraftAddress::parse("to[0]", text).unwrap_or_else(|e| panic!("{text}: {e}"));
        assert_eq!(
            (m.name.as_deref(), m.email.as_str()),
            (*name, *email),
            "{text}"
        );
    }
    for text in [
        "",
        "Jane",
        "Jane <>",
        "Jane <jane>",
        "jane@example.net>",
        "a@b@",
    ] {
        let e = DraftAddress::parse("cc[3]", text).expect_err(text);
        assert_eq!(e.field, "cc[3]", "{text}");
        assert!(e.hint.is_some(), "{text}");
    }
    let long = format!("{} <l@example.net>", "n".repeat(201));
    assert!(DraftAddress::parse("to[0]", &long).is_err());
}

#[test]
fn a_minimal_draft_parses() {
    let d = input().parse().unwrap();
    assert_eq!(d.to[0].name.as_deref(), Some("Jane Doe"));
    assert_eq!(d.subject, "Printer");
    assert!(d.cc.is_empty() && d.bcc.is_empty() && d.attachments.is_empty());
    assert_eq!((d.html, d.reply_to, d.from_name), (None, None, None));
    assert_eq!((d.in_reply_to, d.references.len()), (None, 0));
}

#[test]
fn recipients_are_required_and_at_most_100() {
    let none = DraftInput {
        to: None,
        cc: Some(vec![]),
        ..input()
    };
    assert_eq!(error(none).field, "to");

    let addresses = |n: usize| (0..n).map(|i| format!("r{i}@example.net")).collect();
    let too_many = DraftInput {
        to: Some(addresses(60)),
        bcc: Some(addresses(101)),
        ..input()
    };
    let e = error(too_many);
    assert_eq!(e.field, "to");
    assert!(
        e.message.contains("101") && e.message.contains("100"),
        "{e}"
    );
    assert!(e.hint.unwrap().contains("several messages"));

    // Counted once per address, whatever the case and the field.
    let mut bcc: Vec<String> = addresses(100);
    bcc.push("R0@EXAMPLE.NET".into());
    let at_limit = DraftInput {
        to: Some(addresses(50)),
        bcc: Some(bcc),
        ..input()
    };
    assert_eq!(at_limit.parse().unwrap().recipients().len(), 100);

    // Invalid entries are reported where they are, not as "no recipient".
    let bad = DraftInput {
        to: Some(vec!["x".into()]),
        ..input()
    };
    assert_eq!(error(bad).field, "to[0]");
}

#[test]
fn recipients_are_deduplicated_ignoring_case() {
    let d = DraftInput {
        to: Some(vec!["a@example.net".into(), "B@example.net".into()]),
        cc: Some(vec!["A@EXAMPLE.NET".into()]),
        bcc: Some(vec!["c@example.net".into(), "b@example.net".into()]),
        ..input()
    }
    .parse()
    .unwrap();
    let all: Vec<&str> = d.recipients().iter().map(|e| e.as_str()).collect();
    assert_eq!(all, ["a@example.net", "B@example.net", "c@example.net"]);
}

#[test]
fn the_subject_must_be_given_but_may_be_empty() {
    assert_eq!(
        error(DraftInput {
            subject: None,
            ..input()
        })
        .field,
        "subject"
    );
    let empty = DraftInput {
        subject: Some(String::new()),
        ..input()
    };
    assert_eq!(empty.parse().unwrap().subject, "");
    let trimmed = DraftInput {
        subject: Some("  Printer  ".into()),
        ..input()
    };
    assert_eq!(trimmed.parse().unwrap().subject, "Printer");
    let long = DraftInput {
        subject: Some("s".repeat(MAX_SUBJECT_CHARS + 1)),
        ..input()
    };
    assert_eq!(error(long).field, "subject");
}

#[test]
fn a_body_is_required() {
    let none = DraftInput {
        text: Some("  \n".into()),
        html: None,
        ..input()
    };
    assert_eq!(error(none).field, "text");
    let html_only = DraftInput {
        text: None,
        html: Some("<p>Hi</p>".into()),
        ..input()
    };
    assert!(html_only.parse().unwrap().text.is_none());
    let nul = DraftInput {
        html: Some("a\0b".into()),
        ..input()
    };
    assert_eq!(error(nul).field, "html");
}

#[test]
fn extra_headers_are_checked() {
    let with = |name: &str, value: &str| DraftInput {
        headers: Some([(name.to_owned(), value.to_owned())].into()),
        ..input()
    };
    let d = with("X-Ticket-Id", " 42 ").parse().unwrap();
    assert_eq!(d.headers, [("X-Ticket-Id".to_owned(), "42".to_owned())]);

    for name in ["X Foo", "X:Foo", "", "Ünï", &"X".repeat(77)] {
        let e = error(with(name, "v"));
        assert_eq!(
            e.field,
            format!("headers.{}", name.escape_debug()),
            "{name}"
        );
    }
    for name in [
        "From",
        "sender",
        "TO",
        "Cc",
        "Bcc",
        "Subject",
        "Date",
        "Message-ID",
        "MIME-Version",
        "Content-Type",
        "content-transfer-encoding",
        "Reply-To",
        "In-Reply-To",
        "References",
        "X-Loop",
        "Return-Path",
        "Received",
        "DKIM-Signature",
        "Resent-From",
        "Authentication-Results",
        "ARC-Seal",
        "arc-message-signature",
        "ARC-Authentication-Results",
        "Received-SPF",
        "DomainKey-Signature",
        "Delivered-To",
    ] {
        let e = error(with(name, "v"));
        assert_eq!(e.field, format!("headers.{name}"));
        assert!(e.message.contains("cannot be set"), "{name}: {e}");
    }
    assert!(
        error(with("Reply-To", "x"))
            .hint
            .unwrap()
            .contains("reply_to")
    );
    assert!(
        error(with("ARC-Seal", "i=1; a=rsa-sha256"))
            .hint
            .unwrap()
            .contains("only mail servers")
    );
    assert_eq!(error(with("X-Empty", " ")).field, "headers.X-Empty");
    assert_eq!(
        error(with("X-Long", &"v".repeat(901))).field,
        "headers.X-Long"
    );

    let many = DraftInput {
        headers: Some(
            (0..51)
                .map(|i| (format!("X-H{i}"), "v".to_owned()))
                .collect(),
        ),
        ..input()
    };
    assert_eq!(error(many).field, "headers");
}

#[test]
fn attachments_are_decoded_named_and_typed() {
    let d = DraftInput {
        attachments: Some(vec![
            file("report.pdf", Some("Application/PDF"), b"%PDF"),
            file("../../etc/passwd", None, b"root"),
            file("C:\\Users\\x\\notes.txt", Some("text/plain"), b""),
            AttachmentInput {
                content_base64: Some("aGVs\r\nbG8=\n".into()),
                content_id: Some("<logo@example.net>".into()),
                ..file("logo.png", Some("image/png"), b"")
            },
        ]),
        ..input()
    }
    .parse()
    .unwrap();
    let a = &d.attachments;
    assert_eq!(
        (a[0].filename.as_str(), a[0].content_type.as_str()),
        ("report.pdf", "application/pdf")
    );
    assert_eq!(a[0].content, b"%PDF");
    assert_eq!(
        (a[1].filename.as_str(), a[1].content_type.as_str()),
        ("passwd", "application/octet-stream")
    );
    assert_eq!(a[2].filename, "notes.txt");
    assert_eq!(
        (a[3].content.as_slice(), a[3].content_id.as_deref()),
        (&b"hello"[..], Some("logo@example.net"))
    );
}

#[test]
fn bad_attachments_name_the_field() {
    let one = |a: AttachmentInput| {
        let files = vec![file("ok.txt", None, b"ok"), a];
        error(DraftInput {
            attachments: Some(files),
            ..input()
        })
        .field
    };
    let f = |name: &str| file(name, None, b"x");
    assert_eq!(
        one(AttachmentInput {
            filename: None,
            ..f("x")
        }),
        "attachments[1].filename"
    );
    assert_eq!(one(f("  ")), "attachments[1].filename");
    let no_content = AttachmentInput {
        content_base64: None,
        ..f("x")
    };
    assert_eq!(one(no_content), "attachments[1].content_base64");
    let bad_base64 = AttachmentInput {
        content_base64: Some("not base64!".into()),
        ..f("x")
    };
    assert_eq!(one(bad_base64), "attachments[1].content_base64");
    let url_safe = AttachmentInput {
        content_base64: Some("_-_-".into()),
        ..f("x")
    };
    assert_eq!(one(url_safe), "attachments[1].content_base64");
    for ct in [
        "pdf",
        "text/plain; charset=utf-8",
        "multipart/mixed",
        "message/rfc822",
        "a/b/c",
        "ä/b",
    ] {
        assert_eq!(
            one(file("x", Some(ct), b"x")),
            "attachments[1].content_type",
            "{ct}"
        );
    }
    for id in ["", "a b", "<>", "a<b"] {
        let a = AttachmentInput {
            content_id: Some(id.into()),
            ..f("x")
        };
        assert_eq!(one(a), "attachments[1].content_id", "{id:?}");
    }
    let twice = |id: &str| AttachmentInput {
        content_id: Some(id.into()),
        ..f("x")
    };
    let dup = DraftInput {
        attachments: Some(vec![twice("logo"), twice("<LOGO>")]),
        ..input()
    };
    assert_eq!(error(dup).field, "attachments[1].content_id");
}

#[test]
fn content_is_capped_at_25_mib() {
    let big = vec![0u8; MAX_CONTENT_BYTES - 10];
    let fits = DraftInput {
        text: Some("0123456789".into()),
        attachments: Some(vec![file("big.bin", None, &big)]),
        ..input()
    };
    assert!(fits.parse().is_ok());
    let over = DraftInput {
        text: Some("0123456789!".into()),
        attachments: Some(vec![file("big.bin", None, &big)]),
        ..input()
    };
    let e = error(over);
    assert_eq!(e.field, "attachments");
    assert!(e.message.contains("25 MB"), "{e}");
}

#[test]
fn every_problem_is_reported_at_once() {
    let all = errors(DraftInput {
        to: Some(vec!["nope".into()]),
        subject: None,
        text: None,
        headers: Some([("Bcc".into(), "x@example.org".into())].into()),
        ..DraftInput::default()
    });
    let fields: Vec<&str> = all.iter().map(|e| e.field.as_str()).collect();
    assert_eq!(fields, ["to[0]", "subject", "text", "headers.Bcc"]);
}

#[test]
fn drafts_are_stored_as_json_with_base64_files() {
    let d = DraftInput {
        attachments: Some(vec![file("a.bin", None, &[0, 255, 10])]),
        ..input()
    }
    .parse()
    .unwrap();
    let json = serde_json::to_value(&d).unwrap();
    assert_eq!(json["attachments"][0]["content"], "AP8K");
    assert_eq!(json["to"][0]["email"], "jane@example.net");
    let back: Draft = serde_json::from_value(json).unwrap();
    assert_eq!(back, d);
    assert!(format!("{:?}", d.attachments[0]).contains("<3 bytes>"));
    let input: Result<DraftInput, _> = serde_json::from_str(r#"{"to":[],"sender":"x"}"#);
    assert!(input.is_err(), "unknown fields are refused");
}
