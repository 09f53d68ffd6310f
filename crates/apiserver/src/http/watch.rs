//! Watch streams: newline-delimited JSON events (`{"type":"ADDED","object":{...}}`), served
//! from the watch cache with upstream's resource-version semantics (synthetic `ADDED` events
//! for "now", resume after a version, `410` as an `ERROR` event when it is too old),
//! selectors with added/deleted transitions, bookmarks, `sendInitialEvents`, Table rendering
//! and `timeoutSeconds`.

use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use bytes::{BufMut, Bytes, BytesMut};
use http::{Response, StatusCode};
use kubernaut_api_types::selector::field;
use kubernaut_api_types::validate::{FieldError, Path};
use serde_json::{Value, json};
use tokio::sync::mpsc;
use tokio::time::Instant;

use super::ApiState;
use super::request::{Query, Rendering};
use super::response;
use crate::cache::{CacheEvent, CacheWatcher, CachedObject, EventType};
use crate::error::{ApiError, GroupKind};
use crate::registry::{ListQuery, matches};
use crate::resources::ResourceSpec;

/// How often a watch with bookmarks allowed gets one when nothing else happens.
const BOOKMARK_INTERVAL: Duration = Duration::from_secs(60);
/// Events fetched from the cache per turn.
const BATCH: usize = 100;

struct Filter {
    namespace: Option<String>,
    query: ListQuery,
}

impl Filter {
    fn matches(&self, obj: &CachedObject) -> bool {
        (self.namespace.is_none() || obj.namespace == self.namespace)
            && matches(obj, &self.query.label_selector, &self.query.field_selector)
    }

    /// The event a watcher with this filter sees for a change: a change into the selection
    /// is an `ADDED`, out of it a `DELETED`.
    fn event<'e>(&self, e: &'e CacheEvent) -> Option<(EventType, &'e Arc<CachedObject>)> {
        let now = self.matches(&e.object);
        let before = e.prev.as_deref().is_some_and(|p| self.matches(p));
        match e.kind {
            EventType::Added => now.then_some((EventType::Added, &e.object)),
            EventType::Modified => match (before, now) {
                (true, true) => Some((EventType::Modified, &e.object)),
                (false, true) => Some((EventType::Added, &e.object)),
                (true, false) => Some((EventType::Deleted, &e.object)),
                (false, false) => None,
            },
            EventType::Deleted => (before || now).then_some((EventType::Deleted, &e.object)),
        }
    }
}

fn list_options_error(field: &str, detail: &str) -> ApiError {
    ApiError::invalid(
        &GroupKind::new("meta.k8s.io", "ListOptions"),
        "",
        &[FieldError::forbidden(&Path::new(field), detail)],
    )
}

/// Serves a watch of `spec` in `namespace` (of one object when `name` is given).
///
/// # Errors
/// `400` for bad parameters, `422` for an invalid combination, `504` when the cache cannot
/// reach the requested version; a too old version is reported in the stream.
pub(super) async fn serve(
    state: &Arc<ApiState>,
    spec: &Arc<ResourceSpec>,
    namespace: Option<&str>,
    name: Option<&str>,
    query: &Query,
    rendering: Rendering,
) -> Result<Response<Body>, ApiError> {
    let mut q = super::list_query(query)?;
    q.field_selector
        .check_supported(&spec.all_selectable_fields())
        .map_err(|e| ApiError::bad_request(e.to_string()))?;
    if let Some(name) = name {
        q.field_selector = field::Selector::and([
            q.field_selector.clone(),
            field::Selector::one_term_equal("metadata.name", name),
        ]);
    }
    let bookmarks = query.flag("allowWatchBookmarks").unwrap_or(false);
    let send_initial = query.flag("sendInitialEvents");
    let rv = q.resource_version.clone().filter(|r| !r.is_empty());
    match (send_initial, q.resource_version_match.as_deref()) {
        (Some(true), m) => {
            if m != Some("NotOlderThan") {
                return Err(list_options_error(
                    "resourceVersionMatch",
                    "sendInitialEvents requires setting resourceVersionMatch to NotOlderThan",
                ));
            }
            if !bookmarks {
                return Err(list_options_error(
                    "allowWatchBookmarks",
                    "sendInitialEvents requires setting allowWatchBookmarks to true",
                ));
            }
        }
        (None, Some(_)) => {
            return Err(list_options_error(
                "resourceVersionMatch",
                "resourceVersionMatch is forbidden for watch unless sendInitialEvents is provided",
            ));
        }
        (Some(false), Some(m)) if m != "NotOlderThan" => {
            return Err(list_options_error(
                "resourceVersionMatch",
                "sendInitialEvents requires setting resourceVersionMatch to NotOlderThan",
            ));
        }
        _ => {}
    }
    let timeout = match query.int("timeoutSeconds")? {
        Some(t) if t > 0 => Duration::from_secs(u64::try_from(t).unwrap_or(u64::MAX / 4)),
        _ => {
            // Upstream: a random time between the minimum request timeout (30 min) and twice
            // it, so that reconnects of many clients spread out.
            let mut r = [0u8; 2];
            crate::object::fill_random(&mut r);
            Duration::from_secs(1800 + u64::from(u16::from_le_bytes(r)) % 1800)
        }
    };
    let cache = Arc::clone(state.registry.cache(spec)?);
    // Where to start, and the objects to send first.
    let (initial, watcher, initial_end): (
        Vec<Arc<CachedObject>>,
        Result<CacheWatcher, ApiError>,
        bool,
    ) = match (send_initial, rv.as_deref()) {
        (Some(true), rv) => {
            match rv {
                None => cache.wait_fresh().await?,
                Some(rv) => cache.wait_for(crate::registry::parse_rv(rv)?).await?,
            }
            let (snapshot, watcher) = cache.snapshot_and_watch(namespace);
            (snapshot.objects, Ok(watcher), true)
        }
        (_, None) | (_, Some("0")) if send_initial != Some(false) => {
            if rv.is_none() {
                cache.wait_fresh().await?;
            }
            let (snapshot, watcher) = cache.snapshot_and_watch(namespace);
            (snapshot.objects, Ok(watcher), false)
        }
        (_, None) => {
            cache.wait_fresh().await?;
            let (_, watcher) = cache.snapshot_and_watch(namespace);
            (Vec::new(), Ok(watcher), false)
        }
        (_, Some(rv)) => {
            let rv = crate::registry::parse_rv(rv)?;
            cache.wait_for(rv).await?;
            (Vec::new(), cache.watch_from(rv), false)
        }
    };
    let filter = Filter {
        namespace: namespace.map(str::to_owned),
        query: q,
    };
    let (tx, rx) = mpsc::channel::<Result<Bytes, std::io::Error>>(16);
    let stream = WatchStream {
        spec: Arc::clone(spec),
        rendering,
        query: query.clone(),
        filter,
        bookmarks,
        headers_sent: false,
        tx,
    };
    let deadline = Instant::now() + timeout;
    let mut shutdown = state.shutdown.clone();
    // Only changes from now on end this watch.
    shutdown.borrow_and_update();
    let metrics = Arc::clone(&state.metrics);
    let resource = spec.api.plural.clone();
    metrics.watch_started(&resource);
    tokio::spawn(async move {
        stream
            .run(initial, initial_end, watcher, deadline, shutdown)
            .await;
        metrics.watch_ended(&resource);
    });
    let mut r = Response::new(Body::from_stream(tokio_stream_from(rx)));
    *r.status_mut() = StatusCode::OK;
    r.headers_mut().insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static("application/json"),
    );
    Ok(r)
}

fn tokio_stream_from(
    mut rx: mpsc::Receiver<Result<Bytes, std::io::Error>>,
) -> impl futures::Stream<Item = Result<Bytes, std::io::Error>> + Send {
    futures::stream::poll_fn(move |cx| rx.poll_recv(cx))
}

struct WatchStream {
    spec: Arc<ResourceSpec>,
    rendering: Rendering,
    query: Query,
    filter: Filter,
    bookmarks: bool,
    headers_sent: bool,
    tx: mpsc::Sender<Result<Bytes, std::io::Error>>,
}

impl WatchStream {
    async fn run(
        mut self,
        initial: Vec<Arc<CachedObject>>,
        initial_end: bool,
        watcher: Result<CacheWatcher, ApiError>,
        deadline: Instant,
        mut shutdown: tokio::sync::watch::Receiver<u64>,
    ) {
        let mut watcher = match watcher {
            Ok(w) => w,
            Err(e) => {
                let _ = self.send(self.error_event(&e)).await;
                return;
            }
        };
        for chunk in initial.chunks(BATCH) {
            let mut out = BytesMut::new();
            for obj in chunk {
                if self.filter.matches(obj) {
                    self.render(&mut out, EventType::Added, obj);
                }
            }
            if !out.is_empty() && !self.send(out.freeze()).await {
                return;
            }
        }
        if initial_end {
            let b = self.bookmark(watcher.position(), true);
            if !self.send(b).await {
                return;
            }
        }
        let mut next_bookmark = Instant::now() + BOOKMARK_INTERVAL;
        loop {
            let wake = if self.bookmarks {
                deadline.min(next_bookmark)
            } else {
                deadline
            };
            let events = tokio::select! {
                r = watcher.next(BATCH, wake) => r,
                _ = shutdown.changed() => return,
                () = self.tx.closed() => return,
            };
            match events {
                Err(e) => {
                    let _ = self.send(self.error_event(&e)).await;
                    return;
                }
                Ok(events) if events.is_empty() => {
                    let now = Instant::now();
                    if self.bookmarks && (now >= next_bookmark || now >= deadline) {
                        let b = self.bookmark(watcher.position(), false);
                        if !self.send(b).await {
                            return;
                        }
                        next_bookmark = now + BOOKMARK_INTERVAL;
                    }
                    if now >= deadline {
                        return;
                    }
                }
                Ok(events) => {
                    let mut out = BytesMut::new();
                    for e in &events {
                        if let Some((kind, obj)) = self.filter.event(e) {
                            self.render(&mut out, kind, obj);
                        }
                    }
                    if !out.is_empty() && !self.send(out.freeze()).await {
                        return;
                    }
                }
            }
        }
    }

    async fn send(&self, bytes: Bytes) -> bool {
        self.tx.send(Ok(bytes)).await.is_ok()
    }

    fn render(&mut self, out: &mut BytesMut, kind: EventType, obj: &Arc<CachedObject>) {
        out.put_slice(b"{\"type\":\"");
        out.put_slice(kind.as_str().as_bytes());
        out.put_slice(b"\",\"object\":");
        match self.rendering {
            Rendering::Object => out.put_slice(&obj.json),
            Rendering::Table(v) => {
                let headers = !self.headers_sent;
                self.headers_sent = true;
                let t = response::table(
                    &self.spec,
                    std::slice::from_ref(obj),
                    obj.rv,
                    None,
                    v,
                    &self.query,
                    headers,
                )
                .unwrap_or_else(|e| e.to_json());
                out.put_slice(&serde_json::to_vec(&t).unwrap_or_default());
            }
            Rendering::Metadata(v) => {
                let meta = serde_json::from_slice::<Value>(&obj.json)
                    .ok()
                    .and_then(|o| o.get("metadata").cloned())
                    .unwrap_or_else(|| json!({}));
                let p = json!({"kind": "PartialObjectMetadata",
                    "apiVersion": format!("meta.k8s.io/{v}"), "metadata": meta});
                out.put_slice(&serde_json::to_vec(&p).unwrap_or_default());
            }
        }
        out.put_slice(b"}\n");
    }

    fn bookmark(&self, rv: i64, initial_end: bool) -> Bytes {
        let mut metadata = json!({"resourceVersion": rv.to_string(), "creationTimestamp": null});
        if initial_end {
            metadata["annotations"] = json!({"k8s.io/initial-events-end": "true"});
        }
        let event = json!({"type": "BOOKMARK", "object": {
            "kind": self.spec.api.kind, "apiVersion": self.spec.api.api_version,
            "metadata": metadata}});
        line(&event)
    }

    fn error_event(&self, e: &ApiError) -> Bytes {
        line(&json!({"type": "ERROR", "object": e.to_json()}))
    }
}

fn line(v: &Value) -> Bytes {
    let mut b = serde_json::to_vec(v).unwrap_or_default();
    b.push(b'\n');
    Bytes::from(b)
}
