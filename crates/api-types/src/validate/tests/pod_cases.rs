//! Pods: object meta, containers, ports, env, volumes and mounts, resources, enums, probes.

use serde_json::json;

use super::*;
use crate::validate::ErrorType::*;

#[test]
fn object_meta_rules() {
    let cm = json!({"apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": "cfg", "namespace": "default"}});
    let big = "x".repeat(256 * 1024);
    run(vec![
        case(
            "name must be a DNS subdomain",
            merge(&cm, &json!({"metadata": {"name": "Bad_Name"}})),
            vec![e(
                Invalid,
                format!("metadata.name: Invalid value: \"Bad_Name\": {DNS_SUBDOMAIN_MSG}"),
            )],
        ),
        case(
            "name is required",
            merge(&cm, &json!({"metadata": {"name": null}})),
            vec![e(
                Required,
                "metadata.name: Required value: name or generateName is required",
            )],
        ),
        case(
            "generateName alone is enough",
            merge(
                &cm,
                &json!({"metadata": {"name": null, "generateName": "cfg-"}}),
            ),
            vec![],
        ),
        case(
            "generateName is checked as a prefix",
            merge(
                &cm,
                &json!({"metadata": {"name": null, "generateName": "Cfg-"}}),
            ),
            vec![e(
                Invalid,
                format!("metadata.generateName: Invalid value: \"Cfg-\": {DNS_SUBDOMAIN_MSG}"),
            )],
        ),
        case(
            "namespace must be a DNS label",
            merge(&cm, &json!({"metadata": {"namespace": "Team_A"}})),
            vec![e(
                Invalid,
                format!("metadata.namespace: Invalid value: \"Team_A\": {DNS_LABEL_MSG}"),
            )],
        ),
        case(
            "label key must be a qualified name",
            merge(&cm, &json!({"metadata": {"labels": {"bad key": "v"}}})),
            vec![e(
                Invalid,
                format!("metadata.labels: Invalid value: \"bad key\": {QNAME_MSG}"),
            )],
        ),
        case(
            "label key prefix must be a DNS subdomain",
            merge(
                &cm,
                &json!({"metadata": {"labels": {"Example.com/app": "v"}}}),
            ),
            vec![e(
                Invalid,
                format!(
                    "metadata.labels: Invalid value: \"Example.com/app\": prefix part {DNS_SUBDOMAIN_MSG}"
                ),
            )],
        ),
        case(
            "label value syntax",
            merge(&cm, &json!({"metadata": {"labels": {"app": "-web"}}})),
            vec![e(
                Invalid,
                format!("metadata.labels: Invalid value: \"-web\": {LABEL_VALUE_MSG}"),
            )],
        ),
        case(
            "label value length",
            merge(
                &cm,
                &json!({"metadata": {"labels": {"app": "a".repeat(64)}}}),
            ),
            vec![e(
                Invalid,
                format!(
                    "metadata.labels: Invalid value: \"{}\": must be no more than 63 characters",
                    "a".repeat(64)
                ),
            )],
        ),
        case(
            "annotation key must be a qualified name",
            merge(&cm, &json!({"metadata": {"annotations": {"bad key": "v"}}})),
            vec![e(
                Invalid,
                format!("metadata.annotations: Invalid value: \"bad key\": {QNAME_MSG}"),
            )],
        ),
        case(
            "annotations total size",
            merge(&cm, &json!({"metadata": {"annotations": {"a": big}}})),
            vec![e(
                TooLong,
                "metadata.annotations: Too long: may not be more than 262144 bytes",
            )],
        ),
        case(
            "owner reference fields are required",
            merge(
                &cm,
                &json!({"metadata": {"ownerReferences": [
                    {"apiVersion": "", "kind": "", "name": "", "uid": ""}]}}),
            ),
            vec![
                e(
                    Invalid,
                    "metadata.ownerReferences.apiVersion: Invalid value: \"\": version must not be empty",
                ),
                e(
                    Invalid,
                    "metadata.ownerReferences.kind: Invalid value: \"\": must not be empty",
                ),
                e(
                    Invalid,
                    "metadata.ownerReferences.name: Invalid value: \"\": must not be empty",
                ),
                e(
                    Invalid,
                    "metadata.ownerReferences.uid: Invalid value: \"\": must not be empty",
                ),
            ],
        ),
        case(
            "only one controller owner",
            merge(
                &cm,
                &json!({"metadata": {"ownerReferences": [
                    {"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "a", "uid": "1",
                     "controller": true},
                    {"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "b", "uid": "2",
                     "controller": true}]}}),
            ),
            vec![e(
                Invalid,
                "metadata.ownerReferences: Invalid value: []v1.OwnerReference{…}: Only one reference can have Controller set to true. Found \"true\" in references for ReplicaSet/a and ReplicaSet/b",
            )],
        ),
        case(
            "finalizer without a domain must be a standard one",
            merge(&cm, &json!({"metadata": {"finalizers": ["custom"]}})),
            vec![e(
                Invalid,
                "metadata.finalizers[0]: Invalid value: \"custom\": name is neither a standard finalizer name nor is it fully qualified",
            )],
        ),
        case(
            "orphan and foreground deletion exclude each other",
            merge(
                &cm,
                &json!({"metadata": {"finalizers": ["orphan", "foregroundDeletion"]}}),
            ),
            vec![e(
                Invalid,
                "metadata.finalizers: Invalid value: []string{\"orphan\", \"foregroundDeletion\"}: finalizer orphan and foregroundDeletion cannot be both set",
            )],
        ),
    ]);
}

#[test]
fn container_rules() {
    let two = |a: serde_json::Value, b: serde_json::Value| {
        merge(&pod(), &json!({"spec": {"containers": [a, b]}}))
    };
    run(vec![
        case(
            "container names are unique",
            two(container(), container()),
            vec![e(
                Duplicate,
                "spec.containers[1].name: Duplicate value: \"c\"",
            )],
        ),
        case(
            "container name is a DNS label",
            pod_c(json!({"name": "Web_1"})),
            vec![e(
                Invalid,
                format!("spec.containers[0].name: Invalid value: \"Web_1\": {DNS_LABEL_MSG}"),
            )],
        ),
        case(
            "container name is required",
            pod_c(json!({"name": ""})),
            vec![e(Required, "spec.containers[0].name: Required value")],
        ),
        case(
            "image is required",
            pod_c(json!({"image": null})),
            vec![e(Required, "spec.containers[0].image: Required value")],
        ),
        case(
            "image without surrounding blanks",
            pod_c(json!({"image": " nginx"})),
            vec![e(
                Invalid,
                "spec.containers[0].image: Invalid value: \" nginx\": must not have leading or trailing whitespace",
            )],
        ),
        case(
            "at least one container",
            merge(&pod(), &json!({"spec": {"containers": []}})),
            vec![e(Required, "spec.containers: Required value")],
        ),
        case(
            "init container names do not clash with containers",
            merge(&pod(), &json!({"spec": {"initContainers": [container()]}})),
            vec![e(
                Duplicate,
                "spec.initContainers[0].name: Duplicate value: \"c\"",
            )],
        ),
        case(
            "imagePullPolicy enum",
            pod_c(json!({"imagePullPolicy": "Sometimes"})),
            vec![e(
                NotSupported,
                "spec.containers[0].imagePullPolicy: Unsupported value: \"Sometimes\": supported values: \"Always\", \"IfNotPresent\", \"Never\"",
            )],
        ),
        case(
            "terminationMessagePolicy enum",
            pod_c(json!({"terminationMessagePolicy": "Stdout"})),
            vec![e(
                NotSupported,
                "spec.containers[0].terminationMessagePolicy: Unsupported value: \"Stdout\": supported values: \"File\", \"FallbackToLogsOnError\"",
            )],
        ),
        case(
            "restartPolicy enum",
            merge(&pod(), &json!({"spec": {"restartPolicy": "Sometimes"}})),
            vec![e(
                NotSupported,
                "spec.restartPolicy: Unsupported value: \"Sometimes\": supported values: \"Always\", \"OnFailure\", \"Never\"",
            )],
        ),
        case(
            "dnsPolicy enum",
            merge(&pod(), &json!({"spec": {"dnsPolicy": "Bogus"}})),
            vec![e(
                NotSupported,
                "spec.dnsPolicy: Unsupported value: \"Bogus\": supported values: \"ClusterFirstWithHostNet\", \"ClusterFirst\", \"Default\", \"None\"",
            )],
        ),
        case(
            "dnsPolicy None needs a dnsConfig",
            merge(&pod(), &json!({"spec": {"dnsPolicy": "None"}})),
            vec![e(
                Required,
                "spec.dnsConfig: Required value: must provide `dnsConfig` when `dnsPolicy` is None",
            )],
        ),
        case(
            "activeDeadlineSeconds is positive",
            merge(&pod(), &json!({"spec": {"activeDeadlineSeconds": 0}})),
            vec![e(
                Invalid,
                "spec.activeDeadlineSeconds: Invalid value: 0: must be between 1 and 2147483647, inclusive",
            )],
        ),
        case(
            "nodeSelector labels",
            merge(&pod(), &json!({"spec": {"nodeSelector": {"disk": "-ssd"}}})),
            vec![e(
                Invalid,
                format!("spec.nodeSelector: Invalid value: \"-ssd\": {LABEL_VALUE_MSG}"),
            )],
        ),
        case(
            "serviceAccountName is a DNS subdomain",
            merge(&pod(), &json!({"spec": {"serviceAccountName": "Bad_SA"}})),
            vec![e(
                Invalid,
                format!("spec.serviceAccountName: Invalid value: \"Bad_SA\": {DNS_SUBDOMAIN_MSG}"),
            )],
        ),
        case(
            "hostname is a DNS label",
            merge(&pod(), &json!({"spec": {"hostname": "Host"}})),
            vec![e(
                Invalid,
                format!("spec.hostname: Invalid value: \"Host\": {DNS_LABEL_MSG}"),
            )],
        ),
    ]);
}

#[test]
fn port_rules() {
    let ports = |p: serde_json::Value| pod_c(json!({"ports": p}));
    run(vec![
        case(
            "containerPort is required",
            ports(json!([{"containerPort": 0}])),
            vec![e(
                Required,
                "spec.containers[0].ports[0].containerPort: Required value",
            )],
        ),
        case(
            "containerPort range",
            ports(json!([{"containerPort": 70000}])),
            vec![e(
                Invalid,
                format!(
                    "spec.containers[0].ports[0].containerPort: Invalid value: 70000: {PORT_RANGE_MSG}"
                ),
            )],
        ),
        case(
            "containerPort is positive",
            ports(json!([{"containerPort": -1}])),
            vec![e(
                Invalid,
                format!(
                    "spec.containers[0].ports[0].containerPort: Invalid value: -1: {PORT_RANGE_MSG}"
                ),
            )],
        ),
        case(
            "hostPort range",
            ports(json!([{"containerPort": 80, "hostPort": 70000}])),
            vec![e(
                Invalid,
                format!(
                    "spec.containers[0].ports[0].hostPort: Invalid value: 70000: {PORT_RANGE_MSG}"
                ),
            )],
        ),
        case(
            "port name syntax",
            ports(json!([{"containerPort": 80, "name": "Http_1"}])),
            vec![e(
                Invalid,
                "spec.containers[0].ports[0].name: Invalid value: \"Http_1\": must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)",
            )],
        ),
        case(
            "port name length",
            ports(json!([{"containerPort": 80, "name": "abcdefghijklmnop"}])),
            vec![e(
                Invalid,
                "spec.containers[0].ports[0].name: Invalid value: \"abcdefghijklmnop\": must be no more than 15 characters",
            )],
        ),
        case(
            "port name needs a letter",
            ports(json!([{"containerPort": 80, "name": "8080"}])),
            vec![e(
                Invalid,
                "spec.containers[0].ports[0].name: Invalid value: \"8080\": must contain at least one letter (a-z)",
            )],
        ),
        case(
            "port name hyphens",
            ports(json!([{"containerPort": 80, "name": "-a--b"}])),
            vec![
                e(
                    Invalid,
                    "spec.containers[0].ports[0].name: Invalid value: \"-a--b\": must not contain consecutive hyphens",
                ),
                e(
                    Invalid,
                    "spec.containers[0].ports[0].name: Invalid value: \"-a--b\": must not begin or end with a hyphen",
                ),
            ],
        ),
        case(
            "port names are unique",
            ports(json!([{"containerPort": 80, "name": "http"},
                         {"containerPort": 81, "name": "http"}])),
            vec![e(
                Duplicate,
                "spec.containers[0].ports[1].name: Duplicate value: \"http\"",
            )],
        ),
        case(
            "protocol enum",
            ports(json!([{"containerPort": 80, "protocol": "HTTP"}])),
            vec![e(
                NotSupported,
                "spec.containers[0].ports[0].protocol: Unsupported value: \"HTTP\": supported values: \"SCTP\", \"TCP\", \"UDP\"",
            )],
        ),
        case(
            "host ports are unique across containers",
            merge(
                &pod(),
                &json!({"spec": {"containers": [
                    {"name": "a", "image": "x", "ports": [{"containerPort": 80, "hostPort": 8080}]},
                    {"name": "b", "image": "x", "ports": [{"containerPort": 81, "hostPort": 8080}]}]}}),
            ),
            vec![e(
                Duplicate,
                "spec.containers[1].ports[0].hostPort: Duplicate value: \"TCP//8080\"",
            )],
        ),
    ]);
}

#[test]
fn env_rules() {
    let env = |v: serde_json::Value| pod_c(json!({"env": v}));
    run(vec![
        case(
            "env name is required",
            env(json!([{"name": "", "value": "x"}])),
            vec![e(
                Required,
                "spec.containers[0].env[0].name: Required value",
            )],
        ),
        case(
            "env name without '='",
            env(json!([{"name": "A=B", "value": "x"}])),
            vec![e(
                Invalid,
                "spec.containers[0].env[0].name: Invalid value: \"A=B\": a valid environment variable name must consist only of printable ASCII characters other than '='",
            )],
        ),
        case(
            "relaxed env names allow digits first",
            env(json!([{"name": "1_A.b-c", "value": "x"}])),
            vec![],
        ),
        case(
            "value and valueFrom are exclusive",
            env(json!([{"name": "A", "value": "x",
                "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}}])),
            vec![e(
                Invalid,
                "spec.containers[0].env[0].valueFrom: Invalid value: \"\": may not be specified when `value` is not empty",
            )],
        ),
        case(
            "one valueFrom source",
            env(json!([{"name": "A", "valueFrom": {
                "fieldRef": {"fieldPath": "metadata.name"},
                "secretKeyRef": {"name": "s", "key": "k"}}}])),
            vec![e(
                Invalid,
                "spec.containers[0].env[0].valueFrom: Invalid value: \"\": may not have more than one field specified at a time",
            )],
        ),
        case(
            "fieldRef paths must convert",
            env(json!([{"name": "A", "valueFrom": {"fieldRef": {"fieldPath": "spec.bogus"}}}])),
            vec![e(
                Invalid,
                "spec.containers[0].env[0].valueFrom.fieldRef.fieldPath: Invalid value: \"spec.bogus\": error converting fieldPath: field label not supported: spec.bogus",
            )],
        ),
        case(
            "fieldRef paths for env are a fixed set",
            env(json!([{"name": "A", "valueFrom": {"fieldRef": {"fieldPath": "status.phase"}}}])),
            vec![e(
                NotSupported,
                "spec.containers[0].env[0].valueFrom.fieldRef.fieldPath: Unsupported value: \"status.phase\": supported values: \"metadata.name\", \"metadata.namespace\", \"metadata.uid\", \"spec.nodeName\", \"spec.serviceAccountName\", \"status.hostIP\", \"status.hostIPs\", \"status.podIP\", \"status.podIPs\"",
            )],
        ),
        case(
            "secretKeyRef key is a config key",
            env(json!([{"name": "A", "valueFrom": {"secretKeyRef": {"name": "s", "key": "a b"}}}])),
            vec![e(
                Invalid,
                format!(
                    "spec.containers[0].env[0].valueFrom.secretKeyRef.key: Invalid value: \"a b\": {CM_KEY_MSG}"
                ),
            )],
        ),
        case(
            "envFrom prefix",
            pod_c(json!({"envFrom": [{"prefix": "A=", "configMapRef": {"name": "cfg"}}]})),
            vec![e(
                Invalid,
                "spec.containers[0].envFrom[0].prefix: Invalid value: \"A=\": a valid environment variable name must consist only of printable ASCII characters other than '='",
            )],
        ),
    ]);
}

#[test]
fn volume_rules() {
    let vols = |v: serde_json::Value| merge(&pod(), &json!({"spec": {"volumes": v}}));
    run(vec![
        case(
            "mounts refer to a volume",
            pod_c(json!({"volumeMounts": [{"name": "data", "mountPath": "/data"}]})),
            vec![e(
                NotFound,
                "spec.containers[0].volumeMounts[0].name: Not found: \"data\"",
            )],
        ),
        case(
            "mountPath is required",
            merge(
                &pod_c(json!({"volumeMounts": [{"name": "data", "mountPath": ""}]})),
                &json!({"spec": {"volumes": [{"name": "data", "emptyDir": {}}]}}),
            ),
            vec![e(
                Required,
                "spec.containers[0].volumeMounts[0].mountPath: Required value",
            )],
        ),
        case(
            "mountPaths are unique",
            merge(
                &pod_c(
                    json!({"volumeMounts": [{"name": "data", "mountPath": "/data"},
                                                {"name": "data", "mountPath": "/data"}]}),
                ),
                &json!({"spec": {"volumes": [{"name": "data", "emptyDir": {}}]}}),
            ),
            vec![e(
                Invalid,
                "spec.containers[0].volumeMounts[1].mountPath: Invalid value: \"/data\": must be unique",
            )],
        ),
        case(
            "volume names are unique",
            vols(json!([{"name": "v", "emptyDir": {}}, {"name": "v", "emptyDir": {}}])),
            vec![e(Duplicate, "spec.volumes[1].name: Duplicate value: \"v\"")],
        ),
        case(
            "volume name is a DNS label",
            vols(json!([{"name": "V", "emptyDir": {}}])),
            vec![e(
                Invalid,
                format!("spec.volumes[0].name: Invalid value: \"V\": {DNS_LABEL_MSG}"),
            )],
        ),
        case(
            "volume name is required",
            vols(json!([{"name": "", "emptyDir": {}}])),
            vec![e(Required, "spec.volumes[0].name: Required value")],
        ),
        case(
            "one volume source",
            vols(json!([{"name": "v", "hostPath": {"path": "/x"}, "emptyDir": {}}])),
            vec![e(
                Forbidden,
                "spec.volumes[0].hostPath: Forbidden: may not specify more than 1 volume type",
            )],
        ),
        case(
            "secret volume needs secretName",
            vols(json!([{"name": "v", "secret": {}}])),
            vec![e(
                Required,
                "spec.volumes[0].secret.secretName: Required value",
            )],
        ),
        case(
            "configMap volume needs a name",
            vols(json!([{"name": "v", "configMap": {}}])),
            vec![e(
                Required,
                "spec.volumes[0].configMap.name: Required value",
            )],
        ),
        case(
            "hostPath needs a path",
            vols(json!([{"name": "v", "hostPath": {"path": ""}}])),
            vec![e(Required, "spec.volumes[0].hostPath.path: Required value")],
        ),
        case(
            "hostPath type enum",
            vols(json!([{"name": "v", "hostPath": {"path": "/x", "type": "Dir"}}])),
            vec![e(
                NotSupported,
                "spec.volumes[0].hostPath.type: Unsupported value: \"Dir\": supported values: \"\", \"BlockDevice\", \"CharDevice\", \"Directory\", \"DirectoryOrCreate\", \"File\", \"FileOrCreate\", \"Socket\"",
            )],
        ),
        case(
            "key paths are relative",
            vols(json!([{"name": "v", "configMap": {"name": "cfg",
                "items": [{"key": "a", "path": "/etc/a"}]}}])),
            vec![e(
                Invalid,
                "spec.volumes[0].configMap.items[0].path: Invalid value: \"/etc/a\": must be a relative path",
            )],
        ),
        case(
            "key paths stay inside",
            vols(json!([{"name": "v", "secret": {"secretName": "s",
                "items": [{"key": "a", "path": "../a"}]}}])),
            vec![e(
                Invalid,
                "spec.volumes[0].secret.items[0].path: Invalid value: \"../a\": must not contain '..'",
            )],
        ),
        case(
            "defaultMode range",
            vols(json!([{"name": "v", "secret": {"secretName": "s", "defaultMode": 1000}}])),
            vec![e(
                Invalid,
                "spec.volumes[0].secret.defaultMode: Invalid value: 1000: must be a number between 0 and 0777 (octal), both inclusive",
            )],
        ),
        case(
            "pvc volume needs claimName",
            vols(json!([{"name": "v", "persistentVolumeClaim": {"claimName": ""}}])),
            vec![e(
                Required,
                "spec.volumes[0].persistentVolumeClaim.claimName: Required value",
            )],
        ),
        case(
            "emptyDir sizeLimit is not negative",
            vols(json!([{"name": "v", "emptyDir": {"sizeLimit": "-1Gi"}}])),
            vec![e(
                Forbidden,
                "spec.volumes[0].emptyDir.sizeLimit: Forbidden: SizeLimit field must be a valid resource quantity",
            )],
        ),
    ]);
}

#[test]
fn resource_rules() {
    let res = |r: serde_json::Value| pod_c(json!({"resources": r}));
    run(vec![
        case(
            "requests do not exceed limits",
            res(json!({"limits": {"cpu": "1"}, "requests": {"cpu": "2"}})),
            vec![e(
                Invalid,
                "spec.containers[0].resources.requests: Invalid value: \"2\": must be less than or equal to cpu limit of 1",
            )],
        ),
        case(
            "memory requests do not exceed limits",
            res(json!({"limits": {"memory": "1Gi"}, "requests": {"memory": "2Gi"}})),
            vec![e(
                Invalid,
                "spec.containers[0].resources.requests: Invalid value: \"2Gi\": must be less than or equal to memory limit of 1Gi",
            )],
        ),
        case(
            "requests are not negative",
            res(json!({"requests": {"memory": "-1"}})),
            vec![e(
                Invalid,
                "spec.containers[0].resources.requests[memory]: Invalid value: \"-1\": must be greater than or equal to 0",
            )],
        ),
        case(
            "limits are not negative",
            res(json!({"limits": {"cpu": "-100m"}})),
            vec![
                e(
                    Invalid,
                    "spec.containers[0].resources.limits[cpu]: Invalid value: \"-100m\": must be greater than or equal to 0",
                ),
                e(
                    Invalid,
                    "spec.containers[0].resources.requests[cpu]: Invalid value: \"-100m\": must be greater than or equal to 0",
                ),
            ],
        ),
        case(
            "standard container resource names",
            res(json!({"limits": {"foo": "1"}})),
            vec![
                e(
                    Invalid,
                    "spec.containers[0].resources.limits[foo]: Invalid value: \"foo\": must be a standard resource type or fully qualified",
                ),
                e(
                    Invalid,
                    "spec.containers[0].resources.limits[foo]: Invalid value: \"foo\": must be a standard resource for containers",
                ),
                e(
                    Invalid,
                    "spec.containers[0].resources.requests[foo]: Invalid value: \"foo\": must be a standard resource type or fully qualified",
                ),
                e(
                    Invalid,
                    "spec.containers[0].resources.requests[foo]: Invalid value: \"foo\": must be a standard resource for containers",
                ),
            ],
        ),
        case(
            "resource names are qualified names",
            res(json!({"limits": {"example.com/bad name": "1"}})),
            vec![
                e(
                    Invalid,
                    format!(
                        "spec.containers[0].resources.limits[example.com/bad name]: Invalid value: \"example.com/bad name\": {QNAME_MSG}"
                    ),
                ),
                e(
                    Invalid,
                    "spec.containers[0].resources.limits[example.com/bad name]: Invalid value: \"example.com/bad name\": doesn't follow extended resource name standard",
                ),
                e(
                    Invalid,
                    format!(
                        "spec.containers[0].resources.requests[example.com/bad name]: Invalid value: \"example.com/bad name\": {QNAME_MSG}"
                    ),
                ),
                e(
                    Invalid,
                    "spec.containers[0].resources.requests[example.com/bad name]: Invalid value: \"example.com/bad name\": doesn't follow extended resource name standard",
                ),
            ],
        ),
        case(
            "extended resources need a limit",
            res(json!({"requests": {"example.com/gpu": "1"}})),
            vec![e(
                Required,
                "spec.containers[0].resources.limits: Required value: Limit must be set for non overcommitable resources",
            )],
        ),
        case(
            "extended resource requests equal limits",
            res(json!({"requests": {"example.com/gpu": "1"}, "limits": {"example.com/gpu": "2"}})),
            vec![e(
                Invalid,
                "spec.containers[0].resources.requests: Invalid value: \"1\": must be equal to example.com/gpu limit of 2",
            )],
        ),
        case(
            "extended resources are whole numbers",
            res(json!({"limits": {"example.com/gpu": "500m"}})),
            vec![
                e(
                    Invalid,
                    "spec.containers[0].resources.limits[example.com/gpu]: Invalid value: …: must be an integer",
                ),
                e(
                    Invalid,
                    "spec.containers[0].resources.requests[example.com/gpu]: Invalid value: …: must be an integer",
                ),
            ],
        ),
    ]);
}

#[test]
fn probe_rules() {
    let probe = |p: serde_json::Value| pod_c(json!({"livenessProbe": p}));
    run(vec![
        case(
            "a probe needs a handler",
            probe(json!({})),
            vec![e(
                Required,
                "spec.containers[0].livenessProbe: Required value: must specify a handler type",
            )],
        ),
        case(
            "a probe has one handler",
            probe(json!({"exec": {"command": ["true"]}, "tcpSocket": {"port": 80}})),
            vec![e(
                Forbidden,
                "spec.containers[0].livenessProbe.tcpSocket: Forbidden: may not specify more than 1 handler type",
            )],
        ),
        case(
            "liveness successThreshold is 1",
            probe(json!({"exec": {"command": ["true"]}, "successThreshold": 2})),
            vec![e(
                Invalid,
                "spec.containers[0].livenessProbe.successThreshold: Invalid value: 2: must be 1",
            )],
        ),
        case(
            "periods are not negative",
            probe(json!({"exec": {"command": ["true"]}, "periodSeconds": -1})),
            vec![e(
                Invalid,
                "spec.containers[0].livenessProbe.periodSeconds: Invalid value: -1: must be greater than or equal to 0",
            )],
        ),
        case(
            "initialDelaySeconds is not negative",
            probe(json!({"exec": {"command": ["true"]}, "initialDelaySeconds": -5})),
            vec![e(
                Invalid,
                "spec.containers[0].livenessProbe.initialDelaySeconds: Invalid value: -5: must be greater than or equal to 0",
            )],
        ),
        case(
            "exec needs a command",
            probe(json!({"exec": {}})),
            vec![e(
                Required,
                "spec.containers[0].livenessProbe.exec.command: Required value",
            )],
        ),
        case(
            "httpGet port range",
            probe(json!({"httpGet": {"path": "/", "port": 0}})),
            vec![e(
                Invalid,
                format!(
                    "spec.containers[0].livenessProbe.httpGet.port: Invalid value: 0: {PORT_RANGE_MSG}"
                ),
            )],
        ),
        case(
            "httpGet named port syntax",
            probe(json!({"httpGet": {"path": "/", "port": "HTTP"}})),
            vec![
                e(
                    Invalid,
                    "spec.containers[0].livenessProbe.httpGet.port: Invalid value: \"HTTP\": must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)",
                ),
                e(
                    Invalid,
                    "spec.containers[0].livenessProbe.httpGet.port: Invalid value: \"HTTP\": must contain at least one letter (a-z)",
                ),
            ],
        ),
        case(
            "httpGet scheme enum",
            probe(json!({"httpGet": {"path": "/", "port": 80, "scheme": "FTP"}})),
            vec![e(
                NotSupported,
                "spec.containers[0].livenessProbe.httpGet.scheme: Unsupported value: \"FTP\": supported values: \"HTTP\", \"HTTPS\"",
            )],
        ),
        case(
            "grpc port range",
            probe(json!({"grpc": {"port": 70000}})),
            vec![e(
                Invalid,
                format!(
                    "spec.containers[0].livenessProbe.grpc.port: Invalid value: 70000: {PORT_RANGE_MSG}"
                ),
            )],
        ),
        case(
            "readiness probes have no termination grace period",
            pod_c(json!({"readinessProbe": {"exec": {"command": ["true"]},
                "terminationGracePeriodSeconds": 10}})),
            vec![e(
                Invalid,
                "spec.containers[0].readinessProbe.terminationGracePeriodSeconds: Invalid value: 10: must not be set for readinessProbes",
            )],
        ),
        case(
            "a lifecycle hook needs a handler",
            pod_c(json!({"lifecycle": {"preStop": {}}})),
            vec![e(
                Required,
                "spec.containers[0].lifecycle.preStop: Required value: must specify a handler type",
            )],
        ),
    ]);
}

#[test]
fn scheduling_rules() {
    run(vec![
        case(
            "toleration operator enum",
            merge(
                &pod(),
                &json!({"spec": {"tolerations": [{"key": "k", "operator": "In", "value": "v"}]}}),
            ),
            vec![e(
                NotSupported,
                "spec.tolerations[0].operator: Unsupported value: \"In\": supported values: \"Equal\", \"Exists\"",
            )],
        ),
        case(
            "Exists tolerations have no value",
            merge(
                &pod(),
                &json!({"spec": {"tolerations": [{"key": "k", "operator": "Exists", "value": "v"}]}}),
            ),
            vec![e(
                Invalid,
                "spec.tolerations[0].operator: Invalid value: core.Toleration{…}: value must be empty when `operator` is 'Exists'",
            )],
        ),
        case(
            "toleration effect enum",
            merge(
                &pod(),
                &json!({"spec": {"tolerations": [{"key": "k", "operator": "Exists", "effect": "Never"}]}}),
            ),
            vec![e(
                NotSupported,
                "spec.tolerations[0].effect: Unsupported value: \"Never\": supported values: \"NoSchedule\", \"PreferNoSchedule\", \"NoExecute\"",
            )],
        ),
        case(
            "node affinity terms are required",
            merge(
                &pod(),
                &json!({"spec": {"affinity": {"nodeAffinity": {
                    "requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": []}}}}}),
            ),
            vec![e(
                Required,
                "spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms: Required value: must have at least one node selector term",
            )],
        ),
        case(
            "node selector operator enum",
            merge(
                &pod(),
                &json!({"spec": {"affinity": {"nodeAffinity": {
                    "requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [
                        {"matchExpressions": [{"key": "zone", "operator": "Is", "values": ["a"]}]}]}}}}}),
            ),
            vec![e(
                Invalid,
                "spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0].matchExpressions[0].operator: Invalid value: \"Is\": not a valid selector operator",
            )],
        ),
        case(
            "pod affinity needs a topologyKey",
            merge(
                &pod(),
                &json!({"spec": {"affinity": {"podAffinity": {
                    "requiredDuringSchedulingIgnoredDuringExecution": [
                        {"labelSelector": {"matchLabels": {"app": "db"}}, "topologyKey": ""}]}}}}),
            ),
            vec![
                e(
                    Required,
                    "spec.affinity.podAffinity.requiredDuringSchedulingIgnoredDuringExecution[0].topologyKey: Required value: can not be empty",
                ),
                e(
                    Invalid,
                    "spec.affinity.podAffinity.requiredDuringSchedulingIgnoredDuringExecution[0].topologyKey: Invalid value: \"\": name part must be non-empty",
                ),
                e(
                    Invalid,
                    format!(
                        "spec.affinity.podAffinity.requiredDuringSchedulingIgnoredDuringExecution[0].topologyKey: Invalid value: \"\": {QNAME_MSG}"
                    ),
                ),
            ],
        ),
        case(
            "topology spread maxSkew is positive",
            merge(
                &pod(),
                &json!({"spec": {"topologySpreadConstraints": [{"maxSkew": 0,
                    "topologyKey": "zone", "whenUnsatisfiable": "DoNotSchedule"}]}}),
            ),
            vec![e(
                Invalid,
                "spec.topologySpreadConstraints[0].maxSkew: Invalid value: 0: must be greater than zero",
            )],
        ),
        case(
            "topology spread whenUnsatisfiable enum",
            merge(
                &pod(),
                &json!({"spec": {"topologySpreadConstraints": [{"maxSkew": 1,
                    "topologyKey": "zone", "whenUnsatisfiable": "Never"}]}}),
            ),
            vec![e(
                NotSupported,
                "spec.topologySpreadConstraints[0].whenUnsatisfiable: Unsupported value: \"Never\": supported values: \"DoNotSchedule\", \"ScheduleAnyway\"",
            )],
        ),
        case(
            "security context user ids are not negative",
            merge(
                &pod(),
                &json!({"spec": {"securityContext": {"runAsUser": -1}}}),
            ),
            vec![e(
                Invalid,
                "spec.securityContext.runAsUser: Invalid value: -1: must be between 0 and 2147483647, inclusive",
            )],
        ),
        case(
            "projected service-account tokens need a service account",
            merge(
                &pod(),
                &json!({"spec": {"volumes": [{"name": "token", "projected": {"sources": [
                    {"serviceAccountToken": {"path": "token"}}]}}]}}),
            ),
            vec![e(
                Forbidden,
                "spec.volumes[0].projected.sources[0].serviceAccountToken: Forbidden: must not be specified when serviceAccountName is not set",
            )],
        ),
    ]);
}
