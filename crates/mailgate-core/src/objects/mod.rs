//! OAuth apps, service accounts, incoming and outgoing servers: created, listed, read, patched
//! and deleted through one generic service; each kind says how it parses, links and shows itself.

mod endpoints;
mod incoming;
mod json;
mod oauth_apps;
mod outgoing;
mod service_accounts;

pub use incoming::{CredentialView, IncomingServerView, IncomingServers, ServerStatus};
pub use json::parse_body;
pub use oauth_apps::{OAuthAppView, OAuthApps};
pub use outgoing::{OutgoingServerView, OutgoingServers};
pub use service_accounts::{ServiceAccountView, ServiceAccounts};

use crate::Core;
use crate::secrets::SecretError;
use mailgate_domain::{FieldError, FieldErrors, Id};
use mailgate_store::{Link, ObjectKind, ObjectRow, Sealed, StoreError};
use secrecy::{ExposeSecret, SecretString};
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::collections::BTreeMap;

/// What a service call can fail with, in terms the API and the CLI turn into answers.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    #[error("invalid input: {0}")]
    Invalid(FieldErrors),
    #[error("no {what} has the id {id}")]
    NotFound { what: &'static str, id: String },
    #[error("another {what} is already named `{name}`")]
    NameTaken { what: &'static str, name: String },
    #[error("this {what} is still used by: {}", users.join(", "))]
    InUse {
        what: &'static str,
        users: Vec<String>,
    },
    /// An update changes where a stored secret goes without carrying the secret again.
    #[error(
        "`{changed}` changes where the stored `{secret}` is sent, and the request does not give `{secret}` again"
    )]
    SecretRequired {
        secret: &'static str,
        changed: String,
    },
    #[error(transparent)]
    Secret(#[from] SecretError),
    #[error(transparent)]
    Store(StoreError),
}

impl From<FieldErrors> for ServiceError {
    fn from(e: FieldErrors) -> Self {
        ServiceError::Invalid(e)
    }
}

impl From<StoreError> for ServiceError {
    fn from(e: StoreError) -> Self {
        ServiceError::Store(e)
    }
}

/// Secrets of one object, sealed together as a JSON map.
pub type SecretMap = BTreeMap<String, SecretString>;

/// What one kind of configuration object must say about itself.
pub trait Resource: Send + Sync + 'static {
    type Spec: Serialize + DeserializeOwned + Send + Sync;
    type View: Serialize + Send;
    const KIND: ObjectKind;
    /// How users call it: "OAuth app", "incoming server", ...
    const WHAT: &'static str;

    /// Parses a request body. `stored` names the secrets an earlier version already has.
    fn parse(
        body: serde_json::Value,
        stored: &SecretMap,
    ) -> Result<(Self::Spec, SecretMap), FieldErrors>;
    fn name(spec: &Self::Spec) -> &str;
    fn links(_spec: &Self::Spec) -> Link {
        Link::default()
    }
    /// `(enabled, primary)`.
    fn flags(_spec: &Self::Spec) -> (bool, bool) {
        (true, false)
    }
    /// The spec with the row's authoritative flags applied.
    fn with_flags(spec: Self::Spec, _enabled: bool, _primary: bool) -> Self::Spec {
        spec
    }
    /// The body an update starts from: the stored spec, as the create request would give it.
    fn patch_base(spec: &Self::Spec) -> Result<serde_json::Value, ServiceError> {
        serde_json::to_value(spec)
            .map_err(|e| ServiceError::Store(StoreError::Corrupt(e.to_string())))
    }
    fn view(
        ctx: &ViewContext<'_>,
        row: &ObjectRow,
        spec: Self::Spec,
        secrets: &SecretMap,
    ) -> Self::View;
    /// Runs once a write (create, update, delete) is committed, before it is answered.
    fn written(_core: &Core) -> impl Future<Output = ()> + Send {
        std::future::ready(())
    }
    /// The secrets that are sent to [`Resource::destination`].
    const SECRETS: &'static [&'static str] = &[];
    /// Where the secrets go (see `endpoints`); empty for objects whose secrets go nowhere.
    fn destination(_spec: &Self::Spec) -> endpoints::Destination {
        Vec::new()
    }
    /// Called after an update that changed where secrets go (`moved`: the fields).
    fn secrets_moved(
        _core: &Core,
        _id: Id,
        _moved: &[&'static str],
    ) -> impl std::future::Future<Output = Result<(), ServiceError>> + Send {
        async { Ok(()) }
    }
    /// Marks a listed object whose secrets cannot be opened.
    fn mark_broken(view: &mut Self::View, error: String);
}

/// What views need beyond the object: the core, and the credentials (fetched once per answer).
pub struct ViewContext<'a> {
    pub core: &'a Core,
    pub credentials: &'a [mailgate_store::CredentialRow],
}

/// The generic service over one kind.
pub struct Objects<R: Resource>(std::marker::PhantomData<R>);

impl<R: Resource> Objects<R> {
    pub async fn create(core: &Core, body: serde_json::Value) -> Result<R::View, ServiceError> {
        let (spec, secrets) = R::parse(body, &SecretMap::new())?;
        check_links(core, R::links(&spec)).await?;
        let now = crate::now_ms();
        let id = Id::new();
        let (enabled, primary) = R::flags(&spec);
        let row = ObjectRow {
            id,
            kind: R::KIND,
            name: R::name(&spec).to_owned(),
            spec: spec_json(&spec)?,
            sealed: seal(core, id, &secrets)?,
            enabled,
            is_primary: primary,
            links: R::links(&spec),
            created_at_ms: now,
            updated_at_ms: now,
        };
        core.store
            .insert_object(&row)
            .await
            .map_err(|e| Self::write_error(e, &row.name))?;
        R::written(core).await;
        let credentials = core.store.list_credentials().await?;
        Ok(R::view(
            &ViewContext {
                core,
                credentials: &credentials,
            },
            &row,
            spec,
            &secrets,
        ))
    }

    pub async fn list(core: &Core) -> Result<Vec<R::View>, ServiceError> {
        let rows = core.store.list_objects(R::KIND).await?;
        let credentials = core.store.list_credentials().await?;
        let ctx = ViewContext {
            core,
            credentials: &credentials,
        };
        rows.iter().map(|row| Self::list_view(&ctx, row)).collect()
    }

    /// A listed object: one whose secrets cannot be opened is shown without them, marked with
    /// its error, so that one damaged row does not hide the others.
    fn list_view(ctx: &ViewContext<'_>, row: &ObjectRow) -> Result<R::View, ServiceError> {
        match Self::to_view(ctx, row) {
            Err(ServiceError::Secret(SecretError::Open)) => {
                if first_report_of_broken(row.id) {
                    tracing::error!(
                    kind = R::WHAT,
                    id = %row.id,
                    "the stored secrets of this object cannot be decrypted (another master key, or a damaged row); it is listed as broken"
                    );
                }
                let mut view = R::view(ctx, row, Self::spec(row)?, &SecretMap::new());
                R::mark_broken(
                    &mut view,
                    format!(
                        "the stored secrets of {} {} cannot be decrypted (another master key, or a damaged row); enter them again with PATCH, or delete it",
                        R::WHAT,
                        row.id
                    ),
                );
                Ok(view)
            }
            other => other,
        }
    }

    pub async fn get(core: &Core, id: &str) -> Result<R::View, ServiceError> {
        let row = Self::row(core, id).await?;
        let credentials = core.store.list_credentials().await?;
        Self::to_view(
            &ViewContext {
                core,
                credentials: &credentials,
            },
            &row,
        )
    }

    /// The stored spec and secrets of one object (for the services that use them).
    pub async fn load(
        core: &Core,
        id: Id,
    ) -> Result<(ObjectRow, R::Spec, SecretMap), ServiceError> {
        let row = core
            .store
            .get_object(R::KIND, id)
            .await?
            .ok_or_else(|| Self::not_found(&id.to_string()))?;
        let spec = Self::spec(&row)?;
        let secrets = open(core, &row)?;
        Ok((row, spec, secrets))
    }

    /// Applies a JSON merge patch (RFC 7396): given fields replace, `null` clears, secrets left
    /// out are kept.
    pub async fn update(
        core: &Core,
        id: &str,
        patch: serde_json::Value,
    ) -> Result<R::View, ServiceError> {
        let old = Self::row(core, id).await?;
        let old_spec = Self::spec(&old)?;
        let mut stored = open(core, &old)?;
        if !patch.is_object() {
            return Err(FieldErrors::from(
                FieldError::new("", "the body must be a JSON object")
                    .with_hint("send only the fields to change, e.g. {\"enabled\": false}"),
            )
            .into());
        }
        // A secret set to null is cleared (e.g. a password no longer needed) before the body is
        // checked, so a configuration that still needs it is refused as a create without it.
        if let Some(map) = patch.as_object() {
            stored.retain(|name, _| !map.get(name).is_some_and(serde_json::Value::is_null));
        }
        let body = json::merge_patch(R::patch_base(&old_spec)?, patch.clone());
        let (spec, given) = R::parse(body, &stored)?;
        let moved = endpoints::check::<R>(&old_spec, &spec, &stored, &given)?;
        check_links(core, R::links(&spec)).await?;
        for (name, value) in given {
            stored.insert(name, value);
        }
        let (enabled, primary) = R::flags(&spec);
        let row = ObjectRow {
            name: R::name(&spec).to_owned(),
            spec: spec_json(&spec)?,
            sealed: seal(core, old.id, &stored)?,
            enabled,
            is_primary: primary,
            links: R::links(&spec),
            updated_at_ms: crate::now_ms(),
            ..old
        };
        core.store
            .update_object(&row)
            .await
            .map_err(|e| Self::write_error(e, &row.name))?;
        if !moved.is_empty() {
            R::secrets_moved(core, row.id, &moved).await?;
        }
        R::written(core).await;
        let credentials = core.store.list_credentials().await?;
        Ok(R::view(
            &ViewContext {
                core,
                credentials: &credentials,
            },
            &row,
            spec,
            &stored,
        ))
    }

    pub async fn delete(core: &Core, id: &str) -> Result<(), ServiceError> {
        let row = Self::row(core, id).await?;
        match core.store.delete_object(R::KIND, row.id).await {
            Ok(true) => {
                R::written(core).await;
                Ok(())
            }
            Ok(false) => Err(Self::not_found(id)),
            Err(StoreError::InUse(ids)) => {
                let users = core.store.objects_linking_to(row.id).await?;
                let mut names: Vec<String> = users
                    .iter()
                    .map(|u| format!("{} `{}` ({})", kind_what(u.kind), u.name, u.id))
                    .collect();
                if names.is_empty() {
                    names = ids.iter().map(Id::to_string).collect();
                }
                Err(ServiceError::InUse {
                    what: R::WHAT,
                    users: names,
                })
            }
            Err(e) => Err(e.into()),
        }
    }

    /// Every object of this kind with its parsed spec (no secrets opened, no views built).
    pub async fn specs(core: &Core) -> Result<Vec<(ObjectRow, R::Spec)>, ServiceError> {
        let rows = core.store.list_objects(R::KIND).await?;
        rows.into_iter()
            .map(|row| {
                let spec = Self::spec(&row)?;
                Ok((row, spec))
            })
            .collect()
    }

    async fn row(core: &Core, id: &str) -> Result<ObjectRow, ServiceError> {
        let parsed = Id::parse("id", id).map_err(|_| Self::not_found(id))?;
        core.store
            .get_object(R::KIND, parsed)
            .await?
            .ok_or_else(|| Self::not_found(id))
    }

    fn spec(row: &ObjectRow) -> Result<R::Spec, ServiceError> {
        let spec: R::Spec = serde_json::from_str(&row.spec)
            .map_err(|e| StoreError::Corrupt(format!("{} {}: {e}", R::WHAT, row.id)))?;
        Ok(R::with_flags(spec, row.enabled, row.is_primary))
    }

    fn to_view(ctx: &ViewContext<'_>, row: &ObjectRow) -> Result<R::View, ServiceError> {
        let spec = Self::spec(row)?;
        let secrets = open(ctx.core, row)?;
        Ok(R::view(ctx, row, spec, &secrets))
    }

    fn not_found(id: &str) -> ServiceError {
        ServiceError::NotFound {
            what: R::WHAT,
            id: id.to_owned(),
        }
    }

    fn write_error(e: StoreError, name: &str) -> ServiceError {
        match e {
            StoreError::Conflict(_) => ServiceError::NameTaken {
                what: R::WHAT,
                name: name.to_owned(),
            },
            StoreError::MissingLink => FieldErrors::from(
                FieldError::new("", "a linked object was deleted meanwhile")
                    .with_hint("check the ids and retry"),
            )
            .into(),
            other => other.into(),
        }
    }
}

pub(crate) fn kind_what(kind: ObjectKind) -> &'static str {
    match kind {
        ObjectKind::OAuthApp => "OAuth app",
        ObjectKind::ServiceAccount => "service account",
        ObjectKind::IncomingServer => "incoming server",
        ObjectKind::OutgoingServer => "outgoing server",
    }
}

/// Every link must name an existing object of the right kind; each missing one is reported.
async fn check_links(core: &Core, links: Link) -> Result<(), ServiceError> {
    let mut errors = FieldErrors::new();
    for (field, kind, id, path) in [
        (
            "oauth_app_id",
            ObjectKind::OAuthApp,
            links.oauth_app_id,
            "/api/v1/oauth-apps",
        ),
        (
            "service_account_id",
            ObjectKind::ServiceAccount,
            links.service_account_id,
            "/api/v1/service-accounts",
        ),
        (
            "outgoing_server_id",
            ObjectKind::OutgoingServer,
            links.outgoing_server_id,
            "/api/v1/outgoing-servers",
        ),
    ] {
        let Some(id) = id else { continue };
        if core.store.get_object(kind, id).await?.is_none() {
            errors.push(
                FieldError::new(field, format!("no {} has the id {id}", kind_what(kind)))
                    .with_hint(format!(
                        "list them with GET {path}, or create one there first"
                    )),
            );
        }
    }
    errors.finish(|| ()).map_err(ServiceError::Invalid)
}

fn spec_json<T: Serialize>(spec: &T) -> Result<String, ServiceError> {
    serde_json::to_string(spec).map_err(|e| ServiceError::Store(StoreError::Corrupt(e.to_string())))
}

fn aad(id: Id) -> String {
    format!("config_objects:{id}:sealed")
}

fn seal(core: &Core, id: Id, secrets: &SecretMap) -> Result<Option<Sealed>, ServiceError> {
    if secrets.is_empty() {
        return Ok(None);
    }
    let plain: BTreeMap<&str, &str> = secrets
        .iter()
        .map(|(k, v)| (k.as_str(), v.expose_secret()))
        .collect();
    let bytes = serde_json::to_vec(&plain).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    Ok(Some(core.cipher.seal(&aad(id), &bytes)?.into()))
}

fn open(core: &Core, row: &ObjectRow) -> Result<SecretMap, ServiceError> {
    let Some(sealed) = &row.sealed else {
        return Ok(SecretMap::new());
    };
    let bytes = core.cipher.open(&aad(row.id), sealed)?;
    let plain: BTreeMap<String, String> =
        serde_json::from_slice(&bytes).map_err(|_| SecretError::Open)?;
    Ok(plain
        .into_iter()
        .map(|(k, v)| (k, SecretString::from(v)))
        .collect())
}

/// Whether this object's undecryptable secrets are reported for the first time in this process
/// (logged once, not at every list).
fn first_report_of_broken(id: Id) -> bool {
    static REPORTED: std::sync::Mutex<std::collections::BTreeSet<String>> =
        std::sync::Mutex::new(std::collections::BTreeSet::new());
    REPORTED
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .insert(id.to_string())
}
