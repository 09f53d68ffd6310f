//! TLS for the server: a self-signed certificate authority kept in the data directory
//! (created on first start, trusted by the kubeconfigs the server writes) and a serving
//! certificate signed by it, made at every start for the addresses the server answers on.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

/// Why the certificates could not be made or loaded.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// A file could not be read or written.
    #[error("{op} {path}: {source}")]
    Io {
        /// What was being done.
        op: &'static str,
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// Generating or signing a certificate failed.
    #[error("certificate generation failed: {0}")]
    Generate(#[from] rcgen::Error),
    /// A stored key or certificate does not parse.
    #[error("{path} does not hold a valid {what}")]
    Parse {
        /// The file.
        path: PathBuf,
        /// A key or a certificate.
        what: &'static str,
    },
    /// rustls refused the configuration.
    #[error("TLS configuration: {0}")]
    Config(#[from] rustls::Error),
}

/// The CA and the serving certificate, PEM encoded.
#[derive(Clone)]
pub struct Pki {
    /// The CA certificate clients trust.
    pub ca_pem: String,
    /// The serving certificate.
    pub server_cert_pem: String,
    /// The serving key.
    pub server_key_pem: String,
}

impl std::fmt::Debug for Pki {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pki").finish_non_exhaustive()
    }
}

const CA_CERT: &str = "ca.crt";
const CA_KEY: &str = "ca.key";

/// The CA's identity: fixed, so that the CA can sign again after a restart from its stored key
/// alone.
fn ca_params() -> Result<CertificateParams, rcgen::Error> {
    let mut params = CertificateParams::new(Vec::<String>::new())?;
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, "kubernaut-ca");
    dn.push(DnType::OrganizationName, "kubernaut");
    params.distinguished_name = dn;
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    params.not_before = rcgen::date_time_ymd(2024, 1, 1);
    params.not_after = rcgen::date_time_ymd(2124, 1, 1);
    Ok(params)
}

fn read(path: &Path) -> Result<Option<String>, TlsError> {
    match std::fs::read_to_string(path) {
        Ok(s) => Ok(Some(s)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(source) => Err(TlsError::Io {
            op: "read",
            path: path.to_owned(),
            source,
        }),
    }
}

fn write_private(path: &Path, text: &str) -> Result<(), TlsError> {
    let io = |op, source| TlsError::Io {
        op,
        path: path.to_owned(),
        source,
    };
    let tmp = path.with_extension("tmp");
    {
        use std::io::Write as _;
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create(true).truncate(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt as _;
            options.mode(0o600);
        }
        let mut f = options.open(&tmp).map_err(|e| io("create", e))?;
        f.write_all(text.as_bytes()).map_err(|e| io("write", e))?;
        f.sync_all().map_err(|e| io("fsync", e))?;
    }
    std::fs::rename(&tmp, path).map_err(|e| io("rename", e))
}

/// Loads the CA from `dir` (creating it on first use) and signs a serving certificate for
/// `hosts` (IP addresses and DNS names).
///
/// # Errors
/// When the directory cannot be read or written, or stored files are damaged.
pub fn load_or_create(dir: &Path, hosts: &[String]) -> Result<Pki, TlsError> {
    std::fs::create_dir_all(dir).map_err(|source| TlsError::Io {
        op: "create",
        path: dir.to_owned(),
        source,
    })?;
    let (cert_path, key_path) = (dir.join(CA_CERT), dir.join(CA_KEY));
    let (ca_pem, ca_key) = match (read(&cert_path)?, read(&key_path)?) {
        (Some(cert), Some(key)) => {
            let key = KeyPair::from_pem(&key).map_err(|_| TlsError::Parse {
                path: key_path.clone(),
                what: "private key",
            })?;
            if CertificateDer::from_pem_slice(cert.as_bytes()).is_err() {
                return Err(TlsError::Parse {
                    path: cert_path,
                    what: "certificate",
                });
            }
            (cert, key)
        }
        _ => {
            let key = KeyPair::generate()?;
            let cert = ca_params()?.self_signed(&key)?;
            write_private(&key_path, &key.serialize_pem())?;
            write_private(&cert_path, &cert.pem())?;
            (cert.pem(), key)
        }
    };
    let issuer = Issuer::new(ca_params()?, ca_key);
    let mut params = CertificateParams::new(hosts.to_vec())?;
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, "kube-apiserver");
    params.distinguished_name = dn;
    params.key_usages = vec![
        KeyUsagePurpose::DigitalSignature,
        KeyUsagePurpose::KeyEncipherment,
    ];
    params.extended_key_usages = vec![rcgen::ExtendedKeyUsagePurpose::ServerAuth];
    params.not_before = rcgen::date_time_ymd(2024, 1, 1);
    params.not_after = rcgen::date_time_ymd(2124, 1, 1);
    let key = KeyPair::generate()?;
    let cert = params.signed_by(&key, &issuer)?;
    Ok(Pki {
        ca_pem,
        server_cert_pem: cert.pem(),
        server_key_pem: key.serialize_pem(),
    })
}

/// A rustls server configuration serving `pki`'s certificate (chain: serving certificate, CA),
/// offering HTTP/2 and HTTP/1.1.
///
/// # Errors
/// When the PEM does not parse or rustls refuses the key.
pub fn server_config(pki: &Pki) -> Result<Arc<rustls::ServerConfig>, TlsError> {
    let parse_err = |what| TlsError::Parse {
        path: PathBuf::from("<serving certificate>"),
        what,
    };
    let cert = CertificateDer::from_pem_slice(pki.server_cert_pem.as_bytes())
        .map_err(|_| parse_err("certificate"))?;
    let ca = CertificateDer::from_pem_slice(pki.ca_pem.as_bytes())
        .map_err(|_| parse_err("certificate"))?;
    let key = PrivateKeyDer::from_pem_slice(pki.server_key_pem.as_bytes())
        .map_err(|_| parse_err("private key"))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_no_client_auth()
        .with_single_cert(vec![cert, ca], key)?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_ca_survives_restarts_and_signs_new_serving_certificates() {
        let dir = tempfile::tempdir().unwrap();
        let hosts = vec!["127.0.0.1".to_owned(), "localhost".to_owned()];
        let first = load_or_create(dir.path(), &hosts).unwrap();
        let second = load_or_create(dir.path(), &hosts).unwrap();
        assert_eq!(first.ca_pem, second.ca_pem);
        assert_ne!(first.server_key_pem, second.server_key_pem);
        server_config(&second).unwrap();
        std::fs::write(dir.path().join(CA_KEY), "garbage").unwrap();
        assert!(matches!(
            load_or_create(dir.path(), &hosts),
            Err(TlsError::Parse {
                what: "private key",
                ..
            })
        ));
    }
}
