//! Manifest loading: multi-document YAML (or JSON) into typed objects or [`DynamicObject`]s,
//! with YAML errors at line and column and unknown fields at their paths.

pub mod yaml;
