//! Prometheus metrics of controllers, in controller-runtime's and client-go's names:
//! reconcile totals, errors and durations, work-queue depth, adds, latency, work duration and
//! retries, and informer relists — registered in a registry the host process serves on
//! `/metrics` (the API server's, or its own).

use std::time::Duration;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

use crate::workqueue::{PrometheusMetrics, PrometheusQueueMetrics};

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ResultLabels {
    controller: String,
    result: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ControllerLabels {
    controller: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct KindLabels {
    kind: String,
}

fn reconcile_histogram() -> Histogram {
    // 5 ms to about 160 s.
    Histogram::new(exponential_buckets(0.005, 2.0, 16))
}

/// The metrics of every controller, queue and informer of a process.
pub struct ControllerMetrics {
    reconciles: Family<ResultLabels, Counter>,
    errors: Family<ControllerLabels, Counter>,
    durations: Family<ControllerLabels, Histogram, fn() -> Histogram>,
    relists: Family<KindLabels, Counter>,
    watch_errors: Family<KindLabels, Counter>,
    queues: PrometheusMetrics,
}

impl std::fmt::Debug for ControllerMetrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ControllerMetrics").finish_non_exhaustive()
    }
}

impl ControllerMetrics {
    /// Registers the families in `registry`.
    pub fn register(registry: &mut Registry) -> Self {
        let m = ControllerMetrics {
            reconciles: Family::default(),
            errors: Family::default(),
            durations: Family::new_with_constructor(reconcile_histogram),
            relists: Family::default(),
            watch_errors: Family::default(),
            queues: PrometheusMetrics::register(registry),
        };
        registry.register(
            "controller_runtime_reconcile",
            "Total number of reconciliations per controller and result (success, error, panic)",
            m.reconciles.clone(),
        );
        registry.register(
            "controller_runtime_reconcile_errors",
            "Total number of reconciliation errors per controller",
            m.errors.clone(),
        );
        registry.register(
            "controller_runtime_reconcile_time_seconds",
            "Length of time per reconciliation per controller",
            m.durations.clone(),
        );
        registry.register(
            "informer_relists",
            "Number of complete (re)lists of each informer, by kind",
            m.relists.clone(),
        );
        registry.register(
            "informer_watch_errors",
            "Number of watch errors of each informer (all retried), by kind",
            m.watch_errors.clone(),
        );
        m
    }

    /// Counts a reconcile of `controller` with `result` that took `elapsed`.
    pub fn reconciled(&self, controller: &str, result: &str, elapsed: Duration) {
        self.reconciles
            .get_or_create(&ResultLabels {
                controller: controller.to_owned(),
                result: result.to_owned(),
            })
            .inc();
        let labels = ControllerLabels {
            controller: controller.to_owned(),
        };
        if result != "success" {
            self.errors.get_or_create(&labels).inc();
        }
        self.durations
            .get_or_create(&labels)
            .observe(elapsed.as_secs_f64());
    }

    /// The work-queue series of the queue `name`.
    pub fn queue(&self, name: &str) -> PrometheusQueueMetrics {
        self.queues.for_queue(name)
    }

    /// The relist and watch-error counters of informers of `kind`.
    pub fn informer(&self, kind: &str) -> (Counter, Counter) {
        let labels = KindLabels {
            kind: kind.to_owned(),
        };
        (
            self.relists.get_or_create_owned(&labels),
            self.watch_errors.get_or_create_owned(&labels),
        )
    }
}
