//! The default transport: hyper-util's pooled client over TCP, with TLS by rustls, HTTP/1.1 and
//! HTTP/2 (chosen by ALPN), the server URL's scheme, host and path prefix, credentials and a
//! `User-Agent` added to each request.

use std::future::Future;
use std::io;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use base64::Engine;
use http::header::{AUTHORIZATION, HeaderValue, USER_AGENT};
use http::uri::{Authority, PathAndQuery, Scheme};
use http::{Request, Response, Uri};
use hyper::body::Incoming;
use hyper_util::client::legacy::Client as HyperClient;
use hyper_util::client::legacy::connect::{Connected, Connection, HttpConnector};
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;

use crate::body::{Body, BoxError};
use crate::config::{Auth, Config};
use crate::error::Error;
use crate::tls::TlsSettings;

type BoxFuture<T> = Pin<Box<dyn Future<Output = Result<T, BoxError>> + Send>>;

/// The `User-Agent` of requests sent by [`HttpService`].
pub const USER_AGENT_VALUE: &str = concat!("kubernaut-client/", env!("CARGO_PKG_VERSION"));

/// How long an unused pooled connection is kept.
const POOL_IDLE_TIMEOUT: Duration = Duration::from_secs(90);
/// HTTP/2 pings on open connections, so that a dead peer under a long watch is noticed
/// (client-go's `ReadIdleTimeout` and `PingTimeout`).
const HTTP2_PING_INTERVAL: Duration = Duration::from_secs(30);
const HTTP2_PING_TIMEOUT: Duration = Duration::from_secs(15);
/// TCP keep-alive probes on idle connections.
const TCP_KEEPALIVE: Duration = Duration::from_secs(30);
/// How long a token read from a file is used before the file is read again (client-go's).
const TOKEN_FILE_PERIOD: Duration = Duration::from_secs(60);

/// The HTTP transport of a [`Config`]: a `tower::Service` that sends path-and-query requests to
/// the configured server with its credentials.
///
/// [`Client::try_from`](crate::Client) builds one; build it yourself to wrap it in `tower`
/// layers (tracing, retries, rate limits) and hand the result to
/// [`Client::new`](crate::Client::new).
#[derive(Clone)]
pub struct HttpService {
    client: HyperClient<HttpsConnector, Body>,
    scheme: Scheme,
    authority: Authority,
    /// The server URL's path without its trailing `/` (empty for most servers).
    prefix: String,
    auth: AuthHeader,
}

impl std::fmt::Debug for HttpService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpService")
            .field("scheme", &self.scheme)
            .field("authority", &self.authority)
            .field("prefix", &self.prefix)
            .finish_non_exhaustive()
    }
}

impl HttpService {
    /// The transport for `config`.
    ///
    /// # Errors
    /// [`Error::Tls`] for TLS settings rustls refuses, [`Error::InvalidRequest`] for a URL
    /// without scheme or host, or credentials that are not a valid header value.
    pub fn new(config: &Config) -> Result<HttpService, Error> {
        let url = &config.cluster_url;
        let scheme = url
            .scheme()
            .cloned()
            .ok_or_else(|| Error::InvalidRequest(format!("server url {url} has no scheme")))?;
        let authority = url
            .authority()
            .cloned()
            .ok_or_else(|| Error::InvalidRequest(format!("server url {url} has no host")))?;
        let prefix = url.path().trim_end_matches('/').to_owned();

        let tls = TlsConnector::from(Arc::new(config.tls.client_config()?));
        let mut http = HttpConnector::new();
        http.enforce_http(false);
        http.set_nodelay(true);
        http.set_keepalive(Some(TCP_KEEPALIVE));
        let connector = HttpsConnector {
            http,
            tls,
            settings: Arc::new(config.tls.clone()),
            connect_timeout: config.connect_timeout,
        };
        let client = HyperClient::builder(TokioExecutor::new())
            .pool_timer(TokioTimer::new())
            .pool_idle_timeout(POOL_IDLE_TIMEOUT)
            .timer(TokioTimer::new())
            .http2_keep_alive_interval(HTTP2_PING_INTERVAL)
            .http2_keep_alive_timeout(HTTP2_PING_TIMEOUT)
            .build(connector);
        Ok(HttpService {
            client,
            scheme,
            authority,
            prefix,
            auth: AuthHeader::new(&config.auth)?,
        })
    }

    /// The absolute URI of a request given as a path and query.
    fn absolute(&self, uri: &Uri) -> Result<Uri, http::Error> {
        let path_and_query = uri.path_and_query().map_or("/", PathAndQuery::as_str);
        Uri::builder()
            .scheme(self.scheme.clone())
            .authority(self.authority.clone())
            .path_and_query(format!("{}{}", self.prefix, path_and_query))
            .build()
    }
}

impl tower::Service<Request<Body>> for HttpService {
    type Response = Response<Incoming>;
    type Error = BoxError;
    type Future = BoxFuture<Response<Incoming>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, mut request: Request<Body>) -> Self::Future {
        let prepared = (|| -> Result<(), BoxError> {
            *request.uri_mut() = self.absolute(request.uri())?;
            let headers = request.headers_mut();
            if !headers.contains_key(USER_AGENT) {
                headers.insert(USER_AGENT, HeaderValue::from_static(USER_AGENT_VALUE));
            }
            if !headers.contains_key(AUTHORIZATION)
                && let Some(value) = self.auth.value()?
            {
                headers.insert(AUTHORIZATION, value);
            }
            Ok(())
        })();
        let client = self.client.clone();
        Box::pin(async move {
            prepared?;
            Ok(client.request(request).await?)
        })
    }
}

/// The `Authorization` header of each request.
#[derive(Clone)]
enum AuthHeader {
    None,
    Static(HeaderValue),
    TokenFile(Arc<TokenFile>),
}

impl AuthHeader {
    fn new(auth: &Auth) -> Result<AuthHeader, Error> {
        Ok(match auth {
            Auth::None => AuthHeader::None,
            Auth::Bearer(token) => AuthHeader::Static(bearer(token)?),
            Auth::Basic { username, password } => {
                let encoded = base64::engine::general_purpose::STANDARD
                    .encode(format!("{username}:{password}"));
                let mut value = HeaderValue::from_str(&format!("Basic {encoded}"))
                    .map_err(|_| Error::InvalidRequest("invalid basic credentials".to_owned()))?;
                value.set_sensitive(true);
                AuthHeader::Static(value)
            }
            Auth::BearerFile(path) => AuthHeader::TokenFile(Arc::new(TokenFile {
                path: path.clone(),
                cached: Mutex::new(None),
            })),
        })
    }

    fn value(&self) -> Result<Option<HeaderValue>, BoxError> {
        match self {
            AuthHeader::None => Ok(None),
            AuthHeader::Static(v) => Ok(Some(v.clone())),
            AuthHeader::TokenFile(file) => file.header().map(Some),
        }
    }
}

/// `Bearer <token>`, marked sensitive.
fn bearer(token: &str) -> Result<HeaderValue, Error> {
    let mut value = HeaderValue::from_str(&format!("Bearer {}", token.trim())).map_err(|_| {
        Error::InvalidRequest("the bearer token is not a valid header value".to_owned())
    })?;
    value.set_sensitive(true);
    Ok(value)
}

/// A token read from a file, cached for [`TOKEN_FILE_PERIOD`].
struct TokenFile {
    path: PathBuf,
    cached: Mutex<Option<(HeaderValue, Instant)>>,
}

impl TokenFile {
    fn header(&self) -> Result<HeaderValue, BoxError> {
        let mut cached = self.cached.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((value, read_at)) = cached.as_ref()
            && read_at.elapsed() < TOKEN_FILE_PERIOD
        {
            return Ok(value.clone());
        }
        let fresh = std::fs::read_to_string(&self.path)
            .map_err(|e| format!("could not read the token file {}: {e}", self.path.display()))
            .and_then(|token| bearer(&token).map_err(|e| e.to_string()));
        match (fresh, cached.as_ref()) {
            (Ok(value), _) => {
                *cached = Some((value.clone(), Instant::now()));
                Ok(value)
            }
            // Keep using the last token while the file cannot be read (it is being rotated).
            (Err(e), Some((value, _))) => {
                tracing::warn!(error = %e, "using the previous token");
                Ok(value.clone())
            }
            (Err(e), None) => Err(e.into()),
        }
    }
}

/// Connects over TCP, then TLS for `https` URLs, within the connect timeout.
#[derive(Clone)]
struct HttpsConnector {
    http: HttpConnector,
    tls: TlsConnector,
    settings: Arc<TlsSettings>,
    connect_timeout: Option<Duration>,
}

impl tower::Service<Uri> for HttpsConnector {
    type Response = MaybeTlsStream;
    type Error = BoxError;
    type Future = BoxFuture<MaybeTlsStream>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        tower::Service::<Uri>::poll_ready(&mut self.http, cx).map_err(Into::into)
    }

    fn call(&mut self, uri: Uri) -> Self::Future {
        let server_name = if uri.scheme() == Some(&Scheme::HTTPS) {
            match self
                .settings
                .server_name_for(uri.host().unwrap_or_default())
            {
                Ok(name) => Some(name),
                Err(e) => return Box::pin(async move { Err(e.into()) }),
            }
        } else {
            None
        };
        let tcp = self.http.call(uri);
        let tls = self.tls.clone();
        let timeout = self.connect_timeout;
        Box::pin(async move {
            let connect = async move {
                let tcp = tcp.await?;
                match server_name {
                    None => Ok::<_, BoxError>(MaybeTlsStream::Plain(tcp)),
                    Some(name) => {
                        let stream = tls.connect(name, tcp.into_inner()).await?;
                        Ok(MaybeTlsStream::Tls(Box::new(TokioIo::new(stream))))
                    }
                }
            };
            match timeout {
                Some(t) => tokio::time::timeout(t, connect)
                    .await
                    .map_err(|_| format!("connecting timed out after {t:?}"))?,
                None => connect.await,
            }
        })
    }
}

/// A connection, plain or TLS.
enum MaybeTlsStream {
    Plain(TokioIo<TcpStream>),
    Tls(Box<TokioIo<TlsStream<TcpStream>>>),
}

impl Connection for MaybeTlsStream {
    fn connected(&self) -> Connected {
        match self {
            MaybeTlsStream::Plain(s) => s.connected(),
            MaybeTlsStream::Tls(s) => {
                let (tcp, session) = s.inner().get_ref();
                let connected = tcp.connected();
                if session.alpn_protocol() == Some(b"h2") {
                    connected.negotiated_h2()
                } else {
                    connected
                }
            }
        }
    }
}

impl hyper::rt::Read for MaybeTlsStream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: hyper::rt::ReadBufCursor<'_>,
    ) -> Poll<io::Result<()>> {
        match self.get_mut() {
            MaybeTlsStream::Plain(s) => Pin::new(s).poll_read(cx, buf),
            MaybeTlsStream::Tls(s) => Pin::new(&mut **s).poll_read(cx, buf),
        }
    }
}

impl hyper::rt::Write for MaybeTlsStream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            MaybeTlsStream::Plain(s) => Pin::new(s).poll_write(cx, buf),
            MaybeTlsStream::Tls(s) => Pin::new(&mut **s).poll_write(cx, buf),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            MaybeTlsStream::Plain(s) => Pin::new(s).poll_flush(cx),
            MaybeTlsStream::Tls(s) => Pin::new(&mut **s).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            MaybeTlsStream::Plain(s) => Pin::new(s).poll_shutdown(cx),
            MaybeTlsStream::Tls(s) => Pin::new(&mut **s).poll_shutdown(cx),
        }
    }

    fn is_write_vectored(&self) -> bool {
        match self {
            MaybeTlsStream::Plain(s) => s.is_write_vectored(),
            MaybeTlsStream::Tls(s) => s.is_write_vectored(),
        }
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            MaybeTlsStream::Plain(s) => Pin::new(s).poll_write_vectored(cx, bufs),
            MaybeTlsStream::Tls(s) => Pin::new(&mut **s).poll_write_vectored(cx, bufs),
        }
    }
}

#[cfg(test)]
mod tests;
