//! Messages read from a mailbox: each is parsed, classified (loops, auto-replies, bounces),
//! filtered and threaded ([`prepare`]: CPU only, no I/O, so a batch can be prepared on a
//! blocking thread while the next one is fetched); then a batch is imported with the
//! mailbox's progress and its events in one transaction ([`import`]). Malformed mail is kept
//! raw and flagged; nothing here stops a mailbox.

use crate::Core;
use crate::config::ThreadByTag;
use crate::events::EventKind;
use mailgate_domain::Id;
use mailgate_domain::incoming::{BulkMail, IncomingServerSpec};
use mailgate_domain::mail::{self, Kind, Ours, ThreadHint};
use mailgate_store::{
    AttachmentRow, ImportOutcome, ImportRequest, ImportedBatch, MailSource, MessageImport,
    MessageRow, NewEvent, NewTicket, StoreError,
};

/// The ticket tag prefix: subjects carry `[#42]`.
pub const TAG_PREFIX: &str = "#";
/// Our X-Loop header value: mail carrying it came from us.
pub const LOOP_MARKER: &str = "mailgate";
/// Attachments from this size on are kept as their place in the raw message (smaller ones
/// are stored as they are: reading them then needs no raw message).
const IN_RAW_FROM_BYTES: usize = 4096;

/// A watched mailbox: the incoming server a message came from, as the watcher reads it (its
/// configuration, and the `[receive]` settings the pipeline needs).
#[derive(Debug, Clone)]
pub struct WatchedMailbox {
    pub server_id: Id,
    pub name: String,
    pub spec: IncomingServerSpec,
    /// `[receive] thread_by_tag`: who may thread into a ticket by its tag.
    pub thread_by_tag: ThreadByTag,
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

/// A message ready to import: the store's request, and what its events and metrics say.
pub struct Prepared {
    request: ImportRequest,
    note: Note,
}

impl Prepared {
    /// Where the message comes from, as the store records it.
    pub fn source_key(&self) -> &str {
        &self.request.source().key
    }
}

/// What a message's event says, whatever the store decides.
struct Note {
    /// `normal`, `auto_reply`, `bounce`.
    kind: &'static str,
    /// From and subject, for the event (none for a message that was not read).
    about: Option<(String, String)>,
    /// Why it is skipped before the store sees it: the metric label, and the event's reason.
    skip: Option<(&'static str, String)>,
    /// The rule that made it other than mail a person wrote (an auto-reply's header, an
    /// out-of-office subject, a List-Id...): the event's `rule`; `None` for normal mail.
    rule: Option<String>,
    /// Bulk or list mail that may only join a ticket (`bulk_mail: ignore`).
    bulk_only_if_threaded: bool,
}

impl Note {
    /// The event an outcome leads to, written in the import's transaction.
    fn event(&self, server: &str, outcome: &ImportOutcome) -> Option<NewEvent> {
        let mut data = match outcome {
            ImportOutcome::Imported {
                ticket_number,
                message_id,
                ..
            } => {
                serde_json::json!({"ticket": ticket_number, "message": message_id, "server": server, "kind": self.kind})
            }
            ImportOutcome::Skipped => {
                let reason = match &self.skip {
                    Some((_, reason)) => reason.clone(),
                    None if self.bulk_only_if_threaded => {
                        "bulk mail that answers no ticket (the server's bulk_mail is ignore)"
                            .to_owned()
                    }
                    None => format!("an {} that answers no ticket", self.kind),
                };
                serde_json::json!({"server": server, "reason": reason})
            }
            ImportOutcome::Duplicate { .. } | ImportOutcome::AlreadySeen => return None,
        };
        if let Some((from, subject)) = &self.about {
            data["from"] = from.as_str().into();
            data["subject"] = subject.as_str().into();
        }
        if let Some(rule) = &self.rule {
            data["rule"] = rule.as_str().into();
        }
        let (kind, subject_id) = match outcome {
            ImportOutcome::Imported {
                ticket_number,
                new_ticket,
                ..
            } => (
                if *new_ticket {
                    EventKind::TicketCreated
                } else {
                    EventKind::TicketMessageAdded
                },
                ticket_number.to_string(),
            ),
            _ => (EventKind::MessageIgnored, server.to_owned()),
        };
        Some(NewEvent {
            kind,
            subject_id: Some(subject_id),
            data: data.to_string(),
        })
    }

    fn label(&self, outcome: &ImportOutcome) -> &'static str {
        match outcome {
            ImportOutcome::Imported {
                new_ticket: true, ..
            } => "ticket_created",
            ImportOutcome::Imported { .. } => "message_added",
            ImportOutcome::Duplicate { .. } => "duplicate",
            ImportOutcome::AlreadySeen => "already_seen",
            ImportOutcome::Skipped => self.skip.as_ref().map_or("unthreaded", |(l, _)| *l),
        }
    }
}

/// Parses, classifies, filters and threads one message read from `mailbox`. CPU only.
pub fn prepare(
    domain: &str,
    mailbox: &WatchedMailbox,
    source: MailSource,
    raw: Vec<u8>,
) -> Prepared {
    let mut parsed = mail::parse(&raw);
    let addresses = vec![mailbox.spec.email.as_str().to_owned()];
    let ours = Ours {
        message_id_domain: domain,
        loop_marker: LOOP_MARKER,
        addresses: &addresses,
    };
    // The envelope sender is the Return-Path header the delivering server wrote.
    let kind = mail::classify(&parsed, None, &ours);
    let bulk = mail::bulk(&parsed, &ours);
    let from = parsed
        .from
        .as_ref()
        .map(|m| m.address.clone())
        .unwrap_or_default();
    let subject = if parsed.subject.trim().is_empty() {
        "(no subject)".to_owned()
    } else {
        parsed.subject.clone()
    };

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
    let bulk_only_if_threaded = matches!(kind, Kind::Normal)
        && bulk.is_some()
        && mailbox.spec.bulk_mail == BulkMail::Ignore;
    let (kind_label, only_if_threaded) = match &kind {
        Kind::AutoReply { .. } => ("auto_reply", Some("auto_reply_unthreaded".to_owned())),
        Kind::Bounce { .. } => ("bounce", Some("bounce_unmatched".to_owned())),
        _ if bulk_only_if_threaded => ("normal", Some("bulk_unthreaded".to_owned())),
        _ => ("normal", None),
    };
    let rule = match &kind {
        Kind::AutoReply { reason } | Kind::Loop { reason } | Kind::Bounce { reason, .. } => {
            Some(reason.clone())
        }
        Kind::Normal => bulk.clone(),
    };
    let note = |skip| Note {
        kind: kind_label,
        about: Some((from.clone(), subject.clone())),
        skip,
        rule: rule.clone(),
        bulk_only_if_threaded,
    };
    if let Some((label, reason)) = skip {
        return Prepared {
            request: ImportRequest::Skip {
                source,
                outcome: label.to_owned(),
            },
            note: note(Some((label, reason))),
        };
    }

    let mut thread_message_ids = match mail::thread_hint(&parsed, &ours, TAG_PREFIX) {
        ThreadHint::MessageIds(ids) => ids,
        ThreadHint::Tag(_) | ThreadHint::None => Vec::new(),
    };
    // The tag is the fallback when none of the Message-IDs is on record (a reply to a
    // message sent before mailgate, or one whose ticket message was deleted).
    let thread_tag =
        mail::subject_tag(&parsed.subject, TAG_PREFIX).and_then(|n| i64::try_from(n).ok());
    // A bounce belongs to the ticket whose message bounced.
    if let Kind::Bounce {
        original_message_id: Some(original),
        ..
    } = &kind
    {
        thread_message_ids.insert(0, original.clone());
    }

    let message_id = Id::new();
    // Moved, not copied: attachments can be megabytes. A large one that can be read back
    // from the raw message is stored as its place there, not a second time.
    let attachments = std::mem::take(&mut parsed.attachments)
        .into_iter()
        .enumerate()
        .map(|(i, a)| {
            let size = a.content.len();
            let in_raw = a.in_raw.filter(|_| size >= IN_RAW_FROM_BYTES);
            AttachmentRow {
                id: Id::new(),
                message_id,
                position: i as i64,
                size: size as i64,
                filename: a.filename,
                content_type: a.content_type,
                inline: a.inline,
                content_id: a.content_id,
                content: if in_raw.is_some() {
                    Vec::new()
                } else {
                    a.content
                },
                in_raw,
            }
        })
        .collect();
    let addresses =
        |list: &[mail::ParsedAddress]| list.iter().map(|m| m.address.clone()).collect::<Vec<_>>();
    let import = MessageImport {
        thread_message_ids,
        thread_tag,
        thread_tag_from_anyone: mailbox.thread_by_tag == ThreadByTag::Any,
        only_if_threaded,
        content_digest: Some(content_digest(&raw)),
        new_ticket: NewTicket {
            id: Id::new(),
            subject: subject.clone(),
            requester: if from.is_empty() {
                "unknown".to_owned()
            } else {
                from.clone()
            },
            requester_name: parsed.from_name.clone(),
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
            from_name: parsed.from_name.clone(),
            recipients:
                serde_json::json!({"to": addresses(&parsed.to), "cc": addresses(&parsed.cc)})
                    .to_string(),
            subject: subject.clone(),
            body_text: std::mem::take(&mut parsed.text),
            body_html: parsed.html.take(),
            problems: serde_json::to_string(&parsed.problems).unwrap_or_else(|_| "[]".into()),
            reply_to: serde_json::json!(addresses(&parsed.reply_to)).to_string(),
            in_reply_to: serde_json::json!(parsed.in_reply_to).to_string(),
            references: serde_json::json!(parsed.references).to_string(),
            bulk: bulk.is_some(),
            raw,
            incoming_server_id: Some(mailbox.server_id),
            created_at_ms: 0,
            attachments,
        },
    };
    Prepared {
        request: ImportRequest::Import {
            source,
            import: Box::new(import),
        },
        note: note(None),
    }
}

/// SHA-256 (hex) of the raw From, Date and Subject values (unfolded, trimmed) and the raw body
/// after the header block, line ends read as LF. With the Message-ID it tells the same message
/// delivered again (another Received header, another watched mailbox) from another message
/// that reuses the id: the headers a transport adds are left out.
pub fn content_digest(raw: &[u8]) -> String {
    const FIELDS: [&[u8]; 3] = [b"from", b"date", b"subject"];
    let mut values: [Option<Vec<u8>>; 3] = Default::default();
    let mut current: Option<usize> = None;
    let mut rest = raw;
    while !rest.is_empty() {
        let end = rest.iter().position(|&b| b == b'\n');
        let (line, next) = match end {
            Some(i) => (&rest[..i], &rest[i + 1..]),
            None => (rest, &rest[rest.len()..]),
        };
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.is_empty() {
            rest = next;
            break;
        }
        rest = next;
        if line[0] == b' ' || line[0] == b'\t' {
            if let Some(value) = current.and_then(|i| values[i].as_mut()) {
                value.extend_from_slice(line);
            }
            continue;
        }
        current = None;
        let Some(colon) = line.iter().position(|&b| b == b':') else {
            continue;
        };
        let name = line[..colon].trim_ascii();
        if let Some(i) = FIELDS.iter().position(|f| name.eq_ignore_ascii_case(f))
            && values[i].is_none()
        {
            values[i] = Some(line[colon + 1..].to_vec());
            current = Some(i);
        }
    }
    let mut digest = ring::digest::Context::new(&ring::digest::SHA256);
    for (name, value) in FIELDS.iter().zip(&values) {
        digest.update(name);
        digest.update(b":");
        digest.update(value.as_deref().unwrap_or_default().trim_ascii());
        digest.update(b"\n");
    }
    digest.update(b"\n");
    for line in rest.split(|&b| b == b'\n') {
        digest.update(line.strip_suffix(b"\r").unwrap_or(line));
        digest.update(b"\n");
    }
    digest
        .finish()
        .as_ref()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A message that cannot be imported (larger than `receive.max_message_bytes`): recorded as
/// read, with an event, so that the mailbox moves on past it.
pub fn too_large(source: MailSource, reason: String) -> Prepared {
    Prepared {
        request: ImportRequest::Skip {
            source,
            outcome: "too_large".to_owned(),
        },
        note: Note {
            kind: "normal",
            about: None,
            skip: Some(("too_large", reason)),
            rule: None,
            bulk_only_if_threaded: false,
        },
    }
}

/// Imports a batch of prepared messages of one mailbox in one transaction, with their events
/// (see [`mailgate_store::Store::import_batch`] for a failing message).
pub async fn import(core: &Core, server_id: Id, batch: Vec<Prepared>) -> ImportedBatch {
    let (requests, notes): (Vec<ImportRequest>, Vec<Note>) =
        batch.into_iter().map(|p| (p.request, p.note)).unzip();
    let server = server_id.to_string();
    let event = |i: usize, outcome: &ImportOutcome| notes.get(i)?.event(&server, outcome);
    let done = core
        .store
        .import_batch(&requests, &event, core.clock.now_ms())
        .await;
    for (i, (note, outcome)) in notes.iter().zip(&done.outcomes).enumerate() {
        metrics::counter!("mailgate_messages_received_total", "outcome" => note.label(outcome))
            .increment(1);
        if let Some(e) = event(i, outcome) {
            // The data names people and quotes mail (addresses, subjects): debug only.
            let subject_id = e.subject_id.unwrap_or_default();
            tracing::info!(event = e.kind.as_str(), subject_id, "event");
            tracing::debug!(event = e.kind.as_str(), subject_id, data = %e.data, "event data");
        }
    }
    done
}

/// One message on its own: [`prepare`], then [`import`] a batch of one.
pub async fn process(
    core: &Core,
    mailbox: &WatchedMailbox,
    source: MailSource,
    raw: Vec<u8>,
) -> Result<ImportOutcome, StoreError> {
    let prepared = prepare(&message_id_domain(core), mailbox, source, raw);
    let done = import(core, mailbox.server_id, vec![prepared]).await;
    match (done.failed, done.outcomes.into_iter().next()) {
        (None, Some(outcome)) => Ok(outcome),
        (Some(e), _) => Err(e),
        (None, None) => Err(StoreError::Corrupt("an import answered nothing".into())),
    }
}

#[cfg(test)]
mod tests {
    use super::content_digest;

    const MESSAGE: &str = "From: A <a@x>\r\nDate: Mon, 7 Dec 2026 10:00:00 +0000\r\nSubject: Printer\r\n on fire\r\nMessage-ID: <1@x>\r\n\r\nIt burns.\r\n";

    #[test]
    fn transport_headers_and_line_ends_leave_the_digest_alone() {
        let digest = content_digest(MESSAGE.as_bytes());
        let relayed = format!(
            "Received: from relay by mx; Mon, 7 Dec 2026 10:00:05 +0000\r\nReturn-Path: <a@x>\r\n{MESSAGE}"
        );
        assert_eq!(content_digest(relayed.as_bytes()), digest);
        assert_eq!(
            content_digest(MESSAGE.replace("\r\n", "\n").as_bytes()),
            digest
        );
        assert_eq!(
            content_digest(MESSAGE.replace("Subject:", "SUBJECT:").as_bytes()),
            digest
        );
        assert_eq!(digest.len(), 64);
    }

    #[test]
    fn another_body_sender_date_or_subject_is_another_digest() {
        let digest = content_digest(MESSAGE.as_bytes());
        for (from, to) in [
            ("It burns.", "It is fine."),
            ("a@x>", "b@x>"),
            ("10:00:00", "10:00:01"),
            ("on fire", "on ice"),
        ] {
            assert_ne!(
                content_digest(MESSAGE.replacen(from, to, 1).as_bytes()),
                digest,
                "{to}"
            );
        }
        // A header-looking line in the body is body, not a header.
        let in_body = MESSAGE.replace("It burns.", "Subject: other");
        assert_ne!(content_digest(in_body.as_bytes()), digest);
    }
}
