//! One message read from a mailbox: parse, classify (loops, auto-replies, bounces), filter,
//! thread, and import it with the mailbox's progress in one transaction. Malformed mail is kept
//! raw and flagged; nothing here stops a mailbox.

use crate::Core;
use crate::events;
use mailgate_domain::Id;
use mailgate_domain::incoming::IncomingServerSpec;
use mailgate_domain::mail::{self, Kind, Ours, ThreadHint};
use mailgate_store::{
    AttachmentRow, ImportOutcome, ImportRequest, MessageRow, NewTicket, StoreError,
};

/// The ticket tag prefix: subjects carry `[#42]`.
pub const TAG_PREFIX: &str = "#";
/// Our X-Loop header value: mail carrying it came from us.
pub const LOOP_MARKER: &str = "mailgate";

/// The mailbox a message came from.
pub struct Mailbox {
    pub server_id: Id,
    pub name: String,
    pub spec: IncomingServerSpec,
}

/// Where a message came from, and how far it moves the mailbox's progress.
pub struct Source {
    /// `"{server}:{uidvalidity}:{uid}"` or `"{server}:uidl:{uidl}"`.
    pub key: String,
    /// IMAP `(uid_validity, uid)`.
    pub progress: Option<(i64, i64)>,
}

/// The domain of our Message-IDs (`<uuid@mailgate.example.com>`): mail that comes back with one
/// of them is ours.
pub fn message_id_domain(core: &Core) -> String {
    let host = url::Url::parse(&core.settings.base_url)
        .ok()
        .and_then(|u| u.host_str().map(str::to_owned))
        .unwrap_or_default();
    if host.contains('.') && host.parse::<std::net::IpAddr>().is_err() {
        format!("mailgate.{host}")
    } else {
        "mailgate.localhost".to_owned()
    }
}

pub async fn process(
    core: &Core,
    mailbox: &Mailbox,
    source: Source,
    raw: Vec<u8>,
) -> Result<ImportOutcome, StoreError> {
    let mut parsed = mail::parse(&raw);
    let domain = message_id_domain(core);
    let addresses = vec![mailbox.spec.email.as_str().to_owned()];
    let ours = Ours {
        message_id_domain: &domain,
        loop_marker: LOOP_MARKER,
        addresses: &addresses,
    };
    let kind = mail::classify(&parsed, return_path(&raw).as_deref(), &ours);
    let from = parsed
        .from
        .as_ref()
        .map(|m| m.address.clone())
        .unwrap_or_default();

    let mut skip = None;
    if let Kind::Loop { reason } = &kind {
        skip = Some(("loop", reason.clone()));
    } else if let Some(filter) = &mailbox.spec.filter {
        let [subject, text] = mail::filter_text(&parsed);
        if !filter.passes(&from, &[subject, text]) {
            skip = Some((
                "ignored",
                format!(
                    "the server's {} filter",
                    serde_json::to_value(filter.kind)
                        .ok()
                        .and_then(|v| v.as_str().map(str::to_owned))
                        .unwrap_or_default()
                ),
            ));
        }
    }

    let (mut thread_message_ids, thread_tag) = match mail::thread_hint(&parsed, &ours, TAG_PREFIX) {
        ThreadHint::MessageIds(ids) => (ids, None),
        ThreadHint::Tag(n) => (Vec::new(), i64::try_from(n).ok()),
        ThreadHint::None => (Vec::new(), None),
    };
    let (kind_label, only_if_threaded) = match &kind {
        Kind::AutoReply { .. } => ("auto_reply", Some("auto_reply_unthreaded".to_owned())),
        Kind::Bounce {
            original_message_id,
            ..
        } => {
            // A bounce belongs to the ticket whose message bounced.
            if let Some(original) = original_message_id {
                thread_message_ids.insert(0, original.clone());
            }
            ("bounce", Some("bounce_unmatched".to_owned()))
        }
        _ => ("normal", None),
    };

    let message_id = Id::new();
    // Moved, not copied: attachments can be megabytes.
    let attachments = std::mem::take(&mut parsed.attachments)
        .into_iter()
        .enumerate()
        .map(|(i, a)| AttachmentRow {
            id: Id::new(),
            message_id,
            position: i as i64,
            size: a.content.len() as i64,
            filename: a.filename,
            content_type: a.content_type,
            inline: a.inline,
            content_id: a.content_id,
            content: a.content,
        })
        .collect();
    let addresses =
        |list: &[mail::Mailbox]| list.iter().map(|m| m.address.clone()).collect::<Vec<_>>();
    let subject = if parsed.subject.trim().is_empty() {
        "(no subject)".to_owned()
    } else {
        parsed.subject.clone()
    };
    let request = ImportRequest {
        server_id: mailbox.server_id,
        source_key: source.key,
        progress: source.progress,
        skip: skip.as_ref().map(|(outcome, _)| (*outcome).to_owned()),
        thread_message_ids,
        thread_tag,
        only_if_threaded,
        new_ticket: NewTicket {
            id: Id::new(),
            subject: subject.clone(),
            requester: if from.is_empty() {
                "unknown".to_owned()
            } else {
                from.clone()
            },
            requester_name: parsed.from.as_ref().and_then(|m| m.name.clone()),
            group: mailbox.spec.group.clone(),
            category: mailbox.spec.category.clone(),
        },
        message: MessageRow {
            id: message_id,
            ticket_number: 0,
            direction: "in".into(),
            kind: kind_label.into(),
            message_id: parsed.message_id.clone(),
            from_address: parsed.from.as_ref().map(|m| m.address.clone()),
            from_name: parsed.from.as_ref().and_then(|m| m.name.clone()),
            recipients:
                serde_json::json!({"to": addresses(&parsed.to), "cc": addresses(&parsed.cc)})
                    .to_string(),
            subject: subject.clone(),
            body_text: parsed.text.clone(),
            body_html: parsed.html.clone(),
            problems: serde_json::to_string(&parsed.problems).unwrap_or_else(|_| "[]".into()),
            raw,
            incoming_server_id: Some(mailbox.server_id),
            created_at_ms: 0,
            attachments,
        },
    };
    let outcome = core
        .store
        .import_message(&request, core.clock.now_ms())
        .await?;
    let label = match &outcome {
        ImportOutcome::Imported {
            new_ticket: true, ..
        } => "ticket_created",
        ImportOutcome::Imported { .. } => "message_added",
        ImportOutcome::Duplicate { .. } => "duplicate",
        ImportOutcome::AlreadySeen => "already_seen",
        ImportOutcome::Skipped => skip.as_ref().map(|(o, _)| *o).unwrap_or("unthreaded"),
    };
    metrics::counter!("mailgate_messages_received_total", "outcome" => label).increment(1);
    let server = mailbox.server_id.to_string();
    match &outcome {
        ImportOutcome::Imported {
            ticket_number,
            message_id,
            new_ticket,
        } => {
            let kind = if *new_ticket {
                events::kind::TICKET_CREATED
            } else {
                events::kind::TICKET_MESSAGE_ADDED
            };
            events::record(core, kind, Some(&ticket_number.to_string()), serde_json::json!({"ticket": ticket_number, "message": message_id, "server": server, "from": from, "subject": subject, "kind": kind_label})).await;
        }
        ImportOutcome::Skipped => {
            let reason = skip
                .map(|(_, r)| r)
                .unwrap_or_else(|| format!("an {kind_label} that answers no ticket"));
            events::record(core, events::kind::MESSAGE_IGNORED, Some(&server), serde_json::json!({"server": server, "from": from, "subject": subject, "reason": reason})).await;
        }
        _ => {}
    }
    Ok(outcome)
}

/// Records a message that cannot be imported (too large) as read, with an event, so that the
/// mailbox moves on past it.
pub async fn skip(
    core: &Core,
    mailbox: &Mailbox,
    source: Source,
    outcome: &str,
    reason: String,
) -> Result<ImportOutcome, StoreError> {
    let request = ImportRequest {
        server_id: mailbox.server_id,
        source_key: source.key,
        progress: source.progress,
        skip: Some(outcome.to_owned()),
        thread_message_ids: Vec::new(),
        thread_tag: None,
        only_if_threaded: None,
        new_ticket: NewTicket {
            id: Id::new(),
            subject: String::new(),
            requester: String::new(),
            requester_name: None,
            group: None,
            category: None,
        },
        message: MessageRow {
            id: Id::new(),
            ticket_number: 0,
            direction: "in".into(),
            kind: "normal".into(),
            message_id: None,
            from_address: None,
            from_name: None,
            recipients: "{}".into(),
            subject: String::new(),
            body_text: String::new(),
            body_html: None,
            problems: "[]".into(),
            raw: Vec::new(),
            incoming_server_id: Some(mailbox.server_id),
            created_at_ms: 0,
            attachments: Vec::new(),
        },
    };
    let result = core
        .store
        .import_message(&request, core.clock.now_ms())
        .await?;
    metrics::counter!("mailgate_messages_received_total", "outcome" => "too_large").increment(1);
    let server = mailbox.server_id.to_string();
    events::record(
        core,
        events::kind::MESSAGE_IGNORED,
        Some(&server),
        serde_json::json!({"server": server, "reason": reason}),
    )
    .await;
    Ok(result)
}

/// The envelope sender the delivering server recorded (`<>` for bounces).
fn return_path(raw: &[u8]) -> Option<String> {
    let head_end = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .or_else(|| raw.windows(2).position(|w| w == b"\n\n"))
        .unwrap_or(raw.len().min(64 * 1024));
    let head = String::from_utf8_lossy(&raw[..head_end]);
    head.lines().find_map(|l| {
        let (name, value) = l.split_once(':')?;
        name.trim()
            .eq_ignore_ascii_case("return-path")
            .then(|| value.trim().to_owned())
    })
}
