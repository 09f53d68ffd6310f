//! A test kit: a real API server in process (the embedded store in memory, no sockets) and a
//! client for it, in one line — controllers tested against real API semantics (resource
//! versions, watches, 410s, finalizers, admission), without a cluster and on tokio's paused
//! clock if the test wants it.
//!
//! ```
//! use kubernaut_api_types::core::v1::ConfigMap;
//! use kubernaut_client::{Api, PostParams};
//! use kubernaut_informer::testkit::TestCluster;
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! let cluster = TestCluster::start().await;
//! let cms: Api<ConfigMap> = Api::default_namespaced(cluster.client());
//! let cm = serde_json::from_value(serde_json::json!({"metadata": {"name": "x"}})).unwrap();
//! cms.create(&PostParams::default(), &cm).await.unwrap();
//! assert_eq!(cms.list(&Default::default()).await.unwrap().items.len(), 1);
//! # }
//! ```

use std::sync::Arc;

use kubernaut_apiserver::ApiServer;
use kubernaut_apiserver::cache::CacheConfig;
use kubernaut_client::Client;
use kubernaut_store::embedded::{Config, EmbeddedStore};

const TOKEN: &str = "testkit";

/// An API server in process and a client for it.
pub struct TestCluster {
    server: ApiServer,
    store: Arc<EmbeddedStore>,
    client: Client,
}

impl std::fmt::Debug for TestCluster {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestCluster").finish_non_exhaustive()
    }
}

impl TestCluster {
    /// Starts a server with the default watch window.
    ///
    /// # Panics
    /// When the server cannot start (a bug, not an input problem: tests only).
    pub async fn start() -> Self {
        TestCluster::with_watch_window(CacheConfig::default().window).await
    }

    /// Starts a server whose watch caches keep `window` events, to provoke `410 Gone`.
    ///
    /// # Panics
    /// When the server cannot start.
    pub async fn with_watch_window(window: usize) -> Self {
        let store = Arc::new(EmbeddedStore::open(Config::in_memory()).expect("in-memory store"));
        let config = kubernaut_apiserver::ApiServerConfig {
            cache: CacheConfig {
                window,
                ..CacheConfig::default()
            },
            ..kubernaut_apiserver::ApiServerConfig::default()
        };
        let server = ApiServer::builder(Arc::clone(&store) as Arc<dyn kubernaut_store::Backend>)
            .config(config)
            .token(TOKEN, "testkit-admin")
            .build()
            .await
            .expect("in-process API server");
        let client = client_for(&server);
        TestCluster {
            server,
            store,
            client,
        }
    }

    /// A client of the server (no socket: requests go to its router).
    pub fn client(&self) -> Client {
        self.client.clone()
    }

    /// The server.
    pub fn server(&self) -> &ApiServer {
        &self.server
    }

    /// The server's store, to provoke what clients cannot (compaction).
    pub fn store(&self) -> &Arc<EmbeddedStore> {
        &self.store
    }
}

/// A client that calls `server`'s router in process, authenticated.
pub fn client_for(server: &ApiServer) -> Client {
    let header = http::HeaderValue::from_str(&format!("Bearer {TOKEN}")).expect("header");
    let service =
        tower::ServiceExt::map_request(server.router(), move |mut r: http::Request<_>| {
            r.headers_mut()
                .insert(http::header::AUTHORIZATION, header.clone());
            r
        });
    Client::new(service, "default")
}
