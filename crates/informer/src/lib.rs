//! Watch machinery and a controller runtime for Kubernetes APIs: watchers that list and then
//! watch with upstream's recovery, reflectors into indexed caches shared by every controller of
//! a process, rate-limited work queues, the controller builder, leader election, event
//! recording and finalizer helpers, metrics, and a test kit that runs controllers against a
//! real in-process API server.
//!
//! The pieces, bottom up:
//! - [`watcher`]: a stream of a resource's state: paginated list, then watch from the list's
//!   version; relist on `410`, re-watch when the server ends a watch, backoff with jitter.
//! - [`store`]: the cache a watcher fills: `Arc<K>` objects, named secondary indexes,
//!   atomic relist swaps, readiness, version waits for read-your-own-writes.
//! - [`informer`]: one watch and cache per kind and selectors per process, shared by every
//!   controller; subscribers join at any time and lagging ones are resynced, never buffered.
//! - [`workqueue`]: dedup, one worker per key, delayed and rate-limited adds, priorities that
//!   age, shutdown with drain, metrics.
//! - [`controller`]: `Controller::new` + `owns` + `watches` + predicates, then `run`.
//! - [`finalizer`], [`events`], [`leader`], [`metrics`]: what operators need around it.
//! - `testkit` (feature `testkit`): a real API server in process and a client for it.
//!
//! A controller, tested against a real API server in process:
//!
//! ```
//! # #[cfg(feature = "testkit")]
//! # {
//! use std::sync::Arc;
//! use kubernaut_api_types::core::v1::ConfigMap;
//! use kubernaut_client::{Api, PostParams};
//! use kubernaut_informer::controller::{Action, Controller};
//! use kubernaut_informer::informer::InformerFactory;
//! use kubernaut_informer::testkit::TestCluster;
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! let cluster = TestCluster::start().await;
//! let factory = InformerFactory::new(cluster.client());
//! let (done, seen) = tokio::sync::oneshot::channel::<String>();
//! let done = Arc::new(parking_lot::Mutex::new(Some(done)));
//! let controller = Controller::<ConfigMap>::new(&factory, Some("default"), Default::default());
//! tokio::spawn(controller.run(
//!     |cm: Arc<ConfigMap>, done: Arc<parking_lot::Mutex<Option<tokio::sync::oneshot::Sender<String>>>>| async move {
//!         if let Some(tx) = done.lock().take() {
//!             let _ = tx.send(cm.metadata.name.clone().unwrap_or_default());
//!         }
//!         Ok::<_, std::convert::Infallible>(Action::await_change())
//!     },
//!     |_, _, _| Action::backoff(),
//!     done,
//! ));
//! let cm = serde_json::from_value(serde_json::json!({"metadata": {"name": "hello"}})).unwrap();
//! Api::<ConfigMap>::default_namespaced(cluster.client())
//!     .create(&PostParams::default(), &cm)
//!     .await
//!     .unwrap();
//! assert_eq!(seen.await.unwrap(), "hello");
//! # }
//! # }
//! ```

pub mod controller;
pub mod events;
pub mod finalizer;
pub mod informer;
pub mod leader;
pub mod metrics;
pub mod store;
#[cfg(any(test, feature = "testkit"))]
pub mod testkit;
pub mod watcher;
pub mod workqueue;

#[cfg(test)]
mod test_server;
