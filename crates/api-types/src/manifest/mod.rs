//! Manifest loading: multi-document YAML (or JSON) into typed objects or [`DynamicObject`]s,
//! with YAML errors at line and column, type errors at their field path, and unknown fields
//! reported with their paths (what `fieldValidation=Strict` rejects).
//!
//! ```
//! use kubernaut_api_types::{core::v1::Pod, manifest};
//!
//! let docs = manifest::parse_documents("kind: Pod\napiVersion: v1\nmetadata: {name: p}\nspec: {colour: red}\n")?;
//! let decoded = manifest::from_value::<Pod>(&docs[0].value)?;
//! assert_eq!(decoded.unknown_fields, ["spec.colour"]);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! [`DynamicObject`]: crate::DynamicObject

pub mod yaml;

use std::fmt::Write as _;

use serde::de::DeserializeOwned;

pub use yaml::{Document, Documents, Position, YamlError, documents, parse_documents};

/// A decoded object and the fields of the input that its type does not have.
#[derive(Clone, Debug, PartialEq)]
pub struct Decoded<K> {
    /// The object.
    pub object: K,
    /// Paths of input fields the type does not know (`spec.containers[0].colour`), in input
    /// order. Lenient decoding drops them; strict decoding rejects the object.
    pub unknown_fields: Vec<String>,
}

impl<K> Decoded<K> {
    /// Transforms the object, keeping the unknown fields.
    pub fn map<T>(self, f: impl FnOnce(K) -> T) -> Decoded<T> {
        Decoded {
            object: f(self.object),
            unknown_fields: self.unknown_fields,
        }
    }

    /// The object, or an error naming every unknown field (upstream's strict decoding error).
    ///
    /// # Errors
    /// [`DecodeError::UnknownFields`] when the input had fields the type does not know.
    pub fn strict(self) -> Result<K, DecodeError> {
        if self.unknown_fields.is_empty() {
            Ok(self.object)
        } else {
            Err(DecodeError::UnknownFields(self.unknown_fields))
        }
    }
}

/// Why a document could not be decoded into a type.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// A value has the wrong type or syntax; `path` is where (`spec.replicas`).
    #[error("{}{message}", if path.is_empty() { String::new() } else { format!("{path}: ") })]
    Invalid {
        /// Field path of the offending value; empty for the document itself.
        path: String,
        /// What is wrong.
        message: String,
    },
    /// Strict decoding found fields the type does not have.
    #[error("strict decoding error: {}", unknown_list(.0))]
    UnknownFields(Vec<String>),
}

fn unknown_list(fields: &[String]) -> String {
    let mut s = String::new();
    for (i, f) in fields.iter().enumerate() {
        if i > 0 {
            s.push_str(", ");
        }
        let _ = write!(s, "unknown field {f:?}");
    }
    s
}

/// Decodes a JSON value into `K`, collecting unknown fields instead of failing on them.
///
/// # Errors
/// [`DecodeError::Invalid`] with the field path when a value does not fit its field.
pub fn from_value<K: DeserializeOwned>(
    value: &serde_json::Value,
) -> Result<Decoded<K>, DecodeError> {
    decode_with(value)
}

/// Decodes JSON text into `K`, collecting unknown fields instead of failing on them.
///
/// # Errors
/// [`DecodeError::Invalid`] for malformed JSON or a value that does not fit its field.
pub fn from_json_slice<K: DeserializeOwned>(bytes: &[u8]) -> Result<Decoded<K>, DecodeError> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let decoded = decode_with(&mut de)?;
    de.end().map_err(|e| DecodeError::Invalid {
        path: String::new(),
        message: e.to_string(),
    })?;
    Ok(decoded)
}

fn decode_with<'de, D, K>(deserializer: D) -> Result<Decoded<K>, DecodeError>
where
    D: serde::Deserializer<'de>,
    D::Error: std::fmt::Display,
    K: DeserializeOwned,
{
    let mut track = serde_path_to_error::Track::new();
    let mut unknown_fields = Vec::new();
    let tracked = serde_path_to_error::Deserializer::new(deserializer, &mut track);
    // One callback type for every `K`: with a closure type per call site, serde would
    // instantiate every nested type's decoder once per top-level kind.
    let mut record = |path: serde_ignored::Path<'_>| unknown_fields.push(ignored_path(&path));
    let record: &mut dyn FnMut(serde_ignored::Path<'_>) = &mut record;
    let result = serde_ignored::deserialize(tracked, record);
    match result {
        Ok(object) => Ok(Decoded {
            object,
            unknown_fields,
        }),
        Err(e) => Err(DecodeError::Invalid {
            path: tracked_path(&track.path()),
            message: e.to_string(),
        }),
    }
}

/// Renders a path from `serde_path_to_error` as a Kubernetes field path.
fn tracked_path(path: &serde_path_to_error::Path) -> String {
    use serde_path_to_error::Segment;
    let mut s = String::new();
    for seg in path.iter() {
        match seg {
            Segment::Seq { index } => {
                let _ = write!(s, "[{index}]");
            }
            Segment::Map { key } => push_key(&mut s, key),
            Segment::Enum { variant } => push_key(&mut s, variant),
            Segment::Unknown => {}
        }
    }
    s
}

/// Renders a path from `serde_ignored` as a Kubernetes field path.
fn ignored_path(path: &serde_ignored::Path<'_>) -> String {
    use serde_ignored::Path as P;
    let mut s = match path {
        P::Root => return String::new(),
        P::Seq { parent, .. }
        | P::Map { parent, .. }
        | P::Some { parent }
        | P::NewtypeStruct { parent }
        | P::NewtypeVariant { parent } => ignored_path(parent),
    };
    match path {
        P::Seq { index, .. } => {
            let _ = write!(s, "[{index}]");
        }
        P::Map { key, .. } => push_key(&mut s, key),
        _ => {}
    }
    s
}

fn push_key(s: &mut String, key: &str) {
    if !s.is_empty() {
        s.push('.');
    }
    s.push_str(key);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::apps::v1::Deployment;
    use crate::core::v1::Pod;
    use serde_json::json;

    #[test]
    fn unknown_fields_are_reported_with_their_paths() {
        let v = json!({
            "apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "colour": "red"},
            "spec": {"containers": [{"name": "a", "image": "x"}, {"name": "b", "imag": "y"}]},
        });
        let d = from_value::<Pod>(&v).unwrap();
        assert_eq!(
            d.unknown_fields,
            ["metadata.colour", "spec.containers[1].imag"]
        );
        let err = d.strict().unwrap_err();
        assert_eq!(
            err.to_string(),
            r#"strict decoding error: unknown field "metadata.colour", unknown field "spec.containers[1].imag""#
        );
    }

    #[test]
    fn type_errors_name_the_field() {
        let v = json!({"kind": "Deployment", "apiVersion": "apps/v1", "spec": {"replicas": "3"}});
        let err = from_value::<Deployment>(&v).unwrap_err();
        let DecodeError::Invalid { path, message } = &err else {
            panic!("{err:?}")
        };
        assert_eq!(path, "spec.replicas");
        assert!(message.contains("invalid type: string \"3\""), "{message}");
        let v = json!({"kind": "Pod", "spec": {"containers": [{"name": "a", "ports": [{"containerPort": 1.5}]}]}});
        let err = from_value::<Pod>(&v).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("spec.containers[0].ports[0].containerPort: "),
            "{err}"
        );
    }

    #[test]
    fn kind_and_api_version_must_match_the_type() {
        let v = json!({"kind": "Service", "apiVersion": "v1"});
        assert!(
            from_value::<Pod>(&v)
                .unwrap_err()
                .to_string()
                .contains("kind")
        );
        let v = json!({"kind": "Pod", "apiVersion": "apps/v1"});
        assert!(
            from_value::<Pod>(&v)
                .unwrap_err()
                .to_string()
                .contains("apiVersion")
        );
    }

    #[test]
    fn json_text_decodes_the_same_way() {
        let text =
            br#"{"kind":"Pod","apiVersion":"v1","metadata":{"name":"p"},"spec":{"nodeNme":"n"}}"#;
        let d = from_json_slice::<Pod>(text).unwrap();
        assert_eq!(d.unknown_fields, ["spec.nodeNme"]);
        assert!(from_json_slice::<Pod>(b"{\"kind\":\"Pod\"} trailing").is_err());
        assert!(from_json_slice::<Pod>(b"[1,2]").is_err());
    }

    #[test]
    fn null_is_the_zero_value_like_go() {
        let v = json!({"kind": "Pod", "metadata": null, "spec": {"containers": [{"name": null, "image": "x"}]}});
        let p = from_value::<Pod>(&v).unwrap().object;
        assert_eq!(p.spec.unwrap().containers[0].name, "");
    }
}
