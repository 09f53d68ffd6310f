//! The scheduling group: PriorityClass, as upstream's `pkg/apis/scheduling/validation`.

use super::Validate;
use super::field::{ErrorList, FieldError, Path};
use super::meta::{self, s};
use super::names;
use super::pod::validate_preemption_policy;
use crate::scheduling::v1::PriorityClass;

/// The highest priority a user-defined class may have.
const HIGHEST_USER_DEFINABLE_PRIORITY: i32 = 1_000_000_000;
/// The built-in classes: name, value, globalDefault.
const SYSTEM_PRIORITY_CLASSES: [(&str, i32); 2] = [
    ("system-node-critical", 2_000_001_000),
    ("system-cluster-critical", 2_000_000_000),
];

/// Upstream's `IsKnownSystemPriorityClass`.
fn known_system_class(name: &str, value: i32, global_default: bool) -> Result<(), String> {
    match SYSTEM_PRIORITY_CLASSES.iter().find(|(n, _)| *n == name) {
        Some((n, v)) if *v != value => Err(format!("value of {n} PriorityClass must be {v}")),
        Some((n, _)) if global_default => {
            Err(format!("globalDefault of {n} PriorityClass must be false"))
        }
        Some(_) => Ok(()),
        None => Err(format!("{name} is not a known system priority class")),
    }
}

impl Validate for PriorityClass {
    fn validate(&self) -> ErrorList {
        let md = Path::new("metadata");
        let mut errs =
            meta::validate_object_meta(&self.metadata, false, names::name_is_dns_subdomain, &md);
        let name = s(&self.metadata.name);
        if name.starts_with("system-") {
            if let Err(e) =
                known_system_class(name, self.value, self.global_default.unwrap_or(false))
            {
                errs.push(FieldError::forbidden(
                    &md.child("name"),
                    format!("priority class names with 'system-' prefix are reserved for system use only. error: {e}"),
                ));
            }
        } else if self.value > HIGHEST_USER_DEFINABLE_PRIORITY {
            errs.push(FieldError::forbidden(
                &Path::new("value"),
                format!("maximum allowed value of a user defined priority is {HIGHEST_USER_DEFINABLE_PRIORITY}"),
            ));
        }
        if let Some(pp) = &self.preemption_policy {
            errs.extend(validate_preemption_policy(
                pp,
                &Path::new("preemptionPolicy"),
            ));
        }
        errs
    }
}
