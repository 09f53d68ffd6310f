//! Serde round trip of every kind on generated values: random JSON documents are generated from
//! each kind's JSON Schema (so every field of every kind gets exercised), decoded, re-encoded
//! and decoded again. The re-encoding must equal the input and the two decodings must be equal.

use kubernaut_api_types::schema::resolve;
use kubernaut_api_types::scheme::{Decoded, Scheme};
use proptest::prelude::*;
use serde_json::{Map, Value, json};

/// A small deterministic generator (SplitMix64) driven by a proptest seed.
struct Gen {
    state: u64,
}

impl Gen {
    fn next(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }
}

const WORDS: &[&str] = &[
    "",
    "a",
    "web",
    "app.kubernetes.io/name",
    "x y",
    "ünïcode",
    "10.0.0.1",
    "-",
];
const QUANTITIES: &[&str] = &[
    "0", "1", "100m", "1500m", "64Mi", "1Gi", "2k", "1e3", "-5", "12n",
];
const TIMES: &[&str] = &["2024-05-01T10:30:00Z", "1999-12-31T23:59:59Z"];

fn types(node: &Value) -> Vec<String> {
    match node.get("type") {
        Some(Value::String(s)) => vec![s.clone()],
        Some(Value::Array(a)) => a
            .iter()
            .filter_map(Value::as_str)
            .filter(|t| *t != "null")
            .map(str::to_owned)
            .collect(),
        _ => Vec::new(),
    }
}

fn generate(root: &Value, node: &Value, g: &mut Gen, depth: usize) -> Value {
    let Some(node) = resolve(root, node) else {
        return Value::Null;
    };
    if node.get("x-kubernetes-int-or-string").is_some() {
        let is_quantity = node
            .get("anyOf")
            .is_some_and(|a| a.to_string().contains("pattern"));
        return if is_quantity {
            json!(g.pick(QUANTITIES))
        } else if g.chance(50) {
            json!(g.below(65536))
        } else {
            json!(g.pick(&["http", "25%", "metrics"]))
        };
    }
    let t = types(node);
    match t.first().map(String::as_str) {
        Some("object") => {
            let mut out = Map::new();
            if let Some(props) = node.get("properties").and_then(Value::as_object) {
                let required: Vec<&str> = node
                    .get("required")
                    .and_then(Value::as_array)
                    .map(|a| a.iter().filter_map(Value::as_str).collect())
                    .unwrap_or_default();
                // A typed object (the document, or one embedded like a StatefulSet's claim
                // templates) carries its own apiVersion and kind.
                if let Some(gvk) = node
                    .get("x-kubernetes-group-version-kind")
                    .and_then(|g| g.get(0))
                {
                    let (group, version) = (
                        gvk["group"].as_str().unwrap_or(""),
                        gvk["version"].as_str().unwrap_or(""),
                    );
                    let api_version = if group.is_empty() {
                        version.to_owned()
                    } else {
                        format!("{group}/{version}")
                    };
                    out.insert("apiVersion".into(), json!(api_version));
                    out.insert("kind".into(), gvk["kind"].clone());
                }
                for (name, prop) in props {
                    if out.contains_key(name) {
                        continue;
                    }
                    let include = required.contains(&name.as_str()) || (depth < 7 && g.chance(45));
                    if include {
                        out.insert(name.clone(), generate(root, prop, g, depth + 1));
                    }
                }
            } else if let Some(ap) = node.get("additionalProperties").filter(|v| v.is_object()) {
                for _ in 0..g.below(3) {
                    let key = format!("k{}", g.below(1000));
                    out.insert(key, generate(root, ap, g, depth + 1));
                }
            } else if g.chance(50) {
                // Free-form JSON (FieldsV1, RawExtension).
                out.insert("f:spec".into(), json!({"f:replicas": {}}));
            }
            Value::Object(out)
        }
        Some("array") => {
            let n = if depth < 7 { g.below(3) } else { 0 };
            let items = node.get("items").cloned().unwrap_or(Value::Null);
            Value::Array(
                (0..n)
                    .map(|_| generate(root, &items, g, depth + 1))
                    .collect(),
            )
        }
        Some("string") => match node.get("format").and_then(Value::as_str) {
            Some("date-time") => json!(g.pick(TIMES)),
            Some("byte") => json!(g.pick(&["", "YWRtaW4=", "AAEC/w=="])),
            _ => json!(g.pick(WORDS)),
        },
        Some("integer") => match node.get("format").and_then(Value::as_str) {
            Some("int32") => json!(g.next() as i32),
            _ => json!(g.next() as i64),
        },
        Some("number") => json!(g.pick(&[0.5, -2.25, 1e10, 3.0])),
        Some("boolean") => json!(g.chance(50)),
        _ => Value::Null,
    }
}

/// Equality with timestamps compared as instants (Time and MicroTime spell the same instant
/// differently), and an absent member equal to an empty object (struct-valued fields such as
/// `metadata` are always written, as Go writes them).
fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            let empty = Value::Object(Map::new());
            let get = |m: &Map<String, Value>, k: &str| m.get(k).cloned().unwrap_or(Value::Null);
            x.keys().chain(y.keys()).all(|k| {
                let (v, w) = (get(x, k), get(y, k));
                same(&v, &w) || (v.is_null() && w == empty)
            })
        }
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(v, w)| same(v, w))
        }
        (Value::String(x), Value::String(y)) if x != y => {
            match (
                chrono::DateTime::parse_from_rfc3339(x),
                chrono::DateTime::parse_from_rfc3339(y),
            ) {
                (Ok(p), Ok(q)) => p == q,
                _ => false,
            }
        }
        _ => a == b,
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, .. ProptestConfig::default() })]

    #[test]
    fn every_kind_round_trips_generated_values(seed in any::<u64>()) {
        let scheme = Scheme::builtin();
        let mut kinds: Vec<_> = scheme.resources().cloned().collect();
        kinds.sort_by(|a, b| (&a.api_version, &a.kind).cmp(&(&b.api_version, &b.kind)));
        let mut g = Gen { state: seed };
        for api in kinds {
            let schema = serde_json::to_value(scheme.schema(&api.api_version, &api.kind).unwrap()).unwrap();
            let mut doc = generate(&schema, &schema, &mut g, 0);
            doc["apiVersion"] = json!(api.api_version);
            doc["kind"] = json!(api.kind);
            let Decoded::Known(first) = scheme.decode(&doc).map_err(|e| TestCaseError::fail(format!("{}: {e}\n{doc}", api.kind)))? else {
                return Err(TestCaseError::fail("registered kind decoded as unknown"));
            };
            prop_assert!(first.unknown_fields.is_empty(), "{}: {:?}", api.kind, first.unknown_fields);
            let encoded = first.object.to_json();
            prop_assert!(same(&doc, &encoded), "{}:\n in: {doc}\nout: {encoded}", api.kind);
            let Decoded::Known(second) = scheme.decode(&encoded).unwrap() else { unreachable!() };
            prop_assert_eq!(second.object.to_json(), encoded);
        }
    }
}
