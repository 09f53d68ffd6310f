//! The embedded store: an in-memory MVCC index made durable by a write-ahead log with group
//! commit, periodic snapshots, crash recovery, online backup and offline restore.
//!
//! # Writes
//! A caller evaluates its write itself, under the commit lock: each writing transaction gets
//! the next revision, staged above the revision readers see, and its log record joins the
//! batch being gathered. The sync thread takes the whole batch when it is free, appends it to
//! the log and, with [`Durability::Fsync`], calls `fdatasync`: the writes that arrived during
//! one flush share the next (group commit). One caller of the durable batch then makes it
//! visible to readers and watchers and answers the others, while the sync thread flushes the
//! next batch. Batches become visible strictly in log order and only once durable (see the
//! `writer` module).
//!
//! A store without a data directory has nothing to persist and nothing to batch: each write is
//! published by its caller at once, with no other thread, so a test on tokio's paused clock
//! sees every write complete without real time passing.
//!
//! If appending or syncing fails, the batches not yet durable are rolled back, every caller
//! of them gets `Unavailable`, and the store refuses further writes (reads keep working): the
//! log's state after a failed `fdatasync` cannot be trusted, so the store never retries it.
//!
//! # Files
//! A data directory holds `wal-<first revision>.log` segments and `snap-<revision>.snap`
//! snapshots. On open, the newest valid snapshot is loaded and the log after it replayed; a torn
//! record at the end of the last segment (a write that was never acknowledged) is discarded,
//! while damage anywhere else stops the open with the file and offset. A snapshot is taken in
//! the background after [`Config::snapshot_records`] log records or
//! [`Config::snapshot_bytes`] log bytes, after which older segments and snapshots are deleted.
//! A snapshot (and an online backup) copies the state a chunk of keys at a time, so writers
//! are never held up for the whole copy; compaction of the index waits until it is done.
//!
//! # History
//! Every version since the compaction point is kept, in memory, for reads at past revisions and
//! watches from past revisions. [`Backend::compact`] discards history explicitly; beyond
//! [`Config::history_revisions`] revisions the store compacts by itself, which bounds memory
//! (a slow watcher is never buffered: it is a position in the shared history, cut off with
//! `Compacted` once compaction passes it).

mod mvcc;
mod snapshot;
mod wal;
mod watch;
mod writer;

/// Entry points for the fuzz targets in `crates/store/fuzz`; not part of the API.
#[doc(hidden)]
pub mod fuzzing {
    pub use super::wal::{decode_and_reencode, unplaced_checksum};
}

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use async_trait::async_trait;
use bytes::Bytes;
use parking_lot::{Mutex, RwLock};

use crate::backend::{Backend, Watch};
use crate::error::{Result, StoreError};
use crate::types::{
    CompareOp, CompareTarget, Event, EventKind, GetResponse, KeyValue, ListOptions, ListResponse,
    ReadAt, Revision, Txn, TxnOp, TxnOpResult, TxnResponse, WatchOptions,
};
use mvcc::{Index, Version};
use snapshot::{SnapshotData, SnapshotKey, SnapshotVersion};
use wal::{Record, Wal, WalConfig, WalOp};
use watch::{EventLog, LogEntry, Wakers, Watcher};
use writer::{Committer, Durable, Outcome, Write};

/// When a write counts as done.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Durability {
    /// Acknowledged once in memory (and, with a data directory, handed to the OS without
    /// `fdatasync`: it survives a crash of the process but not of the machine). For tests and
    /// simulations.
    None,
    /// Acknowledged once `fdatasync` has returned for the write's batch. Needs a data
    /// directory.
    #[default]
    Fsync,
}

/// Settings of an [`EmbeddedStore`].
#[derive(Clone, Debug)]
pub struct Config {
    /// Where the log and snapshots live; `None` keeps everything in memory.
    pub data_dir: Option<PathBuf>,
    /// When a write counts as done.
    pub durability: Durability,
    /// Revisions of history kept before the store compacts by itself (default 100,000). The
    /// Kubernetes API server also compacts explicitly, every five minutes by default.
    pub history_revisions: u64,
    /// Take a snapshot after this many log records (default 10,000) ...
    pub snapshot_records: u64,
    /// ... or after this many log bytes (default 64 MiB), but never before the log has grown
    /// by the size of the last snapshot: a large state is not rewritten for every few
    /// thousand small writes (the state is written at most twice per byte of log, and a
    /// restart replays at most about one snapshot's worth of log).
    pub snapshot_bytes: u64,
    /// Size of a log segment (default 64 MiB).
    pub segment_bytes: u64,
    /// Preallocate log segments (zero-filled, or reused once released after a snapshot), which
    /// makes `fdatasync` cheaper (default true).
    pub preallocate: bool,
    /// Largest accepted transaction, keys and values included (default 1.5 MiB, as etcd).
    pub max_txn_bytes: usize,
}

impl Config {
    /// Everything in memory: nothing survives the process (tests, simulations).
    pub fn in_memory() -> Self {
        Config {
            data_dir: None,
            durability: Durability::None,
            ..Config::durable("")
        }
    }

    /// Durable in `dir`: every acknowledged write is on disk.
    pub fn durable(dir: impl Into<PathBuf>) -> Self {
        Config {
            data_dir: Some(dir.into()),
            durability: Durability::Fsync,
            history_revisions: 100_000,
            snapshot_records: 10_000,
            snapshot_bytes: 64 << 20,
            segment_bytes: 64 << 20,
            preallocate: true,
            max_txn_bytes: 3 << 19,
        }
    }
}

/// State shared by readers, watchers and the writer.
pub(crate) struct Shared {
    pub(crate) state: RwLock<State>,
    pub(crate) wakers: Wakers,
    /// Snapshots being read in pieces: while any is, the index keeps every version it holds
    /// (compaction is logical only, see [`State::index_compacted`]).
    snapshot_readers: AtomicUsize,
    /// [`Config::history_revisions`].
    history_revisions: u64,
}

/// What readers see.
pub(crate) struct State {
    index: Index,
    pub(crate) log: EventLog,
    /// The newest acknowledged revision: what `ReadAt::Latest` reads.
    pub(crate) visible: Revision,
    /// Revisions up to here are compacted: reads and watches below are refused.
    pub(crate) compacted: Revision,
    /// Revisions up to here are gone from the index and the event log. Behind `compacted`
    /// while a snapshot is being read (which needs the versions it started with).
    index_compacted: Revision,
    /// Why the writer stopped accepting writes, if it did.
    failed: Option<String>,
    /// Set when the store is closed.
    pub(crate) closed: bool,
}

/// The embedded [`Backend`]. Cheap to share behind an `Arc`; dropping the last handle stops the
/// writer after it has finished the queued writes.
pub struct EmbeddedStore {
    shared: Arc<Shared>,
    writes: Writes,
    config: Config,
    /// The data directory's lock, released by [`EmbeddedStore::close`] once nothing writes.
    lock: Mutex<Option<snapshot::DirLock>>,
}

/// How writes are made durable and visible.
enum Writes {
    /// Gathered into batches that the sync thread appends to the log and syncs (group commit).
    Logged {
        durable: Arc<Durable>,
        thread: Mutex<Option<std::thread::JoinHandle<()>>>,
    },
    /// Published by the caller at once: a store with nothing to persist has nothing to batch,
    /// and every write completes before `txn` returns without another thread — so the whole
    /// store runs on the caller's runtime, and tests on paused (virtual) time stay
    /// deterministic.
    Inline(Box<Mutex<Committer>>),
}

impl std::fmt::Debug for EmbeddedStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let st = self.shared.state.read();
        f.debug_struct("EmbeddedStore")
            .field("data_dir", &self.config.data_dir)
            .field("revision", &st.visible)
            .field("compacted", &st.compacted)
            .finish_non_exhaustive()
    }
}

impl EmbeddedStore {
    /// Opens (or creates) a store: loads the newest snapshot, replays the log after it, and
    /// starts the sync thread (none without a data directory). Blocks while recovering.
    ///
    /// # Errors
    /// `Corrupt` when a snapshot or a log record (other than a torn last record) fails its
    /// checks; `Io` when the directory cannot be read, written or locked (another process has
    /// it open); `InvalidArgument` for `Durability::Fsync` without a data directory.
    pub fn open(config: Config) -> Result<Self> {
        if config.durability == Durability::Fsync && config.data_dir.is_none() {
            return Err(StoreError::InvalidArgument(
                "Durability::Fsync needs a data directory".into(),
            ));
        }
        let mut state = State {
            index: Index::default(),
            log: EventLog::default(),
            visible: 0,
            compacted: 0,
            index_compacted: 0,
            failed: None,
            closed: false,
        };
        let (lock, wal) = match &config.data_dir {
            Some(dir) => {
                std::fs::create_dir_all(dir).map_err(|e| StoreError::io("create", dir, e))?;
                let lock = snapshot::lock_dir(dir)?;
                let wal = recover(dir, &config, &mut state)?;
                (Some(lock), Some(wal))
            }
            None => (None, None),
        };
        let shared = Arc::new(Shared {
            state: RwLock::new(state),
            wakers: Wakers::default(),
            snapshot_readers: AtomicUsize::new(0),
            history_revisions: config.history_revisions,
        });
        let committer = Committer::new(Arc::clone(&shared));
        let writes = match wal {
            None => Writes::Inline(Box::new(Mutex::new(committer))),
            Some(wal) => {
                let (durable, thread) =
                    Durable::start(Arc::clone(&shared), wal, config.clone(), committer)?;
                Writes::Logged {
                    durable,
                    thread: Mutex::new(Some(thread)),
                }
            }
        };
        Ok(EmbeddedStore {
            shared,
            writes,
            config,
            lock: Mutex::new(lock),
        })
    }

    /// Writes a consistent snapshot of the current state (one revision, with its history) to
    /// `path` while the store keeps serving; returns its revision. [`restore`] turns it into a
    /// data directory.
    ///
    /// # Errors
    /// `Io` when the file cannot be written.
    pub fn backup(&self, path: &Path) -> Result<Revision> {
        let data = read_snapshot(&self.shared);
        snapshot::write_snapshot_file(path, &data)?;
        Ok(data.revision)
    }

    /// The store's settings.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Stops the store: writes already accepted complete, later ones fail with `Unavailable`,
    /// reads fail, and every watch ends with `Unavailable`. When it returns, nothing writes to
    /// the data directory any more and its lock is released, so the directory can be opened
    /// again even while handles to this store are still alive.
    pub fn close(&self) {
        self.shared.state.write().closed = true;
        self.shared.wakers.lock().wake_all();
        if let Writes::Logged { durable, thread } = &self.writes {
            durable.close();
            if let Some(handle) = thread.lock().take() {
                let _ = handle.join();
            }
            // Wake watchers again: the last batches may have been published meanwhile.
            self.shared.wakers.lock().wake_all();
        }
        self.lock.lock().take();
    }

    /// Evaluates a write and waits until it is durable and visible.
    async fn submit(&self, write: Write<'_>) -> Result<Outcome> {
        match &self.writes {
            Writes::Logged { durable, .. } => {
                let (outcome, done) = {
                    let mut committer = durable.committer.lock();
                    let outcome = committer.evaluate(write)?;
                    let done = committer.wait_for_batch();
                    durable.notify(&committer);
                    (outcome, done)
                };
                durable.wait(done).await?;
                Ok(outcome)
            }
            Writes::Inline(committer) => {
                let mut committer = committer.lock();
                let outcome = committer.evaluate(write)?;
                committer.publish_now();
                Ok(outcome)
            }
        }
    }
}

impl Drop for EmbeddedStore {
    fn drop(&mut self) {
        self.close();
    }
}

fn closed() -> StoreError {
    StoreError::Unavailable {
        reason: "the store was closed".into(),
        source: None,
    }
}

/// The revision a read at `at` is served at.
fn check_read(st: &State, at: ReadAt) -> Result<Revision> {
    if st.closed {
        return Err(closed());
    }
    match at {
        ReadAt::Latest => Ok(st.visible),
        ReadAt::Revision(r) if r <= 0 => Ok(st.visible),
        ReadAt::Revision(r) if r > st.visible => Err(StoreError::FutureRevision {
            requested: r,
            current: st.visible,
        }),
        ReadAt::Revision(r) if r < st.compacted => Err(StoreError::Compacted {
            requested: r,
            compacted_revision: st.compacted,
        }),
        ReadAt::Revision(r) => Ok(r),
    }
}

#[async_trait]
impl Backend for EmbeddedStore {
    async fn get(&self, key: &str, at: ReadAt) -> Result<GetResponse> {
        let st = self.shared.state.read();
        let revision = check_read(&st, at)?;
        Ok(GetResponse {
            kv: st.index.get(key, revision),
            revision,
        })
    }

    async fn list(&self, prefix: &str, options: ListOptions) -> Result<ListResponse> {
        let st = self.shared.state.read();
        let revision = check_read(&st, options.at)?;
        let range = st.index.range(
            prefix,
            options.start_after.as_deref(),
            revision,
            options.limit,
        );
        Ok(ListResponse {
            kvs: range.kvs,
            more: range.more,
            count: range.count,
            revision,
        })
    }

    async fn count(&self, prefix: &str) -> Result<(i64, Revision)> {
        let st = self.shared.state.read();
        let revision = check_read(&st, ReadAt::Latest)?;
        Ok((st.index.count(prefix, revision), revision))
    }

    async fn txn(&self, txn: Txn) -> Result<TxnResponse> {
        check_txn(&txn, self.config.max_txn_bytes)?;
        match self.submit(Write::Txn(&txn)).await? {
            Outcome::Txn(resp) => Ok(resp),
            Outcome::Compact => Err(StoreError::InvalidArgument("internal mix-up".into())),
        }
    }

    async fn watch(&self, prefix: &str, options: WatchOptions) -> Result<Watch> {
        let next = {
            let st = self.shared.state.read();
            if st.closed {
                return Err(closed());
            }
            let start = options.start_revision;
            if start <= 0 {
                st.visible + 1
            } else if start <= st.compacted {
                return Err(StoreError::Compacted {
                    requested: start,
                    compacted_revision: st.compacted,
                });
            } else if start > st.visible + 1 {
                return Err(StoreError::FutureRevision {
                    requested: start,
                    current: st.visible,
                });
            } else {
                start
            }
        };
        let (watcher, progress) = Watcher::new(
            Arc::clone(&self.shared),
            prefix,
            next,
            options.progress_interval,
        );
        Ok(Watch::new(Box::pin(watcher), Arc::new(progress)))
    }

    async fn compact(&self, revision: Revision) -> Result<()> {
        if revision <= 0 {
            return Err(StoreError::InvalidArgument(format!(
                "cannot compact at revision {revision}"
            )));
        }
        self.submit(Write::Compact(revision)).await.map(drop)
    }

    async fn revisions(&self) -> Result<(Revision, Revision)> {
        let st = self.shared.state.read();
        if st.closed {
            return Err(closed());
        }
        Ok((st.visible, st.compacted))
    }
}

impl EmbeddedStore {
    /// The current revision (the newest acknowledged write).
    pub fn revision(&self) -> Revision {
        self.shared.state.read().visible
    }
}

/// Rejects transactions the writer must never see.
fn check_txn(txn: &Txn, max_bytes: usize) -> Result<()> {
    let mut size = 0usize;
    for ops in [&txn.success, &txn.failure] {
        let mut written: Vec<&str> = Vec::new();
        for op in ops.iter() {
            let (key, len) = match op {
                TxnOp::Put { key, value, .. } => (key, key.len() + value.len()),
                TxnOp::Delete { key } => (key, key.len()),
                TxnOp::Get { key } => {
                    size += key.len();
                    if key.is_empty() {
                        return Err(StoreError::InvalidArgument("empty key".into()));
                    }
                    continue;
                }
            };
            if key.is_empty() {
                return Err(StoreError::InvalidArgument("empty key".into()));
            }
            if written.contains(&key.as_str()) {
                return Err(StoreError::InvalidArgument(format!(
                    "duplicate key {key:?} given in txn request"
                )));
            }
            written.push(key);
            size += len;
        }
    }
    for c in &txn.compares {
        size += c.key.len();
        if let CompareTarget::Value(v) = &c.target {
            size += v.len();
        }
    }
    if size > max_bytes {
        return Err(StoreError::TooLarge {
            size,
            limit: max_bytes,
        });
    }
    Ok(())
}

/// Loads the newest snapshot and replays the log after it into `state`.
fn recover(dir: &Path, config: &Config, state: &mut State) -> Result<Wal> {
    if let Some(path) = snapshot::latest_snapshot(dir)? {
        let data = snapshot::read_snapshot(&path)?;
        load_snapshot(state, data);
    }
    let wal_config = WalConfig {
        segment_bytes: config.segment_bytes,
        preallocate: config.preallocate,
    };
    let (wal, records) = Wal::open(dir, state.visible, wal_config)?;
    let mut replayed = Vec::new();
    for record in records {
        match record {
            Record::Txn { revision, ops } => {
                let events = apply_ops(&mut state.index, revision, &ops);
                state.visible = revision;
                replayed.push(LogEntry {
                    revision,
                    events: events.into(),
                });
            }
            Record::Compact { revision } => {
                if revision > state.compacted && revision <= state.visible {
                    state.index.compact(revision);
                    state.compacted = revision;
                    state.index_compacted = revision;
                }
            }
        }
    }
    // The watch history: revisions covered by the snapshot are rebuilt from the index (their
    // order within a transaction is by key), the replayed ones keep their order.
    let first_replayed = replayed.first().map_or(state.visible + 1, |e| e.revision);
    for entry in rebuild_log(&state.index, state.compacted, first_replayed - 1) {
        state.log.push(entry);
    }
    for entry in replayed {
        if entry.revision > state.compacted {
            state.log.push(entry);
        }
    }
    Ok(wal)
}

fn load_snapshot(state: &mut State, data: SnapshotData) {
    for SnapshotKey { key, versions } in data.keys {
        let versions = versions
            .into_iter()
            .map(|v| Version {
                mod_revision: v.mod_revision,
                create_revision: v.create_revision,
                version: v.version,
                lease: v.lease,
                value: v.value,
            })
            .collect();
        state.index.load_key(key, versions);
    }
    state.visible = data.revision;
    state.compacted = data.compacted;
    state.index_compacted = data.compacted;
}

/// The events of revisions `(compacted, through]` as the index's versions describe them.
fn rebuild_log(index: &Index, compacted: Revision, through: Revision) -> Vec<LogEntry> {
    let mut events: Vec<(Revision, Event)> = Vec::new();
    for (key, versions) in index.versions_through(through) {
        for (i, v) in versions.iter().enumerate() {
            if v.mod_revision <= compacted {
                continue;
            }
            let prev = i
                .checked_sub(1)
                .and_then(|p| versions.get(p))
                .and_then(|p| version_kv(key, p));
            let event = match version_kv(key, v) {
                Some(kv) => Event {
                    kind: EventKind::Put,
                    kv,
                    prev,
                },
                None => Event {
                    kind: EventKind::Delete,
                    kv: deletion_kv(key, v.mod_revision),
                    prev,
                },
            };
            events.push((v.mod_revision, event));
        }
    }
    events.sort_by(|a, b| a.0.cmp(&b.0).then_with(|| a.1.kv.key.cmp(&b.1.kv.key)));
    let mut out: Vec<LogEntry> = Vec::new();
    let mut current: Vec<Event> = Vec::new();
    let mut current_rev = 0;
    for (rev, event) in events {
        if rev != current_rev && !current.is_empty() {
            out.push(LogEntry {
                revision: current_rev,
                events: std::mem::take(&mut current).into(),
            });
        }
        current_rev = rev;
        current.push(event);
    }
    if !current.is_empty() {
        out.push(LogEntry {
            revision: current_rev,
            events: current.into(),
        });
    }
    out
}

fn version_kv(key: &Arc<str>, v: &Version) -> Option<KeyValue> {
    Some(KeyValue {
        key: Arc::clone(key),
        value: v.value.clone()?,
        create_revision: v.create_revision,
        mod_revision: v.mod_revision,
        version: v.version,
        lease: v.lease,
    })
}

fn deletion_kv(key: &Arc<str>, revision: Revision) -> KeyValue {
    KeyValue {
        key: Arc::clone(key),
        value: Bytes::new(),
        create_revision: 0,
        mod_revision: revision,
        version: 0,
        lease: 0,
    }
}

/// Applies logged operations at `revision` (replay), returning their events.
fn apply_ops(index: &mut Index, revision: Revision, ops: &[WalOp]) -> Vec<Event> {
    let mut events = Vec::with_capacity(ops.len());
    for op in ops {
        match op {
            WalOp::Put { key, value, lease } => {
                let key = index.intern(key).unwrap_or_else(|| Arc::clone(key));
                let (prev, kv) = index.put(&key, value.clone(), *lease, revision);
                events.push(Event {
                    kind: EventKind::Put,
                    kv,
                    prev,
                });
            }
            WalOp::Delete { key } => {
                if let Some(prev) = index.delete(key, revision) {
                    let key = Arc::clone(&prev.key);
                    events.push(Event {
                        kind: EventKind::Delete,
                        kv: deletion_kv(&key, revision),
                        prev: Some(prev),
                    });
                }
            }
        }
    }
    events
}

/// How many keys a snapshot copies per turn of the state lock.
const SNAPSHOT_CHUNK_KEYS: usize = 1024;

/// The whole state at the visible revision, history included, copied a chunk of keys at a
/// time so that writers are never held up for long. Versions at or below the snapshot's
/// revision never change, and the index keeps every one of them while the copy runs
/// (compaction is deferred), so the pieces make one consistent state.
fn read_snapshot(shared: &Shared) -> SnapshotData {
    struct Reading<'s>(&'s AtomicUsize);
    impl Drop for Reading<'_> {
        fn drop(&mut self) {
            self.0.fetch_sub(1, Ordering::AcqRel);
        }
    }
    let (revision, compacted, _reading) = {
        let st = shared.state.read();
        // Registered under the lock: the writer compacts the index only under the write lock,
        // after checking for readers.
        shared.snapshot_readers.fetch_add(1, Ordering::AcqRel);
        (st.visible, st.compacted, Reading(&shared.snapshot_readers))
    };
    let mut keys = Vec::new();
    let mut chunk = Vec::with_capacity(SNAPSHOT_CHUNK_KEYS);
    let mut after: Option<Arc<str>> = None;
    loop {
        let last = shared.state.read().index.versions_chunk(
            after.as_deref(),
            compacted,
            revision,
            SNAPSHOT_CHUNK_KEYS,
            &mut chunk,
        );
        keys.extend(chunk.drain(..).map(|(key, versions)| {
            SnapshotKey {
                key,
                versions: versions
                    .into_iter()
                    .map(|v| SnapshotVersion {
                        create_revision: v.create_revision,
                        mod_revision: v.mod_revision,
                        version: v.version,
                        lease: v.lease,
                        value: v.value,
                    })
                    .collect(),
            }
        }));
        match last {
            Some(last) => after = Some(last),
            None => break,
        }
    }
    SnapshotData {
        revision,
        compacted,
        keys,
    }
}

/// Makes the index and the event log forget what the compaction point allows, unless a
/// snapshot is being read. Only keys written since the last compaction are visited.
fn compact_index(st: &mut State, shared_readers: &AtomicUsize) {
    if st.index_compacted >= st.compacted || shared_readers.load(Ordering::Acquire) > 0 {
        return;
    }
    let to = st.compacted;
    let State { index, log, .. } = st;
    index.compact_keys(to, log.keys_through(to));
    log.trim_through(to);
    st.index_compacted = to;
}

/// How a background snapshot ended: its revision, file size and compaction point, or why it
/// failed.
type SnapshotOutcome = Result<(Revision, u64, Revision)>;

/// Evaluates a transaction against the index's newest state (staged writes of the batch
/// included) and applies its writes at `head + 1`. Returns the response, the operations to log
/// (empty when nothing was written) and the events.
fn execute(index: &mut Index, txn: &Txn, head: Revision) -> (TxnResponse, Vec<WalOp>, Vec<Event>) {
    let succeeded = txn.compares.iter().all(|c| {
        let current = index.latest(&c.key);
        compare(current.as_ref(), &c.target, c.op)
    });
    let ops = if succeeded {
        &txn.success
    } else {
        &txn.failure
    };
    let revision = head + 1;
    let mut results = Vec::with_capacity(ops.len());
    let mut logged = Vec::new();
    let mut events = Vec::new();
    for op in ops {
        match op {
            TxnOp::Get { key } => results.push(TxnOpResult::Get(index.latest(key))),
            TxnOp::Put { key, value, lease } => {
                let key = index.intern(key).unwrap_or_else(|| Arc::from(key.as_str()));
                let (prev, kv) = index.put(&key, value.clone(), *lease, revision);
                logged.push(WalOp::Put {
                    key,
                    value: value.clone(),
                    lease: *lease,
                });
                events.push(Event {
                    kind: EventKind::Put,
                    kv,
                    prev: prev.clone(),
                });
                results.push(TxnOpResult::Put { prev });
            }
            TxnOp::Delete { key } => {
                let prev = index.delete(key, revision);
                if let Some(prev) = &prev {
                    let key = Arc::clone(&prev.key);
                    logged.push(WalOp::Delete {
                        key: Arc::clone(&key),
                    });
                    events.push(Event {
                        kind: EventKind::Delete,
                        kv: deletion_kv(&key, revision),
                        prev: Some(prev.clone()),
                    });
                }
                results.push(TxnOpResult::Delete { prev });
            }
        }
    }
    let revision = if logged.is_empty() { head } else { revision };
    (
        TxnResponse {
            succeeded,
            revision,
            results,
        },
        logged,
        events,
    )
}

fn compare(current: Option<&KeyValue>, target: &CompareTarget, op: CompareOp) -> bool {
    use std::cmp::Ordering as O;
    let ord = match target {
        CompareTarget::ModRevision(r) => current.map_or(0, |kv| kv.mod_revision).cmp(r),
        CompareTarget::CreateRevision(r) => current.map_or(0, |kv| kv.create_revision).cmp(r),
        CompareTarget::Version(v) => current.map_or(0, |kv| kv.version).cmp(v),
        CompareTarget::Value(v) => match current {
            Some(kv) => kv.value.as_ref().cmp(v.as_ref()),
            None => return false,
        },
    };
    match op {
        CompareOp::Equal => ord == O::Equal,
        CompareOp::NotEqual => ord != O::Equal,
        CompareOp::Greater => ord == O::Greater,
        CompareOp::Less => ord == O::Less,
    }
}

/// Restores a backup (from [`EmbeddedStore::backup`]) into `data_dir`, which must be empty or
/// absent. Opening a store on `data_dir` then yields the backup's contents and revision.
///
/// # Errors
/// `InvalidArgument` when `data_dir` is not empty; `Corrupt` when the backup fails its checks;
/// `Io`.
pub fn restore(backup: &Path, data_dir: &Path) -> Result<Revision> {
    if data_dir.exists() {
        let mut entries =
            std::fs::read_dir(data_dir).map_err(|e| StoreError::io("read", data_dir, e))?;
        if entries.next().is_some() {
            return Err(StoreError::InvalidArgument(format!(
                "restore needs an empty data directory; {} is not empty",
                data_dir.display()
            )));
        }
    }
    let data = snapshot::read_snapshot(backup)?;
    std::fs::create_dir_all(data_dir).map_err(|e| StoreError::io("create", data_dir, e))?;
    snapshot::write_snapshot(data_dir, &data)?;
    Ok(data.revision)
}

/// Reads a backup's revision and key count without opening a store.
///
/// # Errors
/// `Corrupt` when the file fails its checks; `Io`.
pub fn inspect_backup(backup: &Path) -> Result<(Revision, usize)> {
    let data = snapshot::read_snapshot(backup)?;
    let live = data
        .keys
        .iter()
        .filter(|k| k.versions.last().is_some_and(|v| v.value.is_some()))
        .count();
    Ok((data.revision, live))
}
