//! Watch machinery and a controller runtime for Kubernetes APIs: watchers that list and then
//! watch with upstream's recovery, reflectors into indexed caches shared by every controller of
//! a process, rate-limited work queues, the controller builder, leader election, event
//! recording and finalizer helpers, metrics, and a test kit that runs controllers against a
//! real in-process API server.

pub mod workqueue;
