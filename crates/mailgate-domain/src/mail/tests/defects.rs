//! Defects through the whole parse: each flagged with its sentence, the first of a duplicated
//! header kept, and valid messages (however unusual) never flagged.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use super::*;

const HEAD: &str = "From: Kim <kim@example.org>\r\nTo: support@example.com\r\nDate: Mon, 07 Dec 2026 10:00:00 +0000\r\nMessage-ID: <m1@example.org>\r\n";

/// A message with [`HEAD`], then `headers` (CRLF-ended lines), an empty line and `body`.
fn message(headers: &str, body: &[u8]) -> Vec<u8> {
    let mut raw = format!("{HEAD}{headers}\r\n").into_bytes();
    raw.extend_from_slice(body);
    raw
}

/// A multipart/mixed message: a text part, then one part of `part_headers` and `part_body`.
fn multipart(part_headers: &str, part_body: &[u8]) -> Vec<u8> {
    let mut body = b"--B\r\nContent-Type: text/plain\r\n\r\nSee the file.\r\n--B\r\n".to_vec();
    body.extend_from_slice(part_headers.as_bytes());
    body.extend_from_slice(b"\r\n");
    body.extend_from_slice(part_body);
    body.extend_from_slice(b"\r\n--B--\r\n");
    let headers =
        "Subject: File\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=B\r\n";
    message(headers, &body)
}

fn has(parsed: &ParsedMessage, fragment: &str) -> bool {
    let fragment = fragment.to_lowercase();
    parsed
        .problems
        .iter()
        .any(|p| p.to_lowercase().contains(&fragment))
}

#[test]
fn each_defect_is_flagged() {
    let big_fields: String = (0..40_000)
        .map(|i| format!("X-Filler-{i}: {}\r\n", "x".repeat(20)))
        .collect();
    let one_big_field = format!("X-Long: {}\r\n", "y ".repeat(600_000));
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        (
            "bad padding",
            message(
                "Subject: x\r\nContent-Transfer-Encoding: base64\r\n",
                b"aGVsbG8==\r\n",
            ),
            "invalid base64 in MIME part 0: bad padding",
        ),
        (
            "data after padding",
            message(
                "Subject: x\r\nContent-Transfer-Encoding: base64\r\n",
                b"aGk=\r\naGk=\r\n",
            ),
            "invalid base64",
        ),
        (
            "outside the alphabet",
            message(
                "Subject: x\r\nContent-Transfer-Encoding: base64\r\n",
                b"aGVs*bG8=\r\n",
            ),
            "invalid base64 in MIME part 0: a character outside the base64 alphabet",
        ),
        (
            "no multiple of 4",
            message(
                "Subject: x\r\nContent-Transfer-Encoding: BASE64\r\n",
                b"aGVsbG8\r\n",
            ),
            "invalid base64 in MIME part 0: a length that is no multiple of 4",
        ),
        (
            "in an attachment",
            multipart(
                "Content-Type: application/pdf\r\nContent-Transfer-Encoding: base64\r\n",
                b"JVBERi0xLjQK=",
            ),
            "invalid base64 in MIME part 2",
        ),
        (
            "a part's Content-Type twice",
            multipart(
                "Content-Type: application/pdf\r\nContent-Type: text/plain\r\n",
                b"%PDF-1.4",
            ),
            "duplicate Content-Type header in MIME part 2",
        ),
        (
            "a megabyte of fields",
            message(&format!("Subject: x\r\n{big_fields}"), b"body\r\n"),
            "header section too large",
        ),
        (
            "a megabyte in one field",
            message(&format!("Subject: x\r\n{one_big_field}"), b"body\r\n"),
            "header section too large",
        ),
        (
            "no colon",
            message("Subject: x\r\nthis is no header\r\n", b"body\r\n"),
            "header line without a colon (line 6",
        ),
        (
            "bare CR in a header",
            message("Subject: a\rb\r\n", b"body\r\n"),
            "bare CR (a CR not followed by LF) in the header section",
        ),
        (
            "bare CR in the body",
            message("Subject: x\r\n", b"line one\rline two\r\n"),
            "bare CR (a CR not followed by LF) in MIME part 0",
        ),
        (
            "bare CR in a quoted-printable part",
            multipart(
                "Content-Type: text/plain\r\nContent-Transfer-Encoding: quoted-printable\r\n",
                b"one\rtwo",
            ),
            "bare CR (a CR not followed by LF) in MIME part 2",
        ),
        (
            "qp cut after =",
            message(
                "Subject: x\r\nContent-Transfer-Encoding: quoted-printable\r\n",
                b"Hello wor=",
            ),
            "truncated quoted-printable at the end of MIME part 0",
        ),
        (
            "qp cut after =X",
            message(
                "Subject: x\r\nContent-Transfer-Encoding: quoted-printable\r\n",
                b"caf=C3=A",
            ),
            "truncated quoted-printable",
        ),
        (
            "qp soft break ending a part",
            multipart(
                "Content-Type: text/plain\r\nContent-Transfer-Encoding: quoted-printable\r\n",
                b"the rest was cut=",
            ),
            "truncated quoted-printable at the end of MIME part 2",
        ),
        (
            "qp invalid sequence",
            message(
                "Subject: x\r\nContent-Transfer-Encoding: quoted-printable\r\n",
                b"<a href=\"https://example.org/?a=b\">x</a>\r\n",
            ),
            "invalid quoted-printable",
        ),
    ];
    for (name, raw, fragment) in cases {
        let parsed = parse(&raw);
        assert_invariants(&parsed, name);
        assert!(has(&parsed, fragment), "{name}: {:?}", parsed.problems);
    }
}

#[test]
fn what_follows_a_defect_is_still_read() {
    let parsed = parse(&message(
        "this is no header\r\nSubject: kept\r\n",
        b"body\r\n",
    ));
    assert_eq!(parsed.subject, "kept");
    let filler = format!("X-Long: {}\r\n", "y".repeat(2 << 20));
    let parsed = parse(&message(
        &format!("{filler}Subject: after a big field\r\n"),
        b"body\r\n",
    ));
    assert_eq!(parsed.subject, "after a big field");
    assert_eq!(parsed.text, "body");
    assert!(has(&parsed, "header section too large"));
}

#[test]
fn the_first_of_a_duplicated_header_is_kept() {
    let parsed = parse(&message(
        "Subject: first\r\nSubject: second\r\n",
        b"body\r\n",
    ));
    assert_eq!(parsed.subject, "first");
    assert!(has(&parsed, "duplicate Subject header"));

    // HEAD has its own From, To, Date and Message-ID: these come second.
    let parsed = parse(&message(
        "From: Mallory <mallory@example.net>\r\nTo: other@example.net\r\nReply-To: a@example.org\r\nReply-To: b@example.net\r\nMessage-ID: <m2@example.net>\r\nDate: Tue, 01 Jan 2030 00:00:00 +0000\r\n",
        b"body\r\n",
    ));
    assert_eq!(
        parsed.from.as_ref().map(|m| m.address.as_str()),
        Some("kim@example.org")
    );
    assert_eq!(parsed.to.len(), 1);
    assert_eq!(parsed.to[0].address, "support@example.com");
    assert_eq!(parsed.reply_to.len(), 1);
    assert_eq!(parsed.reply_to[0].address, "a@example.org");
    assert_eq!(parsed.message_id.as_deref(), Some("m1@example.org"));
    assert_eq!(
        parsed.date.map(|d| d.to_rfc3339()).as_deref(),
        Some("2026-12-07T10:00:00+00:00")
    );
    for name in ["From", "To", "Reply-To", "Message-ID", "Date"] {
        assert!(
            has(&parsed, &format!("duplicate {name} header")),
            "{name}: {:?}",
            parsed.problems
        );
    }

    // Read as the first Content-Type says: plain text, so the tags stay.
    let parsed = parse(&message(
        "Subject: x\r\nContent-Type: text/plain; charset=utf-8\r\ncontent-type: text/html\r\n",
        b"<b>bold</b>\r\n",
    ));
    assert_eq!(parsed.text, "<b>bold</b>");
    assert_eq!(parsed.html, None);
    assert!(has(&parsed, "duplicate Content-Type header"));
}

#[test]
fn an_attachment_after_rewritten_headers_is_still_found_in_the_raw_message() {
    let pdf = b"%PDF-1.4 not really".repeat(50);
    let raw = multipart(
        "Content-Type: application/pdf; name=a.pdf\r\nContent-Transfer-Encoding: base64\r\n",
        STANDARD.encode(&pdf).as_bytes(),
    );
    let raw = [b"Subject: dup\r\n".as_slice(), &raw].concat();
    let parsed = parse(&raw);
    assert!(has(&parsed, "duplicate Subject header"));
    assert_eq!(parsed.subject, "dup");
    let attachment = &parsed.attachments[0];
    assert_eq!(attachment.content, pdf);
    let in_raw = attachment.in_raw.expect("located in the raw message");
    assert_eq!(in_raw.read(&raw), Some(pdf));
}

/// `text` in UTF-16 little-endian or UTF-32 big-endian, with a byte order mark.
fn wide(text: &str, utf32: bool) -> Vec<u8> {
    let mut out = Vec::new();
    if utf32 {
        out.extend_from_slice(&[0, 0, 0xfe, 0xff]);
        for c in text.chars() {
            out.extend_from_slice(&u32::from(c).to_be_bytes());
        }
    } else {
        out.extend_from_slice(&[0xff, 0xfe]);
        for unit in text.encode_utf16() {
            out.extend_from_slice(&unit.to_le_bytes());
        }
    }
    out
}

/// Valid however unusual: none may be flagged.
fn valid_messages() -> Vec<(&'static str, Vec<u8>)> {
    let text = "Grüße aus Köln\r\nzweite Zeile\r\n";
    let wrapped = |bytes: &[u8]| {
        let encoded = STANDARD.encode(bytes);
        let lines: Vec<&str> = encoded
            .as_bytes()
            .chunks(76)
            .map(|c| std::str::from_utf8(c).unwrap_or_default())
            .collect();
        lines.join("\r\n").into_bytes()
    };
    let references: String = (0..60)
        .map(|i| format!("\r\n <ref-{i}-{}@mail.example.org>", "r".repeat(40)))
        .collect();
    let dkim: String = (0..40)
        .map(|_| format!("\r\n\t{}", "AbCdEfGh".repeat(9)))
        .collect();
    let long_subject: String = (0..30)
        .map(|_| " =?utf-8?q?Gr=C3=BC=C3=9Fe_aus_K=C3=B6ln?=")
        .collect();
    vec![
        ("plain", message("Subject: hi\r\n", b"Hello\r\n")),
        (
            "lf line ends",
            format!("{HEAD}Subject: hi\r\n\r\nHello\r\n")
                .replace("\r\n", "\n")
                .into_bytes(),
        ),
        (
            "utf-32 base64",
            message(
                "Subject: x\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-32\r\nContent-Transfer-Encoding: base64\r\n",
                &wrapped(&wide(text, true)),
            ),
        ),
        (
            "utf-16 base64",
            message(
                "Subject: x\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=UTF-16\r\nContent-Transfer-Encoding: base64\r\n",
                &wrapped(&wide(text, false)),
            ),
        ),
        (
            "utf-16 binary",
            message(
                "Subject: x\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-16\r\nContent-Transfer-Encoding: binary\r\n",
                &wide(text, false),
            ),
        ),
        (
            "utf-32 8bit",
            message(
                "Subject: x\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=\"UTF-32\"\r\nContent-Transfer-Encoding: 8bit\r\n",
                &wide(text, true),
            ),
        ),
        (
            "ipv6 literals",
            message(
                "Subject: x\r\nCc: Ops <ops@[IPv6:2001:db8::1]>, root@[192.0.2.1]\r\nReply-To: desk@[IPv6:2001:db8:0:0:0:0:0:2]\r\n",
                b"Hello\r\n",
            ),
        ),
        (
            "long valid headers",
            message(
                &format!(
                    "Subject:{long_subject}\r\nReferences:{references}\r\nDKIM-Signature: v=1; a=rsa-sha256; b={dkim}\r\nX-Long-Unfolded: {}\r\n",
                    "z".repeat(900)
                ),
                b"Hello\r\n",
            ),
        ),
        (
            "repeatable fields",
            message(
                "Subject: x\r\nReceived: from a by b\r\nReceived: from c\r\n by d\r\nComments: one\r\nComments: two\r\nKeywords: a\r\nKeywords: b\r\nResent-From: r@example.org\r\nResent-From: s@example.org\r\nX-Custom: 1\r\nX-Custom: 2\r\n",
                b"Hello\r\n",
            ),
        ),
        (
            "base64 in 76-character lines",
            multipart(
                "Content-Type: application/octet-stream; name=data.bin\r\nContent-Transfer-Encoding: base64\r\n",
                &wrapped(&(0..=255u8).cycle().take(10_000).collect::<Vec<_>>()),
            ),
        ),
        (
            "base64 ending in padding and a blank line",
            multipart(
                "Content-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n",
                b"aGVsbG8=\r\n",
            ),
        ),
        (
            "empty base64",
            multipart(
                "Content-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n",
                b"",
            ),
        ),
        (
            "quoted-printable soft breaks",
            message(
                "Subject: x\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n",
                b"Gr=C3=BC=c3=9fe, a long line that goes on and on and on and on and on an=\r\nd on; x =3D y, padded soft break=  \r\nand the last line\r\n",
            ),
        ),
        (
            "quoted-printable parts of an alternative",
            message(
                "Subject: x\r\nMIME-Version: 1.0\r\nContent-Type: multipart/alternative; boundary=\"b1\"\r\n",
                b"--b1\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\nsoft=\r\nbreak and =E2=82=AC\r\n--b1\r\nContent-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n<p style=3D\"x\">soft=\r\nbreak</p>\r\n\r\n--b1--\r\n",
            ),
        ),
    ]
}

#[test]
fn valid_messages_are_never_flagged() {
    for (name, raw) in valid_messages() {
        let parsed = parse(&raw);
        assert_invariants(&parsed, name);
        assert_eq!(parsed.problems, Vec::<String>::new(), "{name}");
        if name.starts_with("utf-") {
            assert_eq!(parsed.text, "Grüße aus Köln\nzweite Zeile", "{name}");
        }
    }
    for (name, raw) in SAMPLES.iter().filter(|(n, _)| !n.starts_with("malformed")) {
        let parsed = parse(raw);
        let ours = [
            "duplicate",
            "too large",
            "colon",
            "bare CR",
            "base64",
            "quoted-printable",
        ];
        let flagged: Vec<_> = parsed
            .problems
            .iter()
            .filter(|p| ours.iter().any(|o| p.contains(o)))
            .collect();
        assert!(flagged.is_empty(), "{name}: {flagged:?}");
    }
}

#[test]
fn the_text_of_a_multipart_never_closed_is_its_body_not_an_attachment() {
    let raw = "From: a@example.com\r\nSubject: x\r\nDate: Mon, 7 Dec 2026 10:00:00 +0000\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"unterminated\"\r\n\r\n--unterminated\r\nContent-Type: text/plain\r\n\r\nNever closed.\r\n";
    let parsed = crate::mail::parse(raw.as_bytes());
    assert_eq!(parsed.text, "Never closed.");
    assert!(parsed.attachments.is_empty(), "{:?}", parsed.attachments);
    assert!(
        parsed.problems.iter().any(|p| p.contains("never closed")),
        "{:?}",
        parsed.problems
    );
    // A damaged part that is a file stays a file.
    let file = raw.replace(
        "Content-Type: text/plain\r\n\r\n",
        "Content-Type: text/plain\r\nContent-Disposition: attachment; filename=\"n.txt\"\r\n\r\n",
    );
    let parsed = crate::mail::parse(file.as_bytes());
    assert_eq!(parsed.attachments.len(), 1);
}
