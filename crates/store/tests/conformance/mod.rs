//! The conformance suite of the [`Backend`] contract, written once and run against every backend
//! (`conformance_embedded.rs`, `conformance_etcd.rs`).
//!
//! Every check writes under its own key prefix (unique per run) and asserts only relative facts
//! about revisions, because a backend's revision is global (etcd's is shared with everything
//! else in the cluster) and earlier checks have moved it. One assumption: nobody else writes to
//! the backend while the suite runs, so the write after a write at revision `r` gets `r + 1`.
//! Compaction affects the whole backend: [`run_all`] runs the checks one after the other and the
//! compaction check last.

use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use futures::{FutureExt, StreamExt};
use kubernaut_store::{
    Backend, BackendExt, Compare, CompareOp, CompareTarget, Event, EventKind, KeyValue,
    ListOptions, ListResponse, ReadAt, Revision, StoreError, Txn, TxnOp, TxnOpResult, Watch,
    WatchOptions, WatchResponse,
};

/// How long a watch may take to deliver what a check waits for before the check fails (a guard
/// against hanging, not a speed requirement).
const WAIT: Duration = Duration::from_secs(10);

/// Runs every check against `backend`, one after the other, and panics naming every check that
/// failed. The backend must not be written by anyone else meanwhile.
pub(crate) async fn run_all(backend: &dyn Backend) {
    let run = format!(
        "/conformance/{}-{}",
        std::process::id(),
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default()
    );
    let mut failed: Vec<String> = Vec::new();
    macro_rules! checks {
        ($($name:ident),* $(,)?) => {$(
            let prefix = format!("{run}/{}/", stringify!($name));
            let outcome = AssertUnwindSafe($name(backend, &prefix)).catch_unwind().await;
            match outcome {
                Ok(()) => eprintln!("conformance: {} ok", stringify!($name)),
                Err(panic) => {
                    let message = panic_message(&*panic);
                    eprintln!("conformance: {} FAILED: {message}", stringify!($name));
                    failed.push(format!("{}: {message}", stringify!($name)));
                }
            }
        )*};
    }
    checks!(
        create_get_update,
        delete_guarded_and_unguarded,
        version_resets_after_delete_and_recreate,
        one_revision_per_txn,
        txn_compares,
        txn_results_and_failure_branch,
        txn_rejects_a_key_written_twice,
        reads_at_past_revisions,
        list_order_and_prefix,
        list_pagination_at_a_fixed_revision,
        watch_replays_history,
        watch_from_now_sees_only_new_writes,
        watch_ignores_other_prefixes,
        txn_events_arrive_in_one_response,
        watch_progress,
        future_revisions,
        too_large,
        revisions_are_consistent,
        // Last: compaction discards history for every key.
        compaction,
    );
    assert!(
        failed.is_empty(),
        "{} conformance check(s) failed:\n{}",
        failed.len(),
        failed.join("\n")
    );
}

fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = panic.downcast_ref::<&str>() {
        (*s).to_owned()
    } else if let Some(s) = panic.downcast_ref::<String>() {
        s.clone()
    } else {
        "(panic without a message)".to_owned()
    }
}

// ---------------------------------------------------------------------------------------------
// Helpers.

fn b(s: &str) -> Bytes {
    Bytes::copy_from_slice(s.as_bytes())
}

/// A key-value as reads and put events show it.
fn kv(key: &str, value: &str, create: Revision, modified: Revision, version: i64) -> KeyValue {
    KeyValue {
        key: Arc::from(key),
        value: b(value),
        create_revision: create,
        mod_revision: modified,
        version,
        lease: 0,
    }
}

/// The `kv` of a delete event: the key and the revision of the deletion only.
fn tombstone(key: &str, deleted: Revision) -> KeyValue {
    KeyValue {
        key: Arc::from(key),
        value: Bytes::new(),
        create_revision: 0,
        mod_revision: deleted,
        version: 0,
        lease: 0,
    }
}

fn put_event(kv: KeyValue, prev: Option<KeyValue>) -> Event {
    Event {
        kind: EventKind::Put,
        kv,
        prev,
    }
}

fn delete_event(key: &str, deleted: Revision, prev: KeyValue) -> Event {
    Event {
        kind: EventKind::Delete,
        kv: tombstone(key, deleted),
        prev: Some(prev),
    }
}

fn put_op(key: &str, value: &str) -> TxnOp {
    TxnOp::Put {
        key: key.to_owned(),
        value: b(value),
        lease: 0,
    }
}

fn delete_op(key: &str) -> TxnOp {
    TxnOp::Delete {
        key: key.to_owned(),
    }
}

fn get_op(key: &str) -> TxnOp {
    TxnOp::Get {
        key: key.to_owned(),
    }
}

fn compare(key: &str, target: CompareTarget, op: CompareOp) -> Compare {
    Compare {
        key: key.to_owned(),
        target,
        op,
    }
}

async fn get(backend: &dyn Backend, key: &str, at: ReadAt) -> Option<KeyValue> {
    match backend.get(key, at).await {
        Ok(resp) => resp.kv,
        Err(e) => panic!("get {key:?} at {at:?}: {e}"),
    }
}

async fn list(backend: &dyn Backend, prefix: &str, options: ListOptions) -> ListResponse {
    match backend.list(prefix, options.clone()).await {
        Ok(resp) => resp,
        Err(e) => panic!("list {prefix:?} with {options:?}: {e}"),
    }
}

fn keys(resp: &ListResponse) -> Vec<&str> {
    resp.kvs.iter().map(|kv| &*kv.key).collect()
}

async fn create(backend: &dyn Backend, key: &str, value: &str) -> Revision {
    backend
        .create(key, b(value))
        .await
        .unwrap_or_else(|e| panic!("create {key:?}: {e}"))
}

async fn update(backend: &dyn Backend, key: &str, value: &str, expected: Revision) -> Revision {
    backend
        .update(key, b(value), expected)
        .await
        .unwrap_or_else(|e| panic!("update {key:?} at {expected}: {e}"))
}

async fn put(backend: &dyn Backend, key: &str, value: &str) -> Revision {
    backend
        .put(key, b(value))
        .await
        .unwrap_or_else(|e| panic!("put {key:?}: {e}"))
}

async fn delete(backend: &dyn Backend, key: &str) -> Revision {
    match backend.delete(key, None).await {
        Ok((_, revision)) => revision,
        Err(e) => panic!("delete {key:?}: {e}"),
    }
}

async fn txn(backend: &dyn Backend, t: Txn) -> kubernaut_store::TxnResponse {
    match backend.txn(t.clone()).await {
        Ok(resp) => resp,
        Err(e) => panic!("txn {t:?}: {e}"),
    }
}

async fn current(backend: &dyn Backend) -> Revision {
    backend
        .revisions()
        .await
        .unwrap_or_else(|e| panic!("revisions: {e}"))
        .0
}

async fn watch(backend: &dyn Backend, prefix: &str, options: WatchOptions) -> Watch {
    match backend.watch(prefix, options.clone()).await {
        Ok(w) => w,
        Err(e) => panic!("watch {prefix:?} with {options:?}: {e}"),
    }
}

fn from(start_revision: Revision) -> WatchOptions {
    WatchOptions {
        start_revision,
        ..WatchOptions::default()
    }
}

/// The next message of a watch.
async fn next_message(w: &mut Watch, what: &str) -> WatchResponse {
    match tokio::time::timeout(WAIT, w.next()).await {
        Ok(Some(Ok(message))) => message,
        Ok(Some(Err(e))) => panic!("{what}: the watch failed: {e}"),
        Ok(None) => panic!("{what}: the watch ended"),
        Err(_) => panic!("{what}: nothing arrived within {WAIT:?}"),
    }
}

/// The next events message of a watch (progress notifications are skipped).
async fn next_events(w: &mut Watch, what: &str) -> Vec<Event> {
    loop {
        match next_message(w, what).await {
            WatchResponse::Events(events) => {
                assert!(!events.is_empty(), "{what}: an empty events message");
                return events;
            }
            WatchResponse::Progress(_) => continue,
        }
    }
}

/// The events of a watch through revision `through`, checking that they come in revision order
/// and that no revision is split across messages.
async fn events_through(w: &mut Watch, through: Revision, what: &str) -> Vec<Event> {
    let mut all: Vec<Event> = Vec::new();
    while all.last().is_none_or(|e| e.kv.mod_revision < through) {
        let events = next_events(w, what).await;
        let before = all.last().map(|e| e.kv.mod_revision);
        for pair in events.windows(2) {
            assert!(
                pair[0].kv.mod_revision <= pair[1].kv.mod_revision,
                "{what}: events out of order in one message: {events:?}"
            );
        }
        if let Some(before) = before {
            assert!(
                events[0].kv.mod_revision > before,
                "{what}: revision {} continued in another message (or went back): {events:?}",
                events[0].kv.mod_revision
            );
        }
        all.extend(events);
    }
    all
}

fn expect_compacted(
    r: Result<impl std::fmt::Debug, StoreError>,
    requested: Revision,
    compacted: Revision,
    what: &str,
) {
    match r {
        Err(StoreError::Compacted {
            requested: rq,
            compacted_revision,
        }) => {
            assert_eq!(rq, requested, "{what}: Compacted.requested");
            assert_eq!(
                compacted_revision, compacted,
                "{what}: Compacted.compacted_revision"
            );
        }
        other => panic!(
            "{what}: expected Compacted({requested}, compacted at {compacted}), got {other:?}"
        ),
    }
}

fn expect_future(
    r: Result<impl std::fmt::Debug, StoreError>,
    requested: Revision,
    current: Revision,
    what: &str,
) {
    match r {
        Err(StoreError::FutureRevision {
            requested: rq,
            current: c,
        }) => {
            assert_eq!(rq, requested, "{what}: FutureRevision.requested");
            assert_eq!(c, current, "{what}: FutureRevision.current");
        }
        other => {
            panic!("{what}: expected FutureRevision({requested}, current {current}), got {other:?}")
        }
    }
}

fn expect_invalid(r: Result<impl std::fmt::Debug, StoreError>, what: &str) {
    match r {
        Err(StoreError::InvalidArgument(_)) => {}
        other => panic!("{what}: expected InvalidArgument, got {other:?}"),
    }
}

// ---------------------------------------------------------------------------------------------
// Checks.

/// create, AlreadyExists with the current value, update, Conflict on a stale revision and on a
/// missing key, unconditional put.
async fn create_get_update(backend: &dyn Backend, p: &str) {
    let k = format!("{p}k");
    let r1 = create(backend, &k, "v1").await;
    assert!(r1 > 0, "create returns the new revision");
    let resp = backend
        .get(&k, ReadAt::Latest)
        .await
        .unwrap_or_else(|e| panic!("get: {e}"));
    assert_eq!(resp.kv, Some(kv(&k, "v1", r1, r1, 1)), "a created key");
    assert_eq!(
        resp.revision, r1,
        "a latest read is served at the current revision"
    );

    match backend.create(&k, b("other")).await {
        Err(StoreError::AlreadyExists { key, current }) => {
            assert_eq!(key, k);
            assert_eq!(
                *current,
                kv(&k, "v1", r1, r1, 1),
                "AlreadyExists carries the current value"
            );
        }
        other => panic!("create of an existing key: expected AlreadyExists, got {other:?}"),
    }
    assert_eq!(current(backend).await, r1, "a failed create writes nothing");

    let r2 = update(backend, &k, "v2", r1).await;
    assert_eq!(r2, r1 + 1, "the next write gets the next revision");
    assert_eq!(
        get(backend, &k, ReadAt::Latest).await,
        Some(kv(&k, "v2", r1, r2, 2))
    );

    match backend.update(&k, b("stale"), r1).await {
        Err(StoreError::Conflict {
            key,
            expected,
            current,
        }) => {
            assert_eq!((key.as_str(), expected), (k.as_str(), r1));
            assert_eq!(
                current.as_deref(),
                Some(&kv(&k, "v2", r1, r2, 2)),
                "Conflict carries the current value"
            );
        }
        other => panic!("update with a stale revision: expected Conflict, got {other:?}"),
    }
    let missing = format!("{p}missing");
    match backend.update(&missing, b("x"), r2).await {
        Err(StoreError::Conflict {
            key,
            expected,
            current,
        }) => {
            assert_eq!((key.as_str(), expected), (missing.as_str(), r2));
            assert_eq!(
                current, None,
                "Conflict on a missing key carries no current value"
            );
        }
        other => panic!("update of a missing key: expected Conflict, got {other:?}"),
    }
    assert_eq!(
        get(backend, &missing, ReadAt::Latest).await,
        None,
        "a failed update creates nothing"
    );
    assert_eq!(current(backend).await, r2, "failed updates write nothing");

    let r3 = put(backend, &k, "v3").await;
    assert_eq!(r3, r2 + 1);
    assert_eq!(
        get(backend, &k, ReadAt::Latest).await,
        Some(kv(&k, "v3", r1, r3, 3))
    );
    let r4 = put(backend, &missing, "new").await;
    assert_eq!(
        get(backend, &missing, ReadAt::Latest).await,
        Some(kv(&missing, "new", r4, r4, 1)),
        "put creates"
    );
}

/// Guarded and unguarded deletes, Conflict and NotFound.
async fn delete_guarded_and_unguarded(backend: &dyn Backend, p: &str) {
    let a = format!("{p}a");
    let ra = create(backend, &a, "va").await;
    let ra2 = update(backend, &a, "va2", ra).await;

    match backend.delete(&a, Some(ra)).await {
        Err(StoreError::Conflict {
            key,
            expected,
            current,
        }) => {
            assert_eq!((key.as_str(), expected), (a.as_str(), ra));
            assert_eq!(current.as_deref(), Some(&kv(&a, "va2", ra, ra2, 2)));
        }
        other => panic!("delete with a stale revision: expected Conflict, got {other:?}"),
    }
    assert_eq!(
        current(backend).await,
        ra2,
        "a failed delete writes nothing"
    );

    let (prev, rd) = backend
        .delete(&a, Some(ra2))
        .await
        .unwrap_or_else(|e| panic!("guarded delete: {e}"));
    assert_eq!(
        prev,
        kv(&a, "va2", ra, ra2, 2),
        "delete returns the deleted state"
    );
    assert_eq!(rd, ra2 + 1, "a delete is a write with its own revision");
    assert_eq!(get(backend, &a, ReadAt::Latest).await, None);

    match backend.delete(&a, None).await {
        Err(StoreError::NotFound { key }) => assert_eq!(key, a),
        other => panic!("unguarded delete of a missing key: expected NotFound, got {other:?}"),
    }
    match backend.delete(&a, Some(ra2)).await {
        Err(StoreError::NotFound { key }) => assert_eq!(key, a),
        other => panic!("guarded delete of a missing key: expected NotFound, got {other:?}"),
    }
    assert_eq!(
        current(backend).await,
        rd,
        "deletes of a missing key write nothing"
    );

    let c = format!("{p}c");
    let rc = create(backend, &c, "vc").await;
    let (prev, rd2) = backend
        .delete(&c, None)
        .await
        .unwrap_or_else(|e| panic!("unguarded delete: {e}"));
    assert_eq!(prev, kv(&c, "vc", rc, rc, 1));
    assert_eq!(rd2, rc + 1);
    assert_eq!(get(backend, &c, ReadAt::Latest).await, None);
}

/// A key deleted and created again starts over: version 1, a new create revision; its history
/// stays readable.
async fn version_resets_after_delete_and_recreate(backend: &dyn Backend, p: &str) {
    let k = format!("{p}k");
    let r1 = create(backend, &k, "1").await;
    let r2 = update(backend, &k, "2", r1).await;
    let r3 = delete(backend, &k).await;
    let r4 = create(backend, &k, "again").await;
    assert_eq!((r2, r3, r4), (r1 + 1, r1 + 2, r1 + 3));
    assert_eq!(
        get(backend, &k, ReadAt::Latest).await,
        Some(kv(&k, "again", r4, r4, 1)),
        "re-created"
    );
    assert_eq!(
        get(backend, &k, ReadAt::Revision(r2)).await,
        Some(kv(&k, "2", r1, r2, 2))
    );
    assert_eq!(
        get(backend, &k, ReadAt::Revision(r3)).await,
        None,
        "deleted at r3"
    );
    let r5 = update(backend, &k, "again2", r4).await;
    assert_eq!(
        get(backend, &k, ReadAt::Latest).await,
        Some(kv(&k, "again2", r4, r5, 2))
    );
}

/// A transaction writing several keys takes one revision; a transaction that only reads takes
/// none.
async fn one_revision_per_txn(backend: &dyn Backend, p: &str) {
    let (a, bk, c) = (format!("{p}a"), format!("{p}b"), format!("{p}c"));
    let before = current(backend).await;
    let resp = txn(
        backend,
        Txn {
            success: vec![put_op(&a, "1"), put_op(&bk, "2"), put_op(&c, "3")],
            ..Txn::default()
        },
    )
    .await;
    assert!(resp.succeeded);
    assert_eq!(resp.revision, before + 1, "three puts, one revision");
    assert_eq!(resp.results, vec![TxnOpResult::Put { prev: None }; 3]);
    for (key, value) in [(&a, "1"), (&bk, "2"), (&c, "3")] {
        assert_eq!(
            get(backend, key, ReadAt::Latest).await,
            Some(kv(key, value, resp.revision, resp.revision, 1))
        );
    }
    assert_eq!(current(backend).await, resp.revision);

    let read = txn(
        backend,
        Txn {
            success: vec![get_op(&a)],
            ..Txn::default()
        },
    )
    .await;
    assert_eq!(
        read.revision, resp.revision,
        "a read-only transaction takes no revision"
    );
    let empty = txn(backend, Txn::default()).await;
    assert!(
        empty.succeeded && empty.results.is_empty(),
        "an empty transaction succeeds: {empty:?}"
    );
    assert_eq!(empty.revision, resp.revision);

    let mixed = txn(
        backend,
        Txn {
            success: vec![put_op(&a, "1b"), delete_op(&bk)],
            ..Txn::default()
        },
    )
    .await;
    assert_eq!(
        mixed.revision,
        resp.revision + 1,
        "a put and a delete, one revision"
    );
    assert_eq!(put(backend, &c, "3b").await, mixed.revision + 1);
}

/// Every compare target with every operator, on an existing and on a missing key, and their
/// conjunction.
async fn txn_compares(backend: &dyn Backend, p: &str) {
    let (a, z) = (format!("{p}a"), format!("{p}z-missing"));
    let ra = create(backend, &a, "m").await;
    let ra2 = update(backend, &a, "n", ra).await;
    let after = current(backend).await;
    use CompareOp::{Equal, Greater, Less, NotEqual};
    use CompareTarget::{CreateRevision as C, ModRevision as M, Value as V, Version as Ver};
    let cases: Vec<(&str, CompareTarget, CompareOp, bool)> = vec![
        (&a, M(ra2), Equal, true),
        (&a, M(ra), Equal, false),
        (&a, M(ra), NotEqual, true),
        (&a, M(ra2), NotEqual, false),
        (&a, M(ra), Greater, true),
        (&a, M(ra2), Greater, false),
        (&a, M(ra2 + 1), Less, true),
        (&a, M(ra2), Less, false),
        (&a, C(ra), Equal, true),
        (&a, C(ra2), Equal, false),
        (&a, C(ra), NotEqual, false),
        (&a, C(ra - 1), Greater, true),
        (&a, C(ra), Greater, false),
        (&a, C(ra2), Less, true),
        (&a, C(ra), Less, false),
        (&a, Ver(2), Equal, true),
        (&a, Ver(1), Equal, false),
        (&a, Ver(1), NotEqual, true),
        (&a, Ver(1), Greater, true),
        (&a, Ver(2), Greater, false),
        (&a, Ver(3), Less, true),
        (&a, Ver(2), Less, false),
        (&a, V(b("n")), Equal, true),
        (&a, V(b("m")), Equal, false),
        (&a, V(b("m")), NotEqual, true),
        (&a, V(b("n")), NotEqual, false),
        (&a, V(b("m")), Greater, true),
        (&a, V(b("n")), Greater, false),
        (&a, V(b("o")), Less, true),
        (&a, V(b("n")), Less, false),
        // A missing key: revisions and version compare as 0; a value never matches.
        (&z, M(0), Equal, true),
        (&z, M(0), Greater, false),
        (&z, M(1), Less, true),
        (&z, C(0), Equal, true),
        (&z, Ver(0), Equal, true),
        (&z, Ver(0), NotEqual, false),
        (&z, V(Bytes::new()), Equal, false),
        (&z, V(b("x")), NotEqual, false),
        (&z, V(b("x")), Less, false),
        (&z, V(b("x")), Greater, false),
    ];
    for (key, target, op, holds) in cases {
        let t = Txn {
            compares: vec![compare(key, target.clone(), op)],
            success: vec![get_op(&a)],
            failure: vec![get_op(&z)],
        };
        let resp = txn(backend, t).await;
        assert_eq!(resp.succeeded, holds, "compare {key:?} {target:?} {op:?}");
        let expected = if holds {
            TxnOpResult::Get(Some(kv(&a, "n", ra, ra2, 2)))
        } else {
            TxnOpResult::Get(None)
        };
        assert_eq!(
            resp.results,
            vec![expected],
            "compare {key:?} {target:?} {op:?}: the branch that ran"
        );
        assert_eq!(resp.revision, after, "compares alone write nothing");
    }
    // A conjunction holds only if every compare does.
    let both = |second: CompareTarget| Txn {
        compares: vec![compare(&a, M(ra2), Equal), compare(&a, second, Equal)],
        success: vec![get_op(&a)],
        failure: vec![],
    };
    assert!(txn(backend, both(Ver(2))).await.succeeded, "both hold");
    let resp = txn(backend, both(Ver(1))).await;
    assert!(!resp.succeeded, "the second fails");
    assert!(
        resp.results.is_empty(),
        "an empty failure branch runs nothing"
    );
}

/// Operation results in order (a read after a write in the same transaction sees it),
/// previous values of puts and deletes, a delete of a missing key, the failure branch writing.
async fn txn_results_and_failure_branch(backend: &dyn Backend, p: &str) {
    let (a, d, n, missing) = (
        format!("{p}a"),
        format!("{p}d"),
        format!("{p}n"),
        format!("{p}missing"),
    );
    let ra = create(backend, &a, "va").await;
    let rd = create(backend, &d, "vd").await;
    let resp = txn(
        backend,
        Txn {
            compares: vec![Compare::mod_revision(&a, ra)],
            success: vec![
                get_op(&a),
                put_op(&a, "vb"),
                get_op(&a),
                put_op(&n, "vn"),
                delete_op(&missing),
                delete_op(&d),
            ],
            failure: vec![],
        },
    )
    .await;
    let r = resp.revision;
    assert!(resp.succeeded);
    assert_eq!(r, rd + 1);
    assert_eq!(
        resp.results,
        vec![
            TxnOpResult::Get(Some(kv(&a, "va", ra, ra, 1))),
            TxnOpResult::Put {
                prev: Some(kv(&a, "va", ra, ra, 1))
            },
            TxnOpResult::Get(Some(kv(&a, "vb", ra, r, 2))),
            TxnOpResult::Put { prev: None },
            TxnOpResult::Delete { prev: None },
            TxnOpResult::Delete {
                prev: Some(kv(&d, "vd", rd, rd, 1))
            },
        ],
        "results of the success branch"
    );
    assert_eq!(get(backend, &d, ReadAt::Latest).await, None);
    assert_eq!(
        get(backend, &n, ReadAt::Latest).await,
        Some(kv(&n, "vn", r, r, 1))
    );

    // The failure branch may write, and may write a key the success branch also writes.
    let resp = txn(
        backend,
        Txn {
            compares: vec![Compare::mod_revision(&a, ra)],
            success: vec![put_op(&a, "not this")],
            failure: vec![put_op(&a, "vc"), get_op(&n)],
        },
    )
    .await;
    assert!(!resp.succeeded);
    assert_eq!(resp.revision, r + 1, "the failure branch wrote");
    assert_eq!(
        resp.results,
        vec![
            TxnOpResult::Put {
                prev: Some(kv(&a, "vb", ra, r, 2))
            },
            TxnOpResult::Get(Some(kv(&n, "vn", r, r, 1)))
        ]
    );
    assert_eq!(
        get(backend, &a, ReadAt::Latest).await,
        Some(kv(&a, "vc", ra, r + 1, 3))
    );
}

/// A key written twice in one branch of a transaction is refused, and nothing is written.
async fn txn_rejects_a_key_written_twice(backend: &dyn Backend, p: &str) {
    let (a, other) = (format!("{p}a"), format!("{p}other"));
    create(backend, &a, "va").await;
    let before = current(backend).await;
    let cases = [
        Txn {
            success: vec![put_op(&a, "1"), put_op(&a, "2")],
            ..Txn::default()
        },
        Txn {
            success: vec![put_op(&a, "1"), put_op(&other, "x"), delete_op(&a)],
            ..Txn::default()
        },
        Txn {
            success: vec![delete_op(&a), delete_op(&a)],
            ..Txn::default()
        },
        Txn {
            failure: vec![put_op(&other, "x"), put_op(&other, "y")],
            ..Txn::default()
        },
        Txn {
            success: vec![put_op("", "empty key")],
            ..Txn::default()
        },
    ];
    for t in cases {
        let r = backend.txn(t.clone()).await;
        expect_invalid(r, &format!("{t:?}"));
    }
    assert_eq!(
        current(backend).await,
        before,
        "refused transactions write nothing"
    );
    assert_eq!(get(backend, &other, ReadAt::Latest).await, None);
    assert_eq!(
        get(backend, &a, ReadAt::Latest).await.map(|kv| kv.value),
        Some(b("va"))
    );
}

/// Reads at older revisions see the state as of then, and say so.
async fn reads_at_past_revisions(backend: &dyn Backend, p: &str) {
    let (a, bk, c) = (format!("{p}a"), format!("{p}b"), format!("{p}c"));
    let r1 = put(backend, &a, "a1").await;
    let r2 = put(backend, &bk, "b1").await;
    let r3 = put(backend, &a, "a2").await;
    let r4 = delete(backend, &bk).await;
    let r5 = put(backend, &c, "c1").await;
    assert_eq!(r5, r1 + 4);

    let resp = backend
        .get(&a, ReadAt::Revision(r1))
        .await
        .unwrap_or_else(|e| panic!("get at r1: {e}"));
    assert_eq!(resp.kv, Some(kv(&a, "a1", r1, r1, 1)));
    assert_eq!(
        resp.revision, r1,
        "a read at a revision is served at that revision"
    );
    assert_eq!(
        get(backend, &a, ReadAt::Revision(r3)).await,
        Some(kv(&a, "a2", r1, r3, 2))
    );
    assert_eq!(
        get(backend, &bk, ReadAt::Revision(r3)).await,
        Some(kv(&bk, "b1", r2, r2, 1))
    );
    assert_eq!(get(backend, &bk, ReadAt::Revision(r4)).await, None);
    assert_eq!(
        get(backend, &c, ReadAt::Revision(r4)).await,
        None,
        "not yet created"
    );

    let at = |r| ListOptions {
        at: ReadAt::Revision(r),
        ..ListOptions::default()
    };
    let l2 = list(backend, p, at(r2)).await;
    assert_eq!(
        l2.kvs,
        vec![kv(&a, "a1", r1, r1, 1), kv(&bk, "b1", r2, r2, 1)]
    );
    assert_eq!((l2.count, l2.more, l2.revision), (2, false, r2));
    let l4 = list(backend, p, at(r4)).await;
    assert_eq!(l4.kvs, vec![kv(&a, "a2", r1, r3, 2)]);
    assert_eq!((l4.count, l4.revision), (1, r4));
    let latest = list(backend, p, ListOptions::default()).await;
    assert_eq!(
        latest.kvs,
        vec![kv(&a, "a2", r1, r3, 2), kv(&c, "c1", r5, r5, 1)]
    );
    assert_eq!((latest.count, latest.more, latest.revision), (2, false, r5));

    let counted = backend
        .count(p)
        .await
        .unwrap_or_else(|e| panic!("count: {e}"));
    assert_eq!(counted, (2, r5), "count and the revision it was taken at");
    let none = backend
        .count(&format!("{p}nothing/"))
        .await
        .unwrap_or_else(|e| panic!("count: {e}"));
    assert_eq!(none, (0, r5));
}

/// Keys come in byte order; a prefix matches bytes, the prefix itself included, and nothing
/// beside it.
async fn list_order_and_prefix(backend: &dyn Backend, p: &str) {
    let inside = ["p/a", "p/a/b", "p/ab", "p/B", "p/b", "p/é", "p/~"];
    let outside = ["p", "p0", "p2/x", "q/a", "o/p/a"];
    for key in inside.iter().rev().chain(outside.iter()) {
        put(backend, &format!("{p}{key}"), key).await;
    }
    let mut expected: Vec<String> = inside.iter().map(|k| format!("{p}{k}")).collect();
    expected.sort();
    let resp = list(backend, &format!("{p}p/"), ListOptions::default()).await;
    assert_eq!(keys(&resp), expected, "byte order");
    assert_eq!(resp.count, inside.len() as i64);
    assert!(
        resp.kvs
            .iter()
            .all(|kv| kv.value == kv.key[p.len()..].as_bytes()),
        "values"
    );

    let narrow = list(backend, &format!("{p}p/a"), ListOptions::default()).await;
    assert_eq!(
        keys(&narrow),
        [format!("{p}p/a"), format!("{p}p/a/b"), format!("{p}p/ab")],
        "a byte prefix"
    );
    let exact = list(backend, &format!("{p}p/a/b"), ListOptions::default()).await;
    assert_eq!(
        keys(&exact),
        [format!("{p}p/a/b")],
        "a prefix that is a whole key"
    );
    let none = list(backend, &format!("{p}p/zz"), ListOptions::default()).await;
    assert!(
        none.kvs.is_empty() && !none.more && none.count == 0,
        "{none:?}"
    );
}

/// Pages with a limit and `start_after`, all at the first page's revision, make one
/// consistent snapshot while writes go on.
async fn list_pagination_at_a_fixed_revision(backend: &dyn Backend, p: &str) {
    let key = |i: usize| format!("{p}k{i}");
    let mut originals = Vec::new();
    for i in 0..7 {
        let r = put(backend, &key(i), &format!("v{i}")).await;
        originals.push(kv(&key(i), &format!("v{i}"), r, r, 1));
    }
    let page = |start_after: Option<String>, limit: usize, at: ReadAt| ListOptions {
        at,
        limit: Some(limit),
        start_after,
    };
    let first = list(backend, p, page(None, 3, ReadAt::Latest)).await;
    let r = first.revision;
    assert_eq!(first.kvs, originals[..3]);
    assert!(first.more);
    assert_eq!(first.count, 7, "count: every key from the page's start");

    // Writes go on: an update, a delete, keys inserted before and after the cursor.
    put(backend, &key(3), "changed").await;
    delete(backend, &key(4)).await;
    put(backend, &format!("{p}k35"), "inserted").await;
    put(backend, &format!("{p}k9"), "appended").await;
    put(backend, &format!("{p}k05"), "behind the cursor").await;

    let second = list(backend, p, page(Some(key(2)), 3, ReadAt::Revision(r))).await;
    assert_eq!(
        second.kvs,
        originals[3..6],
        "the second page, as of the first page's revision"
    );
    assert!(second.more);
    assert_eq!((second.count, second.revision), (4, r));
    let third = list(backend, p, page(Some(key(5)), 3, ReadAt::Revision(r))).await;
    assert_eq!(third.kvs, originals[6..]);
    assert!(!third.more, "the last page");
    assert_eq!((third.count, third.revision), (1, r));
    let exact = list(backend, p, page(Some(key(3)), 3, ReadAt::Revision(r))).await;
    assert_eq!(exact.kvs, originals[4..]);
    assert!(!exact.more, "a limit equal to what remains: no more");
    let past_end = list(
        backend,
        p,
        page(Some(format!("{p}z")), 3, ReadAt::Revision(r)),
    )
    .await;
    assert!(
        past_end.kvs.is_empty() && !past_end.more && past_end.count == 0,
        "{past_end:?}"
    );
    let before_prefix = list(
        backend,
        p,
        page(Some(String::new()), 2, ReadAt::Revision(r)),
    )
    .await;
    assert_eq!(
        before_prefix.kvs,
        originals[..2],
        "start_after before the prefix starts at the prefix"
    );

    let whole = list(
        backend,
        p,
        ListOptions {
            at: ReadAt::Revision(r),
            ..ListOptions::default()
        },
    )
    .await;
    assert_eq!(whole.kvs, originals, "the snapshot without a limit");
    let now = list(backend, p, ListOptions::default()).await;
    let now_keys: Vec<String> = now
        .kvs
        .iter()
        .map(|kv| kv.key[p.len()..].to_owned())
        .collect();
    assert_eq!(
        now_keys,
        ["k0", "k05", "k1", "k2", "k3", "k35", "k5", "k6", "k9"],
        "the latest state"
    );
}

/// A watch from a past revision replays exactly the events since: ordered, no gaps, no
/// duplicates, with previous values, deletes carrying the deletion's revision.
async fn watch_replays_history(backend: &dyn Backend, p: &str) {
    let (a, bk, c, d, e) = (
        format!("{p}a"),
        format!("{p}b"),
        format!("{p}c"),
        format!("{p}d"),
        format!("{p}e"),
    );
    let r1 = create(backend, &a, "a1").await;
    let r2 = update(backend, &a, "a2", r1).await;
    let r3 = create(backend, &bk, "b1").await;
    let r4 = delete(backend, &a).await;
    let t = txn(
        backend,
        Txn {
            success: vec![put_op(&c, "c1"), put_op(&d, "d1")],
            ..Txn::default()
        },
    )
    .await;
    let r5 = t.revision;
    let r6 = update(backend, &bk, "b2", r3).await;
    let (_, r7) = backend
        .delete(&bk, Some(r6))
        .await
        .unwrap_or_else(|e| panic!("delete: {e}"));
    assert_eq!(r7, r1 + 6);

    let history = vec![
        put_event(kv(&a, "a1", r1, r1, 1), None),
        put_event(kv(&a, "a2", r1, r2, 2), Some(kv(&a, "a1", r1, r1, 1))),
        put_event(kv(&bk, "b1", r3, r3, 1), None),
        delete_event(&a, r4, kv(&a, "a2", r1, r2, 2)),
        put_event(kv(&c, "c1", r5, r5, 1), None),
        put_event(kv(&d, "d1", r5, r5, 1), None),
        put_event(kv(&bk, "b2", r3, r6, 2), Some(kv(&bk, "b1", r3, r3, 1))),
        delete_event(&bk, r7, kv(&bk, "b2", r3, r6, 2)),
    ];
    let mut w = watch(backend, p, from(r1)).await;
    let got = events_through(&mut w, r7, "watch from r1").await;
    assert_eq!(got, history, "the replay from r1");

    let mut w4 = watch(backend, p, from(r4)).await;
    let got = events_through(&mut w4, r7, "watch from r4").await;
    assert_eq!(got, history[3..], "the replay from r4");

    // After the replay, the next write and nothing else.
    let r8 = create(backend, &e, "e1").await;
    for (w, what) in [(&mut w, "watch from r1"), (&mut w4, "watch from r4")] {
        let next = next_events(w, what).await;
        assert_eq!(
            next,
            vec![put_event(kv(&e, "e1", r8, r8, 1), None)],
            "{what}: live after the replay"
        );
    }
}

/// A watch from 0 sees the writes after it, not before; so does a watch from the next
/// revision.
async fn watch_from_now_sees_only_new_writes(backend: &dyn Backend, p: &str) {
    let (a, bk) = (format!("{p}a"), format!("{p}b"));
    put(backend, &a, "before").await;
    let mut w0 = watch(backend, p, WatchOptions::default()).await;
    let next = current(backend).await + 1;
    let mut w1 = watch(backend, p, from(next)).await;
    let r = put(backend, &bk, "after").await;
    assert_eq!(r, next);
    for (w, what) in [
        (&mut w0, "watch from 0"),
        (&mut w1, "watch from current + 1"),
    ] {
        let events = next_events(w, what).await;
        assert_eq!(
            events,
            vec![put_event(kv(&bk, "after", r, r, 1), None)],
            "{what}"
        );
    }
}

/// A watch of a prefix sees only the keys under it.
async fn watch_ignores_other_prefixes(backend: &dyn Backend, p: &str) {
    let mut w = watch(backend, &format!("{p}in/"), WatchOptions::default()).await;
    put(backend, &format!("{p}in"), "the prefix without its slash").await;
    put(backend, &format!("{p}in2/x"), "a sibling").await;
    put(backend, &format!("{p}out/x"), "elsewhere").await;
    let key = format!("{p}in/x");
    let r = put(backend, &key, "mine").await;
    let events = next_events(&mut w, "watch of a prefix").await;
    assert_eq!(events, vec![put_event(kv(&key, "mine", r, r, 1), None)]);
}

/// The events of one transaction arrive in one message, in the transaction's order.
async fn txn_events_arrive_in_one_response(backend: &dyn Backend, p: &str) {
    let (x, y, z, w_key) = (
        format!("{p}x"),
        format!("{p}y"),
        format!("{p}z"),
        format!("{p}w"),
    );
    let rz = put(backend, &z, "z1").await;
    let rx = put(backend, &x, "x1").await;
    let mut w = watch(backend, p, WatchOptions::default()).await;
    let t = txn(
        backend,
        Txn {
            success: vec![
                put_op(&x, "x2"),
                put_op(&y, "y1"),
                delete_op(&z),
                put_op(&w_key, "w1"),
            ],
            ..Txn::default()
        },
    )
    .await;
    let r = t.revision;
    let events = next_events(&mut w, "a transaction's events").await;
    assert_eq!(
        events,
        vec![
            put_event(kv(&x, "x2", rx, r, 2), Some(kv(&x, "x1", rx, rx, 1))),
            put_event(kv(&y, "y1", r, r, 1), None),
            delete_event(&z, r, kv(&z, "z1", rz, rz, 1)),
            put_event(kv(&w_key, "w1", r, r, 1), None),
        ],
        "one message with every event of the transaction"
    );
}

/// `request_progress` yields a progress notification at or past the last write; so does a
/// progress interval, unasked.
async fn watch_progress(backend: &dyn Backend, p: &str) {
    let k = format!("{p}k");
    let mut w = watch(backend, p, WatchOptions::default()).await;
    let r = put(backend, &k, "v").await;
    let events = next_events(&mut w, "before progress").await;
    assert_eq!(events[0].kv.mod_revision, r);
    w.request_progress();
    match next_message(&mut w, "after request_progress").await {
        WatchResponse::Progress(rev) => {
            assert!(rev >= r, "progress {rev} behind the last write {r}")
        }
        other => panic!("after request_progress: expected Progress, got {other:?}"),
    }
    // Progress with nothing written under the prefix: the store's revision moves elsewhere.
    let elsewhere = put(
        backend,
        &format!("{}-other/k", p.trim_end_matches('/')),
        "v",
    )
    .await;
    w.request_progress();
    match next_message(&mut w, "after a write elsewhere").await {
        WatchResponse::Progress(rev) => {
            assert!(rev >= elsewhere, "progress {rev} behind {elsewhere}")
        }
        other => panic!("after a write elsewhere: expected Progress, got {other:?}"),
    }

    let options = WatchOptions {
        progress_interval: Some(Duration::from_millis(100)),
        ..WatchOptions::default()
    };
    let mut ticking = watch(backend, p, options).await;
    let now = current(backend).await;
    for i in 0..2 {
        match next_message(&mut ticking, "with a progress interval").await {
            WatchResponse::Progress(rev) => {
                assert!(rev >= now, "interval progress {rev} behind {now}")
            }
            other => panic!("with a progress interval (#{i}): expected Progress, got {other:?}"),
        }
    }
}

/// Reads, watches and compactions beyond the current revision.
async fn future_revisions(backend: &dyn Backend, p: &str) {
    let k = format!("{p}k");
    put(backend, &k, "v").await;
    let cur = current(backend).await;
    expect_future(
        backend.get(&k, ReadAt::Revision(cur + 1)).await,
        cur + 1,
        cur,
        "get at current + 1",
    );
    let at = ListOptions {
        at: ReadAt::Revision(cur + 5),
        ..ListOptions::default()
    };
    expect_future(
        backend.list(p, at).await,
        cur + 5,
        cur,
        "list at current + 5",
    );
    expect_future(
        backend.watch(p, from(cur + 2)).await,
        cur + 2,
        cur,
        "watch from current + 2",
    );
    expect_future(
        backend.compact(cur + 1).await,
        cur + 1,
        cur,
        "compact at current + 1",
    );
    let mut w = watch(backend, p, from(cur + 1)).await;
    let r = put(backend, &k, "v2").await;
    assert_eq!(r, cur + 1);
    assert_eq!(
        next_events(&mut w, "watch from current + 1").await[0]
            .kv
            .mod_revision,
        r
    );
}

/// A transaction larger than the store accepts (2 MiB; etcd's default limit is 1.5 MiB) is
/// refused, and the store goes on.
async fn too_large(backend: &dyn Backend, p: &str) {
    let k = format!("{p}big");
    let before = current(backend).await;
    match backend.put(&k, Bytes::from(vec![b'x'; 2 << 20])).await {
        Err(StoreError::TooLarge { size, limit }) => {
            assert!(size > limit, "TooLarge {size} <= {limit}")
        }
        other => panic!("a 2 MiB value: expected TooLarge, got {other:?}"),
    }
    assert_eq!(current(backend).await, before, "nothing written");
    assert_eq!(
        put(backend, &k, "small").await,
        before + 1,
        "the store goes on"
    );
}

/// Every read reports the current revision; `revisions` agrees.
async fn revisions_are_consistent(backend: &dyn Backend, p: &str) {
    let (cur, compacted) = backend
        .revisions()
        .await
        .unwrap_or_else(|e| panic!("revisions: {e}"));
    assert!(
        compacted <= cur,
        "compacted {compacted} beyond current {cur}"
    );
    let r = put(backend, &format!("{p}k"), "v").await;
    assert_eq!(r, cur + 1);
    assert_eq!(
        backend
            .revisions()
            .await
            .unwrap_or_else(|e| panic!("revisions: {e}")),
        (r, compacted)
    );
    let get = backend
        .get(&format!("{p}k"), ReadAt::Latest)
        .await
        .unwrap_or_else(|e| panic!("get: {e}"));
    assert_eq!(get.revision, r);
    let missing = backend
        .get(&format!("{p}missing"), ReadAt::Latest)
        .await
        .unwrap_or_else(|e| panic!("get: {e}"));
    assert_eq!(
        (missing.kv, missing.revision),
        (None, r),
        "a read of a missing key still says when"
    );
    assert_eq!(list(backend, p, ListOptions::default()).await.revision, r);
    assert_eq!(
        backend
            .count(p)
            .await
            .unwrap_or_else(|e| panic!("count: {e}"))
            .1,
        r
    );
    assert_eq!(
        txn(
            backend,
            Txn {
                success: vec![get_op(&format!("{p}k"))],
                ..Txn::default()
            }
        )
        .await
        .revision,
        r
    );
}

/// Compaction: reads below the compaction point fail, at and after it work; watches must start
/// after it; it never goes backwards; `revisions` reports it.
async fn compaction(backend: &dyn Backend, p: &str) {
    let (k, j) = (format!("{p}k"), format!("{p}j"));
    let r1 = put(backend, &k, "1").await;
    let r2 = put(backend, &k, "2").await;
    let r3 = put(backend, &k, "3").await;
    let r4 = put(backend, &j, "j").await;
    assert_eq!(r4, r1 + 3);
    backend
        .compact(r2)
        .await
        .unwrap_or_else(|e| panic!("compact at r2: {e}"));
    assert_eq!(
        backend
            .revisions()
            .await
            .unwrap_or_else(|e| panic!("revisions: {e}")),
        (r4, r2)
    );

    expect_compacted(
        backend.get(&k, ReadAt::Revision(r1)).await,
        r1,
        r2,
        "get below the compaction point",
    );
    let at = |r| ListOptions {
        at: ReadAt::Revision(r),
        ..ListOptions::default()
    };
    expect_compacted(
        backend.list(p, at(r1)).await,
        r1,
        r2,
        "list below the compaction point",
    );
    assert_eq!(
        get(backend, &k, ReadAt::Revision(r2)).await,
        Some(kv(&k, "2", r1, r2, 2)),
        "a read at the compaction point"
    );
    assert_eq!(
        get(backend, &k, ReadAt::Revision(r3)).await,
        Some(kv(&k, "3", r1, r3, 3))
    );
    assert_eq!(
        list(backend, p, at(r2)).await.kvs,
        vec![kv(&k, "2", r1, r2, 2)]
    );

    expect_compacted(
        backend.watch(p, from(r1)).await,
        r1,
        r2,
        "watch from below the compaction point",
    );
    expect_compacted(
        backend.watch(p, from(r2)).await,
        r2,
        r2,
        "watch from the compaction point",
    );
    let mut w = watch(backend, p, from(r2 + 1)).await;
    let got = events_through(&mut w, r4, "watch from just after the compaction point").await;
    assert_eq!(
        got,
        vec![
            put_event(kv(&k, "3", r1, r3, 3), Some(kv(&k, "2", r1, r2, 2))),
            put_event(kv(&j, "j", r4, r4, 1), None)
        ]
    );

    expect_compacted(
        backend.compact(r2).await,
        r2,
        r2,
        "compact at the compaction point again",
    );
    expect_compacted(backend.compact(r1).await, r1, r2, "compact backwards");
    expect_future(
        backend.compact(r4 + 1).await,
        r4 + 1,
        r4,
        "compact beyond the current revision",
    );

    backend
        .compact(r4)
        .await
        .unwrap_or_else(|e| panic!("compact at the current revision: {e}"));
    assert_eq!(
        backend
            .revisions()
            .await
            .unwrap_or_else(|e| panic!("revisions: {e}")),
        (r4, r4)
    );
    expect_compacted(
        backend.get(&k, ReadAt::Revision(r3)).await,
        r3,
        r4,
        "get below the new compaction point",
    );
    assert_eq!(
        get(backend, &k, ReadAt::Latest).await,
        Some(kv(&k, "3", r1, r3, 3)),
        "the latest state survives"
    );
    assert_eq!(
        get(backend, &j, ReadAt::Revision(r4)).await,
        Some(kv(&j, "j", r4, r4, 1))
    );
    let r5 = put(backend, &k, "5").await;
    let mut w = watch(backend, p, from(r4 + 1)).await;
    assert_eq!(
        next_events(&mut w, "watch after compacting at the head").await[0]
            .kv
            .mod_revision,
        r5
    );
}
