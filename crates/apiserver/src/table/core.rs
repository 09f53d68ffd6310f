//! Printers of the core group (`v1`): pods and their templates, services, endpoints, nodes,
//! events (also `events.k8s.io`), namespaces, secrets, config maps, service accounts,
//! persistent volumes and claims, resource quotas.

use std::collections::{BTreeSet, HashMap};

use kubernaut_api_types::SortedMap;

use kubernaut_api_types::core::v1::{
    ConfigMap, ContainerStatus, EndpointSubset, Endpoints, Event, EventSeries, LoadBalancerStatus,
    Namespace, Node, PersistentVolume, PersistentVolumeClaim, Pod, PodStatus, PodTemplate,
    ResourceQuota, Secret, Service, ServiceAccount, ServiceSpec,
};
use kubernaut_api_types::events;
use kubernaut_api_types::meta::{ObjectMeta, TableRowCondition};
use kubernaut_api_types::{Quantity, Time};
use serde_json::Value;

use super::descriptions::*;
use super::{
    AGE, Column, KindPrinter, NAME, age, containers_and_images, decode, format_labels, int, name,
    since, since_micro, text,
};

// ---------------------------------------------------------------------------------------------
// Pod

/// `kubectl get pods`: `NAME READY STATUS RESTARTS AGE` (wide: `IP NODE NOMINATED NODE
/// READINESS GATES`).
pub(super) static POD: KindPrinter = KindPrinter::with_conditions(
    &[
        NAME,
        Column::new(
            "Ready",
            "string",
            "The aggregate readiness state of this pod for accepting traffic.",
        ),
        Column::new(
            "Status",
            "string",
            "The aggregate status of the containers in this pod.",
        ),
        Column::new(
            "Restarts",
            "string",
            "The number of times the containers in this pod have been restarted and when the \
             last container in this pod has restarted.",
        ),
        AGE,
        Column::new("IP", "string", POD_STATUS_POD_IP).wide(),
        Column::new("Node", "string", POD_SPEC_NODE_NAME).wide(),
        Column::new("Nominated Node", "string", POD_STATUS_NOMINATED_NODE_NAME).wide(),
        Column::new("Readiness Gates", "string", POD_SPEC_READINESS_GATES).wide(),
    ],
    |object, now| Some(print_pod(&decode(object)?, now)),
    pod_conditions,
);

/// A finished pod's row carries a `Completed` condition (upstream's `podSuccessConditions` and
/// `podFailedConditions`).
fn pod_conditions(object: &Value) -> Option<Vec<TableRowCondition>> {
    let (reason, message) = match object.pointer("/status/phase").and_then(Value::as_str)? {
        "Succeeded" => ("Succeeded", "The pod has completed successfully."),
        "Failed" => ("Failed", "The pod failed."),
        _ => return None,
    };
    Some(vec![TableRowCondition {
        type_: "Completed".to_owned(),
        status: "True".to_owned(),
        reason: Some(reason.to_owned()),
        message: Some(message.to_owned()),
    }])
}

/// Whether an init container is a sidecar (`restartPolicy: Always`), which counts as a
/// container of the pod.
fn is_restartable(restart_policy: Option<&str>) -> bool {
    restart_policy == Some("Always")
}

/// The time the container last terminated, if its last state says so.
fn last_termination(status: &ContainerStatus) -> Option<Time> {
    let terminated = status.last_state.as_ref()?.terminated.as_ref()?;
    Some(terminated.finished_at.unwrap_or_default())
}

/// Upstream's `printPod`.
fn print_pod(pod: &Pod, now: Time) -> Vec<Value> {
    let default_status = PodStatus::default();
    let status = pod.status.as_ref().unwrap_or(&default_status);
    let spec = pod.spec.as_ref();
    let containers = spec.map(|s| s.containers.as_slice()).unwrap_or_default();
    let init_containers = spec
        .and_then(|s| s.init_containers.as_deref())
        .unwrap_or_default();
    let conditions = status.conditions.as_deref().unwrap_or_default();

    let mut restarts: i64 = 0;
    let mut sidecar_restarts: i64 = 0;
    let mut total = containers.len();
    let mut ready = 0usize;
    let mut last_restart = Time::default();
    let mut last_sidecar_restart = Time::default();

    let phase = status.phase.as_deref().unwrap_or("");
    let mut reason = match status.reason.as_deref() {
        Some(r) if !r.is_empty() => r.to_owned(),
        _ => phase.to_owned(),
    };
    if conditions
        .iter()
        .any(|c| c.type_ == "PodScheduled" && c.reason.as_deref() == Some("SchedulingGated"))
    {
        reason = "SchedulingGated".to_owned();
    }

    // By name, the last declaration winning, as upstream's map does.
    let mut sidecar_by_name: HashMap<&str, bool> = HashMap::new();
    for container in init_containers {
        let restartable = is_restartable(container.restart_policy.as_deref());
        sidecar_by_name.insert(container.name.as_str(), restartable);
        if restartable {
            total += 1;
        }
    }

    let mut initializing = false;
    let init_statuses = status
        .init_container_statuses
        .as_deref()
        .unwrap_or_default();
    for (i, container) in init_statuses.iter().enumerate() {
        restarts += i64::from(container.restart_count);
        let terminated_at = last_termination(container);
        if let Some(t) = terminated_at
            && last_restart < t
        {
            last_restart = t;
        }
        let sidecar = sidecar_by_name
            .get(container.name.as_str())
            .copied()
            .unwrap_or(false);
        if sidecar {
            sidecar_restarts += i64::from(container.restart_count);
            if let Some(t) = terminated_at
                && last_sidecar_restart < t
            {
                last_sidecar_restart = t;
            }
        }
        let state = container.state.as_ref();
        let terminated = state.and_then(|s| s.terminated.as_ref());
        let waiting = state.and_then(|s| s.waiting.as_ref());
        if terminated.is_some_and(|t| t.exit_code == 0) {
            continue;
        }
        if sidecar && container.started == Some(true) {
            if container.ready {
                ready += 1;
            }
            continue;
        }
        if let Some(terminated) = terminated {
            // Initialization failed.
            reason = match terminated.reason.as_deref() {
                Some(r) if !r.is_empty() => format!("Init:{r}"),
                _ => match terminated.signal {
                    Some(signal) if signal != 0 => format!("Init:Signal:{signal}"),
                    _ => format!("Init:ExitCode:{}", terminated.exit_code),
                },
            };
        } else if let Some(r) = waiting
            .and_then(|w| w.reason.as_deref())
            .filter(|r| !r.is_empty() && *r != "PodInitializing")
        {
            reason = format!("Init:{r}");
        } else {
            reason = format!("Init:{i}/{}", init_containers.len());
        }
        initializing = true;
        break;
    }

    let initialized = conditions
        .iter()
        .find(|c| c.type_ == "Initialized")
        .is_some_and(|c| c.status == "True");
    if !initializing || initialized {
        restarts = sidecar_restarts;
        last_restart = last_sidecar_restart;
        let mut has_running = false;
        for container in status
            .container_statuses
            .as_deref()
            .unwrap_or_default()
            .iter()
            .rev()
        {
            restarts += i64::from(container.restart_count);
            if let Some(t) = last_termination(container)
                && last_restart < t
            {
                last_restart = t;
            }
            let state = container.state.as_ref();
            let waiting_reason = state
                .and_then(|s| s.waiting.as_ref())
                .and_then(|w| w.reason.as_deref())
                .filter(|r| !r.is_empty());
            let terminated = state.and_then(|s| s.terminated.as_ref());
            if let Some(r) = waiting_reason {
                reason = r.to_owned();
            } else if let Some(terminated) = terminated {
                reason = match terminated.reason.as_deref() {
                    Some(r) if !r.is_empty() => r.to_owned(),
                    _ => match terminated.signal {
                        Some(signal) if signal != 0 => format!("Signal:{signal}"),
                        _ => format!("ExitCode:{}", terminated.exit_code),
                    },
                };
            } else if container.ready && state.is_some_and(|s| s.running.is_some()) {
                has_running = true;
                ready += 1;
            }
        }

        // A pod whose containers completed while one still runs is still running.
        if reason == "Completed" && has_running {
            let pod_ready = conditions
                .iter()
                .any(|c| c.type_ == "Ready" && c.status == "True");
            reason = if pod_ready { "Running" } else { "NotReady" }.to_owned();
        }
    }

    if pod.metadata.deletion_timestamp.is_some() {
        if status.reason.as_deref() == Some("NodeLost") {
            reason = "Unknown".to_owned();
        } else if phase != "Failed" && phase != "Succeeded" {
            reason = "Terminating".to_owned();
        }
    }

    let restarts_cell = if restarts != 0 && !last_restart.is_zero() {
        format!("{restarts} ({} ago)", since(Some(&last_restart), now))
    } else {
        restarts.to_string()
    };

    // The first pod IP; `podIP` alone stands for a one-element `podIPs`.
    let pod_ip = status
        .pod_ips
        .as_deref()
        .and_then(|ips| ips.first())
        .map(|ip| ip.ip.as_str())
        .or(status.pod_ip.as_deref())
        .filter(|ip| !ip.is_empty())
        .unwrap_or("<none>");
    let node_name = spec
        .and_then(|s| s.node_name.as_deref())
        .filter(|n| !n.is_empty())
        .unwrap_or("<none>");
    let nominated = status
        .nominated_node_name
        .as_deref()
        .filter(|n| !n.is_empty())
        .unwrap_or("<none>");
    let gates = spec
        .and_then(|s| s.readiness_gates.as_deref())
        .unwrap_or_default();
    let readiness_gates = if gates.is_empty() {
        "<none>".to_owned()
    } else {
        let passing = gates
            .iter()
            .filter(|gate| {
                conditions
                    .iter()
                    .find(|c| c.type_ == gate.condition_type)
                    .is_some_and(|c| c.status == "True")
            })
            .count();
        format!("{passing}/{}", gates.len())
    };

    vec![
        text(name(&pod.metadata)),
        text(format!("{ready}/{total}")),
        text(reason),
        text(restarts_cell),
        age(&pod.metadata, now),
        text(pod_ip),
        text(node_name),
        text(nominated),
        text(readiness_gates),
    ]
}

// ---------------------------------------------------------------------------------------------
// PodTemplate

/// `kubectl get podtemplates`: `NAME CONTAINERS IMAGES POD LABELS`.
pub(super) static POD_TEMPLATE: KindPrinter = KindPrinter::new(
    &[
        NAME,
        Column::new(
            "Containers",
            "string",
            "Names of each container in the template.",
        ),
        Column::new(
            "Images",
            "string",
            "Images referenced by each container in the template.",
        ),
        Column::new("Pod Labels", "string", "The labels for the pod template."),
    ],
    |object, _| {
        let template: PodTemplate = decode(object)?;
        let pod_template = template.template.as_ref();
        let containers = pod_template
            .and_then(|t| t.spec.as_ref())
            .map(|s| s.containers.as_slice())
            .unwrap_or_default();
        let [names, images] = containers_and_images(containers);
        let labels = format_labels(pod_template.and_then(|t| t.metadata.labels.as_ref()));
        Some(vec![
            text(name(&template.metadata)),
            names,
            images,
            text(labels),
        ])
    },
);

// ---------------------------------------------------------------------------------------------
// Service

/// `kubectl get services`: `NAME TYPE CLUSTER-IP EXTERNAL-IP PORT(S) AGE` (wide: `SELECTOR`).
pub(super) static SERVICE: KindPrinter = KindPrinter::new(
    &[
        NAME,
        Column::new("Type", "string", SERVICE_SPEC_TYPE),
        Column::new("Cluster-IP", "string", SERVICE_SPEC_CLUSTER_IP),
        Column::new("External-IP", "string", SERVICE_SPEC_EXTERNAL_IPS),
        Column::new("Port(s)", "string", SERVICE_SPEC_PORTS),
        AGE,
        Column::new("Selector", "string", SERVICE_SPEC_SELECTOR).wide(),
    ],
    |object, now| Some(print_service(&decode(object)?, now)),
);

/// Upstream's `printService`.
fn print_service(service: &Service, now: Time) -> Vec<Value> {
    let default_spec = ServiceSpec::default();
    let spec = service.spec.as_ref().unwrap_or(&default_spec);
    // `clusterIP` alone stands for a one-element `clusterIPs`.
    let cluster_ip = spec
        .cluster_ips
        .as_deref()
        .and_then(|ips| ips.first())
        .or(spec.cluster_ip.as_ref())
        .map(String::as_str)
        .filter(|ip| !ip.is_empty())
        .unwrap_or("<none>");
    let load_balancer = service
        .status
        .as_ref()
        .and_then(|s| s.load_balancer.as_deref());
    let ports = format_service_ports(spec);
    vec![
        text(name(&service.metadata)),
        text(spec.type_.as_deref().unwrap_or("")),
        text(cluster_ip),
        text(service_external_ip(spec, load_balancer)),
        text(if ports.is_empty() {
            "<none>".into()
        } else {
            ports
        }),
        age(&service.metadata, now),
        text(format_labels(spec.selector.as_ref())),
    ]
}

/// Upstream's `makePortString`: `port/PROTOCOL`, or `port:nodePort/PROTOCOL` with a node
/// port, comma-separated.
fn format_service_ports(spec: &ServiceSpec) -> String {
    let pieces: Vec<String> = spec
        .ports
        .iter()
        .flatten()
        .map(|p| {
            let protocol = p.protocol.as_deref().unwrap_or("");
            match p.node_port {
                Some(node_port) if node_port > 0 => {
                    format!("{}:{node_port}/{protocol}", p.port)
                }
                _ => format!("{}/{protocol}", p.port),
            }
        })
        .collect();
    pieces.join(",")
}

/// Upstream's `loadBalancerStatusStringer` in its wide form (the API server always prints
/// wide): the ingress points' IPs, or hostnames where they have no IP, sorted and deduplicated.
fn load_balancer_addresses(
    ingress: impl IntoIterator<Item = (Option<String>, Option<String>)>,
) -> String {
    let addresses: BTreeSet<String> = ingress
        .into_iter()
        .filter_map(|(ip, hostname)| {
            ip.filter(|ip| !ip.is_empty())
                .or(hostname.filter(|h| !h.is_empty()))
        })
        .collect();
    addresses.into_iter().collect::<Vec<_>>().join(",")
}

/// Upstream's `getServiceExternalIP`: external IPs, the load balancer's addresses, `<none>`
/// when a service has none, `<pending>` while a load balancer is being provisioned.
fn service_external_ip(spec: &ServiceSpec, load_balancer: Option<&LoadBalancerStatus>) -> String {
    let external_ips = spec.external_ips.as_deref().unwrap_or_default();
    match spec.type_.as_deref().unwrap_or("") {
        "ClusterIP" | "NodePort" => {
            if external_ips.is_empty() {
                "<none>".to_owned()
            } else {
                external_ips.join(",")
            }
        }
        "LoadBalancer" => {
            let ingress = load_balancer
                .and_then(|lb| lb.ingress.as_deref())
                .unwrap_or_default()
                .iter()
                .map(|i| (i.ip.clone(), i.hostname.clone()));
            let balancer = load_balancer_addresses(ingress);
            if !external_ips.is_empty() {
                let mut all: Vec<&str> = Vec::new();
                if !balancer.is_empty() {
                    all.extend(balancer.split(','));
                }
                all.extend(external_ips.iter().map(String::as_str));
                all.join(",")
            } else if !balancer.is_empty() {
                balancer
            } else {
                "<pending>".to_owned()
            }
        }
        "ExternalName" => spec.external_name.clone().unwrap_or_default(),
        _ => "<unknown>".to_owned(),
    }
}

// ---------------------------------------------------------------------------------------------
// Endpoints

/// `kubectl get endpoints`: `NAME ENDPOINTS AGE`.
pub(super) static ENDPOINTS: KindPrinter = KindPrinter::new(
    &[
        NAME,
        Column::new("Endpoints", "string", ENDPOINTS_SUBSETS),
        AGE,
    ],
    |object, now| {
        let endpoints: Endpoints = decode(object)?;
        Some(vec![
            text(name(&endpoints.metadata)),
            text(format_endpoints(
                endpoints.subsets.as_deref().unwrap_or_default(),
            )),
            age(&endpoints.metadata, now),
        ])
    },
);

/// Go's `net.JoinHostPort`: IPv6 addresses in brackets.
fn join_host_port(host: &str, port: i32) -> String {
    if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    }
}

/// Upstream's `formatEndpoints`: the first three `ip:port` pairs (bare IPs for a subset
/// without ports), then `+ N more...`; `<none>` without subsets.
fn format_endpoints(subsets: &[EndpointSubset]) -> String {
    const MAX: usize = 3;
    if subsets.is_empty() {
        return "<none>".to_owned();
    }
    let mut list: Vec<String> = Vec::new();
    let mut more = false;
    let mut count = 0usize;
    for subset in subsets {
        let addresses = subset.addresses.as_deref().unwrap_or_default();
        let ports = subset.ports.as_deref().unwrap_or_default();
        if ports.is_empty() {
            // A headless service without ports.
            count += addresses.len();
            for address in addresses {
                if list.len() == MAX {
                    more = true;
                    break;
                }
                list.push(address.ip.clone());
            }
            continue;
        }
        for port in ports {
            count += addresses.len();
            for address in addresses {
                if list.len() == MAX {
                    more = true;
                    break;
                }
                list.push(join_host_port(&address.ip, port.port));
            }
        }
    }
    let joined = list.join(",");
    if more {
        format!("{joined} + {} more...", count - MAX)
    } else {
        joined
    }
}

// ---------------------------------------------------------------------------------------------
// Node

/// `kubectl get nodes`: `NAME STATUS ROLES AGE VERSION` (wide: `INTERNAL-IP EXTERNAL-IP
/// OS-IMAGE KERNEL-VERSION CONTAINER-RUNTIME`).
pub(super) static NODE: KindPrinter = KindPrinter::new(
    &[
        NAME,
        Column::new("Status", "string", "The status of the node"),
        Column::new("Roles", "string", "The roles of the node"),
        AGE,
        Column::new("Version", "string", NODE_INFO_KUBELET_VERSION),
        Column::new("Internal-IP", "string", NODE_STATUS_ADDRESSES).wide(),
        Column::new("External-IP", "string", NODE_STATUS_ADDRESSES).wide(),
        Column::new("OS-Image", "string", NODE_INFO_OS_IMAGE).wide(),
        Column::new("Kernel-Version", "string", NODE_INFO_KERNEL_VERSION).wide(),
        Column::new(
            "Container-Runtime",
            "string",
            NODE_INFO_CONTAINER_RUNTIME_VERSION,
        )
        .wide(),
    ],
    |object, now| Some(print_node(&decode(object)?, now)),
);

/// The label prefix that gives a node a role (`node-role.kubernetes.io/control-plane`).
const NODE_ROLE_PREFIX: &str = "node-role.kubernetes.io/";
/// The older label whose value is a node's role.
const NODE_ROLE_LABEL: &str = "kubernetes.io/role";

/// Upstream's `findNodeRoles`: the sorted roles from `node-role.kubernetes.io/<role>` label
/// keys and the `kubernetes.io/role` label's value.
fn node_roles(labels: &SortedMap<String, String>) -> Vec<&str> {
    let roles: BTreeSet<&str> = labels
        .iter()
        .filter_map(|(key, value)| {
            if let Some(role) = key.strip_prefix(NODE_ROLE_PREFIX) {
                (!role.is_empty()).then_some(role)
            } else if key == NODE_ROLE_LABEL && !value.is_empty() {
                Some(value.as_str())
            } else {
                None
            }
        })
        .collect();
    roles.into_iter().collect()
}

/// Upstream's `printNode`.
fn print_node(node: &Node, now: Time) -> Vec<Value> {
    let status = node.status.as_ref();
    // The last `Ready` condition wins, as upstream's map by type does.
    let ready = status
        .and_then(|s| s.conditions.as_deref())
        .unwrap_or_default()
        .iter()
        .rev()
        .find(|c| c.type_ == "Ready");
    let mut conditions = vec![match ready {
        Some(c) if c.status == "True" => "Ready",
        Some(_) => "NotReady",
        None => "Unknown",
    }];
    if node
        .spec
        .as_ref()
        .and_then(|s| s.unschedulable)
        .unwrap_or(false)
    {
        conditions.push("SchedulingDisabled");
    }
    let roles = node_roles(node.metadata.labels()).join(",");
    let info = status.and_then(|s| s.node_info.as_deref());
    let info_field = |get: fn(&kubernaut_api_types::core::v1::NodeSystemInfo) -> &String| {
        info.map(get)
            .filter(|v| !v.is_empty())
            .map_or("<unknown>".to_owned(), Clone::clone)
    };
    let address = |kind: &str| {
        status
            .and_then(|s| s.addresses.as_deref())
            .unwrap_or_default()
            .iter()
            .find(|a| a.type_ == kind)
            .map_or("<none>".to_owned(), |a| a.address.clone())
    };
    vec![
        text(name(&node.metadata)),
        text(conditions.join(",")),
        text(if roles.is_empty() {
            "<none>".into()
        } else {
            roles
        }),
        age(&node.metadata, now),
        text(info.map(|i| i.kubelet_version.clone()).unwrap_or_default()),
        text(address("InternalIP")),
        text(address("ExternalIP")),
        text(info_field(|i| &i.os_image)),
        text(info_field(|i| &i.kernel_version)),
        text(info_field(|i| &i.container_runtime_version)),
    ]
}

// ---------------------------------------------------------------------------------------------
// Event (core/v1 and events.k8s.io/v1)

/// The event columns, shared by `v1` and `events.k8s.io/v1` events.
const EVENT_COLUMNS: &[Column] = &[
    Column::new("Last Seen", "string", EVENT_LAST_TIMESTAMP),
    Column::new("Type", "string", EVENT_TYPE),
    Column::new("Reason", "string", EVENT_REASON),
    Column::new("Object", "string", EVENT_INVOLVED_OBJECT),
    Column::new("Subobject", "string", OBJECT_REFERENCE_FIELD_PATH).wide(),
    Column::new("Source", "string", EVENT_SOURCE).wide(),
    Column::new("Message", "string", EVENT_MESSAGE),
    Column::new("First Seen", "string", EVENT_FIRST_TIMESTAMP).wide(),
    Column::new("Count", "string", EVENT_COUNT).wide(),
    NAME.wide(),
];

/// `kubectl get events`: `LAST SEEN TYPE REASON OBJECT MESSAGE` (wide: `SUBOBJECT SOURCE
/// FIRST SEEN COUNT NAME`).
pub(super) static EVENT: KindPrinter = KindPrinter::new(EVENT_COLUMNS, |object, now| {
    Some(print_event(&decode(object)?, now))
});

/// `events.k8s.io/v1` events print as the core events they convert to.
pub(super) static EVENTS_V1_EVENT: KindPrinter = KindPrinter::new(EVENT_COLUMNS, |object, now| {
    let event: events::v1::Event = decode(object)?;
    Some(print_event(&core_event(event), now))
});

/// Upstream's conversion of an `events.k8s.io/v1` event to the internal (core) event:
/// `regarding` is the involved object, `note` the message, the `deprecated*` fields the core
/// fields of the same names, `reportingController` the reporting component.
fn core_event(event: events::v1::Event) -> Event {
    Event {
        metadata: event.metadata,
        action: event.action,
        count: event.deprecated_count,
        event_time: Some(event.event_time),
        first_timestamp: event.deprecated_first_timestamp,
        last_timestamp: event.deprecated_last_timestamp,
        involved_object: event.regarding.map(|r| *r).unwrap_or_default(),
        message: event.note,
        reason: event.reason,
        related: event.related,
        reporting_component: event.reporting_controller,
        reporting_instance: event.reporting_instance,
        series: event.series.map(|s| {
            Box::new(EventSeries {
                count: Some(s.count),
                last_observed_time: Some(s.last_observed_time),
            })
        }),
        source: event.deprecated_source,
        type_: event.type_,
    }
}

/// Upstream's `printEvent` in its wide form.
fn print_event(event: &Event, now: Time) -> Vec<Value> {
    let first_seen = match &event.first_timestamp {
        Some(t) if !t.is_zero() => since(Some(t), now),
        _ => since_micro(event.event_time.as_ref(), now),
    };
    let mut last_seen = match &event.last_timestamp {
        Some(t) if !t.is_zero() => since(Some(t), now),
        _ => first_seen.clone(),
    };
    let mut count = event.count.unwrap_or(0);
    if let Some(series) = &event.series {
        last_seen = since_micro(series.last_observed_time.as_ref(), now);
        count = series.count.unwrap_or(0);
    } else if count == 0 {
        // Singleton events of the new API carry no count.
        count = 1;
    }
    let involved = &event.involved_object;
    let kind = involved.kind.as_deref().unwrap_or("").to_lowercase();
    let target = match involved.name.as_deref() {
        Some(n) if !n.is_empty() => format!("{kind}/{n}"),
        _ => kind,
    };
    let source = event.source.as_ref();
    let non_empty = |a: Option<&String>, b: Option<&String>| {
        a.filter(|s| !s.is_empty())
            .or(b)
            .cloned()
            .unwrap_or_default()
    };
    let component = non_empty(
        source.and_then(|s| s.component.as_ref()),
        event.reporting_component.as_ref(),
    );
    let instance = non_empty(
        source.and_then(|s| s.host.as_ref()),
        event.reporting_instance.as_ref(),
    );
    let source = if instance.is_empty() {
        component
    } else {
        format!("{component}, {instance}")
    };
    vec![
        text(last_seen),
        text(event.type_.clone().unwrap_or_default()),
        text(event.reason.clone().unwrap_or_default()),
        text(target),
        text(involved.field_path.clone().unwrap_or_default()),
        text(source),
        text(event.message.as_deref().unwrap_or("").trim()),
        text(first_seen),
        int(count),
        text(name(&event.metadata)),
    ]
}

// ---------------------------------------------------------------------------------------------
// Namespace, Secret, ConfigMap, ServiceAccount

/// `kubectl get namespaces`: `NAME STATUS AGE`.
pub(super) static NAMESPACE: KindPrinter = KindPrinter::new(
    &[
        NAME,
        Column::new("Status", "string", "The status of the namespace"),
        AGE,
    ],
    |object, now| {
        let namespace: Namespace = decode(object)?;
        let phase = namespace.status.as_ref().and_then(|s| s.phase.clone());
        Some(vec![
            text(name(&namespace.metadata)),
            text(phase.unwrap_or_default()),
            age(&namespace.metadata, now),
        ])
    },
);

/// `kubectl get secrets`: `NAME TYPE DATA AGE`.
pub(super) static SECRET: KindPrinter = KindPrinter::new(
    &[
        NAME,
        Column::new("Type", "string", SECRET_TYPE),
        Column::new("Data", "string", SECRET_DATA),
        AGE,
    ],
    |object, now| {
        let secret: Secret = decode(object)?;
        // Upstream's conversion folds `stringData` into `data`.
        let mut keys: BTreeSet<&str> = secret
            .data
            .iter()
            .flatten()
            .map(|(k, _)| k.as_str())
            .collect();
        keys.extend(secret.string_data.iter().flatten().map(|(k, _)| k.as_str()));
        Some(vec![
            text(name(&secret.metadata)),
            text(secret.type_.clone().unwrap_or_default()),
            int(keys.len() as i64),
            age(&secret.metadata, now),
        ])
    },
);

/// `kubectl get configmaps`: `NAME DATA AGE`, counting `data` and `binaryData` keys.
pub(super) static CONFIG_MAP: KindPrinter = KindPrinter::new(
    &[NAME, Column::new("Data", "string", CONFIG_MAP_DATA), AGE],
    |object, now| {
        let config_map: ConfigMap = decode(object)?;
        let count = config_map.data.as_ref().map_or(0, SortedMap::len)
            + config_map.binary_data.as_ref().map_or(0, SortedMap::len);
        Some(vec![
            text(name(&config_map.metadata)),
            int(count as i64),
            age(&config_map.metadata, now),
        ])
    },
);

/// `kubectl get serviceaccounts`: `NAME SECRETS AGE`.
pub(super) static SERVICE_ACCOUNT: KindPrinter = KindPrinter::new(
    &[
        NAME,
        Column::new("Secrets", "string", SERVICE_ACCOUNT_SECRETS),
        AGE,
    ],
    |object, now| {
        let account: ServiceAccount = decode(object)?;
        Some(vec![
            text(name(&account.metadata)),
            int(account.secrets.as_ref().map_or(0, Vec::len) as i64),
            age(&account.metadata, now),
        ])
    },
);

// ---------------------------------------------------------------------------------------------
// PersistentVolume, PersistentVolumeClaim

/// The annotation that overrides a volume's or claim's storage class.
const BETA_STORAGE_CLASS_ANNOTATION: &str = "volume.beta.kubernetes.io/storage-class";

/// Upstream's `GetAccessModesAsString`: `RWO`, `ROX`, `RWX`, `RWOP` in that order, each once.
fn access_modes(modes: Option<&Vec<String>>) -> String {
    let modes = modes.map(Vec::as_slice).unwrap_or_default();
    [
        ("ReadWriteOnce", "RWO"),
        ("ReadOnlyMany", "ROX"),
        ("ReadWriteMany", "RWX"),
        ("ReadWriteOncePod", "RWOP"),
    ]
    .iter()
    .filter(|(mode, _)| modes.iter().any(|m| m == mode))
    .map(|(_, short)| *short)
    .collect::<Vec<_>>()
    .join(",")
}

/// The `storage` quantity of a resource list as upstream prints a map lookup: `0` when absent.
fn storage(resources: Option<&SortedMap<String, Quantity>>) -> String {
    resources
        .and_then(|r| r.get("storage"))
        .cloned()
        .unwrap_or_default()
        .to_string()
}

/// The phase, or `Terminating` once deletion started.
fn phase_or_terminating(meta: &ObjectMeta, phase: Option<&String>) -> String {
    if meta.deletion_timestamp.is_some() {
        "Terminating".to_owned()
    } else {
        phase.cloned().unwrap_or_default()
    }
}

/// `kubectl get persistentvolumes`: `NAME CAPACITY ACCESS MODES RECLAIM POLICY STATUS CLAIM
/// STORAGECLASS VOLUMEATTRIBUTESCLASS REASON AGE` (wide: `VOLUMEMODE`).
pub(super) static PERSISTENT_VOLUME: KindPrinter = KindPrinter::new(
    &[
        NAME,
        Column::new("Capacity", "string", PV_SPEC_CAPACITY),
        Column::new("Access Modes", "string", PV_SPEC_ACCESS_MODES),
        Column::new("Reclaim Policy", "string", PV_SPEC_RECLAIM_POLICY),
        Column::new("Status", "string", PV_STATUS_PHASE),
        Column::new("Claim", "string", PV_SPEC_CLAIM_REF),
        Column::new("StorageClass", "string", "StorageClass of the pv"),
        Column::new(
            "VolumeAttributesClass",
            "string",
            "VolumeAttributesClass of the pv",
        ),
        Column::new("Reason", "string", PV_STATUS_REASON),
        AGE,
        Column::new("VolumeMode", "string", PV_SPEC_VOLUME_MODE).wide(),
    ],
    |object, now| Some(print_persistent_volume(&decode(object)?, now)),
);

/// Upstream's `printPersistentVolume`.
fn print_persistent_volume(volume: &PersistentVolume, now: Time) -> Vec<Value> {
    let spec = volume.spec.clone().unwrap_or_default();
    let status = volume.status.clone().unwrap_or_default();
    let claim = spec.claim_ref.as_ref().map_or(String::new(), |c| {
        format!(
            "{}/{}",
            c.namespace.as_deref().unwrap_or(""),
            c.name.as_deref().unwrap_or("")
        )
    });
    let class = match volume
        .metadata
        .annotations()
        .get(BETA_STORAGE_CLASS_ANNOTATION)
    {
        Some(class) => class.clone(),
        None => spec.storage_class_name.clone().unwrap_or_default(),
    };
    vec![
        text(name(&volume.metadata)),
        text(storage(spec.capacity.as_ref())),
        text(access_modes(spec.access_modes.as_ref())),
        text(spec.persistent_volume_reclaim_policy.unwrap_or_default()),
        text(phase_or_terminating(
            &volume.metadata,
            status.phase.as_ref(),
        )),
        text(claim),
        text(class),
        text(
            spec.volume_attributes_class_name
                .unwrap_or_else(|| "<unset>".to_owned()),
        ),
        text(status.reason.unwrap_or_default()),
        age(&volume.metadata, now),
        text(spec.volume_mode.unwrap_or_else(|| "<unset>".to_owned())),
    ]
}

/// `kubectl get persistentvolumeclaims`: `NAME STATUS VOLUME CAPACITY ACCESS MODES
/// STORAGECLASS VOLUMEATTRIBUTESCLASS AGE` (wide: `VOLUMEMODE`).
pub(super) static PERSISTENT_VOLUME_CLAIM: KindPrinter = KindPrinter::new(
    &[
        NAME,
        Column::new("Status", "string", PVC_STATUS_PHASE),
        Column::new("Volume", "string", PVC_SPEC_VOLUME_NAME),
        Column::new("Capacity", "string", PVC_STATUS_CAPACITY),
        Column::new("Access Modes", "string", PVC_STATUS_ACCESS_MODES),
        Column::new("StorageClass", "string", "StorageClass of the pvc"),
        Column::new(
            "VolumeAttributesClass",
            "string",
            "VolumeAttributesClass of the pvc",
        ),
        AGE,
        Column::new("VolumeMode", "string", PVC_SPEC_VOLUME_MODE).wide(),
    ],
    |object, now| Some(print_persistent_volume_claim(&decode(object)?, now)),
);

/// Upstream's `printPersistentVolumeClaim`: capacity and access modes only once bound to a
/// volume.
fn print_persistent_volume_claim(claim: &PersistentVolumeClaim, now: Time) -> Vec<Value> {
    let spec = claim.spec.clone().unwrap_or_default();
    let status = claim.status.clone().unwrap_or_default();
    let volume = spec.volume_name.clone().unwrap_or_default();
    let (capacity, modes) = if volume.is_empty() {
        (String::new(), String::new())
    } else {
        (
            storage(status.capacity.as_ref()),
            access_modes(status.access_modes.as_ref()),
        )
    };
    let class = match claim
        .metadata
        .annotations()
        .get(BETA_STORAGE_CLASS_ANNOTATION)
    {
        Some(class) => class.clone(),
        None => spec.storage_class_name.clone().unwrap_or_default(),
    };
    vec![
        text(name(&claim.metadata)),
        text(phase_or_terminating(&claim.metadata, status.phase.as_ref())),
        text(volume),
        text(capacity),
        text(modes),
        text(class),
        text(
            spec.volume_attributes_class_name
                .unwrap_or_else(|| "<unset>".to_owned()),
        ),
        age(&claim.metadata, now),
        text(spec.volume_mode.unwrap_or_else(|| "<unset>".to_owned())),
    ]
}

// ---------------------------------------------------------------------------------------------
// ResourceQuota

/// `kubectl get resourcequotas`: `NAME REQUEST LIMIT AGE`, each `resource: used/hard`.
pub(super) static RESOURCE_QUOTA: KindPrinter = KindPrinter::new(
    &[
        NAME,
        Column::new(
            "Request",
            "string",
            "Request represents a minimum amount of cpu/memory that a container may consume.",
        ),
        Column::new(
            "Limit",
            "string",
            "Limits control the maximum amount of cpu/memory that a container may use \
             independent of contention on the node.",
        ),
        AGE,
    ],
    |object, now| {
        let quota: ResourceQuota = decode(object)?;
        let status = quota.status.clone().unwrap_or_default();
        let used = status.used.unwrap_or_default();
        let mut requests: Vec<String> = Vec::new();
        let mut limits: Vec<String> = Vec::new();
        // Sorted by resource name, as upstream sorts them.
        for (resource, hard) in status.hard.iter().flatten() {
            let used = used.get(resource).cloned().unwrap_or_default();
            let entry = format!("{resource}: {used}/{hard}");
            let mut pieces = resource.split('.');
            let is_limit = pieces.next() == Some("limits") && pieces.next().is_some();
            if is_limit {
                limits.push(entry);
            } else {
                requests.push(entry);
            }
        }
        Some(vec![
            text(name(&quota.metadata)),
            text(requests.join(", ")),
            text(limits.join(", ")),
            age(&quota.metadata, now),
        ])
    },
);

#[cfg(test)]
mod tests;
