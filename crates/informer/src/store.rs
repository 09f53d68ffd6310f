//! The cache a reflector fills: a single-owner [`Writer`] and cheap, read-only [`Store`]
//! handles over the objects (`Arc<K>`, shared, never copied on read), with named secondary
//! indexes that can be added at any time, an optional transform applied before caching, and
//! readiness that can be awaited.
//!
//! # Memory usage
//! One `Arc<K>` per object plus, per index, the object keys under each index value. By default
//! `metadata.managedFields` is dropped before caching (it is often the largest part of an
//! object and controllers rarely read it); see [`Writer::with_transform`].

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::hash::{BuildHasher as _, RandomState};
use std::sync::Arc;

use hashbrown::{HashTable, hash_table};
use kubernaut_api_types::Object;
use parking_lot::RwLock;
use tokio::sync::watch;

use crate::watcher::Event;

/// An object's identity in a cache: namespace (for namespaced kinds) and name.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ObjectKey {
    /// The namespace; `None` for cluster-scoped objects.
    pub namespace: Option<String>,
    /// The name.
    pub name: String,
}

impl ObjectKey {
    /// A key in `namespace` (or cluster-scoped with `None`).
    pub fn new(namespace: Option<&str>, name: &str) -> Self {
        ObjectKey {
            namespace: namespace.filter(|n| !n.is_empty()).map(str::to_owned),
            name: name.to_owned(),
        }
    }

    /// The key of an object.
    pub fn of<K: Object>(object: &K) -> Self {
        let m = object.meta();
        ObjectKey::new(m.namespace.as_deref(), m.name.as_deref().unwrap_or(""))
    }
}

impl fmt::Display for ObjectKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.namespace {
            Some(ns) => write!(f, "{ns}/{}", self.name),
            None => f.write_str(&self.name),
        }
    }
}

/// An index function: the values an object is indexed under.
pub type IndexFn<K> = Arc<dyn Fn(&K) -> Vec<String> + Send + Sync>;

/// A transform applied to every object before it is cached.
pub type Transform<K> = Arc<dyn Fn(&mut K) + Send + Sync>;

/// A change the writer applied, as subscribers of a shared informer see it.
#[derive(Debug)]
pub enum Delta<K> {
    /// A new object.
    Added(Arc<K>),
    /// A changed object: before and after.
    Updated {
        /// The cached state before.
        old: Arc<K>,
        /// The new state.
        new: Arc<K>,
    },
    /// A deleted object (its last known state).
    Deleted(Arc<K>),
    /// An object as the cache holds it, replayed: for a subscriber joining late, or one
    /// resynced after it fell behind. Consumers treat it as "this is the current state".
    Replayed(Arc<K>),
}

impl<K> Clone for Delta<K> {
    fn clone(&self) -> Self {
        match self {
            Delta::Added(k) => Delta::Added(Arc::clone(k)),
            Delta::Updated { old, new } => Delta::Updated {
                old: Arc::clone(old),
                new: Arc::clone(new),
            },
            Delta::Deleted(k) => Delta::Deleted(Arc::clone(k)),
            Delta::Replayed(k) => Delta::Replayed(Arc::clone(k)),
        }
    }
}

impl<K> Delta<K> {
    /// The object after the change (for a deletion: its last state).
    pub fn object(&self) -> &Arc<K> {
        match self {
            Delta::Added(k) | Delta::Deleted(k) | Delta::Replayed(k) => k,
            Delta::Updated { new, .. } => new,
        }
    }
}

struct Index<K> {
    func: IndexFn<K>,
    entries: HashMap<String, HashSet<ObjectKey>>,
}

impl<K> Index<K> {
    fn insert(&mut self, key: &ObjectKey, object: &K) {
        for value in (self.func)(object) {
            self.entries.entry(value).or_default().insert(key.clone());
        }
    }

    fn remove(&mut self, key: &ObjectKey, object: &K) {
        for value in (self.func)(object) {
            if let Some(set) = self.entries.get_mut(&value) {
                set.remove(key);
                if set.is_empty() {
                    self.entries.remove(&value);
                }
            }
        }
    }
}

/// The cached objects by namespace and name, read from each object's own metadata: a cache
/// holds no second copy of every namespace and name as a key (about 110 bytes an object).
struct ObjectMap<K> {
    table: HashTable<Arc<K>>,
    hasher: RandomState,
}

/// An object's namespace (empty for cluster-scoped ones) and name.
fn identity<K: Object>(object: &K) -> (&str, &str) {
    let meta = object.meta();
    (
        meta.namespace.as_deref().unwrap_or(""),
        meta.name.as_deref().unwrap_or(""),
    )
}

impl ObjectKey {
    /// The namespace (empty for cluster-scoped objects) and name, as [`identity`] reads them.
    fn identity(&self) -> (&str, &str) {
        (self.namespace.as_deref().unwrap_or(""), &self.name)
    }
}

impl<K> Default for ObjectMap<K> {
    fn default() -> Self {
        ObjectMap {
            table: HashTable::new(),
            hasher: RandomState::new(),
        }
    }
}

impl<K> ObjectMap<K> {
    fn values(&self) -> impl Iterator<Item = &Arc<K>> {
        self.table.iter()
    }

    fn len(&self) -> usize {
        self.table.len()
    }
}

impl<K: Object> ObjectMap<K> {
    fn find(&self, (namespace, name): (&str, &str)) -> Option<&Arc<K>> {
        let hash = self.hasher.hash_one((namespace, name));
        self.table
            .find(hash, |k| identity(&**k) == (namespace, name))
    }

    fn get(&self, key: &ObjectKey) -> Option<&Arc<K>> {
        self.find(key.identity())
    }

    /// The stored object with the same namespace and name as `object`.
    fn get_like(&self, object: &K) -> Option<&Arc<K>> {
        self.find(identity(object))
    }

    /// Stores `object`, returning the one it replaced.
    fn insert(&mut self, object: Arc<K>) -> Option<Arc<K>> {
        let probe = Arc::clone(&object);
        let id = identity(&*probe);
        let hasher = &self.hasher;
        match self.table.entry(
            hasher.hash_one(id),
            |k| identity(&**k) == id,
            |k| hasher.hash_one(identity(&**k)),
        ) {
            hash_table::Entry::Occupied(mut e) => Some(std::mem::replace(e.get_mut(), object)),
            hash_table::Entry::Vacant(e) => {
                e.insert(object);
                None
            }
        }
    }

    /// Removes the object with this namespace and name.
    fn remove(&mut self, id: (&str, &str)) -> Option<Arc<K>> {
        let hash = self.hasher.hash_one(id);
        self.table
            .find_entry(hash, |k| identity(&**k) == id)
            .ok()
            .map(|e| e.remove().0)
    }
}

struct State<K> {
    objects: ObjectMap<K>,
    indexes: HashMap<String, Index<K>>,
    /// A relist in progress.
    buffer: Option<ObjectMap<K>>,
    /// The highest resource version seen (objects' versions are integers on kubernaut and etcd).
    resource_version: u64,
}

struct Inner<K> {
    state: RwLock<State<K>>,
    ready: watch::Sender<bool>,
    version: watch::Sender<u64>,
}

/// A read-only handle on a cache. Cheap to clone; every clone sees the same objects.
pub struct Store<K> {
    inner: Arc<Inner<K>>,
}

impl<K> Clone for Store<K> {
    fn clone(&self) -> Self {
        Store {
            inner: Arc::clone(&self.inner),
        }
    }
}

impl<K> fmt::Debug for Store<K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let st = self.inner.state.read();
        f.debug_struct("Store")
            .field("objects", &st.objects.len())
            .field("indexes", &st.indexes.keys().collect::<Vec<_>>())
            .finish()
    }
}

/// The single owner that applies watcher events to a cache.
pub struct Writer<K> {
    store: Store<K>,
    transform: Option<Transform<K>>,
}

impl<K> fmt::Debug for Writer<K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Writer")
            .field("store", &self.store)
            .finish()
    }
}

impl<K: Object + Clone + Send + Sync + 'static> Default for Writer<K> {
    fn default() -> Self {
        Writer::new()
    }
}

/// The default transform: drop `metadata.managedFields`.
pub fn strip_managed_fields<K: Object>(object: &mut K) {
    object.meta_mut().managed_fields = None;
}

fn parse_rv<K: Object>(object: &K) -> u64 {
    object
        .meta()
        .resource_version
        .as_deref()
        .and_then(|r| r.parse().ok())
        .unwrap_or(0)
}

impl<K: Object + Clone + Send + Sync + 'static> Writer<K> {
    /// An empty cache that drops `managedFields` before caching.
    pub fn new() -> Self {
        let (ready, _) = watch::channel(false);
        let (version, _) = watch::channel(0);
        Writer {
            store: Store {
                inner: Arc::new(Inner {
                    state: RwLock::new(State {
                        objects: ObjectMap::default(),
                        indexes: HashMap::new(),
                        buffer: None,
                        resource_version: 0,
                    }),
                    ready,
                    version,
                }),
            },
            transform: Some(Arc::new(strip_managed_fields::<K>)),
        }
    }

    /// Replaces the transform applied before caching (`None`: cache objects as received).
    #[must_use]
    pub fn with_transform(mut self, transform: Option<Transform<K>>) -> Self {
        self.transform = transform;
        self
    }

    /// A reader of this cache.
    pub fn store(&self) -> Store<K> {
        self.store.clone()
    }

    fn prepare(&self, mut object: K) -> Arc<K> {
        if let Some(t) = &self.transform {
            t(&mut object);
        }
        Arc::new(object)
    }

    /// Applies one watcher event and returns the changes it made, computed under the cache's
    /// lock, and runs `publish` with them before releasing it (so a subscriber that joins by
    /// reading the cache under the same lock misses nothing and sees nothing twice).
    pub fn apply_with(&mut self, event: Event<K>, publish: impl FnOnce(&[Delta<K>])) {
        let mut deltas = Vec::new();
        let mut became_ready = false;
        let mut st = self.store.inner.state.write();
        let mut version = st.resource_version;
        match event {
            Event::Init => st.buffer = Some(ObjectMap::default()),
            Event::InitApply(k) => {
                version = version.max(parse_rv(&k));
                let k = self.prepare(k);
                st.buffer.get_or_insert_with(ObjectMap::default).insert(k);
            }
            Event::InitDone => {
                let new = st.buffer.take().unwrap_or_default();
                let old = std::mem::take(&mut st.objects);
                for obj in new.values() {
                    match old.get_like(obj) {
                        None => deltas.push(Delta::Added(Arc::clone(obj))),
                        Some(prev) if parse_rv(&**prev) != parse_rv(&**obj) => {
                            deltas.push(Delta::Updated {
                                old: Arc::clone(prev),
                                new: Arc::clone(obj),
                            });
                        }
                        Some(_) => {}
                    }
                }
                for obj in old.values() {
                    if new.get_like(obj).is_none() {
                        deltas.push(Delta::Deleted(Arc::clone(obj)));
                    }
                }
                for index in st.indexes.values_mut() {
                    index.entries.clear();
                    for obj in new.values() {
                        index.insert(&ObjectKey::of(&**obj), obj);
                    }
                }
                st.objects = new;
                became_ready = true;
            }
            Event::Apply(k) => {
                version = version.max(parse_rv(&k));
                let k = self.prepare(k);
                let prev = st.objects.insert(Arc::clone(&k));
                if !st.indexes.is_empty() {
                    let key = ObjectKey::of(&*k);
                    for index in st.indexes.values_mut() {
                        if let Some(p) = &prev {
                            index.remove(&key, p);
                        }
                        index.insert(&key, &k);
                    }
                }
                deltas.push(match prev {
                    Some(old) => Delta::Updated { old, new: k },
                    None => Delta::Added(k),
                });
            }
            Event::Delete(k) => {
                version = version.max(parse_rv(&k));
                if let Some(prev) = st.objects.remove(identity(&k)) {
                    if !st.indexes.is_empty() {
                        let key = ObjectKey::of(&k);
                        for index in st.indexes.values_mut() {
                            index.remove(&key, &prev);
                        }
                    }
                    deltas.push(Delta::Deleted(prev));
                }
            }
        }
        st.resource_version = version;
        publish(&deltas);
        drop(st);
        self.store.inner.version.send_if_modified(|v| {
            let moved = version > *v;
            if moved {
                *v = version;
            }
            moved
        });
        if became_ready {
            self.store.inner.ready.send_replace(true);
        }
    }

    /// Applies one watcher event; returns the changes it made.
    pub fn apply(&mut self, event: Event<K>) -> Vec<Delta<K>> {
        let mut out = Vec::new();
        self.apply_with(event, |d| out.extend_from_slice(d));
        out
    }
}

impl<K: Object + Send + Sync + 'static> Store<K> {
    /// The cached object with this key.
    pub fn get(&self, key: &ObjectKey) -> Option<Arc<K>> {
        self.inner.state.read().objects.get(key).cloned()
    }

    /// Every cached object, in no particular order.
    pub fn list(&self) -> Vec<Arc<K>> {
        self.inner.state.read().objects.values().cloned().collect()
    }

    /// The cached objects `keep` selects.
    pub fn filter(&self, keep: impl Fn(&K) -> bool) -> Vec<Arc<K>> {
        self.inner
            .state
            .read()
            .objects
            .values()
            .filter(|k| keep(k))
            .cloned()
            .collect()
    }

    /// How many objects are cached.
    pub fn len(&self) -> usize {
        self.inner.state.read().objects.len()
    }

    /// Whether no object is cached.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether the first list has been applied.
    pub fn is_ready(&self) -> bool {
        *self.inner.ready.borrow()
    }

    /// Waits until the first list has been applied.
    ///
    /// # Cancel safety
    /// Cancel safe: it only observes.
    pub async fn wait_until_ready(&self) {
        let mut rx = self.inner.ready.subscribe();
        // The sender lives as long as the store.
        let _ = rx.wait_for(|r| *r).await;
    }

    /// The highest resource version the cache has seen.
    pub fn resource_version(&self) -> u64 {
        *self.inner.version.borrow()
    }

    /// Waits until the cache has seen resource version `rv` (read-your-own-writes: after
    /// writing an object, wait for its new version before reading the cache again).
    ///
    /// # Cancel safety
    /// Cancel safe: it only observes.
    pub async fn wait_for_version(&self, rv: u64) {
        let mut rx = self.inner.version.subscribe();
        let _ = rx.wait_for(|v| *v >= rv).await;
    }

    /// Adds (or replaces) the index `name`, computed at once over the cached objects and kept
    /// up to date from then on.
    pub fn add_index(&self, name: &str, func: IndexFn<K>) {
        let mut st = self.inner.state.write();
        let mut index = Index {
            func,
            entries: HashMap::new(),
        };
        for obj in st.objects.values() {
            index.insert(&ObjectKey::of(&**obj), obj);
        }
        st.indexes.insert(name.to_owned(), index);
    }

    /// The cached objects indexed under `value` in index `name` (none for an unknown index).
    pub fn by_index(&self, name: &str, value: &str) -> Vec<Arc<K>> {
        let st = self.inner.state.read();
        let Some(index) = st.indexes.get(name) else {
            return Vec::new();
        };
        index
            .entries
            .get(value)
            .map(|keys| {
                keys.iter()
                    .filter_map(|k| st.objects.get(k).cloned())
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The values present in index `name`.
    pub fn index_values(&self, name: &str) -> Vec<String> {
        self.inner
            .state
            .read()
            .indexes
            .get(name)
            .map(|i| i.entries.keys().cloned().collect())
            .unwrap_or_default()
    }

    /// Reads every cached object under the cache's lock (a consistent snapshot for a
    /// subscriber joining late).
    pub(crate) fn snapshot_with<T>(&self, f: impl FnOnce(Vec<Arc<K>>) -> T) -> T {
        let st = self.inner.state.read();
        f(st.objects.values().cloned().collect())
    }
}

/// Ready-made index functions.
pub mod indexes {
    use std::sync::Arc;

    use kubernaut_api_types::Object;

    use super::IndexFn;

    /// The name of the namespace index.
    pub const NAMESPACE: &str = "namespace";
    /// The name of the controller-owner index.
    pub const CONTROLLER_UID: &str = "controller-uid";
    /// The name of the label index.
    pub const LABELS: &str = "labels";

    /// Objects by namespace.
    pub fn namespace<K: Object>() -> IndexFn<K> {
        Arc::new(|k: &K| k.meta().namespace.iter().cloned().collect())
    }

    /// Objects by the uid of their controller owner reference.
    pub fn controller_uid<K: Object>() -> IndexFn<K> {
        Arc::new(|k: &K| {
            k.meta()
                .controller_ref()
                .map(|r| vec![r.uid.clone()])
                .unwrap_or_default()
        })
    }

    /// Objects by each of their labels, as `key=value`.
    pub fn labels<K: Object>() -> IndexFn<K> {
        Arc::new(|k: &K| {
            k.meta()
                .labels
                .iter()
                .flatten()
                .map(|(key, v)| format!("{key}={v}"))
                .collect()
        })
    }

    /// Pods by `spec.nodeName`.
    pub fn node_name() -> IndexFn<kubernaut_api_types::core::v1::Pod> {
        Arc::new(|p: &kubernaut_api_types::core::v1::Pod| {
            p.spec
                .as_ref()
                .and_then(|s| s.node_name.clone())
                .filter(|n| !n.is_empty())
                .into_iter()
                .collect()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kubernaut_api_types::core::v1::ConfigMap;

    fn cm(ns: &str, name: &str, rv: u64, labels: &[(&str, &str)]) -> ConfigMap {
        serde_json::from_value(serde_json::json!({
            "metadata": {"name": name, "namespace": ns, "resourceVersion": rv.to_string(),
                "labels": labels.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect::<std::collections::BTreeMap<_, _>>(),
                "managedFields": [{"manager": "m"}]}
        }))
        .unwrap()
    }

    #[test]
    fn objects_are_found_by_namespace_and_name() {
        let mut w = Writer::<ConfigMap>::new();
        let store = w.store();
        w.apply(Event::Init);
        w.apply(Event::InitApply(cm("a", "x", 1, &[])));
        w.apply(Event::InitApply(cm("b", "x", 2, &[])));
        w.apply(Event::InitDone);
        let deltas = w.apply(Event::Apply(cm("a", "x", 3, &[])));
        assert!(
            matches!(&deltas[..], [Delta::Updated { old, .. }] if old.metadata.resource_version.as_deref() == Some("1"))
        );
        let version = |ns: &str| {
            store
                .get(&ObjectKey::new(Some(ns), "x"))
                .and_then(|c| c.metadata.resource_version.clone())
        };
        assert_eq!(version("a").as_deref(), Some("3"));
        assert_eq!(version("b").as_deref(), Some("2"));
        assert_eq!(store.get(&ObjectKey::new(None, "x")), None);
        assert_eq!(store.len(), 2);
        w.apply(Event::Delete(cm("b", "x", 4, &[])));
        assert_eq!(version("b"), None);
        assert_eq!(version("a").as_deref(), Some("3"));
        assert_eq!(store.len(), 1);
    }

    #[tokio::test]
    async fn relists_swap_atomically_and_report_what_changed() {
        let mut w = Writer::<ConfigMap>::new();
        let store = w.store();
        assert!(!store.is_ready());
        w.apply(Event::Init);
        w.apply(Event::InitApply(cm("a", "x", 1, &[])));
        w.apply(Event::InitApply(cm("a", "y", 2, &[])));
        assert!(store.is_empty(), "nothing is visible before InitDone");
        let deltas = w.apply(Event::InitDone);
        assert_eq!(deltas.len(), 2);
        store.wait_until_ready().await;
        assert_eq!(store.len(), 2);
        assert!(
            store
                .get(&ObjectKey::new(Some("a"), "x"))
                .unwrap()
                .metadata
                .managed_fields
                .is_none()
        );
        // A relist in which y changed and x went away.
        w.apply(Event::Init);
        w.apply(Event::InitApply(cm("a", "y", 5, &[])));
        w.apply(Event::InitApply(cm("a", "z", 6, &[])));
        let deltas = w.apply(Event::InitDone);
        let mut kinds: Vec<&str> = deltas
            .iter()
            .map(|d| match d {
                Delta::Added(_) => "added",
                Delta::Updated { .. } => "updated",
                Delta::Deleted(_) => "deleted",
                Delta::Replayed(_) => "replayed",
            })
            .collect();
        kinds.sort();
        assert_eq!(kinds, ["added", "deleted", "updated"]);
        assert_eq!(store.resource_version(), 6);
    }

    #[test]
    fn indexes_follow_changes_and_can_be_added_late() {
        let mut w = Writer::<ConfigMap>::new();
        let store = w.store();
        w.apply(Event::Apply(cm("a", "x", 1, &[("app", "web")])));
        w.apply(Event::Apply(cm("b", "y", 2, &[("app", "web")])));
        store.add_index(indexes::NAMESPACE, indexes::namespace());
        store.add_index(indexes::LABELS, indexes::labels());
        assert_eq!(store.by_index(indexes::NAMESPACE, "a").len(), 1);
        assert_eq!(store.by_index(indexes::LABELS, "app=web").len(), 2);
        w.apply(Event::Apply(cm("b", "y", 3, &[("app", "db")])));
        assert_eq!(store.by_index(indexes::LABELS, "app=web").len(), 1);
        assert_eq!(store.by_index(indexes::LABELS, "app=db").len(), 1);
        w.apply(Event::Delete(cm("a", "x", 4, &[("app", "web")])));
        assert!(store.by_index(indexes::LABELS, "app=web").is_empty());
        assert!(store.by_index(indexes::NAMESPACE, "a").is_empty());
        assert!(store.by_index("unknown", "x").is_empty());
    }

    #[tokio::test(start_paused = true)]
    async fn reads_can_wait_for_their_own_writes() {
        let mut w = Writer::<ConfigMap>::new();
        let store = w.store();
        let waiter = tokio::spawn({
            let store = store.clone();
            async move { store.wait_for_version(7).await }
        });
        w.apply(Event::Apply(cm("a", "x", 5, &[])));
        tokio::task::yield_now().await;
        assert!(!waiter.is_finished());
        w.apply(Event::Apply(cm("a", "x", 7, &[])));
        waiter.await.unwrap();
    }
}
