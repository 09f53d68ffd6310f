//! A scripted in-process API server for tests: each request must match the next expected
//! method, URI, headers and JSON body, and gets the scripted answer (split into chunks as
//! given).

use std::collections::VecDeque;
use std::convert::Infallible;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use http::{Method, Request, Response};
use http_body::Frame;
use http_body_util::StreamBody;
use serde_json::Value;

use crate::body::{Body, ResponseBody};
use crate::client::Client;

/// One expected request and the answer to it.
pub(crate) struct Exchange {
    method: Method,
    uri: String,
    headers: Vec<(&'static str, &'static str)>,
    body: Option<Value>,
    status: u16,
    reply: Vec<Vec<u8>>,
}

pub(crate) fn expect(method: Method, uri: &str) -> Exchange {
    Exchange {
        method,
        uri: uri.to_owned(),
        headers: vec![("accept", "application/json")],
        body: None,
        status: 200,
        reply: vec![b"{}".to_vec()],
    }
}

impl Exchange {
    pub(crate) fn header(mut self, name: &'static str, value: &'static str) -> Self {
        self.headers.push((name, value));
        self
    }

    pub(crate) fn body(mut self, body: Value) -> Self {
        self.body = Some(body);
        self
    }

    pub(crate) fn reply(mut self, status: u16, body: Value) -> Self {
        self.status = status;
        self.reply = vec![serde_json::to_vec(&body).unwrap()];
        self
    }

    pub(crate) fn reply_chunks(mut self, chunks: Vec<Vec<u8>>) -> Self {
        self.reply = chunks;
        self
    }
}

/// A scripted server: requests must come in the scripted order and shape.
#[derive(Clone)]
pub(crate) struct Script {
    exchanges: Arc<Mutex<VecDeque<Exchange>>>,
    /// Match requests by method and URI instead of by order (for concurrent requests).
    unordered: bool,
}

impl Script {
    pub(crate) fn client(exchanges: Vec<Exchange>) -> (Client, Script) {
        Script::build(exchanges, false)
    }

    /// A script whose requests may come in any order.
    pub(crate) fn unordered(exchanges: Vec<Exchange>) -> (Client, Script) {
        Script::build(exchanges, true)
    }

    fn build(exchanges: Vec<Exchange>, unordered: bool) -> (Client, Script) {
        let script = Script {
            exchanges: Arc::new(Mutex::new(exchanges.into())),
            unordered,
        };
        let s = script.clone();
        let service = tower::service_fn(move |request: Request<Body>| {
            let s = s.clone();
            async move { Ok::<_, Infallible>(s.answer(request)) }
        });
        (Client::new(service, "default"), script)
    }

    fn answer(&self, request: Request<Body>) -> Response<ResponseBody> {
        let next = {
            let mut exchanges = self.exchanges.lock().unwrap();
            let index = if self.unordered {
                exchanges.iter().position(|e| {
                    e.method == request.method() && e.uri == request.uri().to_string()
                })
            } else {
                Some(0)
            };
            index.and_then(|i| exchanges.remove(i))
        };
        let Some(exchange) = next else {
            panic!("unexpected request {} {}", request.method(), request.uri())
        };
        assert_eq!(
            request.method(),
            exchange.method,
            "method of {}",
            request.uri()
        );
        assert_eq!(request.uri().to_string(), exchange.uri);
        for (name, value) in &exchange.headers {
            assert_eq!(
                request.headers().get(*name).and_then(|v| v.to_str().ok()),
                Some(*value),
                "header {name} of {} {}",
                exchange.method,
                exchange.uri
            );
        }
        let body = request.body().as_bytes();
        match &exchange.body {
            Some(expected) => {
                let got: Value = serde_json::from_slice(body).unwrap_or_else(|e| {
                    panic!(
                        "body of {}: {e}: {}",
                        exchange.uri,
                        String::from_utf8_lossy(body)
                    )
                });
                assert_eq!(
                    &got, expected,
                    "body of {} {}",
                    exchange.method, exchange.uri
                );
            }
            None => assert!(body.is_empty(), "no body expected for {}", exchange.uri),
        }
        let chunks = exchange
            .reply
            .into_iter()
            .map(|c| Ok::<_, Infallible>(Frame::data(Bytes::from(c))));
        Response::builder()
            .status(exchange.status)
            .header("content-type", "application/json")
            .body(ResponseBody::new(StreamBody::new(futures::stream::iter(
                chunks,
            ))))
            .unwrap()
    }

    pub(crate) fn done(&self) {
        let left = self.exchanges.lock().unwrap();
        assert!(
            left.is_empty(),
            "{} scripted requests were not made",
            left.len()
        );
    }
}

/// A throwaway certificate authority issuing server and client certificates (rcgen).
pub(crate) struct Pki {
    /// The CA certificate, PEM.
    pub(crate) ca_pem: String,
    issuer: rcgen::CertifiedIssuer<'static, rcgen::KeyPair>,
}

impl Pki {
    pub(crate) fn new(name: &str) -> Pki {
        use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, KeyPair, KeyUsagePurpose};
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.distinguished_name.push(DnType::CommonName, name);
        params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        let issuer =
            rcgen::CertifiedIssuer::self_signed(params, KeyPair::generate().unwrap()).unwrap();
        Pki {
            ca_pem: issuer.pem(),
            issuer,
        }
    }

    fn issue(
        &self,
        names: &[&str],
        common_name: &str,
        usage: rcgen::ExtendedKeyUsagePurpose,
    ) -> (String, String) {
        use rcgen::{CertificateParams, DnType, KeyPair};
        let names: Vec<String> = names.iter().map(|s| (*s).to_owned()).collect();
        let mut params = CertificateParams::new(names).unwrap();
        params
            .distinguished_name
            .push(DnType::CommonName, common_name);
        params.extended_key_usages = vec![usage];
        let key = KeyPair::generate().unwrap();
        let cert = params.signed_by(&key, &self.issuer).unwrap();
        (cert.pem(), key.serialize_pem())
    }

    /// A server certificate for DNS names and IP addresses, and its key (PEM).
    pub(crate) fn server(&self, names: &[&str]) -> (String, String) {
        self.issue(
            names,
            "kube-apiserver",
            rcgen::ExtendedKeyUsagePurpose::ServerAuth,
        )
    }

    /// A client certificate for a user, and its key (PEM).
    pub(crate) fn client(&self, user: &str) -> (String, String) {
        self.issue(&[], user, rcgen::ExtendedKeyUsagePurpose::ClientAuth)
    }
}
