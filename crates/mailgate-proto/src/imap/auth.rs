//! IMAP login through async-imap: `AUTHENTICATE` (XOAUTH2, OAUTHBEARER, PLAIN) or `LOGIN`.
//!
//! async-imap's `Authenticator` is synchronous and called once per server continuation: the
//! first call (the server's empty `+ `) gets the initial response, which is why the token must
//! be at hand before login; a second call is the failure challenge, kept for the diagnosis and
//! answered as the mechanism wants (empty for XOAUTH2, `\x01` for OAUTHBEARER). async-imap
//! sends no SASL-IR initial response, so a login costs one round trip more than it could.

use super::ImapClient;
use super::session::{ImapSession, io_error};
use super::words::from_async_imap;
use crate::error::{Peer, ProtoError};
use crate::sasl::{Credentials, Mechanism};
use async_imap::error::{Error as ImapError, ParseError};
use mailgate_domain::troubleshoot::MailProtocol;
use secrecy::{ExposeSecret, SecretSlice};
use std::fmt::Debug;
use tokio::io::{AsyncRead, AsyncWrite};

/// The SASL exchange as async-imap drives it.
struct SaslExchange {
    initial: Option<SecretSlice<u8>>,
    answer: &'static [u8],
    challenge: Option<String>,
}

impl async_imap::Authenticator for &mut SaslExchange {
    type Response = Vec<u8>;

    fn process(&mut self, challenge: &[u8]) -> Vec<u8> {
        if let Some(initial) = self.initial.take() {
            return initial.expose_secret().to_vec();
        }
        if self.challenge.is_none() {
            self.challenge = Some(String::from_utf8_lossy(challenge).into_owned());
        }
        self.answer.to_vec()
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin + Debug + Send> ImapClient<S> {
    /// Logs in and returns the session (with the capabilities the server lists after login).
    /// OAuth credentials use `AUTHENTICATE XOAUTH2` / `OAUTHBEARER`; a password uses
    /// `AUTHENTICATE PLAIN` when offered, else `LOGIN`. A refusal is [`ProtoError::Auth`] with
    /// the final `NO` and, for OAuth, the decoded JSON challenge.
    pub async fn login(self, creds: &Credentials) -> Result<ImapSession<S>, ProtoError> {
        let mechanism = creds.mechanism();
        let caps = &self.capabilities;
        let use_login = mechanism == Mechanism::Plain && !caps.has_auth("PLAIN");
        if use_login && caps.has("LOGINDISABLED") {
            return Err(self
                .peer
                .not_offered("LOGIN before TLS (LOGINDISABLED: use starttls or ssl)"));
        }
        if !use_login && !caps.is_empty() && !caps.has_auth(mechanism.name()) {
            return Err(self.peer.not_offered(format!("AUTH={}", mechanism.name())));
        }
        if self.busy {
            return Err(ProtoError::Unusable);
        }
        let (timed, peer, options, _) = self.into_stream()?;
        let client = async_imap::Client::new(timed);
        let mut exchange = SaslExchange {
            initial: Some(creds.initial_response()),
            answer: mechanism.failure_answer(),
            challenge: None,
        };
        let (result, name) = if use_login {
            let r = client.login(creds.user(), creds.secret()).await;
            (r, "LOGIN")
        } else {
            let r = client.authenticate(mechanism.name(), &mut exchange).await;
            (r, mechanism.name())
        };
        match result {
            Ok(session) => ImapSession::start(session, peer, options).await,
            Err((e, _client)) => Err(login_error(&peer, creds, name, e, exchange.challenge)),
        }
    }
}

/// A failed login, with the server's words scrubbed of the credential.
fn login_error(
    peer: &Peer,
    creds: &Credentials,
    mechanism: &'static str,
    e: ImapError,
    challenge: Option<String>,
) -> ProtoError {
    let what = format!("the answer to {mechanism}");
    let refused = |status: &str, rendered: &str| ProtoError::Auth {
        protocol: MailProtocol::Imap,
        mechanism,
        reply: creds.scrub(&from_async_imap(status, rendered)),
        challenge: challenge.clone(),
    };
    match e {
        ImapError::No(rendered) => refused("NO", &rendered),
        ImapError::Bad(rendered) => refused("BAD", &rendered),
        ImapError::ConnectionLost => peer.closed(&what),
        ImapError::Io(e) => io_error(peer, &what, e),
        ImapError::Parse(ParseError::Authentication(text, _)) => {
            peer.protocol_error("a SASL challenge that is not base64", text.as_bytes())
        }
        ImapError::Validate(v) => ProtoError::InvalidInput(format!(
            "the user name or password contains a character IMAP LOGIN cannot carry ({:?})",
            v.0
        )),
        other => peer.protocol_error(
            format!("an answer to {mechanism} async-imap could not read"),
            creds.scrub(&other.to_string()).as_bytes(),
        ),
    }
}
