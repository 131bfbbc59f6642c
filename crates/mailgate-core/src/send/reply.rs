//! Replying to a ticket (`POST /api/v1/tickets/{n}/reply`): who the reply goes to, its
//! subject and threading headers, and the server it goes through.

use super::queue::{Queued, check_route, enqueue, split_body};
use crate::Core;
use crate::objects::{Objects, ServiceError, parse_body};
use mailgate_domain::mail::compose::DraftInput;
use mailgate_store::MessageRow;

/// Replies to a ticket (`POST /api/v1/tickets/{n}/reply`), with the ticket's tag in the
/// subject, In-Reply-To and References naming the ticket's messages, and Reply-To the mailbox
/// the ticket came from, so the answer comes back into the same ticket. Sent through the
/// outgoing server of that mailbox unless `server_id` is given.
///
/// Who it goes to, unless the caller gives `to`, `cc` or `bcc` (then exactly those): the
/// Reply-To addresses of the latest incoming message of the ticket written by a person
/// (`normal`, not an auto-reply or bounce) that has a Reply-To, as the customer asked (web
/// forms and no-reply senders rely on it); otherwise the requester. A Reply-To naming the
/// ticket's own mailbox is ignored (it would send the reply back into the ticket), as is one
/// a draft refuses.
pub async fn reply(
    core: &Core,
    ticket_number: i64,
    body: serde_json::Value,
    header_key: Option<&str>,
) -> Result<Queued, ServiceError> {
    let not_found = || ServiceError::NotFound {
        what: "ticket",
        id: ticket_number.to_string(),
    };
    let ticket = core
        .store
        .get_ticket(ticket_number)
        .await?
        .ok_or_else(not_found)?;
    let (mut routing, draft_body, hash) = split_body(
        &format!("reply to ticket {ticket_number}"),
        body,
        header_key,
    )?;
    let mut input: DraftInput = parse_body(draft_body)?;
    let number = u64::try_from(ticket.number).unwrap_or_default();
    let prefix = crate::receive::pipeline::TAG_PREFIX;
    let messages = core.store.ticket_messages(ticket.number).await?;
    let mailbox = match ticket.incoming_server_id {
        Some(server_id) => Objects::<crate::objects::IncomingServers>::load(core, server_id)
            .await
            .ok(),
        None => None,
    };
    if input.to.is_none() && input.cc.is_none() && input.bcc.is_none() {
        let ours = mailbox
            .as_ref()
            .map(|(_, incoming, _)| incoming.email.as_str());
        input.to = Some(match asked_reply_to(&messages, ours) {
            Some(addresses) => addresses,
            None => vec![match &ticket.requester_name {
                Some(name) => format!(
                    "\"{}\" <{}>",
                    name.replace(['"', '\\'], ""),
                    ticket.requester
                ),
                None => ticket.requester.clone(),
            }],
        });
    }
    input.subject = Some(match input.subject.take() {
        // The caller's subject: too long is the caller's error, named `subject`.
        Some(given) => mailgate_domain::mail::tagged_subject(&given, number, prefix),
        // The ticket's, which came in by mail and may be longer than a header allows once
        // tagged: cut to fit rather than refuse a subject the caller never gave.
        None => {
            let tagged = mailgate_domain::mail::tagged_subject(
                &format!("Re: {}", ticket.subject),
                number,
                prefix,
            );
            tagged
                .chars()
                .take(mailgate_domain::mail::compose::MAX_SUBJECT_CHARS)
                .collect()
        }
    });
    let mut draft = input.parse()?;

    let ids: Vec<String> = messages
        .iter()
        .filter_map(|m| m.message_id.clone())
        .collect();
    draft.in_reply_to = messages
        .iter()
        .rev()
        .find(|m| m.direction == "in")
        .and_then(|m| m.message_id.clone())
        .or_else(|| ids.last().cloned());
    // The first message and the latest ones: enough to thread, short enough for any server.
    let mut references: Vec<String> = ids.iter().take(1).cloned().collect();
    let skip = ids.len().saturating_sub(9).max(1);
    references.extend(ids.iter().skip(skip).cloned());
    draft.references = references;

    if let Some((_, incoming, _)) = mailbox {
        if draft.reply_to.is_none() {
            draft.reply_to = Some(mailgate_domain::mail::compose::DraftAddress {
                name: None,
                email: incoming.email.clone(),
            });
        }
        if routing.server_id.is_none() {
            routing.server_id = incoming.outgoing_server_id;
        }
    }
    check_route(core, routing.server_id).await?;
    enqueue(core, routing, draft, Some(ticket.number), hash).await
}

/// The Reply-To addresses of the latest incoming message written by a person that has any
/// (other than `ours`, the ticket's mailbox, and only addresses a draft accepts); `None` when
/// no such message asked for one.
fn asked_reply_to(messages: &[MessageRow], ours: Option<&str>) -> Option<Vec<String>> {
    messages
        .iter()
        .rev()
        .filter(|m| m.direction == "in" && m.kind == "normal")
        .find_map(|m| {
            let addresses: Vec<String> = serde_json::from_str::<Vec<String>>(&m.reply_to)
                .unwrap_or_default()
                .into_iter()
                .filter(|a| !ours.is_some_and(|o| o.eq_ignore_ascii_case(a)))
                // One we could not send to would fail the reply on a field the caller never
                // gave: the requester is better.
                .filter(|a| mailgate_domain::mail::compose::DraftAddress::parse("to", a).is_ok())
                .collect();
            (!addresses.is_empty()).then_some(addresses)
        })
}

#[cfg(test)]
mod tests {
    use super::asked_reply_to;
    use mailgate_store::MessageRow;

    /// A ticket message: direction, kind and its Reply-To (JSON).
    type Row<'a> = (&'a str, &'a str, &'a str);

    fn message(direction: &str, kind: &str, reply_to: &str) -> MessageRow {
        MessageRow {
            id: mailgate_domain::Id::new(),
            ticket_number: 1,
            direction: direction.into(),
            kind: kind.into(),
            message_id: None,
            from_address: None,
            from_name: None,
            recipients: "{}".into(),
            subject: String::new(),
            body_text: String::new(),
            body_html: None,
            problems: "[]".into(),
            reply_to: reply_to.into(),
            in_reply_to: "[]".into(),
            references: "[]".into(),
            bulk: false,
            raw: Vec::new(),
            incoming_server_id: None,
            created_at_ms: 0,
            attachments: Vec::new(),
        }
    }

    /// The latest message a person wrote that has a usable Reply-To decides; auto-replies, our
    /// own replies, our own mailbox and addresses a draft refuses do not.
    #[test]
    fn the_reply_to_asked_for() {
        let ours = Some("support@example.com");
        let cases: &[(&[Row<'_>], Option<&[&str]>)] = &[
            (&[("in", "normal", "[]")], None),
            (
                &[("in", "normal", r#"["a@example.org"]"#)],
                Some(&["a@example.org"]),
            ),
            (
                &[
                    ("in", "normal", r#"["a@example.org"]"#),
                    ("in", "normal", "[]"),
                    ("in", "auto_reply", r#"["noreply@example.org"]"#),
                    ("out", "normal", r#"["support@example.com"]"#),
                ],
                Some(&["a@example.org"]),
            ),
            (
                &[
                    ("in", "normal", r#"["a@example.org"]"#),
                    ("in", "normal", r#"["b@example.org","c@example.org"]"#),
                ],
                Some(&["b@example.org", "c@example.org"]),
            ),
            (&[("in", "normal", r#"["SUPPORT@example.com"]"#)], None),
            (&[("in", "normal", r#"["not an address"]"#)], None),
            (&[("in", "normal", "not json")], None),
        ];
        for (messages, want) in cases {
            let rows: Vec<MessageRow> = messages.iter().map(|(d, k, r)| message(d, k, r)).collect();
            let got = asked_reply_to(&rows, ours);
            let want = want.map(|w| w.iter().map(|a| a.to_string()).collect::<Vec<_>>());
            assert_eq!(got, want, "{messages:?}");
        }
    }
}
