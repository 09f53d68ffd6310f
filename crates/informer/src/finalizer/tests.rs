//! The finalizer helper against a real in-process API server.

use std::sync::atomic::{AtomicUsize, Ordering};

use kubernaut_api_types::core::v1::ConfigMap;
use kubernaut_client::{Client, DeleteParams, PostParams};

use super::*;
use crate::test_server::TestServer;

const FINALIZER: &str = "test.kubernaut.io/cleanup";

#[derive(Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
struct Failed(&'static str);

/// What the reconciler was asked to do, and with which finalizers on the object it got.
#[derive(Default)]
struct Calls {
    applied: AtomicUsize,
    cleaned: AtomicUsize,
}

async fn setup() -> (TestServer, Client, Api<ConfigMap>) {
    let server = TestServer::start().await;
    let client = server.client();
    let api = Api::namespaced(client.clone(), "default");
    (server, client, api)
}

async fn create(api: &Api<ConfigMap>, name: &str, finalizers: &[&str]) -> ConfigMap {
    let cm: ConfigMap = serde_json::from_value(json!({
        "metadata": {"name": name, "finalizers": finalizers},
        "data": {"k": "v"},
    }))
    .unwrap();
    api.create(&PostParams::default(), &cm)
        .await
        .expect("created")
}

fn finalizers(cm: &ConfigMap) -> Vec<String> {
    cm.metadata.finalizers.clone().unwrap_or_default()
}

/// Runs the helper with a reconciler that counts its calls and returns `result`.
async fn run(
    api: &Api<ConfigMap>,
    object: ConfigMap,
    calls: &Calls,
    result: Result<&'static str, Failed>,
) -> Result<Outcome<&'static str>, Error<Failed>> {
    finalizer(api, FINALIZER, Arc::new(object), |event| async {
        match event {
            Event::Apply(cm) => {
                assert!(
                    finalizers(&cm).iter().any(|f| f == FINALIZER),
                    "apply only runs once the finalizer is stored"
                );
                assert!(cm.metadata.deletion_timestamp.is_none());
                calls.applied.fetch_add(1, Ordering::SeqCst);
            }
            Event::Cleanup(cm) => {
                assert!(cm.metadata.deletion_timestamp.is_some());
                calls.cleaned.fetch_add(1, Ordering::SeqCst);
            }
        }
        result
    })
    .await
}

#[tokio::test]
async fn the_finalizer_is_added_before_apply_and_removed_after_cleanup() {
    let (_server, _client, api) = setup().await;
    let calls = Calls::default();
    let cm = create(&api, "web", &[]).await;

    let outcome = run(&api, cm, &calls, Ok("applied")).await.expect("applied");
    assert_eq!(outcome, Outcome::Applied("applied"));
    let stored = api.get("web").await.unwrap();
    assert_eq!(finalizers(&stored), [FINALIZER]);

    // Later reconciles apply without writing.
    let rv = stored.metadata.resource_version.clone();
    run(&api, stored, &calls, Ok("applied"))
        .await
        .expect("applied");
    assert_eq!(api.get("web").await.unwrap().metadata.resource_version, rv);
    assert_eq!(calls.applied.load(Ordering::SeqCst), 2);

    // Deleting only marks the object while the finalizer is there.
    api.delete("web", &DeleteParams::default())
        .await
        .expect("deleted");
    let deleting = api.get("web").await.expect("still there");
    assert!(deleting.metadata.deletion_timestamp.is_some());

    let outcome = run(&api, deleting.clone(), &calls, Ok("cleaned")).await;
    assert_eq!(outcome.unwrap(), Outcome::CleanedUp("cleaned"));
    assert!(
        api.get_opt("web").await.unwrap().is_none(),
        "the object is gone"
    );

    // A retry from the stale copy (say the process died before it saw the result) cleans up
    // again, harmlessly, and finds nothing left to remove.
    let outcome = run(&api, deleting, &calls, Ok("cleaned again")).await;
    assert_eq!(outcome.unwrap(), Outcome::CleanedUp("cleaned again"));
    assert_eq!(calls.cleaned.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn other_finalizers_are_kept_and_an_untracked_deletion_runs_nothing() {
    let (_server, _client, api) = setup().await;
    let calls = Calls::default();
    let cm = create(&api, "web", &["other.example.com/keep"]).await;
    run(&api, cm, &calls, Ok("applied")).await.expect("applied");
    assert_eq!(
        finalizers(&api.get("web").await.unwrap()),
        ["other.example.com/keep", FINALIZER]
    );
    api.delete("web", &DeleteParams::default()).await.unwrap();
    let deleting = api.get("web").await.unwrap();
    run(&api, deleting, &calls, Ok("cleaned"))
        .await
        .expect("cleaned");
    let left = api.get("web").await.expect("another finalizer holds it");
    assert_eq!(finalizers(&left), ["other.example.com/keep"]);

    let outcome = run(&api, left, &calls, Ok("nothing"))
        .await
        .expect("nothing to do");
    assert_eq!(outcome, Outcome::NotTracked);
    assert_eq!(outcome.into_inner(), None);
    assert_eq!(calls.cleaned.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn a_concurrent_finalizer_change_makes_the_add_conflict_and_is_never_lost() {
    let (_server, _client, api) = setup().await;
    let calls = Calls::default();
    let stale = create(&api, "web", &["other.example.com/a"]).await;
    // Someone else adds a finalizer after our copy was read.
    api.patch(
        "web",
        &PatchParams::default(),
        &Patch::<Value>::Json(json!([
            {"op": "add", "path": "/metadata/finalizers/-", "value": "other.example.com/b"}
        ])),
    )
    .await
    .unwrap();

    let err = run(&api, stale, &calls, Ok("applied")).await.unwrap_err();
    assert!(err.is_conflict(), "{err}");
    assert!(matches!(
        err,
        Error::Conflict {
            operation: Operation::AddFinalizer,
            ..
        }
    ));
    assert_eq!(calls.applied.load(Ordering::SeqCst), 0, "apply did not run");
    let current = api.get("web").await.unwrap();
    assert_eq!(
        finalizers(&current),
        ["other.example.com/a", "other.example.com/b"]
    );

    // The retry, from a fresh copy, succeeds.
    run(&api, current, &calls, Ok("applied"))
        .await
        .expect("applied");
    assert_eq!(
        finalizers(&api.get("web").await.unwrap()),
        ["other.example.com/a", "other.example.com/b", FINALIZER]
    );
}

#[tokio::test]
async fn a_concurrent_first_finalizer_makes_the_add_conflict() {
    let (_server, _client, api) = setup().await;
    let calls = Calls::default();
    let stale = create(&api, "web", &[]).await;
    api.patch(
        "web",
        &PatchParams::default(),
        &Patch::Merge(json!({"metadata": {"finalizers": ["other.example.com/b"]}})),
    )
    .await
    .unwrap();
    let err = run(&api, stale, &calls, Ok("applied")).await.unwrap_err();
    assert!(err.is_conflict(), "{err}");
    assert_eq!(
        finalizers(&api.get("web").await.unwrap()),
        ["other.example.com/b"]
    );
}

#[tokio::test]
async fn changes_outside_the_finalizers_do_not_conflict_with_the_add() {
    let (_server, _client, api) = setup().await;
    let calls = Calls::default();
    let stale = create(&api, "web", &["other.example.com/a"]).await;
    api.patch(
        "web",
        &PatchParams::default(),
        &Patch::Merge(json!({"metadata": {"labels": {"tier": "web"}}})),
    )
    .await
    .unwrap();
    run(&api, stale, &calls, Ok("applied"))
        .await
        .expect("applied");
    let current = api.get("web").await.unwrap();
    assert_eq!(finalizers(&current), ["other.example.com/a", FINALIZER]);
    assert_eq!(
        current.metadata.labels.unwrap()["tier"],
        "web",
        "the label was kept"
    );
}

#[tokio::test]
async fn a_concurrent_change_makes_the_removal_conflict_after_cleanup() {
    let (_server, _client, api) = setup().await;
    let calls = Calls::default();
    create(&api, "web", &["other.example.com/x", FINALIZER]).await;
    api.delete("web", &DeleteParams::default()).await.unwrap();
    let stale = api.get("web").await.unwrap();
    // The other finalizer goes first: ours moves from index 1 to 0.
    api.patch(
        "web",
        &PatchParams::default(),
        &Patch::<Value>::Json(json!([
            {"op": "test", "path": "/metadata/finalizers/0", "value": "other.example.com/x"},
            {"op": "remove", "path": "/metadata/finalizers/0"}
        ])),
    )
    .await
    .unwrap();

    let err = run(&api, stale, &calls, Ok("cleaned")).await.unwrap_err();
    assert!(
        matches!(
            err,
            Error::Conflict {
                operation: Operation::RemoveFinalizer,
                ..
            }
        ),
        "{err}"
    );
    assert_eq!(calls.cleaned.load(Ordering::SeqCst), 1);
    let current = api.get("web").await.unwrap();
    assert_eq!(
        finalizers(&current),
        [FINALIZER],
        "nothing else was removed"
    );

    run(&api, current, &calls, Ok("cleaned"))
        .await
        .expect("cleaned");
    assert_eq!(calls.cleaned.load(Ordering::SeqCst), 2, "cleanup ran again");
    assert!(api.get_opt("web").await.unwrap().is_none());
}

#[tokio::test]
async fn a_copy_of_an_object_that_was_replaced_under_the_same_name_conflicts() {
    let (_server, _client, api) = setup().await;
    let calls = Calls::default();
    let old = create(&api, "web", &["other.example.com/a"]).await;
    api.patch(
        "web",
        &PatchParams::default(),
        &Patch::Merge(json!({"metadata": {"finalizers": null}})),
    )
    .await
    .unwrap();
    api.delete("web", &DeleteParams::default()).await.unwrap();
    let new = create(&api, "web", &["other.example.com/a"]).await;
    assert_ne!(old.metadata.uid, new.metadata.uid);

    let err = run(&api, old, &calls, Ok("applied")).await.unwrap_err();
    assert!(err.is_conflict(), "{err}");
    assert_eq!(
        finalizers(&api.get("web").await.unwrap()),
        ["other.example.com/a"]
    );
}

#[tokio::test]
async fn failures_of_apply_and_cleanup_keep_the_finalizer() {
    let (_server, _client, api) = setup().await;
    let calls = Calls::default();
    let cm = create(&api, "web", &[]).await;
    let err = run(&api, cm, &calls, Err(Failed("apply broke")))
        .await
        .unwrap_err();
    assert!(matches!(&err, Error::ApplyFailed(Failed("apply broke"))));
    assert_eq!(err.to_string(), "apply failed: apply broke");
    assert_eq!(finalizers(&api.get("web").await.unwrap()), [FINALIZER]);

    api.delete("web", &DeleteParams::default()).await.unwrap();
    let deleting = api.get("web").await.unwrap();
    let err = run(&api, deleting, &calls, Err(Failed("cleanup broke")))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::CleanupFailed(Failed("cleanup broke"))));
    let still = api
        .get("web")
        .await
        .expect("the object waits for its cleanup");
    assert_eq!(finalizers(&still), [FINALIZER]);
}

#[tokio::test]
async fn a_finalizer_the_server_refuses_is_a_write_error_not_a_conflict() {
    let (_server, _client, api) = setup().await;
    let cm = create(&api, "web", &[]).await;
    let outcome = finalizer(&api, "Not A Valid Finalizer!", Arc::new(cm), |_| async {
        Ok::<_, Failed>(())
    })
    .await;
    let err = outcome.unwrap_err();
    assert!(
        matches!(&err, Error::Write { operation: Operation::AddFinalizer, source } if source.is_invalid()),
        "{err}"
    );
    assert!(!err.is_conflict());
}

#[tokio::test]
async fn objects_and_names_that_cannot_be_guarded_are_refused() {
    let (_server, _client, api) = setup().await;
    let noop = |_| async { Ok::<_, Failed>(()) };
    let cm = create(&api, "web", &[]).await;
    let err = finalizer(&api, "", Arc::new(cm.clone()), noop)
        .await
        .unwrap_err();
    assert!(matches!(err, Error::InvalidFinalizerName));

    let mut unnamed = cm.clone();
    unnamed.metadata.name = None;
    let err = finalizer(&api, FINALIZER, Arc::new(unnamed), noop)
        .await
        .unwrap_err();
    assert!(matches!(err, Error::UnnamedObject));

    let mut unread = cm;
    unread.metadata.resource_version = None;
    let err = finalizer(&api, FINALIZER, Arc::new(unread), noop)
        .await
        .unwrap_err();
    assert!(matches!(err, Error::MissingResourceVersion));
}

#[tokio::test]
async fn an_api_over_all_namespaces_patches_the_object_in_its_own() {
    let (_server, client, _api) = setup().await;
    let in_default = Api::<ConfigMap>::namespaced(client.clone(), "default");
    let cm = create(&in_default, "web", &[]).await;
    let everywhere = Api::<ConfigMap>::all(client);
    let calls = Calls::default();
    run(&everywhere, cm, &calls, Ok("applied"))
        .await
        .expect("applied");
    assert_eq!(
        finalizers(&in_default.get("web").await.unwrap()),
        [FINALIZER]
    );
}
