//! HTTP client construction with the TLS checks the settings ask for.
//!
//! Splunk's management port ships with a self-signed certificate, so besides
//! the system's roots the client can trust a CA file, or pin the server
//! certificate by the SHA-256 of its DER encoding. Turning verification off
//! is allowed only through an explicit setting, and every client built that
//! way logs a warning.

use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{verify_tls12_signature, verify_tls13_signature, CryptoProvider};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, SignatureScheme};
use sha2::{Digest, Sha256};

use super::config::{SplunkSettings, TlsVerification};
use crate::search::SearchError;

/// Builds the HTTP client for `settings`.
pub fn build_client(settings: &SplunkSettings) -> Result<reqwest::Client, SearchError> {
    // Several crates may race to install rustls's process-wide provider; any
    // installed provider serves.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let builder = reqwest::Client::builder()
        .connect_timeout(std::time::Duration::from_secs(10))
        .user_agent(concat!("argus/", env!("CARGO_PKG_VERSION")));
    let builder = match &settings.tls {
        TlsVerification::Verify { ca_file: None } => builder,
        TlsVerification::Verify { ca_file: Some(path) } => {
            let pem = std::fs::read(path).map_err(|e| {
                SearchError::Unavailable(format!("cannot read SPLUNK_CA_FILE {}: {e}", path.display()))
            })?;
            let certs = reqwest::Certificate::from_pem_bundle(&pem).map_err(|e| {
                SearchError::Unavailable(format!("SPLUNK_CA_FILE {} is not PEM: {e}", path.display()))
            })?;
            if certs.is_empty() {
                let message = format!("SPLUNK_CA_FILE {} holds no certificate", path.display());
                return Err(SearchError::Unavailable(message));
            }
            builder.tls_certs_only(certs)
        }
        TlsVerification::Pinned { sha256 } => {
            builder.tls_backend_preconfigured(pinned_config(*sha256))
        }
        TlsVerification::Disabled => {
            tracing::warn!(
                url = %settings.base_url(),
                "TLS certificate verification is off (SPLUNK_VERIFY_TLS=false): anyone on the \
                 network path can read the Splunk credentials; set SPLUNK_CA_FILE or \
                 SPLUNK_CERT_SHA256 instead"
            );
            builder.tls_danger_accept_invalid_certs(true)
        }
    };
    builder
        .build()
        .map_err(|e| SearchError::Unavailable(format!("cannot build the HTTP client: {e}")))
}

/// A rustls configuration that accepts only the certificate with this digest.
pub fn pinned_config(sha256: [u8; 32]) -> rustls::ClientConfig {
    let verifier = Arc::new(PinnedVerifier::new(sha256));
    rustls::ClientConfig::builder_with_provider(verifier.provider.clone())
        .with_safe_default_protocol_versions()
        .expect("ring supports the default protocol versions")
        .dangerous()
        .with_custom_certificate_verifier(verifier)
        .with_no_client_auth()
}

/// Accepts the server certificate whose DER encoding hashes to `sha256`.
///
/// The pin replaces chain, name and expiry checks: a pinned certificate stays
/// accepted until the pin is changed. Handshake signatures are still verified
/// against the pinned certificate's key.
#[derive(Debug)]
pub struct PinnedVerifier {
    sha256: [u8; 32],
    provider: Arc<CryptoProvider>,
}

impl PinnedVerifier {
    pub fn new(sha256: [u8; 32]) -> Self {
        PinnedVerifier { sha256, provider: Arc::new(rustls::crypto::ring::default_provider()) }
    }
}

impl ServerCertVerifier for PinnedVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let digest: [u8; 32] = Sha256::digest(end_entity.as_ref()).into();
        if digest == self.sha256 {
            Ok(ServerCertVerified::assertion())
        } else {
            tracing::error!(
                presented = %hex(&digest),
                "server certificate does not match SPLUNK_CERT_SHA256"
            );
            Err(rustls::Error::General(format!(
                "server certificate SHA-256 {} does not match SPLUNK_CERT_SHA256",
                hex(&digest)
            )))
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        let algorithms = &self.provider.signature_verification_algorithms;
        verify_tls12_signature(message, cert, dss, algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        let algorithms = &self.provider.signature_verification_algorithms;
        verify_tls13_signature(message, cert, dss, algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider.signature_verification_algorithms.supported_schemes()
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn verify(verifier: &PinnedVerifier, der: &[u8]) -> bool {
        let cert = CertificateDer::from(der.to_vec());
        let name = ServerName::try_from("splunk.example").unwrap();
        verifier.verify_server_cert(&cert, &[], &name, &[], UnixTime::now()).is_ok()
    }

    #[test]
    fn pinned_digest_accepted() {
        let der = b"not really a certificate, only bytes to hash";
        let verifier = PinnedVerifier::new(Sha256::digest(der).into());
        assert!(verify(&verifier, der));
    }

    #[test]
    fn other_digest_rejected() {
        let verifier = PinnedVerifier::new([0u8; 32]);
        assert!(!verify(&verifier, b"some certificate"));
    }

    #[test]
    fn missing_ca_file_fails() {
        let settings = super::super::config::SplunkSettings::from_lookup(|name| match name {
            "SPLUNK_TOKEN" => Some("t".into()),
            "SPLUNK_CA_FILE" => Some("/nonexistent/ca.pem".into()),
            _ => None,
        })
        .unwrap();
        let err = build_client(&settings).unwrap_err();
        assert!(err.to_string().contains("/nonexistent/ca.pem"), "{err}");
    }
}
