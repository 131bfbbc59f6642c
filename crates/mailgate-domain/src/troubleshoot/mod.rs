//! The troubleshooting catalog: every provider and transport failure becomes a stable `code`, a
//! sentence saying what went wrong and an imperative hint saying how to fix it.
//!
//! The API answers, the OAuth callback page, the logs and `mailgate doctor` all speak through
//! this module, so that one failure is described the same way everywhere.
//!
//! Secrets: none of these functions needs a token, a secret, a password or a key, and callers
//! must not pass any (no `Authorization` header, no form body, no raw SASL initial response).
//! Provider text is still scrubbed of anything token-shaped before it lands in a message (see
//! `text::provider_words`), as a second line of defence.
//!
//! Layout: `catalog` holds every code with its severity; one file per area turns raw errors
//! into diagnoses (`oauth` token endpoint, `authorize` OAuth callback, `microsoft` AADSTS
//! numbers, `sasl` XOAUTH2/OAUTHBEARER challenges, `reply` IMAP/POP3/SMTP login replies,
//! `gmail` Gmail API, `transport` network and TLS); `advice` holds the OAuth diagnoses several
//! areas share, `text` the quoting of provider words.

mod advice;
mod authorize;
mod catalog;
mod gmail;
mod grant;
mod microsoft;
mod oauth;
mod reply;
mod sasl;
pub mod setup;
mod text;
mod transport;

#[cfg(test)]
mod tests;

use serde::{Deserialize, Serialize};

pub use authorize::{account_mismatch, authorization_error, email_unverified, scope_not_granted};
pub use catalog::{CATALOG, Code, Entry, RAISED_IN_CORE, lookup};
pub use gmail::{gmail_api_error, gmail_send_scope_missing};
pub use oauth::{Grant, TokenRequest, token_endpoint_error, token_request_error};
pub use reply::{auth_reply, smtp_reply};
pub use sasl::{sasl_failure, xoauth2_challenge};
pub use transport::{TransportFailure, is_transport_failure, transport_error};

/// The redirect URI as it appears in hints until the caller fills in the real one with
/// [`Diagnosis::with_redirect_uri`]. It reads correctly even when left as is: the admin sees the
/// form of the URI to register (`base_url` is `[server] base_url` in the configuration).
pub const REDIRECT_URI_PLACEHOLDER: &str = "{base_url}/oauth/callback";

/// What went wrong and how to fix it. `code` is stable (snake_case), used in API answers and
/// metrics; `message` and `hint` are for people and may be reworded at any time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Diagnosis {
    /// Stable identifier of the failure, one per meaning (see [`CATALOG`]); on the wire as
    /// [`Code::as_str`].
    #[schema(value_type = String)]
    pub code: Code,
    /// What went wrong, as complete sentences, with the provider's own words when it gave any.
    pub message: String,
    /// What to do about it: imperative and concrete (console, tab, setting).
    pub hint: String,
    pub severity: Severity,
}

/// What the caller should do with the failing credential or connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// A configuration problem an admin must fix (wrong client, scope, disabled API...); do not
    /// retry until the configuration changes.
    Permanent,
    /// Retry with backoff; nothing is wrong with the configuration.
    Transient,
    /// The grant is dead or missing: mark the credential "needs re-authorization" and stop
    /// using it until someone signs in again.
    Reauthorize,
}

/// Whose words we are reading. Independent from [`crate::oauth_app::Provider`] so that the
/// catalog can also describe servers that have no OAuth app (password or service account).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ProviderKind {
    Google,
    Microsoft,
    Generic,
}

impl From<crate::oauth_app::Provider> for ProviderKind {
    fn from(provider: crate::oauth_app::Provider) -> Self {
        use crate::oauth_app::Provider;
        match provider {
            Provider::Google => ProviderKind::Google,
            Provider::Microsoft => ProviderKind::Microsoft,
            Provider::Generic => ProviderKind::Generic,
        }
    }
}

impl ProviderKind {
    /// The provider whose mail server `host` is (`smtp.gmail.com`, `outlook.office365.com`...);
    /// [`ProviderKind::Generic`] for any other host.
    pub fn of_host(host: &str) -> Self {
        let host = host.trim_end_matches('.').to_ascii_lowercase();
        let under = |domains: &[&str]| {
            domains
                .iter()
                .any(|d| host == *d || host.ends_with(&format!(".{d}")))
        };
        if under(&[
            "gmail.com",
            "googlemail.com",
            "google.com",
            "googleapis.com",
        ]) {
            ProviderKind::Google
        } else if under(&["office365.com", "outlook.com", "hotmail.com", "live.com"]) {
            ProviderKind::Microsoft
        } else {
            ProviderKind::Generic
        }
    }

    /// The provider's name as an admin knows it, for sentences.
    pub fn display_name(self) -> &'static str {
        match self {
            ProviderKind::Google => "Google",
            ProviderKind::Microsoft => "Microsoft",
            ProviderKind::Generic => "The provider",
        }
    }

    /// Picks the hint that names this provider's consoles.
    fn pick<'a>(self, google: &'a str, microsoft: &'a str, generic: &'a str) -> &'a str {
        match self {
            ProviderKind::Google => google,
            ProviderKind::Microsoft => microsoft,
            ProviderKind::Generic => generic,
        }
    }
}

/// The mail protocol whose login failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MailProtocol {
    Imap,
    Pop3,
    Smtp,
}

impl MailProtocol {
    pub fn display_name(self) -> &'static str {
        match self {
            MailProtocol::Imap => "IMAP",
            MailProtocol::Pop3 => "POP3",
            MailProtocol::Smtp => "SMTP",
        }
    }
}

impl From<crate::incoming::IncomingProtocol> for MailProtocol {
    fn from(protocol: crate::incoming::IncomingProtocol) -> Self {
        use crate::incoming::IncomingProtocol;
        match protocol {
            IncomingProtocol::Imap => MailProtocol::Imap,
            IncomingProtocol::Pop3 => MailProtocol::Pop3,
        }
    }
}

impl Diagnosis {
    /// Builds a diagnosis for a catalog code; the catalog fixes the severity so that one code
    /// never means two things.
    pub fn new(code: impl Into<Code>, message: impl Into<String>, hint: impl Into<String>) -> Self {
        let code = code.into();
        Self {
            code,
            message: message.into(),
            hint: hint.into(),
            severity: code.severity(),
        }
    }

    /// Replaces [`REDIRECT_URI_PLACEHOLDER`] with the exact redirect URI mailgate uses, so the
    /// admin can copy it into the provider's console. A no-op for diagnoses without it.
    pub fn with_redirect_uri(mut self, redirect_uri: &str) -> Self {
        self.message = self.message.replace(REDIRECT_URI_PLACEHOLDER, redirect_uri);
        self.hint = self.hint.replace(REDIRECT_URI_PLACEHOLDER, redirect_uri);
        self
    }

    pub fn is_transient(&self) -> bool {
        self.severity == Severity::Transient
    }

    pub fn is_permanent(&self) -> bool {
        self.severity == Severity::Permanent
    }

    /// A token refused again right after a successful refresh is not a stale token any more:
    /// the grant itself is wrong (another account, a revoked scope), so someone must authorize
    /// again. Other diagnoses are returned unchanged.
    pub fn after_fresh_token(self) -> Self {
        if self.code != Code::AccessTokenRejected {
            return self;
        }
        Diagnosis::new(
            catalog::AUTH_FAILED,
            format!(
                "{} It was refused again with a freshly refreshed token.",
                self.message
            ),
            "Authorize the server again and sign in as the server's email address; check that the OAuth app's scopes include the provider's mail scope.",
        )
    }

    /// No new access token could be had (this diagnosis) after the mail server refused the one
    /// in store (`refused`): the provider's answer leads, since its fix is the one to apply, and
    /// the server's refusal is told after it.
    pub fn after_refused_token(self, refused: &Diagnosis) -> Self {
        if self.code == refused.code {
            return self;
        }
        Diagnosis {
            message: format!(
                "{} Before that, the mail server refused the access token in store: {}",
                self.message, refused.message
            ),
            ..self
        }
    }

    /// True when the credential must be marked "needs re-authorization".
    pub fn needs_reauthorization(&self) -> bool {
        self.severity == Severity::Reauthorize
    }
}

impl std::fmt::Display for Diagnosis {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {} Fix: {}", self.code, self.message, self.hint)
    }
}

impl std::error::Error for Diagnosis {}
