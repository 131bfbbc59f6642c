//! Message-IDs of In-Reply-To and References, read from the raw header values the way mail
//! clients actually write them, not only as RFC 5322 says.
//!
//! The grammar is `1*msg-id` with `msg-id = [CFWS] "<" id-left "@" id-right ">" [CFWS]`, but
//! mail seen in the wild also has: ids separated by commas; ids without angle brackets;
//! the same id several times; thousands of ids (a thread that never ends, or an attack); an id
//! broken across a folded line (`<1234\r\n 5678@example.com>`); comments; and the old
//! In-Reply-To phrase (`"Your message of Monday" <id@example.com>`). Reading here is one
//! linear pass over the value:
//!
//! - `<...>` is an id, white space inside removed (it can only come from folding);
//! - outside angle brackets, a word with an `@` (no white space, comma, quote or bracket) is a
//!   bare id; other words (a phrase, "Your message of ...") are ignored;
//! - comments `( ... )` (nested, with `\` escapes) and quoted strings are skipped;
//! - ids longer than [`MAX_ID_CHARS`] or with control characters are dropped;
//! - repeats are dropped (the first stays), and at most [`KEEP_FIRST`] + [`KEEP_LAST`] ids are
//!   kept: the first ones (the thread's root) and the last ones (the newest, the most
//!   specific). What is dropped from the middle cannot change the ticket a reply threads to
//!   unless the reply names nothing else of it.

use std::collections::HashSet;

/// Ids kept from the start of a long list: the root of the thread.
pub const KEEP_FIRST: usize = 10;
/// Ids kept from the end of a long list: the newest messages, the best evidence.
pub const KEEP_LAST: usize = 90;
/// A longer id is no id (a header line holds at most 998 characters).
pub const MAX_ID_CHARS: usize = 998;

/// The Message-IDs (without `<>`) named by the values of In-Reply-To or References fields, in
/// order, each once, at most [`KEEP_FIRST`] + [`KEEP_LAST`]. Several values (the field given
/// twice) are read as one list.
pub fn message_ids<'v>(values: impl IntoIterator<Item = &'v str>) -> Vec<String> {
    let mut seen = HashSet::new();
    let mut ids = Vec::new();
    for value in values {
        read(value, &mut |id| {
            if seen.insert(id.clone()) {
                ids.push(id);
            }
        });
    }
    bounded(ids)
}

/// The first [`KEEP_FIRST`] and the last [`KEEP_LAST`] of `ids`.
fn bounded(mut ids: Vec<String>) -> Vec<String> {
    if ids.len() > KEEP_FIRST + KEEP_LAST {
        ids.drain(KEEP_FIRST..ids.len() - KEEP_LAST);
    }
    ids
}

/// Calls `found` with every id of one value, in order.
fn read(value: &str, found: &mut impl FnMut(String)) {
    let mut chars = value.chars().peekable();
    let mut word = String::new();
    // A comment or quoted string never closed is read as if its `(` or `"` were a separator
    // (a stray quote must not hide the ids after it). Once one was found unclosed, no later
    // one is looked for: scanning to the end again at each would be quadratic.
    let (mut comments, mut quotes) = (true, true);
    while let Some(c) = chars.next() {
        match c {
            '(' if comments => {
                end_word(&mut word, found);
                let mut ahead = chars.clone();
                if skip_comment(&mut ahead) {
                    chars = ahead;
                } else {
                    comments = false;
                }
            }
            '"' if quotes => {
                end_word(&mut word, found);
                let mut ahead = chars.clone();
                if skip_quoted(&mut ahead) {
                    chars = ahead;
                } else {
                    quotes = false;
                }
            }
            '<' => {
                end_word(&mut word, found);
                let mut inside = String::new();
                let mut closed = false;
                while let Some(&next) = chars.peek() {
                    if next == '<' {
                        // `<<id>>`, or an opening never closed: start again from here.
                        break;
                    }
                    chars.next();
                    if next == '>' {
                        closed = true;
                        break;
                    }
                    // White space in an id can only come from folding.
                    if !next.is_whitespace() && inside.len() <= 4 * MAX_ID_CHARS {
                        inside.push(next);
                    }
                }
                // An id cut at the end of the field (a truncated header) still counts when
                // it has its `@`.
                if let Some(id) = checked(&inside, closed) {
                    found(id);
                }
            }
            c if c.is_whitespace() || matches!(c, ',' | ';' | '>' | '(' | ')' | '"') => {
                end_word(&mut word, found);
            }
            c => {
                // Bytes, not characters, to stay linear: `checked` counts what is kept.
                if word.len() <= 4 * MAX_ID_CHARS {
                    word.push(c);
                }
            }
        }
    }
    end_word(&mut word, found);
}

/// Ends the bare word being read, passing it on when it reads as an id.
fn end_word(word: &mut String, found: &mut impl FnMut(String)) {
    if let Some(id) = checked(word, false) {
        found(id);
    }
    word.clear();
}

/// `id` when it can be a Message-ID: not empty, not too long, no control character; with an
/// `@` between two non-empty parts unless it was between angle brackets (some mailers make
/// ids without one, and the brackets say what is meant).
fn checked(id: &str, bracketed: bool) -> Option<String> {
    let valid = !id.is_empty()
        && id.chars().count() <= MAX_ID_CHARS
        && !id.contains(|c: char| c.is_control() || c == '<' || c == '>')
        && (bracketed
            || id
                .split_once('@')
                .is_some_and(|(l, r)| !l.is_empty() && !r.is_empty()));
    valid.then(|| id.to_owned())
}

/// Past the end of a comment whose `(` was just read (nested comments, `\` escapes); false
/// when it never ends.
fn skip_comment(chars: &mut impl Iterator<Item = char>) -> bool {
    let mut depth = 1usize;
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                chars.next();
            }
            '(' => depth += 1,
            ')' => {
                depth -= 1;
                if depth == 0 {
                    return true;
                }
            }
            _ => {}
        }
    }
    false
}

/// Past the end of a quoted string whose `"` was just read; false when it never ends.
fn skip_quoted(chars: &mut impl Iterator<Item = char>) -> bool {
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                chars.next();
            }
            '"' => return true,
            _ => {}
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(value: &str) -> Vec<String> {
        message_ids([value])
    }

    /// One known answer per form mail clients send.
    #[test]
    fn every_form_of_id_list() {
        let cases: &[(&str, &str, &[&str])] = &[
            ("RFC 5322", "<a@x> <b@x>", &["a@x", "b@x"]),
            ("one id", "<a@x>", &["a@x"]),
            ("no space between", "<a@x><b@x>", &["a@x", "b@x"]),
            (
                "comma-separated",
                "<a@x>, <b@x>,<c@x>",
                &["a@x", "b@x", "c@x"],
            ),
            ("without angle brackets", "a@x", &["a@x"]),
            (
                "bare, comma-separated",
                "a@x,b@x, c@x",
                &["a@x", "b@x", "c@x"],
            ),
            (
                "bare and bracketed mixed",
                "a@x <b@x> c@x",
                &["a@x", "b@x", "c@x"],
            ),
            ("duplicates", "<a@x> <b@x> <a@x> b@x", &["a@x", "b@x"]),
            ("folded inside an id", "<1234\r\n 5678@x>", &["12345678@x"]),
            (
                "folded then unfolded",
                "<1234 5678@x.example\t.com>",
                &["12345678@x.example.com"],
            ),
            ("folded between ids", "<a@x>\r\n\t<b@x>", &["a@x", "b@x"]),
            (
                "comments",
                "(first) <a@x> (said (nested) \\) x@y) <b@x>",
                &["a@x", "b@x"],
            ),
            ("comment touching an id", "<a@x>(c)<b@x>", &["a@x", "b@x"]),
            (
                "old phrase",
                "\"Your message of Monday <z@y>\" <a@x>",
                &["a@x"],
            ),
            (
                "words without @",
                "Your message of Mon, 3 Jan 2005 <a@x>",
                &["a@x"],
            ),
            ("doubled brackets", "<<a@x>>", &["a@x"]),
            ("bracketed without @", "<abc.def>", &["abc.def"]),
            ("truncated at the end", "<a@x> <b@y", &["a@x", "b@y"]),
            ("truncated before the domain", "<a@x> <b@", &["a@x"]),
            ("never closed, then another", "<a@x <b@x>", &["a@x", "b@x"]),
            ("empty", "", &[]),
            ("empty brackets", "<> < >", &[]),
            ("semicolons", "<a@x>; <b@x>", &["a@x", "b@x"]),
            ("quoted local part", "<\"a b\"@x>", &["\"ab\"@x"]),
            ("stray quote", "<a@x> \" <b@x> c@x", &["a@x", "b@x", "c@x"]),
            (
                "comment never closed",
                "<a@x> (x <b@x> c@x",
                &["a@x", "b@x", "c@x"],
            ),
        ];
        for (what, value, want) in cases {
            assert_eq!(ids(value), *want, "{what}: {value:?}");
        }
    }

    #[test]
    fn several_fields_are_one_list() {
        assert_eq!(message_ids(["<a@x>", "<b@x> <a@x>"]), ["a@x", "b@x"]);
    }

    #[test]
    fn long_lists_keep_the_first_and_the_last() {
        let value: Vec<String> = (0..1000).map(|i| format!("<{i}@x>")).collect();
        let got = ids(&value.join(" "));
        assert_eq!(got.len(), KEEP_FIRST + KEEP_LAST);
        assert_eq!(got[0], "0@x");
        assert_eq!(got[KEEP_FIRST - 1], format!("{}@x", KEEP_FIRST - 1));
        assert_eq!(got[KEEP_FIRST], format!("{}@x", 1000 - KEEP_LAST));
        assert_eq!(got.last().map(String::as_str), Some("999@x"));
    }

    #[test]
    fn overlong_ids_are_dropped() {
        let long = "a".repeat(MAX_ID_CHARS) + "@x";
        assert_eq!(ids(&format!("<{long}> <b@x> {long}")), ["b@x"]);
    }

    /// A mebibyte of ids, repeats and unclosed brackets is read in one pass. The bound is
    /// generous: it proves the complexity class, not a speed.
    #[test]
    fn a_mebibyte_of_ids_is_read_in_linear_time() {
        let mut value = String::new();
        let mut i = 0;
        while value.len() < 1 << 20 {
            value.push_str(&format!("<{i}@x> {i}@x, <<<(c) \"q\" ( \" "));
            i += 1;
        }
        let started = std::time::Instant::now();
        let got = ids(&value);
        let elapsed = started.elapsed();
        assert!(got.len() <= KEEP_FIRST + KEEP_LAST);
        assert_eq!(got[0], "0@x");
        assert!(elapsed < std::time::Duration::from_secs(10), "{elapsed:?}");
    }

    /// Through the whole parse, from raw header fields as clients send them (mail-parser alone
    /// read none of the bare ids, and only the first of a comma-separated list).
    #[test]
    fn parse_reads_ids_from_raw_fields() {
        let raw = b"From: a@example.com\r\nSubject: x\r\n\
In-Reply-To: b@example.com (sent by b)\r\n\
References: first@example.com, <second@example.com>,<third\r\n @example.com>\r\n\
\t<second@example.com> fourth@example.com\r\n\r\nbody\r\n";
        let parsed = crate::mail::parse(raw);
        assert_eq!(parsed.in_reply_to, ["b@example.com"]);
        assert_eq!(
            parsed.references,
            [
                "first@example.com",
                "second@example.com",
                "third@example.com",
                "fourth@example.com"
            ]
        );
    }
}
