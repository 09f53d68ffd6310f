//! Services and Endpoints: upstream's `ValidateService` (ports, types, cluster IPs, external
//! names, session affinity, traffic policies) and `ValidateEndpoints`.
//!
//! The API server normalises `clusterIP`/`clusterIPs` and allocates cluster IPs, node ports
//! and the health-check node port before it validates a new Service; validation here
//! normalises the cluster IPs the same way and does not require values that allocation fills
//! (`healthCheckNodePort`). NodePort ranges are the allocator's business, not validation's.

use std::collections::BTreeSet;
use std::net::IpAddr;

use super::field::{ErrorList, FieldError, Path, go_quote};
use super::gofmt;
use super::meta::{self, items, s};
use super::names;
use super::pod::validate_port_num_or_name;
use super::{Validate, names::NameValidator};
use crate::IntOrString;
use crate::core::v1::{
    EndpointAddress, EndpointPort, Endpoints, Service, ServicePort, ServiceSpec,
};

const PROTOCOLS: [&str; 3] = ["SCTP", "TCP", "UDP"];
const SESSION_AFFINITIES: [&str; 2] = ["ClientIP", "None"];
const SERVICE_TYPES: [&str; 4] = ["ClusterIP", "ExternalName", "LoadBalancer", "NodePort"];
const INTERNAL_TRAFFIC_POLICIES: [&str; 2] = ["Cluster", "Local"];
const EXTERNAL_TRAFFIC_POLICIES: [&str; 2] = ["Cluster", "Local"];
const IP_FAMILIES: [&str; 2] = ["IPv4", "IPv6"];
const IP_FAMILY_POLICIES: [&str; 3] = ["PreferDualStack", "RequireDualStack", "SingleStack"];
const MAX_CLIENT_IP_AFFINITY_SECONDS: i32 = 86400;

/// `core.ServicePort{...}` as Go's `%#v` prints the (protocol, port) key of a duplicate.
fn go_service_port_key(protocol: &str, port: i32) -> String {
    format!(
        "core.ServicePort{{Name:\"\", Protocol:{}, AppProtocol:(*string)(nil), Port:{port}, TargetPort:intstr.IntOrString{{Type:0, IntVal:0, StrVal:\"\"}}, NodePort:0}}",
        go_quote(protocol)
    )
}

/// The cluster IPs as the API server sees them before validating: `clusterIP` copied into an
/// empty `clusterIPs`.
fn cluster_ips(spec: &ServiceSpec) -> Vec<String> {
    let ips = items(&spec.cluster_ips);
    let ip = s(&spec.cluster_ip);
    if ips.is_empty() && !ip.is_empty() {
        vec![ip.to_owned()]
    } else {
        ips.to_vec()
    }
}

fn is_headless(ips: &[String]) -> bool {
    ips.len() == 1 && ips[0] == "None"
}

fn validate_service_port(
    sp: &ServicePort,
    require_name: bool,
    all_names: &mut BTreeSet<String>,
    path: &Path,
) -> ErrorList {
    let mut errs = ErrorList::new();
    let name = s(&sp.name);
    if require_name && name.is_empty() {
        errs.push(FieldError::required(&path.child("name"), ""));
    } else if !name.is_empty() {
        errs.extend(meta::validate_dns1123_label(name, &path.child("name")));
        if !all_names.insert(name.to_owned()) {
            errs.push(FieldError::duplicate(&path.child("name"), name));
        }
    }
    for msg in names::is_valid_port_num(i64::from(sp.port)) {
        errs.push(FieldError::invalid(&path.child("port"), sp.port, msg));
    }
    let protocol = s(&sp.protocol);
    if protocol.is_empty() {
        errs.push(FieldError::required(&path.child("protocol"), ""));
    } else if !PROTOCOLS.contains(&protocol) {
        errs.push(FieldError::not_supported(
            &path.child("protocol"),
            protocol,
            &PROTOCOLS,
        ));
    }
    let target = sp.target_port.clone().unwrap_or(IntOrString::Int(0));
    errs.extend(validate_port_num_or_name(
        &target,
        &path.child("targetPort"),
    ));
    if let Some(ap) = &sp.app_protocol {
        errs.extend(meta::validate_qualified_name(
            ap,
            &path.child("appProtocol"),
        ));
    }
    errs
}

fn validate_cluster_ips_related(spec: &ServiceSpec, ips: &[String]) -> ErrorList {
    if s(&spec.type_) == "ExternalName" {
        return Vec::new();
    }
    let mut errs = ErrorList::new();
    let spec_path = Path::new("spec");
    let ips_path = spec_path.child("clusterIPs");
    let ips_value = || gofmt::raw(gofmt::string_slice(Some(ips)));
    let cluster_ip = s(&spec.cluster_ip);
    if !cluster_ip.is_empty() {
        if ips.is_empty() {
            errs.push(FieldError::required(&ips_path, ""));
        } else if ips[0] != cluster_ip {
            errs.push(FieldError::invalid(
                &ips_path,
                ips_value(),
                "first value must match `clusterIP`",
            ));
        }
    } else if !ips.is_empty() {
        errs.push(FieldError::invalid(
            &ips_path,
            ips_value(),
            "must be empty when `clusterIP` is not specified",
        ));
    }
    let families = items(&spec.ip_families);
    let mut seen: BTreeSet<&str> = BTreeSet::new();
    for (i, f) in families.iter().enumerate() {
        let p = spec_path.child("ipFamilies").index(i);
        if !IP_FAMILIES.contains(&f.as_str()) {
            errs.push(FieldError::not_supported(&p, f.as_str(), &IP_FAMILIES));
        }
        if !seen.insert(f.as_str()) {
            errs.push(FieldError::duplicate(&p, f.as_str()));
        }
    }
    if let Some(policy) = &spec.ip_family_policy
        && !IP_FAMILY_POLICIES.contains(&policy.as_str())
    {
        errs.push(FieldError::not_supported(
            &spec_path.child("ipFamilyPolicy"),
            policy.as_str(),
            &IP_FAMILY_POLICIES,
        ));
    }
    let mut invalid_ips = false;
    for (i, ip) in ips.iter().enumerate() {
        if i == 0 && ip == "None" {
            if ips.len() > 1 {
                invalid_ips = true;
                errs.push(FieldError::invalid(
                    &ips_path,
                    ips_value(),
                    "'None' must be the first and only value",
                ));
            }
            continue;
        }
        let ip_errs = names::is_valid_ip(&ips_path.index(i), ip);
        invalid_ips |= !ip_errs.is_empty();
        errs.extend(ip_errs);
    }
    if ips.len() > 2 {
        errs.push(FieldError::invalid(
            &ips_path,
            ips_value(),
            "may only hold up to 2 values",
        ));
    }
    if invalid_ips {
        return errs;
    }
    if ips.len() > 1 {
        let parsed: Vec<Option<IpAddr>> = ips.iter().map(|ip| names::parse_ip_sloppy(ip)).collect();
        let v4 = parsed.iter().any(|p| matches!(p, Some(IpAddr::V4(_))));
        let v6 = parsed.iter().any(|p| matches!(p, Some(IpAddr::V6(_))));
        if !(v4 && v6) {
            errs.push(FieldError::invalid(
                &ips_path,
                ips_value(),
                "may specify no more than one IP for each IP family",
            ));
        }
    }
    if !is_headless(ips) && !ips.is_empty() && !families.is_empty() {
        for (i, ip) in ips.iter().enumerate() {
            let Some(family) = families.get(i) else { break };
            let is_v6 = matches!(names::parse_ip_sloppy(ip), Some(IpAddr::V6(_)));
            if family == "IPv4" && is_v6 {
                errs.push(FieldError::invalid(
                    &ips_path.index(i),
                    ip.as_str(),
                    format!("expected an IPv4 value as indicated by `ipFamilies[{i}]`"),
                ));
            }
            if family == "IPv6" && !is_v6 {
                errs.push(FieldError::invalid(
                    &ips_path.index(i),
                    ip.as_str(),
                    format!("expected an IPv6 value as indicated by `ipFamilies[{i}]`"),
                ));
            }
        }
    }
    errs
}

/// Upstream's `ValidateNonSpecialIP` (Endpoints addresses, EndpointSlice addresses, external
/// IPs): not unspecified, loopback, link-local or link-local multicast.
pub(crate) fn validate_non_special_ip(address: &str, path: &Path) -> ErrorList {
    let Some(ip) = names::parse_ip_sloppy(address) else {
        return vec![FieldError::invalid(
            path,
            address,
            "must be a valid IP address",
        )];
    };
    let mut errs = ErrorList::new();
    let (unspecified, loopback, link_local, link_local_multicast) = match ip {
        IpAddr::V4(v4) => {
            let o = v4.octets();
            (
                v4.is_unspecified(),
                v4.is_loopback(),
                o[0] == 169 && o[1] == 254,
                o[0] == 224 && o[1] == 0 && o[2] == 0,
            )
        }
        IpAddr::V6(v6) => {
            let seg = v6.segments();
            (
                v6.is_unspecified(),
                v6.is_loopback(),
                seg[0] & 0xffc0 == 0xfe80,
                seg[0] & 0xff0f == 0xff02,
            )
        }
    };
    if unspecified {
        errs.push(FieldError::invalid(
            path,
            address,
            format!("may not be unspecified ({address})"),
        ));
    }
    if loopback {
        errs.push(FieldError::invalid(
            path,
            address,
            "may not be in the loopback range (127.0.0.0/8, ::1/128)",
        ));
    }
    if link_local {
        errs.push(FieldError::invalid(
            path,
            address,
            "may not be in the link-local range (169.254.0.0/16, fe80::/10)",
        ));
    }
    if link_local_multicast {
        errs.push(FieldError::invalid(
            path,
            address,
            "may not be in the link-local multicast range (224.0.0.0/24, ff02::/10)",
        ));
    }
    errs
}

const TOPOLOGY_MODE: &str = "service.kubernetes.io/topology-mode";
const TOPOLOGY_AWARE_HINTS: &str = "service.kubernetes.io/topology-aware-hints";
const LB_SOURCE_RANGES: &str = "service.beta.kubernetes.io/load-balancer-source-ranges";

/// Upstream's `ValidateServiceName`: a DNS-1035 label.
const SERVICE_NAME: NameValidator = names::name_is_dns1035_label;

impl Validate for Service {
    fn validate(&self) -> ErrorList {
        let meta_path = Path::new("metadata");
        let mut errs = meta::validate_object_meta(&self.metadata, true, SERVICE_NAME, &meta_path);
        let annotations = self.metadata.annotations();
        if let (Some(mode), Some(hints)) = (
            annotations.get(TOPOLOGY_MODE),
            annotations.get(TOPOLOGY_AWARE_HINTS),
        ) && mode != hints
        {
            errs.push(FieldError::invalid(
                &meta_path.child("annotations").key(TOPOLOGY_MODE),
                mode.as_str(),
                format!("must match annotations[{TOPOLOGY_AWARE_HINTS}] when both are specified"),
            ));
        }
        let default = ServiceSpec::default();
        let spec = self.spec.as_ref().unwrap_or(&default);
        let spec_path = Path::new("spec");
        let ips = cluster_ips(spec);
        let headless = is_headless(&ips);
        let ty = s(&spec.type_);
        let ports = items(&spec.ports);
        if ports.is_empty() && !headless && ty != "ExternalName" {
            errs.push(FieldError::required(&spec_path.child("ports"), ""));
        }
        match ty {
            "LoadBalancer" | "NodePort" if headless => errs.push(FieldError::invalid(
                &spec_path.child("clusterIPs").index(0),
                ips[0].as_str(),
                format!("may not be set to 'None' for {ty} services"),
            )),
            "ExternalName" => {
                if !ips.is_empty() {
                    errs.push(FieldError::forbidden(
                        &spec_path.child("clusterIPs"),
                        "may not be set for ExternalName services",
                    ));
                }
                if !items(&spec.ip_families).is_empty() {
                    errs.push(FieldError::forbidden(
                        &spec_path.child("ipFamilies"),
                        "may not be set for ExternalName services",
                    ));
                }
                if spec.ip_family_policy.is_some() {
                    errs.push(FieldError::forbidden(
                        &spec_path.child("ipFamilyPolicy"),
                        "may not be set for ExternalName services",
                    ));
                }
                let external = s(&spec.external_name);
                let cname = external.strip_suffix('.').unwrap_or(external);
                if cname.is_empty() {
                    errs.push(FieldError::required(&spec_path.child("externalName"), ""));
                } else {
                    errs.extend(meta::validate_dns1123_subdomain(
                        cname,
                        &spec_path.child("externalName"),
                    ));
                }
            }
            _ => {}
        }
        let mut all_names = BTreeSet::new();
        for (i, port) in ports.iter().enumerate() {
            errs.extend(validate_service_port(
                port,
                ports.len() > 1,
                &mut all_names,
                &spec_path.child("ports").index(i),
            ));
        }
        if spec.selector.is_some() {
            errs.extend(meta::validate_labels(
                spec.selector.as_ref(),
                &spec_path.child("selector"),
            ));
        }
        let affinity = s(&spec.session_affinity);
        if affinity.is_empty() {
            errs.push(FieldError::required(
                &spec_path.child("sessionAffinity"),
                "",
            ));
        } else if !SESSION_AFFINITIES.contains(&affinity) {
            errs.push(FieldError::not_supported(
                &spec_path.child("sessionAffinity"),
                affinity,
                &SESSION_AFFINITIES,
            ));
        }
        let sac_path = spec_path.child("sessionAffinityConfig");
        if affinity == "ClientIP" {
            const WHEN: &str = "when session affinity type is ClientIP";
            match &spec.session_affinity_config {
                None => errs.push(FieldError::required(&sac_path, WHEN)),
                Some(cfg) => match &cfg.client_ip {
                    None => errs.push(FieldError::required(&sac_path.child("clientIP"), WHEN)),
                    Some(cip) => match cip.timeout_seconds {
                        None => errs.push(FieldError::required(&sac_path.child("clientIP").child("timeoutSeconds"), WHEN)),
                        Some(t) if t <= 0 || t > MAX_CLIENT_IP_AFFINITY_SECONDS => errs.push(FieldError::invalid(
                            &sac_path.child("clientIP").child("timeoutSeconds"),
                            t,
                            format!("must be greater than 0 and less than {MAX_CLIENT_IP_AFFINITY_SECONDS}"),
                        )),
                        Some(_) => {}
                    },
                },
            }
        } else if affinity == "None" && spec.session_affinity_config.is_some() {
            errs.push(FieldError::forbidden(
                &sac_path,
                "must not be set when session affinity is None",
            ));
        }
        errs.extend(validate_cluster_ips_related(spec, &ips));
        for (i, ip) in items(&spec.external_ips).iter().enumerate() {
            let p = spec_path.child("externalIPs").index(i);
            let ip_errs = names::is_valid_ip(&p, ip);
            if ip_errs.is_empty() {
                errs.extend(validate_non_special_ip(ip, &p));
            } else {
                errs.extend(ip_errs);
            }
        }
        if ty.is_empty() {
            errs.push(FieldError::required(&spec_path.child("type"), ""));
        } else if !SERVICE_TYPES.contains(&ty) {
            errs.push(FieldError::not_supported(
                &spec_path.child("type"),
                ty,
                &SERVICE_TYPES,
            ));
        }
        if ty == "ClusterIP" {
            for (i, port) in ports.iter().enumerate() {
                if port.node_port.unwrap_or(0) != 0 {
                    errs.push(FieldError::forbidden(
                        &spec_path.child("ports").index(i).child("nodePort"),
                        "may not be used when `type` is 'ClusterIP'",
                    ));
                }
            }
        }
        let mut node_ports: BTreeSet<(String, i32)> = BTreeSet::new();
        for (i, port) in ports.iter().enumerate() {
            let np = port.node_port.unwrap_or(0);
            if np == 0 {
                continue;
            }
            if !node_ports.insert((s(&port.protocol).to_owned(), np)) {
                errs.push(FieldError::duplicate(
                    &spec_path.child("ports").index(i).child("nodePort"),
                    np,
                ));
            }
        }
        let mut port_keys: BTreeSet<(String, i32)> = BTreeSet::new();
        for (i, port) in ports.iter().enumerate() {
            let protocol = s(&port.protocol);
            if !port_keys.insert((protocol.to_owned(), port.port)) {
                errs.push(FieldError::duplicate(
                    &spec_path.child("ports").index(i),
                    gofmt::raw(go_service_port_key(protocol, port.port)),
                ));
            }
        }
        let ranges = items(&spec.load_balancer_source_ranges);
        if !ranges.is_empty() {
            let p = spec_path.child("LoadBalancerSourceRanges");
            if ty != "LoadBalancer" {
                errs.push(FieldError::forbidden(
                    &p,
                    "may only be used when `type` is 'LoadBalancer'",
                ));
            }
            for (i, r) in ranges.iter().enumerate() {
                errs.extend(names::is_valid_cidr(&p.index(i), r.trim()));
            }
        } else if let Some(val) = annotations.get(LB_SOURCE_RANGES) {
            let p = Path::new("metadata")
                .child("annotations")
                .key(LB_SOURCE_RANGES);
            if ty != "LoadBalancer" {
                errs.push(FieldError::forbidden(
                    &p,
                    "may only be used when `type` is 'LoadBalancer'",
                ));
            }
            let val = val.trim();
            if !val.is_empty() {
                for cidr in val.split(',') {
                    errs.extend(names::is_valid_cidr(&p, cidr.trim()));
                }
            }
        }
        if spec.allocate_load_balancer_node_ports.is_some() && ty != "LoadBalancer" {
            errs.push(FieldError::forbidden(
                &spec_path.child("allocateLoadBalancerNodePorts"),
                "may only be used when `type` is 'LoadBalancer'",
            ));
        }
        if ty == "LoadBalancer" && spec.allocate_load_balancer_node_ports.is_none() {
            // Upstream reports this one without the `spec.` prefix.
            errs.push(FieldError::required(
                &Path::new("allocateLoadBalancerNodePorts"),
                "",
            ));
        }
        if ty == "LoadBalancer" {
            if let Some(class) = &spec.load_balancer_class {
                errs.extend(meta::validate_qualified_name(
                    class,
                    &spec_path.child("loadBalancerClass"),
                ));
            }
        } else if spec.load_balancer_class.is_some() {
            errs.push(FieldError::forbidden(
                &spec_path.child("loadBalancerClass"),
                "may only be used when `type` is 'LoadBalancer'",
            ));
        }
        // External traffic policy.
        let externally_accessible = ty == "LoadBalancer"
            || ty == "NodePort"
            || (ty == "ClusterIP" && !items(&spec.external_ips).is_empty());
        let etp = s(&spec.external_traffic_policy);
        if !externally_accessible {
            if !etp.is_empty() {
                errs.push(FieldError::invalid(
                    &spec_path.child("externalTrafficPolicy"),
                    etp,
                    "may only be set for externally-accessible services",
                ));
            }
        } else if etp.is_empty() {
            errs.push(FieldError::required(
                &spec_path.child("externalTrafficPolicy"),
                "",
            ));
        } else if !EXTERNAL_TRAFFIC_POLICIES.contains(&etp) {
            errs.push(FieldError::not_supported(
                &spec_path.child("externalTrafficPolicy"),
                etp,
                &EXTERNAL_TRAFFIC_POLICIES,
            ));
        }
        let needs_health_check = ty == "LoadBalancer" && etp == "Local";
        let hcnp = spec.health_check_node_port.unwrap_or(0);
        if !needs_health_check {
            if hcnp != 0 {
                errs.push(FieldError::invalid(
                    &spec_path.child("healthCheckNodePort"),
                    hcnp,
                    "may only be set when `type` is 'LoadBalancer' and `externalTrafficPolicy` is 'Local'",
                ));
            }
        } else if hcnp != 0 {
            // Zero is allocated by the API server before validation.
            for msg in names::is_valid_port_num(i64::from(hcnp)) {
                errs.push(FieldError::invalid(
                    &spec_path.child("healthCheckNodePort"),
                    hcnp,
                    msg,
                ));
            }
        }
        match &spec.internal_traffic_policy {
            None => {
                if matches!(ty, "NodePort" | "LoadBalancer" | "ClusterIP") {
                    errs.push(FieldError::required(
                        &spec_path.child("internalTrafficPolicy"),
                        "",
                    ));
                }
            }
            Some(itp) if !INTERNAL_TRAFFIC_POLICIES.contains(&itp.as_str()) => {
                errs.push(FieldError::not_supported(
                    &spec_path.child("internalTrafficPolicy"),
                    itp.as_str(),
                    &INTERNAL_TRAFFIC_POLICIES,
                ));
            }
            Some(_) => {}
        }
        if let Some(td) = &spec.traffic_distribution
            && td != "PreferClose"
        {
            errs.push(FieldError::not_supported(
                &spec_path.child("trafficDistribution"),
                td.as_str(),
                &["PreferClose"],
            ));
        }
        errs
    }
}

fn validate_endpoint_address(a: &EndpointAddress, path: &Path) -> ErrorList {
    let mut errs = names::is_valid_ip(&path.child("ip"), &a.ip);
    let hostname = s(&a.hostname);
    if !hostname.is_empty() {
        errs.extend(meta::validate_dns1123_label(
            hostname,
            &path.child("hostname"),
        ));
    }
    if let Some(node) = &a.node_name {
        errs.extend(meta::validate_name(
            names::name_is_dns_subdomain,
            node,
            &path.child("nodeName"),
        ));
    }
    errs.extend(validate_non_special_ip(&a.ip, &path.child("ip")));
    errs
}

fn validate_endpoint_port(p: &EndpointPort, require_name: bool, path: &Path) -> ErrorList {
    let mut errs = ErrorList::new();
    let name = s(&p.name);
    if require_name && name.is_empty() {
        errs.push(FieldError::required(&path.child("name"), ""));
    } else if !name.is_empty() {
        errs.extend(meta::validate_dns1123_label(name, &path.child("name")));
    }
    for msg in names::is_valid_port_num(i64::from(p.port)) {
        errs.push(FieldError::invalid(&path.child("port"), p.port, msg));
    }
    let protocol = s(&p.protocol);
    if protocol.is_empty() {
        errs.push(FieldError::required(&path.child("protocol"), ""));
    } else if !PROTOCOLS.contains(&protocol) {
        errs.push(FieldError::not_supported(
            &path.child("protocol"),
            protocol,
            &PROTOCOLS,
        ));
    }
    if let Some(ap) = &p.app_protocol {
        errs.extend(meta::validate_qualified_name(
            ap,
            &path.child("appProtocol"),
        ));
    }
    errs
}

impl Validate for Endpoints {
    fn validate(&self) -> ErrorList {
        let mut errs = meta::validate_object_meta(
            &self.metadata,
            true,
            names::name_is_dns_subdomain,
            &Path::new("metadata"),
        );
        let subsets_path = Path::new("subsets");
        for (i, ss) in items(&self.subsets).iter().enumerate() {
            let p = subsets_path.index(i);
            let (addresses, not_ready) = (items(&ss.addresses), items(&ss.not_ready_addresses));
            if addresses.is_empty() && not_ready.is_empty() {
                errs.push(FieldError::required(
                    &p,
                    "must specify `addresses` or `notReadyAddresses`",
                ));
            }
            for (j, a) in addresses.iter().enumerate() {
                errs.extend(validate_endpoint_address(a, &p.child("addresses").index(j)));
            }
            for (j, a) in not_ready.iter().enumerate() {
                errs.extend(validate_endpoint_address(
                    a,
                    &p.child("notReadyAddresses").index(j),
                ));
            }
            let ports = items(&ss.ports);
            for (j, port) in ports.iter().enumerate() {
                errs.extend(validate_endpoint_port(
                    port,
                    ports.len() > 1,
                    &p.child("ports").index(j),
                ));
            }
        }
        errs
    }
}
