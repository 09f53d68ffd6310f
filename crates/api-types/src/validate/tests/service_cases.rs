//! Services and Endpoints.

use serde_json::json;

use super::*;
use crate::validate::ErrorType::*;

#[test]
fn service_rules() {
    let svc = |patch: serde_json::Value| merge(&service(), &patch);
    let ports = |p: serde_json::Value| svc(json!({"spec": {"ports": p}}));
    run(vec![
        case(
            "name is a DNS-1035 label",
            svc(json!({"metadata": {"name": "1web"}})),
            vec![e(
                Invalid,
                format!("metadata.name: Invalid value: \"1web\": {DNS1035_MSG}"),
            )],
        ),
        case(
            "ports are required",
            ports(json!([])),
            vec![e(Required, "spec.ports: Required value")],
        ),
        case(
            "headless services need no ports",
            svc(json!({"spec": {"clusterIP": "None", "ports": []}})),
            vec![],
        ),
        case(
            "type enum",
            svc(json!({"spec": {"type": "Bogus"}})),
            vec![e(
                NotSupported,
                "spec.type: Unsupported value: \"Bogus\": supported values: \"ClusterIP\", \"ExternalName\", \"LoadBalancer\", \"NodePort\"",
            )],
        ),
        case(
            "several ports are named",
            ports(json!([{"port": 80}, {"port": 443}])),
            vec![
                e(Required, "spec.ports[0].name: Required value"),
                e(Required, "spec.ports[1].name: Required value"),
            ],
        ),
        case(
            "port names are unique",
            ports(json!([{"name": "http", "port": 80}, {"name": "http", "port": 81}])),
            vec![e(
                Duplicate,
                "spec.ports[1].name: Duplicate value: \"http\"",
            )],
        ),
        case(
            "port names are DNS labels",
            ports(json!([{"name": "HTTP", "port": 80}])),
            vec![e(
                Invalid,
                format!("spec.ports[0].name: Invalid value: \"HTTP\": {DNS_LABEL_MSG}"),
            )],
        ),
        case(
            "port range",
            ports(json!([{"port": 0, "targetPort": 8080}])),
            vec![e(
                Invalid,
                format!("spec.ports[0].port: Invalid value: 0: {PORT_RANGE_MSG}"),
            )],
        ),
        case(
            "port range (high)",
            ports(json!([{"port": 65536, "targetPort": 8080}])),
            vec![e(
                Invalid,
                format!("spec.ports[0].port: Invalid value: 65536: {PORT_RANGE_MSG}"),
            )],
        ),
        case(
            "targetPort range",
            ports(json!([{"port": 80, "targetPort": 70000}])),
            vec![e(
                Invalid,
                format!("spec.ports[0].targetPort: Invalid value: 70000: {PORT_RANGE_MSG}"),
            )],
        ),
        case(
            "named targetPort syntax",
            ports(json!([{"port": 80, "targetPort": "Bad_Name"}])),
            vec![e(
                Invalid,
                "spec.ports[0].targetPort: Invalid value: \"Bad_Name\": must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)",
            )],
        ),
        case(
            "protocol enum",
            ports(json!([{"port": 80, "protocol": "HTTP"}])),
            vec![e(
                NotSupported,
                "spec.ports[0].protocol: Unsupported value: \"HTTP\": supported values: \"SCTP\", \"TCP\", \"UDP\"",
            )],
        ),
        case(
            "port and protocol pairs are unique",
            ports(json!([{"name": "a", "port": 80}, {"name": "b", "port": 80}])),
            vec![e(
                Duplicate,
                "spec.ports[1]: Duplicate value: core.ServicePort{Name:\"\", Protocol:\"TCP\", AppProtocol:(*string)(nil), Port:80, TargetPort:intstr.IntOrString{Type:0, IntVal:0, StrVal:\"\"}, NodePort:0}",
            )],
        ),
        case(
            "nodePort only for NodePort and LoadBalancer",
            ports(json!([{"port": 80, "nodePort": 30080}])),
            vec![e(
                Forbidden,
                "spec.ports[0].nodePort: Forbidden: may not be used when `type` is 'ClusterIP'",
            )],
        ),
        case(
            // The range of node ports is the allocator's business, not validation's.
            "nodePorts are unique",
            svc(json!({"spec": {"type": "NodePort", "ports": [
                {"name": "a", "port": 80, "nodePort": 30080},
                {"name": "b", "port": 81, "nodePort": 30080}]}})),
            vec![e(
                Duplicate,
                "spec.ports[1].nodePort: Duplicate value: 30080",
            )],
        ),
        case(
            "clusterIP syntax",
            svc(json!({"spec": {"clusterIP": "abc"}})),
            vec![e(
                Invalid,
                "spec.clusterIPs[0]: Invalid value: \"abc\": must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)",
            )],
        ),
        case(
            "ExternalName needs externalName",
            svc(json!({"spec": {"type": "ExternalName", "ports": null, "selector": null}})),
            vec![e(Required, "spec.externalName: Required value")],
        ),
        case(
            "externalName is a DNS name",
            svc(json!({"spec": {"type": "ExternalName", "externalName": "Bad_Name"}})),
            vec![e(
                Invalid,
                format!("spec.externalName: Invalid value: \"Bad_Name\": {DNS_SUBDOMAIN_MSG}"),
            )],
        ),
        case(
            "selector labels",
            svc(json!({"spec": {"selector": {"bad key": "web"}}})),
            vec![e(
                Invalid,
                format!("spec.selector: Invalid value: \"bad key\": {QNAME_MSG}"),
            )],
        ),
        case(
            "sessionAffinity enum",
            svc(json!({"spec": {"sessionAffinity": "Sticky"}})),
            vec![e(
                NotSupported,
                "spec.sessionAffinity: Unsupported value: \"Sticky\": supported values: \"ClientIP\", \"None\"",
            )],
        ),
        case(
            "externalTrafficPolicy needs an external type",
            svc(json!({"spec": {"externalTrafficPolicy": "Local"}})),
            vec![e(
                Invalid,
                "spec.externalTrafficPolicy: Invalid value: \"Local\": may only be set for externally-accessible services",
            )],
        ),
        case(
            "externalIPs are not special",
            svc(json!({"spec": {"externalIPs": ["127.0.0.1"]}})),
            vec![e(
                Invalid,
                "spec.externalIPs[0]: Invalid value: \"127.0.0.1\": may not be in the loopback range (127.0.0.0/8, ::1/128)",
            )],
        ),
    ]);
}

#[test]
fn endpoints_rules() {
    let ep = |subsets: serde_json::Value| {
        json!({"apiVersion": "v1", "kind": "Endpoints",
            "metadata": {"name": "web", "namespace": "default"}, "subsets": subsets})
    };
    run(vec![
        case(
            "addresses are IPs",
            ep(json!([{"addresses": [{"ip": "abc"}], "ports": [{"port": 80}]}])),
            vec![
                e(
                    Invalid,
                    "subsets[0].addresses[0].ip: Invalid value: \"abc\": must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)",
                ),
                e(
                    Invalid,
                    "subsets[0].addresses[0].ip: Invalid value: \"abc\": must be a valid IP address",
                ),
            ],
        ),
        case(
            "addresses are not loopback",
            ep(json!([{"addresses": [{"ip": "127.0.0.1"}], "ports": [{"port": 80}]}])),
            vec![e(
                Invalid,
                "subsets[0].addresses[0].ip: Invalid value: \"127.0.0.1\": may not be in the loopback range (127.0.0.0/8, ::1/128)",
            )],
        ),
        case(
            "subsets have addresses",
            ep(json!([{"ports": [{"port": 80}]}])),
            vec![e(
                Required,
                "subsets[0]: Required value: must specify `addresses` or `notReadyAddresses`",
            )],
        ),
        case(
            "port range",
            ep(json!([{"addresses": [{"ip": "10.0.0.1"}], "ports": [{"port": 0}]}])),
            vec![e(
                Invalid,
                format!("subsets[0].ports[0].port: Invalid value: 0: {PORT_RANGE_MSG}"),
            )],
        ),
        case(
            "several ports are named",
            ep(json!([{"addresses": [{"ip": "10.0.0.1"}], "ports": [{"port": 80}, {"port": 81}]}])),
            vec![
                e(Required, "subsets[0].ports[0].name: Required value"),
                e(Required, "subsets[0].ports[1].name: Required value"),
            ],
        ),
        case(
            "protocol enum",
            ep(
                json!([{"addresses": [{"ip": "10.0.0.1"}], "ports": [{"port": 80, "protocol": "HTTP"}]}]),
            ),
            vec![e(
                NotSupported,
                "subsets[0].ports[0].protocol: Unsupported value: \"HTTP\": supported values: \"SCTP\", \"TCP\", \"UDP\"",
            )],
        ),
    ]);
}
