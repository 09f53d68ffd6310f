//! Validation with upstream's rules and messages. Every error carries its field path and cause
//! type; validation never stops at the first error.
//!
//! Validation expects a defaulted object, as the API server validates after defaulting:
//! fields that defaulting fills (a container's `imagePullPolicy`, a pod's `dnsPolicy`) are
//! required here.

mod field;

pub use field::{BadValue, ErrorList, ErrorType, FieldError, Path};

/// Validation of a new object (what the API server checks on create).
pub trait Validate {
    /// Every problem with the object; empty when it is valid.
    fn validate(&self) -> ErrorList;
}
