//! The data model: revisions, key-values with their MVCC bookkeeping, reads, transactions and
//! watch events — etcd v3's model, which the Kubernetes API server is written against.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;

/// A store revision: one global counter, bumped once per write transaction. Revision 0 means
/// "nothing written yet"; the first write is revision 1.
pub type Revision = i64;

/// A key with its value and MVCC bookkeeping.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyValue {
    /// The key.
    pub key: Arc<str>,
    /// The value (empty in the `kv` of a delete event).
    pub value: Bytes,
    /// Revision of the write that last created the key (a key deleted and created again gets a
    /// new one); 0 in the `kv` of a delete event.
    pub create_revision: Revision,
    /// Revision of the write that last modified (or, in a delete event, deleted) the key.
    pub mod_revision: Revision,
    /// Writes to the key since it was created: 1 after creation; 0 in a delete event.
    pub version: i64,
    /// Lease attached to the key; 0 for none.
    pub lease: i64,
}

/// Which revision a read sees.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ReadAt {
    /// The latest revision: every acknowledged write is visible.
    #[default]
    Latest,
    /// The state as of this revision (not compacted, not in the future).
    Revision(Revision),
}

/// The answer to a single-key read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GetResponse {
    /// The key, if it existed at that revision.
    pub kv: Option<KeyValue>,
    /// The revision the read was served at.
    pub revision: Revision,
}

/// Options of a range read over a prefix.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ListOptions {
    /// Which revision to read. Pages of one listing must all use the revision the first page
    /// returned, so that the listing is one consistent snapshot.
    pub at: ReadAt,
    /// At most this many keys; `None` for all.
    pub limit: Option<usize>,
    /// Continue after this key (exclusive): the last key of the previous page.
    pub start_after: Option<String>,
}

/// A page of a range read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ListResponse {
    /// The keys, in ascending key order.
    pub kvs: Vec<KeyValue>,
    /// Whether keys after the last one returned remain.
    pub more: bool,
    /// How many keys match from the start of this page to the end of the prefix (as etcd
    /// counts them), at the read revision.
    pub count: i64,
    /// The revision the read was served at.
    pub revision: Revision,
}

/// What a [`Compare`] checks.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CompareTarget {
    /// The key's `mod_revision` (0 when absent).
    ModRevision(Revision),
    /// The key's `create_revision` (0 when absent).
    CreateRevision(Revision),
    /// The key's `version` (0 when absent).
    Version(i64),
    /// The key's value (an absent key never matches).
    Value(Bytes),
}

/// How a [`Compare`] compares the key's current value with the target.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CompareOp {
    /// Equal.
    Equal,
    /// Not equal.
    NotEqual,
    /// The current value is greater than the target.
    Greater,
    /// The current value is less than the target.
    Less,
}

/// One condition of a [`Txn`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Compare {
    /// The key.
    pub key: String,
    /// What to compare.
    pub target: CompareTarget,
    /// How.
    pub op: CompareOp,
}

impl Compare {
    /// `mod_revision(key) == revision`; with 0, "the key does not exist".
    pub fn mod_revision(key: impl Into<String>, revision: Revision) -> Self {
        Compare {
            key: key.into(),
            target: CompareTarget::ModRevision(revision),
            op: CompareOp::Equal,
        }
    }
}

/// One operation of a [`Txn`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TxnOp {
    /// Write `value` under `key`.
    Put {
        /// The key.
        key: String,
        /// The value.
        value: Bytes,
        /// The lease to attach; 0 for none.
        lease: i64,
    },
    /// Delete `key` (nothing happens when it does not exist).
    Delete {
        /// The key.
        key: String,
    },
    /// Read `key` at the transaction's revision.
    Get {
        /// The key.
        key: String,
    },
}

/// An atomic transaction: if every compare holds, run `success`, else `failure`. All writes of a
/// transaction share one revision; a key may be written at most once per transaction.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Txn {
    /// Conditions, all of which must hold.
    pub compares: Vec<Compare>,
    /// Operations run when every compare holds.
    pub success: Vec<TxnOp>,
    /// Operations run otherwise.
    pub failure: Vec<TxnOp>,
}

/// The result of one [`TxnOp`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TxnOpResult {
    /// A put, with the key's previous state.
    Put {
        /// The key before the put, if it existed.
        prev: Option<KeyValue>,
    },
    /// A delete, with the key's previous state (`None`: there was nothing to delete).
    Delete {
        /// The key before the delete, if it existed.
        prev: Option<KeyValue>,
    },
    /// A read.
    Get(Option<KeyValue>),
}

/// The answer to a [`Txn`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TxnResponse {
    /// Whether the compares held (and `success` ran).
    pub succeeded: bool,
    /// The store revision after the transaction: the new revision if it wrote anything.
    pub revision: Revision,
    /// One result per operation run, in order.
    pub results: Vec<TxnOpResult>,
}

/// What happened to a key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EventKind {
    /// Created or modified (`kv.version == 1` means created).
    Put,
    /// Deleted.
    Delete,
}

/// One change seen by a watch.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Event {
    /// Put or delete.
    pub kind: EventKind,
    /// The key after the change (for a delete: key and `mod_revision` of the deletion only).
    pub kv: KeyValue,
    /// The key before the change, if it existed.
    pub prev: Option<KeyValue>,
}

/// One message of a watch stream.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum WatchResponse {
    /// Events in revision order. A revision's events are never split across messages.
    Events(Vec<Event>),
    /// Every event up to this revision has been delivered.
    Progress(Revision),
}

/// Options of a watch.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct WatchOptions {
    /// First revision to deliver (inclusive). 0 starts after the current revision. At or below
    /// the compaction point fails with `Compacted`; more than one past the current revision
    /// fails with `FutureRevision`.
    pub start_revision: Revision,
    /// Also send a progress notification whenever this much time passes.
    pub progress_interval: Option<Duration>,
}
