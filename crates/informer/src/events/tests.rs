//! The correlator on its own, and the recorder against a real in-process API server.

use std::collections::VecDeque;
use std::time::Duration;

use kubernaut_api_types::core::v1::ConfigMap;
use kubernaut_api_types::core::v1::Event as CoreEvent;
use kubernaut_client::{Api, ListParams, PostParams};
use tokio::time::{Instant, advance};

use super::*;
use crate::test_server::TestServer;

fn reference(name: &str, uid: &str) -> ObjectReference {
    ObjectReference {
        api_version: Some("v1".into()),
        kind: Some("ConfigMap".into()),
        name: Some(name.into()),
        namespace: Some("default".into()),
        uid: Some(uid.into()),
        resource_version: Some("7".into()),
        field_path: None,
    }
}

fn event(name: &str, reason: &str, message: &str) -> Event {
    make_event(
        &reference(name, &format!("uid-{name}")),
        EventType::Normal,
        reason,
        message,
        &Reporter::new("test-controller").instance("node-1"),
        Utc::now(),
    )
}

fn written(c: Correlated) -> (Event, String, Option<serde_json::Value>, bool) {
    match c {
        Correlated::Write {
            event,
            key,
            patch,
            aggregated,
        } => (*event, key, patch, aggregated),
        Correlated::Skip => panic!("the event was filtered"),
    }
}

#[test]
fn events_are_named_after_the_object_and_the_time_in_hex_nanoseconds() {
    let now = DateTime::parse_from_rfc3339("2024-05-01T10:00:00.123456789Z")
        .unwrap()
        .with_timezone(&Utc);
    let e = make_event(
        &reference("web", "u"),
        EventType::Warning,
        "Failed",
        "boom",
        &Reporter::new("ctl"),
        now,
    );
    assert_eq!(
        e.metadata.name.as_deref(),
        Some(format!("web.{:x}", 1_714_557_600_123_456_789u64).as_str())
    );
    assert_eq!(e.metadata.namespace.as_deref(), Some("default"));
    assert_eq!(e.type_.as_deref(), Some("Warning"));
    assert_eq!(e.count, Some(1));
    assert_eq!(e.first_timestamp, e.last_timestamp);
    assert_eq!(e.source.as_ref().unwrap().host, None);
    // Events about cluster-scoped objects go to `default`.
    let node = ObjectReference {
        kind: Some("Node".into()),
        name: Some("n1".into()),
        ..ObjectReference::default()
    };
    let e = make_event(
        &node,
        EventType::Normal,
        "Ready",
        "",
        &Reporter::new("ctl"),
        now,
    );
    assert_eq!(e.metadata.namespace.as_deref(), Some("default"));
}

#[test]
fn identical_events_are_counted_in_the_first_one() {
    let mut c = Correlator::new(&RecorderConfig::default());
    let now = Instant::now();
    let (first, key, patch, _) = written(c.correlate(event("web", "Synced", "ok"), now));
    assert!(patch.is_none());
    assert_eq!(first.count, Some(1));
    let second_in = event("web", "Synced", "ok");
    let (second, key2, patch, aggregated) = written(c.correlate(second_in.clone(), now));
    assert!(!aggregated);
    assert_eq!(key, key2);
    assert_eq!(
        second.metadata.name, first.metadata.name,
        "the first event is patched"
    );
    assert_eq!(second.first_timestamp, first.first_timestamp);
    assert_eq!(second.count, Some(2));
    assert_eq!(
        patch,
        Some(json!({
            "count": 2,
            "lastTimestamp": second_in.last_timestamp,
            "message": "ok",
        }))
    );
    // What the server stored wins: a count it reports is the base of the next one.
    let mut stored = second.clone();
    stored.count = Some(7);
    stored.metadata.resource_version = Some("42".into());
    c.update_state(&key, &stored);
    let (third, _, patch, _) = written(c.correlate(event("web", "Synced", "ok"), now));
    assert_eq!(third.count, Some(8));
    assert_eq!(patch.unwrap()["count"], 8);
    // Another message is another event.
    let (other, _, patch, _) = written(c.correlate(event("web", "Synced", "changed"), now));
    assert!(patch.is_none());
    assert_ne!(other.metadata.name, first.metadata.name);
}

#[test]
fn similar_events_are_aggregated_from_the_tenth_distinct_message_within_ten_minutes() {
    let mut c = Correlator::new(&RecorderConfig::default());
    let start = Instant::now();
    for i in 0..9 {
        let (e, _, _, aggregated) =
            written(c.correlate(event("web", "Scaled", &format!("to {i}")), start));
        assert!(!aggregated);
        assert_eq!(e.message.as_deref(), Some(format!("to {i}").as_str()));
    }
    // Repeating one of them does not make it distinct.
    let (_, _, patch, aggregated) = written(c.correlate(event("web", "Scaled", "to 3"), start));
    assert!(!aggregated && patch.is_some());
    let (tenth, group, patch, aggregated) =
        written(c.correlate(event("web", "Scaled", "to 9"), start));
    assert!(aggregated);
    assert!(patch.is_none(), "the aggregate event is new");
    assert_eq!(
        tenth.message.as_deref(),
        Some("(combined from similar events): to 9")
    );
    assert_eq!(tenth.reason.as_deref(), Some("Scaled"));
    assert_eq!(tenth.count, Some(1));
    assert!(tenth.metadata.name.as_deref().unwrap().starts_with("web."));
    let (eleventh, group2, patch, aggregated) =
        written(c.correlate(event("web", "Scaled", "to 10"), start));
    assert!(aggregated);
    assert_eq!(group, group2);
    assert_eq!(eleventh.metadata.name, tenth.metadata.name);
    assert_eq!(eleventh.count, Some(2));
    assert_eq!(
        patch.unwrap()["message"],
        "(combined from similar events): to 10"
    );
    // Another reason is another group.
    let (_, _, _, aggregated) = written(c.correlate(event("web", "Deleted", "x"), start));
    assert!(!aggregated);
    // Ten minutes after the last similar event the group starts over.
    let later = start + Duration::from_secs(600);
    let (_, _, _, aggregated) = written(c.correlate(event("web", "Scaled", "to 11"), later));
    assert!(aggregated, "600 s is still within the interval");
    let much_later = later + Duration::from_secs(601);
    let (e, _, _, aggregated) = written(c.correlate(event("web", "Scaled", "to 12"), much_later));
    assert!(!aggregated);
    assert_eq!(e.message.as_deref(), Some("to 12"));
}

#[test]
fn a_source_may_send_25_events_about_an_object_then_one_per_300_seconds() {
    let mut c = Correlator::new(&RecorderConfig::default());
    let start = Instant::now();
    for i in 0..25 {
        written(c.correlate(event("web", "Synced", &format!("{}", i % 3)), start));
    }
    assert!(matches!(
        c.correlate(event("web", "Synced", "0"), start),
        Correlated::Skip
    ));
    let almost = start + Duration::from_secs(299);
    assert!(matches!(
        c.correlate(event("web", "Synced", "0"), almost),
        Correlated::Skip
    ));
    let refilled = start + Duration::from_secs(300);
    let (e, _, _, _) = written(c.correlate(event("web", "Synced", "0"), refilled));
    // Filtered occurrences were still counted, as upstream counts them.
    assert_eq!(e.count, Some(9 + 3));
    assert!(matches!(
        c.correlate(event("web", "Synced", "0"), refilled),
        Correlated::Skip
    ));
    // Each object has its own bucket; so has each source.
    written(c.correlate(event("db", "Synced", "0"), refilled));
    let mut other_source = event("web", "Synced", "0");
    other_source.source.as_mut().unwrap().component = Some("other".into());
    written(c.correlate(other_source, refilled));
    // The bucket holds at most the burst, however long it rested.
    let rested = refilled + Duration::from_secs(300 * 1000);
    for _ in 0..25 {
        written(c.correlate(event("web", "Synced", "0"), rested));
    }
    assert!(matches!(
        c.correlate(event("web", "Synced", "0"), rested),
        Correlated::Skip
    ));
}

#[test]
fn the_correlation_caches_forget_the_least_recently_used_entries() {
    let config = RecorderConfig {
        cache_size: 2,
        ..RecorderConfig::default()
    };
    let mut c = Correlator::new(&config);
    let now = Instant::now();
    let (a, ..) = written(c.correlate(event("a", "R", "m"), now));
    written(c.correlate(event("b", "R", "m"), now));
    // Using `a` again makes `b` the oldest; `c` evicts it.
    let (a2, ..) = written(c.correlate(event("a", "R", "m"), now));
    assert_eq!(a2.metadata.name, a.metadata.name);
    written(c.correlate(event("c", "R", "m"), now));
    assert_eq!(c.logs.len(), 2);
    assert!(c.logs.contains(&event_key(&event("a", "R", "m"))));
    assert!(!c.logs.contains(&event_key(&event("b", "R", "m"))));
    let (b_again, _, patch, _) = written(c.correlate(event("b", "R", "m"), now));
    assert!(patch.is_none(), "b was forgotten: a new event");
    assert_eq!(b_again.count, Some(1));
}

proptest::proptest! {
    /// The LRU cache behaves like a list ordered by last use, cut at its capacity.
    #[test]
    fn the_lru_cache_matches_a_model(
        capacity in 1usize..6,
        ops in proptest::collection::vec((0u8..8, proptest::prelude::any::<bool>()), 0..200),
    ) {
        let mut lru = Lru::new(capacity);
        let mut model: VecDeque<(String, u32)> = VecDeque::new();
        for (i, (k, write)) in ops.into_iter().enumerate() {
            let key = k.to_string();
            let value = u32::try_from(i).unwrap();
            if write {
                lru.insert(key.clone(), value);
                model.retain(|(m, _)| *m != key);
                model.push_back((key, value));
                while model.len() > capacity {
                    model.pop_front();
                }
            } else {
                let got = lru.get_mut(&key).map(|v| *v);
                let pos = model.iter().position(|(m, _)| *m == key);
                let expected = pos.map(|p| {
                    let entry = model.remove(p).unwrap();
                    let v = entry.1;
                    model.push_back(entry);
                    v
                });
                proptest::prop_assert_eq!(got, expected);
            }
            proptest::prop_assert_eq!(lru.len(), model.len());
            proptest::prop_assert_eq!(lru.order.len(), lru.len());
        }
    }
}

async fn config_map(client: &Client, name: &str) -> ConfigMap {
    let cm: ConfigMap =
        serde_json::from_value(json!({"metadata": {"name": name}, "data": {"k": "v"}})).unwrap();
    Api::<ConfigMap>::namespaced(client.clone(), "default")
        .create(&PostParams::default(), &cm)
        .await
        .expect("config map created")
}

/// The events `kubectl describe` shows for `object`, by its field selector.
async fn described(client: &Client, object: &ConfigMap) -> Vec<CoreEvent> {
    let meta = &object.metadata;
    let selector = format!(
        "involvedObject.name={},involvedObject.namespace={},involvedObject.uid={}",
        meta.name.as_deref().unwrap(),
        meta.namespace.as_deref().unwrap(),
        meta.uid.as_deref().unwrap()
    );
    let mut items = Api::<CoreEvent>::namespaced(client.clone(), "default")
        .list(&ListParams::default().fields(&selector))
        .await
        .expect("events listed")
        .items;
    items.sort_by_key(|e| e.metadata.creation_timestamp);
    items
}

fn by_reason<'a>(events: &'a [CoreEvent], reason: &str) -> Vec<&'a CoreEvent> {
    events
        .iter()
        .filter(|e| e.reason.as_deref() == Some(reason))
        .collect()
}

#[tokio::test(start_paused = true)]
async fn recorded_events_are_found_by_kubectl_describes_selector_with_upstream_fields() {
    let server = TestServer::start().await;
    let client = server.client();
    let web = config_map(&client, "web").await;
    let db = config_map(&client, "db").await;
    let recorder = Recorder::new(
        client.clone(),
        Reporter::new("test-controller").instance("node-1"),
    );
    recorder.record_for(&web, EventType::Normal, "Synced", "synced web");
    recorder.record_for(&db, EventType::Warning, "Failed", "db failed");
    recorder.flush().await;

    let events = described(&client, &web).await;
    assert_eq!(events.len(), 1, "{events:?}");
    let e = &events[0];
    assert_eq!(e.involved_object, object_reference(&web));
    assert_eq!(e.involved_object.kind.as_deref(), Some("ConfigMap"));
    assert_eq!(e.involved_object.api_version.as_deref(), Some("v1"));
    assert_eq!(e.type_.as_deref(), Some("Normal"));
    assert_eq!(e.reason.as_deref(), Some("Synced"));
    assert_eq!(e.message.as_deref(), Some("synced web"));
    assert_eq!(e.count, Some(1));
    assert_eq!(e.first_timestamp, e.last_timestamp);
    let source = e.source.as_ref().unwrap();
    assert_eq!(source.component.as_deref(), Some("test-controller"));
    assert_eq!(source.host.as_deref(), Some("node-1"));
    assert_eq!(e.reporting_component.as_deref(), Some("test-controller"));
    assert_eq!(e.reporting_instance.as_deref(), Some("node-1"));
    // `<object>.<hex nanoseconds>`, the nanoseconds of the event's time.
    let name = e.metadata.name.as_deref().unwrap();
    let nanos = u64::from_str_radix(name.strip_prefix("web.").unwrap(), 16).unwrap();
    let first = e.first_timestamp.unwrap().0.timestamp();
    assert_eq!(i64::try_from(nanos / 1_000_000_000).unwrap(), first);

    let db_events = described(&client, &db).await;
    assert_eq!(db_events.len(), 1);
    assert_eq!(db_events[0].type_.as_deref(), Some("Warning"));
    let metrics = recorder.metrics();
    assert_eq!((metrics.queued(), metrics.created()), (2, 2));
}

#[tokio::test(start_paused = true)]
async fn repeats_are_counted_similar_events_aggregated_and_spam_limited_on_the_server() {
    let server = TestServer::start().await;
    let client = server.client();
    let web = config_map(&client, "web").await;
    let recorder = Recorder::new(client.clone(), Reporter::new("test-controller"));
    let metrics = recorder.metrics();

    // Repeats patch the first event's count.
    for _ in 0..3 {
        recorder.record_for(&web, EventType::Normal, "Synced", "synced web");
    }
    recorder.flush().await;
    let events = described(&client, &web).await;
    assert_eq!(events.len(), 1);
    let synced = &events[0];
    assert_eq!(synced.count, Some(3));
    assert!(synced.last_timestamp >= synced.first_timestamp);
    assert_eq!((metrics.created(), metrics.patched()), (1, 2));

    // Ten distinct messages for one reason: the tenth becomes an aggregate event, which
    // the eleventh then counts.
    for i in 0..11 {
        recorder.record_for(&web, EventType::Normal, "Scaled", &format!("scaled to {i}"));
    }
    recorder.flush().await;
    let events = described(&client, &web).await;
    let scaled = by_reason(&events, "Scaled");
    assert_eq!(scaled.len(), 10, "nine events and one aggregate");
    let aggregate: Vec<_> = scaled
        .iter()
        .filter(|e| {
            e.message
                .as_deref()
                .unwrap()
                .starts_with(AGGREGATE_MESSAGE_PREFIX)
        })
        .collect();
    assert_eq!(aggregate.len(), 1);
    assert_eq!(aggregate[0].count, Some(2));
    assert_eq!(
        aggregate[0].message.as_deref(),
        Some("(combined from similar events): scaled to 10")
    );
    assert_eq!(metrics.aggregated(), 2);

    // 3 + 11 events so far; 11 more use up the burst of 25.
    for _ in 0..11 {
        recorder.record_for(&web, EventType::Normal, "Synced", "synced web");
    }
    recorder.record_for(&web, EventType::Normal, "Synced", "synced web");
    recorder.flush().await;
    assert_eq!(metrics.filtered(), 1);
    let count = |events: &[CoreEvent]| by_reason(events, "Synced")[0].count;
    assert_eq!(count(&described(&client, &web).await), Some(14));

    // One more after 300 s, not before.
    advance(Duration::from_secs(299)).await;
    recorder.record_for(&web, EventType::Normal, "Synced", "synced web");
    recorder.flush().await;
    assert_eq!(metrics.filtered(), 2);
    advance(Duration::from_secs(1)).await;
    recorder.record_for(&web, EventType::Normal, "Synced", "synced web");
    recorder.flush().await;
    assert_eq!(metrics.filtered(), 2);
    // The two filtered occurrences are counted too, as upstream counts them.
    assert_eq!(count(&described(&client, &web).await), Some(17));
    recorder.record_for(&web, EventType::Normal, "Synced", "synced web");
    recorder.flush().await;
    assert_eq!(metrics.filtered(), 3);

    // An event deleted on the server (its TTL ran out) is created again by the next repeat.
    let api = Api::<CoreEvent>::namespaced(client.clone(), "default");
    let name = by_reason(&described(&client, &web).await, "Synced")[0]
        .metadata
        .name
        .clone()
        .unwrap();
    api.delete(&name, &Default::default())
        .await
        .expect("deleted");
    advance(Duration::from_secs(300)).await;
    recorder.record_for(&web, EventType::Normal, "Synced", "synced web");
    recorder.flush().await;
    let again = api.get(&name).await.expect("created again under its name");
    assert_eq!(again.count, Some(19));
}

#[tokio::test(start_paused = true)]
async fn a_full_queue_drops_events_instead_of_blocking_the_caller() {
    let server = TestServer::start().await;
    let client = server.client();
    let web = config_map(&client, "web").await;
    let config = RecorderConfig {
        queue_capacity: 2,
        ..RecorderConfig::default()
    };
    let recorder = Recorder::with_config(client.clone(), Reporter::new("ctl"), config);
    // The background task cannot run between these calls: the queue takes two.
    for i in 0..5 {
        recorder.record_for(&web, EventType::Normal, "Tick", &format!("tick {i}"));
    }
    let metrics = recorder.metrics();
    assert_eq!((metrics.queued(), metrics.dropped()), (2, 3));
    recorder.flush().await;
    assert_eq!(described(&client, &web).await.len(), 2);
}

#[tokio::test(start_paused = true)]
async fn failed_writes_are_retried_and_rejected_ones_are_not() {
    let server = TestServer::start().await;
    let client = server.client();
    let web = config_map(&client, "web").await;
    let (recorder_client, link) = server.connect();
    let recorder = Recorder::new(recorder_client, Reporter::new("ctl"));
    let metrics = recorder.metrics();

    link.cut();
    let start = Instant::now();
    recorder.record_for(&web, EventType::Normal, "Synced", "synced web");
    // The first retry comes within 10 s, the next ones 10 s apart.
    tokio::time::sleep(Duration::from_secs(25)).await;
    assert!(described(&client, &web).await.is_empty());
    link.restore();
    recorder.flush().await;
    let events = described(&client, &web).await;
    assert_eq!(events.len(), 1);
    let waited = Instant::now() - start;
    assert!(waited <= Duration::from_secs(35), "{waited:?}");
    assert_eq!((metrics.created(), metrics.failed()), (1, 0));

    // A namespace that does not exist: the server refuses, and no retry follows.
    let before = Instant::now();
    let nowhere = ObjectReference {
        namespace: Some("nowhere".into()),
        ..object_reference(&web)
    };
    recorder.record(&nowhere, EventType::Normal, "Synced", "lost");
    recorder.flush().await;
    assert_eq!(Instant::now(), before, "no retry wait");
    assert_eq!(metrics.failed(), 1);

    // A writer that never gets through gives up after 12 tries.
    link.cut();
    recorder.record_for(&web, EventType::Normal, "Other", "never written");
    recorder.flush().await;
    assert_eq!(metrics.failed(), 2);
    let gave_up = Instant::now() - before;
    assert!(
        gave_up >= Duration::from_secs(100) && gave_up < Duration::from_secs(110),
        "{gave_up:?}"
    );
}
