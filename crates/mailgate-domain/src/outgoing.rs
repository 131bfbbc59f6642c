//! Outgoing servers: where mail is sent, over SMTP or the Gmail API.

use crate::filter::FilterUse;
use crate::server::{self, Auth, AuthFields, AuthKind, Security};
use crate::{EmailAddress, FieldError, FieldErrors, Filter, FilterInput, proxy::ProxyUrl};
use serde::{Deserialize, Serialize};

pub const GMAIL_API_BASE_URL: &str = "https://gmail.googleapis.com";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum OutgoingProtocol {
    Smtp,
    GmailApi,
}

/// An outgoing server as a request gives it.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OutgoingServerInput {
    pub name: Option<String>,
    pub email: Option<String>,
    pub sender_name: Option<String>,
    pub protocol: Option<OutgoingProtocol>,
    pub host: Option<String>,
    pub port: Option<i64>,
    pub security: Option<Security>,
    pub auth: Option<AuthKind>,
    pub oauth_app_id: Option<String>,
    pub service_account_id: Option<String>,
    pub username: Option<String>,
    /// Write-only: never returned.
    #[schema(value_type = Option<String>, write_only)]
    pub password: Option<secrecy::SecretString>,
    pub reply_to: Option<String>,
    pub enabled: Option<bool>,
    pub primary: Option<bool>,
    pub filter: Option<FilterInput>,
    pub proxy: Option<String>,
    /// Gmail API only: where the API lives (tests point it at an emulator).
    pub api_base_url: Option<String>,
}

/// Where an outgoing server sends.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "protocol", rename_all = "snake_case")]
pub enum OutgoingTransport {
    Smtp {
        host: String,
        port: u16,
        security: Security,
    },
    GmailApi {
        api_base_url: String,
    },
}

/// A parsed outgoing server, without its password.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutgoingServerSpec {
    pub name: String,
    pub email: EmailAddress,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sender_name: Option<String>,
    #[serde(flatten)]
    pub transport: OutgoingTransport,
    #[serde(flatten)]
    pub auth: Auth,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reply_to: Option<EmailAddress>,
    pub enabled: bool,
    pub primary: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filter: Option<Filter>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub proxy: Option<ProxyUrl>,
}

impl OutgoingServerInput {
    /// Parses the server; `password_stored` says whether an earlier version has a password.
    pub fn parse(self, password_stored: bool) -> Result<OutgoingServerSpec, FieldErrors> {
        let mut errors = FieldErrors::new();
        let name = server::parse_name(self.name.as_deref(), &mut errors);
        let email = errors.collect(EmailAddress::parse(
            "email",
            self.email.as_deref().unwrap_or_default(),
        ));
        let sender_name = errors
            .collect(server::parse_label(
                "sender_name",
                self.sender_name.as_deref(),
            ))
            .flatten();
        let reply_to = match self
            .reply_to
            .as_deref()
            .map(str::trim)
            .filter(|r| !r.is_empty())
        {
            Some(r) => errors.collect(EmailAddress::parse("reply_to", r)),
            None => None,
        };
        let auth = server::parse_auth(
            AuthFields {
                auth: self.auth,
                oauth_app_id: self.oauth_app_id.as_deref(),
                service_account_id: self.service_account_id.as_deref(),
                username: self.username.as_deref(),
                password_given: self.password.is_some(),
                password_stored,
                default_username: email.as_ref().map(EmailAddress::as_str).unwrap_or_default(),
            },
            true,
            &mut errors,
        );
        let transport = match self.protocol {
            None => {
                errors.push(
                    FieldError::new("protocol", "the protocol is missing")
                        .with_hint("set `protocol` to `smtp` or `gmail_api`"),
                );
                None
            }
            Some(OutgoingProtocol::Smtp) => {
                if self.api_base_url.is_some() {
                    errors.push(
                        FieldError::new(
                            "api_base_url",
                            "`api_base_url` applies to the Gmail API only",
                        )
                        .with_hint("remove `api_base_url` or set it to null"),
                    );
                }
                let security = self.security.unwrap_or(Security::Starttls);
                let default_port = match security {
                    Security::Ssl => 465,
                    Security::Starttls => 587,
                    Security::None => 25,
                };
                let host = errors.collect(server::parse_host("host", self.host.as_deref()));
                let port = errors.collect(server::parse_port(self.port, default_port));
                if let Some(port) = port {
                    errors.collect(server::check_security_matches_port(security, port, 587));
                }
                if let Some(host) = &host {
                    errors.collect(server::check_plaintext(security, auth.as_ref(), host));
                }
                match (host, port) {
                    (Some(host), Some(port)) => Some(OutgoingTransport::Smtp {
                        host,
                        port,
                        security,
                    }),
                    _ => None,
                }
            }
            Some(OutgoingProtocol::GmailApi) => {
                for (field, given) in [
                    ("host", self.host.is_some()),
                    ("port", self.port.is_some()),
                    ("security", self.security.is_some()),
                ] {
                    if given {
                        errors.push(
                            FieldError::new(
                                field,
                                format!("`{field}` does not apply to the Gmail API"),
                            )
                            .with_hint(format!(
                                "remove `{field}` or set it to null; the API is reached over HTTPS"
                            )),
                        );
                    }
                }
                if matches!(auth, Some(Auth::Basic { .. } | Auth::None)) {
                    errors.push(FieldError::new("auth", "the Gmail API only accepts OAuth").with_hint("set `auth` to `oauth` with an `oauth_app_id` or a `service_account_id` (scope gmail.send)"));
                }
                if self.proxy.is_some() {
                    errors.push(
                        FieldError::new("proxy", "a proxy is not supported for the Gmail API yet")
                            .with_hint("remove `proxy`, or send over SMTP through the proxy"),
                    );
                }
                errors
                    .collect(crate::oauth_app::parse_endpoint_url(
                        "api_base_url",
                        self.api_base_url.as_deref().unwrap_or(GMAIL_API_BASE_URL),
                    ))
                    .map(|url| OutgoingTransport::GmailApi {
                        api_base_url: url.trim_end_matches('/').to_owned(),
                    })
            }
        };
        let filter = match self.filter.map(|f| f.parse(FilterUse::Outgoing)) {
            Some(Ok(f)) => Some(f),
            Some(Err(e)) => {
                errors.extend_under("filter", e);
                None
            }
            None => None,
        };
        let proxy = errors
            .collect(
                self.proxy
                    .as_deref()
                    .map(|p| ProxyUrl::parse("proxy", p))
                    .transpose(),
            )
            .flatten();
        if let Some(OutgoingTransport::Smtp { security, .. }) = &transport {
            errors.collect(server::check_plaintext_proxy(
                *security,
                auth.as_ref(),
                proxy.as_ref(),
            ));
        }
        let (Some(name), Some(email), Some(transport), Some(auth), true) =
            (name, email, transport, auth, errors.is_empty())
        else {
            return Err(errors);
        };
        Ok(OutgoingServerSpec {
            name,
            email,
            sender_name,
            transport,
            auth,
            reply_to,
            enabled: self.enabled.unwrap_or(true),
            primary: self.primary.unwrap_or(false),
            filter,
            proxy,
        })
    }
}

impl OutgoingServerSpec {
    pub fn protocol(&self) -> OutgoingProtocol {
        match self.transport {
            OutgoingTransport::Smtp { .. } => OutgoingProtocol::Smtp,
            OutgoingTransport::GmailApi { .. } => OutgoingProtocol::GmailApi,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn smtp(extra: serde_json::Value) -> Result<OutgoingServerSpec, FieldErrors> {
        let mut body = serde_json::json!({
            "name": "Notifications", "email": "support@example.com", "sender_name": "IT Support",
            "protocol": "smtp", "host": "smtp.gmail.com", "auth": "oauth",
            "oauth_app_id": "0b6f7a9e-3c1d-4e57-9a61-2f0c5d1e8b42", "reply_to": "support@example.com", "primary": true
        });
        for (k, v) in extra.as_object().unwrap() {
            body[k] = v.clone();
        }
        serde_json::from_value::<OutgoingServerInput>(body)
            .unwrap()
            .parse(false)
    }

    #[test]
    fn smtp_defaults_to_submission_with_starttls() {
        let spec = smtp(serde_json::json!({})).unwrap();
        assert_eq!(
            spec.transport,
            OutgoingTransport::Smtp {
                host: "smtp.gmail.com".into(),
                port: 587,
                security: Security::Starttls
            }
        );
        let ssl = smtp(serde_json::json!({"security": "ssl"})).unwrap();
        assert!(matches!(
            ssl.transport,
            OutgoingTransport::Smtp { port: 465, .. }
        ));
        let back: OutgoingServerSpec =
            serde_json::from_value(serde_json::to_value(&spec).unwrap()).unwrap();
        assert_eq!(back, spec);
    }

    #[test]
    fn starttls_on_465_gets_a_hint_and_header_injection_is_refused() {
        let e = smtp(serde_json::json!({"port": 465})).unwrap_err();
        assert_eq!(e.errors()[0].field, "security");
        let e =
            smtp(serde_json::json!({"sender_name": "IT\r\nBcc: victim@example.com"})).unwrap_err();
        assert_eq!(e.errors()[0].field, "sender_name");
        let e =
            smtp(serde_json::json!({"filter": {"type": "ignore", "keywords": ["x"]}})).unwrap_err();
        assert_eq!(e.errors()[0].field, "filter.keywords");
    }

    #[test]
    fn gmail_api_takes_no_host_and_only_oauth() {
        let spec = smtp(serde_json::json!({"protocol": "gmail_api", "host": null})).unwrap();
        assert_eq!(
            spec.transport,
            OutgoingTransport::GmailApi {
                api_base_url: GMAIL_API_BASE_URL.into()
            }
        );
        let e = smtp(serde_json::json!({"protocol": "gmail_api"})).unwrap_err();
        assert_eq!(e.errors()[0].field, "host");
        let e = smtp(serde_json::json!({"protocol": "gmail_api", "host": null, "auth": "none", "oauth_app_id": null})).unwrap_err();
        assert_eq!(e.errors()[0].field, "auth");
    }
}
