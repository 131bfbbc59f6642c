//! Test-only keys and helpers shared by the emulator's tests and mailgate's.
//!
//! The keys under `testdata/` were generated once with openssl (ring cannot generate RSA keys)
//! and protect nothing: never use them outside tests and the local demo.

use serde_json::{Value, json};

use crate::jwt::{self, JwtError};
use crate::keys::{self, KeyError};

/// PKCS#8 PEM RSA 2048 key of the tests' default service account. Test-only.
pub const SERVICE_ACCOUNT_KEY_PEM: &str =
    include_str!("../testdata/test-only-service-account-key.pem");

/// A second PKCS#8 PEM RSA 2048 key, registered nowhere by default: assertions signed with it
/// must be refused. Test-only.
pub const OTHER_KEY_PEM: &str = include_str!("../testdata/test-only-other-key.pem");

/// The emulator's own key for signing `id_token`s (public half at `/oauth2/v3/certs`). Test-only.
pub const ID_TOKEN_SIGNING_KEY_PEM: &str =
    include_str!("../testdata/test-only-id-token-signing-key.pem");

#[derive(Debug, thiserror::Error)]
pub enum FixtureError {
    #[error(transparent)]
    Key(#[from] KeyError),
    #[error(transparent)]
    Jwt(#[from] JwtError),
}

/// Signs a JWT with RS256: `header` and `claims` are JSON objects, used as given (set `alg`,
/// `typ`, `kid` yourself; [`service_account_assertion`] does it for the usual case).
pub fn try_sign_jwt(key_pem: &str, header: &Value, claims: &Value) -> Result<String, FixtureError> {
    let key_pair = keys::key_pair_from_pem(key_pem)?;
    Ok(jwt::sign_rs256(&key_pair, header, claims)?)
}

/// [`try_sign_jwt`] for tests.
///
/// # Panics
/// When `key_pem` is not a PKCS#8 PEM RSA key: a broken fixture, not a test outcome.
pub fn sign_jwt(key_pem: &str, header: &Value, claims: &Value) -> String {
    match try_sign_jwt(key_pem, header, claims) {
        Ok(token) => token,
        Err(e) => panic!("fixtures::sign_jwt: {e}"),
    }
}

/// The `private_key_id` the emulator derives for a key: the key file and the `kid` header of
/// assertions signed with it agree on it.
pub fn private_key_id(key_pem: &str) -> Result<String, KeyError> {
    let key_pair = keys::key_pair_from_pem(key_pem)?;
    Ok(keys::key_id(&keys::public_der(&key_pair)))
}

/// A service-account assertion shaped like Google's client libraries make it: header
/// `{"alg":"RS256","typ":"JWT","kid"}`, claims `iss`, `scope`, `aud`, `iat`, `exp = iat + 3600`,
/// and `sub` when impersonating a user.
///
/// # Panics
/// When `key_pem` is not a PKCS#8 PEM RSA key.
pub fn service_account_assertion(
    key_pem: &str,
    client_email: &str,
    sub: Option<&str>,
    scope: &str,
    aud: &str,
    iat: i64,
) -> String {
    let kid = match private_key_id(key_pem) {
        Ok(kid) => kid,
        Err(e) => panic!("fixtures::service_account_assertion: {e}"),
    };
    let mut claims = json!({
        "iss": client_email, "scope": scope, "aud": aud, "iat": iat, "exp": iat + 3600,
    });
    if let (Some(sub), Some(map)) = (sub, claims.as_object_mut()) {
        map.insert("sub".to_owned(), Value::from(sub));
    }
    sign_jwt(
        key_pem,
        &json!({"alg": "RS256", "typ": "JWT", "kid": kid}),
        &claims,
    )
}

/// The text of a Google service-account JSON key file for `key_pem`, with `token_uri` pointing at
/// the emulator (`{base_url}/token`).
pub fn service_account_key_json(
    key_pem: &str,
    client_email: &str,
    client_id: &str,
    base_url: &str,
) -> Result<String, KeyError> {
    let private_key_id = private_key_id(key_pem)?;
    let project_id = client_email
        .split_once('@')
        .and_then(|(_, domain)| domain.split('.').next())
        .unwrap_or("emulator-project");
    let base = base_url.trim_end_matches('/');
    let key = json!({
        "type": "service_account",
        "project_id": project_id,
        "private_key_id": private_key_id,
        "private_key": key_pem,
        "client_email": client_email,
        "client_id": client_id,
        "auth_uri": format!("{base}/o/oauth2/auth"),
        "token_uri": format!("{base}/token"),
        "auth_provider_x509_cert_url": format!("{base}/oauth2/v1/certs"),
        "client_x509_cert_url": format!("{base}/robot/v1/metadata/x509/{client_email}"),
        "universe_domain": "googleapis.com",
    });
    Ok(serde_json::to_string_pretty(&key).unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_file_points_at_the_emulator() {
        let text = service_account_key_json(
            SERVICE_ACCOUNT_KEY_PEM,
            "robot@demo-project.iam.gserviceaccount.com",
            "1234567890",
            "http://127.0.0.1:9/",
        )
        .expect("key file");
        let value: Value = serde_json::from_str(&text).expect("json");
        assert_eq!(value["type"], "service_account");
        assert_eq!(value["project_id"], "demo-project");
        assert_eq!(value["token_uri"], "http://127.0.0.1:9/token");
        assert_eq!(value["private_key"], SERVICE_ACCOUNT_KEY_PEM);
        assert_eq!(
            value["private_key_id"],
            private_key_id(SERVICE_ACCOUNT_KEY_PEM).expect("kid")
        );
    }
}
