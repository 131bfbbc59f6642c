//! Gmail API failures: the network, Google's error answers
//! (`{"error": {"code", "message", "status", "errors": [{"reason", ...}], "details": [...]}}`),
//! and what mailgate refuses before asking.
//!
//! Classification (what callers decide on) is by HTTP status and Google's reasons, as the Gmail
//! API's "Resolve errors" guide has it: 429, 5xx and 403 rate or quota reasons are worth a
//! retry with backoff; 401 means the token was refused (refresh once, retry); any other 4xx
//! will fail the same way again. The diagnosis (what an admin reads) comes from the
//! troubleshooting catalog.

use std::io;
use std::time::Duration;

use chrono::{DateTime, FixedOffset};
use mailgate_domain::troubleshoot::{Diagnosis, ProviderKind, gmail_api_error};
use reqwest::header::{DATE, HeaderMap, RETRY_AFTER};
use serde_json::Value;

use crate::ProtoError;

/// 403 reasons that mean "too much, too fast" (or a daily quota): retry later.
const RATE_REASONS: &[&str] = &[
    "rateLimitExceeded",
    "userRateLimitExceeded",
    "dailyLimitExceeded",
    "quotaExceeded",
    "RATE_LIMIT_EXCEEDED",
];
/// 400 reasons that say the account cannot use Gmail as it is ("Mail service not enabled",
/// "Precondition check failed."): every call fails the same way until an admin acts.
const PRECONDITION_REASONS: &[&str] = &["failedPrecondition", "FAILED_PRECONDITION"];
/// Google's error bodies are short; anything longer is a proxy's page.
const MAX_BODY_CHARS: usize = 2000;
const MAX_QUOTED_CHARS: usize = 200;

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum GmailError {
    /// The request never reached Google: DNS, a refused connection, the TLS handshake. Safe to
    /// send elsewhere.
    #[error("the Gmail API could not be reached: {0}")]
    Transport(ProtoError),
    /// The request went out (or may have) and no complete answer came back: a timeout, a reset,
    /// a body cut short after the status. Google may have acted on it (a message sent): retry
    /// later, never elsewhere at once. See [`may_have_been_sent`](Self::may_have_been_sent).
    #[error("the Gmail API did not answer (the request may have had its effect): {0}")]
    Unanswered(ProtoError),
    /// Google answered with an error status.
    #[error("the Gmail API answered HTTP {}", .google.reply(*.status, .body))]
    Api {
        status: u16,
        google: GoogleError,
        /// From `Retry-After`, or from Google's "Retry after {time}", relative to the answer's
        /// `Date` (the server's clock, not ours).
        retry_after: Option<Duration>,
        /// The answer's body, cut short: what the catalog reads.
        body: String,
    },
    /// A 2xx answer mailgate cannot read. The call may have had its effect (a message sent).
    #[error(
        "the Gmail API answered HTTP {status} with something mailgate does not understand: {detail}"
    )]
    BadAnswer { status: u16, detail: String },
    /// Refused before any request: larger than Gmail accepts.
    #[error("the message is {size} bytes; the Gmail API accepts at most {max} bytes (35 MB)")]
    TooLarge { size: usize, max: usize },
    /// The configured API URL cannot be used.
    #[error("the Gmail API URL `{url}` cannot be used: {detail}")]
    BadBaseUrl { url: String, detail: String },
    /// The caller passed something that cannot be sent.
    #[error("invalid Gmail API request: {0}")]
    InvalidInput(String),
}

// The ProtoError of `Transport` and `Unanswered` is printed in their message and is therefore
// not their `source()`: an error chain would print it twice.

/// The parts of Google's error JSON mailgate uses.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GoogleError {
    /// The google.rpc status: `PERMISSION_DENIED`, `RESOURCE_EXHAUSTED`, ...
    pub status: Option<String>,
    /// `errors[].reason` then `details[].reason` (or an OAuth-style `error`), in order.
    pub reasons: Vec<String>,
    pub message: Option<String>,
}

impl GoogleError {
    /// Reads `{"error": {...}}` or an OAuth-style `{"error": "...", "error_description": "..."}`;
    /// anything else gives an empty value.
    pub fn parse(body: &[u8]) -> Self {
        let Ok(value) = serde_json::from_slice::<Value>(body) else {
            return Self::default();
        };
        let text = |v: Option<&Value>| v.and_then(Value::as_str).map(str::to_owned);
        match value.get("error") {
            Some(Value::Object(e)) => {
                let reasons = ["errors", "details"]
                    .iter()
                    .filter_map(|list| e.get(*list).and_then(Value::as_array))
                    .flatten()
                    .filter_map(|item| text(item.get("reason")))
                    .collect();
                Self {
                    status: text(e.get("status")),
                    reasons,
                    message: text(e.get("message")),
                }
            }
            Some(Value::String(error)) => Self {
                status: None,
                reasons: vec![error.clone()],
                message: text(value.get("error_description")),
            },
            _ => Self::default(),
        }
    }

    pub fn has_reason(&self, names: &[&str]) -> bool {
        self.reasons
            .iter()
            .any(|r| names.iter().any(|n| r.eq_ignore_ascii_case(n)))
    }

    /// `403 PERMISSION_DENIED insufficientPermissions: Request had insufficient authentication
    /// scopes.`; the start of `body` when it is not Google's JSON.
    fn reply(&self, status: u16, body: &str) -> String {
        let mut out = status.to_string();
        for part in [
            self.status.as_deref(),
            self.reasons.first().map(String::as_str),
        ]
        .into_iter()
        .flatten()
        {
            out.push(' ');
            out.push_str(part);
        }
        let said = match &self.message {
            Some(m) => m.as_str(),
            None if self.status.is_none() && self.reasons.is_empty() => body,
            None => "",
        };
        let said = one_line(said, MAX_QUOTED_CHARS);
        if !said.is_empty() {
            out.push_str(": ");
            out.push_str(&said);
        }
        out
    }
}

impl GmailError {
    /// Retry later, with backoff: the network (but not a TLS failure, which is a
    /// configuration problem), 408, 429, 5xx, 403 with a rate or quota reason.
    pub fn is_transient(&self) -> bool {
        match self {
            GmailError::Transport(e) | GmailError::Unanswered(e) => e.is_transient(),
            GmailError::Api { status, google, .. } => {
                matches!(status, 408 | 429 | 500..)
                    || (*status == 403 && google.has_reason(RATE_REASONS))
            }
            _ => false,
        }
    }

    /// The same request will fail the same way: other 4xx (401 included: check
    /// [`is_auth`](Self::is_auth) first), a message too large, an unusable URL, an answer
    /// mailgate cannot read (retrying could send a message twice).
    pub fn is_permanent(&self) -> bool {
        !self.is_transient()
    }

    /// The account or its configuration refuses every call, whatever the message: a refused
    /// token (401), a permission, scope or delegation refused (403 other than rate limits), or
    /// Gmail unusable for the account (400 `failedPrecondition`: "Mail service not enabled",
    /// "Precondition check failed."). Not the message's fault: another server may send it, and
    /// this one is tried again later.
    pub fn is_account_problem(&self) -> bool {
        match self {
            GmailError::Api { status: 401, .. } => true,
            GmailError::Api { status: 403, .. } => !self.is_transient(),
            GmailError::Api {
                status: 400,
                google,
                ..
            } => {
                google.has_reason(PRECONDITION_REASONS)
                    || google
                        .status
                        .as_deref()
                        .is_some_and(|s| PRECONDITION_REASONS.contains(&s))
            }
            _ => false,
        }
    }

    /// Google refused the access token (401): refresh it once and retry; refused again, the
    /// grant is wrong (see [`Diagnosis::after_fresh_token`]).
    pub fn is_auth(&self) -> bool {
        matches!(self, GmailError::Api { status: 401, .. })
    }

    pub fn is_timeout(&self) -> bool {
        matches!(self, GmailError::Transport(e) | GmailError::Unanswered(e) if e.is_timeout())
    }

    /// Whether Google may have acted on the request although mailgate did not read its
    /// answer: no answer after the request went out, or a 2xx answer mailgate cannot read.
    /// Such a send must not be repeated through another route at once.
    pub fn may_have_been_sent(&self) -> bool {
        matches!(
            self,
            GmailError::Unanswered(_) | GmailError::BadAnswer { .. }
        )
    }

    pub fn status(&self) -> Option<u16> {
        match self {
            GmailError::Api { status, .. } | GmailError::BadAnswer { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// How long Google asked to wait, when it said.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            GmailError::Api { retry_after, .. } => *retry_after,
            _ => None,
        }
    }

    /// Google's own words, e.g. `403 PERMISSION_DENIED insufficientPermissions: Request had
    /// insufficient authentication scopes.`
    pub fn server_reply(&self) -> Option<String> {
        match self {
            GmailError::Api {
                status,
                google,
                body,
                ..
            } => Some(google.reply(*status, body)),
            GmailError::BadAnswer { status, detail } => Some(format!("{status}: {detail}")),
            _ => None,
        }
    }

    /// What went wrong and how to fix it, through the troubleshooting catalog.
    pub fn diagnosis(&self) -> Diagnosis {
        match self {
            GmailError::Transport(e) => e.diagnosis(ProviderKind::Google),
            GmailError::Unanswered(e) => {
                let d = e.diagnosis(ProviderKind::Google);
                Diagnosis {
                    message: format!(
                        "{} The request had gone out: Google may have sent the message.",
                        d.message
                    ),
                    hint: format!(
                        "{} mailgate retries later through the same server; the recipient may get the message twice.",
                        d.hint
                    ),
                    ..d
                }
            }
            GmailError::Api { status, body, .. } => gmail_api_error(*status, body),
            GmailError::TooLarge { size, max } => Diagnosis {
                message: format!(
                    "The message is {size} bytes; the Gmail API accepts at most {max} bytes (35 MB), so mailgate did not send it."
                ),
                ..gmail_api_error(413, "")
            },
            GmailError::BadAnswer { status, detail } => Diagnosis {
                message: format!(
                    "The Gmail API answered HTTP {status} with something mailgate does not understand: {detail}."
                ),
                hint: "Check that the server's API URL is https://gmail.googleapis.com (or leave it empty) and that no proxy answers in Google's place. The message may have been sent: look in the mailbox's Sent folder before sending it again.".into(),
                ..gmail_api_error(*status, "")
            },
            GmailError::BadBaseUrl { url, detail } => Diagnosis {
                message: format!("The Gmail API URL `{url}` cannot be used: {detail}."),
                hint: "Set the outgoing server's API URL to https://gmail.googleapis.com, or leave it empty for Google's.".into(),
                ..gmail_api_error(400, "")
            },
            GmailError::InvalidInput(what) => Diagnosis {
                message: format!("mailgate cannot send this to the Gmail API: {what}."),
                hint: "Check the server's email address and the message; the message stays failed until it is corrected and queued again.".into(),
                ..gmail_api_error(400, "")
            },
        }
    }

    /// An error answer: Google's JSON, its `Retry-After`, and the body for the catalog.
    pub fn from_response(status: u16, headers: &HeaderMap, body: &[u8]) -> Self {
        let google = GoogleError::parse(body);
        let retry_after = retry_after(headers, &google);
        let text = String::from_utf8_lossy(body);
        GmailError::Api {
            status,
            retry_after,
            body: text.chars().take(MAX_BODY_CHARS).collect(),
            google,
        }
    }

    pub(super) fn bad_answer(status: u16, error: &serde_json::Error, body: &[u8]) -> Self {
        let text = String::from_utf8_lossy(body);
        GmailError::BadAnswer {
            status,
            detail: format!("{error} in \"{}\"", one_line(&text, MAX_QUOTED_CHARS)),
        }
    }

    /// A request that got no answer, as the dialing errors of the other protocols: a
    /// [`Transport`](Self::Transport) error when it never reached the server (connecting,
    /// DNS, TLS), else [`Unanswered`](Self::Unanswered).
    pub(super) fn transport(base: &str, error: &reqwest::Error) -> Self {
        let failure = Self::proto_error(base, error);
        if error.is_connect() || error.is_dns() || find_tls(error).is_some() {
            GmailError::Transport(failure)
        } else {
            GmailError::Unanswered(failure)
        }
    }

    /// An answer whose status came (the request reached Google) and whose body did not.
    pub(super) fn unanswered(base: &str, error: &reqwest::Error) -> Self {
        GmailError::Unanswered(Self::proto_error(base, error))
    }

    fn proto_error(base: &str, error: &reqwest::Error) -> ProtoError {
        let (host, port) = host_and_port(base);
        // The error and its causes: reqwest's own message says little.
        let detail = mailgate_domain::error_chain(error);
        if error.is_timeout() {
            ProtoError::Timeout {
                host,
                port,
                what: "an answer from the Gmail API".into(),
            }
        } else if let Some(tls) = find_tls(error) {
            let source = io::Error::new(io::ErrorKind::InvalidData, tls);
            ProtoError::Tls {
                host,
                cause: source,
            }
        } else if error.is_dns() {
            ProtoError::Dns { host, detail }
        } else if error.is_connect() {
            let source = io::Error::new(io::ErrorKind::ConnectionRefused, detail);
            ProtoError::Connect {
                host,
                port,
                cause: source,
            }
        } else {
            let source = io::Error::other(detail);
            ProtoError::Io {
                host,
                port,
                cause: source,
            }
        }
    }
}

/// `Retry-After` (seconds or an HTTP date), else Google's "Retry after {RFC 3339 time}" in the
/// message; dates count from the answer's `Date`, so that the two clocks never mix.
fn retry_after(headers: &HeaderMap, google: &GoogleError) -> Option<Duration> {
    let header = |name| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
    };
    let now = header(DATE).and_then(|d| DateTime::parse_from_rfc2822(d).ok());
    let until = |then: DateTime<FixedOffset>| Some((then - now?).to_std().unwrap_or_default());
    if let Some(value) = header(RETRY_AFTER) {
        if let Ok(seconds) = value.parse::<u64>() {
            return Some(Duration::from_secs(seconds));
        }
        if let Ok(then) = DateTime::parse_from_rfc2822(value) {
            return until(then);
        }
    }
    let message = google.message.as_deref()?;
    let (_, after) = message.split_once("Retry after ")?;
    let then = after.split_whitespace().next()?;
    until(DateTime::parse_from_rfc3339(then.trim_end_matches('.')).ok()?)
}

fn host_and_port(base: &str) -> (String, u16) {
    let url = url::Url::parse(base).ok();
    let host = url.as_ref().and_then(|u| u.host_str()).unwrap_or(base);
    let port = url.as_ref().and_then(url::Url::port_or_known_default);
    (host.to_owned(), port.unwrap_or(443))
}

/// The rustls error under a reqwest error, bare or inside an io::Error.
fn find_tls(error: &reqwest::Error) -> Option<rustls::Error> {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(e) = source {
        if let Some(tls) = e.downcast_ref::<rustls::Error>() {
            return Some(tls.clone());
        }
        let inner = e.downcast_ref::<io::Error>().and_then(|io| io.get_ref());
        if let Some(tls) = inner.and_then(|i| i.downcast_ref::<rustls::Error>()) {
            return Some(tls.clone());
        }
        source = e.source();
    }
    None
}

/// At most `max` characters of `text` on one line.
fn one_line(text: &str, max: usize) -> String {
    let words: Vec<&str> = text.split_whitespace().collect();
    words.join(" ").chars().take(max).collect()
}
