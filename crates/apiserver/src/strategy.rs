//! Per-kind rules of upstream's registry strategies, on JSON objects: what the server sets on
//! create (`PrepareForCreate`: initial status, generation, system fields), what an update
//! keeps from the stored object (`PrepareForUpdate`: status behind a status subresource,
//! generation bumps on spec changes), what a `/status` update may change, and the update
//! validation that makes fields immutable.

use kubernaut_api_types::Quantity;
use kubernaut_api_types::validate::{FieldError, Path};
use serde_json::{Map, Value, json};

use crate::object;
use crate::resources::ResourceSpec;

/// Upstream's `PrepareForCreate` plus `BeforeCreate`'s system fields: a new uid and creation
/// time, no deletion fields, the name from `generateName`, generation 1 where tracked, and the
/// kind's initial status.
pub fn prepare_for_create(
    spec: &ResourceSpec,
    obj: &mut Value,
    namespace: Option<&str>,
    now: &str,
) {
    let generate_name;
    {
        let meta = object::meta_mut(obj);
        meta.remove("deletionTimestamp");
        meta.remove("deletionGracePeriodSeconds");
        meta.remove("resourceVersion");
        meta.remove("selfLink");
        meta.insert("uid".into(), Value::String(object::new_uid()));
        meta.insert("creationTimestamp".into(), Value::String(now.to_owned()));
        match namespace {
            Some(ns) if spec.namespaced() => {
                meta.insert("namespace".into(), Value::String(ns.to_owned()));
            }
            _ => {
                meta.remove("namespace");
            }
        }
        if spec.generation {
            meta.insert("generation".into(), json!(1));
        }
        generate_name = match (
            meta.get("name").and_then(Value::as_str),
            meta.get("generateName"),
        ) {
            (None | Some(""), Some(Value::String(prefix))) if !prefix.is_empty() => {
                Some(prefix.clone())
            }
            _ => None,
        };
    }
    if let Some(prefix) = generate_name {
        object::meta_mut(obj).insert("name".into(), Value::String(object::generate_name(&prefix)));
    }
    if spec.status_subresource {
        initial_status(spec, obj);
    }
}

/// The status a new object starts with, as the kind's strategy sets it.
fn initial_status(spec: &ResourceSpec, obj: &mut Value) {
    let status = match (spec.api.group.as_str(), spec.api.kind.as_str()) {
        // A node registers with its status (the kubelet creates it).
        ("", "Node") => return,
        ("", "Pod") => json!({"phase": "Pending", "qosClass": qos_class(obj)}),
        ("", "Namespace") => {
            // On create the `kubernetes` finalizer is required.
            let finalizers = object::get_path(obj, &["spec", "finalizers"])
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            if !finalizers.iter().any(|f| f == "kubernetes") {
                let mut all = finalizers;
                all.push(json!("kubernetes"));
                object::set_path(obj, &["spec", "finalizers"], Value::Array(all));
            }
            json!({"phase": "Active"})
        }
        ("", "PersistentVolume" | "PersistentVolumeClaim") => json!({"phase": "Pending"}),
        ("", "Service") => json!({"loadBalancer": {}}),
        _ => json!({}),
    };
    if let Value::Object(map) = obj {
        map.insert("status".into(), status);
    }
}

/// Upstream's `BeforeUpdate` and `PrepareForUpdate`: the system fields, generation and (behind
/// a status subresource) the status come from the stored object; generation moves on when the
/// spec changed.
pub fn prepare_for_update(spec: &ResourceSpec, new: &mut Value, old: &Value) {
    let old_meta = object::meta(old).cloned().unwrap_or_default();
    {
        let meta = object::meta_mut(new);
        for field in ["creationTimestamp", "deletionTimestamp", "generation"] {
            match old_meta.get(field) {
                Some(v) => meta.insert(field.into(), v.clone()),
                None => meta.remove(field),
            };
        }
        if meta
            .get("uid")
            .and_then(Value::as_str)
            .is_none_or(str::is_empty)
            && let Some(uid) = old_meta.get("uid")
        {
            meta.insert("uid".into(), uid.clone());
        }
        if !meta.contains_key("deletionGracePeriodSeconds")
            && let Some(g) = old_meta.get("deletionGracePeriodSeconds")
        {
            meta.insert("deletionGracePeriodSeconds".into(), g.clone());
        }
        meta.remove("selfLink");
    }
    if spec.status_subresource
        && let Value::Object(map) = new
    {
        match old.get("status") {
            Some(s) => map.insert("status".into(), s.clone()),
            None => map.remove("status"),
        };
    }
    if spec.generation && new.get("spec") != old.get("spec") {
        let generation = old_meta
            .get("generation")
            .and_then(Value::as_i64)
            .unwrap_or(0)
            + 1;
        object::meta_mut(new).insert("generation".into(), json!(generation));
    }
}

/// A `/status` update: everything but the status comes from the stored object (upstream's
/// status strategies reset spec and `ResetObjectMetaForStatus` the metadata).
pub fn prepare_for_status_update(new: &mut Value, old: &Value) {
    let status = new.get("status").cloned();
    let mut merged = old.clone();
    if let Value::Object(map) = &mut merged {
        match status {
            Some(s) => map.insert("status".into(), s),
            None => map.remove("status"),
        };
    }
    *new = merged;
}

/// Upstream's update validation: immutable metadata and the fields each kind's
/// `ValidateUpdate` refuses to change.
pub fn validate_update(spec: &ResourceSpec, new: &Value, old: &Value) -> Vec<FieldError> {
    let mut errors = Vec::new();
    let meta = Path::new("metadata");
    let new_meta = object::meta(new);
    let old_meta = object::meta(old);
    let field = |m: Option<&Map<String, Value>>, f: &str| m.and_then(|m| m.get(f)).cloned();
    for f in ["name", "namespace", "uid"] {
        let (n, o) = (field(new_meta, f), field(old_meta, f));
        if (spec.namespaced() || f != "namespace") && n != o {
            errors.push(FieldError::invalid(
                &meta.child(f),
                n.as_ref().map_or(String::new(), value_text),
                "field is immutable",
            ));
        }
    }
    let spec_path = Path::new("spec");
    match (spec.api.group.as_str(), spec.api.kind.as_str()) {
        ("", "Pod") if pod_spec_without_mutable(new) != pod_spec_without_mutable(old) => {
            errors.push(FieldError::forbidden(
                &spec_path,
                "pod updates may not change fields other than `spec.containers[*].image`,\
                 `spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,\
                 `spec.tolerations` (only additions to existing tolerations),\
                 `spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was \
                 previously negative)",
            ));
        }
        ("apps", "Deployment" | "ReplicaSet" | "DaemonSet") => {
            immutable(&mut errors, new, old, &["spec", "selector"]);
        }
        ("apps", "StatefulSet") => {
            let strip = |v: &Value| {
                let mut s = v.get("spec").cloned().unwrap_or(Value::Null);
                if let Value::Object(m) = &mut s {
                    for f in [
                        "replicas",
                        "ordinals",
                        "template",
                        "updateStrategy",
                        "persistentVolumeClaimRetentionPolicy",
                        "minReadySeconds",
                    ] {
                        m.remove(f);
                    }
                }
                s
            };
            if strip(new) != strip(old) {
                errors.push(FieldError::forbidden(
                    &spec_path,
                    "updates to statefulset spec for fields other than 'replicas', 'ordinals', \
                     'template', 'updateStrategy', 'persistentVolumeClaimRetentionPolicy' and \
                     'minReadySeconds' are forbidden",
                ));
            }
        }
        ("batch", "Job") => {
            immutable(&mut errors, new, old, &["spec", "selector"]);
            immutable(&mut errors, new, old, &["spec", "completionMode"]);
        }
        ("", "Service") => {
            let ip = |v: &Value| {
                object::get_path(v, &["spec", "clusterIP"])
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_owned()
            };
            let (n, o) = (ip(new), ip(old));
            // Changing to or from ExternalName clears the IP; otherwise it stays.
            let external = |v: &Value| {
                object::get_path(v, &["spec", "type"]).and_then(Value::as_str)
                    == Some("ExternalName")
            };
            if !o.is_empty() && n != o && !external(new) && !external(old) {
                errors.push(FieldError::invalid(
                    &spec_path.child("clusterIPs").index(0),
                    n,
                    "may not change once set",
                ));
            }
        }
        ("", "ConfigMap" | "Secret") => {
            if old.get("immutable") == Some(&Value::Bool(true)) {
                for f in ["data", "binaryData", "stringData"] {
                    if new.get(f) != old.get(f) {
                        errors.push(FieldError::forbidden(
                            &Path::new(f),
                            "field is immutable when `immutable` is set",
                        ));
                    }
                }
                if new.get("immutable") != old.get("immutable") {
                    errors.push(FieldError::forbidden(
                        &Path::new("immutable"),
                        "field is immutable when `immutable` is set",
                    ));
                }
            }
            if spec.api.kind == "Secret" {
                let ty = |v: &Value| v.get("type").cloned().unwrap_or(json!("Opaque"));
                if ty(new) != ty(old) {
                    errors.push(FieldError::invalid(
                        &Path::new("type"),
                        value_text(&ty(new)),
                        "field is immutable",
                    ));
                }
            }
        }
        _ => {}
    }
    errors
}

fn immutable(errors: &mut Vec<FieldError>, new: &Value, old: &Value, path: &[&str]) {
    let (n, o) = (object::get_path(new, path), object::get_path(old, path));
    if n != o {
        let mut p = Path::new(path[0]);
        for part in &path[1..] {
            p = p.child(part);
        }
        errors.push(FieldError::invalid(
            &p,
            n.map_or(String::new(), value_text),
            "field is immutable",
        ));
    }
}

fn value_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// A pod spec with the fields an update may change blanked out.
fn pod_spec_without_mutable(pod: &Value) -> Value {
    let mut s = pod.get("spec").cloned().unwrap_or(Value::Null);
    if let Value::Object(m) = &mut s {
        m.remove("activeDeadlineSeconds");
        m.remove("tolerations");
        m.remove("terminationGracePeriodSeconds");
        for list in ["containers", "initContainers"] {
            if let Some(Value::Array(items)) = m.get_mut(list) {
                for c in items {
                    if let Value::Object(c) = c {
                        c.remove("image");
                    }
                }
            }
        }
    }
    s
}

/// The pod's quality-of-service class from its containers' CPU and memory requests and
/// limits (upstream `qos.GetPodQOS`).
pub fn qos_class(pod: &Value) -> &'static str {
    let containers = ["containers", "initContainers"]
        .iter()
        .filter_map(|l| object::get_path(pod, &["spec", l]).and_then(Value::as_array))
        .flatten();
    let quantity = |c: &Value, kind: &str, res: &str| -> Option<Quantity> {
        object::get_path(c, &["resources", kind, res])
            .and_then(Value::as_str)
            .and_then(|s| s.parse().ok())
    };
    let mut any = false;
    let mut guaranteed = true;
    for c in containers {
        for res in ["cpu", "memory"] {
            let request = quantity(c, "requests", res).filter(|q| !q.is_zero());
            let limit = quantity(c, "limits", res).filter(|q| !q.is_zero());
            if request.is_some() || limit.is_some() {
                any = true;
            }
            match (&request, &limit) {
                (_, None) => guaranteed = false,
                (Some(r), Some(l)) if r != l => guaranteed = false,
                _ => {}
            }
        }
    }
    match (any, guaranteed) {
        (false, _) => "BestEffort",
        (true, true) => "Guaranteed",
        (true, false) => "Burstable",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resources::Resources;
    use kubernaut_api_types::scheme::Scheme;

    fn spec(group: &str, plural: &str) -> std::sync::Arc<ResourceSpec> {
        std::sync::Arc::clone(
            Resources::from_scheme(&Scheme::builtin())
                .get(group, plural)
                .unwrap(),
        )
    }

    #[test]
    fn create_sets_system_fields_generation_and_initial_status() {
        let s = spec("apps", "deployments");
        let mut d = json!({"metadata": {"generateName": "web-", "resourceVersion": "3",
            "deletionTimestamp": "2020-01-01T00:00:00Z"}, "spec": {}, "status": {"replicas": 9}});
        prepare_for_create(&s, &mut d, Some("ns"), "2024-01-01T00:00:00Z");
        let m = &d["metadata"];
        assert!(m["name"].as_str().unwrap().starts_with("web-"));
        assert_eq!(m["namespace"], "ns");
        assert_eq!(m["generation"], 1);
        assert_eq!(m["uid"].as_str().unwrap().len(), 36);
        assert!(m.get("resourceVersion").is_none() && m.get("deletionTimestamp").is_none());
        assert_eq!(d["status"], json!({}));

        let mut ns = json!({"metadata": {"name": "x"}});
        prepare_for_create(&spec("", "namespaces"), &mut ns, None, "t");
        assert_eq!(ns["spec"]["finalizers"], json!(["kubernetes"]));
        assert_eq!(ns["status"]["phase"], "Active");
        assert!(ns["metadata"].get("namespace").is_none());
    }

    #[test]
    fn updates_keep_status_and_bump_generation_on_spec_changes_only() {
        let s = spec("apps", "deployments");
        let old = json!({"metadata": {"name": "d", "uid": "u", "generation": 4,
            "creationTimestamp": "t0"}, "spec": {"replicas": 1}, "status": {"replicas": 1}});
        let mut new = json!({"metadata": {"name": "d", "labels": {"a": "b"}},
            "spec": {"replicas": 1}, "status": {"replicas": 7}});
        prepare_for_update(&s, &mut new, &old);
        assert_eq!(new["status"], old["status"]);
        assert_eq!(new["metadata"]["generation"], 4);
        assert_eq!(new["metadata"]["uid"], "u");
        new["spec"]["replicas"] = json!(3);
        prepare_for_update(&s, &mut new, &old);
        assert_eq!(new["metadata"]["generation"], 5);
    }

    #[test]
    fn status_updates_change_only_status() {
        let old = json!({"metadata": {"name": "d", "labels": {"a": "b"}}, "spec": {"x": 1}});
        let mut new = json!({"metadata": {"name": "d"}, "spec": {"x": 2}, "status": {"ok": true}});
        prepare_for_status_update(&mut new, &old);
        assert_eq!(
            new,
            json!({"metadata": {"name": "d", "labels": {"a": "b"}},
            "spec": {"x": 1}, "status": {"ok": true}})
        );
    }

    #[test]
    fn pod_updates_may_change_images_only() {
        let s = spec("", "pods");
        let old = json!({"metadata": {"name": "p"}, "spec": {"containers": [{"name": "c", "image": "a"}]}});
        let image = json!({"metadata": {"name": "p"}, "spec": {"containers": [{"name": "c", "image": "b"}]}});
        assert!(validate_update(&s, &image, &old).is_empty());
        let port = json!({"metadata": {"name": "p"}, "spec": {"containers": [{"name": "c", "image": "a", "ports": [{"containerPort": 80}]}]}});
        let errors = validate_update(&s, &port, &old);
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].field.to_string(), "spec");
    }

    #[test]
    fn selectors_and_uids_are_immutable() {
        let s = spec("apps", "deployments");
        let old = json!({"metadata": {"name": "d", "uid": "u"}, "spec": {"selector": {"matchLabels": {"a": "b"}}}});
        let new = json!({"metadata": {"name": "d", "uid": "v"}, "spec": {"selector": {"matchLabels": {"a": "c"}}}});
        let fields: Vec<String> = validate_update(&s, &new, &old)
            .iter()
            .map(|e| e.field.to_string())
            .collect();
        assert_eq!(fields, ["metadata.uid", "spec.selector"]);
    }

    #[test]
    fn qos_classes_follow_requests_and_limits() {
        let pod = |res: Value| json!({"spec": {"containers": [{"name": "c", "resources": res}]}});
        assert_eq!(qos_class(&pod(json!({}))), "BestEffort");
        assert_eq!(
            qos_class(&pod(json!({"requests": {"cpu": "100m"}}))),
            "Burstable"
        );
        let g = json!({"requests": {"cpu": "1", "memory": "1Gi"}, "limits": {"cpu": "1000m", "memory": "1Gi"}});
        assert_eq!(qos_class(&pod(g)), "Guaranteed");
    }
}
