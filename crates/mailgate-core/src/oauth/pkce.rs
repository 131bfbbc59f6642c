//! PKCE (RFC 7636) with S256.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// `BASE64URL(SHA256(verifier))`.
pub fn challenge(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(super::sha256(verifier))
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_rfc_7636_example_matches() {
        // RFC 7636, appendix B.
        assert_eq!(
            super::challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
    }
}
