//! Why a login could not be prepared, sorted once into what the caller does about it.
//!
//! Retry, re-authorize and configuration decisions match on the variant; the [`Diagnosis`] each
//! carries is what a person reads (API answers, events, logs, `mailgate doctor`).

use mailgate_domain::troubleshoot::{Code, Diagnosis, Severity, is_transport_failure};

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
    /// Sorts a diagnosis of the token path: the one place that decides, by its code and the
    /// severity the catalog fixes for it.
    pub fn classify(diagnosis: Diagnosis) -> Self {
        if diagnosis.code == Code::ServerMisconfigured {
            TokenError::Misconfigured(diagnosis)
        } else if diagnosis.severity == Severity::Transient || is_transport_failure(&diagnosis) {
            TokenError::Unavailable(diagnosis)
        } else {
            TokenError::Refused(diagnosis)
        }
    }

    /// What a person reads about it.
    pub fn diagnosis(&self) -> &Diagnosis {
        match self {
            TokenError::Refused(d) | TokenError::Unavailable(d) | TokenError::Misconfigured(d) => d,
        }
    }
}

impl From<TokenError> for Diagnosis {
    fn from(error: TokenError) -> Self {
        match error {
            TokenError::Refused(d) | TokenError::Unavailable(d) | TokenError::Misconfigured(d) => d,
        }
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
