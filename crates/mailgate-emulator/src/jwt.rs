//! Compact RS256 JSON Web Tokens: the service-account assertions the token endpoint verifies and
//! the `id_token`s it signs.
//!
//! Only what Google's flows need: RS256, compact serialization, JSON header and claims.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ring::rand::SystemRandom;
use ring::signature::{self, RsaKeyPair, UnparsedPublicKey};
use serde_json::Value;

#[derive(Debug, thiserror::Error)]
pub enum JwtError {
    #[error("a JWT has three dot-separated parts")]
    Shape,
    #[error("the JWT {0} is not base64url JSON")]
    Encoding(&'static str),
    #[error("the JWT signature does not verify")]
    BadSignature,
    #[error("signing failed")]
    Sign,
}

/// A JWT split into its decoded parts, not yet verified.
#[derive(Debug, Clone)]
pub struct DecodedJwt {
    pub header: Value,
    pub claims: Value,
    signing_input: String,
    signature: Vec<u8>,
}

impl DecodedJwt {
    /// Splits and decodes `header.claims.signature`.
    pub fn parse(token: &str) -> Result<Self, JwtError> {
        let mut parts = token.trim().split('.');
        let (Some(header), Some(claims), Some(signature), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(JwtError::Shape);
        };
        Ok(Self {
            header: decode_json(header).ok_or(JwtError::Encoding("header"))?,
            claims: decode_json(claims).ok_or(JwtError::Encoding("claims"))?,
            signing_input: format!("{header}.{claims}"),
            signature: URL_SAFE_NO_PAD
                .decode(signature)
                .map_err(|_| JwtError::Encoding("signature"))?,
        })
    }

    /// Checks the RS256 signature against a PKCS#1 `RSAPublicKey` DER.
    pub fn verify_rs256(&self, public_key_der: &[u8]) -> Result<(), JwtError> {
        UnparsedPublicKey::new(&signature::RSA_PKCS1_2048_8192_SHA256, public_key_der)
            .verify(self.signing_input.as_bytes(), &self.signature)
            .map_err(|_| JwtError::BadSignature)
    }

    pub fn header_str(&self, name: &str) -> Option<&str> {
        self.header.get(name).and_then(Value::as_str)
    }

    pub fn claim_str(&self, name: &str) -> Option<&str> {
        self.claims.get(name).and_then(Value::as_str)
    }

    /// A numeric claim; Google's libraries send integers, some clients send floats.
    pub fn claim_i64(&self, name: &str) -> Option<i64> {
        let value = self.claims.get(name)?;
        value.as_i64().or_else(|| value.as_f64().map(|f| f as i64))
    }
}

fn decode_json(part: &str) -> Option<Value> {
    let bytes = URL_SAFE_NO_PAD.decode(part.trim_end_matches('=')).ok()?;
    let value: Value = serde_json::from_slice(&bytes).ok()?;
    value.is_object().then_some(value)
}

/// Signs `header` and `claims` (JSON objects) with RS256.
pub fn sign_rs256(
    key_pair: &RsaKeyPair,
    header: &Value,
    claims: &Value,
) -> Result<String, JwtError> {
    let signing_input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    );
    let mut signature = vec![0; key_pair.public().modulus_len()];
    key_pair
        .sign(
            &signature::RSA_PKCS1_SHA256,
            &SystemRandom::new(),
            signing_input.as_bytes(),
            &mut signature,
        )
        .map_err(|_| JwtError::Sign)?;
    Ok(format!(
        "{signing_input}.{}",
        URL_SAFE_NO_PAD.encode(signature)
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::{OTHER_KEY_PEM, SERVICE_ACCOUNT_KEY_PEM};
    use crate::keys::{key_pair_from_pem, public_der};
    use serde_json::json;

    #[test]
    fn a_signed_token_verifies_with_its_key_only() {
        let key = key_pair_from_pem(SERVICE_ACCOUNT_KEY_PEM).expect("key");
        let other = key_pair_from_pem(OTHER_KEY_PEM).expect("key");
        let token = sign_rs256(
            &key,
            &json!({"alg": "RS256", "typ": "JWT"}),
            &json!({"iss": "a", "iat": 1}),
        )
        .expect("sign");
        let decoded = DecodedJwt::parse(&token).expect("parse");
        assert_eq!(decoded.claim_str("iss"), Some("a"));
        assert_eq!(decoded.claim_i64("iat"), Some(1));
        decoded
            .verify_rs256(&public_der(&key))
            .expect("own key verifies");
        assert!(decoded.verify_rs256(&public_der(&other)).is_err());
    }

    #[test]
    fn malformed_tokens_are_refused() {
        assert!(matches!(DecodedJwt::parse("a.b"), Err(JwtError::Shape)));
        assert!(matches!(DecodedJwt::parse("a.b.c.d"), Err(JwtError::Shape)));
        assert!(matches!(
            DecodedJwt::parse("!!.e30.AA"),
            Err(JwtError::Encoding("header"))
        ));
    }
}
