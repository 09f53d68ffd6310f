//! Client configuration: where the API server is, how to trust it and how to authenticate,
//! from a kubeconfig (merged as kubectl merges them), from a pod's service account, or built
//! by hand; and writing a context into a kubeconfig file as minikube and kind do.
//!
//! ```no_run
//! use kubernaut_client::config::{Config, Kubeconfig, KubeconfigOptions};
//!
//! // What kubectl would use: $KUBECONFIG or ~/.kube/config, else the pod's service account.
//! let config = Config::infer()?;
//! println!("talking to {} in namespace {}", config.cluster_url, config.default_namespace);
//!
//! // A chosen context of a chosen file.
//! let kubeconfig = Kubeconfig::read_from("/etc/kubernaut/admin.conf")?;
//! let options = KubeconfigOptions { context: Some("kind-kind".into()), ..Default::default() };
//! let config = Config::from_kubeconfig(&kubeconfig, &options)?;
//! # Ok::<(), kubernaut_client::config::KubeconfigError>(())
//! ```

mod kubeconfig;
mod write;

use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

pub use kubeconfig::{
    AuthInfo, Cluster, Context, Kubeconfig, NamedAuthInfo, NamedCluster, NamedContext,
};
pub use write::{ContextEntry, to_yaml, write_context};

use crate::tls::{Identity, TlsSettings};

/// Why a configuration could not be loaded or used.
#[derive(Debug, thiserror::Error)]
pub enum KubeconfigError {
    /// A kubeconfig file could not be read.
    #[error("could not read kubeconfig {}: {source}", .path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// A kubeconfig file is not valid YAML.
    #[error("{}: {source}", File(.path))]
    Yaml {
        /// The file, when the text came from one.
        path: Option<PathBuf>,
        /// The YAML error, with line and column.
        #[source]
        source: kubernaut_api_types::manifest::YamlError,
    },
    /// A field of a kubeconfig has the wrong type or an invalid value.
    #[error("{}: {field}: {message}", File(.path))]
    Field {
        /// The file, when the text came from one.
        path: Option<PathBuf>,
        /// The field, as a path (`clusters[0].cluster.certificate-authority-data`).
        field: String,
        /// What is wrong.
        message: String,
    },
    /// A name appears twice in one list of one file.
    #[error("{}: duplicate name {name:?} in {list}", File(.path))]
    DuplicateName {
        /// The file, when the text came from one.
        path: Option<PathBuf>,
        /// `clusters`, `users` or `contexts`.
        list: &'static str,
        /// The repeated name.
        name: String,
    },
    /// `KUBECONFIG` is unset and the default kubeconfig does not exist.
    #[error("no kubeconfig: KUBECONFIG is not set and {} does not exist", .0.display())]
    NotFound(PathBuf),
    /// Neither `HOME` nor `USERPROFILE` is set, so `~/.kube/config` has no meaning.
    #[error("no kubeconfig: KUBECONFIG is not set and there is no home directory")]
    NoHome,
    /// The chosen (or current) context does not exist.
    #[error("context {0:?} not found in the kubeconfig")]
    ContextNotFound(String),
    /// No context was chosen and the kubeconfig has no `current-context`.
    #[error("no context chosen and the kubeconfig sets no current-context")]
    NoContext,
    /// The context's cluster does not exist.
    #[error("cluster {0:?} not found in the kubeconfig")]
    ClusterNotFound(String),
    /// The user chosen in [`KubeconfigOptions::user`] does not exist.
    #[error("user {0:?} not found in the kubeconfig")]
    UserNotFound(String),
    /// A cluster entry cannot be used.
    #[error("{}: cluster {cluster:?}: {message}", File(.path))]
    Cluster {
        /// The file the entry came from.
        path: Option<PathBuf>,
        /// The cluster's name.
        cluster: String,
        /// What is wrong.
        message: String,
    },
    /// A user entry cannot be used.
    #[error("{}: user {user:?}: {message}", File(.path))]
    User {
        /// The file the entry came from.
        path: Option<PathBuf>,
        /// The user's name.
        user: String,
        /// What is wrong.
        message: String,
    },
    /// A file named by a kubeconfig field could not be read.
    #[error("{}: {entry}: could not read {field} {}: {source}", File(.path), .file.display())]
    ReadFile {
        /// The kubeconfig the entry came from.
        path: Option<PathBuf>,
        /// The entry (`cluster "kind-kind"`, `user "admin"`).
        entry: String,
        /// The field naming the file (`certificate-authority`, `tokenFile`, ...).
        field: &'static str,
        /// The file.
        file: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// A kubeconfig file could not be written.
    #[error("could not write kubeconfig {}: {source}", .path.display())]
    Write {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The in-cluster configuration is not available.
    #[error("not running in a cluster: {0}")]
    NotInCluster(String),
    /// [`Config::infer`] found no kubeconfig and no in-cluster configuration.
    #[error("no configuration: {kubeconfig}; {incluster}")]
    NoConfiguration {
        /// Why no kubeconfig was used.
        kubeconfig: Box<KubeconfigError>,
        /// Why the in-cluster configuration was not used.
        incluster: Box<KubeconfigError>,
    },
}

/// Writes `kubeconfig /path` (or just `kubeconfig` for text that came from no file).
struct File<'a>(&'a Option<PathBuf>);

impl fmt::Display for File<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(path) => write!(f, "kubeconfig {}", path.display()),
            None => f.write_str("kubeconfig"),
        }
    }
}

/// How the client authenticates.
#[derive(Clone, Default, PartialEq, Eq)]
pub enum Auth {
    /// No credentials (client certificates are part of [`TlsSettings`]).
    #[default]
    None,
    /// `Authorization: Bearer <token>`.
    Bearer(String),
    /// A bearer token read from a file, read again once a minute so that rotated tokens (a pod's
    /// projected service account token) are picked up, as client-go does.
    BearerFile(PathBuf),
    /// `Authorization: Basic` with a user name and password.
    Basic {
        /// The user name.
        username: String,
        /// The password.
        password: String,
    },
}

impl fmt::Debug for Auth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Auth::None => f.write_str("None"),
            Auth::Bearer(_) => f.write_str("Bearer(<redacted>)"),
            Auth::BearerFile(path) => f.debug_tuple("BearerFile").field(path).finish(),
            Auth::Basic { username, .. } => f
                .debug_struct("Basic")
                .field("username", username)
                .field("password", &"<redacted>")
                .finish(),
        }
    }
}

/// Which context, cluster and user of a kubeconfig to use (kubectl's `--context`,
/// `--cluster` and `--user`); unset fields come from the current context.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct KubeconfigOptions {
    /// The context, instead of `current-context`.
    pub context: Option<String>,
    /// The cluster, instead of the context's.
    pub cluster: Option<String>,
    /// The user, instead of the context's.
    pub user: Option<String>,
}

/// How [`TlsSettings`], [`Auth`] and timeouts apply to one API server.
#[derive(Clone, Debug, PartialEq)]
pub struct Config {
    /// The API server's URL, with any path prefix (`https://example.com/k8s/clusters/c-1`).
    pub cluster_url: http::Uri,
    /// The namespace of [`Api::default_namespaced`](crate::Api::default_namespaced): the
    /// context's namespace, else `default`.
    pub default_namespace: String,
    /// TLS: roots, client certificate, verification and server name.
    pub tls: TlsSettings,
    /// Credentials sent with every request.
    pub auth: Auth,
    /// How long establishing a connection (TCP and TLS handshake) may take.
    pub connect_timeout: Option<Duration>,
    /// How long a request may take from sending to the last byte of the response; watches are
    /// bounded only until their response headers arrive (their length is the server's
    /// `timeoutSeconds`).
    pub timeout: Option<Duration>,
}

/// [`Config::connect_timeout`] by default: client-go's dial timeout.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(30);
/// [`Config::timeout`] by default (kube-rs's read timeout; client-go has none).
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(295);

/// Where a pod's service account credentials are mounted.
pub const SERVICE_ACCOUNT_DIR: &str = "/var/run/secrets/kubernetes.io/serviceaccount";

impl Config {
    /// A configuration for `cluster_url` with no credentials, the system's roots, namespace
    /// `default` and the default timeouts.
    pub fn new(cluster_url: http::Uri) -> Self {
        Config {
            cluster_url,
            default_namespace: "default".to_owned(),
            tls: TlsSettings::default(),
            auth: Auth::None,
            connect_timeout: Some(DEFAULT_CONNECT_TIMEOUT),
            timeout: Some(DEFAULT_TIMEOUT),
        }
    }

    /// The configuration kubectl would use: the kubeconfig ([`Kubeconfig::read`]) and its
    /// current context; when there is none (no `KUBECONFIG`, no `~/.kube/config`, or only
    /// missing files listed), the pod's service account ([`Config::incluster`]).
    ///
    /// # Errors
    /// The kubeconfig exists but cannot be read or used, or neither source is available
    /// ([`KubeconfigError::NoConfiguration`]).
    pub fn infer() -> Result<Config, KubeconfigError> {
        infer_env(
            std::env::var_os("KUBECONFIG"),
            kubeconfig::home_dir(),
            Config::incluster,
        )
    }

    /// The configuration of a pod: the API server from `KUBERNETES_SERVICE_HOST` and
    /// `KUBERNETES_SERVICE_PORT`, the service account's token (read again as it rotates), CA
    /// and namespace from [`SERVICE_ACCOUNT_DIR`].
    ///
    /// # Errors
    /// [`KubeconfigError::NotInCluster`] when the variables are unset or the token is not
    /// readable.
    pub fn incluster() -> Result<Config, KubeconfigError> {
        let host = std::env::var("KUBERNETES_SERVICE_HOST").unwrap_or_default();
        let port = std::env::var("KUBERNETES_SERVICE_PORT").unwrap_or_default();
        incluster_from(&host, &port, Path::new(SERVICE_ACCOUNT_DIR))
    }

    /// The configuration of a kubeconfig's context.
    ///
    /// The context is `options.context`, else `current-context`; its cluster and user can be
    /// replaced by `options`. Files named by the entries (`certificate-authority`,
    /// `client-certificate`, `client-key`, `tokenFile`) are read now. A `token` wins over a
    /// `tokenFile`, as in client-go.
    ///
    /// # Errors
    /// A missing context or cluster, a cluster without a usable `server`, a field given both
    /// as a file and as `-data`, a client certificate without its key, a
    /// certificate authority with `insecure-skip-tls-verify`, a token together with basic
    /// authentication, files that cannot be read, and users whose only credentials are an
    /// `exec` plugin or an `auth-provider`, which this client does not run.
    pub fn from_kubeconfig(
        kubeconfig: &Kubeconfig,
        options: &KubeconfigOptions,
    ) -> Result<Config, KubeconfigError> {
        let context_name = options.context.as_deref().or(kubeconfig
            .current_context
            .as_deref()
            .filter(|c| !c.is_empty()));
        let context = match context_name {
            Some(name) => Some(
                kubeconfig
                    .context(name)
                    .ok_or_else(|| KubeconfigError::ContextNotFound(name.to_owned()))?,
            ),
            None if options.cluster.is_some() => None,
            None => return Err(KubeconfigError::NoContext),
        };
        let cluster_name = options
            .cluster
            .as_deref()
            .or(context.map(|c| c.context.cluster.as_str()))
            .unwrap_or_default();
        let cluster = kubeconfig
            .cluster(cluster_name)
            .ok_or_else(|| KubeconfigError::ClusterNotFound(cluster_name.to_owned()))?;
        let user_name = options
            .user
            .as_deref()
            .or(context.map(|c| c.context.user.as_str()))
            .unwrap_or_default();
        let user = match kubeconfig.auth_info(user_name) {
            Some(user) => Some(user),
            None if options.user.is_some() => {
                return Err(KubeconfigError::UserNotFound(user_name.to_owned()));
            }
            None => {
                if !user_name.is_empty() {
                    // client-go carries on without credentials here; say so.
                    tracing::warn!(
                        user = user_name,
                        "kubeconfig user not found; no credentials"
                    );
                }
                None
            }
        };

        let mut config = cluster_config(cluster)?;
        if let Some(namespace) = context
            .and_then(|c| c.context.namespace.as_deref())
            .filter(|n| !n.is_empty())
        {
            config.default_namespace = namespace.to_owned();
        }
        if let Some(user) = user {
            apply_user(&mut config, user)?;
        }
        Ok(config)
    }
}

/// [`Config::infer`] with the environment given.
fn infer_env(
    kubeconfig: Option<std::ffi::OsString>,
    home: Option<std::ffi::OsString>,
    incluster: impl FnOnce() -> Result<Config, KubeconfigError>,
) -> Result<Config, KubeconfigError> {
    let reason = match kubeconfig::read_env(kubeconfig, home) {
        // Only missing files were listed: nothing to use.
        Ok(k) if k == Kubeconfig::default() => KubeconfigError::NoContext,
        Ok(k) => return Config::from_kubeconfig(&k, &KubeconfigOptions::default()),
        Err(e @ (KubeconfigError::NotFound(_) | KubeconfigError::NoHome)) => e,
        Err(e) => return Err(e),
    };
    incluster().map_err(|incluster| KubeconfigError::NoConfiguration {
        kubeconfig: Box::new(reason),
        incluster: Box::new(incluster),
    })
}

/// The server, trust and server name of a cluster entry.
fn cluster_config(entry: &NamedCluster) -> Result<Config, KubeconfigError> {
    let err = |message: String| KubeconfigError::Cluster {
        path: entry.origin.clone(),
        cluster: entry.name.clone(),
        message,
    };
    let cluster = &entry.cluster;
    let server = cluster
        .server
        .as_deref()
        .filter(|s| !s.is_empty())
        .ok_or_else(|| err("no server is set".to_owned()))?;
    let url = parse_server(server).map_err(err)?;
    let mut config = Config::new(url);

    let ca_file = cluster
        .certificate_authority
        .as_deref()
        .filter(|s| !s.is_empty());
    let ca = match (&cluster.certificate_authority_data, ca_file) {
        (Some(_), Some(_)) => {
            return Err(err(
                "certificate-authority-data and certificate-authority are both set".to_owned(),
            ));
        }
        (Some(data), None) => Some(data.clone()),
        (None, Some(file)) => Some(read_file(
            entry.origin.as_ref(),
            || format!("cluster {:?}", entry.name),
            "certificate-authority",
            file,
        )?),
        (None, None) => None,
    };
    if cluster.insecure_skip_tls_verify && ca.is_some() {
        return Err(err(
            "a certificate authority cannot be combined with insecure-skip-tls-verify".to_owned(),
        ));
    }
    config.tls.root_certificates = ca;
    config.tls.insecure_skip_tls_verify = cluster.insecure_skip_tls_verify;
    config.tls.server_name = cluster.tls_server_name.clone().filter(|s| !s.is_empty());
    Ok(config)
}

/// Parses a `server` URL: `http` or `https`, with a host; a path is kept as a prefix.
fn parse_server(server: &str) -> Result<http::Uri, String> {
    let url: http::Uri = server
        .parse()
        .map_err(|e| format!("server {server:?} is not a valid url: {e}"))?;
    match url.scheme_str() {
        Some("https") | Some("http") => {}
        _ => {
            return Err(format!(
                "server {server:?} must start with https:// or http://"
            ));
        }
    }
    if url.host().is_none_or(str::is_empty) {
        return Err(format!("server {server:?} has no host"));
    }
    Ok(url)
}

/// Adds a user entry's credentials to `config`.
fn apply_user(config: &mut Config, entry: &NamedAuthInfo) -> Result<(), KubeconfigError> {
    let err = |message: &str| KubeconfigError::User {
        path: entry.origin.clone(),
        user: entry.name.clone(),
        message: message.to_owned(),
    };
    let user = &entry.user;
    let describe = || format!("user {:?}", entry.name);
    let non_empty = |s: &Option<String>| s.clone().filter(|s| !s.is_empty());

    let pem = |data: &Option<Vec<u8>>,
               file: &Option<String>,
               field: &'static str|
     -> Result<Option<Vec<u8>>, KubeconfigError> {
        match (data, non_empty(file)) {
            (Some(_), Some(_)) => Err(err(&format!("{field}-data and {field} are both set"))),
            (Some(data), None) => Ok(Some(data.clone())),
            (None, Some(file)) => {
                read_file(entry.origin.as_ref(), describe, field, &file).map(Some)
            }
            (None, None) => Ok(None),
        }
    };
    let certificate = pem(
        &user.client_certificate_data,
        &user.client_certificate,
        "client-certificate",
    )?;
    let key = pem(&user.client_key_data, &user.client_key, "client-key")?;
    match (certificate, key) {
        (Some(certificate_pem), Some(key_pem)) => {
            config.tls.identity = Some(Identity {
                certificate_pem,
                key_pem,
            });
        }
        (Some(_), None) => {
            return Err(err(
                "client-key-data or client-key must be set to use the client certificate",
            ));
        }
        // client-go ignores a key without a certificate.
        (None, Some(_)) => {
            tracing::warn!(user = %entry.name, "client key without a client certificate; ignored");
        }
        (None, None) => {}
    }

    let token = non_empty(&user.token);
    let token_file = non_empty(&user.token_file);
    let username = non_empty(&user.username);
    let password = non_empty(&user.password);
    let basic = username.is_some() || password.is_some();
    if (token.is_some() || token_file.is_some()) && basic {
        return Err(err(
            "a bearer token and a username/password cannot both be set",
        ));
    }
    config.auth = if let Some(token) = token {
        Auth::Bearer(token)
    } else if let Some(file) = token_file {
        // Read once now so that a missing file fails here, as in client-go.
        read_file(entry.origin.as_ref(), describe, "tokenFile", &file)?;
        Auth::BearerFile(PathBuf::from(file))
    } else if basic {
        Auth::Basic {
            username: username.unwrap_or_default(),
            password: password.unwrap_or_default(),
        }
    } else {
        Auth::None
    };
    if config.auth == Auth::None && config.tls.identity.is_none() {
        if user.exec.is_some() {
            return Err(err(
                "exec credential plugins are not supported by this client",
            ));
        }
        if user.auth_provider.is_some() {
            return Err(err(
                "auth-provider plugins are not supported by this client",
            ));
        }
    }
    Ok(())
}

/// Reads a file named by a kubeconfig field.
fn read_file(
    origin: Option<&PathBuf>,
    entry: impl FnOnce() -> String,
    field: &'static str,
    file: &str,
) -> Result<Vec<u8>, KubeconfigError> {
    std::fs::read(file).map_err(|source| KubeconfigError::ReadFile {
        path: origin.cloned(),
        entry: entry(),
        field,
        file: PathBuf::from(file),
        source,
    })
}

/// The in-cluster configuration from the service host and port and a service account
/// directory.
fn incluster_from(host: &str, port: &str, dir: &Path) -> Result<Config, KubeconfigError> {
    if host.is_empty() || port.is_empty() {
        return Err(KubeconfigError::NotInCluster(
            "KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT must be set".to_owned(),
        ));
    }
    let authority = if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    };
    let url =
        parse_server(&format!("https://{authority}")).map_err(KubeconfigError::NotInCluster)?;
    let token = dir.join("token");
    if let Err(e) = std::fs::metadata(&token) {
        return Err(KubeconfigError::NotInCluster(format!(
            "cannot read the service account token {}: {e}",
            token.display()
        )));
    }
    let mut config = Config::new(url);
    config.auth = Auth::BearerFile(token);
    // client-go carries on with the system roots when the CA file is unreadable.
    match std::fs::read(dir.join("ca.crt")) {
        Ok(ca) => config.tls.root_certificates = Some(ca),
        Err(e) => tracing::warn!(error = %e, "no service account ca.crt; using the system roots"),
    }
    if let Ok(namespace) = std::fs::read_to_string(dir.join("namespace")) {
        let namespace = namespace.trim();
        if !namespace.is_empty() {
            config.default_namespace = namespace.to_owned();
        }
    }
    Ok(config)
}

#[cfg(test)]
mod tests;
