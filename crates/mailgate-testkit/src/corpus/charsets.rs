//! Bodies and headers in the charsets mail actually comes in, each a valid message: decoded,
//! and never flagged (UTF-32 included).

use super::{Case, b64, mail, ticket, word};

/// `(case, charset, encoded bytes, the text they say)`, written by hand so the corpus needs no
/// encoder.
fn bodies() -> Vec<(&'static str, &'static str, Vec<u8>, &'static str)> {
    let utf16le: Vec<u8> = [0xFF, 0xFE]
        .into_iter()
        .chain("Grüße aus UTF-16".encode_utf16().flat_map(u16::to_le_bytes))
        .collect();
    let utf32: Vec<u8> = [0, 0, 0xFE, 0xFF]
        .into_iter()
        .chain(
            "Grüße aus UTF-32"
                .chars()
                .flat_map(|c| (c as u32).to_be_bytes()),
        )
        .collect();
    vec![
        (
            "charset-iso-8859-1",
            "iso-8859-1",
            b"caf\xe9 cr\xe8me".to_vec(),
            "café crème",
        ),
        (
            "charset-windows-1252",
            "windows-1252",
            b"price \x80 5 \x93quoted\x94".to_vec(),
            "price € 5 “quoted”",
        ),
        (
            "charset-iso-8859-15",
            "iso-8859-15",
            b"\xa4 euro".to_vec(),
            "€ euro",
        ),
        (
            "charset-koi8-r",
            "koi8-r",
            b"\xd0\xd2\xc9\xd7\xc5\xd4".to_vec(),
            "привет",
        ),
        (
            "charset-windows-1251",
            "windows-1251",
            b"\xef\xf0\xe8\xe2\xe5\xf2".to_vec(),
            "привет",
        ),
        (
            "charset-shift-jis",
            "shift_jis",
            b"\x93\xfa\x96\x7b".to_vec(),
            "日本",
        ),
        (
            "charset-iso-2022-jp",
            "iso-2022-jp",
            b"\x1b$BF|K\\\x1b(B".to_vec(),
            "日本",
        ),
        (
            "charset-euc-jp",
            "euc-jp",
            b"\xc6\xfc\xcb\xdc".to_vec(),
            "日本",
        ),
        (
            "charset-gb2312",
            "gb2312",
            b"\xd6\xd0\xce\xc4".to_vec(),
            "中文",
        ),
        ("charset-gbk", "gbk", b"\xd6\xd0\xce\xc4".to_vec(), "中文"),
        ("charset-big5", "big5", b"\xa4\xa4\xa4\xe5".to_vec(), "中文"),
        (
            "charset-euc-kr",
            "euc-kr",
            b"\xc7\xd1\xb1\xb9".to_vec(),
            "한국",
        ),
        ("charset-utf-16", "utf-16", utf16le, "Grüße aus UTF-16"),
        ("charset-utf-32", "utf-32", utf32, "Grüße aus UTF-32"),
        (
            "charset-utf-8-with-bom",
            "utf-8",
            b"\xef\xbb\xbfBOM first".to_vec(),
            "BOM first",
        ),
        (
            "charset-us-ascii",
            "us-ascii",
            b"plain ascii".to_vec(),
            "plain ascii",
        ),
        (
            "charset-latin1-alias",
            "latin1",
            b"na\xefve".to_vec(),
            "naïve",
        ),
    ]
}

pub(super) fn cases(mb: &str) -> Vec<Case> {
    let mut cases: Vec<Case> = bodies()
        .into_iter()
        .map(|(name, charset, bytes, text)| {
            mail(name, mb)
                .set("Content-Type", &format!("text/plain; charset={charset}"))
                .set("Content-Transfer-Encoding", "base64")
                .text_body(&format!("{}\r\n", b64(&bytes)))
                .case(ticket().text_has(text))
        })
        .collect();
    cases.extend([
        mail("charset-unknown-body", mb)
            .set("Content-Type", "text/plain; charset=x-no-such-charset")
            .text_body("readable anyway\r\n")
            .case(ticket().text_has("readable anyway").any_problems()),
        mail("charset-8bit-latin1-body", mb)
            .set("Content-Type", "text/plain; charset=iso-8859-1")
            .set("Content-Transfer-Encoding", "8bit")
            .body(b"8-bit caf\xe9\r\n")
            .case(ticket().text_has("café")),
        mail("charset-8bit-undeclared-header", mb)
            .set_bytes("Subject", b"Caf\xe9 undeclared")
            .case(ticket().subject_has("undeclared").any_problems()),
        mail("subject-iso-8859-1-q-word", mb)
            .set("Subject", "=?ISO-8859-1?Q?Caf=E9_cr=E8me?=")
            .case(ticket().subject("Café crème")),
        mail("subject-koi8-r-word", mb)
            .set("Subject", &word("KOI8-R", b"\xd0\xd2\xc9\xd7\xc5\xd4"))
            .case(ticket().subject("привет")),
        mail("subject-iso-2022-jp-word", mb)
            .set("Subject", &word("ISO-2022-JP", b"\x1b$BF|K\\\x1b(B"))
            .case(ticket().subject("日本")),
        mail("subject-rfc2231-language-tag", mb)
            .set("Subject", "=?UTF-8*de?Q?Gr=C3=BC=C3=9Fe?=")
            .case(ticket().subject("Grüße")),
        mail("html-only-body", mb)
            .set("Content-Type", "text/html; charset=utf-8")
            .text_body("<p>Only <b>HTML</b> here</p>\r\n")
            .case(ticket().text_has("Only HTML here")),
        mail("alternative-text-and-html", mb)
            .multipart(
                "alternative",
                "",
                &[
                    super::text_part("The plain version."),
                    b"Content-Type: text/html; charset=utf-8\r\n\r\n<p>The HTML version.</p>\r\n"
                        .to_vec(),
                ],
            )
            .case(ticket().text_has("The plain version.")),
    ]);
    cases
}
