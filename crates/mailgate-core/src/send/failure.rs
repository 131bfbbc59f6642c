//! Why a server did not take a message, and what that means for the round: try the next
//! server, retry later, or fail the message. A failure keeps the error as the failing code
//! gave it; the diagnosis a person reads (the message's result, its answers, its events, the
//! log) is built from it only there.

use super::route::RouteServer;
use mailgate_domain::outbox::{AttemptOutcome, Refusal, RoundError, RoundResult};
use mailgate_domain::troubleshoot::{Code, Diagnosis, ProviderKind, Severity};
use mailgate_proto::error::ProtoError;
use mailgate_proto::gmail::GmailError;
use std::time::Duration;

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

impl Class {
    /// The server's answer as the message's history records it.
    pub fn outcome(self) -> AttemptOutcome {
        match self {
            Class::Unavailable => AttemptOutcome::Unavailable,
            Class::Transient => AttemptOutcome::Transient,
            Class::Permanent => AttemptOutcome::Permanent,
        }
    }
}

/// What a failure means for the message: the severity it shows ([`Failure::diagnosis_as`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Fate {
    /// Refused for good or given up: the message fails (or this answer refused it for good).
    Final,
    /// Retried later, or handed to the next server now.
    Retried,
}

/// The error as the code that failed gave it.
#[derive(Debug)]
pub(crate) enum Cause {
    /// Connecting, signing in or the SMTP transaction, told with `provider`'s fixes.
    Proto {
        error: ProtoError,
        provider: ProviderKind,
    },
    /// A Gmail API answer.
    Gmail(GmailError),
    /// Every connection mailgate keeps to `server` stayed busy for `waited`.
    PoolBusy {
        server: String,
        size: usize,
        waited: Duration,
    },
    /// A recipient refused for now (SMTP 4xx to `RCPT TO`).
    Deferred(Refusal),
    /// The server refused the token (`refused`) and no fresh one could be had (`why`).
    TokenNotReplaced { refused: Box<Cause>, why: Diagnosis },
    /// Signing in or the configuration failed before any server was asked; the login and the
    /// configuration checks give their errors as diagnoses.
    Diagnosed(Diagnosis),
}

impl Cause {
    fn diagnosis(&self) -> Diagnosis {
        match self {
            Cause::Proto { error, provider } => error.diagnosis(*provider),
            Cause::Gmail(e) => e.diagnosis(),
            Cause::PoolBusy {
                server,
                size,
                waited,
            } => Diagnosis::new(
                Code::ServiceUnavailable,
                format!(
                    "All {size} connections mailgate keeps to `{server}` stayed busy with other messages for {} seconds.",
                    waited.as_secs()
                ),
                "Nothing to change: mailgate retries with backoff. If it recurs, raise send.connections_per_server (if the server allows more connections) or look for a server that answers slowly.",
            ),
            Cause::Deferred(refusal) => mailgate_domain::troubleshoot::smtp_reply(
                &format!("RCPT TO:<{}>", refusal.address),
                &refusal.reply,
            ),
            Cause::TokenNotReplaced { refused, why } => {
                why.clone().after_refused_token(&refused.diagnosis())
            }
            Cause::Diagnosed(diagnosis) => diagnosis.clone(),
        }
    }

    /// The server's own words.
    fn server_reply(&self) -> Option<String> {
        match self {
            Cause::Proto { error, .. } => error.server_reply().map(str::to_owned),
            Cause::Gmail(e) => e.server_reply(),
            Cause::Deferred(refusal) => Some(refusal.reply.clone()),
            Cause::TokenNotReplaced { refused, .. } => refused.server_reply(),
            Cause::PoolBusy { .. } | Cause::Diagnosed(_) => None,
        }
    }

    /// What the provider said in a SASL challenge (XOAUTH2 JSON).
    fn challenge(&self) -> Option<String> {
        match self {
            Cause::Proto { error, .. } => error.sasl_challenge().map(str::to_owned),
            Cause::TokenNotReplaced { refused, .. } => refused.challenge(),
            _ => None,
        }
    }
}

#[derive(Debug)]
pub(crate) struct Failure {
    pub class: Class,
    pub cause: Cause,
    pub retry_after: Option<Duration>,
}

impl Failure {
    /// A server that cannot be used for a reason already diagnosed (login, configuration).
    pub fn unavailable(diagnosis: Diagnosis) -> Self {
        Self {
            class: Class::Unavailable,
            cause: Cause::Diagnosed(diagnosis),
            retry_after: None,
        }
    }

    fn of_proto(server: &RouteServer, error: ProtoError, class: Class) -> Self {
        Self {
            class,
            cause: Cause::Proto {
                error,
                provider: server.provider,
            },
            retry_after: None,
        }
    }

    /// Every connection to the server stayed busy with other messages for `waited`: retried
    /// later through the same route (the server works; it is mailgate's own limit).
    pub fn pool_busy(server: &RouteServer, size: usize, waited: Duration) -> Self {
        Self {
            class: Class::Transient,
            cause: Cause::PoolBusy {
                server: server.name.clone(),
                size,
                waited,
            },
            retry_after: None,
        }
    }

    /// Connecting or signing in failed: the server is unavailable.
    pub fn connection(server: &RouteServer, e: ProtoError) -> Self {
        Self::of_proto(server, e, Class::Unavailable)
    }

    /// The server refused the token (`refused`) and no fresh one could be had (`why`: a
    /// revoked grant, a provider down): unavailable, with the token's diagnosis first and the
    /// server's words and SASL challenge kept.
    pub fn token_not_replaced(refused: Failure, why: Diagnosis) -> Self {
        Self {
            class: Class::Unavailable,
            cause: Cause::TokenNotReplaced {
                refused: Box::new(refused.cause),
                why,
            },
            retry_after: refused.retry_after,
        }
    }

    /// The server refused the message (or the connection broke while sending it).
    pub fn transaction(server: &RouteServer, e: ProtoError) -> Self {
        let class = if e.is_transient() {
            Class::Transient
        } else {
            Class::Permanent
        };
        Self::of_proto(server, e, class)
    }

    /// A recipient refused for now: the message is retried later for it.
    pub fn deferred(refusal: Refusal) -> Self {
        Self {
            class: Class::Transient,
            cause: Cause::Deferred(refusal),
            retry_after: None,
        }
    }

    /// A Gmail API answer: a refused token or permission, or a request that never reached
    /// Google, makes the server unavailable; rate limits, server errors and requests left
    /// without an answer pass; other refusals are final.
    pub fn gmail(e: GmailError) -> Self {
        let class = match &e {
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
            retry_after: e.retry_after(),
            cause: Cause::Gmail(e),
        }
    }

    /// The diagnosis for people (Test Connection's steps, logs).
    pub fn diagnosis(&self) -> Diagnosis {
        self.cause.diagnosis()
    }

    /// The diagnosis as a message shows it (its result, its answers, its events): the
    /// severity says what becomes of the message, so that status and severity agree. Given
    /// up (`Fate::Final`): `permanent`. Still to be retried (`Fate::Retried`): never
    /// `permanent` (the catalog's severity speaks of the server or credential, e.g. a disabled
    /// server, and the message may still go through another one or once it is fixed), so
    /// `transient`, or `reauthorize` when a grant must be renewed before it can go.
    pub fn diagnosis_as(&self, fate: Fate) -> Diagnosis {
        let mut diagnosis = self.diagnosis();
        diagnosis.severity = match (fate, diagnosis.severity) {
            (Fate::Final, _) => Severity::Permanent,
            (Fate::Retried, Severity::Permanent) => Severity::Transient,
            (Fate::Retried, severity) => severity,
        };
        diagnosis
    }

    /// The error, the server's words and the challenge, as a message shows them.
    pub fn error(&self, fate: Fate) -> RoundError {
        RoundError {
            error: self.diagnosis_as(fate),
            server_reply: self.cause.server_reply(),
            challenge: self.cause.challenge(),
        }
    }

    /// The failure as a round's result or a server's answer records it.
    pub fn detail(&self, fate: Fate) -> RoundResult {
        RoundResult::failed(self.error(fate))
    }
}
