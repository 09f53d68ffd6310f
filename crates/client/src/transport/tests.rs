//! The hyper + rustls transport against local TLS servers with throwaway certificate
//! authorities: verification, client certificates, insecure mode, server names, ALPN.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use futures::StreamExt;
use http::{Request, Response};
use http_body::Frame;
use http_body_util::{BodyExt, Full, StreamBody};
use hyper_util::rt::{TokioExecutor, TokioIo};
use kubernaut_api_types::core::v1::ConfigMap;
use kubernaut_api_types::meta::WatchEvent;
use rustls::RootCertStore;
use rustls::server::WebPkiClientVerifier;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;

use super::*;
use crate::api::build_request;
use crate::client::Client;
use crate::test_support::Pki;
use crate::{Api, WatchParams};

/// What the test server saw of a connection and request, echoed back as JSON.
fn echo(
    request: &Request<hyper::body::Incoming>,
    peer_cert: Option<&[u8]>,
    sni: Option<&str>,
) -> Value {
    let header = |name: &str| {
        request
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    json!({
        // HTTP/2 requests carry scheme and authority too: compare paths and queries.
        "uri": request.uri().path_and_query().map(|p| p.to_string()),
        "version": format!("{:?}", request.version()),
        "authorization": header("authorization"),
        "userAgent": header("user-agent"),
        "peerCert": peer_cert.map(|c| c.to_vec()),
        "sni": sni,
    })
}

type TestBody = http_body_util::combinators::BoxBody<Bytes, Infallible>;

/// Answers `/watch` with three events, sent apart; anything else with [`echo`].
async fn handle(
    request: Request<hyper::body::Incoming>,
    peer_cert: Option<Vec<u8>>,
    sni: Option<String>,
) -> Result<Response<TestBody>, Infallible> {
    if request.uri().path() == "/api/v1/namespaces/default/configmaps" {
        let events = futures::stream::iter(0..3).then(|i| async move {
            tokio::time::sleep(Duration::from_millis(5)).await;
            let line = format!(
                "{{\"type\":\"ADDED\",\"object\":{{\"kind\":\"ConfigMap\",\"apiVersion\":\"v1\",\"metadata\":{{\"name\":\"cm{i}\"}}}}}}\n"
            );
            Ok::<_, Infallible>(Frame::data(Bytes::from(line)))
        });
        return Ok(Response::new(BodyExt::boxed(StreamBody::new(events))));
    }
    let body = serde_json::to_vec(&echo(&request, peer_cert.as_deref(), sni.as_deref())).unwrap();
    Ok(Response::new(Full::new(Bytes::from(body)).boxed()))
}

/// How the test server does TLS.
struct ServerTls {
    /// The server certificate's names.
    names: Vec<&'static str>,
    /// Require client certificates issued by the server's CA.
    require_client_cert: bool,
    /// ALPN protocols offered.
    alpn: Vec<&'static [u8]>,
}

impl Default for ServerTls {
    fn default() -> Self {
        ServerTls {
            names: vec!["localhost", "127.0.0.1"],
            require_client_cert: false,
            alpn: vec![b"h2", b"http/1.1"],
        }
    }
}

/// Starts a TLS server on a free loopback port; it runs until the test's runtime ends.
async fn tls_server(pki: &Pki, tls: ServerTls) -> SocketAddr {
    let (cert, key) = pki.server(&tls.names);
    let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(cert.as_bytes())
        .collect::<Result<_, _>>()
        .unwrap();
    let key = PrivateKeyDer::from_pem_slice(key.as_bytes()).unwrap();
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ServerConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .unwrap();
    let builder = if tls.require_client_cert {
        let mut roots = RootCertStore::empty();
        for ca in CertificateDer::pem_slice_iter(pki.ca_pem.as_bytes()) {
            roots.add(ca.unwrap()).unwrap();
        }
        let verifier = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider)
            .build()
            .unwrap();
        builder.with_client_cert_verifier(verifier)
    } else {
        builder.with_no_client_auth()
    };
    let mut config = builder.with_single_cert(chain, key).unwrap();
    config.alpn_protocols = tls.alpn.iter().map(|p| p.to_vec()).collect();
    let acceptor = TlsAcceptor::from(Arc::new(config));
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let Ok((tcp, _)) = listener.accept().await else {
                return;
            };
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                let Ok(stream) = acceptor.accept(tcp).await else {
                    return;
                };
                let session = stream.get_ref().1;
                let peer_cert = session
                    .peer_certificates()
                    .and_then(|c| c.first())
                    .map(|c| c.to_vec());
                let sni = session.server_name().map(str::to_owned);
                let service = hyper::service::service_fn(move |request| {
                    handle(request, peer_cert.clone(), sni.clone())
                });
                let _ = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new())
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    addr
}

/// A plain HTTP server.
async fn plain_server() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            tokio::spawn(async move {
                let service =
                    hyper::service::service_fn(move |request| handle(request, None, None));
                let _ = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new())
                    .serve_connection(TokioIo::new(tcp), service)
                    .await;
            });
        }
    });
    addr
}

fn config(url: &str, pki: Option<&Pki>) -> Config {
    let mut config = Config::new(url.parse().unwrap());
    config.tls.root_certificates = pki.map(|p| p.ca_pem.clone().into_bytes());
    config.connect_timeout = Some(Duration::from_secs(5));
    config.timeout = Some(Duration::from_secs(10));
    config
}

async fn get(config: Config, path: &str) -> Result<Value, crate::Error> {
    let client = Client::try_from(config)?;
    client
        .request(build_request(http::Method::GET, path.to_owned(), None)?)
        .await
}

#[tokio::test]
async fn verifies_the_cluster_ca_and_negotiates_http2() {
    let pki = Pki::new("cluster-ca");
    let addr = tls_server(&pki, ServerTls::default()).await;
    let mut cfg = config(&format!("https://{addr}"), Some(&pki));
    cfg.auth = Auth::Bearer("s3cret".into());
    let seen = get(cfg, "/api/v1/namespaces?limit=1").await.unwrap();
    assert_eq!(seen["uri"], "/api/v1/namespaces?limit=1");
    assert_eq!(seen["version"], "HTTP/2.0");
    assert_eq!(seen["authorization"], "Bearer s3cret");
    assert_eq!(seen["userAgent"], USER_AGENT_VALUE);
    assert_eq!(seen["peerCert"], Value::Null);
    // An IP address is verified against the certificate's IP SAN, and is not sent as SNI.
    assert_eq!(seen["sni"], Value::Null);

    let by_name = get(
        config(&format!("https://localhost:{}", addr.port()), Some(&pki)),
        "/x",
    )
    .await
    .unwrap();
    assert_eq!(by_name["sni"], "localhost");
}

#[tokio::test]
async fn speaks_http1_when_the_server_offers_only_http1() {
    let pki = Pki::new("cluster-ca");
    let addr = tls_server(
        &pki,
        ServerTls {
            alpn: vec![b"http/1.1"],
            ..ServerTls::default()
        },
    )
    .await;
    let seen = get(config(&format!("https://{addr}"), Some(&pki)), "/version")
        .await
        .unwrap();
    assert_eq!(seen["version"], "HTTP/1.1");
}

#[tokio::test]
async fn presents_the_client_certificate() {
    let pki = Pki::new("cluster-ca");
    let addr = tls_server(
        &pki,
        ServerTls {
            require_client_cert: true,
            ..ServerTls::default()
        },
    )
    .await;
    let (cert, key) = pki.client("kubernetes-admin");
    let mut cfg = config(&format!("https://{addr}"), Some(&pki));
    cfg.tls.identity = Some(crate::tls::Identity {
        certificate_pem: cert.clone().into_bytes(),
        key_pem: key.into_bytes(),
    });
    let seen = get(cfg, "/api").await.unwrap();
    let presented = CertificateDer::from_pem_slice(cert.as_bytes()).unwrap();
    assert_eq!(seen["peerCert"], json!(presented.to_vec()));

    // Without a certificate the server ends the handshake.
    let err = get(config(&format!("https://{addr}"), Some(&pki)), "/api")
        .await
        .unwrap_err();
    assert!(matches!(err, crate::Error::Transport(_)), "{err}");
}

#[tokio::test]
async fn refuses_an_unknown_ca_unless_told_to_skip_verification() {
    let pki = Pki::new("cluster-ca");
    let stranger = Pki::new("someone-else");
    let addr = tls_server(&pki, ServerTls::default()).await;
    let err = get(config(&format!("https://{addr}"), Some(&stranger)), "/api")
        .await
        .unwrap_err();
    let message = err.to_string();
    assert!(matches!(err, crate::Error::Transport(_)), "{message}");
    assert!(
        message.contains("invalid peer certificate: UnknownIssuer"),
        "{message}"
    );

    // The system roots do not know a throwaway CA either.
    let err = get(config(&format!("https://{addr}"), None), "/api")
        .await
        .unwrap_err();
    assert!(err.to_string().contains("UnknownIssuer"), "{err}");

    let mut insecure = config(&format!("https://{addr}"), None);
    insecure.tls.insecure_skip_tls_verify = true;
    let seen = get(insecure, "/api").await.unwrap();
    assert_eq!(seen["uri"], "/api");

    // client-go refuses a CA together with insecure-skip-tls-verify.
    let mut both = config(&format!("https://{addr}"), Some(&pki));
    both.tls.insecure_skip_tls_verify = true;
    assert!(matches!(
        Client::try_from(both),
        Err(crate::Error::Tls(
            crate::tls::TlsError::InsecureWithCertificateAuthority
        ))
    ));
}

#[tokio::test]
async fn tls_server_name_replaces_the_host_for_verification_and_sni() {
    let pki = Pki::new("cluster-ca");
    let addr = tls_server(
        &pki,
        ServerTls {
            names: vec!["kubernetes.default.svc"],
            ..ServerTls::default()
        },
    )
    .await;
    let err = get(config(&format!("https://{addr}"), Some(&pki)), "/api")
        .await
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("certificate not valid for name \"127.0.0.1\""),
        "{err}"
    );
    let mut cfg = config(&format!("https://{addr}"), Some(&pki));
    cfg.tls.server_name = Some("kubernetes.default.svc".into());
    let seen = get(cfg, "/api").await.unwrap();
    assert_eq!(seen["sni"], "kubernetes.default.svc");
}

#[tokio::test]
async fn server_paths_prefix_every_request_and_plain_http_works() {
    let addr = plain_server().await;
    let mut cfg = config(&format!("http://{addr}/k8s/clusters/c-1/"), None);
    cfg.auth = Auth::Basic {
        username: "admin".into(),
        password: "pw".into(),
    };
    let seen = get(cfg, "/api/v1/pods?watch=true").await.unwrap();
    assert_eq!(seen["uri"], "/k8s/clusters/c-1/api/v1/pods?watch=true");
    assert_eq!(seen["authorization"], "Basic YWRtaW46cHc=");
    assert_eq!(seen["version"], "HTTP/1.1");
}

#[tokio::test]
async fn watches_stream_over_the_network() {
    let pki = Pki::new("cluster-ca");
    let addr = tls_server(&pki, ServerTls::default()).await;
    let client = Client::try_from(config(&format!("https://{addr}"), Some(&pki))).unwrap();
    let api: Api<ConfigMap> = Api::default_namespaced(client);
    let events: Vec<_> = api
        .watch(&WatchParams::default(), "")
        .await
        .unwrap()
        .collect()
        .await;
    let names: Vec<_> = events
        .into_iter()
        .map(|e| match e.unwrap() {
            WatchEvent::Added(cm) => cm.metadata.name.unwrap(),
            other => panic!("unexpected {other:?}"),
        })
        .collect();
    assert_eq!(names, ["cm0", "cm1", "cm2"]);
}

#[tokio::test]
async fn unreachable_servers_are_transport_errors() {
    // A port that was just free: nothing listens there.
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    let err = get(config(&format!("https://{addr}"), None), "/api")
        .await
        .unwrap_err();
    assert!(matches!(err, crate::Error::Transport(_)), "{err}");
    assert!(err.to_string().to_lowercase().contains("connect"), "{err}");
}

#[test]
fn token_files_are_read_again_after_a_minute() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("token");
    std::fs::write(&path, "first\n").unwrap();
    let file = TokenFile {
        path: path.clone(),
        cached: Mutex::new(None),
    };
    assert_eq!(file.header().unwrap(), "Bearer first");
    std::fs::write(&path, "second").unwrap();
    assert_eq!(
        file.header().unwrap(),
        "Bearer first",
        "cached for a minute"
    );
    let expire = |file: &TokenFile| {
        let mut cached = file.cached.lock().unwrap();
        let (value, _) = cached.take().unwrap();
        *cached = Some((
            value,
            Instant::now() - TOKEN_FILE_PERIOD - Duration::from_secs(1),
        ));
    };
    expire(&file);
    assert_eq!(file.header().unwrap(), "Bearer second");
    // While the file is being replaced, the last token stays in use.
    std::fs::remove_file(&path).unwrap();
    expire(&file);
    assert_eq!(file.header().unwrap(), "Bearer second");
    let fresh = TokenFile {
        path,
        cached: Mutex::new(None),
    };
    assert!(fresh.header().is_err());
}
