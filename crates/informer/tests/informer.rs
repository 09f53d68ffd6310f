//! Watchers, caches and shared informers against a real in-process API server, on tokio's
//! paused clock: events and recovery, late subscribers, lagging subscribers, and the
//! convergence property under random writes, forced disconnects and 410s.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt as _;
use kubernaut_api_types::core::v1::ConfigMap;
use kubernaut_client::{Api, Client, DeleteParams, ListParams, Patch, PatchParams, PostParams};
use kubernaut_informer::informer::InformerFactory;
use kubernaut_informer::store::{Delta, ObjectKey};
use kubernaut_informer::testkit::TestCluster;
use kubernaut_informer::watcher::{self, Event, watcher};
use proptest::prelude::*;
use serde_json::json;

fn cm(name: &str, value: u32) -> ConfigMap {
    serde_json::from_value(json!({"metadata": {"name": name}, "data": {"v": value.to_string()}}))
        .expect("config map")
}

async fn ensure_namespace(client: &Client, name: &str) {
    let ns: kubernaut_api_types::core::v1::Namespace =
        serde_json::from_value(json!({"metadata": {"name": name}})).expect("namespace");
    let _ = Api::all(client.clone())
        .create(&PostParams::default(), &ns)
        .await;
}

/// The server's state of every config map in the test namespaces: key -> (rv, value).
async fn server_state(client: &Client) -> BTreeMap<ObjectKey, (u64, String)> {
    let all: Api<ConfigMap> = Api::all(client.clone());
    all.list(&ListParams::default())
        .await
        .expect("list")
        .items
        .iter()
        .filter(|c| {
            c.metadata
                .namespace
                .as_deref()
                .is_some_and(|n| n.starts_with("t-"))
        })
        .map(|c| (ObjectKey::of(c), summary(c)))
        .collect()
}

fn summary(c: &ConfigMap) -> (u64, String) {
    (
        c.metadata
            .resource_version
            .as_deref()
            .and_then(|r| r.parse().ok())
            .unwrap_or(0),
        c.data
            .as_ref()
            .and_then(|d| d.get("v").cloned())
            .unwrap_or_default(),
    )
}

#[tokio::test(start_paused = true)]
async fn the_watcher_lists_then_watches_and_relists_after_410() {
    let cluster = TestCluster::with_watch_window(5).await;
    let client = cluster.client();
    let cms: Api<ConfigMap> = Api::default_namespaced(client.clone());
    cms.create(&PostParams::default(), &cm("a", 0))
        .await
        .expect("create");
    // A consistent first list (not one from the server's cache at any version), so the object
    // just written is in it.
    let config = watcher::Config {
        any_version_first: false,
        ..watcher::Config::default()
    };
    let mut events = Box::pin(watcher(cms.clone(), config));
    let mut first = Vec::new();
    while first.last() != Some(&"InitDone") {
        match events.next().await.expect("event").expect("ok") {
            Event::Init => first.push("Init"),
            Event::InitApply(_) => first.push("InitApply"),
            Event::InitDone => first.push("InitDone"),
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(first, ["Init", "InitApply", "InitDone"]);
    cms.create(&PostParams::default(), &cm("b", 0))
        .await
        .expect("create");
    match events.next().await.expect("event").expect("ok") {
        Event::Apply(c) => assert_eq!(c.metadata.name.as_deref(), Some("b")),
        other => panic!("unexpected {other:?}"),
    }
    // While nobody reads the watch, outrun the server's 5-event window: the watch gets a
    // 410 and the watcher relists, seeing the final state.
    for n in 0..12 {
        cms.patch(
            "a",
            &PatchParams::default(),
            &Patch::Merge(json!({"data": {"v": n.to_string()}})),
        )
        .await
        .expect("patch");
    }
    cms.delete("b", &DeleteParams::default())
        .await
        .expect("delete");
    cluster.server().disconnect_watches();
    let mut saw_relist = false;
    let mut state: BTreeMap<String, String> = BTreeMap::new();
    for _ in 0..200 {
        match events.next().await.expect("event") {
            Ok(Event::Init) => {
                saw_relist = true;
                state.clear();
            }
            Ok(Event::InitApply(c) | Event::Apply(c)) => {
                state.insert(c.metadata.name.clone().unwrap_or_default(), summary(&c).1);
            }
            Ok(Event::Delete(c)) => {
                state.remove(c.metadata.name.as_deref().unwrap_or(""));
            }
            Ok(Event::InitDone) => break,
            Err(_) => {}
        }
    }
    assert!(saw_relist, "a 410 makes the watcher relist");
    assert_eq!(state, BTreeMap::from([("a".to_owned(), "11".to_owned())]));
}

#[tokio::test(start_paused = true)]
async fn shared_informers_are_shared_and_late_subscribers_get_the_cache_then_changes() {
    let cluster = TestCluster::start().await;
    let client = cluster.client();
    ensure_namespace(&client, "t-a").await;
    let cms: Api<ConfigMap> = Api::namespaced(client.clone(), "t-a");
    cms.create(&PostParams::default(), &cm("x", 1))
        .await
        .expect("create");
    let factory = InformerFactory::new(client.clone());
    let informer = factory.informer::<ConfigMap>(None, watcher::Config::default());
    let again = factory.informer::<ConfigMap>(None, watcher::Config::default());
    assert!(
        Arc::ptr_eq(&informer, &again),
        "one informer per kind and selectors"
    );
    let other = factory.informer::<ConfigMap>(Some("t-a"), watcher::Config::default());
    assert!(!Arc::ptr_eq(&informer, &other));
    informer.store().wait_until_ready().await;
    let mut late = informer.subscribe();
    match late.next().await.expect("replay") {
        Delta::Replayed(c) => assert_eq!(c.metadata.name.as_deref(), Some("x")),
        other => panic!("expected the replay, got {other:?}"),
    }
    cms.create(&PostParams::default(), &cm("y", 2))
        .await
        .expect("create");
    match late.next().await.expect("change") {
        Delta::Added(c) => assert_eq!(c.metadata.name.as_deref(), Some("y")),
        other => panic!("expected y added, got {other:?}"),
    }
}

#[tokio::test(start_paused = true)]
async fn a_lagging_subscriber_is_resynced_not_buffered() {
    let cluster = TestCluster::start().await;
    let client = cluster.client();
    ensure_namespace(&client, "t-lag").await;
    let cms: Api<ConfigMap> = Api::namespaced(client.clone(), "t-lag");
    let factory = InformerFactory::new(client.clone()).with_buffer(4);
    let informer = factory.informer::<ConfigMap>(Some("t-lag"), watcher::Config::default());
    informer.store().wait_until_ready().await;
    let mut slow = informer.subscribe();
    cms.create(&PostParams::default(), &cm("doomed", 0))
        .await
        .expect("create");
    // Let the informer see it, and the subscriber too.
    match slow.next().await.expect("added") {
        Delta::Added(c) => assert_eq!(c.metadata.name.as_deref(), Some("doomed")),
        other => panic!("{other:?}"),
    }
    cms.delete("doomed", &DeleteParams::default())
        .await
        .expect("delete");
    for n in 0..20 {
        cms.create(&PostParams::default(), &cm(&format!("c{n}"), n))
            .await
            .expect("create");
    }
    // Let the informer catch up without reading the subscription.
    let want = server_state(&client)
        .await
        .values()
        .map(|(rv, _)| *rv)
        .max()
        .unwrap_or(0);
    informer.store().wait_for_version(want).await;
    let mut seen: BTreeMap<String, bool> = BTreeMap::new();
    let mut deleted_doomed = false;
    while seen.len() < 20 {
        match tokio::time::timeout(Duration::from_secs(5), slow.next())
            .await
            .expect("in time")
            .expect("delta")
        {
            Delta::Deleted(c) if c.metadata.name.as_deref() == Some("doomed") => {
                deleted_doomed = true
            }
            d => {
                seen.insert(d.object().metadata.name.clone().unwrap_or_default(), true);
            }
        }
    }
    assert!(
        deleted_doomed,
        "the resync reports the deletion the subscriber missed"
    );
    assert_eq!(
        informer
            .stats()
            .resyncs
            .load(std::sync::atomic::Ordering::Relaxed),
        1
    );
}

#[derive(Clone, Debug)]
enum Op {
    Create(u8, u8),
    Update(u8, u8),
    Delete(u8, u8),
    Disconnect,
    Compact,
    Subscribe,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (0u8..2, 0u8..6).prop_map(|(n, k)| Op::Create(n, k)),
        4 => (0u8..2, 0u8..6).prop_map(|(n, k)| Op::Update(n, k)),
        2 => (0u8..2, 0u8..6).prop_map(|(n, k)| Op::Delete(n, k)),
        1 => Just(Op::Disconnect),
        1 => Just(Op::Compact),
        1 => Just(Op::Subscribe),
    ]
}

/// A subscriber's view, checked against the rules of a valid history as it goes.
#[derive(Default)]
struct View {
    objects: BTreeMap<ObjectKey, (u64, String)>,
    violations: Vec<String>,
}

impl View {
    fn apply(&mut self, d: &Delta<ConfigMap>) {
        let key = ObjectKey::of(&**d.object());
        let now = summary(d.object());
        match d {
            Delta::Added(_) => {
                if self.objects.insert(key.clone(), now).is_some() {
                    self.violations.push(format!("added {key} twice"));
                }
            }
            Delta::Updated { old, .. } => match self.objects.get(&key) {
                None => self.violations.push(format!("updated unknown {key}")),
                Some(prev) => {
                    if summary(old).0 != prev.0 {
                        self.violations
                            .push(format!("update of {key} from an unseen state"));
                    }
                    if now.0 <= prev.0 {
                        self.violations.push(format!("{key} went back in time"));
                    }
                    self.objects.insert(key, now);
                }
            },
            Delta::Deleted(_) => {
                if self.objects.remove(&key).is_none() {
                    self.violations.push(format!("deleted unknown {key}"));
                }
            }
            Delta::Replayed(_) => {
                if let Some(prev) = self.objects.get(&key)
                    && now.0 < prev.0
                {
                    self.violations
                        .push(format!("replay of {key} went back in time"));
                }
                self.objects.insert(key, now);
            }
        }
    }
}

async fn run_convergence(ops: Vec<Op>) -> Result<(), TestCaseError> {
    let cluster = TestCluster::with_watch_window(8).await;
    let client = cluster.client();
    for ns in ["t-0", "t-1"] {
        ensure_namespace(&client, ns).await;
    }
    let factory = InformerFactory::new(client.clone()).with_buffer(6);
    let informer = factory.informer::<ConfigMap>(None, watcher::Config::default().page_size(3));
    let mut subscribers = vec![(informer.subscribe(), View::default())];
    let mut value = 0u32;
    for op in ops {
        value += 1;
        let api = |n: u8| -> Api<ConfigMap> { Api::namespaced(client.clone(), &format!("t-{n}")) };
        match op {
            Op::Create(n, k) => {
                let _ = api(n)
                    .create(&PostParams::default(), &cm(&format!("c{k}"), value))
                    .await;
            }
            Op::Update(n, k) => {
                let _ = api(n)
                    .patch(
                        &format!("c{k}"),
                        &PatchParams::default(),
                        &Patch::Merge(json!({"data": {"v": value.to_string()}})),
                    )
                    .await;
            }
            Op::Delete(n, k) => {
                let _ = api(n)
                    .delete(&format!("c{k}"), &DeleteParams::default())
                    .await;
            }
            Op::Disconnect => cluster.server().disconnect_watches(),
            Op::Compact => {
                use kubernaut_store::Backend as _;
                if let Ok((current, compacted)) = cluster.store().revisions().await
                    && current > compacted
                {
                    let _ = cluster.store().compact(current).await;
                }
            }
            Op::Subscribe => subscribers.push((informer.subscribe(), View::default())),
        }
        // Subscribers read some of the time only, so that they lag and get resynced.
        if value.is_multiple_of(3) {
            for (sub, view) in &mut subscribers {
                while let Some(Some(d)) = sub.next().now_or_never() {
                    view.apply(&d);
                }
            }
        }
    }
    // Quiescence: the informer has caught up with the server.
    let expected = server_state(&client).await;
    let target = expected.values().map(|(rv, _)| *rv).max().unwrap_or(0);
    informer.store().wait_for_version(target).await;
    for _ in 0..200 {
        let cached: BTreeMap<ObjectKey, (u64, String)> = informer
            .store()
            .list()
            .iter()
            .filter(|c| {
                c.metadata
                    .namespace
                    .as_deref()
                    .is_some_and(|n| n.starts_with("t-"))
            })
            .map(|c| (ObjectKey::of(&**c), summary(c)))
            .collect();
        if cached == expected {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let cached: BTreeMap<ObjectKey, (u64, String)> = informer
        .store()
        .list()
        .iter()
        .filter(|c| {
            c.metadata
                .namespace
                .as_deref()
                .is_some_and(|n| n.starts_with("t-"))
        })
        .map(|c| (ObjectKey::of(&**c), summary(c)))
        .collect();
    prop_assert_eq!(&cached, &expected);
    for (sub, view) in &mut subscribers {
        while let Some(Some(d)) = sub.next().now_or_never() {
            view.apply(&d);
        }
        prop_assert!(view.violations.is_empty(), "{:?}", view.violations);
        let mine: BTreeMap<ObjectKey, (u64, String)> = view
            .objects
            .iter()
            .filter(|(k, _)| k.namespace.as_deref().is_some_and(|n| n.starts_with("t-")))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        prop_assert_eq!(&mine, &expected);
    }
    Ok(())
}

use futures::FutureExt as _;

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, .. ProptestConfig::default() })]

    /// After random creates, updates, deletes, forced disconnects and compactions (with a
    /// watch window small enough for 410s), every informer cache equals the server's state,
    /// and every subscriber — early, late, lagging — saw a valid history ending there.
    #[test]
    fn informers_converge_on_the_servers_state(ops in proptest::collection::vec(op(), 1..40)) {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .start_paused(true)
            .build()
            .expect("runtime");
        runtime.block_on(run_convergence(ops))?;
    }
}

#[tokio::test(start_paused = true)]
async fn a_streaming_initial_list_is_bracketed_like_a_list() {
    let cluster = TestCluster::start().await;
    let client = cluster.client();
    let cms: Api<ConfigMap> = Api::default_namespaced(client.clone());
    cms.create(&PostParams::default(), &cm("s1", 1))
        .await
        .expect("create");
    cms.create(&PostParams::default(), &cm("s2", 2))
        .await
        .expect("create");
    let mut events = Box::pin(watcher(
        cms.clone(),
        watcher::Config::default().streaming_lists(),
    ));
    let mut seen = Vec::new();
    loop {
        match events.next().await.expect("event").expect("ok") {
            Event::Init => seen.push("Init".to_owned()),
            Event::InitApply(c) => seen.push(c.metadata.name.unwrap_or_default()),
            Event::InitDone => break,
            other => panic!("unexpected {other:?}"),
        }
    }
    seen[1..].sort();
    assert_eq!(seen, ["Init", "s1", "s2"]);
    cms.create(&PostParams::default(), &cm("s3", 3))
        .await
        .expect("create");
    match events.next().await.expect("event").expect("ok") {
        Event::Apply(c) => assert_eq!(c.metadata.name.as_deref(), Some("s3")),
        other => panic!("unexpected {other:?}"),
    }
}

#[tokio::test(start_paused = true)]
async fn metadata_informers_cache_only_metadata() {
    let cluster = TestCluster::start().await;
    let client = cluster.client();
    ensure_namespace(&client, "t-meta").await;
    let cms: Api<ConfigMap> = Api::namespaced(client.clone(), "t-meta");
    cms.create(&PostParams::default(), &cm("big", 7))
        .await
        .expect("create");
    let factory = InformerFactory::new(client.clone());
    let resource = <ConfigMap as kubernaut_api_types::Resource>::api_resource();
    let informer = factory.metadata_informer(&resource, Some("t-meta"), watcher::Config::default());
    informer.store().wait_until_ready().await;
    let cached = informer.store().list();
    assert_eq!(cached.len(), 1);
    assert_eq!(cached[0].metadata.name.as_deref(), Some("big"));
    assert!(cached[0].metadata.uid.is_some());
    // Changes arrive as metadata too.
    let mut sub = informer.subscribe();
    let _replay = sub.next().await;
    cms.patch(
        "big",
        &PatchParams::default(),
        &Patch::Merge(json!({"metadata": {"labels": {"x": "y"}}})),
    )
    .await
    .expect("patch");
    match sub.next().await.expect("delta") {
        Delta::Updated { new, .. } => {
            assert_eq!(
                new.metadata
                    .labels
                    .as_ref()
                    .and_then(|l| l.get("x"))
                    .map(String::as_str),
                Some("y")
            );
        }
        other => panic!("{other:?}"),
    }
}
