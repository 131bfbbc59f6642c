//! Recipients settled by earlier rounds of a message: who has it, who refused it for good.

use super::deliver::Accepted;
use mailgate_domain::mail::compose::{Draft, DraftAddress};
use mailgate_store::OutboxRow;
use serde_json::json;

/// The recipients earlier rounds settled. When a server takes a message for some recipients
/// and defers others (SMTP 4xx to `RCPT TO`), the message goes back to the queue and the next
/// rounds send it to the deferred ones only. What is settled is carried from round to round in
/// the message's `result`: `accepted` (who has it) and `rejected` (refused for good, with the
/// server's words).
#[derive(Debug, Default)]
pub(super) struct Settled {
    pub accepted: Vec<String>,
    pub rejected: Vec<serde_json::Value>,
}

impl Settled {
    /// What the message's last round recorded (only queued messages are delivered, so a
    /// result with `accepted` comes from a round that deferred some recipients).
    pub fn of(row: &OutboxRow) -> Self {
        let result: serde_json::Value = row
            .result
            .as_deref()
            .and_then(|r| serde_json::from_str(r).ok())
            .unwrap_or_default();
        let accepted = result["accepted"]
            .as_array()
            .map(|list| {
                list.iter()
                    .filter_map(|a| a.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default();
        let rejected = result["rejected"].as_array().cloned().unwrap_or_default();
        Self { accepted, rejected }
    }

    pub fn contains(&self, address: &str) -> bool {
        let rejected = self.rejected.iter().filter_map(|r| r["address"].as_str());
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
    pub fn write(&self, result: &mut serde_json::Value) {
        if !self.accepted.is_empty() {
            result["accepted"] = json!(self.accepted);
        }
        if !self.rejected.is_empty() {
            result["rejected"] = json!(self.rejected);
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
