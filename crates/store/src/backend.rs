//! The `Backend` trait every store implements, the helpers built on it, and the `Watch` stream.

use std::fmt;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use async_trait::async_trait;
use bytes::Bytes;
use futures::Stream;

use crate::error::{Result, StoreError};
use crate::types::{
    Compare, GetResponse, KeyValue, ListOptions, ListResponse, ReadAt, Revision, Txn, TxnOp,
    TxnOpResult, TxnResponse, WatchOptions, WatchResponse,
};

/// A versioned key-value store with etcd v3's semantics: one global revision bumped per write,
/// per-key create/mod revisions and versions, guarded writes, reads at past revisions, watches
/// from a revision, and compaction.
///
/// Keys are strings; values are bytes. The conformance suite (`tests/conformance/mod.rs`) pins
/// the contract and runs against every implementation.
#[async_trait]
pub trait Backend: Send + Sync + 'static {
    /// Reads one key.
    ///
    /// # Errors
    /// `Compacted` or `FutureRevision` for a revision outside the history; `Unavailable`.
    async fn get(&self, key: &str, at: ReadAt) -> Result<GetResponse>;

    /// Reads the keys under `prefix` in key order, one page at a time.
    ///
    /// # Errors
    /// As [`Backend::get`].
    async fn list(&self, prefix: &str, options: ListOptions) -> Result<ListResponse>;

    /// Counts the keys under `prefix` at the latest revision; returns `(count, revision)`.
    ///
    /// # Errors
    /// `Unavailable`.
    async fn count(&self, prefix: &str) -> Result<(i64, Revision)>;

    /// Runs a transaction atomically.
    ///
    /// # Errors
    /// `InvalidArgument` (a key written twice), `TooLarge`, `Unavailable`. A failed compare is
    /// not an error: the response says `succeeded: false`.
    async fn txn(&self, txn: Txn) -> Result<TxnResponse>;

    /// Watches the keys under `prefix`.
    ///
    /// # Errors
    /// `Compacted` when `start_revision` is at or below the compaction point, `FutureRevision`
    /// when it is beyond the next revision, `Unavailable`.
    async fn watch(&self, prefix: &str, options: WatchOptions) -> Result<Watch>;

    /// Discards history before `revision`: afterwards reads below `revision` and watches
    /// starting at or below it fail with `Compacted` (a read at `revision` itself still works,
    /// as in etcd).
    ///
    /// # Errors
    /// `Compacted` when already compacted at or past `revision`, `FutureRevision` beyond the
    /// current revision, `Unavailable`.
    async fn compact(&self, revision: Revision) -> Result<()>;

    /// The current revision and the compaction point: `(current, compacted)`.
    ///
    /// # Errors
    /// `Unavailable`.
    async fn revisions(&self) -> Result<(Revision, Revision)>;
}

/// The common writes, built on [`Backend::txn`] as the Kubernetes API server uses them.
#[async_trait]
pub trait BackendExt: Backend {
    /// Creates `key`; returns the new revision.
    ///
    /// # Errors
    /// `AlreadyExists` with the current value when the key exists.
    async fn create(&self, key: &str, value: Bytes) -> Result<Revision> {
        let resp = self.txn(guarded_put(key, value, 0)).await?;
        if resp.succeeded {
            return Ok(resp.revision);
        }
        match resp.results.into_iter().next() {
            Some(TxnOpResult::Get(Some(current))) => Err(StoreError::AlreadyExists {
                key: key.to_owned(),
                current: Box::new(current),
            }),
            other => Err(unexpected(key, other)),
        }
    }

    /// Replaces `key` if its `mod_revision` is still `expected`; returns the new revision.
    ///
    /// # Errors
    /// `Conflict` with the current value (or none) when the key changed or is gone.
    async fn update(&self, key: &str, value: Bytes, expected: Revision) -> Result<Revision> {
        if expected <= 0 {
            return Err(StoreError::InvalidArgument(format!(
                "update of {key:?} needs the expected mod revision of an existing key"
            )));
        }
        let resp = self.txn(guarded_put(key, value, expected)).await?;
        if resp.succeeded {
            return Ok(resp.revision);
        }
        match resp.results.into_iter().next() {
            Some(TxnOpResult::Get(current)) => Err(StoreError::Conflict {
                key: key.to_owned(),
                expected,
                current: current.map(Box::new),
            }),
            other => Err(unexpected(key, other)),
        }
    }

    /// Writes `key` unconditionally; returns the new revision.
    ///
    /// # Errors
    /// `TooLarge`, `Unavailable`.
    async fn put(&self, key: &str, value: Bytes) -> Result<Revision> {
        let txn = Txn {
            success: vec![TxnOp::Put {
                key: key.to_owned(),
                value,
                lease: 0,
            }],
            ..Txn::default()
        };
        Ok(self.txn(txn).await?.revision)
    }

    /// Deletes `key`, if its `mod_revision` is still `expected` when given; returns the
    /// deleted state and the deletion's revision.
    ///
    /// # Errors
    /// `NotFound` when the key does not exist; `Conflict` when the guard fails.
    async fn delete(&self, key: &str, expected: Option<Revision>) -> Result<(KeyValue, Revision)> {
        let compares = match expected {
            Some(rev) => vec![Compare::mod_revision(key, rev)],
            None => Vec::new(),
        };
        let txn = Txn {
            compares,
            success: vec![TxnOp::Delete {
                key: key.to_owned(),
            }],
            failure: vec![TxnOp::Get {
                key: key.to_owned(),
            }],
        };
        let resp = self.txn(txn).await?;
        match (resp.succeeded, resp.results.into_iter().next()) {
            (true, Some(TxnOpResult::Delete { prev: Some(prev) })) => Ok((prev, resp.revision)),
            (true, Some(TxnOpResult::Delete { prev: None })) => Err(StoreError::NotFound {
                key: key.to_owned(),
            }),
            (false, Some(TxnOpResult::Get(None))) => Err(StoreError::NotFound {
                key: key.to_owned(),
            }),
            (false, Some(TxnOpResult::Get(current))) => Err(StoreError::Conflict {
                key: key.to_owned(),
                expected: expected.unwrap_or_default(),
                current: current.map(Box::new),
            }),
            (_, other) => Err(unexpected(key, other)),
        }
    }
}

impl<B: Backend + ?Sized> BackendExt for B {}

fn guarded_put(key: &str, value: Bytes, expected: Revision) -> Txn {
    Txn {
        compares: vec![Compare::mod_revision(key, expected)],
        success: vec![TxnOp::Put {
            key: key.to_owned(),
            value,
            lease: 0,
        }],
        failure: vec![TxnOp::Get {
            key: key.to_owned(),
        }],
    }
}

fn unexpected(key: &str, result: Option<TxnOpResult>) -> StoreError {
    StoreError::Unavailable {
        reason: format!("backend answered a guarded write of {key:?} with {result:?}"),
        source: None,
    }
}

#[async_trait]
impl<B: Backend + ?Sized> Backend for Arc<B> {
    async fn get(&self, key: &str, at: ReadAt) -> Result<GetResponse> {
        (**self).get(key, at).await
    }
    async fn list(&self, prefix: &str, options: ListOptions) -> Result<ListResponse> {
        (**self).list(prefix, options).await
    }
    async fn count(&self, prefix: &str) -> Result<(i64, Revision)> {
        (**self).count(prefix).await
    }
    async fn txn(&self, txn: Txn) -> Result<TxnResponse> {
        (**self).txn(txn).await
    }
    async fn watch(&self, prefix: &str, options: WatchOptions) -> Result<Watch> {
        (**self).watch(prefix, options).await
    }
    async fn compact(&self, revision: Revision) -> Result<()> {
        (**self).compact(revision).await
    }
    async fn revisions(&self) -> Result<(Revision, Revision)> {
        (**self).revisions().await
    }
}

/// How a backend's watch asks for a progress notification.
pub trait ProgressRequester: Send + Sync {
    /// Asks for a [`WatchResponse::Progress`] once every event up to the current revision has
    /// been delivered.
    fn request_progress(&self);
}

/// A watch: a stream of [`WatchResponse`]s, in revision order, without gaps or duplicates.
///
/// The stream ends with an error (`Compacted` when the watcher fell behind the retained
/// history and must relist; `Unavailable` when the backend went away) or when dropped.
pub struct Watch {
    stream: Pin<Box<dyn Stream<Item = Result<WatchResponse>> + Send>>,
    progress: Arc<dyn ProgressRequester>,
}

impl Watch {
    /// A watch from a backend's stream and progress requester.
    pub fn new(
        stream: Pin<Box<dyn Stream<Item = Result<WatchResponse>> + Send>>,
        progress: Arc<dyn ProgressRequester>,
    ) -> Self {
        Watch { stream, progress }
    }

    /// Asks for a progress notification: once every event up to the current revision has
    /// been delivered, the stream yields [`WatchResponse::Progress`] with that revision.
    pub fn request_progress(&self) {
        self.progress.request_progress();
    }
}

impl Stream for Watch {
    type Item = Result<WatchResponse>;
    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.stream.as_mut().poll_next(cx)
    }
}

impl fmt::Debug for Watch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Watch").finish_non_exhaustive()
    }
}
