//! Shared informers: one watch and one cache per (kind, namespace, selectors) per process,
//! shared by every controller, with subscribers that may join at any time.
//!
//! A [`Subscription`] first replays the cache as it is when it joins ([`Delta::Replayed`]),
//! then yields every change after it — nothing missed, nothing twice: the reflector applies a
//! change and publishes it under the cache's lock, and a subscriber joins under the same lock.
//!
//! # Memory usage
//! Changes go to subscribers through one ring buffer per informer
//! ([`InformerFactory::with_buffer`], default 1,024 changes), shared by all of them. A
//! subscriber that falls more than that behind is not waited for and does not grow anything:
//! it is resynced from the cache instead — it gets the current state of every object again
//! (`Replayed`), and a `Deleted` for each object it had seen that is gone. Each subscription
//! remembers the objects it has been told about (a pointer per object, shared with the
//! cache) to make that possible.

use std::any::{Any, TypeId};
use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use futures::{Stream, StreamExt as _};
use kubernaut_api_types::meta::PartialObjectMetadata;
use kubernaut_api_types::{Object, Resource};
use kubernaut_client::{Api, Client};
use parking_lot::Mutex;
use serde::de::DeserializeOwned;
use tokio::sync::broadcast;
use tokio_stream::wrappers::BroadcastStream;
use tokio_stream::wrappers::errors::BroadcastStreamRecvError;

use prometheus_client::metrics::counter::Counter;

use crate::metrics::ControllerMetrics;
use crate::store::{Delta, ObjectKey, Store, Writer};
use crate::watcher::{self, watcher};

/// The default number of changes buffered for subscribers.
pub const DEFAULT_BUFFER: usize = 1024;

/// Counters of an informer, for metrics.
#[derive(Debug, Default)]
pub struct InformerStats {
    /// Completed (re)lists.
    pub relists: std::sync::atomic::AtomicU64,
    /// Watch errors (every one retried).
    pub errors: std::sync::atomic::AtomicU64,
    /// Subscriber resyncs after falling behind.
    pub resyncs: std::sync::atomic::AtomicU64,
}

/// One watch and one cache, shared by any number of subscribers.
pub struct SharedInformer<K> {
    store: Store<K>,
    changes: broadcast::Sender<Delta<K>>,
    stats: Arc<InformerStats>,
    task: tokio::task::JoinHandle<()>,
}

impl<K> fmt::Debug for SharedInformer<K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SharedInformer")
            .field("store", &self.store)
            .finish_non_exhaustive()
    }
}

impl<K> Drop for SharedInformer<K> {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl<K> SharedInformer<K>
where
    K: Object + DeserializeOwned + Clone + Send + Sync + 'static,
{
    /// Starts watching `api` into a new cache (in a task of its own, ended when the informer
    /// is dropped).
    pub fn new(api: Api<K>, config: watcher::Config, buffer: usize) -> Self {
        SharedInformer::with_writer(api, config, buffer, Writer::new())
    }

    /// Starts watching `api` into the cache of `writer` (to choose its transform).
    pub fn with_writer(
        api: Api<K>,
        config: watcher::Config,
        buffer: usize,
        writer: Writer<K>,
    ) -> Self {
        SharedInformer::start(api, config, buffer, writer, None)
    }

    fn start(
        api: Api<K>,
        config: watcher::Config,
        buffer: usize,
        mut writer: Writer<K>,
        counters: Option<(Counter, Counter)>,
    ) -> Self {
        let (changes, _) = broadcast::channel(buffer.max(1));
        let store = writer.store();
        let stats = Arc::new(InformerStats::default());
        let task = {
            let changes = changes.clone();
            let stats = Arc::clone(&stats);
            let kind = std::any::type_name::<K>();
            tokio::spawn(async move {
                let mut events = std::pin::pin!(watcher(api, config));
                while let Some(event) = events.next().await {
                    match event {
                        Ok(event) => {
                            if matches!(event, watcher::Event::InitDone) {
                                stats
                                    .relists
                                    .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                                if let Some((relists, _)) = &counters {
                                    relists.inc();
                                }
                            }
                            writer.apply_with(event, |deltas| {
                                for d in deltas {
                                    // Nobody listening is fine; lagging listeners resync.
                                    let _ = changes.send(d.clone());
                                }
                            });
                        }
                        Err(e) => {
                            stats
                                .errors
                                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                            if let Some((_, errors)) = &counters {
                                errors.inc();
                            }
                            tracing::debug!(kind, error = %e, "watch failed; retrying");
                        }
                    }
                }
            })
        };
        SharedInformer {
            store,
            changes,
            stats,
            task,
        }
    }

    /// The cache.
    pub fn store(&self) -> Store<K> {
        self.store.clone()
    }

    /// The informer's counters.
    pub fn stats(&self) -> &Arc<InformerStats> {
        &self.stats
    }

    /// A new subscriber: the cache as it is now, then every change.
    pub fn subscribe(&self) -> Subscription<K> {
        let (replay, receiver) = self
            .store
            .snapshot_with(|objects| (objects, self.changes.subscribe()));
        let mut seen = HashMap::new();
        let mut queue = VecDeque::with_capacity(replay.len());
        for obj in replay {
            seen.insert(ObjectKey::of(&*obj), Arc::clone(&obj));
            queue.push_back(Delta::Replayed(obj));
        }
        Subscription {
            store: self.store.clone(),
            changes: self.changes.clone(),
            receiver: BroadcastStream::new(receiver),
            queue,
            seen,
            stats: Arc::clone(&self.stats),
        }
    }
}

/// A subscriber's view of a shared informer: a stream of [`Delta`]s.
pub struct Subscription<K> {
    store: Store<K>,
    changes: broadcast::Sender<Delta<K>>,
    receiver: BroadcastStream<Delta<K>>,
    queue: VecDeque<Delta<K>>,
    /// The objects this subscriber has been told about, to tell it about deletions it missed
    /// when it is resynced.
    seen: HashMap<ObjectKey, Arc<K>>,
    stats: Arc<InformerStats>,
}

impl<K> fmt::Debug for Subscription<K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Subscription")
            .field("queued", &self.queue.len())
            .field("seen", &self.seen.len())
            .finish_non_exhaustive()
    }
}

impl<K: Object + Clone + Send + Sync + 'static> Subscription<K> {
    fn track(&mut self, d: &Delta<K>) {
        let key = ObjectKey::of(&**d.object());
        match d {
            Delta::Deleted(_) => {
                self.seen.remove(&key);
            }
            other => {
                self.seen.insert(key, Arc::clone(other.object()));
            }
        }
    }

    /// Fell behind: replay the cache and report what disappeared meanwhile.
    fn resync(&mut self) {
        self.stats
            .resyncs
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let (objects, receiver) = self
            .store
            .snapshot_with(|objects| (objects, self.changes.subscribe()));
        self.receiver = BroadcastStream::new(receiver);
        self.queue.clear();
        let mut now: HashMap<ObjectKey, Arc<K>> = HashMap::with_capacity(objects.len());
        for obj in objects {
            now.insert(ObjectKey::of(&*obj), obj);
        }
        for (key, old) in &self.seen {
            if !now.contains_key(key) {
                self.queue.push_back(Delta::Deleted(Arc::clone(old)));
            }
        }
        for obj in now.values() {
            self.queue.push_back(Delta::Replayed(Arc::clone(obj)));
        }
        self.seen = now;
    }
}

impl<K: Object + Clone + Send + Sync + 'static> Stream for Subscription<K> {
    type Item = Delta<K>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        loop {
            if let Some(d) = this.queue.pop_front() {
                // Replays were recorded when queued.
                if !matches!(d, Delta::Replayed(_)) {
                    this.track(&d);
                }
                return Poll::Ready(Some(d));
            }
            match this.receiver.poll_next_unpin(cx) {
                Poll::Ready(Some(Ok(d))) => {
                    this.track(&d);
                    return Poll::Ready(Some(d));
                }
                Poll::Ready(Some(Err(BroadcastStreamRecvError::Lagged(_)))) => this.resync(),
                Poll::Ready(None) => return Poll::Ready(None),
                Poll::Pending => return Poll::Pending,
            }
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct InformerKey {
    kind: TypeId,
    /// For metadata informers: the group and resource.
    resource: Option<(String, String)>,
    namespace: Option<String>,
    labels: Option<String>,
    fields: Option<String>,
}

/// One [`SharedInformer`] per (kind, namespace, selectors) per process.
pub struct InformerFactory {
    client: Client,
    buffer: usize,
    metrics: Option<Arc<ControllerMetrics>>,
    informers: Mutex<HashMap<InformerKey, Arc<dyn Any + Send + Sync>>>,
}

impl fmt::Debug for InformerFactory {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("InformerFactory")
            .field("informers", &self.informers.lock().len())
            .finish_non_exhaustive()
    }
}

impl InformerFactory {
    /// A factory whose informers watch through `client`.
    pub fn new(client: Client) -> Self {
        InformerFactory {
            client,
            buffer: DEFAULT_BUFFER,
            metrics: None,
            informers: Mutex::new(HashMap::new()),
        }
    }

    /// Changes buffered per informer for its subscribers.
    #[must_use]
    pub fn with_buffer(mut self, buffer: usize) -> Self {
        self.buffer = buffer.max(1);
        self
    }

    /// Counts every informer's relists and watch errors in `metrics`.
    #[must_use]
    pub fn with_metrics(mut self, metrics: Arc<ControllerMetrics>) -> Self {
        self.metrics = Some(metrics);
        self
    }

    /// The client.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// The informer of `K` in `namespace` (all namespaces with `None`) with `config`'s
    /// selectors: started on first use, shared afterwards.
    pub fn informer<K>(
        &self,
        namespace: Option<&str>,
        config: watcher::Config,
    ) -> Arc<SharedInformer<K>>
    where
        K: Resource + Object + DeserializeOwned + Clone + Send + Sync + 'static,
    {
        let key = InformerKey {
            kind: TypeId::of::<K>(),
            resource: None,
            namespace: namespace.map(str::to_owned),
            labels: config.label_selector.clone(),
            fields: config.field_selector.clone(),
        };
        let mut informers = self.informers.lock();
        if let Some(existing) = informers.get(&key)
            && let Ok(informer) = Arc::clone(existing).downcast::<SharedInformer<K>>()
        {
            return informer;
        }
        let api = match namespace {
            Some(ns) => Api::namespaced_with(self.client.clone(), ns, &K::api_resource()),
            None => Api::all(self.client.clone()),
        };
        let counters = self.metrics.as_ref().map(|m| m.informer(K::KIND));
        let informer = Arc::new(SharedInformer::start(
            api,
            config,
            self.buffer,
            Writer::new(),
            counters,
        ));
        informers.insert(key, Arc::clone(&informer) as Arc<dyn Any + Send + Sync>);
        informer
    }

    /// A metadata-only informer of the kind `resource` describes: objects cached as
    /// [`PartialObjectMetadata`] (the server sends only metadata), for controllers that need
    /// names, labels and owners of many objects but not their contents (the garbage collector,
    /// `owns` of large kinds). Shared like [`InformerFactory::informer`].
    pub fn metadata_informer(
        &self,
        resource: &kubernaut_api_types::ApiResource,
        namespace: Option<&str>,
        config: watcher::Config,
    ) -> Arc<SharedInformer<PartialObjectMetadata>> {
        let key = InformerKey {
            kind: TypeId::of::<PartialObjectMetadata>(),
            resource: Some((resource.group.clone(), resource.plural.clone())),
            namespace: namespace.map(str::to_owned),
            labels: config.label_selector.clone(),
            fields: config.field_selector.clone(),
        };
        let mut informers = self.informers.lock();
        if let Some(existing) = informers.get(&key)
            && let Ok(informer) =
                Arc::clone(existing).downcast::<SharedInformer<PartialObjectMetadata>>()
        {
            return informer;
        }
        let client = metadata_client(self.client.clone());
        let api = match namespace {
            Some(ns) => Api::namespaced_with(client, ns, resource),
            None => Api::all_with(client, resource),
        };
        let counters = self.metrics.as_ref().map(|m| m.informer(&resource.kind));
        let informer = Arc::new(SharedInformer::start(
            api,
            config,
            self.buffer,
            Writer::new(),
            counters,
        ));
        informers.insert(key, Arc::clone(&informer) as Arc<dyn Any + Send + Sync>);
        informer
    }

    /// How many informers run.
    pub fn len(&self) -> usize {
        self.informers.lock().len()
    }

    /// Whether no informer runs.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// The `Accept` header that asks for metadata only.
const METADATA_ACCEPT: &str = "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1,\
application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1,application/json";

/// A client over `client` that asks the server for metadata only.
pub fn metadata_client(client: Client) -> Client {
    let namespace = client.default_namespace().to_owned();
    let service = tower::service_fn(move |mut request: http::Request<kubernaut_client::Body>| {
        let client = client.clone();
        async move {
            request.headers_mut().insert(
                http::header::ACCEPT,
                http::HeaderValue::from_static(METADATA_ACCEPT),
            );
            client.send(request).await
        }
    });
    Client::new(service, &namespace)
}
