//! Item 4: defects are flagged and the first of a duplicated header kept; item 6: encoded words
//! decoded without loss where the bytes allow; header injection through encoded words.

use super::{Case, b64, mail, ticket, word};

pub(super) fn cases(mb: &str) -> Vec<Case> {
    let dup = |name: &'static str, header: &str, first: &str, second: &str| {
        mail(name, mb).set(header, first).add(header, second)
    };
    // 1 MiB of one header field, folded into lines of 78 characters.
    let huge: String = (0..15_000)
        .map(|n| format!("{n:07}-abcdefghijklmnopqrstuvwxyz-abcdefghijklmnopqrstuvwxyz-0123456"))
        .collect::<Vec<_>>()
        .join("\r\n ");
    // "日本語" is 9 bytes of UTF-8: split after the 4th, in the middle of "本".
    let nihongo = "日本語のテスト".as_bytes();
    vec![
        dup("duplicate-subject", "Subject", "First subject", "Second subject").case(
            ticket()
                .subject("First subject")
                .problems(&["duplicate Subject header"]),
        ),
        dup(
            "duplicate-from",
            "From",
            "First <first@example.com>",
            "Second <second@example.com>",
        )
        .case(
            ticket()
                .requester("first@example.com")
                .problems(&["duplicate From header"]),
        ),
        dup(
            "duplicate-message-id",
            "Message-ID",
            "<duplicate-message-id@corpus.example>",
            "<second-duplicate-message-id@corpus.example>",
        )
        .case(ticket().problems(&["duplicate Message-ID header"])),
        dup(
            "duplicate-content-type",
            "Content-Type",
            "text/plain; charset=utf-8",
            "text/html; charset=utf-8",
        )
        .text_body("<b>plain text kept</b>\r\n")
        .case(
            ticket()
                .text_has("<b>plain text kept</b>")
                .problems(&["duplicate Content-Type header"]),
        ),
        dup(
            "duplicate-date",
            "Date",
            "Mon, 07 Dec 2026 10:00:00 +0000",
            "Tue, 08 Dec 2026 10:00:00 +0000",
        )
        .case(ticket().problems(&["duplicate Date header"])),
        dup("duplicate-to", "To", mb, "other@example.org")
            .case(ticket().problems(&["duplicate To header"])),
        dup(
            "duplicate-reply-to",
            "Reply-To",
            "first-reply@example.org",
            "second-reply@example.org",
        )
        .case(
            ticket()
                .reply_to(&["first-reply@example.org"])
                .problems(&["duplicate Reply-To header"]),
        ),
        mail("duplicate-received-is-fine", mb)
            .add("Received", "from a.example by b.example; Mon, 07 Dec 2026 10:00:00 +0000")
            .add("Received", "from c.example by a.example; Mon, 07 Dec 2026 09:59:00 +0000")
            .case(ticket()),
        mail("invalid-base64-body", mb)
            .set("Content-Transfer-Encoding", "base64")
            .text_body("SGVsbG8gd29ybGQ=!!invalid*base64$$\r\nQUJD===\r\n")
            .case(ticket().problems(&["invalid base64"])),
        mail("invalid-base64-padding", mb)
            .set("Content-Transfer-Encoding", "base64")
            // Data after padding, then "Hell" with a padding character missing (7, not 8).
            .text_body("SGVsbG8=\r\nSGVsbA=\r\n")
            .case(ticket().problems(&["invalid base64"])),
        mail("header-one-mebibyte", mb)
            .set("X-Huge", &huge)
            .case(ticket().problems(&["header section too large"])),
        mail("header-line-without-colon", mb)
            .line(b"This line has no colon at all")
            .case(ticket().problems(&["header line without a colon"])),
        mail("bare-cr-in-body", mb)
            .text_body("first line\rstill the first line\r\n")
            .case(ticket().problems(&["bare CR"])),
        mail("bare-cr-in-header", mb)
            .set("Subject", "Corpus bare CR\rin a header")
            .case(ticket().problems(&["bare CR"])),
        mail("truncated-qp-equals", mb)
            .set("Content-Transfer-Encoding", "quoted-printable")
            .text_body("Caf=C3=A9 ends with a soft break =")
            .case(ticket().text_has("Café").problems(&["truncated quoted-printable"])),
        mail("truncated-qp-one-digit", mb)
            .set("Content-Transfer-Encoding", "quoted-printable")
            .text_body("Caf=C3=A9 ends with half an escape =A")
            .case(ticket().text_has("Café").problems(&["truncated quoted-printable"])),
        mail("valid-qp-soft-breaks", mb)
            .set("Content-Transfer-Encoding", "quoted-printable")
            .text_body("Caf=C3=A9 with a soft=\r\n break.\r\n")
            .case(ticket().text_has("Café with a soft break.")),
        mail("encoded-word-split-mid-character", mb)
            .set(
                "Subject",
                &format!("{} {}", word("UTF-8", &nihongo[..4]), word("UTF-8", &nihongo[4..])),
            )
            .case(ticket().subject("日本語のテスト")),
        mail("encoded-word-split-q-encoding", mb)
            .set("Subject", "=?UTF-8?Q?Caf=C3?= =?UTF-8?Q?=A9_cr=C3=A8me?=")
            .case(ticket().subject("Café crème")),
        mail("encoded-word-invalid-base64", mb)
            .set(
                "Subject",
                &format!("=?UTF-8?B?{}!!?=", b64("Hello World, keep me".as_bytes())),
            )
            .case(
                ticket()
                    .subject_has("Hello World, keep me")
                    .problems(&["encoded word"]),
            ),
        mail("encoded-word-unknown-charset", mb)
            .set("Subject", "=?x-no-such-charset?Q?Hello?=")
            .case(ticket().subject_has("Hello").problems(&["encoded word"])),
        mail("encoded-words-mixed-charsets", mb)
            .set(
                "Subject",
                &format!("{} {}", word("ISO-8859-1", b"Caf\xe9"), word("UTF-8", " 日本".as_bytes())),
            )
            .case(ticket().subject("Café 日本")),
        mail("encoded-word-between-text", mb)
            .set("Subject", "Order =?UTF-8?Q?n=C2=BA?= 42 confirmed")
            .case(ticket().subject("Order nº 42 confirmed")),
        mail("encoded-word-lower-case-b", mb)
            .set("Subject", &format!("=?utf-8?b?{}?=", b64("Grüße".as_bytes())))
            .case(ticket().subject("Grüße")),
        mail("injection-crlf-in-subject-word", mb)
            .set("Subject", "=?UTF-8?Q?Hello=0D=0ABcc:_victim@example.org?=")
            .case(ticket().subject_has("Hello").any_problems()),
        mail("injection-crlf-in-display-name", mb)
            .set(
                "From",
                &format!(
                    "{} <customer@example.com>",
                    word("UTF-8", b"Evil\r\nBcc: victim@example.org")
                ),
            )
            .case(ticket().any_problems()),
        mail("injection-lf-in-base64-subject", mb)
            .set("Subject", &word("UTF-8", b"Line one\nX-Injected: yes"))
            .case(ticket().subject_has("Line one").any_problems()),
        mail("raw-utf8-header-rfc6532", mb)
            .set("Subject", "Grüße aus Köln")
            .set("From", "Jürgen <jürgen@example.de>")
            .case(
                ticket()
                    .subject("Grüße aus Köln")
                    .requester("jürgen@example.de"),
            ),
        mail("subject-folded-long", mb)
            .set(
                "Subject",
                "A subject long enough to be folded by a client\r\n onto a second line",
            )
            .case(ticket().subject(
                "A subject long enough to be folded by a client onto a second line",
            )),
        mail("subject-missing", mb)
            .without("Subject")
            .case(ticket().subject("(no subject)")),
        mail("no-mime-version-8bit-body", mb)
            .without("MIME-Version")
            .without("Content-Type")
            .text_body("Gr\u{fc}\u{df}e plain 8-bit body\r\n")
            .case(ticket().any_problems()),
        mail("trailing-whitespace-lines-in-header", mb)
            .set("Subject", "Corpus trailing spaces   ")
            .case(ticket().subject("Corpus trailing spaces")),
        mail("multipart-missing-final-boundary", mb)
            .set("Content-Type", "multipart/mixed; boundary=\"unterminated\"")
            .text_body("--unterminated\r\nContent-Type: text/plain\r\n\r\nNever closed.\r\n")
            .case(
                ticket()
                    .text_has("Never closed.")
                    .any_problems()
                    .attachments(Vec::new()),
            ),
        mail("multipart-without-boundary", mb)
            .set("Content-Type", "multipart/mixed")
            .text_body("Nothing to split on.\r\n")
            .case(ticket().any_problems()),
        mail("multipart-nested-sixty-deep", mb)
            .set("Content-Type", "multipart/mixed; boundary=\"b0\"")
            .body(&nested(60))
            .case(ticket().any_problems()),
        mail("many-small-attachments", mb)
            .multipart(
                "mixed",
                "",
                &(0..200)
                    .map(|n| super::attachment_part(&format!("filename=\"part-{n}.txt\""), b"x"))
                    .collect::<Vec<_>>(),
            )
            .case(ticket()),
        mail("empty-body", mb).body(b"").case(ticket()),
        mail("unix-line-ends", mb)
            .case(ticket().text_has("Body of corpus case unix-line-ends."))
            .lf_line_ends(),
        mail("nested-message-rfc822", mb)
            .multipart(
                "mixed",
                "",
                &[
                    super::text_part("See the forwarded message."),
                    b"Content-Type: message/rfc822\r\n\r\nFrom: inner@example.org\r\nSubject: Inner\r\nMessage-ID: <inner@corpus.example>\r\n\r\nInner body.\r\n".to_vec(),
                ],
            )
            .case(ticket().text_has("See the forwarded message.")),
    ]
}

/// `depth` multiparts, each holding the next, the innermost a text part.
fn nested(depth: usize) -> Vec<u8> {
    let mut body = Vec::new();
    for level in 0..depth {
        body.extend_from_slice(
            format!(
                "--b{level}\r\nContent-Type: multipart/mixed; boundary=\"b{}\"\r\n\r\n",
                level + 1
            )
            .as_bytes(),
        );
    }
    body.extend_from_slice(
        format!("--b{depth}\r\nContent-Type: text/plain\r\n\r\nDeep down.\r\n--b{depth}--\r\n")
            .as_bytes(),
    );
    for level in (0..depth).rev() {
        body.extend_from_slice(format!("--b{level}--\r\n").as_bytes());
    }
    body
}
