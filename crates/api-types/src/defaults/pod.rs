//! Defaults shared by every kind that carries pods or claims: the pod spec, the pod template,
//! containers (regular, init and ephemeral), probes, lifecycle hooks, volumes and persistent
//! volume claims. Workload kinds (Deployment, Job, ...) reuse these through
//! [`pod_template_spec`]; only a Pod itself also gets [`pod_only`].

use crate::SortedMap;

use super::image::default_pull_policy;
use super::{default_int, default_ptr, default_str, is_unset};
use crate::core::v1::{
    AzureDiskVolumeSource, Container, ContainerPort, DownwardAPIVolumeFile, EphemeralContainer,
    HTTPGetAction, HostPathVolumeSource, Lifecycle, ObjectFieldSelector, PersistentVolumeClaim,
    PersistentVolumeClaimSpec, PodSecurityContext, PodSpec, PodTemplateSpec, Probe,
    ResourceRequirements, Volume,
};

/// File mode of secret, config map, downward API and projected volumes (`0644`).
const DEFAULT_VOLUME_MODE: i32 = 0o644;

/// A pod template: its pod spec gets the pod-spec defaults, whether or not it was written.
pub(super) fn pod_template_spec(template: &mut PodTemplateSpec) {
    pod_spec(template.spec.get_or_insert_with(PodSpec::default));
}

/// Defaults upstream applies to a Pod's spec but not to pod templates, so that changing them
/// never rolls out workloads: resource requests copied from limits, `enableServiceLinks`, and
/// host ports for host-network pods. Apply before [`pod_spec`], as upstream does.
pub(super) fn pod_only(spec: &mut PodSpec) {
    for container in spec
        .containers
        .iter_mut()
        .chain(spec.init_containers.iter_mut().flatten())
    {
        requests_from_limits(&mut container.resources);
    }
    default_ptr(&mut spec.enable_service_links, true);
    if spec.host_network == Some(true) {
        for container in spec
            .containers
            .iter_mut()
            .chain(spec.init_containers.iter_mut().flatten())
        {
            for port in container.ports.iter_mut().flatten() {
                host_port_from_container_port(port);
            }
        }
    }
}

/// A pod spec, with its volumes and all its containers.
pub(super) fn pod_spec(spec: &mut PodSpec) {
    default_str(&mut spec.dns_policy, "ClusterFirst");
    default_str(&mut spec.restart_policy, "Always");
    default_ptr(
        &mut spec.security_context,
        Box::new(PodSecurityContext::default()),
    );
    default_ptr(&mut spec.termination_grace_period_seconds, 30);
    default_str(&mut spec.scheduler_name, "default-scheduler");
    for volume in spec.volumes.iter_mut().flatten() {
        self::volume(volume);
    }
    for container in spec.init_containers.iter_mut().flatten() {
        self::container(container);
    }
    for container in &mut spec.containers {
        self::container(container);
    }
    for container in spec.ephemeral_containers.iter_mut().flatten() {
        ephemeral_container(container);
    }
}

/// Copies every limit that has no request into the requests.
fn requests_from_limits(resources: &mut Option<Box<ResourceRequirements>>) {
    let Some(resources) = resources else { return };
    let Some(limits) = &resources.limits else {
        return;
    };
    let missing: SortedMap<_, _> = limits
        .iter()
        .filter(|(name, _)| {
            !resources
                .requests
                .as_ref()
                .is_some_and(|requests| requests.contains_key(*name))
        })
        .map(|(name, quantity)| (name.clone(), quantity.clone()))
        .collect();
    // Upstream may create an empty map here, which its JSON omits: only write real entries.
    if !missing.is_empty() {
        resources
            .requests
            .get_or_insert_with(SortedMap::new)
            .extend(missing);
    }
}

/// On the host network a container port is also a host port.
fn host_port_from_container_port(port: &mut ContainerPort) {
    default_int(&mut port.host_port, port.container_port);
}

/// Generates the defaulting of one container type; regular/init containers and ephemeral
/// containers are distinct types with the same defaulted fields.
macro_rules! container_defaults {
    ($(#[$doc:meta])* $name:ident: $ty:ty) => {
        $(#[$doc])*
        fn $name(container: &mut $ty) {
            if is_unset(&container.image_pull_policy) {
                let image = container.image.as_deref().unwrap_or_default();
                container.image_pull_policy = Some(default_pull_policy(image).to_owned());
            }
            default_str(&mut container.termination_message_path, "/dev/termination-log");
            default_str(&mut container.termination_message_policy, "File");
            for port in container.ports.iter_mut().flatten() {
                default_str(&mut port.protocol, "TCP");
            }
            for env in container.env.iter_mut().flatten() {
                if let Some(field_ref) = env.value_from.as_mut().and_then(|s| s.field_ref.as_mut()) {
                    field_selector(field_ref);
                }
            }
            for probe in [
                &mut container.liveness_probe,
                &mut container.readiness_probe,
                &mut container.startup_probe,
            ]
            .into_iter()
            .flatten()
            {
                self::probe(probe);
            }
            if let Some(lifecycle) = &mut container.lifecycle {
                self::lifecycle(lifecycle);
            }
        }
    };
}

container_defaults!(
    /// A regular or init container.
    container: Container
);
container_defaults!(
    /// An ephemeral (debug) container.
    ephemeral_container: EphemeralContainer
);

/// A liveness, readiness or startup probe.
fn probe(probe: &mut Probe) {
    default_int(&mut probe.timeout_seconds, 1);
    default_int(&mut probe.period_seconds, 10);
    default_int(&mut probe.success_threshold, 1);
    default_int(&mut probe.failure_threshold, 3);
    if let Some(http_get) = &mut probe.http_get {
        self::http_get(http_get);
    }
    if let Some(grpc) = &mut probe.grpc {
        default_ptr(&mut grpc.service, String::new());
    }
}

/// The `postStart` and `preStop` hooks.
fn lifecycle(lifecycle: &mut Lifecycle) {
    for handler in [&mut lifecycle.post_start, &mut lifecycle.pre_stop]
        .into_iter()
        .flatten()
    {
        if let Some(http_get) = &mut handler.http_get {
            self::http_get(http_get);
        }
    }
}

/// An HTTP GET probe or hook.
fn http_get(action: &mut HTTPGetAction) {
    default_str(&mut action.path, "/");
    default_str(&mut action.scheme, "HTTP");
}

/// A field reference (`metadata.name`) is read from the `v1` form of the pod.
fn field_selector(selector: &mut ObjectFieldSelector) {
    default_str(&mut selector.api_version, "v1");
}

/// The field references of downward API files.
fn downward_api_files(items: &mut Option<Vec<DownwardAPIVolumeFile>>) {
    for item in items.iter_mut().flatten() {
        if let Some(field_ref) = &mut item.field_ref {
            field_selector(field_ref);
        }
    }
}

/// A pod volume: a volume with no source is an `emptyDir`; each source gets its own defaults.
fn volume(volume: &mut Volume) {
    let name = std::mem::take(&mut volume.name);
    let sourceless = *volume == Volume::default();
    volume.name = name;
    if sourceless {
        volume.empty_dir = Some(Default::default());
    }
    if let Some(host_path) = &mut volume.host_path {
        self::host_path(host_path);
    }
    if let Some(secret) = &mut volume.secret {
        default_ptr(&mut secret.default_mode, DEFAULT_VOLUME_MODE);
    }
    if let Some(iscsi) = &mut volume.iscsi {
        default_str(&mut iscsi.iscsi_interface, "default");
    }
    if let Some(rbd) = &mut volume.rbd {
        rbd_fields(&mut rbd.pool, &mut rbd.user, &mut rbd.keyring);
    }
    if let Some(downward_api) = &mut volume.downward_api {
        default_ptr(&mut downward_api.default_mode, DEFAULT_VOLUME_MODE);
        downward_api_files(&mut downward_api.items);
    }
    if let Some(config_map) = &mut volume.config_map {
        default_ptr(&mut config_map.default_mode, DEFAULT_VOLUME_MODE);
    }
    if let Some(azure_disk) = &mut volume.azure_disk {
        self::azure_disk(azure_disk);
    }
    if let Some(projected) = &mut volume.projected {
        default_ptr(&mut projected.default_mode, DEFAULT_VOLUME_MODE);
        for source in projected.sources.iter_mut().flatten() {
            if let Some(downward_api) = &mut source.downward_api {
                downward_api_files(&mut downward_api.items);
            }
            if let Some(token) = &mut source.service_account_token {
                default_ptr(&mut token.expiration_seconds, 3600);
            }
        }
    }
    if let Some(scale_io) = &mut volume.scale_io {
        scale_io_fields(&mut scale_io.storage_mode, &mut scale_io.fs_type);
    }
    if let Some(template) = volume
        .ephemeral
        .as_mut()
        .and_then(|e| e.volume_claim_template.as_mut())
    {
        pvc_spec(&mut template.spec);
    }
}

/// A host path volume without a type checks nothing (`type: ""`).
pub(super) fn host_path(source: &mut HostPathVolumeSource) {
    default_ptr(&mut source.type_, String::new());
}

/// An Azure data disk, as a pod volume or a persistent volume.
pub(super) fn azure_disk(source: &mut AzureDiskVolumeSource) {
    default_ptr(&mut source.caching_mode, "ReadWrite".to_owned());
    default_ptr(&mut source.fs_type, "ext4".to_owned());
    default_ptr(&mut source.read_only, false);
    default_ptr(&mut source.kind, "Shared".to_owned());
}

/// The RBD pool, user and keyring, shared by the pod-volume and persistent-volume forms.
pub(super) fn rbd_fields(
    pool: &mut Option<String>,
    user: &mut Option<String>,
    keyring: &mut Option<String>,
) {
    default_str(pool, "rbd");
    default_str(user, "admin");
    default_str(keyring, "/etc/ceph/keyring");
}

/// The ScaleIO storage mode and file system, shared by both volume forms.
pub(super) fn scale_io_fields(storage_mode: &mut Option<String>, fs_type: &mut Option<String>) {
    default_str(storage_mode, "ThinProvisioned");
    default_str(fs_type, "xfs");
}

/// A claim spec (standalone, in a StatefulSet template or in an ephemeral volume).
fn pvc_spec(spec: &mut PersistentVolumeClaimSpec) {
    default_ptr(&mut spec.volume_mode, "Filesystem".to_owned());
}

/// A whole claim: a `Filesystem` volume mode and, until bound, the `Pending` phase.
pub(super) fn pvc(claim: &mut PersistentVolumeClaim) {
    default_str(
        &mut claim.status.get_or_insert_with(Default::default).phase,
        "Pending",
    );
    pvc_spec(claim.spec.get_or_insert_with(Default::default));
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use crate::core::v1::Pod;
    use crate::defaults::tests::assert_defaults;

    /// What every defaulted container gets besides its pull policy.
    fn container(name: &str, image: &str, pull: &str) -> serde_json::Value {
        json!({
            "name": name,
            "image": image,
            "imagePullPolicy": pull,
            "terminationMessagePath": "/dev/termination-log",
            "terminationMessagePolicy": "File"
        })
    }

    #[test]
    fn minimal_pod() {
        assert_defaults::<Pod>(
            json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "web"},
                "spec": {"containers": [{"name": "nginx", "image": "nginx"}]}}),
            json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "web"}, "spec": {
                "containers": [container("nginx", "nginx", "Always")],
                "dnsPolicy": "ClusterFirst",
                "enableServiceLinks": true,
                "restartPolicy": "Always",
                "schedulerName": "default-scheduler",
                "securityContext": {},
                "terminationGracePeriodSeconds": 30
            }}),
        );
    }

    #[test]
    fn containers_of_every_kind_are_defaulted() {
        let digest =
            "nginx@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
        let out = crate::defaults::tests::defaulted::<Pod>(json!({"spec": {
            "initContainers": [{"name": "init", "image": "busybox:latest"}],
            "containers": [{"name": "app", "image": "nginx:1.27"}, {"name": "pinned", "image": digest}],
            "ephemeralContainers": [{"name": "debug", "image": "busybox"}]
        }}));
        assert_eq!(
            out["spec"]["initContainers"],
            json!([container("init", "busybox:latest", "Always")])
        );
        assert_eq!(
            out["spec"]["containers"],
            json!([
                container("app", "nginx:1.27", "IfNotPresent"),
                container("pinned", digest, "IfNotPresent")
            ])
        );
        assert_eq!(
            out["spec"]["ephemeralContainers"],
            json!([container("debug", "busybox", "Always")])
        );
    }

    #[test]
    fn ports_env_probes_and_hooks() {
        let out = crate::defaults::tests::defaulted::<Pod>(json!({"spec": {"containers": [{
            "name": "app",
            "image": "app:v1",
            "ports": [{"containerPort": 8080}],
            "env": [{"name": "NODE", "valueFrom": {"fieldRef": {"fieldPath": "spec.nodeName"}}}],
            "livenessProbe": {"httpGet": {"port": 8080}},
            "readinessProbe": {"grpc": {"port": 9000}, "periodSeconds": 0},
            "startupProbe": {"tcpSocket": {"port": 8080}, "failureThreshold": 30},
            "lifecycle": {"preStop": {"httpGet": {"port": "http", "path": "/quit"}}}
        }]}}));
        assert_eq!(
            out["spec"]["containers"][0],
            json!({
                "name": "app",
                "image": "app:v1",
                "imagePullPolicy": "IfNotPresent",
                "terminationMessagePath": "/dev/termination-log",
                "terminationMessagePolicy": "File",
                "ports": [{"containerPort": 8080, "protocol": "TCP"}],
                "env": [{"name": "NODE", "valueFrom": {"fieldRef": {"apiVersion": "v1", "fieldPath": "spec.nodeName"}}}],
                "livenessProbe": {"httpGet": {"port": 8080, "path": "/", "scheme": "HTTP"},
                    "timeoutSeconds": 1, "periodSeconds": 10, "successThreshold": 1, "failureThreshold": 3},
                "readinessProbe": {"grpc": {"port": 9000, "service": ""},
                    "timeoutSeconds": 1, "periodSeconds": 10, "successThreshold": 1, "failureThreshold": 3},
                "startupProbe": {"tcpSocket": {"port": 8080},
                    "timeoutSeconds": 1, "periodSeconds": 10, "successThreshold": 1, "failureThreshold": 30},
                "lifecycle": {"preStop": {"httpGet": {"port": "http", "path": "/quit", "scheme": "HTTP"}}}
            })
        );
    }

    #[test]
    fn requests_default_to_limits_in_pods() {
        // Upstream's TestSetDefaultRequestsPod: only missing requests are filled.
        let out = crate::defaults::tests::defaulted::<Pod>(json!({"spec": {
            "initContainers": [{"name": "i", "resources": {"limits": {"cpu": "100m"}}}],
            "containers": [
                {"name": "a", "resources": {"limits": {"cpu": "100m", "memory": "1Gi"}, "requests": {"memory": "512Mi"}}},
                {"name": "b", "resources": {"limits": {}}},
                {"name": "c", "resources": {"requests": {"cpu": "1"}}}
            ],
            "ephemeralContainers": [{"name": "e", "resources": {"limits": {"cpu": "1"}}}]
        }}));
        assert_eq!(
            out["spec"]["initContainers"][0]["resources"],
            json!({"limits": {"cpu": "100m"}, "requests": {"cpu": "100m"}})
        );
        assert_eq!(
            out["spec"]["containers"][0]["resources"],
            json!({"limits": {"cpu": "100m", "memory": "1Gi"}, "requests": {"cpu": "100m", "memory": "512Mi"}})
        );
        assert_eq!(
            out["spec"]["containers"][1]["resources"],
            json!({"limits": {}})
        );
        assert_eq!(
            out["spec"]["containers"][2]["resources"],
            json!({"requests": {"cpu": "1"}})
        );
        // Ephemeral containers take no resources; upstream does not default them.
        assert_eq!(
            out["spec"]["ephemeralContainers"][0]["resources"],
            json!({"limits": {"cpu": "1"}})
        );
    }

    #[test]
    fn host_network_ports_become_host_ports() {
        let out = crate::defaults::tests::defaulted::<Pod>(json!({"spec": {
            "hostNetwork": true,
            "initContainers": [{"name": "i", "ports": [{"containerPort": 53}]}],
            "containers": [{"name": "c", "ports": [{"containerPort": 80}, {"containerPort": 81, "hostPort": 9081}]}]
        }}));
        assert_eq!(
            out["spec"]["initContainers"][0]["ports"],
            json!([{"containerPort": 53, "hostPort": 53, "protocol": "TCP"}])
        );
        assert_eq!(
            out["spec"]["containers"][0]["ports"],
            json!([
                {"containerPort": 80, "hostPort": 80, "protocol": "TCP"},
                {"containerPort": 81, "hostPort": 9081, "protocol": "TCP"}
            ])
        );
    }

    #[test]
    fn volumes() {
        let out = crate::defaults::tests::defaulted::<Pod>(
            json!({"spec": {"containers": [], "volumes": [
                {"name": "scratch"},
                {"name": "secret", "secret": {"secretName": "s"}},
                {"name": "config", "configMap": {"name": "c", "defaultMode": 256}},
                {"name": "info", "downwardAPI": {"items": [{"path": "name", "fieldRef": {"fieldPath": "metadata.name"}}]}},
                {"name": "all", "projected": {"sources": [
                    {"downwardAPI": {"items": [{"path": "ns", "fieldRef": {"fieldPath": "metadata.namespace"}}]}},
                    {"serviceAccountToken": {"path": "token"}},
                    {"configMap": {"name": "c"}}
                ]}},
                {"name": "host", "hostPath": {"path": "/var/log"}},
                {"name": "disk", "iscsi": {"targetPortal": "t", "iqn": "q", "lun": 0, "iscsiInterface": ""}},
                {"name": "ceph", "rbd": {"image": "i", "monitors": ["m"], "user": "me"}},
                {"name": "azure", "azureDisk": {"diskName": "d", "diskURI": "u", "readOnly": true}},
                {"name": "sio", "scaleIO": {"gateway": "g", "system": "s", "secretRef": {}}},
                {"name": "eph", "ephemeral": {"volumeClaimTemplate": {"spec": {"accessModes": ["ReadWriteOnce"]}}}},
                {"name": "claim", "persistentVolumeClaim": {"claimName": "c"}}
            ]}}),
        );
        assert_eq!(
            out["spec"]["volumes"],
            json!([
                {"name": "scratch", "emptyDir": {}},
                {"name": "secret", "secret": {"secretName": "s", "defaultMode": 420}},
                {"name": "config", "configMap": {"name": "c", "defaultMode": 256}},
                {"name": "info", "downwardAPI": {"defaultMode": 420,
                    "items": [{"path": "name", "fieldRef": {"apiVersion": "v1", "fieldPath": "metadata.name"}}]}},
                {"name": "all", "projected": {"defaultMode": 420, "sources": [
                    {"downwardAPI": {"items": [{"path": "ns", "fieldRef": {"apiVersion": "v1", "fieldPath": "metadata.namespace"}}]}},
                    {"serviceAccountToken": {"path": "token", "expirationSeconds": 3600}},
                    {"configMap": {"name": "c"}}
                ]}},
                {"name": "host", "hostPath": {"path": "/var/log", "type": ""}},
                {"name": "disk", "iscsi": {"targetPortal": "t", "iqn": "q", "lun": 0, "iscsiInterface": "default"}},
                {"name": "ceph", "rbd": {"image": "i", "monitors": ["m"], "user": "me", "pool": "rbd",
                    "keyring": "/etc/ceph/keyring"}},
                {"name": "azure", "azureDisk": {"diskName": "d", "diskURI": "u", "readOnly": true,
                    "cachingMode": "ReadWrite", "fsType": "ext4", "kind": "Shared"}},
                {"name": "sio", "scaleIO": {"gateway": "g", "system": "s", "secretRef": {},
                    "storageMode": "ThinProvisioned", "fsType": "xfs"}},
                {"name": "eph", "ephemeral": {"volumeClaimTemplate": {"metadata": {},
                    "spec": {"accessModes": ["ReadWriteOnce"], "volumeMode": "Filesystem"}}}},
                {"name": "claim", "persistentVolumeClaim": {"claimName": "c"}}
            ])
        );
    }

    #[test]
    fn user_values_win() {
        let input = json!({"spec": {
            "restartPolicy": "OnFailure",
            "dnsPolicy": "None",
            "terminationGracePeriodSeconds": 0,
            "enableServiceLinks": false,
            "containers": [{"name": "c", "image": "nginx", "imagePullPolicy": "Never",
                "ports": [{"containerPort": 53, "protocol": "SCTP"}]}]
        }});
        let out = crate::defaults::tests::defaulted::<Pod>(input);
        assert_eq!(out["spec"]["restartPolicy"], "OnFailure");
        assert_eq!(out["spec"]["dnsPolicy"], "None");
        assert_eq!(out["spec"]["terminationGracePeriodSeconds"], 0);
        assert_eq!(out["spec"]["enableServiceLinks"], false);
        assert_eq!(out["spec"]["containers"][0]["imagePullPolicy"], "Never");
        assert_eq!(out["spec"]["containers"][0]["ports"][0]["protocol"], "SCTP");
    }
}
