//! Objects as the server handles them: JSON values, their stored encoding (metadata first, no
//! `resourceVersion`: the store's revision is the resource version), and the cheap splice that
//! puts the resource version back when an object is read.

use bytes::Bytes;
use serde_json::{Map, Value};

/// The metadata of a JSON object, if it has an object there.
pub fn meta(object: &Value) -> Option<&Map<String, Value>> {
    object.get("metadata")?.as_object()
}

/// The metadata of a JSON object, created empty when missing or not an object.
pub fn meta_mut(object: &mut Value) -> &mut Map<String, Value> {
    if !object.is_object() {
        *object = Value::Object(Map::new());
    }
    let Value::Object(map) = object else {
        unreachable!("made an object above")
    };
    let entry = map
        .entry("metadata")
        .or_insert_with(|| Value::Object(Map::new()));
    if !entry.is_object() {
        *entry = Value::Object(Map::new());
    }
    match entry {
        Value::Object(m) => m,
        _ => unreachable!("made an object above"),
    }
}

/// A string field of the metadata.
pub fn meta_str<'a>(object: &'a Value, field: &str) -> Option<&'a str> {
    meta(object)?.get(field)?.as_str()
}

/// `metadata.name` (empty when unset).
pub fn name(object: &Value) -> &str {
    meta_str(object, "name").unwrap_or("")
}

/// `metadata.namespace`, when set and not empty.
pub fn namespace(object: &Value) -> Option<&str> {
    meta_str(object, "namespace").filter(|s| !s.is_empty())
}

/// `metadata.finalizers`.
pub fn finalizers(object: &Value) -> Vec<String> {
    meta(object)
        .and_then(|m| m.get("finalizers"))
        .and_then(Value::as_array)
        .map(|list| {
            list.iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
}

/// `metadata.labels` as pairs.
pub fn labels(object: &Value) -> std::collections::BTreeMap<String, String> {
    meta(object)
        .and_then(|m| m.get("labels"))
        .and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_owned())))
                .collect()
        })
        .unwrap_or_default()
}

/// The value at a path of object keys.
pub fn get_path<'a>(object: &'a Value, path: &[&str]) -> Option<&'a Value> {
    path.iter().try_fold(object, |node, key| node.get(*key))
}

/// Sets the value at a path of object keys, creating objects on the way.
pub fn set_path(object: &mut Value, path: &[&str], value: Value) {
    let Some((last, parents)) = path.split_last() else {
        *object = value;
        return;
    };
    let mut node = object;
    for key in parents {
        if !node.is_object() {
            *node = Value::Object(Map::new());
        }
        let Value::Object(map) = node else {
            unreachable!("made an object above")
        };
        node = map
            .entry((*key).to_owned())
            .or_insert_with(|| Value::Object(Map::new()));
    }
    if !node.is_object() {
        *node = Value::Object(Map::new());
    }
    if let Value::Object(map) = node {
        map.insert((*last).to_owned(), value);
    }
}

/// The stored encoding of an object: `apiVersion`, `kind` and `metadata` first (so that
/// [`with_resource_version`] finds the metadata without parsing), `metadata.resourceVersion`
/// left out, every other member after.
pub fn encode_for_storage(object: &Value) -> Vec<u8> {
    let mut out = Vec::with_capacity(512);
    let Value::Object(map) = object else {
        // Objects are always maps; anything else is stored as is.
        return serde_json::to_vec(object).unwrap_or_default();
    };
    out.push(b'{');
    let mut first = true;
    let mut member = |out: &mut Vec<u8>, key: &str, value: &Value| {
        if !first {
            out.push(b',');
        }
        first = false;
        // Writing into a Vec cannot fail, and every key is a string.
        let _ = serde_json::to_writer(&mut *out, key);
        out.push(b':');
        let _ = serde_json::to_writer(&mut *out, value);
    };
    for key in ["apiVersion", "kind"] {
        if let Some(v) = map.get(key) {
            member(&mut out, key, v);
        }
    }
    let mut metadata = map
        .get("metadata")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    metadata.remove("resourceVersion");
    member(&mut out, "metadata", &Value::Object(metadata));
    for (key, value) in map {
        if !matches!(key.as_str(), "apiVersion" | "kind" | "metadata") {
            member(&mut out, key, value);
        }
    }
    out.push(b'}');
    out
}

/// The JSON an API client gets for a stored object: the stored bytes with
/// `metadata.resourceVersion` set to `revision`. Stored bytes written by
/// [`encode_for_storage`] take a splice; anything else is parsed and re-encoded.
pub fn with_resource_version(stored: &[u8], revision: i64) -> Bytes {
    if let Some(at) = metadata_start(stored) {
        let rv = format!("\"resourceVersion\":\"{revision}\"");
        let empty = stored.get(at) == Some(&b'}');
        let mut out = Vec::with_capacity(stored.len() + rv.len() + 1);
        out.extend_from_slice(&stored[..at]);
        out.extend_from_slice(rv.as_bytes());
        if !empty {
            out.push(b',');
        }
        out.extend_from_slice(&stored[at..]);
        return Bytes::from(out);
    }
    match serde_json::from_slice::<Value>(stored) {
        Ok(mut v) => {
            meta_mut(&mut v).insert(
                "resourceVersion".to_owned(),
                Value::String(revision.to_string()),
            );
            Bytes::from(serde_json::to_vec(&v).unwrap_or_default())
        }
        Err(_) => Bytes::copy_from_slice(stored),
    }
}

/// Parses a stored object and sets its resource version.
///
/// # Errors
/// When the stored bytes are not JSON (damage, or another writer).
pub fn decode_stored(stored: &[u8], revision: i64) -> Result<Value, serde_json::Error> {
    let mut v: Value = serde_json::from_slice(stored)?;
    meta_mut(&mut v).insert(
        "resourceVersion".to_owned(),
        Value::String(revision.to_string()),
    );
    Ok(v)
}

/// The offset just inside `"metadata":{` when `bytes` start as [`encode_for_storage`] writes
/// them: `{"apiVersion":"..","kind":"..","metadata":{`.
fn metadata_start(bytes: &[u8]) -> Option<usize> {
    let mut at = 0;
    let expect = |at: &mut usize, lit: &[u8]| -> Option<()> {
        bytes.get(*at..*at + lit.len()).filter(|s| *s == lit)?;
        *at += lit.len();
        Some(())
    };
    expect(&mut at, b"{")?;
    for key in [&b"\"apiVersion\":"[..], &b"\"kind\":"[..]] {
        if expect(&mut at, key).is_some() {
            at = skip_string(bytes, at)?;
            expect(&mut at, b",")?;
        }
    }
    expect(&mut at, b"\"metadata\":{")?;
    Some(at)
}

/// The offset after the JSON string starting at `at`.
fn skip_string(bytes: &[u8], mut at: usize) -> Option<usize> {
    if bytes.get(at) != Some(&b'"') {
        return None;
    }
    at += 1;
    loop {
        match bytes.get(at)? {
            b'\\' => at += 2,
            b'"' => return Some(at + 1),
            _ => at += 1,
        }
    }
}

/// Base-62-free name suffix alphabet upstream uses for `generateName` (no vowels, no
/// look-alikes).
const NAME_ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";

/// `prefix` followed by five random characters, as upstream's `SimpleNameGenerator`.
pub fn generate_name(prefix: &str) -> String {
    let mut random = [0u8; 5];
    fill_random(&mut random);
    let mut name = prefix.to_owned();
    for b in random {
        name.push(char::from(
            NAME_ALPHABET[usize::from(b) % NAME_ALPHABET.len()],
        ));
    }
    name
}

/// A random (version 4) UUID, as upstream gives every object.
pub fn new_uid() -> String {
    let mut b = [0u8; 16];
    fill_random(&mut b);
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let hex: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}

/// Fills `buf` from the operating system's random source.
pub fn fill_random(buf: &mut [u8]) {
    // The OS source only fails on platforms without one; fall back to a time-seeded mix so a
    // name is still produced (uniqueness is then enforced by the store's create).
    if getrandom::fill(buf).is_err() {
        let mut x = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0x9e37_79b9_7f4a_7c15, |d| d.as_nanos() as u64);
        for byte in buf {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            *byte = x as u8;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn stored_objects_put_metadata_first_without_a_resource_version() {
        let v = json!({"spec": {"x": 1}, "kind": "Pod", "apiVersion": "v1",
            "metadata": {"name": "p", "resourceVersion": "7"}});
        let bytes = encode_for_storage(&v);
        assert_eq!(
            std::str::from_utf8(&bytes).unwrap(),
            r#"{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p"},"spec":{"x":1}}"#
        );
        let read = with_resource_version(&bytes, 42);
        let parsed: Value = serde_json::from_slice(&read).unwrap();
        assert_eq!(
            parsed["metadata"],
            json!({"name": "p", "resourceVersion": "42"})
        );
        assert_eq!(parsed, decode_stored(&bytes, 42).unwrap());
    }

    #[test]
    fn the_splice_handles_empty_metadata_and_foreign_encodings() {
        let bytes = encode_for_storage(&json!({"apiVersion": "v1", "kind": "X"}));
        let v: Value = serde_json::from_slice(&with_resource_version(&bytes, 3)).unwrap();
        assert_eq!(v["metadata"], json!({"resourceVersion": "3"}));
        let foreign = br#"{"metadata":{"name":"a"},"kind":"Pod"}"#;
        let v: Value = serde_json::from_slice(&with_resource_version(foreign, 5)).unwrap();
        assert_eq!(v["metadata"]["resourceVersion"], "5");
        // A kind whose name needs escaping still splices.
        let bytes =
            encode_for_storage(&json!({"apiVersion": "a\"b/v1", "kind": "K", "metadata": {}}));
        assert!(metadata_start(&bytes).is_some());
    }

    #[test]
    fn generated_names_and_uids_have_upstream_shapes() {
        let n = generate_name("web-");
        assert_eq!(n.len(), 9);
        assert!(n[4..].bytes().all(|b| NAME_ALPHABET.contains(&b)));
        let uid = new_uid();
        assert_eq!(uid.len(), 36);
        assert_eq!(&uid[14..15], "4");
        assert_ne!(new_uid(), uid);
    }

    proptest::proptest! {
        #[test]
        fn splicing_equals_parsing(name in "[a-z\"\\\\]{0,8}", rv in 0i64..1_000_000) {
            let v = json!({"apiVersion": "v1", "kind": "ConfigMap",
                "metadata": {"name": name}, "data": {"metadata": "{"}});
            let bytes = encode_for_storage(&v);
            let spliced: Value = serde_json::from_slice(&with_resource_version(&bytes, rv)).unwrap();
            proptest::prop_assert_eq!(spliced, decode_stored(&bytes, rv).unwrap());
        }
    }
}
