//! Shared code of the kubernaut examples.
//!
//! [`validate`] is the offline manifest checker behind `cargo run --example validate`: like
//! `kubectl apply --dry-run`, without a cluster.

pub mod config_generator;
pub mod local;
pub mod validate;
