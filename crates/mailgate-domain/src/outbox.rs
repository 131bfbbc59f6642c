//! The outbox's states: where a queued message stands, what one server did with it, and what
//! its latest delivery round came to. Strings exist only on the wire and in SQL columns
//! ([`OutboxStatus::as_str`], serde); decisions match on the types.

use crate::Id;
use crate::troubleshoot::Diagnosis;
use serde::{Deserialize, Serialize};

/// Where a message of the outbox stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OutboxStatus {
    /// Waiting for its next delivery round (`next_attempt_at`).
    Queued,
    /// A delivery round has it (claimed, with a lease).
    Sending,
    /// A server took it (for some recipients at least).
    Sent,
    /// Refused for good, or given up after `send.max_attempts` rounds.
    Failed,
    /// The server's recipient filter removed every recipient.
    Blocked,
}

impl OutboxStatus {
    /// Every status, in the order a message may pass them.
    pub const ALL: [OutboxStatus; 5] = [
        Self::Queued,
        Self::Sending,
        Self::Sent,
        Self::Failed,
        Self::Blocked,
    ];

    /// The status as the API and the database write it.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Queued => "queued",
            Self::Sending => "sending",
            Self::Sent => "sent",
            Self::Failed => "failed",
            Self::Blocked => "blocked",
        }
    }

    /// The status written as [`OutboxStatus::as_str`] does; `None` for any other text.
    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == text)
    }
}

impl std::fmt::Display for OutboxStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What one server did with a message during a delivery round (one answer of its route).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AttemptOutcome {
    /// It took the message (or every recipient it would send to had it already).
    Sent,
    /// It refused the message for a passing reason: retried later.
    Transient,
    /// It refused the message for good.
    Permanent,
    /// It could not be used (disabled, unreachable, refusing the login): the next one was tried.
    Unavailable,
    /// Its recipient filter removed every recipient.
    Blocked,
}

impl AttemptOutcome {
    pub const ALL: [AttemptOutcome; 5] = [
        Self::Sent,
        Self::Transient,
        Self::Permanent,
        Self::Unavailable,
        Self::Blocked,
    ];

    /// The outcome as the API and the database write it.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Sent => "sent",
            Self::Transient => "transient",
            Self::Permanent => "permanent",
            Self::Unavailable => "unavailable",
            Self::Blocked => "blocked",
        }
    }

    /// The outcome written as [`AttemptOutcome::as_str`] does; `None` for any other text.
    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == text)
    }
}

impl std::fmt::Display for AttemptOutcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A recipient a server refused (SMTP 4xx or 5xx to `RCPT TO`), with its words.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Refusal {
    pub address: String,
    pub reply: String,
}

/// The recipient filter of the server that decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FilterUsed {
    Allow,
    Ignore,
    None,
}

/// A server's answer to a message it took.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum ServerAnswer {
    /// Its reply to the end of the data (SMTP).
    Smtp(String),
    /// The message Gmail created.
    Gmail {
        id: String,
        thread_id: Option<String>,
    },
    /// Gmail said yes in words mailgate cannot read (a proxy's page): it took the message.
    GmailUnreadable {
        status: u16,
        unreadable_answer: String,
    },
}

/// Why a server did not take a message: the diagnosis as the message shows it, the server's
/// own words, and what the provider said in a SASL challenge.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RoundError {
    pub error: Diagnosis,
    pub server_reply: Option<String>,
    pub challenge: Option<String>,
}

/// What a delivery round came to, as a message keeps it (its `result`), and what one server
/// did in it (an answer's `detail`). Each field is written only where it applies: absent,
/// not empty, when a round did not reach that point.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RoundResult {
    /// The server that took the message, or deferred some recipients.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server_id: Option<Id>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server_name: Option<String>,
    /// Who has the message (every round so far, in a result).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub accepted: Option<Vec<String>>,
    /// Refused for good.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rejected: Option<Vec<Refusal>>,
    /// Refused for now: sent again in a later round.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deferred: Option<Vec<Refusal>>,
    /// Recipients the server's filter took out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub removed_by_filter: Option<Vec<String>>,
    /// The filter that removed every recipient.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filter: Option<FilterUsed>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reply: Option<ServerAnswer>,
    #[serde(flatten)]
    pub failure: Option<RoundError>,
    /// A passing failure after the last round allowed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gave_up_after_attempts: Option<i64>,
    /// When the next round starts (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_at: Option<String>,
    /// Delivered by earlier rounds, this one reached no one more: why.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub undelivered: Option<Box<RoundResult>>,
    /// Delivered by earlier rounds, this server's filter took the rest.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filtered: Option<Box<RoundResult>>,
}

impl RoundResult {
    /// A failure's result: the error, the server's words and the challenge (`null` when none).
    pub fn failed(failure: RoundError) -> Self {
        Self {
            failure: Some(failure),
            ..Self::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::troubleshoot::{Code, Diagnosis};
    use serde_json::json;

    #[test]
    fn statuses_and_outcomes_read_back_what_they_write() {
        for status in OutboxStatus::ALL {
            assert_eq!(OutboxStatus::parse(status.as_str()), Some(status));
            assert_eq!(json!(status), json!(status.as_str()));
        }
        for outcome in AttemptOutcome::ALL {
            assert_eq!(AttemptOutcome::parse(outcome.as_str()), Some(outcome));
            assert_eq!(json!(outcome), json!(outcome.as_str()));
        }
        assert_eq!(OutboxStatus::parse("Sent"), None);
    }

    /// The fields a result is read by (the API answers them) keep their names and shapes: a
    /// failure's `server_reply` and `challenge` are `null` when absent, the rest left out.
    #[test]
    fn a_result_is_written_as_the_api_shows_it() {
        let error = Diagnosis::new(Code::ServiceUnavailable, "busy", "wait");
        let result = RoundResult {
            accepted: Some(vec!["a@example.com".into()]),
            deferred: Some(vec![Refusal {
                address: "b@example.com".into(),
                reply: "450 4.2.2 Mailbox full".into(),
            }]),
            retry_at: Some("2026-01-01T00:00:00Z".into()),
            ..RoundResult::failed(RoundError {
                error: error.clone(),
                server_reply: None,
                challenge: None,
            })
        };
        let written = json!(result);
        assert_eq!(
            written,
            json!({
                "accepted": ["a@example.com"],
                "deferred": [{"address": "b@example.com", "reply": "450 4.2.2 Mailbox full"}],
                "error": error,
                "server_reply": null,
                "challenge": null,
                "retry_at": "2026-01-01T00:00:00Z",
            })
        );
        let back: RoundResult = serde_json::from_value(written).unwrap();
        assert_eq!(back, result);

        let sent = RoundResult {
            reply: Some(ServerAnswer::Gmail {
                id: "18a".into(),
                thread_id: None,
            }),
            undelivered: Some(Box::new(RoundResult {
                filter: Some(FilterUsed::Allow),
                ..RoundResult::default()
            })),
            ..RoundResult::default()
        };
        let written = json!(sent);
        assert_eq!(
            written,
            json!({"reply": {"id": "18a", "thread_id": null}, "undelivered": {"filter": "allow"}})
        );
        assert_eq!(
            serde_json::from_value::<RoundResult>(written).unwrap(),
            sent
        );
        assert_eq!(
            json!(ServerAnswer::Smtp("250 2.0.0 Ok".into())),
            json!("250 2.0.0 Ok")
        );
    }

    /// Results as the outbox wrote them before they were typed (`serde_json::json!`) read
    /// back whole and write the same JSON again: stored messages and API answers keep theirs.
    #[test]
    fn results_written_before_read_back_and_write_the_same() {
        let error =
            r#"{"code":"service_unavailable","message":"m","hint":"h","severity":"transient"}"#;
        let results = [
            // Queued again: some recipients deferred.
            format!(
                r#"{{"accepted":["ok@example.com"],"challenge":null,"deferred":[{{"address":"later@example.com","reply":"450 4.2.2 Mailbox full"}}],"error":{error},"rejected":[{{"address":"gone@example.com","reply":"550 5.1.1 User unknown"}}],"retry_at":"2026-12-08T00:00:00Z","server_id":"0b6f7a9e-3c1d-4e57-9a61-2f0c5d1e8b42","server_reply":"450 4.2.2 Mailbox full"}}"#
            ),
            // Sent over SMTP.
            r#"{"accepted":["a@example.com"],"deferred":[],"rejected":[],"removed_by_filter":[],"reply":"250 2.0.0 Ok","server_id":"0b6f7a9e-3c1d-4e57-9a61-2f0c5d1e8b42","server_name":"Relay"}"#.into(),
            // Sent through the Gmail API, its answer read or not.
            r#"{"accepted":["a@example.com"],"reply":{"id":"18a","thread_id":null}}"#.into(),
            r#"{"reply":{"status":200,"unreadable_answer":"<html>"}}"#.into(),
            // Delivered in part, the rest given up or filtered out.
            format!(
                r#"{{"accepted":["ok@example.com"],"undelivered":{{"challenge":null,"error":{error},"gave_up_after_attempts":3,"server_reply":null}}}}"#
            ),
            r#"{"accepted":["ok@example.com"],"filtered":{"filter":"ignore","removed_by_filter":["b@example.com"]}}"#.into(),
            // Blocked; failed.
            r#"{"filter":"allow","removed_by_filter":["b@example.com"]}"#.into(),
            format!(r#"{{"challenge":"eyJ9","error":{error},"server_reply":"535 5.7.8 no"}}"#),
        ];
        for text in results {
            let typed: RoundResult = serde_json::from_str(&text).expect(&text);
            let written: serde_json::Value = serde_json::from_str(&text).unwrap();
            assert_eq!(json!(typed), written, "{text}");
        }
    }
}
