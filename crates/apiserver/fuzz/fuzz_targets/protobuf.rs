//! Fuzzes the Kubernetes protobuf body decoder: any bytes must decode to a JSON object or fail
//! with a `ProtobufError`, never panic. Each input is tried as a whole body and, so that the
//! fuzzer reaches the message decoding of every kind without first having to find a valid
//! envelope, as the object inside a well-formed envelope of a kind chosen by its first byte.

#![no_main]

use kubernaut_apiserver::protobuf::{MAGIC, decode, kinds};
use libfuzzer_sys::fuzz_target;

fn varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn length_delimited(out: &mut Vec<u8>, field: u64, bytes: &[u8]) {
    varint(out, field << 3 | 2);
    varint(out, bytes.len() as u64);
    out.extend_from_slice(bytes);
}

fn body(api_version: &str, kind: &str, object: &[u8]) -> Vec<u8> {
    let mut type_meta = Vec::new();
    length_delimited(&mut type_meta, 1, api_version.as_bytes());
    length_delimited(&mut type_meta, 2, kind.as_bytes());
    let mut body = MAGIC.to_vec();
    length_delimited(&mut body, 1, &type_meta);
    length_delimited(&mut body, 2, object);
    body
}

fuzz_target!(|data: &[u8]| {
    if let Ok(value) = decode(data) {
        assert!(value.is_object(), "a decoded body is a JSON object");
    }
    let kinds: Vec<(&str, &str)> = kinds().collect();
    if let Some((&selector, object)) = data.split_first() {
        let (api_version, kind) = kinds[usize::from(selector) % kinds.len()];
        if let Ok(value) = decode(&body(api_version, kind, object)) {
            assert_eq!(value["apiVersion"], api_version);
            assert_eq!(value["kind"], kind);
        }
    }
});
