//! `ServiceAllocation`: cluster IPs from the service CIDR and node ports from the node-port
//! range, as upstream's service registry allocates them — never twice, given back when a
//! Service is deleted or no longer needs them, and rebuilt from the stored Services when the
//! server starts.

use std::collections::HashSet;
use std::net::Ipv4Addr;
use std::sync::Arc;

use async_trait::async_trait;
use kubernaut_api_types::validate::{FieldError, Path};
use parking_lot::Mutex;
use serde_json::{Value, json};

use super::{AdmissionPlugin, Attributes, Operation, Reservation};
use crate::error::{ApiError, GroupKind};
use crate::object;

/// Settings of the allocators.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServiceAllocationConfig {
    /// The cluster IP range (default `10.96.0.0/12`, kubeadm's). Its first address is the
    /// `kubernetes` Service's.
    pub cidr: (Ipv4Addr, u8),
    /// The node-port range, inclusive (default 30000–32767).
    pub node_ports: (u16, u16),
}

impl Default for ServiceAllocationConfig {
    fn default() -> Self {
        ServiceAllocationConfig {
            cidr: (Ipv4Addr::new(10, 96, 0, 0), 12),
            node_ports: (30000, 32767),
        }
    }
}

impl ServiceAllocationConfig {
    /// Parses a CIDR like `10.96.0.0/12`.
    ///
    /// # Errors
    /// When the text is not an IPv4 CIDR with a prefix of 8 to 30 bits.
    pub fn parse_cidr(text: &str) -> Result<(Ipv4Addr, u8), String> {
        let (ip, bits) = text
            .split_once('/')
            .ok_or_else(|| format!("{text:?} is not a CIDR (address/prefix)"))?;
        let ip: Ipv4Addr = ip.parse().map_err(|e| format!("{text:?}: {e}"))?;
        let bits: u8 = bits.parse().map_err(|e| format!("{text:?}: {e}"))?;
        if !(8..=30).contains(&bits) {
            return Err(format!(
                "{text:?}: the prefix must be between 8 and 30 bits"
            ));
        }
        let mask = u32::MAX << (32 - bits);
        Ok((Ipv4Addr::from(u32::from(ip) & mask), bits))
    }

    fn range_text(&self) -> String {
        format!("{}/{}", self.cidr.0, self.cidr.1)
    }

    fn base(&self) -> u32 {
        u32::from(self.cidr.0)
    }

    /// Usable addresses: the network and broadcast addresses are left out.
    fn size(&self) -> u32 {
        (1u32 << (32 - self.cidr.1)) - 2
    }

    /// The first usable address (the `kubernetes` Service's).
    pub fn first_ip(&self) -> Ipv4Addr {
        Ipv4Addr::from(self.base() + 1)
    }

    fn offset(&self, ip: Ipv4Addr) -> Option<u32> {
        let v = u32::from(ip);
        let base = self.base();
        (v > base && v - base <= self.size()).then(|| v - base)
    }
}

#[derive(Debug, Default)]
struct Allocated {
    ips: HashSet<u32>,
    ports: HashSet<u16>,
}

/// Upstream's service IP and node-port allocation, as an admission plugin.
#[derive(Debug)]
pub struct ServiceAllocation {
    config: ServiceAllocationConfig,
    allocated: Arc<Mutex<Allocated>>,
}

impl ServiceAllocation {
    /// Empty allocators over `config`'s ranges.
    pub fn new(config: ServiceAllocationConfig) -> Self {
        ServiceAllocation {
            config,
            allocated: Arc::new(Mutex::new(Allocated::default())),
        }
    }

    /// The ranges.
    pub fn config(&self) -> &ServiceAllocationConfig {
        &self.config
    }

    /// Marks what the stored Services use (at start-up).
    pub fn mark_existing<'s>(&self, services: impl IntoIterator<Item = &'s Value>) {
        let mut a = self.allocated.lock();
        for svc in services {
            for ip in cluster_ips(svc) {
                if let Some(o) = ip.parse().ok().and_then(|ip| self.config.offset(ip)) {
                    a.ips.insert(o);
                }
            }
            for p in node_ports(svc) {
                a.ports.insert(p);
            }
        }
    }

    /// How many cluster IPs and node ports are taken.
    pub fn in_use(&self) -> (usize, usize) {
        let a = self.allocated.lock();
        (a.ips.len(), a.ports.len())
    }

    fn invalid(name: &str, errors: Vec<FieldError>) -> ApiError {
        ApiError::invalid(&GroupKind::new("", "Service"), name, &errors)
    }

    /// Allocates what `svc` needs that `old` (the stored Service, for updates) did not hold,
    /// writing the values into `svc`; returns what was taken and what `old` held that `svc`
    /// gives up.
    fn allocate(&self, name: &str, svc: &mut Value, old: Option<&Value>) -> Result<Held, ApiError> {
        let ty = service_type(svc).to_owned();
        let mut held = Held::default();
        let old_ips: Vec<String> = old.map(cluster_ips).unwrap_or_default();
        let old_ports: Vec<u16> = old.map(node_ports).unwrap_or_default();
        let mut a = self.allocated.lock();

        // Cluster IP.
        if ty == "ExternalName" {
            if let Some(spec) = svc.get_mut("spec").and_then(Value::as_object_mut) {
                spec.remove("clusterIP");
                spec.remove("clusterIPs");
            }
        } else {
            let mut wanted = object::get_path(svc, &["spec", "clusterIP"])
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_owned();
            if wanted.is_empty()
                && let Some(first) = old_ips.first()
            {
                wanted = first.clone();
            }
            let ip = if wanted == "None" {
                "None".to_owned()
            } else if wanted.is_empty() {
                let Some(o) = self.free_ip(&a) else {
                    return Err(ApiError::internal(
                        "failed to allocate a serviceIP: range is full",
                    ));
                };
                a.ips.insert(o);
                held.ips.push(o);
                Ipv4Addr::from(self.config.base() + o).to_string()
            } else if old_ips.contains(&wanted) {
                wanted
            } else {
                let path = Path::new("spec").child("clusterIPs");
                let bad = |detail: String| {
                    Self::invalid(
                        name,
                        vec![FieldError::invalid(
                            &path,
                            format!("[]string{{{wanted:?}}}"),
                            detail,
                        )],
                    )
                };
                let parsed: Ipv4Addr = wanted.parse().map_err(|_| {
                    bad(format!(
                        "failed to allocate IP {wanted}: must be a valid IP address"
                    ))
                })?;
                let Some(o) = self.config.offset(parsed) else {
                    drop(a);
                    held.release(&self.allocated);
                    return Err(bad(format!(
                        "failed to allocate IP {wanted}: the provided IP ({wanted}) is not in \
                         the valid range. The range of valid IPs is {}",
                        self.config.range_text()
                    )));
                };
                if !a.ips.insert(o) {
                    drop(a);
                    held.release(&self.allocated);
                    return Err(bad(format!(
                        "failed to allocate IP {wanted}: provided IP is already allocated"
                    )));
                }
                held.ips.push(o);
                wanted
            };
            object::set_path(svc, &["spec", "clusterIP"], json!(ip));
            object::set_path(svc, &["spec", "clusterIPs"], json!([ip]));
            object::set_path(svc, &["spec", "ipFamilies"], json!(["IPv4"]));
            if object::get_path(svc, &["spec", "ipFamilyPolicy"]).is_none() {
                object::set_path(svc, &["spec", "ipFamilyPolicy"], json!("SingleStack"));
            }
        }

        // Node ports.
        let needs_ports = matches!(ty.as_str(), "NodePort" | "LoadBalancer");
        let old_by_port: Vec<(i64, String, u16)> = old
            .and_then(|o| object::get_path(o, &["spec", "ports"]))
            .and_then(Value::as_array)
            .map(|ports| {
                ports
                    .iter()
                    .filter_map(|p| {
                        Some((
                            p.get("port")?.as_i64()?,
                            p.get("protocol")
                                .and_then(Value::as_str)
                                .unwrap_or("TCP")
                                .to_owned(),
                            u16::try_from(p.get("nodePort")?.as_i64()?).ok()?,
                        ))
                    })
                    .collect()
            })
            .unwrap_or_default();
        let mut kept: Vec<u16> = Vec::new();
        if let Some(Value::Array(ports)) = svc.get_mut("spec").and_then(|s| s.get_mut("ports")) {
            for (i, p) in ports.iter_mut().enumerate() {
                let Value::Object(p) = p else { continue };
                if !needs_ports {
                    p.remove("nodePort");
                    continue;
                }
                let given = p.get("nodePort").and_then(Value::as_i64).unwrap_or(0);
                let port_no = p.get("port").and_then(Value::as_i64).unwrap_or(0);
                let proto = p
                    .get("protocol")
                    .and_then(Value::as_str)
                    .unwrap_or("TCP")
                    .to_owned();
                let wanted = if given != 0 {
                    given
                } else {
                    old_by_port
                        .iter()
                        .find(|(port, pr, _)| *port == port_no && *pr == proto)
                        .map_or(0, |(_, _, np)| i64::from(*np))
                };
                let path = Path::new("spec").child("ports").index(i).child("nodePort");
                let chosen = if wanted == 0 {
                    let Some(np) = self.free_port(&a) else {
                        drop(a);
                        held.release(&self.allocated);
                        return Err(ApiError::internal(
                            "failed to allocate a nodePort: range is full",
                        ));
                    };
                    a.ports.insert(np);
                    held.ports.push(np);
                    np
                } else {
                    let np = u16::try_from(wanted).ok().filter(|np| {
                        (self.config.node_ports.0..=self.config.node_ports.1).contains(np)
                    });
                    let Some(np) = np else {
                        drop(a);
                        held.release(&self.allocated);
                        return Err(Self::invalid(
                            name,
                            vec![FieldError::invalid(
                                &path,
                                wanted,
                                format!(
                                    "provided port is not in the valid range. The range of valid \
                                     ports is {}-{}",
                                    self.config.node_ports.0, self.config.node_ports.1
                                ),
                            )],
                        ));
                    };
                    if old_ports.contains(&np) && !kept.contains(&np) {
                        kept.push(np);
                    } else if !a.ports.insert(np) || held.ports.contains(&np) {
                        drop(a);
                        held.release(&self.allocated);
                        return Err(Self::invalid(
                            name,
                            vec![FieldError::invalid(
                                &path,
                                wanted,
                                "provided port is already allocated",
                            )],
                        ));
                    } else {
                        held.ports.push(np);
                    }
                    np
                };
                p.insert("nodePort".into(), json!(chosen));
            }
        }

        // What the old Service held and this one no longer uses is freed on commit.
        let now_ips = cluster_ips(svc);
        for ip in old_ips {
            if !now_ips.contains(&ip)
                && let Some(o) = ip.parse().ok().and_then(|ip| self.config.offset(ip))
            {
                held.frees_ips.push(o);
            }
        }
        for np in old_ports {
            if !kept.contains(&np) {
                held.frees_ports.push(np);
            }
        }
        Ok(held)
    }

    fn free_ip(&self, a: &Allocated) -> Option<u32> {
        let size = self.config.size();
        // The first address belongs to the `kubernetes` Service.
        if size <= a.ips.len() as u32 {
            return None;
        }
        let mut r = [0u8; 4];
        object::fill_random(&mut r);
        let start = u32::from_le_bytes(r) % size;
        (0..size)
            .map(|i| (start + i) % size + 1)
            .find(|o| *o != 1 && !a.ips.contains(o))
    }

    fn free_port(&self, a: &Allocated) -> Option<u16> {
        let (lo, hi) = self.config.node_ports;
        let span = u32::from(hi - lo) + 1;
        let mut r = [0u8; 4];
        object::fill_random(&mut r);
        let start = u32::from_le_bytes(r) % span;
        (0..span)
            .map(|i| lo + ((start + i) % span) as u16)
            .find(|p| !a.ports.contains(p))
    }
}

/// What one write took and what it gives back on commit.
#[derive(Debug, Default)]
struct Held {
    ips: Vec<u32>,
    ports: Vec<u16>,
    frees_ips: Vec<u32>,
    frees_ports: Vec<u16>,
}

impl Held {
    fn release(&mut self, allocated: &Mutex<Allocated>) {
        let mut a = allocated.lock();
        for o in self.ips.drain(..) {
            a.ips.remove(&o);
        }
        for p in self.ports.drain(..) {
            a.ports.remove(&p);
        }
    }
}

struct ServiceReservation {
    held: Held,
    allocated: Arc<Mutex<Allocated>>,
}

impl Reservation for ServiceReservation {
    fn commit(self: Box<Self>) {
        let mut a = self.allocated.lock();
        for o in &self.held.frees_ips {
            a.ips.remove(o);
        }
        for p in &self.held.frees_ports {
            a.ports.remove(p);
        }
    }

    fn release(mut self: Box<Self>) {
        let allocated = Arc::clone(&self.allocated);
        self.held.release(&allocated);
    }
}

fn service_type(svc: &Value) -> &str {
    object::get_path(svc, &["spec", "type"])
        .and_then(Value::as_str)
        .unwrap_or("ClusterIP")
}

fn cluster_ips(svc: &Value) -> Vec<String> {
    let mut ips: Vec<String> = object::get_path(svc, &["spec", "clusterIPs"])
        .and_then(Value::as_array)
        .map(|l| {
            l.iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default();
    if let Some(ip) = object::get_path(svc, &["spec", "clusterIP"]).and_then(Value::as_str)
        && !ip.is_empty()
        && !ips.iter().any(|i| i == ip)
    {
        ips.insert(0, ip.to_owned());
    }
    ips.retain(|i| i != "None" && !i.is_empty());
    ips
}

fn node_ports(svc: &Value) -> Vec<u16> {
    object::get_path(svc, &["spec", "ports"])
        .and_then(Value::as_array)
        .map(|ports| {
            ports
                .iter()
                .filter_map(|p| u16::try_from(p.get("nodePort")?.as_i64()?).ok())
                .filter(|p| *p != 0)
                .collect()
        })
        .unwrap_or_default()
}

#[async_trait]
impl AdmissionPlugin for ServiceAllocation {
    fn name(&self) -> &'static str {
        "ServiceAllocation"
    }

    async fn reserve(
        &self,
        a: &mut Attributes<'_>,
    ) -> Result<Option<Box<dyn Reservation>>, ApiError> {
        if !(a.resource.api.group.is_empty() && a.resource.api.kind == "Service")
            || a.subresource.is_some()
        {
            return Ok(None);
        }
        let held = match a.operation {
            Operation::Create => self.allocate(a.name, a.object, None)?,
            Operation::Update => self.allocate(a.name, a.object, a.old_object)?,
            Operation::Delete => {
                let mut held = Held::default();
                for ip in cluster_ips(a.object) {
                    if let Some(o) = ip.parse().ok().and_then(|ip| self.config.offset(ip)) {
                        held.frees_ips.push(o);
                    }
                }
                held.frees_ports = node_ports(a.object);
                held
            }
        };
        Ok(Some(Box::new(ServiceReservation {
            held,
            allocated: Arc::clone(&self.allocated),
        })))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn small() -> ServiceAllocation {
        ServiceAllocation::new(ServiceAllocationConfig {
            cidr: ServiceAllocationConfig::parse_cidr("10.0.0.0/29").unwrap(),
            node_ports: (30000, 30002),
        })
    }

    fn svc(ty: &str, ip: &str, node_port: i64) -> Value {
        json!({"metadata": {"name": "s"}, "spec": {"type": ty, "clusterIP": ip,
            "ports": [{"port": 80, "protocol": "TCP", "nodePort": node_port}]}})
    }

    #[test]
    fn allocations_are_unique_and_the_range_runs_out() {
        let a = small();
        let mut ips = HashSet::new();
        // 6 usable addresses, the first reserved for the kubernetes Service.
        for _ in 0..5 {
            let mut s = svc("ClusterIP", "", 0);
            let held = a.allocate("s", &mut s, None).unwrap();
            Box::new(ServiceReservation {
                held,
                allocated: Arc::clone(&a.allocated),
            })
            .commit();
            assert!(ips.insert(s["spec"]["clusterIP"].as_str().unwrap().to_owned()));
            assert!(s["spec"]["ports"][0].get("nodePort").is_none());
        }
        assert!(!ips.contains("10.0.0.1"));
        let err = a
            .allocate("s", &mut svc("ClusterIP", "", 0), None)
            .unwrap_err();
        assert_eq!(err.code(), 500);
    }

    #[test]
    fn requested_values_are_checked_and_released_on_failure() {
        let a = small();
        let mut s = svc("NodePort", "10.0.0.3", 30001);
        let held = a.allocate("s", &mut s, None).unwrap();
        Box::new(ServiceReservation {
            held,
            allocated: Arc::clone(&a.allocated),
        })
        .commit();
        let dup = a
            .allocate("t", &mut svc("NodePort", "10.0.0.3", 0), None)
            .unwrap_err();
        assert!(
            dup.message().contains("provided IP is already allocated"),
            "{}",
            dup.message()
        );
        let port = a
            .allocate("t", &mut svc("NodePort", "", 30001), None)
            .unwrap_err();
        assert!(
            port.message()
                .contains("provided port is already allocated")
        );
        let range = a
            .allocate("t", &mut svc("NodePort", "", 80), None)
            .unwrap_err();
        assert!(
            range
                .message()
                .contains("The range of valid ports is 30000-30002")
        );
        let out = a
            .allocate("t", &mut svc("ClusterIP", "192.168.0.1", 0), None)
            .unwrap_err();
        assert!(
            out.message()
                .contains("The range of valid IPs is 10.0.0.0/29")
        );
        assert_eq!(a.in_use(), (1, 1), "failed attempts hold nothing");
    }

    #[test]
    fn updates_keep_what_they_have_and_free_what_they_drop() {
        let a = small();
        let mut old = svc("NodePort", "", 0);
        let held = a.allocate("s", &mut old, None).unwrap();
        Box::new(ServiceReservation {
            held,
            allocated: Arc::clone(&a.allocated),
        })
        .commit();
        // Re-applying a manifest without the allocated values keeps them.
        let mut again =
            json!({"spec": {"type": "NodePort", "ports": [{"port": 80, "protocol": "TCP"}]}});
        let held = a.allocate("s", &mut again, Some(&old)).unwrap();
        assert_eq!(again["spec"]["clusterIP"], old["spec"]["clusterIP"]);
        assert_eq!(
            again["spec"]["ports"][0]["nodePort"],
            old["spec"]["ports"][0]["nodePort"]
        );
        Box::new(ServiceReservation {
            held,
            allocated: Arc::clone(&a.allocated),
        })
        .commit();
        assert_eq!(a.in_use(), (1, 1));
        // Back to ClusterIP frees the node port.
        let mut cip =
            json!({"spec": {"type": "ClusterIP", "ports": [{"port": 80, "nodePort": 30000}]}});
        let held = a.allocate("s", &mut cip, Some(&old)).unwrap();
        assert!(cip["spec"]["ports"][0].get("nodePort").is_none());
        Box::new(ServiceReservation {
            held,
            allocated: Arc::clone(&a.allocated),
        })
        .commit();
        assert_eq!(a.in_use(), (1, 0));
    }

    #[test]
    fn existing_services_are_marked_at_start() {
        let a = small();
        a.mark_existing([&svc("NodePort", "10.0.0.4", 30002)]);
        assert_eq!(a.in_use(), (1, 1));
        assert!(
            a.allocate("t", &mut svc("NodePort", "10.0.0.4", 0), None)
                .is_err()
        );
    }
}
