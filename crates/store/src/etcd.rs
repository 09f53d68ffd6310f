//! [`EtcdStore`]: the [`Backend`] contract on a real etcd v3 cluster, through the `etcd-client`
//! crate (cargo feature `etcd`).
//!
//! Every operation maps onto one etcd RPC (plus, on some error paths, a probe), and revisions are
//! etcd's own:
//!
//! | [`Backend`] | etcd |
//! |---|---|
//! | `get(key, at)` | `Range(prefix+key, revision)` |
//! | `list(prefix, options)` | `Range([prefix+p, end(prefix+p)), limit, revision)`; `start_after` starts the range at `prefix+start_after+"\0"`; without a limit, pages of [`EtcdConfig::page_size`] keys, all at the first page's revision |
//! | `count(prefix)` | `Range(.., count_only)` |
//! | `txn` | one `Txn`: compares → `Compare::{mod_revision, create_revision, version, value}`, puts and deletes with `prev_kv`, gets → `Range` |
//! | `watch(prefix, options)` | one `Watch` stream per watch, with `prev_kv`, `start_revision`, progress requests |
//! | `compact(r)` | `Compact(r, physical)` |
//! | `revisions()` | the header revision of a `Range` and the tracked compaction point |
//!
//! Keys: the etcd key is [`EtcdConfig::prefix`] followed by the store key; the prefix is
//! stripped from every key read back (a key that is not UTF-8 fails the read with
//! `Unavailable`). Values are stored as they are.
//!
//! # The compaction point
//! After etcd's `Compact(C)`, reads at `C` still work and reads below fail; the store's
//! compaction point is `C` (the embedded store reports the same). Watches are stricter: a
//! watch must start *after* the compaction point, as the trait says (etcd itself would accept a
//! watch from `C`, whose events it may have partly discarded).
//!
//! etcd does not report its compaction point except when it cancels a watch from below it. The
//! store therefore keeps the highest compaction point it has seen (its own compactions, watch
//! cancellations) and, when it needs the current one ([`Backend::revisions`], a `Compacted`
//! error, a watch from revision 1), checks it with a count-only read at that revision: if etcd
//! refuses it as compacted, someone compacted further, and a one-key watch from that revision
//! (which etcd cancels at once, reporting its compaction point) gives the exact value. A
//! compaction at revision 1 is invisible this way (etcd keeps revision 1 readable and
//! watchable); it is reported only when this client did it.
//!
//! # Progress notifications
//! [`Watch::request_progress`] sends etcd a `WatchProgressRequest`, again every 250 ms until a
//! progress notification arrives (etcd drops requests it cannot answer yet). A
//! `progress_interval` is emulated on the client by requesting progress on a timer: etcd's own
//! periodic notifications come every ten minutes by default. etcd before 3.4.25 and 3.5.8
//! answers a progress request with its current revision at once, ahead of events not yet sent
//! (etcd issue 15220; on 3.4.23, a watch from a past revision asked for progress right away gets
//! the head revision before any of the replayed events). On those versions a progress
//! notification is only trustworthy once the watch has caught up; [`EtcdStore::connect`] logs a
//! warning.
//!
//! # Errors
//! "required revision has been compacted" → [`StoreError::Compacted`] (with the compaction
//! point as above); "required revision is a future revision" → [`StoreError::FutureRevision`]
//! (with a fresh read of the current revision); "request is too large" and gRPC's "received
//! message larger than max" → [`StoreError::TooLarge`] (with etcd's limit when the message
//! carries it, else [`EtcdConfig::max_request_bytes`]); other `InvalidArgument` statuses →
//! [`StoreError::InvalidArgument`]; everything else (connection failures, timeouts, no leader,
//! no space) → [`StoreError::Unavailable`] with the client error as the source.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;
use etcd_client as ec;
use futures::{Stream, StreamExt};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use crate::backend::{Backend, ProgressRequester, Watch};
use crate::error::{Result, StoreError};
use crate::types::{
    CompareOp, CompareTarget, Event, EventKind, GetResponse, KeyValue, ListOptions, ListResponse,
    ReadAt, Revision, Txn, TxnOp, TxnOpResult, TxnResponse, WatchOptions, WatchResponse,
};

/// How often a requested progress notification is asked for again until one arrives.
const PROGRESS_RETRY: Duration = Duration::from_millis(250);

/// Settings of an [`EtcdStore`].
#[derive(Clone)]
pub struct EtcdConfig {
    /// Every key lives under this prefix in etcd (for example `/registry`); it is stripped from
    /// the keys read back. Default: empty.
    pub prefix: String,
    /// Lists without a limit are read from etcd in pages of this many keys, all at the
    /// revision of the first page (default 1,000).
    pub page_size: usize,
    /// Deadline of every request (default 10 s). Watches are not limited, but their creation is.
    pub request_timeout: Duration,
    /// Deadline of establishing the connection (default 5 s).
    pub connect_timeout: Duration,
    /// HTTP/2 keep-alive: ping interval and timeout (default 30 s and 10 s).
    pub keep_alive: Option<(Duration, Duration)>,
    /// Largest transaction sent to etcd, keys and values included: larger ones fail with
    /// [`StoreError::TooLarge`] before they are sent. Default 1.5 MiB, etcd's default
    /// `--max-request-bytes`; set it to the cluster's value.
    pub max_request_bytes: usize,
    /// Largest response accepted from etcd (default 512 MiB). A list page above it fails: lower
    /// `page_size`.
    pub max_response_bytes: usize,
    /// User name and password, for clusters with authentication enabled.
    pub user: Option<(String, String)>,
}

impl Default for EtcdConfig {
    fn default() -> Self {
        EtcdConfig {
            prefix: String::new(),
            page_size: 1000,
            request_timeout: Duration::from_secs(10),
            connect_timeout: Duration::from_secs(5),
            keep_alive: Some((Duration::from_secs(30), Duration::from_secs(10))),
            max_request_bytes: 3 << 19,
            max_response_bytes: 512 << 20,
            user: None,
        }
    }
}

impl fmt::Debug for EtcdConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EtcdConfig")
            .field("prefix", &self.prefix)
            .field("page_size", &self.page_size)
            .field("request_timeout", &self.request_timeout)
            .field("connect_timeout", &self.connect_timeout)
            .field("keep_alive", &self.keep_alive)
            .field("max_request_bytes", &self.max_request_bytes)
            .field("max_response_bytes", &self.max_response_bytes)
            .field("user", &self.user.as_ref().map(|(name, _)| name))
            .finish()
    }
}

/// A [`Backend`] on an etcd v3 cluster. Cheap to clone: clones share one connection.
#[derive(Clone)]
pub struct EtcdStore {
    inner: Arc<Inner>,
}

struct Inner {
    client: ec::Client,
    kv: ec::KvClient,
    watch: ec::WatchClient,
    config: EtcdConfig,
    prefix: Vec<u8>,
    /// The highest compaction point seen (a lower bound of etcd's).
    compacted: Arc<AtomicI64>,
    server_version: String,
}

impl fmt::Debug for EtcdStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EtcdStore")
            .field("config", &self.inner.config)
            .field("server_version", &self.inner.server_version)
            .field("compacted", &self.inner.compacted.load(Ordering::Relaxed))
            .finish_non_exhaustive()
    }
}

/// Why an etcd call failed, before the revision errors are completed with probes.
#[derive(Debug)]
enum Failure {
    /// "required revision has been compacted".
    Compacted,
    /// "required revision is a future revision".
    Future,
    /// The request was larger than etcd accepts; etcd's limit when it said.
    TooLarge(Option<usize>),
    /// Anything else, already mapped.
    Other(StoreError),
}

impl EtcdStore {
    /// Connects to the etcd cluster at `endpoints` (`http://host:port`) and checks that it
    /// answers.
    ///
    /// # Errors
    /// [`StoreError::Unavailable`] when no endpoint answers within
    /// [`EtcdConfig::connect_timeout`] plus [`EtcdConfig::request_timeout`], or the credentials
    /// are refused.
    pub async fn connect<E: AsRef<str>>(endpoints: &[E], config: EtcdConfig) -> Result<Self> {
        let mut options = ec::ConnectOptions::new().with_connect_timeout(config.connect_timeout);
        if let Some((interval, timeout)) = config.keep_alive {
            options = options.with_keep_alive(interval, timeout);
        }
        if let Some((name, password)) = &config.user {
            options = options.with_user(name.clone(), password.clone());
        }
        let client = tokio::time::timeout(
            config.connect_timeout + config.request_timeout,
            ec::Client::connect(endpoints, Some(options)),
        )
        .await
        .map_err(|e| StoreError::unavailable("timed out connecting to etcd", e))?
        .map_err(|e| StoreError::unavailable("cannot connect to etcd", e))?;
        Self::from_client(client, config).await
    }

    /// A store on an already connected client; checks that etcd answers.
    ///
    /// # Errors
    /// [`StoreError::Unavailable`] when etcd does not answer a status request.
    pub async fn from_client(client: ec::Client, config: EtcdConfig) -> Result<Self> {
        let mut maintenance = client.maintenance_client();
        let status = tokio::time::timeout(config.request_timeout, maintenance.status())
            .await
            .map_err(|e| StoreError::unavailable("timed out asking etcd for its status", e))?
            .map_err(|e| StoreError::unavailable("etcd does not answer", e))?;
        let server_version = status.version().to_owned();
        if progress_may_overtake_events(&server_version) {
            tracing::warn!(
                version = %server_version,
                "etcd before 3.4.25/3.5.8 may deliver a requested progress notification ahead of \
                 events of the same revision (etcd issue 15220); upgrade etcd"
            );
        }
        let kv = client
            .kv_client()
            .max_decoding_message_size(config.max_response_bytes);
        let watch = client
            .watch_client()
            .max_decoding_message_size(config.max_response_bytes);
        let prefix = config.prefix.as_bytes().to_vec();
        Ok(EtcdStore {
            inner: Arc::new(Inner {
                client,
                kv,
                watch,
                config,
                prefix,
                compacted: Arc::new(AtomicI64::new(0)),
                server_version,
            }),
        })
    }

    /// The underlying client, for what the [`Backend`] trait does not cover (leases,
    /// maintenance).
    pub fn client(&self) -> &ec::Client {
        &self.inner.client
    }

    /// The settings.
    pub fn config(&self) -> &EtcdConfig {
        &self.inner.config
    }

    /// The version etcd reported when the store connected (for example `3.5.17`).
    pub fn server_version(&self) -> &str {
        &self.inner.server_version
    }

    /// The etcd key of `key`.
    fn full_key(&self, key: &str) -> Vec<u8> {
        let mut full = Vec::with_capacity(self.inner.prefix.len() + key.len());
        full.extend_from_slice(&self.inner.prefix);
        full.extend_from_slice(key.as_bytes());
        full
    }

    /// The etcd range `[start, end)` of the keys under `prefix`.
    fn prefix_range(&self, prefix: &str) -> (Vec<u8>, Vec<u8>) {
        let start = self.full_key(prefix);
        let end = range_end(&start);
        // etcd refuses an empty key; "\0" is the smallest key there is.
        let start = if start.is_empty() { vec![0] } else { start };
        (start, end)
    }

    /// A key that holds nothing of ours, for count-only probes and the compaction probe.
    fn probe_key(&self) -> Vec<u8> {
        let mut key = self.inner.prefix.clone();
        key.extend_from_slice(b"\0kubernaut-probe");
        key
    }

    /// Converts a key-value read from etcd.
    fn convert_kv(&self, kv: ec::KeyValue) -> Result<KeyValue> {
        let (create_revision, mod_revision, version, lease) = (
            kv.create_revision(),
            kv.mod_revision(),
            kv.version(),
            kv.lease(),
        );
        let (key, value) = kv.into_key_value();
        let key = strip_key(&self.inner.prefix, &key)?;
        Ok(KeyValue {
            key,
            value: Bytes::from(value),
            create_revision,
            mod_revision,
            version,
            lease,
        })
    }

    /// Runs one etcd call with the request timeout.
    async fn call<T>(
        &self,
        what: &'static str,
        fut: impl Future<Output = Result<T, ec::Error>>,
    ) -> Result<T, Failure> {
        match tokio::time::timeout(self.inner.config.request_timeout, fut).await {
            Ok(Ok(v)) => Ok(v),
            Ok(Err(e)) => Err(classify(what, e)),
            Err(elapsed) => Err(Failure::Other(StoreError::unavailable(
                format!(
                    "etcd {what} timed out after {:?}",
                    self.inner.config.request_timeout
                ),
                elapsed,
            ))),
        }
    }

    /// One `Range` request.
    async fn range(
        &self,
        key: Vec<u8>,
        options: ec::GetOptions,
    ) -> Result<ec::GetResponse, Failure> {
        let mut kv = self.inner.kv.clone();
        self.call("range", kv.get(key, Some(options))).await
    }

    /// The current revision, from a count-only read.
    async fn current_revision(&self) -> Result<Revision> {
        let resp = self
            .range(self.probe_key(), ec::GetOptions::new().with_count_only())
            .await
            .map_err(|f| self.plain(f))?;
        header_revision(resp.header())
    }

    /// Records a compaction point seen; returns the highest known.
    fn note_compacted(&self, revision: Revision) -> Revision {
        let before = self.inner.compacted.fetch_max(revision, Ordering::AcqRel);
        before.max(revision)
    }

    /// The compaction point: the known one, checked with a read at it (see the module docs).
    async fn compaction_point(&self) -> Result<Revision> {
        let known = self.inner.compacted.load(Ordering::Acquire);
        let at = known.max(1);
        let options = ec::GetOptions::new().with_count_only().with_revision(at);
        match self.range(self.probe_key(), options).await {
            Ok(_) | Err(Failure::Future) => Ok(known),
            Err(Failure::Compacted) => Ok(self.compaction_above(at).await),
            Err(f) => Err(self.plain(f)),
        }
    }

    /// The compaction point, known to be above `below` (etcd refused a read at `below`).
    async fn compaction_above(&self, below: Revision) -> Revision {
        match self.probe_compaction(below).await {
            Some(revision) => self.note_compacted(revision),
            None => self.note_compacted(below + 1),
        }
    }

    /// Asks etcd for its compaction point: a watch from `below` (compacted) is cancelled at
    /// once with the compaction point.
    async fn probe_compaction(&self, below: Revision) -> Option<Revision> {
        let mut client = self.inner.watch.clone();
        let key = self.probe_key();
        let probe = async move {
            let options = ec::WatchOptions::new().with_start_revision(below);
            let mut stream = client.watch(key, Some(options)).await.ok()?;
            while let Some(resp) = stream.message().await.ok()? {
                if resp.compact_revision() != 0 {
                    return Some(resp.compact_revision());
                }
                if resp.canceled() || !resp.events().is_empty() {
                    return None;
                }
            }
            None
        };
        let found = tokio::time::timeout(self.inner.config.request_timeout, probe).await;
        let found = found.ok().flatten();
        tracing::debug!(below, ?found, "probed etcd's compaction point");
        found
    }

    /// The error of a read at `requested` (`None`: latest).
    async fn read_error(&self, failure: Failure, requested: Option<Revision>) -> StoreError {
        match (failure, requested) {
            (Failure::Compacted, Some(requested)) => StoreError::Compacted {
                requested,
                compacted_revision: self.compaction_above(requested).await,
            },
            (Failure::Future, Some(requested)) => match self.current_revision().await {
                Ok(current) => StoreError::FutureRevision { requested, current },
                Err(e) => e,
            },
            (f, _) => self.plain(f),
        }
    }

    /// A failure without the context to complete a revision error.
    fn plain(&self, failure: Failure) -> StoreError {
        match failure {
            Failure::Other(e) => e,
            Failure::Compacted => StoreError::Unavailable {
                reason: "etcd answered a read at the latest revision with \"compacted\"".into(),
                source: None,
            },
            Failure::Future => StoreError::Unavailable {
                reason: "etcd answered a read at the latest revision with \"future revision\""
                    .into(),
                source: None,
            },
            Failure::TooLarge(limit) => StoreError::TooLarge {
                size: 0,
                limit: limit.unwrap_or(self.inner.config.max_request_bytes),
            },
        }
    }

    /// One page of a list: `Range([start, end), limit, revision)`.
    async fn list_page(
        &self,
        start: Vec<u8>,
        end: &[u8],
        limit: usize,
        revision: Option<Revision>,
    ) -> Result<ec::GetResponse, Failure> {
        let mut options = ec::GetOptions::new()
            .with_range(end.to_vec())
            .with_limit(saturating_i64(limit));
        if let Some(r) = revision {
            options = options.with_revision(r);
        }
        self.range(start, options).await
    }

    /// Converts a `Range` response's key-values.
    fn convert_kvs(&self, resp: &mut ec::GetResponse) -> Result<Vec<KeyValue>> {
        resp.take_kvs()
            .into_iter()
            .map(|kv| self.convert_kv(kv))
            .collect()
    }

    /// The key-value of a single-key result, prefix stripped.
    fn first_kv(&self, kvs: Vec<ec::KeyValue>) -> Result<Option<KeyValue>> {
        kvs.into_iter()
            .next()
            .map(|kv| self.convert_kv(kv))
            .transpose()
    }

    /// Checks a transaction before it is sent: empty keys, a key written twice in one branch,
    /// the size limit. Returns its size.
    fn check_txn(&self, txn: &Txn) -> Result<usize> {
        let prefix = self.inner.prefix.len();
        let mut size = 0usize;
        for ops in [&txn.success, &txn.failure] {
            let mut written: Vec<&str> = Vec::new();
            for op in ops {
                let (key, len, write) = match op {
                    TxnOp::Put { key, value, .. } => (key, key.len() + value.len(), true),
                    TxnOp::Delete { key } => (key, key.len(), true),
                    TxnOp::Get { key } => (key, key.len(), false),
                };
                if key.is_empty() {
                    return Err(StoreError::InvalidArgument("empty key".into()));
                }
                if write {
                    if written.contains(&key.as_str()) {
                        return Err(StoreError::InvalidArgument(format!(
                            "duplicate key {key:?} given in txn request"
                        )));
                    }
                    written.push(key);
                }
                size += prefix + len;
            }
        }
        for c in &txn.compares {
            size += prefix + c.key.len();
            if let CompareTarget::Value(v) = &c.target {
                size += v.len();
            }
        }
        let limit = self.inner.config.max_request_bytes;
        if size > limit {
            return Err(StoreError::TooLarge { size, limit });
        }
        Ok(size)
    }

    /// The etcd form of a transaction.
    fn etcd_txn(&self, txn: &Txn) -> ec::Txn {
        let compares: Vec<ec::Compare> = txn
            .compares
            .iter()
            .map(|c| {
                let key = self.full_key(&c.key);
                let op = match c.op {
                    CompareOp::Equal => ec::CompareOp::Equal,
                    CompareOp::NotEqual => ec::CompareOp::NotEqual,
                    CompareOp::Greater => ec::CompareOp::Greater,
                    CompareOp::Less => ec::CompareOp::Less,
                };
                match &c.target {
                    CompareTarget::ModRevision(r) => ec::Compare::mod_revision(key, op, *r),
                    CompareTarget::CreateRevision(r) => ec::Compare::create_revision(key, op, *r),
                    CompareTarget::Version(v) => ec::Compare::version(key, op, *v),
                    CompareTarget::Value(v) => ec::Compare::value(key, op, v.to_vec()),
                }
            })
            .collect();
        let ops = |ops: &[TxnOp]| -> Vec<ec::TxnOp> {
            ops.iter()
                .map(|op| match op {
                    TxnOp::Put { key, value, lease } => {
                        let mut options = ec::PutOptions::new().with_prev_key();
                        if *lease != 0 {
                            options = options.with_lease(*lease);
                        }
                        ec::TxnOp::put(self.full_key(key), value.to_vec(), Some(options))
                    }
                    TxnOp::Delete { key } => ec::TxnOp::delete(
                        self.full_key(key),
                        Some(ec::DeleteOptions::new().with_prev_key()),
                    ),
                    TxnOp::Get { key } => ec::TxnOp::get(self.full_key(key), None),
                })
                .collect()
        };
        ec::Txn::new()
            .when(compares)
            .and_then(ops(&txn.success))
            .or_else(ops(&txn.failure))
    }

    /// Checks a watch's start revision against the compaction point and the current
    /// revision, as the embedded store does.
    async fn check_watch_start(&self, start: Revision) -> Result<()> {
        if start == 1 {
            let compacted = self.compaction_point().await?;
            if compacted >= 1 {
                return Err(StoreError::Compacted {
                    requested: start,
                    compacted_revision: compacted,
                });
            }
            return Ok(());
        }
        // A read at `start - 1` fails exactly when `start` is at or below etcd's compaction
        // point, or more than one past the current revision.
        let options = ec::GetOptions::new()
            .with_count_only()
            .with_revision(start - 1);
        match self.range(self.probe_key(), options).await {
            Ok(_) => Ok(()),
            Err(Failure::Compacted) => Err(StoreError::Compacted {
                requested: start,
                compacted_revision: self.compaction_above(start - 1).await,
            }),
            Err(Failure::Future) => Err(StoreError::FutureRevision {
                requested: start,
                current: self.current_revision().await?,
            }),
            Err(f) => Err(self.plain(f)),
        }
    }
}

#[async_trait]
impl Backend for EtcdStore {
    async fn get(&self, key: &str, at: ReadAt) -> Result<GetResponse> {
        let requested = read_revision(at);
        let mut options = ec::GetOptions::new();
        if let Some(r) = requested {
            options = options.with_revision(r);
        }
        let mut resp = match self.range(self.full_key(key), options).await {
            Ok(resp) => resp,
            Err(f) => return Err(self.read_error(f, requested).await),
        };
        let revision = match requested {
            Some(r) => r,
            None => header_revision(resp.header())?,
        };
        let kv = self.first_kv(resp.take_kvs())?;
        Ok(GetResponse { kv, revision })
    }

    async fn list(&self, prefix: &str, options: ListOptions) -> Result<ListResponse> {
        let requested = read_revision(options.at);
        let (mut start, end) = self.prefix_range(prefix);
        if let Some(after) = &options.start_after {
            let mut from = self.full_key(after);
            from.push(0);
            if from > start {
                start = from;
            }
        }
        let limit = options.limit.filter(|l| *l > 0);
        let page = limit.unwrap_or(self.inner.config.page_size.max(1));
        let mut resp = match self.list_page(start, &end, page, requested).await {
            Ok(resp) => resp,
            Err(f) => return Err(self.read_error(f, requested).await),
        };
        let revision = match requested {
            Some(r) => r,
            None => header_revision(resp.header())?,
        };
        let count = resp.count();
        let mut more = resp.more();
        let mut kvs = self.convert_kvs(&mut resp)?;
        // Without a limit: the following pages, at the first page's revision.
        while limit.is_none() && more {
            let Some(last) = kvs.last() else { break };
            let mut from = self.full_key(&last.key);
            from.push(0);
            let mut next = match self.list_page(from, &end, page, Some(revision)).await {
                Ok(resp) => resp,
                Err(f) => return Err(self.read_error(f, Some(revision)).await),
            };
            more = next.more();
            kvs.extend(self.convert_kvs(&mut next)?);
        }
        Ok(ListResponse {
            kvs,
            more,
            count,
            revision,
        })
    }

    async fn count(&self, prefix: &str) -> Result<(i64, Revision)> {
        let (start, end) = self.prefix_range(prefix);
        let options = ec::GetOptions::new().with_range(end).with_count_only();
        let resp = self
            .range(start, options)
            .await
            .map_err(|f| self.plain(f))?;
        Ok((resp.count(), header_revision(resp.header())?))
    }

    async fn txn(&self, txn: Txn) -> Result<TxnResponse> {
        let size = self.check_txn(&txn)?;
        let mut kv = self.inner.kv.clone();
        let resp = match self.call("txn", kv.txn(self.etcd_txn(&txn))).await {
            Ok(resp) => resp,
            Err(Failure::TooLarge(limit)) => {
                return Err(StoreError::TooLarge {
                    size,
                    limit: limit.unwrap_or(self.inner.config.max_request_bytes),
                });
            }
            Err(f) => return Err(self.plain(f)),
        };
        let revision = header_revision(resp.header())?;
        let succeeded = resp.succeeded();
        let ran = if succeeded {
            &txn.success
        } else {
            &txn.failure
        };
        let responses = resp.op_responses();
        if responses.len() != ran.len() {
            return Err(StoreError::Unavailable {
                reason: format!(
                    "etcd answered a transaction of {} operations with {} results",
                    ran.len(),
                    responses.len()
                ),
                source: None,
            });
        }
        let mut results = Vec::with_capacity(responses.len());
        for (op, response) in ran.iter().zip(responses) {
            let result = match (op, response) {
                (TxnOp::Put { .. }, ec::TxnOpResponse::Put(mut put)) => TxnOpResult::Put {
                    prev: put
                        .take_prev_key()
                        .map(|kv| self.convert_kv(kv))
                        .transpose()?,
                },
                (TxnOp::Delete { .. }, ec::TxnOpResponse::Delete(mut delete)) => {
                    TxnOpResult::Delete {
                        prev: self.first_kv(delete.take_prev_kvs())?,
                    }
                }
                (TxnOp::Get { .. }, ec::TxnOpResponse::Get(mut get)) => {
                    TxnOpResult::Get(self.first_kv(get.take_kvs())?)
                }
                (op, other) => {
                    return Err(StoreError::Unavailable {
                        reason: format!("etcd answered {op:?} with {other:?}"),
                        source: None,
                    });
                }
            };
            results.push(result);
        }
        Ok(TxnResponse {
            succeeded,
            revision,
            results,
        })
    }

    async fn watch(&self, prefix: &str, options: WatchOptions) -> Result<Watch> {
        let start = options.start_revision.max(0);
        if start > 0 {
            self.check_watch_start(start).await?;
        }
        let (key, end) = self.prefix_range(prefix);
        let mut etcd_options = ec::WatchOptions::new().with_range(end).with_prev_key();
        if start > 0 {
            etcd_options = etcd_options.with_start_revision(start);
        }
        if options.progress_interval.is_some() {
            etcd_options = etcd_options.with_progress_notify();
        }
        let mut client = self.inner.watch.clone();
        // Wait for etcd to confirm the watch: a write after `watch` returns must be seen.
        let created = async move {
            let mut stream = client.watch(key, Some(etcd_options)).await?;
            let first = stream.message().await?;
            Ok::<_, ec::Error>((stream, first))
        };
        let (stream, first) = self
            .call("watch", created)
            .await
            .map_err(|f| self.plain(f))?;
        let Some(first) = first else {
            return Err(StoreError::Unavailable {
                reason: "etcd closed the watch stream before confirming the watch".into(),
                source: None,
            });
        };
        if first.compact_revision() != 0 {
            let compacted = self.note_compacted(first.compact_revision());
            return Err(StoreError::Compacted {
                requested: start,
                compacted_revision: compacted,
            });
        }
        if first.canceled() || !first.created() {
            return Err(StoreError::Unavailable {
                reason: format!("etcd refused the watch: {:?}", first.cancel_reason()),
                source: None,
            });
        }
        let next = if start > 0 {
            start
        } else {
            header_revision(first.header())? + 1
        };

        let (sender, responses) = stream.split();
        let pending = Arc::new(AtomicBool::new(false));
        let (wake_tx, wake_rx) = mpsc::channel(1);
        let task = tokio::spawn(progress_loop(
            sender,
            wake_rx,
            Arc::clone(&pending),
            options.progress_interval,
        ));
        let state = WatchState {
            responses,
            prefix: self.inner.prefix.clone(),
            pending: Arc::clone(&pending),
            compacted: Arc::clone(&self.inner.compacted),
            next,
            done: false,
            _task: AbortOnDrop(task),
        };
        let progress = Arc::new(EtcdProgress {
            pending,
            wake: wake_tx,
        });
        Ok(Watch::new(Box::pin(watch_stream(state)), progress))
    }

    async fn compact(&self, revision: Revision) -> Result<()> {
        if revision <= 0 {
            return Err(StoreError::InvalidArgument(format!(
                "cannot compact at revision {revision}"
            )));
        }
        let mut kv = self.inner.kv.clone();
        let options = ec::CompactionOptions::new().with_physical();
        match self
            .call("compact", kv.compact(revision, Some(options)))
            .await
        {
            Ok(_) => {
                self.note_compacted(revision);
                Ok(())
            }
            Err(Failure::Compacted) => Err(StoreError::Compacted {
                requested: revision,
                compacted_revision: self.compaction_point().await?,
            }),
            Err(Failure::Future) => Err(StoreError::FutureRevision {
                requested: revision,
                current: self.current_revision().await?,
            }),
            Err(f) => Err(self.plain(f)),
        }
    }

    async fn revisions(&self) -> Result<(Revision, Revision)> {
        let compacted = self.compaction_point().await?;
        let current = self.current_revision().await?;
        Ok((current, compacted))
    }
}

/// The revision to send for a read (`None`: latest). Like etcd, 0 and below mean latest.
fn read_revision(at: ReadAt) -> Option<Revision> {
    match at {
        ReadAt::Revision(r) if r > 0 => Some(r),
        _ => None,
    }
}

/// The end of the etcd range of the keys starting with `key`: `key` with its last byte below
/// 0xff incremented; `"\0"` (every key from the start) when there is none.
fn range_end(key: &[u8]) -> Vec<u8> {
    match key.iter().rposition(|b| *b < 0xff) {
        Some(i) => {
            let mut end = key[..=i].to_vec();
            end[i] += 1;
            end
        }
        None => vec![0],
    }
}

fn saturating_i64(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// The revision of a response header (etcd always sends one).
fn header_revision(header: Option<&ec::ResponseHeader>) -> Result<Revision> {
    header
        .map(ec::ResponseHeader::revision)
        .ok_or_else(|| StoreError::Unavailable {
            reason: "etcd sent a response without a header".into(),
            source: None,
        })
}

/// The store key of an etcd key: the prefix stripped, UTF-8 checked.
fn strip_key(prefix: &[u8], key: &[u8]) -> Result<Arc<str>> {
    let Some(rest) = key.strip_prefix(prefix) else {
        return Err(StoreError::Unavailable {
            reason: format!(
                "etcd returned key {:?} outside the prefix",
                String::from_utf8_lossy(key)
            ),
            source: None,
        });
    };
    match std::str::from_utf8(rest) {
        Ok(key) => Ok(Arc::from(key)),
        Err(e) => Err(StoreError::unavailable(
            format!(
                "etcd holds key {:?}, which is not UTF-8",
                String::from_utf8_lossy(key)
            ),
            e,
        )),
    }
}

/// Maps a client error (see the module docs).
fn classify(what: &'static str, err: ec::Error) -> Failure {
    if let ec::Error::GRpcStatus(status) = &err {
        let message = status.message();
        if message.contains("required revision has been compacted") {
            return Failure::Compacted;
        }
        if message.contains("required revision is a future revision") {
            return Failure::Future;
        }
        if message.contains("request is too large")
            || (i32::from(status.code()) == GRPC_RESOURCE_EXHAUSTED
                && message.contains("larger than max"))
        {
            return Failure::TooLarge(grpc_limit(message));
        }
        if i32::from(status.code()) == GRPC_INVALID_ARGUMENT {
            return Failure::Other(StoreError::InvalidArgument(message.to_owned()));
        }
    }
    Failure::Other(StoreError::unavailable(format!("etcd {what} failed"), err))
}

/// The limit in gRPC's "received message larger than max (SIZE vs. LIMIT)".
fn grpc_limit(message: &str) -> Option<usize> {
    let (_, rest) = message.split_once(" vs. ")?;
    rest.split(')').next()?.trim().parse().ok()
}

/// gRPC status code `INVALID_ARGUMENT`.
const GRPC_INVALID_ARGUMENT: i32 = 3;
/// gRPC status code `RESOURCE_EXHAUSTED`.
const GRPC_RESOURCE_EXHAUSTED: i32 = 8;

/// Whether etcd `version` has the progress-notification ordering bug (etcd issue 15220).
fn progress_may_overtake_events(version: &str) -> bool {
    let mut parts = version
        .split(['.', '-', '+'])
        .map(|p| p.parse::<u32>().ok());
    match (
        parts.next().flatten(),
        parts.next().flatten(),
        parts.next().flatten(),
    ) {
        (Some(3), Some(4), Some(patch)) => patch < 25,
        (Some(3), Some(5), Some(patch)) => patch < 8,
        (Some(3), Some(minor), _) => minor < 4,
        (Some(major), _, _) => major < 3,
        _ => false,
    }
}

/// Asks for a progress notification (see the module docs).
struct EtcdProgress {
    pending: Arc<AtomicBool>,
    wake: mpsc::Sender<()>,
}

impl ProgressRequester for EtcdProgress {
    fn request_progress(&self) {
        self.pending.store(true, Ordering::Release);
        // Full: a wake-up is already queued; closed: the watch is over.
        let _ = self.wake.try_send(());
    }
}

/// Aborts the task when dropped.
struct AbortOnDrop(JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Sends etcd progress requests: when asked, again until one is answered, and on the
/// `interval` timer. Ends when the watch is dropped or the stream is gone.
async fn progress_loop(
    mut sender: ec::WatchRequestSender,
    mut wake: mpsc::Receiver<()>,
    pending: Arc<AtomicBool>,
    interval: Option<Duration>,
) {
    let mut ticker = interval.map(|every| {
        let mut t = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
        t.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        t
    });
    loop {
        let retry = pending.load(Ordering::Acquire);
        tokio::select! {
            woken = wake.recv() => {
                if woken.is_none() {
                    break;
                }
            }
            () = tick(&mut ticker) => pending.store(true, Ordering::Release),
            () = tokio::time::sleep(PROGRESS_RETRY), if retry => {}
        }
        if pending.load(Ordering::Acquire) && sender.request_progress().await.is_err() {
            break;
        }
    }
}

async fn tick(ticker: &mut Option<tokio::time::Interval>) {
    match ticker {
        Some(t) => {
            t.tick().await;
        }
        None => std::future::pending().await,
    }
}

/// The receiving side of a watch.
struct WatchState {
    responses: ec::WatchResponseStream,
    prefix: Vec<u8>,
    pending: Arc<AtomicBool>,
    compacted: Arc<AtomicI64>,
    /// The next revision to deliver: every event below it has been delivered.
    next: Revision,
    done: bool,
    _task: AbortOnDrop,
}

impl WatchState {
    /// The next message for the caller, `None` for "read on".
    fn convert(&mut self, resp: ec::WatchResponse) -> Option<Result<WatchResponse>> {
        if resp.compact_revision() != 0 {
            self.done = true;
            let compacted = resp.compact_revision();
            self.compacted.fetch_max(compacted, Ordering::AcqRel);
            return Some(Err(StoreError::Compacted {
                requested: self.next,
                compacted_revision: compacted,
            }));
        }
        if resp.canceled() {
            self.done = true;
            return Some(Err(StoreError::Unavailable {
                reason: format!("etcd cancelled the watch: {:?}", resp.cancel_reason()),
                source: None,
            }));
        }
        if resp.events().is_empty() {
            if resp.created() {
                return None;
            }
            let revision = resp.header().map_or(0, ec::ResponseHeader::revision);
            self.pending.store(false, Ordering::Release);
            // Never report progress below what has been delivered.
            if revision < self.next - 1 {
                return None;
            }
            return Some(Ok(WatchResponse::Progress(revision)));
        }
        let mut events = Vec::with_capacity(resp.events().len());
        for ev in resp.events() {
            match self.convert_event(ev) {
                Ok(event) => events.push(event),
                Err(e) => {
                    self.done = true;
                    return Some(Err(e));
                }
            }
        }
        if let Some(last) = events.last() {
            self.next = self.next.max(last.kv.mod_revision + 1);
        }
        Some(Ok(WatchResponse::Events(events)))
    }

    fn convert_event(&self, ev: &ec::Event) -> Result<Event> {
        let kind = match ev.event_type() {
            ec::EventType::Put => EventKind::Put,
            ec::EventType::Delete => EventKind::Delete,
        };
        let Some(kv) = ev.kv() else {
            return Err(StoreError::Unavailable {
                reason: "etcd sent a watch event without a key-value".into(),
                source: None,
            });
        };
        let kv = self.convert_kv(kv)?;
        let prev = ev.prev_kv().map(|p| self.convert_kv(p)).transpose()?;
        Ok(Event { kind, kv, prev })
    }

    fn convert_kv(&self, kv: &ec::KeyValue) -> Result<KeyValue> {
        Ok(KeyValue {
            key: strip_key(&self.prefix, kv.key())?,
            value: Bytes::copy_from_slice(kv.value()),
            create_revision: kv.create_revision(),
            mod_revision: kv.mod_revision(),
            version: kv.version(),
            lease: kv.lease(),
        })
    }
}

/// The stream of a watch: one message per etcd watch response (a revision is never split).
fn watch_stream(state: WatchState) -> impl Stream<Item = Result<WatchResponse>> + Send {
    futures::stream::unfold(state, |mut st| async move {
        loop {
            if st.done {
                return None;
            }
            match st.responses.next().await {
                None => {
                    st.done = true;
                    let e = StoreError::Unavailable {
                        reason: "etcd closed the watch stream".into(),
                        source: None,
                    };
                    return Some((Err(e), st));
                }
                Some(Err(e)) => {
                    st.done = true;
                    return Some((
                        Err(StoreError::unavailable("etcd watch stream failed", e)),
                        st,
                    ));
                }
                Some(Ok(resp)) => {
                    if let Some(item) = st.convert(resp) {
                        return Some((item, st));
                    }
                }
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn range_end_increments_the_last_byte_below_0xff() {
        assert_eq!(range_end(b"/a/"), b"/a0");
        assert_eq!(range_end(b"a\xff\xff"), b"b");
        assert_eq!(range_end(b"\xff"), b"\0");
        assert_eq!(range_end(b""), b"\0");
    }

    #[test]
    fn keys_are_stripped_of_the_prefix() {
        assert_eq!(&*strip_key(b"/p", b"/p/a").expect("under the prefix"), "/a");
        assert!(strip_key(b"/p", b"/q/a").is_err());
        assert!(strip_key(b"", b"\xff").is_err(), "not UTF-8");
    }

    #[test]
    fn grpc_limits_are_parsed() {
        let message = "grpc: received message larger than max (5242929 vs. 2097152)";
        assert_eq!(grpc_limit(message), Some(2_097_152));
        assert_eq!(grpc_limit("etcdserver: request is too large"), None);
    }

    #[test]
    fn versions_with_the_progress_bug() {
        for v in ["3.4.23", "3.5.7", "3.3.27", "2.3.8"] {
            assert!(progress_may_overtake_events(v), "{v}");
        }
        for v in [
            "3.4.25",
            "3.5.8",
            "3.5.17",
            "3.6.0",
            "3.6.0-rc.1",
            "4.0.0",
            "garbage",
        ] {
            assert!(!progress_may_overtake_events(v), "{v}");
        }
    }
}
