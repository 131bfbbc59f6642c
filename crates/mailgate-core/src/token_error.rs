//! Why an access token (or a password) could not be had, sorted once, where the failure is
//! known, into what the caller does about it.
//!
//! The token path returns this, never a bare [`Diagnosis`]: retry, re-authorize and
//! configuration decisions match on the variant ([`TokenError::is_transient`] and
//! [`TokenError::needs_reauthorization`] for the credential's own record), and the diagnosis each
//! carries (its catalog `Code` and the words for people) is read only at the edges: API answers,
//! events, logs, `mailgate doctor` and the credential's stored `last_error`.

use mailgate_domain::error_chain;
use mailgate_domain::troubleshoot::{Code, Diagnosis, Severity, is_transport_failure};
use mailgate_store::StoreError;

/// No access token (or password) for a login.
#[derive(Debug, Clone, thiserror::Error)]
pub enum TokenError {
    /// The provider refuses the credential, or there is none: a dead or missing grant, a client
    /// or a delegation it refuses. Someone must act before it can work again.
    #[error(transparent)]
    Refused(Diagnosis),
    /// None for now: the database or the token endpoint failed, a network or TLS failure
    /// included (the provider refused nothing). Retry later.
    #[error(transparent)]
    Unavailable(Diagnosis),
    /// The server's configuration in mailgate cannot be used as it is.
    #[error(transparent)]
    Misconfigured(Diagnosis),
}

impl TokenError {
    /// Sorts what the catalog read in a provider's answer (or in a credential's stored reason):
    /// the one place that decides, by its code and the severity the catalog fixes for it.
    pub fn classify(diagnosis: Diagnosis) -> Self {
        if diagnosis.code == Code::ServerMisconfigured {
            TokenError::Misconfigured(diagnosis)
        } else if diagnosis.severity == Severity::Transient || is_transport_failure(&diagnosis) {
            TokenError::Unavailable(diagnosis)
        } else {
            TokenError::Refused(diagnosis)
        }
    }

    /// The token store failed: none for now. The store's error chain is logged here, once; a
    /// person reads that mailgate's database failed.
    pub fn store(e: &StoreError) -> Self {
        tracing::error!(error = %error_chain(e), "token store failure");
        TokenError::Unavailable(Diagnosis::new(
            Code::Internal,
            "mailgate could not read or write its token store",
            "check the database; the server log has the details",
        ))
    }

    /// The catalog says to try again later: a credential keeps its token and backs off.
    pub fn is_transient(&self) -> bool {
        self.diagnosis().severity == Severity::Transient
    }

    /// The grant ended: someone must sign in and consent again.
    pub fn needs_reauthorization(&self) -> bool {
        self.diagnosis().severity == Severity::Reauthorize
    }

    /// The same failure, told after the mail server refused the token in store (`refused`).
    pub fn after_refused_token(self, refused: &Diagnosis) -> Self {
        match self {
            TokenError::Refused(d) => TokenError::Refused(d.after_refused_token(refused)),
            TokenError::Unavailable(d) => TokenError::Unavailable(d.after_refused_token(refused)),
            TokenError::Misconfigured(d) => {
                TokenError::Misconfigured(d.after_refused_token(refused))
            }
        }
    }

    /// What a person reads about it.
    pub fn diagnosis(&self) -> &Diagnosis {
        match self {
            TokenError::Refused(d) | TokenError::Unavailable(d) | TokenError::Misconfigured(d) => d,
        }
    }

    /// What a person reads about it, taken out.
    pub fn into_diagnosis(self) -> Diagnosis {
        match self {
            TokenError::Refused(d) | TokenError::Unavailable(d) | TokenError::Misconfigured(d) => d,
        }
    }
}

impl From<TokenError> for Diagnosis {
    fn from(error: TokenError) -> Self {
        error.into_diagnosis()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mailgate_domain::troubleshoot::{TransportFailure, setup, transport_error};

    fn coded(code: Code) -> Diagnosis {
        Diagnosis::new(code, "It happened.", "Do something.")
    }

    #[test]
    fn a_token_path_failure_is_sorted_by_what_the_caller_does() {
        assert!(matches!(
            TokenError::classify(setup::server_misconfigured("no password is stored")),
            TokenError::Misconfigured(_)
        ));
        for d in [
            coded(Code::OauthGrantRevoked),
            coded(Code::AuthorizationRequired),
            coded(Code::DelegationNotGranted),
            coded(Code::ServiceAccountKeyUnusable),
        ] {
            assert!(
                matches!(TokenError::classify(d.clone()), TokenError::Refused(_)),
                "{}",
                d.code
            );
        }
        for d in [
            coded(Code::Internal),
            coded(Code::ServiceUnavailable),
            // Permanent in the catalog, but the provider refused nothing.
            transport_error(TransportFailure::Tls {
                host: "oauth2.googleapis.com".into(),
                detail: "handshake".into(),
            }),
        ] {
            assert!(
                matches!(TokenError::classify(d.clone()), TokenError::Unavailable(_)),
                "{}",
                d.code
            );
        }
    }
}
