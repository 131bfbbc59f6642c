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

mod lex;
mod syntax;

use lex::{Tok, lex, literal, local_part, words};
pub use syntax::is_addr_spec;
use syntax::{collapse, is_atom};

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
    let mut unclosed = Vec::new();
    let tokens = lex(value, &mut unclosed);
    for what in unclosed {
        push_defect(&mut list.defects, Defect::Unclosed(what));
    }
    for element in elements(&tokens) {
        if let Some(entry) = entry(element, &mut list.defects) {
            list.entries.push(entry);
        }
    }
    list
}

fn push_defect(defects: &mut Vec<Defect>, defect: Defect) {
    if !defects.contains(&defect) {
        defects.push(defect);
    }
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

#[cfg(test)]
mod tests;
