//! The watcher: a stream of a resource's state, kept right by listing (in pages) and then
//! watching from the list's resource version, with upstream's recovery.
//!
//! # Recovery
//! The watcher is an explicit state machine (`State`); every poll takes one step:
//!
//! | state | step | next |
//! |---|---|---|
//! | `Empty` | list the first page (or open a streaming-list watch) | `InitPage` / `InitialWatch` |
//! | `InitPage` | list the next page, at the first page's resource version | `InitPage` / `InitListed` |
//! | `InitListed` | open a watch from the list's resource version (bookmarks on, randomised server timeout) | `Watching` |
//! | `Watching` | read an event; a bookmark moves the resource version | `Watching` |
//!
//! - The watch ends (server timeout, connection closed): watch again from the last resource
//!   version (`InitListed`): no relist.
//! - `410 Gone/Expired` (the version fell out of the server's history): relist (`Empty`).
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
    /// Paginated LIST, then WATCH (the default).
    #[default]
    ListWatch,
    /// One WATCH with `sendInitialEvents=true`: the server streams the state, then a bookmark
    /// marks its end (KEP-3157).
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
            initial_list: InitialList::ListWatch,
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

    /// Fetch the initial state with a streaming watch (`sendInitialEvents`).
    #[must_use]
    pub fn streaming_lists(mut self) -> Self {
        self.initial_list = InitialList::Streaming;
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
                            self.backoff.failed();
                            Some(Err(WatcherError::WatchStartFailed(e)))
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
                    self.backoff.failed();
                    Some(Err(WatcherError::WatchError(Box::new(status))))
                }
                Some(Err(e)) => {
                    self.backoff.failed();
                    Some(Err(WatcherError::WatchFailed(e)))
                }
                None => {
                    // The stream ended before the initial state was complete: start over.
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
    };
    futures::stream::unfold(machine, Machine::next)
}

#[cfg(test)]
mod tests {
    use super::*;

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

    #[test]
    fn random_timeouts_stay_in_range() {
        for _ in 0..100 {
            let t = random_between(300, 600);
            assert!((300..=600).contains(&t));
        }
        assert_eq!(random_between(5, 5), 5);
    }
}
