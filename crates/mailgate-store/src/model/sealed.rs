//! Sealed secrets as the store keeps them.

/// Bytes sealed by the core's cipher (tokens, client secrets, passwords, PKCE verifiers),
/// stored as they are: the column holds exactly these bytes. They are ciphertext, but a row
/// printed in a log line or a failed test still shows only how many there are.
#[derive(Clone, PartialEq, Eq)]
pub struct Sealed(Vec<u8>);

impl Sealed {
    pub fn into_vec(self) -> Vec<u8> {
        self.0
    }
}

impl From<Vec<u8>> for Sealed {
    fn from(bytes: Vec<u8>) -> Self {
        Self(bytes)
    }
}

impl std::ops::Deref for Sealed {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        &self.0
    }
}

impl std::fmt::Debug for Sealed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "[{} sealed bytes]", self.0.len())
    }
}

#[cfg(test)]
mod tests {
    use super::Sealed;

    #[test]
    fn debug_shows_the_length_and_not_the_bytes() {
        let sealed = Sealed::from(b"secret".to_vec());
        assert_eq!(format!("{sealed:?}"), "[6 sealed bytes]");
        assert_eq!(format!("{:?}", Some(sealed)), "Some([6 sealed bytes])");
    }
}
