//! Building answers: objects and lists from their cached encodings (no re-encoding), Tables
//! and partial metadata for kubectl, `Status` errors, and `Warning` headers.

use std::sync::Arc;

use axum::body::Body;
use bytes::{BufMut, Bytes, BytesMut};
use http::{HeaderValue, Response, StatusCode};
use serde_json::{Value, json};

use super::request::{Query, Rendering};
use crate::cache::CachedObject;
use crate::error::ApiError;
use crate::registry::{ListPage, Written};
use crate::resources::ResourceSpec;

const JSON: &str = "application/json";

/// An answer with a body of the given media type.
pub(crate) fn with_type(
    code: StatusCode,
    content_type: &str,
    body: impl Into<Body>,
) -> Response<Body> {
    let mut r = Response::new(body.into());
    *r.status_mut() = code;
    if let Ok(v) = HeaderValue::from_str(content_type) {
        r.headers_mut().insert(http::header::CONTENT_TYPE, v);
    }
    r
}

/// A plain-text answer.
pub(crate) fn text(code: StatusCode, body: &'static str) -> Response<Body> {
    with_type(code, "text/plain; charset=utf-8", body)
}

/// A JSON answer.
pub fn json_response(code: StatusCode, value: &Value) -> Response<Body> {
    with_type(code, JSON, serde_json::to_vec(value).unwrap_or_default())
}

/// Aggregated discovery, with the `Content-Type` clients recognise it by.
pub(crate) fn aggregated(value: Value, version: &str) -> Response<Body> {
    let ct = if version == "v2" {
        super::discovery::AGGREGATED_V2
    } else {
        super::discovery::AGGREGATED_V2BETA1
    };
    let mut r = with_type(
        StatusCode::OK,
        ct,
        serde_json::to_vec(&value).unwrap_or_default(),
    );
    r.headers_mut()
        .insert(http::header::VARY, HeaderValue::from_static("Accept"));
    r
}

/// An error as an upstream `Status`.
pub fn error_response(e: &ApiError) -> Response<Body> {
    let code = StatusCode::from_u16(e.code()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut r = json_response(code, &e.to_json());
    if let Some(after) = e.retry_after
        && let Ok(v) = HeaderValue::from_str(&after.to_string())
    {
        r.headers_mut().insert(http::header::RETRY_AFTER, v);
    }
    r
}

/// The answer to a write, with its warnings.
pub(crate) fn written(w: Written) -> Response<Body> {
    let code = StatusCode::from_u16(w.code).unwrap_or(StatusCode::OK);
    let mut r = with_type(code, JSON, w.body);
    for warning in w.warnings {
        let escaped = warning.replace('\\', "\\\\").replace('"', "\\\"");
        if let Ok(v) = HeaderValue::from_str(&format!("299 - \"{escaped}\"")) {
            r.headers_mut().append(http::header::WARNING, v);
        }
    }
    r
}

/// `includeObject` of a Table request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum IncludeObject {
    None,
    Metadata,
    Object,
}

fn include_object(query: &Query) -> Result<IncludeObject, ApiError> {
    match query.get("includeObject") {
        None | Some("" | "Metadata") => Ok(IncludeObject::Metadata),
        Some("Object") => Ok(IncludeObject::Object),
        Some("None") => Ok(IncludeObject::None),
        Some(other) => Err(ApiError::bad_request(format!(
            "includeObject: Unsupported value: \"{other}\": supported values: \"Metadata\", \
             \"None\", \"Object\""
        ))),
    }
}

/// `PartialObjectMetadata` of a cached object.
fn partial_metadata(obj: &CachedObject, version: &str) -> Value {
    let meta = serde_json::from_slice::<Value>(&obj.json)
        .ok()
        .and_then(|v| v.get("metadata").cloned())
        .unwrap_or_else(|| json!({}));
    json!({"kind": "PartialObjectMetadata", "apiVersion": format!("meta.k8s.io/{version}"), "metadata": meta})
}

/// A Table of cached objects.
pub(crate) fn table(
    spec: &ResourceSpec,
    objects: &[Arc<CachedObject>],
    rv: i64,
    continue_token: Option<&str>,
    version: &str,
    query: &Query,
    headers: bool,
) -> Result<Value, ApiError> {
    let include = include_object(query)?;
    let printer = crate::table::printer_for(&spec.api.group, &spec.api.kind);
    let now = kubernaut_api_types::Time::now();
    let mut rows = Vec::with_capacity(objects.len());
    for obj in objects {
        let value: Value = serde_json::from_slice(&obj.json).unwrap_or(Value::Null);
        let cells = printer.cells(&value, now);
        let mut row = json!({"cells": cells});
        match include {
            IncludeObject::None => {}
            IncludeObject::Metadata => row["object"] = partial_metadata(obj, version),
            IncludeObject::Object => row["object"] = value,
        }
        rows.push(row);
    }
    let mut metadata = json!({"resourceVersion": rv.to_string()});
    if let Some(c) = continue_token {
        metadata["continue"] = json!(c);
    }
    let mut t = json!({
        "kind": "Table",
        "apiVersion": format!("meta.k8s.io/{version}"),
        "metadata": metadata,
        "rows": rows,
    });
    if headers {
        t["columnDefinitions"] = serde_json::to_value(printer.columns()).unwrap_or(json!([]));
    } else {
        t["columnDefinitions"] = json!([]);
    }
    Ok(t)
}

/// One object, rendered as asked.
pub(crate) fn single(
    spec: &ResourceSpec,
    obj: &Arc<CachedObject>,
    rendering: Rendering,
    query: &Query,
) -> Result<Response<Body>, ApiError> {
    match rendering {
        Rendering::Object => Ok(with_type(StatusCode::OK, JSON, obj.json.clone())),
        Rendering::Table(v) => {
            let t = table(
                spec,
                std::slice::from_ref(obj),
                obj.rv,
                None,
                v,
                query,
                true,
            )?;
            Ok(json_response(StatusCode::OK, &t))
        }
        Rendering::Metadata(v) => Ok(json_response(StatusCode::OK, &partial_metadata(obj, v))),
    }
}

/// A list, rendered as asked. Objects are written from their cached encodings.
pub(crate) fn list(
    spec: &ResourceSpec,
    page: ListPage,
    rendering: Rendering,
    query: &Query,
) -> Result<Response<Body>, ApiError> {
    match rendering {
        Rendering::Table(v) => {
            let t = table(
                spec,
                &page.items,
                page.rv,
                page.continue_token.as_deref(),
                v,
                query,
                true,
            )?;
            Ok(json_response(StatusCode::OK, &t))
        }
        Rendering::Metadata(v) => {
            let items: Vec<Value> = page.items.iter().map(|o| partial_metadata(o, v)).collect();
            let mut metadata = json!({"resourceVersion": page.rv.to_string()});
            if let Some(c) = &page.continue_token {
                metadata["continue"] = json!(c);
            }
            Ok(json_response(
                StatusCode::OK,
                &json!({"kind": "PartialObjectMetadataList", "apiVersion": format!("meta.k8s.io/{v}"),
                    "metadata": metadata, "items": items}),
            ))
        }
        Rendering::Object => {
            let size: usize = page.items.iter().map(|o| o.json.len() + 1).sum();
            let mut out = BytesMut::with_capacity(size + 256);
            out.put_slice(b"{\"kind\":");
            out.put_slice(
                serde_json::to_string(&format!("{}List", spec.api.kind))
                    .unwrap_or_default()
                    .as_bytes(),
            );
            out.put_slice(b",\"apiVersion\":");
            out.put_slice(
                serde_json::to_string(&spec.api.api_version)
                    .unwrap_or_default()
                    .as_bytes(),
            );
            let mut metadata = json!({"resourceVersion": page.rv.to_string()});
            if let Some(c) = &page.continue_token {
                metadata["continue"] = json!(c);
            }
            if let Some(r) = page.remaining {
                metadata["remainingItemCount"] = json!(r);
            }
            out.put_slice(b",\"metadata\":");
            out.put_slice(&serde_json::to_vec(&metadata).unwrap_or_default());
            out.put_slice(b",\"items\":[");
            for (i, o) in page.items.iter().enumerate() {
                if i > 0 {
                    out.put_u8(b',');
                }
                out.put_slice(&o.json);
            }
            out.put_slice(b"]}");
            Ok(with_type(StatusCode::OK, JSON, Bytes::from(out)))
        }
    }
}
