//! Threading: which ticket a reply belongs to, and the tag we put in subjects so that replies
//! from clients that drop In-Reply-To and References still find their ticket.

use super::{Ours, ParsedMessage, ThreadHint};

/// Reply prefixes mail clients put before a subject ("Re:", German "AW:", Nordic "SV:", ...).
const REPLY_PREFIXES: &[&str] = &["re", "aw", "sv", "antw", "odp", "回复", "答复"];
/// Forward prefixes.
const FORWARD_PREFIXES: &[&str] = &["fwd", "fw", "wg", "tr", "rv", "转发"];
/// Digits of a ticket number: u64 has at most 20.
const MAX_TAG_DIGITS: usize = 20;

/// Which ticket a message belongs to, by evidence order: our Message-IDs in In-Reply-To and
/// References (most specific first: In-Reply-To, then References newest first), then the
/// ticket tag in the subject.
pub fn thread_hint(parsed: &ParsedMessage, ours: &Ours<'_>, tag_prefix: &str) -> ThreadHint {
    let mut ids: Vec<String> = Vec::new();
    let candidates = parsed
        .in_reply_to
        .iter()
        .chain(parsed.references.iter().rev());
    for id in candidates {
        if is_our_message_id(id, ours.message_id_domain) && !ids.contains(id) {
            ids.push(id.clone());
        }
    }
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
    let mut lead = None;
    let mut rest = subject.trim();
    loop {
        if let Some((kind, after)) = strip_prefix(rest) {
            lead = lead.or(Some(kind));
            rest = after.trim_start();
        } else if let Some((_, 0, end)) = find_tag(rest, tag_prefix) {
            rest = rest[end..].trim_start();
        } else {
            break;
        }
    }
    let mut rest = rest.to_owned();
    // Removing a tag can join its neighbours into a new one ("[#[#1]2]"): until none is left.
    while let Some((_, start, end)) = find_tag(&rest, tag_prefix) {
        rest.replace_range(start..end, "");
    }
    let words: Vec<&str> = rest.split_whitespace().collect();
    (lead, words.join(" "))
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
    let after = after.trim_start_matches(' ');
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
    for (start, _) in s.match_indices('[') {
        let after = start + 1;
        let Some(candidate) = bytes.get(after..after + prefix.len()) else {
            continue;
        };
        if !candidate.eq_ignore_ascii_case(prefix) {
            continue;
        }
        let digits_start = after + prefix.len();
        let digits = bytes[digits_start..]
            .iter()
            .take_while(|b| b.is_ascii_digit())
            .count();
        let close = digits_start + digits;
        if digits == 0 || digits > MAX_TAG_DIGITS || bytes.get(close) != Some(&b']') {
            continue;
        }
        if let Ok(number) = s[digits_start..close].parse::<u64>() {
            return Some((number, start, close + 1));
        }
    }
    None
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
        ];
        for (subject, want) in cases {
            assert_eq!(tagged_subject(subject, 123, "#"), want, "{subject:?}");
        }
        assert_eq!(
            tagged_subject("Re: Printer", 5, "Ticket#"),
            "Re: [Ticket#5] Printer"
        );
        assert_eq!(base_subject("Re: AW: [#12] Printer", "#"), "Printer");
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
