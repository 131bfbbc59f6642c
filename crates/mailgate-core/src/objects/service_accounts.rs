use super::{Resource, SecretMap, ServiceError, ViewContext, parse_body};
use crate::clock::rfc3339;
use mailgate_domain::service_account::{ServiceAccountKeyFile, ServiceAccountSpec};
use mailgate_domain::{ExposeSecret, FieldError, FieldErrors};
use mailgate_store::{ObjectKind, ObjectRow};
use serde::{Deserialize, Serialize};

/// A service account as the API shows it: the private key is never returned.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ServiceAccountView {
    /// Set when the stored secrets of this object cannot be decrypted (another master key, or a
    /// damaged row): the object is listed, but cannot be used until they are entered again.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    pub id: String,
    pub name: String,
    pub client_email: String,
    /// The numeric ID to grant domain-wide delegation to in the Workspace admin console.
    pub client_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub project_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub private_key_id: Option<String>,
    pub token_uri: String,
    pub has_private_key: bool,
    pub created_at: String,
    pub updated_at: String,
}

/// `{"name": ..., "key": {the key file}}`; the key file alone is accepted too.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Wrapped {
    name: Option<String>,
    key: Option<serde_json::Value>,
}

pub struct ServiceAccounts;

impl Resource for ServiceAccounts {
    type Spec = ServiceAccountSpec;
    type View = ServiceAccountView;
    const KIND: ObjectKind = ObjectKind::ServiceAccount;
    const WHAT: &'static str = "service account";

    fn parse(
        body: serde_json::Value,
        stored: &SecretMap,
    ) -> Result<(ServiceAccountSpec, SecretMap), FieldErrors> {
        let is_key_file = body.get("type").is_some() || body.get("private_key").is_some();
        let (name, mut key) = if is_key_file {
            (None, body)
        } else {
            let wrapped: Wrapped = parse_body(body)?;
            let Some(key) = wrapped.key else {
                return Err(FieldError::new("key", "the service account's JSON key is missing")
                    .with_hint("send the key file Google Cloud Console downloaded as the body, or as {\"name\": ..., \"key\": {...}}")
                    .into());
            };
            (wrapped.name, key)
        };
        // On an update that does not replace the key, validate against the stored one.
        if let (Some(map), Some(pem)) = (key.as_object_mut(), stored.get("private_key")) {
            map.entry("private_key")
                .or_insert_with(|| pem.expose_secret().into());
        }
        let file: ServiceAccountKeyFile = parse_body(key).map_err(|e| {
            let mut out = FieldErrors::new();
            out.extend_under(if is_key_file { "" } else { "key" }, e);
            out
        })?;
        let (spec, pem) = file.parse(name.as_deref()).map_err(|e| {
            if is_key_file {
                return e;
            }
            let mut out = FieldErrors::new();
            out.extend_under("key", e);
            out
        })?;
        Ok((
            spec,
            [("private_key".to_owned(), pem)].into_iter().collect(),
        ))
    }

    fn name(spec: &ServiceAccountSpec) -> &str {
        &spec.name
    }

    fn patch_base(spec: &ServiceAccountSpec) -> Result<serde_json::Value, ServiceError> {
        Ok(serde_json::json!({
            "name": spec.name,
            "key": {
                "type": "service_account",
                "client_email": spec.client_email,
                "client_id": spec.client_id,
                "project_id": spec.project_id,
                "private_key_id": spec.private_key_id,
                "token_uri": spec.token_uri,
            }
        }))
    }

    fn mark_broken(view: &mut Self::View, error: String) {
        view.error = Some(error);
    }

    fn view(
        _ctx: &ViewContext<'_>,
        row: &ObjectRow,
        spec: ServiceAccountSpec,
        secrets: &SecretMap,
    ) -> ServiceAccountView {
        ServiceAccountView {
            error: None,
            id: row.id.to_string(),
            name: spec.name,
            client_email: spec.client_email.to_string(),
            client_id: spec.client_id,
            project_id: spec.project_id,
            private_key_id: spec.private_key_id,
            token_uri: spec.token_uri,
            has_private_key: secrets.contains_key("private_key"),
            created_at: rfc3339(row.created_at_ms),
            updated_at: rfc3339(row.updated_at_ms),
        }
    }
}
