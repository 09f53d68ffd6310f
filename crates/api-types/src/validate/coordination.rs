//! The coordination group: Lease, as upstream's `pkg/apis/coordination/validation`.
//!
//! `strategy` and `preferredHolder` belong to the CoordinatedLeaderElection feature (alpha, off
//! by default in v1.32); the API server drops them, so they are not validated.

use super::Validate;
use super::field::{ErrorList, FieldError, Path};
use super::meta;
use super::names;
use crate::coordination::v1::Lease;

impl Validate for Lease {
    fn validate(&self) -> ErrorList {
        let mut errs = meta::validate_object_meta(
            &self.metadata,
            true,
            names::name_is_dns_subdomain,
            &Path::new("metadata"),
        );
        let p = Path::new("spec");
        if let Some(spec) = &self.spec {
            if let Some(d) = spec.lease_duration_seconds
                && d <= 0
            {
                errs.push(FieldError::invalid(
                    &p.child("leaseDurationSeconds"),
                    d,
                    "must be greater than 0",
                ));
            }
            if let Some(t) = spec.lease_transitions
                && t < 0
            {
                errs.push(FieldError::invalid(
                    &p.child("leaseTransitions"),
                    t,
                    "must be greater than or equal to 0",
                ));
            }
        }
        errs
    }
}
