//! The policy group: PodDisruptionBudget (upstream's `ValidatePodDisruptionBudget`) and
//! Eviction (the delete options it carries).

use super::Validate;
use super::apps::{is_not_more_than_100_percent, validate_positive_int_or_percent};
use super::field::{ErrorList, FieldError, Path};
use super::gofmt;
use super::meta::{self, SelectorOpts, items};
use super::names;
use crate::policy::v1::{Eviction, PodDisruptionBudget, PodDisruptionBudgetSpec};

const UNHEALTHY_POD_EVICTION_POLICIES: [&str; 2] = ["AlwaysAllow", "IfHealthyBudget"];

/// `policy.PodDisruptionBudgetSpec{...}` as Go's `%#v` prints it (pointers as placeholders).
fn go_spec(spec: &PodDisruptionBudgetSpec) -> String {
    format!(
        "policy.PodDisruptionBudgetSpec{{MinAvailable:{}, Selector:{}, MaxUnavailable:{}, UnhealthyPodEvictionPolicy:{}}}",
        gofmt::pointer("intstr.IntOrString", spec.min_available.as_ref()),
        gofmt::pointer("v1.LabelSelector", spec.selector.as_ref()),
        gofmt::pointer("intstr.IntOrString", spec.max_unavailable.as_ref()),
        gofmt::pointer(
            "policy.UnhealthyPodEvictionPolicyType",
            spec.unhealthy_pod_eviction_policy.as_ref()
        ),
    )
}

impl Validate for PodDisruptionBudget {
    /// Upstream validates a PDB's spec; its metadata only gets the generic checks every object
    /// gets (the name must be a valid path segment).
    fn validate(&self) -> ErrorList {
        let spec = self.spec.clone().unwrap_or_default();
        let p = Path::new("spec");
        let mut errs = ErrorList::new();
        if spec.min_available.is_some() && spec.max_unavailable.is_some() {
            errs.push(FieldError::invalid(
                &p,
                gofmt::raw(go_spec(&spec)),
                "minAvailable and maxUnavailable cannot be both set",
            ));
        }
        for (field, value) in [
            ("minAvailable", &spec.min_available),
            ("maxUnavailable", &spec.max_unavailable),
        ] {
            if let Some(v) = value {
                errs.extend(validate_positive_int_or_percent(v, &p.child(field)));
                errs.extend(is_not_more_than_100_percent(v, &p.child(field)));
            }
        }
        errs.extend(meta::validate_label_selector(
            spec.selector.as_deref(),
            SelectorOpts::default(),
            &p.child("selector"),
        ));
        if let Some(policy) = &spec.unhealthy_pod_eviction_policy
            && !UNHEALTHY_POD_EVICTION_POLICIES.contains(&policy.as_str())
        {
            errs.push(FieldError::not_supported(
                &p.child("unhealthyPodEvictionPolicy"),
                policy.as_str(),
                &UNHEALTHY_POD_EVICTION_POLICIES,
            ));
        }
        if errs.is_empty() {
            errs.extend(meta::validate_object_meta(
                &self.metadata,
                true,
                names::name_is_path_segment,
                &Path::new("metadata"),
            ));
        }
        errs
    }
}

impl Validate for Eviction {
    /// Upstream's `ValidateDeleteOptions` on the eviction's delete options.
    fn validate(&self) -> ErrorList {
        let mut errs = ErrorList::new();
        let Some(opts) = &self.delete_options else {
            return errs;
        };
        let pp = Path::new("propagationPolicy");
        if opts.orphan_dependents.is_some()
            && let Some(policy) = &opts.propagation_policy
        {
            errs.push(FieldError::invalid(
                &pp,
                policy.as_str(),
                "orphanDependents and deletionPropagation cannot be both set",
            ));
        }
        if let Some(policy) = &opts.propagation_policy
            && !["Foreground", "Background", "Orphan"].contains(&policy.as_str())
        {
            errs.push(FieldError::not_supported(
                &pp,
                policy.as_str(),
                &["Foreground", "Background", "Orphan", "nil"],
            ));
        }
        if items(&opts.dry_run).iter().any(|d| d != "All") {
            errs.push(FieldError::not_supported(
                &Path::new("dryRun"),
                gofmt::raw(gofmt::string_slice(opts.dry_run.as_deref())),
                &["All"],
            ));
        }
        errs
    }
}
