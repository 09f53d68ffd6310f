//! Every kind's JSON Schema (from schemars, i.e. from the Rust types) against the upstream v1.32
//! API definition in `codegen/spec-v1.32.json`: the same properties at every depth, the same
//! JSON types, the same required fields, and the same Kubernetes extensions (list types, map
//! keys, strategic-merge keys and strategies). A field upstream has and we do not — or the
//! reverse — fails here.

use std::collections::{BTreeSet, HashSet};

use kubernaut_api_types::schema::{resolve, root_schema_for};
use kubernaut_api_types::{
    apps, autoscaling, batch, coordination, core, discovery, events, meta, networking, policy,
    rbac, scheduling, storage,
};
use schemars::JsonSchema;
use serde_json::Value;

const EXTENSIONS: &[&str] = &[
    "x-kubernetes-list-type",
    "x-kubernetes-list-map-keys",
    "x-kubernetes-map-type",
    "x-kubernetes-patch-merge-key",
    "x-kubernetes-patch-strategy",
    "x-kubernetes-group-version-kind",
];

/// Upstream definitions implemented by hand, and the JSON types their schemas must allow.
const HAND_WRITTEN: &[(&str, &[&str])] = &[
    (
        "io.k8s.apimachinery.pkg.api.resource.Quantity",
        &["string", "integer", "number"],
    ),
    (
        "io.k8s.apimachinery.pkg.util.intstr.IntOrString",
        &["string", "integer"],
    ),
    ("io.k8s.apimachinery.pkg.apis.meta.v1.Time", &["string"]),
    (
        "io.k8s.apimachinery.pkg.apis.meta.v1.MicroTime",
        &["string"],
    ),
    ("io.k8s.apimachinery.pkg.apis.meta.v1.FieldsV1", &["object"]),
    ("io.k8s.apimachinery.pkg.runtime.RawExtension", &["object"]),
];

struct Checker<'a> {
    upstream: &'a Value,
    ours: &'a Value,
    seen: HashSet<String>,
    problems: Vec<String>,
}

fn types_of(node: &Value) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    match node.get("type") {
        Some(Value::String(s)) => {
            out.insert(s.clone());
        }
        Some(Value::Array(a)) => out.extend(a.iter().filter_map(Value::as_str).map(str::to_owned)),
        _ => {}
    }
    for key in ["anyOf", "oneOf"] {
        if let Some(Value::Array(alts)) = node.get(key) {
            for alt in alts {
                out.extend(types_of(alt));
            }
        }
    }
    out.remove("null");
    out
}

impl Checker<'_> {
    fn def(&self, name: &str) -> &Value {
        &self.upstream["definitions"][name]
    }

    fn check_def(&mut self, name: &str, ours: &Value, at: &str) {
        let upstream = self.def(name).clone();
        let Some(ours) = resolve(self.ours, ours).cloned() else {
            self.problems.push(format!("{at}: unresolvable schema"));
            return;
        };
        if let Some((_, allowed)) = HAND_WRITTEN.iter().find(|(n, _)| *n == name) {
            let got = types_of(&ours);
            let want: BTreeSet<String> = allowed.iter().map(|s| (*s).to_owned()).collect();
            if !want.is_subset(&got) && got != want {
                self.problems
                    .push(format!("{at}: {name} allows {got:?}, expected {want:?}"));
            }
            return;
        }
        if !self.seen.insert(name.to_owned()) {
            return;
        }
        let up_props = upstream.get("properties").and_then(Value::as_object);
        let our_props = ours.get("properties").and_then(Value::as_object);
        let (Some(up_props), Some(our_props)) = (up_props, our_props) else {
            if up_props.is_some() != our_props.is_some() {
                self.problems.push(format!(
                    "{at} ({name}): properties present on one side only"
                ));
            }
            return;
        };
        let up_keys: BTreeSet<&String> = up_props.keys().collect();
        let our_keys: BTreeSet<&String> = our_props.keys().collect();
        for missing in up_keys.difference(&our_keys) {
            self.problems
                .push(format!("{at}.{missing} ({name}): upstream field missing"));
        }
        for extra in our_keys.difference(&up_keys) {
            self.problems.push(format!(
                "{at}.{extra} ({name}): field upstream does not have"
            ));
        }
        let required = |v: &Value| -> BTreeSet<String> {
            v.get("required")
                .and_then(Value::as_array)
                .map(|a| {
                    a.iter()
                        .filter_map(Value::as_str)
                        .map(str::to_owned)
                        .collect()
                })
                .unwrap_or_default()
        };
        if required(&upstream) != required(&ours) {
            self.problems.push(format!(
                "{at} ({name}): required {:?}, upstream {:?}",
                required(&ours),
                required(&upstream)
            ));
        }
        for ext in EXTENSIONS {
            if upstream.get(*ext).is_some() && upstream.get(*ext) != ours.get(*ext) {
                self.problems.push(format!("{at} ({name}): {ext} differs"));
            }
        }
        for key in up_keys.intersection(&our_keys) {
            let path = format!("{at}.{key}");
            self.check_prop(&up_props[*key], &our_props[*key], &path);
        }
    }

    fn check_prop(&mut self, up: &Value, ours: &Value, at: &str) {
        for ext in EXTENSIONS {
            if up.get(*ext) != ours.get(*ext) {
                self.problems.push(format!(
                    "{at}: {ext} is {:?}, upstream {:?}",
                    ours.get(*ext),
                    up.get(*ext)
                ));
            }
        }
        if let Some(r) = up.get("$ref").and_then(Value::as_str) {
            let name = r.rsplit('/').next().unwrap_or(r).to_owned();
            self.check_def(&name, ours, at);
            return;
        }
        let Some(ours) = resolve(self.ours, ours).cloned() else {
            self.problems.push(format!("{at}: unresolvable schema"));
            return;
        };
        let (up_t, our_t) = (types_of(up), types_of(&ours));
        if up_t != our_t {
            self.problems
                .push(format!("{at}: type {our_t:?}, upstream {up_t:?}"));
            return;
        }
        if up.get("format").and_then(Value::as_str) == Some("byte")
            && ours.get("format").and_then(Value::as_str) != Some("byte")
        {
            self.problems.push(format!("{at}: expected base64 bytes"));
        }
        if let (Some(up_items), Some(our_items)) = (up.get("items"), ours.get("items")) {
            self.check_prop(up_items, our_items, &format!("{at}[]"));
        }
        if let (Some(up_ap), Some(our_ap)) = (
            up.get("additionalProperties"),
            ours.get("additionalProperties"),
        ) {
            self.check_prop(up_ap, our_ap, &format!("{at}{{}}"));
        }
    }
}

fn check<T: JsonSchema>(upstream: &Value, def: &str) -> Vec<String> {
    let root = root_schema_for::<T>();
    let ours = serde_json::to_value(&root).expect("schema is JSON");
    let mut c = Checker {
        upstream,
        ours: &ours,
        seen: HashSet::new(),
        problems: Vec::new(),
    };
    assert!(
        upstream["definitions"].get(def).is_some(),
        "{def} is not in the upstream spec"
    );
    c.check_def(def, &ours, def.rsplit('.').next().unwrap_or(def));
    c.problems
}

#[test]
fn every_kind_matches_the_upstream_definition() {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/codegen/spec-v1.32.json"
    ))
    .expect("spec is committed");
    let upstream: Value = serde_json::from_str(&text).expect("spec is JSON");
    let mut problems = Vec::new();
    macro_rules! kinds {
        ($($ty:ty => $def:literal),* $(,)?) => {
            $( problems.extend(check::<$ty>(&upstream, $def)); )*
        };
    }
    kinds!(
        core::v1::Namespace => "io.k8s.api.core.v1.Namespace",
        core::v1::Pod => "io.k8s.api.core.v1.Pod",
        core::v1::Service => "io.k8s.api.core.v1.Service",
        core::v1::Endpoints => "io.k8s.api.core.v1.Endpoints",
        core::v1::ConfigMap => "io.k8s.api.core.v1.ConfigMap",
        core::v1::Secret => "io.k8s.api.core.v1.Secret",
        core::v1::Node => "io.k8s.api.core.v1.Node",
        core::v1::ServiceAccount => "io.k8s.api.core.v1.ServiceAccount",
        core::v1::Event => "io.k8s.api.core.v1.Event",
        core::v1::LimitRange => "io.k8s.api.core.v1.LimitRange",
        core::v1::ResourceQuota => "io.k8s.api.core.v1.ResourceQuota",
        core::v1::PersistentVolumeClaim => "io.k8s.api.core.v1.PersistentVolumeClaim",
        core::v1::PersistentVolume => "io.k8s.api.core.v1.PersistentVolume",
        core::v1::PodTemplate => "io.k8s.api.core.v1.PodTemplate",
        core::v1::Binding => "io.k8s.api.core.v1.Binding",
        apps::v1::Deployment => "io.k8s.api.apps.v1.Deployment",
        apps::v1::ReplicaSet => "io.k8s.api.apps.v1.ReplicaSet",
        apps::v1::DaemonSet => "io.k8s.api.apps.v1.DaemonSet",
        apps::v1::StatefulSet => "io.k8s.api.apps.v1.StatefulSet",
        apps::v1::ControllerRevision => "io.k8s.api.apps.v1.ControllerRevision",
        batch::v1::Job => "io.k8s.api.batch.v1.Job",
        batch::v1::CronJob => "io.k8s.api.batch.v1.CronJob",
        networking::v1::Ingress => "io.k8s.api.networking.v1.Ingress",
        networking::v1::IngressClass => "io.k8s.api.networking.v1.IngressClass",
        discovery::v1::EndpointSlice => "io.k8s.api.discovery.v1.EndpointSlice",
        coordination::v1::Lease => "io.k8s.api.coordination.v1.Lease",
        storage::v1::StorageClass => "io.k8s.api.storage.v1.StorageClass",
        scheduling::v1::PriorityClass => "io.k8s.api.scheduling.v1.PriorityClass",
        policy::v1::PodDisruptionBudget => "io.k8s.api.policy.v1.PodDisruptionBudget",
        policy::v1::Eviction => "io.k8s.api.policy.v1.Eviction",
        events::v1::Event => "io.k8s.api.events.v1.Event",
        rbac::v1::Role => "io.k8s.api.rbac.v1.Role",
        rbac::v1::ClusterRole => "io.k8s.api.rbac.v1.ClusterRole",
        rbac::v1::RoleBinding => "io.k8s.api.rbac.v1.RoleBinding",
        rbac::v1::ClusterRoleBinding => "io.k8s.api.rbac.v1.ClusterRoleBinding",
        autoscaling::v1::Scale => "io.k8s.api.autoscaling.v1.Scale",
        meta::Status => "io.k8s.apimachinery.pkg.apis.meta.v1.Status",
        meta::DeleteOptions => "io.k8s.apimachinery.pkg.apis.meta.v1.DeleteOptions",
        meta::Condition => "io.k8s.apimachinery.pkg.apis.meta.v1.Condition",
        meta::APIResourceList => "io.k8s.apimachinery.pkg.apis.meta.v1.APIResourceList",
        meta::APIGroupList => "io.k8s.apimachinery.pkg.apis.meta.v1.APIGroupList",
        meta::APIVersions => "io.k8s.apimachinery.pkg.apis.meta.v1.APIVersions",
    );
    assert!(
        problems.is_empty(),
        "{} differences from upstream:\n{}",
        problems.len(),
        problems.join("\n")
    );
}

#[test]
fn the_spec_covers_what_the_generator_was_asked_for() {
    // A guard against a silently truncated spec file: the definitions the kinds above reach.
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/codegen/spec-v1.32.json"
    ))
    .expect("spec is committed");
    let upstream: Value = serde_json::from_str(&text).expect("spec is JSON");
    let defs = upstream["definitions"].as_object().expect("definitions");
    assert!(defs.len() > 250, "only {} definitions", defs.len());
    assert_eq!(upstream["kubernetes"], "v1.32.0");
}
