//! The Kubernetes object model, wire-compatible with Kubernetes v1.32.
//!
//! Every kind kubernaut serves is a plain Rust struct whose JSON is the upstream JSON: camelCase
//! names, the same omissions, `apiVersion` and `kind` written from the type. Beside the kinds this
//! crate holds the value types with a grammar of their own ([`Quantity`], [`IntOrString`],
//! [`Time`], label and field selectors), upstream validation and defaulting, JSON Schemas with the
//! Kubernetes extensions, and a loader for multi-document YAML manifests.
//!
//! ```
//! use kubernaut_api_types::{apps::v1::Deployment, manifest, Resource};
//!
//! let yaml = r#"
//! apiVersion: apps/v1
//! kind: Deployment
//! metadata: {name: web}
//! spec:
//!   selector: {matchLabels: {app: web}}
//!   template:
//!     metadata: {labels: {app: web}}
//!     spec: {containers: [{name: nginx, image: "nginx:1.27"}]}
//! "#;
//! let docs = manifest::parse_documents(yaml).unwrap();
//! let deployment: Deployment = manifest::from_value(&docs[0].value).unwrap().object;
//! assert_eq!(Deployment::KIND, "Deployment");
//! assert_eq!(deployment.metadata.name.as_deref(), Some("web"));
//! ```

// The schema extensions of DeleteOptions list every upstream group version: a long literal.
#![recursion_limit = "256"]

pub mod apps;
pub mod autoscaling;
pub mod batch;
pub mod coordination;
pub mod core;
pub mod defaults;
pub mod discovery;
pub mod events;
pub mod manifest;
pub mod map;
pub mod meta;
pub mod networking;
pub mod policy;
pub mod rbac;
pub mod scheduling;
pub mod selector;
pub mod storage;
pub mod validate;

mod bytes;
mod ext;
mod int_or_string;
mod quantity;
mod resource;
#[cfg(feature = "schemars")]
pub mod schema;
pub mod scheme;
mod serde_util;
mod time;

pub use bytes::ByteString;
pub use int_or_string::{IntOrString, IntOrStringError};
pub use map::SortedMap;
pub use quantity::{Format, Quantity, QuantityError};
pub use resource::{
    ApiResource, DynamicObject, Object, ObjectList, Resource, Scope, TypeMeta, split_api_version,
};
pub use time::{MicroTime, Time};

pub(crate) use serde_util::typed_object_serde;
