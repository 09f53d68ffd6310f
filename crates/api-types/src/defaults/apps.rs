//! Defaults of `apps/v1`: Deployment, ReplicaSet, DaemonSet and StatefulSet (replicas, update
//! strategies, history limits, and their pod templates' defaults).

use super::pod::{pod_template_spec, pvc};
use super::{SetDefaults, default_ptr, default_str, no_defaults};
use crate::IntOrString;
use crate::apps::v1::{DaemonSet, Deployment, ReplicaSet, StatefulSet};

/// How many old ReplicaSets or ControllerRevisions a controller keeps by default.
const REVISION_HISTORY_LIMIT: i32 = 10;

no_defaults!(crate::apps::v1::ControllerRevision);

/// `replicas: 1`, a `RollingUpdate` strategy with `maxUnavailable`/`maxSurge` of 25%,
/// `revisionHistoryLimit: 10`, `progressDeadlineSeconds: 600`, and the template's defaults.
impl SetDefaults for Deployment {
    fn set_defaults(&mut self) {
        let spec = self.spec.get_or_insert_with(Default::default);
        default_ptr(&mut spec.replicas, 1);
        let strategy = spec.strategy.get_or_insert_with(Default::default);
        default_str(&mut strategy.type_, "RollingUpdate");
        if strategy.type_.as_deref() == Some("RollingUpdate") {
            let rolling = strategy.rolling_update.get_or_insert_with(Default::default);
            default_ptr(&mut rolling.max_unavailable, IntOrString::from("25%"));
            default_ptr(&mut rolling.max_surge, IntOrString::from("25%"));
        }
        default_ptr(&mut spec.revision_history_limit, REVISION_HISTORY_LIMIT);
        default_ptr(&mut spec.progress_deadline_seconds, 600);
        pod_template_spec(&mut spec.template);
    }
}

/// `replicas: 1` and the template's defaults.
impl SetDefaults for ReplicaSet {
    fn set_defaults(&mut self) {
        let spec = self.spec.get_or_insert_with(Default::default);
        default_ptr(&mut spec.replicas, 1);
        pod_template_spec(spec.template.get_or_insert_with(Default::default));
    }
}

/// A `RollingUpdate` strategy with `maxUnavailable: 1` and `maxSurge: 0`,
/// `revisionHistoryLimit: 10`, and the template's defaults.
impl SetDefaults for DaemonSet {
    fn set_defaults(&mut self) {
        let spec = self.spec.get_or_insert_with(Default::default);
        let strategy = spec.update_strategy.get_or_insert_with(Default::default);
        default_str(&mut strategy.type_, "RollingUpdate");
        if strategy.type_.as_deref() == Some("RollingUpdate") {
            let rolling = strategy.rolling_update.get_or_insert_with(Default::default);
            default_ptr(&mut rolling.max_unavailable, IntOrString::Int(1));
            default_ptr(&mut rolling.max_surge, IntOrString::Int(0));
        }
        default_ptr(&mut spec.revision_history_limit, REVISION_HISTORY_LIMIT);
        pod_template_spec(&mut spec.template);
    }
}

/// `podManagementPolicy: OrderedReady`, a `RollingUpdate` strategy with `partition: 0`, a
/// `Retain`/`Retain` PVC retention policy, `replicas: 1`, `revisionHistoryLimit: 10`, the
/// template's defaults and each volume claim template's claim defaults.
impl SetDefaults for StatefulSet {
    fn set_defaults(&mut self) {
        let spec = self.spec.get_or_insert_with(Default::default);
        default_str(&mut spec.pod_management_policy, "OrderedReady");

        let strategy = spec.update_strategy.get_or_insert_with(Default::default);
        if strategy.type_.as_deref().is_none_or(str::is_empty) {
            strategy.type_ = Some("RollingUpdate".to_owned());
            // Only a strategy whose type was defaulted gets a rolling update created; an
            // explicit `RollingUpdate` without parameters stays as written.
            default_ptr(&mut strategy.rolling_update, Default::default());
        }
        if strategy.type_.as_deref() == Some("RollingUpdate")
            && let Some(rolling) = &mut strategy.rolling_update
        {
            default_ptr(&mut rolling.partition, 0);
        }

        let retention = spec
            .persistent_volume_claim_retention_policy
            .get_or_insert_with(Default::default);
        default_str(&mut retention.when_deleted, "Retain");
        default_str(&mut retention.when_scaled, "Retain");

        default_ptr(&mut spec.replicas, 1);
        default_ptr(&mut spec.revision_history_limit, REVISION_HISTORY_LIMIT);
        pod_template_spec(&mut spec.template);
        for claim in spec.volume_claim_templates.iter_mut().flatten() {
            pvc(claim);
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use crate::apps::v1::{ControllerRevision, DaemonSet, Deployment, ReplicaSet, StatefulSet};
    use crate::defaults::tests::{assert_defaults, assert_unchanged, defaulted};

    /// A one-container template, before defaulting.
    fn template() -> Value {
        json!({"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [{"name": "web", "image": "nginx:1.27"}]}})
    }

    /// The same template after the pod-spec defaults.
    fn defaulted_template() -> Value {
        json!({"metadata": {"labels": {"app": "web"}}, "spec": {
            "containers": [{
                "name": "web", "image": "nginx:1.27", "imagePullPolicy": "IfNotPresent",
                "terminationMessagePath": "/dev/termination-log", "terminationMessagePolicy": "File"
            }],
            "dnsPolicy": "ClusterFirst",
            "restartPolicy": "Always",
            "schedulerName": "default-scheduler",
            "securityContext": {},
            "terminationGracePeriodSeconds": 30
        }})
    }

    /// The label selector matching [`template`].
    fn selector() -> Value {
        json!({"matchLabels": {"app": "web"}})
    }

    #[test]
    fn deployment() {
        assert_defaults::<Deployment>(
            json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
                "spec": {"selector": selector(), "template": template()}}),
            json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"}, "spec": {
                "replicas": 1,
                "selector": selector(),
                "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": "25%", "maxSurge": "25%"}},
                "revisionHistoryLimit": 10,
                "progressDeadlineSeconds": 600,
                "template": defaulted_template()
            }}),
        );
        // A Recreate strategy gets no rolling-update parameters; partial ones are completed.
        let out = defaulted::<Deployment>(json!({"spec": {"strategy": {"type": "Recreate"}}}));
        assert_eq!(out["spec"]["strategy"], json!({"type": "Recreate"}));
        let out = defaulted::<Deployment>(
            json!({"spec": {"strategy": {"rollingUpdate": {"maxSurge": 0}}}}),
        );
        assert_eq!(
            out["spec"]["strategy"],
            json!({"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 0, "maxUnavailable": "25%"}})
        );
    }

    #[test]
    fn replica_set() {
        assert_defaults::<ReplicaSet>(
            json!({"metadata": {"name": "web"}, "spec": {"selector": selector(), "template": template()}}),
            json!({"apiVersion": "apps/v1", "kind": "ReplicaSet", "metadata": {"name": "web"}, "spec": {
                "replicas": 1, "selector": selector(), "template": defaulted_template()
            }}),
        );
    }

    #[test]
    fn daemon_set() {
        assert_defaults::<DaemonSet>(
            json!({"metadata": {"name": "agent"}, "spec": {"selector": selector(), "template": template()}}),
            json!({"apiVersion": "apps/v1", "kind": "DaemonSet", "metadata": {"name": "agent"}, "spec": {
                "selector": selector(),
                "updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 1, "maxSurge": 0}},
                "revisionHistoryLimit": 10,
                "template": defaulted_template()
            }}),
        );
        let out = defaulted::<DaemonSet>(json!({"spec": {"updateStrategy": {"type": "OnDelete"}}}));
        assert_eq!(out["spec"]["updateStrategy"], json!({"type": "OnDelete"}));
    }

    #[test]
    fn stateful_set() {
        assert_defaults::<StatefulSet>(
            json!({"metadata": {"name": "db"}, "spec": {
                "serviceName": "db", "selector": selector(), "template": template(),
                "volumeClaimTemplates": [{"metadata": {"name": "data"},
                    "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}}]
            }}),
            json!({"apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": {"name": "db"}, "spec": {
                "serviceName": "db",
                "selector": selector(),
                "podManagementPolicy": "OrderedReady",
                "updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"partition": 0}},
                "persistentVolumeClaimRetentionPolicy": {"whenDeleted": "Retain", "whenScaled": "Retain"},
                "replicas": 1,
                "revisionHistoryLimit": 10,
                "template": defaulted_template(),
                "volumeClaimTemplates": [{
                    "apiVersion": "v1", "kind": "PersistentVolumeClaim",
                    "metadata": {"name": "data"},
                    "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}},
                        "volumeMode": "Filesystem"},
                    "status": {"phase": "Pending"}
                }]
            }}),
        );
    }

    #[test]
    fn stateful_set_update_strategy_cases() {
        // An explicit RollingUpdate without parameters is left without parameters.
        let out = defaulted::<StatefulSet>(
            json!({"spec": {"updateStrategy": {"type": "RollingUpdate"}}}),
        );
        assert_eq!(
            out["spec"]["updateStrategy"],
            json!({"type": "RollingUpdate"})
        );
        let out =
            defaulted::<StatefulSet>(json!({"spec": {"updateStrategy": {"type": "RollingUpdate",
            "rollingUpdate": {"maxUnavailable": 2}}}}));
        assert_eq!(
            out["spec"]["updateStrategy"],
            json!({"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 2, "partition": 0}})
        );
        let out =
            defaulted::<StatefulSet>(json!({"spec": {"updateStrategy": {"type": "OnDelete"}}}));
        assert_eq!(out["spec"]["updateStrategy"], json!({"type": "OnDelete"}));
        let out = defaulted::<StatefulSet>(json!({"spec": {
            "persistentVolumeClaimRetentionPolicy": {"whenDeleted": "Delete"}}}));
        assert_eq!(
            out["spec"]["persistentVolumeClaimRetentionPolicy"],
            json!({"whenDeleted": "Delete", "whenScaled": "Retain"})
        );
    }

    #[test]
    fn controller_revision_has_no_defaults() {
        let input = json!({"apiVersion": "apps/v1", "kind": "ControllerRevision",
            "metadata": {"name": "r"}, "data": {"spec": {}}, "revision": 1});
        assert_unchanged::<ControllerRevision>(input);
    }
}
