//! A single-machine API server: the embedded durable store in a data directory, TLS with a CA
//! kept there, a bearer token for an administrator, and a kubeconfig that `kubectl` uses as
//! is. The `apiserver` example runs it; tests start it in process.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use kubernaut_apiserver::tls;
use kubernaut_apiserver::{ApiServer, ApiServerConfig};
use kubernaut_store::embedded::{Config, Durability, EmbeddedStore};

/// Boxed errors of the assembly (its failures are reported to a person, not matched on).
pub type Error = Box<dyn std::error::Error + Send + Sync>;

/// Where and how to run.
#[derive(Clone, Debug)]
pub struct LocalOptions {
    /// The data directory: `store/` (the database), `pki/` (the CA), `token`.
    pub data_dir: PathBuf,
    /// The address to listen on; port 0 picks a free one.
    pub listen: SocketAddr,
    /// Where to write the kubeconfig (default `<data-dir>/kubeconfig`).
    pub kubeconfig: Option<PathBuf>,
    /// Durability of the store (default `Fsync`).
    pub durability: Durability,
    /// Events each watch cache keeps for resuming watches (default 10,000).
    pub watch_window: usize,
}

impl LocalOptions {
    /// Defaults for `data_dir`: listen on `127.0.0.1:6443`, durable store.
    pub fn new(data_dir: impl Into<PathBuf>) -> Self {
        LocalOptions {
            data_dir: data_dir.into(),
            listen: SocketAddr::from(([127, 0, 0, 1], 6443)),
            kubeconfig: None,
            durability: Durability::Fsync,
            watch_window: kubernaut_apiserver::cache::CacheConfig::default().window,
        }
    }
}

/// A running local API server.
pub struct LocalApiServer {
    /// The server.
    pub server: Arc<ApiServer>,
    /// The address it listens on.
    pub address: SocketAddr,
    /// The kubeconfig written for it.
    pub kubeconfig: PathBuf,
    /// The administrator's bearer token.
    pub token: String,
    /// The CA certificate (PEM) clients trust.
    pub ca_pem: String,
    store: Arc<EmbeddedStore>,
    serving: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl std::fmt::Debug for LocalApiServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LocalApiServer")
            .field("address", &self.address)
            .field("kubeconfig", &self.kubeconfig)
            .finish_non_exhaustive()
    }
}

impl LocalApiServer {
    /// Opens the store, loads or creates the CA and token, starts serving and writes the
    /// kubeconfig (context `kubernaut`).
    ///
    /// # Errors
    /// When the data directory cannot be used (another server holds it, damage), the
    /// address cannot be bound, or the kubeconfig cannot be written.
    pub async fn start(options: LocalOptions) -> Result<Self, Error> {
        let dir = &options.data_dir;
        std::fs::create_dir_all(dir).map_err(|e| format!("create {}: {e}", dir.display()))?;
        let store_config = Config {
            durability: options.durability,
            ..Config::durable(dir.join("store"))
        };
        let store = Arc::new(
            tokio::task::spawn_blocking(move || EmbeddedStore::open(store_config)).await??,
        );
        let token = load_or_create_token(&dir.join("token"))?;
        let listener = tokio::net::TcpListener::bind(options.listen)
            .await
            .map_err(|e| format!("listen on {}: {e}", options.listen))?;
        let address = listener.local_addr()?;
        let config = ApiServerConfig {
            advertise_address: address.to_string(),
            cache: kubernaut_apiserver::cache::CacheConfig {
                window: options.watch_window,
                ..kubernaut_apiserver::cache::CacheConfig::default()
            },
            ..ApiServerConfig::default()
        };
        let mut hosts = vec![
            address.ip().to_string(),
            "127.0.0.1".to_owned(),
            "localhost".to_owned(),
            "kubernetes".to_owned(),
            "kubernetes.default".to_owned(),
            "kubernetes.default.svc".to_owned(),
            config.services.first_ip().to_string(),
        ];
        hosts.dedup();
        let pki = tls::load_or_create(&dir.join("pki"), &hosts)?;
        let tls_config = tls::server_config(&pki)?;
        let server = Arc::new(
            ApiServer::builder(Arc::clone(&store) as Arc<dyn kubernaut_store::Backend>)
                .config(config)
                .token(token.clone(), "kubernaut-admin")
                .build()
                .await?,
        );
        let serving = {
            let server = Arc::clone(&server);
            tokio::spawn(async move {
                server
                    .serve(listener, Some(tls_config), Duration::from_secs(5))
                    .await
            })
        };
        let kubeconfig = options
            .kubeconfig
            .clone()
            .unwrap_or_else(|| dir.join("kubeconfig"));
        write_kubeconfig(
            &kubeconfig,
            &format!("https://{address}"),
            &pki.ca_pem,
            &token,
        )?;
        Ok(LocalApiServer {
            server,
            address,
            kubeconfig,
            token,
            ca_pem: pki.ca_pem,
            store,
            serving,
        })
    }

    /// Stops serving (watches end, requests in flight finish) and closes the store.
    ///
    /// # Errors
    /// When serving had failed.
    pub async fn stop(self) -> Result<(), Error> {
        self.server.shutdown();
        let served = self.serving.await;
        drop(self.server);
        self.store.close();
        served??;
        Ok(())
    }
}

fn load_or_create_token(path: &Path) -> Result<String, Error> {
    match std::fs::read_to_string(path) {
        Ok(t) if !t.trim().is_empty() => return Ok(t.trim().to_owned()),
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(format!("read {}: {e}", path.display()).into()),
    }
    let mut bytes = [0u8; 24];
    kubernaut_apiserver::object::fill_random(&mut bytes);
    let token: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    write_private(path, &format!("{token}\n"))?;
    Ok(token)
}

fn write_private(path: &Path, text: &str) -> Result<(), Error> {
    use std::io::Write as _;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    let tmp = path.with_extension("tmp");
    let mut f = options
        .open(&tmp)
        .map_err(|e| format!("create {}: {e}", tmp.display()))?;
    f.write_all(text.as_bytes())?;
    f.sync_all()?;
    std::fs::rename(&tmp, path).map_err(|e| format!("rename to {}: {e}", path.display()))?;
    Ok(())
}

/// Writes a kubeconfig with one cluster, user and context, all named `kubernaut`.
///
/// # Errors
/// When the file cannot be written.
pub fn write_kubeconfig(path: &Path, server: &str, ca_pem: &str, token: &str) -> Result<(), Error> {
    let ca = base64::engine::general_purpose::STANDARD.encode(ca_pem);
    let text = format!(
        "apiVersion: v1
kind: Config
clusters:
- name: kubernaut
  cluster:
    server: {server}
    certificate-authority-data: {ca}
users:
- name: kubernaut-admin
  user:
    token: {token}
contexts:
- name: kubernaut
  context:
    cluster: kubernaut
    user: kubernaut-admin
    namespace: default
current-context: kubernaut
preferences: {{}}
"
    );
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)?;
    }
    write_private(path, &text)
}
