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
use crate::registry::{Registry, Tracking, WriteOptions, Written};
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
pub const SUPPORTED: &[&str] = &[JSON_PATCH, MERGE_PATCH, STRATEGIC_MERGE_PATCH, APPLY_PATCH];

/// A parsed patch document.
#[derive(Debug)]
pub enum Document {
    /// RFC 6902 operations.
    Json(json_patch::Patch),
    /// An RFC 7386 merge document.
    Merge(Value),
    /// A strategic merge patch, with the patched kind's patch metadata.
    Strategic(Value, Arc<strategic::PatchSchema>),
    /// A server-side apply configuration (the first document of the YAML or JSON body).
    Apply(Value),
}

impl Document {
    /// Parses a patch of type `content_type` to an object of `api_version`/`kind`.
    ///
    /// # Errors
    /// `415` for an unsupported type (or a strategic merge patch of a kind without patch
    /// metadata), `400` for a document that does not parse (an apply configuration that is
    /// not a YAML or JSON object: `error decoding YAML: ...`).
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
            APPLY_PATCH => parse_apply_configuration(body).map(Document::Apply),
            other => Err(ApiError::unsupported_media_type(other, SUPPORTED)),
        }
    }

    /// Applies the patch to `current`.
    ///
    /// # Errors
    /// `422` when a JSON Patch operation fails; `415` for a server-side apply configuration,
    /// which needs the field manager ([`patch`] applies those).
    pub fn apply(&self, current: &Value) -> Result<Value, ApiError> {
        let mut doc = current.clone();
        match self {
            Document::Apply(_) => {
                return Err(ApiError::unsupported_media_type(
                    APPLY_PATCH,
                    &[JSON_PATCH, MERGE_PATCH, STRATEGIC_MERGE_PATCH],
                ));
            }
            Document::Json(ops) => {
                // As upstream's JSON Patch library: testing a missing value against `null`
                // succeeds (RFC 6902 would fail it; clients such as kube-rs rely on this).
                // Operations apply in order; a failure discards the whole result.
                for op in ops.iter() {
                    if let json_patch::PatchOperation::Test(t) = op
                        && t.value.is_null()
                        && doc.pointer(t.path.as_str()).is_none()
                    {
                        continue;
                    }
                    json_patch::patch(&mut doc, std::slice::from_ref(op)).map_err(|e| {
                        ApiError::new(
                            422,
                            "Invalid",
                            format!(
                                "the server rejected our request due to an error in our request: {e}"
                            ),
                        )
                    })?;
                }
            }
            Document::Merge(p) => json_patch::merge(&mut doc, p),
            Document::Strategic(p, schema) => return Ok(strategic::apply(current, p, schema)?),
        }
        Ok(doc)
    }
}

/// Parses a patch of a `Scale` (a kind of its own, patched as JSON). Server-side apply of a
/// `Scale` is not served: `415`.
///
/// # Errors
/// As for any patch.
pub fn parse_for_scale(
    registry: &Registry,
    content_type: &str,
    body: &[u8],
) -> Result<Document, ApiError> {
    if content_type == APPLY_PATCH {
        return Err(ApiError::unsupported_media_type(
            content_type,
            &[JSON_PATCH, MERGE_PATCH, STRATEGIC_MERGE_PATCH],
        ));
    }
    Document::parse(registry, "autoscaling/v1", "Scale", content_type, body)
}

/// Reads an apply configuration as upstream does (YAML, of which JSON is a part, into a map):
/// the first document, an empty map for an empty body.
fn parse_apply_configuration(body: &[u8]) -> Result<Value, ApiError> {
    let decoding =
        |e: &dyn std::fmt::Display| ApiError::bad_request(format!("error decoding YAML: {e}"));
    let text = std::str::from_utf8(body).map_err(|e| decoding(&e))?;
    let documents =
        kubernaut_api_types::manifest::parse_documents(text).map_err(|e| decoding(&e))?;
    let Some(first) = documents.into_iter().next() else {
        return Ok(Value::Object(serde_json::Map::new()));
    };
    match first.value {
        v @ Value::Object(_) => Ok(v),
        other => Err(apply::ApplyError::NotAnObject {
            found: match other {
                Value::Array(_) => "array",
                Value::String(_) => "string",
                Value::Number(_) => "number",
                Value::Bool(_) => "bool",
                _ => "null",
            },
        }
        .into()),
    }
}

/// Upstream's `ValidatePatchOptions`: `force` only for an apply, `fieldManager` required for
/// one, and a `fieldManager` of at most 128 printable characters.
///
/// # Errors
/// `422 Invalid` (`PatchOptions.meta.k8s.io "" is invalid: ...`).
fn validate_patch_options(content_type: &str, query: &Query) -> Result<(), ApiError> {
    use kubernaut_api_types::validate::{FieldError, Path};
    let manager = query.get("fieldManager").unwrap_or("");
    let mut errors = Vec::new();
    if content_type == APPLY_PATCH {
        if manager.is_empty() {
            errors.push(FieldError::required(
                &Path::new("fieldManager"),
                "is required for apply patch",
            ));
        }
    } else if query.get("force").is_some() {
        errors.push(FieldError::forbidden(
            &Path::new("force"),
            "may not be specified for non-apply patch",
        ));
    }
    errors.extend(apply::validate_field_manager(manager));
    if errors.is_empty() {
        Ok(())
    } else {
        Err(apply::invalid_patch_options(&errors))
    }
}

/// Upstream's `checkName` of a patched object: its name must be the URL's, and its namespace,
/// when it has one, the request's.
fn check_name(object: &Value, name: &str, namespace: Option<&str>) -> Result<(), ApiError> {
    let object_name = crate::object::name(object);
    if object_name != name {
        return Err(ApiError::bad_request(format!(
            "the name of the object ({object_name}) does not match the name on the URL ({name})"
        )));
    }
    if let (Some(ns), Some(object_ns)) = (namespace, crate::object::namespace(object))
        && !object_ns.is_empty()
        && object_ns != ns
    {
        return Err(ApiError::bad_request(format!(
            "the namespace of the object ({object_ns}) does not match the namespace on the \
             request ({ns})"
        )));
    }
    Ok(())
}

/// A server-side apply (`PATCH` with `application/apply-patch+yaml`): the configuration merged
/// into the stored object with conflicts detected, or, when the object does not exist (through
/// the main resource), created from the configuration.
#[allow(clippy::too_many_arguments)]
async fn apply_patch(
    registry: &Registry,
    spec: &ResourceSpec,
    namespace: Option<&str>,
    name: &str,
    subresource: Option<&str>,
    configuration: &Value,
    options: &WriteOptions,
    query: &Query,
    user: &UserInfo,
) -> Result<Written, ApiError> {
    // The manager is named explicitly ([`validate_patch_options`]): the user agent does not
    // do for an apply.
    let manager = query.get("fieldManager").unwrap_or("");
    // Upstream reads a boolean query parameter as false only for "0" and "false".
    let force = query
        .get("force")
        .is_some_and(|f| f != "0" && !f.eq_ignore_ascii_case("false"));
    let now = kubernaut_api_types::Time::now().to_string();
    let field_manager = registry.field_manager(spec, subresource, &now);
    for _ in 0..4 {
        let updated = registry
            .guaranteed_update_with(
                spec,
                namespace,
                name,
                subresource,
                options,
                user,
                None,
                Tracking::Apply,
                |current| {
                    let applied =
                        field_manager.apply(Some(current), configuration, manager, force)?;
                    check_name(&applied, name, namespace)?;
                    Ok(applied)
                },
            )
            .await;
        match updated {
            Err(e) if e.code() == 404 && e.reason() == "NotFound" && subresource.is_none() => {}
            other => return other,
        }
        let object = field_manager.apply(None, configuration, manager, force)?;
        if let Some(uid) = crate::object::meta_str(&object, "uid").filter(|u| !u.is_empty()) {
            return Err(ApiError::conflict(
                &spec.group_resource(),
                name,
                &format!(
                    "uid mismatch: the provided object specified uid {uid}, and no existing \
                     object was found"
                ),
            ));
        }
        check_name(&object, name, namespace)?;
        match registry
            .create_with(spec, namespace, object, options, user, Tracking::Apply)
            .await
        {
            // Created by someone else meanwhile: apply to theirs.
            Err(e) if e.reason() == "AlreadyExists" => continue,
            other => return other,
        }
    }
    Err(ApiError::conflict(
        &spec.group_resource(),
        name,
        "the object is changing too often; please try again",
    ))
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
    // Upstream checks the patch options (`ValidatePatchOptions`) before reading the patch.
    if SUPPORTED.contains(&content_type) {
        validate_patch_options(content_type, query)?;
    }
    let document = Document::parse(
        registry,
        &spec.api.api_version,
        &spec.api.kind,
        content_type,
        body,
    )?;
    if let Document::Apply(configuration) = &document {
        return apply_patch(
            registry,
            spec,
            namespace,
            name,
            subresource,
            configuration,
            options,
            query,
            user,
        )
        .await;
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

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use axum::body::Body;
    use http::{Method, Request, StatusCode};
    use kubernaut_store::embedded::{Config, EmbeddedStore};
    use serde_json::{Value, json};

    use super::{APPLY_PATCH, MERGE_PATCH};
    use crate::ApiServer;
    use crate::auth::{AllowAuthenticated, TokenAuthenticator, UserInfo};
    use crate::http::ApiState;
    use crate::metrics::Metrics;

    const DEPLOYMENTS: &str = "/apis/apps/v1/namespaces/default/deployments";

    async fn api() -> (ApiServer, Arc<ApiState>) {
        let store = Arc::new(EmbeddedStore::open(Config::in_memory()).unwrap());
        // The default advertised address is a loopback one, which the `kubernetes` Endpoints
        // the bootstrap writes may not hold; this address is only written into objects.
        let config = crate::ApiServerConfig {
            advertise_address: "192.0.2.10:6443".to_owned(),
            ..crate::ApiServerConfig::default()
        };
        let server = ApiServer::builder(store)
            .config(config)
            .build()
            .await
            .unwrap();
        let admin = UserInfo {
            name: "admin".into(),
            uid: String::new(),
            groups: vec!["system:masters".into()],
        };
        let state = Arc::new(ApiState {
            registry: Arc::clone(server.registry()),
            authenticator: Arc::new(TokenAuthenticator::new().with_token("t", admin)),
            authorizer: Arc::new(AllowAuthenticated),
            metrics: Arc::new(Metrics::new()),
            server_address: "127.0.0.1:6443".into(),
            shutdown: tokio::sync::watch::channel(0).1,
            openapi: std::sync::OnceLock::new(),
        });
        (server, state)
    }

    async fn call(
        state: &Arc<ApiState>,
        method: Method,
        uri: &str,
        content_type: &str,
        user_agent: &str,
        body: &str,
    ) -> (StatusCode, Value) {
        let req = Request::builder()
            .method(method)
            .uri(uri)
            .header("authorization", "Bearer t")
            .header("content-type", content_type)
            .header("user-agent", user_agent)
            .body(Body::from(body.to_owned()))
            .unwrap();
        let resp = crate::http::handle(Arc::clone(state), req).await;
        let status = resp.status();
        let bytes = axum::body::to_bytes(resp.into_body(), usize::MAX)
            .await
            .unwrap();
        (
            status,
            serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        )
    }

    fn deployment(replicas: i64) -> String {
        json!({"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "web", "labels": {"app": "web"}},
            "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": "web"}},
                "template": {"metadata": {"labels": {"app": "web"}},
                    "spec": {"containers": [{"name": "nginx", "image": "nginx:1.25"}]}}}})
        .to_string()
    }

    fn managers(object: &Value) -> Vec<(String, String, String)> {
        object["metadata"]["managedFields"]
            .as_array()
            .map(|e| {
                e.iter()
                    .map(|e| {
                        (
                            e["manager"].as_str().unwrap_or("").to_owned(),
                            e["operation"].as_str().unwrap_or("").to_owned(),
                            e["subresource"].as_str().unwrap_or("").to_owned(),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default()
    }

    fn triple(m: &str, op: &str, sub: &str) -> (String, String, String) {
        (m.to_owned(), op.to_owned(), sub.to_owned())
    }

    #[tokio::test]
    async fn server_side_apply_creates_then_reapplies_without_a_write() {
        let (_server, state) = api().await;
        let uri = format!("{DEPLOYMENTS}/web?fieldManager=deployer");
        let mut first: Value = serde_json::from_str(&deployment(2)).unwrap();
        first["metadata"]["labels"]["tier"] = json!("frontend");
        let first = first.to_string();
        let (code, created) = call(
            &state,
            Method::PATCH,
            &uri,
            APPLY_PATCH,
            "kubectl/v1.32.0",
            &first,
        )
        .await;
        assert_eq!(code, StatusCode::CREATED, "{created}");
        assert_eq!(managers(&created), [triple("deployer", "Apply", "")]);
        assert_eq!(
            created["metadata"]["managedFields"][0]["apiVersion"],
            "apps/v1"
        );
        assert!(created["metadata"]["uid"].is_string());
        // Defaults the server filled in belong to nobody.
        assert_eq!(
            created["spec"]["template"]["spec"]["restartPolicy"],
            "Always"
        );
        let fields = &created["metadata"]["managedFields"][0]["fieldsV1"];
        assert!(
            fields["f:spec"]["f:template"]["f:spec"]
                .get("f:restartPolicy")
                .is_none()
        );

        let (code, again) = call(
            &state,
            Method::PATCH,
            &uri,
            APPLY_PATCH,
            "kubectl/v1.32.0",
            &first,
        )
        .await;
        assert_eq!(code, StatusCode::OK);
        assert_eq!(
            again["metadata"]["resourceVersion"],
            created["metadata"]["resourceVersion"]
        );
        assert_eq!(
            again["metadata"]["managedFields"],
            created["metadata"]["managedFields"]
        );

        // A YAML body works as well; the label the manager no longer applies goes.
        let yaml = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n  labels:\n    \
                    app: web\nspec:\n  replicas: 4\n  selector:\n    matchLabels:\n      app: web\n  \
                    template:\n    metadata:\n      labels:\n        app: web\n    spec:\n      \
                    containers:\n      - name: nginx\n        image: nginx:1.25\n";
        let (code, scaled) = call(&state, Method::PATCH, &uri, APPLY_PATCH, "x", yaml).await;
        assert_eq!(code, StatusCode::OK, "{scaled}");
        assert_eq!(scaled["spec"]["replicas"], 4);
        assert_eq!(scaled["metadata"]["labels"], json!({"app": "web"}));
        assert_eq!(scaled["metadata"]["generation"], 2);
    }

    #[tokio::test]
    async fn server_side_apply_reports_conflicts_and_forces() {
        let (_server, state) = api().await;
        let first = format!("{DEPLOYMENTS}/web?fieldManager=first");
        let (code, _) = call(
            &state,
            Method::PATCH,
            &first,
            APPLY_PATCH,
            "",
            &deployment(2),
        )
        .await;
        assert_eq!(code, StatusCode::CREATED);
        let second = format!("{DEPLOYMENTS}/web?fieldManager=second");
        let (code, status) = call(
            &state,
            Method::PATCH,
            &second,
            APPLY_PATCH,
            "",
            &deployment(5),
        )
        .await;
        assert_eq!(code, StatusCode::CONFLICT);
        assert_eq!(
            status,
            json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                "message": "Apply failed with 1 conflict: conflict with \"first\": .spec.replicas",
                "reason": "Conflict", "code": 409,
                "details": {"causes": [{"reason": "FieldManagerConflict",
                    "message": "conflict with \"first\"", "field": ".spec.replicas"}]}})
        );
        let forced = format!("{DEPLOYMENTS}/web?fieldManager=second&force=true");
        let (code, object) = call(
            &state,
            Method::PATCH,
            &forced,
            APPLY_PATCH,
            "",
            &deployment(5),
        )
        .await;
        assert_eq!(code, StatusCode::OK, "{object}");
        assert_eq!(object["spec"]["replicas"], 5);
        assert_eq!(
            managers(&object),
            [triple("first", "Apply", ""), triple("second", "Apply", "")]
        );
    }

    #[tokio::test]
    async fn status_is_applied_through_the_status_subresource_only() {
        let (_server, state) = api().await;
        let status_uri = format!("{DEPLOYMENTS}/web/status?fieldManager=controller");
        let status = r#"{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"web"},
            "spec":{"replicas":7},"status":{"replicas":2,"readyReplicas":1}}"#;
        // The status subresource does not create.
        let (code, _) = call(&state, Method::PATCH, &status_uri, APPLY_PATCH, "", status).await;
        assert_eq!(code, StatusCode::NOT_FOUND);
        let uri = format!("{DEPLOYMENTS}/web?fieldManager=deployer");
        let (code, _) = call(&state, Method::PATCH, &uri, APPLY_PATCH, "", &deployment(2)).await;
        assert_eq!(code, StatusCode::CREATED);
        let (code, object) =
            call(&state, Method::PATCH, &status_uri, APPLY_PATCH, "", status).await;
        assert_eq!(code, StatusCode::OK, "{object}");
        assert_eq!(object["spec"]["replicas"], 2);
        assert_eq!(object["status"]["readyReplicas"], 1);
        // Both entries are Apply entries; their order depends on whether the two writes fell
        // in the same second (then by manager).
        let mut all = managers(&object);
        all.sort();
        assert_eq!(
            all,
            [
                triple("controller", "Apply", "status"),
                triple("deployer", "Apply", "")
            ]
        );
        let entry = object["metadata"]["managedFields"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["manager"] == "controller")
            .unwrap();
        assert_eq!(
            entry["fieldsV1"],
            json!({"f:status": {"f:readyReplicas": {}, "f:replicas": {}}})
        );
    }

    #[tokio::test]
    async fn apply_options_are_validated_before_the_body() {
        let (_server, state) = api().await;
        let (code, status) = call(
            &state,
            Method::PATCH,
            &format!("{DEPLOYMENTS}/web"),
            APPLY_PATCH,
            "kubectl/v1.32.0",
            "not: [valid",
        )
        .await;
        assert_eq!(code, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(
            status["message"],
            "PatchOptions.meta.k8s.io \"\" is invalid: fieldManager: Required value: is required \
             for apply patch"
        );
        assert_eq!(status["details"]["kind"], "PatchOptions");
        let (code, status) = call(
            &state,
            Method::PATCH,
            &format!("{DEPLOYMENTS}/web?fieldManager=m"),
            APPLY_PATCH,
            "",
            "- a\n- b\n",
        )
        .await;
        assert_eq!(code, StatusCode::BAD_REQUEST);
        assert_eq!(
            status["message"],
            "error decoding YAML: json: cannot unmarshal array into Go value of type \
             map[string]interface {}"
        );
        let (code, status) = call(
            &state,
            Method::PATCH,
            &format!("{DEPLOYMENTS}/other?fieldManager=m"),
            APPLY_PATCH,
            "",
            &deployment(1),
        )
        .await;
        assert_eq!(code, StatusCode::BAD_REQUEST);
        assert_eq!(
            status["message"],
            "the name of the object (web) does not match the name on the URL (other)"
        );
        let (code, status) = call(
            &state,
            Method::PATCH,
            &format!("{DEPLOYMENTS}/web?fieldManager=m&force=true"),
            MERGE_PATCH,
            "",
            "{}",
        )
        .await;
        assert_eq!(code, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(
            status["message"],
            "PatchOptions.meta.k8s.io \"\" is invalid: force: Forbidden: may not be specified \
             for non-apply patch"
        );
    }

    #[tokio::test]
    async fn writes_are_tracked_per_manager_and_subresource() {
        let (_server, state) = api().await;
        // A create without fieldManager: the manager comes from the user agent.
        let (code, created) = call(
            &state,
            Method::POST,
            DEPLOYMENTS,
            "application/json",
            "kubectl/v1.32.0 (linux/amd64) kubernetes/abc",
            &deployment(1),
        )
        .await;
        assert_eq!(code, StatusCode::CREATED, "{created}");
        assert_eq!(managers(&created), [triple("kubectl", "Update", "")]);
        let fields = &created["metadata"]["managedFields"][0]["fieldsV1"];
        assert!(fields["f:metadata"]["f:labels"].get(".").is_some());
        assert!(fields.get("f:status").is_none());

        let (code, labelled) = call(
            &state,
            Method::PATCH,
            &format!("{DEPLOYMENTS}/web?fieldManager=kubectl-label"),
            MERGE_PATCH,
            "kubectl/v1.32.0",
            r#"{"metadata":{"labels":{"tier":"frontend"}}}"#,
        )
        .await;
        assert_eq!(code, StatusCode::OK, "{labelled}");
        assert_eq!(
            managers(&labelled),
            [
                triple("kubectl", "Update", ""),
                triple("kubectl-label", "Update", "")
            ]
        );
        assert_eq!(
            labelled["metadata"]["managedFields"][1]["fieldsV1"],
            json!({"f:metadata": {"f:labels": {"f:tier": {}}}})
        );

        let (code, status) = call(
            &state,
            Method::PATCH,
            &format!("{DEPLOYMENTS}/web/status?fieldManager=controller"),
            MERGE_PATCH,
            "",
            r#"{"status":{"replicas":1},"spec":{"replicas":9}}"#,
        )
        .await;
        assert_eq!(code, StatusCode::OK, "{status}");
        assert_eq!(status["spec"]["replicas"], 1);
        let entry = status["metadata"]["managedFields"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["manager"] == "controller")
            .unwrap()
            .clone();
        assert_eq!(entry["subresource"], "status");
        assert_eq!(entry["fieldsV1"], json!({"f:status": {"f:replicas": {}}}));

        // A server-side apply of the same label by another manager conflicts with the labeller.
        let (code, conflict) = call(
            &state,
            Method::PATCH,
            &format!("{DEPLOYMENTS}/web?fieldManager=deployer"),
            APPLY_PATCH,
            "",
            r#"{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"web","labels":{"tier":"backend"}}}"#,
        )
        .await;
        assert_eq!(code, StatusCode::CONFLICT);
        assert_eq!(
            conflict["details"]["causes"][0]["message"],
            "conflict with \"kubectl-label\" using apps/v1"
        );
    }
}
