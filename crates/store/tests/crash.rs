//! Crash test: a child process writes with `Durability::Fsync` from several tasks and reports
//! every acknowledged write; the parent kills it with SIGKILL at a random moment, reopens the
//! store, and checks that every acknowledged write is there and the store opens cleanly.
//!
//! `KUBERNAUT_CRASH_CYCLES` sets the number of kill cycles (default 50).

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use kubernaut_store::embedded::{Config, EmbeddedStore};
use kubernaut_store::{Backend, BackendExt, ReadAt};

const CHILD_DIR: &str = "KUBERNAUT_STORE_CRASH_CHILD_DIR";
const CHILD_CYCLE: &str = "KUBERNAUT_STORE_CRASH_CHILD_CYCLE";
const WRITERS: usize = 8;

/// The child's role; a no-op unless started by the parent.
#[test]
fn crash_child() {
    let (Some(dir), Some(cycle)) = (std::env::var_os(CHILD_DIR), std::env::var_os(CHILD_CYCLE))
    else {
        return;
    };
    let cycle = cycle.to_string_lossy().into_owned();
    let mut config = Config::durable(dir);
    // Small segments and frequent snapshots, so kills also land in rotations and snapshots.
    config.segment_bytes = 256 << 10;
    config.snapshot_records = 2_000;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async move {
        let store = Arc::new(EmbeddedStore::open(config).expect("child opens the store"));
        let out = Arc::new(Mutex::new(std::io::stdout()));
        let mut tasks = Vec::new();
        for w in 0..WRITERS {
            let (store, out, cycle) = (Arc::clone(&store), Arc::clone(&out), cycle.clone());
            tasks.push(tokio::spawn(async move {
                for seq in 0u64.. {
                    let key = format!("/crash/{cycle}/{w}/{seq}");
                    let value = Bytes::from(format!("{key}={}", "x".repeat(200)));
                    let rev = store.create(&key, value).await.expect("write succeeds");
                    let mut out = out.lock().unwrap();
                    writeln!(out, "ack {key} {rev}").unwrap();
                    out.flush().unwrap();
                }
            }));
        }
        for t in tasks {
            let _ = t.await;
        }
    });
}

/// A small deterministic generator for the kill delays.
fn delays(seed: u64) -> impl Iterator<Item = Duration> {
    let mut s = seed;
    std::iter::from_fn(move || {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        Some(Duration::from_millis(30 + s % 250))
    })
}

#[test]
fn acknowledged_writes_survive_sigkill() {
    let cycles: u64 = std::env::var("KUBERNAUT_CRASH_CYCLES")
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or(50);
    let dir = tempfile::tempdir().unwrap();
    let exe = std::env::current_exe().unwrap();
    let mut acked: Vec<(String, i64)> = Vec::new();
    let mut delays = delays(0x5eed_cafe);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    for cycle in 0..cycles {
        let mut child = Command::new(&exe)
            .args(["--exact", "crash_child", "--nocapture", "--test-threads=1"])
            .env(CHILD_DIR, dir.path())
            .env(CHILD_CYCLE, cycle.to_string())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let reader = std::thread::spawn(move || {
            let mut lines = Vec::new();
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if let Some(rest) = line.strip_prefix("ack ") {
                    let (key, rev) = rest.rsplit_once(' ').unwrap();
                    lines.push((key.to_owned(), rev.parse::<i64>().unwrap()));
                }
            }
            lines
        });
        std::thread::sleep(delays.next().unwrap());
        child.kill().unwrap();
        child.wait().unwrap();
        let new = reader.join().unwrap();
        acked.extend(new);

        // Reopen: clean open, every acknowledged write present with its revision.
        let store = EmbeddedStore::open(Config::durable(dir.path()))
            .unwrap_or_else(|e| panic!("cycle {cycle}: store does not open after SIGKILL: {e}"));
        runtime.block_on(async {
            for (key, rev) in &acked {
                let got = store.get(key, ReadAt::Latest).await.unwrap();
                let kv = got.kv.unwrap_or_else(|| {
                    panic!("cycle {cycle}: acknowledged write {key} (revision {rev}) is lost")
                });
                assert_eq!(kv.mod_revision, *rev, "cycle {cycle}: {key}");
                assert!(kv.value.starts_with(key.as_bytes()));
            }
            let (current, _) = store.revisions().await.unwrap();
            let max_acked = acked.iter().map(|(_, r)| *r).max().unwrap_or(0);
            assert!(current >= max_acked, "cycle {cycle}: revision went back");
        });
        drop(store);
    }
    assert!(
        acked.len() as u64 > cycles,
        "the child wrote too little to test anything"
    );
    eprintln!(
        "{cycles} kill cycles, {} acknowledged writes verified",
        acked.len()
    );
}
