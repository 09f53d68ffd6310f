//! The watcher: a stream of a resource's state, kept right by listing (in pages) and then
//! watching from the list's resource version, with upstream's recovery.
//!
//! # Recovery
//! The watcher is an explicit state machine (`State`); every poll takes one step:
//!
//! | state | step | next |
//! |---|---|---|
//! | `Empty` | open a streaming-list watch (the default), or list the first page | `InitialWatch` / `InitPage` |
//! | `InitialWatch` | read an initial object; the `initial-events-end` bookmark ends the list | `InitialWatch` / `Watching` |
//! | `InitPage` | list the next page, at the first page's resource version | `InitPage` / `InitListed` |
//! | `InitListed` | open a watch from the list's resource version (bookmarks on, randomised server timeout) | `Watching` |
//! | `Watching` | read an event; a bookmark moves the resource version | `Watching` |
//!
//! - The watch ends (server timeout, connection closed): watch again from the last resource
//!   version (`InitListed`): no relist.
//! - `410 Gone/Expired` (the version fell out of the server's history): relist (`Empty`).
//! - The streaming list fails (the server refuses `sendInitialEvents`, or the stream breaks
//!   before the `initial-events-end` bookmark): this relist is a paginated list, started at
//!   once; the next relist streams again, unless the server answered 400 or 422 (it does not
//!   support streaming lists), in which case the watcher lists from then on.
//! - Any other error: the error is yielded, the state kept, and the next step waits first —
//!   exponential backoff with jitter, 0.8 s doubling to 30 s, reset after 2 minutes without
//!   errors (client-go's reflector numbers).
//!
//! Every (re)list is bracketed by [`Event::Init`] and [`Event::InitDone`] with the listed
//! objects as [`Event::InitApply`] in between, so a cache can buffer a relist and swap it in
//! atomically: objects deleted while the watch was down disappear at the swap.

use std::collections::VecDeque;
use std::pin::Pin;
use std::time::Duration;

use futures::{Stream, StreamExt as _};
use kubernaut_api_types::Object;
use kubernaut_api_types::meta::WatchEvent;
use kubernaut_client::watch::WatchStream;
use kubernaut_client::{Api, ListParams, WatchParams};
use serde::de::DeserializeOwned;

/// Why a watcher step failed. Every error is retried by the watcher itself.
#[derive(Debug, thiserror::Error)]
pub enum WatcherError {
    /// Listing failed.
    #[error("failed to list: {0}")]
    InitialListFailed(#[source] kubernaut_client::Error),
    /// Opening the watch failed.
    #[error("failed to start watching: {0}")]
    WatchStartFailed(#[source] kubernaut_client::Error),
    /// The server reported an error inside the watch stream.
    #[error("error in the watch stream: {}", .0.message.as_deref().unwrap_or(""))]
    WatchError(Box<kubernaut_api_types::meta::Status>),
    /// The watch stream broke.
    #[error("the watch stream failed: {0}")]
    WatchFailed(#[source] kubernaut_client::Error),
    /// A list or bookmark came without a resource version to watch from.
    #[error("the server sent no resource version")]
    NoResourceVersion,
}

/// What a watcher yields.
#[derive(Clone, Debug, PartialEq)]
pub enum Event<K> {
    /// A (re)list starts: the objects that follow replace the current state.
    Init,
    /// An object of the list.
    InitApply(K),
    /// The (re)list is complete: what was listed is now the whole state.
    InitDone,
    /// An object was created or changed.
    Apply(K),
    /// An object was deleted (its last state).
    Delete(K),
}

impl<K> Event<K> {
    /// Applies `f` to the object, if any.
    pub fn map<T>(self, f: impl FnOnce(K) -> T) -> Event<T> {
        match self {
            Event::Init => Event::Init,
            Event::InitApply(k) => Event::InitApply(f(k)),
            Event::InitDone => Event::InitDone,
            Event::Apply(k) => Event::Apply(f(k)),
            Event::Delete(k) => Event::Delete(f(k)),
        }
    }
}

/// How the initial state is fetched.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum InitialList {
    /// Paginated LIST, then WATCH (client-go's default).
    ListWatch,
    /// One WATCH with `sendInitialEvents=true`: the server streams the state, then a bookmark
    /// marks its end (KEP-3157, client-go's `WatchListClient`). The default: the state
    /// arrives object by object, so the client never holds a whole list body and its decoded
    /// items at once (for 100k Pods that halves the peak memory of a sync).
    ///
    /// When the streaming watch fails (the server does not support it, or the stream breaks
    /// before the state is complete), that (re)list falls back to [`InitialList::ListWatch`]
    /// at once, as client-go's reflector does; the next relist tries streaming again, unless
    /// the server rejected the request as invalid (400, 422: it predates KEP-3157), in which
    /// case the watcher lists for good.
    #[default]
    Streaming,
}

/// Settings of a [`watcher`].
#[derive(Clone, Debug)]
pub struct Config {
    /// `labelSelector`.
    pub label_selector: Option<String>,
    /// `fieldSelector`.
    pub field_selector: Option<String>,
    /// Objects per list page (default 500, client-go's pager).
    pub page_size: u32,
    /// How the initial state is fetched.
    pub initial_list: InitialList,
    /// Whether the first list may be served from the server's watch cache
    /// (`resourceVersion=0`; client-go's first list). Default true.
    pub any_version_first: bool,
    /// The server-side watch timeout is drawn from this range, in seconds (default 300–600,
    /// client-go's), so that many watchers do not reconnect together.
    pub timeout_range: (u32, u32),
    /// Backoff after an error: first delay, maximum, and the quiet time after which it resets
    /// (default 0.8 s, 30 s, 120 s).
    pub backoff: (Duration, Duration, Duration),
}

impl Default for Config {
    fn default() -> Self {
        Config {
            label_selector: None,
            field_selector: None,
            page_size: 500,
            initial_list: InitialList::Streaming,
            any_version_first: true,
            timeout_range: (300, 600),
            backoff: (
                Duration::from_millis(800),
                Duration::from_secs(30),
                Duration::from_secs(120),
            ),
        }
    }
}

impl Config {
    /// Only objects matching this label selector.
    #[must_use]
    pub fn labels(mut self, selector: &str) -> Self {
        self.label_selector = Some(selector.to_owned());
        self
    }

    /// Only objects matching this field selector.
    #[must_use]
    pub fn fields(mut self, selector: &str) -> Self {
        self.field_selector = Some(selector.to_owned());
        self
    }

    /// List pages of this many objects.
    #[must_use]
    pub fn page_size(mut self, n: u32) -> Self {
        self.page_size = n.max(1);
        self
    }

    /// Fetch the initial state with a streaming watch (`sendInitialEvents`), falling back to
    /// a list when that fails (the default; see [`InitialList::Streaming`]).
    #[must_use]
    pub fn streaming_lists(mut self) -> Self {
        self.initial_list = InitialList::Streaming;
        self
    }

    /// Fetch the initial state with a paginated list (see [`InitialList::ListWatch`]).
    #[must_use]
    pub fn list_watch(mut self) -> Self {
        self.initial_list = InitialList::ListWatch;
        self
    }

    /// The server-side watch timeout range, in seconds.
    #[must_use]
    pub fn timeout(mut self, min: u32, max: u32) -> Self {
        self.timeout_range = (min.max(1), max.max(min.max(1)));
        self
    }
}

/// Where a watcher is.
enum State<K> {
    /// Nothing listed yet (or a relist is needed).
    Empty,
    /// Listing: the continue token and the list's resource version.
    InitPage {
        continue_token: Option<String>,
        resource_version: Option<String>,
    },
    /// Streaming the initial state: the watch, and the resource version seen so far.
    InitialWatch {
        stream: Pin<Box<WatchStream<K>>>,
        resource_version: String,
    },
    /// Listed: watch from here.
    InitListed { resource_version: String },
    /// Watching from `resource_version`.
    Watching {
        resource_version: String,
        stream: Pin<Box<WatchStream<K>>>,
    },
}

/// The watcher's machinery: state, queued events and backoff.
struct Machine<K> {
    api: Api<K>,
    config: Config,
    state: State<K>,
    /// The listed objects not yet yielded: the list's own allocation, never copied.
    page: std::vec::IntoIter<K>,
    pending: VecDeque<Event<K>>,
    backoff: Backoff,
    /// Whether any list has completed (later lists read the latest state, not the cache).
    listed_once: bool,
    /// The last streaming list failed: the current (re)list is a plain list.
    fall_back: bool,
    /// The server rejected streaming lists as invalid: always list.
    streaming_refused: bool,
}

/// Exponential backoff with jitter that resets after a quiet period.
#[derive(Debug)]
struct Backoff {
    first: Duration,
    max: Duration,
    reset_after: Duration,
    current: Option<Duration>,
    last_error: Option<tokio::time::Instant>,
    next_wait: Option<Duration>,
}

impl Backoff {
    fn new((first, max, reset_after): (Duration, Duration, Duration)) -> Self {
        Backoff {
            first,
            max,
            reset_after,
            current: None,
            last_error: None,
            next_wait: None,
        }
    }

    /// Records a failure; the next step waits.
    fn failed(&mut self) {
        let now = tokio::time::Instant::now();
        if self
            .last_error
            .is_some_and(|t| now.duration_since(t) >= self.reset_after)
        {
            self.current = None;
        }
        self.last_error = Some(now);
        let base = match self.current {
            None => self.first,
            Some(c) => (c * 2).min(self.max),
        };
        self.current = Some(base);
        // Jitter: up to the same again (client-go's jitter factor 1.0), capped.
        let jitter = base.mul_f64(random_unit());
        self.next_wait = Some((base + jitter).min(self.max));
    }

    fn take_wait(&mut self) -> Option<Duration> {
        self.next_wait.take()
    }
}

/// A random number in [0, 1), for jitter.
pub(crate) fn random_unit() -> f64 {
    let mut b = [0u8; 8];
    // Without an OS source the jitter is zero: still correct, only less spread.
    if getrandom::fill(&mut b).is_err() {
        return 0.0;
    }
    (u64::from_le_bytes(b) >> 11) as f64 / (1u64 << 53) as f64
}

fn random_between(lo: u32, hi: u32) -> u32 {
    if hi <= lo {
        return lo;
    }
    lo + (random_unit() * f64::from(hi - lo + 1)) as u32
}

impl<K> Machine<K>
where
    K: Object + DeserializeOwned + Clone + Send + 'static,
{
    fn list_params(&self, continue_token: Option<&str>, rv: Option<&str>) -> ListParams {
        let mut p = ListParams {
            label_selector: self.config.label_selector.clone(),
            field_selector: self.config.field_selector.clone(),
            limit: Some(self.config.page_size),
            continue_token: continue_token.map(str::to_owned),
            ..ListParams::default()
        };
        if continue_token.is_none()
            && rv.is_none()
            && self.config.any_version_first
            && !self.listed_once
        {
            p = p.any_version();
        }
        p
    }

    fn watch_params(&self, streaming: bool) -> WatchParams {
        let (lo, hi) = self.config.timeout_range;
        let mut p = WatchParams {
            label_selector: self.config.label_selector.clone(),
            field_selector: self.config.field_selector.clone(),
            timeout: Some(random_between(lo, hi)),
            bookmarks: true,
            ..WatchParams::default()
        };
        if streaming {
            p = p.streaming_lists();
        }
        p
    }

    /// A streaming list failed: this (re)list falls back to a plain list, at once (the state
    /// is `Empty`; the list's `Init` replaces whatever the stream delivered).
    fn streaming_failed(&mut self, why: &dyn std::fmt::Display) {
        tracing::warn!(
            "streaming list failed, falling back to list and watch: {why}{}",
            if self.streaming_refused {
                " (the server refuses streaming lists: not trying again)"
            } else {
                ""
            }
        );
        self.fall_back = true;
        self.state = State::Empty;
    }

    /// Forgets what a failed list has queued: its objects and events not yet yielded.
    fn drop_listed(&mut self) {
        self.page = Default::default();
        self.pending.clear();
    }

    /// One step: returns an event or error to yield, or nothing (step again).
    async fn step(&mut self) -> Option<Result<Event<K>, WatcherError>> {
        if let Some(wait) = self.backoff.take_wait() {
            tokio::time::sleep(wait).await;
        }
        let state = std::mem::replace(&mut self.state, State::Empty);
        match state {
            State::Empty => match self.config.initial_list {
                InitialList::Streaming if self.fall_back || self.streaming_refused => {
                    self.state = State::InitPage {
                        continue_token: None,
                        resource_version: None,
                    };
                    Some(Ok(Event::Init))
                }
                InitialList::ListWatch => {
                    self.state = State::InitPage {
                        continue_token: None,
                        resource_version: None,
                    };
                    Some(Ok(Event::Init))
                }
                InitialList::Streaming => {
                    let params = self.watch_params(true);
                    match self.api.watch(&params, "").await {
                        Ok(stream) => {
                            self.state = State::InitialWatch {
                                stream: Box::pin(stream),
                                resource_version: String::new(),
                            };
                            Some(Ok(Event::Init))
                        }
                        Err(e) => {
                            // 400 or 422: the server does not know the parameters.
                            if matches!(e.code(), Some(400 | 422)) {
                                self.streaming_refused = true;
                            }
                            self.streaming_failed(&e);
                            None
                        }
                    }
                }
            },
            State::InitPage {
                continue_token,
                resource_version,
            } => {
                let params =
                    self.list_params(continue_token.as_deref(), resource_version.as_deref());
                match self.api.list(&params).await {
                    Ok(list) => {
                        let rv = resource_version.or(list.metadata.resource_version.clone());
                        self.page = list.items.into_iter();
                        match list.metadata.continue_.filter(|c| !c.is_empty()) {
                            Some(next) => {
                                self.state = State::InitPage {
                                    continue_token: Some(next),
                                    resource_version: rv,
                                };
                            }
                            None => {
                                let Some(rv) = rv.filter(|r| !r.is_empty()) else {
                                    self.drop_listed();
                                    self.backoff.failed();
                                    return Some(Err(WatcherError::NoResourceVersion));
                                };
                                self.listed_once = true;
                                self.fall_back = false;
                                self.pending.push_back(Event::InitDone);
                                self.state = State::InitListed {
                                    resource_version: rv,
                                };
                            }
                        }
                        None
                    }
                    Err(e) => {
                        // An expired continue token means the list must start over.
                        self.drop_listed();
                        self.state = State::Empty;
                        self.backoff.failed();
                        Some(Err(WatcherError::InitialListFailed(e)))
                    }
                }
            }
            State::InitialWatch {
                mut stream,
                mut resource_version,
            } => match stream.next().await {
                Some(Ok(WatchEvent::Added(k) | WatchEvent::Modified(k))) => {
                    if let Some(rv) = k.meta().resource_version.clone() {
                        resource_version = rv;
                    }
                    self.state = State::InitialWatch {
                        stream,
                        resource_version,
                    };
                    Some(Ok(Event::InitApply(k)))
                }
                Some(Ok(WatchEvent::Deleted(_))) => {
                    self.state = State::InitialWatch {
                        stream,
                        resource_version,
                    };
                    None
                }
                Some(Ok(WatchEvent::Bookmark(b))) => {
                    let end = b.metadata.annotations.as_ref().is_some_and(|a| {
                        a.get("k8s.io/initial-events-end").map(String::as_str) == Some("true")
                    });
                    let rv = b.metadata.resource_version;
                    if end {
                        self.listed_once = true;
                        self.state = State::Watching {
                            resource_version: rv,
                            stream,
                        };
                        Some(Ok(Event::InitDone))
                    } else {
                        self.state = State::InitialWatch {
                            stream,
                            resource_version: rv,
                        };
                        None
                    }
                }
                Some(Ok(WatchEvent::Error(status))) => {
                    self.streaming_failed(&WatcherError::WatchError(Box::new(status)));
                    None
                }
                Some(Err(e)) => {
                    self.streaming_failed(&e);
                    None
                }
                None => {
                    self.streaming_failed(
                        &"the stream ended before the initial-events-end bookmark",
                    );
                    None
                }
            },
            State::InitListed { resource_version } => {
                let params = self.watch_params(false);
                match self.api.watch(&params, &resource_version).await {
                    Ok(stream) => {
                        self.state = State::Watching {
                            resource_version,
                            stream: Box::pin(stream),
                        };
                        None
                    }
                    Err(e) => {
                        let gone = e.is_gone();
                        self.state = if gone {
                            State::Empty
                        } else {
                            State::InitListed { resource_version }
                        };
                        self.backoff.failed();
                        Some(Err(WatcherError::WatchStartFailed(e)))
                    }
                }
            }
            State::Watching {
                mut resource_version,
                mut stream,
            } => match stream.next().await {
                Some(Ok(event)) => match event {
                    WatchEvent::Added(k) | WatchEvent::Modified(k) => {
                        if let Some(rv) = k.meta().resource_version.clone() {
                            resource_version = rv;
                        }
                        self.state = State::Watching {
                            resource_version,
                            stream,
                        };
                        Some(Ok(Event::Apply(k)))
                    }
                    WatchEvent::Deleted(k) => {
                        if let Some(rv) = k.meta().resource_version.clone() {
                            resource_version = rv;
                        }
                        self.state = State::Watching {
                            resource_version,
                            stream,
                        };
                        Some(Ok(Event::Delete(k)))
                    }
                    WatchEvent::Bookmark(b) => {
                        if !b.metadata.resource_version.is_empty() {
                            resource_version = b.metadata.resource_version;
                        }
                        self.state = State::Watching {
                            resource_version,
                            stream,
                        };
                        None
                    }
                    WatchEvent::Error(status) => {
                        // 410: the version is gone from the server's history: relist.
                        self.state = if status.code == Some(410) {
                            State::Empty
                        } else {
                            State::InitListed { resource_version }
                        };
                        self.backoff.failed();
                        Some(Err(WatcherError::WatchError(Box::new(status))))
                    }
                },
                Some(Err(e)) => {
                    self.state = State::InitListed { resource_version };
                    self.backoff.failed();
                    Some(Err(WatcherError::WatchFailed(e)))
                }
                None => {
                    // The server ended the watch: resume from where it stopped.
                    self.state = State::InitListed { resource_version };
                    None
                }
            },
        }
    }

    /// The next item: a queued event, or the result of stepping until there is one.
    async fn next(mut self) -> Option<(Result<Event<K>, WatcherError>, Self)> {
        loop {
            if let Some(k) = self.page.next() {
                return Some((Ok(Event::InitApply(k)), self));
            }
            // Free the exhausted list's buffer now, not at the next list.
            self.page = Default::default();
            if let Some(e) = self.pending.pop_front() {
                return Some((Ok(e), self));
            }
            if let Some(item) = self.step().await {
                return Some((item, self));
            }
        }
    }
}

/// The resource version a watcher is at, when the state has one (for diagnostics).
impl<K> State<K> {
    #[allow(dead_code)]
    fn resource_version(&self) -> Option<&str> {
        match self {
            State::InitPage {
                resource_version, ..
            } => resource_version.as_deref(),
            State::InitialWatch {
                resource_version, ..
            }
            | State::InitListed { resource_version }
            | State::Watching {
                resource_version, ..
            } => Some(resource_version),
            State::Empty => None,
        }
    }
}

/// Watches the objects of `api` (a namespace, or all) for ever: see the module docs for the
/// events and the recovery. The stream never ends on its own; errors are yielded and retried.
pub fn watcher<K>(
    api: Api<K>,
    config: Config,
) -> impl Stream<Item = Result<Event<K>, WatcherError>> + Send
where
    K: Object + DeserializeOwned + Clone + Send + Sync + 'static,
{
    let machine = Machine {
        api,
        backoff: Backoff::new(config.backoff),
        config,
        state: State::Empty,
        page: Default::default(),
        pending: VecDeque::new(),
        listed_once: false,
        fall_back: false,
        streaming_refused: false,
    };
    futures::stream::unfold(machine, Machine::next)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use kubernaut_api_types::core::v1::ConfigMap;
    use kubernaut_api_types::meta::ObjectMeta;

    #[tokio::test(start_paused = true)]
    async fn backoff_doubles_to_the_cap_and_resets_after_quiet() {
        let mut b = Backoff::new((
            Duration::from_millis(800),
            Duration::from_secs(30),
            Duration::from_secs(120),
        ));
        let mut bases = Vec::new();
        for _ in 0..8 {
            b.failed();
            bases.push(b.current.unwrap());
            let w = b.take_wait().unwrap();
            assert!(
                w >= b.current.unwrap() && w <= Duration::from_secs(30),
                "{w:?}"
            );
        }
        assert_eq!(bases[0], Duration::from_millis(800));
        assert_eq!(bases[1], Duration::from_millis(1600));
        assert_eq!(*bases.last().unwrap(), Duration::from_secs(30));
        tokio::time::advance(Duration::from_secs(121)).await;
        b.failed();
        assert_eq!(b.current.unwrap(), Duration::from_millis(800));
    }

    /// Runs a watcher of ConfigMaps through `client` until its first `InitDone`; returns the
    /// names it listed.
    async fn first_sync(client: kubernaut_client::Client) -> Vec<String> {
        let cms: Api<ConfigMap> = Api::default_namespaced(client);
        // A list at `resourceVersion=0` may be served by a watch cache that has not caught up.
        let config = Config {
            any_version_first: false,
            ..Config::default()
        };
        let mut events = Box::pin(watcher(cms, config));
        let mut names = Vec::new();
        loop {
            match events.next().await.expect("event").expect("no error") {
                Event::Init => names.clear(),
                Event::InitApply(c) => names.push(c.metadata.name.unwrap_or_default()),
                Event::InitDone => break,
                other => panic!("unexpected {other:?}"),
            }
        }
        names.sort();
        names
    }

    async fn server_with_two_config_maps() -> crate::test_server::TestServer {
        let server = crate::test_server::TestServer::start().await;
        let cms: Api<ConfigMap> = Api::default_namespaced(server.client());
        for name in ["a", "b"] {
            let cm = ConfigMap {
                metadata: ObjectMeta {
                    name: Some(name.to_owned()),
                    ..ObjectMeta::default()
                },
                ..ConfigMap::default()
            };
            cms.create(&kubernaut_client::PostParams::default(), &cm)
                .await
                .expect("create");
        }
        server
    }

    /// A canned `Status` response.
    fn status(code: u16, reason: &str) -> http::Response<kubernaut_client::ResponseBody> {
        let body = format!(
            r#"{{"kind":"Status","apiVersion":"v1","status":"Failure","reason":"{reason}","code":{code}}}"#
        );
        let mut response = http::Response::new(kubernaut_client::ResponseBody::from_bytes(body));
        *response.status_mut() = http::StatusCode::from_u16(code).expect("status code");
        response
    }

    fn streaming(request: &http::Request<kubernaut_client::Body>) -> bool {
        request
            .uri()
            .query()
            .is_some_and(|q| q.contains("sendInitialEvents=true"))
    }

    #[tokio::test(start_paused = true)]
    async fn streaming_is_the_default() {
        let server = server_with_two_config_maps().await;
        let lists = Arc::new(AtomicUsize::new(0));
        let counted = Arc::clone(&lists);
        let (client, _link) = server.connect_answering(move |request| {
            if request.method() == http::Method::GET && !streaming(request) {
                // A plain list (watches other than the streaming one do not come first).
                counted.fetch_add(1, Ordering::SeqCst);
            }
            None
        });
        assert_eq!(first_sync(client).await, ["a", "b"]);
        assert_eq!(lists.load(Ordering::SeqCst), 0, "synced without a list");
    }

    /// Syncs through a server that answers every streaming list with `code`; returns the
    /// names listed, how many streaming lists were refused, and the virtual time it took.
    async fn sync_refusing_streams(
        code: u16,
        reason: &'static str,
    ) -> (Vec<String>, usize, Duration) {
        let server = server_with_two_config_maps().await;
        let refused = Arc::new(AtomicUsize::new(0));
        let counted = Arc::clone(&refused);
        let (client, _link) = server.connect_answering(move |request| {
            streaming(request).then(|| {
                counted.fetch_add(1, Ordering::SeqCst);
                status(code, reason)
            })
        });
        let started = tokio::time::Instant::now();
        let names = first_sync(client).await;
        (names, refused.load(Ordering::SeqCst), started.elapsed())
    }

    #[tokio::test(start_paused = true)]
    async fn a_server_without_streaming_lists_is_listed_at_once() {
        // What an API server older than KEP-3157 answers to `sendInitialEvents`.
        let (names, refused, took) = sync_refusing_streams(422, "Invalid").await;
        assert_eq!(names, ["a", "b"]);
        assert_eq!(refused, 1);
        assert_eq!(took, Duration::ZERO, "no backoff before the list");
    }

    #[tokio::test(start_paused = true)]
    async fn a_streaming_list_that_fails_falls_back_to_a_list() {
        let (names, failed, _) = sync_refusing_streams(500, "InternalError").await;
        assert_eq!(names, ["a", "b"]);
        assert_eq!(failed, 1);
    }

    /// Serves a watcher through a server whose first plain watch answers 410 (which forces a
    /// relist) and whose streaming lists get `streaming_answer(n)` for the n-th one; returns
    /// how many streaming lists the watcher asked for by its second completed (re)list.
    async fn streaming_lists_over_two_syncs(streaming_answer: fn(usize) -> Option<u16>) -> usize {
        let server = server_with_two_config_maps().await;
        let streams = Arc::new(AtomicUsize::new(0));
        let watches = Arc::new(AtomicUsize::new(0));
        let (s, w) = (Arc::clone(&streams), Arc::clone(&watches));
        let (client, _link) = server.connect_answering(move |request| {
            if streaming(request) {
                let n = s.fetch_add(1, Ordering::SeqCst);
                streaming_answer(n).map(|code| status(code, "Refused"))
            } else if request
                .uri()
                .query()
                .is_some_and(|q| q.contains("watch=true"))
            {
                (w.fetch_add(1, Ordering::SeqCst) == 0).then(|| status(410, "Expired"))
            } else {
                None
            }
        });
        let cms: Api<ConfigMap> = Api::default_namespaced(client);
        let mut events = Box::pin(watcher(cms, Config::default()));
        let mut syncs = 0;
        while syncs < 2 {
            if let Ok(Event::InitDone) = events.next().await.expect("event") {
                syncs += 1;
            }
        }
        streams.load(Ordering::SeqCst)
    }

    #[tokio::test(start_paused = true)]
    async fn after_a_failed_streaming_list_the_next_relist_streams_again() {
        // The first streaming list fails (500) and falls back; the relist streams.
        assert_eq!(
            streaming_lists_over_two_syncs(|n| (n == 0).then_some(500)).await,
            2
        );
    }

    #[tokio::test(start_paused = true)]
    async fn after_a_refused_streaming_list_the_watcher_lists_for_good() {
        // 422: the server does not support streaming lists; the relist does not ask again.
        assert_eq!(streaming_lists_over_two_syncs(|_| Some(422)).await, 1);
    }

    #[test]
    fn random_timeouts_stay_in_range() {
        for _ in 0..100 {
            let t = random_between(300, 600);
            assert!((300..=600).contains(&t));
        }
        assert_eq!(random_between(5, 5), 5);
    }
}
