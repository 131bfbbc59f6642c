//! SMTP login (RFC 4954): `AUTH <mechanism> [initial response]`, the `334` challenges, and the
//! failure challenge dance of XOAUTH2 / OAUTHBEARER: after a refused token the server sends
//! `334 <base64 JSON>` and waits; the client answers as the mechanism wants (empty for XOAUTH2,
//! `AQ==` for OAUTHBEARER) and then reads the final `535`. The JSON is kept for the diagnosis.

use super::{SmtpClient, SmtpReply};
use crate::error::ProtoError;
use crate::sasl::{Credentials, Mechanism, choose, decode_challenge};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use mailgate_domain::troubleshoot::MailProtocol;
use secrecy::{ExposeSecret, SecretString};
use tokio::io::{AsyncRead, AsyncWrite};

/// RFC 4954 section 4: `AUTH` stays within the 512-octet command line of RFC 5321; when the
/// initial response would make it longer, it goes after the server's empty `334` instead
/// (Microsoft's access tokens are long enough for this).
const MAX_COMMAND_LINE: usize = 512 - 2;

/// What the client answers to the server's next `334`.
enum Step {
    /// The initial response (when it did not fit on the AUTH line) or a LOGIN answer.
    Send(SecretString),
    /// Nothing expected: a `334` now is the failure challenge (OAuth), or a cancel.
    Done,
}

impl<S: AsyncRead + AsyncWrite + Unpin> SmtpClient<S> {
    /// Logs in with the mechanism [`choose`] picks among those EHLO offered: an access token
    /// over XOAUTH2, or OAUTHBEARER when the server offers only that; a password over PLAIN,
    /// else LOGIN. A refusal is [`ProtoError::Auth`] with the final reply (scrubbed of the
    /// secret) and, for OAuth, the decoded JSON challenge; the connection stays usable unless
    /// the server said 421.
    pub async fn authenticate(&mut self, creds: &Credentials) -> Result<(), ProtoError> {
        let offered = self.auth_mechanisms();
        let Some(mechanism) = choose(creds, &offered) else {
            let what = if offered.is_empty() {
                // No "TLS" in the words: the diagnosis would take it for a TLS failure.
                "AUTH at all (servers offer it on the submission port, once encrypted)".to_owned()
            } else {
                format!("AUTH {}", creds.mechanism().name())
            };
            return Err(self.peer.not_offered(what));
        };
        let creds = creds
            .clone()
            .for_mechanism(mechanism, &self.peer.host, self.peer.port);
        self.run(async |c| c.sasl(&creds, mechanism).await).await?;
        self.authenticated = true;
        Ok(())
    }

    async fn sasl(&mut self, creds: &Credentials, mechanism: Mechanism) -> Result<(), ProtoError> {
        let name = mechanism.name();
        let what = format!("the answer to AUTH {name}");
        let mut steps: Vec<Step> = Vec::new();
        let command = if mechanism == Mechanism::Login {
            for answer in creds.login_answers() {
                steps.push(Step::Send(base64(answer.expose_secret())));
            }
            SecretString::from("AUTH LOGIN")
        } else {
            let initial = creds.initial_response_base64();
            let line = format!("AUTH {name} {}", initial.expose_secret());
            if line.len() <= MAX_COMMAND_LINE {
                SecretString::from(line)
            } else {
                steps.push(Step::Send(initial));
                SecretString::from(format!("AUTH {name}"))
            }
        };
        steps.reverse();
        self.send_line(command.expose_secret(), &what).await?;
        let mut challenge: Option<String> = None;
        loop {
            let reply = self.read_reply(&what).await.map_err(|e| scrub(e, creds))?;
            match reply.code {
                235 => return Ok(()),
                334 => {
                    let answer = match steps.pop().unwrap_or(Step::Done) {
                        Step::Send(answer) => answer,
                        Step::Done if challenge.is_none() && mechanism.is_oauth() => {
                            challenge = Some(match decode_challenge(&reply.text) {
                                Ok(decoded) => decoded,
                                Err(e) => e.raw,
                            });
                            base64(mechanism.failure_answer())
                        }
                        // A challenge no mechanism used here sends: cancel (RFC 4954).
                        Step::Done => SecretString::from("*"),
                    };
                    self.send_line(answer.expose_secret(), &what).await?;
                }
                400..=599 => return Err(self.auth_refused(creds, name, &reply, challenge)),
                _ => {
                    let line = scrub_text(creds, &reply.to_string());
                    return Err(self.peer.protocol_error(
                        format!("an unexpected reply to AUTH {name}"),
                        line.as_bytes(),
                    ));
                }
            }
        }
    }

    fn auth_refused(
        &mut self,
        creds: &Credentials,
        mechanism: &'static str,
        reply: &SmtpReply,
        challenge: Option<String>,
    ) -> ProtoError {
        if reply.code == 421 {
            self.broken = true;
        }
        ProtoError::Auth {
            protocol: MailProtocol::Smtp,
            mechanism,
            reply: scrub_text(creds, &reply.to_string()),
            challenge,
        }
    }
}

fn base64(bytes: &[u8]) -> SecretString {
    SecretString::from(STANDARD.encode(bytes))
}

/// [`Credentials::scrub`], and the secret in base64 alone too (as LOGIN sends it).
fn scrub_text(creds: &Credentials, text: &str) -> String {
    let text = creds.scrub(text);
    let encoded = STANDARD.encode(creds.secret());
    if creds.secret().len() < 4 {
        return text;
    }
    text.replace(&encoded, "[REDACTED]")
}

/// A protocol error's quoted line may echo what the client sent: take the secret out.
fn scrub(e: ProtoError, creds: &Credentials) -> ProtoError {
    match e {
        ProtoError::Protocol {
            protocol,
            host,
            detail,
            line,
        } => ProtoError::Protocol {
            protocol,
            host,
            detail,
            line: scrub_text(creds, &line),
        },
        other => other,
    }
}
