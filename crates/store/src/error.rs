//! `StoreError`: every way a store operation can fail.

use std::path::PathBuf;

use crate::types::{KeyValue, Revision};

/// Why a store operation failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A create found the key already there.
    #[error("key {key:?} already exists")]
    AlreadyExists {
        /// The key.
        key: String,
        /// Its current state.
        current: Box<KeyValue>,
    },
    /// A guarded write found the key in another state than expected.
    #[error("key {key:?} has been modified: expected mod revision {expected}, found {}", found_revision(.current))]
    Conflict {
        /// The key.
        key: String,
        /// The `mod_revision` the caller expected (0: absent).
        expected: Revision,
        /// The key's current state (`None`: absent).
        current: Option<Box<KeyValue>>,
    },
    /// A delete or update of a key that does not exist.
    #[error("key {key:?} not found")]
    NotFound {
        /// The key.
        key: String,
    },
    /// The requested revision is older than the compaction point: relist.
    #[error(
        "required revision {requested} has been compacted (compaction point {compacted_revision})"
    )]
    Compacted {
        /// The revision that was asked for.
        requested: Revision,
        /// The store's compaction point: reads below it and watches from it or below fail.
        compacted_revision: Revision,
    },
    /// The requested revision is newer than the store's.
    #[error("required revision {requested} is a future revision (current is {current})")]
    FutureRevision {
        /// The revision that was asked for.
        requested: Revision,
        /// The store's current revision.
        current: Revision,
    },
    /// A request the store refuses as malformed (a key written twice in one transaction, an
    /// empty key, a compaction backwards).
    #[error("invalid request: {0}")]
    InvalidArgument(String),
    /// A value or transaction larger than the store accepts.
    #[error("request of {size} bytes is larger than the limit of {limit} bytes")]
    TooLarge {
        /// Its size.
        size: usize,
        /// The limit.
        limit: usize,
    },
    /// The backend cannot serve requests (closed, failed to persist, unreachable).
    #[error("store unavailable: {reason}")]
    Unavailable {
        /// What happened.
        reason: String,
        /// The underlying cause.
        #[source]
        source: Option<Box<dyn std::error::Error + Send + Sync>>,
    },
    /// Stored data failed its integrity checks.
    #[error("corrupt data in {}: offset {offset}: {reason}", file.display())]
    Corrupt {
        /// The file.
        file: PathBuf,
        /// Byte offset of the bad record.
        offset: u64,
        /// What is wrong.
        reason: String,
    },
    /// An I/O operation on the store's files failed.
    #[error("{op} {}: {source}", path.display())]
    Io {
        /// What was being done (`open`, `write`, `fdatasync`, ...).
        op: &'static str,
        /// The file or directory.
        path: PathBuf,
        /// The error.
        #[source]
        source: std::io::Error,
    },
}

fn found_revision(current: &Option<Box<KeyValue>>) -> String {
    match current {
        Some(kv) => kv.mod_revision.to_string(),
        None => "no key".to_owned(),
    }
}

impl StoreError {
    /// A store that cannot serve requests, with the cause.
    pub fn unavailable(
        reason: impl Into<String>,
        source: impl Into<Box<dyn std::error::Error + Send + Sync>>,
    ) -> Self {
        StoreError::Unavailable {
            reason: reason.into(),
            source: Some(source.into()),
        }
    }

    /// An I/O error on `path` while doing `op`.
    pub fn io(op: &'static str, path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        StoreError::Io {
            op,
            path: path.into(),
            source,
        }
    }
}

/// `Result` with [`StoreError`].
pub type Result<T, E = StoreError> = std::result::Result<T, E>;
