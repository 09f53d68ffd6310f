//! The discovery group: EndpointSlice, as upstream's `pkg/apis/discovery/validation` (address
//! types, endpoints and their addresses, ports).

use std::collections::BTreeSet;

use super::Validate;
use super::field::{ErrorList, FieldError, Path};
use super::meta::{self, items, s};
use super::names;
use super::service::validate_non_special_ip;
use crate::discovery::v1::{Endpoint, EndpointPort, EndpointSlice};

const ADDRESS_TYPES: [&str; 3] = ["FQDN", "IPv4", "IPv6"];
const PROTOCOLS: [&str; 3] = ["SCTP", "TCP", "UDP"];
const MAX_TOPOLOGY_LABELS: usize = 16;
const MAX_ADDRESSES: usize = 100;
const MAX_PORTS: usize = 100;
const MAX_ENDPOINTS: usize = 1000;
const MAX_FOR_ZONES: usize = 8;

fn validate_endpoints(endpoints: &[Endpoint], address_type: &str, path: &Path) -> ErrorList {
    if endpoints.len() > MAX_ENDPOINTS {
        return vec![FieldError::too_many(path, endpoints.len(), MAX_ENDPOINTS)];
    }
    let mut errs = ErrorList::new();
    for (i, ep) in endpoints.iter().enumerate() {
        let p = path.index(i);
        let ap = p.child("addresses");
        if ep.addresses.is_empty() {
            errs.push(FieldError::required(&ap, "must contain at least 1 address"));
        } else if ep.addresses.len() > MAX_ADDRESSES {
            errs.push(FieldError::too_many(&ap, ep.addresses.len(), MAX_ADDRESSES));
        }
        for (j, address) in ep.addresses.iter().enumerate() {
            let aj = ap.index(j);
            match address_type {
                "IPv4" => {
                    errs.extend(names::is_valid_ipv4_address(&aj, address));
                    errs.extend(validate_non_special_ip(address, &aj));
                }
                "IPv6" => {
                    errs.extend(names::is_valid_ipv6_address(&aj, address));
                    errs.extend(validate_non_special_ip(address, &aj));
                }
                "FQDN" => errs.extend(names::is_fully_qualified_domain_name(&aj, address)),
                _ => {}
            }
        }
        if let Some(node) = &ep.node_name {
            errs.extend(meta::validate_name(
                names::name_is_dns_subdomain,
                node,
                &p.child("nodeName"),
            ));
        }
        // The v1 `deprecatedTopology` is upstream's internal `topology`.
        let topology_path = p.child("topology");
        let topology = ep.deprecated_topology.as_ref();
        if topology.is_some_and(|t| t.len() > MAX_TOPOLOGY_LABELS) {
            errs.push(FieldError::too_many(
                &topology_path,
                topology.map_or(0, |t| t.len()),
                MAX_TOPOLOGY_LABELS,
            ));
        }
        errs.extend(meta::validate_labels(topology, &topology_path));
        if let Some(hostname) = &ep.hostname {
            errs.extend(meta::validate_dns1123_label(hostname, &p.child("hostname")));
        }
        if let Some(hints) = &ep.hints {
            let fz = p.child("hints").child("forZones");
            let zones = items(&hints.for_zones);
            if zones.len() > MAX_FOR_ZONES {
                errs.push(FieldError::too_many(&fz, zones.len(), MAX_FOR_ZONES));
                continue;
            }
            let mut seen = BTreeSet::new();
            for (j, zone) in zones.iter().enumerate() {
                let zp = fz.index(j).child("name");
                if !seen.insert(zone.name.as_str()) {
                    errs.push(FieldError::duplicate(&zp, zone.name.as_str()));
                }
                for msg in names::is_valid_label_value(&zone.name) {
                    errs.push(FieldError::invalid(&zp, zone.name.as_str(), msg));
                }
            }
        }
    }
    errs
}

fn validate_ports(ports: &[EndpointPort], path: &Path) -> ErrorList {
    if ports.len() > MAX_PORTS {
        return vec![FieldError::too_many(path, ports.len(), MAX_PORTS)];
    }
    let mut errs = ErrorList::new();
    let mut seen: BTreeSet<&str> = BTreeSet::new();
    for (i, port) in ports.iter().enumerate() {
        let p = path.index(i);
        let name = s(&port.name);
        if !name.is_empty() {
            errs.extend(meta::validate_dns1123_label(name, &p.child("name")));
        }
        if !seen.insert(name) {
            errs.push(FieldError::duplicate(&p.child("name"), name));
        }
        match port.protocol.as_deref() {
            None => errs.push(FieldError::required(&p.child("protocol"), "")),
            Some(proto) if !PROTOCOLS.contains(&proto) => errs.push(FieldError::not_supported(
                &p.child("protocol"),
                proto,
                &PROTOCOLS,
            )),
            Some(_) => {}
        }
        if let Some(ap) = &port.app_protocol {
            for msg in names::is_qualified_name(ap) {
                errs.push(FieldError::invalid(
                    &p.child("appProtocol"),
                    ap.as_str(),
                    msg,
                ));
            }
        }
    }
    errs
}

impl Validate for EndpointSlice {
    fn validate(&self) -> ErrorList {
        let mut errs = meta::validate_object_meta(
            &self.metadata,
            true,
            names::name_is_dns_subdomain,
            &Path::new("metadata"),
        );
        let at = Path::new("addressType");
        if self.address_type.is_empty() {
            errs.push(FieldError::required(&at, ""));
        } else if !ADDRESS_TYPES.contains(&self.address_type.as_str()) {
            errs.push(FieldError::not_supported(
                &at,
                self.address_type.as_str(),
                &ADDRESS_TYPES,
            ));
        }
        errs.extend(validate_endpoints(
            &self.endpoints,
            &self.address_type,
            &Path::new("endpoints"),
        ));
        errs.extend(validate_ports(items(&self.ports), &Path::new("ports")));
        errs
    }
}
