//! Strategic merge patch (`application/strategic-merge-patch+json`), applied the way upstream's
//! API server applies it to a live object (apimachinery `pkg/util/strategicpatch`,
//! `StrategicMergeMapPatch`: parallel lists merged, unmatched `null`s ignored).
//!
//! A strategic merge patch is a JSON merge patch (RFC 7386) whose lists follow the patch
//! metadata of the kind: a field tagged `x-kubernetes-patch-strategy: merge` with an
//! `x-kubernetes-patch-merge-key` merges its items by that key, a primitive list tagged `merge`
//! is merged as a set, every other list is replaced. Maps merge recursively and `null` deletes a
//! key. The patch may carry directives:
//!
//! * `$patch: replace` in a map replaces the map with the rest of the patch map; `$patch:
//!   delete` empties it. In a merging list, `{"$patch": "delete", <key>: v}` removes the items
//!   with that key and `{"$patch": "replace"}` replaces the list with the other patch items.
//! * `$retainKeys: [...]` clears every key of the live map that is not listed (and rejects a
//!   patch that sets a key it does not list).
//! * `$setElementOrder/<list>: [...]` orders the merged list: the listed items in the listed
//!   order, the items only the server has interleaved where they were.
//! * `$deleteFromPrimitiveList/<list>: [...]` removes values from a primitive list.
//!
//! The metadata comes from the kind's JSON Schema ([`PatchSchema::from_schema`], cached per kind
//! by [`PatchSchemas`]). A field the schema does not know gets no metadata: its maps merge and
//! its lists are replaced.
//!
//! ```
//! use kubernaut_api_types::scheme::Scheme;
//! use kubernaut_apiserver::patch::strategic::{self, PatchSchemas};
//! use serde_json::json;
//!
//! let schemas = PatchSchemas::new();
//! let schema = schemas.get(&Scheme::builtin(), "v1", "Pod").unwrap();
//! let live = json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"},
//!     "spec": {"containers": [{"name": "app", "image": "app:1"},
//!                             {"name": "proxy", "image": "proxy:1"}]}});
//! let patch = json!({"spec": {"containers": [{"name": "app", "image": "app:2"}]}});
//! let patched = strategic::apply(&live, &patch, &schema)?;
//! assert_eq!(patched["spec"]["containers"], json!([
//!     {"name": "app", "image": "app:2"}, {"name": "proxy", "image": "proxy:1"}]));
//! # Ok::<(), strategic::StrategicMergeError>(())
//! ```
//!
//! Upstream walks Go maps, whose iteration order is random; where that order could change the
//! result (a patch holding both `<list>` and `$deleteFromPrimitiveList/<list>` with a common
//! value) this module always merges the list first and applies the deletions after, as upstream
//! does whenever a `$setElementOrder/<list>` accompanies the list.
//!
//! Where upstream copies a part of the patch into the object as it is (a new field, a replaced
//! list, an item appended to a merging list, the content of a `$patch: replace` map) that part
//! may still hold directive keys, which the typed decoding then drops (or reports as unknown
//! fields under `fieldValidation=Strict`). This module drops those keys itself, so a directive
//! never reaches the result; everything else about such copies (upstream dropping a nested map
//! marked `$patch`, and the `null`s it discards) is kept as upstream has it.

use std::collections::HashMap;
use std::sync::{Arc, PoisonError, RwLock};

use kubernaut_api_types::scheme::Scheme;
use serde_json::{Map, Value};

use crate::error::ApiError;

const DIRECTIVE_MARKER: &str = "$patch";
const DELETE_DIRECTIVE: &str = "delete";
const REPLACE_DIRECTIVE: &str = "replace";
const MERGE_DIRECTIVE: &str = "merge";
const RETAIN_KEYS_STRATEGY: &str = "retainKeys";
const RETAIN_KEYS_DIRECTIVE: &str = "$retainKeys";
const DELETE_FROM_PRIMITIVE_LIST_PREFIX: &str = "$deleteFromPrimitiveList";
const SET_ELEMENT_ORDER_PREFIX: &str = "$setElementOrder";

const PATCH_STRATEGY_EXTENSION: &str = "x-kubernetes-patch-strategy";
const PATCH_MERGE_KEY_EXTENSION: &str = "x-kubernetes-patch-merge-key";

/// The Go type name upstream prints for a JSON object.
const GO_MAP: &str = "map[string]interface {}";
/// The Go type name upstream prints for a JSON array.
const GO_SLICE: &str = "[]interface {}";

/// Why a strategic merge patch could not be applied. The messages are upstream's (apimachinery
/// `mergepatch` and `strategicpatch`); each variant says which answer upstream's API server
/// gives for it, and [`ApiError::from`] builds that answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StrategicMergeError {
    /// The live object is not a JSON object (`mergepatch.ErrBadJSONDoc`). 400 `BadRequest`.
    #[error("invalid JSON document")]
    InvalidDocument,
    /// The patch body is not a JSON object, so it does not decode into a map. 400 `BadRequest`.
    #[error("json: cannot unmarshal {found} into Go value of type map[string]interface {{}}")]
    PatchNotAnObject {
        /// The JSON type found: `array`, `string`, `number` or `bool`.
        found: &'static str,
    },
    /// A merging list holds lists (`mergepatch.ErrNoListOfLists`). 422 `Invalid`.
    #[error("lists of lists are not supported")]
    ListOfLists,
    /// A `$deleteFromPrimitiveList` key is not `$deleteFromPrimitiveList/<list>`
    /// (`mergepatch.ErrBadPatchFormatForPrimitiveList`). 400 `BadRequest`.
    #[error("invalid patch format of primitive list")]
    BadPatchFormatForPrimitiveList,
    /// `$retainKeys` is not a list, or the patch sets a key it does not list
    /// (`mergepatch.ErrBadPatchFormatForRetainKeys`). 400 `BadRequest`.
    #[error("invalid patch format of retainKeys")]
    BadPatchFormatForRetainKeys,
    /// A `$setElementOrder` key is not `$setElementOrder/<list>`
    /// (`mergepatch.ErrBadPatchFormatForSetElementOrderList`). 400 `BadRequest`.
    #[error("invalid patch format of setElementOrder list")]
    BadPatchFormatForSetElementOrderList,
    /// An item of a merging list lacks the merge key (`mergepatch.ErrNoMergeKey`). 500.
    #[error("map: {map} does not contain declared merge key: {merge_key}")]
    NoMergeKey {
        /// The item, as Go prints it.
        map: String,
        /// The merge key of the list.
        merge_key: String,
    },
    /// A value has another JSON type than the patch needs there (`mergepatch.ErrBadArgType`),
    /// e.g. a `$setElementOrder` value that is not a list. 500.
    #[error("expected a {expected}, but received a {actual}")]
    BadArgType {
        /// The Go type needed.
        expected: &'static str,
        /// The Go type found.
        actual: &'static str,
    },
    /// A `$patch` directive with an unknown value (`mergepatch.ErrBadPatchType`); in a map
    /// only `replace` and `delete` are known. 500.
    #[error("unknown patch type: {patch_type} in map: {map}")]
    UnknownPatchType {
        /// The directive's value, as Go prints it.
        patch_type: String,
        /// The map holding the directive, as Go prints it.
        map: String,
    },
    /// A `{"$patch": "merge"}` item in a merging list. 500.
    #[error("merging lists cannot yet be specified in the patch")]
    MergeDirectiveInList,
    /// A list tagged `merge` holds maps but declares no merge key. 500.
    #[error("cannot merge lists without merge key for {element}")]
    MissingMergeKey {
        /// The Go kind of the list's items (`struct` for the API types).
        element: String,
    },
    /// The items of a merging list (live and patch together) have different JSON types. 500.
    #[error("list element types are not identical: {lists}")]
    ListElementTypesDiffer {
        /// The lists, as Go prints them.
        lists: String,
    },
    /// A `$setElementOrder` list came with an empty live list and no patch list. 500.
    #[error("no elements in any of the given slices")]
    NoListElements,
    /// An item of a merging list is not a map where maps are merged by key. 500.
    #[error("value for key {index} is not a map.")]
    ListItemNotAMap {
        /// The index of the item.
        index: usize,
    },
    /// The patch list is not in the order its `$setElementOrder` list gives, or holds an item
    /// the order list does not. 500.
    #[error(
        "The order in patch list:\n{patch_list}\n doesn't match $setElementOrder list:\n{set_element_order}\n"
    )]
    SetElementOrderMismatch {
        /// The patch list, as Go prints it.
        patch_list: String,
        /// The `$setElementOrder` list, as Go prints it.
        set_element_order: String,
    },
    /// The schema tags a field with a patch strategy upstream does not know. 500.
    #[error("unexpected patch strategy: {strategies}")]
    UnexpectedPatchStrategy {
        /// The strategies, as Go prints them.
        strategies: String,
    },
    /// Two objects or arrays were compared where upstream compares plain values (merge key
    /// values, primitive list items); upstream's Go code panics here, and its API server
    /// answers 500 `InternalError`.
    #[error("runtime error: comparing uncomparable type {type_name}")]
    Uncomparable {
        /// The Go type compared.
        type_name: &'static str,
    },
    /// An object or array was used as a set member where upstream builds a Go map of plain
    /// values (`$retainKeys`, primitive lists); upstream panics, answering 500
    /// `InternalError`.
    #[error("runtime error: hash of unhashable type {type_name}")]
    Unhashable {
        /// The Go type used.
        type_name: &'static str,
    },
    /// A merging list whose first item is `null`; upstream panics on a nil type, answering 500
    /// `InternalError`.
    #[error("runtime error: invalid memory address or nil pointer dereference")]
    NullListItem,
}

impl StrategicMergeError {
    /// The HTTP status upstream's API server answers with.
    pub fn code(&self) -> u16 {
        use StrategicMergeError::*;
        match self {
            InvalidDocument
            | PatchNotAnObject { .. }
            | BadPatchFormatForPrimitiveList
            | BadPatchFormatForRetainKeys
            | BadPatchFormatForSetElementOrderList => 400,
            ListOfLists => 422,
            _ => 500,
        }
    }

    fn is_panic(&self) -> bool {
        matches!(
            self,
            StrategicMergeError::Uncomparable { .. }
                | StrategicMergeError::Unhashable { .. }
                | StrategicMergeError::NullListItem
        )
    }
}

impl From<StrategicMergeError> for ApiError {
    /// Upstream's answer: `BadRequest` for a malformed document or directive, a bare 422
    /// `Invalid` for lists of lists (upstream drops the message there), the panic notice of
    /// its recovery handler where its code panics, and otherwise a 500 whose reason is empty
    /// (`StatusReasonUnknown`) and whose message is the error's.
    fn from(err: StrategicMergeError) -> ApiError {
        match err.code() {
            400 => ApiError::bad_request(err.to_string()),
            422 => ApiError::new(
                422,
                "Invalid",
                "the server rejected our request due to an error in our request",
            ),
            _ if err.is_panic() => ApiError::new(
                500,
                "InternalError",
                "This request caused apiserver to panic. Look in the logs for details.",
            ),
            code => ApiError::new(code, "", err.to_string()),
        }
    }
}

type Result<T, E = StrategicMergeError> = std::result::Result<T, E>;

// ---------------------------------------------------------------------------------------------
// Patch metadata
// ---------------------------------------------------------------------------------------------

/// The strategic-merge metadata of one field: its patch strategies
/// (`x-kubernetes-patch-strategy`, split at commas) and its merge key
/// (`x-kubernetes-patch-merge-key`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PatchMeta {
    strategies: Vec<String>,
    merge_key: String,
}

/// The metadata of a field the schema does not describe.
static NO_META: PatchMeta = PatchMeta {
    strategies: Vec::new(),
    merge_key: String::new(),
};

impl PatchMeta {
    /// Metadata from the two extension values, as a schema carries them (`"merge,retainKeys"`).
    pub fn new(strategy: Option<&str>, merge_key: Option<&str>) -> Self {
        PatchMeta {
            strategies: strategy
                .map(|s| s.split(',').map(str::to_owned).collect())
                .unwrap_or_default(),
            merge_key: merge_key.unwrap_or_default().to_owned(),
        }
    }

    /// The patch strategies (`merge`, `retainKeys`, `replace`), empty when none is declared.
    pub fn strategies(&self) -> &[String] {
        &self.strategies
    }

    /// The merge key of a list merged by key.
    pub fn merge_key(&self) -> Option<&str> {
        (!self.merge_key.is_empty()).then_some(self.merge_key.as_str())
    }

    /// Splits the strategies into the `retainKeys` flag and the other strategy, as upstream's
    /// `extractRetainKeysPatchStrategy` does.
    fn strategy(&self) -> Result<(bool, &str)> {
        match self.strategies.as_slice() {
            [] => Ok((false, "")),
            [one] if one == RETAIN_KEYS_STRATEGY => Ok((true, "")),
            [one] => Ok((false, one)),
            [a, b] if a == RETAIN_KEYS_STRATEGY => Ok((true, b)),
            [a, b] if b == RETAIN_KEYS_STRATEGY => Ok((true, a)),
            more => Err(StrategicMergeError::UnexpectedPatchStrategy {
                strategies: format!("[{}]", more.join(" ")),
            }),
        }
    }
}

type NodeId = usize;

/// The node of positions the schema says nothing about.
const FREE: NodeId = 0;

#[derive(Debug, Default)]
struct Field {
    meta: PatchMeta,
    node: NodeId,
}

/// One position of the schema: an object with properties, a map with values, a list with
/// items, or a scalar.
#[derive(Debug, Default)]
struct Node {
    properties: HashMap<String, Field>,
    additional: Option<NodeId>,
    items: Option<NodeId>,
    /// The Go kind of the type here, for upstream's "cannot merge lists" message.
    go_kind: &'static str,
}

/// The strategic-merge metadata of one kind, read once from its JSON Schema: for every field,
/// its patch strategy and merge key, and the schema of its value (through `$ref`s, `anyOf`
/// optionals, list `items` and map `additionalProperties`). Recursive schemas are fine: every
/// `$defs` entry becomes one node.
///
/// [`PatchSchema::default`] is the schema of nothing: every map merges and every list is
/// replaced, as for a field the schema does not know.
#[derive(Debug)]
pub struct PatchSchema {
    nodes: Vec<Node>,
    root: NodeId,
}

impl Default for PatchSchema {
    fn default() -> Self {
        PatchSchema {
            nodes: vec![Node {
                go_kind: "interface",
                ..Node::default()
            }],
            root: FREE,
        }
    }
}

impl PatchSchema {
    /// Reads the patch metadata of a kind from its schema (`Scheme::schema`).
    pub fn from_schema(schema: &schemars::Schema) -> Self {
        Self::from_json_schema(schema.as_value())
    }

    /// Reads the patch metadata from a JSON Schema document with its definitions under
    /// `$defs` (or `definitions`).
    pub fn from_json_schema(schema: &Value) -> Self {
        let mut builder = Builder {
            root: schema,
            schema: PatchSchema::default(),
            defs: HashMap::new(),
        };
        let root = builder.node_for(schema, 0);
        builder.schema.root = root;
        builder.schema
    }

    /// The metadata of the field at `path` (property names from the root; list items are
    /// stepped into on the way, so `["spec", "containers", "env"]` is the `env` of a
    /// container), or `None` when the schema does not describe it.
    pub fn patch_meta(&self, path: &[&str]) -> Option<&PatchMeta> {
        let mut node = self.root;
        let mut meta = None;
        for name in path {
            if let Some(items) = self.nodes[node].items {
                node = items;
            }
            let field = self.nodes[node].properties.get(*name)?;
            meta = Some(&field.meta);
            node = field.node;
        }
        meta
    }

    /// The metadata of field `key` of the object at `node`, and the node of its value (upstream:
    /// `LookupPatchMetadataForStruct`; a map's values have no metadata).
    fn struct_field(&self, node: NodeId, key: &str) -> (&PatchMeta, NodeId) {
        let n = &self.nodes[node];
        if let Some(field) = n.properties.get(key) {
            return (&field.meta, field.node);
        }
        match n.additional {
            Some(values) => (&NO_META, values),
            None => (&NO_META, FREE),
        }
    }

    /// The metadata of list field `key` of the object at `node`, and the node of its items
    /// (upstream: `LookupPatchMetadataForSlice`).
    fn slice_field(&self, node: NodeId, key: &str) -> (&PatchMeta, NodeId) {
        let (meta, list) = self.struct_field(node, key);
        (meta, self.nodes[list].items.unwrap_or(FREE))
    }
}

/// Schemas nest deeper than this only through a cycle of `$ref`-free combinators.
const MAX_SCHEMA_DEPTH: usize = 128;

struct Builder<'a> {
    root: &'a Value,
    schema: PatchSchema,
    defs: HashMap<&'a str, NodeId>,
}

impl<'a> Builder<'a> {
    fn alloc(&mut self) -> NodeId {
        self.schema.nodes.push(Node::default());
        self.schema.nodes.len() - 1
    }

    fn definition(&self, reference: &str) -> Option<(&'a str, &'a Value)> {
        let name = reference.rsplit('/').next()?;
        let defs = self
            .root
            .get("$defs")
            .or_else(|| self.root.get("definitions"))?;
        let (name, def) = defs.as_object()?.get_key_value(name)?;
        Some((name.as_str(), def))
    }

    /// The node of a value described by `schema`. A `$ref` to a definition, or a wrapper
    /// around one schema (an optional `anyOf: [T, null]`), shares the node of what it refers
    /// to, so each definition is read once and recursive definitions end.
    fn node_for(&mut self, schema: &'a Value, depth: usize) -> NodeId {
        if depth > MAX_SCHEMA_DEPTH {
            return FREE;
        }
        let Some(obj) = schema.as_object() else {
            return FREE;
        };
        let own_structure = ["properties", "additionalProperties", "items"]
            .iter()
            .any(|k| obj.contains_key(*k));
        if !own_structure {
            let mut wrapped: Vec<&'a Value> = Vec::new();
            for combinator in ["allOf", "anyOf", "oneOf"] {
                if let Some(Value::Array(alternatives)) = obj.get(combinator) {
                    wrapped.extend(
                        alternatives
                            .iter()
                            .filter(|a| a.get("type").and_then(Value::as_str) != Some("null")),
                    );
                }
            }
            match (obj.get("$ref").and_then(Value::as_str), wrapped.as_slice()) {
                (Some(reference), []) => {
                    let Some((name, def)) = self.definition(reference) else {
                        return FREE;
                    };
                    if let Some(&id) = self.defs.get(name) {
                        return id;
                    }
                    let id = self.alloc();
                    self.defs.insert(name, id);
                    self.fill(id, def, depth + 1);
                    return id;
                }
                (None, [one]) => return self.node_for(one, depth + 1),
                _ => {}
            }
        }
        let id = self.alloc();
        self.fill(id, schema, depth + 1);
        id
    }

    /// Adds what `schema` says about a value to node `id`: its properties, map values and list
    /// items, and those of the schemas it refers to or combines.
    fn fill(&mut self, id: NodeId, schema: &'a Value, depth: usize) {
        if depth > MAX_SCHEMA_DEPTH {
            return;
        }
        let Some(obj) = schema.as_object() else {
            return;
        };
        if let Some(reference) = obj.get("$ref").and_then(Value::as_str)
            && let Some((_, def)) = self.definition(reference)
        {
            self.fill(id, def, depth + 1);
        }
        for combinator in ["allOf", "anyOf", "oneOf"] {
            if let Some(Value::Array(alternatives)) = obj.get(combinator) {
                for alternative in alternatives {
                    if alternative.get("type").and_then(Value::as_str) != Some("null") {
                        self.fill(id, alternative, depth + 1);
                    }
                }
            }
        }
        if let Some(Value::Object(properties)) = obj.get("properties") {
            for (name, property) in properties {
                if self.schema.nodes[id].properties.contains_key(name) {
                    continue;
                }
                let meta = self.field_meta(property, 0);
                let node = self.node_for(property, depth + 1);
                self.schema.nodes[id]
                    .properties
                    .insert(name.clone(), Field { meta, node });
            }
        }
        match obj.get("additionalProperties") {
            Some(values @ Value::Object(_)) if self.schema.nodes[id].additional.is_none() => {
                let node = self.node_for(values, depth + 1);
                self.schema.nodes[id].additional = Some(node);
            }
            Some(Value::Bool(true)) if self.schema.nodes[id].additional.is_none() => {
                self.schema.nodes[id].additional = Some(FREE);
            }
            _ => {}
        }
        if let Some(items @ Value::Object(_)) = obj.get("items")
            && self.schema.nodes[id].items.is_none()
        {
            let node = self.node_for(items, depth + 1);
            self.schema.nodes[id].items = Some(node);
        }
        let node = &mut self.schema.nodes[id];
        if node.go_kind.is_empty() {
            node.go_kind = go_kind_of(obj, node);
        }
    }

    /// The patch metadata declared on a property, looking through the `$ref` and optional
    /// wrappers it is written on.
    fn field_meta(&self, property: &'a Value, depth: usize) -> PatchMeta {
        let mut strategy = None;
        let mut merge_key = None;
        let mut pending = vec![(property, depth)];
        while let Some((schema, depth)) = pending.pop() {
            let Some(obj) = schema.as_object() else {
                continue;
            };
            strategy = strategy.or_else(|| obj.get(PATCH_STRATEGY_EXTENSION)?.as_str());
            merge_key = merge_key.or_else(|| obj.get(PATCH_MERGE_KEY_EXTENSION)?.as_str());
            if depth >= 4 || (strategy.is_some() && merge_key.is_some()) {
                continue;
            }
            // Pushed in reverse so that the outer schema's own alternatives are read first.
            for combinator in ["oneOf", "anyOf", "allOf"] {
                if let Some(Value::Array(alternatives)) = obj.get(combinator) {
                    for alternative in alternatives.iter().rev() {
                        pending.push((alternative, depth + 1));
                    }
                }
            }
            if let Some(reference) = obj.get("$ref").and_then(Value::as_str)
                && let Some((_, def)) = self.definition(reference)
            {
                pending.push((def, depth + 1));
            }
        }
        PatchMeta::new(strategy, merge_key)
    }
}

/// The Go kind upstream would name for the type a schema describes.
fn go_kind_of(obj: &Map<String, Value>, node: &Node) -> &'static str {
    if !node.properties.is_empty() || obj.contains_key("x-kubernetes-int-or-string") {
        return "struct";
    }
    if node.additional.is_some() {
        return "map";
    }
    if node.items.is_some() {
        return "slice";
    }
    let types: Vec<&str> = match obj.get("type") {
        Some(Value::String(t)) => vec![t.as_str()],
        Some(Value::Array(ts)) => ts.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    };
    match types.iter().find(|t| **t != "null").copied() {
        Some("string") => "string",
        Some("boolean") => "bool",
        Some("number") => "float64",
        Some("integer") => match obj.get("format").and_then(Value::as_str) {
            Some("int32") => "int32",
            _ => "int64",
        },
        Some("object") => "map",
        Some("array") => "slice",
        _ => "interface",
    }
}

/// The [`PatchSchema`] of every kind of a scheme, each built on first use and kept: building one
/// generates and walks the kind's whole JSON Schema, applying a patch only reads it.
#[derive(Debug, Default)]
pub struct PatchSchemas {
    built: RwLock<HashMap<(String, String), Arc<PatchSchema>>>,
}

impl PatchSchemas {
    /// An empty cache.
    pub fn new() -> Self {
        PatchSchemas::default()
    }

    /// The patch metadata of the kind `api_version` + `kind` of `scheme`, or `None` when the
    /// scheme does not register it (upstream answers a strategic merge patch of such a kind,
    /// e.g. a custom resource, with 415).
    pub fn get(&self, scheme: &Scheme, api_version: &str, kind: &str) -> Option<Arc<PatchSchema>> {
        let key = (api_version.to_owned(), kind.to_owned());
        if let Some(found) = self
            .built
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&key)
        {
            return Some(Arc::clone(found));
        }
        let built = Arc::new(PatchSchema::from_schema(&scheme.schema(api_version, kind)?));
        let mut cache = self.built.write().unwrap_or_else(PoisonError::into_inner);
        Some(Arc::clone(cache.entry(key).or_insert(built)))
    }
}

// ---------------------------------------------------------------------------------------------
// Go value semantics
// ---------------------------------------------------------------------------------------------

/// The Go type a JSON value decodes to in upstream's unstructured maps (integers are `int64`,
/// other numbers `float64`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum GoType {
    Nil,
    Bool,
    Int64,
    Float64,
    String,
    Map,
    Slice,
}

impl GoType {
    fn of(v: &Value) -> GoType {
        match v {
            Value::Null => GoType::Nil,
            Value::Bool(_) => GoType::Bool,
            Value::Number(n) if n.is_i64() => GoType::Int64,
            Value::Number(_) => GoType::Float64,
            Value::String(_) => GoType::String,
            Value::Object(_) => GoType::Map,
            Value::Array(_) => GoType::Slice,
        }
    }

    /// The name `%s` prints for `reflect.TypeOf` of a value of this type.
    fn name(self) -> &'static str {
        match self {
            GoType::Nil => "%!s(<nil>)",
            GoType::Bool => "bool",
            GoType::Int64 => "int64",
            GoType::Float64 => "float64",
            GoType::String => "string",
            GoType::Map => GO_MAP,
            GoType::Slice => GO_SLICE,
        }
    }

    fn is_composite(self) -> bool {
        matches!(self, GoType::Map | GoType::Slice)
    }
}

/// Go's `==` on two `interface{}` values: false for different types, a panic for two maps or
/// two slices.
fn go_eq(a: &Value, b: &Value) -> Result<bool> {
    let (ta, tb) = (GoType::of(a), GoType::of(b));
    if ta != tb {
        return Ok(false);
    }
    match (a, b) {
        _ if ta.is_composite() => Err(StrategicMergeError::Uncomparable {
            type_name: ta.name(),
        }),
        (Value::Number(x), Value::Number(y)) if ta == GoType::Int64 => Ok(x.as_i64() == y.as_i64()),
        (Value::Number(x), Value::Number(y)) => Ok(x.as_f64() == y.as_f64()),
        _ => Ok(a == b),
    }
}

/// Go panics when a map or slice is used as a key of a Go map.
fn go_hashable(v: &Value) -> Result<()> {
    let t = GoType::of(v);
    if t.is_composite() {
        return Err(StrategicMergeError::Unhashable {
            type_name: t.name(),
        });
    }
    Ok(())
}

/// Whether `v` is in `set`, as a lookup in a Go map built from `set`.
fn go_set_contains(set: &[Value], v: &Value) -> Result<bool> {
    go_hashable(v)?;
    for member in set {
        if go_eq(member, v)? {
            return Ok(true);
        }
    }
    Ok(false)
}

/// A value as Go's `%v` prints it.
fn go_v(v: &Value) -> String {
    let mut out = String::new();
    write_go(&mut out, v, false);
    out
}

/// A value as Go's `%s` prints it.
fn go_s(v: &Value) -> String {
    let mut out = String::new();
    write_go(&mut out, v, true);
    out
}

fn go_list_v(list: &[Value]) -> String {
    let mut out = String::new();
    write_go_list(&mut out, list, false);
    out
}

fn write_go(out: &mut String, v: &Value, verb_s: bool) {
    let scalar = match v {
        Value::Null => "<nil>".to_owned(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => match n.as_i64() {
            Some(i) => i.to_string(),
            None => go_float(n.as_f64().unwrap_or_default()),
        },
        Value::String(s) => {
            out.push_str(s);
            return;
        }
        Value::Array(items) => {
            write_go_list(out, items, verb_s);
            return;
        }
        Value::Object(map) => {
            let mut entries: Vec<_> = map.iter().collect();
            entries.sort_by(|a, b| a.0.cmp(b.0));
            out.push_str("map[");
            for (i, (k, v)) in entries.into_iter().enumerate() {
                if i > 0 {
                    out.push(' ');
                }
                out.push_str(k);
                out.push(':');
                write_go(out, v, verb_s);
            }
            out.push(']');
            return;
        }
    };
    if verb_s {
        // `%s` of a non-string: `%!s(int64=5)`, `%!s(<nil>)`.
        match v {
            Value::Null => out.push_str("%!s(<nil>)"),
            _ => {
                out.push_str("%!s(");
                out.push_str(GoType::of(v).name());
                out.push('=');
                out.push_str(&scalar);
                out.push(')');
            }
        }
    } else {
        out.push_str(&scalar);
    }
}

fn write_go_list(out: &mut String, items: &[Value], verb_s: bool) {
    out.push('[');
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            out.push(' ');
        }
        write_go(out, item, verb_s);
    }
    out.push(']');
}

/// A float64 as Go's `%v` prints it (`%g` with the shortest digits): in exponent form below
/// 1e-4 and from 1e6 on.
fn go_float(f: f64) -> String {
    if f == 0.0 {
        return if f.is_sign_negative() { "-0" } else { "0" }.to_owned();
    }
    let exponent_form = format!("{f:e}");
    let Some((mantissa, exponent)) = exponent_form.split_once('e') else {
        return f.to_string();
    };
    let exponent: i32 = exponent.parse().unwrap_or_default();
    if (-4..6).contains(&exponent) {
        f.to_string()
    } else {
        let sign = if exponent < 0 { '-' } else { '+' };
        format!("{mantissa}e{sign}{:02}", exponent.unsigned_abs())
    }
}

// ---------------------------------------------------------------------------------------------
// Directive clean-up
// ---------------------------------------------------------------------------------------------

fn is_directive_key(key: &str) -> bool {
    key == DIRECTIVE_MARKER
        || key == RETAIN_KEYS_DIRECTIVE
        || key.starts_with(SET_ELEMENT_ORDER_PREFIX)
        || key.starts_with(DELETE_FROM_PRIMITIVE_LIST_PREFIX)
}

/// Removes every directive key from patch content copied into the object.
fn strip_directive_keys(v: Value) -> Value {
    match v {
        Value::Object(map) => Value::Object(strip_map(map)),
        Value::Array(items) => Value::Array(items.into_iter().map(strip_directive_keys).collect()),
        other => other,
    }
}

fn strip_map(map: Map<String, Value>) -> Map<String, Value> {
    map.into_iter()
        .filter(|(k, _)| !is_directive_key(k))
        .map(|(k, v)| (k, strip_directive_keys(v)))
        .collect()
}

/// Upstream's `removeDirectives` for patch content with no live counterpart: a map carrying
/// `$patch` is dropped (from its parent map or list), recursively; the other directive keys are
/// then dropped as everywhere. `None` when `v` itself is dropped.
fn remove_directives(v: Value) -> Option<Value> {
    match v {
        Value::Object(map) => {
            if map.contains_key(DIRECTIVE_MARKER) {
                return None;
            }
            Some(Value::Object(
                map.into_iter()
                    .filter(|(k, _)| !is_directive_key(k))
                    .filter_map(|(k, v)| Some((k, remove_directives(v)?)))
                    .collect(),
            ))
        }
        Value::Array(items) => Some(Value::Array(
            items.into_iter().filter_map(remove_directives).collect(),
        )),
        other => Some(other),
    }
}

/// Upstream's `discardNullValuesFromPatch`: drops `null` map entries, recursively.
fn discard_nulls(v: &mut Value) {
    match v {
        Value::Object(map) => {
            map.retain(|_, v| !v.is_null());
            map.values_mut().for_each(discard_nulls);
        }
        Value::Array(items) => items.iter_mut().for_each(discard_nulls),
        _ => {}
    }
}

// ---------------------------------------------------------------------------------------------
// Applying
// ---------------------------------------------------------------------------------------------

/// Applies the strategic merge patch `patch` to `original` (the live object as JSON), with the
/// patch metadata of the object's kind, and returns the patched object. Neither input is
/// changed. A `null` patch changes nothing; a `null` original is an empty object.
///
/// # Errors
/// A patch that is not an object, a malformed directive, or lists that cannot be merged; see
/// [`StrategicMergeError`] for each, with the status upstream answers.
pub fn apply(original: &Value, patch: &Value, schema: &PatchSchema) -> Result<Value> {
    let original = match original {
        Value::Object(map) => map.clone(),
        Value::Null => Map::new(),
        _ => return Err(StrategicMergeError::InvalidDocument),
    };
    let patch = match patch {
        Value::Object(map) => map.clone(),
        Value::Null => return Ok(Value::Object(original)),
        Value::Array(_) => return Err(StrategicMergeError::PatchNotAnObject { found: "array" }),
        Value::String(_) => return Err(StrategicMergeError::PatchNotAnObject { found: "string" }),
        Value::Number(_) => return Err(StrategicMergeError::PatchNotAnObject { found: "number" }),
        Value::Bool(_) => return Err(StrategicMergeError::PatchNotAnObject { found: "bool" }),
    };
    let merger = Merger { schema };
    Ok(Value::Object(merger.merge_map(
        original,
        patch,
        schema.root,
    )?))
}

struct Merger<'s> {
    schema: &'s PatchSchema,
}

/// The result of merging two lists, and what upstream's later steps see of the live list: Go
/// merges in the live list's backing array (whose capacity is its length), so deletions shift
/// its items left and appended patch items overwrite the freed tail.
struct MergedList {
    merged: Vec<Value>,
    original_view: Vec<Value>,
}

impl Merger<'_> {
    /// Upstream's `mergeMap`.
    fn merge_map(
        &self,
        mut original: Map<String, Value>,
        mut patch: Map<String, Value>,
        node: NodeId,
    ) -> Result<Map<String, Value>> {
        if let Some(directive) = patch.get(DIRECTIVE_MARKER) {
            return match directive.as_str() {
                Some(REPLACE_DIRECTIVE) => {
                    patch.remove(DIRECTIVE_MARKER);
                    Ok(strip_map(patch))
                }
                Some(DELETE_DIRECTIVE) => Ok(Map::new()),
                _ => Err(StrategicMergeError::UnknownPatchType {
                    patch_type: go_s(directive),
                    map: go_v(&Value::Object(patch.clone())),
                }),
            };
        }
        apply_retain_keys(&mut original, &mut patch)?;
        self.merge_ordered_lists(&mut original, &mut patch, node)?;

        let mut deletion_lists = Vec::new();
        for (key, value) in patch {
            if key.starts_with(DELETE_FROM_PRIMITIVE_LIST_PREFIX) {
                deletion_lists.push((key, value));
            } else {
                self.merge_field(&mut original, key, value, false, node)?;
            }
        }
        for (key, value) in deletion_lists {
            let field = extract_key(&key, DELETE_FROM_PRIMITIVE_LIST_PREFIX)?;
            self.merge_field(&mut original, field, value, true, node)?;
        }
        Ok(original)
    }

    /// Merges one patch entry into `original`; `deletion` marks a `$deleteFromPrimitiveList`
    /// list, whose key has been stripped of the prefix.
    fn merge_field(
        &self,
        original: &mut Map<String, Value>,
        key: String,
        patch_value: Value,
        deletion: bool,
        node: NodeId,
    ) -> Result<()> {
        if patch_value.is_null() {
            original.remove(&key);
            return Ok(());
        }
        let Some(current) = original.get_mut(&key) else {
            if !deletion {
                insert_new(original, key, patch_value);
            }
            return Ok(());
        };
        match (current, patch_value) {
            (Value::Object(live), Value::Object(patch_map)) => {
                let (meta, child) = self.schema.struct_field(node, &key);
                let (_, strategy) = meta.strategy()?;
                let merged = if strategy == REPLACE_DIRECTIVE {
                    strip_map(patch_map)
                } else {
                    self.merge_map(std::mem::take(live), patch_map, child)?
                };
                *live = merged;
            }
            (Value::Array(live), Value::Array(patch_list)) => {
                let (meta, items) = self.schema.slice_field(node, &key);
                let (_, strategy) = meta.strategy()?;
                let merged = if strategy == MERGE_DIRECTIVE || deletion {
                    let merge_key = meta.merge_key.clone();
                    self.merge_list(
                        std::mem::take(live),
                        patch_list,
                        items,
                        &merge_key,
                        deletion,
                    )?
                    .merged
                } else {
                    patch_list.into_iter().map(strip_directive_keys).collect()
                };
                *live = merged;
            }
            (current, patch_value) => {
                // Upstream replaces a value of the same Go type whatever the key, and one of
                // another type only outside deletion lists.
                let same_type = GoType::of(current) == GoType::of(&patch_value);
                if same_type {
                    *current = patch_value;
                } else if !deletion {
                    insert_new(original, key, patch_value);
                }
            }
        }
        Ok(())
    }

    /// Upstream's `mergePatchIntoOriginal`: merges each list that comes with a
    /// `$setElementOrder/<list>` directive and puts it in that order.
    fn merge_ordered_lists(
        &self,
        original: &mut Map<String, Value>,
        patch: &mut Map<String, Value>,
        node: NodeId,
    ) -> Result<()> {
        let keys: Vec<String> = patch
            .keys()
            .filter(|k| k.starts_with(SET_ELEMENT_ORDER_PREFIX))
            .cloned()
            .collect();
        for key in keys {
            let Some(order) = patch.remove(&key) else {
                continue;
            };
            let Value::Array(order) = order else {
                return Err(bad_arg_type(GO_SLICE, &order));
            };
            let field = extract_key(&key, SET_ELEMENT_ORDER_PREFIX)?;
            let live = match original.get(&field) {
                None => None,
                Some(Value::Array(list)) => Some(list.clone()),
                Some(other) => return Err(bad_arg_type(GO_SLICE, other)),
            };
            let patch_list = match patch.get(&field) {
                None => None,
                Some(Value::Array(list)) => Some(list.clone()),
                Some(other) => return Err(bad_arg_type(GO_SLICE, other)),
            };
            let (meta, items) = self.schema.slice_field(node, &field);
            let (_, strategy) = meta.strategy()?;
            let merge_key = meta.merge_key.as_str();
            validate_patch_with_set_order_list(
                patch_list.as_deref().unwrap_or_default(),
                &order,
                merge_key,
            )?;

            let (merged, live_view) = match (live, &patch_list) {
                (None, None) => continue,
                (Some(live), None) => (live.clone(), live),
                (None, Some(list)) => {
                    let added = remove_directives(Value::Array(list.clone()));
                    let Some(Value::Array(added)) = added else {
                        continue;
                    };
                    (added, Vec::new())
                }
                (Some(live), Some(list)) if strategy == MERGE_DIRECTIVE => {
                    let merged = self.merge_list(live, list.clone(), items, merge_key, false)?;
                    (merged.merged, merged.original_view)
                }
                (Some(live), Some(list)) => (
                    list.iter().cloned().map(strip_directive_keys).collect(),
                    live,
                ),
            };

            let (patch_items, server_only) = if merge_key.is_empty() {
                partition_primitives(&merged, &order)?
            } else {
                partition_maps(&merged, &order, merge_key)?
            };
            let kind = list_item_type(&[&live_view, patch_list.as_deref().unwrap_or_default()])?;
            let ordered = normalize_element_order(
                patch_items,
                server_only,
                &order,
                &live_view,
                merge_key,
                kind,
            )?;
            original.insert(field.clone(), Value::Array(ordered));
            patch.remove(&field);
        }
        Ok(())
    }

    /// Upstream's `mergeSlice`: merges a patch list into a live list tagged `merge` (or
    /// removes the values of a deletion list).
    fn merge_list(
        &self,
        original: Vec<Value>,
        patch: Vec<Value>,
        items: NodeId,
        merge_key: &str,
        deletion: bool,
    ) -> Result<MergedList> {
        if original.is_empty() && patch.is_empty() {
            return Ok(MergedList {
                merged: Vec::new(),
                original_view: original,
            });
        }
        let kind = list_item_type(&[&original, &patch])?;

        if kind != GoType::Map {
            if deletion {
                let merged = delete_from_list(&original, &patch)?;
                return Ok(MergedList {
                    merged,
                    original_view: original,
                });
            }
            // Go appends the patch to the live list: with no patch items that is the live
            // list's own array, which the de-duplication then rewrites in place.
            let mut both = original.clone();
            both.extend(patch.iter().cloned());
            let len = dedup_scalars(&mut both)?;
            let merged = both[..len].to_vec();
            let view = if patch.is_empty() { both } else { original };
            let (patch_items, server_only) = if merge_key.is_empty() {
                partition_primitives(&merged, &patch)?
            } else {
                partition_maps(&merged, &patch, merge_key)?
            };
            let merged =
                normalize_element_order(patch_items, server_only, &patch, &view, merge_key, kind)?;
            return Ok(MergedList {
                merged,
                original_view: view,
            });
        }

        if merge_key.is_empty() {
            return Err(StrategicMergeError::MissingMergeKey {
                element: self.schema.nodes[items].go_kind.to_owned(),
            });
        }

        // The live list's backing array, as Go's in-place edits leave it.
        let capacity = original.len();
        let mut backing = original;
        let mut len = capacity;
        let mut replace = false;
        let mut plain = Vec::new();
        for item in &patch {
            let Value::Object(map) = item else {
                return Err(bad_arg_type(GO_MAP, item));
            };
            let Some(directive) = map.get(DIRECTIVE_MARKER) else {
                plain.push(item.clone());
                continue;
            };
            match directive.as_str() {
                Some(DELETE_DIRECTIVE) => {
                    let Some(value) = map.get(merge_key) else {
                        return Err(no_merge_key(item, merge_key));
                    };
                    delete_matching_entries(&mut backing, &mut len, merge_key, value)?;
                }
                // Later `$patch` items are still pruned (and deletions still applied).
                Some(REPLACE_DIRECTIVE) => replace = true,
                Some(MERGE_DIRECTIVE) => return Err(StrategicMergeError::MergeDirectiveInList),
                _ => {
                    return Err(StrategicMergeError::UnknownPatchType {
                        patch_type: go_s(directive),
                        map: go_v(item),
                    });
                }
            }
        }

        let (merged, order, server_order) = if replace {
            let replaced: Vec<Value> = plain.into_iter().map(strip_directive_keys).collect();
            (replaced.clone(), Vec::new(), replaced)
        } else {
            let survivors = backing[..len].to_vec();
            let mut current = survivors.clone();
            let mut shares_backing = true;
            for item in &plain {
                let Value::Object(patch_map) = item else {
                    return Err(bad_arg_type(GO_MAP, item));
                };
                let Some(value) = patch_map.get(merge_key) else {
                    return Err(no_merge_key(item, merge_key));
                };
                match find_map_in_list(&current, merge_key, value)? {
                    Some(i) => {
                        let live = match &mut current[i] {
                            Value::Object(live) => std::mem::take(live),
                            other => return Err(bad_arg_type(GO_MAP, other)),
                        };
                        current[i] =
                            Value::Object(self.merge_map(live, patch_map.clone(), items)?);
                    }
                    None => {
                        let appended = strip_directive_keys(item.clone());
                        if shares_backing && current.len() < capacity {
                            backing[current.len()] = appended.clone();
                        } else {
                            shares_backing = false;
                        }
                        current.push(appended);
                    }
                }
            }
            (current, plain, survivors)
        };

        let (patch_items, server_only) = partition_maps(&merged, &order, merge_key)?;
        let merged = normalize_element_order(
            patch_items,
            server_only,
            &order,
            &server_order,
            merge_key,
            kind,
        )?;
        Ok(MergedList {
            merged,
            original_view: backing,
        })
    }
}

/// Puts patch content that has no live counterpart into `original`, as upstream does: `null`s
/// discarded, maps marked `$patch` dropped.
fn insert_new(original: &mut Map<String, Value>, key: String, mut value: Value) {
    discard_nulls(&mut value);
    match remove_directives(value) {
        Some(value) => {
            original.insert(key, value);
        }
        None => {
            original.remove(&key);
        }
    }
}

fn bad_arg_type(expected: &'static str, actual: &Value) -> StrategicMergeError {
    StrategicMergeError::BadArgType {
        expected,
        actual: GoType::of(actual).name(),
    }
}

fn no_merge_key(item: &Value, merge_key: &str) -> StrategicMergeError {
    StrategicMergeError::NoMergeKey {
        map: go_v(item),
        merge_key: merge_key.to_owned(),
    }
}

/// The list field a `<prefix>/<list>` directive key names.
fn extract_key(key: &str, prefix: &str) -> Result<String> {
    match key.split_once('/') {
        Some((head, field)) if head == prefix => Ok(field.to_owned()),
        _ if prefix == DELETE_FROM_PRIMITIVE_LIST_PREFIX => {
            Err(StrategicMergeError::BadPatchFormatForPrimitiveList)
        }
        _ => Err(StrategicMergeError::BadPatchFormatForSetElementOrderList),
    }
}

/// Upstream's `applyRetainKeysDirective`.
fn apply_retain_keys(
    original: &mut Map<String, Value>,
    patch: &mut Map<String, Value>,
) -> Result<()> {
    let Some(retain) = patch.remove(RETAIN_KEYS_DIRECTIVE) else {
        return Ok(());
    };
    let Value::Array(retain) = retain else {
        return Err(StrategicMergeError::BadPatchFormatForRetainKeys);
    };
    for key in &retain {
        go_hashable(key)?;
    }
    let retained = |key: &str| retain.iter().any(|k| k.as_str() == Some(key));
    for (key, value) in patch.iter() {
        if value.is_null()
            || key.starts_with(DELETE_FROM_PRIMITIVE_LIST_PREFIX)
            || key.starts_with(SET_ELEMENT_ORDER_PREFIX)
        {
            continue;
        }
        if !retained(key) {
            return Err(StrategicMergeError::BadPatchFormatForRetainKeys);
        }
    }
    original.retain(|key, _| retained(key));
    Ok(())
}

/// The Go type of the items of `lists` (upstream's `sliceElementType`).
fn list_item_type(lists: &[&[Value]]) -> Result<GoType> {
    let mut found = None;
    for list in lists {
        for item in *list {
            let t = GoType::of(item);
            match found {
                None if t == GoType::Nil => return Err(StrategicMergeError::NullListItem),
                None if t == GoType::Slice => return Err(StrategicMergeError::ListOfLists),
                None => found = Some(t),
                Some(previous) if previous != t => {
                    let lists: Vec<String> = lists.iter().map(|l| go_list_v(l)).collect();
                    return Err(StrategicMergeError::ListElementTypesDiffer {
                        lists: format!("[{}]", lists.join(" ")),
                    });
                }
                Some(_) => {}
            }
        }
    }
    found.ok_or(StrategicMergeError::NoListElements)
}

/// Upstream's `deduplicateScalars`: removes repeated values in place, moving the last value
/// into each hole. Returns the new length; `list` keeps its length, as Go's array does.
fn dedup_scalars(list: &mut [Value]) -> Result<usize> {
    if list.is_empty() {
        return Ok(0);
    }
    let mut last = list.len() - 1;
    let mut i = 0;
    while i < last {
        let mut j = i + 1;
        while j <= last {
            if go_eq(&list[i], &list[j])? {
                list[j] = list[last].clone();
                last -= 1;
            } else {
                j += 1;
            }
        }
        i += 1;
    }
    Ok(last + 1)
}

/// Upstream's `deleteFromSlice`.
fn delete_from_list(current: &[Value], to_delete: &[Value]) -> Result<Vec<Value>> {
    for value in to_delete {
        go_hashable(value)?;
    }
    let mut kept = Vec::with_capacity(current.len());
    for value in current {
        if !go_set_contains(to_delete, value)? {
            kept.push(value.clone());
        }
    }
    Ok(kept)
}

/// Upstream's `deleteMatchingEntries`, on the live list's backing array: each deletion shifts
/// the later items left, leaving the last one twice.
fn delete_matching_entries(
    backing: &mut [Value],
    len: &mut usize,
    merge_key: &str,
    value: &Value,
) -> Result<()> {
    while let Some(index) = find_map_in_list(&backing[..*len], merge_key, value)? {
        for k in index..*len - 1 {
            backing[k] = backing[k + 1].clone();
        }
        *len -= 1;
    }
    Ok(())
}

/// Upstream's `findMapInSliceBasedOnKeyValue`: the first map of `list` whose `key` equals
/// `value`.
fn find_map_in_list(list: &[Value], key: &str, value: &Value) -> Result<Option<usize>> {
    for (index, item) in list.iter().enumerate() {
        let Value::Object(map) = item else {
            return Err(StrategicMergeError::ListItemNotAMap { index });
        };
        if let Some(candidate) = map.get(key)
            && go_eq(candidate, value)?
        {
            return Ok(Some(index));
        }
    }
    Ok(None)
}

/// Splits `list` into the items present in `partition_by` and the others (primitive items).
fn partition_primitives(
    list: &[Value],
    partition_by: &[Value],
) -> Result<(Vec<Value>, Vec<Value>)> {
    for member in partition_by {
        go_hashable(member)?;
    }
    let (mut present, mut absent) = (Vec::new(), Vec::new());
    for item in list {
        if go_set_contains(partition_by, item)? {
            present.push(item.clone());
        } else {
            absent.push(item.clone());
        }
    }
    Ok((present, absent))
}

/// Splits `list` into the maps whose merge key is present in `partition_by` and the others.
fn partition_maps(
    list: &[Value],
    partition_by: &[Value],
    merge_key: &str,
) -> Result<(Vec<Value>, Vec<Value>)> {
    let (mut present, mut absent) = (Vec::new(), Vec::new());
    for item in list {
        let Value::Object(map) = item else {
            return Err(bad_arg_type(GO_MAP, item));
        };
        let Some(value) = map.get(merge_key) else {
            return Err(no_merge_key(item, merge_key));
        };
        if find_map_in_list(partition_by, merge_key, value)?.is_some() {
            present.push(item.clone());
        } else {
            absent.push(item.clone());
        }
    }
    Ok((present, absent))
}

fn has_directive_marker(item: &Value) -> bool {
    item.as_object()
        .is_some_and(|m| m.contains_key(DIRECTIVE_MARKER))
}

/// Splits a list of maps into the items that are not `$patch: delete` and those that are.
fn extract_to_delete_items(list: &[Value]) -> Result<(Vec<&Value>, Vec<&Value>)> {
    let (mut kept, mut deleted) = (Vec::new(), Vec::new());
    for item in list {
        let Value::Object(map) = item else {
            return Err(bad_arg_type(GO_MAP, item));
        };
        if map.get(DIRECTIVE_MARKER).and_then(Value::as_str) == Some(DELETE_DIRECTIVE) {
            deleted.push(item);
        } else {
            kept.push(item);
        }
    }
    Ok((kept, deleted))
}

/// Upstream's `mergeKeyValueEqual`.
fn merge_key_value_equal(left: &Value, right: &Value, merge_key: &str) -> Result<bool> {
    if merge_key.is_empty() {
        return go_eq(left, right);
    }
    let Value::Object(l) = left else {
        return Err(bad_arg_type(GO_MAP, left));
    };
    let Value::Object(r) = right else {
        return Err(bad_arg_type(GO_MAP, right));
    };
    let Some(lv) = l.get(merge_key) else {
        return Err(no_merge_key(left, merge_key));
    };
    let Some(rv) = r.get(merge_key) else {
        return Err(no_merge_key(right, merge_key));
    };
    go_eq(lv, rv)
}

/// Upstream's `validatePatchWithSetOrderList`: the patch items (deletions and other directive
/// items aside) must appear in the `$setElementOrder` list, in its order.
fn validate_patch_with_set_order_list(
    patch_list: &[Value],
    order: &[Value],
    merge_key: &str,
) -> Result<()> {
    if order.is_empty() || patch_list.is_empty() {
        return Ok(());
    }
    let candidates: Vec<&Value> = if merge_key.is_empty() {
        patch_list.iter().collect()
    } else {
        extract_to_delete_items(patch_list)?.0
    };
    let (mut p, mut o) = (0, 0);
    while p < candidates.len() && o < order.len() {
        if has_directive_marker(candidates[p]) {
            p += 1;
            continue;
        }
        if merge_key_value_equal(candidates[p], &order[o], merge_key)? {
            p += 1;
        }
        o += 1;
    }
    if p < candidates.len() && o >= order.len() {
        return Err(StrategicMergeError::SetElementOrderMismatch {
            patch_list: go_list_v(patch_list),
            set_element_order: go_list_v(order),
        });
    }
    Ok(())
}

/// Upstream's `index`: the position in `list` of `item` (of its merge key value for maps).
fn index_of(list: &[Value], item: &Value, merge_key: &str, kind: GoType) -> Result<Option<usize>> {
    fn key_of<'v>(v: &'v Value, merge_key: &str, kind: GoType) -> &'v Value {
        static NIL: Value = Value::Null;
        if kind != GoType::Map {
            return v;
        }
        match v {
            Value::Object(map) => map.get(merge_key).unwrap_or(&NIL),
            _ => &NIL,
        }
    }
    let wanted = key_of(item, merge_key, kind);
    for (i, candidate) in list.iter().enumerate() {
        if go_eq(wanted, key_of(candidate, merge_key, kind))? {
            return Ok(Some(i));
        }
    }
    Ok(None)
}

fn validate_merge_key_in_lists(merge_key: &str, lists: &[&[Value]]) -> Result<()> {
    for list in lists {
        for item in *list {
            let Value::Object(map) = item else {
                return Err(bad_arg_type(GO_MAP, item));
            };
            if !map.contains_key(merge_key) {
                return Err(no_merge_key(item, merge_key));
            }
        }
    }
    Ok(())
}

/// Upstream's `normalizeElementOrder`: the patch items in the patch order, the server-only
/// items in the live order, then the two interleaved.
fn normalize_element_order(
    patch_items: Vec<Value>,
    server_only: Vec<Value>,
    patch_order: &[Value],
    server_order: &[Value],
    merge_key: &str,
    kind: GoType,
) -> Result<Vec<Value>> {
    let patch_items = normalize_list_order(patch_items, patch_order, merge_key, kind)?;
    let server_only = normalize_list_order(server_only, server_order, merge_key, kind)?;
    merge_sorted_lists(server_only, patch_items, server_order, merge_key, kind)
}

/// Upstream's `normalizeSliceOrder`: a stable sort of `to_sort` by the positions in `order`
/// (deletion items last).
fn normalize_list_order(
    to_sort: Vec<Value>,
    order: &[Value],
    merge_key: &str,
    kind: GoType,
) -> Result<Vec<Value>> {
    let (to_sort, deleted) = if kind == GoType::Map {
        validate_merge_key_in_lists(merge_key, &[&to_sort, order])?;
        let (kept, deleted) = extract_to_delete_items(&to_sort)?;
        let kept: Vec<Value> = kept.into_iter().cloned().collect();
        let deleted: Vec<Value> = deleted.into_iter().cloned().collect();
        (kept, deleted)
    } else {
        (to_sort, Vec::new())
    };
    let mut sorter = OrderSorter {
        positions: vec![None; to_sort.len()],
        items: to_sort,
        order,
        merge_key,
        kind,
    };
    go_stable_sort(&mut sorter)?;
    let mut sorted = sorter.items;
    sorted.extend(deleted);
    Ok(sorted)
}

/// Upstream's `mergeSortedSlice`: interleaves the server-only items (`left`) into the patch
/// items (`right`), taking a server item first only when both are in the live list and it
/// comes earlier there.
fn merge_sorted_lists(
    mut left: Vec<Value>,
    mut right: Vec<Value>,
    server_order: &[Value],
    merge_key: &str,
    kind: GoType,
) -> Result<Vec<Value>> {
    let size = left.len() + right.len();
    let mut merged = Vec::with_capacity(size);
    let (mut i, mut j) = (0, 0);
    for _ in 0..size {
        let take_left = if i >= left.len() {
            false
        } else if j >= right.len() {
            true
        } else {
            let li = index_of(server_order, &left[i], merge_key, kind)?;
            let ri = index_of(server_order, &right[j], merge_key, kind)?;
            matches!((li, ri), (Some(li), Some(ri)) if li < ri)
        };
        if take_left {
            merged.push(std::mem::take(&mut left[i]));
            i += 1;
        } else {
            merged.push(std::mem::take(&mut right[j]));
            j += 1;
        }
    }
    Ok(merged)
}

/// The data of Go's `sort.SliceStable`: its `less` may fail where upstream's would panic.
trait SortData {
    fn len(&self) -> usize;
    fn less(&mut self, i: usize, j: usize) -> Result<bool>;
    fn swap(&mut self, i: usize, j: usize);
}

/// Sorts items by their position in an order list; an item missing from it sorts "less" than
/// anything (upstream's comparator), which only a faithful replay of Go's algorithm reproduces.
struct OrderSorter<'a> {
    items: Vec<Value>,
    positions: Vec<Option<Option<usize>>>,
    order: &'a [Value],
    merge_key: &'a str,
    kind: GoType,
}

impl OrderSorter<'_> {
    fn position(&mut self, i: usize) -> Result<Option<usize>> {
        if let Some(known) = self.positions[i] {
            return Ok(known);
        }
        let found = index_of(self.order, &self.items[i], self.merge_key, self.kind)?;
        self.positions[i] = Some(found);
        Ok(found)
    }
}

impl SortData for OrderSorter<'_> {
    fn len(&self) -> usize {
        self.items.len()
    }

    fn less(&mut self, i: usize, j: usize) -> Result<bool> {
        if let Some(pi) = self.position(i)?
            && let Some(pj) = self.position(j)?
        {
            return Ok(pi < pj);
        }
        Ok(true)
    }

    fn swap(&mut self, i: usize, j: usize) {
        self.items.swap(i, j);
        self.positions.swap(i, j);
    }
}

/// Go's stable sort (`sort.SliceStable`): insertion sort of blocks of 20, then `symMerge` of
/// ever larger blocks.
fn go_stable_sort(data: &mut impl SortData) -> Result<()> {
    let n = data.len();
    let mut block = 20;
    let (mut a, mut b) = (0, block);
    while b <= n {
        insertion_sort(data, a, b)?;
        a = b;
        b += block;
    }
    insertion_sort(data, a, n)?;
    while block < n {
        a = 0;
        b = 2 * block;
        while b <= n {
            sym_merge(data, a, a + block, b)?;
            a = b;
            b += 2 * block;
        }
        let m = a + block;
        if m < n {
            sym_merge(data, a, m, n)?;
        }
        block *= 2;
    }
    Ok(())
}

fn insertion_sort(data: &mut impl SortData, a: usize, b: usize) -> Result<()> {
    for i in a + 1..b {
        let mut j = i;
        while j > a && data.less(j, j - 1)? {
            data.swap(j, j - 1);
            j -= 1;
        }
    }
    Ok(())
}

/// Merges the sorted runs `[a, m)` and `[m, b)` in place (Go's `symMerge`).
fn sym_merge(data: &mut impl SortData, a: usize, m: usize, b: usize) -> Result<()> {
    if m - a == 1 {
        // Binary search for where data[a] goes in [m, b), then rotate it there.
        let (mut i, mut j) = (m, b);
        while i < j {
            let h = (i + j) / 2;
            if data.less(h, a)? {
                i = h + 1;
            } else {
                j = h;
            }
        }
        for k in a..i - 1 {
            data.swap(k, k + 1);
        }
        return Ok(());
    }
    if b - m == 1 {
        // Binary search for where data[m] goes in [a, m), then rotate it there.
        let (mut i, mut j) = (a, m);
        while i < j {
            let h = (i + j) / 2;
            if !data.less(m, h)? {
                i = h + 1;
            } else {
                j = h;
            }
        }
        let mut k = m;
        while k > i {
            data.swap(k, k - 1);
            k -= 1;
        }
        return Ok(());
    }
    let mid = (a + b) / 2;
    let n = mid + m;
    let (mut start, mut r) = if m > mid { (n - b, mid) } else { (a, m) };
    let p = n - 1;
    while start < r {
        let c = (start + r) / 2;
        if !data.less(p - c, c)? {
            start = c + 1;
        } else {
            r = c;
        }
    }
    let end = n - start;
    if start < m && m < end {
        rotate(data, start, m, end);
    }
    if a < start && start < mid {
        sym_merge(data, a, start, mid)?;
    }
    if mid < end && end < b {
        sym_merge(data, mid, end, b)?;
    }
    Ok(())
}

/// Swaps the blocks `[a, m)` and `[m, b)` (Go's `rotate`).
fn rotate(data: &mut impl SortData, a: usize, m: usize, b: usize) {
    let mut i = m - a;
    let mut j = b - m;
    while i != j {
        if i > j {
            swap_range(data, m - i, m, j);
            i -= j;
        } else {
            swap_range(data, m - i, m + j - i, i);
            j -= i;
        }
    }
    swap_range(data, m - i, m, i);
}

fn swap_range(data: &mut impl SortData, a: usize, b: usize, n: usize) {
    for i in 0..n {
        data.swap(a + i, b + i);
    }
}

#[cfg(test)]
mod tests {
    use std::sync::OnceLock;

    use proptest::prelude::*;
    use serde_json::json;

    use super::*;

    fn schemas() -> &'static (Scheme, PatchSchemas) {
        static SCHEMAS: OnceLock<(Scheme, PatchSchemas)> = OnceLock::new();
        SCHEMAS.get_or_init(|| (Scheme::builtin(), PatchSchemas::new()))
    }

    fn schema(api_version: &str, kind: &str) -> Arc<PatchSchema> {
        let (scheme, schemas) = schemas();
        schemas
            .get(scheme, api_version, kind)
            .expect("a built-in kind")
    }

    fn pod(original: Value, patch: Value) -> Result<Value> {
        apply(&original, &patch, &schema("v1", "Pod"))
    }

    fn deployment(original: Value, patch: Value) -> Result<Value> {
        apply(&original, &patch, &schema("apps/v1", "Deployment"))
    }

    fn names(list: &Value) -> Vec<&str> {
        list.as_array()
            .expect("a list")
            .iter()
            .map(|item| item["name"].as_str().expect("a name"))
            .collect()
    }

    fn pod_with_containers(containers: Value) -> Value {
        json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"},
               "spec": {"containers": containers}})
    }

    // --- patch metadata -----------------------------------------------------------------------

    #[test]
    fn schema_carries_upstream_patch_metadata_for_built_in_kinds() {
        // (apiVersion, kind, field path, strategies, merge key)
        type Case<'a> = (&'a str, &'a str, &'a [&'a str], &'a str, Option<&'a str>);
        let cases: &[Case] = &[
            (
                "v1",
                "Pod",
                &["metadata", "ownerReferences"],
                "merge",
                Some("uid"),
            ),
            ("v1", "Pod", &["metadata", "finalizers"], "merge", None),
            ("v1", "Pod", &["spec", "containers"], "merge", Some("name")),
            (
                "v1",
                "Pod",
                &["spec", "initContainers"],
                "merge",
                Some("name"),
            ),
            (
                "v1",
                "Pod",
                &["spec", "ephemeralContainers"],
                "merge",
                Some("name"),
            ),
            (
                "v1",
                "Pod",
                &["spec", "volumes"],
                "merge,retainKeys",
                Some("name"),
            ),
            (
                "v1",
                "Pod",
                &["spec", "imagePullSecrets"],
                "merge",
                Some("name"),
            ),
            ("v1", "Pod", &["spec", "hostAliases"], "merge", Some("ip")),
            (
                "v1",
                "Pod",
                &["spec", "topologySpreadConstraints"],
                "merge",
                Some("topologyKey"),
            ),
            (
                "v1",
                "Pod",
                &["spec", "containers", "ports"],
                "merge",
                Some("containerPort"),
            ),
            (
                "v1",
                "Pod",
                &["spec", "containers", "env"],
                "merge",
                Some("name"),
            ),
            (
                "v1",
                "Pod",
                &["spec", "containers", "volumeMounts"],
                "merge",
                Some("mountPath"),
            ),
            (
                "v1",
                "Pod",
                &["spec", "containers", "volumeDevices"],
                "merge",
                Some("devicePath"),
            ),
            (
                "v1",
                "Pod",
                &["status", "conditions"],
                "merge",
                Some("type"),
            ),
            ("v1", "Pod", &["status", "podIPs"], "merge", Some("ip")),
            ("v1", "Pod", &["spec", "tolerations"], "", None),
            ("v1", "Pod", &["spec", "containers", "args"], "", None),
            ("v1", "Service", &["spec", "ports"], "merge", Some("port")),
            ("v1", "ServiceAccount", &["secrets"], "merge", Some("name")),
            ("v1", "Node", &["spec", "podCIDRs"], "merge", None),
            (
                "v1",
                "Node",
                &["status", "conditions"],
                "merge",
                Some("type"),
            ),
            (
                "v1",
                "Node",
                &["status", "addresses"],
                "merge",
                Some("type"),
            ),
            (
                "v1",
                "Namespace",
                &["status", "conditions"],
                "merge",
                Some("type"),
            ),
            (
                "apps/v1",
                "Deployment",
                &["spec", "strategy"],
                "retainKeys",
                None,
            ),
            (
                "apps/v1",
                "Deployment",
                &["status", "conditions"],
                "merge",
                Some("type"),
            ),
            (
                "apps/v1",
                "ReplicaSet",
                &["status", "conditions"],
                "merge",
                Some("type"),
            ),
            (
                "apps/v1",
                "Deployment",
                &["spec", "template", "spec", "containers", "env"],
                "merge",
                Some("name"),
            ),
        ];
        for (api_version, kind, path, strategy, merge_key) in cases {
            let schema = schema(api_version, kind);
            let meta = schema
                .patch_meta(path)
                .unwrap_or_else(|| panic!("{kind} {path:?} is in the schema"));
            assert_eq!(meta.strategies().join(","), *strategy, "{kind} {path:?}");
            assert_eq!(meta.merge_key(), *merge_key, "{kind} {path:?}");
        }
        assert!(
            schema("v1", "Pod")
                .patch_meta(&["spec", "nonsense"])
                .is_none()
        );
    }

    #[test]
    fn every_built_in_kind_has_a_patch_schema_built_once() {
        let (scheme, schemas) = schemas();
        for resource in scheme.resources() {
            let api_version = if resource.group.is_empty() {
                resource.version.clone()
            } else {
                format!("{}/{}", resource.group, resource.version)
            };
            let first = schemas.get(scheme, &api_version, &resource.kind);
            let first = first.unwrap_or_else(|| panic!("{api_version} {}", resource.kind));
            assert!(
                first.patch_meta(&["metadata"]).is_some(),
                "{}",
                resource.kind
            );
            let again = schemas.get(scheme, &api_version, &resource.kind);
            assert!(Arc::ptr_eq(&first, &again.expect("cached")));
        }
        assert!(schemas.get(scheme, "example.com/v1", "Widget").is_none());
    }

    #[test]
    fn recursive_schemas_are_read_once_per_definition() {
        let schema = PatchSchema::from_json_schema(&json!({
            "type": "object",
            "properties": {"root": {"$ref": "#/$defs/Tree"}},
            "$defs": {"Tree": {
                "type": "object",
                "properties": {
                    "children": {
                        "type": "array",
                        "items": {"$ref": "#/$defs/Tree"},
                        "x-kubernetes-patch-strategy": "merge",
                        "x-kubernetes-patch-merge-key": "id",
                    },
                    "parent": {"anyOf": [{"$ref": "#/$defs/Tree"}, {"type": "null"}]},
                },
            }},
        }));
        let deep = ["root", "children", "parent", "children", "children"];
        let meta = schema.patch_meta(&deep).expect("recursive path");
        assert_eq!(meta.merge_key(), Some("id"));
        assert!(schema.nodes.len() < 10, "{} nodes", schema.nodes.len());
    }

    // --- maps ---------------------------------------------------------------------------------

    #[test]
    fn maps_merge_and_null_deletes_a_label() {
        let live = json!({"metadata": {"name": "p", "labels": {"app": "web", "tier": "front"}}});
        let patch = json!({"metadata": {"labels": {"tier": null, "env": "prod"}}});
        assert_eq!(
            pod(live, patch).unwrap(),
            json!({"metadata": {"name": "p", "labels": {"app": "web", "env": "prod"}}})
        );
    }

    #[test]
    fn null_for_a_missing_key_is_ignored() {
        let live = json!({"metadata": {"name": "p"}});
        let patch = json!({"metadata": {"labels": null, "annotations": {"a": null}}});
        assert_eq!(
            pod(live, patch).unwrap(),
            json!({"metadata": {"name": "p", "annotations": {}}})
        );
    }

    #[test]
    fn new_subtrees_lose_nulls_and_maps_marked_with_a_directive() {
        let live = json!({"spec": {"containers": []}});
        let patch = json!({"spec": {"securityContext": {
            "runAsUser": 1000,
            "sysctls": null,
            "seLinuxOptions": {"$patch": "delete", "level": "s0"},
            "seccompProfile": {"type": "RuntimeDefault", "$retainKeys": ["type"]},
        }}});
        assert_eq!(
            pod(live, patch).unwrap()["spec"]["securityContext"],
            json!({"runAsUser": 1000, "seccompProfile": {"type": "RuntimeDefault"}})
        );
    }

    #[test]
    fn a_value_of_another_type_replaces_the_live_one() {
        let live = json!({"metadata": {"name": "p", "labels": "not a map"}});
        let patch = json!({"metadata": {"labels": {"a": "b", "gone": null}}});
        assert_eq!(
            pod(live, patch).unwrap()["metadata"]["labels"],
            json!({"a": "b"})
        );
        let live = json!({"spec": {"containers": {"name": "c"}}});
        let patch = json!({"spec": {"containers": [{"name": "c"}]}});
        assert_eq!(
            pod(live, patch).unwrap()["spec"]["containers"],
            json!([{"name": "c"}])
        );
    }

    #[test]
    fn patch_replace_in_a_map_replaces_it() {
        let live = json!({"metadata": {"labels": {"a": "1", "b": "2"}}});
        let patch = json!({"metadata": {"labels": {"$patch": "replace", "c": "3"}}});
        assert_eq!(
            pod(live, patch).unwrap(),
            json!({"metadata": {"labels": {"c": "3"}}})
        );
    }

    #[test]
    fn patch_delete_in_a_map_empties_it() {
        let live = json!({"spec": {"strategy": {"type": "Recreate"}, "replicas": 2}});
        let patch = json!({"spec": {"strategy": {"$patch": "delete"}}});
        assert_eq!(
            deployment(live, patch).unwrap(),
            json!({"spec": {"strategy": {}, "replicas": 2}})
        );
    }

    #[test]
    fn unknown_patch_directive_in_a_map_is_upstreams_error() {
        let live = json!({"metadata": {"labels": {"a": "1"}}});
        let err = pod(
            live.clone(),
            json!({"metadata": {"labels": {"$patch": "merge"}}}),
        )
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "unknown patch type: merge in map: map[$patch:merge]"
        );
        assert_eq!(err.code(), 500);
        let err = pod(live, json!({"metadata": {"$patch": 5, "name": "x"}})).unwrap_err();
        assert_eq!(
            err.to_string(),
            "unknown patch type: %!s(int64=5) in map: map[$patch:5 name:x]"
        );
    }

    // --- lists merged by key ------------------------------------------------------------------

    #[test]
    fn containers_merge_by_name_keeping_unpatched_fields() {
        let live = pod_with_containers(json!([
            {"name": "app", "image": "app:1", "ports": [{"containerPort": 80}]},
            {"name": "proxy", "image": "proxy:1"},
        ]));
        let patch = json!({"spec": {"containers": [{"name": "app", "image": "app:2"}]}});
        assert_eq!(
            pod(live, patch).unwrap()["spec"]["containers"],
            json!([
                {"name": "app", "image": "app:2", "ports": [{"containerPort": 80}]},
                {"name": "proxy", "image": "proxy:1"},
            ])
        );
    }

    #[test]
    fn a_new_item_goes_before_the_live_items_it_is_not_ordered_against() {
        // Upstream interleaves server-only items after patch items that are not in the live
        // list: a container added by a plain patch becomes the first one.
        let live = pod_with_containers(json!([{"name": "a"}, {"name": "b"}]));
        let patch = json!({"spec": {"containers": [{"name": "new", "image": "n"}]}});
        let patched = pod(live, patch).unwrap();
        assert_eq!(names(&patched["spec"]["containers"]), ["new", "a", "b"]);
    }

    #[test]
    fn patched_items_keep_their_live_position() {
        let live = pod_with_containers(json!([
            {"name": "c", "env": [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}]},
        ]));
        let patch = json!({"spec": {"containers": [{"name": "c", "env": [
            {"name": "B", "value": "3"}, {"name": "C", "value": "4"}]}]}});
        assert_eq!(
            pod(live, patch).unwrap()["spec"]["containers"][0]["env"],
            json!([
                {"name": "A", "value": "1"},
                {"name": "B", "value": "3"},
                {"name": "C", "value": "4"},
            ])
        );
    }

    #[test]
    fn container_ports_merge_by_container_port_and_mounts_by_mount_path() {
        let live = pod_with_containers(json!([{
            "name": "c",
            "ports": [{"containerPort": 80, "name": "http"}, {"containerPort": 443}],
            "volumeMounts": [{"name": "data", "mountPath": "/data"}],
        }]));
        let patch = json!({"spec": {"containers": [{
            "name": "c",
            "ports": [{"containerPort": 80, "protocol": "TCP"}],
            "volumeMounts": [{"mountPath": "/data", "readOnly": true}],
        }]}});
        let patched = pod(live, patch).unwrap();
        let container = &patched["spec"]["containers"][0];
        assert_eq!(
            container["ports"],
            json!([{"containerPort": 80, "name": "http", "protocol": "TCP"},
                   {"containerPort": 443}])
        );
        assert_eq!(
            container["volumeMounts"],
            json!([{"name": "data", "mountPath": "/data", "readOnly": true}])
        );
    }

    #[test]
    fn patch_delete_item_removes_it_by_merge_key() {
        let live = pod_with_containers(json!([{"name": "a"}, {"name": "b"}, {"name": "a"}]));
        let patch = json!({"spec": {"containers": [{"$patch": "delete", "name": "a"}]}});
        let patched = pod(live, patch).unwrap();
        assert_eq!(names(&patched["spec"]["containers"]), ["b"]);
    }

    #[test]
    fn patch_replace_item_replaces_the_whole_list() {
        let live = pod_with_containers(json!([{"name": "a", "image": "x"}, {"name": "b"}]));
        let patch = json!({"spec": {"containers": [
            {"name": "c", "image": "c", "$setElementOrder/ports": [{"containerPort": 1}]},
            {"$patch": "replace"},
            {"name": "d"},
        ]}});
        assert_eq!(
            pod(live, patch).unwrap()["spec"]["containers"],
            json!([{"name": "c", "image": "c"}, {"name": "d"}])
        );
    }

    #[test]
    fn patch_merge_item_is_rejected() {
        let live = pod_with_containers(json!([{"name": "a"}]));
        let patch = json!({"spec": {"containers": [{"$patch": "merge"}]}});
        let err = pod(live.clone(), patch).unwrap_err();
        assert_eq!(err, StrategicMergeError::MergeDirectiveInList);
        let patch = json!({"spec": {"containers": [{"$patch": "bogus", "name": "a"}]}});
        assert_eq!(
            pod(live, patch).unwrap_err().to_string(),
            "unknown patch type: bogus in map: map[$patch:bogus name:a]"
        );
    }

    #[test]
    fn item_without_the_merge_key_is_upstreams_error() {
        let live = pod_with_containers(json!([{"name": "a"}]));
        let patch = json!({"spec": {"containers": [{"image": "x", "ports": [1, 2.5]}]}});
        assert_eq!(
            pod(live.clone(), patch).unwrap_err().to_string(),
            "map: map[image:x ports:[1 2.5]] does not contain declared merge key: name"
        );
        let patch = json!({"spec": {"containers": [{"$patch": "delete"}]}});
        assert_eq!(
            pod(live, patch).unwrap_err().to_string(),
            "map: map[$patch:delete] does not contain declared merge key: name"
        );
    }

    #[test]
    fn owner_references_merge_by_uid() {
        let live = json!({"metadata": {"ownerReferences": [
            {"uid": "u1", "name": "rs-1", "kind": "ReplicaSet"}]}});
        let patch = json!({"metadata": {"ownerReferences": [
            {"uid": "u1", "controller": true}, {"uid": "u2", "name": "rs-2"}]}});
        assert_eq!(
            pod(live, patch).unwrap()["metadata"]["ownerReferences"],
            json!([
                {"uid": "u1", "name": "rs-1", "kind": "ReplicaSet", "controller": true},
                {"uid": "u2", "name": "rs-2"},
            ])
        );
    }

    #[test]
    fn service_ports_merge_by_port() {
        let live = json!({"spec": {"ports": [
            {"port": 80, "targetPort": 8080, "protocol": "TCP"},
            {"port": 443, "targetPort": 8443}]}});
        let patch = json!({"spec": {"ports": [{"port": 443, "targetPort": 9443}]}});
        let patched = apply(&live, &patch, &schema("v1", "Service")).unwrap();
        assert_eq!(
            patched["spec"]["ports"],
            json!([{"port": 80, "targetPort": 8080, "protocol": "TCP"},
                   {"port": 443, "targetPort": 9443}])
        );
    }

    #[test]
    fn merge_strategy_list_of_maps_without_merge_key_is_an_error() {
        let schema = PatchSchema::from_json_schema(&json!({"type": "object", "properties": {
            "items": {"type": "array", "items": {"type": "object", "properties": {
                "a": {"type": "string"}}}, "x-kubernetes-patch-strategy": "merge"}}}));
        let err = apply(
            &json!({"items": [{"a": "1"}]}),
            &json!({"items": [{"a": "2"}]}),
            &schema,
        )
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "cannot merge lists without merge key for struct"
        );
    }

    // --- primitive lists ----------------------------------------------------------------------

    #[test]
    fn finalizers_merge_as_a_set() {
        let live = json!({"metadata": {"finalizers": ["a", "b"]}});
        let patched = pod(
            live.clone(),
            json!({"metadata": {"finalizers": ["c", "a"]}}),
        )
        .unwrap();
        assert_eq!(patched["metadata"]["finalizers"], json!(["c", "a", "b"]));
        let patched = pod(live, json!({"metadata": {"finalizers": ["b"]}})).unwrap();
        assert_eq!(patched["metadata"]["finalizers"], json!(["a", "b"]));
    }

    #[test]
    fn delete_from_primitive_list_removes_values() {
        let live = json!({"metadata": {"finalizers": ["a", "b", "c", "b"]}});
        let patch = json!({"metadata": {"$deleteFromPrimitiveList/finalizers": ["b", "x"]}});
        assert_eq!(
            pod(live.clone(), patch).unwrap()["metadata"]["finalizers"],
            json!(["a", "c"])
        );
        // A deletion list of null deletes the list itself.
        let patch = json!({"metadata": {"$deleteFromPrimitiveList/finalizers": null}});
        assert_eq!(pod(live, patch).unwrap(), json!({"metadata": {}}));
        // Without a live list there is nothing to delete from.
        let patch = json!({"metadata": {"$deleteFromPrimitiveList/finalizers": ["a"]}});
        assert_eq!(
            pod(json!({"metadata": {}}), patch).unwrap(),
            json!({"metadata": {}})
        );
    }

    #[test]
    fn additions_apply_before_deletions_of_the_same_list() {
        let live = json!({"metadata": {"finalizers": ["a"]}});
        let patch = json!({"metadata": {
            "finalizers": ["b"], "$deleteFromPrimitiveList/finalizers": ["b", "a"]}});
        assert_eq!(
            pod(live, patch).unwrap()["metadata"]["finalizers"],
            json!([])
        );
    }

    #[test]
    fn malformed_delete_from_primitive_list_key_is_a_bad_request() {
        let live = json!({"metadata": {"finalizers": ["a"]}});
        let patch = json!({"metadata": {"$deleteFromPrimitiveList": ["a"]}});
        let err = pod(live, patch).unwrap_err();
        assert_eq!(err, StrategicMergeError::BadPatchFormatForPrimitiveList);
        assert_eq!(err.to_string(), "invalid patch format of primitive list");
        assert_eq!(err.code(), 400);
    }

    #[test]
    fn mixed_item_types_are_upstreams_errors() {
        let live = json!({"metadata": {"finalizers": ["a"]}});
        let err = pod(live, json!({"metadata": {"finalizers": [1]}})).unwrap_err();
        assert_eq!(
            err.to_string(),
            "list element types are not identical: [[a] [1]]"
        );
        let live = json!({"metadata": {"finalizers": []}});
        let err = pod(live.clone(), json!({"metadata": {"finalizers": [["a"]]}})).unwrap_err();
        assert_eq!(err, StrategicMergeError::ListOfLists);
        assert_eq!(err.code(), 422);
        let err = pod(live, json!({"metadata": {"finalizers": [null]}})).unwrap_err();
        assert_eq!(err, StrategicMergeError::NullListItem);
    }

    #[test]
    fn other_lists_are_replaced_and_lose_their_directives() {
        let live = json!({"spec": {
            "containers": [{"name": "c", "args": ["a", "b"]}],
            "tolerations": [{"key": "old", "operator": "Exists"}],
        }});
        let patch = json!({"spec": {
            "containers": [{"name": "c", "args": ["z"]}],
            "tolerations": [{"key": "k", "$patch": "delete"}],
        }});
        let patched = pod(live, patch.clone()).unwrap();
        assert_eq!(patched["spec"]["containers"][0]["args"], json!(["z"]));
        assert_eq!(patched["spec"]["tolerations"], json!([{"key": "k"}]));
        // A list with no live counterpart goes through upstream's `removeDirectives`, which
        // drops the items marked `$patch`.
        let live = pod_with_containers(json!([{"name": "c"}]));
        assert_eq!(pod(live, patch).unwrap()["spec"]["tolerations"], json!([]));
    }

    // --- $retainKeys ----------------------------------------------------------------------------

    #[test]
    fn deployment_strategy_retain_keys_clears_rolling_update() {
        let live = json!({"spec": {"strategy": {
            "type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0}}}});
        let patch = json!({"spec": {"strategy": {
            "$retainKeys": ["type"], "rollingUpdate": null, "type": "Recreate"}}});
        assert_eq!(
            deployment(live.clone(), patch).unwrap(),
            json!({"spec": {"strategy": {"type": "Recreate"}}})
        );
        // Without the directive the map merges as any other.
        let patch = json!({"spec": {"strategy": {"type": "Recreate"}}});
        assert_eq!(
            deployment(live, patch).unwrap()["spec"]["strategy"]["rollingUpdate"]["maxSurge"],
            1
        );
    }

    #[test]
    fn volume_retain_keys_switches_the_volume_source() {
        let live = json!({"spec": {"volumes": [
            {"name": "data", "emptyDir": {"medium": "Memory"}},
            {"name": "other", "emptyDir": {}}]}});
        let patch = json!({"spec": {"volumes": [{
            "name": "data", "$retainKeys": ["configMap", "name"], "configMap": {"name": "cfg"}}]}});
        assert_eq!(
            pod(live, patch).unwrap()["spec"]["volumes"],
            json!([{"name": "data", "configMap": {"name": "cfg"}},
                   {"name": "other", "emptyDir": {}}])
        );
    }

    #[test]
    fn retain_keys_must_list_every_key_the_patch_sets() {
        let live = json!({"spec": {"strategy": {"type": "RollingUpdate"}}});
        let patch = json!({"spec": {"strategy": {
            "$retainKeys": ["type"], "type": "RollingUpdate", "rollingUpdate": {"maxSurge": 2}}}});
        let err = deployment(live.clone(), patch).unwrap_err();
        assert_eq!(err, StrategicMergeError::BadPatchFormatForRetainKeys);
        assert_eq!(err.to_string(), "invalid patch format of retainKeys");
        let patch = json!({"spec": {"strategy": {"$retainKeys": "type"}}});
        assert_eq!(
            deployment(live.clone(), patch).unwrap_err(),
            StrategicMergeError::BadPatchFormatForRetainKeys
        );
        let patch = json!({"spec": {"strategy": {"$retainKeys": [{"type": 1}]}}});
        assert_eq!(
            deployment(live, patch).unwrap_err(),
            StrategicMergeError::Unhashable { type_name: GO_MAP }
        );
    }

    // --- $setElementOrder -----------------------------------------------------------------------

    #[test]
    fn kubectl_apply_patch_with_set_element_order_updates_the_image() {
        // The body kubectl 1.32 sent for `kubectl apply` of a changed image (research
        // transcripts), byte for byte.
        const BODY: &str = r#"{"metadata": {"annotations": {"kubectl.kubernetes.io/last-applied-configuration": "{\"apiVersion\":\"apps/v1\",\"kind\":\"Deployment\",\"metadata\":{\"annotations\":{},\"labels\":{\"app\":\"web\"},\"name\":\"web\",\"namespace\":\"default\"},\"spec\":{\"replicas\":3,\"selector\":{\"matchLabels\":{\"app\":\"web\"}},\"template\":{\"metadata\":{\"labels\":{\"app\":\"web\"}},\"spec\":{\"containers\":[{\"image\":\"nginx:1.29\",\"name\":\"nginx\",\"ports\":[{\"containerPort\":80}]}]}}}}\n"}}, "spec": {"template": {"spec": {"$setElementOrder/containers": [{"name": "nginx"}], "containers": [{"image": "nginx:1.29", "name": "nginx"}]}}}}"#;
        let patch: Value = serde_json::from_str(BODY).unwrap();
        let live = json!({
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "web", "namespace": "default", "labels": {"app": "web"},
                         "annotations": {"deployment.kubernetes.io/revision": "1"}},
            "spec": {"replicas": 3, "selector": {"matchLabels": {"app": "web"}},
                     "template": {"metadata": {"labels": {"app": "web"}},
                                  "spec": {"containers": [{
                                      "name": "nginx", "image": "nginx:1.28",
                                      "ports": [{"containerPort": 80, "protocol": "TCP"}],
                                      "imagePullPolicy": "IfNotPresent"}],
                                      "restartPolicy": "Always"}}},
        });
        let last_applied = "kubectl.kubernetes.io/last-applied-configuration";
        let mut expected = live.clone();
        expected["metadata"]["annotations"][last_applied] =
            patch["metadata"]["annotations"][last_applied].clone();
        expected["spec"]["template"]["spec"]["containers"][0]["image"] = json!("nginx:1.29");
        assert_eq!(deployment(live, patch).unwrap(), expected);
    }

    #[test]
    fn kubectl_edit_patch_replaces_container_statuses() {
        // The body kubectl 1.32 sent for `kubectl edit pod` (research §2.2).
        let live = json!({
            "metadata": {"name": "nginx1", "namespace": "kubekart"},
            "spec": {"containers": [{"name": "nginx1", "image": "nginx"}]},
            "status": {"phase": "Running", "containerStatuses": [
                {"name": "nginx1", "image": "nginx", "ready": true, "restartCount": 0}]},
        });
        let patch = json!({
            "spec": {"$setElementOrder/containers": [{"name": "nginx1"}],
                     "containers": [{"image": "nginx:edited", "name": "nginx1"}]},
            "status": {"containerStatuses": [{"image": "nginx:edited", "imageID": "",
                "name": "nginx1", "ready": true, "restartCount": 0,
                "state": {"running": {"startedAt": "2026-11-25T07:10:28Z"}}}]},
        });
        let patched = pod(live, patch.clone()).unwrap();
        assert_eq!(
            patched["spec"]["containers"],
            json!([{"name": "nginx1", "image": "nginx:edited"}])
        );
        assert_eq!(patched["status"]["phase"], "Running");
        assert_eq!(
            patched["status"]["containerStatuses"],
            patch["status"]["containerStatuses"]
        );
    }

    #[test]
    fn set_element_order_alone_reorders_the_live_list() {
        let live = pod_with_containers(json!([{"name": "a"}, {"name": "b"}, {"name": "c"}]));
        let patch = json!({"spec": {"$setElementOrder/containers": [
            {"name": "c"}, {"name": "a"}, {"name": "b"}]}});
        let patched = pod(live, patch).unwrap();
        assert_eq!(names(&patched["spec"]["containers"]), ["c", "a", "b"]);
    }

    #[test]
    fn set_element_order_interleaves_server_only_items_by_live_position() {
        // `s` only exists on the server: it stays before `b`, which it preceded in the live
        // list, while the patch puts `b` before `a`.
        let live = pod_with_containers(json!([{"name": "a"}, {"name": "s"}, {"name": "b"}]));
        let patch = json!({"spec": {
            "$setElementOrder/containers": [{"name": "b"}, {"name": "a"}],
            "containers": [{"name": "b", "image": "x"}]}});
        let patched = pod(live, patch).unwrap();
        assert_eq!(names(&patched["spec"]["containers"]), ["s", "b", "a"]);
        assert_eq!(patched["spec"]["containers"][1]["image"], "x");
    }

    #[test]
    fn set_element_order_sees_the_live_list_as_go_edits_it_in_place() {
        // Renaming `a` to `x` next to a server-only `s`: upstream deletes `a` in the live
        // list's own array and appends `x` into the freed slot, so the ordering step finds `x`
        // after `s` in the "live" order.
        let live = pod_with_containers(json!([{"name": "a"}, {"name": "s"}]));
        let patch = json!({"spec": {
            "$setElementOrder/containers": [{"name": "x"}],
            "containers": [{"name": "x", "image": "i"}, {"$patch": "delete", "name": "a"}]}});
        let patched = pod(live, patch).unwrap();
        assert_eq!(names(&patched["spec"]["containers"]), ["s", "x"]);
        // Without a server-only item the new list is just the patch's.
        let live = pod_with_containers(json!([{"name": "a"}]));
        let patch = json!({"spec": {
            "$setElementOrder/containers": [{"name": "x"}],
            "containers": [{"name": "x"}, {"$patch": "delete", "name": "a"}]}});
        assert_eq!(
            names(&pod(live, patch).unwrap()["spec"]["containers"]),
            ["x"]
        );
    }

    #[test]
    fn set_element_order_for_a_new_list_drops_directive_items() {
        let live = json!({"spec": {}});
        let patch = json!({"spec": {
            "$setElementOrder/containers": [{"name": "b"}, {"name": "a"}],
            "containers": [{"name": "b"}, {"name": "a"}, {"$patch": "delete", "name": "z"}]}});
        assert_eq!(
            names(&pod(live, patch).unwrap()["spec"]["containers"]),
            ["b", "a"]
        );
    }

    #[test]
    fn set_element_order_orders_a_primitive_list() {
        // The listed values in the listed order; `b`, known only to the server, stays before
        // `c`, which followed it in the live list.
        let live = json!({"metadata": {"finalizers": ["a", "b", "c"]}});
        let patch = json!({"metadata": {
            "$setElementOrder/finalizers": ["c", "d", "a"], "finalizers": ["d"]}});
        assert_eq!(
            pod(live, patch).unwrap()["metadata"]["finalizers"],
            json!(["b", "c", "d", "a"])
        );
    }

    #[test]
    fn set_element_order_that_does_not_match_the_patch_is_upstreams_error() {
        let live = pod_with_containers(json!([{"name": "a"}, {"name": "b"}]));
        let patch = json!({"spec": {"$setElementOrder/containers": [{"name": "b"}],
                                    "containers": [{"name": "a"}]}});
        let err = pod(live.clone(), patch).unwrap_err();
        assert_eq!(
            err.to_string(),
            "The order in patch list:\n[map[name:a]]\n doesn't match $setElementOrder list:\n\
             [map[name:b]]\n"
        );
        let patch = json!({"spec": {"$setElementOrder/containers": [{"name": "b"}, {"name": "a"}],
                                    "containers": [{"name": "a"}, {"name": "b"}]}});
        assert!(matches!(
            pod(live.clone(), patch).unwrap_err(),
            StrategicMergeError::SetElementOrderMismatch { .. }
        ));
        let patch = json!({"spec": {"$setElementOrder/containers": "a"}});
        assert_eq!(
            pod(live.clone(), patch).unwrap_err().to_string(),
            "expected a []interface {}, but received a string"
        );
        let patch = json!({"spec": {"$setElementOrder": [{"name": "a"}]}});
        let err = pod(live, patch).unwrap_err();
        assert_eq!(
            err,
            StrategicMergeError::BadPatchFormatForSetElementOrderList
        );
        assert_eq!(err.code(), 400);
    }

    #[test]
    fn set_element_order_of_an_empty_live_list_is_upstreams_error() {
        let live = json!({"metadata": {"finalizers": []}});
        let patch = json!({"metadata": {"$setElementOrder/finalizers": []}});
        assert_eq!(
            pod(live, patch).unwrap_err(),
            StrategicMergeError::NoListElements
        );
    }

    /// The test type of upstream's `strategicpatch` tests (`mergeItem`), as a JSON Schema.
    fn merge_item_schema() -> PatchSchema {
        PatchSchema::from_json_schema(&json!({
            "type": "object",
            "properties": {
                "mergingList": {
                    "type": "array", "items": {"$ref": "#/$defs/MergeItem"},
                    "x-kubernetes-patch-strategy": "merge",
                    "x-kubernetes-patch-merge-key": "name",
                },
                "mergingIntList": {
                    "type": "array", "items": {"type": "integer"},
                    "x-kubernetes-patch-strategy": "merge",
                },
                "nonMergingList": {"type": "array", "items": {"$ref": "#/$defs/MergeItem"}},
                "retainKeysMap": {
                    "$ref": "#/$defs/RetainKeysMergeItem",
                    "x-kubernetes-patch-strategy": "retainKeys",
                },
                "simpleMap": {"type": "object", "additionalProperties": {"type": "string"}},
            },
            "$defs": {
                "MergeItem": {"type": "object", "properties": {
                    "name": {"type": "string"}, "value": {"type": "string"},
                    "other": {"type": "string"},
                    "mergingList": {
                        "type": "array", "items": {"$ref": "#/$defs/MergeItem"},
                        "x-kubernetes-patch-strategy": "merge",
                        "x-kubernetes-patch-merge-key": "name",
                    },
                }},
                "RetainKeysMergeItem": {"type": "object", "properties": {
                    "name": {"type": "string"}, "value": {"type": "string"},
                    "other": {"type": "string"},
                    "simpleMap": {"type": "object", "additionalProperties": {"type": "string"}},
                }},
            },
        }))
    }

    fn named(names: &[&str]) -> Value {
        Value::Array(names.iter().map(|n| json!({"name": n})).collect())
    }

    #[test]
    fn upstream_set_element_order_cases_give_upstreams_results() {
        // (current, patch, result) from upstream's `strategicpatch` tests: the three-way patch
        // applied to the current object.
        let cases = [
            (
                json!({"mergingList": [{"name": "1", "other": "a"}, {"name": "3"}, {"name": "4"},
                                       {"name": "2"}, {"name": "9"}]}),
                json!({"$setElementOrder/mergingList": named(&["4", "2", "3", "1"])}),
                json!({"mergingList": [{"name": "4"}, {"name": "2"}, {"name": "3"},
                                       {"name": "1", "other": "a"}, {"name": "9"}]}),
            ),
            (
                json!({"mergingList": named(&["1", "2", "9", "3", "4"])}),
                json!({"$setElementOrder/mergingList": named(&["2", "1", "4", "3"])}),
                json!({"mergingList": named(&["2", "1", "9", "4", "3"])}),
            ),
            (
                json!({"mergingList": named(&["1", "2", "7", "9", "8", "3", "4"])}),
                json!({"$setElementOrder/mergingList": named(&["2", "1", "4", "3"])}),
                json!({"mergingList": named(&["2", "1", "7", "9", "8", "4", "3"])}),
            ),
            (
                json!({"mergingIntList": [1, 2]}),
                json!({"$setElementOrder/mergingIntList": [3, 1, 2], "mergingIntList": [3]}),
                json!({"mergingIntList": [3, 1, 2]}),
            ),
            (
                json!({"mergingIntList": [1, 2]}),
                json!({"$setElementOrder/mergingIntList": [1, 4, 2, 3],
                       "mergingIntList": [4, 3]}),
                json!({"mergingIntList": [1, 4, 2, 3]}),
            ),
            (
                json!({"mergingIntList": [1, 2, 3]}),
                json!({"$setElementOrder/mergingIntList": [2, 1],
                       "$deleteFromPrimitiveList/mergingIntList": [3]}),
                json!({"mergingIntList": [2, 1]}),
            ),
            (
                json!({"mergingIntList": [1, 2, 3]}),
                json!({"$setElementOrder/mergingIntList": [4, 2, 1], "mergingIntList": [4],
                       "$deleteFromPrimitiveList/mergingIntList": [3]}),
                json!({"mergingIntList": [4, 2, 1]}),
            ),
            (
                json!({"mergingIntList": [1, 3, 4, 2, 9]}),
                json!({"$setElementOrder/mergingIntList": [4, 2, 3, 1]}),
                json!({"mergingIntList": [4, 2, 3, 1, 9]}),
            ),
            (
                json!({"mergingIntList": [1, 2, 9, 3, 4]}),
                json!({"$setElementOrder/mergingIntList": [2, 1, 4, 3]}),
                json!({"mergingIntList": [2, 1, 9, 4, 3]}),
            ),
            (
                json!({"mergingIntList": [1, 2, 7, 9, 8, 3, 4]}),
                json!({"$setElementOrder/mergingIntList": [2, 1, 4, 3]}),
                json!({"mergingIntList": [2, 1, 7, 9, 8, 4, 3]}),
            ),
            (
                json!({"mergingList": [{"name": "1"}, {"name": "2", "value": "dup1"},
                                       {"name": "3"}, {"name": "2", "value": "dup2"},
                                       {"name": "4"}]}),
                json!({"$setElementOrder/mergingList": named(&["2", "1", "4", "3", "2"])}),
                json!({"mergingList": [{"name": "2", "value": "dup1"},
                                       {"name": "2", "value": "dup2"},
                                       {"name": "1"}, {"name": "4"}, {"name": "3"}]}),
            ),
            (
                json!({"mergingIntList": [1, 2, 3, 2, 4]}),
                json!({"$setElementOrder/mergingIntList": [2, 1, 4, 3, 2]}),
                json!({"mergingIntList": [2, 2, 1, 4, 3]}),
            ),
            (
                json!({"mergingList": [{"name": "1", "other": "a"}, {"name": "3"}]}),
                json!({"$setElementOrder/mergingList": named(&["1", "2"]),
                       "mergingList": named(&["2"])}),
                json!({"mergingList": [{"name": "1", "other": "a"}, {"name": "2"},
                                       {"name": "3"}]}),
            ),
            (
                json!({"mergingList": named(&["3"])}),
                json!({"$setElementOrder/mergingList": named(&["1", "2"]),
                       "mergingList": named(&["1", "2"])}),
                json!({"mergingList": named(&["1", "2", "3"])}),
            ),
            (
                json!({"mergingIntList": [1, 2, 4]}),
                json!({"$setElementOrder/mergingIntList": [1, 2, 3], "mergingIntList": [3]}),
                json!({"mergingIntList": [1, 2, 3, 4]}),
            ),
            (
                json!({"mergingIntList": [1, 4, 2]}),
                json!({"$setElementOrder/mergingIntList": [3, 1, 2], "mergingIntList": [3]}),
                json!({"mergingIntList": [3, 1, 4, 2]}),
            ),
            (
                json!({"mergingList": [{"name": "1", "other": "a"},
                                       {"name": "2", "other": "b"}]}),
                json!({"$setElementOrder/mergingList": named(&["1", "2"]),
                       "mergingList": [{"name": "1", "value": null},
                                       {"name": "2", "value": "2"}]}),
                json!({"mergingList": [{"name": "1", "other": "a"},
                                       {"name": "2", "value": "2", "other": "b"}]}),
            ),
            (
                json!({"mergingList": [
                    {"name": "1", "other": "a",
                     "mergingList": [{"name": "2", "value": "2", "other": "d"}]},
                    {"name": "2", "other": "b"}]}),
                json!({"$setElementOrder/mergingList": named(&["1", "2"]),
                       "mergingList": [{"$setElementOrder/mergingList": named(&["2", "1"]),
                                        "name": "1",
                                        "mergingList": [{"name": "1", "value": "1"}]}]}),
                json!({"mergingList": [
                    {"name": "1", "other": "a", "mergingList": [
                        {"name": "2", "value": "2", "other": "d"},
                        {"name": "1", "value": "1"}]},
                    {"name": "2", "other": "b"}]}),
            ),
        ];
        let schema = merge_item_schema();
        for (current, patch, result) in cases {
            assert_eq!(apply(&current, &patch, &schema).unwrap(), result, "{patch}");
        }
    }

    #[test]
    fn upstream_retain_keys_cases_give_upstreams_results() {
        let cases = [
            (
                json!({"retainKeysMap": {"value": "foo"}}),
                json!({"retainKeysMap": {"$retainKeys": ["other"], "other": "bar"}}),
                json!({"retainKeysMap": {"other": "bar"}}),
            ),
            (
                json!({"retainKeysMap": {"name": "type1", "value": "foo"}}),
                json!({"retainKeysMap": {"$retainKeys": ["name", "other"], "name": "type2",
                                         "other": "bar"}}),
                json!({"retainKeysMap": {"name": "type2", "other": "bar"}}),
            ),
            (
                json!({"retainKeysMap": {"name": "foo", "value": "bar", "other": "a"}}),
                json!({"retainKeysMap": {"$retainKeys": ["name"], "value": null}}),
                json!({"retainKeysMap": {"name": "foo"}}),
            ),
            (
                json!({"retainKeysMap": {"name": "foo", "value": "bar",
                                         "simpleMap": {"key1": "a", "key2": "b", "key3": "c"}}}),
                json!({"retainKeysMap": {"$retainKeys": ["name", "simpleMap", "value"],
                                         "simpleMap": {"key2": null}}}),
                json!({"retainKeysMap": {"name": "foo", "value": "bar",
                                         "simpleMap": {"key1": "a", "key3": "c"}}}),
            ),
        ];
        let schema = merge_item_schema();
        for (current, patch, result) in cases {
            assert_eq!(apply(&current, &patch, &schema).unwrap(), result, "{patch}");
        }
    }

    // --- documents and errors ------------------------------------------------------------------

    #[test]
    fn empty_and_null_patches_change_nothing() {
        let live = pod_with_containers(json!([{"name": "a"}]));
        assert_eq!(pod(live.clone(), json!({})).unwrap(), live);
        assert_eq!(pod(live.clone(), Value::Null).unwrap(), live);
    }

    #[test]
    fn patch_that_is_not_an_object_is_a_bad_request() {
        let live = json!({});
        let err = pod(live.clone(), json!([{"op": "add"}])).unwrap_err();
        assert_eq!(
            err.to_string(),
            "json: cannot unmarshal array into Go value of type map[string]interface {}"
        );
        let api = ApiError::from(err);
        assert_eq!((api.code(), api.reason()), (400, "BadRequest"));
        assert_eq!(
            pod(json!(1), json!({})).unwrap_err(),
            StrategicMergeError::InvalidDocument
        );
    }

    #[test]
    fn errors_map_to_upstreams_answers() {
        let api = ApiError::from(StrategicMergeError::BadPatchFormatForRetainKeys);
        assert_eq!((api.code(), api.reason()), (400, "BadRequest"));
        assert_eq!(api.message(), "invalid patch format of retainKeys");
        let api = ApiError::from(StrategicMergeError::ListOfLists);
        assert_eq!((api.code(), api.reason()), (422, "Invalid"));
        let api = ApiError::from(StrategicMergeError::MergeDirectiveInList);
        assert_eq!((api.code(), api.reason()), (500, ""));
        assert_eq!(
            api.message(),
            "merging lists cannot yet be specified in the patch"
        );
        let api = ApiError::from(StrategicMergeError::NullListItem);
        assert_eq!((api.code(), api.reason()), (500, "InternalError"));
    }

    #[test]
    fn uncomparable_merge_key_values_fail_like_upstreams_panic() {
        let live = pod_with_containers(json!([{"name": "a"}]));
        let patch = json!({"spec": {"containers": [{"name": {"x": 1}}, {"name": {"x": 1}}]}});
        assert_eq!(
            pod(live, patch).unwrap_err(),
            StrategicMergeError::Uncomparable { type_name: GO_MAP }
        );
    }

    #[test]
    fn unknown_fields_merge_maps_and_replace_lists() {
        let live = json!({"spec": {"extra": {"a": 1, "list": [{"name": "x", "v": 1}]}}});
        let patch = json!({"spec": {"extra": {"b": 2, "list": [{"name": "x", "v": 2}]}}});
        assert_eq!(
            pod(live, patch).unwrap(),
            json!({"spec": {"extra": {"a": 1, "b": 2, "list": [{"name": "x", "v": 2}]}}})
        );
    }

    #[test]
    fn go_formatting_matches_fmt() {
        assert_eq!(go_float(1.5), "1.5");
        assert_eq!(go_float(123456.0), "123456");
        assert_eq!(go_float(1e6), "1e+06");
        assert_eq!(go_float(1.25e21), "1.25e+21");
        assert_eq!(go_float(0.0001), "0.0001");
        assert_eq!(go_float(0.00001), "1e-05");
        assert_eq!(go_float(-2.5e-7), "-2.5e-07");
        let v = json!({"b": [1, "x", null, true], "a": {"c": 2.5}});
        assert_eq!(go_v(&v), "map[a:map[c:2.5] b:[1 x <nil> true]]");
        assert_eq!(
            go_s(&v),
            "map[a:map[c:%!s(float64=2.5)] b:[%!s(int64=1) x %!s(<nil>) %!s(bool=true)]]"
        );
    }

    // --- Go's stable sort ----------------------------------------------------------------------

    struct Keys(Vec<(u8, usize)>);

    impl SortData for Keys {
        fn len(&self) -> usize {
            self.0.len()
        }
        fn less(&mut self, i: usize, j: usize) -> Result<bool> {
            Ok(self.0[i].0 < self.0[j].0)
        }
        fn swap(&mut self, i: usize, j: usize) {
            self.0.swap(i, j);
        }
    }

    // --- properties -----------------------------------------------------------------------------

    fn key() -> BoxedStrategy<String> {
        prop_oneof![
            3 => prop::sample::select(vec![
                "$patch", "$retainKeys", "$setElementOrder/containers",
                "$setElementOrder/finalizers", "$deleteFromPrimitiveList/finalizers",
                "$deleteFromPrimitiveList/containers", "$setElementOrder", "metadata", "spec",
                "template", "containers", "name", "image", "finalizers", "labels", "strategy",
                "ports", "containerPort", "env", "value", "type", "rollingUpdate", "volumes",
            ]).prop_map(str::to_owned),
            1 => "[a-z]{1,3}",
        ]
        .boxed()
    }

    fn plain_key() -> BoxedStrategy<String> {
        prop_oneof![
            prop::sample::select(vec![
                "metadata",
                "spec",
                "template",
                "containers",
                "labels",
                "strategy",
                "name",
            ])
            .prop_map(str::to_owned),
            "[a-z]{1,3}",
        ]
        .boxed()
    }

    fn scalar() -> impl Strategy<Value = Value> {
        prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            (-3i64..300).prop_map(Value::from),
            (-1e3f64..1e3).prop_map(Value::from),
            prop::sample::select(vec!["delete", "replace", "merge", "a", "b", "name", "type"])
                .prop_map(Value::from),
        ]
    }

    fn value(keys: BoxedStrategy<String>) -> impl Strategy<Value = Value> {
        scalar().prop_recursive(5, 64, 6, move |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
                prop::collection::btree_map(keys.clone(), inner, 0..6)
                    .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    fn object(v: impl Strategy<Value = Value>) -> impl Strategy<Value = Value> {
        v.prop_map(|v| match v {
            Value::Object(_) => v,
            other => json!({"spec": other}),
        })
    }

    /// A plain map patch: objects and scalars, no lists, no directives.
    fn map_patch() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            (-3i64..300).prop_map(Value::from),
            "[a-z]{0,3}".prop_map(Value::from),
        ];
        leaf.prop_recursive(4, 32, 5, |inner| {
            prop::collection::btree_map(plain_key(), inner, 0..5)
                .prop_map(|m| Value::Object(m.into_iter().collect()))
        })
    }

    /// RFC 7386 JSON merge patch.
    fn merge_patch(target: &Value, patch: &Value) -> Value {
        let Value::Object(patch) = patch else {
            return patch.clone();
        };
        let mut target = match target {
            Value::Object(map) => map.clone(),
            _ => Map::new(),
        };
        for (key, value) in patch {
            if value.is_null() {
                target.remove(key);
            } else {
                let merged = merge_patch(target.get(key).unwrap_or(&Value::Null), value);
                target.insert(key.clone(), merged);
            }
        }
        Value::Object(target)
    }

    fn has_directive_key(v: &Value) -> bool {
        match v {
            Value::Object(map) => map
                .iter()
                .any(|(k, v)| is_directive_key(k) || has_directive_key(v)),
            Value::Array(items) => items.iter().any(has_directive_key),
            _ => false,
        }
    }

    /// Container lists with a few names, directive items and order lists.
    fn containers_patch() -> impl Strategy<Value = (Value, Value)> {
        let name = prop::sample::select(vec!["a", "b", "c", "d"]);
        let live_item = (name.clone(), prop::option::of("[a-z]{1,2}"))
            .prop_map(|(n, image)| json!({"name": n, "image": image}));
        let patch_item = prop_oneof![
            (name.clone(), prop::option::of("[a-z]{1,2}"))
                .prop_map(|(n, image)| json!({"name": n, "image": image})),
            name.clone()
                .prop_map(|n| json!({"$patch": "delete", "name": n})),
            Just(json!({"$patch": "replace"})),
        ];
        (
            prop::collection::vec(live_item, 0..6),
            prop::option::of(prop::collection::vec(patch_item, 0..6)),
            prop::option::of(prop::collection::vec(
                name.prop_map(|n| json!({"name": n})),
                0..5,
            )),
        )
            .prop_map(|(live, patch, order)| {
                let mut spec = Map::new();
                if let Some(patch) = patch {
                    spec.insert("containers".into(), Value::Array(patch));
                }
                if let Some(order) = order {
                    spec.insert("$setElementOrder/containers".into(), Value::Array(order));
                }
                (
                    json!({"spec": {"containers": live}}),
                    json!({"spec": Value::Object(spec)}),
                )
            })
    }

    proptest! {
        #[test]
        fn go_stable_sort_is_a_stable_sort(keys in prop::collection::vec(0u8..8, 0..90)) {
            let mut data = Keys(keys.iter().copied().zip(0..).collect());
            go_stable_sort(&mut data).unwrap();
            let mut expected = data.0.clone();
            expected.sort_by_key(|(k, i)| (*k, *i));
            prop_assert_eq!(data.0, expected);
        }

        #[test]
        fn arbitrary_patches_never_panic(
            original in object(value(key())),
            patch in value(key()),
        ) {
            let _ = apply(&original, &patch, &schema("apps/v1", "Deployment"));
            let _ = apply(&original, &patch, &schema("v1", "Pod"));
            let _ = apply(&original, &patch, &PatchSchema::default());
        }

        #[test]
        fn results_never_carry_directives(
            original in object(value(plain_key())),
            patch in object(value(key())),
        ) {
            if let Ok(patched) = apply(&original, &patch, &schema("v1", "Pod")) {
                prop_assert!(!has_directive_key(&patched), "{}", patched);
            }
        }

        #[test]
        fn container_list_patches_never_panic_nor_leak_directives(
            (original, patch) in containers_patch(),
        ) {
            if let Ok(patched) = apply(&original, &patch, &schema("v1", "Pod")) {
                prop_assert!(!has_directive_key(&patched), "{}", patched);
                let containers = patched["spec"]["containers"].as_array().cloned().unwrap_or_default();
                for container in &containers {
                    prop_assert!(container.get("name").is_some());
                }
            }
        }

        #[test]
        fn empty_patch_is_the_identity(original in object(value(key()))) {
            let patched = apply(&original, &json!({}), &schema("apps/v1", "Deployment")).unwrap();
            prop_assert_eq!(patched, original);
        }

        #[test]
        fn plain_map_patch_is_a_json_merge_patch(
            original in object(value(plain_key())),
            patch in object(map_patch()),
        ) {
            let expected = merge_patch(&original, &patch);
            prop_assert_eq!(
                &apply(&original, &patch, &schema("apps/v1", "Deployment")).unwrap(),
                &expected
            );
            prop_assert_eq!(&apply(&original, &patch, &PatchSchema::default()).unwrap(), &expected);
        }
    }
}
