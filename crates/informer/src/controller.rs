//! The controller: reconcile objects of one kind whenever they, the objects they own, or
//! anything mapped to them changes — from shared caches, through a rate-limited work queue,
//! never two reconciles of one object at once, with per-object backoff on errors,
//! read-your-own-writes, metrics and graceful shutdown.
//!
//! ```no_run
//! use std::sync::Arc;
//! use std::time::Duration;
//! use kubernaut_api_types::apps::v1::{Deployment, ReplicaSet};
//! use kubernaut_client::Client;
//! use kubernaut_informer::controller::{Action, Controller};
//! use kubernaut_informer::informer::InformerFactory;
//!
//! # async fn run(client: Client) {
//! let factory = InformerFactory::new(client);
//! Controller::<Deployment>::new(&factory, None, Default::default())
//!     .owns::<ReplicaSet>(&factory, None, Default::default())
//!     .run(
//!         |deployment: Arc<Deployment>, _ctx: Arc<()>| async move {
//!             // Make the world look like `deployment` says; idempotently.
//!             Ok::<_, std::convert::Infallible>(Action::requeue(Duration::from_secs(300)))
//!         },
//!         |_deployment, _error, _ctx| Action::backoff(),
//!         Arc::new(()),
//!     )
//!     .await;
//! # }
//! ```
//!
//! # Guarantees
//! - A reconcile sees the object as the cache holds it when the reconcile starts; it is
//!   level-triggered: it is not told why it runs, and must make the world match the object.
//! - Reconciles start only once every cache the controller reads has its first list.
//! - One object is never reconciled twice at once; a change during a reconcile makes it run
//!   once more afterwards.
//! - After the controller writes through [`Controller::client`], its next reconciles wait
//!   until the caches have seen those writes (read-your-own-writes), so a reconcile never acts
//!   on a cache older than its own last write (no double creates from a stale cache).

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::stream::{BoxStream, SelectAll};
use futures::{FutureExt as _, Stream, StreamExt as _};
use kubernaut_api_types::{Object, Resource};
use kubernaut_client::Client;
use parking_lot::Mutex;
use serde::de::DeserializeOwned;

use crate::informer::{InformerFactory, SharedInformer};
use crate::store::{Delta, ObjectKey, Store};
use crate::watcher;
use crate::workqueue::{Priority, WorkQueue};

/// What to do after a reconcile.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Action {
    requeue_after: Option<Duration>,
    backoff: bool,
}

impl Action {
    /// Reconcile again after `after` even if nothing changes.
    pub fn requeue(after: Duration) -> Self {
        Action {
            requeue_after: Some(after),
            backoff: false,
        }
    }

    /// Reconcile again only when something changes.
    pub fn await_change() -> Self {
        Action {
            requeue_after: None,
            backoff: false,
        }
    }

    /// Retry with the object's exponential backoff (5 ms doubling to 1000 s, reset by the
    /// next success): the usual answer of an error policy.
    pub fn backoff() -> Self {
        Action {
            requeue_after: None,
            backoff: true,
        }
    }

    /// The requeue delay, if any.
    pub fn requeue_after(&self) -> Option<Duration> {
        self.requeue_after
    }
}

/// A filter of changes to the reconciled kind: a change passes when it returns true.
pub type Predicate<K> = Arc<dyn Fn(&Delta<K>) -> bool + Send + Sync>;

/// Ready-made predicates. Creations, deletions and replays always pass; they judge updates.
pub mod predicates {
    use std::sync::Arc;

    use kubernaut_api_types::Object;

    use super::Predicate;
    use crate::store::Delta;

    fn on_update<K: 'static>(f: impl Fn(&K, &K) -> bool + Send + Sync + 'static) -> Predicate<K> {
        Arc::new(move |d: &Delta<K>| match d {
            Delta::Updated { old, new } => f(old, new),
            _ => true,
        })
    }

    /// Updates that change `metadata.generation` (spec changes, not status).
    pub fn generation_changed<K: Object + 'static>() -> Predicate<K> {
        on_update(|o: &K, n: &K| o.meta().generation != n.meta().generation)
    }

    /// Updates that change labels.
    pub fn labels_changed<K: Object + 'static>() -> Predicate<K> {
        on_update(|o: &K, n: &K| o.meta().labels != n.meta().labels)
    }

    /// Updates that change annotations.
    pub fn annotations_changed<K: Object + 'static>() -> Predicate<K> {
        on_update(|o: &K, n: &K| o.meta().annotations != n.meta().annotations)
    }

    /// Passes when any of `predicates` passes.
    pub fn any<K: 'static>(predicates: Vec<Predicate<K>>) -> Predicate<K> {
        Arc::new(move |d: &Delta<K>| predicates.iter().any(|p| p(d)))
    }
}

/// Settings of a controller.
#[derive(Clone, Debug)]
pub struct Config {
    /// The controller's name (metrics, logs, the work queue).
    pub name: String,
    /// How many objects are reconciled at once (default 1).
    pub concurrency: usize,
    /// How long a reconcile waits for the caches to see the controller's own writes before it
    /// goes ahead anyway (default 10 s).
    pub freshness_timeout: Duration,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            name: "controller".to_owned(),
            concurrency: 1,
            freshness_timeout: Duration::from_secs(10),
        }
    }
}

/// The resource versions of the controller's own writes, by kind.
#[derive(Debug, Default)]
pub struct WriteTracker {
    written: Mutex<HashMap<(String, String), u64>>,
}

impl WriteTracker {
    /// Records a write of `kind` in `api_version` at `rv`.
    pub fn record(&self, api_version: &str, kind: &str, rv: u64) {
        let mut w = self.written.lock();
        let e = w
            .entry((api_version.to_owned(), kind.to_owned()))
            .or_insert(0);
        *e = (*e).max(rv);
    }

    /// The newest version written of `kind`.
    pub fn written(&self, api_version: &str, kind: &str) -> Option<u64> {
        self.written
            .lock()
            .get(&(api_version.to_owned(), kind.to_owned()))
            .copied()
    }
}

/// A boxed future that completes when a cache reaches some state.
type Wait = Pin<Box<dyn Future<Output = ()> + Send>>;

/// A cache the controller reads, with the kind it holds, for readiness and freshness.
struct Cache {
    api_version: &'static str,
    kind: &'static str,
    ready: Box<dyn Fn() -> Wait + Send + Sync>,
    version: Box<dyn Fn() -> u64 + Send + Sync>,
    wait_for: Box<dyn Fn(u64) -> Wait + Send + Sync>,
}

fn cache_of<T>(informer: &SharedInformer<T>) -> Cache
where
    T: Resource + Object + DeserializeOwned + Clone + Send + Sync + 'static,
{
    let (s1, s2, s3) = (informer.store(), informer.store(), informer.store());
    Cache {
        api_version: T::API_VERSION,
        kind: T::KIND,
        ready: Box::new(move || {
            let s = s1.clone();
            Box::pin(async move { s.wait_until_ready().await })
        }),
        version: Box::new(move || s2.resource_version()),
        wait_for: Box::new(move |rv| {
            let s = s3.clone();
            Box::pin(async move { s.wait_for_version(rv).await })
        }),
    }
}

/// Reconciles objects of kind `K`.
pub struct Controller<K> {
    primary: Arc<SharedInformer<K>>,
    triggers: Vec<BoxStream<'static, (ObjectKey, Priority)>>,
    predicates: Vec<Predicate<K>>,
    caches: Vec<Cache>,
    config: Config,
    queue: WorkQueue<ObjectKey>,
    writes: Arc<WriteTracker>,
    client: Client,
    shutdown: Option<Pin<Box<dyn Future<Output = ()> + Send>>>,
    metrics: Option<Arc<crate::metrics::ControllerMetrics>>,
}

impl<K> std::fmt::Debug for Controller<K> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Controller")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

fn priority_of<T>(d: &Delta<T>) -> Priority {
    match d {
        Delta::Replayed(_) => Priority::LOW,
        _ => Priority::NORMAL,
    }
}

impl<K> Controller<K>
where
    K: Resource + Object + DeserializeOwned + Clone + Send + Sync + 'static,
{
    /// A controller of `K` in `namespace` (all with `None`), objects selected by `watch`'s
    /// selectors, reading from `factory`'s shared informers.
    pub fn new(factory: &InformerFactory, namespace: Option<&str>, watch: watcher::Config) -> Self {
        let primary = factory.informer::<K>(namespace, watch);
        let writes = Arc::new(WriteTracker::default());
        let client = recording_client(factory.client().clone(), Arc::clone(&writes));
        let caches = vec![cache_of(&primary)];
        Controller {
            primary,
            triggers: Vec::new(),
            predicates: Vec::new(),
            caches,
            config: Config::default(),
            queue: WorkQueue::builder().name("controller").build(),
            writes,
            client,
            shutdown: None,
            metrics: None,
        }
    }

    /// Settings.
    #[must_use]
    pub fn with_config(mut self, config: Config) -> Self {
        self.queue = WorkQueue::builder().name(config.name.clone()).build();
        self.config = config;
        self
    }

    /// Reconcile the owner of every `C` whose controller owner reference names a `K`.
    #[must_use]
    pub fn owns<C>(
        mut self,
        factory: &InformerFactory,
        namespace: Option<&str>,
        watch: watcher::Config,
    ) -> Self
    where
        C: Resource + Object + DeserializeOwned + Clone + Send + Sync + 'static,
    {
        let informer = factory.informer::<C>(namespace, watch);
        self.caches.push(cache_of(&informer));
        let owner_scope_namespaced = matches!(K::SCOPE, kubernaut_api_types::Scope::Namespaced);
        let owners = move |c: &C| -> Option<ObjectKey> {
            let r = c.meta().controller_ref()?;
            let (group, _) = kubernaut_api_types::split_api_version(&r.api_version);
            (r.kind == K::KIND && group == K::GROUP).then(|| {
                let ns = if owner_scope_namespaced {
                    c.meta().namespace.as_deref()
                } else {
                    None
                };
                ObjectKey::new(ns, &r.name)
            })
        };
        let stream = informer
            .subscribe()
            .flat_map(move |d| {
                let priority = priority_of(&d);
                let mut keys = Vec::new();
                if let Delta::Updated { old, .. } = &d
                    && let Some(k) = owners(old)
                {
                    keys.push(k);
                }
                if let Some(k) = owners(d.object()) {
                    keys.push(k);
                }
                keys.dedup();
                futures::stream::iter(keys.into_iter().map(move |k| (k, priority)))
            })
            .boxed();
        self.triggers.push(stream);
        self
    }

    /// Reconcile the objects `mapper` names for every change of a `W`.
    #[must_use]
    pub fn watches<W>(
        mut self,
        factory: &InformerFactory,
        namespace: Option<&str>,
        watch: watcher::Config,
        mapper: impl Fn(&W) -> Vec<ObjectKey> + Send + Sync + 'static,
    ) -> Self
    where
        W: Resource + Object + DeserializeOwned + Clone + Send + Sync + 'static,
    {
        let informer = factory.informer::<W>(namespace, watch);
        self.caches.push(cache_of(&informer));
        let mapper = Arc::new(mapper);
        let stream = informer
            .subscribe()
            .flat_map(move |d| {
                let priority = priority_of(&d);
                let mut keys = mapper(d.object());
                if let Delta::Updated { old, .. } = &d {
                    keys.extend(mapper(old));
                }
                keys.sort();
                keys.dedup();
                futures::stream::iter(keys.into_iter().map(move |k| (k, priority)))
            })
            .boxed();
        self.triggers.push(stream);
        self
    }

    /// Only changes to `K` that pass `predicate` trigger a reconcile (all predicates must
    /// pass). Owned and watched objects are not filtered.
    #[must_use]
    pub fn with_predicate(mut self, predicate: Predicate<K>) -> Self {
        self.predicates.push(predicate);
        self
    }

    /// Reconciles `concurrency` objects at once.
    #[must_use]
    pub fn concurrency(mut self, concurrency: usize) -> Self {
        self.config.concurrency = concurrency.max(1);
        self
    }

    /// Stops gracefully when `signal` completes: no new reconciles start, running ones finish.
    #[must_use]
    pub fn graceful_shutdown_on(
        mut self,
        signal: impl Future<Output = ()> + Send + 'static,
    ) -> Self {
        self.shutdown = Some(Box::pin(signal));
        self
    }

    /// Records reconcile and queue metrics into `metrics`.
    #[must_use]
    pub fn with_metrics(mut self, metrics: Arc<crate::metrics::ControllerMetrics>) -> Self {
        self.queue = WorkQueue::builder()
            .name(self.config.name.clone())
            .metrics(metrics.queue(&self.config.name))
            .build();
        self.metrics = Some(metrics);
        self
    }

    /// A client whose writes the controller tracks for read-your-own-writes: use it for every
    /// write a reconcile makes.
    pub fn client(&self) -> Client {
        self.client.clone()
    }

    /// The cache of `K`.
    pub fn store(&self) -> Store<K> {
        self.primary.store()
    }

    /// Completes once every cache the controller reads has its first list: the warm-up to
    /// await before competing for leadership, so that a new leader reconciles at once
    /// (see [`crate::leader::LeaderElector::warm_up`]).
    pub fn caches_ready(&self) -> impl Future<Output = ()> + Send + 'static {
        let waits: Vec<Wait> = self.caches.iter().map(|c| (c.ready)()).collect();
        async move {
            for w in waits {
                w.await;
            }
        }
    }

    /// The work queue (to add keys from elsewhere).
    pub fn queue(&self) -> WorkQueue<ObjectKey> {
        self.queue.clone()
    }

    /// Runs until the shutdown signal (or for ever): waits for every cache to list, then
    /// reconciles objects as they change.
    pub async fn run<C, E, Fut, R, P>(self, reconcile: R, error_policy: P, ctx: Arc<C>)
    where
        C: Send + Sync + 'static,
        E: std::fmt::Display + Send + 'static,
        Fut: Future<Output = Result<Action, E>> + Send + 'static,
        R: Fn(Arc<K>, Arc<C>) -> Fut + Send + Sync + 'static,
        P: Fn(Arc<K>, &E, Arc<C>) -> Action + Send + Sync + 'static,
    {
        let Controller {
            primary,
            mut triggers,
            predicates,
            caches,
            config,
            queue,
            writes,
            client: _,
            shutdown,
            metrics,
        } = self;
        let predicates = Arc::new(predicates);
        let primary_triggers = primary
            .subscribe()
            .filter_map(move |d| {
                let pass = predicates.iter().all(|p| p(&d));
                let item = pass.then(|| (ObjectKey::of(&**d.object()), priority_of(&d)));
                futures::future::ready(item)
            })
            .boxed();
        triggers.push(primary_triggers);
        let mut all: SelectAll<BoxStream<'static, (ObjectKey, Priority)>> =
            futures::stream::select_all(triggers);
        // Tasks are aborted if `run` itself is dropped (cancelled), so nothing outlives it.
        let pump = AbortOnDrop(Some({
            let queue = queue.clone();
            tokio::spawn(async move {
                while let Some((key, priority)) = all.next().await {
                    queue.add_with_priority(key, priority);
                }
            })
        }));
        for c in &caches {
            (c.ready)().await;
        }
        let caches = Arc::new(caches);
        let reconcile = Arc::new(reconcile);
        let error_policy = Arc::new(error_policy);
        let mut workers = Vec::new();
        for _ in 0..config.concurrency.max(1) {
            let queue = queue.clone();
            let store = primary.store();
            let (reconcile, error_policy, ctx) = (
                Arc::clone(&reconcile),
                Arc::clone(&error_policy),
                Arc::clone(&ctx),
            );
            let (caches, writes) = (Arc::clone(&caches), Arc::clone(&writes));
            let metrics = metrics.clone();
            let name = config.name.clone();
            let freshness = config.freshness_timeout;
            workers.push(AbortOnDrop(Some(tokio::spawn(async move {
                while let Some((key, _)) = queue.get().await {
                    // Read-your-own-writes: wait until every cache holds our own writes.
                    for c in caches.iter() {
                        if let Some(rv) = writes.written(c.api_version, c.kind)
                            && (c.version)() < rv
                            && tokio::time::timeout(freshness, (c.wait_for)(rv)).await.is_err()
                        {
                            tracing::warn!(controller = %name, kind = c.kind, rv, "cache did not catch up with our own write; reconciling anyway");
                        }
                    }
                    let Some(object) = store.get(&key) else {
                        // Gone: nothing to reconcile.
                        queue.forget(&key);
                        queue.done(&key);
                        continue;
                    };
                    let started = Instant::now();
                    let result = std::panic::AssertUnwindSafe(reconcile(Arc::clone(&object), Arc::clone(&ctx)))
                        .catch_unwind()
                        .await;
                    let elapsed = started.elapsed();
                    match result {
                        Ok(Ok(action)) => {
                            if let Some(m) = &metrics {
                                m.reconciled(&name, "success", elapsed);
                            }
                            queue.forget(&key);
                            if let Some(after) = action.requeue_after {
                                queue.add_after(key.clone(), after);
                            }
                        }
                        Ok(Err(e)) => {
                            if let Some(m) = &metrics {
                                m.reconciled(&name, "error", elapsed);
                            }
                            tracing::debug!(controller = %name, object = %key, error = %e, "reconcile failed");
                            let action = error_policy(object, &e, Arc::clone(&ctx));
                            apply_error_action(&queue, &key, action);
                        }
                        Err(_) => {
                            if let Some(m) = &metrics {
                                m.reconciled(&name, "panic", elapsed);
                            }
                            tracing::error!(controller = %name, object = %key, "reconcile panicked");
                            queue.add_rate_limited(key.clone());
                        }
                    }
                    queue.done(&key);
                }
            }))));
        }
        match shutdown {
            Some(signal) => signal.await,
            None => futures::future::pending::<()>().await,
        }
        drop(pump);
        queue.shut_down_with_drain().await;
        for mut w in workers {
            if let Some(handle) = w.0.take() {
                let _ = handle.await;
            }
        }
    }
}

/// Aborts its task when dropped.
struct AbortOnDrop(Option<tokio::task::JoinHandle<()>>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        if let Some(handle) = &self.0 {
            handle.abort();
        }
    }
}

fn apply_error_action(queue: &WorkQueue<ObjectKey>, key: &ObjectKey, action: Action) {
    if action.backoff {
        queue.add_rate_limited(key.clone());
    } else if let Some(after) = action.requeue_after {
        queue.add_after(key.clone(), after);
    } else {
        queue.forget(key);
    }
}

/// A client over `client` that records the resource version of every successful write.
fn recording_client(client: Client, writes: Arc<WriteTracker>) -> Client {
    let namespace = client.default_namespace().to_owned();
    let service = tower::service_fn(move |request: http::Request<kubernaut_client::Body>| {
        let client = client.clone();
        let writes = Arc::clone(&writes);
        async move {
            let write = matches!(
                *request.method(),
                http::Method::POST | http::Method::PUT | http::Method::PATCH | http::Method::DELETE
            );
            let response = client.send(request).await?;
            if !write || !response.status().is_success() {
                return Ok::<_, kubernaut_client::Error>(response);
            }
            let (parts, body) = response.into_parts();
            let bytes = body
                .collect_bytes()
                .await
                .map_err(kubernaut_client::Error::Transport)?;
            if let Ok(v) = serde_json::from_slice::<serde_json::Value>(&bytes) {
                let rv = v
                    .pointer("/metadata/resourceVersion")
                    .and_then(serde_json::Value::as_str)
                    .and_then(|r| r.parse::<u64>().ok());
                if let (Some(av), Some(kind), Some(rv)) = (
                    v.get("apiVersion").and_then(serde_json::Value::as_str),
                    v.get("kind").and_then(serde_json::Value::as_str),
                    rv,
                ) {
                    writes.record(av, kind, rv);
                }
            }
            Ok(http::Response::from_parts(
                parts,
                kubernaut_client::ResponseBody::from_bytes(bytes),
            ))
        }
    });
    Client::new(service, &namespace)
}

/// Keeps the trait bound helpers in one place.
#[allow(dead_code)]
fn assert_send<T: Send>(_: &T) {}

/// Lets `Stream` stay imported for the doc links.
#[allow(dead_code)]
type Triggers = dyn Stream<Item = (ObjectKey, Priority)> + Send;
