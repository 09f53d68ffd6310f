//! The bad-input matrix: every kind of client mistake gets upstream's status code and reason
//! as a `Status`, never a 500 or a panic, and the server keeps serving afterwards.

use std::sync::Arc;

use axum::body::Body;
use http::{Method, Request, StatusCode};
use kubernaut_apiserver::ApiServer;
use kubernaut_store::embedded::{Config, EmbeddedStore};
use serde_json::{Value, json};
use tower::ServiceExt as _;

const TOKEN: &str = "test-token";

async fn server() -> ApiServer {
    let store = Arc::new(EmbeddedStore::open(Config::in_memory()).expect("store"));
    ApiServer::builder(store)
        .token(TOKEN, "admin")
        .build()
        .await
        .expect("server")
}

struct Answer {
    status: StatusCode,
    headers: http::HeaderMap,
    body: Value,
}

async fn call(
    server: &ApiServer,
    method: Method,
    uri: &str,
    content_type: Option<&str>,
    body: impl Into<Body>,
) -> Answer {
    let mut req = Request::builder()
        .method(method)
        .uri(uri)
        .header("authorization", format!("Bearer {TOKEN}"));
    if let Some(ct) = content_type {
        req = req.header("content-type", ct);
    }
    let resp = server
        .router()
        .oneshot(req.body(body.into()).expect("request"))
        .await
        .expect("infallible");
    let status = resp.status();
    let headers = resp.headers().clone();
    let bytes = axum::body::to_bytes(resp.into_body(), usize::MAX)
        .await
        .expect("body");
    let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    Answer {
        status,
        headers,
        body,
    }
}

fn assert_status(a: &Answer, code: u16, reason: &str) {
    assert_eq!(a.status.as_u16(), code, "{}", a.body);
    assert_eq!(a.body["kind"], "Status", "{}", a.body);
    assert_eq!(a.body["code"], code, "{}", a.body);
    assert_eq!(a.body["reason"], reason, "{}", a.body);
    assert_eq!(a.body["status"], "Failure", "{}", a.body);
}

const PODS: &str = "/api/v1/namespaces/default/pods";
const JSON: Option<&str> = Some("application/json");

fn pod(name: &str) -> String {
    json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name},
        "spec": {"containers": [{"name": "c", "image": "nginx"}]}})
    .to_string()
}

#[tokio::test]
async fn client_mistakes_get_upstream_statuses_and_the_server_keeps_serving() {
    let s = server().await;

    // Malformed JSON and YAML.
    let a = call(&s, Method::POST, PODS, JSON, "{\"apiVersion\": ").await;
    assert_status(&a, 400, "BadRequest");
    let a = call(&s, Method::POST, PODS, Some("application/yaml"), "a: [1,\n").await;
    assert_status(&a, 400, "BadRequest");
    let a = call(&s, Method::POST, PODS, JSON, "[1, 2]").await;
    assert_status(&a, 400, "BadRequest");

    // The wrong kind for the URL, and a namespace mismatch.
    let cm = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x"}});
    let a = call(&s, Method::POST, PODS, JSON, cm.to_string()).await;
    assert_status(&a, 400, "BadRequest");
    let wrong_version = json!({"apiVersion": "apps/v1", "kind": "Pod", "metadata": {"name": "x"}});
    let a = call(&s, Method::POST, PODS, JSON, wrong_version.to_string()).await;
    assert_status(&a, 400, "BadRequest");
    let elsewhere = json!({"apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": "x", "namespace": "kube-system"},
        "spec": {"containers": [{"name": "c", "image": "nginx"}]}});
    let a = call(&s, Method::POST, PODS, JSON, elsewhere.to_string()).await;
    assert_status(&a, 400, "BadRequest");
    assert!(
        a.body["message"]
            .as_str()
            .unwrap()
            .contains("does not match the namespace")
    );

    // Unknown fields: Strict refuses, Warn warns, Ignore drops.
    let unknown = json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "u"},
        "spec": {"containers": [{"name": "c", "image": "nginx", "colour": "red"}]}});
    let a = call(
        &s,
        Method::POST,
        &format!("{PODS}?fieldValidation=Strict"),
        JSON,
        unknown.to_string(),
    )
    .await;
    assert_status(&a, 400, "BadRequest");
    assert_eq!(
        a.body["message"],
        "Pod in version \"v1\" cannot be handled as a Pod: strict decoding error: unknown field \"spec.containers[0].colour\""
    );
    let a = call(
        &s,
        Method::POST,
        &format!("{PODS}?fieldValidation=Warn"),
        JSON,
        unknown.to_string(),
    )
    .await;
    assert_eq!(a.status, StatusCode::CREATED);
    let warning = a
        .headers
        .get("warning")
        .expect("a warning")
        .to_str()
        .unwrap();
    assert_eq!(
        warning,
        "299 - \"unknown field \\\"spec.containers[0].colour\\\"\""
    );
    assert!(a.body["spec"]["containers"][0].get("colour").is_none());
    let a = call(
        &s,
        Method::POST,
        &format!("{PODS}?fieldValidation=Bogus"),
        JSON,
        pod("b"),
    )
    .await;
    assert_status(&a, 400, "BadRequest");

    // Invalid objects: 422 with upstream causes.
    let invalid = json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "Bad_Name"},
        "spec": {"containers": [{"name": "c"}]}});
    let a = call(&s, Method::POST, PODS, JSON, invalid.to_string()).await;
    assert_status(&a, 422, "Invalid");
    assert_eq!(a.body["details"]["kind"], "Pod");
    let causes = a.body["details"]["causes"].as_array().unwrap();
    assert!(
        causes
            .iter()
            .any(|c| c["field"] == "metadata.name" && c["reason"] == "FieldValueInvalid"),
        "{causes:?}"
    );
    assert!(
        causes.iter().any(
            |c| c["field"] == "spec.containers[0].image" && c["reason"] == "FieldValueRequired"
        ),
        "{causes:?}"
    );

    // Oversized bodies: 413.
    let huge = format!("{{\"x\":\"{}\"}}", "a".repeat(4 << 20));
    let a = call(&s, Method::POST, PODS, JSON, huge).await;
    assert_status(&a, 413, "RequestEntityTooLarge");

    // Unsupported media and patch types: 415; unacceptable answers: 406.
    let a = call(&s, Method::POST, PODS, Some("text/csv"), "a,b").await;
    assert_status(&a, 415, "UnsupportedMediaType");
    let a = call(&s, Method::POST, PODS, JSON, pod("p1")).await;
    assert_eq!(a.status, StatusCode::CREATED);
    let a = call(
        &s,
        Method::PATCH,
        &format!("{PODS}/p1"),
        Some("application/x-patch"),
        "{}",
    )
    .await;
    assert_status(&a, 415, "UnsupportedMediaType");
    let mut req = Request::get(format!("{PODS}/p1"))
        .header("authorization", format!("Bearer {TOKEN}"))
        .header("accept", "application/xml");
    req = req.header("x-test", "1");
    let resp = s
        .router()
        .oneshot(req.body(Body::empty()).unwrap())
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::NOT_ACCEPTABLE);

    // Stale resourceVersion: 409 Conflict; duplicates: 409 AlreadyExists.
    let a = call(&s, Method::POST, PODS, JSON, pod("p1")).await;
    assert_status(&a, 409, "AlreadyExists");
    let mut stale: Value = serde_json::from_str(&pod("p1")).unwrap();
    stale["metadata"]["resourceVersion"] = json!("1");
    let a = call(
        &s,
        Method::PUT,
        &format!("{PODS}/p1"),
        JSON,
        stale.to_string(),
    )
    .await;
    assert_status(&a, 409, "Conflict");
    let a = call(&s, Method::PUT, &format!("{PODS}/p2"), JSON, pod("p1")).await;
    assert_status(&a, 400, "BadRequest");

    // Unknown resources, names and verbs.
    let a = call(
        &s,
        Method::GET,
        "/api/v1/namespaces/default/widgets",
        None,
        Body::empty(),
    )
    .await;
    assert_status(&a, 404, "NotFound");
    let a = call(
        &s,
        Method::GET,
        "/apis/example.com/v1/things",
        None,
        Body::empty(),
    )
    .await;
    assert_status(&a, 404, "NotFound");
    let a = call(
        &s,
        Method::GET,
        &format!("{PODS}/nope"),
        None,
        Body::empty(),
    )
    .await;
    assert_status(&a, 404, "NotFound");
    assert_eq!(a.body["message"], "pods \"nope\" not found");
    let a = call(&s, Method::POST, &format!("{PODS}/p1"), JSON, pod("p1")).await;
    assert_status(&a, 405, "MethodNotAllowed");
    let a = call(
        &s,
        Method::GET,
        &format!("{PODS}?labelSelector=a%20in%20(b"),
        None,
        Body::empty(),
    )
    .await;
    assert_status(&a, 400, "BadRequest");
    let a = call(
        &s,
        Method::GET,
        &format!("{PODS}?fieldSelector=spec.colour%3Dred"),
        None,
        Body::empty(),
    )
    .await;
    assert_status(&a, 400, "BadRequest");
    let a = call(
        &s,
        Method::GET,
        &format!("{PODS}?resourceVersion=abc"),
        None,
        Body::empty(),
    )
    .await;
    assert_status(&a, 400, "BadRequest");
    let a = call(
        &s,
        Method::GET,
        &format!("{PODS}?limit=2&continue=garbage"),
        None,
        Body::empty(),
    )
    .await;
    assert_status(&a, 400, "BadRequest");

    // Bad patches.
    let a = call(
        &s,
        Method::PATCH,
        &format!("{PODS}/p1"),
        Some("application/json-patch+json"),
        "{\"op\":1}",
    )
    .await;
    assert_status(&a, 400, "BadRequest");
    let a = call(
        &s,
        Method::PATCH,
        &format!("{PODS}/p1"),
        Some("application/json-patch+json"),
        r#"[{"op":"remove","path":"/spec/nothing"}]"#,
    )
    .await;
    assert_status(&a, 422, "Invalid");
    let a = call(
        &s,
        Method::PATCH,
        &format!("{PODS}/p1"),
        Some("application/merge-patch+json"),
        "[1]",
    )
    .await;
    assert_status(&a, 400, "BadRequest");
    let a = call(
        &s,
        Method::PATCH,
        &format!("{PODS}/p1"),
        Some("application/strategic-merge-patch+json"),
        "{\"spec\":",
    )
    .await;
    assert_status(&a, 400, "BadRequest");
    let a = call(
        &s,
        Method::PATCH,
        &format!("{PODS}/p1"),
        Some("application/merge-patch+json"),
        r#"{"spec":{"containers":[{"name":"c","image":"nginx","ports":[{"containerPort":80}]}]}}"#,
    )
    .await;
    assert_status(&a, 422, "Invalid");

    // Unauthenticated requests are refused; public ones are not.
    let resp = s
        .router()
        .oneshot(Request::get(PODS).body(Body::empty()).unwrap())
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    let resp = s
        .router()
        .oneshot(
            Request::get(PODS)
                .header("authorization", "Bearer wrong")
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    let resp = s
        .router()
        .oneshot(Request::get("/version").body(Body::empty()).unwrap())
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);

    // Still serving.
    let a = call(&s, Method::GET, &format!("{PODS}/p1"), None, Body::empty()).await;
    assert_eq!(a.status, StatusCode::OK);
    assert_eq!(a.body["metadata"]["name"], "p1");
}

#[tokio::test]
async fn dry_runs_persist_nothing() {
    let s = server().await;
    let a = call(
        &s,
        Method::POST,
        &format!("{PODS}?dryRun=All"),
        JSON,
        pod("dry"),
    )
    .await;
    assert_eq!(a.status, StatusCode::CREATED);
    assert_eq!(a.body["metadata"]["name"], "dry");
    let a = call(&s, Method::GET, &format!("{PODS}/dry"), None, Body::empty()).await;
    assert_status(&a, 404, "NotFound");
    let a = call(
        &s,
        Method::POST,
        &format!("{PODS}?dryRun=Some"),
        JSON,
        pod("dry"),
    )
    .await;
    assert_status(&a, 400, "BadRequest");
}

#[tokio::test]
async fn json_patch_tests_treat_a_missing_value_as_null_as_upstream() {
    let s = server().await;
    call(&s, Method::POST, PODS, JSON, pod("t")).await;
    let path = format!("{PODS}/t");
    let ct = Some("application/json-patch+json");
    // No finalizers yet: testing them against null passes, so the add goes through.
    let a = call(&s, Method::PATCH, &path, ct,
        r#"[{"op":"test","path":"/metadata/finalizers","value":null},{"op":"add","path":"/metadata/finalizers","value":["x.io/f"]}]"#).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    assert_eq!(a.body["metadata"]["finalizers"], json!(["x.io/f"]));
    // Now they exist: the same test fails.
    let a = call(
        &s,
        Method::PATCH,
        &path,
        ct,
        r#"[{"op":"test","path":"/metadata/finalizers","value":null}]"#,
    )
    .await;
    assert_status(&a, 422, "Invalid");
}
