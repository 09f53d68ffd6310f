//! The assembled server: registry, watch caches, admission, authentication and the HTTP API,
//! with the objects every cluster starts with, served over TLS (or in process, through
//! [`ApiServer::router`], with no socket at all).

use std::sync::Arc;
use std::time::Duration;

use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use hyper_util::service::TowerToHyperService;
use kubernaut_api_types::scheme::Scheme;
use kubernaut_store::Backend;
use serde_json::json;

use crate::admission::namespace::SYSTEM_NAMESPACES;
use crate::admission::{
    AdmissionChain, NamespaceLifecycle, ServiceAllocation, ServiceAllocationConfig,
};
use crate::auth::{AllowAuthenticated, Authenticator, Authorizer, TokenAuthenticator, UserInfo};
use crate::cache::CacheConfig;
use crate::error::ApiError;
use crate::http::{ApiState, router};
use crate::metrics::Metrics;
use crate::registry::{Registry, RegistryConfig, WriteOptions};
use crate::resources::Resources;

/// Settings of an [`ApiServer`].
#[derive(Clone, Debug)]
pub struct ApiServerConfig {
    /// Cluster IP and node-port ranges.
    pub services: ServiceAllocationConfig,
    /// Watch caches.
    pub cache: CacheConfig,
    /// The address clients reach the server at (`/api`'s `serverAddress`, and the `kubernetes`
    /// Service's endpoint), `host:port`.
    pub advertise_address: String,
}

impl Default for ApiServerConfig {
    fn default() -> Self {
        ApiServerConfig {
            services: ServiceAllocationConfig::default(),
            cache: CacheConfig::default(),
            advertise_address: "127.0.0.1:6443".to_owned(),
        }
    }
}

/// Builds an [`ApiServer`].
pub struct ApiServerBuilder {
    store: Arc<dyn Backend>,
    config: ApiServerConfig,
    authenticator: Arc<dyn Authenticator>,
    authorizer: Arc<dyn Authorizer>,
    scheme: Scheme,
}

impl std::fmt::Debug for ApiServerBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApiServerBuilder")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl ApiServerBuilder {
    /// Settings.
    #[must_use]
    pub fn config(mut self, config: ApiServerConfig) -> Self {
        self.config = config;
        self
    }

    /// Who may call the API (default: nobody — add tokens with
    /// [`ApiServerBuilder::token`] or bring an authenticator).
    #[must_use]
    pub fn authenticator(mut self, a: Arc<dyn Authenticator>) -> Self {
        self.authenticator = a;
        self
    }

    /// Accepts bearer `token` as an administrator (`system:masters`).
    #[must_use]
    pub fn token(self, token: impl Into<String>, user: &str) -> Self {
        let a = TokenAuthenticator::new().with_token(
            token,
            UserInfo {
                name: user.to_owned(),
                uid: String::new(),
                groups: vec!["system:masters".to_owned()],
            },
        );
        self.authenticator(Arc::new(a))
    }

    /// What callers may do (default: everything, once authenticated).
    #[must_use]
    pub fn authorizer(mut self, a: Arc<dyn Authorizer>) -> Self {
        self.authorizer = a;
        self
    }

    /// The kinds served (default: every built-in kind).
    #[must_use]
    pub fn scheme(mut self, scheme: Scheme) -> Self {
        self.scheme = scheme;
        self
    }

    /// Loads the caches, rebuilds allocations from the stored Services, creates the system
    /// namespaces and the `kubernetes` Service when missing, and returns the server ready to
    /// serve.
    ///
    /// # Errors
    /// When the store refuses the bootstrap writes.
    pub async fn build(self) -> Result<ApiServer, ApiError> {
        let resources = Resources::from_scheme(&self.scheme);
        let scheme = Arc::new(self.scheme);
        let mut registry = Registry::new(
            Arc::clone(&self.store),
            Arc::clone(&scheme),
            resources,
            AdmissionChain::new(),
            &RegistryConfig {
                cache: self.config.cache,
            },
        );
        let namespaces = registry
            .resources()
            .get("", "namespaces")
            .cloned()
            .ok_or_else(|| ApiError::internal("namespaces are not served"))?;
        let ns_cache = Arc::clone(registry.cache(&namespaces)?);
        let allocation = Arc::new(ServiceAllocation::new(self.config.services.clone()));
        registry
            .admission_mut()
            .push(Arc::new(NamespaceLifecycle::new(ns_cache)));
        registry
            .admission_mut()
            .push(Arc::clone(&allocation) as Arc<dyn crate::admission::AdmissionPlugin>);
        registry.start().await;
        let registry = Arc::new(registry);

        // Allocations are not stored separately: the stored Services are the truth.
        if let Some(services) = registry.resources().get("", "services").cloned() {
            let snapshot = registry.cache(&services)?.snapshot(None);
            let values: Vec<serde_json::Value> = snapshot
                .objects
                .iter()
                .filter_map(|o| serde_json::from_slice(&o.json).ok())
                .collect();
            allocation.mark_existing(values.iter());
        }

        let (shutdown_tx, _) = tokio::sync::watch::channel(false);
        let (epoch_tx, epoch_rx) = tokio::sync::watch::channel(0u64);
        let state = Arc::new(ApiState {
            registry: Arc::clone(&registry),
            authenticator: self.authenticator,
            authorizer: self.authorizer,
            metrics: Arc::new(Metrics::new()),
            server_address: self.config.advertise_address.clone(),
            shutdown: epoch_rx,
            openapi: std::sync::OnceLock::new(),
        });
        let server = ApiServer {
            state,
            shutdown: shutdown_tx,
            watch_epoch: epoch_tx,
            config: self.config,
        };
        server.bootstrap().await?;
        Ok(server)
    }
}

/// A running API server.
pub struct ApiServer {
    state: Arc<ApiState>,
    shutdown: tokio::sync::watch::Sender<bool>,
    /// Bumped to end every open watch.
    watch_epoch: tokio::sync::watch::Sender<u64>,
    config: ApiServerConfig,
}

impl std::fmt::Debug for ApiServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApiServer")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl ApiServer {
    /// A builder over `store`.
    pub fn builder(store: Arc<dyn Backend>) -> ApiServerBuilder {
        ApiServerBuilder {
            store,
            config: ApiServerConfig::default(),
            authenticator: Arc::new(TokenAuthenticator::new()),
            authorizer: Arc::new(AllowAuthenticated),
            scheme: Scheme::builtin(),
        }
    }

    /// The registry (for in-process use without HTTP).
    pub fn registry(&self) -> &Arc<Registry> {
        &self.state.registry
    }

    /// The metrics registry, shared with whatever else the process measures.
    pub fn metrics(&self) -> &Arc<Metrics> {
        &self.state.metrics
    }

    /// The HTTP API as a `tower::Service` (an axum `Router`): serve it on any listener, or
    /// call it in process with no socket.
    pub fn router(&self) -> axum::Router {
        router(Arc::clone(&self.state))
    }

    async fn bootstrap(&self) -> Result<(), ApiError> {
        let registry = &self.state.registry;
        let system = UserInfo {
            name: "system:apiserver".into(),
            uid: String::new(),
            groups: vec!["system:masters".into()],
        };
        let options = WriteOptions {
            field_manager: Some("kube-apiserver".to_owned()),
            ..WriteOptions::default()
        };
        let namespaces = registry
            .resources()
            .get("", "namespaces")
            .cloned()
            .ok_or_else(|| ApiError::internal("namespaces are not served"))?;
        for ns in SYSTEM_NAMESPACES {
            let body = json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}});
            match registry
                .create(&namespaces, None, body, &options, &system)
                .await
            {
                Ok(_) => {}
                Err(e) if e.code() == 409 => {}
                Err(e) => return Err(e),
            }
        }
        let (host, port) = self
            .config
            .advertise_address
            .rsplit_once(':')
            .map_or(("127.0.0.1", 6443), |(h, p)| (h, p.parse().unwrap_or(6443)));
        if let Some(services) = registry.resources().get("", "services").cloned()
            && registry
                .get(&services, Some("default"), "kubernetes", None)
                .await
                .is_err()
        {
            let svc = json!({"apiVersion": "v1", "kind": "Service",
                "metadata": {"name": "kubernetes", "labels": {"component": "apiserver", "provider": "kubernetes"}},
                "spec": {"clusterIP": self.config.services.first_ip().to_string(),
                    "ports": [{"name": "https", "port": 443, "protocol": "TCP", "targetPort": port}],
                    "sessionAffinity": "None", "type": "ClusterIP"}});
            match registry
                .create(&services, Some("default"), svc, &options, &system)
                .await
            {
                Ok(_) => {}
                Err(e) if e.code() == 409 => {}
                Err(e) => return Err(e),
            }
        }
        // Endpoints may not point at loopback addresses (upstream validation): a server on
        // 127.0.0.1 has a `kubernetes` Service without endpoints.
        if let (Some(endpoints), Ok(ip)) = (
            registry.resources().get("", "endpoints").cloned(),
            host.parse::<std::net::IpAddr>(),
        ) && !ip.is_loopback()
            && !ip.is_unspecified()
        {
            let ep = json!({"apiVersion": "v1", "kind": "Endpoints",
                "metadata": {"name": "kubernetes", "labels": {"endpointslice.kubernetes.io/skip-mirror": "true"}},
                "subsets": [{"addresses": [{"ip": ip.to_string()}],
                    "ports": [{"name": "https", "port": port, "protocol": "TCP"}]}]});
            match registry
                .create(&endpoints, Some("default"), ep, &options, &system)
                .await
            {
                Ok(_) => {}
                Err(e) if e.code() == 409 => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    /// Serves the API on `listener` (over TLS when `tls` is given) until
    /// [`ApiServer::shutdown`]; then stops accepting, ends watches and waits up to `drain` for
    /// requests in flight.
    ///
    /// # Errors
    /// When the listener fails.
    pub async fn serve(
        &self,
        listener: tokio::net::TcpListener,
        tls: Option<Arc<rustls::ServerConfig>>,
        drain: Duration,
    ) -> std::io::Result<()> {
        let acceptor = tls.map(tokio_rustls::TlsAcceptor::from);
        let graceful = hyper_util::server::graceful::GracefulShutdown::new();
        let mut shutdown = self.shutdown.subscribe();
        let router = self.router();
        loop {
            let (stream, _peer) = tokio::select! {
                accepted = listener.accept() => match accepted {
                    Ok(a) => a,
                    Err(e) => {
                        // Out of file descriptors and the like: back off, keep serving.
                        tracing::warn!(error = %e, "accept failed");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                },
                // The guard `wait_for` returns is not `Send`: drop it inside, so that `serve`
                // stays a `Send` future (it is spawned).
                () = async {
                    let _ = shutdown.wait_for(|stopped| *stopped).await;
                } => break,
            };
            let _ = stream.set_nodelay(true);
            let service = TowerToHyperService::new(router.clone());
            let watcher = graceful.watcher();
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                let builder = auto::Builder::new(TokioExecutor::new());
                match acceptor {
                    Some(acceptor) => {
                        let tls = match tokio::time::timeout(
                            Duration::from_secs(10),
                            acceptor.accept(stream),
                        )
                        .await
                        {
                            Ok(Ok(s)) => s,
                            Ok(Err(e)) => {
                                tracing::debug!(error = %e, "TLS handshake failed");
                                return;
                            }
                            Err(_) => return,
                        };
                        let conn = builder.serve_connection(TokioIo::new(tls), service);
                        let _ = watcher.watch(conn).await;
                    }
                    None => {
                        let conn = builder.serve_connection(TokioIo::new(stream), service);
                        let _ = watcher.watch(conn).await;
                    }
                }
            });
        }
        drop(listener);
        let _ = tokio::time::timeout(drain, graceful.shutdown()).await;
        Ok(())
    }

    /// Stops serving: the listener closes, watches end, in-flight requests finish.
    pub fn shutdown(&self) {
        self.shutdown.send_replace(true);
        self.disconnect_watches();
    }

    /// Ends every open watch, as a restart or a network failure would (clients resume from
    /// the last version they saw, or relist): for tests of client recovery.
    pub fn disconnect_watches(&self) {
        self.watch_epoch.send_modify(|e| *e += 1);
    }
}
