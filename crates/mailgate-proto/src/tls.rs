//! TLS client configuration: the public web PKI roots plus an optional extra CA, through ring.
//! Certificates are always verified; the extra CA only adds trust.

use rustls::RootCertStore;
use rustls_pki_types::CertificateDer;
use rustls_pki_types::pem::PemObject;
use std::path::Path;
use std::sync::Arc;

#[derive(Debug, thiserror::Error)]
pub enum TlsConfigError {
    // Causes are printed in the messages, so none is a `source()` (a chain would print it twice).
    #[error("cannot read the extra CA file {path}: {cause}")]
    Read { path: String, cause: std::io::Error },
    #[error("the extra CA file {path} holds no usable PEM certificate")]
    NoCertificate { path: String },
    #[error("TLS setup failed: {0}")]
    Rustls(rustls::Error),
}

impl From<rustls::Error> for TlsConfigError {
    fn from(e: rustls::Error) -> Self {
        Self::Rustls(e)
    }
}

/// The roots every client trusts: Mozilla's, plus the certificates in `extra_ca` (PEM).
pub fn root_store(extra_ca: Option<&Path>) -> Result<RootCertStore, TlsConfigError> {
    let mut roots = RootCertStore::empty();
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    if let Some(path) = extra_ca {
        let pem = std::fs::read(path).map_err(|cause| TlsConfigError::Read {
            path: path.display().to_string(),
            cause,
        })?;
        let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(&pem)
            .filter_map(Result::ok)
            .collect();
        let (added, _) = roots.add_parsable_certificates(certs);
        if added == 0 {
            return Err(TlsConfigError::NoCertificate {
                path: path.display().to_string(),
            });
        }
    }
    Ok(roots)
}

/// A client configuration with `alpn` protocols (e.g. `h2`, `http/1.1` for HTTP clients).
pub fn client_config(
    extra_ca: Option<&Path>,
    alpn: &[&[u8]],
) -> Result<Arc<rustls::ClientConfig>, TlsConfigError> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_root_certificates(root_store(extra_ca)?)
        .with_no_client_auth();
    config.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
    Ok(Arc::new(config))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_extra_ca_without_certificates_is_refused_by_name() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ca.pem");
        std::fs::write(&path, "not a certificate").unwrap();
        let e = client_config(Some(&path), &[]).unwrap_err();
        assert!(e.to_string().contains("ca.pem"), "{e}");
        assert!(client_config(None, &[b"http/1.1"]).is_ok());
    }
}
