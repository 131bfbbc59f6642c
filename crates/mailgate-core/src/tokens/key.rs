//! What identifies a credential, and which one a server signs in with.

use mailgate_domain::Id;
use mailgate_domain::server::Auth;
use mailgate_store::{CredentialKind, CredentialRow};

pub const SCOPE_MAIL: &str = "https://mail.google.com/";
pub const SCOPE_GMAIL_SEND: &str = "https://www.googleapis.com/auth/gmail.send";

/// What identifies a credential.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CredentialKey {
    pub kind: CredentialKind,
    /// The OAuth app or the service account.
    pub owner_id: Id,
    /// The mailbox, lower-cased.
    pub subject: String,
    /// Service accounts: the scope asked for; OAuth grants: empty.
    pub scope: String,
}

impl CredentialKey {
    /// Sealed tokens are bound to the key (not to the row id, which a new consent may keep).
    pub(super) fn aad(&self) -> String {
        format!(
            "credentials:{}:{}:{}:{}",
            self.kind.as_str(),
            self.owner_id,
            self.subject,
            self.scope
        )
    }

    pub(super) fn of(row: &CredentialRow) -> Self {
        Self {
            kind: row.kind,
            owner_id: row.owner_id,
            subject: row.subject.clone(),
            scope: row.scope.clone(),
        }
    }

    /// The credential a server authenticates with: the grant of its OAuth app for its mailbox,
    /// or its service account acting as the mailbox with the scope its protocol needs. `None`
    /// for password or no authentication.
    pub fn for_server(auth: &Auth, mailbox: &str, gmail_api: bool) -> Option<Self> {
        let subject = mailbox.to_lowercase();
        match auth {
            Auth::Oauth {
                oauth_app_id: Some(app),
                ..
            } => Some(Self {
                kind: CredentialKind::OAuthGrant,
                owner_id: *app,
                subject,
                scope: String::new(),
            }),
            Auth::Oauth {
                service_account_id: Some(account),
                ..
            } => {
                let scope = if gmail_api {
                    SCOPE_GMAIL_SEND
                } else {
                    SCOPE_MAIL
                };
                Some(Self {
                    kind: CredentialKind::ServiceAccount,
                    owner_id: *account,
                    subject,
                    scope: scope.to_owned(),
                })
            }
            _ => None,
        }
    }
}
