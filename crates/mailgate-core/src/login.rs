//! What a server signs in with: a fresh access token of its OAuth grant or service account, or
//! its stored password. Shared by the mailbox watchers, the outbox and Test Connection.

use crate::Core;
use crate::objects::{Objects, Resource};
use crate::token_error::TokenError;
use crate::tokens::{self, CredentialKey};
use mailgate_domain::server::Auth;
use mailgate_domain::troubleshoot::Diagnosis;
use mailgate_domain::{ExposeSecret, Id};
use mailgate_proto::sasl::Credentials;

/// A login ready to use.
pub struct Login {
    pub credentials: Credentials,
    /// When an OAuth token stops working (a session should reconnect before).
    pub expires_at_ms: Option<i64>,
    /// The credential the token came from (to replace a token a server refused).
    pub key: Option<CredentialKey>,
}

impl std::fmt::Debug for Login {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Login")
            .field("user", &self.credentials.user())
            .field("expires_at_ms", &self.expires_at_ms)
            .finish_non_exhaustive()
    }
}

/// The login of server `server_id` (of kind `R`) for `mailbox`. `gmail_api` picks the scope a
/// service account asks for (`gmail.send` instead of full mail access). `None` for a server
/// without authentication.
pub async fn login<R: Resource>(
    core: &Core,
    server_id: Id,
    auth: &Auth,
    mailbox: &str,
    gmail_api: bool,
) -> Result<Option<Login>, TokenError> {
    match auth {
        Auth::Oauth { .. } => {
            let key = CredentialKey::for_server(auth, mailbox, gmail_api).ok_or_else(|| {
                TokenError::Misconfigured(config(
                    "the server names no OAuth app or service account",
                ))
            })?;
            let token = tokens::access_token(core, &key).await?;
            Ok(Some(Login {
                credentials: Credentials::XOAuth2 {
                    user: mailbox.to_owned(),
                    token: token.token,
                },
                expires_at_ms: Some(token.expires_at_ms),
                key: Some(key),
            }))
        }
        Auth::Basic { username } => {
            let (_, _, secrets) = Objects::<R>::load(core, server_id)
                .await
                .map_err(|e| TokenError::Misconfigured(config(&e.to_string())))?;
            let password = secrets.get("password").ok_or_else(|| {
                TokenError::Misconfigured(config(
                    "no password is stored; set `password` on the server",
                ))
            })?;
            Ok(Some(Login {
                credentials: Credentials::Plain {
                    user: username.clone(),
                    password: password.expose_secret().into(),
                },
                expires_at_ms: None,
                key: None,
            }))
        }
        Auth::None => Ok(None),
    }
}

/// A server whose configuration cannot be used as it is.
pub fn config(message: &str) -> Diagnosis {
    mailgate_domain::troubleshoot::setup::server_misconfigured(message)
}
