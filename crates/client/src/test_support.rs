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
pub(crate) struct Script(Arc<Mutex<VecDeque<Exchange>>>);

impl Script {
    pub(crate) fn client(exchanges: Vec<Exchange>) -> (Client, Script) {
        let script = Script(Arc::new(Mutex::new(exchanges.into())));
        let s = script.clone();
        let service = tower::service_fn(move |request: Request<Body>| {
            let s = s.clone();
            async move { Ok::<_, Infallible>(s.answer(request)) }
        });
        (Client::new(service, "default"), script)
    }

    fn answer(&self, request: Request<Body>) -> Response<ResponseBody> {
        let next = self.0.lock().unwrap().pop_front();
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
        let left = self.0.lock().unwrap();
        assert!(
            left.is_empty(),
            "{} scripted requests were not made",
            left.len()
        );
    }
}
