//! One delivery round's record: the answers of the servers tried, and how the round ends for
//! the message (sent, queued again with backoff, failed, blocked), with its result and event.

use super::failure::{Class, Failure, Fate};
use super::route::RouteServer;
use super::settled::Settled;
use crate::Core;
use crate::events::EventKind;
use mailgate_domain::Id;
use mailgate_domain::outbox::{AttemptOutcome, OutboxStatus, Refusal, RoundResult};
use mailgate_store::{AttemptRow, MessageRow, OutboxFinish, OutboxRow};
use serde_json::json;
use std::time::Duration;

/// The wait before round `attempts + 1`: `retry_base` doubled per round, at most
/// `retry_max`, minus up to a fifth of jitter so that messages failed together spread out.
fn backoff(core: &Core, attempts: i64) -> Duration {
    use ring::rand::SecureRandom;
    let s = &core.settings.send;
    let exp = u32::try_from(attempts.saturating_sub(1).clamp(0, 20)).unwrap_or(20);
    let wait = s
        .retry_base
        .saturating_mul(2u32.saturating_pow(exp))
        .min(s.retry_max);
    let mut byte = [0u8; 1];
    let _ = ring::rand::SystemRandom::new().fill(&mut byte);
    wait - wait / 5 * u32::from(byte[0]) / 255
}

/// What became of the recipients left when a message delivered in part by earlier rounds ends.
pub(super) enum Rest {
    /// Refused for good, or out of attempts.
    Undelivered(RoundResult),
    /// Removed by the server's filter.
    Filtered(RoundResult),
}

pub(super) struct Round<'a> {
    pub core: &'a Core,
    pub row: &'a OutboxRow,
    attempts: Vec<AttemptRow>,
    /// The recipients settled so far, this round included.
    pub settled: Settled,
}

impl<'a> Round<'a> {
    pub fn new(core: &'a Core, row: &'a OutboxRow) -> Self {
        Self {
            core,
            row,
            attempts: Vec::new(),
            settled: Settled::of(row),
        }
    }

    /// Records one server's answer.
    pub fn record(
        &mut self,
        server: Option<&RouteServer>,
        outcome: AttemptOutcome,
        detail: &RoundResult,
        started: i64,
    ) {
        self.attempts.push(AttemptRow {
            round: self.row.attempts,
            server_id: server.map(|s| s.id),
            server_name: server
                .map(|s| s.name.clone())
                .unwrap_or_else(|| "(none)".into()),
            outcome,
            detail: json!(detail).to_string(),
            started_at_ms: started,
            finished_at_ms: self.core.clock.now_ms(),
        });
    }

    /// The round's end as the store writes it, with the settled recipients in its result.
    pub fn finish(
        self,
        status: OutboxStatus,
        next_attempt_at_ms: i64,
        sent_server_id: Option<Id>,
        mut result: RoundResult,
        event: Option<(EventKind, serde_json::Value)>,
        ticket_message: Option<MessageRow>,
    ) -> OutboxFinish {
        self.settled.write(&mut result);
        OutboxFinish {
            id: self.row.id,
            status,
            next_attempt_at_ms,
            sent_server_id,
            result: Some(json!(result).to_string()),
            attempts: self.attempts,
            event: event.map(|(k, d)| (k, d.to_string())),
            ticket_message,
        }
    }

    /// The `message.sent` event: who has the message and who refused it, over every round,
    /// with `extra` (the server, what a filter removed, what is left undelivered).
    pub fn sent_event(&self, extra: serde_json::Value) -> (EventKind, serde_json::Value) {
        let mut event = json!({
            "message_id": format!("<{}>", self.row.message_id),
            "ticket_number": self.row.ticket_number,
            "accepted": self.settled.accepted,
            "rejected": self.settled.rejected,
        });
        if let serde_json::Value::Object(extra) = extra {
            for (k, v) in extra {
                event[k] = v;
            }
        }
        (EventKind::MessageSent, event)
    }

    /// The message's last round, after earlier rounds delivered it to some recipients while
    /// this one reached no one more (refused for good, out of attempts, filtered out): `sent`,
    /// to those, with what became of the rest in `result` (which may hold more).
    pub fn sent_in_part(
        self,
        server: Option<&RouteServer>,
        rest: Rest,
        mut result: RoundResult,
    ) -> OutboxFinish {
        let now = self.core.clock.now_ms();
        let sent_by = self.row.sent_server_id.or(server.map(|s| s.id));
        let (why, detail, slot) = match rest {
            Rest::Undelivered(detail) => ("undelivered", detail, &mut result.undelivered),
            Rest::Filtered(detail) => ("filtered", detail, &mut result.filtered),
        };
        let event = self.sent_event(json!({
            "server_id": sent_by.map(|id| id.to_string()),
            why: &detail,
        }));
        *slot = Some(Box::new(detail));
        self.finish(OutboxStatus::Sent, now, sent_by, result, Some(event), None)
    }

    /// A failed round: queued again with backoff, or failed for good.
    pub fn failed(self, failure: &Failure) -> OutboxFinish {
        self.fail(failure, RoundResult::default())
    }

    /// A failed round, with `result` holding what the round did besides failing.
    fn fail(self, failure: &Failure, result: RoundResult) -> OutboxFinish {
        let s = &self.core.settings.send;
        let now = self.core.clock.now_ms();
        let out_of_attempts = self.row.attempts >= i64::from(s.max_attempts);
        if failure.class == Class::Permanent || out_of_attempts {
            let gave_up =
                (out_of_attempts && failure.class != Class::Permanent).then_some(self.row.attempts);
            if !self.settled.accepted.is_empty() {
                // Earlier rounds delivered it: it is sent, to those, and the rest is told.
                let detail = RoundResult {
                    gave_up_after_attempts: gave_up,
                    ..failure.detail(Fate::Final)
                };
                return self.sent_in_part(None, Rest::Undelivered(detail), result);
            }
            let error = failure.error(Fate::Final);
            let event = json!({
                "message_id": format!("<{}>", self.row.message_id),
                "ticket_number": self.row.ticket_number,
                "error": error.error,
                "server_reply": error.server_reply,
            });
            let result = RoundResult {
                failure: Some(error),
                gave_up_after_attempts: gave_up,
                ..result
            };
            return self.finish(
                OutboxStatus::Failed,
                now,
                None,
                result,
                Some((EventKind::MessageFailed, event)),
                None,
            );
        }
        let wait =
            backoff(self.core, self.row.attempts).max(failure.retry_after.unwrap_or_default());
        let next = now + i64::try_from(wait.as_millis()).unwrap_or(i64::MAX / 4);
        let result = RoundResult {
            failure: Some(failure.error(Fate::Retried)),
            retry_at: Some(crate::clock::rfc3339(next)),
            ..result
        };
        self.finish(OutboxStatus::Queued, next, None, result, None, None)
    }

    /// A server took the message for some recipients and deferred others (SMTP 4xx): queued
    /// again with backoff for those, or failed for them once out of attempts.
    pub fn deferred(self, server: &RouteServer, deferred: &[Refusal]) -> OutboxFinish {
        let failure = Failure::deferred(deferred.first().cloned().unwrap_or_default());
        let result = RoundResult {
            deferred: Some(deferred.to_vec()),
            server_id: Some(server.id),
            ..RoundResult::default()
        };
        let mut finish = self.fail(&failure, result);
        if finish.status == OutboxStatus::Queued {
            finish.sent_server_id = Some(server.id);
        }
        finish
    }
}
