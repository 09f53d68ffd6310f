//! apps/v1: Deployment, ReplicaSet, DaemonSet, StatefulSet, ControllerRevision.

use serde_json::json;

use super::*;
use crate::validate::ErrorType::*;

const NO_MATCH: &str = "`selector` does not match template `labels`";

#[test]
fn deployment_rules() {
    let d = |patch: serde_json::Value| merge(&deployment(), &patch);
    let rolling = |ru: serde_json::Value| d(json!({"spec": {"strategy": {"rollingUpdate": ru}}}));
    run(vec![
        case(
            "name is a DNS subdomain",
            d(json!({"metadata": {"name": "Web"}})),
            vec![e(
                Invalid,
                format!("metadata.name: Invalid value: \"Web\": {DNS_SUBDOMAIN_MSG}"),
            )],
        ),
        case(
            "selector is required",
            d(json!({"spec": {"selector": null}})),
            vec![
                e(Required, "spec.selector: Required value"),
                e(
                    Invalid,
                    format!(
                        "spec.template.metadata.labels: Invalid value: map[string]string{{\"app\":\"web\"}}: {NO_MATCH}"
                    ),
                ),
            ],
        ),
        case(
            "selector matches the template",
            d(json!({"spec": {"template": {"metadata": {"labels": {"app": "other"}}}}})),
            vec![e(
                Invalid,
                format!(
                    "spec.template.metadata.labels: Invalid value: map[string]string{{\"app\":\"other\"}}: {NO_MATCH}"
                ),
            )],
        ),
        case(
            "selector expressions match the template",
            d(
                json!({"spec": {"selector": {"matchLabels": null, "matchExpressions": [
                {"key": "tier", "operator": "In", "values": ["front"]}]}}}),
            ),
            vec![e(
                Invalid,
                format!(
                    "spec.template.metadata.labels: Invalid value: map[string]string{{\"app\":\"web\"}}: {NO_MATCH}"
                ),
            )],
        ),
        case(
            "selector operators",
            d(
                json!({"spec": {"selector": {"matchLabels": null, "matchExpressions": [
                {"key": "app", "operator": "Is", "values": ["web"]}]}}}),
            ),
            vec![
                e(
                    Invalid,
                    "spec.selector.matchExpressions[0].operator: Invalid value: \"Is\": not a valid selector operator",
                ),
                e(
                    Invalid,
                    "spec.selector: Invalid value: v1.LabelSelector{…}: invalid label selector",
                ),
            ],
        ),
        case(
            "selector In needs values",
            d(
                json!({"spec": {"selector": {"matchLabels": null, "matchExpressions": [
                {"key": "app", "operator": "In", "values": []}]}}}),
            ),
            vec![
                e(
                    Required,
                    "spec.selector.matchExpressions[0].values: Required value: must be specified when `operator` is 'In' or 'NotIn'",
                ),
                e(
                    Invalid,
                    "spec.selector: Invalid value: v1.LabelSelector{…}: invalid label selector",
                ),
            ],
        ),
        case(
            "selector label values",
            d(json!({"spec": {"selector": {"matchLabels": {"app": "-web"}}}})),
            vec![
                e(
                    Invalid,
                    format!(
                        "spec.selector.matchLabels: Invalid value: \"-web\": {LABEL_VALUE_MSG}"
                    ),
                ),
                e(
                    Invalid,
                    "spec.selector: Invalid value: v1.LabelSelector{…}: invalid label selector",
                ),
            ],
        ),
        case(
            "replicas are not negative",
            d(json!({"spec": {"replicas": -1}})),
            vec![e(
                Invalid,
                "spec.replicas: Invalid value: -1: must be greater than or equal to 0",
            )],
        ),
        case(
            "maxSurge and maxUnavailable not both zero",
            rolling(json!({"maxSurge": 0, "maxUnavailable": 0})),
            vec![e(
                Invalid,
                "spec.strategy.rollingUpdate.maxUnavailable: Invalid value: intstr.IntOrString{Type:0, IntVal:0, StrVal:\"\"}: may not be 0 when `maxSurge` is 0",
            )],
        ),
        case(
            "maxSurge and maxUnavailable not both zero percent",
            rolling(json!({"maxSurge": "0%", "maxUnavailable": 0})),
            vec![e(
                Invalid,
                "spec.strategy.rollingUpdate.maxUnavailable: Invalid value: intstr.IntOrString{Type:0, IntVal:0, StrVal:\"\"}: may not be 0 when `maxSurge` is 0",
            )],
        ),
        case(
            "maxUnavailable at most 100%",
            rolling(json!({"maxUnavailable": "150%"})),
            vec![e(
                Invalid,
                "spec.strategy.rollingUpdate.maxUnavailable: Invalid value: intstr.IntOrString{Type:1, IntVal:0, StrVal:\"150%\"}: must not be greater than 100%",
            )],
        ),
        case(
            "maxSurge may exceed 100%",
            rolling(json!({"maxSurge": "150%"})),
            vec![],
        ),
        case(
            "maxSurge is a percentage or a number",
            rolling(json!({"maxSurge": "abc"})),
            vec![e(
                Invalid,
                format!(
                    "spec.strategy.rollingUpdate.maxSurge: Invalid value: intstr.IntOrString{{Type:1, IntVal:0, StrVal:\"abc\"}}: {PERCENT_MSG}"
                ),
            )],
        ),
        case(
            "maxSurge is not negative",
            rolling(json!({"maxSurge": -1})),
            vec![e(
                Invalid,
                "spec.strategy.rollingUpdate.maxSurge: Invalid value: -1: must be greater than or equal to 0",
            )],
        ),
        case(
            "Recreate has no rollingUpdate",
            d(
                json!({"spec": {"strategy": {"type": "Recreate", "rollingUpdate": {"maxSurge": 1}}}}),
            ),
            vec![e(
                Forbidden,
                "spec.strategy.rollingUpdate: Forbidden: may not be specified when strategy `type` is 'Recreate'",
            )],
        ),
        case(
            "strategy type enum",
            d(json!({"spec": {"strategy": {"type": "Bogus"}}})),
            vec![e(
                NotSupported,
                "spec.strategy: Unsupported value: apps.DeploymentStrategy{Type:\"Bogus\", RollingUpdate:(*apps.RollingUpdateDeployment)(nil)}: supported values: \"Recreate\", \"RollingUpdate\"",
            )],
        ),
        case(
            "template restartPolicy is Always",
            d(json!({"spec": {"template": {"spec": {"restartPolicy": "Never"}}}})),
            vec![e(
                NotSupported,
                "spec.template.spec.restartPolicy: Unsupported value: \"Never\": supported values: \"Always\"",
            )],
        ),
        case(
            "template has no activeDeadlineSeconds",
            d(json!({"spec": {"template": {"spec": {"activeDeadlineSeconds": 30}}}})),
            vec![e(
                Forbidden,
                "spec.template.spec.activeDeadlineSeconds: Forbidden: activeDeadlineSeconds in ReplicaSet is not Supported",
            )],
        ),
        case(
            "template pod spec is validated",
            d(json!({"spec": {"template": {"spec": {"containers": [{"name": "c"}]}}}})),
            vec![e(
                Required,
                "spec.template.spec.containers[0].image: Required value",
            )],
        ),
        case(
            "template labels syntax",
            d(json!({"spec": {"template": {"metadata": {"labels": {"bad key": "v"}}}}})),
            vec![e(
                Invalid,
                format!("spec.template.labels: Invalid value: \"bad key\": {QNAME_MSG}"),
            )],
        ),
        case(
            "progressDeadlineSeconds exceeds minReadySeconds",
            d(json!({"spec": {"minReadySeconds": 700}})),
            vec![e(
                Invalid,
                "spec.progressDeadlineSeconds: Invalid value: 600: must be greater than minReadySeconds",
            )],
        ),
        case(
            "revisionHistoryLimit is not negative",
            d(json!({"spec": {"revisionHistoryLimit": -1}})),
            vec![e(
                Invalid,
                "spec.revisionHistoryLimit: Invalid value: -1: must be greater than or equal to 0",
            )],
        ),
        case(
            "minReadySeconds is not negative",
            d(json!({"spec": {"minReadySeconds": -1}})),
            vec![e(
                Invalid,
                "spec.minReadySeconds: Invalid value: -1: must be greater than or equal to 0",
            )],
        ),
    ]);
}

#[test]
fn replica_set_rules() {
    let r = |patch: serde_json::Value| merge(&replica_set(), &patch);
    run(vec![
        case(
            "replicas are not negative",
            r(json!({"spec": {"replicas": -1}})),
            vec![e(
                Invalid,
                "spec.replicas: Invalid value: -1: must be greater than or equal to 0",
            )],
        ),
        case(
            "selector matches the template",
            r(json!({"spec": {"selector": {"matchLabels": {"app": "api"}}}})),
            vec![e(
                Invalid,
                format!(
                    "spec.template.metadata.labels: Invalid value: map[string]string{{\"app\":\"web\"}}: {NO_MATCH}"
                ),
            )],
        ),
        case(
            "template restartPolicy is Always",
            r(json!({"spec": {"template": {"spec": {"restartPolicy": "OnFailure"}}}})),
            vec![e(
                NotSupported,
                "spec.template.spec.restartPolicy: Unsupported value: \"OnFailure\": supported values: \"Always\"",
            )],
        ),
        case(
            "name is a DNS subdomain",
            r(json!({"metadata": {"name": "web_1"}})),
            vec![e(
                Invalid,
                format!("metadata.name: Invalid value: \"web_1\": {DNS_SUBDOMAIN_MSG}"),
            )],
        ),
    ]);
}

#[test]
fn daemon_set_rules() {
    let d = |patch: serde_json::Value| merge(&daemon_set(), &patch);
    let rolling = |ru: serde_json::Value| {
        d(json!({"spec": {"updateStrategy": {"type": "RollingUpdate", "rollingUpdate": ru}}}))
    };
    run(vec![
        case(
            "maxUnavailable and maxSurge not both zero",
            rolling(json!({"maxUnavailable": 0, "maxSurge": 0})),
            vec![e(
                Required,
                "spec.updateStrategy.rollingUpdate.maxUnavailable: Required value: cannot be 0 when maxSurge is 0",
            )],
        ),
        case(
            "maxUnavailable and maxSurge not both set",
            rolling(json!({"maxUnavailable": 1, "maxSurge": 1})),
            vec![e(
                Invalid,
                "spec.updateStrategy.rollingUpdate.maxSurge: Invalid value: intstr.IntOrString{Type:0, IntVal:1, StrVal:\"\"}: may not be set when maxUnavailable is non-zero",
            )],
        ),
        case(
            "maxSurge at most 100%",
            rolling(json!({"maxUnavailable": 0, "maxSurge": "120%"})),
            vec![e(
                Invalid,
                "spec.updateStrategy.rollingUpdate.maxSurge: Invalid value: intstr.IntOrString{Type:1, IntVal:0, StrVal:\"120%\"}: must not be greater than 100%",
            )],
        ),
        case(
            "updateStrategy type enum",
            d(json!({"spec": {"updateStrategy": {"type": "Bogus"}}})),
            vec![e(
                NotSupported,
                "spec.updateStrategy: Unsupported value: apps.DaemonSetUpdateStrategy{…}: supported values: \"RollingUpdate\", \"OnDelete\"",
            )],
        ),
        case(
            "selector matches the template",
            d(json!({"spec": {"template": {"metadata": {"labels": {"app": "other"}}}}})),
            vec![e(
                Invalid,
                format!(
                    "spec.template.metadata.labels: Invalid value: map[string]string{{\"app\":\"other\"}}: {NO_MATCH}"
                ),
            )],
        ),
        case(
            "template restartPolicy is Always",
            d(json!({"spec": {"template": {"spec": {"restartPolicy": "Never"}}}})),
            vec![e(
                NotSupported,
                "spec.template.spec.restartPolicy: Unsupported value: \"Never\": supported values: \"Always\"",
            )],
        ),
        case(
            "revisionHistoryLimit is not negative",
            d(json!({"spec": {"revisionHistoryLimit": -2}})),
            vec![e(
                Invalid,
                "spec.revisionHistoryLimit: Invalid value: -2: must be greater than or equal to 0",
            )],
        ),
    ]);
}

#[test]
fn stateful_set_rules() {
    let s = |patch: serde_json::Value| merge(&stateful_set(), &patch);
    run(vec![
        case(
            "name is a DNS label",
            s(json!({"metadata": {"name": "web.v1"}})),
            vec![e(
                Invalid,
                "metadata.name: Invalid value: \"web.v1\": must not contain dots",
            )],
        ),
        case(
            "podManagementPolicy enum",
            s(json!({"spec": {"podManagementPolicy": "Random"}})),
            vec![e(
                Invalid,
                "spec.podManagementPolicy: Invalid value: \"Random\": must be 'OrderedReady' or 'Parallel'",
            )],
        ),
        case(
            "updateStrategy type enum",
            s(json!({"spec": {"updateStrategy": {"type": "Bogus"}}})),
            vec![e(
                Invalid,
                "spec.updateStrategy: Invalid value: apps.StatefulSetUpdateStrategy{Type:\"Bogus\", RollingUpdate:(*apps.RollingUpdateStatefulSetStrategy)(nil)}: must be 'RollingUpdate' or 'OnDelete'",
            )],
        ),
        case(
            "OnDelete has no rollingUpdate",
            s(
                json!({"spec": {"updateStrategy": {"type": "OnDelete", "rollingUpdate": {"partition": 1}}}}),
            ),
            vec![e(
                Invalid,
                "spec.updateStrategy.rollingUpdate: Invalid value: apps.RollingUpdateStatefulSetStrategy{Partition:1, MaxUnavailable:(*intstr.IntOrString)(nil)}: only allowed for updateStrategy 'RollingUpdate'",
            )],
        ),
        case(
            "partition is not negative",
            s(
                json!({"spec": {"updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"partition": -1}}}}),
            ),
            vec![e(
                Invalid,
                "spec.updateStrategy.rollingUpdate.partition: Invalid value: -1: must be greater than or equal to 0",
            )],
        ),
        case(
            "claim retention policy enum",
            s(json!({"spec": {"persistentVolumeClaimRetentionPolicy": {"whenDeleted": "Keep"}}})),
            vec![e(
                NotSupported,
                "spec.persistentVolumeClaimRetentionPolicy.whenDeleted: Unsupported value: \"Keep\": supported values: \"Retain\", \"Delete\"",
            )],
        ),
        case(
            "replicas are not negative",
            s(json!({"spec": {"replicas": -1}})),
            vec![e(
                Invalid,
                "spec.replicas: Invalid value: -1: must be greater than or equal to 0",
            )],
        ),
        case(
            "ordinals start is not negative",
            s(json!({"spec": {"ordinals": {"start": -1}}})),
            vec![e(
                Invalid,
                "spec.ordinals.start: Invalid value: -1: must be greater than or equal to 0",
            )],
        ),
        case(
            "selector is required",
            s(json!({"spec": {"selector": null}})),
            vec![
                e(Required, "spec.selector: Required value"),
                e(
                    Invalid,
                    format!(
                        "spec.template.metadata.labels: Invalid value: map[string]string{{\"app\":\"web\"}}: {NO_MATCH}"
                    ),
                ),
            ],
        ),
        case(
            "selector matches the template",
            s(json!({"spec": {"template": {"metadata": {"labels": {"app": "db"}}}}})),
            vec![e(
                Invalid,
                format!(
                    "spec.template.metadata.labels: Invalid value: map[string]string{{\"app\":\"db\"}}: {NO_MATCH}"
                ),
            )],
        ),
        case(
            "template restartPolicy is Always",
            s(json!({"spec": {"template": {"spec": {"restartPolicy": "Never"}}}})),
            vec![e(
                NotSupported,
                "spec.template.spec.restartPolicy: Unsupported value: \"Never\": supported values: \"Always\"",
            )],
        ),
        case(
            "template has no activeDeadlineSeconds",
            s(json!({"spec": {"template": {"spec": {"activeDeadlineSeconds": 5}}}})),
            vec![e(
                Forbidden,
                "spec.template.spec.activeDeadlineSeconds: Forbidden: activeDeadlineSeconds in StatefulSet is not Supported",
            )],
        ),
    ]);
}

#[test]
fn controller_revision_rules() {
    let base = json!({"apiVersion": "apps/v1", "kind": "ControllerRevision",
        "metadata": {"name": "web-1", "namespace": "default"}, "data": {"spec": {}},
        "revision": 1});
    run(vec![
        case(
            "data is required",
            merge(&base, &json!({"data": null})),
            vec![e(Required, "data: Required value: data is mandatory")],
        ),
        case(
            "revision is not negative",
            merge(&base, &json!({"revision": -1})),
            vec![e(
                Invalid,
                "revision: Invalid value: -1: must be greater than or equal to 0",
            )],
        ),
        case(
            "name is a DNS subdomain",
            merge(&base, &json!({"metadata": {"name": "Web"}})),
            vec![e(
                Invalid,
                format!("metadata.name: Invalid value: \"Web\": {DNS_SUBDOMAIN_MSG}"),
            )],
        ),
    ]);
}
