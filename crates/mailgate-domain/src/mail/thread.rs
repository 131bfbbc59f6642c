//! Threading: which ticket a reply belongs to, and the tag we put in subjects so that replies
//! from clients that drop In-Reply-To and References still find their ticket.

use super::{Ours, ParsedMessage, ThreadHint};

/// Reply prefixes mail clients put before a subject ("Re:", German "AW:", Nordic "SV:", ...).
const REPLY_PREFIXES: &[&str] = &["re", "aw", "sv", "antw", "odp", "回复", "答复"];
/// Forward prefixes.
const FORWARD_PREFIXES: &[&str] = &["fwd", "fw", "wg", "tr", "rv", "转发"];
/// Digits of a ticket number: u64 has at most 20.
const MAX_TAG_DIGITS: usize = 20;

/// Which ticket a message belongs to, by evidence order: the Message-IDs in In-Reply-To and
/// References (most specific first: In-Reply-To, then References newest first), ours before
/// the others, then the ticket tag in the subject.
///
/// Every id counts, not only ours: a reply may name only the customer's own earlier message
/// (a colleague answering all on the first mail, a client that drops our id from References),
/// and that message is stored in its ticket under its id. Ours come first because they are
/// unique by construction (a random UUID in our domain), where a sender's id may be weak
/// (`1234@localhost`): when both are named, ours decide.
pub fn thread_hint(parsed: &ParsedMessage, ours: &Ours<'_>, tag_prefix: &str) -> ThreadHint {
    let (mine, others): (Vec<&String>, Vec<&String>) = parsed
        .in_reply_to
        .iter()
        .chain(parsed.references.iter().rev())
        .partition(|id| is_our_message_id(id, ours.message_id_domain));
    let mut seen = std::collections::HashSet::new();
    let ids: Vec<String> = mine
        .into_iter()
        .chain(others)
        .filter(|id| seen.insert(id.as_str()))
        .cloned()
        .collect();
    if !ids.is_empty() {
        return ThreadHint::MessageIds(ids);
    }
    match subject_tag(&parsed.subject, tag_prefix) {
        Some(number) => ThreadHint::Tag(number),
        None => ThreadHint::None,
    }
}

/// The ticket number of the first tag with our prefix in a subject: the fallback when the
/// Message-IDs a reply names are not (or no longer) ours on record.
pub fn subject_tag(subject: &str, tag_prefix: &str) -> Option<u64> {
    find_tag(subject, tag_prefix).map(|(number, _, _)| number)
}

/// Whether a Message-ID (without `<>`) is one we made: it ends with `@{domain}`.
pub(crate) fn is_our_message_id(id: &str, domain: &str) -> bool {
    let domain = domain.trim();
    !domain.is_empty()
        && id
            .rsplit_once('@')
            .is_some_and(|(local, d)| !local.is_empty() && d.eq_ignore_ascii_case(domain))
}

/// The ticket tag: `ticket_tag(123, "#")` is `[#123]`.
pub fn ticket_tag(number: u64, tag_prefix: &str) -> String {
    format!("[{tag_prefix}{number}]")
}

/// The subject with the ticket's tag in it, once: `tagged_subject("Re: Printer", 123, "#")` is
/// `Re: [#123] Printer`. Reply and forward prefixes collapse into one `Re: ` (or `Fwd: ` when
/// the first was a forward); tags with our prefix are removed wherever they are, so that a
/// stale tag of another ticket cannot thread the next reply wrongly. Idempotent.
pub fn tagged_subject(subject: &str, number: u64, tag_prefix: &str) -> String {
    let (lead, rest) = split_subject(subject, tag_prefix);
    let tag = ticket_tag(number, tag_prefix);
    let lead = match lead {
        Some(Lead::Reply) => "Re: ",
        Some(Lead::Forward) => "Fwd: ",
        None => "",
    };
    if rest.is_empty() {
        format!("{lead}{tag}")
    } else {
        format!("{lead}{tag} {rest}")
    }
}

/// The subject without reply and forward prefixes and without tags with our prefix: what a
/// new ticket is called. `base_subject("Re: AW: [#12] Printer", "#")` is `Printer`.
pub fn base_subject(subject: &str, tag_prefix: &str) -> String {
    split_subject(subject, tag_prefix).1
}

/// A new Message-ID in our domain: `<{uuid v4, simple}@{domain}>`.
pub fn new_message_id(domain: &str) -> String {
    format!("<{}@{}>", uuid::Uuid::new_v4().simple(), domain.trim())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Lead {
    Reply,
    Forward,
}

/// The kind of the first leading prefix, and the subject without prefixes and our tags.
fn split_subject(subject: &str, tag_prefix: &str) -> (Option<Lead>, String) {
    let (lead, rest) = strip_leading(subject, tag_prefix);
    let rest = without_tags(rest, tag_prefix);
    // Tags removed from the middle can bare a prefix ("Re[#12]: x" is "Re: x" without its
    // tag): strip again, so that the next reading of our own subject finds nothing more. The
    // rest holds no tag any more, and stripping from its start makes none: twice is enough.
    let (again, rest) = strip_leading(&rest, tag_prefix);
    let words: Vec<&str> = rest.split_whitespace().collect();
    (lead.or(again), words.join(" "))
}

/// Leading reply and forward prefixes and tags with our prefix: the first prefix's kind, and
/// what follows them all.
fn strip_leading<'a>(subject: &'a str, tag_prefix: &str) -> (Option<Lead>, &'a str) {
    let mut lead = None;
    let mut rest = subject.trim();
    loop {
        if let Some((kind, after)) = strip_prefix(rest) {
            lead = lead.or(Some(kind));
            rest = after.trim_start();
        } else if let Some(end) = tag_at(rest.as_bytes(), 0, tag_prefix.as_bytes()) {
            rest = rest[end..].trim_start();
        } else {
            return (lead, rest);
        }
    }
}

/// `s` without tags with our prefix, in one pass: each `]` copied is checked for a tag ending
/// there, which is dropped, so that a tag joined from its neighbours by a removal
/// ("[#[#1]2]") goes too. Linear in `s`: removing tags one by one and searching again from the
/// start was quadratic in their number, on subjects anyone can send.
fn without_tags(s: &str, tag_prefix: &str) -> String {
    let prefix = tag_prefix.as_bytes();
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        out.push(c);
        if c != ']' {
            continue;
        }
        let bytes = out.as_bytes();
        let digits = bytes[..bytes.len() - 1]
            .iter()
            .rev()
            .take(MAX_TAG_DIGITS + 1)
            .take_while(|b| b.is_ascii_digit())
            .count();
        // The tag's start: `[`, the prefix, then digits up to this `]` (a prefix that ends in
        // digits makes several splits possible: the first that reads as a tag wins, like
        // `find_tag` reading from the `[`).
        let start = (1..=digits.min(MAX_TAG_DIGITS)).rev().find_map(|n| {
            let start = bytes.len().checked_sub(n + prefix.len() + 2)?;
            (tag_at(bytes, start, prefix) == Some(bytes.len())).then_some(start)
        });
        if let Some(start) = start {
            out.truncate(start);
        }
    }
    out
}

/// A leading "Re:", "AW[2]:", "Fwd :", "回复：" and what follows it.
fn strip_prefix(s: &str) -> Option<(Lead, &str)> {
    let word_len = s.find(|c: char| !c.is_alphabetic()).unwrap_or(s.len());
    let word = s[..word_len].to_lowercase();
    let kind = if REPLY_PREFIXES.contains(&word.as_str()) {
        Lead::Reply
    } else if FORWARD_PREFIXES.contains(&word.as_str()) {
        Lead::Forward
    } else {
        return None;
    };
    let mut after = &s[word_len..];
    // A counter some clients add: "Re[2]:", "Re(3):".
    for (open, close) in [('[', ']'), ('(', ')')] {
        if let Some(inner) = after.strip_prefix(open)
            && let Some(end) = inner.find(close)
            && end > 0
            && inner[..end].bytes().all(|b| b.is_ascii_digit())
        {
            after = &inner[end + 1..];
        }
    }
    // Any white space before the colon, as the words of the rest are split on any: "Re\x0c:"
    // read as a word "Re" and ":" would be "Re :" once joined, a prefix the next reading strips.
    let after = after.trim_start();
    let after = after
        .strip_prefix(':')
        .or_else(|| after.strip_prefix('：'))?;
    Some((kind, after))
}

/// The first tag `[{prefix}{digits}]` in `s` (prefix compared ignoring ASCII case): its number,
/// start and end byte offsets.
fn find_tag(s: &str, tag_prefix: &str) -> Option<(u64, usize, usize)> {
    let bytes = s.as_bytes();
    let prefix = tag_prefix.as_bytes();
    s.match_indices('[').find_map(|(start, _)| {
        let end = tag_at(bytes, start, prefix)?;
        let number = s[start + 1 + prefix.len()..end - 1].parse::<u64>().ok()?;
        Some((number, start, end))
    })
}

/// The end of the tag starting at `start` in `bytes`, if one does: `[`, the prefix (ignoring
/// ASCII case), 1 to 20 digits that fit a u64, `]`. Looks at no more than the tag's length.
fn tag_at(bytes: &[u8], start: usize, prefix: &[u8]) -> Option<usize> {
    if bytes.get(start) != Some(&b'[') {
        return None;
    }
    let digits_start = start + 1 + prefix.len();
    if !bytes
        .get(start + 1..digits_start)?
        .eq_ignore_ascii_case(prefix)
    {
        return None;
    }
    let digits = bytes[digits_start..]
        .iter()
        .take(MAX_TAG_DIGITS + 1)
        .take_while(|b| b.is_ascii_digit())
        .count();
    let close = digits_start + digits;
    if digits == 0 || digits > MAX_TAG_DIGITS || bytes.get(close) != Some(&b']') {
        return None;
    }
    // Digits are ASCII, so this is a char boundary; 20 digits may overflow u64.
    std::str::from_utf8(&bytes[digits_start..close])
        .ok()?
        .parse::<u64>()
        .ok()?;
    Some(close + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tagged_subject_known_answers() {
        let cases = [
            ("Printer", "[#123] Printer"),
            ("Re: Printer", "Re: [#123] Printer"),
            ("RE: Re: AW: Printer", "Re: [#123] Printer"),
            ("Re: [#123] Printer", "Re: [#123] Printer"),
            ("[#123] Re: Printer", "Re: [#123] Printer"),
            ("Re: [#123] Re: [#123] Printer", "Re: [#123] Printer"),
            ("Re: [#7] Printer", "Re: [#123] Printer"),
            ("Printer [#123] broken", "[#123] Printer broken"),
            ("Fwd: Printer", "Fwd: [#123] Printer"),
            ("Fw: Re: Printer", "Fwd: [#123] Printer"),
            ("Re[2]: Printer", "Re: [#123] Printer"),
            ("Re : Printer", "Re: [#123] Printer"),
            ("回复：打印机", "Re: [#123] 打印机"),
            ("Resolution: fixed", "[#123] Resolution: fixed"),
            ("Re:", "Re: [#123]"),
            ("", "[#123]"),
            ("  ", "[#123]"),
            ("[#[#1]2] x", "[#123] x"),
            ("[Ticket#9] other prefix", "[#123] [Ticket#9] other prefix"),
            ("[#] [#x1] [#12", "[#123] [#] [#x1] [#12"),
            // Found by fuzzing: white space other than a space before the colon.
            (
                "Re\x0c:\x12\x08\x02\x10\x0cL?",
                "Re: [#123] \x12\x08\x02\x10 L?",
            ),
            ("Re\t: Printer", "Re: [#123] Printer"),
            ("Re[#12]: x [#1] Fwd: y", "Re: [#123] x Fwd: y"),
            ("Printer[#12] Re: x", "[#123] Printer Re: x"),
        ];
        for (subject, want) in cases {
            assert_eq!(tagged_subject(subject, 123, "#"), want, "{subject:?}");
            assert_eq!(
                tagged_subject(want, 123, "#"),
                want,
                "tagging {want:?} again"
            );
        }
        assert_eq!(
            tagged_subject("Re: Printer", 5, "Ticket#"),
            "Re: [Ticket#5] Printer"
        );
        assert_eq!(base_subject("Re: AW: [#12] Printer", "#"), "Printer");
    }

    /// A subject of a mebibyte of brackets and tags (anyone can send one): removing tags one by
    /// one and searching again from the start, past every `[` before them, took minutes; one
    /// pass takes milliseconds. The bound is generous: it proves the complexity class, not a
    /// speed.
    #[test]
    fn a_mebibyte_of_tags_is_split_in_linear_time() {
        let mut subject = String::from("Re: x");
        let (mut brackets, mut tags) = (0, 0u64);
        while subject.len() < 1 << 19 {
            brackets += 1;
            subject.push_str(" [x");
        }
        while subject.len() < 1 << 20 {
            tags += 1;
            subject.push_str(&format!(" [#{tags}] a [#[#{tags}]{tags}]"));
        }
        let started = std::time::Instant::now();
        let tagged = tagged_subject(&subject, 7, "#");
        let elapsed = started.elapsed();
        let rest = " [x".repeat(brackets) + &" a".repeat(tags as usize);
        assert_eq!(tagged, format!("Re: [#7] x{rest}"));
        assert!(elapsed < std::time::Duration::from_secs(10), "{elapsed:?}");
    }

    #[test]
    fn find_tag_known_answers() {
        let cases: &[(&str, &str, Option<u64>)] = &[
            ("Re: [#123] Printer", "#", Some(123)),
            ("[#0]", "#", Some(0)),
            ("x [#18446744073709551615]", "#", Some(u64::MAX)),
            ("x [#18446744073709551616]", "#", None),
            ("[#12a]", "#", None),
            ("[# 12]", "#", None),
            ("[ticket#5]", "Ticket#", Some(5)),
            ("[#5] [#6]", "#", Some(5)),
            ("[]", "", None),
            ("[42]", "", Some(42)),
            ("[€12]", "€", Some(12)),
            ("[é", "#", None),
        ];
        for (subject, prefix, want) in cases {
            assert_eq!(find_tag(subject, prefix).map(|t| t.0), *want, "{subject:?}");
        }
    }

    #[test]
    fn our_message_ids() {
        assert!(is_our_message_id(
            "abc@helpdesk.example.com",
            "helpdesk.example.com"
        ));
        assert!(is_our_message_id(
            "abc@HELPDESK.example.com",
            " helpdesk.example.com "
        ));
        assert!(!is_our_message_id(
            "abc@evil-helpdesk.example.com",
            "helpdesk.example.com"
        ));
        assert!(!is_our_message_id(
            "@helpdesk.example.com",
            "helpdesk.example.com"
        ));
        assert!(!is_our_message_id("abc@x", ""));
    }

    #[test]
    fn new_message_ids_are_unique_and_ours() {
        let a = new_message_id("helpdesk.example.com");
        let b = new_message_id("helpdesk.example.com");
        assert_ne!(a, b);
        assert!(
            a.starts_with('<') && a.ends_with("@helpdesk.example.com>"),
            "{a}"
        );
        assert_eq!(a.len(), 1 + 32 + 1 + "helpdesk.example.com".len() + 1);
        let bare = a.trim_matches(['<', '>']);
        assert!(is_our_message_id(bare, "helpdesk.example.com"));
    }
}
