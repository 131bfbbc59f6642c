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
use super::settled::{Settled, unsettled};
use crate::Core;
use crate::login;
use mailgate_domain::mail::compose::{self, Compose, Draft, DraftAddress};
use mailgate_domain::outgoing::{OutgoingServerSpec, OutgoingTransport};
use mailgate_domain::troubleshoot::{Code, Diagnosis, ProviderKind, Severity, setup};
use mailgate_domain::{FilterKind, Id};
use mailgate_proto::error::ProtoError;
use mailgate_proto::gmail::GmailError;
use mailgate_store::{AttemptRow, MessageRow, OutboxFinish, OutboxRow};
use serde_json::json;
use std::time::Duration;

/// An outgoing server as a delivery round uses it: one stop of a message's route.
#[derive(Debug, Clone)]
pub(crate) struct RouteServer {
    pub id: Id,
    pub name: String,
    /// Changes whenever the server is edited (pooled connections are then rebuilt).
    pub updated_at_ms: i64,
    pub spec: OutgoingServerSpec,
    /// Whose fixes its failures are told with ([`provider_of`]).
    pub provider: ProviderKind,
}

/// What a failure means for the round.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Class {
    /// The server cannot be used now: try the next one.
    Unavailable,
    /// The message was refused for a passing reason: retry later.
    Transient,
    /// The message was refused for good.
    Permanent,
}

/// What a failure means for the message: the severity it shows ([`Failure::diagnosis_as`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Fate {
    /// Refused for good or given up: the message fails (or this answer refused it for good).
    Final,
    /// Retried later, or handed to the next server now.
    Retried,
}

#[derive(Debug)]
pub(crate) struct Failure {
    pub class: Class,
    pub diagnosis: Diagnosis,
    /// The server's own words.
    pub server_reply: Option<String>,
    /// What the provider said in a SASL challenge (XOAUTH2 JSON).
    pub challenge: Option<String>,
    pub retry_after: Option<Duration>,
}

/// Whose fixes a server's failures are told with: Google for the Gmail API, else the provider
/// of its OAuth app or of its host (see [`crate::oauth::provider::of_server`]).
pub(crate) async fn provider_of(core: &Core, spec: &OutgoingServerSpec) -> ProviderKind {
    match &spec.transport {
        OutgoingTransport::Smtp { host, .. } => {
            crate::oauth::provider::of_server(core, &spec.auth, host).await
        }
        OutgoingTransport::GmailApi { .. } => ProviderKind::Google,
    }
}

impl Failure {
    pub fn unavailable(diagnosis: Diagnosis) -> Self {
        Self {
            class: Class::Unavailable,
            diagnosis,
            server_reply: None,
            challenge: None,
            retry_after: None,
        }
    }

    fn of_proto(server: &RouteServer, e: &ProtoError, class: Class) -> Self {
        Self {
            class,
            diagnosis: e.diagnosis(server.provider),
            server_reply: e.server_reply().map(str::to_owned),
            challenge: e.sasl_challenge().map(str::to_owned),
            retry_after: None,
        }
    }

    /// Every connection to the server stayed busy with other messages for `waited`: retried
    /// later through the same route (the server works; it is mailgate's own limit).
    pub fn pool_busy(server: &RouteServer, size: usize, waited: Duration) -> Self {
        Self {
            class: Class::Transient,
            diagnosis: Diagnosis::new(
                Code::ServiceUnavailable,
                format!(
                    "All {size} connections mailgate keeps to `{}` stayed busy with other messages for {} seconds.",
                    server.name,
                    waited.as_secs()
                ),
                "Nothing to change: mailgate retries with backoff. If it recurs, raise send.connections_per_server (if the server allows more connections) or look for a server that answers slowly.",
            ),
            server_reply: None,
            challenge: None,
            retry_after: None,
        }
    }

    /// Connecting or signing in failed: the server is unavailable.
    pub fn connection(server: &RouteServer, e: ProtoError) -> Self {
        Self::of_proto(server, &e, Class::Unavailable)
    }

    /// The server refused the token (`refused`) and no fresh one could be had (`why`: a
    /// revoked grant, a provider down): unavailable, with the token's diagnosis first and the
    /// server's words and SASL challenge kept.
    pub fn token_not_replaced(refused: Failure, why: Diagnosis) -> Self {
        Self {
            class: Class::Unavailable,
            diagnosis: why.after_refused_token(&refused.diagnosis),
            ..refused
        }
    }

    /// The server refused the message (or the connection broke while sending it).
    pub fn transaction(server: &RouteServer, e: ProtoError) -> Self {
        let class = if e.is_transient() {
            Class::Transient
        } else {
            Class::Permanent
        };
        Self::of_proto(server, &e, class)
    }

    /// A Gmail API answer: a refused token or permission, or a request that never reached
    /// Google, makes the server unavailable; rate limits, server errors and requests left
    /// without an answer pass; other refusals are final.
    pub fn gmail(e: &GmailError) -> Self {
        let class = match e {
            // Never reached Google (connect, DNS, TLS), or a URL that cannot be used: the
            // API cannot be reached, another server may send.
            GmailError::Transport(_) | GmailError::BadBaseUrl { .. } => Class::Unavailable,
            // The request went out and no answer came: Google may have sent the message.
            // Retried later through the same route, never handed to the next server now.
            GmailError::Unanswered(_) => Class::Transient,
            // The token, its permissions or the account refused (revoked, scope, delegation,
            // Gmail off for the account).
            _ if e.is_account_problem() => Class::Unavailable,
            _ if e.is_transient() => Class::Transient,
            // A refused message, one too large, or an answer that cannot be read (it may have
            // been sent: never sent again).
            _ => Class::Permanent,
        };
        Self {
            class,
            diagnosis: e.diagnosis(),
            server_reply: e.server_reply(),
            challenge: None,
            retry_after: e.retry_after(),
        }
    }

    /// The diagnosis as a message shows it (its result, its answers, its events): the
    /// severity says what becomes of the message, so that status and severity agree. Given
    /// up (`Fate::Final`): `permanent`. Still to be retried (`Fate::Retried`): never
    /// `permanent` (the catalog's severity speaks of the server or credential, e.g. a disabled
    /// server, and the message may still go through another one or once it is fixed), so
    /// `transient`, or `reauthorize` when a grant must be renewed before it can go.
    pub fn diagnosis_as(&self, fate: Fate) -> Diagnosis {
        let mut diagnosis = self.diagnosis.clone();
        diagnosis.severity = match (fate, diagnosis.severity) {
            (Fate::Final, _) => Severity::Permanent,
            (Fate::Retried, Severity::Permanent) => Severity::Transient,
            (Fate::Retried, severity) => severity,
        };
        diagnosis
    }

    pub fn detail(&self, fate: Fate) -> serde_json::Value {
        json!({
            "error": self.diagnosis_as(fate),
            "server_reply": self.server_reply,
            "challenge": self.challenge,
        })
    }
}

/// What a server did with the message.
pub(super) struct Accepted {
    pub recipients: Vec<String>,
    /// Refused for good (SMTP 5xx to `RCPT TO`): `{"address", "reply"}`.
    pub rejected: Vec<serde_json::Value>,
    /// Refused for now (SMTP 4xx to `RCPT TO`): `{"address", "reply"}`, sent again later.
    pub deferred: Vec<serde_json::Value>,
    pub reply: serde_json::Value,
}

/// `{"address", "reply"}` for each refused recipient.
pub(super) fn refusals(
    list: &[(String, mailgate_proto::smtp::SmtpReply)],
) -> Vec<serde_json::Value> {
    list.iter()
        .map(|(address, reply)| json!({"address": address, "reply": reply.to_string()}))
        .collect()
}

/// The recipients of a draft the server's filter lets through, and those it removed.
fn apply_filter(draft: &Draft, server: &RouteServer) -> (Draft, Vec<String>) {
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

fn filter_name(server: &RouteServer) -> &'static str {
    match server.spec.filter.as_ref().map(|f| f.kind) {
        Some(FilterKind::Allow) => "allow",
        Some(FilterKind::Ignore) => "ignore",
        None => "none",
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

struct Round<'a> {
    core: &'a Core,
    row: &'a OutboxRow,
    attempts: Vec<AttemptRow>,
    /// The recipients settled so far, this round included.
    settled: Settled,
}

impl Round<'_> {
    fn record(
        &mut self,
        server: Option<&RouteServer>,
        outcome: &str,
        detail: serde_json::Value,
        started: i64,
    ) {
        self.attempts.push(AttemptRow {
            round: self.row.attempts,
            server_id: server.map(|s| s.id),
            server_name: server
                .map(|s| s.name.clone())
                .unwrap_or_else(|| "(none)".into()),
            outcome: outcome.into(),
            detail: detail.to_string(),
            started_at_ms: started,
            finished_at_ms: self.core.clock.now_ms(),
        });
    }

    fn finish(
        self,
        status: &str,
        next_attempt_at_ms: i64,
        sent_server_id: Option<Id>,
        result: serde_json::Value,
        event: Option<(&str, serde_json::Value)>,
        ticket_message: Option<MessageRow>,
    ) -> OutboxFinish {
        let mut result = result;
        self.settled.write(&mut result);
        OutboxFinish {
            id: self.row.id,
            status: status.into(),
            next_attempt_at_ms,
            sent_server_id,
            result: Some(result.to_string()),
            attempts: self.attempts,
            event: event.map(|(k, d)| (k.to_owned(), d.to_string())),
            ticket_message,
        }
    }

    /// The `message.sent` event: who has the message and who refused it, over every round,
    /// with `extra` (the server, what a filter removed, what is left undelivered).
    fn sent_event(&self, extra: serde_json::Value) -> (&'static str, serde_json::Value) {
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
        ("message.sent", event)
    }

    /// The message's last round, after earlier rounds delivered it to some recipients while
    /// this one reached no one more (refused for good, out of attempts, filtered out): `sent`,
    /// to those, with what became of the rest under `why`.
    fn sent_in_part(
        self,
        server: Option<&RouteServer>,
        why: &str,
        detail: serde_json::Value,
    ) -> OutboxFinish {
        let now = self.core.clock.now_ms();
        let sent_by = self.row.sent_server_id.or(server.map(|s| s.id));
        let event = self.sent_event(json!({
            "server_id": sent_by.map(|id| id.to_string()),
            why: detail.clone(),
        }));
        let result = json!({ why: detail });
        self.finish("sent", now, sent_by, result, Some(event), None)
    }

    /// A failed round: queued again with backoff, or failed for good.
    fn failed(self, failure: &Failure) -> OutboxFinish {
        let s = &self.core.settings.send;
        let now = self.core.clock.now_ms();
        let out_of_attempts = self.row.attempts >= i64::from(s.max_attempts);
        if failure.class == Class::Permanent || out_of_attempts {
            let mut result = failure.detail(Fate::Final);
            if out_of_attempts && failure.class != Class::Permanent {
                result["gave_up_after_attempts"] = json!(self.row.attempts);
            }
            if !self.settled.accepted.is_empty() {
                // Earlier rounds delivered it: it is sent, to those, and the rest is told.
                return self.sent_in_part(None, "undelivered", result);
            }
            let event = json!({
                "message_id": format!("<{}>", self.row.message_id),
                "ticket_number": self.row.ticket_number,
                "error": failure.diagnosis_as(Fate::Final),
                "server_reply": failure.server_reply,
            });
            return self.finish(
                "failed",
                now,
                None,
                result,
                Some(("message.failed", event)),
                None,
            );
        }
        let wait =
            backoff(self.core, self.row.attempts).max(failure.retry_after.unwrap_or_default());
        let next = now + i64::try_from(wait.as_millis()).unwrap_or(i64::MAX / 4);
        let mut result = failure.detail(Fate::Retried);
        result["retry_at"] = json!(crate::objects::rfc3339(next));
        self.finish("queued", next, None, result, None, None)
    }

    /// A server took the message for some recipients and deferred others (SMTP 4xx): queued
    /// again with backoff for those, or failed for them once out of attempts.
    fn deferred(self, server: &RouteServer, deferred: &[serde_json::Value]) -> OutboxFinish {
        let first = deferred.first().cloned().unwrap_or_default();
        let address = first["address"].as_str().unwrap_or_default();
        let reply = first["reply"].as_str().unwrap_or_default();
        let failure = Failure {
            class: Class::Transient,
            diagnosis: mailgate_domain::troubleshoot::smtp_reply(
                &format!("RCPT TO:<{address}>"),
                reply,
            ),
            server_reply: Some(reply.to_owned()),
            challenge: None,
            retry_after: None,
        };
        let mut finish = self.failed(&failure);
        if let Some(result) = &finish.result
            && let Ok(mut value) = serde_json::from_str::<serde_json::Value>(result)
        {
            value["deferred"] = json!(deferred);
            value["server_id"] = json!(server.id.to_string());
            finish.result = Some(value.to_string());
        }
        if finish.status == "queued" {
            finish.sent_server_id = Some(server.id);
        }
        finish
    }
}

/// Runs one delivery round of a claimed message and says how it ended.
pub(crate) async fn deliver(core: &Core, row: &OutboxRow) -> OutboxFinish {
    let mut round = Round {
        core,
        row,
        attempts: Vec::new(),
        settled: Settled::of(row),
    };
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
    let servers = match super::route(core, row.server_id).await {
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
            round.record(
                Some(server),
                "unavailable",
                last.detail(Fate::Retried),
                started,
            );
            continue;
        }
        let (kept, removed) = apply_filter(&draft, server);
        // The server must be usable before its filter decides: one that is down hands the
        // message to the next server, whose filter decides then.
        let sent = match Channel::open(core, server).await {
            Err(failure) => Err(failure),
            Ok(channel) if kept.recipients().is_empty() => {
                channel.close(core);
                let detail = json!({"removed_by_filter": removed, "filter": filter_name(server)});
                round.record(Some(server), "blocked", detail.clone(), started);
                if !round.settled.accepted.is_empty() {
                    // Earlier rounds delivered it; this server's filter takes the rest.
                    return round.sent_in_part(Some(server), "filtered", detail);
                }
                let event = json!({
                    "message_id": format!("<{}>", row.message_id),
                    "ticket_number": row.ticket_number,
                    "server_id": server.id.to_string(),
                    "removed_by_filter": removed,
                });
                return round.finish(
                    "blocked",
                    now,
                    None,
                    detail,
                    Some(("message.blocked", event)),
                    None,
                );
            }
            Ok(channel) if unsettled(&kept, &round.settled).recipients().is_empty() => {
                // Every recipient this server would send to has it or refused it for good.
                channel.close(core);
                let detail = json!({"server_id": server.id.to_string(), "server_name": server.name,
                    "removed_by_filter": removed});
                round.record(Some(server), "sent", detail.clone(), started);
                let sent_by = row.sent_server_id.unwrap_or(server.id);
                let event = round.sent_event(json!({"server_id": sent_by.to_string(),
                    "removed_by_filter": removed}));
                return round.finish("sent", now, Some(sent_by), detail, Some(event), None);
            }
            Ok(channel) => channel.send(core, server, &kept, &round.settled, row).await,
        };
        match sent {
            Ok((accepted, raw)) => {
                let detail = json!({
                    "server_id": server.id.to_string(),
                    "server_name": server.name,
                    "accepted": accepted.recipients,
                    "rejected": accepted.rejected,
                    "deferred": accepted.deferred,
                    "removed_by_filter": removed,
                    "reply": accepted.reply,
                });
                round.record(Some(server), "sent", detail.clone(), started);
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
                return round.finish("sent", now, Some(server.id), detail, Some(event), message);
            }
            Err(failure) => {
                let outcome = match failure.class {
                    Class::Unavailable => "unavailable",
                    Class::Transient => "transient",
                    Class::Permanent => "permanent",
                };
                let fate = match failure.class {
                    Class::Permanent => Fate::Final,
                    Class::Unavailable | Class::Transient => Fate::Retried,
                };
                let mut detail = failure.detail(fate);
                detail["removed_by_filter"] = json!(removed);
                round.record(Some(server), outcome, detail, started);
                if failure.class != Class::Unavailable {
                    return round.failed(&failure);
                }
                tracing::warn!(message = %row.id, server = %server.id, code = failure.diagnosis.code.as_str(), "outgoing server unavailable; trying the next one");
                last = failure;
            }
        }
    }
    // No server could be used: retried later (the server may come back, a consent be given).
    last.class = Class::Transient;
    round.failed(&last)
}

/// The reply as a message of its ticket (what the customer's answer will thread to).
fn ticket_message(
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
