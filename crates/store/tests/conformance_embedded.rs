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
