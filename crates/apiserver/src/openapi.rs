//! OpenAPI v3 documents as kube-apiserver publishes them: the index at `GET /openapi/v3`, and one
//! OpenAPI 3.0 document per group-version at `GET /openapi/v3/api/v1?hash=...` and
//! `GET /openapi/v3/apis/<group>/<version>?hash=...`.
//!
//! kubectl reads them for two things. With its default `--validate=strict`, `create`, `apply`,
//! `replace` and `edit` look for a PATCH operation carrying the kind's
//! `x-kubernetes-group-version-kind` and a `fieldValidation` query parameter; when they find it
//! they send `fieldValidation=Strict` and leave validation to the server (cli-runtime
//! `query_param_verifier_v3.go`). `kubectl explain` finds the kind through the
//! `x-kubernetes-group-version-kind` of an operation on the resource's path and renders the
//! matching `components.schemas` entry, following `$ref` and `allOf`. Client-side `apply` also
//! builds its strategic merge patch from these schemas when the PATCH operation accepts
//! `application/strategic-merge-patch+json`.
//!
//! The schemas come from [`Scheme::schema`] (JSON Schema draft 2020-12 from `schemars`) and
//! are rewritten into the OpenAPI 3.0 dialect upstream uses: definitions under
//! `#/components/schemas/` named as upstream names them (`io.k8s.api.core.v1.Pod`), `Option`'s
//! `anyOf [X, null]` collapsed to `X`, a `$ref` with sibling keywords wrapped in `allOf`,
//! `IntOrString` and `Quantity` in upstream's shape, the Kubernetes extensions kept.
//!
//! Every document is serialized once, at [`OpenApi::build`], and served as bytes. Its hash (the
//! `hash` query parameter of the index URLs, a cache key for clients) is a 128-bit FNV-1a of
//! those bytes, in upper-case hex; upstream uses SHA-512 for the same purpose.
//!
//! ```
//! use kubernaut_api_types::{core::v1::Pod, Resource, scheme::Scheme};
//! use kubernaut_apiserver::openapi::{OpenApi, OpenApiResource};
//!
//! let pods = OpenApiResource {
//!     resource: Pod::api_resource(),
//!     verbs: ["create", "delete", "get", "list", "patch", "update", "watch"]
//!         .map(String::from)
//!         .to_vec(),
//!     subresources: vec!["status".to_owned()],
//! };
//! let openapi = OpenApi::build(&Scheme::builtin(), &[pods]);
//! let url = openapi.index()["paths"]["api/v1"]["serverRelativeURL"].as_str().unwrap();
//! let (bytes, hash) = openapi.document("api/v1").unwrap();
//! assert_eq!(url, format!("/openapi/v3/api/v1?hash={hash}"));
//! let document: serde_json::Value = serde_json::from_slice(bytes).unwrap();
//! let patch = &document["paths"]["/api/v1/namespaces/{namespace}/pods/{name}"]["patch"];
//! assert_eq!(patch["x-kubernetes-group-version-kind"]["kind"], "Pod");
//! ```

use std::collections::{BTreeMap, HashMap};
use std::fmt;

use kubernaut_api_types::meta::{DeleteOptions, ListMeta, ObjectMeta, RawExtension, Status};
use kubernaut_api_types::scheme::Scheme;
use kubernaut_api_types::{ApiResource, Scope, schema};
use serde_json::{Map, Value, json};

/// A resource the server serves, as the OpenAPI documents describe it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OpenApiResource {
    /// The kind, its group-version, plural and scope.
    pub resource: ApiResource,
    /// The verbs served on it, as discovery names them: `get`, `list`, `watch`, `create`,
    /// `update`, `patch`, `delete`, `deletecollection`. Other verbs are ignored.
    pub verbs: Vec<String>,
    /// Its subresources: `status`, `scale`, `binding`, `log`, `exec`, `attach`, `portforward`,
    /// `eviction`. Other names are ignored; `scale`, `binding` and `eviction` are left out when
    /// the scheme lacks their kind (`autoscaling/v1` Scale, `v1` Binding, `policy/v1`
    /// Eviction).
    pub subresources: Vec<String>,
}

/// The OpenAPI v3 index and documents of a server, built once at start-up.
pub struct OpenApi {
    index: Value,
    documents: BTreeMap<String, Document>,
}

struct Document {
    bytes: Vec<u8>,
    hash: String,
}

impl fmt::Debug for OpenApi {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut map = f.debug_map();
        for (path, doc) in &self.documents {
            map.entry(
                path,
                &format_args!("{} bytes, hash {}", doc.bytes.len(), doc.hash),
            );
        }
        map.finish()
    }
}

impl OpenApi {
    /// Builds the index and one document per group-version of `resources`, taking each kind's
    /// schema from `scheme`. A kind the scheme does not know (a custom resource) gets an open
    /// schema (`x-kubernetes-preserve-unknown-fields`) named as upstream names custom
    /// resources (`com.example.v1.Widget`), and its PATCH operations do not offer strategic
    /// merge patches, as upstream's do not for custom resources.
    pub fn build(scheme: &Scheme, resources: &[OpenApiResource]) -> Self {
        let mut by_group_version: BTreeMap<String, Vec<&OpenApiResource>> = BTreeMap::new();
        for r in resources {
            by_group_version
                .entry(group_version_path(&r.resource.group, &r.resource.version))
                .or_default()
                .push(r);
        }
        let mut documents = BTreeMap::new();
        let mut paths = Map::new();
        for (path, mut members) in by_group_version {
            members.sort_by(|a, b| a.resource.plural.cmp(&b.resource.plural));
            let value = build_document(scheme, &members);
            // A `Value` with string keys always serializes.
            let bytes = serde_json::to_vec(&value).unwrap_or_default();
            let hash = fnv1a_128_hex(&bytes);
            paths.insert(
                path.clone(),
                json!({"serverRelativeURL": format!("/openapi/v3/{path}?hash={hash}")}),
            );
            documents.insert(path, Document { bytes, hash });
        }
        OpenApi {
            index: json!({ "paths": paths }),
            documents,
        }
    }

    /// The index served at `GET /openapi/v3`:
    /// `{"paths": {"api/v1": {"serverRelativeURL": "/openapi/v3/api/v1?hash=..."}, ...}}`.
    pub fn index(&self) -> &Value {
        &self.index
    }

    /// The serialized document of a group-version and its hash. `path` is the index key
    /// (`api/v1`, `apis/apps/v1`); a leading `/` is ignored.
    pub fn document(&self, path: &str) -> Option<(&[u8], &str)> {
        let path = path.strip_prefix('/').unwrap_or(path);
        self.documents
            .get(path)
            .map(|d| (d.bytes.as_slice(), d.hash.as_str()))
    }
}

/// The index key of a group-version: `api/v1` for the core group, `apis/<group>/<version>`.
fn group_version_path(group: &str, version: &str) -> String {
    if group.is_empty() {
        format!("api/{version}")
    } else {
        format!("apis/{group}/{version}")
    }
}

/// 128-bit FNV-1a of `bytes`, as 32 upper-case hex digits.
fn fnv1a_128_hex(bytes: &[u8]) -> String {
    const OFFSET_BASIS: u128 = 0x6c62_272e_07bb_0142_62b8_2175_6295_c58d;
    const PRIME: u128 = 0x0000_0000_0100_0000_0000_0000_0000_013b;
    let hash = bytes.iter().fold(OFFSET_BASIS, |h, b| {
        (h ^ u128::from(*b)).wrapping_mul(PRIME)
    });
    format!("{hash:032X}")
}

// ---------------------------------------------------------------------------------------------
// Schemas
// ---------------------------------------------------------------------------------------------

const SCHEMA_PREFIX: &str = "#/components/schemas/";
const OBJECT_META: &str = "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta";
const LIST_META: &str = "io.k8s.apimachinery.pkg.apis.meta.v1.ListMeta";
const STATUS: &str = "io.k8s.apimachinery.pkg.apis.meta.v1.Status";
const DELETE_OPTIONS: &str = "io.k8s.apimachinery.pkg.apis.meta.v1.DeleteOptions";
const WATCH_EVENT: &str = "io.k8s.apimachinery.pkg.apis.meta.v1.WatchEvent";
const PATCH: &str = "io.k8s.apimachinery.pkg.apis.meta.v1.Patch";
const RAW_EXTENSION: &str = "io.k8s.apimachinery.pkg.runtime.RawExtension";

/// The keywords of an OpenAPI 3.0 Schema Object kept as they are (beside `x-` extensions and
/// the keywords rewritten by [`Converter::convert`]).
const PLAIN_KEYWORDS: &[&str] = &[
    "multipleOf",
    "maximum",
    "minimum",
    "maxLength",
    "minLength",
    "pattern",
    "maxItems",
    "minItems",
    "uniqueItems",
    "maxProperties",
    "minProperties",
    "required",
    "enum",
    "format",
    "default",
    "readOnly",
    "writeOnly",
    "example",
    "deprecated",
    "externalDocs",
];

fn schema_ref(name: &str) -> Value {
    json!({ "$ref": format!("{SCHEMA_PREFIX}{name}") })
}

/// Upstream's name of a definition, from the `Upstream definition: ...` line of its
/// documentation.
fn documented_upstream_name(schema: &Value) -> Option<String> {
    let description = schema.get("description")?.as_str()?;
    let rest = description.split("Upstream definition: `").nth(1)?;
    let name = rest.split('`').next()?;
    (!name.is_empty()).then(|| name.to_owned())
}

/// The value types with hand-written schemas (no documentation line): their upstream names and
/// descriptions, and for the two unions upstream's shape in place of schemars'.
fn well_known(def_name: &str) -> Option<(&'static str, Value)> {
    Some(match def_name {
        "Time" => (
            "io.k8s.apimachinery.pkg.apis.meta.v1.Time",
            json!({"type": "string", "format": "date-time",
                "description": "A timestamp in RFC 3339 form with second precision \
                    (`2024-05-01T12:00:00Z`)."}),
        ),
        "MicroTime" => (
            "io.k8s.apimachinery.pkg.apis.meta.v1.MicroTime",
            json!({"type": "string", "format": "date-time",
                "description": "A timestamp in RFC 3339 form with microsecond precision \
                    (`2024-05-01T12:00:00.000000Z`)."}),
        ),
        "FieldsV1" => (
            "io.k8s.apimachinery.pkg.apis.meta.v1.FieldsV1",
            json!({"type": "object",
                "description": "The set of fields a manager owns, as a trie of `f:<name>`, \
                    `k:<keys>`, `v:<value>` and `i:<index>` entries."}),
        ),
        "RawExtension" => (
            RAW_EXTENSION,
            json!({"type": "object", "x-kubernetes-preserve-unknown-fields": true,
                "description": "An embedded object of any kind, kept as JSON."}),
        ),
        "Quantity" => (
            "io.k8s.apimachinery.pkg.api.resource.Quantity",
            json!({"oneOf": [{"type": "string"}, {"type": "number"}],
                "description": "A fixed-point number with an optional suffix: a binary SI \
                    suffix (`Ki`, `Mi`, `Gi`, `Ti`, `Pi`, `Ei`), a decimal SI suffix (`m`, \
                    `k`, `M`, `G`, `T`, `P`, `E`) or a decimal exponent (`1e3`). Examples: \
                    `100m`, `1.5`, `128Mi`."}),
        ),
        "IntOrString" => (
            "io.k8s.apimachinery.pkg.util.intstr.IntOrString",
            json!({"oneOf": [{"type": "integer"}, {"type": "string"}],
                "format": "int-or-string", "x-kubernetes-int-or-string": true,
                "description": "An integer or a string: a port number or name, a count or \
                    a percentage (`25%`)."}),
        ),
        _ => return None,
    })
}

/// Removes the `Upstream definition` paragraph (the definition's name is its component key)
/// and turns rustdoc links into their text: ``[`Container`]`` becomes `` `Container` ``.
fn clean_description(text: &str) -> String {
    let kept: Vec<&str> = text
        .split("\n\n")
        .filter(|p| !p.trim_start().starts_with("Upstream definition:"))
        .collect();
    strip_doc_links(kept.join("\n\n").trim())
}

fn strip_doc_links(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(open) = rest.find('[') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        let Some(close) = after.find(']') else {
            out.push_str(&rest[open..]);
            return out;
        };
        let label = &after[..close];
        let tail = &after[close + 1..];
        let is_code = label.len() >= 2 && label.starts_with('`') && label.ends_with('`');
        let link_target = tail.strip_prefix('(').and_then(|t| {
            let end = t.find(')')?;
            let target = &t[..end];
            (!target.is_empty() && !target.contains(char::is_whitespace))
                .then_some((target, &t[end + 1..]))
        });
        match link_target {
            Some((target, after_link)) => {
                out.push_str(label);
                if target.starts_with("http://") || target.starts_with("https://") {
                    out.push_str(" (");
                    out.push_str(target);
                    out.push(')');
                }
                rest = after_link;
            }
            None if is_code => {
                out.push_str(label);
                rest = tail;
            }
            None => {
                out.push('[');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// Where a `$defs` entry of one root schema goes in the document.
#[derive(Clone, Debug)]
enum DefTarget {
    /// Under `components.schemas` with this name.
    Named(String),
    /// Written out at every use (a scalar without an upstream definition, like `ByteString`).
    Inline,
}

/// Rewrites one schemars root schema (and its `$defs`) into OpenAPI 3.0 component schemas.
struct Converter<'a> {
    defs: &'a Map<String, Value>,
    targets: HashMap<String, DefTarget>,
    /// The component name of the root schema, for a recursive `"$ref": "#"`.
    root_name: String,
}

impl<'a> Converter<'a> {
    fn new(defs: &'a Map<String, Value>, root_name: String) -> Self {
        let targets = defs
            .iter()
            .map(|(name, def)| {
                let target = match documented_upstream_name(def) {
                    Some(upstream) => DefTarget::Named(upstream),
                    None => match well_known(name) {
                        Some((upstream, _)) => DefTarget::Named(upstream.to_owned()),
                        None if !contains_ref(def) => DefTarget::Inline,
                        // A documented type always names its upstream definition; this keeps
                        // an undocumented one that refers to others addressable all the same.
                        None => DefTarget::Named(format!("com.github.kubernaut.{name}")),
                    },
                };
                (name.clone(), target)
            })
            .collect();
        Converter {
            defs,
            targets,
            root_name,
        }
    }

    fn def_name(reference: &str) -> Option<&str> {
        reference.strip_prefix("#/$defs/")
    }

    /// Folds the wrappers schemars writes around a type into the node itself: inlined `$ref`s
    /// and `Option`'s `anyOf: [X, {"type": "null"}]`. The node's own keywords win over the
    /// folded ones (a field's description over its type's).
    fn normalize(&self, mut node: Map<String, Value>) -> Map<String, Value> {
        for _ in 0..64 {
            if let Some(Value::String(reference)) = node.get("$ref")
                && let Some(name) = Self::def_name(reference)
                && let Some(DefTarget::Inline) = self.targets.get(name)
                && let Some(Value::Object(def)) = self.defs.get(name)
            {
                node.remove("$ref");
                merge_missing(&mut node, def);
                continue;
            }
            let union_key = ["anyOf", "oneOf"].into_iter().find(
                |k| matches!(node.get(*k), Some(Value::Array(a)) if a.iter().any(is_null_schema)),
            );
            let Some(key) = union_key else {
                return node;
            };
            let Some(Value::Array(members)) = node.remove(key) else {
                return node;
            };
            let mut rest: Vec<Value> = members.into_iter().filter(|m| !is_null_schema(m)).collect();
            match rest.len() {
                0 => {}
                1 => match rest.pop() {
                    Some(Value::Object(only)) => merge_missing(&mut node, &only),
                    Some(other) => {
                        node.insert(key.to_owned(), Value::Array(vec![other]));
                    }
                    None => {}
                },
                _ => {
                    node.insert(key.to_owned(), Value::Array(rest));
                }
            }
        }
        node
    }

    fn convert(&self, node: &Value) -> Value {
        let obj = match node {
            Value::Object(obj) => obj,
            Value::Bool(true) => return json!({}),
            Value::Bool(false) => return json!({"not": {}}),
            other => return other.clone(),
        };
        let obj = self.normalize(obj.clone());
        let mut out = Map::new();
        for (key, value) in &obj {
            match key.as_str() {
                "$ref" if value == "#" => {
                    out.insert(
                        key.clone(),
                        Value::String(format!("{SCHEMA_PREFIX}{}", self.root_name)),
                    );
                }
                "$ref" => {
                    let target = value
                        .as_str()
                        .and_then(Self::def_name)
                        .and_then(|name| self.targets.get(name));
                    match target {
                        Some(DefTarget::Named(upstream)) => {
                            out.insert(
                                key.clone(),
                                Value::String(format!("{SCHEMA_PREFIX}{upstream}")),
                            );
                        }
                        // Inline targets were folded in by `normalize`; a reference to no
                        // definition at all cannot be kept in a document that must resolve.
                        Some(DefTarget::Inline) | None => {}
                    }
                }
                "type" => {
                    let types: Vec<&str> = match value {
                        Value::String(t) => vec![t.as_str()],
                        Value::Array(ts) => ts.iter().filter_map(Value::as_str).collect(),
                        _ => Vec::new(),
                    };
                    let types: Vec<&str> = types.into_iter().filter(|t| *t != "null").collect();
                    match types.as_slice() {
                        [] => {}
                        [one] => {
                            out.insert(key.clone(), Value::String((*one).to_owned()));
                        }
                        many => {
                            let alternatives =
                                many.iter().map(|t| json!({"type": t})).collect::<Vec<_>>();
                            out.insert("anyOf".to_owned(), Value::Array(alternatives));
                        }
                    }
                }
                "properties" => {
                    if let Value::Object(props) = value {
                        let converted: Map<String, Value> = props
                            .iter()
                            .map(|(k, v)| (k.clone(), self.convert(v)))
                            .collect();
                        out.insert(key.clone(), Value::Object(converted));
                    }
                }
                "items" | "not" => {
                    out.insert(key.clone(), self.convert(value));
                }
                "additionalProperties" => {
                    let converted = match value {
                        Value::Bool(b) => Value::Bool(*b),
                        other => self.convert(other),
                    };
                    out.insert(key.clone(), converted);
                }
                "allOf" | "anyOf" | "oneOf" => {
                    if let Value::Array(members) = value {
                        let converted = members.iter().map(|m| self.convert(m)).collect();
                        out.insert(key.clone(), Value::Array(converted));
                    }
                }
                "description" => {
                    if let Some(text) = value.as_str() {
                        let cleaned = clean_description(text);
                        if !cleaned.is_empty() {
                            out.insert(key.clone(), Value::String(cleaned));
                        }
                    }
                }
                "const" => {
                    out.insert("enum".to_owned(), Value::Array(vec![value.clone()]));
                }
                // Draft 2020-12 bounds are numbers; OpenAPI 3.0's are flags beside the bound.
                "exclusiveMinimum" | "exclusiveMaximum" => {
                    let bound = if key == "exclusiveMinimum" {
                        "minimum"
                    } else {
                        "maximum"
                    };
                    if value.is_number() {
                        out.insert(bound.to_owned(), value.clone());
                        out.insert(key.clone(), Value::Bool(true));
                    } else if value.is_boolean() {
                        out.insert(key.clone(), value.clone());
                    }
                }
                k if k.starts_with("x-") || PLAIN_KEYWORDS.contains(&k) => {
                    out.insert(key.clone(), value.clone());
                }
                // `$schema`, `$defs`, `$id`, `$comment`, `examples` and draft 2020-12
                // keywords OpenAPI 3.0 does not have.
                _ => {}
            }
        }
        // OpenAPI 3.0 ignores the siblings of a `$ref`; upstream wraps the reference in
        // `allOf` to keep a field's description and extensions.
        if out.len() > 1
            && let Some(reference) = out.remove("$ref")
        {
            out.insert("allOf".to_owned(), json!([{ "$ref": reference }]));
        }
        Value::Object(out)
    }
}

fn is_null_schema(v: &Value) -> bool {
    v.get("type").and_then(Value::as_str) == Some("null")
}

fn contains_ref(v: &Value) -> bool {
    match v {
        Value::Object(m) => m.contains_key("$ref") || m.values().any(contains_ref),
        Value::Array(a) => a.iter().any(contains_ref),
        _ => false,
    }
}

/// Copies the keys of `from` that `into` lacks.
fn merge_missing(into: &mut Map<String, Value>, from: &Map<String, Value>) {
    for (k, v) in from {
        if !into.contains_key(k) {
            into.insert(k.clone(), v.clone());
        }
    }
}

/// The `components.schemas` of one document.
#[derive(Default)]
struct Components {
    schemas: BTreeMap<String, Value>,
}

impl Components {
    /// Adds a schemars root schema and everything under its `$defs`; returns the component
    /// name of the root (its upstream name, else `fallback`).
    fn add_root(&mut self, root: &Value, fallback: &str) -> String {
        let empty = Map::new();
        let defs = match root.get("$defs") {
            Some(Value::Object(defs)) => defs,
            _ => &empty,
        };
        let name = documented_upstream_name(root).unwrap_or_else(|| fallback.to_owned());
        let converter = Converter::new(defs, name.clone());
        for (name, def) in defs {
            let Some(DefTarget::Named(upstream)) = converter.targets.get(name) else {
                continue;
            };
            if self.schemas.contains_key(upstream) {
                continue;
            }
            let converted = match (documented_upstream_name(def), well_known(name)) {
                (None, Some((_, replacement))) => converter.convert(&replacement),
                _ => converter.convert(def),
            };
            self.schemas.insert(upstream.clone(), converted);
        }
        if !self.schemas.contains_key(&name) {
            let mut converted = converter.convert(root);
            describe_type_meta(&mut converted);
            self.schemas.insert(name.clone(), converted);
        }
        name
    }

    fn add_typed<T: schemars_bridge::Schema>(&mut self, fallback: &str) -> String {
        self.add_root(&T::root(), fallback)
    }
}

/// Gives `apiVersion` and `kind` of a top-level schema a description when they have none.
fn describe_type_meta(schema: &mut Value) {
    let Some(Value::Object(props)) = schema.get_mut("properties") else {
        return;
    };
    let texts = [
        (
            "apiVersion",
            "The versioned schema of this representation of an object: `group/version`, or \
             `version` for the core group.",
        ),
        (
            "kind",
            "The REST kind this object represents, in CamelCase. Servers may infer it from \
             the endpoint; it cannot be updated.",
        ),
    ];
    for (field, text) in texts {
        if let Some(Value::Object(prop)) = props.get_mut(field)
            && !prop.contains_key("description")
        {
            prop.insert("description".to_owned(), Value::String(text.to_owned()));
        }
    }
}

/// Typed access to the schemas of the meta types the documents always need.
mod schemars_bridge {
    use super::*;

    pub(super) trait Schema {
        fn root() -> Value;
    }
    macro_rules! schema_of {
        ($($t:ty),*) => {$(
            impl Schema for $t {
                fn root() -> Value {
                    schema::root_schema_for::<$t>().to_value()
                }
            }
        )*};
    }
    schema_of!(ListMeta, ObjectMeta, Status, DeleteOptions, RawExtension);
}

/// The component name upstream would give a kind: the documented name for typed kinds, else
/// the custom-resource form `<reversed group>.<version>.<Kind>`.
fn custom_kind_name(resource: &ApiResource) -> String {
    let mut parts: Vec<&str> = resource
        .group
        .split('.')
        .filter(|p| !p.is_empty())
        .collect();
    parts.reverse();
    parts.push(&resource.version);
    parts.push(&resource.kind);
    parts.join(".")
}

/// A kind's schema in the document: `(component name, typed)`. `typed` is false for kinds the
/// scheme does not know, which get an open object schema.
fn add_kind(
    components: &mut Components,
    scheme: &Scheme,
    resource: &ApiResource,
) -> (String, bool) {
    let fallback = custom_kind_name(resource);
    match scheme.schema(&resource.api_version, &resource.kind) {
        Some(root) => (components.add_root(&root.to_value(), &fallback), true),
        None => {
            if !components.schemas.contains_key(&fallback) {
                components.add_typed::<ObjectMeta>(OBJECT_META);
                let mut open = json!({
                    "description": format!(
                        "A {} of {}, served without a typed schema: every field is kept.",
                        resource.kind, resource.api_version
                    ),
                    "type": "object",
                    "properties": {
                        "apiVersion": {"type": "string"},
                        "kind": {"type": "string"},
                        "metadata": schema_ref(OBJECT_META),
                    },
                    "x-kubernetes-preserve-unknown-fields": true,
                    "x-kubernetes-group-version-kind": [gvk(resource)],
                });
                describe_type_meta(&mut open);
                components.schemas.insert(fallback.clone(), open);
            }
            (fallback, false)
        }
    }
}

/// The `<Kind>List` schema beside a kind's, named as upstream names it.
fn add_list_kind(components: &mut Components, kind_name: &str, resource: &ApiResource) -> String {
    components.add_typed::<ListMeta>(LIST_META);
    let list_kind = format!("{}List", resource.kind);
    let name = match kind_name.rsplit_once('.') {
        Some((package, _)) => format!("{package}.{list_kind}"),
        None => list_kind.clone(),
    };
    if !components.schemas.contains_key(&name) {
        let mut list = json!({
            "description": format!("A list of {} objects.", resource.kind),
            "type": "object",
            "required": ["items"],
            "properties": {
                "apiVersion": {"type": "string"},
                "kind": {"type": "string"},
                "metadata": {
                    "allOf": [schema_ref(LIST_META)],
                    "description": "The list's resource version and continue token.",
                },
                "items": {
                    "description": format!("The {} objects.", resource.kind),
                    "type": "array",
                    "items": schema_ref(kind_name),
                },
            },
            "x-kubernetes-group-version-kind": [{
                "group": resource.group, "kind": list_kind, "version": resource.version,
            }],
        });
        describe_type_meta(&mut list);
        components.schemas.insert(name.clone(), list);
    }
    name
}

/// `WatchEvent`, registered (like `DeleteOptions`) in every group-version.
fn add_watch_event(components: &mut Components) {
    let delete_options = components.add_typed::<DeleteOptions>(DELETE_OPTIONS);
    components.add_typed::<RawExtension>(RAW_EXTENSION);
    if components.schemas.contains_key(WATCH_EVENT) {
        return;
    }
    let group_versions: Vec<Value> = components
        .schemas
        .get(&delete_options)
        .and_then(|s| s.get("x-kubernetes-group-version-kind"))
        .and_then(Value::as_array)
        .map(|gvks| {
            gvks.iter()
                .map(
                    |g| json!({"group": g["group"], "kind": "WatchEvent", "version": g["version"]}),
                )
                .collect()
        })
        .unwrap_or_else(|| vec![json!({"group": "", "kind": "WatchEvent", "version": "v1"})]);
    components.schemas.insert(
        WATCH_EVENT.to_owned(),
        json!({
            "description": "One event of a watch stream.",
            "type": "object",
            "required": ["type", "object"],
            "properties": {
                "type": {
                    "type": "string",
                    "description": "ADDED, MODIFIED, DELETED, BOOKMARK or ERROR.",
                },
                "object": {
                    "allOf": [schema_ref(RAW_EXTENSION)],
                    "description": "The object as it is after the event; for DELETED, its \
                        last state; for BOOKMARK, only its resource version; for ERROR, a \
                        Status.",
                },
            },
            "x-kubernetes-group-version-kind": group_versions,
        }),
    );
}

fn add_patch(components: &mut Components) {
    components
        .schemas
        .entry(PATCH.to_owned())
        .or_insert_with(|| {
            json!({
                "description": "The body of a PATCH request: a JSON patch, a JSON merge patch, a \
                    strategic merge patch or an apply configuration, as its Content-Type says.",
                "type": "object",
            })
        });
}

fn gvk(resource: &ApiResource) -> Value {
    json!({"group": resource.group, "kind": resource.kind, "version": resource.version})
}

// ---------------------------------------------------------------------------------------------
// Paths
// ---------------------------------------------------------------------------------------------

/// The query and path parameters of the Kubernetes REST API.
mod params {
    use serde_json::{Value, json};

    fn query(name: &str, ty: &str, description: &str) -> Value {
        json!({"name": name, "in": "query", "description": description, "schema": {"type": ty}})
    }

    pub(super) fn path(name: &str, description: &str) -> Value {
        json!({"name": name, "in": "path", "required": true, "description": description,
            "schema": {"type": "string"}})
    }

    pub(super) fn namespace() -> Value {
        path("namespace", "The namespace the object lives in.")
    }

    pub(super) fn pretty() -> Value {
        query("pretty", "string", "If 'true', the output is indented.")
    }

    pub(super) fn dry_run() -> Value {
        query(
            "dryRun",
            "string",
            "When present, the request is processed (admission, validation, defaulting) but \
             nothing is persisted. Valid value: All.",
        )
    }

    pub(super) fn field_manager() -> Value {
        query(
            "fieldManager",
            "string",
            "The name of the actor making the change, recorded in managedFields. Required for \
             apply patches; at most 128 printable characters.",
        )
    }

    pub(super) fn field_validation() -> Value {
        query(
            "fieldValidation",
            "string",
            "What to do with unknown or duplicate fields in the request body: Ignore drops \
             them, Warn drops them and answers with a Warning header for each, Strict fails \
             the request with 400 BadRequest.",
        )
    }

    pub(super) fn force() -> Value {
        query(
            "force",
            "boolean",
            "Apply patches only: take over the fields other managers own instead of failing \
             with a conflict.",
        )
    }

    pub(super) fn delete_options() -> Vec<Value> {
        vec![
            dry_run(),
            query(
                "gracePeriodSeconds",
                "integer",
                "Seconds before the object is deleted; 0 deletes at once. Defaults to the \
                 kind's grace period.",
            ),
            query(
                "orphanDependents",
                "boolean",
                "Deprecated, use propagationPolicy: whether dependents are orphaned.",
            ),
            query(
                "propagationPolicy",
                "string",
                "How the garbage collector treats dependents: Orphan, Background or \
                 Foreground.",
            ),
        ]
    }

    pub(super) fn list_options(watch: bool) -> Vec<Value> {
        let mut out = vec![
            query(
                "allowWatchBookmarks",
                "boolean",
                "Watch only: the server may send BOOKMARK events carrying a resource version.",
            ),
            query(
                "continue",
                "string",
                "The continue token of a previous page of this list.",
            ),
            query(
                "fieldSelector",
                "string",
                "Only objects whose fields match, e.g. metadata.name=web.",
            ),
            query(
                "labelSelector",
                "string",
                "Only objects whose labels match, e.g. app=web,tier!=cache.",
            ),
            query(
                "limit",
                "integer",
                "At most this many items; the list's continue token fetches the rest.",
            ),
            query(
                "resourceVersion",
                "string",
                "The resource version the list is read at, or a watch starts after. Unset \
                 reads the latest state.",
            ),
            query(
                "resourceVersionMatch",
                "string",
                "How resourceVersion is applied to a list: Exact or NotOlderThan.",
            ),
            query(
                "sendInitialEvents",
                "boolean",
                "Watch only: begin with ADDED events for the current objects, then a BOOKMARK \
                 annotated k8s.io/initial-events-end.",
            ),
            query(
                "timeoutSeconds",
                "integer",
                "Ends the list or watch call after this many seconds.",
            ),
        ];
        if watch {
            out.push(query(
                "watch",
                "boolean",
                "Stream changes (ADDED, MODIFIED, DELETED) instead of returning a list.",
            ));
        }
        out
    }

    pub(super) fn log_options() -> Vec<Value> {
        vec![
            query(
                "container",
                "string",
                "The container whose log is read; optional when the pod has one container.",
            ),
            query("follow", "boolean", "Keep streaming the log as it grows."),
            query(
                "insecureSkipTLSVerifyBackend",
                "boolean",
                "Do not verify the serving certificate of the node agent.",
            ),
            query("limitBytes", "integer", "Stop after this many bytes."),
            query(
                "previous",
                "boolean",
                "Read the log of the previous, terminated instance of the container.",
            ),
            query(
                "sinceSeconds",
                "integer",
                "Only lines newer than this many seconds.",
            ),
            query("tailLines", "integer", "Only this many lines from the end."),
            query(
                "timestamps",
                "boolean",
                "Prefix every line with its RFC 3339 timestamp.",
            ),
        ]
    }

    pub(super) fn stream_options() -> Vec<Value> {
        vec![
            query(
                "container",
                "string",
                "The container to attach to; optional when the pod has one container.",
            ),
            query(
                "stderr",
                "boolean",
                "Stream the container's standard error.",
            ),
            query(
                "stdin",
                "boolean",
                "Stream standard input to the container.",
            ),
            query(
                "stdout",
                "boolean",
                "Stream the container's standard output.",
            ),
            query("tty", "boolean", "Allocate a terminal."),
        ]
    }

    pub(super) fn exec_options() -> Vec<Value> {
        let mut out = vec![query(
            "command",
            "string",
            "The command to run, one argument per occurrence of the parameter.",
        )];
        out.extend(stream_options());
        out
    }

    pub(super) fn port_forward_options() -> Vec<Value> {
        vec![query(
            "ports",
            "integer",
            "The ports to forward, one per occurrence of the parameter.",
        )]
    }
}

/// The naming of one group-version in operation ids and tags: `CoreV1` and `core_v1`,
/// `NetworkingV1` and `networking_v1`, `RbacAuthorizationV1` and `rbacAuthorization_v1`.
struct GroupVersionNames {
    prefix: String,
    operation: String,
    tag: String,
}

impl GroupVersionNames {
    fn new(group: &str, version: &str) -> Self {
        let prefix = if group.is_empty() {
            format!("/api/{version}")
        } else {
            format!("/apis/{group}/{version}")
        };
        let short = group.strip_suffix(".k8s.io").unwrap_or(group);
        let parts: Vec<&str> = if short.is_empty() {
            vec!["core"]
        } else {
            short.split(['.', '-']).filter(|p| !p.is_empty()).collect()
        };
        let camel: String = parts.iter().map(|p| upper_first(p)).collect();
        let lower_camel = {
            let mut s = parts.first().map(|p| (*p).to_owned()).unwrap_or_default();
            s.extend(parts.iter().skip(1).map(|p| upper_first(p)));
            s
        };
        GroupVersionNames {
            prefix,
            operation: format!("{camel}{}", upper_first(version)),
            tag: format!("{lower_camel}_{version}"),
        }
    }
}

fn upper_first(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        Some(c) => c.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// One operation, written in upstream's layout.
struct Operation<'a> {
    description: String,
    operation_id: String,
    action: &'a str,
    gvk: Value,
    parameters: Vec<Value>,
    request_body: Option<Value>,
    responses: Value,
}

fn json_body(schema_name: &str) -> Value {
    json!({"required": true, "content": {"*/*": {"schema": schema_ref(schema_name)}}})
}

fn patch_body(strategic: bool) -> Value {
    let mut types = vec![
        "application/apply-patch+yaml",
        "application/json-patch+json",
        "application/merge-patch+json",
    ];
    if strategic {
        types.push("application/strategic-merge-patch+json");
    }
    let content: Map<String, Value> = types
        .into_iter()
        .map(|t| (t.to_owned(), json!({"schema": schema_ref(PATCH)})))
        .collect();
    json!({"required": true, "content": content})
}

/// Responses with the given status codes, each carrying `schema` as JSON (and, for `stream`,
/// as a stream of watch events), plus upstream's `401`.
fn responses(codes: &[&str], schema: Value, media: &[&str]) -> Value {
    let mut out = Map::new();
    for code in codes {
        let description = match *code {
            "200" => "OK",
            "201" => "Created",
            "202" => "Accepted",
            _ => "Response",
        };
        let content: Map<String, Value> = media
            .iter()
            .map(|m| ((*m).to_owned(), json!({ "schema": schema.clone() })))
            .collect();
        out.insert(
            (*code).to_owned(),
            json!({"description": description, "content": content}),
        );
    }
    out.insert("401".to_owned(), json!({"description": "Unauthorized"}));
    Value::Object(out)
}

const JSON: &[&str] = &["application/json"];
const JSON_AND_WATCH: &[&str] = &["application/json", "application/json;stream=watch"];

/// The `paths` of one document, path template → path item.
#[derive(Default)]
struct Paths {
    items: BTreeMap<String, Map<String, Value>>,
}

impl Paths {
    fn add(
        &mut self,
        path: &str,
        method: &str,
        path_parameters: &[Value],
        op: Operation<'_>,
        tag: &str,
    ) {
        let item = self.items.entry(path.to_owned()).or_default();
        if !item.contains_key("parameters") {
            let mut parameters = path_parameters.to_vec();
            parameters.push(params::pretty());
            item.insert("parameters".to_owned(), Value::Array(parameters));
        }
        let mut operation = json!({
            "description": op.description,
            "operationId": op.operation_id,
            "tags": [tag],
            "responses": op.responses,
            "x-kubernetes-action": op.action,
            "x-kubernetes-group-version-kind": op.gvk,
        });
        if !op.parameters.is_empty() {
            operation["parameters"] = Value::Array(op.parameters);
        }
        if let Some(body) = op.request_body {
            operation["requestBody"] = body;
        }
        item.insert(method.to_owned(), operation);
    }
}

/// Kinds whose registry answers an item DELETE with the deleted object rather than a Status
/// (upstream's `ReturnDeletedObject` stores).
fn delete_returns_object(resource: &ApiResource) -> bool {
    resource.group.is_empty()
        && matches!(
            resource.kind.as_str(),
            "Pod" | "Service" | "PersistentVolume" | "PersistentVolumeClaim" | "PodTemplate"
        )
}

fn build_document(scheme: &Scheme, resources: &[&OpenApiResource]) -> Value {
    let mut components = Components::default();
    let mut paths = Paths::default();
    let Some(first) = resources.first() else {
        return json!({});
    };
    let names = GroupVersionNames::new(&first.resource.group, &first.resource.version);
    for r in resources {
        add_resource(&mut paths, &mut components, scheme, &names, r);
    }
    let paths: Map<String, Value> = paths
        .items
        .into_iter()
        .map(|(k, v)| (k, Value::Object(v)))
        .collect();
    let schemas: Map<String, Value> = components.schemas.into_iter().collect();
    json!({
        "openapi": "3.0.0",
        "info": {"title": "Kubernetes", "version": "unversioned"},
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {
                "BearerToken": {
                    "type": "apiKey",
                    "in": "header",
                    "name": "authorization",
                    "description": "Bearer token authentication.",
                },
            },
        },
        "security": [{"BearerToken": []}],
    })
}

fn add_resource(
    paths: &mut Paths,
    components: &mut Components,
    scheme: &Scheme,
    names: &GroupVersionNames,
    r: &OpenApiResource,
) {
    let res = &r.resource;
    let has = |verb: &str| r.verbs.iter().any(|v| v == verb);
    let (kind_name, typed) = add_kind(components, scheme, res);
    let kind = &res.kind;
    let plural = &res.plural;
    let prefix = &names.prefix;
    let gv = &names.operation;
    let tag = &names.tag;
    let namespaced = res.scope == Scope::Namespaced;
    let scoped = if namespaced { "Namespaced" } else { "" };
    let (collection, collection_params) = if namespaced {
        (
            format!("{prefix}/namespaces/{{namespace}}/{plural}"),
            vec![params::namespace()],
        )
    } else {
        (format!("{prefix}/{plural}"), Vec::new())
    };
    let item = format!("{collection}/{{name}}");
    let mut item_params = vec![params::path("name", &format!("The name of the {kind}."))];
    item_params.extend(collection_params.iter().cloned());
    let write_params = || {
        vec![
            params::dry_run(),
            params::field_manager(),
            params::field_validation(),
        ]
    };
    let kind_ref = schema_ref(&kind_name);

    if has("list") || has("watch") {
        let list_name = add_list_kind(components, &kind_name, res);
        let list_ref = schema_ref(&list_name);
        if has("list") {
            paths.add(
                &collection,
                "get",
                &collection_params,
                Operation {
                    description: format!("list or watch objects of kind {kind}"),
                    operation_id: format!("list{gv}{scoped}{kind}"),
                    action: "list",
                    gvk: gvk(res),
                    parameters: params::list_options(has("watch")),
                    request_body: None,
                    responses: responses(&["200"], list_ref.clone(), JSON_AND_WATCH),
                },
                tag,
            );
            if namespaced {
                paths.add(
                    &format!("{prefix}/{plural}"),
                    "get",
                    &[],
                    Operation {
                        description: format!("list or watch objects of kind {kind}"),
                        operation_id: format!("list{gv}{kind}ForAllNamespaces"),
                        action: "list",
                        gvk: gvk(res),
                        parameters: params::list_options(has("watch")),
                        request_body: None,
                        responses: responses(&["200"], list_ref.clone(), JSON_AND_WATCH),
                    },
                    tag,
                );
            }
        }
        if has("watch") {
            add_watch_event(components);
            let event = schema_ref(WATCH_EVENT);
            let deprecated = "deprecated: use the 'watch' parameter with a list operation \
                              instead";
            let watch_collection = if namespaced {
                format!("{prefix}/watch/namespaces/{{namespace}}/{plural}")
            } else {
                format!("{prefix}/watch/{plural}")
            };
            paths.add(
                &watch_collection,
                "get",
                &collection_params,
                Operation {
                    description: format!(
                        "watch individual changes to a list of {kind}. {deprecated}."
                    ),
                    operation_id: format!("watch{gv}{scoped}{kind}List"),
                    action: "watchlist",
                    gvk: gvk(res),
                    parameters: params::list_options(true),
                    request_body: None,
                    responses: responses(&["200"], event.clone(), JSON_AND_WATCH),
                },
                tag,
            );
            paths.add(
                &format!("{watch_collection}/{{name}}"),
                "get",
                &item_params,
                Operation {
                    description: format!(
                        "watch changes to an object of kind {kind}. {deprecated}, filtered to \
                         a single item with the 'fieldSelector' parameter."
                    ),
                    operation_id: format!("watch{gv}{scoped}{kind}"),
                    action: "watch",
                    gvk: gvk(res),
                    parameters: params::list_options(true),
                    request_body: None,
                    responses: responses(&["200"], event.clone(), JSON_AND_WATCH),
                },
                tag,
            );
            if namespaced {
                paths.add(
                    &format!("{prefix}/watch/{plural}"),
                    "get",
                    &[],
                    Operation {
                        description: format!(
                            "watch individual changes to a list of {kind}. {deprecated}."
                        ),
                        operation_id: format!("watch{gv}{kind}ListForAllNamespaces"),
                        action: "watchlist",
                        gvk: gvk(res),
                        parameters: params::list_options(true),
                        request_body: None,
                        responses: responses(&["200"], event, JSON_AND_WATCH),
                    },
                    tag,
                );
            }
        }
    }
    if has("create") {
        paths.add(
            &collection,
            "post",
            &collection_params,
            Operation {
                description: format!("create {} {kind}", article(kind)),
                operation_id: format!("create{gv}{scoped}{kind}"),
                action: "post",
                gvk: gvk(res),
                parameters: write_params(),
                request_body: Some(json_body(&kind_name)),
                responses: responses(&["200", "201", "202"], kind_ref.clone(), JSON),
            },
            tag,
        );
    }
    if has("deletecollection") {
        let status = components.add_typed::<Status>(STATUS);
        let delete_options = components.add_typed::<DeleteOptions>(DELETE_OPTIONS);
        let mut parameters = params::delete_options();
        parameters.extend(params::list_options(false));
        parameters.sort_by(|a, b| a["name"].as_str().cmp(&b["name"].as_str()));
        parameters.dedup_by(|a, b| a["name"] == b["name"]);
        paths.add(
            &collection,
            "delete",
            &collection_params,
            Operation {
                description: format!("delete collection of {kind}"),
                operation_id: format!("deletecollection{gv}{scoped}{kind}"),
                action: "deletecollection",
                gvk: gvk(res),
                parameters,
                request_body: Some(json_body(&delete_options)),
                responses: responses(&["200"], schema_ref(&status), JSON),
            },
            tag,
        );
    }
    if has("get") {
        paths.add(
            &item,
            "get",
            &item_params,
            Operation {
                description: format!("read the specified {kind}"),
                operation_id: format!("read{gv}{scoped}{kind}"),
                action: "get",
                gvk: gvk(res),
                parameters: Vec::new(),
                request_body: None,
                responses: responses(&["200"], kind_ref.clone(), JSON),
            },
            tag,
        );
    }
    if has("update") {
        paths.add(
            &item,
            "put",
            &item_params,
            Operation {
                description: format!("replace the specified {kind}"),
                operation_id: format!("replace{gv}{scoped}{kind}"),
                action: "put",
                gvk: gvk(res),
                parameters: write_params(),
                request_body: Some(json_body(&kind_name)),
                responses: responses(&["200", "201"], kind_ref.clone(), JSON),
            },
            tag,
        );
    }
    if has("patch") {
        add_patch(components);
        paths.add(
            &item,
            "patch",
            &item_params,
            patch_operation(
                format!("partially update the specified {kind}"),
                format!("patch{gv}{scoped}{kind}"),
                gvk(res),
                typed,
                kind_ref.clone(),
            ),
            tag,
        );
    }
    if has("delete") {
        let delete_options = components.add_typed::<DeleteOptions>(DELETE_OPTIONS);
        let answer = if delete_returns_object(res) {
            kind_ref.clone()
        } else {
            schema_ref(&components.add_typed::<Status>(STATUS))
        };
        paths.add(
            &item,
            "delete",
            &item_params,
            Operation {
                description: format!("delete {} {kind}", article(kind)),
                operation_id: format!("delete{gv}{scoped}{kind}"),
                action: "delete",
                gvk: gvk(res),
                parameters: params::delete_options(),
                request_body: Some(json_body(&delete_options)),
                responses: responses(&["200", "202"], answer, JSON),
            },
            tag,
        );
    }
    for sub in &r.subresources {
        add_subresource(
            paths,
            components,
            scheme,
            names,
            r,
            sub,
            &item,
            &item_params,
            typed,
        );
    }
}

#[allow(clippy::too_many_arguments)]
fn add_subresource(
    paths: &mut Paths,
    components: &mut Components,
    scheme: &Scheme,
    names: &GroupVersionNames,
    r: &OpenApiResource,
    sub: &str,
    item: &str,
    item_params: &[Value],
    typed: bool,
) {
    let res = &r.resource;
    let kind = &res.kind;
    let gv = &names.operation;
    let tag = &names.tag;
    let scoped = if res.scope == Scope::Namespaced {
        "Namespaced"
    } else {
        ""
    };
    let path = format!("{item}/{sub}");
    let write_params = || {
        vec![
            params::dry_run(),
            params::field_manager(),
            params::field_validation(),
        ]
    };
    let other_kind = |api_version: &str, kind: &str| {
        scheme
            .resource(api_version, kind)
            .cloned()
            .filter(|_| scheme.schema(api_version, kind).is_some())
    };
    match sub {
        "status" | "scale" => {
            // `status` reads and writes the object itself; `scale` an autoscaling/v1 Scale.
            let (target, target_typed, word) = if sub == "status" {
                (res.clone(), typed, "Status")
            } else {
                let Some(scale) = other_kind("autoscaling/v1", "Scale") else {
                    return;
                };
                (scale, true, "Scale")
            };
            let (target_name, _) = add_kind(components, scheme, &target);
            let target_ref = schema_ref(&target_name);
            add_patch(components);
            paths.add(
                &path,
                "get",
                item_params,
                Operation {
                    description: format!("read {sub} of the specified {kind}"),
                    operation_id: format!("read{gv}{scoped}{kind}{word}"),
                    action: "get",
                    gvk: gvk(&target),
                    parameters: Vec::new(),
                    request_body: None,
                    responses: responses(&["200"], target_ref.clone(), JSON),
                },
                tag,
            );
            paths.add(
                &path,
                "put",
                item_params,
                Operation {
                    description: format!("replace {sub} of the specified {kind}"),
                    operation_id: format!("replace{gv}{scoped}{kind}{word}"),
                    action: "put",
                    gvk: gvk(&target),
                    parameters: write_params(),
                    request_body: Some(json_body(&target_name)),
                    responses: responses(&["200", "201"], target_ref.clone(), JSON),
                },
                tag,
            );
            paths.add(
                &path,
                "patch",
                item_params,
                patch_operation(
                    format!("partially update {sub} of the specified {kind}"),
                    format!("patch{gv}{scoped}{kind}{word}"),
                    gvk(&target),
                    target_typed,
                    target_ref,
                ),
                tag,
            );
        }
        "binding" | "eviction" => {
            let (api_version, target_kind, word) = if sub == "binding" {
                ("v1", "Binding", "Binding")
            } else {
                ("policy/v1", "Eviction", "Eviction")
            };
            let Some(target) = other_kind(api_version, target_kind) else {
                return;
            };
            let (target_name, _) = add_kind(components, scheme, &target);
            paths.add(
                &path,
                "post",
                item_params,
                Operation {
                    description: format!("create {sub} of {} {kind}", article(kind)),
                    operation_id: format!("create{gv}{scoped}{kind}{word}"),
                    action: "post",
                    gvk: gvk(&target),
                    parameters: write_params(),
                    request_body: Some(json_body(&target_name)),
                    responses: responses(&["200", "201", "202"], schema_ref(&target_name), JSON),
                },
                tag,
            );
        }
        "log" => {
            paths.add(
                &path,
                "get",
                item_params,
                Operation {
                    description: format!("read log of the specified {kind}"),
                    operation_id: format!("read{gv}{scoped}{kind}Log"),
                    action: "get",
                    gvk: gvk(res),
                    parameters: params::log_options(),
                    request_body: None,
                    responses: responses(&["200"], json!({"type": "string"}), &["text/plain"]),
                },
                tag,
            );
        }
        "exec" | "attach" | "portforward" => {
            let (options_kind, parameters, word) = match sub {
                "exec" => ("PodExecOptions", params::exec_options(), "Exec"),
                "attach" => ("PodAttachOptions", params::stream_options(), "Attach"),
                _ => (
                    "PodPortForwardOptions",
                    params::port_forward_options(),
                    "Portforward",
                ),
            };
            let options_gvk =
                json!({"group": res.group, "kind": options_kind, "version": res.version});
            for (method, verb) in [("get", "Get"), ("post", "Post")] {
                paths.add(
                    &path,
                    method,
                    item_params,
                    Operation {
                        description: format!(
                            "connect {} requests to {sub} of {kind}",
                            method.to_uppercase()
                        ),
                        operation_id: format!("connect{gv}{verb}{scoped}{kind}{word}"),
                        action: "connect",
                        gvk: options_gvk.clone(),
                        parameters: parameters.clone(),
                        request_body: None,
                        responses: responses(&["200"], json!({"type": "string"}), &["*/*"]),
                    },
                    tag,
                );
            }
        }
        _ => {}
    }
}

fn patch_operation(
    description: String,
    operation_id: String,
    gvk: Value,
    strategic: bool,
    answer: Value,
) -> Operation<'static> {
    Operation {
        description,
        operation_id,
        action: "patch",
        gvk,
        parameters: vec![
            params::dry_run(),
            params::field_manager(),
            params::field_validation(),
            params::force(),
        ],
        request_body: Some(patch_body(strategic)),
        responses: responses(&["200", "201"], answer, JSON),
    }
}

fn article(word: &str) -> &'static str {
    match word.chars().next() {
        Some('A' | 'E' | 'I' | 'O' | 'U') => "an",
        _ => "a",
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use kubernaut_api_types::Resource;
    use kubernaut_api_types::{apps, core};
    use proptest::prelude::*;

    use super::*;

    const ALL_VERBS: &[&str] = &[
        "create",
        "delete",
        "deletecollection",
        "get",
        "list",
        "patch",
        "update",
        "watch",
    ];

    fn strings(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| (*s).to_owned()).collect()
    }

    /// Every built-in kind served as upstream serves it: the usual verbs, `bindings` create-only,
    /// Scale and Eviction only as subresources, and upstream's subresources.
    fn served(scheme: &Scheme) -> Vec<OpenApiResource> {
        let mut out = Vec::new();
        for r in scheme.resources() {
            let (verbs, subresources): (&[&str], &[&str]) =
                match (r.api_version.as_str(), r.kind.as_str()) {
                    ("autoscaling/v1", "Scale") | ("policy/v1", "Eviction") => continue,
                    ("v1", "Binding") => (&["create"], &[]),
                    ("v1", "Pod") => (
                        ALL_VERBS,
                        &[
                            "status",
                            "binding",
                            "log",
                            "exec",
                            "attach",
                            "portforward",
                            "eviction",
                        ],
                    ),
                    (_, "Deployment" | "ReplicaSet" | "StatefulSet") => {
                        (ALL_VERBS, &["status", "scale"])
                    }
                    (
                        _,
                        "DaemonSet"
                        | "Job"
                        | "CronJob"
                        | "Service"
                        | "Node"
                        | "Namespace"
                        | "PersistentVolumeClaim"
                        | "PersistentVolume"
                        | "ResourceQuota"
                        | "Ingress"
                        | "PodDisruptionBudget",
                    ) => (ALL_VERBS, &["status"]),
                    _ => (ALL_VERBS, &[]),
                };
            out.push(OpenApiResource {
                resource: r.clone(),
                verbs: strings(verbs),
                subresources: strings(subresources),
            });
        }
        out.sort_by(|a, b| {
            a.resource
                .api_version
                .cmp(&b.resource.api_version)
                .then(a.resource.plural.cmp(&b.resource.plural))
        });
        out
    }

    fn built() -> (Scheme, Vec<OpenApiResource>, OpenApi) {
        let scheme = Scheme::builtin();
        let resources = served(&scheme);
        let openapi = OpenApi::build(&scheme, &resources);
        (scheme, resources, openapi)
    }

    fn parsed(openapi: &OpenApi, path: &str) -> Value {
        let (bytes, _) = openapi.document(path).expect("document is served");
        serde_json::from_slice(bytes).expect("document is JSON")
    }

    fn all_documents(openapi: &OpenApi) -> Vec<(String, Value)> {
        openapi.index()["paths"]
            .as_object()
            .expect("index paths")
            .keys()
            .map(|k| (k.clone(), parsed(openapi, k)))
            .collect()
    }

    const METHODS: &[&str] = &["get", "put", "post", "delete", "patch"];

    /// `(path, method, operation)` of every operation of a document.
    fn operations(doc: &Value) -> Vec<(String, String, Value)> {
        let mut out = Vec::new();
        for (path, item) in doc["paths"].as_object().expect("paths") {
            for method in METHODS {
                if let Some(op) = item.get(*method) {
                    out.push((path.clone(), (*method).to_owned(), op.clone()));
                }
            }
        }
        out
    }

    fn param_names(op: &Value) -> BTreeSet<String> {
        op["parameters"]
            .as_array()
            .map(|ps| {
                ps.iter()
                    .filter_map(|p| p["name"].as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    }

    fn resolve<'a>(doc: &'a Value, schema: &'a Value) -> &'a Value {
        let mut node = schema;
        for _ in 0..8 {
            if let Some(r) = node.get("$ref").and_then(Value::as_str) {
                let name = r.strip_prefix(SCHEMA_PREFIX).expect("component reference");
                node = &doc["components"]["schemas"][name];
            } else if let Some(Value::Array(all)) = node.get("allOf")
                && all.len() == 1
            {
                node = &all[0];
            } else {
                break;
            }
        }
        node
    }

    #[test]
    fn index_lists_every_served_group_version() {
        let (_, resources, openapi) = built();
        let expected: BTreeSet<String> = resources
            .iter()
            .map(|r| group_version_path(&r.resource.group, &r.resource.version))
            .collect();
        let listed: BTreeSet<String> = openapi.index()["paths"]
            .as_object()
            .unwrap()
            .keys()
            .cloned()
            .collect();
        assert_eq!(listed, expected);
        assert!(listed.contains("api/v1") && listed.contains("apis/apps/v1"));
        assert!(listed.contains("apis/rbac.authorization.k8s.io/v1"));
        for path in &listed {
            let (_, hash) = openapi.document(path).unwrap();
            assert_eq!(
                openapi.index()["paths"][path.as_str()]["serverRelativeURL"],
                format!("/openapi/v3/{path}?hash={hash}")
            );
            assert_eq!(hash.len(), 32);
            assert!(
                hash.chars()
                    .all(|c| c.is_ascii_digit() || c.is_ascii_uppercase())
            );
        }
        assert!(openapi.document("/api/v1").is_some());
        assert!(openapi.document("apis/apps").is_none());
        assert!(openapi.document("apis/apps/v2").is_none());
    }

    #[test]
    fn every_patch_operation_carries_its_kind_and_the_write_parameters() {
        let (_, _, openapi) = built();
        let mut patches = 0;
        for (name, doc) in all_documents(&openapi) {
            for (path, method, op) in operations(&doc) {
                let gvk = &op["x-kubernetes-group-version-kind"];
                assert!(
                    gvk["group"].is_string()
                        && gvk["version"].is_string()
                        && gvk["kind"].is_string(),
                    "{name} {method} {path}: {gvk}"
                );
                let params = param_names(&op);
                let writes = matches!(method.as_str(), "put" | "patch")
                    || (method == "post" && op["x-kubernetes-action"] == "post");
                if writes {
                    for p in ["dryRun", "fieldManager", "fieldValidation"] {
                        assert!(params.contains(p), "{name} {method} {path} lacks {p}");
                    }
                }
                if method != "patch" {
                    continue;
                }
                patches += 1;
                assert!(params.contains("force"), "{path} lacks force");
                assert_eq!(op["x-kubernetes-action"], "patch");
                let content = op["requestBody"]["content"].as_object().unwrap();
                for t in [
                    "application/json-patch+json",
                    "application/merge-patch+json",
                    "application/apply-patch+yaml",
                    "application/strategic-merge-patch+json",
                ] {
                    assert!(content.contains_key(t), "{path} lacks {t}");
                }
            }
        }
        assert!(patches > 40, "{patches} patch operations");
    }

    /// cli-runtime's `supportsQueryParamV3` takes the first PATCH operation (in Go's random
    /// map order) whose GVK matches: every one of them must carry `fieldValidation`.
    #[test]
    fn field_validation_is_found_for_every_patchable_kind_whichever_operation_comes_first() {
        let (_, resources, openapi) = built();
        for r in resources
            .iter()
            .filter(|r| r.verbs.iter().any(|v| v == "patch"))
        {
            let doc = parsed(
                &openapi,
                &group_version_path(&r.resource.group, &r.resource.version),
            );
            let matching: Vec<_> = operations(&doc)
                .into_iter()
                .filter(|(_, method, op)| {
                    method == "patch" && op["x-kubernetes-group-version-kind"] == gvk(&r.resource)
                })
                .collect();
            assert!(!matching.is_empty(), "no PATCH for {}", r.resource.kind);
            for (path, _, op) in matching {
                assert!(param_names(&op).contains("fieldValidation"), "{path}");
            }
        }
    }

    fn collect_refs<'a>(v: &'a Value, out: &mut Vec<&'a str>) {
        match v {
            Value::Object(m) => {
                for (k, x) in m {
                    if k == "$ref" {
                        out.push(x.as_str().unwrap_or("<not a string>"));
                    } else {
                        collect_refs(x, out);
                    }
                }
            }
            Value::Array(a) => a.iter().for_each(|x| collect_refs(x, out)),
            _ => {}
        }
    }

    #[test]
    fn every_reference_resolves_inside_its_document() {
        let (_, _, openapi) = built();
        for (name, doc) in all_documents(&openapi) {
            let mut refs = Vec::new();
            collect_refs(&doc, &mut refs);
            assert!(!refs.is_empty());
            let schemas = doc["components"]["schemas"].as_object().unwrap();
            for r in refs {
                let target = r.strip_prefix(SCHEMA_PREFIX);
                assert!(
                    target.is_some_and(|t| schemas.contains_key(t)),
                    "{name}: dangling {r}"
                );
            }
        }
    }

    const SCHEMA_KEYWORDS: &[&str] = &[
        "title",
        "multipleOf",
        "maximum",
        "exclusiveMaximum",
        "minimum",
        "exclusiveMinimum",
        "maxLength",
        "minLength",
        "pattern",
        "maxItems",
        "minItems",
        "uniqueItems",
        "maxProperties",
        "minProperties",
        "required",
        "enum",
        "type",
        "allOf",
        "oneOf",
        "anyOf",
        "not",
        "items",
        "properties",
        "additionalProperties",
        "description",
        "format",
        "default",
        "nullable",
        "discriminator",
        "readOnly",
        "writeOnly",
        "xml",
        "externalDocs",
        "example",
        "deprecated",
        "$ref",
    ];

    fn check_schema(at: &str, s: &Value, errors: &mut Vec<String>) {
        let Some(obj) = s.as_object() else {
            errors.push(format!("{at}: schema is not an object"));
            return;
        };
        for k in obj.keys() {
            if !k.starts_with("x-") && !SCHEMA_KEYWORDS.contains(&k.as_str()) {
                errors.push(format!("{at}: keyword {k} is not OpenAPI 3.0"));
            }
        }
        if obj.contains_key("$ref") && obj.len() > 1 {
            errors.push(format!("{at}: $ref with siblings"));
        }
        if let Some(t) = obj.get("type") {
            let known = ["array", "boolean", "integer", "number", "object", "string"];
            if !t.as_str().is_some_and(|t| known.contains(&t)) {
                errors.push(format!("{at}: type {t}"));
            }
            if t == "array" && !obj.contains_key("items") {
                errors.push(format!("{at}: array without items"));
            }
        }
        if let Some(req) = obj.get("required") {
            let props = obj.get("properties").and_then(Value::as_object);
            match req.as_array() {
                Some(names) if !names.is_empty() => {
                    for n in names {
                        let ok = n
                            .as_str()
                            .is_some_and(|n| props.is_some_and(|p| p.contains_key(n)));
                        if !ok {
                            errors.push(format!("{at}: required {n} is not a property"));
                        }
                    }
                }
                _ => errors.push(format!("{at}: required is not a non-empty list")),
            }
        }
        if let Some(props) = obj.get("properties") {
            match props.as_object() {
                Some(props) => {
                    for (k, v) in props {
                        check_schema(&format!("{at}.{k}"), v, errors);
                    }
                }
                None => errors.push(format!("{at}: properties is not an object")),
            }
        }
        for k in ["items", "not"] {
            if let Some(v) = obj.get(k) {
                check_schema(&format!("{at}[{k}]"), v, errors);
            }
        }
        if let Some(v) = obj.get("additionalProperties")
            && !v.is_boolean()
        {
            check_schema(&format!("{at}{{}}"), v, errors);
        }
        for k in ["allOf", "anyOf", "oneOf"] {
            if let Some(v) = obj.get(k) {
                match v.as_array() {
                    Some(members) if !members.is_empty() => {
                        for (i, m) in members.iter().enumerate() {
                            check_schema(&format!("{at}/{k}/{i}"), m, errors);
                        }
                    }
                    _ => errors.push(format!("{at}: {k} is not a non-empty list")),
                }
            }
        }
    }

    fn check_parameter(at: &str, p: &Value, errors: &mut Vec<String>) {
        let ok_in = ["query", "header", "path", "cookie"];
        if !p["name"].is_string() || !p["in"].as_str().is_some_and(|i| ok_in.contains(&i)) {
            errors.push(format!("{at}: bad parameter {p}"));
        }
        if p["in"] == "path" && p["required"] != true {
            errors.push(format!(
                "{at}: path parameter {} is not required",
                p["name"]
            ));
        }
        check_schema(&format!("{at} param {}", p["name"]), &p["schema"], errors);
    }

    /// The invariants of an OpenAPI 3.0 document that clients rely on.
    fn check_document(doc: &Value) -> Vec<String> {
        let mut errors = Vec::new();
        if doc["openapi"] != "3.0.0" {
            errors.push("openapi is not 3.0.0".to_owned());
        }
        if !doc["info"]["title"].is_string() || !doc["info"]["version"].is_string() {
            errors.push("info lacks title or version".to_owned());
        }
        let mut operation_ids = BTreeSet::new();
        for (path, item) in doc["paths"].as_object().into_iter().flatten() {
            if !path.starts_with('/') {
                errors.push(format!("{path}: does not start with /"));
            }
            let template: BTreeSet<&str> = path
                .split('/')
                .filter_map(|seg| seg.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
                .collect();
            let item = item.as_object().cloned().unwrap_or_default();
            for k in item.keys() {
                if !METHODS.contains(&k.as_str()) && k != "parameters" {
                    errors.push(format!("{path}: unexpected key {k}"));
                }
            }
            let shared: Vec<Value> = item
                .get("parameters")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            for p in &shared {
                check_parameter(path, p, &mut errors);
            }
            for method in METHODS {
                let Some(op) = item.get(*method) else {
                    continue;
                };
                let at = format!("{method} {path}");
                let own: Vec<Value> = op["parameters"].as_array().cloned().unwrap_or_default();
                let mut seen = BTreeSet::new();
                let mut path_params = BTreeSet::new();
                for p in shared.iter().chain(own.iter()) {
                    if !seen.insert((p["name"].to_string(), p["in"].to_string())) {
                        errors.push(format!("{at}: duplicate parameter {}", p["name"]));
                    }
                    if p["in"] == "path" {
                        path_params.insert(p["name"].as_str().unwrap_or_default().to_owned());
                    }
                }
                for p in &own {
                    check_parameter(&at, p, &mut errors);
                }
                let template_owned: BTreeSet<String> =
                    template.iter().map(|s| (*s).to_owned()).collect();
                if path_params != template_owned {
                    errors.push(format!("{at}: path parameters {path_params:?}"));
                }
                match op["operationId"].as_str() {
                    Some(id) if operation_ids.insert(id.to_owned()) => {}
                    other => {
                        errors.push(format!("{at}: operationId {other:?} missing or repeated"))
                    }
                }
                let responses = op["responses"].as_object().cloned().unwrap_or_default();
                if responses.is_empty() {
                    errors.push(format!("{at}: no responses"));
                }
                for (code, response) in &responses {
                    if !response["description"].is_string() {
                        errors.push(format!("{at} {code}: response without description"));
                    }
                    for (media, body) in response["content"].as_object().into_iter().flatten() {
                        check_schema(
                            &format!("{at} {code} {media}"),
                            &body["schema"],
                            &mut errors,
                        );
                    }
                }
                if let Some(body) = op.get("requestBody") {
                    let content = body["content"].as_object().cloned().unwrap_or_default();
                    if content.is_empty() {
                        errors.push(format!("{at}: request body without content"));
                    }
                    for (media, c) in &content {
                        check_schema(&format!("{at} body {media}"), &c["schema"], &mut errors);
                    }
                }
            }
        }
        match doc["components"]["schemas"].as_object() {
            Some(schemas) => {
                for (name, s) in schemas {
                    if !name
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || ".-_".contains(c))
                    {
                        errors.push(format!("component name {name}"));
                    }
                    check_schema(name, s, &mut errors);
                }
            }
            None => errors.push("no components.schemas".to_owned()),
        }
        errors
    }

    #[test]
    fn documents_are_structurally_valid_openapi_3_0() {
        let (_, _, openapi) = built();
        for (name, doc) in all_documents(&openapi) {
            let errors = check_document(&doc);
            assert!(errors.is_empty(), "{name}: {errors:#?}");
        }
    }

    #[test]
    fn the_structure_check_catches_broken_documents() {
        let (_, _, openapi) = built();
        let mut doc = parsed(&openapi, "apis/apps/v1");
        doc["components"]["schemas"]["io.k8s.api.apps.v1.Deployment"]["properties"]["spec"]["type"] =
            json!(["object", "null"]);
        doc["paths"]["/apis/apps/v1/namespaces/{namespace}/deployments/{name}"]["parameters"] =
            json!([]);
        let errors = check_document(&doc);
        assert!(errors.iter().any(|e| e.contains("type [")), "{errors:?}");
        assert!(
            errors.iter().any(|e| e.contains("path parameters")),
            "{errors:?}"
        );
    }

    #[test]
    fn schemas_are_in_the_openapi_3_0_dialect() {
        let (_, _, openapi) = built();
        let doc = parsed(&openapi, "api/v1");
        let schemas = &doc["components"]["schemas"];
        let text = serde_json::to_string(schemas).unwrap();
        for absent in [
            "\"null\"",
            "$defs",
            "$schema",
            "\"title\"",
            "#/$defs/",
            "Upstream definition",
        ] {
            assert!(!text.contains(absent), "{absent} left in the schemas");
        }
        assert_eq!(
            schemas["io.k8s.apimachinery.pkg.util.intstr.IntOrString"]["oneOf"],
            json!([{"type": "integer"}, {"type": "string"}])
        );
        assert_eq!(
            schemas["io.k8s.apimachinery.pkg.util.intstr.IntOrString"]["format"],
            "int-or-string"
        );
        assert_eq!(
            schemas["io.k8s.apimachinery.pkg.util.intstr.IntOrString"]["x-kubernetes-int-or-string"],
            true
        );
        assert_eq!(
            schemas["io.k8s.apimachinery.pkg.api.resource.Quantity"]["oneOf"],
            json!([{"type": "string"}, {"type": "number"}])
        );
        let time = &schemas["io.k8s.apimachinery.pkg.apis.meta.v1.Time"];
        assert_eq!(
            (&time["type"], &time["format"]),
            (&json!("string"), &json!("date-time"))
        );
        // `Option<PodSpec>` is a plain reference, wrapped in allOf to keep its description.
        let spec = &schemas["io.k8s.api.core.v1.Pod"]["properties"]["spec"];
        assert_eq!(
            spec["allOf"],
            json!([{"$ref": "#/components/schemas/io.k8s.api.core.v1.PodSpec"}])
        );
        assert!(spec["description"].is_string());
        // `Option<String>` is a plain string; `ByteString` has no definition and is inlined.
        assert_eq!(
            schemas["io.k8s.api.core.v1.Container"]["properties"]["image"]["type"],
            "string"
        );
        assert_eq!(
            schemas["io.k8s.api.core.v1.Secret"]["properties"]["data"]["additionalProperties"],
            json!({"type": "string", "format": "byte"})
        );
        assert_eq!(
            schemas["io.k8s.api.core.v1.PodSpec"]["required"],
            json!(["containers"])
        );
    }

    #[test]
    fn components_are_named_as_upstream_names_them() {
        let (_, _, openapi) = built();
        for (name, doc) in all_documents(&openapi) {
            for key in doc["components"]["schemas"].as_object().unwrap().keys() {
                assert!(key.starts_with("io.k8s."), "{name}: {key}");
            }
        }
        let core = parsed(&openapi, "api/v1");
        let events = parsed(&openapi, "apis/events.k8s.io/v1");
        let discovery = parsed(&openapi, "apis/discovery.k8s.io/v1");
        let apps = parsed(&openapi, "apis/apps/v1");
        let has = |doc: &Value, name: &str| doc["components"]["schemas"].get(name).is_some();
        assert!(has(&core, "io.k8s.api.core.v1.Pod") && has(&core, "io.k8s.api.core.v1.PodList"));
        assert!(
            has(&core, "io.k8s.api.core.v1.Event") && !has(&core, "io.k8s.api.events.v1.Event")
        );
        assert!(has(&events, "io.k8s.api.events.v1.Event"));
        assert!(has(&core, "io.k8s.api.core.v1.EndpointPort"));
        assert!(has(&discovery, "io.k8s.api.discovery.v1.EndpointPort"));
        assert!(has(&apps, "io.k8s.api.apps.v1.DeploymentList"));
        assert!(has(&apps, "io.k8s.api.autoscaling.v1.Scale"));
        assert!(has(&core, "io.k8s.api.policy.v1.Eviction"));
        for (doc, kind, group) in [
            (&core, "io.k8s.api.core.v1.PodList", ""),
            (&apps, "io.k8s.api.apps.v1.Deployment", "apps"),
        ] {
            let gvks = &doc["components"]["schemas"][kind]["x-kubernetes-group-version-kind"];
            assert_eq!(gvks[0]["group"], group, "{kind}");
        }
    }

    #[test]
    fn descriptions_drop_rustdoc_markup_and_the_definition_line() {
        assert_eq!(
            clean_description(
                "The desired state of a [`Pod`]: see [`Container`](crate::core::v1::Container) \
                 and [the docs](https://kubernetes.io/docs).\n\nUpstream definition: \
                 `io.k8s.api.core.v1.PodSpec`."
            ),
            "The desired state of a `Pod`: see `Container` and the docs \
             (https://kubernetes.io/docs)."
        );
        assert_eq!(
            clean_description("spec.containers[0].image [x"),
            "spec.containers[0].image [x"
        );
        let (_, _, openapi) = built();
        let doc = parsed(&openapi, "api/v1");
        let spec = &doc["components"]["schemas"]["io.k8s.api.core.v1.PodSpec"];
        assert_eq!(
            spec["description"],
            "The desired state of a `Pod`: its containers, volumes and scheduling constraints."
        );
    }

    /// kubectl explain (`pkg/explain/v2` templates): the GVK comes from an operation on the
    /// resource's path, the schema is the component carrying that GVK, fields are followed
    /// through `properties`, `items` and single-member `allOf`.
    #[test]
    fn explain_finds_the_kind_and_walks_to_described_fields() {
        let (_, _, openapi) = built();
        for (doc_path, resource_path, kind, field_path, leaf) in [
            (
                "api/v1",
                "/api/v1/namespaces/{namespace}/pods",
                "Pod",
                &["spec", "containers"][..],
                "image",
            ),
            (
                "apis/apps/v1",
                "/apis/apps/v1/namespaces/{namespace}/deployments",
                "Deployment",
                &["spec", "strategy"][..],
                "rollingUpdate",
            ),
            ("api/v1", "/api/v1/nodes", "Node", &["spec"][..], "podCIDR"),
        ] {
            let doc = parsed(&openapi, doc_path);
            let found = [
                resource_path.to_owned(),
                format!("{resource_path}/{{name}}"),
            ]
            .iter()
            .flat_map(|p| METHODS.iter().map(move |m| (p.clone(), *m)))
            .find_map(|(p, m)| {
                doc["paths"][p.as_str()][m]
                    .get("x-kubernetes-group-version-kind")
                    .cloned()
            })
            .expect("an operation names the kind");
            assert_eq!(found["kind"], kind);
            let (_, schema) = doc["components"]["schemas"]
                .as_object()
                .unwrap()
                .iter()
                .find(|(_, s)| {
                    s["x-kubernetes-group-version-kind"]
                        .as_array()
                        .is_some_and(|l| l.contains(&found))
                })
                .expect("a component carries the GVK");
            assert!(
                schema["description"]
                    .as_str()
                    .is_some_and(|d| !d.is_empty())
            );
            let mut node = resolve(&doc, schema);
            for field in field_path {
                let prop = &node["properties"][*field];
                assert!(
                    prop["description"].as_str().is_some_and(|d| !d.is_empty()),
                    "{field}"
                );
                node = resolve(&doc, prop);
                if let Some(items) = node.get("items") {
                    node = resolve(&doc, items);
                }
                assert!(
                    node["description"].is_string(),
                    "{field}'s type is described"
                );
            }
            assert!(
                node["properties"][leaf]["description"].is_string(),
                "{kind} {leaf}"
            );
        }
    }

    /// kubectl apply's `PatchMetaFromOpenAPIV3`: patch metadata is read from the property
    /// itself, then `allOf[0]` and `$ref` are resolved (and `items` for lists).
    #[test]
    fn strategic_merge_metadata_is_where_kubectl_apply_reads_it() {
        let (_, _, openapi) = built();
        let doc = parsed(&openapi, "apis/apps/v1");
        let step = |node: &Value, key: &str| -> (Value, Value) {
            let prop = node["properties"][key].clone();
            assert!(!prop.is_null(), "no field {key}");
            let mut next = prop.clone();
            if let Some(items) = prop.get("items") {
                next = items.clone();
            }
            if let Some(Value::Array(all)) = next.get("allOf") {
                next = all[0].clone();
            }
            if let Some(r) = next.get("$ref").and_then(Value::as_str) {
                next = doc["components"]["schemas"][r.strip_prefix(SCHEMA_PREFIX).unwrap()].clone();
            }
            (prop, next)
        };
        let deployment = doc["components"]["schemas"]["io.k8s.api.apps.v1.Deployment"].clone();
        let (_, spec) = step(&deployment, "spec");
        let (strategy, _) = step(&spec, "strategy");
        assert_eq!(strategy["x-kubernetes-patch-strategy"], "retainKeys");
        let (_, template) = step(&spec, "template");
        let (_, pod_spec) = step(&template, "spec");
        let (containers, container) = step(&pod_spec, "containers");
        assert_eq!(containers["x-kubernetes-patch-merge-key"], "name");
        assert_eq!(containers["x-kubernetes-patch-strategy"], "merge");
        let (volumes, _) = step(&pod_spec, "volumes");
        assert_eq!(volumes["x-kubernetes-patch-strategy"], "merge,retainKeys");
        let (env, _) = step(&container, "env");
        assert_eq!(env["x-kubernetes-patch-merge-key"], "name");
        let (ports, _) = step(&container, "ports");
        assert_eq!(
            ports["x-kubernetes-list-map-keys"],
            json!(["containerPort", "protocol"])
        );
        let (_, meta) = step(&deployment, "metadata");
        let (finalizers, _) = step(&meta, "finalizers");
        assert_eq!(finalizers["x-kubernetes-patch-strategy"], "merge");
    }

    #[test]
    fn operations_follow_the_verbs() {
        let scheme = Scheme::builtin();
        let leases = OpenApiResource {
            resource: ApiResource::of::<kubernaut_api_types::coordination::v1::Lease>(),
            verbs: strings(&["get", "list"]),
            subresources: Vec::new(),
        };
        let nodes = OpenApiResource {
            resource: ApiResource::of::<core::v1::Node>(),
            verbs: strings(ALL_VERBS),
            subresources: strings(&["status", "no-such-subresource"]),
        };
        let openapi = OpenApi::build(&scheme, &[leases, nodes]);
        let doc = parsed(&openapi, "apis/coordination.k8s.io/v1");
        let actions: BTreeSet<(String, String)> = operations(&doc)
            .into_iter()
            .map(|(path, _, op)| (path, op["x-kubernetes-action"].as_str().unwrap().to_owned()))
            .collect();
        let expected: BTreeSet<(String, String)> = [
            ("/apis/coordination.k8s.io/v1/leases", "list"),
            (
                "/apis/coordination.k8s.io/v1/namespaces/{namespace}/leases",
                "list",
            ),
            (
                "/apis/coordination.k8s.io/v1/namespaces/{namespace}/leases/{name}",
                "get",
            ),
        ]
        .iter()
        .map(|(p, a)| ((*p).to_owned(), (*a).to_owned()))
        .collect();
        assert_eq!(actions, expected);
        assert_eq!(
            doc["paths"]["/apis/coordination.k8s.io/v1/leases"]["get"]["operationId"],
            "listCoordinationV1LeaseForAllNamespaces"
        );
        let core = parsed(&openapi, "api/v1");
        let paths: BTreeSet<&String> = core["paths"].as_object().unwrap().keys().collect();
        let expected: BTreeSet<String> = [
            "/api/v1/nodes",
            "/api/v1/nodes/{name}",
            "/api/v1/nodes/{name}/status",
            "/api/v1/watch/nodes",
            "/api/v1/watch/nodes/{name}",
        ]
        .iter()
        .map(|s| (*s).to_owned())
        .collect();
        assert_eq!(paths, expected.iter().collect());
        let collection = &core["paths"]["/api/v1/nodes"];
        assert_eq!(collection["get"]["operationId"], "listCoreV1Node");
        assert_eq!(collection["post"]["x-kubernetes-action"], "post");
        assert_eq!(
            collection["delete"]["x-kubernetes-action"],
            "deletecollection"
        );
        assert_eq!(
            core["paths"]["/api/v1/watch/nodes"]["get"]["x-kubernetes-action"],
            "watchlist"
        );
        let item = &core["paths"]["/api/v1/nodes/{name}"];
        assert_eq!(item["put"]["operationId"], "replaceCoreV1Node");
        assert_eq!(item["delete"]["operationId"], "deleteCoreV1Node");
        assert_eq!(
            item["delete"]["responses"]["200"]["content"]["application/json"]["schema"]["$ref"],
            format!("{SCHEMA_PREFIX}{STATUS}")
        );
    }

    #[test]
    fn subresources_follow_upstream() {
        let (_, _, openapi) = built();
        let core = parsed(&openapi, "api/v1");
        let pod = "/api/v1/namespaces/{namespace}/pods/{name}";
        let op = |path: &str, method: &str| core["paths"][path][method].clone();
        assert_eq!(
            op(&format!("{pod}/status"), "patch")["x-kubernetes-group-version-kind"]["kind"],
            "Pod"
        );
        assert_eq!(
            op(&format!("{pod}/status"), "get")["operationId"],
            "readCoreV1NamespacedPodStatus"
        );
        let eviction = op(&format!("{pod}/eviction"), "post");
        assert_eq!(
            eviction["x-kubernetes-group-version-kind"],
            json!({"group": "policy", "kind": "Eviction", "version": "v1"})
        );
        assert_eq!(eviction["operationId"], "createCoreV1NamespacedPodEviction");
        assert_eq!(
            op(&format!("{pod}/binding"), "post")["x-kubernetes-group-version-kind"]["kind"],
            "Binding"
        );
        assert_eq!(
            op(&format!("{pod}/log"), "get")["operationId"],
            "readCoreV1NamespacedPodLog"
        );
        assert!(param_names(&op(&format!("{pod}/log"), "get")).contains("tailLines"));
        let exec = op(&format!("{pod}/exec"), "post");
        assert_eq!(exec["x-kubernetes-action"], "connect");
        assert_eq!(exec["operationId"], "connectCoreV1PostNamespacedPodExec");
        assert_eq!(
            exec["x-kubernetes-group-version-kind"]["kind"],
            "PodExecOptions"
        );
        assert!(param_names(&exec).contains("command"));
        // Pod DELETE answers with the Pod, as upstream's pod registry does.
        assert_eq!(
            op(pod, "delete")["responses"]["200"]["content"]["application/json"]["schema"]["$ref"],
            format!("{SCHEMA_PREFIX}io.k8s.api.core.v1.Pod")
        );
        let apps = parsed(&openapi, "apis/apps/v1");
        let scale = &apps["paths"]["/apis/apps/v1/namespaces/{namespace}/deployments/{name}/scale"];
        assert_eq!(
            scale["patch"]["x-kubernetes-group-version-kind"],
            json!({"group": "autoscaling", "kind": "Scale", "version": "v1"})
        );
        assert_eq!(
            scale["put"]["operationId"],
            "replaceAppsV1NamespacedDeploymentScale"
        );
        assert_eq!(
            scale["get"]["responses"]["200"]["content"]["application/json"]["schema"]["$ref"],
            format!("{SCHEMA_PREFIX}io.k8s.api.autoscaling.v1.Scale")
        );
        let rbac = parsed(&openapi, "apis/rbac.authorization.k8s.io/v1");
        assert_eq!(
            rbac["paths"]["/apis/rbac.authorization.k8s.io/v1/clusterroles"]["get"]["tags"],
            json!(["rbacAuthorization_v1"])
        );
        assert_eq!(
            rbac["paths"]["/apis/rbac.authorization.k8s.io/v1/clusterroles"]["get"]["operationId"],
            "listRbacAuthorizationV1ClusterRole"
        );
    }

    #[test]
    fn subresources_whose_kind_the_scheme_lacks_are_left_out() {
        let mut scheme = Scheme::new();
        scheme.register::<apps::v1::Deployment>();
        let deployments = OpenApiResource {
            resource: apps::v1::Deployment::api_resource(),
            verbs: strings(ALL_VERBS),
            subresources: strings(&["status", "scale"]),
        };
        let openapi = OpenApi::build(&scheme, &[deployments]);
        let doc = parsed(&openapi, "apis/apps/v1");
        let item = "/apis/apps/v1/namespaces/{namespace}/deployments/{name}";
        assert!(doc["paths"].get(format!("{item}/status")).is_some());
        assert!(doc["paths"].get(format!("{item}/scale")).is_none());
        assert!(check_document(&doc).is_empty());
    }

    #[test]
    fn custom_resources_get_an_open_schema_without_strategic_merge_patches() {
        let widgets = OpenApiResource {
            resource: ApiResource::new("example.com/v1", "Widget", "widgets", Scope::Namespaced),
            verbs: strings(ALL_VERBS),
            subresources: strings(&["status"]),
        };
        let openapi = OpenApi::build(&Scheme::builtin(), &[widgets]);
        let doc = parsed(&openapi, "apis/example.com/v1");
        assert!(
            check_document(&doc).is_empty(),
            "{:?}",
            check_document(&doc)
        );
        let widget = &doc["components"]["schemas"]["com.example.v1.Widget"];
        assert_eq!(widget["x-kubernetes-preserve-unknown-fields"], true);
        assert_eq!(
            widget["x-kubernetes-group-version-kind"],
            json!([{"group": "example.com", "kind": "Widget", "version": "v1"}])
        );
        assert!(
            doc["components"]["schemas"]
                .get("com.example.v1.WidgetList")
                .is_some()
        );
        for path in [
            "/apis/example.com/v1/namespaces/{namespace}/widgets/{name}",
            "/apis/example.com/v1/namespaces/{namespace}/widgets/{name}/status",
        ] {
            let patch = &doc["paths"][path]["patch"];
            assert!(param_names(patch).contains("fieldValidation"));
            let content = patch["requestBody"]["content"].as_object().unwrap();
            assert!(
                !content.contains_key("application/strategic-merge-patch+json"),
                "{path}"
            );
            assert!(content.contains_key("application/merge-patch+json"));
        }
    }

    #[test]
    fn documents_and_hashes_are_stable_and_follow_the_content() {
        let (scheme, resources, first) = built();
        let second = OpenApi::build(&scheme, &resources);
        assert_eq!(first.index(), second.index());
        for (path, _) in all_documents(&first) {
            assert_eq!(first.document(&path), second.document(&path));
        }
        let fewer: Vec<OpenApiResource> = resources
            .iter()
            .filter(|r| r.resource.kind != "ConfigMap")
            .cloned()
            .collect();
        let third = OpenApi::build(&scheme, &fewer);
        assert_ne!(
            first.document("api/v1").unwrap().1,
            third.document("api/v1").unwrap().1
        );
        assert_eq!(
            first.document("apis/apps/v1").unwrap().1,
            third.document("apis/apps/v1").unwrap().1
        );
    }

    #[test]
    fn fnv1a_128_matches_the_reference_vectors() {
        assert_eq!(fnv1a_128_hex(b""), "6C62272E07BB014262B821756295C58D");
        assert_eq!(fnv1a_128_hex(b"a"), "D228CB696F1A8CAF78912B704E4A8964");
        assert_eq!(fnv1a_128_hex(b"foobar"), "343E1662793C64BF6F0D3597BA446F18");
    }

    #[test]
    fn group_version_names_follow_upstream_operation_ids_and_tags() {
        for (group, operation, tag) in [
            ("", "CoreV1", "core_v1"),
            ("apps", "AppsV1", "apps_v1"),
            ("networking.k8s.io", "NetworkingV1", "networking_v1"),
            (
                "rbac.authorization.k8s.io",
                "RbacAuthorizationV1",
                "rbacAuthorization_v1",
            ),
            ("example.com", "ExampleComV1", "exampleCom_v1"),
        ] {
            let names = GroupVersionNames::new(group, "v1");
            assert_eq!(
                (names.operation.as_str(), names.tag.as_str()),
                (operation, tag)
            );
        }
    }

    fn config_maps_only() -> &'static OpenApi {
        static OPENAPI: std::sync::OnceLock<OpenApi> = std::sync::OnceLock::new();
        OPENAPI.get_or_init(|| {
            let config_maps = OpenApiResource {
                resource: ApiResource::of::<core::v1::ConfigMap>(),
                verbs: strings(&["get"]),
                subresources: Vec::new(),
            };
            OpenApi::build(&Scheme::builtin(), &[config_maps])
        })
    }

    proptest! {
        #[test]
        fn document_lookup_never_panics(path in "/?[a-z/.]{0,20}|.{0,40}") {
            let found = config_maps_only().document(&path).is_some();
            prop_assert_eq!(found, path == "api/v1" || path == "/api/v1");
        }

        #[test]
        fn description_cleaning_never_panics(text in "[\\[\\]()`a-z: \n]{0,60}") {
            let cleaned = clean_description(&text);
            prop_assert!(cleaned.len() <= text.len());
            prop_assert!(!cleaned.contains("Upstream definition:\n"));
        }
    }
}
