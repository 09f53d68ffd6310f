//! The REST API's semantics, through the router in process: discovery negotiation, metrics,
//! pagination at one revision, the status split and generation, finalizers and propagation,
//! bindings, Tables and partial metadata, and watches (initial events, bookmarks, timeouts).

use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use futures::StreamExt as _;
use http::{Method, Request, StatusCode};
use kubernaut_apiserver::ApiServer;
use kubernaut_store::embedded::{Config, EmbeddedStore};
use serde_json::{Value, json};
use tower::ServiceExt as _;

const TOKEN: &str = "t";

async fn server() -> ApiServer {
    let store = Arc::new(EmbeddedStore::open(Config::in_memory()).expect("store"));
    ApiServer::builder(store)
        .token(TOKEN, "admin")
        .build()
        .await
        .expect("server")
}

async fn send(
    s: &ApiServer,
    method: Method,
    uri: &str,
    headers: &[(&str, &str)],
    body: Option<Value>,
) -> (StatusCode, http::HeaderMap, Vec<u8>) {
    let mut req = Request::builder()
        .method(method)
        .uri(uri)
        .header("authorization", format!("Bearer {TOKEN}"));
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let body = match body {
        Some(v) => {
            req = req.header("content-type", "application/json");
            Body::from(v.to_string())
        }
        None => Body::empty(),
    };
    let resp = s
        .router()
        .oneshot(req.body(body).expect("request"))
        .await
        .expect("infallible");
    let (parts, body) = resp.into_parts();
    let bytes = axum::body::to_bytes(body, usize::MAX)
        .await
        .expect("body")
        .to_vec();
    (parts.status, parts.headers, bytes)
}

async fn json_call(
    s: &ApiServer,
    method: Method,
    uri: &str,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let (status, _, bytes) = send(s, method, uri, &[], body).await;
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

fn cm(name: &str) -> Value {
    json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}, "data": {"k": name}})
}

const CMS: &str = "/api/v1/namespaces/default/configmaps";

#[tokio::test]
async fn aggregated_discovery_is_chosen_by_accept_and_labelled_by_content_type() {
    let s = server().await;
    let accept = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,application/json";
    let (status, headers, body) = send(&s, Method::GET, "/apis", &[("accept", accept)], None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        headers["content-type"],
        "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"
    );
    let doc: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(doc["kind"], "APIGroupDiscoveryList");
    let (_, headers, body) = send(
        &s,
        Method::GET,
        "/apis",
        &[("accept", "application/json")],
        None,
    )
    .await;
    assert_eq!(headers["content-type"], "application/json");
    assert_eq!(
        serde_json::from_slice::<Value>(&body).unwrap()["kind"],
        "APIGroupList"
    );
}

#[tokio::test]
async fn metrics_count_requests_by_verb_resource_and_code() {
    let s = server().await;
    json_call(&s, Method::POST, CMS, Some(cm("a"))).await;
    json_call(&s, Method::GET, &format!("{CMS}/missing"), None).await;
    let (status, headers, body) = send(&s, Method::GET, "/metrics", &[], None).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain")
    );
    let text = String::from_utf8(body).unwrap();
    assert!(
        text.contains(
            r#"apiserver_request_total{verb="create",resource="configmaps",code="201"} 1"#
        ),
        "{text}"
    );
    assert!(
        text.contains(r#"apiserver_request_total{verb="get",resource="configmaps",code="404"} 1"#),
        "{text}"
    );
}

#[tokio::test]
async fn paginated_lists_read_one_revision_across_pages() {
    let s = server().await;
    for n in ["a", "b", "c", "d", "e"] {
        json_call(&s, Method::POST, CMS, Some(cm(n))).await;
    }
    let (_, first) = json_call(&s, Method::GET, &format!("{CMS}?limit=2"), None).await;
    let names = |v: &Value| {
        v["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["metadata"]["name"].as_str().unwrap().to_owned())
            .collect::<Vec<_>>()
    };
    assert_eq!(names(&first), ["a", "b"]);
    assert_eq!(first["metadata"]["remainingItemCount"], 3);
    let rv = first["metadata"]["resourceVersion"].clone();
    // A write between pages is not seen by the rest of the listing.
    json_call(&s, Method::POST, CMS, Some(cm("bb"))).await;
    let token = first["metadata"]["continue"].as_str().unwrap().to_owned();
    let (_, second) = json_call(
        &s,
        Method::GET,
        &format!("{CMS}?limit=2&continue={token}"),
        None,
    )
    .await;
    assert_eq!(names(&second), ["c", "d"]);
    assert_eq!(second["metadata"]["resourceVersion"], rv);
    let token = second["metadata"]["continue"].as_str().unwrap().to_owned();
    let (_, third) = json_call(
        &s,
        Method::GET,
        &format!("{CMS}?limit=2&continue={token}"),
        None,
    )
    .await;
    assert_eq!(names(&third), ["e"]);
    assert!(third["metadata"].get("continue").is_none());
    // Lists never answer `items: null`.
    let (_, empty) = json_call(
        &s,
        Method::GET,
        "/api/v1/namespaces/kube-public/configmaps",
        None,
    )
    .await;
    assert_eq!(empty["items"], json!([]));
}

#[tokio::test]
async fn the_status_split_and_generation_follow_upstream() {
    let s = server().await;
    let deploy = json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d"},
        "spec": {"replicas": 1, "selector": {"matchLabels": {"a": "b"}},
            "template": {"metadata": {"labels": {"a": "b"}}, "spec": {"containers": [{"name": "c", "image": "i"}]}}},
        "status": {"replicas": 9}});
    let url = "/apis/apps/v1/namespaces/default/deployments";
    let (status, created) = json_call(&s, Method::POST, url, Some(deploy)).await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(created["metadata"]["generation"], 1);
    assert_eq!(created["status"], json!({}));
    // The main resource ignores status; a spec change bumps the generation.
    let mut next = created.clone();
    next["spec"]["replicas"] = json!(3);
    next["status"] = json!({"replicas": 7});
    let (_, updated) = json_call(&s, Method::PUT, &format!("{url}/d"), Some(next)).await;
    assert_eq!(updated["metadata"]["generation"], 2);
    assert_eq!(updated["status"], json!({}));
    // The status subresource ignores everything but status.
    let mut st = updated.clone();
    st["spec"]["replicas"] = json!(10);
    st["status"] = json!({"replicas": 3, "observedGeneration": 2});
    let (status, after) = json_call(&s, Method::PUT, &format!("{url}/d/status"), Some(st)).await;
    assert_eq!(status, StatusCode::OK, "{after}");
    assert_eq!(after["spec"]["replicas"], 3);
    assert_eq!(after["status"]["replicas"], 3);
    assert_eq!(after["metadata"]["generation"], 2);
    // Metadata-only changes leave the generation alone.
    let req = Request::patch(format!("{url}/d"))
        .header("authorization", format!("Bearer {TOKEN}"))
        .header("content-type", "application/merge-patch+json")
        .body(Body::from(r#"{"metadata":{"labels":{"x":"y"}}}"#))
        .unwrap();
    let resp = s.router().oneshot(req).await.unwrap();
    let bytes = axum::body::to_bytes(resp.into_body(), usize::MAX)
        .await
        .unwrap();
    let labelled: Value = serde_json::from_slice(&bytes).unwrap();
    assert_eq!(labelled["metadata"]["labels"]["x"], "y");
    assert_eq!(labelled["metadata"]["generation"], 2);
}

#[tokio::test]
async fn finalizers_hold_deletion_and_propagation_policies_add_theirs() {
    let s = server().await;
    let mut held = cm("held");
    held["metadata"]["finalizers"] = json!(["example.com/hold"]);
    json_call(&s, Method::POST, CMS, Some(held)).await;
    let (status, deleting) = json_call(&s, Method::DELETE, &format!("{CMS}/held"), None).await;
    assert_eq!(status, StatusCode::ACCEPTED);
    assert!(deleting["metadata"]["deletionTimestamp"].is_string());
    let (status, still) = json_call(&s, Method::GET, &format!("{CMS}/held"), None).await;
    assert_eq!(status, StatusCode::OK);
    assert!(still["metadata"]["deletionTimestamp"].is_string());
    // Removing the last finalizer lets the object go.
    let mut released = still.clone();
    released["metadata"]["finalizers"] = json!([]);
    let (status, _) = json_call(&s, Method::PUT, &format!("{CMS}/held"), Some(released)).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = json_call(&s, Method::GET, &format!("{CMS}/held"), None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // Foreground deletion waits for the garbage collector behind its finalizer.
    json_call(&s, Method::POST, CMS, Some(cm("fg"))).await;
    let (_, fg) = json_call(
        &s,
        Method::DELETE,
        &format!("{CMS}/fg"),
        Some(
            json!({"kind": "DeleteOptions", "apiVersion": "v1", "propagationPolicy": "Foreground"}),
        ),
    )
    .await;
    assert_eq!(fg["metadata"]["finalizers"], json!(["foregroundDeletion"]));
    // Without finalizers a delete answers a Status and the object is gone.
    json_call(&s, Method::POST, CMS, Some(cm("plain"))).await;
    let (status, gone) = json_call(&s, Method::DELETE, &format!("{CMS}/plain"), None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(gone["status"], "Success");
    assert_eq!(gone["details"]["name"], "plain");
    // A bad policy is refused.
    json_call(&s, Method::POST, CMS, Some(cm("bad"))).await;
    let (status, _) = json_call(
        &s,
        Method::DELETE,
        &format!("{CMS}/bad"),
        Some(json!({"propagationPolicy": "Sideways"})),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn a_binding_assigns_a_pod_once() {
    let s = server().await;
    let pods = "/api/v1/namespaces/default/pods";
    json_call(
        &s,
        Method::POST,
        pods,
        Some(
            json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"},
        "spec": {"containers": [{"name": "c", "image": "i"}]}}),
        ),
    )
    .await;
    let binding = json!({"apiVersion": "v1", "kind": "Binding", "metadata": {"name": "p"}, "target": {"kind": "Node", "name": "n1"}});
    let (status, _) = json_call(
        &s,
        Method::POST,
        &format!("{pods}/p/binding"),
        Some(binding.clone()),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    let (_, pod) = json_call(&s, Method::GET, &format!("{pods}/p"), None).await;
    assert_eq!(pod["spec"]["nodeName"], "n1");
    assert!(
        pod["status"]["conditions"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["type"] == "PodScheduled" && c["status"] == "True")
    );
    let (status, again) = json_call(
        &s,
        Method::POST,
        &format!("{pods}/p/binding"),
        Some(binding),
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT, "{again}");
    // A pod on a node now deletes gracefully.
    let (status, deleting) = json_call(&s, Method::DELETE, &format!("{pods}/p"), None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(deleting["metadata"]["deletionGracePeriodSeconds"], 30);
}

#[tokio::test]
async fn tables_carry_metadata_or_whole_objects_as_asked() {
    let s = server().await;
    json_call(&s, Method::POST, CMS, Some(cm("t"))).await;
    let table = "application/json;as=Table;v=v1;g=meta.k8s.io";
    let (_, _, body) = send(&s, Method::GET, CMS, &[("accept", table)], None).await;
    let t: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(t["kind"], "Table");
    let columns: Vec<&str> = t["columnDefinitions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(columns, ["Name", "Data", "Age"]);
    assert_eq!(t["rows"][0]["cells"][0], "t");
    assert_eq!(t["rows"][0]["cells"][1], 1);
    assert_eq!(t["rows"][0]["object"]["kind"], "PartialObjectMetadata");
    let (_, _, body) = send(
        &s,
        Method::GET,
        &format!("{CMS}?includeObject=Object"),
        &[("accept", table)],
        None,
    )
    .await;
    let t: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(t["rows"][0]["object"]["data"]["k"], "t");
    let meta = "application/json;as=PartialObjectMetadataList;v=v1;g=meta.k8s.io";
    let (_, _, body) = send(&s, Method::GET, CMS, &[("accept", meta)], None).await;
    let m: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(m["kind"], "PartialObjectMetadataList");
    assert!(m["items"][0].get("data").is_none());
}

/// Reads watch events from a streaming response until `n` arrived or `limit` passed.
async fn events(s: &ApiServer, uri: &str, n: usize, limit: Duration) -> Vec<Value> {
    let req = Request::get(uri)
        .header("authorization", format!("Bearer {TOKEN}"))
        .body(Body::empty())
        .unwrap();
    let resp = s.router().oneshot(req).await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let mut stream = resp.into_body().into_data_stream();
    let mut buf = Vec::new();
    let mut out = Vec::new();
    let deadline = tokio::time::Instant::now() + limit;
    while out.len() < n {
        let Ok(Some(Ok(chunk))) = tokio::time::timeout_at(deadline, stream.next()).await else {
            break;
        };
        buf.extend_from_slice(&chunk);
        while let Some(pos) = buf.iter().position(|b| *b == b'\n') {
            let line: Vec<u8> = buf.drain(..=pos).collect();
            out.push(serde_json::from_slice(&line).expect("one JSON event per line"));
        }
    }
    out
}

#[tokio::test]
async fn watches_send_initial_events_bookmarks_and_end_at_their_timeout() {
    let s = server().await;
    json_call(&s, Method::POST, CMS, Some(cm("one"))).await;
    json_call(&s, Method::POST, CMS, Some(cm("two"))).await;
    // Streaming lists: the initial events, then a bookmark marking their end.
    let got = events(&s, &format!("{CMS}?watch=true&sendInitialEvents=true&resourceVersionMatch=NotOlderThan&allowWatchBookmarks=true"), 3, Duration::from_secs(5)).await;
    assert_eq!(
        got.iter()
            .map(|e| e["type"].as_str().unwrap())
            .collect::<Vec<_>>(),
        ["ADDED", "ADDED", "BOOKMARK"]
    );
    assert_eq!(
        got[2]["object"]["metadata"]["annotations"]["k8s.io/initial-events-end"],
        "true"
    );
    assert_eq!(got[2]["object"]["kind"], "ConfigMap");
    // Without the bookmarks it asks for, sendInitialEvents is refused, not ignored.
    let (status, err) = json_call(
        &s,
        Method::GET,
        &format!("{CMS}?watch=true&sendInitialEvents=true&resourceVersionMatch=NotOlderThan"),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{err}");
    // A watch "from now" replays the current objects as ADDED; one with timeoutSeconds ends,
    // with a bookmark first when allowed.
    let got = events(
        &s,
        &format!("{CMS}?watch=1&allowWatchBookmarks=true&timeoutSeconds=1"),
        10,
        Duration::from_secs(5),
    )
    .await;
    let kinds: Vec<&str> = got.iter().map(|e| e["type"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["ADDED", "ADDED", "BOOKMARK"]);
    // A watch from a version: only what follows, with label selectors as transitions.
    let (_, list) = json_call(&s, Method::GET, CMS, None).await;
    let rv = list["metadata"]["resourceVersion"]
        .as_str()
        .unwrap()
        .to_owned();
    let uri = format!("{CMS}?watch=true&resourceVersion={rv}&labelSelector=tier%3Dweb");
    let watch = tokio::spawn({
        let s = s.router();
        async move {
            let req = Request::get(uri)
                .header("authorization", format!("Bearer {TOKEN}"))
                .body(Body::empty())
                .unwrap();
            let resp = s.oneshot(req).await.unwrap();
            let mut stream = resp.into_body().into_data_stream();
            let mut text = String::new();
            while text.matches('\n').count() < 2 {
                let chunk = tokio::time::timeout(Duration::from_secs(5), stream.next())
                    .await
                    .unwrap()
                    .unwrap()
                    .unwrap();
                text.push_str(std::str::from_utf8(&chunk).unwrap());
            }
            text
        }
    });
    // The watch starts from `rv`: it sees these changes whenever it connects.
    let label = |v: &str| json!({"metadata": {"labels": {"tier": v}}});
    for body in [label("web"), label("db")] {
        let req = Request::patch(format!("{CMS}/one"))
            .header("authorization", format!("Bearer {TOKEN}"))
            .header("content-type", "application/merge-patch+json")
            .body(Body::from(body.to_string()))
            .unwrap();
        let resp = s.router().oneshot(req).await.unwrap();
        assert_eq!(resp.status(), StatusCode::OK);
    }
    let text = watch.await.unwrap();
    let types: Vec<String> = text
        .lines()
        .map(|l| {
            serde_json::from_str::<Value>(l).unwrap()["type"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    assert_eq!(
        types,
        ["ADDED", "DELETED"],
        "entering the selection adds, leaving it deletes"
    );
}
