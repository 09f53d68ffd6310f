//! Request bodies into JSON: JSON itself, YAML, and Kubernetes protobuf, each with a `400`
//! naming what is wrong.

use serde_json::Value;

use crate::error::ApiError;

/// Parses a JSON body.
///
/// # Errors
/// `400 BadRequest` with the parser's message (line and column).
pub fn parse_json(bytes: &[u8]) -> Result<Value, ApiError> {
    serde_json::from_slice(bytes).map_err(|e| {
        ApiError::bad_request(format!(
            "the body of the request could not be decoded as JSON: {e}"
        ))
    })
}

/// Parses a YAML body: exactly one document.
///
/// # Errors
/// `400 BadRequest` for text that is not UTF-8, not YAML, or not exactly one document.
pub fn parse_yaml(bytes: &[u8]) -> Result<Value, ApiError> {
    let text = std::str::from_utf8(bytes)
        .map_err(|e| ApiError::bad_request(format!("the body is not UTF-8: {e}")))?;
    let mut docs = kubernaut_api_types::manifest::parse_documents(text)
        .map_err(|e| ApiError::bad_request(e.to_string()))?;
    match docs.len() {
        1 => Ok(docs.remove(0).value),
        0 => Err(ApiError::bad_request("the body of the request is empty")),
        n => Err(ApiError::bad_request(format!(
            "the body of the request holds {n} YAML documents; one object is expected"
        ))),
    }
}

/// Decodes a Kubernetes protobuf body into the JSON a client would have sent.
///
/// # Errors
/// `400 BadRequest` naming what is wrong with the bytes; `415` for a kind the decoder does not
/// know (upstream cannot decode it either).
pub fn parse_protobuf(bytes: &[u8]) -> Result<Value, ApiError> {
    crate::protobuf::decode(bytes).map_err(|e| match e {
        crate::protobuf::ProtobufError::UnknownKind { .. } => ApiError::unsupported_media_type(
            crate::protobuf::MEDIA_TYPE,
            &["application/json", "application/yaml"],
        ),
        other => ApiError::bad_request(format!(
            "the body of the request could not be decoded as protobuf: {other}"
        )),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_decode_or_fail_with_400() {
        assert_eq!(parse_json(br#"{"a":1}"#).unwrap()["a"], 1);
        assert_eq!(parse_json(b"{").unwrap_err().code(), 400);
        assert_eq!(
            parse_yaml(b"kind: Pod\nmetadata: {name: p}\n").unwrap()["metadata"]["name"],
            "p"
        );
        assert_eq!(parse_yaml(b"a: 1\n---\nb: 2\n").unwrap_err().code(), 400);
        assert_eq!(parse_yaml(b"\xff").unwrap_err().code(), 400);
    }
}
