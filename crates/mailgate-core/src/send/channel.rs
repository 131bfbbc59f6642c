//! A way to send through one server, opened before the message is looked at: a signed-in SMTP
//! connection from the pool, or a Gmail API client with an access token. Opening proves the
//! server usable, so that one that cannot be used hands the message to the next server before
//! its recipient filter decides anything.

use super::failure::Failure;
use super::message::render;
use super::pool::Lease;
use super::route::RouteServer;
use super::settled::{Accepted, Settled, refusals, unsettled};
use crate::Core;
use crate::login;
use crate::objects::OutgoingServers;
use crate::tokens::CredentialKey;
use mailgate_domain::mail::compose::Draft;
use mailgate_domain::outbox::ServerAnswer;
use mailgate_domain::outgoing::OutgoingTransport;
use mailgate_domain::troubleshoot::Diagnosis;
use mailgate_proto::error::ProtoError;
use mailgate_proto::gmail::{GmailClient, GmailError};
use mailgate_proto::sasl::Credentials;
use mailgate_proto::smtp::Envelope;
use mailgate_store::OutboxRow;
use secrecy::SecretString;

pub(super) enum Channel {
    Smtp(Lease),
    Gmail {
        client: GmailClient,
        token: SecretString,
        /// The credential the token came from (to replace a token Google refuses).
        key: Option<CredentialKey>,
    },
}

impl Channel {
    /// Signs in to `server`: unavailable when it cannot be reached or refuses the login.
    pub(super) async fn open(core: &Core, server: &RouteServer) -> Result<Self, Failure> {
        match &server.spec.transport {
            OutgoingTransport::Smtp { .. } => {
                Ok(Self::Smtp(core.smtp.lend(core, server, true).await?))
            }
            OutgoingTransport::GmailApi { api_base_url } => {
                let login = login::login::<OutgoingServers>(
                    core,
                    server.id,
                    &server.spec.auth,
                    server.spec.email.as_str(),
                    true,
                )
                .await
                .map_err(|e| Failure::unavailable(e.into()))?;
                let (token, key) = gmail_token(login).map_err(Failure::unavailable)?;
                Ok(Self::Gmail {
                    client: GmailClient::new(core.http.clone(), api_base_url),
                    token,
                    key,
                })
            }
        }
    }

    /// Lets go of a channel not used (a pooled connection goes back to the pool).
    pub(super) fn close(self, core: &Core) {
        if let Self::Smtp(lease) = self {
            core.smtp.give_back(core, lease);
        }
    }

    /// Sends the message as `draft` has it to the recipients `settled` leaves: over SMTP only
    /// those get it, the headers naming everyone; the Gmail API takes the recipients from the
    /// headers, which then name only those.
    pub(super) async fn send(
        self,
        core: &Core,
        server: &RouteServer,
        draft: &Draft,
        settled: &Settled,
        row: &OutboxRow,
    ) -> Result<(Accepted, Vec<u8>), Failure> {
        match self {
            Self::Smtp(lease) => smtp(core, server, lease, draft, settled, row).await,
            Self::Gmail { client, token, key } => {
                // Gmail takes the recipients from the headers, Bcc included (and removes it).
                let draft = &unsettled(draft, settled);
                let raw = render(draft, row, server, true);
                let (client, raw_ref) = (&client, &raw);
                let answer = gmail_call(core, token, key.as_ref(), |token| async move {
                    client.send_raw(&token, "me", raw_ref).await
                })
                .await?;
                let reply = match answer {
                    Ok(sent) => ServerAnswer::Gmail {
                        id: sent.id,
                        thread_id: sent.thread_id,
                    },
                    // Google said yes, in words mailgate cannot read (a proxy's page): it took
                    // the message, which must not go out again.
                    Err(GmailError::BadAnswer { status, detail })
                        if (200..300).contains(&status) =>
                    {
                        ServerAnswer::GmailUnreadable {
                            status,
                            unreadable_answer: detail,
                        }
                    }
                    Err(e) => return Err(Failure::gmail(e)),
                };
                let accepted = Accepted {
                    recipients: draft
                        .recipients()
                        .iter()
                        .map(|a| a.as_str().to_owned())
                        .collect(),
                    rejected: Vec::new(),
                    deferred: Vec::new(),
                    reply,
                };
                Ok((accepted, raw))
            }
        }
    }
}

/// The access token a Gmail API server's login holds, and its credential (to replace it).
pub(crate) fn gmail_token(
    login: Option<login::Login>,
) -> Result<(SecretString, Option<CredentialKey>), Diagnosis> {
    match login {
        Some(login::Login {
            credentials: Credentials::XOAuth2 { token, .. },
            key,
            ..
        }) => Ok((token, key)),
        _ => Err(login::config(
            "the Gmail API needs an OAuth app or a service account",
        )),
    }
}

/// A Gmail API call with `token`; when Google refuses the token, once more with a fresh one of
/// the credential `key` (as SMTP logins are retried). `Err` only when no fresh token could be
/// had, with Google's refusal kept; the call's own answer otherwise.
pub(crate) async fn gmail_call<T, F, Fut>(
    core: &Core,
    token: SecretString,
    key: Option<&CredentialKey>,
    call: F,
) -> Result<Result<T, GmailError>, Failure>
where
    F: Fn(SecretString) -> Fut,
    Fut: std::future::Future<Output = Result<T, GmailError>>,
{
    match (call(token.clone()).await, key) {
        (Err(e), Some(key)) if e.is_auth() => {
            let fresh = crate::tokens::replace_rejected(core, key, &token)
                .await
                .map_err(|why| Failure::token_not_replaced(Failure::gmail(e), why.into()))?;
            Ok(call(fresh.token).await)
        }
        (answer, _) => Ok(answer),
    }
}

async fn smtp(
    core: &Core,
    server: &RouteServer,
    mut lease: Lease,
    draft: &Draft,
    settled: &Settled,
    row: &OutboxRow,
) -> Result<(Accepted, Vec<u8>), Failure> {
    let raw = render(draft, row, server, false);
    let envelope = Envelope {
        from: server.spec.email.as_str().to_owned(),
        recipients: unsettled(draft, settled)
            .recipients()
            .iter()
            .map(|a| a.as_str().to_owned())
            .collect(),
    };
    let mut sent = lease.client.send(&envelope, &raw).await;
    if lease.reused
        && !lease.client.is_usable()
        && !lease.client.message_sent()
        && sent.as_ref().is_err_and(ProtoError::is_transient)
    {
        // The server closed the pooled connection while it was idle: once more on a new one.
        // (Not once the message went out: the server may have taken it.)
        drop(lease);
        lease = core.smtp.lend(core, server, false).await?;
        sent = lease.client.send(&envelope, &raw).await;
    }
    core.smtp.give_back(core, lease);
    let delivery = sent.map_err(|e| Failure::transaction(server, e))?;
    let accepted = Accepted {
        recipients: delivery.accepted.clone(),
        rejected: refusals(&delivery.rejected),
        deferred: refusals(&delivery.deferred),
        reply: ServerAnswer::Smtp(delivery.reply.to_string()),
    };
    Ok((accepted, raw))
}
