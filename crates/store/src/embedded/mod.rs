//! The embedded store: an in-memory MVCC index made durable by a write-ahead log with group
//! commit, periodic snapshots, crash recovery, online backup and offline restore.
//!
//! # Writes
//! One writer thread owns the log. Callers queue transactions; the writer takes every queued
//! transaction at once (a batch), evaluates them in order against the index — each writing
//! transaction gets the next revision, staged above the revision readers see — and appends
//! their records to the log. With [`Durability::Fsync`] a second thread then calls
//! `fdatasync` once for every batch appended meanwhile, and only then makes those batches
//! visible to readers and watchers and answers their callers: a write is acknowledged only
//! once durable, concurrent writers share one `fdatasync` (group commit), and the flush of one
//! batch overlaps the evaluation of the next; a third thread wakes the callers, so the sync
//! thread is free for the next sync as soon as a batch is visible. When writers are few (the
//! last batch had fewer than four requests) and nothing else is waiting, the writer syncs
//! itself rather than wake the other thread.
//!
//! A store without a data directory has nothing to persist and nothing to batch: it evaluates
//! each write in the caller, under a lock, with no writer thread, so a test on tokio's paused
//! clock sees every write complete without real time passing.
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

/// Entry points for the fuzz targets in `crates/store/fuzz`; not part of the API.
#[doc(hidden)]
pub mod fuzzing {
    pub use super::wal::decode_and_reencode;
}

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use async_trait::async_trait;
use bytes::Bytes;
use parking_lot::{Mutex, RwLock};
use tokio::sync::{mpsc, oneshot};

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
    /// Preallocate (zero-fill) log segments, which makes `fdatasync` cheaper (default true).
    pub preallocate: bool,
    /// Largest accepted transaction, keys and values included (default 1.5 MiB, as etcd).
    pub max_txn_bytes: usize,
    /// Most transactions in one group commit (default 1,024).
    pub max_batch: usize,
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
            max_batch: 1024,
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
    /// Batches handed to the sync thread and not yet published.
    syncing: AtomicUsize,
    /// Requests in the last synced batch: whether writers are few (see [`Writer::run`]).
    last_sync_requests: AtomicUsize,
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

enum Request {
    Txn(Txn, oneshot::Sender<Result<TxnResponse>>),
    Compact(Revision, oneshot::Sender<Result<()>>),
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

/// How writes reach the writer.
enum Writes {
    /// Through a queue to the writer thread, which batches them (group commit).
    Thread {
        requests: mpsc::Sender<Request>,
        writer: Mutex<Option<std::thread::JoinHandle<()>>>,
    },
    /// In the caller, under a lock: a store with nothing to persist has nothing to batch, and
    /// every write completes before `txn` returns without another thread — so the whole store
    /// runs on the caller's runtime, and tests on paused (virtual) time stay deterministic.
    Inline(Box<Mutex<Writer>>),
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
    /// starts the writer thread. Blocks while recovering.
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
            syncing: AtomicUsize::new(0),
            last_sync_requests: AtomicUsize::new(0),
        });
        let writer = Writer::new(Arc::clone(&shared), wal, config.clone());
        let writes = if config.data_dir.is_none() {
            Writes::Inline(Box::new(Mutex::new(writer)))
        } else {
            let (tx, rx) = mpsc::channel(config.max_batch.max(1) * 4);
            let handle = std::thread::Builder::new()
                .name("kubernaut-store-writer".into())
                .spawn(move || writer.run(rx))
                .map_err(|e| StoreError::unavailable("cannot start the writer thread", e))?;
            Writes::Thread {
                requests: tx,
                writer: Mutex::new(Some(handle)),
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

    /// Stops the store: the batch being written completes, queued writes fail with
    /// `Unavailable`, reads fail, and every watch ends with `Unavailable`. When it returns,
    /// nothing writes to the data directory any more and its lock is released, so the
    /// directory can be opened again even while handles to this store are still alive.
    pub fn close(&self) {
        self.shared.state.write().closed = true;
        self.shared.wakers.lock().wake_all();
        if let Writes::Thread { requests, writer } = &self.writes
            && let Some(handle) = writer.lock().take()
        {
            // The writer ends when every sender is gone; ours stays, so tell it directly.
            let _ = requests.try_send(Request::Compact(-1, oneshot::channel().0));
            let _ = handle.join();
        }
        self.lock.lock().take();
    }

    async fn submit<T>(
        &self,
        make: impl FnOnce(oneshot::Sender<Result<T>>) -> Request,
    ) -> Result<T> {
        let (tx, rx) = oneshot::channel();
        match &self.writes {
            Writes::Thread { requests, .. } => {
                requests.send(make(tx)).await.map_err(|_| closed())?;
            }
            Writes::Inline(writer) => {
                if self.shared.state.read().closed {
                    return Err(closed());
                }
                let mut writer = writer.lock();
                let mut batch = vec![make(tx)];
                if let Some(job) = writer.commit(&mut batch) {
                    publish(&self.shared, vec![job]);
                }
            }
        }
        rx.await.map_err(|_| closed())?
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
        self.submit(|reply| Request::Txn(txn, reply)).await
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
        self.submit(|reply| Request::Compact(revision, reply)).await
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

/// The writer thread's state.
struct Writer {
    shared: Arc<Shared>,
    wal: Option<Wal>,
    config: Config,
    records_since_snapshot: u64,
    bytes_since_snapshot: u64,
    /// A snapshot being written in the background, and the revision it covers once done.
    snapshot_done: Arc<Mutex<Option<SnapshotOutcome>>>,
    /// Size of the last snapshot written: the log must grow by as much before the next.
    last_snapshot_bytes: u64,
    /// The last revision evaluated (it may not be durable and visible yet).
    staged_head: Revision,
    /// The last compaction point accepted (it may not be published yet).
    staged_compacted: Revision,
    snapshot_running: Arc<AtomicBool>,
    /// The background snapshot thread, joined before the writer exits.
    snapshot_thread: Option<std::thread::JoinHandle<()>>,
}

/// A transaction evaluated against the index, waiting for its batch to be durable.
struct Staged {
    reply: Reply,
    result: Result<Outcome>,
}

enum Outcome {
    Txn(TxnResponse),
    Compact,
}

enum Reply {
    Txn(oneshot::Sender<Result<TxnResponse>>),
    Compact(oneshot::Sender<Result<()>>),
}

impl Reply {
    fn send(self, result: Result<Outcome>) {
        match (self, result) {
            (Reply::Txn(tx), Ok(Outcome::Txn(resp))) => {
                let _ = tx.send(Ok(resp));
            }
            (Reply::Compact(tx), Ok(Outcome::Compact)) => {
                let _ = tx.send(Ok(()));
            }
            (Reply::Txn(tx), Err(e)) => {
                let _ = tx.send(Err(e));
            }
            (Reply::Compact(tx), Err(e)) => {
                let _ = tx.send(Err(e));
            }
            (Reply::Txn(tx), Ok(Outcome::Compact)) => {
                let _ = tx.send(Err(StoreError::InvalidArgument("internal mix-up".into())));
            }
            (Reply::Compact(tx), Ok(Outcome::Txn(_))) => {
                let _ = tx.send(Err(StoreError::InvalidArgument("internal mix-up".into())));
            }
        }
    }
}

impl Writer {
    fn new(shared: Arc<Shared>, wal: Option<Wal>, config: Config) -> Self {
        Writer {
            shared,
            wal,
            config,
            records_since_snapshot: 0,
            bytes_since_snapshot: 0,
            snapshot_done: Arc::new(Mutex::new(None)),
            last_snapshot_bytes: 0,
            staged_head: 0,
            staged_compacted: 0,
            snapshot_running: Arc::new(AtomicBool::new(false)),
            snapshot_thread: None,
        }
    }

    fn run(mut self, mut rx: mpsc::Receiver<Request>) {
        // With `Fsync`, a second thread syncs and publishes while this one evaluates and
        // appends the next batch: the disk flush of one batch overlaps the work of the next,
        // and batches queued behind a flush share it.
        let mut syncer = None;
        if self.wal.is_some() && self.config.durability == Durability::Fsync {
            let (tx, jobs) = std::sync::mpsc::sync_channel::<Job>(SYNC_QUEUE);
            let shared = Arc::clone(&self.shared);
            match std::thread::Builder::new()
                .name("kubernaut-store-sync".into())
                .spawn(move || sync_loop(&shared, &jobs))
            {
                Ok(handle) => syncer = Some((tx, handle)),
                Err(e) => {
                    self.shared.state.write().failed =
                        Some(format!("cannot start the sync thread: {e}"));
                }
            }
        }
        let mut batch = Vec::with_capacity(self.config.max_batch);
        while let Some(first) = rx.blocking_recv() {
            batch.push(first);
            while batch.len() < self.config.max_batch {
                match rx.try_recv() {
                    Ok(r) => batch.push(r),
                    Err(_) => break,
                }
            }
            if self.shared.state.read().closed {
                for r in batch.drain(..) {
                    match r {
                        Request::Txn(_, tx) => drop(tx.send(Err(closed()))),
                        Request::Compact(_, tx) => drop(tx.send(Err(closed()))),
                    }
                }
                break;
            }
            self.finish_snapshot();
            if let Some(job) = self.commit(&mut batch) {
                match &syncer {
                    // Nothing else to do meanwhile, and writers are few (the last sync had
                    // few requests): sync here rather than wake another thread. With many
                    // writers the rest of them are about to send, and would wait for this
                    // thread's sync before their batch is even appended.
                    Some(_)
                        if rx.is_empty()
                            && self.shared.syncing.load(Ordering::Acquire) == 0
                            && self.shared.last_sync_requests.load(Ordering::Relaxed)
                                < FEW_WRITERS =>
                    {
                        sync_and_publish(&self.shared, vec![job]);
                    }
                    Some((tx, _)) => {
                        self.shared.syncing.fetch_add(1, Ordering::AcqRel);
                        if let Err(std::sync::mpsc::SendError(job)) = tx.send(job) {
                            // The sync thread is gone: it never exits while we send.
                            self.shared.syncing.fetch_sub(1, Ordering::AcqRel);
                            fail_job(&self.shared, job, "the sync thread stopped", None);
                        }
                    }
                    None => publish(&self.shared, vec![job]),
                }
            }
            self.maybe_snapshot();
        }
        if let Some((tx, handle)) = syncer {
            drop(tx);
            let _ = handle.join();
        }
        // A snapshot still being written must not outlive the directory lock.
        if let Some(t) = self.snapshot_thread.take() {
            let _ = t.join();
        }
        // Wake watchers so they notice the store is gone.
        self.shared.wakers.lock().wake_all();
    }

    /// Evaluates one batch against the index (staged above the visible revision) and appends
    /// it to the log; returns what remains to do: sync, publish, answer.
    fn commit(&mut self, batch: &mut Vec<Request>) -> Option<Job> {
        let mut staged: Vec<Staged> = Vec::with_capacity(batch.len());
        let mut wal_buf = Vec::new();
        let mut touched: Vec<Arc<str>> = Vec::new();
        let mut entries: Vec<LogEntry> = Vec::new();
        let mut compact_to: Option<Revision> = None;
        let mut records = 0u64;
        let head = {
            let mut st = self.shared.state.write();
            if let Some(reason) = &st.failed {
                let reason = reason.clone();
                drop(st);
                for r in batch.drain(..) {
                    let err = || StoreError::Unavailable {
                        reason: reason.clone(),
                        source: None,
                    };
                    match r {
                        Request::Txn(_, tx) => drop(tx.send(Err(err()))),
                        Request::Compact(_, tx) => drop(tx.send(Err(err()))),
                    }
                }
                return None;
            }
            let mut head = self.staged_head.max(st.visible);
            for request in batch.drain(..) {
                match request {
                    Request::Txn(txn, reply) => {
                        let (resp, ops, events) = execute(&mut st.index, &txn, head);
                        if !ops.is_empty() {
                            head += 1;
                            for op in &ops {
                                touched.push(match op {
                                    WalOp::Put { key, .. } | WalOp::Delete { key } => {
                                        Arc::clone(key)
                                    }
                                });
                            }
                            wal::encode(
                                &Record::Txn {
                                    revision: head,
                                    ops,
                                },
                                &mut wal_buf,
                            );
                            records += 1;
                            entries.push(LogEntry {
                                revision: head,
                                events: events.into(),
                            });
                        }
                        staged.push(Staged {
                            reply: Reply::Txn(reply),
                            result: Ok(Outcome::Txn(resp)),
                        });
                    }
                    Request::Compact(revision, reply) => {
                        let floor = compact_to.unwrap_or(self.staged_compacted.max(st.compacted));
                        let result = if revision < 0 {
                            // `close` nudging the writer: nothing to do.
                            Ok(Outcome::Compact)
                        } else if revision <= floor {
                            Err(StoreError::Compacted {
                                requested: revision,
                                compacted_revision: floor,
                            })
                        } else if revision > head {
                            Err(StoreError::FutureRevision {
                                requested: revision,
                                current: head,
                            })
                        } else {
                            compact_to = Some(revision);
                            wal::encode(&Record::Compact { revision }, &mut wal_buf);
                            records += 1;
                            Ok(Outcome::Compact)
                        };
                        staged.push(Staged {
                            reply: Reply::Compact(reply),
                            result,
                        });
                    }
                }
            }
            head
        };
        self.staged_head = head;
        if let Some(c) = compact_to {
            self.staged_compacted = c;
        }
        let mut job = Job {
            staged,
            entries,
            touched,
            compact_to,
            head,
            sync: None,
        };

        // Append without holding the state lock: readers keep reading the visible revision.
        if let Some(wal) = self.wal.as_mut()
            && !wal_buf.is_empty()
        {
            let appended = wal
                .append(&wal_buf, head)
                .and_then(|()| match self.config.durability {
                    Durability::Fsync => wal.detach_sync().map(Some),
                    Durability::None => Ok(None),
                });
            match appended {
                Ok(sync) => job.sync = sync,
                Err(e) => {
                    fail_job(&self.shared, job, "appending to the log failed", Some(e));
                    return None;
                }
            }
        }
        self.records_since_snapshot += records;
        self.bytes_since_snapshot += wal_buf.len() as u64;
        Some(job)
    }

    /// Starts a background snapshot when enough log has accumulated.
    fn maybe_snapshot(&mut self) {
        let Some(dir) = self.config.data_dir.clone() else {
            return;
        };
        if self.records_since_snapshot < self.config.snapshot_records
            && self.bytes_since_snapshot < self.config.snapshot_bytes
        {
            return;
        }
        // Never rewrite the state more often than the log grows by its size.
        if self.bytes_since_snapshot < self.last_snapshot_bytes {
            return;
        }
        if self.snapshot_running.swap(true, Ordering::AcqRel) {
            return;
        }
        self.records_since_snapshot = 0;
        self.bytes_since_snapshot = 0;
        let shared = Arc::clone(&self.shared);
        let done = Arc::clone(&self.snapshot_done);
        let running = Arc::clone(&self.snapshot_running);
        let spawned = std::thread::Builder::new()
            .name("kubernaut-store-snapshot".into())
            .spawn(move || {
                let data = read_snapshot(&shared);
                let result = snapshot::write_snapshot(&dir, &data).map(|path| {
                    let size = std::fs::metadata(path).map_or(0, |m| m.len());
                    (data.revision, size, data.compacted)
                });
                drop(data);
                *done.lock() = Some(result);
                running.store(false, Ordering::Release);
            });
        match spawned {
            Ok(handle) => {
                if let Some(previous) = self.snapshot_thread.replace(handle) {
                    // It has finished: `snapshot_running` was false.
                    let _ = previous.join();
                }
            }
            Err(_) => self.snapshot_running.store(false, Ordering::Release),
        }
    }

    /// Once a background snapshot is durable, drops the log segments and snapshots it replaces.
    fn finish_snapshot(&mut self) {
        let Some(result) = self.snapshot_done.lock().take() else {
            return;
        };
        let (Some(dir), Some(wal)) = (self.config.data_dir.as_ref(), self.wal.as_mut()) else {
            return;
        };
        match result {
            Ok((revision, size, compacted)) => {
                self.last_snapshot_bytes = size;
                // A compaction logged after the snapshot read the state is in a segment that
                // is about to go: log it again, durably, after everything else first.
                if self.staged_compacted > compacted {
                    let mut buf = Vec::new();
                    wal::encode(
                        &Record::Compact {
                            revision: self.staged_compacted,
                        },
                        &mut buf,
                    );
                    let relogged = wal.append(&buf, self.staged_head).and_then(|()| {
                        match self.config.durability {
                            Durability::Fsync => wal.detach_sync()?.run(),
                            Durability::None => Ok(()),
                        }
                    });
                    if let Err(e) = relogged {
                        tracing::warn!(error = %e, "could not log the compaction again; the log is kept");
                        return;
                    }
                }
                if let Err(e) = wal.release_through(revision) {
                    tracing::warn!(error = %e, "could not delete log segments after a snapshot");
                }
                if let Err(e) = snapshot::remove_snapshots_before(dir, revision) {
                    tracing::warn!(error = %e, "could not delete older snapshots");
                }
            }
            Err(e) => tracing::warn!(error = %e, "snapshot failed; the log is kept"),
        }
    }
}

/// An error shared by every caller of a failed batch.
#[derive(Debug)]
struct SharedError(Arc<StoreError>);

impl std::fmt::Display for SharedError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl std::error::Error for SharedError {}

/// Fewer requests than this in the last synced batch: writers are few, and the writer syncs
/// a batch itself when nothing else is queued.
const FEW_WRITERS: usize = 4;

/// Batches waiting for the sync thread beyond the one it is syncing; the writer waits when
/// more are queued, and meanwhile requests gather into larger batches.
const SYNC_QUEUE: usize = 4;

/// A batch evaluated and appended, waiting to be made durable, published and answered.
struct Job {
    staged: Vec<Staged>,
    entries: Vec<LogEntry>,
    /// Keys written, to roll back if the batch cannot be made durable.
    touched: Vec<Arc<str>>,
    compact_to: Option<Revision>,
    /// The batch's last revision.
    head: Revision,
    /// What makes it durable (`None`: nothing to sync).
    sync: Option<wal::PendingSync>,
}

/// The sync thread: takes every queued batch, makes them durable with one sync, publishes
/// them and answers their callers.
///
/// Answering the callers (waking each caller's task) is left to a thread of its own: the
/// sync thread goes on to the next sync as soon as a batch is visible.
fn sync_loop(shared: &Shared, jobs: &std::sync::mpsc::Receiver<Job>) {
    let (answers, to_answer) = std::sync::mpsc::channel::<Vec<Staged>>();
    let replier = std::thread::Builder::new()
        .name("kubernaut-store-reply".into())
        .spawn(move || {
            for batch in to_answer {
                answer(batch);
            }
        });
    let answers = replier.as_ref().ok().map(|_| answers);
    while let Ok(first) = jobs.recv() {
        let mut batch = vec![first];
        batch.extend(jobs.try_iter());
        let n = batch.len();
        let visible = sync_and_make_visible(shared, batch);
        shared.syncing.fetch_sub(n, Ordering::AcqRel);
        match &answers {
            Some(answers) => {
                if let Err(std::sync::mpsc::SendError(batch)) = answers.send(visible) {
                    // The reply thread is gone (it never exits while we send): answer here.
                    answer(batch);
                }
            }
            None => answer(visible),
        }
    }
    drop(answers);
    if let Ok(handle) = replier {
        let _ = handle.join();
    }
}

/// Makes batches durable with one sync, then publishes them (or fails them all).
fn sync_and_publish(shared: &Shared, batch: Vec<Job>) {
    answer(sync_and_make_visible(shared, batch));
}

/// Makes batches durable with one sync and visible; returns the answers to send (a failed
/// batch is answered here).
fn sync_and_make_visible(shared: &Shared, mut batch: Vec<Job>) -> Vec<Staged> {
    if let Some(reason) = shared.state.read().failed.clone() {
        for job in batch {
            fail_job(shared, job, &reason, None);
        }
        return Vec::new();
    }
    let mut sync: Option<wal::PendingSync> = None;
    for job in &mut batch {
        if let Some(next) = job.sync.take() {
            match &mut sync {
                Some(s) => s.merge(next),
                None => sync = Some(next),
            }
        }
    }
    let requests: usize = batch.iter().map(|j| j.staged.len()).sum();
    shared.last_sync_requests.store(requests, Ordering::Relaxed);
    match sync.as_ref().map_or(Ok(()), wal::PendingSync::run) {
        Ok(()) => make_visible(shared, batch),
        Err(e) => {
            let e = Arc::new(e);
            for job in batch {
                fail_job(
                    shared,
                    job,
                    "syncing the log failed",
                    Some(StoreError::Unavailable {
                        reason: e.to_string(),
                        source: Some(Box::new(SharedError(Arc::clone(&e)))),
                    }),
                );
            }
            Vec::new()
        }
    }
}

/// Makes durable batches visible to readers and watchers, compacts, and answers the callers.
fn publish(shared: &Shared, jobs: Vec<Job>) {
    answer(make_visible(shared, jobs));
}

/// Answers the callers of visible batches.
fn answer(replies: Vec<Staged>) {
    for s in replies {
        s.reply.send(s.result);
    }
}

/// Makes durable batches visible to readers and watchers and compacts; returns the answers
/// to send.
fn make_visible(shared: &Shared, jobs: Vec<Job>) -> Vec<Staged> {
    let mut replies = Vec::new();
    {
        let mut st = shared.state.write();
        for job in jobs {
            for entry in job.entries {
                st.log.push(entry);
            }
            st.visible = st.visible.max(job.head);
            if let Some(rev) = job.compact_to
                && rev > st.compacted
            {
                st.compacted = rev;
            }
            replies.extend(job.staged);
        }
        let limit = i64::try_from(shared.history_revisions).unwrap_or(i64::MAX);
        if st.visible - st.compacted > limit {
            st.compacted = st.visible - limit;
        }
        compact_index(&mut st, &shared.snapshot_readers);
    }
    shared.wakers.lock().wake_all();
    replies
}

/// Rolls back a batch that cannot be made durable, stops the store's writes (the log's state
/// after a failed write or sync cannot be trusted, so it is never retried) and answers every
/// caller with `Unavailable`.
fn fail_job(shared: &Shared, job: Job, what: &str, error: Option<StoreError>) {
    let reason = {
        let mut st = shared.state.write();
        let visible = st.visible;
        st.index.rollback_after(visible, &job.touched);
        match &st.failed {
            Some(reason) => reason.clone(),
            None => {
                let reason = match &error {
                    Some(e) => format!("{what} at revision {}: {e}", job.head),
                    None => format!("{what} at revision {}", job.head),
                };
                tracing::error!(%reason, "the store stops accepting writes");
                st.failed = Some(reason.clone());
                reason
            }
        }
    };
    let shared_err = error.map(Arc::new);
    for s in job.staged {
        s.reply.send(Err(StoreError::Unavailable {
            reason: reason.clone(),
            source: shared_err
                .as_ref()
                .map(|e| Box::new(SharedError(Arc::clone(e))) as _),
        }));
    }
}

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
