//! Patches applied by the API server to live objects.
pub mod strategic;
