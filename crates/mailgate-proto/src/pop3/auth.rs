//! POP3 login: `AUTH <mechanism>` with an initial response (RFC 5034) and the failure
//! challenge dance, or `USER` / `PASS`.

use super::Pop3Client;
use super::reply::Status;
use crate::error::ProtoError;
use crate::sasl::{Credentials, Mechanism, decode_challenge};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use mailgate_domain::troubleshoot::MailProtocol;
use secrecy::ExposeSecret;
use tokio::io::{AsyncRead, AsyncWrite};

/// RFC 2449: a command line is at most 255 octets. RFC 5034 section 4: when the initial
/// response would make `AUTH` longer, the client sends `AUTH <mechanism>` alone and the
/// response after the server's empty challenge (Google access tokens are long enough for this).
const MAX_COMMAND_LINE: usize = 255;

impl<S: AsyncRead + AsyncWrite + Unpin> Pop3Client<S> {
    /// Logs in. OAuth credentials use `AUTH XOAUTH2` / `AUTH OAUTHBEARER`; a password uses
    /// `AUTH PLAIN` when CAPA offers it, else `USER` / `PASS`. A refusal is
    /// [`ProtoError::Auth`] with the final `-ERR` line and, for OAuth, the decoded JSON
    /// challenge.
    pub async fn login(&mut self, creds: &Credentials) -> Result<(), ProtoError> {
        let mechanism = creds.mechanism();
        let offered = self.sasl_mechanisms();
        let offers = |m: Mechanism| {
            offered
                .as_ref()
                .is_some_and(|list| list.iter().any(|o| o == m.name()))
        };
        match mechanism {
            Mechanism::Plain if !offers(Mechanism::Plain) => self.user_pass(creds).await,
            m if offered.is_some() && !offers(m) => {
                Err(self.peer.not_offered(format!("SASL {}", m.name())))
            }
            _ => self.authenticate(creds).await,
        }
    }

    /// `AUTH <mechanism> [initial response]` and the answers to the server's challenges.
    pub async fn authenticate(&mut self, creds: &Credentials) -> Result<(), ProtoError> {
        self.begin()?;
        let mechanism = creds.mechanism();
        let what = format!("the answer to AUTH {}", mechanism.name());
        let initial = creds.initial_response_base64();
        let with_initial = format!("AUTH {} {}", mechanism.name(), initial.expose_secret());
        let initial_sent = with_initial.len() <= MAX_COMMAND_LINE;
        let command = if initial_sent {
            with_initial
        } else {
            format!("AUTH {}", mechanism.name())
        };
        self.send_secret(&command, &what).await?;
        drop(command);

        let mut initial_pending = !initial_sent;
        let mut challenge: Option<String> = None;
        loop {
            match self.status(&what).await? {
                Status::Ok(_) => {
                    self.authenticated = true;
                    self.busy = false;
                    return Ok(());
                }
                Status::Err(text) => {
                    self.busy = false;
                    return Err(refusal(
                        creds,
                        mechanism.name(),
                        format!("-ERR {text}"),
                        challenge,
                    ));
                }
                Status::Continue(_) if initial_pending => {
                    initial_pending = false;
                    self.send_secret(initial.expose_secret(), &what).await?;
                }
                Status::Continue(text) if challenge.is_none() => {
                    // The failure challenge: keep it, answer as the mechanism wants, then read
                    // the final -ERR.
                    challenge = Some(match decode_challenge(&text) {
                        Ok(decoded) => decoded,
                        Err(e) => e.raw,
                    });
                    let answer = STANDARD.encode(mechanism.failure_answer());
                    self.send_secret(&answer, &what).await?;
                }
                Status::Continue(_) => {
                    // A second challenge is not part of any mechanism used here: cancel.
                    self.send_secret("*", &what).await?;
                }
            }
        }
    }

    /// `USER` then `PASS` (RFC 1939).
    pub async fn user_pass(&mut self, creds: &Credentials) -> Result<(), ProtoError> {
        self.begin()?;
        let refused = |text: String| refusal(creds, "USER", text, None);
        match self.simple(&format!("USER {}", creds.user()), "USER").await {
            Ok(_) => {}
            Err(ProtoError::Rejected { reply, .. }) => {
                self.busy = false;
                return Err(refused(reply));
            }
            Err(e) => return Err(e),
        }
        let pass = format!("PASS {}", creds.secret());
        let answer = self.simple(&pass, "PASS").await;
        drop(pass);
        match answer {
            Ok(_) => {
                self.authenticated = true;
                self.busy = false;
                Ok(())
            }
            Err(ProtoError::Rejected { reply, .. }) => {
                self.busy = false;
                Err(refused(reply))
            }
            Err(e) => Err(e),
        }
    }

    /// Sends a line that may hold a secret; I/O errors never quote it.
    async fn send_secret(&mut self, line: &str, what: &str) -> Result<(), ProtoError> {
        self.io
            .send(line.as_bytes())
            .await
            .map_err(|e| self.peer.io(what, e))
    }
}

/// The `-ERR` (`reply`, whole) to a login: [`ProtoError::Auth`], unless its response code says
/// that the credentials were not judged (`[IN-USE]`, `[SYS/TEMP]`): then
/// [`ProtoError::Rejected`], transient and not an authentication failure.
fn refusal(
    creds: &Credentials,
    mechanism: &'static str,
    reply: String,
    challenge: Option<String>,
) -> ProtoError {
    let reply = creds.scrub(&reply);
    let text = reply.strip_prefix("-ERR").unwrap_or(&reply);
    if super::reply::is_transient_login_refusal(text) {
        return ProtoError::Rejected {
            protocol: MailProtocol::Pop3,
            command: if mechanism == "USER" {
                "the login (USER/PASS)".into()
            } else {
                format!("AUTH {mechanism}")
            },
            reply,
        };
    }
    ProtoError::Auth {
        protocol: MailProtocol::Pop3,
        mechanism,
        reply,
        challenge,
    }
}
