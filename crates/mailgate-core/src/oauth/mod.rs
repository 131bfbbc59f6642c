//! OAuth2: the consent flow (authorization code with PKCE), the token endpoint client, and
//! service-account assertions (JWT bearer, RS256).

pub mod consent;
pub mod pkce;
pub mod provider;
pub mod scopes;
pub mod service_account;
pub mod token_client;

pub use token_client::TokenResponse;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ring::rand::{SecureRandom, SystemRandom};

/// 32 random bytes, base64url: for `state` values and PKCE verifiers.
pub(crate) fn random_token() -> Result<String, crate::secrets::SecretError> {
    let mut bytes = [0u8; 32];
    SystemRandom::new()
        .fill(&mut bytes)
        .map_err(|_| crate::secrets::SecretError::Random)?;
    Ok(URL_SAFE_NO_PAD.encode(bytes))
}

pub(crate) fn sha256(text: &str) -> Vec<u8> {
    ring::digest::digest(&ring::digest::SHA256, text.as_bytes())
        .as_ref()
        .to_vec()
}
