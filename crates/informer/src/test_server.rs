//! Test support: a real API server in process (no sockets) and clients that talk to it, with a
//! link per client that a test can cut, and requests that hold tokio's paused clock still.
//!
//! # Virtual time
//! The in-memory store evaluates writes on a writer thread of its own. On a paused tokio clock
//! (`#[tokio::test(start_paused = true)]`) the runtime advances time to the next timer whenever
//! every task waits, including while a request waits for that thread, so a request could take
//! any amount of virtual time. Each request sent here therefore holds a blocking task open until
//! its response is complete: tokio does not auto-advance a paused clock while a blocking task
//! runs (`tokio::time::pause`, "Preventing auto-advance"). Virtual time then only moves while
//! every task waits on a timer, which makes the timing of the tests exact.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use kubernaut_apiserver::ApiServer;
use kubernaut_client::{Body, BoxError, Client, ResponseBody};
use kubernaut_store::embedded::{Config, EmbeddedStore};
use tower::ServiceExt;

/// The bearer token the test server accepts as an administrator.
const TOKEN: &str = "test-token";

/// An API server over an in-memory store.
pub(crate) struct TestServer {
    server: ApiServer,
}

/// The network link of one client: cut, every request of the client fails as a transport error.
#[derive(Clone, Default)]
pub(crate) struct Link {
    cut: Arc<AtomicBool>,
}

impl Link {
    /// Fails every request from now on.
    pub(crate) fn cut(&self) {
        self.cut.store(true, Ordering::SeqCst);
    }

    /// Lets requests through again.
    pub(crate) fn restore(&self) {
        self.cut.store(false, Ordering::SeqCst);
    }
}

/// Keeps a blocking task alive, which stops a paused tokio clock from auto-advancing.
struct ClockHold(#[allow(dead_code)] std::sync::mpsc::Sender<()>);

impl ClockHold {
    fn new() -> ClockHold {
        let (tx, rx) = std::sync::mpsc::channel::<()>();
        // Ends when the sender is dropped.
        drop(tokio::task::spawn_blocking(move || rx.recv()));
        ClockHold(tx)
    }
}

impl TestServer {
    /// Starts a server with the built-in kinds.
    pub(crate) async fn start() -> TestServer {
        let store = Arc::new(EmbeddedStore::open(Config::in_memory()).expect("in-memory store"));
        let server = ApiServer::builder(store)
            .token(TOKEN, "admin")
            .build()
            .await
            .expect("api server starts");
        TestServer { server }
    }

    /// A client whose default namespace is `default`.
    pub(crate) fn client(&self) -> Client {
        self.connect().0
    }

    /// A client and its link.
    pub(crate) fn connect(&self) -> (Client, Link) {
        self.connect_answering(|_| None)
    }

    /// A client whose requests `answer` may answer itself before they reach the server (to
    /// play a server that refuses some requests), and its link.
    pub(crate) fn connect_answering(
        &self,
        answer: impl Fn(&http::Request<Body>) -> Option<http::Response<ResponseBody>>
        + Clone
        + Send
        + Sync
        + 'static,
    ) -> (Client, Link) {
        let link = Link::default();
        let router = self.server.router();
        let cut = Arc::clone(&link.cut);
        let service = tower::service_fn(move |mut request: http::Request<Body>| {
            let router = router.clone();
            let cut = cut.load(Ordering::SeqCst);
            let canned = answer(&request);
            async move {
                if cut {
                    return Err(BoxError::from("the test cut this client's link"));
                }
                if let Some(response) = canned {
                    return Ok(response);
                }
                request.headers_mut().insert(
                    http::header::AUTHORIZATION,
                    http::HeaderValue::from_static("Bearer test-token"),
                );
                let _hold = ClockHold::new();
                let response = router.oneshot(request).await?;
                Ok::<_, BoxError>(response.map(ResponseBody::new))
            }
        });
        (Client::new(service, "default"), link)
    }
}
