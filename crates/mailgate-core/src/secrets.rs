//! Secrets at rest: one master key, ChaCha20-Poly1305 from ring (the crypto stack already in the
//! tree), a random 96-bit nonce per seal. Every sealed value is bound to where it lives (the
//! "AAD", e.g. `config_objects:<id>:sealed`), so a ciphertext copied to another row does not
//! open. Random nonces stay safe for about 2^32 seals under one key, far beyond what one
//! installation writes.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use ring::aead::{Aad, CHACHA20_POLY1305, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use ring::rand::{SecureRandom, SystemRandom};
use std::path::Path;

const VERSION: u8 = 1;
/// A known plaintext sealed under the key and kept in the database: opening it at start proves
/// the configured key is the one the stored secrets were sealed with.
const KEY_CHECK_META: &str = "master_key_check";
const KEY_CHECK_PLAINTEXT: &[u8] = b"mailgate master key check";

#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    #[error("the master key is not base64 of 32 bytes")]
    BadKey,
    #[error("cannot read or create the master key file {path}")]
    KeyFile {
        path: String,
        source: std::io::Error,
    },
    #[error(
        "the master key does not open the secrets stored in this database; start mailgate with the key it was created with (secrets.master_key_file or MAILGATE__SECRETS__MASTER_KEY)"
    )]
    WrongKey,
    #[error(
        "the master key file {path} is missing but this database already holds encrypted secrets; restore the file from your backup"
    )]
    KeyLost { path: String },
    #[error(
        "the master key file {path} is readable by other users (mode {mode:o}) and its mode cannot be changed to 0600; run `chmod 600 {path}` as its owner"
    )]
    KeyExposed {
        path: String,
        mode: u32,
        source: std::io::Error,
    },
    #[error("a stored secret could not be decrypted (wrong key or damaged data)")]
    Open,
    #[error("random number generator failed")]
    Random,
    #[error(transparent)]
    Store(#[from] mailgate_store::StoreError),
}

/// The 32-byte master key; never printed.
pub struct MasterKey([u8; 32]);

impl std::fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MasterKey([redacted])")
    }
}

impl MasterKey {
    pub fn generate() -> Result<Self, SecretError> {
        let mut key = [0u8; 32];
        SystemRandom::new()
            .fill(&mut key)
            .map_err(|_| SecretError::Random)?;
        Ok(Self(key))
    }

    pub fn from_base64(text: &str) -> Result<Self, SecretError> {
        let bytes = B64.decode(text.trim()).map_err(|_| SecretError::BadKey)?;
        let key: [u8; 32] = bytes.try_into().map_err(|_| SecretError::BadKey)?;
        Ok(Self(key))
    }

    pub fn to_base64(&self) -> String {
        B64.encode(self.0)
    }

    /// Reads the key file, or creates it (mode 0600, never overwriting) when it does not exist.
    /// Returns the key and whether it was just created.
    ///
    /// An existing key file that other users can read (group or world bits) is made 0600, with
    /// a warning: refusing to start would not take back what it exposed, and the operator is
    /// told to consider the key seen. When its mode cannot be changed (another owner), the
    /// key is refused with [`SecretError::KeyExposed`].
    pub fn load_or_create(path: &Path) -> Result<(Self, bool), SecretError> {
        let io = |source| SecretError::KeyFile {
            path: path.display().to_string(),
            source,
        };
        match std::fs::read_to_string(path) {
            Ok(text) => {
                let key = Self::from_base64(&text)?;
                make_key_file_private(path)?;
                return Ok((key, false));
            }
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(io(e)),
            Err(_) => {}
        }
        let key = Self::generate()?;
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            // Missing directories are created 0700; an existing one is left as the operator made it.
            create_private_dirs(parent).map_err(io)?;
        }
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        match options.open(path) {
            Ok(mut file) => {
                use std::io::Write;
                file.write_all(format!("{}\n", key.to_base64()).as_bytes())
                    .map_err(io)?;
                file.sync_all().map_err(io)?;
                Ok((key, true))
            }
            // Another process created it between our read and our create: use theirs.
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                let text = std::fs::read_to_string(path).map_err(io)?;
                Ok((Self::from_base64(&text)?, false))
            }
            Err(e) => Err(io(e)),
        }
    }
}

/// Whether other users may read the file (any group or world bit).
#[cfg(unix)]
fn readable_by_others(meta: &std::fs::Metadata) -> bool {
    use std::os::unix::fs::PermissionsExt;
    meta.permissions().mode() & 0o077 != 0
}

fn make_key_file_private(path: &Path) -> Result<(), SecretError> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let meta = std::fs::metadata(path).map_err(|source| SecretError::KeyFile {
            path: path.display().to_string(),
            source,
        })?;
        if readable_by_others(&meta) {
            let mode = meta.permissions().mode() & 0o777;
            std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).map_err(
                |source| SecretError::KeyExposed {
                    path: path.display().to_string(),
                    mode,
                    source,
                },
            )?;
            tracing::warn!(
                path = %path.display(),
                was = format!("{mode:o}"),
                "the master key file was readable by other users; its mode is now 0600. Consider the key seen: rotate the stored secrets if others had access"
            );
        }
    }
    Ok(())
}

/// Creates a directory only its owner can enter (0700, whatever the umask), or makes an
/// existing one so: the data directory holds the database and the master key.
pub fn private_dir(path: &Path) -> std::io::Result<()> {
    create_private_dirs(path)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let meta = std::fs::metadata(path)?;
        if readable_by_others(&meta) {
            std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o700))?;
            tracing::warn!(dir = %path.display(), "the data directory was open to other users; its mode is now 0700");
        }
    }
    Ok(())
}

/// `mkdir -p` with mode 0700 for the directories it creates.
fn create_private_dirs(path: &Path) -> std::io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(path)
}

/// Seals and opens secrets with the master key.
pub struct Cipher {
    key: LessSafeKey,
    rng: SystemRandom,
}

impl std::fmt::Debug for Cipher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Cipher([redacted])")
    }
}

impl Cipher {
    pub fn new(key: &MasterKey) -> Self {
        let unbound = UnboundKey::new(&CHACHA20_POLY1305, &key.0).unwrap_or_else(|_| {
            unreachable!("a 32-byte key is always valid for ChaCha20-Poly1305")
        });
        Self {
            key: LessSafeKey::new(unbound),
            rng: SystemRandom::new(),
        }
    }

    /// `version || nonce || ciphertext || tag`, bound to `aad`.
    pub fn seal(&self, aad: &str, plaintext: &[u8]) -> Result<Vec<u8>, SecretError> {
        let mut nonce = [0u8; NONCE_LEN];
        self.rng.fill(&mut nonce).map_err(|_| SecretError::Random)?;
        let mut data = plaintext.to_vec();
        self.key
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(aad.as_bytes()),
                &mut data,
            )
            .map_err(|_| SecretError::Open)?;
        let mut out = Vec::with_capacity(1 + NONCE_LEN + data.len());
        out.push(VERSION);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&data);
        Ok(out)
    }

    pub fn open(&self, aad: &str, sealed: &[u8]) -> Result<Vec<u8>, SecretError> {
        if sealed.len() < 1 + NONCE_LEN || sealed[0] != VERSION {
            return Err(SecretError::Open);
        }
        let nonce = Nonce::try_assume_unique_for_key(&sealed[1..1 + NONCE_LEN])
            .map_err(|_| SecretError::Open)?;
        let mut data = sealed[1 + NONCE_LEN..].to_vec();
        let plain = self
            .key
            .open_in_place(nonce, Aad::from(aad.as_bytes()), &mut data)
            .map_err(|_| SecretError::Open)?;
        Ok(plain.to_vec())
    }

    /// Proves this key is the database's key, recording a check value on first use.
    pub async fn verify_against(
        &self,
        store: &dyn mailgate_store::Store,
    ) -> Result<(), SecretError> {
        let fresh = B64.encode(self.seal(KEY_CHECK_META, KEY_CHECK_PLAINTEXT)?);
        let kept = store.put_meta_if_absent(KEY_CHECK_META, &fresh).await?;
        let sealed = B64.decode(kept).map_err(|_| SecretError::WrongKey)?;
        match self.open(KEY_CHECK_META, &sealed) {
            Ok(plain) if plain == KEY_CHECK_PLAINTEXT => Ok(()),
            _ => Err(SecretError::WrongKey),
        }
    }
}

/// Whether the database already holds secrets sealed under some key.
pub async fn database_has_key(store: &dyn mailgate_store::Store) -> Result<bool, SecretError> {
    Ok(store.get_meta(KEY_CHECK_META).await?.is_some())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_values_open_only_where_they_were_sealed() {
        let cipher = Cipher::new(&MasterKey::generate().unwrap());
        let sealed = cipher
            .seal("config_objects:1:sealed", b"client-secret")
            .unwrap();
        assert!(!sealed.windows(13).any(|w| w == b"client-secret"));
        assert_eq!(
            cipher.open("config_objects:1:sealed", &sealed).unwrap(),
            b"client-secret"
        );
        assert!(
            cipher.open("config_objects:2:sealed", &sealed).is_err(),
            "bound to its row"
        );
        let other = Cipher::new(&MasterKey::generate().unwrap());
        assert!(
            other.open("config_objects:1:sealed", &sealed).is_err(),
            "bound to its key"
        );
        let mut tampered = sealed.clone();
        *tampered.last_mut().unwrap() ^= 1;
        assert!(cipher.open("config_objects:1:sealed", &tampered).is_err());
        assert_ne!(
            sealed,
            cipher
                .seal("config_objects:1:sealed", b"client-secret")
                .unwrap(),
            "fresh nonce each time"
        );
    }

    #[test]
    fn the_key_file_is_created_private_once() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/master.key");
        let (first, created) = MasterKey::load_or_create(&path).unwrap();
        assert!(created);
        let (again, created) = MasterKey::load_or_create(&path).unwrap();
        assert!(!created);
        assert_eq!(first.to_base64(), again.to_base64());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(
                std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
                0o600
            );
        }
        assert!(!format!("{first:?}").contains(&first.to_base64()));
    }

    #[cfg(unix)]
    fn mode(path: &Path) -> u32 {
        use std::os::unix::fs::PermissionsExt;
        std::fs::metadata(path).unwrap().permissions().mode() & 0o777
    }

    #[cfg(unix)]
    #[test]
    fn a_key_file_readable_by_others_is_made_private() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("master.key");
        let (key, _) = MasterKey::load_or_create(&path).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        let (again, created) = MasterKey::load_or_create(&path).unwrap();
        assert!(!created);
        assert_eq!(again.to_base64(), key.to_base64());
        assert_eq!(mode(&path), 0o600);
    }

    #[cfg(unix)]
    #[test]
    fn the_data_directory_is_0700_whatever_the_umask_and_an_open_one_is_closed() {
        use std::os::unix::fs::PermissionsExt;
        // The usual umask, under which it was created 0755.
        rustix::process::umask(rustix::fs::Mode::from_raw_mode(0o022));
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("a/data");
        private_dir(&data).unwrap();
        assert_eq!(mode(&data), 0o700);
        assert_eq!(mode(&dir.path().join("a")), 0o700, "parents it creates too");

        std::fs::set_permissions(&data, std::fs::Permissions::from_mode(0o755)).unwrap();
        private_dir(&data).unwrap();
        assert_eq!(mode(&data), 0o700, "an existing one is corrected");
    }
}
