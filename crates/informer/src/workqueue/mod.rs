//! A rate-limited work queue for controllers: client-go's `util/workqueue` semantics (dedup,
//! never two workers on one key, delayed and rate-limited adds, shutdown with drain, metrics)
//! plus priorities that age, so that no key waits forever.
//!
//! # The rules
//!
//! A [`WorkQueue`] holds keys (typically an object's namespace and name), not objects: the
//! reconciler reads the object from the cache when it gets the key, so however many events
//! arrive for one object, it is reconciled once with its latest state.
//!
//! * **Dedup.** A key added while it waits is queued once. Adding it again only merges the
//!   add into the waiting entry: the highest priority and the earliest due time win
//!   (controller-runtime's priority queue rule).
//! * **Never two workers on one key.** [`get`](WorkQueue::get) hands a key out and marks it
//!   *processing* until [`done`](WorkQueue::done). A key added again while it is processing is
//!   held, and queued once more when `done` is called: it is neither processed concurrently nor
//!   lost (client-go's dirty and processing sets).
//! * **Delayed adds.** [`add_after`](WorkQueue::add_after) queues a key once its delay has
//!   passed; a key due sooner (or added right away) replaces a later one.
//! * **Rate limits.** [`add_rate_limited`](WorkQueue::add_rate_limited) asks the queue's
//!   [`RateLimiter`] for the delay: by default the larger of a per-key exponential failure
//!   backoff (5 ms doubling to 1000 s) and an overall token bucket (10 per second, burst 100),
//!   client-go's default controller rate limiter. [`forget`](WorkQueue::forget) resets a key's
//!   failures once it succeeds. Only `add_rate_limited` counts a failure, and a failure
//!   reported before the key's previous backoff has passed (because an unrelated event
//!   re-queued the key early) does not lengthen the backoff: see
//!   [`ItemExponentialFailureRateLimiter`] for this difference from client-go.
//! * **Priorities with aging.** Every add carries a [`Priority`] ([`Priority::NORMAL`] for live
//!   events, [`Priority::LOW`] for the initial list and resyncs). Ready keys are handed out by
//!   *effective* priority, which rises by one level for every
//!   [`aging interval`](WorkQueueBuilder::aging_interval) a key has been ready (1 s by default):
//!   a key of priority `p` that became ready at `t` is handed out before every key of priority
//!   `q` that becomes ready after `t + (q − p) × interval`. So a low-priority key waits behind
//!   a constant stream of normal ones for at most 100 intervals (100 s by default), never
//!   forever (controller-runtime#3496). Keys of equal effective priority are first in, first
//!   out.
//! * **Shutdown.** [`shut_down`](WorkQueue::shut_down) stops accepting adds, drops delayed
//!   adds that are not yet due and wakes every waiting [`get`](WorkQueue::get). As in
//!   client-go, `get` still hands out the keys that were already ready (so workers finish the
//!   queued work) and returns `None` once none is left.
//!   [`shut_down_with_drain`](WorkQueue::shut_down_with_drain) also waits until every key being
//!   processed is done.
//! * **Metrics.** Depth, adds, queue latency (add to get), work duration (get to done),
//!   unfinished work, the longest running processor and retries go to a [`MetricsProvider`]:
//!   none by default, Prometheus with upstream's metric names through [`PrometheusMetrics`].
//!
//! # Example
//!
//! ```
//! use kubernaut_informer::workqueue::{Priority, WorkQueue};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! let queue: WorkQueue<String> = WorkQueue::builder().name("configmaps").build();
//! queue.add_with_priority("default/initial".to_owned(), Priority::LOW);
//! queue.add("default/live".to_owned());
//!
//! let worker = {
//!     let queue = queue.clone();
//!     tokio::spawn(async move {
//!         let mut handled = Vec::new();
//!         while let Some((key, _priority)) = queue.get().await {
//!             let failed = false; // reconcile `key` here
//!             if failed {
//!                 queue.add_rate_limited(key.clone());
//!             } else {
//!                 queue.forget(&key);
//!             }
//!             queue.done(&key);
//!             handled.push(key);
//!         }
//!         handled
//!     })
//! };
//! // Nothing is being processed yet, so the drain ends at once; the worker still takes the
//! // keys that were queued (the live event first), then `get` returns `None`.
//! queue.shut_down_with_drain().await;
//! assert_eq!(worker.await.unwrap(), ["default/live", "default/initial"]);
//! # }
//! ```

mod metrics;
mod queue;
mod rate_limiter;
mod state;

#[cfg(test)]
mod tests;

pub use metrics::{MetricsProvider, NoopMetrics, PrometheusMetrics, PrometheusQueueMetrics};
pub use queue::{AddOptions, DEFAULT_AGING_INTERVAL, WorkQueue, WorkQueueBuilder};
pub use rate_limiter::{
    BucketRateLimiter, ItemExponentialFailureRateLimiter, MaxOfRateLimiter, RateLimiter,
    default_controller_rate_limiter,
};

use std::time::Duration;

use tokio::time::Instant;

/// How urgent an add is: higher values are handed out first (see the module documentation for
/// how waiting raises a key's effective priority).
///
/// The levels follow controller-runtime's priority queue: live events are [`NORMAL`](Self::NORMAL)
/// (0), items from the initial list and from resyncs [`LOW`](Self::LOW) (−100). Any other
/// value may be used.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Priority(i32);

impl Priority {
    /// The priority of keys from an initial list or a resync (controller-runtime's
    /// `LowPriority`).
    pub const LOW: Priority = Priority(-100);
    /// The priority of keys from live events, and of every add that names no priority.
    pub const NORMAL: Priority = Priority(0);

    /// The priority `value`.
    pub const fn new(value: i32) -> Self {
        Priority(value)
    }

    /// The numeric value.
    pub const fn get(self) -> i32 {
        self.0
    }
}

impl From<i32> for Priority {
    fn from(value: i32) -> Self {
        Priority(value)
    }
}

impl From<Priority> for i32 {
    fn from(priority: Priority) -> Self {
        priority.0
    }
}

/// About thirty years: where `now + delay` would overflow, the deadline is this far away
/// instead (tokio's own "far future").
const FAR_FUTURE: Duration = Duration::from_secs(86_400 * 365 * 30);

/// `now + delay`, saturating at [`FAR_FUTURE`] for delays that do not fit an `Instant`.
fn deadline(now: Instant, delay: Duration) -> Instant {
    now.checked_add(delay)
        .or_else(|| now.checked_add(FAR_FUTURE))
        .unwrap_or(now)
}
