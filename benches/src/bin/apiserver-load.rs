//! Load on the API server over real HTTPS on this machine.
//!
//! The server runs in a child process of this program (the `examples` assembly: durable
//! embedded store, TLS, token), so its resident memory is its own. The parent drives it with
//! `kubernaut-client` over one HTTP/2 connection, as Kubernetes clients do:
//!
//! - creates of small Pods from 32 concurrent clients for 30 s or up to 90,000 Pods, whichever
//!   comes first (throughput, p50, p99);
//! - LIST of a namespace of 10,000 Pods, and of all 100,000 Pods of the cluster (time to the
//!   last byte, server RSS);
//! - watch delivery to 100 watchers while Pods are created at a steady rate (p50, p99).
//!
//! Upstream's SLOs: mutating calls p99 ≤ 1 s, LIST p99 ≤ 30 s. The last line is
//! `creates_per_s=<n> create_p99_ms=<n> list100k_ms=<n>`. `--quick` shortens the create phase
//! (about a minute in all).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use futures::TryStreamExt as _;
use kubernaut_api_types::core::v1::Pod;
use kubernaut_api_types::meta::WatchEvent;
use kubernaut_benches::{Latencies, rss_bytes};
use kubernaut_client::config::{Config, Kubeconfig, KubeconfigOptions};
use kubernaut_client::{Api, Body, Client, PostParams, WatchParams};
use kubernaut_examples::local::{LocalApiServer, LocalOptions};

type Error = Box<dyn std::error::Error + Send + Sync>;

const SERVE: &str = "--serve";
const CLIENTS: usize = 32;
const WATCHERS: usize = 100;

fn main() -> Result<(), Error> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    if let [flag, dir] = args.as_slice()
        && flag == SERVE
    {
        return runtime.block_on(serve(dir));
    }
    let quick = args.iter().any(|a| a == "--quick");
    runtime.block_on(run(quick))
}

/// The child: serve until stdin closes or SIGTERM.
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
        use std::io::BufRead as _;
        let dir = tempfile::Builder::new()
            .prefix("apiserver-load")
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

    fn rss(&self) -> u64 {
        rss_bytes(&self.child.id().to_string()).unwrap_or(0)
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

/// Creates pods `from..to` in `namespace` from `clients` tasks; returns per-create latencies.
async fn create_pods(
    client: &Client,
    namespace: &str,
    from: u64,
    to: u64,
    clients: usize,
    deadline: Option<Instant>,
) -> Result<Vec<u64>, Error> {
    let next = Arc::new(AtomicU64::new(from));
    let mut tasks = Vec::new();
    for _ in 0..clients {
        let api: Api<Pod> = Api::namespaced(client.clone(), namespace);
        let next = Arc::clone(&next);
        let namespace = namespace.to_owned();
        tasks.push(tokio::spawn(async move {
            let mut samples = Vec::new();
            loop {
                if deadline.is_some_and(|d| Instant::now() >= d) {
                    return Ok::<_, Error>(samples);
                }
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= to {
                    return Ok(samples);
                }
                let pod = small_pod(&namespace, &format!("pod-{i:07}"));
                let t = Instant::now();
                api.create(&PostParams::default(), &pod).await?;
                samples.push(t.elapsed().as_nanos() as u64);
            }
        }));
    }
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await??);
    }
    Ok(all)
}

/// Time to the last byte of a LIST at `path`, median of `n`; returns (ms, items seen).
async fn list_all(client: &Client, path: &str, n: usize) -> Result<(f64, usize), Error> {
    let mut times = Vec::new();
    let mut items = 0;
    for _ in 0..n {
        let t = Instant::now();
        let request = http::Request::get(path).body(Body::empty())?;
        let response = client.send(request).await?;
        let status = response.status();
        let body = response.into_body().collect_bytes().await?;
        times.push(t.elapsed().as_nanos() as u64);
        if !status.is_success() {
            return Err(format!("LIST failed: {status}").into());
        }
        // Count items without decoding every pod.
        items = count_items(&body);
    }
    Ok((Latencies::from_nanos(&mut times).p50_ms, items))
}

fn count_items(body: &[u8]) -> usize {
    // Every item is a pod whose JSON begins with this member.
    let needle = b"{\"apiVersion\":\"v1\",\"kind\":\"Pod\"";
    body.windows(needle.len()).filter(|w| *w == needle).count()
}

async fn run(quick: bool) -> Result<(), Error> {
    println!(
        "apiserver-load ({}): {} cores; server in a child process over HTTPS (HTTP/2)",
        if quick { "quick" } else { "full" },
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    let server = Server::start()?;
    let kubeconfig = Kubeconfig::read_from(&server.kubeconfig)?;
    let client = Client::try_from(Config::from_kubeconfig(
        &kubeconfig,
        &KubeconfigOptions::default(),
    )?)?;
    println!(
        "server RSS at start: {:.1} MiB",
        server.rss() as f64 / 1048576.0
    );

    // Creates.
    create_namespace(&client, "bench").await?;
    let phase = Duration::from_secs(if quick { 8 } else { 30 });
    let started = Instant::now();
    // At most 90k, so that with the 10k below the cluster holds exactly 100k for the LIST.
    let mut samples =
        create_pods(&client, "bench", 0, 90_000, CLIENTS, Some(started + phase)).await?;
    let creates = samples.len();
    let creates_per_s = creates as f64 / started.elapsed().as_secs_f64();
    let create = Latencies::from_nanos(&mut samples);
    println!("creates, {CLIENTS} clients: {creates} pods, {creates_per_s:.0}/s, {create}");

    // LIST of a namespace of 10k pods, and of every pod at 100k.
    create_namespace(&client, "ten").await?;
    create_pods(&client, "ten", 0, 10_000, CLIENTS, None).await?;
    let (list10k, n10k) = list_all(&client, "/api/v1/namespaces/ten/pods", 5).await?;
    println!("LIST of {n10k} pods (one namespace): {list10k:.1} ms (median of 5)");
    create_namespace(&client, "fill").await?;
    let missing = 100_000u64.saturating_sub(creates as u64 + 10_000);
    if missing > 0 {
        let t = Instant::now();
        create_pods(&client, "fill", 0, missing, CLIENTS, None).await?;
        println!(
            "filled to 100k pods in {:.1} s ({:.0}/s)",
            t.elapsed().as_secs_f64(),
            missing as f64 / t.elapsed().as_secs_f64()
        );
    }
    let (list100k, n100k) = list_all(&client, "/api/v1/pods", 3).await?;
    let rss = server.rss();
    println!(
        "LIST of {n100k} pods (all namespaces): {list100k:.1} ms (median of 3); server RSS {:.0} MiB",
        rss as f64 / 1048576.0
    );

    // Watch delivery to 100 watchers.
    create_namespace(&client, "watch").await?;
    let api: Api<Pod> = Api::namespaced(client.clone(), "watch");
    let events = if quick { 200 } else { 1000 };
    let sent: Arc<stamps::Stamps> = Arc::new(stamps::Stamps::new(events));
    let mut watchers = Vec::new();
    for _ in 0..WATCHERS {
        let mut stream = api.watch(&WatchParams::default(), "0").await?;
        let sent = Arc::clone(&sent);
        watchers.push(tokio::spawn(async move {
            let mut samples = Vec::with_capacity(events);
            while samples.len() < events {
                match stream.try_next().await? {
                    Some(WatchEvent::Added(pod)) => {
                        let name = pod.metadata.name.unwrap_or_default();
                        if let Some(i) = name
                            .strip_prefix("pod-")
                            .and_then(|n| n.parse::<usize>().ok())
                            && let Some(at) = sent.get(i)
                        {
                            samples.push(at.elapsed().as_nanos() as u64);
                        }
                    }
                    Some(_) => {}
                    None => return Err::<Vec<u64>, Error>("watch ended".into()),
                }
            }
            Ok(samples)
        }));
    }
    let mut tick = tokio::time::interval(Duration::from_millis(5));
    for i in 0..events {
        tick.tick().await;
        let pod = small_pod("watch", &format!("pod-{i:07}"));
        sent.set(i, Instant::now());
        api.create(&PostParams::default(), &pod).await?;
    }
    let mut all = Vec::new();
    for w in watchers {
        all.extend(tokio::time::timeout(Duration::from_secs(60), w).await???);
    }
    let watch = Latencies::from_nanos(&mut all);
    println!(
        "watch, {WATCHERS} watchers, {events} pods at 200/s: {} deliveries, {watch}",
        watch.count
    );

    println!(
        "creates_per_s={creates_per_s:.0} create_p99_ms={:.2} list100k_ms={list100k:.0}",
        create.p99_ms
    );
    Ok(())
}

/// Send times of the watched pods, written once each by the creator and read by watchers.
mod stamps {
    use std::sync::OnceLock;
    use std::time::Instant;

    /// One slot per pod.
    pub(crate) struct Stamps(Vec<OnceLock<Instant>>);

    impl Stamps {
        pub(crate) fn new(n: usize) -> Self {
            Stamps((0..n).map(|_| OnceLock::new()).collect())
        }
        pub(crate) fn set(&self, i: usize, at: Instant) {
            if let Some(slot) = self.0.get(i) {
                let _ = slot.set(at);
            }
        }
        pub(crate) fn get(&self, i: usize) -> Option<Instant> {
            self.0.get(i)?.get().copied()
        }
    }
}
