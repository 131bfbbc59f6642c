//! Service accounts with domain-wide delegation: a JWT signed RS256 with the uploaded key,
//! exchanged at the key's token URI for an access token that acts as `sub`.

use crate::Core;
use crate::objects::{Objects, ServiceAccounts};
use crate::token_error::TokenError;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use mailgate_domain::troubleshoot::{Code, Diagnosis, ProviderKind};
use mailgate_domain::{ExposeSecret, Id};
use ring::signature::{RSA_PKCS1_SHA256, RsaKeyPair};
use rustls_pki_types::{PrivatePkcs8KeyDer, pem::PemObject};

pub const GRANT_TYPE: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";

/// Asks the token endpoint for a token acting as `subject` with `scope`.
pub async fn fetch_token(
    core: &Core,
    account_id: Id,
    subject: &str,
    scope: &str,
) -> Result<super::TokenResponse, TokenError> {
    let (_, spec, secrets) = Objects::<ServiceAccounts>::load(core, account_id)
        .await
        .map_err(|e| bad_key(&e.to_string()))?;
    let pem = secrets
        .get("private_key")
        .ok_or_else(|| bad_key("no private key is stored"))?;
    let now_secs = core.clock.now_ms() / 1000;
    let header = serde_json::json!({"alg": "RS256", "typ": "JWT", "kid": spec.private_key_id});
    // Google refuses assertions that live longer than an hour.
    let claims = serde_json::json!({"iss": spec.client_email, "sub": subject, "scope": scope, "aud": spec.token_uri, "iat": now_secs, "exp": now_secs + 3600});
    let assertion = sign(pem.expose_secret(), &header, &claims)?;
    super::token_client::request(
        &core.http,
        ProviderKind::Google,
        &spec.token_uri,
        mailgate_domain::troubleshoot::Grant::JwtBearer,
        &[("grant_type", GRANT_TYPE), ("assertion", &assertion)],
    )
    .await
}

fn sign(
    pem: &str,
    header: &serde_json::Value,
    claims: &serde_json::Value,
) -> Result<String, TokenError> {
    let der = PrivatePkcs8KeyDer::from_pem_slice(pem.as_bytes())
        .map_err(|_| bad_key("the stored key is not a PKCS#8 PEM"))?;
    let key = RsaKeyPair::from_pkcs8(der.secret_pkcs8_der())
        .map_err(|_| bad_key("the stored key is not an RSA key"))?;
    let input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    );
    let mut signature = vec![0u8; key.public().modulus_len()];
    key.sign(
        &RSA_PKCS1_SHA256,
        &ring::rand::SystemRandom::new(),
        input.as_bytes(),
        &mut signature,
    )
    .map_err(|_| bad_key("signing failed"))?;
    Ok(format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature)))
}

/// A key that cannot sign: refused before any request, someone must upload another.
pub(crate) fn bad_key(why: &str) -> TokenError {
    TokenError::Refused(Diagnosis::new(
        Code::ServiceAccountKeyUnusable,
        format!("the service account's key cannot sign: {why}"),
        "upload a current JSON key for the service account (IAM & Admin > Service Accounts > Keys)",
    ))
}
