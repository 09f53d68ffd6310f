//! An event recorder: core/v1 Events about objects (what `kubectl describe` shows), written in
//! the background with client-go's client-side correlation — identical events counted in one
//! object, similar events aggregated, and a spam limit per source and object.
//!
//! ```no_run
//! use kubernaut_api_types::core::v1::ConfigMap;
//! use kubernaut_client::Client;
//! use kubernaut_informer::events::{EventType, Recorder, Reporter};
//!
//! # async fn run(client: Client, config_map: ConfigMap) {
//! let recorder = Recorder::new(client, Reporter::new("configmap-controller").instance("pod-a"));
//! // Never blocks, never fails: the write happens in a background task.
//! recorder.record_for(&config_map, EventType::Normal, "Synced", "copied 3 keys");
//! # }
//! ```
//!
//! # Which Event API
//! Events are written as core/v1 `Event`s, the legacy API that client-go's `tools/record` uses
//! (and with it kube-controller-manager, the scheduler and the kubelet). `kubectl describe`
//! finds them with the field selector `involvedObject.name=..,involvedObject.namespace=..,
//! involvedObject.uid=..` on `/api/v1/namespaces/{ns}/events`, which the API server supports.
//! The newer `events.k8s.io/v1` API (kube-rs's recorder, client-go's `tools/events`, with
//! `EventSeries`) is served as its own resource by kubernaut's API server, so an event written
//! there would not appear in `kubectl describe`; the core API also carries the same facts
//! (`reportingComponent`, `reportingInstance`, `count`/`lastTimestamp` playing the part of the
//! series).
//!
//! # Correlation (client-go's `EventCorrelator`)
//! Before an event is written, in this order:
//! 1. **Aggregation**: events that differ only in their message (same source, object, type,
//!    reason and reporter) are similar. From the tenth distinct message within 600 s (counted
//!    from the last similar event), an event is replaced by an aggregate event with the
//!    message `(combined from similar events): <message>`, itself counted as below.
//! 2. **Counting**: an event identical to one written before (same source, object, type,
//!    reason and message) is not written again: the first one's `count` goes up and its
//!    `lastTimestamp` and `message` are patched (a strategic merge patch, as upstream). When
//!    the first one is gone (deleted, or expired by the server's event TTL), it is created
//!    again under its name.
//! 3. **Spam limit**: each source and object gets a token bucket of 25 events refilled by one
//!    every 300 s; an event finding the bucket empty is dropped.
//!
//! The state of all three lives in LRU caches of 4096 entries each.
//!
//! # Never blocking the caller
//! [`Recorder::record`] formats the event and puts it on a bounded queue (1000 by default, as
//! upstream's broadcaster); a background task correlates and writes. When the queue is full
//! (the API server is slow or down and the task is retrying) the event is dropped and
//! [`RecorderMetrics::dropped`] counts it: a reconcile never waits for an event. Writes that
//! fail in transit are retried up to 12 times, 10 s apart (the first wait random in
//! `[0, 10 s)` so that many recorders do not retry in step); an event the server rejects is
//! not retried.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use chrono::{DateTime, Utc};
use kubernaut_api_types::core::v1::{Event, EventSource, ObjectReference};
use kubernaut_api_types::meta::ObjectMeta;
use kubernaut_api_types::{ApiResource, Resource, Time};
use kubernaut_client::{Api, Client, Patch, PatchParams, PostParams};
use serde_json::json;
use tokio::sync::{mpsc, oneshot};
use tokio::time::Instant;

use crate::leader::Rng;

/// Upstream's `maxQueuedEvents`: events waiting for the background task.
pub const DEFAULT_QUEUE_CAPACITY: usize = 1000;
/// Upstream's `maxLruCacheEntries`, for each of the correlator's caches.
pub const DEFAULT_CACHE_SIZE: usize = 4096;
/// Upstream's `defaultSpamBurst`: events a source may send about an object at once.
pub const DEFAULT_SPAM_BURST: u32 = 25;
/// Upstream's `defaultSpamQPS` as a period: one more event per 300 s.
pub const DEFAULT_SPAM_REFILL: Duration = Duration::from_secs(300);
/// Upstream's `defaultAggregateMaxEvents`: distinct similar events before aggregation.
pub const DEFAULT_AGGREGATE_MAX_EVENTS: usize = 10;
/// Upstream's `defaultAggregateIntervalInSeconds`: how long similar events are remembered.
pub const DEFAULT_AGGREGATE_INTERVAL: Duration = Duration::from_secs(600);
/// Upstream's `maxTriesPerEvent`.
pub const DEFAULT_MAX_TRIES: u32 = 12;
/// Upstream's `defaultSleepDuration` between tries.
pub const DEFAULT_RETRY_SLEEP: Duration = Duration::from_secs(10);

/// The message prefix of aggregate events (upstream's `EventAggregatorByReasonMessageFunc`).
pub const AGGREGATE_MESSAGE_PREFIX: &str = "(combined from similar events): ";

/// The kind of an event.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum EventType {
    /// `Normal`: nothing is wrong.
    Normal,
    /// `Warning`: something may need attention.
    Warning,
}

impl EventType {
    /// `Normal` or `Warning`.
    pub fn as_str(self) -> &'static str {
        match self {
            EventType::Normal => "Normal",
            EventType::Warning => "Warning",
        }
    }
}

/// Who reports: the component (`source.component`, `reportingComponent`) and, optionally, the
/// instance of it (`source.host`, `reportingInstance`: a pod or node name).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reporter {
    /// The component (`deployment-controller`, `default-scheduler`).
    pub component: String,
    /// The instance.
    pub instance: Option<String>,
}

impl Reporter {
    /// A reporter without an instance.
    pub fn new(component: &str) -> Self {
        Reporter {
            component: component.to_owned(),
            instance: None,
        }
    }

    /// Names the instance.
    #[must_use]
    pub fn instance(mut self, instance: &str) -> Self {
        self.instance = Some(instance.to_owned());
        self
    }
}

/// The settings of a [`Recorder`]; the defaults are upstream's.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecorderConfig {
    /// Events waiting to be written; beyond this they are dropped.
    pub queue_capacity: usize,
    /// Entries in each correlation cache.
    pub cache_size: usize,
    /// Events a source may send about one object at once.
    pub spam_burst: u32,
    /// How long until one more event about the object is allowed.
    pub spam_refill: Duration,
    /// Distinct similar events before aggregation.
    pub aggregate_max_events: usize,
    /// How long a group of similar events is remembered after its last event.
    pub aggregate_interval: Duration,
    /// Tries to write an event before giving up.
    pub max_tries: u32,
    /// Wait between tries.
    pub retry_sleep: Duration,
}

impl Default for RecorderConfig {
    fn default() -> Self {
        RecorderConfig {
            queue_capacity: DEFAULT_QUEUE_CAPACITY,
            cache_size: DEFAULT_CACHE_SIZE,
            spam_burst: DEFAULT_SPAM_BURST,
            spam_refill: DEFAULT_SPAM_REFILL,
            aggregate_max_events: DEFAULT_AGGREGATE_MAX_EVENTS,
            aggregate_interval: DEFAULT_AGGREGATE_INTERVAL,
            max_tries: DEFAULT_MAX_TRIES,
            retry_sleep: DEFAULT_RETRY_SLEEP,
        }
    }
}

/// Counters of a recorder, for the metrics the controller runtime exposes.
#[derive(Debug, Default)]
pub struct RecorderMetrics {
    queued: AtomicU64,
    dropped: AtomicU64,
    filtered: AtomicU64,
    aggregated: AtomicU64,
    created: AtomicU64,
    patched: AtomicU64,
    failed: AtomicU64,
}

impl RecorderMetrics {
    /// Events accepted on the queue.
    pub fn queued(&self) -> u64 {
        self.queued.load(Ordering::Relaxed)
    }
    /// Events dropped because the queue was full (or the background task had ended).
    pub fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }
    /// Events dropped by the spam limit.
    pub fn filtered(&self) -> u64 {
        self.filtered.load(Ordering::Relaxed)
    }
    /// Events replaced by an aggregate event.
    pub fn aggregated(&self) -> u64 {
        self.aggregated.load(Ordering::Relaxed)
    }
    /// Event objects created.
    pub fn created(&self) -> u64 {
        self.created.load(Ordering::Relaxed)
    }
    /// Repeats written as a patch of an existing event.
    pub fn patched(&self) -> u64 {
        self.patched.load(Ordering::Relaxed)
    }
    /// Events given up: rejected by the server, or still failing after every try.
    pub fn failed(&self) -> u64 {
        self.failed.load(Ordering::Relaxed)
    }
}

/// A reference to `object` for an event's `involvedObject`: its kind, API version, name,
/// namespace, UID and resource version (upstream's `reference.GetReference`).
pub fn object_reference<K: Resource>(object: &K) -> ObjectReference {
    object_reference_with(&K::api_resource(), object.meta())
}

/// A reference to the object with `meta` of the kind `resource` (for objects known only at
/// run time).
pub fn object_reference_with(resource: &ApiResource, meta: &ObjectMeta) -> ObjectReference {
    ObjectReference {
        api_version: Some(resource.api_version.clone()),
        kind: Some(resource.kind.clone()),
        name: meta.name.clone(),
        namespace: meta.namespace.clone(),
        uid: meta.uid.clone(),
        resource_version: meta.resource_version.clone(),
        field_path: None,
    }
}

enum Message {
    Event(Box<Event>),
    Flush(oneshot::Sender<()>),
}

/// Records events about objects. Cheap to clone; every clone feeds the same background task,
/// which ends once every clone is dropped and the queue is drained.
#[derive(Clone, Debug)]
pub struct Recorder {
    queue: mpsc::Sender<Message>,
    reporter: Arc<Reporter>,
    metrics: Arc<RecorderMetrics>,
}

impl Recorder {
    /// A recorder with upstream's settings, writing through `client`.
    ///
    /// # Panics
    /// Outside a tokio runtime (it spawns its background task).
    pub fn new(client: Client, reporter: Reporter) -> Self {
        Recorder::with_config(client, reporter, RecorderConfig::default())
    }

    /// A recorder with `config`.
    ///
    /// # Panics
    /// Outside a tokio runtime (it spawns its background task).
    pub fn with_config(client: Client, reporter: Reporter, config: RecorderConfig) -> Self {
        let (queue, rx) = mpsc::channel(config.queue_capacity.max(1));
        let metrics = Arc::new(RecorderMetrics::default());
        let writer = Writer {
            client,
            correlator: Correlator::new(&config),
            metrics: Arc::clone(&metrics),
            max_tries: config.max_tries.max(1),
            retry_sleep: config.retry_sleep,
            rng: Rng::seeded(),
        };
        tokio::spawn(writer.run(rx));
        Recorder {
            queue,
            reporter: Arc::new(reporter),
            metrics,
        }
    }

    /// The reporter.
    pub fn reporter(&self) -> &Reporter {
        &self.reporter
    }

    /// The counters.
    pub fn metrics(&self) -> Arc<RecorderMetrics> {
        Arc::clone(&self.metrics)
    }

    /// Records an event about the object `regarding` (see [`object_reference`]). Returns at
    /// once; the event is dropped (and counted) when the queue is full.
    pub fn record(
        &self,
        regarding: &ObjectReference,
        type_: EventType,
        reason: &str,
        message: &str,
    ) {
        let event = make_event(
            regarding,
            type_,
            reason,
            message,
            &self.reporter,
            Utc::now(),
        );
        match self.queue.try_send(Message::Event(Box::new(event))) {
            Ok(()) => {
                self.metrics.queued.fetch_add(1, Ordering::Relaxed);
            }
            Err(e) => {
                self.metrics.dropped.fetch_add(1, Ordering::Relaxed);
                let why = match e {
                    mpsc::error::TrySendError::Full(_) => "the event queue is full",
                    mpsc::error::TrySendError::Closed(_) => "the event writer has stopped",
                };
                // Counted; a log line per dropped event would flood the log under load.
                tracing::debug!(object = ?regarding.name, reason, "dropped an event: {why}");
            }
        }
    }

    /// Records an event about `object`.
    pub fn record_for<K: Resource>(
        &self,
        object: &K,
        type_: EventType,
        reason: &str,
        message: &str,
    ) {
        self.record(&object_reference(object), type_, reason, message);
    }

    /// Waits until every event recorded before the call has been written, dropped or given up.
    ///
    /// # Cancel safety
    /// Cancel safe: dropping it changes nothing.
    pub async fn flush(&self) {
        let (tx, rx) = oneshot::channel();
        if self.queue.send(Message::Flush(tx)).await.is_ok() {
            let _ = rx.await;
        }
    }
}

/// A new event as upstream's `makeEvent` builds it: named `<object>.<hex nanoseconds>`, in the
/// object's namespace (`default` for cluster-scoped objects), count 1.
fn make_event(
    regarding: &ObjectReference,
    type_: EventType,
    reason: &str,
    message: &str,
    reporter: &Reporter,
    now: DateTime<Utc>,
) -> Event {
    let namespace = regarding
        .namespace
        .clone()
        .filter(|ns| !ns.is_empty())
        .unwrap_or_else(|| "default".to_owned());
    Event {
        metadata: ObjectMeta {
            name: Some(event_name(
                regarding.name.as_deref().unwrap_or_default(),
                now,
            )),
            namespace: Some(namespace),
            ..ObjectMeta::default()
        },
        involved_object: regarding.clone(),
        reason: Some(reason.to_owned()),
        message: Some(message.to_owned()),
        first_timestamp: Some(Time::from(now)),
        last_timestamp: Some(Time::from(now)),
        count: Some(1),
        type_: Some(type_.as_str().to_owned()),
        source: Some(Box::new(EventSource {
            component: Some(reporter.component.clone()),
            host: reporter.instance.clone(),
        })),
        reporting_component: Some(reporter.component.clone()),
        reporting_instance: reporter.instance.clone(),
        ..Event::default()
    }
}

/// `<object>.<nanoseconds since the epoch in hex>`.
fn event_name(object: &str, now: DateTime<Utc>) -> String {
    let nanos = now
        .timestamp_nanos_opt()
        .and_then(|n| u64::try_from(n).ok());
    format!("{object}.{:x}", nanos.unwrap_or(0))
}

/// The background task: correlates and writes, one event at a time.
struct Writer {
    client: Client,
    correlator: Correlator,
    metrics: Arc<RecorderMetrics>,
    max_tries: u32,
    retry_sleep: Duration,
    rng: Rng,
}

impl Writer {
    async fn run(mut self, mut queue: mpsc::Receiver<Message>) {
        while let Some(message) = queue.recv().await {
            match message {
                Message::Event(event) => self.process(*event).await,
                Message::Flush(done) => {
                    let _ = done.send(());
                }
            }
        }
    }

    async fn process(&mut self, event: Event) {
        let correlated = self.correlator.correlate(event, Instant::now());
        let Correlated::Write {
            event,
            key,
            patch,
            aggregated,
        } = correlated
        else {
            self.metrics.filtered.fetch_add(1, Ordering::Relaxed);
            return;
        };
        if aggregated {
            self.metrics.aggregated.fetch_add(1, Ordering::Relaxed);
        }
        let mut tries = 0;
        loop {
            if self.write(&event, &key, patch.as_ref()).await {
                return;
            }
            tries += 1;
            if tries >= self.max_tries {
                self.metrics.failed.fetch_add(1, Ordering::Relaxed);
                tracing::error!(event = ?event.metadata.name, "unable to write event (retry limit exceeded)");
                return;
            }
            // The first wait is random, so that recorders do not all retry in step when the
            // API server comes back.
            let wait = if tries == 1 {
                self.retry_sleep.mul_f64(self.rng.next_f64())
            } else {
                self.retry_sleep
            };
            tokio::time::sleep(wait).await;
        }
    }

    /// One try (upstream's `recordEvent`): patch a repeat, create otherwise (and when the
    /// patched event is gone). True when done: written, or rejected for good.
    async fn write(&mut self, event: &Event, key: &str, patch: Option<&serde_json::Value>) -> bool {
        let namespace = event.metadata.namespace.as_deref().unwrap_or("default");
        let api: Api<Event> = Api::namespaced(self.client.clone(), namespace);
        let name = event.metadata.name.as_deref().unwrap_or_default();
        let mut result = None;
        if let Some(patch) = patch {
            match api
                .patch(name, &PatchParams::default(), &Patch::Strategic(patch))
                .await
            {
                Ok(written) => {
                    self.metrics.patched.fetch_add(1, Ordering::Relaxed);
                    result = Some(Ok(written));
                }
                Err(e) if e.is_not_found() => {}
                Err(e) => result = Some(Err(e)),
            }
        }
        let result = match result {
            Some(result) => result,
            None => {
                let mut new = event.clone();
                new.metadata.resource_version = None;
                let created = api.create(&PostParams::default(), &new).await;
                if created.is_ok() {
                    self.metrics.created.fetch_add(1, Ordering::Relaxed);
                }
                created
            }
        };
        match result {
            Ok(written) => {
                self.correlator.update_state(key, &written);
                true
            }
            Err(
                e @ (kubernaut_client::Error::Api(_) | kubernaut_client::Error::InvalidRequest(_)),
            ) => {
                // Sending it again would be refused again.
                self.metrics.failed.fetch_add(1, Ordering::Relaxed);
                if e.is_already_exists() {
                    tracing::debug!(event = name, error = %e, "server rejected event (will not retry)");
                } else {
                    tracing::error!(event = name, error = %e, "server rejected event (will not retry)");
                }
                true
            }
            Err(e) => {
                tracing::warn!(event = name, error = %e, "unable to write event (may retry after sleeping)");
                false
            }
        }
    }
}

/// What the correlator decided.
#[derive(Debug)]
enum Correlated {
    /// Dropped by the spam limit.
    Skip,
    /// Write `event`: create it, or apply `patch` to the existing one.
    Write {
        event: Box<Event>,
        /// The cache key its server state is recorded under.
        key: String,
        /// The patch of a repeat.
        patch: Option<serde_json::Value>,
        /// Whether it is an aggregate event replacing the one recorded.
        aggregated: bool,
    },
}

/// Client-go's `EventCorrelator`: aggregation, counting and the spam limit.
struct Correlator {
    aggregates: Lru<AggregateRecord>,
    logs: Lru<EventLog>,
    spam: Lru<TokenBucket>,
    max_events: usize,
    interval: Duration,
    burst: u32,
    refill: Duration,
}

/// The distinct messages of a group of similar events, and when the last one came.
struct AggregateRecord {
    messages: HashSet<String>,
    last: Instant,
}

/// What was written for an event: its name and count, and when it first happened.
#[derive(Clone, Debug)]
struct EventLog {
    count: i32,
    first_timestamp: Option<Time>,
    name: String,
    resource_version: Option<String>,
}

/// A token bucket of `burst` tokens, one more per `refill`, kept as the instant at which it
/// will be full again (exact in integer time, where a count of fractional tokens would drift).
#[derive(Debug)]
struct TokenBucket {
    full_at: Instant,
}

impl TokenBucket {
    fn full(now: Instant) -> Self {
        TokenBucket { full_at: now }
    }

    /// Takes a token if there is one: the bucket holds `burst - (full_at - now) / refill`.
    fn try_accept(&mut self, burst: u32, refill: Duration, now: Instant) -> bool {
        let missing = self.full_at.saturating_duration_since(now);
        let spare = refill.saturating_mul(burst.saturating_sub(1));
        if burst == 0 || missing > spare {
            return false;
        }
        // A refill period beyond the clock's range allows nothing.
        match self.full_at.max(now).checked_add(refill) {
            Some(full_at) => {
                self.full_at = full_at;
                true
            }
            None => false,
        }
    }
}

/// Joins key parts with a separator no part contains in practice (upstream joins with
/// nothing, which lets `ab`+`c` and `a`+`bc` collide).
fn key(parts: &[&str]) -> String {
    parts.join("\u{0}")
}

fn reference_parts(event: &Event) -> [&str; 2] {
    let source = event.source.as_ref();
    [
        source
            .and_then(|s| s.component.as_deref())
            .unwrap_or_default(),
        source.and_then(|s| s.host.as_deref()).unwrap_or_default(),
    ]
}

fn object_parts(event: &Event) -> [&str; 5] {
    let o = &event.involved_object;
    [
        o.kind.as_deref().unwrap_or_default(),
        o.namespace.as_deref().unwrap_or_default(),
        o.name.as_deref().unwrap_or_default(),
        o.uid.as_deref().unwrap_or_default(),
        o.api_version.as_deref().unwrap_or_default(),
    ]
}

/// Upstream's `getEventKey`: source, object (with field path), type, reason and message.
fn event_key(event: &Event) -> String {
    let [component, host] = reference_parts(event);
    let [kind, namespace, name, uid, api_version] = object_parts(event);
    key(&[
        component,
        host,
        kind,
        namespace,
        name,
        event
            .involved_object
            .field_path
            .as_deref()
            .unwrap_or_default(),
        uid,
        api_version,
        event.type_.as_deref().unwrap_or_default(),
        event.reason.as_deref().unwrap_or_default(),
        event.message.as_deref().unwrap_or_default(),
    ])
}

/// Upstream's `getSpamKey`: source and object.
fn spam_key(event: &Event) -> String {
    let [component, host] = reference_parts(event);
    let [kind, namespace, name, uid, api_version] = object_parts(event);
    key(&[component, host, kind, namespace, name, uid, api_version])
}

/// Upstream's `EventAggregatorByReasonFunc`: the group (source, object, type, reason,
/// reporter) and the event within it (its message).
fn aggregate_key(event: &Event) -> (String, String) {
    let [component, host] = reference_parts(event);
    let [kind, namespace, name, uid, api_version] = object_parts(event);
    let group = key(&[
        component,
        host,
        kind,
        namespace,
        name,
        uid,
        api_version,
        event.type_.as_deref().unwrap_or_default(),
        event.reason.as_deref().unwrap_or_default(),
        event.reporting_component.as_deref().unwrap_or_default(),
        event.reporting_instance.as_deref().unwrap_or_default(),
    ]);
    (group, event.message.clone().unwrap_or_default())
}

impl Correlator {
    fn new(config: &RecorderConfig) -> Self {
        let size = config.cache_size.max(1);
        Correlator {
            aggregates: Lru::new(size),
            logs: Lru::new(size),
            spam: Lru::new(size),
            max_events: config.aggregate_max_events.max(1),
            interval: config.aggregate_interval,
            burst: config.spam_burst,
            refill: config.spam_refill,
        }
    }

    /// Aggregates, counts, then filters `event` (upstream's `EventCorrelate`).
    fn correlate(&mut self, event: Event, now: Instant) -> Correlated {
        let (event, key, aggregated) = self.aggregate(event, now, Utc::now());
        let (event, patch) = self.observe(event, &key);
        if !self.accept(&event, now) {
            return Correlated::Skip;
        }
        Correlated::Write {
            event: Box::new(event),
            key,
            patch,
            aggregated,
        }
    }

    /// Upstream's `EventAggregate`: the event itself and its full key, or, from the
    /// `max_events`-th distinct similar event, an aggregate event and the group's key.
    fn aggregate(
        &mut self,
        event: Event,
        now: Instant,
        wall: DateTime<Utc>,
    ) -> (Event, String, bool) {
        let full_key = event_key(&event);
        let (group, message) = aggregate_key(&event);
        let interval = self.interval;
        let stale = self
            .aggregates
            .get_mut(&group)
            .is_none_or(|record| now.saturating_duration_since(record.last) > interval);
        if stale {
            self.aggregates.insert(
                group.clone(),
                AggregateRecord {
                    messages: HashSet::new(),
                    last: now,
                },
            );
        }
        let Some(record) = self.aggregates.get_mut(&group) else {
            // Just inserted: the cache holds at least one entry.
            return (event, full_key, false);
        };
        record.messages.insert(message);
        record.last = now;
        if record.messages.len() < self.max_events {
            return (event, full_key, false);
        }
        // Keep the set from growing past the threshold.
        if let Some(any) = record.messages.iter().next().cloned() {
            record.messages.remove(&any);
        }
        let involved = &event.involved_object;
        let aggregate = Event {
            metadata: ObjectMeta {
                name: Some(event_name(
                    involved.name.as_deref().unwrap_or_default(),
                    wall,
                )),
                namespace: event.metadata.namespace.clone(),
                ..ObjectMeta::default()
            },
            count: Some(1),
            first_timestamp: Some(Time::from(wall)),
            last_timestamp: Some(Time::from(wall)),
            involved_object: involved.clone(),
            message: Some(format!(
                "{AGGREGATE_MESSAGE_PREFIX}{}",
                event.message.as_deref().unwrap_or_default()
            )),
            type_: event.type_.clone(),
            reason: event.reason.clone(),
            source: event.source.clone(),
            reporting_component: event.reporting_component.clone(),
            reporting_instance: event.reporting_instance.clone(),
            ..Event::default()
        };
        (aggregate, group, true)
    }

    /// Upstream's `eventObserve`: a repeat of an event written before takes its name, first
    /// timestamp and count + 1, and is written as a patch of count, last timestamp and
    /// message.
    fn observe(&mut self, mut event: Event, key: &str) -> (Event, Option<serde_json::Value>) {
        let mut patch = None;
        if let Some(last) = self.logs.get_mut(key).filter(|l| l.count > 0) {
            event.metadata.name = Some(last.name.clone());
            event.metadata.resource_version = last.resource_version.clone();
            event.first_timestamp = last.first_timestamp;
            event.count = Some(last.count.saturating_add(1));
            patch = Some(json!({
                "count": event.count,
                "lastTimestamp": event.last_timestamp,
                "message": event.message,
            }));
        }
        self.logs.insert(
            key.to_owned(),
            EventLog {
                count: event.count.unwrap_or(1),
                first_timestamp: event.first_timestamp,
                name: event.metadata.name.clone().unwrap_or_default(),
                resource_version: event.metadata.resource_version.clone(),
            },
        );
        (event, patch)
    }

    /// Upstream's `EventSourceObjectSpamFilter`: whether the source may send this event about
    /// the object now.
    fn accept(&mut self, event: &Event, now: Instant) -> bool {
        let key = spam_key(event);
        let (burst, refill) = (self.burst, self.refill);
        match self.spam.get_mut(&key) {
            Some(bucket) => bucket.try_accept(burst, refill, now),
            None => {
                let mut bucket = TokenBucket::full(now);
                let accepted = bucket.try_accept(burst, refill, now);
                self.spam.insert(key, bucket);
                accepted
            }
        }
    }

    /// Upstream's `UpdateState`: what the server stored for the event under `key`.
    fn update_state(&mut self, key: &str, written: &Event) {
        self.logs.insert(
            key.to_owned(),
            EventLog {
                count: written.count.unwrap_or(1),
                first_timestamp: written.first_timestamp,
                name: written.metadata.name.clone().unwrap_or_default(),
                resource_version: written.metadata.resource_version.clone(),
            },
        );
    }
}

/// A least-recently-used cache of string keys: reading or writing an entry makes it the most
/// recent; beyond `capacity` entries the least recent is evicted.
struct Lru<V> {
    capacity: usize,
    tick: u64,
    entries: HashMap<String, (V, u64)>,
    /// Entries by the tick of their last use.
    order: BTreeMap<u64, String>,
}

impl<V> Lru<V> {
    fn new(capacity: usize) -> Self {
        Lru {
            capacity: capacity.max(1),
            tick: 0,
            entries: HashMap::new(),
            order: BTreeMap::new(),
        }
    }

    fn next_tick(&mut self) -> u64 {
        self.tick += 1;
        self.tick
    }

    fn get_mut(&mut self, key: &str) -> Option<&mut V> {
        let tick = self.next_tick();
        let (value, used) = self.entries.get_mut(key)?;
        self.order.remove(used);
        *used = tick;
        self.order.insert(tick, key.to_owned());
        Some(value)
    }

    fn insert(&mut self, key: String, value: V) {
        let tick = self.next_tick();
        if let Some((_, used)) = self.entries.insert(key.clone(), (value, tick)) {
            self.order.remove(&used);
        }
        self.order.insert(tick, key);
        while self.entries.len() > self.capacity {
            let Some((_, oldest)) = self.order.pop_first() else {
                break;
            };
            self.entries.remove(&oldest);
        }
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.entries.len()
    }

    #[cfg(test)]
    fn contains(&self, key: &str) -> bool {
        self.entries.contains_key(key)
    }
}

#[cfg(test)]
mod tests;
