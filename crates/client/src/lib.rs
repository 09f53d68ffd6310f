//! A Kubernetes API client for operator authors: kubeconfig loading (merged as kubectl merges
//! them) and writing, a typed [`Api<K>`] for every verb (get, list, create, replace, patch with
//! the four patch types, delete, watch, `status` and `scale` subresources, logs),
//! [`Api<DynamicObject>`](kubernaut_api_types::DynamicObject) with [`Discovery`] for kinds known
//! only at run time, and upstream `Status` errors.
//!
//! It talks to any Kubernetes API server, kubernaut's or a real cluster's. The transport is any
//! `tower::Service` of `http` requests: [`Client::try_default`] builds the default one (hyper's
//! connection pool, TLS by rustls, HTTP/1.1 and HTTP/2) from the kubeconfig or the pod's service
//! account; [`Client::new`] takes any other, such as the API server's own `axum::Router` running
//! in the same process, or a test double.
//!
//! ```no_run
//! use futures::{StreamExt, TryStreamExt};
//! use kubernaut_api_types::apps::v1::Deployment;
//! use kubernaut_api_types::meta::WatchEvent;
//! use kubernaut_client::{Api, Client, ListParams, Patch, PatchParams, WatchParams};
//! use serde_json::json;
//!
//! # async fn run() -> Result<(), kubernaut_client::Error> {
//! let client = Client::try_default()?;
//! let deployments: Api<Deployment> = Api::default_namespaced(client);
//!
//! // Scale with a merge patch on the scale subresource, as kubectl scale does.
//! let patch = Patch::Merge(json!({"spec": {"replicas": 3}}));
//! deployments.patch_scale("web", &PatchParams::default(), &patch).await?;
//!
//! // List, then watch from the list's resource version.
//! let list = deployments.list(&ListParams::default().labels("app=web")).await?;
//! let version = list.metadata.resource_version.unwrap_or_default();
//! let mut events = deployments.watch(&WatchParams::default().labels("app=web"), &version).await?;
//! while let Some(event) = events.try_next().await? {
//!     match event {
//!         WatchEvent::Added(d) | WatchEvent::Modified(d) => {
//!             println!("{} wants {:?}", d.metadata.name.unwrap_or_default(), d.spec.and_then(|s| s.replicas))
//!         }
//!         WatchEvent::Deleted(d) => println!("{} is gone", d.metadata.name.unwrap_or_default()),
//!         WatchEvent::Bookmark(_) => {}
//!         // 410 Expired: list again and watch from the new version.
//!         WatchEvent::Error(status) => return Err(kubernaut_client::Error::Api(Box::new(status))),
//!     }
//! }
//! # Ok(())
//! # }
//! ```
//!
//! An in-process transport needs no server: here a scripted service answers a get.
//!
//! ```
//! use kubernaut_api_types::core::v1::ConfigMap;
//! use kubernaut_client::{Api, Body, Client, ResponseBody};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), kubernaut_client::Error> {
//! let service = tower::service_fn(|request: http::Request<Body>| async move {
//!     assert_eq!(request.uri(), "/api/v1/namespaces/default/configmaps/settings");
//!     let body = r#"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"settings"},"data":{"mode":"fast"}}"#;
//!     Ok::<_, std::convert::Infallible>(http::Response::new(ResponseBody::from_bytes(body)))
//! });
//! let config_maps: Api<ConfigMap> = Api::default_namespaced(Client::new(service, "default"));
//! let settings = config_maps.get("settings").await?;
//! assert_eq!(settings.data.unwrap()["mode"], "fast");
//! # Ok(())
//! # }
//! ```

pub mod api;
pub mod body;
pub mod client;
pub mod config;
pub mod discovery;
pub mod error;
pub mod params;
pub mod tls;
pub mod transport;
pub mod watch;

pub use api::Api;
pub use body::{Body, BoxError, ResponseBody};
pub use client::{Client, ObjectOrStatus, ServerVersion};
pub use config::{Config, Kubeconfig, KubeconfigError, KubeconfigOptions};
pub use discovery::Discovery;
pub use error::Error;
pub use params::{
    DeleteParams, GetParams, ListParams, LogParams, Patch, PatchParams, PostParams,
    PropagationPolicy, ValidationDirective, VersionMatch, WatchParams,
};
pub use transport::HttpService;
pub use watch::WatchStream;

#[cfg(test)]
mod test_support;
