//! Item 5: every attachment name is safe on every system (the test also checks each stored
//! name with [`super::is_safe_filename`]).

use super::{Case, attachment_part, mail, name_has, named, text_part, ticket};

/// `(case, Content-Disposition parameters, expected name)`.
fn hostile() -> Vec<(&'static str, String, super::Text)> {
    let q = |name: &str| format!("filename=\"{name}\"");
    let encoded = |name: &str| {
        let pct: String = name
            .bytes()
            .map(|b| {
                if b.is_ascii_alphanumeric() || b == b'.' {
                    (b as char).to_string()
                } else {
                    format!("%{b:02X}")
                }
            })
            .collect();
        format!("filename*=UTF-8''{pct}")
    };
    vec![
        (
            "attachment-path-traversal",
            q("../../etc/passwd"),
            named("passwd"),
        ),
        (
            "attachment-windows-path",
            q("..\\\\..\\\\windows\\\\system.ini"),
            named("system.ini"),
        ),
        (
            "attachment-absolute-path",
            q("/etc/shadow"),
            named("shadow"),
        ),
        (
            "attachment-com-superscript",
            encoded("COM¹.txt"),
            name_has("COM¹"),
        ),
        (
            "attachment-lpt-superscript",
            encoded("lpt³.log"),
            name_has("lpt³"),
        ),
        ("attachment-conin", q("conin$"), name_has("conin$")),
        ("attachment-conout", q("CONOUT$.txt"), name_has("CONOUT$")),
        ("attachment-con", q("con.txt"), name_has("con")),
        ("attachment-nul-with-spaces", q("NUL .txt"), name_has("NUL")),
        (
            "attachment-line-separator",
            encoded("in\u{2028}voice.pdf"),
            named("invoice.pdf"),
        ),
        (
            "attachment-paragraph-separator",
            encoded("in\u{2029}voice.pdf"),
            named("invoice.pdf"),
        ),
        (
            "attachment-bidi-override",
            encoded("invoice\u{202E}fdp.exe"),
            name_has("exe"),
        ),
        (
            "attachment-bidi-isolate",
            encoded("a\u{2067}b.txt"),
            named("ab.txt"),
        ),
        (
            "attachment-zero-width",
            encoded("re\u{200B}port\u{FEFF}.pdf"),
            named("report.pdf"),
        ),
        (
            "attachment-c0-controls",
            encoded("a\u{1}b\u{7}c.txt"),
            named("abc.txt"),
        ),
        (
            "attachment-c1-controls",
            encoded("a\u{85}b\u{9B}c.txt"),
            named("abc.txt"),
        ),
        (
            "attachment-crlf-in-name",
            encoded("a\r\nb.txt"),
            named("ab.txt"),
        ),
        ("attachment-only-dots", q(".."), name_has("attachment")),
        (
            "attachment-trailing-dot-space",
            q("report.pdf. . "),
            named("report.pdf"),
        ),
        (
            "attachment-windows-reserved-chars",
            q("a<b>c:d|e?f*.txt"),
            name_has(".txt"),
        ),
        (
            "attachment-encoded-word-name",
            format!(
                "filename=\"{}\"",
                super::word("UTF-8", "Rechnung März.pdf".as_bytes())
            ),
            named("Rechnung März.pdf"),
        ),
        (
            "attachment-rfc2231-name",
            encoded("Übersicht.xlsx"),
            named("Übersicht.xlsx"),
        ),
        (
            "attachment-plain-name",
            q("report.pdf"),
            named("report.pdf"),
        ),
    ]
}

pub(super) fn cases(mb: &str) -> Vec<Case> {
    let mut cases: Vec<Case> = hostile()
        .into_iter()
        .map(|(name, params, expected)| {
            mail(name, mb)
                .multipart(
                    "mixed",
                    "",
                    &[
                        text_part("See the attachment."),
                        attachment_part(&params, name.as_bytes()),
                    ],
                )
                .case(ticket().attachments(vec![expected]))
        })
        .collect();
    cases.push(
        mail("attachment-name-in-content-type-only", mb)
            .multipart(
                "mixed",
                "",
                &[
                    text_part("See the attachment."),
                    format!(
                        "Content-Type: application/pdf; name=\"../../secret.pdf\"\r\nContent-Transfer-Encoding: base64\r\n\r\n{}\r\n",
                        super::b64(b"%PDF-1.4")
                    )
                    .into_bytes(),
                ],
            )
            .case(ticket().attachments(vec![named("secret.pdf")])),
    );
    cases.push(
        mail("attachment-encoded-word-crlf-injection", mb)
            .multipart(
                "mixed",
                "",
                &[
                    text_part("See the attachment."),
                    attachment_part(
                        &format!(
                            "filename=\"{}\"",
                            super::word("UTF-8", b"a\r\nContent-Type: text/html\r\n.txt")
                        ),
                        b"payload",
                    ),
                ],
            )
            .case(ticket().attachments(vec![name_has("txt")]).any_problems()),
    );
    cases
}
