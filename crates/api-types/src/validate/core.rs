//! The core group's kinds other than Services and Endpoints: Namespace, Pod, PodTemplate,
//! Binding, ConfigMap, Secret, ServiceAccount, Node, LimitRange, ResourceQuota,
//! PersistentVolumeClaim and PersistentVolume.

use crate::SortedMap;
use std::net::IpAddr;

use super::Validate;
use super::field::{ErrorList, FieldError, Path, go_quote};
use super::gofmt;
use super::meta::{self, items, s};
use super::names;
use super::pod::{self, PodOpts};
use super::resources;
use super::volumes;
use crate::Quantity;
use crate::core::v1::{
    Binding, ConfigMap, LimitRange, Namespace, Node, PersistentVolume, PersistentVolumeClaim,
    PersistentVolumeClaimSpec, PersistentVolumeSpec, Pod, PodSpec, PodTemplate, PodTemplateSpec,
    ResourceQuota, ResourceQuotaSpec, Secret, ServiceAccount, Taint,
};

/// The most bytes a ConfigMap's or Secret's data may hold (upstream's `MaxSecretSize`).
const MAX_SECRET_SIZE: usize = 1024 * 1024;

fn metadata() -> Path {
    Path::new("metadata")
}

impl Validate for Namespace {
    fn validate(&self) -> ErrorList {
        let mut errs = meta::validate_object_meta(
            &self.metadata,
            false,
            names::name_is_dns_label,
            &metadata(),
        );
        let path = Path::new("spec").child("finalizers");
        for f in self
            .spec
            .as_ref()
            .map(|s| items(&s.finalizers))
            .unwrap_or(&[])
        {
            errs.extend(meta::validate_qualified_name(f, &path));
            errs.extend(meta::validate_kube_finalizer_name(f, &path));
        }
        errs
    }
}

impl Validate for Pod {
    /// Upstream's `ValidatePodCreate`.
    fn validate(&self) -> ErrorList {
        let md = metadata();
        let spec_path = Path::new("spec");
        let default = PodSpec::default();
        let spec = self.spec.as_ref().unwrap_or(&default);
        let mut errs =
            meta::validate_object_meta(&self.metadata, true, names::name_is_dns_subdomain, &md);
        errs.extend(pod::validate_pod_specific_annotations(
            self.metadata.annotations.as_ref(),
            spec,
            &md.child("annotations"),
        ));
        errs.extend(pod::validate_pod_spec(
            spec,
            Some(&self.metadata),
            &spec_path,
            PodOpts {
                resource_is_pod: true,
            },
        ));
        if s(&spec.service_account_name).is_empty() {
            for (vi, volume) in items(&spec.volumes).iter().enumerate() {
                let Some(projected) = &volume.projected else {
                    continue;
                };
                for (si, source) in items(&projected.sources).iter().enumerate() {
                    if source.service_account_token.is_some() {
                        let p = spec_path
                            .child("volumes")
                            .index(vi)
                            .child("projected")
                            .child("sources")
                            .index(si)
                            .child("serviceAccountToken");
                        errs.push(FieldError::forbidden(
                            &p,
                            "must not be specified when serviceAccountName is not set",
                        ));
                    }
                }
            }
        }
        for (i, c) in spec.containers.iter().enumerate() {
            errs.extend(pod::validate_container_only_for_pod(
                c,
                &spec_path.child("containers").index(i),
            ));
        }
        for (i, c) in items(&spec.init_containers).iter().enumerate() {
            errs.extend(pod::validate_container_only_for_pod(
                c,
                &spec_path.child("initContainers").index(i),
            ));
        }
        if !items(&spec.ephemeral_containers).is_empty() {
            errs.push(FieldError::forbidden(
                &spec_path.child("ephemeralContainers"),
                "cannot be set on create",
            ));
        }
        if !s(&spec.node_name).is_empty() && !items(&spec.scheduling_gates).is_empty() {
            errs.push(FieldError::forbidden(
                &spec_path.child("nodeName"),
                "cannot be set until all schedulingGates have been cleared",
            ));
        }
        errs.extend(pod::validate_seccomp_annotations_and_fields(
            &self.metadata,
            spec,
            &spec_path,
        ));
        errs.extend(pod::validate_apparmor_annotations_and_fields(
            &self.metadata,
            spec,
            &spec_path,
        ));
        errs
    }
}

impl Validate for PodTemplate {
    fn validate(&self) -> ErrorList {
        let mut errs = meta::validate_object_meta(
            &self.metadata,
            true,
            names::name_is_dns_subdomain,
            &metadata(),
        );
        let default = PodTemplateSpec::default();
        let template = self.template.as_ref().unwrap_or(&default);
        errs.extend(pod::validate_pod_template_spec(
            template,
            &Path::new("template"),
            PodOpts::default(),
        ));
        errs
    }
}

impl Validate for Binding {
    /// Upstream's `ValidatePodBinding` (the binding's metadata is not validated upstream).
    fn validate(&self) -> ErrorList {
        let mut errs = ErrorList::new();
        let target = Path::new("target");
        let kind = s(&self.target.kind);
        if !kind.is_empty() && kind != "Node" {
            errs.push(FieldError::not_supported(
                &target.child("kind"),
                kind,
                &["Node", "<empty>"],
            ));
        }
        if s(&self.target.name).is_empty() {
            errs.push(FieldError::required(&target.child("name"), ""));
        }
        errs
    }
}

impl Validate for ConfigMap {
    fn validate(&self) -> ErrorList {
        let mut errs = meta::validate_object_meta(
            &self.metadata,
            true,
            names::name_is_dns_subdomain,
            &metadata(),
        );
        let mut total = 0usize;
        let binary = self.binary_data.as_ref();
        for (key, value) in self.data.iter().flatten() {
            let p = Path::new("data").key(key);
            for msg in names::is_config_map_key(key) {
                errs.push(FieldError::invalid(&p, key.as_str(), msg));
            }
            if binary.is_some_and(|b| b.contains_key(key)) {
                errs.push(FieldError::invalid(
                    &p,
                    key.as_str(),
                    "duplicate of key present in binaryData",
                ));
            }
            total = total.saturating_add(value.len());
        }
        for (key, value) in binary.into_iter().flatten() {
            for msg in names::is_config_map_key(key) {
                errs.push(FieldError::invalid(
                    &Path::new("binaryData").key(key),
                    key.as_str(),
                    msg,
                ));
            }
            total = total.saturating_add(value.0.len());
        }
        if total > MAX_SECRET_SIZE {
            // Upstream reports the whole object, with an empty path.
            errs.push(FieldError::too_long(&Path::root(), MAX_SECRET_SIZE));
        }
        errs
    }
}

/// Go's `json.Unmarshal` of `data` into a map, as far as its error text can be reproduced.
fn json_object_error(data: &[u8]) -> Option<String> {
    match serde_json::from_slice::<serde_json::Value>(data) {
        Ok(serde_json::Value::Object(_) | serde_json::Value::Null) => None,
        Ok(v) => {
            let kind = match v {
                serde_json::Value::Array(_) => "array",
                serde_json::Value::String(_) => "string",
                serde_json::Value::Number(_) => "number",
                _ => "bool",
            };
            Some(format!(
                "json: cannot unmarshal {kind} into Go value of type map[string]interface {{}}"
            ))
        }
        Err(e) if e.is_eof() => Some("unexpected end of JSON input".to_owned()),
        Err(e) => {
            // Find the byte serde stopped at (line and column are 1-based).
            let offset = data
                .split(|b| *b == b'\n')
                .take(e.line().saturating_sub(1))
                .map(|l| l.len() + 1)
                .sum::<usize>()
                + e.column().saturating_sub(1);
            let c = data.get(offset).map_or('?', |b| char::from(*b));
            Some(format!(
                "invalid character {} looking for beginning of value",
                quote_rune(c)
            ))
        }
    }
}

/// Go's `quoteChar`: `'x'`, with `'` and `\` escaped.
fn quote_rune(c: char) -> String {
    match c {
        '\'' => "'\\''".to_owned(),
        '"' => "'\"'".to_owned(),
        c => {
            let q = go_quote(&c.to_string());
            format!("'{}'", &q[1..q.len() - 1])
        }
    }
}

impl Validate for Secret {
    fn validate(&self) -> ErrorList {
        let md = metadata();
        let mut errs =
            meta::validate_object_meta(&self.metadata, true, names::name_is_dns_subdomain, &md);
        // The v1 conversion merges `stringData` into `data` (stringData wins).
        let mut data: SortedMap<&str, &[u8]> = self
            .data
            .iter()
            .flatten()
            .map(|(k, v)| (k.as_str(), v.0.as_slice()))
            .collect();
        for (k, v) in self.string_data.iter().flatten() {
            data.insert(k.as_str(), v.as_bytes());
        }
        let data_path = Path::new("data");
        let mut total = 0usize;
        for (key, value) in &data {
            for msg in names::is_config_map_key(key) {
                errs.push(FieldError::invalid(&data_path.key(key), *key, msg));
            }
            total = total.saturating_add(value.len());
        }
        if total > MAX_SECRET_SIZE {
            errs.push(FieldError::too_long(&data_path, MAX_SECRET_SIZE));
        }
        let require = |errs: &mut ErrorList, key: &str| {
            errs.push(FieldError::required(&data_path.key(key), ""))
        };
        match s(&self.type_) {
            "kubernetes.io/service-account-token" => {
                const KEY: &str = "kubernetes.io/service-account.name";
                if self
                    .metadata
                    .annotations()
                    .get(KEY)
                    .is_none_or(String::is_empty)
                {
                    errs.push(FieldError::required(&md.child("annotations").key(KEY), ""));
                }
            }
            "kubernetes.io/dockercfg" | "kubernetes.io/dockerconfigjson" => {
                let key = if s(&self.type_) == "kubernetes.io/dockercfg" {
                    ".dockercfg"
                } else {
                    ".dockerconfigjson"
                };
                match data.get(key) {
                    None => require(&mut errs, key),
                    Some(bytes) => {
                        if let Some(e) = json_object_error(bytes) {
                            errs.push(FieldError::invalid(
                                &data_path.key(key),
                                "<secret contents redacted>",
                                e,
                            ));
                        }
                    }
                }
            }
            "kubernetes.io/basic-auth"
                if !data.contains_key("username") && !data.contains_key("password") =>
            {
                require(&mut errs, "username");
                require(&mut errs, "password");
            }
            "kubernetes.io/ssh-auth" if data.get("ssh-privatekey").is_none_or(|v| v.is_empty()) => {
                require(&mut errs, "ssh-privatekey");
            }
            "kubernetes.io/tls" => {
                if !data.contains_key("tls.crt") {
                    require(&mut errs, "tls.crt");
                }
                if !data.contains_key("tls.key") {
                    require(&mut errs, "tls.key");
                }
            }
            _ => {}
        }
        errs
    }
}

impl Validate for ServiceAccount {
    fn validate(&self) -> ErrorList {
        meta::validate_object_meta(
            &self.metadata,
            true,
            names::name_is_dns_subdomain,
            &metadata(),
        )
    }
}

/// `core.Taint{...}` as Go's `%#v` prints it.
fn go_taint(t: &Taint) -> String {
    format!(
        "core.Taint{{Key:{}, Value:{}, Effect:{}, TimeAdded:{}}}",
        go_quote(&t.key),
        go_quote(s(&t.value)),
        go_quote(&t.effect),
        gofmt::pointer("v1.Time", t.time_added.as_ref())
    )
}

/// Upstream's `validateNodeTaints`.
pub(crate) fn validate_node_taints(taints: &[Taint], path: &Path) -> ErrorList {
    let mut errs = ErrorList::new();
    let mut unique: SortedMap<&str, Vec<&str>> = SortedMap::new();
    for (i, t) in taints.iter().enumerate() {
        let p = path.index(i);
        errs.extend(meta::validate_label_name(&t.key, &p.child("key")));
        let msgs = names::is_valid_label_value(s(&t.value));
        if !msgs.is_empty() {
            errs.push(FieldError::invalid(
                &p.child("value"),
                s(&t.value),
                msgs.join(";"),
            ));
        }
        errs.extend(pod::validate_taint_effect(
            &t.effect,
            false,
            &p.child("effect"),
        ));
        let keys = unique.entry(t.effect.as_str()).or_default();
        if keys.contains(&t.key.as_str()) {
            let mut e = FieldError::duplicate(&p, gofmt::raw(go_taint(t)));
            e.detail = "taints must be unique by key and effect pair".to_owned();
            errs.push(e);
            continue;
        }
        keys.push(t.key.as_str());
    }
    errs
}

impl Validate for Node {
    /// Upstream's `ValidateNode`. The deprecated taint and avoid-pods annotations are not parsed.
    fn validate(&self) -> ErrorList {
        let md = metadata();
        let mut errs =
            meta::validate_object_meta(&self.metadata, false, names::name_is_dns_subdomain, &md);
        let spec = self.spec.clone().unwrap_or_default();
        let taints = items(&spec.taints);
        if !taints.is_empty() {
            // Upstream reports spec taints under `metadata.taints`.
            errs.extend(validate_node_taints(taints, &md.child("taints")));
        }
        if let Some(status) = &self.status {
            for (field, list) in [
                ("capacity", &status.capacity),
                ("allocatable", &status.allocatable),
            ] {
                for (k, v) in list.iter().flatten() {
                    errs.extend(resources::validate_resource_quantity_value(
                        k,
                        v,
                        &Path::new("status").child(field).child(k),
                    ));
                }
            }
        }
        let cidrs = items(&spec.pod_cidrs);
        if !cidrs.is_empty() {
            let p = Path::new("spec").child("podCIDRs");
            for (i, c) in cidrs.iter().enumerate() {
                errs.extend(names::is_valid_cidr(&p.index(i), c));
            }
            if cidrs.len() > 1 {
                let families: Vec<Option<IpAddr>> = cidrs
                    .iter()
                    .map(|c| names::parse_cidr_sloppy(c).map(|(ip, _)| ip))
                    .collect();
                let dual = families.iter().any(|f| matches!(f, Some(IpAddr::V4(_))))
                    && families.iter().any(|f| matches!(f, Some(IpAddr::V6(_))));
                if !dual || cidrs.len() > 2 {
                    errs.push(FieldError::invalid(
                        &p,
                        gofmt::raw(gofmt::string_slice(Some(cidrs))),
                        "may specify no more than one CIDR for each IP family",
                    ));
                }
                let mut seen = std::collections::BTreeSet::new();
                for (i, c) in cidrs.iter().enumerate() {
                    if !seen.insert(c.as_str()) {
                        errs.push(FieldError::duplicate(&p.index(i), c.as_str()));
                    }
                }
            }
        }
        errs
    }
}

const LIMIT_TYPES: [&str; 3] = ["Pod", "Container", "PersistentVolumeClaim"];

fn validate_limit_range_type(value: &str, path: &Path) -> ErrorList {
    let errs: ErrorList = names::is_qualified_name(value)
        .into_iter()
        .map(|m| FieldError::invalid(path, value, m))
        .collect();
    if !errs.is_empty() {
        return errs;
    }
    if !value.contains('/') && !LIMIT_TYPES.contains(&value) {
        return vec![FieldError::invalid(
            path,
            value,
            "must be a standard limit type or fully qualified",
        )];
    }
    errs
}

fn validate_limit_range_resource_name(limit_type: &str, name: &str, path: &Path) -> ErrorList {
    if limit_type == "Pod" || limit_type == "Container" {
        resources::validate_container_resource_name(name, path)
    } else {
        resources::validate_resource_name(name, path)
    }
}

/// Go's `%f`: six decimals.
fn go_float(v: f64) -> String {
    if v.is_infinite() {
        if v > 0.0 {
            "+Inf".to_owned()
        } else {
            "-Inf".to_owned()
        }
    } else if v.is_nan() {
        "NaN".to_owned()
    } else {
        format!("{v:.6}")
    }
}

impl Validate for LimitRange {
    /// Upstream's `ValidateLimitRange`. Quantities that upstream prints with Go's `%#v` of their
    /// internal representation are printed as their canonical string here.
    fn validate(&self) -> ErrorList {
        let mut errs = meta::validate_object_meta(
            &self.metadata,
            true,
            names::name_is_dns_subdomain,
            &metadata(),
        );
        let limits_path = Path::new("spec").child("limits");
        let mut types_seen = std::collections::BTreeSet::new();
        let limits = self
            .spec
            .as_ref()
            .map(|s| s.limits.as_slice())
            .unwrap_or(&[]);
        let empty: SortedMap<String, Quantity> = SortedMap::new();
        for (i, limit) in limits.iter().enumerate() {
            let p = limits_path.index(i);
            let ty = limit.type_.as_str();
            errs.extend(validate_limit_range_type(ty, &p.child("type")));
            if !types_seen.insert(ty) {
                errs.push(FieldError::duplicate(&p.child("type"), ty));
            }
            let max = limit.max.as_ref().unwrap_or(&empty);
            let min = limit.min.as_ref().unwrap_or(&empty);
            let default = limit.default_.as_ref().unwrap_or(&empty);
            let default_request = limit.default_request.as_ref().unwrap_or(&empty);
            let ratios = limit.max_limit_request_ratio.as_ref().unwrap_or(&empty);
            let mut keys: std::collections::BTreeSet<&str> = std::collections::BTreeSet::new();
            for (field, list) in [("max", max), ("min", min)] {
                for k in list.keys() {
                    errs.extend(validate_limit_range_resource_name(
                        ty,
                        k,
                        &p.child(field).key(k),
                    ));
                    keys.insert(k);
                }
            }
            let (defaults, default_requests) = if ty == "Pod" {
                if !default.is_empty() {
                    errs.push(FieldError::forbidden(
                        &p.child("default"),
                        "may not be specified when `type` is 'Pod'",
                    ));
                }
                if !default_request.is_empty() {
                    errs.push(FieldError::forbidden(
                        &p.child("defaultRequest"),
                        "may not be specified when `type` is 'Pod'",
                    ));
                }
                (&empty, &empty)
            } else {
                for (field, list) in [("default", default), ("defaultRequest", default_request)] {
                    for k in list.keys() {
                        errs.extend(validate_limit_range_resource_name(
                            ty,
                            k,
                            &p.child(field).key(k),
                        ));
                        keys.insert(k);
                    }
                }
                (default, default_request)
            };
            if ty == "PersistentVolumeClaim"
                && !min.contains_key("storage")
                && !max.contains_key("storage")
            {
                errs.push(FieldError::required(
                    &p.child("limits"),
                    "either minimum or maximum storage value is required, but neither was provided",
                ));
            }
            for k in ratios.keys() {
                errs.extend(validate_limit_range_resource_name(
                    ty,
                    k,
                    &p.child("maxLimitRequestRatio").key(k),
                ));
                keys.insert(k);
            }
            for k in keys {
                let (mn, mx, df, dr, ratio) = (
                    min.get(k),
                    max.get(k),
                    defaults.get(k),
                    default_requests.get(k),
                    ratios.get(k),
                );
                if let (Some(mn), Some(mx)) = (mn, mx)
                    && mn > mx
                {
                    errs.push(FieldError::invalid(
                        &p.child("min").key(k),
                        mn.to_string(),
                        format!("min value {mn} is greater than max value {mx}"),
                    ));
                }
                if let (Some(dr), Some(mn)) = (dr, mn)
                    && mn > dr
                {
                    errs.push(FieldError::invalid(
                        &p.child("defaultRequest").key(k),
                        dr.to_string(),
                        format!("min value {mn} is greater than default request value {dr}"),
                    ));
                }
                if let (Some(dr), Some(mx)) = (dr, mx)
                    && dr > mx
                {
                    errs.push(FieldError::invalid(
                        &p.child("defaultRequest").key(k),
                        dr.to_string(),
                        format!("default request value {dr} is greater than max value {mx}"),
                    ));
                }
                if let (Some(dr), Some(df)) = (dr, df)
                    && dr > df
                {
                    errs.push(FieldError::invalid(
                        &p.child("defaultRequest").key(k),
                        dr.to_string(),
                        format!(
                            "default request value {dr} is greater than default limit value {df}"
                        ),
                    ));
                }
                if let (Some(df), Some(mn)) = (df, mn)
                    && mn > df
                {
                    errs.push(FieldError::invalid(
                        &p.child("default").key(k),
                        mn.to_string(),
                        format!("min value {mn} is greater than default value {df}"),
                    ));
                }
                if let (Some(df), Some(mx)) = (df, mx)
                    && df > mx
                {
                    errs.push(FieldError::invalid(
                        &p.child("default").key(k),
                        mx.to_string(),
                        format!("default value {df} is greater than max value {mx}"),
                    ));
                }
                if let Some(ratio) = ratio {
                    if ratio.milli_value() < 1000 {
                        errs.push(FieldError::invalid(
                            &p.child("maxLimitRequestRatio").key(k),
                            ratio.to_string(),
                            format!("ratio {ratio} is less than 1"),
                        ));
                    }
                    if let (Some(mn), Some(mx)) = (mn, mx) {
                        const MAX_MILLI: i64 = i64::MAX / 1000;
                        let (ratio_value, min_value, max_value) = if ratio.value() < MAX_MILLI
                            && mn.value() < MAX_MILLI
                            && mx.value() < MAX_MILLI
                        {
                            (
                                ratio.milli_value() as f64 / 1000.0,
                                mn.milli_value(),
                                mx.milli_value(),
                            )
                        } else {
                            (ratio.value() as f64, mn.value(), mx.value())
                        };
                        let limit = max_value as f64 / min_value as f64;
                        if ratio_value > limit {
                            errs.push(FieldError::invalid(
                                &p.child("maxLimitRequestRatio").key(k),
                                ratio.to_string(),
                                format!(
                                    "ratio {ratio} is greater than max/min = {}",
                                    go_float(limit)
                                ),
                            ));
                        }
                    }
                }
                if let (Some(df), Some(dr)) = (df, dr)
                    && !resources::is_overcommit_allowed(k)
                    && df != dr
                {
                    errs.push(FieldError::invalid(
                        &p.child("defaultRequest").key(k),
                        dr.to_string(),
                        format!(
                            "default value {df} must equal to defaultRequest value {dr} in {k}"
                        ),
                    ));
                }
            }
        }
        errs
    }
}

const QUOTA_SCOPES: [&str; 6] = [
    "Terminating",
    "NotTerminating",
    "BestEffort",
    "NotBestEffort",
    "PriorityClass",
    "CrossNamespacePodAffinity",
];
const POD_COMPUTE_RESOURCES: [&str; 6] = [
    "cpu",
    "memory",
    "limits.cpu",
    "limits.memory",
    "requests.cpu",
    "requests.memory",
];

/// Upstream's `IsResourceQuotaScopeValidForResource`.
fn scope_valid_for_resource(scope: &str, resource: &str) -> bool {
    match scope {
        "Terminating"
        | "NotTerminating"
        | "NotBestEffort"
        | "PriorityClass"
        | "CrossNamespacePodAffinity" => {
            resource == "pods" || POD_COMPUTE_RESOURCES.contains(&resource)
        }
        "BestEffort" => resource == "pods",
        _ => true,
    }
}

fn go_scopes(scopes: Option<&[String]>) -> super::field::BadValue {
    gofmt::raw(gofmt::typed_slice("core.ResourceQuotaScope", scopes, |s| {
        go_quote(s)
    }))
}

fn go_scope_selector(spec: &ResourceQuotaSpec) -> String {
    let Some(sel) = &spec.scope_selector else {
        return "(*core.ScopeSelector)(nil)".to_owned();
    };
    let exprs = gofmt::typed_slice(
        "core.ScopedResourceSelectorRequirement",
        sel.match_expressions.as_deref(),
        |r| {
            format!(
                "core.ScopedResourceSelectorRequirement{{ScopeName:{}, Operator:{}, Values:{}}}",
                go_quote(&r.scope_name),
                go_quote(&r.operator),
                gofmt::string_slice(r.values.as_deref())
            )
        },
    );
    format!("core.ScopeSelector{{MatchExpressions:{exprs}}}")
}

fn conflicting_scopes(scopes: &std::collections::BTreeSet<&str>) -> usize {
    [
        ("BestEffort", "NotBestEffort"),
        ("Terminating", "NotTerminating"),
    ]
    .iter()
    .filter(|(a, b)| scopes.contains(a) && scopes.contains(b))
    .count()
}

fn validate_resource_quota_spec(spec: &ResourceQuotaSpec, path: &Path) -> ErrorList {
    let mut errs = ErrorList::new();
    let hard = spec.hard.clone().unwrap_or_default();
    for (k, v) in &hard {
        let p = path.child("hard").key(k);
        errs.extend(resources::validate_resource_quota_resource_name(k, &p));
        errs.extend(resources::validate_resource_quantity_value(k, v, &p));
    }
    let scopes = items(&spec.scopes);
    if !scopes.is_empty() {
        let p = path.child("scopes");
        let mut seen = std::collections::BTreeSet::new();
        for scope in scopes {
            if !QUOTA_SCOPES.contains(&scope.as_str()) {
                errs.push(FieldError::invalid(
                    &p,
                    go_scopes(spec.scopes.as_deref()),
                    "unsupported scope",
                ));
            }
            for k in hard.keys() {
                if resources::is_standard_quota_resource_name(k)
                    && !scope_valid_for_resource(scope, k)
                {
                    errs.push(FieldError::invalid(
                        &p,
                        go_scopes(spec.scopes.as_deref()),
                        "unsupported scope applied to resource",
                    ));
                }
            }
            seen.insert(scope.as_str());
        }
        for _ in 0..conflicting_scopes(&seen) {
            errs.push(FieldError::invalid(
                &p,
                go_scopes(spec.scopes.as_deref()),
                "conflicting scopes",
            ));
        }
    }
    if let Some(sel) = &spec.scope_selector {
        let p = path.child("scopeSelector").child("matchExpressions");
        let mut seen = std::collections::BTreeSet::new();
        for req in items(&sel.match_expressions) {
            if !QUOTA_SCOPES.contains(&req.scope_name.as_str()) {
                errs.push(FieldError::invalid(
                    &p.child("scopeName"),
                    req.scope_name.as_str(),
                    "unsupported scope",
                ));
            }
            for k in hard.keys() {
                if resources::is_standard_quota_resource_name(k)
                    && !scope_valid_for_resource(&req.scope_name, k)
                {
                    errs.push(FieldError::invalid(
                        &p,
                        gofmt::raw(go_scope_selector(spec)),
                        "unsupported scope applied to resource",
                    ));
                }
            }
            if QUOTA_SCOPES
                .iter()
                .filter(|s| **s != "PriorityClass")
                .any(|s| *s == req.scope_name)
                && req.operator != "Exists"
            {
                errs.push(FieldError::invalid(
                    &p.child("operator"),
                    req.operator.as_str(),
                    "must be 'Exists' when scope is any of ResourceQuotaScopeTerminating, ResourceQuotaScopeNotTerminating, ResourceQuotaScopeBestEffort, ResourceQuotaScopeNotBestEffort or ResourceQuotaScopeCrossNamespacePodAffinity",
                ));
            }
            let values = items(&req.values);
            match req.operator.as_str() {
                "In" | "NotIn" => {
                    if values.is_empty() {
                        errs.push(FieldError::required(&p.child("values"), "must be at least one value when `operator` is 'In' or 'NotIn' for scope selector"));
                    }
                }
                "Exists" | "DoesNotExist" => {
                    if !values.is_empty() {
                        errs.push(FieldError::invalid(
                            &p.child("values"),
                            gofmt::raw(gofmt::string_slice(req.values.as_deref())),
                            "must be no value when `operator` is 'Exist' or 'DoesNotExist' for scope selector",
                        ));
                    }
                }
                other => errs.push(FieldError::invalid(
                    &p.child("operator"),
                    other,
                    "not a valid selector operator",
                )),
            }
            seen.insert(req.scope_name.as_str());
        }
        for _ in 0..conflicting_scopes(&seen) {
            errs.push(FieldError::invalid(
                &p,
                go_scopes(spec.scopes.as_deref()),
                "conflicting scopes",
            ));
        }
    }
    errs
}

impl Validate for ResourceQuota {
    fn validate(&self) -> ErrorList {
        let mut errs = meta::validate_object_meta(
            &self.metadata,
            true,
            names::name_is_dns_subdomain,
            &metadata(),
        );
        let spec = self.spec.clone().unwrap_or_default();
        errs.extend(validate_resource_quota_spec(&spec, &Path::new("spec")));
        if let Some(status) = &self.status {
            for (field, list) in [("hard", &status.hard), ("used", &status.used)] {
                for (k, v) in list.iter().flatten() {
                    let p = Path::new("status").child(field).key(k);
                    errs.extend(resources::validate_resource_quota_resource_name(k, &p));
                    errs.extend(resources::validate_resource_quantity_value(k, v, &p));
                }
            }
        }
        errs
    }
}

impl Validate for PersistentVolumeClaim {
    fn validate(&self) -> ErrorList {
        let mut errs = meta::validate_object_meta(
            &self.metadata,
            true,
            names::name_is_dns_subdomain,
            &metadata(),
        );
        let default = PersistentVolumeClaimSpec::default();
        errs.extend(volumes::validate_pvc_spec(
            self.spec.as_ref().unwrap_or(&default),
            &Path::new("spec"),
        ));
        errs
    }
}

impl Validate for PersistentVolume {
    fn validate(&self) -> ErrorList {
        let mut errs = meta::validate_object_meta(
            &self.metadata,
            false,
            names::name_is_dns_subdomain,
            &metadata(),
        );
        let default = PersistentVolumeSpec::default();
        errs.extend(volumes::validate_pv_spec(
            self.spec.as_ref().unwrap_or(&default),
            s(&self.metadata.name),
            &Path::new("spec"),
        ));
        errs
    }
}
