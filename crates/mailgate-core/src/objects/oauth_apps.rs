use super::{Resource, SecretMap, ViewContext, parse_body};
use crate::clock::rfc3339;
use mailgate_domain::oauth_app::{OAuthAppInput, OAuthAppSpec, Provider};
use mailgate_domain::{ExposeSecret, FieldErrors};
use mailgate_store::{ObjectKind, ObjectRow};
use serde::Serialize;

/// An OAuth app as the API shows it: the secret is never returned, only whether one is set.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct OAuthAppView {
    /// Set when the stored secrets of this object cannot be decrypted (another master key, or a
    /// damaged row): the object is listed, but cannot be used until they are entered again.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    pub id: String,
    pub name: String,
    pub provider: Provider,
    pub client_id: String,
    pub has_client_secret: bool,
    pub authorization_url: String,
    pub token_url: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub userinfo_url: Option<String>,
    pub scopes: Vec<String>,
    /// Register exactly this URI at the provider.
    pub redirect_uri: String,
    pub created_at: String,
    pub updated_at: String,
}

pub struct OAuthApps;

impl Resource for OAuthApps {
    type Spec = OAuthAppSpec;
    type View = OAuthAppView;
    const KIND: ObjectKind = ObjectKind::OAuthApp;
    const WHAT: &'static str = "OAuth app";
    const SECRETS: &'static [&'static str] = &["client_secret"];

    /// The client secret and the refresh tokens go to the token URL; codes and access tokens
    /// come back through the others.
    fn destination(spec: &OAuthAppSpec) -> super::endpoints::Destination {
        vec![
            ("token_url", spec.token_url.clone()),
            ("authorization_url", spec.authorization_url.clone()),
            (
                "userinfo_url",
                spec.userinfo_url.clone().unwrap_or_default(),
            ),
        ]
    }

    async fn secrets_moved(
        core: &crate::Core,
        id: mailgate_domain::Id,
        moved: &[&'static str],
    ) -> Result<(), super::ServiceError> {
        super::endpoints::drop_grants(core, id, moved).await
    }

    fn parse(
        body: serde_json::Value,
        stored: &SecretMap,
    ) -> Result<(OAuthAppSpec, SecretMap), FieldErrors> {
        let input: OAuthAppInput = parse_body(body)?;
        let secret = input
            .client_secret
            .clone()
            .filter(|s| !s.expose_secret().trim().is_empty());
        let spec = input.parse(stored.contains_key("client_secret"))?;
        Ok((
            spec,
            secret
                .map(|s| ("client_secret".to_owned(), s.expose_secret().trim().into()))
                .into_iter()
                .collect(),
        ))
    }

    fn name(spec: &OAuthAppSpec) -> &str {
        &spec.name
    }

    fn mark_broken(view: &mut Self::View, error: String) {
        view.error = Some(error);
    }

    fn view(
        ctx: &ViewContext<'_>,
        row: &ObjectRow,
        spec: OAuthAppSpec,
        secrets: &SecretMap,
    ) -> OAuthAppView {
        OAuthAppView {
            error: None,
            id: row.id.to_string(),
            name: spec.name,
            provider: spec.provider,
            client_id: spec.client_id,
            has_client_secret: secrets.contains_key("client_secret"),
            authorization_url: spec.authorization_url,
            token_url: spec.token_url,
            userinfo_url: spec.userinfo_url,
            scopes: spec.scopes,
            redirect_uri: ctx.core.settings.redirect_uri(),
            created_at: rfc3339(row.created_at_ms),
            updated_at: rfc3339(row.updated_at_ms),
        }
    }
}
