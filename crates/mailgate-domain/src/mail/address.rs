//! RFC 5322 addresses read from the raw value of a header field (From, Sender, Reply-To,
//! Return-Path, To, Cc): section 3.4, with the obsolete forms of section 4.4 (routes
//! `<@relay1,@relay2:user@example.com>`, local parts of words and dots with comments between,
//! empty list elements) and RFC 6532's UTF-8.
//!
//! mail-parser reads addresses for display: it drops the quotes of `"john doe"@example.com`,
//! cuts `"a@b"@example.com` at its first `@`, keeps route text and glues two angle-addrs
//! together. Here the reading is the address a reply goes to:
//! - an address is always a valid addr-spec ([`is_addr_spec`]): a local part written as a
//!   dot-atom or one quoted string is kept as written (quotes and escapes included); an
//!   obsolete one (`john . "x" . doe`) is rewritten to the equivalent dot-atom or quoted
//!   string; the domain is lower-cased, a domain literal (`[192.0.2.1]`, `[IPv6:2001:db8::1]`)
//!   is kept as written without its folding white space;
//! - text that is no address (`From: MAILER-DAEMON`) is never taken for one: it is kept as the
//!   entry's name;
//! - what RFC 5322 does not allow but can be read without guessing is read and reported as a
//!   [`Defect`]: text after an address, a second `<address>`, an unclosed quote, comment,
//!   literal or `<`.
//!
//! Total and linear: one pass to split the value into tokens, one over the tokens; comments
//! nest by a counter, not by recursion.

/// The mailboxes of one header value, in order, and what was malformed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AddressList {
    pub entries: Vec<Entry>,
    /// Each kind of defect once, in the order found.
    pub defects: Vec<Defect>,
}

impl AddressList {
    /// The entries that hold an address.
    pub fn addressed(&self) -> impl Iterator<Item = (&str, Option<&str>)> {
        self.entries
            .iter()
            .filter_map(|e| Some((e.address.as_deref()?, e.name.as_deref())))
    }
}

/// One element of an address list (group members are listed as elements; group names are
/// dropped).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// A valid addr-spec; `None` when the element holds none.
    pub address: Option<String>,
    /// The display name as written: words joined by one space, quotes and escapes removed,
    /// RFC 2047 encoded words left for the caller to decode. Without a phrase, the first
    /// comment (`user@example.com (User Name)`); without an address, the element's text.
    pub name: Option<String>,
}

/// What RFC 5322 does not allow in an address list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Defect {
    #[error("text after the address")]
    TrailingText,
    #[error("a second <address> in one mailbox")]
    SecondAngleAddr,
    #[error("an unclosed {0}")]
    Unclosed(&'static str),
    #[error("an invalid address")]
    InvalidAddress,
    #[error("text that is no address")]
    NotAnAddress,
}

/// Reads an address list (a mailbox, a mailbox list, an address list with groups, or a
/// Return-Path's angle-addr). Never fails: what cannot be read is left out and reported.
pub fn read(value: &str) -> AddressList {
    let mut list = AddressList::default();
    let tokens = lex(value, &mut list.defects);
    for element in elements(&tokens) {
        if let Some(entry) = entry(element, &mut list.defects) {
            list.entries.push(entry);
        }
    }
    list
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Tok<'a> {
    /// A run of characters that are neither specials nor white space.
    Atom(&'a str),
    /// `raw` as written, quotes included (no closing quote when unclosed); `text` unescaped.
    Quoted {
        raw: &'a str,
        text: String,
    },
    /// As written, brackets included.
    Literal(&'a str),
    Comment(String),
    Special(char),
    Space,
}

impl Tok<'_> {
    fn is_cfws(&self) -> bool {
        matches!(self, Tok::Space | Tok::Comment(_))
    }
}

const SPECIALS: &[char] = &[
    '(', ')', '<', '>', '[', ']', ':', ';', '@', '\\', ',', '.', '"',
];

fn push_defect(defects: &mut Vec<Defect>, defect: Defect) {
    if !defects.contains(&defect) {
        defects.push(defect);
    }
}

fn lex<'a>(s: &'a str, defects: &mut Vec<Defect>) -> Vec<Tok<'a>> {
    let mut tokens = Vec::new();
    let mut chars = s.char_indices().peekable();
    while let Some((start, c)) = chars.next() {
        match c {
            ' ' | '\t' | '\r' | '\n' => {
                if tokens.last() != Some(&Tok::Space) {
                    tokens.push(Tok::Space);
                }
            }
            '"' => {
                let mut text = String::new();
                let mut end = None;
                while let Some((i, c)) = chars.next() {
                    match c {
                        '"' => {
                            end = Some(i + 1);
                            break;
                        }
                        '\\' => text.extend(chars.next().map(|(_, c)| c)),
                        '\r' | '\n' => {}
                        c => text.push(c),
                    }
                }
                if end.is_none() {
                    push_defect(defects, Defect::Unclosed("quoted string"));
                }
                let raw = &s[start..end.unwrap_or(s.len())];
                tokens.push(Tok::Quoted { raw, text });
            }
            '(' => {
                let mut text = String::new();
                let mut depth = 1usize;
                while let Some((_, c)) = chars.next() {
                    match c {
                        '(' => depth += 1,
                        ')' => depth -= 1,
                        '\\' => {
                            text.extend(chars.next().map(|(_, c)| c));
                            continue;
                        }
                        _ => {}
                    }
                    if depth == 0 {
                        break;
                    }
                    text.push(c);
                }
                if depth > 0 {
                    push_defect(defects, Defect::Unclosed("comment"));
                }
                tokens.push(Tok::Comment(text));
            }
            '[' => {
                let mut end = None;
                while let Some((i, c)) = chars.next() {
                    match c {
                        ']' => {
                            end = Some(i + 1);
                            break;
                        }
                        '\\' => {
                            chars.next();
                        }
                        _ => {}
                    }
                }
                if end.is_none() {
                    push_defect(defects, Defect::Unclosed("domain literal"));
                }
                tokens.push(Tok::Literal(&s[start..end.unwrap_or(s.len())]));
            }
            c if SPECIALS.contains(&c) => tokens.push(Tok::Special(c)),
            _ => {
                let mut end = start + c.len_utf8();
                while let Some(&(i, c)) = chars.peek() {
                    if c.is_ascii_whitespace() || SPECIALS.contains(&c) {
                        break;
                    }
                    end = i + c.len_utf8();
                    chars.next();
                }
                tokens.push(Tok::Atom(&s[start..end]));
            }
        }
    }
    tokens
}

/// The elements of a list: split at `,` and `;` outside `<>`; a `:` outside `<>` ends a
/// group's name, which is dropped.
fn elements<'t, 'a>(tokens: &'t [Tok<'a>]) -> Vec<&'t [Tok<'a>]> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut depth = 0usize;
    for (i, t) in tokens.iter().enumerate() {
        match t {
            Tok::Special('<') => depth += 1,
            Tok::Special('>') => depth = depth.saturating_sub(1),
            Tok::Special(',' | ';') if depth == 0 => {
                out.push(&tokens[start..i]);
                start = i + 1;
            }
            Tok::Special(':') if depth == 0 => start = i + 1,
            _ => {}
        }
    }
    out.push(&tokens[start..]);
    out
}

fn entry(tokens: &[Tok<'_>], defects: &mut Vec<Defect>) -> Option<Entry> {
    if tokens.iter().all(Tok::is_cfws) {
        return None;
    }
    let first_comment = || {
        tokens.iter().find_map(|t| match t {
            Tok::Comment(c) => collapse(c),
            _ => None,
        })
    };
    let Some(open) = tokens.iter().position(|t| t == &Tok::Special('<')) else {
        // addr-spec, or a word that is no address.
        let Some(at) = tokens.iter().position(|t| t == &Tok::Special('@')) else {
            push_defect(defects, Defect::NotAnAddress);
            return Some(Entry {
                address: None,
                name: words(tokens),
            });
        };
        let (address, rest) = addr_spec(tokens, at);
        if address.is_none() || rest.first().is_some_and(|t| **t == Tok::Special('@')) {
            push_defect(defects, Defect::InvalidAddress);
            return None;
        }
        if !rest.is_empty() {
            push_defect(defects, Defect::TrailingText);
        }
        return Some(Entry {
            address,
            name: first_comment(),
        });
    };

    // [phrase] "<" [obs-route] addr-spec ">", tolerating `<<addr>>`.
    let phrase = &tokens[..open];
    let mut inner = &tokens[open + 1..];
    let mut doubled = 0;
    while let Some(Tok::Special('<')) = inner.iter().find(|t| !t.is_cfws()) {
        let next = inner.iter().position(|t| !t.is_cfws()).unwrap_or(0);
        inner = &inner[next + 1..];
        doubled += 1;
    }
    let (content, mut after) = match inner.iter().position(|t| t == &Tok::Special('>')) {
        Some(close) => (&inner[..close], &inner[close + 1..]),
        None => {
            push_defect(defects, Defect::Unclosed("<"));
            (inner, &[][..])
        }
    };
    for _ in 0..doubled {
        match after.iter().position(|t| !t.is_cfws()) {
            Some(i) if after[i] == Tok::Special('>') => after = &after[i + 1..],
            _ => break,
        }
    }
    if after.iter().any(|t| t == &Tok::Special('<')) {
        push_defect(defects, Defect::SecondAngleAddr);
    } else if !after.iter().all(Tok::is_cfws) {
        push_defect(defects, Defect::TrailingText);
    }

    // `<>` is the null sender: empty, no defect.
    let empty = content.iter().all(Tok::is_cfws);
    let content = without_route(content);
    let address = match content.iter().position(|t| t == &Tok::Special('@')) {
        _ if empty => None,
        Some(at) => match addr_spec(content, at) {
            (Some(address), rest) if rest.is_empty() => Some(address),
            _ => {
                push_defect(defects, Defect::InvalidAddress);
                None
            }
        },
        None => {
            push_defect(defects, Defect::NotAnAddress);
            None
        }
    };
    let name = words(phrase).or_else(first_comment);
    let name = match &address {
        None => name.or_else(|| words(content)),
        Some(_) => name,
    };
    Some(Entry { address, name })
}

/// The content of an angle-addr without its obsolete route (`@a,@b:`).
fn without_route<'t, 'a>(content: &'t [Tok<'a>]) -> &'t [Tok<'a>] {
    let starts_route = content
        .iter()
        .find(|t| !t.is_cfws())
        .is_some_and(|t| matches!(t, Tok::Special('@' | ',')));
    match content.iter().position(|t| t == &Tok::Special(':')) {
        Some(colon) if starts_route => &content[colon + 1..],
        _ => content,
    }
}

/// The addr-spec around the `@` at `at`: `local-part "@" domain`, CFWS allowed between their
/// pieces. Returns it (`None` when either side is invalid) and the significant tokens after
/// the domain.
fn addr_spec<'t, 'a>(tokens: &'t [Tok<'a>], at: usize) -> (Option<String>, Vec<&'t Tok<'a>>) {
    let mut rest = tokens[at + 1..].iter().filter(|t| !t.is_cfws()).peekable();
    let domain = match rest.next() {
        Some(Tok::Literal(raw)) => literal(raw),
        Some(Tok::Atom(first)) => {
            let mut domain = first.to_lowercase();
            while let Some(Tok::Special('.')) = rest.peek() {
                let mut ahead = rest.clone();
                ahead.next();
                let Some(Tok::Atom(label)) = ahead.next() else {
                    break;
                };
                rest = ahead;
                domain.push('.');
                domain.push_str(&label.to_lowercase());
            }
            domain.split('.').all(is_atom).then_some(domain)
        }
        _ => None,
    };
    let rest: Vec<_> = rest.collect();
    let local = local_part(&tokens[..at]);
    match (local, domain) {
        (Some(local), Some(domain)) => (Some(format!("{local}@{domain}")), rest),
        _ => (None, rest),
    }
}

/// A local part as written when it is a dot-atom or one quoted string; an obsolete one
/// (words and dots with CFWS between) as the equivalent dot-atom or quoted string.
fn local_part(tokens: &[Tok<'_>]) -> Option<String> {
    let significant: Vec<_> = tokens.iter().filter(|t| !t.is_cfws()).collect();
    // Words separated by dots: `john doe@x` is a phrase and a word, not an address.
    let mut last_word = false;
    for t in &significant {
        let word = match t {
            Tok::Atom(_) | Tok::Quoted { .. } => true,
            Tok::Special('.') => false,
            _ => return None,
        };
        if word && last_word {
            return None;
        }
        last_word = word;
    }
    if let [Tok::Quoted { raw, .. }] = significant.as_slice()
        && is_quoted_string(raw)
    {
        return Some((*raw).to_owned());
    }
    let mut text = String::new();
    for t in &significant {
        match t {
            Tok::Atom(a) => text.push_str(a),
            Tok::Quoted { text: q, .. } => text.push_str(q),
            Tok::Special(c) => text.push(*c),
            _ => {}
        }
    }
    if significant.is_empty() {
        return None;
    }
    if is_dot_atom(&text) {
        return Some(text);
    }
    let quoted = quote(&text);
    is_quoted_string(&quoted).then_some(quoted)
}

/// A domain literal without its folding white space; `None` when it holds what `dtext` does
/// not allow.
fn literal(raw: &str) -> Option<String> {
    let inner = raw.strip_prefix('[')?.strip_suffix(']')?;
    let inner: String = inner.chars().filter(|c| !c.is_whitespace()).collect();
    inner.chars().all(is_dtext).then(|| format!("[{inner}]"))
}

/// The words of a phrase (or of an element that is no address) joined by one space: quotes
/// and escapes removed, comments read as space. `None` when empty.
fn words(tokens: &[Tok<'_>]) -> Option<String> {
    let mut out = String::new();
    for t in tokens {
        match t {
            Tok::Atom(a) | Tok::Literal(a) => out.push_str(a),
            Tok::Quoted { text, .. } => out.push_str(text),
            Tok::Special(c) => out.push(*c),
            Tok::Space | Tok::Comment(_) => out.push(' '),
        }
    }
    collapse(&out)
}

/// White space runs as one space, trimmed; `None` when nothing is left.
fn collapse(text: &str) -> Option<String> {
    let joined = text.split_whitespace().collect::<Vec<_>>().join(" ");
    (!joined.is_empty()).then_some(joined)
}

fn quote(text: &str) -> String {
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
fn is_atext(c: char) -> bool {
    c.is_ascii_alphanumeric()
        || "!#$%&'*+-/=?^_`{|}~".contains(c)
        || (!c.is_ascii() && !c.is_control())
}

fn is_atom(s: &str) -> bool {
    !s.is_empty() && s.chars().all(is_atext)
}

fn is_dot_atom(s: &str) -> bool {
    s.split('.').all(is_atom)
}

/// `dtext`, with RFC 6532's UTF-8.
fn is_dtext(c: char) -> bool {
    matches!(c, '!'..='Z' | '^'..='~') || (!c.is_ascii() && !c.is_control())
}

/// `qtext` / `quoted-pair` content: printable, space or tab (no other control character).
fn is_qcontent(c: char) -> bool {
    c == ' ' || c == '\t' || !c.is_control()
}

/// A quoted string as RFC 5322 writes it (no CFWS around it): `"` then `qtext`, quoted pairs
/// and white space, then `"`.
fn is_quoted_string(s: &str) -> bool {
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

#[cfg(test)]
mod tests;
