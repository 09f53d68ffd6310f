//! The kubeconfig file: its model, loading (YAML through `kubernaut_api_types::manifest`),
//! relative-path resolution, and merging several files the way client-go does.

use std::collections::HashSet;
use std::ffi::OsString;
use std::fmt;
use std::path::{Path, PathBuf};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use kubernaut_api_types::manifest::yaml;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;

use super::KubeconfigError;

/// A kubeconfig: named clusters, users and contexts, and the current context.
///
/// Field names are the file's (`current-context`, `users`, ...). Fields kubernaut does not use
/// (`preferences`, `extensions`, `exec`, ...) are kept as JSON so a file read and written back
/// loses nothing the model knows about; [`write_context`](super::write_context) goes further
/// and keeps every byte of the file it does not change.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Kubeconfig {
    /// `apiVersion` (`v1`).
    #[serde(
        rename = "apiVersion",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub api_version: Option<String>,
    /// `kind` (`Config`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// `clusters`: where API servers are and how to trust them.
    #[serde(default, deserialize_with = "null_as_default")]
    pub clusters: Vec<NamedCluster>,
    /// `users`: credentials.
    #[serde(rename = "users", default, deserialize_with = "null_as_default")]
    pub auth_infos: Vec<NamedAuthInfo>,
    /// `contexts`: a cluster, a user and a default namespace under one name.
    #[serde(default, deserialize_with = "null_as_default")]
    pub contexts: Vec<NamedContext>,
    /// `current-context`: the context used when none is chosen.
    #[serde(
        rename = "current-context",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub current_context: Option<String>,
    /// `preferences`, as written.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preferences: Option<Value>,
    /// `extensions`, as written.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extensions: Option<Value>,
}

/// One entry of `clusters`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct NamedCluster {
    /// The cluster's name, unique in the file.
    #[serde(default, deserialize_with = "null_as_default")]
    pub name: String,
    /// The cluster.
    #[serde(default, deserialize_with = "null_as_default")]
    pub cluster: Cluster,
    /// The file the entry was read from (client-go's `LocationOfOrigin`).
    #[serde(skip)]
    pub origin: Option<PathBuf>,
}

/// How to reach and trust an API server.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Cluster {
    /// `server`: the API server's URL (`https://127.0.0.1:6443`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server: Option<String>,
    /// `tls-server-name`: the name to verify the server certificate against, and to send as
    /// SNI, instead of the URL's host.
    #[serde(
        rename = "tls-server-name",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub tls_server_name: Option<String>,
    /// `insecure-skip-tls-verify`: do not verify the server certificate.
    #[serde(
        rename = "insecure-skip-tls-verify",
        default,
        deserialize_with = "null_as_default",
        skip_serializing_if = "is_false"
    )]
    pub insecure_skip_tls_verify: bool,
    /// `certificate-authority`: a PEM file of the certificates to trust.
    #[serde(
        rename = "certificate-authority",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub certificate_authority: Option<String>,
    /// `certificate-authority-data`: the PEM certificates to trust (base64 in the file).
    #[serde(
        rename = "certificate-authority-data",
        default,
        with = "base64_bytes",
        skip_serializing_if = "Option::is_none"
    )]
    pub certificate_authority_data: Option<Vec<u8>>,
    /// `proxy-url`: an HTTP proxy for this cluster. Kept, not used: the transport connects
    /// directly.
    #[serde(rename = "proxy-url", default, skip_serializing_if = "Option::is_none")]
    pub proxy_url: Option<String>,
    /// `disable-compression`, as written.
    #[serde(
        rename = "disable-compression",
        default,
        deserialize_with = "null_as_default",
        skip_serializing_if = "is_false"
    )]
    pub disable_compression: bool,
    /// `extensions`, as written.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extensions: Option<Value>,
}

/// One entry of `users`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct NamedAuthInfo {
    /// The user's name, unique in the file.
    #[serde(default, deserialize_with = "null_as_default")]
    pub name: String,
    /// The credentials.
    #[serde(default, deserialize_with = "null_as_default")]
    pub user: AuthInfo,
    /// The file the entry was read from.
    #[serde(skip)]
    pub origin: Option<PathBuf>,
}

/// Credentials: a bearer token, a client certificate, or a user name and password.
#[derive(Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct AuthInfo {
    /// `client-certificate`: a PEM file with the client certificate.
    #[serde(
        rename = "client-certificate",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub client_certificate: Option<String>,
    /// `client-certificate-data`: the PEM client certificate (base64 in the file).
    #[serde(
        rename = "client-certificate-data",
        default,
        with = "base64_bytes",
        skip_serializing_if = "Option::is_none"
    )]
    pub client_certificate_data: Option<Vec<u8>>,
    /// `client-key`: a PEM file with the client certificate's private key.
    #[serde(
        rename = "client-key",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub client_key: Option<String>,
    /// `client-key-data`: the PEM private key (base64 in the file).
    #[serde(
        rename = "client-key-data",
        default,
        with = "base64_bytes",
        skip_serializing_if = "Option::is_none"
    )]
    pub client_key_data: Option<Vec<u8>>,
    /// `token`: a bearer token.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
    /// `tokenFile`: a file holding the bearer token, read again every minute.
    #[serde(rename = "tokenFile", default, skip_serializing_if = "Option::is_none")]
    pub token_file: Option<String>,
    /// `username` for basic authentication.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    /// `password` for basic authentication.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password: Option<String>,
    /// `as`: the user to impersonate. Kept, not used.
    #[serde(rename = "as", default, skip_serializing_if = "Option::is_none")]
    pub impersonate: Option<String>,
    /// `as-groups`: the groups to impersonate. Kept, not used.
    #[serde(rename = "as-groups", default, skip_serializing_if = "Option::is_none")]
    pub impersonate_groups: Option<Vec<String>>,
    /// `exec`: a credential plugin, as written. Not run: see [`Config::from_kubeconfig`].
    ///
    /// [`Config::from_kubeconfig`]: super::Config::from_kubeconfig
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exec: Option<Value>,
    /// `auth-provider`: a legacy auth provider, as written. Not run.
    #[serde(
        rename = "auth-provider",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub auth_provider: Option<Value>,
    /// `extensions`, as written.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extensions: Option<Value>,
}

impl fmt::Debug for AuthInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let redacted = |present: bool| if present { Some("<redacted>") } else { None };
        f.debug_struct("AuthInfo")
            .field("client_certificate", &self.client_certificate)
            .field(
                "client_certificate_data",
                &self.client_certificate_data.as_ref().map(|d| d.len()),
            )
            .field("client_key", &self.client_key)
            .field("client_key_data", &redacted(self.client_key_data.is_some()))
            .field("token", &redacted(self.token.is_some()))
            .field("token_file", &self.token_file)
            .field("username", &self.username)
            .field("password", &redacted(self.password.is_some()))
            .field("impersonate", &self.impersonate)
            .field("impersonate_groups", &self.impersonate_groups)
            .field("exec", &self.exec.is_some())
            .field("auth_provider", &self.auth_provider.is_some())
            .finish_non_exhaustive()
    }
}

/// One entry of `contexts`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct NamedContext {
    /// The context's name, unique in the file.
    #[serde(default, deserialize_with = "null_as_default")]
    pub name: String,
    /// The context.
    #[serde(default, deserialize_with = "null_as_default")]
    pub context: Context,
    /// The file the entry was read from.
    #[serde(skip)]
    pub origin: Option<PathBuf>,
}

/// A cluster, a user and a default namespace under one name.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Context {
    /// `cluster`: the name of an entry of `clusters`.
    #[serde(default, deserialize_with = "null_as_default")]
    pub cluster: String,
    /// `user`: the name of an entry of `users`.
    #[serde(
        default,
        deserialize_with = "null_as_default",
        skip_serializing_if = "String::is_empty"
    )]
    pub user: String,
    /// `namespace`: the default namespace (`default` when unset).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// `extensions`, as written.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extensions: Option<Value>,
}

impl Kubeconfig {
    /// Parses kubeconfig text. Relative paths stay as written; entries have no origin.
    ///
    /// # Errors
    /// Malformed YAML, a field of the wrong type, invalid base64 in a `-data` field, or a name
    /// used twice in one list.
    pub fn from_yaml(text: &str) -> Result<Kubeconfig, KubeconfigError> {
        parse(text, None)
    }

    /// Reads one kubeconfig file, resolving its relative paths against the file's directory and
    /// recording the file as each entry's origin.
    ///
    /// # Errors
    /// The file cannot be read, or [`Kubeconfig::from_yaml`]'s errors, naming the file.
    pub fn read_from(path: impl AsRef<Path>) -> Result<Kubeconfig, KubeconfigError> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|source| KubeconfigError::Read {
            path: path.to_owned(),
            source,
        })?;
        let mut config = parse(&text, Some(path))?;
        let absolute = std::path::absolute(path).unwrap_or_else(|_| path.to_owned());
        let dir = absolute.parent().unwrap_or(Path::new("/")).to_owned();
        config.resolve_paths(&dir);
        for c in &mut config.clusters {
            c.origin = Some(path.to_owned());
        }
        for u in &mut config.auth_infos {
            u.origin = Some(path.to_owned());
        }
        for c in &mut config.contexts {
            c.origin = Some(path.to_owned());
        }
        Ok(config)
    }

    /// Reads the kubeconfig the way kubectl does: every file listed in `KUBECONFIG` (separated
    /// by `:`, `;` on Windows; empty entries and repeats skipped, missing files ignored), merged
    /// by [`Kubeconfig::merge`]; when `KUBECONFIG` is unset or empty, `~/.kube/config`.
    ///
    /// # Errors
    /// A listed file that exists but cannot be read or parsed; without `KUBECONFIG`, a missing
    /// `~/.kube/config` ([`KubeconfigError::NotFound`]).
    pub fn read() -> Result<Kubeconfig, KubeconfigError> {
        read_env(std::env::var_os("KUBECONFIG"), home_dir())
    }

    /// Reads and merges a list of kubeconfig files as `KUBECONFIG` lists them: empty paths and
    /// repeats are skipped, files that do not exist are ignored, the first file wins.
    ///
    /// # Errors
    /// A file that exists but cannot be read or parsed.
    pub fn read_paths(
        paths: impl IntoIterator<Item = PathBuf>,
    ) -> Result<Kubeconfig, KubeconfigError> {
        let mut seen = HashSet::new();
        let mut merged = Kubeconfig::default();
        for path in paths {
            if path.as_os_str().is_empty() || !seen.insert(path.clone()) {
                continue;
            }
            match Kubeconfig::read_from(&path) {
                Ok(config) => merged = merged.merge(config),
                Err(KubeconfigError::Read { source, .. })
                    if source.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(e),
            }
        }
        Ok(merged)
    }

    /// Merges `other` into `self`, `self` taking precedence, as client-go merges the files of
    /// `KUBECONFIG`: the first file to define a cluster, user or context name keeps it whole
    /// (entries are not merged field by field), and the first non-empty `current-context`,
    /// `preferences` and `extensions` win.
    pub fn merge(mut self, other: Kubeconfig) -> Kubeconfig {
        fn merge_named<T>(into: &mut Vec<T>, from: Vec<T>, name: impl Fn(&T) -> &str) {
            let mut names: HashSet<String> = into.iter().map(|e| name(e).to_owned()).collect();
            for entry in from {
                if names.insert(name(&entry).to_owned()) {
                    into.push(entry);
                }
            }
        }
        merge_named(&mut self.clusters, other.clusters, |c| &c.name);
        merge_named(&mut self.auth_infos, other.auth_infos, |u| &u.name);
        merge_named(&mut self.contexts, other.contexts, |c| &c.name);
        if self.current_context.as_deref().is_none_or(str::is_empty) {
            self.current_context = other.current_context;
        }
        if self.preferences.is_none() {
            self.preferences = other.preferences;
        }
        if self.extensions.is_none() {
            self.extensions = other.extensions;
        }
        if self.api_version.is_none() {
            self.api_version = other.api_version;
        }
        if self.kind.is_none() {
            self.kind = other.kind;
        }
        self
    }

    /// The context named `name`.
    pub fn context(&self, name: &str) -> Option<&NamedContext> {
        self.contexts.iter().find(|c| c.name == name)
    }

    /// The cluster named `name`.
    pub fn cluster(&self, name: &str) -> Option<&NamedCluster> {
        self.clusters.iter().find(|c| c.name == name)
    }

    /// The user named `name`.
    pub fn auth_info(&self, name: &str) -> Option<&NamedAuthInfo> {
        self.auth_infos.iter().find(|u| u.name == name)
    }

    /// Makes the relative file paths of every entry absolute against `dir` (client-go's
    /// `ResolveLocalPaths`): `certificate-authority`, `client-certificate`, `client-key` and
    /// `tokenFile`.
    fn resolve_paths(&mut self, dir: &Path) {
        let resolve = |p: &mut Option<String>| {
            if let Some(path) = p
                && !path.is_empty()
                && Path::new(path.as_str()).is_relative()
            {
                *path = dir.join(path.as_str()).to_string_lossy().into_owned();
            }
        };
        for c in &mut self.clusters {
            resolve(&mut c.cluster.certificate_authority);
        }
        for u in &mut self.auth_infos {
            resolve(&mut u.user.client_certificate);
            resolve(&mut u.user.client_key);
            resolve(&mut u.user.token_file);
        }
    }
}

/// The home directory: `HOME`, else `USERPROFILE` (Windows).
pub(crate) fn home_dir() -> Option<OsString> {
    std::env::var_os("HOME")
        .filter(|h| !h.is_empty())
        .or_else(|| std::env::var_os("USERPROFILE").filter(|h| !h.is_empty()))
}

/// [`Kubeconfig::read`] with the environment given: the value of `KUBECONFIG` and the home
/// directory.
pub(crate) fn read_env(
    kubeconfig: Option<OsString>,
    home: Option<OsString>,
) -> Result<Kubeconfig, KubeconfigError> {
    match kubeconfig.filter(|v| !v.is_empty()) {
        Some(list) => Kubeconfig::read_paths(std::env::split_paths(&list)),
        None => {
            let home = home.ok_or(KubeconfigError::NoHome)?;
            let path = PathBuf::from(home).join(".kube").join("config");
            if !path.exists() {
                return Err(KubeconfigError::NotFound(path));
            }
            Kubeconfig::read_from(path)
        }
    }
}

/// Reads the first YAML document of `text` as JSON (an empty file is an empty kubeconfig).
pub(crate) fn parse_value(text: &str, path: Option<&Path>) -> Result<Value, KubeconfigError> {
    let mut docs = yaml::documents(text);
    match docs.next() {
        None => Ok(Value::Object(serde_json::Map::new())),
        Some(Err(source)) => Err(KubeconfigError::Yaml {
            path: path.map(Path::to_owned),
            source,
        }),
        Some(Ok(doc)) => Ok(doc.value),
    }
}

fn parse(text: &str, path: Option<&Path>) -> Result<Kubeconfig, KubeconfigError> {
    let value = parse_value(text, path)?;
    if !value.is_object() {
        return Err(KubeconfigError::Field {
            path: path.map(Path::to_owned),
            field: "(document)".to_owned(),
            message: "a kubeconfig must be a mapping".to_owned(),
        });
    }
    let config: Kubeconfig = serde_path_to_error::deserialize(value).map_err(|e| {
        let field = field_path(e.path());
        KubeconfigError::Field {
            path: path.map(Path::to_owned),
            field: if field.is_empty() {
                "(document)".to_owned()
            } else {
                field
            },
            message: e.into_inner().to_string(),
        }
    })?;
    check_unique(path, "clusters", config.clusters.iter().map(|c| &c.name))?;
    check_unique(path, "users", config.auth_infos.iter().map(|u| &u.name))?;
    check_unique(path, "contexts", config.contexts.iter().map(|c| &c.name))?;
    Ok(config)
}

/// A path from `serde_path_to_error` as a field path: `clusters[0].cluster.server`.
fn field_path(path: &serde_path_to_error::Path) -> String {
    use serde_path_to_error::Segment;
    let mut out = String::new();
    for segment in path.iter() {
        match segment {
            Segment::Seq { index } => out.push_str(&format!("[{index}]")),
            Segment::Map { key } | Segment::Enum { variant: key } => {
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(key);
            }
            Segment::Unknown => {}
        }
    }
    out
}

/// A name may appear once per list in one file (client-go refuses duplicates when it turns the
/// lists into maps).
fn check_unique<'a>(
    path: Option<&Path>,
    list: &'static str,
    names: impl Iterator<Item = &'a String>,
) -> Result<(), KubeconfigError> {
    let mut seen = HashSet::new();
    for name in names {
        if !seen.insert(name) {
            return Err(KubeconfigError::DuplicateName {
                path: path.map(Path::to_owned),
                list,
                name: name.clone(),
            });
        }
    }
    Ok(())
}

fn is_false(b: &bool) -> bool {
    !*b
}

fn null_as_default<'de, D: Deserializer<'de>, T: Deserialize<'de> + Default>(
    d: D,
) -> Result<T, D::Error> {
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

/// The `-data` fields: bytes written as standard base64 (line breaks inside are ignored, as Go
/// ignores them). An empty string is no data.
mod base64_bytes {
    use super::*;

    pub(super) fn serialize<S: Serializer>(v: &Option<Vec<u8>>, s: S) -> Result<S::Ok, S::Error> {
        match v {
            Some(bytes) => s.serialize_str(&STANDARD.encode(bytes)),
            None => s.serialize_none(),
        }
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Option<Vec<u8>>, D::Error> {
        let Some(text) = Option::<String>::deserialize(d)? else {
            return Ok(None);
        };
        let text: String = text.chars().filter(|c| *c != '\n' && *c != '\r').collect();
        if text.is_empty() {
            return Ok(None);
        }
        STANDARD
            .decode(text.as_bytes())
            .map(Some)
            .map_err(|e| serde::de::Error::custom(format_args!("invalid base64: {e}")))
    }
}
