//! The conformance suite against the embedded store: in memory, and durable in a directory.

mod conformance;

use kubernaut_store::embedded::{Config, EmbeddedStore};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_in_memory_store_conforms() {
    let store = EmbeddedStore::open(Config::in_memory()).unwrap();
    conformance::run_all(&store).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_durable_store_conforms() {
    let dir = tempfile::tempdir().unwrap();
    let store = EmbeddedStore::open(Config::durable(dir.path())).unwrap();
    conformance::run_all(&store).await;
}

/// An in-memory store runs entirely on the caller's runtime: on a paused clock, writes complete
/// without real time passing and a progress ticker fires only when virtual time moves.
#[tokio::test(start_paused = true)]
async fn in_memory_stores_run_on_virtual_time() {
    use futures::StreamExt as _;
    use kubernaut_store::{Backend, BackendExt, WatchOptions, WatchResponse};
    let store = kubernaut_store::embedded::EmbeddedStore::open(
        kubernaut_store::embedded::Config::in_memory(),
    )
    .expect("open");
    let mut watch = store
        .watch(
            "/a/",
            WatchOptions {
                progress_interval: Some(std::time::Duration::from_secs(3600)),
                ..WatchOptions::default()
            },
        )
        .await
        .expect("watch");
    let started = tokio::time::Instant::now();
    let rev = store.put("/a/x", "1".into()).await.expect("put");
    assert_eq!(
        started.elapsed(),
        std::time::Duration::ZERO,
        "no time passes for a write"
    );
    let Some(Ok(WatchResponse::Events(events))) = watch.next().await else {
        panic!("expected the event")
    };
    assert_eq!(events[0].kv.mod_revision, rev);
    // The next message is the hourly progress notification, an hour of virtual time later.
    let Some(Ok(WatchResponse::Progress(r))) = watch.next().await else {
        panic!("expected progress")
    };
    assert_eq!(r, rev);
    assert!(started.elapsed() >= std::time::Duration::from_secs(3600));
}
