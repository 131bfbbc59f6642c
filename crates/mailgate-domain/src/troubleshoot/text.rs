//! Provider text made safe to show: one line, bounded length, nothing token-shaped.
//!
//! Provider answers are quoted in messages because their words are what admins search for.
//! They end up in logs, API answers and web pages, so they are flattened (no line breaks to
//! forge log lines), bounded (a hostile server could send megabytes) and scrubbed of anything
//! that looks like a credential, even though callers must never hand us one.

/// Longest quoted provider text, in characters; Microsoft descriptions with trace IDs fit.
const MAX_CHARS: usize = 400;

/// Longest provider input examined, in bytes. Real error bodies and replies are far shorter;
/// the bound keeps a hostile or broken server from making diagnosis expensive.
const MAX_INPUT_BYTES: usize = 16 * 1024;

/// Below this length a run of base64-ish characters is an ID, not a credential.
const MIN_OPAQUE_SECRET_LEN: usize = 48;

const REDACTED: &str = "[redacted]";

/// Prefixes of Google tokens and of JWTs (service account assertions, ID tokens).
const TOKEN_PREFIXES: &[&str] = &["ya29.", "1//", "eyJ"];

/// `key=value` pairs whose value is a secret, with the shortest value worth hiding: an
/// authorization code is long, while `error?code=9002313` (a Microsoft help link) is not one.
const SECRET_KEYS: &[(&str, usize)] = &[
    ("access_token=", 1),
    ("refresh_token=", 1),
    ("client_secret=", 1),
    ("assertion=", 1),
    ("password=", 1),
    ("code=", 12),
    ("auth=bearer", 0),
];

/// The provider's text, quoted for a message: trimmed, on one line, at most `MAX_CHARS`
/// characters, token-like words replaced with `[redacted]`.
pub(crate) fn provider_words(raw: &str) -> String {
    let mut out = String::new();
    let mut previous_was_bearer = false;
    for word in head(raw).split_whitespace() {
        let word: String = word.chars().filter(|c| !c.is_control()).collect();
        if word.is_empty() {
            continue;
        }
        let secret = previous_was_bearer || looks_secret(&word);
        previous_was_bearer = word.to_ascii_lowercase().ends_with("bearer");
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(if secret { REDACTED } else { &word });
    }
    truncate(out)
}

/// The first `MAX_INPUT_BYTES` of `raw`, cut on a character boundary.
pub(crate) fn head(raw: &str) -> &str {
    if raw.len() <= MAX_INPUT_BYTES {
        return raw;
    }
    let mut cut = MAX_INPUT_BYTES;
    while !raw.is_char_boundary(cut) {
        cut -= 1;
    }
    &raw[..cut]
}

/// `Google answered invalid_grant: "Token has been expired or revoked."` or, without a
/// description, `Google answered invalid_grant.`
pub(crate) fn provider_said(who: &str, error: &str, description: Option<&str>) -> String {
    let error = provider_words(error);
    let error = if error.is_empty() {
        "an error without a name".to_owned()
    } else {
        error
    };
    match description.map(provider_words).filter(|d| !d.is_empty()) {
        Some(d) => format!("{who} answered {error}: \"{d}\"."),
        None => format!("{who} answered {error}."),
    }
}

/// `The server said: "..."`, or nothing when the text is empty.
pub(crate) fn quoted(prefix: &str, raw: &str) -> String {
    let words = provider_words(raw);
    if words.is_empty() {
        String::new()
    } else {
        format!(" {prefix}: \"{words}\".")
    }
}

/// Case-insensitive substring test; provider texts vary in case between servers and years.
pub(crate) fn has(haystack: &str, needle: &str) -> bool {
    haystack
        .to_ascii_lowercase()
        .contains(&needle.to_ascii_lowercase())
}

/// True when any needle occurs (case-insensitive).
pub(crate) fn has_any(haystack: &str, needles: &[&str]) -> bool {
    let lower = haystack.to_ascii_lowercase();
    needles
        .iter()
        .any(|n| lower.contains(&n.to_ascii_lowercase()))
}

fn looks_secret(word: &str) -> bool {
    let lower = word.to_ascii_lowercase();
    let trimmed = word.trim_matches(|c: char| "\"'()[]{}<>,;".contains(c));
    TOKEN_PREFIXES.iter().any(|p| trimmed.starts_with(p))
        || SECRET_KEYS
            .iter()
            .any(|(key, min)| secret_value(&lower, key, *min))
        || (trimmed.len() >= MIN_OPAQUE_SECRET_LEN
            && !lower.starts_with("http")
            && trimmed
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_.~+/=".contains(c)))
}

/// True when `key` occurs in `lower` followed by a value of at least `min` characters.
fn secret_value(lower: &str, key: &str, min: usize) -> bool {
    lower.match_indices(key).any(|(at, _)| {
        let value = &lower[at + key.len()..];
        value
            .split(['&', '"', '\''])
            .next()
            .unwrap_or_default()
            .len()
            >= min
    })
}

fn truncate(text: String) -> String {
    match text.char_indices().nth(MAX_CHARS) {
        Some((cut, _)) => format!("{}...", &text[..cut]),
        None => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flattens_and_bounds_text() {
        assert_eq!(provider_words("  a\r\n b\tc "), "a b c");
        assert_eq!(provider_words(""), "");
        let long = "word ".repeat(500);
        assert!(provider_words(&long).chars().count() <= MAX_CHARS + 3);
        assert_eq!(provider_words("a\u{0}b"), "ab");
    }

    #[test]
    fn scrubs_token_shaped_words() {
        let cases = [
            "token ya29.a0AfH6SMBx was refused",
            "Authorization: Bearer abc.def",
            "refresh_token=1//0gabc",
            "assertion eyJhbGciOiJSUzI1NiJ9.e30.sig",
            "opaque ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789",
            "user=a@b.c\u{1}auth=Bearer xyz",
        ];
        for case in cases {
            let out = provider_words(case);
            assert!(out.contains(REDACTED), "{case} -> {out}");
            for secret in [
                "ya29.a0",
                "abc.def",
                "1//0gabc",
                "eyJhb",
                "ABCDEFGHIJ",
                "xyz",
            ] {
                assert!(!out.contains(secret), "{case} leaked in {out}");
            }
        }
    }

    #[test]
    fn keeps_ordinary_words_and_urls() {
        let text = "Enable it by visiting https://console.developers.google.com/apis/api/gmail.googleapis.com/overview?project=123456789012 then retry.";
        assert_eq!(provider_words(text), text);
        let link = "see https://login.microsoftonline.com/error?code=9002313 for more";
        assert_eq!(provider_words(link), link);
        let trace = "Trace ID: 0000aaaa-11bb-cccc-dd22-eeeeee333333";
        assert_eq!(provider_words(trace), trace);
    }

    #[test]
    fn input_head_is_bounded_on_a_char_boundary() {
        let text = "é".repeat(MAX_INPUT_BYTES);
        assert!(head(&text).len() <= MAX_INPUT_BYTES);
        assert_eq!(head("short"), "short");
    }

    #[test]
    fn truncates_on_a_char_boundary() {
        let text = "é".repeat(MAX_CHARS + 10);
        assert!(provider_words(&text).ends_with("..."));
    }
}
