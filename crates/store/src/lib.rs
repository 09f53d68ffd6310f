//! An etcd-semantics versioned key-value store with watch — the state store of a Kubernetes
//! control plane.
//!
//! The model is etcd v3's (see [`Backend`]): one global revision bumped once per write
//! transaction; per key a `create_revision`, `mod_revision` and `version`; creates and updates
//! guarded by the expected `mod_revision`; reads at past revisions; watches of a prefix from a
//! revision, with the previous value of every changed key and progress notifications; and
//! compaction, below which history is gone.
//!
//! Two implementations share that contract and one conformance suite:
//! - [`embedded::EmbeddedStore`] (the default): an in-memory MVCC index with a checksummed,
//!   segmented write-ahead log, group commit (one `fdatasync` per batch of writers), snapshots,
//!   crash recovery, online backup and offline restore.
//! - `etcd::EtcdStore` (cargo feature `etcd`): a real etcd cluster, for control planes that
//!   outgrow one machine.
//!
//! ```
//! use bytes::Bytes;
//! use futures::StreamExt;
//! use kubernaut_store::embedded::{Config, EmbeddedStore};
//! use kubernaut_store::{Backend, BackendExt, ReadAt, WatchOptions, WatchResponse};
//!
//! # #[tokio::main(flavor = "current_thread")] async fn main() -> kubernaut_store::Result<()> {
//! let store = EmbeddedStore::open(Config::in_memory())?;
//! let mut watch = store.watch("/registry/pods/", WatchOptions::default()).await?;
//! let rev = store.create("/registry/pods/default/web", Bytes::from_static(b"{}")).await?;
//! store.update("/registry/pods/default/web", Bytes::from_static(b"{\"x\":1}"), rev).await?;
//! let Some(Ok(WatchResponse::Events(events))) = watch.next().await else { panic!() };
//! assert_eq!(events[0].kv.mod_revision, rev);
//! let got = store.get("/registry/pods/default/web", ReadAt::Revision(rev)).await?;
//! assert_eq!(got.kv.unwrap().value, Bytes::from_static(b"{}"));
//! # Ok(()) }
//! ```

mod backend;
pub mod embedded;
mod error;
#[cfg(feature = "etcd")]
pub mod etcd;
mod types;

pub use backend::{Backend, BackendExt, ProgressRequester, Watch};
pub use error::{Result, StoreError};
pub use types::{
    Compare, CompareOp, CompareTarget, Event, EventKind, GetResponse, KeyValue, ListOptions,
    ListResponse, ReadAt, Revision, Txn, TxnOp, TxnOpResult, TxnResponse, WatchOptions,
    WatchResponse,
};
