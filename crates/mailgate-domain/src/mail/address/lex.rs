//! The tokens of an address list (atoms, quoted strings, domain literals, comments, specials,
//! white space), and the pieces of an address read back from them as text.

use super::syntax::{collapse, is_dot_atom, is_dtext, is_quoted_string, quote};

#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Tok<'a> {
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
    pub(super) fn is_cfws(&self) -> bool {
        matches!(self, Tok::Space | Tok::Comment(_))
    }
}

const SPECIALS: &[char] = &[
    '(', ')', '<', '>', '[', ']', ':', ';', '@', '\\', ',', '.', '"',
];

/// The tokens of `s`; what was left unclosed (a quoted string, a comment, a domain literal)
/// is pushed to `unclosed`, in the order found.
pub(super) fn lex<'a>(s: &'a str, unclosed: &mut Vec<&'static str>) -> Vec<Tok<'a>> {
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
                    unclosed.push("quoted string");
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
                    unclosed.push("comment");
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
                    unclosed.push("domain literal");
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

/// A local part as written when it is a dot-atom or one quoted string; an obsolete one
/// (words and dots with CFWS between) as the equivalent dot-atom or quoted string.
pub(super) fn local_part(tokens: &[Tok<'_>]) -> Option<String> {
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
pub(super) fn literal(raw: &str) -> Option<String> {
    let inner = raw.strip_prefix('[')?.strip_suffix(']')?;
    let inner: String = inner.chars().filter(|c| !c.is_whitespace()).collect();
    inner.chars().all(is_dtext).then(|| format!("[{inner}]"))
}

/// The words of a phrase (or of an element that is no address) joined by one space: quotes
/// and escapes removed, comments read as space. `None` when empty.
pub(super) fn words(tokens: &[Tok<'_>]) -> Option<String> {
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
