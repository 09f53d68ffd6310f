//! Whole-object tests: minimal valid objects of every kind pass after defaulting, the corpus of
//! real manifests passes, and tables of invalid objects produce upstream's exact messages.
//!
//! The tables are written from upstream's sources (the message strings and the field paths), not
//! from this crate's output. An expected message may contain `…` where upstream prints a Go
//! `%#v` rendering of an internal struct that this crate can only approximate; the text on both
//! sides of the `…` must still match.

mod apps_cases;
mod batch_cases;
mod core_cases;
mod other_cases;
mod pod_cases;
mod service_cases;

use serde_json::{Value, json};

use super::{ErrorType, Validate};
use crate::defaults::SetDefaults;
use crate::manifest;

/// Decodes `value` as `K`, applies the defaults and validates it.
fn defaulted_errors<K>(value: &Value) -> Result<Vec<(ErrorType, String)>, String>
where
    K: serde::de::DeserializeOwned + SetDefaults + Validate,
{
    let decoded = manifest::from_value::<K>(value).map_err(|e| e.to_string())?;
    let mut object = decoded.object;
    object.set_defaults();
    Ok(object
        .validate()
        .iter()
        .map(|e| (e.error_type, e.to_string()))
        .collect())
}

/// Decodes, defaults and validates a JSON object of any kind this crate validates.
fn validate_json(value: &Value) -> Result<Vec<(ErrorType, String)>, String> {
    use crate::{
        apps, batch, coordination, core, discovery, events, networking, policy, rbac, scheduling,
        storage,
    };
    let api_version = value
        .get("apiVersion")
        .and_then(Value::as_str)
        .unwrap_or("");
    let kind = value.get("kind").and_then(Value::as_str).unwrap_or("");
    match (api_version, kind) {
        ("v1", "Namespace") => defaulted_errors::<core::v1::Namespace>(value),
        ("v1", "Pod") => defaulted_errors::<core::v1::Pod>(value),
        ("v1", "PodTemplate") => defaulted_errors::<core::v1::PodTemplate>(value),
        ("v1", "Binding") => defaulted_errors::<core::v1::Binding>(value),
        ("v1", "Service") => defaulted_errors::<core::v1::Service>(value),
        ("v1", "Endpoints") => defaulted_errors::<core::v1::Endpoints>(value),
        ("v1", "ConfigMap") => defaulted_errors::<core::v1::ConfigMap>(value),
        ("v1", "Secret") => defaulted_errors::<core::v1::Secret>(value),
        ("v1", "Node") => defaulted_errors::<core::v1::Node>(value),
        ("v1", "ServiceAccount") => defaulted_errors::<core::v1::ServiceAccount>(value),
        ("v1", "Event") => defaulted_errors::<core::v1::Event>(value),
        ("v1", "LimitRange") => defaulted_errors::<core::v1::LimitRange>(value),
        ("v1", "ResourceQuota") => defaulted_errors::<core::v1::ResourceQuota>(value),
        ("v1", "PersistentVolumeClaim") => {
            defaulted_errors::<core::v1::PersistentVolumeClaim>(value)
        }
        ("v1", "PersistentVolume") => defaulted_errors::<core::v1::PersistentVolume>(value),
        ("apps/v1", "Deployment") => defaulted_errors::<apps::v1::Deployment>(value),
        ("apps/v1", "ReplicaSet") => defaulted_errors::<apps::v1::ReplicaSet>(value),
        ("apps/v1", "DaemonSet") => defaulted_errors::<apps::v1::DaemonSet>(value),
        ("apps/v1", "StatefulSet") => defaulted_errors::<apps::v1::StatefulSet>(value),
        ("apps/v1", "ControllerRevision") => {
            defaulted_errors::<apps::v1::ControllerRevision>(value)
        }
        ("batch/v1", "Job") => defaulted_errors::<batch::v1::Job>(value),
        ("batch/v1", "CronJob") => defaulted_errors::<batch::v1::CronJob>(value),
        ("networking.k8s.io/v1", "Ingress") => defaulted_errors::<networking::v1::Ingress>(value),
        ("networking.k8s.io/v1", "IngressClass") => {
            defaulted_errors::<networking::v1::IngressClass>(value)
        }
        ("discovery.k8s.io/v1", "EndpointSlice") => {
            defaulted_errors::<discovery::v1::EndpointSlice>(value)
        }
        ("coordination.k8s.io/v1", "Lease") => defaulted_errors::<coordination::v1::Lease>(value),
        ("storage.k8s.io/v1", "StorageClass") => {
            defaulted_errors::<storage::v1::StorageClass>(value)
        }
        ("scheduling.k8s.io/v1", "PriorityClass") => {
            defaulted_errors::<scheduling::v1::PriorityClass>(value)
        }
        ("policy/v1", "PodDisruptionBudget") => {
            defaulted_errors::<policy::v1::PodDisruptionBudget>(value)
        }
        ("policy/v1", "Eviction") => defaulted_errors::<policy::v1::Eviction>(value),
        ("events.k8s.io/v1", "Event") => defaulted_errors::<events::v1::Event>(value),
        ("rbac.authorization.k8s.io/v1", "Role") => defaulted_errors::<rbac::v1::Role>(value),
        ("rbac.authorization.k8s.io/v1", "ClusterRole") => {
            defaulted_errors::<rbac::v1::ClusterRole>(value)
        }
        ("rbac.authorization.k8s.io/v1", "RoleBinding") => {
            defaulted_errors::<rbac::v1::RoleBinding>(value)
        }
        ("rbac.authorization.k8s.io/v1", "ClusterRoleBinding") => {
            defaulted_errors::<rbac::v1::ClusterRoleBinding>(value)
        }
        _ => Err(format!("not validated here: {api_version} {kind}")),
    }
}

/// RFC 7386 JSON merge patch: objects merge key by key, `null` deletes, anything else replaces.
fn merge(base: &Value, patch: &Value) -> Value {
    match (base, patch) {
        (Value::Object(b), Value::Object(p)) => {
            let mut out = b.clone();
            for (k, v) in p {
                if v.is_null() {
                    out.remove(k);
                } else {
                    let merged = match out.get(k) {
                        Some(existing) => merge(existing, v),
                        None => merge(&Value::Null, v),
                    };
                    out.insert(k.clone(), merged);
                }
            }
            Value::Object(out)
        }
        (_, Value::Object(_)) => merge(&json!({}), patch),
        (_, p) => p.clone(),
    }
}

/// One row of a table: an object and the errors upstream reports for it, in upstream's order.
struct Case {
    name: &'static str,
    object: Value,
    expected: Vec<(ErrorType, String)>,
}

/// Builds a [`Case`].
fn case(name: &'static str, object: Value, expected: Vec<(ErrorType, String)>) -> Case {
    Case {
        name,
        object,
        expected,
    }
}

/// One expected error.
fn e(error_type: ErrorType, message: impl Into<String>) -> (ErrorType, String) {
    (error_type, message.into())
}

/// Whether `actual` equals `expected`, where `…` in `expected` stands for any text.
fn text_matches(expected: &str, actual: &str) -> bool {
    let parts: Vec<&str> = expected.split('…').collect();
    if parts.len() == 1 {
        return expected == actual;
    }
    let first = parts[0];
    let last = parts[parts.len() - 1];
    if !actual.starts_with(first) || !actual[first.len()..].ends_with(last) {
        return false;
    }
    let mut rest = &actual[first.len()..actual.len() - last.len()];
    for middle in &parts[1..parts.len() - 1] {
        match rest.find(middle) {
            Some(at) => rest = &rest[at + middle.len()..],
            None => return false,
        }
    }
    true
}

/// Runs a table, reporting every mismatching row at once.
fn run(cases: Vec<Case>) {
    let mut failures = Vec::new();
    for c in &cases {
        match validate_json(&c.object) {
            Err(err) => failures.push(format!("{}: decode failed: {err}", c.name)),
            Ok(actual) => {
                let same = actual.len() == c.expected.len()
                    && actual
                        .iter()
                        .zip(&c.expected)
                        .all(|((at, a), (et, e))| at == et && text_matches(e, a));
                if !same {
                    let show = |v: &[(ErrorType, String)]| {
                        v.iter()
                            .map(|(t, s)| format!("    {t:?}: {s}"))
                            .collect::<Vec<_>>()
                            .join("\n")
                    };
                    failures.push(format!(
                        "{}:\n  expected:\n{}\n  actual:\n{}",
                        c.name,
                        show(&c.expected),
                        show(&actual)
                    ));
                }
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

// Upstream's regex hints, spelled out once.

const DNS_LABEL_MSG: &str = "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";
const DNS_SUBDOMAIN_MSG: &str = "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
const DNS1035_MSG: &str = "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')";
const QNAME_MSG: &str = "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')";
const LABEL_VALUE_MSG: &str = "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')";
const CM_KEY_MSG: &str = "a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')";
const PERCENT_MSG: &str = "a valid percent string must be a numeric string followed by an ending '%' (e.g. '1%',  or '93%', regex used for validation is '[0-9]+%')";
const PORT_RANGE_MSG: &str = "must be between 1 and 65535, inclusive";

// Minimal valid objects of every kind.

fn container() -> Value {
    json!({"name": "c", "image": "nginx:1.27"})
}

fn pod_spec() -> Value {
    json!({"containers": [container()]})
}

fn template() -> Value {
    json!({"metadata": {"labels": {"app": "web"}}, "spec": pod_spec()})
}

fn pod() -> Value {
    json!({"apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": "p", "namespace": "default"}, "spec": pod_spec()})
}

/// The minimal pod with its only container patched.
fn pod_c(container_patch: Value) -> Value {
    merge(
        &pod(),
        &json!({"spec": {"containers": [merge(&container(), &container_patch)]}}),
    )
}

fn deployment() -> Value {
    json!({"apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "default"},
        "spec": {"selector": {"matchLabels": {"app": "web"}}, "template": template()}})
}

fn replica_set() -> Value {
    json!({"apiVersion": "apps/v1", "kind": "ReplicaSet",
        "metadata": {"name": "web", "namespace": "default"},
        "spec": {"selector": {"matchLabels": {"app": "web"}}, "template": template()}})
}

fn daemon_set() -> Value {
    json!({"apiVersion": "apps/v1", "kind": "DaemonSet",
        "metadata": {"name": "web", "namespace": "default"},
        "spec": {"selector": {"matchLabels": {"app": "web"}}, "template": template()}})
}

fn stateful_set() -> Value {
    json!({"apiVersion": "apps/v1", "kind": "StatefulSet",
        "metadata": {"name": "web", "namespace": "default"},
        "spec": {"serviceName": "web", "selector": {"matchLabels": {"app": "web"}},
            "template": template()}})
}

fn job_template() -> Value {
    json!({"spec": {"restartPolicy": "Never", "containers": [container()]}})
}

fn job() -> Value {
    json!({"apiVersion": "batch/v1", "kind": "Job",
        "metadata": {"name": "pi", "namespace": "default"},
        "spec": {"template": job_template()}})
}

fn cron_job() -> Value {
    json!({"apiVersion": "batch/v1", "kind": "CronJob",
        "metadata": {"name": "hello", "namespace": "default"},
        "spec": {"schedule": "*/5 * * * *", "jobTemplate": {"spec": {"template": job_template()}}}})
}

fn service() -> Value {
    json!({"apiVersion": "v1", "kind": "Service",
        "metadata": {"name": "web", "namespace": "default"},
        "spec": {"selector": {"app": "web"}, "ports": [{"port": 80}]}})
}

fn ingress() -> Value {
    json!({"apiVersion": "networking.k8s.io/v1", "kind": "Ingress",
        "metadata": {"name": "web", "namespace": "default"},
        "spec": {"defaultBackend": {"service": {"name": "web", "port": {"number": 80}}}}})
}

/// An Ingress with one rule holding one path.
fn ingress_path(path: Value) -> Value {
    let base = json!({"path": "/", "pathType": "Prefix",
        "backend": {"service": {"name": "web", "port": {"number": 80}}}});
    merge(
        &ingress(),
        &json!({"spec": {"defaultBackend": null,
            "rules": [{"host": "example.com", "http": {"paths": [merge(&base, &path)]}}]}}),
    )
}

fn minimal_objects() -> Vec<Value> {
    vec![
        json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "team-a"}}),
        pod(),
        json!({"apiVersion": "v1", "kind": "PodTemplate",
            "metadata": {"name": "t", "namespace": "default"}, "template": template()}),
        json!({"apiVersion": "v1", "kind": "Binding",
            "metadata": {"name": "p", "namespace": "default"},
            "target": {"kind": "Node", "name": "node-1"}}),
        service(),
        json!({"apiVersion": "v1", "kind": "Service",
            "metadata": {"name": "db", "namespace": "default"},
            "spec": {"clusterIP": "None", "selector": {"app": "db"}}}),
        json!({"apiVersion": "v1", "kind": "Service",
            "metadata": {"name": "ext", "namespace": "default"},
            "spec": {"type": "ExternalName", "externalName": "db.example.com"}}),
        json!({"apiVersion": "v1", "kind": "Service",
            "metadata": {"name": "lb", "namespace": "default"},
            "spec": {"type": "LoadBalancer", "selector": {"app": "web"},
                "ports": [{"name": "http", "port": 80, "targetPort": "http"},
                          {"name": "https", "port": 443, "targetPort": 8443}]}}),
        json!({"apiVersion": "v1", "kind": "Endpoints",
            "metadata": {"name": "web", "namespace": "default"},
            "subsets": [{"addresses": [{"ip": "10.0.0.1"}], "ports": [{"port": 80}]}]}),
        json!({"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "cfg", "namespace": "default"},
            "data": {"app.properties": "a=b"}, "binaryData": {"blob": "AAE="}}),
        json!({"apiVersion": "v1", "kind": "Secret",
            "metadata": {"name": "s", "namespace": "default"},
            "stringData": {"password": "hunter2"}}),
        json!({"apiVersion": "v1", "kind": "Secret",
            "metadata": {"name": "tls", "namespace": "default"}, "type": "kubernetes.io/tls",
            "data": {"tls.crt": "Y2VydA==", "tls.key": "a2V5"}}),
        json!({"apiVersion": "v1", "kind": "Secret",
            "metadata": {"name": "reg", "namespace": "default"},
            "type": "kubernetes.io/dockerconfigjson",
            "data": {".dockerconfigjson": "eyJhdXRocyI6e319"}}),
        json!({"apiVersion": "v1", "kind": "Node", "metadata": {"name": "node-1"},
            "spec": {"podCIDR": "10.244.0.0/24",
                "taints": [{"key": "dedicated", "value": "gpu", "effect": "NoSchedule"}]}}),
        json!({"apiVersion": "v1", "kind": "ServiceAccount",
            "metadata": {"name": "builder", "namespace": "default"}}),
        json!({"apiVersion": "v1", "kind": "Event",
            "metadata": {"name": "p.17", "namespace": "default"},
            "involvedObject": {"kind": "Pod", "namespace": "default", "name": "p"},
            "reason": "Started", "message": "Started container", "type": "Normal"}),
        json!({"apiVersion": "v1", "kind": "LimitRange",
            "metadata": {"name": "limits", "namespace": "default"},
            "spec": {"limits": [{"type": "Container", "max": {"cpu": "2"},
                "min": {"cpu": "100m"}, "default": {"cpu": "500m"}}]}}),
        json!({"apiVersion": "v1", "kind": "ResourceQuota",
            "metadata": {"name": "quota", "namespace": "default"},
            "spec": {"hard": {"pods": "10", "requests.cpu": "4", "count/deployments.apps": "5"}}}),
        json!({"apiVersion": "v1", "kind": "PersistentVolumeClaim",
            "metadata": {"name": "data", "namespace": "default"},
            "spec": {"accessModes": ["ReadWriteOnce"],
                "resources": {"requests": {"storage": "1Gi"}}}}),
        json!({"apiVersion": "v1", "kind": "PersistentVolume", "metadata": {"name": "pv-1"},
            "spec": {"capacity": {"storage": "1Gi"}, "accessModes": ["ReadWriteOnce"],
                "hostPath": {"path": "/mnt/data"}}}),
        deployment(),
        replica_set(),
        daemon_set(),
        stateful_set(),
        json!({"apiVersion": "apps/v1", "kind": "ControllerRevision",
            "metadata": {"name": "web-5d4f", "namespace": "default"}, "data": {}, "revision": 1}),
        job(),
        cron_job(),
        json!({"apiVersion": "batch/v1", "kind": "CronJob",
            "metadata": {"name": "nightly", "namespace": "default"},
            "spec": {"schedule": "@daily", "timeZone": "Europe/Paris",
                "jobTemplate": {"spec": {"template": job_template()}}}}),
        ingress(),
        ingress_path(json!({})),
        json!({"apiVersion": "networking.k8s.io/v1", "kind": "IngressClass",
            "metadata": {"name": "nginx"}, "spec": {"controller": "k8s.io/ingress-nginx"}}),
        json!({"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
            "metadata": {"name": "web-abc", "namespace": "default"}, "addressType": "IPv4",
            "endpoints": [{"addresses": ["10.0.0.1"]}], "ports": [{"name": "http", "port": 80}]}),
        json!({"apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
            "metadata": {"name": "leader", "namespace": "default"},
            "spec": {"holderIdentity": "a", "leaseDurationSeconds": 15}}),
        json!({"apiVersion": "storage.k8s.io/v1", "kind": "StorageClass",
            "metadata": {"name": "standard"}, "provisioner": "kubernetes.io/no-provisioner"}),
        json!({"apiVersion": "scheduling.k8s.io/v1", "kind": "PriorityClass",
            "metadata": {"name": "high"}, "value": 1000}),
        json!({"apiVersion": "scheduling.k8s.io/v1", "kind": "PriorityClass",
            "metadata": {"name": "system-node-critical"}, "value": 2000001000}),
        json!({"apiVersion": "policy/v1", "kind": "PodDisruptionBudget",
            "metadata": {"name": "web", "namespace": "default"},
            "spec": {"minAvailable": 1, "selector": {"matchLabels": {"app": "web"}}}}),
        json!({"apiVersion": "policy/v1", "kind": "Eviction",
            "metadata": {"name": "p", "namespace": "default"}}),
        json!({"apiVersion": "events.k8s.io/v1", "kind": "Event",
            "metadata": {"name": "p.17", "namespace": "default"},
            "eventTime": "2024-05-01T10:00:00.000000Z",
            "reportingController": "example.com/controller", "reportingInstance": "ctrl-1",
            "action": "Create", "reason": "Created", "type": "Normal",
            "regarding": {"kind": "Pod", "namespace": "default", "name": "p"}}),
        json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role",
            "metadata": {"name": "reader", "namespace": "default"},
            "rules": [{"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "list"]}]}),
        json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
            "metadata": {"name": "system:health"},
            "rules": [{"nonResourceURLs": ["/healthz"], "verbs": ["get"]}]}),
        json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
            "metadata": {"name": "read", "namespace": "default"},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "reader"},
            "subjects": [{"kind": "ServiceAccount", "name": "builder"},
                         {"kind": "User", "name": "jane"}]}),
        json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
            "metadata": {"name": "health"},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole",
                "name": "system:health"},
            "subjects": [{"kind": "Group", "name": "system:authenticated"},
                         {"kind": "ServiceAccount", "name": "builder", "namespace": "default"}]}),
    ]
}

#[test]
fn minimal_objects_of_every_kind_are_valid() {
    let mut failures = Vec::new();
    let mut kinds = std::collections::BTreeSet::new();
    for object in minimal_objects() {
        let kind = format!("{} {}", object["apiVersion"], object["kind"]);
        kinds.insert(kind.clone());
        match validate_json(&object) {
            Ok(errs) if errs.is_empty() => {}
            Ok(errs) => failures.push(format!("{kind} {}: {errs:?}", object["metadata"]["name"])),
            Err(err) => failures.push(format!("{kind}: {err}")),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert_eq!(
        kinds.len(),
        35,
        "every kind has a minimal object: {kinds:?}"
    );
}

// The corpus of real manifests is checked end to end (decode, default, validate, round trip,
// schema) in `tests/manifests.rs`.

#[test]
fn odd_input_does_not_panic() {
    let odd_strings = [
        "",
        " ",
        "é",
        "日本",
        "a\u{0}b",
        "..",
        "/",
        "-",
        "*",
        "%2f",
        "TZ=",
        "CRON_TZ=x",
        "@every",
        "@every -1s",
        "1e400",
        "-0",
        "99999999999999999999Gi",
        "::",
        "[::1]",
        "0x10",
        "1.2.3.4/99",
    ];
    let mut checked = 0;
    for base in minimal_objects() {
        for odd in odd_strings {
            // Every string field of the object, in turn, set to the odd value.
            let mut stack = vec![(Vec::<String>::new(), base.clone())];
            while let Some((path, value)) = stack.pop() {
                match &value {
                    Value::Object(map) => {
                        for (k, v) in map {
                            let mut p = path.clone();
                            p.push(k.clone());
                            stack.push((p, v.clone()));
                        }
                    }
                    Value::String(_)
                        if path.first().map(String::as_str) != Some("apiVersion")
                            && path.first().map(String::as_str) != Some("kind") =>
                    {
                        let mut patch = json!(odd);
                        for k in path.iter().rev() {
                            patch = json!({ k.as_str(): patch });
                        }
                        // Decoding may fail (the odd string is no quantity); what matters is
                        // that validation of whatever decodes never panics.
                        let _ = validate_json(&merge(&base, &patch));
                        checked += 1;
                    }
                    _ => {}
                }
            }
        }
        for n in [i64::MIN, -1, 0, i64::from(i32::MAX) + 1, i64::MAX] {
            let patched = merge(
                &base,
                &json!({"spec": {"replicas": n, "ports": [{"port": n}], "value": n}}),
            );
            let _ = validate_json(&patched);
        }
    }
    assert!(checked > 1000);
}
