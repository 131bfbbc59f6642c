//! mailgate's core: configuration, secrets, and the services the HTTP API and the CLI share.

pub mod admin;
pub mod clock;
pub mod config;
pub mod doctor;
pub mod events;
pub mod login;
pub mod oauth;
pub mod objects;
#[cfg(test)]
mod raised_codes;
pub mod receive;
pub mod secrets;
pub mod send;
pub mod test_connection;
pub mod tickets;
pub mod token_error;
pub mod tokens;
pub mod workers;

use anyhow::Context;
use clock::{Clock, SystemClock};
use config::{MasterKeySource, Settings};
use secrets::{Cipher, MasterKey, SecretError};
use std::sync::Arc;

pub use mailgate_store::Store;

/// What every service call needs: settings, the store, the cipher, the clock, an HTTP client
/// for providers, and the token manager.
pub struct Core {
    pub settings: Settings,
    pub store: Arc<dyn Store>,
    pub cipher: Cipher,
    pub clock: Arc<dyn Clock>,
    /// For OAuth and Gmail API calls: verified TLS (plus `tls.extra_ca_file`), no redirects.
    pub http: reqwest::Client,
    pub tokens: tokens::TokenManager,
    /// SMTP connections kept for the next messages.
    pub smtp: send::SmtpPools,
    /// Wakes the outbox worker when a message is queued.
    pub outbox_wake: tokio::sync::Notify,
    /// Wakes the mailbox supervisor when an incoming server or a credential changes.
    pub mailbox_wake: receive::supervisor::Wake,
}

impl std::fmt::Debug for Core {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Core")
            .field("store", &self.store.backend_name())
            .finish_non_exhaustive()
    }
}

impl Core {
    /// Creates the data directory, opens (and migrates) the store, loads or creates the master
    /// key and proves it is the key the database's secrets were sealed with.
    pub async fn open(settings: Settings) -> anyhow::Result<Self> {
        Self::open_with(settings, Arc::new(SystemClock)).await
    }

    /// As [`Core::open`], with the clock given (tests pass a manual one).
    pub async fn open_with(settings: Settings, clock: Arc<dyn Clock>) -> anyhow::Result<Self> {
        let store = open_store(&settings).await?;
        let key = match &settings.master_key {
            MasterKeySource::Inline(text) => {
                MasterKey::from_base64(secrecy::ExposeSecret::expose_secret(text))?
            }
            MasterKeySource::File(path) => {
                if !path.exists() && secrets::database_has_key(store.as_ref()).await? {
                    return Err(SecretError::KeyLost {
                        path: path.display().to_string(),
                    }
                    .into());
                }
                let (key, created) = MasterKey::load_or_create(path)?;
                if created {
                    tracing::info!(path = %path.display(), "created a new master key; back it up with the database");
                }
                key
            }
        };
        let cipher = Cipher::new(&key);
        cipher.verify_against(store.as_ref()).await?;
        let http = http_client(&settings)?;
        Ok(Self {
            settings,
            store,
            cipher,
            clock,
            http,
            tokens: tokens::TokenManager::default(),
            smtp: send::SmtpPools::default(),
            outbox_wake: tokio::sync::Notify::new(),
            mailbox_wake: receive::supervisor::Wake::default(),
        })
    }
}

/// Opens the store alone (CLI commands that touch no secret), creating the data directory.
pub async fn open_store(settings: &Settings) -> anyhow::Result<Arc<dyn Store>> {
    secrets::private_dir(&settings.data_dir).with_context(|| {
        format!(
            "cannot create the data directory {} (storage.data_dir) with mode 0700",
            settings.data_dir.display()
        )
    })?;
    let options = mailgate_store::StoreOptions {
        max_connections: settings.database_max_connections,
        allow_async_commit: settings.database_allow_async_commit,
        ..Default::default()
    };
    mailgate_store::open(&settings.database_url, &options)
        .await
        .with_context(|| format!("cannot open the database {}", settings.database_url))
}

fn http_client(settings: &Settings) -> anyhow::Result<reqwest::Client> {
    let tls = mailgate_proto::tls::client_config(
        settings.tls_extra_ca_file.as_deref(),
        &[b"h2", b"http/1.1"],
    )?;
    reqwest::Client::builder()
        .tls_backend_preconfigured((*tls).clone())
        .redirect(reqwest::redirect::Policy::none())
        .connect_timeout(std::time::Duration::from_secs(10))
        .timeout(std::time::Duration::from_secs(30))
        .user_agent(concat!("mailgate/", env!("CARGO_PKG_VERSION")))
        .build()
        .context("building the HTTP client")
}

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}
