//! The character classes and forms of RFC 5322 (with RFC 6532's UTF-8) an address is checked
//! against, and quoting.

/// White space runs as one space, trimmed; `None` when nothing is left.
pub(super) fn collapse(text: &str) -> Option<String> {
    let joined = text.split_whitespace().collect::<Vec<_>>().join(" ");
    (!joined.is_empty()).then_some(joined)
}

pub(super) fn quote(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        if c == '"' || c == '\\' {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
    out
}

/// RFC 5322 `atext`, with RFC 6532's UTF-8 (no control characters).
pub(super) fn is_atext(c: char) -> bool {
    c.is_ascii_alphanumeric()
        || "!#$%&'*+-/=?^_`{|}~".contains(c)
        || (!c.is_ascii() && !c.is_control())
}

pub(super) fn is_atom(s: &str) -> bool {
    !s.is_empty() && s.chars().all(is_atext)
}

pub(super) fn is_dot_atom(s: &str) -> bool {
    s.split('.').all(is_atom)
}

/// `dtext`, with RFC 6532's UTF-8.
pub(super) fn is_dtext(c: char) -> bool {
    matches!(c, '!'..='Z' | '^'..='~') || (!c.is_ascii() && !c.is_control())
}

/// `qtext` / `quoted-pair` content: printable, space or tab (no other control character).
pub(super) fn is_qcontent(c: char) -> bool {
    c == ' ' || c == '\t' || !c.is_control()
}

/// A quoted string as RFC 5322 writes it (no CFWS around it): `"` then `qtext`, quoted pairs
/// and white space, then `"`.
pub(super) fn is_quoted_string(s: &str) -> bool {
    let Some(inner) = s.strip_prefix('"').and_then(|s| s.strip_suffix('"')) else {
        return false;
    };
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some(c) if is_qcontent(c) => {}
                _ => return false,
            },
            '"' => return false,
            c if !is_qcontent(c) => return false,
            _ => {}
        }
    }
    true
}

/// Whether `s` is an RFC 5322 addr-spec in its modern form (RFC 6532's UTF-8 allowed): a
/// dot-atom or quoted-string local part, `@`, a dot-atom domain or a domain literal, with no
/// white space or comment around the pieces.
pub fn is_addr_spec(s: &str) -> bool {
    let domain = if s.starts_with('"') {
        // The closing quote is the first `"` not escaped.
        let mut escaped = false;
        let mut close = None;
        for (i, c) in s.char_indices().skip(1) {
            match c {
                _ if escaped => escaped = false,
                '\\' => escaped = true,
                '"' => {
                    close = Some(i);
                    break;
                }
                _ => {}
            }
        }
        let Some(close) = close else {
            return false;
        };
        let (local, rest) = s.split_at(close + 1);
        let Some(domain) = rest.strip_prefix('@') else {
            return false;
        };
        if !is_quoted_string(local) {
            return false;
        }
        domain
    } else {
        let Some((local, domain)) = s.split_once('@') else {
            return false;
        };
        if !is_dot_atom(local) {
            return false;
        }
        domain
    };
    match domain.strip_prefix('[') {
        Some(inner) => inner
            .strip_suffix(']')
            .is_some_and(|inner| inner.chars().all(is_dtext)),
        None => is_dot_atom(domain),
    }
}
