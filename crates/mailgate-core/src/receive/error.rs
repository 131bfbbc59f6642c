//! How a mailbox session fails: a credential the provider refused, a token that cannot be had
//! for now, the mail server, the store, a configuration that cannot be used, or a bug.

use crate::token_error::TokenError;
use mailgate_domain::troubleshoot::{Code, Diagnosis, ProviderKind};
use mailgate_proto::error::ProtoError;
use mailgate_store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum WatchError {
    /// The provider refused the credential (a revoked or missing grant, a wrong client...).
    #[error("{}", .0.message)]
    Credential(Diagnosis),
    /// No token could be had for now (the token endpoint or the database failed): retried
    /// after a pause, never reported as an authentication failure.
    #[error("{}", .0.message)]
    TokenUnavailable(Diagnosis),
    #[error(transparent)]
    Proto(#[from] ProtoError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("{0}")]
    Config(String),
    /// A task of the mailbox's pipeline failed (a bug): the session is retried.
    #[error("{0}")]
    Internal(String),
}

impl WatchError {
    pub fn diagnosis(&self) -> Diagnosis {
        self.diagnosis_for(ProviderKind::Generic)
    }

    /// The diagnosis, with the fixes of `provider` for what the mail server said.
    pub fn diagnosis_for(&self, provider: ProviderKind) -> Diagnosis {
        match self {
            WatchError::Credential(d) | WatchError::TokenUnavailable(d) => d.clone(),
            WatchError::Proto(e) => e.diagnosis(provider),
            WatchError::Store(e) => {
                Diagnosis::new(Code::Internal, e.to_string(), "check the database")
            }
            WatchError::Internal(m) => Diagnosis::new(
                Code::Internal,
                m.clone(),
                "this is a bug in mailgate; the mailbox is read again after a pause",
            ),
            // The server's configuration cannot be used: the catalog's code for it (this was
            // `internal` with a permanent severity, which gave one code two meanings).
            WatchError::Config(m) => Diagnosis::new(
                Code::ServerMisconfigured,
                m.clone(),
                "check the server's configuration",
            ),
        }
    }

    /// The provider or the mail server refused the credential: worth a `server.auth_failed`
    /// event. A token endpoint or a database that failed for now is not.
    pub fn is_auth(&self) -> bool {
        match self {
            WatchError::Credential(_) => true,
            WatchError::Proto(e) => e.is_auth(),
            _ => false,
        }
    }

    /// A login that could not be prepared: sorted into a configuration problem, a refusal by
    /// the provider (a dead or missing grant, a client or a delegation it refuses), or a token
    /// that cannot be had for now: the database or the token endpoint failed, a network or TLS
    /// failure included (the provider refused nothing).
    pub fn from_login(e: TokenError) -> Self {
        match e {
            TokenError::Misconfigured(d) => WatchError::Config(d.message),
            TokenError::Unavailable(d) => WatchError::TokenUnavailable(d),
            TokenError::Refused(d) => WatchError::Credential(d),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tokens;
    use mailgate_domain::troubleshoot::{Severity, TransportFailure, lookup, transport_error};
    use mailgate_proto::error::MailProtocol;

    fn coded(code: &'static str) -> Diagnosis {
        let entry = lookup(code).unwrap_or_else(|| panic!("{code} is in the catalog"));
        Diagnosis {
            code: entry.code,
            message: format!("{code} happened"),
            hint: "do something".into(),
            severity: entry.severity,
        }
    }

    #[test]
    fn only_a_refusal_of_the_credential_is_an_authentication_failure() {
        // Refused by the provider: a dead grant, a missing consent, a client it refuses.
        let refusals = [
            coded("oauth_grant_revoked"),
            coded("oauth_client_unauthorized"),
            coded("delegation_not_granted"),
            tokens::authorization_required(),
        ];
        for d in refusals {
            let code = d.code.as_str();
            let e = WatchError::from_login(TokenError::classify(d));
            assert!(
                matches!(e, WatchError::Credential(_)) && e.is_auth(),
                "{code}: {e:?}"
            );
        }
        // No token for now: the database or the token endpoint failed.
        let unreachable = [
            // What tokens.rs answers when the database fails.
            Diagnosis {
                code: Code::Internal,
                message: "mailgate could not read or write its token store".into(),
                hint: "check the database".into(),
                severity: Severity::Transient,
            },
            coded("service_unavailable"),
            transport_error(TransportFailure::Refused {
                host: "oauth2.googleapis.com".into(),
                port: 443,
            }),
            transport_error(TransportFailure::Dns {
                host: "oauth2.googleapis.com".into(),
            }),
            transport_error(TransportFailure::TlsUnknownIssuer {
                host: "oauth2.googleapis.com".into(),
            }),
        ];
        for d in unreachable {
            let code = d.code.as_str();
            let e = WatchError::from_login(TokenError::classify(d));
            assert!(
                matches!(e, WatchError::TokenUnavailable(_)) && !e.is_auth(),
                "{code}: {e:?}"
            );
            assert_eq!(e.diagnosis().code, code);
        }
        let e = WatchError::from_login(TokenError::classify(crate::login::config(
            "no password is stored",
        )));
        assert!(matches!(e, WatchError::Config(_)) && !e.is_auth(), "{e:?}");
        // The mail server's refusal.
        let refused = WatchError::Proto(ProtoError::Auth {
            protocol: MailProtocol::Imap,
            mechanism: "XOAUTH2",
            reply: "NO [AUTHENTICATIONFAILED] Invalid credentials".into(),
            challenge: None,
        });
        assert!(refused.is_auth());
    }
}
