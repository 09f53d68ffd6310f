//! A Kubernetes-compatible API server: upstream registry semantics over the kubernaut store,
//! and the Kubernetes REST API over HTTP that the real `kubectl` and client libraries use
//! unchanged.

pub mod error;
pub mod protobuf;

pub use error::{ApiError, GroupKind, GroupResource, Result};
