//! Printers of `networking.k8s.io` (ingresses, ingress classes) and `discovery.k8s.io`
//! (endpoint slices).

use std::collections::BTreeSet;

use kubernaut_api_types::discovery::v1::EndpointSlice;
use kubernaut_api_types::networking::v1::{Ingress, IngressClass, IngressRule};

use super::descriptions::*;
use super::{AGE, Column, KindPrinter, NAME, age, decode, name, text};

/// Upstream's `formatHosts`: the first three rule hosts, then `+ N more...` counting every
/// further rule; `*` when no rule names a host.
fn format_hosts(rules: &[IngressRule]) -> String {
    const MAX: usize = 3;
    let mut list: Vec<&str> = Vec::new();
    let mut more = false;
    for rule in rules {
        if list.len() == MAX {
            more = true;
        }
        match rule.host.as_deref() {
            Some(host) if !more && !host.is_empty() => list.push(host),
            _ => {}
        }
    }
    if list.is_empty() {
        return "*".to_owned();
    }
    let joined = list.join(",");
    if more {
        format!("{joined} + {} more...", rules.len() - MAX)
    } else {
        joined
    }
}

/// `kubectl get ingresses`: `NAME CLASS HOSTS ADDRESS PORTS AGE`.
pub(super) static INGRESS: KindPrinter = KindPrinter::new(
    &[
        NAME,
        Column::new(
            "Class",
            "string",
            "The name of the IngressClass resource that should be used for additional \
             configuration",
        ),
        Column::new(
            "Hosts",
            "string",
            "Hosts that incoming requests are matched against before the ingress rule",
        ),
        Column::new(
            "Address",
            "string",
            "Address is a list containing ingress points for the load-balancer",
        ),
        Column::new("Ports", "string", "Ports of TLS configurations that open"),
        AGE,
    ],
    |object, now| {
        let ingress: Ingress = decode(object)?;
        let spec = ingress.spec.clone().unwrap_or_default();
        // The wide form of upstream's `ingressLoadBalancerStatusStringer` (the API server
        // always prints wide): IPs, or hostnames where there is no IP, sorted and deduplicated.
        let addresses: BTreeSet<&str> = ingress
            .status
            .as_ref()
            .and_then(|s| s.load_balancer.as_ref())
            .and_then(|lb| lb.ingress.as_deref())
            .unwrap_or_default()
            .iter()
            .filter_map(|i| {
                i.ip.as_deref()
                    .filter(|ip| !ip.is_empty())
                    .or(i.hostname.as_deref().filter(|h| !h.is_empty()))
            })
            .collect();
        let ports = if spec.tls.as_ref().is_some_and(|tls| !tls.is_empty()) {
            "80, 443"
        } else {
            "80"
        };
        Some(vec![
            text(name(&ingress.metadata)),
            text(
                spec.ingress_class_name
                    .clone()
                    .unwrap_or_else(|| "<none>".to_owned()),
            ),
            text(format_hosts(spec.rules.as_deref().unwrap_or_default())),
            text(addresses.into_iter().collect::<Vec<_>>().join(",")),
            text(ports),
            age(&ingress.metadata, now),
        ])
    },
);

/// `kubectl get ingressclasses`: `NAME CONTROLLER PARAMETERS AGE`, the parameters as
/// `Kind.apiGroup/name`.
pub(super) static INGRESS_CLASS: KindPrinter = KindPrinter::new(
    &[
        NAME,
        Column::new(
            "Controller",
            "string",
            "Controller that is responsible for handling this class",
        ),
        Column::new(
            "Parameters",
            "string",
            "A reference to a resource with additional parameters",
        ),
        AGE,
    ],
    |object, now| {
        let class: IngressClass = decode(object)?;
        let spec = class.spec.clone().unwrap_or_default();
        let parameters = spec.parameters.as_ref().map_or("<none>".to_owned(), |p| {
            match p.api_group.as_deref() {
                Some(group) => format!("{}.{group}/{}", p.kind, p.name),
                None => format!("{}/{}", p.kind, p.name),
            }
        });
        Some(vec![
            text(name(&class.metadata)),
            text(spec.controller.unwrap_or_default()),
            text(parameters),
            age(&class.metadata, now),
        ])
    },
);

/// Upstream's `listWithMoreString`: the listed items, `+ N more...` past the first three,
/// `<unset>` for none.
fn list_with_more(list: &[String], count: usize) -> String {
    const MAX: usize = 3;
    let joined = list.join(",");
    if count > MAX {
        format!("{joined} + {} more...", count - MAX)
    } else if joined.is_empty() {
        "<unset>".to_owned()
    } else {
        joined
    }
}

/// `kubectl get endpointslices`: `NAME ADDRESSTYPE PORTS ENDPOINTS AGE`.
pub(super) static ENDPOINT_SLICE: KindPrinter = KindPrinter::new(
    &[
        NAME,
        Column::new("AddressType", "string", ENDPOINT_SLICE_ADDRESS_TYPE),
        Column::new("Ports", "string", ENDPOINT_SLICE_PORTS),
        Column::new("Endpoints", "string", ENDPOINT_SLICE_ENDPOINTS),
        AGE,
    ],
    |object, now| {
        let slice: EndpointSlice = decode(object)?;
        let ports = slice.ports.as_deref().unwrap_or_default();
        // A port without number prints its name, one without either `*`.
        let port_list: Vec<String> = ports
            .iter()
            .take(3)
            .map(|p| match (p.port, p.name.as_deref()) {
                (Some(port), _) => port.to_string(),
                (None, Some(name)) => name.to_owned(),
                (None, None) => "*".to_owned(),
            })
            .collect();
        let addresses = slice.endpoints.iter().flat_map(|e| e.addresses.iter());
        let address_count = addresses.clone().count();
        let address_list: Vec<String> = addresses.take(3).cloned().collect();
        Some(vec![
            text(name(&slice.metadata)),
            text(slice.address_type.clone()),
            text(list_with_more(&port_list, ports.len())),
            text(list_with_more(&address_list, address_count)),
            age(&slice.metadata, now),
        ])
    },
);

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::super::tests::{ago, cells, headers, manifest, merge};

    #[test]
    fn ingress_from_manifests() {
        assert_eq!(
            headers("networking.k8s.io", "Ingress"),
            ["Name", "Class", "Hosts", "Address", "Ports", "Age"]
        );
        let fanout = merge(
            manifest("website/service/networking/simple-fanout-example.yaml", 0),
            json!({"metadata": {"creationTimestamp": ago(4 * 3600)},
                   "status": {"loadBalancer": {"ingress": [{"ip": "203.0.113.8"}, {"hostname": "lb.example.com"}]}}}),
        );
        assert_eq!(
            cells("networking.k8s.io", "Ingress", &fanout),
            [
                "simple-fanout-example",
                "<none>",
                "foo.bar.com",
                "203.0.113.8,lb.example.com",
                "80",
                "4h"
            ]
        );
        let tls = merge(
            manifest("website/service/networking/tls-example-ingress.yaml", 0),
            json!({"spec": {"ingressClassName": "nginx"}}),
        );
        assert_eq!(
            cells("networking.k8s.io", "Ingress", &tls)[1..5],
            ["nginx", "https-example.foo.com", "", "80, 443"]
        );
    }

    #[test]
    fn ingress_hosts_stop_at_three() {
        let rules = |hosts: &[&str]| {
            let rules: Vec<_> = hosts.iter().map(|h| json!({"host": h})).collect();
            json!({"apiVersion": "networking.k8s.io/v1", "kind": "Ingress", "metadata": {"name": "i"},
                   "spec": {"rules": rules}})
        };
        let hosts = |ingress| cells("networking.k8s.io", "Ingress", &ingress)[2].clone();
        assert_eq!(hosts(rules(&[])), "*");
        assert_eq!(hosts(rules(&["", ""])), "*");
        assert_eq!(hosts(rules(&["a.com", "", "b.com"])), "a.com,b.com");
        assert_eq!(
            hosts(rules(&["a.com", "b.com", "c.com"])),
            "a.com,b.com,c.com"
        );
        // Every rule past the third counts, with a host or not.
        assert_eq!(
            hosts(rules(&["a.com", "b.com", "c.com", "d.com", ""])),
            "a.com,b.com,c.com + 2 more..."
        );
    }

    #[test]
    fn ingress_class_from_a_manifest() {
        assert_eq!(
            headers("networking.k8s.io", "IngressClass"),
            ["Name", "Controller", "Parameters", "Age"]
        );
        let class = merge(
            manifest("website/service/networking/default-ingressclass.yaml", 0),
            json!({"metadata": {"creationTimestamp": ago(100)}}),
        );
        assert_eq!(
            cells("networking.k8s.io", "IngressClass", &class),
            ["example-class", "k8s.io/example-class", "<none>", "100s"]
        );
        let with_parameters = merge(
            class,
            json!({"spec": {"parameters": {"apiGroup": "k8s.example.com", "kind": "IngressParameters",
                                           "name": "external-lb", "scope": "Cluster"}}}),
        );
        assert_eq!(
            cells("networking.k8s.io", "IngressClass", &with_parameters)[2],
            "IngressParameters.k8s.example.com/external-lb"
        );
    }

    #[test]
    fn endpoint_slice_ports_and_addresses() {
        assert_eq!(
            headers("discovery.k8s.io", "EndpointSlice"),
            ["Name", "AddressType", "Ports", "Endpoints", "Age"]
        );
        let slice = json!({
            "apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
            "metadata": {"name": "web-abc12", "creationTimestamp": ago(33 * 60),
                         "labels": {"kubernetes.io/service-name": "web"}},
            "addressType": "IPv4",
            "ports": [{"name": "http", "port": 80, "protocol": "TCP"}, {"name": "https", "port": 443}],
            "endpoints": [
                {"addresses": ["10.244.1.5"], "conditions": {"ready": true}, "nodeName": "node-1"},
                {"addresses": ["10.244.2.7"], "conditions": {"ready": true}},
            ],
        });
        assert_eq!(
            cells("discovery.k8s.io", "EndpointSlice", &slice),
            [
                "web-abc12",
                "IPv4",
                "80,443",
                "10.244.1.5,10.244.2.7",
                "33m"
            ]
        );
        let crowded = merge(
            slice,
            json!({"ports": [{"port": 1}, {"name": "named"}, {}, {"port": 4}, {"port": 5}],
                   "endpoints": [{"addresses": ["10.0.0.1", "10.0.0.2"]}, {"addresses": ["10.0.0.3", "10.0.0.4"]}]}),
        );
        // A port without number or name: upstream's defaulting names it `""`, so the `*` of
        // a nameless port never shows.
        assert_eq!(
            cells("discovery.k8s.io", "EndpointSlice", &crowded)[2..4],
            [
                "1,named, + 2 more...",
                "10.0.0.1,10.0.0.2,10.0.0.3 + 1 more..."
            ]
        );
        let empty = json!({"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
                           "metadata": {"name": "e"}, "addressType": "IPv6", "endpoints": []});
        assert_eq!(
            cells("discovery.k8s.io", "EndpointSlice", &empty)[2..4],
            ["<unset>", "<unset>"]
        );
    }
}
