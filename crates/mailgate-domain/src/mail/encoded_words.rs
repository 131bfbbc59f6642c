//! RFC 2047 encoded words (`=?utf-8?B?Q2Fmw6k=?=`) in header text: the Subject and display
//! names.
//!
//! Decoded the way Thunderbird and Python's `email` do, so that nothing the bytes allow is
//! lost:
//! - adjacent encoded words of one charset are joined as bytes before converting to text, so
//!   a character split across two words (encoders cut at a byte count) comes out whole, and
//!   ISO-2022-JP keeps its shift state from word to word;
//! - whitespace between adjacent encoded words is dropped (RFC 2047 section 6.2);
//! - `=?charset*lang?...?=` (RFC 2231 section 5) is read as `charset`;
//! - invalid base64 keeps the bytes that decode (characters outside the alphabet skipped,
//!   padding optional, a short tail kept), a broken `=XX` in Q is kept as written;
//! - an unknown charset is read as UTF-8, or windows-1252 when the bytes are not UTF-8, as
//!   bodies are (see `charset`).
//!
//! Every tolerance is reported as a [`Problem::EncodedWord`]. An encoded word is recognised
//! even when not separated from the text around it by whitespace (as mail-parser, Python and
//! Thunderbird do); `=?` that does not start a well-formed word is text.

use std::borrow::Cow;

use super::charset::utf8_or_cp1252;
use super::problem::{EncodedWordProblem, Problem};

/// Charset labels are quoted in problems; a hostile one can be long.
const MAX_LABEL_CHARS: usize = 40;

/// Decodes the encoded words of unstructured header text (RFC 5322 `unstructured`: the
/// Subject, or a display name already taken out of its quotes). Folding line ends are taken
/// out; the result is otherwise as written (not trimmed).
pub(crate) fn decode_header_text(raw: &str) -> (String, Vec<Problem>) {
    decode(raw, Quotes::Text)
}

/// Decodes a display name as written in an address header (RFC 5322 `phrase`): encoded words
/// are decoded, quoted strings are taken out of their quotes (`\` escapes resolved), and the
/// encoded words inside them are handled as `quoted` says.
#[allow(dead_code)] // for the display names of address headers, which another change reads
pub(crate) fn decode_phrase(raw: &str, quoted: QuotedWords) -> (String, Vec<Problem>) {
    decode(raw, Quotes::QuotedString(quoted))
}

/// What to do with an encoded word inside a quoted string (`"=?utf-8?Q?J=C3=B6rg?="`), which
/// RFC 2047 section 5 forbids and many mailers write.
#[allow(dead_code)] // see decode_phrase
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum QuotedWords {
    /// Decoded, as Thunderbird, Python's `email` and mail-parser do: the name the sender meant.
    Decode,
    /// Kept as written, as the RFC says: a name a person typed.
    Keep,
}

/// What a `"` means where the text is.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Quotes {
    /// An ordinary character (unstructured text).
    Text,
    /// It opens a quoted string (a phrase).
    QuotedString(QuotedWords),
}

enum Token<'a> {
    Word(Word<'a>),
    /// Whitespace, dropped between two encoded words.
    Space(&'a str),
    Text(Cow<'a, str>),
}

struct Word<'a> {
    /// The label without its RFC 2231 language.
    charset: &'a str,
    bytes: Vec<u8>,
}

fn decode(raw: &str, quotes: Quotes) -> (String, Vec<Problem>) {
    let unfolded = unfold(raw);
    let mut problems = Vec::new();
    let tokens = tokens(&unfolded, quotes, &mut problems);
    let mut out = String::with_capacity(unfolded.len());
    // The bytes of adjacent words of one charset, converted together.
    let mut run: Option<Word<'_>> = None;
    let mut space: Option<&str> = None;
    for token in tokens {
        match token {
            Token::Word(word) => {
                space = None;
                match &mut run {
                    Some(r) if same_charset(r.charset, word.charset) => {
                        r.bytes.extend_from_slice(&word.bytes);
                    }
                    _ => {
                        if let Some(done) = run.replace(word) {
                            out.push_str(&to_text(&done, &mut problems));
                        }
                    }
                }
            }
            Token::Space(s) if run.is_some() => space = Some(s),
            Token::Space(s) => out.push_str(s),
            Token::Text(t) => {
                if let Some(done) = run.take() {
                    out.push_str(&to_text(&done, &mut problems));
                }
                out.push_str(space.take().unwrap_or_default());
                out.push_str(&t);
            }
        }
    }
    if let Some(done) = run {
        out.push_str(&to_text(&done, &mut problems));
    }
    out.push_str(space.unwrap_or_default());
    problems.dedup();
    (out, problems)
}

/// Whether two labels name one charset (`utf8` and `UTF-8`).
fn same_charset(a: &str, b: &str) -> bool {
    a.eq_ignore_ascii_case(b) || encoding(a).is_some_and(|e| encoding(b) == Some(e))
}

/// The WHATWG encoding of a label (what browsers and Thunderbird use); not the replacement
/// encoding, which turns everything into one U+FFFD.
fn encoding(label: &str) -> Option<&'static encoding_rs::Encoding> {
    encoding_rs::Encoding::for_label(label.trim().as_bytes())
        .filter(|e| *e != encoding_rs::REPLACEMENT)
}

/// Takes out the line ends of folding (RFC 5322 section 2.2.3: a line end followed by
/// whitespace); a line end that is not followed by whitespace is kept, for the caller to see.
fn unfold(raw: &str) -> Cow<'_, str> {
    if !raw.contains(['\r', '\n']) {
        return Cow::Borrowed(raw);
    }
    let mut out = String::with_capacity(raw.len());
    let mut rest = raw;
    while let Some(at) = rest.find(['\r', '\n']) {
        out.push_str(&rest[..at]);
        let after = &rest[at..];
        let end = if after.starts_with("\r\n") { 2 } else { 1 };
        if !after[end..].starts_with([' ', '\t']) {
            out.push_str(&after[..end]);
        }
        rest = &after[end..];
    }
    out.push_str(rest);
    Cow::Owned(out)
}

fn tokens<'a>(text: &'a str, quotes: Quotes, problems: &mut Vec<Problem>) -> Vec<Token<'a>> {
    let mut tokens = Vec::new();
    let mut closes = Closes::default();
    // After a quote that is never closed, every later `"` is text: looking for the end of
    // each from there would make a run of `"\` quadratic.
    let mut unclosed = false;
    let mut at = 0;
    while at < text.len() {
        let rest = &text[at..];
        if let Some((word, len)) = word(text, at, &mut closes, problems) {
            tokens.push(Token::Word(word));
            at += len;
            continue;
        }
        if let Quotes::QuotedString(quoted) = quotes
            && rest.starts_with('"')
            && !unclosed
        {
            let Some((content, len)) = quoted_string(rest) else {
                unclosed = true;
                continue;
            };
            let content = match quoted {
                QuotedWords::Keep => content,
                QuotedWords::Decode => {
                    let (decoded, found) = decode(&content, Quotes::Text);
                    problems.extend(found);
                    decoded
                }
            };
            tokens.push(Token::Text(Cow::Owned(content)));
            at += len;
            continue;
        }
        let space = rest.len() - rest.trim_start_matches([' ', '\t']).len();
        if space > 0 {
            tokens.push(Token::Space(&rest[..space]));
            at += space;
            continue;
        }
        // Up to the next place a word, a space or a quoted string may start.
        let first = rest.chars().next().map_or(1, char::len_utf8);
        let len = rest[first..]
            .find(['=', ' ', '\t', '"'])
            .map_or(rest.len(), |end| end + first);
        tokens.push(Token::Text(Cow::Borrowed(&rest[..len])));
        at += len;
    }
    tokens
}

/// Where the next `?=` is: remembered, because a header of a thousand words that are never
/// closed would otherwise be searched to its end a thousand times.
#[derive(Default)]
struct Closes {
    /// The first `?=` at or after `from`, if any, searched from `from`.
    found: Option<usize>,
    from: usize,
    searched: bool,
}

impl Closes {
    /// The first `?=` at or after `at`; `at` never goes back between calls.
    fn next(&mut self, text: &str, at: usize) -> Option<usize> {
        let still_valid = self.searched && at >= self.from && self.found.is_none_or(|f| f >= at);
        if !still_valid {
            self.found = text[at..].find("?=").map(|i| at + i);
            self.from = at;
            self.searched = true;
        }
        self.found
    }
}

/// The encoded word at `at` in `text` and its length: `=?charset?B|Q?text?=`.
fn word<'a>(
    text: &'a str,
    at: usize,
    closes: &mut Closes,
    problems: &mut Vec<Problem>,
) -> Option<(Word<'a>, usize)> {
    let inner = text[at..].strip_prefix("=?")?;
    let (label, after) = inner.split_once('?')?;
    let charset = label.split('*').next().unwrap_or_default();
    let label_ok = !charset.is_empty()
        && label
            .bytes()
            .all(|b| b.is_ascii_graphic() && !matches!(b, b'=' | b'"'));
    if !label_ok {
        return None;
    }
    let mut chars = after.chars();
    let encoding = chars.next()?.to_ascii_uppercase();
    if !matches!(encoding, 'B' | 'Q') || chars.next() != Some('?') {
        return None;
    }
    let encoded_at = text.len() - after.len() + 2;
    let encoded_end = closes.next(text, encoded_at)?;
    let encoded = &text[encoded_at..encoded_end];
    // `=?` inside is the start of the next word: this one was never closed.
    if encoded.contains("=?") || encoded.contains(['\r', '\n']) {
        return None;
    }
    let bytes = match encoding {
        'B' => base64(encoded, problems),
        _ => q(encoded, problems),
    };
    Some((Word { charset, bytes }, encoded_end + 2 - at))
}

/// A quoted string at the start of `text`: its content without the quotes and `\` escapes,
/// and its length. `None` when it is never closed (then the `"` is text).
fn quoted_string(text: &str) -> Option<(String, usize)> {
    let inner = text.strip_prefix('"')?;
    let mut content = String::new();
    let mut chars = inner.char_indices();
    while let Some((at, c)) = chars.next() {
        match c {
            '"' => return Some((content, at + 2)),
            '\\' => content.push(chars.next()?.1),
            c => content.push(c),
        }
    }
    None
}

/// Base64 as leniently as it can be read: characters outside the alphabet are skipped, `=`
/// ends a group of four wherever it stands, and a short tail gives the bytes it completes.
/// Only strict RFC 4648 base64 (padded, standard alphabet) goes unreported.
fn base64(encoded: &str, problems: &mut Vec<Problem>) -> Vec<u8> {
    let mut out = Vec::with_capacity(encoded.len() * 3 / 4);
    let (mut acc, mut bits) = (0u32, 0u32);
    for b in encoded.bytes() {
        let value = match b {
            b'A'..=b'Z' => b - b'A',
            b'a'..=b'z' => b - b'a' + 26,
            b'0'..=b'9' => b - b'0' + 52,
            b'+' | b'-' => 62,
            b'/' | b'_' => 63,
            b'=' => {
                (acc, bits) = (0, 0);
                continue;
            }
            _ => continue,
        };
        acc = (acc << 6) | u32::from(value);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    if !is_strict_base64(encoded) {
        problems.push(EncodedWordProblem::InvalidBase64.into());
    }
    out
}

fn is_strict_base64(encoded: &str) -> bool {
    let data = encoded.trim_end_matches('=');
    let padding = encoded.len() - data.len();
    encoded.len().is_multiple_of(4)
        && padding <= 2
        && data
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'+' || b == b'/')
}

/// The Q encoding (RFC 2047 section 4.2): `_` is a space, `=XX` a byte (either case of hex);
/// any other `=` is kept as written.
fn q(encoded: &str, problems: &mut Vec<Problem>) -> Vec<u8> {
    let bytes = encoded.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'_' => out.push(b' '),
            b'=' => match (hex(bytes.get(i + 1)), hex(bytes.get(i + 2))) {
                (Some(hi), Some(lo)) => {
                    out.push((hi << 4) | lo);
                    i += 2;
                }
                _ => {
                    problems.push(EncodedWordProblem::InvalidQuotedPrintable.into());
                    out.push(b'=');
                }
            },
            b => out.push(b),
        }
        i += 1;
    }
    out
}

fn hex(b: Option<&u8>) -> Option<u8> {
    char::from(*b?).to_digit(16).map(|d| d as u8)
}

/// The bytes of a run of words, converted from their charset: by the WHATWG encoding
/// standard, else by mail-parser's decoders (UTF-7 and
/// other labels bodies may use), else as UTF-8 or windows-1252.
fn to_text(word: &Word<'_>, problems: &mut Vec<Problem>) -> String {
    let label = word.charset.trim();
    let shown = || label.chars().take(MAX_LABEL_CHARS).collect::<String>();
    if let Some(encoding) = encoding(label) {
        let (text, _, malformed) = encoding.decode(&word.bytes);
        if malformed {
            problems.push(EncodedWordProblem::Malformed(shown()).into());
        }
        return text.into_owned();
    }
    if let Some(decode) = mail_parser::decoders::charsets::map::charset_decoder(label.as_bytes()) {
        return decode(&word.bytes);
    }
    problems.push(EncodedWordProblem::UnknownCharset(shown()).into());
    utf8_or_cp1252(&word.bytes).into_owned()
}

#[cfg(test)]
mod tests;
