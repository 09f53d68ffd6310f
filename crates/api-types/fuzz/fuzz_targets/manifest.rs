//! Fuzzes the YAML reader: any UTF-8 text must give documents or an error, never a panic or a
//! hang.

#![no_main]

use kubernaut_api_types::manifest::yaml;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(documents) = yaml::parse_documents(text) {
            for document in &documents {
                // Whatever is read must be writable as JSON.
                let _ = serde_json::to_vec(&document.value);
            }
        }
    }
});
