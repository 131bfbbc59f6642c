//! Fields shared by incoming and outgoing servers, and their parsers.

use crate::{FieldError, FieldErrors, Id};
use serde::{Deserialize, Serialize};

/// How the connection is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Security {
    /// TLS from the first byte (IMAPS 993, POP3S 995, SMTPS 465).
    Ssl,
    /// Plain connection upgraded with STARTTLS / STLS (IMAP 143, POP3 110, submission 587).
    Starttls,
    /// No TLS at all: only for servers on this machine.
    None,
}

/// How the server is authenticated against.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AuthKind {
    /// OAuth2 bearer tokens (an OAuth app's grant, or a service account).
    Oauth,
    /// Username and password.
    Basic,
    /// No authentication (outgoing relays that accept this host by address).
    None,
}

/// The credential a server authenticates with, after parsing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "auth", rename_all = "snake_case")]
pub enum Auth {
    Oauth {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        oauth_app_id: Option<Id>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        service_account_id: Option<Id>,
    },
    Basic {
        username: String,
    },
    None,
}

impl Auth {
    pub fn kind(&self) -> AuthKind {
        match self {
            Auth::Oauth { .. } => AuthKind::Oauth,
            Auth::Basic { .. } => AuthKind::Basic,
            Auth::None => AuthKind::None,
        }
    }
    pub fn oauth_app_id(&self) -> Option<Id> {
        match self {
            Auth::Oauth { oauth_app_id, .. } => *oauth_app_id,
            _ => None,
        }
    }
    pub fn service_account_id(&self) -> Option<Id> {
        match self {
            Auth::Oauth {
                service_account_id, ..
            } => *service_account_id,
            _ => None,
        }
    }
}

/// The authentication fields of a request, before parsing.
pub struct AuthFields<'a> {
    pub auth: Option<AuthKind>,
    pub oauth_app_id: Option<&'a str>,
    pub service_account_id: Option<&'a str>,
    pub username: Option<&'a str>,
    pub password_given: bool,
    pub password_stored: bool,
    pub default_username: &'a str,
}

/// Parses the authentication fields; `allow_none` is false for incoming servers.
pub fn parse_auth(
    fields: AuthFields<'_>,
    allow_none: bool,
    errors: &mut FieldErrors,
) -> Option<Auth> {
    let Some(kind) = fields.auth else {
        errors.push(
            FieldError::new("auth", "the authentication type is missing").with_hint(
                if allow_none {
                    "set `auth` to `oauth`, `basic` or `none`"
                } else {
                    "set `auth` to `oauth` or `basic`"
                },
            ),
        );
        return None;
    };
    let app = fields.oauth_app_id.map(|t| Id::parse("oauth_app_id", t));
    let account = fields
        .service_account_id
        .map(|t| Id::parse("service_account_id", t));
    let refuse = |errors: &mut FieldErrors, field: &str, what: &str| {
        errors.push(
            FieldError::new(field, format!("`{field}` does not apply to auth `{what}`"))
                .with_hint(format!("remove `{field}` or set it to null")),
        );
    };
    match kind {
        AuthKind::Oauth => {
            if fields.username.is_some() {
                refuse(errors, "username", "oauth");
            }
            if fields.password_given {
                refuse(errors, "password", "oauth");
            }
            match (app, account) {
                (None, None) => {
                    errors.push(
                        FieldError::new("oauth_app_id", "an OAuth server needs an OAuth app or a service account")
                            .with_hint("create one under /api/v1/oauth-apps (or /api/v1/service-accounts) and give its id as `oauth_app_id` (or `service_account_id`)"),
                    );
                    None
                }
                (Some(_), Some(_)) => {
                    errors.push(
                        FieldError::new("service_account_id", "give either `oauth_app_id` or `service_account_id`, not both")
                            .with_hint("an OAuth app signs in a user with consent; a service account impersonates the mailbox by domain-wide delegation"),
                    );
                    None
                }
                (Some(app), None) => errors.collect(app).map(|id| Auth::Oauth {
                    oauth_app_id: Some(id),
                    service_account_id: None,
                }),
                (None, Some(account)) => errors.collect(account).map(|id| Auth::Oauth {
                    oauth_app_id: None,
                    service_account_id: Some(id),
                }),
            }
        }
        AuthKind::Basic => {
            if fields.oauth_app_id.is_some() {
                refuse(errors, "oauth_app_id", "basic");
            }
            if fields.service_account_id.is_some() {
                refuse(errors, "service_account_id", "basic");
            }
            if !fields.password_given && !fields.password_stored {
                errors.push(FieldError::new("password", "basic authentication needs a password").with_hint("set `password`, or use `auth: oauth` where the provider refuses passwords (Gmail, Microsoft 365)"));
            }
            let username = fields
                .username
                .map(str::trim)
                .filter(|u| !u.is_empty())
                .unwrap_or(fields.default_username);
            Some(Auth::Basic {
                username: username.to_owned(),
            })
        }
        AuthKind::None => {
            if !allow_none {
                errors.push(
                    FieldError::new("auth", "a mailbox cannot be read without authentication")
                        .with_hint("set `auth` to `oauth` or `basic`"),
                );
                return None;
            }
            for (field, given) in [
                ("oauth_app_id", fields.oauth_app_id.is_some()),
                ("service_account_id", fields.service_account_id.is_some()),
                ("username", fields.username.is_some()),
                ("password", fields.password_given),
            ] {
                if given {
                    refuse(errors, field, "none");
                }
            }
            Some(Auth::None)
        }
    }
}

/// A server's display name.
pub fn parse_name(text: Option<&str>, errors: &mut FieldErrors) -> Option<String> {
    let name = text.map(str::trim).unwrap_or_default();
    if name.is_empty() {
        errors.push(
            FieldError::new("name", "a name is required")
                .with_hint("give a name such as \"Support mailbox\""),
        );
        None
    } else if name.chars().count() > 100 {
        errors.push(
            FieldError::new("name", "the name is longer than 100 characters")
                .with_hint("shorten the name"),
        );
        None
    } else if name.chars().any(char::is_control) {
        errors.push(
            FieldError::new("name", "the name contains a control character")
                .with_hint("remove line breaks and tabs"),
        );
        None
    } else {
        Some(name.to_owned())
    }
}

/// A host name or IP address, without scheme, port or path.
pub fn parse_host(field: &str, text: Option<&str>) -> Result<String, FieldError> {
    let host = text.map(str::trim).unwrap_or_default();
    if host.is_empty() {
        return Err(FieldError::new(field, "a host is required")
            .with_hint("give the server's name, e.g. imap.gmail.com"));
    }
    if let Some((_, rest)) = host.split_once("://") {
        return Err(
            FieldError::new(field, format!("`{host}` is a URL, not a host name")).with_hint(
                format!(
                    "write only the host, e.g. `{}`",
                    rest.split(['/', ':']).next().unwrap_or(rest)
                ),
            ),
        );
    }
    if host.parse::<std::net::IpAddr>().is_ok() {
        return Ok(host.to_owned());
    }
    if let Some((name, port)) = host.rsplit_once(':') {
        return Err(
            FieldError::new(field, format!("`{host}` includes a port")).with_hint(format!(
                "write the host as `{name}` and the port ({port}) in `port`"
            )),
        );
    }
    crate::Domain::parse(field, host)
        .map(|d| d.as_str().to_owned())
        .map_err(|_| {
            FieldError::new(field, format!("`{host}` is not a host name or IP address"))
                .with_hint("give a name such as imap.gmail.com or an address such as 192.0.2.10")
        })
}

/// A TCP port, 1 to 65535.
pub fn parse_port(value: Option<i64>, default: u16) -> Result<u16, FieldError> {
    match value {
        None => Ok(default),
        Some(p) if (1..=65535).contains(&p) => Ok(p as u16),
        Some(p) => Err(
            FieldError::new("port", format!("{p} is not a port number")).with_hint(format!(
                "ports go from 1 to 65535; the usual one here is {default}"
            )),
        ),
    }
}

/// Ports that always speak TLS from the first byte.
pub fn implicit_tls_port(port: u16) -> bool {
    matches!(port, 465 | 993 | 995)
}

/// STARTTLS against an implicit-TLS port hangs or fails at the first byte: refuse it with the fix.
pub fn check_security_matches_port(
    security: Security,
    port: u16,
    plain_port: u16,
) -> Result<(), FieldError> {
    if security == Security::Starttls && implicit_tls_port(port) {
        return Err(FieldError::new(
            "security",
            format!("port {port} expects TLS from the first byte, not STARTTLS"),
        )
        .with_hint(format!(
            "set `security` to `ssl`, or use port {plain_port} for STARTTLS"
        )));
    }
    Ok(())
}

/// Whether a host name points at this machine (where a plain connection exposes nothing).
pub fn is_loopback_host(host: &str) -> bool {
    host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<std::net::IpAddr>()
            .map(|ip| ip.is_loopback())
            .unwrap_or(false)
}

/// Credentials are never sent in the clear across a network.
pub fn check_plaintext(
    security: Security,
    auth: Option<&Auth>,
    host: &str,
) -> Result<(), FieldError> {
    let sends_secret = matches!(auth, Some(Auth::Oauth { .. } | Auth::Basic { .. }));
    if security == Security::None && sends_secret && !is_loopback_host(host) {
        return Err(FieldError::new("security", "credentials would cross the network unencrypted")
            .with_hint("set `security` to `ssl` or `starttls`; `none` is only allowed for servers on this machine"));
    }
    Ok(())
}

/// Credentials are never sent in the clear through a proxy elsewhere: a server on this machine
/// reached through a remote proxy is a plain connection across the network all the same.
pub fn check_plaintext_proxy(
    security: Security,
    auth: Option<&Auth>,
    proxy: Option<&crate::proxy::ProxyUrl>,
) -> Result<(), FieldError> {
    let sends_secret = matches!(auth, Some(Auth::Oauth { .. } | Auth::Basic { .. }));
    match proxy {
        Some(proxy)
            if security == Security::None
                && sends_secret
                && !is_loopback_host(proxy.host.trim_matches(['[', ']'])) =>
        {
            Err(FieldError::new(
                "proxy",
                format!(
                    "credentials would cross the network unencrypted through the proxy {}",
                    proxy.host
                ),
            )
            .with_hint("set `security` to `ssl` or `starttls`, or use a proxy on this machine; `none` is only allowed when both the server and the proxy are on this machine"))
        }
        _ => Ok(()),
    }
}

/// A free-text label (technician group, category, sender name): one line, at most 200 characters.
pub fn parse_label(field: &str, text: Option<&str>) -> Result<Option<String>, FieldError> {
    let Some(text) = text.map(str::trim).filter(|t| !t.is_empty()) else {
        return Ok(None);
    };
    if text.contains(['\r', '\n']) || text.chars().any(char::is_control) {
        return Err(
            FieldError::new(field, "line breaks and control characters are not allowed")
                .with_hint("write the value on one line"),
        );
    }
    if text.chars().count() > 200 {
        return Err(FieldError::new(field, "longer than 200 characters").with_hint("shorten it"));
    }
    Ok(Some(text.to_owned()))
}

/// Parse an optional id field that links to another object.
pub fn parse_link(field: &str, text: Option<&str>) -> Result<Option<Id>, FieldError> {
    text.map(|t| Id::parse(field, t)).transpose()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_are_bare_names_or_addresses() {
        assert_eq!(
            parse_host("host", Some(" IMAP.gmail.com ")).unwrap(),
            "imap.gmail.com"
        );
        assert_eq!(parse_host("host", Some("127.0.0.1")).unwrap(), "127.0.0.1");
        assert_eq!(parse_host("host", Some("::1")).unwrap(), "::1");
        assert_eq!(
            parse_host("host", Some("imaps://imap.gmail.com:993"))
                .unwrap_err()
                .hint
                .as_deref(),
            Some("write only the host, e.g. `imap.gmail.com`")
        );
        assert!(
            parse_host("host", Some("imap.gmail.com:993"))
                .unwrap_err()
                .hint
                .unwrap()
                .contains("`port`")
        );
        assert!(parse_host("host", None).is_err());
    }

    #[test]
    fn ports_and_security() {
        assert_eq!(parse_port(None, 993).unwrap(), 993);
        assert_eq!(parse_port(Some(0), 993).unwrap_err().field, "port");
        assert!(
            parse_port(Some(70000), 587)
                .unwrap_err()
                .hint
                .unwrap()
                .contains("587")
        );
        let e = check_security_matches_port(Security::Starttls, 465, 587).unwrap_err();
        assert_eq!(e.field, "security");
        assert!(e.hint.unwrap().contains("587"));
        check_security_matches_port(Security::Ssl, 143, 143).unwrap();
    }

    #[test]
    fn plaintext_credentials_only_on_loopback() {
        let basic = Auth::Basic {
            username: "u".into(),
        };
        check_plaintext(Security::None, Some(&basic), "127.0.0.1").unwrap();
        check_plaintext(Security::None, Some(&basic), "localhost").unwrap();
        check_plaintext(Security::None, Some(&Auth::None), "relay.example.com").unwrap();
        assert_eq!(
            check_plaintext(Security::None, Some(&basic), "mail.example.com")
                .unwrap_err()
                .field,
            "security"
        );
    }

    #[test]
    fn plaintext_credentials_never_through_a_remote_proxy() {
        let basic = Auth::Basic {
            username: "u".into(),
        };
        let proxy = |text: &str| crate::proxy::ProxyUrl::parse("proxy", text).unwrap();
        let remote = proxy("socks5://proxy.example.com:1080");
        let e = check_plaintext_proxy(Security::None, Some(&basic), Some(&remote)).unwrap_err();
        assert_eq!(e.field, "proxy");
        assert!(e.message.contains("proxy.example.com"), "{e:?}");
        for local in [
            "socks5://127.0.0.1:1080",
            "http://localhost:3128",
            "socks5h://[::1]:1080",
        ] {
            check_plaintext_proxy(Security::None, Some(&basic), Some(&proxy(local))).unwrap();
        }
        check_plaintext_proxy(Security::Ssl, Some(&basic), Some(&remote)).unwrap();
        check_plaintext_proxy(Security::None, Some(&Auth::None), Some(&remote)).unwrap();
        check_plaintext_proxy(Security::None, Some(&basic), None).unwrap();
    }
}
