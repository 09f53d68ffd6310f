//! The [`WorkQueue`] handle and its builder: the async `get`, the adds, `done`, shutdown, and
//! the task that reports unfinished work.

use std::future::Future;
use std::hash::Hash;
use std::pin::pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Weak};
use std::time::Duration;

use parking_lot::Mutex;
use tokio::sync::Notify;
use tokio::time::{Instant, MissedTickBehavior};

use super::Priority;
use super::metrics::MetricsProvider;
use super::metrics::NoopMetrics;
use super::rate_limiter::{RateLimiter, default_controller_rate_limiter};
use super::state::{Signals, State};

/// How long a key must be ready for its effective priority to rise by one level, unless the
/// builder says otherwise: a [`Priority::LOW`] key catches up with [`Priority::NORMAL`] keys
/// after 100 s.
pub const DEFAULT_AGING_INTERVAL: Duration = Duration::from_secs(1);

/// How often the unfinished-work metrics are refreshed (client-go's period).
const UNFINISHED_WORK_UPDATE_PERIOD: Duration = Duration::from_millis(500);

/// How a key is added: its priority, a delay, and whether the rate limiter adds to the delay.
///
/// ```
/// # use std::time::Duration;
/// # use kubernaut_informer::workqueue::{AddOptions, Priority};
/// let resync = AddOptions::new().priority(Priority::LOW);
/// let retry = AddOptions::new().rate_limited();
/// let later = AddOptions::new().after(Duration::from_secs(30));
/// # let _ = (resync, retry, later);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct AddOptions {
    priority: Priority,
    after: Option<Duration>,
    rate_limited: bool,
}

impl AddOptions {
    /// An immediate add at [`Priority::NORMAL`].
    pub const fn new() -> Self {
        AddOptions {
            priority: Priority::NORMAL,
            after: None,
            rate_limited: false,
        }
    }

    /// Adds at `priority`.
    #[must_use]
    pub const fn priority(mut self, priority: Priority) -> Self {
        self.priority = priority;
        self
    }

    /// Adds once `delay` has passed.
    #[must_use]
    pub const fn after(mut self, delay: Duration) -> Self {
        self.after = Some(delay);
        self
    }

    /// Records a failure with the rate limiter and adds once its delay has passed. Combined
    /// with a non-zero [`after`](Self::after), the shorter of the two delays applies (as
    /// controller-runtime's priority queue).
    #[must_use]
    pub const fn rate_limited(mut self) -> Self {
        self.rate_limited = true;
        self
    }
}

struct Shared<K> {
    name: String,
    state: Mutex<State<K>>,
    /// Wakes `get` calls: one per key that became ready, all of them when the earliest due
    /// time moved or the queue shut down.
    getters: Notify,
    /// Wakes `shut_down_with_drain` calls.
    drained: Notify,
    rate_limiter: Box<dyn RateLimiter<K>>,
    /// `Some` when metrics are reported; `true` once the unfinished-work task runs.
    metrics_task: Option<AtomicBool>,
}

impl<K> Shared<K> {
    fn signal(&self, signals: Signals) {
        if signals.all_getters {
            self.getters.notify_waiters();
        }
        for _ in 0..signals.ready {
            self.getters.notify_one();
        }
        if signals.drained {
            self.drained.notify_waiters();
        }
    }
}

/// A work queue of keys `K`: see the [module documentation](super) for its rules.
///
/// A cheap handle: clones share one queue. Every method is synchronous except
/// [`get`](Self::get) and the wait of [`shut_down_with_drain`](Self::shut_down_with_drain);
/// none holds a lock across an `.await`.
pub struct WorkQueue<K> {
    shared: Arc<Shared<K>>,
}

impl<K> Clone for WorkQueue<K> {
    fn clone(&self) -> Self {
        WorkQueue {
            shared: Arc::clone(&self.shared),
        }
    }
}

impl<K> std::fmt::Debug for WorkQueue<K> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WorkQueue")
            .field("name", &self.shared.name)
            .finish_non_exhaustive()
    }
}

impl<K> Default for WorkQueue<K>
where
    K: Clone + Eq + Hash + Send + Sync + 'static,
{
    fn default() -> Self {
        WorkQueue::new()
    }
}

impl<K> WorkQueue<K>
where
    K: Clone + Eq + Hash + Send + Sync + 'static,
{
    /// A queue without a name or metrics, with client-go's default controller rate limiter
    /// and the default aging.
    pub fn new() -> Self {
        WorkQueue::builder().build()
    }

    /// A builder to name the queue and choose its rate limiter, aging and metrics.
    pub fn builder() -> WorkQueueBuilder<K> {
        WorkQueueBuilder {
            name: String::new(),
            rate_limiter: None,
            aging: Some(DEFAULT_AGING_INTERVAL),
            metrics: None,
        }
    }

    /// The queue's name (empty unless the builder gave one).
    pub fn name(&self) -> &str {
        &self.shared.name
    }

    /// Marks `key` as needing processing, at [`Priority::NORMAL`]. Ignored after shutdown.
    pub fn add(&self, key: K) {
        self.add_with(key, AddOptions::new());
    }

    /// Marks `key` as needing processing, at `priority`. Ignored after shutdown.
    pub fn add_with_priority(&self, key: K, priority: Priority) {
        self.add_with(key, AddOptions::new().priority(priority));
    }

    /// Adds `key` once `delay` has passed (right away for a zero delay). If the key is already
    /// ready, or waits for an earlier due time, the earlier one stays. Ignored after shutdown.
    pub fn add_after(&self, key: K, delay: Duration) {
        self.add_with(key, AddOptions::new().after(delay));
    }

    /// Records a failure of `key` with the rate limiter and adds it once the limiter's delay
    /// has passed. Only this add counts failures; call [`forget`](Self::forget) once the key
    /// succeeds. Ignored after shutdown.
    pub fn add_rate_limited(&self, key: K) {
        self.add_with(key, AddOptions::new().rate_limited());
    }

    /// Adds `key` as `options` say. Ignored after shutdown.
    pub fn add_with(&self, key: K, options: AddOptions) {
        let now = Instant::now();
        let mut delay = options.after.unwrap_or_default();
        if options.rate_limited {
            if self.is_shutting_down() {
                return;
            }
            let limited = self.shared.rate_limiter.when(&key, now);
            if delay.is_zero() || limited < delay {
                delay = limited;
            }
        }
        let retry = options.after.is_some() || options.rate_limited;
        let mut signals = Signals::default();
        self.shared
            .state
            .lock()
            .add(key, options.priority, delay, retry, now, &mut signals);
        self.shared.signal(signals);
    }

    /// Waits for a ready key, marks it processing and returns it with the priority it was
    /// queued at. Call [`done`](Self::done) with the key when its processing ends.
    ///
    /// Returns `None` once the queue is shut down and no ready key is left (keys that were
    /// ready at the shutdown are still handed out, as in client-go).
    ///
    /// # Cancel safety
    ///
    /// Cancel safe. A key is taken and returned in one step with no `.await` in between, so a
    /// `get` future dropped before it completes has taken nothing, and a wake-up meant for it
    /// passes to another waiting `get`.
    pub async fn get(&self) -> Option<(K, Priority)> {
        self.start_metrics_task();
        loop {
            let mut notified = pin!(self.shared.getters.notified());
            // Registered before the state is read, so no wake-up in between is missed.
            notified.as_mut().enable();
            let next_due = {
                let mut signals = Signals::default();
                let mut state = self.shared.state.lock();
                let now = Instant::now();
                state.promote_due(now, &mut signals);
                let taken = state.pop_ready(now);
                let shutting_down = state.is_shutting_down();
                let next_due = state.next_due();
                drop(state);
                self.shared.signal(signals);
                if taken.is_some() || shutting_down {
                    return taken;
                }
                next_due
            };
            match next_due {
                Some(due) => {
                    tokio::select! {
                        () = notified.as_mut() => {}
                        () = tokio::time::sleep_until(due) => {}
                    }
                }
                None => notified.await,
            }
        }
    }

    /// Ends the processing of `key`. If the key was added while it was being processed, it is
    /// queued again now. A key that is not being processed is ignored.
    pub fn done(&self, key: &K) {
        let mut signals = Signals::default();
        self.shared
            .state
            .lock()
            .done(key, Instant::now(), &mut signals);
        self.shared.signal(signals);
    }

    /// Resets the failures the rate limiter tracks for `key` (call it when the key succeeds or
    /// is given up). It does not end processing: [`done`](Self::done) still has to be called.
    pub fn forget(&self, key: &K) {
        self.shared.rate_limiter.forget(key);
    }

    /// How many failures of `key` the rate limiter tracks.
    pub fn num_requeues(&self, key: &K) -> u32 {
        self.shared.rate_limiter.num_requeues(key)
    }

    /// The number of keys ready to be handed out now (not counting keys being processed or
    /// waiting for a due time). For information only: another handle may change it at once.
    pub fn len(&self) -> usize {
        let mut signals = Signals::default();
        let len = {
            let mut state = self.shared.state.lock();
            state.promote_due(Instant::now(), &mut signals);
            state.ready_len()
        };
        self.shared.signal(signals);
        len
    }

    /// Whether no key is ready to be handed out now.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Stops accepting adds, drops delayed adds that are not yet due, and wakes every waiting
    /// [`get`](Self::get). Calls off a [`shut_down_with_drain`](Self::shut_down_with_drain)
    /// still waiting. Calling it again does nothing more.
    pub fn shut_down(&self) {
        self.shut_down_inner(false);
    }

    /// Shuts down as [`shut_down`](Self::shut_down) does, at once, and returns a future that
    /// completes when no key is being processed any more: every key handed out has been
    /// [`done`](Self::done), including keys still handed out after the shutdown. Workers
    /// must call `done` for this to complete; a later `shut_down` ends the wait early.
    ///
    /// # Cancel safety
    ///
    /// The shutdown happens when this method is called, not when the future is polled;
    /// dropping the future only stops waiting.
    pub fn shut_down_with_drain(&self) -> impl Future<Output = ()> + Send + '_ {
        self.shut_down_inner(true);
        async move {
            loop {
                let mut drained = pin!(self.shared.drained.notified());
                drained.as_mut().enable();
                if !self.shared.state.lock().drain_pending() {
                    return;
                }
                drained.await;
            }
        }
    }

    /// Whether the queue has been shut down.
    pub fn is_shutting_down(&self) -> bool {
        self.shared.state.lock().is_shutting_down()
    }

    fn shut_down_inner(&self, drain: bool) {
        let mut signals = Signals::default();
        self.shared
            .state
            .lock()
            .shut_down(drain, Instant::now(), &mut signals);
        self.shared.signal(signals);
    }

    /// Starts the task that refreshes the unfinished-work metrics, once, if the queue has
    /// metrics and a tokio runtime is at hand.
    fn start_metrics_task(&self) {
        let Some(started) = &self.shared.metrics_task else {
            return;
        };
        if started.load(Ordering::Acquire) {
            return;
        }
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        if started.swap(true, Ordering::AcqRel) {
            return;
        }
        runtime.spawn(report_unfinished_work(Arc::downgrade(&self.shared)));
    }
}

/// Refreshes the unfinished-work metrics every 500 ms until the queue shuts down or is
/// dropped. It also moves due keys into the ready order, so the depth is current even while
/// every worker is busy.
async fn report_unfinished_work<K>(queue: Weak<Shared<K>>)
where
    K: Clone + Eq + Hash + Send + Sync + 'static,
{
    let mut ticks = tokio::time::interval(UNFINISHED_WORK_UPDATE_PERIOD);
    ticks.set_missed_tick_behavior(MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        let Some(shared) = queue.upgrade() else {
            return;
        };
        let mut signals = Signals::default();
        {
            let mut state = shared.state.lock();
            if state.is_shutting_down() {
                return;
            }
            let now = Instant::now();
            state.promote_due(now, &mut signals);
            state.report_unfinished_work(now);
        }
        shared.signal(signals);
    }
}

/// Builds a [`WorkQueue`]: see [`WorkQueue::builder`].
pub struct WorkQueueBuilder<K> {
    name: String,
    rate_limiter: Option<Box<dyn RateLimiter<K>>>,
    aging: Option<Duration>,
    metrics: Option<Arc<dyn MetricsProvider>>,
}

impl<K> std::fmt::Debug for WorkQueueBuilder<K> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WorkQueueBuilder")
            .field("name", &self.name)
            .field("aging", &self.aging)
            .finish_non_exhaustive()
    }
}

impl<K> WorkQueueBuilder<K>
where
    K: Clone + Eq + Hash + Send + Sync + 'static,
{
    /// Names the queue (the `name` label of its metrics).
    #[must_use]
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = name.into();
        self
    }

    /// Uses `rate_limiter` for [`WorkQueue::add_rate_limited`] instead of
    /// [`default_controller_rate_limiter`].
    #[must_use]
    pub fn rate_limiter(mut self, rate_limiter: impl RateLimiter<K> + 'static) -> Self {
        self.rate_limiter = Some(Box::new(rate_limiter));
        self
    }

    /// Raises a ready key's effective priority by one level for every `interval` it waits
    /// (default [`DEFAULT_AGING_INTERVAL`]). A zero interval ignores priorities: first in,
    /// first out.
    #[must_use]
    pub fn aging_interval(mut self, interval: Duration) -> Self {
        self.aging = Some(interval);
        self
    }

    /// Strict priorities: a ready key waits as long as any key of a higher priority is ready,
    /// however long that is (controller-runtime's behaviour, which can starve low priorities).
    #[must_use]
    pub fn without_aging(mut self) -> Self {
        self.aging = None;
        self
    }

    /// Reports the queue's measurements to `metrics`, for example
    /// [`PrometheusMetrics::for_queue`](super::PrometheusMetrics::for_queue). The
    /// unfinished-work figures are refreshed every 500 ms by a task on the tokio runtime,
    /// started by [`build`](Self::build) (or by the first [`WorkQueue::get`] when `build` ran
    /// outside a runtime); it ends when the queue shuts down or is dropped.
    #[must_use]
    pub fn metrics(mut self, metrics: impl MetricsProvider) -> Self {
        self.metrics = Some(Arc::new(metrics));
        self
    }

    /// The queue.
    pub fn build(self) -> WorkQueue<K> {
        let has_metrics = self.metrics.is_some();
        let metrics = self.metrics.unwrap_or_else(|| Arc::new(NoopMetrics));
        let queue = WorkQueue {
            shared: Arc::new(Shared {
                name: self.name,
                state: Mutex::new(State::new(Instant::now(), self.aging, metrics)),
                getters: Notify::new(),
                drained: Notify::new(),
                rate_limiter: self
                    .rate_limiter
                    .unwrap_or_else(|| Box::new(default_controller_rate_limiter())),
                metrics_task: has_metrics.then(|| AtomicBool::new(false)),
            }),
        };
        queue.start_metrics_task();
        queue
    }
}
