//! The traits every kind implements ([`Object`], [`Resource`]), the runtime description of a
//! kind ([`ApiResource`]), objects of kinds known only at run time ([`DynamicObject`]) and lists.

use std::fmt;

use serde::de::{self, DeserializeOwned, MapAccess, Visitor};
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::meta::{ListMeta, ObjectMeta};

/// Whether objects of a kind live in a namespace or directly in the cluster.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Scope {
    /// Objects live in a namespace (`/api/v1/namespaces/{ns}/pods`).
    Namespaced,
    /// Objects live directly in the cluster (`/api/v1/nodes`).
    Cluster,
}

/// Access to the [`ObjectMeta`] of an object: upstream's `metav1.Object`.
pub trait Object {
    /// The object's metadata.
    fn meta(&self) -> &ObjectMeta;
    /// The object's metadata, mutably.
    fn meta_mut(&mut self) -> &mut ObjectMeta;
}

/// A kind known at compile time: where it lives in the API and how discovery names it.
pub trait Resource:
    Object + Clone + Default + Serialize + DeserializeOwned + Send + Sync + 'static
{
    /// `group/version`, or just `version` for the core group (`v1`, `apps/v1`).
    const API_VERSION: &'static str;
    /// API group; empty for the core group.
    const GROUP: &'static str;
    /// API version within the group (`v1`).
    const VERSION: &'static str;
    /// Kind, in CamelCase (`Deployment`).
    const KIND: &'static str;
    /// Resource name in URLs, lower-case plural (`deployments`).
    const PLURAL: &'static str;
    /// Lower-case singular (`deployment`).
    const SINGULAR: &'static str;
    /// Short names kubectl accepts (`deploy`).
    const SHORT_NAMES: &'static [&'static str];
    /// Categories the kind belongs to (`all`).
    const CATEGORIES: &'static [&'static str];
    /// Namespaced or cluster-scoped.
    const SCOPE: Scope;

    /// The runtime description of this kind.
    fn api_resource() -> ApiResource {
        ApiResource {
            group: Self::GROUP.to_owned(),
            version: Self::VERSION.to_owned(),
            api_version: Self::API_VERSION.to_owned(),
            kind: Self::KIND.to_owned(),
            plural: Self::PLURAL.to_owned(),
            singular: Self::SINGULAR.to_owned(),
            short_names: Self::SHORT_NAMES.iter().map(|s| (*s).to_owned()).collect(),
            categories: Self::CATEGORIES.iter().map(|s| (*s).to_owned()).collect(),
            scope: Self::SCOPE,
        }
    }
}

/// The runtime form of [`Resource`]'s constants, for kinds known only at run time (custom
/// resources, discovery results) and for code that handles many kinds alike.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ApiResource {
    /// API group; empty for the core group.
    pub group: String,
    /// API version within the group.
    pub version: String,
    /// `group/version`, or `version` for the core group.
    pub api_version: String,
    /// Kind, in CamelCase.
    pub kind: String,
    /// Lower-case plural resource name.
    pub plural: String,
    /// Lower-case singular name.
    pub singular: String,
    /// Short names.
    pub short_names: Vec<String>,
    /// Categories.
    pub categories: Vec<String>,
    /// Namespaced or cluster-scoped.
    pub scope: Scope,
}

impl ApiResource {
    /// The description of the compile-time kind `K`.
    pub fn of<K: Resource>() -> Self {
        K::api_resource()
    }

    /// Builds a description from an apiVersion, kind and plural (singular is the lower-cased kind).
    pub fn new(api_version: &str, kind: &str, plural: &str, scope: Scope) -> Self {
        let (group, version) = split_api_version(api_version);
        ApiResource {
            group: group.to_owned(),
            version: version.to_owned(),
            api_version: api_version.to_owned(),
            kind: kind.to_owned(),
            plural: plural.to_owned(),
            singular: kind.to_ascii_lowercase(),
            short_names: Vec::new(),
            categories: Vec::new(),
            scope,
        }
    }
}

/// Splits `group/version` into its parts; a bare `v1` is the core group.
pub fn split_api_version(api_version: &str) -> (&str, &str) {
    match api_version.rsplit_once('/') {
        Some((group, version)) => (group, version),
        None => ("", api_version),
    }
}

/// `apiVersion` and `kind`, as written in every top-level object.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "schemars", derive(schemars::JsonSchema))]
pub struct TypeMeta {
    /// `apiVersion`: `group/version`, or `version` for the core group.
    #[serde(rename = "apiVersion", default)]
    pub api_version: String,
    /// `kind`: the object's kind.
    #[serde(default)]
    pub kind: String,
}

/// An object of any kind: its type, its metadata, and every other field as JSON.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct DynamicObject {
    /// `apiVersion` and `kind`, when the document had them.
    pub types: Option<TypeMeta>,
    /// The object's metadata.
    pub metadata: ObjectMeta,
    /// Every other top-level field (`spec`, `status`, `data`, ...), as a JSON object.
    pub data: serde_json::Map<String, serde_json::Value>,
}

impl DynamicObject {
    /// A new, empty object of the given kind with the given name.
    pub fn new(name: &str, resource: &ApiResource) -> Self {
        DynamicObject {
            types: Some(TypeMeta {
                api_version: resource.api_version.clone(),
                kind: resource.kind.clone(),
            }),
            metadata: ObjectMeta {
                name: Some(name.to_owned()),
                ..ObjectMeta::default()
            },
            data: serde_json::Map::new(),
        }
    }

    /// Converts into a typed object.
    ///
    /// # Errors
    /// The JSON does not fit `K`.
    pub fn try_parse<K: DeserializeOwned>(&self) -> Result<K, serde_json::Error> {
        serde_json::from_value(serde_json::to_value(self)?)
    }
}

impl Object for DynamicObject {
    fn meta(&self) -> &ObjectMeta {
        &self.metadata
    }
    fn meta_mut(&mut self) -> &mut ObjectMeta {
        &mut self.metadata
    }
}

impl Serialize for DynamicObject {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(None)?;
        if let Some(t) = &self.types {
            map.serialize_entry("apiVersion", &t.api_version)?;
            map.serialize_entry("kind", &t.kind)?;
        }
        map.serialize_entry("metadata", &self.metadata)?;
        for (k, v) in &self.data {
            if !matches!(k.as_str(), "apiVersion" | "kind" | "metadata") {
                map.serialize_entry(k, v)?;
            }
        }
        map.end()
    }
}

impl<'de> Deserialize<'de> for DynamicObject {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = DynamicObject;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<DynamicObject, A::Error> {
                let mut api_version = None;
                let mut kind = None;
                let mut out = DynamicObject::default();
                while let Some(key) = map.next_key::<String>()? {
                    match key.as_str() {
                        "apiVersion" => api_version = map.next_value::<Option<String>>()?,
                        "kind" => kind = map.next_value::<Option<String>>()?,
                        "metadata" => {
                            out.metadata =
                                map.next_value::<Option<ObjectMeta>>()?.unwrap_or_default()
                        }
                        _ => {
                            let v = map.next_value()?;
                            out.data.insert(key, v);
                        }
                    }
                }
                if api_version.is_some() || kind.is_some() {
                    out.types = Some(TypeMeta {
                        api_version: api_version.unwrap_or_default(),
                        kind: kind.unwrap_or_default(),
                    });
                }
                Ok(out)
            }
        }
        deserializer.deserialize_map(V)
    }
}

/// A list of objects as the API returns it (`PodList`, `DeploymentList`, ...).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ObjectList<K> {
    /// `apiVersion` and `kind` (`v1`, `PodList`).
    pub types: TypeMeta,
    /// The list's resource version and continue token.
    pub metadata: ListMeta,
    /// The objects.
    pub items: Vec<K>,
}

impl<K: Resource> ObjectList<K> {
    /// A list of `items` with `apiVersion` and `kind` (`<Kind>List`) filled in.
    pub fn new(metadata: ListMeta, items: Vec<K>) -> Self {
        ObjectList {
            types: TypeMeta {
                api_version: K::API_VERSION.to_owned(),
                kind: format!("{}List", K::KIND),
            },
            metadata,
            items,
        }
    }
}

impl<K: Serialize> Serialize for ObjectList<K> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(4))?;
        map.serialize_entry("apiVersion", &self.types.api_version)?;
        map.serialize_entry("kind", &self.types.kind)?;
        map.serialize_entry("metadata", &self.metadata)?;
        map.serialize_entry("items", &self.items)?;
        map.end()
    }
}

impl<'de, K: Deserialize<'de>> Deserialize<'de> for ObjectList<K> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V<K>(std::marker::PhantomData<K>);
        impl<'de, K: Deserialize<'de>> Visitor<'de> for V<K> {
            type Value = ObjectList<K>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a list object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<ObjectList<K>, A::Error> {
                let mut out = ObjectList {
                    types: TypeMeta::default(),
                    metadata: ListMeta::default(),
                    items: Vec::new(),
                };
                while let Some(key) = map.next_key::<crate::serde_util::Key<'de>>()? {
                    match key.as_str() {
                        "apiVersion" => {
                            out.types.api_version =
                                map.next_value::<Option<String>>()?.unwrap_or_default()
                        }
                        "kind" => {
                            out.types.kind = map.next_value::<Option<String>>()?.unwrap_or_default()
                        }
                        "metadata" => {
                            out.metadata = map.next_value::<Option<ListMeta>>()?.unwrap_or_default()
                        }
                        "items" => {
                            out.items = map.next_value::<Option<Vec<K>>>()?.unwrap_or_default()
                        }
                        _ => {
                            map.next_value::<de::IgnoredAny>()?;
                        }
                    }
                }
                Ok(out)
            }
        }
        deserializer.deserialize_map(V(std::marker::PhantomData))
    }
}

#[cfg(feature = "schemars")]
impl<K: schemars::JsonSchema> schemars::JsonSchema for ObjectList<K> {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        format!("{}List", K::schema_name()).into()
    }
    fn json_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        let items = generator.subschema_for::<K>();
        let metadata = generator.subschema_for::<ListMeta>();
        schemars::json_schema!({
            "type": "object",
            "required": ["items"],
            "properties": {
                "apiVersion": {"type": "string"},
                "kind": {"type": "string"},
                "metadata": metadata,
                "items": {"type": "array", "items": items}
            }
        })
    }
}
