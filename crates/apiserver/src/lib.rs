//! A Kubernetes-compatible API server: upstream registry semantics over the kubernaut store,
//! and the Kubernetes REST API over HTTP that the real `kubectl` and client libraries use
//! unchanged.
//!
//! [`ApiServer`] assembles the [`registry`] (per-kind strategies, admission, watch caches) and
//! the [`http`] API. Serve it over TLS with [`ApiServer::serve`] (see [`tls`] for a CA kept in a
//! data directory), or call its [`ApiServer::router`] in process, with no socket:
//!
//! ```
//! use std::sync::Arc;
//! use kubernaut_apiserver::ApiServer;
//! use kubernaut_store::embedded::{Config, EmbeddedStore};
//! use tower::ServiceExt as _;
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let store = Arc::new(EmbeddedStore::open(Config::in_memory())?);
//! let server = ApiServer::builder(store).token("s3cret", "admin").build().await?;
//! let request = http::Request::post("/api/v1/namespaces/default/configmaps")
//!     .header("authorization", "Bearer s3cret")
//!     .header("content-type", "application/json")
//!     .body(axum::body::Body::from(
//!         r#"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"settings"},"data":{"mode":"fast"}}"#,
//!     ))?;
//! let response = server.router().oneshot(request).await?;
//! assert_eq!(response.status(), 201);
//! # Ok(()) }
//! ```

pub mod admission;
pub mod auth;
pub mod body;
pub mod cache;
pub mod error;
pub mod http;
pub mod metrics;
pub mod object;
pub mod openapi;
pub mod patch;
pub mod protobuf;
pub mod registry;
pub mod resources;
pub mod server;
pub mod strategy;
pub mod subresources;
pub mod table;
pub mod tls;

pub use error::{ApiError, GroupKind, GroupResource, Result};
pub use server::{ApiServer, ApiServerBuilder, ApiServerConfig};

/// Entry points for the fuzz targets in `crates/apiserver/fuzz`; not part of the API.
#[doc(hidden)]
pub mod fuzzing {
    /// Decodes `data` as a request body of the media type its first byte picks (JSON, YAML,
    /// protobuf), then as a typed object of the kind it names, as the server does with a body.
    pub fn request_body(data: &[u8]) {
        let Some((&selector, body)) = data.split_first() else {
            return;
        };
        let ct = match selector % 3 {
            0 => "application/json",
            1 => "application/yaml",
            _ => "application/vnd.kubernetes.protobuf",
        };
        if let Ok(value) = crate::http::decode_body(ct, body) {
            let scheme = kubernaut_api_types::scheme::Scheme::builtin();
            if let Ok(kubernaut_api_types::scheme::Decoded::Known(mut d)) = scheme.decode(&value) {
                d.object.set_defaults();
                let _ = d.object.validate();
                let _ = crate::object::encode_for_storage(&d.object.to_json());
            }
        }
    }
}
