//! OAuth apps: a client registered at a provider, with its endpoints and scopes.

use crate::{FieldError, FieldErrors};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Provider {
    Google,
    Microsoft,
    Generic,
}

/// What a preset fills in; every value stays editable.
pub struct Preset {
    pub authorization_url: &'static str,
    pub token_url: &'static str,
    pub userinfo_url: Option<&'static str>,
    pub scopes: &'static [&'static str],
}

impl Provider {
    /// `openid email` ride along with the mail scope so that the callback can learn which account
    /// signed in and refuse one that is not the server's mailbox.
    pub fn preset(self) -> Option<Preset> {
        match self {
            Provider::Google => Some(Preset {
                authorization_url: "https://accounts.google.com/o/oauth2/v2/auth",
                token_url: "https://oauth2.googleapis.com/token",
                userinfo_url: Some("https://openidconnect.googleapis.com/v1/userinfo"),
                scopes: &["https://mail.google.com/", "openid", "email"],
            }),
            Provider::Microsoft => Some(Preset {
                authorization_url: "https://login.microsoftonline.com/common/oauth2/v2.0/authorize",
                token_url: "https://login.microsoftonline.com/common/oauth2/v2.0/token",
                userinfo_url: None,
                scopes: &[
                    "https://outlook.office.com/IMAP.AccessAsUser.All",
                    "https://outlook.office.com/POP.AccessAsUser.All",
                    "https://outlook.office.com/SMTP.Send",
                    "offline_access",
                    "openid",
                    "email",
                ],
            }),
            Provider::Generic => None,
        }
    }
}

/// An OAuth app as a request gives it (create, or an existing one with a patch laid over it).
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OAuthAppInput {
    pub name: Option<String>,
    pub provider: Option<Provider>,
    pub client_id: Option<String>,
    /// Write-only: never returned.
    #[schema(value_type = Option<String>, write_only)]
    pub client_secret: Option<secrecy::SecretString>,
    pub authorization_url: Option<String>,
    pub token_url: Option<String>,
    pub userinfo_url: Option<String>,
    pub scopes: Option<Vec<String>>,
}

/// A parsed OAuth app, without its secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct OAuthAppSpec {
    pub name: String,
    pub provider: Provider,
    pub client_id: String,
    pub authorization_url: String,
    pub token_url: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub userinfo_url: Option<String>,
    pub scopes: Vec<String>,
}

impl OAuthAppInput {
    /// Parses the app; `secret_stored` says whether an earlier version already has a secret.
    pub fn parse(self, secret_stored: bool) -> Result<OAuthAppSpec, FieldErrors> {
        let mut errors = FieldErrors::new();
        let name = crate::server::parse_name(self.name.as_deref(), &mut errors);
        let provider = self.provider;
        if provider.is_none() {
            errors.push(
                FieldError::new("provider", "the provider is missing")
                    .with_hint("set `provider` to `google`, `microsoft` or `generic`"),
            );
        }
        let preset = provider.and_then(Provider::preset);
        let client_id = self
            .client_id
            .as_deref()
            .map(str::trim)
            .filter(|c| !c.is_empty());
        match client_id {
            None => errors.push(FieldError::new("client_id", "the client ID is missing").with_hint("copy the client ID of the web client you created in the provider's console")),
            Some(c) if c.chars().any(|ch| ch.is_whitespace() || ch.is_control()) => {
                errors.push(FieldError::new("client_id", "the client ID contains spaces").with_hint("paste the client ID again, without spaces or line breaks"))
            }
            Some(c) if provider == Some(Provider::Google) && !c.ends_with(".apps.googleusercontent.com") => errors.push(
                FieldError::new("client_id", "a Google client ID ends with .apps.googleusercontent.com")
                    .with_hint("copy the OAuth client ID (not the project ID or the service account's numeric ID) from Google Cloud Console > Clients"),
            ),
            Some(_) => {}
        }
        let secret_given = self
            .client_secret
            .as_ref()
            .is_some_and(|s| !secrecy::ExposeSecret::expose_secret(s).trim().is_empty());
        if !secret_given
            && !secret_stored
            && matches!(provider, Some(Provider::Google | Provider::Microsoft))
        {
            errors.push(FieldError::new("client_secret", "the client secret is missing").with_hint("copy the client secret shown when the client was created (or create a new secret)"));
        }
        let url = |field: &str,
                   given: Option<String>,
                   preset: Option<&'static str>,
                   errors: &mut FieldErrors|
         -> Option<String> {
            match given.or(preset.map(str::to_owned)) {
                Some(text) => errors.collect(parse_endpoint_url(field, &text)),
                None => {
                    errors.push(
                        FieldError::new(
                            field,
                            format!("`{field}` is required for a generic provider"),
                        )
                        .with_hint("copy it from the provider's OAuth2 documentation"),
                    );
                    None
                }
            }
        };
        let authorization_url = url(
            "authorization_url",
            self.authorization_url,
            preset.as_ref().map(|p| p.authorization_url),
            &mut errors,
        );
        let token_url = url(
            "token_url",
            self.token_url,
            preset.as_ref().map(|p| p.token_url),
            &mut errors,
        );
        let userinfo_url = match self.userinfo_url.or(preset
            .as_ref()
            .and_then(|p| p.userinfo_url.map(str::to_owned)))
        {
            Some(text) => errors.collect(parse_endpoint_url("userinfo_url", &text)),
            None => None,
        };
        let scopes = parse_scopes(self.scopes, preset.as_ref().map(|p| p.scopes), &mut errors);
        errors.finish(|| OAuthAppSpec {
            name: name.unwrap_or_default(),
            provider: provider.unwrap_or(Provider::Generic),
            client_id: client_id.unwrap_or_default().to_owned(),
            authorization_url: authorization_url.unwrap_or_default(),
            token_url: token_url.unwrap_or_default(),
            userinfo_url,
            scopes: scopes.unwrap_or_default(),
        })
    }
}

fn parse_scopes(
    given: Option<Vec<String>>,
    preset: Option<&[&str]>,
    errors: &mut FieldErrors,
) -> Option<Vec<String>> {
    let scopes: Vec<String> = match (given, preset) {
        (Some(list), _) => list
            .iter()
            .flat_map(|s| s.split_whitespace())
            .map(str::to_owned)
            .collect(),
        (None, Some(preset)) => preset.iter().map(|s| s.to_string()).collect(),
        (None, None) => Vec::new(),
    };
    if scopes.is_empty() {
        errors.push(
            FieldError::new("scopes", "at least one scope is required")
                .with_hint("for Gmail use https://mail.google.com/"),
        );
        return None;
    }
    for (i, s) in scopes.iter().enumerate() {
        if s.chars().any(|c| c.is_control() || c == '"' || c == '\\') {
            errors.push(
                FieldError::new(format!("scopes[{i}]"), format!("`{s}` is not a scope")).with_hint(
                    "scopes are URLs or words such as https://mail.google.com/ or offline_access",
                ),
            );
            return None;
        }
    }
    let mut unique = scopes.clone();
    unique.sort();
    unique.dedup();
    if unique.len() != scopes.len() {
        errors.push(
            FieldError::new("scopes", "a scope is listed twice").with_hint("list each scope once"),
        );
        return None;
    }
    Some(scopes)
}

/// An endpoint URL: HTTPS, or HTTP on this machine only (local emulators and tests).
pub fn parse_endpoint_url(field: &str, text: &str) -> Result<String, FieldError> {
    let text = text.trim();
    let url = url::Url::parse(text).map_err(|e| {
        FieldError::new(field, format!("`{text}` is not a URL: {e}"))
            .with_hint("write a full URL such as https://oauth2.googleapis.com/token")
    })?;
    let host = url.host_str().unwrap_or_default();
    match url.scheme() {
        "https" => {}
        "http" if crate::server::is_loopback_host(host.trim_matches(['[', ']'])) => {}
        _ => {
            return Err(FieldError::new(field, format!("`{text}` must use https"))
                .with_hint("tokens and secrets travel over this URL; plain http is only accepted for 127.0.0.1 or localhost"));
        }
    }
    if host.is_empty() {
        return Err(FieldError::new(field, format!("`{text}` has no host"))
            .with_hint("write a full URL such as https://oauth2.googleapis.com/token"));
    }
    Ok(url.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn google() -> OAuthAppInput {
        OAuthAppInput {
            name: Some("Google".into()),
            provider: Some(Provider::Google),
            client_id: Some("123.apps.googleusercontent.com".into()),
            client_secret: Some("s3cret".into()),
            ..Default::default()
        }
    }

    #[test]
    fn the_google_preset_fills_endpoints_and_scopes() {
        let spec = google().parse(false).unwrap();
        assert_eq!(
            spec.authorization_url,
            "https://accounts.google.com/o/oauth2/v2/auth"
        );
        assert_eq!(spec.token_url, "https://oauth2.googleapis.com/token");
        assert_eq!(spec.scopes[0], "https://mail.google.com/");
    }

    #[test]
    fn preset_values_stay_editable() {
        let spec = OAuthAppInput {
            token_url: Some("http://127.0.0.1:9999/token".into()),
            scopes: Some(vec!["https://mail.google.com/ openid".into()]),
            ..google()
        }
        .parse(false)
        .unwrap();
        assert_eq!(spec.token_url, "http://127.0.0.1:9999/token");
        assert_eq!(spec.scopes, ["https://mail.google.com/", "openid"]);
    }

    #[test]
    fn every_problem_is_listed() {
        let errors = OAuthAppInput {
            name: Some(" ".into()),
            provider: Some(Provider::Generic),
            client_id: None,
            token_url: Some("http://idp.example.com/token".into()),
            ..Default::default()
        }
        .parse(false)
        .unwrap_err();
        let fields: Vec<_> = errors.errors().iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "name",
                "client_id",
                "authorization_url",
                "token_url",
                "scopes"
            ]
        );
    }

    #[test]
    fn a_secret_is_needed_once() {
        let without = OAuthAppInput {
            client_secret: None,
            ..google()
        };
        assert_eq!(
            without.clone().parse(false).unwrap_err().errors()[0].field,
            "client_secret"
        );
        without.parse(true).unwrap();
    }

    #[test]
    fn a_google_client_id_is_recognised() {
        let e = OAuthAppInput {
            client_id: Some("my-project-123".into()),
            ..google()
        }
        .parse(false)
        .unwrap_err();
        assert!(e.errors()[0].hint.as_deref().unwrap().contains("Clients"));
    }
}
