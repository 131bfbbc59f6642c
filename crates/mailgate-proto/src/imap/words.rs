//! The server's own words from IMAP status responses, as the catalog and admins read them:
//! `NO [AUTHENTICATIONFAILED] Authentication failed.`
//!
//! After login the client reads tagged responses itself and formats them from imap-proto's
//! parsed `Outcome` (codes imap-proto does not know stay in the text, brackets included).
//! During login async-imap returns only a `Debug` rendering of the outcome
//! (`code: Some(Alert), info: Some("...")`); [`from_async_imap`] turns it back into words. The
//! known-answer tests below pin that format, so an async-imap upgrade that changes it fails
//! here rather than in production diagnoses.

use async_imap::imap_proto::{Outcome, ResponseCode, Status};

/// `NO [CODE] text` from a parsed status.
pub(crate) fn status_words(status: &Status, outcome: &Outcome<'_>) -> String {
    let mut words = status_name(status).to_owned();
    if let Some(code) = outcome.code.as_ref().and_then(code_name) {
        words.push_str(" [");
        words.push_str(&code);
        words.push(']');
    }
    if let Some(info) = &outcome.information {
        words.push(' ');
        words.push_str(info);
    }
    words
}

fn status_name(status: &Status) -> &'static str {
    match status {
        Status::Ok => "OK",
        Status::No => "NO",
        Status::Bad => "BAD",
        Status::PreAuth => "PREAUTH",
        Status::Bye => "BYE",
    }
}

/// The wire name of the response codes that carry meaning for a diagnosis; others are left out
/// (their text stays).
fn code_name(code: &ResponseCode<'_>) -> Option<String> {
    Some(
        match code {
            ResponseCode::Alert => "ALERT",
            ResponseCode::Parse => "PARSE",
            ResponseCode::ReadOnly => "READ-ONLY",
            ResponseCode::ReadWrite => "READ-WRITE",
            ResponseCode::TryCreate => "TRYCREATE",
            ResponseCode::UidNotSticky => "UIDNOTSTICKY",
            _ => return None,
        }
        .to_owned(),
    )
}

/// Same as [`code_name`], from the `Debug` name of the variant.
fn code_from_debug(name: &str) -> Option<&'static str> {
    Some(match name {
        "Alert" => "ALERT",
        "Parse" => "PARSE",
        "ReadOnly" => "READ-ONLY",
        "ReadWrite" => "READ-WRITE",
        "TryCreate" => "TRYCREATE",
        "UidNotSticky" => "UIDNOTSTICKY",
        _ => return None,
    })
}

/// `status` (`"NO"`, `"BAD"`) and async-imap's rendering of the outcome, back to words. Text
/// in another shape is returned as it is, after the status.
pub(crate) fn from_async_imap(status: &str, rendered: &str) -> String {
    let info = ["info: Some(", "information: Some("]
        .iter()
        .find_map(|key| rendered.find(key).map(|i| &rendered[i + key.len()..]))
        .and_then(debug_string);
    let code = rendered
        .find("code: Some(")
        .map(|i| &rendered[i + "code: Some(".len()..])
        .and_then(|rest| {
            let end = rest.find(|c: char| !c.is_ascii_alphanumeric())?;
            code_from_debug(&rest[..end])
        });
    let no_info = rendered.contains("info: None") || rendered.contains("information: None");
    if info.is_none() && code.is_none() && !no_info {
        return format!("{status} {rendered}");
    }
    let mut words = status.to_owned();
    if let Some(code) = code {
        words.push_str(" [");
        words.push_str(code);
        words.push(']');
    }
    if let Some(info) = info {
        words.push(' ');
        words.push_str(&info);
    }
    words
}

/// Reads a Rust `Debug` string literal at the start of `text` (`"a \"b\" \u{e9}"`).
fn debug_string(text: &str) -> Option<String> {
    let mut chars = text.strip_prefix('"')?.chars();
    let mut out = String::new();
    loop {
        match chars.next()? {
            '"' => return Some(out),
            '\\' => match chars.next()? {
                'n' => out.push('\n'),
                'r' => out.push('\r'),
                't' => out.push('\t'),
                '0' => out.push('\0'),
                'u' => {
                    let rest = chars.as_str().strip_prefix('{')?;
                    let end = rest.find('}')?;
                    let c = u32::from_str_radix(&rest[..end], 16)
                        .ok()
                        .and_then(char::from_u32)?;
                    out.push(c);
                    chars = rest[end + 1..].chars();
                }
                other => out.push(other),
            },
            c => out.push(c),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use async_imap::imap_proto::Response;

    /// The renderings async-imap 0.12 produces, and the words they stand for.
    #[test]
    fn async_imap_renderings_known_answers() {
        #[rustfmt::skip]
        let table = [
            ("NO", r#"code: None, info: Some("[AUTHENTICATIONFAILED] Authentication failed.")"#,
             "NO [AUTHENTICATIONFAILED] Authentication failed."),
            ("NO", r#"code: Some(Alert), info: Some("Too many simultaneous connections. (Failure)")"#,
             "NO [ALERT] Too many simultaneous connections. (Failure)"),
            ("BAD", r#"code: None, info: Some("Authentication aborted by client.")"#,
             "BAD Authentication aborted by client."),
            ("NO", r#"code: None, info: None"#, "NO"),
            ("NO", r#"outcome: Outcome { code: None, information: Some("[NONEXISTENT] Mailbox doesn't exist: \"X\" \u{e9}") }"#,
             "NO [NONEXISTENT] Mailbox doesn't exist: \"X\" \u{e9}"),
            ("NO", r#"code: Some(UidValidity(3)), info: Some("odd")"#, "NO odd"),
            ("NO", "something else entirely", "NO something else entirely"),
        ];
        for (status, rendered, words) in table {
            assert_eq!(from_async_imap(status, rendered), words, "{rendered}");
        }
    }

    /// The renderings above are what async-imap really produces from these outcomes.
    #[test]
    fn the_pinned_renderings_match_the_library() {
        let line = b"A0001 NO [ALERT] Too many simultaneous connections. (Failure)\r\n";
        let (_, parsed) = Response::parse(line).unwrap();
        let Response::Done {
            status, outcome, ..
        } = parsed
        else {
            panic!("{parsed:?}")
        };
        let code = outcome.code.as_ref();
        let information = outcome.information.as_deref();
        // The exact format string of async-imap 0.12's `check_status_ok`.
        let rendered = format!("code: {code:?}, info: {information:?}");
        assert_eq!(
            from_async_imap("NO", &rendered),
            status_words(&status, &outcome)
        );
        let rendered = format!("outcome: {outcome:?}");
        assert_eq!(
            from_async_imap("NO", &rendered),
            "NO [ALERT] Too many simultaneous connections. (Failure)"
        );
    }

    #[test]
    fn debug_strings_decode_and_garbage_does_not_panic() {
        assert_eq!(debug_string(r#""a\"b\\c""#).as_deref(), Some("a\"b\\c"));
        assert_eq!(
            debug_string(r#""\u{1f600}!""#).as_deref(),
            Some("\u{1f600}!")
        );
        for bad in [
            "",
            "\"",
            "\"\\",
            "\"\\u{zz}\"",
            "no quote",
            "\"\\u{110000}\"",
        ] {
            assert_eq!(debug_string(bad), None, "{bad}");
        }
    }
}
