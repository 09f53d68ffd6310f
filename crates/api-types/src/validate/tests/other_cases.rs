//! networking, discovery, coordination, storage, scheduling, policy, events and RBAC.

use serde_json::json;

use super::*;
use crate::validate::ErrorType::*;

const WILDCARD_MSG: &str = "a wildcard DNS-1123 subdomain must start with '*.', followed by a valid DNS subdomain, which must consist of lower case alphanumeric characters, '-' or '.' and end with an alphanumeric character (e.g. '*.example.com', regex used for validation is '\\*\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";

#[test]
fn ingress_rules() {
    let ing = |patch: serde_json::Value| merge(&ingress(), &patch);
    let backend = |b: serde_json::Value| {
        let without = ing(json!({"spec": {"defaultBackend": null}}));
        merge(&without, &json!({"spec": {"defaultBackend": b}}))
    };
    let p = "spec.rules[0].http.paths[0]";
    run(vec![
        case(
            "paths are absolute",
            ingress_path(json!({"path": "foo"})),
            vec![e(
                Invalid,
                format!("{p}.path: Invalid value: \"foo\": must be an absolute path"),
            )],
        ),
        case(
            "implementation-specific paths are absolute too",
            ingress_path(json!({"path": "foo", "pathType": "ImplementationSpecific"})),
            vec![e(
                Invalid,
                format!("{p}.path: Invalid value: \"foo\": must be an absolute path"),
            )],
        ),
        case(
            "paths have no empty segments",
            ingress_path(json!({"path": "/a//b", "pathType": "Exact"})),
            vec![e(
                Invalid,
                format!("{p}.path: Invalid value: \"/a//b\": must not contain '//'"),
            )],
        ),
        case(
            "paths do not end in a dot segment",
            ingress_path(json!({"path": "/a/.."})),
            vec![e(
                Invalid,
                format!("{p}.path: Invalid value: \"/a/..\": cannot end with '/..'"),
            )],
        ),
        case(
            "pathType enum",
            ingress_path(json!({"pathType": "Regex"})),
            vec![e(
                NotSupported,
                format!(
                    "{p}.pathType: Unsupported value: \"Regex\": supported values: \"Exact\", \"ImplementationSpecific\", \"Prefix\""
                ),
            )],
        ),
        case(
            "pathType is required",
            ingress_path(json!({"pathType": null})),
            vec![e(
                Required,
                format!("{p}.pathType: Required value: pathType must be specified"),
            )],
        ),
        case(
            "a rule's http needs paths",
            ing(json!({"spec": {"rules": [{"host": "example.com", "http": {"paths": []}}]}})),
            vec![e(Required, "spec.rules[0].http.paths: Required value")],
        ),
        case(
            "rules or a default backend",
            ing(json!({"spec": {"defaultBackend": null}})),
            vec![e(
                Invalid,
                "spec: Invalid value: []networking.IngressRule(nil): either `defaultBackend` or `rules` must be specified",
            )],
        ),
        case(
            "hosts are DNS names",
            ing(json!({"spec": {"rules": [{"host": "Example.com"}]}})),
            vec![e(
                Invalid,
                format!("spec.rules[0].host: Invalid value: \"Example.com\": {DNS_SUBDOMAIN_MSG}"),
            )],
        ),
        case(
            "hosts are not IPs",
            ing(json!({"spec": {"rules": [{"host": "10.0.0.1"}]}})),
            vec![e(
                Invalid,
                "spec.rules[0].host: Invalid value: \"10.0.0.1\": must be a DNS name, not an IP address",
            )],
        ),
        case(
            "wildcard hosts",
            ing(json!({"spec": {"rules": [{"host": "*.Example.com"}]}})),
            vec![e(
                Invalid,
                format!("spec.rules[0].host: Invalid value: \"*.Example.com\": {WILDCARD_MSG}"),
            )],
        ),
        case(
            "backend port number or name, not both",
            backend(json!({"service": {"name": "web", "port": {"number": 80, "name": "http"}}})),
            vec![e(
                Invalid,
                "spec.defaultBackend: Invalid value: \"\": cannot set both port name & port number",
            )],
        ),
        case(
            "backend port is required",
            backend(json!({"service": {"name": "web", "port": {}}})),
            vec![e(
                Required,
                "spec.defaultBackend: Required value: port name or number is required",
            )],
        ),
        case(
            "a backend is a service or a resource",
            backend(json!({})),
            vec![e(
                Invalid,
                "spec.defaultBackend: Invalid value: \"\": resource or service backend is required",
            )],
        ),
        case(
            "a backend is not both",
            backend(json!({"service": {"name": "web", "port": {"number": 80}},
                "resource": {"apiGroup": "example.com", "kind": "Bucket", "name": "b"}})),
            vec![e(
                Invalid,
                "spec.defaultBackend: Invalid value: \"\": cannot set both resource and service backends",
            )],
        ),
        case(
            "backend service name is a DNS-1035 label",
            backend(json!({"service": {"name": "Web", "port": {"number": 80}}})),
            vec![e(
                Invalid,
                format!("spec.defaultBackend.service.name: Invalid value: \"Web\": {DNS1035_MSG}"),
            )],
        ),
        case(
            "backend port number range",
            backend(json!({"service": {"name": "web", "port": {"number": 70000}}})),
            vec![e(
                Invalid,
                format!(
                    "spec.defaultBackend.service.port.number: Invalid value: 70000: {PORT_RANGE_MSG}"
                ),
            )],
        ),
        case(
            "backend port name syntax",
            backend(json!({"service": {"name": "web", "port": {"name": "http_1"}}})),
            vec![e(
                Invalid,
                "spec.defaultBackend.service.port.name: Invalid value: \"http_1\": must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)",
            )],
        ),
        case(
            "tls hosts are DNS names",
            ing(json!({"spec": {"tls": [{"hosts": ["Bad"]}]}})),
            vec![e(
                Invalid,
                format!("spec.tls[0].hosts[0]: Invalid value: \"Bad\": {DNS_SUBDOMAIN_MSG}"),
            )],
        ),
        case(
            "ingressClassName is a DNS subdomain",
            ing(json!({"spec": {"ingressClassName": "Nginx"}})),
            vec![e(
                Invalid,
                format!("spec.ingressClassName: Invalid value: \"Nginx\": {DNS_SUBDOMAIN_MSG}"),
            )],
        ),
        case(
            "class annotation agrees with ingressClassName",
            ing(
                json!({"metadata": {"annotations": {"kubernetes.io/ingress.class": "nginx"}},
                "spec": {"ingressClassName": "traefik"}}),
            ),
            vec![e(
                Invalid,
                "annotations.kubernetes.io/ingress.class: Invalid value: \"nginx\": must match `ingressClassName` when both are specified",
            )],
        ),
    ]);
}

#[test]
fn ingress_class_rules() {
    let ic = |spec: serde_json::Value| {
        json!({"apiVersion": "networking.k8s.io/v1", "kind": "IngressClass",
            "metadata": {"name": "nginx"}, "spec": spec})
    };
    run(vec![
        case(
            "controller is required",
            ic(json!({"controller": ""})),
            vec![e(Required, "spec.controller: Required value")],
        ),
        case(
            "controller is a domain-prefixed path",
            ic(json!({"controller": "nginx"})),
            vec![e(
                Invalid,
                "spec.controller: Invalid value: \"nginx\": must be a domain-prefixed path (such as \"acme.io/foo\")",
            )],
        ),
        case(
            "parameters name a kind",
            ic(
                json!({"controller": "example.com/ingress", "parameters": {"kind": "", "name": "p"}}),
            ),
            vec![e(
                Required,
                "spec.parameters.kind: Required value: kind is required",
            )],
        ),
    ]);
}

#[test]
fn endpoint_slice_rules() {
    let es = |patch: serde_json::Value| {
        merge(
            &json!({"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
                "metadata": {"name": "web-abc", "namespace": "default"}, "addressType": "IPv4",
                "endpoints": [{"addresses": ["10.0.0.1"]}]}),
            &patch,
        )
    };
    run(vec![
        case(
            "addressType enum",
            es(json!({"addressType": "IPv5"})),
            vec![e(
                NotSupported,
                "addressType: Unsupported value: \"IPv5\": supported values: \"FQDN\", \"IPv4\", \"IPv6\"",
            )],
        ),
        case(
            "endpoints have addresses",
            es(json!({"endpoints": [{"addresses": []}]})),
            vec![e(
                Required,
                "endpoints[0].addresses: Required value: must contain at least 1 address",
            )],
        ),
        case(
            "IPv4 addresses",
            es(json!({"endpoints": [{"addresses": ["abc"]}]})),
            vec![
                e(
                    Invalid,
                    "endpoints[0].addresses[0]: Invalid value: \"abc\": must be a valid IPv4 address",
                ),
                e(
                    Invalid,
                    "endpoints[0].addresses[0]: Invalid value: \"abc\": must be a valid IP address",
                ),
            ],
        ),
        case(
            "endpoint hostnames are DNS labels",
            es(json!({"endpoints": [{"addresses": ["10.0.0.1"], "hostname": "Web"}]})),
            vec![e(
                Invalid,
                format!("endpoints[0].hostname: Invalid value: \"Web\": {DNS_LABEL_MSG}"),
            )],
        ),
        case(
            // Upstream checks neither the port number nor its range here.
            "unnamed ports are duplicates too",
            es(json!({"ports": [{"port": 80}, {"port": 81}]})),
            vec![e(Duplicate, "ports[1].name: Duplicate value: \"\"")],
        ),
        case(
            "port names are unique",
            es(json!({"ports": [{"name": "http", "port": 80}, {"name": "http", "port": 81}]})),
            vec![e(Duplicate, "ports[1].name: Duplicate value: \"http\"")],
        ),
    ]);
}

#[test]
fn lease_storage_priority_rules() {
    let lease = |spec: serde_json::Value| {
        json!({"apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
            "metadata": {"name": "l", "namespace": "default"}, "spec": spec})
    };
    let sc = |patch: serde_json::Value| {
        merge(
            &json!({"apiVersion": "storage.k8s.io/v1", "kind": "StorageClass",
                "metadata": {"name": "standard"}, "provisioner": "example.com/csi"}),
            &patch,
        )
    };
    let pc = |patch: serde_json::Value| {
        merge(
            &json!({"apiVersion": "scheduling.k8s.io/v1", "kind": "PriorityClass",
                "metadata": {"name": "high"}, "value": 1000}),
            &patch,
        )
    };
    run(vec![
        case(
            "lease duration is positive",
            lease(json!({"leaseDurationSeconds": 0})),
            vec![e(
                Invalid,
                "spec.leaseDurationSeconds: Invalid value: 0: must be greater than 0",
            )],
        ),
        case(
            "lease transitions are not negative",
            lease(json!({"leaseTransitions": -1})),
            vec![e(
                Invalid,
                "spec.leaseTransitions: Invalid value: -1: must be greater than or equal to 0",
            )],
        ),
        case(
            "provisioner is required",
            sc(json!({"provisioner": ""})),
            vec![e(Required, "provisioner: Required value")],
        ),
        case(
            "provisioner is a qualified name",
            sc(json!({"provisioner": "bad provisioner"})),
            vec![e(
                Invalid,
                format!("provisioner: Invalid value: \"bad provisioner\": {QNAME_MSG}"),
            )],
        ),
        case(
            "reclaimPolicy enum",
            sc(json!({"reclaimPolicy": "Recycle"})),
            vec![e(
                NotSupported,
                "reclaimPolicy: Unsupported value: \"Recycle\": supported values: \"Delete\", \"Retain\"",
            )],
        ),
        case(
            "volumeBindingMode enum",
            sc(json!({"volumeBindingMode": "Later"})),
            vec![e(
                NotSupported,
                "volumeBindingMode: Unsupported value: \"Later\": supported values: \"Immediate\", \"WaitForFirstConsumer\"",
            )],
        ),
        case(
            "storage class name is a DNS subdomain",
            sc(json!({"metadata": {"name": "Fast"}})),
            vec![e(
                Invalid,
                format!("metadata.name: Invalid value: \"Fast\": {DNS_SUBDOMAIN_MSG}"),
            )],
        ),
        case(
            "user priorities are at most one billion",
            pc(json!({"value": 2_000_000_000})),
            vec![e(
                Forbidden,
                "value: Forbidden: maximum allowed value of a user defined priority is 1000000000",
            )],
        ),
        case(
            "system- names are reserved",
            pc(json!({"metadata": {"name": "system-foo"}})),
            vec![e(
                Forbidden,
                "metadata.name: Forbidden: priority class names with 'system-' prefix are reserved for system use only. error: system-foo is not a known system priority class",
            )],
        ),
        case(
            "system classes have fixed values",
            pc(json!({"metadata": {"name": "system-node-critical"}})),
            vec![e(
                Forbidden,
                "metadata.name: Forbidden: priority class names with 'system-' prefix are reserved for system use only. error: value of system-node-critical PriorityClass must be 2000001000",
            )],
        ),
        case(
            "preemptionPolicy enum",
            pc(json!({"preemptionPolicy": "Sometimes"})),
            vec![e(
                NotSupported,
                "preemptionPolicy: Unsupported value: \"Sometimes\": supported values: \"PreemptLowerPriority\", \"Never\"",
            )],
        ),
    ]);
}

#[test]
fn disruption_budget_and_eviction_rules() {
    let pdb = |spec: serde_json::Value| {
        merge(
            &json!({"apiVersion": "policy/v1", "kind": "PodDisruptionBudget",
                "metadata": {"name": "web", "namespace": "default"},
                "spec": {"selector": {"matchLabels": {"app": "web"}}}}),
            &json!({"spec": spec}),
        )
    };
    run(vec![
        case(
            "minAvailable and maxUnavailable are exclusive",
            pdb(json!({"minAvailable": 1, "maxUnavailable": 1})),
            vec![e(
                Invalid,
                "spec: Invalid value: policy.PodDisruptionBudgetSpec{…}: minAvailable and maxUnavailable cannot be both set",
            )],
        ),
        case(
            "minAvailable at most 100%",
            pdb(json!({"minAvailable": "150%"})),
            vec![e(
                Invalid,
                "spec.minAvailable: Invalid value: intstr.IntOrString{Type:1, IntVal:0, StrVal:\"150%\"}: must not be greater than 100%",
            )],
        ),
        case(
            "minAvailable is not negative",
            pdb(json!({"minAvailable": -1})),
            vec![e(
                Invalid,
                "spec.minAvailable: Invalid value: -1: must be greater than or equal to 0",
            )],
        ),
        case(
            "maxUnavailable is a percentage or a number",
            pdb(json!({"maxUnavailable": "half"})),
            vec![e(
                Invalid,
                format!(
                    "spec.maxUnavailable: Invalid value: intstr.IntOrString{{Type:1, IntVal:0, StrVal:\"half\"}}: {PERCENT_MSG}"
                ),
            )],
        ),
        case(
            "unhealthyPodEvictionPolicy enum",
            pdb(json!({"unhealthyPodEvictionPolicy": "Never"})),
            vec![e(
                NotSupported,
                "spec.unhealthyPodEvictionPolicy: Unsupported value: \"Never\": supported values: \"AlwaysAllow\", \"IfHealthyBudget\"",
            )],
        ),
        case(
            "selector operators",
            pdb(json!({"selector": {"matchLabels": null,
                "matchExpressions": [{"key": "app", "operator": "Is"}]}})),
            vec![e(
                Invalid,
                "spec.selector.matchExpressions[0].operator: Invalid value: \"Is\": not a valid selector operator",
            )],
        ),
        case(
            "name is a path segment",
            merge(&pdb(json!({})), &json!({"metadata": {"name": "a/b"}})),
            vec![e(
                Invalid,
                "metadata.name: Invalid value: \"a/b\": may not contain '/'",
            )],
        ),
        case(
            "eviction propagation policy enum",
            json!({"apiVersion": "policy/v1", "kind": "Eviction",
                "metadata": {"name": "p", "namespace": "default"},
                "deleteOptions": {"propagationPolicy": "Sometimes"}}),
            vec![e(
                NotSupported,
                "propagationPolicy: Unsupported value: \"Sometimes\": supported values: \"Foreground\", \"Background\", \"Orphan\", \"nil\"",
            )],
        ),
    ]);
}

#[test]
fn events_v1_rules() {
    let ev = |patch: serde_json::Value| {
        merge(
            &json!({"apiVersion": "events.k8s.io/v1", "kind": "Event",
                "metadata": {"name": "p.17", "namespace": "default"},
                "eventTime": "2024-05-01T10:00:00.000000Z",
                "reportingController": "example.com/controller", "reportingInstance": "ctrl-1",
                "action": "Create", "reason": "Created", "type": "Normal",
                "regarding": {"kind": "Pod", "namespace": "default", "name": "p"}}),
            &patch,
        )
    };
    run(vec![
        case(
            "type is Normal or Warning",
            ev(json!({"type": "Bogus"})),
            vec![e(
                Invalid,
                "type: Invalid value: \"\": has invalid value: Bogus",
            )],
        ),
        case(
            "reason is required",
            ev(json!({"reason": ""})),
            vec![e(Required, "reason: Required value")],
        ),
        case(
            "action is required",
            ev(json!({"action": ""})),
            vec![e(Required, "action: Required value")],
        ),
        case(
            "reportingController is a qualified name",
            ev(json!({"reportingController": ""})),
            vec![
                e(Required, "reportingController: Required value"),
                e(
                    Invalid,
                    "reportingController: Invalid value: \"\": name part must be non-empty",
                ),
                e(
                    Invalid,
                    format!("reportingController: Invalid value: \"\": {QNAME_MSG}"),
                ),
            ],
        ),
        case(
            "reportingInstance length",
            ev(json!({"reportingInstance": "x".repeat(129)})),
            vec![e(
                Invalid,
                "reportingInstance: Invalid value: \"\": can have at most 128 characters",
            )],
        ),
        case(
            "note length",
            ev(json!({"note": "x".repeat(1025)})),
            vec![e(
                Invalid,
                "message: Invalid value: \"\": can have at most 1024 characters",
            )],
        ),
        case(
            "name is a DNS subdomain",
            ev(json!({"metadata": {"name": "P"}})),
            vec![e(
                Invalid,
                format!("metadata.name: Invalid value: \"P\": {DNS_SUBDOMAIN_MSG}"),
            )],
        ),
    ]);
}

#[test]
fn rbac_rules() {
    let role = |rules: serde_json::Value| {
        json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role",
            "metadata": {"name": "r", "namespace": "default"}, "rules": rules})
    };
    let cluster_role = |rules: serde_json::Value| {
        json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
            "metadata": {"name": "r"}, "rules": rules})
    };
    let rb = |patch: serde_json::Value| {
        merge(
            &json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
                "metadata": {"name": "b", "namespace": "default"},
                "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "r"},
                "subjects": [{"kind": "User", "name": "jane"}]}),
            &patch,
        )
    };
    let crb = |patch: serde_json::Value| {
        merge(
            &json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
                "metadata": {"name": "b"},
                "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole",
                    "name": "r"}}),
            &patch,
        )
    };
    run(vec![
        case(
            "verbs are required",
            role(json!([{"apiGroups": [""], "resources": ["pods"], "verbs": []}])),
            vec![e(
                Required,
                "rules[0].verbs: Required value: verbs must contain at least one value",
            )],
        ),
        case(
            "resource rules name groups and resources",
            role(json!([{"verbs": ["get"]}])),
            vec![
                e(
                    Required,
                    "rules[0].apiGroups: Required value: resource rules must supply at least one api group",
                ),
                e(
                    Required,
                    "rules[0].resources: Required value: resource rules must supply at least one resource",
                ),
            ],
        ),
        case(
            "namespaced rules have no URLs",
            role(json!([{"nonResourceURLs": ["/healthz"], "verbs": ["get"]}])),
            vec![e(
                Invalid,
                "rules[0].nonResourceURLs: Invalid value: []string{\"/healthz\"}: namespaced rules cannot apply to non-resource URLs",
            )],
        ),
        case(
            "URL rules have no resources",
            cluster_role(
                json!([{"nonResourceURLs": ["/healthz"], "resources": ["pods"],
                "verbs": ["get"]}]),
            ),
            vec![e(
                Invalid,
                "rules[0].nonResourceURLs: Invalid value: []string{\"/healthz\"}: rules cannot apply to both regular resources and non-resource URLs",
            )],
        ),
        case(
            "role names are path segments",
            merge(
                &role(json!([{"apiGroups": [""], "resources": ["pods"], "verbs": ["get"]}])),
                &json!({"metadata": {"name": "a/b"}}),
            ),
            vec![e(
                Invalid,
                "metadata.name: Invalid value: \"a/b\": may not contain '/'",
            )],
        ),
        case(
            "aggregation rules have selectors",
            merge(
                &cluster_role(json!([])),
                &json!({"aggregationRule": {"clusterRoleSelectors": []}}),
            ),
            vec![e(
                Required,
                "aggregationRule.clusterRoleSelectors: Required value: at least one clusterRoleSelector required if aggregationRule is non-nil",
            )],
        ),
        case(
            "roleRef kind",
            rb(json!({"roleRef": {"kind": "Pod"}})),
            vec![e(
                NotSupported,
                "roleRef.kind: Unsupported value: \"Pod\": supported values: \"Role\", \"ClusterRole\"",
            )],
        ),
        case(
            "roleRef apiGroup",
            rb(json!({"roleRef": {"apiGroup": "example.com"}})),
            vec![e(
                NotSupported,
                "roleRef.apiGroup: Unsupported value: \"example.com\": supported values: \"rbac.authorization.k8s.io\"",
            )],
        ),
        case(
            "roleRef name",
            rb(json!({"roleRef": {"name": ""}})),
            vec![e(Required, "roleRef.name: Required value")],
        ),
        case(
            "subject kinds",
            rb(json!({"subjects": [{"kind": "Robot", "name": "x"}]})),
            vec![e(
                NotSupported,
                "subjects[0].kind: Unsupported value: \"Robot\": supported values: \"ServiceAccount\", \"User\", \"Group\"",
            )],
        ),
        case(
            "subject names",
            rb(json!({"subjects": [{"kind": "User", "name": ""}]})),
            vec![
                e(Required, "subjects[0].name: Required value"),
                e(
                    Invalid,
                    "subjects[0].name: Invalid value: \"\": user name cannot be empty",
                ),
            ],
        ),
        case(
            "service account subjects have no apiGroup",
            rb(json!({"subjects": [{"kind": "ServiceAccount", "name": "sa",
                "apiGroup": "rbac.authorization.k8s.io"}]})),
            vec![e(
                NotSupported,
                "subjects[0].apiGroup: Unsupported value: \"rbac.authorization.k8s.io\": supported values: \"\"",
            )],
        ),
        case(
            "cluster bindings refer to cluster roles",
            crb(json!({"roleRef": {"kind": "Role"}})),
            vec![e(
                NotSupported,
                "roleRef.kind: Unsupported value: \"Role\": supported values: \"ClusterRole\"",
            )],
        ),
        case(
            "cluster bindings name service account namespaces",
            crb(json!({"subjects": [{"kind": "ServiceAccount", "name": "sa"}]})),
            vec![e(Required, "subjects[0].namespace: Required value")],
        ),
    ]);
}
