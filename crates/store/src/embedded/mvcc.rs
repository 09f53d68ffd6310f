//! The in-memory MVCC index: every retained version of every key, readable at any revision
//! between the compaction point and the head.
//!
//! Per key, versions are kept oldest first; a deletion is a tombstone version. A read at
//! revision `r` sees, per key, the newest version with `mod_revision <= r` unless it is a
//! tombstone. Compaction at `r` keeps, per key, that version (so reads at `r` still work) and
//! everything newer, and forgets keys whose only remaining version is a tombstone.

use std::collections::BTreeMap;
use std::ops::Bound;
use std::sync::Arc;

use bytes::Bytes;

use crate::types::{KeyValue, Revision};

/// One version of a key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Version {
    /// The write that produced it.
    pub(crate) mod_revision: Revision,
    /// The write that created this generation of the key (0 for a tombstone).
    pub(crate) create_revision: Revision,
    /// Writes since creation (0 for a tombstone).
    pub(crate) version: i64,
    /// Attached lease.
    pub(crate) lease: i64,
    /// The value; `None` marks a deletion.
    pub(crate) value: Option<Bytes>,
}

impl Version {
    fn to_kv(&self, key: &Arc<str>) -> Option<KeyValue> {
        let value = self.value.as_ref()?;
        Some(KeyValue {
            key: Arc::clone(key),
            value: value.clone(),
            create_revision: self.create_revision,
            mod_revision: self.mod_revision,
            version: self.version,
            lease: self.lease,
        })
    }
}

/// Every retained version of every key.
#[derive(Clone, Debug, Default)]
pub(crate) struct Index {
    keys: BTreeMap<Arc<str>, Vec<Version>>,
}

/// A page of a range read.
pub(crate) struct Range {
    pub(crate) kvs: Vec<KeyValue>,
    pub(crate) more: bool,
    pub(crate) count: i64,
}

/// The version of `versions` visible at `at`, if any.
fn visible(versions: &[Version], at: Revision) -> Option<&Version> {
    // Most reads are of the newest version: check it first.
    match versions.last() {
        Some(v) if v.mod_revision <= at => Some(v),
        _ => {
            let i = versions.partition_point(|v| v.mod_revision <= at);
            i.checked_sub(1).map(|i| &versions[i])
        }
    }
}

/// Where the versions kept by a compaction at `revision` start: the version visible at
/// `revision` stays (reads at `revision` need it) unless it is a tombstone; everything older
/// goes.
fn retained_from(versions: &[Version], revision: Revision) -> usize {
    let keep_from = versions.partition_point(|v| v.mod_revision <= revision);
    match keep_from.checked_sub(1) {
        Some(i) if versions[i].value.is_some() => i,
        _ => keep_from,
    }
}

impl Index {
    /// The key as of revision `at`.
    pub(crate) fn get(&self, key: &str, at: Revision) -> Option<KeyValue> {
        let (k, versions) = self.keys.get_key_value(key)?;
        visible(versions, at)?.to_kv(k)
    }

    /// The key's newest version, staged writes included (for the writer only).
    pub(crate) fn latest(&self, key: &str) -> Option<KeyValue> {
        let (k, versions) = self.keys.get_key_value(key)?;
        versions.last()?.to_kv(k)
    }

    /// Keys under `prefix` after `start_after`, as of `at`, at most `limit` of them.
    pub(crate) fn range(
        &self,
        prefix: &str,
        start_after: Option<&str>,
        at: Revision,
        limit: Option<usize>,
    ) -> Range {
        let lower = match start_after {
            Some(after) if after >= prefix => Bound::Excluded(after),
            _ => Bound::Included(prefix),
        };
        let limit = limit.filter(|l| *l > 0).unwrap_or(usize::MAX);
        let mut kvs = Vec::new();
        let mut count = 0i64;
        let iter = self.keys.range::<str, _>((lower, Bound::Unbounded));
        for (key, versions) in iter.take_while(|(k, _)| k.starts_with(prefix)) {
            let Some(v) = visible(versions, at) else {
                continue;
            };
            if v.value.is_none() {
                continue;
            }
            count += 1;
            if kvs.len() < limit
                && let Some(kv) = v.to_kv(key)
            {
                kvs.push(kv);
            }
        }
        let more = usize::try_from(count).is_ok_and(|c| c > kvs.len());
        Range { kvs, more, count }
    }

    /// How many keys under `prefix` exist as of `at`.
    pub(crate) fn count(&self, prefix: &str, at: Revision) -> i64 {
        let iter = self
            .keys
            .range::<str, _>((Bound::Included(prefix), Bound::Unbounded));
        iter.take_while(|(k, _)| k.starts_with(prefix))
            .filter(|(_, versions)| visible(versions, at).is_some_and(|v| v.value.is_some()))
            .count() as i64
    }

    /// Writes `value` under `key` at `revision`; returns the previous and the new state.
    pub(crate) fn put(
        &mut self,
        key: &Arc<str>,
        value: Bytes,
        lease: i64,
        revision: Revision,
    ) -> (Option<KeyValue>, KeyValue) {
        let versions = self.keys.entry(Arc::clone(key)).or_default();
        let prev = versions.last().and_then(|v| v.to_kv(key));
        let (create_revision, version) = match &prev {
            Some(p) => (p.create_revision, p.version + 1),
            None => (revision, 1),
        };
        let v = Version {
            mod_revision: revision,
            create_revision,
            version,
            lease,
            value: Some(value),
        };
        let new = v.to_kv(key);
        versions.push(v);
        // `to_kv` of a version with a value is always `Some`.
        (prev, new.unwrap_or_else(|| unreachable_kv(key)))
    }

    /// Deletes `key` at `revision`; returns the previous state, or `None` (and changes nothing)
    /// when the key does not exist.
    pub(crate) fn delete(&mut self, key: &str, revision: Revision) -> Option<KeyValue> {
        let (k, versions) = self.keys.get_key_value(key)?;
        let prev = versions.last()?.to_kv(k)?;
        let k = Arc::clone(k);
        if let Some(versions) = self.keys.get_mut(&k) {
            versions.push(Version {
                mod_revision: revision,
                create_revision: 0,
                version: 0,
                lease: 0,
                value: None,
            });
        }
        Some(prev)
    }

    /// Removes every version newer than `revision` of the given keys (a batch that could not
    /// be made durable).
    pub(crate) fn rollback_after(&mut self, revision: Revision, keys: &[Arc<str>]) {
        for key in keys {
            if let Some(versions) = self.keys.get_mut(key) {
                versions.retain(|v| v.mod_revision <= revision);
                if versions.is_empty() {
                    self.keys.remove(key);
                }
            }
        }
    }

    /// Forgets history up to `revision` (see the module docs), visiting every key.
    pub(crate) fn compact(&mut self, revision: Revision) {
        self.keys.retain(|_, versions| {
            let start = retained_from(versions, revision);
            versions.drain(..start);
            !versions.is_empty()
        });
    }

    /// Forgets history up to `revision` of the given keys only: those written since the
    /// previous compaction point, the only ones with anything to forget. Costs as much as
    /// the keys given, not as the whole index.
    pub(crate) fn compact_keys<'k>(
        &mut self,
        revision: Revision,
        keys: impl IntoIterator<Item = &'k Arc<str>>,
    ) {
        for key in keys {
            let Some(versions) = self.keys.get_mut(&**key) else {
                continue;
            };
            let start = retained_from(versions, revision);
            // Drop the compacted prefix only once it is at least half of the key's versions:
            // draining shifts the rest down, and doing that on every step costs a hot key
            // O(history) per write. Versions below the compaction point are invisible to
            // every read (reads below it are refused), so a key keeps at most twice its
            // retained history.
            if start > 0 && start * 2 >= versions.len() {
                versions.drain(..start);
                if versions.is_empty() {
                    self.keys.remove(&**key);
                }
            }
        }
    }

    /// Up to `limit` keys after `after` with their versions from compaction point `compacted`
    /// through `revision` (keys without any are skipped), for a snapshot read in pieces.
    /// Returns the last key visited, to continue from.
    pub(crate) fn versions_chunk(
        &self,
        after: Option<&str>,
        compacted: Revision,
        revision: Revision,
        limit: usize,
        out: &mut Vec<(Arc<str>, Vec<Version>)>,
    ) -> Option<Arc<str>> {
        let lower = after.map_or(Bound::Unbounded, Bound::Excluded);
        let mut last = None;
        for (key, versions) in self
            .keys
            .range::<str, _>((lower, Bound::Unbounded))
            .take(limit)
        {
            last = Some(key);
            let end = versions.partition_point(|v| v.mod_revision <= revision);
            let start = retained_from(&versions[..end], compacted);
            if start < end {
                out.push((Arc::clone(key), versions[start..end].to_vec()));
            }
        }
        last.map(Arc::clone)
    }

    /// Every key with its retained versions, oldest first, up to `revision`.
    pub(crate) fn versions_through(
        &self,
        revision: Revision,
    ) -> impl Iterator<Item = (&Arc<str>, &[Version])> {
        self.keys.iter().filter_map(move |(k, versions)| {
            let n = versions.partition_point(|v| v.mod_revision <= revision);
            (n > 0).then(|| (k, &versions[..n]))
        })
    }

    /// Installs a key's versions (loading a snapshot).
    pub(crate) fn load_key(&mut self, key: Arc<str>, versions: Vec<Version>) {
        if !versions.is_empty() {
            self.keys.insert(key, versions);
        }
    }

    /// The number of keys with retained versions.
    #[cfg(test)]
    pub(crate) fn key_count(&self) -> usize {
        self.keys.len()
    }

    /// The interned key equal to `key`, if the index holds it.
    pub(crate) fn intern(&self, key: &str) -> Option<Arc<str>> {
        self.keys.get_key_value(key).map(|(k, _)| Arc::clone(k))
    }
}

fn unreachable_kv(key: &Arc<str>) -> KeyValue {
    KeyValue {
        key: Arc::clone(key),
        value: Bytes::new(),
        create_revision: 0,
        mod_revision: 0,
        version: 0,
        lease: 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(s: &str) -> Arc<str> {
        Arc::from(s)
    }

    #[test]
    fn reads_see_the_version_of_their_revision() {
        let mut ix = Index::default();
        let k = key("/a");
        ix.put(&k, Bytes::from_static(b"1"), 0, 1);
        ix.put(&k, Bytes::from_static(b"2"), 0, 2);
        ix.delete("/a", 3);
        ix.put(&k, Bytes::from_static(b"4"), 0, 4);
        assert_eq!(ix.get("/a", 1).unwrap().value, "1");
        let v2 = ix.get("/a", 2).unwrap();
        assert_eq!((v2.create_revision, v2.mod_revision, v2.version), (1, 2, 2));
        assert!(ix.get("/a", 3).is_none());
        let v4 = ix.get("/a", 4).unwrap();
        assert_eq!((v4.create_revision, v4.mod_revision, v4.version), (4, 4, 1));
        assert!(ix.get("/a", 0).is_none());
    }

    #[test]
    fn compaction_keeps_what_reads_at_the_compaction_point_need() {
        let mut ix = Index::default();
        let (a, b) = (key("/a"), key("/b"));
        ix.put(&a, Bytes::from_static(b"1"), 0, 1);
        ix.put(&b, Bytes::from_static(b"1"), 0, 2);
        ix.put(&a, Bytes::from_static(b"2"), 0, 3);
        ix.delete("/b", 4);
        ix.compact(3);
        assert_eq!(ix.get("/a", 3).unwrap().value, "2");
        assert_eq!(ix.get("/b", 3).unwrap().value, "1");
        ix.compact(4);
        assert_eq!(
            ix.key_count(),
            1,
            "/b is gone once only its tombstone remains"
        );
    }

    #[test]
    fn ranges_page_and_count() {
        let mut ix = Index::default();
        for (i, k) in ["/p/a", "/p/b", "/p/c", "/q/a"].iter().enumerate() {
            ix.put(&key(k), Bytes::from_static(b"v"), 0, i as i64 + 1);
        }
        let r = ix.range("/p/", None, 4, Some(2));
        assert_eq!(r.kvs.len(), 2);
        assert!(r.more);
        assert_eq!(r.count, 3);
        let r = ix.range("/p/", Some("/p/b"), 4, Some(2));
        assert_eq!(
            r.kvs.iter().map(|kv| &*kv.key).collect::<Vec<_>>(),
            ["/p/c"]
        );
        assert!(!r.more);
        assert_eq!(ix.count("/p/", 2), 2);
    }

    proptest::proptest! {
        /// Compacting only the keys written since the last compaction leaves the same index
        /// as visiting every key.
        #[test]
        fn compacting_written_keys_equals_compacting_all(
            ops in proptest::collection::vec((0u8..6, proptest::bool::ANY), 1..60),
            cuts in proptest::collection::vec(0usize..60, 0..4),
        ) {
            let mut incremental = Index::default();
            let mut full = Index::default();
            let mut written: Vec<Arc<str>> = Vec::new();
            let mut cuts = cuts;
            cuts.sort_unstable();
            let mut revision = 0;
            for (i, (k, is_put)) in ops.iter().enumerate() {
                let k = key(&format!("/k{k}"));
                revision += 1;
                for ix in [&mut incremental, &mut full] {
                    if *is_put {
                        ix.put(&k, Bytes::from_static(b"v"), 0, revision);
                    } else {
                        ix.delete(&k, revision);
                    }
                }
                written.push(k);
                if cuts.first() == Some(&i) {
                    cuts.retain(|c| *c != i);
                    incremental.compact_keys(revision, &written);
                    full.compact(revision);
                    written.clear();
                    proptest::prop_assert_eq!(&incremental.keys, &full.keys);
                }
            }
            incremental.compact_keys(revision, &written);
            full.compact(revision);
            proptest::prop_assert_eq!(&incremental.keys, &full.keys);
        }
    }
}
