//! mailgate's core: configuration, secrets, and the services the HTTP API and the CLI share.

pub mod admin;
pub mod config;
pub mod objects;
pub mod secrets;

use anyhow::Context;
use config::{MasterKeySource, Settings};
use secrets::{Cipher, MasterKey, SecretError};
use std::sync::Arc;

pub use mailgate_store::Store;

/// What every service call needs: settings, the store and the cipher.
pub struct Core {
    pub settings: Settings,
    pub store: Arc<dyn Store>,
    pub cipher: Cipher,
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
        Ok(Self {
            settings,
            store,
            cipher,
        })
    }
}

/// Opens the store alone (CLI commands that touch no secret), creating the data directory.
pub async fn open_store(settings: &Settings) -> anyhow::Result<Arc<dyn Store>> {
    std::fs::create_dir_all(&settings.data_dir).with_context(|| {
        format!(
            "cannot create the data directory {}",
            settings.data_dir.display()
        )
    })?;
    let options = mailgate_store::StoreOptions {
        max_connections: settings.database_max_connections,
        ..Default::default()
    };
    mailgate_store::open(&settings.database_url, &options)
        .await
        .with_context(|| format!("cannot open the database {}", settings.database_url))
}

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}
