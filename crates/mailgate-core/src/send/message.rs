//! The message as one server sends it: its recipients after the server's filter, its From, and
//! (a ticket reply) the copy its ticket keeps.

use super::route::RouteServer;
use mailgate_domain::mail::compose::{self, Compose, Draft, DraftAddress};
use mailgate_domain::outbox::FilterUsed;
use mailgate_domain::{FilterKind, Id};
use mailgate_store::{MessageRow, OutboxRow};
use serde_json::json;

/// The recipients of a draft the server's filter lets through, and those it removed.
pub(super) fn apply_filter(draft: &Draft, server: &RouteServer) -> (Draft, Vec<String>) {
    let Some(filter) = &server.spec.filter else {
        return (draft.clone(), Vec::new());
    };
    let mut removed = Vec::new();
    let mut keep = |list: &[DraftAddress]| -> Vec<DraftAddress> {
        list.iter()
            .filter(|m| {
                let pass = filter.passes(m.email.as_str(), &[]);
                if !pass {
                    removed.push(m.email.as_str().to_owned());
                }
                pass
            })
            .cloned()
            .collect()
    };
    let mut kept = draft.clone();
    kept.to = keep(&draft.to);
    kept.cc = keep(&draft.cc);
    kept.bcc = keep(&draft.bcc);
    (kept, removed)
}

/// The server's filter, as a blocked message's result names it.
pub(super) fn filter_used(server: &RouteServer) -> FilterUsed {
    match server.spec.filter.as_ref().map(|f| f.kind) {
        Some(FilterKind::Allow) => FilterUsed::Allow,
        Some(FilterKind::Ignore) => FilterUsed::Ignore,
        None => FilterUsed::None,
    }
}

/// The message as this server sends it: its address (and sender name) in From.
pub(super) fn render(
    draft: &Draft,
    row: &OutboxRow,
    server: &RouteServer,
    bcc_header: bool,
) -> Vec<u8> {
    let from = DraftAddress {
        name: server.spec.sender_name.clone(),
        email: server.spec.email.clone(),
    };
    let reply_to = server
        .spec
        .reply_to
        .clone()
        .map(|email| DraftAddress { name: None, email });
    let message_id = format!("<{}>", row.message_id);
    let date = chrono::DateTime::from_timestamp_millis(row.created_at_ms).unwrap_or_default();
    let c = Compose {
        from: &from,
        reply_to: reply_to.as_ref(),
        message_id: &message_id,
        date,
        loop_marker: crate::receive::pipeline::LOOP_MARKER,
    };
    if bcc_header {
        compose::render_for_gmail_api(draft, &c)
    } else {
        compose::render(draft, &c)
    }
}

/// The reply as a message of its ticket (what the customer's answer will thread to).
pub(super) fn ticket_message(
    ticket_number: i64,
    row: &OutboxRow,
    server: &RouteServer,
    draft: &Draft,
    raw: Vec<u8>,
) -> MessageRow {
    let list = |l: &[DraftAddress]| {
        l.iter()
            .map(|m| m.email.as_str().to_owned())
            .collect::<Vec<_>>()
    };
    MessageRow {
        id: Id::new(),
        ticket_number,
        direction: "out".into(),
        kind: "normal".into(),
        message_id: Some(row.message_id.clone()),
        from_address: Some(server.spec.email.as_str().to_owned()),
        from_name: draft
            .from_name
            .clone()
            .or_else(|| server.spec.sender_name.clone()),
        recipients: json!({"to": list(&draft.to), "cc": list(&draft.cc)}).to_string(),
        subject: draft.subject.clone(),
        body_text: draft
            .text
            .clone()
            .or_else(|| {
                draft
                    .html
                    .as_deref()
                    .map(mailgate_domain::mail::html_to_text)
            })
            .unwrap_or_default(),
        body_html: draft.html.clone(),
        problems: "[]".into(),
        reply_to: json!(
            draft
                .reply_to
                .iter()
                .map(|m| m.email.as_str())
                .collect::<Vec<_>>()
        )
        .to_string(),
        in_reply_to: json!(draft.in_reply_to.iter().collect::<Vec<_>>()).to_string(),
        references: json!(draft.references).to_string(),
        bulk: false,
        raw,
        incoming_server_id: None,
        created_at_ms: row.created_at_ms,
        attachments: Vec::new(),
    }
}
