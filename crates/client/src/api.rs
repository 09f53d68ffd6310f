//! [`Api<K>`]: the typed verbs on one kind (in one namespace or across all), with upstream URL
//! paths, query parameters and bodies.

use std::marker::PhantomData;

use http::Method;
use http::header::{ACCEPT, CONTENT_TYPE};
use kubernaut_api_types::core::v1::Pod;
use kubernaut_api_types::meta::Scale;
use kubernaut_api_types::{ApiResource, ObjectList, Resource, Scope};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::body::Body;
use crate::client::{Client, ObjectOrStatus};
use crate::error::Error;
use crate::params::{
    DeleteParams, GetParams, ListParams, LogParams, Patch, PatchParams, PostParams, Query,
    WatchParams, escape_path_segment,
};
use crate::watch::WatchStream;

/// The verbs of one kind of object, in one namespace or across all of them.
///
/// `K` is a compile-time kind ([`Resource`]) for [`Api::namespaced`], [`Api::all`] and
/// [`Api::default_namespaced`]; any deserializable type (a [`DynamicObject`] for a custom
/// resource found by [`Discovery`](crate::Discovery)) with the `_with` constructors and an
/// [`ApiResource`].
///
/// ```no_run
/// use kubernaut_client::{Api, Client, ListParams};
/// use kubernaut_api_types::core::v1::Pod;
///
/// # async fn run() -> Result<(), kubernaut_client::Error> {
/// let client = Client::try_default()?;
/// let pods: Api<Pod> = Api::default_namespaced(client);
/// for pod in pods.list(&ListParams::default().labels("app=web")).await?.items {
///     println!("{}", pod.metadata.name.unwrap_or_default());
/// }
/// # Ok(())
/// # }
/// ```
///
/// [`DynamicObject`]: kubernaut_api_types::DynamicObject
pub struct Api<K> {
    client: Client,
    resource: ApiResource,
    namespace: Option<String>,
    /// `/api/v1/namespaces/default/pods`.
    url: String,
    _kind: PhantomData<fn() -> K>,
}

impl<K> Clone for Api<K> {
    fn clone(&self) -> Self {
        Api {
            client: self.client.clone(),
            resource: self.resource.clone(),
            namespace: self.namespace.clone(),
            url: self.url.clone(),
            _kind: PhantomData,
        }
    }
}

impl<K> std::fmt::Debug for Api<K> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Api")
            .field("url", &self.url)
            .field("kind", &self.resource.kind)
            .finish_non_exhaustive()
    }
}

impl<K: Resource> Api<K> {
    /// The objects of `K` in `namespace`. `K` must be namespaced, which is checked when the
    /// code is compiled:
    ///
    /// ```
    /// # use kubernaut_client::{Api, Body, Client, ResponseBody};
    /// # let service = tower::service_fn(|_: http::Request<Body>| async {
    /// #     Ok::<_, std::convert::Infallible>(http::Response::new(ResponseBody::from_bytes("")))
    /// # });
    /// # let client = Client::new(service, "default");
    /// let pods: Api<kubernaut_api_types::core::v1::Pod> = Api::namespaced(client, "default");
    /// # assert_eq!(pods.resource_url(), "/api/v1/namespaces/default/pods");
    /// ```
    ///
    /// ```compile_fail,E0080
    /// # use kubernaut_client::{Api, Body, Client, ResponseBody};
    /// # let service = tower::service_fn(|_: http::Request<Body>| async {
    /// #     Ok::<_, std::convert::Infallible>(http::Response::new(ResponseBody::from_bytes("")))
    /// # });
    /// # let client = Client::new(service, "default");
    /// let nodes: Api<kubernaut_api_types::core::v1::Node> = Api::namespaced(client, "default");
    /// # assert_eq!(nodes.resource_url(), "/api/v1/nodes");
    /// ```
    pub fn namespaced(client: Client, namespace: &str) -> Self {
        const {
            assert!(
                matches!(K::SCOPE, Scope::Namespaced),
                "Api::namespaced needs a namespaced kind; use Api::all for cluster-scoped ones"
            )
        };
        Api::namespaced_with(client, namespace, &K::api_resource())
    }

    /// The objects of `K` in the client's default namespace. `K` must be namespaced.
    pub fn default_namespaced(client: Client) -> Self {
        const {
            assert!(
                matches!(K::SCOPE, Scope::Namespaced),
                "Api::default_namespaced needs a namespaced kind; use Api::all for cluster-scoped ones"
            )
        };
        let namespace = client.default_namespace().to_owned();
        Api::namespaced_with(client, &namespace, &K::api_resource())
    }

    /// The objects of `K` across all namespaces (list and watch), or of a cluster-scoped `K`.
    pub fn all(client: Client) -> Self {
        Api::all_with(client, &K::api_resource())
    }
}

impl<K> Api<K> {
    /// The objects of the kind `resource` in `namespace` (ignored for a cluster-scoped kind).
    pub fn namespaced_with(client: Client, namespace: &str, resource: &ApiResource) -> Self {
        let namespace = (resource.scope == Scope::Namespaced).then(|| namespace.to_owned());
        Api::build(client, resource, namespace)
    }

    /// The objects of the kind `resource` in the client's default namespace.
    pub fn default_namespaced_with(client: Client, resource: &ApiResource) -> Self {
        let namespace = client.default_namespace().to_owned();
        Api::namespaced_with(client, &namespace, resource)
    }

    /// The objects of the kind `resource` across all namespaces, or of a cluster-scoped kind.
    pub fn all_with(client: Client, resource: &ApiResource) -> Self {
        Api::build(client, resource, None)
    }

    fn build(client: Client, resource: &ApiResource, namespace: Option<String>) -> Self {
        Api {
            url: collection_path(resource, namespace.as_deref()),
            client,
            resource: resource.clone(),
            namespace,
            _kind: PhantomData,
        }
    }

    /// The kind.
    pub fn resource(&self) -> &ApiResource {
        &self.resource
    }

    /// The namespace, if the `Api` is namespaced.
    pub fn namespace(&self) -> Option<&str> {
        self.namespace.as_deref()
    }

    /// The collection's path (`/apis/apps/v1/namespaces/default/deployments`).
    pub fn resource_url(&self) -> &str {
        &self.url
    }

    /// The client.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// The path of an object or of one of its subresources.
    fn object_path(&self, name: &str, subresource: Option<&str>) -> Result<String, Error> {
        if name.is_empty() {
            return Err(Error::InvalidRequest(
                "resource name may not be empty".to_owned(),
            ));
        }
        let mut path = self.url.clone();
        path.push('/');
        escape_path_segment(&mut path, name);
        if let Some(sub) = subresource {
            path.push('/');
            path.push_str(sub);
        }
        Ok(path)
    }
}

impl<K: DeserializeOwned> Api<K> {
    /// Reads the object `name` (`GET`).
    ///
    /// # Errors
    /// [`Error::Api`] with `NotFound` when it does not exist, and the other failures of
    /// [`Client::request`].
    pub async fn get(&self, name: &str) -> Result<K, Error> {
        self.get_with(name, &GetParams::default()).await
    }

    /// Reads the object `name`, at a resource version.
    ///
    /// # Errors
    /// As [`Api::get`].
    pub async fn get_with(&self, name: &str, params: &GetParams) -> Result<K, Error> {
        let mut q = Query::default();
        params.write_query(&mut q);
        let path = self.object_path(name, None)? + &q.encode();
        self.client
            .request(build_request(Method::GET, path, None)?)
            .await
    }

    /// Reads the object `name`, or `None` when it does not exist.
    ///
    /// # Errors
    /// As [`Api::get`], except `NotFound`.
    pub async fn get_opt(&self, name: &str) -> Result<Option<K>, Error> {
        match self.get(name).await {
            Ok(object) => Ok(Some(object)),
            Err(e) if e.is_not_found() => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Lists the objects (`GET` on the collection).
    ///
    /// # Errors
    /// As [`Client::request`]; `410 Expired` for a continue token that is too old.
    pub async fn list(&self, params: &ListParams) -> Result<ObjectList<K>, Error> {
        let mut q = Query::default();
        params.write_query(&mut q);
        let path = format!("{}{}", self.url, q.encode());
        self.client
            .request(build_request(Method::GET, path, None)?)
            .await
    }

    /// Watches the objects from `resource_version` (empty: the current state as `ADDED`
    /// events, then changes; `"0"`: the same from any state).
    ///
    /// # Errors
    /// As [`Client::request_events`].
    pub async fn watch(
        &self,
        params: &WatchParams,
        resource_version: &str,
    ) -> Result<WatchStream<K>, Error> {
        let mut q = Query::default();
        params.write_query(&mut q, resource_version);
        let path = format!("{}{}", self.url, q.encode());
        self.client
            .request_events(build_request(Method::GET, path, None)?)
            .await
    }

    /// Deletes the object `name`. The answer is the object when it is still there (finalizers,
    /// a pod's grace period) or was returned in its last state, or a `Status`.
    ///
    /// # Errors
    /// As [`Client::request`]; `Conflict` when a precondition fails.
    pub async fn delete(
        &self,
        name: &str,
        params: &DeleteParams,
    ) -> Result<ObjectOrStatus<K>, Error> {
        let path = self.object_path(name, None)?;
        let body = delete_body(params)?;
        self.client
            .request_status(build_request(Method::DELETE, path, Some(body))?)
            .await
    }

    /// Deletes every object that `list` selects; the answer is the list of deleted objects or
    /// a `Status`.
    ///
    /// # Errors
    /// As [`Client::request`].
    pub async fn delete_collection(
        &self,
        params: &DeleteParams,
        list: &ListParams,
    ) -> Result<ObjectOrStatus<ObjectList<K>>, Error> {
        let mut q = Query::default();
        list.write_query(&mut q);
        let path = format!("{}{}", self.url, q.encode());
        let body = delete_body(params)?;
        self.client
            .request_status(build_request(Method::DELETE, path, Some(body))?)
            .await
    }

    /// Patches the object `name`.
    ///
    /// # Errors
    /// As [`Client::request`]; `Conflict` for an apply that meets another manager's fields
    /// (unless forced), `UnsupportedMediaType` for a strategic merge on a custom resource.
    pub async fn patch<P: Serialize>(
        &self,
        name: &str,
        params: &PatchParams,
        patch: &Patch<P>,
    ) -> Result<K, Error> {
        self.patch_subresource_inner(name, None, params, patch)
            .await
    }

    /// Reads the object `name` through its `status` subresource.
    ///
    /// # Errors
    /// As [`Api::get`].
    pub async fn get_status(&self, name: &str) -> Result<K, Error> {
        self.get_subresource("status", name).await
    }

    /// Patches the `status` of the object `name` (changes outside the status are ignored).
    ///
    /// # Errors
    /// As [`Api::patch`].
    pub async fn patch_status<P: Serialize>(
        &self,
        name: &str,
        params: &PatchParams,
        patch: &Patch<P>,
    ) -> Result<K, Error> {
        self.patch_subresource_inner(name, Some("status"), params, patch)
            .await
    }

    /// Reads the `scale` subresource of the object `name` (`autoscaling/v1` `Scale`).
    ///
    /// # Errors
    /// As [`Api::get`]; `NotFound` for kinds without a scale subresource.
    pub async fn get_scale(&self, name: &str) -> Result<Scale, Error> {
        self.get_subresource("scale", name).await
    }

    /// Replaces the `scale` of the object `name`.
    ///
    /// # Errors
    /// As [`Api::replace`].
    pub async fn replace_scale(
        &self,
        name: &str,
        params: &PostParams,
        scale: &Scale,
    ) -> Result<Scale, Error> {
        self.replace_subresource("scale", name, params, scale).await
    }

    /// Patches the `scale` of the object `name` (kubectl scale sends a merge patch
    /// `{"spec":{"replicas":N}}`).
    ///
    /// # Errors
    /// As [`Api::patch`].
    pub async fn patch_scale<P: Serialize>(
        &self,
        name: &str,
        params: &PatchParams,
        patch: &Patch<P>,
    ) -> Result<Scale, Error> {
        self.patch_subresource("scale", name, params, patch).await
    }

    /// Reads a subresource of the object `name` as `T`.
    ///
    /// # Errors
    /// As [`Api::get`].
    pub async fn get_subresource<T: DeserializeOwned>(
        &self,
        subresource: &str,
        name: &str,
    ) -> Result<T, Error> {
        let path = self.object_path(name, Some(subresource))?;
        self.client
            .request(build_request(Method::GET, path, None)?)
            .await
    }

    /// Creates on a subresource of the object `name` (`POST`: a pod's `eviction` or
    /// `binding`).
    ///
    /// # Errors
    /// As [`Api::create`].
    pub async fn create_subresource<T: Serialize, R: DeserializeOwned>(
        &self,
        subresource: &str,
        name: &str,
        params: &PostParams,
        data: &T,
    ) -> Result<R, Error> {
        self.send_object(Method::POST, name, Some(subresource), params, data)
            .await
    }

    /// Replaces a subresource of the object `name` (`PUT`).
    ///
    /// # Errors
    /// As [`Api::replace`].
    pub async fn replace_subresource<T: Serialize, R: DeserializeOwned>(
        &self,
        subresource: &str,
        name: &str,
        params: &PostParams,
        data: &T,
    ) -> Result<R, Error> {
        self.send_object(Method::PUT, name, Some(subresource), params, data)
            .await
    }

    /// Patches a subresource of the object `name`.
    ///
    /// # Errors
    /// As [`Api::patch`].
    pub async fn patch_subresource<P: Serialize, R: DeserializeOwned>(
        &self,
        subresource: &str,
        name: &str,
        params: &PatchParams,
        patch: &Patch<P>,
    ) -> Result<R, Error> {
        self.patch_subresource_inner(name, Some(subresource), params, patch)
            .await
    }

    async fn patch_subresource_inner<P: Serialize, R: DeserializeOwned>(
        &self,
        name: &str,
        subresource: Option<&str>,
        params: &PatchParams,
        patch: &Patch<P>,
    ) -> Result<R, Error> {
        let mut q = Query::default();
        params.write_query(&mut q);
        let path = self.object_path(name, subresource)? + &q.encode();
        let body = patch
            .to_body()
            .map_err(|e| Error::InvalidRequest(format!("the patch does not serialize: {e}")))?;
        self.client
            .request(build_request(
                Method::PATCH,
                path,
                Some((body, patch.content_type())),
            )?)
            .await
    }

    async fn send_object<T: Serialize, R: DeserializeOwned>(
        &self,
        method: Method,
        name: &str,
        subresource: Option<&str>,
        params: &PostParams,
        data: &T,
    ) -> Result<R, Error> {
        let mut q = Query::default();
        params.write_query(&mut q);
        let path = self.object_path(name, subresource)? + &q.encode();
        let body = json_body(data)?;
        self.client
            .request(build_request(method, path, Some(body))?)
            .await
    }
}

impl<K: Serialize + DeserializeOwned> Api<K> {
    /// Creates `object` (`POST` on the collection). Its `metadata.name` (or
    /// `metadata.generateName`) names it; the answer is the stored object.
    ///
    /// # Errors
    /// As [`Client::request`]; `AlreadyExists`, `Invalid` with the failing fields.
    pub async fn create(&self, params: &PostParams, object: &K) -> Result<K, Error> {
        let mut q = Query::default();
        params.write_query(&mut q);
        let path = format!("{}{}", self.url, q.encode());
        let body = json_body(object)?;
        self.client
            .request(build_request(Method::POST, path, Some(body))?)
            .await
    }

    /// Replaces the object `name` (`PUT`). With `metadata.resourceVersion` set, the write
    /// fails with `Conflict` if the object changed since.
    ///
    /// # Errors
    /// As [`Client::request`]; `Conflict`, `Invalid`.
    pub async fn replace(&self, name: &str, params: &PostParams, object: &K) -> Result<K, Error> {
        self.send_object(Method::PUT, name, None, params, object)
            .await
    }

    /// Replaces the `status` of the object `name` (`PUT .../status`).
    ///
    /// # Errors
    /// As [`Api::replace`].
    pub async fn replace_status(
        &self,
        name: &str,
        params: &PostParams,
        object: &K,
    ) -> Result<K, Error> {
        self.send_object(Method::PUT, name, Some("status"), params, object)
            .await
    }
}

impl Api<Pod> {
    /// The log of a pod's container (`GET .../pods/{name}/log`).
    ///
    /// # Errors
    /// As [`Client::request_text`]; `BadRequest` when the pod has several containers and none
    /// is named.
    pub async fn logs(&self, name: &str, params: &LogParams) -> Result<String, Error> {
        let mut q = Query::default();
        params.write_query(&mut q);
        let path = self.object_path(name, Some("log"))? + &q.encode();
        self.client
            .request_text(build_request(Method::GET, path, None)?)
            .await
    }
}

/// The path of a collection: `/api/v1[/namespaces/{ns}]/{plural}` for the core group,
/// `/apis/{group}/{version}[/namespaces/{ns}]/{plural}` otherwise.
pub(crate) fn collection_path(resource: &ApiResource, namespace: Option<&str>) -> String {
    let mut path = if resource.group.is_empty() {
        format!("/api/{}", resource.version)
    } else {
        format!("/apis/{}/{}", resource.group, resource.version)
    };
    if let Some(ns) = namespace {
        path.push_str("/namespaces/");
        escape_path_segment(&mut path, ns);
    }
    path.push('/');
    path.push_str(&resource.plural);
    path
}

/// A JSON body with its content type.
fn json_body<T: Serialize>(data: &T) -> Result<(Vec<u8>, &'static str), Error> {
    let body = serde_json::to_vec(data)
        .map_err(|e| Error::InvalidRequest(format!("the object does not serialize: {e}")))?;
    Ok((body, "application/json"))
}

/// The `DeleteOptions` body of a delete.
fn delete_body(params: &DeleteParams) -> Result<(Vec<u8>, &'static str), Error> {
    json_body(&params.to_delete_options())
}

/// A request for `path_and_query` asking for JSON, with an optional body and its content type.
pub(crate) fn build_request(
    method: Method,
    path_and_query: String,
    body: Option<(Vec<u8>, &'static str)>,
) -> Result<http::Request<Body>, Error> {
    let builder = http::Request::builder()
        .method(method)
        .uri(path_and_query)
        .header(ACCEPT, "application/json");
    let request = match body {
        Some((bytes, content_type)) => builder
            .header(CONTENT_TYPE, content_type)
            .body(Body::from(bytes)),
        None => builder.body(Body::empty()),
    };
    request.map_err(|e| Error::InvalidRequest(e.to_string()))
}

#[cfg(test)]
mod tests;
