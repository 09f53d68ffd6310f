//! Our informer against kube-rs's `watcher` + `reflector`, syncing the same Pods from the same
//! API server over real HTTPS on this machine.
//!
//! The API server runs in a child process of this program (the `examples` assembly: durable
//! embedded store, TLS, token) and is filled with small Pods in a few namespaces (100,000;
//! 20,000 with `--quick`) by concurrent creates over HTTP/2. Each informer then runs in a fresh
//! child process of its own, so that its peak resident memory (`VmHWM`) is its own: it starts
//! the watch, waits until its cache is synced, checks that the cache holds every Pod, and
//! reports the time to the synced cache, its peak and retained RSS and its CPU time (and the
//! parent the server's CPU time during the sync). Each variant runs 3 times (once with
//! `--quick`), interleaved, and the medians are compared:
//!
//! - ours: `SharedInformer` with the default `watcher::Config` (pages of 500, first list
//!   served from the watch cache with `resourceVersion=0`), caching Pods without
//!   `managedFields` (the default transform);
//! - ours, paged: the same with `any_version_first = false`, so that the first list is paged
//!   from the store like kube-rs's default `ListSemantic::MostRecent` (for the analysis only);
//! - kube-rs: `reflector(writer, watcher(api, watcher::Config::default()))` (pages of 500,
//!   most-recent lists), caching Pods as received, `managedFields` included;
//! - kube-rs, stripped: the same with `.modify()` dropping `managedFields`, which caches what
//!   ours caches: the fair memory comparison, and the one the ratios use;
//! - ours, streaming, and kube-rs, streaming (stripped): the initial state from one watch with
//!   `sendInitialEvents=true` (KEP-3157) instead of a list (analysis only);
//! - kube-rs, any: stripped, with `ListSemantic::Any` and no page size, which makes the same
//!   list request as ours (kube-rs leaves `resourceVersion=0` out of a list with a limit), to
//!   tell the list semantics from the clients (analysis only).
//!
//! Then the event throughput of one shared informer (ours, over all Pods) to 10 subscribers,
//! in another child: 32 writer tasks merge-patch Pods of one namespace at full speed, stamping
//! a sequence number in an annotation; the subscribers record when each change reaches them.
//! Reported: deltas delivered per second in total, and the latency from the write's
//! acknowledgement (and from its sending) to its delivery at a subscriber.
//!
//! The last line is `ours/kube-rs sync_time=<ratio> peak_rss=<ratio>` (below 1: ours is
//! better). The targets: sync time ≤ 0.5 (2× faster), peak RSS ≤ 0.5.
//!
//! To profile one side by hand, the roles run on their own: `--serve <dir>` (serves until
//! SIGTERM; the kubeconfig is `<dir>/kubeconfig`), `--fill <kubeconfig> <pods>`, then
//! `--sync <ours|ours-list|ours-paged|kube-rs|kube-rs-stripped|kube-rs-any|kube-rs-streaming> <kubeconfig> <pods>` under
//! `perf record -g` or `heaptrack`.

use std::io::BufRead as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures::StreamExt as _;
use kubernaut_api_types::core::v1::Pod;
use kubernaut_benches::{Latencies, peak_rss_bytes, rss_bytes};
use kubernaut_client::config::{Config, Kubeconfig, KubeconfigOptions};
use kubernaut_client::{Api, Client, Patch, PatchParams, PostParams};
use kubernaut_examples::local::{LocalApiServer, LocalOptions};
use kubernaut_informer::informer::{DEFAULT_BUFFER, SharedInformer};
use kubernaut_informer::store::Delta;
use kubernaut_informer::watcher;

type Error = Box<dyn std::error::Error + Send + Sync>;

const SERVE: &str = "--serve";
const SYNC: &str = "--sync";
const THROUGHPUT: &str = "--throughput";
const FILL: &str = "--fill";

/// Concurrent creates while filling the server.
const FILL_CLIENTS: usize = 32;
/// Namespaces the synced Pods are spread over.
const NAMESPACES: usize = 4;
/// Subscribers of the shared informer in the throughput run.
const SUBSCRIBERS: usize = 10;
/// Concurrent writers in the throughput run.
const WRITERS: usize = 32;
/// Pods the throughput writers update (in a namespace of their own).
const THROUGHPUT_PODS: u64 = 1_000;
const THROUGHPUT_NAMESPACE: &str = "throughput";
/// The annotation the writers stamp their sequence number in.
const SEQ_ANNOTATION: &str = "bench.kubernaut.io/seq";
/// How long a child may take before it is given up on.
const CHILD_TIMEOUT: Duration = Duration::from_secs(600);

fn main() -> Result<(), Error> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    match args.first().map(String::as_str) {
        Some(SERVE) => {
            let [_, dir] = args.as_slice() else {
                return Err(format!("usage: {SERVE} <data-dir>").into());
            };
            runtime.block_on(serve(dir))
        }
        Some(SYNC) => {
            let [_, variant, kubeconfig, expected] = args.as_slice() else {
                return Err(format!("usage: {SYNC} <variant> <kubeconfig> <pods>").into());
            };
            let variant = Variant::parse(variant)?;
            let expected: usize = expected.parse()?;
            runtime.block_on(async {
                tokio::time::timeout(CHILD_TIMEOUT, sync_child(variant, kubeconfig, expected))
                    .await
                    .map_err(|_| "the sync did not finish in time")?
            })
        }
        Some(FILL) => {
            let [_, kubeconfig, pods] = args.as_slice() else {
                return Err(format!("usage: {FILL} <kubeconfig> <pods>").into());
            };
            let pods: u64 = pods.parse()?;
            runtime.block_on(fill_server(kubeconfig, pods))
        }
        Some(THROUGHPUT) => {
            let [_, kubeconfig, expected, seconds] = args.as_slice() else {
                return Err(format!("usage: {THROUGHPUT} <kubeconfig> <pods> <seconds>").into());
            };
            let expected: usize = expected.parse()?;
            let seconds: u64 = seconds.parse()?;
            runtime.block_on(async {
                tokio::time::timeout(
                    CHILD_TIMEOUT,
                    throughput_child(kubeconfig, expected, Duration::from_secs(seconds)),
                )
                .await
                .map_err(|_| "the throughput run did not finish in time")?
            })
        }
        _ => {
            let quick = args.iter().any(|a| a == "--quick");
            runtime.block_on(run(quick))
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The API server child.

/// The child: serve until SIGTERM.
async fn serve(dir: &str) -> Result<(), Error> {
    let mut options = LocalOptions::new(dir);
    options.listen = "127.0.0.1:0".parse()?;
    let local = LocalApiServer::start(options).await?;
    println!("kubeconfig={}", local.kubeconfig.display());
    println!("ready");
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    term.recv().await;
    local.stop().await
}

struct Server {
    child: std::process::Child,
    kubeconfig: String,
    _dir: tempfile::TempDir,
}

impl Server {
    fn start() -> Result<Self, Error> {
        let dir = tempfile::Builder::new()
            .prefix("informer-vs-kube-rs")
            .tempdir()?;
        let mut child = std::process::Command::new(std::env::current_exe()?)
            .arg(SERVE)
            .arg(dir.path().join("data"))
            .stdout(std::process::Stdio::piped())
            .spawn()?;
        let stdout = child.stdout.take().ok_or("no stdout")?;
        let mut kubeconfig = None;
        for line in std::io::BufReader::new(stdout).lines() {
            let line = line?;
            if let Some(k) = line.strip_prefix("kubeconfig=") {
                kubeconfig = Some(k.to_owned());
            }
            if line == "ready" {
                break;
            }
        }
        Ok(Server {
            child,
            kubeconfig: kubeconfig.ok_or("the server did not start")?,
            _dir: dir,
        })
    }

    fn pid(&self) -> String {
        self.child.id().to_string()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        // SIGTERM through kill(1): the standard library only sends SIGKILL.
        let _ = std::process::Command::new("kill")
            .arg(self.child.id().to_string())
            .status();
        let _ = self.child.wait();
    }
}

/// CPU time (user + system) of process `pid` so far, from `/proc/<pid>/stat`, in seconds
/// (the kernel reports it in units of `USER_HZ`, 100 per second on Linux).
fn cpu_seconds(pid: &str) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name may hold spaces: the fields proper start after its closing `)`.
    let rest = &stat[stat.rfind(')')? + 1..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // Fields 14 (utime) and 15 (stime) of stat(5); `rest` starts at field 3.
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    Some((utime + stime) as f64 / 100.0)
}

// ---------------------------------------------------------------------------------------------
// Filling the server.

fn small_pod(namespace: &str, name: &str) -> Pod {
    serde_json::from_value(serde_json::json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": name, "namespace": namespace, "labels": {"app": "bench"}},
        "spec": {"containers": [{"name": "c", "image": "registry.k8s.io/pause:3.10"}]},
    }))
    .unwrap_or_default()
}

async fn create_namespace(client: &Client, name: &str) -> Result<(), Error> {
    let ns: kubernaut_api_types::core::v1::Namespace =
        serde_json::from_value(serde_json::json!({"metadata": {"name": name}}))?;
    Api::all(client.clone())
        .create(&PostParams::default(), &ns)
        .await?;
    Ok(())
}

/// Creates `count` Pods spread over `namespaces` from `clients` concurrent tasks.
async fn fill(
    client: &Client,
    namespaces: &[String],
    count: u64,
    clients: usize,
) -> Result<(), Error> {
    let next = Arc::new(AtomicU64::new(0));
    let namespaces: Arc<[String]> = namespaces.into();
    let mut tasks = Vec::new();
    for _ in 0..clients {
        let client = client.clone();
        let next = Arc::clone(&next);
        let namespaces = Arc::clone(&namespaces);
        tasks.push(tokio::spawn(async move {
            let apis: Vec<Api<Pod>> = namespaces
                .iter()
                .map(|ns| Api::namespaced(client.clone(), ns))
                .collect();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= count {
                    return Ok::<_, Error>(());
                }
                let which = (i % apis.len() as u64) as usize;
                let pod = small_pod(&namespaces[which], &format!("pod-{i:07}"));
                apis[which].create(&PostParams::default(), &pod).await?;
            }
        }));
    }
    for t in tasks {
        t.await??;
    }
    Ok(())
}

/// Fills a running server (`--fill`) as the parent does.
async fn fill_server(kubeconfig: &str, pods: u64) -> Result<(), Error> {
    let client = Client::try_from(Config::from_kubeconfig(
        &Kubeconfig::read_from(kubeconfig)?,
        &KubeconfigOptions::default(),
    )?)?;
    let namespaces: Vec<String> = (0..NAMESPACES).map(|i| format!("bench-{i}")).collect();
    for ns in &namespaces {
        create_namespace(&client, ns).await?;
    }
    fill(&client, &namespaces, pods, FILL_CLIENTS).await
}

// ---------------------------------------------------------------------------------------------
// The sync children.

/// What a sync child runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Variant {
    /// Our `SharedInformer`, default settings: a streaming list (`sendInitialEvents`,
    /// KEP-3157).
    Ours,
    /// Ours listing instead: the first list at `resourceVersion=0`, whole from the watch cache
    /// (client-go's default).
    OursList,
    /// Ours listing the most recent state in pages from the store (like kube-rs's default).
    OursPaged,
    /// kube-rs's watcher + reflector, default settings, objects cached as received.
    KubeRs,
    /// kube-rs with `managedFields` dropped before caching (what ours caches).
    KubeRsStripped,
    /// kube-rs stripped, listing with `ListSemantic::Any` and no page size: the same request as
    /// ours (`resourceVersion=0`, the whole list from the watch cache). kube-rs leaves
    /// `resourceVersion=0` out of a list with a limit, so `Any` alone still pages from the store.
    KubeRsAny,
    /// kube-rs stripped, with a streaming list (`sendInitialEvents`).
    KubeRsStreaming,
}

impl Variant {
    const ALL: [Variant; 7] = [
        Variant::Ours,
        Variant::OursList,
        Variant::OursPaged,
        Variant::KubeRs,
        Variant::KubeRsStripped,
        Variant::KubeRsAny,
        Variant::KubeRsStreaming,
    ];

    fn arg(self) -> &'static str {
        match self {
            Variant::Ours => "ours",
            Variant::OursList => "ours-list",
            Variant::OursPaged => "ours-paged",
            Variant::KubeRs => "kube-rs",
            Variant::KubeRsStripped => "kube-rs-stripped",
            Variant::KubeRsAny => "kube-rs-any",
            Variant::KubeRsStreaming => "kube-rs-streaming",
        }
    }

    fn parse(s: &str) -> Result<Self, Error> {
        Variant::ALL
            .into_iter()
            .find(|v| v.arg() == s)
            .ok_or_else(|| format!("unknown variant {s:?}").into())
    }

    fn describe(self) -> &'static str {
        match self {
            Variant::Ours => {
                "kubernaut SharedInformer, default config: a streaming list (one watch with \
                 sendInitialEvents=true), caches Pods without managedFields"
            }
            Variant::OursList => {
                "kubernaut SharedInformer, list_watch(): first list with resourceVersion=0 \
                 (served whole from the watch cache), caches Pods without managedFields"
            }
            Variant::OursPaged => {
                "kubernaut SharedInformer, list_watch() and any_version_first=false: \
                 most-recent list in pages of 500 from the store, caches Pods without \
                 managedFields"
            }
            Variant::KubeRs => {
                "kube-rs 0.99 watcher+reflector, default config: most-recent list in pages of \
                 500, caches k8s-openapi Pods as received (managedFields included)"
            }
            Variant::KubeRsStripped => {
                "kube-rs 0.99 watcher+reflector, default config, .modify() drops managedFields \
                 before caching (caches what ours caches)"
            }
            Variant::KubeRsAny => {
                "kube-rs 0.99 as kube-rs-stripped, with ListSemantic::Any and no page size: \
                                  the same list request as ours (resourceVersion=0, whole from the watch cache)"
            }
            Variant::KubeRsStreaming => {
                "kube-rs 0.99 as kube-rs-stripped, with streaming_lists(): one watch with \
                 sendInitialEvents=true"
            }
        }
    }
}

/// What a sync child measured.
#[derive(Clone, Copy, Debug, Default)]
struct SyncResult {
    seconds: f64,
    objects: usize,
    peak_rss: u64,
    rss_after: u64,
    rss_before: u64,
    cpu_seconds: f64,
}

impl SyncResult {
    fn line(&self) -> String {
        format!(
            "result seconds={} objects={} peak_rss={} rss_after={} rss_before={} cpu_seconds={}",
            self.seconds,
            self.objects,
            self.peak_rss,
            self.rss_after,
            self.rss_before,
            self.cpu_seconds
        )
    }

    fn parse(line: &str) -> Option<Self> {
        let rest = line.strip_prefix("result ")?;
        let mut r = SyncResult::default();
        for field in rest.split_whitespace() {
            let (k, v) = field.split_once('=')?;
            match k {
                "seconds" => r.seconds = v.parse().ok()?,
                "objects" => r.objects = v.parse().ok()?,
                "peak_rss" => r.peak_rss = v.parse().ok()?,
                "rss_after" => r.rss_after = v.parse().ok()?,
                "rss_before" => r.rss_before = v.parse().ok()?,
                "cpu_seconds" => r.cpu_seconds = v.parse().ok()?,
                _ => return None,
            }
        }
        Some(r)
    }
}

/// The child: build the client, sync the cache, report.
async fn sync_child(variant: Variant, kubeconfig: &str, expected: usize) -> Result<(), Error> {
    // What holds the cache stays alive until the figures are read.
    let (seconds, objects, rss_before, _cache): (f64, usize, u64, Box<dyn std::any::Any>) =
        match variant {
            Variant::Ours | Variant::OursList | Variant::OursPaged => {
                let client = Client::try_from(Config::from_kubeconfig(
                    &Kubeconfig::read_from(kubeconfig)?,
                    &KubeconfigOptions::default(),
                )?)?;
                let config = match variant {
                    Variant::OursList => watcher::Config::default().list_watch(),
                    Variant::OursPaged => watcher::Config {
                        any_version_first: false,
                        ..watcher::Config::default().list_watch()
                    },
                    _ => watcher::Config::default(),
                };
                let rss_before = rss_bytes("self").unwrap_or(0);
                let started = Instant::now();
                let informer = SharedInformer::<Pod>::new(Api::all(client), config, DEFAULT_BUFFER);
                let store = informer.store();
                store.wait_until_ready().await;
                let seconds = started.elapsed().as_secs_f64();
                (seconds, store.len(), rss_before, Box::new(informer))
            }
            Variant::KubeRs
            | Variant::KubeRsStripped
            | Variant::KubeRsAny
            | Variant::KubeRsStreaming => {
                use kube::runtime::{WatchStreamExt as _, reflector, watcher as kube_watcher};
                let config = kube::Config::from_custom_kubeconfig(
                    kube::config::Kubeconfig::read_from(kubeconfig)?,
                    &kube::config::KubeConfigOptions::default(),
                )
                .await?;
                let client = kube::Client::try_from(config)?;
                let api: kube::Api<k8s_openapi::api::core::v1::Pod> = kube::Api::all(client);
                let (reader, writer) = reflector::store();
                let rss_before = rss_bytes("self").unwrap_or(0);
                let started = Instant::now();
                let config = match variant {
                    // kube-rs drops `resourceVersion=0` from a list with a limit.
                    Variant::KubeRsAny => kube_watcher::Config {
                        page_size: None,
                        ..kube_watcher::Config::default().any_semantic()
                    },
                    Variant::KubeRsStreaming => kube_watcher::Config::default().streaming_lists(),
                    _ => kube_watcher::Config::default(),
                };
                let events = kube_watcher::watcher(api, config);
                let log_errors = |event: Result<_, kube_watcher::Error>| {
                    if let Err(e) = event {
                        eprintln!("kube-rs watcher error (retried): {e}");
                    }
                    std::future::ready(())
                };
                // The reflector is driven by a task of its own, as an application would.
                let task = if variant != Variant::KubeRs {
                    tokio::spawn(
                        reflector::reflector(
                            writer,
                            events.modify(|pod| pod.metadata.managed_fields = None),
                        )
                        .for_each(log_errors),
                    )
                } else {
                    tokio::spawn(reflector::reflector(writer, events).for_each(log_errors))
                };
                reader.wait_until_ready().await?;
                let seconds = started.elapsed().as_secs_f64();
                let objects = reader.len();
                // Ended before the runtime shuts down: once the client's workers are gone, the
                // watcher would retry (without backoff) until the runtime stops.
                task.abort();
                let _ = task.await;
                (seconds, objects, rss_before, Box::new(reader))
            }
        };
    if objects != expected {
        return Err(format!("the cache holds {objects} pods, expected {expected}").into());
    }
    let result = SyncResult {
        seconds,
        objects,
        peak_rss: peak_rss_bytes("self").unwrap_or(0),
        rss_after: rss_bytes("self").unwrap_or(0),
        rss_before,
        cpu_seconds: cpu_seconds("self").unwrap_or(0.0),
    };
    println!("{}", result.line());
    // Freeing the cache (a good part of a second at 100k pods) is no part of the measurement:
    // leave without it.
    use std::io::Write as _;
    std::io::stdout().flush()?;
    std::process::exit(0)
}

/// Runs this program with `args` in a child process and returns what it printed; its
/// standard error goes to ours.
fn run_child(args: &[String]) -> Result<String, Error> {
    let output = std::process::Command::new(std::env::current_exe()?)
        .args(args)
        .stderr(std::process::Stdio::inherit())
        .output()?;
    if !output.status.success() {
        return Err(format!("child {args:?} failed: {}", output.status).into());
    }
    Ok(String::from_utf8(output.stdout)?)
}

// ---------------------------------------------------------------------------------------------
// The throughput child.

/// The child: one shared informer over all Pods, 10 subscribers, 32 writers for `duration`.
async fn throughput_child(
    kubeconfig: &str,
    expected: usize,
    duration: Duration,
) -> Result<(), Error> {
    let client = Client::try_from(Config::from_kubeconfig(
        &Kubeconfig::read_from(kubeconfig)?,
        &KubeconfigOptions::default(),
    )?)?;
    let informer = Arc::new(SharedInformer::<Pod>::new(
        Api::all(client.clone()),
        watcher::Config::default(),
        DEFAULT_BUFFER,
    ));
    let store = informer.store();
    store.wait_until_ready().await;
    if store.len() != expected {
        return Err(format!("the cache holds {} pods, expected {expected}", store.len()).into());
    }
    let rss_synced = rss_bytes("self").unwrap_or(0);

    // Subscribers: each first gets the cache replayed, then every change.
    let replayed = Arc::new(AtomicU64::new(0));
    let received = Arc::new(AtomicU64::new(0));
    let replay_started = Instant::now();
    let mut subscribers = Vec::new();
    for _ in 0..SUBSCRIBERS {
        let mut subscription = informer.subscribe();
        let replayed = Arc::clone(&replayed);
        let received = Arc::clone(&received);
        let deliveries: Arc<Mutex<Vec<(u64, Instant)>>> = Arc::default();
        let sink = Arc::clone(&deliveries);
        let task = tokio::spawn(async move {
            while let Some(delta) = subscription.next().await {
                match delta {
                    Delta::Replayed(_) => {
                        replayed.fetch_add(1, Ordering::Relaxed);
                    }
                    Delta::Updated { new, .. } => {
                        let at = Instant::now();
                        let seq = new
                            .metadata
                            .annotations
                            .as_ref()
                            .and_then(|a| a.get(SEQ_ANNOTATION))
                            .and_then(|s| s.parse::<u64>().ok());
                        if let Some(seq) = seq {
                            if let Ok(mut sink) = sink.lock() {
                                sink.push((seq, at));
                            }
                            received.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                    Delta::Added(_) | Delta::Deleted(_) => {}
                }
            }
        });
        subscribers.push((task, deliveries));
    }
    let want_replays = (expected * SUBSCRIBERS) as u64;
    while replayed.load(Ordering::Relaxed) < want_replays {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    println!(
        "  {SUBSCRIBERS} subscribers joined; replaying the cache of {expected} pods to each took \
         {:.2} s in all",
        replay_started.elapsed().as_secs_f64()
    );
    let rss_subscribed = rss_bytes("self").unwrap_or(0);

    // Writers: merge-patch the pods of one namespace at full speed, stamping a sequence number.
    let api: Api<Pod> = Api::namespaced(client.clone(), THROUGHPUT_NAMESPACE);
    let next = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let deadline = started + duration;
    let mut writers = Vec::new();
    for _ in 0..WRITERS {
        let api = api.clone();
        let next = Arc::clone(&next);
        writers.push(tokio::spawn(async move {
            let mut acks = Vec::new();
            while Instant::now() < deadline {
                let seq = next.fetch_add(1, Ordering::Relaxed);
                let name = format!("pod-{:07}", seq % THROUGHPUT_PODS);
                let patch = Patch::Merge(serde_json::json!({
                    "metadata": {"annotations": {SEQ_ANNOTATION: seq.to_string()}}
                }));
                let sent = Instant::now();
                api.patch(&name, &PatchParams::default(), &patch).await?;
                acks.push((seq, sent, Instant::now()));
            }
            Ok::<_, Error>(acks)
        }));
    }
    // Per sequence number: when the write was sent and when it was acknowledged.
    let mut acked: Vec<Option<(Instant, Instant)>> = Vec::new();
    for w in writers {
        for (seq, sent, at) in w.await?? {
            let i = seq as usize;
            if acked.len() <= i {
                acked.resize(i + 1, None);
            }
            acked[i] = Some((sent, at));
        }
    }
    let writes = acked.iter().filter(|a| a.is_some()).count() as u64;
    let write_seconds = started.elapsed().as_secs_f64();

    // Wait for every write to reach every subscriber (or give up after 30 s).
    let want = writes * SUBSCRIBERS as u64;
    let grace = Instant::now() + Duration::from_secs(30);
    while received.load(Ordering::Relaxed) < want && Instant::now() < grace {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let resyncs = informer.stats().resyncs.load(Ordering::Relaxed);

    let mut samples = Vec::new();
    let mut from_sent = Vec::new();
    let mut early = 0u64;
    let mut last_delivery = started;
    for (task, deliveries) in &subscribers {
        task.abort();
        let deliveries = deliveries.lock().map_err(|_| "a subscriber panicked")?;
        for &(seq, at) in deliveries.iter() {
            last_delivery = last_delivery.max(at);
            let Some(Some((sent, ack))) = acked.get(seq as usize) else {
                continue;
            };
            // A change may reach a subscriber before the writer has read the response.
            if at < *ack {
                early += 1;
            }
            samples.push(at.saturating_duration_since(*ack).as_nanos() as u64);
            from_sent.push(at.saturating_duration_since(*sent).as_nanos() as u64);
        }
    }
    let delivered = samples.len() as u64;
    let window = last_delivery.duration_since(started).as_secs_f64();
    let deltas_per_s = delivered as f64 / window.max(1e-9);
    let latency = Latencies::from_nanos(&mut samples);
    let from_sent = Latencies::from_nanos(&mut from_sent);
    println!(
        "  writes: {writes} merge patches from {WRITERS} writers in {write_seconds:.1} s ({:.0}/s)",
        writes as f64 / write_seconds
    );
    println!(
        "  delivered: {delivered} of {want} deltas to {SUBSCRIBERS} subscribers in {window:.1} s \
         = {deltas_per_s:.0} deltas/s in total; subscriber resyncs after lagging: {resyncs}"
    );
    println!(
        "  write acknowledged -> delivered to a subscriber: {latency} \
         ({early} delivered before the writer read its response, counted as 0)"
    );
    println!("  write sent -> delivered to a subscriber: {from_sent}");
    println!(
        "  informer process RSS: {:.0} MiB synced, {:.0} MiB with {SUBSCRIBERS} subscribers, \
         peak {:.0} MiB",
        mib(rss_synced),
        mib(rss_subscribed),
        mib(peak_rss_bytes("self").unwrap_or(0))
    );
    println!(
        "throughput deltas_per_s={deltas_per_s:.0} p99_ms={:.3} delivered={delivered} want={want}",
        latency.p99_ms
    );
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// The parent.

fn mib(bytes: u64) -> f64 {
    bytes as f64 / 1048576.0
}

fn median(mut values: Vec<f64>) -> f64 {
    if values.is_empty() {
        return 0.0;
    }
    values.sort_by(f64::total_cmp);
    let n = values.len();
    if n % 2 == 1 {
        values[n / 2]
    } else {
        (values[n / 2 - 1] + values[n / 2]) / 2.0
    }
}

/// Medians of a variant's runs.
#[derive(Clone, Copy, Debug, Default)]
struct Summary {
    seconds: f64,
    peak_rss: f64,
    retained: f64,
    cpu_seconds: f64,
    server_cpu_seconds: f64,
}

async fn run(quick: bool) -> Result<(), Error> {
    let pods: u64 = if quick { 20_000 } else { 100_000 };
    let rounds = if quick { 1 } else { 3 };
    let throughput_seconds: u64 = if quick { 5 } else { 20 };
    println!(
        "informer-vs-kube-rs ({}): {} cores; API server in a child process over HTTPS; \
         each informer in a fresh child process; {pods} pods, {rounds} run(s) per variant, medians",
        if quick { "quick" } else { "full" },
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    let server = Server::start()?;
    let kubeconfig = Kubeconfig::read_from(&server.kubeconfig)?;
    let client = Client::try_from(Config::from_kubeconfig(
        &kubeconfig,
        &KubeconfigOptions::default(),
    )?)?;

    let namespaces: Vec<String> = (0..NAMESPACES).map(|i| format!("bench-{i}")).collect();
    for ns in &namespaces {
        create_namespace(&client, ns).await?;
    }
    let t = Instant::now();
    fill(&client, &namespaces, pods, FILL_CLIENTS).await?;
    println!(
        "filled {pods} pods in {NAMESPACES} namespaces in {:.1} s ({:.0}/s, {FILL_CLIENTS} \
         concurrent creates over HTTP/2); server RSS {:.0} MiB",
        t.elapsed().as_secs_f64(),
        pods as f64 / t.elapsed().as_secs_f64(),
        mib(rss_bytes(&server.pid()).unwrap_or(0))
    );
    let sample = Api::<Pod>::namespaced(client.clone(), &namespaces[0])
        .get("pod-0000000")
        .await?;
    println!(
        "one pod as served: {} bytes of JSON, of which managedFields {} bytes",
        serde_json::to_vec(&sample)?.len(),
        serde_json::to_vec(&sample.metadata.managed_fields)?.len()
    );

    println!(
        "in-memory size of a Pod value (before its heap parts): ours {} bytes, k8s-openapi {} bytes",
        std::mem::size_of::<Pod>(),
        std::mem::size_of::<k8s_openapi::api::core::v1::Pod>()
    );
    for v in Variant::ALL {
        println!("  {:<17} {}", v.arg(), v.describe());
    }
    let mut results: Vec<(Variant, SyncResult, f64)> = Vec::new();
    let expected = pods.to_string();
    for round in 1..=rounds {
        for v in Variant::ALL {
            let server_cpu = cpu_seconds(&server.pid()).unwrap_or(0.0);
            let args =
                [SYNC, v.arg(), server.kubeconfig.as_str(), expected.as_str()].map(str::to_owned);
            let out = tokio::task::spawn_blocking(move || run_child(&args)).await??;
            let server_cpu = cpu_seconds(&server.pid()).unwrap_or(0.0) - server_cpu;
            let r = out
                .lines()
                .find_map(SyncResult::parse)
                .ok_or("the sync child printed no result")?;
            println!(
                "run {round} {:<17} synced {} pods in {:.2} s; peak RSS {:.0} MiB, retained {:.0} MiB \
                 (RSS after sync {:.0} MiB - before {:.0} MiB); CPU {:.2} s client, {:.2} s server",
                v.arg(),
                r.objects,
                r.seconds,
                mib(r.peak_rss),
                mib(r.rss_after.saturating_sub(r.rss_before)),
                mib(r.rss_after),
                mib(r.rss_before),
                r.cpu_seconds,
                server_cpu
            );
            results.push((v, r, server_cpu));
        }
    }

    let summarize = |v: Variant| {
        let runs: Vec<&(Variant, SyncResult, f64)> =
            results.iter().filter(|(w, _, _)| *w == v).collect();
        Summary {
            seconds: median(runs.iter().map(|(_, r, _)| r.seconds).collect()),
            peak_rss: median(runs.iter().map(|(_, r, _)| r.peak_rss as f64).collect()),
            retained: median(
                runs.iter()
                    .map(|(_, r, _)| r.rss_after.saturating_sub(r.rss_before) as f64)
                    .collect(),
            ),
            cpu_seconds: median(runs.iter().map(|(_, r, _)| r.cpu_seconds).collect()),
            server_cpu_seconds: median(runs.iter().map(|(_, _, s)| *s).collect()),
        }
    };
    println!("medians of {rounds} run(s), {pods} pods:");
    for v in Variant::ALL {
        let s = summarize(v);
        println!(
            "  {:<17} sync {:.2} s, peak RSS {:.0} MiB, retained {:.0} MiB, CPU {:.2} s client / \
             {:.2} s server",
            v.arg(),
            s.seconds,
            mib(s.peak_rss as u64),
            mib(s.retained as u64),
            s.cpu_seconds,
            s.server_cpu_seconds
        );
    }

    // Throughput through one shared informer.
    create_namespace(&client, THROUGHPUT_NAMESPACE).await?;
    fill(
        &client,
        &[THROUGHPUT_NAMESPACE.to_owned()],
        THROUGHPUT_PODS,
        FILL_CLIENTS,
    )
    .await?;
    let total = (pods + THROUGHPUT_PODS).to_string();
    let seconds = throughput_seconds.to_string();
    println!(
        "throughput: one SharedInformer over all {total} pods, {SUBSCRIBERS} subscribers, \
         {WRITERS} writers merge-patching {THROUGHPUT_PODS} pods for {throughput_seconds} s \
         (writers, informer and subscribers in one child process)"
    );
    let args = [
        THROUGHPUT,
        server.kubeconfig.as_str(),
        total.as_str(),
        seconds.as_str(),
    ]
    .map(str::to_owned);
    let out = tokio::task::spawn_blocking(move || run_child(&args)).await??;
    for line in out.lines() {
        println!("{line}");
    }

    let ours = summarize(Variant::Ours);
    let kube = summarize(Variant::KubeRs);
    let fair = summarize(Variant::KubeRsStripped);
    let time_ratio = ours.seconds / fair.seconds;
    let rss_ratio = ours.peak_rss / fair.peak_rss;
    println!(
        "ours vs kube-rs as received: sync_time={:.2} peak_rss={:.2}",
        ours.seconds / kube.seconds,
        ours.peak_rss / kube.peak_rss
    );
    let kube_streaming = summarize(Variant::KubeRsStreaming);
    println!(
        "ours vs kube-rs stripped with a streaming list too: sync_time={:.2} peak_rss={:.2}",
        ours.seconds / kube_streaming.seconds,
        ours.peak_rss / kube_streaming.peak_rss
    );
    println!(
        "targets: sync_time <= 0.50 ({}), peak_rss <= 0.50 ({})",
        if time_ratio <= 0.5 { "met" } else { "NOT met" },
        if rss_ratio <= 0.5 { "met" } else { "NOT met" }
    );
    println!("ours/kube-rs sync_time={time_ratio:.2} peak_rss={rss_ratio:.2}");
    Ok(())
}
