//! The core group besides Pods and Services: Namespace, ConfigMap, Secret, ServiceAccount, Node,
//! LimitRange, ResourceQuota, PersistentVolumeClaim, PersistentVolume, Binding, PodTemplate and
//! Event.

use serde_json::json;

use super::*;
use crate::validate::ErrorType::*;

#[test]
fn namespace_rules() {
    let ns =
        |name: &str| json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}});
    run(vec![
        case(
            "name is a DNS label (dots)",
            ns("team.a"),
            vec![e(
                Invalid,
                "metadata.name: Invalid value: \"team.a\": must not contain dots",
            )],
        ),
        case(
            "name is a DNS label (case)",
            ns("Team"),
            vec![e(
                Invalid,
                format!("metadata.name: Invalid value: \"Team\": {DNS_LABEL_MSG}"),
            )],
        ),
        case(
            // The defaulted kubernetes.io/metadata.name label repeats the name, as upstream's.
            "name length",
            ns(&"a".repeat(64)),
            vec![
                e(
                    Invalid,
                    format!(
                        "metadata.name: Invalid value: \"{}\": must be no more than 63 characters",
                        "a".repeat(64)
                    ),
                ),
                e(
                    Invalid,
                    format!(
                        "metadata.labels: Invalid value: \"{}\": must be no more than 63 characters",
                        "a".repeat(64)
                    ),
                ),
            ],
        ),
        case(
            "spec finalizers are qualified or standard",
            merge(&ns("team-a"), &json!({"spec": {"finalizers": ["custom"]}})),
            vec![e(
                Invalid,
                "spec.finalizers: Invalid value: \"custom\": name is neither a standard finalizer name nor is it fully qualified",
            )],
        ),
    ]);
}

#[test]
fn config_map_rules() {
    let cm = |patch: serde_json::Value| {
        merge(
            &json!({"apiVersion": "v1", "kind": "ConfigMap",
                "metadata": {"name": "cfg", "namespace": "default"}}),
            &patch,
        )
    };
    run(vec![
        case(
            "keys are config keys",
            cm(json!({"data": {"bad key": "v"}})),
            vec![e(
                Invalid,
                format!("data[bad key]: Invalid value: \"bad key\": {CM_KEY_MSG}"),
            )],
        ),
        case(
            "keys are not '..'",
            cm(json!({"data": {"..": "v"}})),
            vec![e(
                Invalid,
                "data[..]: Invalid value: \"..\": must not be '..'",
            )],
        ),
        case(
            "keys do not start with '..'",
            cm(json!({"binaryData": {"..a": "AA=="}})),
            vec![e(
                Invalid,
                "binaryData[..a]: Invalid value: \"..a\": must not start with '..'",
            )],
        ),
        case(
            "keys are at most 253 characters",
            cm(json!({"data": {"a".repeat(254): "v"}})),
            vec![e(
                Invalid,
                format!(
                    "data[{0}]: Invalid value: \"{0}\": must be no more than 253 characters",
                    "a".repeat(254)
                ),
            )],
        ),
        case(
            "data and binaryData keys are distinct",
            cm(json!({"data": {"k": "v"}, "binaryData": {"k": "AA=="}})),
            vec![e(
                Invalid,
                "data[k]: Invalid value: \"k\": duplicate of key present in binaryData",
            )],
        ),
        case(
            "total size at most 1 MiB",
            cm(json!({"data": {"big": "x".repeat(1024 * 1024 + 1)}})),
            vec![e(TooLong, ": Too long: may not be more than 1048576 bytes")],
        ),
    ]);
}

#[test]
fn secret_rules() {
    let secret = |patch: serde_json::Value| {
        merge(
            &json!({"apiVersion": "v1", "kind": "Secret",
                "metadata": {"name": "s", "namespace": "default"}}),
            &patch,
        )
    };
    run(vec![
        case(
            "keys are config keys",
            secret(json!({"data": {"bad key": "eA=="}})),
            vec![e(
                Invalid,
                format!("data[bad key]: Invalid value: \"bad key\": {CM_KEY_MSG}"),
            )],
        ),
        case(
            "stringData keys are checked as data keys",
            secret(json!({"stringData": {"bad key": "x"}})),
            vec![e(
                Invalid,
                format!("data[bad key]: Invalid value: \"bad key\": {CM_KEY_MSG}"),
            )],
        ),
        case(
            "total size at most 1 MiB",
            secret(json!({"stringData": {"big": "x".repeat(1024 * 1024 + 1)}})),
            vec![e(
                TooLong,
                "data: Too long: may not be more than 1048576 bytes",
            )],
        ),
        case(
            "tls secrets hold a certificate and a key",
            secret(json!({"type": "kubernetes.io/tls"})),
            vec![
                e(Required, "data[tls.crt]: Required value"),
                e(Required, "data[tls.key]: Required value"),
            ],
        ),
        case(
            "dockerconfigjson secrets hold .dockerconfigjson",
            secret(json!({"type": "kubernetes.io/dockerconfigjson"})),
            vec![e(Required, "data[.dockerconfigjson]: Required value")],
        ),
        case(
            "dockerconfigjson is JSON",
            secret(json!({"type": "kubernetes.io/dockerconfigjson",
                "stringData": {".dockerconfigjson": "{"}})),
            vec![e(
                Invalid,
                "data[.dockerconfigjson]: Invalid value: \"<secret contents redacted>\": unexpected end of JSON input",
            )],
        ),
        case(
            "dockercfg secrets hold .dockercfg",
            secret(json!({"type": "kubernetes.io/dockercfg"})),
            vec![e(Required, "data[.dockercfg]: Required value")],
        ),
        case(
            "basic-auth secrets hold a username or a password",
            secret(json!({"type": "kubernetes.io/basic-auth"})),
            vec![
                e(Required, "data[username]: Required value"),
                e(Required, "data[password]: Required value"),
            ],
        ),
        case(
            "basic-auth with a password alone is fine",
            secret(json!({"type": "kubernetes.io/basic-auth", "stringData": {"password": "p"}})),
            vec![],
        ),
        case(
            "ssh-auth secrets hold a private key",
            secret(json!({"type": "kubernetes.io/ssh-auth"})),
            vec![e(Required, "data[ssh-privatekey]: Required value")],
        ),
        case(
            "service-account-token secrets name their account",
            secret(json!({"type": "kubernetes.io/service-account-token"})),
            vec![e(
                Required,
                "metadata.annotations[kubernetes.io/service-account.name]: Required value",
            )],
        ),
        case(
            "name is a DNS subdomain",
            secret(json!({"metadata": {"name": "S"}})),
            vec![e(
                Invalid,
                format!("metadata.name: Invalid value: \"S\": {DNS_SUBDOMAIN_MSG}"),
            )],
        ),
    ]);
}

#[test]
fn service_account_and_node_rules() {
    let node = |patch: serde_json::Value| {
        merge(
            &json!({"apiVersion": "v1", "kind": "Node", "metadata": {"name": "node-1"}}),
            &patch,
        )
    };
    run(vec![
        case(
            "service account name is a DNS subdomain",
            json!({"apiVersion": "v1", "kind": "ServiceAccount",
                "metadata": {"name": "Builder", "namespace": "default"}}),
            vec![e(
                Invalid,
                format!("metadata.name: Invalid value: \"Builder\": {DNS_SUBDOMAIN_MSG}"),
            )],
        ),
        case(
            "node name is a DNS subdomain",
            node(json!({"metadata": {"name": "Node_1"}})),
            vec![e(
                Invalid,
                format!("metadata.name: Invalid value: \"Node_1\": {DNS_SUBDOMAIN_MSG}"),
            )],
        ),
        case(
            // Upstream validates a Node's spec.taints under the path metadata.taints.
            "taint effect enum",
            node(json!({"spec": {"taints": [{"key": "k", "effect": "Never"}]}})),
            vec![e(
                NotSupported,
                "metadata.taints[0].effect: Unsupported value: \"Never\": supported values: \"NoSchedule\", \"PreferNoSchedule\", \"NoExecute\"",
            )],
        ),
        case(
            "taint key is a qualified name",
            node(json!({"spec": {"taints": [{"key": "bad key", "effect": "NoSchedule"}]}})),
            vec![e(
                Invalid,
                format!("metadata.taints[0].key: Invalid value: \"bad key\": {QNAME_MSG}"),
            )],
        ),
        case(
            "taints are unique by key and effect",
            node(
                json!({"spec": {"taints": [{"key": "k", "effect": "NoSchedule"},
                                            {"key": "k", "value": "v", "effect": "NoSchedule"}]}}),
            ),
            vec![e(
                Duplicate,
                "metadata.taints[1]: Duplicate value: core.Taint{Key:\"k\", Value:\"v\", Effect:\"NoSchedule\", TimeAdded:(*v1.Time)(nil)}: taints must be unique by key and effect pair",
            )],
        ),
        case(
            "podCIDRs are CIDRs",
            node(json!({"spec": {"podCIDRs": ["10.0.0.0/33"]}})),
            vec![e(
                Invalid,
                "spec.podCIDRs[0]: Invalid value: \"10.0.0.0/33\": must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)",
            )],
        ),
    ]);
}

#[test]
fn limit_range_and_quota_rules() {
    let lr = |limits: serde_json::Value| {
        json!({"apiVersion": "v1", "kind": "LimitRange",
            "metadata": {"name": "l", "namespace": "default"}, "spec": {"limits": limits}})
    };
    let rq = |spec: serde_json::Value| {
        json!({"apiVersion": "v1", "kind": "ResourceQuota",
            "metadata": {"name": "q", "namespace": "default"}, "spec": spec})
    };
    run(vec![
        case(
            "min does not exceed max",
            lr(json!([{"type": "Pod", "max": {"cpu": "1"}, "min": {"cpu": "2"}}])),
            vec![e(
                Invalid,
                "spec.limits[0].min[cpu]: Invalid value: …: min value 2 is greater than max value 1",
            )],
        ),
        case(
            "container resource names",
            lr(json!([{"type": "Pod", "max": {"foo": "1"}}])),
            vec![
                e(
                    Invalid,
                    "spec.limits[0].max[foo]: Invalid value: \"foo\": must be a standard resource type or fully qualified",
                ),
                e(
                    Invalid,
                    "spec.limits[0].max[foo]: Invalid value: \"foo\": must be a standard resource for containers",
                ),
            ],
        ),
        case(
            "limit types are unique",
            lr(json!([{"type": "Container", "max": {"cpu": "1"}},
                      {"type": "Container", "max": {"cpu": "2"}}])),
            vec![e(
                Duplicate,
                "spec.limits[1].type: Duplicate value: \"Container\"",
            )],
        ),
        case(
            "quota resource names",
            rq(json!({"hard": {"foo": "1"}})),
            vec![
                e(
                    Invalid,
                    "spec.hard[foo]: Invalid value: \"foo\": must be a standard resource type or fully qualified",
                ),
                e(
                    Invalid,
                    "spec.hard[foo]: Invalid value: \"foo\": must be a standard resource for quota",
                ),
            ],
        ),
        case(
            "quota values are not negative",
            rq(json!({"hard": {"pods": "-1"}})),
            vec![e(
                Invalid,
                "spec.hard[pods]: Invalid value: \"-1\": must be greater than or equal to 0",
            )],
        ),
        case(
            "quota counts are integers",
            rq(json!({"hard": {"pods": "1500m"}})),
            vec![e(
                Invalid,
                "spec.hard[pods]: Invalid value: …: must be an integer",
            )],
        ),
        case(
            "quota scopes",
            rq(json!({"hard": {"pods": "1"}, "scopes": ["Bogus"]})),
            vec![e(
                Invalid,
                "spec.scopes: Invalid value: []core.ResourceQuotaScope{\"Bogus\"}: unsupported scope",
            )],
        ),
        case(
            "defaulted container limits are checked against min and max",
            lr(json!([{"type": "Container", "max": {"cpu": "1"}, "min": {"cpu": "2"}}])),
            vec![
                e(
                    Invalid,
                    "spec.limits[0].min[cpu]: Invalid value: …: min value 2 is greater than max value 1",
                ),
                e(
                    Invalid,
                    "spec.limits[0].defaultRequest[cpu]: Invalid value: …: min value 2 is greater than default request value 1",
                ),
                e(
                    Invalid,
                    "spec.limits[0].default[cpu]: Invalid value: …: min value 2 is greater than default value 1",
                ),
            ],
        ),
    ]);
}

#[test]
fn volume_claim_rules() {
    let pvc = |patch: serde_json::Value| {
        merge(
            &json!({"apiVersion": "v1", "kind": "PersistentVolumeClaim",
                "metadata": {"name": "data", "namespace": "default"},
                "spec": {"accessModes": ["ReadWriteOnce"],
                    "resources": {"requests": {"storage": "1Gi"}}}}),
            &patch,
        )
    };
    let pv = |patch: serde_json::Value| {
        merge(
            &json!({"apiVersion": "v1", "kind": "PersistentVolume", "metadata": {"name": "pv"},
                "spec": {"capacity": {"storage": "1Gi"}, "accessModes": ["ReadWriteOnce"],
                    "hostPath": {"path": "/mnt/data"}}}),
            &patch,
        )
    };
    run(vec![
        case(
            "claims need an access mode",
            pvc(json!({"spec": {"accessModes": []}})),
            vec![e(
                Required,
                "spec.accessModes: Required value: at least 1 access mode is required",
            )],
        ),
        case(
            "claim access mode enum",
            pvc(json!({"spec": {"accessModes": ["ReadWriteSometimes"]}})),
            vec![e(
                NotSupported,
                "spec.accessModes: Unsupported value: \"ReadWriteSometimes\": supported values: \"ReadOnlyMany\", \"ReadWriteMany\", \"ReadWriteOnce\", \"ReadWriteOncePod\"",
            )],
        ),
        case(
            "claims request storage",
            pvc(json!({"spec": {"resources": {"requests": {"storage": null}}}})),
            vec![e(Required, "spec.resources[storage]: Required value")],
        ),
        case(
            "claims request positive storage",
            pvc(json!({"spec": {"resources": {"requests": {"storage": "0"}}}})),
            vec![e(
                Invalid,
                "spec.resources[storage]: Invalid value: \"0\": must be greater than zero",
            )],
        ),
        case(
            "claim volumeMode enum",
            pvc(json!({"spec": {"volumeMode": "Raw"}})),
            vec![e(
                NotSupported,
                "spec.volumeMode: Unsupported value: \"Raw\": supported values: \"Block\", \"Filesystem\"",
            )],
        ),
        case(
            "volumes have a capacity",
            pv(json!({"spec": {"capacity": null}})),
            vec![
                e(Required, "spec.capacity: Required value"),
                e(
                    NotSupported,
                    "spec.capacity: Unsupported value: …: supported values: \"storage\"",
                ),
            ],
        ),
        case(
            "volumes have a source",
            pv(json!({"spec": {"hostPath": null}})),
            vec![e(
                Required,
                "spec: Required value: must specify a volume type",
            )],
        ),
        case(
            "volumes need an access mode",
            pv(json!({"spec": {"accessModes": null}})),
            vec![e(Required, "spec.accessModes: Required value")],
        ),
        case(
            "reclaim policy enum",
            pv(json!({"spec": {"persistentVolumeReclaimPolicy": "Keep"}})),
            vec![e(
                NotSupported,
                "spec.persistentVolumeReclaimPolicy: Unsupported value: \"Keep\": supported values: \"Delete\", \"Recycle\", \"Retain\"",
            )],
        ),
        case(
            "volume name is a DNS subdomain",
            pv(json!({"metadata": {"name": "PV"}})),
            vec![e(
                Invalid,
                format!("metadata.name: Invalid value: \"PV\": {DNS_SUBDOMAIN_MSG}"),
            )],
        ),
    ]);
}

#[test]
fn binding_template_and_event_rules() {
    let binding = |target: serde_json::Value| {
        json!({"apiVersion": "v1", "kind": "Binding",
            "metadata": {"name": "p", "namespace": "default"}, "target": target})
    };
    let event = json!({"apiVersion": "v1", "kind": "Event",
        "metadata": {"name": "p.1", "namespace": "default"},
        "involvedObject": {"kind": "Pod", "namespace": "default", "name": "p"},
        "reason": "Started", "type": "Normal"});
    run(vec![
        case(
            "binding target kind",
            binding(json!({"kind": "Pod", "name": "n"})),
            vec![e(
                NotSupported,
                "target.kind: Unsupported value: \"Pod\": supported values: \"Node\", \"<empty>\"",
            )],
        ),
        case(
            "binding target name",
            binding(json!({"kind": "Node", "name": ""})),
            vec![e(Required, "target.name: Required value")],
        ),
        case(
            "pod templates validate their pod spec",
            json!({"apiVersion": "v1", "kind": "PodTemplate",
                "metadata": {"name": "t", "namespace": "default"},
                "template": {"spec": {"containers": [{"name": "c"}]}}}),
            vec![e(
                Required,
                "template.spec.containers[0].image: Required value",
            )],
        ),
        case(
            "event namespace matches its object",
            merge(&event, &json!({"involvedObject": {"namespace": "other"}})),
            vec![e(
                Invalid,
                "involvedObject.namespace: Invalid value: \"other\": does not match event.namespace",
            )],
        ),
        case(
            "new-style core events name their reporter",
            merge(&event, &json!({"eventTime": "2024-05-01T10:00:00.000000Z"})),
            vec![
                e(Required, "reportingComponent: Required value"),
                e(
                    Invalid,
                    "reportingComponent: Invalid value: \"\": name part must be non-empty",
                ),
                e(
                    Invalid,
                    format!("reportingComponent: Invalid value: \"\": {QNAME_MSG}"),
                ),
                e(Required, "reportingInstance: Required value"),
                e(Required, "action: Required value"),
            ],
        ),
    ]);
}
