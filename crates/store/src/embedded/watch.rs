//! Watch: one shared event log, and watchers that are cursors into it.
//!
//! # Memory usage
//! The log holds the events of every revision since the compaction point (keys and values are
//! shared with the MVCC index, so an event costs little more than its bookkeeping). A watcher
//! holds no events of its own: it is a position in the log, a prefix and a waker — a few hundred
//! bytes however far behind it is. A watcher that does not keep up simply falls behind; once
//! compaction passes its position (explicitly, or automatically when the history exceeds
//! [`Config::history_revisions`](super::Config::history_revisions)), its next poll ends the
//! stream with `Compacted` and it must relist. Nothing is ever buffered per watcher, so a slow
//! watcher can neither stall the writer nor grow memory beyond the shared history bound.

use std::collections::VecDeque;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll, Waker};

use futures::Stream;
use parking_lot::Mutex;

use super::Shared;
use crate::backend::ProgressRequester;
use crate::error::{Result, StoreError};
use crate::types::{Event, Revision, WatchResponse};

/// The most events one watch response carries when catching up (a revision is never split, so
/// a single large transaction may exceed it).
const MAX_EVENTS_PER_RESPONSE: usize = 1000;

/// The events of one revision.
#[derive(Clone, Debug)]
pub(crate) struct LogEntry {
    pub(crate) revision: Revision,
    pub(crate) events: Arc<[Event]>,
}

/// Events of every retained revision, oldest first.
#[derive(Debug, Default)]
pub(crate) struct EventLog {
    entries: VecDeque<LogEntry>,
}

impl EventLog {
    /// Appends the events of a new revision (revisions only grow).
    pub(crate) fn push(&mut self, entry: LogEntry) {
        self.entries.push_back(entry);
    }

    /// Forgets revisions up to and including `revision`.
    pub(crate) fn trim_through(&mut self, revision: Revision) {
        while self.entries.front().is_some_and(|e| e.revision <= revision) {
            self.entries.pop_front();
        }
    }

    /// Events under `prefix` from revision `from` (inclusive) through `through`, at most about
    /// `max` of them without splitting a revision. Returns the events and the next revision to
    /// read.
    pub(crate) fn read(
        &self,
        prefix: &str,
        from: Revision,
        through: Revision,
        max: usize,
    ) -> (Vec<Event>, Revision) {
        let start = self.entries.partition_point(|e| e.revision < from);
        let mut out = Vec::new();
        let mut next = from;
        for entry in self.entries.range(start..) {
            if entry.revision > through {
                break;
            }
            if !out.is_empty() && out.len() >= max {
                break;
            }
            out.extend(
                entry
                    .events
                    .iter()
                    .filter(|e| e.kv.key.starts_with(prefix))
                    .cloned(),
            );
            next = entry.revision + 1;
        }
        (out, next.max(from))
    }

    /// The keys written in revisions up to and including `revision`.
    pub(crate) fn keys_through(&self, revision: Revision) -> impl Iterator<Item = &Arc<str>> {
        self.entries
            .iter()
            .take_while(move |e| e.revision <= revision)
            .flat_map(|e| e.events.iter().map(|ev| &ev.kv.key))
    }

    /// The number of retained revisions.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }
}

/// Wakers of watchers waiting for a new revision.
#[derive(Debug, Default)]
pub(crate) struct WakerSet {
    slots: Vec<Option<Waker>>,
    free: Vec<usize>,
}

impl WakerSet {
    fn register(&mut self, slot: &mut Option<usize>, waker: &Waker) {
        match *slot {
            Some(i) => match &mut self.slots[i] {
                Some(w) if w.will_wake(waker) => {}
                s => *s = Some(waker.clone()),
            },
            None => {
                let i = match self.free.pop() {
                    Some(i) => {
                        self.slots[i] = Some(waker.clone());
                        i
                    }
                    None => {
                        self.slots.push(Some(waker.clone()));
                        self.slots.len() - 1
                    }
                };
                *slot = Some(i);
            }
        }
    }

    fn release(&mut self, slot: usize) {
        if let Some(s) = self.slots.get_mut(slot) {
            *s = None;
            self.free.push(slot);
        }
    }

    /// Wakes every registered watcher (they re-register when they find nothing new).
    pub(crate) fn wake_all(&mut self) {
        for w in self.slots.iter_mut() {
            if let Some(w) = w.take() {
                w.wake();
            }
        }
        // Slots stay allocated to their watchers; only the wakers are consumed.
    }
}

/// Progress requested by the watch's owner.
#[derive(Debug, Default)]
pub(crate) struct ProgressFlag(AtomicBool);

/// Wakes a watcher when its owner asks for progress.
pub(crate) struct EmbeddedProgress {
    flag: Arc<ProgressFlag>,
    shared: Arc<Shared>,
}

impl ProgressRequester for EmbeddedProgress {
    fn request_progress(&self) {
        self.flag.0.store(true, Ordering::Release);
        self.shared.wakers.lock().wake_all();
    }
}

/// A watcher: a cursor into the shared log.
pub(crate) struct Watcher {
    shared: Arc<Shared>,
    prefix: Arc<str>,
    next: Revision,
    slot: Option<usize>,
    progress: Arc<ProgressFlag>,
    ticker: Option<tokio::time::Interval>,
    done: bool,
}

impl Watcher {
    /// A watcher of `prefix` delivering revisions from `next` on, and its progress requester.
    pub(crate) fn new(
        shared: Arc<Shared>,
        prefix: &str,
        next: Revision,
        progress_interval: Option<std::time::Duration>,
    ) -> (Self, EmbeddedProgress) {
        let flag = Arc::new(ProgressFlag::default());
        let ticker = progress_interval.map(|every| {
            let mut t = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
            t.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            t
        });
        let requester = EmbeddedProgress {
            flag: Arc::clone(&flag),
            shared: Arc::clone(&shared),
        };
        let w = Watcher {
            shared,
            prefix: Arc::from(prefix),
            next,
            slot: None,
            progress: flag,
            ticker,
            done: false,
        };
        (w, requester)
    }
}

impl Stream for Watcher {
    type Item = Result<WatchResponse>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        if this.done {
            return Poll::Ready(None);
        }
        // Register first, then look: a revision published in between wakes us again.
        this.shared
            .wakers
            .lock()
            .register(&mut this.slot, cx.waker());
        let state = this.shared.state.read();
        if state.closed {
            this.done = true;
            return Poll::Ready(Some(Err(StoreError::Unavailable {
                reason: "the store was closed".into(),
                source: None,
            })));
        }
        if this.next <= state.compacted {
            this.done = true;
            return Poll::Ready(Some(Err(StoreError::Compacted {
                requested: this.next,
                compacted_revision: state.compacted,
            })));
        }
        let visible = state.visible;
        if this.next <= visible {
            let (events, next) =
                state
                    .log
                    .read(&this.prefix, this.next, visible, MAX_EVENTS_PER_RESPONSE);
            drop(state);
            this.next = next;
            if !events.is_empty() {
                return Poll::Ready(Some(Ok(WatchResponse::Events(events))));
            }
            // Only other prefixes changed: we are caught up to `next - 1`.
        } else {
            drop(state);
        }
        let caught_up = this.next - 1;
        let ticked = this
            .ticker
            .as_mut()
            .is_some_and(|t| t.poll_tick(cx).is_ready());
        if this.progress.0.swap(false, Ordering::AcqRel) || ticked {
            return Poll::Ready(Some(Ok(WatchResponse::Progress(caught_up))));
        }
        Poll::Pending
    }
}

impl Drop for Watcher {
    fn drop(&mut self) {
        if let Some(slot) = self.slot {
            self.shared.wakers.lock().release(slot);
        }
    }
}

/// Keeps the waker set's lock type in one place.
pub(crate) type Wakers = Mutex<WakerSet>;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::{EventKind, KeyValue};
    use bytes::Bytes;

    fn entry(rev: Revision, keys: &[&str]) -> LogEntry {
        let events: Vec<Event> = keys
            .iter()
            .map(|k| Event {
                kind: EventKind::Put,
                kv: KeyValue {
                    key: Arc::from(*k),
                    value: Bytes::new(),
                    create_revision: rev,
                    mod_revision: rev,
                    version: 1,
                    lease: 0,
                },
                prev: None,
            })
            .collect();
        LogEntry {
            revision: rev,
            events: events.into(),
        }
    }

    #[test]
    fn reads_filter_by_prefix_and_never_split_a_revision() {
        let mut log = EventLog::default();
        log.push(entry(1, &["/a/1", "/b/1"]));
        log.push(entry(2, &["/a/2", "/a/3"]));
        log.push(entry(3, &["/a/4"]));
        let (ev, next) = log.read("/a/", 1, 3, 2);
        assert_eq!(ev.len(), 3, "revision 2 is delivered whole");
        assert_eq!(next, 3);
        let (ev, next) = log.read("/a/", next, 3, 2);
        assert_eq!((ev.len(), next), (1, 4));
        let (ev, next) = log.read("/b/", 2, 3, 10);
        assert_eq!((ev.len(), next), (0, 4));
        log.trim_through(2);
        assert_eq!(log.len(), 1);
    }
}
