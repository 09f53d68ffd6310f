//! Request-body decoding (JSON, YAML, protobuf, then the typed object) never panics.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    kubernaut_apiserver::fuzzing::request_body(data);
});
