//! The write path: writes are evaluated by their callers, gathered into batches, made durable
//! by the sync thread (group commit) and published in log order.
//!
//! # Pipeline
//! A caller evaluates its write against the index under the commit lock: the write gets the
//! next revision, staged above the revision readers see, and its log record joins the batch
//! being gathered. The caller then waits for that batch. The sync thread takes the whole batch
//! when it is free, appends it to the log and, with [`Durability::Fsync`], calls `fdatasync`:
//! every write that arrived during one flush shares the next. Once the batch is durable, the
//! sync thread tells one of its callers to publish it — make it visible to readers and
//! watchers, in log order, and answer the other callers — and goes straight on to the next
//! batch. The publishing runs on the callers' threads, in parallel with the next flush, so
//! the sync thread does little besides flushing. A caller that gives up while told to publish
//! publishes as its future is dropped.
//!
//! # Failure
//! If appending or syncing a batch fails, that batch and every later one (still gathering,
//! or written after the failure) are rolled back and their callers get `Unavailable`; the log
//! refuses every later append and sync, and the store refuses writes.

use std::collections::VecDeque;
use std::path::PathBuf;
use std::sync::Arc;

use parking_lot::{Condvar, Mutex};
use tokio::sync::oneshot;

use super::wal::{self, Record, Wal};
use super::watch::LogEntry;
use super::{
    Config, Durability, Shared, SnapshotOutcome, State, closed, compact_index, execute,
    read_snapshot, snapshot,
};
use crate::error::{Result, StoreError};
use crate::types::{Revision, Txn, TxnResponse};

/// A write, as a caller submits it.
pub(super) enum Write<'t> {
    Txn(&'t Txn),
    Compact(Revision),
}

/// What an evaluated write answers once its batch is published.
pub(super) enum Outcome {
    Txn(TxnResponse),
    Compact,
}

/// Writes evaluated together and made durable by one sync.
#[derive(Default)]
pub(super) struct Batch {
    /// Their log records, encoded.
    records: Vec<u8>,
    /// How many records `records` holds.
    record_count: u64,
    /// Their events, one entry per revision.
    entries: Vec<LogEntry>,
    /// Keys written, to roll back if the batch cannot be made durable.
    touched: Vec<Arc<str>>,
    /// The compaction point the batch sets, if it compacts.
    compact_to: Option<Revision>,
    /// The batch's last revision (the staged head when it was taken).
    head: Revision,
    /// The callers waiting for it.
    waiters: Vec<oneshot::Sender<Signal>>,
}

impl Batch {
    fn is_empty(&self) -> bool {
        self.waiters.is_empty() && self.records.is_empty()
    }
}

/// Evaluation state: the revision and compaction point staged above what readers see, and
/// the batch being gathered.
pub(super) struct Committer {
    shared: Arc<Shared>,
    /// The last revision evaluated (it may not be durable and visible yet); never behind the
    /// visible revision, which only moves up to the head of a published batch.
    staged_head: Revision,
    /// The last compaction point accepted (it may not be published yet).
    staged_compacted: Revision,
    /// The batch being gathered for the next sync.
    batch: Batch,
    /// Set by `close`: nothing more is accepted, and the sync thread stops once every batch
    /// is done.
    closing: bool,
    /// The sync thread is waiting for a batch.
    idle: bool,
}

impl Committer {
    /// Evaluation from the revision the store opened at.
    pub(super) fn new(shared: Arc<Shared>) -> Self {
        let staged_head = shared.state.read().visible;
        Committer {
            shared,
            staged_head,
            staged_compacted: 0,
            batch: Batch::default(),
            closing: false,
            idle: false,
        }
    }

    /// Evaluates one write against the index at the staged revision and adds it to the batch
    /// being gathered. An error here wrote nothing and needs no waiting.
    pub(super) fn evaluate(&mut self, write: Write<'_>) -> Result<Outcome> {
        let mut guard = self.shared.state.write();
        let st: &mut State = &mut guard;
        if st.closed {
            return Err(closed());
        }
        if let Some(reason) = &st.failed {
            return Err(StoreError::Unavailable {
                reason: reason.clone(),
                source: None,
            });
        }
        let head = self.staged_head;
        let batch = &mut self.batch;
        match write {
            Write::Txn(txn) => {
                let (resp, ops, events) = execute(&mut st.index, txn, head);
                if !ops.is_empty() {
                    let revision = head + 1;
                    batch.touched.extend(ops.iter().map(|op| match op {
                        wal::WalOp::Put { key, .. } | wal::WalOp::Delete { key } => Arc::clone(key),
                    }));
                    wal::encode(&Record::Txn { revision, ops }, &mut batch.records);
                    batch.record_count += 1;
                    batch.entries.push(LogEntry {
                        revision,
                        events: events.into(),
                    });
                    self.staged_head = revision;
                }
                Ok(Outcome::Txn(resp))
            }
            Write::Compact(revision) => {
                let floor = self.staged_compacted.max(st.compacted);
                if revision <= floor {
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
                    wal::encode(&Record::Compact { revision }, &mut batch.records);
                    batch.record_count += 1;
                    batch.compact_to = Some(revision);
                    self.staged_compacted = revision;
                    Ok(Outcome::Compact)
                }
            }
        }
    }

    /// Registers a caller whose write was just evaluated: it is answered once the batch
    /// being gathered is published.
    pub(super) fn wait_for_batch(&mut self) -> oneshot::Receiver<Signal> {
        let (tx, rx) = oneshot::channel();
        self.batch.waiters.push(tx);
        rx
    }

    /// Takes the batch gathered so far.
    fn take(&mut self) -> Batch {
        let mut batch = std::mem::take(&mut self.batch);
        batch.head = self.staged_head;
        batch
    }

    /// Makes the gathered batch visible at once: for a store with nothing to persist.
    pub(super) fn publish_now(&mut self) {
        let batch = self.take();
        answer(make_visible(&self.shared, vec![batch]));
    }
}

/// The log side: the write-ahead log and the snapshots that let it shrink, owned by the sync
/// thread.
struct LogSide {
    wal: Wal,
    config: Config,
    /// The newest compaction point appended to the log.
    logged_compacted: Revision,
    records_since_snapshot: u64,
    bytes_since_snapshot: u64,
    /// Size of the last snapshot written: the log must grow by as much before the next.
    last_snapshot_bytes: u64,
    /// The snapshot being written in the background: its thread returns how it ended. Joined
    /// before the sync thread exits.
    snapshot_thread: Option<std::thread::JoinHandle<SnapshotOutcome>>,
}

/// A batch appended to the log and synced (or failed), waiting to be published.
struct Flight {
    batch: Batch,
    synced: Result<()>,
}

/// What a caller waiting for its batch is told.
pub(super) enum Signal {
    /// The batch is durable, and this caller publishes it ([`Durable::publish_ready`]) and
    /// answers the others: that work is done on the caller's thread, so the sync thread goes
    /// straight on to the next batch.
    Lead,
    /// The batch is published (or failed).
    Done(Result<()>),
}

/// Everything a durable store's write path shares.
pub(super) struct Durable {
    shared: Arc<Shared>,
    pub(super) committer: Mutex<Committer>,
    /// Signals the sync thread that a batch is waiting (or that the store closes).
    work: Condvar,
    /// Synced batches not yet published, in log order.
    flights: Mutex<VecDeque<Flight>>,
}

impl Durable {
    /// Starts the sync thread for `wal`.
    pub(super) fn start(
        shared: Arc<Shared>,
        wal: Wal,
        config: Config,
        committer: Committer,
    ) -> Result<(Arc<Durable>, std::thread::JoinHandle<()>)> {
        let durable = Arc::new(Durable {
            shared,
            committer: Mutex::new(committer),
            work: Condvar::new(),
            flights: Mutex::new(VecDeque::new()),
        });
        let log = LogSide {
            wal,
            config,
            logged_compacted: 0,
            records_since_snapshot: 0,
            bytes_since_snapshot: 0,
            last_snapshot_bytes: 0,
            snapshot_thread: None,
        };
        let d = Arc::clone(&durable);
        let thread = std::thread::Builder::new()
            .name("kubernaut-store-sync".into())
            .spawn(move || d.sync_loop(log))
            .map_err(|e| StoreError::unavailable("cannot start the sync thread", e))?;
        Ok((durable, thread))
    }

    /// Wakes the sync thread for the batch just added to (call with the committer locked).
    pub(super) fn notify(&self, committer: &Committer) {
        if committer.idle {
            self.work.notify_one();
        }
    }

    /// Stops accepting writes; the sync thread finishes every batch accepted and exits.
    pub(super) fn close(&self) {
        self.committer.lock().closing = true;
        self.work.notify_all();
    }

    /// Waits for the caller's batch; the caller leads the publication when told to.
    pub(super) async fn wait(&self, done: oneshot::Receiver<Signal>) -> Result<()> {
        let mut waiting = Waiting {
            durable: self,
            done,
            answered: false,
        };
        let signal = (&mut waiting.done).await;
        waiting.answered = true;
        match signal {
            Ok(Signal::Lead) => {
                self.publish_ready();
                Ok(())
            }
            Ok(Signal::Done(result)) => result,
            Err(_) => Err(closed()),
        }
    }

    /// The sync thread: takes a batch, appends it, syncs it, hands it to a leader.
    fn sync_loop(&self, mut log: LogSide) {
        while let Some(mut batch) = self.next_batch() {
            let release = log.finish_snapshot();
            let appended = log.append(&mut batch);
            log.maybe_snapshot(&self.shared);
            let synced = appended.and_then(|()| match log.config.durability {
                Durability::Fsync => log.wal.sync(),
                Durability::None => Ok(()),
            });
            if synced.is_ok()
                && let Some((revision, dir)) = release
            {
                log.release_through(revision, &dir);
            }
            self.enqueue(batch, synced);
        }
        // A snapshot still being written must not outlive the directory lock.
        if let Some(t) = log.snapshot_thread.take() {
            let _ = t.join();
        }
    }

    /// Waits for a batch to sync; `None` once the store closes and every batch is done.
    fn next_batch(&self) -> Option<Batch> {
        let mut c = self.committer.lock();
        loop {
            if !c.batch.is_empty() {
                return Some(c.take());
            }
            if c.closing {
                return None;
            }
            c.idle = true;
            self.work.wait(&mut c);
            c.idle = false;
        }
    }

    /// Queues a synced batch behind the earlier ones and tells one of its callers to publish
    /// it; publishes here when every caller has gone, or when the batch failed.
    fn enqueue(&self, mut batch: Batch, synced: Result<()>) {
        {
            let mut flights = self.flights.lock();
            if synced.is_ok() {
                while let Some(waiter) = batch.waiters.pop() {
                    if waiter.send(Signal::Lead).is_ok() {
                        flights.push_back(Flight { batch, synced });
                        return;
                    }
                }
            }
            flights.push_back(Flight { batch, synced });
        }
        self.publish_ready();
    }

    /// Publishes every synced batch, in log order, and answers its callers; at a failed one,
    /// fails it and everything after it. Whoever calls it first does the work; once it
    /// returns, every batch queued before the call is published.
    pub(super) fn publish_ready(&self) {
        let ready = {
            let mut flights = self.flights.lock();
            let failed_at = flights.iter().position(|f| f.synced.is_err());
            let ok = failed_at.unwrap_or(flights.len());
            let ready: Vec<Batch> = flights.drain(..ok).map(|f| f.batch).collect();
            let ready = if ready.is_empty() {
                ready
            } else {
                make_visible(&self.shared, ready)
            };
            if failed_at.is_some() {
                let mut error = None;
                let mut batches = Vec::with_capacity(flights.len() + 1);
                for f in flights.drain(..) {
                    if error.is_none()
                        && let Err(e) = f.synced
                    {
                        error = Some(e);
                    }
                    batches.push(f.batch);
                }
                let head = batches.first().map_or(0, |b| b.head);
                // Marks the store failed first: nothing evaluated from here on is accepted.
                let reason = fail_store(&self.shared, error.as_ref(), head);
                batches.push(self.committer.lock().take());
                fail_batches(&self.shared, batches, &reason, error);
            }
            ready
        };
        answer(ready);
    }
}

/// A caller waiting for its batch. Dropped while told to lead (the caller gave up), it
/// publishes anyway: the other callers of the batch are waiting for it.
struct Waiting<'d> {
    durable: &'d Durable,
    done: oneshot::Receiver<Signal>,
    /// The signal was received (and is acted on by [`Durable::wait`]).
    answered: bool,
}

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        if !self.answered
            && let Ok(Signal::Lead) = self.done.try_recv()
        {
            self.durable.publish_ready();
        }
    }
}

impl LogSide {
    /// Appends a batch's records (not synced yet).
    fn append(&mut self, batch: &mut Batch) -> Result<()> {
        if batch.records.is_empty() {
            return Ok(());
        }
        self.wal.append(&mut batch.records, batch.head)?;
        if let Some(c) = batch.compact_to {
            self.logged_compacted = self.logged_compacted.max(c);
        }
        self.records_since_snapshot += batch.record_count;
        self.bytes_since_snapshot += batch.records.len() as u64;
        Ok(())
    }

    /// Once a background snapshot is durable: returns the revision through which the log and
    /// older snapshots can go, once what is appended next is durable. A compaction logged after
    /// the snapshot read the state sits in a segment about to go, so it is appended again
    /// first.
    fn finish_snapshot(&mut self) -> Option<(Revision, PathBuf)> {
        if !self.snapshot_thread.as_ref()?.is_finished() {
            return None;
        }
        let result = self.snapshot_thread.take()?.join().unwrap_or_else(|_| {
            Err(StoreError::Unavailable {
                reason: "the snapshot thread panicked".into(),
                source: None,
            })
        });
        let dir = self.config.data_dir.clone()?;
        match result {
            Ok((revision, size, compacted)) => {
                self.last_snapshot_bytes = size;
                if self.logged_compacted > compacted {
                    let mut buf = Vec::new();
                    wal::encode(
                        &Record::Compact {
                            revision: self.logged_compacted,
                        },
                        &mut buf,
                    );
                    let last = self.wal.last_revision();
                    if let Err(e) = self.wal.append(&mut buf, last) {
                        tracing::warn!(error = %e, "could not log the compaction again; the log is kept");
                        return None;
                    }
                }
                Some((revision, dir))
            }
            Err(e) => {
                tracing::warn!(error = %e, "snapshot failed; the log is kept");
                None
            }
        }
    }

    /// Drops the log segments and snapshots that a durable snapshot at `revision` replaces.
    fn release_through(&mut self, revision: Revision, dir: &std::path::Path) {
        if let Err(e) = self.wal.release_through(revision) {
            tracing::warn!(error = %e, "could not delete log segments after a snapshot");
        }
        if let Err(e) = snapshot::remove_snapshots_before(dir, revision) {
            tracing::warn!(error = %e, "could not delete older snapshots");
        }
    }

    /// Starts a background snapshot when enough log has accumulated.
    fn maybe_snapshot(&mut self, shared: &Arc<Shared>) {
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
        // One at a time: a finished one is collected by `finish_snapshot` first.
        if self.snapshot_thread.is_some() {
            return;
        }
        self.records_since_snapshot = 0;
        self.bytes_since_snapshot = 0;
        let shared = Arc::clone(shared);
        self.snapshot_thread = std::thread::Builder::new()
            .name("kubernaut-store-snapshot".into())
            .spawn(move || {
                let data = read_snapshot(&shared);
                snapshot::write_snapshot(&dir, &data).map(|path| {
                    let size = std::fs::metadata(path).map_or(0, |m| m.len());
                    (data.revision, size, data.compacted)
                })
            })
            // If the thread cannot start, the log grows on until the next attempt.
            .ok();
    }
}

/// Makes batches visible to readers and watchers, in order, and compacts; returns their
/// waiters.
fn make_visible(shared: &Shared, mut batches: Vec<Batch>) -> Vec<Batch> {
    {
        let mut st = shared.state.write();
        for batch in &mut batches {
            for entry in batch.entries.drain(..) {
                st.log.push(entry);
            }
            st.visible = st.visible.max(batch.head);
            if let Some(rev) = batch.compact_to
                && rev > st.compacted
            {
                st.compacted = rev;
            }
        }
        let limit = i64::try_from(shared.history_revisions).unwrap_or(i64::MAX);
        if st.visible - st.compacted > limit {
            st.compacted = st.visible - limit;
        }
        compact_index(&mut st, &shared.snapshot_readers);
    }
    shared.wakers.lock().wake_all();
    batches
}

/// Answers the waiters of published batches.
fn answer(batches: Vec<Batch>) {
    for batch in batches {
        for waiter in batch.waiters {
            let _ = waiter.send(Signal::Done(Ok(())));
        }
    }
}

/// Marks the store failed (it refuses writes from now on); returns the reason.
fn fail_store(shared: &Shared, error: Option<&StoreError>, head: Revision) -> String {
    let mut st = shared.state.write();
    match &st.failed {
        Some(reason) => reason.clone(),
        None => {
            let reason = match error {
                Some(e) => format!("writing the log failed at revision {head}: {e}"),
                None => format!("writing the log failed at revision {head}"),
            };
            tracing::error!(%reason, "the store stops accepting writes");
            st.failed = Some(reason.clone());
            reason
        }
    }
}

/// Rolls back batches that cannot be made durable and answers their callers with
/// `Unavailable`: the store's failure `reason`, and its `cause` when known.
fn fail_batches(shared: &Shared, batches: Vec<Batch>, reason: &str, cause: Option<StoreError>) {
    {
        let mut st = shared.state.write();
        let visible = st.visible;
        for batch in &batches {
            st.index.rollback_after(visible, &batch.touched);
        }
    }
    let cause = cause.map(Arc::new);
    for batch in batches {
        for waiter in batch.waiters {
            let _ = waiter.send(Signal::Done(Err(StoreError::Unavailable {
                reason: reason.to_owned(),
                source: cause
                    .as_ref()
                    .map(|e| Box::new(SharedError(Arc::clone(e))) as _),
            })));
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

#[cfg(test)]
mod tests {
    use bytes::Bytes;

    use super::super::{Config, EmbeddedStore, wal};
    use crate::backend::{Backend, BackendExt};
    use crate::error::StoreError;
    use crate::types::{ListOptions, ReadAt};

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_failed_sync_fails_its_writes_and_every_later_one_and_rolls_them_back() {
        let dir = tempfile::tempdir().unwrap();
        let store = std::sync::Arc::new(EmbeddedStore::open(Config::durable(dir.path())).unwrap());
        let first = store.put("/a", Bytes::from_static(b"1")).await.unwrap();

        wal::faults::fail_syncs_in(dir.path());
        let writes: Vec<_> = (0..32)
            .map(|i| {
                let store = std::sync::Arc::clone(&store);
                tokio::spawn(async move {
                    store
                        .put(&format!("/b/{i:02}"), Bytes::from_static(b"2"))
                        .await
                })
            })
            .collect();
        for w in writes {
            let err = w.await.unwrap().unwrap_err();
            assert!(
                matches!(&err, StoreError::Unavailable { reason, .. } if reason.contains("injected failure")),
                "{err:?}"
            );
        }
        // Nothing of the failed writes is visible, the store refuses writes, reads work.
        let listed = store.list("/b/", ListOptions::default()).await.unwrap();
        assert!(listed.kvs.is_empty());
        assert_eq!(listed.revision, first);
        assert!(matches!(
            store.put("/c", Bytes::from_static(b"3")).await,
            Err(StoreError::Unavailable { .. })
        ));
        assert!(matches!(
            store.compact(first).await,
            Err(StoreError::Unavailable { .. })
        ));
        let a = store.get("/a", ReadAt::Latest).await.unwrap();
        assert_eq!(a.kv.unwrap().value, Bytes::from_static(b"1"));
        assert_eq!(store.revision(), first);
    }

    #[test]
    fn a_write_whose_caller_gives_up_while_told_to_lead_is_still_published() {
        use std::future::Future;
        use std::task::{Context, Poll};

        let dir = tempfile::tempdir().unwrap();
        let store = EmbeddedStore::open(Config::durable(dir.path())).unwrap();
        let super::super::Writes::Logged { durable, .. } = &store.writes else {
            panic!("a durable store syncs on a thread");
        };
        let waker = futures::task::noop_waker();
        let mut cx = Context::from_waker(&waker);
        let mut put = Box::pin(store.put("/k", Bytes::from_static(b"v")));
        // The first poll evaluates the write and joins the batch; its only caller is then
        // told to lead the publication once the batch is durable...
        assert!(matches!(put.as_mut().poll(&mut cx), Poll::Pending));
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while durable.flights.lock().is_empty() {
            assert!(
                std::time::Instant::now() < deadline,
                "the batch was never synced"
            );
            std::thread::yield_now();
        }
        assert_eq!(store.revision(), 0);
        // ... but gives up instead of polling again: dropping it publishes.
        drop(put);
        assert_eq!(store.revision(), 1);
        assert!(durable.flights.lock().is_empty());
    }
}
