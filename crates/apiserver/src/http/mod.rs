//! The Kubernetes REST API over HTTP: routing of upstream's paths, authentication, content
//! negotiation (objects, Tables, partial metadata), request bodies (JSON, YAML, protobuf),
//! the four patch types, subresources, watch streams, discovery, health and metrics — with
//! every failure answered as an upstream `Status`.

pub mod discovery;
pub mod request;
mod response;
mod watch;

use std::sync::Arc;
use std::time::Instant;

use axum::body::Body;
use bytes::Bytes;
use http::{HeaderMap, Method, Request, Response, StatusCode};
use kubernaut_api_types::meta::DeleteOptions;
use serde_json::Value;

use crate::auth::{Authenticator, Authorizer, Decision, RequestAttributes, UserInfo};
use crate::error::{ApiError, GroupResource};
use crate::metrics::Metrics;
use crate::object;
use crate::registry::{FieldValidation, ListQuery, Registry, WriteOptions};
use crate::resources::ResourceSpec;
use request::{ApiPath, Query, Rendering, ResourcePath};

pub use response::{error_response, json_response};

/// The largest request body accepted (3 MiB, upstream's limit).
pub const MAX_BODY_BYTES: usize = 3 << 20;

/// Everything the HTTP layer needs.
pub struct ApiState {
    /// The registry.
    pub registry: Arc<Registry>,
    /// Who is asking.
    pub authenticator: Arc<dyn Authenticator>,
    /// May they.
    pub authorizer: Arc<dyn Authorizer>,
    /// Request metrics.
    pub metrics: Arc<Metrics>,
    /// `host:port` clients reach the server at (for `/api`).
    pub server_address: String,
    /// Changes when every open watch must end (the server shuts down, or a test disconnects
    /// watchers): long-running requests watch it.
    pub shutdown: tokio::sync::watch::Receiver<u64>,
    /// The OpenAPI v3 documents, built on first use.
    pub openapi: std::sync::OnceLock<crate::openapi::OpenApi>,
}

impl ApiState {
    /// The OpenAPI documents of every served resource.
    pub fn openapi(&self) -> &crate::openapi::OpenApi {
        self.openapi.get_or_init(|| {
            let resources: Vec<crate::openapi::OpenApiResource> = self
                .registry
                .resources()
                .iter()
                .map(|s| crate::openapi::OpenApiResource {
                    resource: s.api.clone(),
                    verbs: s.verbs.iter().map(|v| (*v).to_owned()).collect(),
                    subresources: discovery::subresource_names(s),
                })
                .collect();
            crate::openapi::OpenApi::build(self.registry.scheme(), &resources)
        })
    }
}

impl std::fmt::Debug for ApiState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApiState")
            .field("server_address", &self.server_address)
            .finish_non_exhaustive()
    }
}

/// The router: every request goes to [`handle`].
pub fn router(state: Arc<ApiState>) -> axum::Router {
    axum::Router::new().fallback(move |req: Request<Body>| {
        let state = Arc::clone(&state);
        async move { handle(state, req).await }
    })
}

/// Paths anyone may read without credentials, as upstream's `system:public-info-viewer`.
fn is_public(path: &str) -> bool {
    matches!(path, "/version" | "/healthz" | "/livez" | "/readyz")
        || path.starts_with("/healthz/")
        || path.starts_with("/livez/")
        || path.starts_with("/readyz/")
}

/// Handles one request.
pub async fn handle(state: Arc<ApiState>, req: Request<Body>) -> Response<Body> {
    let started = Instant::now();
    let (parts, body) = req.into_parts();
    let path = parts.uri.path().to_owned();
    let query = Query::parse(parts.uri.query());
    let mut labels = ("".to_owned(), "".to_owned());
    let result = async {
        let user = match state.authenticator.authenticate(&parts.headers)? {
            Some(user) => user,
            None if is_public(&path) => UserInfo {
                name: "system:anonymous".into(),
                groups: vec!["system:unauthenticated".into()],
                ..UserInfo::default()
            },
            None => return Err(ApiError::unauthorized()),
        };
        let parsed = request::parse_path(&path);
        let (verb, resource) = describe(&parts.method, &query, parsed.as_ref());
        labels = (verb.clone(), resource.clone());
        let attributes = RequestAttributes {
            verb,
            group: match &parsed {
                Some(ApiPath::Resource(r)) => r.group.clone(),
                _ => String::new(),
            },
            resource,
            subresource: match &parsed {
                Some(ApiPath::Resource(r)) => r.subresource.clone().unwrap_or_default(),
                _ => String::new(),
            },
            namespace: match &parsed {
                Some(ApiPath::Resource(r)) => r.namespace.clone().unwrap_or_default(),
                _ => String::new(),
            },
            name: match &parsed {
                Some(ApiPath::Resource(r)) => r.name.clone().unwrap_or_default(),
                _ => String::new(),
            },
            path: path.clone(),
        };
        if let Decision::Deny(reason) = state.authorizer.authorize(&user, &attributes) {
            let gr = GroupResource::new(&attributes.group, &attributes.resource);
            return Err(ApiError::forbidden(
                &gr,
                &attributes.name,
                &format!(
                    "User \"{}\" cannot {} resource: {reason}",
                    user.name, attributes.verb
                ),
            ));
        }
        route(
            &state,
            &parts.method,
            &path,
            &query,
            &parts.headers,
            parsed,
            body,
            &user,
        )
        .await
    }
    .await;
    let response = match result {
        Ok(r) => r,
        Err(e) => error_response(&e),
    };
    state.metrics.observe(
        &labels.0,
        &labels.1,
        response.status().as_u16(),
        started.elapsed(),
    );
    response
}

/// The verb and resource a request is counted under.
fn describe(method: &Method, query: &Query, parsed: Option<&ApiPath>) -> (String, String) {
    let Some(ApiPath::Resource(r)) = parsed else {
        return (method.as_str().to_ascii_lowercase(), String::new());
    };
    let watch = r.legacy_watch || query.flag("watch") == Some(true);
    let verb = match (method, r.name.is_some(), watch) {
        (&Method::GET, _, true) => "watch",
        (&Method::GET, true, _) => "get",
        (&Method::GET, false, _) => "list",
        (&Method::POST, _, _) => "create",
        (&Method::PUT, _, _) => "update",
        (&Method::PATCH, _, _) => "patch",
        (&Method::DELETE, true, _) => "delete",
        (&Method::DELETE, false, _) => "deletecollection",
        (m, _, _) => return (m.as_str().to_ascii_lowercase(), r.resource.clone()),
    };
    (verb.to_owned(), r.resource.clone())
}

#[allow(clippy::too_many_arguments)]
async fn route(
    state: &Arc<ApiState>,
    method: &Method,
    path: &str,
    query: &Query,
    headers: &HeaderMap,
    parsed: Option<ApiPath>,
    body: Body,
    user: &UserInfo,
) -> Result<Response<Body>, ApiError> {
    let resources = state.registry.resources();
    let get_only = |doc: Option<Value>| -> Result<Response<Body>, ApiError> {
        if method != Method::GET {
            return Err(ApiError::method_not_allowed(method.as_str(), path));
        }
        doc.map(|d| json_response(StatusCode::OK, &d))
            .ok_or_else(not_found_path)
    };
    match path {
        "/version" => return get_only(Some(discovery::version())),
        "/healthz" | "/livez" | "/readyz" => {
            return Ok(response::text(StatusCode::OK, "ok"));
        }
        "/metrics" => {
            return Ok(response::with_type(
                StatusCode::OK,
                "text/plain; version=0.0.4; charset=utf-8",
                state.metrics.encode(),
            ));
        }
        _ => {}
    }
    if path.starts_with("/healthz/") || path.starts_with("/livez/") || path.starts_with("/readyz/")
    {
        return Ok(response::text(StatusCode::OK, "ok"));
    }
    if path == "/openapi/v3" || path == "/openapi/v3/" {
        return get_only(Some(state.openapi().index().clone()));
    }
    if let Some(doc) = path.strip_prefix("/openapi/v3/") {
        if method != Method::GET {
            return Err(ApiError::method_not_allowed(method.as_str(), path));
        }
        let (bytes, hash) = state.openapi().document(doc).ok_or_else(not_found_path)?;
        let mut r = response::with_type(
            StatusCode::OK,
            "application/json",
            Bytes::copy_from_slice(bytes),
        );
        // A request naming the current hash may be cached for good, as upstream answers.
        if query.get("hash") == Some(hash)
            && let Ok(v) = http::HeaderValue::from_str("public, immutable")
        {
            r.headers_mut().insert(http::header::CACHE_CONTROL, v);
        }
        if let Ok(v) = http::HeaderValue::from_str(&format!("\"{hash}\"")) {
            r.headers_mut().insert(http::header::ETAG, v);
        }
        return Ok(r);
    }
    let Some(parsed) = parsed else {
        return Err(not_found_path());
    };
    let aggregated = discovery_version(headers);
    match parsed {
        ApiPath::CoreVersions => match aggregated {
            Some(v) => Ok(response::aggregated(
                discovery::aggregated(resources, true, v),
                v,
            )),
            None => get_only(Some(discovery::api_versions(&state.server_address))),
        },
        ApiPath::Groups => match aggregated {
            Some(v) => Ok(response::aggregated(
                discovery::aggregated(resources, false, v),
                v,
            )),
            None => get_only(Some(discovery::api_group_list(resources))),
        },
        ApiPath::Group(g) => get_only(discovery::api_group(resources, &g)),
        ApiPath::GroupVersion(g, v) => get_only(discovery::api_resource_list(resources, &g, &v)),
        ApiPath::Resource(r) => {
            resource_request(state, method, query, headers, r, body, user).await
        }
    }
}

/// The aggregated discovery version `Accept` asks for, if any.
fn discovery_version(headers: &HeaderMap) -> Option<&'static str> {
    for m in request::accepted(headers) {
        if m.essence == "application/json"
            && m.param("g") == Some("apidiscovery.k8s.io")
            && m.param("as") == Some("APIGroupDiscoveryList")
        {
            match m.param("v") {
                Some("v2") => return Some("v2"),
                Some("v2beta1") => return Some("v2beta1"),
                _ => {}
            }
        }
        if m.accepts_json() && m.param("as").is_none() {
            return None;
        }
    }
    None
}

fn not_found_path() -> ApiError {
    ApiError::new(
        404,
        "NotFound",
        "the server could not find the requested resource",
    )
    .with_details(Default::default())
}

async fn resource_request(
    state: &Arc<ApiState>,
    method: &Method,
    query: &Query,
    headers: &HeaderMap,
    r: ResourcePath,
    body: Body,
    user: &UserInfo,
) -> Result<Response<Body>, ApiError> {
    let registry = &state.registry;
    let spec = registry
        .resources()
        .get(&r.group, &r.resource)
        .filter(|s| s.api.version == r.version)
        .cloned()
        .ok_or_else(not_found_path)?;
    // A namespaced resource without a namespace in the path is listed across namespaces;
    // a cluster-scoped one with a namespace does not exist there.
    if !spec.namespaced() && r.namespace.is_some() {
        return Err(not_found_path());
    }
    let namespace = r.namespace.as_deref();
    if spec.namespaced() && r.name.is_some() && namespace.is_none() {
        return Err(not_found_path());
    }
    let watch = r.legacy_watch || query.flag("watch") == Some(true);
    match (method, r.name.as_deref(), r.subresource.as_deref()) {
        (&Method::GET, None, None) if watch => {
            let rendering = request::negotiate(headers)?;
            watch::serve(state, &spec, namespace, None, query, rendering).await
        }
        (&Method::GET, Some(name), None) if watch => {
            let rendering = request::negotiate(headers)?;
            watch::serve(state, &spec, namespace, Some(name), query, rendering).await
        }
        (&Method::GET, None, None) => {
            let rendering = request::negotiate(headers)?;
            list(state, &spec, namespace, query, rendering).await
        }
        (&Method::GET, Some(name), None | Some("status")) => {
            let rendering = request::negotiate(headers)?;
            let obj = registry
                .get(&spec, namespace, name, query.get("resourceVersion"))
                .await?;
            response::single(&spec, &obj, rendering, query)
        }
        (&Method::POST, None, None) => {
            if spec.namespaced() && namespace.is_none() {
                return Err(not_found_path());
            }
            let value = body_value(headers, body).await?;
            let written = registry
                .create(
                    &spec,
                    namespace,
                    value,
                    &write_options(query, headers)?,
                    user,
                )
                .await?;
            Ok(response::written(written))
        }
        (&Method::PUT, Some(name), sub @ (None | Some("status"))) => {
            let value = body_value(headers, body).await?;
            let written = registry
                .update(
                    &spec,
                    namespace,
                    name,
                    sub,
                    value,
                    &write_options(query, headers)?,
                    user,
                )
                .await?;
            Ok(response::written(written))
        }
        (&Method::PUT, Some(name), Some("finalize")) if spec.api.kind == "Namespace" => {
            let value = body_value(headers, body).await?;
            finalize_namespace(state, &spec, name, value, query, headers, user).await
        }
        (&Method::PATCH, Some(name), sub @ (None | Some("status"))) => {
            let content_type = content_type(headers);
            let bytes = read_body(body).await?;
            let written = crate::patch::patch(
                registry,
                &spec,
                namespace,
                name,
                sub,
                &content_type,
                &bytes,
                &write_options(query, headers)?,
                query,
                user,
            )
            .await?;
            Ok(response::written(written))
        }
        (&Method::DELETE, Some(name), None) => {
            let options = delete_options(headers, body, query).await?;
            let written = registry
                .delete(&spec, namespace, name, &options, user)
                .await?;
            Ok(response::written(written))
        }
        (&Method::DELETE, None, None) => {
            let options = delete_options(headers, body, query).await?;
            delete_collection(state, &spec, namespace, query, &options, user).await
        }
        (m, Some(name), Some("scale")) if spec.scale.is_some() => {
            crate::subresources::scale(state, &spec, namespace, name, m, query, headers, body, user)
                .await
        }
        (&Method::POST, Some(name), Some("binding")) if spec.api.kind == "Pod" => {
            let value = body_value(headers, body).await?;
            crate::subresources::bind(state, &spec, namespace, name, value, query, headers, user)
                .await
        }
        (_, _, Some(sub)) if !known_subresource(&spec, sub) => Err(not_found_path()),
        (m, _, _) => Err(ApiError::method_not_allowed(
            m.as_str(),
            &format!("{}", spec.group_resource()),
        )),
    }
}

fn known_subresource(spec: &ResourceSpec, sub: &str) -> bool {
    match sub {
        "status" => spec.status_subresource,
        "scale" => spec.scale.is_some(),
        "binding" | "eviction" => spec.api.group.is_empty() && spec.api.kind == "Pod",
        "finalize" => spec.api.group.is_empty() && spec.api.kind == "Namespace",
        _ => false,
    }
}

/// The options of a write from its query; the field manager is the `fieldManager` parameter,
/// else the prefix of the `User-Agent` (upstream's `managerOrUserAgent`).
///
/// # Errors
/// `400` for an unknown `dryRun` or `fieldValidation` value.
pub(crate) fn write_options(query: &Query, headers: &HeaderMap) -> Result<WriteOptions, ApiError> {
    let mut dry_run = false;
    for v in query.all("dryRun") {
        match v {
            "All" => dry_run = true,
            "" => {}
            other => {
                return Err(ApiError::bad_request(format!(
                    "dryRun: Unsupported value: \"{other}\": supported values: \"All\""
                )));
            }
        }
    }
    Ok(WriteOptions {
        dry_run,
        field_manager: Some(crate::patch::apply::manager_or_user_agent(
            query.get("fieldManager"),
            &headers
                .get(http::header::USER_AGENT)
                .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
                .unwrap_or_default(),
        )),
        field_validation: FieldValidation::parse(query.get("fieldValidation").unwrap_or(""))?,
    })
}

/// The `Content-Type` of the request, without parameters, lower case.
pub(crate) fn content_type(headers: &HeaderMap) -> String {
    headers
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(request::MediaType::parse)
        .map(|m| m.essence)
        .unwrap_or_else(|| "application/json".to_owned())
}

/// Reads the whole body, refusing more than [`MAX_BODY_BYTES`].
///
/// # Errors
/// `413` when too large; `400` when the connection broke.
pub(crate) async fn read_body(body: Body) -> Result<Bytes, ApiError> {
    match axum::body::to_bytes(body, MAX_BODY_BYTES).await {
        Ok(b) => Ok(b),
        Err(e) => {
            let too_large = std::error::Error::source(&e)
                .is_some_and(|s| s.to_string().contains("length limit exceeded"))
                || e.to_string().contains("length limit exceeded");
            if too_large {
                Err(ApiError::too_large(format!(
                    "Request entity too large: limit is {MAX_BODY_BYTES}"
                )))
            } else {
                Err(ApiError::bad_request(format!(
                    "could not read the request body: {e}"
                )))
            }
        }
    }
}

/// The body as JSON, decoded by its `Content-Type`.
///
/// # Errors
/// `415` for an unsupported type, `400` for a body that does not decode, `413` when too
/// large.
pub(crate) async fn body_value(headers: &HeaderMap, body: Body) -> Result<Value, ApiError> {
    let ct = content_type(headers);
    let bytes = read_body(body).await?;
    decode_body(&ct, &bytes)
}

/// Decodes a request body of media type `ct`.
///
/// # Errors
/// `415` for an unsupported type, `400` for a body that does not decode.
pub fn decode_body(ct: &str, bytes: &[u8]) -> Result<Value, ApiError> {
    match ct {
        "application/json" => crate::body::parse_json(bytes),
        "application/yaml" | "application/x-yaml" | "text/yaml" => crate::body::parse_yaml(bytes),
        "application/vnd.kubernetes.protobuf" => crate::body::parse_protobuf(bytes),
        other => Err(ApiError::unsupported_media_type(
            other,
            &[
                "application/json",
                "application/yaml",
                "application/vnd.kubernetes.protobuf",
            ],
        )),
    }
}

async fn delete_options(
    headers: &HeaderMap,
    body: Body,
    query: &Query,
) -> Result<DeleteOptions, ApiError> {
    let bytes = read_body(body).await?;
    let mut options = if bytes.iter().all(u8::is_ascii_whitespace) {
        DeleteOptions::default()
    } else {
        let value = decode_body(&content_type(headers), &bytes)?;
        serde_json::from_value::<DeleteOptions>(value)
            .map_err(|e| ApiError::bad_request(format!("invalid DeleteOptions: {e}")))?
    };
    if let Some(g) = query.int("gracePeriodSeconds")? {
        options.grace_period_seconds = Some(g);
    }
    if let Some(p) = query.get("propagationPolicy") {
        options.propagation_policy = Some(p.to_owned());
    }
    if let Some(o) = query.flag("orphanDependents") {
        options.orphan_dependents = Some(o);
    }
    let dry: Vec<String> = query.all("dryRun").into_iter().map(str::to_owned).collect();
    if !dry.is_empty() {
        options.dry_run = Some(dry);
    }
    if let Some(d) = &options.dry_run
        && let Some(bad) = d.iter().find(|v| *v != "All" && !v.is_empty())
    {
        return Err(ApiError::bad_request(format!(
            "dryRun: Unsupported value: \"{bad}\": supported values: \"All\""
        )));
    }
    Ok(options)
}

/// Parses the list parameters.
///
/// # Errors
/// `400` for selectors that do not parse or a bad `limit`.
pub(crate) fn list_query(query: &Query) -> Result<ListQuery, ApiError> {
    let label_selector = kubernaut_api_types::selector::label::Selector::parse(
        query.get("labelSelector").unwrap_or(""),
    )
    .map_err(|e| ApiError::bad_request(format!("unable to parse requirement: {e}")))?;
    let field_selector = kubernaut_api_types::selector::field::Selector::parse(
        query.get("fieldSelector").unwrap_or(""),
    )
    .map_err(|e| ApiError::bad_request(e.to_string()))?;
    let limit = query.int("limit")?.unwrap_or(0);
    if limit < 0 {
        return Err(ApiError::bad_request("limit must not be negative"));
    }
    Ok(ListQuery {
        label_selector,
        field_selector,
        limit,
        continue_token: query
            .get("continue")
            .filter(|c| !c.is_empty())
            .map(str::to_owned),
        resource_version: query.get("resourceVersion").map(str::to_owned),
        resource_version_match: query
            .get("resourceVersionMatch")
            .filter(|m| !m.is_empty())
            .map(str::to_owned),
    })
}

async fn list(
    state: &Arc<ApiState>,
    spec: &Arc<ResourceSpec>,
    namespace: Option<&str>,
    query: &Query,
    rendering: Rendering,
) -> Result<Response<Body>, ApiError> {
    let q = list_query(query)?;
    if let Some(m) = &q.resource_version_match {
        match m.as_str() {
            "NotOlderThan" | "Exact" => {
                if q.resource_version.as_deref().is_none_or(str::is_empty) {
                    return Err(ApiError::invalid(
                        &crate::error::GroupKind::new("meta.k8s.io", "ListOptions"),
                        "",
                        &[kubernaut_api_types::validate::FieldError::forbidden(
                            &kubernaut_api_types::validate::Path::new("resourceVersionMatch"),
                            "resourceVersionMatch is forbidden unless resourceVersion is provided",
                        )],
                    ));
                }
            }
            other => {
                return Err(ApiError::invalid(
                    &crate::error::GroupKind::new("meta.k8s.io", "ListOptions"),
                    "",
                    &[kubernaut_api_types::validate::FieldError::not_supported(
                        &kubernaut_api_types::validate::Path::new("resourceVersionMatch"),
                        other.to_owned(),
                        &["Exact", "NotOlderThan", ""],
                    )],
                ));
            }
        }
    }
    let page = state.registry.list(spec, namespace, &q).await?;
    response::list(spec, page, rendering, query)
}

async fn delete_collection(
    state: &Arc<ApiState>,
    spec: &Arc<ResourceSpec>,
    namespace: Option<&str>,
    query: &Query,
    options: &DeleteOptions,
    user: &UserInfo,
) -> Result<Response<Body>, ApiError> {
    let q = list_query(query)?;
    let page = state.registry.list(spec, namespace, &q).await?;
    let mut deleted = Vec::new();
    for obj in &page.items {
        match state
            .registry
            .delete(spec, obj.namespace.as_deref(), &obj.name, options, user)
            .await
        {
            Ok(_) => deleted.push(obj.clone()),
            Err(e) if e.code() == 404 => {}
            Err(e) => return Err(e),
        }
    }
    let page = crate::registry::ListPage {
        items: deleted,
        rv: page.rv,
        continue_token: None,
        remaining: None,
    };
    response::list(spec, page, Rendering::Object, query)
}

async fn finalize_namespace(
    state: &Arc<ApiState>,
    spec: &Arc<ResourceSpec>,
    name: &str,
    value: Value,
    query: &Query,
    headers: &HeaderMap,
    user: &UserInfo,
) -> Result<Response<Body>, ApiError> {
    let finalizers = object::get_path(&value, &["spec", "finalizers"]).cloned();
    let options = write_options(query, headers)?;
    let written = state
        .registry
        .guaranteed_update(
            spec,
            None,
            name,
            Some("finalize"),
            &options,
            user,
            None,
            |current| {
                let mut next = current.clone();
                match &finalizers {
                    Some(f) => object::set_path(&mut next, &["spec", "finalizers"], f.clone()),
                    None => {
                        if let Some(s) = next.get_mut("spec").and_then(Value::as_object_mut) {
                            s.remove("finalizers");
                        }
                    }
                }
                Ok(next)
            },
        )
        .await?;
    Ok(response::written(written))
}
