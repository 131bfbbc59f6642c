//! Delivery reports: RFC 3464 delivery status notifications (multipart/report), and the
//! plain-text bounces some MTAs still send (qmail, Exim).

use mail_parser::{Message, MessageParser, MessagePart, MimeHeaders, PartType};

use super::mime::{strip_id, unfold};
use super::{Kind, ParsedMessage};

/// Local parts of addresses that send bounces.
const BOUNCE_SENDERS: &[&str] = &["mailer-daemon", "postmaster", "mail-daemon"];
/// Subject phrases of bounces (lower case).
const BOUNCE_SUBJECTS: &[&str] = &[
    "delivery status notification",
    "undelivered",
    "undeliverable",
    "delivery failure",
    "delivery failed",
    "mail delivery failed",
    "failure notice",
    "returned mail",
    "could not be delivered",
    "delivery has failed",
    "nondeliverable",
    "non-delivery",
];
/// Body phrases of bounces, for mail from the null sender (lower case).
const BOUNCE_BODIES: &[&str] = &[
    "could not be delivered",
    "delivery has failed",
    "address(es) failed",
    "wasn't able to deliver",
    "was not delivered",
    "permanent error",
    "undeliverable",
    "delivery to the following recipient",
];

/// A multipart/report: a delivery status notification (a bounce when a recipient failed, an
/// auto-reply when delivery was only delayed or confirmed) or a read receipt (auto-reply).
pub(crate) fn from_report(message: &Message<'_>) -> Option<Kind> {
    let root = message.parts.first()?;
    let ct = root.content_type()?;
    let is_report = ct.ctype().eq_ignore_ascii_case("multipart")
        && ct
            .subtype()
            .is_some_and(|s| s.eq_ignore_ascii_case("report"));
    if !is_report {
        return None;
    }
    let report_type = ct
        .attribute("report-type")
        .unwrap_or_default()
        .to_ascii_lowercase();
    let status_part = message.parts.iter().find(|p| {
        p.is_content_type("message", "delivery-status")
            || p.is_content_type("message", "global-delivery-status")
    });
    let Some(status_part) = status_part else {
        // RFC 5965: an abuse or fraud report about mail someone received.
        if report_type.contains("feedback-report")
            || message
                .parts
                .iter()
                .any(|p| p.is_content_type("message", "feedback-report"))
        {
            return Some(Kind::AutoReply {
                reason: "ARF feedback report".into(),
            });
        }
        if report_type.contains("disposition-notification")
            || message
                .parts
                .iter()
                .any(|p| p.is_content_type("message", "disposition-notification"))
        {
            return Some(Kind::AutoReply {
                reason: "read receipt (disposition notification)".into(),
            });
        }
        return None;
    };
    let status = String::from_utf8_lossy(status_part.contents());
    let recipients = recipient_blocks(&status);
    // A recipient block without Action and Status is malformed: counted as failed, the safe side.
    let failed = recipients
        .iter()
        .find(|r| matches!(r.action, Action::Failed | Action::Unknown));
    let (recipient, reason) = match (failed, recipients.first()) {
        (Some(failed), _) => (failed.recipient.clone(), failed.reason()),
        (None, None) => (
            None,
            "delivery failed (no recipient in the report)".to_owned(),
        ),
        (None, Some(first)) => {
            let who = first.recipient.as_deref().unwrap_or("a recipient");
            let reason = format!(
                "delivery status notification: {} for {who}",
                first.action.as_str()
            );
            return Some(Kind::AutoReply { reason });
        }
    };
    Some(Kind::Bounce {
        original_message_id: original_message_id(message),
        recipient,
        reason,
    })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Action {
    Failed,
    Delayed,
    Delivered,
    Relayed,
    Expanded,
    Unknown,
}

impl Action {
    /// From the Action field, or from the Status class when there is none.
    fn parse(action: Option<&str>, status: Option<&str>) -> Action {
        match action.map(|a| a.trim().to_ascii_lowercase()).as_deref() {
            Some("failed") => Action::Failed,
            Some("delayed") => Action::Delayed,
            Some("delivered") => Action::Delivered,
            Some("relayed") => Action::Relayed,
            Some("expanded") => Action::Expanded,
            _ => match status.map(str::trim).and_then(|s| s.chars().next()) {
                Some('5') => Action::Failed,
                Some('4') => Action::Delayed,
                Some('2') => Action::Delivered,
                _ => Action::Unknown,
            },
        }
    }

    fn as_str(self) -> &'static str {
        match self {
            Action::Failed => "failed",
            Action::Delayed => "delayed",
            Action::Delivered => "delivered",
            Action::Relayed => "relayed",
            Action::Expanded => "expanded",
            Action::Unknown => "unknown action",
        }
    }
}

struct Recipient {
    recipient: Option<String>,
    action: Action,
    status: Option<String>,
    diagnostic: Option<String>,
}

impl Recipient {
    /// "5.1.1: 550 5.1.1 <x@y>: User unknown", from Status and Diagnostic-Code.
    fn reason(&self) -> String {
        match (&self.status, &self.diagnostic) {
            (Some(s), Some(d)) => format!("{s}: {d}"),
            (None, Some(d)) => d.clone(),
            (Some(s), None) => format!("status {s}"),
            (None, None) => "delivery failed".to_owned(),
        }
    }
}

/// The per-recipient field groups of a message/delivery-status body (the first group is about
/// the message; the others each about one recipient).
fn recipient_blocks(status: &str) -> Vec<Recipient> {
    let normalised = status.replace("\r\n", "\n");
    let blocks = normalised.split("\n\n").filter(|b| !b.trim().is_empty());
    blocks
        .skip(1)
        .map(|block| {
            let fields = fields(block);
            let get = |name: &str| {
                fields
                    .iter()
                    .find(|(n, _)| n.eq_ignore_ascii_case(name))
                    .map(|(_, v)| v.as_str())
            };
            // "rfc822; user@example.com": the type is not part of the address.
            let address = |v: &str| v.split_once(';').map_or(v, |(_, a)| a).trim().to_owned();
            let recipient = get("Final-Recipient")
                .or(get("Original-Recipient"))
                .map(address);
            let status = get("Status")
                .map(|s| s.trim().to_owned())
                .filter(|s| !s.is_empty());
            let diagnostic = get("Diagnostic-Code").map(|d| {
                let text = d.split_once(';').map_or(d, |(_, t)| t);
                text.trim().to_owned()
            });
            Recipient {
                recipient: recipient.as_deref().and_then(normalise_address),
                action: Action::parse(get("Action"), status.as_deref()),
                status,
                diagnostic: diagnostic.filter(|d| !d.is_empty()),
            }
        })
        .collect()
}

/// `Name: value` fields with folded continuation lines joined.
fn fields(block: &str) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    for line in block.lines() {
        if line.starts_with([' ', '\t']) {
            if let Some((_, value)) = out.last_mut() {
                value.push('\n');
                value.push_str(line);
            }
        } else if let Some((name, value)) = line.split_once(':') {
            out.push((name.trim().to_owned(), value.to_owned()));
        }
    }
    out.into_iter().map(|(n, v)| (n, unfold(&v))).collect()
}

/// An address with `<>` stripped and its domain lower-cased; `None` unless it has an `@`.
fn normalise_address(a: &str) -> Option<String> {
    let a = a
        .trim()
        .trim_start_matches('<')
        .trim_end_matches('>')
        .trim();
    let (local, domain) = a.rsplit_once('@')?;
    (!local.is_empty() && !domain.is_empty() && !a.contains(char::is_whitespace))
        .then(|| format!("{local}@{}", domain.to_lowercase()))
}

/// The Message-ID of the returned message: from a message/rfc822 part or from the headers of
/// a text/rfc822-headers part.
pub(crate) fn original_message_id(message: &Message<'_>) -> Option<String> {
    message
        .parts
        .iter()
        .skip(1)
        .find_map(|part| match &part.body {
            PartType::Message(nested) => nested.message_id().and_then(strip_id),
            _ if is_headers_part(part) => MessageParser::default()
                .parse_headers(part.contents())
                .and_then(|h| h.message_id().and_then(strip_id)),
            _ => None,
        })
}

fn is_headers_part(part: &MessagePart<'_>) -> bool {
    part.is_content_type("text", "rfc822-headers")
        || part.is_content_type("message", "rfc822-headers")
        || part.is_content_type("message", "global-headers")
}

/// A bounce without multipart/report: from MAILER-DAEMON or postmaster with a bounce subject,
/// or from the null sender with a bounce subject or body. Mail from MAILER-DAEMON that is not
/// a bounce (a delay warning) is still automatic.
pub(crate) fn from_plain(parsed: &ParsedMessage, null_sender: bool) -> Option<Kind> {
    // `From: MAILER-DAEMON` (a local bounce) has no address: the word is kept as the name.
    let local = match &parsed.from {
        Some(f) => f.address.rsplit_once('@').map(|(l, _)| l),
        None => parsed.from_name.as_deref(),
    }
    .map(str::to_ascii_lowercase);
    let daemon = local
        .as_deref()
        .is_some_and(|l| BOUNCE_SENDERS.contains(&l));
    let subject = parsed.subject.to_lowercase();
    let bounce_subject = BOUNCE_SUBJECTS.iter().any(|s| subject.contains(s));
    let bounce_body = || {
        let text = parsed.text.to_lowercase();
        BOUNCE_BODIES.iter().any(|s| text.contains(s))
    };
    if (daemon && bounce_subject) || (null_sender && (bounce_subject || bounce_body())) {
        return Some(Kind::Bounce {
            original_message_id: parsed
                .returned_message_id
                .clone()
                .or_else(|| quoted_message_id(&parsed.text)),
            recipient: failed_recipient(&parsed.text),
            reason: smtp_reply_line(&parsed.text).unwrap_or_else(|| parsed.subject.clone()),
        });
    }
    (local.as_deref() == Some("mailer-daemon")).then(|| Kind::AutoReply {
        reason: format!(
            "sent by {}",
            parsed
                .from
                .as_ref()
                .map(|f| f.address.as_str())
                .or(parsed.from_name.as_deref())
                .unwrap_or_default()
        ),
    })
}

/// The Message-ID of the original message quoted in the bounce text.
fn quoted_message_id(text: &str) -> Option<String> {
    text.lines().find_map(|line| {
        let line = line.trim();
        let (name, value) = line.split_once(':')?;
        if !name.trim().eq_ignore_ascii_case("message-id") {
            return None;
        }
        let value = value.trim();
        let start = value.find('<')?;
        let end = value[start..].find('>')? + start;
        strip_id(&value[start..=end])
    })
}

/// The failed address: `<user@example.net>:` (qmail, Postfix), or an address alone on its line
/// (Exim's "The following address(es) failed:" list).
fn failed_recipient(text: &str) -> Option<String> {
    text.lines().find_map(|line| {
        let line = line.trim();
        if let Some(inner) = line.strip_prefix('<')
            && let Some((address, after)) = inner.split_once('>')
            && after.starts_with(':')
        {
            return normalise_address(address);
        }
        (line.contains('@') && !line.contains(' '))
            .then(|| normalise_address(line))
            .flatten()
    })
}

/// The first line that carries an SMTP reply code (`550 5.1.1 User unknown`).
fn smtp_reply_line(text: &str) -> Option<String> {
    text.lines()
        .map(str::trim)
        .find(|line| {
            let b = line.as_bytes();
            b.len() > 4
                && matches!(b[0], b'4' | b'5')
                && b[1].is_ascii_digit()
                && b[2].is_ascii_digit()
                && matches!(b[3], b' ' | b'-')
        })
        .map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delivery_status_fields() {
        let status = "Reporting-MTA: dns; mx\r\n\r\nFinal-Recipient: rfc822; A@B.Example\r\nAction: failed\r\nStatus: 5.1.1\r\nDiagnostic-Code: smtp; 550 no\r\n  such user\r\n\r\nFinal-Recipient: rfc822;<c@d>\r\nStatus: 4.4.1\r\n";
        let blocks = recipient_blocks(status);
        assert_eq!(blocks.len(), 2);
        assert_eq!(blocks[0].recipient.as_deref(), Some("A@b.example"));
        assert_eq!(blocks[0].action, Action::Failed);
        assert_eq!(blocks[0].reason(), "5.1.1: 550 no such user");
        assert_eq!(blocks[1].recipient.as_deref(), Some("c@d"));
        assert_eq!(blocks[1].action, Action::Delayed, "from the status class");
        assert_eq!(blocks[1].reason(), "status 4.4.1");
    }

    #[test]
    fn plain_bounce_heuristics() {
        assert_eq!(
            failed_recipient("x\n<gone@Example.NET>:\nmore").as_deref(),
            Some("gone@example.net")
        );
        assert_eq!(
            failed_recipient("failed:\n\n  gone@example.net\n    host x").as_deref(),
            Some("gone@example.net")
        );
        assert_eq!(failed_recipient("nothing here"), None);
        assert_eq!(
            smtp_reply_line("a\n  550 5.1.1 User unknown\n").as_deref(),
            Some("550 5.1.1 User unknown")
        );
        assert_eq!(smtp_reply_line("2026 was a year\n555"), None);
        assert_eq!(
            quoted_message_id("To: x\nMessage-Id: <a@b> (c)\n").as_deref(),
            Some("a@b")
        );
        assert_eq!(quoted_message_id("Message-ID: none"), None);
    }
}
