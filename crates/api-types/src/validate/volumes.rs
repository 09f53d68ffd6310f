//! Volumes: pod volumes and their sources (exactly one source each, the source's own rules),
//! PersistentVolume sources and PersistentVolumeClaim specs, as upstream's `ValidateVolumes`,
//! `validateVolumeSource`, `ValidatePersistentVolumeSpec` and `ValidatePersistentVolumeClaimSpec`.

use crate::SortedMap;
use std::collections::BTreeSet;

use super::field::{ErrorList, FieldError, Path};
use super::gofmt;
use super::meta::{self, SelectorOpts, items, s};
use super::names;
use super::pod::validate_node_selector;
use super::resources;
use crate::core::v1 as core;
use crate::meta::ObjectMeta;

/// Upstream's `fileModeErrorMsg`.
const FILE_MODE_ERROR_MSG: &str = "must be a number between 0 and 0777 (octal), both inclusive";
const MAY_NOT_MORE_THAN_ONE: &str = "may not specify more than 1 volume type";

/// What a container may learn about a volume it mounts.
#[derive(Clone, Copy, Debug)]
pub(crate) struct VolumeInfo {
    /// The volume is a PVC or a generic ephemeral volume (block devices are allowed).
    pub is_pvc: bool,
    /// The volume is an image volume (no subPath allowed).
    pub is_image: bool,
}

/// The valid volumes of a pod, by name.
pub(crate) type Volumes = SortedMap<String, VolumeInfo>;

/// Upstream's `validatePathNoBacksteps`: no `..` element.
pub(crate) fn validate_path_no_backsteps(target: &str, path: &Path) -> ErrorList {
    if target.split('/').any(|item| item == "..") {
        return vec![FieldError::invalid(path, target, "must not contain '..'")];
    }
    Vec::new()
}

/// Upstream's `validateLocalDescendingPath`: relative and without `..` elements.
pub(crate) fn validate_local_descending_path(target: &str, path: &Path) -> ErrorList {
    let mut errs = ErrorList::new();
    if target.starts_with('/') {
        errs.push(FieldError::invalid(path, target, "must be a relative path"));
    }
    errs.extend(validate_path_no_backsteps(target, path));
    errs
}

/// Upstream's `ValidateLocalNonReservedPath`: relative, no `..` element, not starting `..`.
pub(crate) fn validate_local_non_reserved_path(target: &str, path: &Path) -> ErrorList {
    let mut errs = validate_local_descending_path(target, path);
    if target.starts_with("..") && !target.starts_with("../") {
        errs.push(FieldError::invalid(
            path,
            target,
            "must not start with '..'",
        ));
    }
    errs
}

fn validate_mode(mode: Option<i32>, path: &Path) -> ErrorList {
    match mode {
        Some(m) if !(0..=0o777).contains(&m) => {
            vec![FieldError::invalid(path, m, FILE_MODE_ERROR_MSG)]
        }
        _ => Vec::new(),
    }
}

fn validate_key_to_path(kp: &core::KeyToPath, path: &Path) -> ErrorList {
    let mut errs = ErrorList::new();
    if kp.key.is_empty() {
        errs.push(FieldError::required(&path.child("key"), ""));
    }
    if kp.path.is_empty() {
        errs.push(FieldError::required(&path.child("path"), ""));
    }
    errs.extend(validate_local_non_reserved_path(
        &kp.path,
        &path.child("path"),
    ));
    errs.extend(validate_mode(kp.mode, &path.child("mode")));
    errs
}

const HOST_PATH_TYPES: [&str; 8] = [
    "",
    "BlockDevice",
    "CharDevice",
    "Directory",
    "DirectoryOrCreate",
    "File",
    "FileOrCreate",
    "Socket",
];

fn validate_host_path(hp: &core::HostPathVolumeSource, path: &Path) -> ErrorList {
    if hp.path.is_empty() {
        return vec![FieldError::required(&path.child("path"), "")];
    }
    let mut errs = validate_path_no_backsteps(&hp.path, &path.child("path"));
    if let Some(t) = &hp.type_
        && !HOST_PATH_TYPES.contains(&t.as_str())
    {
        errs.push(FieldError::not_supported(
            &path.child("type"),
            t.as_str(),
            &HOST_PATH_TYPES,
        ));
    }
    errs
}

fn validate_nfs(nfs: &core::NFSVolumeSource, path: &Path) -> ErrorList {
    let mut errs = ErrorList::new();
    if nfs.server.is_empty() {
        errs.push(FieldError::required(&path.child("server"), ""));
    }
    if nfs.path.is_empty() {
        errs.push(FieldError::required(&path.child("path"), ""));
    }
    if !nfs.path.starts_with('/') {
        errs.push(FieldError::invalid(
            &path.child("path"),
            nfs.path.as_str(),
            "must be an absolute path",
        ));
    }
    errs
}

/// `iqn\.\d{4}-\d{2}\.([[:alnum:]-.]+)(:[^,;*&$|\s]+)$`, unanchored at the start.
fn iqn_format_ok(s: &str) -> bool {
    (0..s.len()).any(|i| {
        let Some(rest) = s.get(i..).and_then(|r| r.strip_prefix("iqn.")) else {
            return false;
        };
        let b = rest.as_bytes();
        if b.len() < 8
            || !b[..4].iter().all(u8::is_ascii_digit)
            || b[4] != b'-'
            || !b[5..7].iter().all(u8::is_ascii_digit)
            || b[7] != b'.'
        {
            return false;
        }
        let tail = &b[8..];
        let run = tail
            .iter()
            .take_while(|c| c.is_ascii_alphanumeric() || **c == b'-' || **c == b'.')
            .count();
        if run == 0 || tail.get(run) != Some(&b':') {
            return false;
        }
        let last = &tail[run + 1..];
        !last.is_empty()
            && last
                .iter()
                .all(|c| !b",;*&$|".contains(c) && !c.is_ascii_whitespace())
    })
}

/// `^eui.[[:alnum:]]{16}$` / `^naa.[[:alnum:]]{32}$`.
fn prefixed_alnum_ok(s: &str, prefix: &str, n: usize) -> bool {
    let b = s.as_bytes();
    s.starts_with(prefix)
        && b.len() == prefix.len() + 1 + n
        && b[prefix.len() + 1..].iter().all(u8::is_ascii_alphanumeric)
}

fn initiator_format_errors(value: &str, path: &Path, not_prefixed_msg: &str) -> ErrorList {
    let mut errs = ErrorList::new();
    if !value.starts_with("iqn") && !value.starts_with("eui") && !value.starts_with("naa") {
        errs.push(FieldError::invalid(path, value, not_prefixed_msg));
    }
    let bad = (value.starts_with("iqn") && !iqn_format_ok(value))
        || (value.starts_with("eui") && !prefixed_alnum_ok(value, "eui", 16))
        || (value.starts_with("naa") && !prefixed_alnum_ok(value, "naa", 32));
    if bad {
        errs.push(FieldError::invalid(path, value, "must be valid format"));
    }
    errs
}

fn validate_iscsi_common(
    iqn: &str,
    lun: i32,
    chap: bool,
    has_secret: bool,
    path: &Path,
    iqn_prefix_msg: &str,
) -> ErrorList {
    let mut errs = ErrorList::new();
    if iqn.is_empty() {
        errs.push(FieldError::required(&path.child("iqn"), ""));
    } else {
        errs.extend(initiator_format_errors(
            iqn,
            &path.child("iqn"),
            iqn_prefix_msg,
        ));
    }
    if !(0..=255).contains(&lun) {
        errs.push(FieldError::invalid(
            &path.child("lun"),
            lun,
            names::inclusive_range_error(0, 255),
        ));
    }
    if chap && !has_secret {
        errs.push(FieldError::required(&path.child("secretRef"), ""));
    }
    errs
}

fn validate_iscsi(v: &core::ISCSIVolumeSource, path: &Path) -> ErrorList {
    let mut errs = ErrorList::new();
    if v.target_portal.is_empty() {
        errs.push(FieldError::required(&path.child("targetPortal"), ""));
    }
    let chap = v.chap_auth_discovery == Some(true) || v.chap_auth_session == Some(true);
    errs.extend(validate_iscsi_common(
        &v.iqn,
        v.lun,
        chap,
        v.secret_ref.is_some(),
        path,
        "must be valid format starting with iqn, eui, or naa",
    ));
    if let Some(initiator) = &v.initiator_name {
        errs.extend(initiator_format_errors(
            initiator,
            &path.child("initiatorname"),
            "must be valid format starting with iqn, eui, or naa",
        ));
    }
    errs
}

fn validate_fc(fc: &core::FCVolumeSource, path: &Path) -> ErrorList {
    let mut errs = ErrorList::new();
    let wwns = items(&fc.target_wwns);
    let wwids = items(&fc.wwids);
    if wwns.is_empty() && wwids.is_empty() {
        errs.push(FieldError::required(
            &path.child("targetWWNs"),
            "must specify either targetWWNs or wwids, but not both",
        ));
    }
    if !wwns.is_empty() && !wwids.is_empty() {
        errs.push(FieldError::invalid(
            &path.child("targetWWNs"),
            gofmt::raw(gofmt::string_slice(Some(wwns))),
            "targetWWNs and wwids can not be specified simultaneously",
        ));
    }
    if !wwns.is_empty() {
        match fc.lun {
            None => errs.push(FieldError::required(
                &path.child("lun"),
                "lun is required if targetWWNs is specified",
            )),
            Some(lun) if !(0..=255).contains(&lun) => {
                errs.push(FieldError::invalid(
                    &path.child("lun"),
                    lun,
                    names::inclusive_range_error(0, 255),
                ));
            }
            Some(_) => {}
        }
    }
    errs
}

fn validate_partition(partition: Option<i32>, path: &Path) -> ErrorList {
    let p = partition.unwrap_or(0);
    if !(0..=255).contains(&p) {
        return vec![FieldError::invalid(
            path,
            p,
            names::inclusive_range_error(1, 255),
        )];
    }
    Vec::new()
}

fn validate_flocker(f: &core::FlockerVolumeSource, path: &Path) -> ErrorList {
    let mut errs = ErrorList::new();
    let (name, uuid) = (s(&f.dataset_name), s(&f.dataset_uuid));
    if name.is_empty() && uuid.is_empty() {
        errs.push(FieldError::required(
            path,
            "one of datasetName and datasetUUID is required",
        ));
    }
    if !name.is_empty() && !uuid.is_empty() {
        errs.push(FieldError::invalid(
            path,
            "resource",
            "datasetName and datasetUUID can not be specified simultaneously",
        ));
    }
    if name.contains('/') {
        errs.push(FieldError::invalid(
            &path.child("datasetName"),
            name,
            "must not contain '/'",
        ));
    }
    errs
}

const VOLUME_FIELD_PATHS: [&str; 5] = [
    "metadata.annotations",
    "metadata.labels",
    "metadata.name",
    "metadata.namespace",
    "metadata.uid",
];
const RESOURCE_FIELD_PATHS: [&str; 6] = [
    "limits.cpu",
    "limits.ephemeral-storage",
    "limits.memory",
    "requests.cpu",
    "requests.ephemeral-storage",
    "requests.memory",
];

fn validate_downward_api_file(file: &core::DownwardAPIVolumeFile, path: &Path) -> ErrorList {
    let mut errs = ErrorList::new();
    if file.path.is_empty() {
        errs.push(FieldError::required(&path.child("path"), ""));
    }
    errs.extend(validate_local_non_reserved_path(
        &file.path,
        &path.child("path"),
    ));
    if let Some(fr) = &file.field_ref {
        errs.extend(super::pod::validate_object_field_selector(
            fr,
            &VOLUME_FIELD_PATHS,
            &path.child("fieldRef"),
        ));
        if file.resource_field_ref.is_some() {
            errs.push(FieldError::invalid(
                path,
                "resource",
                "fieldRef and resourceFieldRef can not be specified simultaneously",
            ));
        }
    } else if let Some(rf) = &file.resource_field_ref {
        errs.extend(super::pod::validate_container_resource_field_selector(
            rf,
            &RESOURCE_FIELD_PATHS,
            &path.child("resourceFieldRef"),
            true,
        ));
    } else {
        errs.push(FieldError::required(
            path,
            "one of fieldRef and resourceFieldRef is required",
        ));
    }
    errs.extend(validate_mode(file.mode, &path.child("mode")));
    errs
}

fn validate_projected(p: &core::ProjectedVolumeSource, path: &Path) -> ErrorList {
    let mut errs = validate_mode(p.default_mode, &path.child("defaultMode"));
    let mut all_paths: BTreeSet<String> = BTreeSet::new();
    for (i, source) in items(&p.sources).iter().enumerate() {
        let src_path = path.child("sources").index(i);
        let mut num = 0;
        if let Some(secret) = &source.secret {
            num += 1;
            let proj = src_path.child("secret");
            let name = s(&secret.name);
            if name.is_empty() {
                errs.push(FieldError::required(&proj.child("name"), ""));
            }
            for (j, kp) in items(&secret.items).iter().enumerate() {
                errs.extend(validate_key_to_path(kp, &proj.child("items").index(j)));
                if !kp.path.is_empty() && !all_paths.insert(kp.path.clone()) {
                    errs.push(FieldError::invalid(
                        path,
                        name,
                        "conflicting duplicate paths",
                    ));
                }
            }
        }
        if let Some(cm) = &source.config_map {
            num += 1;
            let proj = src_path.child("configMap");
            let name = s(&cm.name);
            if name.is_empty() {
                errs.push(FieldError::required(&proj.child("name"), ""));
            }
            for (j, kp) in items(&cm.items).iter().enumerate() {
                errs.extend(validate_key_to_path(kp, &proj.child("items").index(j)));
                if !kp.path.is_empty() && !all_paths.insert(kp.path.clone()) {
                    errs.push(FieldError::invalid(
                        path,
                        name,
                        "conflicting duplicate paths",
                    ));
                }
            }
        }
        if let Some(dapi) = &source.downward_api {
            num += 1;
            let proj = src_path.child("downwardAPI");
            for file in items(&dapi.items) {
                errs.extend(validate_downward_api_file(file, &proj));
                if !file.path.is_empty() && !all_paths.insert(file.path.clone()) {
                    errs.push(FieldError::invalid(
                        path,
                        file.path.as_str(),
                        "conflicting duplicate paths",
                    ));
                }
            }
        }
        if let Some(sat) = &source.service_account_token {
            num += 1;
            let proj = src_path.child("serviceAccountToken");
            let exp = sat.expiration_seconds.unwrap_or(0);
            if exp < 10 * 60 {
                errs.push(FieldError::invalid(
                    &proj.child("expirationSeconds"),
                    exp,
                    "may not specify a duration less than 10 minutes",
                ));
            }
            if exp > 1 << 32 {
                errs.push(FieldError::invalid(
                    &proj.child("expirationSeconds"),
                    exp,
                    "may not specify a duration larger than 2^32 seconds",
                ));
            }
            if sat.path.is_empty() {
                errs.push(FieldError::required(&path.child("path"), ""));
            } else {
                errs.extend(validate_local_non_reserved_path(
                    &sat.path,
                    &path.child("path"),
                ));
            }
        }
        // `clusterTrustBundle` projections belong to an alpha feature (off by default in
        // v1.32); the API server drops them, so they are neither counted nor validated.
        if num > 1 {
            errs.push(FieldError::forbidden(
                &src_path,
                "may not specify more than 1 volume type per source",
            ));
        }
    }
    errs
}

const AZURE_CACHING_MODES: [&str; 3] = ["None", "ReadOnly", "ReadWrite"];
const AZURE_DISK_KINDS: [&str; 3] = ["Dedicated", "Managed", "Shared"];

fn validate_azure_disk(a: &core::AzureDiskVolumeSource, path: &Path) -> ErrorList {
    let mut errs = ErrorList::new();
    if a.disk_name.is_empty() {
        errs.push(FieldError::required(&path.child("diskName"), ""));
    }
    if a.disk_uri.is_empty() {
        errs.push(FieldError::required(&path.child("diskURI"), ""));
    }
    if let Some(mode) = &a.caching_mode
        && !AZURE_CACHING_MODES.contains(&mode.as_str())
    {
        errs.push(FieldError::not_supported(
            &path.child("cachingMode"),
            mode.as_str(),
            &AZURE_CACHING_MODES,
        ));
    }
    if let Some(kind) = &a.kind {
        if !AZURE_DISK_KINDS.contains(&kind.as_str()) {
            errs.push(FieldError::not_supported(
                &path.child("kind"),
                kind.as_str(),
                &AZURE_DISK_KINDS,
            ));
        }
        if kind == "Managed" && !a.disk_uri.starts_with("/subscriptions/") {
            errs.push(FieldError::not_supported(
                &path.child("diskURI"),
                a.disk_uri.as_str(),
                &["/subscriptions/{sub-id}/resourcegroups/{group-name}/providers/microsoft.compute/disks/{disk-id}"],
            ));
        }
        if kind != "Managed" && !a.disk_uri.starts_with("https://") {
            errs.push(FieldError::not_supported(
                &path.child("diskURI"),
                a.disk_uri.as_str(),
                &["https://{account-name}.blob.core.windows.net/{container-name}/{disk-name}.vhd"],
            ));
        }
    }
    errs
}

/// Upstream's `ValidateCSIDriverName`.
pub(crate) fn validate_csi_driver_name(driver: &str, path: &Path) -> ErrorList {
    let mut errs = ErrorList::new();
    if driver.is_empty() {
        errs.push(FieldError::required(path, ""));
    }
    if driver.len() > 63 {
        errs.push(FieldError::too_long(path, 63));
    }
    for msg in names::is_dns1123_subdomain(&driver.to_lowercase()) {
        errs.push(FieldError::invalid(path, driver, msg));
    }
    errs
}

fn validate_flex_options(options: Option<&SortedMap<String, String>>, path: &Path) -> ErrorList {
    let mut errs = ErrorList::new();
    for k in options.into_iter().flatten().map(|(k, _)| k) {
        let namespace = k.split_once('/').map_or(k.as_str(), |(ns, _)| ns);
        let normalized = format!(".{}", namespace.to_lowercase());
        if normalized.ends_with(".kubernetes.io") || normalized.ends_with(".k8s.io") {
            errs.push(FieldError::invalid(
                &path.child("options").key(k),
                k.as_str(),
                "kubernetes.io and k8s.io namespaces are reserved",
            ));
        }
    }
    errs
}

fn validate_quobyte(q: &core::QuobyteVolumeSource, path: &Path) -> ErrorList {
    let mut errs = ErrorList::new();
    const HOST_PORT: &str = "must be a host:port pair or multiple pairs separated by commas";
    if q.registry.is_empty() {
        errs.push(FieldError::required(&path.child("registry"), HOST_PORT));
    } else if s(&q.tenant).len() >= 65 {
        errs.push(FieldError::required(
            &path.child("tenant"),
            "must be a UUID and may not exceed a length of 64 characters",
        ));
    } else {
        for pair in q.registry.split(',') {
            if !split_host_port_ok(pair) {
                errs.push(FieldError::invalid(
                    &path.child("registry"),
                    q.registry.as_str(),
                    HOST_PORT,
                ));
            }
        }
    }
    if q.volume.is_empty() {
        errs.push(FieldError::required(&path.child("volume"), ""));
    }
    errs
}

/// Whether Go's `net.SplitHostPort` accepts `hostport`.
fn split_host_port_ok(hostport: &str) -> bool {
    if let Some(rest) = hostport.strip_prefix('[') {
        return rest
            .split_once("]:")
            .is_some_and(|(host, port)| !host.contains(']') && !port.contains([':', '[', ']']));
    }
    hostport.matches(':').count() == 1 && !hostport.contains(['[', ']'])
}

fn validate_pv_secret_reference(r: &core::SecretReference, path: &Path) -> ErrorList {
    let mut errs = ErrorList::new();
    let name = s(&r.name);
    if name.is_empty() {
        errs.push(FieldError::required(&path.child("name"), ""));
    } else {
        errs.extend(meta::validate_dns1123_subdomain(name, &path.child("name")));
    }
    let ns = s(&r.namespace);
    if ns.is_empty() {
        errs.push(FieldError::required(&path.child("namespace"), ""));
    } else {
        errs.extend(meta::validate_dns1123_label(ns, &path.child("namespace")));
    }
    errs
}

/// Upstream's `validateVolumeSource` for one pod volume: exactly one source, and the rules of
/// that source. `pod_meta` (of a real pod, not a template) enables the ephemeral-PVC name check.
fn validate_volume_source(
    v: &core::Volume,
    path: &Path,
    pod_meta: Option<&ObjectMeta>,
) -> ErrorList {
    let mut errs = ErrorList::new();
    let mut n = 0u32;
    // `one` counts a source and runs its checks, or reports it as a second source.
    let mut one = |field: &str, errs: &mut ErrorList, check: &dyn Fn() -> ErrorList| {
        if n > 0 {
            errs.push(FieldError::forbidden(
                &path.child(field),
                MAY_NOT_MORE_THAN_ONE,
            ));
        } else {
            n += 1;
            errs.extend(check());
        }
    };
    if let Some(ed) = &v.empty_dir {
        // The first source is counted without the "more than one" check, as upstream does.
        if let Some(q) = &ed.size_limit
            && q.sign() < 0
        {
            errs.push(FieldError::forbidden(
                &path.child("emptyDir").child("sizeLimit"),
                "SizeLimit field must be a valid resource quantity",
            ));
        }
        one("emptyDir", &mut errs, &ErrorList::new);
    }
    if let Some(x) = &v.host_path {
        one("hostPath", &mut errs, &|| {
            validate_host_path(x, &path.child("hostPath"))
        });
    }
    if let Some(x) = &v.git_repo {
        one("gitRepo", &mut errs, &|| {
            let p = path.child("gitRepo");
            let mut e = ErrorList::new();
            if x.repository.is_empty() {
                e.push(FieldError::required(&p.child("repository"), ""));
            }
            e.extend(validate_local_descending_path(
                s(&x.directory),
                &p.child("directory"),
            ));
            e
        });
    }
    if let Some(x) = &v.gce_persistent_disk {
        one("gcePersistentDisk", &mut errs, &|| {
            let p = path.child("persistentDisk");
            let mut e = ErrorList::new();
            if x.pd_name.is_empty() {
                e.push(FieldError::required(&p.child("pdName"), ""));
            }
            e.extend(validate_partition(x.partition, &p.child("partition")));
            e
        });
    }
    if let Some(x) = &v.aws_elastic_block_store {
        one("awsElasticBlockStore", &mut errs, &|| {
            let p = path.child("awsElasticBlockStore");
            let mut e = ErrorList::new();
            if x.volume_id.is_empty() {
                e.push(FieldError::required(&p.child("volumeID"), ""));
            }
            e.extend(validate_partition(x.partition, &p.child("partition")));
            e
        });
    }
    if let Some(x) = &v.secret {
        one("secret", &mut errs, &|| {
            let p = path.child("secret");
            let mut e = ErrorList::new();
            if s(&x.secret_name).is_empty() {
                e.push(FieldError::required(&p.child("secretName"), ""));
            }
            e.extend(validate_mode(x.default_mode, &p.child("defaultMode")));
            for (i, kp) in items(&x.items).iter().enumerate() {
                e.extend(validate_key_to_path(kp, &p.child("items").index(i)));
            }
            e
        });
    }
    if let Some(x) = &v.nfs {
        one("nfs", &mut errs, &|| validate_nfs(x, &path.child("nfs")));
    }
    if let Some(x) = &v.iscsi {
        one("iscsi", &mut errs, &|| {
            validate_iscsi(x, &path.child("iscsi"))
        });
        if x.initiator_name.is_some() && v.name.len() + 1 + x.target_portal.len() > 64 {
            errs.push(FieldError::invalid(
                &path.child("name"),
                v.name.as_str(),
                "Total length of <volume name>:<iscsi.targetPortal> must be under 64 characters if iscsi.initiatorName is specified.",
            ));
        }
    }
    if let Some(x) = &v.glusterfs {
        one("glusterfs", &mut errs, &|| {
            let p = path.child("glusterfs");
            let mut e = ErrorList::new();
            if x.endpoints.is_empty() {
                e.push(FieldError::required(&p.child("endpoints"), ""));
            }
            if x.path.is_empty() {
                e.push(FieldError::required(&p.child("path"), ""));
            }
            e
        });
    }
    if let Some(x) = &v.flocker {
        one("flocker", &mut errs, &|| {
            validate_flocker(x, &path.child("flocker"))
        });
    }
    if let Some(x) = &v.persistent_volume_claim {
        one("persistentVolumeClaim", &mut errs, &|| {
            if x.claim_name.is_empty() {
                vec![FieldError::required(
                    &path.child("persistentVolumeClaim").child("claimName"),
                    "",
                )]
            } else {
                Vec::new()
            }
        });
    }
    if let Some(x) = &v.rbd {
        one("rbd", &mut errs, &|| {
            let p = path.child("rbd");
            let mut e = ErrorList::new();
            if x.monitors.is_empty() {
                e.push(FieldError::required(&p.child("monitors"), ""));
            }
            if x.image.is_empty() {
                e.push(FieldError::required(&p.child("image"), ""));
            }
            e
        });
    }
    if let Some(x) = &v.cinder {
        one("cinder", &mut errs, &|| {
            let p = path.child("cinder");
            let mut e = ErrorList::new();
            if x.volume_id.is_empty() {
                e.push(FieldError::required(&p.child("volumeID"), ""));
            }
            if let Some(r) = &x.secret_ref
                && s(&r.name).is_empty()
            {
                e.push(FieldError::required(
                    &p.child("secretRef").child("name"),
                    "",
                ));
            }
            e
        });
    }
    if let Some(x) = &v.cephfs {
        one("cephFS", &mut errs, &|| {
            if x.monitors.is_empty() {
                vec![FieldError::required(
                    &path.child("cephfs").child("monitors"),
                    "",
                )]
            } else {
                Vec::new()
            }
        });
    }
    if let Some(x) = &v.quobyte {
        one("quobyte", &mut errs, &|| {
            validate_quobyte(x, &path.child("quobyte"))
        });
    }
    if let Some(x) = &v.downward_api {
        // Upstream spells the field "downwarAPI" in this one message.
        one("downwarAPI", &mut errs, &|| {
            let p = path.child("downwardAPI");
            let mut e = validate_mode(x.default_mode, &p.child("defaultMode"));
            for file in items(&x.items) {
                e.extend(validate_downward_api_file(file, &p));
            }
            e
        });
    }
    if let Some(x) = &v.fc {
        one("fc", &mut errs, &|| validate_fc(x, &path.child("fc")));
    }
    if let Some(x) = &v.flex_volume {
        one("flexVolume", &mut errs, &|| {
            let p = path.child("flexVolume");
            let mut e = ErrorList::new();
            if x.driver.is_empty() {
                e.push(FieldError::required(&p.child("driver"), ""));
            }
            e.extend(validate_flex_options(x.options.as_ref(), &p));
            e
        });
    }
    if let Some(x) = &v.config_map {
        one("configMap", &mut errs, &|| {
            let p = path.child("configMap");
            let mut e = ErrorList::new();
            if s(&x.name).is_empty() {
                e.push(FieldError::required(&p.child("name"), ""));
            }
            e.extend(validate_mode(x.default_mode, &p.child("defaultMode")));
            for (i, kp) in items(&x.items).iter().enumerate() {
                e.extend(validate_key_to_path(kp, &p.child("items").index(i)));
            }
            e
        });
    }
    if let Some(x) = &v.azure_file {
        one("azureFile", &mut errs, &|| {
            let p = path.child("azureFile");
            let mut e = ErrorList::new();
            if x.secret_name.is_empty() {
                e.push(FieldError::required(&p.child("secretName"), ""));
            }
            if x.share_name.is_empty() {
                e.push(FieldError::required(&p.child("shareName"), ""));
            }
            e
        });
    }
    if let Some(x) = &v.vsphere_volume {
        one("vsphereVolume", &mut errs, &|| {
            validate_vsphere(x, &path.child("vsphereVolume"))
        });
    }
    if let Some(x) = &v.photon_persistent_disk {
        one("photonPersistentDisk", &mut errs, &|| {
            validate_photon(x, &path.child("photonPersistentDisk"))
        });
    }
    if let Some(x) = &v.portworx_volume {
        one("portworxVolume", &mut errs, &|| {
            validate_portworx(x, &path.child("portworxVolume"))
        });
    }
    if let Some(x) = &v.azure_disk {
        one("azureDisk", &mut errs, &|| {
            validate_azure_disk(x, &path.child("azureDisk"))
        });
    }
    if let Some(x) = &v.storageos {
        one("storageos", &mut errs, &|| {
            let p = path.child("storageos");
            let mut e = ErrorList::new();
            let vn = s(&x.volume_name);
            if vn.is_empty() {
                e.push(FieldError::required(&p.child("volumeName"), ""));
            } else {
                e.extend(meta::validate_dns1123_label(vn, &p.child("volumeName")));
            }
            let vns = s(&x.volume_namespace);
            if !vns.is_empty() {
                e.extend(meta::validate_dns1123_label(
                    vns,
                    &p.child("volumeNamespace"),
                ));
            }
            if let Some(r) = &x.secret_ref
                && s(&r.name).is_empty()
            {
                e.push(FieldError::required(
                    &p.child("secretRef").child("name"),
                    "",
                ));
            }
            e
        });
    }
    if let Some(x) = &v.projected {
        one("projected", &mut errs, &|| {
            validate_projected(x, &path.child("projected"))
        });
    }
    if let Some(x) = &v.scale_io {
        one("scaleIO", &mut errs, &|| {
            let p = path.child("scaleIO");
            let mut e = ErrorList::new();
            if x.gateway.is_empty() {
                e.push(FieldError::required(&p.child("gateway"), ""));
            }
            if x.system.is_empty() {
                e.push(FieldError::required(&p.child("system"), ""));
            }
            if s(&x.volume_name).is_empty() {
                e.push(FieldError::required(&p.child("volumeName"), ""));
            }
            e
        });
    }
    if let Some(x) = &v.csi {
        one("csi", &mut errs, &|| {
            let p = path.child("csi");
            let mut e = validate_csi_driver_name(&x.driver, &p.child("driver"));
            if let Some(r) = &x.node_publish_secret_ref {
                let name = s(&r.name);
                if name.is_empty() {
                    e.push(FieldError::required(
                        &p.child("nodePublishSecretRef").child("name"),
                        "",
                    ));
                } else {
                    e.extend(meta::validate_name(
                        names::name_is_dns_subdomain,
                        name,
                        &p.child("name"),
                    ));
                }
            }
            e
        });
    }
    if let Some(x) = &v.ephemeral {
        one("ephemeral", &mut errs, &|| {
            let p = path.child("ephemeral");
            let mut e = ErrorList::new();
            match &x.volume_claim_template {
                None => e.push(FieldError::required(&p.child("volumeClaimTemplate"), "")),
                Some(t) => {
                    let tp = p.child("volumeClaimTemplate");
                    e.extend(meta::validate_template_object_meta(
                        &t.metadata,
                        &tp.child("metadata"),
                    ));
                    e.extend(validate_pvc_spec(&t.spec, &tp.child("spec")));
                }
            }
            let pod_name = pod_meta.map_or("", |m| s(&m.name));
            if !pod_name.is_empty() && !v.name.is_empty() {
                let pvc_name = format!("{pod_name}-{}", v.name);
                for msg in names::name_is_dns_subdomain(&pvc_name, false) {
                    e.push(FieldError::invalid(
                        &path.child("name"),
                        v.name.as_str(),
                        format!("PVC name {}: {msg}", super::field::go_quote(&pvc_name)),
                    ));
                }
            }
            e
        });
    }
    // Image volumes belong to an alpha feature (off by default in v1.32); the API server drops
    // the `image` source, so it does not count as a volume source here.
    if n == 0 {
        errs.push(FieldError::required(path, "must specify a volume type"));
    }
    errs
}

/// Upstream's `ValidateVolumes`: every volume valid and uniquely named. Returns the volumes
/// that validated, for the containers' mounts to refer to.
pub(crate) fn validate_volumes(
    volumes: &[core::Volume],
    pod_meta: Option<&ObjectMeta>,
    path: &Path,
) -> (Volumes, ErrorList) {
    let mut errs = ErrorList::new();
    let mut valid = Volumes::new();
    let mut all_names: BTreeSet<&str> = BTreeSet::new();
    let pod_name = pod_meta.map_or("", |m| s(&m.name));
    let created_pvcs: BTreeSet<String> = if pod_name.is_empty() {
        BTreeSet::new()
    } else {
        volumes
            .iter()
            .filter(|v| v.ephemeral.is_some())
            .map(|v| format!("{pod_name}-{}", v.name))
            .collect()
    };
    for (i, vol) in volumes.iter().enumerate() {
        let idx = path.index(i);
        let name_path = idx.child("name");
        let mut el = validate_volume_source(vol, &idx, pod_meta);
        if vol.name.is_empty() {
            el.push(FieldError::required(&name_path, ""));
        } else {
            el.extend(meta::validate_dns1123_label(&vol.name, &name_path));
        }
        if all_names.contains(vol.name.as_str()) {
            el.push(FieldError::duplicate(&name_path, vol.name.as_str()));
        }
        if el.is_empty() {
            all_names.insert(vol.name.as_str());
            valid.insert(
                vol.name.clone(),
                VolumeInfo {
                    is_pvc: vol.persistent_volume_claim.is_some() || vol.ephemeral.is_some(),
                    is_image: vol.image.is_some(),
                },
            );
        } else {
            errs.extend(el);
        }
        if let Some(pvc) = &vol.persistent_volume_claim
            && created_pvcs.contains(&pvc.claim_name)
        {
            errs.push(FieldError::invalid(
                &idx.child("persistentVolumeClaim").child("claimName"),
                pvc.claim_name.as_str(),
                "must not reference a PVC that gets created for an ephemeral volume",
            ));
        }
    }
    (valid, errs)
}

const ACCESS_MODES: [&str; 4] = [
    "ReadOnlyMany",
    "ReadWriteMany",
    "ReadWriteOnce",
    "ReadWriteOncePod",
];
const VOLUME_MODES: [&str; 2] = ["Block", "Filesystem"];

fn validate_access_modes(modes: &[String], path: &Path) -> ErrorList {
    let mut errs = ErrorList::new();
    let (mut rwop, mut other) = (false, false);
    for mode in modes {
        if !ACCESS_MODES.contains(&mode.as_str()) {
            errs.push(FieldError::not_supported(
                path,
                mode.as_str(),
                &ACCESS_MODES,
            ));
        }
        if mode == "ReadWriteOncePod" {
            rwop = true;
        } else if ACCESS_MODES.contains(&mode.as_str()) {
            other = true;
        }
    }
    if rwop && other {
        errs.push(FieldError::forbidden(
            path,
            "may not use ReadWriteOncePod with other access modes",
        ));
    }
    errs
}

fn validate_data_source(api_group: Option<&str>, kind: &str, name: &str, path: &Path) -> ErrorList {
    let mut errs = ErrorList::new();
    if name.is_empty() {
        errs.push(FieldError::required(&path.child("name"), ""));
    }
    if kind.is_empty() {
        errs.push(FieldError::required(&path.child("kind"), ""));
    }
    let group = api_group.unwrap_or("");
    if group.is_empty() && kind != "PersistentVolumeClaim" {
        errs.push(FieldError::invalid(
            path,
            kind,
            "must be 'PersistentVolumeClaim' when referencing the default apiGroup",
        ));
    }
    if !group.is_empty() {
        for msg in names::is_dns1123_subdomain(group) {
            errs.push(FieldError::invalid(&path.child("apiGroup"), group, msg));
        }
    }
    errs
}

/// Upstream's `ValidatePersistentVolumeClaimSpec` (PVCs, ephemeral volume templates and
/// StatefulSet claim templates).
///
/// `volumeAttributesClassName` belongs to a beta feature that is off by default in v1.32 and
/// `dataSourceRef.namespace` to an alpha one; the API server drops both, so they are not
/// validated here.
pub(crate) fn validate_pvc_spec(spec: &core::PersistentVolumeClaimSpec, path: &Path) -> ErrorList {
    let mut errs = ErrorList::new();
    let modes = items(&spec.access_modes);
    if modes.is_empty() {
        errs.push(FieldError::required(
            &path.child("accessModes"),
            "at least 1 access mode is required",
        ));
    }
    errs.extend(meta::validate_label_selector(
        spec.selector.as_deref(),
        SelectorOpts::default(),
        &path.child("selector"),
    ));
    errs.extend(validate_access_modes(modes, &path.child("accessModes")));
    let storage_path = path.child("resources").key("storage");
    match spec
        .resources
        .as_ref()
        .and_then(|r| r.requests.as_ref())
        .and_then(|r| r.get("storage"))
    {
        None => errs.push(FieldError::required(&storage_path, "")),
        Some(q) => {
            let positive = resources::validate_positive_quantity(q, &storage_path);
            if positive.is_empty() {
                errs.extend(resources::validate_resource_quantity_value(
                    "storage",
                    q,
                    &storage_path,
                ));
            } else {
                errs.extend(positive);
            }
        }
    }
    let class = s(&spec.storage_class_name);
    if !class.is_empty() {
        errs.extend(meta::validate_name(
            names::name_is_dns_subdomain,
            class,
            &path.child("storageClassName"),
        ));
    }
    if let Some(mode) = &spec.volume_mode
        && !VOLUME_MODES.contains(&mode.as_str())
    {
        errs.push(FieldError::not_supported(
            &path.child("volumeMode"),
            mode.as_str(),
            &VOLUME_MODES,
        ));
    }
    if let Some(ds) = &spec.data_source {
        errs.extend(validate_data_source(
            ds.api_group.as_deref(),
            &ds.kind,
            &ds.name,
            &path.child("dataSource"),
        ));
    }
    if let Some(dsr) = &spec.data_source_ref {
        errs.extend(validate_data_source(
            dsr.api_group.as_deref(),
            &dsr.kind,
            &dsr.name,
            &path.child("dataSourceRef"),
        ));
    }
    if let (Some(ds), Some(dsr)) = (&spec.data_source, &spec.data_source_ref)
        && (ds.api_group != dsr.api_group || ds.kind != dsr.kind || ds.name != dsr.name)
    {
        errs.push(FieldError::invalid(
            path,
            gofmt::raw(format!("{}.dataSource", path)),
            "must match dataSourceRef",
        ));
    }
    errs
}

const RECLAIM_POLICIES: [&str; 3] = ["Delete", "Recycle", "Retain"];

/// Upstream's `ValidatePersistentVolumeSpec` for a PersistentVolume object.
///
/// `volumeAttributesClassName` belongs to a beta feature off by default in v1.32 and is
/// dropped by the API server, so it is not validated here.
pub(crate) fn validate_pv_spec(
    spec: &core::PersistentVolumeSpec,
    pv_name: &str,
    path: &Path,
) -> ErrorList {
    let mut errs = ErrorList::new();
    let modes = items(&spec.access_modes);
    if modes.is_empty() {
        errs.push(FieldError::required(&path.child("accessModes"), ""));
    }
    errs.extend(validate_access_modes(modes, &path.child("accessModes")));
    let capacity = spec.capacity.as_ref();
    if capacity.is_none_or(SortedMap::is_empty) {
        errs.push(FieldError::required(&path.child("capacity"), ""));
    }
    if capacity.is_none_or(|c| !c.contains_key("storage") || c.len() > 1) {
        let rendered = capacity.map_or("core.ResourceList(nil)".to_owned(), |c| {
            let entries: Vec<String> = c
                .iter()
                .map(|(k, v)| {
                    format!(
                        "{}:{}",
                        super::field::go_quote(k),
                        super::field::go_quote(&v.to_string())
                    )
                })
                .collect();
            format!("core.ResourceList{{{}}}", entries.join(", "))
        });
        errs.push(FieldError::not_supported(
            &path.child("capacity"),
            gofmt::raw(rendered),
            &["storage"],
        ));
    }
    for (name, q) in capacity.into_iter().flatten() {
        let p = path.child("capacity").key(name);
        errs.extend(resources::validate_basic_resource(q, &p));
        errs.extend(resources::validate_positive_quantity(q, &p));
    }
    let reclaim = s(&spec.persistent_volume_reclaim_policy);
    if !reclaim.is_empty() && !RECLAIM_POLICIES.contains(&reclaim) {
        errs.push(FieldError::not_supported(
            &path.child("persistentVolumeReclaimPolicy"),
            reclaim,
            &RECLAIM_POLICIES,
        ));
    }
    let mut node_affinity_specified = false;
    if let Some(na) = &spec.node_affinity {
        node_affinity_specified = true;
        match &na.required {
            Some(required) => errs.extend(validate_node_selector(
                required,
                false,
                &path.child("nodeAffinity").child("required"),
            )),
            None => errs.push(FieldError::required(
                &path.child("nodeAffinity").child("required"),
                "must specify required node constraints",
            )),
        }
    }
    let mut n = 0u32;
    let mut one = |field: &str, errs: &mut ErrorList, check: &dyn Fn() -> ErrorList| {
        if n > 0 {
            errs.push(FieldError::forbidden(
                &path.child(field),
                MAY_NOT_MORE_THAN_ONE,
            ));
        } else {
            n += 1;
            errs.extend(check());
        }
    };
    if let Some(x) = &spec.host_path {
        one("hostPath", &mut errs, &|| {
            validate_host_path(x, &path.child("hostPath"))
        });
    }
    if let Some(x) = &spec.gce_persistent_disk {
        one("gcePersistentDisk", &mut errs, &|| {
            let p = path.child("persistentDisk");
            let mut e = ErrorList::new();
            if x.pd_name.is_empty() {
                e.push(FieldError::required(&p.child("pdName"), ""));
            }
            e.extend(validate_partition(x.partition, &p.child("partition")));
            e
        });
    }
    if let Some(x) = &spec.aws_elastic_block_store {
        one("awsElasticBlockStore", &mut errs, &|| {
            let p = path.child("awsElasticBlockStore");
            let mut e = ErrorList::new();
            if x.volume_id.is_empty() {
                e.push(FieldError::required(&p.child("volumeID"), ""));
            }
            e.extend(validate_partition(x.partition, &p.child("partition")));
            e
        });
    }
    if let Some(x) = &spec.glusterfs {
        one("glusterfs", &mut errs, &|| {
            let p = path.child("glusterfs");
            let mut e = ErrorList::new();
            if x.endpoints.is_empty() {
                e.push(FieldError::required(&p.child("endpoints"), ""));
            }
            if x.path.is_empty() {
                e.push(FieldError::required(&p.child("path"), ""));
            }
            if let Some(ns) = &x.endpoints_namespace {
                if ns.is_empty() {
                    e.push(FieldError::invalid(
                        &p.child("endpointsNamespace"),
                        "",
                        "if the endpointnamespace is set, it must be a valid namespace name",
                    ));
                } else {
                    e.extend(meta::validate_name(
                        names::name_is_dns_label,
                        ns,
                        &p.child("endpointsNamespace"),
                    ));
                }
            }
            e
        });
    }
    if let Some(x) = &spec.flocker {
        one("flocker", &mut errs, &|| {
            validate_flocker(x, &path.child("flocker"))
        });
    }
    if let Some(x) = &spec.nfs {
        one("nfs", &mut errs, &|| validate_nfs(x, &path.child("nfs")));
    }
    if let Some(x) = &spec.rbd {
        one("rbd", &mut errs, &|| {
            let p = path.child("rbd");
            let mut e = ErrorList::new();
            if x.monitors.is_empty() {
                e.push(FieldError::required(&p.child("monitors"), ""));
            }
            if x.image.is_empty() {
                e.push(FieldError::required(&p.child("image"), ""));
            }
            e
        });
    }
    if let Some(x) = &spec.quobyte {
        one("quobyte", &mut errs, &|| {
            validate_quobyte(x, &path.child("quobyte"))
        });
    }
    if let Some(x) = &spec.cephfs {
        one("cephFS", &mut errs, &|| {
            if x.monitors.is_empty() {
                vec![FieldError::required(
                    &path.child("cephfs").child("monitors"),
                    "",
                )]
            } else {
                Vec::new()
            }
        });
    }
    if let Some(x) = &spec.iscsi {
        one("iscsi", &mut errs, &|| {
            let p = path.child("iscsi");
            let mut e = ErrorList::new();
            if x.target_portal.is_empty() {
                e.push(FieldError::required(&p.child("targetPortal"), ""));
            }
            if x.initiator_name.is_some() && pv_name.len() + 1 + x.target_portal.len() > 64 {
                e.push(FieldError::invalid(
                    &p.child("targetportal"),
                    x.target_portal.as_str(),
                    "Total length of <volume name>:<iscsi.targetPortal> must be under 64 characters if iscsi.initiatorName is specified.",
                ));
            }
            let chap = x.chap_auth_discovery == Some(true) || x.chap_auth_session == Some(true);
            e.extend(validate_iscsi_common(
                &x.iqn,
                x.lun,
                chap,
                x.secret_ref.is_some(),
                &p,
                "must be valid format",
            ));
            if let Some(r) = &x.secret_ref
                && s(&r.name).is_empty()
            {
                e.push(FieldError::required(
                    &p.child("secretRef").child("name"),
                    "",
                ));
            }
            if let Some(initiator) = &x.initiator_name {
                e.extend(initiator_format_errors(
                    initiator,
                    &p.child("initiatorname"),
                    "must be valid format",
                ));
            }
            e
        });
    }
    if let Some(x) = &spec.cinder {
        one("cinder", &mut errs, &|| {
            let p = path.child("cinder");
            let mut e = ErrorList::new();
            if x.volume_id.is_empty() {
                e.push(FieldError::required(&p.child("volumeID"), ""));
            }
            if let Some(r) = &x.secret_ref {
                if s(&r.name).is_empty() {
                    e.push(FieldError::required(
                        &p.child("secretRef").child("name"),
                        "",
                    ));
                }
                if s(&r.namespace).is_empty() {
                    e.push(FieldError::required(
                        &p.child("secretRef").child("namespace"),
                        "",
                    ));
                }
            }
            e
        });
    }
    if let Some(x) = &spec.fc {
        one("fc", &mut errs, &|| validate_fc(x, &path.child("fc")));
    }
    if let Some(x) = &spec.flex_volume {
        // Upstream counts a flexVolume without the "more than one" check.
        n += 1;
        let p = path.child("flexVolume");
        if x.driver.is_empty() {
            errs.push(FieldError::required(&p.child("driver"), ""));
        }
        errs.extend(validate_flex_options(x.options.as_ref(), &p));
    }
    let mut one = |field: &str, errs: &mut ErrorList, check: &dyn Fn() -> ErrorList| {
        if n > 0 {
            errs.push(FieldError::forbidden(
                &path.child(field),
                MAY_NOT_MORE_THAN_ONE,
            ));
        } else {
            n += 1;
            errs.extend(check());
        }
    };
    if let Some(x) = &spec.azure_file {
        one("azureFile", &mut errs, &|| {
            let p = path.child("azureFile");
            let mut e = ErrorList::new();
            if x.secret_name.is_empty() {
                e.push(FieldError::required(&p.child("secretName"), ""));
            }
            if x.share_name.is_empty() {
                e.push(FieldError::required(&p.child("shareName"), ""));
            }
            if x.secret_namespace.as_deref() == Some("") {
                e.push(FieldError::required(&p.child("secretNamespace"), ""));
            }
            e
        });
    }
    if let Some(x) = &spec.vsphere_volume {
        one("vsphereVolume", &mut errs, &|| {
            validate_vsphere(x, &path.child("vsphereVolume"))
        });
    }
    if let Some(x) = &spec.photon_persistent_disk {
        one("photonPersistentDisk", &mut errs, &|| {
            validate_photon(x, &path.child("photonPersistentDisk"))
        });
    }
    if let Some(x) = &spec.portworx_volume {
        one("portworxVolume", &mut errs, &|| {
            validate_portworx(x, &path.child("portworxVolume"))
        });
    }
    if let Some(x) = &spec.azure_disk {
        one("azureDisk", &mut errs, &|| {
            validate_azure_disk(x, &path.child("azureDisk"))
        });
    }
    if let Some(x) = &spec.scale_io {
        one("scaleIO", &mut errs, &|| {
            let p = path.child("scaleIO");
            let mut e = ErrorList::new();
            if x.gateway.is_empty() {
                e.push(FieldError::required(&p.child("gateway"), ""));
            }
            if x.system.is_empty() {
                e.push(FieldError::required(&p.child("system"), ""));
            }
            if s(&x.volume_name).is_empty() {
                e.push(FieldError::required(&p.child("volumeName"), ""));
            }
            e
        });
    }
    if let Some(x) = &spec.local {
        one("local", &mut errs, &|| {
            let p = path.child("local");
            let mut e = if x.path.is_empty() {
                vec![FieldError::required(&p.child("path"), "")]
            } else {
                validate_path_no_backsteps(&x.path, &p.child("path"))
            };
            if !node_affinity_specified {
                e.push(FieldError::required(
                    &path.child("nodeAffinity"),
                    "Local volume requires node affinity",
                ));
            }
            e
        });
    }
    if let Some(x) = &spec.storageos {
        one("storageos", &mut errs, &|| {
            let p = path.child("storageos");
            let mut e = ErrorList::new();
            let vn = s(&x.volume_name);
            if vn.is_empty() {
                e.push(FieldError::required(&p.child("volumeName"), ""));
            } else {
                e.extend(meta::validate_dns1123_label(vn, &p.child("volumeName")));
            }
            let vns = s(&x.volume_namespace);
            if !vns.is_empty() {
                e.extend(meta::validate_dns1123_label(
                    vns,
                    &p.child("volumeNamespace"),
                ));
            }
            if let Some(r) = &x.secret_ref {
                if s(&r.name).is_empty() {
                    e.push(FieldError::required(
                        &p.child("secretRef").child("name"),
                        "",
                    ));
                }
                if s(&r.namespace).is_empty() {
                    e.push(FieldError::required(
                        &p.child("secretRef").child("namespace"),
                        "",
                    ));
                }
            }
            e
        });
    }
    if let Some(x) = &spec.csi {
        one("csi", &mut errs, &|| {
            let p = path.child("csi");
            let mut e = validate_csi_driver_name(&x.driver, &p.child("driver"));
            if x.volume_handle.is_empty() {
                e.push(FieldError::required(&p.child("volumeHandle"), ""));
            }
            for (field, r) in [
                (
                    "controllerPublishSecretRef",
                    &x.controller_publish_secret_ref,
                ),
                ("controllerExpandSecretRef", &x.controller_expand_secret_ref),
                ("nodePublishSecretRef", &x.node_publish_secret_ref),
                ("nodeExpandSecretRef", &x.node_expand_secret_ref),
            ] {
                if let Some(r) = r {
                    e.extend(validate_pv_secret_reference(r, &p.child(field)));
                }
            }
            e
        });
    }
    if n == 0 {
        errs.push(FieldError::required(path, "must specify a volume type"));
    }
    if let Some(hp) = &spec.host_path
        && clean_is_root(&hp.path)
        && reclaim == "Recycle"
    {
        errs.push(FieldError::forbidden(
            &path.child("persistentVolumeReclaimPolicy"),
            "may not be 'recycle' for a hostPath mount of '/'",
        ));
    }
    let class = s(&spec.storage_class_name);
    if !class.is_empty() {
        errs.extend(meta::validate_name(
            names::name_is_dns_subdomain,
            class,
            &path.child("storageClassName"),
        ));
    }
    if let Some(mode) = &spec.volume_mode
        && !VOLUME_MODES.contains(&mode.as_str())
    {
        errs.push(FieldError::not_supported(
            &path.child("volumeMode"),
            mode.as_str(),
            &VOLUME_MODES,
        ));
    }
    errs
}

/// Whether Go's `path.Clean(p)` is `/`.
fn clean_is_root(p: &str) -> bool {
    p.starts_with('/')
        && p.split('/')
            .all(|seg| seg.is_empty() || seg == "." || seg == "..")
}

/// A vSphere virtual disk (the same source type in pod volumes and persistent volumes).
fn validate_vsphere(x: &core::VsphereVirtualDiskVolumeSource, path: &Path) -> ErrorList {
    required_text(&x.volume_path, &path.child("volumePath"))
}

/// A Photon persistent disk (the same source type in pod volumes and persistent volumes).
fn validate_photon(x: &core::PhotonPersistentDiskVolumeSource, path: &Path) -> ErrorList {
    required_text(&x.pd_id, &path.child("pdID"))
}

/// A Portworx volume (the same source type in pod volumes and persistent volumes).
fn validate_portworx(x: &core::PortworxVolumeSource, path: &Path) -> ErrorList {
    required_text(&x.volume_id, &path.child("volumeID"))
}

/// `Required value` when `value` is empty.
fn required_text(value: &str, path: &Path) -> ErrorList {
    if value.is_empty() {
        vec![FieldError::required(path, "")]
    } else {
        Vec::new()
    }
}
