//! Tests across kinds: the test helper, idempotence (defaulting twice equals defaulting once)
//! over generated variants, and fully specified objects, which defaulting must leave unchanged.
//!
//! Expected outputs follow upstream's JSON, except for the empty structs Go always writes
//! (`resources: {}`, `status: {}`, `creationTimestamp: null`), which this model leaves absent.

use proptest::prelude::*;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use super::SetDefaults;
use crate::apps::v1::{DaemonSet, Deployment, ReplicaSet, StatefulSet};
use crate::batch::v1::{CronJob, Job};
use crate::core::v1::{
    Endpoints, LimitRange, Namespace, Node, PersistentVolume, PersistentVolumeClaim, Pod,
    PodTemplate, Secret, Service,
};
use crate::discovery::v1::EndpointSlice;
use crate::networking::v1::IngressClass;
use crate::rbac::v1::{ClusterRoleBinding, RoleBinding};
use crate::scheduling::v1::PriorityClass;
use crate::storage::v1::StorageClass;

/// Reads `input` as a `T`, defaults it, and writes it back as JSON.
pub(super) fn defaulted<T>(input: Value) -> Value
where
    T: SetDefaults + Serialize + DeserializeOwned,
{
    let mut object: T = serde_json::from_value(input).expect("test input is a valid object");
    object.set_defaults();
    serde_json::to_value(&object).expect("objects serialize")
}

/// Asserts that defaulting `input` as a `T` gives `expected`.
#[track_caller]
pub(super) fn assert_defaults<T>(input: Value, expected: Value)
where
    T: SetDefaults + Serialize + DeserializeOwned,
{
    let actual = defaulted::<T>(input);
    assert_eq!(
        actual,
        expected,
        "\nactual:   {}\nexpected: {}",
        serde_json::to_string_pretty(&actual).unwrap_or_default(),
        serde_json::to_string_pretty(&expected).unwrap_or_default(),
    );
}

/// Asserts that defaulting `input` as a `T` changes nothing.
#[track_caller]
pub(super) fn assert_unchanged<T>(input: Value)
where
    T: SetDefaults + Serialize + DeserializeOwned,
{
    let typed: T = serde_json::from_value(input).expect("test input is a valid object");
    let before = serde_json::to_value(&typed).expect("objects serialize");
    assert_defaults::<T>(before.clone(), before);
}

/// Asserts that defaulting `input` as a `T` twice gives what defaulting once gives.
fn check_idempotent<T>(input: Value) -> Result<(), TestCaseError>
where
    T: SetDefaults + Serialize + DeserializeOwned,
{
    let once = defaulted::<T>(input);
    let twice = defaulted::<T>(once.clone());
    prop_assert_eq!(once, twice);
    Ok(())
}

/// A fully specified container, with non-default choices wherever upstream has a default.
fn full_container(name: &str) -> Value {
    json!({
        "name": name,
        "image": "nginx",
        "imagePullPolicy": "Never",
        "terminationMessagePath": "/tmp/log",
        "terminationMessagePolicy": "FallbackToLogsOnError",
        "ports": [{"containerPort": 80, "hostPort": 8080, "protocol": "UDP"}],
        "env": [{"name": "POD", "valueFrom": {"fieldRef": {"apiVersion": "v2", "fieldPath": "metadata.name"}}}],
        "resources": {"limits": {"cpu": "1"}, "requests": {"cpu": "500m"}},
        "livenessProbe": {
            "httpGet": {"path": "/healthz", "port": 8080, "scheme": "HTTPS"},
            "timeoutSeconds": 5, "periodSeconds": 7, "successThreshold": 1, "failureThreshold": 9
        },
        "readinessProbe": {
            "grpc": {"port": 9000, "service": "health"},
            "timeoutSeconds": 2, "periodSeconds": 3, "successThreshold": 4, "failureThreshold": 5
        },
        "lifecycle": {"preStop": {"httpGet": {"path": "/stop", "port": 80, "scheme": "HTTPS"}}}
    })
}

/// A fully specified pod spec.
fn full_pod_spec() -> Value {
    json!({
        "containers": [full_container("app")],
        "initContainers": [full_container("init")],
        "dnsPolicy": "Default",
        "restartPolicy": "Never",
        "schedulerName": "my-scheduler",
        "securityContext": {"runAsNonRoot": true},
        "terminationGracePeriodSeconds": 5,
        "enableServiceLinks": false,
        "volumes": [
            {"name": "scratch", "emptyDir": {"medium": "Memory"}},
            {"name": "secret", "secret": {"secretName": "s", "defaultMode": 256}},
            {"name": "config", "configMap": {"name": "c", "defaultMode": 256}},
            {"name": "host", "hostPath": {"path": "/var", "type": "Directory"}},
            {"name": "projected", "projected": {"defaultMode": 256, "sources": [
                {"serviceAccountToken": {"path": "token", "expirationSeconds": 600}}
            ]}}
        ]
    })
}

/// A fully specified pod template.
fn full_template() -> Value {
    json!({"metadata": {"labels": {"app": "web"}}, "spec": full_pod_spec()})
}

#[test]
fn fully_specified_objects_are_unchanged() {
    assert_unchanged::<Pod>(json!({"metadata": {"name": "p"}, "spec": full_pod_spec()}));
    assert_unchanged::<PodTemplate>(
        json!({"metadata": {"name": "t"}, "template": full_template()}),
    );
    assert_unchanged::<Service>(json!({
        "metadata": {"name": "s"},
        "spec": {
            "type": "LoadBalancer",
            "sessionAffinity": "ClientIP",
            "sessionAffinityConfig": {"clientIP": {"timeoutSeconds": 60}},
            "ports": [{"port": 80, "targetPort": "http", "protocol": "UDP"}],
            "externalTrafficPolicy": "Local",
            "internalTrafficPolicy": "Local",
            "allocateLoadBalancerNodePorts": false
        },
        "status": {"loadBalancer": {"ingress": [{"ip": "192.0.2.1", "ipMode": "Proxy"}]}}
    }));
    assert_unchanged::<Namespace>(json!({
        "metadata": {"name": "ns", "labels": {"kubernetes.io/metadata.name": "ns"}},
        "status": {"phase": "Terminating"}
    }));
    assert_unchanged::<Secret>(json!({"metadata": {"name": "s"}, "type": "kubernetes.io/tls"}));
    assert_unchanged::<Endpoints>(json!({
        "metadata": {"name": "e"},
        "subsets": [{"ports": [{"port": 53, "protocol": "UDP"}]}]
    }));
    assert_unchanged::<Node>(json!({
        "metadata": {"name": "n"},
        "status": {"capacity": {"cpu": "4"}, "allocatable": {"cpu": "3"}}
    }));
    assert_unchanged::<LimitRange>(json!({
        "metadata": {"name": "l"},
        "spec": {"limits": [{
            "type": "Container",
            "max": {"cpu": "2"}, "min": {"cpu": "100m"},
            "default": {"cpu": "1"}, "defaultRequest": {"cpu": "500m"}
        }]}
    }));
    assert_unchanged::<PersistentVolumeClaim>(json!({
        "metadata": {"name": "c"},
        "spec": {"volumeMode": "Block"},
        "status": {"phase": "Bound"}
    }));
    assert_unchanged::<PersistentVolume>(json!({
        "metadata": {"name": "v"},
        "spec": {
            "persistentVolumeReclaimPolicy": "Delete",
            "volumeMode": "Block",
            "hostPath": {"path": "/data", "type": "DirectoryOrCreate"}
        },
        "status": {"phase": "Available"}
    }));
    assert_unchanged::<Deployment>(json!({
        "metadata": {"name": "d"},
        "spec": {
            "replicas": 3,
            "selector": {"matchLabels": {"app": "web"}},
            "strategy": {"type": "Recreate"},
            "revisionHistoryLimit": 2,
            "progressDeadlineSeconds": 60,
            "template": full_template()
        }
    }));
    assert_unchanged::<ReplicaSet>(json!({
        "metadata": {"name": "r"},
        "spec": {"replicas": 0, "selector": {"matchLabels": {"app": "web"}}, "template": full_template()}
    }));
    assert_unchanged::<DaemonSet>(json!({
        "metadata": {"name": "ds"},
        "spec": {
            "selector": {"matchLabels": {"app": "web"}},
            "updateStrategy": {"type": "OnDelete"},
            "revisionHistoryLimit": 1,
            "template": full_template()
        }
    }));
    assert_unchanged::<StatefulSet>(json!({
        "metadata": {"name": "ss"},
        "spec": {
            "replicas": 2,
            "serviceName": "db",
            "selector": {"matchLabels": {"app": "db"}},
            "podManagementPolicy": "Parallel",
            "updateStrategy": {"type": "OnDelete"},
            "persistentVolumeClaimRetentionPolicy": {"whenDeleted": "Delete", "whenScaled": "Delete"},
            "revisionHistoryLimit": 3,
            "template": full_template(),
            "volumeClaimTemplates": [{
                "metadata": {"name": "data"},
                "spec": {"volumeMode": "Block"},
                "status": {"phase": "Bound"}
            }]
        }
    }));
    assert_unchanged::<Job>(json!({
        "metadata": {"name": "j", "labels": {"team": "a"}},
        "spec": {
            "completions": 5,
            "parallelism": 2,
            "backoffLimit": 0,
            "completionMode": "Indexed",
            "suspend": true,
            "podReplacementPolicy": "Failed",
            "manualSelector": true,
            "template": full_template()
        }
    }));
    assert_unchanged::<CronJob>(json!({
        "metadata": {"name": "cj"},
        "spec": {
            "schedule": "@hourly",
            "concurrencyPolicy": "Forbid",
            "suspend": true,
            "successfulJobsHistoryLimit": 0,
            "failedJobsHistoryLimit": 0,
            "jobTemplate": {"spec": {"template": full_template()}}
        }
    }));
    assert_unchanged::<EndpointSlice>(json!({
        "metadata": {"name": "es"},
        "addressType": "IPv4",
        "endpoints": [],
        "ports": [{"name": "dns", "port": 53, "protocol": "UDP"}]
    }));
    assert_unchanged::<IngressClass>(json!({
        "metadata": {"name": "ic"},
        "spec": {"controller": "example.com/ingress", "parameters": {
            "kind": "Params", "name": "p", "scope": "Namespace", "namespace": "ns"
        }}
    }));
    assert_unchanged::<StorageClass>(json!({
        "metadata": {"name": "sc"},
        "provisioner": "example.com/disk",
        "reclaimPolicy": "Retain",
        "volumeBindingMode": "WaitForFirstConsumer"
    }));
    assert_unchanged::<PriorityClass>(json!({
        "metadata": {"name": "pc"}, "value": 10, "preemptionPolicy": "Never"
    }));
    assert_unchanged::<RoleBinding>(json!({
        "metadata": {"name": "rb"},
        "roleRef": {"apiGroup": "example.com", "kind": "Role", "name": "r"},
        "subjects": [{"apiGroup": "example.com", "kind": "User", "name": "u"}]
    }));
    assert_unchanged::<ClusterRoleBinding>(json!({
        "metadata": {"name": "crb"},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "r"},
        "subjects": [{"kind": "ServiceAccount", "name": "sa", "namespace": "ns"}]
    }));
}

/// Images whose pull policy defaults differently.
fn image() -> impl Strategy<Value = Option<&'static str>> {
    prop::sample::select(vec![
        None,
        Some("nginx"),
        Some("nginx:latest"),
        Some("nginx:1.27"),
        Some("registry.example.com:5000/app"),
        Some("NOT A REFERENCE"),
    ])
}

/// A container with a random subset of the fields defaulting touches.
fn container() -> impl Strategy<Value = Value> {
    (
        image(),
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(|(image, port, limits, probe, pull)| {
            let mut c = json!({"name": "c"});
            if let Some(image) = image {
                c["image"] = json!(image);
            }
            if port {
                c["ports"] =
                    json!([{"containerPort": 80}, {"containerPort": 53, "protocol": "UDP"}]);
            }
            if limits {
                c["resources"] =
                    json!({"limits": {"cpu": "1", "memory": "1Gi"}, "requests": {"cpu": "100m"}});
            }
            if probe {
                c["livenessProbe"] = json!({"httpGet": {"port": 80}, "periodSeconds": 0});
                c["startupProbe"] = json!({"grpc": {"port": 9000}});
            }
            if pull {
                c["imagePullPolicy"] = json!("");
            }
            c
        })
}

/// A pod spec built from random containers, volumes and flags.
fn pod_spec() -> impl Strategy<Value = Value> {
    (
        prop::collection::vec(container(), 1..3),
        prop::option::of(container()),
        any::<bool>(),
        prop::sample::select(vec![
            json!([]),
            json!([{"name": "v"}]),
            json!([{"name": "v", "secret": {"secretName": "s"}}]),
            json!([{"name": "v", "rbd": {"image": "i", "monitors": ["m"], "pool": ""}}]),
            json!([{"name": "v", "projected": {"sources": [{"downwardAPI": {"items": [
                {"path": "n", "fieldRef": {"fieldPath": "metadata.name"}}
            ]}}]}}]),
            json!([{"name": "v", "ephemeral": {"volumeClaimTemplate": {"spec": {}}}}]),
        ]),
        prop::option::of(prop::sample::select(vec!["Never", "", "OnFailure"])),
    )
        .prop_map(|(containers, init, host_network, volumes, restart)| {
            let mut spec = json!({"containers": containers, "volumes": volumes});
            if let Some(init) = init {
                spec["initContainers"] = json!([init]);
            }
            if host_network {
                spec["hostNetwork"] = json!(true);
            }
            if let Some(restart) = restart {
                spec["restartPolicy"] = json!(restart);
            }
            spec
        })
}

proptest! {
    #[test]
    fn pods_and_templates_default_idempotently(spec in pod_spec()) {
        check_idempotent::<Pod>(json!({"metadata": {"name": "p"}, "spec": spec.clone()}))?;
        check_idempotent::<PodTemplate>(json!({"template": {"spec": spec.clone()}}))?;
        check_idempotent::<Deployment>(json!({"spec": {"template": {"spec": spec.clone()}}}))?;
        check_idempotent::<Job>(json!({"spec": {"template": {"spec": spec}}}))?;
    }

    #[test]
    fn services_default_idempotently(
        service_type in prop::sample::select(vec!["", "ClusterIP", "NodePort", "LoadBalancer", "ExternalName"]),
        affinity in prop::sample::select(vec!["", "None", "ClientIP"]),
        config in any::<bool>(),
        target in prop::sample::select(vec![json!(null), json!(0), json!(""), json!(8080), json!("http")]),
        external_ips in any::<bool>(),
    ) {
        let mut spec = json!({
            "type": service_type,
            "sessionAffinity": affinity,
            "ports": [{"port": 80, "targetPort": target}]
        });
        if config {
            spec["sessionAffinityConfig"] = json!({"clientIP": {}});
        }
        if external_ips {
            spec["externalIPs"] = json!(["192.0.2.10"]);
        }
        check_idempotent::<Service>(json!({
            "spec": spec,
            "status": {"loadBalancer": {"ingress": [{"ip": "192.0.2.1"}, {"hostname": "lb"}]}}
        }))?;
    }

    #[test]
    fn workloads_default_idempotently(
        strategy in prop::sample::select(vec![json!(null), json!({}), json!({"type": "RollingUpdate"}),
            json!({"type": "Recreate"}), json!({"type": "OnDelete"}),
            json!({"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 2}})]),
        replicas in prop::option::of(0..5_i32),
        pfp in any::<bool>(),
        parallelism in prop::option::of(0..3_i32),
    ) {
        check_idempotent::<Deployment>(json!({"spec": {"replicas": replicas, "strategy": strategy}}))?;
        check_idempotent::<DaemonSet>(json!({"spec": {"updateStrategy": strategy}}))?;
        check_idempotent::<StatefulSet>(json!({"spec": {
            "replicas": replicas,
            "updateStrategy": strategy,
            "volumeClaimTemplates": [{"metadata": {"name": "data"}}]
        }}))?;
        let mut job = json!({"parallelism": parallelism, "template": {"metadata": {"labels": {"a": "b"}}}});
        if pfp {
            job["podFailurePolicy"] = json!({"rules": [{"action": "Ignore", "onPodConditions": [{"type": "DisruptionTarget"}]}]});
        }
        check_idempotent::<Job>(json!({"spec": job.clone()}))?;
        check_idempotent::<CronJob>(json!({"spec": {"schedule": "@daily", "jobTemplate": {"spec": job}}}))?;
    }

    #[test]
    fn other_kinds_default_idempotently(name in prop::option::of("[a-z]{0,3}"), kind in prop::sample::select(vec!["User", "Group", "ServiceAccount"])) {
        check_idempotent::<Namespace>(json!({"metadata": {"name": name}}))?;
        check_idempotent::<RoleBinding>(json!({"roleRef": {"kind": "Role", "name": "r"}, "subjects": [{"kind": kind, "name": "x"}]}))?;
        check_idempotent::<LimitRange>(json!({"spec": {"limits": [{"type": "Container", "max": {"cpu": "1"}, "min": {"memory": "1Gi"}}]}}))?;
        check_idempotent::<PersistentVolume>(json!({"spec": {"iscsi": {"targetPortal": "t", "iqn": "i", "lun": 0}}}))?;
        check_idempotent::<EndpointSlice>(json!({"addressType": "IPv4", "endpoints": [], "ports": [{}]}))?;
        check_idempotent::<Node>(json!({"status": {"capacity": {"cpu": "2"}}}))?;
    }
}
