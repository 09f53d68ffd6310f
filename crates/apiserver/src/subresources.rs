//! Subresources with a shape of their own: `scale` (an `autoscaling/v1` Scale view of a
//! workload's replicas) and `pods/binding` (how a scheduler assigns a pod to a node).

use std::sync::Arc;

use axum::body::Body;
use http::{HeaderMap, Method, Response, StatusCode};
use kubernaut_api_types::selector::format_label_selector;
use kubernaut_api_types::validate::{FieldError, Path};
use serde_json::{Value, json};

use crate::auth::UserInfo;
use crate::error::{ApiError, GroupKind};
use crate::http::request::Query;
use crate::http::{ApiState, content_type, json_response, read_body, write_options};
use crate::object;
use crate::resources::ResourceSpec;

/// The Scale of a workload object.
pub fn scale_of(spec: &ResourceSpec, obj: &Value) -> Value {
    let Some(paths) = spec.scale else {
        return Value::Null;
    };
    let replicas = |path: &[&str]| {
        object::get_path(obj, path)
            .and_then(Value::as_i64)
            .unwrap_or(0)
    };
    let selector =
        object::get_path(obj, paths.selector).and_then(|s| serde_json::from_value(s.clone()).ok());
    let meta = object::meta(obj).cloned().unwrap_or_default();
    let mut m = serde_json::Map::new();
    for f in [
        "name",
        "namespace",
        "uid",
        "resourceVersion",
        "creationTimestamp",
    ] {
        if let Some(v) = meta.get(f) {
            m.insert(f.into(), v.clone());
        }
    }
    json!({
        "kind": "Scale",
        "apiVersion": "autoscaling/v1",
        "metadata": m,
        "spec": {"replicas": object::get_path(obj, paths.spec_replicas).and_then(Value::as_i64).unwrap_or(1)},
        "status": {"replicas": replicas(paths.status_replicas), "selector": format_label_selector(selector.as_ref())},
    })
}

fn scale_replicas(name: &str, scale: &Value) -> Result<i64, ApiError> {
    let path = Path::new("spec").child("replicas");
    let invalid = |v: String, detail: &str| {
        ApiError::invalid(
            &GroupKind::new("autoscaling", "Scale"),
            name,
            &[FieldError::invalid(&path, v, detail)],
        )
    };
    match object::get_path(scale, &["spec", "replicas"]) {
        None | Some(Value::Null) => Ok(0),
        Some(Value::Number(n)) => match n.as_i64() {
            Some(r) if r >= 0 && r <= i64::from(i32::MAX) => Ok(r),
            Some(r) if r < 0 => Err(invalid(r.to_string(), "must be greater than or equal to 0")),
            _ => Err(invalid(n.to_string(), "must be a 32-bit integer")),
        },
        Some(other) => Err(ApiError::bad_request(format!(
            "Scale in version \"v1\" cannot be handled as a Scale: spec.replicas: expected an integer, found {other}"
        ))),
    }
}

/// `GET`, `PUT` and `PATCH` of `<workload>/scale`.
///
/// # Errors
/// `404`, `409`, `422` for a negative replica count, `415` for an unsupported patch.
#[allow(clippy::too_many_arguments)]
pub async fn scale(
    state: &Arc<ApiState>,
    spec: &Arc<ResourceSpec>,
    namespace: Option<&str>,
    name: &str,
    method: &Method,
    query: &Query,
    headers: &HeaderMap,
    body: Body,
    user: &UserInfo,
) -> Result<Response<Body>, ApiError> {
    let registry = &state.registry;
    match *method {
        Method::GET => {
            let obj = registry
                .get(spec, namespace, name, query.get("resourceVersion"))
                .await?;
            let value: Value = serde_json::from_slice(&obj.json)
                .map_err(|e| ApiError::internal(format!("cached object is damaged: {e}")))?;
            Ok(json_response(StatusCode::OK, &scale_of(spec, &value)))
        }
        Method::PUT | Method::PATCH => {
            let ct = content_type(headers);
            let bytes = read_body(body).await?;
            let options = write_options(query, headers)?;
            let patch = if *method == Method::PATCH {
                Some(crate::patch::parse_for_scale(registry, &ct, &bytes)?)
            } else {
                None
            };
            let put = if *method == Method::PUT {
                Some(crate::http::decode_body(&ct, &bytes)?)
            } else {
                None
            };
            let precondition = put
                .as_ref()
                .and_then(|p| object::meta_str(p, "resourceVersion"))
                .filter(|s| !s.is_empty())
                .map(crate::registry::parse_rv)
                .transpose()?;
            let paths = spec
                .scale
                .ok_or_else(|| ApiError::internal("no scale paths"))?;
            let written = registry
                .guaranteed_update(
                    spec,
                    namespace,
                    name,
                    Some("scale"),
                    &options,
                    user,
                    precondition,
                    |current| {
                        let current_scale = scale_of(spec, current);
                        let new_scale = match (&put, &patch) {
                            (Some(p), _) => p.clone(),
                            (None, Some(patch)) => patch.apply(&current_scale)?,
                            (None, None) => current_scale.clone(),
                        };
                        let replicas = scale_replicas(name, &new_scale)?;
                        let mut next = current.clone();
                        object::set_path(&mut next, paths.spec_replicas, json!(replicas));
                        // A resource version in the Scale is a precondition on the object.
                        if let Some(rv) = object::meta_str(&new_scale, "resourceVersion") {
                            object::meta_mut(&mut next).insert("resourceVersion".into(), json!(rv));
                        }
                        Ok(next)
                    },
                )
                .await?;
            let updated: Value = serde_json::from_slice(&written.body)
                .map_err(|e| ApiError::internal(format!("written object is damaged: {e}")))?;
            Ok(json_response(StatusCode::OK, &scale_of(spec, &updated)))
        }
        ref m => Err(ApiError::method_not_allowed(m.as_str(), "scale")),
    }
}

/// `POST pods/<name>/binding`: assigns the pod to a node, once.
///
/// # Errors
/// `404` for a missing pod, `409` when it is already bound, `400`/`422` for a bad Binding.
#[allow(clippy::too_many_arguments)]
pub async fn bind(
    state: &Arc<ApiState>,
    spec: &Arc<ResourceSpec>,
    namespace: Option<&str>,
    name: &str,
    binding: Value,
    query: &Query,
    headers: &HeaderMap,
    user: &UserInfo,
) -> Result<Response<Body>, ApiError> {
    let target = object::get_path(&binding, &["target", "name"])
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_owned();
    if target.is_empty() {
        return Err(ApiError::invalid(
            &GroupKind::new("", "Binding"),
            name,
            &[FieldError::required(&Path::new("target").child("name"), "")],
        ));
    }
    let binding_name = object::name(&binding);
    if !binding_name.is_empty() && binding_name != name {
        return Err(ApiError::bad_request(format!(
            "the name of the object ({binding_name}) does not match the name on the URL ({name})"
        )));
    }
    let annotations = object::meta(&binding)
        .and_then(|m| m.get("annotations"))
        .cloned();
    let options = write_options(query, headers)?;
    state
        .registry
        .guaranteed_update(spec, namespace, name, Some("binding"), &options, user, None, |current| {
            if object::meta_str(current, "deletionTimestamp").is_some() {
                return Err(ApiError::conflict(
                    &spec.group_resource(),
                    name,
                    &format!("pod {name} is being deleted, cannot be assigned to a host"),
                ));
            }
            let node = object::get_path(current, &["spec", "nodeName"]).and_then(Value::as_str).unwrap_or("");
            if !node.is_empty() {
                return Err(ApiError::conflict(
                    &spec.group_resource(),
                    name,
                    &format!("pod {name} is already assigned to node \"{node}\""),
                ));
            }
            let mut next = current.clone();
            object::set_path(&mut next, &["spec", "nodeName"], json!(target));
            if let Some(Value::Object(a)) = &annotations {
                let meta = object::meta_mut(&mut next);
                let existing = meta.entry("annotations").or_insert_with(|| json!({}));
                if let Value::Object(e) = existing {
                    for (k, v) in a {
                        e.insert(k.clone(), v.clone());
                    }
                }
            }
            let now = kubernaut_api_types::Time::now().to_string();
            let condition = json!({"type": "PodScheduled", "status": "True", "lastProbeTime": null, "lastTransitionTime": now});
            let conditions = object::get_path(&next, &["status", "conditions"]).and_then(Value::as_array).cloned().unwrap_or_default();
            let mut conditions: Vec<Value> = conditions.into_iter().filter(|c| c.get("type") != Some(&json!("PodScheduled"))).collect();
            conditions.push(condition);
            object::set_path(&mut next, &["status", "conditions"], Value::Array(conditions));
            Ok(next)
        })
        .await?;
    Ok(json_response(
        StatusCode::CREATED,
        &json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success", "code": 201}),
    ))
}
