//! POP3 login: `AUTH <mechanism>` with an initial response (RFC 5034) and the failure
//! challenge dance, `AUTH LOGIN`, or `USER` / `PASS`.

use super::Pop3Client;
use super::reply::Status;
use crate::error::ProtoError;
use crate::sasl::{Credentials, Mechanism, choose, decode_challenge};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use mailgate_domain::troubleshoot::MailProtocol;
use secrecy::{ExposeSecret, SecretString};
use std::collections::VecDeque;
use tokio::io::{AsyncRead, AsyncWrite};

/// RFC 2449: a command line is at most 255 octets. RFC 5034 section 4: when the initial
/// response would make `AUTH` longer, the client sends `AUTH <mechanism>` alone and the
/// response after the server's empty challenge (Google access tokens are long enough for this).
const MAX_COMMAND_LINE: usize = 255;

impl<S: AsyncRead + AsyncWrite + Unpin> Pop3Client<S> {
    /// Logs in. An access token uses `AUTH XOAUTH2`, or `AUTH OAUTHBEARER` when CAPA offers
    /// only that; a password uses `AUTH PLAIN` when CAPA offers it, else `AUTH LOGIN`, else
    /// `USER` / `PASS`. A server without a `SASL` line gets the credentials' own mechanism
    /// (`USER` / `PASS` for a password). A refusal is [`ProtoError::Auth`] with the final
    /// `-ERR` line and, for OAuth, the decoded JSON challenge.
    pub async fn login(&mut self, creds: &Credentials) -> Result<(), ProtoError> {
        let password = matches!(creds, Credentials::Plain { .. });
        let Some(offered) = self.sasl_mechanisms() else {
            return if password {
                self.user_pass(creds).await
            } else {
                self.authenticate(creds).await
            };
        };
        match choose(creds, &offered) {
            Some(m) => {
                let creds = creds
                    .clone()
                    .for_mechanism(m, &self.peer.host, self.peer.port);
                self.authenticate_with(&creds, m).await
            }
            None if password => self.user_pass(creds).await,
            None => Err(self
                .peer
                .not_offered(format!("SASL {}", creds.mechanism().name()))),
        }
    }

    /// `AUTH <mechanism> [initial response]` with the credentials' own mechanism, and the
    /// answers to the server's challenges.
    pub async fn authenticate(&mut self, creds: &Credentials) -> Result<(), ProtoError> {
        self.authenticate_with(creds, creds.mechanism()).await
    }

    /// `AUTH <mechanism> [initial response]` (none for LOGIN, whose user name and password
    /// answer the server's two challenges) and the failure challenge dance. `mechanism` must
    /// suit the credentials (see [`choose`]).
    pub async fn authenticate_with(
        &mut self,
        creds: &Credentials,
        mechanism: Mechanism,
    ) -> Result<(), ProtoError> {
        self.busy.begin()?;
        let what = format!("the answer to AUTH {}", mechanism.name());
        let mut pending: VecDeque<SecretString> = VecDeque::new();
        let command = if mechanism == Mechanism::Login {
            pending.extend(
                creds
                    .login_answers()
                    .map(|a| SecretString::from(STANDARD.encode(a.expose_secret()))),
            );
            format!("AUTH {}", mechanism.name())
        } else {
            let initial = creds.initial_response_base64();
            let with_initial = format!("AUTH {} {}", mechanism.name(), initial.expose_secret());
            if with_initial.len() <= MAX_COMMAND_LINE {
                with_initial
            } else {
                pending.push_back(initial);
                format!("AUTH {}", mechanism.name())
            }
        };
        self.send_secret(&command, &what).await?;
        drop(command);

        let mut challenge: Option<String> = None;
        loop {
            match self.status(&what).await? {
                Status::Ok(_) => {
                    self.authenticated = true;
                    self.busy.end();
                    return Ok(());
                }
                Status::Err(text) => {
                    self.busy.end();
                    return Err(refusal(
                        creds,
                        mechanism.name(),
                        format!("-ERR {text}"),
                        challenge,
                    ));
                }
                Status::Continue(_) if !pending.is_empty() => {
                    if let Some(next) = pending.pop_front() {
                        self.send_secret(next.expose_secret(), &what).await?;
                    }
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
        self.busy.begin()?;
        let refused = |text: String| refusal(creds, "USER", text, None);
        match self.simple(&format!("USER {}", creds.user()), "USER").await {
            Ok(_) => {}
            Err(ProtoError::Rejected { reply, .. }) => {
                self.busy.end();
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
                self.busy.end();
                Ok(())
            }
            Err(ProtoError::Rejected { reply, .. }) => {
                self.busy.end();
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
