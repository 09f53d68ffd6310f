//! The conformance suite against a real etcd: set `KUBERNAUT_ETCD_ENDPOINTS` (comma-separated
//! `http://host:port`). Without it the suite does not run, says so loudly, and fails when `CI`
//! is set. The suite compacts the whole etcd: use a throwaway cluster.

mod conformance;

use std::io::Write;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use kubernaut_store::etcd::{EtcdConfig, EtcdStore};
use kubernaut_store::{Backend, BackendExt, ListOptions, ReadAt, StoreError, WatchOptions};

/// Everything that touches etcd, in one test: compaction affects the whole cluster, and the
/// suite assumes nobody else writes meanwhile.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn etcd_conformance() {
    let Some(endpoints) = endpoints() else {
        // Straight to the process's stderr: the test harness captures `eprintln!`.
        let _ = writeln!(
            std::io::stderr(),
            "\n!!! etcd conformance NOT RUN: set KUBERNAUT_ETCD_ENDPOINTS (e.g. \
             http://127.0.0.1:2379) to run the store's conformance suite against etcd !!!\n"
        );
        assert!(
            std::env::var_os("CI").is_none(),
            "etcd conformance NOT RUN in CI: KUBERNAUT_ETCD_ENDPOINTS is not set"
        );
        return;
    };
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    let prefix = format!("/kubernaut-test/{}-{nanos}", std::process::id());
    let config = EtcdConfig {
        prefix: prefix.clone(),
        ..EtcdConfig::default()
    };
    let store = match EtcdStore::connect(&endpoints, config).await {
        Ok(store) => store,
        Err(e) => panic!("cannot connect to etcd at {endpoints:?}: {e}"),
    };
    let _ = writeln!(
        std::io::stderr(),
        "etcd conformance against etcd {} at {endpoints:?}",
        store.server_version()
    );

    conformance::run_all(&store).await;

    keys_live_under_the_prefix(&store, &endpoints, &prefix).await;
    small_pages_make_one_list(&endpoints, &prefix).await;
    etcd_refusals_are_too_large(&endpoints, &prefix).await;
}

fn endpoints() -> Option<Vec<String>> {
    let raw = std::env::var("KUBERNAUT_ETCD_ENDPOINTS").ok()?;
    let endpoints: Vec<String> = raw
        .split(',')
        .map(str::trim)
        .filter(|e| !e.is_empty())
        .map(str::to_owned)
        .collect();
    (!endpoints.is_empty()).then_some(endpoints)
}

/// The etcd key is the prefix followed by the store key; the prefix is stripped on the way back,
/// and stores with other prefixes do not see each other's keys.
async fn keys_live_under_the_prefix(store: &EtcdStore, endpoints: &[String], prefix: &str) {
    let r = store
        .put("/registry/pods/default/web", Bytes::from_static(b"{}"))
        .await
        .expect("put");
    let mut kv = store.client().kv_client();
    let raw = kv
        .get(format!("{prefix}/registry/pods/default/web"), None)
        .await
        .expect("raw get");
    assert_eq!(raw.kvs().len(), 1, "the etcd key is prefix + key");
    assert_eq!(raw.kvs()[0].mod_revision(), r);
    let got = store
        .get("/registry/pods/default/web", ReadAt::Latest)
        .await
        .expect("get");
    assert_eq!(
        got.kv.map(|kv| kv.key.to_string()),
        Some("/registry/pods/default/web".to_owned())
    );

    let config = EtcdConfig {
        prefix: format!("{prefix}-other"),
        ..EtcdConfig::default()
    };
    let other = EtcdStore::connect(endpoints, config)
        .await
        .expect("connect");
    assert_eq!(
        other.count("/").await.expect("count").0,
        0,
        "another prefix sees nothing"
    );
    let listed = other.list("", ListOptions::default()).await.expect("list");
    assert!(listed.kvs.is_empty(), "{listed:?}");
    let mut w = other
        .watch("", WatchOptions::default())
        .await
        .expect("watch");
    store
        .put(
            "/registry/pods/default/web",
            Bytes::from_static(b"{\"x\":1}"),
        )
        .await
        .expect("put");
    other
        .put("/mine", Bytes::from_static(b"1"))
        .await
        .expect("put");
    use futures::StreamExt;
    match tokio::time::timeout(Duration::from_secs(10), w.next()).await {
        Ok(Some(Ok(kubernaut_store::WatchResponse::Events(events)))) => {
            assert_eq!(events.len(), 1);
            assert_eq!(
                &*events[0].kv.key, "/mine",
                "keys come back without the prefix"
            );
        }
        other => panic!("watch of another prefix: {other:?}"),
    }
}

/// A list without a limit is read in pages of `page_size`, all at one revision.
async fn small_pages_make_one_list(endpoints: &[String], prefix: &str) {
    let config = EtcdConfig {
        prefix: format!("{prefix}-pages"),
        page_size: 2,
        ..EtcdConfig::default()
    };
    let store = EtcdStore::connect(endpoints, config)
        .await
        .expect("connect");
    let mut last = 0;
    for i in 0..7 {
        last = store
            .put(&format!("/k{i}"), Bytes::from(format!("v{i}")))
            .await
            .expect("put");
    }
    store
        .put("/k3", Bytes::from_static(b"later"))
        .await
        .expect("put");
    let all = store
        .list(
            "/",
            ListOptions {
                at: ReadAt::Revision(last),
                ..ListOptions::default()
            },
        )
        .await
        .expect("list");
    assert_eq!(all.kvs.len(), 7);
    assert_eq!((all.count, all.more, all.revision), (7, false, last));
    assert_eq!(
        all.kvs[3].value,
        Bytes::from_static(b"v3"),
        "every page at the first page's revision"
    );
}

/// With the client-side check lifted, etcd's own refusals map to `TooLarge`: its request limit
/// ("request is too large") and gRPC's message limit ("received message larger than max").
async fn etcd_refusals_are_too_large(endpoints: &[String], prefix: &str) {
    let config = EtcdConfig {
        prefix: format!("{prefix}-large"),
        max_request_bytes: 64 << 20,
        ..EtcdConfig::default()
    };
    let store = EtcdStore::connect(endpoints, config)
        .await
        .expect("connect");
    for size in [(3 << 19) + 1024, 8 << 20] {
        match store.put("/big", Bytes::from(vec![b'x'; size])).await {
            Err(StoreError::TooLarge { size: reported, .. }) => {
                assert!(reported > size, "{reported}")
            }
            other => panic!("a value of {size} bytes: expected TooLarge, got {other:?}"),
        }
    }
    assert_eq!(store.count("/").await.expect("count").0, 0);
}

/// An unreachable etcd is `Unavailable`, after the connect timeout.
#[tokio::test]
async fn unreachable_etcd_is_unavailable() {
    let config = EtcdConfig {
        connect_timeout: Duration::from_millis(500),
        request_timeout: Duration::from_secs(1),
        ..EtcdConfig::default()
    };
    match EtcdStore::connect(&["http://127.0.0.1:1"], config).await {
        Err(StoreError::Unavailable { source, .. }) => assert!(source.is_some(), "with the cause"),
        other => panic!("expected Unavailable, got {other:?}"),
    }
}
