//! The watch cache: per resource, every current object (encoded once, resource version
//! included) and a window of recent events, fed by one store watch. Lists and watches are
//! served from it without touching the store, as upstream's cacher does.
//!
//! # Freshness
//! A read without a resource version must see every write acknowledged before it (upstream's
//! consistent reads from cache): the reader asks the store for its current revision and waits
//! until the cache has caught up, asking the store watch for a progress notification so that a
//! quiet resource catches up too.
//!
//! # Memory usage
//! One encoded copy of every object plus its labels and selectable fields; the event window
//! holds at most [`CacheConfig::window`] events, which share the objects' encodings. A watcher
//! is a position in the window: it holds nothing else, and one that falls out of the window
//! (or survives a relist) is ended with `410 Expired`, never buffered.

use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use futures::StreamExt;
use kubernaut_store::{
    Backend, EventKind, KeyValue, ListOptions, ReadAt, StoreError, WatchOptions, WatchResponse,
};
use parking_lot::RwLock;
use tokio::sync::watch;

use crate::error::ApiError;
use crate::object;
use crate::resources::ResourceSpec;

/// Settings of the watch caches.
#[derive(Clone, Copy, Debug)]
pub struct CacheConfig {
    /// Events kept per resource for watches that resume from a resource version (default
    /// 10,000). A watch from an older version gets `410 Expired` and must relist.
    pub window: usize,
    /// How long a read waits for its cache to catch up with the store before it fails with
    /// `504 Timeout` (default 3 s, as upstream).
    pub freshness_timeout: Duration,
    /// How often the store watch reports progress, which moves quiet caches forward (default
    /// 1 s).
    pub progress_interval: Duration,
}

impl Default for CacheConfig {
    fn default() -> Self {
        CacheConfig {
            window: 10_000,
            freshness_timeout: Duration::from_secs(3),
            progress_interval: Duration::from_secs(1),
        }
    }
}

/// An object as the cache holds it.
#[derive(Debug)]
pub struct CachedObject {
    /// `metadata.namespace`, for namespaced resources.
    pub namespace: Option<String>,
    /// `metadata.name`.
    pub name: String,
    /// Its resource version (for a deleted object: the deletion's).
    pub rv: i64,
    /// The object as clients get it, resource version included.
    pub json: Bytes,
    /// `metadata.labels`.
    pub labels: BTreeMap<String, String>,
    /// The values of the resource's selectable fields.
    pub fields: Vec<(&'static str, String)>,
}

impl CachedObject {
    /// Builds the cached form of a stored object at `rv`.
    fn new(spec: &ResourceSpec, stored: &[u8], rv: i64) -> Option<Self> {
        let value = object::decode_stored(stored, rv).ok()?;
        let json = object::with_resource_version(stored, rv);
        Some(Self::from_value(spec, &value, json, rv))
    }

    /// Builds the cached form of an object already parsed.
    pub fn from_value(
        spec: &ResourceSpec,
        value: &serde_json::Value,
        json: Bytes,
        rv: i64,
    ) -> Self {
        let fields = spec
            .all_selectable_fields()
            .into_iter()
            .map(|f| (f, spec.field_value(value, f).unwrap_or_default()))
            .collect();
        CachedObject {
            namespace: object::namespace(value).map(str::to_owned),
            name: object::name(value).to_owned(),
            rv,
            json,
            labels: object::labels(value),
            fields,
        }
    }

    /// The value of a selectable field.
    pub fn field(&self, name: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(f, _)| *f == name)
            .map(|(_, v)| v.as_str())
    }
}

/// What happened to an object.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EventType {
    /// Created.
    Added,
    /// Changed.
    Modified,
    /// Deleted.
    Deleted,
}

impl EventType {
    /// The watch event type as upstream writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            EventType::Added => "ADDED",
            EventType::Modified => "MODIFIED",
            EventType::Deleted => "DELETED",
        }
    }
}

/// One change in the window.
#[derive(Clone, Debug)]
pub struct CacheEvent {
    /// The revision of the change.
    pub rv: i64,
    /// What happened.
    pub kind: EventType,
    /// The object after the change (for a deletion: its last state, at the deletion's
    /// revision).
    pub object: Arc<CachedObject>,
    /// The object before the change, if it existed.
    pub prev: Option<Arc<CachedObject>>,
}

struct CacheState {
    objects: BTreeMap<String, Arc<CachedObject>>,
    events: VecDeque<CacheEvent>,
    /// Every change up to here is applied.
    rv: i64,
    /// Watches from a version at or after this one can be served from the window.
    oldest: i64,
    /// Bumped at every relist: watchers from an earlier generation must start over.
    generation: u64,
    ready: bool,
}

/// The watch cache of one resource.
pub struct Cacher {
    spec: Arc<ResourceSpec>,
    store: Arc<dyn Backend>,
    config: CacheConfig,
    state: RwLock<CacheState>,
    changed: watch::Sender<i64>,
    progress_wanted: tokio::sync::Notify,
}

impl std::fmt::Debug for Cacher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let st = self.state.read();
        f.debug_struct("Cacher")
            .field("resource", &self.spec.api.plural)
            .field("objects", &st.objects.len())
            .field("rv", &st.rv)
            .finish_non_exhaustive()
    }
}

/// A consistent snapshot of the objects of a cache.
#[derive(Debug)]
pub struct Snapshot {
    /// The objects, in key order.
    pub objects: Vec<Arc<CachedObject>>,
    /// The revision the snapshot reflects.
    pub rv: i64,
}

impl Cacher {
    /// A cache of `spec`'s objects in `store`; call [`Cacher::run`] to fill and feed it.
    pub fn new(spec: Arc<ResourceSpec>, store: Arc<dyn Backend>, config: CacheConfig) -> Arc<Self> {
        let (changed, _) = watch::channel(0);
        Arc::new(Cacher {
            spec,
            store,
            config,
            state: RwLock::new(CacheState {
                objects: BTreeMap::new(),
                events: VecDeque::new(),
                rv: 0,
                oldest: 0,
                generation: 0,
                ready: false,
            }),
            changed,
            progress_wanted: tokio::sync::Notify::new(),
        })
    }

    /// The resource.
    pub fn spec(&self) -> &Arc<ResourceSpec> {
        &self.spec
    }

    /// Lists the store and follows its watch, relisting when the watch fails; returns only
    /// when the store is closed.
    pub async fn run(self: Arc<Self>) {
        let mut backoff = Duration::from_millis(100);
        loop {
            match self.list_and_watch().await {
                Ok(()) => return,
                Err(StoreError::Compacted { .. }) => {
                    tracing::info!(resource = %self.spec.api.plural, "watch cache fell behind the store's history; relisting");
                }
                Err(e) => {
                    if matches!(&e, StoreError::Unavailable { reason, .. } if reason.contains("closed"))
                    {
                        return;
                    }
                    tracing::warn!(resource = %self.spec.api.plural, error = %e, "watch cache lost its store watch; relisting");
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(Duration::from_secs(5));
                }
            }
        }
    }

    async fn list_and_watch(&self) -> Result<(), StoreError> {
        let (objects, rv) = self.list_store().await?;
        {
            let mut st = self.state.write();
            st.objects = objects;
            st.events.clear();
            st.rv = rv;
            st.oldest = rv;
            st.generation += 1;
            st.ready = true;
        }
        self.changed.send_replace(rv);
        let mut watch = self
            .store
            .watch(
                &self.spec.prefix,
                WatchOptions {
                    start_revision: rv + 1,
                    progress_interval: Some(self.config.progress_interval),
                },
            )
            .await?;
        loop {
            tokio::select! {
                item = watch.next() => match item {
                    None => return Ok(()),
                    Some(Err(e)) => return Err(e),
                    Some(Ok(WatchResponse::Progress(r))) => self.advance(r),
                    Some(Ok(WatchResponse::Events(events))) => self.apply(events),
                },
                () = self.progress_wanted.notified() => watch.request_progress(),
            }
        }
    }

    async fn list_store(&self) -> Result<(BTreeMap<String, Arc<CachedObject>>, i64), StoreError> {
        let mut objects = BTreeMap::new();
        let mut at = ReadAt::Latest;
        let mut start_after = None;
        loop {
            let page = self
                .store
                .list(
                    &self.spec.prefix,
                    ListOptions {
                        at,
                        limit: Some(10_000),
                        start_after: start_after.take(),
                    },
                )
                .await?;
            at = ReadAt::Revision(page.revision);
            for kv in &page.kvs {
                if let Some(obj) = CachedObject::new(&self.spec, &kv.value, kv.mod_revision) {
                    objects.insert(self.relative_key(&kv.key).to_owned(), Arc::new(obj));
                }
            }
            match (page.more, page.kvs.last()) {
                (true, Some(last)) => start_after = Some(last.key.to_string()),
                _ => {
                    let ReadAt::Revision(rv) = at else {
                        unreachable!("set after the first page")
                    };
                    return Ok((objects, rv));
                }
            }
        }
    }

    fn relative_key<'k>(&self, key: &'k str) -> &'k str {
        key.strip_prefix(&self.spec.prefix).unwrap_or(key)
    }

    fn advance(&self, rv: i64) {
        let moved = {
            let mut st = self.state.write();
            if rv > st.rv {
                st.rv = rv;
                true
            } else {
                false
            }
        };
        if moved {
            self.changed.send_replace(rv);
        }
    }

    fn apply(&self, events: Vec<kubernaut_store::Event>) {
        let mut last = 0;
        {
            let mut st = self.state.write();
            for e in events {
                let key = self.relative_key(&e.kv.key).to_owned();
                let rv = e.kv.mod_revision;
                last = rv;
                let prev = st.objects.get(&key).cloned();
                let event = match e.kind {
                    EventKind::Put => {
                        let Some(obj) = CachedObject::new(&self.spec, &e.kv.value, rv) else {
                            tracing::warn!(key = %e.kv.key, "skipping an object that is not JSON");
                            continue;
                        };
                        let obj = Arc::new(obj);
                        st.objects.insert(key, Arc::clone(&obj));
                        CacheEvent {
                            rv,
                            kind: if prev.is_some() {
                                EventType::Modified
                            } else {
                                EventType::Added
                            },
                            object: obj,
                            prev,
                        }
                    }
                    EventKind::Delete => {
                        st.objects.remove(&key);
                        let last_state = match (&prev, &e.prev) {
                            (_, Some(KeyValue { value, .. })) => {
                                CachedObject::new(&self.spec, value, rv)
                            }
                            (Some(p), None) => {
                                let stored = strip_rv(&p.json);
                                CachedObject::new(&self.spec, &stored, rv)
                            }
                            (None, None) => None,
                        };
                        let Some(obj) = last_state else { continue };
                        CacheEvent {
                            rv,
                            kind: EventType::Deleted,
                            object: Arc::new(obj),
                            prev,
                        }
                    }
                };
                st.events.push_back(event);
                while st.events.len() > self.config.window {
                    if let Some(old) = st.events.pop_front() {
                        st.oldest = old.rv;
                    }
                }
            }
            if last > st.rv {
                st.rv = last;
            }
        }
        if last > 0 {
            self.changed.send_replace(last);
        }
    }

    /// The revision the cache reflects.
    pub fn revision(&self) -> i64 {
        self.state.read().rv
    }

    /// Waits until the cache reflects revision `rv`.
    ///
    /// # Errors
    /// `504 Timeout` ("Too large resource version") when it does not within the freshness
    /// timeout.
    pub async fn wait_for(&self, rv: i64) -> Result<(), ApiError> {
        let mut rx = self.changed.subscribe();
        let deadline = tokio::time::Instant::now() + self.config.freshness_timeout;
        loop {
            {
                let st = self.state.read();
                if st.ready && st.rv >= rv {
                    return Ok(());
                }
            }
            self.progress_wanted.notify_one();
            let wait = tokio::time::timeout_at(deadline, rx.changed()).await;
            if wait.is_err() {
                return Err(ApiError::timeout(
                    format!(
                        "Too large resource version: {rv}, current: {}",
                        self.revision()
                    ),
                    1,
                ));
            }
        }
    }

    /// Waits until the cache reflects every write the store has acknowledged.
    ///
    /// # Errors
    /// `504 Timeout` when the cache does not catch up in time; `503` when the store is down.
    pub async fn wait_fresh(&self) -> Result<(), ApiError> {
        let (current, _) = self
            .store
            .revisions()
            .await
            .map_err(|e| ApiError::unavailable(format!("storage is unavailable: {e}")))?;
        // The store's revision covers every resource; only a progress notification moves this
        // cache past revisions of other resources.
        {
            let st = self.state.read();
            if st.ready && st.rv >= current {
                return Ok(());
            }
        }
        self.progress_wanted.notify_one();
        self.wait_for(current).await
    }

    /// The current objects of `namespace` (or all), with the revision they reflect.
    pub fn snapshot(&self, namespace: Option<&str>) -> Snapshot {
        let st = self.state.read();
        let objects = match namespace {
            Some(ns) if self.spec.namespaced() => {
                let lower = format!("{ns}/");
                st.objects
                    .range(lower.clone()..)
                    .take_while(|(k, _)| k.starts_with(&lower))
                    .map(|(_, v)| Arc::clone(v))
                    .collect()
            }
            _ => st.objects.values().cloned().collect(),
        };
        Snapshot { objects, rv: st.rv }
    }

    /// One object.
    pub fn get(&self, namespace: Option<&str>, name: &str) -> (Option<Arc<CachedObject>>, i64) {
        let key = match namespace {
            Some(ns) if self.spec.namespaced() => format!("{ns}/{name}"),
            _ => name.to_owned(),
        };
        let st = self.state.read();
        (st.objects.get(&key).cloned(), st.rv)
    }

    /// A watcher positioned after revision `rv`.
    ///
    /// # Errors
    /// `410 Expired` when `rv` is older than the window.
    pub fn watch_from(self: &Arc<Self>, rv: i64) -> Result<CacheWatcher, ApiError> {
        let st = self.state.read();
        if rv < st.oldest {
            return Err(too_old(rv, st.oldest));
        }
        Ok(CacheWatcher {
            cacher: Arc::clone(self),
            pos: rv,
            generation: st.generation,
            rx: self.changed.subscribe(),
        })
    }

    /// A snapshot of `namespace`'s objects and a watcher positioned right after it, taken
    /// atomically: the watcher sees every change the snapshot does not.
    pub fn snapshot_and_watch(
        self: &Arc<Self>,
        namespace: Option<&str>,
    ) -> (Snapshot, CacheWatcher) {
        let st = self.state.read();
        let objects = match namespace {
            Some(ns) if self.spec.namespaced() => {
                let lower = format!("{ns}/");
                st.objects
                    .range(lower.clone()..)
                    .take_while(|(k, _)| k.starts_with(&lower))
                    .map(|(_, v)| Arc::clone(v))
                    .collect()
            }
            _ => st.objects.values().cloned().collect(),
        };
        let watcher = CacheWatcher {
            cacher: Arc::clone(self),
            pos: st.rv,
            generation: st.generation,
            rx: self.changed.subscribe(),
        };
        (Snapshot { objects, rv: st.rv }, watcher)
    }

    /// The number of objects cached.
    pub fn len(&self) -> usize {
        self.state.read().objects.len()
    }

    /// Whether the cache holds no object.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Waits until the first list has been loaded.
    pub async fn ready(&self) {
        let mut rx = self.changed.subscribe();
        loop {
            if self.state.read().ready {
                return;
            }
            if rx.changed().await.is_err() {
                return;
            }
        }
    }
}

fn too_old(rv: i64, oldest: i64) -> ApiError {
    ApiError::expired(format!("too old resource version: {rv} ({oldest})"))
}

/// The stored form (no resource version) of a cached encoding.
fn strip_rv(json: &[u8]) -> Vec<u8> {
    match serde_json::from_slice::<serde_json::Value>(json) {
        Ok(v) => object::encode_for_storage(&v),
        Err(_) => json.to_vec(),
    }
}

/// A position in a cache's event window.
#[derive(Debug)]
pub struct CacheWatcher {
    cacher: Arc<Cacher>,
    pos: i64,
    generation: u64,
    rx: watch::Receiver<i64>,
}

impl CacheWatcher {
    /// The revision up to which this watcher has seen everything.
    pub fn position(&self) -> i64 {
        self.pos
    }

    /// The next events after the position (at most about `max`, never splitting a
    /// revision), waiting for one; empty when `deadline` passes first.
    ///
    /// # Errors
    /// `410 Expired` when the position fell out of the window or the cache relisted.
    pub async fn next(
        &mut self,
        max: usize,
        deadline: tokio::time::Instant,
    ) -> Result<Vec<CacheEvent>, ApiError> {
        loop {
            {
                let st = self.cacher.state.read();
                if st.generation != self.generation || self.pos < st.oldest {
                    return Err(too_old(self.pos, st.oldest));
                }
                if st.rv > self.pos {
                    let start = st.events.partition_point(|e| e.rv <= self.pos);
                    let mut out: Vec<CacheEvent> = Vec::new();
                    for e in st.events.range(start..) {
                        if out.len() >= max && out.last().is_some_and(|l| l.rv != e.rv) {
                            break;
                        }
                        out.push(e.clone());
                    }
                    self.pos = match out.last() {
                        Some(last) if out.len() >= max => last.rv,
                        _ => st.rv,
                    };
                    if !out.is_empty() {
                        return Ok(out);
                    }
                }
            }
            if tokio::time::timeout_at(deadline, self.rx.changed())
                .await
                .is_err()
            {
                return Ok(Vec::new());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resources::Resources;
    use kubernaut_api_types::scheme::Scheme;
    use kubernaut_store::BackendExt;
    use kubernaut_store::embedded::{Config, EmbeddedStore};
    use serde_json::json;

    fn pod(name: &str) -> Vec<u8> {
        object::encode_for_storage(&json!({"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": name, "namespace": "ns", "labels": {"app": name}},
            "spec": {"nodeName": "n1"}}))
    }

    async fn setup(window: usize) -> (Arc<dyn Backend>, Arc<Cacher>) {
        let store: Arc<dyn Backend> = Arc::new(EmbeddedStore::open(Config::in_memory()).unwrap());
        let spec = Arc::clone(
            Resources::from_scheme(&Scheme::builtin())
                .get("", "pods")
                .unwrap(),
        );
        let cacher = Cacher::new(
            spec,
            Arc::clone(&store),
            CacheConfig {
                window,
                ..CacheConfig::default()
            },
        );
        tokio::spawn(Arc::clone(&cacher).run());
        cacher.ready().await;
        (store, cacher)
    }

    #[tokio::test]
    async fn events_are_typed_and_objects_carry_their_revision() {
        let (store, cacher) = setup(100).await;
        let mut w = cacher.watch_from(cacher.revision()).unwrap();
        let r1 = store
            .create("/registry/core/pods/ns/a", pod("a").into())
            .await
            .unwrap();
        let r2 = store
            .update("/registry/core/pods/ns/a", pod("a").into(), r1)
            .await
            .unwrap();
        let (_, r3) = store
            .delete("/registry/core/pods/ns/a", None)
            .await
            .unwrap();
        let far = tokio::time::Instant::now() + Duration::from_secs(5);
        let mut seen = Vec::new();
        while seen.len() < 3 {
            seen.extend(w.next(10, far).await.unwrap());
        }
        let kinds: Vec<_> = seen.iter().map(|e| (e.kind, e.rv)).collect();
        assert_eq!(
            kinds,
            [
                (EventType::Added, r1),
                (EventType::Modified, r2),
                (EventType::Deleted, r3)
            ]
        );
        let deleted: serde_json::Value = serde_json::from_slice(&seen[2].object.json).unwrap();
        assert_eq!(deleted["metadata"]["resourceVersion"], r3.to_string());
        assert_eq!(seen[0].object.field("spec.nodeName"), Some("n1"));
        cacher.wait_fresh().await.unwrap();
        assert!(cacher.is_empty());
    }

    #[tokio::test]
    async fn a_watch_older_than_the_window_is_expired() {
        let (store, cacher) = setup(2).await;
        let start = cacher.revision();
        for n in ["a", "b", "c", "d"] {
            store
                .create(&format!("/registry/core/pods/ns/{n}"), pod(n).into())
                .await
                .unwrap();
        }
        cacher.wait_fresh().await.unwrap();
        let err = cacher.watch_from(start).unwrap_err();
        assert_eq!(err.code(), 410);
        assert!(err.message().starts_with("too old resource version"));
        assert_eq!(cacher.snapshot(Some("ns")).objects.len(), 4);
        assert_eq!(cacher.snapshot(Some("other")).objects.len(), 0);
    }

    #[tokio::test]
    async fn fresh_reads_see_writes_to_other_resources_as_progress() {
        let (store, cacher) = setup(10).await;
        let rev = store
            .put("/registry/core/configmaps/ns/x", "{}".into())
            .await
            .unwrap();
        cacher.wait_fresh().await.unwrap();
        assert!(cacher.revision() >= rev);
    }
}
