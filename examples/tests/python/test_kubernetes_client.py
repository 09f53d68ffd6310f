"""The official Python `kubernetes` client against a kubernaut API server.

Run by `examples/tests/python_client.rs`, which starts the server and passes its kubeconfig in
`KUBERNAUT_KUBECONFIG`. Each test works in a namespace of its own.
"""

import os
import uuid

import pytest
from kubernetes import client, config, dynamic, watch
from kubernetes.client.rest import ApiException


@pytest.fixture(scope="session")
def api_client():
    path = os.environ["KUBERNAUT_KUBECONFIG"]
    return config.new_client_from_config(config_file=path)


@pytest.fixture
def namespace(api_client):
    name = "py-" + uuid.uuid4().hex[:8]
    core = client.CoreV1Api(api_client)
    core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=name)))
    yield name


def pod(name, image="nginx:1.27", labels=None):
    return client.V1Pod(
        metadata=client.V1ObjectMeta(name=name, labels=labels or {"app": name}),
        spec=client.V1PodSpec(containers=[client.V1Container(name="main", image=image)]),
    )


def test_core_v1_pods_create_read_list_patch_delete(api_client, namespace):
    core = client.CoreV1Api(api_client)
    created = core.create_namespaced_pod(namespace, pod("web"))
    assert created.metadata.uid
    assert created.metadata.resource_version
    assert created.status.phase == "Pending"
    assert created.spec.restart_policy == "Always"  # defaulted

    read = core.read_namespaced_pod("web", namespace)
    assert read.metadata.uid == created.metadata.uid

    core.create_namespaced_pod(namespace, pod("db", labels={"app": "db", "tier": "data"}))
    listed = core.list_namespaced_pod(namespace)
    assert sorted(p.metadata.name for p in listed.items) == ["db", "web"]
    selected = core.list_namespaced_pod(namespace, label_selector="tier=data")
    assert [p.metadata.name for p in selected.items] == ["db"]
    by_field = core.list_namespaced_pod(namespace, field_selector="metadata.name=web")
    assert [p.metadata.name for p in by_field.items] == ["web"]

    # A dict body is sent as a strategic merge patch: containers merge by name.
    patched = core.patch_namespaced_pod(
        "web", namespace, {"metadata": {"labels": {"patched": "yes"}},
                           "spec": {"containers": [{"name": "main", "image": "nginx:1.28"}]}})
    assert patched.metadata.labels == {"app": "web", "patched": "yes"}
    assert patched.spec.containers[0].image == "nginx:1.28"
    assert int(patched.metadata.resource_version) > int(created.metadata.resource_version)

    deleted = core.delete_namespaced_pod("web", namespace)
    assert isinstance(deleted, client.V1Pod)
    with pytest.raises(ApiException) as missing:
        core.read_namespaced_pod("web", namespace)
    assert missing.value.status == 404


def test_core_v1_configmaps_and_errors(api_client, namespace):
    core = client.CoreV1Api(api_client)
    cm = client.V1ConfigMap(metadata=client.V1ObjectMeta(name="settings"), data={"mode": "fast"})
    core.create_namespaced_config_map(namespace, cm)
    with pytest.raises(ApiException) as exists:
        core.create_namespaced_config_map(namespace, cm)
    assert exists.value.status == 409
    assert "already exists" in exists.value.body

    current = core.read_namespaced_config_map("settings", namespace)
    current.data["mode"] = "slow"
    replaced = core.replace_namespaced_config_map("settings", namespace, current)
    assert replaced.data == {"mode": "slow"}
    # The stale copy now conflicts.
    with pytest.raises(ApiException) as conflict:
        core.replace_namespaced_config_map("settings", namespace, current)
    assert conflict.value.status == 409

    # A list body is sent as a JSON Patch.
    patched = core.patch_namespaced_config_map(
        "settings", namespace, [{"op": "add", "path": "/data/extra", "value": "1"}])
    assert patched.data == {"mode": "slow", "extra": "1"}

    with pytest.raises(ApiException) as invalid:
        core.create_namespaced_config_map(
            namespace, client.V1ConfigMap(metadata=client.V1ObjectMeta(name="Bad_Name")))
    assert invalid.value.status == 422


def test_apps_v1_deployments_and_scale(api_client, namespace):
    apps = client.AppsV1Api(api_client)
    body = client.V1Deployment(
        metadata=client.V1ObjectMeta(name="web"),
        spec=client.V1DeploymentSpec(
            replicas=2,
            selector=client.V1LabelSelector(match_labels={"app": "web"}),
            template=client.V1PodTemplateSpec(
                metadata=client.V1ObjectMeta(labels={"app": "web"}),
                spec=client.V1PodSpec(containers=[client.V1Container(name="web", image="nginx")]),
            ),
        ),
    )
    created = apps.create_namespaced_deployment(namespace, body)
    assert created.metadata.generation == 1
    assert created.spec.strategy.type == "RollingUpdate"

    listed = apps.list_namespaced_deployment(namespace)
    assert [d.metadata.name for d in listed.items] == ["web"]

    patched = apps.patch_namespaced_deployment("web", namespace, {"spec": {"replicas": 4}})
    assert patched.spec.replicas == 4
    assert patched.metadata.generation == 2

    scale = apps.read_namespaced_deployment_scale("web", namespace)
    assert scale.spec.replicas == 4
    assert scale.status.selector == "app=web"
    scaled = apps.patch_namespaced_deployment_scale("web", namespace, {"spec": {"replicas": 1}})
    assert scaled.spec.replicas == 1
    assert apps.read_namespaced_deployment("web", namespace).spec.replicas == 1

    apps.delete_namespaced_deployment("web", namespace)
    assert apps.list_namespaced_deployment(namespace).items == []


def test_watch_sees_added_modified_deleted(api_client, namespace):
    core = client.CoreV1Api(api_client)
    core.create_namespaced_config_map(
        namespace, client.V1ConfigMap(metadata=client.V1ObjectMeta(name="w"), data={"n": "0"}))
    w = watch.Watch()
    seen = []
    for event in w.stream(core.list_namespaced_config_map, namespace, timeout_seconds=20):
        seen.append((event["type"], event["object"].metadata.name,
                     (event["object"].data or {}).get("n")))
        if len(seen) == 1:
            core.patch_namespaced_config_map("w", namespace, {"data": {"n": "1"}})
        elif len(seen) == 2:
            core.delete_namespaced_config_map("w", namespace)
        elif len(seen) == 3:
            w.stop()
    assert seen == [("ADDED", "w", "0"), ("MODIFIED", "w", "1"), ("DELETED", "w", "1")]


def test_a_too_old_resource_version_gives_410_and_a_relist_recovers(api_client, namespace):
    core = client.CoreV1Api(api_client)
    first = core.create_namespaced_config_map(
        namespace, client.V1ConfigMap(metadata=client.V1ObjectMeta(name="a"), data={"n": "0"}))
    # The server under test keeps 50 events per resource: outrun them.
    for n in range(60):
        core.patch_namespaced_config_map("a", namespace, {"data": {"n": str(n + 1)}})
    w = watch.Watch()
    with pytest.raises(ApiException) as gone:
        for _ in w.stream(core.list_namespaced_config_map, namespace,
                          resource_version=first.metadata.resource_version, timeout_seconds=5):
            pass
    assert gone.value.status == 410
    # Recovery: list for a fresh resource version, then watch from it.
    listed = core.list_namespaced_config_map(namespace)
    rv = listed.metadata.resource_version
    core.create_namespaced_config_map(
        namespace, client.V1ConfigMap(metadata=client.V1ObjectMeta(name="b")))
    w = watch.Watch()
    for event in w.stream(core.list_namespaced_config_map, namespace,
                          resource_version=rv, timeout_seconds=10):
        assert (event["type"], event["object"].metadata.name) == ("ADDED", "b")
        w.stop()


def test_dynamic_client(api_client, namespace):
    dyn = dynamic.DynamicClient(api_client)
    secrets = dyn.resources.get(api_version="v1", kind="Secret")
    secrets.create(namespace=namespace, body={
        "apiVersion": "v1", "kind": "Secret", "metadata": {"name": "token"},
        "stringData": {"password": "hunter2"}})
    got = secrets.get(name="token", namespace=namespace)
    assert got.data.password == "aHVudGVyMg=="
    assert got.type == "Opaque"
    listed = secrets.get(namespace=namespace)
    assert [s.metadata.name for s in listed.items] == ["token"]
    deployments = dyn.resources.get(api_version="apps/v1", kind="Deployment")
    assert deployments.namespaced
    # Server-side apply creates when missing, then merges.
    cms = dyn.resources.get(api_version="v1", kind="ConfigMap")
    applied = cms.server_side_apply(
        body={"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "ssa"},
              "data": {"a": "1"}},
        namespace=namespace, field_manager="py")
    assert applied.data.a == "1"
    applied = cms.server_side_apply(
        body={"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "ssa"},
              "data": {"a": "1", "b": "2"}},
        namespace=namespace, field_manager="py")
    assert (applied.data.a, applied.data.b) == ("1", "2")
    assert [m.manager for m in applied.metadata.managedFields] == ["py"]
    secrets.delete(name="token", namespace=namespace)
    assert secrets.get(namespace=namespace).items == []
