//! Rate limiters for [`WorkQueue::add_rate_limited`](super::WorkQueue::add_rate_limited):
//! the [`RateLimiter`] trait and client-go's per-key exponential failure backoff, overall token
//! bucket, and the maximum of several limiters (the default controller rate limiter).

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::Arc;
use std::time::Duration;

use parking_lot::Mutex;
use tokio::time::Instant;

/// Decides how long a key must wait before it is retried (client-go's `RateLimiter`).
///
/// `now` is passed in (the queue passes tokio's clock), so implementations need no clock of
/// their own and are deterministic under paused time.
pub trait RateLimiter<K>: Send + Sync {
    /// Records a failure of `key` at `now` and returns how long the key waits before its
    /// retry.
    fn when(&self, key: &K, now: Instant) -> Duration;

    /// Stops tracking `key`: its next failure counts as its first.
    fn forget(&self, key: &K);

    /// How many failures of `key` are being tracked.
    fn num_requeues(&self, key: &K) -> u32;
}

impl<K, R: RateLimiter<K> + ?Sized> RateLimiter<K> for Box<R> {
    fn when(&self, key: &K, now: Instant) -> Duration {
        (**self).when(key, now)
    }

    fn forget(&self, key: &K) {
        (**self).forget(key);
    }

    fn num_requeues(&self, key: &K) -> u32 {
        (**self).num_requeues(key)
    }
}

impl<K, R: RateLimiter<K> + ?Sized> RateLimiter<K> for Arc<R> {
    fn when(&self, key: &K, now: Instant) -> Duration {
        (**self).when(key, now)
    }

    fn forget(&self, key: &K) {
        (**self).forget(key);
    }

    fn num_requeues(&self, key: &K) -> u32 {
        (**self).num_requeues(key)
    }
}

/// client-go's default controller rate limiter: the larger of a per-key exponential failure
/// backoff from 5 ms to 1000 s and an overall token bucket of 10 retries per second with a
/// burst of 100.
pub fn default_controller_rate_limiter<K>() -> MaxOfRateLimiter<K>
where
    K: Clone + Eq + Hash + Send + Sync + 'static,
{
    MaxOfRateLimiter::new(vec![
        Box::new(ItemExponentialFailureRateLimiter::new(
            Duration::from_millis(5),
            Duration::from_secs(1000),
        )),
        Box::new(BucketRateLimiter::new(10.0, 100)),
    ])
}

// ===== ItemExponentialFailureRateLimiter =====

#[derive(Clone, Copy, Debug)]
struct Failures {
    count: u32,
    /// When the backoff of the latest counted failure ends.
    retry_at: Instant,
}

/// Per-key exponential failure backoff (client-go's `ItemExponentialFailureRateLimiter`): the
/// `n`-th failure of a key waits `base × 2^(n−1)`, at most `max`.
///
/// # Difference from client-go
///
/// client-go counts every call. When unrelated events re-queue a failing key before its
/// backoff has passed, each early attempt fails too and doubles the backoff again, so a
/// one-minute outage can push a key to the 1000 s maximum (kubernetes/kubernetes#132805).
/// Here a failure reported before the key's current backoff has ended is not counted: the key
/// is given the rest of that backoff instead, so the backoff grows with the time the key has
/// actually been failing, not with the number of events that arrived meanwhile.
/// [`forget`](RateLimiter::forget) resets the key.
#[derive(Debug)]
pub struct ItemExponentialFailureRateLimiter<K> {
    base: Duration,
    max: Duration,
    failures: Mutex<HashMap<K, Failures>>,
}

impl<K> ItemExponentialFailureRateLimiter<K> {
    /// A backoff starting at `base` and doubling up to `max`.
    pub fn new(base: Duration, max: Duration) -> Self {
        ItemExponentialFailureRateLimiter {
            base,
            max,
            failures: Mutex::new(HashMap::new()),
        }
    }

    /// The delay after `previous` counted failures: `base × 2^previous`, at most `max`.
    fn backoff(&self, previous: u32) -> Duration {
        if self.base.is_zero() {
            return Duration::ZERO;
        }
        let mut delay = self.base;
        // From at least 1 ns, doubling passes any `max` within 94 steps.
        for _ in 0..previous {
            if delay >= self.max {
                break;
            }
            delay = delay.checked_mul(2).unwrap_or(Duration::MAX);
        }
        delay.min(self.max)
    }
}

impl<K> RateLimiter<K> for ItemExponentialFailureRateLimiter<K>
where
    K: Clone + Eq + Hash + Send + Sync,
{
    fn when(&self, key: &K, now: Instant) -> Duration {
        let mut failures = self.failures.lock();
        if let Some(entry) = failures.get_mut(key) {
            if now < entry.retry_at {
                return entry.retry_at - now;
            }
            let delay = self.backoff(entry.count);
            entry.count = entry.count.saturating_add(1);
            entry.retry_at = super::deadline(now, delay);
            return delay;
        }
        let delay = self.backoff(0);
        failures.insert(
            key.clone(),
            Failures {
                count: 1,
                retry_at: super::deadline(now, delay),
            },
        );
        delay
    }

    fn forget(&self, key: &K) {
        self.failures.lock().remove(key);
    }

    fn num_requeues(&self, key: &K) -> u32 {
        self.failures.lock().get(key).map_or(0, |entry| entry.count)
    }
}

// ===== BucketRateLimiter =====

#[derive(Debug)]
struct Bucket {
    /// May go below zero: reservations taken ahead of the refill.
    tokens: f64,
    last: Option<Instant>,
}

/// An overall token bucket shared by all keys (client-go's `BucketRateLimiter` over
/// `golang.org/x/time/rate`): it holds up to `burst` tokens, refills at `qps` tokens per
/// second, and every call takes one token — when none is left, the call reserves the next
/// token and returns the wait until it is refilled. It counts no failures per key.
///
/// A bucket that can never provide a token (`burst` 0, or `qps` zero, negative or NaN once the
/// burst is spent) returns [`Duration::MAX`], which the queue treats as "not in the next thirty
/// years". An infinite `qps` never delays.
#[derive(Debug)]
pub struct BucketRateLimiter {
    qps: f64,
    burst: u32,
    bucket: Mutex<Bucket>,
}

impl BucketRateLimiter {
    /// A full bucket of `burst` tokens refilled at `qps` per second.
    pub fn new(qps: f64, burst: u32) -> Self {
        BucketRateLimiter {
            qps,
            burst,
            bucket: Mutex::new(Bucket {
                tokens: f64::from(burst),
                last: None,
            }),
        }
    }

    /// Takes a token at `now`; the wait until it is available.
    fn reserve(&self, now: Instant) -> Duration {
        if self.qps.is_infinite() && self.qps > 0.0 {
            return Duration::ZERO;
        }
        if self.burst == 0 {
            return Duration::MAX;
        }
        let refills = self.qps > 0.0;
        let mut bucket = self.bucket.lock();
        let last = bucket.last.unwrap_or(now).min(now);
        if refills {
            let refill = now.duration_since(last).as_secs_f64() * self.qps;
            bucket.tokens = (bucket.tokens + refill).min(f64::from(self.burst));
        }
        if bucket.tokens < 1.0 && !refills {
            bucket.last = Some(now);
            return Duration::MAX;
        }
        bucket.tokens -= 1.0;
        bucket.last = Some(now);
        if bucket.tokens >= 0.0 {
            Duration::ZERO
        } else {
            Duration::try_from_secs_f64(-bucket.tokens / self.qps).unwrap_or(Duration::MAX)
        }
    }
}

impl<K> RateLimiter<K> for BucketRateLimiter {
    fn when(&self, _key: &K, now: Instant) -> Duration {
        self.reserve(now)
    }

    fn forget(&self, _key: &K) {}

    fn num_requeues(&self, _key: &K) -> u32 {
        0
    }
}

// ===== MaxOfRateLimiter =====

/// Asks every limiter and waits for the longest answer (client-go's `MaxOfRateLimiter`). Each
/// limiter records the failure whatever the others say; [`forget`](RateLimiter::forget) goes to
/// all of them and [`num_requeues`](RateLimiter::num_requeues) is the largest count.
///
/// As client-go notes, a token bucket combined this way may seem to exceed its burst, since
/// the tokens it hands out may be used later than it said.
pub struct MaxOfRateLimiter<K> {
    limiters: Vec<Box<dyn RateLimiter<K>>>,
}

impl<K> std::fmt::Debug for MaxOfRateLimiter<K> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MaxOfRateLimiter")
            .field("limiters", &self.limiters.len())
            .finish()
    }
}

impl<K> MaxOfRateLimiter<K> {
    /// The maximum of `limiters` (no limiter: no delay).
    pub fn new(limiters: Vec<Box<dyn RateLimiter<K>>>) -> Self {
        MaxOfRateLimiter { limiters }
    }

    /// Adds `limiter` to the ones asked.
    #[must_use]
    pub fn with(mut self, limiter: impl RateLimiter<K> + 'static) -> Self {
        self.limiters.push(Box::new(limiter));
        self
    }
}

impl<K> RateLimiter<K> for MaxOfRateLimiter<K> {
    fn when(&self, key: &K, now: Instant) -> Duration {
        self.limiters
            .iter()
            .map(|limiter| limiter.when(key, now))
            .fold(Duration::ZERO, Duration::max)
    }

    fn forget(&self, key: &K) {
        for limiter in &self.limiters {
            limiter.forget(key);
        }
    }

    fn num_requeues(&self, key: &K) -> u32 {
        self.limiters
            .iter()
            .map(|limiter| limiter.num_requeues(key))
            .max()
            .unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(millis: u64) -> Duration {
        Duration::from_millis(millis)
    }

    #[test]
    fn exponential_backoff_doubles_from_base_to_max() {
        let limiter = ItemExponentialFailureRateLimiter::new(ms(5), Duration::from_secs(1000));
        let mut now = Instant::now();
        let mut delays = Vec::new();
        for _ in 0..20 {
            let delay = limiter.when(&"key", now);
            delays.push(delay);
            now += delay;
        }
        let expected: Vec<_> = (0..20)
            .map(|n| (ms(5) * 2u32.pow(n)).min(Duration::from_secs(1000)))
            .collect();
        assert_eq!(delays, expected);
        // 5 ms × 2^17 = 655.36 s, × 2^18 would be 1310.72 s: capped from the 19th failure on.
        assert_eq!(delays[17], Duration::from_millis(655_360));
        assert_eq!(delays[18], Duration::from_secs(1000));
        assert_eq!(limiter.num_requeues(&"key"), 20);
        assert_eq!(limiter.num_requeues(&"other"), 0);
    }

    #[test]
    fn exponential_backoff_never_overflows() {
        let limiter = ItemExponentialFailureRateLimiter::new(Duration::from_secs(1), Duration::MAX);
        let now = Instant::now();
        for _ in 0..200 {
            let _ = limiter.when(&"key", now);
            // Pretend the backoff has passed, without moving the clock decades ahead.
            if let Some(failures) = limiter.failures.lock().get_mut(&"key") {
                failures.retry_at = now;
            }
        }
        assert_eq!(limiter.num_requeues(&"key"), 200);
        assert_eq!(limiter.backoff(199), Duration::MAX);
    }

    #[test]
    fn forget_resets_the_backoff() {
        let limiter = ItemExponentialFailureRateLimiter::new(ms(5), Duration::from_secs(1000));
        let now = Instant::now();
        assert_eq!(limiter.when(&"key", now), ms(5));
        assert_eq!(limiter.when(&"key", now + ms(5)), ms(10));
        limiter.forget(&"key");
        assert_eq!(limiter.num_requeues(&"key"), 0);
        assert_eq!(limiter.when(&"key", now + ms(15)), ms(5));
    }

    #[test]
    fn keys_back_off_independently() {
        let limiter = ItemExponentialFailureRateLimiter::new(ms(1), Duration::from_secs(1));
        let now = Instant::now();
        assert_eq!(limiter.when(&"a", now), ms(1));
        assert_eq!(limiter.when(&"a", now + ms(1)), ms(2));
        assert_eq!(limiter.when(&"b", now + ms(1)), ms(1));
    }

    /// kubernetes/kubernetes#132805: failures reported while the backoff still runs do not
    /// escalate it.
    #[test]
    fn early_failures_wait_out_the_current_backoff_without_counting() {
        let limiter = ItemExponentialFailureRateLimiter::new(ms(5), Duration::from_secs(1000));
        let t0 = Instant::now();
        assert_eq!(limiter.when(&"key", t0), ms(5));
        assert_eq!(limiter.when(&"key", t0 + ms(5)), ms(10));
        // The backoff runs until t0 + 15 ms; spurious retries before then fail again.
        assert_eq!(limiter.when(&"key", t0 + ms(6)), ms(9));
        assert_eq!(limiter.when(&"key", t0 + ms(14)), ms(1));
        assert_eq!(limiter.num_requeues(&"key"), 2);
        // Once the backoff has passed, the next failure counts and doubles it.
        assert_eq!(limiter.when(&"key", t0 + ms(15)), ms(20));
        assert_eq!(limiter.num_requeues(&"key"), 3);
    }

    #[test]
    fn zero_base_never_delays() {
        let limiter = ItemExponentialFailureRateLimiter::new(Duration::ZERO, ms(10));
        let now = Instant::now();
        assert_eq!(limiter.when(&"key", now), Duration::ZERO);
        assert_eq!(limiter.when(&"key", now), Duration::ZERO);
        assert_eq!(limiter.num_requeues(&"key"), 2);
    }

    #[test]
    fn bucket_allows_the_burst_then_spaces_by_the_rate() {
        let bucket = BucketRateLimiter::new(10.0, 100);
        let now = Instant::now();
        for _ in 0..100 {
            assert_eq!(RateLimiter::<()>::when(&bucket, &(), now), Duration::ZERO);
        }
        // Each further reservation waits one more tenth of a second.
        assert_eq!(RateLimiter::<()>::when(&bucket, &(), now), ms(100));
        assert_eq!(RateLimiter::<()>::when(&bucket, &(), now), ms(200));
        assert_eq!(RateLimiter::<()>::when(&bucket, &(), now), ms(300));
        // 0.5 s later, five tokens have been refilled; three were already reserved.
        let later = now + ms(500);
        assert_eq!(RateLimiter::<()>::when(&bucket, &(), later), Duration::ZERO);
        assert_eq!(RateLimiter::<()>::when(&bucket, &(), later), Duration::ZERO);
        assert_eq!(RateLimiter::<()>::when(&bucket, &(), later), ms(100));
    }

    #[test]
    fn bucket_refills_only_up_to_the_burst() {
        let bucket = BucketRateLimiter::new(10.0, 2);
        let now = Instant::now();
        let when = |at| RateLimiter::<()>::when(&bucket, &(), at);
        assert_eq!(when(now), Duration::ZERO);
        assert_eq!(when(now), Duration::ZERO);
        assert_eq!(when(now), ms(100));
        let much_later = now + Duration::from_secs(3600);
        assert_eq!(when(much_later), Duration::ZERO);
        assert_eq!(when(much_later), Duration::ZERO);
        assert_eq!(when(much_later), ms(100));
    }

    #[test]
    fn bucket_edge_cases_never_panic() {
        let now = Instant::now();
        let unlimited = BucketRateLimiter::new(f64::INFINITY, 0);
        assert_eq!(
            RateLimiter::<()>::when(&unlimited, &(), now),
            Duration::ZERO
        );
        let empty = BucketRateLimiter::new(10.0, 0);
        assert_eq!(RateLimiter::<()>::when(&empty, &(), now), Duration::MAX);
        let no_refill = BucketRateLimiter::new(0.0, 1);
        assert_eq!(
            RateLimiter::<()>::when(&no_refill, &(), now),
            Duration::ZERO
        );
        assert_eq!(RateLimiter::<()>::when(&no_refill, &(), now), Duration::MAX);
        let nan = BucketRateLimiter::new(f64::NAN, 1);
        assert_eq!(RateLimiter::<()>::when(&nan, &(), now), Duration::ZERO);
        assert_eq!(RateLimiter::<()>::when(&nan, &(), now), Duration::MAX);
        let tiny = BucketRateLimiter::new(1e-300, 1);
        assert_eq!(RateLimiter::<()>::when(&tiny, &(), now), Duration::ZERO);
        assert_eq!(RateLimiter::<()>::when(&tiny, &(), now), Duration::MAX);
    }

    #[test]
    fn max_of_takes_the_longest_wait_and_forgets_everywhere() {
        let limiter = default_controller_rate_limiter::<String>();
        let key = "key".to_owned();
        let now = Instant::now();
        // The bucket has its burst: the per-key backoff decides.
        assert_eq!(limiter.when(&key, now), ms(5));
        assert_eq!(limiter.num_requeues(&key), 1);
        for n in 1..100 {
            assert_eq!(limiter.when(&format!("other-{n}"), now), ms(5));
        }
        // 100 tokens used: the bucket's 100 ms is now longer than a first failure's 5 ms.
        assert_eq!(limiter.when(&"fresh".to_owned(), now), ms(100));
        limiter.forget(&key);
        assert_eq!(limiter.num_requeues(&key), 0);
    }

    #[test]
    fn max_of_nothing_never_delays() {
        let limiter = MaxOfRateLimiter::<u8>::new(Vec::new());
        assert_eq!(limiter.when(&1, Instant::now()), Duration::ZERO);
        assert_eq!(limiter.num_requeues(&1), 0);
        let limiter = limiter.with(ItemExponentialFailureRateLimiter::new(ms(1), ms(8)));
        assert_eq!(limiter.when(&1, Instant::now()), ms(1));
    }
}
