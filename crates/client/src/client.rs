//! [`Client`]: a cloneable handle on any `tower::Service` of HTTP requests, that sends requests
//! and turns responses into objects, `Status` errors and watch streams.

use std::time::Duration;

use http::{Request, Response};
use kubernaut_api_types::meta::Status;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use tower::ServiceExt;
use tower::util::BoxCloneSyncService;

use crate::body::{Body, BoxError, ResponseBody};
use crate::config::Config;
use crate::error::{Error, status_from_response};
use crate::watch::WatchStream;

/// A handle on an API server: cheap to clone, shareable between tasks.
///
/// The transport is any `tower::Service<http::Request<Body>>` answering `http::Response<B>`
/// with a body of [`bytes::Bytes`]: the default hyper + rustls connection pool
/// ([`Client::try_from`] a [`Config`]), an in-process router, or a test's scripted service.
/// Requests carry only a path and query (`/api/v1/namespaces/default/pods`); the HTTP
/// transport adds the server's URL and credentials.
///
/// # An in-process API server
///
/// `axum::Router` implements `Service<http::Request<B>>` for any body `B` of `Bytes`, and
/// answers with a body of `Bytes`, so a router (the API server's, or this toy one) plugs in as
/// it is, with no adapter and no socket:
///
/// ```
/// use axum::routing::get;
/// use kubernaut_api_types::core::v1::Namespace;
/// use kubernaut_client::{Api, Client};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), kubernaut_client::Error> {
/// let router = axum::Router::new().route(
///     "/api/v1/namespaces/{name}",
///     get(|axum::extract::Path(name): axum::extract::Path<String>| async move {
///         format!(r#"{{"apiVersion":"v1","kind":"Namespace","metadata":{{"name":"{name}"}}}}"#)
///     }),
/// );
/// let namespaces: Api<Namespace> = Api::all(Client::new(router, "default"));
/// let ns = namespaces.get("kube-system").await?;
/// assert_eq!(ns.metadata.name.as_deref(), Some("kube-system"));
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct Client {
    service: BoxCloneSyncService<Request<Body>, Response<ResponseBody>, BoxError>,
    default_namespace: String,
    timeout: Option<Duration>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("default_namespace", &self.default_namespace)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

impl Client {
    /// A client over `service`, with `default_namespace` for
    /// [`Api::default_namespaced`](crate::Api::default_namespaced) and no timeout.
    ///
    /// The service receives requests whose URI is a path and query only.
    pub fn new<S, B>(service: S, default_namespace: impl Into<String>) -> Self
    where
        S: tower::Service<Request<Body>, Response = Response<B>> + Clone + Send + Sync + 'static,
        S::Future: Send + 'static,
        S::Error: Into<BoxError>,
        B: http_body::Body<Data = bytes::Bytes> + Send + 'static,
        B::Error: Into<BoxError>,
    {
        let service = service
            .map_response(|response: Response<B>| response.map(ResponseBody::new))
            .map_err(Into::into);
        Client {
            service: BoxCloneSyncService::new(service),
            default_namespace: default_namespace.into(),
            timeout: None,
        }
    }

    /// A client from [`Config::infer`]: the kubeconfig's current context, or the pod's
    /// service account.
    ///
    /// # Errors
    /// No usable configuration, or TLS settings that rustls refuses.
    pub fn try_default() -> Result<Client, Error> {
        Client::try_from(Config::infer()?)
    }

    /// The namespace of [`Api::default_namespaced`](crate::Api::default_namespaced).
    pub fn default_namespace(&self) -> &str {
        &self.default_namespace
    }

    /// Bounds every request (from sending to the response's last byte; for watches, until the
    /// response headers) by `timeout`. Needs a tokio runtime with its timer.
    #[must_use]
    pub fn with_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.timeout = timeout;
        self
    }

    /// Sends a request and returns the response as it is, whatever its status code.
    ///
    /// # Errors
    /// [`Error::Transport`] when no response came, [`Error::Timeout`] when it took too long.
    pub async fn send(&self, request: Request<Body>) -> Result<Response<ResponseBody>, Error> {
        let call = self.service.clone().oneshot(request);
        let response = match self.timeout {
            Some(t) => tokio::time::timeout(t, call)
                .await
                .map_err(|_| Error::Timeout(t))?,
            None => call.await,
        };
        response.map_err(Error::Transport)
    }

    /// Sends a request; a response that is not 2xx becomes [`Error::Api`].
    async fn send_checked(&self, request: Request<Body>) -> Result<Response<ResponseBody>, Error> {
        let method = request.method().clone();
        let uri = request.uri().clone();
        let response = self.send(request).await?;
        let status = response.status();
        if status.is_success() {
            tracing::trace!(%method, %uri, %status, "response");
            return Ok(response);
        }
        let body = response
            .into_body()
            .collect_bytes()
            .await
            .map_err(Error::Transport)?;
        let status_object = status_from_response(status, &body);
        tracing::debug!(%method, %uri, %status, reason = ?status_object.reason, "api error");
        Err(Error::Api(Box::new(status_object)))
    }

    /// Sends a request and reads the whole body of a 2xx response.
    async fn send_read(&self, request: Request<Body>) -> Result<bytes::Bytes, Error> {
        let read = async {
            let response = self.send_checked(request).await?;
            response
                .into_body()
                .collect_bytes()
                .await
                .map_err(Error::Transport)
        };
        match self.timeout {
            Some(t) => tokio::time::timeout(t, read)
                .await
                .map_err(|_| Error::Timeout(t))?,
            None => read.await,
        }
    }

    /// Sends a request and decodes the JSON of its 2xx response as `T`.
    ///
    /// # Errors
    /// [`Error::Api`] with the server's `Status` for any other code, [`Error::Decode`] when
    /// the body is not a `T`, and transport errors.
    pub async fn request<T: DeserializeOwned>(&self, request: Request<Body>) -> Result<T, Error> {
        let body = self.send_read(request).await?;
        serde_json::from_slice(&body).map_err(|e| Error::decode("response", &body, e))
    }

    /// Sends a request and returns its 2xx response's body as text (logs).
    ///
    /// # Errors
    /// As [`Client::request`]; invalid UTF-8 is replaced, not an error.
    pub async fn request_text(&self, request: Request<Body>) -> Result<String, Error> {
        let body = self.send_read(request).await?;
        Ok(String::from_utf8_lossy(&body).into_owned())
    }

    /// Sends a request whose 2xx response is either a `T` or a `Status` (a delete).
    ///
    /// # Errors
    /// As [`Client::request`].
    pub async fn request_status<T: DeserializeOwned>(
        &self,
        request: Request<Body>,
    ) -> Result<ObjectOrStatus<T>, Error> {
        let body = self.send_read(request).await?;
        let value: serde_json::Value =
            serde_json::from_slice(&body).map_err(|e| Error::decode("response", &body, e))?;
        if value.get("kind").and_then(|k| k.as_str()) == Some("Status") {
            let status: Status =
                serde_json::from_value(value).map_err(|e| Error::decode("status", &body, e))?;
            Ok(ObjectOrStatus::Status(status))
        } else {
            let object =
                serde_json::from_value(value).map_err(|e| Error::decode("response", &body, e))?;
            Ok(ObjectOrStatus::Object(object))
        }
    }

    /// Sends a watch request and returns its stream of events.
    ///
    /// # Errors
    /// [`Error::Api`] when the server refuses the watch (a `410 Gone` for a compacted resource
    /// version may come this way or as an `ERROR` event), and transport errors.
    pub async fn request_events<T: DeserializeOwned>(
        &self,
        request: Request<Body>,
    ) -> Result<WatchStream<T>, Error> {
        let response = self.send_checked(request).await?;
        Ok(WatchStream::new(response.into_body()))
    }

    /// The server's version (`GET /version`).
    ///
    /// # Errors
    /// As [`Client::request`].
    pub async fn apiserver_version(&self) -> Result<ServerVersion, Error> {
        self.request(crate::api::build_request(
            http::Method::GET,
            "/version".to_owned(),
            None,
        )?)
        .await
    }
}

/// The result of a delete: the object (still present while finalizers or a grace period run,
/// or its last state), or a `Status` when the server says only that it is done.
#[derive(Clone, Debug, PartialEq)]
#[allow(
    clippy::large_enum_variant,
    reason = "objects are as large as a Status or larger"
)]
pub enum ObjectOrStatus<K> {
    /// The object.
    Object(K),
    /// The server's `Status` (`Success`).
    Status(Status),
}

impl<K> ObjectOrStatus<K> {
    /// The object, if the server returned one.
    pub fn object(self) -> Option<K> {
        match self {
            ObjectOrStatus::Object(k) => Some(k),
            ObjectOrStatus::Status(_) => None,
        }
    }

    /// The status, if the server returned one.
    pub fn status(self) -> Option<Status> {
        match self {
            ObjectOrStatus::Object(_) => None,
            ObjectOrStatus::Status(s) => Some(s),
        }
    }
}

/// What `GET /version` answers.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ServerVersion {
    /// `major` (`1`).
    #[serde(default)]
    pub major: String,
    /// `minor` (`32`).
    #[serde(default)]
    pub minor: String,
    /// `gitVersion` (`v1.32.4`).
    #[serde(default)]
    pub git_version: String,
    /// `gitCommit`.
    #[serde(default)]
    pub git_commit: String,
    /// `gitTreeState`.
    #[serde(default)]
    pub git_tree_state: String,
    /// `buildDate`.
    #[serde(default)]
    pub build_date: String,
    /// `goVersion`.
    #[serde(default)]
    pub go_version: String,
    /// `compiler`.
    #[serde(default)]
    pub compiler: String,
    /// `platform` (`linux/amd64`).
    #[serde(default)]
    pub platform: String,
}

impl TryFrom<Config> for Client {
    type Error = Error;

    /// A client over the hyper + rustls transport for `config`.
    fn try_from(config: Config) -> Result<Client, Error> {
        let service = crate::transport::HttpService::new(&config)?;
        Ok(Client::new(service, config.default_namespace).with_timeout(config.timeout))
    }
}
