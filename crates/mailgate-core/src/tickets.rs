//! Tickets as the API shows them: a ticket, its messages in order, attachment links.

use crate::Core;
use crate::clock::rfc3339;
use mailgate_store::{StoreError, TicketQuery, TicketRow};
use serde::Serialize;

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct TicketView {
    /// What people quote: `[#42]`.
    pub number: i64,
    pub id: String,
    pub subject: String,
    pub requester: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub requester_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub incoming_server_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub category: Option<String>,
    pub status: String,
    pub created_at: String,
    pub updated_at: String,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct TicketDetail {
    #[serde(flatten)]
    pub ticket: TicketView,
    pub messages: Vec<MessageView>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct MessageView {
    pub id: String,
    /// `in` (from the customer) or `out` (a reply sent).
    pub direction: String,
    /// `normal`, `auto_reply` or `bounce`.
    pub kind: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub from_name: Option<String>,
    #[schema(value_type = Object)]
    pub recipients: serde_json::Value,
    pub subject: String,
    pub text: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub html: Option<String>,
    /// What was malformed in the message as received (it is kept raw all the same).
    pub problems: Vec<String>,
    /// The Reply-To addresses: where the sender asked replies to go (ticket replies go to the
    /// latest incoming one); `[]` when none.
    pub reply_to: Vec<String>,
    /// The Message-IDs (without `<>`) this message answers; `[]` when none.
    pub in_reply_to: Vec<String>,
    /// The Message-IDs (without `<>`) of the thread it belongs to, oldest first; `[]` when none.
    pub references: Vec<String>,
    /// List or bulk mail (`Precedence: bulk|list`, `List-Id`, `List-Unsubscribe`).
    pub bulk: bool,
    pub attachments: Vec<AttachmentView>,
    pub created_at: String,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AttachmentView {
    pub id: String,
    pub filename: String,
    pub content_type: String,
    pub size: i64,
    pub inline: bool,
    /// Where to download it (with the admin token).
    pub url: String,
}

fn ticket_view(t: TicketRow) -> TicketView {
    TicketView {
        number: t.number,
        id: t.id.to_string(),
        subject: t.subject,
        requester: t.requester,
        requester_name: t.requester_name,
        incoming_server_id: t.incoming_server_id.map(|i| i.to_string()),
        group: t.group,
        category: t.category,
        status: t.status,
        created_at: rfc3339(t.created_at_ms),
        updated_at: rfc3339(t.updated_at_ms),
    }
}

pub async fn list(core: &Core, query: &TicketQuery) -> Result<Vec<TicketView>, StoreError> {
    Ok(core
        .store
        .list_tickets(query)
        .await?
        .into_iter()
        .map(ticket_view)
        .collect())
}

pub async fn get(core: &Core, number: i64) -> Result<Option<TicketDetail>, StoreError> {
    let Some(ticket) = core.store.get_ticket(number).await? else {
        return Ok(None);
    };
    let messages = core.store.ticket_messages(number).await?;
    let messages = messages
        .into_iter()
        .map(|m| MessageView {
            id: m.id.to_string(),
            direction: m.direction,
            kind: m.kind,
            message_id: m.message_id,
            from: m.from_address,
            from_name: m.from_name,
            recipients: serde_json::from_str(&m.recipients).unwrap_or_default(),
            subject: m.subject,
            text: m.body_text,
            // Anyone can send mail: its HTML is handed out only cleaned (see `safe_html`).
            html: m.body_html.as_deref().map(mailgate_domain::mail::safe_html),
            problems: serde_json::from_str(&m.problems).unwrap_or_default(),
            reply_to: serde_json::from_str(&m.reply_to).unwrap_or_default(),
            in_reply_to: serde_json::from_str(&m.in_reply_to).unwrap_or_default(),
            references: serde_json::from_str(&m.references).unwrap_or_default(),
            bulk: m.bulk,
            attachments: m
                .attachments
                .into_iter()
                .map(|a| AttachmentView {
                    url: format!("/api/v1/attachments/{}", a.id),
                    id: a.id.to_string(),
                    filename: a.filename,
                    content_type: a.content_type,
                    size: a.size,
                    inline: a.inline,
                })
                .collect(),
            created_at: rfc3339(m.created_at_ms),
        })
        .collect();
    Ok(Some(TicketDetail {
        ticket: ticket_view(ticket),
        messages,
    }))
}
