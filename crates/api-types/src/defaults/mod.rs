//! Defaulting as upstream: the values the API server fills in before validation and storage
//! (`restartPolicy: Always`, `protocol: TCP`, a Deployment's 25%/25% rolling update, ...).

/// Fills in upstream's defaults, leaving every value the user set untouched.
pub trait SetDefaults {
    /// Applies the defaults in place.
    fn set_defaults(&mut self);
}
