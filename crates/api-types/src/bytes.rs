//! `ByteString`: binary data carried as base64 in JSON (Secret `data`, ConfigMap `binaryData`).

use std::fmt;

use base64::Engine;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig, STANDARD};
use serde::{Deserialize, Deserializer, Serialize, Serializer, de};

/// Arbitrary bytes, written as standard base64 with padding. Decoding ignores line breaks inside
/// the string (as Go's decoder does, so folded YAML blocks work) and rejects anything else that
/// is not base64.
#[derive(Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ByteString(pub Vec<u8>);

impl fmt::Debug for ByteString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match std::str::from_utf8(&self.0) {
            Ok(s) => write!(f, "ByteString({s:?})"),
            Err(_) => write!(f, "ByteString({:?})", self.0),
        }
    }
}

impl From<Vec<u8>> for ByteString {
    fn from(v: Vec<u8>) -> Self {
        ByteString(v)
    }
}

impl From<&str> for ByteString {
    fn from(v: &str) -> Self {
        ByteString(v.as_bytes().to_vec())
    }
}

/// Go's `base64.StdEncoding` as `encoding/json` decodes `[]byte`: padding required, stray bits
/// in the last symbol tolerated.
const GO_STD_DECODER: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_allow_trailing_bits(true),
);

impl Serialize for ByteString {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&STANDARD.encode(&self.0))
    }
}

impl<'de> Deserialize<'de> for ByteString {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V;
        impl de::Visitor<'_> for V {
            type Value = ByteString;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a base64-encoded string")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<ByteString, E> {
                let decoded = if v.contains(['\r', '\n']) {
                    let joined: String = v.chars().filter(|c| *c != '\r' && *c != '\n').collect();
                    GO_STD_DECODER.decode(joined)
                } else {
                    GO_STD_DECODER.decode(v)
                };
                decoded.map(ByteString).map_err(|e| {
                    // Go's wording: the offset of the first byte that does not fit.
                    let offset = match e {
                        base64::DecodeError::InvalidByte(o, _)
                        | base64::DecodeError::InvalidLastSymbol { offset: o, .. } => o,
                        base64::DecodeError::InvalidLength(n) => n,
                        base64::DecodeError::InvalidPadding => v.len(),
                    };
                    E::custom(format_args!("illegal base64 data at input byte {offset}"))
                })
            }
        }
        deserializer.deserialize_str(V)
    }
}

#[cfg(feature = "schemars")]
impl schemars::JsonSchema for ByteString {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "ByteString".into()
    }
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({"type": "string", "format": "byte"})
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_as_base64() {
        let b = ByteString::from("admin");
        assert_eq!(serde_json::to_string(&b).unwrap(), "\"YWRtaW4=\"");
        assert_eq!(
            serde_json::from_str::<ByteString>("\"YWRtaW4=\"").unwrap(),
            b
        );
    }

    #[test]
    fn ignores_line_breaks_and_rejects_garbage() {
        assert_eq!(
            serde_json::from_str::<ByteString>("\"YWRt\\naW4=\"").unwrap(),
            ByteString::from("admin")
        );
        assert!(serde_json::from_str::<ByteString>("\"not base64!\"").is_err());
        assert!(serde_json::from_str::<ByteString>("\"YWRtaW4\"").is_err());
        // Go tolerates non-zero bits in the last symbol.
        assert_eq!(
            serde_json::from_str::<ByteString>("\"YR==\"").unwrap(),
            ByteString::from("a")
        );
        assert_eq!(
            serde_json::from_str::<ByteString>("\"YW!=\"")
                .unwrap_err()
                .to_string(),
            "illegal base64 data at input byte 2 at line 1 column 6"
        );
    }
}
