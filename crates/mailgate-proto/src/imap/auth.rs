//! IMAP login through async-imap: `AUTHENTICATE` (XOAUTH2, OAUTHBEARER, PLAIN, LOGIN) or the
//! `LOGIN` command.
//!
//! async-imap's `Authenticator` is synchronous and called once per server continuation: the
//! first call (the server's empty `+ `) gets the initial response, which is why the token must
//! be at hand before login; a second call is the failure challenge, kept for the diagnosis and
//! answered as the mechanism wants (empty for XOAUTH2, `\x01` for OAUTHBEARER). async-imap
//! sends no SASL-IR initial response, so a login costs one round trip more than it could.

use super::failure::io_error;
use super::guard::Guarded;
use super::preauth::ImapClient;
use super::session::ImapSession;
use super::words::from_async_imap;
use crate::error::{Peer, ProtoError};
use crate::sasl::{Credentials, Mechanism, choose};
use async_imap::error::{Error as ImapError, ParseError};
use mailgate_domain::troubleshoot::MailProtocol;
use secrecy::{ExposeSecret, SecretSlice};
use std::collections::VecDeque;
use std::fmt::Debug;
use tokio::io::{AsyncRead, AsyncWrite};

/// The SASL exchange as async-imap drives it.
struct SaslExchange {
    /// What the next continuations get, in order: the initial response, or LOGIN's user name
    /// then password.
    responses: VecDeque<SecretSlice<u8>>,
    answer: &'static [u8],
    challenge: Option<String>,
}

impl async_imap::Authenticator for &mut SaslExchange {
    type Response = Vec<u8>;

    fn process(&mut self, challenge: &[u8]) -> Vec<u8> {
        if let Some(next) = self.responses.pop_front() {
            return next.expose_secret().to_vec();
        }
        if self.challenge.is_none() {
            self.challenge = Some(String::from_utf8_lossy(challenge).into_owned());
        }
        self.answer.to_vec()
    }
}

/// How a login goes.
enum Method {
    Authenticate(Mechanism),
    /// The `LOGIN` command.
    LoginCommand,
}

impl<S: AsyncRead + AsyncWrite + Unpin + Debug + Send> ImapClient<S> {
    /// Logs in and returns the session (with the capabilities the server lists after login).
    /// An access token uses `AUTHENTICATE XOAUTH2`, or `OAUTHBEARER` when the server offers
    /// only that; a password uses `AUTHENTICATE PLAIN` when offered, else the `LOGIN` command,
    /// else (`LOGINDISABLED`) `AUTHENTICATE LOGIN` when offered. A refusal is
    /// [`ProtoError::Auth`] with the final `NO` and, for OAuth, the decoded JSON challenge.
    pub async fn login(self, creds: &Credentials) -> Result<ImapSession<S>, ProtoError> {
        let method = self.method(creds)?;
        if self.busy.is_set() {
            return Err(ProtoError::Unusable);
        }
        let (timed, peer, options, _) = self.into_stream()?;
        let client = async_imap::Client::new(Guarded::new(timed, options.limits));
        let (result, name, challenge, creds) = match method {
            Method::LoginCommand => {
                let r = client.login(creds.user(), creds.secret()).await;
                (r, "LOGIN", None, creds.clone())
            }
            Method::Authenticate(mechanism) => {
                let creds = creds
                    .clone()
                    .for_mechanism(mechanism, &peer.host, peer.port);
                let responses = match mechanism {
                    Mechanism::Login => creds.login_answers().into(),
                    _ => VecDeque::from([creds.initial_response()]),
                };
                let mut exchange = SaslExchange {
                    responses,
                    answer: mechanism.failure_answer(),
                    challenge: None,
                };
                let r = client.authenticate(mechanism.name(), &mut exchange).await;
                (r, mechanism.name(), exchange.challenge, creds)
            }
        };
        match result {
            Ok(session) => ImapSession::start(session, peer, options).await,
            Err((e, _client)) => Err(login_error(&peer, &creds, name, e, challenge)),
        }
    }

    /// Picks how to log in from the capabilities. A server that listed none (no CAPABILITY in
    /// its greeting) gets the credentials' own mechanism, or the LOGIN command for a password.
    fn method(&self, creds: &Credentials) -> Result<Method, ProtoError> {
        let caps = &self.capabilities;
        let offered: Vec<&str> = caps
            .iter()
            .filter_map(|c| c.strip_prefix("AUTH="))
            .collect();
        let password = matches!(creds, Credentials::Plain { .. });
        if caps.is_empty() {
            return Ok(if password {
                Method::LoginCommand
            } else {
                Method::Authenticate(creds.mechanism())
            });
        }
        match choose(creds, &offered) {
            Some(Mechanism::Plain) => Ok(Method::Authenticate(Mechanism::Plain)),
            _ if password && !caps.has("LOGINDISABLED") => Ok(Method::LoginCommand),
            Some(m) => Ok(Method::Authenticate(m)),
            None if password => Err(self
                .peer
                .not_offered("LOGIN before TLS (LOGINDISABLED: use starttls or ssl)")),
            None => Err(self
                .peer
                .not_offered(format!("AUTH={}", creds.mechanism().name()))),
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
    let refused = |status: &str, rendered: &str| {
        let reply = creds.scrub(&from_async_imap(status, rendered));
        // `NO [UNAVAILABLE]` (RFC 5530): the server could not judge the credentials for now.
        if reply.to_ascii_uppercase().contains("[UNAVAILABLE]") {
            return ProtoError::Rejected {
                protocol: MailProtocol::Imap,
                command: format!("the login ({mechanism})"),
                reply,
            };
        }
        ProtoError::Auth {
            protocol: MailProtocol::Imap,
            mechanism,
            reply,
            challenge: challenge.clone(),
        }
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
