//! Defaulting as upstream: the values the API server fills in before validation and storage
//! (`restartPolicy: Always`, `protocol: TCP`, a Deployment's 25%/25% rolling update, ...).
//!
//! Every kind of this crate implements [`SetDefaults`]; kinds upstream never defaults get an impl
//! that does nothing, so callers can default any object without knowing its kind. The semantics
//! follow Kubernetes v1.32: the hand-written defaulting functions of `pkg/apis/<group>/v1`, the
//! `+default=` markers of `k8s.io/api`, and the order in which the generated defaulters apply them.
//!
//! # How "unset" is decided
//!
//! Upstream checks fields by their Go type, and so does this module:
//! - a Go pointer (`*int32`, `*bool`, `*string`) is unset only when absent (`None`);
//! - a plain Go string or integer is unset when absent *or* zero (`""`, `0`), because Go
//!   cannot tell the two apart;
//! - a plain Go struct (a pod's `spec`, a namespace's `status`) always exists upstream, so its
//!   defaults apply even when the object omits it; here such a struct is created only when a
//!   default is actually written into it.
//!
//! Upstream sometimes fills a map with an empty map (`ConfigMap.data`, a LimitRange item's
//! `default`); an empty map is omitted from upstream's JSON, so this module leaves those absent
//! and the wire form stays identical.
//!
//! # Feature gates
//!
//! Gates are taken at their v1.32 default:
//! - on: `StatefulSetAutoDeletePVC` (PVC retention policy `Retain`/`Retain`),
//!   `JobPodReplacementPolicy` (`podReplacementPolicy`), `JobBackoffLimitPerIndex` (a
//!   `backoffLimitPerIndex` makes `backoffLimit` default to `i32::MAX`), `JobPodFailurePolicy`,
//!   `LoadBalancerIPMode` (load-balancer ingress `ipMode: VIP`);
//! - off: `ImageVolume` (no `pullPolicy` default for image volumes), `PodLevelResources` (no
//!   pod-level requests/limits defaults), `InPlacePodVerticalScaling` (no `resizePolicy`
//!   default), `DefaultHostNetworkHostPortsInPodTemplates` (host-network port defaulting applies
//!   to pods only, not to pod templates).
//!
//! # Not done here
//!
//! Upstream also rounds every resource quantity up to milli precision (`SetDefaults_ResourceList`);
//! that needs [`Quantity`](crate::Quantity) arithmetic and is left to the quantity module.
//! Values the registry (not defaulting) fills in — cluster IPs, IP families, a Job's generated
//! selector, a namespace's `kubernetes` finalizer, a pod's `Pending` phase — are not defaults.

mod apps;
mod autoscaling;
mod batch;
mod coordination;
mod core;
mod discovery;
mod events;
mod image;
mod networking;
mod pod;
mod policy;
mod rbac;
mod scheduling;
mod storage;

#[cfg(test)]
mod tests;

/// Fills in upstream's defaults, leaving every value the user set untouched.
pub trait SetDefaults {
    /// Applies the defaults in place.
    fn set_defaults(&mut self);
}

/// Defaults a field that is a plain string upstream: absent and `""` both count as unset.
fn default_str(field: &mut Option<String>, value: &str) {
    if field.as_deref().is_none_or(str::is_empty) {
        *field = Some(value.to_owned());
    }
}

/// Defaults a field that is a plain integer upstream: absent and `0` both count as unset.
fn default_int(field: &mut Option<i32>, value: i32) {
    if matches!(field, None | Some(0)) {
        *field = Some(value);
    }
}

/// Defaults a field that is a pointer upstream: only an absent value counts as unset.
fn default_ptr<T>(field: &mut Option<T>, value: T) {
    if field.is_none() {
        *field = Some(value);
    }
}

/// Whether a plain-string field is unset (absent or `""`).
fn is_unset(field: &Option<String>) -> bool {
    field.as_deref().is_none_or(str::is_empty)
}

/// Implements [`SetDefaults`] as a no-op for kinds upstream never defaults.
macro_rules! no_defaults {
    ($($ty:path),* $(,)?) => {
        $(
            impl $crate::defaults::SetDefaults for $ty {
                fn set_defaults(&mut self) {}
            }
        )*
    };
}
use no_defaults;
