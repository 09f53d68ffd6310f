//! Tests of the printer registry, the default and `Status` printers and the table helpers,
//! plus the helpers the per-group printer tests share.

use std::path::Path;

use kubernaut_api_types::Time;
use kubernaut_api_types::scheme::Scheme;
use proptest::prelude::*;
use serde_json::{Value, json};

use super::*;

/// The instant every test measures ages against.
pub(super) const NOW: &str = "2024-05-01T12:00:00Z";

/// [`NOW`] as a `Time`.
pub(super) fn now() -> Time {
    Time::parse(NOW).unwrap()
}

/// The RFC 3339 text of the instant `seconds` before [`NOW`].
pub(super) fn ago(seconds: i64) -> String {
    (now().0 - chrono::TimeDelta::seconds(seconds))
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// Document `index` of a manifest of the corpus (`shared/manifests`, beside the checkout).
pub(super) fn manifest(path: &str, index: usize) -> Value {
    let file = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/manifests")
        .join(path);
    let text = std::fs::read_to_string(&file).unwrap_or_else(|e| {
        panic!(
            "{} (shared/manifests beside the checkout): {e}",
            file.display()
        )
    });
    let mut documents = kubernaut_api_types::manifest::parse_documents(&text).unwrap();
    documents.swap_remove(index).value
}

/// `patch` merged into `base` as a JSON merge patch (RFC 7386) does: what a cluster adds to a
/// manifest (metadata, status) is written as a patch over it.
pub(super) fn merge(mut base: Value, patch: Value) -> Value {
    fn apply(target: &mut Value, patch: Value) {
        match patch {
            Value::Object(fields) => {
                if !target.is_object() {
                    *target = json!({});
                }
                let object = target.as_object_mut().unwrap();
                for (key, value) in fields {
                    if value.is_null() {
                        object.remove(&key);
                    } else {
                        apply(object.entry(key).or_insert(Value::Null), value);
                    }
                }
            }
            other => *target = other,
        }
    }
    apply(&mut base, patch);
    base
}

/// The cells the printer of `group`/`kind` gives `object` at [`NOW`].
pub(super) fn cells(group: &str, kind: &str, object: &Value) -> Vec<Value> {
    let printer = printer_for(group, kind);
    let cells = printer.cells(object, now());
    assert_eq!(
        cells.len(),
        printer.columns().len(),
        "{kind}: one cell per column"
    );
    cells
}

/// The column names of the printer of `group`/`kind`, wide ones marked with a `+`.
pub(super) fn headers(group: &str, kind: &str) -> Vec<String> {
    printer_for(group, kind)
        .columns()
        .iter()
        .map(|c| match c.priority {
            0 => c.name.clone(),
            _ => format!("+{}", c.name),
        })
        .collect()
}

#[test]
fn every_builtin_kind_prints_one_cell_per_column() {
    let scheme = Scheme::builtin();
    let mut kinds = 0;
    for resource in scheme.resources() {
        kinds += 1;
        let printer = printer_for(&resource.group, &resource.kind);
        let object = json!({
            "apiVersion": resource.api_version,
            "kind": resource.kind,
            "metadata": {"name": "x", "creationTimestamp": ago(90)},
        });
        let cells = printer.cells(&object, now());
        assert_eq!(cells.len(), printer.columns().len(), "{}", resource.kind);
        let name_column = printer.columns().iter().position(|c| c.name == "Name");
        if let Some(i) = name_column {
            assert_eq!(cells[i], "x", "{}", resource.kind);
        }
    }
    assert!(kinds >= 36, "the scheme lists {kinds} kinds");
}

#[test]
fn kinds_without_a_printer_get_name_and_created_at() {
    for (group, kind) in [
        ("", "LimitRange"),
        ("rbac.authorization.k8s.io", "Role"),
        ("rbac.authorization.k8s.io", "ClusterRole"),
        ("", "Binding"),
        ("policy", "Eviction"),
        ("example.com", "Widget"),
    ] {
        assert_eq!(headers(group, kind), ["Name", "Created At"], "{kind}");
    }
    let columns = printer_for("", "LimitRange").columns();
    assert_eq!(columns[0].format, "name");
    assert_eq!(columns[1].type_, "date");
    assert_eq!(
        columns[1].description,
        descriptions::META_CREATION_TIMESTAMP
    );

    let limits = manifest("website/admin/resource/cpu-defaults.yaml", 0);
    let limits = merge(
        limits,
        json!({"metadata": {"creationTimestamp": "2024-04-30T08:15:00Z"}}),
    );
    assert_eq!(
        cells("", "LimitRange", &limits),
        ["cpu-limit-range", "2024-04-30T08:15:00Z"]
    );
    // The zero time of an object without a creation timestamp, as Go formats it.
    let role = json!({"kind": "Role", "metadata": {"name": "reader"}});
    assert_eq!(
        cells("rbac.authorization.k8s.io", "Role", &role),
        ["reader", "0001-01-01T00:00:00Z"]
    );
}

#[test]
fn status_printer_shows_a_watch_error() {
    assert_eq!(headers("", "Status"), ["Status", "Reason", "Message"]);
    let columns = printer_for("", "Status").columns();
    assert!(
        columns[0]
            .description
            .starts_with("Status of the operation.")
    );
    // Upstream looks the description up under `Message`, which is not a documented field.
    assert_eq!(columns[2].description, "");
    let status = json!({
        "kind": "Status", "apiVersion": "v1", "metadata": {},
        "status": "Failure", "reason": "Expired", "code": 410,
        "message": "too old resource version: 1 (5)",
    });
    assert_eq!(
        cells("", "Status", &status),
        ["Failure", "Expired", "too old resource version: 1 (5)"]
    );
}

#[test]
fn name_and_age_columns_are_upstreams() {
    let columns = printer_for("apps", "Deployment").columns();
    let name = &columns[0];
    assert_eq!(
        (
            name.name.as_str(),
            name.type_.as_str(),
            name.format.as_str()
        ),
        ("Name", "string", "name")
    );
    assert!(
        name.description
            .starts_with("Name must be unique within a namespace.")
    );
    let age = &columns[4];
    assert_eq!(
        (age.name.as_str(), age.type_.as_str(), age.format.as_str()),
        ("Age", "string", "")
    );
    assert!(age.description.ends_with("api-conventions.md#metadata"));
}

#[test]
fn an_object_that_does_not_decode_keeps_its_name_and_age() {
    let broken = json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": "web", "creationTimestamp": ago(300)},
        "spec": {"containers": "not a list"},
    });
    let printed = cells("", "Pod", &broken);
    assert_eq!(printed[0], "web");
    assert_eq!(printed[1], "<unknown>");
    assert_eq!(printed[4], "5m");
    assert!(printed[5..].iter().all(|c| c == "<unknown>"));
    // The wrong kind altogether: a list is not an object.
    assert_eq!(
        cells("apps", "Deployment", &json!([1, 2])),
        [
            "",
            "<unknown>",
            "<unknown>",
            "<unknown>",
            "<unknown>",
            "<unknown>",
            "<unknown>",
            "<unknown>"
        ]
    );
}

#[test]
fn table_holds_the_columns_rows_conditions_and_row_objects() {
    let running = json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": "web", "namespace": "default", "creationTimestamp": ago(45)},
        "spec": {"containers": [{"name": "c", "image": "nginx"}]},
        "status": {"phase": "Pending"},
    });
    let done = json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": "batch", "creationTimestamp": ago(7200)},
        "spec": {"containers": [{"name": "c", "image": "busybox"}], "restartPolicy": "Never"},
        "status": {"phase": "Succeeded", "containerStatuses": [{
            "name": "c", "image": "busybox", "imageID": "", "ready": false, "restartCount": 0,
            "state": {"terminated": {"exitCode": 0, "reason": "Completed"}}}]},
    });
    let partial = json!({"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1",
                         "metadata": {"name": "web", "namespace": "default"}});
    let table = table(
        printer_for("", "Pod"),
        [(&running, Some(partial.clone())), (&done, None)],
        now(),
    );
    let encoded = serde_json::to_value(&table).unwrap();
    assert_eq!(encoded["kind"], "Table");
    assert_eq!(encoded["apiVersion"], "meta.k8s.io/v1");
    assert_eq!(encoded["columnDefinitions"].as_array().unwrap().len(), 9);
    assert_eq!(
        encoded["columnDefinitions"][5],
        json!({"name": "IP", "type": "string", "format": "", "priority": 1,
               "description": descriptions::POD_STATUS_POD_IP})
    );
    assert_eq!(
        encoded["rows"][0],
        json!({"cells": ["web", "0/1", "Pending", "0", "45s", "<none>", "<none>", "<none>", "<none>"],
               "object": partial})
    );
    assert_eq!(
        encoded["rows"][1],
        json!({"cells": ["batch", "0/1", "Completed", "0", "120m", "<none>", "<none>", "<none>", "<none>"],
               "conditions": [{"type": "Completed", "status": "True", "reason": "Succeeded",
                               "message": "The pod has completed successfully."}]})
    );
}

#[test]
fn failed_pods_carry_a_completed_condition_too() {
    let failed = json!({"kind": "Pod", "metadata": {"name": "p"}, "status": {"phase": "Failed"}});
    let conditions = printer_for("", "Pod").conditions(&failed).unwrap();
    assert_eq!(conditions[0].reason.as_deref(), Some("Failed"));
    assert_eq!(conditions[0].message.as_deref(), Some("The pod failed."));
    let running = json!({"kind": "Pod", "metadata": {"name": "p"}, "status": {"phase": "Running"}});
    assert!(printer_for("", "Pod").conditions(&running).is_none());
    assert!(
        printer_for("apps", "Deployment")
            .conditions(&failed)
            .is_none()
    );
}

#[test]
fn format_labels_sorts_the_pairs_as_strings() {
    let labels = [("b", "2"), ("a", "1"), ("a.b", "3")]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
    // `a.b=3` sorts before `a=1`: upstream sorts the joined pairs, not the keys.
    assert_eq!(format_labels(Some(&labels)), "a.b=3,a=1,b=2");
    assert_eq!(format_labels(None), "<none>");
    assert_eq!(format_labels(Some(&SortedMap::new())), "<none>");
}

#[test]
fn ages_of_unset_and_future_timestamps() {
    assert_eq!(since(None, now()), "<unknown>");
    assert_eq!(since(Some(&Time::default()), now()), "<unknown>");
    let future = Time::parse("2024-05-01T12:00:30Z").unwrap();
    assert_eq!(since(Some(&future), now()), "<invalid>");
    let skew = Time::parse("2024-05-01T12:00:01Z").unwrap();
    assert_eq!(since(Some(&skew), now()), "0s");
}

#[test]
fn every_column_is_described_as_upstream_describes_it() {
    for (group, kind) in PRINTED {
        for column in printer_for(group, kind).columns() {
            let undocumented = *kind == "Status" && column.name == "Message";
            assert_eq!(
                column.description.is_empty(),
                undocumented,
                "{kind} {}",
                column.name
            );
            assert!(["string", "integer", "boolean", "date"].contains(&column.type_.as_str()));
        }
    }
    let description = |group, kind, column: &str| {
        printer_for(group, kind)
            .columns()
            .iter()
            .find(|c| c.name == column)
            .map(|c| c.description.clone())
            .unwrap()
    };
    assert_eq!(
        description("", "Pod", "Restarts"),
        "The number of times the containers in this pod have been restarted and when the last \
         container in this pod has restarted."
    );
    assert_eq!(
        description("", "ResourceQuota", "Limit"),
        "Limits control the maximum amount of cpu/memory that a container may use independent of \
         contention on the node."
    );
    assert_eq!(
        description("networking.k8s.io", "Ingress", "Class"),
        "The name of the IngressClass resource that should be used for additional configuration"
    );
    assert_eq!(
        description("", "Node", "Version"),
        "Kubelet Version reported by the node."
    );
    assert_eq!(
        description("apps", "ReplicaSet", "Ready"),
        "The number of ready replicas for this replica set."
    );
}

/// Every printer of the registry, by group and kind.
const PRINTED: &[(&str, &str)] = &[
    ("", "Pod"),
    ("", "PodTemplate"),
    ("", "Service"),
    ("", "Endpoints"),
    ("", "Node"),
    ("", "Event"),
    ("events.k8s.io", "Event"),
    ("", "Namespace"),
    ("", "Secret"),
    ("", "ConfigMap"),
    ("", "ServiceAccount"),
    ("", "PersistentVolume"),
    ("", "PersistentVolumeClaim"),
    ("", "ResourceQuota"),
    ("", "Status"),
    ("apps", "Deployment"),
    ("apps", "ReplicaSet"),
    ("apps", "DaemonSet"),
    ("apps", "StatefulSet"),
    ("apps", "ControllerRevision"),
    ("batch", "Job"),
    ("batch", "CronJob"),
    ("networking.k8s.io", "Ingress"),
    ("networking.k8s.io", "IngressClass"),
    ("discovery.k8s.io", "EndpointSlice"),
    ("coordination.k8s.io", "Lease"),
    ("storage.k8s.io", "StorageClass"),
    ("scheduling.k8s.io", "PriorityClass"),
    ("policy", "PodDisruptionBudget"),
    ("rbac.authorization.k8s.io", "RoleBinding"),
    ("rbac.authorization.k8s.io", "ClusterRoleBinding"),
    ("autoscaling", "Scale"),
    ("", "LimitRange"),
];

/// Arbitrary JSON, objects weighted toward the shapes printers look into.
fn arbitrary_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
        "[a-zA-Z0-9:/. -]{0,12}".prop_map(Value::String),
        Just(Value::String("2024-05-01T10:00:00Z".to_owned())),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map(
                prop_oneof![
                    Just("metadata".to_owned()),
                    Just("spec".to_owned()),
                    Just("status".to_owned()),
                    Just("name".to_owned()),
                    Just("creationTimestamp".to_owned()),
                    Just("containers".to_owned()),
                    Just("containerStatuses".to_owned()),
                    Just("ports".to_owned()),
                    Just("conditions".to_owned()),
                    "[a-z]{1,8}",
                ],
                inner,
                0..5,
            )
            .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

proptest! {
    #[test]
    fn printers_never_panic_and_always_fill_every_column(object in arbitrary_json()) {
        for (group, kind) in PRINTED {
            let printer = printer_for(group, kind);
            let cells = printer.cells(&object, now());
            prop_assert_eq!(cells.len(), printer.columns().len());
            let _ = printer.conditions(&object);
        }
    }
}
