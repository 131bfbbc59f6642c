//! Why a consent failed, typed where it is known; its diagnosis (the page the browser lands on,
//! the `consent.failed` event) is built only from here.

use crate::token_error::TokenError;
use mailgate_domain::error_chain;
use mailgate_domain::troubleshoot::{Code, Diagnosis, Severity};
use mailgate_store::StateUse;

/// A consent that did not end with a stored grant.
#[derive(Debug, thiserror::Error)]
pub enum ConsentError {
    /// The `state` is missing or unknown: the sign-in did not start from mailgate.
    #[error("the consent's state is unknown")]
    StateUnknown,
    /// The `state` is older than its 10 minutes.
    #[error("the consent's state expired")]
    StateExpired,
    /// The `state` was already used.
    #[error("the consent's state was already used")]
    StateReused,
    /// The server the consent was for is gone, or no longer uses an OAuth app.
    #[error("the server of this consent is gone")]
    ServerGone,
    /// The provider sent no refresh token with the grant.
    #[error("the provider sent no refresh token")]
    NoRefreshToken,
    /// The provider did not say who signed in.
    #[error("the provider did not say who signed in")]
    AccountUnknown,
    /// The provider refused, or mailgate refused what it granted: the catalog's reading.
    #[error(transparent)]
    Refused(Diagnosis),
    /// The code exchange (or the userinfo request) failed.
    #[error(transparent)]
    Token(#[from] TokenError),
    /// mailgate failed inside (its store, its key): logged with its chain at the edge.
    #[error("the consent failed inside mailgate")]
    Internal(#[source] Box<dyn std::error::Error + Send + Sync>),
}

impl ConsentError {
    /// Why a `state` the store did not hand over cannot be used.
    pub fn state(usage: StateUse) -> Self {
        match usage {
            StateUse::Expired => ConsentError::StateExpired,
            StateUse::AlreadyUsed => ConsentError::StateReused,
            StateUse::Unknown | StateUse::Taken(_) => ConsentError::StateUnknown,
        }
    }

    pub fn internal(e: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> Self {
        ConsentError::Internal(e.into())
    }

    /// What the browser's page (and the event) says. An internal failure's chain is logged
    /// here, once, and never shown.
    pub fn diagnosis(&self) -> Diagnosis {
        match self {
            ConsentError::StateExpired => state_problem(
                Code::OauthStateExpired,
                "this sign-in link is older than 10 minutes",
            ),
            ConsentError::StateReused => {
                state_problem(Code::OauthStateReused, "this sign-in link was already used")
            }
            ConsentError::StateUnknown => state_problem(
                Code::OauthStateInvalid,
                "this sign-in did not start from mailgate (its `state` is missing or unknown)",
            ),
            ConsentError::ServerGone => Diagnosis::new(
                Code::ServerGone,
                "the server this sign-in was for no longer exists or no longer uses an OAuth app",
                "check the server's configuration and start the authorization again",
            ),
            ConsentError::NoRefreshToken => Diagnosis::new(
                Code::NoRefreshToken,
                "the provider granted access but sent no refresh token, so access would end within the hour",
                "remove this app's access in the account's security settings (for Google: myaccount.google.com > Security > Third-party access) and connect again",
            ),
            ConsentError::AccountUnknown => Diagnosis::new(
                Code::AccountUnknown,
                "the provider did not say which account signed in, so mailgate cannot check it is the server's mailbox",
                "add the scopes `openid email` to the OAuth app (they are in the google and microsoft presets) and set its userinfo URL",
            ),
            ConsentError::Refused(d) => d.clone(),
            ConsentError::Token(e) => e.diagnosis().clone(),
            ConsentError::Internal(e) => {
                tracing::error!(error = %error_chain(e.as_ref()), "consent failed inside mailgate");
                Diagnosis::new(
                    Code::Internal,
                    "mailgate could not complete the sign-in; the server log has the details",
                    "try again; if it persists, read the log",
                )
            }
        }
    }
}

fn state_problem(code: Code, message: &str) -> Diagnosis {
    Diagnosis {
        code,
        message: message.into(),
        hint: "start again with POST /api/v1/incoming-servers/{id}/authorize (or outgoing-servers)"
            .into(),
        severity: Severity::Permanent,
    }
}
