//! `Api<K>` against a scripted in-process service that checks each request exactly and answers
//! as the upstream API server does.

use std::convert::Infallible;

use futures::StreamExt;
use http::{Method, Request, Response};
use kubernaut_api_types::apps::v1::Deployment;
use kubernaut_api_types::core::v1::{ConfigMap, Namespace, Node, Pod};
use kubernaut_api_types::meta::{Scale, ScaleSpec, WatchEvent};
use kubernaut_api_types::{ApiResource, DynamicObject, Scope};
use serde_json::{Value, json};

use super::*;
use crate::body::ResponseBody;
use crate::params::{PropagationPolicy, ValidationDirective, VersionMatch};
use crate::test_support::{Script, expect};

fn not_found(kind: &str, name: &str, group: Option<&str>) -> Value {
    let qualified = match group {
        Some(g) => format!("{kind}.{g}"),
        None => kind.to_owned(),
    };
    let mut details = json!({"name": name, "kind": kind});
    if let Some(g) = group {
        details["group"] = json!(g);
    }
    json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
           "message": format!("{qualified} \"{name}\" not found"), "reason": "NotFound",
           "details": details, "code": 404})
}

fn pod(name: &str, rv: &str) -> Value {
    json!({"kind": "Pod", "apiVersion": "v1",
           "metadata": {"name": name, "namespace": "ns1", "resourceVersion": rv, "uid": "u-1"},
           "spec": {"containers": [{"name": "c", "image": "nginx"}]}})
}

#[tokio::test]
async fn get_reads_one_object_at_its_upstream_path() {
    let (client, script) = Script::client(vec![
        expect(Method::GET, "/api/v1/namespaces/ns1/pods/p1").reply(200, pod("p1", "7")),
        expect(
            Method::GET,
            "/api/v1/namespaces/ns1/pods/p2?resourceVersion=0",
        )
        .reply(200, pod("p2", "8")),
    ]);
    let pods: Api<Pod> = Api::namespaced(client, "ns1");
    assert_eq!(pods.resource_url(), "/api/v1/namespaces/ns1/pods");
    let p = pods.get("p1").await.unwrap();
    assert_eq!(p.metadata.name.as_deref(), Some("p1"));
    assert_eq!(p.metadata.resource_version.as_deref(), Some("7"));
    let params = GetParams {
        resource_version: Some("0".into()),
    };
    assert_eq!(
        pods.get_with("p2", &params)
            .await
            .unwrap()
            .metadata
            .name
            .as_deref(),
        Some("p2")
    );
    script.done();
}

#[tokio::test]
async fn missing_objects_are_not_found_errors_or_none() {
    let (client, script) = Script::client(vec![
        expect(Method::GET, "/apis/apps/v1/namespaces/default/deployments/web")
            .reply(404, not_found("deployments", "web", Some("apps"))),
        expect(Method::GET, "/apis/apps/v1/namespaces/default/deployments/web")
            .reply(404, not_found("deployments", "web", Some("apps"))),
        expect(Method::GET, "/apis/apps/v1/namespaces/default/deployments/forbidden").reply(
            403,
            json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                   "message": "deployments.apps \"forbidden\" is forbidden: User \"x\" cannot get resource",
                   "reason": "Forbidden", "details": {"name": "forbidden", "group": "apps", "kind": "deployments"},
                   "code": 403}),
        ),
    ]);
    let deployments: Api<Deployment> = Api::default_namespaced(client);
    let err = deployments.get("web").await.unwrap_err();
    assert!(err.is_not_found(), "{err}");
    assert_eq!(
        err.to_string(),
        "api error: deployments.apps \"web\" not found (NotFound, 404)"
    );
    let details = err.status().unwrap().details.clone().unwrap();
    assert_eq!(details.group.as_deref(), Some("apps"));
    assert_eq!(deployments.get_opt("web").await.unwrap(), None);
    let err = deployments.get_opt("forbidden").await.unwrap_err();
    assert!(err.is_forbidden());
    script.done();
}

#[tokio::test]
async fn list_sends_selectors_pagination_and_version_matching() {
    let (client, script) = Script::client(vec![
        expect(
            Method::GET,
            "/apis/apps/v1/deployments?continue=abc&fieldSelector=metadata.namespace%21%3Dkube-system\
             &labelSelector=app%3Dweb%2Ctier+in+%28fe%29&limit=2",
        )
        .reply(
            200,
            json!({"kind": "DeploymentList", "apiVersion": "apps/v1",
                   "metadata": {"resourceVersion": "55", "continue": "def", "remainingItemCount": 3},
                   "items": [{"metadata": {"name": "a", "namespace": "x"}}, {"metadata": {"name": "b", "namespace": "y"}}]}),
        ),
        expect(
            Method::GET,
            "/api/v1/namespaces/default/pods?resourceVersion=55&resourceVersionMatch=Exact&timeoutSeconds=5",
        )
        .reply(
            200,
            json!({"kind": "PodList", "apiVersion": "v1", "metadata": {"resourceVersion": "55"}, "items": []}),
        ),
    ]);
    let all: Api<Deployment> = Api::all(client.clone());
    assert_eq!(all.namespace(), None);
    let page = all
        .list(
            &ListParams::default()
                .labels("app=web,tier in (fe)")
                .fields("metadata.namespace!=kube-system")
                .limit(2)
                .continue_token("abc"),
        )
        .await
        .unwrap();
    assert_eq!(page.items.len(), 2);
    assert_eq!(page.metadata.continue_.as_deref(), Some("def"));
    assert_eq!(page.metadata.remaining_item_count, Some(3));
    let pods: Api<Pod> = Api::default_namespaced(client);
    let list = pods
        .list(
            &ListParams::default()
                .at("55", Some(VersionMatch::Exact))
                .timeout(5),
        )
        .await
        .unwrap();
    assert!(list.items.is_empty());
    assert_eq!(list.metadata.resource_version.as_deref(), Some("55"));
    script.done();
}

#[tokio::test]
async fn create_and_replace_send_the_object_and_surface_conflicts() {
    let cm = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c1", "namespace": "ns1"}, "data": {"k": "v"}});
    let mut stored = cm.clone();
    stored["metadata"]["resourceVersion"] = json!("3");
    let mut stale = cm.clone();
    stale["metadata"]["resourceVersion"] = json!("2");
    let (client, script) = Script::client(vec![
        expect(
            Method::POST,
            "/api/v1/namespaces/ns1/configmaps?fieldManager=op&fieldValidation=Strict",
        )
        .header("content-type", "application/json")
        .body(cm.clone())
        .reply(201, stored.clone()),
        expect(Method::POST, "/api/v1/namespaces/ns1/configmaps?dryRun=All")
            .body(cm.clone())
            .reply(
                409,
                json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                       "message": "configmaps \"c1\" already exists", "reason": "AlreadyExists",
                       "details": {"name": "c1", "kind": "configmaps"}, "code": 409}),
            ),
        expect(Method::PUT, "/api/v1/namespaces/ns1/configmaps/c1")
            .header("content-type", "application/json")
            .body(stale.clone())
            .reply(
                409,
                json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                       "message": "Operation cannot be fulfilled on configmaps \"c1\": the object has been modified; please apply your changes to the latest version and try again",
                       "reason": "Conflict", "details": {"name": "c1", "kind": "configmaps"}, "code": 409}),
            ),
    ]);
    let api: Api<ConfigMap> = Api::namespaced(client, "ns1");
    let object: ConfigMap = serde_json::from_value(cm).unwrap();
    let created = api
        .create(
            &PostParams {
                field_manager: Some("op".into()),
                field_validation: Some(ValidationDirective::Strict),
                ..PostParams::default()
            },
            &object,
        )
        .await
        .unwrap();
    assert_eq!(created.metadata.resource_version.as_deref(), Some("3"));
    let err = api
        .create(
            &PostParams {
                dry_run: true,
                ..PostParams::default()
            },
            &object,
        )
        .await
        .unwrap_err();
    assert!(err.is_already_exists() && !err.is_conflict());
    let stale: ConfigMap = serde_json::from_value(stale).unwrap();
    let err = api
        .replace("c1", &PostParams::default(), &stale)
        .await
        .unwrap_err();
    assert!(err.is_conflict(), "{err}");
    script.done();
}

#[tokio::test]
async fn the_four_patch_types_carry_their_content_types_and_bodies() {
    let path = "/apis/apps/v1/namespaces/default/deployments/web";
    let reply = json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"}, "spec": {"replicas": 3, "selector": {}, "template": {}}});
    let (client, script) = Script::client(vec![
        expect(Method::PATCH, path)
            .header("content-type", "application/merge-patch+json")
            .body(json!({"spec": {"replicas": 3}}))
            .reply(200, reply.clone()),
        expect(Method::PATCH, path)
            .header("content-type", "application/json-patch+json")
            .body(json!([{"op": "replace", "path": "/spec/replicas", "value": 3}]))
            .reply(200, reply.clone()),
        expect(Method::PATCH, &format!("{path}?fieldManager=kubectl-edit"))
            .header("content-type", "application/strategic-merge-patch+json")
            .body(json!({"spec": {"template": {"spec": {"containers": [{"name": "c", "image": "nginx:1.28"}]}}}}))
            .reply(200, reply.clone()),
        expect(Method::PATCH, &format!("{path}?fieldManager=op&force=true"))
            .header("content-type", "application/apply-patch+yaml")
            .body(json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"}, "spec": {"replicas": 3}}))
            .reply(200, reply.clone()),
    ]);
    let api: Api<Deployment> = Api::default_namespaced(client);
    let merged = api
        .patch(
            "web",
            &PatchParams::default(),
            &Patch::Merge(json!({"spec": {"replicas": 3}})),
        )
        .await
        .unwrap();
    assert_eq!(merged.spec.unwrap().replicas, Some(3));
    let ops: Patch<()> =
        Patch::Json(json!([{"op": "replace", "path": "/spec/replicas", "value": 3}]));
    api.patch("web", &PatchParams::default(), &ops)
        .await
        .unwrap();
    api.patch(
        "web",
        &PatchParams {
            field_manager: Some("kubectl-edit".into()),
            ..PatchParams::default()
        },
        &Patch::Strategic(
            json!({"spec": {"template": {"spec": {"containers": [{"name": "c", "image": "nginx:1.28"}]}}}}),
        ),
    )
    .await
    .unwrap();
    api.patch(
        "web",
        &PatchParams::apply("op").force(),
        &Patch::Apply(json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"}, "spec": {"replicas": 3}})),
    )
    .await
    .unwrap();
    script.done();
}

#[tokio::test]
async fn delete_sends_delete_options_and_returns_the_object_or_a_status() {
    let (client, script) = Script::client(vec![
        expect(Method::DELETE, "/api/v1/namespaces/ns1/pods/p1")
            .header("content-type", "application/json")
            .body(json!({"apiVersion": "v1", "kind": "DeleteOptions", "propagationPolicy": "Background", "gracePeriodSeconds": 30}))
            .reply(200, {
                let mut p = pod("p1", "9");
                p["metadata"]["deletionTimestamp"] = json!("2025-01-01T00:00:00Z");
                p["metadata"]["deletionGracePeriodSeconds"] = json!(30);
                p
            }),
        expect(Method::DELETE, "/api/v1/namespaces/ns1/pods/p2")
            .body(json!({"apiVersion": "v1", "kind": "DeleteOptions", "dryRun": ["All"],
                         "preconditions": {"uid": "u-2", "resourceVersion": "4"}}))
            .reply(
                200,
                json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success",
                       "details": {"name": "p2", "kind": "pods", "uid": "u-2"}}),
            ),
        expect(Method::DELETE, "/api/v1/namespaces/ns1/pods?labelSelector=app%3Dweb")
            .body(json!({"apiVersion": "v1", "kind": "DeleteOptions", "propagationPolicy": "Foreground"}))
            .reply(
                200,
                json!({"kind": "PodList", "apiVersion": "v1", "metadata": {"resourceVersion": "10"},
                       "items": [pod("a", "10")]}),
            ),
    ]);
    let pods: Api<Pod> = Api::namespaced(client, "ns1");
    let deleting = pods
        .delete("p1", &DeleteParams::background().grace_period(30))
        .await
        .unwrap()
        .object()
        .expect("a pod in its grace period comes back as an object");
    assert!(deleting.metadata.deletion_timestamp.is_some());
    let status = pods
        .delete(
            "p2",
            &DeleteParams {
                dry_run: true,
                preconditions: Some(kubernaut_api_types::meta::Preconditions {
                    uid: Some("u-2".into()),
                    resource_version: Some("4".into()),
                }),
                ..DeleteParams::default()
            },
        )
        .await
        .unwrap()
        .status()
        .expect("a status");
    assert_eq!(status.status.as_deref(), Some("Success"));
    let deleted = pods
        .delete_collection(
            &DeleteParams {
                propagation_policy: Some(PropagationPolicy::Foreground),
                ..DeleteParams::default()
            },
            &ListParams::default().labels("app=web"),
        )
        .await
        .unwrap()
        .object()
        .unwrap();
    assert_eq!(deleted.items.len(), 1);
    script.done();
}

/// Cuts `bytes` at the given offsets.
fn cut(bytes: &[u8], cuts: &[usize]) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let mut last = 0;
    for &c in cuts {
        out.push(bytes[last..c].to_vec());
        last = c;
    }
    out.push(bytes[last..].to_vec());
    out
}

#[tokio::test]
async fn watch_streams_events_split_anywhere_and_ends_with_the_server() {
    let events = concat!(
        r#"{"type":"ADDED","object":{"kind":"Pod","apiVersion":"v1","metadata":{"name":"p1","resourceVersion":"11"}}}"#,
        "\n",
        r#"{"type":"MODIFIED","object":{"kind":"Pod","apiVersion":"v1","metadata":{"name":"p1","resourceVersion":"12"}}}"#,
        "\n",
        r#"{"type":"BOOKMARK","object":{"kind":"Pod","apiVersion":"v1","metadata":{"resourceVersion":"15"}}}"#,
        "\n",
        r#"{"type":"DELETED","object":{"kind":"Pod","apiVersion":"v1","metadata":{"name":"p1","resourceVersion":"16"}}}"#,
        "\n",
        r#"{"type":"ERROR","object":{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"too old resource version: 10 (16)","reason":"Expired","code":410}}"#,
        "\n",
    )
    .as_bytes();
    // One byte, mid-key, mid-UTF-8-free string, right before and after newlines.
    let cuts = [1, 2, 30, 105, 106, 107, 200, 330, 331, events.len() - 1];
    let (client, script) = Script::client(vec![
        expect(
            Method::GET,
            "/api/v1/namespaces/ns1/pods?allowWatchBookmarks=true&labelSelector=app%3Dweb\
             &resourceVersion=10&timeoutSeconds=290&watch=true",
        )
        .reply_chunks(cut(events, &cuts)),
        expect(
            Method::GET,
            "/api/v1/namespaces/ns1/pods?fieldSelector=metadata.name%3Dp1&resourceVersion=1&watch=true",
        )
        .reply(
            410,
            json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                   "message": "too old resource version: 1 (16)", "reason": "Expired", "code": 410}),
        ),
    ]);
    let pods: Api<Pod> = Api::namespaced(client, "ns1");
    let stream = pods
        .watch(&WatchParams::default().labels("app=web").timeout(290), "10")
        .await
        .unwrap();
    let got: Vec<_> = stream.collect().await;
    let kinds: Vec<_> = got
        .iter()
        .map(|e| e.as_ref().unwrap().type_name())
        .collect();
    assert_eq!(kinds, ["ADDED", "MODIFIED", "BOOKMARK", "DELETED", "ERROR"]);
    let Ok(WatchEvent::Bookmark(b)) = &got[2] else {
        panic!("bookmark expected")
    };
    assert_eq!(b.metadata.resource_version, "15");
    let Ok(WatchEvent::Error(status)) = &got[4] else {
        panic!("error event expected")
    };
    assert_eq!(
        (status.code, status.reason.as_deref()),
        (Some(410), Some("Expired"))
    );

    let err = pods
        .watch(
            &WatchParams::default()
                .fields("metadata.name=p1")
                .disable_bookmarks(),
            "1",
        )
        .await
        .unwrap_err();
    assert!(err.is_gone() && err.is_expired(), "{err}");
    script.done();
}

#[tokio::test]
async fn status_and_scale_subresources() {
    let dpath = "/apis/apps/v1/namespaces/default/deployments/web";
    let scale = json!({"kind": "Scale", "apiVersion": "autoscaling/v1",
                       "metadata": {"name": "web", "namespace": "default", "resourceVersion": "20"},
                       "spec": {"replicas": 2}, "status": {"replicas": 2, "selector": "app=web"}});
    let deployment = json!({"kind": "Deployment", "apiVersion": "apps/v1", "metadata": {"name": "web"},
                            "spec": {"selector": {}, "template": {}}, "status": {"replicas": 2}});
    let (client, script) = Script::client(vec![
        expect(Method::GET, &format!("{dpath}/scale")).reply(200, scale.clone()),
        expect(Method::PATCH, &format!("{dpath}/scale"))
            .header("content-type", "application/merge-patch+json")
            .body(json!({"spec": {"replicas": 5}}))
            .reply(200, scale.clone()),
        expect(Method::PUT, &format!("{dpath}/scale?fieldManager=hpa"))
            .body(json!({"kind": "Scale", "apiVersion": "autoscaling/v1",
                         "metadata": {"name": "web", "resourceVersion": "20"}, "spec": {"replicas": 4}}))
            .reply(200, scale.clone()),
        expect(Method::GET, &format!("{dpath}/status")).reply(200, deployment.clone()),
        expect(Method::PUT, &format!("{dpath}/status"))
            // The typed object as the client holds it: api-types writes the template's metadata.
            .body(json!({"kind": "Deployment", "apiVersion": "apps/v1", "metadata": {"name": "web"},
                         "spec": {"selector": {}, "template": {"metadata": {}}}, "status": {"replicas": 2}}))
            .reply(200, deployment.clone()),
        expect(Method::PATCH, &format!("{dpath}/status"))
            .header("content-type", "application/merge-patch+json")
            .body(json!({"status": {"observedGeneration": 3}}))
            .reply(200, deployment.clone()),
    ]);
    let api: Api<Deployment> = Api::default_namespaced(client);
    let s = api.get_scale("web").await.unwrap();
    assert_eq!(s.spec.as_ref().unwrap().replicas, Some(2));
    assert_eq!(
        s.status.as_ref().unwrap().selector.as_deref(),
        Some("app=web")
    );
    api.patch_scale(
        "web",
        &PatchParams::default(),
        &Patch::Merge(json!({"spec": {"replicas": 5}})),
    )
    .await
    .unwrap();
    let wanted = Scale {
        metadata: kubernaut_api_types::meta::ObjectMeta {
            name: Some("web".into()),
            resource_version: Some("20".into()),
            ..Default::default()
        },
        spec: Some(ScaleSpec { replicas: Some(4) }),
        status: None,
    };
    let pp = PostParams {
        field_manager: Some("hpa".into()),
        ..PostParams::default()
    };
    api.replace_scale("web", &pp, &wanted).await.unwrap();
    let d = api.get_status("web").await.unwrap();
    assert_eq!(d.status.as_ref().unwrap().replicas, Some(2));
    api.replace_status("web", &PostParams::default(), &d)
        .await
        .unwrap();
    api.patch_status(
        "web",
        &PatchParams::default(),
        &Patch::Merge(json!({"status": {"observedGeneration": 3}})),
    )
    .await
    .unwrap();
    script.done();
}

#[tokio::test]
async fn dynamic_and_cluster_scoped_kinds_build_their_paths() {
    let widgets = ApiResource::new("example.com/v1", "Widget", "widgets", Scope::Namespaced);
    let (client, script) = Script::client(vec![
        expect(Method::GET, "/apis/example.com/v1/namespaces/team/widgets/w1").reply(
            200,
            json!({"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w1"}, "spec": {"size": 3}}),
        ),
        expect(Method::POST, "/apis/example.com/v1/namespaces/default/widgets")
            .body(json!({"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w2"}, "spec": {"size": 1}}))
            .reply(201, json!({"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w2"}})),
        expect(Method::GET, "/apis/example.com/v1/widgets?limit=1").reply(
            200,
            json!({"apiVersion": "example.com/v1", "kind": "WidgetList", "metadata": {}, "items": []}),
        ),
        expect(Method::GET, "/api/v1/nodes/node-1").reply(
            200,
            json!({"apiVersion": "v1", "kind": "Node", "metadata": {"name": "node-1"}}),
        ),
        expect(Method::GET, "/api/v1/namespaces/kube-system").reply(
            200,
            json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "kube-system"}}),
        ),
        expect(Method::GET, "/apis/rbac.authorization.k8s.io/v1/clusterroles/system:controller:job-controller")
            .reply(200, json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole", "metadata": {"name": "system:controller:job-controller"}})),
    ]);
    let api: Api<DynamicObject> = Api::namespaced_with(client.clone(), "team", &widgets);
    let w = api.get("w1").await.unwrap();
    assert_eq!(w.data["spec"]["size"], 3);
    let default_ns: Api<DynamicObject> = Api::default_namespaced_with(client.clone(), &widgets);
    let mut w2 = DynamicObject::new("w2", &widgets);
    w2.data.insert("spec".into(), json!({"size": 1}));
    default_ns
        .create(&PostParams::default(), &w2)
        .await
        .unwrap();
    let all: Api<DynamicObject> = Api::all_with(client.clone(), &widgets);
    all.list(&ListParams::default().limit(1)).await.unwrap();
    let nodes: Api<Node> = Api::all(client.clone());
    nodes.get("node-1").await.unwrap();
    let namespaces: Api<Namespace> = Api::all(client.clone());
    namespaces.get("kube-system").await.unwrap();
    // A cluster-scoped kind ignores the namespace it is given at run time.
    let roles = ApiResource::new(
        "rbac.authorization.k8s.io/v1",
        "ClusterRole",
        "clusterroles",
        Scope::Cluster,
    );
    let api: Api<DynamicObject> = Api::namespaced_with(client, "ignored", &roles);
    api.get("system:controller:job-controller").await.unwrap();
    script.done();
}

#[tokio::test]
async fn logs_are_text_and_versions_decode() {
    let (client, script) = Script::client(vec![
        expect(
            Method::GET,
            "/api/v1/namespaces/ns1/pods/p1/log?container=c&previous=true&tailLines=10&timestamps=true",
        )
        .reply_chunks(vec![b"line 1\n".to_vec(), b"line 2\n".to_vec()]),
        expect(Method::GET, "/version").reply(
            200,
            json!({"major": "1", "minor": "32", "gitVersion": "v1.32.4", "platform": "linux/amd64"}),
        ),
    ]);
    let pods: Api<Pod> = Api::namespaced(client.clone(), "ns1");
    let text = pods
        .logs(
            "p1",
            &LogParams {
                container: Some("c".into()),
                previous: true,
                tail_lines: Some(10),
                timestamps: true,
                ..LogParams::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(text, "line 1\nline 2\n");
    let version = client.apiserver_version().await.unwrap();
    assert_eq!(
        (version.major.as_str(), version.minor.as_str()),
        ("1", "32")
    );
    assert_eq!(version.git_version, "v1.32.4");
    script.done();
}

#[tokio::test]
async fn bad_bodies_are_decode_errors_quoting_the_body() {
    let (client, script) = Script::client(vec![
        expect(Method::GET, "/api/v1/namespaces/default/pods/p1")
            .reply_chunks(vec![b"{\"metadata\": {\"name\": 42}}".to_vec()]),
        expect(Method::GET, "/api/v1/namespaces/default/pods/p2")
            .reply_chunks(vec![b"<html>not json</html>".to_vec()]),
    ]);
    let pods: Api<Pod> = Api::default_namespaced(client);
    let err = pods.get("p1").await.unwrap_err();
    assert!(
        matches!(&err, Error::Decode { body, .. } if body.contains("\"name\": 42")),
        "{err}"
    );
    let err = pods.get("p2").await.unwrap_err();
    assert!(err.to_string().contains("<html>not json</html>"), "{err}");
    script.done();
}

#[tokio::test]
async fn empty_names_are_refused_before_sending() {
    let (client, script) = Script::client(vec![]);
    let pods: Api<Pod> = Api::default_namespaced(client);
    let err = pods.get("").await.unwrap_err();
    assert!(matches!(err, Error::InvalidRequest(ref m) if m.contains("name may not be empty")));
    assert!(pods.delete("", &DeleteParams::default()).await.is_err());
    script.done();
}

#[tokio::test(start_paused = true)]
async fn requests_that_outlast_the_timeout_fail() {
    let service = tower::service_fn(|_request: Request<Body>| async {
        futures::future::pending::<()>().await;
        Ok::<_, Infallible>(Response::new(ResponseBody::from_bytes("{}")))
    });
    let client =
        Client::new(service, "default").with_timeout(Some(std::time::Duration::from_secs(3)));
    let pods: Api<Pod> = Api::default_namespaced(client);
    let err = pods.get("p").await.unwrap_err();
    assert!(
        matches!(err, Error::Timeout(t) if t.as_secs() == 3),
        "{err}"
    );
    assert!(err.is_timeout());
}

#[tokio::test]
async fn transport_failures_are_transport_errors() {
    let service = tower::service_fn(|_request: Request<Body>| async {
        Err::<Response<ResponseBody>, _>(std::io::Error::new(
            std::io::ErrorKind::ConnectionRefused,
            "connection refused",
        ))
    });
    let client = Client::new(service, "default");
    let err = Api::<Pod>::default_namespaced(client)
        .get("p")
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Transport(_)));
    assert_eq!(err.to_string(), "transport error: connection refused");
}

/// The futures and streams users hold across `.await` in spawned tasks must be `Send`.
#[test]
fn public_futures_and_streams_are_send() {
    fn send<T: Send>(_: &T) {}
    fn send_sync<T: Send + Sync>(_: &T) {}
    let (client, _script) = Script::client(vec![]);
    send_sync(&client);
    let api: Api<Pod> = Api::default_namespaced(client.clone());
    send_sync(&api);
    let dynamic: Api<DynamicObject> = Api::all_with(client.clone(), &ApiResource::of::<Pod>());
    let pod = Pod::default();
    let json = Patch::Merge(json!({}));
    send(&api.get("p"));
    send(&api.get_opt("p"));
    send(&api.list(&ListParams::default()));
    send(&api.create(&PostParams::default(), &pod));
    send(&api.replace("p", &PostParams::default(), &pod));
    send(&api.patch("p", &PatchParams::default(), &json));
    send(&api.delete("p", &DeleteParams::default()));
    send(&api.delete_collection(&DeleteParams::default(), &ListParams::default()));
    send(&api.watch(&WatchParams::default(), "0"));
    send(&api.get_status("p"));
    send(&api.patch_status("p", &PatchParams::default(), &json));
    send(&api.replace_status("p", &PostParams::default(), &pod));
    send(&api.get_scale("p"));
    send(&api.patch_scale("p", &PatchParams::default(), &json));
    send(&api.logs("p", &LogParams::default()));
    send(&dynamic.get("p"));
    send(&client.apiserver_version());
    send(&crate::Discovery::run(&client));
    let stream: crate::watch::WatchStream<Pod> =
        crate::watch::WatchStream::new(ResponseBody::from_bytes(""));
    send(&stream);
}
