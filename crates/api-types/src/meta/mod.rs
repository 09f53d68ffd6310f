//! Object metadata and the `meta.k8s.io/v1` types shared by every API group: [`ObjectMeta`],
//! [`ListMeta`], [`OwnerReference`], [`Status`], [`LabelSelector`], [`Condition`],
//! [`DeleteOptions`], [`Table`], [`PartialObjectMetadata`], [`WatchEvent`] and [`Scale`].

mod generated;
mod watch;

use crate::SortedMap;

pub use generated::*;
pub use watch::{Bookmark, BookmarkMeta, WatchEvent};

pub use crate::autoscaling::v1::{Scale, ScaleSpec, ScaleStatus};
pub use crate::resource::TypeMeta;
pub use crate::{MicroTime, ObjectList, Time};

/// The set of fields a manager owns (`managedFields[].fieldsV1`): the JSON trie upstream
/// writes (`{"f:spec": {"f:replicas": {}}}`), kept as its text, as upstream keeps it.
///
/// Clients rarely read it and it is often the largest part of an object: keeping the text
/// instead of a decoded tree makes decoding objects cheaper and smaller, and re-encodes it
/// byte for byte. [`FieldsV1::to_value`] decodes it when needed.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
#[serde(transparent)]
pub struct FieldsV1(Box<serde_json::value::RawValue>);

impl FieldsV1 {
    /// The set as JSON text.
    pub fn as_str(&self) -> &str {
        self.0.get()
    }

    /// The set decoded (`Null` if the text is not JSON, which decoding never lets in).
    pub fn to_value(&self) -> serde_json::Value {
        serde_json::from_str(self.0.get()).unwrap_or(serde_json::Value::Null)
    }

    /// A set from its decoded form.
    pub fn from_value(value: &serde_json::Value) -> Self {
        // Encoding a Value cannot fail (its map keys are strings).
        FieldsV1(serde_json::value::to_raw_value(value).unwrap_or_else(|_| empty_raw_object()))
    }
}

fn empty_raw_object() -> Box<serde_json::value::RawValue> {
    serde_json::value::RawValue::from_string("{}".to_owned()).expect("`{}` is JSON")
}

impl Default for FieldsV1 {
    fn default() -> Self {
        FieldsV1(empty_raw_object())
    }
}

impl PartialEq for FieldsV1 {
    fn eq(&self, other: &Self) -> bool {
        self.0.get() == other.0.get()
    }
}

/// An embedded object of any kind, kept as JSON (ControllerRevision `data`, Table rows).
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(transparent)]
pub struct RawExtension(pub serde_json::Value);

#[cfg(feature = "schemars")]
impl schemars::JsonSchema for FieldsV1 {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "FieldsV1".into()
    }
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({"type": "object"})
    }
}

#[cfg(feature = "schemars")]
impl schemars::JsonSchema for RawExtension {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "RawExtension".into()
    }
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({"type": "object", "x-kubernetes-preserve-unknown-fields": true})
    }
}

/// An object reduced to its metadata (`Accept: ...;as=PartialObjectMetadata`), for clients that
/// only need names, labels and owners.
#[derive(Clone, Debug, Default, PartialEq)]
#[cfg_attr(feature = "schemars", derive(schemars::JsonSchema))]
pub struct PartialObjectMetadata {
    /// `metadata`: the object's metadata.
    #[cfg_attr(feature = "schemars", schemars(rename = "metadata"))]
    pub metadata: ObjectMeta,
}

crate::typed_object_serde!(PartialObjectMetadata {
    api_version: "meta.k8s.io/v1",
    kind: "PartialObjectMetadata",
    accepted: ["meta.k8s.io/v1", "meta.k8s.io/v1beta1"],
    fields: [metadata: required "metadata"],
});

impl crate::Object for PartialObjectMetadata {
    fn meta(&self) -> &ObjectMeta {
        &self.metadata
    }
    fn meta_mut(&mut self) -> &mut ObjectMeta {
        &mut self.metadata
    }
}

/// A tabular rendering of objects (`Accept: application/json;as=Table;g=meta.k8s.io;v=v1`),
/// which kubectl prints as is.
#[derive(Clone, Debug, Default, PartialEq)]
#[cfg_attr(feature = "schemars", derive(schemars::JsonSchema))]
pub struct Table {
    /// `metadata`: resource version and continue token of the underlying list.
    #[cfg_attr(feature = "schemars", schemars(rename = "metadata"))]
    pub metadata: ListMeta,
    /// `columnDefinitions`: the columns, in order.
    #[cfg_attr(feature = "schemars", schemars(rename = "columnDefinitions"))]
    pub column_definitions: Vec<TableColumnDefinition>,
    /// `rows`: one row per object.
    #[cfg_attr(feature = "schemars", schemars(rename = "rows"))]
    pub rows: Vec<TableRow>,
}

crate::typed_object_serde!(Table {
    api_version: "meta.k8s.io/v1",
    kind: "Table",
    accepted: ["meta.k8s.io/v1", "meta.k8s.io/v1beta1"],
    fields: [
        metadata: required "metadata",
        column_definitions: required "columnDefinitions",
        rows: required "rows",
    ],
});

/// One column of a [`Table`].
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "schemars", derive(schemars::JsonSchema))]
pub struct TableColumnDefinition {
    /// `name`: the column header (`NAME`, `READY`, ...).
    pub name: String,
    /// `type`: an OpenAPI type (`string`, `integer`, `number`, `boolean`, `date`).
    #[serde(rename = "type")]
    pub type_: String,
    /// `format`: an OpenAPI format hint (`name`, `date-time`, ...).
    #[serde(default)]
    pub format: String,
    /// `description`: what the column shows.
    #[serde(default)]
    pub description: String,
    /// `priority`: 0 for columns kubectl always shows, higher for `-o wide` only.
    #[serde(default)]
    pub priority: i32,
}

/// One row of a [`Table`].
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "schemars", derive(schemars::JsonSchema))]
pub struct TableRow {
    /// `cells`: one value per column.
    pub cells: Vec<serde_json::Value>,
    /// `conditions`: row conditions (`Completed` dims a finished pod in kubectl).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conditions: Option<Vec<TableRowCondition>>,
    /// `object`: the object (or its [`PartialObjectMetadata`]) the row shows.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub object: Option<RawExtension>,
}

/// A condition of a [`TableRow`].
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "schemars", derive(schemars::JsonSchema))]
pub struct TableRowCondition {
    /// `type`: the condition type (`Completed`).
    #[serde(rename = "type")]
    pub type_: String,
    /// `status`: `True`, `False` or `Unknown`.
    pub status: String,
    /// `reason`: a machine-readable reason.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// `message`: a human-readable message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

impl ObjectMeta {
    /// The object's labels (empty when it has none).
    pub fn labels(&self) -> &SortedMap<String, String> {
        static EMPTY: SortedMap<String, String> = SortedMap::new();
        self.labels.as_ref().unwrap_or(&EMPTY)
    }

    /// The object's annotations (empty when it has none).
    pub fn annotations(&self) -> &SortedMap<String, String> {
        static EMPTY: SortedMap<String, String> = SortedMap::new();
        self.annotations.as_ref().unwrap_or(&EMPTY)
    }

    /// The owner reference with `controller: true`, if any.
    pub fn controller_ref(&self) -> Option<&OwnerReference> {
        self.owner_references
            .iter()
            .flatten()
            .find(|r| r.controller == Some(true))
    }
}

impl Status {
    /// A failure status with the given HTTP code, reason and message.
    pub fn failure(code: i32, reason: &str, message: impl Into<String>) -> Self {
        Status {
            status: Some("Failure".to_owned()),
            code: Some(code),
            reason: Some(reason.to_owned()),
            message: Some(message.into()),
            ..Status::default()
        }
    }

    /// A success status.
    pub fn success() -> Self {
        Status {
            status: Some("Success".to_owned()),
            ..Status::default()
        }
    }
}
