//! `kubernaut-client` against the API server over both transports (HTTPS from the kubeconfig,
//! and the server's router in process with no socket), and a restart on the same data
//! directory: objects and allocations come back, and watches resume (or get `410` and relist).

use std::time::Duration;

use futures::TryStreamExt as _;
use kubernaut_api_types::core::v1::{ConfigMap, Service};
use kubernaut_api_types::meta::WatchEvent;
use kubernaut_client::config::{Config, Kubeconfig, KubeconfigOptions};
use kubernaut_client::{Api, Client, ListParams, Patch, PatchParams, PostParams, WatchParams};
use kubernaut_examples::local::{LocalApiServer, LocalOptions};
use serde_json::json;

fn https_client(local: &LocalApiServer) -> Client {
    let kubeconfig = Kubeconfig::read_from(&local.kubeconfig).expect("kubeconfig");
    let config =
        Config::from_kubeconfig(&kubeconfig, &KubeconfigOptions::default()).expect("config");
    Client::try_from(config).expect("client")
}

fn in_process_client(local: &LocalApiServer) -> Client {
    // The router authenticates like the socket does: the token goes in a header.
    let token = format!("Bearer {}", local.token);
    let router = local.server.router();
    let service = tower::ServiceExt::map_request(router, move |mut r: http::Request<_>| {
        r.headers_mut().insert(
            http::header::AUTHORIZATION,
            http::HeaderValue::from_str(&token).expect("header"),
        );
        r
    });
    Client::new(service, "default")
}

async fn start(dir: &std::path::Path) -> LocalApiServer {
    let mut options = LocalOptions::new(dir);
    options.listen = "127.0.0.1:0".parse().expect("address");
    LocalApiServer::start(options).await.expect("server starts")
}

fn config_map(name: &str, value: &str) -> ConfigMap {
    serde_json::from_value(json!({"metadata": {"name": name}, "data": {"v": value}}))
        .expect("config map")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn both_transports_see_the_same_server() {
    let dir = tempfile::tempdir().expect("temp dir");
    let local = start(dir.path()).await;
    let over_https: Api<ConfigMap> = Api::default_namespaced(https_client(&local));
    let in_process: Api<ConfigMap> = Api::default_namespaced(in_process_client(&local));

    over_https
        .create(&PostParams::default(), &config_map("a", "1"))
        .await
        .expect("create over https");
    let got = in_process.get("a").await.expect("get in process");
    assert_eq!(got.data.expect("data")["v"], "1");
    in_process
        .patch(
            "a",
            &PatchParams::default(),
            &Patch::Merge(json!({"data": {"v": "2"}})),
        )
        .await
        .expect("patch in process");
    let listed = over_https.list(&ListParams::default()).await.expect("list");
    assert_eq!(listed.items.len(), 1);
    assert_eq!(listed.items[0].data.as_ref().expect("data")["v"], "2");
    let err = in_process.get("missing").await.expect_err("not found");
    assert!(err.is_not_found(), "{err}");
    local.stop().await.expect("stop");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restart_brings_back_objects_allocations_and_watches() {
    let dir = tempfile::tempdir().expect("temp dir");
    let local = start(dir.path()).await;
    let client = https_client(&local);
    let cms: Api<ConfigMap> = Api::default_namespaced(client.clone());
    let services: Api<Service> = Api::default_namespaced(client.clone());

    let first = cms
        .create(&PostParams::default(), &config_map("before", "1"))
        .await
        .expect("create");
    let first_rv = first.metadata.resource_version.clone().expect("rv");
    let svc: Service = serde_json::from_value(json!({"metadata": {"name": "web"},
        "spec": {"type": "NodePort", "selector": {"app": "web"}, "ports": [{"port": 80}]}}))
    .expect("service");
    let svc = services
        .create(&PostParams::default(), &svc)
        .await
        .expect("service");
    let spec = svc.spec.expect("spec");
    let (cluster_ip, node_port) = (
        spec.cluster_ip.clone().expect("cluster ip"),
        spec.ports.as_ref().expect("ports")[0]
            .node_port
            .expect("node port"),
    );
    let last = cms
        .patch(
            "before",
            &PatchParams::default(),
            &Patch::Merge(json!({"data": {"v": "2"}})),
        )
        .await
        .expect("patch");
    let last_rv = last.metadata.resource_version.clone().expect("rv");

    // A watch open across the restart ends when the server goes.
    let mut open = cms
        .watch(&WatchParams::default(), &last_rv)
        .await
        .expect("watch");
    local.stop().await.expect("stop");
    let ended = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            match open.try_next().await {
                Ok(Some(_)) => continue,
                Ok(None) | Err(_) => return,
            }
        }
    })
    .await;
    assert!(ended.is_ok(), "the watch did not end with the server");

    let local = start(dir.path()).await;
    let client = https_client(&local);
    let cms: Api<ConfigMap> = Api::default_namespaced(client.clone());
    let services: Api<Service> = Api::default_namespaced(client);

    // Objects are back, with their versions.
    let back = cms.get("before").await.expect("config map back");
    assert_eq!(back.data.expect("data")["v"], "2");
    assert_eq!(
        back.metadata.resource_version.as_deref(),
        Some(last_rv.as_str())
    );
    let svc = services.get("web").await.expect("service back");
    let spec = svc.spec.expect("spec");
    assert_eq!(spec.cluster_ip.as_deref(), Some(cluster_ip.as_str()));
    // Allocations are back: the node port is taken.
    let clash: Service = serde_json::from_value(json!({"metadata": {"name": "clash"},
        "spec": {"type": "NodePort", "ports": [{"port": 81, "nodePort": node_port}]}}))
    .expect("service");
    let err = services
        .create(&PostParams::default(), &clash)
        .await
        .expect_err("port taken");
    assert!(err.is_invalid(), "{err}");
    assert!(
        err.to_string()
            .contains("provided port is already allocated"),
        "{err}"
    );

    // A watch resumes from the last version it saw...
    let mut resumed = cms
        .watch(&WatchParams::default(), &last_rv)
        .await
        .expect("watch resumes");
    cms.create(&PostParams::default(), &config_map("after", "3"))
        .await
        .expect("create");
    let event = tokio::time::timeout(Duration::from_secs(10), resumed.try_next())
        .await
        .expect("an event in time")
        .expect("no error")
        .expect("an event");
    match event {
        WatchEvent::Added(cm) => assert_eq!(cm.metadata.name.as_deref(), Some("after")),
        other => panic!("expected ADDED after, got {other:?}"),
    }
    // ...while one from before the restart's history gets 410 and relists.
    let mut stale = cms
        .watch(&WatchParams::default(), &first_rv)
        .await
        .expect("watch call");
    match tokio::time::timeout(Duration::from_secs(10), stale.try_next()).await {
        Ok(Ok(Some(WatchEvent::Error(status)))) => assert_eq!(status.code, Some(410)),
        Ok(Err(e)) => assert!(e.is_gone(), "{e}"),
        other => panic!("expected 410, got {other:?}"),
    }
    let relisted = cms.list(&ListParams::default()).await.expect("relist");
    let mut names: Vec<_> = relisted
        .items
        .iter()
        .filter_map(|c| c.metadata.name.clone())
        .collect();
    names.sort();
    assert_eq!(names, ["after", "before"]);
    local.stop().await.expect("stop");
}
