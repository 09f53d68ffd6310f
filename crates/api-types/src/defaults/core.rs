//! Defaults of the core group (`v1`): pods, services, namespaces, nodes, volumes and claims,
//! secrets, endpoints, limit ranges. The pod pieces shared with workloads live in `pod.rs`.

use crate::SortedMap;

use super::pod::{self, azure_disk, host_path, rbd_fields, scale_io_fields};
use super::{SetDefaults, default_ptr, default_str, is_unset, no_defaults};
use crate::IntOrString;
use crate::core::v1::{
    ClientIPConfig, Endpoints, LimitRange, LimitRangeItem, Namespace, Node, PersistentVolume,
    PersistentVolumeClaim, Pod, PodTemplate, Secret, Service, ServiceSpec, SessionAffinityConfig,
};

/// The label every named namespace carries, holding its own name.
const NAMESPACE_NAME_LABEL: &str = "kubernetes.io/metadata.name";

/// How long a `ClientIP` session sticks by default: three hours.
const CLIENT_IP_TIMEOUT_SECONDS: i32 = 10_800;

no_defaults!(
    crate::core::v1::Binding,
    // Upstream sets `data` to an empty map, which its JSON omits: nothing visible changes.
    crate::core::v1::ConfigMap,
    crate::core::v1::Event,
    // Only quantity rounding, which this module leaves to `Quantity`.
    crate::core::v1::ResourceQuota,
    crate::core::v1::ServiceAccount,
);

/// `kubernetes.io/metadata.name` set to the name (always overwritten, as upstream does, so the
/// label cannot lie), and the `Active` phase.
impl SetDefaults for Namespace {
    fn set_defaults(&mut self) {
        if let Some(name) = self.metadata.name.as_deref().filter(|n| !n.is_empty()) {
            let name = name.to_owned();
            self.metadata
                .labels
                .get_or_insert_with(SortedMap::new)
                .insert(NAMESPACE_NAME_LABEL.to_owned(), name);
        }
        default_str(
            &mut self.status.get_or_insert_with(Default::default).phase,
            "Active",
        );
    }
}

/// The pod-spec defaults, plus what only pods get (requests from limits,
/// `enableServiceLinks: true`, host ports on the host network).
impl SetDefaults for Pod {
    fn set_defaults(&mut self) {
        let spec = self.spec.get_or_insert_with(Default::default);
        pod::pod_only(spec);
        pod::pod_spec(spec);
    }
}

/// The template's pod-spec defaults.
impl SetDefaults for PodTemplate {
    fn set_defaults(&mut self) {
        pod::pod_template_spec(self.template.get_or_insert_with(Default::default));
    }
}

/// `type: ClusterIP`, `sessionAffinity: None` (a `ClientIP` affinity gets a 10800 s timeout),
/// ports `TCP` targeting their own number, traffic policies `Cluster`,
/// `allocateLoadBalancerNodePorts: true` and `ipMode: VIP` for load balancers.
impl SetDefaults for Service {
    fn set_defaults(&mut self) {
        let spec = self.spec.get_or_insert_with(Default::default);
        default_str(&mut spec.session_affinity, "None");
        match spec.session_affinity.as_deref() {
            // Upstream drops a config that cannot apply.
            Some("None") => spec.session_affinity_config = None,
            Some("ClientIP") => {
                let has_timeout = spec
                    .session_affinity_config
                    .as_ref()
                    .and_then(|c| c.client_ip.as_ref())
                    .is_some_and(|c| c.timeout_seconds.is_some());
                if !has_timeout {
                    spec.session_affinity_config = Some(Box::new(SessionAffinityConfig {
                        client_ip: Some(Box::new(ClientIPConfig {
                            timeout_seconds: Some(CLIENT_IP_TIMEOUT_SECONDS),
                        })),
                    }));
                }
            }
            _ => {}
        }
        default_str(&mut spec.type_, "ClusterIP");
        for port in spec.ports.iter_mut().flatten() {
            default_str(&mut port.protocol, "TCP");
            let unset = match &port.target_port {
                None => true,
                Some(IntOrString::Int(n)) => *n == 0,
                Some(IntOrString::String(s)) => s.is_empty(),
            };
            if unset {
                port.target_port = Some(IntOrString::Int(port.port));
            }
        }
        let service_type = spec.type_.clone().unwrap_or_default();
        if externally_accessible(&service_type, spec) {
            default_str(&mut spec.external_traffic_policy, "Cluster");
        }
        if matches!(
            service_type.as_str(),
            "ClusterIP" | "NodePort" | "LoadBalancer"
        ) {
            default_ptr(&mut spec.internal_traffic_policy, "Cluster".to_owned());
        }
        if service_type == "LoadBalancer" {
            default_ptr(&mut spec.allocate_load_balancer_node_ports, true);
            let ingresses = self
                .status
                .as_mut()
                .and_then(|s| s.load_balancer.as_mut())
                .and_then(|lb| lb.ingress.as_mut());
            for ingress in ingresses.into_iter().flatten() {
                if !is_unset(&ingress.ip) {
                    default_ptr(&mut ingress.ip_mode, "VIP".to_owned());
                }
            }
        }
    }
}

/// Whether traffic from outside the cluster reaches the service: node ports, load balancers,
/// and cluster IPs with external IPs.
fn externally_accessible(service_type: &str, spec: &ServiceSpec) -> bool {
    match service_type {
        "LoadBalancer" | "NodePort" => true,
        "ClusterIP" => spec
            .external_ips
            .as_ref()
            .is_some_and(|ips| !ips.is_empty()),
        _ => false,
    }
}

/// Ports default to `TCP`.
impl SetDefaults for Endpoints {
    fn set_defaults(&mut self) {
        for subset in self.subsets.iter_mut().flatten() {
            for port in subset.ports.iter_mut().flatten() {
                default_str(&mut port.protocol, "TCP");
            }
        }
    }
}

/// `type: Opaque`.
impl SetDefaults for Secret {
    fn set_defaults(&mut self) {
        default_str(&mut self.type_, "Opaque");
    }
}

/// Allocatable defaults to the capacity when the node reports only capacity.
impl SetDefaults for Node {
    fn set_defaults(&mut self) {
        if let Some(status) = &mut self.status
            && status.allocatable.is_none()
        {
            status.allocatable.clone_from(&status.capacity);
        }
    }
}

/// For `Container` items: the default limit falls back to the max, the default request to the
/// default limit and then to the min.
impl SetDefaults for LimitRange {
    fn set_defaults(&mut self) {
        for item in self.spec.iter_mut().flat_map(|s| s.limits.iter_mut()) {
            limit_range_item(item);
        }
    }
}

/// One LimitRange item.
fn limit_range_item(item: &mut LimitRangeItem) {
    if item.type_ != "Container" {
        return;
    }
    let mut default = item.default_.clone().unwrap_or_default();
    for (name, max) in item.max.iter().flatten() {
        default.entry(name.clone()).or_insert_with(|| max.clone());
    }
    let mut default_request = item.default_request.clone().unwrap_or_default();
    for (name, quantity) in default.iter().chain(item.min.iter().flatten()) {
        default_request
            .entry(name.clone())
            .or_insert_with(|| quantity.clone());
    }
    // Upstream's empty maps are omitted from its JSON; keep an empty map only if it was given.
    if item.default_.is_some() || !default.is_empty() {
        item.default_ = Some(default);
    }
    if item.default_request.is_some() || !default_request.is_empty() {
        item.default_request = Some(default_request);
    }
}

/// `volumeMode: Filesystem` and, until bound, `status.phase: Pending`.
impl SetDefaults for PersistentVolumeClaim {
    fn set_defaults(&mut self) {
        pod::pvc(self);
    }
}

/// `persistentVolumeReclaimPolicy: Retain`, `volumeMode: Filesystem`, `status.phase: Pending`,
/// and the volume-source defaults (host path, RBD, iSCSI, Azure disk, ScaleIO).
impl SetDefaults for PersistentVolume {
    fn set_defaults(&mut self) {
        default_str(
            &mut self.status.get_or_insert_with(Default::default).phase,
            "Pending",
        );
        let spec = self.spec.get_or_insert_with(Default::default);
        default_str(&mut spec.persistent_volume_reclaim_policy, "Retain");
        default_ptr(&mut spec.volume_mode, "Filesystem".to_owned());
        if let Some(source) = &mut spec.host_path {
            host_path(source);
        }
        if let Some(rbd) = &mut spec.rbd {
            rbd_fields(&mut rbd.pool, &mut rbd.user, &mut rbd.keyring);
        }
        if let Some(iscsi) = &mut spec.iscsi {
            default_str(&mut iscsi.iscsi_interface, "default");
        }
        if let Some(source) = &mut spec.azure_disk {
            azure_disk(source);
        }
        if let Some(scale_io) = &mut spec.scale_io {
            scale_io_fields(&mut scale_io.storage_mode, &mut scale_io.fs_type);
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use crate::core::v1::{
        Binding, ConfigMap, Endpoints, Event, LimitRange, Namespace, Node, PersistentVolume,
        PersistentVolumeClaim, PodTemplate, ResourceQuota, Secret, Service, ServiceAccount,
    };
    use crate::defaults::tests::{assert_defaults, assert_unchanged};

    #[test]
    fn namespace_gets_its_name_label_and_active_phase() {
        assert_defaults::<Namespace>(
            json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "test"}}),
            json!({
                "apiVersion": "v1", "kind": "Namespace",
                "metadata": {"name": "test", "labels": {"kubernetes.io/metadata.name": "test"}},
                "status": {"phase": "Active"}
            }),
        );
        // The label always tells the truth; an unnamed namespace gets no label.
        assert_defaults::<Namespace>(
            json!({"metadata": {"name": "a", "labels": {"kubernetes.io/metadata.name": "b", "x": "y"}}}),
            json!({
                "apiVersion": "v1", "kind": "Namespace",
                "metadata": {"name": "a", "labels": {"kubernetes.io/metadata.name": "a", "x": "y"}},
                "status": {"phase": "Active"}
            }),
        );
        assert_defaults::<Namespace>(
            json!({"metadata": {"generateName": "ns-"}, "status": {"phase": ""}}),
            json!({
                "apiVersion": "v1", "kind": "Namespace",
                "metadata": {"generateName": "ns-"},
                "status": {"phase": "Active"}
            }),
        );
    }

    #[test]
    fn service_defaults() {
        assert_defaults::<Service>(
            json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web"},
                "spec": {"selector": {"app": "web"}, "ports": [{"port": 80}, {"port": 443, "targetPort": "https"}]}}),
            json!({
                "apiVersion": "v1", "kind": "Service", "metadata": {"name": "web"},
                "spec": {
                    "selector": {"app": "web"},
                    "ports": [
                        {"port": 80, "protocol": "TCP", "targetPort": 80},
                        {"port": 443, "protocol": "TCP", "targetPort": "https"}
                    ],
                    "type": "ClusterIP",
                    "sessionAffinity": "None",
                    "internalTrafficPolicy": "Cluster"
                }
            }),
        );
    }

    #[test]
    fn service_session_affinity() {
        assert_defaults::<Service>(
            json!({"spec": {"sessionAffinity": "ClientIP"}}),
            json!({"apiVersion": "v1", "kind": "Service", "metadata": {}, "spec": {
                "sessionAffinity": "ClientIP",
                "sessionAffinityConfig": {"clientIP": {"timeoutSeconds": 10800}},
                "type": "ClusterIP",
                "internalTrafficPolicy": "Cluster"
            }}),
        );
        // A config is meaningless without ClientIP affinity and is dropped, as upstream does.
        assert_defaults::<Service>(
            json!({"spec": {"sessionAffinityConfig": {"clientIP": {"timeoutSeconds": 5}}}}),
            json!({"apiVersion": "v1", "kind": "Service", "metadata": {}, "spec": {
                "sessionAffinity": "None",
                "type": "ClusterIP",
                "internalTrafficPolicy": "Cluster"
            }}),
        );
    }

    #[test]
    fn service_types_and_traffic_policies() {
        assert_defaults::<Service>(
            json!({"spec": {"type": "LoadBalancer", "ports": [{"port": 80, "targetPort": 0}]},
                "status": {"loadBalancer": {"ingress": [{"ip": "192.0.2.1"}, {"hostname": "lb.example.com"}]}}}),
            json!({"apiVersion": "v1", "kind": "Service", "metadata": {},
            "spec": {
                "type": "LoadBalancer",
                "ports": [{"port": 80, "protocol": "TCP", "targetPort": 80}],
                "sessionAffinity": "None",
                "externalTrafficPolicy": "Cluster",
                "internalTrafficPolicy": "Cluster",
                "allocateLoadBalancerNodePorts": true
            },
            "status": {"loadBalancer": {"ingress": [
                {"ip": "192.0.2.1", "ipMode": "VIP"}, {"hostname": "lb.example.com"}
            ]}}}),
        );
        assert_defaults::<Service>(
            json!({"spec": {"type": "NodePort"}}),
            json!({"apiVersion": "v1", "kind": "Service", "metadata": {}, "spec": {
                "type": "NodePort", "sessionAffinity": "None",
                "externalTrafficPolicy": "Cluster", "internalTrafficPolicy": "Cluster"
            }}),
        );
        assert_defaults::<Service>(
            json!({"spec": {"externalIPs": ["192.0.2.7"]}}),
            json!({"apiVersion": "v1", "kind": "Service", "metadata": {}, "spec": {
                "externalIPs": ["192.0.2.7"], "type": "ClusterIP", "sessionAffinity": "None",
                "externalTrafficPolicy": "Cluster", "internalTrafficPolicy": "Cluster"
            }}),
        );
        // ExternalName services get neither traffic policy.
        assert_defaults::<Service>(
            json!({"spec": {"type": "ExternalName", "externalName": "example.com"}}),
            json!({"apiVersion": "v1", "kind": "Service", "metadata": {}, "spec": {
                "type": "ExternalName", "externalName": "example.com", "sessionAffinity": "None"
            }}),
        );
    }

    #[test]
    fn endpoints_ports_default_to_tcp() {
        assert_defaults::<Endpoints>(
            json!({"metadata": {"name": "e"}, "subsets": [{"ports": [{"port": 80}, {"port": 53, "protocol": "UDP"}]}]}),
            json!({"apiVersion": "v1", "kind": "Endpoints", "metadata": {"name": "e"},
                "subsets": [{"ports": [{"port": 80, "protocol": "TCP"}, {"port": 53, "protocol": "UDP"}]}]}),
        );
    }

    #[test]
    fn secret_type_defaults_to_opaque() {
        assert_defaults::<Secret>(
            json!({"metadata": {"name": "s"}, "data": {"k": "dg=="}}),
            json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"},
                "data": {"k": "dg=="}, "type": "Opaque"}),
        );
    }

    #[test]
    fn node_allocatable_defaults_to_capacity() {
        assert_defaults::<Node>(
            json!({"metadata": {"name": "n"}, "status": {"capacity": {"cpu": "4", "memory": "1Gi"}}}),
            json!({"apiVersion": "v1", "kind": "Node", "metadata": {"name": "n"}, "status": {
                "capacity": {"cpu": "4", "memory": "1Gi"},
                "allocatable": {"cpu": "4", "memory": "1Gi"}
            }}),
        );
        assert_defaults::<Node>(
            json!({"metadata": {"name": "n"}}),
            json!({"apiVersion": "v1", "kind": "Node", "metadata": {"name": "n"}}),
        );
    }

    #[test]
    fn limit_range_container_items_fill_default_and_default_request() {
        // Upstream's TestSetDefaultLimitRangeItem.
        assert_defaults::<LimitRange>(
            json!({"metadata": {"name": "test-defaults"}, "spec": {"limits": [{
                "type": "Container",
                "max": {"cpu": "100m"},
                "min": {"memory": "100Mi"},
                "default": {},
                "defaultRequest": {}
            }]}}),
            json!({"apiVersion": "v1", "kind": "LimitRange", "metadata": {"name": "test-defaults"},
            "spec": {"limits": [{
                "type": "Container",
                "max": {"cpu": "100m"},
                "min": {"memory": "100Mi"},
                "default": {"cpu": "100m"},
                "defaultRequest": {"cpu": "100m", "memory": "100Mi"}
            }]}}),
        );
        // Pod items are left alone, and nothing empty is invented.
        assert_defaults::<LimitRange>(
            json!({"spec": {"limits": [{"type": "Pod", "max": {"cpu": "1"}}, {"type": "Container"}]}}),
            json!({"apiVersion": "v1", "kind": "LimitRange", "metadata": {},
                "spec": {"limits": [{"type": "Pod", "max": {"cpu": "1"}}, {"type": "Container"}]}}),
        );
    }

    #[test]
    fn claims_and_volumes() {
        assert_defaults::<PersistentVolumeClaim>(
            json!({"metadata": {"name": "c"}, "spec": {"accessModes": ["ReadWriteOnce"]}}),
            json!({"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": "c"},
                "spec": {"accessModes": ["ReadWriteOnce"], "volumeMode": "Filesystem"},
                "status": {"phase": "Pending"}}),
        );
        assert_defaults::<PersistentVolume>(
            json!({"metadata": {"name": "v"}, "spec": {
                "hostPath": {"path": "/data"},
                "rbd": {"image": "img", "monitors": ["m"]},
                "iscsi": {"targetPortal": "t", "iqn": "q", "lun": 1},
                "azureDisk": {"diskName": "d", "diskURI": "u"},
                "scaleIO": {"gateway": "g", "system": "s", "secretRef": {"name": "x"}}
            }}),
            json!({"apiVersion": "v1", "kind": "PersistentVolume", "metadata": {"name": "v"},
                "spec": {
                    "hostPath": {"path": "/data", "type": ""},
                    "rbd": {"image": "img", "monitors": ["m"], "pool": "rbd", "user": "admin",
                        "keyring": "/etc/ceph/keyring"},
                    "iscsi": {"targetPortal": "t", "iqn": "q", "lun": 1, "iscsiInterface": "default"},
                    "azureDisk": {"diskName": "d", "diskURI": "u", "cachingMode": "ReadWrite",
                        "fsType": "ext4", "readOnly": false, "kind": "Shared"},
                    "scaleIO": {"gateway": "g", "system": "s", "secretRef": {"name": "x"},
                        "storageMode": "ThinProvisioned", "fsType": "xfs"},
                    "persistentVolumeReclaimPolicy": "Retain",
                    "volumeMode": "Filesystem"
                },
                "status": {"phase": "Pending"}}),
        );
    }

    #[test]
    fn pod_template_gets_pod_spec_defaults_only() {
        // No enableServiceLinks and no requests from limits: those are for pods alone.
        assert_defaults::<PodTemplate>(
            json!({"metadata": {"name": "t"}, "template": {"spec": {"containers": [
                {"name": "c", "image": "busybox:1.36", "resources": {"limits": {"cpu": "1"}}}
            ]}}}),
            json!({"apiVersion": "v1", "kind": "PodTemplate", "metadata": {"name": "t"},
            "template": {"metadata": {}, "spec": {
                "containers": [{
                    "name": "c", "image": "busybox:1.36",
                    "imagePullPolicy": "IfNotPresent",
                    "resources": {"limits": {"cpu": "1"}},
                    "terminationMessagePath": "/dev/termination-log",
                    "terminationMessagePolicy": "File"
                }],
                "dnsPolicy": "ClusterFirst",
                "restartPolicy": "Always",
                "schedulerName": "default-scheduler",
                "securityContext": {},
                "terminationGracePeriodSeconds": 30
            }}}),
        );
    }

    #[test]
    fn kinds_without_defaults_are_untouched() {
        assert_unchanged::<ConfigMap>(json!({"metadata": {"name": "c"}}));
        assert_unchanged::<ServiceAccount>(json!({"metadata": {"name": "sa"}}));
        assert_unchanged::<Event>(
            json!({"metadata": {"name": "e"}, "involvedObject": {"kind": "Pod"}}),
        );
        assert_unchanged::<Binding>(
            json!({"metadata": {"name": "p"}, "target": {"kind": "Node", "name": "n"}}),
        );
        assert_unchanged::<ResourceQuota>(
            json!({"metadata": {"name": "q"}, "spec": {"hard": {"pods": "10"}}}),
        );
    }
}
