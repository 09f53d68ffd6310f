//! Behaviour of the whole queue under paused tokio time: readiness and wake-ups of `get`
//! (polled by hand, as tower's limit tests do), each rule on its own, metrics, cancel safety,
//! and property tests that drive random operations against a small reference model.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use futures::FutureExt;
use futures::task::ArcWake;
use parking_lot::Mutex;
use proptest::prelude::*;
use tokio::time::{Instant, advance};

use super::*;

fn ms(millis: u64) -> Duration {
    Duration::from_millis(millis)
}

/// Counts the wake-ups of the task polling a future.
#[derive(Default)]
struct Wakes(AtomicUsize);

impl ArcWake for Wakes {
    fn wake_by_ref(arc_self: &Arc<Self>) {
        arc_self.0.fetch_add(1, Ordering::SeqCst);
    }
}

/// A future polled by hand, remembering whether it was woken since its last poll.
struct Task<F> {
    future: Pin<Box<F>>,
    wakes: Arc<Wakes>,
}

impl<F: Future> Task<F> {
    fn new(future: F) -> Self {
        Task {
            future: Box::pin(future),
            wakes: Arc::default(),
        }
    }

    fn poll(&mut self) -> Poll<F::Output> {
        self.wakes.0.store(0, Ordering::SeqCst);
        let waker = futures::task::waker(Arc::clone(&self.wakes));
        self.future.as_mut().poll(&mut Context::from_waker(&waker))
    }

    fn is_woken(&self) -> bool {
        self.wakes.0.load(Ordering::SeqCst) > 0
    }
}

/// A queue whose failures back off from 5 ms to 1000 s and that has no token bucket.
fn queue() -> WorkQueue<&'static str> {
    WorkQueue::builder()
        .rate_limiter(ItemExponentialFailureRateLimiter::new(
            ms(5),
            Duration::from_secs(1000),
        ))
        .build()
}

/// Takes a ready key without waiting.
fn take<K>(queue: &WorkQueue<K>) -> Option<K>
where
    K: Clone + Eq + std::hash::Hash + Send + Sync + 'static,
{
    queue
        .get()
        .now_or_never()
        .map(|got| got.expect("the queue is not shut down").0)
}

// ===== dedup and one worker per key =====

#[tokio::test(start_paused = true)]
async fn a_key_added_while_waiting_is_queued_once() {
    let queue = queue();
    queue.add("a");
    queue.add("b");
    queue.add("a");
    queue.add_with_priority("a", Priority::LOW);
    assert_eq!(queue.len(), 2);
    assert_eq!(take(&queue), Some("a"));
    assert_eq!(take(&queue), Some("b"));
    assert_eq!(take(&queue), None);
}

#[tokio::test(start_paused = true)]
async fn a_key_added_while_processing_is_processed_again_after_done() {
    let queue = queue();
    queue.add("a");
    assert_eq!(take(&queue), Some("a"));
    queue.add("a");
    queue.add("a");
    // Held: not handed out to a second worker while the first processes it.
    assert_eq!(queue.len(), 0);
    let mut second = Task::new(queue.get());
    assert!(second.poll().is_pending());
    assert!(!second.is_woken());

    queue.done(&"a");
    assert!(second.is_woken());
    assert_eq!(second.poll(), Poll::Ready(Some(("a", Priority::NORMAL))));
    drop(second);
    // Once, however many adds arrived meanwhile.
    queue.done(&"a");
    assert_eq!(take(&queue), None);
}

#[tokio::test(start_paused = true)]
async fn done_for_a_key_not_being_processed_is_ignored() {
    let queue = queue();
    queue.done(&"never-added");
    queue.add("a");
    queue.done(&"a");
    assert_eq!(take(&queue), Some("a"));
    queue.done(&"a");
    queue.done(&"a");
    assert_eq!(take(&queue), None);
}

// ===== readiness and wake-ups =====

#[tokio::test(start_paused = true)]
async fn get_waits_for_an_add_and_is_woken_by_it() {
    let queue = queue();
    let mut get = Task::new(queue.get());
    assert!(get.poll().is_pending());
    assert!(!get.is_woken());
    queue.add("a");
    assert!(get.is_woken());
    assert_eq!(get.poll(), Poll::Ready(Some(("a", Priority::NORMAL))));
}

#[tokio::test(start_paused = true)]
async fn one_add_wakes_one_getter() {
    let queue = queue();
    let mut first = Task::new(queue.get());
    let mut second = Task::new(queue.get());
    assert!(first.poll().is_pending());
    assert!(second.poll().is_pending());

    queue.add("a");
    assert!(first.is_woken());
    assert!(!second.is_woken());
    assert_eq!(first.poll(), Poll::Ready(Some(("a", Priority::NORMAL))));

    queue.add("b");
    assert!(second.is_woken());
    assert_eq!(second.poll(), Poll::Ready(Some(("b", Priority::NORMAL))));
}

// ===== delayed adds =====

#[tokio::test(start_paused = true)]
async fn a_delayed_key_is_handed_out_when_due_and_not_before() {
    let queue = queue();
    let mut get = Task::new(queue.get());
    assert!(get.poll().is_pending());
    queue.add_after("a", Duration::from_secs(1));
    // Woken to arm its timer for the new due time.
    assert!(get.is_woken());
    assert!(get.poll().is_pending());

    advance(ms(999)).await;
    assert!(!get.is_woken());
    assert!(get.poll().is_pending());
    advance(ms(1)).await;
    assert!(get.is_woken());
    assert_eq!(get.poll(), Poll::Ready(Some(("a", Priority::NORMAL))));
}

#[tokio::test(start_paused = true)]
async fn a_zero_delay_adds_right_away() {
    let queue = queue();
    queue.add_after("a", Duration::ZERO);
    assert_eq!(take(&queue), Some("a"));
}

#[tokio::test(start_paused = true)]
async fn the_earliest_due_time_wins() {
    let queue = queue();
    queue.add_after("a", Duration::from_secs(10));
    queue.add_after("a", Duration::from_secs(1));
    queue.add_after("b", Duration::from_secs(1));
    queue.add_after("b", Duration::from_secs(10));
    advance(ms(999)).await;
    assert_eq!(take(&queue), None);
    advance(ms(1)).await;
    assert_eq!(take(&queue), Some("a"));
    assert_eq!(take(&queue), Some("b"));
    queue.done(&"a");
    queue.done(&"b");
    // The later adds were merged into the earlier ones, not kept for later.
    advance(Duration::from_secs(60)).await;
    assert_eq!(take(&queue), None);
}

#[tokio::test(start_paused = true)]
async fn an_immediate_add_replaces_a_delayed_one() {
    let queue = queue();
    queue.add_after("a", Duration::from_secs(5));
    queue.add("a");
    assert_eq!(take(&queue), Some("a"));
    queue.done(&"a");
    advance(Duration::from_secs(10)).await;
    assert_eq!(take(&queue), None);
}

#[tokio::test(start_paused = true)]
async fn a_delayed_add_during_processing_waits_for_both_done_and_due() {
    let queue = queue();
    queue.add("a");
    assert_eq!(take(&queue), Some("a"));
    queue.add_after("a", ms(100));
    advance(ms(200)).await;
    // Due, but still being processed.
    assert_eq!(take(&queue), None);
    queue.done(&"a");
    assert_eq!(take(&queue), Some("a"));

    queue.add_after("a", ms(100));
    queue.done(&"a");
    // Done, but not yet due.
    assert_eq!(take(&queue), None);
    advance(ms(100)).await;
    assert_eq!(take(&queue), Some("a"));
}

#[tokio::test(start_paused = true)]
async fn a_getter_sleeping_for_an_earlier_due_time_is_rearmed() {
    let queue = queue();
    queue.add_after("late", Duration::from_secs(10));
    let mut get = Task::new(queue.get());
    assert!(get.poll().is_pending());
    queue.add_after("early", Duration::from_secs(1));
    assert!(get.is_woken());
    assert!(get.poll().is_pending());
    advance(Duration::from_secs(1)).await;
    assert!(get.is_woken());
    assert_eq!(get.poll(), Poll::Ready(Some(("early", Priority::NORMAL))));
}

// ===== rate limits =====

#[tokio::test(start_paused = true)]
async fn failures_back_off_exponentially_until_forgotten() {
    let queue = queue();
    queue.add("a");
    for failure in 0..12u32 {
        assert_eq!(take(&queue), Some("a"));
        queue.add_rate_limited("a");
        queue.done(&"a");
        assert_eq!(queue.num_requeues(&"a"), failure + 1);
        let backoff = ms(5) * 2u32.pow(failure);
        advance(backoff - Duration::from_nanos(1)).await;
        assert_eq!(take(&queue), None, "failure {failure} came back early");
        advance(Duration::from_nanos(1)).await;
    }
    assert_eq!(take(&queue), Some("a"));
    queue.forget(&"a");
    queue.done(&"a");
    assert_eq!(queue.num_requeues(&"a"), 0);
    queue.add_rate_limited("a");
    advance(ms(5)).await;
    assert_eq!(take(&queue), Some("a"));
}

#[tokio::test(start_paused = true)]
async fn plain_and_delayed_adds_count_no_failure() {
    let queue = queue();
    queue.add("a");
    queue.add_after("a", ms(10));
    assert_eq!(take(&queue), Some("a"));
    queue.add("a");
    queue.done(&"a");
    assert_eq!(queue.num_requeues(&"a"), 0);
}

/// kubernetes/kubernetes#132805: while a key backs off, unrelated events re-queue it and each
/// early attempt fails; client-go would count every one of them.
#[tokio::test(start_paused = true)]
async fn spurious_adds_of_a_failing_key_do_not_escalate_its_backoff() {
    let queue = queue();
    queue.add("rs");
    assert_eq!(take(&queue), Some("rs"));
    queue.add_rate_limited("rs");
    queue.done(&"rs");
    advance(ms(5)).await;
    assert_eq!(take(&queue), Some("rs"));
    queue.add_rate_limited("rs");
    queue.done(&"rs");
    assert_eq!(queue.num_requeues(&"rs"), 2);
    // Backing off until 15 ms; a pod event every millisecond triggers an early attempt.
    for _ in 0..9 {
        advance(ms(1)).await;
        queue.add("rs");
        assert_eq!(take(&queue), Some("rs"));
        queue.add_rate_limited("rs");
        queue.done(&"rs");
        assert_eq!(queue.num_requeues(&"rs"), 2);
    }
    // The retry still comes when the backoff ends, and the next failure doubles it once.
    advance(ms(1)).await;
    assert_eq!(take(&queue), Some("rs"));
    queue.add_rate_limited("rs");
    queue.done(&"rs");
    assert_eq!(queue.num_requeues(&"rs"), 3);
    advance(ms(20) - Duration::from_nanos(1)).await;
    assert_eq!(take(&queue), None);
    advance(Duration::from_nanos(1)).await;
    assert_eq!(take(&queue), Some("rs"));
}

#[tokio::test(start_paused = true)]
async fn the_default_limiter_spreads_a_burst_of_retries_with_its_token_bucket() {
    let queue: WorkQueue<u32> = WorkQueue::new();
    for key in 0..103 {
        queue.add_rate_limited(key);
    }
    // The first 100 retries fit the burst and wait only for their 5 ms backoff.
    advance(ms(5)).await;
    assert_eq!(queue.len(), 100);
    // Then one every 100 ms.
    advance(ms(95)).await;
    assert_eq!(queue.len(), 101);
    advance(ms(99)).await;
    assert_eq!(queue.len(), 101);
    advance(ms(1)).await;
    assert_eq!(queue.len(), 102);
    advance(ms(100)).await;
    assert_eq!(queue.len(), 103);
}

#[tokio::test(start_paused = true)]
async fn a_rate_limited_add_with_a_delay_takes_the_shorter_wait() {
    let queue = queue();
    queue.add_with(
        "a",
        AddOptions::new()
            .rate_limited()
            .after(Duration::from_secs(60)),
    );
    advance(ms(5)).await;
    assert_eq!(take(&queue), Some("a"));
    assert_eq!(queue.num_requeues(&"a"), 1);
}

// ===== priorities =====

#[tokio::test(start_paused = true)]
async fn higher_priorities_are_handed_out_first() {
    let queue = queue();
    queue.add_with_priority("resync", Priority::LOW);
    queue.add("event");
    queue.add_with_priority("urgent", Priority::new(10));
    queue.add_with_priority("resync-2", Priority::LOW);
    let order: Vec<_> = std::iter::from_fn(|| take(&queue)).collect();
    assert_eq!(order, ["urgent", "event", "resync", "resync-2"]);
}

#[tokio::test(start_paused = true)]
async fn get_reports_the_highest_priority_of_the_merged_adds() {
    let queue = queue();
    queue.add_with_priority("a", Priority::LOW);
    queue.add_with(
        "a",
        AddOptions::new()
            .priority(Priority::new(7))
            .after(Duration::from_secs(1)),
    );
    assert_eq!(
        queue.get().now_or_never(),
        Some(Some(("a", Priority::new(7))))
    );
}

/// One worker takes a key every 100 ms while live events arrive at the same rate, so the
/// queue never empties. A low-priority key added at `t0` must be handed out before every
/// normal key that arrived after `t0 + 100 × interval`, and so within that time plus the
/// backlog that was ahead of it.
#[tokio::test(start_paused = true)]
async fn aging_bounds_the_wait_of_a_low_priority_key_under_a_constant_stream() {
    const LOW: u64 = u64::MAX;
    const BACKLOG: u64 = 10;
    let tick = ms(100);
    let queue: WorkQueue<u64> = WorkQueue::new();
    let bound = DEFAULT_AGING_INTERVAL * 100;
    let t0 = Instant::now();
    let mut added_at = HashMap::new();
    for key in 0..BACKLOG {
        queue.add(key);
        added_at.insert(key, t0);
    }
    queue.add_with_priority(LOW, Priority::LOW);
    let mut next = BACKLOG;
    let served_at = loop {
        let now = Instant::now();
        assert!(now - t0 < bound * 3, "the low-priority key starved");
        queue.add(next);
        added_at.insert(next, now);
        next += 1;
        let key = take(&queue).expect("the queue never empties");
        if key == LOW {
            break now;
        }
        assert!(
            added_at[&key] <= t0 + bound,
            "a normal key added {:?} after the low one went first",
            added_at[&key] - t0
        );
        queue.done(&key);
        advance(tick).await;
    };
    // Everything that was ahead of it: the backlog and one key per tick until the bound.
    assert!(served_at - t0 <= bound + tick * u32::try_from(BACKLOG).unwrap());
    // And it did overtake the keys that arrived after the bound.
    assert!(added_at.values().any(|&at| at > t0 + bound));
}

#[tokio::test(start_paused = true)]
async fn without_aging_a_constant_stream_starves_a_low_priority_key() {
    let queue: WorkQueue<u64> = WorkQueue::builder().without_aging().build();
    queue.add(0);
    queue.add_with_priority(u64::MAX, Priority::LOW);
    for next in 1..3000 {
        queue.add(next);
        let key = take(&queue).expect("the queue never empties");
        assert_ne!(key, u64::MAX);
        queue.done(&key);
        advance(ms(100)).await;
    }
}

#[tokio::test(start_paused = true)]
async fn a_zero_aging_interval_is_first_in_first_out() {
    let queue: WorkQueue<&str> = WorkQueue::builder().aging_interval(Duration::ZERO).build();
    queue.add_with_priority("low", Priority::LOW);
    queue.add_with_priority("high", Priority::new(100));
    assert_eq!(take(&queue), Some("low"));
    assert_eq!(take(&queue), Some("high"));
}

// ===== shutdown =====

#[tokio::test(start_paused = true)]
async fn shut_down_wakes_waiting_getters_with_none() {
    let queue = queue();
    let mut first = Task::new(queue.get());
    let mut second = Task::new(queue.get());
    assert!(first.poll().is_pending());
    assert!(second.poll().is_pending());
    queue.shut_down();
    assert!(first.is_woken());
    assert!(second.is_woken());
    assert_eq!(first.poll(), Poll::Ready(None));
    assert_eq!(second.poll(), Poll::Ready(None));
    assert!(queue.is_shutting_down());
}

#[tokio::test(start_paused = true)]
async fn after_shut_down_ready_keys_are_still_handed_out_and_adds_are_refused() {
    let queue = queue();
    queue.add("ready");
    queue.add_after("delayed", ms(10));
    queue.shut_down();
    queue.add("refused");
    queue.add_after("refused-later", ms(1));
    queue.add_rate_limited("refused-retry");
    assert_eq!(queue.num_requeues(&"refused-retry"), 0);
    assert_eq!(
        queue.get().now_or_never(),
        Some(Some(("ready", Priority::NORMAL)))
    );
    advance(ms(100)).await;
    assert_eq!(queue.get().now_or_never(), Some(None));
}

#[tokio::test(start_paused = true)]
async fn shut_down_with_drain_waits_until_processing_keys_are_done() {
    let queue = queue();
    queue.add("a");
    queue.add("b");
    assert_eq!(take(&queue), Some("a"));
    assert_eq!(take(&queue), Some("b"));
    queue.add("a");

    let mut drain = Task::new(queue.shut_down_with_drain());
    assert!(queue.is_shutting_down());
    assert!(drain.poll().is_pending());
    queue.done(&"b");
    assert!(!drain.is_woken());
    assert!(drain.poll().is_pending());
    // "a" was added while processing: done queues it again, and a worker still gets it.
    queue.done(&"a");
    assert!(drain.is_woken());
    assert_eq!(drain.poll(), Poll::Ready(()));
    assert_eq!(take(&queue), Some("a"));
    assert_eq!(queue.get().now_or_never(), Some(None));
}

#[tokio::test(start_paused = true)]
async fn shut_down_calls_off_a_drain() {
    let queue = queue();
    queue.add("stuck");
    assert_eq!(take(&queue), Some("stuck"));
    let mut drain = Task::new(queue.shut_down_with_drain());
    assert!(drain.poll().is_pending());
    queue.shut_down();
    assert!(drain.is_woken());
    assert_eq!(drain.poll(), Poll::Ready(()));
}

#[tokio::test(start_paused = true)]
async fn a_drain_with_nothing_processing_completes_at_once() {
    let queue = queue();
    queue.add("never-taken");
    assert_eq!(queue.shut_down_with_drain().now_or_never(), Some(()));
}

// ===== cancel safety =====

#[tokio::test(start_paused = true)]
async fn a_dropped_get_passes_its_wake_up_to_another_getter() {
    let queue = queue();
    let mut first = Task::new(queue.get());
    let mut second = Task::new(queue.get());
    assert!(first.poll().is_pending());
    assert!(second.poll().is_pending());
    queue.add("a");
    assert!(first.is_woken());
    assert!(!second.is_woken());
    drop(first);
    assert!(second.is_woken());
    assert_eq!(second.poll(), Poll::Ready(Some(("a", Priority::NORMAL))));
}

#[tokio::test(start_paused = true)]
async fn a_get_dropped_while_waiting_for_a_due_key_takes_nothing() {
    let queue = queue();
    queue.add_after("a", ms(10));
    let mut get = Task::new(queue.get());
    assert!(get.poll().is_pending());
    drop(get);
    advance(ms(10)).await;
    assert_eq!(queue.len(), 1);
    assert_eq!(take(&queue), Some("a"));
}

#[tokio::test(start_paused = true)]
async fn a_get_cancelled_by_a_timeout_takes_nothing() {
    let queue = queue();
    let timed_out = tokio::time::timeout(ms(10), queue.get()).await;
    assert!(timed_out.is_err());
    queue.add("a");
    assert_eq!(take(&queue), Some("a"));
}

#[tokio::test(start_paused = true)]
async fn dropping_the_drain_future_keeps_the_queue_shut_down() {
    let queue = queue();
    queue.add("a");
    assert_eq!(take(&queue), Some("a"));
    drop(queue.shut_down_with_drain());
    assert!(queue.is_shutting_down());
    queue.add("b");
    queue.done(&"a");
    assert_eq!(queue.get().now_or_never(), Some(None));
}

/// Typechecks only: the public futures can move to another thread.
#[test]
fn public_futures_are_send() {
    fn assert_send<T: Send>(_: &T) {}
    fn check<K: Clone + Eq + std::hash::Hash + Send + Sync + 'static>(queue: &WorkQueue<K>) {
        assert_send(&queue.get());
        assert_send(&queue.shut_down_with_drain());
    }
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<WorkQueue<String>>();
    assert_send_sync::<WorkQueueBuilder<String>>();
    check(&WorkQueue::<String>::new());
}

// ===== metrics =====

#[derive(Clone, Debug, PartialEq)]
enum Measured {
    Add,
    Depth(usize),
    Queued(Duration),
    Worked(Duration),
    Unfinished(Duration, Duration),
    Retry,
}

#[derive(Clone, Default)]
struct Recorder(Arc<Mutex<Vec<Measured>>>);

impl Recorder {
    /// The measurements since the last call, without the periodic unfinished-work reports.
    fn take(&self) -> Vec<Measured> {
        let mut all = self.0.lock();
        let taken = all
            .iter()
            .filter(|m| !matches!(m, Measured::Unfinished(..)))
            .cloned()
            .collect();
        all.clear();
        taken
    }

    fn last_unfinished(&self) -> Option<Measured> {
        self.0
            .lock()
            .iter()
            .rev()
            .find(|m| matches!(m, Measured::Unfinished(..)))
            .cloned()
    }
}

impl MetricsProvider for Recorder {
    fn add(&self) {
        self.0.lock().push(Measured::Add);
    }
    fn depth(&self, depth: usize) {
        self.0.lock().push(Measured::Depth(depth));
    }
    fn queue_duration(&self, waited: Duration) {
        self.0.lock().push(Measured::Queued(waited));
    }
    fn work_duration(&self, worked: Duration) {
        self.0.lock().push(Measured::Worked(worked));
    }
    fn unfinished_work(&self, total: Duration, longest: Duration) {
        self.0.lock().push(Measured::Unfinished(total, longest));
    }
    fn retry(&self) {
        self.0.lock().push(Measured::Retry);
    }
}

#[tokio::test(start_paused = true)]
async fn metrics_follow_client_go() {
    use Measured::*;
    let recorder = Recorder::default();
    let queue: WorkQueue<&str> = WorkQueue::builder()
        .name("test")
        .metrics(recorder.clone())
        .build();

    queue.add("a");
    queue.add("a");
    assert_eq!(
        recorder.take(),
        [Add, Depth(1)],
        "a deduplicated add is not counted"
    );
    queue.add_after("b", Duration::from_secs(1));
    assert_eq!(
        recorder.take(),
        [Retry],
        "a delayed add is counted when due"
    );

    advance(ms(250)).await;
    assert_eq!(take(&queue), Some("a"));
    assert_eq!(recorder.take(), [Depth(0), Queued(ms(250))]);

    advance(Duration::from_secs(1)).await;
    assert_eq!(take(&queue), Some("b"));
    // Ready since its due time, 250 ms ago.
    assert_eq!(recorder.take(), [Add, Depth(1), Depth(0), Queued(ms(250))]);

    queue.add("a");
    assert_eq!(
        recorder.take(),
        [Add, Depth(1)],
        "held while processing, still counted"
    );
    advance(ms(500)).await;
    queue.done(&"a");
    queue.done(&"b");
    assert_eq!(recorder.take(), [Worked(ms(1500)), Worked(ms(500))]);
    assert_eq!(queue.len(), 1);
}

#[tokio::test(start_paused = true)]
async fn unfinished_work_is_reported_every_half_second() {
    let recorder = Recorder::default();
    let queue: WorkQueue<&str> = WorkQueue::builder().metrics(recorder.clone()).build();
    queue.add("a");
    queue.add_after("b", Duration::from_secs(1));
    assert_eq!(take(&queue), Some("a"));
    advance(Duration::from_secs(1)).await;
    assert_eq!(take(&queue), Some("b"));
    advance(Duration::from_secs(1)).await;
    tokio::task::yield_now().await;
    assert_eq!(
        recorder.last_unfinished(),
        Some(Measured::Unfinished(
            Duration::from_secs(3),
            Duration::from_secs(2)
        ))
    );
    queue.done(&"a");
    queue.done(&"b");
    advance(ms(500)).await;
    tokio::task::yield_now().await;
    assert_eq!(
        recorder.last_unfinished(),
        Some(Measured::Unfinished(Duration::ZERO, Duration::ZERO))
    );
}

#[tokio::test(start_paused = true)]
async fn the_metrics_task_keeps_the_depth_current_while_workers_are_busy() {
    let recorder = Recorder::default();
    let queue: WorkQueue<&str> = WorkQueue::builder().metrics(recorder.clone()).build();
    queue.add_after("a", ms(100));
    assert_eq!(recorder.take(), [Measured::Retry]);
    // No `get` runs: the task's next report moves the due key into the ready order.
    for _ in 0..2 {
        advance(ms(500)).await;
        tokio::task::yield_now().await;
    }
    assert_eq!(recorder.take(), [Measured::Add, Measured::Depth(1)]);
}

#[tokio::test(start_paused = true)]
async fn prometheus_metrics_use_upstream_names() {
    let mut registry = prometheus_client::registry::Registry::default();
    let metrics = PrometheusMetrics::register(&mut registry);
    let queue: WorkQueue<&str> = WorkQueue::builder()
        .name("pods")
        .metrics(metrics.for_queue("pods"))
        .build();
    let other: WorkQueue<&str> = WorkQueue::builder()
        .name("nodes")
        .metrics(metrics.for_queue("nodes"))
        .build();

    queue.add("a");
    queue.add("b");
    queue.add_rate_limited("c");
    other.add("n");
    advance(ms(250)).await;
    assert_eq!(take(&queue), Some("a"));
    advance(ms(500)).await;
    queue.done(&"a");
    assert_eq!(take(&queue), Some("b"));
    advance(Duration::from_secs(2)).await;
    tokio::task::yield_now().await;

    let mut text = String::new();
    prometheus_client::encoding::text::encode(&mut text, &registry).unwrap();
    for line in [
        "# TYPE workqueue_depth gauge",
        r#"workqueue_depth{name="pods"} 1"#,
        r#"workqueue_depth{name="nodes"} 1"#,
        "# TYPE workqueue_adds counter",
        r#"workqueue_adds_total{name="pods"} 3"#,
        r#"workqueue_adds_total{name="nodes"} 1"#,
        "# TYPE workqueue_queue_duration_seconds histogram",
        r#"workqueue_queue_duration_seconds_count{name="pods"} 2"#,
        r#"workqueue_queue_duration_seconds_sum{name="pods"} 1.0"#,
        r#"workqueue_queue_duration_seconds_bucket{le="1.0",name="pods"} 2"#,
        r#"workqueue_queue_duration_seconds_bucket{le="0.1",name="pods"} 0"#,
        "# TYPE workqueue_work_duration_seconds histogram",
        r#"workqueue_work_duration_seconds_count{name="pods"} 1"#,
        r#"workqueue_work_duration_seconds_sum{name="pods"} 0.5"#,
        "# TYPE workqueue_unfinished_work_seconds gauge",
        r#"workqueue_unfinished_work_seconds{name="pods"} 2.0"#,
        "# TYPE workqueue_longest_running_processor_seconds gauge",
        r#"workqueue_longest_running_processor_seconds{name="pods"} 2.0"#,
        "# TYPE workqueue_retries counter",
        r#"workqueue_retries_total{name="pods"} 1"#,
    ] {
        assert!(
            text.lines().any(|l| l == line),
            "missing {line:?} in\n{text}"
        );
    }
}

// ===== concurrent workers =====

fn paused_runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .start_paused(true)
        .build()
        .expect("a current-thread runtime")
}

/// What the workers saw, in one order of events.
#[derive(Default)]
struct Journal {
    clock: u64,
    in_flight: HashSet<u8>,
    last_add: HashMap<u8, u64>,
    last_start: HashMap<u8, u64>,
    starts: HashMap<u8, u32>,
    overlaps: Vec<u8>,
}

impl Journal {
    fn tick(&mut self) -> u64 {
        self.clock += 1;
        self.clock
    }
}

async fn worker(queue: WorkQueue<u8>, journal: Arc<Mutex<Journal>>, work: Vec<u64>) {
    let mut turn = 0;
    while let Some((key, _)) = queue.get().await {
        let first = {
            let mut journal = journal.lock();
            if !journal.in_flight.insert(key) {
                journal.overlaps.push(key);
            }
            let at = journal.tick();
            journal.last_start.insert(key, at);
            let starts = journal.starts.entry(key).or_default();
            *starts += 1;
            *starts == 1
        };
        tokio::time::sleep(ms(work[turn % work.len()])).await;
        turn += 1;
        {
            let mut journal = journal.lock();
            journal.in_flight.remove(&key);
            if first {
                // Every key fails its first attempt.
                let at = journal.tick();
                journal.last_add.insert(key, at);
                queue.add_rate_limited(key);
            } else {
                queue.forget(&key);
            }
        }
        queue.done(&key);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    /// Several worker tasks share the queue while a producer adds keys with random gaps,
    /// delays and priorities: no key is ever processed by two workers at once, every add is
    /// followed by a processing of its key, and the drain ends the workers.
    #[test]
    fn concurrent_workers_never_share_a_key_and_lose_no_add(
        plan in proptest::collection::vec((0u8..6, 0u64..50, 0u64..30, any::<bool>()), 1..80),
        workers in 1usize..5,
        work in proptest::collection::vec(1u64..40, 1..8),
    ) {
        let journal = Arc::new(Mutex::new(Journal::default()));
        let (drained, workers_ended) = paused_runtime().block_on(async {
            let queue: WorkQueue<u8> = WorkQueue::new();
            let handles: Vec<_> = (0..workers)
                .map(|n| {
                    let mut work = work.clone();
                    let turns = n % work.len();
                    work.rotate_left(turns);
                    tokio::spawn(worker(queue.clone(), Arc::clone(&journal), work))
                })
                .collect();
            for (key, delay, gap, low) in plan {
                {
                    let mut journal = journal.lock();
                    let at = journal.tick();
                    journal.last_add.insert(key, at);
                }
                let priority = if low { Priority::LOW } else { Priority::NORMAL };
                queue.add_with(key, AddOptions::new().after(ms(delay)).priority(priority));
                tokio::time::sleep(ms(gap)).await;
            }
            // Long enough for every delay, backoff and piece of work to pass.
            tokio::time::sleep(Duration::from_secs(3600)).await;
            // Paused time jumps to these deadlines if the queue ever stalls.
            let limit = Duration::from_secs(3600);
            let drained = tokio::time::timeout(limit, queue.shut_down_with_drain()).await.is_ok();
            queue.shut_down();
            let mut workers_ended = true;
            for handle in handles {
                let ended = tokio::time::timeout(limit, handle).await;
                workers_ended &= matches!(ended, Ok(Ok(())));
            }
            (drained, workers_ended)
        });
        prop_assert!(drained, "the drain never completed");
        prop_assert!(workers_ended, "a worker panicked or never saw the shutdown");
        let journal = journal.lock();
        prop_assert!(journal.overlaps.is_empty(), "processed concurrently: {:?}", journal.overlaps);
        for (key, added) in &journal.last_add {
            let started = journal.last_start.get(key).copied().unwrap_or(0);
            prop_assert!(started > *added, "the last add of {key} was never processed");
        }
    }
}

// ===== the reference model =====

const KEYS: u8 = 4;
const AGING: Duration = Duration::from_millis(10);
const BASE: Duration = Duration::from_millis(5);
const MAX: Duration = Duration::from_secs(1);

#[derive(Clone, Debug)]
enum Op {
    Add(u8, Priority),
    AddAfter(u8, u64, Priority),
    AddRateLimited(u8),
    Get,
    Done(u8),
    Forget(u8),
    Advance(u64),
}

fn op() -> impl Strategy<Value = Op> {
    let priority = prop_oneof![
        Just(Priority::LOW),
        Just(Priority::NORMAL),
        Just(Priority::new(5))
    ];
    prop_oneof![
        3 => (0..KEYS, priority.clone()).prop_map(|(key, p)| Op::Add(key, p)),
        2 => (0..KEYS, 0u64..1500, priority).prop_map(|(key, d, p)| Op::AddAfter(key, d, p)),
        2 => (0..KEYS).prop_map(Op::AddRateLimited),
        4 => Just(Op::Get),
        3 => any::<u8>().prop_map(Op::Done),
        1 => (0..KEYS).prop_map(Op::Forget),
        2 => prop_oneof![0u64..20, 0u64..2000].prop_map(Op::Advance),
    ]
}

#[derive(Clone, Copy, Debug)]
enum Want {
    Ready { priority: Priority, since: Instant },
    Waiting { priority: Priority, due: Instant },
}

/// The rules of the module documentation, written as directly as possible.
struct Model {
    epoch: Instant,
    pending: HashMap<u8, Want>,
    processing: BTreeSet<u8>,
    /// Per key: counted failures and the end of the current backoff.
    failures: HashMap<u8, (u32, Instant)>,
}

impl Model {
    fn promote(&mut self, now: Instant) {
        for want in self.pending.values_mut() {
            if let Want::Waiting { priority, due } = *want
                && due <= now
            {
                *want = Want::Ready {
                    priority,
                    since: due,
                };
            }
        }
    }

    fn add(&mut self, key: u8, priority: Priority, delay: Duration, now: Instant) {
        self.promote(now);
        let due = now + delay;
        let want = match self.pending.get(&key).copied() {
            None if delay.is_zero() => Want::Ready {
                priority,
                since: now,
            },
            None => Want::Waiting { priority, due },
            Some(Want::Ready {
                priority: current,
                since,
            }) => Want::Ready {
                priority: current.max(priority),
                since,
            },
            Some(Want::Waiting {
                priority: current, ..
            }) if delay.is_zero() => Want::Ready {
                priority: current.max(priority),
                since: now,
            },
            Some(Want::Waiting {
                priority: current,
                due: current_due,
            }) => Want::Waiting {
                priority: current.max(priority),
                due: current_due.min(due),
            },
        };
        self.pending.insert(key, want);
    }

    /// The backoff rule: `base × 2^failures` up to `max`, counted only once the previous
    /// backoff has passed.
    fn when(&mut self, key: u8, now: Instant) -> Duration {
        if let Some(&(_, retry_at)) = self.failures.get(&key)
            && now < retry_at
        {
            return retry_at - now;
        }
        let count = self.failures.get(&key).map_or(0, |&(count, _)| count);
        let delay = if count >= 30 {
            MAX
        } else {
            (BASE * (1u32 << count)).min(MAX)
        };
        self.failures.insert(key, (count + 1, now + delay));
        delay
    }

    /// Keys that `get` may hand out, with their rank (lower first).
    fn eligible(&self) -> Vec<(u8, i128)> {
        self.pending
            .iter()
            .filter(|(key, _)| !self.processing.contains(key))
            .filter_map(|(&key, want)| match *want {
                Want::Ready { priority, since } => {
                    let since = i128::try_from((since - self.epoch).as_nanos()).unwrap();
                    let aging = i128::try_from(AGING.as_nanos()).unwrap();
                    Some((key, since - i128::from(priority.get()) * aging))
                }
                Want::Waiting { .. } => None,
            })
            .collect()
    }

    fn done(&mut self, key: u8, now: Instant) {
        self.promote(now);
        self.processing.remove(&key);
    }

    /// Checks a key handed out by `get` and records it as processing.
    fn got(&mut self, key: u8, priority: Priority) -> Result<(), TestCaseError> {
        prop_assert!(
            !self.processing.contains(&key),
            "{key} handed out while being processed"
        );
        let eligible = self.eligible();
        let best = eligible.iter().map(|&(_, rank)| rank).min();
        let rank = eligible
            .iter()
            .find(|&&(k, _)| k == key)
            .map(|&(_, rank)| rank);
        prop_assert!(
            rank.is_some(),
            "{key} handed out but not ready: {eligible:?}"
        );
        prop_assert_eq!(rank, best, "{} handed out before a more urgent key", key);
        match self.pending.remove(&key) {
            Some(Want::Ready { priority: want, .. }) => prop_assert_eq!(priority, want),
            other => prop_assert!(false, "{key} handed out from {other:?}"),
        }
        self.processing.insert(key);
        Ok(())
    }
}

async fn run_against_model(ops: Vec<Op>) -> Result<(), TestCaseError> {
    let queue: WorkQueue<u8> = WorkQueue::builder()
        .aging_interval(AGING)
        .rate_limiter(ItemExponentialFailureRateLimiter::new(BASE, MAX))
        .build();
    let mut model = Model {
        epoch: Instant::now(),
        pending: HashMap::new(),
        processing: BTreeSet::new(),
        failures: HashMap::new(),
    };
    for op in ops {
        let now = Instant::now();
        // `len` moves due keys into the ready order itself; not looking right after the clock
        // moved lets the next operation meet keys that came due unobserved.
        let look = !matches!(op, Op::Advance(_));
        match op {
            Op::Add(key, priority) => {
                queue.add_with_priority(key, priority);
                model.add(key, priority, Duration::ZERO, now);
            }
            Op::AddAfter(key, delay, priority) => {
                queue.add_with(key, AddOptions::new().after(ms(delay)).priority(priority));
                model.add(key, priority, ms(delay), now);
            }
            Op::AddRateLimited(key) => {
                queue.add_rate_limited(key);
                let delay = model.when(key, now);
                model.add(key, Priority::NORMAL, delay, now);
            }
            Op::Get => {
                model.promote(now);
                match queue.get().now_or_never() {
                    None => prop_assert!(
                        model.eligible().is_empty(),
                        "get waits although {:?} are ready",
                        model.eligible()
                    ),
                    Some(None) => prop_assert!(false, "get returned None before shutdown"),
                    Some(Some((key, priority))) => model.got(key, priority)?,
                }
            }
            Op::Done(pick) => {
                let processing: Vec<u8> = model.processing.iter().copied().collect();
                let key = if pick < 200 && !processing.is_empty() {
                    processing[usize::from(pick) % processing.len()]
                } else {
                    pick % KEYS
                };
                queue.done(&key);
                model.done(key, now);
            }
            Op::Forget(key) => {
                queue.forget(&key);
                model.failures.remove(&key);
            }
            Op::Advance(millis) => advance(ms(millis)).await,
        }
        if look {
            model.promote(Instant::now());
            prop_assert_eq!(queue.len(), model.eligible().len());
        }
        for key in 0..KEYS {
            let counted = model.failures.get(&key).map_or(0, |&(count, _)| count);
            prop_assert_eq!(queue.num_requeues(&key), counted);
        }
    }

    // Past every due time, then shut down with a drain: the workers (this loop) get every
    // key still queued, including keys added while they were processed, and the drain
    // completes exactly when the last one is done.
    advance(Duration::from_secs(3600)).await;
    let now = Instant::now();
    model.promote(now);
    let mut drain = Box::pin(queue.shut_down_with_drain());
    loop {
        loop {
            match queue.get().now_or_never() {
                Some(Some((key, priority))) => model.got(key, priority)?,
                Some(None) => break,
                None => prop_assert!(false, "get waits after shutdown"),
            }
        }
        prop_assert!(
            model.eligible().is_empty(),
            "keys lost: {:?}",
            model.eligible()
        );
        let Some(&key) = model.processing.first() else {
            break;
        };
        prop_assert!(
            drain.as_mut().now_or_never().is_none(),
            "drained while {key} runs"
        );
        queue.done(&key);
        model.done(key, Instant::now());
    }
    prop_assert!(drain.as_mut().now_or_never().is_some());
    prop_assert!(
        model.pending.is_empty(),
        "never handed out: {:?}",
        model.pending
    );
    queue.add(0);
    prop_assert_eq!(queue.get().now_or_never(), Some(None));
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// Random adds, delayed and rate-limited adds, gets, dones, forgets and clock advances
    /// against the model: every `get` hands out exactly a key the model says is ready and
    /// most urgent (so no key is processed twice at once, dedup holds and nothing comes
    /// before its due time), the failure counts match the backoff rule, and at the end every
    /// add has been handed out and the drain completes when the last key is done.
    #[test]
    fn the_queue_follows_the_model(ops in proptest::collection::vec(op(), 1..120)) {
        paused_runtime().block_on(run_against_model(ops))?;
    }

    /// Failing once every backoff has passed doubles the wait each time up to the maximum;
    /// `forget` starts again from the base.
    #[test]
    fn backoff_doubles_per_failure_and_restarts_after_forget(
        steps in proptest::collection::vec((any::<bool>(), 0u64..5000), 1..60),
    ) {
        let limiter = ItemExponentialFailureRateLimiter::new(BASE, MAX);
        let mut now = Instant::now();
        let mut failures = 0u32;
        for (forget, extra_wait) in steps {
            if forget {
                limiter.forget(&"key");
                failures = 0;
                continue;
            }
            let delay = limiter.when(&"key", now);
            let expected = if failures >= 30 { MAX } else { (BASE * (1u32 << failures)).min(MAX) };
            prop_assert_eq!(delay, expected);
            failures += 1;
            prop_assert_eq!(limiter.num_requeues(&"key"), failures);
            now += delay + ms(extra_wait);
        }
    }
}
