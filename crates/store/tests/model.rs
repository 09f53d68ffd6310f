//! Model-based test: random sequences of creates, updates, puts, deletes, two-key transactions,
//! compactions, watches, reads at past revisions and restarts, run against the embedded store
//! (with a data directory, small segments and frequent snapshots so restarts exercise recovery)
//! and against a simple reference model. Every answer, every error and every event each
//! watcher sees must equal the model's.

use std::collections::BTreeMap;
use std::sync::Arc;

use bytes::Bytes;
use futures::{FutureExt, StreamExt};
use kubernaut_store::embedded::{Config, Durability, EmbeddedStore};
use kubernaut_store::{
    Backend, BackendExt, Compare, EventKind, ListOptions, ReadAt, StoreError, Txn, TxnOp, Watch,
    WatchOptions, WatchResponse,
};
use proptest::prelude::*;

const KEYS: u8 = 6;

#[derive(Clone, Debug)]
enum Op {
    Create(u8, u8),
    Update {
        key: u8,
        value: u8,
        stale: bool,
    },
    Put(u8, u8),
    Delete {
        key: u8,
        guarded: bool,
        stale: bool,
    },
    Txn2(u8, u8, u8),
    Compact(u8),
    Watch {
        narrow: bool,
        back: u8,
        lagging: bool,
    },
    Get {
        key: u8,
        back: u8,
    },
    List {
        back: u8,
        limit: u8,
    },
    Restart,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (0..KEYS, any::<u8>()).prop_map(|(k, v)| Op::Create(k, v)),
        4 => (0..KEYS, any::<u8>(), any::<bool>()).prop_map(|(key, value, stale)| Op::Update { key, value, stale }),
        3 => (0..KEYS, any::<u8>()).prop_map(|(k, v)| Op::Put(k, v)),
        3 => (0..KEYS, any::<bool>(), any::<bool>()).prop_map(|(key, guarded, stale)| Op::Delete { key, guarded, stale }),
        2 => (0..KEYS, 0..KEYS, any::<u8>()).prop_map(|(a, b, v)| Op::Txn2(a, b, v)),
        1 => (0u8..6).prop_map(Op::Compact),
        2 => (any::<bool>(), 0u8..8, any::<bool>()).prop_map(|(narrow, back, lagging)| Op::Watch { narrow, back, lagging }),
        2 => (0..KEYS, 0u8..8).prop_map(|(key, back)| Op::Get { key, back }),
        1 => (0u8..8, 0u8..4).prop_map(|(back, limit)| Op::List { back, limit }),
        1 => Just(Op::Restart),
    ]
}

fn key(k: u8) -> String {
    format!("/m/k{k}")
}

/// One version in the model: `(revision, value or tombstone, create_revision, version)`.
type MVersion = (i64, Option<Bytes>, i64, i64);

/// A model event: `(revision, key, put?, value, prev value)`.
type MEvent = (i64, String, bool, Option<Bytes>, Option<Bytes>);

#[derive(Default)]
struct Model {
    head: i64,
    compacted: i64,
    keys: BTreeMap<String, Vec<MVersion>>,
    events: Vec<MEvent>,
}

impl Model {
    fn at(&self, key: &str, rev: i64) -> Option<&MVersion> {
        let v = self.keys.get(key)?.iter().rev().find(|v| v.0 <= rev)?;
        v.1.as_ref().map(|_| v)
    }
    fn latest(&self, key: &str) -> Option<&MVersion> {
        self.at(key, i64::MAX)
    }
    fn write(&mut self, rev: i64, key: &str, value: Option<Bytes>) {
        let prev = self.latest(key).cloned();
        let versions = self.keys.entry(key.to_owned()).or_default();
        let entry = match (&value, &prev) {
            (Some(_), Some(p)) => (rev, value.clone(), p.2, p.3 + 1),
            (Some(_), None) => (rev, value.clone(), rev, 1),
            (None, _) => (rev, None, 0, 0),
        };
        versions.push(entry);
        self.events.push((
            rev,
            key.to_owned(),
            value.is_some(),
            value,
            prev.and_then(|p| p.1),
        ));
    }
    fn check_read(&self, rev: i64) -> Result<i64, String> {
        if rev > self.head {
            Err("future".into())
        } else if rev < self.compacted {
            Err("compacted".into())
        } else {
            Ok(rev)
        }
    }
}

struct LiveWatch {
    watch: Watch,
    prefix: String,
    start: i64,
    lagging: bool,
    seen: Vec<MEvent>,
    failed: Option<String>,
}

fn classify(e: &StoreError) -> String {
    match e {
        StoreError::AlreadyExists { .. } => "exists".into(),
        StoreError::Conflict { .. } => "conflict".into(),
        StoreError::NotFound { .. } => "notfound".into(),
        StoreError::Compacted { .. } => "compacted".into(),
        StoreError::FutureRevision { .. } => "future".into(),
        other => format!("other: {other}"),
    }
}

fn value(v: u8) -> Bytes {
    Bytes::from(vec![v; 1 + (v as usize % 7)])
}

fn open(dir: &std::path::Path) -> EmbeddedStore {
    let mut c = Config::durable(dir);
    c.durability = Durability::None;
    c.preallocate = false;
    c.segment_bytes = 1024;
    c.snapshot_records = 7;
    EmbeddedStore::open(c).expect("store opens")
}

/// Takes every response the watch has ready without waiting.
fn drain(w: &mut LiveWatch) {
    while w.failed.is_none() {
        match w.watch.next().now_or_never() {
            Some(Some(Ok(WatchResponse::Events(events)))) => {
                for e in events {
                    let put = e.kind == EventKind::Put;
                    w.seen.push((
                        e.kv.mod_revision,
                        e.kv.key.to_string(),
                        put,
                        put.then(|| e.kv.value.clone()),
                        e.prev.map(|p| p.value),
                    ));
                }
            }
            Some(Some(Ok(WatchResponse::Progress(_)))) => {}
            Some(Some(Err(e))) => w.failed = Some(classify(&e)),
            Some(None) => w.failed = Some("ended".into()),
            None => break,
        }
    }
}

async fn run(ops: Vec<Op>) -> Result<(), TestCaseError> {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Arc::new(open(dir.path()));
    let mut m = Model::default();
    let mut watches: Vec<LiveWatch> = Vec::new();
    for (step, op) in ops.into_iter().enumerate() {
        let ctx = format!("step {step}: {op:?}");
        match op {
            Op::Create(k, v) => {
                let got = store
                    .create(&key(k), value(v))
                    .await
                    .map_err(|e| classify(&e));
                let want = if m.latest(&key(k)).is_some() {
                    Err("exists".to_string())
                } else {
                    m.head += 1;
                    m.write(m.head, &key(k), Some(value(v)));
                    Ok(m.head)
                };
                prop_assert_eq!(got, want, "{}", ctx);
            }
            Op::Update {
                key: k,
                value: v,
                stale,
            } => {
                let current = m.latest(&key(k)).map(|x| x.0);
                let expected = match (current, stale) {
                    (Some(r), false) => r,
                    (Some(r), true) => r - 1,
                    (None, _) => m.head.max(1),
                };
                if expected <= 0 {
                    continue;
                }
                let got = store
                    .update(&key(k), value(v), expected)
                    .await
                    .map_err(|e| classify(&e));
                let want = if current == Some(expected) {
                    m.head += 1;
                    m.write(m.head, &key(k), Some(value(v)));
                    Ok(m.head)
                } else {
                    Err("conflict".to_string())
                };
                prop_assert_eq!(got, want, "{}", ctx);
            }
            Op::Put(k, v) => {
                let got = store.put(&key(k), value(v)).await.map_err(|e| classify(&e));
                m.head += 1;
                m.write(m.head, &key(k), Some(value(v)));
                prop_assert_eq!(got, Ok(m.head), "{}", ctx);
            }
            Op::Delete {
                key: k,
                guarded,
                stale,
            } => {
                let current = m.latest(&key(k)).map(|x| x.0);
                let expected = guarded.then(|| current.unwrap_or(1) - i64::from(stale));
                let got = store
                    .delete(&key(k), expected)
                    .await
                    .map(|(_, r)| r)
                    .map_err(|e| classify(&e));
                let want = match (current, expected) {
                    (None, _) => Err("notfound".to_string()),
                    (Some(c), Some(e)) if c != e => Err("conflict".to_string()),
                    _ => {
                        m.head += 1;
                        m.write(m.head, &key(k), None);
                        Ok(m.head)
                    }
                };
                prop_assert_eq!(got, want, "{}", ctx);
            }
            Op::Txn2(a, b, v) => {
                if a == b {
                    continue;
                }
                let (a, b) = (a.min(b), a.max(b));
                // Put both keys iff `a` does not exist, else delete `b` (if present).
                let txn = Txn {
                    compares: vec![Compare::mod_revision(key(a), 0)],
                    success: vec![
                        TxnOp::Put {
                            key: key(a),
                            value: value(v),
                            lease: 0,
                        },
                        TxnOp::Put {
                            key: key(b),
                            value: value(v),
                            lease: 0,
                        },
                    ],
                    failure: vec![TxnOp::Delete { key: key(b) }],
                };
                let got = store
                    .txn(txn)
                    .await
                    .map_err(|e| TestCaseError::fail(classify(&e)))?;
                let absent = m.latest(&key(a)).is_none();
                prop_assert_eq!(got.succeeded, absent, "{}", ctx);
                if absent {
                    m.head += 1;
                    m.write(m.head, &key(a), Some(value(v)));
                    m.write(m.head, &key(b), Some(value(v)));
                } else if m.latest(&key(b)).is_some() {
                    m.head += 1;
                    m.write(m.head, &key(b), None);
                }
                prop_assert_eq!(got.revision, m.head, "{}", ctx);
            }
            Op::Compact(back) => {
                let target = m.head - i64::from(back);
                if target <= 0 {
                    continue;
                }
                let got = store.compact(target).await.map_err(|e| classify(&e));
                let want = if target <= m.compacted {
                    Err("compacted".to_string())
                } else {
                    m.compacted = target;
                    Ok(())
                };
                prop_assert_eq!(got, want, "{}", ctx);
            }
            Op::Watch {
                narrow,
                back,
                lagging,
            } => {
                let prefix = if narrow { key(1) } else { "/m/".to_owned() };
                let start = (m.head + 1 - i64::from(back)).max(1);
                let got = store
                    .watch(
                        &prefix,
                        WatchOptions {
                            start_revision: start,
                            ..Default::default()
                        },
                    )
                    .await;
                match got {
                    Ok(watch) => {
                        prop_assert!(
                            start > m.compacted,
                            "{}: watch below compaction accepted",
                            ctx
                        );
                        watches.push(LiveWatch {
                            watch,
                            prefix,
                            start,
                            lagging,
                            seen: Vec::new(),
                            failed: None,
                        });
                    }
                    Err(e) => {
                        prop_assert_eq!(classify(&e), "compacted", "{}", ctx);
                        prop_assert!(start <= m.compacted, "{}", ctx);
                    }
                }
            }
            Op::Get { key: k, back } => {
                let rev = m.head - i64::from(back);
                if rev <= 0 {
                    continue;
                }
                let got = store
                    .get(&key(k), ReadAt::Revision(rev))
                    .await
                    .map(|g| {
                        g.kv.map(|kv| {
                            (
                                kv.mod_revision,
                                Some(kv.value),
                                kv.create_revision,
                                kv.version,
                            )
                        })
                    })
                    .map_err(|e| classify(&e));
                let want = m.check_read(rev).map(|r| m.at(&key(k), r).cloned());
                prop_assert_eq!(got, want, "{}", ctx);
            }
            Op::List { back, limit } => {
                let rev = m.head - i64::from(back);
                if rev <= 0 {
                    continue;
                }
                let limit = (limit > 0).then_some(usize::from(limit));
                let opts = ListOptions {
                    at: ReadAt::Revision(rev),
                    limit,
                    start_after: None,
                };
                let got = store
                    .list("/m/", opts)
                    .await
                    .map(|l| {
                        (
                            l.kvs
                                .iter()
                                .map(|kv| kv.key.to_string())
                                .collect::<Vec<_>>(),
                            l.more,
                            l.count,
                        )
                    })
                    .map_err(|e| classify(&e));
                let want = m.check_read(rev).map(|r| {
                    let all: Vec<String> = m
                        .keys
                        .keys()
                        .filter(|k| m.at(k, r).is_some())
                        .cloned()
                        .collect();
                    let n = limit.unwrap_or(usize::MAX).min(all.len());
                    (all[..n].to_vec(), n < all.len(), all.len() as i64)
                });
                prop_assert_eq!(got, want, "{}", ctx);
            }
            Op::Restart => {
                for w in &mut watches {
                    drain(w);
                }
                check_watches(&m, &watches)?;
                watches.clear();
                drop(store);
                store = Arc::new(open(dir.path()));
                let (head, compacted) = store
                    .revisions()
                    .await
                    .map_err(|e| TestCaseError::fail(classify(&e)))?;
                prop_assert_eq!((head, compacted), (m.head, m.compacted), "{}", ctx);
            }
        }
        for w in watches.iter_mut().filter(|w| !w.lagging) {
            drain(w);
        }
    }
    for w in &mut watches {
        drain(w);
    }
    check_watches(&m, &watches)
}

fn check_watches(m: &Model, watches: &[LiveWatch]) -> Result<(), TestCaseError> {
    for (i, w) in watches.iter().enumerate() {
        let expected: Vec<MEvent> = m
            .events
            .iter()
            .filter(|e| e.0 >= w.start && e.1.starts_with(&w.prefix))
            .cloned()
            .collect();
        match &w.failed {
            None => prop_assert_eq!(
                &w.seen,
                &expected,
                "watch {} from {} on {}",
                i,
                w.start,
                &w.prefix
            ),
            Some(reason) => {
                prop_assert_eq!(reason, "compacted", "watch {}", i);
                // Cut off only when compaction passed what it had delivered, and everything
                // delivered before that is a prefix of the expected history.
                let delivered_through = w.seen.last().map_or(w.start - 1, |e| e.0);
                prop_assert!(
                    delivered_through < m.compacted,
                    "watch {} cut off while not behind",
                    i
                );
                prop_assert_eq!(&w.seen[..], &expected[..w.seen.len()], "watch {}", i);
            }
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, .. ProptestConfig::default() })]

    #[test]
    fn the_store_behaves_like_the_model(ops in proptest::collection::vec(op(), 1..80)) {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        rt.block_on(run(ops))?;
    }
}
