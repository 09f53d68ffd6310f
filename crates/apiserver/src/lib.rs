//! A Kubernetes-compatible API server: upstream registry semantics over the kubernaut store,
//! and the Kubernetes REST API over HTTP that the real `kubectl` and client libraries use
//! unchanged.

pub mod admission;
pub mod auth;
pub mod body;
pub mod cache;
pub mod error;
pub mod http;
pub mod metrics;
pub mod object;
pub mod openapi;
pub mod patch;
pub mod protobuf;
pub mod registry;
pub mod resources;
pub mod server;
pub mod strategy;
pub mod subresources;
pub mod table;
pub mod tls;

pub use error::{ApiError, GroupKind, GroupResource, Result};
pub use server::{ApiServer, ApiServerBuilder, ApiServerConfig};
