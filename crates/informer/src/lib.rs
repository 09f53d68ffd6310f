//! Watch machinery and a controller runtime for Kubernetes APIs: watchers that list and then
//! watch with upstream's recovery, reflectors into indexed caches shared by every controller of
//! a process, rate-limited work queues, the controller builder, leader election, event
//! recording and finalizer helpers, metrics, and a test kit that runs controllers against a
//! real in-process API server.

pub mod events;
pub mod finalizer;
pub mod informer;
pub mod leader;
pub mod store;
#[cfg(any(test, feature = "testkit"))]
pub mod testkit;
pub mod watcher;

#[cfg(test)]
mod test_server;
