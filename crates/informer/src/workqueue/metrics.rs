//! Metrics hooks of the work queue: the [`MetricsProvider`] trait that receives a queue's
//! measurements, a no-op default, and a Prometheus implementation with client-go's metric
//! names (`workqueue_depth`, `workqueue_adds_total`, ... labelled by queue `name`).

use std::sync::atomic::AtomicU64;
use std::time::Duration;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

/// Receives the measurements of one work queue (client-go's `MetricsProvider`, already bound
/// to the queue's name). Every method has a no-op default; the queue calls them while it holds
/// its lock, so they should be as cheap as updating an atomic.
pub trait MetricsProvider: Send + Sync + 'static {
    /// A key became ready to be processed (client-go's `adds`): an add of a key that was not
    /// already ready, or a delayed add that came due. Adds merged into a waiting key are not
    /// counted.
    fn add(&self) {}

    /// The number of keys that are ready to be processed, including keys added again while
    /// they are being processed (client-go's `depth`).
    fn depth(&self, depth: usize) {
        let _ = depth;
    }

    /// A key was handed out `waited` after it became ready (client-go's `queue_duration`).
    fn queue_duration(&self, waited: Duration) {
        let _ = waited;
    }

    /// A key was done `worked` after it was handed out (client-go's `work_duration`).
    fn work_duration(&self, worked: Duration) {
        let _ = worked;
    }

    /// The work in progress, reported every 500 ms while the queue runs: the sum of the ages
    /// of the keys being processed and the age of the oldest of them (client-go's
    /// `unfinished_work_seconds` and `longest_running_processor_seconds`).
    fn unfinished_work(&self, total: Duration, longest: Duration) {
        let _ = (total, longest);
    }

    /// A delayed or rate-limited add was made (client-go's `retries`).
    fn retry(&self) {}
}

/// Drops every measurement; the default of a queue.
#[derive(Clone, Copy, Debug, Default)]
pub struct NoopMetrics;

impl MetricsProvider for NoopMetrics {}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct QueueLabels {
    name: String,
}

type FloatGauge = Gauge<f64, AtomicU64>;

/// Buckets of the two latency histograms: 10 ns to 10 s by powers of ten, as client-go's
/// Prometheus provider.
fn latency_histogram() -> Histogram {
    Histogram::new(exponential_buckets(1e-8, 10.0, 10))
}

/// The work-queue metric families, registered in a Prometheus [`Registry`] under client-go's
/// names, one series per queue `name`:
///
/// | metric | kind |
/// |---|---|
/// | `workqueue_depth` | gauge |
/// | `workqueue_adds_total` | counter |
/// | `workqueue_queue_duration_seconds` | histogram |
/// | `workqueue_work_duration_seconds` | histogram |
/// | `workqueue_unfinished_work_seconds` | gauge |
/// | `workqueue_longest_running_processor_seconds` | gauge |
/// | `workqueue_retries_total` | counter |
///
/// Register the families once per registry and hand each queue its
/// [`for_queue`](Self::for_queue) view.
#[derive(Clone)]
pub struct PrometheusMetrics {
    depth: Family<QueueLabels, Gauge>,
    adds: Family<QueueLabels, Counter>,
    queue_duration: Family<QueueLabels, Histogram, fn() -> Histogram>,
    work_duration: Family<QueueLabels, Histogram, fn() -> Histogram>,
    unfinished_work: Family<QueueLabels, FloatGauge>,
    longest_running_processor: Family<QueueLabels, FloatGauge>,
    retries: Family<QueueLabels, Counter>,
}

impl std::fmt::Debug for PrometheusMetrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PrometheusMetrics").finish_non_exhaustive()
    }
}

impl PrometheusMetrics {
    /// Registers the work-queue metric families in `registry`.
    pub fn register(registry: &mut Registry) -> Self {
        let metrics = PrometheusMetrics {
            depth: Family::default(),
            adds: Family::default(),
            queue_duration: Family::new_with_constructor(latency_histogram),
            work_duration: Family::new_with_constructor(latency_histogram),
            unfinished_work: Family::default(),
            longest_running_processor: Family::default(),
            retries: Family::default(),
        };
        registry.register(
            "workqueue_depth",
            "Current number of keys waiting in the work queue",
            metrics.depth.clone(),
        );
        // The counters get their `_total` suffix from the encoder.
        registry.register(
            "workqueue_adds",
            "Number of adds the work queue has handled",
            metrics.adds.clone(),
        );
        registry.register(
            "workqueue_queue_duration_seconds",
            "Seconds a key waits in the work queue before a worker gets it",
            metrics.queue_duration.clone(),
        );
        registry.register(
            "workqueue_work_duration_seconds",
            "Seconds a worker takes to process a key from the work queue",
            metrics.work_duration.clone(),
        );
        registry.register(
            "workqueue_unfinished_work_seconds",
            "Seconds of work in progress that work_duration has not observed yet; a steady \
             rise means stuck workers, and its rate of increase is the number of them",
            metrics.unfinished_work.clone(),
        );
        registry.register(
            "workqueue_longest_running_processor_seconds",
            "Seconds the longest running worker of the work queue has been processing its key",
            metrics.longest_running_processor.clone(),
        );
        registry.register(
            "workqueue_retries",
            "Number of delayed and rate-limited adds the work queue has handled",
            metrics.retries.clone(),
        );
        metrics
    }

    /// The series of the queue called `name`, to pass to
    /// [`WorkQueueBuilder::metrics`](super::WorkQueueBuilder::metrics).
    pub fn for_queue(&self, name: &str) -> PrometheusQueueMetrics {
        let labels = QueueLabels {
            name: name.to_owned(),
        };
        PrometheusQueueMetrics {
            depth: self.depth.get_or_create_owned(&labels),
            adds: self.adds.get_or_create_owned(&labels),
            queue_duration: self.queue_duration.get_or_create_owned(&labels),
            work_duration: self.work_duration.get_or_create_owned(&labels),
            unfinished_work: self.unfinished_work.get_or_create_owned(&labels),
            longest_running_processor: self.longest_running_processor.get_or_create_owned(&labels),
            retries: self.retries.get_or_create_owned(&labels),
        }
    }
}

/// One queue's series of [`PrometheusMetrics`].
#[derive(Clone)]
pub struct PrometheusQueueMetrics {
    depth: Gauge,
    adds: Counter,
    queue_duration: Histogram,
    work_duration: Histogram,
    unfinished_work: FloatGauge,
    longest_running_processor: FloatGauge,
    retries: Counter,
}

impl std::fmt::Debug for PrometheusQueueMetrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PrometheusQueueMetrics")
            .finish_non_exhaustive()
    }
}

impl MetricsProvider for PrometheusQueueMetrics {
    fn add(&self) {
        self.adds.inc();
    }

    fn depth(&self, depth: usize) {
        self.depth.set(i64::try_from(depth).unwrap_or(i64::MAX));
    }

    fn queue_duration(&self, waited: Duration) {
        self.queue_duration.observe(waited.as_secs_f64());
    }

    fn work_duration(&self, worked: Duration) {
        self.work_duration.observe(worked.as_secs_f64());
    }

    fn unfinished_work(&self, total: Duration, longest: Duration) {
        self.unfinished_work.set(total.as_secs_f64());
        self.longest_running_processor.set(longest.as_secs_f64());
    }

    fn retry(&self) {
        self.retries.inc();
    }
}
