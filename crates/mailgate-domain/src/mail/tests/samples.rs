//! Known answers for each sample: the fields that matter, its kind and its thread hint.

use super::*;

struct Want {
    sample: (&'static str, &'static [u8]),
    message_id: Option<&'static str>,
    /// Address and display name.
    from: Option<(&'static str, Option<&'static str>)>,
    subject: &'static str,
    /// RFC 3339, UTC.
    date: Option<&'static str>,
    text: &'static str,
    has_html: bool,
    attachments: &'static [&'static str],
    problems: &'static [&'static str],
    kind: Kind,
    thread: ThreadHint,
}

fn auto(reason: &str) -> Kind {
    Kind::AutoReply {
        reason: reason.to_owned(),
    }
}

fn table() -> Vec<Want> {
    let base = |sample| Want {
        sample,
        message_id: None,
        from: None,
        subject: "",
        date: None,
        text: "",
        has_html: false,
        attachments: &[],
        problems: &[],
        kind: Kind::Normal,
        thread: ThreadHint::None,
    };
    vec![
        Want {
            message_id: Some("CAFx1a2b3c@mail.example.org"),
            from: Some(("Alice.Mueller@example.org", Some("Alice Müller"))),
            subject: "Café machine is broken",
            date: Some("2026-03-03T08:15:00+00:00"),
            text: "Hello support,\n\nthe café machine on floor 3 is broken again.\n\nThanks,\nAlice",
            ..base(sample!("plain"))
        },
        Want {
            message_id: Some("alt-0001@example.org"),
            from: Some(("bob@example.org", Some("Bob Builder"))),
            subject: "VPN does not connect",
            date: Some("2026-03-04T19:02:11+00:00"),
            text: "Hi,\n\nthe VPN client says “authentication failed” since this morning.\n\nBob",
            has_html: true,
            ..base(sample!("alternative"))
        },
        Want {
            message_id: Some("html-only-1@example.org"),
            from: Some(("dan@example.org", Some("Dan"))),
            subject: "Printer",
            date: Some("2026-03-05T08:00:00+00:00"),
            text: "Dear team,\n\nthe printer says \"PC LOAD LETTER\" & stops.\nModel: HP 4050 – floor 2\n\nTried restarting\nTried new paper\n\nRegards,\nDan",
            has_html: true,
            ..base(sample!("html_only"))
        },
        Want {
            message_id: Some("att-1@example.org"),
            from: Some(("grace@example.org", Some("Grace"))),
            subject: "Files for my ticket",
            date: Some("2026-03-06T10:30:00+00:00"),
            text: "See the screenshot:",
            has_html: true,
            attachments: &[
                "screen shot.png",
                "passwd",
                "Übersicht März €.pdf",
                "attachment-4.bin",
                "notes.txt",
                "notes.txt",
                "invoicefdp.exe",
            ],
            ..base(sample!("attachments"))
        },
        Want {
            message_id: Some("latin1-1@example.de"),
            from: Some(("heidi@example.de", Some("Heidi"))),
            subject: "Umlaute",
            date: Some("2026-03-07T09:00:00+00:00"),
            text: "Grüße aus Köln, À bientôt!",
            ..base(sample!("latin1"))
        },
        Want {
            message_id: Some("cp1252-1@example.com"),
            from: Some(("ivan@example.com", Some("Ivan"))),
            subject: "Quotes",
            date: Some("2026-03-07T09:05:00+00:00"),
            text: "“Smart quotes” cost € 5 – really.",
            ..base(sample!("cp1252"))
        },
        Want {
            message_id: Some("CAHvac4ti0n+example@mail.gmail.com"),
            from: Some(("erin.example@gmail.com", Some("Erin Example"))),
            subject: "Away until March 10",
            date: Some("2026-03-09T14:12:44+00:00"),
            text: "I am on vacation until March 10 with limited access to email.",
            has_html: true,
            kind: auto("Auto-Submitted: auto-replied"),
            thread: ThreadHint::MessageIds(vec![
                "5f0c2e8a9b7d4c1e8f6a3b2c1d0e9f8a@helpdesk.example.com".into(),
            ]),
            ..base(sample!("gmail_vacation"))
        },
        Want {
            message_id: Some("AM0PR01MB1234ABCD@AM0PR01MB1234.eurprd01.prod.outlook.com"),
            from: Some(("Frank@contoso.example", Some("Frank Office"))),
            subject: "Automatic reply: [#88] Printer toner",
            date: Some("2026-03-09T15:01:02+00:00"),
            text: "I am out of the office until Monday. For urgent matters call the desk.",
            kind: auto("X-Auto-Response-Suppress: All"),
            thread: ThreadHint::MessageIds(vec![
                "aa11bb22cc33dd44ee55ff6677889900@helpdesk.example.com".into(),
            ]),
            ..base(sample!("outlook_oof"))
        },
        Want {
            message_id: Some("digest-12@lists.example.org"),
            from: Some(("digest@lists.example.org", Some("Weekly Digest"))),
            subject: "[announce] Weekly digest #12",
            date: Some("2026-03-09T06:00:00+00:00"),
            text: "This week: nothing happened.",
            kind: Kind::Normal,
            ..base(sample!("mailing_list"))
        },
        Want {
            message_id: Some("20260304100005.ABC1234@mx.example.net"),
            from: Some(("MAILER-DAEMON@mx.example.net", Some("Mail Delivery System"))),
            subject: "Undelivered Mail Returned to Sender",
            date: Some("2026-03-04T10:00:05+00:00"),
            text: "This is the mail system at host mx.example.net.\n\nI'm sorry to have to inform you that your message could not\nbe delivered to one or more recipients.\n\n<nobody@example.net>: host mx.example.net[192.0.2.1] said: 550 5.1.1\n    <nobody@example.net>: Recipient address rejected: User unknown",
            attachments: &["attachment-1.txt", "[#42] Your printer ticket.eml"],
            // Auto-Submitted is there too: a bounce is the more precise answer.
            kind: Kind::Bounce {
                original_message_id: Some("5f0c2e8a9b7d4c1e8f6a3b2c1d0e9f8a@helpdesk.example.com".into()),
                recipient: Some("nobody@example.net".into()),
                reason: "5.1.1: 550 5.1.1 <nobody@example.net>: Recipient address rejected: User unknown".into(),
            },
            ..base(sample!("dsn_bounce"))
        },
        Want {
            message_id: Some("dsn-exchange-1@outlook.example"),
            from: Some(("postmaster@outlook.example", None)),
            subject: "Undeliverable: [#43] Re: VPN",
            date: Some("2026-03-05T12:00:00+00:00"),
            text: "Delivery has failed to these recipients or groups:\n\nfull@outlook.example\nThe recipient's mailbox is full and can't accept messages now.",
            attachments: &["attachment-1.txt", "attachment-2.txt"],
            // The first recipient was only delayed: the failed one is reported.
            kind: Kind::Bounce {
                original_message_id: Some("aa11bb22cc33dd44ee55ff6677889900@helpdesk.example.com".into()),
                recipient: Some("Full.Two@outlook.example".into()),
                reason: "5.2.2: 552 5.2.2 mailbox full".into(),
            },
            thread: ThreadHint::Tag(43),
            ..base(sample!("dsn_headers_only"))
        },
        Want {
            message_id: Some("E1abcde-000123-XY@mail.example.net"),
            from: Some(("Mailer-Daemon@mail.example.net", Some("Mail Delivery System"))),
            subject: "Mail delivery failed: returning message to sender",
            date: Some("2026-03-06T09:00:00+00:00"),
            text: include_str!("../../../testdata/mail/mailer_daemon.eml")
                .split_once("\n\n")
                .map(|(_, body)| body.trim_end())
                .unwrap_or_default(),
            kind: Kind::Bounce {
                original_message_id: Some("0badc0ffee0badc0ffee0badc0ffee00@helpdesk.example.com".into()),
                recipient: Some("gone@example.net".into()),
                reason: "550 5.1.1 <gone@example.net>: User unknown".into(),
            },
            ..base(sample!("mailer_daemon"))
        },
        Want {
            message_id: Some("fwd-1@example.org"),
            from: Some(("forwarder@example.org", Some("Some Forwarder"))),
            subject: "Fwd: Your ticket",
            date: Some("2026-03-06T12:00:00+00:00"),
            text: "Forwarded back to you.",
            kind: Kind::Loop { reason: "X-Loop: support@example.com".into() },
            ..base(sample!("x_loop"))
        },
        Want {
            message_id: Some("reply-2@example.org"),
            from: Some(("alice@example.org", Some("Alice"))),
            subject: "Re: Your printer ticket",
            date: Some("2026-03-07T09:00:00+00:00"),
            text: "Still broken, sorry.\n\n> Your ticket was updated.",
            // Ours first, then others' IDs; each In-Reply-To first, then References newest
            // first; repeats left out.
            thread: ThreadHint::MessageIds(vec![
                "5f0c2e8a9b7d4c1e8f6a3b2c1d0e9f8a@HELPDESK.example.com".into(),
                "11111111111111111111111111111111@helpdesk.example.com".into(),
                "reply-1@example.org".into(),
                "CAFx1a2b3c@mail.example.org".into(),
            ]),
            ..base(sample!("reply_thread"))
        },
        Want {
            message_id: Some("reply-3@example.org"),
            from: Some(("alice@example.org", Some("Alice"))),
            subject: "Re: [#123] Printer",
            date: Some("2026-03-07T09:30:00+00:00"),
            text: "Any news?",
            // Others' ids first; the tag is the fallback when none is on record.
            thread: ThreadHint::MessageIds(vec!["somewhere-else@example.org".into()]),
            ..base(sample!("reply_tag"))
        },
        Want {
            text: "This is just some text\nwithout any headers at all.",
            problems: &["no header fields found"],
            ..base(sample!("malformed_no_headers"))
        },
        Want {
            problems: &[
                "bare CR (a CR not followed by LF) in the header section",
                "header line without a colon (line 1, ignored)",
                "8-bit bytes in the header section (read as windows-1252)",
                "no From header",
                "no sender address in From, Sender, Reply-To or Return-Path",
                "no Date header",
            ],
            ..base(sample!("malformed_garbage"))
        },
        Want {
            message_id: Some("trunc-1@example.org"),
            from: Some(("kim@example.org", Some("Kim"))),
            subject: "Truncated upload",
            date: Some("2026-03-08T10:00:00+00:00"),
            text: "Here is the report.",
            attachments: &["report.pdf"],
            problems: &[
                "multipart boundary \"XYZ\" is never closed (truncated message?)",
                "MIME part 2 is malformed (kept as it was sent)",
            ],
            ..base(sample!("malformed_truncated"))
        },
        Want {
            message_id: Some("8bit-1@example.de"),
            from: Some(("jens@example.de", Some("Jürgen"))),
            subject: "Grüße aus Köln",
            date: Some("2026-03-07T09:10:00+00:00"),
            text: "No charset anywhere: München.",
            problems: &[
                "8-bit bytes in the From header (read as windows-1252)",
                "8-bit bytes in the Subject header (read as windows-1252)",
                "text of MIME part 0 is not valid UTF-8 (read as windows-1252)",
            ],
            ..base(sample!("malformed_8bit_header"))
        },
    ]
}

fn check(want: &Want, raw: &[u8], context: &str) {
    let addresses = our_addresses();
    let ours = ours(&addresses);
    let parsed = parse(raw);
    assert_invariants(&parsed, context);
    assert_eq!(
        parsed.message_id.as_deref(),
        want.message_id,
        "{context}: message_id"
    );
    let from = parsed
        .from
        .as_ref()
        .map(|m| (m.address.as_str(), m.name.as_deref()));
    assert_eq!(from, want.from, "{context}: from");
    assert_eq!(parsed.subject, want.subject, "{context}: subject");
    assert_eq!(
        parsed.date.map(|d| d.to_rfc3339()).as_deref(),
        want.date,
        "{context}: date"
    );
    assert_eq!(parsed.text, want.text, "{context}: text");
    assert_eq!(parsed.html.is_some(), want.has_html, "{context}: html");
    let names: Vec<_> = parsed
        .attachments
        .iter()
        .map(|a| a.filename.as_str())
        .collect();
    assert_eq!(names, want.attachments, "{context}: attachments");
    assert_eq!(parsed.problems, want.problems, "{context}: problems");
    assert_eq!(classify(&parsed, None, &ours), want.kind, "{context}: kind");
    assert_eq!(
        thread_hint(&parsed, &ours, "#"),
        want.thread,
        "{context}: thread"
    );
    assert_eq!(
        filter_text(&parsed),
        [parsed.subject.as_str(), parsed.text.as_str()]
    );
}

#[test]
fn every_sample_gives_its_known_answers() {
    let table = table();
    assert_eq!(table.len(), SAMPLES.len(), "every sample has a row");
    for want in &table {
        check(want, want.sample.1, want.sample.0);
    }
}

#[test]
fn crlf_line_ends_give_the_same_answers() {
    for want in table().iter().filter(|w| w.sample.0 != "malformed_garbage") {
        let mut crlf = Vec::new();
        for &b in want.sample.1 {
            if b == b'\n' {
                crlf.push(b'\r');
            }
            crlf.push(b);
        }
        check(want, &crlf, &format!("{} (CRLF)", want.sample.0));
    }
}

#[test]
fn header_lists_and_html_are_kept() {
    let plain = parse(sample!("plain").1);
    let mailbox = |address: &str, name: Option<&str>| ParsedAddress {
        address: address.into(),
        name: name.map(Into::into),
    };
    assert_eq!(plain.to, [mailbox("support@example.com", Some("Support"))]);
    assert_eq!(
        plain.cc,
        [
            mailbox("bob@example.org", None),
            mailbox("carol@example.net", Some("Carol"))
        ]
    );
    assert_eq!(
        plain.reply_to,
        [mailbox("alice@work.example.org", Some("Alice Work"))]
    );

    let thread = parse(sample!("reply_thread").1);
    assert_eq!(
        thread.in_reply_to,
        ["5f0c2e8a9b7d4c1e8f6a3b2c1d0e9f8a@HELPDESK.example.com"]
    );
    assert_eq!(
        thread.references,
        [
            "CAFx1a2b3c@mail.example.org",
            "11111111111111111111111111111111@helpdesk.example.com",
            "reply-1@example.org",
            "5f0c2e8a9b7d4c1e8f6a3b2c1d0e9f8a@HELPDESK.example.com",
        ]
    );

    let alt = parse(sample!("alternative").1);
    assert_eq!(
        alt.html.as_deref(),
        Some(
            "<html><body><p>Hi,</p><p>the VPN client says &ldquo;authentication failed&rdquo; since this morning.</p><p>Bob</p></body></html>"
        )
    );
}

#[test]
fn attachments_keep_their_exact_bytes() {
    let raw = sample!("attachments").1;
    let parsed = parse(raw);
    // Each can be read back from the raw message instead of being stored twice, but the
    // quoted-printable one.
    let encodings: Vec<_> = parsed
        .attachments
        .iter()
        .map(|a| a.in_raw.map(|p| p.encoding))
        .collect();
    let b64 = Some(PartEncoding::Base64);
    let want = [b64, b64, b64, b64, None, Some(PartEncoding::Identity), b64];
    assert_eq!(encodings, want);
    for a in &parsed.attachments {
        if let Some(part) = a.in_raw {
            let read = part.read(raw);
            assert_eq!(
                read.as_deref(),
                Some(a.content.as_slice()),
                "{}",
                a.filename
            );
        }
    }
    let got: Vec<_> = parsed
        .attachments
        .iter()
        .map(|a| {
            (
                a.filename.as_str(),
                a.content_type.as_str(),
                a.content.as_slice(),
                a.inline,
                a.content_id.as_deref(),
            )
        })
        .collect();
    let png: &[u8] = &[0x89, b'P', b'N', b'G', b'\r', b'\n', 0x1a, b'\n'];
    // Filename, content type, bytes, inline, Content-ID.
    type Row<'a> = (&'a str, &'a str, &'a [u8], bool, Option<&'a str>);
    let want: &[Row<'_>] = &[
        (
            "screen shot.png",
            "image/png",
            png,
            true,
            Some("shot1@example.org"),
        ),
        (
            "passwd",
            "text/plain",
            b"root:x:0:0:root:/root:/bin/bash\n",
            false,
            None,
        ),
        (
            "Übersicht März €.pdf",
            "application/pdf",
            b"%PDF-1.4\n",
            false,
            None,
        ),
        (
            "attachment-4.bin",
            "application/octet-stream",
            &[0, 1, 2, 3, 4, 5, 0xff],
            false,
            None,
        ),
        // Latin-1 as sent, not converted to UTF-8: the charset says how to read it.
        (
            "notes.txt",
            "text/plain; charset=iso-8859-1",
            b"Gr\xfc\xdfe",
            false,
            None,
        ),
        // Same name twice: kept, making names unique is the storage layer's job.
        (
            "notes.txt",
            "text/plain",
            b"second file with the same name",
            false,
            None,
        ),
        (
            "invoicefdp.exe",
            "application/octet-stream",
            b"MZ",
            false,
            None,
        ),
    ];
    assert_eq!(got, want);

    let dsn = parse(sample!("dsn_bounce").1);
    let original = &dsn.attachments[1];
    assert_eq!(original.content_type, "message/rfc822");
    assert!(
        original
            .content
            .starts_with(b"Return-Path: <support@example.com>\n")
    );
    assert!(original.content.ends_with(b"Your ticket was updated.\n"));
    assert!(
        dsn.attachments[0]
            .content
            .starts_with(b"Reporting-MTA: dns; mx.example.net\n")
    );
}

#[test]
fn charsets_decode_to_the_right_text() {
    let cases: &[(&str, &[u8], &str, &[&str])] = &[
        ("utf-8 8bit", b"Content-Type: text/plain; charset=utf-8\n\nna\xc3\xafve", "naïve", &[]),
        ("latin1 8bit", b"Content-Type: text/plain; charset=latin1\n\nna\xefve", "naïve", &[]),
        ("koi8-r", b"Content-Type: text/plain; charset=koi8-r\n\n\xf0\xd2\xc9\xd7\xc5\xd4", "Привет", &[]),
        ("shift_jis", b"Content-Type: text/plain; charset=shift_jis\n\n\x82\xb1\x82\xf1\x82\xc9\x82\xbf\x82\xcd", "こんにちは", &[]),
        ("base64 utf-8", b"Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: base64\n\nw6nDqQ==", "éé", &[]),
        (
            "labelled utf-8, is latin1",
            b"Content-Type: text/plain; charset=utf-8\n\ncaf\xe9",
            "café",
            &["text of MIME part 0 is not valid utf-8 (read as windows-1252)"],
        ),
        (
            "unknown charset, is utf-8",
            b"Content-Type: text/plain; charset=x-klingon\n\ncaf\xc3\xa9",
            "café",
            &["undecodable charset x-klingon (read as UTF-8)"],
        ),
        (
            "unknown charset, is latin1",
            b"Content-Type: text/plain; charset=x-klingon\n\ncaf\xe9",
            "café",
            &[
                "undecodable charset x-klingon (read as UTF-8)",
                "text of MIME part 0 is not valid x-klingon (read as windows-1252)",
            ],
        ),
        (
            "encoded-word subject",
            b"Subject: =?iso-8859-1?q?Gr=FC=DFe?=\n\nx",
            "x",
            &[],
        ),
    ];
    for (name, body, want_text, want_problems) in cases {
        let mut raw = b"From: a@b.example\nDate: Mon, 09 Mar 2026 06:00:00 +0000\n".to_vec();
        raw.extend_from_slice(body);
        let parsed = parse(&raw);
        assert_eq!(parsed.text, *want_text, "{name}");
        assert_eq!(parsed.problems, *want_problems, "{name}");
    }
    let subject = parse(b"Subject: =?iso-8859-1?q?Gr=FC=DFe?=\n\nx").subject;
    assert_eq!(subject, "Grüße");
}

#[test]
fn header_problems_are_named() {
    let cases: &[(&[u8], &[&str])] = &[
        (b"From: a@b.example\nDate: Mon, 09 Mar 2026 06:00:00 +0000\n\nok", &[]),
        (b"Date: Mon, 09 Mar 2026 06:00:00 +0000\n\nx", &["no From header", "no sender address in From, Sender, Reply-To or Return-Path"]),
        (b"From: undisclosed:;\nDate: Mon, 09 Mar 2026 06:00:00 +0000\n\nx", &["the From header has no address", "no sender address in From, Sender, Reply-To or Return-Path"]),
        (b"From: MAILER-DAEMON\nDate: Mon, 09 Mar 2026 06:00:00 +0000\n\nx", &["the From header \"MAILER-DAEMON\" holds no address", "no sender address in From, Sender, Reply-To or Return-Path"]),
        (b"From: MAILER-DAEMON\nSender: relay@mx.example\nDate: Mon, 09 Mar 2026 06:00:00 +0000\n\nx", &["the From header \"MAILER-DAEMON\" holds no address", "the sender address was taken from Sender"]),
        (b"Reply-To: a@b.example\nDate: Mon, 09 Mar 2026 06:00:00 +0000\n\nx", &["no From header", "the sender address was taken from Reply-To"]),
        (b"From: <>\nReturn-Path: <a@b.example>\nDate: Mon, 09 Mar 2026 06:00:00 +0000\n\nx", &["the From header has no address", "the sender address was taken from Return-Path"]),
        (b"From: A <a@b.example> <c@d.example>\nDate: Mon, 09 Mar 2026 06:00:00 +0000\n\nx", &["the From header is malformed (a second <address> in one mailbox)"]),
        (b"From: a@b.example, c@d.example\nDate: Mon, 09 Mar 2026 06:00:00 +0000\n\nx", &["the From header names 2 addresses and there is no Sender header (the first is the requester)"]),
        (b"From: a@b.example, c@d.example\nSender: a@b.example\nDate: Mon, 09 Mar 2026 06:00:00 +0000\n\nx", &[]),
        (b"From: <@relay.example:u@[IPv6:2001:db8::1]>\nDate: Mon, 09 Mar 2026 06:00:00 +0000\n\nx", &[]),
        (b"From: a@b.example\nDate: yesterday-ish\n\nx", &["unparseable Date header"]),
        (b"From: a@b.example\nSubject: headers only", &["no Date header"]),
        (
            b"From: a@b.example\nDate: Mon, 09 Mar 2026 06:00:00 +0000\nContent-Type: multipart/mixed\n\nx",
            &["a multipart part has no boundary parameter"],
        ),
    ];
    for (raw, want) in cases {
        assert_eq!(
            parse(raw).problems,
            *want,
            "{}",
            String::from_utf8_lossy(raw)
        );
    }
}

#[test]
fn encoded_attachment_names_are_decoded_then_sanitised() {
    let names = [
        // RFC 2047 inside the quoted value, as Outlook and Gmail write it.
        (
            "filename=\"=?UTF-8?B?w5xiZXJzaWNodC5wZGY=?=\"",
            "Übersicht.pdf",
        ),
        // RFC 2231 continuations with a charset.
        (
            "filename*0*=UTF-8''..%2F..%2F; filename*1*=r%C3%A9sum%C3%A9.pdf",
            "résumé.pdf",
        ),
        ("filename=\"..\"", "attachment-1.pdf"),
    ];
    for (param, want) in names {
        let raw = format!(
            "From: a@b.example\nDate: Mon, 09 Mar 2026 06:00:00 +0000\nContent-Type: multipart/mixed; boundary=B\n\n--B\nContent-Type: text/plain\n\nbody\n--B\nContent-Type: application/pdf\nContent-Disposition: attachment; {param}\n\n%PDF\n--B--\n"
        );
        let parsed = parse(raw.as_bytes());
        let names: Vec<_> = parsed
            .attachments
            .iter()
            .map(|a| a.filename.as_str())
            .collect();
        assert_eq!(names, [want], "{param}");
    }
}
