//! Printers of the `apps` group: deployments, replica sets, daemon sets, stateful sets and
//! controller revisions.

use kubernaut_api_types::apps::v1::{
    ControllerRevision, DaemonSet, Deployment, ReplicaSet, StatefulSet,
};
use kubernaut_api_types::selector::{Selector, format_label_selector};

use super::descriptions::*;
use super::{
    AGE, CONTAINERS, Column, IMAGES, KindPrinter, NAME, age, containers_and_images, decode,
    format_labels, int, name, text,
};

/// `kubectl get deployments`: `NAME READY UP-TO-DATE AVAILABLE AGE` (wide: `CONTAINERS
/// IMAGES SELECTOR`).
pub(super) static DEPLOYMENT: KindPrinter = KindPrinter::new(
    &[
        NAME,
        Column::new("Ready", "string", "Number of the pod with ready state"),
        Column::new("Up-to-date", "string", DEPLOYMENT_STATUS_UPDATED_REPLICAS),
        Column::new("Available", "string", DEPLOYMENT_STATUS_AVAILABLE_REPLICAS),
        AGE,
        CONTAINERS,
        IMAGES,
        Column::new("Selector", "string", DEPLOYMENT_SPEC_SELECTOR).wide(),
    ],
    |object, now| {
        let deployment: Deployment = decode(object)?;
        let spec = deployment.spec.clone().unwrap_or_default();
        let status = deployment.status.clone().unwrap_or_default();
        // Upstream prints the selector's string form, `<invalid>` when it does not convert.
        let selector = match Selector::from_label_selector(spec.selector.as_deref()) {
            Ok(selector) => selector.to_string(),
            Err(_) => "<invalid>".to_owned(),
        };
        let [names, images] = containers_and_images(
            spec.template
                .spec
                .as_ref()
                .map(|s| s.containers.as_slice())
                .unwrap_or_default(),
        );
        Some(vec![
            text(name(&deployment.metadata)),
            text(format!(
                "{}/{}",
                status.ready_replicas.unwrap_or(0),
                spec.replicas.unwrap_or(0)
            )),
            int(status.updated_replicas.unwrap_or(0)),
            int(status.available_replicas.unwrap_or(0)),
            age(&deployment.metadata, now),
            names,
            images,
            text(selector),
        ])
    },
);

/// `kubectl get replicasets`: `NAME DESIRED CURRENT READY AGE` (wide: `CONTAINERS IMAGES
/// SELECTOR`).
pub(super) static REPLICA_SET: KindPrinter = KindPrinter::new(
    &[
        NAME,
        Column::new("Desired", "integer", REPLICA_SET_SPEC_REPLICAS),
        Column::new("Current", "integer", REPLICA_SET_STATUS_REPLICAS),
        Column::new("Ready", "integer", REPLICA_SET_STATUS_READY_REPLICAS),
        AGE,
        CONTAINERS,
        IMAGES,
        Column::new("Selector", "string", REPLICA_SET_SPEC_SELECTOR).wide(),
    ],
    |object, now| {
        let replica_set: ReplicaSet = decode(object)?;
        let spec = replica_set.spec.clone().unwrap_or_default();
        let status = replica_set.status.clone().unwrap_or_default();
        let [names, images] = containers_and_images(
            spec.template
                .as_ref()
                .and_then(|t| t.spec.as_ref())
                .map(|s| s.containers.as_slice())
                .unwrap_or_default(),
        );
        Some(vec![
            text(name(&replica_set.metadata)),
            int(spec.replicas.unwrap_or(0)),
            int(status.replicas),
            int(status.ready_replicas.unwrap_or(0)),
            age(&replica_set.metadata, now),
            names,
            images,
            text(format_label_selector(spec.selector.as_deref())),
        ])
    },
);

/// `kubectl get daemonsets`: `NAME DESIRED CURRENT READY UP-TO-DATE AVAILABLE NODE SELECTOR
/// AGE` (wide: `CONTAINERS IMAGES SELECTOR`).
pub(super) static DAEMON_SET: KindPrinter = KindPrinter::new(
    &[
        NAME,
        Column::new(
            "Desired",
            "integer",
            DAEMON_SET_STATUS_DESIRED_NUMBER_SCHEDULED,
        ),
        Column::new(
            "Current",
            "integer",
            DAEMON_SET_STATUS_CURRENT_NUMBER_SCHEDULED,
        ),
        Column::new("Ready", "integer", DAEMON_SET_STATUS_NUMBER_READY),
        Column::new(
            "Up-to-date",
            "integer",
            DAEMON_SET_STATUS_UPDATED_NUMBER_SCHEDULED,
        ),
        Column::new("Available", "integer", DAEMON_SET_STATUS_NUMBER_AVAILABLE),
        Column::new("Node Selector", "string", POD_SPEC_NODE_SELECTOR),
        AGE,
        CONTAINERS,
        IMAGES,
        Column::new("Selector", "string", DAEMON_SET_SPEC_SELECTOR).wide(),
    ],
    |object, now| {
        let daemon_set: DaemonSet = decode(object)?;
        let spec = daemon_set.spec.clone().unwrap_or_default();
        let status = daemon_set.status.clone().unwrap_or_default();
        let pod_spec = spec.template.spec.as_ref();
        let [names, images] = containers_and_images(
            pod_spec
                .map(|s| s.containers.as_slice())
                .unwrap_or_default(),
        );
        Some(vec![
            text(name(&daemon_set.metadata)),
            int(status.desired_number_scheduled),
            int(status.current_number_scheduled),
            int(status.number_ready),
            int(status.updated_number_scheduled.unwrap_or(0)),
            int(status.number_available.unwrap_or(0)),
            text(format_labels(
                pod_spec.and_then(|s| s.node_selector.as_ref()),
            )),
            age(&daemon_set.metadata, now),
            names,
            images,
            text(format_label_selector(spec.selector.as_deref())),
        ])
    },
);

/// `kubectl get statefulsets`: `NAME READY AGE` (wide: `CONTAINERS IMAGES`).
pub(super) static STATEFUL_SET: KindPrinter = KindPrinter::new(
    &[
        NAME,
        Column::new("Ready", "string", "Number of the pod with ready state"),
        AGE,
        CONTAINERS,
        IMAGES,
    ],
    |object, now| {
        let stateful_set: StatefulSet = decode(object)?;
        let spec = stateful_set.spec.clone().unwrap_or_default();
        let ready = stateful_set
            .status
            .as_ref()
            .and_then(|s| s.ready_replicas)
            .unwrap_or(0);
        let [names, images] = containers_and_images(
            spec.template
                .spec
                .as_ref()
                .map(|s| s.containers.as_slice())
                .unwrap_or_default(),
        );
        Some(vec![
            text(name(&stateful_set.metadata)),
            text(format!("{ready}/{}", spec.replicas.unwrap_or(0))),
            age(&stateful_set.metadata, now),
            names,
            images,
        ])
    },
);

/// `kubectl get controllerrevisions`: `NAME CONTROLLER REVISION AGE`, the controller as
/// `kind.group/name` (`daemonset.apps/fluentd`).
pub(super) static CONTROLLER_REVISION: KindPrinter = KindPrinter::new(
    &[
        NAME,
        Column::new("Controller", "string", "Controller of the object"),
        Column::new("Revision", "string", CONTROLLER_REVISION_REVISION),
        AGE,
    ],
    |object, now| {
        let revision: ControllerRevision = decode(object)?;
        let controller = revision
            .metadata
            .controller_ref()
            .map_or("<none>".to_owned(), |owner| {
                // The group of `group/version`; a bare version is the core group.
                let group = owner
                    .api_version
                    .split_once('/')
                    .map_or("", |(group, _)| group);
                let kind = if group.is_empty() {
                    owner.kind.clone()
                } else {
                    format!("{}.{group}", owner.kind)
                };
                if kind.is_empty() {
                    owner.name.clone()
                } else {
                    format!("{}/{}", kind.to_lowercase(), owner.name)
                }
            });
        Some(vec![
            text(name(&revision.metadata)),
            text(controller),
            int(revision.revision),
            age(&revision.metadata, now),
        ])
    },
);

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::super::tests::{ago, cells, headers, manifest, merge};

    #[test]
    fn deployment_from_a_manifest_during_a_rollout() {
        assert_eq!(
            headers("apps", "Deployment"),
            [
                "Name",
                "Ready",
                "Up-to-date",
                "Available",
                "Age",
                "+Containers",
                "+Images",
                "+Selector"
            ]
        );
        let deployment = merge(
            manifest("website/application/deployment.yaml", 0),
            json!({"metadata": {"namespace": "default", "generation": 2, "creationTimestamp": ago(25 * 3600)},
                   "spec": {"replicas": 3},
                   "status": {"observedGeneration": 2, "replicas": 3, "updatedReplicas": 1,
                              "readyReplicas": 2, "availableReplicas": 2, "unavailableReplicas": 1}}),
        );
        assert_eq!(
            Value::from(cells("apps", "Deployment", &deployment)),
            json!([
                "nginx-deployment",
                "2/3",
                1,
                2,
                "25h",
                "nginx",
                "nginx:1.15",
                "app=nginx"
            ])
        );
    }

    #[test]
    fn deployment_defaults_and_selector_forms() {
        // No replicas: the default of one; no status yet.
        let fresh = json!({
            "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d"},
            "spec": {"selector": {"matchLabels": {"tier": "web", "app": "shop"},
                                  "matchExpressions": [{"key": "track", "operator": "NotIn", "values": ["canary", "beta"]},
                                                       {"key": "legacy", "operator": "DoesNotExist"}]},
                     "template": {"spec": {"containers": [{"name": "a", "image": "x:1"}, {"name": "b", "image": "y:2"}]}}},
        });
        assert_eq!(
            Value::from(cells("apps", "Deployment", &fresh)),
            json!([
                "d",
                "0/1",
                0,
                0,
                "<unknown>",
                "a,b",
                "x:1,y:2",
                "app=shop,!legacy,tier=web,track notin (beta,canary)"
            ])
        );
        let invalid = merge(
            fresh,
            json!({"spec": {"selector": {"matchExpressions": [{"key": "k", "operator": "Near"}]}}}),
        );
        assert_eq!(cells("apps", "Deployment", &invalid)[7], "<invalid>");
    }

    #[test]
    fn replica_set_from_a_manifest() {
        assert_eq!(
            headers("apps", "ReplicaSet"),
            [
                "Name",
                "Desired",
                "Current",
                "Ready",
                "Age",
                "+Containers",
                "+Images",
                "+Selector"
            ]
        );
        let replica_set = merge(
            manifest("website/controllers/frontend.yaml", 0),
            json!({"metadata": {"creationTimestamp": ago(9 * 60 + 1)},
                   "status": {"replicas": 3, "fullyLabeledReplicas": 3, "readyReplicas": 2, "availableReplicas": 2}}),
        );
        assert_eq!(
            Value::from(cells("apps", "ReplicaSet", &replica_set)),
            json!([
                "frontend",
                3,
                3,
                2,
                "9m1s",
                "nginx",
                "nginx",
                "tier=frontend"
            ])
        );
        let unselective = json!({"apiVersion": "apps/v1", "kind": "ReplicaSet", "metadata": {"name": "r"},
                                 "spec": {"replicas": 0, "selector": {}}});
        assert_eq!(
            Value::from(cells("apps", "ReplicaSet", &unselective)),
            json!(["r", 0, 0, 0, "<unknown>", "", "", "<none>"])
        );
    }

    #[test]
    fn daemon_set_from_a_manifest() {
        assert_eq!(
            headers("apps", "DaemonSet"),
            [
                "Name",
                "Desired",
                "Current",
                "Ready",
                "Up-to-date",
                "Available",
                "Node Selector",
                "Age",
                "+Containers",
                "+Images",
                "+Selector"
            ]
        );
        let daemon_set = merge(
            manifest("website/admin/cloud/ccm-example.yaml", 2),
            json!({"metadata": {"creationTimestamp": ago(6 * 86_400 + 7 * 3600)},
                   "status": {"desiredNumberScheduled": 3, "currentNumberScheduled": 3, "numberReady": 2,
                              "updatedNumberScheduled": 3, "numberAvailable": 2, "numberMisscheduled": 0}}),
        );
        assert_eq!(
            Value::from(cells("apps", "DaemonSet", &daemon_set)),
            json!([
                "cloud-controller-manager",
                3,
                3,
                2,
                3,
                2,
                "node-role.kubernetes.io/master=",
                "6d7h",
                "cloud-controller-manager",
                "k8s.gcr.io/cloud-controller-manager:v1.8.0",
                "k8s-app=cloud-controller-manager"
            ])
        );
        let logging = manifest("website/controllers/daemonset.yaml", 0);
        assert_eq!(cells("apps", "DaemonSet", &logging)[6], "<none>");
    }

    #[test]
    fn stateful_set_from_a_manifest() {
        assert_eq!(
            headers("apps", "StatefulSet"),
            ["Name", "Ready", "Age", "+Containers", "+Images"]
        );
        let stateful_set = merge(
            manifest("website/application/web/web.yaml", 1),
            json!({"metadata": {"creationTimestamp": ago(50)},
                   "status": {"replicas": 2, "readyReplicas": 1, "currentReplicas": 2}}),
        );
        assert_eq!(
            cells("apps", "StatefulSet", &stateful_set),
            [
                "web",
                "1/2",
                "50s",
                "nginx",
                "registry.k8s.io/nginx-slim:0.7"
            ]
        );
    }

    #[test]
    fn controller_revision_names_its_controller() {
        let revision = json!({
            "apiVersion": "apps/v1", "kind": "ControllerRevision",
            "metadata": {"name": "fluentd-elasticsearch-6c8d9f7b5", "creationTimestamp": ago(3600 * 30),
                         "ownerReferences": [
                             {"apiVersion": "v1", "kind": "ConfigMap", "name": "other", "uid": "1"},
                             {"apiVersion": "apps/v1", "kind": "DaemonSet", "name": "fluentd-elasticsearch",
                              "uid": "2", "controller": true}]},
            "revision": 2, "data": {},
        });
        assert_eq!(
            headers("apps", "ControllerRevision"),
            ["Name", "Controller", "Revision", "Age"]
        );
        assert_eq!(
            Value::from(cells("apps", "ControllerRevision", &revision)),
            json!([
                "fluentd-elasticsearch-6c8d9f7b5",
                "daemonset.apps/fluentd-elasticsearch",
                2,
                "30h"
            ])
        );
        let core_owner = merge(
            revision.clone(),
            json!({"metadata": {"ownerReferences": [{"apiVersion": "v1", "kind": "Pod", "name": "p",
                                                      "uid": "3", "controller": true}]}}),
        );
        assert_eq!(cells("apps", "ControllerRevision", &core_owner)[1], "pod/p");
        let orphan = merge(revision, json!({"metadata": {"ownerReferences": null}}));
        assert_eq!(cells("apps", "ControllerRevision", &orphan)[1], "<none>");
    }
}
