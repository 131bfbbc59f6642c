//! Rendering: what the headers say, what they never say, and round trips through `mail::parse`.

use super::*;
use crate::mail::{Ours, ThreadHint, new_message_id, parse, thread_hint};

const DOMAIN: &str = "helpdesk.example.com";
const MARKER: &str = "support@example.com";

fn server() -> DraftAddress {
    DraftAddress::parse("from", "Support Desk <support@example.com>").unwrap()
}

fn rendered(draft: &Draft, message_id: &str) -> String {
    let from = server();
    let c = Compose {
        from: &from,
        reply_to: None,
        message_id,
        date: chrono::DateTime::from_timestamp(1_795_000_000, 0).unwrap(),
        loop_marker: MARKER,
    };
    String::from_utf8(render(draft, &c)).expect("ASCII output")
}

fn of_type<'a>(
    files: &'a [crate::mail::Attachment],
    content_type: &str,
) -> &'a crate::mail::Attachment {
    files
        .iter()
        .find(|a| a.content_type == content_type)
        .unwrap()
}

fn header_block(raw: &str) -> &str {
    raw.split("\r\n\r\n").next().unwrap()
}

#[test]
fn headers_of_a_simple_message() {
    let d = DraftInput {
        cc: Some(vec!["cc@example.net".into()]),
        bcc: Some(vec!["Hidden Person <hidden@example.net>".into()]),
        headers: Some([("X-Ticket-Id".into(), "42".into())].into()),
        ..input()
    }
    .parse()
    .unwrap();
    let raw = rendered(&d, "<m1@helpdesk.example.com>");
    let head = header_block(&raw);
    for line in [
        "From: \"Support Desk\" <support@example.com>",
        "To: \"Jane Doe\" <jane@example.net>",
        "Cc: <cc@example.net>",
        "Subject: Printer",
        "Message-ID: <m1@helpdesk.example.com>",
        "X-Loop: support@example.com",
        "X-Ticket-Id: 42",
        "MIME-Version: 1.0",
        "Date: ",
    ] {
        assert!(head.contains(line), "{line:?} missing in:\n{head}");
    }
    assert!(!raw.to_ascii_lowercase().contains("bcc"), "{raw}");
    assert!(!raw.contains("hidden"), "{raw}");
    assert!(!head.contains("Auto-Submitted") && !head.contains("Reply-To"));
    let all: Vec<&str> = d.recipients().iter().map(|e| e.as_str()).collect();
    assert_eq!(
        all,
        ["jane@example.net", "cc@example.net", "hidden@example.net"]
    );
}

#[test]
fn the_gmail_api_copy_keeps_bcc_for_gmail_to_read() {
    let d = DraftInput {
        bcc: Some(vec!["hidden@example.net".into()]),
        ..input()
    }
    .parse()
    .unwrap();
    let from = server();
    let c = Compose {
        from: &from,
        reply_to: None,
        message_id: "<m@x>",
        date: chrono::Utc::now(),
        loop_marker: MARKER,
    };
    let raw = String::from_utf8(render_for_gmail_api(&d, &c)).unwrap();
    assert!(
        header_block(&raw).contains("Bcc: <hidden@example.net>"),
        "{raw}"
    );
}

#[test]
fn names_and_reply_to_come_from_the_draft_before_the_server() {
    let from = server();
    let server_reply = DraftAddress::parse("reply_to", "helpdesk@example.com").unwrap();
    let c = |reply_to| Compose {
        from: &from,
        reply_to,
        message_id: "<m@x>",
        date: chrono::Utc::now(),
        loop_marker: MARKER,
    };
    let plain = input().parse().unwrap();
    let raw = String::from_utf8(render(&plain, &c(Some(&server_reply)))).unwrap();
    assert!(raw.contains("Reply-To: <helpdesk@example.com>"), "{raw}");

    let own = DraftInput {
        from_name: Some("Pat from Support".into()),
        reply_to: Some("pat@example.com".into()),
        ..input()
    }
    .parse()
    .unwrap();
    let raw = String::from_utf8(render(&own, &c(Some(&server_reply)))).unwrap();
    assert!(
        raw.contains("From: \"Pat from Support\" <support@example.com>"),
        "{raw}"
    );
    assert!(
        raw.contains("Reply-To: <pat@example.com>") && !raw.contains("helpdesk@"),
        "{raw}"
    );
}

#[test]
fn an_empty_subject_writes_no_subject_header() {
    let d = DraftInput {
        subject: Some(String::new()),
        ..input()
    }
    .parse()
    .unwrap();
    assert!(!rendered(&d, "<m@x>").contains("Subject:"));
}

#[test]
fn a_round_trip_through_our_parser_keeps_everything() {
    let mut d = DraftInput {
        to: Some(vec!["\"Doe, Jane\" <jane@example.net>".into()]),
        cc: Some(vec!["Zoë Ünïcode <zoe@example.net>".into()]),
        subject: Some("Drucker kaputt — 打印机 ✓".into()),
        text: Some("Grüße,\nder Drucker druckt leere Seiten.\n".into()),
        html: Some("<p>Grüße, <img src=\"cid:logo@example.net\"></p>".into()),
        from_name: Some("Support Österreich".into()),
        attachments: Some(vec![
            file(
                "Jahresabschluß, 2024.pdf",
                Some("application/pdf"),
                b"%PDF-1.7\x00\xff",
            ),
            AttachmentInput {
                content_id: Some("logo@example.net".into()),
                ..file("logo.png", Some("image/png"), b"\x89PNG\r\n")
            },
        ]),
        ..input()
    }
    .parse()
    .unwrap();
    d.in_reply_to = Some("parent@elsewhere.example".into());
    d.references = vec![
        "root@elsewhere.example".into(),
        "parent@elsewhere.example".into(),
    ];
    let raw = rendered(&d, "<m2@helpdesk.example.com>");
    let p = parse(raw.as_bytes());
    assert!(p.problems.is_empty(), "{:?}", p.problems);
    let from = p.from.unwrap();
    assert_eq!(
        (from.name.as_deref(), from.address.as_str()),
        (Some("Support Österreich"), "support@example.com")
    );
    assert_eq!(
        (p.to[0].name.as_deref(), p.to[0].address.as_str()),
        (Some("Doe, Jane"), "jane@example.net")
    );
    assert_eq!(p.cc[0].name.as_deref(), Some("Zoë Ünïcode"));
    assert_eq!(p.subject, "Drucker kaputt — 打印机 ✓");
    assert_eq!(
        p.text.trim_end(),
        "Grüße,\nder Drucker druckt leere Seiten."
    );
    assert_eq!(p.html.as_deref(), d.html.as_deref());
    assert_eq!(p.message_id.as_deref(), Some("m2@helpdesk.example.com"));
    assert_eq!(p.in_reply_to, ["parent@elsewhere.example"]);
    assert_eq!(
        p.references,
        ["root@elsewhere.example", "parent@elsewhere.example"]
    );
    assert_eq!(p.date.map(|d| d.timestamp()), Some(1_795_000_000));
    assert_eq!(p.attachments.len(), 2, "{:?}", p.attachments);
    let pdf = of_type(&p.attachments, "application/pdf");
    assert_eq!(
        (pdf.filename.as_str(), pdf.content.as_slice(), pdf.inline),
        ("Jahresabschluß, 2024.pdf", &b"%PDF-1.7\x00\xff"[..], false)
    );
    let logo = of_type(&p.attachments, "image/png");
    assert_eq!(
        (logo.content.as_slice(), logo.inline),
        (&b"\x89PNG\r\n"[..], true)
    );
    assert_eq!(logo.content_id.as_deref(), Some("logo@example.net"));
    assert!(
        raw.contains("multipart/related")
            && raw.contains("multipart/alternative")
            && raw.contains("multipart/mixed")
    );
}

#[test]
fn output_is_7_bit_with_short_lines() {
    let long_word = "ü".repeat(3000);
    let d = DraftInput {
        subject: Some(format!("Ärger {}", "wort ".repeat(100))),
        text: Some(format!("{long_word}\n{}", "x".repeat(5000))),
        html: Some(format!("<p>{}</p>", "ä".repeat(4000))),
        from_name: Some("Ünïcode Name".into()),
        headers: Some([("X-Note".into(), format!("ü{}", "n".repeat(899)))].into()),
        attachments: Some(vec![file(
            &format!("{}.txt", "é".repeat(150)),
            Some("text/plain"),
            "é\n".repeat(900).as_bytes(),
        )]),
        ..input()
    }
    .parse()
    .unwrap();
    let raw = rendered(&d, "<m3@helpdesk.example.com>");
    assert!(raw.is_ascii());
    for line in raw.split("\r\n") {
        assert!(
            line.len() <= 998,
            "{} bytes: {}...",
            line.len(),
            &line[..80]
        );
        assert!(
            !line.contains('\r') && !line.contains('\n'),
            "bare line ending"
        );
    }
    let p = parse(raw.as_bytes());
    assert!(p.text.starts_with(&long_word), "{}", &p.text[..40]);
    assert_eq!(p.attachments[0].content, "é\n".repeat(900).as_bytes());
}

#[test]
fn a_reply_to_one_of_our_messages_threads_back() {
    let ours_id = new_message_id(DOMAIN);
    let mut d = input().parse().unwrap();
    d.in_reply_to = Some(ours_id.clone());
    d.references = vec![ours_id.clone()];
    let p = parse(rendered(&d, &new_message_id(DOMAIN)).as_bytes());
    let addresses = vec![MARKER.to_owned()];
    let ours = Ours {
        message_id_domain: DOMAIN,
        loop_marker: MARKER,
        addresses: &addresses,
    };
    let bare = ours_id.trim_matches(['<', '>']).to_owned();
    assert_eq!(
        thread_hint(&p, &ours, "#"),
        ThreadHint::MessageIds(vec![bare])
    );
}

#[test]
fn a_stored_draft_cannot_smuggle_headers() {
    let mut d = input().parse().unwrap();
    d.headers = vec![
        ("Bcc".into(), "evil@example.org".into()),
        ("X-A\r\nBcc".into(), "evil@example.org".into()),
        ("X-B".into(), "v\r\nBcc: evil@example.org".into()),
    ];
    d.in_reply_to = Some("a\r\nBcc: evil@example.org".into());
    d.attachments = vec![DraftAttachment {
        filename: "x\r\nBcc: evil@example.org".into(),
        content_type: "text/plain\r\nBcc: evil@example.org".into(),
        content: b"x".to_vec(),
        content_id: Some("id\r\nBcc: evil@example.org".into()),
    }];
    let raw = rendered(&d, "<m4@helpdesk.example.com>");
    assert!(!raw.contains("\nBcc"), "{raw}");
    let p = parse(raw.as_bytes());
    assert!(p.in_reply_to.is_empty());
    assert_eq!(p.attachments[0].content_type, "application/octet-stream");
}
