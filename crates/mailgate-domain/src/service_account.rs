//! Google service accounts: an uploaded JSON key, used with domain-wide delegation.

use crate::{EmailAddress, FieldError, FieldErrors};
use rustls_pki_types::{PrivatePkcs8KeyDer, pem::PemObject};
use serde::{Deserialize, Serialize};

pub const GOOGLE_TOKEN_URI: &str = "https://oauth2.googleapis.com/token";

/// The key file Google Cloud Console downloads. Unknown fields (auth_uri, universe_domain, ...)
/// are accepted and dropped: the file is pasted as it is.
#[derive(Clone, Default, Deserialize, utoipa::ToSchema)]
pub struct ServiceAccountKeyFile {
    #[serde(rename = "type")]
    pub kind: Option<String>,
    pub project_id: Option<String>,
    pub private_key_id: Option<String>,
    /// PKCS#8 PEM; write-only.
    #[schema(value_type = Option<String>, write_only)]
    pub private_key: Option<secrecy::SecretString>,
    pub client_email: Option<String>,
    pub client_id: Option<String>,
    pub token_uri: Option<String>,
}

impl std::fmt::Debug for ServiceAccountKeyFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServiceAccountKeyFile")
            .field("client_email", &self.client_email)
            .field("client_id", &self.client_id)
            .field("private_key", &"[redacted]")
            .finish_non_exhaustive()
    }
}

/// A parsed service account, without its private key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ServiceAccountSpec {
    pub name: String,
    #[schema(value_type = String)]
    pub client_email: EmailAddress,
    pub client_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub project_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub private_key_id: Option<String>,
    pub token_uri: String,
}

impl ServiceAccountKeyFile {
    /// Parses the key file; the private key is returned apart so it can be sealed.
    pub fn parse(
        self,
        name: Option<&str>,
    ) -> Result<(ServiceAccountSpec, secrecy::SecretString), FieldErrors> {
        let mut errors = FieldErrors::new();
        match self.kind.as_deref() {
            Some("service_account") => {}
            Some(other) => errors.push(
                FieldError::new("type", format!("this is a `{other}` key file, not a service account key"))
                    .with_hint("download a JSON key from IAM & Admin > Service Accounts > Keys > Add key; an OAuth client's JSON goes to /api/v1/oauth-apps"),
            ),
            None => errors.push(FieldError::new("type", "the key file has no `type`").with_hint("upload the JSON key file exactly as Google Cloud Console downloaded it")),
        }
        let client_email = match self.client_email.as_deref() {
            Some(e) => errors.collect(EmailAddress::parse("client_email", e)),
            None => {
                errors.push(
                    FieldError::new("client_email", "the key file has no `client_email`")
                        .with_hint("upload the JSON key file exactly as downloaded"),
                );
                None
            }
        };
        let client_id = self.client_id.as_deref().map(str::trim).unwrap_or_default();
        if client_id.is_empty() || !client_id.chars().all(|c| c.is_ascii_digit()) {
            errors.push(
                FieldError::new("client_id", "the key file's `client_id` must be the service account's numeric ID")
                    .with_hint("upload the JSON key file exactly as downloaded; the same number is granted domain-wide delegation in the Workspace admin console"),
            );
        }
        let key = self
            .private_key
            .as_ref()
            .map(|k| secrecy::ExposeSecret::expose_secret(k).to_owned());
        match key.as_deref() {
            None => errors.push(
                FieldError::new("private_key", "the key file has no `private_key`")
                    .with_hint("upload the JSON key file exactly as downloaded"),
            ),
            Some(pem) => {
                if let Err(why) = check_rsa_pkcs8_pem(pem) {
                    errors.push(
                        FieldError::new(
                            "private_key",
                            format!("the private key cannot be used: {why}"),
                        )
                        .with_hint(
                            "create a new JSON key for the service account and upload it whole",
                        ),
                    );
                }
            }
        }
        let token_uri = errors.collect(crate::oauth_app::parse_endpoint_url(
            "token_uri",
            self.token_uri.as_deref().unwrap_or(GOOGLE_TOKEN_URI),
        ));
        let name = name
            .map(str::trim)
            .filter(|n| !n.is_empty())
            .map(str::to_owned)
            .or_else(|| client_email.as_ref().map(|e| e.to_string()));
        let name = match name {
            Some(n) => crate::server::parse_name(Some(&n), &mut errors),
            None => None,
        };
        let clean = |v: Option<String>| v.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty());
        let (Some(client_email), true) = (client_email, errors.is_empty()) else {
            return Err(errors);
        };
        Ok((
            ServiceAccountSpec {
                name: name.unwrap_or_default(),
                client_email,
                client_id: client_id.to_owned(),
                project_id: clean(self.project_id),
                private_key_id: clean(self.private_key_id),
                token_uri: token_uri.unwrap_or_default(),
            },
            secrecy::SecretString::from(key.unwrap_or_default()),
        ))
    }
}

/// Checks that a PEM holds an RSA private key in PKCS#8, as Google issues them.
pub fn check_rsa_pkcs8_pem(pem: &str) -> Result<(), String> {
    let der = PrivatePkcs8KeyDer::from_pem_slice(pem.as_bytes())
        .map_err(|_| "it is not a PKCS#8 PEM block (-----BEGIN PRIVATE KEY-----)".to_owned())?;
    ring::signature::RsaKeyPair::from_pkcs8(der.secret_pkcs8_der())
        .map_err(|e| format!("it is not an RSA key ring accepts ({e})"))?;
    Ok(())
}
