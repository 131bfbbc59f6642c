//! SASL for IMAP and POP3 logins: the initial responses of XOAUTH2, OAUTHBEARER (RFC 7628) and
//! PLAIN (RFC 4616), the decoding of a failure challenge, and what the client answers to it.
//!
//! After a rejected XOAUTH2 / OAUTHBEARER initial response the server does not fail at once: it
//! sends a base64 JSON challenge (`{"status":"401","schemes":"bearer","scope":"..."}`) and
//! waits. The client answers with an empty response (XOAUTH2) or `\x01` (OAUTHBEARER, `AQ==`
//! in base64) and only then gets the final `NO` / `-ERR`. The decoded JSON says more than the
//! final reply (an expired token versus a missing scope), so the clients keep it for the
//! diagnosis.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use secrecy::{ExposeSecret, SecretSlice, SecretString};

/// What a client logs in with. Tokens and passwords print as `[REDACTED]` in `Debug`.
#[derive(Debug, Clone)]
pub enum Credentials {
    /// Google's and Microsoft's `XOAUTH2`.
    XOAuth2 { user: String, token: SecretString },
    /// RFC 7628 `OAUTHBEARER`; `host` and `port` are the server's, as dialled.
    OAuthBearer {
        user: String,
        token: SecretString,
        host: String,
        port: u16,
    },
    /// A user name and password: SASL `PLAIN`, or `LOGIN` / `USER`+`PASS` when the server has
    /// no `PLAIN`.
    Plain {
        user: String,
        password: SecretString,
    },
}

/// The SASL mechanism a [`Credentials`] value logs in with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Mechanism {
    XOAuth2,
    OAuthBearer,
    Plain,
    /// The old `LOGIN` mechanism (draft-murchison-sasl-login): the server asks `Username:`, then
    /// `Password:`, the client answers each in base64. For password servers without `PLAIN`.
    Login,
}

impl Mechanism {
    /// The name as servers advertise it (`AUTH=XOAUTH2`, `SASL XOAUTH2`).
    pub fn name(self) -> &'static str {
        match self {
            Mechanism::XOAuth2 => "XOAUTH2",
            Mechanism::OAuthBearer => "OAUTHBEARER",
            Mechanism::Plain => "PLAIN",
            Mechanism::Login => "LOGIN",
        }
    }

    /// True for the bearer-token mechanisms, whose failures carry a JSON challenge.
    pub fn is_oauth(self) -> bool {
        matches!(self, Mechanism::XOAuth2 | Mechanism::OAuthBearer)
    }

    /// The client's answer to a failure challenge (before base64): empty for XOAUTH2 (Google's
    /// documented dance), `\x01` for OAUTHBEARER (RFC 7628 section 3.2.3), empty otherwise.
    pub fn failure_answer(self) -> &'static [u8] {
        match self {
            Mechanism::OAuthBearer => b"\x01",
            Mechanism::XOAuth2 | Mechanism::Plain | Mechanism::Login => b"",
        }
    }
}

/// The mechanism to log in with `creds` among those a server offers (names as advertised, any
/// case): an access token over XOAUTH2 (what Google and Microsoft offer), else OAUTHBEARER
/// (RFC 7628); explicit OAUTHBEARER credentials over OAUTHBEARER only; a password over PLAIN,
/// else LOGIN. `None` when the server offers none of them.
/// The IMAP, POP3 and SMTP clients choose with it; see [`Credentials::for_mechanism`].
pub fn choose<S: AsRef<str>>(creds: &Credentials, offered: &[S]) -> Option<Mechanism> {
    let offers = |m: Mechanism| {
        offered
            .iter()
            .any(|o| o.as_ref().eq_ignore_ascii_case(m.name()))
    };
    let preferred: &[Mechanism] = match creds {
        Credentials::XOAuth2 { .. } => &[Mechanism::XOAuth2, Mechanism::OAuthBearer],
        // Asked for by name (mailgate's logins start as XOAUTH2): kept as it is.
        Credentials::OAuthBearer { .. } => &[Mechanism::OAuthBearer],
        Credentials::Plain { .. } => &[Mechanism::Plain, Mechanism::Login],
    };
    preferred.iter().copied().find(|&m| offers(m))
}

impl Credentials {
    /// The same login for `mechanism` (one [`choose`] returned): an access token moves between
    /// XOAUTH2 and OAUTHBEARER (`host` and `port` as dialled, for OAUTHBEARER's GS2 header);
    /// anything else is returned as it is (a password serves PLAIN and LOGIN alike).
    pub fn for_mechanism(self, mechanism: Mechanism, host: &str, port: u16) -> Credentials {
        match (self, mechanism) {
            (Credentials::XOAuth2 { user, token }, Mechanism::OAuthBearer) => {
                Credentials::OAuthBearer {
                    user,
                    token,
                    host: host.to_owned(),
                    port,
                }
            }
            (Credentials::OAuthBearer { user, token, .. }, Mechanism::XOAuth2) => {
                Credentials::XOAuth2 { user, token }
            }
            (creds, _) => creds,
        }
    }

    /// LOGIN's two answers, before base64: the user name, then the password.
    pub(crate) fn login_answers(&self) -> [SecretSlice<u8>; 2] {
        [
            SecretSlice::from(self.user().as_bytes().to_vec()),
            SecretSlice::from(self.secret().as_bytes().to_vec()),
        ]
    }

    pub fn mechanism(&self) -> Mechanism {
        match self {
            Credentials::XOAuth2 { .. } => Mechanism::XOAuth2,
            Credentials::OAuthBearer { .. } => Mechanism::OAuthBearer,
            Credentials::Plain { .. } => Mechanism::Plain,
        }
    }

    /// The user name (the mailbox's address for OAuth).
    pub fn user(&self) -> &str {
        match self {
            Credentials::XOAuth2 { user, .. }
            | Credentials::OAuthBearer { user, .. }
            | Credentials::Plain { user, .. } => user,
        }
    }

    /// The access token of an OAuth login (`None` for a password).
    pub fn oauth_token(&self) -> Option<&SecretString> {
        match self {
            Credentials::XOAuth2 { token, .. } | Credentials::OAuthBearer { token, .. } => {
                Some(token)
            }
            Credentials::Plain { .. } => None,
        }
    }

    /// The same login with another access token (a password login is returned as it is).
    pub fn with_token(self, token: SecretString) -> Credentials {
        match self {
            Credentials::XOAuth2 { user, .. } => Credentials::XOAuth2 { user, token },
            Credentials::OAuthBearer {
                user, host, port, ..
            } => Credentials::OAuthBearer {
                user,
                token,
                host,
                port,
            },
            plain @ Credentials::Plain { .. } => plain,
        }
    }

    /// The token or the password.
    pub(crate) fn secret(&self) -> &str {
        match self {
            Credentials::XOAuth2 { token, .. } | Credentials::OAuthBearer { token, .. } => {
                token.expose_secret()
            }
            Credentials::Plain { password, .. } => password.expose_secret(),
        }
    }

    /// The initial client response, before base64.
    pub fn initial_response(&self) -> SecretSlice<u8> {
        let text = match self {
            Credentials::XOAuth2 { user, token } => {
                format!(
                    "user={user}\x01auth=Bearer {}\x01\x01",
                    token.expose_secret()
                )
            }
            Credentials::OAuthBearer {
                user,
                token,
                host,
                port,
            } => format!(
                "n,a={},\x01host={host}\x01port={port}\x01auth=Bearer {}\x01\x01",
                saslname(user),
                token.expose_secret()
            ),
            Credentials::Plain { user, password } => {
                format!("\0{user}\0{}", password.expose_secret())
            }
        };
        SecretSlice::from(text.into_bytes())
    }

    /// The initial client response in base64, as it goes on the wire.
    pub fn initial_response_base64(&self) -> SecretString {
        SecretString::from(STANDARD.encode(self.initial_response().expose_secret()))
    }

    /// Removes this credential's secret (raw, in base64 alone as LOGIN sends it, or within the
    /// initial response in base64) from text a server sent back, in case it echoed the command
    /// line. Used on every server reply that lands in an error.
    pub(crate) fn scrub(&self, text: &str) -> String {
        let mut text = text.to_owned();
        let secret = self.secret();
        if secret.len() >= 4 {
            text = text.replace(secret, "[REDACTED]");
            text = text.replace(&STANDARD.encode(secret), "[REDACTED]");
        }
        let encoded = self.initial_response_base64();
        text.replace(encoded.expose_secret(), "[REDACTED]")
    }
}

/// RFC 5801 `saslname`: `,` and `=` are escaped in the GS2 header's authorization identity.
fn saslname(user: &str) -> String {
    user.replace('=', "=3D").replace(',', "=2C")
}

/// A failure challenge whose base64 could not be decoded; the raw text is kept.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the server's SASL challenge is not base64: {raw}")]
pub struct ChallengeNotBase64 {
    pub raw: String,
}

/// Decodes a server challenge (the text after `+ `). Lossy UTF-8: the result only feeds the
/// diagnosis, which reads JSON.
pub fn decode_challenge(text: &str) -> Result<String, ChallengeNotBase64> {
    let text = text.trim_end_matches(['\r', '\n']);
    STANDARD
        .decode(text.trim())
        .map(|bytes| String::from_utf8_lossy(&bytes).into_owned())
        .map_err(|_| ChallengeNotBase64 {
            raw: text.chars().take(200).collect(),
        })
}

/// The `status` of a decoded JSON failure challenge (`"401"`, `"400"`, `"invalid_token"`).
pub fn challenge_status(decoded: &str) -> Option<String> {
    let value: serde_json::Value = serde_json::from_str(decoded.trim()).ok()?;
    match value.get("status")? {
        serde_json::Value::String(s) => Some(s.clone()),
        serde_json::Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn xoauth2() -> Credentials {
        Credentials::XOAuth2 {
            user: "alice@example.test".into(),
            token: SecretString::from("ya29.secret-token"),
        }
    }

    #[test]
    fn initial_responses_have_the_documented_shapes() {
        let ir = |c: &Credentials| String::from_utf8(c.initial_response().expose_secret().to_vec());
        assert_eq!(
            ir(&xoauth2()).unwrap(),
            "user=alice@example.test\x01auth=Bearer ya29.secret-token\x01\x01"
        );
        let bearer = Credentials::OAuthBearer {
            user: "a,b=c@example.test".into(),
            token: SecretString::from("tok"),
            host: "imap.example.test".into(),
            port: 993,
        };
        assert_eq!(
            ir(&bearer).unwrap(),
            "n,a=a=2Cb=3Dc@example.test,\x01host=imap.example.test\x01port=993\x01auth=Bearer tok\x01\x01"
        );
        let plain = Credentials::Plain {
            user: "alice".into(),
            password: SecretString::from("pw"),
        };
        assert_eq!(ir(&plain).unwrap(), "\0alice\0pw");
        // Google's documented example.
        let google = Credentials::XOAuth2 {
            user: "someuser@example.com".into(),
            token: SecretString::from("ya29.vF9dft4qmTc2Nvb3RlckBhdHRhdmlzdGEuY29tCg"),
        };
        assert_eq!(
            google.initial_response_base64().expose_secret(),
            "dXNlcj1zb21ldXNlckBleGFtcGxlLmNvbQFhdXRoPUJlYXJlciB5YTI5LnZGOWRmdDRxbVRjMk52YjNSbGNrQmhkSFJoZG1semRHRXVZMjl0Q2cBAQ=="
        );
    }

    #[test]
    fn secrets_never_print() {
        let text = format!("{:?}", xoauth2());
        assert!(!text.contains("secret-token"), "{text}");
        let c = xoauth2();
        let b64 = c.initial_response_base64();
        let echoed = format!(
            "BAD unknown: AUTH {} ya29.secret-token",
            b64.expose_secret()
        );
        assert_eq!(c.scrub(&echoed), "BAD unknown: AUTH [REDACTED] [REDACTED]");
    }

    #[test]
    fn the_mechanism_follows_what_the_server_offers() {
        let plain = Credentials::Plain {
            user: "alice".into(),
            password: SecretString::from("pw"),
        };
        let choose = |c: &Credentials, offered: &[&str]| choose(c, offered);
        assert_eq!(
            choose(&xoauth2(), &["PLAIN", "XOAUTH2", "OAUTHBEARER"]),
            Some(Mechanism::XOAuth2)
        );
        assert_eq!(
            choose(&xoauth2(), &["plain", "oauthbearer"]),
            Some(Mechanism::OAuthBearer)
        );
        assert_eq!(choose(&xoauth2(), &["PLAIN", "LOGIN"]), None);
        let explicit = xoauth2().for_mechanism(Mechanism::OAuthBearer, "h", 1);
        assert_eq!(choose(&explicit, &["XOAUTH2"]), None);
        assert_eq!(choose(&plain, &["LOGIN", "PLAIN"]), Some(Mechanism::Plain));
        assert_eq!(
            choose(&plain, &["LOGIN", "XOAUTH2"]),
            Some(Mechanism::Login)
        );
        assert_eq!(choose(&plain, &["CRAM-MD5"]), None);
        assert_eq!(choose(&plain, &[]), None);

        let bearer = xoauth2().for_mechanism(Mechanism::OAuthBearer, "imap.example.test", 993);
        assert!(
            matches!(&bearer, Credentials::OAuthBearer { host, port: 993, .. } if host == "imap.example.test")
        );
        assert_eq!(
            bearer.oauth_token().unwrap().expose_secret(),
            "ya29.secret-token"
        );
        let back = bearer.for_mechanism(Mechanism::XOAuth2, "h", 1);
        assert_eq!(back.mechanism(), Mechanism::XOAuth2);
        let same = plain.for_mechanism(Mechanism::Login, "h", 1);
        assert_eq!(same.mechanism(), Mechanism::Plain);
        let [user, password] = same.login_answers();
        assert_eq!(
            (user.expose_secret(), password.expose_secret()),
            (&b"alice"[..], &b"pw"[..])
        );
    }

    #[test]
    fn failure_challenges_decode_and_answers_follow_the_mechanism() {
        let decoded = decode_challenge(
            "eyJzdGF0dXMiOiI0MDEiLCJzY2hlbWVzIjoiYmVhcmVyIiwic2NvcGUiOiJtYWlsIn0=",
        )
        .unwrap();
        assert_eq!(
            decoded,
            r#"{"status":"401","schemes":"bearer","scope":"mail"}"#
        );
        assert_eq!(challenge_status(&decoded).as_deref(), Some("401"));
        assert_eq!(
            challenge_status(r#"{"status":"invalid_token"}"#).as_deref(),
            Some("invalid_token")
        );
        assert_eq!(
            challenge_status(r#"{"status":400}"#).as_deref(),
            Some("400")
        );
        assert_eq!(challenge_status("not json"), None);
        assert!(decode_challenge("%%%").is_err());
        assert_eq!(Mechanism::XOAuth2.failure_answer(), b"");
        assert_eq!(
            STANDARD.encode(Mechanism::OAuthBearer.failure_answer()),
            "AQ=="
        );
    }
}
