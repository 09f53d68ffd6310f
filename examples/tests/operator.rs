//! The example operator against a real in-process API server (the informer test kit), on
//! tokio's paused clock.

use std::time::Duration;

use kubernaut_api_types::apps::v1::Deployment;
use kubernaut_api_types::core::v1::ConfigMap;
use kubernaut_client::{Api, DeleteParams, ListParams, Patch, PatchParams, PostParams};
use kubernaut_examples::config_generator::{self, ANNOTATION, FINALIZER, generated_name};
use kubernaut_informer::testkit::TestCluster;
use serde_json::json;

fn deployment(name: &str, annotation: Option<&str>) -> Deployment {
    let mut d = json!({"metadata": {"name": name},
        "spec": {"selector": {"matchLabels": {"app": name}},
            "template": {"metadata": {"labels": {"app": name}},
                "spec": {"containers": [{"name": "c", "image": "nginx"}]}}}});
    if let Some(a) = annotation {
        d["metadata"]["annotations"] = json!({ANNOTATION: a});
    }
    serde_json::from_value(d).expect("deployment")
}

/// Polls `check` on virtual time until it holds.
async fn eventually<F, Fut>(what: &str, check: F)
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    for _ in 0..600 {
        if check().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("never happened: {what}");
}

#[tokio::test(start_paused = true)]
async fn the_operator_generates_reverts_and_cleans_up() {
    let cluster = TestCluster::start().await;
    let client = cluster.client();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let operator = tokio::spawn(config_generator::run(client.clone(), async {
        let _ = stopped.await;
    }));
    let deployments: Api<Deployment> = Api::default_namespaced(client.clone());
    let cms: Api<ConfigMap> = Api::default_namespaced(client.clone());

    deployments
        .create(
            &PostParams::default(),
            &deployment("web", Some("mode=fast,level=3")),
        )
        .await
        .expect("create");
    deployments
        .create(&PostParams::default(), &deployment("plain", None))
        .await
        .expect("create");
    let data = |cms: Api<ConfigMap>| async move {
        cms.get_opt(&generated_name("web"))
            .await
            .ok()
            .flatten()
            .and_then(|c| c.data)
    };
    eventually("the ConfigMap is generated", || async {
        data(cms.clone())
            .await
            .is_some_and(|d| d.get("mode").map(String::as_str) == Some("fast"))
    })
    .await;
    let generated = cms.get(&generated_name("web")).await.expect("generated");
    let owner = &generated.metadata.owner_references.expect("owned")[0];
    assert_eq!(
        (owner.kind.as_str(), owner.name.as_str(), owner.controller),
        ("Deployment", "web", Some(true))
    );
    let web = deployments.get("web").await.expect("web");
    assert!(
        web.metadata
            .finalizers
            .iter()
            .flatten()
            .any(|f| f == FINALIZER)
    );
    assert!(
        cms.get_opt(&generated_name("plain"))
            .await
            .expect("get")
            .is_none()
    );

    // A manual edit of the ConfigMap is reverted.
    cms.patch(
        &generated_name("web"),
        &PatchParams::default(),
        &Patch::Merge(json!({"data": {"mode": "slow"}})),
    )
    .await
    .expect("edit");
    eventually("the edit is reverted", || async {
        data(cms.clone())
            .await
            .is_some_and(|d| d.get("mode").map(String::as_str) == Some("fast"))
    })
    .await;

    // A new annotation value is applied.
    deployments
        .patch(
            "web",
            &PatchParams::default(),
            &Patch::Merge(json!({"metadata": {"annotations": {ANNOTATION: "mode=turbo"}}})),
        )
        .await
        .expect("annotate");
    eventually("the new value is applied", || async {
        data(cms.clone()).await.is_some_and(|d| {
            d.get("mode").map(String::as_str) == Some("turbo") && !d.contains_key("level")
        })
    })
    .await;

    // Deleting the Deployment deletes the ConfigMap, then the Deployment goes.
    deployments
        .delete("web", &DeleteParams::default())
        .await
        .expect("delete");
    eventually("both are gone", || async {
        cms.get_opt(&generated_name("web"))
            .await
            .expect("get")
            .is_none()
            && deployments.get_opt("web").await.expect("get").is_none()
    })
    .await;

    // Events were recorded for the Deployment.
    let events: Api<kubernaut_api_types::core::v1::Event> = Api::default_namespaced(client.clone());
    eventually("an event is recorded", || async {
        events
            .list(&ListParams::default().fields("involvedObject.name=web"))
            .await
            .is_ok_and(|l| {
                l.items
                    .iter()
                    .any(|e| e.reason.as_deref() == Some("Generated"))
            })
    })
    .await;

    let _ = stop.send(());
    tokio::time::timeout(Duration::from_secs(60), operator)
        .await
        .expect("the operator stops when told")
        .expect("no panic");
}
