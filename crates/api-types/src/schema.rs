//! JSON Schemas for every kind, from `schemars`, carrying the Kubernetes extensions
//! (`x-kubernetes-group-version-kind`, `x-kubernetes-patch-merge-key`,
//! `x-kubernetes-patch-strategy`, `x-kubernetes-list-type`, `x-kubernetes-list-map-keys`,
//! `x-kubernetes-map-type`, `x-kubernetes-int-or-string`).
//!
//! ```
//! use kubernaut_api_types::{core::v1::Pod, schema};
//!
//! let root = schema::root_schema_for::<Pod>();
//! let containers = schema::property(&root, &["spec", "containers"]).unwrap();
//! assert_eq!(containers["x-kubernetes-patch-merge-key"], "name");
//! ```

use schemars::{JsonSchema, Schema, SchemaGenerator, generate::SchemaSettings};
use serde_json::{Map, Value};

/// Adds `apiVersion` and `kind` properties to the schema of a top-level object, from its
/// `x-kubernetes-group-version-kind` extension.
pub(crate) fn add_type_meta(schema: &mut Schema) {
    let Some(obj) = schema.as_object_mut() else {
        return;
    };
    let props = obj
        .entry("properties")
        .or_insert_with(|| Value::Object(Map::new()))
        .as_object_mut();
    if let Some(props) = props {
        props.insert("apiVersion".into(), serde_json::json!({"type": "string"}));
        props.insert("kind".into(), serde_json::json!({"type": "string"}));
    }
}

/// Makes required-ness and defaults follow upstream: drops the default values schemars records
/// for fields that deserialize with a default, and an empty `required` list.
pub(crate) fn tidy(schema: &mut Schema) {
    let Some(obj) = schema.as_object_mut() else {
        return;
    };
    if let Some(Value::Object(props)) = obj.get_mut("properties") {
        for prop in props.values_mut() {
            if let Some(p) = prop.as_object_mut() {
                p.remove("default");
            }
        }
    }
    if matches!(obj.get("required"), Some(Value::Array(a)) if a.is_empty()) {
        obj.remove("required");
    }
}

/// The generator settings kubernaut uses: JSON Schema draft 2020-12, definitions under `$defs`.
pub fn settings() -> SchemaSettings {
    SchemaSettings::draft2020_12()
}

/// The schema of `T` with every type it uses under `$defs`.
pub fn root_schema_for<T: JsonSchema>() -> Schema {
    SchemaGenerator::new(settings()).into_root_schema_for::<T>()
}

/// Follows `path` (property names) from the root of `schema`, resolving `$ref`s, `Option`
/// wrappers (`anyOf` with `null`) and array items, and returns the property's schema.
pub fn property<'a>(schema: &'a Schema, path: &[&str]) -> Option<&'a Value> {
    let root = schema.as_value();
    let mut cur = resolve(root, root)?;
    for name in path {
        let mut node = resolve(root, cur)?;
        if let Some(items) = node.get("items") {
            node = resolve(root, items)?;
        }
        cur = node.get("properties")?.get(*name)?;
    }
    Some(cur)
}

/// Resolves `$ref` and `anyOf: [X, null]` down to the schema they stand for.
pub fn resolve<'a>(root: &'a Value, mut node: &'a Value) -> Option<&'a Value> {
    for _ in 0..64 {
        if let Some(r) = node.get("$ref").and_then(Value::as_str) {
            let name = r.rsplit('/').next()?;
            node = root.get("$defs")?.get(name)?;
        } else if let Some(Value::Array(any)) = node.get("anyOf") {
            let non_null: Vec<&Value> = any
                .iter()
                .filter(|s| s.get("type") != Some(&Value::from("null")))
                .collect();
            match non_null.as_slice() {
                [one] if node.get("x-kubernetes-int-or-string").is_none() => node = one,
                _ => return Some(node),
            }
        } else {
            return Some(node);
        }
    }
    None
}
