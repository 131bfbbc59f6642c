//! RSA key handling: PKCS#8 PEM private keys (what Google puts in a service-account key file) and
//! public keys given as DER.
//!
//! ring verifies RS256 against a PKCS#1 `RSAPublicKey` DER, which is also what
//! `RsaKeyPair::public()` serializes to, so that is the one public form stored here.

use ring::digest;
use ring::signature::{RsaKeyPair, RsaPublicKeyComponents};
use rustls_pki_types::PrivatePkcs8KeyDer;
use rustls_pki_types::pem::PemObject;

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("not a PKCS#8 PEM private key (-----BEGIN PRIVATE KEY-----): {0}")]
    Pem(String),
    #[error("the PKCS#8 key is not an RSA key ring accepts: {0}")]
    Rejected(String),
    #[error("the public key is neither a PKCS#1 RSAPublicKey nor a SubjectPublicKeyInfo DER")]
    PublicDer,
}

/// Parses a PKCS#8 PEM RSA private key.
pub fn key_pair_from_pem(pem: &str) -> Result<RsaKeyPair, KeyError> {
    let der = PrivatePkcs8KeyDer::from_pem_slice(pem.as_bytes())
        .map_err(|e| KeyError::Pem(e.to_string()))?;
    RsaKeyPair::from_pkcs8(der.secret_pkcs8_der()).map_err(|e| KeyError::Rejected(e.to_string()))
}

/// The PKCS#1 `RSAPublicKey` DER of a key pair.
pub fn public_der(key_pair: &RsaKeyPair) -> Vec<u8> {
    key_pair.public().as_ref().to_vec()
}

/// Accepts a public key as PKCS#1 `RSAPublicKey` DER or as `SubjectPublicKeyInfo` DER (what
/// `openssl rsa -pubout -outform DER` writes) and returns the PKCS#1 form.
pub fn normalize_public_der(der: &[u8]) -> Result<Vec<u8>, KeyError> {
    // RSAPublicKey ::= SEQUENCE { modulus INTEGER, publicExponent INTEGER }
    // SubjectPublicKeyInfo ::= SEQUENCE { algorithm SEQUENCE {..}, subjectPublicKey BIT STRING }
    let (tag, body, rest) = der_element(der).ok_or(KeyError::PublicDer)?;
    if tag != 0x30 || !rest.is_empty() {
        return Err(KeyError::PublicDer);
    }
    let (first_tag, _, after_first) = der_element(body).ok_or(KeyError::PublicDer)?;
    match first_tag {
        0x02 => Ok(der.to_vec()),
        0x30 => {
            let (bits_tag, bits, _) = der_element(after_first).ok_or(KeyError::PublicDer)?;
            // A BIT STRING starts with the count of unused bits, 0 for a key.
            match (bits_tag, bits.split_first()) {
                (0x03, Some((0, inner))) => normalize_public_der(inner),
                _ => Err(KeyError::PublicDer),
            }
        }
        _ => Err(KeyError::PublicDer),
    }
}

/// Splits one DER element off `input`: (tag, contents, remainder). Definite lengths only.
fn der_element(input: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let (&tag, rest) = input.split_first()?;
    let (&first_len, rest) = rest.split_first()?;
    let (len, rest) = if first_len < 0x80 {
        (usize::from(first_len), rest)
    } else {
        let count = usize::from(first_len & 0x7f);
        if count == 0 || count > 4 || rest.len() < count {
            return None;
        }
        let (len_bytes, rest) = rest.split_at(count);
        let len = len_bytes
            .iter()
            .fold(0usize, |acc, b| (acc << 8) | usize::from(*b));
        (len, rest)
    };
    if rest.len() < len {
        return None;
    }
    let (body, remainder) = rest.split_at(len);
    Some((tag, body, remainder))
}

/// A stable key id for a public key, shaped like Google's 40-hex-digit `private_key_id`.
pub fn key_id(public_der: &[u8]) -> String {
    let hash = digest::digest(&digest::SHA256, public_der);
    hash.as_ref()[..20]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The modulus and exponent of a key pair, big-endian, for a JWKS document.
pub fn public_components(key_pair: &RsaKeyPair) -> (Vec<u8>, Vec<u8>) {
    let components = RsaPublicKeyComponents::<Vec<u8>>::from(key_pair.public());
    (components.n, components.e)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::{OTHER_KEY_PEM, SERVICE_ACCOUNT_KEY_PEM};

    #[test]
    fn fixture_keys_parse_and_differ() {
        let a = key_pair_from_pem(SERVICE_ACCOUNT_KEY_PEM).expect("service account key");
        let b = key_pair_from_pem(OTHER_KEY_PEM).expect("other key");
        assert_ne!(public_der(&a), public_der(&b));
        assert_eq!(key_id(&public_der(&a)).len(), 40);
    }

    #[test]
    fn spki_and_pkcs1_public_keys_normalize_to_the_same_bytes() {
        let pair = key_pair_from_pem(SERVICE_ACCOUNT_KEY_PEM).expect("key");
        let pkcs1 = public_der(&pair);
        // Wrap PKCS#1 in a SubjectPublicKeyInfo by hand: rsaEncryption OID + NULL, BIT STRING.
        let algorithm = [
            0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01, 0x05,
            0x00,
        ];
        let mut bit_string = vec![0x03, 0x82];
        bit_string.extend_from_slice(&u16::try_from(pkcs1.len() + 1).expect("len").to_be_bytes());
        bit_string.push(0);
        bit_string.extend_from_slice(&pkcs1);
        let mut spki = vec![0x30, 0x82];
        let body_len = algorithm.len() + bit_string.len();
        spki.extend_from_slice(&u16::try_from(body_len).expect("len").to_be_bytes());
        spki.extend_from_slice(&algorithm);
        spki.extend_from_slice(&bit_string);

        assert_eq!(normalize_public_der(&spki).expect("spki"), pkcs1);
        assert_eq!(normalize_public_der(&pkcs1).expect("pkcs1"), pkcs1);
        assert!(normalize_public_der(b"garbage").is_err());
    }

    #[test]
    fn a_non_pem_key_is_refused() {
        assert!(matches!(key_pair_from_pem("nope"), Err(KeyError::Pem(_))));
    }
}
