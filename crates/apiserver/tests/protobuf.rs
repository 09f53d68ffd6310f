//! The protobuf bodies real kubectl 1.32 commands send decode to exactly the JSON the same
//! commands send as JSON (kubectl 1.31, or 1.32's own `--dry-run=client -o json` for the RBAC
//! objects kubectl always sends as protobuf). The bodies were captured on the wire by
//! `tests/fixtures/protobuf/capture.py`.

use std::fs;
use std::path::{Path, PathBuf};

use kubernaut_api_types::scheme::Scheme;
use kubernaut_apiserver::protobuf::{MAGIC, ProtobufError, decode};
use serde_json::Value;

fn fixtures() -> Vec<(String, Vec<u8>, Value)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/protobuf");
    let mut paths: Vec<PathBuf> = fs::read_dir(&dir)
        .expect("the fixture directory")
        .map(|e| e.expect("a directory entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "pb"))
        .collect();
    paths.sort();
    paths
        .into_iter()
        .map(|pb| {
            let name = pb
                .file_stem()
                .and_then(|s| s.to_str())
                .unwrap_or_default()
                .to_owned();
            let body = fs::read(&pb).expect("the protobuf body");
            let json = fs::read_to_string(pb.with_extension("json")).expect("the expected json");
            let json = serde_json::from_str(&json).expect("the expected json parses");
            (name, body, json)
        })
        .collect()
}

#[test]
fn kubectl_protobuf_bodies_decode_to_the_json_kubectl_sends() {
    let fixtures = fixtures();
    assert_eq!(fixtures.len(), 27, "one fixture per command of capture.py");
    let mut failures = Vec::new();
    for (name, body, want) in &fixtures {
        assert!(body.starts_with(&MAGIC), "{name}: a protobuf body");
        match decode(body) {
            Ok(got) if got == *want => {}
            Ok(got) => failures.push(format!(
                "{name}:\n  got  {}\n  want {}",
                serde_json::to_string(&got).unwrap_or_default(),
                serde_json::to_string(want).unwrap_or_default()
            )),
            Err(e) => failures.push(format!("{name}: {e}")),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Every name in `value` is a property of `schema` (resolving `$ref`s, optional wrappers,
/// array items and map values), collected as JSON paths.
fn unknown_fields(root: &Value, schema: &Value, value: &Value, path: &str, out: &mut Vec<String>) {
    use kubernaut_api_types::schema::resolve;
    let Some(schema) = resolve(root, schema) else {
        out.push(format!("{path}: unresolvable schema"));
        return;
    };
    match value {
        Value::Object(object) => {
            if let Some(properties) = schema.get("properties").and_then(Value::as_object) {
                for (key, child) in object {
                    match properties.get(key) {
                        Some(s) => unknown_fields(root, s, child, &format!("{path}.{key}"), out),
                        None => out.push(format!("{path}.{key}")),
                    }
                }
            } else if let Some(values) = schema.get("additionalProperties") {
                for (key, child) in object {
                    unknown_fields(root, values, child, &format!("{path}[{key}]"), out);
                }
            }
        }
        Value::Array(items) => {
            if let Some(item) = schema.get("items") {
                for (i, child) in items.iter().enumerate() {
                    unknown_fields(root, item, child, &format!("{path}[{i}]"), out);
                }
            }
        }
        _ => {}
    }
}

/// Fields kubernaut-api-types does not model yet: its spec trimming drops every property named
/// `description` along with the descriptions (PriorityClass.description is a real field).
const KNOWN_SCHEMA_GAPS: &[&str] = &["priorityclass.description"];

#[test]
fn decoded_kubectl_bodies_use_only_fields_the_schemas_know() {
    let scheme = Scheme::builtin();
    let mut checked = 0;
    let mut failures = Vec::new();
    for (name, body, _) in fixtures() {
        let decoded = match decode(&body) {
            Ok(decoded) => decoded,
            Err(e) => panic!("{name}: {e}"),
        };
        let api_version = decoded["apiVersion"].as_str().unwrap_or_default();
        let kind = decoded["kind"].as_str().unwrap_or_default();
        let schema = match (api_version, kind) {
            (_, "DeleteOptions") => Some(kubernaut_api_types::schema::root_schema_for::<
                kubernaut_api_types::meta::DeleteOptions,
            >()),
            _ => scheme.schema(api_version, kind),
        };
        // TokenRequest, SelfSubjectAccessReview and HorizontalPodAutoscaler are not modelled by
        // kubernaut-api-types yet; the exact comparison above covers them.
        let Some(schema) = schema else { continue };
        checked += 1;
        let root = schema.as_value();
        unknown_fields(root, root, &decoded, &name, &mut failures);
    }
    assert!(checked >= 20, "only {checked} fixtures have a schema");
    failures.retain(|f| !KNOWN_SCHEMA_GAPS.contains(&f.as_str()));
    assert!(failures.is_empty(), "fields no schema knows: {failures:?}");
}

#[test]
fn decoded_kubectl_bodies_load_into_the_typed_objects_of_the_json_path() {
    use kubernaut_api_types::scheme::Decoded;
    let scheme = Scheme::builtin();
    let mut loaded = 0;
    let mut failures = Vec::new();
    for (name, body, _) in fixtures() {
        let decoded = match decode(&body) {
            Ok(decoded) => decoded,
            Err(e) => panic!("{name}: {e}"),
        };
        match scheme.decode(&decoded) {
            Ok(Decoded::Known(typed)) => {
                loaded += 1;
                let unknown: Vec<_> = typed
                    .unknown_fields
                    .iter()
                    .map(|f| format!("{name}.{f}"))
                    .filter(|f| !KNOWN_SCHEMA_GAPS.contains(&f.as_str()))
                    .collect();
                if !unknown.is_empty() {
                    failures.push(format!("{name}: unknown fields {unknown:?}"));
                }
            }
            Ok(Decoded::Unknown(_)) => {}
            Err(e) => failures.push(format!("{name}: {e}")),
        }
    }
    assert!(loaded >= 20, "only {loaded} fixtures are of modelled kinds");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn a_json_body_is_not_mistaken_for_protobuf() {
    assert!(matches!(
        decode(br#"{"kind":"Namespace"}"#),
        Err(ProtobufError::BadMagic)
    ));
}
