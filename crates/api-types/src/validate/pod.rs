//! Pod specs and pod templates: upstream's `ValidatePodSpec`, `validateContainers` and their
//! helpers (ports, environment, mounts, probes, lifecycle hooks, security contexts, affinity,
//! tolerations, topology spread, DNS configuration), written once and shared by Pods, pod
//! templates and every workload kind.
//!
//! Validation runs on defaulted objects, as the API server's does: fields that defaulting
//! fills (`restartPolicy`, `dnsPolicy`, `terminationGracePeriodSeconds`, a container's
//! `imagePullPolicy` and `terminationMessagePolicy`, a port's `protocol`, probe thresholds) are
//! required here as upstream requires them; an unset optional value counts as Go's zero value.
//!
//! Fields of features that are off by default in v1.32 (and that the API server therefore drops
//! before validating) are not validated: container `resizePolicy` (InPlacePodVerticalScaling),
//! `hostUsers` (UserNamespacesSupport), `resourceClaims` and container `resources.claims`
//! (DynamicResourceAllocation), pod-level `resources` (PodLevelResources),
//! `supplementalGroupsPolicy`, `seLinuxChangePolicy`, `procMount` (ProcMountType) and image
//! volumes (ImageVolume). `--allow-privileged` is taken as enabled, as in common setups.

use crate::SortedMap;
use std::collections::BTreeSet;

use super::field::{ErrorList, FieldError, Path, go_quote};
use super::gofmt;
use super::meta::{self, SelectorOpts, items, s};
use super::names;
use super::resources;
use super::volumes::{self, Volumes};
use crate::IntOrString;
use crate::core::v1 as core;
use crate::meta::{LabelSelector, ObjectMeta};

/// How a pod spec is validated: inside a Pod, or as a template of another resource.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct PodOpts {
    /// The top-level object is a Pod (not a template embedded in a workload).
    pub resource_is_pod: bool,
}

/// The pod's restart policy and termination grace period, which container checks consult.
struct PodCtx<'a> {
    grace_period: Option<i64>,
    volumes: &'a Volumes,
}

const PROTOCOLS: [&str; 3] = ["SCTP", "TCP", "UDP"];
const PULL_POLICIES: [&str; 3] = ["Always", "IfNotPresent", "Never"];
const ENV_FIELD_PATHS: [&str; 9] = [
    "metadata.name",
    "metadata.namespace",
    "metadata.uid",
    "spec.nodeName",
    "spec.serviceAccountName",
    "status.hostIP",
    "status.hostIPs",
    "status.podIP",
    "status.podIPs",
];
const RESOURCE_FIELD_PATHS: [&str; 6] = [
    "limits.cpu",
    "limits.ephemeral-storage",
    "limits.memory",
    "requests.cpu",
    "requests.ephemeral-storage",
    "requests.memory",
];
const HUGEPAGES_FIELD_PREFIXES: [&str; 2] = ["limits.hugepages-", "requests.hugepages-"];
const SCHEMES: [&str; 2] = ["HTTP", "HTTPS"];

/// Labels accepted in a downward-API field path, as upstream's `ConvertDownwardAPIFieldLabel`.
const DOWNWARD_API_LABELS: [&str; 14] = [
    "metadata.annotations",
    "metadata.labels",
    "metadata.name",
    "metadata.namespace",
    "metadata.uid",
    "spec.nodeName",
    "spec.restartPolicy",
    "spec.serviceAccountName",
    "spec.schedulerName",
    "status.phase",
    "status.hostIP",
    "status.hostIPs",
    "status.podIP",
    "status.podIPs",
];

/// Upstream's `SplitMaybeSubscriptedPath`: `metadata.labels['app']` → (`metadata.labels`, `app`).
fn split_subscripted(field_path: &str) -> Option<(&str, &str)> {
    let inner = field_path.strip_suffix("']")?;
    let (path, subscript) = inner.split_once("['")?;
    if path.is_empty() {
        None
    } else {
        Some((path, subscript))
    }
}

/// Upstream's `validateObjectFieldSelector` (downward API `fieldRef`).
pub(crate) fn validate_object_field_selector(
    fs: &core::ObjectFieldSelector,
    expressions: &[&str],
    path: &Path,
) -> ErrorList {
    let version = s(&fs.api_version);
    if version.is_empty() {
        return vec![FieldError::required(&path.child("apiVersion"), "")];
    }
    if fs.field_path.is_empty() {
        return vec![FieldError::required(&path.child("fieldPath"), "")];
    }
    // The label conversion of the v1 API.
    let converted = if version != "v1" {
        Err(format!("unsupported pod version: {version}"))
    } else if let Some((p, _)) = split_subscripted(&fs.field_path) {
        if p == "metadata.annotations" || p == "metadata.labels" {
            Ok(fs.field_path.clone())
        } else {
            Err(format!(
                "field label does not support subscript: {}",
                fs.field_path
            ))
        }
    } else if fs.field_path == "spec.host" {
        Ok("spec.nodeName".to_owned())
    } else if DOWNWARD_API_LABELS.contains(&fs.field_path.as_str()) {
        Ok(fs.field_path.clone())
    } else {
        Err(format!("field label not supported: {}", fs.field_path))
    };
    let internal = match converted {
        Ok(p) => p,
        Err(e) => {
            return vec![FieldError::invalid(
                &path.child("fieldPath"),
                fs.field_path.as_str(),
                format!("error converting fieldPath: {e}"),
            )];
        }
    };
    if let Some((p, subscript)) = split_subscripted(&internal) {
        return match p {
            "metadata.annotations" => {
                meta::validate_qualified_name(&subscript.to_lowercase(), path)
            }
            "metadata.labels" => meta::validate_qualified_name(subscript, path),
            _ => vec![FieldError::invalid(path, p, "does not support subscript")],
        };
    }
    if !expressions.contains(&internal.as_str()) {
        return vec![FieldError::not_supported(
            &path.child("fieldPath"),
            internal.as_str(),
            expressions,
        )];
    }
    Vec::new()
}

const CPU_DIVISORS: [&str; 2] = ["1m", "1"];
const BYTE_DIVISORS: [&str; 13] = [
    "1", "1k", "1M", "1G", "1T", "1P", "1E", "1Ki", "1Mi", "1Gi", "1Ti", "1Pi", "1Ei",
];

/// Upstream's `validateContainerResourceFieldSelector` (downward API `resourceFieldRef`).
pub(crate) fn validate_container_resource_field_selector(
    fs: &core::ResourceFieldSelector,
    expressions: &[&str],
    path: &Path,
    volume: bool,
) -> ErrorList {
    let mut errs = ErrorList::new();
    if volume && s(&fs.container_name).is_empty() {
        errs.push(FieldError::required(&path.child("containerName"), ""));
    } else if fs.resource.is_empty() {
        errs.push(FieldError::required(&path.child("resource"), ""));
    } else if !expressions.contains(&fs.resource.as_str())
        && !HUGEPAGES_FIELD_PREFIXES
            .iter()
            .any(|p| fs.resource.starts_with(p))
    {
        errs.push(FieldError::not_supported(
            &path.child("resource"),
            fs.resource.as_str(),
            expressions,
        ));
    }
    // The divisor: an unset or zero divisor is not checked.
    if let Some(divisor) = fs.divisor.as_ref().filter(|d| !d.is_zero()) {
        let d = divisor.to_string();
        let r = fs.resource.as_str();
        let p = path.child("divisor");
        match r {
            "limits.cpu" | "requests.cpu" if !CPU_DIVISORS.contains(&d.as_str()) => {
                errs.push(FieldError::invalid(&p, r, "only divisor's values 1m and 1 are supported with the cpu resource"));
            }
            "limits.memory" | "requests.memory" if !BYTE_DIVISORS.contains(&d.as_str()) => errs.push(FieldError::invalid(
                &p,
                r,
                "only divisor's values 1, 1k, 1M, 1G, 1T, 1P, 1E, 1Ki, 1Mi, 1Gi, 1Ti, 1Pi, 1Ei are supported with the memory resource",
            )),
            "limits.ephemeral-storage" | "requests.ephemeral-storage" if !BYTE_DIVISORS.contains(&d.as_str()) => {
                errs.push(FieldError::invalid(
                    &p,
                    r,
                    "only divisor's values 1, 1k, 1M, 1G, 1T, 1P, 1E, 1Ki, 1Mi, 1Gi, 1Ti, 1Pi, 1Ei are supported with the local ephemeral storage resource",
                ));
            }
            _ => {}
        }
        if HUGEPAGES_FIELD_PREFIXES
            .iter()
            .any(|pre| r.starts_with(pre))
            && !BYTE_DIVISORS.contains(&d.as_str())
        {
            errs.push(FieldError::invalid(
                &p,
                r,
                "only divisor's values 1, 1k, 1M, 1G, 1T, 1P, 1E, 1Ki, 1Mi, 1Gi, 1Ti, 1Pi, 1Ei are supported with the hugepages resource",
            ));
        }
    }
    errs
}

fn validate_container_ports(ports: &[core::ContainerPort], path: &Path) -> ErrorList {
    let mut errs = ErrorList::new();
    let mut names_seen: BTreeSet<&str> = BTreeSet::new();
    for (i, port) in ports.iter().enumerate() {
        let p = path.index(i);
        let name = s(&port.name);
        if !name.is_empty() {
            let msgs = names::is_valid_port_name(name);
            if !msgs.is_empty() {
                for msg in msgs {
                    errs.push(FieldError::invalid(&p.child("name"), name, msg));
                }
            } else if !names_seen.insert(name) {
                errs.push(FieldError::duplicate(&p.child("name"), name));
            }
        }
        if port.container_port == 0 {
            errs.push(FieldError::required(&p.child("containerPort"), ""));
        } else {
            for msg in names::is_valid_port_num(i64::from(port.container_port)) {
                errs.push(FieldError::invalid(
                    &p.child("containerPort"),
                    port.container_port,
                    msg,
                ));
            }
        }
        let host_port = port.host_port.unwrap_or(0);
        if host_port != 0 {
            for msg in names::is_valid_port_num(i64::from(host_port)) {
                errs.push(FieldError::invalid(&p.child("hostPort"), host_port, msg));
            }
        }
        let protocol = s(&port.protocol);
        if protocol.is_empty() {
            errs.push(FieldError::required(&p.child("protocol"), ""));
        } else if !PROTOCOLS.contains(&protocol) {
            errs.push(FieldError::not_supported(
                &p.child("protocol"),
                protocol,
                &PROTOCOLS,
            ));
        }
    }
    errs
}

/// Environment variable names: v1.32 enables `RelaxedEnvironmentVariableValidation` by default.
fn env_name_errors(name: &str) -> Vec<String> {
    names::is_relaxed_env_var_name(name)
}

fn validate_env(vars: &[core::EnvVar], path: &Path) -> ErrorList {
    let mut errs = ErrorList::new();
    for (i, ev) in vars.iter().enumerate() {
        let p = path.index(i);
        if ev.name.is_empty() {
            errs.push(FieldError::required(&p.child("name"), ""));
        } else {
            for msg in env_name_errors(&ev.name) {
                errs.push(FieldError::invalid(&p.child("name"), ev.name.as_str(), msg));
            }
        }
        errs.extend(validate_env_var_value_from(ev, &p.child("valueFrom")));
    }
    errs
}

fn validate_key_selector(name: &str, key: &str, path: &Path) -> ErrorList {
    let mut errs = meta::validate_name(names::name_is_dns_subdomain, name, &path.child("name"));
    if key.is_empty() {
        errs.push(FieldError::required(&path.child("key"), ""));
    } else {
        for msg in names::is_config_map_key(key) {
            errs.push(FieldError::invalid(&path.child("key"), key, msg));
        }
    }
    errs
}

fn validate_env_var_value_from(ev: &core::EnvVar, path: &Path) -> ErrorList {
    let Some(from) = &ev.value_from else {
        return Vec::new();
    };
    let mut errs = ErrorList::new();
    let mut n = 0;
    if let Some(fr) = &from.field_ref {
        n += 1;
        errs.extend(validate_object_field_selector(
            fr,
            &ENV_FIELD_PATHS,
            &path.child("fieldRef"),
        ));
    }
    if let Some(rf) = &from.resource_field_ref {
        n += 1;
        errs.extend(validate_container_resource_field_selector(
            rf,
            &RESOURCE_FIELD_PATHS,
            &path.child("resourceFieldRef"),
            false,
        ));
    }
    if let Some(cm) = &from.config_map_key_ref {
        n += 1;
        errs.extend(validate_key_selector(
            s(&cm.name),
            &cm.key,
            &path.child("configMapKeyRef"),
        ));
    }
    if let Some(sk) = &from.secret_key_ref {
        n += 1;
        errs.extend(validate_key_selector(
            s(&sk.name),
            &sk.key,
            &path.child("secretKeyRef"),
        ));
    }
    if n == 0 {
        errs.push(FieldError::invalid(
            path,
            "",
            "must specify one of: `fieldRef`, `resourceFieldRef`, `configMapKeyRef` or `secretKeyRef`",
        ));
    } else if !s(&ev.value).is_empty() {
        errs.push(FieldError::invalid(
            path,
            "",
            "may not be specified when `value` is not empty",
        ));
    } else if n > 1 {
        errs.push(FieldError::invalid(
            path,
            "",
            "may not have more than one field specified at a time",
        ));
    }
    errs
}

fn validate_env_from(sources: &[core::EnvFromSource], path: &Path) -> ErrorList {
    let mut errs = ErrorList::new();
    for (i, ev) in sources.iter().enumerate() {
        let p = path.index(i);
        let prefix = s(&ev.prefix);
        if !prefix.is_empty() {
            for msg in env_name_errors(prefix) {
                errs.push(FieldError::invalid(&p.child("prefix"), prefix, msg));
            }
        }
        let mut n = 0;
        for (field, name) in [
            (
                "configMapRef",
                ev.config_map_ref.as_ref().map(|r| s(&r.name)),
            ),
            ("secretRef", ev.secret_ref.as_ref().map(|r| s(&r.name))),
        ] {
            let Some(name) = name else { continue };
            n += 1;
            let np = p.child(field).child("name");
            if name.is_empty() {
                errs.push(FieldError::required(&np, ""));
            } else {
                for msg in names::name_is_dns_subdomain(name, true) {
                    errs.push(FieldError::invalid(&np, name, msg));
                }
            }
        }
        if n == 0 {
            errs.push(FieldError::invalid(
                path,
                "",
                "must specify one of: `configMapRef` or `secretRef`",
            ));
        } else if n > 1 {
            errs.push(FieldError::invalid(
                path,
                "",
                "may not have more than one field specified at a time",
            ));
        }
    }
    errs
}

const MOUNT_PROPAGATIONS: [&str; 3] = ["Bidirectional", "HostToContainer", "None"];
const RRO_MODES: [&str; 3] = ["Disabled", "Enabled", "IfPossible"];

fn validate_volume_mounts(c: &core::Container, ctx: &PodCtx<'_>, path: &Path) -> ErrorList {
    let mut errs = ErrorList::new();
    let devices: SortedMap<&str, &str> = items(&c.volume_devices)
        .iter()
        .map(|d| (d.name.as_str(), d.device_path.as_str()))
        .collect();
    let mut mount_points: BTreeSet<&str> = BTreeSet::new();
    let privileged = c.security_context.as_ref().and_then(|sc| sc.privileged) == Some(true);
    for (i, m) in items(&c.volume_mounts).iter().enumerate() {
        let p = path.index(i);
        if m.name.is_empty() {
            errs.push(FieldError::required(&p.child("name"), ""));
        }
        if !ctx.volumes.contains_key(&m.name) {
            errs.push(FieldError::not_found(&p.child("name"), m.name.as_str()));
        }
        if m.mount_path.is_empty() {
            errs.push(FieldError::required(&p.child("mountPath"), ""));
        }
        if !mount_points.insert(m.mount_path.as_str()) {
            errs.push(FieldError::invalid(
                &p.child("mountPath"),
                m.mount_path.as_str(),
                "must be unique",
            ));
        }
        if devices.contains_key(m.name.as_str()) {
            errs.push(FieldError::invalid(
                &p.child("name"),
                m.name.as_str(),
                "must not already exist in volumeDevices",
            ));
        }
        if devices.values().any(|dp| *dp == m.mount_path) {
            errs.push(FieldError::invalid(
                &p.child("mountPath"),
                m.mount_path.as_str(),
                "must not already exist as a path in volumeDevices",
            ));
        }
        let sub_path = s(&m.sub_path);
        let sub_path_expr = s(&m.sub_path_expr);
        if ctx.volumes.get(&m.name).is_some_and(|v| v.is_image) {
            if !sub_path.is_empty() {
                errs.push(FieldError::invalid(
                    &p.child("subPath"),
                    sub_path,
                    "not allowed in image volume sources",
                ));
            }
            if !sub_path_expr.is_empty() {
                errs.push(FieldError::invalid(
                    &p.child("subPathExpr"),
                    sub_path_expr,
                    "not allowed in image volume sources",
                ));
            }
        }
        // Upstream reports the subPath errors at the list's path, not the item's.
        if !sub_path.is_empty() {
            errs.extend(volumes::validate_local_descending_path(
                sub_path,
                &path.child("subPath"),
            ));
        }
        if !sub_path_expr.is_empty() {
            if !sub_path.is_empty() {
                errs.push(FieldError::invalid(
                    &p.child("subPathExpr"),
                    sub_path_expr,
                    "subPathExpr and subPath are mutually exclusive",
                ));
            }
            errs.extend(volumes::validate_local_descending_path(
                sub_path_expr,
                &path.child("subPathExpr"),
            ));
        }
        if let Some(mp) = &m.mount_propagation {
            let mp_path = path.child("mountPropagation");
            if !MOUNT_PROPAGATIONS.contains(&mp.as_str()) {
                errs.push(FieldError::not_supported(
                    &mp_path,
                    mp.as_str(),
                    &MOUNT_PROPAGATIONS,
                ));
            }
            if mp == "Bidirectional" && !privileged {
                errs.push(FieldError::forbidden(
                    &mp_path,
                    "Bidirectional mount propagation is available only to privileged containers",
                ));
            }
        }
        if let Some(rro) = &m.recursive_read_only {
            let rro_path = path.child("recursiveReadOnly");
            match rro.as_str() {
                "Disabled" => {}
                "Enabled" | "IfPossible" => {
                    if m.read_only != Some(true) {
                        errs.push(FieldError::forbidden(
                            &rro_path,
                            "may only be specified when readOnly is true",
                        ));
                    }
                    if m.mount_propagation
                        .as_deref()
                        .is_some_and(|mp| mp != "None")
                    {
                        errs.push(FieldError::forbidden(
                            &rro_path,
                            "may only be specified when mountPropagation is None or not specified",
                        ));
                    }
                }
                other => errs.push(FieldError::not_supported(&rro_path, other, &RRO_MODES)),
            }
        }
    }
    errs
}

fn validate_volume_devices(c: &core::Container, ctx: &PodCtx<'_>, path: &Path) -> ErrorList {
    let mut errs = ErrorList::new();
    let mounts: SortedMap<&str, &str> = items(&c.volume_mounts)
        .iter()
        .map(|m| (m.name.as_str(), m.mount_path.as_str()))
        .collect();
    let mut device_paths: BTreeSet<&str> = BTreeSet::new();
    let mut device_names: BTreeSet<&str> = BTreeSet::new();
    for (i, d) in items(&c.volume_devices).iter().enumerate() {
        let p = path.index(i);
        let matched = ctx.volumes.get(&d.name);
        if d.name.is_empty() {
            errs.push(FieldError::required(&p.child("name"), ""));
        }
        if device_names.contains(d.name.as_str()) {
            errs.push(FieldError::invalid(
                &p.child("name"),
                d.name.as_str(),
                "must be unique",
            ));
        }
        if matched.is_some_and(|v| !v.is_pvc) {
            errs.push(FieldError::invalid(
                &p.child("name"),
                d.name.as_str(),
                "can only use volume source type of PersistentVolumeClaim or Ephemeral for block mode",
            ));
        }
        if matched.is_none() {
            errs.push(FieldError::not_found(&p.child("name"), d.name.as_str()));
        }
        if d.device_path.is_empty() {
            errs.push(FieldError::required(&p.child("devicePath"), ""));
        }
        if device_paths.contains(d.device_path.as_str()) {
            errs.push(FieldError::invalid(
                &p.child("devicePath"),
                d.device_path.as_str(),
                "must be unique",
            ));
        }
        if !d.device_path.is_empty() && d.device_path.split('/').any(|e| e == "..") {
            errs.push(FieldError::invalid(
                &p.child("devicePath"),
                d.device_path.as_str(),
                "can not contain backsteps ('..')",
            ));
        } else {
            device_paths.insert(d.device_path.as_str());
        }
        if mounts.contains_key(d.name.as_str()) {
            errs.push(FieldError::invalid(
                &p.child("name"),
                d.name.as_str(),
                "must not already exist in volumeMounts",
            ));
        }
        if mounts.values().any(|mp| *mp == d.device_path) {
            errs.push(FieldError::invalid(
                &p.child("devicePath"),
                d.device_path.as_str(),
                "must not already exist as a path in volumeMounts",
            ));
        }
        if !d.name.is_empty() {
            device_names.insert(d.name.as_str());
        }
    }
    errs
}

/// Upstream's `ValidatePortNumOrName`.
pub(crate) fn validate_port_num_or_name(port: &IntOrString, path: &Path) -> ErrorList {
    match port {
        IntOrString::Int(n) => names::is_valid_port_num(i64::from(*n))
            .into_iter()
            .map(|m| FieldError::invalid(path, *n, m))
            .collect(),
        IntOrString::String(name) => names::is_valid_port_name(name)
            .into_iter()
            .map(|m| FieldError::invalid(path, name.as_str(), m))
            .collect(),
    }
}

fn validate_http_get(h: &core::HTTPGetAction, path: &Path) -> ErrorList {
    let mut errs = ErrorList::new();
    if s(&h.path).is_empty() {
        errs.push(FieldError::required(&path.child("path"), ""));
    }
    errs.extend(validate_port_num_or_name(&h.port, &path.child("port")));
    let scheme = s(&h.scheme);
    if !SCHEMES.contains(&scheme) {
        errs.push(FieldError::not_supported(
            &path.child("scheme"),
            scheme,
            &SCHEMES,
        ));
    }
    for header in items(&h.http_headers) {
        for msg in names::is_http_header_name(&header.name) {
            errs.push(FieldError::invalid(
                &path.child("httpHeaders"),
                header.name.as_str(),
                msg,
            ));
        }
    }
    errs
}

/// The handler of a probe or lifecycle hook.
struct Handler<'a> {
    exec: Option<&'a core::ExecAction>,
    http_get: Option<&'a core::HTTPGetAction>,
    tcp_socket: Option<&'a core::TCPSocketAction>,
    grpc: Option<&'a core::GRPCAction>,
    sleep: Option<&'a core::SleepAction>,
}

const MORE_THAN_ONE_HANDLER: &str = "may not specify more than 1 handler type";

fn validate_handler(h: &Handler<'_>, grace_period: Option<i64>, path: &Path) -> ErrorList {
    let mut errs = ErrorList::new();
    let mut n = 0;
    let mut one = |field: &str, errs: &mut ErrorList, check: &dyn Fn() -> ErrorList| {
        if n > 0 {
            errs.push(FieldError::forbidden(
                &path.child(field),
                MORE_THAN_ONE_HANDLER,
            ));
        } else {
            n += 1;
            errs.extend(check());
        }
    };
    if let Some(exec) = h.exec {
        one("exec", &mut errs, &|| {
            if items(&exec.command).is_empty() {
                vec![FieldError::required(
                    &path.child("exec").child("command"),
                    "",
                )]
            } else {
                Vec::new()
            }
        });
    }
    if let Some(http) = h.http_get {
        one("httpGet", &mut errs, &|| {
            validate_http_get(http, &path.child("httpGet"))
        });
    }
    if let Some(tcp) = h.tcp_socket {
        one("tcpSocket", &mut errs, &|| {
            validate_port_num_or_name(&tcp.port, &path.child("tcpSocket").child("port"))
        });
    }
    if let Some(grpc) = h.grpc {
        one("grpc", &mut errs, &|| {
            validate_port_num_or_name(
                &IntOrString::Int(grpc.port),
                &path.child("grpc").child("port"),
            )
        });
    }
    if let Some(sleep) = h.sleep {
        one("sleep", &mut errs, &|| {
            // PodLifecycleSleepActionAllowZero is alpha (off) in v1.32: zero is refused.
            match grace_period {
                Some(gp) if sleep.seconds <= 0 || sleep.seconds > gp => vec![FieldError::invalid(
                    &path.child("sleep"),
                    sleep.seconds,
                    format!(
                        "must be greater than 0 and less than terminationGracePeriodSeconds ({gp}). Enable AllowPodLifecycleSleepActionZeroValue feature gate for zero sleep."
                    ),
                )],
                _ => Vec::new(),
            }
        });
    }
    if n == 0 {
        errs.push(FieldError::required(path, "must specify a handler type"));
    }
    errs
}

fn validate_probe(p: &core::Probe, grace_period: Option<i64>, path: &Path) -> ErrorList {
    let handler = Handler {
        exec: p.exec.as_deref(),
        http_get: p.http_get.as_deref(),
        tcp_socket: p.tcp_socket.as_deref(),
        grpc: p.grpc.as_deref(),
        sleep: None,
    };
    let mut errs = validate_handler(&handler, grace_period, path);
    for (field, value) in [
        ("initialDelaySeconds", p.initial_delay_seconds),
        ("timeoutSeconds", p.timeout_seconds),
        ("periodSeconds", p.period_seconds),
        ("successThreshold", p.success_threshold),
        ("failureThreshold", p.failure_threshold),
    ] {
        errs.extend(meta::validate_nonnegative(
            i64::from(value.unwrap_or(0)),
            &path.child(field),
        ));
    }
    if let Some(t) = p.termination_grace_period_seconds
        && t <= 0
    {
        errs.push(FieldError::invalid(
            &path.child("terminationGracePeriodSeconds"),
            t,
            "must be greater than 0",
        ));
    }
    errs
}

fn validate_probes(c: &core::Container, grace_period: Option<i64>, path: &Path) -> ErrorList {
    let mut errs = ErrorList::new();
    if let Some(p) = &c.liveness_probe {
        let pp = path.child("livenessProbe");
        errs.extend(validate_probe(p, grace_period, &pp));
        let st = p.success_threshold.unwrap_or(0);
        if st != 1 {
            errs.push(FieldError::invalid(
                &pp.child("successThreshold"),
                st,
                "must be 1",
            ));
        }
    }
    if let Some(p) = &c.readiness_probe {
        let pp = path.child("readinessProbe");
        errs.extend(validate_probe(p, grace_period, &pp));
        if let Some(t) = p.termination_grace_period_seconds {
            errs.push(FieldError::invalid(
                &pp.child("terminationGracePeriodSeconds"),
                t,
                "must not be set for readinessProbes",
            ));
        }
    }
    if let Some(p) = &c.startup_probe {
        let pp = path.child("startupProbe");
        errs.extend(validate_probe(p, grace_period, &pp));
        let st = p.success_threshold.unwrap_or(0);
        if st != 1 {
            errs.push(FieldError::invalid(
                &pp.child("successThreshold"),
                st,
                "must be 1",
            ));
        }
    }
    errs
}

fn validate_lifecycle(l: &core::Lifecycle, grace_period: Option<i64>, path: &Path) -> ErrorList {
    let mut errs = ErrorList::new();
    for (field, h) in [("postStart", &l.post_start), ("preStop", &l.pre_stop)] {
        if let Some(h) = h {
            let handler = Handler {
                exec: h.exec.as_deref(),
                http_get: h.http_get.as_deref(),
                tcp_socket: h.tcp_socket.as_deref(),
                grpc: None,
                sleep: h.sleep.as_deref(),
            };
            errs.extend(validate_handler(&handler, grace_period, &path.child(field)));
        }
    }
    errs
}

const SECCOMP_TYPES: [&str; 3] = ["Localhost", "RuntimeDefault", "Unconfined"];

fn validate_seccomp_profile_field(sp: Option<&core::SeccompProfile>, path: &Path) -> ErrorList {
    let Some(sp) = sp else { return Vec::new() };
    let mut errs = ErrorList::new();
    match sp.type_.as_str() {
        "Localhost" | "RuntimeDefault" | "Unconfined" => {}
        "" => errs.push(FieldError::required(
            &path.child("type"),
            "type is required when seccompProfile is set",
        )),
        other => errs.push(FieldError::not_supported(
            &path.child("type"),
            other,
            &SECCOMP_TYPES,
        )),
    }
    if sp.type_ == "Localhost" {
        match &sp.localhost_profile {
            None => errs.push(FieldError::required(
                &path.child("localhostProfile"),
                "must be set when seccomp type is Localhost",
            )),
            Some(lp) => errs.extend(volumes::validate_local_descending_path(
                lp,
                &path.child("localhostProfile"),
            )),
        }
    } else if sp.localhost_profile.is_some() {
        let rendered = format!(
            "core.SeccompProfile{{Type:{}, LocalhostProfile:{}}}",
            go_quote(&sp.type_),
            gofmt::pointer("string", sp.localhost_profile.as_ref())
        );
        errs.push(FieldError::invalid(
            &path.child("localhostProfile"),
            gofmt::raw(rendered),
            "can only be set when seccomp type is Localhost",
        ));
    }
    errs
}

const APPARMOR_TYPES: [&str; 3] = ["Localhost", "RuntimeDefault", "Unconfined"];

fn validate_apparmor_profile_field(
    profile: Option<&core::AppArmorProfile>,
    path: &Path,
) -> ErrorList {
    let Some(profile) = profile else {
        return Vec::new();
    };
    let mut errs = ErrorList::new();
    match profile.type_.as_str() {
        "Localhost" => match &profile.localhost_profile {
            None => errs.push(FieldError::required(
                &path.child("localhostProfile"),
                "must be set when AppArmor type is Localhost",
            )),
            Some(lp) => {
                let trimmed = lp.trim();
                if trimmed != lp {
                    errs.push(FieldError::invalid(
                        &path.child("localhostProfile"),
                        lp.as_str(),
                        "must not be padded with whitespace",
                    ));
                } else if trimmed.is_empty() {
                    errs.push(FieldError::required(
                        &path.child("localhostProfile"),
                        "must be set when AppArmor type is Localhost",
                    ));
                }
                if lp.len() > 4095 {
                    errs.push(FieldError::too_long(&path.child("localhostProfile"), 4095));
                }
            }
        },
        "RuntimeDefault" | "Unconfined" => {
            if let Some(lp) = &profile.localhost_profile {
                errs.push(FieldError::invalid(
                    &path.child("localhostProfile"),
                    lp.as_str(),
                    "can only be set when AppArmor type is Localhost",
                ));
            }
        }
        "" => errs.push(FieldError::required(
            &path.child("type"),
            "type is required when appArmorProfile is set",
        )),
        other => errs.push(FieldError::not_supported(
            &path.child("type"),
            other,
            &APPARMOR_TYPES,
        )),
    }
    errs
}

/// A Windows domain: NetBIOS (`^[^\\/:*?"<>|.][^\\/:*?"<>|]{0,14}$`) or DNS syntax.
fn windows_domain_ok(domain: &str) -> bool {
    const ILLEGAL: &[char] = &['\\', '/', ':', '*', '?', '"', '<', '>', '|'];
    let netbios = {
        let chars: Vec<char> = domain.chars().collect();
        !chars.is_empty()
            && chars.len() <= 15
            && chars[0] != '.'
            && !chars.iter().any(|c| ILLEGAL.contains(c))
    };
    let label_ok = |l: &str| {
        let b = l.as_bytes();
        !b.is_empty()
            && b.len() <= 63
            && b[0].is_ascii_alphanumeric()
            && b[b.len() - 1].is_ascii_alphanumeric()
            && b.iter().all(|c| c.is_ascii_alphanumeric() || *c == b'-')
    };
    netbios || domain.split('.').all(label_ok)
}

fn validate_windows_options(
    w: Option<&core::WindowsSecurityContextOptions>,
    path: &Path,
) -> ErrorList {
    let Some(w) = w else { return Vec::new() };
    let mut errs = ErrorList::new();
    if let Some(name) = &w.gmsa_credential_spec_name {
        for msg in names::is_dns1123_subdomain(name) {
            errs.push(FieldError::invalid(
                &path.child("gmsaCredentialSpecName"),
                name.as_str(),
                msg,
            ));
        }
    }
    if let Some(spec) = &w.gmsa_credential_spec {
        if spec.is_empty() {
            errs.push(FieldError::invalid(
                &path.child("gmsaCredentialSpec"),
                "",
                "gmsaCredentialSpec cannot be an empty string",
            ));
        } else if spec.len() > 64 * 1024 {
            errs.push(FieldError::invalid(
                &path.child("gmsaCredentialSpec"),
                spec.as_str(),
                "gmsaCredentialSpec size must be under 64 KiB",
            ));
        }
    }
    if let Some(user) = &w.run_as_user_name {
        let p = path.child("runAsUserName");
        let parts: Vec<&str> = user.split('\\').collect();
        if user.is_empty() {
            errs.push(FieldError::invalid(
                &p,
                "",
                "runAsUserName cannot be an empty string",
            ));
        } else if user.chars().any(char::is_control) {
            errs.push(FieldError::invalid(
                &p,
                user.as_str(),
                "runAsUserName cannot contain control characters",
            ));
        } else if parts.len() > 2 {
            errs.push(FieldError::invalid(
                &p,
                user.as_str(),
                "runAsUserName cannot contain more than one backslash",
            ));
        } else {
            let (domain, name) = if parts.len() == 2 {
                (Some(parts[0]), parts[1])
            } else {
                (None, parts[0])
            };
            if domain.map_or(0, str::len) >= 256 {
                errs.push(FieldError::invalid(
                    &p,
                    user.as_str(),
                    "runAsUserName's Domain length must be under 256 characters",
                ));
            }
            if let Some(d) = domain
                && !windows_domain_ok(d)
            {
                errs.push(FieldError::invalid(
                    &p,
                    user.as_str(),
                    "runAsUserName's Domain doesn't match the NetBios nor the DNS format",
                ));
            }
            if name.is_empty() {
                errs.push(FieldError::invalid(
                    &p,
                    user.as_str(),
                    "runAsUserName's User cannot be empty",
                ));
            } else if name.len() > 104 {
                errs.push(FieldError::invalid(
                    &p,
                    user.as_str(),
                    "runAsUserName's User length must not be longer than 104 characters",
                ));
            }
            if !name.is_empty() && name.chars().all(|c| c == '.' || c == ' ') {
                errs.push(FieldError::invalid(
                    &p,
                    user.as_str(),
                    "runAsUserName's User cannot contain only periods or spaces",
                ));
            }
            if name.contains([
                '"', '/', '\\', ':', ';', '|', '=', ',', '+', '*', '?', '<', '>', '@', '[', ']',
            ]) {
                errs.push(FieldError::invalid(
                    &p,
                    user.as_str(),
                    "runAsUserName's User cannot contain the following characters: \"/\\:;|=,+*?<>@[]",
                ));
            }
        }
    }
    errs
}

/// `core.SecurityContext{...}` as Go's `%#v` prints it (pointers as placeholders).
fn go_security_context(sc: &core::SecurityContext) -> String {
    format!(
        "&core.SecurityContext{{Capabilities:{}, Privileged:{}, SELinuxOptions:{}, WindowsOptions:{}, RunAsUser:{}, RunAsGroup:{}, RunAsNonRoot:{}, ReadOnlyRootFilesystem:{}, AllowPrivilegeEscalation:{}, ProcMount:{}, SeccompProfile:{}, AppArmorProfile:{}}}",
        gofmt::pointer("core.Capabilities", sc.capabilities.as_ref()),
        gofmt::pointer("bool", sc.privileged.as_ref()),
        gofmt::pointer("core.SELinuxOptions", sc.se_linux_options.as_ref()),
        gofmt::pointer(
            "core.WindowsSecurityContextOptions",
            sc.windows_options.as_ref()
        ),
        gofmt::pointer("int64", sc.run_as_user.as_ref()),
        gofmt::pointer("int64", sc.run_as_group.as_ref()),
        gofmt::pointer("bool", sc.run_as_non_root.as_ref()),
        gofmt::pointer("bool", sc.read_only_root_filesystem.as_ref()),
        gofmt::pointer("bool", sc.allow_privilege_escalation.as_ref()),
        gofmt::pointer("core.ProcMountType", sc.proc_mount.as_ref()),
        gofmt::pointer("core.SeccompProfile", sc.seccomp_profile.as_ref()),
        gofmt::pointer("core.AppArmorProfile", sc.app_armor_profile.as_ref()),
    )
}

/// Upstream's `ValidateSecurityContext` (a container's).
fn validate_security_context(sc: Option<&core::SecurityContext>, path: &Path) -> ErrorList {
    let Some(sc) = sc else { return Vec::new() };
    let mut errs = ErrorList::new();
    if let Some(uid) = sc.run_as_user {
        for msg in names::is_valid_user_id(uid) {
            errs.push(FieldError::invalid(&path.child("runAsUser"), uid, msg));
        }
    }
    if let Some(gid) = sc.run_as_group {
        for msg in names::is_valid_group_id(gid) {
            errs.push(FieldError::invalid(&path.child("runAsGroup"), gid, msg));
        }
    }
    errs.extend(validate_seccomp_profile_field(
        sc.seccomp_profile.as_deref(),
        &path.child("seccompProfile"),
    ));
    if sc.allow_privilege_escalation == Some(false) {
        if sc.privileged == Some(true) {
            errs.push(FieldError::invalid(
                path,
                gofmt::raw(go_security_context(sc)),
                "cannot set `allowPrivilegeEscalation` to false and `privileged` to true",
            ));
        }
        if let Some(caps) = &sc.capabilities {
            for cap in items(&caps.add) {
                if cap == "CAP_SYS_ADMIN" {
                    errs.push(FieldError::invalid(
                        path,
                        gofmt::raw(go_security_context(sc)),
                        "cannot set `allowPrivilegeEscalation` to false and `capabilities.Add` CAP_SYS_ADMIN",
                    ));
                }
            }
        }
    }
    errs.extend(validate_windows_options(
        sc.windows_options.as_deref(),
        &path.child("windowsOptions"),
    ));
    errs.extend(validate_apparmor_profile_field(
        sc.app_armor_profile.as_deref(),
        &path.child("appArmorProfile"),
    ));
    errs
}

const TERMINATION_MESSAGE_POLICIES: [&str; 2] = ["File", "FallbackToLogsOnError"];

/// Upstream's `validateContainerCommon`: what every container (regular, init, ephemeral) needs.
fn validate_container_common(c: &core::Container, ctx: &PodCtx<'_>, path: &Path) -> ErrorList {
    let mut errs = ErrorList::new();
    let name_path = path.child("name");
    if c.name.is_empty() {
        errs.push(FieldError::required(&name_path, ""));
    } else {
        errs.extend(meta::validate_dns1123_label(&c.name, &name_path));
    }
    if s(&c.image).is_empty() {
        errs.push(FieldError::required(&path.child("image"), ""));
    }
    match s(&c.termination_message_policy) {
        "File" | "FallbackToLogsOnError" => {}
        "" => errs.push(FieldError::required(
            &path.child("terminationMessagePolicy"),
            "",
        )),
        other => errs.push(FieldError::not_supported(
            &path.child("terminationMessagePolicy"),
            other,
            &TERMINATION_MESSAGE_POLICIES,
        )),
    }
    errs.extend(validate_container_ports(
        items(&c.ports),
        &path.child("ports"),
    ));
    errs.extend(validate_env(items(&c.env), &path.child("env")));
    errs.extend(validate_env_from(
        items(&c.env_from),
        &path.child("envFrom"),
    ));
    errs.extend(validate_volume_mounts(c, ctx, &path.child("volumeMounts")));
    errs.extend(validate_volume_devices(
        c,
        ctx,
        &path.child("volumeDevices"),
    ));
    errs.extend(validate_pull_policy(
        s(&c.image_pull_policy),
        &path.child("imagePullPolicy"),
    ));
    if let Some(r) = &c.resources {
        errs.extend(resources::validate_container_resource_requirements(
            r,
            &path.child("resources"),
        ));
    }
    errs.extend(validate_security_context(
        c.security_context.as_deref(),
        &path.child("securityContext"),
    ));
    errs
}

fn validate_pull_policy(policy: &str, path: &Path) -> ErrorList {
    match policy {
        "Always" | "IfNotPresent" | "Never" => Vec::new(),
        "" => vec![FieldError::required(path, "")],
        other => vec![FieldError::not_supported(path, other, &PULL_POLICIES)],
    }
}

/// Upstream's `checkHostPortConflicts`: a protocol/hostIP/hostPort triple at most once.
fn check_host_port_conflicts(
    containers: &[&core::Container],
    indices: &[usize],
    path: &Path,
) -> ErrorList {
    let mut errs = ErrorList::new();
    let mut seen: BTreeSet<String> = BTreeSet::new();
    for (c, ci) in containers.iter().zip(indices) {
        for (pi, port) in items(&c.ports).iter().enumerate() {
            let hp = port.host_port.unwrap_or(0);
            if hp == 0 {
                continue;
            }
            let key = format!("{}/{}/{hp}", s(&port.protocol), s(&port.host_ip));
            if seen.contains(&key) {
                errs.push(FieldError::duplicate(
                    &path.index(*ci).child("ports").index(pi).child("hostPort"),
                    key,
                ));
            } else {
                seen.insert(key);
            }
        }
    }
    errs
}

fn validate_containers(containers: &[core::Container], ctx: &PodCtx<'_>, path: &Path) -> ErrorList {
    if containers.is_empty() {
        return vec![FieldError::required(path, "")];
    }
    let mut errs = ErrorList::new();
    let mut all_names: BTreeSet<&str> = BTreeSet::new();
    for (i, c) in containers.iter().enumerate() {
        let p = path.index(i);
        errs.extend(validate_container_common(c, ctx, &p));
        if !all_names.insert(c.name.as_str()) {
            errs.push(FieldError::duplicate(&p.child("name"), c.name.as_str()));
        }
        if let Some(l) = &c.lifecycle {
            errs.extend(validate_lifecycle(
                l,
                ctx.grace_period,
                &p.child("lifecycle"),
            ));
        }
        errs.extend(validate_probes(c, ctx.grace_period, &p));
        if c.restart_policy.is_some() {
            errs.push(FieldError::forbidden(
                &p.child("restartPolicy"),
                "may not be set for non-init containers",
            ));
        }
    }
    let all: Vec<&core::Container> = containers.iter().collect();
    let indices: Vec<usize> = (0..containers.len()).collect();
    errs.extend(check_host_port_conflicts(&all, &indices, path));
    errs
}

const INIT_FORBIDDEN: &str = "may not be set for init containers without restartPolicy=Always";

fn validate_init_containers(
    inits: &[core::Container],
    regular: &[core::Container],
    ctx: &PodCtx<'_>,
    path: &Path,
) -> ErrorList {
    let mut errs = ErrorList::new();
    let mut all_names: BTreeSet<&str> = regular.iter().map(|c| c.name.as_str()).collect();
    for (i, c) in inits.iter().enumerate() {
        let p = path.index(i);
        errs.extend(validate_container_common(c, ctx, &p));
        let mut restart_always = false;
        if let Some(rp) = &c.restart_policy {
            if rp != "Always" {
                errs.push(FieldError::not_supported(
                    &p.child("restartPolicy"),
                    rp.as_str(),
                    &["Always"],
                ));
            }
            restart_always = rp == "Always";
        }
        if all_names.contains(c.name.as_str()) {
            errs.push(FieldError::duplicate(&p.child("name"), c.name.as_str()));
        } else if !c.name.is_empty() {
            all_names.insert(c.name.as_str());
        }
        errs.extend(check_host_port_conflicts(&[c], &[i], path));
        if restart_always {
            if let Some(l) = &c.lifecycle {
                errs.extend(validate_lifecycle(
                    l,
                    ctx.grace_period,
                    &p.child("lifecycle"),
                ));
            }
            errs.extend(validate_probes(c, ctx.grace_period, &p));
        } else {
            for (field, set) in [
                ("lifecycle", c.lifecycle.is_some()),
                ("livenessProbe", c.liveness_probe.is_some()),
                ("readinessProbe", c.readiness_probe.is_some()),
                ("startupProbe", c.startup_probe.is_some()),
            ] {
                if set {
                    errs.push(FieldError::forbidden(&p.child(field), INIT_FORBIDDEN));
                }
            }
        }
    }
    errs
}

/// An ephemeral container seen as the container it shares its fields with.
fn ephemeral_as_container(ec: &core::EphemeralContainer) -> core::Container {
    core::Container {
        args: ec.args.clone(),
        command: ec.command.clone(),
        env: ec.env.clone(),
        env_from: ec.env_from.clone(),
        image: ec.image.clone(),
        image_pull_policy: ec.image_pull_policy.clone(),
        lifecycle: ec.lifecycle.clone(),
        liveness_probe: ec.liveness_probe.clone(),
        name: ec.name.clone(),
        ports: ec.ports.clone(),
        readiness_probe: ec.readiness_probe.clone(),
        resize_policy: ec.resize_policy.clone(),
        resources: ec.resources.clone(),
        restart_policy: ec.restart_policy.clone(),
        security_context: ec.security_context.clone(),
        startup_probe: ec.startup_probe.clone(),
        stdin: ec.stdin,
        stdin_once: ec.stdin_once,
        termination_message_path: ec.termination_message_path.clone(),
        termination_message_policy: ec.termination_message_policy.clone(),
        tty: ec.tty,
        volume_devices: ec.volume_devices.clone(),
        volume_mounts: ec.volume_mounts.clone(),
        working_dir: ec.working_dir.clone(),
    }
}

fn validate_ephemeral_containers(spec: &core::PodSpec, ctx: &PodCtx<'_>, path: &Path) -> ErrorList {
    let ecs = items(&spec.ephemeral_containers);
    if ecs.is_empty() {
        return Vec::new();
    }
    let mut errs = ErrorList::new();
    let other: BTreeSet<&str> = spec
        .containers
        .iter()
        .chain(items(&spec.init_containers))
        .map(|c| c.name.as_str())
        .collect();
    let mut all = other.clone();
    for (i, ec) in ecs.iter().enumerate() {
        let p = path.index(i);
        let c = ephemeral_as_container(ec);
        errs.extend(validate_container_common(&c, ctx, &p));
        errs.extend(validate_container_only_for_pod(&c, &p));
        if all.contains(ec.name.as_str()) {
            errs.push(FieldError::duplicate(&p.child("name"), ec.name.as_str()));
        } else {
            all.insert(ec.name.as_str());
        }
        let target = s(&ec.target_container_name);
        if !target.is_empty() && !other.contains(target) {
            errs.push(FieldError::not_found(
                &p.child("targetContainerName"),
                target,
            ));
        }
        const NOT_FOR_EPHEMERAL: &str = "cannot be set for an Ephemeral Container";
        for (field, set) in [
            ("ports", ec.ports.as_ref().is_some_and(|v| !v.is_empty())),
            (
                "resources",
                ec.resources.as_ref().is_some_and(|r| {
                    r.limits.is_some() || r.requests.is_some() || r.claims.is_some()
                }),
            ),
            ("livenessProbe", ec.liveness_probe.is_some()),
            ("readinessProbe", ec.readiness_probe.is_some()),
            ("startupProbe", ec.startup_probe.is_some()),
            ("lifecycle", ec.lifecycle.is_some()),
        ] {
            if set {
                errs.push(FieldError::forbidden(&p.child(field), NOT_FOR_EPHEMERAL));
            }
        }
        for (j, vm) in items(&ec.volume_mounts).iter().enumerate() {
            if !s(&vm.sub_path).is_empty() {
                errs.push(FieldError::forbidden(
                    &p.child("volumeMounts").index(j).child("subPath"),
                    NOT_FOR_EPHEMERAL,
                ));
            }
            if !s(&vm.sub_path_expr).is_empty() {
                errs.push(FieldError::forbidden(
                    &p.child("volumeMounts").index(j).child("subPathExpr"),
                    NOT_FOR_EPHEMERAL,
                ));
            }
        }
    }
    errs
}

/// Upstream's `validateContainerOnlyForPod`: no padding around a Pod's image names.
pub(crate) fn validate_container_only_for_pod(c: &core::Container, path: &Path) -> ErrorList {
    let image = s(&c.image);
    if image.trim() != image {
        return vec![FieldError::invalid(
            &path.child("image"),
            image,
            "must not have leading or trailing whitespace",
        )];
    }
    Vec::new()
}

const RESTART_POLICIES: [&str; 3] = ["Always", "OnFailure", "Never"];
const DNS_POLICIES: [&str; 4] = ["ClusterFirstWithHostNet", "ClusterFirst", "Default", "None"];

fn validate_dns_config(spec: &core::PodSpec, path: &Path) -> ErrorList {
    let mut errs = ErrorList::new();
    let cfg = spec.dns_config.as_ref();
    if s(&spec.dns_policy) == "None" {
        let Some(c) = cfg else {
            return vec![FieldError::required(
                path,
                "must provide `dnsConfig` when `dnsPolicy` is None",
            )];
        };
        if items(&c.nameservers).is_empty() {
            return vec![FieldError::required(
                &path.child("nameservers"),
                "must provide at least one DNS nameserver when `dnsPolicy` is None",
            )];
        }
    }
    let Some(c) = cfg else { return errs };
    let servers = items(&c.nameservers);
    if servers.len() > 3 {
        errs.push(FieldError::invalid(
            &path.child("nameservers"),
            gofmt::raw(gofmt::string_slice(c.nameservers.as_deref())),
            "must not have more than 3 nameservers",
        ));
    }
    for (i, ns) in servers.iter().enumerate() {
        errs.extend(names::is_valid_ip(&path.child("nameservers").index(i), ns));
    }
    let searches = items(&c.searches);
    if searches.len() > 32 {
        errs.push(FieldError::invalid(
            &path.child("searches"),
            gofmt::raw(gofmt::string_slice(c.searches.as_deref())),
            "must not have more than 32 search paths",
        ));
    }
    if searches.join(" ").len() > 2048 {
        errs.push(FieldError::invalid(
            &path.child("searches"),
            gofmt::raw(gofmt::string_slice(c.searches.as_deref())),
            "must not have more than 2048 characters (including spaces) in the search list",
        ));
    }
    // RelaxedDNSSearchValidation is alpha (off) in v1.32: searches are DNS subdomains.
    for (i, search) in searches.iter().enumerate() {
        let trimmed = search.strip_suffix('.').unwrap_or(search);
        errs.extend(meta::validate_dns1123_subdomain(
            trimmed,
            &path.child("searches").index(i),
        ));
    }
    for (i, option) in items(&c.options).iter().enumerate() {
        if s(&option.name).is_empty() {
            errs.push(FieldError::required(
                &path.child("options").index(i),
                "must not be empty",
            ));
        }
    }
    errs
}

const NODE_SELECTOR_OPERATORS_IN: [&str; 2] = ["In", "NotIn"];

fn validate_node_selector_requirement(
    r: &core::NodeSelectorRequirement,
    allow_invalid_values: bool,
    path: &Path,
) -> ErrorList {
    let mut errs = ErrorList::new();
    let values = items(&r.values);
    match r.operator.as_str() {
        op if NODE_SELECTOR_OPERATORS_IN.contains(&op) => {
            if values.is_empty() {
                errs.push(FieldError::required(
                    &path.child("values"),
                    "must be specified when `operator` is 'In' or 'NotIn'",
                ));
            }
        }
        "Exists" | "DoesNotExist" => {
            if !values.is_empty() {
                errs.push(FieldError::forbidden(
                    &path.child("values"),
                    "may not be specified when `operator` is 'Exists' or 'DoesNotExist'",
                ));
            }
        }
        "Gt" | "Lt" => {
            if values.len() != 1 {
                errs.push(FieldError::required(
                    &path.child("values"),
                    "must be specified single value when `operator` is 'Lt' or 'Gt'",
                ));
            }
        }
        other => errs.push(FieldError::invalid(
            &path.child("operator"),
            other,
            "not a valid selector operator",
        )),
    }
    errs.extend(meta::validate_label_name(&r.key, &path.child("key")));
    if !allow_invalid_values {
        for (i, v) in values.iter().enumerate() {
            for msg in names::is_valid_label_value(v) {
                errs.push(FieldError::invalid(
                    &path.child("values").index(i),
                    v.as_str(),
                    msg,
                ));
            }
        }
    }
    errs
}

fn validate_node_field_selector_requirement(
    r: &core::NodeSelectorRequirement,
    path: &Path,
) -> ErrorList {
    let mut errs = ErrorList::new();
    let values = items(&r.values);
    match r.operator.as_str() {
        "In" | "NotIn" => {
            if values.len() != 1 {
                errs.push(FieldError::required(
                    &path.child("values"),
                    "must be only one value when `operator` is 'In' or 'NotIn' for node field selector",
                ));
            }
        }
        other => errs.push(FieldError::invalid(
            &path.child("operator"),
            other,
            "not a valid selector operator",
        )),
    }
    if r.key == "metadata.name" {
        for (i, v) in values.iter().enumerate() {
            errs.extend(meta::validate_name(
                names::name_is_dns_subdomain,
                v,
                &path.child("values").index(i),
            ));
        }
    } else {
        errs.push(FieldError::invalid(
            &path.child("key"),
            r.key.as_str(),
            "not a valid field selector key",
        ));
    }
    errs
}

fn validate_node_selector_term(
    term: &core::NodeSelectorTerm,
    allow_invalid_values: bool,
    path: &Path,
) -> ErrorList {
    let mut errs = ErrorList::new();
    for (j, r) in items(&term.match_expressions).iter().enumerate() {
        errs.extend(validate_node_selector_requirement(
            r,
            allow_invalid_values,
            &path.child("matchExpressions").index(j),
        ));
    }
    for (j, r) in items(&term.match_fields).iter().enumerate() {
        errs.extend(validate_node_field_selector_requirement(
            r,
            &path.child("matchFields").index(j),
        ));
    }
    errs
}

/// Upstream's `ValidateNodeSelector` (required node affinity, PV node affinity).
pub(crate) fn validate_node_selector(
    ns: &core::NodeSelector,
    allow_invalid_values: bool,
    path: &Path,
) -> ErrorList {
    let terms_path = path.child("nodeSelectorTerms");
    if ns.node_selector_terms.is_empty() {
        return vec![FieldError::required(
            &terms_path,
            "must have at least one node selector term",
        )];
    }
    let mut errs = ErrorList::new();
    for (i, term) in ns.node_selector_terms.iter().enumerate() {
        errs.extend(validate_node_selector_term(
            term,
            allow_invalid_values,
            &terms_path.index(i),
        ));
    }
    errs
}

fn validate_label_keys(
    path: &Path,
    keys: &[String],
    selector: Option<&LabelSelector>,
) -> ErrorList {
    if keys.is_empty() {
        return Vec::new();
    }
    if selector.is_none() {
        return vec![FieldError::forbidden(
            path,
            "must not be specified when labelSelector is not set",
        )];
    }
    keys.iter()
        .enumerate()
        .flat_map(|(i, k)| meta::validate_label_name(k, &path.index(i)))
        .collect()
}

fn validate_pod_affinity_term(t: &core::PodAffinityTerm, path: &Path) -> ErrorList {
    let opts = SelectorOpts::default();
    let mut errs = meta::validate_label_selector(
        t.label_selector.as_deref(),
        opts,
        &path.child("labelSelector"),
    );
    errs.extend(meta::validate_label_selector(
        t.namespace_selector.as_deref(),
        opts,
        &path.child("namespaceSelector"),
    ));
    for ns in items(&t.namespaces) {
        errs.extend(meta::validate_name(
            names::name_is_dns_label,
            ns,
            &path.child("namespace"),
        ));
    }
    // matchLabelKeys / mismatchLabelKeys (MatchLabelKeysInPodAffinity is beta, on, in v1.32).
    let match_keys = items(&t.match_label_keys);
    let mismatch_keys = items(&t.mismatch_label_keys);
    errs.extend(validate_label_keys(
        &path.child("matchLabelKeys"),
        match_keys,
        t.label_selector.as_deref(),
    ));
    errs.extend(validate_label_keys(
        &path.child("mismatchLabelKeys"),
        mismatch_keys,
        t.label_selector.as_deref(),
    ));
    if let Some(sel) = &t.label_selector {
        let key_index: SortedMap<&str, usize> = match_keys
            .iter()
            .enumerate()
            .map(|(i, k)| (k.as_str(), i))
            .collect();
        let mut selector_keys: BTreeSet<&str> = sel
            .match_labels
            .iter()
            .flatten()
            .map(|(k, _)| k.as_str())
            .collect();
        for e in items(&sel.match_expressions) {
            if let Some(i) = key_index.get(e.key.as_str())
                && selector_keys.contains(e.key.as_str())
            {
                errs.push(FieldError::invalid(
                    &path.index(*i),
                    e.key.as_str(),
                    "exists in both matchLabelKeys and labelSelector",
                ));
            }
            selector_keys.insert(e.key.as_str());
        }
    }
    for (i, k) in match_keys.iter().enumerate() {
        if mismatch_keys.contains(k) {
            errs.push(FieldError::invalid(
                &path.child("matchLabelKeys").index(i),
                k.as_str(),
                "exists in both matchLabelKeys and mismatchLabelKeys",
            ));
        }
    }
    if t.topology_key.is_empty() {
        errs.push(FieldError::required(
            &path.child("topologyKey"),
            "can not be empty",
        ));
    }
    errs.extend(meta::validate_label_name(
        &t.topology_key,
        &path.child("topologyKey"),
    ));
    errs
}

fn validate_pod_affinity_terms(terms: &[core::PodAffinityTerm], path: &Path) -> ErrorList {
    terms
        .iter()
        .enumerate()
        .flat_map(|(i, t)| validate_pod_affinity_term(t, &path.index(i)))
        .collect()
}

fn validate_weighted_pod_affinity_terms(
    terms: &[core::WeightedPodAffinityTerm],
    path: &Path,
) -> ErrorList {
    let mut errs = ErrorList::new();
    for (j, t) in terms.iter().enumerate() {
        if t.weight <= 0 || t.weight > 100 {
            errs.push(FieldError::invalid(
                &path.index(j).child("weight"),
                t.weight,
                "must be in the range 1-100",
            ));
        }
        errs.extend(validate_pod_affinity_term(
            &t.pod_affinity_term,
            &path.index(j).child("podAffinityTerm"),
        ));
    }
    errs
}

fn validate_affinity(a: Option<&core::Affinity>, path: &Path) -> ErrorList {
    let Some(a) = a else { return Vec::new() };
    let mut errs = ErrorList::new();
    if let Some(na) = &a.node_affinity {
        let p = path.child("nodeAffinity");
        if let Some(req) = &na.required_during_scheduling_ignored_during_execution {
            errs.extend(validate_node_selector(
                req,
                false,
                &p.child("requiredDuringSchedulingIgnoredDuringExecution"),
            ));
        }
        let preferred = items(&na.preferred_during_scheduling_ignored_during_execution);
        let pp = p.child("preferredDuringSchedulingIgnoredDuringExecution");
        for (i, term) in preferred.iter().enumerate() {
            if term.weight <= 0 || term.weight > 100 {
                errs.push(FieldError::invalid(
                    &pp.index(i).child("weight"),
                    term.weight,
                    "must be in the range 1-100",
                ));
            }
            // Invalid label values are allowed in preferred terms.
            errs.extend(validate_node_selector_term(
                &term.preference,
                true,
                &pp.index(i).child("preference"),
            ));
        }
    }
    for (field, pa) in [
        (
            "podAffinity",
            a.pod_affinity.as_ref().map(|p| {
                (
                    &p.required_during_scheduling_ignored_during_execution,
                    &p.preferred_during_scheduling_ignored_during_execution,
                )
            }),
        ),
        (
            "podAntiAffinity",
            a.pod_anti_affinity.as_ref().map(|p| {
                (
                    &p.required_during_scheduling_ignored_during_execution,
                    &p.preferred_during_scheduling_ignored_during_execution,
                )
            }),
        ),
    ] {
        let Some((required, preferred)) = pa else {
            continue;
        };
        let p = path.child(field);
        if let Some(req) = required {
            errs.extend(validate_pod_affinity_terms(
                req,
                &p.child("requiredDuringSchedulingIgnoredDuringExecution"),
            ));
        }
        if let Some(pref) = preferred {
            errs.extend(validate_weighted_pod_affinity_terms(
                pref,
                &p.child("preferredDuringSchedulingIgnoredDuringExecution"),
            ));
        }
    }
    errs
}

const TAINT_EFFECTS: [&str; 3] = ["NoSchedule", "PreferNoSchedule", "NoExecute"];

/// Upstream's `validateTaintEffect`.
pub(crate) fn validate_taint_effect(effect: &str, allow_empty: bool, path: &Path) -> ErrorList {
    if !allow_empty && effect.is_empty() {
        return vec![FieldError::required(path, "")];
    }
    if TAINT_EFFECTS.contains(&effect) {
        Vec::new()
    } else {
        vec![FieldError::not_supported(path, effect, &TAINT_EFFECTS)]
    }
}

/// Upstream's `ValidateTolerations`.
pub(crate) fn validate_tolerations(tolerations: &[core::Toleration], path: &Path) -> ErrorList {
    let mut errs = ErrorList::new();
    for (i, t) in tolerations.iter().enumerate() {
        let p = path.index(i);
        let (key, op, value, effect) = (s(&t.key), s(&t.operator), s(&t.value), s(&t.effect));
        if !key.is_empty() {
            errs.extend(meta::validate_label_name(key, &p.child("key")));
        }
        if key.is_empty() && op != "Exists" {
            errs.push(FieldError::invalid(
                &p.child("operator"),
                op,
                "operator must be Exists when `key` is empty, which means \"match all values and all keys\"",
            ));
        }
        if t.toleration_seconds.is_some() && effect != "NoExecute" {
            errs.push(FieldError::invalid(
                &p.child("effect"),
                effect,
                "effect must be 'NoExecute' when `tolerationSeconds` is set",
            ));
        }
        match op {
            "Equal" | "" => {
                let msgs = names::is_valid_label_value(value);
                if !msgs.is_empty() {
                    errs.push(FieldError::invalid(
                        &p.child("operator"),
                        value,
                        msgs.join(";"),
                    ));
                }
            }
            "Exists" => {
                if !value.is_empty() {
                    // Upstream reports the whole toleration as the bad value.
                    let rendered = format!(
                        "core.Toleration{{Key:{}, Operator:{}, Value:{}, Effect:{}, TolerationSeconds:{}}}",
                        go_quote(key),
                        go_quote(op),
                        go_quote(value),
                        go_quote(effect),
                        gofmt::pointer("int64", t.toleration_seconds.as_ref())
                    );
                    errs.push(FieldError::invalid(
                        &p.child("operator"),
                        gofmt::raw(rendered),
                        "value must be empty when `operator` is 'Exists'",
                    ));
                }
            }
            other => errs.push(FieldError::not_supported(
                &p.child("operator"),
                other,
                &["Equal", "Exists"],
            )),
        }
        if !effect.is_empty() {
            errs.extend(validate_taint_effect(effect, true, &p.child("effect")));
        }
    }
    errs
}

const WHEN_UNSATISFIABLE: [&str; 2] = ["DoNotSchedule", "ScheduleAnyway"];
const NODE_INCLUSION_POLICIES: [&str; 2] = ["Honor", "Ignore"];

fn validate_topology_spread_constraints(
    constraints: &[core::TopologySpreadConstraint],
    path: &Path,
) -> ErrorList {
    let mut errs = ErrorList::new();
    for (i, c) in constraints.iter().enumerate() {
        let p = path.index(i);
        if c.max_skew <= 0 {
            errs.push(FieldError::invalid(
                &p.child("maxSkew"),
                c.max_skew,
                "must be greater than zero",
            ));
        }
        if c.topology_key.is_empty() {
            errs.push(FieldError::required(
                &p.child("topologyKey"),
                "can not be empty",
            ));
        }
        if !WHEN_UNSATISFIABLE.contains(&c.when_unsatisfiable.as_str()) {
            errs.push(FieldError::not_supported(
                &p.child("whenUnsatisfiable"),
                c.when_unsatisfiable.as_str(),
                &WHEN_UNSATISFIABLE,
            ));
        }
        let rest = constraints.get(i + 1..).unwrap_or(&[]);
        if rest.iter().any(|o| {
            o.topology_key == c.topology_key && o.when_unsatisfiable == c.when_unsatisfiable
        }) {
            errs.push(FieldError::duplicate(
                &p.child("{topologyKey, whenUnsatisfiable}"),
                format!("{{{}, {}}}", c.topology_key, c.when_unsatisfiable),
            ));
        }
        if let Some(md) = c.min_domains {
            if md <= 0 {
                errs.push(FieldError::invalid(
                    &p.child("minDomains"),
                    md,
                    "must be greater than zero",
                ));
            }
            if c.when_unsatisfiable != "DoNotSchedule" {
                errs.push(FieldError::invalid(
                    &p.child("minDomains"),
                    md,
                    format!(
                        "can only use minDomains if whenUnsatisfiable=DoNotSchedule, not {}",
                        c.when_unsatisfiable
                    ),
                ));
            }
        }
        for (field, policy) in [
            ("nodeAffinityPolicy", &c.node_affinity_policy),
            ("nodeTaintsPolicy", &c.node_taints_policy),
        ] {
            if let Some(policy) = policy
                && !NODE_INCLUSION_POLICIES.contains(&policy.as_str())
            {
                errs.push(FieldError::not_supported(
                    &p.child(field),
                    policy.as_str(),
                    &NODE_INCLUSION_POLICIES,
                ));
            }
        }
        let match_keys = items(&c.match_label_keys);
        if !match_keys.is_empty() {
            let mk_path = p.child("matchLabelKeys");
            let selector_keys: BTreeSet<&str> = match &c.label_selector {
                Some(sel) => sel
                    .match_labels
                    .iter()
                    .flatten()
                    .map(|(k, _)| k.as_str())
                    .chain(items(&sel.match_expressions).iter().map(|e| e.key.as_str()))
                    .collect(),
                None => {
                    errs.push(FieldError::forbidden(
                        &mk_path,
                        "must not be specified when labelSelector is not set",
                    ));
                    BTreeSet::new()
                }
            };
            for (j, key) in match_keys.iter().enumerate() {
                errs.extend(meta::validate_label_name(key, &mk_path.index(j)));
                if selector_keys.contains(key.as_str()) {
                    errs.push(FieldError::invalid(
                        &mk_path.index(j),
                        key.as_str(),
                        "exists in both matchLabelKeys and labelSelector",
                    ));
                }
            }
        }
        errs.extend(meta::validate_label_selector(
            c.label_selector.as_deref(),
            SelectorOpts::default(),
            &p.child("labelSelector"),
        ));
    }
    errs
}

/// Whether the pod spec has a security context once upstream's conversion has moved the
/// host-namespace switches into it.
fn has_pod_security_context(spec: &core::PodSpec) -> bool {
    spec.security_context.is_some()
        || spec.host_network == Some(true)
        || spec.host_pid == Some(true)
        || spec.host_ipc == Some(true)
        || spec.share_process_namespace.is_some()
}

/// The Linux namespace a sysctl belongs to (`net` or `ipc`), if any. A name whose first
/// separator is a slash uses slashes and dots the other way round (`net/ipv4.conf`).
fn sysctl_namespace(name: &str) -> Option<&'static str> {
    let slash_first = name
        .find(['.', '/'])
        .is_some_and(|i| name.as_bytes().get(i) == Some(&b'/'));
    let normalized: String = if slash_first {
        name.chars()
            .map(|c| match c {
                '/' => '.',
                '.' => '/',
                c => c,
            })
            .collect()
    } else {
        name.to_owned()
    };
    let n = normalized.as_str();
    if n == "kernel.sem"
        || n.starts_with("kernel.shm")
        || n.starts_with("kernel.msg")
        || n.starts_with("fs.mqueue.")
    {
        Some("ipc")
    } else if n.starts_with("net.") {
        Some("net")
    } else {
        None
    }
}

const SYSCTL_REGEX: &str =
    r"^([a-z0-9]([-_a-z0-9]*[a-z0-9])?[\./])*[a-z0-9]([-_a-z0-9]*[a-z0-9])?$";
const FS_GROUP_CHANGE_POLICIES: [&str; 2] = ["Always", "OnRootMismatch"];

fn validate_pod_security_context(spec: &core::PodSpec, path: &Path) -> ErrorList {
    let mut errs = ErrorList::new();
    if !has_pod_security_context(spec) {
        return errs;
    }
    let default = core::PodSecurityContext::default();
    let sc = spec.security_context.as_deref().unwrap_or(&default);
    if let Some(g) = sc.fs_group {
        for msg in names::is_valid_group_id(g) {
            errs.push(FieldError::invalid(&path.child("fsGroup"), g, msg));
        }
    }
    if let Some(u) = sc.run_as_user {
        for msg in names::is_valid_user_id(u) {
            errs.push(FieldError::invalid(&path.child("runAsUser"), u, msg));
        }
    }
    if let Some(g) = sc.run_as_group {
        for msg in names::is_valid_group_id(g) {
            errs.push(FieldError::invalid(&path.child("runAsGroup"), g, msg));
        }
    }
    for (i, g) in items(&sc.supplemental_groups).iter().enumerate() {
        for msg in names::is_valid_group_id(*g) {
            errs.push(FieldError::invalid(
                &path.child("supplementalGroups").index(i),
                *g,
                msg,
            ));
        }
    }
    if spec.share_process_namespace == Some(true) && spec.host_pid == Some(true) {
        errs.push(FieldError::invalid(
            &path.child("shareProcessNamespace"),
            true,
            "ShareProcessNamespace and HostPID cannot both be enabled",
        ));
    }
    let sysctls = items(&sc.sysctls);
    let mut seen: BTreeSet<&str> = BTreeSet::new();
    for (i, sysctl) in sysctls.iter().enumerate() {
        let np = path.child("sysctls").index(i).child("name");
        if sysctl.name.is_empty() {
            errs.push(FieldError::required(&np, ""));
        } else if !names::is_valid_sysctl_name(&sysctl.name) {
            errs.push(FieldError::invalid(
                &np,
                sysctl.name.as_str(),
                format!("must have at most 253 characters and match regex {SYSCTL_REGEX}"),
            ));
        } else if seen.contains(sysctl.name.as_str()) {
            errs.push(FieldError::duplicate(&np, sysctl.name.as_str()));
        }
        match sysctl_namespace(&sysctl.name) {
            Some("net") if spec.host_network == Some(true) => {
                errs.push(FieldError::invalid(
                    &np,
                    sysctl.name.as_str(),
                    "may not be specified when 'hostNetwork' is true",
                ));
            }
            Some("ipc") if spec.host_ipc == Some(true) => {
                errs.push(FieldError::invalid(
                    &np,
                    sysctl.name.as_str(),
                    "may not be specified when 'hostIPC' is true",
                ));
            }
            _ => {}
        }
        seen.insert(sysctl.name.as_str());
    }
    if let Some(p) = &sc.fs_group_change_policy
        && !FS_GROUP_CHANGE_POLICIES.contains(&p.as_str())
    {
        errs.push(FieldError::not_supported(
            &path.child("fsGroupChangePolicy"),
            p.as_str(),
            &FS_GROUP_CHANGE_POLICIES,
        ));
    }
    errs.extend(validate_seccomp_profile_field(
        sc.seccomp_profile.as_deref(),
        &path.child("seccompProfile"),
    ));
    errs.extend(validate_windows_options(
        sc.windows_options.as_deref(),
        &path.child("windowsOptions"),
    ));
    errs.extend(validate_apparmor_profile_field(
        sc.app_armor_profile.as_deref(),
        &path.child("appArmorProfile"),
    ));
    errs
}

/// Every container of the spec with its path: init containers, containers, then ephemeral
/// containers (upstream's `VisitContainersWithPath` order).
fn visit_containers(spec: &core::PodSpec, path: &Path) -> Vec<(core::Container, Path)> {
    let mut out: Vec<(core::Container, Path)> = Vec::new();
    for (i, c) in items(&spec.init_containers).iter().enumerate() {
        out.push((c.clone(), path.child("initContainers").index(i)));
    }
    for (i, c) in spec.containers.iter().enumerate() {
        out.push((c.clone(), path.child("containers").index(i)));
    }
    for (i, c) in items(&spec.ephemeral_containers).iter().enumerate() {
        out.push((
            ephemeral_as_container(c),
            path.child("ephemeralContainers").index(i),
        ));
    }
    out
}

fn validate_windows_host_process(spec: &core::PodSpec, path: &Path) -> ErrorList {
    let mut errs = ErrorList::new();
    let pod_hp = spec
        .security_context
        .as_ref()
        .and_then(|sc| sc.windows_options.as_ref())
        .and_then(|w| w.host_process);
    let (mut count, mut hp_count) = (0, 0);
    for (c, cpath) in visit_containers(spec, path) {
        count += 1;
        let c_hp = c
            .security_context
            .as_ref()
            .and_then(|sc| sc.windows_options.as_ref())
            .and_then(|w| w.host_process);
        if let (Some(p), Some(ch)) = (pod_hp, c_hp)
            && p != ch
        {
            errs.push(FieldError::invalid(
                &cpath
                    .child("securityContext")
                    .child("windowsOptions")
                    .child("hostProcess"),
                ch,
                format!("pod hostProcess value must be identical if both are specified, was {p}"),
            ));
        }
        if c_hp == Some(true) || (c_hp.is_none() && pod_hp == Some(true)) {
            hp_count += 1;
        }
    }
    if hp_count > 0 {
        if hp_count != count {
            errs.push(FieldError::invalid(path, "", "If pod contains any hostProcess containers then all containers must be HostProcess containers"));
        }
        if spec.host_network != Some(true) {
            errs.push(FieldError::invalid(
                &path.child("hostNetwork"),
                false,
                "hostNetwork must be true if pod contains any hostProcess containers",
            ));
        }
    }
    errs
}

fn validate_os(spec: &core::PodSpec, path: &Path) -> ErrorList {
    let Some(os) = &spec.os else {
        return Vec::new();
    };
    let os_path = path.child("os");
    if os.name.is_empty() {
        return vec![FieldError::required(
            &os_path.child("name"),
            "cannot be empty",
        )];
    }
    if os.name != "linux" && os.name != "windows" {
        return vec![FieldError::not_supported(
            &os_path,
            os.name.as_str(),
            &["linux", "windows"],
        )];
    }
    let mut errs = ErrorList::new();
    const FOR_LINUX: &str = "windows options cannot be set for a linux pod";
    const FOR_WINDOWS: &str = "cannot be set for a windows pod";
    let sc_path = path.child("securityContext");
    if os.name == "linux" {
        if spec
            .security_context
            .as_ref()
            .is_some_and(|sc| sc.windows_options.is_some())
        {
            errs.push(FieldError::forbidden(
                &sc_path.child("windowsOptions"),
                FOR_LINUX,
            ));
        }
        for (c, cpath) in visit_containers(spec, path) {
            if c.security_context
                .as_ref()
                .is_some_and(|sc| sc.windows_options.is_some())
            {
                errs.push(FieldError::forbidden(
                    &cpath.child("securityContext").child("windowsOptions"),
                    FOR_LINUX,
                ));
            }
        }
        return errs;
    }
    if has_pod_security_context(spec) {
        let default = core::PodSecurityContext::default();
        let sc = spec.security_context.as_deref().unwrap_or(&default);
        for (p, set) in [
            (
                sc_path.child("appArmorProfile"),
                sc.app_armor_profile.is_some(),
            ),
            (
                sc_path.child("seLinuxOptions"),
                sc.se_linux_options.is_some(),
            ),
            (path.child("hostPID"), spec.host_pid == Some(true)),
            (path.child("hostIPC"), spec.host_ipc == Some(true)),
            (
                sc_path.child("seccompProfile"),
                sc.seccomp_profile.is_some(),
            ),
            (sc_path.child("fsGroup"), sc.fs_group.is_some()),
            (
                sc_path.child("fsGroupChangePolicy"),
                sc.fs_group_change_policy.is_some(),
            ),
            (sc_path.child("sysctls"), !items(&sc.sysctls).is_empty()),
            (
                path.child("shareProcessNamespace"),
                spec.share_process_namespace.is_some(),
            ),
            (sc_path.child("runAsUser"), sc.run_as_user.is_some()),
            (sc_path.child("runAsGroup"), sc.run_as_group.is_some()),
            (
                sc_path.child("supplementalGroups"),
                sc.supplemental_groups.is_some(),
            ),
        ] {
            if set {
                errs.push(FieldError::forbidden(&p, FOR_WINDOWS));
            }
        }
    }
    for (c, cpath) in visit_containers(spec, path) {
        let Some(sc) = &c.security_context else {
            continue;
        };
        let p = cpath.child("securityContext");
        for (field, set) in [
            ("appArmorProfile", sc.app_armor_profile.is_some()),
            ("seLinuxOptions", sc.se_linux_options.is_some()),
            ("seccompProfile", sc.seccomp_profile.is_some()),
            ("capabilities", sc.capabilities.is_some()),
            (
                "readOnlyRootFilesystem",
                sc.read_only_root_filesystem.is_some(),
            ),
            ("privileged", sc.privileged.is_some()),
            (
                "allowPrivilegeEscalation",
                sc.allow_privilege_escalation.is_some(),
            ),
            ("procMount", sc.proc_mount.is_some()),
            ("runAsUser", sc.run_as_user.is_some()),
            ("runAsGroup", sc.run_as_group.is_some()),
        ] {
            if set {
                errs.push(FieldError::forbidden(&p.child(field), FOR_WINDOWS));
            }
        }
    }
    errs
}

/// Upstream's `ValidatePodSpec`. `pod_meta` is the metadata of a real Pod (not a template),
/// used to check the names of the PVCs its ephemeral volumes create.
pub(crate) fn validate_pod_spec(
    spec: &core::PodSpec,
    pod_meta: Option<&ObjectMeta>,
    path: &Path,
    opts: PodOpts,
) -> ErrorList {
    let mut errs = ErrorList::new();
    if spec.termination_grace_period_seconds.is_none() {
        errs.push(FieldError::required(
            &path.child("terminationGracePeriodSeconds"),
            "",
        ));
    }
    let (vols, vol_errs) =
        volumes::validate_volumes(items(&spec.volumes), pod_meta, &path.child("volumes"));
    errs.extend(vol_errs);
    let ctx = PodCtx {
        grace_period: spec.termination_grace_period_seconds,
        volumes: &vols,
    };
    errs.extend(validate_containers(
        &spec.containers,
        &ctx,
        &path.child("containers"),
    ));
    errs.extend(validate_init_containers(
        items(&spec.init_containers),
        &spec.containers,
        &ctx,
        &path.child("initContainers"),
    ));
    errs.extend(validate_ephemeral_containers(
        spec,
        &ctx,
        &path.child("ephemeralContainers"),
    ));
    // Host network: a Pod's host ports must equal its container ports (templates may leave 0).
    if spec.host_network == Some(true) {
        for (i, c) in spec.containers.iter().enumerate() {
            for (j, port) in items(&c.ports).iter().enumerate() {
                let (hp, cp) = (port.host_port.unwrap_or(0), port.container_port);
                if (opts.resource_is_pod || hp != 0) && hp != cp {
                    errs.push(FieldError::invalid(
                        &path
                            .child("containers")
                            .index(i)
                            .child("ports")
                            .index(j)
                            .child("hostPort"),
                        hp,
                        "must match `containerPort` when `hostNetwork` is true",
                    ));
                }
            }
        }
    }
    match s(&spec.restart_policy) {
        "Always" | "OnFailure" | "Never" => {}
        "" => errs.push(FieldError::required(&path.child("restartPolicy"), "")),
        other => errs.push(FieldError::not_supported(
            &path.child("restartPolicy"),
            other,
            &RESTART_POLICIES,
        )),
    }
    match s(&spec.dns_policy) {
        "ClusterFirstWithHostNet" | "ClusterFirst" | "Default" | "None" => {}
        "" => errs.push(FieldError::required(&path.child("dnsPolicy"), "")),
        other => errs.push(FieldError::not_supported(
            &path.child("dnsPolicy"),
            other,
            &DNS_POLICIES,
        )),
    }
    errs.extend(meta::validate_labels(
        spec.node_selector.as_ref(),
        &path.child("nodeSelector"),
    ));
    errs.extend(validate_pod_security_context(
        spec,
        &path.child("securityContext"),
    ));
    errs.extend(validate_affinity(
        spec.affinity.as_deref(),
        &path.child("affinity"),
    ));
    errs.extend(validate_dns_config(spec, &path.child("dnsConfig")));
    for (i, gate) in items(&spec.readiness_gates).iter().enumerate() {
        errs.extend(meta::validate_qualified_name(
            &gate.condition_type,
            &path.child("readinessGates").index(i).child("conditionType"),
        ));
    }
    let mut gates_seen: BTreeSet<&str> = BTreeSet::new();
    for (i, gate) in items(&spec.scheduling_gates).iter().enumerate() {
        let p = path.child("schedulingGates").index(i);
        errs.extend(meta::validate_qualified_name(&gate.name, &p));
        if !gates_seen.insert(gate.name.as_str()) {
            errs.push(FieldError::duplicate(&p, gate.name.as_str()));
        }
    }
    errs.extend(validate_topology_spread_constraints(
        items(&spec.topology_spread_constraints),
        &path.child("topologySpreadConstraints"),
    ));
    errs.extend(validate_windows_host_process(spec, path));
    // `serviceAccount` is the deprecated alias the v1 conversion falls back to.
    let sa = match s(&spec.service_account_name) {
        "" => s(&spec.service_account),
        name => name,
    };
    if !sa.is_empty() {
        errs.extend(meta::validate_name(
            names::name_is_dns_subdomain,
            sa,
            &path.child("serviceAccountName"),
        ));
    }
    let node_name = s(&spec.node_name);
    if !node_name.is_empty() {
        errs.extend(meta::validate_name(
            names::name_is_dns_subdomain,
            node_name,
            &path.child("nodeName"),
        ));
    }
    if let Some(ads) = spec.active_deadline_seconds
        && !(1..=i64::from(i32::MAX)).contains(&ads)
    {
        errs.push(FieldError::invalid(
            &path.child("activeDeadlineSeconds"),
            ads,
            names::inclusive_range_error(1, i64::from(i32::MAX)),
        ));
    }
    let hostname = s(&spec.hostname);
    if !hostname.is_empty() {
        errs.extend(meta::validate_dns1123_label(
            hostname,
            &path.child("hostname"),
        ));
    }
    let subdomain = s(&spec.subdomain);
    if !subdomain.is_empty() {
        errs.extend(meta::validate_dns1123_label(
            subdomain,
            &path.child("subdomain"),
        ));
    }
    errs.extend(validate_tolerations(
        items(&spec.tolerations),
        &path.child("tolerations"),
    ));
    for (i, alias) in items(&spec.host_aliases).iter().enumerate() {
        let p = path.child("hostAliases").index(i);
        errs.extend(names::is_valid_ip(&p.child("ip"), &alias.ip));
        for (j, h) in items(&alias.hostnames).iter().enumerate() {
            errs.extend(meta::validate_dns1123_subdomain(
                h,
                &p.child("hostnames").index(j),
            ));
        }
    }
    let pc = s(&spec.priority_class_name);
    if !pc.is_empty() {
        errs.extend(meta::validate_name(
            names::name_is_dns_subdomain,
            pc,
            &path.child("priorityClassName"),
        ));
    }
    if let Some(rc) = &spec.runtime_class_name {
        errs.extend(meta::validate_name(
            names::name_is_dns_subdomain,
            rc,
            &path.child("runtimeClassName"),
        ));
    }
    if let Some(pp) = &spec.preemption_policy {
        errs.extend(validate_preemption_policy(
            pp,
            &path.child("preemptionPolicy"),
        ));
    }
    if let Some(overhead) = &spec.overhead {
        errs.extend(resources::validate_resource_lists(
            Some(overhead),
            None,
            &path.child("overhead"),
        ));
    }
    errs.extend(validate_os(spec, path));
    errs
}

/// Upstream's `ValidatePreemptionPolicy`.
pub(crate) fn validate_preemption_policy(policy: &str, path: &Path) -> ErrorList {
    match policy {
        "PreemptLowerPriority" | "Never" => Vec::new(),
        "" => vec![FieldError::required(path, "")],
        other => vec![FieldError::not_supported(
            path,
            other,
            &["PreemptLowerPriority", "Never"],
        )],
    }
}

const SECCOMP_POD_ANNOTATION: &str = "seccomp.security.alpha.kubernetes.io/pod";
const SECCOMP_CONTAINER_PREFIX: &str = "container.seccomp.security.alpha.kubernetes.io/";
const APPARMOR_CONTAINER_PREFIX: &str = "container.apparmor.security.beta.kubernetes.io/";
const MIRROR_POD_ANNOTATION: &str = "kubernetes.io/config.mirror";
const DELETION_COST_ANNOTATION: &str = "controller.kubernetes.io/pod-deletion-cost";

fn validate_seccomp_annotation_value(p: &str, path: &Path) -> ErrorList {
    if p == "runtime/default" || p == "docker/default" || p == "unconfined" {
        return Vec::new();
    }
    if let Some(rest) = p.strip_prefix("localhost/") {
        return volumes::validate_local_descending_path(rest, path);
    }
    vec![FieldError::invalid(
        path,
        p,
        "must be a valid seccomp profile",
    )]
}

/// Upstream's `ValidatePodSpecificAnnotations` (the annotations of a Pod or pod template).
///
/// The deprecated `scheduler.alpha.kubernetes.io/tolerations` annotation is not parsed.
pub(crate) fn validate_pod_specific_annotations(
    annotations: Option<&SortedMap<String, String>>,
    spec: &core::PodSpec,
    path: &Path,
) -> ErrorList {
    let mut errs = ErrorList::new();
    let Some(annotations) = annotations else {
        return errs;
    };
    if let Some(v) = annotations.get(MIRROR_POD_ANNOTATION)
        && s(&spec.node_name).is_empty()
    {
        errs.push(FieldError::invalid(
            &path.key(MIRROR_POD_ANNOTATION),
            v.as_str(),
            "must set spec.nodeName if mirror pod annotation is set",
        ));
    }
    if let Some(cost) = annotations.get(DELETION_COST_ANNOTATION) {
        let first_ok = cost == "0"
            || cost.starts_with('-')
            || cost
                .as_bytes()
                .first()
                .is_some_and(|b| (b'1'..=b'9').contains(b));
        if !first_ok || cost.parse::<i32>().is_err() {
            errs.push(FieldError::invalid(
                &path.key(DELETION_COST_ANNOTATION),
                cost.as_str(),
                "must be a 32bit integer",
            ));
        }
    }
    if let Some(p) = annotations.get(SECCOMP_POD_ANNOTATION) {
        errs.extend(validate_seccomp_annotation_value(
            p,
            &path.child(SECCOMP_POD_ANNOTATION),
        ));
    }
    for (k, p) in annotations {
        if k.starts_with(SECCOMP_CONTAINER_PREFIX) {
            errs.extend(validate_seccomp_annotation_value(p, &path.child(k)));
        }
    }
    let container_names: BTreeSet<String> = visit_containers(spec, &Path::root())
        .into_iter()
        .map(|(c, _)| c.name)
        .collect();
    for (k, p) in annotations {
        let Some(container) = k.strip_prefix(APPARMOR_CONTAINER_PREFIX) else {
            continue;
        };
        if !container_names.contains(container) {
            errs.push(FieldError::invalid(
                &path.key(k),
                container,
                "container not found",
            ));
        }
        if !(p.is_empty()
            || p == "runtime/default"
            || p == "unconfined"
            || p.starts_with("localhost/"))
        {
            errs.push(FieldError::invalid(
                &path.key(k),
                p.as_str(),
                format!("invalid AppArmor profile name: {}", go_quote(p)),
            ));
        }
    }
    errs
}

fn seccomp_field_matches(
    annotation: &str,
    field: &core::SeccompProfile,
    path: &Path,
) -> Option<FieldError> {
    const MISMATCH: &str = "seccomp type in annotation and field must match";
    match field.type_.as_str() {
        "Unconfined" if annotation != "unconfined" => {
            Some(FieldError::forbidden(&path.child("type"), MISMATCH))
        }
        "RuntimeDefault" if annotation != "runtime/default" && annotation != "docker/default" => {
            Some(FieldError::forbidden(&path.child("type"), MISMATCH))
        }
        "Localhost" => match annotation.strip_prefix("localhost/") {
            None => Some(FieldError::forbidden(&path.child("type"), MISMATCH)),
            Some(profile) if field.localhost_profile.as_deref() != Some(profile) => {
                Some(FieldError::forbidden(
                    &path.child("localhostProfile"),
                    "seccomp profile in annotation and field must match",
                ))
            }
            Some(_) => None,
        },
        _ => None,
    }
}

/// Upstream's `validateSeccompAnnotationsAndFields`: annotations and fields agree.
pub(crate) fn validate_seccomp_annotations_and_fields(
    m: &ObjectMeta,
    spec: &core::PodSpec,
    path: &Path,
) -> ErrorList {
    let mut errs = ErrorList::new();
    let annotations = m.annotations();
    if let Some(sp) = spec
        .security_context
        .as_ref()
        .and_then(|sc| sc.seccomp_profile.as_ref())
        && let Some(a) = annotations.get(SECCOMP_POD_ANNOTATION)
    {
        errs.extend(seccomp_field_matches(
            a,
            sp,
            &path.child("securityContext").child("seccompProfile"),
        ));
    }
    for (c, cpath) in visit_containers(spec, path) {
        let Some(sp) = c
            .security_context
            .as_ref()
            .and_then(|sc| sc.seccomp_profile.as_ref())
        else {
            continue;
        };
        if let Some(a) = annotations.get(&format!("{SECCOMP_CONTAINER_PREFIX}{}", c.name)) {
            errs.extend(seccomp_field_matches(
                a,
                sp,
                &cpath.child("securityContext").child("seccompProfile"),
            ));
        }
    }
    errs
}

/// Upstream's `validateAppArmorAnnotationsAndFieldsMatchOnCreate`.
pub(crate) fn validate_apparmor_annotations_and_fields(
    m: &ObjectMeta,
    spec: &core::PodSpec,
    path: &Path,
) -> ErrorList {
    if spec.os.as_ref().is_some_and(|os| os.name == "windows") {
        return Vec::new();
    }
    let mut errs = ErrorList::new();
    let pod_profile = spec
        .security_context
        .as_ref()
        .and_then(|sc| sc.app_armor_profile.as_ref());
    const MISMATCH: &str = "apparmor type in annotation and field must match";
    for (c, cpath) in visit_containers(spec, path) {
        let profile = c
            .security_context
            .as_ref()
            .and_then(|sc| sc.app_armor_profile.as_ref())
            .or(pod_profile);
        let Some(profile) = profile else { continue };
        let Some(annotation) = m
            .annotations()
            .get(&format!("{APPARMOR_CONTAINER_PREFIX}{}", c.name))
        else {
            continue;
        };
        let ap = cpath.child("securityContext").child("appArmorProfile");
        match profile.type_.as_str() {
            "Unconfined" if annotation != "unconfined" => {
                errs.push(FieldError::forbidden(&ap.child("type"), MISMATCH))
            }
            "RuntimeDefault" if annotation != "runtime/default" => {
                errs.push(FieldError::forbidden(&ap.child("type"), MISMATCH))
            }
            "Localhost" => match annotation.strip_prefix("localhost/") {
                None => errs.push(FieldError::forbidden(&ap.child("type"), MISMATCH)),
                Some(p) if profile.localhost_profile.as_deref() != Some(p) => {
                    errs.push(FieldError::forbidden(
                        &ap.child("localhostProfile"),
                        "apparmor profile in annotation and field must match",
                    ));
                }
                Some(_) => {}
            },
            _ => {}
        }
    }
    errs
}

/// Upstream's `ValidatePodTemplateSpec`: the template's labels and annotations (reported at
/// `<path>.labels` and `<path>.annotations`, as upstream does), its spec, and no ephemeral
/// containers.
pub(crate) fn validate_pod_template_spec(
    t: &core::PodTemplateSpec,
    path: &Path,
    opts: PodOpts,
) -> ErrorList {
    let default = core::PodSpec::default();
    let spec = t.spec.as_ref().unwrap_or(&default);
    let mut errs = meta::validate_labels(t.metadata.labels.as_ref(), &path.child("labels"));
    errs.extend(meta::validate_annotations(
        t.metadata.annotations.as_ref(),
        &path.child("annotations"),
    ));
    errs.extend(validate_pod_specific_annotations(
        t.metadata.annotations.as_ref(),
        spec,
        &path.child("annotations"),
    ));
    errs.extend(validate_pod_spec(spec, None, &path.child("spec"), opts));
    errs.extend(validate_seccomp_annotations_and_fields(
        &t.metadata,
        spec,
        &path.child("spec"),
    ));
    errs.extend(validate_apparmor_annotations_and_fields(
        &t.metadata,
        spec,
        &path.child("spec"),
    ));
    if !items(&spec.ephemeral_containers).is_empty() {
        errs.push(FieldError::forbidden(
            &path.child("spec").child("ephemeralContainers"),
            "ephemeral containers not allowed in pod template",
        ));
    }
    errs
}
