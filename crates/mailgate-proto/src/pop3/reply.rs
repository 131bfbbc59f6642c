//! POP3 answers: the status line (`+OK`, `-ERR`, the SASL continuation `+ `) and the fields of
//! STAT, LIST and UIDL lines (RFC 1939, RFC 2449, RFC 5034).

use crate::lines::Tolerances;

/// A status line, its text after the status word.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Status {
    Ok(String),
    Err(String),
    /// `+ <base64>`: a SASL challenge (only valid during AUTH).
    Continue(String),
}

/// Parses a status line (without its line end). The error says what was expected and names
/// the tolerance that would accept the line, if one would.
pub(crate) fn status(line: &[u8], tolerances: &Tolerances) -> Result<Status, String> {
    let text = String::from_utf8_lossy(line);
    let word_end = text.find(' ').unwrap_or(text.len());
    let (word, rest) = text.split_at(word_end);
    let rest = rest.strip_prefix(' ').unwrap_or(rest).to_owned();
    match word {
        "+OK" => Ok(Status::Ok(rest)),
        "-ERR" => Ok(Status::Err(rest)),
        "+" if word_end < text.len() => Ok(Status::Continue(rest)),
        "+" if tolerances.continuation_without_space => Ok(Status::Continue(String::new())),
        "+" => Err("a SASL continuation `+` without the space after it (tolerance `continuation_without_space`)".into()),
        w if w.eq_ignore_ascii_case("+OK") || w.eq_ignore_ascii_case("-ERR") => {
            if !tolerances.lowercase_status {
                return Err(format!(
                    "`{w}` instead of `{}` (tolerance `lowercase_status`)",
                    w.to_ascii_uppercase()
                ));
            }
            if w.starts_with('+') {
                Ok(Status::Ok(rest))
            } else {
                Ok(Status::Err(rest))
            }
        }
        _ => Err("expected `+OK` or `-ERR`".into()),
    }
}

/// The extended response code (RFC 2449 section 8) that opens the text of a `-ERR`, upper-cased:
/// `IN-USE`, `LOGIN-DELAY`, `SYS/TEMP`, `SYS/PERM` (RFC 3206), `AUTH`...
pub(crate) fn response_code(text: &str) -> Option<String> {
    let rest = text.trim_start().strip_prefix('[')?;
    let code = &rest[..rest.find(']')?];
    let valid = !code.is_empty()
        && code
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '/');
    valid.then(|| code.to_ascii_uppercase())
}

/// A `-ERR` to a login that does not judge the credentials: the mailbox is locked by another
/// session (`[IN-USE]`) or the server fails for now (`[SYS/TEMP]`). Logging in again later
/// works; an `[AUTH]` (RFC 3206) or no code at all is a refusal of the credentials.
pub(crate) fn is_transient_login_refusal(text: &str) -> bool {
    response_code(text).is_some_and(|c| c == "IN-USE" || c == "SYS/TEMP")
}

/// The space-separated fields of a STAT / LIST / UIDL line. RFC 1939 puts exactly one space
/// between fields and none at the end; [`Tolerances::loose_spacing`] accepts runs of spaces
/// and trailing ones.
pub(crate) fn fields<'a>(
    text: &'a str,
    want: usize,
    tolerances: &Tolerances,
) -> Result<Vec<&'a str>, String> {
    let fields: Vec<&str> = if tolerances.loose_spacing {
        text.split_ascii_whitespace().collect()
    } else {
        text.split(' ').collect()
    };
    let strictly_bad = !tolerances.loose_spacing && fields.iter().take(want).any(|f| f.is_empty());
    if strictly_bad {
        return Err("fields separated by more than one space (tolerance `loose_spacing`)".into());
    }
    if fields.len() < want {
        return Err(format!("expected {want} fields"));
    }
    if fields.len() > want
        && !tolerances.loose_spacing
        && fields[want..].iter().all(|f| f.is_empty())
    {
        return Err("spaces at the end of the line (tolerance `loose_spacing`)".into());
    }
    Ok(fields)
}

pub(crate) fn number<T: std::str::FromStr>(field: &str) -> Result<T, String> {
    if field.is_empty() || !field.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("`{field}` is not a number"));
    }
    field
        .parse()
        .map_err(|_| format!("`{field}` is out of range"))
}

/// A UIDL unique-id: 1 to 70 characters in 0x21..=0x7E (RFC 1939 section 7).
pub(crate) fn unique_id(field: &str) -> Result<String, String> {
    if field.is_empty() || field.len() > 70 || !field.bytes().all(|b| (0x21..=0x7e).contains(&b)) {
        return Err(format!("`{field}` is not a valid UIDL unique-id"));
    }
    Ok(field.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A line, and what it parses to without and with every tolerance.
    type Case = (
        &'static [u8],
        Result<Status, &'static str>,
        Result<Status, &'static str>,
    );

    #[test]
    fn status_lines_known_answers() {
        let strict = Tolerances::default();
        let lenient = Tolerances::lenient();
        #[rustfmt::skip]
        let table: &[Case] = &[
            (b"+OK", Ok(Status::Ok("".into())), Ok(Status::Ok("".into()))),
            (b"+OK Dovecot ready.", Ok(Status::Ok("Dovecot ready.".into())), Ok(Status::Ok("Dovecot ready.".into()))),
            (b"-ERR [AUTH] Authentication failed.", Ok(Status::Err("[AUTH] Authentication failed.".into())), Ok(Status::Err("[AUTH] Authentication failed.".into()))),
            (b"+ ", Ok(Status::Continue("".into())), Ok(Status::Continue("".into()))),
            (b"+ eyJzdGF0dXMiOiI0MDEifQ==", Ok(Status::Continue("eyJzdGF0dXMiOiI0MDEifQ==".into())), Ok(Status::Continue("eyJzdGF0dXMiOiI0MDEifQ==".into()))),
            (b"+", Err("continuation_without_space"), Ok(Status::Continue("".into()))),
            (b"+ok fine", Err("lowercase_status"), Ok(Status::Ok("fine".into()))),
            (b"-err nope", Err("lowercase_status"), Ok(Status::Err("nope".into()))),
            (b"+OKAY", Err("expected"), Err("expected")),
            (b"* OK [CAPABILITY IMAP4rev1] ready", Err("expected"), Err("expected")),
            (b"", Err("expected"), Err("expected")),
            (b"\xff\xfe", Err("expected"), Err("expected")),
        ];
        for (line, want_strict, want_lenient) in table {
            for (tol, want) in [(&strict, want_strict), (&lenient, want_lenient)] {
                let got = status(line, tol);
                match (want, &got) {
                    (Ok(w), Ok(g)) => assert_eq!(w, g, "{line:?}"),
                    (Err(w), Err(g)) => assert!(g.contains(w), "{line:?}: {g}"),
                    _ => panic!("{line:?}: got {got:?}, want {want:?}"),
                }
            }
        }
    }

    #[test]
    fn listing_fields_known_answers() {
        let strict = Tolerances::default();
        let lenient = Tolerances::lenient();
        assert_eq!(fields("1 abc", 2, &strict).unwrap(), ["1", "abc"]);
        assert!(
            fields("1  abc", 2, &strict)
                .unwrap_err()
                .contains("loose_spacing")
        );
        assert!(
            fields("1 abc ", 2, &strict)
                .unwrap_err()
                .contains("loose_spacing")
        );
        assert_eq!(fields("1  abc ", 2, &lenient).unwrap(), ["1", "abc"]);
        assert!(fields("1", 2, &strict).is_err());
        assert_eq!(number::<u32>("42"), Ok(42));
        assert!(number::<u32>("-1").is_err());
        assert!(number::<u32>("+1").is_err());
        assert!(number::<u32>("99999999999").is_err());
        assert_eq!(unique_id("000000015a0d9b2e").unwrap(), "000000015a0d9b2e");
        assert!(unique_id(&"x".repeat(71)).is_err());
        assert!(unique_id("a\u{7f}").is_err());
    }

    /// Random bytes never panic the parsers (a poor man's fuzz target, run in every test run).
    #[test]
    fn parsers_survive_arbitrary_input() {
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        let mut next = || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        for _ in 0..5000 {
            let len = (next() % 40) as usize;
            let bytes: Vec<u8> = (0..len)
                .map(|_| {
                    let alphabet = b"+-OKER okerr 0123456789 \t.\xff*";
                    alphabet[(next() % alphabet.len() as u64) as usize]
                })
                .collect();
            for tol in [Tolerances::default(), Tolerances::lenient()] {
                let _ = status(&bytes, &tol);
                let text = String::from_utf8_lossy(&bytes);
                if let Ok(f) = fields(&text, 2, &tol) {
                    let _ = number::<u32>(f[0]);
                    let _ = unique_id(f[1]);
                }
            }
        }
    }
}
