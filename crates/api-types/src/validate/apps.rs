//! The apps group: Deployment, ReplicaSet, DaemonSet, StatefulSet and ControllerRevision, as
//! upstream's `pkg/apis/apps/validation` (selectors matching the template, restart policy
//! `Always`, rolling-update bounds, replica counts).

use crate::SortedMap;

use super::Validate;
use super::field::{BadValue, ErrorList, FieldError, Path, go_quote};
use super::gofmt;
use super::meta::{self, SelectorOpts, s};
use super::names;
use super::pod::{self, PodOpts};
use crate::IntOrString;
use crate::apps::v1::{ControllerRevision, DaemonSet, Deployment, ReplicaSet, StatefulSet};
use crate::core::v1::PodTemplateSpec;
use crate::meta::LabelSelector;

fn int_or_string_value(v: &IntOrString) -> BadValue {
    gofmt::raw(gofmt::int_or_string(v))
}

fn selector_value(sel: Option<&LabelSelector>) -> BadValue {
    match sel {
        Some(sel) => gofmt::raw(gofmt::label_selector(sel)),
        None => gofmt::raw(gofmt::pointer("v1.LabelSelector", sel)),
    }
}

fn labels_value(labels: Option<&SortedMap<String, String>>) -> BadValue {
    gofmt::raw(gofmt::string_map(labels))
}

/// The number of a percentage (`25%` → 25), if `v` is one (upstream's `getPercentValue`).
fn percent_value(v: &IntOrString) -> Option<i64> {
    let IntOrString::String(s) = v else {
        return None;
    };
    if !names::is_valid_percent(s).is_empty() {
        return None;
    }
    // Digits only; a value too large for an int saturates as Go's `Atoi` does.
    Some(s.trim_end_matches('%').parse::<i64>().unwrap_or(i64::MAX))
}

/// Upstream's `getIntOrPercentValue`: a percentage's number, or the integer value (a string
/// that is no percentage reads as its decimal value, 0 when it is none).
fn int_or_percent_value(v: &IntOrString) -> i64 {
    match (percent_value(v), v) {
        (Some(p), _) => p,
        (None, IntOrString::Int(i)) => i64::from(*i),
        (None, IntOrString::String(s)) => s.parse::<i64>().unwrap_or(0),
    }
}

/// Upstream's `ValidatePositiveIntOrPercent` (a non-negative integer or a percentage).
pub(crate) fn validate_positive_int_or_percent(v: &IntOrString, path: &Path) -> ErrorList {
    match v {
        IntOrString::String(s) => names::is_valid_percent(s)
            .into_iter()
            .map(|m| FieldError::invalid(path, int_or_string_value(v), m))
            .collect(),
        IntOrString::Int(i) => meta::validate_nonnegative(i64::from(*i), path),
    }
}

/// Upstream's `IsNotMoreThan100Percent`.
pub(crate) fn is_not_more_than_100_percent(v: &IntOrString, path: &Path) -> ErrorList {
    match percent_value(v) {
        Some(p) if p > 100 => vec![FieldError::invalid(
            path,
            int_or_string_value(v),
            "must not be greater than 100%",
        )],
        _ => Vec::new(),
    }
}

/// A required selector: `Required` when unset, the selector's own errors, and the `empty`
/// error when it has no requirement.
fn validate_workload_selector(sel: Option<&LabelSelector>, kind: &str, path: &Path) -> ErrorList {
    let Some(sel) = sel else {
        return vec![FieldError::required(path, "")];
    };
    let mut errs = meta::validate_label_selector(Some(sel), SelectorOpts::default(), path);
    if meta::selector_is_empty(sel) {
        errs.push(FieldError::invalid(
            path,
            selector_value(Some(sel)),
            format!("empty selector is invalid for {kind}"),
        ));
    }
    errs
}

/// The selector as upstream converts it: an unset selector is `nil` (matching nothing).
fn as_selector(sel: Option<&LabelSelector>) -> Result<crate::selector::Selector, ()> {
    meta::selector_from(sel)
}

/// Upstream's `ValidatePodTemplateSpecForReplicaSet` (Deployments and ReplicaSets).
fn validate_template_for_replica_set(
    t: &PodTemplateSpec,
    selector: &crate::selector::Selector,
    path: &Path,
) -> ErrorList {
    let mut errs = ErrorList::new();
    if !selector.is_empty() && !meta::selector_matches(selector, t.metadata.labels.as_ref()) {
        errs.push(FieldError::invalid(
            &path.child("metadata").child("labels"),
            labels_value(t.metadata.labels.as_ref()),
            "`selector` does not match template `labels`",
        ));
    }
    errs.extend(pod::validate_pod_template_spec(t, path, PodOpts::default()));
    errs.extend(restart_always_errors(t, path, "ReplicaSet"));
    errs
}

/// A workload's pods restart `Always` and have no active deadline.
fn restart_always_errors(t: &PodTemplateSpec, path: &Path, kind: &str) -> ErrorList {
    let mut errs = ErrorList::new();
    let spec = t.spec.as_ref();
    let restart = spec.map_or("", |s| meta::s(&s.restart_policy));
    if restart != "Always" {
        errs.push(FieldError::not_supported(
            &path.child("spec").child("restartPolicy"),
            restart,
            &["Always"],
        ));
    }
    if spec.is_some_and(|s| s.active_deadline_seconds.is_some()) {
        errs.push(FieldError::forbidden(
            &path.child("spec").child("activeDeadlineSeconds"),
            format!("activeDeadlineSeconds in {kind} is not Supported"),
        ));
    }
    errs
}

impl Validate for Deployment {
    fn validate(&self) -> ErrorList {
        let mut errs = meta::validate_object_meta(
            &self.metadata,
            true,
            names::name_is_dns_subdomain,
            &Path::new("metadata"),
        );
        let spec = self.spec.clone().unwrap_or_default();
        let p = Path::new("spec");
        errs.extend(meta::validate_nonnegative(
            i64::from(spec.replicas.unwrap_or(0)),
            &p.child("replicas"),
        ));
        errs.extend(validate_workload_selector(
            spec.selector.as_deref(),
            "deployment",
            &p.child("selector"),
        ));
        match as_selector(spec.selector.as_deref()) {
            Err(()) => errs.push(FieldError::invalid(
                &p.child("selector"),
                selector_value(spec.selector.as_deref()),
                "invalid label selector",
            )),
            Ok(sel) => errs.extend(validate_template_for_replica_set(
                &spec.template,
                &sel,
                &p.child("template"),
            )),
        }
        let strategy = spec.strategy.clone().unwrap_or_default();
        let sp = p.child("strategy");
        match s(&strategy.type_) {
            "Recreate" => {
                if strategy.rolling_update.is_some() {
                    errs.push(FieldError::forbidden(
                        &sp.child("rollingUpdate"),
                        "may not be specified when strategy `type` is 'Recreate'",
                    ));
                }
            }
            "RollingUpdate" => match &strategy.rolling_update {
                None => errs.push(FieldError::required(
                    &sp.child("rollingUpdate"),
                    "this should be defaulted and never be nil",
                )),
                Some(ru) => {
                    let rp = sp.child("rollingUpdate");
                    let zero = IntOrString::Int(0);
                    let max_unavailable = ru.max_unavailable.as_ref().unwrap_or(&zero);
                    let max_surge = ru.max_surge.as_ref().unwrap_or(&zero);
                    errs.extend(validate_positive_int_or_percent(
                        max_unavailable,
                        &rp.child("maxUnavailable"),
                    ));
                    errs.extend(validate_positive_int_or_percent(
                        max_surge,
                        &rp.child("maxSurge"),
                    ));
                    if int_or_percent_value(max_unavailable) == 0
                        && int_or_percent_value(max_surge) == 0
                    {
                        errs.push(FieldError::invalid(
                            &rp.child("maxUnavailable"),
                            int_or_string_value(max_unavailable),
                            "may not be 0 when `maxSurge` is 0",
                        ));
                    }
                    errs.extend(is_not_more_than_100_percent(
                        max_unavailable,
                        &rp.child("maxUnavailable"),
                    ));
                }
            },
            other => {
                let rendered = format!(
                    "apps.DeploymentStrategy{{Type:{}, RollingUpdate:{}}}",
                    go_quote(other),
                    gofmt::pointer(
                        "apps.RollingUpdateDeployment",
                        strategy.rolling_update.as_ref()
                    )
                );
                errs.push(FieldError::not_supported(
                    &sp,
                    gofmt::raw(rendered),
                    &["Recreate", "RollingUpdate"],
                ));
            }
        }
        let min_ready = spec.min_ready_seconds.unwrap_or(0);
        errs.extend(meta::validate_nonnegative(
            i64::from(min_ready),
            &p.child("minReadySeconds"),
        ));
        if let Some(limit) = spec.revision_history_limit {
            errs.extend(meta::validate_nonnegative(
                i64::from(limit),
                &p.child("revisionHistoryLimit"),
            ));
        }
        if let Some(pds) = spec.progress_deadline_seconds {
            errs.extend(meta::validate_nonnegative(
                i64::from(pds),
                &p.child("progressDeadlineSeconds"),
            ));
            if pds <= min_ready {
                errs.push(FieldError::invalid(
                    &p.child("progressDeadlineSeconds"),
                    pds,
                    "must be greater than minReadySeconds",
                ));
            }
        }
        errs
    }
}

impl Validate for ReplicaSet {
    fn validate(&self) -> ErrorList {
        let mut errs = meta::validate_object_meta(
            &self.metadata,
            true,
            names::name_is_dns_subdomain,
            &Path::new("metadata"),
        );
        let spec = self.spec.clone().unwrap_or_default();
        let p = Path::new("spec");
        errs.extend(meta::validate_nonnegative(
            i64::from(spec.replicas.unwrap_or(0)),
            &p.child("replicas"),
        ));
        errs.extend(meta::validate_nonnegative(
            i64::from(spec.min_ready_seconds.unwrap_or(0)),
            &p.child("minReadySeconds"),
        ));
        // Upstream's ReplicaSet message says "deployment" too.
        errs.extend(validate_workload_selector(
            spec.selector.as_deref(),
            "deployment",
            &p.child("selector"),
        ));
        let template = spec.template.clone().unwrap_or_default();
        match as_selector(spec.selector.as_deref()) {
            Err(()) => errs.push(FieldError::invalid(
                &p.child("selector"),
                selector_value(spec.selector.as_deref()),
                "invalid label selector",
            )),
            Ok(sel) => errs.extend(validate_template_for_replica_set(
                &template,
                &sel,
                &p.child("template"),
            )),
        }
        errs
    }
}

fn validate_rolling_update_daemon_set(
    ru: &crate::apps::v1::RollingUpdateDaemonSet,
    path: &Path,
) -> ErrorList {
    let zero = IntOrString::Int(0);
    let max_unavailable = ru.max_unavailable.as_ref().unwrap_or(&zero);
    let max_surge = ru.max_surge.as_ref().unwrap_or(&zero);
    let mut errs = validate_positive_int_or_percent(max_unavailable, &path.child("maxUnavailable"));
    errs.extend(validate_positive_int_or_percent(
        max_surge,
        &path.child("maxSurge"),
    ));
    errs.extend(is_not_more_than_100_percent(
        max_unavailable,
        &path.child("maxUnavailable"),
    ));
    errs.extend(is_not_more_than_100_percent(
        max_surge,
        &path.child("maxSurge"),
    ));
    let has_unavailable = int_or_percent_value(max_unavailable) != 0;
    let has_surge = int_or_percent_value(max_surge) != 0;
    if has_unavailable && has_surge {
        errs.push(FieldError::invalid(
            &path.child("maxSurge"),
            int_or_string_value(max_surge),
            "may not be set when maxUnavailable is non-zero",
        ));
    } else if !has_unavailable && !has_surge {
        errs.push(FieldError::required(
            &path.child("maxUnavailable"),
            "cannot be 0 when maxSurge is 0",
        ));
    }
    errs
}

impl Validate for DaemonSet {
    fn validate(&self) -> ErrorList {
        let mut errs = meta::validate_object_meta(
            &self.metadata,
            true,
            names::name_is_dns_subdomain,
            &Path::new("metadata"),
        );
        let spec = self.spec.clone().unwrap_or_default();
        let p = Path::new("spec");
        let unset = spec.selector.is_none();
        if !unset {
            errs.extend(meta::validate_label_selector(
                spec.selector.as_deref(),
                SelectorOpts::default(),
                &p.child("selector"),
            ));
        }
        if let Ok(sel) = as_selector(spec.selector.as_deref())
            && !meta::selector_matches(&sel, spec.template.metadata.labels.as_ref())
        {
            errs.push(FieldError::invalid(
                &p.child("template").child("metadata").child("labels"),
                labels_value(spec.template.metadata.labels.as_ref()),
                "`selector` does not match template `labels`",
            ));
        }
        if spec
            .selector
            .as_deref()
            .is_some_and(meta::selector_is_empty)
        {
            errs.push(FieldError::invalid(
                &p.child("selector"),
                selector_value(spec.selector.as_deref()),
                "empty selector is invalid for daemonset",
            ));
        }
        errs.extend(pod::validate_pod_template_spec(
            &spec.template,
            &p.child("template"),
            PodOpts::default(),
        ));
        errs.extend(restart_always_errors(
            &spec.template,
            &p.child("template"),
            "DaemonSet",
        ));
        errs.extend(meta::validate_nonnegative(
            i64::from(spec.min_ready_seconds.unwrap_or(0)),
            &p.child("minReadySeconds"),
        ));
        let strategy = spec.update_strategy.clone().unwrap_or_default();
        let sp = p.child("updateStrategy");
        match s(&strategy.type_) {
            "OnDelete" => {}
            "RollingUpdate" => match &strategy.rolling_update {
                None => errs.push(FieldError::required(&sp.child("rollingUpdate"), "")),
                Some(ru) => errs.extend(validate_rolling_update_daemon_set(
                    ru,
                    &sp.child("rollingUpdate"),
                )),
            },
            other => {
                let rendered = format!(
                    "apps.DaemonSetUpdateStrategy{{Type:{}, RollingUpdate:{}}}",
                    go_quote(other),
                    gofmt::pointer(
                        "apps.RollingUpdateDaemonSet",
                        strategy.rolling_update.as_ref()
                    )
                );
                errs.push(FieldError::not_supported(
                    &sp,
                    gofmt::raw(rendered),
                    &["RollingUpdate", "OnDelete"],
                ));
            }
        }
        if let Some(limit) = spec.revision_history_limit {
            errs.extend(meta::validate_nonnegative(
                i64::from(limit),
                &p.child("revisionHistoryLimit"),
            ));
        }
        errs
    }
}

impl Validate for StatefulSet {
    /// Upstream's `ValidateStatefulSet`. Upstream does not validate a StatefulSet's pod spec
    /// itself (only the template's labels and annotations); neither does this.
    /// `updateStrategy.rollingUpdate.maxUnavailable` belongs to an alpha feature (off in v1.32)
    /// and is not validated.
    fn validate(&self) -> ErrorList {
        let mut errs = meta::validate_object_meta(
            &self.metadata,
            true,
            names::name_is_dns_label,
            &Path::new("metadata"),
        );
        let spec = self.spec.clone().unwrap_or_default();
        let p = Path::new("spec");
        match s(&spec.pod_management_policy) {
            "" => errs.push(FieldError::required(&p.child("podManagementPolicy"), "")),
            "OrderedReady" | "Parallel" => {}
            other => errs.push(FieldError::invalid(
                &p.child("podManagementPolicy"),
                other,
                "must be 'OrderedReady' or 'Parallel'",
            )),
        }
        let strategy = spec.update_strategy.clone().unwrap_or_default();
        let sp = p.child("updateStrategy");
        let go_rolling_update = |ru: &crate::apps::v1::RollingUpdateStatefulSetStrategy| {
            format!(
                "apps.RollingUpdateStatefulSetStrategy{{Partition:{}, MaxUnavailable:{}}}",
                ru.partition.unwrap_or(0),
                gofmt::pointer("intstr.IntOrString", ru.max_unavailable.as_ref())
            )
        };
        match s(&strategy.type_) {
            "" => errs.push(FieldError::required(&sp, "")),
            "OnDelete" => {
                if let Some(ru) = &strategy.rolling_update {
                    errs.push(FieldError::invalid(
                        &sp.child("rollingUpdate"),
                        gofmt::raw(go_rolling_update(ru)),
                        "only allowed for updateStrategy 'RollingUpdate'",
                    ));
                }
            }
            "RollingUpdate" => {
                if let Some(ru) = &strategy.rolling_update {
                    errs.extend(meta::validate_nonnegative(
                        i64::from(ru.partition.unwrap_or(0)),
                        &sp.child("rollingUpdate").child("partition"),
                    ));
                }
            }
            other => {
                let rendered = format!(
                    "apps.StatefulSetUpdateStrategy{{Type:{}, RollingUpdate:{}}}",
                    go_quote(other),
                    gofmt::pointer(
                        "apps.RollingUpdateStatefulSetStrategy",
                        strategy.rolling_update.as_ref()
                    )
                );
                errs.push(FieldError::invalid(
                    &sp,
                    gofmt::raw(rendered),
                    "must be 'RollingUpdate' or 'OnDelete'",
                ));
            }
        }
        if let Some(policy) = &spec.persistent_volume_claim_retention_policy {
            let pp = p.child("persistentVolumeClaimRetentionPolicy");
            for (field, value) in [
                ("whenDeleted", &policy.when_deleted),
                ("whenScaled", &policy.when_scaled),
            ] {
                let v = s(value);
                if v != "Retain" && v != "Delete" {
                    errs.push(FieldError::not_supported(
                        &pp.child(field),
                        v,
                        &["Retain", "Delete"],
                    ));
                }
            }
        }
        errs.extend(meta::validate_nonnegative(
            i64::from(spec.replicas.unwrap_or(0)),
            &p.child("replicas"),
        ));
        errs.extend(meta::validate_nonnegative(
            i64::from(spec.min_ready_seconds.unwrap_or(0)),
            &p.child("minReadySeconds"),
        ));
        if let Some(ordinals) = &spec.ordinals {
            errs.extend(meta::validate_nonnegative(
                i64::from(ordinals.start.unwrap_or(0)),
                &p.child("ordinals.start"),
            ));
        }
        errs.extend(validate_workload_selector(
            spec.selector.as_deref(),
            "statefulset",
            &p.child("selector"),
        ));
        let tp = p.child("template");
        match as_selector(spec.selector.as_deref()) {
            Err(()) => errs.push(FieldError::invalid(
                &p.child("selector"),
                selector_value(spec.selector.as_deref()),
                "",
            )),
            Ok(sel) => {
                let t = &spec.template;
                if !sel.is_empty() && !meta::selector_matches(&sel, t.metadata.labels.as_ref()) {
                    errs.push(FieldError::invalid(
                        &tp.child("metadata").child("labels"),
                        labels_value(t.metadata.labels.as_ref()),
                        "`selector` does not match template `labels`",
                    ));
                }
                errs.extend(meta::validate_labels(
                    t.metadata.labels.as_ref(),
                    &tp.child("labels"),
                ));
                errs.extend(meta::validate_annotations(
                    t.metadata.annotations.as_ref(),
                    &tp.child("annotations"),
                ));
                let default = crate::core::v1::PodSpec::default();
                errs.extend(pod::validate_pod_specific_annotations(
                    t.metadata.annotations.as_ref(),
                    t.spec.as_ref().unwrap_or(&default),
                    &tp.child("annotations"),
                ));
            }
        }
        errs.extend(restart_always_errors(&spec.template, &tp, "StatefulSet"));
        errs
    }
}

impl Validate for ControllerRevision {
    fn validate(&self) -> ErrorList {
        let mut errs = meta::validate_object_meta(
            &self.metadata,
            true,
            names::name_is_dns_subdomain,
            &Path::new("metadata"),
        );
        if self.data.as_ref().is_none_or(|d| d.0.is_null()) {
            errs.push(FieldError::required(
                &Path::new("data"),
                "data is mandatory",
            ));
        }
        errs.extend(meta::validate_nonnegative(
            self.revision,
            &Path::new("revision"),
        ));
        errs
    }
}
