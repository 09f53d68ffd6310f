//! Printers of the smaller groups: `coordination.k8s.io` leases, `storage.k8s.io` storage
//! classes, `scheduling.k8s.io` priority classes, `policy` disruption budgets,
//! `rbac.authorization.k8s.io` bindings and the `autoscaling` `Scale` subresource.

use kubernaut_api_types::Time;
use kubernaut_api_types::autoscaling::v1::Scale;
use kubernaut_api_types::coordination::v1::Lease;
use kubernaut_api_types::meta::ObjectMeta;
use kubernaut_api_types::policy::v1::PodDisruptionBudget;
use kubernaut_api_types::rbac::v1::{ClusterRoleBinding, RoleBinding, RoleRef, Subject};
use kubernaut_api_types::scheduling::v1::PriorityClass;
use kubernaut_api_types::storage::v1::StorageClass;
use serde_json::Value;

use super::descriptions::*;
use super::{AGE, Column, KindPrinter, NAME, age, decode, int, name, text};

/// `kubectl get leases`: `NAME HOLDER AGE`.
pub(super) static LEASE: KindPrinter = KindPrinter::new(
    &[
        NAME,
        Column::new("Holder", "string", LEASE_SPEC_HOLDER_IDENTITY),
        AGE,
    ],
    |object, now| {
        let lease: Lease = decode(object)?;
        let holder = lease.spec.as_ref().and_then(|s| s.holder_identity.clone());
        Some(vec![
            text(name(&lease.metadata)),
            text(holder.unwrap_or_default()),
            age(&lease.metadata, now),
        ])
    },
);

/// The annotations that make a storage class the default one.
const DEFAULT_STORAGE_CLASS_ANNOTATIONS: [&str; 2] = [
    "storageclass.kubernetes.io/is-default-class",
    "storageclass.beta.kubernetes.io/is-default-class",
];

/// `kubectl get storageclasses`: `NAME PROVISIONER RECLAIMPOLICY VOLUMEBINDINGMODE
/// ALLOWVOLUMEEXPANSION AGE`, the default class named `name (default)`.
pub(super) static STORAGE_CLASS: KindPrinter = KindPrinter::new(
    &[
        NAME,
        Column::new("Provisioner", "string", STORAGE_CLASS_PROVISIONER),
        Column::new("ReclaimPolicy", "string", STORAGE_CLASS_RECLAIM_POLICY),
        Column::new(
            "VolumeBindingMode",
            "string",
            STORAGE_CLASS_VOLUME_BINDING_MODE,
        ),
        Column::new(
            "AllowVolumeExpansion",
            "string",
            STORAGE_CLASS_ALLOW_VOLUME_EXPANSION,
        ),
        AGE,
    ],
    |object, now| {
        let class: StorageClass = decode(object)?;
        let annotations = class.metadata.annotations();
        let is_default = DEFAULT_STORAGE_CLASS_ANNOTATIONS
            .iter()
            .any(|a| annotations.get(*a).is_some_and(|v| v == "true"));
        let mut display_name = name(&class.metadata);
        if is_default {
            display_name.push_str(" (default)");
        }
        Some(vec![
            text(display_name),
            text(class.provisioner.clone()),
            text(
                class
                    .reclaim_policy
                    .clone()
                    .unwrap_or_else(|| "Delete".to_owned()),
            ),
            text(
                class
                    .volume_binding_mode
                    .clone()
                    .unwrap_or_else(|| "Immediate".to_owned()),
            ),
            Value::Bool(class.allow_volume_expansion.unwrap_or(false)),
            age(&class.metadata, now),
        ])
    },
);

/// `kubectl get priorityclasses`: `NAME VALUE GLOBAL-DEFAULT AGE PREEMPTIONPOLICY`.
pub(super) static PRIORITY_CLASS: KindPrinter = KindPrinter::new(
    &[
        NAME,
        Column::new("Value", "integer", PRIORITY_CLASS_VALUE),
        Column::new("Global-Default", "boolean", PRIORITY_CLASS_GLOBAL_DEFAULT),
        AGE,
        Column::new(
            "PreemptionPolicy",
            "string",
            PRIORITY_CLASS_PREEMPTION_POLICY,
        ),
    ],
    |object, now| {
        let class: PriorityClass = decode(object)?;
        Some(vec![
            text(name(&class.metadata)),
            int(class.value),
            Value::Bool(class.global_default.unwrap_or(false)),
            age(&class.metadata, now),
            text(class.preemption_policy.clone().unwrap_or_default()),
        ])
    },
);

/// `kubectl get poddisruptionbudgets`: `NAME MIN AVAILABLE MAX UNAVAILABLE ALLOWED
/// DISRUPTIONS AGE`.
pub(super) static POD_DISRUPTION_BUDGET: KindPrinter = KindPrinter::new(
    &[
        NAME,
        Column::new(
            "Min Available",
            "string",
            "The minimum number of pods that must be available.",
        ),
        Column::new(
            "Max Unavailable",
            "string",
            "The maximum number of pods that may be unavailable.",
        ),
        Column::new(
            "Allowed Disruptions",
            "integer",
            "Calculated number of pods that may be disrupted at this time.",
        ),
        AGE,
    ],
    |object, now| {
        let budget: PodDisruptionBudget = decode(object)?;
        let spec = budget.spec.clone().unwrap_or_default();
        let or_na = |v: Option<kubernaut_api_types::IntOrString>| {
            v.map_or("N/A".to_owned(), |v| v.to_string())
        };
        Some(vec![
            text(name(&budget.metadata)),
            text(or_na(spec.min_available)),
            text(or_na(spec.max_unavailable)),
            int(budget.status.as_ref().map_or(0, |s| s.disruptions_allowed)),
            age(&budget.metadata, now),
        ])
    },
);

/// The binding columns, `Role` described by the given documentation.
macro_rules! binding_columns {
    ($role:expr, $what:literal) => {
        &[
            NAME,
            Column::new("Role", "string", $role),
            AGE,
            Column::new("Users", "string", concat!("Users in the ", $what)).wide(),
            Column::new("Groups", "string", concat!("Groups in the ", $what)).wide(),
            Column::new(
                "ServiceAccounts",
                "string",
                concat!("ServiceAccounts in the ", $what),
            )
            .wide(),
        ]
    };
}

/// `kubectl get rolebindings`: `NAME ROLE AGE` (wide: `USERS GROUPS SERVICEACCOUNTS`).
pub(super) static ROLE_BINDING: KindPrinter = KindPrinter::new(
    binding_columns!(ROLE_BINDING_ROLE_REF, "roleBinding"),
    |object, now| {
        let binding: RoleBinding = decode(object)?;
        Some(print_binding(
            &binding.metadata,
            &binding.role_ref,
            binding.subjects.as_deref().unwrap_or_default(),
            now,
        ))
    },
);

/// `kubectl get clusterrolebindings`: `NAME ROLE AGE` (wide: `USERS GROUPS SERVICEACCOUNTS`).
pub(super) static CLUSTER_ROLE_BINDING: KindPrinter = KindPrinter::new(
    binding_columns!(CLUSTER_ROLE_BINDING_ROLE_REF, "clusterRoleBinding"),
    |object, now| {
        let binding: ClusterRoleBinding = decode(object)?;
        Some(print_binding(
            &binding.metadata,
            &binding.role_ref,
            binding.subjects.as_deref().unwrap_or_default(),
            now,
        ))
    },
);

/// Upstream's `printRoleBinding`: the role as `Kind/name`, the subjects split by kind as
/// upstream's `SubjectsStrings` does (service accounts as `namespace/name`), each list
/// joined by `, `.
fn print_binding(meta: &ObjectMeta, role: &RoleRef, subjects: &[Subject], now: Time) -> Vec<Value> {
    let mut users = Vec::new();
    let mut groups = Vec::new();
    let mut service_accounts = Vec::new();
    for subject in subjects {
        match subject.kind.as_str() {
            "ServiceAccount" => service_accounts.push(format!(
                "{}/{}",
                subject.namespace.as_deref().unwrap_or(""),
                subject.name
            )),
            "User" => users.push(subject.name.clone()),
            "Group" => groups.push(subject.name.clone()),
            _ => {}
        }
    }
    vec![
        text(name(meta)),
        text(format!("{}/{}", role.kind, role.name)),
        age(meta, now),
        text(users.join(", ")),
        text(groups.join(", ")),
        text(service_accounts.join(", ")),
    ]
}

/// The `Scale` subresource (`kubectl get --subresource=scale`): `NAME DESIRED AVAILABLE AGE`.
/// Upstream gives its `Name` column no `name` format.
pub(super) static SCALE: KindPrinter = KindPrinter::new(
    &[
        Column::new("Name", "string", META_NAME),
        Column::new("Desired", "integer", SCALE_SPEC_REPLICAS),
        Column::new("Available", "integer", SCALE_STATUS_REPLICAS),
        AGE,
    ],
    |object, now| {
        let scale: Scale = decode(object)?;
        Some(vec![
            text(name(&scale.metadata)),
            int(scale.spec.as_ref().and_then(|s| s.replicas).unwrap_or(0)),
            int(scale.status.as_ref().map_or(0, |s| s.replicas)),
            age(&scale.metadata, now),
        ])
    },
);

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::super::tests::{ago, cells, headers, manifest, merge};

    #[test]
    fn lease_holder() {
        assert_eq!(
            headers("coordination.k8s.io", "Lease"),
            ["Name", "Holder", "Age"]
        );
        let lease = json!({
            "apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
            "metadata": {"name": "kube-controller-manager", "namespace": "kube-system",
                         "creationTimestamp": ago(12 * 86_400)},
            "spec": {"holderIdentity": "cp-1_4f7e2c1a", "leaseDurationSeconds": 15,
                     "renewTime": "2024-05-01T11:59:58.120000Z", "leaseTransitions": 3},
        });
        assert_eq!(
            cells("coordination.k8s.io", "Lease", &lease),
            ["kube-controller-manager", "cp-1_4f7e2c1a", "12d"]
        );
        let free = merge(lease, json!({"spec": {"holderIdentity": null}}));
        assert_eq!(cells("coordination.k8s.io", "Lease", &free)[1], "");
    }

    #[test]
    fn storage_class_from_a_manifest() {
        assert_eq!(
            headers("storage.k8s.io", "StorageClass"),
            [
                "Name",
                "Provisioner",
                "ReclaimPolicy",
                "VolumeBindingMode",
                "AllowVolumeExpansion",
                "Age"
            ]
        );
        let ebs = merge(
            manifest("website/storage/storageclass/storageclass-aws-ebs.yaml", 0),
            json!({"metadata": {"creationTimestamp": ago(3 * 365 * 86_400 + 45 * 86_400),
                                "annotations": {"storageclass.kubernetes.io/is-default-class": "true"}}}),
        );
        assert_eq!(
            Value::from(cells("storage.k8s.io", "StorageClass", &ebs)),
            json!([
                "ebs-sc (default)",
                "ebs.csi.aws.com",
                "Delete",
                "WaitForFirstConsumer",
                false,
                "3y45d"
            ])
        );
        let beta_default = json!({
            "apiVersion": "storage.k8s.io/v1", "kind": "StorageClass",
            "metadata": {"name": "standard",
                         "annotations": {"storageclass.beta.kubernetes.io/is-default-class": "true"}},
            "provisioner": "rancher.io/local-path", "reclaimPolicy": "Retain", "allowVolumeExpansion": true,
        });
        assert_eq!(
            Value::from(cells("storage.k8s.io", "StorageClass", &beta_default)[..5].to_vec()),
            json!([
                "standard (default)",
                "rancher.io/local-path",
                "Retain",
                "Immediate",
                true
            ])
        );
    }

    #[test]
    fn priority_class() {
        assert_eq!(
            headers("scheduling.k8s.io", "PriorityClass"),
            ["Name", "Value", "Global-Default", "Age", "PreemptionPolicy"]
        );
        let class = json!({
            "apiVersion": "scheduling.k8s.io/v1", "kind": "PriorityClass",
            "metadata": {"name": "high-priority", "creationTimestamp": ago(5)},
            "value": 1_000_000, "description": "This priority class should be used for XYZ service pods only.",
        });
        // The preemption policy defaults to PreemptLowerPriority; it is not a wide column upstream.
        assert_eq!(
            Value::from(cells("scheduling.k8s.io", "PriorityClass", &class)),
            json!([
                "high-priority",
                1_000_000,
                false,
                "5s",
                "PreemptLowerPriority"
            ])
        );
        let system = merge(
            class,
            json!({"globalDefault": true, "preemptionPolicy": "Never"}),
        );
        assert_eq!(
            Value::from(cells("scheduling.k8s.io", "PriorityClass", &system)[2..].to_vec()),
            json!([true, "5s", "Never"])
        );
    }

    #[test]
    fn pod_disruption_budget() {
        assert_eq!(
            headers("policy", "PodDisruptionBudget"),
            [
                "Name",
                "Min Available",
                "Max Unavailable",
                "Allowed Disruptions",
                "Age"
            ]
        );
        let budget = json!({
            "apiVersion": "policy/v1", "kind": "PodDisruptionBudget",
            "metadata": {"name": "zk-pdb", "creationTimestamp": ago(7 * 60)},
            "spec": {"minAvailable": 2, "selector": {"matchLabels": {"app": "zookeeper"}}},
            "status": {"currentHealthy": 3, "desiredHealthy": 2, "disruptionsAllowed": 1, "expectedPods": 3},
        });
        assert_eq!(
            Value::from(cells("policy", "PodDisruptionBudget", &budget)),
            json!(["zk-pdb", "2", "N/A", 1, "7m"])
        );
        let percent = merge(
            budget,
            json!({"spec": {"minAvailable": null, "maxUnavailable": "25%"}, "status": null}),
        );
        assert_eq!(
            Value::from(cells("policy", "PodDisruptionBudget", &percent)[1..4].to_vec()),
            json!(["N/A", "25%", 0])
        );
    }

    #[test]
    fn bindings_from_a_manifest() {
        assert_eq!(
            headers("rbac.authorization.k8s.io", "ClusterRoleBinding"),
            [
                "Name",
                "Role",
                "Age",
                "+Users",
                "+Groups",
                "+ServiceAccounts"
            ]
        );
        assert_eq!(
            headers("rbac.authorization.k8s.io", "RoleBinding"),
            headers("rbac.authorization.k8s.io", "ClusterRoleBinding")
        );
        let columns =
            super::super::printer_for("rbac.authorization.k8s.io", "RoleBinding").columns();
        assert_eq!(columns[3].description, "Users in the roleBinding");
        assert!(
            columns[1]
                .description
                .starts_with("RoleRef can reference a Role")
        );

        let binding = merge(
            manifest("website/admin/cloud/ccm-example.yaml", 1),
            json!({"metadata": {"creationTimestamp": ago(90 * 86_400)}}),
        );
        assert_eq!(
            cells("rbac.authorization.k8s.io", "ClusterRoleBinding", &binding),
            [
                "system:cloud-controller-manager",
                "ClusterRole/cluster-admin",
                "90d",
                "",
                "",
                "kube-system/cloud-controller-manager"
            ]
        );
        let role_binding = json!({
            "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
            "metadata": {"name": "read-pods", "namespace": "default"},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "pod-reader"},
            "subjects": [
                {"kind": "User", "name": "jane", "apiGroup": "rbac.authorization.k8s.io"},
                {"kind": "User", "name": "bob", "apiGroup": "rbac.authorization.k8s.io"},
                {"kind": "Group", "name": "system:authenticated", "apiGroup": "rbac.authorization.k8s.io"},
                {"kind": "ServiceAccount", "name": "default", "namespace": "default"},
                {"kind": "ServiceAccount", "name": "builder", "namespace": "ci"},
            ],
        });
        assert_eq!(
            cells("rbac.authorization.k8s.io", "RoleBinding", &role_binding),
            [
                "read-pods",
                "Role/pod-reader",
                "<unknown>",
                "jane, bob",
                "system:authenticated",
                "default/default, ci/builder"
            ]
        );
    }

    #[test]
    fn scale_subresource() {
        let columns = super::super::printer_for("autoscaling", "Scale").columns();
        assert_eq!(columns[0].format, "");
        assert_eq!(
            headers("autoscaling", "Scale"),
            ["Name", "Desired", "Available", "Age"]
        );
        let scale = json!({
            "apiVersion": "autoscaling/v1", "kind": "Scale",
            "metadata": {"name": "web", "namespace": "default", "creationTimestamp": ago(61)},
            "spec": {"replicas": 5}, "status": {"replicas": 3, "selector": "app=web"},
        });
        assert_eq!(
            Value::from(cells("autoscaling", "Scale", &scale)),
            json!(["web", 5, 3, "61s"])
        );
    }
}
