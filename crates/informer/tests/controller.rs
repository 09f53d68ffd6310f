//! The controller against a real in-process API server, on tokio's paused clock: one reconcile
//! per object at a time, re-runs after changes, per-object backoff, owned objects, predicates,
//! read-your-own-writes and graceful shutdown.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use kubernaut_api_types::core::v1::{ConfigMap, Secret};
use kubernaut_client::{Api, Patch, PatchParams, PostParams};
use kubernaut_informer::controller::{Action, Controller, predicates};
use kubernaut_informer::informer::InformerFactory;
use kubernaut_informer::testkit::TestCluster;
use parking_lot::Mutex;
use serde_json::json;

fn cm(name: &str) -> ConfigMap {
    serde_json::from_value(json!({"metadata": {"name": name}, "data": {"v": "0"}})).expect("cm")
}

async fn settle() {
    for _ in 0..50 {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[derive(Default)]
struct Record {
    running: HashMap<String, usize>,
    overlaps: usize,
    runs: HashMap<String, Vec<tokio::time::Instant>>,
}

#[tokio::test(start_paused = true)]
async fn one_reconcile_per_object_at_a_time_and_another_after_a_change() {
    let cluster = TestCluster::start().await;
    let client = cluster.client();
    let cms: Api<ConfigMap> = Api::default_namespaced(client.clone());
    cms.create(&PostParams::default(), &cm("a"))
        .await
        .expect("create");
    let factory = InformerFactory::new(client.clone());
    let record = Arc::new(Mutex::new(Record::default()));
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let controller = Controller::<ConfigMap>::new(&factory, Some("default"), Default::default())
        .concurrency(4)
        .graceful_shutdown_on(async {
            let _ = stopped.await;
        });
    let run = tokio::spawn(controller.run(
        |c: Arc<ConfigMap>, rec: Arc<Mutex<Record>>| async move {
            let name = c.metadata.name.clone().unwrap_or_default();
            {
                let mut r = rec.lock();
                let n = r.running.entry(name.clone()).or_default();
                *n += 1;
                if *n > 1 {
                    r.overlaps += 1;
                }
                r.runs
                    .entry(name.clone())
                    .or_default()
                    .push(tokio::time::Instant::now());
            }
            tokio::time::sleep(Duration::from_secs(1)).await;
            *rec.lock().running.entry(name).or_default() -= 1;
            Ok::<_, std::convert::Infallible>(Action::await_change())
        },
        |_, _, _| Action::backoff(),
        Arc::clone(&record),
    ));
    settle().await;
    assert_eq!(record.lock().runs.get("a").map(Vec::len), Some(1));
    // Changes while a reconcile runs: it runs once more afterwards, never alongside.
    for n in 0..3 {
        cms.patch(
            "a",
            &PatchParams::default(),
            &Patch::Merge(json!({"data": {"v": n.to_string()}})),
        )
        .await
        .expect("patch");
    }
    settle().await;
    let (overlaps, runs) = {
        let r = record.lock();
        (r.overlaps, r.runs.get("a").map(Vec::len).unwrap_or(0))
    };
    assert_eq!(overlaps, 0);
    assert!((2..=3).contains(&runs), "{runs} runs");
    let _ = stop.send(());
    run.await.expect("stops");
}

#[tokio::test(start_paused = true)]
async fn failures_back_off_per_object_and_success_resets() {
    let cluster = TestCluster::start().await;
    let client = cluster.client();
    let cms: Api<ConfigMap> = Api::default_namespaced(client.clone());
    cms.create(&PostParams::default(), &cm("flaky"))
        .await
        .expect("create");
    cms.create(&PostParams::default(), &cm("fine"))
        .await
        .expect("create");
    let factory = InformerFactory::new(client.clone());
    let record = Arc::new(Mutex::new(Record::default()));
    let controller = Controller::<ConfigMap>::new(&factory, Some("default"), Default::default());
    let run = tokio::spawn(controller.run(
        |c: Arc<ConfigMap>, rec: Arc<Mutex<Record>>| async move {
            let name = c.metadata.name.clone().unwrap_or_default();
            let n = {
                let mut r = rec.lock();
                let runs = r.runs.entry(name.clone()).or_default();
                runs.push(tokio::time::Instant::now());
                runs.len()
            };
            if name == "flaky" && n <= 6 {
                Err("not yet")
            } else {
                Ok(Action::await_change())
            }
        },
        |_, _, _| Action::backoff(),
        Arc::clone(&record),
    ));
    settle().await;
    let r = record.lock();
    let flaky = &r.runs["flaky"];
    assert_eq!(flaky.len(), 7, "six failures, then success, then quiet");
    let gaps: Vec<Duration> = flaky.windows(2).map(|w| w[1] - w[0]).collect();
    for pair in gaps.windows(2) {
        assert!(pair[1] >= pair[0], "backoff grows: {gaps:?}");
    }
    assert!(gaps[0] >= Duration::from_millis(5), "{gaps:?}");
    assert_eq!(r.runs["fine"].len(), 1, "the other object is unaffected");
    drop(r);
    run.abort();
}

#[tokio::test(start_paused = true)]
async fn owned_objects_trigger_their_owner_and_predicates_filter() {
    let cluster = TestCluster::start().await;
    let client = cluster.client();
    let cms: Api<ConfigMap> = Api::default_namespaced(client.clone());
    let owner = cms
        .create(&PostParams::default(), &cm("owner"))
        .await
        .expect("create");
    let factory = InformerFactory::new(client.clone());
    let record = Arc::new(Mutex::new(Record::default()));
    let controller = Controller::<ConfigMap>::new(&factory, Some("default"), Default::default())
        .owns::<Secret>(&factory, Some("default"), Default::default())
        .with_predicate(predicates::labels_changed());
    let run = tokio::spawn(controller.run(
        |c: Arc<ConfigMap>, rec: Arc<Mutex<Record>>| async move {
            let name = c.metadata.name.clone().unwrap_or_default();
            rec.lock()
                .runs
                .entry(name)
                .or_default()
                .push(tokio::time::Instant::now());
            Ok::<_, std::convert::Infallible>(Action::await_change())
        },
        |_, _, _| Action::backoff(),
        Arc::clone(&record),
    ));
    settle().await;
    let runs = |r: &Arc<Mutex<Record>>| r.lock().runs.get("owner").map_or(0, Vec::len);
    assert_eq!(runs(&record), 1);
    // A data change does not pass the labels predicate...
    cms.patch(
        "owner",
        &PatchParams::default(),
        &Patch::Merge(json!({"data": {"v": "1"}})),
    )
    .await
    .expect("patch");
    settle().await;
    assert_eq!(runs(&record), 1);
    // ...a label change does.
    cms.patch(
        "owner",
        &PatchParams::default(),
        &Patch::Merge(json!({"metadata": {"labels": {"a": "b"}}})),
    )
    .await
    .expect("patch");
    settle().await;
    assert_eq!(runs(&record), 2);
    // A Secret controlled by the owner triggers it.
    let secret: Secret = serde_json::from_value(json!({"metadata": {"name": "child",
        "ownerReferences": [{"apiVersion": "v1", "kind": "ConfigMap", "name": "owner",
            "uid": owner.metadata.uid, "controller": true}]}}))
    .expect("secret");
    Api::<Secret>::default_namespaced(client.clone())
        .create(&PostParams::default(), &secret)
        .await
        .expect("create");
    settle().await;
    assert_eq!(runs(&record), 3);
    run.abort();
}

/// A client whose watch streams lag by `delay` per chunk, as over a slow network: a cache fed
/// by it trails the writes made through another client.
fn lagging_client(cluster: &TestCluster, delay: Duration) -> kubernaut_client::Client {
    use futures::StreamExt as _;
    let router = cluster.server().router();
    let auth = http::HeaderValue::from_static("Bearer testkit");
    let service = tower::service_fn(move |mut request: http::Request<kubernaut_client::Body>| {
        let router = router.clone();
        let auth = auth.clone();
        async move {
            let watch = request
                .uri()
                .query()
                .is_some_and(|q| q.contains("watch=true"));
            request
                .headers_mut()
                .insert(http::header::AUTHORIZATION, auth);
            let request = request.map(|b| axum::body::Body::from(b.as_bytes().to_vec()));
            let response = tower::ServiceExt::oneshot(router, request)
                .await
                .map_err(|e| -> kubernaut_client::BoxError { Box::new(e) })?;
            let (parts, body) = response.into_parts();
            let body = if watch {
                axum::body::Body::from_stream(body.into_data_stream().then(
                    move |chunk| async move {
                        tokio::time::sleep(delay).await;
                        chunk
                    },
                ))
            } else {
                body
            };
            Ok::<_, kubernaut_client::BoxError>(http::Response::from_parts(
                parts,
                kubernaut_client::ResponseBody::new(body),
            ))
        }
    });
    kubernaut_client::Client::new(service, "default")
}

#[tokio::test(start_paused = true)]
async fn reconciles_read_their_own_writes() {
    let cluster = TestCluster::start().await;
    // The caches learn of changes 200 ms late; the reconciles come back after 1 ms.
    let client = lagging_client(&cluster, Duration::from_millis(200));
    let cms: Api<ConfigMap> = Api::default_namespaced(cluster.client());
    cms.create(&PostParams::default(), &cm("parent"))
        .await
        .expect("create");
    let factory = InformerFactory::new(client.clone());
    let controller = Controller::<ConfigMap>::new(&factory, Some("default"), Default::default())
        .owns::<Secret>(&factory, Some("default"), Default::default());
    let secrets_cache = factory
        .informer::<Secret>(Some("default"), Default::default())
        .store();
    let writes: Api<Secret> = Api::default_namespaced(controller.client());
    let duplicates = Arc::new(Mutex::new(0usize));
    let run = tokio::spawn(controller.run(
        move |c: Arc<ConfigMap>, dups: Arc<Mutex<usize>>| {
            let writes = writes.clone();
            let cache = secrets_cache.clone();
            async move {
                let name = format!("{}-secret", c.metadata.name.clone().unwrap_or_default());
                // Decide from the cache, as controllers do: a stale cache would create twice.
                let exists = cache
                    .get(&kubernaut_informer::store::ObjectKey::new(
                        Some("default"),
                        &name,
                    ))
                    .is_some();
                if !exists {
                    let s: Secret = serde_json::from_value(json!({"metadata": {"name": name}}))
                        .expect("secret");
                    if let Err(e) = writes.create(&PostParams::default(), &s).await {
                        if e.is_already_exists() {
                            *dups.lock() += 1;
                        }
                        return Err(e.to_string());
                    }
                }
                // Come back at once: the next reconcile must see the secret.
                Ok(Action::requeue(Duration::from_millis(1)))
            }
        },
        |_, _, _| Action::backoff(),
        Arc::clone(&duplicates),
    ));
    for _ in 0..20 {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(
        *duplicates.lock(),
        0,
        "no reconcile acted on a cache older than its write"
    );
    run.abort();
}

#[tokio::test(start_paused = true)]
async fn metrics_count_reconciles_queue_work_and_relists() {
    let cluster = TestCluster::start().await;
    let client = cluster.client();
    let cms: Api<ConfigMap> = Api::default_namespaced(client.clone());
    cms.create(&PostParams::default(), &cm("m"))
        .await
        .expect("create");
    let mut registry = prometheus_client::registry::Registry::default();
    let metrics = Arc::new(kubernaut_informer::metrics::ControllerMetrics::register(
        &mut registry,
    ));
    let factory = InformerFactory::new(client.clone()).with_metrics(Arc::clone(&metrics));
    let controller = Controller::<ConfigMap>::new(&factory, Some("default"), Default::default())
        .with_config(kubernaut_informer::controller::Config {
            name: "cm-metrics".to_owned(),
            ..Default::default()
        })
        .with_metrics(metrics);
    let run = tokio::spawn(controller.run(
        |_c: Arc<ConfigMap>, _: Arc<()>| async {
            Ok::<_, std::convert::Infallible>(Action::await_change())
        },
        |_, _, _| Action::backoff(),
        Arc::new(()),
    ));
    settle().await;
    let mut text = String::new();
    prometheus_client::encoding::text::encode(&mut text, &registry).expect("encode");
    assert!(
        text.contains(
            r#"controller_runtime_reconcile_total{controller="cm-metrics",result="success"} 1"#
        ),
        "{text}"
    );
    assert!(
        text.contains(r#"workqueue_adds_total{name="cm-metrics"}"#),
        "{text}"
    );
    assert!(
        text.contains(r#"informer_relists_total{kind="ConfigMap"} 1"#),
        "{text}"
    );
    assert!(
        text.contains("controller_runtime_reconcile_time_seconds_bucket"),
        "{text}"
    );
    run.abort();
}

#[tokio::test(start_paused = true)]
async fn only_the_leader_reconciles_and_a_successor_takes_over() {
    use kubernaut_informer::leader::{LeaderElectionConfig, LeaderElector, LeaseLock};
    let cluster = TestCluster::start().await;
    let client = cluster.client();
    let cms: Api<ConfigMap> = Api::default_namespaced(client.clone());
    cms.create(&PostParams::default(), &cm("work"))
        .await
        .expect("create");
    let runs: Arc<Mutex<Vec<String>>> = Arc::new(Mutex::new(Vec::new()));
    let mut stops = Vec::new();
    let mut handles = Vec::new();
    for id in ["one", "two"] {
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        stops.push(stop);
        let client = client.clone();
        let runs = Arc::clone(&runs);
        handles.push(tokio::spawn(async move {
            let factory = InformerFactory::new(client.clone());
            let controller =
                Controller::<ConfigMap>::new(&factory, Some("default"), Default::default());
            let elector = LeaderElector::new(
                LeaseLock::new(client.clone(), "default", "cm-controller", id),
                LeaderElectionConfig {
                    release_on_cancel: false,
                    ..LeaderElectionConfig::default()
                },
            )
            .expect("config")
            .warm_up({
                let ready = controller.caches_ready();
                async move {
                    ready.await;
                    Ok(())
                }
            });
            let _ = elector
                .run(
                    async {
                        let _ = stopped.await;
                    },
                    move |leadership| async move {
                        let lost = async move { leadership.lost().await };
                        controller
                            .graceful_shutdown_on(lost)
                            .run(
                                move |c: Arc<ConfigMap>, runs: Arc<Mutex<Vec<String>>>| async move {
                                    let _ = c;
                                    runs.lock().push(id.to_owned());
                                    Ok::<_, std::convert::Infallible>(Action::requeue(
                                        Duration::from_secs(1),
                                    ))
                                },
                                |_, _, _| Action::backoff(),
                                runs,
                            )
                            .await;
                    },
                )
                .await;
        }));
    }
    for _ in 0..100 {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let first: Vec<String> = runs.lock().clone();
    assert!(!first.is_empty());
    assert!(
        first.iter().all(|r| r == &first[0]),
        "only one candidate reconciles: {first:?}"
    );
    // Kill the leader without releasing: the other takes over within the lease duration.
    let leader = if first[0] == "one" { 0 } else { 1 };
    let dead = handles.remove(leader);
    dead.abort();
    let _ = dead.await;
    // Its workers are aborted with it; let the runtime drop them before counting.
    for _ in 0..10 {
        tokio::task::yield_now().await;
    }
    runs.lock().clear();
    for _ in 0..300 {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let after: Vec<String> = runs.lock().clone();
    assert!(!after.is_empty(), "the successor reconciles");
    assert!(after.iter().all(|r| r != &first[0]), "{after:?}");
    drop(stops);
}
