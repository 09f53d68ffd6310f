//! The registry: upstream's generic registry semantics over the store, for every served
//! resource — create (generateName, uid, creation time, defaulting, validation, admission),
//! reads and lists from the watch cache, guarded updates with retries, the status and scale
//! subresources, graceful deletion with finalizers, and dry runs that persist nothing.

use std::collections::HashMap;
use std::sync::Arc;

use bytes::Bytes;
use kubernaut_api_types::Time;
use kubernaut_api_types::meta::{DeleteOptions, StatusDetails};
use kubernaut_api_types::scheme::{AnyObject, Decoded, Scheme};
use kubernaut_api_types::selector::{field, label};
use kubernaut_store::{Backend, BackendExt, ListOptions, ReadAt, StoreError};
use serde_json::{Value, json};

use crate::admission::{AdmissionChain, Attributes, Operation, Reservations};
use crate::auth::UserInfo;
use crate::cache::{CacheConfig, CachedObject, Cacher};
use crate::error::{ApiError, Result};
use crate::object;
use crate::resources::{ResourceSpec, Resources};
use crate::strategy;

/// How unknown and duplicate fields in a request body are treated (`?fieldValidation=`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum FieldValidation {
    /// Dropped silently.
    Ignore,
    /// Dropped, with a `Warning` header per field (upstream's default).
    #[default]
    Warn,
    /// The request fails with `400 BadRequest`.
    Strict,
}

impl FieldValidation {
    /// Parses the query parameter.
    ///
    /// # Errors
    /// `400 BadRequest` for anything but `Ignore`, `Warn` and `Strict`.
    pub fn parse(value: &str) -> Result<Self> {
        match value {
            "Ignore" => Ok(FieldValidation::Ignore),
            "Warn" | "" => Ok(FieldValidation::Warn),
            "Strict" => Ok(FieldValidation::Strict),
            other => Err(ApiError::bad_request(format!(
                "fieldValidation parameter unsupported: {other}; supported values are \
                 \"Ignore\", \"Warn\" and \"Strict\""
            ))),
        }
    }
}

/// Options of a write.
#[derive(Clone, Debug, Default)]
pub struct WriteOptions {
    /// `dryRun=All`: everything but persisting.
    pub dry_run: bool,
    /// `fieldManager`.
    pub field_manager: Option<String>,
    /// `fieldValidation`.
    pub field_validation: FieldValidation,
}

/// How a write maintains `metadata.managedFields`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Tracking {
    /// A create, update or non-apply patch: the changed fields go to the writer's `Update`
    /// entry ([`crate::patch::apply::FieldManager::update`]).
    Update,
    /// A server-side apply: the object comes with its managed fields already computed.
    Apply,
}

/// The answer to a write.
#[derive(Clone, Debug)]
pub struct Written {
    /// 200 or 201 (or 202 for a deletion still in progress).
    pub code: u16,
    /// The object (or `Status`) as JSON.
    pub body: Bytes,
    /// `Warning` headers (unknown fields under `fieldValidation=Warn`).
    pub warnings: Vec<String>,
}

/// A list request.
#[derive(Clone, Debug, Default)]
pub struct ListQuery {
    /// `labelSelector`.
    pub label_selector: label::Selector,
    /// `fieldSelector`.
    pub field_selector: field::Selector,
    /// `limit` (0 = none).
    pub limit: i64,
    /// `continue`.
    pub continue_token: Option<String>,
    /// `resourceVersion`.
    pub resource_version: Option<String>,
    /// `resourceVersionMatch`.
    pub resource_version_match: Option<String>,
}

/// A page of a list.
#[derive(Debug)]
pub struct ListPage {
    /// The objects, encoded.
    pub items: Vec<Arc<CachedObject>>,
    /// The list's resource version.
    pub rv: i64,
    /// The continue token, when more remain.
    pub continue_token: Option<String>,
    /// How many objects remain after this page, when known.
    pub remaining: Option<i64>,
}

/// Settings of the registry.
#[derive(Clone, Debug, Default)]
pub struct RegistryConfig {
    /// The watch caches.
    pub cache: CacheConfig,
}

/// The registry of every served resource.
pub struct Registry {
    store: Arc<dyn Backend>,
    scheme: Arc<Scheme>,
    resources: Resources,
    caches: HashMap<(String, String), Arc<Cacher>>,
    admission: AdmissionChain,
    patch_schemas: crate::patch::strategic::PatchSchemas,
    type_schemas: crate::patch::apply::TypeSchemas,
}

impl std::fmt::Debug for Registry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Registry")
            .field("resources", &self.resources.iter().count())
            .field("admission", &self.admission)
            .finish_non_exhaustive()
    }
}

/// How many times an update is retried when the object changed under it.
const MAX_RETRIES: usize = 16;

impl Registry {
    /// A registry serving `resources` from `store`, with one watch cache per resource (each
    /// fed by its own task: call [`Registry::start`]).
    pub fn new(
        store: Arc<dyn Backend>,
        scheme: Arc<Scheme>,
        resources: Resources,
        admission: AdmissionChain,
        config: &RegistryConfig,
    ) -> Self {
        let caches = resources
            .iter()
            .map(|spec| {
                (
                    (spec.api.group.clone(), spec.api.plural.clone()),
                    Cacher::new(Arc::clone(spec), Arc::clone(&store), config.cache),
                )
            })
            .collect();
        Registry {
            store,
            scheme,
            resources,
            caches,
            admission,
            patch_schemas: crate::patch::strategic::PatchSchemas::new(),
            type_schemas: crate::patch::apply::TypeSchemas::new(),
        }
    }

    /// The admission chain, to add plugins before the registry is shared.
    pub fn admission_mut(&mut self) -> &mut AdmissionChain {
        &mut self.admission
    }

    /// Starts every cache's feeding task and waits until each has loaded.
    pub async fn start(&self) {
        for cacher in self.caches.values() {
            tokio::spawn(Arc::clone(cacher).run());
        }
        for cacher in self.caches.values() {
            cacher.ready().await;
        }
    }

    /// The served resources.
    pub fn resources(&self) -> &Resources {
        &self.resources
    }

    /// The scheme.
    pub fn scheme(&self) -> &Scheme {
        &self.scheme
    }

    /// The strategic-merge patch metadata of every kind, computed once per kind.
    pub fn patch_schemas(&self) -> &crate::patch::strategic::PatchSchemas {
        &self.patch_schemas
    }

    /// The server-side apply structure of every kind, computed once per kind.
    pub fn type_schemas(&self) -> &crate::patch::apply::TypeSchemas {
        &self.type_schemas
    }

    /// The field manager of a write to `spec` through `subresource` at `now`: the kind's
    /// structure, the resource's API version and the reset fields of its strategy.
    pub fn field_manager(
        &self,
        spec: &ResourceSpec,
        subresource: Option<&str>,
        now: &str,
    ) -> crate::patch::apply::FieldManager {
        let schema = self
            .type_schemas
            .get(&self.scheme, &spec.api.api_version, &spec.api.kind);
        crate::patch::apply::FieldManager::new(schema, &spec.api.api_version, &spec.api.kind, now)
            .with_subresource(subresource)
            .with_reset_fields(crate::patch::apply::ResetFields::for_write(
                spec.status_subresource,
                subresource,
            ))
    }

    /// The store.
    pub fn store(&self) -> &Arc<dyn Backend> {
        &self.store
    }

    /// The watch cache of a resource.
    pub fn cache(&self, spec: &ResourceSpec) -> Result<&Arc<Cacher>> {
        self.caches
            .get(&(spec.api.group.clone(), spec.api.plural.clone()))
            .ok_or_else(|| ApiError::internal(format!("no cache for {}", spec.group_resource())))
    }

    // ----- decoding -------------------------------------------------------------------------

    /// Checks a body's `apiVersion`/`kind` against the resource (filling them in when absent),
    /// decodes it into its type with defaults applied, and reports unknown fields as
    /// `validation` says.
    fn decode(
        &self,
        spec: &ResourceSpec,
        body: &mut Value,
        validation: FieldValidation,
        warnings: &mut Vec<String>,
    ) -> Result<Box<dyn AnyObject>> {
        let Value::Object(map) = body else {
            return Err(ApiError::bad_request(format!(
                "the body of the request must be a {} object",
                spec.api.kind
            )));
        };
        let expected = &spec.api.api_version;
        match map.get("apiVersion").and_then(Value::as_str) {
            None | Some("") => {
                map.insert("apiVersion".into(), Value::String(expected.clone()));
            }
            Some(v) if v != expected => {
                return Err(ApiError::bad_request(format!(
                    "the API version in the data ({v}) does not match the expected API version \
                     ({expected})"
                )));
            }
            Some(_) => {}
        }
        match map.get("kind").and_then(Value::as_str) {
            None | Some("") => {
                map.insert("kind".into(), Value::String(spec.api.kind.clone()));
            }
            Some(k) if k != spec.api.kind => {
                return Err(ApiError::bad_request(format!(
                    "{k} in version \"{}\" cannot be handled as a {}: the kind in the data \
                     ({k}) does not match the expected kind ({})",
                    spec.api.version, spec.api.kind, spec.api.kind
                )));
            }
            Some(_) => {}
        }
        let cannot_handle = |detail: String| {
            ApiError::bad_request(format!(
                "{} in version \"{}\" cannot be handled as a {}: {detail}",
                spec.api.kind, spec.api.version, spec.api.kind
            ))
        };
        let decoded = match self.scheme.decode(body) {
            Ok(Decoded::Known(d)) => d,
            Ok(Decoded::Unknown(_)) => {
                return Err(ApiError::internal(format!(
                    "no type registered for {}",
                    spec.group_kind()
                )));
            }
            Err(e) => return Err(cannot_handle(e.to_string())),
        };
        if !decoded.unknown_fields.is_empty() {
            match validation {
                FieldValidation::Strict => {
                    return Err(cannot_handle(
                        kubernaut_api_types::manifest::DecodeError::UnknownFields(
                            decoded.unknown_fields,
                        )
                        .to_string(),
                    ));
                }
                FieldValidation::Warn => warnings.extend(
                    decoded
                        .unknown_fields
                        .iter()
                        .map(|f| format!("unknown field \"{f}\"")),
                ),
                FieldValidation::Ignore => {}
            }
        }
        let mut object = decoded.object;
        // Upstream folds a Secret's write-only `stringData` into `data` when decoding it.
        if let Some(secret) = object.downcast_mut::<kubernaut_api_types::core::v1::Secret>() {
            secret.fold_string_data();
        }
        object.set_defaults();
        Ok(object)
    }

    /// Decodes a (server-prepared) object for validation.
    fn validate(&self, spec: &ResourceSpec, object: &Value, name: &str) -> Result<()> {
        let typed = match self.scheme.decode(object) {
            Ok(Decoded::Known(d)) => d.object,
            Ok(Decoded::Unknown(_)) => return Ok(()),
            Err(e) => return Err(ApiError::bad_request(e.to_string())),
        };
        let errors = typed.validate();
        if errors.is_empty() {
            Ok(())
        } else {
            Err(ApiError::invalid(&spec.group_kind(), name, &errors))
        }
    }

    // ----- create ---------------------------------------------------------------------------

    /// Creates an object (`POST`).
    ///
    /// # Errors
    /// `400` for a body that is not the resource's kind or has unknown fields under Strict,
    /// `422` for an invalid object, `409 AlreadyExists`, admission refusals, `503` when the
    /// store is down.
    pub async fn create(
        &self,
        spec: &ResourceSpec,
        namespace: Option<&str>,
        body: Value,
        options: &WriteOptions,
        user: &UserInfo,
    ) -> Result<Written> {
        self.create_with(spec, namespace, body, options, user, Tracking::Update)
            .await
    }

    /// [`Registry::create`], with the managed fields maintained as `tracking` says: an
    /// `Update` entry for the writer, or (for an apply that creates) those the body brings.
    pub(crate) async fn create_with(
        &self,
        spec: &ResourceSpec,
        namespace: Option<&str>,
        mut body: Value,
        options: &WriteOptions,
        user: &UserInfo,
        tracking: Tracking,
    ) -> Result<Written> {
        let mut warnings = Vec::new();
        check_namespace(spec, namespace, &body)?;
        let typed = self.decode(spec, &mut body, options.field_validation, &mut warnings)?;
        let mut obj = typed.to_json();
        let now = Time::now().to_string();
        if tracking == Tracking::Update {
            // Upstream records the create before the strategy fills in what the server sets.
            self.field_manager(spec, None, &now).update(
                None,
                &mut obj,
                options.field_manager.as_deref().unwrap_or(""),
            );
        }
        strategy::prepare_for_create(spec, &mut obj, namespace, &now);
        let name = object::name(&obj).to_owned();
        if name.is_empty() {
            let errors = vec![kubernaut_api_types::validate::FieldError::required(
                &kubernaut_api_types::validate::Path::new("metadata").child("name"),
                "name or generateName is required",
            )];
            return Err(ApiError::invalid(&spec.group_kind(), "", &errors));
        }
        let mut attributes = Attributes {
            operation: Operation::Create,
            resource: spec,
            subresource: None,
            namespace,
            name: &name,
            object: &mut obj,
            old_object: None,
            dry_run: options.dry_run,
            user,
        };
        self.admission.admit(&mut attributes).await?;
        // Mutating admission may have changed defaults-relevant fields: decode once more.
        self.validate(spec, attributes.object, &name)?;
        self.admission.validate(&attributes).await?;
        let reservations = self.admission.reserve(&mut attributes).await?;
        let key = spec.key(namespace, &name);
        let stored = object::encode_for_storage(&obj);
        if options.dry_run {
            reservations.release();
            return Ok(Written {
                code: 201,
                body: object::with_resource_version(&stored, 0),
                warnings,
            });
        }
        match self.store.create(&key, Bytes::from(stored.clone())).await {
            Ok(rev) => {
                reservations.commit();
                Ok(Written {
                    code: 201,
                    body: object::with_resource_version(&stored, rev),
                    warnings,
                })
            }
            Err(e) => {
                reservations.release();
                Err(match e {
                    StoreError::AlreadyExists { .. } => {
                        ApiError::already_exists(&spec.group_resource(), &name)
                    }
                    other => store_error(other),
                })
            }
        }
    }

    // ----- reads ----------------------------------------------------------------------------

    /// Waits until the cache can answer a read with `resourceVersion` as given.
    async fn cache_for_read(
        &self,
        spec: &ResourceSpec,
        resource_version: Option<&str>,
    ) -> Result<&Arc<Cacher>> {
        let cache = self.cache(spec)?;
        match resource_version {
            None | Some("") => cache.wait_fresh().await?,
            Some("0") => {}
            Some(rv) => cache.wait_for(parse_rv(rv)?).await?,
        }
        Ok(cache)
    }

    /// Reads one object (`GET`).
    ///
    /// # Errors
    /// `404 NotFound`; `504` when the cache cannot catch up.
    pub async fn get(
        &self,
        spec: &ResourceSpec,
        namespace: Option<&str>,
        name: &str,
        resource_version: Option<&str>,
    ) -> Result<Arc<CachedObject>> {
        let cache = self.cache_for_read(spec, resource_version).await?;
        cache
            .get(namespace, name)
            .0
            .ok_or_else(|| ApiError::not_found(&spec.group_resource(), name))
    }

    /// Reads one object as JSON from the store (the latest state), with its revision.
    async fn get_stored(
        &self,
        spec: &ResourceSpec,
        namespace: Option<&str>,
        name: &str,
    ) -> Result<Option<(Value, Vec<u8>, i64)>> {
        let key = spec.key(namespace, name);
        let got = self
            .store
            .get(&key, ReadAt::Latest)
            .await
            .map_err(store_error)?;
        match got.kv {
            None => Ok(None),
            Some(kv) => {
                let value = object::decode_stored(&kv.value, kv.mod_revision).map_err(|e| {
                    ApiError::internal(format!("stored object {key} is damaged: {e}"))
                })?;
                Ok(Some((value, kv.value.to_vec(), kv.mod_revision)))
            }
        }
    }

    /// Lists objects (`GET` on a collection), from the watch cache, or from the store for a
    /// paginated list so that every page reads the same revision.
    ///
    /// # Errors
    /// `400` for a field selector on an unsupported field, `410` for an expired continue
    /// token, `504` when the cache cannot catch up.
    pub async fn list(
        &self,
        spec: &ResourceSpec,
        namespace: Option<&str>,
        query: &ListQuery,
    ) -> Result<ListPage> {
        query
            .field_selector
            .check_supported(&spec.all_selectable_fields())
            .map_err(|e| ApiError::bad_request(e.to_string()))?;
        let paginated = query.continue_token.is_some()
            || (query.limit > 0 && query.resource_version.as_deref() != Some("0"));
        if paginated {
            return self.list_from_store(spec, namespace, query).await;
        }
        let cache = self
            .cache_for_read(spec, query.resource_version.as_deref())
            .await?;
        let snapshot = cache.snapshot(namespace);
        let items = snapshot
            .objects
            .into_iter()
            .filter(|o| matches(o, &query.label_selector, &query.field_selector))
            .collect();
        Ok(ListPage {
            items,
            rv: snapshot.rv,
            continue_token: None,
            remaining: None,
        })
    }

    async fn list_from_store(
        &self,
        spec: &ResourceSpec,
        namespace: Option<&str>,
        query: &ListQuery,
    ) -> Result<ListPage> {
        let prefix = spec.list_prefix(namespace);
        let (mut at, mut start_after) = match &query.continue_token {
            Some(token) => {
                let (rv, start) = decode_continue(token)?;
                (
                    ReadAt::Revision(rv),
                    Some(format!("{}{start}", spec.prefix)),
                )
            }
            None => match query.resource_version.as_deref() {
                None | Some("" | "0") => (ReadAt::Latest, None),
                Some(rv) if query.resource_version_match.as_deref() == Some("Exact") => {
                    (ReadAt::Revision(parse_rv(rv)?), None)
                }
                Some(rv) => {
                    // "Not older than": the latest state is never older.
                    parse_rv(rv)?;
                    (ReadAt::Latest, None)
                }
            },
        };
        let limit = usize::try_from(query.limit).unwrap_or(0);
        let filtered = !query.label_selector.is_empty() || !query.field_selector.is_empty();
        let mut items = Vec::new();
        let mut rv;
        let mut more_after: Option<String> = None;
        let mut remaining = None;
        loop {
            let want = if limit == 0 {
                None
            } else {
                Some(limit - items.len())
            };
            let page = self
                .store
                .list(
                    &prefix,
                    ListOptions {
                        at,
                        limit: want.map(|w| w.max(1)),
                        start_after: start_after.clone(),
                    },
                )
                .await
                .map_err(|e| match e {
                    StoreError::Compacted { .. } if query.continue_token.is_some() => {
                        ApiError::expired(
                            "The provided continue parameter is too old to display a consistent \
                             list result. You can start a new list without the continue \
                             parameter, or use the continue token in this response to retrieve \
                             the remainder of the results. Continuing with the provided token \
                             results in an inconsistent list - objects that were created, \
                             modified, or deleted between the time the first chunk was \
                             returned and now may show up in the list.",
                        )
                    }
                    StoreError::Compacted { .. } => ApiError::expired(format!(
                        "too old resource version: {}",
                        query.resource_version.as_deref().unwrap_or("")
                    )),
                    StoreError::FutureRevision { requested, current } => ApiError::timeout(
                        format!("Too large resource version: {requested}, current: {current}"),
                        1,
                    ),
                    other => store_error(other),
                })?;
            rv = page.revision;
            at = ReadAt::Revision(rv);
            let last_key = page.kvs.last().map(|kv| kv.key.to_string());
            for kv in &page.kvs {
                if let Some(obj) = object::decode_stored(&kv.value, kv.mod_revision)
                    .ok()
                    .map(|v| {
                        CachedObject::from_value(
                            spec,
                            &v,
                            object::with_resource_version(&kv.value, kv.mod_revision),
                            kv.mod_revision,
                        )
                    })
                    && matches(&obj, &query.label_selector, &query.field_selector)
                {
                    items.push(Arc::new(obj));
                }
            }
            if !page.more {
                break;
            }
            if limit > 0 && items.len() >= limit {
                more_after = last_key;
                if !filtered {
                    remaining = Some(page.count - page.kvs.len() as i64);
                }
                break;
            }
            start_after = last_key;
        }
        let continue_token = more_after
            .map(|key| encode_continue(rv, key.strip_prefix(&spec.prefix).unwrap_or(&key)));
        Ok(ListPage {
            items,
            rv,
            continue_token,
            remaining,
        })
    }

    // ----- updates --------------------------------------------------------------------------

    /// Replaces an object (`PUT`), or its status (`PUT .../status`).
    ///
    /// # Errors
    /// As [`Registry::create`], plus `404 NotFound`, `409 Conflict` for a stale
    /// `resourceVersion`, `400` when the name or namespace differs from the URL's.
    pub async fn update(
        &self,
        spec: &ResourceSpec,
        namespace: Option<&str>,
        name: &str,
        subresource: Option<&str>,
        mut body: Value,
        options: &WriteOptions,
        user: &UserInfo,
    ) -> Result<Written> {
        check_namespace(spec, namespace, &body)?;
        if !body.is_object() {
            return Err(ApiError::bad_request(format!(
                "the body of the request must be a {} object",
                spec.api.kind
            )));
        }
        let body_name = object::name(&body);
        if body_name.is_empty() {
            object::meta_mut(&mut body).insert("name".into(), Value::String(name.to_owned()));
        } else if body_name != name {
            return Err(ApiError::bad_request(format!(
                "the name of the object ({body_name}) does not match the name on the URL ({name})"
            )));
        }
        let precondition = object::meta_str(&body, "resourceVersion")
            .filter(|s| !s.is_empty())
            .map(parse_rv)
            .transpose()?;
        self.guaranteed_update(
            spec,
            namespace,
            name,
            subresource,
            options,
            user,
            precondition,
            |_| Ok(body.clone()),
        )
        .await
    }

    /// The read-modify-write loop of every update: reads the stored object, computes the new
    /// one with `compute`, prepares and validates it, and writes it guarded by the revision it
    /// read, retrying on a concurrent change unless the caller gave a resource version.
    #[allow(clippy::too_many_arguments)]
    pub(crate) async fn guaranteed_update(
        &self,
        spec: &ResourceSpec,
        namespace: Option<&str>,
        name: &str,
        subresource: Option<&str>,
        options: &WriteOptions,
        user: &UserInfo,
        precondition: Option<i64>,
        compute: impl FnMut(&Value) -> Result<Value>,
    ) -> Result<Written> {
        self.guaranteed_update_with(
            spec,
            namespace,
            name,
            subresource,
            options,
            user,
            precondition,
            Tracking::Update,
            compute,
        )
        .await
    }

    /// [`Registry::guaranteed_update`], with the managed fields maintained as `tracking` says:
    /// the writer's `Update` entry (not for `binding`, which upstream writes without the field
    /// manager), or, for an apply, the managed fields `compute` returned, kept through the
    /// strategy.
    #[allow(clippy::too_many_arguments)]
    pub(crate) async fn guaranteed_update_with(
        &self,
        spec: &ResourceSpec,
        namespace: Option<&str>,
        name: &str,
        subresource: Option<&str>,
        options: &WriteOptions,
        user: &UserInfo,
        precondition: Option<i64>,
        tracking: Tracking,
        mut compute: impl FnMut(&Value) -> Result<Value>,
    ) -> Result<Written> {
        let key = spec.key(namespace, name);
        for _ in 0..MAX_RETRIES {
            let Some((current, current_bytes, current_rev)) =
                self.get_stored(spec, namespace, name).await?
            else {
                return Err(ApiError::not_found(&spec.group_resource(), name));
            };
            let mut new = compute(&current)?;
            let mut warnings = Vec::new();
            new = self
                .decode(spec, &mut new, options.field_validation, &mut warnings)?
                .to_json();
            let given_rv = object::meta_str(&new, "resourceVersion")
                .filter(|s| !s.is_empty())
                .map(parse_rv)
                .transpose()?
                .or(precondition);
            if let Some(rv) = given_rv
                && rv != current_rev
            {
                return Err(ApiError::conflict(
                    &spec.group_resource(),
                    name,
                    ApiError::OPTIMISTIC_LOCK_MESSAGE,
                ));
            }
            let applied_managed_fields = (tracking == Tracking::Apply).then(|| {
                object::meta(&new)
                    .and_then(|m| m.get("managedFields"))
                    .cloned()
            });
            match subresource {
                Some("status") => strategy::prepare_for_status_update(&mut new, &current),
                // A binding is computed from the stored pod by the server itself.
                Some("binding") => {}
                _ => strategy::prepare_for_update(spec, &mut new, &current),
            }
            match (tracking, applied_managed_fields) {
                (Tracking::Apply, Some(Some(managed))) => {
                    object::meta_mut(&mut new).insert("managedFields".into(), managed);
                }
                (Tracking::Apply, _) => {
                    object::meta_mut(&mut new).remove("managedFields");
                }
                (Tracking::Update, _) if subresource != Some("binding") => {
                    let now = Time::now().to_string();
                    self.field_manager(spec, subresource, &now).update(
                        Some(&current),
                        &mut new,
                        options.field_manager.as_deref().unwrap_or(""),
                    );
                }
                (Tracking::Update, _) => {}
            }
            let errors = if subresource == Some("binding") {
                Vec::new()
            } else {
                strategy::validate_update(spec, &new, &current)
            };
            if !errors.is_empty() {
                return Err(ApiError::invalid(&spec.group_kind(), name, &errors));
            }
            self.validate(spec, &new, name)?;
            let mut attributes = Attributes {
                operation: Operation::Update,
                resource: spec,
                subresource,
                namespace,
                name,
                object: &mut new,
                old_object: Some(&current),
                dry_run: options.dry_run,
                user,
            };
            self.admission.admit(&mut attributes).await?;
            self.admission.validate(&attributes).await?;
            let reservations = self.admission.reserve(&mut attributes).await?;
            let stored = object::encode_for_storage(&new);
            // An update that changes nothing writes nothing (and keeps the resource version).
            if stored == current_bytes {
                reservations.release();
                return Ok(Written {
                    code: 200,
                    body: object::with_resource_version(&stored, current_rev),
                    warnings: warnings.clone(),
                });
            }
            // Once deleting, an object whose last finalizer is removed is gone.
            let finished = object::meta_str(&new, "deletionTimestamp").is_some()
                && object::finalizers(&new).is_empty()
                && !namespace_finalizers_pending(spec, &new);
            if options.dry_run {
                reservations.release();
                return Ok(Written {
                    code: 200,
                    body: object::with_resource_version(&stored, current_rev),
                    warnings: warnings.clone(),
                });
            }
            if finished {
                reservations.release();
                return match self.store.delete(&key, Some(current_rev)).await {
                    Ok((_, rev)) => Ok(Written {
                        code: 200,
                        body: object::with_resource_version(&stored, rev),
                        warnings: warnings.clone(),
                    }),
                    Err(StoreError::Conflict { .. }) if precondition.is_none() => continue,
                    Err(StoreError::Conflict { .. }) => Err(ApiError::conflict(
                        &spec.group_resource(),
                        name,
                        ApiError::OPTIMISTIC_LOCK_MESSAGE,
                    )),
                    Err(StoreError::NotFound { .. }) => {
                        Err(ApiError::not_found(&spec.group_resource(), name))
                    }
                    Err(e) => Err(store_error(e)),
                };
            }
            match self
                .store
                .update(&key, Bytes::from(stored.clone()), current_rev)
                .await
            {
                Ok(rev) => {
                    reservations.commit();
                    return Ok(Written {
                        code: 200,
                        body: object::with_resource_version(&stored, rev),
                        warnings: warnings.clone(),
                    });
                }
                Err(StoreError::Conflict { current: None, .. }) => {
                    reservations.release();
                    return Err(ApiError::not_found(&spec.group_resource(), name));
                }
                Err(StoreError::Conflict { .. }) if given_rv.is_none() => {
                    reservations.release();
                }
                Err(StoreError::Conflict { .. }) => {
                    reservations.release();
                    return Err(ApiError::conflict(
                        &spec.group_resource(),
                        name,
                        ApiError::OPTIMISTIC_LOCK_MESSAGE,
                    ));
                }
                Err(e) => {
                    reservations.release();
                    return Err(store_error(e));
                }
            }
        }
        Err(ApiError::conflict(
            &spec.group_resource(),
            name,
            "the object is changing too often; please try again",
        ))
    }

    /// Reads the stored object as JSON, for subresources built from it (`scale`).
    ///
    /// # Errors
    /// `404` when it does not exist.
    pub async fn get_current(
        &self,
        spec: &ResourceSpec,
        namespace: Option<&str>,
        name: &str,
    ) -> Result<Value> {
        self.get_stored(spec, namespace, name)
            .await?
            .map(|(v, _, _)| v)
            .ok_or_else(|| ApiError::not_found(&spec.group_resource(), name))
    }

    // ----- deletes --------------------------------------------------------------------------

    /// Deletes an object (`DELETE`): at once, or — when it has finalizers, or the propagation
    /// policy needs the garbage collector, or it is a namespace or a scheduled pod — by
    /// setting `deletionTimestamp` and leaving the rest to whoever owns the finalizers.
    ///
    /// # Errors
    /// `404 NotFound`; `409 Conflict` when a precondition fails; admission refusals.
    pub async fn delete(
        &self,
        spec: &ResourceSpec,
        namespace: Option<&str>,
        name: &str,
        options: &DeleteOptions,
        user: &UserInfo,
    ) -> Result<Written> {
        let key = spec.key(namespace, name);
        let dry_run = options
            .dry_run
            .as_ref()
            .is_some_and(|d| d.iter().any(|v| v == "All"));
        let propagation = match options.propagation_policy.as_deref() {
            None => None,
            Some(p @ ("Orphan" | "Background" | "Foreground")) => Some(p),
            Some(other) => {
                return Err(ApiError::invalid(
                    &crate::error::GroupKind::new("", "DeleteOptions"),
                    "",
                    &[kubernaut_api_types::validate::FieldError::not_supported(
                        &kubernaut_api_types::validate::Path::new("propagationPolicy"),
                        other.to_owned(),
                        &["Foreground", "Background", "Orphan", "nil"],
                    )],
                ));
            }
        };
        let propagation = propagation.or(match options.orphan_dependents {
            Some(true) => Some("Orphan"),
            Some(false) => Some("Background"),
            None => None,
        });
        for _ in 0..MAX_RETRIES {
            let Some((mut current, _, current_rev)) =
                self.get_stored(spec, namespace, name).await?
            else {
                return Err(ApiError::not_found(&spec.group_resource(), name));
            };
            if let Some(pre) = &options.preconditions {
                if let Some(uid) = &pre.uid
                    && object::meta_str(&current, "uid") != Some(uid.as_str())
                {
                    return Err(ApiError::conflict(
                        &spec.group_resource(),
                        name,
                        &format!(
                            "Precondition failed: UID in precondition: {uid}, UID in object \
                             meta: {}",
                            object::meta_str(&current, "uid").unwrap_or("")
                        ),
                    ));
                }
                if let Some(rv) = &pre.resource_version
                    && parse_rv(rv)? != current_rev
                {
                    return Err(ApiError::conflict(
                        &spec.group_resource(),
                        name,
                        &format!(
                            "Precondition failed: ResourceVersion in precondition: {rv}, \
                             ResourceVersion in object meta: {current_rev}"
                        ),
                    ));
                }
            }
            let snapshot = current.clone();
            let attributes = Attributes {
                operation: Operation::Delete,
                resource: spec,
                subresource: None,
                namespace,
                name,
                object: &mut current,
                old_object: Some(&snapshot),
                dry_run,
                user,
            };
            self.admission.validate(&attributes).await?;
            let graceful = self.graceful_delete(spec, &mut current, options, propagation);
            if let Some(updated) = graceful {
                let already = updated == snapshot;
                if dry_run || already {
                    let body = object::encode_for_storage(&updated);
                    return Ok(Written {
                        code: if already { 200 } else { 202 },
                        body: object::with_resource_version(&body, current_rev),
                        warnings: Vec::new(),
                    });
                }
                let stored = object::encode_for_storage(&updated);
                match self
                    .store
                    .update(&key, Bytes::from(stored.clone()), current_rev)
                    .await
                {
                    Ok(rev) => {
                        return Ok(Written {
                            code: if spec.returns_deleted_object {
                                200
                            } else {
                                202
                            },
                            body: object::with_resource_version(&stored, rev),
                            warnings: Vec::new(),
                        });
                    }
                    Err(StoreError::Conflict { .. }) => continue,
                    Err(e) => return Err(store_error(e)),
                }
            }
            let mut attributes = Attributes {
                operation: Operation::Delete,
                resource: spec,
                subresource: None,
                namespace,
                name,
                object: &mut current,
                old_object: Some(&snapshot),
                dry_run,
                user,
            };
            let reservations: Reservations = self.admission.reserve(&mut attributes).await?;
            let stored = object::encode_for_storage(&current);
            let rev = if dry_run {
                reservations.release();
                current_rev
            } else {
                match self.store.delete(&key, Some(current_rev)).await {
                    Ok((_, rev)) => {
                        reservations.commit();
                        rev
                    }
                    Err(StoreError::Conflict { .. }) => {
                        reservations.release();
                        continue;
                    }
                    Err(StoreError::NotFound { .. }) => {
                        reservations.release();
                        return Err(ApiError::not_found(&spec.group_resource(), name));
                    }
                    Err(e) => {
                        reservations.release();
                        return Err(store_error(e));
                    }
                }
            };
            let body = if spec.returns_deleted_object {
                object::with_resource_version(&stored, rev)
            } else {
                let status = kubernaut_api_types::meta::Status {
                    details: Some(Box::new(StatusDetails {
                        name: Some(name.to_owned()),
                        group: (!spec.api.group.is_empty()).then(|| spec.api.group.clone()),
                        kind: Some(spec.api.plural.clone()),
                        uid: object::meta_str(&current, "uid").map(str::to_owned),
                        ..StatusDetails::default()
                    })),
                    ..kubernaut_api_types::meta::Status::success()
                };
                Bytes::from(serde_json::to_vec(&status).unwrap_or_default())
            };
            return Ok(Written {
                code: 200,
                body,
                warnings: Vec::new(),
            });
        }
        Err(ApiError::conflict(
            &spec.group_resource(),
            name,
            "the object is changing too often; please try again",
        ))
    }

    /// The object to store instead of deleting it, when the deletion is graceful: it gets a
    /// `deletionTimestamp` (once), the finalizer its propagation policy asks for, and, for a
    /// namespace, phase `Terminating`. `None`: delete it now.
    fn graceful_delete(
        &self,
        spec: &ResourceSpec,
        object: &mut Value,
        options: &DeleteOptions,
        propagation: Option<&str>,
    ) -> Option<Value> {
        let is_namespace = spec.api.group.is_empty() && spec.api.kind == "Namespace";
        let is_pod = spec.api.group.is_empty() && spec.api.kind == "Pod";
        let mut finalizers = object::finalizers(object);
        let policy_finalizer = match propagation {
            Some("Orphan") => Some("orphan"),
            Some("Foreground") => Some("foregroundDeletion"),
            _ => None,
        };
        let already_deleting = object::meta_str(object, "deletionTimestamp").is_some();
        if let Some(f) = policy_finalizer
            && !finalizers.iter().any(|x| x == f)
            && (!already_deleting || !finalizers.is_empty())
        {
            finalizers.push(f.to_owned());
        }
        // A pod on a node terminates gracefully: the kubelet deletes it once its containers
        // stopped. An unscheduled pod has nothing to stop.
        let grace = if is_pod
            && object::get_path(object, &["spec", "nodeName"])
                .and_then(Value::as_str)
                .is_some_and(|n| !n.is_empty())
            && !matches!(
                object::get_path(object, &["status", "phase"]).and_then(Value::as_str),
                Some("Succeeded" | "Failed")
            ) {
            let period = options.grace_period_seconds.unwrap_or_else(|| {
                object::get_path(object, &["spec", "terminationGracePeriodSeconds"])
                    .and_then(Value::as_i64)
                    .unwrap_or(30)
            });
            (period > 0).then_some(period)
        } else {
            None
        };
        let namespace_pending = is_namespace
            && object::get_path(object, &["spec", "finalizers"])
                .and_then(Value::as_array)
                .is_some_and(|f| !f.is_empty());
        if finalizers.is_empty() && grace.is_none() && !namespace_pending {
            return None;
        }
        let mut updated = object.clone();
        let meta = object::meta_mut(&mut updated);
        if !already_deleting {
            let at = match grace {
                Some(g) => Time(chrono::Utc::now() + chrono::Duration::seconds(g)),
                None => Time::now(),
            };
            meta.insert("deletionTimestamp".into(), Value::String(at.to_string()));
            meta.insert(
                "deletionGracePeriodSeconds".into(),
                json!(grace.unwrap_or(0)),
            );
        } else if let Some(g) = grace {
            // A shorter grace period moves the deadline closer; a longer one never extends it.
            let current = meta
                .get("deletionGracePeriodSeconds")
                .and_then(Value::as_i64)
                .unwrap_or(i64::MAX);
            if g < current {
                let at = Time(chrono::Utc::now() + chrono::Duration::seconds(g));
                meta.insert("deletionTimestamp".into(), Value::String(at.to_string()));
                meta.insert("deletionGracePeriodSeconds".into(), json!(g));
            }
        }
        if !finalizers.is_empty() {
            meta.insert("finalizers".into(), json!(finalizers));
        }
        if is_namespace {
            object::set_path(&mut updated, &["status", "phase"], json!("Terminating"));
        }
        Some(updated)
    }
}

/// Whether a namespace still waits for its spec finalizers (the namespace controller's).
fn namespace_finalizers_pending(spec: &ResourceSpec, object: &Value) -> bool {
    spec.api.group.is_empty()
        && spec.api.kind == "Namespace"
        && object::get_path(object, &["spec", "finalizers"])
            .and_then(Value::as_array)
            .is_some_and(|f| !f.is_empty())
}

/// Refuses a body whose namespace differs from the URL's.
fn check_namespace(spec: &ResourceSpec, namespace: Option<&str>, body: &Value) -> Result<()> {
    if let (true, Some(url), Some(obj)) = (spec.namespaced(), namespace, object::namespace(body))
        && url != obj
    {
        return Err(ApiError::bad_request(
            "the namespace of the provided object does not match the namespace sent on the \
             request",
        ));
    }
    Ok(())
}

/// Whether a cached object matches label and field selectors.
pub fn matches(obj: &CachedObject, labels: &label::Selector, fields: &field::Selector) -> bool {
    labels.matches(&obj.labels) && fields.matches_with(|f| obj.field(f))
}

/// Parses a resource version.
///
/// # Errors
/// `400 BadRequest` when it is not a non-negative integer (resource versions are opaque to
/// clients, but this server issues only integers).
pub fn parse_rv(rv: &str) -> Result<i64> {
    rv.parse::<i64>()
        .ok()
        .filter(|v| *v >= 0)
        .ok_or_else(|| ApiError::bad_request(format!("invalid resource version: {rv:?}")))
}

/// The continue token of a list: upstream's shape, base64 of
/// `{"v":"meta.k8s.io/v1","rv":<revision>,"start":"<key after the last one>"}`.
fn encode_continue(rv: i64, last_key: &str) -> String {
    use base64::Engine as _;
    let token = json!({"v": "meta.k8s.io/v1", "rv": rv, "start": format!("{last_key}\u{0}")});
    base64::engine::general_purpose::URL_SAFE.encode(token.to_string())
}

fn decode_continue(token: &str) -> Result<(i64, String)> {
    use base64::Engine as _;
    let bad = || {
        ApiError::bad_request(
            "continue key is not valid: incorrect encoded start resourceVersion (version meta.k8s.io/v1)",
        )
    };
    let raw = base64::engine::general_purpose::URL_SAFE
        .decode(token)
        .or_else(|_| base64::engine::general_purpose::STANDARD.decode(token))
        .map_err(|_| bad())?;
    let v: Value = serde_json::from_slice(&raw).map_err(|_| bad())?;
    if v.get("v").and_then(Value::as_str) != Some("meta.k8s.io/v1") {
        return Err(bad());
    }
    let rv = v
        .get("rv")
        .and_then(Value::as_i64)
        .filter(|r| *r > 0)
        .ok_or_else(bad)?;
    let start = v.get("start").and_then(Value::as_str).ok_or_else(bad)?;
    // The start key is "the last key" + NUL: the next page starts strictly after it.
    let last = start.strip_suffix('\u{0}').unwrap_or(start);
    if last.contains("..") || last.starts_with('/') {
        return Err(bad());
    }
    Ok((rv, last.to_owned()))
}

/// Maps a store failure that is not the client's doing.
pub fn store_error(e: StoreError) -> ApiError {
    match e {
        StoreError::Unavailable { .. } => {
            ApiError::unavailable(format!("storage is unavailable: {e}"))
        }
        StoreError::TooLarge { .. } => ApiError::too_large(format!("request is too large: {e}")),
        other => ApiError::internal(other),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn continue_tokens_round_trip_and_refuse_garbage() {
        let t = encode_continue(42, "ns/web-1");
        assert_eq!(decode_continue(&t).unwrap(), (42, "ns/web-1".to_owned()));
        assert_eq!(decode_continue("not base64!").unwrap_err().code(), 400);
        use base64::Engine as _;
        let wrong =
            base64::engine::general_purpose::URL_SAFE.encode(r#"{"v":"x","rv":1,"start":"a"}"#);
        assert_eq!(decode_continue(&wrong).unwrap_err().code(), 400);
    }

    #[test]
    fn resource_versions_are_non_negative_integers() {
        assert_eq!(parse_rv("12").unwrap(), 12);
        assert_eq!(parse_rv("-1").unwrap_err().code(), 400);
        assert_eq!(parse_rv("abc").unwrap_err().code(), 400);
    }
}
