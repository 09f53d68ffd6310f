//! The core printers against realistic objects: documentation manifests with what a cluster
//! adds (metadata, defaults, status), and the corner cases of upstream's status logic.

use serde_json::{Value, json};

use super::super::tests::{ago, cells, headers, manifest, merge};

/// A pod with the given containers (`[name, ...]`), spec extras and status.
fn pod(spec: Value, status: Value) -> Value {
    json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": "web", "namespace": "default", "creationTimestamp": ago(3 * 3600 + 12 * 60)},
        "spec": spec,
        "status": status,
    })
}

/// A container status (`image` and `imageID` as the kubelet reports them).
fn container(name: &str, ready: bool, restarts: i32, state: Value) -> Value {
    json!({"name": name, "image": "nginx", "imageID": "", "ready": ready,
           "restartCount": restarts, "state": state})
}

/// The Ready, Status and Restarts cells of a pod.
fn status_cells(pod: &Value) -> [String; 3] {
    let cells = cells("", "Pod", pod);
    [1, 2, 3].map(|i| cells[i].as_str().unwrap().to_owned())
}

const RUNNING: &str = r#"{"running": {"startedAt": "2024-05-01T09:00:00Z"}}"#;

fn running() -> Value {
    serde_json::from_str(RUNNING).unwrap()
}

fn two_containers() -> Value {
    json!({"containers": [{"name": "app", "image": "nginx"}, {"name": "log", "image": "busybox"}]})
}

#[test]
fn pod_columns_are_upstreams() {
    assert_eq!(
        headers("", "Pod"),
        [
            "Name",
            "Ready",
            "Status",
            "Restarts",
            "Age",
            "+IP",
            "+Node",
            "+Nominated Node",
            "+Readiness Gates"
        ]
    );
}

#[test]
fn running_pod_from_a_manifest() {
    let manifest = manifest("website/pods/pod-nginx.yaml", 0);
    let pod = merge(
        manifest,
        json!({
            "metadata": {"namespace": "default", "creationTimestamp": ago(5 * 60 + 30), "uid": "u1"},
            "spec": {"nodeName": "node-1"},
            "status": {
                "phase": "Running", "podIP": "10.244.0.5", "podIPs": [{"ip": "10.244.0.5"}],
                "conditions": [{"type": "Ready", "status": "True"}],
                "containerStatuses": [container("nginx", true, 0, running())],
            },
        }),
    );
    assert_eq!(
        cells("", "Pod", &pod),
        [
            "nginx",
            "1/1",
            "Running",
            "0",
            "5m30s",
            "10.244.0.5",
            "node-1",
            "<none>",
            "<none>"
        ]
    );
}

#[test]
fn pending_pod_without_status() {
    let pod = pod(
        json!({"containers": [{"name": "c", "image": "nginx"}]}),
        json!({"phase": "Pending"}),
    );
    assert_eq!(status_cells(&pod), ["0/1", "Pending", "0"]);
    let no_status =
        json!({"kind": "Pod", "metadata": {"name": "p"}, "spec": {"containers": [{"name": "c"}]}});
    assert_eq!(
        cells("", "Pod", &no_status),
        [
            "p",
            "0/1",
            "",
            "0",
            "<unknown>",
            "<none>",
            "<none>",
            "<none>",
            "<none>"
        ]
    );
}

#[test]
fn waiting_reason_replaces_the_phase() {
    let creating = pod(
        two_containers(),
        json!({"phase": "Pending", "containerStatuses": [
            container("app", false, 0, json!({"waiting": {"reason": "ContainerCreating"}})),
            container("log", false, 0, json!({"waiting": {"reason": "ContainerCreating"}})),
        ]}),
    );
    assert_eq!(status_cells(&creating), ["0/2", "ContainerCreating", "0"]);
}

#[test]
fn crash_loop_back_off_with_restarts_and_last_restart_age() {
    let crashing = pod(
        two_containers(),
        json!({"phase": "Running", "containerStatuses": [
            container("app", true, 2, running()),
            {
                "name": "log", "image": "busybox", "imageID": "", "ready": false, "restartCount": 3,
                "state": {"waiting": {"reason": "CrashLoopBackOff", "message": "back-off 40s"}},
                "lastState": {"terminated": {"exitCode": 1, "reason": "Error",
                    "startedAt": ago(400), "finishedAt": ago(125)}},
            },
        ]}),
    );
    assert_eq!(
        status_cells(&crashing),
        ["1/2", "CrashLoopBackOff", "5 (2m5s ago)"]
    );
}

#[test]
fn restarts_pick_the_latest_termination_of_any_container() {
    let terminated = |finished: i64| json!({"terminated": {"exitCode": 137, "reason": "OOMKilled", "finishedAt": ago(finished)}});
    let mut app = container("app", true, 1, running());
    app["lastState"] = terminated(3 * 86_400);
    let mut log = container("log", true, 4, running());
    log["lastState"] = terminated(5 * 60);
    let pod = pod(
        two_containers(),
        json!({"phase": "Running", "containerStatuses": [app, log]}),
    );
    assert_eq!(status_cells(&pod), ["2/2", "Running", "5 (5m ago)"]);
}

#[test]
fn restarts_without_a_termination_time_print_the_count_alone() {
    let pod = pod(
        json!({"containers": [{"name": "app"}]}),
        json!({"phase": "Running", "containerStatuses": [container("app", true, 7, running())]}),
    );
    assert_eq!(status_cells(&pod), ["1/1", "Running", "7"]);
}

#[test]
fn completed_and_failed_containers() {
    let completed = pod(
        json!({"containers": [{"name": "job"}], "restartPolicy": "Never"}),
        json!({"phase": "Succeeded", "containerStatuses": [
            container("job", false, 0, json!({"terminated": {"exitCode": 0, "reason": "Completed"}}))]}),
    );
    assert_eq!(status_cells(&completed), ["0/1", "Completed", "0"]);

    let error = pod(
        json!({"containers": [{"name": "job"}]}),
        json!({"phase": "Failed", "containerStatuses": [
            container("job", false, 0, json!({"terminated": {"exitCode": 2, "reason": "Error"}}))]}),
    );
    assert_eq!(status_cells(&error)[1], "Error");

    let exit_code = pod(
        json!({"containers": [{"name": "job"}]}),
        json!({"phase": "Failed", "containerStatuses": [
            container("job", false, 0, json!({"terminated": {"exitCode": 2}}))]}),
    );
    assert_eq!(status_cells(&exit_code)[1], "ExitCode:2");

    let signal = pod(
        json!({"containers": [{"name": "job"}]}),
        json!({"phase": "Failed", "containerStatuses": [
            container("job", false, 0, json!({"terminated": {"exitCode": 137, "signal": 9}}))]}),
    );
    assert_eq!(status_cells(&signal)[1], "Signal:9");
}

#[test]
fn completed_container_beside_a_running_one_is_running_or_not_ready() {
    let status = |ready_condition: &str| {
        json!({"phase": "Running",
        "conditions": [{"type": "Ready", "status": ready_condition}],
        "containerStatuses": [
            container("app", true, 0, running()),
            container("log", false, 0, json!({"terminated": {"exitCode": 0, "reason": "Completed"}})),
        ]})
    };
    assert_eq!(
        status_cells(&pod(two_containers(), status("True"))),
        ["1/2", "Running", "0"]
    );
    assert_eq!(
        status_cells(&pod(two_containers(), status("False"))),
        ["1/2", "NotReady", "0"]
    );
}

#[test]
fn status_reason_replaces_the_phase() {
    let evicted = pod(
        json!({"containers": [{"name": "app"}]}),
        json!({"phase": "Failed", "reason": "Evicted", "message": "The node was low on resource: memory."}),
    );
    assert_eq!(status_cells(&evicted), ["0/1", "Evicted", "0"]);
}

#[test]
fn scheduling_gated_pod_from_a_manifest() {
    let gated = merge(
        manifest("website/pods/pod-with-scheduling-gates.yaml", 0),
        json!({"metadata": {"creationTimestamp": ago(12)},
               "status": {"phase": "Pending", "qosClass": "BestEffort", "conditions": [
                   {"type": "PodScheduled", "status": "False", "reason": "SchedulingGated",
                    "message": "Scheduling is blocked due to non-empty scheduling gates"}]}}),
    );
    assert_eq!(
        cells("", "Pod", &gated),
        [
            "test-pod",
            "0/1",
            "SchedulingGated",
            "0",
            "12s",
            "<none>",
            "<none>",
            "<none>",
            "<none>"
        ]
    );
}

#[test]
fn init_containers_report_progress_and_failures() {
    let spec = json!({"initContainers": [{"name": "init-a"}, {"name": "init-b"}], "containers": [{"name": "app"}]});
    let init = |a: Value, b: Value| {
        json!({"phase": "Pending",
               "initContainerStatuses": [container("init-a", false, 0, a), container("init-b", false, 0, b)],
               "containerStatuses": [container("app", false, 0, json!({"waiting": {"reason": "PodInitializing"}}))]})
    };
    let done = json!({"terminated": {"exitCode": 0, "reason": "Completed"}});
    let waiting = json!({"waiting": {"reason": "PodInitializing"}});

    let first = pod(spec.clone(), init(running(), waiting.clone()));
    assert_eq!(status_cells(&first), ["0/1", "Init:0/2", "0"]);
    let second = pod(spec.clone(), init(done.clone(), running()));
    assert_eq!(status_cells(&second), ["0/1", "Init:1/2", "0"]);
    let backoff = pod(
        spec.clone(),
        init(
            json!({"waiting": {"reason": "CrashLoopBackOff"}}),
            waiting.clone(),
        ),
    );
    assert_eq!(status_cells(&backoff)[1], "Init:CrashLoopBackOff");
    let error = pod(
        spec.clone(),
        init(
            json!({"terminated": {"exitCode": 1, "reason": "Error"}}),
            waiting.clone(),
        ),
    );
    assert_eq!(status_cells(&error)[1], "Init:Error");
    let exit = pod(
        spec.clone(),
        init(json!({"terminated": {"exitCode": 3}}), waiting.clone()),
    );
    assert_eq!(status_cells(&exit)[1], "Init:ExitCode:3");
    let signal = pod(
        spec.clone(),
        init(
            json!({"terminated": {"exitCode": 137, "signal": 9}}),
            waiting,
        ),
    );
    assert_eq!(status_cells(&signal)[1], "Init:Signal:9");

    // Once initialized, the app containers decide.
    let initialized = pod(
        spec,
        json!({"phase": "Running",
               "initContainerStatuses": [container("init-a", false, 0, done.clone()), container("init-b", false, 0, done)],
               "containerStatuses": [container("app", true, 0, running())]}),
    );
    assert_eq!(status_cells(&initialized), ["1/1", "Running", "0"]);
}

#[test]
fn init_container_restarts_count_while_initializing() {
    let mut failing = container(
        "init",
        false,
        4,
        json!({"waiting": {"reason": "CrashLoopBackOff"}}),
    );
    failing["lastState"] = json!({"terminated": {"exitCode": 1, "finishedAt": ago(90)}});
    let pod = pod(
        json!({"initContainers": [{"name": "init"}], "containers": [{"name": "app"}]}),
        json!({"phase": "Pending", "initContainerStatuses": [failing],
               "containerStatuses": [container("app", false, 0, json!({"waiting": {"reason": "PodInitializing"}}))]}),
    );
    assert_eq!(
        status_cells(&pod),
        ["0/1", "Init:CrashLoopBackOff", "4 (90s ago)"]
    );
}

#[test]
fn sidecar_containers_count_as_pod_containers() {
    let spec = json!({
        "initContainers": [{"name": "proxy", "restartPolicy": "Always"}, {"name": "setup"}],
        "containers": [{"name": "app"}],
    });
    let mut proxy = container("proxy", true, 1, running());
    proxy["started"] = json!(true);
    proxy["lastState"] = json!({"terminated": {"exitCode": 1, "finishedAt": ago(600)}});
    let running_pod = pod(
        spec.clone(),
        json!({"phase": "Running",
               "conditions": [{"type": "Initialized", "status": "True"}, {"type": "Ready", "status": "True"}],
               "initContainerStatuses": [proxy.clone(),
                   container("setup", false, 0, json!({"terminated": {"exitCode": 0, "reason": "Completed"}}))],
               "containerStatuses": [container("app", true, 2, running())]}),
    );
    // Two of two ready; the sidecar's restarts count, the finished init container's do not.
    assert_eq!(
        status_cells(&running_pod),
        ["2/2", "Running", "3 (10m ago)"]
    );

    let initializing = pod(
        spec,
        json!({"phase": "Pending",
               "initContainerStatuses": [proxy, container("setup", false, 0, running())],
               "containerStatuses": [container("app", false, 0, json!({"waiting": {"reason": "PodInitializing"}}))]}),
    );
    assert_eq!(
        status_cells(&initializing),
        ["1/2", "Init:1/2", "1 (10m ago)"]
    );
}

#[test]
fn deleted_pods_are_terminating_unless_finished_or_lost() {
    let deleting = |phase: &str, reason: Option<&str>| {
        let mut pod = pod(
            json!({"containers": [{"name": "app"}]}),
            json!({"phase": phase}),
        );
        pod["metadata"]["deletionTimestamp"] = json!(ago(10));
        if let Some(reason) = reason {
            pod["status"]["reason"] = json!(reason);
        }
        status_cells(&pod)[1].clone()
    };
    assert_eq!(deleting("Running", None), "Terminating");
    assert_eq!(deleting("Pending", None), "Terminating");
    assert_eq!(deleting("Succeeded", None), "Succeeded");
    assert_eq!(deleting("Failed", None), "Failed");
    assert_eq!(deleting("Running", Some("NodeLost")), "Unknown");
}

#[test]
fn wide_pod_columns() {
    let pod = pod(
        json!({"containers": [{"name": "app"}], "nodeName": "node-2",
               "readinessGates": [{"conditionType": "example.com/lb"}, {"conditionType": "example.com/dns"}]}),
        json!({"phase": "Running", "podIPs": [{"ip": "fd00::5"}, {"ip": "10.0.0.5"}], "podIP": "fd00::5",
               "nominatedNodeName": "node-3",
               "conditions": [{"type": "example.com/lb", "status": "True"}, {"type": "example.com/dns", "status": "False"}],
               "containerStatuses": [container("app", true, 0, running())]}),
    );
    assert_eq!(
        cells("", "Pod", &pod)[4..],
        ["3h12m", "fd00::5", "node-2", "node-3", "1/2"]
    );
    // `podIP` alone, as older kubelets report it.
    let legacy = merge(
        pod,
        json!({"status": {"podIPs": null, "podIP": "10.0.0.9"}}),
    );
    assert_eq!(cells("", "Pod", &legacy)[5], "10.0.0.9");
}

#[test]
fn service_columns_are_upstreams() {
    assert_eq!(
        headers("", "Service"),
        [
            "Name",
            "Type",
            "Cluster-IP",
            "External-IP",
            "Port(s)",
            "Age",
            "+Selector"
        ]
    );
}

/// A manifest's service as the API server stores it: cluster IP and node ports allocated.
fn service(path: &str, index: usize, allocated: Value) -> Value {
    let base = merge(
        manifest(path, index),
        json!({"metadata": {"creationTimestamp": ago(86_400 * 3)}}),
    );
    merge(base, allocated)
}

#[test]
fn cluster_ip_service_from_a_manifest() {
    let svc = service(
        "examples/web/guestbook/redis-master-service.yaml",
        0,
        json!({"spec": {"clusterIP": "10.96.12.7", "clusterIPs": ["10.96.12.7"]}}),
    );
    let name = svc["metadata"]["name"].as_str().unwrap().to_owned();
    let cells = cells("", "Service", &svc);
    assert_eq!(cells[0], name.as_str());
    assert_eq!(
        cells[1..6],
        ["ClusterIP", "10.96.12.7", "<none>", "6379/TCP", "3d"]
    );
}

#[test]
fn headless_service_from_a_manifest() {
    let svc = service(
        "website/application/web/web.yaml",
        0,
        json!({"spec": {"clusterIPs": ["None"]}}),
    );
    assert_eq!(
        cells("", "Service", &svc),
        [
            "nginx",
            "ClusterIP",
            "None",
            "<none>",
            "80/TCP",
            "3d",
            "app=nginx"
        ]
    );
}

#[test]
fn load_balancer_service_is_pending_until_it_has_an_address() {
    let pending = service(
        "website/application/nginx/nginx-svc.yaml",
        0,
        json!({"spec": {"clusterIP": "10.96.0.20", "clusterIPs": ["10.96.0.20"],
                        "ports": [{"port": 80, "nodePort": 30001}]}}),
    );
    assert_eq!(
        cells("", "Service", &pending),
        [
            "my-nginx-svc",
            "LoadBalancer",
            "10.96.0.20",
            "<pending>",
            "80:30001/TCP",
            "3d",
            "app=nginx"
        ]
    );
    let provisioned = merge(
        pending.clone(),
        json!({"status": {"loadBalancer": {"ingress": [
            {"hostname": "a1b2c3-123456789.us-east-1.elb.amazonaws.com"},
            {"ip": "203.0.113.10"}, {"ip": "198.51.100.7", "hostname": "ignored.example.com"},
            {"ip": "203.0.113.10"}]}}}),
    );
    // Sorted, deduplicated, and never cut short: the API server prints the wide form.
    assert_eq!(
        cells("", "Service", &provisioned)[3],
        "198.51.100.7,203.0.113.10,a1b2c3-123456789.us-east-1.elb.amazonaws.com"
    );
    let with_external = merge(provisioned, json!({"spec": {"externalIPs": ["192.0.2.1"]}}));
    assert_eq!(
        cells("", "Service", &with_external)[3],
        "198.51.100.7,203.0.113.10,a1b2c3-123456789.us-east-1.elb.amazonaws.com,192.0.2.1"
    );
    let external_only = merge(
        pending,
        json!({"spec": {"externalIPs": ["192.0.2.1", "192.0.2.2"]}}),
    );
    assert_eq!(
        cells("", "Service", &external_only)[3],
        "192.0.2.1,192.0.2.2"
    );
}

#[test]
fn service_ports_and_external_ips_by_type() {
    let svc = |spec: Value| {
        json!({"apiVersion": "v1", "kind": "Service",
               "metadata": {"name": "s", "creationTimestamp": ago(59)}, "spec": spec})
    };
    let node_port = svc(json!({
        "type": "NodePort", "clusterIP": "10.96.0.30", "clusterIPs": ["10.96.0.30"],
        "ports": [{"name": "http", "port": 80, "nodePort": 30080},
                  {"name": "https", "port": 443, "nodePort": 30001},
                  {"name": "dns", "port": 53, "protocol": "UDP", "nodePort": 31053}],
        "externalIPs": ["192.0.2.9"],
    }));
    assert_eq!(
        cells("", "Service", &node_port)[1..6],
        [
            "NodePort",
            "10.96.0.30",
            "192.0.2.9",
            "80:30080/TCP,443:30001/TCP,53:31053/UDP",
            "59s"
        ]
    );
    let mixed = svc(
        json!({"clusterIP": "10.96.0.31", "ports": [{"port": 80}, {"port": 443, "nodePort": 30001}]}),
    );
    // `clusterIP` alone stands for `clusterIPs`; ports default to TCP.
    assert_eq!(
        cells("", "Service", &mixed)[1..5],
        ["ClusterIP", "10.96.0.31", "<none>", "80/TCP,443:30001/TCP"]
    );
    let external_name = svc(json!({"type": "ExternalName", "externalName": "db.example.com"}));
    assert_eq!(
        cells("", "Service", &external_name)[1..5],
        ["ExternalName", "<none>", "db.example.com", "<none>"]
    );
    let unknown = svc(json!({"type": "Mystery"}));
    assert_eq!(cells("", "Service", &unknown)[3], "<unknown>");
}

#[test]
fn endpoints_list_three_then_count_the_rest() {
    let glusterfs = merge(
        manifest(
            "examples/_archived/volumes/glusterfs/glusterfs-endpoints.yaml",
            0,
        ),
        json!({"metadata": {"creationTimestamp": ago(700)}}),
    );
    assert_eq!(
        cells("", "Endpoints", &glusterfs),
        [
            "glusterfs-cluster",
            "10.240.106.152:1,10.240.79.157:1",
            "11m"
        ]
    );
    let many = json!({"kind": "Endpoints", "metadata": {"name": "web"}, "subsets": [{
        "addresses": [{"ip": "10.0.0.1"}, {"ip": "10.0.0.2"}, {"ip": "fd00::3"}],
        "ports": [{"name": "http", "port": 80}, {"name": "https", "port": 443}],
    }]});
    assert_eq!(
        cells("", "Endpoints", &many)[1],
        "10.0.0.1:80,10.0.0.2:80,[fd00::3]:80 + 3 more..."
    );
    let headless = json!({"kind": "Endpoints", "metadata": {"name": "h"},
                          "subsets": [{"addresses": [{"ip": "10.0.0.1"}, {"ip": "10.0.0.2"}]}]});
    assert_eq!(cells("", "Endpoints", &headless)[1], "10.0.0.1,10.0.0.2");
    let none = json!({"kind": "Endpoints", "metadata": {"name": "n"}});
    assert_eq!(cells("", "Endpoints", &none)[1], "<none>");
    let not_ready = json!({"kind": "Endpoints", "metadata": {"name": "n"},
                           "subsets": [{"notReadyAddresses": [{"ip": "10.0.0.1"}], "ports": [{"port": 80}]}]});
    assert_eq!(cells("", "Endpoints", &not_ready)[1], "");
}

/// A node as the kubelet registers it.
fn node(labels: Value, unschedulable: bool, conditions: Value) -> Value {
    json!({
        "apiVersion": "v1", "kind": "Node",
        "metadata": {"name": "node-1", "labels": labels, "creationTimestamp": ago(40 * 86_400)},
        "spec": {"unschedulable": unschedulable, "podCIDR": "10.244.0.0/24"},
        "status": {
            "conditions": conditions,
            "addresses": [{"type": "Hostname", "address": "node-1"},
                          {"type": "InternalIP", "address": "192.168.1.10"}],
            "nodeInfo": {"machineID": "m", "systemUUID": "s", "bootID": "b",
                         "kernelVersion": "6.1.0-18-amd64", "osImage": "Debian GNU/Linux 12 (bookworm)",
                         "containerRuntimeVersion": "containerd://1.7.13", "kubeletVersion": "v1.32.4",
                         "kubeProxyVersion": "", "operatingSystem": "linux", "architecture": "amd64"},
        },
    })
}

#[test]
fn node_status_roles_and_wide_columns() {
    assert_eq!(
        headers("", "Node"),
        [
            "Name",
            "Status",
            "Roles",
            "Age",
            "Version",
            "+Internal-IP",
            "+External-IP",
            "+OS-Image",
            "+Kernel-Version",
            "+Container-Runtime"
        ]
    );
    let ready =
        json!([{"type": "MemoryPressure", "status": "False"}, {"type": "Ready", "status": "True"}]);
    let control_plane = node(
        json!({"kubernetes.io/hostname": "node-1", "node-role.kubernetes.io/control-plane": "",
               "node-role.kubernetes.io/": "", "kubernetes.io/role": "master"}),
        false,
        ready.clone(),
    );
    assert_eq!(
        cells("", "Node", &control_plane),
        [
            "node-1",
            "Ready",
            "control-plane,master",
            "40d",
            "v1.32.4",
            "192.168.1.10",
            "<none>",
            "Debian GNU/Linux 12 (bookworm)",
            "6.1.0-18-amd64",
            "containerd://1.7.13"
        ]
    );
    let cordoned = node(
        json!({"node-role.kubernetes.io/worker": "true"}),
        true,
        ready,
    );
    assert_eq!(
        cells("", "Node", &cordoned)[1..3],
        ["Ready,SchedulingDisabled", "worker"]
    );
    let not_ready = node(
        json!({}),
        false,
        json!([{"type": "Ready", "status": "Unknown"}]),
    );
    assert_eq!(cells("", "Node", &not_ready)[1..3], ["NotReady", "<none>"]);
    let fresh =
        json!({"kind": "Node", "metadata": {"name": "new"}, "spec": {"unschedulable": true}});
    assert_eq!(
        cells("", "Node", &fresh),
        [
            "new",
            "Unknown,SchedulingDisabled",
            "<none>",
            "<unknown>",
            "",
            "<none>",
            "<none>",
            "<unknown>",
            "<unknown>",
            "<unknown>"
        ]
    );
}

#[test]
fn event_columns_are_upstreams() {
    assert_eq!(
        headers("", "Event"),
        [
            "Last Seen",
            "Type",
            "Reason",
            "Object",
            "+Subobject",
            "+Source",
            "Message",
            "+First Seen",
            "+Count",
            "+Name"
        ]
    );
    assert_eq!(headers("events.k8s.io", "Event"), headers("", "Event"));
    let name = &super::EVENT_COLUMNS[9];
    assert_eq!((name.format, name.priority), ("name", 1));
}

#[test]
fn core_event_as_the_kubelet_records_it() {
    let event = json!({
        "apiVersion": "v1", "kind": "Event",
        "metadata": {"name": "web.17c1a0b5", "namespace": "default", "creationTimestamp": ago(3600)},
        "involvedObject": {"kind": "Pod", "namespace": "default", "name": "web", "apiVersion": "v1",
                           "fieldPath": "spec.containers{nginx}"},
        "reason": "BackOff", "message": "Back-off restarting failed container nginx\n",
        "source": {"component": "kubelet", "host": "node-1"},
        "firstTimestamp": ago(3600), "lastTimestamp": ago(125), "count": 14, "type": "Warning",
        "eventTime": null, "reportingComponent": "kubelet", "reportingInstance": "node-1",
    });
    assert_eq!(
        Value::from(cells("", "Event", &event)),
        json!([
            "2m5s",
            "Warning",
            "BackOff",
            "pod/web",
            "spec.containers{nginx}",
            "kubelet, node-1",
            "Back-off restarting failed container nginx",
            "60m",
            14,
            "web.17c1a0b5"
        ])
    );
}

#[test]
fn singleton_and_series_events_of_the_new_api() {
    // A core event written through events.k8s.io: only the event time, no count.
    let singleton = json!({
        "apiVersion": "v1", "kind": "Event",
        "metadata": {"name": "nginx.1", "namespace": "default"},
        "involvedObject": {"kind": "Deployment", "name": "nginx"},
        "reason": "ScalingReplicaSet", "message": "Scaled up replica set nginx-5d to 3",
        "eventTime": "2024-05-01T11:59:30.123456Z", "reportingComponent": "deployment-controller",
        "type": "Normal",
    });
    assert_eq!(
        Value::from(cells("", "Event", &singleton)),
        // 29.876544 seconds ago: whole seconds, truncated.
        json!([
            "29s",
            "Normal",
            "ScalingReplicaSet",
            "deployment/nginx",
            "",
            "deployment-controller",
            "Scaled up replica set nginx-5d to 3",
            "29s",
            1,
            "nginx.1"
        ])
    );
    let series = merge(
        singleton,
        json!({"series": {"count": 4, "lastObservedTime": "2024-05-01T11:59:55.000000Z"}}),
    );
    let cells = cells("", "Event", &series);
    assert_eq!(
        (cells[0].clone(), cells[8].clone()),
        (json!("5s"), json!(4))
    );
}

#[test]
fn events_v1_events_print_as_the_core_events_they_convert_to() {
    let event = json!({
        "apiVersion": "events.k8s.io/v1", "kind": "Event",
        "metadata": {"name": "web.2", "namespace": "default", "creationTimestamp": ago(600)},
        "eventTime": "2024-05-01T11:50:00.000000Z",
        "reportingController": "default-scheduler", "reportingInstance": "default-scheduler-node-1",
        "action": "Binding", "reason": "Scheduled",
        "regarding": {"kind": "Pod", "namespace": "default", "name": "web"},
        "note": "Successfully assigned default/web to node-1", "type": "Normal",
    });
    assert_eq!(
        Value::from(cells("events.k8s.io", "Event", &event)),
        json!([
            "10m",
            "Normal",
            "Scheduled",
            "pod/web",
            "",
            "default-scheduler, default-scheduler-node-1",
            "Successfully assigned default/web to node-1",
            "10m",
            1,
            "web.2"
        ])
    );
    let legacy = merge(
        event,
        json!({"deprecatedSource": {"component": "kubelet"}, "deprecatedCount": 3,
               "deprecatedFirstTimestamp": ago(900), "deprecatedLastTimestamp": ago(60),
               "regarding": {"name": null}}),
    );
    let cells = cells("events.k8s.io", "Event", &legacy);
    assert_eq!(cells[0], "60s");
    assert_eq!(cells[3], "pod");
    assert_eq!(cells[5], "kubelet, default-scheduler-node-1");
    assert_eq!(cells[7], "15m");
    assert_eq!(cells[8], 3);
}

#[test]
fn namespaces_default_to_active() {
    let dev = merge(
        manifest("website/admin/namespace-dev.yaml", 0),
        json!({"metadata": {"creationTimestamp": ago(2 * 86_400 + 5 * 3600)}}),
    );
    assert_eq!(
        cells("", "Namespace", &dev),
        ["development", "Active", "2d5h"]
    );
    let terminating = merge(dev, json!({"status": {"phase": "Terminating"}}));
    assert_eq!(cells("", "Namespace", &terminating)[1], "Terminating");
}

#[test]
fn secrets_count_their_keys() {
    let basic = merge(
        manifest("website/secret/basicauth-secret.yaml", 0),
        json!({"metadata": {"creationTimestamp": ago(20)}}),
    );
    // Not yet folded into `data`: upstream's conversion counts `stringData` too.
    assert_eq!(
        Value::from(cells("", "Secret", &basic)),
        json!(["secret-basic-auth", "kubernetes.io/basic-auth", 2, "20s"])
    );
    let stored = json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"},
                        "data": {"a": "YQ==", "b": "Yg=="}, "stringData": {"b": "x", "c": "y"}});
    // The type defaults to Opaque; `b` counts once.
    assert_eq!(
        Value::from(&cells("", "Secret", &stored)[1..3]),
        json!(["Opaque", 3])
    );
}

#[test]
fn config_maps_count_data_and_binary_data() {
    let config = merge(
        manifest("website/configmap/configmap-multikeys.yaml", 0),
        json!({"metadata": {"creationTimestamp": ago(8 * 86_400)}, "binaryData": {"logo": "iVBORw0KGgo="}}),
    );
    assert_eq!(
        Value::from(cells("", "ConfigMap", &config)),
        json!(["special-config", 3, "8d"])
    );
}

#[test]
fn service_accounts_count_their_secrets() {
    let account = merge(
        manifest("website/admin/cloud/ccm-example.yaml", 0),
        json!({"metadata": {"creationTimestamp": ago(400 * 86_400)}}),
    );
    assert_eq!(
        Value::from(cells("", "ServiceAccount", &account)),
        json!(["cloud-controller-manager", 0, "400d"])
    );
    let with_secret = merge(account, json!({"secrets": [{"name": "ccm-token-abcde"}]}));
    assert_eq!(cells("", "ServiceAccount", &with_secret)[1], 1);
}

#[test]
fn persistent_volume_and_claim_from_a_manifest() {
    let volume = merge(
        manifest("website/application/mysql/mysql-pv.yaml", 0),
        json!({"metadata": {"creationTimestamp": ago(3600)},
               "spec": {"claimRef": {"kind": "PersistentVolumeClaim", "namespace": "default",
                                     "name": "mysql-pv-claim", "uid": "u2"}},
               "status": {"phase": "Bound"}}),
    );
    assert_eq!(
        headers("", "PersistentVolume"),
        [
            "Name",
            "Capacity",
            "Access Modes",
            "Reclaim Policy",
            "Status",
            "Claim",
            "StorageClass",
            "VolumeAttributesClass",
            "Reason",
            "Age",
            "+VolumeMode"
        ]
    );
    assert_eq!(
        cells("", "PersistentVolume", &volume),
        [
            "mysql-pv-volume",
            "20Gi",
            "RWO",
            "Retain",
            "Bound",
            "default/mysql-pv-claim",
            "manual",
            "<unset>",
            "",
            "60m",
            "Filesystem"
        ]
    );

    let claim = merge(
        manifest("website/application/mysql/mysql-pv.yaml", 1),
        json!({"metadata": {"namespace": "default", "creationTimestamp": ago(3590)}}),
    );
    assert_eq!(
        headers("", "PersistentVolumeClaim"),
        [
            "Name",
            "Status",
            "Volume",
            "Capacity",
            "Access Modes",
            "StorageClass",
            "VolumeAttributesClass",
            "Age",
            "+VolumeMode"
        ]
    );
    let pending = merge(claim.clone(), json!({"status": {"phase": "Pending"}}));
    assert_eq!(
        cells("", "PersistentVolumeClaim", &pending),
        [
            "mysql-pv-claim",
            "Pending",
            "",
            "",
            "",
            "manual",
            "<unset>",
            "59m",
            "Filesystem"
        ]
    );
    let bound = merge(
        claim,
        json!({"spec": {"volumeName": "mysql-pv-volume"},
               "status": {"phase": "Bound", "capacity": {"storage": "20Gi"},
                          "accessModes": ["ReadWriteMany", "ReadWriteOnce", "ReadWriteOnce", "ReadWriteOncePod", "ReadOnlyMany"]}}),
    );
    assert_eq!(
        cells("", "PersistentVolumeClaim", &bound)[1..5],
        ["Bound", "mysql-pv-volume", "20Gi", "RWO,ROX,RWX,RWOP"]
    );
}

#[test]
fn storage_class_annotation_and_deletion_override_the_spec() {
    let volume = json!({
        "apiVersion": "v1", "kind": "PersistentVolume",
        "metadata": {"name": "pv", "deletionTimestamp": ago(5),
                     "annotations": {"volume.beta.kubernetes.io/storage-class": "legacy"}},
        "spec": {"storageClassName": "fast", "volumeMode": "Block", "volumeAttributesClassName": "gold",
                 "persistentVolumeReclaimPolicy": "Delete"},
        "status": {"phase": "Released", "reason": "Deleting"},
    });
    assert_eq!(
        cells("", "PersistentVolume", &volume),
        [
            "pv",
            "0",
            "",
            "Delete",
            "Terminating",
            "",
            "legacy",
            "gold",
            "Deleting",
            "<unknown>",
            "Block"
        ]
    );
    let claim = json!({"apiVersion": "v1", "kind": "PersistentVolumeClaim",
                       "metadata": {"name": "c", "deletionTimestamp": ago(5)},
                       "spec": {"volumeName": "pv"}, "status": {"phase": "Bound"}});
    assert_eq!(
        cells("", "PersistentVolumeClaim", &claim)[1..6],
        ["Terminating", "pv", "0", "", ""]
    );
}

#[test]
fn resource_quota_splits_requests_and_limits() {
    let quota = merge(
        manifest("website/policy/quota.yaml", 0),
        json!({"metadata": {"creationTimestamp": ago(300)},
               "status": {"hard": {"cpu": "1k", "memory": "200Gi", "pods": "10", "limits.cpu": "2",
                                   "limits.memory": "4Gi", "limits": "1"},
                          "used": {"cpu": "500m", "pods": "3", "limits.cpu": "1500m"}}}),
    );
    assert_eq!(
        cells("", "ResourceQuota", &quota),
        [
            "pods-high",
            "cpu: 500m/1k, limits: 0/1, memory: 0/200Gi, pods: 3/10",
            "limits.cpu: 1500m/2, limits.memory: 0/4Gi",
            "5m"
        ]
    );
    let fresh = manifest("website/policy/quota.yaml", 1);
    assert_eq!(
        cells("", "ResourceQuota", &fresh),
        ["pods-medium", "", "", "<unknown>"]
    );
}

#[test]
fn pod_templates_list_containers_images_and_labels() {
    assert_eq!(
        headers("", "PodTemplate"),
        ["Name", "Containers", "Images", "Pod Labels"]
    );
    let template = json!({
        "apiVersion": "v1", "kind": "PodTemplate",
        "metadata": {"name": "worker", "creationTimestamp": ago(60)},
        "template": {"metadata": {"labels": {"tier": "backend", "app": "queue"}},
                     "spec": {"containers": [{"name": "worker", "image": "example/worker:1.2"},
                                             {"name": "metrics", "image": "prom/statsd-exporter"}]}},
    });
    assert_eq!(
        cells("", "PodTemplate", &template),
        [
            "worker",
            "worker,metrics",
            "example/worker:1.2,prom/statsd-exporter",
            "app=queue,tier=backend"
        ]
    );
}
