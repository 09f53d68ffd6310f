//! The embedded store against a real etcd, same workloads, same machine, same run.
//!
//! Starts etcd itself (the `etcd` on `PATH`, or `$ETCD_BIN`) on free loopback ports with a
//! temporary data directory, and opens the embedded store durable (`Durability::Fsync`) in a
//! temporary directory on the same file system. Then, for each backend:
//!
//! - durable puts of 256-byte values, 1 writer and 64 concurrent writers (throughput, latency);
//! - compare-and-swap updates (`update` guarded by the last `mod_revision`), 64 writers, each on
//!   its own key, as the API server updates objects;
//! - a range read of 100,000 keys (paginated on etcd, whose responses have a size limit);
//! - watch fan-out: 1,000 watchers of one prefix, events written at a fixed rate (delivery
//!   latency from write call to watcher) and then in a burst (deliveries per second);
//! - memory per idle watcher: resident memory before and after opening idle watchers, each
//!   polled by its own task (for etcd, the growth of the etcd server process).
//!
//! Every figure is printed; the last line is
//! `embedded/etcd puts_1w=<ratio> puts_64w=<ratio> cas=<ratio>` (throughput ratios). `--quick`
//! runs shorter phases (about a minute in all); `--only embedded` or `--only etcd` measures one
//! backend (for profiling) and prints no ratios.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;
use futures::StreamExt;
use kubernaut_benches::{Latencies, free_port, rss_bytes};
use kubernaut_store::embedded::{Config, EmbeddedStore};
use kubernaut_store::etcd::{EtcdConfig, EtcdStore};
use kubernaut_store::{
    Backend, BackendExt, ListOptions, ReadAt, TxnOp, WatchOptions, WatchResponse,
};

type Error = Box<dyn std::error::Error + Send + Sync>;
type Store = Arc<dyn Backend>;

/// Size of every value written.
const VALUE_BYTES: usize = 256;

/// Phase sizes.
#[derive(Clone, Copy)]
struct Plan {
    /// How long each put and CAS phase runs.
    phase: Duration,
    /// Keys in the range read.
    range_keys: usize,
    /// Range reads timed (the median is reported).
    range_reads: usize,
    /// Watchers in the fan-out.
    watchers: usize,
    /// Events written at a fixed rate for the latency measurement, and that rate per second.
    paced_events: usize,
    paced_rate: u64,
    /// Events written as fast as possible for the throughput measurement.
    burst_events: usize,
    /// Idle watchers opened for the memory measurement.
    idle_watchers: usize,
}

const FULL: Plan = Plan {
    phase: Duration::from_secs(10),
    range_keys: 100_000,
    range_reads: 5,
    watchers: 1000,
    paced_events: 5000,
    paced_rate: 500,
    burst_events: 5000,
    idle_watchers: 10_000,
};

const QUICK: Plan = Plan {
    phase: Duration::from_secs(3),
    range_keys: 100_000,
    range_reads: 3,
    watchers: 1000,
    paced_events: 1000,
    paced_rate: 500,
    burst_events: 1000,
    idle_watchers: 5_000,
};

/// What one backend measured.
#[derive(Default)]
struct Figures {
    puts_1w: Rate,
    puts_64w: Rate,
    cas: Rate,
    range_ms: f64,
    watch_paced: Latencies,
    watch_burst_per_s: f64,
    watch_burst: Latencies,
    bytes_per_watcher: f64,
}

/// Throughput and latency of a write phase.
#[derive(Clone, Copy, Default)]
struct Rate {
    per_s: f64,
    latency: Latencies,
}

impl std::fmt::Display for Rate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:>10.0} /s  ({})", self.per_s, self.latency)
    }
}

fn main() -> Result<(), Error> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if let [flag, count, dir] = args.as_slice()
        && flag == IDLE_WATCHERS_CHILD
    {
        return idle_watchers_child(count.parse()?, Path::new(dir));
    }
    let quick = args.iter().any(|a| a == "--quick");
    let only = match args.iter().position(|a| a == "--only") {
        Some(i) => match args.get(i + 1).map(String::as_str) {
            Some("embedded") => Some(Backends::Embedded),
            Some("etcd") => Some(Backends::Etcd),
            _ => return Err("--only takes `embedded` or `etcd`".into()),
        },
        None => None,
    };
    let plan = if quick { QUICK } else { FULL };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(run(plan, quick, only))
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Backends {
    Embedded,
    Etcd,
}

async fn run(plan: Plan, quick: bool, only: Option<Backends>) -> Result<(), Error> {
    println!(
        "store-vs-etcd ({}): {} cores, {} B values",
        if quick { "quick" } else { "full" },
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        VALUE_BYTES
    );
    let scratch = tempfile::Builder::new()
        .prefix("store-vs-etcd")
        .tempdir_in(std::env::temp_dir())?;
    let floor = device_syncs_per_s(scratch.path(), if quick { 1 } else { 3 })?;
    println!(
        "device floor: {floor:.0} write+fdatasync/s on {} (no store can acknowledge more \
         durable writes one at a time)",
        scratch.path().display()
    );

    // etcd first: its memory is measured as a process of its own.
    let mut etcd_figures = None;
    if only != Some(Backends::Embedded) {
        let etcd = EtcdProcess::start(&scratch.path().join("etcd"))?;
        println!("etcd {} on {}", etcd.version, etcd.endpoint);
        let etcd_store = connect(&etcd.endpoint).await?;
        let etcd_store: Store = Arc::new(etcd_store);
        println!("\n--- etcd");
        etcd_figures = Some(measure(&etcd_store, plan, MemoryOf::Process(etcd.pid())).await?);
    }

    let mut embedded_figures = None;
    if only != Some(Backends::Etcd) {
        let dir = scratch.path().join("embedded");
        let embedded: Store = Arc::new(EmbeddedStore::open(Config::durable(&dir))?);
        println!("\n--- embedded (Durability::Fsync, {})", dir.display());
        let child_dir = scratch.path().join("idle-watchers");
        embedded_figures = Some(measure(&embedded, plan, MemoryOf::ChildProcess(child_dir)).await?);
    }

    if let (Some(ours), Some(etcd)) = (embedded_figures, etcd_figures) {
        report(&ours, &etcd);
    }
    Ok(())
}

fn report(ours: &Figures, etcd: &Figures) {
    let ratio = |a: f64, b: f64| if b > 0.0 { a / b } else { f64::NAN };
    println!(
        "\n{:<34} {:>14} {:>14} {:>10}",
        "", "embedded", "etcd", "ratio"
    );
    let row = |name: &str, a: f64, b: f64, unit: &str| {
        println!(
            "{name:<34} {a:>11.1} {unit:<2} {b:>11.1} {unit:<2} {:>9.2}x",
            ratio(a, b)
        );
    };
    row(
        "durable puts, 1 writer",
        ours.puts_1w.per_s,
        etcd.puts_1w.per_s,
        "/s",
    );
    row(
        "  p99",
        ours.puts_1w.latency.p99_ms,
        etcd.puts_1w.latency.p99_ms,
        "ms",
    );
    row(
        "durable puts, 64 writers",
        ours.puts_64w.per_s,
        etcd.puts_64w.per_s,
        "/s",
    );
    row(
        "  p99",
        ours.puts_64w.latency.p99_ms,
        etcd.puts_64w.latency.p99_ms,
        "ms",
    );
    row(
        "CAS updates, 64 writers",
        ours.cas.per_s,
        etcd.cas.per_s,
        "/s",
    );
    row(
        "  p99",
        ours.cas.latency.p99_ms,
        etcd.cas.latency.p99_ms,
        "ms",
    );
    row(
        "range read of 100k keys",
        ours.range_ms,
        etcd.range_ms,
        "ms",
    );
    row(
        "watch delivery p99 (paced)",
        ours.watch_paced.p99_ms,
        etcd.watch_paced.p99_ms,
        "ms",
    );
    row(
        "watch deliveries (burst)",
        ours.watch_burst_per_s,
        etcd.watch_burst_per_s,
        "/s",
    );
    row(
        "watch delivery p99 (burst)",
        ours.watch_burst.p99_ms,
        etcd.watch_burst.p99_ms,
        "ms",
    );
    row(
        "memory per idle watcher",
        ours.bytes_per_watcher,
        etcd.bytes_per_watcher,
        "B",
    );
    println!(
        "embedded/etcd puts_1w={:.2} puts_64w={:.2} cas={:.2}",
        ratio(ours.puts_1w.per_s, etcd.puts_1w.per_s),
        ratio(ours.puts_64w.per_s, etcd.puts_64w.per_s),
        ratio(ours.cas.per_s, etcd.cas.per_s)
    );
}

/// Whose memory grows with idle watchers.
enum MemoryOf {
    /// A fresh process of this program with an embedded store in this directory: memory
    /// freed by earlier phases would otherwise hide the growth.
    ChildProcess(std::path::PathBuf),
    /// The etcd server.
    Process(u32),
}

/// The hidden first argument of the child process that measures idle embedded watchers.
const IDLE_WATCHERS_CHILD: &str = "--idle-watchers-child";

/// In the child: opens a durable embedded store in `dir`, `count` idle watchers, and prints
/// the growth of resident memory per watcher.
fn idle_watchers_child(count: usize, dir: &Path) -> Result<(), Error> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let store: Store = Arc::new(EmbeddedStore::open(Config::durable(dir))?);
        let per = idle_watchers(&store, "/bench/idle/", count, || rss_bytes("self")).await?;
        println!("{per}");
        Ok(())
    })
}

async fn measure(store: &Store, plan: Plan, memory: MemoryOf) -> Result<Figures, Error> {
    let bytes_per_watcher = match memory {
        MemoryOf::Process(pid) => {
            idle_watchers(store, "/bench/idle/", plan.idle_watchers, || {
                rss_bytes(&pid.to_string())
            })
            .await?
        }
        MemoryOf::ChildProcess(dir) => {
            let out = Command::new(std::env::current_exe()?)
                .arg(IDLE_WATCHERS_CHILD)
                .arg(plan.idle_watchers.to_string())
                .arg(dir)
                .stderr(Stdio::inherit())
                .output()?;
            if !out.status.success() {
                return Err(format!("the watcher memory child failed: {}", out.status).into());
            }
            String::from_utf8_lossy(&out.stdout).trim().parse()?
        }
    };
    let mut f = Figures {
        bytes_per_watcher,
        ..Figures::default()
    };
    println!(
        "memory per idle watcher ({} watchers): {:.0} B",
        plan.idle_watchers, f.bytes_per_watcher
    );

    f.puts_1w = puts(store, "/bench/puts1/", 1, plan.phase).await?;
    println!("durable puts, 1 writer     {}", f.puts_1w);
    compact(store).await?;

    f.puts_64w = puts(store, "/bench/puts64/", 64, plan.phase).await?;
    println!("durable puts, 64 writers   {}", f.puts_64w);
    compact(store).await?;

    f.cas = cas(store, "/bench/cas/", 64, plan.phase).await?;
    println!("CAS updates, 64 writers    {}", f.cas);
    compact(store).await?;

    f.range_ms = range(store, "/bench/range/", plan.range_keys, plan.range_reads).await?;
    println!(
        "range read of {} keys: {:.1} ms (median of {})",
        plan.range_keys, f.range_ms, plan.range_reads
    );
    compact(store).await?;

    let paced = fan_out(
        store,
        "/bench/watch-paced/",
        plan.watchers,
        plan.paced_events,
        Some(plan.paced_rate),
    )
    .await?;
    f.watch_paced = paced.latency;
    println!(
        "watch, {} watchers, {} events at {}/s: delivery {}",
        plan.watchers, plan.paced_events, plan.paced_rate, paced.latency
    );
    compact(store).await?;

    let burst = fan_out(
        store,
        "/bench/watch-burst/",
        plan.watchers,
        plan.burst_events,
        None,
    )
    .await?;
    f.watch_burst_per_s = burst.deliveries_per_s;
    f.watch_burst = burst.latency;
    println!(
        "watch, {} watchers, {} events in a burst: {:.0} deliveries/s, delivery {}",
        plan.watchers, plan.burst_events, burst.deliveries_per_s, burst.latency
    );
    compact(store).await?;

    Ok(f)
}

/// How many 4 KiB overwrites each followed by `fdatasync` the file system under `dir` takes
/// per second, on a preallocated file: the ceiling of sequential durable writes.
fn device_syncs_per_s(dir: &Path, seconds: u64) -> Result<f64, Error> {
    use std::io::{Seek, SeekFrom, Write};
    let path = dir.join("fdatasync-probe");
    let mut file = std::fs::File::create(&path)?;
    file.write_all(&vec![0u8; 8 << 20])?;
    file.sync_all()?;
    let page = [b'x'; 4096];
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let started = Instant::now();
    let mut n = 0u64;
    while Instant::now() < deadline {
        file.seek(SeekFrom::Start((n % 2048) * 4096))?;
        file.write_all(&page)?;
        file.sync_data()?;
        n += 1;
    }
    let rate = n as f64 / started.elapsed().as_secs_f64();
    drop(file);
    std::fs::remove_file(path)?;
    Ok(rate)
}

/// A 256-byte value whose first 8 bytes carry `stamp`.
fn value(stamp: u64) -> Bytes {
    let mut v = vec![b'v'; VALUE_BYTES];
    v[..8].copy_from_slice(&stamp.to_le_bytes());
    Bytes::from(v)
}

/// Nanoseconds since the first call: the clock carried in values for delivery latency.
fn now_ns() -> u64 {
    static START: std::sync::OnceLock<Instant> = std::sync::OnceLock::new();
    START.get_or_init(Instant::now).elapsed().as_nanos() as u64
}

/// Discards the history of the previous phase, as the API server compacts periodically.
async fn compact(store: &Store) -> Result<(), Error> {
    let (current, compacted) = store.revisions().await?;
    if current > compacted {
        store.compact(current).await?;
    }
    Ok(())
}

/// `writers` tasks putting new keys for `phase`.
async fn puts(store: &Store, prefix: &str, writers: usize, phase: Duration) -> Result<Rate, Error> {
    let deadline = Instant::now() + phase;
    let started = Instant::now();
    let mut tasks = Vec::new();
    for w in 0..writers {
        let store = Arc::clone(store);
        let prefix = prefix.to_owned();
        tasks.push(tokio::spawn(async move {
            let mut samples = Vec::new();
            let mut i = 0u64;
            while Instant::now() < deadline {
                let key = format!("{prefix}{w:02}/{i:08}");
                let t = Instant::now();
                store.put(&key, value(i)).await?;
                samples.push(t.elapsed().as_nanos() as u64);
                i += 1;
            }
            Ok::<_, Error>(samples)
        }));
    }
    collect_rate(tasks, started).await
}

/// `writers` tasks, each updating its own key guarded by the revision of its last write.
async fn cas(store: &Store, prefix: &str, writers: usize, phase: Duration) -> Result<Rate, Error> {
    let mut revisions = Vec::new();
    for w in 0..writers {
        revisions.push(store.create(&format!("{prefix}{w:02}"), value(0)).await?);
    }
    let deadline = Instant::now() + phase;
    let started = Instant::now();
    let mut tasks = Vec::new();
    for (w, mut revision) in revisions.into_iter().enumerate() {
        let store = Arc::clone(store);
        let key = format!("{prefix}{w:02}");
        tasks.push(tokio::spawn(async move {
            let mut samples = Vec::new();
            let mut i = 1u64;
            while Instant::now() < deadline {
                let t = Instant::now();
                revision = store.update(&key, value(i), revision).await?;
                samples.push(t.elapsed().as_nanos() as u64);
                i += 1;
            }
            Ok::<_, Error>(samples)
        }));
    }
    collect_rate(tasks, started).await
}

async fn collect_rate(
    tasks: Vec<tokio::task::JoinHandle<Result<Vec<u64>, Error>>>,
    started: Instant,
) -> Result<Rate, Error> {
    let mut all = Vec::new();
    for task in tasks {
        all.extend(task.await??);
    }
    let elapsed = started.elapsed().as_secs_f64();
    Ok(Rate {
        per_s: all.len() as f64 / elapsed,
        latency: Latencies::from_nanos(&mut all),
    })
}

/// Loads `keys` keys (in transactions of 100 puts, from 16 writers), then times full reads of
/// the prefix; returns the median in milliseconds.
async fn range(store: &Store, prefix: &str, keys: usize, reads: usize) -> Result<f64, Error> {
    const PER_TXN: usize = 100;
    let batches: Vec<usize> = (0..keys.div_ceil(PER_TXN)).collect();
    let batches = Arc::new(batches);
    let next = Arc::new(AtomicU64::new(0));
    let mut tasks = Vec::new();
    for _ in 0..16 {
        let (store, batches, next, prefix) = (
            Arc::clone(store),
            Arc::clone(&batches),
            Arc::clone(&next),
            prefix.to_owned(),
        );
        tasks.push(tokio::spawn(async move {
            loop {
                let b = next.fetch_add(1, Ordering::Relaxed) as usize;
                let Some(&batch) = batches.get(b) else {
                    return Ok::<_, Error>(());
                };
                let first = batch * PER_TXN;
                let success = (first..(first + PER_TXN).min(keys))
                    .map(|k| TxnOp::Put {
                        key: format!("{prefix}{k:08}"),
                        value: value(k as u64),
                        lease: 0,
                    })
                    .collect();
                store
                    .txn(kubernaut_store::Txn {
                        success,
                        ..Default::default()
                    })
                    .await?;
            }
        }));
    }
    for task in tasks {
        task.await??;
    }
    let mut times = Vec::new();
    for _ in 0..reads {
        let t = Instant::now();
        let page = store
            .list(
                prefix,
                ListOptions {
                    at: ReadAt::Latest,
                    limit: None,
                    start_after: None,
                },
            )
            .await?;
        times.push(t.elapsed().as_nanos() as u64);
        if page.kvs.len() != keys {
            return Err(format!("range read {} keys, wanted {keys}", page.kvs.len()).into());
        }
    }
    Ok(Latencies::from_nanos(&mut times).p50_ms)
}

struct FanOut {
    latency: Latencies,
    deliveries_per_s: f64,
}

/// `watchers` watchers of `prefix`; `events` puts, at `rate` per second or (without a rate)
/// from 16 writers as fast as they go. Every watcher must see every event.
async fn fan_out(
    store: &Store,
    prefix: &str,
    watchers: usize,
    events: usize,
    rate: Option<u64>,
) -> Result<FanOut, Error> {
    let mut tasks = Vec::new();
    for _ in 0..watchers {
        let mut watch = store.watch(prefix, WatchOptions::default()).await?;
        tasks.push(tokio::spawn(async move {
            let mut samples = Vec::with_capacity(events);
            while samples.len() < events {
                match watch.next().await {
                    Some(Ok(WatchResponse::Events(batch))) => {
                        let at = now_ns();
                        for e in batch {
                            let stamp =
                                e.kv.value
                                    .get(..8)
                                    .and_then(|b| b.try_into().ok())
                                    .map(u64::from_le_bytes)
                                    .ok_or("event without a stamp")?;
                            samples.push(at.saturating_sub(stamp));
                        }
                    }
                    Some(Ok(WatchResponse::Progress(_))) => {}
                    Some(Err(e)) => return Err::<Vec<u64>, Error>(e.into()),
                    None => return Err("watch ended early".into()),
                }
            }
            Ok(samples)
        }));
    }
    let started = Instant::now();
    match rate {
        Some(rate) => {
            let mut tick = tokio::time::interval(Duration::from_nanos(1_000_000_000 / rate));
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
            for i in 0..events {
                tick.tick().await;
                store
                    .put(&format!("{prefix}{:04}", i % 1000), value(now_ns()))
                    .await?;
            }
        }
        None => {
            let next = Arc::new(AtomicU64::new(0));
            let mut writers = Vec::new();
            for _ in 0..16 {
                let (store, next, prefix) =
                    (Arc::clone(store), Arc::clone(&next), prefix.to_owned());
                writers.push(tokio::spawn(async move {
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed) as usize;
                        if i >= events {
                            return Ok::<_, Error>(());
                        }
                        store
                            .put(&format!("{prefix}{:04}", i % 1000), value(now_ns()))
                            .await?;
                    }
                }));
            }
            for w in writers {
                w.await??;
            }
        }
    }
    let mut all = Vec::with_capacity(watchers * events);
    for task in tasks {
        let samples = tokio::time::timeout(Duration::from_secs(120), task)
            .await
            .map_err(|_| "watchers did not receive every event within 2 minutes")???;
        all.extend(samples);
    }
    let elapsed = started.elapsed().as_secs_f64();
    Ok(FanOut {
        deliveries_per_s: all.len() as f64 / elapsed,
        latency: Latencies::from_nanos(&mut all),
    })
}

/// Opens `count` watchers, each polled by its own task, and returns the growth of resident
/// memory per watcher.
async fn idle_watchers(
    store: &Store,
    prefix: &str,
    count: usize,
    rss: impl Fn() -> Option<u64>,
) -> Result<f64, Error> {
    let stop = Arc::new(AtomicBool::new(false));
    settle().await;
    let before = rss().ok_or("cannot read resident memory")?;
    let mut tasks = Vec::with_capacity(count);
    for _ in 0..count {
        let mut watch = store.watch(prefix, WatchOptions::default()).await?;
        let stop = Arc::clone(&stop);
        tasks.push(tokio::spawn(async move {
            while !stop.load(Ordering::Relaxed) {
                if watch.next().await.is_none() {
                    break;
                }
            }
        }));
    }
    settle().await;
    let after = rss().ok_or("cannot read resident memory")?;
    stop.store(true, Ordering::Relaxed);
    for task in &tasks {
        task.abort();
    }
    Ok(after.saturating_sub(before) as f64 / count as f64)
}

async fn settle() {
    tokio::time::sleep(Duration::from_millis(500)).await;
}

async fn connect(endpoint: &str) -> Result<EtcdStore, Error> {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        match EtcdStore::connect(&[endpoint], EtcdConfig::default()).await {
            Ok(store) => return Ok(store),
            Err(_) if Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            Err(e) => return Err(format!("etcd at {endpoint} does not answer: {e}").into()),
        }
    }
}

/// An etcd server started for this run, stopped (and its data removed) on drop.
struct EtcdProcess {
    child: Child,
    endpoint: String,
    version: String,
}

impl EtcdProcess {
    fn start(dir: &Path) -> Result<Self, Error> {
        let bin = std::env::var("ETCD_BIN").unwrap_or_else(|_| "etcd".into());
        let version = Command::new(&bin).arg("--version").output().map_err(|e| {
            format!(
                "cannot run {bin:?} ({e}): install etcd (Debian: apt-get install etcd-server) \
                     or set ETCD_BIN"
            )
        })?;
        let version = String::from_utf8_lossy(&version.stdout)
            .lines()
            .next()
            .unwrap_or("etcd")
            .trim_start_matches("etcd Version: ")
            .to_owned();
        std::fs::create_dir_all(dir)?;
        let (client, peer) = (free_port()?, free_port()?);
        let endpoint = format!("http://127.0.0.1:{client}");
        let peer_url = format!("http://127.0.0.1:{peer}");
        let log = std::fs::File::create(dir.join("etcd.log"))?;
        let child = Command::new(&bin)
            .args(["--name", "bench", "--data-dir"])
            .arg(dir.join("data"))
            .args(["--listen-client-urls", &endpoint])
            .args(["--advertise-client-urls", &endpoint])
            .args(["--listen-peer-urls", &peer_url])
            .args(["--initial-advertise-peer-urls", &peer_url])
            .args(["--initial-cluster", &format!("bench={peer_url}")])
            .args(["--quota-backend-bytes", &(8u64 << 30).to_string()])
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .map_err(|e| format!("cannot start {bin:?}: {e}"))?;
        Ok(EtcdProcess {
            child,
            endpoint,
            version,
        })
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for EtcdProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
