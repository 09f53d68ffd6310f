//! The scheme: the registry of kinds this crate knows, mapping `apiVersion` + `kind` to the
//! typed decoder, and one object-safe interface ([`AnyObject`]) to default, validate and encode
//! an object whatever its kind.
//!
//! ```
//! use kubernaut_api_types::scheme::{Decoded, Scheme};
//!
//! let scheme = Scheme::builtin();
//! let value = serde_json::json!({
//!     "apiVersion": "v1", "kind": "ConfigMap",
//!     "metadata": {"name": "settings"}, "data": {"mode": "fast"},
//! });
//! let Decoded::Known(decoded) = scheme.decode(&value)? else { panic!("ConfigMap is built in") };
//! let mut object = decoded.object;
//! object.set_defaults();
//! assert!(object.validate().is_empty());
//! assert_eq!(object.api_resource().plural, "configmaps");
//! # Ok::<(), kubernaut_api_types::manifest::DecodeError>(())
//! ```

use std::any::Any;
use std::collections::HashMap;
use std::fmt;

use serde_json::Value;

use crate::defaults::SetDefaults;
use crate::manifest::{self, DecodeError};
use crate::validate::{ErrorList, Validate};
use crate::{ApiResource, DynamicObject, Object, Resource};

/// An object of any registered kind, behind one interface.
pub trait AnyObject: Object + fmt::Debug + Send + Sync + 'static {
    /// What kind this is and where it lives in the API.
    fn api_resource(&self) -> ApiResource;
    /// The object as JSON (`apiVersion` and `kind` included).
    fn to_json(&self) -> Value;
    /// Applies upstream's defaults in place.
    fn set_defaults(&mut self);
    /// Upstream's create validation; empty when valid.
    fn validate(&self) -> ErrorList;
    /// A boxed copy.
    fn clone_boxed(&self) -> Box<dyn AnyObject>;
    /// For downcasting to the concrete type.
    fn as_any(&self) -> &dyn Any;
    /// For downcasting to the concrete type, mutably.
    fn as_any_mut(&mut self) -> &mut dyn Any;
}

impl<K> AnyObject for K
where
    K: Resource + SetDefaults + Validate + fmt::Debug,
{
    fn api_resource(&self) -> ApiResource {
        K::api_resource()
    }
    fn to_json(&self) -> Value {
        // Every map in the object model is keyed by strings, so encoding cannot fail; a
        // failure would be a bug in this crate, reported in-band rather than by panicking.
        serde_json::to_value(self)
            .unwrap_or_else(|e| Value::String(format!("encoding failed: {e}")))
    }
    fn set_defaults(&mut self) {
        SetDefaults::set_defaults(self)
    }
    fn validate(&self) -> ErrorList {
        Validate::validate(self)
    }
    fn clone_boxed(&self) -> Box<dyn AnyObject> {
        Box::new(self.clone())
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
    fn as_any_mut(&mut self) -> &mut dyn Any {
        self
    }
}

impl dyn AnyObject {
    /// The concrete object, if it is a `K`.
    pub fn downcast_ref<K: 'static>(&self) -> Option<&K> {
        self.as_any().downcast_ref()
    }

    /// The concrete object, mutably, if it is a `K`.
    pub fn downcast_mut<K: 'static>(&mut self) -> Option<&mut K> {
        self.as_any_mut().downcast_mut()
    }
}

impl Clone for Box<dyn AnyObject> {
    fn clone(&self) -> Self {
        self.clone_boxed()
    }
}

type DecodeFn = fn(&Value) -> Result<manifest::Decoded<Box<dyn AnyObject>>, DecodeError>;

/// What a kind needs to be registered in a [`Scheme`]: with the `schemars` feature, a JSON
/// Schema; without it, nothing beyond the kind itself.
#[cfg(feature = "schemars")]
pub trait KindSchema: schemars::JsonSchema {}
#[cfg(feature = "schemars")]
impl<T: schemars::JsonSchema> KindSchema for T {}
/// What a kind needs to be registered in a [`Scheme`]: with the `schemars` feature, a JSON
/// Schema; without it, nothing beyond the kind itself.
#[cfg(not(feature = "schemars"))]
pub trait KindSchema {}
#[cfg(not(feature = "schemars"))]
impl<T> KindSchema for T {}

struct KindEntry {
    resource: ApiResource,
    decode: DecodeFn,
    #[cfg(feature = "schemars")]
    schema: fn() -> schemars::Schema,
}

/// The result of decoding a document with a [`Scheme`].
#[derive(Debug)]
pub enum Decoded {
    /// A registered kind, decoded into its type.
    Known(manifest::Decoded<Box<dyn AnyObject>>),
    /// A kind the scheme does not know, kept as a [`DynamicObject`].
    Unknown(Box<DynamicObject>),
}

/// The registry of kinds: `apiVersion` + `kind` → type, with each kind's [`ApiResource`].
#[derive(Default)]
pub struct Scheme {
    kinds: HashMap<(String, String), KindEntry>,
}

impl fmt::Debug for Scheme {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut kinds: Vec<_> = self.kinds.keys().collect();
        kinds.sort();
        f.debug_struct("Scheme").field("kinds", &kinds).finish()
    }
}

impl Scheme {
    /// An empty scheme.
    pub fn new() -> Self {
        Scheme::default()
    }

    /// Every kind this crate models.
    pub fn builtin() -> Self {
        use crate::{
            apps, autoscaling, batch, coordination, core, discovery, events, networking, policy,
            rbac, scheduling, storage,
        };
        let mut s = Scheme::new();
        s.register::<core::v1::Namespace>();
        s.register::<core::v1::Pod>();
        s.register::<core::v1::Service>();
        s.register::<core::v1::Endpoints>();
        s.register::<core::v1::ConfigMap>();
        s.register::<core::v1::Secret>();
        s.register::<core::v1::Node>();
        s.register::<core::v1::ServiceAccount>();
        s.register::<core::v1::Event>();
        s.register::<core::v1::LimitRange>();
        s.register::<core::v1::ResourceQuota>();
        s.register::<core::v1::PersistentVolumeClaim>();
        s.register::<core::v1::PersistentVolume>();
        s.register::<core::v1::PodTemplate>();
        s.register::<core::v1::Binding>();
        s.register::<apps::v1::Deployment>();
        s.register::<apps::v1::ReplicaSet>();
        s.register::<apps::v1::DaemonSet>();
        s.register::<apps::v1::StatefulSet>();
        s.register::<apps::v1::ControllerRevision>();
        s.register::<batch::v1::Job>();
        s.register::<batch::v1::CronJob>();
        s.register::<networking::v1::Ingress>();
        s.register::<networking::v1::IngressClass>();
        s.register::<discovery::v1::EndpointSlice>();
        s.register::<coordination::v1::Lease>();
        s.register::<storage::v1::StorageClass>();
        s.register::<scheduling::v1::PriorityClass>();
        s.register::<policy::v1::PodDisruptionBudget>();
        s.register::<policy::v1::Eviction>();
        s.register::<events::v1::Event>();
        s.register::<rbac::v1::Role>();
        s.register::<rbac::v1::ClusterRole>();
        s.register::<rbac::v1::RoleBinding>();
        s.register::<rbac::v1::ClusterRoleBinding>();
        s.register::<autoscaling::v1::Scale>();
        s
    }

    /// Registers the kind `K` (replacing an earlier registration of the same apiVersion + kind).
    pub fn register<K>(&mut self)
    where
        K: Resource + SetDefaults + Validate + KindSchema + fmt::Debug,
    {
        fn decode<K: Resource + SetDefaults + Validate + fmt::Debug>(
            value: &Value,
        ) -> Result<manifest::Decoded<Box<dyn AnyObject>>, DecodeError> {
            Ok(manifest::from_value::<K>(value)?.map(|k| Box::new(k) as Box<dyn AnyObject>))
        }
        self.kinds.insert(
            (K::API_VERSION.to_owned(), K::KIND.to_owned()),
            KindEntry {
                resource: K::api_resource(),
                decode: decode::<K>,
                #[cfg(feature = "schemars")]
                schema: crate::schema::root_schema_for::<K>,
            },
        );
    }

    /// The registered kind with this `apiVersion` and `kind`.
    pub fn resource(&self, api_version: &str, kind: &str) -> Option<&ApiResource> {
        self.kinds
            .get(&(api_version.to_owned(), kind.to_owned()))
            .map(|e| &e.resource)
    }

    /// The JSON Schema of the registered kind with this `apiVersion` and `kind`, with every
    /// type it uses under `$defs`.
    #[cfg(feature = "schemars")]
    pub fn schema(&self, api_version: &str, kind: &str) -> Option<schemars::Schema> {
        self.kinds
            .get(&(api_version.to_owned(), kind.to_owned()))
            .map(|e| (e.schema)())
    }

    /// Every registered kind, in no particular order.
    pub fn resources(&self) -> impl Iterator<Item = &ApiResource> {
        self.kinds.values().map(|e| &e.resource)
    }

    /// Decodes a document by its `apiVersion` and `kind`: into its type when registered, into a
    /// [`DynamicObject`] otherwise.
    ///
    /// # Errors
    /// The document is not an object, lacks `apiVersion` or `kind` (as
    /// [`DecodeError::Invalid`] naming the field), or does not fit its type.
    pub fn decode(&self, value: &Value) -> Result<Decoded, DecodeError> {
        let Some(map) = value.as_object() else {
            return Err(DecodeError::Invalid {
                path: String::new(),
                message: format!("expected an object, found {}", json_type(value)),
            });
        };
        let field = |name: &str| -> Result<&str, DecodeError> {
            match map.get(name) {
                Some(Value::String(s)) if !s.is_empty() => Ok(s),
                Some(Value::String(_)) | Some(Value::Null) | None => Err(DecodeError::Invalid {
                    path: name.to_owned(),
                    message: "Required value".to_owned(),
                }),
                Some(other) => Err(DecodeError::Invalid {
                    path: name.to_owned(),
                    message: format!("expected a string, found {}", json_type(other)),
                }),
            }
        };
        let api_version = field("apiVersion")?;
        let kind = field("kind")?;
        match self.kinds.get(&(api_version.to_owned(), kind.to_owned())) {
            Some(entry) => Ok(Decoded::Known((entry.decode)(value)?)),
            None => Ok(Decoded::Unknown(Box::new(
                manifest::from_value::<DynamicObject>(value)?.object,
            ))),
        }
    }
}

fn json_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn builtin_kinds_decode_to_their_types() {
        let scheme = Scheme::builtin();
        let v = json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d"}});
        let Decoded::Known(d) = scheme.decode(&v).unwrap() else {
            panic!("known kind")
        };
        let deployment = d
            .object
            .downcast_ref::<crate::apps::v1::Deployment>()
            .unwrap();
        assert_eq!(deployment.metadata.name.as_deref(), Some("d"));
        assert_eq!(d.object.to_json()["kind"], "Deployment");
    }

    #[test]
    fn unknown_kinds_stay_dynamic() {
        let scheme = Scheme::builtin();
        let v = json!({"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"}, "spec": {"size": 3}});
        let Decoded::Unknown(obj) = scheme.decode(&v).unwrap() else {
            panic!("unknown kind")
        };
        assert_eq!(obj.data["spec"]["size"], 3);
        assert_eq!(serde_json::to_value(&obj).unwrap(), v);
    }

    #[test]
    fn missing_type_fields_are_errors() {
        let scheme = Scheme::builtin();
        let err = scheme.decode(&json!({"kind": "Pod"})).unwrap_err();
        assert_eq!(err.to_string(), "apiVersion: Required value");
        let err = scheme.decode(&json!({"apiVersion": "v1"})).unwrap_err();
        assert_eq!(err.to_string(), "kind: Required value");
        assert!(scheme.decode(&json!([1])).is_err());
    }
}
