//! The queue's bookkeeping, free of locks and of async: which keys are ready, which wait for a
//! due time, which are being processed, and in what order ready keys are handed out. Every
//! method takes the current instant, so the rules are plain functions of the calls made.

use std::collections::{BTreeMap, HashMap};
use std::hash::Hash;
use std::sync::Arc;
use std::time::Duration;

use tokio::time::Instant;

use super::Priority;
use super::metrics::MetricsProvider;

/// What the caller must signal once it has released the lock.
#[derive(Debug, Default)]
pub(super) struct Signals {
    /// Keys that entered the ready order: wake that many getters.
    pub(super) ready: usize,
    /// The earliest due time moved earlier, or the queue shut down: every waiting getter
    /// re-reads the state (and its timer).
    pub(super) all_getters: bool,
    /// The processing set emptied during a drain, or a drain was called off.
    pub(super) drained: bool,
}

/// A key's place in the ready order: smaller first.
///
/// With aging, `rank` is the instant the key became ready minus `priority × interval` (both in
/// nanoseconds since the queue's epoch): comparing `t_a − p_a·I < t_b − p_b·I` is comparing the
/// effective priorities `p + (now − t)/I` of the two keys at any `now`, so the order never
/// has to be recomputed as time passes. Without aging, `rank` is the negated priority and
/// `ready_at` breaks ties. `seq` makes the order total and first-in first-out.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct OrderKey {
    rank: i128,
    ready_at: i128,
    seq: u64,
}

/// A key's add that is not yet handed out.
#[derive(Clone, Copy, Debug)]
enum Pending {
    /// Ready since `since`. In the ready order unless the key is being processed.
    Ready {
        priority: Priority,
        since: Instant,
        seq: u64,
    },
    /// Due at `due`; in the waiting map under `(due, seq)`.
    Waiting {
        priority: Priority,
        due: Instant,
        seq: u64,
    },
}

#[derive(Debug, Default)]
struct KeyState {
    pending: Option<Pending>,
    /// When the key was handed out, while it is being processed.
    processing_since: Option<Instant>,
}

impl KeyState {
    fn is_idle(&self) -> bool {
        self.pending.is_none() && self.processing_since.is_none()
    }
}

/// The state of one queue.
///
/// Invariants: every key in `ready` has `Pending::Ready` and is not processing; every key in
/// `waiting` has `Pending::Waiting` with the same due time and sequence number; `dirty` counts
/// the keys with `Pending::Ready` (processing or not) and `processing` those with
/// `processing_since`; no idle key is kept in `keys`.
pub(super) struct State<K> {
    epoch: Instant,
    aging: Option<Duration>,
    keys: HashMap<K, KeyState>,
    ready: BTreeMap<OrderKey, K>,
    waiting: BTreeMap<(Instant, u64), K>,
    dirty: usize,
    processing: usize,
    next_seq: u64,
    shutting_down: bool,
    draining: bool,
    metrics: Arc<dyn MetricsProvider>,
}

impl<K: Clone + Eq + Hash> State<K> {
    pub(super) fn new(
        epoch: Instant,
        aging: Option<Duration>,
        metrics: Arc<dyn MetricsProvider>,
    ) -> Self {
        State {
            epoch,
            aging,
            keys: HashMap::new(),
            ready: BTreeMap::new(),
            waiting: BTreeMap::new(),
            dirty: 0,
            processing: 0,
            next_seq: 0,
            shutting_down: false,
            draining: false,
            metrics,
        }
    }

    pub(super) fn is_shutting_down(&self) -> bool {
        self.shutting_down
    }

    /// Whether a drain is still waiting for keys being processed.
    pub(super) fn drain_pending(&self) -> bool {
        self.draining && self.processing > 0
    }

    /// Keys ready and not being processed: what `get` can hand out now.
    pub(super) fn ready_len(&self) -> usize {
        self.ready.len()
    }

    /// The earliest due time of a delayed add.
    pub(super) fn next_due(&self) -> Option<Instant> {
        self.waiting.first_key_value().map(|(&(due, _), _)| due)
    }

    /// Adds `key` with `priority`, due `delay` after `now` (right away for a zero delay).
    /// `retry` counts the add in the retries metric (client-go counts every delayed add).
    pub(super) fn add(
        &mut self,
        key: K,
        priority: Priority,
        delay: Duration,
        retry: bool,
        now: Instant,
        signals: &mut Signals,
    ) {
        if self.shutting_down {
            return;
        }
        if retry {
            self.metrics.retry();
        }
        // Due keys first, so the outcome does not depend on when the queue was last looked at.
        self.promote_due(now, signals);
        let due = super::deadline(now, delay);
        let mut state = self.keys.remove(&key).unwrap_or_default();
        let processing = state.processing_since.is_some();
        state.pending = Some(match state.pending {
            None if due <= now => self.make_ready(&key, priority, now, processing, signals),
            None => self.make_waiting(&key, priority, due, signals),
            Some(Pending::Ready {
                priority: current,
                since,
                seq,
            }) => {
                // Already ready: it cannot become due any sooner, only more urgent.
                let raised = current.max(priority);
                if raised != current && !processing {
                    self.ready.remove(&self.order(current, since, seq));
                    self.ready
                        .insert(self.order(raised, since, seq), key.clone());
                }
                Pending::Ready {
                    priority: raised,
                    since,
                    seq,
                }
            }
            Some(Pending::Waiting {
                priority: current,
                due: current_due,
                seq,
            }) => {
                let raised = current.max(priority);
                if due <= now {
                    self.waiting.remove(&(current_due, seq));
                    self.make_ready(&key, raised, now, processing, signals)
                } else if due < current_due {
                    self.waiting.remove(&(current_due, seq));
                    self.make_waiting(&key, raised, due, signals)
                } else {
                    Pending::Waiting {
                        priority: raised,
                        due: current_due,
                        seq,
                    }
                }
            }
        });
        self.keys.insert(key, state);
    }

    /// Moves the delayed adds due at or before `now` into the ready order.
    pub(super) fn promote_due(&mut self, now: Instant, signals: &mut Signals) {
        while let Some(entry) = self.waiting.first_entry() {
            if entry.key().0 > now {
                break;
            }
            let ((due, _), key) = entry.remove_entry();
            let Some(mut state) = self.keys.remove(&key) else {
                continue;
            };
            if let Some(Pending::Waiting { priority, .. }) = state.pending {
                let processing = state.processing_since.is_some();
                // Ready since it became due, so queue latency and aging count from then.
                state.pending = Some(self.make_ready(&key, priority, due, processing, signals));
            }
            self.keys.insert(key, state);
        }
    }

    /// Hands out the first ready key and marks it processing.
    pub(super) fn pop_ready(&mut self, now: Instant) -> Option<(K, Priority)> {
        while let Some((_, key)) = self.ready.pop_first() {
            let Some(state) = self.keys.get_mut(&key) else {
                continue;
            };
            let Some(Pending::Ready {
                priority, since, ..
            }) = state.pending
            else {
                continue;
            };
            state.pending = None;
            state.processing_since = Some(now);
            self.processing += 1;
            self.dirty -= 1;
            self.metrics.depth(self.dirty);
            self.metrics
                .queue_duration(now.saturating_duration_since(since));
            return Some((key, priority));
        }
        None
    }

    /// Ends the processing of `key`; a key added meanwhile goes back into the ready order.
    /// Keys that are not being processed are ignored.
    pub(super) fn done(&mut self, key: &K, now: Instant, signals: &mut Signals) {
        self.promote_due(now, signals);
        let Some(state) = self.keys.get_mut(key) else {
            return;
        };
        let Some(started) = state.processing_since.take() else {
            return;
        };
        self.processing -= 1;
        self.metrics
            .work_duration(now.saturating_duration_since(started));
        match state.pending {
            Some(Pending::Ready {
                priority,
                since,
                seq,
            }) => {
                let order = self.order(priority, since, seq);
                self.ready.insert(order, key.clone());
                signals.ready += 1;
            }
            Some(Pending::Waiting { .. }) => {}
            None => {
                self.keys.remove(key);
            }
        }
        if self.draining && self.processing == 0 {
            signals.drained = true;
        }
    }

    /// Stops accepting adds and drops the delayed adds not due at `now`; `drain` makes a drain
    /// wait for the keys being processed (a plain shutdown calls off a drain in progress, as
    /// in client-go).
    pub(super) fn shut_down(&mut self, drain: bool, now: Instant, signals: &mut Signals) {
        if !self.shutting_down {
            self.promote_due(now, signals);
        }
        self.shutting_down = true;
        self.draining = drain;
        for (_, key) in std::mem::take(&mut self.waiting) {
            if let Some(state) = self.keys.get_mut(&key) {
                state.pending = None;
                if state.is_idle() {
                    self.keys.remove(&key);
                }
            }
        }
        signals.all_getters = true;
        if !drain || self.processing == 0 {
            signals.drained = true;
        }
    }

    /// Reports the seconds of work in progress and the longest running processor.
    pub(super) fn report_unfinished_work(&self, now: Instant) {
        let mut total = Duration::ZERO;
        let mut longest = Duration::ZERO;
        for started in self
            .keys
            .values()
            .filter_map(|state| state.processing_since)
        {
            let age = now.saturating_duration_since(started);
            total = total.saturating_add(age);
            longest = longest.max(age);
        }
        self.metrics.unfinished_work(total, longest);
    }

    fn make_ready(
        &mut self,
        key: &K,
        priority: Priority,
        since: Instant,
        processing: bool,
        signals: &mut Signals,
    ) -> Pending {
        let seq = self.take_seq();
        self.dirty += 1;
        self.metrics.add();
        self.metrics.depth(self.dirty);
        if !processing {
            self.ready
                .insert(self.order(priority, since, seq), key.clone());
            signals.ready += 1;
        }
        Pending::Ready {
            priority,
            since,
            seq,
        }
    }

    fn make_waiting(
        &mut self,
        key: &K,
        priority: Priority,
        due: Instant,
        signals: &mut Signals,
    ) -> Pending {
        let seq = self.take_seq();
        if self.next_due().is_none_or(|earliest| due < earliest) {
            signals.all_getters = true;
        }
        self.waiting.insert((due, seq), key.clone());
        Pending::Waiting { priority, due, seq }
    }

    fn take_seq(&mut self) -> u64 {
        let seq = self.next_seq;
        self.next_seq += 1;
        seq
    }

    fn order(&self, priority: Priority, since: Instant, seq: u64) -> OrderKey {
        let ready_at = nanos(since.saturating_duration_since(self.epoch));
        let priority = i128::from(priority.get());
        match self.aging {
            Some(interval) => OrderKey {
                rank: ready_at - priority * nanos(interval),
                ready_at: 0,
                seq,
            },
            None => OrderKey {
                rank: -priority,
                ready_at,
                seq,
            },
        }
    }
}

/// Nanoseconds of `duration` (at most about 1.8e28, far inside `i128`).
fn nanos(duration: Duration) -> i128 {
    i128::try_from(duration.as_nanos()).unwrap_or(i128::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::workqueue::NoopMetrics;

    fn state(aging: Option<Duration>) -> (State<&'static str>, Instant) {
        let epoch = Instant::now();
        (State::new(epoch, aging, Arc::new(NoopMetrics)), epoch)
    }

    fn ms(millis: u64) -> Duration {
        Duration::from_millis(millis)
    }

    #[test]
    fn ready_order_is_fifo_within_a_priority() {
        let (mut state, t0) = state(Some(ms(1000)));
        let mut signals = Signals::default();
        for key in ["a", "b", "c"] {
            state.add(
                key,
                Priority::NORMAL,
                Duration::ZERO,
                false,
                t0,
                &mut signals,
            );
        }
        assert_eq!(signals.ready, 3);
        let order: Vec<_> = std::iter::from_fn(|| state.pop_ready(t0)).collect();
        assert_eq!(
            order,
            [
                ("a", Priority::NORMAL),
                ("b", Priority::NORMAL),
                ("c", Priority::NORMAL)
            ]
        );
    }

    #[test]
    fn a_higher_priority_add_moves_a_ready_key_forward() {
        let (mut state, t0) = state(Some(ms(1000)));
        let mut signals = Signals::default();
        state.add(
            "a",
            Priority::NORMAL,
            Duration::ZERO,
            false,
            t0,
            &mut signals,
        );
        state.add("b", Priority::LOW, Duration::ZERO, false, t0, &mut signals);
        state.add(
            "b",
            Priority::new(5),
            Duration::ZERO,
            false,
            t0,
            &mut signals,
        );
        assert_eq!(state.ready_len(), 2);
        assert_eq!(state.pop_ready(t0), Some(("b", Priority::new(5))));
        assert_eq!(state.pop_ready(t0), Some(("a", Priority::NORMAL)));
    }

    #[test]
    fn aging_puts_an_old_low_key_before_a_newer_normal_key() {
        let (mut state, t0) = state(Some(ms(10)));
        let mut signals = Signals::default();
        state.add(
            "old",
            Priority::LOW,
            Duration::ZERO,
            false,
            t0,
            &mut signals,
        );
        // Added 100 intervals later at a priority 100 levels higher: a tie, first in wins.
        let t1 = t0 + ms(1000);
        state.add(
            "tie",
            Priority::NORMAL,
            Duration::ZERO,
            false,
            t1,
            &mut signals,
        );
        // One nanosecond earlier, the normal key still goes first.
        state.add(
            "before",
            Priority::NORMAL,
            Duration::ZERO,
            false,
            t1 - Duration::from_nanos(1),
            &mut signals,
        );
        let order: Vec<_> = std::iter::from_fn(|| state.pop_ready(t1).map(|(k, _)| k)).collect();
        assert_eq!(order, ["before", "old", "tie"]);
    }

    #[test]
    fn without_aging_priority_is_strict() {
        let (mut state, t0) = state(None);
        let mut signals = Signals::default();
        state.add(
            "old",
            Priority::LOW,
            Duration::ZERO,
            false,
            t0,
            &mut signals,
        );
        let later = t0 + Duration::from_secs(86_400);
        state.add(
            "new",
            Priority::NORMAL,
            Duration::ZERO,
            false,
            later,
            &mut signals,
        );
        assert_eq!(state.pop_ready(later).map(|(k, _)| k), Some("new"));
    }

    /// The documented rule: `a` goes first when `p_a + (now − t_a)/I > p_b + (now − t_b)/I`,
    /// and the earlier entry on a tie.
    #[test]
    fn the_order_key_compares_effective_priorities() {
        let interval = ms(7);
        let cases = [
            ((Priority::LOW, ms(0)), (Priority::NORMAL, ms(700)), true),
            ((Priority::LOW, ms(0)), (Priority::NORMAL, ms(699)), false),
            ((Priority::NORMAL, ms(5)), (Priority::LOW, ms(0)), true),
            (
                (Priority::new(3), ms(50)),
                (Priority::new(-2), ms(15)),
                true,
            ),
            (
                (Priority::new(3), ms(51)),
                (Priority::new(-2), ms(15)),
                false,
            ),
        ];
        let (state, epoch) = state(Some(interval));
        for (a, b, a_first) in cases {
            let key_a = state.order(a.0, epoch + a.1, 0);
            let key_b = state.order(b.0, epoch + b.1, 1);
            assert_eq!(key_a < key_b, a_first, "{a:?} vs {b:?}");
        }
    }

    #[test]
    fn shut_down_drops_delayed_adds_but_keeps_ready_keys() {
        let (mut state, t0) = state(Some(ms(1000)));
        let mut signals = Signals::default();
        state.add(
            "now",
            Priority::NORMAL,
            Duration::ZERO,
            false,
            t0,
            &mut signals,
        );
        state.add("later", Priority::NORMAL, ms(5), false, t0, &mut signals);
        state.add("due", Priority::NORMAL, ms(5), false, t0, &mut signals);
        state.add("due", Priority::NORMAL, ms(1), false, t0, &mut signals);
        state.shut_down(false, t0 + ms(1), &mut signals);
        state.add(
            "refused",
            Priority::NORMAL,
            Duration::ZERO,
            false,
            t0,
            &mut signals,
        );
        state.promote_due(t0 + ms(10), &mut signals);
        assert_eq!(state.pop_ready(t0), Some(("now", Priority::NORMAL)));
        // Due when the queue shut down: kept, as client-go had queued it by then.
        assert_eq!(state.pop_ready(t0), Some(("due", Priority::NORMAL)));
        assert_eq!(state.pop_ready(t0), None);
        assert_eq!(state.next_due(), None);
    }
}
