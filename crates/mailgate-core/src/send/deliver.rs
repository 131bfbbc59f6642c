//! One delivery round of one message: through each server of its route in turn until one
//! takes it. A server that cannot be used (disabled, unreachable, refusing the login) hands
//! over to the next (the primary); a refusal of the message itself ends the round: a passing
//! one (SMTP 4xx, Gmail 429/5xx) is retried later, a final one (SMTP 5xx, Gmail 4xx) fails the
//! message with the server's words and the fix.
//!
//! A send whose outcome is unknown (the connection broke after the message went out: SMTP
//! waiting for the answer to the end of the data, a Gmail request without a complete answer)
//! ends the round as a passing failure: retried later through the same route, never handed to
//! the next server at once. The recipients may then get it twice (at least once, never lost).

use super::channel::Channel;
use super::failure::{Class, Failure, Fate};
use super::message::{apply_filter, filter_used, ticket_message};
use super::round::{Rest, Round};
use super::settled::unsettled;
use crate::Core;
use crate::login;
use mailgate_domain::mail::compose::Draft;
use mailgate_domain::outbox::{AttemptOutcome, OutboxStatus, RoundResult};
use mailgate_domain::troubleshoot::setup;
use mailgate_store::{OutboxFinish, OutboxRow};
use serde_json::json;

/// Runs one delivery round of a claimed message and says how it ended.
pub(crate) async fn deliver(core: &Core, row: &OutboxRow) -> OutboxFinish {
    let mut round = Round::new(core, row);
    let now = core.clock.now_ms();
    let draft: Draft = match serde_json::from_str(&row.draft) {
        Ok(d) => d,
        Err(e) => {
            let failure = Failure {
                class: Class::Permanent,
                ..Failure::unavailable(login::config(&format!(
                    "the stored message cannot be read ({e})"
                )))
            };
            return round.failed(&failure);
        }
    };
    let servers = match super::route::route(core, row.server_id).await {
        Ok(s) => s,
        Err(e) => {
            let failure = Failure {
                class: Class::Transient,
                ..Failure::unavailable(login::config(&e.to_string()))
            };
            return round.failed(&failure);
        }
    };
    let mut last = Failure::unavailable(setup::no_outgoing_server());
    for server in &servers {
        let started = core.clock.now_ms();
        if !server.spec.enabled {
            last = Failure::unavailable(setup::server_disabled(&server.name));
            let detail = last.detail(Fate::Retried);
            round.record(Some(server), AttemptOutcome::Unavailable, &detail, started);
            continue;
        }
        let (kept, removed) = apply_filter(&draft, server);
        // The server must be usable before its filter decides: one that is down hands the
        // message to the next server, whose filter decides then.
        let sent = match Channel::open(core, server).await {
            Err(failure) => Err(failure),
            Ok(channel) if kept.recipients().is_empty() => {
                channel.close(core);
                let detail = RoundResult {
                    removed_by_filter: Some(removed.clone()),
                    filter: Some(filter_used(server)),
                    ..RoundResult::default()
                };
                round.record(Some(server), AttemptOutcome::Blocked, &detail, started);
                if !round.settled.accepted.is_empty() {
                    // Earlier rounds delivered it; this server's filter takes the rest.
                    let rest = Rest::Filtered(detail);
                    return round.sent_in_part(Some(server), rest, RoundResult::default());
                }
                let event = json!({
                    "message_id": format!("<{}>", row.message_id),
                    "ticket_number": row.ticket_number,
                    "server_id": server.id.to_string(),
                    "removed_by_filter": removed,
                });
                return round.finish(
                    OutboxStatus::Blocked,
                    now,
                    None,
                    detail,
                    Some((crate::events::EventKind::MessageBlocked, event)),
                    None,
                );
            }
            Ok(channel) if unsettled(&kept, &round.settled).recipients().is_empty() => {
                // Every recipient this server would send to has it or refused it for good.
                channel.close(core);
                let detail = RoundResult {
                    server_id: Some(server.id),
                    server_name: Some(server.name.clone()),
                    removed_by_filter: Some(removed.clone()),
                    ..RoundResult::default()
                };
                round.record(Some(server), AttemptOutcome::Sent, &detail, started);
                let sent_by = row.sent_server_id.unwrap_or(server.id);
                let event = round.sent_event(json!({"server_id": sent_by.to_string(),
                    "removed_by_filter": removed}));
                return round.finish(
                    OutboxStatus::Sent,
                    now,
                    Some(sent_by),
                    detail,
                    Some(event),
                    None,
                );
            }
            Ok(channel) => channel.send(core, server, &kept, &round.settled, row).await,
        };
        match sent {
            Ok((accepted, raw)) => {
                let detail = RoundResult {
                    server_id: Some(server.id),
                    server_name: Some(server.name.clone()),
                    accepted: Some(accepted.recipients.clone()),
                    rejected: Some(accepted.rejected.clone()),
                    deferred: Some(accepted.deferred.clone()),
                    removed_by_filter: Some(removed.clone()),
                    reply: Some(accepted.reply.clone()),
                    ..RoundResult::default()
                };
                round.record(Some(server), AttemptOutcome::Sent, &detail, started);
                // The ticket keeps the reply from the first round that delivered it.
                let message = (round.settled.accepted.is_empty()
                    && !accepted.recipients.is_empty())
                .then_some(row.ticket_number)
                .flatten()
                .map(|n| ticket_message(n, row, server, &kept, raw));
                round.settled.add(&accepted);
                if !accepted.deferred.is_empty() {
                    let mut finish = round.deferred(server, &accepted.deferred);
                    finish.ticket_message = message;
                    return finish;
                }
                let event = round.sent_event(json!({
                    "server_id": server.id.to_string(),
                    "server_name": server.name,
                    "removed_by_filter": removed,
                }));
                return round.finish(
                    OutboxStatus::Sent,
                    now,
                    Some(server.id),
                    detail,
                    Some(event),
                    message,
                );
            }
            Err(failure) => {
                let fate = match failure.class {
                    Class::Permanent => Fate::Final,
                    Class::Unavailable | Class::Transient => Fate::Retried,
                };
                let detail = RoundResult {
                    removed_by_filter: Some(removed),
                    ..failure.detail(fate)
                };
                round.record(Some(server), failure.class.outcome(), &detail, started);
                if failure.class != Class::Unavailable {
                    return round.failed(&failure);
                }
                tracing::warn!(message = %row.id, server = %server.id, code = failure.diagnosis().code.as_str(), "outgoing server unavailable; trying the next one");
                last = failure;
            }
        }
    }
    // No server could be used: retried later (the server may come back, a consent be given).
    last.class = Class::Transient;
    round.failed(&last)
}
