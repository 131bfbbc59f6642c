//! Just enough RFC 5322 to send like Gmail: read the header block (folded lines included), pull
//! the addresses out of To/Cc/Bcc, drop Bcc before delivery, and add the Message-ID and Date
//! Gmail adds when they are missing.

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AddressError {
    #[error("Invalid {header} header")]
    Invalid { header: &'static str },
}

/// One header field, unfolded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    pub name: String,
    pub value: String,
}

/// Lines of the header block (up to the first empty line), each without its line ending.
fn header_lines(raw: &[u8]) -> impl Iterator<Item = &[u8]> {
    raw.split(|b| *b == b'\n')
        .map(|line| line.strip_suffix(b"\r").unwrap_or(line))
        .take_while(|line| !line.is_empty())
}

fn is_continuation(line: &[u8]) -> bool {
    matches!(line.first(), Some(b' ' | b'\t'))
}

/// The unfolded header fields of a message. Lines that are neither a field nor a continuation
/// are skipped, as a lenient MTA would.
pub fn headers(raw: &[u8]) -> Vec<Header> {
    let mut out: Vec<Header> = Vec::new();
    for line in header_lines(raw) {
        let text = String::from_utf8_lossy(line);
        if is_continuation(line) {
            if let Some(last) = out.last_mut() {
                last.value.push(' ');
                last.value.push_str(text.trim());
            }
            continue;
        }
        if let Some((name, value)) = text.split_once(':')
            && !name.is_empty()
            && !name.contains(char::is_whitespace)
        {
            out.push(Header {
                name: name.to_owned(),
                value: value.trim().to_owned(),
            });
        }
    }
    out
}

/// All addresses of the To, Cc and Bcc fields, in order, without duplicates.
pub fn recipients(headers: &[Header]) -> Result<Vec<String>, AddressError> {
    let mut out: Vec<String> = Vec::new();
    for (field, label) in [("to", "To"), ("cc", "Cc"), ("bcc", "Bcc")] {
        for header in headers
            .iter()
            .filter(|h| h.name.eq_ignore_ascii_case(field))
        {
            let addresses =
                parse_address_list(&header.value).ok_or(AddressError::Invalid { header: label })?;
            for address in addresses {
                if !out.iter().any(|o| o.eq_ignore_ascii_case(&address)) {
                    out.push(address);
                }
            }
        }
    }
    Ok(out)
}

/// Addresses of a list such as `"Doe, Jane" <jane@x.test>, bob@y.test (Bob), team: a@z.test;`.
/// `None` when an entry holds no usable address.
pub fn parse_address_list(value: &str) -> Option<Vec<String>> {
    let mut out = Vec::new();
    for entry in split_top_level(value) {
        let entry = entry.trim();
        if entry.is_empty() {
            continue;
        }
        let candidate = match (entry.rfind('<'), entry.rfind('>')) {
            (Some(open), Some(close)) if open < close => entry[open + 1..close].trim().to_owned(),
            _ => strip_comments(entry).trim().trim_matches('"').to_owned(),
        };
        if !is_address(&candidate) {
            return None;
        }
        out.push(candidate);
    }
    Some(out)
}

/// Splits on commas outside quotes, angle brackets and comments; a group's display name
/// (`name:`) and its closing `;` are separators too.
fn split_top_level(value: &str) -> Vec<String> {
    let (mut parts, mut current) = (Vec::new(), String::new());
    let (mut quoted, mut escaped, mut angle, mut comment) = (false, false, 0usize, 0usize);
    for c in value.chars() {
        if escaped {
            escaped = false;
            current.push(c);
            continue;
        }
        match c {
            '\\' if quoted || comment > 0 => escaped = true,
            '"' if comment == 0 => quoted = !quoted,
            '(' if !quoted => comment += 1,
            ')' if !quoted && comment > 0 => comment -= 1,
            '<' if !quoted && comment == 0 => angle += 1,
            '>' if !quoted && comment == 0 && angle > 0 => angle -= 1,
            ',' | ';' if !quoted && comment == 0 && angle == 0 => {
                parts.push(std::mem::take(&mut current));
                continue;
            }
            ':' if !quoted && comment == 0 && angle == 0 => {
                // Group syntax: what came before is the group's name, not an address.
                current.clear();
                continue;
            }
            _ => {}
        }
        current.push(c);
    }
    parts.push(current);
    parts
}

fn strip_comments(entry: &str) -> String {
    let mut depth = 0usize;
    entry
        .chars()
        .filter(|c| match c {
            '(' => {
                depth += 1;
                false
            }
            ')' => {
                depth = depth.saturating_sub(1);
                false
            }
            _ => depth == 0,
        })
        .collect()
}

fn is_address(candidate: &str) -> bool {
    match candidate.rsplit_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && !domain.is_empty()
                && !domain.contains('@')
                && !candidate.contains(char::is_whitespace)
        }
        None => false,
    }
}

/// The message as Gmail relays it: without Bcc fields, with Message-ID and Date added when
/// missing, CRLF line endings.
pub fn prepare_for_delivery(raw: &[u8], message_id: &str, date: &str) -> Vec<u8> {
    let fields = headers(raw);
    let has = |name: &str| fields.iter().any(|h| h.name.eq_ignore_ascii_case(name));
    let mut out = Vec::with_capacity(raw.len() + 128);
    if !has("Message-ID") {
        out.extend_from_slice(format!("Message-ID: <{message_id}>\r\n").as_bytes());
    }
    if !has("Date") {
        out.extend_from_slice(format!("Date: {date}\r\n").as_bytes());
    }
    let mut lines = raw
        .split(|b| *b == b'\n')
        .map(|line| line.strip_suffix(b"\r").unwrap_or(line))
        .peekable();
    let mut in_headers = true;
    let mut dropping = false;
    while let Some(line) = lines.next() {
        if in_headers {
            if line.is_empty() {
                in_headers = false;
            } else if is_continuation(line) {
                if dropping {
                    continue;
                }
            } else {
                dropping = line.len() >= 4 && line[..4].eq_ignore_ascii_case(b"bcc:");
                if dropping {
                    continue;
                }
            }
        }
        out.extend_from_slice(line);
        // The split leaves an empty last piece after a final newline: no extra CRLF for it.
        if lines.peek().is_some() {
            out.extend_from_slice(b"\r\n");
        }
    }
    if !out.ends_with(b"\r\n") {
        out.extend_from_slice(b"\r\n");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn address_lists_known_answers() {
        let cases: &[(&str, Option<&[&str]>)] = &[
            ("a@x.test", Some(&["a@x.test"])),
            ("Jane <jane@x.test>", Some(&["jane@x.test"])),
            (
                "\"Doe, Jane\" <jane@x.test>, bob@y.test (Bob, B.)",
                Some(&["jane@x.test", "bob@y.test"]),
            ),
            (
                "team: a@z.test, b@z.test;, c@z.test",
                Some(&["a@z.test", "b@z.test", "c@z.test"]),
            ),
            ("undisclosed-recipients:;", Some(&[])),
            ("\"<odd>\" <real@x.test>", Some(&["real@x.test"])),
            ("not an address", None),
            ("a@x.test, broken", None),
        ];
        for (input, expected) in cases {
            let got = parse_address_list(input);
            let expected = expected.map(|e| e.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>());
            assert_eq!(got, expected, "input: {input}");
        }
    }

    #[test]
    fn folded_headers_are_unfolded_and_recipients_collected() {
        let raw = b"From: me@example.test\r\nTo: a@example.test,\r\n\tB <b@example.test>\r\nCc: c@other.test\r\nBCC: hidden@example.test\r\nSubject: hi\r\n\r\nTo: not-a-header@example.test\r\n";
        let fields = headers(raw);
        assert_eq!(fields[1].value, "a@example.test, B <b@example.test>");
        assert_eq!(
            recipients(&fields).expect("valid"),
            [
                "a@example.test",
                "b@example.test",
                "c@other.test",
                "hidden@example.test"
            ]
        );
    }

    #[test]
    fn an_unparsable_to_header_is_named() {
        let fields = headers(b"To: nobody\n\nbody");
        assert_eq!(
            recipients(&fields),
            Err(AddressError::Invalid { header: "To" })
        );
    }

    #[test]
    fn delivery_copy_drops_bcc_and_adds_missing_fields() {
        let raw = b"To: a@example.test\nBcc: x@example.test,\n  y@example.test\nSubject: s\n\nBcc: stays in the body\n";
        let out = String::from_utf8(prepare_for_delivery(
            raw,
            "id@mail.gmail.com",
            "Mon, 1 Jan 2024 00:00:00 +0000",
        ))
        .expect("utf8");
        assert_eq!(
            out,
            "Message-ID: <id@mail.gmail.com>\r\nDate: Mon, 1 Jan 2024 00:00:00 +0000\r\n\
             To: a@example.test\r\nSubject: s\r\n\r\nBcc: stays in the body\r\n"
        );
    }

    #[test]
    fn delivery_copy_keeps_existing_message_id_and_date() {
        let raw = b"Message-Id: <mine@x>\r\nDate: Tue, 2 Jan 2024 00:00:00 +0000\r\nTo: a@example.test\r\n\r\nhi";
        let out = prepare_for_delivery(raw, "unused", "unused");
        assert_eq!(out, b"Message-Id: <mine@x>\r\nDate: Tue, 2 Jan 2024 00:00:00 +0000\r\nTo: a@example.test\r\n\r\nhi\r\n");
    }
}
