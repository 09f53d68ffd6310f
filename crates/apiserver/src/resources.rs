//! The resources the server serves: for each kind, where it lives in the API and the store,
//! its verbs and subresources, and the per-kind rules upstream's registry strategies apply
//! (status handling, generation, the fields a field selector may use).

use std::collections::HashMap;
use std::sync::Arc;

use kubernaut_api_types::scheme::Scheme;
use kubernaut_api_types::{ApiResource, Scope};
use serde_json::Value;

use crate::error::{GroupKind, GroupResource};

/// The verbs of a fully served resource, in discovery order.
pub const ALL_VERBS: &[&str] = &[
    "create",
    "delete",
    "deletecollection",
    "get",
    "list",
    "patch",
    "update",
    "watch",
];

/// Where a kind's replica count and selector live, for its `scale` subresource.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ScalePaths {
    /// `spec.replicas`.
    pub spec_replicas: &'static [&'static str],
    /// `status.replicas`.
    pub status_replicas: &'static [&'static str],
    /// The label selector (`spec.selector`), printed as a string in `status.selector`.
    pub selector: &'static [&'static str],
}

const APPS_SCALE: ScalePaths = ScalePaths {
    spec_replicas: &["spec", "replicas"],
    status_replicas: &["status", "replicas"],
    selector: &["spec", "selector"],
};

/// Everything the server knows about one served resource.
#[derive(Clone, Debug)]
pub struct ResourceSpec {
    /// Group, version, kind, plural, short names, categories, scope.
    pub api: ApiResource,
    /// The store prefix of its objects, ending in `/`.
    pub prefix: String,
    /// The verbs of the main resource.
    pub verbs: Vec<&'static str>,
    /// Whether it has a `status` subresource: the main resource then ignores status changes
    /// and `/status` ignores everything but status.
    pub status_subresource: bool,
    /// Its `scale` subresource, if any.
    pub scale: Option<ScalePaths>,
    /// Whether `metadata.generation` starts at 1 and is bumped on every spec change.
    pub generation: bool,
    /// The fields a field selector may use beyond `metadata.name` and `metadata.namespace`.
    pub selectable_fields: &'static [&'static str],
    /// Whether a delete answers with the deleted object (pods, namespaces) rather than a
    /// `Status`.
    pub returns_deleted_object: bool,
}

impl ResourceSpec {
    /// `pods`, `deployments.apps`.
    pub fn group_resource(&self) -> GroupResource {
        GroupResource::new(&self.api.group, &self.api.plural)
    }

    /// `Pod`, `Deployment.apps`.
    pub fn group_kind(&self) -> GroupKind {
        GroupKind::new(&self.api.group, &self.api.kind)
    }

    /// Whether objects live in namespaces.
    pub fn namespaced(&self) -> bool {
        self.api.scope == Scope::Namespaced
    }

    /// The store key of an object.
    pub fn key(&self, namespace: Option<&str>, name: &str) -> String {
        match namespace {
            Some(ns) if self.namespaced() => format!("{}{ns}/{name}", self.prefix),
            _ => format!("{}{name}", self.prefix),
        }
    }

    /// The store prefix of a namespace's objects (or of every object).
    pub fn list_prefix(&self, namespace: Option<&str>) -> String {
        match namespace {
            Some(ns) if self.namespaced() => format!("{}{ns}/", self.prefix),
            _ => self.prefix.clone(),
        }
    }

    /// The value of a selectable field of `object` (`metadata.name`, `spec.nodeName`, ...), as
    /// upstream's field-selector attribute functions render it; `None` when not selectable.
    pub fn field_value(&self, object: &Value, field: &str) -> Option<String> {
        if field != "metadata.name"
            && field != "metadata.namespace"
            && !self.selectable_fields.contains(&field)
        {
            return None;
        }
        let mut node = object;
        for part in field.split('.') {
            match node.get(part) {
                Some(next) => node = next,
                None => return Some(default_field_value(&self.api.kind, field)),
            }
        }
        Some(match node {
            Value::String(s) => s.clone(),
            Value::Bool(b) => b.to_string(),
            Value::Number(n) => n.to_string(),
            // `status.podIPs` selects on the first IP, as upstream.
            Value::Array(items) => items
                .first()
                .and_then(|i| i.get("ip").or(Some(i)))
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_owned(),
            Value::Null | Value::Object(_) => String::new(),
        })
    }

    /// Every field a field selector may use on this resource.
    pub fn all_selectable_fields(&self) -> Vec<&'static str> {
        let mut fields = vec!["metadata.name", "metadata.namespace"];
        fields.extend(self.selectable_fields);
        fields
    }
}

/// The value upstream's attribute functions give a selectable field the object does not set.
fn default_field_value(kind: &str, field: &str) -> String {
    match (kind, field) {
        ("Pod", "spec.hostNetwork") | ("Node", "spec.unschedulable") => "false".to_owned(),
        ("ReplicaSet", "status.replicas") | ("Job", "status.successful") => "0".to_owned(),
        _ => String::new(),
    }
}

/// Kinds of the built-in scheme that are not stored resources of their own.
const NOT_STORED: &[(&str, &str)] = &[
    ("", "Binding"),
    ("policy", "Eviction"),
    ("autoscaling", "Scale"),
];

/// Kinds whose main resource ignores status (they have a `status` subresource).
const STATUS_SUBRESOURCE: &[(&str, &str)] = &[
    ("", "Namespace"),
    ("", "Node"),
    ("", "PersistentVolume"),
    ("", "PersistentVolumeClaim"),
    ("", "Pod"),
    ("", "ReplicationController"),
    ("", "ResourceQuota"),
    ("", "Service"),
    ("apps", "DaemonSet"),
    ("apps", "Deployment"),
    ("apps", "ReplicaSet"),
    ("apps", "StatefulSet"),
    ("batch", "CronJob"),
    ("batch", "Job"),
    ("networking.k8s.io", "Ingress"),
    ("policy", "PodDisruptionBudget"),
];

/// Kinds whose `metadata.generation` tracks spec changes.
const GENERATION: &[(&str, &str)] = &[
    ("apps", "DaemonSet"),
    ("apps", "Deployment"),
    ("apps", "ReplicaSet"),
    ("apps", "StatefulSet"),
    ("batch", "CronJob"),
    ("batch", "Job"),
    ("networking.k8s.io", "Ingress"),
    ("networking.k8s.io", "IngressClass"),
    ("policy", "PodDisruptionBudget"),
    ("scheduling.k8s.io", "PriorityClass"),
];

fn selectable_fields(group: &str, kind: &str) -> &'static [&'static str] {
    match (group, kind) {
        ("", "Pod") => &[
            "spec.nodeName",
            "spec.restartPolicy",
            "spec.schedulerName",
            "spec.serviceAccountName",
            "spec.hostNetwork",
            "status.phase",
            "status.podIP",
            "status.podIPs",
            "status.nominatedNodeName",
        ],
        ("", "Event") => &[
            "involvedObject.kind",
            "involvedObject.namespace",
            "involvedObject.name",
            "involvedObject.uid",
            "involvedObject.apiVersion",
            "involvedObject.resourceVersion",
            "involvedObject.fieldPath",
            "reason",
            "reportingComponent",
            "source",
            "type",
        ],
        ("", "Secret") => &["type"],
        ("", "Namespace") => &["status.phase"],
        ("", "Node") => &["spec.unschedulable"],
        ("", "PersistentVolume") | ("", "PersistentVolumeClaim") => &["status.phase"],
        ("", "Service") => &["spec.clusterIP", "spec.type"],
        ("apps", "ReplicaSet") => &["status.replicas"],
        ("batch", "Job") => &["status.successful"],
        ("events.k8s.io", "Event") => &[
            "regarding.kind",
            "regarding.namespace",
            "regarding.name",
            "regarding.uid",
            "regarding.apiVersion",
            "regarding.resourceVersion",
            "regarding.fieldPath",
            "reason",
            "reportingController",
            "type",
        ],
        _ => &[],
    }
}

/// The set of served resources, looked up by group and plural.
#[derive(Clone, Debug, Default)]
pub struct Resources {
    by_path: HashMap<(String, String), Arc<ResourceSpec>>,
    order: Vec<Arc<ResourceSpec>>,
}

impl Resources {
    /// Every storable kind of `scheme`, with upstream's rules.
    pub fn from_scheme(scheme: &Scheme) -> Self {
        let mut apis: Vec<ApiResource> = scheme
            .resources()
            .filter(|r| !NOT_STORED.contains(&(r.group.as_str(), r.kind.as_str())))
            .cloned()
            .collect();
        // Discovery lists groups and resources in a stable order: core first, then by group,
        // resources alphabetically, as upstream's discovery does.
        apis.sort_by(|a, b| {
            (!a.group.is_empty(), &a.group, &a.plural).cmp(&(
                !b.group.is_empty(),
                &b.group,
                &b.plural,
            ))
        });
        let mut resources = Resources::default();
        for api in apis {
            let gk = (api.group.as_str(), api.kind.as_str());
            let scale = match gk {
                ("apps", "Deployment" | "ReplicaSet" | "StatefulSet") => Some(APPS_SCALE),
                _ => None,
            };
            let spec = ResourceSpec {
                prefix: format!(
                    "/registry/{}/{}/",
                    if api.group.is_empty() {
                        "core"
                    } else {
                        &api.group
                    },
                    api.plural
                ),
                verbs: ALL_VERBS.to_vec(),
                status_subresource: STATUS_SUBRESOURCE.contains(&gk),
                scale,
                generation: GENERATION.contains(&gk),
                selectable_fields: selectable_fields(gk.0, gk.1),
                returns_deleted_object: matches!(gk, ("", "Pod" | "Namespace")),
                api,
            };
            resources.insert(spec);
        }
        resources
    }

    /// Adds (or replaces) a resource.
    pub fn insert(&mut self, spec: ResourceSpec) {
        let spec = Arc::new(spec);
        let key = (spec.api.group.clone(), spec.api.plural.clone());
        self.order
            .retain(|s| (s.api.group.as_str(), s.api.plural.as_str()) != (&key.0[..], &key.1[..]));
        self.order.push(Arc::clone(&spec));
        self.by_path.insert(key, spec);
    }

    /// The resource `plural` of `group`.
    pub fn get(&self, group: &str, plural: &str) -> Option<&Arc<ResourceSpec>> {
        self.by_path.get(&(group.to_owned(), plural.to_owned()))
    }

    /// The resource of `group` with this kind.
    pub fn by_kind(&self, group: &str, kind: &str) -> Option<&Arc<ResourceSpec>> {
        self.order
            .iter()
            .find(|s| s.api.group == group && s.api.kind == kind)
    }

    /// Every resource, in discovery order.
    pub fn iter(&self) -> impl Iterator<Item = &Arc<ResourceSpec>> {
        self.order.iter()
    }

    /// The group-versions served, in discovery order (`v1` first).
    pub fn group_versions(&self) -> Vec<(String, String)> {
        let mut out: Vec<(String, String)> = Vec::new();
        for s in &self.order {
            let gv = (s.api.group.clone(), s.api.version.clone());
            if !out.contains(&gv) {
                out.push(gv);
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn builtin_resources_have_upstream_rules() {
        let r = Resources::from_scheme(&Scheme::builtin());
        let pods = r.get("", "pods").unwrap();
        assert!(pods.status_subresource && pods.returns_deleted_object && !pods.generation);
        assert_eq!(
            pods.key(Some("default"), "web"),
            "/registry/core/pods/default/web"
        );
        let deploy = r.get("apps", "deployments").unwrap();
        assert!(deploy.generation && deploy.scale.is_some());
        assert_eq!(deploy.group_resource().to_string(), "deployments.apps");
        let ns = r.get("", "namespaces").unwrap();
        assert_eq!(
            ns.key(Some("ignored"), "kube-system"),
            "/registry/core/namespaces/kube-system"
        );
        assert!(
            r.get("", "bindings").is_none(),
            "bindings are a subresource of pods"
        );
        assert_eq!(r.group_versions()[0], ("".to_owned(), "v1".to_owned()));
    }

    #[test]
    fn field_values_follow_upstream_attribute_functions() {
        let r = Resources::from_scheme(&Scheme::builtin());
        let pods = r.get("", "pods").unwrap();
        let pod = json!({"metadata": {"name": "p", "namespace": "ns"},
            "spec": {"nodeName": "n1"}, "status": {"podIPs": [{"ip": "10.0.0.1"}]}});
        assert_eq!(
            pods.field_value(&pod, "spec.nodeName").as_deref(),
            Some("n1")
        );
        assert_eq!(
            pods.field_value(&pod, "spec.hostNetwork").as_deref(),
            Some("false")
        );
        assert_eq!(
            pods.field_value(&pod, "status.podIPs").as_deref(),
            Some("10.0.0.1")
        );
        assert_eq!(pods.field_value(&pod, "status.phase").as_deref(), Some(""));
        assert_eq!(pods.field_value(&pod, "spec.containers"), None);
    }
}
