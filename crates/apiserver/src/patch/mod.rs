//! Patches: JSON Patch (RFC 6902), JSON merge patch (RFC 7386), strategic merge patch and
//! server-side apply, applied to the stored object inside the registry's guarded update, so a
//! patch never loses a concurrent write.

pub mod apply;
pub mod strategic;

use std::sync::Arc;

use serde_json::Value;

use crate::auth::UserInfo;
use crate::error::ApiError;
use crate::http::request::Query;
use crate::registry::{Registry, WriteOptions, Written};
use crate::resources::ResourceSpec;

/// `application/json-patch+json`.
pub const JSON_PATCH: &str = "application/json-patch+json";
/// `application/merge-patch+json`.
pub const MERGE_PATCH: &str = "application/merge-patch+json";
/// `application/strategic-merge-patch+json`.
pub const STRATEGIC_MERGE_PATCH: &str = "application/strategic-merge-patch+json";
/// `application/apply-patch+yaml`.
pub const APPLY_PATCH: &str = "application/apply-patch+yaml";

/// The patch types this server applies, for `415` answers.
pub const SUPPORTED: &[&str] = &[JSON_PATCH, MERGE_PATCH, STRATEGIC_MERGE_PATCH];

/// A parsed patch document.
#[derive(Debug)]
pub enum Document {
    /// RFC 6902 operations.
    Json(json_patch::Patch),
    /// An RFC 7386 merge document.
    Merge(Value),
    /// A strategic merge patch, with the patched kind's patch metadata.
    Strategic(Value, Arc<strategic::PatchSchema>),
}

impl Document {
    /// Parses a patch of type `content_type` to an object of `api_version`/`kind`.
    ///
    /// # Errors
    /// `415` for an unsupported type (or a strategic merge patch of a kind without patch
    /// metadata), `400` for a document that does not parse.
    pub fn parse(
        registry: &Registry,
        api_version: &str,
        kind: &str,
        content_type: &str,
        body: &[u8],
    ) -> Result<Self, ApiError> {
        match content_type {
            STRATEGIC_MERGE_PATCH => {
                let Some(schema) =
                    registry
                        .patch_schemas()
                        .get(registry.scheme(), api_version, kind)
                else {
                    return Err(ApiError::unsupported_media_type(
                        content_type,
                        &[JSON_PATCH, MERGE_PATCH],
                    ));
                };
                let v: Value = serde_json::from_slice(body)
                    .map_err(|e| ApiError::bad_request(format!("error decoding patch: {e}")))?;
                Ok(Document::Strategic(v, schema))
            }
            JSON_PATCH => serde_json::from_slice::<json_patch::Patch>(body)
                .map(Document::Json)
                .map_err(|e| ApiError::bad_request(format!("invalid JSON Patch: {e}"))),
            MERGE_PATCH => {
                let v: Value = serde_json::from_slice(body)
                    .map_err(|e| ApiError::bad_request(format!("error decoding patch: {e}")))?;
                if !v.is_object() {
                    return Err(ApiError::bad_request(
                        "json: cannot unmarshal non-object into Go value of type \
                         map[string]interface {}",
                    ));
                }
                Ok(Document::Merge(v))
            }
            other => Err(ApiError::unsupported_media_type(other, SUPPORTED)),
        }
    }

    /// Applies the patch to `current`.
    ///
    /// # Errors
    /// `422` when a JSON Patch operation fails.
    pub fn apply(&self, current: &Value) -> Result<Value, ApiError> {
        let mut doc = current.clone();
        match self {
            Document::Json(ops) => json_patch::patch(&mut doc, ops).map_err(|e| {
                ApiError::new(
                    422,
                    "Invalid",
                    format!("the server rejected our request due to an error in our request: {e}"),
                )
            })?,
            Document::Merge(p) => json_patch::merge(&mut doc, p),
            Document::Strategic(p, schema) => return Ok(strategic::apply(current, p, schema)?),
        }
        Ok(doc)
    }
}

/// Parses a patch of a `Scale` (a kind of its own, patched as JSON).
///
/// # Errors
/// As for any patch.
pub fn parse_for_scale(
    registry: &Registry,
    content_type: &str,
    body: &[u8],
) -> Result<Document, ApiError> {
    Document::parse(registry, "autoscaling/v1", "Scale", content_type, body)
}

/// Patches an object or its status (`PATCH`).
///
/// # Errors
/// `415` for an unsupported patch type, `400` for a patch that does not parse, `422` when it
/// does not apply or the result is invalid, `404`, `409`.
#[allow(clippy::too_many_arguments)]
pub async fn patch(
    registry: &Registry,
    spec: &ResourceSpec,
    namespace: Option<&str>,
    name: &str,
    subresource: Option<&str>,
    content_type: &str,
    body: &[u8],
    options: &WriteOptions,
    query: &Query,
    user: &UserInfo,
) -> Result<Written, ApiError> {
    let document = Document::parse(
        registry,
        &spec.api.api_version,
        &spec.api.kind,
        content_type,
        body,
    )?;
    if query.get("force").is_some() {
        return Err(ApiError::invalid(
            &crate::error::GroupKind::new("meta.k8s.io", "PatchOptions"),
            "",
            &[kubernaut_api_types::validate::FieldError::forbidden(
                &kubernaut_api_types::validate::Path::new("force"),
                "may not be specified for non-apply patch",
            )],
        ));
    }
    registry
        .guaranteed_update(
            spec,
            namespace,
            name,
            subresource,
            options,
            user,
            None,
            |current| document.apply(current),
        )
        .await
}
