//! TLS settings and their rustls client configuration: the cluster's certificate authority (or
//! the system's roots), a client certificate, `insecure-skip-tls-verify` and the server name.
//!
//! rustls runs with its `ring` provider. TLS 1.2 and 1.3 are enabled, and ALPN offers `h2` and
//! `http/1.1`, so a server that speaks HTTP/2 (every Kubernetes API server does) gets it.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::{DigitallySignedStruct, RootCertStore, SignatureScheme};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};

/// Why TLS settings could not be turned into a TLS client.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// PEM data (a certificate or key) could not be read.
    #[error("{what}: invalid pem data: {source}")]
    Pem {
        /// Which input (`certificate authority`, `client certificate`, `client key`).
        what: &'static str,
        /// The PEM reader's error.
        #[source]
        source: rustls_pki_types::pem::Error,
    },
    /// PEM data held no certificate.
    #[error("{0}: no certificate found in the pem data")]
    NoCertificate(&'static str),
    /// The client key's PEM data held no private key.
    #[error("client key: no private key found in the pem data")]
    NoPrivateKey,
    /// rustls refused a certificate or the key.
    #[error("{what}: {source}")]
    Rustls {
        /// What was being set up.
        what: &'static str,
        /// rustls' error.
        #[source]
        source: rustls::Error,
    },
    /// The server name for verification and SNI is not a DNS name or IP address.
    #[error("invalid tls server name {0:?}")]
    ServerName(String),
    /// A certificate authority was given together with `insecure-skip-tls-verify` (client-go
    /// refuses this combination too).
    #[error("specifying a root certificates file with the insecure flag is not allowed")]
    InsecureWithCertificateAuthority,
}

/// A client certificate and its private key, both PEM.
#[derive(Clone, PartialEq, Eq)]
pub struct Identity {
    /// The certificate chain, leaf first, PEM.
    pub certificate_pem: Vec<u8>,
    /// The private key (PKCS#8, PKCS#1 or SEC1), PEM.
    pub key_pem: Vec<u8>,
}

impl fmt::Debug for Identity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Identity")
            .field(
                "certificate_pem",
                &String::from_utf8_lossy(&self.certificate_pem),
            )
            .field("key_pem", &"<redacted>")
            .finish()
    }
}

/// How the client sets up TLS.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TlsSettings {
    /// PEM certificates to trust; `None` trusts the system's roots (`SSL_CERT_FILE`,
    /// `SSL_CERT_DIR`, else the distribution's bundle).
    pub root_certificates: Option<Vec<u8>>,
    /// The client certificate to present.
    pub identity: Option<Identity>,
    /// Accept any server certificate (`insecure-skip-tls-verify`). The handshake is still
    /// signed with the certificate's key, but nothing proves the key belongs to the server.
    pub insecure_skip_tls_verify: bool,
    /// The name to verify the server certificate against and to send as SNI, instead of the
    /// URL's host (`tls-server-name`).
    pub server_name: Option<String>,
}

impl TlsSettings {
    /// The server name to use for a connection to `host`: the override when set.
    ///
    /// # Errors
    /// [`TlsError::ServerName`] when the name is neither a DNS name nor an IP address.
    pub(crate) fn server_name_for(&self, host: &str) -> Result<ServerName<'static>, TlsError> {
        let name = self.server_name.as_deref().unwrap_or(host);
        let name = name
            .strip_prefix('[')
            .and_then(|n| n.strip_suffix(']'))
            .unwrap_or(name);
        ServerName::try_from(name.to_owned()).map_err(|_| TlsError::ServerName(name.to_owned()))
    }

    /// The rustls client configuration for these settings.
    ///
    /// # Errors
    /// Unreadable PEM data, a key that does not fit the certificate, or a certificate authority
    /// together with `insecure_skip_tls_verify`.
    pub fn client_config(&self) -> Result<rustls::ClientConfig, TlsError> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let builder = rustls::ClientConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()
            .map_err(|source| TlsError::Rustls {
                what: "protocol versions",
                source,
            })?;
        let builder = if self.insecure_skip_tls_verify {
            if self.root_certificates.is_some() {
                return Err(TlsError::InsecureWithCertificateAuthority);
            }
            builder
                .dangerous()
                .with_custom_certificate_verifier(Arc::new(AcceptAnyServerCert(provider)))
        } else {
            let roots = match &self.root_certificates {
                Some(pem) => roots_from_pem(pem)?,
                None => system_roots(),
            };
            builder.with_root_certificates(roots)
        };
        let mut config = match &self.identity {
            Some(identity) => {
                let chain = certificates_from_pem("client certificate", &identity.certificate_pem)?;
                let key =
                    PrivateKeyDer::from_pem_slice(&identity.key_pem).map_err(|e| match e {
                        rustls_pki_types::pem::Error::NoItemsFound => TlsError::NoPrivateKey,
                        source => TlsError::Pem {
                            what: "client key",
                            source,
                        },
                    })?;
                builder
                    .with_client_auth_cert(chain, key)
                    .map_err(|source| TlsError::Rustls {
                        what: "client certificate",
                        source,
                    })?
            }
            None => builder.with_no_client_auth(),
        };
        config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
        Ok(config)
    }
}

/// Every certificate of a PEM bundle; at least one.
fn certificates_from_pem(
    what: &'static str,
    pem: &[u8],
) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let certs = CertificateDer::pem_slice_iter(pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|source| TlsError::Pem { what, source })?;
    if certs.is_empty() {
        return Err(TlsError::NoCertificate(what));
    }
    Ok(certs)
}

/// A root store holding every certificate of a PEM bundle.
fn roots_from_pem(pem: &[u8]) -> Result<RootCertStore, TlsError> {
    let mut roots = RootCertStore::empty();
    for cert in certificates_from_pem("certificate authority", pem)? {
        roots.add(cert).map_err(|source| TlsError::Rustls {
            what: "certificate authority",
            source,
        })?;
    }
    Ok(roots)
}

/// The bundles where Linux distributions and BSDs keep their trusted roots (the list Go's
/// `crypto/x509` searches).
const SYSTEM_BUNDLES: &[&str] = &[
    "/etc/ssl/certs/ca-certificates.crt",
    "/etc/pki/tls/certs/ca-bundle.crt",
    "/etc/ssl/ca-bundle.pem",
    "/etc/pki/tls/cacert.pem",
    "/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem",
    "/etc/ssl/cert.pem",
    "/usr/local/etc/ssl/cert.pem",
];

/// The system's trusted roots: `SSL_CERT_FILE` (else the first distribution bundle found) and
/// every certificate file in the `SSL_CERT_DIR` directories. Unparsable entries are skipped, as
/// Go does.
fn system_roots() -> RootCertStore {
    let mut roots = RootCertStore::empty();
    let mut add_file = |path: &Path| -> bool {
        let Ok(pem) = std::fs::read(path) else {
            return false;
        };
        let certs = CertificateDer::pem_slice_iter(&pem).filter_map(Result::ok);
        let (added, _) = roots.add_parsable_certificates(certs);
        added > 0
    };
    let file = std::env::var_os("SSL_CERT_FILE").map(PathBuf::from);
    match file {
        Some(file) => {
            add_file(&file);
        }
        None => {
            for bundle in SYSTEM_BUNDLES {
                if add_file(Path::new(bundle)) {
                    break;
                }
            }
        }
    }
    if let Some(dirs) = std::env::var_os("SSL_CERT_DIR") {
        for dir in std::env::split_paths(&dirs) {
            let Ok(entries) = std::fs::read_dir(&dir) else {
                continue;
            };
            for entry in entries.flatten() {
                add_file(&entry.path());
            }
        }
    }
    if roots.is_empty() {
        tracing::warn!("no trusted root certificates found on this system");
    }
    roots
}

/// The verifier of `insecure-skip-tls-verify`: any certificate is accepted, but the handshake
/// signatures are still checked against it.
#[derive(Debug)]
struct AcceptAnyServerCert(Arc<CryptoProvider>);

impl ServerCertVerifier for AcceptAnyServerCert {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}
