//! Validation with upstream's rules and messages. Every error carries its field path and cause
//! type; validation never stops at the first error.
//!
//! The rules and the rendered messages are those of Kubernetes v1.32 (`k8s.io/apimachinery`'s
//! `pkg/util/validation` and `pkg/api/validation`, `k8s.io/kubernetes`'s `pkg/apis/*/validation`),
//! so that a client sees what a Kubernetes API server would answer:
//!
//! ```
//! use kubernaut_api_types::core::v1::{Container, Pod, PodSpec};
//! use kubernaut_api_types::meta::ObjectMeta;
//! use kubernaut_api_types::validate::Validate;
//!
//! let pod = Pod {
//!     metadata: ObjectMeta { name: Some("web".into()), namespace: Some("default".into()), ..Default::default() },
//!     spec: Some(PodSpec {
//!         containers: vec![Container { name: "web".into(), ..Default::default() }],
//!         ..Default::default()
//!     }),
//!     ..Default::default()
//! };
//! let errors: Vec<String> = pod.validate().iter().map(ToString::to_string).collect();
//! assert!(errors.contains(&"spec.containers[0].image: Required value".to_owned()));
//! ```
//!
//! Validation expects an object as the API server validates it: defaulted (fields that
//! defaulting fills, such as a container's `imagePullPolicy` or a pod's `dnsPolicy`, are
//! required here). What the server's request handling settles before validating is not
//! reported: a missing `metadata.namespace` (the server takes the request's) or one on a
//! cluster-scoped kind (the server clears it), a missing `name` when `generateName` is set (the
//! server generates the name), values the server allocates (a Service's cluster IPs and
//! health-check node port, a Job's uid). Fields of features that are off by default in v1.32,
//! which the server drops before validating, are not validated.

mod apps;
mod autoscaling;
mod batch;
mod coordination;
mod core;
mod cron;
mod discovery;
mod events;
mod field;
mod gofmt;
mod meta;
pub mod names;
mod networking;
mod pod;
mod policy;
mod rbac;
mod resources;
mod scheduling;
mod service;
mod storage;
mod volumes;

#[cfg(test)]
mod tests;

pub use field::{BadValue, ErrorList, ErrorType, FieldError, Path};

/// Validation of a new object (what the API server checks on create).
pub trait Validate {
    /// Every problem with the object; empty when it is valid.
    fn validate(&self) -> ErrorList;
}
