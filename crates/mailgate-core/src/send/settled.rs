//! What servers did with a message's recipients: who has it, who refused it for good, and who
//! is left for a later round.

use mailgate_domain::mail::compose::{Draft, DraftAddress};
use mailgate_domain::outbox::{Refusal, RoundResult, ServerAnswer};
use mailgate_store::OutboxRow;

/// What a server did with the message.
pub(super) struct Accepted {
    pub recipients: Vec<String>,
    /// Refused for good (SMTP 5xx to `RCPT TO`).
    pub rejected: Vec<Refusal>,
    /// Refused for now (SMTP 4xx to `RCPT TO`): sent again later.
    pub deferred: Vec<Refusal>,
    pub reply: ServerAnswer,
}

/// The refused recipients with the server's words.
pub(super) fn refusals(list: &[(String, mailgate_proto::smtp::SmtpReply)]) -> Vec<Refusal> {
    list.iter()
        .map(|(address, reply)| Refusal {
            address: address.clone(),
            reply: reply.to_string(),
        })
        .collect()
}

/// The recipients earlier rounds settled. When a server takes a message for some recipients
/// and defers others (SMTP 4xx to `RCPT TO`), the message goes back to the queue and the next
/// rounds send it to the deferred ones only. What is settled is carried from round to round in
/// the message's `result`: `accepted` (who has it) and `rejected` (refused for good, with the
/// server's words).
#[derive(Debug, Default, serde::Deserialize)]
pub(super) struct Settled {
    #[serde(default)]
    pub accepted: Vec<String>,
    #[serde(default)]
    pub rejected: Vec<Refusal>,
}

impl Settled {
    /// What the message's last round recorded (only queued messages are delivered, so a
    /// result with `accepted` comes from a round that deferred some recipients). Only these
    /// two fields are read, so that a result this version cannot read whole (a code renamed
    /// since) still tells who has the message.
    pub fn of(row: &OutboxRow) -> Self {
        row.result
            .as_deref()
            .and_then(|r| serde_json::from_str(r).ok())
            .unwrap_or_default()
    }

    pub fn contains(&self, address: &str) -> bool {
        let rejected = self.rejected.iter().map(|r| r.address.as_str());
        self.accepted
            .iter()
            .map(String::as_str)
            .chain(rejected)
            .any(|a| a.eq_ignore_ascii_case(address))
    }

    /// Adds what a server did in this round.
    pub fn add(&mut self, accepted: &Accepted) {
        self.accepted.extend(accepted.recipients.iter().cloned());
        self.rejected.extend(accepted.rejected.iter().cloned());
    }

    /// Writes the settled recipients into a round's result.
    pub fn write(&self, result: &mut RoundResult) {
        if !self.accepted.is_empty() {
            result.accepted = Some(self.accepted.clone());
        }
        if !self.rejected.is_empty() {
            result.rejected = Some(self.rejected.clone());
        }
    }
}

/// The draft without the recipients earlier rounds settled.
pub(super) fn unsettled(draft: &Draft, settled: &Settled) -> Draft {
    let keep = |list: &[DraftAddress]| -> Vec<DraftAddress> {
        list.iter()
            .filter(|m| !settled.contains(m.email.as_str()))
            .cloned()
            .collect()
    };
    let mut rest = draft.clone();
    rest.to = keep(&draft.to);
    rest.cc = keep(&draft.cc);
    rest.bcc = keep(&draft.bcc);
    rest
}
